/** Deterministic JSON: object keys sorted, so equal inputs give byte-identical output and stable hashes. */
import { createHash } from 'node:crypto';

/**
 * A deep copy of a JSON value with every object's keys in sorted order (arrays keep their order); properties whose
 * value is `undefined` are dropped, as JSON.stringify would.
 */
export function sortKeysDeep<T>(value: T): T {
  if (Array.isArray(value)) return value.map(sortKeysDeep) as T;
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value as Record<string, unknown>).sort()) {
    const v = (value as Record<string, unknown>)[key];
    if (v !== undefined) out[key] = sortKeysDeep(v);
  }
  return out as T;
}

/**
 * `JSON.stringify` of the value with keys sorted at every depth (sortKeysDeep): equal values give byte-identical
 * text, the basis of every hash of a plan.
 */
export function canonicalJSON(value: unknown): string {
  return JSON.stringify(sortKeysDeep(value));
}

/** A short lowercase hex digest of any JSON value (first `length` hex characters of SHA-256). */
export function shortHash(value: unknown, length = 8): string {
  return hashOfCanonical(canonicalJSON(value), length);
}

/**
 * shortHash of a value whose canonical form (canonicalJSON) is already at hand: `shortHash(v, n) ===
 * hashOfCanonical(canonicalJSON(v), n)`. For callers that hash one large value into several names.
 */
export function hashOfCanonical(canonical: string, length = 8): string {
  return createHash('sha256').update(canonical).digest('hex').slice(0, length);
}
