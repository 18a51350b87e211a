/**
 * The shared reconcile loop of every Helm-installed provider. A provider only says what to install
 * (an InstallPlan), which extra children it needs, what runs after the install, and its duck-typed
 * status fields; this module turns that into children, conditions and phase, and runs the uninstall
 * on finalize. Errors never delete: when a provider is blocked (a missing reference), the install
 * children already observed are kept as they are.
 */
import { parseAllDocuments } from 'yaml';
import type { KubeObject, SyncRequest, SyncResponse } from '../metacontroller/protocol.js';
import type { HookEnv } from '../controllers/types.js';
import type { Condition } from '../api/common.js';
import { conditions, type ConditionInput } from './conditions.js';
import { helmJob, ROLE_INSTALL, type HelmRelease, type InstallPlan, type ReleaseSummary } from './helm.js';
import { jobState, type JobState } from './jobs.js';
import { LABEL_ROLE } from './labels.js';
import { asDesired, observedChild, observedChildren, relatedObjects } from './observed.js';
import { redact } from './secrets.js';

export interface Blocker {
  reason: string;
  message: string;
}

export interface Step {
  /** Short name shown in messages, e.g. "bootstrap". */
  name: string;
  children: KubeObject[];
  state: JobState;
}

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
}

type Phase = 'Pending' | 'Installing' | 'Ready' | 'Failed' | 'Deleting';

function pods(req: SyncRequest): KubeObject[] {
  return relatedObjects(req, 'Pod', 'v1');
}

function previousConditions(req: SyncRequest): Condition[] | undefined {
  return (req.parent.status as { conditions?: Condition[] } | undefined)?.conditions;
}

function statusWith(req: SyncRequest, env: HookEnv, fields: Record<string, unknown>, phase: Phase, conds: ConditionInput[]): Record<string, unknown> {
  return {
    ...fields,
    phase,
    conditions: conditions(previousConditions(req), conds, env.now(), req.parent.metadata.generation),
    ...(req.parent.metadata.generation !== undefined ? { observedGeneration: req.parent.metadata.generation } : {}),
  };
}

/** Every observed child of the provider (ConfigMaps, Jobs, Secrets): what a blocked sync keeps. */
function observedAll(req: SyncRequest): KubeObject[] {
  return [...observedChildren(req, 'ConfigMap', 'v1'), ...observedChildren(req, 'Job', 'batch/v1'), ...observedChildren(req, 'Secret', 'v1')];
}

function observedInstallConfigMaps(req: SyncRequest): KubeObject[] {
  return observedChildren(req, 'ConfigMap', 'v1').filter((o) => o.metadata.labels?.[LABEL_ROLE] === ROLE_INSTALL);
}

/** Conditions for the three standard types, from one summary. */
export function standardConditions(phase: Phase, reason: string, message: string): ConditionInput[] {
  return [
    { type: 'Ready', status: phase === 'Ready' ? 'True' : 'False', reason, message },
    { type: 'Progressing', status: phase === 'Installing' || phase === 'Deleting' ? 'True' : 'False', reason, message },
    { type: 'Degraded', status: phase === 'Failed' ? 'True' : 'False', reason: phase === 'Failed' ? reason : 'AsExpected', message: phase === 'Failed' ? message : '' },
  ];
}

