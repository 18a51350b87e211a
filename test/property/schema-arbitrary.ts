/**
 * A small JSON Schema (TypeBox) → fast-check arbitrary generator, for the schemas of src/api: objects with
 * required and optional properties (optional ones present about half the time), closed or free-form
 * objects, string maps, arrays within minItems/maxItems, strings honouring enum, const, pattern
 * (fc.stringMatching, falling back to samples), minLength/maxLength and date-time, integers and numbers
 * within minimum/maximum, booleans, and anyOf. CEL rules are not modelled: callers validate what comes out
 * with the real admission code and skip (and count) what it rejects.
 */
import fc from 'fast-check';

type Schema = Record<string, any>;

export interface GenOptions {
  /** Extra sample values per pattern, used when fc.stringMatching cannot take the pattern. */
  samples?: Record<string, string[]>;
  /** Longest arrays generated (the schema's maxItems still applies). */
  maxItems?: number;
  /** Probability-ish weight of optional properties being present: 1 in `optionalOdds` is absent. */
  optionalOdds?: number;
}

const DATE_TIMES = ['2026-01-01T00:00:00Z', '2000-01-01T00:00:00Z', '2026-11-26T03:35:44Z', '2031-12-31T23:59:59.123Z'];
const FREE_KEYS = ['replicaCount', 'image', 'enabled', 'tag', 'resources', 'service', 'ingress', 'config', 'a.b', 'x'];

const patternCache = new Map<string, fc.Arbitrary<string>>();

function stringArb(s: Schema, opts: GenOptions): fc.Arbitrary<string> {
  return plainStringArb(s, opts);
}

function plainStringArb(s: Schema, opts: GenOptions): fc.Arbitrary<string> {
  if (Array.isArray(s.enum)) return fc.constantFrom(...(s.enum as string[]));
  if (typeof s.const === 'string') return fc.constant(s.const);
  const min = typeof s.minLength === 'number' ? s.minLength : 0;
  const max = typeof s.maxLength === 'number' ? s.maxLength : Infinity;
  const fits = (x: string) => x.length >= min && x.length <= max;
  if (s.format === 'date-time') return fc.constantFrom(...DATE_TIMES).filter(fits);
  if (typeof s.pattern === 'string') {
    let arb = patternCache.get(s.pattern);
    if (!arb) {
      const samples = opts.samples?.[s.pattern] ?? [];
      try {
        const re = new RegExp(s.pattern);
        const matching = fc.stringMatching(re);
        arb = samples.length ? fc.oneof({ arbitrary: matching, weight: 4 }, { arbitrary: fc.constantFrom(...samples), weight: 1 }) : matching;
      } catch {
        arb = fc.constantFrom(...(samples.length ? samples : ['a']));
      }
      patternCache.set(s.pattern, arb);
    }
    // long matches are cut by the filter; short patterns like DNS labels rarely hit it
    return arb.filter(fits);
  }
  return fc.string({ minLength: min, maxLength: Math.min(max, min + 24) });
}

function freeForm(depth: number): fc.Arbitrary<Record<string, unknown>> {
  const leaf = fc.oneof(fc.string({ maxLength: 12 }), fc.integer({ min: -5, max: 1000 }), fc.boolean(), fc.constant(null));
  const value: fc.Arbitrary<unknown> = depth <= 0 ? leaf : fc.oneof({ arbitrary: leaf, weight: 3 }, { arbitrary: freeForm(depth - 1), weight: 1 }, { arbitrary: fc.array(leaf, { maxLength: 3 }), weight: 1 });
  return fc.dictionary(fc.constantFrom(...FREE_KEYS), value, { maxKeys: 4 });
}

const built = new WeakMap<object, Map<string, fc.Arbitrary<unknown>>>();
const sampleIds = new WeakMap<object, number>();
let nextSampleId = 1;

function optionsKey(opts: GenOptions): string {
  let samples = 0;
  if (opts.samples) {
    samples = sampleIds.get(opts.samples) ?? 0;
    if (!samples) sampleIds.set(opts.samples, (samples = nextSampleId++));
  }
  return `${samples}/${opts.maxItems ?? ''}/${opts.optionalOdds ?? ''}`;
}

