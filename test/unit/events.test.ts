/** Events: transitions seen between the observed status and the answered one, the queue, the sinks. */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { buildApp, type AppOptions } from '../../src/server/app.js';
import { controllers, decorators } from '../../src/controllers/registry.js';
import type { KubeObject, SyncRequest, SyncResponse } from '../../src/metacontroller/protocol.js';
import { scrub, transitions } from '../../src/events/transitions.js';
import { EventQueue, eventName, toKubeEvent } from '../../src/events/queue.js';
import { EventSinkError, KubernetesEventSink } from '../../src/events/kube.js';
import type { EmitResult, EventSink, EventSpec, KubeEvent } from '../../src/events/types.js';
import { serveOptionsFromEnv } from '../../src/server/serve.js';
import { parent, syncRequest, testEnv } from '../support/requests.js';
import { jobFailed, jobSucceeded, next } from '../support/world.js';
import { defaultPlatform, recordRequests, type RecordedRequest } from '../../bench/requests.js';

const hooksOf = (kind: string) => controllers().find((c) => c.kind.kind === kind)!.hooks!;
const run = (kind: string, req: SyncRequest) => hooksOf(kind).sync(req, testEnv());
const reasons = (evs: EventSpec[]) => evs.map((e) => e.reason);
const jobsDone = (o: KubeObject) => (o.kind === 'Job' ? jobSucceeded(o) : o);

let recorded: RecordedRequest[];
beforeAll(() => {
  recorded = recordRequests(defaultPlatform());
});
const find = (id: string) => structuredClone(recorded.find((r) => r.id === id)!);

class FakeSink implements EventSink {
  events: KubeEvent[] = [];
  calls = 0;
  constructor(private readonly behaviour: 'ok' | 'hang' | 'throw' | 'reject' = 'ok') {}
  emit(event: KubeEvent): Promise<EmitResult> {
    this.calls += 1;
    if (this.behaviour === 'throw') throw new Error('sink exploded');
    if (this.behaviour === 'reject') return Promise.reject(new Error('sink failed'));
    if (this.behaviour === 'hang') return new Promise(() => undefined);
    this.events.push(event);
    return Promise.resolve('created');
  }
}

