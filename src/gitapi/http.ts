/**
 * What the Gitea, GitHub and GitLab API clients share: base URL checks, one JSON request with timeouts,
 * and turning network failures and error answers into short GitServerErrors that never carry a
 * credential (the caller's `scrub` removes them).
 */
import type { IncomingHttpHeaders } from 'node:http';
import { request, type Dispatcher } from 'undici';
import { GitServerError, codeForStatus, displayURL, oneLine } from './errors.js';

/** Normalises an API base URL (no trailing slash); refuses non-http(s) URLs and URLs with credentials. */
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

export interface ApiServer {
  /** `Gitea`, `GitHub`, `GitLab`: the prefix of every error message. */
  label: string;
  base: string;
  dispatcher?: Dispatcher;
  timeoutMs: number;
  scrub(text: string): string;
}

export interface ApiAnswer {
  status: number;
  data: unknown;
  text: string;
  contentType: string;
  headers: IncomingHttpHeaders;
}

export function networkReason(e: unknown, base: string, timeoutMs: number, scrub: (s: string) => string): string {
  const err = e as { code?: unknown; message?: unknown; cause?: { code?: unknown } };
  const code = typeof err?.code === 'string' ? err.code : typeof err?.cause?.code === 'string' ? err.cause.code : '';
  const where = displayURL(base);
  if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') return `no answer from ${where} within ${Math.round(timeoutMs / 1000)}s`;
  const msg = typeof err?.message === 'string' ? oneLine(scrub(err.message), 120) : 'unknown error';
  return `cannot reach ${where} (${code || msg})`;
}

/** One request; the body is parsed as JSON when it is JSON. Network failures become `Network` errors. */
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
