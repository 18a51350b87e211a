/**
 * References between objects (provider refs, gitServerRef, dependencies). They name a kind of the
 * idpbuilder.cnoe.io group unless they carry `apiVersion` (another group's kind that implements the duck
 * type); the referent is read only through its duck-typed status, never by kind.
 *
 * Which resource (plural) a reference asks Metacontroller for: `ref.resource` when given, else our kind's
 * registered plural, else `defaultResource(kind)` (docs/decisions.md, "Providers of other API groups").
 *
 * Namespaces are a boundary (docs/security.md, "Namespaces"):
 * - A reference into another namespace resolves only when a ReferenceGrant in the target's namespace
 *   allows the referring kind from the referring namespace and the target's kind (and name). customize
 *   asks for the grants of every foreign namespace a parent references (refRules does it); `lookup` and
 *   `resolveRef` answer a refused reference as absent / as a `ReferenceNotPermitted` refusal. No namespace
 *   is special, the controllers' own (Settings.controllerNamespace) included.
 * - A Secret reference resolves in the referring object's namespace only (`secretRefRefusal`), and a
 *   referenced provider's duck `status.credentialsSecretRef` must name a Secret of the provider's own
 *   namespace (else the provider is refused with `SecretRefNotPermitted`).
 */
import { API_VERSION, GROUP } from '../api/common.js';
import type { Condition } from '../api/common.js';
import { KIND_BY_NAME } from '../api/kinds.js';
import type { ReferenceGrantSpec } from '../api/referencegrant.js';
import type { KubeObject, RelatedResourceRule, SyncRequest } from '../metacontroller/protocol.js';
import { relatedObject, relatedObjects, relatedOurs } from './observed.js';

/** Condition reason of a reference into another namespace that no ReferenceGrant allows. */
const REFERENCE_NOT_PERMITTED = 'ReferenceNotPermitted';
/** Condition reason of a Secret reference that names another namespace. */
const SECRET_REF_NOT_PERMITTED = 'SecretRefNotPermitted';

/** Why a reference is not followed; the message names only what the referring object itself says. */
export interface Refusal {
  reason: string;
  message: string;
}

/** What a reference points at; `group` defaults to idpbuilder.cnoe.io (`""` is the core group). */
export interface Target {
  group?: string;
  kind: string;
  namespace: string;
  name: string;
}

/** Who references: a kind of our group in a namespace. */
export interface Referrer {
  kind: string;
  namespace: string;
}

type RequestLike = { parent: KubeObject; related?: SyncRequest['related'] };

/**
 * A reference to another object: apiVersion (default idpbuilder.cnoe.io's), kind, name, namespace (default the
 * referrer's; another one needs a ReferenceGrant there) and plural resource (default derived from the kind).
 */
export interface Ref {
  /** `group/version`; default API_VERSION (our group). */
  apiVersion?: string;
  kind: string;
  name: string;
  namespace?: string;
  /** Plural resource name; default `pluralOf(kind)`. */
  resource?: string;
}

/** The group of an apiVersion: `apps` of `apps/v1`, `""` (core) of `v1`. */
export function groupOfApiVersion(apiVersion: string): string {
  const i = apiVersion.indexOf('/');
  return i < 0 ? '' : apiVersion.slice(0, i);
}

/** The API version a reference names: its `apiVersion`, default API_VERSION. Either served version of our group is API_VERSION. */
export function refApiVersion(ref: Pick<Ref, 'apiVersion'>): string {
  return !ref.apiVersion || groupOfApiVersion(ref.apiVersion) === GROUP ? API_VERSION : ref.apiVersion;
}

/**
 * The plural Kubernetes' CRD tooling gives a regular English kind name, lower-cased: `…s`, `…es` after
 * s, x, z, ch and sh, `…ies` after a consonant and y (Ingress → ingresses, NetworkPolicy →
 * networkpolicies, BitbucketProvider → bitbucketproviders). Irregular plurals (Endpoints) need an
 * explicit `resource`.
 */
export function defaultResource(kind: string): string {
  const k = kind.toLowerCase();
  if (/(s|x|z|ch|sh)$/.test(k)) return `${k}es`;
  if (/[^aeiou]y$/.test(k)) return `${k.slice(0, -1)}ies`;
  return `${k}s`;
}

/** The plural resource of a kind: ours as registered, any other by `defaultResource`. */
function pluralOf(kind: string): string {
  return KIND_BY_NAME.get(kind)?.plural ?? defaultResource(kind);
}

/** The resource a reference asks for: its `resource`, else `pluralOf(kind)`. */
function refResource(ref: Pick<Ref, 'kind' | 'resource'>): string {
  return ref.resource ?? pluralOf(ref.kind);
}

/** The namespace a reference points into: its own `namespace`, else the referrer's, else `default`. */
export function refNamespace(ref: Ref, parent: KubeObject): string {
  return ref.namespace ?? parent.metadata.namespace ?? 'default';
}

/** A stable `kind/namespace/name` key of what a reference points at (namespace as refNamespace). */
export function refKey(ref: Ref, parent: KubeObject): string {
  return `${ref.kind}/${refNamespace(ref, parent)}/${ref.name}`;
}

