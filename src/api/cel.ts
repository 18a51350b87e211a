/** Values as Kubernetes CEL sees them (shared by admission's rules and Package readiness expressions). */

/** Field names Kubernetes CEL escapes as `__<name>__` because they are CEL reserved words. */
const CEL_RESERVED = new Set(['as', 'break', 'const', 'continue', 'else', 'false', 'for', 'function', 'if', 'import', 'in', 'let', 'loop', 'package', 'namespace', 'null', 'return', 'true', 'var', 'void', 'while']);

/** Integers as BigInt, as CEL's int type expects; reserved field names also under their escaped name. */
export function toCel(value: unknown): unknown {
  if (typeof value === 'number') return Number.isInteger(value) ? BigInt(value) : value;
  if (Array.isArray(value)) return value.map(toCel);
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      out[k] = toCel(v);
      if (CEL_RESERVED.has(k)) out[`__${k}__`] = out[k];
    }
    return out;
  }
  return value;
}
