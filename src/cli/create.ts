/**
 * `idpbuilder create`: today's command line, now installing Metacontroller, the idpbuilder chart and the
 * platform's custom resources, then waiting for the Platform to become Ready.
 *
 *  1. checks the tools it needs (kind and the container runtime only when it creates the kind cluster;
 *     kubectl and helm always; git for local packages);
 *  2. creates the kind cluster (or reuses a healthy one, or --recreate), or uses --kubeconfig/--context;
 *  3. refuses settings incompatible with the ones the platform was created with (idpbuilder-settings);
 *  4. the TLS certificate (get or create), the CoreDNS rewrite, Metacontroller and the idpbuilder chart
 *     (helm), then the providers and the Platform (checked offline first);
 *  5. waits for the Platform's Ready condition, printing progress; then local packages (-p);
 *  6. prints the URLs, and exits — or with --no-exit keeps pushing changes of the local packages.
 */
import { type Command, InvalidArgumentError, Option } from 'commander';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { GROUP } from '../api/common.js';
import { KIND_BY_NAME, KINDS } from '../api/kinds.js';
import type { KubeObject } from '../metacontroller/protocol.js';
import { missingTools } from './exec.js';
import { DEFAULT_CHART, defaultDeps, timeoutMs, UserError, type CliDeps } from './deps.js';
import { corednsConfigMap } from './create/coredns.js';
import { readCustomization, parseCustomization, type TemplateData } from './create/customize.js';
import { decodeData, Kube, namespaceObject, SYSTEM_NAMESPACE } from './create/kube.js';
import {
  componentURL,
  GITEA_ADMIN,
  GATEWAYS,
  GITOPS,
  ingressService,
  INGRESS_SERVICE,
  kindIngressContainerPort,
  platformObjects,
  platformProviders,
  PROVIDERS,
  type GatewayChoice,
  type GitOpsChoice,
  validateObjects,
  type CoreComponent,
  type PlatformConfig,
} from './create/platform.js';
import { incompatibilities, settingsConfigMap, settingsOf } from './create/settings.js';
import { label, waitReady, type Watched } from './create/wait.js';
import {
  customKindConfig,
  defaultKindConfig,
  Kind,
  KIND_CONFIG_BANNER,
  KIND_CONFIG_END,
  loadKindConfig,
  parseExtraPorts,
  resolveRegistryConfig,
  writeRegistryCertsDir,
  type KindConfigInput,
} from './kind.js';
import {
  cloneRemotePackage,
  discoverPackages,
  isRemotePackage,
  packageObjects,
  parseRemotePackage,
  pushDirectory,
  refreshApplication,
  watchDirectories,
  type Checkout,
  type GitServer,
  type LocalApp,
  type PackageContext,
} from './packages.js';
import { airgapOverlay, type Mirror } from '../airgap/overlay.js';
import { mirrorImage, parseChartRepository, parseRegistry } from '../airgap/mirror.js';
import { DEFAULT_SETTINGS } from '../kit/hooks.js';
import { certificateFromSecret, certificateNames, generateCertificate, reuseProblem, TLS_SECRET, tlsSecret, type Certificate } from './tls.js';
import { DEFAULT_DOMAIN, MANAGED_BY } from '../api/names.js';

const METACONTROLLER_CHART = 'oci://ghcr.io/metacontroller/metacontroller-helm';
const METACONTROLLER_VERSION = '4.17.2';
const DEFAULT_TIMEOUT = '15m';
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const RUNTIMES = ['docker', 'podman', 'nerdctl', 'finch'];

/**
 * The flags of `idpbuilder create`, after parsing: cluster name and recreate, Kubernetes version, extra ports, kind
 * and registry configs, host, ingress host, protocol and port, path routing, packages (`-p`) and customizations
 * (`-c`), dev password, --no-exit, kubeconfig and context, `--timeout` (a Go duration or seconds), the idpbuilder
 * chart and image, gateway and gitops choices, and the air-gap mirrors.
 */
