import { execFile } from 'node:child_process';
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { GiteaClient, GitServerError } from '../../../src/gitea/client.js';
import { jobCommand } from '../../../src/jobs/cli.js';
import { DEFAULT_TOKEN_SCOPES } from '../../../src/jobs/gitea-bootstrap.js';
import {
  GitCommandError,
  RESULT_ANNOTATION,
  RepoSyncError,
  parseRepoSyncConfig,
  runRepoSync,
  type JobLogger,
  type RepoSource,
  type RepoSyncConfig,
  type RepoSyncDeps,
} from '../../../src/jobs/repo-sync.js';
import { defaultProviders } from '../../../src/jobs/repo-sync.js';
import { FakeGitea } from '../../fakes/gitea.js';

import { openServiceTunnel, type TunnelApi } from '../../../src/kube/tunnel.js';
import { forwardToLoopback } from '../../fakes/portforward.js';
import { rejectionOf } from '../../support/rejection.js';

const execFileP = promisify(execFile);
const GIT_ENV = {
  PATH: process.env.PATH,
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_TERMINAL_PROMPT: '0',
  GIT_AUTHOR_NAME: 'Test',
  GIT_AUTHOR_EMAIL: 'test@example.com',
  GIT_COMMITTER_NAME: 'Test',
  GIT_COMMITTER_EMAIL: 'test@example.com',
};

async function git(args: string[], cwd?: string, header?: string): Promise<string> {
  const pre = header ? ['-c', `http.extraHeader=${header}`] : [];
  return (await execFileP('git', [...pre, ...args], { cwd, env: GIT_ENV })).stdout;
}

/** Every file below `dir` (except .git and .idpbuilder): path → content, or `-> target` for symlinks. */
function readTree(dir: string, prefix = ''): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of readdirSync(join(dir, prefix)).sort()) {
    if (name === '.git') continue;
    if (!prefix && name === '.idpbuilder') continue; // the sync's ownership records: asserted on their own
    const rel = prefix ? `${prefix}/${name}` : name;
    const st = lstatSync(join(dir, rel));
    if (st.isSymbolicLink()) out[rel] = `-> ${readlinkSync(join(dir, rel))}`;
    else if (st.isDirectory()) Object.assign(out, readTree(dir, rel));
    else out[rel] = readFileSync(join(dir, rel), 'utf8');
  }
  return out;
}

class MemKube {
  secrets = new Map<string, Record<string, string>>();
  annotations: Array<{ namespace: string; name: string; annotations: Record<string, string | null> }> = [];
  async getSecret(namespace: string, name: string): Promise<Record<string, string> | undefined> {
    const s = this.secrets.get(`${namespace}/${name}`);
    return s ? { ...s } : undefined;
  }
  async annotateJob(namespace: string, name: string, annotations: Record<string, string | null>): Promise<void> {
    this.annotations.push({ namespace, name, annotations });
  }
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

let work: string;
const fake = new FakeGitea({ rootURL: 'https://gitea.cnoe.localtest.me:8443/' });
let token: string;
let authHeader: string;
let srcRepo: string;
let srcFirstSHA: string;
let kube: MemKube;
let log: CaptureLog;
let clock: number;

function embeddedFixture(): string {
  const root = mkdtempSync(join(work, 'embedded-'));
  mkdirSync(join(root, 'argocd/nested/deep'), { recursive: true });
  mkdirSync(join(root, 'argocd/bin'));
  writeFileSync(join(root, 'argocd/install.yaml'), 'kind: Namespace\nmetadata:\n  name: argocd\n');
  writeFileSync(join(root, 'argocd/nested/deep/x.txt'), 'deep\n');
  writeFileSync(join(root, 'argocd/bin/run.sh'), '#!/bin/sh\necho hi\n');
  chmodSync(join(root, 'argocd/bin/run.sh'), 0o755);
  symlinkSync('install.yaml', join(root, 'argocd/link.yaml'));
  mkdirSync(join(root, 'nginx'));
  writeFileSync(join(root, 'nginx/values.yaml'), 'controller: {}\n');
  mkdirSync(join(work, 'outside'), { recursive: true });
  writeFileSync(join(work, 'outside/secret.txt'), 'do not copy me');
  symlinkSync(join(work, 'outside'), join(root, 'escape'));
  return root;
}

function deps(extra: Partial<RepoSyncDeps> = {}): RepoSyncDeps {
  return { kube, log, now: () => new Date(clock), tmpDir: work, sleep: async () => undefined, ...extra };
}

function config(repo: string, sources: RepoSource[], embeddedRoot: string, extra: Partial<RepoSyncConfig> = {}): RepoSyncConfig {
  return {
    flavor: 'gitea',
    apiEndpoint: fake.baseURL,
    credentialsSecretRef: { namespace: 'gitea', name: 'gitea-credential', key: 'token' },
    organization: 'idpbuilder',
    repository: { name: repo, defaultBranch: 'main' },
    sources,
    embeddedRoot,
    ...extra,
  };
}

async function cloneTree(owner: string, repo: string, branch = 'main'): Promise<{ dir: string; tree: Record<string, string> }> {
  const dir = mkdtempSync(join(work, 'verify-'));
  await git(['clone', '-q', '--branch', branch, `${fake.baseURL}/${owner}/${repo}.git`, dir], undefined, authHeader);
  return { dir, tree: readTree(dir) };
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'repo-sync-test-'));
  await fake.start();
  fake.addOrg('idpbuilder');
  token = fake.addToken(fake.adminUsername, 'admin', [...DEFAULT_TOKEN_SCOPES]);
  authHeader = `Authorization: Basic ${Buffer.from(`${fake.adminUsername}:${token}`).toString('base64')}`;

  // A local upstream repository for Git sources: main has two commits, tag v1 points at the first.
  srcRepo = join(work, 'upstream');
  mkdirSync(join(srcRepo, 'manifests'), { recursive: true });
  await git(['init', '-q', '--initial-branch=main', srcRepo]);
  writeFileSync(join(srcRepo, 'manifests/app.yaml'), 'version: 1\n');
  writeFileSync(join(srcRepo, 'README.md'), 'upstream readme\n');
  await git(['add', '-A'], srcRepo);
  await git(['commit', '-q', '-m', 'v1'], srcRepo);
  srcFirstSHA = (await git(['rev-parse', 'HEAD'], srcRepo)).trim();
  await git(['tag', 'v1'], srcRepo);
  writeFileSync(join(srcRepo, 'manifests/app.yaml'), 'version: 2\n');
  await git(['commit', '-q', '-am', 'v2'], srcRepo);
});

