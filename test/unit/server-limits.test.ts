/** The chart's default limits of the hook service fit its memory limit (src/server/limits.ts). */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { AMPLIFICATION, BASELINE_BYTES, DEFAULT_BODY_LIMIT, MEMO_MAX_BYTES, limitsFit, maxConcurrencyFor, parseMemoryQuantity, worstCaseBytes } from '../../src/server/limits.js';

const values = parse(readFileSync(join(__dirname, '..', '..', 'charts', 'idpbuilder', 'values.yaml'), 'utf8')) as {
  limits: { maxConcurrency: number; bodyLimit: number; requestTimeoutSeconds: number };
  resources: { limits: { memory: string } };
};
const MiB = 2 ** 20;

describe('memory limits', () => {
  it('reads Kubernetes memory quantities', () => {
    expect(parseMemoryQuantity('512Mi')).toBe(512 * MiB);
    expect(parseMemoryQuantity('1Gi')).toBe(1024 * MiB);
    expect(parseMemoryQuantity('1G')).toBe(1e9);
    expect(parseMemoryQuantity('134217728')).toBe(134217728);
    expect(parseMemoryQuantity('1.5Gi')).toBe(1536 * MiB);
    expect(parseMemoryQuantity('1e3')).toBe(1000);
    for (const bad of ['', 'Mi', '100m', '-1Mi', '1 Gi', 'lots']) expect(() => parseMemoryQuantity(bad), bad).toThrow(RangeError);
  });

  it('worst case = baseline + memo + concurrency × body limit × amplification', () => {
    expect(worstCaseBytes({ maxConcurrency: 2, bodyLimit: MiB, memoBytes: 0 })).toBe(BASELINE_BYTES + 2 * MiB * AMPLIFICATION);
    expect(worstCaseBytes({ maxConcurrency: 1, bodyLimit: MiB })).toBe(BASELINE_BYTES + MEMO_MAX_BYTES + MiB * AMPLIFICATION);
    expect(() => worstCaseBytes({ maxConcurrency: 0, bodyLimit: MiB })).toThrow(RangeError);
  });

  it("the chart's defaults fit its memory limit", () => {
    const fit = limitsFit({ maxConcurrency: values.limits.maxConcurrency, bodyLimit: values.limits.bodyLimit, memoryLimit: values.resources.limits.memory });
    expect(fit.fits, `worst case ${fit.worstCaseBytes / MiB} MiB > limit ${fit.memoryLimitBytes / MiB} MiB`).toBe(true);
    expect(values.limits.bodyLimit).toBe(DEFAULT_BODY_LIMIT);
    expect(values.limits.requestTimeoutSeconds).toBeGreaterThan(0);
    // and the concurrency is not needlessly low: one more request would not fit
    expect(maxConcurrencyFor(values.limits.bodyLimit, values.resources.limits.memory)).toBe(values.limits.maxConcurrency);
  });

  it('the old defaults (256Mi, 8 MiB bodies, no concurrency limit) did not fit even 2 requests', () => {
    expect(maxConcurrencyFor(DEFAULT_BODY_LIMIT, '256Mi')).toBe(1);
    expect(limitsFit({ maxConcurrency: 2, bodyLimit: DEFAULT_BODY_LIMIT, memoryLimit: '256Mi' }).fits).toBe(false);
  });
});