export interface CreateOptions {
  name: string;
  recreate: boolean;
  kubeVersion: string;
  extraPorts?: string;
  kindConfig?: string;
  registryConfig?: string | boolean;
  host: string;
  ingressHostName?: string;
  protocol: string;
  port: number;
  usePathRouting: boolean;
  package: string[];
  packageCustomFile: string[];
  devPassword: boolean;
  /** false with -n/--no-exit. */
  exit: boolean;
  kubeconfig?: string;
  context?: string;
  timeout: string;
  chart: string;
  image?: string;
  /** `--gateway`: nginx (default), envoy or istio. */
  gateway: GatewayChoice;
  /** `--gitops`: argocd (default) or flux. */
  gitops: GitOpsChoice;
  /** `--build-name`: today's deprecated spelling of --name. */
  buildName?: string;
  /** `--registry-mirror`: every image from this registry (docs/airgap.md). */
  registryMirror?: string;
  /** `--chart-mirror`: every chart from this repository (oci://… or https://…). */
  chartMirror?: string;
}

/**
 * The mirror of --registry-mirror and --chart-mirror (both or neither).
 * @throws UserError when only one of the two flags is given, or when either is not a valid mirror (parseRegistry,
 *   parseChartRepository).
 */
export function mirrorOf(o: Pick<CreateOptions, 'registryMirror' | 'chartMirror'>): Mirror | undefined {
  if (!o.registryMirror && !o.chartMirror) return undefined;
  if (!o.registryMirror || !o.chartMirror) throw new UserError('--registry-mirror and --chart-mirror go together (docs/airgap.md)');
  try {
    return { registry: parseRegistry(o.registryMirror), charts: parseChartRepository(o.chartMirror) };
  } catch (e) {
    throw new UserError((e as Error).message);
  }
}

/** helm arguments of the Metacontroller install: its chart and values, from the mirror when given. */
export function metacontrollerArgs(m: Mirror | undefined): string[] {
  if (!m) return [METACONTROLLER_CHART, '--version', METACONTROLLER_VERSION];
  const ref = m.charts.startsWith('oci://') ? [`${m.charts}/metacontroller-helm`] : ['metacontroller-helm', '--repo', m.charts];
  return [...ref, '--version', METACONTROLLER_VERSION, '--set', `image.repository=${m.registry}/ghcr.io/metacontroller/metacontroller`];
}

/** --image, or with a registry mirror the chart's default image under the mirror. */
export function hookImage(o: Pick<CreateOptions, 'image'>, m: Mirror | undefined): string | undefined {
  if (o.image || !m) return o.image;
  return mirrorImage(DEFAULT_SETTINGS.jobImage, m.registry);
}

function parsePort(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > 65535) throw new InvalidArgumentError('must be a port number (1-65535)');
  return n;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** `--image repo[:tag|@digest]` → helm --set flags for the chart's image.* values. */
export function imageSets(image: string | undefined): string[] {
  if (!image) return [];
  const at = image.indexOf('@');
  if (at > 0) return ['--set', `image.repository=${image.slice(0, at)}`, '--set', `image.digest=${image.slice(at + 1)}`];
  const slash = image.lastIndexOf('/');
  const colon = image.lastIndexOf(':');
  if (colon > slash) return ['--set', `image.repository=${image.slice(0, colon)}`, '--set', `image.tag=${image.slice(colon + 1)}`];
  return ['--set', `image.repository=${image}`];
}

function runtimeTool(env: NodeJS.ProcessEnv): string {
  const p = env.KIND_EXPERIMENTAL_PROVIDER;
  return p && RUNTIMES.includes(p) ? p : 'docker';
}

function watchedOf(kind: string, name: string, namespace: string): Watched {
  const def = KIND_BY_NAME.get(kind);
  return { kind, name, namespace, resource: `${def?.plural ?? `${kind.toLowerCase()}s`}.idpbuilder.cnoe.io` };
}

/** The CRDs create waits for: the Platform, the chosen providers, and the package kinds. */
function crdsOf(pc: PlatformConfig): string[] {
  const p = platformProviders(pc);
  return ['Platform', p.git.kind, p.gateway.kind, p.gitops.kind, 'GitRepository', 'Package'].map((k) => `crd/${KIND_BY_NAME.get(k)?.plural ?? k}.idpbuilder.cnoe.io`);
}

/** The Helm release `create` installs the chart as. */
const RELEASE = 'idpbuilder';
/** Every CRD the chart carries (charts/idpbuilder/files/crds/, generated from KINDS). */
export const CHART_CRDS = KINDS.map((k) => `${k.plural}.${GROUP}`);

/**
 * The chart renders the CRDs as release objects (templates/crds.yaml), so `helm upgrade` applies changed
 * schemas. CRDs that exist without Helm's ownership metadata — installed from crds/ by a chart before that
 * change, or with `kubectl apply -f crds/` — would make the upgrade fail ("invalid ownership metadata"):
 * they are labelled and annotated the way Helm adopts existing objects (app.kubernetes.io/managed-by=Helm,
 * meta.helm.sh/release-name, meta.helm.sh/release-namespace); so are this release's CRDs whose label was
 * reset by a `kubectl apply` of crds/. A CRD owned by another release is left as it is (helm then names the
 * conflict). Returns the names adopted.
 */
