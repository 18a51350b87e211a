import { afterEach, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/server/app.js';
import { controllers, decorators } from '../../src/controllers/registry.js';
import { KIND_BY_NAME } from '../../src/api/kinds.js';
import type { ControllerDef, Hooks } from '../../src/kit/hooks.js';
import { parent, syncRequest } from '../support/requests.js';
import { compositeController, decoratorController } from '../../src/codegen/manifests.js';

const apps: FastifyInstance[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((a) => a.close()));
});

/** A controller for GiteaProvider whose hooks are given by the test. */
function fake(hooks: Hooks): ControllerDef {
  return { kind: KIND_BY_NAME.get('GiteaProvider')!, children: [], hooks };
}

function app(opts: Parameters<typeof buildApp>[0]) {
  const a = buildApp(opts);
  apps.push(a);
  return a;
}

const giteaParent = parent('GiteaProvider', 'gitea', { namespace: 'gitea' });
const okHooks: Hooks = {
  sync: () => ({ status: { phase: 'Pending' }, children: [] }),
  customize: () => ({ relatedResources: [] }),
};

describe('hook service', () => {
  it('answers 400 naming the missing field when the body is not a Metacontroller request', async () => {
    const res = await app({ controllers: [fake(okHooks)] }).inject({ method: 'POST', url: '/hooks/giteaproviders/sync', payload: { hello: 'world' } });
    expect(res.statusCode).toBe(400);
    expect(res.json().message).toMatch(/parent/);
  });

  it('answers 400 when the body is not JSON', async () => {
    const res = await app({ controllers: [fake(okHooks)] }).inject({
      method: 'POST',
      url: '/hooks/giteaproviders/sync',
      headers: { 'content-type': 'application/json' },
      payload: '{"parent": ',
    });
    expect(res.statusCode).toBe(400);
  });

  it('answers 400 naming the field when the parent violates its schema, or is of another kind', async () => {
    const a = app({ controllers: [fake(okHooks)] });
    const bad = parent('GiteaProvider', 'gitea', { database: 'x' });
    let res = await a.inject({ method: 'POST', url: '/hooks/giteaproviders/sync', payload: syncRequest(bad) });
    expect(res.statusCode).toBe(400);
    expect(res.json().message).toBe('body.parent.spec.database: unknown field');
    res = await a.inject({ method: 'POST', url: '/hooks/giteaproviders/sync', payload: syncRequest(parent('NginxGateway', 'n', {})) });
    expect(res.statusCode).toBe(400);
    expect(res.json().message).toContain('body.parent.kind');
  });

  it('answers 404 to unknown kinds and unknown hooks', async () => {
    const a = app({ controllers: [fake(okHooks)] });
    expect((await a.inject({ method: 'POST', url: '/hooks/widgets/sync', payload: syncRequest(giteaParent) })).statusCode).toBe(404);
    expect((await a.inject({ method: 'POST', url: '/hooks/giteaproviders/explode', payload: syncRequest(giteaParent) })).statusCode).toBe(404);
    // no finalize hook defined for this controller
    expect((await a.inject({ method: 'POST', url: '/hooks/giteaproviders/finalize', payload: syncRequest(giteaParent) })).statusCode).toBe(404);
  });

  it('maps a throwing hook to 500 with a short error id, and logs the detail', async () => {
    const lines: string[] = [];
    const pino = (await import('pino')).default;
    const logger = pino({ level: 'error' }, { write: (s: string) => lines.push(s) });
    const a = app({ controllers: [fake({ sync: () => { throw new Error('kaboom in hook'); } })], logger });
    const res = await a.inject({ method: 'POST', url: '/hooks/giteaproviders/sync', payload: syncRequest(giteaParent) });
    expect(res.statusCode).toBe(500);
    const body = res.json();
    expect(body.id).toMatch(/^[0-9a-f]{8}$/);
    expect(body.message).not.toContain('kaboom');
    const logged = lines.map((l) => JSON.parse(l)).find((l) => l.errorId === body.id);
    expect(logged?.err?.message).toBe('kaboom in hook');
  });

  it('answers only the fields v2 strict mode accepts, with children in a stable order', async () => {
    const child = (name: string) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name } });
    const a = app({
      controllers: [fake({ sync: () => ({ status: { phase: 'Ready' }, children: [child('b'), child('a')], bogus: 1, resyncAfterSeconds: 30 }) as never })],
    });
    const res = await a.inject({ method: 'POST', url: '/hooks/giteaproviders/sync', payload: syncRequest(giteaParent) });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(Object.keys(body).sort()).toEqual(['children', 'resyncAfterSeconds', 'status']);
    expect(body.children.map((c: any) => c.metadata.name)).toEqual(['a', 'b']);
  });

  it('checks the bearer token when one is configured', async () => {
    const a = app({ controllers: [fake(okHooks)], token: 's3cret' });
    const call = (authorization?: string) =>
      a.inject({ method: 'POST', url: '/hooks/giteaproviders/sync', payload: syncRequest(giteaParent), headers: authorization ? { authorization } : {} });
    expect((await call()).statusCode).toBe(401);
    expect((await call('Bearer wrong')).statusCode).toBe(401);
    expect((await call('Bearer s3cret')).statusCode).toBe(200);
    expect((await a.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
  });

  it('refuses bodies over the size limit', async () => {
    const a = app({ controllers: [fake(okHooks)], bodyLimit: 1024 });
    const big = syncRequest(parent('GiteaProvider', 'gitea', { version: 'x'.repeat(2000) }));
    expect((await a.inject({ method: 'POST', url: '/hooks/giteaproviders/sync', payload: big })).statusCode).toBe(413);
  });

  it('serves health, readiness and metrics with per-hook durations', async () => {
    const a = app({ controllers: [fake(okHooks)] });
    expect((await a.inject({ method: 'GET', url: '/readyz' })).json()).toEqual({ status: 'ok' });
    await a.inject({ method: 'POST', url: '/hooks/giteaproviders/sync', payload: syncRequest(giteaParent) });
    await a.inject({ method: 'POST', url: '/hooks/giteaproviders/customize', payload: { controller: {}, parent: giteaParent } });
    const metrics = (await a.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toMatch(/idpbuilder_hook_request_duration_seconds_count\{controller="giteaproviders",hook="sync",code="200"\} 1/);
    expect(metrics).toMatch(/idpbuilder_hook_request_duration_seconds_count\{controller="giteaproviders",hook="customize",code="200"\} 1/);
  });

  it('serves a route for every hook the generated manifests name, and none that they do not', async () => {
    const all = controllers();
    const a = app({ controllers: all });
    for (const c of all) {
      const hooks = (compositeController(c).spec as any).hooks as Record<string, { webhook: { path: string } }>;
      for (const [name, h] of Object.entries(hooks)) {
        const res = await a.inject({ method: 'POST', url: h.webhook.path, payload: { controller: {}, parent: parent(c.kind.kind, 'x', {}) } });
        expect(res.statusCode, `${h.webhook.path}`).not.toBe(404);
        expect(h.webhook.path).toBe(`/hooks/${c.kind.plural}/${name}`);
      }
    }
  });

  it('serves the DecoratorControllers\' hooks, checking the decorated object', async () => {
    const a = app({ controllers: [], decorators: decorators() });
    for (const d of decorators()) {
      const hooks = (decoratorController(d).spec as any).hooks as Record<string, { webhook: { path: string } }>;
      for (const [name, h] of Object.entries(hooks)) expect(h.webhook.path).toBe(`/hooks/${d.name}/${name}`);
    }
    const pkg = parent('Package', 'app', { source: { gitRepository: { name: 'repo' } } });
    const res = await a.inject({ method: 'POST', url: '/hooks/packages-argocd/sync', payload: { object: pkg, attachments: {}, related: {} } });
    expect(res.statusCode).toBe(200);
    // the source repository is not there: nothing attached yet, no engine status to report
    expect(res.json()).toEqual({ attachments: [], annotations: { 'idpbuilder.cnoe.io/argocd-status': null } });
    const wrong = await a.inject({ method: 'POST', url: '/hooks/packages-flux/sync', payload: { object: parent('Platform', 'p', {}), attachments: {} } });
    expect(wrong.statusCode).toBe(400);
    expect(wrong.json().message).toContain('body.object.kind');
  });

  it('applies the CRDs\' CEL rules on the hook path as admission does (reserved word `namespace` included)', async () => {
    const a = app({ controllers: controllers() });
    const platform = (gateways: unknown[]) => syncRequest(parent('Platform', 'p', { components: { gateways } }));
    const sameNameOtherNamespace = await a.inject({
      method: 'POST',
      url: '/hooks/platforms/sync',
      payload: platform([{ kind: 'NginxGateway', name: 'n' }, { kind: 'NginxGateway', name: 'n', namespace: 'other' }]),
    });
    expect(sameNameOtherNamespace.statusCode).toBe(200);
    const duplicate = await a.inject({ method: 'POST', url: '/hooks/platforms/sync', payload: platform([{ kind: 'NginxGateway', name: 'n' }, { kind: 'NginxGateway', name: 'n' }]) });
    expect(duplicate.statusCode).toBe(400);
    expect(duplicate.json().message).toBe('body.parent.spec.components.gateways: provider references must be unique');
  });
});

