import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { envoyGatewayHooks as hooks } from '../../../src/controllers/envoygateway.js';
import type { KubeObject, SyncResponse } from '../../../src/metacontroller/protocol.js';
import { parent, syncRequest, testEnv } from '../../support/requests.js';
import { expectUpgradeKeepsOldInstall } from '../../support/providers.js';
import { byKind, condition, jobFailed, jobSucceeded, next, toMap, withStatus } from '../../support/world.js';

const env = testEnv();
const eg = (spec: Record<string, unknown> = {}, extra = {}) => parent('EnvoyGateway', 'envoy-gateway', { namespace: 'envoy-gateway-system', ...spec }, extra);
const data = (res: SyncResponse) => byKind(res, 'ConfigMap')[0].data as Record<string, string>;
const manifests = (res: SyncResponse) => parseAllDocuments(data(res)['manifests.yaml']).map((d) => d.toJS() as KubeObject);
const OWNER = { 'app.kubernetes.io/managed-by': 'idpbuilder', 'idpbuilder.cnoe.io/envoygateway': 'envoy-gateway' };
const PROXY_LABELS = { 'gateway.envoyproxy.io/owning-gateway-name': 'envoy-gateway', 'gateway.envoyproxy.io/owning-gateway-namespace': 'envoy-gateway-system' };

/** What Envoy Gateway runs once installed: its controller and the proxy of our Gateway. */
function world({ controllerReady = 1, proxyReady = 1, lb = '172.18.0.3' }: { controllerReady?: number; proxyReady?: number | null; lb?: string | null } = {}) {
  const objects: KubeObject[] = [
    withStatus({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'envoy-gateway', namespace: 'envoy-gateway-system' } }, { replicas: 1, readyReplicas: controllerReady }),
  ];
  if (proxyReady !== null) {
    objects.push(
      withStatus({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'envoy-envoy-gateway-system-envoy-gateway-1a2b3c4d', namespace: 'envoy-gateway-system', labels: PROXY_LABELS } }, { replicas: 1, readyReplicas: proxyReady }),
      withStatus(
        { apiVersion: 'v1', kind: 'Service', metadata: { name: 'envoy-envoy-gateway-system-envoy-gateway-1a2b3c4d', namespace: 'envoy-gateway-system', labels: PROXY_LABELS } },
        lb ? { loadBalancer: { ingress: [{ ip: lb }] } } : {},
      ),
    );
  }
  return toMap(objects);
}

