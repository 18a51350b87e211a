/**
 * Package: deploys a GitRepository's content through Argo CD (an Application beside the Package, which
 * Argo CD accepts through "applications in any namespace"). Creation waits until every dependency is
 * Ready; a dependency cycle is reported, never waited on forever. Status follows the Application.
 *
 * The Package controller's only child type is Argo CD's Application: Metacontroller starts it once that
 * CRD exists, i.e. once Argo CD is installed (docs/decisions.md).
 */
import type { PackageSpec, PackageStatus } from '../api/package.js';
import type { Condition } from '../api/common.js';
import { API_VERSION } from '../api/common.js';
import type { CustomizeRequest, CustomizeResponse, KubeObject, RelatedResourceRule, SyncRequest, SyncResponse } from '../metacontroller/protocol.js';
import type { HookEnv, Hooks } from './types.js';
import { conditions, type ConditionInput } from '../kit/conditions.js';
import { ownerLabels } from '../kit/labels.js';
import { asDesired, observedChildren, relatedObject, relatedObjects } from '../kit/observed.js';
import { lookup, readiness, refKey, refRules, type Ref } from '../kit/refs.js';

export const ARGO_APP = { apiVersion: 'argoproj.io/v1alpha1', kind: 'Application' } as const;

/** Kinds a health check may name, and where they live. */
const HEALTH_KINDS: Record<string, { apiVersion: string; resource: string }> = {
  Deployment: { apiVersion: 'apps/v1', resource: 'deployments' },
  StatefulSet: { apiVersion: 'apps/v1', resource: 'statefulsets' },
  DaemonSet: { apiVersion: 'apps/v1', resource: 'daemonsets' },
  Job: { apiVersion: 'batch/v1', resource: 'jobs' },
  Service: { apiVersion: 'v1', resource: 'services' },
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
    ...refRules([{ kind: 'GitRepository', name: source.name, namespace: source.namespace }, ...dependencyRefs(spec).filter((d) => d.kind !== 'Package')], req.parent),
    // every Package of the namespace, to follow dependency chains and find cycles
    { apiVersion: API_VERSION, resource: 'packages', namespace: ns },
  ];
  const byKind = new Map<string, { apiVersion: string; resource: string; namespace: string; names: Set<string> }>();
  for (const h of spec.healthChecks ?? []) {
    const k = HEALTH_KINDS[h.type];
    if (!k) continue;
    const hns = h.namespace ?? ns ?? 'default';
    const key = `${k.resource}/${hns}`;
    const entry = byKind.get(key) ?? { ...k, namespace: hns, names: new Set<string>() };
    entry.names.add(h.name);
    byKind.set(key, entry);
  }
  for (const e of [...byKind.values()].sort((a, b) => `${a.resource}/${a.namespace}`.localeCompare(`${b.resource}/${b.namespace}`))) {
    rules.push({ apiVersion: e.apiVersion, resource: e.resource, namespace: e.namespace, names: [...e.names].sort() });
  }
  return { relatedResources: rules };
}

