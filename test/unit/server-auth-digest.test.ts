// The bearer check compares SHA-256 digests with crypto.timingSafeEqual: every header, whatever its length or
// shared prefix, costs one digest and one comparison of two 32-byte buffers (no early exit on the first wrong
// byte, no length leak). Shown by what is called, not by timing it (no test asserts a time).
import { describe, expect, it, vi } from 'vitest';

const compared: Array<[number, number]> = [];
vi.mock('node:crypto', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:crypto')>();
  return {
    ...real,
    timingSafeEqual: (a: NodeJS.ArrayBufferView, b: NodeJS.ArrayBufferView) => {
      compared.push([a.byteLength, b.byteLength]);
      return real.timingSafeEqual(a, b);
    },
  };
});

const { bearerCheck } = await import('../../src/server/plugins/auth.js');

describe('bearerCheck', () => {
  it('compares two 32-byte digests for every header: right, wrong with a long shared prefix, wholly different, short, long', () => {
    const check = bearerCheck('a'.repeat(64));
    const headers = [`Bearer ${'a'.repeat(64)}`, `Bearer ${'a'.repeat(63)}b`, `Bearer ${'z'.repeat(64)}`, 'Bearer x', `Bearer ${'a'.repeat(5000)}`];
    const verdicts = headers.map((h) => check(h));
    expect(verdicts).toEqual([true, false, false, false, false]);
    expect(compared).toEqual(headers.map(() => [32, 32]));
  });

  it('refuses a header that is not a string without comparing anything', () => {
    compared.length = 0;
    expect(bearerCheck('t')(undefined)).toBe(false);
    expect(bearerCheck('t')(['Bearer t'])).toBe(false);
    expect(compared).toEqual([]);
  });
});
