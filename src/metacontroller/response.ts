/** Normalises hook responses: children in a stable order so equal inputs give byte-identical answers. */
import type { CustomizeResponse, KubeObject, SyncResponse } from './protocol.js';

function sortKey(o: KubeObject): string {
  return [o.apiVersion, o.kind, o.metadata.namespace ?? '', o.metadata.name].join('\u0000');
}

/**
 * A copy of `children` sorted by apiVersion, kind, namespace and name (byte order), so equal inputs give
 * byte-identical answers; the input is not changed.
 */
export function sortChildren(children: KubeObject[]): KubeObject[] {
  // each key built once, not twice per comparison; the same comparison, and the sort is stable: the same order
  const keyed = children.map((o) => ({ o, k: sortKey(o) }));
  keyed.sort((a, b) => (a.k < b.k ? -1 : a.k > b.k ? 1 : 0));
  return keyed.map((e) => e.o);
}

/** Exactly the fields v2 strict mode accepts, nothing else. */
export function finishSync(res: SyncResponse): SyncResponse {
  const out: SyncResponse = { status: res.status ?? {}, children: sortChildren(res.children ?? []) };
  if (res.resyncAfterSeconds !== undefined) out.resyncAfterSeconds = res.resyncAfterSeconds;
  if (res.finalized !== undefined) out.finalized = res.finalized;
  return out;
}

type Selector = NonNullable<CustomizeResponse['relatedResources'][number]['labelSelector']>;

function selector(sel: Selector | undefined): Selector | undefined {
  if (!sel || typeof sel !== 'object') return undefined;
  const out: Selector = {};
  if (sel.matchLabels) out.matchLabels = sel.matchLabels;
  if (sel.matchExpressions) out.matchExpressions = sel.matchExpressions.map((e) => ({ key: e.key, operator: e.operator, ...(e.values ? { values: e.values } : {}) }));
  return out;
}

/** A customize answer with exactly the rule fields v2 strict mode accepts. */
export function finishCustomize(res: CustomizeResponse): CustomizeResponse {
  return {
    relatedResources: (res.relatedResources ?? []).map((r) => {
      const out: CustomizeResponse['relatedResources'][number] = { apiVersion: r.apiVersion, resource: r.resource };
      if (r.namespace !== undefined) out.namespace = r.namespace;
      if (r.names !== undefined) out.names = r.names;
      const ls = selector(r.labelSelector);
      if (ls) out.labelSelector = ls;
      const ns = selector(r.namespaceSelector);
      if (ns) out.namespaceSelector = ns;
      return out;
    }),
  };
}
