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

/** The next request: the previous response's children observed (transformed), and its status on the parent. */
export function next(req: SyncRequest, res: SyncResponse, transform: (o: KubeObject) => KubeObject = (o) => o, related?: ObjectMap): SyncRequest {
  return {
    ...req,
    parent: { ...req.parent, status: res.status } as KubeObject,
    children: toMap(res.children.map(transform), req.parent.metadata.namespace),
    related: related ?? req.related,
  };
}

export function byKind(res: SyncResponse, kind: string): KubeObject[] {
  return res.children.filter((c) => c.kind === kind);
}

export function condition(res: SyncResponse, type = 'Ready') {
  return (res.status.conditions as { type: string; status: string; reason: string; message: string; lastTransitionTime: string }[]).find((c) => c.type === type)!;
}
