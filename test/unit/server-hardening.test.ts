/**
 * Fail-closed start-up (token, listen address), Job identities, and requests of impossible shape or depth
 * answered 400 before any hook runs.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/server/app.js';
import { controllers, decorators } from '../../src/controllers/registry.js';
import { ServeConfigError, authPolicy, isLoopback, readToken, serve, settingsFromEnv } from '../../src/server/serve.js';
import { main } from '../../src/cli/main.js';
import { jobObject } from '../../src/kit/jobs.js';
import { helmJob } from '../../src/kit/helm.js';
import { DEFAULT_SETTINGS } from '../../src/kit/hooks.js';
import fc from 'fast-check';
import { jsonDepthExceeds, MAX_JSON_DEPTH } from '../../src/server/json-depth.js';
import type { KubeObject } from '../../src/metacontroller/protocol.js';
import { parent, syncRequest, testEnv } from '../support/requests.js';
import { toMap } from '../support/world.js';

const dir = mkdtempSync(join(tmpdir(), 'idpbuilder-hardening-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, content: string) => {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
};

const apps: FastifyInstance[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((a) => a.close()));
});

/** A log destination that keeps the JSON lines. */
function logSink(): { stream: Writable; lines: () => Record<string, unknown>[]; text: () => string } {
  let buf = '';
  const stream = new Writable({
    write(chunk, _enc, cb) {
      buf += chunk.toString();
      cb();
    },
  });
  return { stream, text: () => buf, lines: () => buf.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>) };
}

describe('the bearer token at start-up', () => {
  it('an empty token file is a start-up error, never "auth off"', () => {
    const f = file('empty', '');
    expect(() => readToken(f, {})).toThrow(ServeConfigError);
    expect(() => readToken(f, {})).toThrow(`--token-file ${f} is empty: refusing to start without the bearer token it should hold`);
  });

  it('a whitespace-only token file is a start-up error', () => {
    for (const content of [' ', '\n', '\r\n', ' \t \n', '\n\n']) {
      expect(() => readToken(file('ws', content), {}), JSON.stringify(content)).toThrow(/is empty: refusing to start/);
    }
  });

  it('one trailing newline is removed; a token over several lines is refused', () => {
    expect(readToken(file('nl', 's3cret\n'), {})).toBe('s3cret');
    expect(readToken(file('crlf', 's3cret\r\n'), {})).toBe('s3cret');
    expect(readToken(file('plain', 's3cret'), {})).toBe('s3cret');
    expect(() => readToken(file('two', 'a\nb\n'), {})).toThrow('the token spans several lines');
  });

  it('a token file that cannot be read is a start-up error', () => {
    expect(() => readToken(join(dir, 'missing'), {})).toThrow(/cannot read the token \(ENOENT\)/);
  });

  it('an empty IDPBUILDER_WEBHOOK_TOKEN is a start-up error; unset means no token; the file wins', () => {
    expect(() => readToken(undefined, { IDPBUILDER_WEBHOOK_TOKEN: '' })).toThrow('IDPBUILDER_WEBHOOK_TOKEN is empty');
    expect(() => readToken(undefined, { IDPBUILDER_WEBHOOK_TOKEN: '  ' })).toThrow('IDPBUILDER_WEBHOOK_TOKEN is empty');
    expect(readToken(undefined, { IDPBUILDER_WEBHOOK_TOKEN: 'from-env' })).toBe('from-env');
    expect(readToken(undefined, {})).toBeUndefined();
    expect(readToken(file('f', 'from-file\n'), { IDPBUILDER_WEBHOOK_TOKEN: 'from-env' })).toBe('from-file');
  });

  it('the service refuses an empty token instead of turning the check off', () => {
    expect(() => buildApp({ controllers: [], token: '' })).toThrow('bearer token is empty');
    expect(() => buildApp({ controllers: [], token: ' ' })).toThrow('bearer token is empty');
  });
});

