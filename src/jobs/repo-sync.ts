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
 */
import { spawn } from 'node:child_process';
import { chmod, copyFile, lstat, mkdir, mkdtemp, readFile, readdir, readlink, realpath, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, sep } from 'node:path';
import { GiteaClient, GitServerError, type RepoSpec } from '../gitea/client.js';
import { GitHubClient, teamSlug, type TeamPermission, type Visibility } from '../github/client.js';
import { GitLabClient, narrower } from '../gitlab/client.js';
import type { KubeClient } from '../kube/client.js';
import { RepoSyncConfig as RepoSyncConfigSchema, WRITER_PATTERN, parseJobConfig, type RepoSyncConfigInput, type SecretKeyRef } from '../api/jobs.js';
import { COMMIT_AUTHOR, RESULT_ANNOTATION } from '../api/names.js';

export { RESULT_ANNOTATION };
/** Author of the sync's commits when the config names none. */
export const DEFAULT_COMMIT_AUTHOR = COMMIT_AUTHOR;

// --- config ------------------------------------------------------------------------------------------

/** The config as the hook writes it: schema and field docs in src/api/jobs.ts. */
export type { RepoSyncConfigInput };
export type GitServerFlavor = RepoSyncConfigInput['flavor'];
export type RepoSource = RepoSyncConfigInput['sources'][number];
export type EmbeddedSource = Extract<RepoSource, { type: 'Embedded' }>;
export type GitSource = Extract<RepoSource, { type: 'Git' }>;
export type InlineSource = Extract<RepoSource, { type: 'Inline' }>;
export type LocalSource = Extract<RepoSource, { type: 'Local' }>;
export type RepositoryDefaults = NonNullable<RepoSyncConfigInput['repositoryDefaults']>;
export type TeamGrant = NonNullable<RepoSyncConfigInput['teams']>[number];

/** The config as read: `repository.defaultBranch` filled in, `caSecretRef.key` defaulted. */
export type RepoSyncConfig = Omit<RepoSyncConfigInput, 'repository' | 'caSecretRef'> & { repository: RepoSpec; caSecretRef?: SecretKeyRef };

export interface RepoSyncResult {
  commitSHA: string;
  /** The repository's web page. */
  url: string;
  /** The clone URL the git server advertises. */
  cloneURL: string;
  changed: boolean;
}

// --- providers ---------------------------------------------------------------------------------------

export interface EnsuredRepository {
  htmlURL: string;
  cloneURL: string;
  /** Where the Job pushes (may differ from cloneURL: e.g. Gitea's in-cluster endpoint). No credentials. */
  pushURL: string;
  /**
   * The repository's default branch as the server reports it now ('' when it reports none, e.g. an empty
   * GitLab project). When it differs from the configured branch, the sync builds the configured branch on
   * this one's head and then makes it the default ({@link GitHostingProvider.setDefaultBranch}).
   */
  defaultBranch: string;
}

/** What repo-sync needs from a git server; one implementation per flavor. */
export interface GitHostingProvider {
  /**
   * The repository, created when missing — after checking that the owner (organization, user, group)
   * exists, so a misspelled owner is reported as such. Every sync applies the settings that protect data
   * (visibility, when `spec.private` is set) to an existing repository too, and reads them back: a setting
   * that cannot be applied or does not take is an error naming it.
   */
  ensureRepository(owner: string, spec: RepoSpec): Promise<EnsuredRepository>;
  /** Makes the existing branch `branch` the repository's default branch and reads it back; throws when it does not take. */
  setDefaultBranch(owner: string, name: string, branch: string): Promise<void>;
  /** HTTP Basic credentials for git over HTTPS. */
  gitCredentials(): { username: string; password: string };
}

export interface ProviderOptions {
  apiEndpoint: string;
  token: string;
  /** The `username` key of the credentials Secret, when present. */
  username?: string;
  repositoryDefaults?: RepositoryDefaults;
  teams?: TeamGrant[];
  /** PEM CA bundle for the server (from `caSecretRef`). */
  ca?: string;
}

export type ProviderFactory = (opts: ProviderOptions) => GitHostingProvider;

/**
 * Applies one setting of repository `full` when the server reports another value, then reads it back.
 * Throws a {@link RepoSyncError} naming the setting when the change is refused or does not take.
 */
export async function enforceSetting<T>(
  full: string,
  setting: string,
  want: T,
  current: T | undefined,
  apply: () => Promise<unknown>,
  readBack: () => Promise<T | undefined>,
): Promise<void> {
  if (current === want) return;
  try {
    await apply();
  } catch (e) {
    throw new RepoSyncError(`repository ${full}: cannot set ${setting} to ${String(want)}: ${e instanceof Error ? e.message : String(e)}`);
  }
  const got = await readBack();
  if (got !== want) {
    throw new RepoSyncError(`repository ${full}: ${setting} is ${String(got)} after setting it to ${String(want)}: the server did not apply it`);
  }
}

/**
 * Gitea with an existing client (the Job's, or the CLI's with the platform CA): API token auth; git
 * pushes go to `<apiEndpoint>/<owner>/<repo>.git`. `private` is applied with `PATCH /repos/{owner}/{repo}`.
 */
