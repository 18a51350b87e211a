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
import type { TeamPermission, Visibility } from '../github/client.js';
import type { KubeClient } from '../kube/client.js';
import { RepoSyncError } from './repo/errors.js';
import { defaultProviders, type ProviderFactory } from './repo/hosting.js';
import { type JobLogger } from './repo/scrub.js';
import { pushSources, withScrubbing } from './repo/sync.js';

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

export const RESULT_ANNOTATION = 'idpbuilder.cnoe.io/result';
export const DEFAULT_COMMIT_AUTHOR = { name: 'git-reconciler', email: 'git-reconciler@cnoe.io' } as const;

// --- config ------------------------------------------------------------------------------------------

export type GitServerFlavor = 'gitea' | 'github' | 'gitlab';

export interface EmbeddedSource {
  type: 'Embedded';
  /** A directory below `embeddedRoot`. */
  path: string;
  targetPath?: string;
}
export interface GitSource {
  type: 'Git';
  url: string;
  /** Branch, tag, or full commit SHA; default: the remote's default branch. */
  ref?: string;
  /** Subdirectory of the source repository to take (default: all of it). */
  path?: string;
  targetPath?: string;
}
export interface InlineSource {
  type: 'Inline';
  /** Path (relative to targetPath) → file content. */
  files: Record<string, string>;
  targetPath?: string;
}
export interface LocalSource {
  type: 'Local';
  /** A path on the machine running the CLI, which pushes it itself; the Job skips it. */
  path: string;
  targetPath?: string;
}
export type RepoSource = EmbeddedSource | GitSource | InlineSource | LocalSource;

/**
 * The git provider's defaults for new repositories (GitHubProvider / GitLabProvider
 * `spec.repositoryDefaults`, passed through by the GitRepository hook). What the repository itself says
 * wins: `repository.private: true` always makes it private, `repository.autoInit: true` always
 * initializes it; otherwise `visibility` decides (and with neither, `repository.private: false` means
 * public, no `private` at all means private).
 */
export interface RepositoryDefaults {
  visibility?: Visibility;
  defaultBranch?: string;
  /** GitHub: `auto_init`. */
  autoInit?: boolean;
  allowSquashMerge?: boolean;
  allowMergeCommit?: boolean;
  allowRebaseMerge?: boolean;
  /** GitLab: `initialize_with_readme`. */
  initializeWithReadme?: boolean;
  /** GitLab: `builds_access_level` / `jobs_enabled`. */
  cicdEnabled?: boolean;
}

export interface TeamGrant {
  name: string;
  permission: TeamPermission;
}

export interface RepoSyncConfig {
  flavor: GitServerFlavor;
  /**
   * API base URL of the git server: Gitea the internal endpoint (e.g.
   * http://gitea-http.gitea.svc.cluster.local:3000), GitHub the API (https://api.github.com,
   * https://HOST/api/v3), GitLab the instance or its `/api/v4`.
   */
  apiEndpoint: string;
  credentialsSecretRef: { namespace: string; name: string; key: string };
  /** A PEM CA bundle to trust for the git server (API and git over HTTPS), e.g. a GitLabProvider's caSecretRef. */
  caSecretRef?: { namespace: string; name: string; key: string };
  /** The owner: a Gitea organization or user, a GitHub organization, a GitLab group path. */
  organization: string;
  repository: RepoSpec;
  repositoryDefaults?: RepositoryDefaults;
  /** GitHub: teams granted their permission on the repository. */
  teams?: TeamGrant[];
  sources: RepoSource[];
  embeddedRoot: string;
  commitAuthor?: { name: string; email: string };
  result?: { jobNamespace: string; jobName: string };
  /**
   * Who this sync writes as (default `repo-sync`): it records the paths it wrote in
   * `.idpbuilder/owners/<writer>.paths` and deletes only paths listed there that it no longer writes. The
   * GitRepository hook sets `<namespace>/<name>` of the GitRepository; the CLI writes as `cli`. One or two
   * `/`-separated lower-case DNS-style segments.
   */
  writer?: string;
}

export interface RepoSyncResult {
  commitSHA: string;
  /** The repository's web page. */
  url: string;
  /** The clone URL the git server advertises. */
  cloneURL: string;
  changed: boolean;
}

// --- deps --------------------------------------------------------------------------------------------

