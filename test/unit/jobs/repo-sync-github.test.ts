import { execFile } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { GitServerError } from '../../../src/gitea/client.js';
import { mintInstallationToken } from '../../../src/github/client.js';
import { jobCommand } from '../../../src/jobs/cli.js';
import {
  GitCommandError,
  RESULT_ANNOTATION,
  RepoSyncError,
  allProviders,
  parseRepoSyncConfig,
  repoVisibility,
  runRepoSync,
  type JobLogger,
  type RepoSource,
  type RepoSyncConfig,
  type RepoSyncDeps,
} from '../../../src/jobs/repo-sync.js';
import { FakeGitHub } from '../../fakes/github.js';
import { rejectionOf } from '../../support/rejection.js';

const execFileP = promisify(execFile);
const GIT_ENV = { PATH: process.env.PATH, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null', GIT_TERMINAL_PROMPT: '0' };
const NOW = new Date('2026-03-01T12:00:00Z');

async function git(args: string[], cwd?: string, header?: string): Promise<string> {
  const pre = header ? ['-c', `http.extraHeader=${header}`] : [];
  return (await execFileP('git', [...pre, ...args], { cwd, env: GIT_ENV })).stdout;
}

function readTree(dir: string, prefix = ''): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of readdirSync(join(dir, prefix)).sort()) {
    if (name === '.git') continue;
    if (!prefix && name === '.idpbuilder') continue; // the sync's ownership records: asserted on their own
    const rel = prefix ? `${prefix}/${name}` : name;
    if (lstatSync(join(dir, rel)).isDirectory()) Object.assign(out, readTree(dir, rel));
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

const log: JobLogger = { info: () => undefined, warn: () => undefined };
const fake = new FakeGitHub({ now: () => NOW });
let work: string;
let embedded: string;
let token: string;
let kube: MemKube;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'repo-sync-github-'));
  embedded = join(work, 'embedded');
  mkdirSync(join(embedded, 'argocd/nested'), { recursive: true });
  writeFileSync(join(embedded, 'argocd/install.yaml'), 'kind: Namespace\n');
  writeFileSync(join(embedded, 'argocd/nested/x.txt'), 'x\n');
  await fake.start();
  fake.addOrg('acme', { admins: ['platform-bot'] });
  fake.addTeam('acme', 'developers');
  fake.addTeam('acme', 'Platform Admins');
  token = fake.addToken('platform-bot');
});
afterAll(async () => {
  await fake.stop();
  rmSync(work, { recursive: true, force: true });
});
beforeEach(() => {
  kube = new MemKube();
  kube.secrets.set('idpbuilder-system/github-credentials', { token });
  fake.clearFailures();
  fake.requests.length = 0;
  fake.newRepoBranch = 'main';
});

function cfg(name: string, sources: RepoSource[], extra: Partial<RepoSyncConfig> = {}): RepoSyncConfig {
  return {
    flavor: 'github',
    apiEndpoint: fake.apiURL,
    credentialsSecretRef: { namespace: 'idpbuilder-system', name: 'github-credentials', key: 'token' },
    organization: 'acme',
    repository: { name, defaultBranch: 'main', description: `${name} repo` },
    sources,
    embeddedRoot: embedded,
    ...extra,
  };
}

function deps(extra: Partial<RepoSyncDeps> = {}): RepoSyncDeps {
  return { kube, log, now: () => NOW, tmpDir: work, providers: allProviders, ...extra };
}

