/**
 * The status writer and request reader every controller's sync shares.
 *
 * Each kind declares its condition set once (`conditionSet`): `Ready`, `Progressing` and `Degraded`, in that
 * order, then the extra types it may report (e.g. `VersionUnverified`). A sync decides one transition and
 * says it with one marker, which sets the three standard conditions consistently (Kubernetes API
 * conventions: a failure is `Ready=False`, `Progressing=False`, `Degraded=True` with one reason and message):
 *
 * | marker            | Ready                 | Progressing | Degraded          | when                                        |
 * |-------------------|-----------------------|-------------|-------------------|---------------------------------------------|
 * | `markReady`       | True                  | False       | False, AsExpected | done and serving                            |
 * | `markProgressing` | False, or True kept   | True        | False, AsExpected | work under way (install, sync, teardown)    |
 * | `markBlocked`     | False                 | False       | False, AsExpected | nothing moves, nothing at fault (a wait)    |
 * | `markFailed`      | False                 | False       | True              | a failure, or an error only a change clears |
 * | `markRetrying`    | False (the failure)   | True        | True (the failure)| a new attempt after a failure is under way  |
 *
 * `writeStatus` turns a transition into the status: the kind's fields, `phase`, the conditions (their
 * `lastTransitionTime` kept from the observed status unless the status changed: ./conditions.ts) and
 * `observedGeneration` (when the parent has a generation), each condition carrying it too.
 */
import type { Condition } from '../api/common.js';
import type { KubeObject } from '../metacontroller/protocol.js';
import type { HookEnv } from './hooks.js';
import { conditions, findCondition, type ConditionInput } from './conditions.js';

/** Condition type: the object does what it is for (Kubernetes API conventions). */
export const READY = 'Ready';
/** Condition type: the controller is moving the object toward its spec (Kubernetes API conventions). */
export const PROGRESSING = 'Progressing';
/** Condition type: something failed that a change (spec, credentials, the server) must fix (Kubernetes API conventions). */
export const DEGRADED = 'Degraded';
/** The reason of `Degraded=False`. */
export const AS_EXPECTED = 'AsExpected';

/** A reason (CamelCase, machine-readable) and a message (for people). */
export interface Summary {
  reason: string;
  message: string;
}

/** The three standard conditions of one transition, in the order Ready, Progressing, Degraded. */
export type Marks = readonly [ready: ConditionInput, progressing: ConditionInput, degraded: ConditionInput];

/** The conditions a kind reports: the three standard ones, then `extras` (types, in the order they are listed). */
export interface ConditionSet {
  readonly kind: string;
  readonly types: readonly string[];
  readonly extras: readonly string[];
}

/** Declares the condition set of `kind` (a name for error messages); `extras` are the additional types it may report. */
export function conditionSet(kind: string, extras: readonly string[] = []): ConditionSet {
  return { kind, types: [READY, PROGRESSING, DEGRADED, ...extras], extras: [...extras] };
}

function notDegraded(): ConditionInput {
  return { type: DEGRADED, status: 'False', reason: AS_EXPECTED, message: '' };
}

/** Done: `Ready=True`, `Progressing=False` (same reason and message), `Degraded=False` (AsExpected). */
export function markReady(reason: string, message: string): Marks {
  return [
    { type: READY, status: 'True', reason, message },
    { type: PROGRESSING, status: 'False', reason, message },
    notDegraded(),
  ];
}

/**
 * Work under way: `Progressing=True`, `Degraded=False` (AsExpected), and `Ready=False` with the same reason
 * and message; or, with `serving` (an upgrade or a periodic re-check while the last result still holds),
 * `Ready=True` with `serving`'s reason and message.
 */
export function markProgressing(reason: string, message: string, serving?: Summary): Marks {
  return [
    serving ? { type: READY, status: 'True', reason: serving.reason, message: serving.message } : { type: READY, status: 'False', reason, message },
    { type: PROGRESSING, status: 'True', reason, message },
    notDegraded(),
  ];
}

/**
 * Nothing moves and nothing is at fault: waiting on something outside (a reference not found or not ready
 * yet, a Secret, a dependency), or finished without being Ready (torn down). `Ready=False`,
 * `Progressing=False` (same reason and message), `Degraded=False` (AsExpected).
 */
export function markBlocked(reason: string, message: string): Marks {
  return [
    { type: READY, status: 'False', reason, message },
    { type: PROGRESSING, status: 'False', reason, message },
    notDegraded(),
  ];
}

