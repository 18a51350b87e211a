/**
 * `idpbuilder render`: runs every controller's customize and sync over a set of objects to a fixed
 * point, like Metacontroller would, feeding each round's children back as observed. Offline and
 * deterministic: a fixed clock and seeded randomness, stable ordering.
 *
 * With `assumeReady`, every Job is treated as succeeded and every Argo CD Application as synced and
 * healthy, so the whole tree appears.
 *
 * With `observed`, the given objects stand for what the cluster holds (like `crossplane render
 * --observed-resources`), so failure, pending and partial states can be previewed:
 * - an observed object with the group, kind, namespace and name of an input or of a child a controller
 *   wants gets the observed `status` in every round (an observed object without `status` means "no
 *   status yet"); an observed Job also brings its annotations (e.g. the install attempt counter). This
 *   wins over `assumeReady` for the objects it names. Objects our controllers reconcile (our kinds that
 *   are inputs or children) are the exception: as in the cluster, their observed status is only what the
 *   first sync sees, and the controller's answer replaces it (else a status observed earlier would hide
 *   what the observed world now says, e.g. a kubeconfig Secret that is gone);
 * - an observed object nothing creates is added to the world as a related object (a user Secret, the
 *   Pods of a failed Job): hooks that ask for it see it, but it is not reconciled and not printed;
 * - unless it is a child of a rendered parent, as Metacontroller would claim it: in the parent's namespace,
 *   of one of its controller's child kinds, and with a controller ownerReference to the parent or the
 *   parent's owner label (`idpbuilder.cnoe.io/<kind>: <name>`, what render's own output carries). The parent's
 *   sync then sees it as an observed child, and it stays or goes as the answer (and the contract) says, so a
 *   render's output given back as observed keeps its Jobs, ConfigMaps and Secrets.
 */
import { createHash } from 'node:crypto';
import { API_VERSION } from '../api/common.js';
import { Admission, type Problem } from '../api/validate.js';
import { KIND_BY_NAME } from '../api/kinds.js';
import type { ControllerDef, DecoratorDef, HookEnv, Settings } from '../kit/hooks.js';
import { DEFAULT_SETTINGS } from '../kit/hooks.js';
import type { DecoratorSyncResponse, KubeObject, ObjectMap, RelatedResourceRule, SyncRequest, SyncResponse } from '../metacontroller/protocol.js';
import { groupKey, objectKey } from '../metacontroller/protocol.js';
import { canonicalJSON, shortHash } from '../kit/canonical.js';
import { labelValue } from '../kit/labels.js';
import { finishSync } from '../metacontroller/response.js';
import { keyedRandom, objectIdentity } from '../kit/random.js';
import { groupOf, kindAmong, kindOf } from './resources.js';

/**
 * Options of render: the DecoratorControllers to run too, `assumeReady` (every Job succeeded, every Application
 * synced and healthy), `observed` objects standing for the cluster, the clock (default RENDER_EPOCH, 2000-01-01), the
 * random seed (default `idpbuilder-render`), the hook Settings (default DEFAULT_SETTINGS), the most rounds to run
 * (default 25) and an `onSync` observer.
 */
export interface RenderOptions {
  decorators?: DecoratorDef[];
  assumeReady?: boolean;
  /** Objects as the cluster holds them, status included; a namespaced object without namespace is in `default`. */
  observed?: KubeObject[];
  now?: Date;
  seed?: string;
  settings?: Settings;
  maxRounds?: number;
  /**
   * Called with every sync request render sends and its answer (after the contract, before
   * normalisation), in order; the last call for a parent is its steady-state request once converged.
   * For tests that replay or perturb what Metacontroller would send. Must not mutate its arguments.
   */
  onSync?: (req: SyncRequest, res: SyncResponse) => void;
}

/**
 * What render produced: every object of the fixed point (inputs and children, in a stable order), how many rounds it
 * took, whether it converged within `maxRounds`, and warnings (duplicate inputs, children outside their parent's
 * namespace, …).
 */
export interface RenderResult {
  objects: KubeObject[];
  rounds: number;
  converged: boolean;
  warnings: string[];
}

