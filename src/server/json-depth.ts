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
 * True when the JSON text (a string, or UTF-8 bytes, decoded first) nests objects/arrays deeper than
 * `limit`. One pass, skipping string contents (escapes included); does not validate the JSON (the parser
 * does). Pass the decoded text when the caller parses it next (the JSON body parser does: one decoding).
 *
 * A string is skipped with `String#indexOf` from one `"` to the next one preceded by an even number of
 * backslashes, not character by character: most of a Kubernetes object's characters are inside strings, and
 * the per-byte loop cost most of what the parse itself costs (issue 15). Same verdict as a per-character scan
 * that skips the character after each `\` inside a string (test/unit/server-hardening.test.ts compares them).
 */
export function jsonDepthExceeds(text: string | Uint8Array, limit = MAX_JSON_DEPTH): boolean {
  const s = typeof text === 'string' ? text : Buffer.from(text.buffer, text.byteOffset, text.byteLength).toString('utf8');
  const n = s.length;
  let depth = 0;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x22) {
      // the closing quote: the next `"` after an even run of backslashes (the opening `"` bounds the run)
      for (;;) {
        const q = s.indexOf('"', i + 1);
        if (q < 0) return false; // an unterminated string: nothing after it nests
        let k = q - 1;
        while (s.charCodeAt(k) === 0x5c) k--;
        i = q;
        if ((q - 1 - k) % 2 === 0) break;
      }
    } else if (c === 0x7b || c === 0x5b) {
      if (++depth > limit) return true;
    } else if (c === 0x7d || c === 0x5d) {
      depth--;
    }
  }
  return false;
}
