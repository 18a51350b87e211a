/**
 * The shared reconcile loop of every Helm-installed provider. A provider only says what to install
 * (an InstallPlan), which extra children it needs, what runs after the install, and its duck-typed
 * status fields; this module turns that into children, conditions and phase, and runs the uninstall
 * on finalize. Errors never delete: when a provider is blocked (a missing reference), the install
 * children already observed are kept as they are.
 */
import { parseAllDocuments } from 'yaml';
import type { KubeObject, SyncRequest } from '../metacontroller/protocol.js';
import type { HookEnv } from './hooks.js';
import type { ConditionInput } from './conditions.js';
import { conditionSet, markBlocked, markFailed, markProgressing, markReady, writeStatus, type Marks } from './status.js';
import { ANNOTATION_ATTEMPT, helmJob, LABEL_INSTALL, ROLE_INSTALL, type HelmRelease, type InstallChildren, type InstallPlan, type InstallTarget, type ReleaseSummary } from './helm.js';
import { jobFinished, runningPredecessors, type SyncAnswer } from './contract.js';
import { jobState, type JobState } from './jobs.js';
import { LABEL_ROLE } from './labels.js';
import { asDesired, observedChild, observedChildren, relatedObject, relatedObjects } from './observed.js';
import { CLUSTER_REASONS, clusterRefOf, kubeconfigSecretOf, resolveCluster } from './cluster.js';
import { USED_BY_MAX, usersKnown, usersOf, usersText, type UserKind } from './users.js';

/**
 * Why a provider cannot go on: a condition `reason` (CamelCase) and a human `message`, reported on the Ready
 * condition.
 */
export interface Blocker {
  reason: string;
  message: string;
}

/**
 * A step after a successful install (e.g. Gitea's bootstrap Job): its name in messages, the children it needs and the
 * state of its Job.
 */
export interface Step {
  /** Short name shown in messages, e.g. "bootstrap". */
  name: string;
  children: KubeObject[];
  state: JobState;
}

/**
 * What a provider controller decides from its spec and observed objects, for providerSync: the install plan (or why
 * it is blocked), children kept whatever the install state, steps after the install, readiness from related objects
 * and its kind's status fields.
 */
export interface ProviderPlan {
  /** What to install; absent when `blocked`. */
  install?: InstallPlan;
  /** Why nothing new can be installed now (missing reference, missing Secret…). */
  blocked?: Blocker;
  /** Children that exist whatever the install state (generated Secrets…). */
  children?: KubeObject[];
  /** Steps after a successful install (e.g. creating organizations and a token), given the install's state. */
  after?: (install: JobState) => Step[];
  /** Readiness beyond the Jobs, from related objects (e.g. a Deployment with no ready replica). */
  health?: Blocker;
  /** Kind-specific and duck-typed status fields. */
  status: Record<string, unknown>;
  /** Conditions beside Ready/Progressing/Degraded (e.g. `VersionUnverified`), listed after them. */
  conditions?: ConditionInput[];
}

type Phase = 'Pending' | 'Installing' | 'Ready' | 'Failed' | 'Deleting';

function pods(req: SyncRequest): KubeObject[] {
  return relatedObjects(req, 'Pod', 'v1');
}

/**
 * The conditions of every Helm-installed provider kind: the standard three, then what a plan adds
 * (`VersionUnverified`: src/controllers/versions.ts; `RepositoryCredentials`: src/controllers/argocd-repocreds.ts;
 * `ClustersRegistered`: ./cluster.ts).
 */
export const PROVIDER_CONDITIONS = conditionSet('provider', ['VersionUnverified', 'RepositoryCredentials', 'ClustersRegistered']);

function statusWith(req: SyncRequest, env: HookEnv, fields: Record<string, unknown>, phase: Phase, marks: Marks, extras?: ConditionInput[]): Record<string, unknown> {
  return writeStatus(PROVIDER_CONDITIONS, req.parent, env, { phase, marks, ...(extras ? { extras } : {}) }, fields);
}

function observedInstallConfigMaps(req: SyncRequest): KubeObject[] {
  return observedChildren(req, 'ConfigMap', 'v1').filter((o) => o.metadata.labels?.[LABEL_ROLE] === ROLE_INSTALL);
}

