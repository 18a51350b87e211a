/**
 * EnvoyGateway: the gateway-helm chart (OCI) plus, applied by kubectl after the chart, a GatewayClass
 * and a Gateway (and an EnvoyProxy when the Service type is set, ReferenceGrants for certificates in
 * other namespaces). Exposes the gateway duck type (routeKind HTTPRoute, parentRef = the Gateway,
 * prefixRewrite URLRewrite, loadBalancerEndpoint, internalEndpoint) from the Envoy proxy Service Envoy Gateway creates for the
 * Gateway. Mapping and limitations: docs/providers/envoygateway.md.
 *
 * Only core objects are related (Deployments, Services): a related rule for a Gateway API resource
 * fails Metacontroller's discovery while the Gateway API CRDs are not installed, which aborts the very
 * sync that would install them.
 */
import { withClusterRules } from '../kit/cluster.js';
import type { EnvoyGatewaySpec } from '../api/gateways.js';
import type { CustomizeRequest, CustomizeResponse, KubeObject, SyncRequest, SyncResponse } from '../metacontroller/protocol.js';
import type { HookEnv, Hooks } from '../kit/hooks.js';
import { mergeValues, release, type WaitFor } from '../kit/helm.js';
import { ownerLabels } from '../kit/labels.js';
import { childName } from '../kit/names.js';
import { relatedObject, relatedObjects } from '../kit/observed.js';
import { finalizeProvider, jobPodsRule, syncProvider, type Blocker, type ProviderPlan } from '../kit/provider.js';
import { secretRefRefusal } from '../kit/refs.js';
import { ENVOY_GATEWAY, tagVersion } from './versions.js';
import { settle, type Relied } from '../kit/values.js';
import { contract } from '../kit/contract.js';

type Listener = NonNullable<EnvoyGatewaySpec['listeners']>[number];

/** `GatewayControllerName` in envoyproxy/gateway: the controllerName Envoy Gateway answers to by default. */
const DEFAULT_CONTROLLER_NAME = 'gateway.envoyproxy.io/gatewayclass-controller';
/** The controller Deployment (and Service) of gateway-helm: fixed names, whatever the release. */
const CONTROLLER_DEPLOYMENT = 'envoy-gateway';
const OWNING_GATEWAY_NAME = 'gateway.envoyproxy.io/owning-gateway-name';
const OWNING_GATEWAY_NAMESPACE = 'gateway.envoyproxy.io/owning-gateway-namespace';

const DEFAULT_LISTENERS: Listener[] = [{ name: 'http', protocol: 'HTTP', port: 80 }];

interface Resolved {
  spec: EnvoyGatewaySpec;
  parent: KubeObject;
  namespace: string;
  className: string;
  controllerName: string;
  release: string;
  /** The Gateway: named after the provider, in the install namespace. */
  gateway: string;
  listeners: Listener[];
  serviceType?: string;
}

function resolve(parent: KubeObject): Resolved {
  const spec = (parent.spec ?? {}) as EnvoyGatewaySpec;
  const namespace = spec.namespace ?? 'envoy-gateway-system';
  const className = spec.gatewayClass?.name ?? spec.class ?? 'envoy';
  // Two Envoy Gateway installs with the same controllerName would both reconcile every class: a
  // non-default class gets its own controllerName unless one is given.
  const controllerName = spec.config?.gateway?.controllerName ?? (className === 'envoy' ? DEFAULT_CONTROLLER_NAME : `${DEFAULT_CONTROLLER_NAME}-${className}`);
  // gateway-helm names its ClusterRole/ClusterRoleBinding after the release: one release name per class.
  const release = className === 'envoy' ? 'envoy-gateway' : childName(['envoy-gateway', className], 53);
  return {
    spec,
    parent,
    namespace,
    className,
    controllerName,
    release,
    gateway: parent.metadata.name,
    listeners: spec.listeners?.length ? spec.listeners : DEFAULT_LISTENERS,
    serviceType: spec.serviceType,
  };
}

