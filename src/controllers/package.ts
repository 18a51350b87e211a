/**
 * Package: deploys a GitRepository's content through a GitOps engine. Creation waits until every
 * dependency (and every Package of lower cnoe.io/package-priority) is Ready; a dependency cycle is
 * reported, never waited on forever.
 *
 * The Package controller itself has no children, so it runs whatever is installed. The engine's objects
 * are attached by DecoratorControllers (packages-argocd: an Argo CD Application; packages-flux: a Flux
 * GitRepository and Kustomization), each of which Metacontroller starts once that engine's CRDs exist.
 * They report the engine's state back in an annotation on the Package, which this controller turns
 * into status (docs/decisions.md).
 */
import type { PackageSpec, PackageStatus } from '../api/package.js';
import type { Condition } from '../api/common.js';
import { API_VERSION } from '../api/common.js';
import type { CustomizeRequest, CustomizeResponse, KubeObject, RelatedResourceRule, SyncRequest, SyncResponse } from '../metacontroller/protocol.js';
import type { HookEnv, Hooks } from './types.js';
import { conditions, type ConditionInput } from '../kit/conditions.js';
import { ownerLabels } from '../kit/labels.js';
import { asDesired, observedChildren, relatedObject, relatedObjects } from '../kit/observed.js';
import { grantRules, lookup, readiness, referencePermitted, refKey, refRules, resolveRef, type Ref, type Refusal } from '../kit/refs.js';
import { contract } from '../kit/contract.js';

export const ARGO_APP = { apiVersion: 'argoproj.io/v1alpha1', kind: 'Application' } as const;

/** Kinds a health check may name, and where they live (`group` is what a ReferenceGrant's `to` names). */
const HEALTH_KINDS: Record<string, { apiVersion: string; resource: string; group: string }> = {
  Deployment: { apiVersion: 'apps/v1', resource: 'deployments', group: 'apps' },
  StatefulSet: { apiVersion: 'apps/v1', resource: 'statefulsets', group: 'apps' },
  DaemonSet: { apiVersion: 'apps/v1', resource: 'daemonsets', group: 'apps' },
  Job: { apiVersion: 'batch/v1', resource: 'jobs', group: 'batch' },
  Service: { apiVersion: 'v1', resource: 'services', group: '' },
};

function specOf(parent: KubeObject): PackageSpec {
  return parent.spec as PackageSpec;
}

function dependencyRefs(spec: PackageSpec): Ref[] {
  return [...(spec.dependencies ?? []), ...(spec.gitOpsProviderRef ? [spec.gitOpsProviderRef] : [])];
}

function customize(req: CustomizeRequest): CustomizeResponse {
  const spec = specOf(req.parent);
  const ns = req.parent.metadata.namespace;
  const source = spec.source.gitRepository;
  const rules: RelatedResourceRule[] = [
    // Packages of this namespace come with the rule below; those of other namespaces are asked for by name.
    ...refRules([{ kind: 'GitRepository', name: source.name, namespace: source.namespace }, ...dependencyRefs(spec).filter((d) => d.kind !== 'Package' || (d.namespace ?? ns) !== ns)], req.parent),
    // every Package of the namespace, to follow dependency chains and find cycles
    { apiVersion: API_VERSION, resource: 'packages', namespace: ns },
  ];
  const byKind = new Map<string, { apiVersion: string; resource: string; namespace: string; names: Set<string> }>();
  for (const h of spec.healthChecks ?? []) {
    const k = HEALTH_KINDS[h.type];
    if (!k) continue;
    const hns = h.namespace ?? ns ?? 'default';
    const key = `${k.resource}/${hns}`;
    const entry = byKind.get(key) ?? { apiVersion: k.apiVersion, resource: k.resource, namespace: hns, names: new Set<string>() };
    entry.names.add(h.name);
    byKind.set(key, entry);
  }
  for (const e of [...byKind.values()].sort((a, b) => `${a.resource}/${a.namespace}`.localeCompare(`${b.resource}/${b.namespace}`))) {
    rules.push({ apiVersion: e.apiVersion, resource: e.resource, namespace: e.namespace, names: [...e.names].sort() });
  }
  // health checks of other namespaces need a ReferenceGrant there (refRules above asked for those of the references)
  const asked = new Set(rules.filter((r) => r.resource === 'referencegrants').map((r) => r.namespace));
  rules.push(...grantRules([...byKind.values()].map((e) => e.namespace).filter((n) => !asked.has(n)), req.parent));
  return { relatedResources: rules };
}

