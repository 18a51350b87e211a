import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { fluxProviderHooks as hooks, VIEWER_RULES } from '../../../src/controllers/fluxprovider.js';
import type { KubeObject, SyncResponse } from '../../../src/metacontroller/protocol.js';
import { parent, syncRequest, testEnv, noUsers } from '../../support/requests.js';
import { cmData, expectUpgradeKeepsOldInstall, gatewayObject, secretData, userSecret, values as valuesOf } from '../../support/providers.js';
import { byKind, condition, jobFailed, jobSucceeded, next, toMap, withStatus } from '../../support/world.js';

const env = testEnv();
const flux = (spec: Record<string, unknown> = {}, extra = {}) => parent('FluxProvider', 'flux', { namespace: 'flux-system', ...spec }, extra);
const data = (res: SyncResponse) => byKind(res, 'ConfigMap')[0].data as Record<string, string>;
const CORE = ['source-controller', 'kustomize-controller', 'helm-controller', 'notification-controller'];
/** The flux2 release alone (the web UI is on by default: its own describe block below). */
const noUI = { dashboard: { enabled: false } };

function deployments(ready: Record<string, number>) {
  return toMap(
    Object.entries(ready).map(([name, readyReplicas]) =>
      withStatus({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name, namespace: 'flux-system' } } as KubeObject, { replicas: 1, readyReplicas }),
    ),
  );
}
const allReady = () => deployments(Object.fromEntries(CORE.map((n) => [n, 1])));

describe('FluxProvider', () => {
  it('first sync (dashboard off): the flux2 chart, image automation off by default, phase Installing', () => {
    const res = hooks.sync(syncRequest(flux(noUI)), env);
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

  it('install succeeded (dashboard off): Ready, with per-controller readiness from the Deployments, no endpoint', () => {
    const req = syncRequest(flux(noUI));
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
    expect(res.status).not.toHaveProperty('credentialsSecretRef');
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
    const req = syncRequest(flux(noUI));
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
      { apiVersion: 'v1', resource: 'secrets', namespace: 'flux-system', names: ['flux-flux-admin-token'] },
      { apiVersion: 'apps/v1', resource: 'deployments', namespace: 'flux-system', names: [...CORE, 'flux-operator'] },
    ]);
    expect(rules(noUI)[1]).toEqual({ apiVersion: 'apps/v1', resource: 'deployments', namespace: 'flux-system', names: CORE });
    expect(rules({ ...noUI, namespace: 'gitops', imageAutomation: { enabled: true }, config: { notificationController: { enabled: false } } })[1]).toEqual({
      apiVersion: 'apps/v1',
      resource: 'deployments',
      namespace: 'gitops',
      names: ['source-controller', 'kustomize-controller', 'helm-controller', 'image-automation-controller', 'image-reflector-controller'],
    });
  });
});