describe('the listen address without a token', () => {
  it('loopback addresses: 127.0.0.0/8, ::1, localhost', () => {
    for (const h of ['127.0.0.1', '127.1.2.3', '::1', '[::1]', 'localhost', 'LOCALHOST', '::ffff:127.0.0.1']) expect(isLoopback(h), h).toBe(true);
    for (const h of ['0.0.0.0', '::', '10.0.0.1', '128.0.0.1', '::2', 'example.com', '']) expect(isLoopback(h), h).toBe(false);
  });

  it('no token on 0.0.0.0 is refused, with how to fix it', () => {
    expect(() => authPolicy({ host: '0.0.0.0' })).toThrow(ServeConfigError);
    expect(() => authPolicy({ host: '0.0.0.0' })).toThrow(
      'refusing to serve on 0.0.0.0 without a bearer token: pass --token-file <file> (or set IDPBUILDER_WEBHOOK_TOKEN), listen on a loopback address (--host 127.0.0.1), or pass --allow-unauthenticated',
    );
    expect(() => authPolicy({ host: '::' })).toThrow(ServeConfigError);
  });

  it('no token on 127.0.0.1 is allowed, with a warning', () => {
    expect(authPolicy({ host: '127.0.0.1' })).toEqual({ auth: 'off', warning: 'no bearer token: any local process can call the hooks on 127.0.0.1' });
  });

  it('--allow-unauthenticated allows no token on 0.0.0.0, with a warning', () => {
    expect(authPolicy({ host: '0.0.0.0', allowUnauthenticated: true })).toEqual({
      auth: 'off',
      warning: 'no bearer token and listening on 0.0.0.0: anyone who can reach the port can call the hooks (--allow-unauthenticated)',
    });
  });

  it('with a token, bearer auth is on wherever it listens', () => {
    expect(authPolicy({ host: '0.0.0.0', token: 't' })).toEqual({ auth: 'bearer' });
  });
});

describe('serve', () => {
  it('logs that bearer auth is on, never the token', async () => {
    const log = logSink();
    const app = await serve({ port: 0, host: '127.0.0.1', tokenFile: file('tok', 'super-secret-token-value\n'), logDestination: log.stream, env: {} });
    apps.push(app);
    const line = log.lines().find((l) => l.msg === 'hook service listening (bearer auth on)');
    expect(line).toMatchObject({ auth: 'bearer', requestTimeoutSeconds: 30, bodyLimit: 8 * 1024 * 1024 });
    expect(log.text()).not.toContain('super-secret-token-value');
    const port = (app.server.address() as { port: number }).port;
    const res = await fetch(`http://127.0.0.1:${port}/hooks/giteaproviders/sync`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(res.status).toBe(401);
  });

  it('without a token on 127.0.0.1: starts, warns, and says auth is off', async () => {
    const log = logSink();
    apps.push(await serve({ port: 0, host: '127.0.0.1', logDestination: log.stream, env: {} }));
    const lines = log.lines();
    expect(lines.find((l) => l.level === 40)).toMatchObject({ auth: 'off', msg: 'no bearer token: any local process can call the hooks on 127.0.0.1' });
    expect(lines.find((l) => String(l.msg).startsWith('hook service listening'))).toMatchObject({ auth: 'off', msg: 'hook service listening (bearer auth OFF)' });
  });

  it('without a token on 0.0.0.0: refuses before listening; --allow-unauthenticated (or its variable) starts it', async () => {
    const log = logSink();
    await expect(serve({ port: 0, host: '0.0.0.0', logDestination: log.stream, env: {} })).rejects.toThrow(ServeConfigError);
    expect(log.text()).not.toContain('listening');
    apps.push(await serve({ port: 0, host: '0.0.0.0', allowUnauthenticated: true, logDestination: log.stream, env: {} }));
    apps.push(await serve({ port: 0, host: '0.0.0.0', logDestination: log.stream, env: { IDPBUILDER_ALLOW_UNAUTHENTICATED: '1' } }));
    expect(log.lines().filter((l) => l.msg === 'hook service listening (bearer auth OFF)')).toHaveLength(2);
  });

  it('`idpbuilder serve --token-file <empty>` exits 1 with the reason', async () => {
    const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      const f = file('empty2', '\n');
      expect(await main(['node', 'idpbuilder', 'serve', '--token-file', f, '--port', '0'])).toBe(1);
      expect(err.mock.calls.map((c) => String(c[0])).join('')).toContain(`error: --token-file ${f} is empty`);
    } finally {
      err.mockRestore();
    }
  });
});

