/**
 * `idpbuilder airgap images` and `idpbuilder airgap bundle` (docs/airgap.md): what a platform definition
 * needs offline, and a directory holding it (charts, image list, overlay).
 */
import { type Command, InvalidArgumentError } from 'commander';
import { copyFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { KubeObject } from '../metacontroller/protocol.js';
import { airgapOverlay, type Mirror } from '../airgap/overlay.js';
import { METACONTROLLER, parseObjects, platformNeeds, type PlatformNeeds } from '../airgap/images.js';
import { mirrorImage, parseChartRepository, parseRegistry } from '../airgap/mirror.js';
import { DEFAULT_PLATFORM_YAML } from '../render/default-platform.js';
import { loadDocuments } from './load.js';
import { DEFAULT_CHART, type CliDeps } from './deps.js';

function inputs(files: string[], recursive: boolean): KubeObject[] {
  if (!files.length) return parseObjects(DEFAULT_PLATFORM_YAML);
  const docs = loadDocuments(files, recursive);
  const bad = docs.filter((d) => d.error);
  if (bad.length) throw new InvalidArgumentError(bad.map((d) => `${d.file}#${d.doc}: ${d.error}`).join('; '));
  return docs.map((d) => d.object as KubeObject);
}

function unknownLines(n: PlatformNeeds): string[] {
  return n.unknown.map((r) => `chart ${r.chart} ${r.version ?? '(newest: no version)'} of ${r.owner}: its images are not in the checked table (src/airgap/chart-images.ts); run scripts/airgap-images.ts with that chart version`);
}

/**
 * `airgap images`: one image per line, sorted. When a release's images are unknown: nothing on stdout (a
 * pipeline without pipefail must not mirror a short list), the unknown releases on stderr, exit 1.
 */
export function runImages(o: { filename: string[]; recursive: boolean }, out: (s: string) => void, err: (s: string) => void): number {
  const n = platformNeeds(inputs(o.filename, o.recursive));
  if (n.unknown.length) {
    for (const l of unknownLines(n)) err(`error: ${l}\n`);
    return 1;
  }
  for (const i of n.images) out(`${i.image}\n`);
  return 0;
}

/**
 * Options of `idpbuilder airgap bundle`: the input files or directories (`-f`, with `--recursive`), the output path,
 * the registry and chart mirrors, and an optional directory of packaged charts to copy instead of `helm pull`.
 */
export interface BundleOptions {
  filename: string[];
  recursive: boolean;
  output: string;
  registryMirror: string;
  chartMirror: string;
  /** A directory of packaged charts (`<chart>-<version>.tgz`) to copy instead of `helm pull`. */
  chartsFrom?: string;
}

/**
 * `airgap bundle`: writes into `output`
 * - `charts/<chart>-<version>.tgz`: every chart the platform installs, Metacontroller's, and the idpbuilder
 *   chart (`helm pull`, `helm package`; or copied from `chartsFrom`);
 * - `images.txt`: the images (upstream references), and `images-mirror.txt`: `<upstream> <mirror>` per line;
 * - `overlay.yaml`: the platform objects with the air-gap overlay, and `create-flags.txt`.
 * Fails (1) when an image list is incomplete or a chart cannot be had; prints what the overlay cannot mirror.
 */
export async function runBundle(o: BundleOptions, deps: Pick<CliDeps, 'runner' | 'out' | 'err'>): Promise<number> {
  const mirror: Mirror = { registry: parseRegistry(o.registryMirror), charts: parseChartRepository(o.chartMirror) };
  const objects = inputs(o.filename, o.recursive);
  const needs = platformNeeds(objects);
  const overlay = airgapOverlay(objects, mirror);
  const charts = join(o.output, 'charts');
  mkdirSync(charts, { recursive: true });
  let failed = unknownLines(needs).map((l) => `error: ${l}\n`);
  const wanted = new Map<string, { repository: string; chart: string; version: string }>();
  for (const r of needs.releases) if (r.version) wanted.set(`${r.chart}-${r.version}`, { repository: r.repository, chart: r.chart, version: r.version });
  wanted.set(`${METACONTROLLER.chart}-${METACONTROLLER.version}`, METACONTROLLER);
  for (const r of needs.releases) if (!r.version) failed.push(`error: chart ${r.chart} of ${r.owner} has no version: a bundle needs one\n`);
  for (const [file, c] of [...wanted.entries()].sort()) {
    const target = join(charts, `${file}.tgz`);
    if (o.chartsFrom) {
      const src = join(o.chartsFrom, `${file}.tgz`);
      if (existsSync(src)) copyFileSync(src, target);
      else failed.push(`error: ${src} does not exist\n`);
      continue;
    }
    const ref = c.repository.startsWith('oci://') ? [c.repository.endsWith(`/${c.chart}`) ? c.repository : `${c.repository}/${c.chart}`] : [c.chart, '--repo', c.repository];
    const r = await deps.runner.run('helm', ['pull', ...ref, '--version', c.version, '--destination', charts]);
    if (r.code !== 0) failed.push(`error: helm pull ${ref.join(' ')} --version ${c.version}: ${r.stderr.trim().split('\n').pop() ?? ''}\n`);
    else deps.out(`pulled ${c.chart} ${c.version}\n`);
  }
  const pkg = await deps.runner.run('helm', ['package', DEFAULT_CHART, '--destination', charts]);
  if (pkg.code !== 0) failed.push(`error: helm package ${DEFAULT_CHART}: ${pkg.stderr.trim().split('\n').pop() ?? ''}\n`);
  const images = needs.images.map((i) => i.image);
  writeFileSync(join(o.output, 'images.txt'), images.map((i) => `${i}\n`).join(''));
  writeFileSync(join(o.output, 'images-mirror.txt'), images.map((i) => `${i} ${mirrorImage(i, mirror.registry)}\n`).join(''));
  writeFileSync(join(o.output, 'overlay.yaml'), overlay.objects.map((x) => stringify(x, { lineWidth: 0 })).join('---\n'));
  writeFileSync(join(o.output, 'create-flags.txt'), `--registry-mirror ${mirror.registry} --chart-mirror ${mirror.charts}\n`);
  for (const u of overlay.unmirrored) deps.err(`warning: ${u.object} ${u.path}: ${u.reason}\n`);
  failed = [...new Set(failed)];
  for (const f of failed) deps.err(f);
  deps.out(`wrote ${o.output}: ${wanted.size + 1} charts, ${images.length} images, overlay.yaml (${overlay.objects.length} objects)\n`);
  return failed.length ? 1 : 0;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** Adds `airgap images` and `airgap bundle` to `parent`. */
export function airgapCommand(parent: Command, io: { out: (s: string) => void; err: (s: string) => void }, deps: Partial<CliDeps>, defaults: () => CliDeps): Command {
  const cmd = parent.command('airgap').description('Air-gapped installs: the images and charts a platform needs, and a bundle to mirror them (docs/airgap.md)');
  cmd
    .command('images')
    .description('Print every image the platform (default: the built-in one) needs, one per line: the idpbuilder image, Metacontroller, and each chart at its version with our values')
    .option('-f, --filename <path>', 'file or directory of platform objects (repeatable); default: the built-in default platform', collect, [] as string[])
    .option('-R, --recursive', 'read directories recursively', false)
    .action((o: { filename: string[]; recursive: boolean }) => {
      process.exitCode = runImages(o, io.out, io.err);
    });
  cmd
    .command('bundle')
    .description('Write the charts (packaged), the image list and an overlay pointing every provider at a mirror into a directory')
    .option('-f, --filename <path>', 'file or directory of platform objects (repeatable); default: the built-in default platform', collect, [] as string[])
    .option('-R, --recursive', 'read directories recursively', false)
    .requiredOption('-o, --output <dir>', 'directory to write')
    .requiredOption('--registry-mirror <host[/path]>', 'registry the images are mirrored to (as <mirror>/<upstream host>/<path>)')
    .requiredOption('--chart-mirror <url>', 'chart repository the charts are pushed to: oci://host/path or https://host/path')
    .option('--charts-from <dir>', 'copy <chart>-<version>.tgz from this directory instead of helm pull')
    .action(async (o: BundleOptions) => {
      process.exitCode = await runBundle(o, { ...defaults(), ...deps });
    });
  return cmd;
}


