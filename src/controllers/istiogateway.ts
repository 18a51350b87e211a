/**
 * IstioGateway: Istio from its Helm charts, in the documented order, in one install Job:
 * `istio-base` (CRDs) → `istiod` → [`istio-cni`, `ztunnel` for the ambient profile] → the ingress
 * gateway (chart `gateway`) → extra gateways from config.gateways. Then kubectl applies the IngressClass
 * that makes `ingressClassName: istio` work and, when spec.mesh.mtls is set, the mesh-wide
 * PeerAuthentication. Exposes the gateway duck type from the gateway's Service and Deployment (routeKind
 * Ingress, no prefixRewrite).
 * Mapping and limitations: docs/providers/istiogateway.md.
 */
import { withClusterRules } from '../kit/cluster.js';
import type { IstioGatewaySpec } from '../api/gateways.js';
import type { CustomizeRequest, CustomizeResponse, KubeObject, SyncRequest, SyncResponse } from '../metacontroller/protocol.js';
import type { HookEnv, Hooks } from '../kit/hooks.js';
import type { HelmRelease } from '../kit/helm.js';
import { mergeValues, release as helmRelease } from '../kit/helm.js';
import { ownerLabels } from '../kit/labels.js';
import { relatedObject } from '../kit/observed.js';
import { finalizeProvider, jobPodsRule, syncProvider, type Blocker, type ProviderPlan } from '../kit/provider.js';
import { CHARTS, type ChartDefault } from './defaults.js';
import { ISTIO, chartVersion, compareVersions, withV } from './versions.js';
import { settle, type Relied } from '../kit/values.js';
import { contract } from '../kit/contract.js';

type GatewayService = NonNullable<NonNullable<IstioGatewaySpec['config']>['gateways']>[string];

const DEFAULT_GATEWAY = 'istio-ingressgateway';
const ISTIOD = 'istiod';
const INGRESS_CONTROLLER = 'istio.io/ingress-controller';
/** The gateway chart's default Service ports (manifests/charts/gateway/values.yaml). */
const STATUS_PORT = { name: 'status-port', port: 15021, protocol: 'TCP', targetPort: 15021 };

interface Resolved {
  spec: IstioGatewaySpec;
  parent: KubeObject;
  /** Control-plane (and mesh root) namespace. */
  namespace: string;
  profile: 'default' | 'demo' | 'minimal' | 'ambient';
  className: string;
  gateway: string;
  gatewayNamespace: string;
  /** Whether the main gateway is installed (config.gateways[<gateway>].enabled: false turns it off). */
  gatewayEnabled: boolean;
}

function resolve(parent: KubeObject): Resolved {
  const spec = (parent.spec ?? {}) as IstioGatewaySpec;
  const namespace = spec.namespace ?? 'istio-system';
  const gateway = spec.gateway?.name ?? DEFAULT_GATEWAY;
  return {
    spec,
    parent,
    namespace,
    profile: spec.profile ?? 'default',
    className: spec.class ?? 'istio',
    gateway,
    gatewayNamespace: spec.gateway?.namespace ?? namespace,
    gatewayEnabled: spec.config?.gateways?.[gateway]?.enabled !== false,
  };
}

/** The `istio: <x>` label of a gateway: the chart uses the name minus "istio-", unless labels.istio is set. */
function selectorValue(r: Resolved): string {
  return r.spec.gateway?.selector?.istio ?? r.gateway.replace(/^istio-/, '');
}

function baseValues(r: Resolved): Record<string, unknown> {
  return { defaultRevision: 'default', ...(r.namespace !== 'istio-system' ? { global: { istioNamespace: r.namespace } } : {}) };
}

/** spec → istiod values (flat since Istio 1.24: no `pilot.` prefix). spec.values is merged last here. */
function istiodValues(r: Resolved): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  // 'default' is the chart's default; 'minimal' (istioctl's istiod-only profile) has no Helm profile.
  if (r.profile === 'demo' || r.profile === 'ambient') out.profile = r.profile;
  if (r.spec.config?.pilot?.resources) out.resources = r.spec.config.pilot.resources;
  if (r.namespace !== 'istio-system') out.global = { istioNamespace: r.namespace };
  const meshConfig: Record<string, unknown> = {};
  if (r.className !== 'istio') meshConfig.ingressClass = r.className;
  if (r.gatewayEnabled) {
    meshConfig.ingressService = r.gateway;
    meshConfig.ingressSelector = selectorValue(r);
  }
  const o = r.spec.mesh?.observability;
  if (o?.tracing !== undefined) meshConfig.enableTracing = o.tracing;
  if (o?.metrics !== undefined) meshConfig.enablePrometheusMerge = o.metrics;
  if (Object.keys(meshConfig).length) out.meshConfig = meshConfig;
  return mergeValues(out, r.spec.values);
}

