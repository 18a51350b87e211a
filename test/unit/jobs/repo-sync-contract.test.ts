/**
 * repo-sync under real conditions, against the fake Gitea (real git over `git http-backend`): who owns
 * which paths, concurrent pushes, settings changed after creation, owners that do not exist, and tokens
 * that must never be printed.
 */
import { execFile } from 'node:child_process';
import { lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { pushDirectory, type GitServer } from '../../../src/cli/packages.js';
import { GitServerError } from '../../../src/gitea/client.js';
import { DEFAULT_TOKEN_SCOPES } from '../../../src/jobs/gitea-bootstrap.js';
import {
  GitCommandError,
  RETRYABLE_PUSH_REJECTION,
  RepoSyncError,
  parseManifest,
  parseRepoSyncConfig,
  renderManifest,
  runRepoSync,
  scrubSecrets,
  type JobLogger,
  type RepoSource,
  type RepoSyncConfig,
  type RepoSyncDeps,
} from '../../../src/jobs/repo-sync.js';
import { FakeGitea, type FakeRepo } from '../../fakes/gitea.js';

const execFileP = promisify(execFile);
const GIT_ENV = {
  PATH: process.env.PATH,
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_TERMINAL_PROMPT: '0',
  GIT_AUTHOR_NAME: 'Other',
  GIT_AUTHOR_EMAIL: 'other@example.com',
  GIT_COMMITTER_NAME: 'Other',
  GIT_COMMITTER_EMAIL: 'other@example.com',
};

async function git(args: string[], cwd?: string, header?: string): Promise<string> {
  const pre = header ? ['-c', `http.extraHeader=${header}`] : [];
  return (await execFileP('git', [...pre, ...args], { cwd, env: GIT_ENV })).stdout;
}

/** Every file of a checkout (not .git): path → content. */
function readTree(dir: string, prefix = ''): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of readdirSync(join(dir, prefix)).sort()) {
    if (name === '.git') continue;
    const rel = prefix ? `${prefix}/${name}` : name;
    if (lstatSync(join(dir, rel)).isDirectory()) Object.assign(out, readTree(dir, rel));
    else out[rel] = readFileSync(join(dir, rel), 'utf8');
  }
  return out;
}

class MemKube {
  secrets = new Map<string, Record<string, string>>();
  async getSecret(namespace: string, name: string): Promise<Record<string, string> | undefined> {
    const s = this.secrets.get(`${namespace}/${name}`);
    return s ? { ...s } : undefined;
  }
  async annotateJob(): Promise<void> {}
}

class CaptureLog implements JobLogger {
  lines: string[] = [];
  info(msg: string, fields?: Record<string, unknown>): void {
    this.lines.push(`info ${msg} ${JSON.stringify(fields ?? {})}`);
  }
  warn(msg: string, fields?: Record<string, unknown>): void {
    this.lines.push(`warn ${msg} ${JSON.stringify(fields ?? {})}`);
  }
}

const fake = new FakeGitea();
let work: string;
let token: string;
let authHeader: string;
let upstream: string;
let kube: MemKube;
let log: CaptureLog;
let slept: number[];

function deps(extra: Partial<RepoSyncDeps> = {}): RepoSyncDeps {
  return { kube, log, now: () => new Date('2025-01-01T00:00:00Z'), tmpDir: work, sleep: async (ms) => void slept.push(ms), random: () => 0.5, ...extra };
}

function config(repo: string, sources: RepoSource[], extra: Partial<RepoSyncConfig> = {}): RepoSyncConfig {
  return {
    flavor: 'gitea',
    apiEndpoint: fake.baseURL,
    credentialsSecretRef: { namespace: 'gitea', name: 'gitea-credential', key: 'token' },
    organization: 'idpbuilder',
    repository: { name: repo, defaultBranch: 'main' },
    sources,
    embeddedRoot: join(work, 'embedded'),
    ...extra,
  };
}