function parentNs(parent: KubeObject): string {
  return parent.metadata.namespace ?? 'default';
}

/**
 * customize rules asking for every ReferenceGrant of each namespace other than the parent's (sorted,
 * one rule per namespace): what `referencePermitted` reads.
 */
export function grantRules(namespaces: Iterable<string>, parent: KubeObject): RelatedResourceRule[] {
  const own = parentNs(parent);
  return [...new Set(namespaces)]
    .filter((ns) => ns !== own)
    .sort()
    .map((namespace) => ({ apiVersion: API_VERSION, resource: 'referencegrants', namespace }));
}

/**
 * customize rules asking for each referenced object, grouped per resource and namespace, plus the
 * ReferenceGrants of every foreign namespace among them.
 */
export function refRules(refs: Ref[], parent: KubeObject): RelatedResourceRule[] {
  const groups = new Map<string, { apiVersion: string; resource: string; namespace: string; names: Set<string> }>();
  for (const r of refs) {
    const apiVersion = refApiVersion(r);
    const resource = refResource(r);
    const namespace = refNamespace(r, parent);
    // our group sorts as before (resource/namespace); another group's resources carry their apiVersion in front
    const key = apiVersion === API_VERSION ? `${resource}/${namespace}` : `${apiVersion}/${resource}/${namespace}`;
    const g = groups.get(key) ?? { apiVersion, resource, namespace, names: new Set<string>() };
    g.names.add(r.name);
    groups.set(key, g);
  }
  return [...groups.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([, g]): RelatedResourceRule => ({ apiVersion: g.apiVersion, resource: g.resource, namespace: g.namespace, names: [...g.names].sort() }))
    .concat(grantRules(refs.map((r) => refNamespace(r, parent)), parent));
}

/** The ReferenceGrants of a namespace among the related objects (either served version), not being deleted. */
function grantsIn(req: RequestLike, namespace: string): KubeObject[] {
  return ['v1alpha2', 'v1alpha1']
    .flatMap((v) => relatedObjects(req as SyncRequest, 'ReferenceGrant', `${GROUP}/${v}`))
    .filter((g) => g.metadata.namespace === namespace && !g.metadata.deletionTimestamp);
}

/**
 * Whether `from` (default: the parent) may reference `target`: always in its own namespace; elsewhere
 * only if one ReferenceGrant in the target's namespace lists `from` (kind and namespace) under
 * `spec.from` and the target (group, kind, and name unless the entry names none) under `spec.to`, as
 * Gateway API's ReferenceGrant does. Undefined when permitted, else a `ReferenceNotPermitted` refusal.
 */
export function referencePermitted(req: RequestLike, target: Target, from: Referrer = { kind: req.parent.kind, namespace: parentNs(req.parent) }): Refusal | undefined {
  if (target.namespace === from.namespace) return undefined;
  const group = target.group ?? GROUP;
  for (const g of grantsIn(req, target.namespace)) {
    const spec = (g.spec ?? {}) as Partial<ReferenceGrantSpec>;
    const fromOk = (spec.from ?? []).some((f) => (f.group ?? GROUP) === GROUP && f.kind === from.kind && f.namespace === from.namespace);
    const toOk = (spec.to ?? []).some((t) => (t.group ?? GROUP) === group && t.kind === target.kind && (!t.name || t.name === target.name));
    if (fromOk && toOk) return undefined;
  }
  return {
    reason: REFERENCE_NOT_PERMITTED,
    message: `${target.kind} ${target.namespace}/${target.name}: no ReferenceGrant in ${target.namespace} allows ${from.kind} from ${from.namespace}`,
  };
}

/**
 * A Secret reference names the referring object's namespace or none: anything else is refused with
 * `SecretRefNotPermitted` (`field` says where, e.g. `spec.adminUser.passwordSecretRef`). Undefined when fine.
 */
export function secretRefRefusal(ref: { name: string; namespace?: string } | undefined, parent: KubeObject, field: string): Refusal | undefined {
  const own = parentNs(parent);
  if (!ref?.namespace || ref.namespace === own) return undefined;
  return {
    reason: SECRET_REF_NOT_PERMITTED,
    message: `${field} names Secret ${ref.namespace}/${ref.name}: a Secret reference resolves in the object's own namespace (${own}) only`,
  };
}

/** A referenced object whose duck `status.credentialsSecretRef` names a Secret outside its own namespace is refused. */
function duckSecretRefusal(obj: KubeObject): Refusal | undefined {
  const ns = obj.metadata.namespace ?? 'default';
  // every duck Secret reference: credentials, and a git provider's repository credentials and CA (src/kit/repocreds.ts)
  for (const field of ['credentialsSecretRef', 'repositoryCredentialsSecretRef', 'caSecretRef']) {
    const ref = (obj.status as Record<string, { namespace?: unknown } | undefined> | undefined)?.[field];
    if (!ref || ref.namespace === undefined || ref.namespace === ns) continue;
    return {
      reason: SECRET_REF_NOT_PERMITTED,
      message: `${obj.kind} ${ns}/${obj.metadata.name} reports status.${field} in namespace ${String(ref.namespace)}: a provider's credentials must be a Secret of its own namespace`,
    };
  }
  return undefined;
}

