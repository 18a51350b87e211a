/**
 * `idpbuilder job repo-sync`: makes a git repository on a git server hold exactly the merged content of a
 * GitRepository's sources.
 *
 *  1. reads the API token (and `username`, when the same Secret has it) through the Kubernetes API;
 *  2. ensures the repository exists (provider API: Gitea today, GitHub/GitLab slot in as providers);
 *  3. fetches the default branch into a temp dir with the `git` binary, replaces the whole tree (except
 *     .git) with the sources — each copied under its targetPath, later sources winning on collisions —
 *     and commits as `git-reconciler` only when something changed;
 *  4. pushes to the default branch (creating it on an empty repository);
 *  5. optionally records the result on its own Job as annotation `idpbuilder.cnoe.io/result`.
 *
 * Credentials reach git only through the environment (`GIT_CONFIG_*` → `http.<url>.extraHeader`), scoped
 * to the target repository URL: never in argv, URLs or logs, and never sent to a Git source's host.
 *
 * This module is the Job's entry: the config, reading the Secrets, the result annotation. The work is in
 * ./repo: git.ts (the git binary), sources.ts and owners.ts (the tree to push), hosting.ts (the git
 * servers' APIs), sync.ts (one push), scrub.ts (redaction); the CLI calls sync.ts directly.
 */
import { GitServerError, type RepoSpec } from '../gitea/client.js';
import type { KubeClient } from '../kube/client.js';
import { RepoSyncError } from './repo/errors.js';
import { defaultProviders, type ProviderFactory } from './repo/hosting.js';
import { type JobLogger } from './repo/scrub.js';
import { pushSources, withScrubbing, type PushOptions } from './repo/sync.js';
import { withTunnel, type TunnelOpener } from './tunnel.js';

export { GitCommandError, RepoSyncError } from './repo/errors.js';
export { RETRYABLE_PUSH_REJECTION } from './repo/git.js';
export {
  allProviders,
  defaultProviders,
  enforceSetting,
  giteaProvider,
  giteaProviderFor,
  githubProvider,
  gitlabProvider,
  repoVisibility,
  type EnsuredRepository,
  type GitHostingProvider,
  type ProviderFactory,
  type ProviderOptions,
} from './repo/hosting.js';
export { CLI_WRITER, DEFAULT_WRITER, OWNERS_DIR, manifestPath, parseManifest, renderManifest } from './repo/owners.js';
export { safeRelParts } from './repo/paths.js';
export { redactURL, scrubSecrets, type JobLogger } from './repo/scrub.js';
export { pushBackoffMs } from './repo/sync.js';
import { RepoSyncConfig as RepoSyncConfigSchema, parseJobConfig, type RepoSyncConfigInput, type SecretKeyRef } from '../api/jobs.js';
import { COMMIT_AUTHOR, RESULT_ANNOTATION } from '../api/names.js';

export { RESULT_ANNOTATION };
/** Author of the sync's commits when the config names none. */
export const DEFAULT_COMMIT_AUTHOR = COMMIT_AUTHOR;

// --- config ------------------------------------------------------------------------------------------

/** The config as the hook writes it: schema and field docs in src/api/jobs.ts. */
export type { RepoSyncConfigInput };
/** Which API a git server speaks (config `flavor`): gitea, github or gitlab. */
export type GitServerFlavor = RepoSyncConfigInput['flavor'];
/** One source of the config (`sources[]`): Embedded, Local, Git or Inline content (schema in src/api/jobs.ts). */
export type RepoSource = RepoSyncConfigInput['sources'][number];
/** Settings of new repositories from the git provider (config `repositoryDefaults`; schema in src/api/jobs.ts). */
export type RepositoryDefaults = NonNullable<RepoSyncConfigInput['repositoryDefaults']>;
/** A team and the permission it gets on the repository (config `teams[]`, GitHub only). */
export type TeamGrant = NonNullable<RepoSyncConfigInput['teams']>[number];

/** The config as read: `repository.defaultBranch` filled in, `caSecretRef.key` defaulted. */
export type RepoSyncConfig = Omit<RepoSyncConfigInput, 'repository' | 'caSecretRef'> & { repository: RepoSpec; caSecretRef?: SecretKeyRef };

/**
 * What a repo-sync reports (result annotation): the head commit SHA, the web URL, the clone URL the server advertises
 * and whether this sync pushed a change.
 */
export interface RepoSyncResult {
  commitSHA: string;
  /** The repository's web page. */
  url: string;
  /** The clone URL the git server advertises. */
  cloneURL: string;
  changed: boolean;
}

// --- deps --------------------------------------------------------------------------------------------

/**
 * What runRepoSync needs: the Kubernetes client (read Secrets, annotate the Job), a logger, provider factories
 * per flavor, the tunnel opener, and the push's tuning (PushOptions: clock, temp directory parent, git binary,
 * push attempts (default 5), sleep and the jitter source ([0, 1), default Math.random)).
 */
export interface RepoSyncDeps extends PushOptions {
  kube: Pick<KubeClient, 'getSecret' | 'annotateJob'>;
  log: JobLogger;
  providers?: Partial<Record<GitServerFlavor, ProviderFactory>>;
  /** Opens `config.tunnel` (default: ./tunnel.ts openTunnel). */
  tunnel?: TunnelOpener;
}

