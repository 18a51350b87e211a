/**
 * Package health checks (issue 16, item 5): `timeout` is enforced from a clock recorded in status
 * (`healthChecks[].since`), and any kind can be checked through a CEL `readyWhen` over the object; the
 * built-in kinds (Deployment, StatefulSet, DaemonSet, Job, Service) have default expressions.
 */
import { describe, expect, it } from 'vitest';
import { ENGINE_STATUS_ANNOTATION, packageHooks as hooks } from '../../../src/controllers/package.js';
import { Admission } from '../../../src/api/validate.js';
import { BUILTIN_HEALTH_KINDS } from '../../../src/api/package.js';
import { controllers, decorators } from '../../../src/controllers/registry.js';
import { render } from '../../../src/render/render.js';
import { healthTarget } from '../../../src/kit/health.js';
import { evaluateReadyWhen, readyWhenProblem } from '../../../src/api/ready-when.js';
import type { KubeObject, ObjectMap, SyncResponse } from '../../../src/metacontroller/protocol.js';
import { parent, syncRequest, testEnv } from '../../support/requests.js';
import { condition, toMap, withStatus } from '../../support/world.js';
import { NS, provider } from '../../support/providers.js';

const CLONE = 'http://gitea-http.gitea.svc.cluster.local:3000/idpbuilder/my-app.git';
const engineSynced = JSON.stringify({ name: 'my-app', namespace: NS, syncStatus: 'Synced', healthStatus: 'Healthy' });
const base = (healthChecks: Record<string, unknown>[], generation = 1, status?: Record<string, unknown>) =>
  parent('Package', 'my-app', { source: { gitRepository: { name: 'my-app', path: 'deploy' } }, gitOpsProviderRef: { kind: 'ArgoCDProvider', name: 'argocd' }, healthChecks }, {
    metadata: { name: 'my-app', namespace: NS, uid: 'uid-my-app', generation, annotations: { [ENGINE_STATUS_ANNOTATION.argocd]: engineSynced } },
    ...(status ? { status } : {}),
  } as Partial<KubeObject>);
const world = (...extra: KubeObject[]): ObjectMap =>
  toMap([provider('GitRepository', 'my-app', { cloneURL: CLONE }), provider('ArgoCDProvider', 'argocd', { endpoint: 'https://argocd.cnoe.localtest.me' }), ...extra]);

const deployment = (readyReplicas: number, replicas = 2) =>
  withStatus({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: NS, generation: 1 }, spec: { replicas } } as KubeObject, { readyReplicas, observedGeneration: 1 });
/** A cert-manager Certificate: a kind no table knows, read through readyWhen. */
const certificate = (ready: 'True' | 'False' | null) =>
  ({
    apiVersion: 'cert-manager.io/v1',
    kind: 'Certificate',
    metadata: { name: 'web-tls', namespace: NS, generation: 1 },
    spec: { secretName: 'web-tls' },
    ...(ready ? { status: { conditions: [{ type: 'Ready', status: ready }] } } : {}),
  }) as KubeObject;
const CERT_READY = "self.status.conditions.exists(c, c.type == 'Ready' && c.status == 'True')";
const certCheck = (extra: Record<string, unknown> = {}) => ({ type: 'Certificate', apiVersion: 'cert-manager.io/v1', name: 'web-tls', readyWhen: CERT_READY, ...extra });

/** Plays Metacontroller: the next sync sees the status the last one wrote, at the given clock. */
function syncAt(p: KubeObject, related: ObjectMap, now: string): { res: SyncResponse; next: KubeObject } {
  const res = hooks.sync(syncRequest(p, {}, related), testEnv(now));
  return { res, next: { ...p, status: res.status } as KubeObject };
}

