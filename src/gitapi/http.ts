/**
 * What the Gitea, GitHub and GitLab API clients share: base URL checks, one JSON request with timeouts,
 * and turning network failures and error answers into short GitServerErrors that never carry a
 * credential (the caller's `scrub` removes them).
 */
import type { IncomingHttpHeaders } from 'node:http';
import { request, type Dispatcher } from 'undici';
import { GitServerError, codeForStatus, displayURL, oneLine } from './errors.js';

/**
 * Normalises an API base URL (no trailing slash); refuses non-http(s) URLs and URLs with credentials.
 * @throws TypeError (naming `label`, never the URL) when `raw` is not a URL, is not http(s), or carries a user name
 *   or password.
 */
export function apiBaseURL(raw: string, label: string): string {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new TypeError(`${label} is not a valid URL`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new TypeError(`${label} must be http(s)`);
  if (u.username || u.password) throw new TypeError(`${label} must not carry credentials`);
  return `${u.origin}${u.pathname.replace(/\/+$/, '')}`;
}

/**
 * One git server API as the clients call it: the `label` of every error message, the `base` URL (see apiBaseURL), an
 * optional undici dispatcher (e.g. with a private CA), the per-request timeout in milliseconds (headers and body
 * each) and `scrub`, which removes credentials from any text put into an error.
 */
export interface ApiServer {
  /** `Gitea`, `GitHub`, `GitLab`: the prefix of every error message. */
  label: string;
  base: string;
  dispatcher?: Dispatcher;
  timeoutMs: number;
  scrub(text: string): string;
}

/**
 * One HTTP answer: status code, the body parsed as JSON (`undefined` when empty or not JSON), the raw body text, the
 * Content-Type and the response headers.
 */
export interface ApiAnswer {
  status: number;
  data: unknown;
  text: string;
  contentType: string;
  headers: IncomingHttpHeaders;
}

/**
 * A one-line reason for a failed request, for an error message: `no answer from <server> within <n>s` for undici's
 * header/body timeouts (`timeoutMs` in milliseconds), otherwise `cannot reach <server> (<error code or scrubbed
 * message>)`. The server is shown without credentials or query.
 */
export function networkReason(e: unknown, base: string, timeoutMs: number, scrub: (s: string) => string): string {
  const err = e as { code?: unknown; message?: unknown; cause?: { code?: unknown } };
  const code = typeof err?.code === 'string' ? err.code : typeof err?.cause?.code === 'string' ? err.cause.code : '';
  const where = displayURL(base);
  if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') return `no answer from ${where} within ${Math.round(timeoutMs / 1000)}s`;
  const msg = typeof err?.message === 'string' ? oneLine(scrub(err.message), 120) : 'unknown error';
  return `cannot reach ${where} (${code || msg})`;
}

/**
 * One request; the body is parsed as JSON when it is JSON. Network failures become `Network` errors.
 * @throws GitServerError with code `Network` (status 0) when the request fails before an answer (connection refused,
 *   DNS, timeout); an HTTP error status is returned as an answer, not thrown.
 */
export async function sendJSON(
  server: ApiServer,
  op: string,
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: unknown,
  opts: { jsonOnlyWithContentType?: boolean } = {},
): Promise<ApiAnswer> {
  const h = { ...headers };
  if (body !== undefined) h['content-type'] = 'application/json';
  let res: Dispatcher.ResponseData;
  let text: string;
  try {
    res = await request(`${server.base}${path}`, {
      method: method as Dispatcher.HttpMethod,
      headers: h,
      body: body !== undefined ? JSON.stringify(body) : undefined,
      dispatcher: server.dispatcher,
      headersTimeout: server.timeoutMs,
      bodyTimeout: server.timeoutMs,
    });
    text = await res.body.text();
  } catch (e) {
    throw new GitServerError(0, 'Network', `${server.label}: ${op} failed: ${networkReason(e, server.base, server.timeoutMs, (s) => server.scrub(s))}`);
  }
  const contentType = String(res.headers['content-type'] ?? '');
  let data: unknown;
  if (text.length > 0 && (!opts.jsonOnlyWithContentType || contentType.includes('json'))) {
    try {
      data = JSON.parse(text);
    } catch {
      data = undefined;
    }
  }
  return { status: res.statusCode, data, text, contentType, headers: res.headers };
}

/** The first value of a response header (`name` lower-case, as Node gives them), or `undefined` when absent. */
export function header(a: ApiAnswer, name: string): string | undefined {
  const v = a.headers[name];
  return typeof v === 'string' ? v : Array.isArray(v) ? v[0] : undefined;
}

/** The error for an answer that is not one of the expected statuses. `detail` adds to the message (e.g. a reset time). */
export function apiError(server: ApiServer, op: string, a: ApiAnswer, rawMessage: string, code = codeForStatus(a.status), detail?: string): GitServerError {
  const apiMessage = oneLine(server.scrub(rawMessage));
  let text = apiMessage || 'no message';
  const retryAfter = header(a, 'retry-after');
  if (detail) text += ` ${detail}`;
  else if (a.status === 429 && retryAfter && /^\d+$/.test(retryAfter)) text += ` (retry after ${retryAfter}s)`;
  return new GitServerError(a.status, code, `${server.label}: ${op} failed with HTTP ${a.status}: ${text}`, apiMessage);
}
