/**
 * Request validation on the hot path, compiled once per app:
 *
 * - the envelope (SyncRequest, CustomizeRequest, DecoratorSyncRequest of src/metacontroller/protocol.ts):
 *   every observed object has apiVersion, kind and metadata.name, nothing deeper;
 * - the parent against its kind's schema and CEL rules, as admission would. The fast path is one compiled
 *   Ajv validator (first error only) and precompiled CEL programs; only a parent that fails is handed to
 *   src/api/validate.ts's Admission, for the same messages `idpbuilder validate` prints.
 *
 * Observed children and related objects are not validated here (see ./observed-check.ts).
 */
import type { Ajv, ValidateFunction } from 'ajv';
import type { TSchema } from '@sinclair/typebox';
import { Admission, celProgram, newAjv, pointerPath, toCel, type AdmitResult, type SchemaNode } from '../api/validate.js';
import { KIND_BY_NAME, isOurApiVersion, objectSchema, type KindDef } from '../api/kinds.js';
import type { CelRule } from '../api/schema.js';

/** The hot path's Ajv: the schema extensions of src/api/validate.ts, first error only. */
export function fastAjv(): Ajv {
  return newAjv({ allErrors: false });
}

/** `body.parent.spec: must be object` from an Ajv error, the way Fastify words body validation errors. */
export function describeAjvError(v: ValidateFunction, root = 'body'): string {
  const e = v.errors?.[0];
  if (!e) return `${root} is invalid`;
  const path = pointerPath(e.instancePath, { name: /^[A-Za-z_$][A-Za-z0-9_$]*$/, index: false });
  const extra = e.keyword === 'additionalProperties' ? ` '${String((e.params as { additionalProperty?: string }).additionalProperty)}'` : '';
  return `${root}${path} ${e.message ?? 'is invalid'}${extra}`;
}


/**
 * Verdicts remembered in all (one process-wide cache, see Verdicts), and the longest value (its JSON text, characters)
 * remembered; a longer one is evaluated every time: at most 4096 × 1024 characters of keys (4 MiB of Latin-1).
 */
const VERDICT_CACHE_ENTRIES = 4096;
/**
 * The longest value (its JSON text, in characters) whose CEL verdict is remembered; a longer one is evaluated every
 * time.
 */
export const VERDICT_CACHE_MAX_KEY = 1024;
/**
 * Value text → rule list number → verdict (the text as the key as is: no concatenated key to flatten), in two
 * generations of at most VERDICT_CACHE_ENTRIES / 2 each: a hit in the young one is one `Map#get` (an LRU's
 * delete-and-reinsert on every hit cost more than the lookup, issue 15); a hit in the old one is copied to the
 * young one; when the young one is full it becomes the old one and the old one is dropped. So a value used
 * since the last turnover stays, and at most VERDICT_CACHE_ENTRIES texts are held.
 */
class Verdicts {
  private young = new Map<string, Map<number, boolean>>();
  private old = new Map<string, Map<number, boolean>>();

  constructor(private readonly half: number) {}

  get(text: string): Map<number, boolean> | undefined {
    const v = this.young.get(text);
    if (v !== undefined) return v;
    const o = this.old.get(text);
    if (o !== undefined) this.set(text, o);
    return o;
  }

  set(text: string, v: Map<number, boolean>): void {
    if (this.young.size >= this.half) {
      this.old = this.young;
      this.young = new Map();
    }
    this.young.set(text, v);
  }
}
const verdicts = new Verdicts(VERDICT_CACHE_ENTRIES / 2);
/** A number per schema node's rule list (the CRDs' fixed set). */
const ruleIds = new WeakMap<CelRule[], number>();
let nextRuleId = 0;

function evaluateRules(rules: CelRule[], v: unknown): boolean {
  const self = toCel(v);
  for (const r of rules) if (celProgram(r.rule)({ self }) !== true) return false;
  return true;
}

