/**
 * Package: deploys a GitRepository's content through a GitOps engine. Creation waits until every
 * dependency is Ready; a dependency cycle is reported, never waited on forever. `cnoe.io/package-priority`
 * orders nothing here: as in today's idpbuilder it only decides which of two definitions of one
 * application wins, and the CLI settles that before it creates Packages (docs/decisions.md).
 *
 * A Package reads only the Packages it depends on. Cycles are found through their status: each Package
 * publishes `status.dependsOn`, every Package it waits on directly or through other Packages; a Package
 * that finds itself in a dependency's `dependsOn` is on a cycle.
 *
 * The Package controller itself has no children, so it runs whatever is installed. The engine's objects
 * are attached by DecoratorControllers (packages-argocd: an Argo CD Application; packages-flux: a Flux
 * GitRepository and Kustomization), each of which Metacontroller starts once that engine's CRDs exist.
 * They report the engine's state back in an annotation on the Package, which this controller turns
 * into status (docs/decisions.md).
 */
import { clusterRules, registeredName, resolveCluster } from '../kit/cluster.js';
import type { PackageSpec, PackageStatus } from '../api/package.js';
import type { CustomizeRequest, CustomizeResponse, KubeObject, RelatedResourceRule, SyncRequest, SyncResponse } from '../metacontroller/protocol.js';
import type { HookEnv, Hooks } from '../kit/hooks.js';
import { conditionSet, markBlocked, markFailed, markProgressing, markReady, readParent, writeStatus, type Marks, type ParentView } from '../kit/status.js';
import { ownerLabels } from '../kit/labels.js';
import { relatedObject, relatedObjects } from '../kit/observed.js';
import { grantRules, lookup, readiness, referencePermitted, refKey, refRules, resolveRef, type Ref, type Refusal } from '../kit/refs.js';
import { healthTarget } from '../kit/health.js';
import { evaluateReadyWhen, readyWhenProblem } from '../api/ready-when.js';
import { durationSeconds } from '../kit/duration.js';
import { contract } from '../kit/contract.js';

/** apiVersion and kind of an Argo CD Application (argoproj.io/v1alpha1). */
export const ARGO_APP = { apiVersion: 'argoproj.io/v1alpha1', kind: 'Application' } as const;


function specOf(parent: KubeObject): PackageSpec {
  return parent.spec as PackageSpec;
}

function dependencyRefs(spec: PackageSpec): Ref[] {
  return [...(spec.dependencies ?? []), ...(spec.gitOpsProviderRef ? [spec.gitOpsProviderRef] : [])];
}

/**
 * customize hook of Package, also used by the packages-argocd and packages-flux decorators (exported as
 * packageCustomize): the GitRepository, the gitops provider and the dependencies by name (Packages too, so their
 * status.dependsOn finds cycles), each health check's target objects, the ReferenceGrants of the other namespaces
 * those are in, and the target cluster's kubeconfig Secret (and Cluster API Cluster).
 */
function customize(req: CustomizeRequest): CustomizeResponse {
  const spec = specOf(req.parent);
  const ns = req.parent.metadata.namespace;
  const source = spec.source.gitRepository;
  const rules: RelatedResourceRule[] = [
    // the source, the GitOps provider and the dependencies, by name (Packages included: their status.dependsOn finds cycles)
    ...refRules([{ kind: 'GitRepository', name: source.name, namespace: source.namespace }, ...dependencyRefs(spec)], req.parent),
  ];
  const byKind = new Map<string, { apiVersion: string; resource: string; namespace: string; names: Set<string> }>();
  for (const h of spec.healthChecks ?? []) {
    const k = healthTarget(h);
    if ('invalid' in k) continue;
    const hns = h.namespace ?? ns ?? 'default';
    const key = `${k.apiVersion}/${k.resource}/${hns}`;
    const entry = byKind.get(key) ?? { apiVersion: k.apiVersion, resource: k.resource, namespace: hns, names: new Set<string>() };
    entry.names.add(h.name);
    byKind.set(key, entry);
  }
  for (const e of [...byKind.values()].sort((a, b) => `${a.resource}/${a.namespace}/${a.apiVersion}`.localeCompare(`${b.resource}/${b.namespace}/${b.apiVersion}`))) {
    rules.push({ apiVersion: e.apiVersion, resource: e.resource, namespace: e.namespace, names: [...e.names].sort() });
  }
  // health checks of other namespaces need a ReferenceGrant there (refRules above asked for those of the references)
  const asked = new Set(rules.filter((r) => r.resource === 'referencegrants').map((r) => r.namespace));
  rules.push(...grantRules([...byKind.values()].map((e) => e.namespace).filter((n) => !asked.has(n)), req.parent));
  // spec.clusterRef: its kubeconfig Secret (and Cluster API Cluster), so the Package and the decorators that deploy it know whether the target is usable
  rules.push(...clusterRules(spec.clusterRef, req.parent));
  return { relatedResources: rules };
}