export async function adoptCrds(kube: Kube, release: string, namespace: string): Promise<string[]> {
  const out = await kube.kubectlOk(['get', 'crd', ...CHART_CRDS, '-o', 'json', '--ignore-not-found'], 'kubectl get the idpbuilder CRDs');
  if (!out.trim()) return [];
  const parsed = JSON.parse(out) as { items?: KubeObject[] } & KubeObject;
  const items = parsed.items ?? (parsed.kind === 'CustomResourceDefinition' ? [parsed] : []);
  const orphans = items
    .filter((c) => {
      const owner = (c.metadata.annotations as Record<string, string> | undefined)?.['meta.helm.sh/release-name'];
      const managedBy = (c.metadata.labels as Record<string, string> | undefined)?.['app.kubernetes.io/managed-by'];
      // no owner, or ours but relabelled (a `kubectl apply -f crds/` resets the label to idpbuilder)
      return !owner || (owner === release && managedBy !== 'Helm');
    })
    .map((c) => c.metadata.name as string);
  if (!orphans.length) return [];
  const crds = orphans.map((n) => `crd/${n}`);
  await kube.kubectlOk(['label', '--overwrite', ...crds, 'app.kubernetes.io/managed-by=Helm'], 'labelling the idpbuilder CRDs for Helm');
  await kube.kubectlOk(['annotate', '--overwrite', ...crds, `meta.helm.sh/release-name=${release}`, `meta.helm.sh/release-namespace=${namespace}`], 'annotating the idpbuilder CRDs for Helm');
  return orphans;
}

/** Validated, normalized options: everything that can be wrong is found before anything is changed. */
interface Plan {
  existing: boolean;
  platform: PlatformConfig;
  kindInput?: KindConfigInput;
  apps: LocalApp[];
  timeoutMs: number;
  tools: string[];
  mirror?: Mirror;
}

function plan(o: CreateOptions, deps: CliDeps, checkouts: ReadonlyMap<string, Checkout>): Plan {
  const existing = Boolean(o.kubeconfig || o.context);
  if (o.protocol !== 'http' && o.protocol !== 'https') throw new UserError(`--protocol must be http or https, not ${o.protocol}`);
  const host = o.host.toLowerCase();
  if (!DNS1123_SUBDOMAIN.test(host)) throw new UserError(`--host ${o.host}: not a valid host name`);
  const ingressHost = (o.ingressHostName || host).toLowerCase();
  if (!DNS1123_SUBDOMAIN.test(ingressHost)) throw new UserError(`--ingress-host-name ${o.ingressHostName}: not a valid host name`);
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(o.name) || o.name.length > 40) throw new UserError(`--name ${o.name}: use lower-case letters, digits and '-' (at most 40)`);
  if (existing) {
    const kindOnly = [
      ['--kind-config', o.kindConfig],
      ['--extra-ports', o.extraPorts],
      ['--registry-config', o.registryConfig],
    ].filter(([, v]) => v !== undefined && v !== false && v !== '');
    if (kindOnly.length) throw new UserError(`${kindOnly.map(([f]) => f).join(', ')} only apply when idpbuilder creates the kind cluster (drop --kubeconfig/--context)`);
  }
  const ms = timeoutMs(o.timeout);
  const data: TemplateData = { host, ingressHost, port: o.port, protocol: o.protocol, usePathRouting: o.usePathRouting, devPassword: o.devPassword };
  const values: Partial<Record<CoreComponent, Record<string, unknown>>> = {};
  for (const spec of o.packageCustomFile) {
    let c;
    try {
      c = parseCustomization(spec);
    } catch (e) {
      throw new UserError((e as Error).message);
    }
    if (c.component === 'nginx' && o.gateway !== 'nginx') throw new UserError(`-c ${spec}: nginx values need --gateway nginx (this platform uses ${o.gateway})`);
    if (c.component === 'argocd' && o.gitops !== 'argocd') throw new UserError(`-c ${spec}: argocd values need --gitops argocd (this platform uses ${o.gitops})`);
    const r = readCustomization(c, data);
    if (r.untranslated.length) {
      throw new UserError(
        `-c ${spec}: ${r.untranslated.join(', ')} cannot be expressed as Helm values of the ${c.component} chart; ` +
          'give Helm values instead (see docs/cli.md, "Customizing the core components")',
      );
    }
    values[c.component] = { ...(values[c.component] ?? {}), ...r.values };
  }
  const platform: PlatformConfig = {
    name: o.name,
    host,
    ingressHost,
    protocol: o.protocol,
    port: o.port,
    usePathRouting: o.usePathRouting,
    devPassword: o.devPassword,
    kind: !existing,
    values,
    gateway: o.gateway,
    gitops: o.gitops,
  };
  if (o.gitops !== 'argocd' && o.package.length) {
    throw new UserError(`-p packages are Argo CD Applications; they need --gitops argocd (this platform uses ${o.gitops}). Deploy through Flux with Package objects instead (docs/providers/package.md)`);
  }
  const mirror = mirrorOf(o);
  validateObjects(platformObjects(platform));
  let kindInput: KindConfigInput | undefined;
  if (!existing) {
    kindInput = {
      name: o.name,
      kubeVersion: o.kubeVersion,
      protocol: o.protocol,
      host,
      ingressHost,
      port: o.port,
      usePathRouting: o.usePathRouting,
      devPassword: o.devPassword,
      extraPorts: parseExtraPorts(o.extraPorts),
      registryConfig: resolveRegistryConfig(o.registryConfig, deps.runner.env),
      ...(o.gateway !== 'nginx' ? { ingressContainerPort: kindIngressContainerPort(platform) } : {}),
    };
  }
  const { apps, warnings } = discoverPackages(o.package, o.name, checkouts);
  for (const w of warnings) deps.err(`warning: ${w}\n`);
  const tools = [...(existing ? [] : ['kind', runtimeTool(deps.runner.env)]), 'kubectl', 'helm', ...(apps.some((a) => a.dirs.some((d) => !d.remote)) ? ['git'] : [])];
  return { existing, platform, kindInput, apps, timeoutMs: ms, tools, mirror };
}