describe('transitions', () => {
  it('reports a provider\'s install start, completion, readiness and upgrade', () => {
    const req = syncRequest(parent('GiteaProvider', 'gitea', {}));
    const r1 = run('GiteaProvider', req);
    expect(reasons(transitions(req, r1))).toEqual(['ComponentInstallStarted']);
    const ev = transitions(req, r1)[0];
    expect(ev.type).toBe('Normal');
    expect(ev.related).toMatchObject({ kind: 'Job', name: (r1.status.installation as { job: string }).job });

    const req2 = next(req, r1, jobsDone);
    const r2 = run('GiteaProvider', req2);
    expect(reasons(transitions(req2, r2))).toEqual(['ComponentInstallCompleted']);

    const req3 = next(req2, r2, jobsDone);
    const r3 = run('GiteaProvider', req3);
    expect(r3.status.phase).toBe('Ready');
    expect(reasons(transitions(req3, r3))).toEqual(['ComponentHealthCheckPassed']);

    // nothing changes: nothing to report
    const req4 = next(req3, r3, jobsDone);
    expect(transitions(req4, run('GiteaProvider', req4))).toEqual([]);

    // a spec change: a new install Job replaces the old one; the installed release keeps serving (Ready stays True)
    const changed = { ...req4, parent: { ...req4.parent, metadata: { ...req4.parent.metadata, generation: 2 }, spec: { values: { replicaCount: 2 } } } } as SyncRequest;
    const r5 = run('GiteaProvider', changed);
    const evs = transitions(changed, r5);
    expect(reasons(evs)).toEqual(['ComponentUpgradeStarted']);
    expect(evs[0].type).toBe('Normal');
    // the upgrade runs to its end: still nothing to warn about
    const req6 = next(changed, r5, jobsDone);
    const r6 = run('GiteaProvider', req6);
    expect(r6.status.phase).toBe('Ready');
    expect(reasons(transitions(req6, r6))).not.toContain('ComponentHealthCheckFailed');
    // a failed upgrade is no longer Ready: a Warning for the failure and for the lost readiness
    const failedReq = next(changed, r5, (o) => (o.kind === 'Job' ? jobFailed(o) : o));
    const failed = transitions(failedReq, run('GiteaProvider', failedReq));
    expect(reasons(failed).sort()).toEqual(['ComponentHealthCheckFailed', 'ComponentInstallFailed']);
    expect(failed.every((e) => e.type === 'Warning')).toBe(true);
  });

  it('scrubs every secret value from an event note, longest first', () => {
    expect(scrub('token abcdef1234 and abcdef', ['abcdef1234', 'abcdef'])).toBe('token [redacted] and [redacted]');
  });

  it('reports a failed install as a Warning, without the secret values the request carries', () => {
    const req = syncRequest(parent('GiteaProvider', 'gitea', {}));
    const r1 = run('GiteaProvider', req);
    const secret = r1.children.find((c) => c.kind === 'Secret')!;
    const password = Buffer.from(String((secret.data as Record<string, string>).password), 'base64').toString();
    expect(password.length).toBeGreaterThan(8);
    // a chart that prints the password into its error (the termination message reaches the status)
    const req2 = next(req, r1, (o) => (o.kind === 'Job' ? jobFailed(o, `Error: login as giteaAdmin with password ${password} refused`) : o));
    const r2 = run('GiteaProvider', req2);
    const evs = transitions(req2, r2);
    expect(reasons(evs)).toEqual(['ComponentInstallFailed']);
    expect(evs[0].type).toBe('Warning');
    expect(evs[0].note).toContain('InstallFailed');
    expect(evs[0].note).not.toContain(password);
    // the hook already redacts the provider's own Secret values in status; the event writer would too
    expect(evs[0].note).toContain('with password *** refused');
    expect(JSON.stringify(r2.status)).not.toContain(password);
  });

  it('reports PlatformCreated, GitRepositoryCreated, GitRepositorySyncCompleted and PackageDeployed', () => {
    const plat = syncRequest(parent('Platform', 'localdev', {}));
    expect(reasons(transitions(plat, run('Platform', plat)))).toEqual(['PlatformCreated']);
    const again = next(plat, run('Platform', plat));
    expect(transitions(again, run('Platform', again))).toEqual([]);

    const repo = find('GitRepository/idpbuilder-system/localdev-gitea').body as SyncRequest;
    const fresh = { ...repo, parent: { ...repo.parent, status: undefined } } as SyncRequest;
    expect(reasons(transitions(fresh, run('GitRepository', fresh)))).toEqual(['GitRepositoryCreated', 'GitRepositorySyncCompleted']);
    const synced = transitions(fresh, run('GitRepository', fresh)).find((e) => e.reason === 'GitRepositorySyncCompleted')!;
    expect(synced.note).toMatch(/synced to https:\/\/gitea\.cnoe\.localtest\.me\/.*localdev-gitea\.git/);
    expect(transitions(repo, run('GitRepository', repo))).toEqual([]);

    const pkg = find('Package/idpbuilder-system/localdev-gitea').body as SyncRequest;
    const notYet = structuredClone(pkg);
    notYet.parent.status = { phase: 'Deploying', conditions: [{ type: 'Ready', status: 'False', reason: 'Deploying', message: '', lastTransitionTime: '2000-01-01T00:00:00Z' }] };
    expect(reasons(transitions(notYet, run('Package', notYet)))).toEqual(['PackageDeployed']);
  });

  it('gives a retried call the same keys, and a later change of the same kind a new one', () => {
    const status = (ready: 'True' | 'False', at: string) => ({ phase: ready === 'True' ? 'Ready' : 'Installing', conditions: [{ type: 'Ready', status: ready, reason: 'X', message: '', lastTransitionTime: at }] });
    const p = (s: unknown) => ({ parent: { ...parent('NginxGateway', 'n', {}), status: s } as KubeObject });
    const res = (s: Record<string, unknown>): SyncResponse => ({ status: s, children: [] });
    const a = transitions(p(status('False', '2026-01-01T00:00:00Z')), res(status('True', '2026-01-01T00:05:00Z')));
    const retry = transitions(p(status('False', '2026-01-01T00:00:00Z')), res(status('True', '2026-01-01T00:05:07Z')));
    expect(a.map((e) => e.key)).toEqual(retry.map((e) => e.key));
    expect(eventName(a[0])).toBe(eventName(retry[0]));
    const later = transitions(p(status('False', '2026-01-02T00:00:00Z')), res(status('True', '2026-01-02T00:05:00Z')));
    expect(later[0].key).not.toBe(a[0].key);
  });

  it('reports nothing for finalize calls and objects being deleted', () => {
    const req = syncRequest(parent('Platform', 'p', {}), {}, {}, true);
    expect(transitions(req, run('Platform', req))).toEqual([]);
  });
});

