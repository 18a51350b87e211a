/**
 * What `status.version` may claim, and how `spec.version` selects what runs. Two kinds of chart:
 *
 * - image-tag charts (ingress-nginx, argo-cd, gateway-helm, gitea): `spec.version` is written to the chart's
 *   image-tag values, so the chart version and the application version are chosen independently;
 * - chart-version charts (Istio's charts, flux2): the chart version decides (Istio: chart version = Istio
 *   version; flux2 pins a different tag for each controller, so a Flux version maps to a chart version).
 *
 * `status.version` is the application version in the notation of the chart's `appVersion` (e.g. `1.15.1`
 * for ingress-nginx, `v3.4.4` for argo-cd), and is set only when the controller knows it: from
 * `spec.version` written to the image tag, or from the chart version through the table of chart versions
 * checked with `helm template` (docs/providers/<kind>.md). Whatever it cannot establish (a `values` override
 * of the image, a chart version not in the table, a spec.version the chart version contradicts) becomes a
 * `VersionUnverified` condition (status True) with a message instead of a claim.
 *
 * Facts: the charts' templates at the versions listed here (../shared/facts/charts-and-apis.md, §12).
 */
import type { ConditionInput } from '../kit/conditions.js';
import { CHARTS, chartFor, type ChartDefault } from './defaults.js';
import { displayPath, getPath } from '../kit/values.js';

const VERSION_UNVERIFIED = 'VersionUnverified';

interface SpecWithVersion {
  version?: string;
  installMethod?: { helm?: { repository?: string; chart?: string; version?: string } };
  values?: Record<string, unknown>;
}

/** A chart whose image tag `spec.version` sets. */
export interface TagPolicy {
  chart: ChartDefault;
  /** Chart version → application version (`appVersion` notation), for the chart versions checked. */
  known: Record<string, string>;
  /** Every chart version's app version is its own version (gateway-helm releases package both from one tag). */
  appVersionIsChartVersion?: boolean;
  /** Whether the chart's appVersion notation has a leading `v`. */
  vPrefix: boolean;
  /** Whether the image tag has a leading `v`. */
  tagVPrefix: boolean;
  /** Values that make the chart run image tag `tag`. */
  tagValues(tag: string): Record<string, unknown>;
  /** Value paths a user's `values` could use to pick another image (checked against what tagValues writes). */
  overrides: string[][];
  /** Override paths whose upstream repository a mirror may prefix (see {@link Mirrorable}). */
  mirrorable?: Mirrorable;
}

/**
 * Repository-valued override paths (dot-joined) → the chart's upstream repository there. A value
 * `<registry>[/<path>]/<upstream>` is the same image served by a mirror (the layout of `idpbuilder airgap`,
 * docs/airgap.md): the tag still decides, so the version stays known.
 */
export type Mirrorable = Record<string, string>;

/** Result of the version resolution of one provider. */
export interface VersionPlan {
  /** The chart to install (repository, chart, version; version absent = the newest, as helm does). */
  chart: { repository: string; chart: string; version?: string };
  /** Image values merged under the user's `values`. */
  values: Record<string, unknown>;
  /** The application version that runs, when the controller knows it. */
  version?: string;
  /** `VersionUnverified` conditions (at most one). */
  conditions: ConditionInput[];
}

/** `v1.2.3` / `1.2.3` → the notation with (`v` true) or without a leading `v`. */
export function withV(version: string, v: boolean): string {
  const bare = version.replace(/^v(?=\d)/, '');
  return v ? `v${bare}` : bare;
}

function unverified(reason: string, message: string): ConditionInput[] {
  return [{ type: VERSION_UNVERIFIED, status: 'True', reason, message }];
}

/** Same chart as the default (any repository: a mirror serves the same chart versions). */
function sameChart(chart: { chart: string }, def: ChartDefault): boolean {
  return chart.chart === def.chart;
}

function knownAppVersion(p: { known: Record<string, string>; appVersionIsChartVersion?: boolean; vPrefix: boolean }, def: ChartDefault, chart: { chart: string; version?: string }): string | undefined {
  if (!chart.version || !sameChart(chart, def)) return undefined;
  return p.known[chart.version] ?? (p.appVersionIsChartVersion ? withV(chart.version, p.vPrefix) : undefined);
}

function describeChart(chart: { chart: string; version?: string }): string {
  return `chart ${chart.chart} ${chart.version ?? '(newest: no version given)'}`;
}

/**
 * The first user value that picks another image than `ours` (paths from `overrides`); a mirror of the
 * upstream repository (`mirrorable`) picks the same image.
 */
function overridden(user: Record<string, unknown> | undefined, paths: string[][], ours: Record<string, unknown>, mirrorable: Mirrorable = {}): { path: string[]; value: unknown } | undefined {
  for (const path of paths) {
    const v = getPath(user, path);
    if (v === undefined) continue;
    const mine = getPath(ours, path);
    if (mine !== undefined && String(mine) === String(v)) continue;
    const upstream = mirrorable[path.join('.')];
    if (upstream !== undefined && typeof v === 'string' && (v === upstream || v.endsWith(`/${upstream}`))) continue;
    return { path, value: v };
  }
  return undefined;
}

