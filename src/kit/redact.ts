/**
 * The one redaction step (layer: kit). Every text that goes from a Job, a Pod or an API into a status (and
 * so into Events, which are built from status transitions) passes through here: every value of every
 * Secret the request carries (observed children, related objects, and the Secrets the answer creates) is
 * replaced by `***`, and so are the shapes of credentials that need no Secret to be recognised (an
 * `Authorization:` header, `token <t>`, a password in a URL, GitHub and GitLab token prefixes). The same
 * Redactor masks the Event notes (src/events/transitions.ts) and repo-sync's logs and errors
 * (src/jobs/repo/scrub.ts): there is no other scrubber.
 */
import type { KubeObject, ObjectMap } from '../metacontroller/protocol.js';
import { secretEntries } from './secrets.js';
import { maskSecrets } from '../gitapi/errors.js';

/** Secret values shorter than this are not redacted (they would mask ordinary words such as "true"). */
const MIN_SECRET_LENGTH = 4;

/** What a secret value or a credential is replaced by, unless a Redactor is given another `mask`. */
export const MASK = '***';

/**
 * Credential shapes, each with the part to keep (group 1) before the masked part. Sources: RFC 7235
 * (`Authorization: <scheme> <credentials>`, also `Proxy-Authorization`, and quoted as in JSON or a header
 * dump: `"authorization": "Bearer <t>"`), GitLab `PRIVATE-TOKEN` and OpenStack-style `X-Auth-Token` headers,
 * Gitea/GitLab `token <t>` headers, RFC 3986 userinfo (`scheme://user:password@host`), GitHub token
 * prefixes (`ghp_`, `gho_`, `ghu_`, `ghs_`, `ghr_`, `github_pat_`), GitLab personal/project/group tokens
 * (`glpat-`, `gldt-`, `glrt-`, `glptt-`).
 */