async function clone(repo: string, branch?: string): Promise<string> {
  const dir = mkdtempSync(join(work, 'clone-'));
  await git(['clone', '-q', ...(branch ? ['--branch', branch] : []), `${fake.baseURL}/idpbuilder/${repo}.git`, dir], undefined, authHeader);
  return dir;
}

/** A commit by another writer, pushed straight into the fake's bare repository (no HTTP: it lands at once). */
async function otherWriterPush(r: FakeRepo, file: string, content: string): Promise<void> {
  const dir = mkdtempSync(join(work, 'other-'));
  await git(['init', '-q', '--initial-branch=main', dir]);
  const head = (await git(['--git-dir', r.dir, 'for-each-ref', '--format=%(objectname)', 'refs/heads/main'])).trim();
  if (head) {
    await git(['fetch', '-q', r.dir, 'refs/heads/main'], dir);
    await git(['checkout', '-q', '-B', 'main', 'FETCH_HEAD'], dir);
  }
  writeFileSync(join(dir, file), content);
  await git(['add', '-A'], dir);
  await git(['commit', '-q', '-m', `other: ${file}`], dir);
  await git(['push', '-q', r.dir, 'HEAD:refs/heads/main'], dir);
}

function embedded(name: string, files: Record<string, string>): void {
  const root = join(work, 'embedded', name);
  rmSync(root, { recursive: true, force: true });
  for (const [p, c] of Object.entries(files)) {
    mkdirSync(join(root, p, '..'), { recursive: true });
    writeFileSync(join(root, p), c);
  }
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'repo-sync-contract-'));
  await fake.start();
  fake.addOrg('idpbuilder');
  token = fake.addToken(fake.adminUsername, 'admin', [...DEFAULT_TOKEN_SCOPES]);
  authHeader = `Authorization: Basic ${Buffer.from(`${fake.adminUsername}:${token}`).toString('base64')}`;
  upstream = join(work, 'upstream');
  mkdirSync(join(upstream, 'manifests'), { recursive: true });
  await git(['init', '-q', '--initial-branch=main', upstream]);
  writeFileSync(join(upstream, 'manifests/app.yaml'), 'kind: App\n');
  await git(['add', '-A'], upstream);
  await git(['commit', '-q', '-m', 'v1'], upstream);
});

afterAll(async () => {
  await fake.stop();
  rmSync(work, { recursive: true, force: true });
});

beforeEach(() => {
  kube = new MemKube();
  kube.secrets.set('gitea/gitea-credential', { username: fake.adminUsername, token, password: 'admin-password-Secr3t' });
  log = new CaptureLog();
  slept = [];
  fake.clearFailures();
  fake.beforeReceivePack = undefined;
  fake.ignoredEdits.clear();
});