/** Seconds before attempt `n + 1` after attempt `n` failed: 30 s doubling, at most 30 minutes. */
export function retryDelaySeconds(attempt: number): number {
  return Math.min(30 * 2 ** Math.min(attempt, 16), 1800);
}

/** When a failed Job failed (its Failed condition's transition time, else its start time), in ms. */
function failedAt(job: KubeObject | undefined): number | undefined {
  const st = (job?.status ?? {}) as { conditions?: { type?: string; status?: string; lastTransitionTime?: string }[]; startTime?: string };
  const c = (Array.isArray(st.conditions) ? st.conditions : []).find((x) => x?.type === 'Failed' && x.status === 'True');
  // creationTimestamp last: the API server always sets it, so a Job without condition or start time still
  // schedules its retry from a fixed point instead of from every sync's clock
  const t = Date.parse(c?.lastTransitionTime ?? st.startTime ?? (job?.metadata as { creationTimestamp?: string } | undefined)?.creationTimestamp ?? '');
  return Number.isFinite(t) ? t : undefined;
}

interface Attempt {
  children: InstallChildren;
  state: JobState;
  retries: number;
  /** Set while the latest attempt failed and the next one waits for its backoff. */
  nextRetry?: Date;
  /** The failure that the current attempt retries. */
  previousFailure?: string;
}

/**
 * The current attempt of an install (or an uninstall: `action`). The attempt number comes from the observed Jobs of this install
 * (label LABEL_INSTALL) and from the status (whichever is higher, so neither a lagging cache nor a
 * lagging status restarts the count). A failed attempt is retried with a new Job once
 * retryDelaySeconds(attempt) has passed since it failed (the injected clock).
 */
function currentAttempt(req: SyncRequest, env: HookEnv, plan: InstallPlan, action: 'install' | 'uninstall' = 'install'): Attempt {
  const base = helmJob(req.parent, plan, env, action);
  const cm = base.configMap.metadata.name;
  let attempt = 0;
  for (const j of observedChildren(req, 'Job', 'batch/v1')) {
    if (j.metadata.labels?.[LABEL_INSTALL] !== cm) continue;
    const n = Number(j.metadata.annotations?.[ANNOTATION_ATTEMPT] ?? 0);
    if (Number.isInteger(n) && n > attempt) attempt = n;
  }
  const prev = (req.parent.status as { installation?: { configMap?: string; retries?: number; nextRetryTime?: string } } | undefined)?.installation;
  if (prev?.configMap === cm && Number.isInteger(prev.retries) && prev.retries! > attempt) attempt = prev.retries!;
  const at = (n: number) => (n === 0 ? base : helmJob(req.parent, plan, env, action, n));
  const children = at(attempt);
  const observed = observedChild(req, 'Job', 'batch/v1', children.name);
  const state = jobState(observed, pods(req));
  if (state.phase !== 'Failed') return { children, state, retries: attempt };
  const failed = failedAt(observed);
  // A Job that says when it failed schedules the retry from then; one that does not (no condition time, no
  // start time) keeps the time this status scheduled for this attempt, so the retry does not slide away on
  // every sync; only the first sight of the failure schedules it from now.
  const scheduled = prev?.configMap === cm && prev.retries === attempt ? Date.parse(prev.nextRetryTime ?? '') : NaN;
  const due = failed !== undefined ? failed + retryDelaySeconds(attempt) * 1000 : Number.isFinite(scheduled) ? scheduled : env.now().getTime() + retryDelaySeconds(attempt) * 1000;
  if (env.now().getTime() >= due) {
    const retry = at(attempt + 1);
    return { children: retry, state: jobState(observedChild(req, 'Job', 'batch/v1', retry.name), pods(req)), retries: attempt + 1, previousFailure: state.message };
  }
  return { children, state, retries: attempt, nextRetry: new Date(due) };
}

/** Was something installed before this install (the object was Ready, or an older install Job succeeded)? */
function installedBefore(req: SyncRequest, current: string): boolean {
  const prev = (req.parent.status ?? {}) as { installed?: boolean };
  if (prev.installed === true) return true;
  return observedChildren(req, 'Job', 'batch/v1').some(
    (j) => j.metadata.labels?.[LABEL_ROLE] === ROLE_INSTALL && j.metadata.name !== current && jobState(j).phase === 'Succeeded',
  );
}