/** Service values of one gateway release: type and ports (the status port is kept for LB health checks). */
function gatewayValues(svc: GatewayService | undefined, serviceType: string | undefined, labels?: Record<string, string>): Record<string, unknown> {
  const service: Record<string, unknown> = {};
  const type = svc?.type ?? serviceType;
  if (type) service.type = type;
  if (svc?.ports?.length) {
    const ports = svc.ports.map((p) => ({ name: p.name, port: p.port, protocol: 'TCP', targetPort: p.targetPort ?? p.port, ...(p.nodePort ? { nodePort: p.nodePort } : {}) }));
    service.ports = ports.some((p) => p.name === STATUS_PORT.name) ? ports : [STATUS_PORT, ...ports];
  }
  return {
    ...(Object.keys(service).length ? { service } : {}),
    ...(labels && Object.keys(labels).length ? { labels } : {}),
  };
}

/** The Istio version plan: spec.version picks the chart version (chart version = Istio version) unless installMethod.helm.version is set. */
function istioVersion(r: Resolved) {
  // One repository and version for every Istio chart: installMethod.helm.chart cannot name three charts.
  const helm = r.spec.installMethod?.helm;
  return chartVersion(ISTIO, { ...r.spec, installMethod: helm ? { helm: { ...helm, chart: ISTIO.chart.chart } } : undefined });
}

function chart(r: Resolved, fallback: ChartDefault): { repository: string; chart: string; version?: string } {
  return { ...istioVersion(r).chart, chart: fallback.chart };
}

/** Values of istiod the controller relies on (src/kit/values.ts): Ingress translation to our gateway, the istiod name. */
function relied(r: Resolved): Relied[] {
  const out: Relied[] = [
    { path: ['meshConfig', 'ingressClass'], value: r.className, why: `Ingresses of class ${r.className} are translated by istiod` },
    { path: ['global', 'istioNamespace'], value: r.namespace, why: 'the control plane namespace' },
    { path: ['revision'], value: '', why: `Deployment ${ISTIOD} is read for status` },
  ];
  if (r.gatewayEnabled) {
    out.push({ path: ['meshConfig', 'ingressService'], value: r.gateway, why: 'Ingresses are served by the gateway' });
    out.push({ path: ['meshConfig', 'ingressSelector'], value: selectorValue(r), why: 'Ingresses are served by the gateway' });
  }
  return out;
}

/**
 * Istio versions the controller refuses: istiod values are written flat (Istio ≥ 1.24), and the gateway chart
 * before 1.25.5, 1.26.0–1.26.3 and 1.27.0 has a values schema (root `additionalProperties: false` beside a
 * `$ref`) that helm ≥ 3.18 rejects whatever the values (checked with helm v3.19.5 `helm template`).
 */
function unsupportedVersion(version: string | undefined, gateways: boolean): Blocker | undefined {
  if (!version) return undefined;
  const v = withV(version, false);
  const m = /^(\d+)\.(\d+)\.(\d+)/.exec(v);
  if (!m) return { reason: 'UnsupportedVersion', message: `Istio version ${version} is not MAJOR.MINOR.PATCH: the controller cannot tell whether its charts install` };
  if (compareVersions(v, '1.24.0') < 0) return { reason: 'UnsupportedVersion', message: `Istio ${version}: istiod values are written without the pilot. prefix, which Istio charts read from 1.24.0` };
  const minor = Number(m[2]);
  const broken = compareVersions(v, '1.25.5') < 0 || (minor === 26 && compareVersions(v, '1.26.4') < 0) || (minor === 27 && compareVersions(v, '1.27.1') < 0);
  if (gateways && broken) {
    return { reason: 'UnsupportedVersion', message: `Istio ${version}: its gateway chart's values schema is rejected by helm 3.18 and later; use 1.25.5+, 1.26.4+, 1.27.1+ or later` };
  }
  return undefined;
}

