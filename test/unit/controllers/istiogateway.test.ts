import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { istioGatewayHooks as hooks } from '../../../src/controllers/istiogateway.js';
import type { KubeObject, SyncResponse } from '../../../src/metacontroller/protocol.js';
import { parent, syncRequest, testEnv } from '../../support/requests.js';
import { expectUpgradeKeepsOldInstall } from '../../support/providers.js';
import { byKind, condition, jobFailed, jobSucceeded, next, toMap, withStatus } from '../../support/world.js';

const env = testEnv();
const istio = (spec: Record<string, unknown> = {}, extra = {}) => parent('IstioGateway', 'istio-gateway', { namespace: 'istio-system', ...spec }, extra);
const data = (res: SyncResponse) => byKind(res, 'ConfigMap')[0].data as Record<string, string>;
const valuesOf = (res: SyncResponse, i: number) => parse(data(res)[`values-${i}.yaml`]);
const manifests = (res: SyncResponse) => parseAllDocuments(data(res)['manifests.yaml']).map((d) => d.toJS() as KubeObject);
const releases = (res: SyncResponse) => (JSON.parse(data(res)['releases.json']) as { name: string; namespace: string; chart: string; version?: string }[]).map((r) => `${r.name}:${r.chart}@${r.version}:${r.namespace}`);
const OWNER = { 'app.kubernetes.io/managed-by': 'idpbuilder', 'idpbuilder.cnoe.io/istiogateway': 'istio-gateway' };
const REPO = 'https://istio-release.storage.googleapis.com/charts';

function world({ istiodReady = 1, gatewayReady = 1, lb = '172.18.0.4' }: { istiodReady?: number; gatewayReady?: number; lb?: string | null } = {}) {
  return toMap([
    withStatus(
      {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'istiod', namespace: 'istio-system' },
        spec: { template: { spec: { containers: [{ name: 'discovery', image: 'docker.io/istio/pilot:1.30.3-distroless' }] } } },
      } as KubeObject,
      { replicas: 1, readyReplicas: istiodReady },
    ),
    withStatus({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'istio-ingressgateway', namespace: 'istio-system' } }, { replicas: 1, readyReplicas: gatewayReady }),
    withStatus({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'istio-ingressgateway', namespace: 'istio-system' } }, lb ? { loadBalancer: { ingress: [{ ip: lb }] } } : {}),
  ]);
}

