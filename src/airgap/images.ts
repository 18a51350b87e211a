/**
 * The images and charts a platform definition needs: the platform is rendered offline (src/render/render.ts,
 * every Job assumed to succeed, so every install appears), the releases are read from the install
 * ConfigMaps (`releases.json`), and each release's chart and version is looked up in the checked table
 * src/airgap/chart-images.ts. The Jobs' image comes from the rendered pod specs; Metacontroller's and the
 * hook service's from the charts `idpbuilder create` installs.
 */
import { parseAllDocuments } from 'yaml';
import type { KubeObject } from '../metacontroller/protocol.js';
import { controllers, decorators } from '../controllers/registry.js';
import { DEFAULT_SETTINGS, type Settings } from '../kit/hooks.js';
import { LABEL_ROLE } from '../kit/labels.js';
import { ROLE_INSTALL, type ReleaseSummary } from '../kit/helm.js';
import { render } from '../render/render.js';
import { CHART_IMAGES } from './chart-images.js';
import type { ChartImages } from './chart-table.js';
import { normalizeImage } from './mirror.js';

/** The chart `idpbuilder create` installs Metacontroller from (src/cli/create.ts), and its image (its chart's appVersion). */
export const METACONTROLLER = { repository: 'oci://ghcr.io/metacontroller', chart: 'metacontroller-helm', version: '4.17.2', image: 'ghcr.io/metacontroller/metacontroller:v4.17.2' } as const;

/** A release one install Job of the rendered platform runs. */
export interface RenderedRelease extends ReleaseSummary {
  /** `<Kind> <namespace>/<name>` of the provider whose install it is. */
  owner: string;
}

/** One image with the components that need it. */
export interface NeededImage {
  image: string;
  /** `chart <name> <version>`, `jobs`, `hook service`, `metacontroller`. */
  for: string[];
}

/**
 * What an air-gapped install of a platform needs: every image with the components that pull it, the Helm releases it
 * renders to, and the releases whose chart version CHART_IMAGES does not know (their images cannot be listed
 * offline).
 */
export interface PlatformNeeds {
  images: NeededImage[];
  releases: RenderedRelease[];
  /** Releases whose chart version the table does not know: their images cannot be listed offline. */
  unknown: RenderedRelease[];
}

/** The objects the platform renders to (assume-ready), with the given settings (the Jobs' image). */
export function renderAll(inputs: KubeObject[], settings: Settings = DEFAULT_SETTINGS): KubeObject[] {
  return render(inputs, controllers(), { assumeReady: true, decorators: decorators(), settings }).objects;
}

/** Every release of the rendered install ConfigMaps, in name order. */
export function renderedReleases(objects: KubeObject[]): RenderedRelease[] {
  const out: RenderedRelease[] = [];
  for (const o of objects) {
    if (o.kind !== 'ConfigMap' || o.metadata.labels?.[LABEL_ROLE] !== ROLE_INSTALL) continue;
    const raw = (o.data as Record<string, string> | undefined)?.['releases.json'];
    if (!raw) continue;
    const owner = Object.entries(o.metadata.labels ?? {}).find(([k]) => k.startsWith('idpbuilder.cnoe.io/') && k !== LABEL_ROLE && !k.endsWith('helm-values'));
    for (const r of JSON.parse(raw) as ReleaseSummary[]) out.push({ ...r, owner: owner ? `${owner[0].slice('idpbuilder.cnoe.io/'.length)} ${o.metadata.namespace}/${owner[1]}` : `${o.metadata.namespace}/${o.metadata.name}` });
  }
  return out;
}

/** Images of every container, init container and ephemeral container of every pod template or Pod in `objects`. */
export function podImages(objects: unknown[]): string[] {
  const found = new Set<string>();
  const walk = (v: unknown) => {
    if (Array.isArray(v)) return v.forEach(walk);
    if (v === null || typeof v !== 'object') return;
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
      if ((k === 'containers' || k === 'initContainers' || k === 'ephemeralContainers') && Array.isArray(x)) {
        for (const c of x) if (c && typeof (c as { image?: unknown }).image === 'string') found.add((c as { image: string }).image);
      }
      walk(x);
    }
  };
  walk(objects);
  return [...found].sort();
}

