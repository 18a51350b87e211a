/** Typed access to what Metacontroller observed: children and related objects, keyed the v2 way. */
import type { KubeObject, ObjectMap, SyncRequest } from '../metacontroller/protocol.js';
import { groupKey, objectKey } from '../metacontroller/protocol.js';

function listOf(map: ObjectMap | undefined, kind: string, apiVersion: string): KubeObject[] {
  const group = map?.[groupKey(kind, apiVersion)];
  if (!group) return [];
  return Object.keys(group)
    .sort()
    .map((k) => group[k]);
}

/** The observed children (`req.children`) of one kind and apiVersion, in key order; empty when there are none. */
export function observedChildren(req: SyncRequest, kind: string, apiVersion: string): KubeObject[] {
  return listOf(req.children, kind, apiVersion);
}

/** Every observed child of every kind (skipping entries without a name), in group and key order. */
export function allObservedChildren(req: SyncRequest): KubeObject[] {
  const out: KubeObject[] = [];
  for (const group of Object.keys(req.children ?? {}).sort()) {
    const byKey = req.children![group] ?? {};
    for (const k of Object.keys(byKey).sort()) if (byKey[k]?.metadata?.name) out.push(byKey[k]);
  }
  return out;
}

/** One observed child of `kind`/`apiVersion` named `name` in the parent's namespace, or `undefined`. */
export function observedChild(req: SyncRequest, kind: string, apiVersion: string, name: string): KubeObject | undefined {
  return req.children?.[groupKey(kind, apiVersion)]?.[objectKey(req.parent.metadata.namespace, name)];
}

/**
 * The related objects (`req.related`, asked for by customize) of one kind and apiVersion, in key order; empty when
 * there are none.
 */
export function relatedObjects(req: SyncRequest, kind: string, apiVersion: string): KubeObject[] {
  return listOf(req.related, kind, apiVersion);
}

/**
 * One related object by kind, apiVersion, namespace (`undefined` for a cluster-scoped object) and name, or
 * `undefined` when Metacontroller did not send it.
 */
export function relatedObject(req: SyncRequest, kind: string, apiVersion: string, namespace: string | undefined, name: string): KubeObject | undefined {
  return req.related?.[groupKey(kind, apiVersion)]?.[objectKey(namespace, name)];
}

/** Any version of our group: related objects of our kinds may come in either served version. */
export function relatedOurs(req: SyncRequest, kind: string, namespace: string | undefined, name: string): KubeObject | undefined {
  for (const v of ['v1alpha2', 'v1alpha1']) {
    const o = relatedObject(req, kind, `idpbuilder.cnoe.io/${v}`, namespace, name);
    if (o) return o;
  }
  return undefined;
}

/** A desired child rebuilt from an observed one: only what we own (no status, no server-set metadata). */
export function asDesired(o: KubeObject): KubeObject {
  const { apiVersion, kind, metadata, status: _status, ...rest } = o as KubeObject & Record<string, unknown>;
  const md: Record<string, unknown> = { name: metadata.name };
  if (metadata.namespace) md.namespace = metadata.namespace;
  if (metadata.labels) md.labels = metadata.labels;
  const finalizers = (metadata as { finalizers?: string[] }).finalizers;
  if (finalizers?.length) md.finalizers = finalizers;
  const annotations = Object.fromEntries(
    Object.entries(metadata.annotations ?? {}).filter(([k]) => !k.startsWith('metacontroller.k8s.io/') && !k.startsWith('kubectl.kubernetes.io/')),
  );
  if (Object.keys(annotations).length) md.annotations = annotations;
  delete (rest as Record<string, unknown>).status;
  return { apiVersion, kind, metadata: md as KubeObject['metadata'], ...rest } as KubeObject;
}
