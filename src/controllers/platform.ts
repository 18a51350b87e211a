/**
 * Platform: wires providers together and hands the platform to GitOps.
 *
 * - Inline components (components.gitea / nginx / argocd) become provider objects the Platform owns,
 *   routed through the platform's gateway under its domain.
 * - Referenced providers are read through their duck-typed status only (related objects).
 * - Once every provider is Ready, the Platform creates the bootstrap GitRepositories and, through the
 *   GitOps provider, Packages (which make the Argo CD Applications) that point at their cloneURL. By
 *   default there is one bootstrap repository per Helm-installed component, holding that component in
 *   GitOps form: an umbrella chart of the chart, version and values its provider computed.
 *
 * Who owns a component after the hand-off is written down in docs/decisions.md.
 */
import { clusterRefOf } from '../kit/cluster.js';
import type { ClusterRef } from '../api/common.js';
import { stringify } from 'yaml';
import type { PlatformSpec, PlatformStatus, InlineComponent } from '../api/platform.js';
import type { ObjectRef } from '../api/common.js';
import { API_VERSION } from '../api/common.js';
import type { CustomizeRequest, CustomizeResponse, KubeObject, RelatedResourceRule, SyncRequest } from '../metacontroller/protocol.js';
import type { HookEnv, Hooks } from '../kit/hooks.js';
import { conditionSet, markBlocked, markFailed, markProgressing, markReady, readParent, writeStatus, type Marks, type ParentView } from '../kit/status.js';
import { chartLocation, mergeValues, type ReleaseSummary } from '../kit/helm.js';
import { ownerLabels } from '../kit/labels.js';
import { childName } from '../kit/names.js';
import { allObservedChildren, asDesired, observedChildren, relatedObject } from '../kit/observed.js';
import { readiness, refApiVersion, refRules, resolveRef, type Readiness, type Refusal } from '../kit/refs.js';
import { childKey, contract, type SyncAnswer } from '../kit/contract.js';
import { DEFAULT_DOMAIN } from '../api/names.js';

type Group = 'gitProviders' | 'gateways' | 'gitOpsProviders';
const INLINE: Record<'gitea' | 'nginx' | 'argocd', { kind: string; group: Group }> = {
  nginx: { kind: 'NginxGateway', group: 'gateways' },
  gitea: { kind: 'GiteaProvider', group: 'gitProviders' },
  argocd: { kind: 'ArgoCDProvider', group: 'gitOpsProviders' },
};
const GATEWAY_SHORT: Record<string, string> = { nginx: 'NginxGateway', envoy: 'EnvoyGateway', istio: 'IstioGateway' };

interface Member {
  group: Group;
  /** Set for a reference to another API group's kind (refs.ts `refApiVersion`); ours otherwise. */
  apiVersion?: string;
  kind: string;
  name: string;
  namespace: string;
  inline: boolean;
  /** The plural of another group's kind, when the reference names it. */
  resource?: string;
  object?: KubeObject;
  /** Why a reference was not followed (another namespace without a ReferenceGrant). */
  refusal?: Refusal;
}

/** A reference to a member as bootstrap children write it (apiVersion and resource only for another group's kind). */
function memberRef(m: Member): Record<string, string> {
  return { ...(m.apiVersion ? { apiVersion: m.apiVersion } : {}), kind: m.kind, name: m.name, namespace: m.namespace, ...(m.resource ? { resource: m.resource } : {}) };
}

function specOf(parent: KubeObject): PlatformSpec {
  return (parent.spec ?? {}) as PlatformSpec;
}

function enabled(c: InlineComponent | undefined): c is InlineComponent {
  return !!c && (c.enabled ?? true);
}

function inlineName(parent: KubeObject, component: string): string {
  return childName([parent.metadata.name, component]);
}

