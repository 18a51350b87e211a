/**
 * The controller contract (layer: kit), applied to every sync and finalize answer of every controller
 * by `contract(hooks)`. It turns the rules of DESIGN.md "The contract under real conditions" into one
 * mechanism instead of a special case per controller (docs/decisions.md, "Retention, Jobs and retries"):
 *
 * 1. **Retention.** Metacontroller deletes every observed child an answer leaves out. An observed child
 *    that the hook did not return is therefore returned as observed, unless
 *    - the hook released it on purpose (`released`: the spec says it is gone, and the hook could see
 *      everything it needed to decide so), or
 *    - it was superseded: the answer holds a Job of the same role (label `idpbuilder.cnoe.io/role`) that
 *      has finished (Complete or Failed), e.g. an old install Job and its values ConfigMap once the new
 *      install Job has run.
 * 2. **Jobs run to the end.** An observed Job that has not finished is never left out, released or not.
 *    A Job that the answer adds (not observed yet) is withheld while an older Job with the same lock is
 *    still running (helm install and uninstall share one lock: helm's release lock), so the replacement
 *    starts after the old one ends. A finalize answer is not `finalized` while a Job of ours runs.
 * 3. **What a Job uses stays with it.** The ConfigMaps and Secrets that a returned Job mounts or reads
 *    are returned too.
 * 4. **One redaction point.** Every string of the status passes the Redactor (./redact.ts) built from
 *    every Secret of the request and of the answer.
 * 5. **A resync Metacontroller can represent.** `resyncAfterSeconds` is at most MAX_RESYNC_AFTER_SECONDS.
 */
import type { DecoratorSyncRequest, DecoratorSyncResponse, KubeObject, SyncRequest, SyncResponse } from '../metacontroller/protocol.js';
import type { DecoratorHooks, HookEnv, Hooks } from './hooks.js';
import { LABEL_ROLE } from './labels.js';
import { allObservedChildren, asDesired } from './observed.js';
import { Redactor } from './redact.js';

/**
 * The longest `resyncAfterSeconds` an answer carries (one day): Metacontroller turns the number into a Go
 * `time.Duration` (`seconds * float64(time.Second)`, int64 nanoseconds), which cannot hold more than about 292
 * years, and an out-of-range float conversion is implementation-dependent (negative on amd64: an immediate
 * requeue, for ever). A resync earlier than asked only recomputes the same answer, so a longer wait is
 * asked again then (e.g. a health check `timeout: 100000h`).
 */
export const MAX_RESYNC_AFTER_SECONDS = 86400;

/** `resyncAfterSeconds` within (0, MAX_RESYNC_AFTER_SECONDS]; anything else as given (undefined, 0). */
function clampResync(v: number | undefined): number | undefined {
  return typeof v === 'number' && v > MAX_RESYNC_AFTER_SECONDS ? MAX_RESYNC_AFTER_SECONDS : v;
}

/** A hook's answer before the contract: `released` names observed children (`Kind/name`) that may go. */
export type SyncAnswer = SyncResponse & { released?: string[] };

/** `Kind/name` of a child (children live in the parent's namespace, so the name is unique per kind). */
export function childKey(o: Pick<KubeObject, 'kind' | 'metadata'>): string {
  return `${o.kind}/${o.metadata.name}`;
}

interface JobCondition {
  type?: string;
  status?: string;
}

/**
 * True when a Job has finished for good: its `Complete` or `Failed` condition is True (batch/v1
 * JobStatus). `SuccessCriteriaMet` / `FailureTarget` alone are not enough: Pods may still be running.
 */