const PATTERNS: RegExp[] = [
  /(authorization["']?\s*[:=]\s*["']?(?:bearer|basic|token|bot)?\s*)[^\s'",;]+/gi,
  /((?:private|x-auth)-token["']?\s*[:=]\s*["']?)[^\s'",;]+/gi,
  /(\btoken[ =:]+)(?=[A-Za-z0-9_\-.]*\d)[A-Za-z0-9_\-.]{12,}/gi,
  /(:\/\/[^\s/:@]*:)[^\s/@]+(?=@)/g,
  /()\b(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{20,}/g,
  /()\bgithub_pat_[A-Za-z0-9_]{20,}/g,
  /()\b(?:glpat|gldt|glrt|glptt|glsoat)-[A-Za-z0-9_-]{16,}/g,
];

/**
 * A text none of PATTERNS can match: each pattern needs one of these words (case-insensitive, a superset of
 * what the patterns match), so a text without any skips the seven replacements.
 */
const TRIGGERS = /authorization|token|:\/\/|gh[oprsu]_|github_pat_|gl(?:pat|dt|rt|ptt|soat)-/i;

/**
 * Keys of Secret data that name someone or something rather than prove it: their values are not masked.
 * `url` and `type` are an Argo CD repository Secret's repository URL (prefix) and `git` (src/controllers/argocd-repocreds.ts):
 * masking them would mask every repository URL in status. Credentials inside a URL (`://user:pass@`) are still
 * masked by the token shapes.
 */
const PUBLIC_SECRET_KEYS: ReadonlySet<string> = new Set(['username', 'user', 'email', 'url', 'type']);

/**
 * Every decoded value of a Secret (`data` base64-decoded, `stringData` as is), except the values of
 * PUBLIC_SECRET_KEYS. Malformed data is skipped.
 */
export function secretValues(secret: KubeObject): string[] {
  return secretEntries(secret)
    .filter(([k]) => !PUBLIC_SECRET_KEYS.has(k))
    .map(([, v]) => v);
}

/** The decoded values of a Secret's `username` / `user` keys (the names a Basic credential pairs with a value). */
function publicValues(secret: KubeObject): string[] {
  return secretEntries(secret)
    .filter(([k]) => k === 'username' || k === 'user')
    .map(([, v]) => v);
}

/** How a Redactor masks. */
export interface RedactorOptions {
  /** What a secret value or credential is replaced by (default MASK, `***`). */
  mask?: string;
  /**
   * Also mask the credential shapes (PATTERNS) after the values (default true). Off only for text that
   * already passed a Redactor with them (Event notes are built from redacted status).
   */
  shapes?: boolean;
}

/**
 * A redactor that knows a set of secret values (and masks their base64 and percent-encoded forms too). `scrub(text)` masks each value of at least
 * MIN_SECRET_LENGTH characters (longest first, so a value containing another is masked whole), then
 * the credential shapes above. Pure; never throws.
 */
export class Redactor {
  private readonly values: string[];
  private readonly mask: string;
  private readonly shapes: boolean;

  constructor(values: Iterable<string>, opts: RedactorOptions = {}) {
    this.mask = opts.mask ?? MASK;
    this.shapes = opts.shapes ?? true;
    const set = new Set<string>();
    for (const v of values) {
      if (v.length < MIN_SECRET_LENGTH) continue;
      set.add(v);
      const trimmed = v.trim();
      if (trimmed.length >= MIN_SECRET_LENGTH) set.add(trimmed);
      // a multi-line value (a PEM key) may be shown line by line (a Pod's last lines of output)
      if (trimmed.includes('\n')) {
        for (const line of trimmed.split('\n')) if (line.trim().length >= MIN_SECRET_LENGTH) set.add(line.trim());
      }
      // the encoded forms tools print: base64 (a Secret manifest's `data` in a kubectl error, a Basic
      // credential), padded and with the padding left out, so both forms are masked whole; percent-encoding (a URL)
      const b64 = Buffer.from(v, 'utf8').toString('base64');
      set.add(b64);
      set.add(b64.replace(/=+$/, ''));
      const pct = percentEncoded(v);
      if (pct !== undefined && pct !== v) set.add(pct);
    }
    this.values = [...set].sort((a, b) => b.length - a.length || (a < b ? -1 : 1));
  }

  /**
   * The Secrets among `objects` (anything of kind Secret) and every Secret in the object maps. A Secret
   * with a `username`/`user` also contributes `<user>:<value>` for each of its values (the credential an
   * HTTP Basic header encodes, so its base64 form is masked too).
   */
  static fromObjects(objects: KubeObject[], ...maps: (ObjectMap | undefined)[]): Redactor {
    const values: string[] = [];
    const add = (o: KubeObject) => {
      const own = secretValues(o);
      values.push(...own);
      for (const user of publicValues(o)) for (const v of own) values.push(`${user}:${v}`);
    };
    for (const o of objects) if (o?.kind === 'Secret') add(o);
    for (const map of maps) {
      for (const [group, byKey] of Object.entries(map ?? {})) {
        if (!group.startsWith('Secret.')) continue;
        for (const o of Object.values(byKey ?? {})) add(o);
      }
    }
    return new Redactor(values);
  }

  scrub(text: string): string {
    let out = maskSecrets(text, this.values, this.mask);
    if (!this.shapes || !TRIGGERS.test(out)) return out;
    for (const p of PATTERNS) out = out.replace(p, (_m, keep: string) => `${keep}${this.mask}`);
    return out;
  }

  /**
   * A copy of `value` in which every string is scrubbed, at any depth: free text (condition messages,
   * Job failure detail) and the fields a hook copied from a Job's result or an API (URLs, commit SHAs,
   * organization names), which are just as much text a Job or an API wrote. Keys are left as they are.
   */
  scrubDeep<T>(value: T): T {
    return scrubStrings(value, (t) => this.scrub(t));
  }
}

/**
 * `encodeURIComponent(v)`, or undefined for a value that is not well-formed UTF-16 (a lone surrogate, which
 * JSON's `\ud800` escape can put in a string): no URL can hold it, and the Redactor never throws.
 */
function percentEncoded(v: string): string | undefined {
  try {
    return encodeURIComponent(v);
  } catch {
    return undefined;
  }
}

/**
 * A copy of `value` in which every string, at any depth of arrays and plain objects, is `scrub(string)`;
 * keys, numbers, booleans and null are left as they are. Walked iteratively (no stack overflow on deep
 * values); `value` itself is not changed.
 */
export function scrubStrings<T>(value: T, scrub: (text: string) => string): T {
  const root = { v: value as unknown };
  const stack: { holder: Record<string, unknown> | unknown[]; key: string | number }[] = [{ holder: root as unknown as Record<string, unknown>, key: 'v' }];
  while (stack.length) {
    const { holder, key } = stack.pop()!;
    const cur = (holder as Record<string | number, unknown>)[key];
    if (typeof cur === 'string') {
      const s = scrub(cur);
      if (s !== cur) (holder as Record<string | number, unknown>)[key] = s;
    } else if (Array.isArray(cur)) {
      const copy = [...cur];
      (holder as Record<string | number, unknown>)[key] = copy;
      for (let i = 0; i < copy.length; i++) stack.push({ holder: copy, key: i });
    } else if (cur && typeof cur === 'object') {
      const copy = { ...(cur as Record<string, unknown>) };
      (holder as Record<string | number, unknown>)[key] = copy;
      for (const k of Object.keys(copy)) stack.push({ holder: copy, key: k });
    }
  }
  return root.v as T;
}

/**
 * `text` cut to at most `max` characters at a whitespace boundary (then `…` appended), so that a
 * credential in it is either whole, and recognised by the Redactor, or gone: never cut in half (half a
 * password is not recognised and would be shown). Text without whitespace in its first `max`
 * characters is cut to `…` alone.
 */
export function clip(text: string, max: number): string {
  if (text.length <= max) return text;
  const head = text.slice(0, max);
  if (/\s/.test(text[max])) return `${head.trimEnd()}…`;
  const cut = head.search(/\s\S*$/);
  return `${cut > 0 ? head.slice(0, cut) : ''}…`;
}
