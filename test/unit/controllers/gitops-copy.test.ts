/**
 * The GitOps copy of a component (the umbrella chart the Platform writes into its bootstrap repository) renders
 * the same objects as the install Job: same chart (HTTP or OCI, as helm resolves a dependency), same version,
 * same values as helm computes them for the install (values-N.yaml, then each --set-file), same extra manifests,
 * and an Argo CD Application with the install's release name and namespace. Checked for every Helm-installed
 * provider of the default platform and of the examples, rendered with `idpbuilder render --assume-ready`.
 */
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { runRender } from '../../../src/cli/render.js';
import { EXTRA_MANIFESTS, gitOpsFiles } from '../../../src/controllers/platform.js';
import type { ReleaseSummary } from '../../../src/kit/helm.js';
import type { KubeObject } from '../../../src/metacontroller/protocol.js';
import { exampleFiles } from '../../support/examples.js';

type Values = Record<string, unknown>;
const isMap = (v: unknown): v is Values => v !== null && typeof v === 'object' && !Array.isArray(v);

/** One `helm upgrade --install` of an install script, as helm reads its arguments. */
interface HelmCommand {
  release: string;
  /** `oci://…/<chart>` or the chart name (with `repo`). */
  chart: string;
  repo?: string;
  version?: string;
  namespace: string;
  setFile: { path: string; file: string }[];
}