describe('Job identities', () => {
  const env = testEnv();
  const owner = parent('GiteaProvider', 'gitea', {});
  const base = { name: 'j', namespace: 'ns', labels: {}, command: ['true'], configMap: 'j' };
  const sa = (job: KubeObject) => (job.spec as { template: { spec: { serviceAccountName: string } } }).template.spec.serviceAccountName;

  it('Helm install and uninstall Jobs run as the installer', () => {
    const plan = { releases: [{ name: 'gitea', namespace: 'gitea', repository: 'https://dl.gitea.com/charts/', chart: 'gitea', version: '12.0.0', values: {} }] };
    expect(sa(helmJob(owner, plan, env, 'install').job)).toBe('idpbuilder-installer');
    expect(sa(helmJob(owner, plan, env, 'uninstall').job)).toBe('idpbuilder-installer');
  });

  it('every other Job runs as the runner unless it asks for the installer', () => {
    expect(sa(jobObject(base, env))).toBe('idpbuilder-runner');
    expect(sa(jobObject({ ...base, serviceAccount: 'runner' }, env))).toBe('idpbuilder-runner');
    expect(sa(jobObject({ ...base, serviceAccount: 'installer' }, env))).toBe('idpbuilder-installer');
    const custom = { ...env, settings: { ...DEFAULT_SETTINGS, runnerServiceAccount: 'my-runner', jobServiceAccount: 'my-installer' } };
    expect(sa(jobObject(base, custom))).toBe('my-runner');
  });

  it('the runner ServiceAccount comes from IDPBUILDER_RUNNER_SERVICE_ACCOUNT (default idpbuilder-runner)', () => {
    expect(settingsFromEnv({}).runnerServiceAccount).toBe('idpbuilder-runner');
    expect(settingsFromEnv({ IDPBUILDER_RUNNER_SERVICE_ACCOUNT: 'r' })).toMatchObject({ runnerServiceAccount: 'r', jobServiceAccount: 'idpbuilder-installer' });
  });
});

describe('observed objects of impossible shape: 400 before the hook', () => {
  const gitea = parent('GiteaProvider', 'gitea', {});
  const job = (status: unknown): KubeObject => ({ apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'gitea-install', namespace: 'idpbuilder-system' }, status }) as KubeObject;
  const secret = (data: Record<string, unknown>): KubeObject => ({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'gitea-admin', namespace: 'idpbuilder-system' }, data }) as KubeObject;
  const call = (payload: string, url = '/hooks/giteaproviders/sync') => {
    const a = buildApp({ controllers: controllers(), decorators: decorators(), responseMemoSeconds: 0 });
    apps.push(a);
    return a.inject({ method: 'POST', url, headers: { 'content-type': 'application/json' }, payload });
  };

  it('well-shaped observed objects: 200', async () => {
    const req = syncRequest(gitea, toMap([job({ conditions: [{ type: 'Complete', status: 'True' }], succeeded: 1 }), secret({ password: Buffer.from('pw').toString('base64') })]));
    expect((await call(JSON.stringify(req))).statusCode).toBe(200);
  });

  it('a Job status that is a string', async () => {
    const res = await call(JSON.stringify(syncRequest(gitea, toMap([job('Complete')]))));
    expect(res.statusCode).toBe(400);
    expect(res.json().message).toBe('body.children["Job.batch/v1"]["idpbuilder-system/gitea-install"].status: must be object');
  });

  it('Job conditions that are not a list, a succeeded count that is not an integer', async () => {
    expect((await call(JSON.stringify(syncRequest(gitea, toMap([job({ conditions: 'Complete' })]))))).json().message).toMatch(/\.status\.conditions: must be array$/);
    expect((await call(JSON.stringify(syncRequest(gitea, toMap([job({ succeeded: 0.5 })]))))).json().message).toMatch(/\.status\.succeeded: must be integer$/);
  });

  it('a Pod whose container exit code is a string', async () => {
    const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'idpbuilder-system' }, status: { containerStatuses: [{ name: 'main', state: { terminated: { exitCode: '1' } } }] } } as unknown as KubeObject;
    const res = await call(JSON.stringify(syncRequest(gitea, {}, toMap([pod]))));
    expect(res.statusCode).toBe(400);
    expect(res.json().message).toBe('body.related["Pod.v1"]["idpbuilder-system/p"].status.containerStatuses[0].state.terminated.exitCode: must be integer');
  });

  it('Secret data that is not base64', async () => {
    const res = await call(JSON.stringify(syncRequest(gitea, toMap([secret({ password: 'not base64!' })]))));
    expect(res.statusCode).toBe(400);
    expect(res.json().message).toBe('body.children["Secret.v1"]["idpbuilder-system/gitea-admin"].data["password"]: must be base64');
    expect((await call(JSON.stringify(syncRequest(gitea, toMap([secret({ password: 5 })]))))).statusCode).toBe(400);
  });

  it('metadata.generation 1e309 (Infinity) or 1.5', async () => {
    const text = JSON.stringify(syncRequest(gitea, toMap([job({})]))).replace('"name":"gitea-install"', '"name":"gitea-install","generation":1e309');
    expect(text).toContain('1e309');
    const res = await call(text);
    expect(res.statusCode).toBe(400);
    expect(res.json().message).toBe('body.children["Job.batch/v1"]["idpbuilder-system/gitea-install"].metadata.generation: must be integer');
    // 1.5 the envelope's schema already refuses (Ajv's integer check lets Infinity through, not 1.5)
    const half = await call(text.replace('1e309', '1.5'));
    expect(half.statusCode).toBe(400);
    expect(half.json().message).toBe('body.children["Job.batch/v1"]["idpbuilder-system/gitea-install"].metadata.generation must be integer');
  });

  it('decorator requests: attachments and related are checked too', async () => {
    const d = decorators().find((x) => x.resources.some((r) => r.kind === 'Package'))!;
    const object = parent('Package', 'o', { source: { gitRepository: { name: 'r' } }, gitOpsProviderRef: { kind: 'ArgoCDProvider', name: 'argocd' } });
    const body = { controller: { metadata: { name: d.name } }, object, attachments: toMap([job(7)]), related: {}, finalizing: false };
    const res = await call(JSON.stringify(body), `/hooks/${d.name}/sync`);
    expect(res.statusCode).toBe(400);
    expect(res.json().message).toMatch(/^body\.attachments\["Job\.batch\/v1"\]\[.*\]\.status: must be object$/);
  });
});