/** Version resolution for an image-tag chart. */
export function tagVersion(p: TagPolicy, spec: SpecWithVersion): VersionPlan {
  const chart = chartFor(spec, p.chart);
  const values = spec.version ? p.tagValues(withV(spec.version, p.tagVPrefix)) : {};
  const o = overridden(spec.values, p.overrides, values, p.mirrorable);
  if (o) {
    const what = spec.version ? `the image tag spec.version ${spec.version} selects` : `the image of ${describeChart(chart)}`;
    return {
      chart,
      values,
      conditions: unverified('ValuesOverrideImage', `values.${displayPath(o.path)} (${JSON.stringify(o.value)}) overrides ${what}: the running version is not known to the controller`),
    };
  }
  if (spec.version) return { chart, values, version: withV(spec.version, p.vPrefix), conditions: [] };
  const app = knownAppVersion(p, p.chart, chart);
  if (app) return { chart, values, version: app, conditions: [] };
  return {
    chart,
    values,
    conditions: unverified(
      'UnknownChartVersion',
      `${describeChart(chart)}: its application version is not one the controller has checked (known: ${Object.keys(p.known).join(', ')}); set spec.version to select the image tag`,
    ),
  };
}

/** A chart whose version decides the application version (Istio, flux2). */
export interface ChartVersionPolicy {
  chart: ChartDefault;
  known: Record<string, string>;
  appVersionIsChartVersion?: boolean;
  vPrefix: boolean;
  /** Name of the application in messages. */
  app: string;
  /** Value paths (in the spec's `values`) that pick another image. */
  overrides: string[][];
  /** Override paths whose upstream repository a mirror may prefix (see {@link Mirrorable}). */
  mirrorable?: Mirrorable;
}

/** Application version → the newest chart version of the table that ships it. */
function chartVersionFor(p: ChartVersionPolicy, app: string): string | undefined {
  if (p.appVersionIsChartVersion) return withV(app, p.vPrefix);
  const want = withV(app, p.vPrefix);
  const versions = Object.entries(p.known).filter(([, a]) => a === want).map(([c]) => c);
  return versions.sort(compareVersions).pop();
}

/** Numeric comparison of dotted versions (a leading `v` and any pre-release suffix ignored). */
export function compareVersions(a: string, b: string): number {
  const parts = (s: string) => withV(s, false).split(/[-+]/)[0].split('.').map((x) => Number(x) || 0);
  const x = parts(a);
  const y = parts(b);
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const d = (x[i] ?? 0) - (y[i] ?? 0);
    if (d) return d;
  }
  return 0;
}

/** Version resolution for a chart-version chart: spec.version picks the chart version unless installMethod.helm.version is given. */
export function chartVersion(p: ChartVersionPolicy, spec: SpecWithVersion): VersionPlan {
  const base = chartFor(spec, p.chart);
  const pinned = spec.installMethod?.helm?.version;
  let chart = base;
  let conditions: ConditionInput[] = [];
  if (spec.version && !pinned) {
    const v = sameChart(base, p.chart) ? chartVersionFor(p, spec.version) : undefined;
    if (v) chart = { ...base, version: v };
    else {
      conditions = unverified(
        'UnknownVersion',
        `spec.version ${spec.version} is not a ${p.app} version the controller can map to a ${p.chart.chart} chart version (known: ${[...new Set(Object.values(p.known))].join(', ')}); ${describeChart(base)} is installed`,
      );
    }
  }
  const app = knownAppVersion(p, p.chart, chart);
  const o = overridden(spec.values, p.overrides, {}, p.mirrorable);
  if (o) {
    return { chart, values: {}, conditions: unverified('ValuesOverrideImage', `values.${displayPath(o.path)} (${JSON.stringify(o.value)}) overrides the image of ${describeChart(chart)}: the running version is not known to the controller`) };
  }
  if (conditions.length) return { chart, values: {}, ...(app ? { version: app } : {}), conditions };
  if (spec.version && pinned && app && app !== withV(spec.version, p.vPrefix)) {
    return {
      chart,
      values: {},
      version: app,
      conditions: unverified('SpecVersionIgnored', `installMethod.helm.version ${pinned} decides: it runs ${p.app} ${app}, not spec.version ${spec.version}`),
    };
  }
  if (app) return { chart, values: {}, version: app, conditions: [] };
  return {
    chart,
    values: {},
    conditions: unverified('UnknownChartVersion', `${describeChart(chart)}: its ${p.app} version is not one the controller has checked; leave installMethod.helm.version unset and set spec.version`),
  };
}

// ---- the charts, as checked with `helm template` (docs/providers/<kind>.md) ---------------------------------

/**
 * ingress-nginx: `controller.image.tag` (leading `v`); the chart pins the image by digest too
 * (`controller.image.digest`, `digestChroot`), which would win over the tag, so both are cleared.
 */