/** An arbitrary of values valid under `schema` (CEL rules aside). Built once per schema node and options. */
export function arbitraryOf(schema: Schema, opts: GenOptions = {}, depth = 0): fc.Arbitrary<unknown> {
  const s = schema ?? {};
  if (typeof s !== 'object') return build(s, opts, depth);
  const key = `${optionsKey(opts)}/${Math.min(depth, 4)}`;
  let byOpts = built.get(s);
  if (!byOpts) built.set(s, (byOpts = new Map()));
  let arb = byOpts.get(key);
  if (!arb) {
    arb = build(s, opts, depth);
    byOpts.set(key, arb);
  }
  return arb;
}

function build(s: Schema, opts: GenOptions, depth: number): fc.Arbitrary<unknown> {
  if (Array.isArray(s.anyOf)) {
    const alts = (s.anyOf as Schema[]).map((alt) => arbitraryOf({ ...alt, ...(s.pattern && alt.type === 'string' ? { pattern: s.pattern } : {}) }, opts, depth + 1));
    return fc.oneof(...alts);
  }
  if (Array.isArray(s.oneOf)) return fc.oneof(...(s.oneOf as Schema[]).map((alt) => arbitraryOf(alt, opts, depth + 1)));
  if (s.const !== undefined && s.type !== 'string') return fc.constant(s.const);
  if (Array.isArray(s.enum) && s.type !== 'string') return fc.constantFrom(...s.enum);
  switch (s.type) {
    case 'string':
      return stringArb(s, opts);
    case 'integer': {
      const min = typeof s.minimum === 'number' ? s.minimum : -10;
      const max = typeof s.maximum === 'number' ? s.maximum : Math.max(min + 10, 1000);
      return fc.integer({ min, max });
    }
    case 'number': {
      const min = typeof s.minimum === 'number' ? s.minimum : -10;
      const max = typeof s.maximum === 'number' ? s.maximum : 1000;
      return fc.oneof(fc.integer({ min: Math.ceil(min), max: Math.floor(max) }), fc.double({ min, max, noNaN: true, noDefaultInfinity: true }));
    }
    case 'boolean':
      return fc.boolean();
    case 'array': {
      const minItems = typeof s.minItems === 'number' ? s.minItems : 0;
      const cap = depth > 3 ? 1 : (opts.maxItems ?? 3);
      const maxItems = Math.max(minItems, Math.min(typeof s.maxItems === 'number' ? s.maxItems : cap, cap));
      return fc.array(arbitraryOf(s.items ?? {}, opts, depth + 1), { minLength: minItems, maxLength: maxItems });
    }
    case 'object':
    case undefined: {
      if (s['x-kubernetes-preserve-unknown-fields'] && !s.properties) return freeForm(depth > 3 ? 0 : 1);
      const props = (s.properties ?? {}) as Record<string, Schema>;
      const required = new Set<string>((s.required as string[] | undefined) ?? []);
      const names = Object.keys(props);
      if (names.length === 0) {
        const ap = s.additionalProperties ?? (s.patternProperties ? Object.values(s.patternProperties)[0] : undefined);
        if (ap && typeof ap === 'object') {
          const maxKeys = Math.min(typeof s.maxProperties === 'number' ? s.maxProperties : 3, depth > 3 ? 1 : 3);
          return fc.dictionary(fc.stringMatching(/^[a-z][a-z0-9./_-]{0,14}$/), arbitraryOf(ap as Schema, opts, depth + 1), { maxKeys });
        }
        if (s.type === 'object' || s.additionalProperties === true) return depth > 2 ? fc.constant({}) : freeForm(1);
        return fc.anything({ maxDepth: 1 });
      }
      const odds = opts.optionalOdds ?? 2;
      const record: Record<string, fc.Arbitrary<unknown>> = {};
      for (const n of names) {
        const arb = arbitraryOf(props[n], opts, depth + 1);
        record[n] = required.has(n) ? arb : fc.option(arb, { nil: undefined, freq: odds });
      }
      return fc.record(record).map((o) => {
        const out: Record<string, unknown> = {};
        for (const [k, v] of Object.entries(o)) if (v !== undefined) out[k] = v;
        return out;
      });
    }
    default:
      return fc.constant(null);
  }
}
