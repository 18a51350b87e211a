/**
 * The tree `idpbuilder trace` prints, built from a plain list of objects (a live cluster's `kubectl get`
 * answers or `idpbuilder render` output), so both sources share it. Pure: no I/O.
 *
 * Edges, each child shown once (at its first place in a depth-first walk):
 * - Platform → its providers: `status.providers.{gitProviders,gateways,gitOpsProviders}` and
 *   `spec.components.*` references (git, gateways, GitOps, in that order);
 * - any object → the objects in its namespace labelled `idpbuilder.cnoe.io/<kind in lower case>: <name>`
 *   (src/kit/labels.ts ownerLabels: install Jobs, GitRepositories, Packages, inline providers,
 *   Applications, Flux objects), except ConfigMaps, Secrets and RBAC objects, which carry no readiness;
 * - Job → its Pods (`batch.kubernetes.io/job-name` / `job-name` label or an owner reference);
 * - GitRepository (idpbuilder.cnoe.io) → the Packages whose `spec.source.gitRepository` names it (a Package
 *   is shown under its repository rather than beside it);
 * - Package → `status.argoApplication` (argoproj.io Application) and `status.fluxKustomization`
 *   (kustomize.toolkit.fluxcd.io Kustomization).
 * A referenced object missing from the list is a node with `found: false` (READY `-`, STATUS `NotFound`).
 */
import { API_VERSION } from '../api/common.js';
import { KINDS } from '../api/kinds.js';
import { labelValue } from '../kit/labels.js';
import type { KubeObject } from '../metacontroller/protocol.js';

/** A reference to an object in a trace: API group (`''` for core), kind, namespace and name. */
export interface TraceRef {
  /** API group ('' for core), e.g. `idpbuilder.cnoe.io`, `batch`. */
  group: string;
  kind: string;
  namespace: string;
  name: string;
}

/**
 * One object in the tree `idpbuilder trace` prints: its apiVersion, kind, namespace and name, readiness (`True`,
 * `False`, `Unknown` or `-`), the reason and message of that state, whether it was found and its children.
 */
export interface TraceNode {
  apiVersion: string;
  kind: string;
  namespace: string;
  name: string;
  /** `True`, `False`, `Unknown`, or `-` for an object without readiness or not found. */
  ready: string;
  /** The Ready condition's reason (or the Job/Pod/Application state); '' when there is none. */
  reason: string;
  message: string;
  found: boolean;
  children: TraceNode[];
}

const GROUP = 'idpbuilder.cnoe.io';
/** apiVersions shown for a referenced object that is not found. */
const VERSIONS: Record<string, string> = { [GROUP]: API_VERSION, 'argoproj.io': 'argoproj.io/v1alpha1', batch: 'batch/v1', 'kustomize.toolkit.fluxcd.io': 'kustomize.toolkit.fluxcd.io/v1', '': 'v1' };
const HIDDEN = new Set(['ConfigMap', 'Secret', 'ServiceAccount', 'Role', 'RoleBinding', 'ClusterRole', 'ClusterRoleBinding']);

function groupOf(apiVersion: string): string {
  return apiVersion.includes('/') ? apiVersion.split('/')[0] : '';
}

const keyOf = (r: TraceRef) => `${r.group}/${r.kind}/${r.namespace}/${r.name}`;
const refOf = (o: KubeObject): TraceRef => ({ group: groupOf(o.apiVersion), kind: o.kind, namespace: o.metadata.namespace ?? '', name: o.metadata.name });

/** Kinds `trace` accepts besides ours, by lower-case name, plural and short name. */
const OTHER_KINDS: { kind: string; group: string; names: string[] }[] = [
  { kind: 'Job', group: 'batch', names: ['job', 'jobs'] },
  { kind: 'Pod', group: '', names: ['pod', 'pods', 'po'] },
  { kind: 'Application', group: 'argoproj.io', names: ['application', 'applications', 'app', 'apps'] },
  { kind: 'Kustomization', group: 'kustomize.toolkit.fluxcd.io', names: ['kustomization', 'kustomizations', 'ks'] },
];

/**
 * The kind and group of a `trace` argument's kind part: a Kind (`Platform`), its lower-case, plural or
 * short name (`platforms`, `plat`), optionally with its group (`gitrepositories.idpbuilder.cnoe.io`).
 * Bare `gitrepository` means ours, not Flux's. Undefined when unknown.
 */
export function resolveKind(text: string): { kind: string; group: string } | undefined {
  const [head, ...rest] = text.split('.');
  const wantGroup = rest.length ? rest.join('.') : undefined;
  const h = head.toLowerCase();
  for (const k of KINDS) {
    if ([k.kind.toLowerCase(), k.plural, k.singular, ...k.shortNames].includes(h) && (!wantGroup || wantGroup === GROUP)) return { kind: k.kind, group: GROUP };
  }
  for (const k of OTHER_KINDS) if (k.names.includes(h) && (!wantGroup || wantGroup === k.group)) return { kind: k.kind, group: k.group };
  if (wantGroup) return { kind: head, group: wantGroup };
  return undefined;
}

