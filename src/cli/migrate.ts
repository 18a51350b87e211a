/**
 * `idpbuilder migrate`: turns a `Localbuild` (idpbuilder.cnoe.io/v1alpha1, what today's idpbuilder stores
 * for a cluster it built) into the equivalent providers and Platform — the objects `idpbuilder create` would
 * apply with the same flags — and prints them (or applies them with --apply).
 *
 * Kept from spec.buildCustomization: protocol, host, ingressHost, port, usePathRouting and staticPassword
 * (a Secret both admin users reference). From spec.packageConfigs: packageCustomization (the `-c` files:
 * Helm values, or the ConfigMaps the charts build from values, become the provider's `values`). Reported,
 * not translated: customPackageDirs/Files/Urls (re-add them with `idpbuilder create -p`), disabled Argo CD
 * or embedded applications, manifests in customization files that have no chart-values equivalent.
 * selfSignedCert holds no key; with --apply to the same cluster the certificate and key are copied from
 * ingress-nginx/idpbuilder-cert, so browsers that trust it keep working.
 */
import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import type { KubeObject } from '../metacontroller/protocol.js';
import { missingTools } from './exec.js';
import { customizationValues, type TemplateData } from './create/customize.js';
import { Kube, namespaceObject, SYSTEM_NAMESPACE, toYamlStream } from './create/kube.js';
import { CORE_COMPONENTS, platformObjects, validateObjects, type CoreComponent, type PlatformConfig } from './create/platform.js';
import { defaultDeps, type CliDeps } from './deps.js';
import { loadDocuments } from './load.js';
import { certificateFromSecret, TLS_SECRET, tlsSecret } from './tls.js';
import { DEFAULT_DOMAIN, MANAGED_BY } from '../api/names.js';

/**
 * The flags of `idpbuilder migrate`: the Localbuild file (else the cluster's, through kubeconfig and context), the
 * Platform name, `--apply`, the output format and whether the target is a kind cluster made by idpbuilder.
 */
export interface MigrateOptions {
  filename?: string;
  kubeconfig?: string;
  context?: string;
  name?: string;
  apply: boolean;
  output: string;
  /** false with --no-kind: the target is not a kind cluster made by idpbuilder. */
  kind: boolean;
}

type Obj = Record<string, unknown>;

/**
 * The result of translating one Localbuild: the name, the provider and Platform objects that replace it, and notes on
 * what did not translate.
 */
export interface Migration {
  name: string;
  objects: KubeObject[];
  notes: string[];
}

