/**
 * Who uses a provider (layer: kit): the GitRepositories whose `spec.gitServerRef` and the Packages whose
 * `spec.gitOpsProviderRef` name it, in any namespace allowed to (its own, or one a ReferenceGrant in the
 * provider's namespace admits: ./refs.ts `referencePermitted`, docs/decisions.md "Namespaces"). A provider
 * being deleted waits while it has users: its finalize answers `finalized: false`, starts no uninstall Job,
 * and says who holds it (`status.usedBy`, condition reason `InUse`).
 *
 * Request size: the users are asked for (customize, `usersRules`) only while the provider is being deleted
 * (`metadata.deletionTimestamp` set; the API server bumps `metadata.generation` when it marks an object with
 * finalizers as deleting, so Metacontroller's customize cache, keyed by generation, asks again). GitRepositories
 * and Packages carry no label naming their provider, so the rule lists every one of the kind cluster-wide, once,
 * for the time the deletion takes. Until Metacontroller's answer holds that list (`usersKnown`), the users are
 * unknown and the provider waits: unknown is not absent.
 */
import { API_VERSION, GROUP } from '../api/common.js';
import type { KubeObject, RelatedResourceRule, SyncRequest } from '../metacontroller/protocol.js';
import { groupKey } from '../metacontroller/protocol.js';
import { relatedObjects } from './observed.js';
import { referencePermitted, type Ref } from './refs.js';

/** The kinds that hold a provider, and the reference of theirs that names it. */
export type UserKind = 'GitRepository' | 'Package';

const USERS: Record<UserKind, { resource: string; ref: (spec: Record<string, unknown>) => Ref | undefined }> = {
  GitRepository: { resource: 'gitrepositories', ref: (s) => s.gitServerRef as Ref | undefined },
  Package: { resource: 'packages', ref: (s) => s.gitOpsProviderRef as Ref | undefined },
};

/** One user of a provider, as `status.usedBy` lists it. */
export interface User {
  kind: UserKind;
  namespace: string;
  name: string;
}

/** At most this many users are listed in `status.usedBy` (the message says how many more). */
export const USED_BY_MAX = 20;

/**
 * customize rules for the users of `kinds`: only while `parent` is being deleted (else none), every object of
 * each kind (cluster-wide, storage version) and the ReferenceGrants of the parent's namespace.
 */
export function usersRules(parent: KubeObject, kinds: UserKind[]): RelatedResourceRule[] {
  if (!parent.metadata.deletionTimestamp || !kinds.length) return [];
  return [
    ...[...kinds].sort().map((k): RelatedResourceRule => ({ apiVersion: API_VERSION, resource: USERS[k].resource, labelSelector: {} })),
    { apiVersion: API_VERSION, resource: 'referencegrants', namespace: parent.metadata.namespace ?? 'default' },
  ];
}

/**
 * Whether the request carries the list of every kind of `kinds` (Metacontroller sends a declared group even when
 * empty) and, when one of them references the provider from another namespace, the list of the provider
 * namespace's ReferenceGrants: without it such a user's grant is unknown, not absent.
 */
export function usersKnown(req: SyncRequest, kinds: UserKind[]): boolean {
  const has = (key: string) => !!req.related && Object.prototype.hasOwnProperty.call(req.related, key);
  if (!kinds.every((k) => has(groupKey(k, API_VERSION)))) return false;
  return has(groupKey('ReferenceGrant', API_VERSION)) || !candidates(req, kinds).some((c) => c.foreign);
}

/** Every related object of `kinds` whose reference names the parent provider; `foreign` when it lives in another namespace. */
function candidates(req: SyncRequest, kinds: UserKind[]): { kind: UserKind; namespace: string; name: string; foreign: boolean }[] {
  const p = req.parent;
  const pns = p.metadata.namespace ?? 'default';
  const out: { kind: UserKind; namespace: string; name: string; foreign: boolean }[] = [];
  for (const kind of kinds) {
    for (const o of relatedObjects(req, kind, API_VERSION)) {
      const ns = o.metadata.namespace ?? 'default';
      const ref = USERS[kind].ref((o.spec ?? {}) as Record<string, unknown>);
      if (!ref || ref.kind !== p.kind || ref.name !== p.metadata.name || (ref.namespace ?? ns) !== pns) continue;
      out.push({ kind, namespace: ns, name: o.metadata.name, foreign: ns !== pns });
    }
  }
  return out;
}

/**
 * The users of the parent provider among the related objects of `kinds`, sorted by kind, namespace, name. A
 * reference names the provider when its kind and name match and its namespace (default: the user's own) is
 * the provider's; a user in another namespace counts only when a ReferenceGrant of the provider's namespace
 * allows that kind from there (without one the reference was never followed, so it holds nothing).
 */
export function usersOf(req: SyncRequest, kinds: UserKind[]): User[] {
  const p = req.parent;
  const pns = p.metadata.namespace ?? 'default';
  const out: User[] = [];
  for (const { kind, namespace: ns, name } of candidates(req, kinds)) {
    if (referencePermitted(req, { group: GROUP, kind: p.kind, namespace: pns, name: p.metadata.name }, { kind, namespace: ns })) continue;
    out.push({ kind, namespace: ns, name });
  }
  return out.sort((a, b) => `${a.kind}/${a.namespace}/${a.name}`.localeCompare(`${b.kind}/${b.namespace}/${b.name}`));
}

/** `GitRepository team-a/app, Package default/x` (at most USED_BY_MAX, then `and N more`). */
export function usersText(users: User[]): string {
  const shown = users.slice(0, USED_BY_MAX).map((u) => `${u.kind} ${u.namespace}/${u.name}`);
  return users.length > USED_BY_MAX ? `${shown.join(', ')} and ${users.length - USED_BY_MAX} more` : shown.join(', ');
}