describe('nesting depth of request bodies', () => {
  const nested = (depth: number) => {
    let v: Record<string, unknown> = { leaf: 'x' };
    for (let i = 1; i < depth; i++) v = { a: v };
    return v;
  };

  it('counts levels outside strings only', () => {
    const buf = (s: string) => Buffer.from(s);
    expect(jsonDepthExceeds(buf('[[[]]]'), 3)).toBe(false);
    expect(jsonDepthExceeds(buf('[[[[]]]]'), 3)).toBe(true);
    expect(jsonDepthExceeds(buf('{"a":"[[[[[[\\"{{{{"}'), 1)).toBe(false);
    expect(jsonDepthExceeds(buf('{"a":[1,{"b":2}],"c":{}}'), 3)).toBe(false);
    expect(jsonDepthExceeds(buf('{"a":[1,{"b":2}],"c":{}}'), 2)).toBe(true);
    // escapes: an escaped quote does not end the string, an escaped backslash before a quote does
    expect(jsonDepthExceeds('{"a\\\\":[["\\"[["]]}', 3)).toBe(false);
    expect(jsonDepthExceeds('{"a\\\\":[[["\\\\"]]]}', 3)).toBe(true);
    expect(jsonDepthExceeds('["\\"[[[[', 2)).toBe(false); // unterminated string
  });

  // The per-character scan the skipping one replaced (issue 15): the same verdict on any text.
  const reference = (s: string, limit: number) => {
    let depth = 0;
    let inString = false;
    for (let i = 0; i < s.length; i++) {
      const c = s[i];
      if (inString) {
        if (c === '\\') i++;
        else if (c === '"') inString = false;
      } else if (c === '"') inString = true;
      else if (c === '{' || c === '[') {
        if (++depth > limit) return true;
      } else if (c === '}' || c === ']') depth--;
    }
    return false;
  };

  it('skipping strings gives the verdict of the per-character scan, as text and as UTF-8 bytes', () => {
    const text = fc.string({ unit: fc.constantFrom('{', '}', '[', ']', '"', '\\', 'a', ':', ',', 'é'), maxLength: 60 });
    fc.assert(
      fc.property(text, fc.integer({ min: 0, max: 6 }), (s, limit) => {
        expect(jsonDepthExceeds(s, limit)).toBe(reference(s, limit));
        expect(jsonDepthExceeds(Buffer.from(s), limit)).toBe(reference(s, limit));
      }),
      { numRuns: 2000 },
    );
    fc.assert(
      fc.property(fc.json({ maxDepth: 8 }), fc.integer({ min: 0, max: 10 }), (s, limit) => {
        expect(jsonDepthExceeds(s, limit)).toBe(reference(s, limit));
      }),
      { numRuns: 500 },
    );
  });

  it('Helm values nested 6,000 levels: 400 before parsing, not a stack overflow (500)', async () => {
    const a = buildApp({ controllers: controllers(), responseMemoSeconds: 0 });
    apps.push(a);
    const post = (values: string) =>
      a.inject({ method: 'POST', url: '/hooks/giteaproviders/sync', headers: { 'content-type': 'application/json' }, payload: JSON.stringify(syncRequest(parent('GiteaProvider', 'gitea', { values: 'VALUES' }))).replace('"VALUES"', values) });
    // written as text: JSON.stringify itself overflows the stack at this depth
    const deep = await post(`${'{"a":'.repeat(6000)}{}${'}'.repeat(6000)}`);
    expect(deep.statusCode).toBe(400);
    expect(deep.json().message).toBe(`body: nested deeper than ${MAX_JSON_DEPTH} levels`);
    // values nested 60 levels (the request adds its own levels around them) are answered
    expect((await post(JSON.stringify(nested(60)))).statusCode).toBe(200);
  });
});