export function giteaProviderFor(client: GiteaClient, opts: Pick<ProviderOptions, 'token' | 'username'>): GitHostingProvider {
  return {
    async ensureRepository(owner, spec) {
      const r = await client.ensureRepo(owner, spec);
      const full = `${owner}/${spec.name}`;
      if (spec.private !== undefined) {
        const want = spec.private;
        await enforceSetting(full, 'private', want, r.private, () => client.editRepo(owner, spec.name, { private: want }), async () => (await client.findRepo(owner, spec.name))?.private);
      }
      return { htmlURL: r.htmlURL, cloneURL: r.cloneURL, pushURL: `${client.baseURL}/${encodeURIComponent(owner)}/${encodeURIComponent(spec.name)}.git`, defaultBranch: r.defaultBranch };
    },
    async setDefaultBranch(owner, name, branch) {
      // Gitea ignores a default_branch that names no branch without an error: the read-back tells.
      await enforceSetting(`${owner}/${name}`, 'default_branch', branch, undefined, () => client.editRepo(owner, name, { defaultBranch: branch }), async () => (await client.findRepo(owner, name))?.defaultBranch);
    },
    // Gitea takes a token as the Basic password (with its owner as username), or as the username with
    // password `x-oauth-basic` when the owner is not known.
    gitCredentials: () => (opts.username ? { username: opts.username, password: opts.token } : { username: opts.token, password: 'x-oauth-basic' }),
  };
}

/** Gitea: API token auth; git pushes go to `<apiEndpoint>/<owner>/<repo>.git`, reachable from the Job. */
export const giteaProvider: ProviderFactory = (opts) => giteaProviderFor(new GiteaClient({ baseURL: opts.apiEndpoint, auth: { token: opts.token } }), opts);

/** The visibility of a new repository: see {@link RepositoryDefaults}. */
export function repoVisibility(spec: RepoSpec, defaults: RepositoryDefaults | undefined): Visibility {
  if (spec.private === true) return 'private';
  if (defaults?.visibility) return defaults.visibility;
  return spec.private === false ? 'public' : 'private';
}

/**
 * GitHub: the repository in the organization (`POST /orgs/{org}/repos` with the provider's defaults, after
 * `GET /orgs/{org}`), each team granted its permission on it; `visibility` enforced with
 * `PATCH /repos/{owner}/{repo}`; git over HTTPS as `x-access-token` with the token (PAT or installation
 * token) to the `clone_url` GitHub reports.
 */
export const githubProvider: ProviderFactory = (opts) => {
  const client = new GitHubClient({ baseURL: opts.apiEndpoint, token: opts.token });
  const d = opts.repositoryDefaults;
  return {
    async ensureRepository(owner, spec) {
      const r = await client.ensureRepo(owner, {
        name: spec.name,
        ...(spec.description ? { description: spec.description } : {}),
        visibility: repoVisibility(spec, d),
        autoInit: spec.autoInit === true || d?.autoInit === true,
        defaultBranch: spec.defaultBranch,
        ...(d?.allowSquashMerge !== undefined ? { allowSquashMerge: d.allowSquashMerge } : {}),
        ...(d?.allowMergeCommit !== undefined ? { allowMergeCommit: d.allowMergeCommit } : {}),
        ...(d?.allowRebaseMerge !== undefined ? { allowRebaseMerge: d.allowRebaseMerge } : {}),
      });
      if (spec.private !== undefined) {
        const want = repoVisibility(spec, d);
        await enforceSetting(`${owner}/${spec.name}`, 'visibility', want, r.visibility, () => client.updateRepo(owner, spec.name, { visibility: want }), async () => (await client.getRepo(owner, spec.name))?.visibility);
      }
      for (const t of opts.teams ?? []) await client.grantTeamRepo(owner, teamSlug(t.name), owner, spec.name, t.permission);
      if (!r.cloneURL) throw new GitServerError(0, 'ServerError', `GitHub: repository ${owner}/${spec.name} has no clone_url`);
      return { htmlURL: r.htmlURL, cloneURL: r.cloneURL, pushURL: r.cloneURL, defaultBranch: r.defaultBranch };
    },
    async setDefaultBranch(owner, name, branch) {
      await enforceSetting(`${owner}/${name}`, 'default_branch', branch, undefined, () => client.updateRepo(owner, name, { defaultBranch: branch }), async () => (await client.getRepo(owner, name))?.defaultBranch);
    },
    gitCredentials: () => ({ username: 'x-access-token', password: opts.token }),
  };
};

/**
 * GitLab: the project in the group (`POST /projects` with `namespace_id` and the provider's defaults,
 * after `GET /groups/:id`); `visibility` enforced with `PUT /projects/:id` (never more visible than the
 * group allows); git over HTTPS as `oauth2` with the token to the project's `http_url_to_repo`.
 */
export const gitlabProvider: ProviderFactory = (opts) => {
  const client = new GitLabClient({ baseURL: opts.apiEndpoint, token: opts.token, ...(opts.ca ? { ca: opts.ca } : {}) });
  const d = opts.repositoryDefaults;
  return {
    async ensureRepository(owner, spec) {
      const p = await client.ensureProject(owner, {
        name: spec.name,
        path: spec.name,
        ...(spec.description ? { description: spec.description } : {}),
        visibility: repoVisibility(spec, d),
        defaultBranch: spec.defaultBranch,
        initializeWithReadme: spec.autoInit === true || d?.initializeWithReadme === true,
        ...(d?.cicdEnabled !== undefined ? { cicdEnabled: d.cicdEnabled } : {}),
      });
      const full = `${owner}/${spec.name}`;
      if (spec.private !== undefined) {
        const group = await client.requireGroup(owner, `project ${full}`);
        const want = narrower(repoVisibility(spec, d), group.visibility);
        await enforceSetting(full, 'visibility', want, p.visibility, () => client.updateProject(p.id || full, { visibility: want }), async () => (await client.getProject(full))?.visibility);
      }
      if (!p.httpURLToRepo) throw new GitServerError(0, 'ServerError', `GitLab: project ${full} has no http_url_to_repo`);
      return { htmlURL: p.webURL, cloneURL: p.httpURLToRepo, pushURL: p.httpURLToRepo, defaultBranch: p.defaultBranch };
    },
    async setDefaultBranch(owner, name, branch) {
      const full = `${owner}/${name}`;
      await enforceSetting(full, 'default_branch', branch, undefined, () => client.updateProject(full, { defaultBranch: branch }), async () => (await client.getProject(full))?.defaultBranch);
    },
    gitCredentials: () => ({ username: 'oauth2', password: opts.token }),
  };
};

