/**
 * References between our objects (provider refs, gitServerRef, dependencies). They name a kind of the
 * idpbuilder.cnoe.io group; the referent is read only through its duck-typed status, never by kind.
 */
import { API_VERSION } from '../api/common.js';
import type { Condition } from '../api/common.js';
import { KIND_BY_NAME } from '../api/kinds.js';
import type { KubeObject, RelatedResourceRule, SyncRequest } from '../metacontroller/protocol.js';
import { relatedOurs } from './observed.js';

export interface Ref {
  kind: string;
  name: string;
  namespace?: string;
}

/** The plural resource of a kind of our group (a kind we do not know is lower-cased and pluralised). */
export function pluralOf(kind: string): string {
  return KIND_BY_NAME.get(kind)?.plural ?? `${kind.toLowerCase()}s`;
}

export function refNamespace(ref: Ref, parent: KubeObject): string {
  return ref.namespace ?? parent.metadata.namespace ?? 'default';
}

export function refKey(ref: Ref, parent: KubeObject): string {
  return `${ref.kind}/${refNamespace(ref, parent)}/${ref.name}`;
}

/** customize rules asking for each referenced object, grouped per resource and namespace. */
export function refRules(refs: Ref[], parent: KubeObject): RelatedResourceRule[] {
  const groups = new Map<string, { resource: string; namespace: string; names: Set<string> }>();
  for (const r of refs) {
    const resource = pluralOf(r.kind);
    const namespace = refNamespace(r, parent);
    const key = `${resource}/${namespace}`;
    const g = groups.get(key) ?? { resource, namespace, names: new Set<string>() };
    g.names.add(r.name);
    groups.set(key, g);
  }
  return [...groups.values()]
    .sort((a, b) => `${a.resource}/${a.namespace}`.localeCompare(`${b.resource}/${b.namespace}`))
    .map((g) => ({ apiVersion: API_VERSION, resource: g.resource, namespace: g.namespace, names: [...g.names].sort() }));
}

export function lookup(req: SyncRequest, ref: Ref): KubeObject | undefined {
  return relatedOurs(req, ref.kind, refNamespace(ref, req.parent), ref.name);
}

export interface Readiness {
  ready: boolean;
  phase?: string;
  message?: string;
  observedGeneration?: number;
}

/** Ready means a Ready=True condition for the object's current generation (when it reports one). */
export function readiness(obj: KubeObject | undefined): Readiness {
  if (!obj) return { ready: false, message: 'not found' };
  const status = (obj.status ?? {}) as { conditions?: Condition[]; phase?: string; observedGeneration?: number };
  const ready = status.conditions?.find((c) => c.type === 'Ready');
  const current = status.observedGeneration === undefined || obj.metadata.generation === undefined || status.observedGeneration >= obj.metadata.generation;
  const out: Readiness = { ready: ready?.status === 'True' && current };
  if (status.phase) out.phase = status.phase;
  if (status.observedGeneration !== undefined) out.observedGeneration = status.observedGeneration;
  if (!out.ready) out.message = !current ? 'status is older than the spec' : ready?.message || ready?.reason || 'not ready yet';
  return out;
}