/** Referenced and inline providers, in spec order (inline ones after the references of their group). */
function members(req: { parent: KubeObject; children?: SyncRequest['children'] }, withObjects: boolean): Member[] {
  const parent = req.parent;
  const spec = specOf(parent);
  const ns = parent.metadata.namespace ?? 'default';
  const out: Member[] = [];
  for (const group of ['gitProviders', 'gateways', 'gitOpsProviders'] as const) {
    for (const ref of spec.components?.[group] ?? []) {
      const found = withObjects ? resolveRef(req, ref) : {};
      out.push({ group, ...(refApiVersion(ref) !== API_VERSION ? { apiVersion: ref.apiVersion, ...(ref.resource ? { resource: ref.resource } : {}) } : {}), kind: ref.kind, name: ref.name, namespace: ref.namespace ?? ns, inline: false, object: found.object, ...(found.refusal ? { refusal: found.refusal } : {}) });
    }
    for (const [component, def] of Object.entries(INLINE)) {
      if (def.group !== group || !enabled(spec.components?.[component as keyof typeof INLINE])) continue;
      const name = inlineName(parent, component);
      const object = withObjects ? observedChildren(req as SyncRequest, def.kind, API_VERSION).find((o) => o.metadata.name === name) : undefined;
      out.push({ group, kind: def.kind, name, namespace: ns, inline: true, object });
    }
  }
  return out;
}

/** The gateway UIs are routed through: ingressConfig.provider names one (by name or kind short name), else the first. */
function routingGateway(spec: PlatformSpec, all: Member[]): Member | undefined {
  const gateways = all.filter((m) => m.group === 'gateways');
  const wanted = spec.ingressConfig?.provider;
  if (wanted) {
    const byName = gateways.find((g) => g.name === wanted);
    if (byName) return byName;
    const byKind = gateways.find((g) => g.kind === GATEWAY_SHORT[wanted]);
    if (byKind) return byKind;
  }
  return gateways[0];
}

function inlineChildren(parent: KubeObject, spec: PlatformSpec, all: Member[]): KubeObject[] {
  const ns = parent.metadata.namespace ?? 'default';
  const gw = routingGateway(spec, all);
  const ic = spec.ingressConfig ?? {};
  const routing: Record<string, unknown> = {
    domain: spec.domain ?? DEFAULT_DOMAIN,
    usePathRouting: ic.usePathRouting ?? false,
    protocol: ic.protocol ?? 'https',
    ...(ic.port ? { port: ic.port } : {}),
    ...(gw ? { gatewayRef: { kind: gw.kind, name: gw.name, namespace: gw.namespace } } : {}),
  };
  const out: KubeObject[] = [];
  for (const [component, def] of Object.entries(INLINE)) {
    const c = spec.components?.[component as keyof typeof INLINE];
    if (!enabled(c)) continue;
    const s: Record<string, unknown> = {};
    if (c.namespace) s.namespace = c.namespace;
    if (c.version) s.version = c.version;
    if (c.helmChart) s.installMethod = { type: 'Helm', helm: c.helmChart };
    if (c.values) s.values = c.values;
    if (c.deletionPolicy) s.deletionPolicy = c.deletionPolicy;
    // a Secret reference resolves in the object's own namespace: the inline gateway (same namespace) gets the name only
    if (component === 'nginx' && ic.tlsSecretRef) s.defaultTLS = { secretRef: { name: ic.tlsSecretRef.name } };
    if (component !== 'nginx') s.routing = routing;
    if (component === 'gitea') s.adminUser = { autoGenerate: true };
    if (component === 'argocd') s.adminCredentials = { autoGenerate: true };
    // clusterRef (docs/multi-cluster.md): nginx goes to the target (it routes what the Packages deploy there);
    // Argo CD stays beside the controllers (it must see the Applications beside the Packages) and registers the
    // target, and so does Gitea, which Argo CD clones from and the bootstrap and sync Jobs call by its Service.
    if (spec.clusterRef && component !== 'argocd' && component !== 'gitea') s.clusterRef = spec.clusterRef;
    if (spec.clusterRef && component === 'argocd') s.clusters = [spec.clusterRef];
    // Argo CD reads private repositories of the referenced git providers with their repository credentials
    // (the inline Gitea publishes none: its bootstrap repositories are public)
    const gitRefs = component === 'argocd' ? all.filter((m) => m.group === 'gitProviders' && !m.inline) : [];
    if (gitRefs.length) s.repositoryCredentials = gitRefs.map((m) => ({ gitServerRef: { kind: m.kind, name: m.name, ...(m.namespace !== ns ? { namespace: m.namespace } : {}) } }));
    out.push({ apiVersion: API_VERSION, kind: def.kind, metadata: { name: inlineName(parent, component), namespace: ns, labels: ownerLabels(parent) }, spec: s } as KubeObject);
  }
  return out;
}