/** What runRepoSync uses without `deps.providers`. */
export const defaultProviders: Partial<Record<GitServerFlavor, ProviderFactory>> = { gitea: giteaProvider, github: githubProvider, gitlab: gitlabProvider };

/** Every flavor: what `idpbuilder job repo-sync` runs with. */
export const allProviders: Record<GitServerFlavor, ProviderFactory> = { gitea: giteaProvider, github: githubProvider, gitlab: gitlabProvider };

// --- deps --------------------------------------------------------------------------------------------

export interface JobLogger {
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
}

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

/** A configuration or source problem (not the git server's). */
export class RepoSyncError extends Error {
  override readonly name = 'RepoSyncError';
}

/** The wait before push attempt `attempt + 1`: 0.5 s doubling up to 8 s, times a jitter in [0.5, 1). */
export function pushBackoffMs(attempt: number, random: () => number): number {
  return Math.round(Math.min(8000, 500 * 2 ** (attempt - 1)) * (0.5 + random() / 2));
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
  const scrub = (text: string): string => scrubSecrets(text, secrets);
  const log = scrubbingLogger(deps.log, scrub);
  try {
    return await syncRepository(cfg, deps, { token, username, secret: secrets, scrub, log });
  } catch (e) {
    throw scrubError(e, scrub);
  }
}

interface Credentials {
  token: string;
  username?: string;
  /** Grows with the git Basic header and the credentials of Git source URLs. */
  secret: string[];
  scrub: (text: string) => string;
  log: JobLogger;
}