/**
 * Whether all of one schema node's CEL rules hold for `v` (parsed JSON). CEL rules are pure functions of
 * `self`, so the verdict is remembered per node (its rule list) and value, the value keyed by its JSON
 * text (one text per JSON value: the same text is the same `self`), in a bounded cache (Verdicts)
 * (VERDICT_CACHE_ENTRIES, values of at most VERDICT_CACHE_MAX_KEY characters). A GitRepository's 64 sources
 * then cost 64 stringifications and lookups, not 64 × 4 interpreted rules, when most did not change. An
 * evaluation that throws is not remembered (the caller falls back to the full admission).
 */
function celRulesHold(rules: CelRule[], v: unknown): boolean {
  const text = JSON.stringify(v);
  if (text.length > VERDICT_CACHE_MAX_KEY) return evaluateRules(rules, v);
  let id = ruleIds.get(rules);
  if (id === undefined) ruleIds.set(rules, (id = nextRuleId++));
  let byRules = verdicts.get(text);
  const known = byRules?.get(id);
  if (known !== undefined) return known;
  const ok = evaluateRules(rules, v);
  if (!byRules) verdicts.set(text, (byRules = new Map()));
  byRules.set(id, ok);
  return ok;
}

/**
 * The most characters of spec texts SpecsThatHold keeps per generation (two generations: at most twice this, plus
 * one spec: 4 Mi characters, 4 MiB of Latin-1).
 */
export const SPEC_VERDICT_BUDGET = 2 * 1024 * 1024;
/** The longest spec text (characters) SpecsThatHold keeps; a longer spec is walked every time. */
export const SPEC_VERDICT_MAX_TEXT = 256 * 1024;
/**
 * Specs whose rules all held (rulesHold true), per kind, keyed by their JSON text (the same text is the same value:
 * a spec's rules are pure functions of it), in two generations bounded by characters as Verdicts is by entries. A
 * parent whose spec did not change since a sync (the usual case: Metacontroller resyncs) then costs one
 * stringification and one lookup instead of one per rule-bearing node (a GitRepository's 64 sources, issue 15).
 * Only the verdict "all hold" is kept: a spec that breaks a rule goes to Admission every time.
 */
class SpecsThatHold {
  private young = new Map<string, Set<string>>();
  private old = new Map<string, Set<string>>();
  private youngChars = 0;

  has(kind: string, text: string): boolean {
    if (this.young.get(kind)?.has(text)) return true;
    if (!this.old.get(kind)?.has(text)) return false;
    this.add(kind, text);
    return true;
  }

  add(kind: string, text: string): void {
    if (this.youngChars + text.length > SPEC_VERDICT_BUDGET) {
      this.old = this.young;
      this.young = new Map();
      this.youngChars = 0;
    }
    let texts = this.young.get(kind);
    if (!texts) this.young.set(kind, (texts = new Set()));
    if (!texts.has(text)) {
      texts.add(text);
      this.youngChars += text.length;
    }
  }
}
const specsThatHold = new SpecsThatHold();

/** rulesHold for a parent's spec, remembered per kind and spec text (SpecsThatHold). */
function specRulesHold(kind: string, node: SchemaNode | undefined, spec: unknown): boolean {
  if (!node || spec === undefined || spec === null) return rulesHold(node, spec);
  const text = JSON.stringify(spec);
  if (text.length > SPEC_VERDICT_MAX_TEXT) return rulesHold(node, spec);
  if (specsThatHold.has(kind, text)) return true;
  const ok = rulesHold(node, spec);
  if (ok) specsThatHold.add(kind, text);
  return ok;
}

/** Whether each schema node's subtree has rules (hasRules), per node of the CRDs' fixed schemas. */
const subtreeHasRules = new WeakMap<SchemaNode, boolean>();
function withRules(node: SchemaNode | undefined): SchemaNode | undefined {
  if (!node) return undefined;
  let has = subtreeHasRules.get(node);
  if (has === undefined) subtreeHasRules.set(node, (has = hasRules(node)));
  return has ? node : undefined;
}