function customize(req: CustomizeRequest): CustomizeResponse {
  const spec = specOf(req.parent);
  const refs: ObjectRef[] = [...(spec.components?.gitProviders ?? []), ...(spec.components?.gateways ?? []), ...(spec.components?.gitOpsProviders ?? [])];
  const namespaces = new Set<string>([req.parent.metadata.namespace ?? 'default', ...refs.map((r) => r.namespace ?? req.parent.metadata.namespace ?? 'default')]);
  const rules: RelatedResourceRule[] = [
    ...refRules(refs, req.parent),
    // providers' values ConfigMaps: the content of the default bootstrap repositories
    ...[...namespaces].sort().map((namespace) => ({ apiVersion: 'v1', resource: 'configmaps', namespace, labelSelector: { matchLabels: { 'idpbuilder.cnoe.io/helm-values': 'true' } } })),
  ];
  return { relatedResources: rules };
}

interface BootstrapRepo {
  name: string;
  /** GitRepository sources. */
  sources: Record<string, unknown>[];
  /** One Package per path in the repository. */
  packages: { name: string; path: string; namespace?: string; releaseName?: string; autoSync: boolean; clusterRef?: ClusterRef }[];
}

/**
 * gitOpsFiles is pure and its YAML rendering is the costliest step of a Platform sync; Metacontroller
 * asks again and again with the same input, so answers are remembered (bounded, keyed by the input).
 */
const gitOpsCache = new Map<string, { releasesJson: string; manifests: string | undefined; releases: ReleaseSummary[]; files: Record<string, string> }>();
const GITOPS_CACHE_SIZE = 256;

/**
 * Keyed by the ConfigMap's own text (`releases.json` as written, the manifests) rather than a canonical
 * hash of the parsed releases: the text determines the releases, and comparing it costs nothing next to
 * sorting and serializing the values again on every sync. The parsed releases are kept with the files
 * (callers only read them); undefined when the text is not JSON or not a list (not written by us).
 * One entry per member (kind, namespace, name), holding the texts it was made from: a hit compares them
 * (a string comparison), where a key serializing both texts cost a copy of them on every sync (issue 15).
 */
function cachedGitOpsFiles(m: Member, releasesJson: string, manifests: string | undefined): { releases: ReleaseSummary[]; files: Record<string, string> } | undefined {
  const key = `${m.kind}\u0000${m.namespace}\u0000${m.name}`;
  const hit = gitOpsCache.get(key);
  if (hit && hit.releasesJson === releasesJson && hit.manifests === manifests) return hit; // the text parsed before: the same releases (read only) and files
  let releases: ReleaseSummary[];
  try {
    releases = JSON.parse(releasesJson) as ReleaseSummary[];
  } catch {
    return undefined; // not written by us: no GitOps copy of this component
  }
  if (!Array.isArray(releases)) return undefined;
  const entry = { releasesJson, manifests, releases, files: gitOpsFiles(m, releases, manifests) };
  gitOpsCache.delete(key);
  if (gitOpsCache.size >= GITOPS_CACHE_SIZE) gitOpsCache.delete(gitOpsCache.keys().next().value as string);
  gitOpsCache.set(key, entry);
  return entry;
}

/** Where an umbrella chart keeps the objects the install Job applies after its releases (rendered verbatim). */
export const EXTRA_MANIFESTS = 'files/extra-manifests.yaml';

/**
 * A component's releases in GitOps form: one umbrella chart per release, `<release>/Chart.yaml` with the one
 * dependency (chartLocation: the same chart the install Job pulls, HTTP or OCI) and `<release>/values.yaml` =
 * `{<chart>: values ⊕ gitOpsValues}`; the last release also renders the extra manifests (EXTRA_MANIFESTS).
 * Argo CD renders it with the release name and namespace of the install (Package `argocd.releaseName`,
 * destination namespace), so it adopts the running release's objects.
 */