async function syncRepository(cfg: RepoSyncConfig, deps: RepoSyncDeps, c: Credentials): Promise<RepoSyncResult> {
  const now = deps.now ?? (() => new Date());
  const log = c.log;
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

  const provider = factory({
    apiEndpoint: cfg.apiEndpoint,
    token: c.token,
    ...(c.username ? { username: c.username } : {}),
    ...(cfg.repositoryDefaults ? { repositoryDefaults: cfg.repositoryDefaults } : {}),
    ...(cfg.teams ? { teams: cfg.teams } : {}),
    ...(ca ? { ca } : {}),
  });
  const fullName = `${cfg.organization}/${cfg.repository.name}`;
  const branch = cfg.repository.defaultBranch;
  const creds = provider.gitCredentials();
  for (const s of [creds.password, basic(creds.username, creds.password)]) if (s && s !== 'x-oauth-basic') c.secret.push(s);
  const work = await mkdtemp(join(deps.tmpDir ?? tmpdir(), 'repo-sync-'));
  const git = new Git(deps.gitBinary ?? 'git', join(work, 'home'), c.secret);
  try {
    await mkdir(join(work, 'home'));
    // Sources first: a bad path or an unreachable Git source fails before anything changes on the server.
    const prepared = await prepareSources(cfg, git, join(work, 'sources'), log);
    const staged = await stageSources(join(work, 'stage'), prepared);
    const repo = await provider.ensureRepository(cfg.organization, cfg.repository);
    log.info('repository ready', { repository: fullName, url: repo.htmlURL });
    const author = cfg.commitAuthor ?? DEFAULT_COMMIT_AUTHOR;
    let caFile: string | undefined;
    if (ca) {
      caFile = join(work, 'ca.crt');
      await writeFile(caFile, ca, { mode: 0o600 });
    }
    const auth = { url: repo.pushURL, header: `Authorization: Basic ${basic(creds.username, creds.password)}`, ...(caFile ? { caFile } : {}) };
    const maxAttempts = deps.maxAttempts ?? 5;
    const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
    const readOnly = cfg.sources.length > 0 && cfg.sources.every((src) => src.type === 'Local');
    let outcome: { sha: string; changed: boolean } | undefined;
    for (let attempt = 1; !outcome; attempt++) {
      try {
        outcome = await syncOnce({
          git,
          dir: join(work, `repo-${attempt}`),
          pushURL: repo.pushURL,
          auth,
          branch,
          baseBranch: repo.defaultBranch,
          stage: join(work, 'stage'),
          staged,
          writer: cfg.writer ?? DEFAULT_WRITER,
          log,
          author,
          date: now(),
          message: commitMessage(cfg.sources),
          readOnly,
        });
      } catch (e) {
        if (e instanceof PushRejected && attempt < maxAttempts) {
          const wait = pushBackoffMs(attempt, deps.random ?? Math.random);
          log.warn('push rejected: the branch moved or its ref is locked; retrying', { repository: fullName, attempt, reason: e.reason, retryInMs: wait });
          await sleep(wait);
          continue;
        }
        if (e instanceof PushRejected) throw new RepoSyncError(`git push to ${branch} of ${fullName} was rejected ${attempt} times (another push kept moving or locking the branch): ${e.reason}`);
        throw e;
      }
    }
    if (outcome.changed) log.info('pushed', { repository: fullName, branch, commitSHA: outcome.sha });
    else log.info('no changes', { repository: fullName, commitSHA: outcome.sha });
    if (!readOnly && repo.defaultBranch !== branch) {
      await provider.setDefaultBranch(cfg.organization, cfg.repository.name, branch);
      log.info('default branch set', { repository: fullName, branch, previous: repo.defaultBranch });
    }

    const result: RepoSyncResult = { commitSHA: outcome.sha, url: repo.htmlURL, cloneURL: repo.cloneURL, changed: outcome.changed };
    if (cfg.result) {
      const value = JSON.stringify({ commitSHA: result.commitSHA, syncedAt: now().toISOString(), url: result.url, cloneURL: result.cloneURL });
      await deps.kube.annotateJob(cfg.result.jobNamespace, cfg.result.jobName, { [RESULT_ANNOTATION]: value });
    }
    return result;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

// --- scrubbing ---------------------------------------------------------------------------------------

/**
 * `text` with every secret (and its base64 and URL-encoded forms), URL userinfo (`https://user:token@…`)
 * and credential headers (`Authorization: Basic …`, `PRIVATE-TOKEN: …`) replaced by `***`.
 */
export function scrubSecrets(text: string, secrets: string[]): string {
  let out = text;
  const forms = new Set<string>();
  for (const s of secrets) {
    if (!s || s.length < 4) continue;
    forms.add(s);
    forms.add(Buffer.from(s, 'utf8').toString('base64'));
    forms.add(encodeURIComponent(s));
  }
  for (const f of [...forms].sort((a, b) => b.length - a.length)) out = out.split(f).join('***');
  out = out.replace(/\b(authorization|proxy-authorization)(["']?\s*[:=]\s*["']?)(basic|bearer|token)\s+[^\s"',;]+/gi, '$1$2$3 ***');
  out = out.replace(/\b(private-token|x-auth-token)(["']?\s*[:=]\s*["']?)[^\s"',;]+/gi, '$1$2***');
  return redactURLsIn(out);
}

function scrubValue(v: unknown, scrub: (t: string) => string): unknown {
  if (typeof v === 'string') return scrub(v);
  if (Array.isArray(v)) return v.map((x) => scrubValue(x, scrub));
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, scrubValue(x, scrub)]));
  return v;
}

function scrubbingLogger(log: JobLogger, scrub: (t: string) => string): JobLogger {
  return {
    info: (msg, fields) => (fields ? log.info(scrub(msg), scrubValue(fields, scrub) as Record<string, unknown>) : log.info(scrub(msg))),
    warn: (msg, fields) => (fields ? log.warn(scrub(msg), scrubValue(fields, scrub) as Record<string, unknown>) : log.warn(scrub(msg))),
  };
}

/** The same error (class and fields kept), its message (and a GitCommandError's output) scrubbed. */
function scrubError(e: unknown, scrub: (t: string) => string): unknown {
  if (!(e instanceof Error)) return new RepoSyncError(scrub(String(e)));
  e.message = scrub(e.message);
  if (e.stack) e.stack = scrub(e.stack);
  if (e instanceof GitCommandError) (e as { output: string }).output = scrub(e.output);
  if (e instanceof GitServerError) (e as { apiMessage: string }).apiMessage = scrub(e.apiMessage);
  return e;
}

// --- sources -----------------------------------------------------------------------------------------

type Prepared =
  | { kind: 'dir'; dir: string; target: string[] }
  | { kind: 'files'; files: Array<[string[], string]>; target: string[] };

async function prepareSources(cfg: RepoSyncConfig, git: Git, dir: string, log: JobLogger): Promise<Prepared[]> {
  await mkdir(dir, { recursive: true });
  const out: Prepared[] = [];
  let rootReal: string | undefined;
  for (const [i, src] of cfg.sources.entries()) {
    const where = `sources[${i}]`;
    const target = safeRelParts(src.targetPath ?? '', `${where}.targetPath`);
    switch (src.type) {
      case 'Local':
        log.info('skipping Local source: the CLI pushes it', { source: i, path: src.path });
        break;
      case 'Inline': {
        const files: Array<[string[], string]> = [];
        for (const [name, content] of Object.entries(src.files)) {
          const parts = safeRelParts(name, `${where}.files["${name}"]`);
          if (parts.length === 0) throw new RepoSyncError(`${where}.files: a file needs a name`);
          files.push([parts, content]);
        }
        out.push({ kind: 'files', files, target });
        break;
      }
      case 'Embedded': {
        if (rootReal === undefined) {
          try {
            rootReal = await realpath(cfg.embeddedRoot);
          } catch {
            throw new RepoSyncError(`embedded root ${cfg.embeddedRoot} does not exist`);
          }
        }
        const real = await containedDir(rootReal, safeRelParts(src.path, `${where}.path`), `Embedded source "${src.path}"`);
        out.push({ kind: 'dir', dir: real, target });
        break;
      }
      case 'Git': {
        const clone = join(dir, String(i));
        const shown = redactURL(src.url);
        log.info('fetching Git source', { source: i, url: shown, ref: src.ref ?? '(default branch)' });
        await git.cloneSource(src.url, src.ref, clone);
        const cloneReal = await realpath(clone);
        const real = await containedDir(cloneReal, safeRelParts(src.path ?? '', `${where}.path`), `path "${src.path ?? ''}" of Git source ${shown}`);
        out.push({ kind: 'dir', dir: real, target });
        break;
      }
      default:
        throw new RepoSyncError(`${where}: unknown source type "${(src as { type: string }).type}"`);
    }
  }
  return out;
}

/** Splits a repository-relative path; rejects absolute paths, `..` and `.git` components. */
export function safeRelParts(p: string, field: string): string[] {
  if (p.includes('\0')) throw new RepoSyncError(`${field} contains a NUL character`);
  if (p.startsWith('/') || p.includes('\\') || /^[A-Za-z]:/.test(p)) throw new RepoSyncError(`${field} must be a relative path: "${p}"`);
  const parts = p.split('/').filter((s) => s !== '' && s !== '.');
  if (parts.includes('..')) throw new RepoSyncError(`${field} must stay inside the repository: "${p}"`);
  if (parts.some((s) => s.toLowerCase() === '.git')) throw new RepoSyncError(`${field} must not touch .git: "${p}"`);
  return parts;
}

/** Resolves `parts` below `rootReal` (symlinks followed) and insists the result is a directory inside it. */
async function containedDir(rootReal: string, parts: string[], what: string): Promise<string> {
  let real: string;
  try {
    real = await realpath(join(rootReal, ...parts));
  } catch {
    throw new RepoSyncError(`${what} not found`);
  }
  if (real !== rootReal && !real.startsWith(rootReal + sep)) throw new RepoSyncError(`${what} escapes its root`);
  if (!(await stat(real)).isDirectory()) throw new RepoSyncError(`${what} is not a directory`);
  return real;
}

/** Makes `root/parts…` a real directory, replacing files or symlinks in the way (so nothing is written through a link). */
async function ensureRealDir(root: string, parts: string[]): Promise<string> {
  let cur = root;
  for (const part of parts) {
    cur = join(cur, part);
    const st = await lstat(cur).catch(() => undefined);
    if (st?.isDirectory()) continue;
    if (st) await rm(cur, { recursive: true, force: true });
    await mkdir(cur);
  }
  return cur;
}

/** Copies `src` into `dst` (a real directory), overwriting; skips `.git`, keeps symlinks as symlinks and the exec bit. */
async function copyTree(src: string, dst: string): Promise<void> {
  for (const entry of await readdir(src, { withFileTypes: true })) {
    if (entry.name.toLowerCase() === '.git') continue;
    const s = join(src, entry.name);
    const d = join(dst, entry.name);
    const st = await lstat(s);
    const existing = await lstat(d).catch(() => undefined);
    if (st.isDirectory()) {
      if (existing && !existing.isDirectory()) await rm(d, { recursive: true, force: true });
      if (!existing || !existing.isDirectory()) await mkdir(d);
      await copyTree(s, d);
    } else if (st.isSymbolicLink()) {
      if (existing) await rm(d, { recursive: true, force: true });
      await symlink(await readlink(s), d);
    } else if (st.isFile()) {
      if (existing) await rm(d, { recursive: true, force: true });
      await copyFile(s, d);
      await chmod(d, st.mode & 0o111 ? 0o755 : 0o644);
    }
  }
}

/** Writes the merged sources into the empty directory `stage` (later sources win) and lists its files. */
async function stageSources(stage: string, prepared: Prepared[]): Promise<string[]> {
  await mkdir(stage, { recursive: true });
  for (const p of prepared) {
    const base = await ensureRealDir(stage, p.target);
    if (p.kind === 'dir') {
      await copyTree(p.dir, base);
      continue;
    }
    for (const [parts, content] of p.files) {
      const parent = await ensureRealDir(base, parts.slice(0, -1));
      const file = join(parent, parts[parts.length - 1]);
      if (await lstat(file).catch(() => undefined)) await rm(file, { recursive: true, force: true });
      await writeFile(file, content, { mode: 0o644 });
    }
  }
  const files = await listFiles(stage);
  const reserved = files.find((f) => f === OWNERS_DIR || f.startsWith(`${OWNERS_DIR}/`));
  if (reserved) throw new RepoSyncError(`a source writes ${reserved}: ${OWNERS_DIR}/ is where repo-sync records who wrote what`);
  return files;
}

/** Files and symlinks below `root` (not .git), as sorted `/`-separated relative paths. */
async function listFiles(root: string, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  const dir = prefix ? join(root, ...prefix.split('/')) : root;
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (!prefix && entry.name === '.git') continue;
    const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) out.push(...(await listFiles(root, rel)));
    else out.push(rel);
  }
  return out.sort();
}