export const INGRESS_NGINX: TagPolicy = {
  chart: CHARTS.ingressNginx,
  known: { '4.15.1': '1.15.1', '4.11.0': '1.11.0' },
  vPrefix: false,
  tagVPrefix: true,
  tagValues: (tag) => ({ controller: { image: { tag, digest: '', digestChroot: '' } } }),
  overrides: [
    ['controller', 'image', 'tag'],
    ['controller', 'image', 'digest'],
    ['controller', 'image', 'digestChroot'],
    ['controller', 'image', 'repository'],
    ['controller', 'image', 'image'],
  ],
};

/** argo-cd: `global.image.tag` (leading `v`) for every Argo CD component; each component's `image.tag` wins over it. */
export const ARGO_CD: TagPolicy = {
  chart: CHARTS.argoCD,
  known: { '10.1.1': 'v3.4.4', '7.0.0': 'v2.11.2' },
  vPrefix: true,
  tagVPrefix: true,
  tagValues: (tag) => ({ global: { image: { tag } } }),
  overrides: [
    ['global', 'image', 'tag'],
    ['global', 'image', 'repository'],
    ...['server', 'controller', 'repoServer', 'applicationSet', 'notifications', 'commitServer'].flatMap((c) => [
      [c, 'image', 'tag'],
      [c, 'image', 'repository'],
    ]),
  ],
  // argo-cd values.yaml: global.image.repository quay.io/argoproj/argocd.
  mirrorable: { 'global.image.repository': 'quay.io/argoproj/argocd' },
};

/**
 * gateway-helm: `deployment.envoyGateway.image.tag` (leading `v`) is read only when
 * `deployment.envoyGateway.image.repository` is set (v1.9.0; else `global.images.envoyGateway.image`, a full
 * image reference, decides), so both are written. Releases package the chart with app version = chart version.
 */
export const ENVOY_GATEWAY: TagPolicy = {
  chart: CHARTS.envoyGateway,
  known: { 'v1.9.0': 'v1.9.0', 'v1.0.0': 'v1.0.0' },
  appVersionIsChartVersion: true,
  vPrefix: true,
  tagVPrefix: true,
  tagValues: (tag) => ({ deployment: { envoyGateway: { image: { repository: 'docker.io/envoyproxy/gateway', tag } } } }),
  overrides: [
    ['deployment', 'envoyGateway', 'image', 'tag'],
    ['deployment', 'envoyGateway', 'image', 'repository'],
    ['global', 'images', 'envoyGateway', 'image'],
  ],
};

/** gitea: `image.tag` (no `v`; the chart appends `-rootless` when `image.rootless`). */
export const GITEA: TagPolicy = {
  chart: CHARTS.gitea,
  known: { '12.1.2': '1.24.3' },
  vPrefix: false,
  tagVPrefix: false,
  tagValues: (tag) => ({ image: { tag } }),
  overrides: [['image', 'tag'], ['image', 'digest'], ['image', 'fullOverride']],
};

/** flux2 (community chart): each controller has its own `<controller>.tag`; the chart version decides (appVersion from the chart's git tags). */
export const FLUX2: ChartVersionPolicy = {
  chart: CHARTS.flux2,
  known: {
    '2.13.0': '2.3.0',
    '2.14.0': '2.4.0',
    '2.14.1': '2.4.0',
    '2.15.0': '2.5.1',
    '2.16.0': '2.6.1',
    '2.16.1': '2.6.2',
    '2.16.2': '2.6.3',
    '2.16.3': '2.6.4',
    '2.16.4': '2.6.4',
    '2.17.0': '2.7.2',
    '2.17.1': '2.7.2',
    '2.17.2': '2.7.5',
    '2.18.0': '2.8.1',
    '2.18.1': '2.8.2',
    '2.18.2': '2.8.3',
    '2.18.3': '2.8.5',
  },
  vPrefix: false,
  app: 'Flux',
  overrides: ['sourceController', 'kustomizeController', 'helmController', 'notificationController', 'imageAutomationController', 'imageReflectionController'].flatMap((c) => [
    [c, 'tag'],
    [c, 'image'],
  ]),
  // flux2 values.yaml: <controller>.image ghcr.io/fluxcd/<controller name>.
  mirrorable: Object.fromEntries(
    (
      [
        ['sourceController', 'source-controller'],
        ['kustomizeController', 'kustomize-controller'],
        ['helmController', 'helm-controller'],
        ['notificationController', 'notification-controller'],
        ['imageAutomationController', 'image-automation-controller'],
        ['imageReflectionController', 'image-reflector-controller'],
      ] as const
    ).map(([k, name]) => [`${k}.image`, `ghcr.io/fluxcd/${name}`]),
  ),
};

/** Istio: chart version = Istio version for base, istiod and gateway; istiod's `tag`/`global.tag`/`hub` pick other images. */
export const ISTIO: ChartVersionPolicy = {
  chart: CHARTS.istiod,
  known: { '1.30.3': '1.30.3' },
  appVersionIsChartVersion: true,
  vPrefix: false,
  app: 'Istio',
  overrides: [['tag'], ['global', 'tag'], ['hub'], ['global', 'hub'], ['image']],
  // istiod values.yaml: hub / global.hub docker.io/istio.
  mirrorable: { hub: 'docker.io/istio', 'global.hub': 'docker.io/istio' },
};
