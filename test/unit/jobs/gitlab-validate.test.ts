import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ApplySecretSpec } from '../../../src/kube/client.js';
import { jobCommand } from '../../../src/jobs/cli.js';
import type { ValidateDeps } from '../../../src/jobs/github-validate.js';
import { parseGitLabValidateConfig, runGitLabValidate, type GitLabValidateConfig } from '../../../src/jobs/gitlab-validate.js';
import { RESULT_ANNOTATION, type JobLogger } from '../../../src/jobs/repo-sync.js';
import { FakeGitLab, MAINTAINER, type GlGroup } from '../../fakes/gitlab.js';
import { rejectionOf } from '../../support/rejection.js';

const NOW = new Date('2026-03-01T12:00:00Z');

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
    this.applied.push(spec);
  }
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

const fake = new FakeGitLab();
let token: string;
let readOnly: string;
let platform: GlGroup;
let kube: MemKube;
let log: CaptureLog;

beforeAll(async () => {
  await fake.start();
  const bot = fake.addUser('platform-bot');
  token = fake.addToken(bot, ['api']);
  readOnly = fake.addToken(bot, ['read_api']);
  platform = fake.addGroup('platform', { visibility: 'internal', members: [[bot, MAINTAINER]] });
});
afterAll(() => fake.stop());
beforeEach(() => {
  kube = new MemKube();
  kube.secrets.set('idpbuilder-system/gitlab-token', { token });
  log = new CaptureLog();
  fake.clearFailures();
  fake.requests.length = 0;
});

const RESULT = { jobNamespace: 'idpbuilder-system', jobName: 'gitlab-validate-abc12345' };

function config(extra: Partial<GitLabValidateConfig> = {}): GitLabValidateConfig {
  return {
    endpoint: fake.url,
    group: 'platform',
    credentialsSecretRef: { namespace: 'idpbuilder-system', name: 'gitlab-token', key: 'token' },
    subgroups: [{ name: 'apps', description: 'Applications' }, { name: 'infra/clusters' }],
    result: RESULT,
    ...extra,
  };
}

function deps(extra: Partial<ValidateDeps> = {}): ValidateDeps {
  return { kube, log, now: () => NOW, env: {}, ...extra };
}

const failure = (p: Promise<unknown>): Promise<Error> => rejectionOf(p, Error);

describe('runGitLabValidate', () => {
  it('checks the group, ensures the subgroups and records the result on its Job', async () => {
    const r = await runGitLabValidate(config(), deps());
    const expected = { authenticated: true, group: 'platform', groupID: platform.id, checkedAt: '2026-03-01T12:00:00Z' };
    expect(r).toEqual(expected);
    expect(kube.annotations).toEqual([{ namespace: 'idpbuilder-system', name: 'gitlab-validate-abc12345', annotations: { [RESULT_ANNOTATION]: JSON.stringify(expected) } }]);
    expect(fake.group('platform/apps')).toMatchObject({ description: 'Applications', visibility: 'internal', parentId: platform.id });
    expect(fake.group('platform/infra/clusters')).toMatchObject({ parentId: fake.group('platform/infra')!.id });
    expect(fake.requests.every((x) => x.header === 'private-token')).toBe(true);
    expect(log.lines.join('\n')).not.toContain(token);

    fake.requests.length = 0;
    await runGitLabValidate(config(), deps());
    expect(fake.requests.filter((x) => x.method !== 'GET')).toEqual([]);
  });

  it('a nested group path and no subgroups', async () => {
    fake.addGroup('team', { parent: platform });
    const r = await runGitLabValidate(config({ group: 'platform/team', subgroups: [] }), deps());
    expect(r).toMatchObject({ group: 'platform/team', groupID: fake.group('platform/team')!.id });
    expect(fake.requests.map((x) => x.path)).toEqual(['/groups/platform%2Fteam']);
  });

  const failures: Array<[string, () => Promise<unknown>, string, string]> = [
    [
      'missing credentials Secret',
      async () => {
        kube.secrets.clear();
        return runGitLabValidate(config(), deps());
      },
      'SecretNotFound',
      'credentials Secret idpbuilder-system/gitlab-token not found',
    ],
    [
      'missing CA Secret',
      () => runGitLabValidate(config({ caSecretRef: { namespace: 'idpbuilder-system', name: 'gitlab-ca', key: 'ca.crt' } }), deps()),
      'SecretNotFound',
      'CA Secret idpbuilder-system/gitlab-ca not found',
    ],
    [
      'a wrong token',
      async () => {
        kube.secrets.set('idpbuilder-system/gitlab-token', { token: 'glpat-wrong' });
        return runGitLabValidate(config(), deps());
      },
      'Unauthorized',
      'GitLab: get group platform failed with HTTP 401: 401 Unauthorized',
    ],
    ['a missing group', () => runGitLabValidate(config({ group: 'ghost' }), deps()), 'NotFound', 'GitLab: get group ghost failed with HTTP 404: 404 Group Not Found'],
    [
      'a read-only token',
      async () => {
        kube.secrets.set('idpbuilder-system/gitlab-token', { token: readOnly });
        return runGitLabValidate(config({ subgroups: [{ name: 'new-one' }] }), deps());
      },
      'Forbidden',
      'GitLab: create group platform/new-one failed with HTTP 403: insufficient_scope: The request requires higher privileges than provided by the access token.',
    ],
    [
      'rate limited',
      async () => {
        fake.fail({ path: '/groups/platform', status: 429, text: 'Retry later\n', headers: { 'retry-after': '60' } });
        return runGitLabValidate(config(), deps());
      },
      'RateLimited',
      'GitLab: get group platform failed with HTTP 429: Retry later (retry after 60s)',
    ],
    [
      'a 422',
      async () => {
        fake.fail({ method: 'POST', path: '/groups', status: 422, message: 'Group path is reserved' });
        return runGitLabValidate(config({ subgroups: [{ name: 'reserved' }] }), deps());
      },
      'Invalid',
      'GitLab: create group platform/reserved failed with HTTP 422: Group path is reserved',
    ],
    [
      'a server error',
      async () => {
        fake.fail({ path: '/groups/platform', status: 502, message: '502 Bad Gateway' });
        return runGitLabValidate(config(), deps());
      },
      'ServerError',
      'GitLab: get group platform failed with HTTP 502: 502 Bad Gateway',
    ],
    ['an invalid config', () => runGitLabValidate({ ...config(), group: '../etc' }, deps()), 'Invalid', 'config.group "../etc" is not a group path'],
  ];

  for (const [what, run, code, message] of failures) {
    it(`${what}: result {authenticated:false, error:{code:${code}}} on the Job, then a failure`, async () => {
      const e = await failure(run());
      expect(e.message).toBe(message);
      expect(kube.result()).toEqual({ authenticated: false, error: { code, message }, checkedAt: '2026-03-01T12:00:00Z' });
      expect(JSON.stringify(kube.annotations)).not.toContain(token);
    });
  }

  it('parseGitLabValidateConfig: defaults', () => {
    expect(parseGitLabValidateConfig({ endpoint: 'https://gitlab.com', group: 'g', credentialsSecretRef: { namespace: 'n', name: 's' }, caSecretRef: { namespace: 'n', name: 'ca' } })).toEqual({
      endpoint: 'https://gitlab.com',
      group: 'g',
      credentialsSecretRef: { namespace: 'n', name: 's', key: 'token' },
      caSecretRef: { namespace: 'n', name: 'ca', key: 'ca.crt' },
      subgroups: [],
    });
    expect(() => parseGitLabValidateConfig({ endpoint: 'https://gitlab.com', group: 'g' })).toThrow('config.credentialsSecretRef must be an object');
  });
});

