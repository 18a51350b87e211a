import { describe, expect, it } from 'vitest';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import type { KubeObject } from '../../../src/metacontroller/protocol.js';
import { DEFAULT_PLATFORM_YAML } from '../../../src/render/default-platform.js';
import { DEFAULT_SETTINGS } from '../../../src/kit/hooks.js';
import { airgapOverlay, clusterDomains, externalURL, urlsIn } from '../../../src/airgap/overlay.js';
import { inMirror, mirrored, mirrorImage, mirrorValues, normalizeImage, parseChartRepository, parseRegistry } from '../../../src/airgap/mirror.js';
import { CHART_IMAGES } from '../../../src/airgap/chart-images.js';
import { PROVIDER_DEFAULTS_YAML, chartImages, parseObjects, platformNeeds, podImages, renderAll, renderedReleases } from '../../../src/airgap/images.js';
import { runBundle, runImages } from '../../../src/cli/airgap.js';
import { hookImage, metacontrollerArgs, mirrorOf } from '../../../src/cli/create.js';
import { processRunner } from '../../../src/cli/exec.js';

const MIRROR = { registry: 'mirror.example:5000', charts: 'oci://mirror.example:5000/charts' };
const SETTINGS = { ...DEFAULT_SETTINGS, jobImage: mirrorImage(DEFAULT_SETTINGS.jobImage, MIRROR.registry) };
const EXAMPLES = readdirSync('examples').filter((f) => f.endsWith('.yaml')).sort();
const INPUTS: [string, string][] = [['default platform', DEFAULT_PLATFORM_YAML], ['provider defaults', PROVIDER_DEFAULTS_YAML], ...EXAMPLES.map((f): [string, string] => [`examples/${f}`, readFileSync(`examples/${f}`, 'utf8')])];