describe('EnvoyGateway', () => {
  it('first sync: the gateway-helm chart from OCI, then a GatewayClass and a Gateway applied by kubectl', () => {
    const res = hooks.sync(syncRequest(eg()), env);
    const [cm] = byKind(res, 'ConfigMap');
    const [job] = byKind(res, 'Job');
    expect(res.children).toHaveLength(2);
    expect(cm.metadata.namespace).toBe('idpbuilder-system');
    expect(job.metadata.name).toBe(cm.metadata.name);
    expect(job.metadata.name).toMatch(/^envoy-gateway-install-[0-9a-f]{8}$/);
    const script = data(res)['run.sh'];
    expect(script).toContain(
      'helm upgrade --install envoy-gateway oci://docker.io/envoyproxy/gateway-helm --version v1.9.0 --namespace envoy-gateway-system --create-namespace --values /config/values-0.yaml --wait --timeout 10m',
    );
    expect(script).toContain('kubectl apply --server-side --force-conflicts --field-manager=idpbuilder -f /config/manifests.yaml');
    expect(parse(data(res)['values-0.yaml'])).toEqual({ config: { envoyGateway: { gateway: { controllerName: 'gateway.envoyproxy.io/gatewayclass-controller' } } } });
    expect(manifests(res)).toEqual([
      { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'GatewayClass', metadata: { name: 'envoy', labels: OWNER }, spec: { controllerName: 'gateway.envoyproxy.io/gatewayclass-controller' } },
      {
        apiVersion: 'gateway.networking.k8s.io/v1',
        kind: 'Gateway',
        metadata: { name: 'envoy-gateway', namespace: 'envoy-gateway-system', labels: OWNER },
        spec: { gatewayClassName: 'envoy', listeners: [{ name: 'http', protocol: 'HTTP', port: 80, allowedRoutes: { namespaces: { from: 'All' } } }] },
      },
    ]);
    expect(res.status.phase).toBe('Installing');
    expect(condition(res)).toMatchObject({ status: 'False', reason: 'Installing' });
    // routes are HTTPRoutes attached to the Gateway; there is no IngressClass, so no ingressClassName
    expect(res.status).toMatchObject({
      routeKind: 'HTTPRoute',
      parentRef: { name: 'envoy-gateway', namespace: 'envoy-gateway-system' },
      prefixRewrite: 'URLRewrite',
      gatewayClass: 'envoy',
      version: 'v1.9.0',
      installed: false,
    });
    expect(res.status.ingressClassName).toBeUndefined();
    expect(res.status.internalEndpoint).toBeUndefined();
    expect(res.status.loadBalancerEndpoint).toBeUndefined();
  });

  it('maps config onto chart values and listeners (TLS, cross-namespace certificates, Service type) onto manifests', () => {
    const res = hooks.sync(
      syncRequest(
        eg({
          config: {
            provider: { type: 'Kubernetes' },
            gateway: { controllerName: 'example.com/eg' },
            resources: { limits: { cpu: '500m', memory: '256Mi' }, requests: { cpu: '100m', memory: '128Mi' } },
            deployment: { replicas: 2, resources: { limits: { memory: '512Mi' } } },
          },
          gatewayClass: { name: 'platform', isDefault: true },
          serviceType: 'NodePort',
          listeners: [
            { name: 'http', protocol: 'HTTP', port: 8080, tls: { mode: 'Terminate' } },
            { name: 'https', protocol: 'HTTPS', port: 443, hostname: '*.cnoe.localtest.me', tls: { mode: 'Terminate', certificateRefs: [{ name: 'platform-tls' }, { name: 'local-tls' }] } },
            { name: 'tls', protocol: 'TLS', port: 8443, tls: { mode: 'Passthrough' } },
          ],
          values: { deployment: { envoyGateway: { imagePullPolicy: 'Always' } } },
        }),
      ),
      env,
    );
    expect(parse(data(res)['values-0.yaml'])).toEqual({
      deployment: { replicas: 2, envoyGateway: { resources: { limits: { cpu: '500m', memory: '512Mi' }, requests: { cpu: '100m', memory: '128Mi' } }, imagePullPolicy: 'Always' } },
      config: { envoyGateway: { gateway: { controllerName: 'example.com/eg' }, provider: { type: 'Kubernetes' } } },
    });
    // a non-default class gets its own release (gateway-helm names cluster RBAC after the release)
    expect(data(res)['run.sh']).toContain('helm upgrade --install envoy-gateway-platform oci://docker.io/envoyproxy/gateway-helm');
    const [proxy, cls, grant, gateway] = manifests(res);
    expect(proxy).toEqual({
      apiVersion: 'gateway.envoyproxy.io/v1alpha1',
      kind: 'EnvoyProxy',
      metadata: { name: 'envoy-gateway', namespace: 'envoy-gateway-system', labels: OWNER },
      spec: { provider: { type: 'Kubernetes', kubernetes: { envoyService: { type: 'NodePort' } } } },
    });
    expect(cls.spec).toEqual({ controllerName: 'example.com/eg' });
    expect(cls.metadata).toEqual({ name: 'platform', labels: OWNER });
    // certificates are Secrets of the EnvoyGateway's own namespace; the Gateway (install namespace) gets a grant there
    expect(grant).toEqual({
      apiVersion: 'gateway.networking.k8s.io/v1beta1',
      kind: 'ReferenceGrant',
      metadata: { name: 'envoy-gateway-envoy-gateway-system-certificates', namespace: 'idpbuilder-system', labels: OWNER },
      spec: { from: [{ group: 'gateway.networking.k8s.io', kind: 'Gateway', namespace: 'envoy-gateway-system' }], to: [{ group: '', kind: 'Secret', name: 'local-tls' }, { group: '', kind: 'Secret', name: 'platform-tls' }] },
    });
    const all = { namespaces: { from: 'All' } };
    expect(gateway.spec).toEqual({
      gatewayClassName: 'platform',
      infrastructure: { parametersRef: { group: 'gateway.envoyproxy.io', kind: 'EnvoyProxy', name: 'envoy-gateway' } },
      listeners: [
        { name: 'http', protocol: 'HTTP', port: 8080, allowedRoutes: all },
        {
          name: 'https',
          protocol: 'HTTPS',
          port: 443,
          hostname: '*.cnoe.localtest.me',
          tls: {
            mode: 'Terminate',
            certificateRefs: [
              { group: '', kind: 'Secret', name: 'platform-tls', namespace: 'idpbuilder-system' },
              { group: '', kind: 'Secret', name: 'local-tls', namespace: 'idpbuilder-system' },
            ],
          },
          allowedRoutes: all,
        },
        { name: 'tls', protocol: 'TLS', port: 8443, tls: { mode: 'Passthrough' }, allowedRoutes: all },
      ],
    });
    expect(res.status).toMatchObject({ routeKind: 'HTTPRoute', gatewayClass: 'platform' });
  });

  it('the class shorthand names the GatewayClass and derives its own controllerName', () => {
    const res = hooks.sync(syncRequest(eg({ namespace: 'envoy-gateway-internal', class: 'envoy-internal', serviceType: 'ClusterIP' })), env);
    const cls = manifests(res).find((m) => m.kind === 'GatewayClass')!;
    expect(cls.metadata.name).toBe('envoy-internal');
    expect(cls.spec).toEqual({ controllerName: 'gateway.envoyproxy.io/gatewayclass-controller-envoy-internal' });
    expect(parse(data(res)['values-0.yaml']).config.envoyGateway.gateway.controllerName).toBe('gateway.envoyproxy.io/gatewayclass-controller-envoy-internal');
    expect(data(res)['run.sh']).toContain('helm upgrade --install envoy-gateway-envoy-internal oci://docker.io/envoyproxy/gateway-helm --version v1.9.0 --namespace envoy-gateway-internal');
    expect(res.status).toMatchObject({ gatewayClass: 'envoy-internal', parentRef: { name: 'envoy-gateway', namespace: 'envoy-gateway-internal' } });
  });

  it('install succeeded: Ready, with the Envoy proxy Service as endpoints and the gateway addresses', () => {
    const req = syncRequest(eg());
    const first = hooks.sync(req, env);
    const res = hooks.sync(next(req, first, (o) => (o.kind === 'Job' ? jobSucceeded(o) : o), world()), testEnv('2026-01-01T00:05:00Z'));
    expect(res.status.phase).toBe('Ready');
    expect(condition(res)).toMatchObject({ status: 'True', reason: 'Available', lastTransitionTime: '2026-01-01T00:05:00Z' });
    expect(res.status).toMatchObject({
      installed: true,
      routeKind: 'HTTPRoute',
      parentRef: { name: 'envoy-gateway', namespace: 'envoy-gateway-system' },
      gatewayClass: 'envoy',
      loadBalancerEndpoint: 'http://172.18.0.3',
      internalEndpoint: 'http://envoy-envoy-gateway-system-envoy-gateway-1a2b3c4d.envoy-gateway-system.svc.cluster.local',
      gateway: { ready: true, addresses: [{ type: 'IPAddress', value: '172.18.0.3' }] },
    });
    const again = hooks.sync(next(req, res, (o) => (o.kind === 'Job' ? jobSucceeded(o) : o), world()), testEnv('2026-01-01T09:00:00Z'));
    expect(JSON.stringify(again)).toBe(JSON.stringify(res));
  });

  it('endpoints carry the listener port when it is not the default', () => {
    const req = syncRequest(eg({ listeners: [{ name: 'web', protocol: 'HTTP', port: 8080 }] }));
    const first = hooks.sync(req, env);
    const res = hooks.sync(next(req, first, (o) => (o.kind === 'Job' ? jobSucceeded(o) : o), world({ lb: null })), env);
    expect(res.status.internalEndpoint).toBe('http://envoy-envoy-gateway-system-envoy-gateway-1a2b3c4d.envoy-gateway-system.svc.cluster.local:8080');
    expect(res.status.loadBalancerEndpoint).toBeUndefined();
    expect(res.status.gateway).toEqual({ name: 'envoy-gateway', namespace: 'envoy-gateway-system', ready: true });
  });

  it('is not Ready while the controller, or the proxy of its Gateway, is not ready or not there yet', () => {
    const req = syncRequest(eg());
    const installed = (related: ReturnType<typeof world>) => hooks.sync(next(req, hooks.sync(req, env), (o) => (o.kind === 'Job' ? jobSucceeded(o) : o), related), env);
    const noController = installed(world({ controllerReady: 0 }));
    expect(noController.status.phase).toBe('Installing');
    expect(condition(noController)).toMatchObject({ status: 'False', reason: 'ControllerNotReady', message: 'deployment envoy-gateway-system/envoy-gateway has no ready replica' });
    const proxyDown = installed(world({ proxyReady: 0 }));
    expect(condition(proxyDown).reason).toBe('GatewayNotReady');
    expect(proxyDown.status.gateway).toEqual({ name: 'envoy-gateway', namespace: 'envoy-gateway-system', ready: false, addresses: [{ type: 'IPAddress', value: '172.18.0.3' }] });
    // no proxy observed: the install Job waited for the proxy Deployment to be Available, so its success counts
    const noProxy = installed(world({ proxyReady: null }));
    expect(condition(noProxy)).toMatchObject({ status: 'True', reason: 'Available' });
    // the Gateway routes attach to is always named, ready or not
    expect(noProxy.status.gateway).toEqual({ name: 'envoy-gateway', namespace: 'envoy-gateway-system', ready: false });
    expect(noProxy.status.installed).toBe(true);
  });

  it('no proxy observed after an install that waited for Programmed (NodePort): the Job success counts too', () => {
    const req = syncRequest(eg({ serviceType: 'NodePort' }));
    const res = hooks.sync(next(req, hooks.sync(req, env), (o) => (o.kind === 'Job' ? jobSucceeded(o) : o), world({ proxyReady: null })), env);
    expect(condition(res)).toMatchObject({ status: 'True', reason: 'Available' });
  });

  it('install failed: the message surfaces in status', () => {
    const req = syncRequest(eg());
    const first = hooks.sync(req, env);
    const jobName = byKind(first, 'Job')[0].metadata.name;
    const pods = toMap([
      withStatus(
        { apiVersion: 'v1', kind: 'Pod', metadata: { name: `${jobName}-x1`, namespace: 'idpbuilder-system', labels: { 'batch.kubernetes.io/job-name': jobName } } },
        { containerStatuses: [{ state: { terminated: { exitCode: 1, message: 'Error: failed to download "oci://docker.io/envoyproxy/gateway-helm"' } } }] },
      ),
    ]);
    const res = hooks.sync(next(req, first, (o) => (o.kind === 'Job' ? jobFailed(o) : o), pods), env);
    expect(res.status.phase).toBe('Failed');
    const nextRetryTime = (res.status.installation as { nextRetryTime?: string }).nextRetryTime;
    expect(condition(res)).toMatchObject({
      status: 'False',
      reason: 'InstallFailed',
      message: `install job failed: BackoffLimitExceeded: Job has reached the specified backoff limit; last error: Error: failed to download "oci://docker.io/envoyproxy/gateway-helm" (attempt 1; retry at ${nextRetryTime})`,
    });
    expect(nextRetryTime).toEqual(expect.any(String));
    expect(condition(res, 'Degraded').status).toBe('True');
    expect(byKind(res, 'Job').map((j) => j.metadata.name)).toEqual([jobName]);
  });

  it('spec change: the new install Job is created; the old (finished) Job and ConfigMap are kept until the new Job has finished, then dropped', () => {
    expectUpgradeKeepsOldInstall(hooks.sync, syncRequest(eg()), (status) => ({ ...eg({ listeners: [{ name: 'http', protocol: 'HTTP', port: 8080 }] }), status }) as KubeObject, env);
  });

  it('finalize with Delete removes the manifests, then uninstalls the release; finalized only once that succeeded', () => {
    const req = syncRequest(eg());
    const installed = next(req, hooks.sync(req, env), jobSucceeded);
    const f1 = hooks.finalize!({ ...installed, finalizing: true }, env);
    expect(f1.finalized).toBe(false);
    expect(byKind(f1, 'Job')[0].metadata.name).toMatch(/^envoy-gateway-uninstall-[0-9a-f]{8}$/);
    const script = data(f1)['run.sh'];
    const del = script.indexOf('kubectl delete --ignore-not-found --wait=true -f /config/manifests.yaml');
    const un = script.indexOf("helm uninstall envoy-gateway --namespace envoy-gateway-system --wait --ignore-not-found --timeout 10m");
    expect(del).toBeGreaterThan(0);
    expect(un).toBeGreaterThan(del);
    expect(manifests(f1).map((m) => `${m.kind}/${m.metadata.name}`)).toEqual(['GatewayClass/envoy', 'Gateway/envoy-gateway']);
    expect(f1.status.phase).toBe('Deleting');
    const installCMs = Object.values(installed.children!['ConfigMap.v1']);
    const f2 = hooks.finalize!({ ...installed, children: toMap([...installCMs, ...f1.children.map((c) => (c.kind === 'Job' ? jobSucceeded(c) : c))]), finalizing: true }, env);
    expect(f2.finalized).toBe(true);
    expect(condition(f2).reason).toBe('Uninstalled');
    const failed = hooks.finalize!({ ...installed, children: toMap([...installCMs, ...f1.children.map((c) => (c.kind === 'Job' ? jobFailed(c) : c))]), finalizing: true }, env);
    expect(failed.finalized).toBe(false);
    expect(condition(failed).reason).toBe('UninstallFailed');
  });

  it('finalize with Retain: finalized, reason Retained, no uninstall Job', () => {
    const req = syncRequest(eg({ deletionPolicy: 'Retain' }));
    const res = hooks.finalize!({ ...next(req, hooks.sync(req, env), jobSucceeded), finalizing: true }, env);
    expect(res.finalized).toBe(true);
    expect(condition(res).reason).toBe('Retained');
    expect(byKind(res, 'Job').filter((j) => j.metadata.name.includes('-uninstall-'))).toEqual([]);
  });

  it('relates only core objects: Job pods, the controller Deployment, and the proxy Service and Deployment by owning-gateway labels', () => {
    const res = hooks.customize!({ parent: eg() }, env);
    expect(res.relatedResources).toEqual([
      { apiVersion: 'v1', resource: 'pods', namespace: 'idpbuilder-system', labelSelector: { matchLabels: { 'idpbuilder.cnoe.io/owner-uid': 'uid-envoy-gateway' } } },
      { apiVersion: 'apps/v1', resource: 'deployments', namespace: 'envoy-gateway-system', names: ['envoy-gateway'] },
      { apiVersion: 'v1', resource: 'services', namespace: 'envoy-gateway-system', labelSelector: { matchLabels: PROXY_LABELS } },
      { apiVersion: 'apps/v1', resource: 'deployments', namespace: 'envoy-gateway-system', labelSelector: { matchLabels: PROXY_LABELS } },
    ]);
  });

  it('the install waits, after applying the manifests, for the Gateway condition its Service type can reach', () => {
    const waits = (spec: Record<string, unknown>) => {
      const script = data(hooks.sync(syncRequest(eg(spec)), env))['run.sh'];
      const apply = script.indexOf('kubectl apply');
      const lines = script.split('\n').filter((l) => l.startsWith('kubectl wait'));
      for (const l of lines) expect(script.indexOf(l)).toBeGreaterThan(apply);
      return lines;
    };
    const on = (condition: string) => [`kubectl wait --for=condition=${condition} gateways.gateway.networking.k8s.io/envoy-gateway --namespace envoy-gateway-system --timeout=5m`];
    // default LoadBalancer Service: on kind without a load balancer Programmed stays False (AddressNotAssigned) for
    // ever; the Gateway is Accepted, then the proxy Deployment (made by Envoy Gateway, found by labels) Available
    const selector = 'gateway.envoyproxy.io/owning-gateway-name=envoy-gateway,gateway.envoyproxy.io/owning-gateway-namespace=envoy-gateway-system';
    expect(waits({})).toEqual([...on('Accepted'), `kubectl wait --for=condition=Available deployments.apps -l ${selector} --namespace envoy-gateway-system --timeout=5m`]);
    // it polls for the proxy Deployment first: kubectl wait -l fails at once while nothing matches
    const script = data(hooks.sync(syncRequest(eg({})), env))['run.sh'];
    expect(script).toContain(`n=0; until [ -n "$(kubectl get deployments.apps -l ${selector} --namespace envoy-gateway-system -o name 2>/dev/null)" ]; do`);
    expect(script.indexOf('until [ -n "$(kubectl get deployments.apps')).toBeGreaterThan(script.indexOf(on('Accepted')[0]));
    // NodePort (node addresses) and ClusterIP (cluster IPs) always get an address: Programmed is reached
    expect(waits({ serviceType: 'NodePort' })).toEqual(on('Programmed'));
    expect(waits({ serviceType: 'ClusterIP' })).toEqual(on('Programmed'));
    // an explicit LoadBalancer asks for an address: waiting for it reports a missing load balancer
    expect(waits({ serviceType: 'LoadBalancer' })).toEqual(on('Programmed'));
    // Custom provider: no proxy of ours to wait for
    expect(waits({ config: { provider: { type: 'Custom' } } })).toEqual([]);
  });

  it('two instances install side by side: distinct releases, namespaces, GatewayClasses and controllerNames', () => {
    // gateway-helm v1.9.0 names its ClusterRoles/ClusterRoleBindings after the release and its controller
    // Deployment/Service/ConfigMap/ServiceAccount `envoy-gateway*` in the release namespace (fixed names), and
    // each controller reconciles only GatewayClasses with its controllerName (config.envoyGateway.gateway).
    const install = (name: string, spec: Record<string, unknown>) => {
      const d = data(hooks.sync(syncRequest(parent('EnvoyGateway', name, spec)), env));
      const helm = /helm upgrade --install (\S+) (\S+) --version (\S+) --namespace (\S+)/.exec(d['run.sh'])!;
      const objects = parseAllDocuments(d['manifests.yaml']).map((x) => x.toJS() as KubeObject);
      const cls = objects.find((o) => o.kind === 'GatewayClass')!;
      const gateway = objects.find((o) => o.kind === 'Gateway')!;
      return {
        release: helm[1],
        chart: helm[2],
        namespace: helm[4],
        controllerName: parse(d['values-0.yaml']).config.envoyGateway.gateway.controllerName,
        gatewayClass: { name: cls.metadata.name, controllerName: cls.spec.controllerName },
        gateway: { namespace: gateway.metadata.namespace, name: gateway.metadata.name, className: gateway.spec.gatewayClassName },
      };
    };
    const public_ = install('envoy-gateway', { namespace: 'envoy-gateway-system' });
    const internal = install('envoy-internal', { namespace: 'envoy-gateway-internal', class: 'envoy-internal', serviceType: 'ClusterIP' });
    expect(public_).toEqual({
      release: 'envoy-gateway',
      chart: 'oci://docker.io/envoyproxy/gateway-helm',
      namespace: 'envoy-gateway-system',
      controllerName: 'gateway.envoyproxy.io/gatewayclass-controller',
      gatewayClass: { name: 'envoy', controllerName: 'gateway.envoyproxy.io/gatewayclass-controller' },
      gateway: { namespace: 'envoy-gateway-system', name: 'envoy-gateway', className: 'envoy' },
    });
    expect(internal).toEqual({
      release: 'envoy-gateway-envoy-internal',
      chart: 'oci://docker.io/envoyproxy/gateway-helm',
      namespace: 'envoy-gateway-internal',
      controllerName: 'gateway.envoyproxy.io/gatewayclass-controller-envoy-internal',
      gatewayClass: { name: 'envoy-internal', controllerName: 'gateway.envoyproxy.io/gatewayclass-controller-envoy-internal' },
      gateway: { namespace: 'envoy-gateway-internal', name: 'envoy-internal', className: 'envoy-internal' },
    });
  });
});