async function runCreate(o: CreateOptions, deps: CliDeps): Promise<number> {
  const say = (s: string) => deps.out(`${s}\n`);
  let p: Plan;
  // remote -p packages: cloned (shallow, temporary) only to find their Applications
  const checkouts = new Map<string, Checkout>();
  try {
    const remotes = o.package.filter(isRemotePackage).map(parseRemotePackage);
    if (remotes.length) {
      const missing = missingTools(deps.runner, ['git'], 'create');
      if (missing) throw new UserError(missing);
    }
    for (const r of remotes) {
      if (checkouts.has(r.raw)) continue;
      say(`Fetching the remote package ${r.raw}`);
      checkouts.set(r.raw, await cloneRemotePackage(deps.runner, r));
    }
    p = plan(o, deps, checkouts);
  } catch (e) {
    deps.err(`error: ${(e as Error).message}\n`);
    return 1;
  } finally {
    for (const c of checkouts.values()) c.cleanup();
  }
  const missing = missingTools(deps.runner, p.tools, 'create');
  if (missing) {
    deps.err(`error: ${missing}\n`);
    return 1;
  }
  try {
    return await create(o, p, deps, say);
  } catch (e) {
    deps.err(`error: ${(e as Error).message}\n`);
    return 1;
  }
}

async function create(o: CreateOptions, p: Plan, deps: CliDeps, say: (s: string) => void): Promise<number> {
  const ns = SYSTEM_NAMESPACE;
  const pc = p.platform;
  let kube: Kube;
  /** The certificate made before a new kind cluster (its CA is mounted into the node). */
  let early: Certificate | undefined;

  // --- the cluster -------------------------------------------------------------------------------
  if (!p.existing) {
    const kind = new Kind(deps.runner, o.name);
    let exists = await kind.exists();
    if (exists && o.recreate) {
      say(`Deleting the existing kind cluster "${o.name}" (--recreate)`);
      await kind.delete();
      exists = false;
    }
    if (!exists) {
      // the node trusts the platform CA for the registry from its first pull: the certificate is made now
      const names = certificateNames(pc.host, pc.ingressHost);
      say(`Generating a self-signed certificate for ${names.join(', ')}`);
      early = await generateCertificate(names, new Date(deps.now()));
      const input = { ...p.kindInput!, registryCertsDir: writeRegistryCertsDir(deps.runner.env, p.kindInput!, early.cert) };
      const config = o.kindConfig ? customKindConfig(await loadKindConfig(o.kindConfig), input) : defaultKindConfig(input);
      deps.out(`${KIND_CONFIG_BANNER}\n${config}\n${KIND_CONFIG_END}\n`);
      say(`Creating kind cluster "${o.name}"`);
      await kind.create(config);
    } else say(`Reusing the existing kind cluster "${o.name}"`);
    const unhealthy = (why: string) =>
      new UserError(`kind cluster "${o.name}" exists but is not healthy (${why}). Delete it with \`idpbuilder delete --name ${o.name}\` or run create with --recreate`);
    try {
      await kind.exportKubeconfig();
    } catch (e) {
      if (exists) throw unhealthy(`kind cannot read its kubeconfig: ${(e as Error).message}`);
      throw e;
    }
    kube = new Kube(deps.runner, { context: kind.context });
    if (exists) {
      const r = await kube.kubectl(['get', '--raw', '/readyz']);
      if (r.code !== 0) throw unhealthy('its API server does not answer /readyz');
    }
  } else {
    kube = new Kube(deps.runner, { kubeconfig: o.kubeconfig, context: o.context });
    const r = await kube.kubectl(['get', '--raw', '/readyz']);
    if (r.code !== 0) throw new UserError(`cannot reach the cluster of ${o.kubeconfig ? `--kubeconfig ${o.kubeconfig}` : 'the current kubeconfig'}${o.context ? ` (context ${o.context})` : ''}: ${r.stderr.trim().split('\n').pop() ?? ''}`);
    say(`Installing into the existing cluster${o.context ? ` (context ${o.context})` : ''}`);
  }

  // --- settings compatibility ----------------------------------------------------------------------
  const wanted = settingsOf(pc);
  const stored = await kube.get('configmap', 'idpbuilder-settings', ns);
  const diff = incompatibilities(stored, wanted);
  if (diff.length) {
    if (!(p.existing && o.recreate)) {
      throw new UserError(
        `the platform in ${p.existing ? 'this cluster' : `kind cluster "${o.name}"`} was created with incompatible settings (${diff.join(', ')}); ` +
          (p.existing ? 'use --recreate to re-apply it with the new settings' : 'use --recreate to delete and recreate the cluster'),
      );
    }
    say(`Re-applying the platform with new settings (--recreate): ${diff.join(', ')}`);
  }
  if (!stored) {
    const legacy = await kube.get('crd', 'localbuilds.idpbuilder.cnoe.io');
    if (legacy) {
      throw new UserError(
        'this cluster was built by an earlier idpbuilder (it has the Localbuild CRD); ' +
          (p.existing ? 'use a fresh cluster, or see `idpbuilder migrate`' : 'use --recreate to start over, or see `idpbuilder migrate`'),
      );
    }
  }

  // --- certificate, settings, ingress Service ---------------------------------------------------------
  const names = certificateNames(pc.host, pc.ingressHost);
  const current = certificateFromSecret(await kube.get('secret', TLS_SECRET, ns));
  const problem = reuseProblem(current, names, new Date(deps.now()));
  let cert: Certificate;
  if (problem && early && !current) cert = early;
  else if (problem) {
    say(`Generating a self-signed certificate for ${names.join(', ')} (${problem})`);
    cert = await generateCertificate(names, new Date(deps.now()));
  } else {
    say(`Reusing the certificate in ${ns}/${TLS_SECRET}`);
    cert = current!;
  }
  // the kind node's containerd trusts the platform CA for the registry (the file is re-read on every pull)
  if (!p.existing && cert !== early) writeRegistryCertsDir(deps.runner.env, p.kindInput!, cert.cert);
  await kube.apply(
    [
      namespaceObject(ns),
      namespaceObject(GATEWAYS[pc.gateway ?? 'nginx'].namespace),
      settingsConfigMap(pc.name, wanted),
      tlsSecret(TLS_SECRET, ns, cert, { ...MANAGED_BY, 'idpbuilder.cnoe.io/cli-platform': pc.name }),
      ingressService(pc),
    ],
    'applying the namespace, settings, certificate and ingress Service',
  );

  // --- CoreDNS -----------------------------------------------------------------------------------------
  const target = `${INGRESS_SERVICE}.${GATEWAYS[pc.gateway ?? 'nginx'].namespace}.svc.cluster.local`;
  const coredns = corednsConfigMap(await kube.get('configmap', 'coredns', 'kube-system'), [pc.host, pc.ingressHost ?? pc.host], target);
  if (coredns) {
    await kube.apply([coredns], 'applying the CoreDNS configuration');
    say(`CoreDNS: ${pc.host} and *.${pc.host} resolve to ${target} inside the cluster`);
  } else deps.err(`warning: kube-system/coredns has no Corefile with a .:53 server block; ${pc.host} will not resolve inside the cluster\n`);

  // --- Metacontroller and the idpbuilder chart ----------------------------------------------------------
  say(`Installing Metacontroller ${METACONTROLLER_VERSION}`);
  await kube.helmOk(['upgrade', '--install', 'metacontroller', ...metacontrollerArgs(p.mirror), '-n', 'metacontroller', '--create-namespace'], 'helm upgrade --install metacontroller');
  say(`Installing the idpbuilder chart from ${o.chart}`);
  const adopted = await adoptCrds(kube, RELEASE, ns);
  if (adopted.length) say(`Handing ${adopted.length} idpbuilder CRD(s) installed outside the release over to it (helm upgrades them from now on)`);
  await kube.helmOk(['upgrade', '--install', RELEASE, o.chart, '-n', ns, '--create-namespace', ...imageSets(hookImage(o, p.mirror))], 'helm upgrade --install idpbuilder');
  await kube.kubectlOk(['wait', '--for', 'condition=established', '--timeout=120s', ...crdsOf(pc)], 'waiting for the idpbuilder CRDs');

  // --- the platform ----------------------------------------------------------------------------------------
  const objects = p.mirror ? airgapOverlay(platformObjects(pc), p.mirror).objects : platformObjects(pc);
  validateObjects(objects);
  await kube.apply(objects, 'applying the providers and the Platform');
  say(`Applied ${objects.map((x) => `${x.kind}/${x.metadata.name}`).join(', ')} in ${ns}`);

  const started = deps.now();
  const deadline = started + p.timeoutMs;
  const waitDeps = { kube, out: say, sleep: deps.sleep, now: deps.now, intervalMs: deps.pollIntervalMs, signal: deps.signal };
  const providers = Object.values(platformProviders(pc)).map((x) => watchedOf(x.kind, x.name, ns));
  const platform = watchedOf('Platform', pc.name, ns);
  say(`Waiting up to ${o.timeout} for Platform ${ns}/${pc.name} to become Ready`);
  const res = await waitReady(waitDeps, [platform], deadline, providers);
  if (!res.ready) return timedOut(deps, o.timeout, label(platform), res.notReady);

  // --- local packages ------------------------------------------------------------------------------------
  let watch: { dir: string; push: () => Promise<void> }[] = [];
  if (p.apps.length) {
    const server = await gitServer(kube, ns, pc.protocol === 'https' ? cert.cert : undefined);
    const ctx: PackageContext = {
      platform: pc.name,
      namespace: ns,
      server,
      gitOpsProviderRef: { kind: PROVIDERS.argocd.kind, name: PROVIDERS.argocd.name, namespace: ns },
      argoNamespace: PROVIDERS.argocd.namespace,
    };
    // local directories are pushed from here (and watched with --no-exit); remote ones the cluster fetches
    watch = p.apps.flatMap((a) =>
      a.dirs
        .filter((d) => !d.remote)
        .map((d) => ({
          dir: d.dir,
          push: async () => {
            const r = await pushDirectory(server, d.repo, d.dir, `idpbuilder local package ${a.appName}`);
            if (!r.changed) return;
            say(`Pushed ${d.dir} to ${server.organization}/${d.repo} (${r.commitSHA.slice(0, 12)})`);
            const failed = await refreshApplication(kube, a, ctx.argoNamespace);
            if (failed) deps.err(`warning: asking Argo CD to refresh Application ${ctx.argoNamespace}/${a.appName} failed: ${failed}\n`);
          },
        })),
    );
    for (const w of watch) await w.push();
    const pkgObjects = packageObjects(p.apps, ctx);
    validateObjects(pkgObjects);
    await kube.apply(pkgObjects, 'applying the local packages');
    say(`Applied ${p.apps.length} local package(s): ${p.apps.map((a) => a.name).join(', ')}`);
    const watched = pkgObjects.filter((x) => x.kind === 'GitRepository' || x.kind === 'Package').map((x) => watchedOf(x.kind, x.metadata.name, ns));
    const r = await waitReady(waitDeps, watched, deadline);
    // The GitRepository's Job has now run once; make sure the content is the local directory's.
    for (const w of watch) await w.push();
    if (!r.ready) return timedOut(deps, o.timeout, 'the local packages', r.notReady);
  }

  finished(deps, pc);
  if (o.exit) return 0;
  return await keepRunning(deps, watch, say);
}

