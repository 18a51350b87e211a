/**
 * What changed in one hook call: the parent's status as Metacontroller observed it (request) against the
 * status the hook answered (response). Pure; the server calls it after the hook and queues the result.
 *
 * | event | kind | when (observed → answered) |
 * | --- | --- | --- |
 * | PlatformCreated | Platform | first sync: the observed status has no conditions yet |
 * | ComponentInstallStarted | providers | status.installation.job appears |
 * | ComponentUpgradeStarted | providers | status.installation.job changes to another Job |
 * | ComponentInstallCompleted | providers | status.installed false → true |
 * | ComponentInstallFailed (Warning) | providers | phase → Failed |
 * | ComponentHealthCheckPassed | providers | Ready → True |
 * | ComponentHealthCheckFailed (Warning) | providers | Ready True → False |
 * | GitRepositoryCreated | GitRepository | first sync |
 * | GitRepositorySyncCompleted | GitRepository | status.lastSyncTime changes |
 * | PackageDeployed | Package | Ready → True |
 *
 * Each event's key names the change (object uid, reason and what identifies the change: the Job, the sync
 * time, or the observed condition's lastTransitionTime), so a retried call reports nothing new.
 */
import type { Condition } from '../api/common.js';
import { KIND_BY_NAME } from '../api/kinds.js';
import type { KubeObject, ObjectMap, SyncResponse } from '../metacontroller/protocol.js';
import type { EventReason, EventSpec, ObjectReference } from './types.js';
import { Redactor } from '../kit/redact.js';
import { secretEntries } from '../kit/secrets.js';

interface StatusView {
  conditions?: Condition[];
  phase?: string;
  installed?: boolean;
  installation?: { job?: string; configMap?: string };
  lastSyncTime?: string;
  commitSHA?: string;
  url?: string;
  version?: string;
  providers?: Record<string, unknown[]>;
}

function cond(s: StatusView, type: string): Condition | undefined {
  return Array.isArray(s.conditions) ? s.conditions.find((c) => c && c.type === type) : undefined;
}

function asStatus(v: unknown): StatusView {
  return v && typeof v === 'object' && !Array.isArray(v) ? (v as StatusView) : {};
}

/**
 * Every value of the Secrets the request or response carries, to keep them out of notes: the decoded
 * values of every key (public ones such as `username` too) and the base64 text of `data` as it stands, each
 * of at least 4 characters; longest first.
 */
export function secretValues(children: ObjectMap | undefined, desired: KubeObject[] = []): string[] {
  const out = new Set<string>();
  const add = (o: KubeObject) => {
    if (o.kind !== 'Secret') return;
    for (const [, plain] of secretEntries(o)) if (plain.length >= 4) out.add(plain);
    const data = (o as Record<string, unknown>).data;
    for (const v of Object.values(data && typeof data === 'object' ? data : {})) if (typeof v === 'string' && v.length >= 4) out.add(v);
  };
  for (const group of Object.values(children ?? {})) for (const o of Object.values(group ?? {})) if (o) add(o);
  for (const o of desired) add(o);
  return [...out].sort((a, b) => b.length - a.length);
}

/** The Redactor of Event notes: values only, masked as `[redacted]`. */
const noteRedactor = (secrets: readonly string[]) => new Redactor(secrets, { mask: '[redacted]', shapes: false });

/**
 * `text` with every secret value (and its encoded forms, src/kit/redact.ts Redactor) replaced by
 * `[redacted]`. Values only: a note is built from status the contract's Redactor already scrubbed of
 * credential shapes.
 */
export function scrub(text: string, secrets: readonly string[]): string {
  return noteRedactor(secrets).scrub(text);
}

/**
 * The part of a sync request transitions() reads: the parent, its observed children and whether it is being
 * finalized.
 */
export interface TransitionInput {
  parent: KubeObject;
  children?: ObjectMap;
  finalizing?: boolean;
}

