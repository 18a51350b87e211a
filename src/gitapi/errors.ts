/** Errors of the git server API clients (Gitea, GitHub, GitLab): short, one line, never a credential. */
export type GitServerErrorCode =
  | 'Unauthorized'
  | 'Forbidden'
  | 'NotFound'
  | 'Conflict'
  | 'Invalid'
  | 'RateLimited'
  | 'ServerError'
  | 'Network';

/** A git server (Gitea, GitHub, GitLab) refused or failed a request. `status` is 0 for network errors. */
export class GitServerError extends Error {
  override readonly name = 'GitServerError';
  constructor(
    readonly status: number,
    readonly code: GitServerErrorCode,
    message: string,
    /** The server's own `message` field, sanitized (may be empty). */
    readonly apiMessage = '',
  ) {
    super(message);
  }
}

/**
 * `text` with every occurrence of each of `secrets`, in the order given (put a value before any value it
 * contains), replaced by `mask`; empty strings are skipped. The value-masking step of every scrubber: the API
 * clients' (their token, password and Basic credential) and src/kit/redact.ts Redactor's. Never throws.
 */
export function maskSecrets(text: string, secrets: readonly string[], mask = '***'): string {
  let out = text;
  for (const s of secrets) if (s && out.includes(s)) out = out.split(s).join(mask);
  return out;
}

/**
 * The GitServerErrorCode of an HTTP error status: 401 Unauthorized, 403 Forbidden, 404 NotFound, 409 Conflict, 429
 * RateLimited, ≥ 500 ServerError, anything else Invalid.
 */
export function codeForStatus(status: number): GitServerErrorCode {
  if (status === 401) return 'Unauthorized';
  if (status === 403) return 'Forbidden';
  if (status === 404) return 'NotFound';
  if (status === 409) return 'Conflict';
  if (status === 429) return 'RateLimited';
  if (status >= 500) return 'ServerError';
  return 'Invalid';
}

const MAX_API_MESSAGE = 240;

/** Collapses whitespace, drops control characters and bounds the length of a server-provided text. */
export function oneLine(text: string, max = MAX_API_MESSAGE): string {
  // eslint-disable-next-line no-control-regex
  const flat = text.replace(/[\u0000-\u001f\u007f]+/g, ' ').replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

/** The base URL without userinfo, query or trailing slash: safe to print. */
export function displayURL(raw: string): string {
  try {
    const u = new URL(raw);
    return `${u.protocol}//${u.host}${u.pathname.replace(/\/+$/, '')}`;
  } catch {
    return '<invalid URL>';
  }
}

