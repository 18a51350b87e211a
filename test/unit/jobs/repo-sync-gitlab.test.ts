import { execFile } from 'node:child_process';
import { lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { GitServerError } from '../../../src/gitea/client.js';
import { GitCommandError, RepoSyncError, allProviders, runRepoSync, type JobLogger, type RepoSource, type RepoSyncConfig, type RepoSyncDeps } from '../../../src/jobs/repo-sync.js';
import { DEVELOPER, FakeGitLab, MAINTAINER, REPORTER, type GlGroup, type GlUser } from '../../fakes/gitlab.js';
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
const fake = new FakeGitLab();
let work: string;
let embedded: string;
let bot: GlUser;
let token: string;
let team: GlGroup;
let kube: MemKube;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'repo-sync-gitlab-'));
  embedded = join(work, 'embedded');
  mkdirSync(join(embedded, 'nginx'), { recursive: true });
  writeFileSync(join(embedded, 'nginx/values.yaml'), 'controller: {}\n');
  await fake.start();
  bot = fake.addUser('platform-bot');
  token = fake.addToken(bot, ['api']);
  const platform = fake.addGroup('platform', { visibility: 'internal', members: [[bot, MAINTAINER]] });
  team = fake.addGroup('team', { parent: platform, visibility: 'internal' });
});
afterAll(async () => {
  await fake.stop();
  rmSync(work, { recursive: true, force: true });
});
beforeEach(() => {
  kube = new MemKube();
  kube.secrets.set('idpbuilder-system/gitlab-token', { token });
  fake.clearFailures();
  fake.requests.length = 0;
});

function cfg(name: string, sources: RepoSource[], extra: Partial<RepoSyncConfig> = {}): RepoSyncConfig {
  return {
    flavor: 'gitlab',
    apiEndpoint: fake.apiURL, // the provider's internalEndpoint: <endpoint>/api/v4
    credentialsSecretRef: { namespace: 'idpbuilder-system', name: 'gitlab-token', key: 'token' },
    organization: 'platform/team',
    repository: { name, defaultBranch: 'main' },
    sources,
    embeddedRoot: embedded,
    ...extra,
  };
}

function deps(extra: Partial<RepoSyncDeps> = {}): RepoSyncDeps {
  return { kube, log, now: () => NOW, tmpDir: work, providers: allProviders, ...extra };
}

async function cloneTree(path: string, branch = 'main'): Promise<{ dir: string; tree: Record<string, string> }> {
  const dir = mkdtempSync(join(work, 'verify-'));
  const header = `Authorization: Basic ${Buffer.from(`oauth2:${token}`).toString('base64')}`;
  await git(['clone', '-q', '--branch', branch, `${fake.url}/${path}.git`, dir], undefined, header);
  return { dir, tree: readTree(dir) };
}

const rejection = (p: Promise<unknown>): Promise<Error> => rejectionOf(p, Error);

