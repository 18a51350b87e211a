import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { GiteaClient, GitServerError } from '../../../src/gitea/client.js';
import type { ApplySecretSpec } from '../../../src/kube/client.js';
import { jobCommand } from '../../../src/jobs/cli.js';
import {
  DEFAULT_TOKEN_SCOPES,
  GiteaBootstrapError,
  parseGiteaBootstrapConfig,
  runGiteaBootstrap,
  type GiteaBootstrapConfig,
  type GiteaBootstrapDeps,
} from '../../../src/jobs/gitea-bootstrap.js';
import type { JobLogger } from '../../../src/jobs/repo-sync.js';
import { FakeGitea } from '../../fakes/gitea.js';

class MemKube {
  applied: ApplySecretSpec[] = [];
  secrets = new Map<string, Record<string, string>>();
  async getSecret(namespace: string, name: string): Promise<Record<string, string> | undefined> {
    return this.secrets.get(`${namespace}/${name}`);
  }
  async applySecret(spec: ApplySecretSpec): Promise<void> {
    this.applied.push(structuredClone(spec));
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

const fake = new FakeGitea();
let kube: MemKube;
let log: CaptureLog;
let slept: number[];

beforeAll(() => fake.start());
afterAll(() => fake.stop());
beforeEach(() => {
  kube = new MemKube();
  log = new CaptureLog();
  slept = [];
  fake.clearFailures();
  fake.healthFailures = 0;
  fake.requests.length = 0;
});

function cfg(extra: Partial<GiteaBootstrapConfig> = {}): GiteaBootstrapConfig {
  return {
    endpoint: fake.baseURL,
    organizations: [{ name: 'idpbuilder', description: 'IDP Builder Bootstrap Organization' }, { name: 'platform' }],
    tokenName: 'admin',
    tokenSecret: {
      namespace: 'gitea',
      name: 'gitea-credential',
      labels: { 'idpbuilder.cnoe.io/giteaprovider': 'gitea' },
      ownerReference: { apiVersion: 'idpbuilder.cnoe.io/v1alpha2', kind: 'GiteaProvider', name: 'gitea', uid: '0b7c-uid' },
    },
    ...extra,
  };
}

function deps(extra: Partial<GiteaBootstrapDeps> = {}): GiteaBootstrapDeps {
  return {
    kube,
    log,
    env: { GITEA_USERNAME: fake.adminUsername, GITEA_PASSWORD: fake.adminPassword },
    sleep: async (ms) => void slept.push(ms),
    pollIntervalMs: 2000,
    ...extra,
  };
}

describe('runGiteaBootstrap against the fake Gitea', () => {
  it('waits, recreates the token into the Secret, and ensures the organizations', async () => {
    const old = fake.addToken(fake.adminUsername, 'admin', ['all']);
    fake.addOrg('platform'); // already there
    fake.healthFailures = 2;

    const result = await runGiteaBootstrap(cfg(), deps());

    expect(result).toEqual({
      version: '1.24.3',
      username: 'giteaAdmin',
      tokenSecret: { namespace: 'gitea', name: 'gitea-credential' },
      organizations: [
        { name: 'idpbuilder', created: true },
        { name: 'platform', created: false },
      ],
    });
    expect(slept).toEqual([2000, 2000]);

    // the token: old one deleted, new one with the chosen scopes, and it is what the Secret holds
    const tokens = fake.tokensOf(fake.adminUsername).filter((t) => t.name === 'admin');
    expect(tokens).toHaveLength(1);
    expect(tokens[0].sha1).not.toBe(old);
    expect(tokens[0].scopes).toEqual([...DEFAULT_TOKEN_SCOPES]);
    expect(kube.applied).toEqual([
      {
        namespace: 'gitea',
        name: 'gitea-credential',
        labels: { 'app.kubernetes.io/managed-by': 'idpbuilder', 'idpbuilder.cnoe.io/giteaprovider': 'gitea' },
        ownerReferences: [{ apiVersion: 'idpbuilder.cnoe.io/v1alpha2', kind: 'GiteaProvider', name: 'gitea', uid: '0b7c-uid' }],
        stringData: { username: 'giteaAdmin', token: tokens[0].sha1 },
      },
    ]);
    // organizations were made with the new token (which proves its scopes are enough)
    expect(fake.org('idpbuilder')?.description).toBe('IDP Builder Bootstrap Organization');
    const orgCalls = fake.requests.filter((r) => r.path.startsWith('/api/v1/orgs'));
    expect(orgCalls.map((r) => `${r.method} ${r.path} ${r.auth}`)).toEqual([
      'GET /api/v1/orgs/idpbuilder token',
      'POST /api/v1/orgs token',
      'GET /api/v1/orgs/platform token',
    ]);
    // and that token can create a repository in the org and one under the admin user
    const api = new GiteaClient({ baseURL: fake.baseURL, auth: { token: tokens[0].sha1 } });
    await api.ensureRepo('idpbuilder', { name: 'r1', defaultBranch: 'main' });
    await api.ensureRepo('giteaAdmin', { name: 'idpbuilder-localdev-gitea', defaultBranch: 'main' });

    // nothing secret in the logs
    const logs = log.lines.join('\n');
    expect(logs).not.toContain(tokens[0].sha1);
    expect(logs).not.toContain(fake.adminPassword);
    expect(logs).toContain('info Gitea not ready yet {"reason":"Gitea: health check failed with HTTP 424: no message"}');
  });

  it('a second run rotates the token again and finds the organizations', async () => {
    const r1 = await runGiteaBootstrap(cfg({ tokenName: 'rotate' }), deps());
    const t1 = kube.applied[0].stringData.token;
    const r2 = await runGiteaBootstrap(cfg({ tokenName: 'rotate' }), deps());
    const t2 = kube.applied[1].stringData.token;
    expect(t2).not.toBe(t1);
    expect(fake.tokensOf(fake.adminUsername).filter((t) => t.name === 'rotate').map((t) => t.sha1)).toEqual([t2]);
    expect(r2.organizations.every((o) => !o.created)).toBe(true);
    expect(r1.version).toBe(r2.version);
  });

  it('tokenScopes overrides the default scopes; no ownerReference and no labels are fine', async () => {
    await runGiteaBootstrap(cfg({ tokenName: 'all-scopes', tokenScopes: ['all'], tokenSecret: { namespace: 'gitea', name: 'plain' }, organizations: [] }), deps());
    expect(fake.tokensOf(fake.adminUsername).find((t) => t.name === 'all-scopes')?.scopes).toEqual(['all']);
    expect(kube.applied[0]).toEqual({
      namespace: 'gitea',
      name: 'plain',
      labels: { 'app.kubernetes.io/managed-by': 'idpbuilder' },
      stringData: { username: 'giteaAdmin', token: expect.stringMatching(/^[0-9a-f]{40}$/) },
    });
  });

  it('the Secret is applied before the organizations, so a failing org never strands consumers', async () => {
    fake.fail({ method: 'POST', path: '/api/v1/orgs', status: 500, message: '' });
    const err = (await runGiteaBootstrap(cfg({ organizations: [{ name: 'brand-new' }] }), deps()).catch((e: unknown) => e)) as GitServerError;
    expect(err).toBeInstanceOf(GitServerError);
    expect(err.code).toBe('ServerError');
    expect(err.message).toBe('Gitea: create organization brand-new failed with HTTP 500: no message');
    expect(kube.applied).toHaveLength(1);
    expect(fake.tokensOf(fake.adminUsername).find((t) => t.name === 'admin')?.sha1).toBe(kube.applied[0].stringData.token);
  });

  it('times out with a clear message when Gitea never gets healthy', async () => {
    fake.healthFailures = 1_000;
    const err = (await runGiteaBootstrap(cfg({ timeoutSeconds: 10 }), deps()).catch((e: unknown) => e)) as GitServerError;
    expect(err).toBeInstanceOf(GitServerError);
    expect(err.message).toBe(`Gitea at ${fake.baseURL} not ready after 10s: health check failed with HTTP 424: no message`);
    expect(slept).toEqual([2000, 2000, 2000, 2000, 2000]);
    expect(kube.applied).toEqual([]);
  });

  it('wrong admin password: 401 at once, nothing applied, no password in the message', async () => {
    const err = (await runGiteaBootstrap(cfg(), deps({ env: { GITEA_USERNAME: fake.adminUsername, GITEA_PASSWORD: 'nope-Pa55' } })).catch(
      (e: unknown) => e,
    )) as GitServerError;
    expect(err).toBeInstanceOf(GitServerError);
    expect(err.code).toBe('Unauthorized');
    expect(err.message).toBe("Gitea: get version failed with HTTP 401: user's password is invalid [uid: 1, name: giteaAdmin]");
    expect(err.message).not.toContain('nope-Pa55');
    expect(slept).toEqual([]);
    expect(kube.applied).toEqual([]);
  });

  it('error answers on the token endpoints surface as GitServerError: 401, 403, 404, 422, 429, 500', async () => {
    const cases: Array<[string, string, number, string, string]> = [
      ['GET', '/api/v1/users/giteaAdmin/tokens', 401, 'auth required', 'Gitea: list tokens of user giteaAdmin failed with HTTP 401: auth required'],
      ['GET', '/api/v1/users/giteaAdmin/tokens', 403, 'You must change your password.', 'Gitea: list tokens of user giteaAdmin failed with HTTP 403: You must change your password.'],
      ['GET', '/api/v1/users/giteaAdmin/tokens', 404, "The target couldn't be found.", "Gitea: list tokens of user giteaAdmin failed with HTTP 404: The target couldn't be found."],
      ['POST', '/api/v1/users/giteaAdmin/tokens', 422, '[Name]: Required', 'Gitea: create token "admin" for user giteaAdmin failed with HTTP 422: [Name]: Required'],
      ['POST', '/api/v1/users/giteaAdmin/tokens', 429, 'too many requests', 'Gitea: create token "admin" for user giteaAdmin failed with HTTP 429: too many requests'],
      ['POST', '/api/v1/users/giteaAdmin/tokens', 500, '', 'Gitea: create token "admin" for user giteaAdmin failed with HTTP 500: no message'],
    ];
    for (const [method, path, status, apiMessage, message] of cases) {
      fake.clearFailures();
      kube.applied = [];
      fake.fail({ method, path, status, message: apiMessage });
      const err = (await runGiteaBootstrap(cfg(), deps()).catch((e: unknown) => e)) as GitServerError;
      expect(err).toBeInstanceOf(GitServerError);
      expect([err.status, err.message]).toEqual([status, message]);
      expect(err.message).not.toContain(fake.adminPassword);
      expect(kube.applied).toEqual([]);
    }
  });

  it('needs GITEA_USERNAME / GITEA_PASSWORD and a well-formed config', async () => {
    await expect(runGiteaBootstrap(cfg(), deps({ env: {} }))).rejects.toThrow('GITEA_USERNAME and GITEA_PASSWORD must be set (from the Gitea admin Secret)');
    const bad = (patch: Record<string, unknown>): unknown => ({ ...cfg(), ...patch });
    expect(() => parseGiteaBootstrapConfig(bad({ endpoint: 'gitea:3000' }))).toThrow('config.endpoint must be an http(s) URL');
    expect(() => parseGiteaBootstrapConfig(bad({ tokenSecret: { namespace: 'gitea' } }))).toThrow('config.tokenSecret.name must be a non-empty string');
    expect(() => parseGiteaBootstrapConfig(bad({ organizations: [{}] }))).toThrow('config.organizations[0].name must be a non-empty string');
    expect(() => parseGiteaBootstrapConfig(bad({ timeoutSeconds: -1 }))).toThrow('config.timeoutSeconds must be a positive number');
    expect(() => parseGiteaBootstrapConfig(bad({ tokenScopes: [] }))).toThrow('config.tokenScopes must be a non-empty list of scope strings');
    expect(() => parseGiteaBootstrapConfig(bad({ tokenSecret: { namespace: 'a', name: 'b', ownerReference: { kind: 'X' } } }))).toThrow(
      'config.tokenSecret.ownerReference.apiVersion must be a non-empty string',
    );
    expect(() => parseGiteaBootstrapConfig(null)).toThrow(GiteaBootstrapError);
    expect(parseGiteaBootstrapConfig(JSON.parse(JSON.stringify(cfg())))).toEqual(cfg());
  });
});

describe('idpbuilder job gitea-bootstrap (CLI)', () => {
  let api: Server;
  let dir: string;
  const seen: Array<{ method: string; url: string; contentType: string; auth: string; body: string }> = [];
  let answer = 200;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'bootstrap-cli-'));
    api = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        seen.push({ method: req.method ?? '', url: req.url ?? '', contentType: req.headers['content-type'] ?? '', auth: req.headers.authorization ?? '', body: Buffer.concat(chunks).toString() });
        if (answer !== 200) {
          return void res
            .writeHead(answer, { 'content-type': 'application/json' })
            .end(JSON.stringify({ kind: 'Status', status: 'Failure', reason: 'Forbidden', code: answer, message: 'secrets "gitea-credential" is forbidden: no RBAC' }));
        }
        res.writeHead(200, { 'content-type': 'application/json' }).end(Buffer.concat(chunks));
      });
    });
    await new Promise<void>((r) => api.listen(0, '127.0.0.1', r));
  });
  afterAll(async () => {
    await new Promise<void>((r) => api.close(() => r()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs with --kubeconfig and env credentials; prints one JSON line; errors are one line with exit 1', async () => {
    const kc = join(dir, 'kubeconfig');
    const port = (api.address() as AddressInfo).port;
    writeFileSync(
      kc,
      `apiVersion: v1\nkind: Config\ncurrent-context: t\nclusters: [{name: c, cluster: {server: "http://127.0.0.1:${port}"}}]\nusers: [{name: u, user: {token: kube-tok}}]\ncontexts: [{name: t, context: {cluster: c, user: u, namespace: gitea}}]\n`,
    );
    const cfgFile = join(dir, 'config.json');
    writeFileSync(cfgFile, JSON.stringify({ ...cfg(), organizations: [{ name: 'cli-org' }], timeoutSeconds: 5 }));
    const out: string[] = [];
    const err: string[] = [];
    let code = -1;
    const env = { GITEA_USERNAME: fake.adminUsername, GITEA_PASSWORD: fake.adminPassword };
    const io = { out: (s: string) => void out.push(s), err: (s: string) => void err.push(s), env, setExitCode: (c: number) => void (code = c), terminationLog: join(dir, 'absent') };

    await jobCommand(io).parseAsync(['gitea-bootstrap', '--config', cfgFile, '--kubeconfig', kc], { from: 'user' });
    expect(err.filter((l) => l.startsWith('error:'))).toEqual([]);
    expect(code).toBe(0);
    expect(out).toHaveLength(1);
    expect(JSON.parse(out[0])).toEqual({
      version: '1.24.3',
      username: 'giteaAdmin',
      tokenSecret: { namespace: 'gitea', name: 'gitea-credential' },
      organizations: [{ name: 'cli-org', created: true }],
    });
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({
      method: 'PATCH',
      url: '/api/v1/namespaces/gitea/secrets/gitea-credential?fieldManager=idpbuilder&force=true',
      contentType: 'application/apply-patch+yaml',
      auth: 'Bearer kube-tok',
    });
    const token = fake.tokensOf(fake.adminUsername).find((t) => t.name === 'admin')!.sha1;
    expect(JSON.parse(seen[0].body).data).toEqual({ token: Buffer.from(token).toString('base64'), username: Buffer.from('giteaAdmin').toString('base64') });
    const all = out.join('') + err.join('');
    expect(all).not.toContain(token);
    expect(all).not.toContain(fake.adminPassword);
    expect(readFileSync(cfgFile, 'utf8')).not.toContain(token);

    // the API server refuses the Secret: one error line with the KubeError message
    answer = 403;
    out.length = 0;
    err.length = 0;
    await jobCommand(io).parseAsync(['gitea-bootstrap', '--config', cfgFile, '--kubeconfig', kc], { from: 'user' });
    expect(code).toBe(1);
    expect(out).toEqual([]);
    expect(err.at(-1)).toBe('error: Kubernetes API PATCH /api/v1/namespaces/gitea/secrets/gitea-credential: secrets "gitea-credential" is forbidden: no RBAC\n');

    // no cluster and no kubeconfig
    await jobCommand({ ...io, env: {} }).parseAsync(['gitea-bootstrap', '--config', cfgFile], { from: 'user' });
    expect(code).toBe(1);
    expect(err.at(-1)).toBe('error: not running in a cluster: KUBERNETES_SERVICE_HOST/KUBERNETES_SERVICE_PORT are not set\n');
  });
});