export function gitOpsFiles(m: Pick<Member, 'kind' | 'namespace' | 'name'>, releases: ReleaseSummary[], manifests: string | undefined): Record<string, string> {
  const files: Record<string, string> = {};
  const lines = [`# ${m.kind} ${m.namespace}/${m.name}`, '', 'Written by idpbuilder from what the provider installed. Argo CD keeps the component in sync with this', 'repository: edit `values.yaml` or the chart version in `Chart.yaml` to change it (other objects: `files/extra-manifests.yaml`).', 'Secret values (admin passwords) are not stored here; the install Job set them.', ''];
  releases.forEach((r, i) => {
    const dir = r.name;
    const dep = chartLocation(r).dependency;
    files[`${dir}/Chart.yaml`] = stringify({
      apiVersion: 'v2',
      name: r.name,
      description: `${r.chart} for ${m.kind} ${m.name}, managed by idpbuilder`,
      type: 'application',
      version: '0.1.0',
      dependencies: [{ name: dep.name, version: r.version ?? '*', repository: dep.repository }],
    });
    files[`${dir}/values.yaml`] = stringify({ [r.chart]: mergeValues(r.values, r.gitOpsValues) }, { aliasDuplicateObjects: false, lineWidth: 0 });
    if (manifests && i === releases.length - 1) {
      // kept verbatim: a file under templates/ would be read as a Go template (any `{{` in a value would change it)
      files[`${dir}/${EXTRA_MANIFESTS}`] = manifests;
      files[`${dir}/templates/extra-manifests.yaml`] = `{{ .Files.Get ${JSON.stringify(EXTRA_MANIFESTS)} }}\n`;
    }
    lines.push(`- \`${dir}/\`: release ${r.name} of ${r.chart}${r.version ? ` ${r.version}` : ''} into namespace ${r.namespace}`);
  });
  files['README.md'] = `${lines.join('\n')}\n`;
  return files;
}

/**
 * The bootstrap repositories the Platform wants, and what it could not read to decide them (`unknown`:
 * a provider reports an install but its values ConfigMap is not observed, e.g. the cache lags). While
 * anything is unknown the answer keeps what is observed and the Platform is not Ready.
 */
function bootstrapRepos(req: SyncRequest, spec: PlatformSpec, all: Member[]): { repos: BootstrapRepo[]; unknown: string[] } {
  const parent = req.parent;
  const unknown: string[] = [];
  if (spec.bootstrap?.repositories?.length) {
    const repos = spec.bootstrap.repositories.map((r) => ({
      name: childName([parent.metadata.name, r.name]),
      sources: [{ type: 'Embedded', path: r.path, targetPath: '.' }],
      packages: [{ name: childName([parent.metadata.name, r.name]), path: '.', autoSync: r.autoSync ?? true, ...(spec.clusterRef ? { clusterRef: spec.clusterRef } : {}) }],
    }));
    return { repos, unknown };
  }
  const installed: { m: Member; releases: ReleaseSummary[]; files: Record<string, string>; component: string }[] = [];
  for (const m of all) {
    const st = (m.object?.status ?? {}) as { installed?: boolean; installation?: { configMap?: string } };
    const installation = st.installation;
    if (!installation?.configMap) {
      if (st.installed === true) unknown.push(`${m.kind}/${m.name} reports an install but no installation.configMap`);
      continue;
    }
    const cm = relatedObject(req, 'ConfigMap', 'v1', m.namespace, installation.configMap);
    if (!cm) {
      unknown.push(`ConfigMap ${m.namespace}/${installation.configMap} of ${m.kind}/${m.name} (not observed yet)`);
      continue;
    }
    const data = (cm.data ?? {}) as Record<string, string>;
    if (!data['releases.json']) continue;
    const component = m.name.startsWith(`${parent.metadata.name}-`) ? m.name.slice(parent.metadata.name.length + 1) : m.name;
    // parsed and rendered once per text (not JSON or not a list: not written by us, no GitOps copy)
    const gitOps = cachedGitOpsFiles(m, data['releases.json'], data['manifests.yaml']);
    if (!gitOps) continue;
    installed.push({ m, releases: gitOps.releases, files: gitOps.files, component });
  }
  // providers of different kinds may share a name: their repositories then carry the kind too
  const count = new Map<string, number>();
  for (const i of installed) count.set(i.component, (count.get(i.component) ?? 0) + 1);
  const out: BootstrapRepo[] = [];
  for (const { m, releases, files, component } of installed) {
    const name = (count.get(component) ?? 0) > 1 ? childName([parent.metadata.name, m.kind.toLowerCase(), component]) : childName([parent.metadata.name, component]);
    out.push({
      name,
      sources: [{ type: 'Inline', files, targetPath: '.' }],
      // deployed where the provider installed it (its spec.clusterRef; none: beside the controllers)
      packages: releases.map((r) => ({ name: releases.length === 1 ? name : childName([name, r.name]), path: r.name, namespace: r.namespace, releaseName: r.name, autoSync: true, ...(m.object && clusterRefOf(m.object) ? { clusterRef: clusterRefOf(m.object) } : {}) })),
    });
  }
  return { repos: out, unknown };
}

