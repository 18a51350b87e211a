/** Builders for whole Metacontroller requests, as the hook service receives them. */
import type { KubeObject, ObjectMap, SyncRequest } from '../../src/metacontroller/protocol.js';
import type { HookEnv } from '../../src/kit/hooks.js';
import { DEFAULT_SETTINGS } from '../../src/kit/hooks.js';
import { createHash } from 'node:crypto';

export function parent(kind: string, name: string, spec: Record<string, unknown>, extra: Partial<KubeObject> = {}): KubeObject {
  return {
    apiVersion: 'idpbuilder.cnoe.io/v1alpha2',
    kind,
    metadata: { name, namespace: 'idpbuilder-system', uid: `uid-${name}`, generation: 1, ...(extra.metadata ?? {}) },
    spec,
    ...(extra.status ? { status: extra.status } : {}),
  } as KubeObject;
}

export function syncRequest(p: KubeObject, children: ObjectMap = {}, related: ObjectMap = {}, finalizing = false): SyncRequest {
  return { controller: { metadata: { name: `idpbuilder-${p.kind.toLowerCase()}s` } }, parent: p, children, related, finalizing };
}

/** A deterministic environment: fixed clock, seeded randomness. */
export function testEnv(now = '2026-01-01T00:00:00Z', seed = 'test'): HookEnv {
  let counter = 0;
  return {
    now: () => new Date(now),
    random: (n) => {
      const out = Buffer.alloc(n);
      for (let off = 0; off < n; off += 32) {
        createHash('sha256').update(`${seed}:${counter++}`).digest().copy(out, off);
      }
      return out;
    },
    settings: DEFAULT_SETTINGS,
  };
}

/**
 * Related groups as Metacontroller sends them for a provider being deleted with no users (src/kit/users.ts):
 * the declared GitRepository / Package list, empty.
 */
export function noUsers(kind: 'GitRepository' | 'Package'): Record<string, Record<string, KubeObject>> {
  return { [`${kind}.idpbuilder.cnoe.io/v1alpha2`]: {} };
}