/** spec → gateway-helm values (docs/providers/envoygateway.md). */
function values(r: Resolved): Record<string, unknown> {
  const c = r.spec.config ?? {};
  const deployment: Record<string, unknown> = {};
  if (c.deployment?.replicas !== undefined) deployment.replicas = c.deployment.replicas;
  if (c.resources || c.deployment?.resources) deployment.envoyGateway = { resources: mergeValues(c.resources, c.deployment?.resources) };
  const envoyGateway: Record<string, unknown> = { gateway: { controllerName: r.controllerName } };
  if (c.provider) envoyGateway.provider = { type: c.provider.type };
  return mergeValues({ ...(Object.keys(deployment).length ? { deployment } : {}), config: { envoyGateway } }, tagVersion(ENVOY_GATEWAY, r.spec).values, r.spec.values);
}

/** Values the controller relies on (src/kit/values.ts). */
function relied(r: Resolved): Relied[] {
  return [
    { path: ['config', 'envoyGateway', 'gateway', 'controllerName'], value: r.controllerName, why: `GatewayClass ${r.className} names this controller` },
  ];
}

/** `secretNamespace`: the EnvoyGateway's own namespace, where certificate Secrets resolve. */
function listener(l: Listener, secretNamespace: string): Record<string, unknown> {
  const out: Record<string, unknown> = { name: l.name, protocol: l.protocol, port: l.port };
  if (l.hostname) out.hostname = l.hostname;
  // Gateway API allows tls only on HTTPS and TLS listeners.
  if (l.tls && (l.protocol === 'HTTPS' || l.protocol === 'TLS')) {
    const refs = l.tls.certificateRefs ?? [];
    out.tls = {
      mode: l.tls.mode ?? 'Terminate',
      ...(refs.length ? { certificateRefs: refs.map((s) => ({ group: '', kind: 'Secret', name: s.name, namespace: secretNamespace })) } : {}),
    };
  }
  // The platform's routes live in their own namespaces (argocd, gitea, …).
  out.allowedRoutes = { namespaces: { from: 'All' } };
  return out;
}

/** Objects the install Job applies after the chart: [EnvoyProxy], GatewayClass, [ReferenceGrant], Gateway. */
function manifests(r: Resolved): KubeObject[] {
  const labels = ownerLabels(r.parent);
  const out: KubeObject[] = [];
  if (r.serviceType) {
    out.push({
      apiVersion: 'gateway.envoyproxy.io/v1alpha1',
      kind: 'EnvoyProxy',
      metadata: { name: r.gateway, namespace: r.namespace, labels },
      spec: { provider: { type: 'Kubernetes', kubernetes: { envoyService: { type: r.serviceType } } } },
    });
  }
  out.push({
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'GatewayClass',
    metadata: { name: r.className, labels },
    spec: { controllerName: r.controllerName },
  });
  // Certificates are Secrets of the EnvoyGateway's own namespace; when that is not the install namespace,
  // the Gateway needs a ReferenceGrant there (Gateway API cross-namespace rule).
  const secretNamespace = r.parent.metadata.namespace ?? 'default';
  const certificates = new Set<string>();
  for (const l of r.listeners) {
    if (!l.tls || (l.protocol !== 'HTTPS' && l.protocol !== 'TLS')) continue;
    for (const s of l.tls.certificateRefs ?? []) certificates.add(s.name);
  }
  if (certificates.size && secretNamespace !== r.namespace) {
    out.push({
      apiVersion: 'gateway.networking.k8s.io/v1beta1',
      kind: 'ReferenceGrant',
      metadata: { name: childName([r.gateway, r.namespace, 'certificates']), namespace: secretNamespace, labels },
      spec: {
        from: [{ group: 'gateway.networking.k8s.io', kind: 'Gateway', namespace: r.namespace }],
        to: [...certificates].sort().map((name) => ({ group: '', kind: 'Secret', name })),
      },
    } as KubeObject);
  }
  out.push({
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'Gateway',
    metadata: { name: r.gateway, namespace: r.namespace, labels },
    spec: {
      gatewayClassName: r.className,
      ...(r.serviceType ? { infrastructure: { parametersRef: { group: 'gateway.envoyproxy.io', kind: 'EnvoyProxy', name: r.gateway } } } : {}),
      listeners: r.listeners.map((l) => listener(l, secretNamespace)),
    },
  });
  return out;
}