describe('event queue', () => {
  const spec = (i: number): EventSpec => ({
    reason: 'PackageDeployed',
    type: 'Normal',
    action: 'Deploy',
    note: `n${i}`,
    regarding: { apiVersion: 'idpbuilder.cnoe.io/v1alpha2', kind: 'Package', name: `p${i}`, namespace: 'ns', uid: `u${i}` },
    key: `k${i}`,
  });

  it('never calls the sink while push runs, and skips repeats', async () => {
    const sink = new FakeSink();
    const q = new EventQueue(sink);
    expect(q.push(spec(1))).toBe(true);
    expect(q.push(spec(1))).toBe(false);
    expect(sink.calls).toBe(0);
    expect(await q.idle()).toBe(true);
    expect(sink.events.map((e) => e.note)).toEqual(['n1']);
    const e = sink.events[0];
    expect(e).toMatchObject({ apiVersion: 'events.k8s.io/v1', kind: 'Event', reason: 'PackageDeployed', type: 'Normal', action: 'Deploy', reportingController: 'idpbuilder.cnoe.io/hooks', metadata: { namespace: 'ns' } });
    expect(e.eventTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    expect(e.metadata.name).toMatch(/^p1\.[0-9a-f]{16}$/);
  });

  it('drops events when full, gives up on a hanging sink after its timeout, and forgets failed ones so they can be tried again', async () => {
    const dropped: string[] = [];
    const results: string[] = [];
    const sink = new FakeSink('hang');
    const q = new EventQueue(sink, { capacity: 2, concurrency: 1, timeoutMs: 30, metrics: { dropped: (r) => dropped.push(r), emitted: (_r, x) => results.push(x), length: () => undefined } });
    for (let i = 0; i < 5; i++) q.push(spec(i));
    expect(dropped.length).toBeGreaterThanOrEqual(2);
    await q.idle(2000);
    expect(results.filter((r) => r === 'timeout').length).toBeGreaterThanOrEqual(1);
    // a timed-out event was not reported: the same change may be pushed again
    expect(q.push(spec(0))).toBe(true);
    const throwing = new EventQueue(new FakeSink('throw'), { metrics: { dropped: () => undefined, emitted: (_r, x) => results.push(x), length: () => undefined } });
    throwing.push(spec(9));
    await throwing.idle();
    expect(results).toContain('failed');
    expect(throwing.push(spec(9))).toBe(true);
  });

  it('cuts notes to the API limit of 1 KiB', () => {
    const ev = toKubeEvent({ ...spec(1), note: 'é'.repeat(2000) }, new Date(0), 'pod');
    expect(Buffer.byteLength(ev.note)).toBeLessThanOrEqual(1024);
  });
});

describe('events through the hook service', () => {
  const apps: FastifyInstance[] = [];
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((a) => a.close()));
  });
  const app = (extra: Partial<AppOptions> = {}) => {
    const a = buildApp({ controllers: controllers(), decorators: decorators(), env: { now: () => new Date('2026-03-01T12:00:00Z') }, ...extra });
    apps.push(a);
    return a;
  };

  it('emits each transition once, even when Metacontroller retries the call', async () => {
    const sink = new FakeSink();
    const queue = new EventQueue(sink);
    const a = app({ events: queue });
    const req = syncRequest(parent('GiteaProvider', 'gitea', {}));
    for (let i = 0; i < 3; i++) expect((await a.inject({ method: 'POST', url: '/hooks/giteaproviders/sync', payload: req })).statusCode).toBe(200);
    await queue.idle();
    expect(sink.events.map((e) => e.reason)).toEqual(['ComponentInstallStarted']);
    expect(sink.events[0].regarding).toEqual({ apiVersion: 'idpbuilder.cnoe.io/v1alpha2', kind: 'GiteaProvider', name: 'gitea', namespace: 'idpbuilder-system', uid: 'uid-gitea' });
  });

  it('answers the same whether the sink works, hangs or throws, and never waits for it', async () => {
    const requests = Array.from({ length: 40 }, (_, i) => syncRequest(parent('Platform', `p${i}`, {})));
    const answers = async (sink?: FakeSink) => {
      const a = app({ events: sink, eventQueue: { timeoutMs: 10_000, closeTimeoutMs: 10 }, responseMemoSeconds: 0 });
      const bodies: string[] = [];
      for (const r of requests) bodies.push((await a.inject({ method: 'POST', url: '/hooks/platforms/sync', payload: r })).body);
      return bodies;
    };
    const none = await answers();
    for (const behaviour of ['ok', 'hang', 'throw', 'reject'] as const) {
      const sink = new FakeSink(behaviour);
      expect(await answers(sink), behaviour).toEqual(none);
      // every answer was sent while the sink was asked to emit (a hanging sink never settles, so nothing
      // awaited it): the events go out beside the answers, not before them
      expect(sink.calls, behaviour).toBeGreaterThan(0);
    }
  });

  it('counts events dropped because the queue is full', async () => {
    const a = app({ events: new FakeSink('hang'), eventQueue: { capacity: 1, concurrency: 1, timeoutMs: 60_000, closeTimeoutMs: 10 } });
    for (let i = 0; i < 5; i++) await a.inject({ method: 'POST', url: '/hooks/platforms/sync', payload: syncRequest(parent('Platform', `p${i}`, {})) });
    const text = (await a.inject({ method: 'GET', url: '/metrics' })).body;
    expect(text).toMatch(/idpbuilder_events_dropped_total\{reason="queue_full"\} [1-9]/);
  });

  it('is off unless asked for (serve --events or IDPBUILDER_EVENTS=1)', () => {
    expect(serveOptionsFromEnv({}, {}).events).toBe(false);
    expect(serveOptionsFromEnv({ events: true }, {}).events).toBe(true);
    expect(serveOptionsFromEnv({}, { IDPBUILDER_EVENTS: '1' }).events).toBe(true);
    expect(serveOptionsFromEnv({}, { IDPBUILDER_EVENTS: '0' }).events).toBe(false);
  });
});