afterAll(async () => {
  await fake.stop();
  rmSync(work, { recursive: true, force: true });
});

beforeEach(() => {
  kube = new MemKube();
  kube.secrets.set('gitea/gitea-credential', { username: fake.adminUsername, token, password: 'admin-password' });
  log = new CaptureLog();
  clock = Date.parse('2025-01-01T00:00:00Z');
  fake.clearFailures();
});

describe('runRepoSync of a git server on a target cluster', () => {
  it('pushes through the tunnel (API and git over HTTP, token header included); the Service name is never dialled', async () => {
    const tunnel = { kubeconfigSecretRef: { namespace: 'gitea', name: 'vc-target', key: 'config' }, namespace: 'gitea', service: 'gitea-http', port: 3000 };
    const forwards: string[] = [];
    // client-node's PortForward stood in for: each forward is a TCP connection to the fake Gitea
    const api: TunnelApi = {
      readService: async () => ({ spec: { selector: { app: 'gitea' }, ports: [{ port: 3000, targetPort: 3000 }] } }),
      listPods: async () => [{ metadata: { name: 'gitea-0' }, status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] } }],
      portForward: async (_ns, pod, port, output, _errors, input) => {
        forwards.push(`${pod}:${port}`);
        return forwardToLoopback(Number(new URL(fake.baseURL).port), output, input);
      },
    };
    const cfg = config('through-tunnel', [{ type: 'Inline', files: { 'app.yaml': 'via the target API server\n' } }], embeddedFixture(), { apiEndpoint: 'http://gitea-http.gitea.svc.cluster.local:3000', tunnel });
    const res = await runRepoSync(cfg, deps({ tunnel: (t) => openServiceTunnel(api, t) }));
    expect(res).toMatchObject({ changed: true, cloneURL: 'https://gitea.cnoe.localtest.me:8443/idpbuilder/through-tunnel.git' });
    expect((await cloneTree('idpbuilder', 'through-tunnel')).tree).toEqual({ 'app.yaml': 'via the target API server\n' });
    expect(new Set(forwards)).toEqual(new Set(['gitea-0:3000']));
    expect(fake.requests.some((r) => r.method === 'POST' && r.path === '/idpbuilder/through-tunnel.git/git-receive-pack' && r.user === 'giteaAdmin')).toBe(true);
    expect(log.lines.some((l) => l.startsWith('info tunnel to the git server opened') && l.includes('gitea/gitea-0'))).toBe(true);
  });
});