/**
 * Packages a `status.dependsOn` lists at most. A Package that would wait on more (directly or through
 * other Packages) fails with DependencyGraphTooLarge; this bound keeps statuses small and answers explainable.
 */
export const MAX_DEPENDENCY_WALK = 1000;

/** Reason of a Package whose dependency graph is over the bound; a Package depending on it inherits it. */
export const GRAPH_TOO_LARGE = 'DependencyGraphTooLarge';

/**
 * What the dependencies of this Package show: `dependsOn`, every Package it waits on (namespace/name,
 * sorted), and `cycle` when one leads back to it (names, starting and ending with it; `…` stands for
 * Packages seen only through a dependency's status); or `tooLarge` when the graph is over the bound.
 */
export type DependencyWalk = { dependsOn: string[]; cycle?: string[] } | { tooLarge: number };

function packageKey(ref: { name: string; namespace?: string }, ns: string): string {
  return `${ref.namespace ?? ns}/${ref.name}`;
}

/** The Package dependencies of a Package spec (namespace/name keys, in spec order, without duplicates). */
function packageDeps(spec: PackageSpec | undefined, ns: string): string[] {
  const deps = spec?.dependencies;
  return [...new Set((Array.isArray(deps) ? deps : []).filter((d) => d?.kind === 'Package').map((d) => packageKey(d, ns)))];
}

/**
 * Reads the Package dependencies of this Package (related objects, by name) and their `status.dependsOn`.
 * A dependency not observed yet counts with itself only (its own dependencies appear once it reports them:
 * unknown is not absent, and a cycle is found a sync later). This Package in a dependency's spec or
 * `dependsOn` is a cycle; the closure is published even then, so every Package on the cycle finds it.
 */
export function walkDependencies(req: SyncRequest, limit = MAX_DEPENDENCY_WALK): DependencyWalk {
  const ns = req.parent.metadata.namespace ?? 'default';
  const self = `${ns}/${req.parent.metadata.name}`;
  const observed = new Map<string, KubeObject>();
  for (const v of ['v1alpha1', 'v1alpha2']) for (const p of relatedObjects(req, 'Package', `idpbuilder.cnoe.io/${v}`)) observed.set(`${p.metadata.namespace}/${p.metadata.name}`, p);
  const closure = new Set<string>();
  const short = (k: string) => k.split('/')[1];
  let cycle: string[] | undefined;
  for (const dep of packageDeps(req.parent.spec as PackageSpec, ns)) {
    closure.add(dep);
    if (dep === self) {
      cycle ??= [short(self), short(self)];
      continue;
    }
    const p = observed.get(dep);
    if (!p) continue;
    const st = (p.status ?? {}) as PackageStatus;
    if ((st.conditions ?? []).some((c) => c.type === 'Ready' && c.reason === GRAPH_TOO_LARGE)) return { tooLarge: limit };
    const theirs = Array.isArray(st.dependsOn) ? st.dependsOn : [];
    if (packageDeps(p.spec as PackageSpec, p.metadata.namespace ?? ns).includes(self)) cycle ??= [short(self), short(dep), short(self)];
    else if (theirs.includes(self)) cycle ??= [short(self), short(dep), '…', short(self)];
    for (const k of theirs) closure.add(k);
    if (closure.size > limit) return { tooLarge: limit };
  }
  return { dependsOn: [...closure].sort(), ...(cycle ? { cycle } : {}) };
}

