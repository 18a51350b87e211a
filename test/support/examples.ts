/** Reads examples/ and the expectations written at the top of examples/invalid/*.yaml. */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

export const ROOT = new URL('../..', import.meta.url).pathname;
export const EXAMPLES = join(ROOT, 'examples');
export const INVALID = join(EXAMPLES, 'invalid');

export function exampleFiles(): string[] {
  return readdirSync(EXAMPLES).filter((f) => f.endsWith('.yaml')).sort().map((f) => join(EXAMPLES, f));
}

export function invalidExamples(): { file: string; expect: string[] }[] {
  return readdirSync(INVALID)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((f) => {
      const file = join(INVALID, f);
      const expect = readFileSync(file, 'utf8')
        .split('\n')
        .map((l) => /^# expect-error: (.*)$/.exec(l)?.[1])
        .filter((x): x is string => !!x);
      return { file, expect };
    });
}