/** Condition reason of a referenced object of another API group whose status does not have the duck type's shape. */
const DUCK_STATUS_INVALID = 'InvalidDuckStatus';

/**
 * A referenced object of another API group (its CRD, not ours, decides what its status may hold) whose duck
 * fields have the wrong type: `conditions` not a list of objects, a URL/name field not a string, a Secret
 * reference without a string `name`, `observedGeneration` not a number. Undefined when the shape fits.
 */
function duckShapeRefusal(obj: KubeObject): Refusal | undefined {
  const st = obj.status as Record<string, unknown> | undefined;
  if (!st || typeof st !== 'object') return undefined;
  const where = `${obj.kind} ${obj.metadata.namespace ?? 'default'}/${obj.metadata.name}`;
  const bad = (field: string, want: string): Refusal => ({ reason: DUCK_STATUS_INVALID, message: `${where} reports status.${field} that is not ${want}` });
  if (st.conditions !== undefined && (!Array.isArray(st.conditions) || st.conditions.some((c) => !c || typeof c !== 'object' || Array.isArray(c)))) return bad('conditions', 'a list of conditions');
  for (const f of ['phase', 'endpoint', 'internalEndpoint', 'organization', 'gitAPI', 'version']) if (st[f] !== undefined && typeof st[f] !== 'string') return bad(f, 'a string');
  if (st.observedGeneration !== undefined && typeof st.observedGeneration !== 'number') return bad('observedGeneration', 'a number');
  for (const f of ['credentialsSecretRef', 'repositoryCredentialsSecretRef', 'caSecretRef']) {
    const r = st[f] as { name?: unknown; namespace?: unknown; key?: unknown } | undefined;
    if (r === undefined) continue;
    if (!r || typeof r !== 'object' || typeof r.name !== 'string' || (r.namespace !== undefined && typeof r.namespace !== 'string') || (r.key !== undefined && typeof r.key !== 'string')) return bad(f, 'a Secret reference');
  }
  // status.cluster (./cluster.ts DuckCluster): an object whose kubeconfig Secret fields, when given, are strings
  const c = st.cluster as Record<string, unknown> | null | undefined;
  if (c !== undefined && c !== null && (typeof c !== 'object' || Array.isArray(c) || ['secretName', 'key'].some((k) => c[k] !== undefined && typeof c[k] !== 'string'))) return bad('cluster', 'a cluster (secretName and key strings)');
  return undefined;
}

/** What a reference resolves to: the object, nothing (not found), or a refusal (never both). */
export type Resolution = { object: KubeObject; refusal?: undefined } | { object?: undefined; refusal?: Refusal };

/**
 * Resolves a reference of the parent (of our group, either served version; or of `ref.apiVersion`): refused (`ReferenceNotPermitted`) when it crosses into a namespace
 * whose ReferenceGrants do not allow it, whether or not the object exists; refused
 * (`SecretRefNotPermitted`) when the object reports credentials of another namespace; else the related
 * object, or `{}` when it was not found.
 */
export function resolveRef(req: RequestLike, ref: Ref): Resolution {
  const namespace = refNamespace(ref, req.parent);
  const apiVersion = refApiVersion(ref);
  const refusal = referencePermitted(req, { group: groupOfApiVersion(apiVersion), kind: ref.kind, namespace, name: ref.name });
  if (refusal) return { refusal };
  const object = apiVersion === API_VERSION ? relatedOurs(req as SyncRequest, ref.kind, namespace, ref.name) : relatedObject(req as SyncRequest, ref.kind, apiVersion, namespace, ref.name);
  if (!object) return {};
  const shape = apiVersion === API_VERSION ? undefined : duckShapeRefusal(object);
  if (shape) return { refusal: shape };
  const secret = duckSecretRefusal(object);
  return secret ? { refusal: secret } : { object };
}

/** The referenced object, or undefined when it is absent or the reference is refused (see resolveRef). */
export function lookup(req: RequestLike, ref: Ref): KubeObject | undefined {
  return resolveRef(req, ref).object;
}

/**
 * What readiness() read of a referenced object's status: whether it is ready, its phase, the message of its Ready
 * condition (or why it is not ready) and its observedGeneration.
 */
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
  // another group's status may hold anything: conditions that are not a list of objects count as none
  const ready = Array.isArray(status.conditions) ? status.conditions.find((c) => !!c && typeof c === 'object' && c.type === 'Ready') : undefined;
  const current = status.observedGeneration === undefined || obj.metadata.generation === undefined || status.observedGeneration >= obj.metadata.generation;
  const out: Readiness = { ready: ready?.status === 'True' && current };
  if (status.phase) out.phase = status.phase;
  if (status.observedGeneration !== undefined) out.observedGeneration = status.observedGeneration;
  if (!out.ready) out.message = !current ? 'status is older than the spec' : ready?.message || ready?.reason || 'not ready yet';
  return out;
}