/** The conditions of a Platform: the standard three (src/kit/status.ts). */
export const PLATFORM_CONDITIONS = conditionSet('Platform');

type MemberState = { m: Member; r: Readiness };

/** observe: every member's readiness (a member not observed: refused, being created or not found). */
function observeMembers(all: Member[]): MemberState[] {
  return all.map((m) => ({ m, r: m.object ? readiness(m.object) : ({ ready: false, message: m.refusal?.message ?? (m.inline ? 'being created' : 'not found') } as Readiness) }));
}

/** status.providers: each member's readiness, by group. */
function providersStatus(states: MemberState[]): Record<Group, Record<string, unknown>[]> {
  const entry = ({ m, r }: MemberState) => ({
    name: m.name,
    ...(m.apiVersion ? { apiVersion: m.apiVersion } : {}),
    kind: m.kind,
    namespace: m.namespace,
    ready: r.ready,
    ...(r.phase ? { phase: r.phase } : {}),
    ...(r.observedGeneration !== undefined ? { observedGeneration: r.observedGeneration } : {}),
    ...(!r.ready && r.message ? { message: r.message } : {}),
  });
  return {
    gitProviders: states.filter((s) => s.m.group === 'gitProviders').map(entry),
    gateways: states.filter((s) => s.m.group === 'gateways').map(entry),
    gitOpsProviders: states.filter((s) => s.m.group === 'gitOpsProviders').map(entry),
  };
}

/** desired: inline components the spec no longer enables: their provider objects may go (the spec says so). */
function releasedInline(req: SyncRequest, children: KubeObject[]): string[] {
  const parent = req.parent;
  const released: string[] = [];
  const inlineNames = new Set(children.map(childKey));
  for (const [component, def] of Object.entries(INLINE)) {
    const key = `${def.kind}/${inlineName(parent, component)}`;
    if (!inlineNames.has(key) && observedChildren(req, def.kind, API_VERSION).some((o) => o.metadata.name === inlineName(parent, component))) released.push(key);
  }
  return released;
}

/** The bootstrap objects the Platform wants, and what its status says of them. */
interface Bootstrap {
  children: KubeObject[];
  /** Observed bootstrap objects no longer wanted (only when everything was known). */
  released: string[];
  repositories: { name: string; ready: boolean; cloneURL?: string; application?: string }[];
  /** What the bootstrap waits for (objects not Ready, inputs not observed). */
  pending: string[];
  /** A bootstrap reference that names no member: nothing new is written and the contract keeps what exists. */
  problem?: string;
}

/**
 * desired, once every provider is Ready: the bootstrap GitRepositories and their Packages, through the git
 * server and GitOps provider the spec names (name, and kind and namespace when given); else the first git
 * provider and the first ArgoCDProvider (the default repositories hold Helm charts), or the first GitOps
 * provider of any kind.
 */
