/** Helpers to play Metacontroller in tests: feed a hook's children back as observed, mark Jobs done. */
import type { KubeObject, ObjectMap, SyncRequest, SyncResponse } from '../../src/metacontroller/protocol.js';
import { groupKey, objectKey } from '../../src/metacontroller/protocol.js';

export function toMap(objects: KubeObject[], defaultNamespace?: string): ObjectMap {
  const map: ObjectMap = {};
  for (const o of objects) {
    const g = (map[groupKey(o.kind, o.apiVersion)] ??= {});
    g[objectKey(o.metadata.namespace ?? defaultNamespace, o.metadata.name)] = o;
  }
  return map;
}

export function withStatus(o: KubeObject, status: Record<string, unknown>): KubeObject {
  return { ...o, status } as KubeObject;
}

export const jobSucceeded = (job: KubeObject, annotations?: Record<string, string>) =>
  ({
    ...withStatus(job, { succeeded: 1, completionTime: '2026-01-01T00:01:00Z', conditions: [{ type: 'Complete', status: 'True' }] }),
    metadata: { ...job.metadata, ...(annotations ? { annotations: { ...(job.metadata.annotations ?? {}), ...annotations } } : {}) },
  }) as KubeObject;

export const jobFailed = (job: KubeObject, message = 'Job has reached the specified backoff limit') =>
  withStatus(job, { failed: 3, conditions: [{ type: 'Failed', status: 'True', reason: 'BackoffLimitExceeded', message }] });

export const jobRunning = (job: KubeObject) => withStatus(job, { active: 1 });

/** True when an observed Job has finished for good (Complete or Failed condition True). */
export function finished(o: KubeObject | undefined): boolean {
  const conds = ((o?.status as { conditions?: { type?: string; status?: string }[] } | undefined)?.conditions ?? []);
  return conds.some((c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True');
}

/** What the cluster holds after applying `desired` over `seen`: annotations written by others and the status stay. */
function live(desired: KubeObject, seen: KubeObject): KubeObject {
  const annotations = { ...(seen.metadata.annotations ?? {}), ...(desired.metadata.annotations ?? {}) };
  const out = { ...desired, metadata: { ...desired.metadata, ...(Object.keys(annotations).length ? { annotations } : {}) } } as KubeObject;
  if (seen.status !== undefined) out.status = seen.status;
  return out;
}

/**
 * The next request, as the cluster would show it: the previous response's children observed, and its
 * status on the parent. A child that was observed before keeps its observed status and the annotations
 * others wrote (the cluster keeps them; an answer carries neither). `transform` then applies to every
 * child except a Job observed finished before (a finished Job never changes state again): e.g. `jobFailed`
 * fails the new Job of an answer, not the old finished one the contract retained beside it.
 */
export function next(req: SyncRequest, res: SyncResponse, transform: (o: KubeObject) => KubeObject = (o) => o, related?: ObjectMap): SyncRequest {
  const ns = req.parent.metadata.namespace;
  const observed = (o: KubeObject) => req.children?.[groupKey(o.kind, o.apiVersion)]?.[objectKey(o.metadata.namespace ?? ns, o.metadata.name)];
  const children = res.children.map((c) => {
    const seen = observed(c);
    const current = seen ? live(c, seen) : c;
    return c.kind === 'Job' && finished(seen) ? current : transform(current);
  });
  return {
    ...req,
    parent: { ...req.parent, status: res.status } as KubeObject,
    children: toMap(children, ns),
    related: related ?? req.related,
  };
}

export function byKind(res: SyncResponse, kind: string): KubeObject[] {
  return res.children.filter((c) => c.kind === kind);
}

export function condition(res: SyncResponse, type = 'Ready') {
  return (res.status.conditions as { type: string; status: string; reason: string; message: string; lastTransitionTime: string }[]).find((c) => c.type === type)!;
}