/** The `run 'helm' 'upgrade' …` lines of run.sh (arguments are single-quoted by the script writer). */
function helmCommands(script: string): HelmCommand[] {
  return script
    .split('\n')
    .filter((l) => l.startsWith('run helm upgrade '))
    .map((l) => {
      const args = [...l.matchAll(/'((?:[^']|'\\'')*)'|(\S+)/g)].map((m) => (m[1] !== undefined ? m[1].replace(/'\\''/g, "'") : m[2])).slice(1);
      const opt = (name: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
      const [, , , release, chart] = args;
      const setFile = args.flatMap((a, i) => (a === '--set-file' ? [args[i + 1]] : [])).map((s) => ({ path: s.slice(0, s.indexOf('=')), file: s.slice(s.indexOf('=') + 1) }));
      return { release, chart, repo: opt('--repo'), version: opt('--version'), namespace: opt('--namespace')!, setFile };
    });
}

/** helm's `--set a.b.c=v` path (dots separate keys; `\.` is a literal dot). */
function setPath(values: Values, path: string, value: unknown): Values {
  const keys = path.split(/(?<!\\)\./).map((k) => k.replace(/\\\./g, '.'));
  let cur = values;
  for (const k of keys.slice(0, -1)) cur = (isMap(cur[k]) ? cur[k] : (cur[k] = {})) as Values;
  cur[keys[keys.length - 1]] = value;
  return values;
}

/** Leaf paths where two value trees differ (maps compared key by key; lists and scalars as a whole). */
function diffPaths(a: unknown, b: unknown, at = ''): string[] {
  if (isMap(a) && isMap(b)) {
    return [...new Set([...Object.keys(a), ...Object.keys(b)])].sort().flatMap((k) => diffPaths(a[k], b[k], at ? `${at}.${k}` : k));
  }
  return JSON.stringify(a) === JSON.stringify(b) ? [] : [at];
}

function hasNull(v: unknown): boolean {
  return v === null || (isMap(v) ? Object.values(v).some(hasNull) : Array.isArray(v) ? v.some(hasNull) : false);
}

/**
 * What the copy may differ in, per chart, and why: the only intended differences between the install and its copy.
 * Argo CD: the install passes the admin password hash with --set-file (the chart writes Secret argocd-secret); the
 * copy has no secret value and turns that Secret off (`createSecret: false`), so Argo CD (prune off) leaves it.
 */
const DECLARED: Record<string, string[]> = {
  'argo-cd': ['configs.secret.argocdServerAdminPassword', 'configs.secret.createSecret'],
};

interface Rendered {
  source: string;
  objects: KubeObject[];
}

function renderAll(): Rendered[] {
  return [undefined, ...exampleFiles()].map((file) => {
    const r = runRender({ filename: file ? [file] : [], recursive: false, assumeReady: true, output: 'json', showSecrets: false });
    expect(r.code, `${file}: ${r.stderr}`).toBe(0);
    return { source: file?.split('/').pop() ?? 'default platform', objects: (JSON.parse(r.stdout) as { items: KubeObject[] }).items };
  });
}

const installConfigMaps = (objects: KubeObject[]) => objects.filter((o) => o.kind === 'ConfigMap' && o.metadata.labels?.['idpbuilder.cnoe.io/helm-values'] === 'true');

describe('GitOps copy vs install (default platform and examples)', () => {
  const rendered = renderAll();
  const cases = rendered.flatMap(({ source, objects }) =>
    installConfigMaps(objects).map((cm) => ({ source, objects, cm, data: cm.data as Record<string, string> })),
  );

  it('covers every Helm chart the providers install, HTTP and OCI', () => {
    const charts = new Set(cases.flatMap((c) => (JSON.parse(c.data['releases.json']) as ReleaseSummary[]).map((r) => `${r.repository} ${r.chart}`)));
    expect([...charts].sort()).toEqual([
      'https://argoproj.github.io/argo-helm argo-cd',
      'https://dl.gitea.com/charts/ gitea',
      'https://fluxcd-community.github.io/helm-charts flux2',
      'https://gateway-envoyproxy.io gateway-helm',
      'https://istio-release.storage.googleapis.com/charts base',
      'https://istio-release.storage.googleapis.com/charts gateway',
      'https://istio-release.storage.googleapis.com/charts istiod',
      'https://kubernetes.github.io/ingress-nginx ingress-nginx',
      'oci://docker.io/envoyproxy/gateway-helm gateway-helm',
      'oci://ghcr.io/controlplaneio-fluxcd/charts flux-operator',
    ]);
  });

  for (const { source, objects, cm, data } of cases) {
    const releases = JSON.parse(data['releases.json']) as ReleaseSummary[];
    it(`${source}: ${releases.map((r) => `${r.name} (${r.chart})`).join(', ')}`, () => {
      const provider = objects.find((o) => (o.status as any)?.installation?.configMap === cm.metadata.name && o.metadata.namespace === cm.metadata.namespace)!;
      expect(provider, cm.metadata.name).toBeDefined();
      const files = gitOpsFiles({ kind: provider.kind, namespace: provider.metadata.namespace!, name: provider.metadata.name }, releases, data['manifests.yaml']);
      const commands = helmCommands(data['run.sh']);
      expect(commands.map((c) => c.release)).toEqual(releases.map((r) => r.name));
      releases.forEach((r, i) => {
        const cmd = commands[i];
        const chart = parse(files[`${r.name}/Chart.yaml`]) as { dependencies: { name: string; version: string; repository: string }[] };
        const [dep] = chart.dependencies;
        expect(chart.dependencies).toHaveLength(1);
        // the dependency resolves to the chart the install pulls (helm findChartURL: <repository>/<name>:<version> for OCI)
        if (cmd.chart.startsWith('oci://')) {
          expect(cmd.repo).toBeUndefined();
          expect(`${dep.repository}/${dep.name}`, r.name).toBe(cmd.chart);
        } else {
          expect({ repository: dep.repository, name: dep.name }).toEqual({ repository: cmd.repo, name: cmd.chart });
        }
        expect(dep.version).toBe(cmd.version ?? '*');

        // values as helm computes them for the install: values-N.yaml, then each --set-file (content stands in)
        const installed = parse(data[`values-${i}.yaml`]) as Values;
        for (const s of cmd.setFile) setPath(installed, s.path, `<file ${s.file}>`);
        const copy = parse(files[`${r.name}/values.yaml`]) as Values;
        expect(Object.keys(copy)).toEqual([dep.name]);
        expect(diffPaths(installed, copy[dep.name])).toEqual(DECLARED[dep.name] ?? []);
        // helm's handling of null in a subchart's values differs from a top-level release's: there is none
        expect(hasNull(installed)).toBe(false);
      });

      // extra manifests: the same objects, in the last release's chart, rendered verbatim
      const last = releases[releases.length - 1].name;
      if (data['manifests.yaml']) {
        const docs = (text: string) => parseAllDocuments(text).map((d) => d.toJS());
        expect(docs(files[`${last}/${EXTRA_MANIFESTS}`])).toEqual(docs(data['manifests.yaml']));
        expect(files[`${last}/templates/extra-manifests.yaml`]).toBe(`{{ .Files.Get "${EXTRA_MANIFESTS}" }}\n`);
      } else {
        expect(Object.keys(files).filter((f) => f.includes('extra-manifests'))).toEqual([]);
      }
      expect(Object.keys(files).filter((f) => f.includes('extra-manifests')).every((f) => f.startsWith(`${last}/`))).toBe(true);

      // when a Platform bootstraps the component: its repository holds these files and its Application renders
      // them with the install's release name and namespace (Argo CD adopts the running release)
      for (const r of releases) {
        const apps = objects.filter((o) => o.kind === 'Application' && (o.spec as any).source?.helm?.releaseName === r.name && (o.spec as any).destination?.namespace === r.namespace);
        if (!apps.length) continue;
        expect(apps).toHaveLength(1);
        const pkg = objects.find((o) => o.kind === 'Package' && o.metadata.name === apps[0].metadata.name)!;
        const repo = objects.find((o) => o.kind === 'GitRepository' && o.metadata.name === (pkg.spec as any).source.gitRepository.name)!;
        expect((apps[0].spec as any).source.path).toBe(r.name);
        const inline = (repo.spec as any).sources[0].files as Record<string, string>;
        for (const f of Object.keys(files).filter((k) => k.startsWith(`${r.name}/`))) expect(inline[f], f).toBe(files[f]);
      }
    });
  }

  it('the default platform and the production example hand every release to an Application with its release name and namespace', () => {
    for (const { source, objects } of rendered.filter((x) => ['default platform', 'default-platform.yaml', 'production.yaml'].includes(x.source))) {
      const releases = installConfigMaps(objects).flatMap((cm) => JSON.parse((cm.data as Record<string, string>)['releases.json']) as ReleaseSummary[]);
      const apps = objects.filter((o) => o.kind === 'Application').map((a) => ({ release: (a.spec as any).source.helm?.releaseName, namespace: (a.spec as any).destination.namespace, path: (a.spec as any).source.path }));
      expect(apps.sort((a, b) => a.release.localeCompare(b.release)), source).toEqual(
        releases.map((r) => ({ release: r.name, namespace: r.namespace, path: r.name })).sort((a, b) => a.release.localeCompare(b.release)),
      );
    }
  });
});
