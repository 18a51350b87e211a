import { generateKeyPairSync } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { GitServerError } from '../../../src/gitea/client.js';
import { GITHUB_API_VERSION, GitHubClient, mintInstallationToken, teamSlug } from '../../../src/github/client.js';
import { FakeGitHub } from '../../fakes/github.js';
import { rejectionOf } from '../../support/rejection.js';

const NOW = new Date('2026-03-01T12:00:00Z');
const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const PRIVATE_PEM = privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
const PUBLIC_PEM = publicKey.export({ type: 'spki', format: 'pem' }).toString();

const rejection = (p: Promise<unknown>): Promise<GitServerError> => rejectionOf(p, GitServerError);

describe('GitHubClient against the fake GitHub', () => {
  const fake = new FakeGitHub({ now: () => NOW });
  let token: string;
  let gh: GitHubClient;

  beforeAll(async () => {
    await fake.start();
    fake.addOrg('acme', { admins: ['octocat'], description: 'ACME' });
    token = fake.addToken('octocat');
    gh = new GitHubClient({ baseURL: fake.apiURL, token });
  });
  afterAll(() => fake.stop());
  afterEach(() => {
    fake.clearFailures();
    fake.requests.length = 0;
    fake.resetRateLimit();
    fake.newRepoBranch = 'main';
  });

  it('getOrg sends Bearer auth, the GitHub media type and the API version', async () => {
    expect(await gh.getOrg('acme')).toEqual({ login: 'acme', id: expect.any(Number), htmlURL: `${fake.webURL}/acme` });
    expect(fake.requests).toEqual([
      { method: 'GET', path: '/orgs/acme', query: '', auth: 'token', who: 'octocat', accept: 'application/vnd.github+json', apiVersion: GITHUB_API_VERSION },
    ]);
  });

  it('rateLimit reads resources.core', async () => {
    await gh.getOrg('acme');
    const rl = await gh.rateLimit();
    expect(rl).toEqual({ limit: 5000, remaining: 4999, used: 1, reset: Math.floor(NOW.getTime() / 1000) + 3600 });
  });

  describe('errors are GitServerErrors with a code and a clean message', () => {
    it('404: NotFound', async () => {
      const e = await rejection(gh.getOrg('nope'));
      expect(e).toMatchObject({ status: 404, code: 'NotFound', apiMessage: 'Not Found' });
      expect(e.message).toBe('GitHub: get organization nope failed with HTTP 404: Not Found');
    });

    it('401: Unauthorized, never quoting the token', async () => {
      const bad = new GitHubClient({ baseURL: fake.apiURL, token: 'ghp_wrong-token-value' });
      const e = await rejection(bad.getOrg('acme'));
      expect(e).toMatchObject({ status: 401, code: 'Unauthorized' });
      expect(e.message).toBe('GitHub: get organization acme failed with HTTP 401: Bad credentials');
      // a server that echoes the credential gets it scrubbed
      fake.fail({ path: '/orgs/acme', status: 401, message: `token ${token} is revoked` });
      const echoed = await rejection(gh.getOrg('acme'));
      expect(echoed.message).toBe('GitHub: get organization acme failed with HTTP 401: token *** is revoked');
      expect(echoed.message).not.toContain(token);
    });

    it('403: Forbidden (a permission problem), RateLimited (x-ratelimit-remaining: 0)', async () => {
      const member = new GitHubClient({ baseURL: fake.apiURL, token: fake.addToken('member') });
      const e = await rejection(member.createRepo('acme', { name: 'x' }));
      expect(e).toMatchObject({ status: 403, code: 'Forbidden' });
      expect(e.message).toBe('GitHub: create repository acme/x failed with HTTP 403: You need admin access to the organization before adding a repository to it.');

      fake.resetRateLimit(0);
      const limited = await rejection(gh.getOrg('acme'));
      expect(limited).toMatchObject({ status: 403, code: 'RateLimited' });
      const reset = new Date((Math.floor(NOW.getTime() / 1000) + 3600) * 1000).toISOString().replace('.000Z', 'Z');
      expect(limited.message).toMatch(/^GitHub: get organization acme failed with HTTP 403: API rate limit exceeded for user ID 1\. .*\(resets at (.+)\)$/);
      expect(limited.message).toContain(`(resets at ${reset})`);
      // /rate_limit itself does not count and still answers
      expect((await gh.rateLimit()).remaining).toBe(0);
    });

    it('secondary rate limits: 403 with retry-after, and 429', async () => {
      fake.fail({ path: '/orgs/acme', status: 403, message: 'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.', headers: { 'retry-after': '60' }, times: 1 });
      const e = await rejection(gh.getOrg('acme'));
      expect(e).toMatchObject({ status: 403, code: 'RateLimited' });
      expect(e.message).toMatch(/\(retry after 60s\)$/);
      fake.fail({ path: '/orgs/acme', status: 429, message: 'Too Many Requests', headers: { 'retry-after': '5' }, times: 1 });
      const t = await rejection(gh.getOrg('acme'));
      expect(t).toMatchObject({ status: 429, code: 'RateLimited' });
      expect(t.message).toBe('GitHub: get organization acme failed with HTTP 429: Too Many Requests (retry after 5s)');
    });

    it('422: Invalid, with the errors[] details', async () => {
      await gh.createRepo('acme', { name: 'dup' });
      const e = await rejection(gh.createRepo('acme', { name: 'dup' }));
      expect(e).toMatchObject({ status: 422, code: 'Invalid' });
      expect(e.message).toBe('GitHub: create repository acme/dup failed with HTTP 422: Repository creation failed: name already exists on this account');
    });

    it('500: ServerError; unreachable: Network', async () => {
      fake.fail({ path: '/rate_limit', status: 500, message: 'Server Error', times: 1 });
      expect(await rejection(gh.rateLimit())).toMatchObject({ status: 500, code: 'ServerError', message: 'GitHub: get rate limit failed with HTTP 500: Server Error' });
      const down = new GitHubClient({ baseURL: 'http://127.0.0.1:1', token });
      const n = await rejection(down.getOrg('acme'));
      expect(n).toMatchObject({ status: 0, code: 'Network' });
      expect(n.message).toMatch(/^GitHub: get organization acme failed: cannot reach http:\/\/127\.0\.0\.1:1 \(ECONNREFUSED\)$/);
    });
  });

  it('teams: ensureTeam creates once (by slug), grantTeamRepo sets the permission', async () => {
    expect(teamSlug('Platform Admins')).toBe('platform-admins');
    const first = await gh.ensureTeam('acme', 'Platform Admins');
    expect(first).toMatchObject({ slug: 'platform-admins', name: 'Platform Admins', created: true });
    expect(fake.requests.find((r) => r.method === 'POST')?.body).toEqual({ name: 'Platform Admins', privacy: 'closed' });
    expect(await gh.ensureTeam('acme', 'Platform Admins')).toMatchObject({ slug: 'platform-admins', created: false });
    await gh.createRepo('acme', { name: 'team-repo' });
    await gh.grantTeamRepo('acme', 'platform-admins', 'acme', 'team-repo', 'maintain');
    expect(fake.org('acme')!.teams.get('platform-admins')!.repos.get('acme/team-repo')).toBe('maintain');
    const e = await rejection(gh.grantTeamRepo('acme', 'ghosts', 'acme', 'team-repo', 'push'));
    expect(e).toMatchObject({ status: 404, code: 'NotFound' });
  });

  it('ensureRepo creates with visibility and merge settings, then finds it', async () => {
    const r = await gh.ensureRepo('acme', { name: 'app', description: 'the app', visibility: 'internal', allowSquashMerge: true, allowMergeCommit: false, allowRebaseMerge: false });
    expect(r).toEqual({
      fullName: 'acme/app',
      htmlURL: `${fake.webURL}/acme/app`,
      cloneURL: `${fake.webURL}/acme/app.git`,
      defaultBranch: 'main',
      visibility: 'internal',
      created: true,
    });
    expect(fake.requests.find((x) => x.method === 'POST')!.body).toEqual({
      name: 'app',
      description: 'the app',
      private: true,
      visibility: 'internal',
      auto_init: false,
      allow_squash_merge: true,
      allow_merge_commit: false,
      allow_rebase_merge: false,
    });
    expect(fake.repo('acme', 'app')).toMatchObject({ allowMergeCommit: false, allowRebaseMerge: false, allowSquashMerge: true });
    expect(await gh.ensureRepo('acme', { name: 'app' })).toMatchObject({ created: false, fullName: 'acme/app' });
  });

  it('ensureRepo renames the first branch of a new auto-initialized repository to the default branch', async () => {
    fake.newRepoBranch = 'master';
    const r = await gh.ensureRepo('acme', { name: 'renamed', autoInit: true, defaultBranch: 'trunk', visibility: 'private' });
    expect(r).toMatchObject({ defaultBranch: 'trunk', visibility: 'private', created: true });
    expect(fake.repo('acme', 'renamed')!.defaultBranch).toBe('trunk');
    expect(fake.requests.map((x) => `${x.method} ${x.path}`)).toEqual(['GET /repos/acme/renamed', 'GET /orgs/acme', 'POST /orgs/acme/repos', 'POST /repos/acme/renamed/branches/master/rename']);
    // not auto-initialized: nothing to rename (the first push decides)
    fake.requests.length = 0;
    await gh.ensureRepo('acme', { name: 'empty', defaultBranch: 'trunk' });
    expect(fake.requests.map((x) => `${x.method} ${x.path}`)).toEqual(['GET /repos/acme/empty', 'GET /orgs/acme', 'POST /orgs/acme/repos']);
  });

  it('works against a GitHub Enterprise Server base (/api/v3)', async () => {
    const ghes = new FakeGitHub({ apiPrefix: '/api/v3', now: () => NOW });
    await ghes.start();
    try {
      ghes.addOrg('corp', { admins: ['admin'] });
      const c = new GitHubClient({ baseURL: `${ghes.apiURL}/`, token: ghes.addToken('admin') });
      expect(c.baseURL).toBe(ghes.apiURL);
      expect((await c.getOrg('corp')).login).toBe('corp');
      expect(ghes.requests[0].path).toBe('/orgs/corp');
    } finally {
      await ghes.stop();
    }
  });
});