describe('ownership: a sync never deletes content it did not write', () => {
  it('Local + Embedded + Git: the CLI-pushed Local content survives every in-cluster sync; each deletes only its own stale files', async () => {
    embedded('platform', { 'a.yaml': 'a: 1\n', 'b.yaml': 'b: 1\n' });
    const sources: RepoSource[] = [
      { type: 'Embedded', path: 'platform', targetPath: 'platform' },
      { type: 'Git', url: `file://${upstream}`, path: 'manifests', targetPath: 'upstream' },
      { type: 'Local', path: '/home/me/app', targetPath: 'app' },
    ];
    const cfg = config('mixed', sources, { writer: 'team-a/mixed' });
    await runRepoSync(cfg, deps());

    // the CLI pushes the Local source from the laptop
    const laptop = mkdtempSync(join(work, 'laptop-'));
    writeFileSync(join(laptop, 'deploy.yaml'), 'kind: Deployment\n');
    writeFileSync(join(laptop, 'svc.yaml'), 'kind: Service\n');
    const server: GitServer = { endpoint: fake.baseURL, organization: 'idpbuilder', token, username: fake.adminUsername, ref: { kind: 'GiteaProvider', name: 'gitea', namespace: 'x' } };
    await pushDirectory(server, 'mixed', laptop, 'mixed', { targetPath: 'app' });

    // the in-cluster sync runs again, with b.yaml gone from its Embedded source
    embedded('platform', { 'a.yaml': 'a: 2\n' });
    const again = await runRepoSync(cfg, deps());
    expect(again.changed).toBe(true);
    let tree = readTree(await clone('mixed'));
    expect(tree).toEqual({
      '.idpbuilder/owners/cli.paths': renderManifest('cli', ['app/deploy.yaml', 'app/svc.yaml']),
      '.idpbuilder/owners/team-a/mixed.paths': renderManifest('team-a/mixed', ['platform/a.yaml', 'upstream/app.yaml']),
      'app/deploy.yaml': 'kind: Deployment\n',
      'app/svc.yaml': 'kind: Service\n',
      'platform/a.yaml': 'a: 2\n',
      'upstream/app.yaml': 'kind: App\n',
    });

    // the CLI removes one of its files: only that one goes, the in-cluster content stays
    rmSync(join(laptop, 'svc.yaml'));
    await pushDirectory(server, 'mixed', laptop, 'mixed', { targetPath: 'app' });
    tree = readTree(await clone('mixed'));
    expect(Object.keys(tree).filter((p) => !p.startsWith('.idpbuilder/'))).toEqual(['app/deploy.yaml', 'platform/a.yaml', 'upstream/app.yaml']);
  });

  it('two GitRepositories naming one repository keep each other\'s files', async () => {
    const one = config('shared', [{ type: 'Inline', files: { 'one.yaml': '1\n', 'old.yaml': 'old\n' } }], { writer: 'ns/one' });
    const two = config('shared', [{ type: 'Inline', files: { 'two.yaml': '2\n' } }], { writer: 'ns/two' });
    await runRepoSync(one, deps());
    await runRepoSync(two, deps());
    await runRepoSync({ ...one, sources: [{ type: 'Inline', files: { 'one.yaml': '1\n' } }] }, deps());
    const tree = readTree(await clone('shared'));
    expect(Object.keys(tree)).toEqual(['.idpbuilder/owners/ns/one.paths', '.idpbuilder/owners/ns/two.paths', 'one.yaml', 'two.yaml']);
    expect(parseManifest(tree['.idpbuilder/owners/ns/one.paths'])).toEqual(new Set(['one.yaml']));
  });

  it('content pushed by hand is kept; a file this sync needs where someone else\'s directory is fails without deleting it', async () => {
    await runRepoSync(config('handmade', [{ type: 'Inline', files: { 'app.yaml': 'mine\n' } }]), deps());
    await otherWriterPush(fake.repo('idpbuilder', 'handmade')!, 'NOTES.md', 'by hand\n');
    await runRepoSync(config('handmade', [{ type: 'Inline', files: { 'other.yaml': 'mine\n' } }]), deps());
    let tree = readTree(await clone('handmade'));
    expect(Object.keys(tree)).toEqual(['.idpbuilder/owners/repo-sync.paths', 'NOTES.md', 'other.yaml']);

    // someone turns other.yaml into a directory holding their file: the sync refuses, nothing changes
    const r = fake.repo('idpbuilder', 'handmade')!;
    const dir = await clone('handmade');
    await git(['rm', '-q', 'other.yaml'], dir);
    mkdirSync(join(dir, 'other.yaml'));
    writeFileSync(join(dir, 'other.yaml', 'theirs.txt'), 'theirs\n');
    await git(['add', '-A'], dir);
    await git(['commit', '-q', '-m', 'dir'], dir);
    await git(['push', '-q', r.dir, 'HEAD:refs/heads/main'], dir);
    const before = (await git(['--git-dir', r.dir, 'rev-parse', 'refs/heads/main'])).trim();
    const e = await runRepoSync(config('handmade', [{ type: 'Inline', files: { 'other.yaml': 'mine\n' } }]), deps()).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(RepoSyncError);
    expect((e as Error).message).toBe('cannot write other.yaml: it is a directory holding other.yaml/theirs.txt, which this sync did not write');
    expect((await git(['--git-dir', r.dir, 'rev-parse', 'refs/heads/main'])).trim()).toBe(before);
    tree = readTree(await clone('handmade'));
    expect(tree['other.yaml/theirs.txt']).toBe('theirs\n');
  });

  it('the records are reserved, and a manifest line that is not a safe path is never deleted', async () => {
    const e = await runRepoSync(config('reserved', [{ type: 'Inline', files: { 'x.paths': '"a"\n' }, targetPath: '.idpbuilder/owners' }]), deps()).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(RepoSyncError);
    expect((e as Error).message).toBe('a source writes .idpbuilder/owners/x.paths: .idpbuilder/owners/ is where repo-sync records who wrote what');
    expect(fake.repo('idpbuilder', 'reserved')).toBeUndefined();
    expect(parseManifest('# comment\n"a/b.yaml"\n"../../etc/passwd"\n"/abs"\n".git/config"\n"a/./c"\nnot json\n42\n".idpbuilder/owners/x.paths"\n')).toEqual(new Set(['a/b.yaml']));
    expect(() => parseRepoSyncConfig({ ...config('x', []), writer: '../x' })).toThrow('config.writer "../x" must be one or two /-separated lower-case names');
  });
});