/**
 * The Argo CD Application (argoproj.io/v1alpha1) that deploys a Package: named like the Package, `spec.source` =
 * `repoURL` at `targetRevision` (default HEAD) and `path` (default `.`), project (default `default`), destination
 * (the registered cluster name of `spec.clusterRef`, else `spec.argocd.destination`), sync policy from
 * `spec.argocd.syncPolicy`; with `cascadeDelete` (default true) the finalizer
 * `resources-finalizer.argocd.argoproj.io`.
 */
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
        // clusterRef: the name its ArgoCDProvider registered it under (spec.clusters there; src/kit/cluster.ts)
        ...(spec.clusterRef
          ? { name: registeredName(spec.clusterRef, parent.metadata.namespace ?? 'default') }
          : a.destination?.name
            ? { name: a.destination.name }
            : { server: a.destination?.server ?? 'https://kubernetes.default.svc' }),
        ...(a.destination?.namespace ? { namespace: a.destination.namespace } : {}),
      },
      ...(Object.keys(syncPolicy).length ? { syncPolicy } : {}),
    },
  } as KubeObject;
}

type HealthEntry = NonNullable<PackageStatus['healthChecks']>[number];

/** The health checks evaluated now: status entries, and what keeps the Package from Synced or makes it Failed. */
export interface HealthEvaluation {
  entries: HealthEntry[];
  /** Checks not passing (yet), as `Kind ns/name why`. */
  pending: string[];
  /** Checks that cannot be evaluated (no apiVersion or readyWhen for the kind, a readyWhen that does not compile). */
  invalid: string[];
  /** Checks not passed within their timeout. */
  timedOut: string[];
  /** Seconds until the next pending check's timeout runs out, if any has one. */
  resyncAfterSeconds?: number;
}

/**
 * Evaluates every health check against its related object. A check's clock (`since`) starts when it is
 * first evaluated in this generation and restarts when it changes between passing and not; `previous`
 * are the entries of the last status of the same generation. A check not passing `timeout` after `since`
 * has timed out (it still passes later if the object becomes ready).
 */
export function evaluateHealth(req: SyncRequest, spec: PackageSpec, previous: HealthEntry[], now: Date): HealthEvaluation {
  const ns = req.parent.metadata.namespace ?? 'default';
  const out: HealthEvaluation = { entries: [], pending: [], invalid: [], timedOut: [] };
  const stamp = now.toISOString().replace(/\.\d{3}Z$/, 'Z');
  (spec.healthChecks ?? []).forEach((h, i) => {
    const hns = h.namespace ?? ns;
    const where = `${h.type} ${hns}/${h.name}`;
    const target = healthTarget(h);
    if ('invalid' in target) {
      out.invalid.push(`healthChecks[${i}] (${where}): ${target.invalid}`);
      return;
    }
    const compileProblem = readyWhenProblem(target.readyWhen);
    if (compileProblem) {
      out.invalid.push(`healthChecks[${i}] (${where}): ${compileProblem}`);
      return;
    }
    const o = relatedObject(req, target.kind, target.apiVersion, hns, h.name);
    const r = o ? evaluateReadyWhen(target.readyWhen, o) : { ready: false, message: 'not found' };
    const before = previous.find((p) => p.type === h.type && p.apiVersion === target.apiVersion && p.namespace === hns && p.name === h.name);
    const since = before && before.ready === r.ready && !Number.isNaN(Date.parse(before.since)) ? before.since : stamp;
    out.entries.push({ type: h.type, apiVersion: target.apiVersion, namespace: hns, name: h.name, ready: r.ready, since, ...(r.ready ? {} : { message: r.message }) });
    if (r.ready) return;
    out.pending.push(`${where} ${r.message}`);
    if (!h.timeout) return;
    const limit = durationSeconds(h.timeout, 0);
    if (limit <= 0) return;
    const left = Date.parse(since) / 1000 + limit - now.getTime() / 1000;
    if (left <= 0) out.timedOut.push(`${where} not ready within ${h.timeout} (${r.message})`);
    else out.resyncAfterSeconds = Math.min(out.resyncAfterSeconds ?? Infinity, Math.max(1, Math.ceil(left)));
  });
  return out;
}

