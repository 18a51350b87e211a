import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { canonicalJSON, hashOfCanonical, shortHash, sortKeysDeep } from '../../../src/kit/canonical.js';
import { hashedName, hashedNameOfCanonical } from '../../../src/kit/names.js';

/** The definition canonicalJSON must keep to, byte for byte. */
const reference = (v: unknown) => JSON.stringify(sortKeysDeep(v));

describe('canonicalJSON', () => {
  it('sorts keys at every depth and leaves undefined members out', () => {
    expect(canonicalJSON({ b: 1, a: { d: [3, { z: 1, y: undefined, x: 'q' }], c: null } })).toBe('{"a":{"c":null,"d":[3,{"x":"q","z":1}]},"b":1}');
  });

  it('writes null for undefined, functions and symbols in arrays and leaves them out of objects, as JSON.stringify does', () => {
    expect(canonicalJSON([undefined, () => 1, Symbol('s'), 1])).toBe('[null,null,null,1]');
    expect(canonicalJSON({ a: () => 1, b: Symbol('s'), c: undefined, d: 2 })).toBe('{"d":2}');
    expect(canonicalJSON(undefined)).toBeUndefined();
  });

  it('index-like keys come first in numeric order, as in the key-sorted copy', () => {
    const v = { b: 1, '10': 2, '': 3, '2': 4, '01': 5, '4294967295': 6 };
    expect(canonicalJSON(v)).toBe(reference(v));
    expect(canonicalJSON(v)).toBe('{"2":4,"10":2,"":3,"01":5,"4294967295":6,"b":1}');
  });

  it('numbers, strings with escapes, NaN and -0 as JSON.stringify writes them', () => {
    const v = { n: [NaN, -0, Infinity, 1e21, 0.1], s: 'a"b\\c\n\u2028\ud800' };
    expect(canonicalJSON(v)).toBe(reference(v));
    expect(canonicalJSON(v)).toBe('{"n":[null,0,null,1e+21,0.1],"s":"a\\"b\\\\c\\n\u2028\\ud800"}');
  });

  it('objects with toJSON are written by their own keys, as the key-sorted copy is (a Date is {})', () => {
    expect(canonicalJSON({ at: new Date(0) })).toBe('{"at":{}}');
    expect(canonicalJSON({ at: new Date(0) })).toBe(reference({ at: new Date(0) }));
  });

  it('throws on a BigInt, as JSON.stringify does', () => {
    expect(() => canonicalJSON({ a: 1n })).toThrow(TypeError);
  });

  it('equals JSON.stringify(sortKeysDeep(v)) for any JSON value, with or without undefined members', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        expect(canonicalJSON(v)).toBe(reference(v));
      }),
      { numRuns: 1000 },
    );
    fc.assert(
      fc.property(fc.anything({ withNullPrototype: true, withObjectString: false, withBigInt: false, withDate: true, withMap: false, withSet: false, withTypedArray: false, withSparseArray: true }), (v) => {
        expect(canonicalJSON(v)).toBe(reference(v));
      }),
      { numRuns: 1000 },
    );
  });

  it('shortHash is the SHA-256 prefix of the canonical form (the names of existing objects do not change)', () => {
    // sha256('{"a":1,"b":[2]}'): a change here would rename every hashed child in running clusters
    expect(shortHash({ b: [2], a: 1 }, 64)).toBe('0855bfc20eb6cfaa4be7d6b510c63dd22997718bddadcb1a4915cec3a16145b9');
    expect(shortHash({ b: [2], a: 1 })).toBe('0855bfc2');
  });

  it('a name hashed from a canonical form at hand is the name hashed from the value, also when composed as GitRepository sync composes {config, round}', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.nat(), (config, round) => {
        const configJSON = canonicalJSON(config);
        expect(hashOfCanonical(configJSON, 12)).toBe(shortHash(config, 12));
        expect(hashedNameOfCanonical(['repo', 'sync'], configJSON)).toBe(hashedName(['repo', 'sync'], config));
        expect(hashedNameOfCanonical(['repo', 'sync'], `{"config":${configJSON},"round":${canonicalJSON(round)}}`)).toBe(hashedName(['repo', 'sync'], { config, round }));
      }),
      { numRuns: 300 },
    );
  });
});

describe('sortKeysDeep returns canonical parts as they are (issue 15)', () => {
  /** The always-copying definition it replaced. */
  const copying = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(copying);
    if (value === null || typeof value !== 'object') return value;
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value as Record<string, unknown>).sort()) {
      const v = (value as Record<string, unknown>)[key];
      if (v !== undefined) out[key] = copying(v);
    }
    return out;
  };

  it('writes what the copying definition writes, and leaves its input alone', () => {
    const values = fc.oneof(fc.anything({ withNullPrototype: true, withDate: true, withSparseArray: true, withObjectString: true }), fc.json().map((t) => JSON.parse(t) as unknown));
    fc.assert(
      fc.property(values, (v) => {
        const before = JSON.stringify(copying(v));
        expect(JSON.stringify(sortKeysDeep(v))).toBe(before);
        expect(JSON.stringify(copying(v))).toBe(before);
      }),
      { numRuns: 1500 },
    );
  });

  it('an object already sorted is returned as is; one member out of order or undefined makes a copy', () => {
    const sorted = { a: 1, b: { c: [1, { d: 2 }] } };
    expect(sortKeysDeep(sorted)).toBe(sorted);
    const inner = { y: 1, x: 2 };
    const outer = { a: [inner], b: 1 };
    const copy = sortKeysDeep(outer);
    expect(copy).not.toBe(outer);
    expect(JSON.stringify(copy)).toBe('{"a":[{"x":2,"y":1}],"b":1}');
    expect(Object.keys(inner)).toEqual(['y', 'x']);
    expect(sortKeysDeep({ a: 1, b: undefined })).toEqual({ a: 1 });
    expect(JSON.stringify(sortKeysDeep({ at: new Date(0) }))).toBe('{"at":{}}');
    // an own __proto__ member, as JSON.parse makes it: written as the copying definition writes it
    for (const text of ['{"__proto__":{"x":1},"a":1}', '{"__proto__":1,"a":1}', '{"a":{"__proto__":[1]}}']) {
      const v = JSON.parse(text) as unknown;
      expect(JSON.stringify(sortKeysDeep(v))).toBe(JSON.stringify(copying(v)));
    }
  });
});