export function syncProvider(req: SyncRequest, env: HookEnv, plan: ProviderPlan): SyncResponse {
  const kind = req.parent.kind;
  const children = [...(plan.children ?? [])];
  if (plan.blocked || !plan.install) {
    const blocked = plan.blocked ?? { reason: 'NothingToInstall', message: 'no install plan' };
    // Errors never delete: every child already observed (install and bootstrap Jobs, their ConfigMaps,
    // credential Secrets) is kept as it is, unless the plan rebuilt it.
    const planned = new Set(children.map((c) => `${c.kind}/${c.metadata.name}`));
    children.push(...observedAll(req).filter((o) => !planned.has(`${o.kind}/${o.metadata.name}`)).map(asDesired));
    const prev = (req.parent.status ?? {}) as { installed?: boolean; installation?: unknown };
    const fields = { ...plan.status, installed: prev.installed ?? false, ...(prev.installation ? { installation: prev.installation } : {}) };
    const status = statusWith(req, env, fields, 'Pending', standardConditions('Pending', blocked.reason, blocked.message));
    return { status, children };
  }
  const install = helmJob(req.parent, plan.install, env);
  children.push(install.configMap, install.job);
  const installState = jobState(observedChild(req, 'Job', 'batch/v1', install.name), pods(req));
  const steps = installState.phase === 'Succeeded' ? (plan.after?.(installState) ?? []) : [];
  for (const s of steps) children.push(...s.children);

  const all: Step[] = [{ name: 'install', children: [], state: installState }, ...steps];
  const failed = all.find((s) => s.state.phase === 'Failed');
  const pending = all.find((s) => s.state.phase === 'Absent' || s.state.phase === 'Running');
  let phase: Phase;
  let reason: string;
  let message: string;
  if (failed) {
    phase = 'Failed';
    reason = failed.name === 'install' ? 'InstallFailed' : `${capitalize(failed.name)}Failed`;
    // a failing chart or tool may have printed a credential: none of this provider's Secret values reach status
    message = redact(`${failed.name} job failed: ${failed.state.message ?? 'unknown error'}`, [...children, ...observedChildren(req, 'Secret', 'v1')]);
  } else if (pending) {
    phase = 'Installing';
    reason = pending.name === 'install' ? 'Installing' : capitalize(pending.name);
    message = pending.state.phase === 'Absent' ? `${pending.name} job created` : `${pending.name} job running`;
  } else if (plan.health) {
    phase = 'Installing';
    reason = plan.health.reason;
    message = plan.health.message;
  } else {
    phase = 'Ready';
    reason = 'Available';
    message = `${kind} is installed and available`;
  }
  const fields = { ...plan.status, installed: installState.phase === 'Succeeded', installation: { configMap: install.configMap.metadata.name, job: install.job.metadata.name } };
  const status = statusWith(req, env, fields, phase, standardConditions(phase, reason, message));
  return { status, children };
}

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** The releases and manifests that were actually installed, read back from the observed install ConfigMaps. */
export function installedPlan(req: SyncRequest): InstallPlan | undefined {
  const cms = observedInstallConfigMaps(req);
  if (!cms.length) return undefined;
  const releases = new Map<string, HelmRelease>();
  const manifests = new Map<string, KubeObject>();
  for (const cm of cms) {
    const data = (cm.data ?? {}) as Record<string, string>;
    for (const r of JSON.parse(data['releases.json'] ?? '[]') as ReleaseSummary[]) releases.set(`${r.namespace}/${r.name}`, { ...r, values: {} });
    for (const doc of parseAllDocuments(data['manifests.yaml'] ?? '')) {
      const m = doc.toJS() as KubeObject | null;
      if (m?.kind) manifests.set(`${m.apiVersion}/${m.kind}/${m.metadata?.namespace ?? ''}/${m.metadata?.name}`, m);
    }
  }
  return { releases: [...releases.values()], manifests: [...manifests.values()] };
}

/**
 * Finalize: with deletionPolicy Retain, done at once; with Delete, an uninstall Job of what was
 * installed, and `finalized` only once it has succeeded.
 */
export function finalizeProvider(req: SyncRequest, env: HookEnv): SyncResponse {
  const spec = (req.parent.spec ?? {}) as { deletionPolicy?: string };
  const prev = { ...((req.parent.status as Record<string, unknown>) ?? {}) };
  delete prev.conditions;
  delete prev.phase;
  if (spec.deletionPolicy === 'Retain') {
    const status = statusWith(req, env, prev, 'Deleting', standardConditions('Deleting', 'Retained', 'deletionPolicy is Retain: the installation is left in place'));
    return { status, children: [], finalized: true };
  }
  const plan = installedPlan(req);
  if (!plan || plan.releases.length === 0) {
    const status = statusWith(req, env, prev, 'Deleting', standardConditions('Deleting', 'NothingInstalled', 'nothing was installed'));
    return { status, children: [], finalized: true };
  }
  const uninstall = helmJob(req.parent, plan, env, 'uninstall');
  const state = jobState(observedChild(req, 'Job', 'batch/v1', uninstall.name), pods(req));
  // The install ConfigMaps say what to uninstall: they are kept until the parent is gone, so that every
  // later finalize call still finds the same plan (and the same uninstall Job).
  const children = [uninstall.configMap, uninstall.job, ...observedInstallConfigMaps(req).map(asDesired)];
  if (state.phase === 'Succeeded') {
    const status = statusWith(req, env, { ...prev, installed: false }, 'Deleting', standardConditions('Deleting', 'Uninstalled', 'uninstall finished'));
    return { status, children, finalized: true };
  }
  if (state.phase === 'Failed') {
    const message = redact(
      `uninstall job failed: ${state.message ?? 'unknown error'} (set deletionPolicy: Retain to delete without uninstalling)`,
      observedChildren(req, 'Secret', 'v1'),
    );
    const status = statusWith(req, env, prev, 'Failed', standardConditions('Failed', 'UninstallFailed', message));
    return { status, children, finalized: false };
  }
  const status = statusWith(req, env, prev, 'Deleting', standardConditions('Deleting', 'Uninstalling', `uninstall job ${state.phase === 'Absent' ? 'created' : 'running'}`));
  return { status, children, finalized: false };
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