describe('concurrent pushes: ref-lock and stale-ref rejections are retried after a fetch', () => {
  it('another push lands between our fetch and our update of an existing branch (cannot lock ref … but expected)', async () => {
    await runRepoSync(config('busy', [{ type: 'Inline', files: { 'a.txt': '1\n' } }]), deps());
    let pushes = 0;
    fake.beforeReceivePack = async (r) => {
      if (++pushes === 1) await otherWriterPush(r, 'theirs.txt', 'theirs\n');
    };
    const r = await runRepoSync(config('busy', [{ type: 'Inline', files: { 'a.txt': '2\n' } }]), deps());
    expect(r.changed).toBe(true);
    expect(pushes).toBe(2);
    expect(slept).toHaveLength(1);
    const warn = log.lines.find((l) => l.startsWith('warn push rejected'));
    expect(warn).toMatch(RETRYABLE_PUSH_REJECTION);
    expect(warn).toContain('[remote rejected]');
    const dir = await clone('busy');
    expect(readTree(dir)).toMatchObject({ 'a.txt': '2\n', 'theirs.txt': 'theirs\n' });
    expect((await git(['rev-parse', 'HEAD'], dir)).trim()).toBe(r.commitSHA);
    expect((await git(['log', '--format=%s'], dir)).trim().split('\n')).toEqual(['Sync from idpbuilder', 'other: theirs.txt', 'Sync from idpbuilder']);
  });

  it('a new repository whose branch another push created first (reference already exists)', async () => {
    let pushes = 0;
    fake.beforeReceivePack = async (r) => {
      if (++pushes === 1) await otherWriterPush(r, 'first.txt', 'first\n');
    };
    const r = await runRepoSync(config('newrace', [{ type: 'Inline', files: { 'mine.txt': 'mine\n' } }]), deps());
    expect(r.changed).toBe(true);
    expect(pushes).toBe(2);
    expect(log.lines.find((l) => l.startsWith('warn push rejected'))).toMatch(RETRYABLE_PUSH_REJECTION);
    const dir = await clone('newrace');
    expect(readTree(dir)).toMatchObject({ 'first.txt': 'first\n', 'mine.txt': 'mine\n' });
    expect((await git(['rev-parse', 'HEAD'], dir)).trim()).toBe(r.commitSHA);
  });

  it('a ref lock held by another push (Unable to create main.lock) is waited out with backoff; a lock that stays fails after maxAttempts', async () => {
    await runRepoSync(config('locked', [{ type: 'Inline', files: { 'a.txt': '1\n' } }]), deps());
    const lock = join(fake.repo('idpbuilder', 'locked')!.dir, 'refs', 'heads', 'main.lock');
    writeFileSync(lock, '');
    // the other push finishes while we wait
    const r = await runRepoSync(config('locked', [{ type: 'Inline', files: { 'a.txt': '2\n' } }]), deps({ sleep: async (ms) => void (slept.push(ms), rmSync(lock, { force: true })) }));
    expect(r.changed).toBe(true);
    expect(slept).toHaveLength(1);
    expect(readTree(await clone('locked'))['a.txt']).toBe('2\n');

    writeFileSync(lock, '');
    slept = [];
    const e = await runRepoSync(config('locked', [{ type: 'Inline', files: { 'a.txt': '3\n' } }]), deps({ maxAttempts: 3 })).catch((x: unknown) => x);
    rmSync(lock, { force: true });
    expect(e).toBeInstanceOf(RepoSyncError);
    expect((e as Error).message).toMatch(/^git push to main of idpbuilder\/locked was rejected 3 times \(another push kept moving or locking the branch\): .*\[remote rejected\]/);
    expect(slept).toHaveLength(2);
    expect(slept[1]).toBeGreaterThan(slept[0]); // backoff grows
  });

  it('two syncs of one repository at the same time both land', async () => {
    await runRepoSync(config('together', [], { writer: 'ns/a' }), deps());
    const [a, b] = await Promise.all([
      runRepoSync(config('together', [{ type: 'Inline', files: { 'a.txt': 'a\n' } }], { writer: 'ns/a' }), deps()),
      runRepoSync(config('together', [{ type: 'Inline', files: { 'b.txt': 'b\n' } }], { writer: 'ns/b' }), deps()),
    ]);
    expect([a.changed, b.changed]).toEqual([true, true]);
    const tree = readTree(await clone('together'));
    expect(tree).toMatchObject({ 'a.txt': 'a\n', 'b.txt': 'b\n' });
  });

  it('which rejections are retried', () => {
    for (const text of [
      '!\tHEAD:refs/heads/main\t[remote rejected] (cannot lock ref \'refs/heads/main\': is at 1111111 but expected 2222222)',
      '!\tHEAD:refs/heads/main\t[remote rejected] (cannot lock ref \'refs/heads/main\': reference already exists)',
      '!\tHEAD:refs/heads/main\t[remote rejected] (failed to update ref)',
      '!\tHEAD:refs/heads/main\t[rejected] (stale info)',
      '!\tHEAD:refs/heads/main\t[rejected] (non-fast-forward)',
      '!\tHEAD:refs/heads/main\t[rejected] (fetch first)',
    ]) expect(text).toMatch(RETRYABLE_PUSH_REJECTION);
    for (const text of ['!\tHEAD:refs/heads/main\t[remote rejected] (pre-receive hook declined)', '!\tHEAD:refs/heads/main\t[remote rejected] (protected branch hook declined)']) {
      expect(text).not.toMatch(RETRYABLE_PUSH_REJECTION);
    }
  });
});