describe('Kubernetes event sink', () => {
  let server: Server;
  let seen: { method?: string; url?: string; auth?: string; body: any }[] = [];
  let answer = 201;
  const listen = async () => {
    server = createServer((req: IncomingMessage, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        seen.push({ method: req.method, url: req.url, auth: req.headers.authorization, body: JSON.parse(body) });
        res.writeHead(answer, { 'content-type': 'application/json' });
        res.end(JSON.stringify(answer === 201 ? {} : { kind: 'Status', reason: answer === 409 ? 'AlreadyExists' : 'Forbidden', message: 'events.events.k8s.io is forbidden: secret-ish detail' }));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  };
  afterEach(async () => {
    seen = [];
    answer = 201;
    await new Promise<void>((r) => server?.close(() => r()));
  });

  it('POSTs events.k8s.io/v1 Events with the service account token; 409 is success', async () => {
    const url = await listen();
    const sink = await KubernetesEventSink.load({ kind: 'server', server: url, token: 'sa-token' });
    const ev = toKubeEvent(
      { reason: 'PlatformCreated', type: 'Normal', action: 'Create', note: 'Platform x created', regarding: { apiVersion: 'idpbuilder.cnoe.io/v1alpha2', kind: 'Platform', name: 'x', namespace: 'team-a' }, key: 'k' },
      new Date('2026-01-01T00:00:00Z'),
      'hooks-0',
    );
    expect(await sink.emit(ev, new AbortController().signal)).toBe('created');
    expect(seen[0]).toMatchObject({ method: 'POST', url: '/apis/events.k8s.io/v1/namespaces/team-a/events', auth: 'Bearer sa-token' });
    expect(seen[0].body).toMatchObject({ apiVersion: 'events.k8s.io/v1', kind: 'Event', reason: 'PlatformCreated', eventTime: '2026-01-01T00:00:00.000000Z', reportingInstance: 'hooks-0' });
    answer = 409;
    expect(await sink.emit(ev, new AbortController().signal)).toBe('exists');
    answer = 403;
    const err = await sink.emit(ev, new AbortController().signal).catch((e) => e);
    expect(err).toBeInstanceOf(EventSinkError);
    expect(err.message).toBe('POST /apis/events.k8s.io/v1/namespaces/team-a/events: HTTP 403 Forbidden');
    await sink.close();
  });

  it('an unreachable API server is an EventSinkError with status 0 and no event content', async () => {
    const url = await listen();
    await new Promise<void>((r) => server.close(() => r()));
    const sink = await KubernetesEventSink.load({ kind: 'server', server: url, token: 'sa-token' });
    const ev = toKubeEvent(
      { reason: 'PlatformCreated', type: 'Normal', action: 'Create', note: 'Platform x created', regarding: { apiVersion: 'idpbuilder.cnoe.io/v1alpha2', kind: 'Platform', name: 'x', namespace: 'team-a' }, key: 'k' },
      new Date('2026-01-01T00:00:00Z'),
      'hooks-0',
    );
    const err = await sink.emit(ev, new AbortController().signal).catch((e) => e);
    expect(err).toBeInstanceOf(EventSinkError);
    expect(err.status).toBe(0);
    expect(err.message).toBe(`POST /apis/events.k8s.io/v1/namespaces/team-a/events: cannot reach ${url} (ECONNREFUSED)`);
  });

  it('loads the in-cluster service account through the one loader, and refuses to start outside a cluster', async () => {
    vi.stubEnv('KUBERNETES_SERVICE_HOST', '');
    vi.stubEnv('KUBERNETES_SERVICE_PORT', '');
    await expect(KubernetesEventSink.fromInCluster()).rejects.toThrow(/not running in a cluster/);
    const root = mkdtempSync(join(tmpdir(), 'sa-'));
    try {
      const dir = join(root, 'var/run/secrets/kubernetes.io/serviceaccount');
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'token'), 'tok');
      writeFileSync(join(dir, 'ca.crt'), '-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n');
      writeFileSync(join(dir, 'namespace'), 'idpbuilder-system');
      vi.stubEnv('KUBERNETES_SERVICE_HOST', '10.96.0.1');
      vi.stubEnv('KUBERNETES_SERVICE_PORT', '443');
      expect(await KubernetesEventSink.fromInCluster({ pathPrefix: root })).toBeInstanceOf(KubernetesEventSink);
    } finally {
      rmSync(root, { recursive: true, force: true });
      vi.unstubAllEnvs();
    }
  });
});