/** The dependency cycle through this Package, if any (followed through the Packages of its namespace). */
export function findCycle(req: SyncRequest): string[] | undefined {
  const ns = req.parent.metadata.namespace ?? 'default';
  const packages = new Map<string, KubeObject>();
  for (const v of ['v1alpha1', 'v1alpha2']) for (const p of relatedObjects(req, 'Package', `idpbuilder.cnoe.io/${v}`)) packages.set(`${p.metadata.namespace}/${p.metadata.name}`, p);
  packages.set(`${ns}/${req.parent.metadata.name}`, req.parent);
  const self = `${ns}/${req.parent.metadata.name}`;
  const edges = (key: string): string[] => {
    const p = packages.get(key);
    if (!p) return [];
    return ((p.spec as PackageSpec).dependencies ?? []).filter((d) => d.kind === 'Package').map((d) => `${d.namespace ?? p.metadata.namespace}/${d.name}`);
  };
  const path: string[] = [];
  const seen = new Set<string>();
  const dfs = (key: string): boolean => {
    for (const nxt of edges(key)) {
      if (nxt === self) {
        path.push(nxt);
        return true;
      }
      if (seen.has(nxt)) continue;
      seen.add(nxt);
      path.push(nxt);
      if (dfs(nxt)) return true;
      path.pop();
    }
    return false;
  };
  return dfs(self) ? [self, ...path].map((k) => k.split('/')[1]) : undefined;
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

function sync(req: SyncRequest, env: HookEnv): SyncResponse {
  const parent = req.parent;
  const spec = specOf(parent);
  const prev = (parent.status ?? {}) as PackageStatus;
  const gen = parent.metadata.generation;
  const observedApp = observedChildren(req, ARGO_APP.kind, ARGO_APP.apiVersion).find((a) => a.metadata.name === parent.metadata.name);
  const finish = (phase: string, conds: ConditionInput[], fields: Record<string, unknown>, children: KubeObject[]): SyncResponse => {
    const status: Record<string, unknown> = { ...fields, phase, conditions: conditions(prev.conditions as Condition[] | undefined, conds, env.now(), gen) };
    if (gen !== undefined) status.observedGeneration = gen;
    return { status, children };
  };
  const kept = observedApp ? [asDesired(observedApp)] : [];
  const blocked = (phase: string, reason: string, message: string, extra: Record<string, unknown> = {}) =>
    finish(phase, [
      { type: 'Ready', status: 'False', reason, message },
      { type: 'Progressing', status: 'False', reason, message },
    ], extra, kept);

  if (spec.flux && (spec.flux.enabled ?? true) && !(spec.argocd && (spec.argocd.enabled ?? true))) {
    return blocked('Pending', 'FluxNotAvailable', 'deployment through Flux is not available in this version; use spec.argocd');
  }
  const cycle = findCycle(req);
  if (cycle) return blocked('Failed', 'DependencyCycle', `dependency cycle: ${cycle.join(' -> ')}`);

  const waitingFor: string[] = [];
  for (const d of dependencyRefs(spec)) {
    const r = readiness(lookup(req, d));
    if (!r.ready) waitingFor.push(`${refKey(d, parent)} (${r.message})`);
  }
  if (waitingFor.length) return blocked('Waiting', 'WaitingForDependencies', `waiting for ${waitingFor.join(', ')}`, { waitingFor });

  const src = spec.source.gitRepository;
  const srcRef = { kind: 'GitRepository', name: src.name, namespace: src.namespace };
  const repo = lookup(req, srcRef);
  if (!repo) return blocked('Pending', 'SourceNotFound', `GitRepository ${refKey(srcRef, parent).slice('GitRepository/'.length)} not found`);
  const cloneURL = (repo.status as { cloneURL?: string } | undefined)?.cloneURL;
  const repoReady = readiness(repo);
  if (!repoReady.ready || !cloneURL) {
    return blocked('Waiting', 'WaitingForSource', `waiting for GitRepository ${src.name}: ${repoReady.message ?? 'no cloneURL yet'}`, { waitingFor: [`GitRepository/${src.name}`] });
  }

  const app = application(parent, spec, cloneURL);
  const appStatus = (observedApp?.status ?? {}) as { sync?: { status?: string }; health?: { status?: string } };
  const syncStatus = appStatus.sync?.status;
  const healthStatus = appStatus.health?.status;
  const fields: Record<string, unknown> = {
    argoApplication: { name: parent.metadata.name, namespace: parent.metadata.namespace ?? 'default', ...(syncStatus ? { syncStatus } : {}), ...(healthStatus ? { healthStatus } : {}) },
  };
  const problems = healthProblems(req, spec);
  if (syncStatus === 'Synced' && healthStatus === 'Healthy' && problems.length === 0) {
    return finish('Synced', [
      { type: 'Ready', status: 'True', reason: 'Synced', message: 'application is synced and healthy' },
      { type: 'Progressing', status: 'False', reason: 'Synced', message: '' },
      { type: 'Degraded', status: 'False', reason: 'AsExpected', message: '' },
    ], fields, [app]);
  }
  if (healthStatus === 'Degraded' || healthStatus === 'Missing' && syncStatus === 'Synced') {
    const message = `application health is ${healthStatus}`;
    return finish('Degraded', [
      { type: 'Ready', status: 'False', reason: 'ApplicationDegraded', message },
      { type: 'Progressing', status: 'False', reason: 'ApplicationDegraded', message },
      { type: 'Degraded', status: 'True', reason: 'ApplicationDegraded', message },
    ], fields, [app]);
  }
  const message = problems.length ? `health checks pending: ${problems.join('; ')}` : `application ${observedApp ? `is ${syncStatus ?? 'Unknown'}/${healthStatus ?? 'Unknown'}` : 'created'}`;
  const reason = problems.length && syncStatus === 'Synced' ? 'HealthCheckPending' : 'Deploying';
  return finish('Deploying', [
    { type: 'Ready', status: 'False', reason, message },
    { type: 'Progressing', status: 'True', reason, message },
    { type: 'Degraded', status: 'False', reason: 'AsExpected', message: '' },
  ], fields, [app]);
}

export const packageHooks: Hooks = {
  customize: (req) => customize(req),
  sync: (req, env) => sync(req, env),
};