function isObj(v: unknown): v is Obj {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function bool(v: unknown): boolean {
  return v === true || v === 'true';
}

function isLocalbuild(o: unknown): o is KubeObject {
  return isObj(o) && o.kind === 'Localbuild' && typeof o.apiVersion === 'string' && o.apiVersion.startsWith('idpbuilder.cnoe.io/');
}

/** The migration of one Localbuild. `baseDir` resolves relative customization file paths. */
function migrate(lb: KubeObject, opts: { baseDir: string; kind: boolean; readFile?: (path: string) => string }): Migration {
  const read = opts.readFile ?? ((p: string) => readFileSync(p, 'utf8'));
  const spec = (isObj(lb.spec) ? lb.spec : {}) as Obj;
  const bc = (isObj(spec.buildCustomization) ? spec.buildCustomization : {}) as Obj;
  const pcs = (isObj(spec.packageConfigs) ? spec.packageConfigs : {}) as Obj;
  const name = lb.metadata.name;
  const notes: string[] = [];

  const protocol = bc.protocol === 'http' ? 'http' : 'https';
  if (bc.protocol !== undefined && bc.protocol !== 'http' && bc.protocol !== 'https') notes.push(`buildCustomization.protocol ${String(bc.protocol)} is not http or https; using https`);
  const host = typeof bc.host === 'string' && bc.host ? bc.host.toLowerCase() : DEFAULT_DOMAIN;
  const ingressHost = typeof bc.ingressHost === 'string' && bc.ingressHost ? bc.ingressHost.toLowerCase() : host;
  let port = 8443;
  if (bc.port !== undefined && bc.port !== '') {
    const n = Number(bc.port);
    if (Number.isInteger(n) && n > 0 && n < 65536) port = n;
    else notes.push(`buildCustomization.port ${String(bc.port)} is not a port number; using 8443`);
  }
  const usePathRouting = bool(bc.usePathRouting);
  const devPassword = bool(bc.staticPassword) || bool(bc.devMode);
  if (bc.selfSignedCert) {
    notes.push('buildCustomization.selfSignedCert holds no private key: --apply to the same cluster copies ingress-nginx/idpbuilder-cert into idpbuilder-system/platform-tls; otherwise a new certificate is made');
  }

  const data: TemplateData = { host, ingressHost, port, protocol, usePathRouting, devPassword };
  const values: Partial<Record<CoreComponent, Record<string, unknown>>> = {};
  const custom = isObj(pcs.packageCustomization) ? pcs.packageCustomization : {};
  for (const [key, raw] of Object.entries(custom).sort(([a], [b]) => a.localeCompare(b))) {
    const entry = (isObj(raw) ? raw : {}) as Obj;
    const component = String(entry.name ?? key);
    const file = typeof entry.filePath === 'string' ? entry.filePath : '';
    if (!(CORE_COMPONENTS as string[]).includes(component)) {
      notes.push(`packageCustomization ${key}: unknown package ${component} (one of ${CORE_COMPONENTS.join(', ')}); skipped`);
      continue;
    }
    if (!file) {
      notes.push(`packageCustomization ${key}: no filePath; skipped`);
      continue;
    }
    const path = isAbsolute(file) ? file : resolve(opts.baseDir, file);
    let text: string;
    try {
      text = read(path);
    } catch (e) {
      notes.push(`packageCustomization ${component}: cannot read ${path} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); skipped`);
      continue;
    }
    try {
      const r = customizationValues(component as CoreComponent, text, data, path);
      values[component as CoreComponent] = r.values;
      if (r.untranslated.length) notes.push(`packageCustomization ${component}: ${r.untranslated.join(', ')} in ${path} have no Helm-values equivalent; apply them yourself after the platform is Ready`);
    } catch (e) {
      notes.push(`packageCustomization ${component}: ${(e as Error).message}; skipped`);
    }
  }
  const dirs = [...(Array.isArray(pcs.customPackageDirs) ? pcs.customPackageDirs : []), ...(Array.isArray(pcs.customPackageFiles) ? pcs.customPackageFiles : [])].map(String);
  if (dirs.length) notes.push(`local packages are pushed by the CLI: re-add them with \`idpbuilder create --kubeconfig … ${dirs.map((d) => `-p ${d}`).join(' ')}\``);
  const urls = (Array.isArray(pcs.customPackageUrls) ? pcs.customPackageUrls : []).map(String);
  if (urls.length) notes.push(`remote packages are not migrated: re-add them with \`idpbuilder create --kubeconfig … ${urls.map((u) => `-p ${u}`).join(' ')}\` (the cluster fetches them)`);
  const argo = isObj(pcs.argoPackageConfigs) ? pcs.argoPackageConfigs : undefined;
  if (argo && argo.enabled === false) notes.push('argoPackageConfigs.enabled is false, but the platform always has a GitOps provider: Argo CD is installed');
  const embedded = isObj(pcs.embeddedArgoApplicationsPackageConfigs) ? pcs.embeddedArgoApplicationsPackageConfigs : undefined;
  if (embedded && embedded.enabled === false) notes.push('embeddedArgoApplicationsPackageConfigs.enabled is false, but the core components are always installed');

  const config: PlatformConfig = { name, host, ingressHost, protocol, port, usePathRouting, devPassword, kind: opts.kind, values };
  const objects = platformObjects(config);
  validateObjects(objects);
  return { name, objects, notes };
}

function render(migrations: Migration[], format: string): string {
  const objects = migrations.flatMap((m) => m.objects);
  if (format === 'json') return `${JSON.stringify({ apiVersion: 'v1', kind: 'List', metadata: {}, items: objects }, null, 2)}\n`;
  const header = migrations.flatMap((m) => [`# Migrated from Localbuild ${m.name} by idpbuilder migrate.`, ...m.notes.map((n) => `# note: ${n}`)]);
  return `${header.join('\n')}\n${toYamlStream(objects)}`;
}

async function runMigrate(o: MigrateOptions, deps: CliDeps): Promise<number> {
  if (o.output !== 'yaml' && o.output !== 'json') {
    deps.err(`error: --output must be yaml or json, not ${o.output}\n`);
    return 1;
  }
  const fromCluster = !o.filename;
  if ((fromCluster || o.apply) && missingTools(deps.runner, ['kubectl'], 'migrate')) {
    deps.err(`error: ${missingTools(deps.runner, ['kubectl'], 'migrate')}\n`);
    return 1;
  }
  const kube = new Kube(deps.runner, { kubeconfig: o.kubeconfig, context: o.context });
  try {
    let localbuilds: KubeObject[];
    let baseDir = process.cwd();
    if (o.filename) {
      const docs = loadDocuments([o.filename]);
      const bad = docs.find((d) => d.error);
      if (bad) throw new Error(`${bad.file}#${bad.doc}: ${bad.error}`);
      localbuilds = docs.map((d) => d.object).filter(isLocalbuild);
      baseDir = dirname(resolve(o.filename));
    } else {
      localbuilds = await kube.list('localbuilds.idpbuilder.cnoe.io');
    }
    if (o.name) localbuilds = localbuilds.filter((l) => l.metadata.name === o.name);
    if (localbuilds.length === 0) throw new Error(`no Localbuild${o.name ? ` named ${o.name}` : ''} found in ${o.filename ?? 'the cluster'}`);
    const migrations = localbuilds.map((lb) => migrate(lb, { baseDir, kind: o.kind }));
    if (!o.apply) {
      deps.out(render(migrations, o.output));
      for (const m of migrations) for (const n of m.notes) deps.err(`note: ${m.name}: ${n}\n`);
      return 0;
    }
    const crd = await kube.get('crd', 'platforms.idpbuilder.cnoe.io');
    if (!crd) throw new Error('the idpbuilder CRDs are not installed in this cluster: install Metacontroller and the idpbuilder chart first (docs/cli.md)');
    const extra: KubeObject[] = [namespaceObject(SYSTEM_NAMESPACE)];
    const legacy = certificateFromSecret(await kube.get('secret', 'idpbuilder-cert', 'ingress-nginx'));
    if (legacy && !(await kube.get('secret', TLS_SECRET, SYSTEM_NAMESPACE))) extra.push(tlsSecret(TLS_SECRET, SYSTEM_NAMESPACE, legacy, { ...MANAGED_BY }));
    await kube.apply([...extra, ...migrations.flatMap((m) => m.objects)], 'applying the migrated objects');
    for (const m of migrations) {
      deps.out(`Applied ${m.objects.map((x) => `${x.kind}/${x.metadata.name}`).join(', ')} for Localbuild ${m.name}\n`);
      for (const n of m.notes) deps.err(`note: ${m.name}: ${n}\n`);
    }
    return 0;
  } catch (e) {
    deps.err(`error: ${(e as Error).message}\n`);
    return 1;
  }
}

/**
 * Adds the `migrate` command to `parent` (Localbuild of an earlier idpbuilder → providers and Platform; prints them
 * or applies them with --apply). Output goes through `io`; `overrides` replace CliDeps (tests).
 */
export function migrateCommand(parent: Command, io: { out: (s: string) => void; err: (s: string) => void }, overrides: Partial<CliDeps> = {}): Command {
  return parent
    .command('migrate')
    .description(
      'Translate a Localbuild of an earlier idpbuilder into the equivalent providers and Platform; prints them (or applies them with --apply). ' +
        'Reads -f FILE, or the Localbuilds of the cluster (--kubeconfig/--context, default kubectl\'s).',
    )
    .option('-f, --filename <file>', 'file with Localbuild objects (default: read them from the cluster)')
    .option('--kubeconfig <path>', 'kubeconfig of the cluster to read from / apply to')
    .option('--context <name>', 'kubeconfig context')
    .option('--name <name>', 'only the Localbuild with this name')
    .option('--apply', 'apply the objects (server-side) instead of printing them', false)
    .option('-o, --output <format>', 'yaml or json', 'yaml')
    .option('--no-kind', 'the target is not a kind cluster made by idpbuilder: leave out the kind host-port and NodePort settings')
    .action(async (opts: MigrateOptions) => {
      process.exitCode = await runMigrate(opts, { ...defaultDeps(io), ...overrides });
    });
}