/** The GitOps engine that deploys a Package: Argo CD or Flux. */
export type Engine = 'argocd' | 'flux';

/** Which GitOps engine deploys the Package: Flux when asked for (spec.flux, or a FluxProvider reference), else Argo CD. */
export function engineOf(spec: PackageSpec): Engine {
  if (spec.gitOpsProviderRef?.kind === 'FluxProvider') return 'flux';
  if (spec.flux && (spec.flux.enabled ?? true) && !(spec.argocd && (spec.argocd.enabled ?? true))) return 'flux';
  return 'argocd';
}

/** Set by the deploying DecoratorController on the Package: what the engine reports. */
export const ENGINE_STATUS_ANNOTATION: Record<Engine, string> = {
  argocd: 'idpbuilder.cnoe.io/argocd-status',
  flux: 'idpbuilder.cnoe.io/flux-status',
};

/**
 * What a deploying decorator records on the Package (ENGINE_STATUS_ANNOTATION, JSON): the Application's or
 * Kustomization's name and namespace, Argo CD's sync and health status, or Flux's Ready condition status, reason and
 * message, and which repository credentials are missing.
 */
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
  /** Set when the repository's credentials Secret is not observed: what is missing (names only). */
  credentials?: string;
}

/**
 * What the Package hook decides: not to deploy (phase, condition reason and message, what it waits for, the
 * dependency closure) or to deploy with an engine from `cloneURL`.
 */
export type PackagePlan =
  /** `error`: only a change clears it (a cycle, a graph over the bound, a refused reference); else a wait. */
  | { deploy: false; phase: string; reason: string; message: string; error?: true; waitingFor?: string[]; dependsOn?: string[] }
  | { deploy: true; engine: Engine; cloneURL: string; dependsOn?: string[] };

/** What a Package can do now: wait (and why), or deploy a clone URL with an engine. Shared by the Package controller and the decorators that deploy it. */
export function packagePlan(req: { parent: KubeObject; related?: SyncRequest['related'] }): PackagePlan {
  const parent = req.parent;
  const spec = specOf(parent);
  const sreq = req as SyncRequest;
  const walk = walkDependencies(sreq);
  if ('tooLarge' in walk) {
    return { deploy: false, phase: 'Failed', error: true, reason: GRAPH_TOO_LARGE, message: `more than ${walk.tooLarge} Packages reachable through dependencies; shorten the dependency chains` };
  }
  const dependsOn = walk.dependsOn.length ? { dependsOn: walk.dependsOn } : {};
  if (walk.cycle) return { deploy: false, phase: 'Failed', error: true, reason: 'DependencyCycle', message: `dependency cycle: ${walk.cycle.join(' -> ')}`, ...dependsOn };
  const src = spec.source.gitRepository;
  const srcRef = { kind: 'GitRepository', name: src.name, namespace: src.namespace };
  // a reference into a namespace that does not allow it is refused before anything is waited for
  const ns = parent.metadata.namespace ?? 'default';
  const refusals = [
    ...[srcRef, ...dependencyRefs(spec)].map((r) => resolveRef(sreq, r).refusal),
    // health checks read objects of other kinds: a grant's `to` names their group (apps, batch, "" for Services)
    ...(spec.healthChecks ?? []).map((h) => {
      const t = healthTarget(h);
      return 'invalid' in t ? undefined : referencePermitted(req, { group: t.group, kind: h.type, namespace: h.namespace ?? ns, name: h.name });
    }),
  ].filter((r): r is Refusal => !!r);
  if (refusals.length) return { deploy: false, phase: 'Pending', error: true, reason: refusals[0].reason, message: refusals.map((r) => r.message).join('; '), ...dependsOn };
  const waitingFor: string[] = [];
  for (const d of dependencyRefs(spec)) {
    const r = readiness(lookup(sreq, d));
    if (!r.ready) waitingFor.push(`${refKey(d, parent)} (${r.message})`);
  }
  if (waitingFor.length) return { deploy: false, phase: 'Waiting', reason: 'WaitingForDependencies', message: `waiting for ${waitingFor.join(', ')}`, waitingFor, ...dependsOn };
  const repo = lookup(sreq, srcRef);
  if (!repo) return { deploy: false, phase: 'Pending', reason: 'SourceNotFound', message: `GitRepository ${refKey(srcRef, parent).slice('GitRepository/'.length)} not found`, ...dependsOn };
  const cloneURL = (repo.status as { cloneURL?: string } | undefined)?.cloneURL;
  const repoReady = readiness(repo);
  if (!repoReady.ready || !cloneURL) {
    return { deploy: false, phase: 'Waiting', reason: 'WaitingForSource', message: `waiting for GitRepository ${src.name}: ${repoReady.message ?? 'no cloneURL yet'}`, waitingFor: [`GitRepository/${src.name}`], ...dependsOn };
  }
  // spec.clusterRef: nothing new goes to the GitOps engine while the target is not usable (an Application or
  // Kustomization that exists is kept by the decorators: errors never delete)
  const cluster = resolveCluster(sreq, spec.clusterRef);
  if (cluster.state === 'blocked') {
    return { deploy: false, phase: 'Waiting', reason: cluster.reason, message: cluster.message, waitingFor: [`${spec.clusterRef!.kind}/${spec.clusterRef!.name}`], ...dependsOn };
  }
  return { deploy: true, engine: engineOf(spec), cloneURL, ...dependsOn };
}

