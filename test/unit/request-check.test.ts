import { describe, expect, it } from 'vitest';
import { Admission } from '../../src/api/validate.js';
import { ParentCheck, SPEC_VERDICT_BUDGET, SPEC_VERDICT_MAX_TEXT, VERDICT_CACHE_MAX_KEY } from '../../src/server/request-check.js';
import { manySourcesRepository } from '../../bench/requests.js';

/** The 64-source GitRepository of the benchmark, as parsed JSON (what the server checks). */
function repository(): Record<string, unknown> & { spec: { sources: Record<string, unknown>[] } } {
  return JSON.parse(JSON.stringify({ ...manySourcesRepository(64), metadata: { name: 'many-sources', namespace: 'idpbuilder-system', uid: 'u1', generation: 1 } }));
}

describe('ParentCheck: remembered CEL verdicts give the admission verdict', () => {
  it('a valid parent, the same with one source breaking a rule, then the valid one again', () => {
    const check = new ParentCheck();
    const valid = repository();
    expect(check.admit(valid).outcome).toBe('valid');
    expect(check.admit(repository()).outcome).toBe('valid'); // every source's verdict now remembered

    const escaping = repository();
    escaping.spec.sources[5] = { ...escaping.spec.sources[5], targetPath: '../outside' };
    const r = check.admit(escaping);
    expect(r).toEqual(new Admission().admit(escaping));
    expect(r).toMatchObject({ outcome: 'invalid', problems: [{ path: '.spec.sources[5].targetPath', message: 'targetPath must be relative and stay inside the repository' }] });
    // the same broken source again: the remembered "false" still refuses
    expect(check.admit(JSON.parse(JSON.stringify(escaping))).outcome).toBe('invalid');
    expect(check.admit(repository()).outcome).toBe('valid');
  });

  it('an Embedded source without path is refused with the admission message', () => {
    const check = new ParentCheck();
    const repo = repository();
    repo.spec.sources[1] = { type: 'Embedded', targetPath: 'embedded/1' };
    expect(check.admit(repo)).toMatchObject({ outcome: 'invalid', problems: [{ path: '.spec.sources[1].path', message: 'an Embedded or Local source needs path' }] });
  });

  it('a source longer than the remembered size is evaluated, with the same verdict', () => {
    const check = new ParentCheck();
    const big = repository();
    big.spec.sources[3] = { type: 'Inline', targetPath: '/abs', files: { 'README.md': 'x'.repeat(VERDICT_CACHE_MAX_KEY + 10) } };
    expect(check.admit(big)).toMatchObject({ outcome: 'invalid', problems: [{ path: '.spec.sources[3].targetPath' }] });
    big.spec.sources[3] = { ...big.spec.sources[3], targetPath: 'inline/3' };
    expect(check.admit(big).outcome).toBe('valid');
  });
});

describe('ParentCheck: a spec whose rules held is remembered by its text, per kind (issue 15)', () => {
  it('the same spec again is valid; a spec breaking a rule is refused every time, before and after a valid one', () => {
    const check = new ParentCheck();
    const escaping = repository();
    escaping.spec.sources[7] = { ...escaping.spec.sources[7], targetPath: '/etc' };
    const refused = new Admission().admit(escaping);
    expect(refused.outcome).toBe('invalid');
    expect(check.admit(escaping)).toEqual(refused);
    expect(check.admit(repository()).outcome).toBe('valid');
    expect(check.admit(repository()).outcome).toBe('valid');
    expect(check.admit(JSON.parse(JSON.stringify(escaping)))).toEqual(refused);
    // the spec of a valid GitRepository under another kind is that kind's own question
    const other = { ...repository(), kind: 'Package' };
    expect(check.admit(other)).toEqual(new Admission().admit(other));
  });

  it('a spec longer than the remembered size, and specs beyond the budget, get the admission verdict', () => {
    const check = new ParentCheck();
    const big = repository();
    big.spec.sources[2] = { type: 'Inline', targetPath: 'inline/2', files: { 'README.md': 'y'.repeat(SPEC_VERDICT_MAX_TEXT) } };
    expect(check.admit(big).outcome).toBe('valid');
    big.spec.sources[2] = { ...big.spec.sources[2], targetPath: '../x' };
    expect(check.admit(big)).toEqual(new Admission().admit(big));
    // enough distinct valid specs to turn both generations over, then each again (kept or walked anew)
    const specs = Array.from({ length: Math.ceil((3 * SPEC_VERDICT_BUDGET) / (SPEC_VERDICT_MAX_TEXT / 2)) }, (_, i) => {
      const r = repository();
      r.spec.sources[0] = { type: 'Inline', targetPath: `inline/${i}`, files: { 'a.txt': 'z'.repeat(SPEC_VERDICT_MAX_TEXT / 2) } };
      return r;
    });
    for (const r of [...specs, ...specs]) expect(check.admit(r).outcome).toBe('valid');
    const broken = specs[0];
    broken.spec.sources[0] = { ...broken.spec.sources[0], targetPath: '/abs' };
    expect(check.admit(broken).outcome).toBe('invalid');
  });
});

describe('Admission: compiled validators shared between instances', () => {
  it('one with defaults and one without each keep their own behaviour', () => {
    const input = { apiVersion: 'idpbuilder.cnoe.io/v1alpha1', kind: 'GitRepository', metadata: { name: 'r', namespace: 'n' }, spec: { gitServerRef: { kind: 'GiteaProvider', name: 'gitea' }, sources: [{ type: 'Embedded', path: 'p', targetPath: 't' }], sync: {} } };
    const before = JSON.stringify(input);
    const defaulted = new Admission({ applyDefaults: true }).admit(input);
    const plain = new Admission().admit(input);
    const defaultedAgain = new Admission({ applyDefaults: true }).admit(input);
    expect(JSON.stringify(input)).toBe(before); // neither changed the input
    expect(defaulted.outcome).toBe('valid');
    expect(plain).toEqual({ outcome: 'valid', kind: 'GitRepository', object: input });
    expect(defaultedAgain).toEqual(defaulted);
    expect((defaulted as unknown as { object: { spec: { sync: unknown } } }).object.spec.sync).toEqual({ autoSync: true, interval: '5m' }); // defaults applied
  });
});