type Cond = { type: string; status?: string; reason?: string; message?: string };
const conditions = (o: KubeObject): Cond[] => ((o.status as { conditions?: Cond[] } | undefined)?.conditions ?? []);

/** Readiness of one object: READY, reason and message, by kind. */
function statusOf(o: KubeObject): { ready: string; reason: string; message: string } {
  const st = (o.status ?? {}) as Record<string, any>;
  if (o.kind === 'Job' && groupOf(o.apiVersion) === 'batch') {
    const cs = conditions(o);
    const done = cs.find((c) => (c.type === 'Complete' || c.type === 'SuccessCriteriaMet') && c.status === 'True');
    if (done) return { ready: 'True', reason: 'Completed', message: done.message ?? '' };
    const failed = cs.find((c) => (c.type === 'Failed' || c.type === 'FailureTarget') && c.status === 'True');
    if (failed) return { ready: 'False', reason: failed.reason ?? 'Failed', message: failed.message ?? '' };
    if (o.status === undefined) return { ready: 'Unknown', reason: '', message: '' };
    return { ready: 'False', reason: st.active ? 'Running' : 'Pending', message: st.failed ? `${st.failed} failed pod(s)` : '' };
  }
  if (o.kind === 'Pod' && o.apiVersion === 'v1') {
    const phase: string = st.phase ?? '';
    const containers = (st.containerStatuses ?? []) as { state?: { waiting?: { reason?: string; message?: string }; terminated?: { reason?: string; message?: string; exitCode?: number } } }[];
    const waiting = containers.map((c) => c.state?.waiting).find((w) => w?.reason);
    const terminated = containers.map((c) => c.state?.terminated).find((t) => t && t.exitCode !== 0);
    if (phase === 'Succeeded') return { ready: 'True', reason: 'Completed', message: '' };
    if (phase === 'Failed') return { ready: 'False', reason: terminated?.reason ?? st.reason ?? 'Failed', message: (terminated?.message ?? st.message ?? '').trim() };
    if (waiting) return { ready: 'False', reason: waiting.reason!, message: waiting.message ?? '' };
    const r = conditions(o).find((c) => c.type === 'Ready');
    if (phase) return { ready: r?.status ?? 'Unknown', reason: phase, message: r?.message ?? st.message ?? '' };
    return { ready: 'Unknown', reason: '', message: '' };
  }
  if (o.kind === 'Application' && groupOf(o.apiVersion) === 'argoproj.io') {
    const sync: string | undefined = st.sync?.status;
    const health: string | undefined = st.health?.status;
    if (!sync && !health) return { ready: 'Unknown', reason: '', message: '' };
    const message = st.health?.message ?? st.operationState?.message ?? conditions(o)[0]?.message ?? '';
    return { ready: sync === 'Synced' && health === 'Healthy' ? 'True' : 'False', reason: `${sync ?? 'Unknown'}/${health ?? 'Unknown'}`, message };
  }
  const r = conditions(o).find((c) => c.type === 'Ready');
  if (r) return { ready: r.status ?? 'Unknown', reason: r.reason ?? '', message: r.message ?? '' };
  if (typeof st.phase === 'string') return { ready: 'Unknown', reason: st.phase, message: '' };
  return { ready: o.status === undefined && groupOf(o.apiVersion) !== GROUP ? '-' : 'Unknown', reason: '', message: '' };
}

/** An index of objects by key, by namespace and by owner label, for the edges above. */
class World {
  readonly byKey = new Map<string, KubeObject>();
  constructor(objects: KubeObject[]) {
    for (const o of objects) this.byKey.set(keyOf(refOf(o)), o);
  }
  get(r: TraceRef): KubeObject | undefined {
    return this.byKey.get(keyOf(r));
  }
  all(): KubeObject[] {
    return [...this.byKey.values()];
  }
}

const KIND_ORDER = ['GiteaProvider', 'GitHubProvider', 'GitLabProvider', 'NginxGateway', 'EnvoyGateway', 'IstioGateway', 'ArgoCDProvider', 'FluxProvider', 'Job', 'Pod', 'GitRepository', 'Package', 'Application', 'Kustomization'];
const rank = (r: TraceRef) => {
  const i = KIND_ORDER.indexOf(r.kind);
  return i < 0 ? KIND_ORDER.length : i;
};
const byRank = (a: TraceRef, b: TraceRef) => rank(a) - rank(b) || a.kind.localeCompare(b.kind) || a.group.localeCompare(b.group) || a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name);

function providerRefs(o: KubeObject): TraceRef[] {
  const ns = o.metadata.namespace ?? '';
  const fromStatus = (o.status as { providers?: Record<string, { kind: string; name: string; namespace?: string }[] | undefined> } | undefined)?.providers ?? {};
  const fromSpec = ((o.spec as { components?: Record<string, unknown> } | undefined)?.components ?? {}) as Record<string, { kind: string; name: string; namespace?: string }[] | undefined>;
  const out: TraceRef[] = [];
  for (const list of ['gitProviders', 'gateways', 'gitOpsProviders']) {
    for (const p of [...(fromStatus[list] ?? []), ...(Array.isArray(fromSpec[list]) ? fromSpec[list]! : [])]) {
      if (p?.kind && p.name) out.push({ group: GROUP, kind: p.kind, namespace: p.namespace ?? ns, name: p.name });
    }
  }
  return out;
}