function releases(r: Resolved): HelmRelease[] {
  const release = (name: string, namespace: string, def: ChartDefault, values: Record<string, unknown>): HelmRelease => helmRelease(name, namespace, chart(r, def), values);
  const out: HelmRelease[] = [
    release('istio-base', r.namespace, CHARTS.istioBase, baseValues(r)),
    release('istiod', r.namespace, CHARTS.istiod, settle(istiodValues(r), relied(r), r.spec.values).values),
  ];
  if (r.profile === 'ambient') {
    // Ambient's data plane: the CNI node agent and ztunnel (same repository and version as istiod).
    out.push(release('istio-cni', r.namespace, { ...CHARTS.istiod, chart: 'cni' }, { profile: 'ambient' }));
    out.push(release('ztunnel', r.namespace, { ...CHARTS.istiod, chart: 'ztunnel' }, {}));
  }
  const gateways = r.spec.config?.gateways ?? {};
  // A gateway whose Service type is not set gets the chart's LoadBalancer, which may never get an address
  // (kind has no load balancer): its Deployment is awaited instead of every resource (gatewayWait).
  const gateway = (name: string, values: Record<string, unknown>) =>
    helmRelease(name, r.gatewayNamespace, chart(r, CHARTS.istioGateway), values, gatewayWait(name, values));
  if (r.gatewayEnabled) out.push(gateway(r.gateway, gatewayValues(gateways[r.gateway], r.spec.serviceType, r.spec.gateway?.selector)));
  for (const name of Object.keys(gateways).sort()) {
    if (name === r.gateway || gateways[name].enabled === false) continue;
    out.push(gateway(name, gatewayValues(gateways[name], undefined)));
  }
  return out;
}

/**
 * How the install waits for a gateway release: `helm --wait` when the Service type is set (NodePort and
 * ClusterIP need no address; an explicit LoadBalancer asks for one), else (the chart's default LoadBalancer)
 * `kubectl rollout status deployment/<name>` (the chart names the Deployment after `name`, else the release),
 * as helm's --wait would time out on a cluster without a load balancer implementation.
 */
function gatewayWait(name: string, values: Record<string, unknown>): Pick<HelmRelease, 'waitRollout'> {
  return (values.service as { type?: string } | undefined)?.type ? {} : { waitRollout: [`deployment/${name}`] };
}