describe('FluxProvider dashboard (the Flux Operator web UI, on by default)', () => {
  const edge = (kind: string) => ({ routing: { domain: 'idp.example.com', port: 8443, gatewayRef: { kind, name: 'edge' } } });
  const install = (res: SyncResponse) => byKind(res, 'ConfigMap')[0];
  const manifests = (res: SyncResponse) => parseAllDocuments(cmData(install(res))['manifests.yaml']).map((d) => d.toJS() as KubeObject);
  const secretRef = { name: 'flux-flux-admin', namespace: 'idpbuilder-system', key: 'token' };
  /** The token Secret as Kubernetes fills it (the token controller), in the Flux namespace. */
  const token = (value = 'sa-token-1') => userSecret('flux-flux-admin-token', { token: value, 'ca.crt': 'CA', namespace: 'flux-system' }, 'flux-system');

  it('nginx gateway: a second release flux-operator (chart 0.49.0) with web.ingress for flux.<domain>, anonymous read-only identity', () => {
    const res = hooks.sync(syncRequest(flux(edge('NginxGateway')), {}, toMap([gatewayObject('nginx')])), env);
    const script = cmData(install(res))['run.sh'];
    expect(script).toContain('helm upgrade --install flux2 flux2 --repo https://fluxcd-community.github.io/helm-charts --version 2.18.3 --namespace flux-system');
    expect(script).toContain(
      'helm upgrade --install flux-operator oci://ghcr.io/controlplaneio-fluxcd/charts/flux-operator --version 0.49.0 --namespace flux-system --create-namespace --values /config/values-1.yaml --wait',
    );
    expect(valuesOf(install(res), 1)).toEqual({
      web: {
        enabled: true,
        config: { baseURL: 'https://flux.idp.example.com:8443', authentication: { type: 'Anonymous', anonymous: { username: 'idpbuilder:flux-web', groups: ['idpbuilder:flux-web'] } } },
        rbac: { createRoles: true },
        ingress: { enabled: true, className: 'nginx', hosts: [{ host: 'flux.idp.example.com', paths: [{ path: '/', pathType: 'Prefix' }] }], tls: [{ hosts: ['flux.idp.example.com'] }] },
      },
    });
    // nothing is claimed before the install succeeded
    expect(res.status).not.toHaveProperty('endpoint');
    expect(res.status).not.toHaveProperty('credentialsSecretRef');
  });

  it('envoy gateway (HTTPRoute), http: web.httpRoute attached to the Gateway, insecure cookies; path routing still serves a host of its own', () => {
    const spec = { routing: { domain: 'idp.example.com', protocol: 'http', usePathRouting: true, gatewayRef: { kind: 'EnvoyGateway', name: 'edge' } } };
    const res = hooks.sync(syncRequest(flux(spec), {}, toMap([gatewayObject('envoy')])), env);
    const web = valuesOf(install(res), 1).web;
    expect(web.httpRoute).toEqual({ enabled: true, parentRefs: [{ name: 'edge', namespace: 'envoy-gateway-system' }], hostnames: ['flux.idp.example.com'] });
    expect(web.ingress).toBeUndefined();
    expect(web.config).toMatchObject({ baseURL: 'http://flux.idp.example.com', insecure: true });
  });

  it('dashboard.host overrides the host', () => {
    const res = hooks.sync(syncRequest(flux({ dashboard: { host: 'gitops.example.org' } })), env);
    expect(valuesOf(install(res), 1).web.ingress.hosts).toEqual([{ host: 'gitops.example.org', paths: [{ path: '/', pathType: 'Prefix' }] }]);
  });

  it('manifests after the releases: viewer binding for the anonymous group, the admin ServiceAccount, its token Secret and its flux-web-admin binding', () => {
    const res = hooks.sync(syncRequest(flux()), env);
    expect(manifests(res)).toEqual([
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRole',
        metadata: { name: 'idpbuilder-idpbuilder-system-flux-flux-web', labels: { 'app.kubernetes.io/managed-by': 'idpbuilder' } },
        rules: VIEWER_RULES,
      },
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRoleBinding',
        metadata: { name: 'idpbuilder-idpbuilder-system-flux-flux-web', labels: { 'app.kubernetes.io/managed-by': 'idpbuilder' } },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'idpbuilder-idpbuilder-system-flux-flux-web' },
        subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'idpbuilder:flux-web' }],
      },
      { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'flux-flux-admin', namespace: 'flux-system', labels: { 'app.kubernetes.io/managed-by': 'idpbuilder' } } },
      {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 'flux-flux-admin-token', namespace: 'flux-system', labels: { 'app.kubernetes.io/managed-by': 'idpbuilder' }, annotations: { 'kubernetes.io/service-account.name': 'flux-flux-admin' } },
        type: 'kubernetes.io/service-account-token',
      },
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRoleBinding',
        metadata: { name: 'idpbuilder-idpbuilder-system-flux-flux-admin', labels: { 'app.kubernetes.io/managed-by': 'idpbuilder' } },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'flux-web-admin' },
        subjects: [{ kind: 'ServiceAccount', name: 'flux-flux-admin', namespace: 'flux-system' }],
      },
    ]);
    // no value of the token ever passes through the hook: the Secret has no data
    expect(manifests(res)[3]).not.toHaveProperty('data');
  });

  it('the UI has no login: its anonymous identity can read no Secret, nor any core resource outside the viewer list', () => {
    const rules = (manifests(hooks.sync(syncRequest(flux()), env))[0] as unknown as { rules: { apiGroups: string[]; resources: string[]; verbs: string[] }[] }).rules;
    const allows = (group: string, resource: string) => rules.some((r) => r.apiGroups.includes(group) && (r.resources.includes(resource) || r.resources.includes('*')));
    expect(allows('', 'secrets')).toBe(false);
    expect(allows('', 'configmaps')).toBe(false);
    expect(rules.some((r) => r.apiGroups.includes('*'))).toBe(false);
    expect(allows('kustomize.toolkit.fluxcd.io', 'kustomizations')).toBe(true);
    expect(allows('apps', 'deployments')).toBe(true);
    expect(rules.every((r) => r.verbs.every((v) => ['get', 'list', 'watch'].includes(v)))).toBe(true);
  });

  it('installed and routed: status.endpoint and status.credentialsSecretRef (a copy of the token in this namespace), controllers.dashboard; stable across syncs', () => {
    const req = syncRequest(flux(edge('NginxGateway')), {}, toMap([gatewayObject('nginx')]));
    const first = hooks.sync(req, env);
    const related = { ...toMap([gatewayObject('nginx'), token()]), ...deployments({ ...Object.fromEntries(CORE.map((n) => [n, 1])), 'flux-operator': 1 }) };
    const res = hooks.sync(next(req, first, (o) => (o.kind === 'Job' ? jobSucceeded(o) : o), related), testEnv('2026-01-01T00:05:00Z'));
    expect(res.status).toMatchObject({ phase: 'Ready', installed: true, endpoint: 'https://flux.idp.example.com:8443', credentialsSecretRef: secretRef });
    expect((res.status.controllers as Record<string, unknown>).dashboard).toEqual({ ready: true });
    const copy = byKind(res, 'Secret')[0];
    expect(copy.metadata).toMatchObject({ name: 'flux-flux-admin', namespace: 'idpbuilder-system', labels: { 'idpbuilder.cnoe.io/role': 'credentials', 'idpbuilder.cnoe.io/fluxprovider': 'flux' } });
    expect(secretData(copy)).toEqual({ token: 'sa-token-1', 'ca.crt': 'CA' });
    // the token never reaches the status
    expect(JSON.stringify(res.status)).not.toContain('sa-token-1');
    const again = hooks.sync(next(req, res, (o) => (o.kind === 'Job' ? jobSucceeded(o) : o), related), testEnv('2026-01-01T09:00:00Z'));
    expect(JSON.stringify(again)).toBe(JSON.stringify(res));
    // a different random source changes nothing: the credential is Kubernetes' token, named, never generated by the hook
    const other = hooks.sync(next(req, res, (o) => (o.kind === 'Job' ? jobSucceeded(o) : o), related), testEnv('2026-01-01T09:00:00Z', 'another-seed'));
    expect(other.status.credentialsSecretRef).toEqual(secretRef);
  });

  it('installed, token not filled in yet: endpoint claimed, credentialsSecretRef not; a copy made earlier is kept while the token is not observed', () => {
    const req = syncRequest(flux());
    const installed = next(req, hooks.sync(req, env), (o) => (o.kind === 'Job' ? jobSucceeded(o) : o));
    const noToken = hooks.sync(installed, env);
    expect(noToken.status.endpoint).toBe('https://flux.cnoe.localtest.me');
    expect(noToken.status).not.toHaveProperty('credentialsSecretRef');
    expect(byKind(noToken, 'Secret')).toEqual([]);
    const withToken = hooks.sync({ ...installed, related: toMap([token()]) }, env);
    expect(withToken.status.credentialsSecretRef).toEqual(secretRef);
    const lagging = hooks.sync(next(installed, withToken, (o) => (o.kind === 'Job' ? jobSucceeded(o) : o), {}), env);
    expect(byKind(lagging, 'Secret').map((x) => secretData(x).token)).toEqual(['sa-token-1']);
    expect(lagging.status.credentialsSecretRef).toEqual(secretRef);
  });

  it('the UI without a ready replica keeps the provider from Ready (ControllersNotReady names flux-operator)', () => {
    const req = syncRequest(flux());
    const related = deployments({ ...Object.fromEntries(CORE.map((n) => [n, 1])), 'flux-operator': 0 });
    const res = hooks.sync(next(req, hooks.sync(req, env), (o) => (o.kind === 'Job' ? jobSucceeded(o) : o), related), env);
    expect(condition(res)).toMatchObject({ reason: 'ControllersNotReady', message: 'no ready replica in flux-system: flux-operator' });
  });

  it('a failed install claims no endpoint', () => {
    const req = syncRequest(flux());
    const res = hooks.sync(next(req, hooks.sync(req, env), (o) => (o.kind === 'Job' ? jobFailed(o) : o)), env);
    expect(res.status).not.toHaveProperty('endpoint');
    expect(res.status).not.toHaveProperty('credentialsSecretRef');
  });

  it('turning the dashboard on after an install without it: nothing is claimed until the new install Job succeeded', () => {
    const req = syncRequest(flux(noUI));
    const installed = next(req, hooks.sync(req, env), jobSucceeded);
    const before = hooks.sync(installed, env);
    const on = { ...installed, parent: { ...flux(), status: before.status } as KubeObject };
    const upgrading = hooks.sync(on, env);
    expect(upgrading.status).toMatchObject({ installed: true, phase: 'Ready' });
    expect(upgrading.status).not.toHaveProperty('endpoint');
    const done = hooks.sync(next(on, upgrading, (o) => (o.kind === 'Job' ? jobSucceeded(o) : o), toMap([token()])), env);
    expect(done.status).toMatchObject({ endpoint: 'https://flux.cnoe.localtest.me', credentialsSecretRef: secretRef });
  });

  it('a gateway that is not Ready holds the install back (WaitingForGateway), like ArgoCDProvider', () => {
    const gw = { ...gatewayObject('nginx'), status: { conditions: [{ type: 'Ready', status: 'False', reason: 'Installing', message: 'install job running' }] } } as KubeObject;
    const res = hooks.sync(syncRequest(flux(edge('NginxGateway')), {}, toMap([gw])), env);
    expect(byKind(res, 'Job')).toEqual([]);
    expect(condition(res)).toMatchObject({ status: 'False', reason: 'WaitingForGateway' });
  });

  it('finalize with Delete: the manifests are deleted, then flux-operator, then flux2 are uninstalled', () => {
    const req = syncRequest(flux());
    const installed = next(req, hooks.sync(req, env), jobSucceeded);
    const f1 = hooks.finalize!({ ...installed, finalizing: true, related: { ...installed.related, ...noUsers('Package') } }, env);
    const lines = data(f1)['run.sh'].split('\n').map((l) => l.replace(/^run /, '')).filter((l) => l.startsWith('kubectl') || l.startsWith('helm'));
    expect(lines).toEqual([
      'kubectl delete --ignore-not-found --wait=true -f /config/manifests.yaml',
      'helm uninstall flux-operator --namespace flux-system --wait --ignore-not-found --timeout 10m',
      'kubectl delete persistentvolumeclaims --namespace flux-system -l app.kubernetes.io/instance=flux-operator --ignore-not-found --wait=true',
      'helm uninstall flux2 --namespace flux-system --wait --ignore-not-found --timeout 10m',
      'kubectl delete persistentvolumeclaims --namespace flux-system -l app.kubernetes.io/instance=flux2 --ignore-not-found --wait=true',
    ]);
  });

  it('dashboard.installMethod.helm moves the flux-operator chart: repository, chart, version (absent: the pinned 0.49.0)', () => {
    const at = (helm: Record<string, string>) => cmData(install(hooks.sync(syncRequest(flux({ dashboard: { installMethod: { type: 'Helm', helm } } })), env)))['run.sh'];
    expect(at({ repository: 'oci://registry.internal:5000/charts', chart: 'flux-operator', version: '0.48.0' })).toContain(
      'helm upgrade --install flux-operator oci://registry.internal:5000/charts/flux-operator --version 0.48.0 --namespace flux-system',
    );
    expect(at({ repository: 'https://charts.internal/flux' })).toContain('helm upgrade --install flux-operator flux-operator --repo https://charts.internal/flux --version 0.49.0 --namespace flux-system');
    // the flux2 release is not moved by it
    expect(at({ repository: 'https://charts.internal/flux' })).toContain('helm upgrade --install flux2 flux2 --repo https://fluxcd-community.github.io/helm-charts --version 2.18.3');
  });

  it('dashboard.values reach values-1.yaml, merged over ours (objects key by key); the flux2 values do not get them', () => {
    const user = { resources: { limits: { memory: '512Mi' } }, image: { repository: 'registry.internal/flux-operator' }, web: { ingress: { annotations: { 'cert-manager.io/cluster-issuer': 'ca' } }, config: { baseURL: 'https://flux.idp.example.com:8443' } } };
    const res = hooks.sync(syncRequest(flux({ ...edge('NginxGateway'), dashboard: { values: user } }), {}, toMap([gatewayObject('nginx')])), env);
    const v = valuesOf(install(res), 1);
    expect(v.resources).toEqual({ limits: { memory: '512Mi' } });
    expect(v.image).toEqual({ repository: 'registry.internal/flux-operator' });
    expect(v.web.ingress).toEqual({
      enabled: true,
      className: 'nginx',
      annotations: { 'cert-manager.io/cluster-issuer': 'ca' },
      hosts: [{ host: 'flux.idp.example.com', paths: [{ path: '/', pathType: 'Prefix' }] }],
      tls: [{ hosts: ['flux.idp.example.com'] }],
    });
    expect(v.web.config.baseURL).toBe('https://flux.idp.example.com:8443');
    expect(v.web.rbac).toEqual({ createRoles: true });
    expect(valuesOf(install(res), 0)).not.toHaveProperty('web');
    expect(condition(res).reason).not.toBe('ConflictingValues');
  });

  it('dashboard.values that contradict relied ones: Ready=False ConflictingValues naming each key, no install with them; the running install keeps ours', () => {
    const req = syncRequest(flux());
    const installed = next(req, hooks.sync(req, env), jobSucceeded);
    const first = hooks.sync(installed, env);
    const ourValues = valuesOf(install(first), 1);
    const bad = {
      web: {
        rbac: { createRoles: false },
        config: { baseURL: 'https://elsewhere.example', authentication: { anonymous: { groups: ['system:masters'] } } },
        ingress: { className: 'traefik' },
      },
    };
    const res = hooks.sync({ ...installed, parent: { ...flux({ dashboard: { values: bad } }), status: first.status } as KubeObject }, env);
    expect(condition(res)).toMatchObject({ status: 'False', reason: 'ConflictingValues' });
    const message = condition(res).message as string;
    expect(message).toContain('dashboard.values.web.rbac.createRoles is false');
    expect(message).toContain('dashboard.values.web.config.baseURL is "https://elsewhere.example" but the controller relies on "https://flux.cnoe.localtest.me"');
    expect(message).toContain('dashboard.values.web.config.authentication is {"anonymous":{"groups":["system:masters"]}}');
    expect(message).toContain('dashboard.values.web.ingress.className is "traefik"');
    // no new install: the only install ConfigMap is the one that ran, with our values
    const configMaps = byKind(res, 'ConfigMap');
    expect(configMaps).toHaveLength(1);
    expect(valuesOf(configMaps[0], 1)).toEqual(ourValues);
    expect(byKind(res, 'Job').map((j) => j.metadata.name)).toEqual(byKind(first, 'Job').map((j) => j.metadata.name));
  });

  it('dashboard.values repeating relied values unchanged are not a conflict; web.configSecretName is', () => {
    const same = { web: { enabled: true, rbac: { createRoles: true }, config: { authentication: { type: 'Anonymous' } }, ingress: { enabled: true, className: 'nginx' } } };
    const ok = hooks.sync(syncRequest(flux({ dashboard: { values: same } })), env);
    expect(condition(ok).reason).not.toBe('ConflictingValues');
    expect(byKind(ok, 'Job')).toHaveLength(1);
    const res = hooks.sync(syncRequest(flux({ dashboard: { values: { web: { configSecretName: 'my-web-config' } } } })), env);
    expect(condition(res)).toMatchObject({ status: 'False', reason: 'ConflictingValues' });
    expect(condition(res).message).toContain('dashboard.values.web.configSecretName is "my-web-config"');
    expect(byKind(res, 'Job')).toEqual([]);
  });

  it('flux2 and dashboard conflicts are reported together', () => {
    const res = hooks.sync(syncRequest(flux({ values: { watchAllNamespaces: false }, dashboard: { values: { web: { enabled: false } } } })), env);
    expect(condition(res)).toMatchObject({ status: 'False', reason: 'ConflictingValues' });
    expect(condition(res).message).toMatch(/^values\.watchAllNamespaces is false .*; dashboard\.values\.web\.enabled is false/);
  });

  it('the admin token copy is kept while dashboard.values conflict', () => {
    const req = syncRequest(flux());
    const done = hooks.sync(next(req, hooks.sync(req, env), (o) => (o.kind === 'Job' ? jobSucceeded(o) : o), toMap([token()])), env);
    const copy = byKind(done, 'Secret').find((s) => s.metadata.name === 'flux-flux-admin');
    expect(copy).toBeDefined();
    const res = hooks.sync(next({ ...req, parent: { ...flux({ dashboard: { values: { web: { rbac: { createRoles: false } } } } }), status: done.status } as KubeObject }, done, (o) => o, toMap([token()])), env);
    expect(condition(res).reason).toBe('ConflictingValues');
    expect(secretData(byKind(res, 'Secret').find((s) => s.metadata.name === 'flux-flux-admin')!)).toMatchObject({ token: 'sa-token-1' });
  });

  it('multitenancy keys reach the flux2 chart: enabled, defaultServiceAccount, privileged', () => {
    const res = hooks.sync(syncRequest(flux({ ...noUI, multitenancy: { enabled: true, defaultServiceAccount: 'flux-reconciler', privileged: false } })), env);
    expect(parse(data(res)['values-0.yaml']).multitenancy).toEqual({ enabled: true, defaultServiceAccount: 'flux-reconciler', privileged: false });
  });
});