/**
 * Thrown by render when input objects (or children a controller answers) fail the offline admission check: `problems`
 * lists each object and problem (path and message).
 */
export class RenderInputError extends Error {
  constructor(readonly problems: { object: string; problem: Problem }[]) {
    super(`${problems.length} invalid input object(s)`);
  }
}

/** 2000-01-01: a fixed clock, so output is byte-identical from run to run. */
export const RENDER_EPOCH = new Date('2000-01-01T00:00:00Z');

function keyOf(o: KubeObject): string {
  return `${groupOf(o.apiVersion)}/${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;
}

/**
 * Whether `a` and `b` have the same canonicalJSON, without writing it when they are equal member by member
 * (issue 15: render compares every object of the world after each round). Plain objects with the same keys
 * (any order) and equal members, arrays of the same length with equal items, and identical primitives are
 * equal; anything else (a Date, a `toJSON` member, NaN, an undefined member on one side) is decided by
 * comparing the two canonicalJSON texts, so the answer is always the text comparison's.
 */
export function sameCanonicalJSON(a: unknown, b: unknown): boolean {
  return sameMembers(a, b) || canonicalJSON(a) === canonicalJSON(b);
}

/** Equal member by member as sameCanonicalJSON describes it; false also when unsure (the caller then compares texts). */
function sameMembers(a: unknown, b: unknown): boolean {
  if (a === b) return typeof a !== 'bigint'; // the same value writes the same text (a BigInt: the text comparison throws)
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!sameMembers(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const pa = Object.getPrototypeOf(a) as unknown;
  const pb = Object.getPrototypeOf(b) as unknown;
  if ((pa !== Object.prototype && pa !== null) || (pb !== Object.prototype && pb !== null)) return false;
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  const ra = a as Record<string, unknown>;
  const rb = b as Record<string, unknown>;
  for (const k of ka) {
    if (k === 'toJSON' || k === '__proto__' || !Object.hasOwn(rb, k) || !sameMembers(ra[k], rb[k])) return false;
  }
  return true;
}

/** sha256 of a render seed, computed once per seed text (render asks for it on every hook call). */
const seedDigests = new Map<string, Buffer>();
function seedDigest(seed: string): Buffer {
  let d = seedDigests.get(seed);
  if (!d) {
    d = createHash('sha256').update(seed).digest();
    if (seedDigests.size >= 16) seedDigests.clear(); // seeds are few (one per render option); bounded anyway
    seedDigests.set(seed, d);
  }
  return d;
}

/**
 * The environment of one hook call about `object`, as render runs it: the fixed clock (`opts.now`,
 * default RENDER_EPOCH), the settings, and the object's keyed random stream (src/kit/random.ts) under
 * a seed derived from `opts.seed` (default `idpbuilder-render`), as the hook service draws it. A fresh
 * stream per call: the same request about the same object gets the same bytes.
 */
export function renderHookEnv(opts: Pick<RenderOptions, 'now' | 'seed' | 'settings'>, object: KubeObject): HookEnv {
  const seed = seedDigest(opts.seed ?? 'idpbuilder-render');
  return { now: () => opts.now ?? RENDER_EPOCH, random: keyedRandom(seed, objectIdentity(object)), settings: opts.settings ?? DEFAULT_SETTINGS };
}

function matchesSelector(labels: Record<string, string> | undefined, sel: RelatedResourceRule['labelSelector']): boolean {
  if (!sel) return true;
  const l = labels ?? {};
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) if (l[k] !== v) return false;
  for (const e of sel.matchExpressions ?? []) {
    const has = e.key in l;
    if (e.operator === 'Exists' && !has) return false;
    if (e.operator === 'DoesNotExist' && has) return false;
    if (e.operator === 'In' && !(has && (e.values ?? []).includes(l[e.key]))) return false;
    if (e.operator === 'NotIn' && has && (e.values ?? []).includes(l[e.key])) return false;
  }
  return true;
}

function matchesAnnotations(o: KubeObject, sel: { matchExpressions: { key: string; operator: string }[] } | undefined): boolean {
  if (!sel) return true;
  const a = o.metadata.annotations ?? {};
  return sel.matchExpressions.every((e) => (e.operator === 'Exists' ? e.key in a : !(e.key in a)));
}

/** `o` with the observed object's status (none when it has none) and, for a Job, its annotations over `o`'s. */
function withObserved(o: KubeObject, obs: KubeObject): KubeObject {
  const next = { ...o } as KubeObject & { status?: unknown };
  if (obs.status !== undefined) next.status = obs.status;
  else delete next.status;
  if (o.kind === 'Job' && o.apiVersion === 'batch/v1' && obs.metadata.annotations) {
    next.metadata = { ...o.metadata, annotations: { ...(o.metadata.annotations ?? {}), ...obs.metadata.annotations } };
  }
  return next;
}

function assumeReady(o: KubeObject): KubeObject {
  if (o.kind === 'Job' && o.apiVersion === 'batch/v1') {
    const done = { ...o, status: { succeeded: 1, completionTime: RENDER_EPOCH.toISOString().replace('.000', ''), conditions: [{ type: 'Complete', status: 'True' }] } } as KubeObject;
    // a validation Job that succeeded wrote its result (a succeeded Job without one is ValidationFailed): assume the passing one
    if (o.metadata.labels?.['idpbuilder.cnoe.io/role'] === 'validate' && !o.metadata.annotations?.['idpbuilder.cnoe.io/result']) {
      done.metadata = { ...o.metadata, annotations: { ...(o.metadata.annotations ?? {}), 'idpbuilder.cnoe.io/result': JSON.stringify({ authenticated: true }) } };
    }
    return done;
  }
  if (o.kind === 'Application' && o.apiVersion.startsWith('argoproj.io/')) {
    return { ...o, status: { sync: { status: 'Synced' }, health: { status: 'Healthy' } } } as KubeObject;
  }
  if (o.apiVersion.startsWith('kustomize.toolkit.fluxcd.io/') || o.apiVersion.startsWith('source.toolkit.fluxcd.io/')) {
    return { ...o, status: { conditions: [{ type: 'Ready', status: 'True', reason: 'ReconciliationSucceeded', message: 'assumed ready' }] } } as KubeObject;
  }
  return o;
}

/**
 * A Map that also numbers its keys in insertion order (`seq`: a key set again keeps its number, a key
 * deleted and set again gets a new, higher one), so a subset of its keys can be put in the Map's own
 * iteration order without walking the whole Map.
 */
class SequencedMap<V> extends Map<string, V> {
  private readonly seqs = new Map<string, number>();
  private next = 0;

  override set(key: string, v: V): this {
    if (!this.seqs.has(key)) this.seqs.set(key, this.next++);
    return super.set(key, v);
  }

  override delete(key: string): boolean {
    this.seqs.delete(key);
    return super.delete(key);
  }

  /** `keys` (all present) in the Map's iteration order. */
  inOrder(keys: Iterable<string>): string[] {
    return [...keys].sort((a, b) => this.seqs.get(a)! - this.seqs.get(b)!);
  }
}

/**
 * The render's world: objects by key (keyOf of the object: group/kind/namespace/name), in insertion
 * order, with the keys of each kind, so related rules read the objects of one kind instead of scanning
 * the whole world. Results are put back in the world's order (SequencedMap), so requests are the same.
 */
class World extends SequencedMap<KubeObject> {
  private readonly byKind = new Map<string, Set<string>>();

  override set(key: string, o: KubeObject): this {
    const prev = super.get(key);
    if (prev && prev.kind !== o.kind) this.byKind.get(prev.kind)?.delete(key);
    let keys = this.byKind.get(o.kind);
    if (!keys) this.byKind.set(o.kind, (keys = new Set()));
    keys.add(key);
    return super.set(key, o);
  }

  override delete(key: string): boolean {
    const prev = super.get(key);
    if (prev) this.byKind.get(prev.kind)?.delete(key);
    return super.delete(key);
  }

  /** The objects of `kind`, in the world's order. */
  ofKind(kind: string): KubeObject[] {
    const keys = this.byKind.get(kind);
    return keys ? this.inOrder(keys).map((k) => super.get(k)!) : [];
  }
}

/**
 * Child key → the key of what owns it (a parent, or `<object key>#<decorator>`), with the children of each
 * owner indexed; `childrenOf` answers in the order a walk over the whole Map would.
 */
class Owners extends SequencedMap<string> {
  private readonly byOwner = new Map<string, Set<string>>();

  override set(child: string, via: string): this {
    const prev = super.get(child);
    if (prev !== undefined && prev !== via) this.byOwner.get(prev)?.delete(child);
    let keys = this.byOwner.get(via);
    if (!keys) this.byOwner.set(via, (keys = new Set()));
    keys.add(child);
    return super.set(child, via);
  }

  override delete(child: string): boolean {
    const prev = super.get(child);
    if (prev !== undefined) this.byOwner.get(prev)?.delete(child);
    return super.delete(child);
  }

  /** The children `via` owns, in the Map's order. */
  childrenOf(via: string): string[] {
    const keys = this.byOwner.get(via);
    return keys?.size ? this.inOrder(keys) : [];
  }

  /** The owners (`via`s) that are `key` itself or one of its decorators' attachments (`key#…`). */
  ownersOf(key: string): string[] {
    return [...this.byOwner.keys()].filter((via) => via === key || via.startsWith(`${key}#`));
  }
}

/**
 * Runs the controllers' (and decorators') customize and sync hooks over `inputs` to a fixed point, like
 * Metacontroller, offline and deterministic (see the module comment for `assumeReady` and `observed`). Throws
 * RenderInputError when an input or a child fails admission; a run that does not settle within `maxRounds` is
 * returned with `converged: false`.
 */
export function render(inputs: KubeObject[], controllers: ControllerDef[], opts: RenderOptions = {}): RenderResult {
  const admission = new Admission({ applyDefaults: true });
  const warnings: string[] = [];
  const world = new World();
  const owner = new Owners(); // child key → parent key
  const inputOrder: string[] = [];
  const inputKeys = new Set<string>(); // inputOrder's keys, for membership
  const problems: { object: string; problem: Problem }[] = [];

  const admit = (o: KubeObject, what: string): KubeObject | undefined => {
    if (!KIND_BY_NAME.has(o.kind) || !o.apiVersion.startsWith('idpbuilder.cnoe.io/')) return o;
    const r = admission.admit(o);
    if (r.outcome === 'invalid') {
      for (const p of r.problems) problems.push({ object: what, problem: p });
      return undefined;
    }
    if (r.outcome !== 'valid') return o;
    return { ...(r.object as KubeObject), apiVersion: API_VERSION };
  };
  const identify = (o: KubeObject, previous?: KubeObject): KubeObject => {
    const md = { ...o.metadata };
    md.uid = previous?.metadata.uid ?? md.uid ?? `00000000-0000-4000-8000-${shortHash(keyOf(o), 12)}`;
    const changed = previous && !sameCanonicalJSON(previous.spec, o.spec);
    md.generation = previous ? (previous.metadata.generation ?? 1) + (changed ? 1 : 0) : (md.generation ?? 1);
    return { ...o, metadata: md } as KubeObject;
  };

  const inNamespace = (raw: KubeObject) => ({ ...raw, metadata: { ...raw.metadata, namespace: raw.metadata.namespace ?? 'default' } }) as KubeObject;
  const observed = new Map<string, KubeObject>();
  for (const raw of opts.observed ?? []) {
    const o = inNamespace(raw);
    if (observed.has(keyOf(o))) warnings.push(`observed ${o.kind} ${o.metadata.namespace}/${o.metadata.name} is given more than once; the last one wins`);
    observed.set(keyOf(o), o);
  }
  /** Observed objects nothing created (yet): related objects only, neither reconciled nor printed. */
  const observedOnly = new Set<string>();

  for (const raw of inputs) {
    const o = inNamespace(raw);
    const admitted = admit(o, `${o.kind}/${o.metadata.name}`);
    if (!admitted) continue;
    const key = keyOf(admitted);
    if (world.has(key)) warnings.push(`${admitted.kind} ${admitted.metadata.namespace}/${admitted.metadata.name} is defined more than once; the last definition wins`);
    else {
      inputOrder.push(key);
      inputKeys.add(key);
    }
    // status in inputs is ignored, as the API server ignores it on create
    const { status: _ignored, ...withoutStatus } = admitted as KubeObject & { status?: unknown };
    const obs = observed.get(key);
    world.set(key, identify(obs ? withObserved(withoutStatus as KubeObject, obs) : (withoutStatus as KubeObject)));
  }
  if (problems.length) throw new RenderInputError(problems);
  for (const [key, obs] of observed) {
    if (world.has(key)) continue;
    world.set(key, identify(obs));
    observedOnly.add(key);
  }

  const byKind = new Map(controllers.map((c) => [c.kind.kind, c]));
  /** Our controllers write the status of these objects: an observed status is where they start, not a pin. */
  const reconciled = (o: KubeObject) => byKind.has(o.kind) && groupOf(o.apiVersion) === groupOf(API_VERSION);
  const related = (rules: RelatedResourceRule[]): ObjectMap => {
    const map: ObjectMap = {};
    for (const rule of rules) {
      const kind = kindOf(rule.apiVersion, rule.resource) ?? kindAmong(world.values(), rule.apiVersion, rule.resource);
      const gk = groupKey(kind ?? rule.resource, rule.apiVersion);
      map[gk] ??= {};
      if (!kind) continue;
      const group = groupOf(rule.apiVersion);
      // by name: the keys themselves (keyOf), put in the world's order as the scan would give them
      let candidates: KubeObject[];
      if (rule.namespace && rule.names?.length === 1) {
        // one name (most rules): one lookup, nothing to order
        const one = world.get(`${group}/${kind}/${rule.namespace}/${rule.names[0]}`);
        candidates = one ? [one] : [];
      } else if (rule.namespace && rule.names) {
        candidates = world.inOrder(new Set(rule.names.map((n) => `${group}/${kind}/${rule.namespace}/${n}`).filter((k) => world.has(k)))).map((k) => world.get(k)!);
      } else candidates = world.ofKind(kind);
      for (const o of candidates) {
        if (o.kind !== kind || groupOf(o.apiVersion) !== group) continue;
        if (rule.namespace && o.metadata.namespace !== rule.namespace) continue;
        if (rule.names && !rule.names.includes(o.metadata.name)) continue;
        if (!matchesSelector(o.metadata.labels, rule.labelSelector)) continue;
        // the object itself when the rule asks for its apiVersion (hooks never change their request)
        map[gk][objectKey(o.metadata.namespace, o.metadata.name)] = o.apiVersion === rule.apiVersion ? o : ({ ...o, apiVersion: rule.apiVersion } as KubeObject);
      }
    }
    return map;
  };

  /** Observed objects nothing wanted yet that are `parent`'s children (see the header): claimed, as Metacontroller does. */
  const adopt = (parent: KubeObject, pkey: string, c: ControllerDef) => {
    if (!observedOnly.size) return;
    const ownerLabel = `idpbuilder.cnoe.io/${parent.kind.toLowerCase()}`;
    for (const okey of [...observedOnly]) {
      const o = world.get(okey);
      if (!o || o.metadata.namespace !== parent.metadata.namespace) continue;
      if (!c.children.some((r) => r.kind === o.kind && groupOf(r.apiVersion) === groupOf(o.apiVersion))) continue;
      const refs = ((o.metadata as { ownerReferences?: unknown }).ownerReferences ?? []) as { kind?: string; name?: string; controller?: boolean }[];
      const byRef = refs.some((r) => r.controller === true && r.kind === parent.kind && r.name === parent.metadata.name);
      if (!byRef && o.metadata.labels?.[ownerLabel] !== labelValue(parent.metadata.name)) continue;
      observedOnly.delete(okey);
      owner.set(okey, pkey);
    }
  };

  /** Applies a parent's desired children (owner `via`): create or update, keep observed status, delete what is no longer desired. */
  const apply = (parent: KubeObject, via: string, desiredChildren: KubeObject[]) => {
    const desired = new Set<string>();
    for (const d of desiredChildren) {
      const child = { ...d, metadata: { ...d.metadata, namespace: d.metadata.namespace ?? parent.metadata.namespace } } as KubeObject;
      if (child.metadata.namespace !== parent.metadata.namespace) warnings.push(`${parent.kind} ${parent.metadata.name}: child ${child.kind} ${child.metadata.name} is outside the parent's namespace`);
      const admitted = admit(child, `${child.kind}/${child.metadata.name} (child of ${parent.kind}/${parent.metadata.name})`);
      if (!admitted) throw new RenderInputError(problems);
      const ckey = keyOf(admitted);
      const prev = world.get(ckey);
      if (prev && owner.get(ckey) !== via && inputKeys.has(ckey)) {
        warnings.push(`${parent.kind} ${parent.metadata.name} wants ${admitted.kind} ${admitted.metadata.name}, which is an input object: the input is kept`);
        continue;
      }
      desired.add(ckey);
      owner.set(ckey, via);
      observedOnly.delete(ckey); // an observed object a controller now wants is its child
      // Metacontroller ignores status in desired children: the observed status stays.
      let next = identify(admitted, prev);
      if (prev?.status !== undefined) next = { ...next, status: prev.status } as KubeObject;
      else delete (next as { status?: unknown }).status;
      // what others (decorators) set on the child's metadata is kept, as a 3-way merge would
      if (prev?.metadata.annotations) next = { ...next, metadata: { ...next.metadata, annotations: { ...prev.metadata.annotations, ...(next.metadata.annotations ?? {}) } } } as KubeObject;
      if (opts.assumeReady) next = assumeReady(next);
      const obs = observed.get(ckey);
      if (obs && !reconciled(next)) next = withObserved(next, obs);
      world.set(ckey, next);
    }
    const remove = (ck: string) => {
      owner.delete(ck);
      world.delete(ck);
      // garbage collection: children and attachments of a deleted object go with it
      for (const gp of owner.ownersOf(ck)) for (const gk of owner.childrenOf(gp)) remove(gk);
    };
    for (const ck of owner.childrenOf(via)) if (!desired.has(ck)) remove(ck);
  };

  const maxRounds = opts.maxRounds ?? 25;
  let rounds = 0;
  let converged = false;
  // observed objects claimed as children in a round are news too (their parents must sync them): part of the snapshot
  // (the world's objects are replaced, never changed in place: a copy of the Map and of the set is the round's start)
  const snapshot = () => ({ objects: new Map(world), observedOnly: new Set(observedOnly) });
  /** Whether the world is the same as at `s`: same keys, objects with the same canonical JSON, same observed-only keys. */
  const unchangedSince = (s: ReturnType<typeof snapshot>): boolean => {
    if (s.objects.size !== world.size || s.observedOnly.size !== observedOnly.size) return false;
    for (const k of observedOnly) if (!s.observedOnly.has(k)) return false;
    for (const [k, o] of world) {
      const was = s.objects.get(k);
      if (was === undefined || !sameCanonicalJSON(was, o)) return false;
    }
    return true;
  };
  let before = snapshot();
  while (rounds < maxRounds) {
    rounds += 1;
    // our controllers' parents only: a Flux GitRepository (source.toolkit.fluxcd.io) is not ours
    const parents = [...world.keys()].sort().filter((k) => !observedOnly.has(k) && byKind.has(world.get(k)!.kind) && groupOf(world.get(k)!.apiVersion) === groupOf(API_VERSION));
    for (const pkey of parents) {
      const parent = world.get(pkey);
      if (!parent) continue; // deleted earlier in this round
      const c = byKind.get(parent.kind)!;
      adopt(parent, pkey, c);
      const customize = c.hooks.customize?.({ parent }, renderHookEnv(opts, parent));
      const children: ObjectMap = {};
      for (const rule of c.children) children[groupKey(rule.kind, rule.apiVersion)] = {};
      for (const ck of owner.childrenOf(pkey)) {
        const child = world.get(ck);
        if (child) (children[groupKey(child.kind, child.apiVersion)] ??= {})[objectKey(child.metadata.namespace, child.metadata.name)] = child;
      }
      const req: SyncRequest = { parent, children, related: related(customize?.relatedResources ?? []), finalizing: false };
      const answer = c.hooks.sync(req, renderHookEnv(opts, parent));
      opts.onSync?.(req, answer);
      const res = finishSync(answer);
      const computed = { ...parent, status: { ...res.status, ...(parent.metadata.generation !== undefined ? { observedGeneration: parent.metadata.generation } : {}) } } as KubeObject;
      world.set(pkey, computed);
      apply(parent, pkey, res.children);
    }
    for (const d of opts.decorators ?? []) {
      for (const okey of [...world.keys()].sort()) {
        const object = world.get(okey);
        if (!object || observedOnly.has(okey) || !d.resources.some((r) => r.kind === object.kind && groupOf(r.apiVersion) === groupOf(object.apiVersion) && matchesSelector(object.metadata.labels, r.labelSelector) && matchesAnnotations(object, r.annotationSelector))) continue;
        const via = `${okey}#${d.name}`;
        const customize = d.hooks.customize?.({ parent: object }, renderHookEnv(opts, object));
        const attachments: ObjectMap = {};
        for (const rule of d.attachments) attachments[groupKey(rule.kind, rule.apiVersion)] = {};
        for (const ck of owner.childrenOf(via)) {
          const child = world.get(ck);
          if (child) (attachments[groupKey(child.kind, child.apiVersion)] ??= {})[objectKey(child.metadata.namespace, child.metadata.name)] = child;
        }
        const res: DecoratorSyncResponse = d.hooks.sync({ object, attachments, related: related(customize?.relatedResources ?? []), finalizing: false }, renderHookEnv(opts, object));
        const md = { ...object.metadata, labels: { ...(object.metadata.labels ?? {}) }, annotations: { ...(object.metadata.annotations ?? {}) } };
        for (const [k, v] of Object.entries(res.labels ?? {})) v === null ? delete md.labels[k] : (md.labels[k] = v);
        for (const [k, v] of Object.entries(res.annotations ?? {})) v === null ? delete md.annotations[k] : (md.annotations[k] = v);
        if (!Object.keys(md.labels).length) delete (md as { labels?: unknown }).labels;
        if (!Object.keys(md.annotations).length) delete (md as { annotations?: unknown }).annotations;
        world.set(okey, { ...object, metadata: md } as KubeObject);
        apply(object, via, res.attachments ?? []);
      }
    }
    // the world between two rounds does not change: this round's end is the next round's start
    if (unchangedSince(before)) {
      converged = true;
      break;
    }
    before = snapshot();
  }
  if (!converged) warnings.push(`no fixed point after ${maxRounds} rounds; the output is the last round's`);
  const generated = [...world.keys()].filter((k) => !inputKeys.has(k) && !observedOnly.has(k)).sort();
  return { objects: [...inputOrder, ...generated].map((k) => world.get(k)!).filter(Boolean), rounds, converged, warnings };
}

/**
 * Secret values replaced, so render output can be shared; `showSecrets` keeps them. Both `data` (each value
 * becomes base64 of `REDACTED`) and `stringData` (each value becomes `REDACTED`): an input Secret written with
 * `stringData` is printed as given, keys kept.
 */
export function redactSecrets(objects: KubeObject[]): KubeObject[] {
  return objects.map((o) => {
    const s = o as KubeObject & { stringData?: Record<string, unknown> };
    if (o.kind !== 'Secret' || o.apiVersion !== 'v1' || (!o.data && !s.stringData)) return o;
    const out = { ...o } as KubeObject & { stringData?: Record<string, unknown> };
    if (o.data) out.data = Object.fromEntries(Object.keys(o.data).map((k) => [k, Buffer.from('REDACTED').toString('base64')]));
    if (s.stringData && typeof s.stringData === 'object') out.stringData = Object.fromEntries(Object.keys(s.stringData).map((k) => [k, 'REDACTED']));
    return out;
  });
}
