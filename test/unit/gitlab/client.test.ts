import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { GitServerError } from '../../../src/gitea/client.js';
import { GitLabClient, gitlabAPIBase } from '../../../src/gitlab/client.js';
import { FakeGitLab, MAINTAINER, REPORTER, type GlGroup, type GlUser } from '../../fakes/gitlab.js';
import { rejectionOf } from '../../support/rejection.js';

const rejection = (p: Promise<unknown>): Promise<GitServerError> => rejectionOf(p, GitServerError);

function hasOpenSSL(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('GitLabClient against the fake GitLab', () => {
  const fake = new FakeGitLab();
  let owner: GlUser;
  let token: string;
  let platform: GlGroup;
  let gl: GitLabClient;

  beforeAll(async () => {
    await fake.start();
    owner = fake.addUser('platform-bot');
    token = fake.addToken(owner, ['api']);
    platform = fake.addGroup('platform', { visibility: 'internal', members: [[owner, MAINTAINER]] });
    fake.addGroup('team', { parent: platform });
    gl = new GitLabClient({ baseURL: fake.url, token });
  });
  afterAll(() => fake.stop());
  afterEach(() => {
    fake.clearFailures();
    fake.requests.length = 0;
  });

  it('the API base is <instance>/api/v4', () => {
    expect(gitlabAPIBase('https://gitlab.example.com/')).toBe('https://gitlab.example.com/api/v4');
    expect(gitlabAPIBase('https://example.com/gitlab/api/v4')).toBe('https://example.com/gitlab/api/v4');
    expect(gl.baseURL).toBe(fake.apiURL);
  });

  it('getGroup by URL-encoded full path, with PRIVATE-TOKEN', async () => {
    const g = await gl.getGroup('platform/team');
    expect(g).toEqual({ id: expect.any(Number), name: 'team', path: 'team', fullPath: 'platform/team', visibility: 'private', webURL: `${fake.url}/groups/platform/team`, parentID: platform.id });
    expect(fake.requests).toEqual([{ method: 'GET', path: '/groups/platform%2Fteam', query: 'with_projects=false', auth: 'token', user: 'platform-bot', header: 'private-token' }]);
  });

  describe('errors are GitServerErrors with a code and a clean message', () => {
    it('404 NotFound, 401 Unauthorized', async () => {
      const e = await rejection(gl.getGroup('nope'));
      expect(e).toMatchObject({ status: 404, code: 'NotFound', message: 'GitLab: get group nope failed with HTTP 404: 404 Group Not Found' });
      expect(await gl.findGroup('nope')).toBeUndefined();
      const bad = new GitLabClient({ baseURL: fake.url, token: 'glpat-wrong' });
      const u = await rejection(bad.getGroup('platform'));
      expect(u).toMatchObject({ status: 401, code: 'Unauthorized', message: 'GitLab: get group platform failed with HTTP 401: 401 Unauthorized' });
      expect(u.message).not.toContain('glpat-wrong');
    });

    it('403 Forbidden: a read-only token, or too low an access level', async () => {
      const ro = new GitLabClient({ baseURL: fake.url, token: fake.addToken(owner, ['read_api']) });
      const e = await rejection(ro.ensureSubgroup(await ro.getGroup('platform'), 'x'));
      expect(e).toMatchObject({ status: 403, code: 'Forbidden' });
      expect(e.message).toBe('GitLab: create group platform/x failed with HTTP 403: insufficient_scope: The request requires higher privileges than provided by the access token.');
      const reporter = fake.addUser('reporter');
      platform.members.set(reporter.id, REPORTER);
      const low = new GitLabClient({ baseURL: fake.url, token: fake.addToken(reporter) });
      const f = await rejection(low.createProject(platform.id, { name: 'p' }, 'platform'));
      expect(f).toMatchObject({ status: 403, code: 'Forbidden', message: 'GitLab: create project platform/p failed with HTTP 403: 403 Forbidden' });
    });

    it('422 Invalid, 429 RateLimited (plain-text body, Retry-After), 500 ServerError, Network', async () => {
      fake.fail({ method: 'POST', path: '/projects', status: 422, message: { base: ['Project namespace is invalid'] }, times: 1 });
      expect(await rejection(gl.createProject(platform.id, { name: 'q' }, 'platform'))).toMatchObject({
        status: 422,
        code: 'Invalid',
        message: 'GitLab: create project platform/q failed with HTTP 422: base Project namespace is invalid',
      });
      fake.fail({ path: '/groups/platform', status: 429, text: 'Retry later\n', headers: { 'retry-after': '30' }, times: 1 });
      expect(await rejection(gl.getGroup('platform'))).toMatchObject({ status: 429, code: 'RateLimited', message: 'GitLab: get group platform failed with HTTP 429: Retry later (retry after 30s)' });
      fake.fail({ path: '/groups/platform', status: 500, message: '500 Internal Server Error', times: 1 });
      expect(await rejection(gl.getGroup('platform'))).toMatchObject({ status: 500, code: 'ServerError' });
      const down = new GitLabClient({ baseURL: 'http://127.0.0.1:1', token });
      expect(await rejection(down.getGroup('platform'))).toMatchObject({ status: 0, code: 'Network', message: 'GitLab: get group platform failed: cannot reach http://127.0.0.1:1/api/v4 (ECONNREFUSED)' });
    });

    it('400 on a taken path is Invalid with the field messages', async () => {
      await gl.createProject(platform.id, { name: 'taken' }, 'platform');
      const e = await rejection(gl.createProject(platform.id, { name: 'taken' }, 'platform'));
      expect(e).toMatchObject({ status: 400, code: 'Invalid', message: 'GitLab: create project platform/taken failed with HTTP 400: name has already been taken; path has already been taken' });
    });
  });

  it('ensureSubgroup creates nested levels once, with the parent visibility at most', async () => {
    const parent = await gl.getGroup('platform');
    const r = await gl.ensureSubgroup(parent, 'apps/frontend', { description: 'Frontend apps', visibility: 'public' });
    expect(r).toMatchObject({ fullPath: 'platform/apps/frontend', visibility: 'internal', created: true });
    const posts = fake.requests.filter((x) => x.method === 'POST').map((x) => x.body);
    expect(posts).toEqual([
      { name: 'apps', path: 'apps', parent_id: platform.id, visibility: 'internal' },
      { name: 'frontend', path: 'frontend', parent_id: fake.group('platform/apps')!.id, visibility: 'internal', description: 'Frontend apps' },
    ]);
    expect(fake.group('platform/apps/frontend')!.description).toBe('Frontend apps');
    fake.requests.length = 0;
    expect(await gl.ensureSubgroup(parent, 'apps/frontend')).toMatchObject({ fullPath: 'platform/apps/frontend', created: false });
    expect(fake.requests.every((x) => x.method === 'GET')).toBe(true);
  });

  it('ensureProject creates in the group (short default branch, CI/CD setting), then finds it', async () => {
    const p = await gl.ensureProject('platform/team', {
      name: 'svc',
      description: 'a service',
      visibility: 'public',
      defaultBranch: 'refs/heads/develop',
      initializeWithReadme: true,
      cicdEnabled: false,
    });
    expect(p).toEqual({
      id: expect.any(Number),
      pathWithNamespace: 'platform/team/svc',
      webURL: `${fake.url}/platform/team/svc`,
      httpURLToRepo: `${fake.url}/platform/team/svc.git`,
      defaultBranch: 'develop',
      visibility: 'private', // capped at the private group's
      created: true,
    });
    expect(fake.requests.find((x) => x.method === 'POST')!.body).toEqual({
      name: 'svc',
      path: 'svc',
      namespace_id: fake.group('platform/team')!.id,
      visibility: 'private',
      initialize_with_readme: true,
      description: 'a service',
      default_branch: 'develop',
      builds_access_level: 'disabled',
      jobs_enabled: false,
    });
    expect(fake.project('platform/team/svc')).toMatchObject({ initializedWithReadme: true, buildsAccessLevel: 'disabled' });
    expect(fake.requests[0].path).toBe('/projects/platform%2Fteam%2Fsvc');
    expect(await gl.ensureProject('platform/team', { name: 'svc' })).toMatchObject({ created: false, pathWithNamespace: 'platform/team/svc' });
  });

  it.skipIf(!hasOpenSSL())('trusts a custom CA given as PEM', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gitlab-ca-'));
    try {
      execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
      const cert = readFileSync(join(dir, 'cert.pem'), 'utf8');
      const server = createServer({ key: readFileSync(join(dir, 'key.pem')), cert }, (req, res) => {
        res.writeHead(req.headers['private-token'] === 'tls-token' ? 200 : 401, { 'content-type': 'application/json' }).end(JSON.stringify({ id: 7, name: 'secure', path: 'secure', full_path: 'secure', visibility: 'private' }));
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
      try {
        const trusted = new GitLabClient({ baseURL: url, token: 'tls-token', ca: cert });
        expect((await trusted.getGroup('secure')).id).toBe(7);
        const untrusted = new GitLabClient({ baseURL: url, token: 'tls-token' });
        const e = await rejection(untrusted.getGroup('secure'));
        expect(e.code).toBe('Network');
        expect(e.message).toMatch(/^GitLab: get group secure failed: cannot reach https:\/\/127\.0\.0\.1:\d+\/api\/v4 \((DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE)\)$/);
      } finally {
        server.closeAllConnections();
        await new Promise<void>((r) => server.close(() => r()));
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