function bootstrapChildren(req: SyncRequest, view: ParentView<PlatformSpec, PlatformStatus>, all: Member[], emittedBefore: KubeObject[]): Bootstrap {
  const { parent, spec, namespace: ns } = view;
  const out: Bootstrap = { children: [], released: [], repositories: [], pending: [] };
  const gitServers = all.filter((m) => m.group === 'gitProviders');
  const wantServer = spec.bootstrap?.gitServerRef;
  const named = (want: { name: string; kind?: string; namespace?: string }) => (g: Member) =>
    g.name === want.name && (!want.kind || g.kind === want.kind) && (want.namespace ?? ns) === g.namespace;
  const server = wantServer ? gitServers.find(named(wantServer)) : gitServers[0];
  const gitOps = all.filter((m) => m.group === 'gitOpsProviders');
  const wantOps = spec.bootstrap?.gitOpsProviderRef;
  const ops = wantOps ? gitOps.find(named(wantOps)) : (gitOps.find((g) => g.kind === 'ArgoCDProvider') ?? gitOps[0]);
  if (wantServer && !server) return { ...out, problem: `bootstrap.gitServerRef ${wantServer.name} is not one of the platform's git providers` };
  if (wantOps && !ops) return { ...out, problem: `bootstrap.gitOpsProviderRef ${wantOps.name} is not one of the platform's GitOps providers` };
  if (!server || !ops) return out;
  const wanted = bootstrapRepos(req, spec, all);
  // listed once for every repository and Package below (each listing sorts the observed keys)
  const observedRepos = observedChildren(req, 'GitRepository', API_VERSION);
  const observedPackages = observedChildren(req, 'Package', API_VERSION);
  for (const repo of wanted.repos) {
    out.children.push({
      apiVersion: API_VERSION,
      kind: 'GitRepository',
      metadata: { name: repo.name, namespace: ns, labels: ownerLabels(parent, 'bootstrap') },
      spec: {
        gitServerRef: memberRef(server),
        ...(spec.bootstrap?.organization ? { organization: spec.bootstrap.organization } : {}),
        description: `idpbuilder bootstrap repository of platform ${parent.metadata.name}`,
        private: false,
        sources: repo.sources,
        // Git is the source of truth after the hand-off: the repository is written when its content changes, not on a timer.
        sync: { autoSync: false },
      },
    } as KubeObject);
    const observedRepo = observedRepos.find((o) => o.metadata.name === repo.name);
    const repoReady = readiness(observedRepo);
    for (const p of repo.packages) {
      out.children.push({
        apiVersion: API_VERSION,
        kind: 'Package',
        metadata: { name: p.name, namespace: ns, labels: ownerLabels(parent, 'bootstrap') },
        spec: {
          source: { gitRepository: { name: repo.name, path: p.path } },
          gitOpsProviderRef: memberRef(ops),
          ...(p.clusterRef ? { clusterRef: p.clusterRef } : {}),
          argocd: {
            project: 'default',
            // deleting the platform must not make Argo CD delete itself and the git server under it
            cascadeDelete: false,
            ...(p.releaseName ? { releaseName: p.releaseName } : {}),
            destination: { ...(p.clusterRef ? {} : { server: 'https://kubernetes.default.svc' }), ...(p.namespace ? { namespace: p.namespace } : {}) },
            syncPolicy: { ...(p.autoSync ? { automated: { prune: false, selfHeal: true } } : {}), syncOptions: ['CreateNamespace=true', 'ServerSideApply=true'] },
          },
        },
      } as KubeObject);
      const pkg = observedPackages.find((o) => o.metadata.name === p.name);
      const pr = readiness(pkg);
      out.repositories.push({
        name: p.name,
        ready: repoReady.ready && pr.ready,
        ...((observedRepo?.status as { cloneURL?: string } | undefined)?.cloneURL ? { cloneURL: (observedRepo!.status as { cloneURL: string }).cloneURL } : {}),
        application: `${ns}/${p.name}`,
      });
      if (!repoReady.ready) out.pending.push(`GitRepository ${repo.name} (${repoReady.message})`);
      else if (!pr.ready) out.pending.push(`Package ${p.name} (${pr.message})`);
    }
  }
  out.pending = [...new Set([...out.pending, ...wanted.unknown])];
  // Everything was known: observed bootstrap objects the Platform no longer wants may go.
  if (!wanted.unknown.length) {
    const emitted = new Set([...emittedBefore, ...out.children].map(childKey));
    for (const k of ['GitRepository', 'Package']) for (const o of observedChildren(req, k, API_VERSION)) if (!emitted.has(childKey(o))) out.released.push(childKey(o));
  }
  return out;
}

/**
 * decide: a referenced member missing (not found, or refused) or failed, or a bootstrap problem, is Degraded
 * (Degraded=True); members or bootstrap objects not Ready yet are Progressing; else Ready.
 */
function decidePlatform(states: MemberState[], bootstrap: Bootstrap | undefined): { phase: 'Progressing' | 'Ready' | 'Degraded'; marks: Marks } {
  const missing = states.filter((s) => !s.m.inline && !s.m.object);
  const failed = states.filter((s) => s.r.phase === 'Failed');
  const waiting = states.filter((s) => !s.r.ready);
  const list = (xs: MemberState[]) => xs.map((s) => `${s.m.kind}/${s.m.name}`).join(', ');
  if (missing.length) {
    const refused = missing.filter((s) => s.m.refusal);
    const notFound = missing.filter((s) => !s.m.refusal);
    const msg = [...refused.map((s) => s.m.refusal!.message), ...(notFound.length ? [`provider not found: ${list(notFound)}`] : [])].join('; ');
    return { phase: 'Degraded', marks: markFailed(refused[0]?.m.refusal?.reason ?? 'ProviderNotFound', msg) };
  }
  if (failed.length || bootstrap?.problem) {
    const msg = bootstrap?.problem ?? `provider failed: ${failed.map((s) => `${s.m.kind}/${s.m.name}: ${s.r.message}`).join('; ')}`;
    return { phase: 'Degraded', marks: markFailed(bootstrap?.problem ? 'InvalidBootstrap' : 'ProviderFailed', msg) };
  }
  if (waiting.length) return { phase: 'Progressing', marks: markProgressing('WaitingForProviders', `waiting for providers: ${list(waiting)}`) };
  if (bootstrap?.pending.length) return { phase: 'Progressing', marks: markProgressing('Bootstrapping', `bootstrapping: waiting for ${bootstrap.pending.join(', ')}`) };
  return { phase: 'Ready', marks: markReady('AllComponentsReady', 'All platform components are operational') };
}