/** The IngressClass for `ingressClassName: <class>`, and the mesh-wide PeerAuthentication when mtls is set. */
function manifests(r: Resolved): KubeObject[] {
  const labels = ownerLabels(r.parent);
  const out: KubeObject[] = [
    { apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass', metadata: { name: r.className, labels }, spec: { controller: INGRESS_CONTROLLER } },
  ];
  if (r.spec.mesh?.mtls) {
    out.push({
      apiVersion: 'security.istio.io/v1',
      kind: 'PeerAuthentication',
      metadata: { name: 'default', namespace: r.namespace, labels },
      spec: { mtls: { mode: r.spec.mesh.mtls.mode ?? 'PERMISSIVE' } },
    });
  }
  return out;
}

function customize(req: CustomizeRequest): CustomizeResponse {
  const r = resolve(req.parent);
  const rules: CustomizeResponse['relatedResources'] = [
    jobPodsRule(req.parent),
    { apiVersion: 'apps/v1', resource: 'deployments', namespace: r.namespace, names: [ISTIOD] },
  ];
  if (r.gatewayEnabled) {
    rules.push({ apiVersion: 'apps/v1', resource: 'deployments', namespace: r.gatewayNamespace, names: [r.gateway] });
    rules.push({ apiVersion: 'v1', resource: 'services', namespace: r.gatewayNamespace, names: [r.gateway] });
  }
  return { relatedResources: rules };
}

function readyReplicas(d: KubeObject | undefined): number {
  return (d?.status as { readyReplicas?: number } | undefined)?.readyReplicas ?? 0;
}

/** The Istio version an istiod Deployment runs: the tag of its `discovery` container image, variant dropped. */
function istiodVersion(d: KubeObject): string | undefined {
  const containers = ((d.spec as { template?: { spec?: { containers?: { name: string; image?: string }[] } } } | undefined)?.template?.spec?.containers) ?? [];
  const image = (containers.find((c) => c.name === 'discovery') ?? containers[0])?.image;
  const tag = image && !image.includes('@') ? /:([^:/]+)$/.exec(image)?.[1] : undefined;
  return tag?.replace(/-(distroless|debug)$/, '');
}

function addresses(svc: KubeObject | undefined): { type: string; value: string }[] {
  const ingress = (svc?.status as { loadBalancer?: { ingress?: { ip?: string; hostname?: string }[] } } | undefined)?.loadBalancer?.ingress ?? [];
  return ingress.flatMap((i) => (i.ip ? [{ type: 'IPAddress', value: i.ip }] : i.hostname ? [{ type: 'Hostname', value: i.hostname }] : []));
}

const RELEASE_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** What the schema cannot catch: gateway release names that are invalid or would overwrite another release. */
function specProblem(r: Resolved): Blocker | undefined {
  const all = releases(r);
  const first = r.profile === 'ambient' ? 4 : 2;
  const gateways = all.slice(first);
  const bad = gateways.map((g) => g.name).filter((n) => n.length > 53 || !RELEASE_NAME.test(n));
  if (bad.length) return { reason: 'InvalidSpec', message: `gateway names must be DNS-1123 labels of at most 53 characters (Helm release names): ${bad.join(', ')}` };
  const keys = all.map((x) => `${x.namespace}/${x.name}`);
  const taken = gateways.filter((g, i) => keys.indexOf(`${g.namespace}/${g.name}`) !== first + i).map((g) => g.name);
  if (taken.length) return { reason: 'InvalidSpec', message: `gateway names collide with another Istio release in ${r.gatewayNamespace}: ${taken.join(', ')}` };
  return undefined;
}

function plan(req: SyncRequest): ProviderPlan {
  const r = resolve(req.parent);
  const problem = specProblem(r);
  const v = istioVersion(r);
  const installed = v.chart.version;
  const gateways = releases(r).length > (r.profile === 'ambient' ? 4 : 2);
  const refused = unsupportedVersion(installed, gateways) ?? settle(istiodValues(r), relied(r), r.spec.values).conflict;
  const istiod = relatedObject(req, 'Deployment', 'apps/v1', r.namespace, ISTIOD);
  const gwDeployment = r.gatewayEnabled ? relatedObject(req, 'Deployment', 'apps/v1', r.gatewayNamespace, r.gateway) : undefined;
  const gwService = r.gatewayEnabled ? relatedObject(req, 'Service', 'v1', r.gatewayNamespace, r.gateway) : undefined;
  const addrs = addresses(gwService);

  const status: Record<string, unknown> = {
    // Istio's Ingress translation has no rewrite (a regex path even becomes an exact match): no prefixRewrite.
    routeKind: 'Ingress',
    ingressClassName: r.className,
    ...(v.version ? { version: v.version } : {}),
    profile: r.profile,
  };
  if (r.gatewayEnabled) status.internalEndpoint = `http://${r.gateway}.${r.gatewayNamespace}.svc.cluster.local`;
  if (addrs.length) {
    const a = addrs[0].value;
    status.loadBalancerEndpoint = `http://${a.includes(':') ? `[${a}]` : a}`;
  }
  if (istiod) {
    const version = istiodVersion(istiod);
    status.controlPlane = { ready: readyReplicas(istiod) > 0, ...(version ? { version } : {}) };
  }
  if (gwDeployment || gwService) status.gateway = { ready: readyReplicas(gwDeployment) > 0, ...(addrs.length ? { addresses: addrs } : {}) };

  let health: Blocker | undefined;
  if (istiod && readyReplicas(istiod) === 0) {
    health = { reason: 'ControlPlaneNotReady', message: `deployment ${r.namespace}/${ISTIOD} has no ready replica` };
  } else if (gwDeployment && readyReplicas(gwDeployment) === 0) {
    health = { reason: 'GatewayNotReady', message: `deployment ${r.gatewayNamespace}/${r.gateway} has no ready replica` };
  }

  if (problem) return { blocked: problem, status, conditions: v.conditions };
  if (refused) return { blocked: refused, status, conditions: v.conditions };
  return { install: { releases: releases(r), manifests: manifests(r) }, health, status, conditions: v.conditions };
}

/**
 * The IstioGateway hooks, wrapped by the controller contract: customize (the target cluster), sync (Helm installs of
 * the istio base, istiod and gateway charts pinned in ./defaults.ts, by profile) and finalize (uninstall unless
 * Retain).
 */
export const istioGatewayHooks: Hooks = contract({
  customize: (req) => withClusterRules(customize)(req),
  sync: (req: SyncRequest, env: HookEnv): SyncResponse => syncProvider(req, env, plan(req)),
  finalize: (req, env) => finalizeProvider(req, env),
});
