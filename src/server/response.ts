/** Normalises hook responses: children in a stable order so equal inputs give byte-identical answers. */
import type { KubeObject, SyncResponse } from '../metacontroller/protocol.js';

function sortKey(o: KubeObject): string {
  return [o.apiVersion, o.kind, o.metadata.namespace ?? '', o.metadata.name].join('\u0000');
}

export function sortChildren(children: KubeObject[]): KubeObject[] {
  return [...children].sort((a, b) => (sortKey(a) < sortKey(b) ? -1 : sortKey(a) > sortKey(b) ? 1 : 0));
}

/** Exactly the fields v2 strict mode accepts, nothing else. */
export function finishSync(res: SyncResponse): SyncResponse {
  const out: SyncResponse = { status: res.status ?? {}, children: sortChildren(res.children ?? []) };
  if (res.resyncAfterSeconds !== undefined) out.resyncAfterSeconds = res.resyncAfterSeconds;
  if (res.finalized !== undefined) out.finalized = res.finalized;
  return out;
}
