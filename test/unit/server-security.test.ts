/** Security of the hook service: bearer token, TLS, concurrency limit, size limit, secrets in logs. */
import { connect } from 'node:net';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { Agent, request } from 'undici';
import { bearerCheck, buildApp, type AppOptions } from '../../src/server/app.js';
import { controllers } from '../../src/controllers/registry.js';
import { KIND_BY_NAME } from '../../src/api/kinds.js';
import type { ControllerDef, Hooks } from '../../src/kit/hooks.js';
import type { KubeObject } from '../../src/metacontroller/protocol.js';
import { Command } from 'commander';
import { configureServeCommand, createLogger, serveOptionsFromEnv } from '../../src/server/serve.js';
import { generateCertificate } from '../../src/cli/tls.js';
import { parent, syncRequest } from '../support/requests.js';
import { next } from '../support/world.js';

const apps: FastifyInstance[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((a) => a.close()));
});
function app(opts: Partial<AppOptions>) {
  const a = buildApp({ controllers: controllers(), ...opts });
  apps.push(a);
  return a;
}
async function listen(a: FastifyInstance): Promise<number> {
  await a.listen({ port: 0, host: '127.0.0.1' });
  return (a.server.address() as { port: number }).port;
}

const gitea = parent('GiteaProvider', 'gitea', {});