/**
 * The Gateway condition the install Job waits for (`kubectl wait`), or none for `config.provider.type: Custom`
 * (no proxy of ours). Envoy Gateway sets `Programmed=True` once the Gateway has an address and an available
 * proxy replica; the address comes from the proxy Service (envoyproxy/gateway v1.9.0
 * `internal/gatewayapi/status/gateway.go` UpdateGatewayStatusProgrammedCondition): the node addresses for
 * `NodePort`, the cluster IPs for `ClusterIP`, the load balancer's ingress for `LoadBalancer`. So:
 * - `serviceType` NodePort or ClusterIP: `Programmed` (always reached once the proxy runs);
 * - `serviceType: LoadBalancer` set explicitly: `Programmed`, the address is part of what was asked for;
 * - no `serviceType` (Envoy Gateway's default LoadBalancer Service): `Accepted`. Without a load balancer
 *   implementation (kind without cloud-provider-kind or MetalLB) `Programmed` stays False with reason
 *   `AddressNotAssigned` for ever; the Job then waits for the proxy Deployment to be Available instead
 *   (installWaits), and `loadBalancerEndpoint` appears once an address is assigned.
 */
function gatewayWait(r: Pick<Resolved, 'spec' | 'serviceType'>): 'Programmed' | 'Accepted' | undefined {
  if (r.spec.config?.provider?.type === 'Custom') return undefined;
  return r.serviceType ? 'Programmed' : 'Accepted';
}

/** The install Job's waits: gatewayWait, and after `Accepted` the proxy Deployment `Available` (what Programmed includes). */
function installWaits(r: Resolved): WaitFor[] {
  const wait = gatewayWait(r);
  if (!wait) return [];
  const gateway: WaitFor = { resource: 'gateways.gateway.networking.k8s.io', name: r.gateway, namespace: r.namespace, condition: wait };
  if (wait === 'Programmed') return [gateway];
  return [gateway, { resource: 'deployments.apps', selector: proxySelector(r).matchLabels, namespace: r.namespace, condition: 'Available' }];
}

function proxySelector(r: Resolved) {
  return { matchLabels: { [OWNING_GATEWAY_NAME]: r.gateway, [OWNING_GATEWAY_NAMESPACE]: r.namespace } };
}

function customize(req: CustomizeRequest): CustomizeResponse {
  const r = resolve(req.parent);
  return {
    relatedResources: [
      jobPodsRule(req.parent),
      { apiVersion: 'apps/v1', resource: 'deployments', namespace: r.namespace, names: [CONTROLLER_DEPLOYMENT] },
      // The Envoy proxy of our Gateway: hashed names, found by the owning-gateway labels.
      { apiVersion: 'v1', resource: 'services', namespace: r.namespace, labelSelector: proxySelector(r) },
      { apiVersion: 'apps/v1', resource: 'deployments', namespace: r.namespace, labelSelector: proxySelector(r) },
    ],
  };
}

function owned(r: Resolved, o: KubeObject): boolean {
  const l = o.metadata.labels ?? {};
  return o.metadata.namespace === r.namespace && l[OWNING_GATEWAY_NAME] === r.gateway && l[OWNING_GATEWAY_NAMESPACE] === r.namespace;
}

function readyReplicas(d: KubeObject | undefined): number {
  return (d?.status as { readyReplicas?: number } | undefined)?.readyReplicas ?? 0;
}

/** `scheme://host[:port]` for the first HTTP listener (else the first HTTPS one). */
function endpointFor(host: string, listeners: Listener[]): string {
  const h = host.includes(':') ? `[${host}]` : host;
  const http = listeners.find((l) => l.protocol === 'HTTP');
  if (http) return `http://${h}${http.port === 80 ? '' : `:${http.port}`}`;
  const https = listeners.find((l) => l.protocol === 'HTTPS');
  if (https) return `https://${h}${https.port === 443 ? '' : `:${https.port}`}`;
  return `http://${h}`;
}