// --- ownership ---------------------------------------------------------------------------------------

/**
 * Where each writer records the paths it wrote: `.idpbuilder/owners/<writer>.paths`, one JSON string per
 * line (`#` lines are comments). No .yaml/.json extension, so Argo CD, Flux and Helm do not read it.
 */
export const OWNERS_DIR = '.idpbuilder/owners';
/** The writer of a config without `writer` (older GitRepository configs). */
export const DEFAULT_WRITER = 'repo-sync';
/** The writer of `idpbuilder create -p` (the CLI pushing a local directory). */
export const CLI_WRITER = 'cli';

const WRITER_RE = new RegExp(WRITER_PATTERN);

export function manifestPath(writer: string): string {
  return `${OWNERS_DIR}/${writer}.paths`;
}

/** The manifest text for `paths` written by `writer`. */
export function renderManifest(writer: string, paths: string[]): string {
  return [`# Paths written by ${writer} (idpbuilder repo-sync). It deletes only paths listed here that it no longer writes.`, ...paths.map((p) => JSON.stringify(p)), ''].join('\n');
}

/** The paths of a manifest; lines that are not a safe relative path are ignored (so never deleted). */
export function parseManifest(text: string): Set<string> {
  const out = new Set<string>();
  for (const line of text.split('\n')) {
    const l = line.trim();
    if (!l || l.startsWith('#')) continue;
    let p: unknown;
    try {
      p = JSON.parse(l);
    } catch {
      continue;
    }
    if (typeof p !== 'string') continue;
    try {
      if (safeRelParts(p, 'manifest').join('/') === p && !p.startsWith(`${OWNERS_DIR}/`)) out.add(p);
    } catch {
      /* not a path this sync could have written */
    }
  }
  return out;
}

