/**
 * Regenerates src/airgap/chart-images.ts: the images each chart renders, at the versions the default
 * platform and the examples install, with the values the controllers generate; and checks the mirror values
 * of src/airgap/mirror.ts against the same charts.
 *
 *   scripts/airgap-charts.sh /work/.mirror /tmp/airgap-up      # the upstream charts at the pinned versions
 *   npx tsx scripts/airgap-images.ts --charts /tmp/airgap-up [--helm PATH] [--check]
 *
 * For each input (the built-in default platform, then every examples/*.yaml) and each release its install
 * Jobs run whose chart and version are in --charts (`<dir>/<chart>/Chart.yaml`):
 * 1. `helm template` with the rendered values: every `image` of every container is recorded (Istio's
 *    injected proxy image from istiod's injector values, Envoy Gateway's proxy image from its config, else the
 *    binary's default);
 * 2. `helm template` of the same input rendered with the air-gap overlay (mirror `mirror.invalid`): every
 *    image must be under the mirror, or the script fails;
 * 3. each leaf of the chart's mirror values alone: the images it moves are recorded as that image's values key.
 * --check compares instead of writing (exit 1 when the table differs).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, parseAllDocuments, stringify } from 'yaml';
import { DEFAULT_PLATFORM_YAML } from '../src/render/default-platform.js';
import { airgapOverlay } from '../src/airgap/overlay.js';
import { inMirror, mirrorImage, MIRROR_VALUES, normalizeImage } from '../src/airgap/mirror.js';
import { PROVIDER_DEFAULTS_YAML, imageVariant, parseObjects, podImages, renderAll, renderedReleases, type RenderedRelease } from '../src/airgap/images.js';
import { DEFAULT_SETTINGS } from '../src/kit/hooks.js';
import { mergeValues } from '../src/kit/helm.js';

const args = process.argv.slice(2);
const opt = (name: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const chartsDir = opt('--charts');
if (!chartsDir) throw new Error('--charts DIR is required (scripts/airgap-charts.sh makes it)');
const helm = opt('--helm') ?? (readdirSync('/root/.cache/idpbuilder-test-tools').map((d) => `/root/.cache/idpbuilder-test-tools/${d}/bin/helm`).find(existsSync) ?? 'helm');
const OUT = 'src/airgap/chart-images.ts';
const MIRROR = { registry: 'mirror.invalid', charts: 'oci://mirror.invalid/charts' };
/** Envoy Gateway v1.9.0's built-in proxy image (api/v1alpha1/shared_types.go DefaultEnvoyProxyImage). */
const ENVOY_PROXY_DEFAULT: Record<string, string> = { 'v1.9.0': 'docker.io/envoyproxy/envoy:distroless-v1.39.0' };

const inputs: [string, string][] = [
  ['default platform', DEFAULT_PLATFORM_YAML],
  ['provider defaults', PROVIDER_DEFAULTS_YAML],
  ...readdirSync('examples').filter((f) => f.endsWith('.yaml')).sort().map((f): [string, string] => [`examples/${f}`, readFileSync(`examples/${f}`, 'utf8')]),
];
const work = mkdtempSync(join(tmpdir(), 'airgap-'));

function chartDir(chart: string, version: string | undefined): string | undefined {
  const dir = join(chartsDir!, chart);
  if (!version || !existsSync(join(dir, 'Chart.yaml'))) return undefined;
  return (parse(readFileSync(join(dir, 'Chart.yaml'), 'utf8')) as { version: string }).version === version ? dir : undefined;
}

let n = 0;
const cache = new Map<string, string[]>();
/**
 * Stand-ins for defaults of subcharts removed from the copies (scripts/airgap-charts.sh): the Gitea chart reads
 * valkey-cluster's `global.valkey.password` when valkey-cluster is on (docs/providers/giteaprovider.md).
 */
const SUBCHART_DEFAULTS: Record<string, Record<string, unknown>> = { gitea: { 'valkey-cluster': { global: { valkey: { password: '' } } } } };
/** Images `helm template` renders for a release with values. */
function template(r: RenderedRelease, dir: string, given: Record<string, unknown>): string[] {
  const values = mergeValues(SUBCHART_DEFAULTS[r.chart], given);
  const key = JSON.stringify([r.name, r.namespace, dir, values]);
  if (!cache.has(key)) cache.set(key, templateOnce(r, dir, values));
  return cache.get(key)!;
}
function templateOnce(r: RenderedRelease, dir: string, values: Record<string, unknown>): string[] {
  const file = join(work, `values-${n++}.yaml`);
  writeFileSync(file, stringify(values));
  const text = execFileSync(helm, ['template', r.name, dir, '--namespace', r.namespace, '--values', file], { encoding: 'utf8', maxBuffer: 64 << 20 });
  const docs = parseAllDocuments(text).map((d) => d.toJS()).filter(Boolean) as Record<string, unknown>[];
  const images = new Set(podImages(docs).filter((i) => i !== 'auto'));
  for (const d of docs) {
    const data = (d.data ?? {}) as Record<string, string>;
    if (d.kind === 'ConfigMap' && data.values && (d.metadata as { name: string }).name.startsWith('istio-sidecar-injector')) {
      const g = (JSON.parse(data.values) as { global: { hub: string; tag: string; proxy: { image: string } } }).global;
      images.add(`${g.hub}/${g.proxy.image}:${g.tag}`);
    }
    if (d.kind === 'ConfigMap' && data['envoy-gateway.yaml']) {
      const proxy = /envoyProxy:[\s\S]*?image:\s*(\S+)/.exec(data['envoy-gateway.yaml'])?.[1];
      images.add(proxy ?? ENVOY_PROXY_DEFAULT[r.version ?? ''] ?? 'unknown-envoy-proxy-image');
    }
  }
  return [...images].map(normalizeImage).sort();
}

