/**
 * The air-gap overlay: idpbuilder objects patched so that every provider installs its charts from a chart
 * mirror and pulls its images from a registry mirror (src/airgap/mirror.ts), and the images a platform needs.
 *
 * Patched (spec fields the providers already have, no new field):
 * - `spec.installMethod.helm` of GiteaProvider, NginxGateway, ArgoCDProvider, EnvoyGateway, IstioGateway and
 *   FluxProvider: `repository` = the chart mirror, `chart` = the chart's name (the one given, else the
 *   default), `version` = the one given, else the pinned default — left out for Istio and Flux when
 *   `spec.version` chooses the chart version (src/controllers/versions.ts);
 * - `spec.values`: the chart's mirror values (MIRROR_VALUES) merged over the object's values;
 * - FluxProvider's web UI (unless `spec.dashboard.enabled` is false): `spec.dashboard.installMethod.helm` (the
 *   chart mirror, the chart given else flux-operator, the version given else the pinned one) and
 *   `spec.dashboard.values` (the flux-operator mirror values merged over the given ones);
 * - a Platform's inline components (`spec.components.{gitea,nginx,argocd}`): `helmChart` and `values` alike.
 *
 * What the overlay cannot move to a mirror is reported in `unmirrored` (a GitHub or GitLab provider, a git
 * source outside the cluster, Istio's ambient node agents): the caller says so, it is never silently dropped.
 */
import type { KubeObject } from '../metacontroller/protocol.js';
import { CHARTS, type ChartDefault } from '../controllers/defaults.js';
import { mergeValues } from '../kit/helm.js';
import { mirrorValues } from './mirror.js';

/**
 * The mirrors of an air-gapped install: the image registry (`host[:port][/path]`, parseRegistry) and the chart
 * repository (`oci://…` or `https://…`, parseChartRepository).
 */
export interface Mirror {
  /** Registry mirror, `host[:port][/path]` (parseRegistry). */
  registry: string;
  /** Chart repository mirror, `oci://…` or `https://…` (parseChartRepository). */
  charts: string;
}

/** Something the overlay could not point at the mirror: which object, which field, why. */
export interface Unmirrored {
  object: string;
  path: string;
  reason: string;
}

/**
 * The objects pointed at the mirrors, and everything the overlay could not point there (object, field path, reason).
 */
export interface OverlayResult {
  objects: KubeObject[];
  unmirrored: Unmirrored[];
}

/** The default chart of each Helm-installed provider kind, and whether spec.version picks its chart version. */
const PROVIDER_CHARTS: Record<string, { chart: ChartDefault; versionPicksChart?: boolean; valuesChart?: string }> = {
  GiteaProvider: { chart: CHARTS.gitea },
  NginxGateway: { chart: CHARTS.ingressNginx },
  ArgoCDProvider: { chart: CHARTS.argoCD },
  EnvoyGateway: { chart: CHARTS.envoyGateway },
  // istio-base, istiod, the gateways (and cni, ztunnel) come from one repository at one version; values reach istiod.
  IstioGateway: { chart: CHARTS.istiod, versionPicksChart: true, valuesChart: 'istiod' },
  FluxProvider: { chart: CHARTS.flux2, versionPicksChart: true },
};

/** Git providers that are external services, with their default endpoint (src/api/github.ts, gitlab.ts). */
const SERVICES: Record<string, string> = { GitHubProvider: 'https://api.github.com', GitLabProvider: 'https://gitlab.com' };

/** Inline components of a Platform → the provider kind they become. */
const INLINE: Record<string, string> = { gitea: 'GiteaProvider', nginx: 'NginxGateway', argocd: 'ArgoCDProvider' };

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

/** `installMethod.helm` (or an inline `helmChart`) and `values` of one component, pointed at the mirror. */
function patchComponent(kind: string, spec: Obj, helmKey: 'installMethod' | 'helmChart', mirror: Mirror): Obj {
  const def = PROVIDER_CHARTS[kind];
  const given = (helmKey === 'installMethod' ? (isObj(spec.installMethod) ? spec.installMethod.helm : undefined) : spec.helmChart) as Obj | undefined;
  const chart = typeof given?.chart === 'string' ? given.chart : def.chart.chart;
  const version = typeof given?.version === 'string' ? given.version : def.versionPicksChart && spec.version ? undefined : def.chart.version;
  const helm = { repository: mirror.charts, chart, ...(version ? { version } : {}) };
  const values = mergeValues(isObj(spec.values) ? spec.values : {}, mirrorValues(def.valuesChart ?? chart, mirror.registry) ?? {});
  const out: Obj = { ...spec, values };
  if (helmKey === 'installMethod') out.installMethod = { ...(isObj(spec.installMethod) ? spec.installMethod : {}), type: 'Helm', helm };
  else out.helmChart = helm;
  return out;
}

/** FluxProvider's `spec.dashboard` with the flux-operator chart and its images pointed at the mirror. */
function patchDashboard(dashboard: Obj, mirror: Mirror): Obj {
  const im = isObj(dashboard.installMethod) ? dashboard.installMethod : {};
  const given = (isObj(im.helm) ? im.helm : {}) as Obj;
  const chart = typeof given.chart === 'string' ? given.chart : CHARTS.fluxOperator.chart;
  const version = typeof given.version === 'string' ? given.version : CHARTS.fluxOperator.version;
  const values = mergeValues(isObj(dashboard.values) ? dashboard.values : {}, mirrorValues(chart, mirror.registry) ?? {});
  return { ...dashboard, installMethod: { ...im, type: 'Helm', helm: { repository: mirror.charts, chart, version } }, values };
}