function timedOut(deps: CliDeps, timeout: string, what: string, notReady: string[]): number {
  deps.err(
    `error: ${what} did not become Ready within ${timeout}. Not Ready:\n${notReady.map((n) => `  - ${n}\n`).join('')}` +
      'Look at the controllers with `kubectl -n metacontroller get pods` and `kubectl -n idpbuilder-system get pods,jobs`, ' +
      'or run `idpbuilder get platforms`; run create again to keep waiting.\n',
  );
  return 1;
}

async function gitServer(kube: Kube, ns: string, ca: string | undefined): Promise<GitServer> {
  const gp = await kube.get(`${PROVIDERS.gitea.plural}.idpbuilder.cnoe.io`, PROVIDERS.gitea.name, ns);
  const st = (gp?.status ?? {}) as { endpoint?: string; internalEndpoint?: string; credentialsSecretRef?: { name: string; namespace: string; key: string }; organization?: string };
  if (!st.endpoint || !st.credentialsSecretRef) throw new UserError(`GiteaProvider ${ns}/${PROVIDERS.gitea.name} reports no endpoint or credentialsSecretRef`);
  const ref = st.credentialsSecretRef;
  const data = decodeData(await kube.get('secret', ref.name, ref.namespace));
  const token = data[ref.key];
  if (!token) throw new UserError(`the git credentials Secret ${ref.namespace}/${ref.name} has no key ${ref.key}`);
  return {
    endpoint: st.endpoint,
    ...(st.internalEndpoint ? { internalEndpoint: st.internalEndpoint } : {}),
    organization: st.organization ?? 'idpbuilder',
    token,
    ...(data.username ? { username: data.username } : {}),
    ...(ca ? { ca } : {}),
    ref: { kind: PROVIDERS.gitea.kind, name: PROVIDERS.gitea.name, namespace: ns },
  };
}