describe('runRepoSync end to end against the fake Gitea', () => {
  it('creates the repository, pushes the merged sources, is idempotent, and follows removals', async () => {
    const embedded = embeddedFixture();
    const sources: RepoSource[] = [
      { type: 'Embedded', path: 'argocd' },
      { type: 'Git', url: `file://${srcRepo}`, path: 'manifests', targetPath: 'upstream' },
      { type: 'Inline', files: { 'README.md': '# app1\n', 'install.yaml': 'overridden\n' } },
      { type: 'Local', path: '/home/me/app' },
    ];
    const cfg = config('app1', sources, embedded, { result: { jobNamespace: 'idpbuilder-system', jobName: 'repo-sync-app1' } });

    const first = await runRepoSync(cfg, deps());
    expect(first).toEqual({
      commitSHA: expect.stringMatching(/^[0-9a-f]{40}$/),
      url: 'https://gitea.cnoe.localtest.me:8443/idpbuilder/app1',
      cloneURL: 'https://gitea.cnoe.localtest.me:8443/idpbuilder/app1.git',
      changed: true,
    });
    const { dir, tree } = await cloneTree('idpbuilder', 'app1');
    expect(tree).toEqual({
      'README.md': '# app1\n',
      'bin/run.sh': '#!/bin/sh\necho hi\n',
      'install.yaml': 'overridden\n', // the later Inline source wins over Embedded
      'link.yaml': '-> install.yaml',
      'nested/deep/x.txt': 'deep\n',
      'upstream/app.yaml': 'version: 2\n',
    });
    expect((await git(['rev-parse', 'HEAD'], dir)).trim()).toBe(first.commitSHA);
    expect((await git(['ls-tree', '-r', 'HEAD'], dir)).split('\n').filter((l) => /bin\/run\.sh|link\.yaml/.test(l)).map((l) => l.split(' ')[0])).toEqual(['100755', '120000']);
    expect((await git(['log', '--format=%an <%ae>|%cn|%at|%s'], dir)).trim()).toBe('git-reconciler <git-reconciler@idpbuilder.cnoe.io>|git-reconciler|1735689600|Sync from idpbuilder');
    expect(kube.annotations).toEqual([
      {
        namespace: 'idpbuilder-system',
        name: 'repo-sync-app1',
        annotations: {
          [RESULT_ANNOTATION]: `{"commitSHA":"${first.commitSHA}","syncedAt":"2025-01-01T00:00:00.000Z","url":"https://gitea.cnoe.localtest.me:8443/idpbuilder/app1","cloneURL":"https://gitea.cnoe.localtest.me:8443/idpbuilder/app1.git"}`,
        },
      },
    ]);
    expect(log.lines.some((l) => l.startsWith('info skipping Local source: the CLI pushes it'))).toBe(true);
    // pushed to the internal endpoint, not the advertised external clone URL
    expect(fake.requests.some((r) => r.method === 'POST' && r.path === '/idpbuilder/app1.git/git-receive-pack' && r.user === 'giteaAdmin')).toBe(true);

    // second run, same sources: nothing to commit, same SHA, no push
    clock += 60_000;
    fake.requests.length = 0;
    const second = await runRepoSync(cfg, deps());
    expect(second).toEqual({ ...first, changed: false });
    expect(fake.requests.some((r) => r.path.endsWith('git-receive-pack'))).toBe(false);
    expect(JSON.parse(kube.annotations[1].annotations[RESULT_ANNOTATION]!)).toEqual({
      commitSHA: first.commitSHA,
      syncedAt: '2025-01-01T00:01:00.000Z',
      url: first.url,
      cloneURL: first.cloneURL,
    });

    // a file removed from a source disappears from the repository
    rmSync(join(embedded, 'argocd/nested'), { recursive: true });
    const third = await runRepoSync(cfg, deps());
    expect(third.changed).toBe(true);
    const after = await cloneTree('idpbuilder', 'app1');
    expect(after.tree['nested/deep/x.txt']).toBeUndefined();
    expect(Object.keys(after.tree).sort()).toEqual(['README.md', 'bin/run.sh', 'install.yaml', 'link.yaml', 'upstream/app.yaml']);
    expect((await git(['rev-parse', 'HEAD^'], after.dir)).trim()).toBe(first.commitSHA);
  });

  it('a repository with only Local sources is the CLI\'s: ensured and reported, never rewritten', async () => {
    const embedded = embeddedFixture();
    const pushed = await runRepoSync(config('cli-app', [{ type: 'Inline', files: { 'app.yaml': 'from the CLI\n' } }], embedded), deps());
    const local = await runRepoSync(config('cli-app', [{ type: 'Local', path: '/home/me/app' }], embedded), deps());
    expect(local).toMatchObject({ commitSHA: pushed.commitSHA, changed: false });
    expect((await cloneTree('idpbuilder', 'cli-app')).tree).toEqual({ 'app.yaml': 'from the CLI\n' });
    // a new repository with only Local sources is created, empty, and not pushed to
    const fresh = await runRepoSync(config('cli-new', [{ type: 'Local', path: '/home/me/other' }], embedded), deps());
    expect(fresh).toMatchObject({ commitSHA: '', changed: false });
  });

  it('later sources win path collisions, file over directory and directory over file', async () => {
    const embedded = embeddedFixture();
    const r = await runRepoSync(
      config(
        'collide',
        [
          { type: 'Inline', files: { 'a/b.txt': 'in a dir\n', 'c': 'a file\n' } },
          { type: 'Inline', files: { a: 'now a file\n' } },
          { type: 'Embedded', path: 'nginx', targetPath: 'c' },
        ],
        embedded,
      ),
      deps(),
    );
    expect(r.changed).toBe(true);
    expect((await cloneTree('idpbuilder', 'collide')).tree).toEqual({ a: 'now a file\n', 'c/values.yaml': 'controller: {}\n' });
  });

  it('builds on the auto-init commit of a new repository (its README stays), on a non-default branch name too', async () => {
    const embedded = embeddedFixture();
    const cfg = config('autoinit', [{ type: 'Embedded', path: 'nginx' }], embedded, {
      repository: { name: 'autoinit', defaultBranch: 'develop', autoInit: true, description: 'auto', private: true },
    });
    const r = await runRepoSync(cfg, deps());
    expect(r.changed).toBe(true);
    expect(fake.repo('idpbuilder', 'autoinit')).toMatchObject({ private: true, defaultBranch: 'develop', description: 'auto' });
    const { dir, tree } = await cloneTree('idpbuilder', 'autoinit', 'develop');
    // the README of auto-init was not written by the sync: it stays
    expect(tree).toEqual({ 'README.md': '# autoinit\n\nauto\n', 'values.yaml': 'controller: {}\n' });
    expect((await git(['log', '--format=%s'], dir)).trim().split('\n')).toEqual(['Sync from idpbuilder', 'Initial commit']);
  });

  it('creates the branch of an empty repository even with no content, then stays unchanged', async () => {
    const embedded = embeddedFixture();
    const cfg = config('empty', [], embedded);
    const r = await runRepoSync(cfg, deps());
    expect(r.changed).toBe(true);
    const { dir, tree } = await cloneTree('idpbuilder', 'empty');
    expect(tree).toEqual({});
    expect((await git(['rev-parse', 'HEAD'], dir)).trim()).toBe(r.commitSHA);
    expect(await runRepoSync(cfg, deps())).toEqual({ ...r, changed: false });
  });

  it('Git sources: tag, commit SHA and refs/heads refs', async () => {
    const embedded = embeddedFixture();
    const s = (ref: string, targetPath: string): RepoSource => ({ type: 'Git', url: `file://${srcRepo}`, ref, path: 'manifests', targetPath });
    await runRepoSync(config('refs', [s('v1', 'tag'), s(srcFirstSHA, 'sha'), s('refs/heads/main', 'branch')], embedded), deps());
    expect((await cloneTree('idpbuilder', 'refs')).tree).toEqual({
      'branch/app.yaml': 'version: 2\n',
      'sha/app.yaml': 'version: 1\n',
      'tag/app.yaml': 'version: 1\n',
    });
  });

  it('keeps credentials out of argv, URLs and logs (also for a private Git source with userinfo)', async () => {
    // a private repository on the fake, used as a Git source with credentials in its URL
    const admin = new GiteaClient({ baseURL: fake.baseURL, auth: { token } });
    await admin.ensureRepo('idpbuilder', { name: 'private-src', private: true, defaultBranch: 'main' });
    const seed = mkdtempSync(join(work, 'seed-'));
    await git(['init', '-q', '--initial-branch=main', seed]);
    writeFileSync(join(seed, 'secret-app.yaml'), 'private: true\n');
    await git(['add', '-A'], seed);
    await git(['commit', '-q', '-m', 'seed'], seed);
    await git(['push', '-q', `${fake.baseURL}/idpbuilder/private-src.git`, 'HEAD:refs/heads/main'], seed, authHeader);

    const argvLog = join(work, 'argv.log');
    const wrapper = join(work, 'git-wrapper.sh');
    writeFileSync(wrapper, `#!/bin/sh\nprintf '%s\\n' "$*" >> '${argvLog}'\nexec git "$@"\n`);
    chmodSync(wrapper, 0o755);

    const port = new URL(fake.baseURL).port;
    const url = `http://${fake.adminUsername}:${token}@127.0.0.1:${port}/idpbuilder/private-src.git`;
    const r = await runRepoSync(config('creds', [{ type: 'Git', url }], embeddedFixture()), deps({ gitBinary: wrapper }));
    expect(r.changed).toBe(true);
    expect((await cloneTree('idpbuilder', 'creds')).tree).toEqual({ 'secret-app.yaml': 'private: true\n' });

    const argv = readFileSync(argvLog, 'utf8');
    expect(argv).toContain('push');
    expect(argv).toContain(`http://127.0.0.1:${port}/idpbuilder/private-src.git`);
    const b64 = Buffer.from(`${fake.adminUsername}:${token}`).toString('base64');
    for (const secret of [token, b64, 'admin-password']) {
      expect(argv).not.toContain(secret);
      expect(log.lines.join('\n')).not.toContain(secret);
    }
    expect(log.lines.join('\n')).toContain(`http://***@127.0.0.1:${port}/idpbuilder/private-src.git`);
  });

  it('works with a Secret that has only the token (no username key)', async () => {
    kube.secrets.set('gitea/only-token', { token });
    const r = await runRepoSync(
      config('only-token', [{ type: 'Inline', files: { 'x.txt': 'x' } }], embeddedFixture(), {
        credentialsSecretRef: { namespace: 'gitea', name: 'only-token', key: 'token' },
      }),
      deps(),
    );
    expect(r.changed).toBe(true);
    expect((await cloneTree('idpbuilder', 'only-token')).tree).toEqual({ 'x.txt': 'x' });
  });

  it('retries when the branch moved between fetch and push', async () => {
    const embedded = embeddedFixture();
    const cfg = config('race', [{ type: 'Inline', files: { 'a.txt': 'one\n' } }], embedded);
    const first = await runRepoSync(cfg, deps());
    // another writer's commit, pushed by the wrapper right before our first push
    const other = mkdtempSync(join(work, 'other-'));
    await git(['clone', '-q', `${fake.baseURL}/idpbuilder/race.git`, other], undefined, authHeader);
    writeFileSync(join(other, 'b.txt'), 'theirs\n');
    await git(['add', '-A'], other);
    await git(['commit', '-q', '-m', 'concurrent'], other);
    const mark = join(work, 'race.mark');
    const wrapper = join(work, 'git-race.sh');
    writeFileSync(
      wrapper,
      `#!/bin/sh\nif [ "$1" = push ] && [ ! -e '${mark}' ]; then touch '${mark}'; git -C '${other}' -c 'http.extraHeader=${authHeader}' push -q origin HEAD:refs/heads/main >/dev/null 2>&1; fi\nexec git "$@"\n`,
    );
    chmodSync(wrapper, 0o755);
    const r = await runRepoSync(config('race', [{ type: 'Inline', files: { 'a.txt': 'two\n' } }], embedded), deps({ gitBinary: wrapper }));
    expect(r.changed).toBe(true);
    expect(log.lines.some((l) => l.startsWith('warn push rejected: the branch moved or its ref is locked; retrying'))).toBe(true);
    const { dir, tree } = await cloneTree('idpbuilder', 'race');
    // the other writer's b.txt stays: the sync deletes only what it wrote
    expect(tree).toEqual({ 'a.txt': 'two\n', 'b.txt': 'theirs\n' });
    expect((await git(['log', '--format=%s'], dir)).trim().split('\n')).toEqual(['Sync from idpbuilder', 'concurrent', 'Sync from idpbuilder']);
    expect((await git(['rev-parse', 'HEAD~2'], dir)).trim()).toBe(first.commitSHA);
  });
});

