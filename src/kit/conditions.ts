/**
 * Kubernetes-style conditions. lastTransitionTime is kept from the observed status unless the condition's
 * status really changed, so an unchanged world yields a byte-identical status (no hot loop).
 */
import type { Condition } from '../api/common.js';

/** A condition's status, as in Kubernetes' metav1.Condition: `True`, `False` or `Unknown`. */
export type ConditionStatus = 'True' | 'False' | 'Unknown';

/**
 * One condition as a hook decides it (type, status, reason, optional message); `conditions()` adds lastTransitionTime
 * and observedGeneration.
 */
export interface ConditionInput {
  type: string;
  status: ConditionStatus;
  reason: string;
  message?: string;
}

/** The condition of `type` in `conditions`, or undefined (none, or no such type). */
export function findCondition(conditions: readonly Condition[] | undefined, type: string): Condition | undefined {
  return conditions?.find((c) => c.type === type);
}

/** Builds the conditions list in the given order, carrying over transition times from `previous`. */
export function conditions(previous: readonly Condition[] | undefined, next: ConditionInput[], now: Date, generation?: number): Condition[] {
  const stamp = now.toISOString().replace(/\.\d{3}Z$/, 'Z');
  return next.map((c) => {
    const old = findCondition(previous, c.type);
    const lastTransitionTime = old && old.status === c.status && old.lastTransitionTime ? old.lastTransitionTime : stamp;
    const out: Condition = { type: c.type, status: c.status, reason: c.reason, message: c.message ?? '', lastTransitionTime };
    if (generation !== undefined) out.observedGeneration = generation;
    return out;
  });
}