describe('GitHub App authentication', () => {
  const fake = new FakeGitHub({ now: () => NOW });
  let appID: number;
  let acmeInstallation: string;

  beforeAll(async () => {
    await fake.start();
    fake.addOrg('acme');
    fake.addOrg('other');
    const app = fake.addApp(PUBLIC_PEM, ['acme'], { id: 4242, clientID: 'Iv1.abc123' });
    appID = app.id;
    acmeInstallation = String(app.installations.get('acme'));
  });
  afterAll(() => fake.stop());
  afterEach(() => {
    fake.requests.length = 0;
    fake.now = () => NOW;
  });

  it('refuses a key that is not an RSA PEM key before any request', async () => {
    const e = await rejection(mintInstallationToken({ baseURL: fake.apiURL, appID: '1', privateKey: 'not a key', organization: 'acme', now: () => NOW }));
    expect(e).toMatchObject({ code: 'Invalid', message: 'GitHub App private key is not a valid PEM key' });
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const e2 = await rejection(mintInstallationToken({ baseURL: fake.apiURL, appID: '1', privateKey: ec, organization: 'acme', now: () => NOW }));
    expect(e2).toMatchObject({ code: 'Invalid', message: 'GitHub App private key must be an RSA key' });
    expect(fake.requests).toEqual([]);
  });

  it('mints an installation token: finds the installation of the organization, then creates the token', async () => {
    const t = await mintInstallationToken({ baseURL: fake.apiURL, appID: String(appID), privateKey: PRIVATE_PEM, organization: 'acme', now: () => NOW });
    expect(t.token).toMatch(/^ghs_/);
    expect(t.expiresAt).toBe('2026-03-01T13:00:00Z');
    expect(fake.requests.map((r) => `${r.method} ${r.path} ${r.auth}`)).toEqual([
      'GET /orgs/acme/installation jwt',
      `POST /app/installations/${t.installationID}/access_tokens jwt`,
    ]);
    // the token works
    const gh = new GitHubClient({ baseURL: fake.apiURL, token: t.token });
    expect((await gh.getOrg('acme')).login).toBe('acme');

    // with installationID given there is no lookup
    fake.requests.length = 0;
    const again = await mintInstallationToken({ baseURL: fake.apiURL, appID: 'Iv1.abc123', privateKey: PRIVATE_PEM, installationID: t.installationID, organization: 'acme', now: () => NOW });
    expect(again.installationID).toBe(t.installationID);
    expect(fake.requests.map((r) => r.path)).toEqual([`/app/installations/${t.installationID}/access_tokens`]);
  });

  it('an app not installed on the organization is Forbidden; a wrong key or a skewed clock is Unauthorized', async () => {
    const e = await rejection(mintInstallationToken({ baseURL: fake.apiURL, appID: String(appID), privateKey: PRIVATE_PEM, organization: 'other', now: () => NOW }));
    expect(e).toMatchObject({ status: 404, code: 'Forbidden', message: `GitHub: the GitHub App ${appID} is not installed on organization other` });

    const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const bad = await rejection(mintInstallationToken({ baseURL: fake.apiURL, appID: String(appID), privateKey: other, organization: 'acme', now: () => NOW }));
    expect(bad).toMatchObject({ status: 401, code: 'Unauthorized', message: 'GitHub: get the app installation of organization acme failed with HTTP 401: A JSON web token could not be decoded' });

    fake.now = () => new Date(NOW.getTime() + 3600_000); // our clock is an hour behind GitHub's
    const skew = await rejection(mintInstallationToken({ baseURL: fake.apiURL, appID: String(appID), privateKey: PRIVATE_PEM, organization: 'acme', now: () => NOW }));
    expect(skew.code).toBe('Unauthorized');
    expect(skew.message).toContain("'Expiration time' claim ('exp') must be a numeric value representing the future time");
  });

  it('a refused or rate-limited token request is a GitServerError naming the operation, never the JWT', async () => {
    const id = acmeInstallation;
    fake.fail({ method: 'POST', path: `/app/installations/${id}/access_tokens`, status: 403, message: 'API rate limit exceeded', headers: { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': '1772370000' }, times: 1 });
    const rl = await rejection(mintInstallationToken({ baseURL: fake.apiURL, appID: String(appID), privateKey: PRIVATE_PEM, installationID: id, organization: 'acme', now: () => NOW }));
    expect(rl).toMatchObject({ status: 403, code: 'RateLimited', message: `GitHub: create an access token for installation ${id} failed with HTTP 403: API rate limit exceeded (resets at 2026-03-01T13:00:00Z)` });
    const missing = await rejection(mintInstallationToken({ baseURL: fake.apiURL, appID: String(appID), privateKey: PRIVATE_PEM, installationID: '999999', organization: 'acme', now: () => NOW }));
    expect(missing).toMatchObject({ status: 404, code: 'NotFound' });
    expect(missing.message).toMatch(/^GitHub: create an access token for installation 999999 failed with HTTP 404: /);
    expect(missing.message).not.toMatch(/eyJ/);
    const net = await rejection(mintInstallationToken({ baseURL: 'http://127.0.0.1:1', appID: String(appID), privateKey: PRIVATE_PEM, installationID: id, organization: 'acme', now: () => NOW }));
    expect(net).toMatchObject({ code: 'Network' });
    expect(net.message).toMatch(/^GitHub: create an access token for installation \d+ failed: cannot reach /);
  });

  it('mints against a GitHub Enterprise Server base (/api/v3)', async () => {
    const ghes = new FakeGitHub({ apiPrefix: '/api/v3', now: () => NOW });
    await ghes.start();
    try {
      ghes.addOrg('corp');
      const app = ghes.addApp(PUBLIC_PEM, ['corp']);
      const t = await mintInstallationToken({ baseURL: `${ghes.apiURL}/`, appID: String(app.id), privateKey: PRIVATE_PEM, organization: 'corp', now: () => NOW });
      expect(t.token).toMatch(/^ghs_/);
      expect(ghes.requests.map((r) => `${r.method} ${r.path} ${r.auth}`)).toEqual(['GET /orgs/corp/installation jwt', `POST /app/installations/${t.installationID}/access_tokens jwt`]);
      expect((await new GitHubClient({ baseURL: ghes.apiURL, token: t.token }).getOrg('corp')).login).toBe('corp');
    } finally {
      await ghes.stop();
    }
  });
});