/**
 * sync: observe (members and their readiness) → decide → desired (inline providers; the bootstrap objects once
 * every provider is Ready: until then the contract keeps what exists and nothing bootstrap is released).
 */
function sync(req: SyncRequest, env: HookEnv): SyncAnswer {
  const view = readParent<PlatformSpec, PlatformStatus>(req);
  const all = members(req, true);
  const states = observeMembers(all);
  const children = inlineChildren(view.parent, view.spec, all);
  const released = releasedInline(req, children);
  const bootstrap = states.every((s) => s.r.ready) ? bootstrapChildren(req, view, all, children) : undefined;
  if (bootstrap) {
    children.push(...bootstrap.children);
    released.push(...bootstrap.released);
  }
  const fields: Record<string, unknown> = { providers: providersStatus(states) };
  if (bootstrap?.repositories.length) fields.bootstrap = { repositories: bootstrap.repositories };
  const clusters = clusterInventory(all, observedChildren(req, 'Package', API_VERSION));
  if (clusters.length) fields.clusters = clusters;
  // phase and conditions first, as the Platform has always written them
  const { phase, conditions, ...rest } = writeStatus(PLATFORM_CONDITIONS, view.parent, env, decidePlatform(states, bootstrap), fields);
  return { status: { phase, conditions, ...rest }, children, released };
}

/**
 * status.clusters: every cluster the platform's providers and bootstrap Packages point at (their duck-typed
 * status.cluster; none: `in-cluster`, the management cluster), with whether each could reach it and what runs
 * there. Members not observed yet are left out (they say nothing yet); sorted by name, members sorted.
 */
export function clusterInventory(all: Member[], packages: KubeObject[]): Record<string, unknown>[] {
  type Entry = { name: string; kind: string; ref?: string; server?: string; reachable: boolean; members: string[] };
  const byName = new Map<string, Entry>();
  const add = (o: KubeObject) => {
    const c = (o.status as { cluster?: { kind?: string; name?: string; server?: string; registeredName?: string; reachable?: boolean } } | undefined)?.cluster;
    const name = c?.registeredName ?? 'in-cluster';
    const e = byName.get(name) ?? { name, kind: c?.kind ?? 'InCluster', ...(c?.kind && c.name ? { ref: `${c.kind}/${c.name}` } : {}), reachable: true, members: [] };
    if (c?.server && !e.server) e.server = c.server;
    if (c && c.reachable !== true) e.reachable = false;
    e.members.push(`${o.kind}/${o.metadata.name}`);
    byName.set(name, e);
  };
  for (const m of all) if (m.object) add(m.object);
  for (const p of packages) if (p.status) add(p);
  return [...byName.values()].sort((a, b) => a.name.localeCompare(b.name)).map((e) => ({ ...e, members: [...new Set(e.members)].sort() }));
}

/**
 * The Platform's teardown, in order. Each step's children are deleted (released to Metacontroller) only once
 * no child of an earlier step is observed any more; the children of later steps are returned as observed.
 * - `Packages`: the bootstrap Packages. Their Argo CD Applications / Flux objects are the Packages' own
 *   attachments (packages-argocd / packages-flux decorators): Kubernetes garbage collection removes them with
 *   each Package (bootstrap Packages set `cascadeDelete: false`, so no Argo CD finalizer holds them and what
 *   they deployed stays until its provider's uninstall). The Platform cannot list them itself: a related rule
 *   for a resource whose CRD is not installed fails every sync (Metacontroller customize).
 * - `GitOps hand-off`: the bootstrap GitRepositories the Applications synced from.
 * - `GitOps providers`, `git providers`, `gateways`: the inline providers, by their group (INLINE). A provider's
 *   own finalize uninstalls it (deletionPolicy Delete) or leaves its installation in place (Retain); it also
 *   waits while GitRepositories or Packages elsewhere still use it (src/kit/users.ts).
 * A child of a kind not listed here belongs to the last step.
 */