describe('runRepoSync failures', () => {
  const expectReject = (p: Promise<unknown>): Promise<Error> => rejectionOf(p, Error);

  it('missing Secret or key', async () => {
    const e1 = await expectReject(
      runRepoSync(config('x', [], work, { credentialsSecretRef: { namespace: 'gitea', name: 'nope', key: 'token' } }), deps()),
    );
    expect(e1).toBeInstanceOf(RepoSyncError);
    expect(e1.message).toBe('credentials Secret gitea/nope not found');
    const e2 = await expectReject(
      runRepoSync(config('x', [], work, { credentialsSecretRef: { namespace: 'gitea', name: 'gitea-credential', key: 'tok' } }), deps()),
    );
    expect(e2.message).toBe('credentials Secret gitea/gitea-credential has no key "tok"');
  });

  it('a wrong token is an Unauthorized GitServerError without the token', async () => {
    kube.secrets.set('gitea/gitea-credential', { token: 'f'.repeat(40) });
    const e = (await expectReject(runRepoSync(config('x', [], work), deps()))) as GitServerError;
    expect(e).toBeInstanceOf(GitServerError);
    expect(e.code).toBe('Unauthorized');
    expect(e.message).toBe('Gitea: get repository idpbuilder/x failed with HTTP 401: invalid username, password or token');
    expect(e.message).not.toContain('f'.repeat(40));
  });

  it('server errors surface with their code: 403, 404, 422, 429, 500', async () => {
    const cases: Array<[number, string, string]> = [
      [403, 'Forbidden', 'Gitea: create repository idpbuilder/err failed with HTTP 403: Given user is not allowed to create repository in organization.'],
      [404, 'NotFound', "Gitea: create repository idpbuilder/err failed with HTTP 404: The target couldn't be found."],
      [422, 'Invalid', 'Gitea: create repository idpbuilder/err failed with HTTP 422: name is reserved [name: err]'],
      [429, 'RateLimited', 'Gitea: create repository idpbuilder/err failed with HTTP 429: slow down'],
      [500, 'ServerError', 'Gitea: create repository idpbuilder/err failed with HTTP 500: no message'],
    ];
    for (const [status, code, message] of cases) {
      fake.clearFailures();
      const apiMessage = message.replace(/^.*HTTP \d+: /, '').replace('no message', '');
      fake.fail({ method: 'POST', path: '/api/v1/orgs/idpbuilder/repos', status, message: apiMessage });
      const e = (await expectReject(runRepoSync(config('err', [], work), deps()))) as GitServerError;
      expect(e).toBeInstanceOf(GitServerError);
      expect([e.status, e.code, e.message]).toEqual([status, code, message]);
      expect(e.message).not.toContain(token);
    }
  });

  it('a user without write access cannot push: the git error is clean', async () => {
    fake.addUser('carol', 'carol-pw');
    const carolToken = fake.addToken('carol', 'ci', [...DEFAULT_TOKEN_SCOPES]);
    const admin = new GiteaClient({ baseURL: fake.baseURL, auth: { token } });
    await admin.ensureRepo('idpbuilder', { name: 'readonly', autoInit: true, defaultBranch: 'main' });
    kube.secrets.set('gitea/carol', { username: 'carol', token: carolToken });
    const e = await expectReject(
      runRepoSync(
        config('readonly', [{ type: 'Inline', files: { 'a.txt': 'a' } }], work, { credentialsSecretRef: { namespace: 'gitea', name: 'carol', key: 'token' } }),
        deps(),
      ),
    );
    expect(e).toBeInstanceOf(GitCommandError);
    expect(e.message).toMatch(/^git push failed: .*403/);
    expect(e.message).not.toContain(carolToken);
    expect(e.message).not.toContain(Buffer.from(`carol:${carolToken}`).toString('base64'));
  });

  it('rejects paths that leave their root or touch .git', async () => {
    const embedded = embeddedFixture();
    const cases: Array<[RepoSource, RegExp]> = [
      [{ type: 'Embedded', path: '../outside' }, /^sources\[0\]\.path must stay inside the repository: "\.\.\/outside"$/],
      [{ type: 'Embedded', path: 'escape' }, /^Embedded source "escape" escapes its root$/],
      [{ type: 'Embedded', path: '/etc' }, /^sources\[0\]\.path must be a relative path: "\/etc"$/],
      [{ type: 'Embedded', path: 'missing' }, /^Embedded source "missing" not found$/],
      [{ type: 'Embedded', path: 'argocd/install.yaml' }, /is not a directory$/],
      [{ type: 'Inline', files: { '../../etc/passwd': 'x' } }, /^sources\[0\]\.files\["\.\.\/\.\.\/etc\/passwd"\] must stay inside the repository/],
      [{ type: 'Inline', files: { '.git/config': 'x' } }, /must not touch \.git/],
      [{ type: 'Inline', files: { a: 'x' }, targetPath: '.git/hooks' }, /^sources\[0\]\.targetPath must not touch \.git: "\.git\/hooks"$/],
      [{ type: 'Git', url: `file://${srcRepo}`, path: '../..' }, /must stay inside the repository/],
    ];
    for (const [source, re] of cases) {
      const e = await expectReject(runRepoSync(config('paths', [source], embedded), deps()));
      expect(e).toBeInstanceOf(RepoSyncError);
      expect(e.message).toMatch(re);
    }
    // rejected before anything happened on the server
    expect(fake.repo('idpbuilder', 'paths')).toBeUndefined();
  });

  it('an unreachable Git source names the source, not credentials', async () => {
    const e = await expectReject(
      runRepoSync(config('badsrc', [{ type: 'Git', url: 'http://user:pw-123@127.0.0.1:1/x/y.git' }], work), deps()),
    );
    expect(e).toBeInstanceOf(GitCommandError);
    expect(e.message).toMatch(/^Git source http:\/\/\*\*\*@127\.0\.0\.1:1\/x\/y\.git: git clone failed: fatal: unable to access/);
    expect(e.message).not.toContain('pw-123');
  });

  it('unsupported flavors and malformed configs', async () => {
    await expect(runRepoSync({ ...config('x', [], work), flavor: 'github' }, { ...deps(), providers: { gitea: defaultProviders.gitea } })).rejects.toThrow(
      'git server flavor "github" is not supported',
    );
    expect(() => parseRepoSyncConfig({ ...config('x', [], work), sources: [{ type: 'Helm' }] })).toThrow('config.sources[0].type must be Embedded, Git, Inline or Local');
    expect(() => parseRepoSyncConfig({ ...config('x', [], work), repository: { name: 'x' } })).toThrow('config.repository.defaultBranch must be a non-empty string');
    expect(() => parseRepoSyncConfig({ ...config('x', [], work), apiEndpoint: 'gitea:3000' })).toThrow('config.apiEndpoint must be an http(s) URL');
    for (const b of ['a..b', 'x.lock', '-x', 'a b', 'a/', '.hidden', 'x:y']) {
      fake.requests.length = 0;
      await expect(runRepoSync(config('x', [], work, { repository: { name: 'badbranch', defaultBranch: b } }), deps())).rejects.toThrow(
        `config.repository.defaultBranch "${b}" is not a valid branch name`,
      );
      expect(fake.requests).toEqual([]); // rejected before any API call
    }
    expect(parseRepoSyncConfig(config('x', [], work, { repository: { name: 'x', defaultBranch: 'release/v1.2' } })).repository.defaultBranch).toBe('release/v1.2');
  });
});