/**
 * Packages a dependency walk visits at most. A request carries every Package of the namespace, so the walk
 * is bounded by the request size anyway; this bound keeps one sync cheap and its answer explainable.
 */
export const MAX_DEPENDENCY_WALK = 1000;

/** What the dependency walk from a Package found: a cycle through it, a graph over the bound, or neither. */
export type DependencyWalk = { cycle: string[] } | { tooLarge: number } | Record<string, never>;

/**
 * Follows the Package dependencies of this Package (through the Packages of the request) depth first,
 * iteratively (an explicit stack: a chain of thousands of Packages cannot overflow the call stack). Returns
 * the first cycle back to this Package (names, starting and ending with it), `tooLarge` when more than
 * `limit` Packages would be visited, or `{}`.
 */
export function walkDependencies(req: SyncRequest, limit = MAX_DEPENDENCY_WALK): DependencyWalk {
  const ns = req.parent.metadata.namespace ?? 'default';
  const packages = new Map<string, KubeObject>();
  for (const v of ['v1alpha1', 'v1alpha2']) for (const p of relatedObjects(req, 'Package', `idpbuilder.cnoe.io/${v}`)) packages.set(`${p.metadata.namespace}/${p.metadata.name}`, p);
  packages.set(`${ns}/${req.parent.metadata.name}`, req.parent);
  const self = `${ns}/${req.parent.metadata.name}`;
  const edges = (key: string): string[] => {
    const p = packages.get(key);
    if (!p) return [];
    const deps = (p.spec as PackageSpec | undefined)?.dependencies;
    return (Array.isArray(deps) ? deps : []).filter((d) => d?.kind === 'Package').map((d) => `${d.namespace ?? p.metadata.namespace}/${d.name}`);
  };
  // Each frame: a Package on the current path and the index of its next edge to follow.
  const stack: { key: string; next: string[]; i: number }[] = [{ key: self, next: edges(self), i: 0 }];
  const seen = new Set<string>();
  while (stack.length) {
    const top = stack[stack.length - 1];
    if (top.i >= top.next.length) {
      stack.pop();
      continue;
    }
    const nxt = top.next[top.i++];
    if (nxt === self) return { cycle: [...stack.map((f) => f.key), self].map((k) => k.split('/')[1]) };
    if (seen.has(nxt)) continue;
    seen.add(nxt);
    if (seen.size > limit) return { tooLarge: limit };
    stack.push({ key: nxt, next: edges(nxt), i: 0 });
  }
  return {};
}

/** The dependency cycle through this Package, if any (followed through the Packages of its namespace). */
export function findCycle(req: SyncRequest): string[] | undefined {
  const w = walkDependencies(req);
  return 'cycle' in w ? w.cycle : undefined;
}