describe('settings changed after creation', () => {
  it('a new defaultBranch starts from the old default\'s head, becomes the default, and commitSHA is what a clone gets', async () => {
    const first = await runRepoSync(config('rebranch', [{ type: 'Inline', files: { 'a.txt': '1\n' } }]), deps());
    expect(fake.repo('idpbuilder', 'rebranch')!.defaultBranch).toBe('main');

    // same content: the new branch is the old head itself
    const moved = await runRepoSync(config('rebranch', [{ type: 'Inline', files: { 'a.txt': '1\n' } }], { repository: { name: 'rebranch', defaultBranch: 'develop' } }), deps());
    expect(moved).toMatchObject({ commitSHA: first.commitSHA, changed: true });
    expect(fake.repo('idpbuilder', 'rebranch')!.defaultBranch).toBe('develop');
    expect(fake.requests.filter((r) => r.method === 'PATCH').map((r) => r.body)).toEqual([{ default_branch: 'develop' }]);
    let dir = await clone('rebranch');
    expect((await git(['rev-parse', '--abbrev-ref', 'HEAD'], dir)).trim()).toBe('develop');
    expect((await git(['rev-parse', 'HEAD'], dir)).trim()).toBe(moved.commitSHA);

    // new content on another new branch: one commit on top of the old history
    const next = await runRepoSync(config('rebranch', [{ type: 'Inline', files: { 'a.txt': '2\n' } }], { repository: { name: 'rebranch', defaultBranch: 'trunk' } }), deps());
    dir = await clone('rebranch');
    expect((await git(['rev-parse', '--abbrev-ref', 'HEAD'], dir)).trim()).toBe('trunk');
    expect((await git(['rev-parse', 'HEAD'], dir)).trim()).toBe(next.commitSHA);
    expect((await git(['rev-parse', 'HEAD^'], dir)).trim()).toBe(first.commitSHA);
    expect(readTree(dir)['a.txt']).toBe('2\n');
    // the old branches are kept
    expect((await git(['ls-remote', '--heads', 'origin'], dir)).split('\n').filter(Boolean).map((l) => l.split('\t')[1]).sort()).toEqual(['refs/heads/develop', 'refs/heads/main', 'refs/heads/trunk']);
  });

  it('a default branch the server does not apply fails with a clear message', async () => {
    await runRepoSync(config('stuck', [{ type: 'Inline', files: { 'a.txt': '1\n' } }]), deps());
    fake.ignoredEdits.add('default_branch');
    const e = await runRepoSync(config('stuck', [{ type: 'Inline', files: { 'a.txt': '1\n' } }], { repository: { name: 'stuck', defaultBranch: 'develop' } }), deps()).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(RepoSyncError);
    expect((e as Error).message).toBe('repository idpbuilder/stuck: default_branch is main after setting it to develop: the server did not apply it');
  });

  it('private: false → true makes the repository private (read back); a server that does not apply it fails the sync before any push', async () => {
    await runRepoSync(config('vis', [{ type: 'Inline', files: { 'a.txt': '1\n' } }], { repository: { name: 'vis', defaultBranch: 'main', private: false } }), deps());
    expect(fake.repo('idpbuilder', 'vis')!.private).toBe(false);
    fake.requests.length = 0;
    await runRepoSync(config('vis', [{ type: 'Inline', files: { 'a.txt': '1\n' } }], { repository: { name: 'vis', defaultBranch: 'main', private: true } }), deps());
    expect(fake.repo('idpbuilder', 'vis')!.private).toBe(true);
    const api = fake.requests.filter((r) => r.path.startsWith('/api/')).map((r) => `${r.method} ${r.path}`);
    expect(api).toEqual(['GET /api/v1/repos/idpbuilder/vis', 'PATCH /api/v1/repos/idpbuilder/vis', 'GET /api/v1/repos/idpbuilder/vis']);
    expect(fake.requests.find((r) => r.method === 'PATCH')!.body).toEqual({ private: true });
    // anonymous clones are refused now
    await expect(git(['ls-remote', `${fake.baseURL}/idpbuilder/vis.git`])).rejects.toThrow();

    // back to public, then a server that keeps it public
    await runRepoSync(config('vis', [], { repository: { name: 'vis', defaultBranch: 'main', private: false } }), deps());
    fake.ignoredEdits.add('private');
    fake.requests.length = 0;
    const e = await runRepoSync(config('vis', [{ type: 'Inline', files: { 'b.txt': 'secret\n' } }], { repository: { name: 'vis', defaultBranch: 'main', private: true } }), deps()).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(RepoSyncError);
    expect((e as Error).message).toBe('repository idpbuilder/vis: private is false after setting it to true: the server did not apply it');
    expect(fake.requests.some((r) => r.path.endsWith('git-receive-pack'))).toBe(false);

    // refused outright (403): the message names the setting and the server's answer
    fake.ignoredEdits.clear();
    fake.fail({ method: 'PATCH', path: '/api/v1/repos/idpbuilder/vis', status: 403, message: 'Token does not have required permission' });
    const f = await runRepoSync(config('vis', [], { repository: { name: 'vis', defaultBranch: 'main', private: true } }), deps()).catch((x: unknown) => x);
    expect((f as Error).message).toBe('repository idpbuilder/vis: cannot set private to true: Gitea: edit repository idpbuilder/vis failed with HTTP 403: Token does not have required permission');
    expect(fake.repo('idpbuilder', 'vis')!.private).toBe(false);
  });

  it('an unset private leaves an existing repository\'s visibility alone', async () => {
    await runRepoSync(config('vis-unset', [], { repository: { name: 'vis-unset', defaultBranch: 'main', private: true } }), deps());
    fake.requests.length = 0;
    await runRepoSync(config('vis-unset', []), deps());
    expect(fake.repo('idpbuilder', 'vis-unset')!.private).toBe(true);
    expect(fake.requests.some((r) => r.method === 'PATCH')).toBe(false);
  });
});