/**
 * Marks of a wait (markBlocked's shape: all three False; no other marker gives it). A wait does not clear a
 * failure: writeStatus keeps an observed `Degraded=True` of the same generation through it (something not
 * seen for one sync, a cache lag, is not a recovery); a new attempt (markProgressing), a success or a spec
 * change clears it. Read from the content, so a copy of the marks is a wait too.
 */
function isWait(marks: Marks): boolean {
  return marks.every((c) => c.status === 'False');
}

/**
 * A failure (a Job failed, a check timed out) or an error only a change clears (a refused reference, a
 * dependency cycle): `Ready=False`, `Progressing=False`, `Degraded=True`, all three with `reason` and `message`.
 */
export function markFailed(reason: string, message: string): Marks {
  return [
    { type: READY, status: 'False', reason, message },
    { type: PROGRESSING, status: 'False', reason, message },
    { type: DEGRADED, status: 'True', reason, message },
  ];
}

/** A new attempt after `failure` is under way: `Ready=False` and `Degraded=True` keep the failure, `Progressing=True` says what runs. */
export function markRetrying(failure: Summary, reason: string, message: string): Marks {
  return [
    { type: READY, status: 'False', reason: failure.reason, message: failure.message },
    { type: PROGRESSING, status: 'True', reason, message },
    { type: DEGRADED, status: 'True', reason: failure.reason, message: failure.message },
  ];
}

/** One transition of a kind's status: its phase, its marks and the extra conditions (types of the set's `extras`). */
export interface Transition {
  phase: string;
  marks: Marks;
  extras?: readonly ConditionInput[];
}

/**
 * The status of `parent` after `t`: `fields`, then `phase`, `conditions` (marks, then extras in the order
 * given) and `observedGeneration`. A wait (markBlocked) keeps an observed `Degraded=True` of this generation. Throws when an extra condition's type is not one of the set's extras
 * (a programming error: the set is the kind's declaration).
 */
export function writeStatus(set: ConditionSet, parent: KubeObject, env: HookEnv, t: Transition, fields: Record<string, unknown> = {}): Record<string, unknown> {
  for (const c of t.extras ?? []) {
    if (!set.extras.includes(c.type)) throw new Error(`${set.kind}: condition ${c.type} is not in its condition set (${set.types.join(', ')})`);
  }
  const gen = parent.metadata.generation;
  const prior = parent.status as { conditions?: Condition[]; observedGeneration?: number } | undefined;
  const previous = prior?.conditions;
  let marks: readonly ConditionInput[] = t.marks;
  const failed = isWait(t.marks) ? findCondition(previous, DEGRADED) : undefined;
  if (failed?.status === 'True' && prior?.observedGeneration === gen) {
    marks = [t.marks[0], t.marks[1], { type: DEGRADED, status: 'True', reason: failed.reason ?? '', message: failed.message ?? '' }];
  }
  const status: Record<string, unknown> = { ...fields, phase: t.phase, conditions: conditions(previous, [...marks, ...(t.extras ?? [])], env.now(), gen) };
  if (gen !== undefined) status.observedGeneration = gen;
  return status;
}

/** The typed parts of a sync request's parent every sync reads first. */
export interface ParentView<Spec, Status> {
  parent: KubeObject;
  name: string;
  /** metadata.namespace, `default` when absent. */
  namespace: string;
  generation: number | undefined;
  spec: Spec;
  /** The observed status (`{}` when none). */
  status: Partial<Status>;
  /** Was the observed status written for this generation? */
  current: boolean;
  /** An observed condition of the parent, by type. */
  condition(type: string): Condition | undefined;
}

/** Reads a request's parent (no copy: the request is not changed). */
export function readParent<Spec, Status>(req: { parent: KubeObject }): ParentView<Spec, Status> {
  const parent = req.parent;
  const status = (parent.status ?? {}) as Partial<Status> & { observedGeneration?: number; conditions?: Condition[] };
  const generation = parent.metadata.generation;
  return {
    parent,
    name: parent.metadata.name,
    namespace: parent.metadata.namespace ?? 'default',
    generation,
    spec: (parent.spec ?? {}) as Spec,
    status,
    current: status.observedGeneration === generation,
    condition: (type) => findCondition(Array.isArray(status.conditions) ? status.conditions : undefined, type),
  };
}