/**
 * The values of a release that choose images: every leaf whose path has a key mentioning image, tag, hub,
 * registry or digest (e.g. `global.image.tag` written from spec.version), as sorted `path=value` lines. Two
 * releases of one chart version with the same variant render the same images.
 */
export function imageVariant(values: Record<string, unknown> | undefined): string[] {
  const out: string[] = [];
  const walk = (v: unknown, path: string[]) => {
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
      for (const [k, x] of Object.entries(v as Record<string, unknown>)) walk(x, [...path, k]);
    } else if (path.some((k) => /image|tag$|^hub$|registry|digest/i.test(k))) out.push(`${path.join('.')}=${JSON.stringify(v)}`);
  };
  walk(values ?? {}, []);
  return out.sort();
}

/** The table entry of a release: its chart, version and image variant (undefined: not checked). */
export function chartImages(r: Pick<ReleaseSummary, 'chart' | 'version' | 'values'>): ChartImages | undefined {
  if (!r.version) return undefined;
  const variant = JSON.stringify(imageVariant(r.values));
  return CHART_IMAGES.find((c) => c.chart === r.chart && c.version === r.version && JSON.stringify(c.variant) === variant);
}

/**
 * Every image the platform `inputs` needs: the hook service and Jobs (`settings.jobImage`, as the idpbuilder
 * chart runs both from one image unless jobImage is set), Metacontroller, and each rendered release's chart
 * images from the table. Images are normalized (explicit registry host) and sorted.
 */
export function platformNeeds(inputs: KubeObject[], settings: Settings = DEFAULT_SETTINGS, opts: { metacontroller?: boolean; hookImage?: string } = {}): PlatformNeeds {
  const objects = renderAll(inputs, settings);
  const releases = renderedReleases(objects);
  const images = new Map<string, Set<string>>();
  const add = (image: string, what: string) => {
    const key = normalizeImage(image);
    (images.get(key) ?? images.set(key, new Set()).get(key)!).add(what);
  };
  add(opts.hookImage ?? settings.jobImage, 'hook service');
  for (const i of podImages(objects)) add(i, 'jobs');
  if (opts.metacontroller ?? true) add(METACONTROLLER.image, `chart ${METACONTROLLER.chart} ${METACONTROLLER.version}`);
  const unknown: RenderedRelease[] = [];
  for (const r of releases) {
    const t = chartImages(r);
    if (!t) {
      unknown.push(r);
      continue;
    }
    for (const i of t.images) add(i.image, `chart ${r.chart} ${r.version}`);
  }
  return {
    images: [...images.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([image, s]) => ({ image, for: [...s].sort() })),
    releases,
    unknown,
  };
}

/** YAML text → objects (the default platform and examples). */
export function parseObjects(text: string): KubeObject[] {
  return parseAllDocuments(text).map((d) => d.toJS() as KubeObject).filter((o) => o && typeof o === 'object' && o.kind);
}

/**
 * One object of every Helm provider kind at its defaults (pinned chart versions, the Flux UI on), routed
 * through one nginx gateway: an input of the images table (scripts/airgap-images.ts) besides the default
 * platform and the examples, so a provider nobody pins in an example is still in the table.
 */
export const PROVIDER_DEFAULTS_YAML = `apiVersion: idpbuilder.cnoe.io/v1alpha2
kind: NginxGateway
metadata: {name: nginx, namespace: idpbuilder-system}
spec: {}
---
apiVersion: idpbuilder.cnoe.io/v1alpha2
kind: FluxProvider
metadata: {name: flux, namespace: idpbuilder-system}
spec:
  routing: {gatewayRef: {kind: NginxGateway, name: nginx}}
---
apiVersion: idpbuilder.cnoe.io/v1alpha2
kind: EnvoyGateway
metadata: {name: envoy, namespace: idpbuilder-system}
spec: {}
---
apiVersion: idpbuilder.cnoe.io/v1alpha2
kind: IstioGateway
metadata: {name: istio, namespace: idpbuilder-system}
spec: {}
`;