export function jobFinished(job: KubeObject): boolean {
  const conds = ((job.status as { conditions?: unknown } | undefined)?.conditions ?? []) as JobCondition[];
  if (!Array.isArray(conds)) return false;
  return conds.some((c) => c && (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True');
}

const ROLE_LOCK: Record<string, string> = { install: 'helm', uninstall: 'helm' };

/** The lock a Job holds while it runs: helm install and uninstall of one parent share one. */
function jobLock(job: KubeObject): string | undefined {
  const role = job.metadata.labels?.[LABEL_ROLE];
  return role ? (ROLE_LOCK[role] ?? role) : undefined;
}

function isJob(o: KubeObject): boolean {
  return o.kind === 'Job' && typeof o.apiVersion === 'string' && o.apiVersion.startsWith('batch/');
}

/**
 * Observed Jobs of this parent that are still running and have the same lock as `job` but another name:
 * while one exists, `job` must not start (it would be withheld by the contract).
 */
export function runningPredecessors(req: SyncRequest, job: KubeObject): KubeObject[] {
  const lock = jobLock(job);
  if (!lock) return [];
  return allObservedChildren(req).filter((o) => isJob(o) && o.metadata.name !== job.metadata.name && jobLock(o) === lock && !jobFinished(o));
}

/** Names of the ConfigMaps and Secrets a Job's pod template mounts or reads through env. */
function jobInputs(job: KubeObject): { configMaps: Set<string>; secrets: Set<string> } {
  const configMaps = new Set<string>();
  const secrets = new Set<string>();
  const pod = ((job.spec as { template?: { spec?: Record<string, unknown> } } | undefined)?.template?.spec ?? {}) as {
    volumes?: { configMap?: { name?: string }; secret?: { secretName?: string } }[];
    containers?: { env?: { valueFrom?: { secretKeyRef?: { name?: string }; configMapKeyRef?: { name?: string } } }[]; envFrom?: { secretRef?: { name?: string }; configMapRef?: { name?: string } }[] }[];
    initContainers?: unknown[];
  };
  for (const v of Array.isArray(pod.volumes) ? pod.volumes : []) {
    if (v?.configMap?.name) configMaps.add(v.configMap.name);
    if (v?.secret?.secretName) secrets.add(v.secret.secretName);
  }
  const containers = [...(Array.isArray(pod.containers) ? pod.containers : []), ...((Array.isArray(pod.initContainers) ? pod.initContainers : []) as typeof pod.containers & unknown[])];
  for (const c of containers ?? []) {
    for (const e of Array.isArray(c?.env) ? c.env : []) {
      if (e?.valueFrom?.secretKeyRef?.name) secrets.add(e.valueFrom.secretKeyRef.name);
      if (e?.valueFrom?.configMapKeyRef?.name) configMaps.add(e.valueFrom.configMapKeyRef.name);
    }
    for (const e of Array.isArray(c?.envFrom) ? c.envFrom : []) {
      if (e?.secretRef?.name) secrets.add(e.secretRef.name);
      if (e?.configMapRef?.name) configMaps.add(e.configMapRef.name);
    }
  }
  return { configMaps, secrets };
}

/** What the contract changed in an answer (for tests and status messages). */
export interface ContractEffects {
  /** Observed children returned although the hook left them out. */
  retained: string[];
  /** Jobs of the answer held back because an older Job with the same lock still runs. */
  withheld: string[];
}

/**
 * Applies rules 1–4 to a sync or finalize answer. Pure: the answer depends only on `req` and `res`.
 * The returned answer has no `released` field.
 */
export function enforce(req: SyncRequest, res: SyncAnswer): SyncResponse & { effects: ContractEffects } {
  const observed = allObservedChildren(req);
  const observedByKey = new Map(observed.map((o) => [childKey(o), o]));
  const released = new Set(res.released ?? []);
  const answer = new Map<string, KubeObject>();
  for (const c of res.children ?? []) answer.set(childKey(c), c);

  // Rule 2b: a new Job waits for a running Job of the same lock that the answer leaves out.
  const withheld: string[] = [];
  for (const [key, c] of [...answer]) {
    if (!isJob(c) || observedByKey.has(key)) continue;
    if (runningPredecessors(req, c).length) {
      answer.delete(key);
      withheld.push(key);
    }
  }

  // Roles whose replacement Job has finished: their older children are superseded.
  const settledRoles = new Set<string>();
  for (const [key, c] of answer) {
    const seen = observedByKey.get(key);
    const role = c.metadata.labels?.[LABEL_ROLE];
    if (isJob(c) && role && seen && jobFinished(seen)) settledRoles.add(role);
  }

  // Rules 1 and 2a.
  const retained: string[] = [];
  for (const o of observed) {
    const key = childKey(o);
    if (answer.has(key)) continue;
    const running = isJob(o) && !jobFinished(o);
    const role = o.metadata.labels?.[LABEL_ROLE];
    const superseded = !!role && settledRoles.has(role);
    if (running || (!released.has(key) && !superseded)) {
      answer.set(key, asDesired(o));
      retained.push(key);
    }
  }

  // Rule 3: the inputs of every Job that is returned.
  for (const c of [...answer.values()]) {
    if (!isJob(c)) continue;
    const { configMaps, secrets } = jobInputs(c);
    for (const [kind, names] of [['ConfigMap', configMaps], ['Secret', secrets]] as const) {
      for (const name of names) {
        const key = `${kind}/${name}`;
        const o = observedByKey.get(key);
        if (o && !answer.has(key)) {
          answer.set(key, asDesired(o));
          retained.push(key);
        }
      }
    }
  }

  const children = [...answer.values()];
  // Rule 4.
  const redactor = Redactor.fromObjects(children, req.children, req.related);
  const status = redactor.scrubDeep(res.status ?? {});
  const out: SyncResponse & { effects: ContractEffects } = { status, children, effects: { retained: retained.sort(), withheld: withheld.sort() } };
  if (res.resyncAfterSeconds !== undefined) out.resyncAfterSeconds = clampResync(res.resyncAfterSeconds);
  if (res.finalized !== undefined) {
    // Rule 2c: the parent (and with it every child) goes once finalized; a running Job of ours must end first.
    const anyRunning = children.some((c) => isJob(c) && observedByKey.has(childKey(c)) && !jobFinished(observedByKey.get(childKey(c))!));
    out.finalized = res.finalized && !anyRunning;
  }
  return out;
}

/** Strips the diagnostic field: what Metacontroller receives. */
function toResponse(r: SyncResponse & { effects?: ContractEffects }): SyncResponse {
  const { effects: _effects, ...rest } = r;
  return rest;
}

/** A controller's hooks with the contract applied to sync and finalize (customize is unchanged). */
export function contract(hooks: {
  sync(req: SyncRequest, env: HookEnv): SyncAnswer;
  finalize?(req: SyncRequest, env: HookEnv): SyncAnswer;
  customize?: Hooks['customize'];
}): Hooks {
  const out: Hooks = { sync: (req, env) => toResponse(enforce(req, hooks.sync(req, env))) };
  if (hooks.finalize) {
    const finalize = hooks.finalize;
    out.finalize = (req, env) => toResponse(enforce(req, finalize(req, env)));
  }
  if (hooks.customize) out.customize = hooks.customize;
  return out;
}

/**
 * An annotation value scrubbed: a JSON object or array (the engine status annotations) is scrubbed value by
 * value and serialized again (in its serialized form a credential is escaped and its boundaries hidden, e.g.
 * `\nghp_…`); any other value is scrubbed as text.
 */
function scrubAnnotation(redactor: Redactor, v: string): string {
  if (/^\s*[[{]/.test(v)) {
    try {
      return JSON.stringify(redactor.scrubDeep(JSON.parse(v) as unknown));
    } catch {
      /* not JSON: scrubbed as text */
    }
  }
  return redactor.scrub(v);
}

/**
 * Rule 4 for a DecoratorController's answer: every annotation value (`null`, which deletes, stays; JSON
 * values field by field) and
 * every string of the status passes the Redactor built from the Secrets of the request (attachments,
 * related) and of the answer. Decorators copy engine and gateway text into annotations (a Flux
 * Kustomization's Ready message, a gateway's Ready message). Pure.
 */
function enforceDecorator(req: DecoratorSyncRequest, res: DecoratorSyncResponse): DecoratorSyncResponse {
  const redactor = Redactor.fromObjects(res.attachments ?? [], req.attachments, req.related);
  const out: DecoratorSyncResponse = { ...res };
  if (res.annotations) {
    out.annotations = Object.fromEntries(Object.entries(res.annotations).map(([k, v]) => [k, typeof v === 'string' ? scrubAnnotation(redactor, v) : v]));
  }
  if (res.status && typeof res.status === 'object') out.status = redactor.scrubDeep(res.status);
  if (res.resyncAfterSeconds !== undefined) out.resyncAfterSeconds = clampResync(res.resyncAfterSeconds);
  return out;
}

/** A decorator's hooks with rule 4 applied to sync and finalize (customize is unchanged). */
export function decoratorContract(hooks: DecoratorHooks): DecoratorHooks {
  const out: DecoratorHooks = { sync: (req, env) => enforceDecorator(req, hooks.sync(req, env)) };
  if (hooks.finalize) {
    const finalize = hooks.finalize;
    out.finalize = (req, env) => enforceDecorator(req, finalize(req, env));
  }
  if (hooks.customize) out.customize = hooks.customize;
  return out;
}