describe('health check timeout', () => {
  const spec = [{ type: 'Deployment', name: 'web', timeout: '10m' }];

  it('a check pending within its timeout: Deploying, HealthCheckPending, re-evaluated when the timeout would run out', () => {
    const first = syncAt(base(spec), world(deployment(1)), '2026-01-01T00:00:00Z');
    expect(first.res.status.phase).toBe('Deploying');
    expect(condition(first.res)).toMatchObject({ status: 'False', reason: 'HealthCheckPending', message: `health checks pending: Deployment ${NS}/web not ready` });
    expect(first.res.resyncAfterSeconds).toBe(600);
    const [entry] = first.res.status.healthChecks as { since: string }[];
    expect(first.res.status.healthChecks).toEqual([{ type: 'Deployment', apiVersion: 'apps/v1', namespace: NS, name: 'web', ready: false, since: entry.since, message: 'not ready' }]);

    // four minutes later: the clock started at the first sync, six minutes are left
    const later = syncAt(first.next, world(deployment(1)), '2026-01-01T00:04:00Z');
    expect(later.res.status.phase).toBe('Deploying');
    expect((later.res.status.healthChecks as { since: string }[])[0].since).toBe(entry.since);
    expect(later.res.resyncAfterSeconds).toBe(360);
  });

  it('a check not passed within its timeout: Failed, HealthCheckTimeout, Degraded, the check named', () => {
    const first = syncAt(base(spec), world(deployment(1)), '2026-01-01T00:00:00Z');
    const late = syncAt(first.next, world(deployment(1)), '2026-01-01T00:10:00Z');
    expect(late.res.status.phase).toBe('Failed');
    expect(condition(late.res)).toMatchObject({ status: 'False', reason: 'HealthCheckTimeout', message: `health check failed: Deployment ${NS}/web not ready within 10m (not ready)` });
    expect(condition(late.res, 'Degraded')).toMatchObject({ status: 'True', reason: 'HealthCheckTimeout' });
    expect(late.res.resyncAfterSeconds).toBeUndefined();
    // the object becomes ready afterwards: Synced
    const recovered = syncAt(late.next, world(deployment(2)), '2026-01-01T00:12:00Z');
    expect(recovered.res.status.phase).toBe('Synced');
    expect(recovered.res.status.healthChecks).toMatchObject([{ name: 'web', ready: true }]);
  });

  it('an object never seen counts too: not found past the timeout fails', () => {
    const first = syncAt(base(spec), world(), '2026-01-01T00:00:00Z');
    expect(condition(first.res).message).toBe(`health checks pending: Deployment ${NS}/web not found`);
    const late = syncAt(first.next, world(), '2026-01-01T00:11:00Z');
    expect(condition(late.res)).toMatchObject({ reason: 'HealthCheckTimeout', message: `health check failed: Deployment ${NS}/web not ready within 10m (not found)` });
  });

  it('a check that stops passing starts its clock again; a new generation starts every clock again', () => {
    const ok = syncAt(base(spec), world(deployment(2)), '2026-01-01T00:00:00Z');
    expect(ok.res.status.phase).toBe('Synced');
    const broken = syncAt(ok.next, world(deployment(1)), '2026-01-01T01:00:00Z');
    expect(broken.res.status.phase).toBe('Deploying');
    expect(broken.res.resyncAfterSeconds).toBe(600);
    // the spec changed (generation 2) long after the first clock started: no timeout yet
    const stale = syncAt(base(spec, 1), world(deployment(1)), '2026-01-01T00:00:00Z').next;
    const newGen = syncAt({ ...base(spec, 2), status: { ...stale.status, observedGeneration: 1 } } as KubeObject, world(deployment(1)), '2026-01-01T05:00:00Z');
    expect(newGen.res.status.phase).toBe('Deploying');
    expect(newGen.res.resyncAfterSeconds).toBe(600);
  });

  it('without timeout a check waits without limit and asks for no timed resync', () => {
    const first = syncAt(base([{ type: 'Deployment', name: 'web' }]), world(deployment(1)), '2026-01-01T00:00:00Z');
    const much = syncAt(first.next, world(deployment(1)), '2027-01-01T00:00:00Z');
    expect(much.res.status.phase).toBe('Deploying');
    expect(much.res.resyncAfterSeconds).toBeUndefined();
  });

  it('the same request gives a byte-identical answer (no hot loop): since is kept, not renewed', () => {
    const first = syncAt(base(spec), world(deployment(1)), '2026-01-01T00:00:00Z');
    const a = syncAt(first.next, world(deployment(1)), '2026-01-01T00:01:00Z');
    const b = syncAt(a.next, world(deployment(1)), '2026-01-01T00:01:00Z');
    expect(JSON.stringify(b.res.status)).toBe(JSON.stringify(a.res.status));
  });
});

