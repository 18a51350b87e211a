/**
 * Default charts and versions. Chart coordinates and versions come from ../shared/facts/charts-and-apis.md
 * (each verified against the chart's repository); every one can be overridden per object through
 * spec.installMethod.helm.
 */
export interface ChartDefault {
  repository: string;
  chart: string;
  version: string;
  /** The application version that chart version ships (its Chart.yaml appVersion). */
  appVersion: string;
}

/**
 * The default chart of every installed component: repository (https:// or oci://), chart name, pinned chart version
 * and the appVersion that chart version ships. Facts from /work/shared/facts/charts-and-apis.md (the gitea chart
 * version as cnoe-io/idpbuilder pins it); overridable per object with spec.installMethod.helm.
 */
export const CHARTS = {
  gitea: { repository: 'https://dl.gitea.com/charts/', chart: 'gitea', version: '12.1.2', appVersion: '1.24.3' },
  ingressNginx: { repository: 'https://kubernetes.github.io/ingress-nginx', chart: 'ingress-nginx', version: '4.15.1', appVersion: '1.15.1' },
  argoCD: { repository: 'https://argoproj.github.io/argo-helm', chart: 'argo-cd', version: '10.1.1', appVersion: 'v3.4.4' },
  envoyGateway: { repository: 'oci://docker.io/envoyproxy/gateway-helm', chart: 'gateway-helm', version: 'v1.9.0', appVersion: 'v1.9.0' },
  istioBase: { repository: 'https://istio-release.storage.googleapis.com/charts', chart: 'base', version: '1.30.3', appVersion: '1.30.3' },
  istiod: { repository: 'https://istio-release.storage.googleapis.com/charts', chart: 'istiod', version: '1.30.3', appVersion: '1.30.3' },
  istioGateway: { repository: 'https://istio-release.storage.googleapis.com/charts', chart: 'gateway', version: '1.30.3', appVersion: '1.30.3' },
  flux2: { repository: 'https://fluxcd-community.github.io/helm-charts', chart: 'flux2', version: '2.18.3', appVersion: '2.8.5' },
  /** The Flux Operator with its web UI, FluxProvider's dashboard (controlplaneio-fluxcd/charts `charts/flux-operator`). */
  fluxOperator: { repository: 'oci://ghcr.io/controlplaneio-fluxcd/charts', chart: 'flux-operator', version: '0.49.0', appVersion: 'v0.49.0' },
} as const satisfies Record<string, ChartDefault>;

/**
 * The chart to install: the object's installMethod.helm over the default. A helm block without `version`
 * keeps the pinned version when it names the default chart (another repository, e.g. a mirror, serves the
 * same chart versions), as the HelmChart schema says; for another chart there is no pinned version to keep
 * and helm installs the newest (versions.ts then reports VersionUnverified). What application version runs
 * is ./versions.ts's answer.
 */
export function chartFor(
  spec: { installMethod?: { helm?: { repository?: string; chart?: string; version?: string } } },
  fallback: ChartDefault,
): { repository: string; chart: string; version?: string } {
  const h = spec.installMethod?.helm;
  if (!h) return { repository: fallback.repository, chart: fallback.chart, version: fallback.version };
  const chart = h.chart ?? fallback.chart;
  const version = h.version ?? (chart === fallback.chart ? fallback.version : undefined);
  return { repository: h.repository ?? fallback.repository, chart, ...(version ? { version } : {}) };
}