/** Our manifest, and every other writer's claims (path → writer), read from the checked-out tree. */
async function readManifests(worktree: string, writer: string): Promise<{ mine: Set<string>; others: Map<string, string> }> {
  const mine = new Set<string>();
  const others = new Map<string, string>();
  const root = join(worktree, ...OWNERS_DIR.split('/'));
  const st = await lstat(root).catch(() => undefined);
  if (!st?.isDirectory()) return { mine, others };
  for (const rel of await listFiles(root)) {
    if (!rel.endsWith('.paths')) continue;
    const file = join(root, ...rel.split('/'));
    if (!(await lstat(file)).isFile()) continue;
    const who = rel.slice(0, -'.paths'.length);
    const paths = parseManifest(await readFile(file, 'utf8'));
    if (who === writer) for (const p of paths) mine.add(p);
    else for (const p of paths) if (!others.has(p)) others.set(p, who);
  }
  return { mine, others };
}

/**
 * Makes `worktree` (the branch as fetched) hold the staged files, deleting only what `writer` wrote before
 * (its manifest) and no longer writes, unless another writer's manifest claims it too. A staged file that
 * needs a path held by content this writer did not write (a file where a directory goes, or a directory
 * with others' files where a file goes) is a conflict: nothing is deleted to make room.
 */
async function applyOwned(worktree: string, stage: string, staged: string[], writer: string, log: JobLogger): Promise<void> {
  const { mine, others } = await readManifests(worktree, writer);
  const want = new Set(staged);
  const owned = (p: string) => mine.has(p) && !others.has(p);
  const at = (p: string) => join(worktree, ...p.split('/'));

  for (const p of [...mine].sort()) {
    if (want.has(p) || others.has(p)) continue;
    const st = await lstat(at(p)).catch(() => undefined);
    if (!st || st.isDirectory()) continue;
    await rm(at(p), { force: true });
    await pruneEmptyParents(worktree, p);
  }

  for (const p of staged) {
    const parts = p.split('/');
    for (let i = 1; i < parts.length; i++) {
      const a = parts.slice(0, i).join('/');
      const st = await lstat(at(a)).catch(() => undefined);
      if (!st || st.isDirectory()) continue;
      if (!owned(a)) throw new RepoSyncError(`cannot write ${p}: ${a} is a file this sync did not write${others.has(a) ? ` (${others.get(a)} did)` : ''}`);
      await rm(at(a), { force: true });
    }
    const st = await lstat(at(p)).catch(() => undefined);
    if (st?.isDirectory()) {
      const inside = (await listFiles(at(p))).map((f) => `${p}/${f}`);
      const foreign = inside.find((f) => !owned(f));
      if (foreign) throw new RepoSyncError(`cannot write ${p}: it is a directory holding ${foreign}, which this sync did not write`);
      await rm(at(p), { recursive: true, force: true });
    } else if (st) {
      await rm(at(p), { force: true });
    }
    if (others.has(p)) log.warn('overwriting a path another writer also claims', { path: p, writer: others.get(p) });
    await mkdir(dirname(at(p)), { recursive: true });
    const src = join(stage, ...parts);
    const s = await lstat(src);
    if (s.isSymbolicLink()) await symlink(await readlink(src), at(p));
    else {
      await copyFile(src, at(p));
      await chmod(at(p), s.mode & 0o111 ? 0o755 : 0o644);
    }
  }

  const manifest = at(manifestPath(writer));
  if (staged.length > 0) {
    await mkdir(dirname(manifest), { recursive: true });
    await writeFile(manifest, renderManifest(writer, staged), { mode: 0o644 });
  } else if (await lstat(manifest).catch(() => undefined)) {
    await rm(manifest, { force: true });
    await pruneEmptyParents(worktree, manifestPath(writer));
  }
}

/** Removes the now empty directories above the removed path `p` (never the worktree itself). */
async function pruneEmptyParents(worktree: string, p: string): Promise<void> {
  const parts = p.split('/');
  for (let i = parts.length - 1; i > 0; i--) {
    const d = join(worktree, ...parts.slice(0, i));
    const entries = await readdir(d).catch(() => undefined);
    if (!entries || entries.length > 0) return;
    await rm(d, { recursive: true, force: true });
  }
}

function commitMessage(sources: RepoSource[]): string {
  const lines = sources.map((s) => {
    const to = s.targetPath ? ` -> ${s.targetPath}` : '';
    switch (s.type) {
      case 'Embedded':
        return `- Embedded ${s.path}${to}`;
      case 'Git':
        return `- Git ${redactURL(s.url)}${s.ref ? `@${s.ref}` : ''}${s.path ? ` (${s.path})` : ''}${to}`;
      case 'Inline':
        return `- Inline (${Object.keys(s.files).length} files)${to}`;
      case 'Local':
        return `- Local ${s.path}${to} (pushed by the CLI)`;
    }
  });
  return ['Sync from idpbuilder', '', ...lines].join('\n');
}