function readEngineStatus(parent: KubeObject, engine: Engine): EngineStatus | undefined {
  try {
    const raw = parent.metadata.annotations?.[ENGINE_STATUS_ANNOTATION[engine]];
    return raw ? (JSON.parse(raw) as EngineStatus) : undefined;
  } catch {
    return undefined;
  }
}

/** The conditions of a Package: the standard three (src/kit/status.ts). */
export const PACKAGE_CONDITIONS = conditionSet('Package');

/** A transition of the status and the fields it sets. */
interface Decision {
  phase: string;
  marks: Marks;
  fields: Record<string, unknown>;
  resyncAfterSeconds?: number;
}

type View = ParentView<PackageSpec, PackageStatus>;

/**
 * decide, not deploying (any more): an error only a change clears fails (Degraded=True), anything else waits
 * (Degraded=False). The checks are not evaluated, and their last entries stay as they were.
 */
function decideBlocked(plan: Extract<PackagePlan, { deploy: false }>, closure: Record<string, unknown>, prevChecks: HealthEntry[]): Decision {
  const marks = plan.error ? markFailed(plan.reason, plan.message) : markBlocked(plan.reason, plan.message);
  return { phase: plan.phase, marks, fields: { ...(plan.waitingFor ? { waitingFor: plan.waitingFor } : {}), ...closure, ...(prevChecks.length ? { healthChecks: prevChecks } : {}) } };
}

/** observe: what the engine reports (the deploying decorator's annotation), as status fields and a state. */
function observeEngine(view: View, engine: Engine, closure: Record<string, unknown>): { fields: Record<string, unknown>; state: 'synced' | 'degraded' | 'deploying'; detail: string; credentials?: string } {
  const es = readEngineStatus(view.parent, engine);
  const ns = view.namespace;
  const name = view.name;
  if (engine === 'argocd') {
    return {
      fields: { ...closure, argoApplication: { name, namespace: ns, ...(es?.syncStatus ? { syncStatus: es.syncStatus } : {}), ...(es?.healthStatus ? { healthStatus: es.healthStatus } : {}) } },
      state: es?.syncStatus === 'Synced' && es.healthStatus === 'Healthy' ? 'synced' : es?.healthStatus === 'Degraded' ? 'degraded' : 'deploying',
      detail: es ? `application is ${es.syncStatus ?? 'Unknown'}/${es.healthStatus ?? 'Unknown'}` : 'waiting for the Argo CD Application to report',
      ...(es?.credentials ? { credentials: es.credentials } : {}),
    };
  }
  return {
    fields: { ...closure, fluxKustomization: { name, namespace: ns, ...(es?.ready ? { ready: es.ready } : {}), ...(es?.reason ? { reason: es.reason } : {}) } },
    state: es?.ready === 'True' ? 'synced' : es?.ready === 'False' && es.reason && !/Progressing|DependencyNotReady|Reconciling/.test(es.reason) ? 'degraded' : 'deploying',
    detail: es ? `kustomization is ${es.ready ?? 'Unknown'}${es.reason ? ` (${es.reason}${es.message ? `: ${es.message}` : ''})` : ''}` : 'waiting for the Flux Kustomization to report',
    ...(es?.credentials ? { credentials: es.credentials } : {}),
  };
}

