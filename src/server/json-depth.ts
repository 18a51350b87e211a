/**
 * The nesting bound of request bodies. Every walk over user data in the hooks (Helm values merged and
 * rendered, canonical JSON for hashes, CEL inputs, JSON.stringify of the answer) recurses once per level,
 * so the body's depth is bounded at the door instead: a deeper body is a 400 before it is parsed, never a
 * stack overflow (500) inside a hook.
 */

/**
 * Levels of `{`/`[` nesting a request body may have: 100. A Metacontroller request adds four levels around an
 * object (body → children → group → name); Kubernetes objects, Helm values included, stay far below.
 */
export const MAX_JSON_DEPTH = 100;

/**
 * True when the JSON text in `buf` (UTF-8) nests objects/arrays deeper than `limit`. One pass over the bytes,
 * skipping string contents (escapes included); does not validate the JSON (the parser does).
 */
export function jsonDepthExceeds(buf: Uint8Array, limit = MAX_JSON_DEPTH): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < buf.length; i++) {
    const c = buf[i];
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x7b || c === 0x5b) {
      if (++depth > limit) return true;
    } else if (c === 0x7d || c === 0x5d) {
      depth--;
    }
  }
  return false;
}
