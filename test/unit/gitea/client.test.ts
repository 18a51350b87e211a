import { request } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { GiteaClient, GitServerError, codeForStatus } from '../../../src/gitea/client.js';
import { FakeGitea } from '../../fakes/gitea.js';

const SCOPES = ['write:organization', 'write:repository', 'write:user'];

describe('GiteaClient against the fake Gitea', () => {
  const fake = new FakeGitea({ rootURL: 'https://gitea.cnoe.localtest.me:8443/' });
  let admin: GiteaClient;

  beforeAll(async () => {
    await fake.start();
    admin = new GiteaClient({ baseURL: fake.baseURL, auth: { basic: { username: fake.adminUsername, password: fake.adminPassword } } });
  });
  afterAll(() => fake.stop());
  afterEach(() => {
    fake.clearFailures();
    fake.healthFailures = 0;
    fake.requests.length = 0;
  });

  const tokenClient = (scopes = SCOPES): { client: GiteaClient; token: string } => {
    const token = fake.addToken(fake.adminUsername, `t-${Math.random().toString(36).slice(2)}`, scopes);
    return { client: new GiteaClient({ baseURL: fake.baseURL, auth: { token } }), token };
  };

  it('version()', async () => {
    expect(await admin.version()).toBe('1.24.3');
  });

  describe('waitReady', () => {
    it('polls /api/healthz until it passes, then reads the version', async () => {
      fake.healthFailures = 3;
      const slept: number[] = [];
      const waits: string[] = [];
      const v = await admin.waitReady({ timeoutMs: 60_000, intervalMs: 1000, sleep: async (ms) => void slept.push(ms), onWait: (r) => waits.push(r) });
      expect(v).toBe('1.24.3');
      expect(slept).toEqual([1000, 1000, 1000]);
      expect(waits).toEqual(Array(3).fill('Gitea: health check failed with HTTP 424: no message'));
      const paths = fake.requests.map((r) => `${r.method} ${r.path} ${r.auth}`);
      expect(paths).toEqual([...Array(4).fill('GET /api/healthz none'), 'GET /api/v1/version basic']);
    });

    it('gives up after timeoutMs with the last problem', async () => {
      fake.healthFailures = 1000;
      const slept: number[] = [];
      const err = (await admin
        .waitReady({ timeoutMs: 5000, intervalMs: 1000, sleep: async (ms) => void slept.push(ms) })
        .catch((e: unknown) => e)) as GitServerError;
      expect(err).toBeInstanceOf(GitServerError);
      expect(err.code).toBe('Invalid'); // 424 Failed Dependency
      expect(err.message).toBe(`Gitea at ${fake.baseURL} not ready after 5s: health check failed with HTTP 424: no message`);
      expect(slept).toEqual([1000, 1000, 1000, 1000, 1000]);
    });

    it('retries 5xx and network errors; reports Network when Gitea never listens', async () => {
      fake.fail({ path: '/api/healthz', status: 503, message: 'starting', times: 2 });
      const slept: number[] = [];
      expect(await admin.waitReady({ timeoutMs: 10_000, intervalMs: 10, sleep: async (ms) => void slept.push(ms) })).toBe('1.24.3');
      expect(slept).toHaveLength(2);

      const down = new FakeGitea();
      await down.start();
      const url = down.baseURL;
      await down.stop();
      const c = new GiteaClient({ baseURL: url, auth: { basic: { username: 'a', password: 'pw-should-not-leak' } } });
      const err = (await c.waitReady({ timeoutMs: 30, intervalMs: 10, sleep: async () => undefined }).catch((e: unknown) => e)) as GitServerError;
      expect(err.code).toBe('Network');
      expect(err.status).toBe(0);
      expect(err.message).toBe(`Gitea at ${url} not ready after 0s: health check failed: cannot reach ${url} (ECONNREFUSED)`);
    });

    it('fails at once on wrong credentials (401) without leaking the password', async () => {
      const bad = new GiteaClient({ baseURL: fake.baseURL, auth: { basic: { username: fake.adminUsername, password: 'wrong-password-xyz' } } });
      const slept: number[] = [];
      const err = (await bad.waitReady({ timeoutMs: 60_000, intervalMs: 1000, sleep: async (ms) => void slept.push(ms) }).catch((e: unknown) => e)) as GitServerError;
      expect(err).toBeInstanceOf(GitServerError);
      expect(err.code).toBe('Unauthorized');
      expect(err.status).toBe(401);
      expect(err.message).toBe(`Gitea: get version failed with HTTP 401: user's password is invalid [uid: 1, name: giteaAdmin]`);
      expect(err.message).not.toContain('wrong-password-xyz');
      expect(slept).toEqual([]);
    });
  });

  describe('recreateToken', () => {
    it('deletes the token with that name (only that one) and creates a new one', async () => {
      const old = fake.addToken(fake.adminUsername, 'admin', ['all']);
      const keep = fake.addToken(fake.adminUsername, 'keep-me', ['read:user']);
      const sha1 = await admin.recreateToken(fake.adminUsername, 'admin', SCOPES);
      expect(sha1).toMatch(/^[0-9a-f]{40}$/);
      expect(sha1).not.toBe(old);
      const tokens = fake.tokensOf(fake.adminUsername);
      expect(tokens.filter((t) => t.name === 'admin')).toEqual([expect.objectContaining({ sha1, scopes: SCOPES })]);
      expect(tokens.some((t) => t.sha1 === keep)).toBe(true);
      expect(tokens.some((t) => t.sha1 === old)).toBe(false);
      expect(fake.requests.map((r) => `${r.method} ${r.path} ${r.auth}`)).toEqual([
        'GET /api/v1/users/giteaAdmin/tokens basic',
        expect.stringMatching(/^DELETE \/api\/v1\/users\/giteaAdmin\/tokens\/\d+ basic$/),
        'POST /api/v1/users/giteaAdmin/tokens basic',
      ]);
      // the old token is dead, the new one works
      const oldErr = (await new GiteaClient({ baseURL: fake.baseURL, auth: { token: old } }).currentUser().catch((e: unknown) => e)) as GitServerError;
      expect(oldErr.code).toBe('Unauthorized');
      expect(oldErr.message).not.toContain(old);
      expect((await new GiteaClient({ baseURL: fake.baseURL, auth: { token: sha1 } }).currentUser()).login).toBe('giteaAdmin');
    });

    it('creates the token when none exists', async () => {
      const sha1 = await admin.recreateToken(fake.adminUsername, 'fresh', ['all']);
      expect(fake.tokensOf(fake.adminUsername).find((t) => t.name === 'fresh')?.sha1).toBe(sha1);
      expect(fake.requests.filter((r) => r.method === 'DELETE')).toEqual([]);
    });

    it('refuses token auth locally, like Gitea (a token cannot mint tokens)', async () => {
      const { client, token } = tokenClient(['all']);
      await expect(client.recreateToken(fake.adminUsername, 'x', ['all'])).rejects.toThrow(/needs Basic auth/);
      // and the fake answers a token on that endpoint with Gitea's 401
      const res = await request(`${fake.baseURL}/api/v1/users/giteaAdmin/tokens`, { headers: { authorization: `token ${token}` } });
      expect(res.statusCode).toBe(401);
      expect(await res.body.json()).toMatchObject({ message: 'auth required' });
    });

    it('an invalid scope is a 400 carrying Gitea\'s message', async () => {
      const err = (await admin.recreateToken(fake.adminUsername, 'bad', ['write:everything']).catch((e: unknown) => e)) as GitServerError;
      expect(err.code).toBe('Invalid');
      expect(err.status).toBe(400);
      expect(err.message).toBe(
        'Gitea: create token "bad" for user giteaAdmin failed with HTTP 400: invalid access token scope provided: invalid access token scope: write:everything',
      );
    });
  });

  describe('ensureOrg', () => {
    it('creates a missing organization, then finds it', async () => {
      const { client } = tokenClient();
      expect(await client.ensureOrg({ name: 'idpbuilder', description: 'IDP Builder Bootstrap Organization' })).toEqual({ created: true });
      expect(fake.org('idpbuilder')).toMatchObject({ name: 'idpbuilder', description: 'IDP Builder Bootstrap Organization', visibility: 'public' });
      const post = fake.requests.find((r) => r.method === 'POST');
      expect(post).toMatchObject({ path: '/api/v1/orgs', auth: 'token', body: { username: 'idpbuilder', description: 'IDP Builder Bootstrap Organization', visibility: 'public' } });
      fake.requests.length = 0;
      expect(await client.ensureOrg({ name: 'idpbuilder' })).toEqual({ created: false });
      expect(fake.requests.map((r) => `${r.method} ${r.path}`)).toEqual(['GET /api/v1/orgs/idpbuilder']);
    });

    it('an organization that already exists is not re-created', async () => {
      fake.addOrg('preexisting');
      expect(await admin.ensureOrg({ name: 'preexisting' })).toEqual({ created: false });
      expect(fake.requests.some((r) => r.method === 'POST')).toBe(false);
    });

    it('a concurrent creation (422 from POST, then found) counts as existing', async () => {
      fake.fail({ method: 'GET', path: '/api/v1/orgs/racy', status: 404, message: "The target couldn't be found.", times: 1 });
      fake.addOrg('racy');
      expect(await admin.ensureOrg({ name: 'racy' })).toEqual({ created: false });
      expect(fake.requests.map((r) => `${r.method} ${r.path}`)).toEqual(['GET /api/v1/orgs/racy', 'POST /api/v1/orgs', 'GET /api/v1/orgs/racy']);
    });

    it('a user with that name is a 422 error', async () => {
      fake.addUser('alice', 'alice-pw');
      const err = (await admin.ensureOrg({ name: 'alice' }).catch((e: unknown) => e)) as GitServerError;
      expect(err.code).toBe('Invalid');
      expect(err.status).toBe(422);
      expect(err.apiMessage).toBe('user already exists [name: alice]');
      expect(err.message).toBe('Gitea: create organization alice failed with HTTP 422: user already exists [name: alice]');
    });

    it('a token without the organization scope gets 403', async () => {
      const { client, token } = tokenClient(['write:repository']);
      const err = (await client.ensureOrg({ name: 'noscope' }).catch((e: unknown) => e)) as GitServerError;
      expect(err.code).toBe('Forbidden');
      expect(err.message).toMatch(/^Gitea: get organization noscope failed with HTTP 403: token does not have at least one of required scope\(s\), required=\[read:organization\]/);
      expect(err.message).not.toContain(token);
    });
  });

  describe('ensureRepo', () => {
    it('creates a repository in an organization and returns Gitea\'s URLs', async () => {
      fake.addOrg('team');
      const { client } = tokenClient();
      const r = await client.ensureRepo('team', { name: 'app', description: 'd', private: true, autoInit: false, defaultBranch: 'main' });
      expect(r).toEqual({
        htmlURL: 'https://gitea.cnoe.localtest.me:8443/team/app',
        cloneURL: 'https://gitea.cnoe.localtest.me:8443/team/app.git',
        defaultBranch: 'main',
        empty: true,
        private: true,
        created: true,
      });
      expect(fake.requests.map((x) => `${x.method} ${x.path}`)).toEqual(['GET /api/v1/repos/team/app', 'GET /api/v1/orgs/team', 'POST /api/v1/orgs/team/repos']);
      expect(fake.requests[2].body).toEqual({ name: 'app', description: 'd', private: true, auto_init: false, default_branch: 'main' });
      fake.requests.length = 0;
      expect((await client.ensureRepo('team', { name: 'app', defaultBranch: 'main' })).created).toBe(false);
      expect(fake.requests.map((x) => `${x.method} ${x.path}`)).toEqual(['GET /api/v1/repos/team/app']);
    });

    it('a repository of the authenticated user goes to POST /api/v1/user/repos', async () => {
      const { client } = tokenClient();
      const r = await client.ensureRepo('giteaAdmin', { name: 'idpbuilder-localdev-argocd', autoInit: true, defaultBranch: 'main' });
      expect(r.created).toBe(true);
      expect(r.empty).toBe(false);
      expect(fake.requests.map((x) => `${x.method} ${x.path}`)).toEqual([
        'GET /api/v1/repos/giteaAdmin/idpbuilder-localdev-argocd',
        'GET /api/v1/orgs/giteaAdmin',
        'GET /api/v1/users/giteaAdmin',
        'GET /api/v1/user',
        'POST /api/v1/user/repos',
      ]);
    });

    it('another user\'s repository needs the admin endpoint (and the write:admin scope)', async () => {
      fake.addUser('bob', 'bob-pw');
      const { client } = tokenClient();
      const err = (await client.ensureRepo('bob', { name: 'r', defaultBranch: 'main' }).catch((e: unknown) => e)) as GitServerError;
      expect(err.code).toBe('Forbidden');
      expect(err.message).toMatch(/^Gitea: create repository bob\/r failed with HTTP 403: token does not have at least one of required scope\(s\), required=\[write:admin\]/);
      expect(fake.requests.at(-1)).toMatchObject({ method: 'POST', path: '/api/v1/admin/users/bob/repos' });
      const { client: all } = tokenClient(['all']);
      expect((await all.ensureRepo('bob', { name: 'r', defaultBranch: 'main' })).htmlURL).toBe('https://gitea.cnoe.localtest.me:8443/bob/r');
    });

    it('an owner that does not exist is a NotFound saying so, whatever the token\'s scopes (not a missing write:admin)', async () => {
      for (const scopes of [['all'], ['write:organization', 'write:repository', 'write:user']]) {
        const { client } = tokenClient(scopes);
        fake.requests.length = 0;
        const err = (await client.ensureRepo('ghost', { name: 'r', defaultBranch: 'main' }).catch((e: unknown) => e)) as GitServerError;
        expect(err).toBeInstanceOf(GitServerError);
        expect([err.status, err.code]).toEqual([404, 'NotFound']);
        expect(err.message).toBe('Gitea: cannot create repository ghost/r: owner ghost does not exist (there is no organization or user of that name)');
        // the owner was looked up (404 both times) and nothing was created
        expect(fake.requests.map((x) => `${x.method} ${x.path}`)).toEqual(['GET /api/v1/repos/ghost/r', 'GET /api/v1/orgs/ghost', 'GET /api/v1/users/ghost']);
      }
    });

    it('a concurrent creation (409) returns the existing repository', async () => {
      fake.addOrg('race');
      const { client } = tokenClient();
      // the repository exists, but the first GET misses it (created between our GET and POST)
      await admin.ensureRepo('race', { name: 'r', defaultBranch: 'main' });
      fake.fail({ method: 'GET', path: '/api/v1/repos/race/r', status: 404, message: "The target couldn't be found.", times: 1 });
      fake.requests.length = 0;
      const r = await client.ensureRepo('race', { name: 'r', defaultBranch: 'main' });
      expect(r.created).toBe(false);
      expect(fake.requests.map((x) => `${x.method} ${x.path}`)).toEqual([
        'GET /api/v1/repos/race/r',
        'GET /api/v1/orgs/race',
        'POST /api/v1/orgs/race/repos',
        'GET /api/v1/repos/race/r',
      ]);
    });
  });

  describe('error answers become GitServerError with a clean message', () => {
    const cases: Array<[number, string, string, string]> = [
      [401, 'Unauthorized', 'invalid username, password or token', 'Gitea: create organization e1 failed with HTTP 401: invalid username, password or token'],
      [403, 'Forbidden', 'You must change your password. Change it at: https://gitea.example/user/change_password', 'Gitea: create organization e1 failed with HTTP 403: You must change your password. Change it at: https://gitea.example/user/change_password'],
      [404, 'NotFound', "The target couldn't be found.", "Gitea: create organization e1 failed with HTTP 404: The target couldn't be found."],
      [409, 'Conflict', 'conflict', 'Gitea: create organization e1 failed with HTTP 409: conflict'],
      [422, 'Invalid', '[UserName]: invalid username', 'Gitea: create organization e1 failed with HTTP 422: [UserName]: invalid username'],
      [429, 'RateLimited', 'rate limit exceeded', 'Gitea: create organization e1 failed with HTTP 429: rate limit exceeded (retry after 30s)'],
      [500, 'ServerError', '', 'Gitea: create organization e1 failed with HTTP 500: no message'],
      [502, 'ServerError', 'bad gateway', 'Gitea: create organization e1 failed with HTTP 502: bad gateway'],
    ];
    for (const [status, code, apiMessage, message] of cases) {
      it(`${status} → ${code}`, async () => {
        const { client, token } = tokenClient();
        fake.fail({ method: 'POST', path: '/api/v1/orgs', status, message: apiMessage, headers: status === 429 ? { 'retry-after': '30' } : {} });
        const err = (await client.ensureOrg({ name: 'e1' }).catch((e: unknown) => e)) as GitServerError;
        expect(err).toBeInstanceOf(GitServerError);
        expect(err.status).toBe(status);
        expect(err.code).toBe(code);
        expect(err.apiMessage).toBe(apiMessage);
        expect(err.message).toBe(message);
        expect(err.message).not.toContain(token);
        expect(codeForStatus(status)).toBe(code);
      });
    }

    it('scrubs the credentials if the server echoes them, and flattens multi-line messages', async () => {
      const { client, token } = tokenClient();
      fake.fail({ method: 'POST', path: '/api/v1/orgs', status: 500, message: `boom\n  token ${token} rejected\r\n` });
      const err = (await client.ensureOrg({ name: 'e2' }).catch((e: unknown) => e)) as GitServerError;
      expect(err.message).toBe('Gitea: create organization e2 failed with HTTP 500: boom token *** rejected');

      const b = Buffer.from(`${fake.adminUsername}:${fake.adminPassword}`).toString('base64');
      fake.fail({ method: 'GET', path: '/api/v1/version', status: 401, message: `bad header Basic ${b} / ${fake.adminPassword}`, times: 1 });
      const err2 = (await admin.version().catch((e: unknown) => e)) as GitServerError;
      expect(err2.message).toBe('Gitea: get version failed with HTTP 401: bad header Basic *** / ***');
    });

    it('a very long message is cut', async () => {
      fake.fail({ method: 'GET', path: '/api/v1/version', status: 500, message: 'x'.repeat(5000), times: 1 });
      const err = (await admin.version().catch((e: unknown) => e)) as GitServerError;
      expect(err.message.length).toBeLessThan(320);
      expect(err.message.endsWith('…')).toBe(true);
    });

    it('rejects credentials in the base URL', () => {
      expect(() => new GiteaClient({ baseURL: 'http://u:p@127.0.0.1:1', auth: { token: 't' } })).toThrow(/must not carry credentials/);
    });
  });
});

describe('GiteaClient behind path routing (/gitea)', () => {
  const fake = new FakeGitea({ prefix: '/gitea' });
  beforeAll(() => fake.start());
  afterAll(() => fake.stop());

  it('prefixes every call with the base path', async () => {
    const c = new GiteaClient({ baseURL: `${fake.baseURL}/`, auth: { basic: { username: fake.adminUsername, password: fake.adminPassword } } });
    expect(await c.waitReady({ timeoutMs: 1000, intervalMs: 10 })).toBe('1.24.3');
    await c.ensureOrg({ name: 'o' });
    const r = await c.ensureRepo('o', { name: 'r', defaultBranch: 'main' });
    expect(r.cloneURL).toBe(`${fake.baseURL}/o/r.git`);
  });
});