/**
 * decide, deploying: a health check that cannot be evaluated, or one past its timeout, fails the Package (the
 * engine keeps deploying); then the engine's state: synced with every check passing is Synced, degraded is
 * Degraded, missing repository credentials or anything else is Deploying.
 */
function decideDeployed(engine: Engine, observed: ReturnType<typeof observeEngine>, health: HealthEvaluation): Decision {
  const fields = { ...observed.fields, ...(health.entries.length ? { healthChecks: health.entries } : {}) };
  const failure = health.invalid.length
    ? { reason: 'InvalidHealthCheck', message: `invalid health check: ${health.invalid.join('; ')}` }
    : health.timedOut.length
      ? { reason: 'HealthCheckTimeout', message: `health check failed: ${health.timedOut.join('; ')}` }
      : undefined;
  if (failure) return { phase: 'Failed', marks: markFailed(failure.reason, failure.message), fields };
  const resync = health.resyncAfterSeconds !== undefined ? { resyncAfterSeconds: health.resyncAfterSeconds } : {};
  const problems = health.pending;
  const { state, detail } = observed;
  if (state === 'synced' && problems.length === 0) {
    return { phase: 'Synced', marks: markReady('Synced', engine === 'argocd' ? 'application is synced and healthy' : 'kustomization is ready'), fields, ...resync };
  }
  if (state === 'degraded') return { phase: 'Degraded', marks: markFailed('DeploymentDegraded', detail), fields, ...resync };
  // the engine cannot read a private repository without them: not Ready while they are missing
  if (observed.credentials) return { phase: 'Deploying', marks: markProgressing('RepositoryCredentialsNotFound', observed.credentials), fields, ...resync };
  const message = problems.length && state === 'synced' ? `health checks pending: ${problems.join('; ')}` : detail;
  const reason = problems.length && state === 'synced' ? 'HealthCheckPending' : 'Deploying';
  return { phase: 'Deploying', marks: markProgressing(reason, message), fields, ...resync };
}

/** sync: observe (the plan, the target cluster, the engine, the health checks) → decide; a Package has no children. */
function sync(req: SyncRequest, env: HookEnv): SyncResponse {
  const view = readParent<PackageSpec, PackageStatus>(req);
  const prev = view.status;
  // health-check clocks of the same generation carry over; a new generation starts them again
  const prevChecks = view.current && Array.isArray(prev.healthChecks) ? prev.healthChecks : [];
  const plan = packagePlan(req);
  // spec.clusterRef (docs/multi-cluster.md): status.cluster says where it deploys; a target not usable now is Ready=False
  const cluster = resolveCluster(req, view.spec.clusterRef);
  const closure = { ...(plan.dependsOn ? { dependsOn: plan.dependsOn } : {}), ...(cluster.state !== 'local' ? { cluster: cluster.status } : {}) };
  const d = plan.deploy ? decideDeployed(plan.engine, observeEngine(view, plan.engine, closure), evaluateHealth(req, view.spec, prevChecks, env.now())) : decideBlocked(plan, closure, prevChecks);
  const status = writeStatus(PACKAGE_CONDITIONS, view.parent, env, d, d.fields);
  return d.resyncAfterSeconds ? { status, children: [], resyncAfterSeconds: d.resyncAfterSeconds } : { status, children: [] };
}

/**
 * The Package hooks, wrapped by the controller contract: customize (see packageCustomize) and sync (the Package's
 * status: waits for the source, provider and dependencies and evaluates the health checks; the Argo CD Application or
 * Flux objects are attached by the packages-argocd and packages-flux decorators).
 */
export const packageHooks: Hooks = contract({
  customize: (req) => customize(req),
  sync: (req, env) => sync(req, env),
});

/** The Package's related objects; the deploying decorators ask for the same. */
export { customize as packageCustomize };
