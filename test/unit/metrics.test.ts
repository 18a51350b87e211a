/**
 * The spec's domain metrics (appendix F), computed by the server from what passes through the hooks:
 * real controllers, real app (buildApp(...).inject), then /metrics.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { buildApp, type AppOptions } from '../../src/server/app.js';
import { controllers, decorators } from '../../src/controllers/registry.js';
import type { KubeObject, SyncRequest, SyncResponse } from '../../src/metacontroller/protocol.js';
import { newMetrics } from '../../src/server/metrics.js';
import { parent, syncRequest } from '../support/requests.js';
import { jobFailed, next } from '../support/world.js';
import { recordRequests, defaultPlatform, type RecordedRequest } from '../../bench/requests.js';

const apps: FastifyInstance[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((a) => a.close()));
});

const NOW = new Date('2026-03-01T12:00:00Z');

function app(extra: Partial<AppOptions> = {}) {
  const a = buildApp({
    controllers: controllers(),
    decorators: decorators(),
    env: { now: () => NOW },
    observer: { countSince: new Date(0) },
    ...extra,
  });
  apps.push(a);
  return a;
}

async function post(a: FastifyInstance, url: string, body: unknown): Promise<SyncResponse> {
  const res = await a.inject({ method: 'POST', url, payload: body as object });
  expect(res.statusCode, res.body).toBe(200);
  return res.json();
}

async function scrape(a: FastifyInstance): Promise<string> {
  const res = await a.inject({ method: 'GET', url: '/metrics' });
  expect(res.statusCode).toBe(200);
  return res.body;
}

/** The value of one series, or undefined when absent. */
function value(text: string, name: string, labels: Record<string, string>): number | undefined {
  const want = Object.entries(labels)
    .map(([k, v]) => `${k}="${v}"`)
    .sort();
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const m = /^[^{ ]+(?:\{(.*)\})? (.+)$/.exec(line);
    if (!m) continue;
    const have: string[] = (m[1] ?? '').match(/[a-zA-Z_]+="(?:[^"\\]|\\.)*"/g) ?? [];
    if (want.every((w) => have.includes(w)) && have.length === want.length) return Number(m[2]);
  }
  return undefined;
}

const withStart = (job: KubeObject, start: string, end: string, uid: string) =>
  ({
    ...job,
    metadata: { ...job.metadata, uid },
    status: { startTime: start, completionTime: end, succeeded: 1, conditions: [{ type: 'Complete', status: 'True', lastTransitionTime: end }] },
  }) as KubeObject;

let recorded: RecordedRequest[];
beforeAll(() => {
  recorded = recordRequests(defaultPlatform());
});
const find = (id: string) => structuredClone(recorded.find((r) => r.id === id)!);

