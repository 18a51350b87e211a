import { describe, expect, it } from 'vitest';
import { pointerPath } from '../../../src/api/validate.js';

describe('pointerPath: an Ajv instancePath (JSON Pointer) as a message path', () => {
  it('names as .name, indexes as [n], other segments JSON-quoted, ~1 and ~0 unescaped', () => {
    expect(pointerPath('/spec/items/0/a~1b/c~0d/x-y')).toBe('.spec.items[0]["a/b"]["c~d"]["x-y"]');
    expect(pointerPath('')).toBe('');
  });

  it('another name rule (Kubernetes fields with -), and indexes quoted like names (Fastify wording)', () => {
    expect(pointerPath('/metadata/x-y', { name: /^[A-Za-z_][A-Za-z0-9_-]*$/ })).toBe('.metadata.x-y');
    expect(pointerPath('/parent/$ref/0', { name: /^[A-Za-z_$][A-Za-z0-9_$]*$/, index: false })).toBe('.parent.$ref["0"]');
  });
});