// --- git -----------------------------------------------------------------------------------------------

class PushRejected extends Error {
  constructor(
    /** git's reason, scrubbed, on one line. */
    readonly reason: string,
  ) {
    super(`git push was rejected: ${reason}`);
  }
}

/**
 * Push rejections that another push explains (retried after a fetch): the client's `[rejected]` (fetch
 * first, non-fast-forward, stale info) and the server's ref-lock failures (`cannot lock ref` — `is at …
 * but expected …`, `reference already exists`, `Unable to create '….lock'` — and `failed to update ref`).
 */
export const RETRYABLE_PUSH_REJECTION = /fetch first|non-fast-forward|stale info|cannot lock ref|reference already exists|failed to update ref|failed to lock|incorrect old value|but expected [0-9a-f]{7,}/i;

interface SyncOnce {
  git: Git;
  dir: string;
  pushURL: string;
  auth: { url: string; header: string; caFile?: string };
  branch: string;
  /** The branch the server reports as default: the new `branch` starts from its head when `branch` does not exist yet. */
  baseBranch: string;
  stage: string;
  staged: string[];
  writer: string;
  log: JobLogger;
  author: { name: string; email: string };
  date: Date;
  message: string;
  /** Report the branch's commit without changing the repository. */
  readOnly?: boolean;
}

async function syncOnce(o: SyncOnce): Promise<{ sha: string; changed: boolean }> {
  const { git, dir, branch, auth } = o;
  await git.run(['init', '-q', `--initial-branch=${branch}`, dir]);
  await git.run(['remote', 'add', 'origin', o.pushURL], { cwd: dir });
  const base = o.baseBranch && o.baseBranch !== branch ? o.baseBranch : undefined;
  const listed = await git.run(['ls-remote', '--heads', 'origin', `refs/heads/${branch}`, ...(base ? [`refs/heads/${base}`] : [])], { cwd: dir, auth });
  const heads = new Map(listed.stdout.split('\n').map((l) => l.split('\t')).filter((f) => f.length === 2).map((f) => [f[1], f[0]]));
  const remoteSHA = heads.get(`refs/heads/${branch}`);
  const baseSHA = base ? heads.get(`refs/heads/${base}`) : undefined;
  // A repository whose every source is Local is the CLI's: its content is never replaced here.
  if (o.readOnly) return { sha: remoteSHA ?? '', changed: false };
  // A new default branch starts from the old default's head: history and content are kept.
  const from = remoteSHA ? branch : baseSHA ? base : undefined;
  if (from) {
    await git.run(['fetch', '-q', '--depth', '1', '--no-tags', 'origin', `+refs/heads/${from}:refs/remotes/origin/${from}`], { cwd: dir, auth });
    await git.run(['checkout', '-q', '-B', branch, `refs/remotes/origin/${from}`], { cwd: dir });
  }
  await applyOwned(dir, o.stage, o.staged, o.writer, o.log);
  await git.run(['add', '--all', '--force', '.'], { cwd: dir });
  let sha: string | undefined;
  if (from) {
    const diff = await git.run(['diff', '--cached', '--quiet'], { cwd: dir, okCodes: [0, 1] });
    if (diff.code === 0 && remoteSHA) return { sha: remoteSHA, changed: false };
    if (diff.code === 0) sha = baseSHA;
  }
  if (!sha) {
    const stamp = `@${Math.floor(o.date.getTime() / 1000)} +0000`;
    await git.run(['commit', '-q', '--allow-empty', '--no-verify', '-m', o.message], {
      cwd: dir,
      env: {
        GIT_AUTHOR_NAME: o.author.name,
        GIT_AUTHOR_EMAIL: o.author.email,
        GIT_COMMITTER_NAME: o.author.name,
        GIT_COMMITTER_EMAIL: o.author.email,
        GIT_AUTHOR_DATE: stamp,
        GIT_COMMITTER_DATE: stamp,
      },
    });
    sha = (await git.run(['rev-parse', 'HEAD'], { cwd: dir })).stdout.trim();
  }
  try {
    await git.run(['push', '-q', '--porcelain', 'origin', `HEAD:refs/heads/${branch}`], { cwd: dir, auth });
  } catch (e) {
    if (e instanceof GitCommandError && RETRYABLE_PUSH_REJECTION.test(e.output)) throw new PushRejected(summarize(e.output));
    throw e;
  }
  return { sha, changed: true };
}

export class GitCommandError extends Error {
  override readonly name = 'GitCommandError';
  constructor(
    message: string,
    /** Sanitized stdout+stderr. */
    readonly output: string,
  ) {
    super(message);
  }
}

interface RunOptions {
  cwd?: string;
  env?: Record<string, string>;
  /** Send `header` on requests to `url` only (http.<url>.extraHeader via GIT_CONFIG_* env); trust `caFile` for it. */
  auth?: { url: string; header: string; caFile?: string };
  okCodes?: number[];
}

class Git {
  constructor(
    private readonly bin: string,
    private readonly home: string,
    private readonly secrets: string[],
  ) {}

  private baseEnv(): NodeJS.ProcessEnv {
    const pass = ['PATH', 'HTTP_PROXY', 'HTTPS_PROXY', 'NO_PROXY', 'http_proxy', 'https_proxy', 'no_proxy', 'GIT_SSL_CAINFO', 'SSL_CERT_FILE', 'SSL_CERT_DIR'];
    const env: NodeJS.ProcessEnv = {};
    for (const k of pass) if (process.env[k] !== undefined) env[k] = process.env[k];
    return {
      ...env,
      HOME: this.home,
      LC_ALL: 'C',
      LANG: 'C',
      GIT_TERMINAL_PROMPT: '0',
      GIT_CONFIG_NOSYSTEM: '1',
      GIT_CONFIG_GLOBAL: '/dev/null',
      GIT_ALLOW_PROTOCOL: 'http:https:ssh:git:file',
      GIT_SSH_COMMAND: 'ssh -o BatchMode=yes',
      GIT_ADVICE: '0',
    };
  }