function addresses(svc: KubeObject | undefined): { type: string; value: string }[] {
  const ingress = (svc?.status as { loadBalancer?: { ingress?: { ip?: string; hostname?: string }[] } } | undefined)?.loadBalancer?.ingress ?? [];
  return ingress.flatMap((i) => (i.ip ? [{ type: 'IPAddress', value: i.ip }] : i.hostname ? [{ type: 'Hostname', value: i.hostname }] : []));
}

function plan(req: SyncRequest): ProviderPlan {
  const r = resolve(req.parent);
  const v = tagVersion(ENVOY_GATEWAY, r.spec);
  const settled = settle(values(r), relied(r), r.spec.values);
  const controller = relatedObject(req, 'Deployment', 'apps/v1', r.namespace, CONTROLLER_DEPLOYMENT);
  const proxySvc = relatedObjects(req, 'Service', 'v1').find((o) => owned(r, o));
  const proxy = relatedObjects(req, 'Deployment', 'apps/v1').find((o) => owned(r, o));
  const addrs = addresses(proxySvc);

  // Envoy Gateway serves Gateway API routes only (no Ingress, no IngressClass): HTTPRoutes attach to our Gateway,
  // whose listeners admit routes of every namespace.
  const status: Record<string, unknown> = {
    routeKind: 'HTTPRoute',
    parentRef: { name: r.gateway, namespace: r.namespace },
    prefixRewrite: 'URLRewrite',
    gatewayClass: r.className,
    ...(v.version ? { version: v.version } : {}),
  };
  if (addrs.length) status.loadBalancerEndpoint = endpointFor(addrs[0].value, r.listeners);
  if (proxySvc) status.internalEndpoint = endpointFor(`${proxySvc.metadata.name}.${r.namespace}.svc.cluster.local`, r.listeners);
  status.gateway = { name: r.gateway, namespace: r.namespace, ready: readyReplicas(proxy) > 0, ...(addrs.length ? { addresses: addrs } : {}) };

  let health: Blocker | undefined;
  if (controller && readyReplicas(controller) === 0) {
    health = { reason: 'ControllerNotReady', message: `deployment ${r.namespace}/${CONTROLLER_DEPLOYMENT} has no ready replica` };
  } else if (proxy && readyReplicas(proxy) === 0) {
    health = { reason: 'GatewayNotReady', message: `the Envoy proxy of gateway ${r.namespace}/${r.gateway} (deployment ${proxy.metadata.name}) has no ready replica` };
  }
  // The install Job waited for the Gateway's proxy (installWaits), so a succeeded install means the proxy was
  // deployed; an observed proxy Deployment that is down is reported above.
  for (const [i, l] of r.listeners.entries()) {
    for (const [j, s] of (l.tls?.certificateRefs ?? []).entries()) {
      const refused = secretRefRefusal(s, req.parent, `spec.listeners[${i}].tls.certificateRefs[${j}]`);
      if (refused) return { blocked: refused, status, conditions: v.conditions };
    }
  }
  if (settled.conflict) return { blocked: settled.conflict, status, conditions: v.conditions };

  return {
    install: {
      releases: [release(r.release, r.namespace, v.chart, settled.values)],
      manifests: manifests(r),
      waitFor: installWaits(r),
    },
    health,
    status,
    conditions: v.conditions,
  };
}

/**
 * The EnvoyGateway hooks, wrapped by the controller contract: customize (the target cluster), sync (Helm install of
 * gateway-helm, pinned in ./defaults.ts, then the GatewayClass and Gateway, waiting for the Gateway to be Programmed)
 * and finalize (uninstall unless Retain).
 */
export const envoyGatewayHooks: Hooks = contract({
  customize: (req) => withClusterRules(customize)(req),
  sync: (req: SyncRequest, env: HookEnv): SyncResponse => syncProvider(req, env, plan(req)),
  finalize: (req, env) => finalizeProvider(req, env),
});