describe('runRepoSync on GitLab', () => {
  it('creates the project in the (nested) group with the provider defaults and pushes the sources as oauth2', async () => {
    const config = cfg('svc', [{ type: 'Embedded', path: 'nginx' }, { type: 'Inline', files: { 'ci/.keep': '' } }], {
      repository: { name: 'svc', defaultBranch: 'develop', description: 'a service' },
      repositoryDefaults: { visibility: 'internal', cicdEnabled: false },
      result: { jobNamespace: 'idpbuilder-system', jobName: 'svc-sync' },
    });
    const r = await runRepoSync(config, deps());
    expect(r).toEqual({ commitSHA: expect.stringMatching(/^[0-9a-f]{40}$/), url: `${fake.url}/platform/team/svc`, cloneURL: `${fake.url}/platform/team/svc.git`, changed: true });
    expect(fake.project('platform/team/svc')).toMatchObject({ visibility: 'internal', description: 'a service', defaultBranch: 'develop', buildsAccessLevel: 'disabled', initializedWithReadme: false, groupId: team.id });
    const { dir, tree } = await cloneTree('platform/team/svc', 'develop');
    expect(tree).toEqual({ 'ci/.keep': '', 'values.yaml': 'controller: {}\n' });
    expect((await git(['rev-parse', 'HEAD'], dir)).trim()).toBe(r.commitSHA);
    expect(fake.requests.some((x) => x.path === '/platform/team/svc.git/git-receive-pack' && x.auth === 'basic' && x.user === 'platform-bot')).toBe(true);
    expect(kube.annotations.map((a) => a.name)).toEqual(['svc-sync']);

    fake.requests.length = 0;
    expect(await runRepoSync(config, deps())).toEqual({ ...r, changed: false });
    expect(fake.requests.filter((x) => x.method === 'POST' && !x.path.endsWith('git-upload-pack'))).toEqual([]);
  });

  it('initialize_with_readme: the sync builds on the README commit; visibility never exceeds the group', async () => {
    const r = await runRepoSync(cfg('withreadme', [{ type: 'Inline', files: { 'a.txt': 'a\n' } }], { repositoryDefaults: { initializeWithReadme: true, visibility: 'public' } }), deps());
    expect(r.changed).toBe(true);
    expect(fake.project('platform/team/withreadme')).toMatchObject({ initializedWithReadme: true, visibility: 'internal' });
    const { dir, tree } = await cloneTree('platform/team/withreadme');
    // the README of initialize_with_readme was not written by the sync: it stays
    expect(tree).toEqual({ 'README.md': '# withreadme\n', 'a.txt': 'a\n' });
    expect((await git(['log', '--format=%s'], dir)).trim().split('\n')).toEqual(['Sync from idpbuilder', 'Initial commit']);
  });

  it('failures: 401, 403 (read-only token), 404 (group), 429, and a push refused for a Reporter', async () => {
    kube.secrets.set('idpbuilder-system/bad', { token: 'glpat-nope' });
    const u = (await rejection(runRepoSync(cfg('x1', [], { credentialsSecretRef: { namespace: 'idpbuilder-system', name: 'bad', key: 'token' } }), deps()))) as GitServerError;
    expect(u).toMatchObject({ code: 'Unauthorized', message: 'GitLab: get project platform/team/x1 failed with HTTP 401: 401 Unauthorized' });

    kube.secrets.set('idpbuilder-system/ro', { token: fake.addToken(bot, ['read_api']) });
    const f = (await rejection(runRepoSync(cfg('x2', [], { credentialsSecretRef: { namespace: 'idpbuilder-system', name: 'ro', key: 'token' } }), deps()))) as GitServerError;
    expect(f).toMatchObject({ code: 'Forbidden' });
    expect(f.message).toBe('GitLab: create project platform/team/x2 failed with HTTP 403: insufficient_scope: The request requires higher privileges than provided by the access token.');

    const n = (await rejection(runRepoSync(cfg('x3', [], { organization: 'platform/ghost' }), deps()))) as GitServerError;
    expect(n).toMatchObject({ status: 404, code: 'NotFound', message: 'GitLab: cannot create project platform/ghost/x3: group platform/ghost does not exist (or the token cannot see it)' });

    fake.fail({ path: '/projects/platform%2Fteam%2Fx4', status: 429, text: 'Retry later\n', headers: { 'retry-after': '10' }, times: 1 });
    expect(await rejection(runRepoSync(cfg('x4', []), deps()))).toMatchObject({ code: 'RateLimited', message: 'GitLab: get project platform/team/x4 failed with HTTP 429: Retry later (retry after 10s)' });

    await runRepoSync(cfg('shared', []), deps());
    const reporter = fake.addUser('reporter');
    team.members.set(reporter.id, REPORTER);
    const rt = fake.addToken(reporter, ['api']);
    kube.secrets.set('idpbuilder-system/reporter', { token: rt });
    const p = (await rejection(
      runRepoSync(cfg('shared', [{ type: 'Inline', files: { 'b.txt': 'b' } }], { credentialsSecretRef: { namespace: 'idpbuilder-system', name: 'reporter', key: 'token' } }), deps()),
    )) as GitCommandError;
    expect(p).toBeInstanceOf(GitCommandError);
    expect(p.message).toMatch(/^git push failed: remote: You are not allowed to push code to this project\.; fatal: unable to access '.*': The requested URL returned error: 403$/);
    expect(p.output).not.toContain(rt);
    team.members.set(reporter.id, DEVELOPER);
  });

  it('a new defaultBranch starts from the old head and becomes the default through PUT /projects (read back)', async () => {
    const first = await runRepoSync(cfg('gl-branch', [{ type: 'Inline', files: { 'a.txt': '1\n' } }]), deps());
    fake.requests.length = 0;
    const r = await runRepoSync(cfg('gl-branch', [{ type: 'Inline', files: { 'a.txt': '1\n' } }], { repository: { name: 'gl-branch', defaultBranch: 'develop' } }), deps());
    expect(r).toMatchObject({ commitSHA: first.commitSHA, changed: true });
    expect(fake.project('platform/team/gl-branch')!.defaultBranch).toBe('develop');
    expect(fake.requests.filter((x) => x.method === 'PUT').map((x) => x.body)).toEqual([{ default_branch: 'develop' }]);
    const header = `Authorization: Basic ${Buffer.from(`oauth2:${token}`).toString('base64')}`;
    expect((await git(['ls-remote', '--symref', `${fake.url}/platform/team/gl-branch.git`, 'HEAD'], undefined, header)).trim()).toBe(`ref: refs/heads/develop\tHEAD\n${r.commitSHA}\tHEAD`);

    fake.ignoredEdits.add('default_branch');
    try {
      const e = await rejection(runRepoSync(cfg('gl-branch', [], { repository: { name: 'gl-branch', defaultBranch: 'trunk' } }), deps()));
      expect(e).toBeInstanceOf(RepoSyncError);
      expect(e.message).toBe('repository platform/team/gl-branch: default_branch is develop after setting it to trunk: the server did not apply it');
    } finally {
      fake.ignoredEdits.clear();
    }
  });

  it('private: false → true: visibility applied with PUT /projects and read back (capped at the group\'s); refused → the sync fails naming visibility', async () => {
    await runRepoSync(cfg('gl-vis', [], { repository: { name: 'gl-vis', defaultBranch: 'main', private: false } }), deps());
    expect(fake.project('platform/team/gl-vis')!.visibility).toBe('internal'); // public, capped at the internal group
    fake.requests.length = 0;
    await runRepoSync(cfg('gl-vis', [], { repository: { name: 'gl-vis', defaultBranch: 'main', private: true } }), deps());
    expect(fake.project('platform/team/gl-vis')!.visibility).toBe('private');
    expect(fake.requests.filter((x) => x.method === 'PUT').map((x) => x.body)).toEqual([{ visibility: 'private' }]);
    // false again: back to what the group allows, no more
    await runRepoSync(cfg('gl-vis', [], { repository: { name: 'gl-vis', defaultBranch: 'main', private: false } }), deps());
    expect(fake.project('platform/team/gl-vis')!.visibility).toBe('internal');

    fake.fail({ method: 'PUT', path: /^\/projects\/\d+$/, status: 403, message: '403 Forbidden' });
    const e = await rejection(runRepoSync(cfg('gl-vis', [], { repository: { name: 'gl-vis', defaultBranch: 'main', private: true } }), deps()));
    expect(e).toBeInstanceOf(RepoSyncError);
    expect(e.message).toMatch(/^repository platform\/team\/gl-vis: cannot set visibility to private: GitLab: update project \d+ failed with HTTP 403: 403 Forbidden$/);
    expect(fake.project('platform/team/gl-vis')!.visibility).toBe('internal');
  });

  it('a CA Secret is read and must exist', async () => {
    kube.secrets.set('idpbuilder-system/gitlab-ca', { 'ca.crt': '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n' });
    const r = await runRepoSync(cfg('with-ca', [{ type: 'Inline', files: { 'c.txt': 'c\n' } }], { caSecretRef: { namespace: 'idpbuilder-system', name: 'gitlab-ca', key: 'ca.crt' } }), deps());
    expect(r.changed).toBe(true); // http here: the CA is only used for https
    const e = await rejection(runRepoSync(cfg('with-ca', [], { caSecretRef: { namespace: 'idpbuilder-system', name: 'missing-ca', key: 'ca.crt' } }), deps()));
    expect(e).toBeInstanceOf(RepoSyncError);
    expect(e.message).toBe('CA Secret idpbuilder-system/missing-ca not found');
  });
});