export const TEARDOWN_STEPS: readonly { name: string; kinds: readonly string[] }[] = [
  { name: 'Packages', kinds: ['Package'] },
  { name: 'GitOps hand-off', kinds: ['GitRepository'] },
  { name: 'GitOps providers', kinds: Object.values(INLINE).filter((d) => d.group === 'gitOpsProviders').map((d) => d.kind) },
  { name: 'git providers', kinds: Object.values(INLINE).filter((d) => d.group === 'gitProviders').map((d) => d.kind) },
  { name: 'gateways', kinds: Object.values(INLINE).filter((d) => d.group === 'gateways').map((d) => d.kind) },
];

function teardownStep(kind: string): number {
  const i = TEARDOWN_STEPS.findIndex((s) => s.kinds.includes(kind));
  return i < 0 ? TEARDOWN_STEPS.length - 1 : i;
}

/**
 * finalize: one teardown step at a time (TEARDOWN_STEPS). The first step with an observed child is current:
 * its children are released (Metacontroller deletes them; a provider with `deletionPolicy: Retain` is
 * deleted as an object while its installation stays), every later step's children are returned as
 * observed, and the answer is `finalized: false`. Once no child is observed, `finalized: true`. Status:
 * phase `Deleting`, `Ready=False` reason `TearingDown` naming the step, what it waits for (with the Ready
 * message of a child that is being deleted, e.g. a provider `InUse`), the steps left and what is retained.
 */
function finalize(req: SyncRequest, env: HookEnv): SyncAnswer {
  const parent = req.parent;
  const prev = { ...((parent.status as Record<string, unknown>) ?? {}) };
  delete prev.conditions;
  delete prev.phase;
  const observed = allObservedChildren(req);
  const current = Math.min(...observed.map((o) => teardownStep(o.kind)), TEARDOWN_STEPS.length);
  let marks: Marks;
  const children: KubeObject[] = [];
  const released: string[] = [];
  if (current >= TEARDOWN_STEPS.length) {
    const msg = 'every component the platform created is gone';
    marks = markBlocked('TornDown', msg);
  } else {
    const step = TEARDOWN_STEPS[current];
    const now = observed.filter((o) => teardownStep(o.kind) === current);
    for (const o of observed) {
      if (teardownStep(o.kind) === current) released.push(childKey(o));
      else children.push(asDesired(o));
    }
    const describe = (o: KubeObject) => {
      const why = o.metadata.deletionTimestamp ? readiness(o).message : undefined;
      return `${o.kind} ${o.metadata.name}${why && why !== 'not ready yet' ? ` (${why})` : ''}`;
    };
    const retained = now.filter((o) => (o.spec as { deletionPolicy?: string } | undefined)?.deletionPolicy === 'Retain');
    const later = TEARDOWN_STEPS.slice(current + 1).map((s) => s.name);
    const msg = [
      `step ${current + 1}/${TEARDOWN_STEPS.length} (${step.name}): waiting for ${now.map(describe).join(', ')} to be deleted`,
      ...(retained.length ? [`deletionPolicy Retain keeps the installation of ${retained.map((o) => `${o.kind} ${o.metadata.name}`).join(', ')}`] : []),
      ...(later.length ? [`then ${later.join(', ')}`] : []),
    ].join('; ');
    marks = markProgressing('TearingDown', msg);
  }
  const status = writeStatus(PLATFORM_CONDITIONS, parent, env, { phase: 'Deleting', marks }, prev);
  return { status, children, released, finalized: current >= TEARDOWN_STEPS.length };
}

/**
 * The Platform hooks, wrapped by the controller contract: customize (the referenced providers, gateway, grants and
 * target cluster), sync (inline provider objects, then bootstrap GitRepositories and Packages once every provider is
 * Ready) and finalize (tears the children down one step at a time, TEARDOWN_STEPS).
 */
export const platformHooks: Hooks = contract({
  customize: (req) => customize(req),
  sync: (req, env) => sync(req, env),
  finalize: (req, env) => finalize(req, env),
});