describe('health checks of any kind through readyWhen', () => {
  it('a Certificate checked by its Ready condition: pending, then Synced', () => {
    const pending = syncAt(base([certCheck()]), world(certificate('False')), '2026-01-01T00:00:00Z');
    expect(condition(pending.res)).toMatchObject({ reason: 'HealthCheckPending', message: `health checks pending: Certificate ${NS}/web-tls not ready` });
    const ok = syncAt(pending.next, world(certificate('True')), '2026-01-01T00:00:30Z');
    expect(ok.res.status.phase).toBe('Synced');
    expect(ok.res.status.healthChecks).toMatchObject([{ type: 'Certificate', apiVersion: 'cert-manager.io/v1', name: 'web-tls', ready: true }]);
  });

  it('an absent field is not ready, with the CEL error as the reason', () => {
    const res = syncAt(base([certCheck()]), world(certificate(null)), '2026-01-01T00:00:00Z').res;
    expect(condition(res).message).toBe(`health checks pending: Certificate ${NS}/web-tls not ready (readyWhen: No such key: status)`);
  });

  it('readyWhen overrides the built-in readiness of a built-in kind', () => {
    const res = syncAt(base([{ type: 'Deployment', name: 'web', readyWhen: 'self.status.readyReplicas >= 1' }]), world(deployment(1)), '2026-01-01T00:00:00Z').res;
    expect(res.status.phase).toBe('Synced');
  });

  it('customize asks for any kind by its apiVersion and resource (plural rule, or the explicit resource)', () => {
    const p = base([certCheck(), { type: 'NetworkPolicy', apiVersion: 'networking.k8s.io/v1', name: 'np', readyWhen: 'true' }, { type: 'Endpoints', apiVersion: 'v1', resource: 'endpoints', name: 'web', readyWhen: 'true' }]);
    const rules = hooks.customize!({ parent: p }, testEnv()).relatedResources;
    expect(rules.filter((r) => !r.apiVersion.startsWith('idpbuilder.cnoe.io/'))).toEqual([
      { apiVersion: 'cert-manager.io/v1', resource: 'certificates', namespace: NS, names: ['web-tls'] },
      { apiVersion: 'v1', resource: 'endpoints', namespace: NS, names: ['web'] },
      { apiVersion: 'networking.k8s.io/v1', resource: 'networkpolicies', namespace: NS, names: ['np'] },
    ]);
  });

  it('a readyWhen that does not compile: Failed, InvalidHealthCheck, with the compile error', () => {
    const res = syncAt(base([certCheck({ readyWhen: 'self.status.conditions.exists(c, ' })]), world(certificate('True')), '2026-01-01T00:00:00Z').res;
    expect(res.status.phase).toBe('Failed');
    expect(condition(res).reason).toBe('InvalidHealthCheck');
    expect(condition(res).message).toMatch(new RegExp(`^invalid health check: healthChecks\\[0\\] \\(Certificate ${NS}/web-tls\\): readyWhen does not compile: `));
  });

  it('an unknown kind without readyWhen (stored before the CRD rule): Failed, InvalidHealthCheck', () => {
    const res = syncAt(base([{ type: 'Certificate', apiVersion: 'cert-manager.io/v1', name: 'web-tls' }]), world(certificate('True')), '2026-01-01T00:00:00Z').res;
    expect(condition(res)).toMatchObject({
      reason: 'InvalidHealthCheck',
      message: `invalid health check: healthChecks[0] (Certificate ${NS}/web-tls): Certificate of cert-manager.io/v1 has no built-in readiness: set readyWhen`,
    });
  });

  it('the built-in defaults are CEL: Deployment, StatefulSet, DaemonSet, Job and Service as before', () => {
    const obj = (kind: string, spec: Record<string, unknown>, status?: Record<string, unknown>) => ({ apiVersion: 'x', kind, metadata: { name: 'a', generation: 2 }, spec, ...(status ? { status } : {}) }) as KubeObject;
    const ready = (kind: string, o: KubeObject) => evaluateReadyWhen(BUILTIN_HEALTH_KINDS[kind].readyWhen, o).ready;
    expect(ready('Deployment', obj('Deployment', { replicas: 2 }, { readyReplicas: 2, observedGeneration: 2 }))).toBe(true);
    expect(ready('Deployment', obj('Deployment', { replicas: 2 }, { readyReplicas: 2, observedGeneration: 1 }))).toBe(false);
    expect(ready('StatefulSet', obj('StatefulSet', {}, { readyReplicas: 1, observedGeneration: 2 }))).toBe(true);
    expect(ready('StatefulSet', obj('StatefulSet', {}))).toBe(false);
    expect(ready('DaemonSet', obj('DaemonSet', {}, { numberReady: 2, desiredNumberScheduled: 3 }))).toBe(false);
    expect(ready('DaemonSet', obj('DaemonSet', {}, { numberReady: 3, desiredNumberScheduled: 3 }))).toBe(true);
    expect(ready('Job', obj('Job', {}, { active: 1 }))).toBe(false);
    expect(ready('Job', obj('Job', {}, { succeeded: 1 }))).toBe(true);
    expect(ready('Service', obj('Service', {}))).toBe(true);
    expect(healthTarget({ type: 'Deployment', apiVersion: 'example.com/v1' })).toEqual({ invalid: 'Deployment of example.com/v1 has no built-in readiness: set readyWhen' });
    expect(readyWhenProblem('self.status.phase')).toBeUndefined();
    expect(readyWhenProblem('1 + "a"')).toBe('readyWhen does not compile: no such overload: int + string');
    expect(readyWhenProblem('"text"')).toBe('readyWhen does not compile: gives string, not bool');
  });
});

