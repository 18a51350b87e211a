/** Deterministic JSON: object keys sorted, so equal inputs give byte-identical output and stable hashes. */
import { createHash } from 'node:crypto';

/**
 * `value` with the keys of every object sorted (UTF-16 order, as `Array#sort`) and undefined members left
 * out. A plain object already in that order, with no undefined member and no member that changes, is
 * returned as is, and so is an array none of whose items changes: JSON.stringify writes it the same as the
 * copy (same keys, same order), without the allocation (issue 15). Other objects (a Date) are copied, so
 * JSON.stringify writes their own keys, not their `toJSON`.
 */
export function sortKeysDeep<T>(value: T): T {
  if (Array.isArray(value)) {
    let out: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const v = value[i];
      const s = sortKeysDeep(v);
      if (out) out.push(s);
      else if (s !== v) {
        out = value.slice(0, i);
        out.push(s);
      }
    }
    return (out ?? value) as T;
  }
  if (value === null || typeof value !== 'object') return value;
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj);
  const proto = Object.getPrototypeOf(obj) as unknown;
  let inOrder = proto === Object.prototype || proto === null;
  // an own `__proto__` member (JSON.parse makes one) goes through the copy's assignment, as it always did
  for (let i = 0; inOrder && i < keys.length; i++) if (keys[i] === '__proto__' || (i > 0 && keys[i - 1] > keys[i])) inOrder = false;
  // copy mode from the start when the keys must be sorted; else from the first member that changes
  let out: Record<string, unknown> | undefined = inOrder ? undefined : {};
  if (!inOrder) sortStrings(keys);
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i];
    const v = obj[key];
    const s = v === undefined ? undefined : sortKeysDeep(v);
    if (out) {
      if (s !== undefined) out[key] = s;
    } else if (s !== v || v === undefined) {
      out = {};
      for (let j = 0; j < i; j++) out[keys[j]] = obj[keys[j]];
      if (s !== undefined) out[key] = s;
    }
  }
  return (out ?? value) as T;
}

/**
 * Sorts distinct strings in place in UTF-16 code unit order, the order of `Array#sort` without a comparator:
 * by insertion for the few keys of most objects (cheaper than the generic sort's string conversions),
 * `Array#sort` for longer lists.
 */
function sortStrings(keys: string[]): void {
  if (keys.length > 12) {
    keys.sort();
    return;
  }
  for (let i = 1; i < keys.length; i++) {
    const k = keys[i];
    let j = i - 1;
    while (j >= 0 && keys[j] > k) {
      keys[j + 1] = keys[j];
      j--;
    }
    keys[j + 1] = k;
  }
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
