/**
 * Chart values the controllers rely on (an ingress class name, a Service name, a URL, a list of
 * namespaces…) against the user's `spec.values`, which are merged last. Maps are merged by mergeValues
 * already; what is left is a user value that replaces one of ours:
 * - a comma list (`commaList`) is joined: the user's items, then ours that are missing;
 * - any other value must equal ours (after `same`), else the provider is `Ready=False` with reason
 *   `ConflictingValues` and a message naming every such key.
 */
import type { Blocker } from './provider.js';

/** Condition reason when a user's `spec.values` replace a chart value the controller relies on with another value. */
export const CONFLICTING_VALUES = 'ConflictingValues';

/** One value a controller relies on. */
export interface Relied {
  /** Path in the chart values; keys may contain dots (`['configs', 'params', 'application.namespaces']`). */
  path: string[];
  /** Our value. */
  value: unknown;
  /** `commaList`: join the user's comma-separated items with ours instead of refusing. */
  merge?: 'commaList';
  /** Whether a user value is acceptable (default: same string form as `value`). */
  same?: (user: unknown) => boolean;
  /** Why the controller relies on it (ends the conflict message). */
  why: string;
}

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** The value at `path`, or undefined. */
export function getPath(values: unknown, path: string[]): unknown {
  let cur: unknown = values;
  for (const k of path) {
    if (!isObj(cur)) return undefined;
    cur = cur[k];
  }
  return cur;
}

/** `configs.params."application.namespaces"`: a path as the user writes it (keys with dots quoted). */
export function displayPath(path: string[]): string {
  return path.map((k) => (/^[A-Za-z0-9_-]+$/.test(k) ? k : JSON.stringify(k))).join('.');
}

function setPath(values: Obj, path: string[], v: unknown): Obj {
  const [k, ...rest] = path;
  if (!rest.length) return { ...values, [k]: v };
  return { ...values, [k]: setPath(isObj(values[k]) ? values[k] : {}, rest, v) };
}

/** Items of a comma list (`"a, b,c"` → `['a', 'b', 'c']`), empty items dropped. */
export function commaItems(v: unknown): string[] {
  return String(v ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

/**
 * `merged` (our values with the user's `user` merged last) with the relied-on values restored: comma lists
 * joined, and a `ConflictingValues` blocker for every user value that replaces one we rely on. `field`: the
 * spec field the user's values come from, as the message names it (default `values`).
 */
export function settle(merged: Obj, relied: Relied[], user: Obj | undefined, field = 'values'): { values: Obj; conflict?: Blocker } {
  let values = merged;
  const problems: string[] = [];
  for (const r of relied) {
    const u = getPath(user, r.path);
    if (u === undefined) continue;
    if (r.merge === 'commaList') {
      const items = [...new Set([...commaItems(u), ...commaItems(r.value)])];
      values = setPath(values, r.path, items.join(','));
      continue;
    }
    const ok = r.same ? r.same(u) : !isObj(u) && !Array.isArray(u) && String(u) === String(r.value);
    if (!ok) problems.push(`${field}.${displayPath(r.path)} is ${JSON.stringify(u)} but the controller relies on ${JSON.stringify(r.value)} (${r.why})`);
  }
  return problems.length ? { values, conflict: { reason: CONFLICTING_VALUES, message: problems.join('; ') } } : { values };
}
