/**
 * Redaction for repo-sync: every message the Job or the CLI logs or throws about a repository passes
 * through these, so a token never reaches a log line, an error or the termination message.
 */
import { GitServerError } from '../../gitea/client.js';
import { Redactor, scrubStrings } from '../../kit/redact.js';
import { GitCommandError, RepoSyncError } from './errors.js';

/** Where repo-sync logs: one message and optional structured fields per line. */
export interface JobLogger {
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
}

/**
 * `text` through the one Redactor (src/kit/redact.ts: every secret of at least 4 characters and its
 * base64 and URL-encoded forms, credential headers such as `Authorization: Basic …` and `PRIVATE-TOKEN: …`,
 * token shapes) with `***`, then the whole userinfo of every URL (`https://***@…`, {@link redactURLsIn}).
 */
export function scrubSecrets(text: string, secrets: string[]): string {
  return redactURLsIn(new Redactor(secrets).scrub(text));
}

/** `log` with every message and every string in its fields passed through `scrub`. */
export function scrubbingLogger(log: JobLogger, scrub: (t: string) => string): JobLogger {
  return {
    info: (msg, fields) => (fields ? log.info(scrub(msg), scrubStrings(fields, scrub)) : log.info(scrub(msg))),
    warn: (msg, fields) => (fields ? log.warn(scrub(msg), scrubStrings(fields, scrub)) : log.warn(scrub(msg))),
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