// --- run ---------------------------------------------------------------------------------------------

/**
 * Runs one sync. Every message it logs or throws has passed {@link scrubSecrets} with the credential
 * Secret's values (and the Basic header built from them): a token never reaches a log line or the
 * termination message, whatever git or a server printed.
 */
export async function runRepoSync(config: RepoSyncConfig, deps: RepoSyncDeps): Promise<RepoSyncResult> {
  const cfg = parseRepoSyncConfig(config);
  const ref = cfg.credentialsSecretRef;
  const secret = await deps.kube.getSecret(ref.namespace, ref.name);
  if (!secret) throw new RepoSyncError(`credentials Secret ${ref.namespace}/${ref.name} not found`);
  // A token file saved with a trailing newline (kubectl create secret --from-file) would break the headers.
  const token = secret[ref.key]?.trim();
  if (!token) throw new RepoSyncError(`credentials Secret ${ref.namespace}/${ref.name} has no key "${ref.key}"`);
  const username = ref.key !== 'username' && secret.username ? secret.username : undefined;
  // Every value of the credentials Secret but the user name is a secret (token, password, …).
  const secrets = [token, ...Object.entries(secret).filter(([k]) => k !== 'username').map(([, v]) => v.trim())];
  return withScrubbing(secrets, deps.log, async (log) => {
    const now = deps.now ?? (() => new Date());
    const factory = (deps.providers ?? defaultProviders)[cfg.flavor];
    if (!factory) throw new RepoSyncError(`git server flavor "${cfg.flavor}" is not supported`);

    let ca: string | undefined;
    if (cfg.caSecretRef) {
      const r = cfg.caSecretRef;
      const caSecret = await deps.kube.getSecret(r.namespace, r.name);
      if (!caSecret) throw new RepoSyncError(`CA Secret ${r.namespace}/${r.name} not found`);
      ca = caSecret[r.key];
      if (!ca) throw new RepoSyncError(`CA Secret ${r.namespace}/${r.name} has no key "${r.key}"`);
    }

    // A git server on a target cluster: its API and git over HTTP go through a tunnel (./tunnel.ts).
    const result = await withTunnel(cfg.tunnel, cfg.apiEndpoint, deps.kube, (apiEndpoint, opened) => {
      if (opened) log.info('tunnel to the git server opened', { pod: opened.pod, port: opened.podPort });
      return pushSources(
        opened ? { ...cfg, apiEndpoint } : cfg,
        { factory, token, ...(username ? { username } : {}), ...(ca ? { ca } : {}), secrets, log },
        {
          now,
          ...(deps.tmpDir !== undefined ? { tmpDir: deps.tmpDir } : {}),
          ...(deps.gitBinary !== undefined ? { gitBinary: deps.gitBinary } : {}),
          ...(deps.maxAttempts !== undefined ? { maxAttempts: deps.maxAttempts } : {}),
          ...(deps.sleep ? { sleep: deps.sleep } : {}),
          ...(deps.random ? { random: deps.random } : {}),
        },
      );
    }, deps.tunnel ? { opener: deps.tunnel } : {});
    if (cfg.result) {
      const value = JSON.stringify({ commitSHA: result.commitSHA, syncedAt: now().toISOString(), url: result.url, cloneURL: result.cloneURL });
      await deps.kube.annotateJob(cfg.result.jobNamespace, cfg.result.jobName, { [RESULT_ANNOTATION]: value });
    }
    return result;
  });
}


// --- config validation -------------------------------------------------------------------------------

/**
 * Checks the shape of a repo-sync config (as emitted by the GitRepository hook) and returns it typed;
 * throws a RepoSyncError. `repository.defaultBranch` falls back to `repositoryDefaults.defaultBranch`;
 * both must be valid branch names.
 */
export function parseRepoSyncConfig(raw: unknown): RepoSyncConfig {
  const c = parseJobConfig<RepoSyncConfigInput>(RepoSyncConfigSchema, raw, (message) => new RepoSyncError(message));
  const fallback = c.repositoryDefaults?.defaultBranch;
  if (fallback !== undefined && !validBranchName(fallback)) throw new RepoSyncError(`config.repositoryDefaults.defaultBranch "${fallback}" is not a valid branch name`);
  const defaultBranch = c.repository.defaultBranch ?? fallback;
  if (defaultBranch === undefined) throw new RepoSyncError('config.repository.defaultBranch must be a non-empty string');
  if (!validBranchName(defaultBranch)) throw new RepoSyncError(`config.repository.defaultBranch "${defaultBranch}" is not a valid branch name`);
  // Ajv filled caSecretRef.key with its default (ca.crt)
  return { ...c, repository: { ...c.repository, defaultBranch } } as RepoSyncConfig;
}

/** git check-ref-format rules for `refs/heads/<name>`. */
function validBranchName(name: string): boolean {
  if (name === '' || name === '@' || name.length > 255) return false;
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u0020\u007f~^:?*[\\]/.test(name) || name.includes('..') || name.includes('@{') || name.includes('//')) return false;
  if (name.startsWith('/') || name.endsWith('/') || name.endsWith('.') || name.startsWith('-')) return false;
  return name.split('/').every((c) => !c.startsWith('.') && !c.endsWith('.lock'));
}

export { GitServerError };

