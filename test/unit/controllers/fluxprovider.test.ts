import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { fluxProviderHooks as hooks } from '../../../src/controllers/fluxprovider.js';
import type { KubeObject, SyncResponse } from '../../../src/metacontroller/protocol.js';
import { parent, syncRequest, testEnv, noUsers } from '../../support/requests.js';
import { expectUpgradeKeepsOldInstall } from '../../support/providers.js';
import { byKind, condition, jobFailed, jobSucceeded, next, toMap, withStatus } from '../../support/world.js';

const env = testEnv();
const flux = (spec: Record<string, unknown> = {}, extra = {}) => parent('FluxProvider', 'flux', { namespace: 'flux-system', ...spec }, extra);
const data = (res: SyncResponse) => byKind(res, 'ConfigMap')[0].data as Record<string, string>;
const CORE = ['source-controller', 'kustomize-controller', 'helm-controller', 'notification-controller'];

function deployments(ready: Record<string, number>) {
  return toMap(
    Object.entries(ready).map(([name, readyReplicas]) =>
      withStatus({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name, namespace: 'flux-system' } } as KubeObject, { replicas: 1, readyReplicas }),
    ),
  );
}
const allReady = () => deployments(Object.fromEntries(CORE.map((n) => [n, 1])));

describe('FluxProvider', () => {
  it('first sync: the flux2 chart, image automation off by default, phase Installing', () => {
    const res = hooks.sync(syncRequest(flux()), env);
    expect(res.children.map((c) => c.kind)).toEqual(['ConfigMap', 'Job']);
    expect(byKind(res, 'Job')[0].metadata.name).toMatch(/^flux-install-[0-9a-f]{8}$/);
    expect(data(res)['run.sh']).toContain(
      'helm upgrade --install flux2 flux2 --repo https://fluxcd-community.github.io/helm-charts --version 2.18.3 --namespace flux-system --create-namespace --values /config/values-0.yaml --wait --timeout 10m',
    );
    expect(data(res)['manifests.yaml']).toBeUndefined();
    expect(parse(data(res)['values-0.yaml'])).toEqual({ imageAutomationController: { create: false }, imageReflectionController: { create: false } });
    expect(res.status).toMatchObject({ phase: 'Installing', installed: false, internalEndpoint: 'http://source-controller.flux-system.svc.cluster.local', version: '2.8.5' });
    expect(res.status).not.toHaveProperty('endpoint');
    expect(res.status).not.toHaveProperty('credentialsSecretRef');
    expect(res.status).not.toHaveProperty('controllers');
  });

  it('maps the spec example: per-controller resources, notification toggle, multitenancy, image automation', () => {
    const r = { limits: { cpu: '500m', memory: '512Mi' }, requests: { cpu: '100m', memory: '256Mi' } };
    const res = hooks.sync(
      syncRequest(
        flux({
          version: 'v2.4.0',
          installMethod: { type: 'Helm', helm: { repository: 'https://fluxcd-community.github.io/helm-charts', chart: 'flux2', version: '2.14.0' } },
          config: { sourceController: { resources: r }, kustomizeController: { resources: r }, helmController: { resources: r }, notificationController: { enabled: false } },
          multitenancy: { enabled: true, defaultServiceAccount: 'flux-reconciler' },
          imageAutomation: { enabled: true },
          values: { policies: { create: false }, helmController: { resources: { limits: { memory: '1Gi' } } } },
        }),
      ),
      env,
    );
    expect(data(res)['run.sh']).toContain('helm upgrade --install flux2 flux2 --repo https://fluxcd-community.github.io/helm-charts --version 2.14.0 --namespace flux-system');
    expect(parse(data(res)['values-0.yaml'])).toEqual({
      sourceController: { resources: r },
      kustomizeController: { resources: r },
      helmController: { resources: { limits: { cpu: '500m', memory: '1Gi' }, requests: { cpu: '100m', memory: '256Mi' } } },
      notificationController: { create: false },
      imageAutomationController: { create: true },
      imageReflectionController: { create: true },
      multitenancy: { enabled: true, defaultServiceAccount: 'flux-reconciler' },
      policies: { create: false },
    });
    // chart 2.14.0 ships Flux 2.4.0 (its appVersion notation has no leading v)
    expect(res.status.version).toBe('2.4.0');
    expect((res.status.conditions as { type: string }[]).map((c) => c.type)).not.toContain('VersionUnverified');
  });

  it('install succeeded: Ready, with per-controller readiness from the Deployments', () => {
    const req = syncRequest(flux());
    const first = hooks.sync(req, env);
    const res = hooks.sync(next(req, first, (o) => (o.kind === 'Job' ? jobSucceeded(o) : o), allReady()), testEnv('2026-01-01T00:05:00Z'));
    expect(res.status.phase).toBe('Ready');
    expect(condition(res)).toMatchObject({ status: 'True', reason: 'Available', lastTransitionTime: '2026-01-01T00:05:00Z' });
    expect(res.status).toMatchObject({ installed: true, internalEndpoint: 'http://source-controller.flux-system.svc.cluster.local' });
    expect(res.status.controllers).toEqual({
      sourceController: { ready: true },
      kustomizeController: { ready: true },
      helmController: { ready: true },
      notificationController: { ready: true },
    });
    expect(res.status).not.toHaveProperty('endpoint');
    const again = hooks.sync(next(req, res, (o) => (o.kind === 'Job' ? jobSucceeded(o) : o), allReady()), testEnv('2026-01-01T09:00:00Z'));
    expect(JSON.stringify(again)).toBe(JSON.stringify(res));
  });

  it('a controller with no ready replica keeps it from Ready; disabled controllers are not reported', () => {
    const req = syncRequest(flux({ config: { notificationController: { enabled: false } } }));
    const related = deployments({ 'source-controller': 1, 'kustomize-controller': 0, 'helm-controller': 1, 'notification-controller': 1 });
    const res = hooks.sync(next(req, hooks.sync(req, env), (o) => (o.kind === 'Job' ? jobSucceeded(o) : o), related), env);
    expect(res.status.phase).toBe('Installing');
    expect(condition(res)).toMatchObject({ reason: 'ControllersNotReady', message: 'no ready replica in flux-system: kustomize-controller' });
    expect(res.status.controllers).toEqual({ sourceController: { ready: true }, kustomizeController: { ready: false }, helmController: { ready: true } });
  });

  it('install failed: the message surfaces in status', () => {
    const req = syncRequest(flux());
    const first = hooks.sync(req, env);
    const jobName = byKind(first, 'Job')[0].metadata.name;
    const pods = toMap([
      withStatus(
        { apiVersion: 'v1', kind: 'Pod', metadata: { name: `${jobName}-x1`, namespace: 'idpbuilder-system', labels: { 'batch.kubernetes.io/job-name': jobName } } },
        { containerStatuses: [{ state: { terminated: { exitCode: 1, message: 'Error: chart "flux2" version "9.9.9" not found' } } }] },
      ),
    ]);
    const res = hooks.sync(next(req, first, (o) => (o.kind === 'Job' ? jobFailed(o) : o), pods), env);
    expect(res.status.phase).toBe('Failed');
    const nextRetryTime = (res.status.installation as { nextRetryTime?: string }).nextRetryTime;
    expect(nextRetryTime).toEqual(expect.any(String));
    expect(condition(res)).toMatchObject({
      reason: 'InstallFailed',
      message: `install job failed: BackoffLimitExceeded: Job has reached the specified backoff limit; last error: Error: chart "flux2" version "9.9.9" not found (attempt 1; retry at ${nextRetryTime})`,
    });
    expect(condition(res, 'Degraded').status).toBe('True');
  });

  it('spec change: the new install Job is created; the old (finished) Job and ConfigMap are kept until the new Job has finished, then dropped', () => {
    expectUpgradeKeepsOldInstall(hooks.sync, syncRequest(flux()), (status) => ({ ...flux({ imageAutomation: { enabled: true } }), status }) as KubeObject, env);
  });

  it('finalize with Delete uninstalls the release and finalizes only once that succeeded', () => {
    const req = syncRequest(flux());
    const installed = next(req, hooks.sync(req, env), jobSucceeded);
    const f1 = hooks.finalize!({ ...installed, finalizing: true, related: { ...installed.related, ...noUsers('Package') } }, env);
    expect(f1.finalized).toBe(false);
    expect(byKind(f1, 'Job')[0].metadata.name).toMatch(/^flux-uninstall-[0-9a-f]{8}$/);
    // every command runs through `run` (forwards SIGTERM to helm, src/kit/helm.ts)
    const lines = data(f1)['run.sh'].split('\n').map((l) => l.replace(/^run /, '')).filter((l) => l.startsWith('kubectl') || l.startsWith('helm'));
    expect(lines).toEqual([
      'helm uninstall flux2 --namespace flux-system --wait --ignore-not-found --timeout 10m',
      // deletionPolicy Delete: the release's PVCs too (src/kit/helm.ts releaseUninstall)
      'kubectl delete persistentvolumeclaims --namespace flux-system -l app.kubernetes.io/instance=flux2 --ignore-not-found --wait=true',
    ]);
    const installCMs = Object.values(installed.children!['ConfigMap.v1']);
    const f2 = hooks.finalize!({ ...installed, children: toMap([...installCMs, ...f1.children.map((c) => (c.kind === 'Job' ? jobSucceeded(c) : c))]), finalizing: true, related: { ...installed.related, ...noUsers('Package') } }, env);
    expect(f2.finalized).toBe(true);
    expect(condition(f2).reason).toBe('Uninstalled');
    const failed = hooks.finalize!({ ...installed, children: toMap([...installCMs, ...f1.children.map((c) => (c.kind === 'Job' ? jobFailed(c) : c))]), finalizing: true, related: { ...installed.related, ...noUsers('Package') } }, env);
    expect(failed.finalized).toBe(false);
    expect(condition(failed).reason).toBe('UninstallFailed');
  });

  it('finalize with Retain: finalized, reason Retained, no uninstall Job', () => {
    const req = syncRequest(flux({ deletionPolicy: 'Retain' }));
    const res = hooks.finalize!({ ...next(req, hooks.sync(req, env), jobSucceeded), finalizing: true, related: { ...req.related, ...noUsers('Package') } }, env);
    expect(res.finalized).toBe(true);
    expect(condition(res).reason).toBe('Retained');
    expect(byKind(res, 'Job').filter((j) => j.metadata.name.includes('-uninstall-'))).toEqual([]);
  });

  it('asks for its Job pods and the Deployments of the controllers it installs', () => {
    const rules = (spec: Record<string, unknown>) => hooks.customize!({ parent: flux(spec) }, env).relatedResources;
    expect(rules({})).toEqual([
      { apiVersion: 'v1', resource: 'pods', namespace: 'idpbuilder-system', labelSelector: { matchLabels: { 'idpbuilder.cnoe.io/owner-uid': 'uid-flux' } } },
      { apiVersion: 'apps/v1', resource: 'deployments', namespace: 'flux-system', names: CORE },
    ]);
    expect(rules({ namespace: 'gitops', imageAutomation: { enabled: true }, config: { notificationController: { enabled: false } } })[1]).toEqual({
      apiVersion: 'apps/v1',
      resource: 'deployments',
      namespace: 'gitops',
      names: ['source-controller', 'kustomize-controller', 'helm-controller', 'image-automation-controller', 'image-reflector-controller'],
    });
  });
});
