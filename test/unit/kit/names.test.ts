import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { childName, isDNS1123Label } from '../../../src/kit/names.js';
import { shortHash } from '../../../src/kit/canonical.js';

/** childName as it was before its clean-name shortcut (issue 15): the names of existing objects must not change. */
function reference(parts: string[], max = 63): string {
  const raw = parts.join('-');
  const clean = raw.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/-+/g, '-').replace(/^-+|-+$/g, '');
  if (clean === raw && clean.length <= max && clean.length > 0) return clean;
  const suffix = shortHash(parts, 6);
  const head = clean.slice(0, max - suffix.length - 1).replace(/-+$/g, '');
  return head ? `${head}-${suffix}` : suffix;
}

describe('childName', () => {
  it('a clean name is kept; unclean, empty and long ones are cleaned and hashed', () => {
    expect(childName(['localdev', 'gitea', 'admin'])).toBe('localdev-gitea-admin');
    expect(childName(['Local', 'dev'])).toBe(reference(['Local', 'dev']));
    expect(childName(['a', ''])).toBe(reference(['a', '']));
    expect(childName(['-a'])).toMatch(/^a-[0-9a-f]{6}$/);
    expect(childName([''])).toMatch(/^[0-9a-f]{6}$/);
    expect(childName(['x'.repeat(64)])).toBe(reference(['x'.repeat(64)]));
    expect(childName(['x'.repeat(20)], 20)).toBe('x'.repeat(20));
    expect(childName(['x'.repeat(21)], 20)).toBe(reference(['x'.repeat(21)], 20));
  });

  it('equals the definition before the shortcut for any parts and bound, and is a DNS-1123 label', () => {
    const part = fc.oneof(fc.string(), fc.stringMatching(/^[a-z0-9-]{0,30}$/), fc.stringMatching(/^[a-zA-Z0-9._-]{0,40}$/));
    fc.assert(
      fc.property(fc.array(part, { minLength: 1, maxLength: 4 }), fc.integer({ min: 8, max: 80 }), (parts, max) => {
        const name = childName(parts, max);
        expect(name).toBe(reference(parts, max));
        if (max <= 63) expect(isDNS1123Label(name)).toBe(true);
      }),
      { numRuns: 3000 },
    );
  });
});