export interface RepoSyncDeps {
  kube: Pick<KubeClient, 'getSecret' | 'annotateJob'>;
  log: JobLogger;
  now?: () => Date;
  providers?: Partial<Record<GitServerFlavor, ProviderFactory>>;
  /** Parent of the temp dirs (default: the OS temp dir). */
  tmpDir?: string;
  gitBinary?: string;
  /** Push attempts when the branch moved or its ref was locked underneath (default 5). */
  maxAttempts?: number;
  /** Waits between push attempts (default: setTimeout). */
  sleep?: (ms: number) => Promise<void>;
  /** [0, 1) for the backoff jitter (default Math.random). */
  random?: () => number;
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

    const result = await pushSources(
      cfg,
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
    if (cfg.result) {
      const value = JSON.stringify({ commitSHA: result.commitSHA, syncedAt: now().toISOString(), url: result.url, cloneURL: result.cloneURL });
      await deps.kube.annotateJob(cfg.result.jobNamespace, cfg.result.jobName, { [RESULT_ANNOTATION]: value });
    }
    return result;
  });
}

const WRITER_RE = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?(\/[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?)?$/;

// --- config validation -------------------------------------------------------------------------------

/** Checks the shape of a repo-sync config (as emitted by the GitRepository hook) and returns it typed. */
export function parseRepoSyncConfig(raw: unknown): RepoSyncConfig {
  const c = obj(raw, 'config');
  const flavor = str(c, 'flavor', 'config');
  if (!['gitea', 'github', 'gitlab'].includes(flavor)) throw new RepoSyncError(`config.flavor must be gitea, github or gitlab, not "${flavor}"`);
  const apiEndpoint = str(c, 'apiEndpoint', 'config');
  if (!/^https?:\/\//.test(apiEndpoint)) throw new RepoSyncError('config.apiEndpoint must be an http(s) URL');
  const cred = obj(c.credentialsSecretRef, 'config.credentialsSecretRef');
  const repo = { ...obj(c.repository, 'config.repository') };
  if (!Array.isArray(c.sources)) throw new RepoSyncError('config.sources must be a list');
  const sources = c.sources.map((s, i): RepoSource => {
    const where = `config.sources[${i}]`;
    const o = obj(s, where);
    const targetPath = optStr(o, 'targetPath', where);
    const t = { ...(targetPath !== undefined ? { targetPath } : {}) };
    switch (o.type) {
      case 'Embedded':
        return { type: 'Embedded', path: str(o, 'path', where, true), ...t };
      case 'Local':
        return { type: 'Local', path: str(o, 'path', where, true), ...t };
      case 'Git': {
        const ref = optStr(o, 'ref', where);
        const path = optStr(o, 'path', where);
        return { type: 'Git', url: str(o, 'url', where), ...(ref !== undefined ? { ref } : {}), ...(path !== undefined ? { path } : {}), ...t };
      }
      case 'Inline': {
        const files = obj(o.files, `${where}.files`);
        for (const [k, v] of Object.entries(files)) if (typeof v !== 'string') throw new RepoSyncError(`${where}.files["${k}"] must be a string`);
        return { type: 'Inline', files: files as Record<string, string>, ...t };
      }
      default:
        throw new RepoSyncError(`${where}.type must be Embedded, Git, Inline or Local`);
    }
  });
  const defaults = c.repositoryDefaults === undefined || c.repositoryDefaults === null ? undefined : parseRepositoryDefaults(c.repositoryDefaults);
  if (repo.defaultBranch === undefined && defaults?.defaultBranch) repo.defaultBranch = defaults.defaultBranch;
  const out: RepoSyncConfig = {
    flavor: flavor as GitServerFlavor,
    apiEndpoint,
    credentialsSecretRef: { namespace: str(cred, 'namespace', 'config.credentialsSecretRef'), name: str(cred, 'name', 'config.credentialsSecretRef'), key: str(cred, 'key', 'config.credentialsSecretRef') },
    organization: str(c, 'organization', 'config'),
    repository: {
      name: str(repo, 'name', 'config.repository'),
      defaultBranch: str(repo, 'defaultBranch', 'config.repository'),
      ...(optStr(repo, 'description', 'config.repository', true) !== undefined ? { description: repo.description as string } : {}),
      ...(optBool(repo, 'private', 'config.repository') !== undefined ? { private: repo.private as boolean } : {}),
      ...(optBool(repo, 'autoInit', 'config.repository') !== undefined ? { autoInit: repo.autoInit as boolean } : {}),
    },
    sources,
    embeddedRoot: str(c, 'embeddedRoot', 'config'),
  };
  if (!validBranchName(out.repository.defaultBranch)) {
    throw new RepoSyncError(`config.repository.defaultBranch "${out.repository.defaultBranch}" is not a valid branch name`);
  }
  if (defaults) out.repositoryDefaults = defaults;
  if (c.teams !== undefined && c.teams !== null) {
    if (!Array.isArray(c.teams)) throw new RepoSyncError('config.teams must be a list');
    out.teams = c.teams.map((t, i) => {
      const o = obj(t, `config.teams[${i}]`);
      const permission = str(o, 'permission', `config.teams[${i}]`);
      if (!TEAM_PERMISSIONS.includes(permission)) throw new RepoSyncError(`config.teams[${i}].permission must be one of ${TEAM_PERMISSIONS.join(', ')}`);
      return { name: str(o, 'name', `config.teams[${i}]`), permission: permission as TeamPermission };
    });
  }
  if (c.caSecretRef !== undefined && c.caSecretRef !== null) {
    const r = obj(c.caSecretRef, 'config.caSecretRef');
    out.caSecretRef = { namespace: str(r, 'namespace', 'config.caSecretRef'), name: str(r, 'name', 'config.caSecretRef'), key: optStr(r, 'key', 'config.caSecretRef', false) ?? 'ca.crt' };
  }
  if (c.commitAuthor !== undefined) {
    const a = obj(c.commitAuthor, 'config.commitAuthor');
    out.commitAuthor = { name: str(a, 'name', 'config.commitAuthor'), email: str(a, 'email', 'config.commitAuthor') };
  }
  if (c.writer !== undefined && c.writer !== null) {
    const w = str(c, 'writer', 'config');
    if (!WRITER_RE.test(w)) throw new RepoSyncError(`config.writer "${w}" must be one or two /-separated lower-case names (letters, digits, - and .)`);
    out.writer = w;
  }
  if (c.result !== undefined) {
    const r = obj(c.result, 'config.result');
    out.result = { jobNamespace: str(r, 'jobNamespace', 'config.result'), jobName: str(r, 'jobName', 'config.result') };
  }
  return out;
}

const TEAM_PERMISSIONS = ['pull', 'triage', 'push', 'maintain', 'admin'];

function parseRepositoryDefaults(raw: unknown): RepositoryDefaults {
  const w = 'config.repositoryDefaults';
  const d = obj(raw, w);
  const out: RepositoryDefaults = {};
  const vis = optStr(d, 'visibility', w, false);
  if (vis !== undefined) {
    if (!['public', 'private', 'internal'].includes(vis)) throw new RepoSyncError(`${w}.visibility must be public, private or internal`);
    out.visibility = vis as Visibility;
  }
  const branch = optStr(d, 'defaultBranch', w, false);
  if (branch !== undefined) {
    if (!validBranchName(branch)) throw new RepoSyncError(`${w}.defaultBranch "${branch}" is not a valid branch name`);
    out.defaultBranch = branch;
  }
  for (const k of ['autoInit', 'allowSquashMerge', 'allowMergeCommit', 'allowRebaseMerge', 'initializeWithReadme', 'cicdEnabled'] as const) {
    const v = optBool(d, k, w);
    if (v !== undefined) out[k] = v;
  }
  return out;
}

/** git check-ref-format rules for `refs/heads/<name>`. */
export function validBranchName(name: string): boolean {
  if (name === '' || name === '@' || name.length > 255) return false;
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u0020\u007f~^:?*[\\]/.test(name) || name.includes('..') || name.includes('@{') || name.includes('//')) return false;
  if (name.startsWith('/') || name.endsWith('/') || name.endsWith('.') || name.startsWith('-')) return false;
  return name.split('/').every((c) => !c.startsWith('.') && !c.endsWith('.lock'));
}

function obj(v: unknown, where: string): Record<string, unknown> {
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new RepoSyncError(`${where} must be an object`);
  return v as Record<string, unknown>;
}
function str(o: Record<string, unknown>, k: string, where: string, allowEmpty = false): string {
  const v = o[k];
  if (typeof v !== 'string' || (!allowEmpty && v === '')) throw new RepoSyncError(`${where}.${k} must be a ${allowEmpty ? '' : 'non-empty '}string`);
  return v;
}
function optStr(o: Record<string, unknown>, k: string, where: string, allowEmpty = true): string | undefined {
  if (o[k] === undefined || o[k] === null) return undefined;
  return str(o, k, where, allowEmpty);
}
function optBool(o: Record<string, unknown>, k: string, where: string): boolean | undefined {
  if (o[k] === undefined || o[k] === null) return undefined;
  if (typeof o[k] !== 'boolean') throw new RepoSyncError(`${where}.${k} must be true or false`);
  return o[k] as boolean;
}

export { GitServerError };