describe('domain metrics', () => {
  it('shows every metric of the spec with its labels after a few hook calls', async () => {
    const a = app();
    // Platform at its fixed point: three providers, all ready
    const plat = find('Platform/idpbuilder-system/localdev');
    await post(a, plat.url, plat.body);

    // GiteaProvider: first sync, then the install Job succeeded (2 min 5 s)
    const giteaReq = syncRequest(parent('GiteaProvider', 'gitea', { namespace: 'gitea' }));
    const first = await post(a, '/hooks/giteaproviders/sync', giteaReq);
    const done = next(giteaReq, first, (o) => (o.kind === 'Job' ? withStart(o, '2026-03-01T11:50:00Z', '2026-03-01T11:52:05Z', 'uid-job-gitea') : o));
    const second = await post(a, '/hooks/giteaproviders/sync', done);
    expect(second.status.installed).toBe(true);

    // NginxGateway: the install Job failed
    const ngReq = syncRequest(parent('NginxGateway', 'nginx', { namespace: 'ingress-nginx' }));
    const ng1 = await post(a, '/hooks/nginxgateways/sync', ngReq);
    const ngFailed = next(ngReq, ng1, (o) => (o.kind === 'Job' ? ({ ...jobFailed(o), metadata: { ...o.metadata, uid: 'uid-job-nginx' } } as KubeObject) : o));
    const ng2 = await post(a, '/hooks/nginxgateways/sync', ngFailed);
    expect(ng2.status.phase).toBe('Failed');

    // GitRepository: synced by a succeeded Job; another one with a failed sync Job
    const repo = find('GitRepository/idpbuilder-system/localdev-gitea');
    await post(a, repo.url, repo.body);
    const failedRepo = structuredClone(repo.body) as SyncRequest;
    failedRepo.parent.metadata.name = 'other-repo';
    for (const [k, job] of Object.entries(failedRepo.children!['Job.batch/v1'])) {
      failedRepo.children!['Job.batch/v1'][k] = { ...jobFailed(job), metadata: { ...job.metadata, uid: 'uid-failed-sync' } } as KubeObject;
    }
    await post(a, repo.url, failedRepo);

    // a Platform whose provider is missing: Degraded, a reconcile error
    await post(a, '/hooks/platforms/sync', syncRequest(parent('Platform', 'broken', { components: { gitProviders: [{ kind: 'GiteaProvider', name: 'nope' }] } })));

    const text = await scrape(a);
    const P = 'idpbuilder-system/localdev';
    expect(value(text, 'idpbuilder_platform_components_total', { platform: P })).toBe(3);
    for (const c of ['GiteaProvider/idpbuilder-system/gitea', 'NginxGateway/idpbuilder-system/nginx', 'ArgoCDProvider/idpbuilder-system/argocd']) {
      expect(value(text, 'idpbuilder_platform_components_ready', { platform: P, component: c }), c).toBe(1);
    }
    expect(value(text, 'idpbuilder_platform_reconcile_duration_seconds_count', { platform: P })).toBe(1);
    expect(value(text, 'idpbuilder_platform_reconcile_errors_total', { platform: P }) ?? 0).toBe(0);
    expect(value(text, 'idpbuilder_platform_reconcile_errors_total', { platform: 'idpbuilder-system/broken' })).toBe(1);
    expect(value(text, 'idpbuilder_platform_components_ready', { platform: 'idpbuilder-system/broken', component: 'GiteaProvider/idpbuilder-system/nope' })).toBe(0);

    const G = 'GiteaProvider/idpbuilder-system/gitea';
    const version = String(second.status.version);
    expect(version).not.toBe('');
    expect(value(text, 'idpbuilder_component_install_duration_seconds_count', { component: G, version })).toBe(1);
    expect(value(text, 'idpbuilder_component_install_duration_seconds_sum', { component: G, version })).toBe(125);
    expect(value(text, 'idpbuilder_component_helm_releases_total', { component: G })).toBe(1);
    expect(value(text, 'idpbuilder_component_helm_failures_total', { component: G })).toBeUndefined();
    // Installing (bootstrap Job pending): 1 for the current phase, 0 for the others
    expect(value(text, 'idpbuilder_component_ready', { component: G, phase: String(second.status.phase) })).toBe(1);
    expect(value(text, 'idpbuilder_component_ready', { component: G, phase: 'Ready' })).toBe(second.status.phase === 'Ready' ? 1 : 0);

    const N = 'NginxGateway/idpbuilder-system/nginx';
    expect(value(text, 'idpbuilder_component_helm_releases_total', { component: N })).toBe(1);
    expect(value(text, 'idpbuilder_component_helm_failures_total', { component: N })).toBe(1);
    expect(value(text, 'idpbuilder_component_ready', { component: N, phase: 'Failed' })).toBe(1);
    expect(value(text, 'idpbuilder_component_ready', { component: N, phase: 'Installing' })).toBe(0);

    const R = 'idpbuilder-system/localdev-gitea';
    expect(value(text, 'idpbuilder_gitrepository_syncs_total', { name: R })).toBe(1);
    expect(value(text, 'idpbuilder_gitrepository_sync_failures_total', { name: R })).toBeUndefined();
    expect(value(text, 'idpbuilder_gitrepository_last_sync_timestamp', { name: R })).toBe(Date.parse('2000-01-01T00:00:00Z') / 1000);
    expect(value(text, 'idpbuilder_gitrepository_syncs_total', { name: 'idpbuilder-system/other-repo' })).toBe(1);
    expect(value(text, 'idpbuilder_gitrepository_sync_failures_total', { name: 'idpbuilder-system/other-repo' })).toBe(1);

    expect(value(text, 'idpbuilder_hook_request_duration_seconds_count', { controller: 'platforms', hook: 'sync', code: '200' })).toBe(2);
    expect(value(text, 'idpbuilder_hook_request_duration_seconds_count', { controller: 'giteaproviders', hook: 'sync', code: '200' })).toBe(2);
  });

  it('counts each finished Job once, however often Metacontroller sends it', async () => {
    const a = app();
    const giteaReq = syncRequest(parent('GiteaProvider', 'gitea', {}));
    const first = await post(a, '/hooks/giteaproviders/sync', giteaReq);
    const done = next(giteaReq, first, (o) => (o.kind === 'Job' ? withStart(o, '2026-03-01T11:50:00Z', '2026-03-01T11:51:00Z', 'uid-1') : o));
    let last: SyncResponse | undefined;
    for (let i = 0; i < 5; i++) last = await post(a, '/hooks/giteaproviders/sync', done);
    // the same Job under a request that differs elsewhere (a new resourceVersion of the parent)
    const again = structuredClone(done);
    again.parent.metadata.resourceVersion = '42';
    await post(a, '/hooks/giteaproviders/sync', again);
    const text = await scrape(a);
    expect(value(text, 'idpbuilder_component_helm_releases_total', { component: 'GiteaProvider/idpbuilder-system/gitea' })).toBe(1);
    expect(value(text, 'idpbuilder_component_install_duration_seconds_count', { component: 'GiteaProvider/idpbuilder-system/gitea', version: String(last!.status.version) })).toBe(1);
  });

  it('does not count Jobs that finished before the service started (a restart replays them)', async () => {
    const a = app({ observer: { countSince: new Date('2026-03-01T00:00:00Z') } });
    const repo = find('GitRepository/idpbuilder-system/localdev-gitea'); // its Job finished in 2000
    await post(a, repo.url, repo.body);
    const text = await scrape(a);
    expect(value(text, 'idpbuilder_gitrepository_syncs_total', { name: 'idpbuilder-system/localdev-gitea' })).toBeUndefined();
    expect(value(text, 'idpbuilder_gitrepository_last_sync_timestamp', { name: 'idpbuilder-system/localdev-gitea' })).toBe(946684800);
  });

  it('removes the series of a provider once its finalize hook has finished, and a Platform\'s when it stops listing a provider', async () => {
    const a = app();
    const req = syncRequest(parent('GiteaProvider', 'gitea', { deletionPolicy: 'Retain' }));
    await post(a, '/hooks/giteaproviders/sync', req);
    let text = await scrape(a);
    expect(value(text, 'idpbuilder_component_ready', { component: 'GiteaProvider/idpbuilder-system/gitea', phase: 'Installing' })).toBe(1);
    // the users' list Metacontroller sends a provider being deleted (src/kit/users.ts): none
    const fin = await post(a, '/hooks/giteaproviders/finalize', { ...req, related: { 'GitRepository.idpbuilder.cnoe.io/v1alpha2': {} }, finalizing: true, parent: { ...req.parent, metadata: { ...req.parent.metadata, deletionTimestamp: '2026-03-01T11:00:00Z' } } });
    expect(fin.finalized).toBe(true);
    text = await scrape(a);
    expect(text).not.toContain('GiteaProvider/idpbuilder-system/gitea');

    const plat = find('Platform/idpbuilder-system/localdev');
    await post(a, plat.url, plat.body);
    const fewer = structuredClone(plat.body) as SyncRequest;
    (fewer.parent.spec as any).components.gateways = [];
    await post(a, plat.url, fewer);
    text = await scrape(a);
    expect(value(text, 'idpbuilder_platform_components_total', { platform: 'idpbuilder-system/localdev' })).toBe(2);
    expect(value(text, 'idpbuilder_platform_components_ready', { platform: 'idpbuilder-system/localdev', component: 'NginxGateway/idpbuilder-system/nginx' })).toBeUndefined();

    // a Platform being deleted takes its series along once its finalize hook has finished (nothing left)
    const deleting = structuredClone(plat.body) as SyncRequest;
    deleting.parent.metadata.deletionTimestamp = '2026-03-01T11:00:00Z';
    const platFin = await post(a, '/hooks/platforms/finalize', { ...deleting, children: {}, finalizing: true });
    expect(platFin.finalized).toBe(true);
    text = await scrape(a);
    expect(text).not.toContain('platform="idpbuilder-system/localdev"');
  });

  it('drops the series of objects not synced for staleAfterSeconds', async () => {
    let now = Date.parse('2026-03-01T12:00:00Z');
    const a = app({ observer: { countSince: new Date(0), staleAfterSeconds: 60, now: () => now } });
    const plat = find('Platform/idpbuilder-system/localdev');
    await post(a, plat.url, plat.body);
    expect(await scrape(a)).toContain('platform="idpbuilder-system/localdev"');
    now += 61_000;
    expect(await scrape(a)).not.toContain('platform="idpbuilder-system/localdev"');
  });

  it('counts a failing Platform hook as a reconcile error and answers 500', async () => {
    const defs = controllers().map((c) => (c.kind.kind === 'Platform' ? { ...c, hooks: { ...c.hooks!, sync: () => { throw new Error('boom'); } } } : c));
    const metrics = newMetrics();
    const a = app({ controllers: defs, metrics });
    const res = await a.inject({ method: 'POST', url: '/hooks/platforms/sync', payload: syncRequest(parent('Platform', 'p', {})) });
    expect(res.statusCode).toBe(500);
    const text = await scrape(a);
    expect(value(text, 'idpbuilder_platform_reconcile_errors_total', { platform: 'idpbuilder-system/p' })).toBe(1);
    expect(value(text, 'idpbuilder_platform_reconcile_duration_seconds_count', { platform: 'idpbuilder-system/p' })).toBe(1);
  });
});