function stamp(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * The sync of a Helm-installed provider: the plan's children, the install (or its retry) and the steps
 * after it, and a status from their Jobs. Upgrades keep `Ready=True` (the old release serves) with
 * `Progressing=True`; a failed install is retried with backoff (`installation.retries`,
 * `installation.nextRetryTime`, `resyncAfterSeconds`). Observed children this answer leaves out are kept
 * by the contract (./contract.ts), which also holds a new install Job back while an older one runs.
 */
export function syncProvider(req: SyncRequest, env: HookEnv, given: ProviderPlan): SyncAnswer {
  const plan = withTargetCluster(req, given);
  const children = [...(plan.children ?? [])];
  if (plan.blocked || !plan.install) {
    const blocked = plan.blocked ?? { reason: 'NothingToInstall', message: 'no install plan' };
    // Errors never delete: the contract returns every observed child this answer leaves out.
    const prev = (req.parent.status ?? {}) as { installed?: boolean; installation?: unknown };
    const fields = { ...plan.status, installed: prev.installed ?? false, ...(prev.installation ? { installation: prev.installation } : {}) };
    const status = statusWith(req, env, fields, 'Pending', markBlocked(blocked.reason, blocked.message), plan.conditions);
    return { status, children };
  }
  const current = currentAttempt(req, env, plan.install);
  const install = current.children;
  const installState = current.state;
  children.push(install.configMap, install.job);
  const steps = installState.phase === 'Succeeded' ? (plan.after?.(installState) ?? []) : [];
  for (const s of steps) children.push(...s.children);
  const upgrade = installedBefore(req, install.name);

  const d = decideInstall(req, env, current, steps, upgrade, plan.health);
  const installation: Record<string, unknown> = { configMap: install.configMap.metadata.name, job: install.job.metadata.name };
  // While a retry is scheduled the count is stated even when it is 0 (issue 10, example g).
  const retryScheduled = !!current.nextRetry && installState.phase === 'Failed';
  if (current.retries || retryScheduled) installation.retries = current.retries;
  if (retryScheduled) installation.nextRetryTime = stamp(current.nextRetry!);
  const fields = { ...plan.status, installed: installState.phase === 'Succeeded' || upgrade, installation };
  const status = statusWith(req, env, fields, d.phase, d.marks, plan.conditions);
  return d.resyncAfterSeconds ? { status, children, resyncAfterSeconds: d.resyncAfterSeconds } : { status, children };
}

/** A provider's transition: phase, marks and when to look again (a scheduled retry). */
interface ProviderDecision {
  phase: Phase;
  marks: Marks;
  resyncAfterSeconds?: number;
}

/**
 * decide, from the install attempt and the steps after it: the first failed Job fails the provider (with the
 * retry time of a failed install); a Job not finished yet is progress (an upgrade keeps Ready=True: the
 * installed release serves; a new install Job held back by a running one says so); then `health`; else Ready.
 */
function decideInstall(req: SyncRequest, env: HookEnv, current: Attempt, steps: Step[], upgrade: boolean, health: Blocker | undefined): ProviderDecision {
  const install = current.children;
  const all: Step[] = [{ name: 'install', children: [], state: current.state }, ...steps];
  const failed = all.find((s) => s.state.phase === 'Failed');
  if (failed) {
    const reason = failed.name === 'install' ? 'InstallFailed' : `${capitalize(failed.name)}Failed`;
    const message = `${failed.name} job failed: ${failed.state.message ?? 'unknown error'}`;
    if (failed.name !== 'install' || !current.nextRetry) return { phase: 'Failed', marks: markFailed(reason, message) };
    const retry = current.nextRetry;
    return {
      phase: 'Failed',
      marks: markFailed(reason, `${message} (attempt ${current.retries + 1}; retry at ${stamp(retry)})`),
      resyncAfterSeconds: Math.max(1, Math.ceil((retry.getTime() - env.now().getTime()) / 1000)),
    };
  }
  const pending = all.find((s) => s.state.phase === 'Absent' || s.state.phase === 'Running');
  if (pending) {
    const blockers = pending.name === 'install' && pending.state.phase === 'Absent' ? runningPredecessors(req, install.job) : [];
    const reason = blockers.length ? 'WaitingForRunningJob' : upgrade ? 'Upgrading' : pending.name === 'install' ? 'Installing' : capitalize(pending.name);
    let message = blockers.length
      ? `waiting for job ${blockers.map((b) => b.metadata.name).join(', ')} to finish before starting ${install.name}`
      : pending.state.phase === 'Absent'
        ? `${pending.name} job created`
        : `${pending.name} job running`;
    if (current.previousFailure && pending.name === 'install') message += ` (retry ${current.retries} after: ${current.previousFailure})`;
    // an upgrade: the installed release keeps serving (Ready=True) while the new install runs
    if (upgrade) return { phase: 'Ready', marks: markProgressing(reason, message, { reason, message: `the installed release keeps serving; ${message}` }) };
    return { phase: 'Installing', marks: markProgressing(reason, message) };
  }
  if (health) return { phase: 'Installing', marks: markProgressing(health.reason, health.message) };
  return { phase: 'Ready', marks: markReady('Available', `${req.parent.kind} is installed and available`) };
}

/**
 * The plan aimed at the object's `spec.clusterRef` (./cluster.ts): the install goes there (InstallPlan.target)
 * and `status.cluster` says so. A target that is missing or not ready blocks the install (Ready=False with the
 * cluster's reason; the contract keeps the observed children). The caller's customize asks for clusterRules.
 */
function withTargetCluster(req: SyncRequest, plan: ProviderPlan): ProviderPlan {
  const cluster = resolveCluster(req, clusterRefOf(req.parent));
  if (cluster.state === 'local') return plan;
  const status = { ...plan.status, cluster: cluster.status };
  if (cluster.state === 'blocked') return { ...plan, install: undefined, blocked: { reason: cluster.reason, message: cluster.message }, status };
  return { ...plan, status, ...(plan.install ? { install: { ...plan.install, target: cluster.target } } : {}) };
}

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** The releases and manifests that were actually installed, read back from the observed install ConfigMaps. */
function installedPlan(req: SyncRequest): InstallPlan | undefined {
  const cms = observedInstallConfigMaps(req);
  if (!cms.length) return undefined;
  const releases = new Map<string, HelmRelease>();
  const manifests = new Map<string, KubeObject>();
  let target: InstallTarget | undefined;
  for (const cm of cms) {
    const data = (cm.data ?? {}) as Record<string, string>;
    for (const r of JSON.parse(data['releases.json'] ?? '[]') as ReleaseSummary[]) releases.set(`${r.namespace}/${r.name}`, { ...r, values: {} });
    if (data['target.json']) target = JSON.parse(data['target.json']) as InstallTarget;
    for (const doc of parseAllDocuments(data['manifests.yaml'] ?? '')) {
      const m = doc.toJS() as KubeObject | null;
      if (m?.kind) manifests.set(`${m.apiVersion}/${m.kind}/${m.metadata?.namespace ?? ''}/${m.metadata?.name}`, m);
    }
  }
  return { releases: [...releases.values()], manifests: [...manifests.values()], ...(target ? { target } : {}) };
}

/** Observed Jobs of this parent that have not finished (the contract never lets them be deleted). */
function runningJobs(req: SyncRequest): KubeObject[] {
  return observedChildren(req, 'Job', 'batch/v1').filter((j) => !jobFinished(j));
}

/** What a provider's finalize waits for besides its own Jobs. */
export interface FinalizeOptions {
  /** Kinds whose objects hold the provider while they reference it (./users.ts); their rules come from `usersRules`. */
  usedBy?: UserKind[];
}

/**
 * Finalize: first, while anything of `opts.usedBy` still references the provider (or the request does not
 * say yet who does), nothing happens: `finalized: false`, no uninstall Job, `status.usedBy` lists the users
 * and `Ready=False` has reason `InUse` (or `WaitingForUsers`), whatever the deletionPolicy. Then, with
 * deletionPolicy Retain, done once no Job of ours runs (the installation, and the credential Secrets it
 * created in its own namespace, stay); with Delete, an uninstall Job of what was installed (./helm.ts
 * `releaseUninstall`, `namespaceRelease`), started once no install Job runs, and `finalized` only once it
 * has succeeded. With Delete, while the install ConfigMap that `status.installation.configMap` names is not
 * observed, it waits (`InstallRecordNotFound`, not finalized): what to uninstall is unknown, not absent.
 */
export function finalizeProvider(req: SyncRequest, env: HookEnv, opts: FinalizeOptions = {}): SyncAnswer {
  const spec = (req.parent.spec ?? {}) as { deletionPolicy?: string };
  const prev = { ...((req.parent.status as Record<string, unknown>) ?? {}) };
  delete prev.conditions;
  delete prev.phase;
  delete prev.usedBy;
  const kinds = opts.usedBy ?? [];
  if (kinds.length) {
    const what = spec.deletionPolicy === 'Retain' ? 'deletion' : 'the uninstall';
    // Errors never delete: the contract returns every observed child; no uninstall Job is added.
    if (!usersKnown(req, kinds)) {
      const message = `waiting to learn which ${kinds.join('s and ')}s use this ${req.parent.kind}: ${what} waits until none does`;
      return { status: statusWith(req, env, prev, 'Deleting', markProgressing('WaitingForUsers', message)), children: [], finalized: false };
    }
    const users = usersOf(req, kinds);
    if (users.length) {
      const message = `in use by ${usersText(users)}: ${what} waits until they are gone`;
      const fields = { ...prev, usedBy: users.slice(0, USED_BY_MAX) };
      return { status: statusWith(req, env, fields, 'Deleting', markProgressing('InUse', message)), children: [], finalized: false };
    }
  }
  const plan = installedPlan(req);
  // Unknown is not absent: the install ConfigMap the status names (the record of what to uninstall) not observed
  // is not "nothing was installed". No uninstall Job and no finalize until it is observed again.
  const recorded = (prev.installation as { configMap?: unknown } | undefined)?.configMap;
  if (spec.deletionPolicy !== 'Retain' && typeof recorded === 'string' && !observedChild(req, 'ConfigMap', 'v1', recorded)) {
    const message = `cannot uninstall yet: ConfigMap ${recorded}, the record of what was installed, is not observed; waiting for it (restore it, or set deletionPolicy: Retain to delete without uninstalling)`;
    return { status: statusWith(req, env, prev, 'Deleting', markProgressing('InstallRecordNotFound', message)), children: [], finalized: false };
  }
  const uninstall = spec.deletionPolicy !== 'Retain' && plan && plan.releases.length ? helmJob(req.parent, plan, env, 'uninstall') : undefined;
  // every attempt of this uninstall carries LABEL_INSTALL = its ConfigMap's name: a running one is ours, not a wait
  const running = runningJobs(req).filter((j) => !uninstall || j.metadata.labels?.[LABEL_INSTALL] !== uninstall.configMap.metadata.name);
  if (running.length) {
    const names = running.map((j) => j.metadata.name).join(', ');
    const message = `waiting for job ${names} to finish before ${uninstall ? 'uninstalling' : 'letting go'} (a running Job is never killed)`;
    const status = statusWith(req, env, prev, 'Deleting', markProgressing('WaitingForRunningJob', message));
    return { status, children: uninstall ? [uninstall.configMap, ...observedInstallConfigMaps(req).map(asDesired)] : [], finalized: false };
  }
  if (spec.deletionPolicy === 'Retain') {
    const status = statusWith(req, env, prev, 'Deleting', markProgressing('Retained', retainedMessage(plan)));
    return { status, children: [], finalized: true };
  }
  if (!uninstall) {
    const status = statusWith(req, env, prev, 'Deleting', markProgressing('NothingInstalled', 'nothing was installed'));
    return { status, children: [], finalized: true };
  }
  const gone = plan?.target ? targetKubeconfigGone(req, plan.target) : undefined;
  if (gone) {
    // The uninstall Job could not start (its kubeconfig volume is missing): say so instead of a Job pending in
    // silence. An uninstall Job already made is kept (a Job is never dropped); none is made until the Secret is back.
    const made = observedChild(req, 'Job', 'batch/v1', uninstall.name);
    const status = statusWith(req, env, prev, 'Deleting', markProgressing(CLUSTER_REASONS.secretNotFound, gone));
    return { status, children: [...(made ? [uninstall.configMap, uninstall.job] : []), ...observedInstallConfigMaps(req).map(asDesired)], finalized: false };
  }
  // A failed uninstall is retried like an install (retryDelaySeconds: 30 s doubling, at most 30 min), each
  // attempt a new Job; the failed ones stay (the contract never drops a Job it has not seen superseded).
  const current = currentAttempt(req, env, plan!, 'uninstall');
  const state = current.state;
  // The install ConfigMaps say what to uninstall: they are kept until the parent is gone, so that every
  // later finalize call still finds the same plan (and the same uninstall Job).
  const children = [current.children.configMap, current.children.job, ...observedInstallConfigMaps(req).map(asDesired)];
  if (state.phase === 'Succeeded') {
    const status = statusWith(req, env, { ...prev, installed: false }, 'Deleting', markProgressing('Uninstalled', 'uninstall finished'));
    return { status, children, finalized: true };
  }
  if (state.phase === 'Failed') {
    const next = current.nextRetry!;
    const message = `uninstall job failed: ${state.message ?? 'unknown error'} (attempt ${current.retries + 1}; retry at ${stamp(next)}; set deletionPolicy: Retain to delete without uninstalling)`;
    const status = statusWith(req, env, prev, 'Failed', markFailed('UninstallFailed', message));
    return { status, children, finalized: false, resyncAfterSeconds: Math.max(1, Math.ceil((next.getTime() - env.now().getTime()) / 1000)) };
  }
  const retry = current.previousFailure ? ` (retry ${current.retries} after: ${current.previousFailure})` : '';
  const status = statusWith(req, env, prev, 'Deleting', markProgressing('Uninstalling', `uninstall job ${state.phase === 'Absent' ? 'created' : 'running'}${retry}`));
  return { status, children, finalized: false };
}

/**
 * What stays with deletionPolicy Retain, said exactly: every release with its namespace and everything in it
 * (volumes and their data included), its cluster-scoped objects (CRDs, ClusterRoles, webhooks), and what the
 * install Job applied after the charts. A provider that installs the same release into the same namespace later
 * takes all of it over as it is: `helm upgrade --install` upgrades the existing release, and a data volume
 * claimed by name (Gitea's `gitea-shared-storage`) is mounted again with its old content.
 */
function retainedMessage(plan: InstallPlan | undefined): string {
  if (!plan?.releases.length) return 'deletionPolicy is Retain: the installation is left in place';
  const releases = plan.releases.map((r) => `${r.name} in namespace ${r.namespace}`).join(', ');
  return (
    `deletionPolicy is Retain: the installation is left in place: release ${releases}, with the namespace and everything in it ` +
    '(volumes and their data, Secrets), its cluster-scoped objects (CRDs, cluster roles, webhooks) and chart hook objects' +
    `${plan.manifests?.length ? ', and the objects applied after the chart' : ''}; a provider that installs the same release there later takes it over, data included`
  );
}

/**
 * Why the uninstall cannot reach the cluster the releases were installed into, or undefined. Only a kubeconfig
 * Secret this request asked for counts (the recorded target is the one `spec.clusterRef` names, whose rules the
 * customize hook adds): a Secret not asked for is unknown, not absent.
 */
function targetKubeconfigGone(req: SyncRequest, target: InstallTarget): string | undefined {
  const ref = clusterRefOf(req.parent);
  if (!ref || kubeconfigSecretOf(ref).secret !== target.secret) return undefined;
  const namespace = req.parent.metadata.namespace ?? 'default';
  if (relatedObject(req, 'Secret', 'v1', namespace, target.secret)) return undefined;
  return `cannot uninstall: the kubeconfig Secret ${target.secret} of the cluster the releases were installed into (${target.registeredName}) is not in namespace ${namespace}; restore it, or set deletionPolicy: Retain to delete without uninstalling`;
}

/** Related Pods of this parent's Jobs (their termination messages explain failures). */
export function jobPodsRule(parent: KubeObject) {
  return {
    apiVersion: 'v1',
    resource: 'pods',
    namespace: parent.metadata.namespace,
    labelSelector: { matchLabels: { 'idpbuilder.cnoe.io/owner-uid': parent.metadata.uid ?? '' } },
  };
}