/**
 * True when every CEL rule and list-map key constraint holds (the value already passed the schema). A
 * subtree whose schema has no rule is not walked (an Inline source's files, Helm values).
 */
function rulesHold(node: SchemaNode | undefined, v: unknown): boolean {
  if (!withRules(node) || v === undefined || v === null) return true;
  node = node!;
  const rules = node['x-kubernetes-validations'];
  if (rules?.length && !celRulesHold(rules, v)) return false;
  if (Array.isArray(v)) {
    const keys = node['x-kubernetes-list-map-keys'];
    if (node['x-kubernetes-list-type'] === 'map' && keys) {
      const seen = new Set<string>();
      for (const item of v) {
        const key = JSON.stringify(keys.map((k) => (item as Record<string, unknown>)?.[k]));
        if (seen.has(key)) return false;
        seen.add(key);
      }
    }
    for (const item of v) if (!rulesHold(node.items, item)) return false;
    return true;
  }
  if (typeof v === 'object') {
    for (const k of Object.keys(v as object)) {
      const sub = node.properties?.[k] ?? (typeof node.additionalProperties === 'object' ? node.additionalProperties : undefined);
      if (sub && !rulesHold(sub, (v as Record<string, unknown>)[k])) return false;
    }
  }
  return true;
}

/** Whether a subtree has any CEL or list-map rule at all (most do not: skip walking them). */
function hasRules(node: SchemaNode | undefined, seen = new Set<SchemaNode>()): boolean {
  if (!node || typeof node !== 'object' || seen.has(node)) return false;
  seen.add(node);
  if (node['x-kubernetes-validations']?.length || node['x-kubernetes-list-type'] === 'map') return true;
  if (node.items && hasRules(node.items, seen)) return true;
  if (typeof node.additionalProperties === 'object' && hasRules(node.additionalProperties, seen)) return true;
  return Object.values(node.properties ?? {}).some((p) => hasRules(p, seen));
}

interface Compiled {
  validate: ValidateFunction;
  spec?: TSchema;
  status?: TSchema;
}

/**
 * The hot-path check of a request's parent against its kind's schema and CEL rules (one compiled Ajv validator per
 * kind, first error only, precompiled CEL); a parent that fails is handed to Admission for the messages `idpbuilder
 * validate` prints (400).
 */
export class ParentCheck {
  private readonly ajv = fastAjv();
  private readonly compiled = new Map<string, Compiled>();
  private readonly admission = new Admission();

  private compile(def: KindDef): Compiled {
    let c = this.compiled.get(def.kind);
    if (!c) {
      c = {
        validate: this.ajv.compile(objectSchema(def)),
        spec: hasRules(def.spec as SchemaNode) ? def.spec : undefined,
        status: hasRules(def.status as SchemaNode) ? def.status : undefined,
      };
      this.compiled.set(def.kind, c);
    }
    return c;
  }

  /** The same verdict as `new Admission().admit(o)`, fast when the object is valid. */
  admit(o: unknown): AdmitResult {
    const obj = o as Record<string, unknown> | null;
    if (obj && typeof obj === 'object' && !Array.isArray(obj) && isOurApiVersion(obj.apiVersion)) {
      const def = typeof obj.kind === 'string' ? KIND_BY_NAME.get(obj.kind) : undefined;
      if (def) {
        const c = this.compile(def);
        let ok = false;
        try {
          ok = c.validate(obj) && specRulesHold(def.kind, c.spec as SchemaNode | undefined, obj.spec) && rulesHold(c.status as SchemaNode | undefined, obj.status);
        } catch {
          ok = false;
        }
        if (ok) return { outcome: 'valid', kind: def.kind, object: obj };
      }
    }
    return this.admission.admit(o);
  }
}