const objectName = (o: KubeObject) => `${o.kind} ${o.metadata.namespace ?? 'default'}/${o.metadata.name}`;

/** Git URLs that leave the cluster: http(s)/ssh URLs whose host is not a cluster-local name. */
export function externalURL(url: unknown, clusterHosts: string[]): boolean {
  if (typeof url !== 'string') return false;
  const m = /^(?:[a-z+]+:\/\/)?(?:[^@/]+@)?([^/:]+)/i.exec(url);
  if (!m) return false;
  return !isClusterHost(m[1], clusterHosts);
}

/** Every string of `v` that is a URL (`scheme://…` or scp-like `user@host:path`), with its path. */
export function urlsIn(v: unknown, path: string): [string, string][] {
  if (typeof v === 'string') return /^[a-z][a-z0-9+.-]*:\/\/\S+$/i.test(v) || /^[\w.-]+@[\w.-]+:\S+$/.test(v) ? [[path, v]] : [];
  if (Array.isArray(v)) return v.flatMap((x, i) => urlsIn(x, `${path}[${i}]`));
  if (isObj(v)) return Object.entries(v).flatMap(([k, x]) => urlsIn(x, `${path}.${k}`));
  return [];
}

/** In-cluster names (Services) and the platform's own domains (served by its gateway, resolved by CoreDNS). */
function isClusterHost(host: string, clusterHosts: string[]): boolean {
  const h = host.toLowerCase();
  if (h === 'localhost' || h === 'kubernetes.default.svc' || h.endsWith('.svc') || h.endsWith('.svc.cluster.local') || !h.includes('.')) return true;
  return clusterHosts.some((d) => h === d || h.endsWith(`.${d}`));
}

/**
 * The domains a set of objects serves itself: Platform `spec.domain` (default cnoe.localtest.me) and routing
 * domains (a FluxProvider with its web UI on: default cnoe.localtest.me, as src/kit/routing.ts).
 */
export function clusterDomains(objects: KubeObject[]): string[] {
  const out = new Set<string>();
  for (const o of objects) {
    const spec = (o.spec ?? {}) as Obj;
    if (o.kind === 'Platform') out.add(typeof spec.domain === 'string' ? spec.domain : 'cnoe.localtest.me');
    const routing = spec.routing as Obj | undefined;
    if (isObj(routing) && typeof routing.domain === 'string') out.add(routing.domain);
    // a FluxProvider's web UI is routed through the platform's gateway, by default under the routing default domain
    else if (o.kind === 'FluxProvider' && !(isObj(spec.dashboard) && spec.dashboard.enabled === false)) out.add('cnoe.localtest.me');
  }
  return [...out].sort();
}

/** The objects with the air-gap overlay applied (inputs are not modified). */
export function airgapOverlay(objects: KubeObject[], mirror: Mirror): OverlayResult {
  const unmirrored: Unmirrored[] = [];
  const domains = clusterDomains(objects);
  const patch = (o: KubeObject): KubeObject => {
    if (!o.apiVersion.startsWith('idpbuilder.cnoe.io/')) return o;
    const spec = (o.spec ?? {}) as Obj;
    const service = SERVICES[o.kind];
    if (service) unmirrored.push({ object: objectName(o), path: 'spec.endpoint', reason: `${o.kind} talks to ${typeof spec.endpoint === 'string' ? spec.endpoint : service}: it needs that service reachable, a mirror cannot stand in` });
    if (PROVIDER_CHARTS[o.kind]) {
      if (o.kind === 'IstioGateway' && spec.profile === 'ambient') {
        unmirrored.push({ object: objectName(o), path: 'spec.profile', reason: 'ambient: the istio-cni and ztunnel charts get no spec.values, so their images stay upstream' });
      }
      const patched = patchComponent(o.kind, spec, 'installMethod', mirror);
      if (o.kind === 'FluxProvider' && !(isObj(spec.dashboard) && spec.dashboard.enabled === false)) patched.dashboard = patchDashboard(isObj(spec.dashboard) ? spec.dashboard : {}, mirror);
      return { ...o, spec: patched } as KubeObject;
    }
    if (o.kind === 'Platform' && isObj(spec.components)) {
      const components: Obj = { ...spec.components };
      for (const [key, kind] of Object.entries(INLINE)) {
        const c = components[key];
        if (isObj(c) && c.enabled !== false) components[key] = patchComponent(kind, c, 'helmChart', mirror);
      }
      return { ...o, spec: { ...spec, components } } as KubeObject;
    }
    return o;
  };
  const out = objects.map((o) => {
    const p = patch(o);
    for (const [path, url] of urlsIn(p.spec, 'spec')) {
      if (url.startsWith(mirror.charts) || url.startsWith(`${mirror.registry}/`)) continue;
      if (externalURL(url, domains)) unmirrored.push({ object: objectName(o), path, reason: `${url} is outside the cluster and the mirror` });
    }
    return p;
  });
  return { objects: out, unmirrored };
}