export function application(parent: KubeObject, spec: PackageSpec, repoURL: string): KubeObject {
  const a = spec.argocd ?? {};
  const source: Record<string, unknown> = { repoURL, targetRevision: spec.source.gitRepository.targetRevision ?? 'HEAD', path: spec.source.gitRepository.path ?? '.' };
  if (a.releaseName) source.helm = { releaseName: a.releaseName };
  const syncPolicy: Record<string, unknown> = {};
  if (a.syncPolicy?.automated) syncPolicy.automated = a.syncPolicy.automated;
  if (a.syncPolicy?.syncOptions?.length) syncPolicy.syncOptions = a.syncPolicy.syncOptions;
  const metadata: Record<string, unknown> = { name: parent.metadata.name, namespace: parent.metadata.namespace, labels: ownerLabels(parent) };
  if (a.cascadeDelete ?? true) metadata.finalizers = ['resources-finalizer.argocd.argoproj.io'];
  return {
    ...ARGO_APP,
    metadata,
    spec: {
      project: a.project ?? 'default',
      source,
      destination: {
        ...(a.destination?.name ? { name: a.destination.name } : { server: a.destination?.server ?? 'https://kubernetes.default.svc' }),
        ...(a.destination?.namespace ? { namespace: a.destination.namespace } : {}),
      },
      ...(Object.keys(syncPolicy).length ? { syncPolicy } : {}),
    },
  } as KubeObject;
}

function healthProblems(req: SyncRequest, spec: PackageSpec): string[] {
  const ns = req.parent.metadata.namespace ?? 'default';
  const out: string[] = [];
  for (const h of spec.healthChecks ?? []) {
    const k = HEALTH_KINDS[h.type];
    const where = `${h.type} ${h.namespace ?? ns}/${h.name}`;
    if (!k) {
      out.push(`${where}: health checks support ${Object.keys(HEALTH_KINDS).join(', ')}`);
      continue;
    }
    const o = relatedObject(req, h.type, k.apiVersion, h.namespace ?? ns, h.name);
    if (!o) out.push(`${where} not found`);
    else if (!healthy(o)) out.push(`${where} not ready`);
  }
  return out;
}

function healthy(o: KubeObject): boolean {
  const s = (o.status ?? {}) as Record<string, any>;
  const want = (o.spec as { replicas?: number } | undefined)?.replicas ?? 1;
  switch (o.kind) {
    case 'Deployment':
    case 'StatefulSet':
      return (s.readyReplicas ?? 0) >= want && (s.observedGeneration ?? 0) >= (o.metadata.generation ?? 0);
    case 'DaemonSet':
      return (s.numberReady ?? 0) >= (s.desiredNumberScheduled ?? 1);
    case 'Job':
      return (s.succeeded ?? 0) > 0;
    default:
      return true;
  }
}

export type Engine = 'argocd' | 'flux';

/** Which GitOps engine deploys the Package: Flux when asked for (spec.flux, or a FluxProvider reference), else Argo CD. */
export function engineOf(spec: PackageSpec): Engine {
  if (spec.gitOpsProviderRef?.kind === 'FluxProvider') return 'flux';
  if (spec.flux && (spec.flux.enabled ?? true) && !(spec.argocd && (spec.argocd.enabled ?? true))) return 'flux';
  return 'argocd';
}

export const PRIORITY_ANNOTATION = 'cnoe.io/package-priority';
/** Set by the deploying DecoratorController on the Package: what the engine reports. */
export const ENGINE_STATUS_ANNOTATION: Record<Engine, string> = {
  argocd: 'idpbuilder.cnoe.io/argocd-status',
  flux: 'idpbuilder.cnoe.io/flux-status',
};

export interface EngineStatus {
  name: string;
  namespace: string;
  /** Argo CD */
  syncStatus?: string;
  healthStatus?: string;
  /** Flux Kustomization Ready condition */
  ready?: string;
  reason?: string;
  message?: string;
}

export type PackagePlan =
  | { deploy: false; phase: string; reason: string; message: string; waitingFor?: string[] }
  | { deploy: true; engine: Engine; cloneURL: string };

function priorityOf(p: KubeObject): number | undefined {
  const raw = p.metadata.annotations?.[PRIORITY_ANNOTATION];
  const n = raw === undefined ? NaN : Number(raw);
  return Number.isFinite(n) ? n : undefined;
}