function repoOf(pkg: KubeObject): TraceRef | undefined {
  const r = (pkg.spec as { source?: { gitRepository?: { name?: string; namespace?: string } } } | undefined)?.source?.gitRepository;
  return r?.name ? { group: GROUP, kind: 'GitRepository', namespace: r.namespace ?? pkg.metadata.namespace ?? '', name: r.name } : undefined;
}

/** The references of one object's children, in display order (before removing what is shown elsewhere). */
function childRefs(o: KubeObject, objects: KubeObject[]): TraceRef[] {
  const ns = o.metadata.namespace ?? '';
  const group = groupOf(o.apiVersion);
  const explicit: TraceRef[] = [];
  const found: TraceRef[] = [];
  if (group === GROUP && o.kind === 'Platform') explicit.push(...providerRefs(o));
  if (group === GROUP && o.kind === 'Package') {
    const st = (o.status ?? {}) as { argoApplication?: { name: string; namespace: string }; fluxKustomization?: { name: string; namespace: string } };
    if (st.argoApplication?.name) explicit.push({ group: 'argoproj.io', kind: 'Application', namespace: st.argoApplication.namespace || ns, name: st.argoApplication.name });
    if (st.fluxKustomization?.name) explicit.push({ group: 'kustomize.toolkit.fluxcd.io', kind: 'Kustomization', namespace: st.fluxKustomization.namespace || ns, name: st.fluxKustomization.name });
  }
  const label = group === GROUP ? `${GROUP}/${o.kind.toLowerCase()}` : undefined;
  for (const x of objects) {
    if (x === o || HIDDEN.has(x.kind)) continue;
    const xns = x.metadata.namespace ?? '';
    if (label && xns === ns && x.metadata.labels?.[label] === labelValue(o.metadata.name)) found.push(refOf(x));
    else if (o.kind === 'Job' && group === 'batch' && x.kind === 'Pod' && xns === ns) {
      const l = x.metadata.labels ?? {};
      const owned = ((x.metadata as { ownerReferences?: { kind: string; name: string }[] }).ownerReferences ?? []).some((r) => r.kind === 'Job' && r.name === o.metadata.name);
      if (owned || l['batch.kubernetes.io/job-name'] === o.metadata.name || l['job-name'] === o.metadata.name) found.push(refOf(x));
    } else if (group === GROUP && o.kind === 'GitRepository' && x.kind === 'Package' && groupOf(x.apiVersion) === GROUP) {
      const r = repoOf(x);
      if (r && r.name === o.metadata.name && r.namespace === ns) found.push(refOf(x));
    }
  }
  found.sort(byRank);
  const seen = new Set<string>();
  const out = [...explicit, ...found].filter((r) => !seen.has(keyOf(r)) && seen.add(keyOf(r)));
  // a Package whose GitRepository is a sibling is shown under that repository
  return out.filter((r) => {
    if (r.kind !== 'Package' || r.group !== GROUP) return true;
    const pkg = objects.find((x) => keyOf(refOf(x)) === keyOf(r));
    const repo = pkg && repoOf(pkg);
    return !(repo && seen.has(keyOf(repo)));
  });
}

/** The tree under a root object (traceTree) and the references to objects that were not in the list. */
export interface TraceTree {
  root: TraceNode;
  /** References (at any depth) to objects that are not in the list: a live source may fetch their namespaces. */
  missing: TraceRef[];
}

/**
 * The tree under `root` (found by group, kind, namespace and name in `objects`; a root that is not there is
 * a single not-found node). Objects are shown once; a cycle ends where it would repeat.
 */
export function traceTree(objects: KubeObject[], root: TraceRef): TraceTree {
  const world = new World(objects);
  const all = world.all();
  const placed = new Set<string>();
  const missing: TraceRef[] = [];
  const node = (r: TraceRef): TraceNode => {
    placed.add(keyOf(r));
    const o = world.get(r);
    if (!o) {
      missing.push(r);
      return { apiVersion: VERSIONS[r.group] ?? (r.group ? `${r.group}/v1` : 'v1'), kind: r.kind, namespace: r.namespace, name: r.name, ready: '-', reason: 'NotFound', message: '', found: false, children: [] };
    }
    const refs = childRefs(o, all).filter((c) => !placed.has(keyOf(c)));
    for (const c of refs) placed.add(keyOf(c)); // siblings first, so a deeper edge does not steal them
    const children = refs.map((c) => {
      placed.delete(keyOf(c));
      return node(c);
    });
    return { apiVersion: o.apiVersion, kind: o.kind, namespace: o.metadata.namespace ?? '', name: o.metadata.name, ...statusOf(o), found: true, children };
  };
  return { root: node(root), missing };
}
