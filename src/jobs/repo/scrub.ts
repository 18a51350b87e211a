/**
 * Redaction for repo-sync: every message the Job or the CLI logs or throws about a repository passes
 * through these, so a token never reaches a log line, an error or the termination message.
 */
import { GitServerError } from '../../gitea/client.js';
import { GitCommandError, RepoSyncError } from './errors.js';

/** Where repo-sync logs: one message and optional structured fields per line. */
export interface JobLogger {
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
}

/**
 * `text` with every secret (and its base64 and URL-encoded forms), URL userinfo (`https://user:token@…`)
 * and credential headers (`Authorization: Basic …`, `PRIVATE-TOKEN: …`) replaced by `***`.
 */
export function scrubSecrets(text: string, secrets: string[]): string {
  let out = text;
  const forms = new Set<string>();
  for (const s of secrets) {
    if (!s || s.length < 4) continue;
    forms.add(s);
    forms.add(Buffer.from(s, 'utf8').toString('base64'));
    forms.add(encodeURIComponent(s));
  }
  for (const f of [...forms].sort((a, b) => b.length - a.length)) out = out.split(f).join('***');
  out = out.replace(/\b(authorization|proxy-authorization)(["']?\s*[:=]\s*["']?)(basic|bearer|token)\s+[^\s"',;]+/gi, '$1$2$3 ***');
  out = out.replace(/\b(private-token|x-auth-token)(["']?\s*[:=]\s*["']?)[^\s"',;]+/gi, '$1$2***');
  return redactURLsIn(out);
}

function scrubValue(v: unknown, scrub: (t: string) => string): unknown {
  if (typeof v === 'string') return scrub(v);
  if (Array.isArray(v)) return v.map((x) => scrubValue(x, scrub));
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, scrubValue(x, scrub)]));
  return v;
}

/** `log` with every message and every string in its fields passed through `scrub`. */
export function scrubbingLogger(log: JobLogger, scrub: (t: string) => string): JobLogger {
  return {
    info: (msg, fields) => (fields ? log.info(scrub(msg), scrubValue(fields, scrub) as Record<string, unknown>) : log.info(scrub(msg))),
    warn: (msg, fields) => (fields ? log.warn(scrub(msg), scrubValue(fields, scrub) as Record<string, unknown>) : log.warn(scrub(msg))),
  };
}

/** The same error (class and fields kept), its message (and a GitCommandError's output) scrubbed. */
export function scrubError(e: unknown, scrub: (t: string) => string): unknown {
  if (!(e instanceof Error)) return new RepoSyncError(scrub(String(e)));
  e.message = scrub(e.message);
  if (e.stack) e.stack = scrub(e.stack);
  if (e instanceof GitCommandError) (e as { output: string }).output = scrub(e.output);
  if (e instanceof GitServerError) (e as { apiMessage: string }).apiMessage = scrub(e.apiMessage);
  return e;
}

/** A URL fit for logs: userinfo replaced by `***`. */
export function redactURL(raw: string): string {
  return redactURLsIn(raw);
}

/** `text` with the userinfo of every URL in it replaced by `***`. */
function redactURLsIn(text: string): string {
  return text.replace(/([a-z][a-z0-9+.-]*:\/\/)[^/@\s:]*(?::[^/@\s]*)?@/gi, '$1***@');
}