/** The events one sync call shows. Empty for finalize calls and objects being deleted. */
export function transitions(req: TransitionInput, res: SyncResponse): EventSpec[] {
  const parent = req.parent;
  if (req.finalizing || parent.metadata.deletionTimestamp) return [];
  const def = KIND_BY_NAME.get(parent.kind);
  if (!def) return [];
  const prev = asStatus(parent.status);
  const next = asStatus(res.status);
  const uid = parent.metadata.uid ?? `${parent.metadata.namespace ?? ''}/${parent.metadata.name}`;
  const regarding: ObjectReference = {
    apiVersion: parent.apiVersion,
    kind: parent.kind,
    name: parent.metadata.name,
    ...(parent.metadata.namespace ? { namespace: parent.metadata.namespace } : {}),
    ...(parent.metadata.uid ? { uid: parent.metadata.uid } : {}),
  };
  const gen = parent.metadata.generation ?? 0;
  const out: EventSpec[] = [];
  const emit = (reason: EventReason, type: 'Normal' | 'Warning', action: string, note: string, change: string, related?: ObjectReference) => {
    out.push({ reason, type, action, note, regarding, key: `${uid}/${reason}/${change}`, ...(related ? { related } : {}) });
  };
  const name = `${parent.kind} ${parent.metadata.namespace ?? ''}/${parent.metadata.name}`.replace(' /', ' ');
  const firstSync = !Array.isArray(prev.conditions) || prev.conditions.length === 0;
  const readyPrev = cond(prev, 'Ready');
  const readyNext = cond(next, 'Ready');
  const becameReady = readyNext?.status === 'True' && readyPrev?.status !== 'True';
  const readyChange = `${gen}/${readyPrev?.status ?? ''}/${readyPrev?.lastTransitionTime ?? ''}`;

  if (parent.kind === 'Platform') {
    if (firstSync) {
      const n = Object.values(next.providers ?? {}).reduce((a, l) => a + (Array.isArray(l) ? l.length : 0), 0);
      emit('PlatformCreated', 'Normal', 'Create', `${name} created with ${n} component${n === 1 ? '' : 's'}`, 'created');
    }
  } else if (def.duck) {
    const jobPrev = prev.installation?.job;
    const jobNext = next.installation?.job;
    const jobRef = (job: string): ObjectReference => ({ apiVersion: 'batch/v1', kind: 'Job', name: job, ...(parent.metadata.namespace ? { namespace: parent.metadata.namespace } : {}) });
    if (jobNext && jobNext !== jobPrev) {
      if (jobPrev || prev.installed) {
        // keyed by what is replaced, not by the new Job's name: a retried first call may name it differently
        // (a freshly generated credential is part of the install's identity)
        emit('ComponentUpgradeStarted', 'Normal', 'Upgrade', `${name}: upgrade started, install Job ${jobNext} replaces ${jobPrev ?? 'the previous installation'}`, `from/${jobPrev ?? ''}/${gen}`, jobRef(jobNext));
      } else {
        emit('ComponentInstallStarted', 'Normal', 'Install', `${name}: install started, Job ${jobNext}`, `first/${gen}`, jobRef(jobNext));
      }
    }
    if (next.installed === true && prev.installed !== true) {
      const v = typeof next.version === 'string' && next.version ? ` (version ${next.version})` : '';
      emit('ComponentInstallCompleted', 'Normal', 'Install', `${name}: install completed${v}${jobNext ? `, Job ${jobNext}` : ''}`, `job/${jobNext ?? ''}`, jobNext ? jobRef(jobNext) : undefined);
    }
    if (next.phase === 'Failed' && prev.phase !== 'Failed') {
      const why = readyNext?.message ? `: ${readyNext.message}` : '';
      emit('ComponentInstallFailed', 'Warning', 'Install', `${name}: ${readyNext?.reason ?? 'Failed'}${why}`, `job/${jobNext ?? ''}/${readyNext?.reason ?? ''}/${readyChange}`, jobNext ? jobRef(jobNext) : undefined);
    }
    if (becameReady) {
      emit('ComponentHealthCheckPassed', 'Normal', 'HealthCheck', `${name} is ready${readyNext?.message ? `: ${readyNext.message}` : ''}`, readyChange);
    } else if (readyPrev?.status === 'True' && readyNext?.status === 'False') {
      emit('ComponentHealthCheckFailed', 'Warning', 'HealthCheck', `${name} is no longer ready: ${readyNext.reason ?? ''}${readyNext.message ? `: ${readyNext.message}` : ''}`, readyChange);
    }
  } else if (parent.kind === 'GitRepository') {
    if (firstSync) emit('GitRepositoryCreated', 'Normal', 'Create', `${name} created`, 'created');
    if (typeof next.lastSyncTime === 'string' && next.lastSyncTime && next.lastSyncTime !== prev.lastSyncTime) {
      const sha = typeof next.commitSHA === 'string' && next.commitSHA ? ` at commit ${next.commitSHA.slice(0, 12)}` : '';
      const url = typeof next.url === 'string' && next.url ? ` to ${next.url}` : '';
      emit('GitRepositorySyncCompleted', 'Normal', 'Sync', `${name} synced${url}${sha}`, `sync/${next.lastSyncTime}/${next.commitSHA ?? ''}`);
    }
  } else if (parent.kind === 'Package') {
    if (becameReady) emit('PackageDeployed', 'Normal', 'Deploy', `${name} deployed${readyNext?.message ? `: ${readyNext.message}` : ''}`, readyChange);
  }
  if (out.length === 0) return out;
  const secrets = secretValues(req.children, res.children);
  if (secrets.length) {
    const redactor = noteRedactor(secrets);
    for (const e of out) e.note = redactor.scrub(e.note);
  }
  return out;
}
