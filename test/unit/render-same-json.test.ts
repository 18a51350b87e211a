import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { canonicalJSON } from '../../src/kit/canonical.js';
import { sameCanonicalJSON } from '../../src/render/render.js';

/** The definition render's round comparison keeps to: equal canonical texts. */
const reference = (a: unknown, b: unknown) => canonicalJSON(a) === canonicalJSON(b);

/** `v` copied with the keys of every object in reverse order (same canonical JSON). */
const reversed = (v: unknown): unknown => {
  if (Array.isArray(v)) return v.map(reversed);
  if (v === null || typeof v !== 'object') return v;
  return Object.fromEntries(Object.keys(v).reverse().map((k) => [k, reversed((v as Record<string, unknown>)[k])]));
};

describe('sameCanonicalJSON (render: is the world unchanged after a round, has a spec changed)', () => {
  it('key order does not count; values, array order, and types do', () => {
    expect(sameCanonicalJSON({ a: 1, b: { c: [1, 2] } }, { b: { c: [1, 2] }, a: 1 })).toBe(true);
    expect(sameCanonicalJSON({ a: 1, b: { c: [1, 2] } }, { a: 1, b: { c: [2, 1] } })).toBe(false);
    expect(sameCanonicalJSON({ a: 1 }, { a: '1' })).toBe(false);
    expect(sameCanonicalJSON([1], { 0: 1 })).toBe(false);
    expect(sameCanonicalJSON({ a: 1 }, { a: 1, b: 2 })).toBe(false);
  });

  it('what JSON writes alike is alike: undefined members, NaN and null, -0 and 0, Dates as their own keys', () => {
    expect(sameCanonicalJSON({ a: 1, u: undefined }, { a: 1 })).toBe(true);
    expect(sameCanonicalJSON([undefined], [null])).toBe(true);
    expect(sameCanonicalJSON({ n: NaN }, { n: null })).toBe(true);
    expect(sameCanonicalJSON({ n: -0 }, { n: 0 })).toBe(true);
    expect(sameCanonicalJSON({ at: new Date(0) }, { at: {} })).toBe(true);
    expect(sameCanonicalJSON(undefined, undefined)).toBe(true);
  });

  it('equals the comparison of canonical texts for any pair of values, and for a value and its reordered copy', () => {
    const anything = fc.anything({ withNullPrototype: true, withObjectString: false, withBigInt: false, withDate: true, withMap: false, withSet: false, withTypedArray: false, withSparseArray: true });
    fc.assert(
      fc.property(anything, anything, (a, b) => {
        expect(sameCanonicalJSON(a, b)).toBe(reference(a, b));
        expect(sameCanonicalJSON(a, a)).toBe(true);
      }),
      { numRuns: 1000 },
    );
    fc.assert(
      fc.property(fc.jsonValue(), fc.jsonValue(), (a, b) => {
        expect(sameCanonicalJSON(a, reversed(a))).toBe(true);
        expect(sameCanonicalJSON(a, b)).toBe(reference(a, b));
        expect(sameCanonicalJSON({ x: a, y: [a, b] }, reversed({ y: [a, b], x: a }))).toBe(true);
      }),
      { numRuns: 1000 },
    );
  });
});