describe('readyWhen cost: comprehensions nest at most two deep (a bound that does not depend on machine load)', () => {
  const list = `[${Array.from({ length: 60 }, (_, i) => i).join(',')}]`;
  it('two levels compile: every container has a ready port', () => {
    expect(readyWhenProblem("self.spec.containers.all(c, c.ports.exists(p, p.name == 'http'))")).toBeUndefined();
    expect(readyWhenProblem(`${list}.all(a, ${list}.exists(b, a + b >= 0))`)).toBeUndefined();
  });
  it('four levels over a 60-element list (about 10 s of a single-threaded service) are refused by name, by the hook and by validate', () => {
    const expr = `${list}.all(a, ${list}.all(b, ${list}.all(c, ${list}.all(d, a + b + c + d >= 0))))`;
    expect(expr.length).toBeLessThan(2048);
    expect(readyWhenProblem(expr)).toBe('readyWhen does not compile: nests 4 comprehensions (all, exists, exists_one, map, filter) inside one another; at most 2, as the cost grows with the product of the lists\' sizes');
    expect(evaluateReadyWhen(expr, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' } } as KubeObject).ready).toBe(false);
    expect(readyWhenProblem(`${list}.map(a, ${list}.filter(b, ${list}.exists(c, a == b && b == c))).size() > 0`)).toContain('nests 3 comprehensions');
  });
});

describe('admission (the CRD rules, and what idpbuilder validate adds)', () => {
  const admission = new Admission();
  const admit = (healthChecks: Record<string, unknown>[]) => admission.admit({ apiVersion: 'idpbuilder.cnoe.io/v1alpha2', kind: 'Package', metadata: { name: 'p', namespace: NS }, spec: { source: { gitRepository: { name: 'r' } }, healthChecks } });
  const problems = (r: ReturnType<typeof admit>) => (r.outcome === 'invalid' ? r.problems : []);

  it('an unknown kind needs apiVersion and readyWhen (CRD CEL rules)', () => {
    expect(problems(admit([{ type: 'Certificate', name: 'c' }]))).toEqual([
      { path: '.spec.healthChecks[0].apiVersion', message: 'a health check of a kind other than Deployment, StatefulSet, DaemonSet, Job or Service needs apiVersion' },
      { path: '.spec.healthChecks[0].readyWhen', message: 'a health check of a kind other than Deployment, StatefulSet, DaemonSet, Job or Service (of their own API version) needs readyWhen' },
    ]);
    expect(problems(admit([{ type: 'Certificate', apiVersion: 'cert-manager.io/v1', name: 'c' }])).map((p) => p.path)).toEqual(['.spec.healthChecks[0].readyWhen']);
    expect(admit([certCheck(), { type: 'Deployment', name: 'web', timeout: '10m' }, { type: 'Service', apiVersion: 'v1', name: 's' }]).outcome).toBe('valid');
  });

  it('a readyWhen that does not compile is refused with the compile error', () => {
    const r = problems(admit([certCheck({ readyWhen: 'self.status ==' })]));
    expect(r).toHaveLength(1);
    expect(r[0].path).toBe('.spec.healthChecks[0].readyWhen');
    expect(r[0].message).toMatch(/^readyWhen does not compile: Unexpected token: EOF/);
  });
});

describe('render: a Package with a pending Deployment check and a check of another kind', () => {
  it('observed objects decide each check; the pending one is timed from the render clock and asks for a resync', () => {
    const pkg = parent('Package', 'my-app', {
      source: { gitRepository: { name: 'my-app', path: 'deploy' } },
      gitOpsProviderRef: { kind: 'ArgoCDProvider', name: 'argocd' },
      healthChecks: [{ type: 'Deployment', name: 'web', timeout: '5m' }, certCheck()],
    });
    // what the cluster holds: the source, the GitOps provider, a Certificate (a kind render has no table for) and the Deployment
    const observed = [provider('GitRepository', 'my-app', { cloneURL: CLONE }), provider('ArgoCDProvider', 'argocd', { endpoint: 'https://argocd.cnoe.localtest.me' }), certificate('True'), deployment(1)];
    const answers: SyncResponse[] = [];
    const r = render([pkg], controllers(), { decorators: decorators(), assumeReady: true, observed, onSync: (req, res) => req.parent.kind === 'Package' && answers.push(res) });
    expect(r.converged).toBe(true);
    const out = r.objects.find((o) => o.kind === 'Package')!;
    expect(out.status.phase).toBe('Deploying');
    const ready = (out.status.conditions as { type: string; reason: string; message: string }[]).find((c) => c.type === 'Ready')!;
    expect(ready).toMatchObject({ reason: 'HealthCheckPending', message: `health checks pending: Deployment ${NS}/web not ready` });
    expect((out.status.healthChecks as { type: string; ready: boolean }[]).map((c) => [c.type, c.ready])).toEqual([['Deployment', false], ['Certificate', true]]);
    expect(answers.at(-1)!.resyncAfterSeconds).toBe(300);
    expect(r.objects.some((o) => o.kind === 'Application' && o.metadata.name === 'my-app')).toBe(true);
  });
});