describe('idpbuilder job gitlab-validate (CLI)', () => {
  let api: Server;
  let apiURL: string;
  let work: string;
  const patches: Array<{ path: string; body: { metadata: { annotations: Record<string, string> } } }> = [];

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'gitlab-validate-cli-'));
    api = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if (req.method === 'GET' && req.url === '/api/v1/namespaces/idpbuilder-system/secrets/gitlab-token') {
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

  it('exit 0 with the result; exit 1 with the failure recorded', async () => {
    const kc = join(work, 'kubeconfig.yaml');
    writeFileSync(kc, `apiVersion: v1\nkind: Config\ncurrent-context: t\nclusters: [{name: c, cluster: {server: "${apiURL}"}}]\nusers: [{name: u, user: {token: kt}}]\ncontexts: [{name: t, context: {cluster: c, user: u}}]\n`);
    const cfgFile = join(work, 'config.json');
    writeFileSync(cfgFile, JSON.stringify(config({ subgroups: [] })));
    const out: string[] = [];
    const err: string[] = [];
    let code = -1;
    const io = { out: (s: string) => void out.push(s), err: (s: string) => void err.push(s), setExitCode: (c: number) => void (code = c), terminationLog: join(work, 'no-such-termination-log'), env: {} };
    await jobCommand(io).parseAsync(['gitlab-validate', '--config', cfgFile, '--kubeconfig', kc], { from: 'user' });
    expect(code).toBe(0);
    expect(JSON.parse(out[0])).toMatchObject({ authenticated: true, group: 'platform', groupID: platform.id });
    expect(patches.map((p) => p.path)).toEqual(['/apis/batch/v1/namespaces/idpbuilder-system/jobs/gitlab-validate-abc12345']);

    writeFileSync(cfgFile, JSON.stringify(config({ group: 'ghost', subgroups: [] })));
    await jobCommand(io).parseAsync(['gitlab-validate', '--config', cfgFile, '--kubeconfig', kc], { from: 'user' });
    expect(code).toBe(1);
    expect(err.at(-1)).toBe('error: GitLab: get group ghost failed with HTTP 404: 404 Group Not Found\n');
    expect(JSON.parse(patches[1].body.metadata.annotations[RESULT_ANNOTATION])).toMatchObject({ authenticated: false, error: { code: 'NotFound' } });
  });
});