describe('errors that point the right way', () => {
  it('a misspelled organization is an owner that does not exist, not a missing write:admin scope', async () => {
    const e = await runRepoSync(config('x', [], { organization: 'idpbuildr' }), deps()).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(GitServerError);
    expect(e).toMatchObject({ status: 404, code: 'NotFound' });
    expect((e as Error).message).toBe('Gitea: cannot create repository idpbuildr/x: owner idpbuildr does not exist (there is no organization or user of that name)');
    expect((e as Error).message).not.toContain('write:admin');
  });
});

describe('the token is never printed', () => {
  it('a failure whose server and git output carry the token, its Basic form and a credential URL: scrubbed from the error, its output and the log', async () => {
    const b64 = Buffer.from(`${fake.adminUsername}:${token}`).toString('base64');
    const planted = `denied: token ${token} (Authorization: Basic ${b64}) for https://${fake.adminUsername}:${token}@gitea.example/idpbuilder/leak.git password admin-password-Secr3t`;
    await runRepoSync(config('leak', [{ type: 'Inline', files: { 'a.txt': '1\n' } }]), deps());
    fake.fail({ path: '/idpbuilder/leak.git/info/refs', status: 403, text: `${planted}\n` });
    const e = await runRepoSync(config('leak', [{ type: 'Inline', files: { 'a.txt': '2\n' } }]), deps()).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(GitCommandError);
    const texts = [(e as Error).message, (e as GitCommandError).output, (e as Error).stack ?? '', ...log.lines];
    expect((e as GitCommandError).output).toContain('denied: token ***');
    for (const t of texts) {
      for (const s of [token, b64, 'admin-password-Secr3t', `${fake.adminUsername}:`]) expect(t).not.toContain(s);
    }
  });

  it('a Git source URL with credentials that fails: neither the error nor the log shows them', async () => {
    const e = await runRepoSync(config('leak2', [{ type: 'Git', url: `http://${fake.adminUsername}:${token}@127.0.0.1:1/x/y.git` }]), deps()).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(GitCommandError);
    for (const t of [(e as Error).message, (e as GitCommandError).output, ...log.lines]) expect(t).not.toContain(token);
    expect((e as Error).message).toContain('http://***@127.0.0.1:1/x/y.git');
  });

  it('scrubSecrets: the values, their base64 and URL-encoded forms, credential URLs and headers', () => {
    const t = 's3cr3t/t0ken+x';
    const text = [
      `token ${t}`,
      `b64 ${Buffer.from(t).toString('base64')}`,
      `enc ${encodeURIComponent(t)}`,
      'url https://user:other@host/x.git',
      'Authorization: Bearer abc.def.ghi',
      'authorization: Basic Zm9vOmJhcg==',
      'PRIVATE-TOKEN: glpat-123456',
    ].join('\n');
    expect(scrubSecrets(text, [t]).split('\n')).toEqual([
      'token ***',
      'b64 ***',
      'enc ***',
      'url https://***@host/x.git',
      'Authorization: Bearer ***',
      'authorization: Basic ***',
      'PRIVATE-TOKEN: ***',
    ]);
  });
});

