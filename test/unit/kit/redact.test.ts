import { describe, expect, it } from 'vitest';
import { Redactor, scrubStrings } from '../../../src/kit/redact.js';
import { maskSecrets } from '../../../src/gitapi/errors.js';
import { decodeSecretData, secretEntries } from '../../../src/kit/secrets.js';
import { scrub as scrubNote } from '../../../src/events/transitions.js';
import { scrubSecrets } from '../../../src/jobs/repo/scrub.js';
import type { KubeObject } from '../../../src/metacontroller/protocol.js';

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');

describe('secretEntries and decodeSecretData: the one decoding of a Secret', () => {
  const s = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'x' }, data: { password: b64('p@ss'), n: 5 }, stringData: { password: 'other', token: 't0k' } } as unknown as KubeObject;

  it('entries: data decoded then stringData, a key in both twice, non-strings skipped', () => {
    expect(secretEntries(s)).toEqual([
      ['password', 'p@ss'],
      ['password', 'other'],
      ['token', 't0k'],
    ]);
    expect(secretEntries(undefined)).toEqual([]);
  });

  it('by key: stringData wins over data', () => {
    expect(decodeSecretData(s)).toEqual({ password: 'other', token: 't0k' });
    expect(decodeSecretData(undefined)).toEqual({});
  });
});

describe('Redactor: the one scrubber (status, Event notes, repo-sync logs)', () => {
  const t = 's3cr3t/t0ken+x';

  it('masks a value, its padded and unpadded base64 and its percent-encoding whole', () => {
    expect(b64(t).endsWith('=')).toBe(true);
    expect(new Redactor([t]).scrub(`a ${t} b ${b64(t)} c ${b64(t).replace(/=+$/, '')}x d ${encodeURIComponent(t)}`)).toBe('a *** b *** c ***x d ***');
  });

  it('masks header credentials, quoted or not, Proxy-Authorization and X-Auth-Token included', () => {
    const r = new Redactor([]);
    expect(r.scrub('{"authorization": "Bearer abc.def"}')).toBe('{"authorization": "Bearer ***"}');
    expect(r.scrub('Proxy-Authorization: Basic Zm9vOmJhcg==')).toBe('Proxy-Authorization: Basic ***');
    expect(r.scrub("'x-auth-token': 'abc'")).toBe("'x-auth-token': '***'");
    expect(r.scrub('PRIVATE-TOKEN=abc')).toBe('PRIVATE-TOKEN=***');
  });

  it('another mask, and values only when shapes are off', () => {
    expect(new Redactor(['hunter22'], { mask: '[redacted]' }).scrub('pw hunter22, Authorization: Bearer xyz')).toBe('pw [redacted], Authorization: Bearer [redacted]');
    expect(new Redactor(['hunter22'], { mask: '[redacted]', shapes: false }).scrub('pw hunter22, Authorization: Bearer xyz')).toBe('pw [redacted], Authorization: Bearer xyz');
  });

  it('scrubStrings: every string at any depth, keys and other values kept, the input unchanged', () => {
    const input = { 'k-hunter22': ['a hunter22', { n: 1, s: 'hunter22' }], b: true, z: null };
    expect(scrubStrings(input, (x) => x.replace('hunter22', '***'))).toEqual({ 'k-hunter22': ['a ***', { n: 1, s: '***' }], b: true, z: null });
    expect(input['k-hunter22'][0]).toBe('a hunter22');
  });

  it('Event notes: values and their encoded forms as [redacted]', () => {
    expect(scrubNote(`x ${b64(t)} y ${encodeURIComponent(t)}`, [t])).toBe('x [redacted] y [redacted]');
  });

  it('repo-sync: token shapes too, and the whole userinfo of a URL', () => {
    const ghp = `ghp_${'a1'.repeat(18)}`;
    expect(scrubSecrets(`push ${ghp} to https://git:pw@github.com/o/r.git and ssh://git@host/x`, [])).toBe('push *** to https://***@github.com/o/r.git and ssh://***@host/x');
  });
});

describe('maskSecrets: the value-masking step (API clients and the Redactor)', () => {
  it('masks every value in the order given, skips empty ones, any length', () => {
    expect(maskSecrets('user:abc abc ab', ['user:abc', 'abc', '', 'ab'])).toBe('*** *** ***');
    expect(maskSecrets('a b', [], '[redacted]')).toBe('a b');
    expect(maskSecrets('tok and tok', ['tok'], '[x]')).toBe('[x] and [x]');
  });
});
