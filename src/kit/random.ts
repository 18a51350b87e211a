/**
 * The hooks' randomness (layer: kit). Hooks are pure: identical requests must give identical answers,
 * first syncs and their retries included, and a generated credential must not change because its Secret
 * was briefly not observed. So the bytes a hook draws are not fresh randomness but a keyed stream:
 * HMAC-SHA256(seed, `<parent identity>\0<counter>`) for counter 0, 1, 2, … — unpredictable without the
 * seed, the same for every request about the same object.
 *
 * The seed is the service's secret (`serve --random-seed-file`, the chart keeps it in a Secret across
 * upgrades); without one, a seed drawn at start-up serves the process's lifetime.
 */
import { createHmac, randomBytes } from 'node:crypto';
import type { HookEnv } from './hooks.js';

/** Smallest accepted seed, in bytes (256 bits). */
export const MIN_SEED_BYTES = 32;

/** The identity of the object a hook request is about: kind, namespace, name and uid. */
export function objectIdentity(o: { kind?: unknown; metadata?: { namespace?: unknown; name?: unknown; uid?: unknown } } | undefined): string {
  const m = o?.metadata ?? {};
  return [o?.kind, m.namespace, m.name, m.uid].map((x) => (typeof x === 'string' ? x : '')).join('/');
}

/**
 * A random source for one hook call: the keyed stream of `identity` under `seed`. Throws when the seed
 * is shorter than MIN_SEED_BYTES.
 */
export function keyedRandom(seed: Uint8Array, identity: string): HookEnv['random'] {
  if (seed.length < MIN_SEED_BYTES) throw new Error(`random seed must be at least ${MIN_SEED_BYTES} bytes, got ${seed.length}`);
  let counter = 0;
  let pool = Buffer.alloc(0);
  return (n: number) => {
    while (pool.length < n) {
      const block = createHmac('sha256', seed).update(`${identity}\u0000${counter++}`).digest();
      pool = Buffer.concat([pool, block]);
    }
    const out = pool.subarray(0, n);
    pool = pool.subarray(n);
    return new Uint8Array(out);
  };
}

/** A fresh seed (for a process that was given none). */
export function newSeed(): Buffer {
  return randomBytes(MIN_SEED_BYTES);
}