/** Packages of the namespace with a lower cnoe.io/package-priority that are not Ready yet (lower deploys first). */
function priorityWait(req: { parent: KubeObject; related?: SyncRequest['related'] }): string[] {
  const mine = priorityOf(req.parent);
  if (mine === undefined) return [];
  const out: string[] = [];
  for (const v of ['v1alpha1', 'v1alpha2']) {
    for (const p of relatedObjects(req as SyncRequest, 'Package', `idpbuilder.cnoe.io/${v}`)) {
      if (p.metadata.name === req.parent.metadata.name) continue;
      const theirs = priorityOf(p);
      if (theirs !== undefined && theirs < mine && !readiness(p).ready) out.push(`Package/${p.metadata.name} (priority ${theirs} deploys first)`);
    }
  }
  return out.sort();
}

/** What a Package can do now: wait (and why), or deploy a clone URL with an engine. Shared by the Package controller and the decorators that deploy it. */
export function packagePlan(req: { parent: KubeObject; related?: SyncRequest['related'] }): PackagePlan {
  const parent = req.parent;
  const spec = specOf(parent);
  const sreq = req as SyncRequest;
  const walk = walkDependencies(sreq);
  if ('cycle' in walk) return { deploy: false, phase: 'Failed', reason: 'DependencyCycle', message: `dependency cycle: ${walk.cycle.join(' -> ')}` };
  if ('tooLarge' in walk) {
    return { deploy: false, phase: 'Failed', reason: 'DependencyGraphTooLarge', message: `more than ${walk.tooLarge} Packages reachable through dependencies; shorten the dependency chains` };
  }
  const src = spec.source.gitRepository;
  const srcRef = { kind: 'GitRepository', name: src.name, namespace: src.namespace };
  // a reference into a namespace that does not allow it is refused before anything is waited for
  const ns = parent.metadata.namespace ?? 'default';
  const refusals = [
    ...[srcRef, ...dependencyRefs(spec)].map((r) => resolveRef(sreq, r).refusal),
    // health checks read objects of other kinds: a grant's `to` names their group (apps, batch, "" for Services)
    ...(spec.healthChecks ?? []).map((h) => (HEALTH_KINDS[h.type] ? referencePermitted(req, { group: HEALTH_KINDS[h.type].group, kind: h.type, namespace: h.namespace ?? ns, name: h.name }) : undefined)),
  ].filter((r): r is Refusal => !!r);
  if (refusals.length) return { deploy: false, phase: 'Pending', reason: refusals[0].reason, message: refusals.map((r) => r.message).join('; ') };
  const waitingFor: string[] = [];
  for (const d of dependencyRefs(spec)) {
    const r = readiness(lookup(sreq, d));
    if (!r.ready) waitingFor.push(`${refKey(d, parent)} (${r.message})`);
  }
  waitingFor.push(...priorityWait(req));
  if (waitingFor.length) return { deploy: false, phase: 'Waiting', reason: 'WaitingForDependencies', message: `waiting for ${waitingFor.join(', ')}`, waitingFor };
  const repo = lookup(sreq, srcRef);
  if (!repo) return { deploy: false, phase: 'Pending', reason: 'SourceNotFound', message: `GitRepository ${refKey(srcRef, parent).slice('GitRepository/'.length)} not found` };
  const cloneURL = (repo.status as { cloneURL?: string } | undefined)?.cloneURL;
  const repoReady = readiness(repo);
  if (!repoReady.ready || !cloneURL) {
    return { deploy: false, phase: 'Waiting', reason: 'WaitingForSource', message: `waiting for GitRepository ${src.name}: ${repoReady.message ?? 'no cloneURL yet'}`, waitingFor: [`GitRepository/${src.name}`] };
  }
  return { deploy: true, engine: engineOf(spec), cloneURL };
}

function readEngineStatus(parent: KubeObject, engine: Engine): EngineStatus | undefined {
  try {
    const raw = parent.metadata.annotations?.[ENGINE_STATUS_ANNOTATION[engine]];
    return raw ? (JSON.parse(raw) as EngineStatus) : undefined;
  } catch {
    return undefined;
  }
}