function finished(deps: CliDeps, pc: PlatformConfig): void {
  const codespaces = Boolean(deps.runner.env.CODESPACES);
  const argo = codespaces ? `https://${pc.host}/argocd` : componentURL(pc, 'argocd');
  const gitea = codespaces ? `https://${pc.host}/gitea` : componentURL(pc, 'gitea');
  const argoLines = (pc.gitops ?? 'argocd') === 'argocd' ? `Can Access ArgoCD at ${argo}\nUsername: admin\nPassword can be retrieved by running: idpbuilder get secrets -p argocd\n\n` : '';
  // Flux's web UI always has a host of its own (it cannot serve under a path): not reachable through Codespaces' single host
  const fluxLines =
    pc.gitops === 'flux' && !codespaces
      ? `Can Access the Flux UI at ${componentURL({ ...pc, usePathRouting: false }, 'flux')} (read-only, no login)\nAn admin token can be retrieved by running: idpbuilder get secrets -p flux\n\n`
      : '';
  deps.out(
    '\n########################### Finished Creating IDP Successfully! ############################\n\n\n' +
      argoLines +
      fluxLines +
      `Can Access Gitea at ${gitea}\nUsername: ${GITEA_ADMIN}\nPassword can be retrieved by running: idpbuilder get secrets -p gitea\n`,
  );
}

