/**
 * One push of a repository's sources, for the repo-sync Job and the CLI alike: the sources prepared and
 * staged (./sources.ts), the repository ensured through the provider (./hosting.ts), the default branch
 * fetched, the writer's files applied (./owners.ts), committed only when something changed and pushed,
 * retried with backoff when another push moved or locked the branch (./git.ts).
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_COMMIT_AUTHOR, type RepoSource, type RepoSyncConfig, type RepoSyncResult } from '../repo-sync.js';
import { GitCommandError, RepoSyncError } from './errors.js';
import { Git, PushRejected, RETRYABLE_PUSH_REJECTION, basic, summarize } from './git.js';
import type { ProviderFactory } from './hosting.js';
import { DEFAULT_WRITER, applyOwned } from './owners.js';
import { prepareSources, stageSources } from './sources.js';
import { redactURL, scrubError, scrubSecrets, scrubbingLogger, type JobLogger } from './scrub.js';

/** The wait before push attempt `attempt + 1`: 0.5 s doubling up to 8 s, times a jitter in [0.5, 1). */
export function pushBackoffMs(attempt: number, random: () => number): number {
  return Math.round(Math.min(8000, 500 * 2 ** (attempt - 1)) * (0.5 + random() / 2));
}


/** What a push needs besides the repository: the server, its credentials, and where to log. */
export interface PushAccess {
  /** The provider of the repository's flavor. */
  factory: ProviderFactory;
  token: string;
  /** The `username` key of the credentials, when present. */
  username?: string;
  /** PEM CA bundle to trust for the server (API and git over HTTPS). */
  ca?: string;
  /**
   * The values to scrub (token and the like). The same array the caller's scrub reads: it grows with the
   * git Basic header and the credentials of Git source URLs.
   */
  secrets: string[];
  /** Already scrubbing (see {@link withScrubbing}). */
  log: JobLogger;
}

/** Tuning of a push (tests): clock, temp dir, git binary, push attempts and their backoff. */
export interface PushOptions {
  now?: () => Date;
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

/** The repository part of a repo-sync config: what is pushed where (no Secret references, no result). */
export type PushTarget = Omit<RepoSyncConfig, 'credentialsSecretRef' | 'caSecretRef' | 'result'>;

/**
 * Runs `fn` with a logger that scrubs `secrets` (read at each call: the array may grow) from every message
 * and field, and scrubs what it throws: a token never reaches a log line or an error.
 */
export async function withScrubbing<T>(secrets: string[], log: JobLogger, fn: (log: JobLogger) => Promise<T>): Promise<T> {
  const scrub = (text: string): string => scrubSecrets(text, secrets);
  try {
    return await fn(scrubbingLogger(log, scrub));
  } catch (e) {
    throw scrubError(e, scrub);
  }
}

/**
 * Makes the repository `cfg.organization`/`cfg.repository.name` hold the merged sources as `cfg.writer`
 * (default `repo-sync`), creating it when missing; a commit as `cfg.commitAuthor` only when something
 * changed. Throws RepoSyncError for a source or configuration problem or a push rejected `maxAttempts`
 * times, GitCommandError when git fails, GitServerError when the server's API does. Messages are not
 * scrubbed here: call it inside {@link withScrubbing}.
 */
export async function pushSources(cfg: PushTarget, access: PushAccess, opts: PushOptions = {}): Promise<RepoSyncResult> {
  const now = opts.now ?? (() => new Date());
  const log = access.log;
  const ca = access.ca;
  const provider = access.factory({
    apiEndpoint: cfg.apiEndpoint,
    token: access.token,
    ...(access.username ? { username: access.username } : {}),
    ...(cfg.repositoryDefaults ? { repositoryDefaults: cfg.repositoryDefaults } : {}),
    ...(cfg.teams ? { teams: cfg.teams } : {}),
    ...(ca ? { ca } : {}),
  });
  const fullName = `${cfg.organization}/${cfg.repository.name}`;
  const branch = cfg.repository.defaultBranch;
  const creds = provider.gitCredentials();
  for (const s of [creds.password, basic(creds.username, creds.password)]) if (s && s !== 'x-oauth-basic') access.secrets.push(s);
  const work = await mkdtemp(join(opts.tmpDir ?? tmpdir(), 'repo-sync-'));
  const git = new Git(opts.gitBinary ?? 'git', join(work, 'home'), access.secrets);
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
    const maxAttempts = opts.maxAttempts ?? 5;
    const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
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
          const wait = pushBackoffMs(attempt, opts.random ?? Math.random);
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
    return result;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** The commit message: one line per source (URLs redacted). */
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