describe('bearer token', () => {
  it('accepts exactly "Bearer <token>" and nothing else, whatever the length', () => {
    const ok = bearerCheck('s3cret-token');
    expect(ok('Bearer s3cret-token')).toBe(true);
    for (const bad of [undefined, '', 'Bearer', 'Bearer ', 'bearer s3cret-token', 'Bearer s3cret-toke', 'Bearer s3cret-token ', 'Basic s3cret-token', 'x'.repeat(10_000), ['Bearer s3cret-token']]) {
      expect(ok(bad), String(bad).slice(0, 30)).toBe(false);
    }
    expect(bearerCheck(undefined)(undefined)).toBe(true);
  });

  it('refuses a request without the token before reading its body', async () => {
    const a = app({ token: 's3cret' });
    const call = (headers: Record<string, string>, payload: string) => a.inject({ method: 'POST', url: '/hooks/giteaproviders/sync', headers: { 'content-type': 'application/json', ...headers }, payload });
    expect((await call({}, JSON.stringify(syncRequest(gitea)))).statusCode).toBe(401);
    // not JSON, and too big: still 401, the body is never parsed
    expect((await call({ authorization: 'Bearer nope' }, '{"parent": ')).statusCode).toBe(401);
    expect((await call({ authorization: 'Bearer s3cret' }, JSON.stringify(syncRequest(gitea)))).statusCode).toBe(200);
    expect((await a.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(200);
  });
});

describe('TLS', () => {
  it('serves HTTPS with the given certificate, for a client that trusts its CA', async () => {
    const cert = await generateCertificate(['localhost']);
    const a = app({ tls: cert, token: 't' });
    const port = await listen(a);
    const dispatcher = new Agent({ connect: { ca: cert.cert, servername: 'localhost' } });
    try {
      const res = await request(`https://127.0.0.1:${port}/hooks/giteaproviders/sync`, {
        method: 'POST',
        dispatcher,
        headers: { 'content-type': 'application/json', authorization: 'Bearer t' },
        body: JSON.stringify(syncRequest(gitea)),
      });
      expect(res.statusCode).toBe(200);
      expect(((await res.body.json()) as { status: { phase: string } }).status.phase).toBe('Installing');
      // a client that does not trust the CA is refused
      const untrusted = await request(`https://127.0.0.1:${port}/healthz`, { dispatcher: new Agent({ connect: { servername: 'localhost' } }) }).catch((e: Error) => e);
      expect(untrusted).toBeInstanceOf(Error);
    } finally {
      await dispatcher.close();
    }
  });

  it('declares the serve flags for the CLI', () => {
    const cmd = configureServeCommand(new Command('serve'), Number);
    const flags = cmd.options.map((o) => o.long);
    for (const f of ['--port', '--host', '--token-file', '--log-level', '--tls-cert', '--tls-key', '--max-concurrency', '--events', '--response-memo-seconds']) expect(flags).toContain(f);
  });

  it('takes the certificate files from flags or the environment', () => {
    expect(serveOptionsFromEnv({}, { IDPBUILDER_TLS_CERT: '/tls/tls.crt', IDPBUILDER_TLS_KEY: '/tls/tls.key', IDPBUILDER_MAX_CONCURRENCY: '8' })).toMatchObject({ tlsCert: '/tls/tls.crt', tlsKey: '/tls/tls.key', maxConcurrency: 8 });
    expect(serveOptionsFromEnv({ tlsCert: 'a', tlsKey: 'b', maxConcurrency: 2 }, { IDPBUILDER_TLS_CERT: 'x' })).toMatchObject({ tlsCert: 'a', tlsKey: 'b', maxConcurrency: 2 });
  });
});

describe('limits', () => {
  it('answers 503 with Retry-After (not 429) beyond --max-concurrency, and serves again once a request finishes', async () => {
    const a = app({ maxConcurrency: 1 });
    const port = await listen(a);
    const body = JSON.stringify(syncRequest(gitea));
    // a slow client: headers and half the body, then nothing for a while
    const slow = connect(port, '127.0.0.1');
    await new Promise<void>((r) => slow.once('connect', () => r()));
    let slowAnswer = '';
    slow.on('data', (d) => (slowAnswer += d.toString()));
    slow.write(`POST /hooks/giteaproviders/sync HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body.slice(0, 100)}`);
    await new Promise((r) => setTimeout(r, 100));

    const busy = await request(`http://127.0.0.1:${port}/hooks/giteaproviders/sync`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    expect(busy.statusCode).toBe(503);
    expect(busy.headers['retry-after']).toBe('1');
    await busy.body.dump();
    // health and metrics are not hook requests: never refused
    const metrics = await request(`http://127.0.0.1:${port}/metrics`);
    expect(await metrics.body.text()).toMatch(/idpbuilder_hook_requests_rejected_total\{reason="concurrency"\} 1/);

    slow.write(body.slice(100));
    await new Promise<void>((r) => slow.once('close', () => r()));
    expect(slowAnswer).toMatch(/^HTTP\/1\.1 200/);
    const after = await request(`http://127.0.0.1:${port}/hooks/giteaproviders/sync`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    expect(after.statusCode).toBe(200);
    await after.body.dump();
  });

  it('refuses bodies over the size limit with 413, memo or not', async () => {
    for (const responseMemoSeconds of [0, 30]) {
      const a = app({ bodyLimit: 2048, responseMemoSeconds });
      const big = syncRequest(parent('GiteaProvider', 'gitea', { version: 'x'.repeat(4000) }));
      const res = await a.inject({ method: 'POST', url: '/hooks/giteaproviders/sync', payload: big });
      expect(res.statusCode).toBe(413);
    }
  });
});

describe('secrets in logs', () => {
  it('never logs a Secret value nor the bearer token, even at trace level and when a hook fails', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _enc, cb) {
        lines.push(chunk.toString());
        cb();
      },
    });
    const logger = createLogger('trace', sink);
    const token = 'tok-7e1c0d3a9b';
    const plain = 'pa55-w0rd-that-must-not-leak';
    const b64 = Buffer.from(plain).toString('base64');
    const secret = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'gitea-gitea-admin', namespace: 'idpbuilder-system' }, data: { password: b64, username: Buffer.from('giteaAdmin').toString('base64') } } as KubeObject;
    const failing: Hooks = {
      sync: (req) => {
        const err = new Error('hook failed on purpose') as Error & { request?: unknown; secret?: unknown };
        // an error that drags the request along must not put it in the log
        err.request = req;
        err.secret = plain;
        throw err;
      },
    };
    const defs: ControllerDef[] = [...controllers().filter((c) => c.kind.kind !== 'GiteaProvider'), { kind: KIND_BY_NAME.get('GiteaProvider')!, children: [], hooks: failing }];
    const a = app({ controllers: defs, logger, token });
    const withSecret = syncRequest(gitea, { 'Secret.v1': { 'idpbuilder-system/gitea-gitea-admin': secret } });
    const headers = { authorization: `Bearer ${token}` };
    expect((await a.inject({ method: 'POST', url: '/hooks/giteaproviders/sync', payload: withSecret, headers })).statusCode).toBe(500);
    // a request that fails validation, with the Secret among its children
    const bad = syncRequest(parent('GiteaProvider', 'gitea', { nope: 1 }), withSecret.children);
    expect((await a.inject({ method: 'POST', url: '/hooks/giteaproviders/sync', payload: bad, headers })).statusCode).toBe(400);
    // wrong token: the header is not logged either
    expect((await a.inject({ method: 'POST', url: '/hooks/giteaproviders/sync', payload: withSecret, headers: { authorization: `Bearer ${token}x` } })).statusCode).toBe(401);
    // a real controller whose observed children carry the Secret
    const real = buildApp({ controllers: controllers(), logger, token });
    apps.push(real);
    const first = await real.inject({ method: 'POST', url: '/hooks/giteaproviders/sync', payload: withSecret, headers });
    expect(first.statusCode).toBe(200);
    const again = next(withSecret, first.json());
    expect((await real.inject({ method: 'POST', url: '/hooks/giteaproviders/sync', payload: again, headers })).statusCode).toBe(200);

    const log = lines.join('');
    expect(lines.length).toBeGreaterThan(5);
    expect(log).toContain('hook failed');
    for (const s of [plain, b64, token]) expect(log).not.toContain(s);
    // and a stray object with a data field is redacted by path
    logger.info({ secret }, 'object with data');
    expect(lines.at(-1)).not.toContain(b64);
  });
});