  scrub(text: string): string {
    return scrubSecrets(text, this.secrets);
  }

  run(args: string[], opts: RunOptions = {}): Promise<{ stdout: string; code: number }> {
    const env: NodeJS.ProcessEnv = { ...this.baseEnv(), ...opts.env };
    const config: Array<[string, string]> = [['advice.detachedHead', 'false']];
    if (opts.auth) config.push([`http.${opts.auth.url}.extraHeader`, opts.auth.header]);
    if (opts.auth?.caFile) config.push([`http.${opts.auth.url}.sslCAInfo`, opts.auth.caFile]);
    env.GIT_CONFIG_COUNT = String(config.length);
    config.forEach(([k, v], i) => {
      env[`GIT_CONFIG_KEY_${i}`] = k;
      env[`GIT_CONFIG_VALUE_${i}`] = v;
    });
    const okCodes = opts.okCodes ?? [0];
    return new Promise((resolve, reject) => {
      const child = spawn(this.bin, args, { cwd: opts.cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      child.stdout.on('data', (c: Buffer) => out.push(c));
      child.stderr.on('data', (c: Buffer) => err.push(c));
      child.on('error', (e) => reject(new GitCommandError(`cannot run git: ${(e as NodeJS.ErrnoException).code ?? e.message}`, '')));
      child.on('close', (code) => {
        const stdout = Buffer.concat(out).toString('utf8');
        const c = code ?? -1;
        if (okCodes.includes(c)) return resolve({ stdout, code: c });
        const output = this.scrub(`${stdout}\n${Buffer.concat(err).toString('utf8')}`);
        reject(new GitCommandError(`git ${args[0]} failed: ${summarize(output) || `exit code ${c}`}`, output));
      });
    });
  }

  /** Shallow clone of a Git source. Credentials in the URL move to a header scoped to that URL. */
  async cloneSource(rawURL: string, ref: string | undefined, dir: string): Promise<void> {
    const { url, header } = splitCredentials(rawURL);
    if (header) this.secrets.push(header.slice('Authorization: Basic '.length));
    const auth = header ? { url, header } : undefined;
    const r = ref?.replace(/^refs\/(heads|tags)\//, '');
    try {
      if (r && /^[0-9a-f]{40}([0-9a-f]{24})?$/i.test(r)) {
        await this.run(['init', '-q', dir]);
        await this.run(['remote', 'add', 'origin', url], { cwd: dir });
        try {
          await this.run(['fetch', '-q', '--depth', '1', '--no-tags', 'origin', r], { cwd: dir, auth });
        } catch {
          await this.run(['fetch', '-q', '--no-tags', 'origin'], { cwd: dir, auth });
        }
        await this.run(['checkout', '-q', r], { cwd: dir });
      } else {
        await this.run(['clone', '-q', '--depth', '1', '--no-tags', ...(r ? ['--branch', r] : []), '--', url, dir], { auth });
      }
    } catch (e) {
      if (e instanceof GitCommandError) {
        throw new GitCommandError(`Git source ${redactURL(rawURL)}${ref ? `@${ref}` : ''}: ${e.message}`, e.output);
      }
      throw e;
    }
  }
}

/** The lines of git's output that say what went wrong, on one line. */
function summarize(output: string): string {
  const lines = output
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.length > 0);
  const useful = lines.filter((l) => /^(fatal|error|remote|!|hint: Updates were rejected)/i.test(l) || l.includes('[rejected]') || l.includes('[remote rejected]'));
  const text = (useful.length > 0 ? useful : lines.slice(-2)).join('; ').replace(/\s+/g, ' ');
  return text.length > 300 ? `${text.slice(0, 299)}…` : text;
}

function basic(username: string, password: string): string {
  return Buffer.from(`${username}:${password}`, 'utf8').toString('base64');
}

function splitCredentials(raw: string): { url: string; header?: string } {
  if (!/^https?:\/\//i.test(raw)) return { url: raw };
  try {
    const u = new URL(raw);
    if (!u.username && !u.password) return { url: raw };
    const header = `Authorization: Basic ${basic(decodeURIComponent(u.username), decodeURIComponent(u.password))}`;
    u.username = '';
    u.password = '';
    return { url: u.toString(), header };
  } catch {
    return { url: raw };
  }
}

/** A URL fit for logs: userinfo replaced by `***`. */
export function redactURL(raw: string): string {
  return redactURLsIn(raw);
}

function redactURLsIn(text: string): string {
  return text.replace(/([a-z][a-z0-9+.-]*:\/\/)[^/@\s:]*(?::[^/@\s]*)?@/gi, '$1***@');
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
export function validBranchName(name: string): boolean {
  if (name === '' || name === '@' || name.length > 255) return false;
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u0020\u007f~^:?*[\\]/.test(name) || name.includes('..') || name.includes('@{') || name.includes('//')) return false;
  if (name.startsWith('/') || name.endsWith('/') || name.endsWith('.') || name.startsWith('-')) return false;
  return name.split('/').every((c) => !c.startsWith('.') && !c.endsWith('.lock'));
}

export { GitServerError };
