import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { GitServerError } from '../../../src/gitea/client.js';
import type { ApplySecretSpec } from '../../../src/kube/client.js';
import { jobCommand } from '../../../src/jobs/cli.js';
import { ValidateError, parseGitHubValidateConfig, runGitHubValidate, type GitHubValidateConfig, type ValidateDeps } from '../../../src/jobs/github-validate.js';
import { RESULT_ANNOTATION, type JobLogger } from '../../../src/jobs/repo-sync.js';
import { FakeGitHub } from '../../fakes/github.js';
import { rejectionOf } from '../../support/rejection.js';

const NOW = new Date('2026-03-01T12:00:00Z');
const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const PRIVATE_PEM = privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();

class MemKube {
  secrets = new Map<string, Record<string, string>>();
  annotations: Array<{ namespace: string; name: string; annotations: Record<string, string | null> }> = [];
  applied: ApplySecretSpec[] = [];
  async getSecret(namespace: string, name: string): Promise<Record<string, string> | undefined> {
    const s = this.secrets.get(`${namespace}/${name}`);
    return s ? { ...s } : undefined;
  }
  async annotateJob(namespace: string, name: string, annotations: Record<string, string | null>): Promise<void> {
    this.annotations.push({ namespace, name, annotations });
  }
  async applySecret(spec: ApplySecretSpec): Promise<void> {
    this.applied.push(structuredClone(spec));
  }
  /** The last result annotation, parsed. */
  result(): Record<string, unknown> {
    const a = this.annotations.at(-1);
    expect(a).toBeDefined();
    return JSON.parse(a!.annotations[RESULT_ANNOTATION] as string) as Record<string, unknown>;
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

const fake = new FakeGitHub({ now: () => NOW });
let token: string;
let kube: MemKube;
let log: CaptureLog;
let appID: number;

beforeAll(async () => {
  await fake.start();
  fake.addOrg('acme', { admins: ['platform-bot'] });
  fake.addOrg('elsewhere');
  token = fake.addToken('platform-bot');
  appID = fake.addApp(publicKey.export({ type: 'spki', format: 'pem' }).toString(), ['acme'], { id: 777 }).id;
});
afterAll(() => fake.stop());
beforeEach(() => {
  kube = new MemKube();
  kube.secrets.set('idpbuilder-system/github-credentials', { token });
  kube.secrets.set('idpbuilder-system/github-app', { 'private-key': PRIVATE_PEM });
  log = new CaptureLog();
  fake.clearFailures();
  fake.resetRateLimit();
  fake.requests.length = 0;
});

const RESULT = { jobNamespace: 'idpbuilder-system', jobName: 'github-validate-abc12345' };

function tokenConfig(extra: Partial<GitHubValidateConfig> = {}): GitHubValidateConfig {
  return {
    endpoint: fake.apiURL,
    organization: 'acme',
    authType: 'token',
    credentialsSecretRef: { namespace: 'idpbuilder-system', name: 'github-credentials', key: 'token' },
    teams: [
      { name: 'Platform Admins', permission: 'admin' },
      { name: 'developers', permission: 'push' },
    ],
    result: RESULT,
    ...extra,
  };
}

function appConfig(extra: Partial<GitHubValidateConfig> = {}): GitHubValidateConfig {
  return {
    endpoint: fake.apiURL,
    organization: 'acme',
    authType: 'app',
    appAuth: { appID: String(appID), privateKeySecretRef: { namespace: 'idpbuilder-system', name: 'github-app', key: 'private-key' } },
    teams: [],
    tokenSecret: {
      namespace: 'idpbuilder-system',
      name: 'github-github-token',
      labels: { 'idpbuilder.cnoe.io/githubprovider': 'github', 'idpbuilder.cnoe.io/role': 'credentials' },
      ownerReference: { apiVersion: 'idpbuilder.cnoe.io/v1alpha2', kind: 'GitHubProvider', name: 'github', uid: 'uid-github' },
    },
    result: RESULT,
    ...extra,
  };
}

function deps(extra: Partial<ValidateDeps> = {}): ValidateDeps {
  return { kube, log, now: () => NOW, env: {}, ...extra };
}

const failure = (p: Promise<unknown>): Promise<Error> => rejectionOf(p, Error);

describe('runGitHubValidate with a token', () => {
  it('checks the organization, ensures the teams, reads the rate limit and records the result on its Job', async () => {
    const r = await runGitHubValidate(tokenConfig(), deps());
    const reset = new Date((Math.floor(NOW.getTime() / 1000) + 3600) * 1000).toISOString().replace('.000Z', 'Z');
    const expected = { authenticated: true, organization: 'acme', rateLimit: { remaining: 4995, limit: 5000, resetAt: reset }, checkedAt: '2026-03-01T12:00:00Z' };
    expect(r).toEqual(expected);
    expect(kube.annotations).toEqual([{ namespace: 'idpbuilder-system', name: 'github-validate-abc12345', annotations: { [RESULT_ANNOTATION]: JSON.stringify(expected) } }]);
    expect([...fake.org('acme')!.teams.keys()].sort()).toEqual(['developers', 'platform-admins']);
    expect(fake.requests.map((x) => `${x.method} ${x.path}`)).toEqual([
      'GET /orgs/acme',
      'GET /orgs/acme/teams/platform-admins',
      'POST /orgs/acme/teams',
      'GET /orgs/acme/teams/developers',
      'POST /orgs/acme/teams',
      'GET /rate_limit',
    ]);
    expect(kube.applied).toEqual([]); // token auth writes no Secret
    expect(log.lines.join('\n')).not.toContain(token);

    // again: the teams exist
    fake.requests.length = 0;
    await runGitHubValidate(tokenConfig(), deps());
    expect(fake.requests.filter((x) => x.method === 'POST')).toEqual([]);
  });

  it('a token saved with a trailing newline works', async () => {
    kube.secrets.set('idpbuilder-system/github-credentials', { token: `${token}\n` });
    expect(await runGitHubValidate(tokenConfig({ teams: [] }), deps())).toMatchObject({ authenticated: true });
  });

  it('the result target falls back to the Job env (JOB_NAMESPACE, JOB_NAME)', async () => {
    await runGitHubValidate(tokenConfig({ result: undefined }), deps({ env: { JOB_NAMESPACE: 'ns1', JOB_NAME: 'job1' } }));
    expect(kube.annotations.map((a) => `${a.namespace}/${a.name}`)).toEqual(['ns1/job1']);
  });

  const failures: Array<[string, () => Promise<unknown>, string, string]> = [
    [
      'missing credentials Secret',
      () => runGitHubValidate(tokenConfig({ credentialsSecretRef: { namespace: 'idpbuilder-system', name: 'nope', key: 'token' } }), deps()),
      'SecretNotFound',
      'credentials Secret idpbuilder-system/nope not found',
    ],
    [
      'a Secret without the key',
      () => runGitHubValidate(tokenConfig({ credentialsSecretRef: { namespace: 'idpbuilder-system', name: 'github-credentials', key: 'pat' } }), deps()),
      'SecretNotFound',
      'credentials Secret idpbuilder-system/github-credentials has no key "pat"',
    ],
    [
      'a wrong token',
      async () => {
        kube.secrets.set('idpbuilder-system/github-credentials', { token: 'ghp_not-a-real-token' });
        return runGitHubValidate(tokenConfig(), deps());
      },
      'Unauthorized',
      'GitHub: get organization acme failed with HTTP 401: Bad credentials',
    ],
    ['a missing organization', () => runGitHubValidate(tokenConfig({ organization: 'ghost' }), deps()), 'NotFound', 'GitHub: get organization ghost failed with HTTP 404: Not Found'],
    [
      'no right to create teams',
      () => runGitHubValidate(tokenConfig({ organization: 'elsewhere' }), deps()),
      'Forbidden',
      'GitHub: create team Platform Admins in elsewhere failed with HTTP 403: You must be an organization owner or team maintainer to create a team.',
    ],
    [
      'an exhausted rate limit',
      async () => {
        fake.resetRateLimit(0);
        return runGitHubValidate(tokenConfig(), deps());
      },
      'RateLimited',
      'GitHub: get organization acme failed with HTTP 403: API rate limit exceeded for user ID 1.',
    ],
    [
      'a server error',
      async () => {
        fake.fail({ path: '/rate_limit', status: 500, message: 'Server Error' });
        return runGitHubValidate(tokenConfig(), deps());
      },
      'ServerError',
      'GitHub: get rate limit failed with HTTP 500: Server Error',
    ],
    [
      'a 422 on team creation',
      async () => {
        fake.fail({ method: 'POST', path: '/orgs/acme/teams', status: 422, message: 'Validation Failed' });
        return runGitHubValidate(tokenConfig({ teams: [{ name: 'brand-new', permission: 'pull' }] }), deps());
      },
      'Invalid',
      'GitHub: create team brand-new in acme failed with HTTP 422: Validation Failed',
    ],
    [
      'an invalid config',
      () => runGitHubValidate({ ...tokenConfig(), endpoint: 'api.github.com' }, deps()),
      'Invalid',
      'config.endpoint must be an http(s) URL',
    ],
    [
      'an unreachable API',
      () => runGitHubValidate(tokenConfig({ endpoint: 'http://127.0.0.1:1' }), deps()),
      'Network',
      'GitHub: get organization acme failed: cannot reach http://127.0.0.1:1 (ECONNREFUSED)',
    ],
  ];

  for (const [what, run, code, message] of failures) {
    it(`${what}: result {authenticated:false, error:{code:${code}}} on the Job, then a failure`, async () => {
      const e = await failure(run());
      expect(e.message.startsWith(message)).toBe(true);
      const result = kube.result();
      expect(result).toEqual({ authenticated: false, error: { code, message: expect.stringMatching(/./) }, checkedAt: '2026-03-01T12:00:00Z' });
      expect((result.error as { message: string }).message.startsWith(message)).toBe(true);
      expect(kube.annotations[0].name).toBe('github-validate-abc12345');
      expect(JSON.stringify(kube.annotations)).not.toContain(token);
    });
  }

  it('a failing annotation does not hide the real error', async () => {
    kube.annotateJob = async () => {
      throw new Error('Kubernetes API PATCH: forbidden');
    };
    const e = await failure(runGitHubValidate(tokenConfig({ organization: 'ghost' }), deps()));
    expect(e).toBeInstanceOf(GitServerError);
    expect(log.lines.some((l) => l.startsWith('warn cannot record the result on the Job'))).toBe(true);
  });
});

describe('runGitHubValidate with a GitHub App', () => {
  it('mints an installation token into the token Secret (owned by the provider) and validates with it', async () => {
    const r = await runGitHubValidate(appConfig(), deps());
    expect(r).toMatchObject({ authenticated: true, organization: 'acme', rateLimit: { limit: 5000 } });
    expect(kube.applied).toHaveLength(1);
    const s = kube.applied[0];
    const minted = fake.installationTokens().at(-1)!;
    expect(s).toEqual({
      namespace: 'idpbuilder-system',
      name: 'github-github-token',
      labels: { 'app.kubernetes.io/managed-by': 'idpbuilder', 'idpbuilder.cnoe.io/githubprovider': 'github', 'idpbuilder.cnoe.io/role': 'credentials' },
      annotations: { 'idpbuilder.cnoe.io/expires-at': '2026-03-01T13:00:00Z' },
      ownerReferences: [{ apiVersion: 'idpbuilder.cnoe.io/v1alpha2', kind: 'GitHubProvider', name: 'github', uid: 'uid-github' }],
      stringData: { token: minted.token, username: 'x-access-token' },
    });
    expect(fake.requests.map((x) => `${x.method} ${x.path} ${x.auth}`).slice(0, 3)).toEqual([
      'GET /orgs/acme/installation jwt',
      `POST /app/installations/${minted.installationID}/access_tokens jwt`,
      'GET /orgs/acme token',
    ]);
    const text = JSON.stringify(kube.annotations) + log.lines.join('\n');
    expect(text).not.toContain(minted.token);
    expect(text).not.toContain('PRIVATE KEY');
  });

  it('failures: no private key Secret, app not installed, a wrong key', async () => {
    kube.secrets.delete('idpbuilder-system/github-app');
    await failure(runGitHubValidate(appConfig(), deps()));
    expect(kube.result()).toMatchObject({ authenticated: false, error: { code: 'SecretNotFound', message: 'GitHub App private key Secret idpbuilder-system/github-app not found' } });

    kube.secrets.set('idpbuilder-system/github-app', { 'private-key': PRIVATE_PEM });
    await failure(runGitHubValidate(appConfig({ organization: 'elsewhere' }), deps()));
    expect(kube.result()).toMatchObject({ error: { code: 'Forbidden', message: `GitHub: the GitHub App ${appID} is not installed on organization elsewhere` } });

    kube.secrets.set('idpbuilder-system/github-app', { 'private-key': generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() });
    await failure(runGitHubValidate(appConfig(), deps()));
    expect(kube.result()).toMatchObject({ error: { code: 'Unauthorized' } });

    kube.secrets.set('idpbuilder-system/github-app', { 'private-key': 'garbage' });
    await failure(runGitHubValidate(appConfig(), deps()));
    expect(kube.result()).toMatchObject({ error: { code: 'Invalid', message: 'GitHub App private key is not a valid PEM key' } });
    expect(kube.applied).toEqual([]);
  });
});

describe('parseGitHubValidateConfig', () => {
  it('defaults and shape errors', () => {
    const c = parseGitHubValidateConfig({ endpoint: 'https://api.github.com', organization: 'o', credentialsSecretRef: { namespace: 'n', name: 's' } });
    expect(c).toEqual({ endpoint: 'https://api.github.com', organization: 'o', authType: 'token', credentialsSecretRef: { namespace: 'n', name: 's', key: 'token' }, teams: [] });
    const bad = (raw: unknown, msg: string) => {
      expect(() => parseGitHubValidateConfig(raw)).toThrow(msg);
      try {
        parseGitHubValidateConfig(raw);
      } catch (e) {
        expect(e).toBeInstanceOf(ValidateError);
        expect((e as ValidateError).code).toBe('Invalid');
      }
    };
    bad({ endpoint: 'https://x', organization: 'o' }, 'config.credentialsSecretRef is required with authType token');
    bad({ endpoint: 'https://x', organization: 'o', authType: 'app' }, 'config.appAuth is required with authType app');
    bad({ endpoint: 'https://x', organization: 'o', authType: 'app', appAuth: { appID: '1', privateKeySecretRef: { namespace: 'n', name: 'k' } } }, 'config.tokenSecret is required with authType app');
    bad({ endpoint: 'https://x', organization: 'o', authType: 'oauth' }, 'config.authType must be token or app');
    bad({ ...tokenConfig(), teams: [{ name: 't', permission: 'write' }] }, 'config.teams[0].permission must be one of pull, triage, push, maintain, admin');
  });
});

describe('idpbuilder job github-validate (CLI)', () => {
  let api: Server;
  let apiURL: string;
  let work: string;
  const patches: Array<{ path: string; body: { metadata: { annotations: Record<string, string> } } }> = [];

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'github-validate-cli-'));
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
  afterAll(async () => {
    await new Promise<void>((r) => api.close(() => r()));
    rmSync(work, { recursive: true, force: true });
  });

  it('prints the result and exits 0; a failure annotates, prints one error line and exits 1', async () => {
    const kc = join(work, 'kubeconfig.yaml');
    writeFileSync(kc, `apiVersion: v1\nkind: Config\ncurrent-context: t\nclusters: [{name: c, cluster: {server: "${apiURL}"}}]\nusers: [{name: u, user: {token: kt}}]\ncontexts: [{name: t, context: {cluster: c, user: u}}]\n`);
    const cfgFile = join(work, 'config.json');
    writeFileSync(cfgFile, JSON.stringify(tokenConfig({ teams: [] })));
    const term = join(work, 'termination-log');
    writeFileSync(term, '');
    const out: string[] = [];
    const err: string[] = [];
    let code = -1;
    const io = { out: (s: string) => void out.push(s), err: (s: string) => void err.push(s), setExitCode: (c: number) => void (code = c), terminationLog: term, env: {} };

    await jobCommand(io).parseAsync(['github-validate', '--config', cfgFile, '--kubeconfig', kc], { from: 'user' });
    expect(code).toBe(0);
    expect(JSON.parse(out[0])).toMatchObject({ authenticated: true, organization: 'acme' });
    expect(patches).toHaveLength(1);
    expect(patches[0].path).toBe('/apis/batch/v1/namespaces/idpbuilder-system/jobs/github-validate-abc12345');
    expect(JSON.parse(patches[0].body.metadata.annotations[RESULT_ANNOTATION])).toMatchObject({ authenticated: true });

    out.length = 0;
    writeFileSync(cfgFile, JSON.stringify(tokenConfig({ teams: [], organization: 'ghost' })));
    await jobCommand(io).parseAsync(['github-validate', '--config', cfgFile, '--kubeconfig', kc], { from: 'user' });
    expect(code).toBe(1);
    expect(out).toEqual([]);
    expect(err.at(-1)).toBe('error: GitHub: get organization ghost failed with HTTP 404: Not Found\n');
    expect(readFileSync(term, 'utf8')).toBe('GitHub: get organization ghost failed with HTTP 404: Not Found');
    expect(JSON.parse(patches[1].body.metadata.annotations[RESULT_ANNOTATION])).toEqual({
      authenticated: false,
      error: { code: 'NotFound', message: 'GitHub: get organization ghost failed with HTTP 404: Not Found' },
      checkedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/),
    });
    expect(err.join('')).not.toContain(token);
  });
});