describe('IstioGateway', () => {
  it('first sync: istio-base, istiod and the gateway in order in one Job, then the IngressClass', () => {
    const res = hooks.sync(syncRequest(istio()), env);
    expect(res.children.map((c) => c.kind)).toEqual(['ConfigMap', 'Job']);
    expect(byKind(res, 'Job')[0].metadata.name).toMatch(/^istio-gateway-install-[0-9a-f]{8}$/);
    const script = data(res)['run.sh'];
    const base = `helm upgrade --install istio-base base --repo ${REPO} --version 1.30.3 --namespace istio-system --create-namespace --values /config/values-0.yaml --wait --timeout 10m`;
    const istiod = `helm upgrade --install istiod istiod --repo ${REPO} --version 1.30.3 --namespace istio-system --create-namespace --values /config/values-1.yaml --wait --timeout 10m`;
    // the chart's default LoadBalancer Service: the gateway's Deployment is awaited, not the Service's address
    const gateway = `helm upgrade --install istio-ingressgateway gateway --repo ${REPO} --version 1.30.3 --namespace istio-system --create-namespace --values /config/values-2.yaml --timeout 10m\n`;
    const rollout = 'run kubectl rollout status deployment/istio-ingressgateway --namespace istio-system --timeout=10m\n';
    expect(script.indexOf(base)).toBeGreaterThan(0);
    expect(script.indexOf(istiod)).toBeGreaterThan(script.indexOf(base));
    expect(script.indexOf(gateway)).toBeGreaterThan(script.indexOf(istiod));
    expect(script.indexOf(rollout)).toBeGreaterThan(script.indexOf(gateway));
    expect(valuesOf(res, 0)).toEqual({ defaultRevision: 'default' });
    expect(valuesOf(res, 1)).toEqual({ meshConfig: { ingressService: 'istio-ingressgateway', ingressSelector: 'ingressgateway' } });
    expect(valuesOf(res, 2)).toEqual({});
    expect(manifests(res)).toEqual([
      { apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass', metadata: { name: 'istio', labels: OWNER }, spec: { controller: 'istio.io/ingress-controller' } },
    ]);
    expect(res.status).toMatchObject({
      phase: 'Installing',
      installed: false,
      routeKind: 'Ingress',
      ingressClassName: 'istio',
      profile: 'default',
      version: '1.30.3',
      internalEndpoint: 'http://istio-ingressgateway.istio-system.svc.cluster.local',
    });
    expect(res.status.loadBalancerEndpoint).toBeUndefined();
    // Istio's Ingress translation cannot rewrite paths
    expect(res.status.prefixRewrite).toBeUndefined();
  });

  it('maps the spec example: pilot resources, gateway Service, selector labels, mTLS and observability', () => {
    const res = hooks.sync(
      syncRequest(
        istio({
          profile: 'demo',
          version: '1.25.5',
          installMethod: { type: 'Helm', helm: { repository: REPO, chart: 'gateway', version: '1.25.5' } },
          config: {
            pilot: { resources: { limits: { cpu: '500m', memory: '512Mi' }, requests: { cpu: '100m', memory: '128Mi' } } },
            gateways: {
              'istio-ingressgateway': {
                enabled: true,
                type: 'NodePort',
                ports: [
                  { name: 'http', nodePort: 31080, port: 80 },
                  { name: 'https', nodePort: 31443, port: 443 },
                ],
              },
            },
          },
          gateway: { name: 'istio-ingressgateway', selector: { istio: 'ingressgateway' } },
          mesh: { mtls: { mode: 'STRICT' }, observability: { tracing: true, metrics: false } },
          values: { meshConfig: { accessLogFile: '/dev/stdout' } },
        }),
      ),
      env,
    );
    // installMethod.helm gives repository and version to every Istio chart; its `chart` is ignored
    expect(releases(res)).toEqual(['istio-base:base@1.25.5:istio-system', 'istiod:istiod@1.25.5:istio-system', 'istio-ingressgateway:gateway@1.25.5:istio-system']);
    expect(valuesOf(res, 1)).toEqual({
      profile: 'demo',
      resources: { limits: { cpu: '500m', memory: '512Mi' }, requests: { cpu: '100m', memory: '128Mi' } },
      meshConfig: { ingressService: 'istio-ingressgateway', ingressSelector: 'ingressgateway', enableTracing: true, enablePrometheusMerge: false, accessLogFile: '/dev/stdout' },
    });
    expect(valuesOf(res, 2)).toEqual({
      service: {
        type: 'NodePort',
        ports: [
          { name: 'status-port', port: 15021, protocol: 'TCP', targetPort: 15021 },
          { name: 'http', port: 80, protocol: 'TCP', targetPort: 80, nodePort: 31080 },
          { name: 'https', port: 443, protocol: 'TCP', targetPort: 443, nodePort: 31443 },
        ],
      },
      labels: { istio: 'ingressgateway' },
    });
    expect(manifests(res)).toContainEqual({
      apiVersion: 'security.istio.io/v1',
      kind: 'PeerAuthentication',
      metadata: { name: 'default', namespace: 'istio-system', labels: OWNER },
      spec: { mtls: { mode: 'STRICT' } },
    });
    expect(res.status).toMatchObject({ profile: 'demo', version: '1.25.5' });
  });

  it('gateway waits fit the Service type: helm --wait when it is set, the Deployment rollout for the default LoadBalancer', () => {
    // helm --wait also waits for a LoadBalancer Service's address, which never comes without a load balancer (kind)
    const gatewayLines = (spec: Record<string, unknown>) =>
      data(hooks.sync(syncRequest(istio(spec)), env))['run.sh']
        .split('\n')
        .filter((l) => /^run (helm upgrade --install \S+ gateway |kubectl rollout status)/.test(l))
        .map((l) => l.replace(/ --repo .* --values \/config\/values-\d\.yaml/, ' …'));
    expect(gatewayLines({})).toEqual([
      'run helm upgrade --install istio-ingressgateway gateway … --timeout 10m',
      'run kubectl rollout status deployment/istio-ingressgateway --namespace istio-system --timeout=10m',
    ]);
    for (const type of ['NodePort', 'ClusterIP', 'LoadBalancer']) {
      expect(gatewayLines({ serviceType: type }), type).toEqual(['run helm upgrade --install istio-ingressgateway gateway … --wait --timeout 10m']);
    }
    // an extra gateway does not take the shorthand: its own type decides
    expect(gatewayLines({ serviceType: 'NodePort', config: { gateways: { internal: { type: 'ClusterIP' }, edge: {} } } })).toEqual([
      'run helm upgrade --install istio-ingressgateway gateway … --wait --timeout 10m',
      'run helm upgrade --install edge gateway … --timeout 10m',
      'run kubectl rollout status deployment/edge --namespace istio-system --timeout=10m',
      'run helm upgrade --install internal gateway … --wait --timeout 10m',
    ]);
  });

  it('profiles: minimal and default set no profile value; ambient adds istio-cni and ztunnel before the gateway', () => {
    expect(valuesOf(hooks.sync(syncRequest(istio({ profile: 'minimal' })), env), 1)).not.toHaveProperty('profile');
    const ambient = hooks.sync(syncRequest(istio({ profile: 'ambient' })), env);
    expect(releases(ambient)).toEqual([
      'istio-base:base@1.30.3:istio-system',
      'istiod:istiod@1.30.3:istio-system',
      'istio-cni:cni@1.30.3:istio-system',
      'ztunnel:ztunnel@1.30.3:istio-system',
      'istio-ingressgateway:gateway@1.30.3:istio-system',
    ]);
    expect(valuesOf(ambient, 1).profile).toBe('ambient');
    expect(valuesOf(ambient, 2)).toEqual({ profile: 'ambient' });
  });

  it('a named gateway in its own namespace, the serviceType shorthand, and extra gateways from config.gateways', () => {
    const res = hooks.sync(
      syncRequest(
        istio({
          namespace: 'mesh',
          class: 'mesh',
          serviceType: 'ClusterIP',
          gateway: { name: 'edge', namespace: 'istio-ingress' },
          config: { gateways: { internal: { type: 'ClusterIP' }, disabled: { enabled: false } } },
        }),
      ),
      env,
    );
    expect(releases(res)).toEqual(['istio-base:base@1.30.3:mesh', 'istiod:istiod@1.30.3:mesh', 'edge:gateway@1.30.3:istio-ingress', 'internal:gateway@1.30.3:istio-ingress']);
    expect(valuesOf(res, 0)).toEqual({ defaultRevision: 'default', global: { istioNamespace: 'mesh' } });
    expect(valuesOf(res, 1)).toEqual({ global: { istioNamespace: 'mesh' }, meshConfig: { ingressClass: 'mesh', ingressService: 'edge', ingressSelector: 'edge' } });
    expect(valuesOf(res, 2)).toEqual({ service: { type: 'ClusterIP' } });
    expect(valuesOf(res, 3)).toEqual({ service: { type: 'ClusterIP' } });
    expect(manifests(res)[0].metadata.name).toBe('mesh');
    expect(res.status).toMatchObject({ ingressClassName: 'mesh', internalEndpoint: 'http://edge.istio-ingress.svc.cluster.local' });
    expect(hooks.customize!({ parent: istio({ namespace: 'mesh', gateway: { name: 'edge', namespace: 'istio-ingress' } }) }, env).relatedResources.slice(1)).toEqual([
      { apiVersion: 'apps/v1', resource: 'deployments', namespace: 'mesh', names: ['istiod'] },
      { apiVersion: 'apps/v1', resource: 'deployments', namespace: 'istio-ingress', names: ['edge'] },
      { apiVersion: 'v1', resource: 'services', namespace: 'istio-ingress', names: ['edge'] },
    ]);
  });

  it('a gateway name that would overwrite another Istio release blocks the install; what is installed is kept', () => {
    const first = hooks.sync(syncRequest(istio({ config: { gateways: { istiod: { type: 'ClusterIP' } } } })), env);
    expect(first.children).toEqual([]);
    expect(first.status).toMatchObject({ phase: 'Pending', installed: false });
    expect(condition(first)).toMatchObject({ status: 'False', reason: 'InvalidSpec', message: 'gateway names collide with another Istio release in istio-system: istiod' });
    // a spec change to a bad name after a good install: the installed Job and ConfigMap stay
    const req = syncRequest(istio());
    const installed = next(req, hooks.sync(req, env), jobSucceeded);
    const res = hooks.sync({ ...installed, parent: istio({ gateway: { name: 'istio-base' } }) }, env);
    expect(res.children.map((c) => c.metadata.name).sort()).toEqual(Object.values(installed.children!).flatMap((g) => Object.values(g).map((o) => o.metadata.name)).sort());
    expect(condition(res).reason).toBe('InvalidSpec');
    // in another namespace the same name is a different release
    expect(hooks.sync(syncRequest(istio({ gateway: { name: 'istiod', namespace: 'istio-ingress' } })), env).status.phase).toBe('Installing');
  });

  it('install succeeded: Ready, with control plane version, gateway addresses and endpoints', () => {
    const req = syncRequest(istio());
    const first = hooks.sync(req, env);
    const res = hooks.sync(next(req, first, (o) => (o.kind === 'Job' ? jobSucceeded(o) : o), world()), testEnv('2026-01-01T00:05:00Z'));
    expect(res.status.phase).toBe('Ready');
    expect(condition(res)).toMatchObject({ status: 'True', reason: 'Available', lastTransitionTime: '2026-01-01T00:05:00Z' });
    expect(res.status).toMatchObject({
      installed: true,
      ingressClassName: 'istio',
      loadBalancerEndpoint: 'http://172.18.0.4',
      internalEndpoint: 'http://istio-ingressgateway.istio-system.svc.cluster.local',
      profile: 'default',
      controlPlane: { ready: true, version: '1.30.3' },
      gateway: { ready: true, addresses: [{ type: 'IPAddress', value: '172.18.0.4' }] },
    });
    const again = hooks.sync(next(req, res, (o) => (o.kind === 'Job' ? jobSucceeded(o) : o), world()), testEnv('2026-01-01T09:00:00Z'));
    expect(JSON.stringify(again)).toBe(JSON.stringify(res));
  });

  it('is not Ready while istiod or the gateway has no ready replica', () => {
    const req = syncRequest(istio());
    const installed = (related: ReturnType<typeof world>) => hooks.sync(next(req, hooks.sync(req, env), (o) => (o.kind === 'Job' ? jobSucceeded(o) : o), related), env);
    const cp = installed(world({ istiodReady: 0 }));
    expect(cp.status.phase).toBe('Installing');
    expect(condition(cp)).toMatchObject({ reason: 'ControlPlaneNotReady', message: 'deployment istio-system/istiod has no ready replica' });
    expect(cp.status.controlPlane).toEqual({ ready: false, version: '1.30.3' });
    const gw = installed(world({ gatewayReady: 0, lb: null }));
    expect(condition(gw)).toMatchObject({ reason: 'GatewayNotReady', message: 'deployment istio-system/istio-ingressgateway has no ready replica' });
    expect(gw.status.gateway).toEqual({ ready: false });
    expect(gw.status.loadBalancerEndpoint).toBeUndefined();
  });

  it('install failed: the message surfaces in status', () => {
    const req = syncRequest(istio());
    const first = hooks.sync(req, env);
    const jobName = byKind(first, 'Job')[0].metadata.name;
    const pods = toMap([
      withStatus(
        { apiVersion: 'v1', kind: 'Pod', metadata: { name: `${jobName}-x1`, namespace: 'idpbuilder-system', labels: { 'batch.kubernetes.io/job-name': jobName } } },
        { containerStatuses: [{ state: { terminated: { exitCode: 1, message: 'Error: UPGRADE FAILED: context deadline exceeded' } } }] },
      ),
    ]);
    const res = hooks.sync(next(req, first, (o) => (o.kind === 'Job' ? jobFailed(o) : o), pods), env);
    expect(res.status.phase).toBe('Failed');
    expect(condition(res)).toMatchObject({
      reason: 'InstallFailed',
      message: `install job failed: BackoffLimitExceeded: Job has reached the specified backoff limit; last error: Error: UPGRADE FAILED: context deadline exceeded (attempt 1; retry at ${(res.status.installation as { nextRetryTime?: string }).nextRetryTime})`,
    });
    expect((res.status.installation as { nextRetryTime?: string }).nextRetryTime).toEqual(expect.any(String));
    expect(byKind(res, 'Job').map((j) => j.metadata.name)).toEqual([jobName]);
  });

  it('spec change: the new install Job is created; the old (finished) Job and ConfigMap are kept until the new Job has finished, then dropped', () => {
    expectUpgradeKeepsOldInstall(hooks.sync, syncRequest(istio()), (status) => ({ ...istio({ mesh: { mtls: { mode: 'STRICT' } } }), status }) as KubeObject, env);
  });

  it('finalize with Delete: manifests first, then every release in reverse order; finalized only once that succeeded', () => {
    const req = syncRequest(istio({ mesh: { mtls: { mode: 'STRICT' } } }));
    const installed = next(req, hooks.sync(req, env), jobSucceeded);
    const f1 = hooks.finalize!({ ...installed, finalizing: true }, env);
    expect(f1.finalized).toBe(false);
    expect(byKind(f1, 'Job')[0].metadata.name).toMatch(/^istio-gateway-uninstall-[0-9a-f]{8}$/);
    // every command runs through `run` (forwards SIGTERM to helm, src/kit/helm.ts)
    const lines = data(f1)['run.sh'].split('\n').map((l) => l.replace(/^run /, '')).filter((l) => l.startsWith('kubectl') || l.startsWith('helm'));
    expect(lines).toEqual([
      'kubectl delete --ignore-not-found --wait=true -f /config/manifests.yaml',
      'helm uninstall istio-ingressgateway --namespace istio-system --wait --ignore-not-found --timeout 10m',
      // deletionPolicy Delete: each release's PVCs after its uninstall (src/kit/helm.ts releaseUninstall)
      'kubectl delete persistentvolumeclaims --namespace istio-system -l app.kubernetes.io/instance=istio-ingressgateway --ignore-not-found --wait=true',
      'helm uninstall istiod --namespace istio-system --wait --ignore-not-found --timeout 10m',
      'kubectl delete persistentvolumeclaims --namespace istio-system -l app.kubernetes.io/instance=istiod --ignore-not-found --wait=true',
      'helm uninstall istio-base --namespace istio-system --wait --ignore-not-found --timeout 10m',
      'kubectl delete persistentvolumeclaims --namespace istio-system -l app.kubernetes.io/instance=istio-base --ignore-not-found --wait=true',
    ]);
    expect(manifests(f1).map((m) => `${m.kind}/${m.metadata.name}`)).toEqual(['IngressClass/istio', 'PeerAuthentication/default']);
    const installCMs = Object.values(installed.children!['ConfigMap.v1']);
    const f2 = hooks.finalize!({ ...installed, children: toMap([...installCMs, ...f1.children.map((c) => (c.kind === 'Job' ? jobSucceeded(c) : c))]), finalizing: true }, env);
    expect(f2.finalized).toBe(true);
    const failed = hooks.finalize!({ ...installed, children: toMap([...installCMs, ...f1.children.map((c) => (c.kind === 'Job' ? jobFailed(c) : c))]), finalizing: true }, env);
    expect(failed.finalized).toBe(false);
    expect(condition(failed).reason).toBe('UninstallFailed');
  });

  it('finalize with Retain: finalized, reason Retained, no uninstall Job', () => {
    const req = syncRequest(istio({ deletionPolicy: 'Retain' }));
    const res = hooks.finalize!({ ...next(req, hooks.sync(req, env), jobSucceeded), finalizing: true }, env);
    expect(res.finalized).toBe(true);
    expect(condition(res).reason).toBe('Retained');
    expect(byKind(res, 'Job').filter((j) => j.metadata.name.includes('-uninstall-'))).toEqual([]);
  });

  it('asks for its Job pods, istiod, and the gateway Deployment and Service', () => {
    const res = hooks.customize!({ parent: istio() }, env);
    expect(res.relatedResources).toEqual([
      { apiVersion: 'v1', resource: 'pods', namespace: 'idpbuilder-system', labelSelector: { matchLabels: { 'idpbuilder.cnoe.io/owner-uid': 'uid-istio-gateway' } } },
      { apiVersion: 'apps/v1', resource: 'deployments', namespace: 'istio-system', names: ['istiod'] },
      { apiVersion: 'apps/v1', resource: 'deployments', namespace: 'istio-system', names: ['istio-ingressgateway'] },
      { apiVersion: 'v1', resource: 'services', namespace: 'istio-system', names: ['istio-ingressgateway'] },
    ]);
  });
});