const basicHeader = (user: string, pass: string) => `Authorization: Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;

async function cloneTree(repo: string, branch = 'main', secret = token): Promise<{ dir: string; tree: Record<string, string> }> {
  const dir = mkdtempSync(join(work, 'verify-'));
  await git(['clone', '-q', '--branch', branch, `${fake.webURL}/acme/${repo}.git`, dir], undefined, basicHeader('x-access-token', secret));
  return { dir, tree: readTree(dir) };
}

describe('runRepoSync on GitHub', () => {
  it('creates the repository with the provider defaults, grants the teams, pushes the sources as x-access-token', async () => {
    const sources: RepoSource[] = [
      { type: 'Embedded', path: 'argocd' },
      { type: 'Inline', files: { 'README.md': '# app1\n' }, targetPath: 'docs' },
    ];
    const config = cfg('app1', sources, {
      repositoryDefaults: { visibility: 'private', allowSquashMerge: true, allowMergeCommit: false, allowRebaseMerge: false },
      teams: [
        { name: 'developers', permission: 'push' },
        { name: 'Platform Admins', permission: 'admin' },
      ],
      result: { jobNamespace: 'idpbuilder-system', jobName: 'app1-sync-1' },
    });
    const r = await runRepoSync(config, deps());
    expect(r).toEqual({ commitSHA: expect.stringMatching(/^[0-9a-f]{40}$/), url: `${fake.webURL}/acme/app1`, cloneURL: `${fake.webURL}/acme/app1.git`, changed: true });
    expect(fake.repo('acme', 'app1')).toMatchObject({ visibility: 'private', description: 'app1 repo', allowSquashMerge: true, allowMergeCommit: false, allowRebaseMerge: false });
    expect(fake.org('acme')!.teams.get('developers')!.repos.get('acme/app1')).toBe('push');
    expect(fake.org('acme')!.teams.get('platform-admins')!.repos.get('acme/app1')).toBe('admin');
    const { dir, tree } = await cloneTree('app1');
    expect(tree).toEqual({ 'docs/README.md': '# app1\n', 'install.yaml': 'kind: Namespace\n', 'nested/x.txt': 'x\n' });
    expect((await git(['rev-parse', 'HEAD'], dir)).trim()).toBe(r.commitSHA);
    expect(fake.requests.some((x) => x.path === '/acme/app1.git/git-receive-pack' && x.auth === 'basic' && x.who === 'platform-bot')).toBe(true);
    expect(JSON.parse(kube.annotations[0].annotations[RESULT_ANNOTATION]!)).toEqual({ commitSHA: r.commitSHA, syncedAt: '2026-03-01T12:00:00.000Z', url: r.url, cloneURL: r.cloneURL });

    // unchanged: no push; the team grants are re-applied (idempotent)
    fake.requests.length = 0;
    expect(await runRepoSync(config, deps())).toEqual({ ...r, changed: false });
    expect(fake.requests.some((x) => x.path.endsWith('git-receive-pack'))).toBe(false);
    expect(fake.requests.filter((x) => x.method === 'PUT')).toHaveLength(2);
  });

  it('an auto-initialized repository: the first branch is renamed to the default branch and the sync builds on the README commit', async () => {
    fake.newRepoBranch = 'master';
    const r = await runRepoSync(cfg('autoinit', [{ type: 'Inline', files: { 'a.txt': 'a\n' } }], { repositoryDefaults: { autoInit: true } }), deps());
    expect(r.changed).toBe(true);
    expect(fake.repo('acme', 'autoinit')!.defaultBranch).toBe('main');
    const { dir, tree } = await cloneTree('autoinit');
    // the README of auto-init was not written by the sync: it stays
    expect(tree).toEqual({ 'README.md': '# autoinit\nautoinit repo\n', 'a.txt': 'a\n' });
    expect((await git(['log', '--format=%s'], dir)).trim().split('\n')).toEqual(['Sync from idpbuilder', 'Initial commit']);
  });

  it('visibility: the repository says private, else the provider default, else private:false means public', async () => {
    expect(repoVisibility({ name: 'x', defaultBranch: 'main', private: true }, { visibility: 'public' })).toBe('private');
    expect(repoVisibility({ name: 'x', defaultBranch: 'main', private: false }, { visibility: 'internal' })).toBe('internal');
    expect(repoVisibility({ name: 'x', defaultBranch: 'main', private: false }, undefined)).toBe('public');
    expect(repoVisibility({ name: 'x', defaultBranch: 'main' }, {})).toBe('private');
    await runRepoSync(cfg('public-one', [], { repository: { name: 'public-one', defaultBranch: 'main', private: false } }), deps());
    expect(fake.repo('acme', 'public-one')!.visibility).toBe('public');
  });

  it('pushes with a GitHub App installation token', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const app = fake.addApp(publicKey.export({ type: 'spki', format: 'pem' }).toString(), ['acme']);
    const minted = await mintInstallationToken({ baseURL: fake.apiURL, appID: String(app.id), privateKey: privateKey.export({ type: 'pkcs1', format: 'pem' }).toString(), organization: 'acme', now: () => NOW });
    kube.secrets.set('idpbuilder-system/github-token', { token: minted.token, username: 'x-access-token' });
    const r = await runRepoSync(
      cfg('via-app', [{ type: 'Inline', files: { 'f.txt': 'app\n' } }], { credentialsSecretRef: { namespace: 'idpbuilder-system', name: 'github-token', key: 'token' } }),
      deps(),
    );
    expect(r.changed).toBe(true);
    expect((await cloneTree('via-app', 'main', minted.token)).tree).toEqual({ 'f.txt': 'app\n' });
    expect(fake.requests.some((x) => x.path === '/acme/via-app.git/git-receive-pack' && x.who === `installation:${minted.installationID}`)).toBe(true);
  });

  it('failures surface as GitServerErrors without the token: 401, 403, 404 (team), 422, 429', async () => {
    const expectCode = async (p: Promise<unknown>, code: string, message: string) => {
      const e = await rejectionOf(p, GitServerError);
      expect(e.code).toBe(code);
      expect(e.message).toBe(message);
      expect(e.message).not.toContain(token);
    };
    kube.secrets.set('idpbuilder-system/bad', { token: 'ghp_nope' });
    await expectCode(
      runRepoSync(cfg('e1', [], { credentialsSecretRef: { namespace: 'idpbuilder-system', name: 'bad', key: 'token' } }), deps()),
      'Unauthorized',
      'GitHub: get repository acme/e1 failed with HTTP 401: Bad credentials',
    );
    kube.secrets.set('idpbuilder-system/member', { token: fake.addToken('someone') });
    await expectCode(
      runRepoSync(cfg('e2', [], { credentialsSecretRef: { namespace: 'idpbuilder-system', name: 'member', key: 'token' } }), deps()),
      'Forbidden',
      'GitHub: create repository acme/e2 failed with HTTP 403: You need admin access to the organization before adding a repository to it.',
    );
    await expectCode(runRepoSync(cfg('e3', [], { teams: [{ name: 'ghosts', permission: 'pull' }] }), deps()), 'NotFound', 'GitHub: grant team ghosts pull on acme/e3 failed with HTTP 404: Not Found');
    fake.fail({ method: 'POST', path: '/orgs/acme/repos', status: 422, message: 'Repository creation failed.', times: 1 });
    await expectCode(runRepoSync(cfg('e4', []), deps()), 'Invalid', 'GitHub: create repository acme/e4 failed with HTTP 422: Repository creation failed.');
    fake.fail({ path: '/repos/acme/e5', status: 429, message: 'Too Many Requests', headers: { 'retry-after': '7' }, times: 1 });
    await expectCode(runRepoSync(cfg('e5', []), deps()), 'RateLimited', 'GitHub: get repository acme/e5 failed with HTTP 429: Too Many Requests (retry after 7s)');
  });

  it('a token that cannot push: the git error is clean', async () => {
    await runRepoSync(cfg('readable', [], { repository: { name: 'readable', defaultBranch: 'main', private: false } }), deps());
    kube.secrets.set('idpbuilder-system/reader', { token: fake.addToken('reader') });
    const e = (await runRepoSync(
      cfg('readable', [{ type: 'Inline', files: { 'z.txt': 'z' } }], { credentialsSecretRef: { namespace: 'idpbuilder-system', name: 'reader', key: 'token' } }),
      deps(),
    ).then(
      () => undefined,
      (x: unknown) => x,
    )) as GitCommandError;
    expect(e).toBeInstanceOf(GitCommandError);
    expect(e.message).toMatch(/^git push failed: remote: Permission to acme\/readable\.git denied\.; fatal: unable to access '.*': The requested URL returned error: 403$/);
    expect(e.output).not.toContain(kube.secrets.get('idpbuilder-system/reader')!.token);
  });

  it('parses repositoryDefaults and teams; a defaultBranch default fills a missing repository.defaultBranch', () => {
    const c = parseRepoSyncConfig({
      ...cfg('p', []),
      repository: { name: 'p' },
      repositoryDefaults: { visibility: 'internal', defaultBranch: 'trunk', autoInit: true, allowSquashMerge: false },
      teams: [{ name: 't', permission: 'maintain' }],
    });
    expect(c.repository.defaultBranch).toBe('trunk');
    expect(c.repositoryDefaults).toEqual({ visibility: 'internal', defaultBranch: 'trunk', autoInit: true, allowSquashMerge: false });
    expect(c.teams).toEqual([{ name: 't', permission: 'maintain' }]);
    expect(() => parseRepoSyncConfig({ ...cfg('p', []), repositoryDefaults: { visibility: 'secret' } })).toThrow('config.repositoryDefaults.visibility must be public, private or internal');
    expect(() => parseRepoSyncConfig({ ...cfg('p', []), teams: [{ name: 't', permission: 'write' }] })).toThrow('config.teams[0].permission must be one of pull, triage, push, maintain, admin');
  });
});

describe('runRepoSync on GitHub: settings after creation, owners, concurrent pushes', () => {
  const heads = async (repo: string) => (await git(['ls-remote', '--symref', `${fake.webURL}/acme/${repo}.git`, 'HEAD'], undefined, basicHeader('x-access-token', token))).trim();

  it('a new defaultBranch starts from the old head and becomes the default through PATCH /repos (read back)', async () => {
    const first = await runRepoSync(cfg('gh-branch', [{ type: 'Inline', files: { 'a.txt': '1\n' } }]), deps());
    fake.requests.length = 0;
    const r = await runRepoSync(cfg('gh-branch', [{ type: 'Inline', files: { 'a.txt': '2\n' } }], { repository: { name: 'gh-branch', defaultBranch: 'develop' } }), deps());
    expect(fake.repo('acme', 'gh-branch')!.defaultBranch).toBe('develop');
    expect(fake.requests.filter((x) => x.method === 'PATCH').map((x) => [x.path, x.body])).toEqual([['/repos/acme/gh-branch', { default_branch: 'develop' }]]);
    expect(await heads('gh-branch')).toBe(`ref: refs/heads/develop\tHEAD\n${r.commitSHA}\tHEAD`);
    const { dir } = await cloneTree('gh-branch', 'develop');
    expect((await git(['rev-parse', 'HEAD^'], dir)).trim()).toBe(first.commitSHA);
  });

  it('private: false → true: visibility applied with PATCH /repos and read back; not applied → the sync fails naming visibility', async () => {
    await runRepoSync(cfg('gh-vis', [], { repository: { name: 'gh-vis', defaultBranch: 'main', private: false } }), deps());
    expect(fake.repo('acme', 'gh-vis')!.visibility).toBe('public');
    fake.requests.length = 0;
    await runRepoSync(cfg('gh-vis', [], { repository: { name: 'gh-vis', defaultBranch: 'main', private: true } }), deps());
    expect(fake.repo('acme', 'gh-vis')!.visibility).toBe('private');
    expect(fake.requests.find((x) => x.method === 'PATCH')!.body).toEqual({ private: true, visibility: 'private' });
    expect(fake.requests.filter((x) => x.path === '/repos/acme/gh-vis').map((x) => x.method)).toEqual(['GET', 'PATCH', 'GET']);

    await runRepoSync(cfg('gh-vis', [], { repository: { name: 'gh-vis', defaultBranch: 'main', private: false } }), deps());
    fake.ignoredEdits.add('visibility');
    try {
      const e = await runRepoSync(cfg('gh-vis', [], { repository: { name: 'gh-vis', defaultBranch: 'main', private: true } }), deps()).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(RepoSyncError);
      expect((e as Error).message).toBe('repository acme/gh-vis: visibility is public after setting it to private: the server did not apply it');
    } finally {
      fake.ignoredEdits.clear();
    }
    fake.fail({ method: 'PATCH', path: '/repos/acme/gh-vis', status: 403, message: 'Must have admin rights to Repository.' });
    const f = await runRepoSync(cfg('gh-vis', [], { repository: { name: 'gh-vis', defaultBranch: 'main', private: true } }), deps()).catch((x: unknown) => x);
    expect((f as Error).message).toBe('repository acme/gh-vis: cannot set visibility to private: GitHub: update repository acme/gh-vis failed with HTTP 403: Must have admin rights to Repository.');
  });

  it('a misspelled organization: GET /orgs answers 404 and the error says the organization does not exist', async () => {
    const e = (await runRepoSync(cfg('x', [], { organization: 'acme-typo' }), deps()).catch((x: unknown) => x)) as GitServerError;
    expect(e).toBeInstanceOf(GitServerError);
    expect([e.status, e.code, e.message]).toEqual([404, 'NotFound', 'GitHub: cannot create repository acme-typo/x: organization acme-typo does not exist (or the token cannot see it)']);
    expect(fake.requests.map((x) => `${x.method} ${x.path}`)).toEqual(['GET /repos/acme-typo/x', 'GET /orgs/acme-typo']);
  });

  it('a push that loses a ref race is retried', async () => {
    await runRepoSync(cfg('gh-race', [{ type: 'Inline', files: { 'a.txt': '1\n' } }]), deps());
    let pushes = 0;
    fake.beforeReceivePack = async (r) => {
      if (++pushes > 1) return;
      const other = mkdtempSync(join(work, 'other-'));
      await git(['clone', '-q', r.dir, other]);
      writeFileSync(join(other, 'theirs.txt'), 'theirs\n');
      await git(['add', '-A'], other);
      await git(['-c', 'user.name=Other', '-c', 'user.email=other@example.com', 'commit', '-q', '-m', 'theirs'], other);
      await git(['push', '-q', 'origin', 'HEAD:refs/heads/main'], other);
    };
    try {
      const r = await runRepoSync(cfg('gh-race', [{ type: 'Inline', files: { 'a.txt': '2\n' } }]), deps({ sleep: async () => undefined }));
      expect(pushes).toBe(2);
      const { dir, tree } = await cloneTree('gh-race');
      expect(tree).toEqual({ 'a.txt': '2\n', 'theirs.txt': 'theirs\n' });
      expect((await git(['rev-parse', 'HEAD'], dir)).trim()).toBe(r.commitSHA);
    } finally {
      fake.beforeReceivePack = undefined;
    }
  });
});

describe('idpbuilder job repo-sync (CLI) with flavor github', () => {
  let api: Server;
  let apiURL: string;
  const patches: Array<{ path: string; body: { metadata: { annotations: Record<string, string> } } }> = [];

  beforeAll(async () => {
    api = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if (req.method === 'GET' && req.url === '/api/v1/namespaces/idpbuilder-system/secrets/github-credentials') {
          return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ kind: 'Secret', data: { token: Buffer.from(token).toString('base64') } }));
        }
        if (req.method === 'PATCH') {
          patches.push({ path: req.url ?? '', body: JSON.parse(Buffer.concat(chunks).toString()) });
          return void res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
        }
        res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ kind: 'Status', message: 'not found', reason: 'NotFound', code: 404 }));
      });
    });
    await new Promise<void>((r) => api.listen(0, '127.0.0.1', r));
    apiURL = `http://127.0.0.1:${(api.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => api.close(() => r())));

  it('runs the github flavor, and without config.result records the result on the Job named by its env', async () => {
    const kc = join(work, 'kubeconfig.yaml');
    writeFileSync(kc, `apiVersion: v1\nkind: Config\ncurrent-context: t\nclusters: [{name: c, cluster: {server: "${apiURL}"}}]\nusers: [{name: u, user: {token: kt}}]\ncontexts: [{name: t, context: {cluster: c, user: u}}]\n`);
    const cfgFile = join(work, 'cli-config.json');
    writeFileSync(cfgFile, JSON.stringify(cfg('cli', [{ type: 'Inline', files: { 'hello.txt': 'hi\n' } }])));
    const out: string[] = [];
    let code = -1;
    const io = {
      out: (s: string) => void out.push(s),
      err: () => undefined,
      setExitCode: (c: number) => void (code = c),
      terminationLog: join(work, 'none'),
      env: { JOB_NAMESPACE: 'idpbuilder-system', JOB_NAME: 'cli-sync-abc' },
    };
    await jobCommand(io).parseAsync(['repo-sync', '--config', cfgFile, '--kubeconfig', kc], { from: 'user' });
    expect(code).toBe(0);
    expect(JSON.parse(out[0])).toMatchObject({ url: `${fake.webURL}/acme/cli`, changed: true });
    expect(patches.map((p) => p.path)).toEqual(['/apis/batch/v1/namespaces/idpbuilder-system/jobs/cli-sync-abc']);
    expect((await cloneTree('cli')).tree).toEqual({ 'hello.txt': 'hi\n' });
  });
});