async function keepRunning(deps: CliDeps, watch: { dir: string; push: () => Promise<void> }[], say: (s: string) => void): Promise<number> {
  let signal = deps.signal;
  let cleanup = () => undefined as void;
  if (!signal) {
    const ac = new AbortController();
    const stop = () => ac.abort();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    cleanup = () => {
      process.removeListener('SIGINT', stop);
      process.removeListener('SIGTERM', stop);
    };
    signal = ac.signal;
  }
  say(
    watch.length
      ? `Watching ${watch.length} local package director${watch.length === 1 ? 'y' : 'ies'} for changes (Ctrl-C to stop)`
      : 'Running until interrupted (Ctrl-C to stop); no local packages to watch',
  );
  try {
    await watchDirectories(watch, { intervalMs: deps.watchIntervalMs, signal, onError: (dir, e) => deps.err(`warning: pushing ${dir} failed: ${(e as Error).message}\n`) });
  } finally {
    cleanup();
  }
  return 0;
}

/** Adds the `create` subcommand to `parent` (so it inherits its output and exit settings). */
export function createCommand(parent: Command, io: { out: (s: string) => void; err: (s: string) => void }, overrides: Partial<CliDeps> = {}): Command {
  return parent
    .command('create')
    .description(
      'Create an internal developer platform: a kind cluster (or an existing one with --kubeconfig/--context), Metacontroller, ' +
        'the idpbuilder controllers, and Gitea + ingress-nginx + Argo CD as custom resources; waits until the Platform is Ready.',
    )
    .option('--name <name>', 'name of the kind cluster and of the Platform', 'localdev')
    .addOption(new Option('--build-name <name>', 'deprecated: use --name').hideHelp())
    .option('--recreate', 'delete the kind cluster first if it exists (with --kubeconfig: re-apply with changed settings)', false)
    .option('--kube-version <version>', 'Kubernetes version of the kind node image (kindest/node:<version>)', 'v1.33.1')
    .option('--extra-ports <host:container,...>', 'extra ports to map from the host to the kind node')
    .option('--kind-config <path|url>', 'kind config to use instead of the generated one (patched to map --port and label the ingress node)')
    .option('--registry-config [paths]', 'registry auth file to mount into the node: the first of the comma-separated paths that exists (no value: $XDG_RUNTIME_DIR/containers/auth.json,$HOME/.docker/config.json)')
    .option('--host <host>', 'host name the UIs are reached under', DEFAULT_DOMAIN)
    .option('--ingress-host-name <host>', 'host name the ingresses answer to (default: --host); for a proxy in front of the ingress')
    .addOption(new Option('--protocol <protocol>', 'protocol of the UIs').choices(['https', 'http']).default('https'))
    .option('--port <port>', 'port the UIs are reached on', parsePort, 8443)
    .option('--use-path-routing', 'serve every UI under one host name (https://<host>:<port>/argocd) instead of one host per UI', false)
    .option('-p, --package <dir|file|url>', 'package: a directory (or file) with Argo CD Applications using cnoe:// paths, or a remote one (https://host/org/repo//dir?ref=R, git@host:org/repo//dir) (repeatable; a later one wins)', collect, [] as string[])
    .option('-c, --package-custom-file <name:path>', 'Helm values (or argocd-cm/ingress-nginx ConfigMaps) for a core component: argocd, gitea or nginx (repeatable)', collect, [] as string[])
    .option('--dev-password', 'set the admin password of Argo CD and Gitea to "developer" (and bind the port to 127.0.0.1)', false)
    .option('-n, --no-exit', 'keep running after the platform is Ready and push changes of the local packages')
    .option('--kubeconfig <path>', 'install into the cluster of this kubeconfig instead of creating a kind cluster')
    .option('--context <name>', 'kubeconfig context to install into (implies an existing cluster)')
    .option('--timeout <duration>', 'how long to wait for the Platform to become Ready', DEFAULT_TIMEOUT)
    .addOption(new Option('--chart <path|oci-ref>', 'the idpbuilder Helm chart').default(DEFAULT_CHART, 'charts/idpbuilder of this installation'))
    .option('--image <ref>', 'image of the idpbuilder hook service and Jobs (repository[:tag|@digest]); default: the chart\'s')
    .option('--registry-mirror <host[/path]>', 'pull every image from this registry mirror (<mirror>/<upstream host>/<path>; docs/airgap.md); needs --chart-mirror')
    .option('--chart-mirror <url>', 'install every chart from this repository (oci://host/path or https://host/path); needs --registry-mirror')
    .addOption(new Option('--gateway <gateway>', 'gateway the UIs are routed through').choices(Object.keys(GATEWAYS)).default('nginx'))
    .addOption(new Option('--gitops <provider>', 'GitOps provider of the platform (flux: no -p packages; the Flux web UI instead of Argo CD)').choices(Object.keys(GITOPS)).default('argocd'))
    .action(async (opts: CreateOptions, command: Command) => {
      const deps = { ...defaultDeps(io), ...overrides };
      if (opts.buildName !== undefined) {
        // Today's cobra MarkDeprecated message; --name, when also given, wins.
        deps.err('Flag --build-name has been deprecated, use --name instead.\n');
        if (command.getOptionValueSource('name') === 'default') opts.name = opts.buildName;
      }
      process.exitCode = await runCreate({ ...opts, chart: resolveChart(opts.chart) }, deps);
    });
}

/** A chart path that exists is made absolute; anything else (oci://…, repo/chart) goes to helm as given. */
function resolveChart(chart: string): string {
  return existsSync(chart) ? resolve(chart) : chart;
}