describe('idpbuilder job repo-sync (CLI)', () => {
  let api: Server;
  let apiURL: string;
  const patches: Array<{ path: string; contentType: string; body: unknown }> = [];

  beforeAll(async () => {
    api = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if (req.method === 'GET' && req.url === '/api/v1/namespaces/gitea/secrets/gitea-credential') {
          const data = { username: Buffer.from(fake.adminUsername).toString('base64'), token: Buffer.from(token).toString('base64') };
          return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ kind: 'Secret', data }));
        }
        if (req.method === 'PATCH') {
          patches.push({ path: req.url ?? '', contentType: req.headers['content-type'] ?? '', body: JSON.parse(Buffer.concat(chunks).toString()) });
          return void res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
        }
        res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ kind: 'Status', message: `${req.url} not found`, reason: 'NotFound', code: 404 }));
      });
    });
    await new Promise<void>((r) => api.listen(0, '127.0.0.1', r));
    apiURL = `http://127.0.0.1:${(api.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => api.close(() => r())));

  it('prints one JSON line, annotates its Job, and exits 0; a failure is one error line and exit 1', async () => {
    const kc = join(work, 'cli-kubeconfig.yaml');
    writeFileSync(
      kc,
      `apiVersion: v1\nkind: Config\ncurrent-context: t\nclusters: [{name: c, cluster: {server: "${apiURL}"}}]\nusers: [{name: u, user: {token: kt}}]\ncontexts: [{name: t, context: {cluster: c, user: u}}]\n`,
    );
    const cfgFile = join(work, 'cli-config.json');
    writeFileSync(
      cfgFile,
      JSON.stringify(config('cli', [{ type: 'Inline', files: { 'hello.txt': 'hi\n' } }], work, { result: { jobNamespace: 'idpbuilder-system', jobName: 'rs-cli' } })),
    );
    const term = join(work, 'termination-log');
    writeFileSync(term, '');
    const out: string[] = [];
    const err: string[] = [];
    let code = -1;
    const io = { out: (s: string) => void out.push(s), err: (s: string) => void err.push(s), setExitCode: (c: number) => void (code = c), terminationLog: term };

    await jobCommand(io).parseAsync(['repo-sync', '--config', cfgFile, '--kubeconfig', kc], { from: 'user' });
    expect(code).toBe(0);
    expect(out).toHaveLength(1);
    const result = JSON.parse(out[0]);
    expect(result).toEqual({ commitSHA: expect.stringMatching(/^[0-9a-f]{40}$/), url: 'https://gitea.cnoe.localtest.me:8443/idpbuilder/cli', cloneURL: 'https://gitea.cnoe.localtest.me:8443/idpbuilder/cli.git', changed: true });
    expect(readFileSync(term, 'utf8')).toBe(out[0].trim());
    expect((await cloneTree('idpbuilder', 'cli')).tree).toEqual({ 'hello.txt': 'hi\n' });
    expect(patches).toHaveLength(1);
    expect(patches[0].path).toBe('/apis/batch/v1/namespaces/idpbuilder-system/jobs/rs-cli');
    expect(patches[0].contentType).toBe('application/merge-patch+json');
    const ann = (patches[0].body as { metadata: { annotations: Record<string, string> } }).metadata.annotations[RESULT_ANNOTATION];
    expect(JSON.parse(ann)).toMatchObject({ commitSHA: result.commitSHA, url: result.url, cloneURL: result.cloneURL });
    for (const line of err) expect(() => JSON.parse(line)).not.toThrow(); // logs are JSON lines
    expect(err.join('')).not.toContain(token);

    // failure: the Secret does not exist
    out.length = 0;
    err.length = 0;
    const bad = JSON.parse(readFileSync(cfgFile, 'utf8'));
    bad.credentialsSecretRef.name = 'missing';
    writeFileSync(cfgFile, JSON.stringify(bad));
    await jobCommand(io).parseAsync(['repo-sync', '--config', cfgFile, '--kubeconfig', kc], { from: 'user' });
    expect(code).toBe(1);
    expect(out).toEqual([]);
    expect(err.at(-1)).toBe('error: credentials Secret gitea/missing not found\n');
    expect(readFileSync(term, 'utf8')).toBe('credentials Secret gitea/missing not found');

    // failure: config file missing / not JSON
    await jobCommand(io).parseAsync(['repo-sync', '--config', join(work, 'nope.json'), '--kubeconfig', kc], { from: 'user' });
    expect(err.at(-1)).toBe(`error: cannot read config ${join(work, 'nope.json')} (ENOENT)\n`);
    expect(existsSync(join(work, 'nope.json'))).toBe(false);
  });

  it('a visibility the server does not apply: exit 1, the message names the setting, no token anywhere', async () => {
    await runRepoSync(config('cli-vis', [], work, { repository: { name: 'cli-vis', defaultBranch: 'main', private: false } }), deps());
    const kc = join(work, 'cli-kubeconfig-vis.yaml');
    writeFileSync(
      kc,
      `apiVersion: v1\nkind: Config\ncurrent-context: t\nclusters: [{name: c, cluster: {server: "${apiURL}"}}]\nusers: [{name: u, user: {token: kt}}]\ncontexts: [{name: t, context: {cluster: c, user: u}}]\n`,
    );
    const cfgFile = join(work, 'cli-vis.json');
    writeFileSync(cfgFile, JSON.stringify(config('cli-vis', [{ type: 'Inline', files: { 'secret.txt': 'x\n' } }], work, { repository: { name: 'cli-vis', defaultBranch: 'main', private: true } })));
    const term = join(work, 'termination-log-vis');
    writeFileSync(term, '');
    const out: string[] = [];
    const err: string[] = [];
    let code = -1;
    fake.ignoredEdits.add('private');
    fake.requests.length = 0;
    try {
      await jobCommand({ out: (s) => void out.push(s), err: (s) => void err.push(s), setExitCode: (c) => void (code = c), terminationLog: term }).parseAsync(
        ['repo-sync', '--config', cfgFile, '--kubeconfig', kc],
        { from: 'user' },
      );
    } finally {
      fake.ignoredEdits.clear();
    }
    expect(code).toBe(1);
    expect(out).toEqual([]);
    const message = 'repository idpbuilder/cli-vis: private is false after setting it to true: the server did not apply it';
    expect(err.at(-1)).toBe(`error: ${message}\n`);
    expect(readFileSync(term, 'utf8')).toBe(message);
    expect(err.join('')).not.toContain(token);
    expect(fake.repo('idpbuilder', 'cli-vis')!.private).toBe(false);
    expect(fake.requests.some((r) => r.path === '/idpbuilder/cli-vis.git/git-receive-pack' && r.method === 'POST' && r.user)).toBe(false);
  });
});