/** Leaves of a values tree: [path, value]. */
function leaves(v: Record<string, unknown>, path: string[] = []): [string[], unknown][] {
  return Object.entries(v).flatMap(([k, x]) => (x && typeof x === 'object' && !Array.isArray(x) ? leaves(x as Record<string, unknown>, [...path, k]) : [[[...path, k], x] as [string[], unknown]]));
}
function tree(path: string[], value: unknown): Record<string, unknown> {
  return path.reduceRight<unknown>((acc, k) => ({ [k]: acc }), value) as Record<string, unknown>;
}

interface Entry { chart: string; version: string; variant: string[]; images: Map<string, Set<string>>; inputs: Set<string> }
const table = new Map<string, Entry>();
const failures: string[] = [];
const skipped = new Set<string>();

for (const [name, text] of inputs) {
  const objects = parseObjects(text);
  const plain = renderedReleases(renderAll(objects));
  const mirrored = renderedReleases(renderAll(airgapOverlay(objects, MIRROR).objects, { ...DEFAULT_SETTINGS, jobImage: mirrorImage(DEFAULT_SETTINGS.jobImage, MIRROR.registry) }));
  for (const r of plain) {
    const dir = chartDir(r.chart, r.version);
    if (!dir) {
      skipped.add(`${r.chart} ${r.version ?? '(newest)'} (${name})`);
      continue;
    }
    const variant = imageVariant(r.values);
    const key = `${r.chart}@${r.version}@${JSON.stringify(variant)}`;
    const e = table.get(key) ?? table.set(key, { chart: r.chart, version: r.version!, variant, images: new Map(), inputs: new Set() }).get(key)!;
    e.inputs.add(name);
    const images = template(r, dir, r.values);
    for (const i of images) if (!e.images.has(i)) e.images.set(i, new Set());
    const mv = MIRROR_VALUES[r.chart]?.(MIRROR.registry);
    if (!mv) {
      failures.push(`${name}: chart ${r.chart} has no mirror values`);
      continue;
    }
    for (const [path, value] of leaves(mv)) {
      const moved = template(r, dir, mergeValues(r.values, tree(path, value)));
      for (const i of images) if (!moved.includes(i)) e.images.get(i)!.add(path.join('.'));
    }
    const m = mirrored.find((x) => x.name === r.name && x.namespace === r.namespace && x.chart === r.chart);
    if (!m) {
      failures.push(`${name}: release ${r.namespace}/${r.name} is missing in the overlay's render`);
      continue;
    }
    for (const i of template(m, dir, m.values)) if (!inMirror(i, MIRROR.registry)) failures.push(`${name}: ${r.chart} ${r.version}: ${i} is not under the mirror with the overlay`);
  }
}

const entries = [...table.values()].sort((a, b) => `${a.chart}@${a.version}@${a.variant}`.localeCompare(`${b.chart}@${b.version}@${b.variant}`));
const body = entries
  .map((e) => {
    const images = [...e.images.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([image, keys]) => `      { image: ${JSON.stringify(image)}, valuesKeys: ${JSON.stringify([...keys].sort())} },`);
    return `  {\n    chart: ${JSON.stringify(e.chart)},\n    version: ${JSON.stringify(e.version)},\n    variant: ${JSON.stringify(e.variant)},\n    images: [\n${images.join('\n')}\n    ],\n    inputs: ${JSON.stringify([...e.inputs].sort())},\n  },`;
  })
  .join('\n');
const out = `/**
 * GENERATED by scripts/airgap-images.ts from \`helm template\` of the upstream charts (docs/airgap.md, "How the
 * table is made"); do not edit. For each chart version the default platform and the examples install: every
 * image its rendered objects pull with the values the controllers generate (Istio's injected proxy image and
 * Envoy Gateway's proxy image included), the mirror values keys (src/airgap/mirror.ts) that move it, and the
 * inputs it was rendered from.
 */
import type { ChartImages } from './chart-table.js';

/** Every chart version and variant the default platform and the examples install, with the images it pulls. */
export const CHART_IMAGES: ChartImages[] = [
${body}
];
`;
for (const s of [...skipped].sort()) process.stderr.write(`not in --charts (not checked): ${s}\n`);
for (const f of failures) process.stderr.write(`FAIL ${f}\n`);
if (args.includes('--check')) {
  const same = existsSync(OUT) && readFileSync(OUT, 'utf8') === out;
  process.stderr.write(same ? `${OUT} is up to date\n` : `${OUT} differs from what the charts render\n`);
  process.exitCode = same && !failures.length ? 0 : 1;
} else {
  writeFileSync(OUT, out);
  process.stderr.write(`wrote ${OUT}: ${entries.length} chart variants, ${entries.reduce((s, e) => s + e.images.size, 0)} images\n`);
  process.exitCode = failures.length ? 1 : 0;
}