function sync(req: SyncRequest, env: HookEnv): SyncResponse {
  const parent = req.parent;
  const spec = specOf(parent);
  const prev = (parent.status ?? {}) as PackageStatus;
  const gen = parent.metadata.generation;
  const finish = (phase: string, conds: ConditionInput[], fields: Record<string, unknown>): SyncResponse => {
    const status: Record<string, unknown> = { ...fields, phase, conditions: conditions(prev.conditions as Condition[] | undefined, conds, env.now(), gen) };
    if (gen !== undefined) status.observedGeneration = gen;
    return { status, children: [] };
  };
  const plan = packagePlan(req);
  if (!plan.deploy) {
    return finish(plan.phase, [
      { type: 'Ready', status: 'False', reason: plan.reason, message: plan.message },
      { type: 'Progressing', status: 'False', reason: plan.reason, message: plan.message },
    ], plan.waitingFor ? { waitingFor: plan.waitingFor } : {});
  }
  const ns = parent.metadata.namespace ?? 'default';
  const es = readEngineStatus(parent, plan.engine);
  const problems = healthProblems(req, spec);
  let fields: Record<string, unknown>;
  let state: 'synced' | 'degraded' | 'deploying';
  let detail: string;
  if (plan.engine === 'argocd') {
    fields = { argoApplication: { name: parent.metadata.name, namespace: ns, ...(es?.syncStatus ? { syncStatus: es.syncStatus } : {}), ...(es?.healthStatus ? { healthStatus: es.healthStatus } : {}) } };
    state = es?.syncStatus === 'Synced' && es.healthStatus === 'Healthy' ? 'synced' : es?.healthStatus === 'Degraded' ? 'degraded' : 'deploying';
    detail = es ? `application is ${es.syncStatus ?? 'Unknown'}/${es.healthStatus ?? 'Unknown'}` : 'waiting for the Argo CD Application to report';
  } else {
    fields = { fluxKustomization: { name: parent.metadata.name, namespace: ns, ...(es?.ready ? { ready: es.ready } : {}), ...(es?.reason ? { reason: es.reason } : {}) } };
    state = es?.ready === 'True' ? 'synced' : es?.ready === 'False' && es.reason && !/Progressing|DependencyNotReady|Reconciling/.test(es.reason) ? 'degraded' : 'deploying';
    detail = es ? `kustomization is ${es.ready ?? 'Unknown'}${es.reason ? ` (${es.reason}${es.message ? `: ${es.message}` : ''})` : ''}` : 'waiting for the Flux Kustomization to report';
  }
  if (state === 'synced' && problems.length === 0) {
    return finish('Synced', [
      { type: 'Ready', status: 'True', reason: 'Synced', message: plan.engine === 'argocd' ? 'application is synced and healthy' : 'kustomization is ready' },
      { type: 'Progressing', status: 'False', reason: 'Synced', message: '' },
      { type: 'Degraded', status: 'False', reason: 'AsExpected', message: '' },
    ], fields);
  }
  if (state === 'degraded') {
    return finish('Degraded', [
      { type: 'Ready', status: 'False', reason: 'DeploymentDegraded', message: detail },
      { type: 'Progressing', status: 'False', reason: 'DeploymentDegraded', message: detail },
      { type: 'Degraded', status: 'True', reason: 'DeploymentDegraded', message: detail },
    ], fields);
  }
  const message = problems.length && state === 'synced' ? `health checks pending: ${problems.join('; ')}` : detail;
  const reason = problems.length && state === 'synced' ? 'HealthCheckPending' : 'Deploying';
  return finish('Deploying', [
    { type: 'Ready', status: 'False', reason, message },
    { type: 'Progressing', status: 'True', reason, message },
    { type: 'Degraded', status: 'False', reason: 'AsExpected', message: '' },
  ], fields);
}

export const packageHooks: Hooks = contract({
  customize: (req) => customize(req),
  sync: (req, env) => sync(req, env),
});

/** The Package's related objects; the deploying decorators ask for the same. */
export { customize as packageCustomize };