/** Every URL in a rendered object: spec and data strings, the YAML/JSON inside ConfigMap data, and URLs inside scripts. */
function urls(o: KubeObject): [string, string][] {
  const out: [string, string][] = [...urlsIn(o.spec, 'spec')];
  for (const [k, v] of Object.entries((o.data ?? {}) as Record<string, string>)) {
    if (o.kind === 'Secret') continue;
    if (/\.(ya?ml|json)$/.test(k)) for (const d of parseAllDocuments(v)) out.push(...urlsIn(d.toJS(), `data.${k}`));
    else for (const m of v.match(/\b(?:https?|oci|ssh|git):\/\/[^\s'"]+/g) ?? []) out.push([`data.${k}`, m]);
  }
  return out;
}

describe('air-gap overlay: nothing points outside the mirror and the cluster', () => {
  for (const [name, text] of INPUTS) {
    it(name, () => {
      const objects = parseObjects(text);
      const overlay = airgapOverlay(objects, MIRROR);
      const rendered = renderAll(overlay.objects, SETTINGS);
      const domains = clusterDomains(objects);
      // images in every pod spec
      for (const image of podImages(rendered)) expect(inMirror(image, MIRROR.registry), `${name}: ${image}`).toBe(true);
      // every helm release: chart from the mirror, the chart's mirror values in effect
      const releases = renderedReleases(rendered);
      for (const r of releases) {
        expect(r.repository, `${name}: ${r.owner} ${r.chart}`).toBe(MIRROR.charts);
        expect(r.version, `${name}: ${r.owner} ${r.chart} has a version`).toBeTruthy();
        const mv = mirrorValues(r.chart, MIRROR.registry);
        expect(mv, `${name}: mirror values of ${r.chart}`).toBeDefined();
        if (r.chart !== 'cni' && r.chart !== 'ztunnel') expect(mirrored(r.values, mv!), `${name}: ${r.owner} ${r.chart} values`).toBe(true);
      }
      // every URL: the mirror, the cluster, or reported as unmirrored by the overlay
      const reported = overlay.unmirrored.map((u) => u.reason).join('\n');
      for (const o of rendered) {
        for (const [path, url] of urls(o)) {
          if (url.startsWith(MIRROR.charts) || url.startsWith(`${MIRROR.registry}/`) || !externalURL(url, domains)) continue;
          // reported by URL, or by the service's domain (a GitHubProvider's api.github.com covers github.com repositories)
          const domain = (new URL(url.replace(/^[\w.-]+@([\w.-]+):/, 'ssh://$1/')).hostname.split('.').slice(-2).join('.'));
          expect(reported, `${name}: ${o.kind} ${o.metadata.name} ${path}: ${url}`).toMatch(new RegExp(`${url.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}|[/.]${domain.replace(/\./g, '\\.')}\\b`));
        }
      }
    });
  }

  it('the default platform has nothing unmirrored, and its three providers install from the mirror', () => {
    const overlay = airgapOverlay(parseObjects(DEFAULT_PLATFORM_YAML), MIRROR);
    expect(overlay.unmirrored).toEqual([]);
    const charts = renderedReleases(renderAll(overlay.objects, SETTINGS)).map((r) => `${r.chart} ${r.version} ${r.repository}`).sort();
    expect(charts).toEqual([
      'argo-cd 10.1.1 oci://mirror.example:5000/charts',
      'gitea 12.1.2 oci://mirror.example:5000/charts',
      'ingress-nginx 4.15.1 oci://mirror.example:5000/charts',
    ]);
  });

  it('a mirror of the same images leaves every status.version as it was (the tag still decides)', () => {
    for (const [name, text] of INPUTS) {
      const objects = parseObjects(text);
      const versions = (rendered: KubeObject[]) =>
        Object.fromEntries(rendered.filter((o) => o.status && 'version' in (o.status as object)).map((o) => [`${o.kind}/${o.metadata.name}`, (o.status as { version?: string }).version]));
      const before = versions(renderAll(objects, DEFAULT_SETTINGS));
      const after = versions(renderAll(airgapOverlay(objects, MIRROR).objects, SETTINGS));
      expect(after, name).toEqual(before);
    }
  });

  it('a GitHubProvider and an external git source are reported, not hidden', () => {
    const overlay = airgapOverlay(parseObjects(readFileSync('examples/gitrepository.yaml', 'utf8')), MIRROR);
    expect(overlay.unmirrored.map((u) => u.reason).join('\n')).toContain('https://github.com/external/repo.git');
  });

  it('keeps a version given, and leaves Flux and Istio versions to spec.version', () => {
    const [flux] = airgapOverlay([{ apiVersion: 'idpbuilder.cnoe.io/v1alpha2', kind: 'FluxProvider', metadata: { name: 'f' }, spec: { version: '2.7.2' } } as KubeObject], MIRROR).objects;
    expect((flux.spec as { installMethod: unknown }).installMethod).toEqual({ type: 'Helm', helm: { repository: MIRROR.charts, chart: 'flux2' } });
    const [nginx] = airgapOverlay([{ apiVersion: 'idpbuilder.cnoe.io/v1alpha2', kind: 'NginxGateway', metadata: { name: 'n' }, spec: { installMethod: { helm: { repository: 'https://x.example', version: '4.11.0' } } } } as KubeObject], MIRROR).objects;
    expect((nginx.spec as { installMethod: unknown }).installMethod).toEqual({ type: 'Helm', helm: { repository: MIRROR.charts, chart: 'ingress-nginx', version: '4.11.0' } });
    expect((nginx.spec as { values: unknown }).values).toEqual({ global: { image: { registry: 'mirror.example:5000/registry.k8s.io' } } });
  });

  it("FluxProvider's web UI: dashboard.installMethod.helm at the mirror (pinned version unless given), mirror values over the given ones; left alone when off", () => {
    const fp = (dashboard: Record<string, unknown>) =>
      airgapOverlay([{ apiVersion: 'idpbuilder.cnoe.io/v1alpha2', kind: 'FluxProvider', metadata: { name: 'f' }, spec: { dashboard } } as KubeObject], MIRROR).objects[0].spec as { dashboard: Record<string, unknown> };
    expect(fp({ values: { resources: { limits: { memory: '1Gi' } } } }).dashboard).toEqual({
      installMethod: { type: 'Helm', helm: { repository: MIRROR.charts, chart: 'flux-operator', version: '0.49.0' } },
      values: { resources: { limits: { memory: '1Gi' } }, image: { repository: 'mirror.example:5000/ghcr.io/controlplaneio-fluxcd/flux-operator' } },
    });
    expect(fp({ installMethod: { type: 'Helm', helm: { repository: 'oci://x.example/charts', version: '0.48.0' } } }).dashboard.installMethod).toEqual({ type: 'Helm', helm: { repository: MIRROR.charts, chart: 'flux-operator', version: '0.48.0' } });
    expect(fp({ enabled: false }).dashboard).toEqual({ enabled: false });
  });
});

describe('mirror references', () => {
  it('keeps the upstream host as the first path segment and normalizes Docker Hub names', () => {
    expect(normalizeImage('busybox:1.28')).toBe('docker.io/library/busybox:1.28');
    expect(normalizeImage('envoyproxy/envoy:v1')).toBe('docker.io/envoyproxy/envoy:v1');
    expect(normalizeImage('localhost:5000/x:1')).toBe('localhost:5000/x:1');
    expect(mirrorImage('quay.io/argoproj/argocd:v3.4.4', 'm.example/p')).toBe('m.example/p/quay.io/argoproj/argocd:v3.4.4');
    expect(parseRegistry('https://m.example:5000/')).toBe('m.example:5000');
    expect(() => parseRegistry('m example')).toThrow(/host\[:port\]/);
    expect(parseChartRepository('oci://m.example/charts/')).toBe('oci://m.example/charts');
    expect(() => parseChartRepository('m.example/charts')).toThrow(/oci:\/\//);
  });
});

describe('the images table', () => {
  it('knows every release of the default platform, and each image there moves with a values key', () => {
    const needs = platformNeeds(parseObjects(DEFAULT_PLATFORM_YAML));
    expect(needs.unknown).toEqual([]);
    for (const r of needs.releases) {
      const t = chartImages(r)!;
      expect(t.inputs).toContain('default platform');
      for (const i of t.images) expect(i.valuesKeys.length, `${r.chart}: ${i.image}`).toBeGreaterThan(0);
    }
  });

  it('was made from every input that renders a chart version of the table with the same variant', () => {
    for (const [name, text] of INPUTS) {
      for (const r of renderedReleases(renderAll(parseObjects(text)))) {
        const t = chartImages(r);
        if (t) expect(t.inputs, `${r.chart} ${r.version}`).toContain(name);
        else expect(CHART_IMAGES.some((c) => c.chart === r.chart && c.version === r.version && c.inputs.includes(name)), `${name}: ${r.chart} ${r.version} was checked with other image values`).toBe(false);
      }
    }
  });
});

describe('idpbuilder airgap images', () => {
  it('prints the image of every component of the default platform', () => {
    let out = '';
    let err = '';
    expect(runImages({ filename: [], recursive: false }, (s) => (out += s), (s) => (err += s))).toBe(0);
    expect(err).toBe('');
    expect(out.trim().split('\n')).toEqual([
      'docker.gitea.com/gitea:1.24.3-rootless',
      'ecr-public.aws.com/docker/library/redis:8.2.3-alpine',
      'ghcr.io/cnoe-io/idpbuilder-metacontroller:0.1.0',
      'ghcr.io/metacontroller/metacontroller:v4.17.2',
      'quay.io/argoproj/argocd:v3.4.4',
      'registry.k8s.io/ingress-nginx/controller:v1.15.1@sha256:594ceea76b01c592858f803f9ff4d2cb40542cae2060410b2c95f75907d659e1',
      'registry.k8s.io/ingress-nginx/kube-webhook-certgen:v1.6.9@sha256:01038e7de14b78d702d2849c3aad72fd25903c4765af63cf16aa3398f5d5f2dd',
    ]);
  });

  it('fails closed on a chart version whose images are not known', () => {
    const dir = mkdtempSync(join(tmpdir(), 'airgap-'));
    const file = join(dir, 'p.yaml');
    writeFileSync(file, 'apiVersion: idpbuilder.cnoe.io/v1alpha1\nkind: NginxGateway\nmetadata: {name: n, namespace: default}\nspec:\n  installMethod:\n    helm: {repository: "https://kubernetes.github.io/ingress-nginx", version: 4.0.0}\n');
    let err = '';
    let out = '';
    expect(runImages({ filename: [file], recursive: false }, (s) => (out += s), (s) => (err += s))).toBe(1);
    expect(err).toContain('chart ingress-nginx 4.0.0 of nginxgateway default/n: its images are not in the checked table');
    // no short list on stdout for a pipeline to mirror
    expect(out).toBe('');
  });
});

describe('idpbuilder airgap bundle', () => {
  it('pulls every chart with helm, packages the idpbuilder chart and writes the image list and overlay', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'airgap-bundle-'));
    const bin = join(dir, 'bin');
    const log = join(dir, 'helm.log');
    mkdirSync(bin);
    // a stand-in helm: records its arguments, writes <chart>-<version>.tgz into --destination
    writeFileSync(
      join(bin, 'helm'),
      `#!/bin/sh\necho "$@" >> ${log}\ncmd=$1; shift\nchart=""; version=""; dest=""\nwhile [ $# -gt 0 ]; do case "$1" in --version) version=$2; shift;; --destination) dest=$2; shift;; --repo) shift;; *) [ -z "$chart" ] && chart=$1;; esac; shift; done\nif [ "$cmd" = package ]; then echo tgz > "$dest/idpbuilder-0.1.0.tgz"; else echo tgz > "$dest/\${chart##*/}-$version.tgz"; fi\n`,
    );
    chmodSync(join(bin, 'helm'), 0o755);
    const out = join(dir, 'out');
    let stdout = '';
    let stderr = '';
    const code = await runBundle(
      { filename: [], recursive: false, output: out, registryMirror: MIRROR.registry, chartMirror: MIRROR.charts },
      { runner: processRunner({ PATH: `${bin}:/usr/bin:/bin` }), out: (s) => (stdout += s), err: (s) => (stderr += s) },
    );
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(readdirSync(join(out, 'charts')).sort()).toEqual(['argo-cd-10.1.1.tgz', 'gitea-12.1.2.tgz', 'idpbuilder-0.1.0.tgz', 'ingress-nginx-4.15.1.tgz', 'metacontroller-helm-4.17.2.tgz']);
    expect(readFileSync(log, 'utf8').trim().split('\n').sort()).toEqual([
      'package ' + resolve('charts/idpbuilder') + ` --destination ${out}/charts`,
      `pull argo-cd --repo https://argoproj.github.io/argo-helm --version 10.1.1 --destination ${out}/charts`,
      `pull gitea --repo https://dl.gitea.com/charts/ --version 12.1.2 --destination ${out}/charts`,
      `pull ingress-nginx --repo https://kubernetes.github.io/ingress-nginx --version 4.15.1 --destination ${out}/charts`,
      `pull oci://ghcr.io/metacontroller/metacontroller-helm --version 4.17.2 --destination ${out}/charts`,
    ].sort());
    const images = readFileSync(join(out, 'images.txt'), 'utf8').trim().split('\n');
    expect(images).toContain('quay.io/argoproj/argocd:v3.4.4');
    expect(readFileSync(join(out, 'images-mirror.txt'), 'utf8')).toContain('quay.io/argoproj/argocd:v3.4.4 mirror.example:5000/quay.io/argoproj/argocd:v3.4.4\n');
    const overlay = parseAllDocuments(readFileSync(join(out, 'overlay.yaml'), 'utf8')).map((d) => d.toJS() as KubeObject);
    expect(overlay.map((o) => o.kind)).toEqual(['GiteaProvider', 'NginxGateway', 'ArgoCDProvider', 'Platform']);
    expect(parse(readFileSync(join(out, 'create-flags.txt'), 'utf8'))).toBe(`--registry-mirror ${MIRROR.registry} --chart-mirror ${MIRROR.charts}`);
    expect(existsSync(join(out, 'images.txt'))).toBe(true);
  });

  it('copies charts from a local directory, and fails naming a missing one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'airgap-local-'));
    const from = join(dir, 'from');
    mkdirSync(from);
    for (const f of ['argo-cd-10.1.1', 'gitea-12.1.2', 'ingress-nginx-4.15.1']) writeFileSync(join(from, `${f}.tgz`), f);
    let stderr = '';
    const code = await runBundle(
      { filename: [], recursive: false, output: join(dir, 'out'), registryMirror: MIRROR.registry, chartMirror: 'https://charts.mirror.example', chartsFrom: from },
      { runner: processRunner({ PATH: '/nonexistent' }), out: () => undefined, err: (s) => (stderr += s) },
    );
    expect(code).toBe(1);
    expect(stderr).toContain(`${join(from, 'metacontroller-helm-4.17.2.tgz')} does not exist`);
    expect(readFileSync(join(dir, 'out', 'charts', 'gitea-12.1.2.tgz'), 'utf8')).toBe('gitea-12.1.2');
  });
});

describe('idpbuilder create --registry-mirror/--chart-mirror', () => {
  it('installs Metacontroller and the hook image from the mirror', () => {
    const m = mirrorOf({ registryMirror: MIRROR.registry, chartMirror: MIRROR.charts })!;
    expect(metacontrollerArgs(m)).toEqual(['oci://mirror.example:5000/charts/metacontroller-helm', '--version', '4.17.2', '--set', 'image.repository=mirror.example:5000/ghcr.io/metacontroller/metacontroller']);
    expect(metacontrollerArgs({ ...m, charts: 'https://c.example' }).slice(0, 3)).toEqual(['metacontroller-helm', '--repo', 'https://c.example']);
    expect(hookImage({}, m)).toBe('mirror.example:5000/ghcr.io/cnoe-io/idpbuilder-metacontroller:0.1.0');
    expect(hookImage({ image: 'x/y:1' }, m)).toBe('x/y:1');
    expect(mirrorOf({})).toBeUndefined();
    expect(() => mirrorOf({ registryMirror: 'm.example' })).toThrow(/go together/);
  });
});
