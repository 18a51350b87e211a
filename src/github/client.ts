/**
 * A small GitHub REST API client (undici) for the Job programs: credentials check, rate limit, GitHub App
 * installation tokens, teams and organization repositories. Works against github.com
 * (`https://api.github.com`) and GitHub Enterprise Server (`https://HOST/api/v3`).
 *
 * Auth is `Authorization: Bearer <token>` (a personal access token, an installation token, or a GitHub
 * App JWT), with `Accept: application/vnd.github+json` and `X-GitHub-Api-Version: 2022-11-28`.
 *
 * Every failure is a {@link GitServerError} (shared with the Gitea client). Its message ends up in a
 * Kubernetes condition: one short line naming the operation, the HTTP status and GitHub's own `message`,
 * never a credential (the client scrubs its token/JWT out of anything it quotes). A 403 or 429 that is a
 * rate limit (`x-ratelimit-remaining: 0`, or a secondary limit with `retry-after`) has code `RateLimited`.
 */
import { createPrivateKey, type KeyObject } from 'node:crypto';
import { createAppAuth } from '@octokit/auth-app';
import { request as octokitRequest } from '@octokit/request';
import { RequestError } from '@octokit/request-error';
import githubAppJwt from 'universal-github-app-jwt';
import { fetch as undiciFetch, type Dispatcher } from 'undici';
import { GitServerError, displayURL, maskSecrets } from '../gitapi/errors.js';
import { apiBaseURL, apiError, header, networkReason, sendJSON, type ApiAnswer, type ApiServer } from '../gitapi/http.js';

/**
 * The GitHub REST API version every request asks for (`X-GitHub-Api-Version` header; GitHub's docs list 2022-11-28 as
 * a supported version).
 */
export const GITHUB_API_VERSION = '2022-11-28';

/**
 * A team's permission on a repository, as GitHub's `PUT /orgs/{org}/teams/{team_slug}/repos/{owner}/{repo}` takes it.
 */
export type TeamPermission = 'pull' | 'triage' | 'push' | 'maintain' | 'admin';
/** A GitHub repository's visibility (`internal` only in GitHub Enterprise organizations). */
export type Visibility = 'public' | 'private' | 'internal';

/**
 * Options of GitHubClient: the API base URL, the bearer token (a token or a GitHub App installation token), an
 * optional undici dispatcher and the per-request timeout (ms, default 30 000).
 */
export interface GitHubClientOptions {
  /** API base: `https://api.github.com` or `https://HOST/api/v3`. */
  baseURL: string;
  /** A token or a GitHub App JWT, sent as `Authorization: Bearer`. */
  token: string;
  dispatcher?: Dispatcher;
  /** Per-request timeout for headers and body (default 30 s). */
  requestTimeoutMs?: number;
}

/** A GitHub organization (`GET /orgs/{org}`): login, numeric id and web URL. */
export interface OrgInfo {
  login: string;
  id: number;
  htmlURL: string;
}

/**
 * The core REST rate limit (`GET /rate_limit`, `resources.core`): requests per window, remaining, reset time (epoch
 * seconds) and used.
 */
export interface RateLimit {
  limit: number;
  remaining: number;
  /** Epoch seconds when the window resets. */
  reset: number;
  used: number;
}

/** A GitHub team: numeric id, name and slug (the name in URLs). */
export interface TeamInfo {
  id: number;
  name: string;
  slug: string;
}

/**
 * A repository to ensure in an organization: name, description, visibility, `autoInit` (initial commit), default
 * branch and which merge methods are allowed (GitHub's `allow_squash_merge`, `allow_merge_commit`,
 * `allow_rebase_merge`).
 */
export interface GitHubRepoSpec {
  name: string;
  description?: string;
  visibility?: Visibility;
  autoInit?: boolean;
  /** The branch the repository should start with; a new auto-initialized repository's first branch is renamed to it. */
  defaultBranch?: string;
  allowSquashMerge?: boolean;
  allowMergeCommit?: boolean;
  allowRebaseMerge?: boolean;
}

/**
 * A GitHub repository as this client reports it: full name (`owner/name`), web and clone URLs, default branch,
 * visibility and whether this call created it.
 */
export interface GitHubRepoInfo {
  fullName: string;
  htmlURL: string;
  cloneURL: string;
  defaultBranch: string;
  visibility: string;
  /** True when this call created the repository. */
  created: boolean;
}

interface ApiRepo {
  full_name?: unknown;
  html_url?: unknown;
  clone_url?: unknown;
  default_branch?: unknown;
  visibility?: unknown;
  private?: unknown;
}

/** GitHub's team slug for a team name: lower case, runs of other characters become one `-`. */
export function teamSlug(name: string): string {
  return name
    .toLowerCase()
    .replace(/[^a-z0-9_]+/g, '-')
    .replace(/^-+|-+$/g, '');
}

/**
 * Options of `installationToken`: API base, the App ID or client ID and its PEM private key, the installation (looked
 * up from the organization when absent), the clock of the JWT, an undici dispatcher, per-request timeout (ms, default
 * 30 000) and a sink for `@octokit/auth-app` warnings.
 */
export interface InstallationTokenOptions {
  /** API base: `https://api.github.com` or `https://HOST/api/v3` (GitHub Enterprise Server). */
  baseURL: string;
  /** The app ID (digits, sent as a number in `iss`) or the app's client ID (`Iv1.…`). */
  appID: string;
  /** The app's RSA private key, PEM (PKCS#1 or PKCS#8). */
  privateKey: string;
  /** When absent, looked up with `GET /orgs/{org}/installation`. */
  installationID?: string;
  organization: string;
  /** The clock the JWT's `iat`/`exp` are taken from (default: the system clock). */
  now?: () => Date;
  dispatcher?: Dispatcher;
  /** Per-request timeout (default 30 s). */
  requestTimeoutMs?: number;
  /** Warnings of `@octokit/auth-app` (e.g. a retry); default: dropped. */
  warn?: (message: string) => void;
}

/**
 * A minted GitHub App installation token (`POST /app/installations/{id}/access_tokens`): the token, its expiry (ISO
 * 8601, one hour after minting) and the installation ID it is for.
 */
export interface InstallationToken {
  token: string;
  /** ISO 8601, as GitHub answered (`expires_at`, one hour after minting); empty when absent. */
  expiresAt: string;
  installationID: string;
}

/**
 * Mints an installation access token for a GitHub App with `@octokit/auth-app` (app JWT signed by
 * `universal-github-app-jwt`: RS256, `iat` 30 s before `now`, `exp` 10 minutes after `iat`), then
 * `POST {baseURL}/app/installations/{id}/access_tokens`. Without `installationID` the installation is
 * looked up first (`GET /orgs/{org}/installation`, app JWT). Throws a {@link GitServerError}:
 * `Invalid` for a key that is not an RSA PEM key, `Forbidden` (404) when the app is not installed on the
 * organization, `Unauthorized` for a JWT GitHub refuses (wrong key, skewed clock), `RateLimited`,
 * `Network`; messages never carry the key, the JWT or the token.
 */
export async function mintInstallationToken(opts: InstallationTokenOptions): Promise<InstallationToken> {
  checkAppKey(opts.privateKey);
  const base = apiBaseURL(opts.baseURL, 'GitHub API endpoint');
  const timeoutMs = opts.requestTimeoutMs ?? 30_000;
  const now = opts.now ?? (() => new Date());
  const appId = /^[0-9]+$/.test(opts.appID) ? Number(opts.appID) : opts.appID;
  const auth = createAppAuth({
    appId,
    // Our own clock (injected for tests); `timeDifference` is the library's correction from GitHub's Date header.
    createJwt: async (id: string | number, timeDifference?: number) => {
      const t = Math.floor(now().getTime() / 1000) + (timeDifference ?? 0);
      const jwt = await githubAppJwt({ id, privateKey: opts.privateKey, now: t });
      return { jwt: jwt.token, expiresAt: new Date(jwt.expiration * 1000).toISOString() };
    },
    request: octokitRequest.defaults({
      baseUrl: base,
      headers: { 'user-agent': 'idpbuilder', 'x-github-api-version': GITHUB_API_VERSION },
      request: { fetch: boundFetch(opts.dispatcher, timeoutMs) },
    }),
    log: { warn: opts.warn ?? (() => {}) },
  });

  let id = opts.installationID;
  if (!id) {
    const { token: jwt } = await auth({ type: 'app' });
    const app = new GitHubClient({ baseURL: base, token: jwt, dispatcher: opts.dispatcher, requestTimeoutMs: timeoutMs });
    try {
      id = String((await app.getOrgInstallation(opts.organization)).id);
    } catch (e) {
      if (e instanceof GitServerError && e.status === 404) {
        throw new GitServerError(404, 'Forbidden', `GitHub: the GitHub App ${opts.appID} is not installed on organization ${opts.organization}`, e.apiMessage);
      }
      throw e;
    }
  }
  const op = `create an access token for installation ${id}`;
  if (!/^[0-9]+$/.test(id) || Number(id) === 0) throw new GitServerError(0, 'Invalid', `GitHub: ${op}: the installation ID must be a positive number`);
  let minted: { token: string; expiresAt: string };
  try {
    minted = await auth({ type: 'installation', installationId: Number(id) });
  } catch (e) {
    throw octokitFailure(e, op, base, timeoutMs, opts.dispatcher);
  }
  if (typeof minted.token !== 'string' || minted.token === '') throw new GitServerError(201, 'ServerError', `GitHub: ${op}: the answer has no token`);
  return { token: minted.token, expiresAt: typeof minted.expiresAt === 'string' ? minted.expiresAt : '', installationID: id };
}

/** The key must be an RSA private key in PEM: checked up front for a clear error (the library's would quote the key format). */
function checkAppKey(privateKeyPEM: string): void {
  let key: KeyObject;
  try {
    key = createPrivateKey(privateKeyPEM);
  } catch {
    throw new GitServerError(0, 'Invalid', 'GitHub App private key is not a valid PEM key');
  }
  if (key.asymmetricKeyType !== 'rsa') throw new GitServerError(0, 'Invalid', 'GitHub App private key must be an RSA key');
}

const timedOut = Symbol('timedOut');

/** `fetch` for `@octokit/request` over our undici dispatcher (custom CA for GitHub Enterprise Server), with a timeout. */
function boundFetch(dispatcher: Dispatcher | undefined, timeoutMs: number): typeof globalThis.fetch {
  return (async (url: string, init: Record<string, unknown> = {}) => {
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = init.signal instanceof AbortSignal ? AbortSignal.any([init.signal, timeout]) : timeout;
    try {
      return await undiciFetch(url, { ...init, signal, ...(dispatcher ? { dispatcher } : {}) } as Parameters<typeof undiciFetch>[1]);
    } catch (e) {
      if (timeout.aborted) throw Object.assign(new Error('timed out'), { [timedOut]: true });
      throw e;
    }
  }) as unknown as typeof globalThis.fetch;
}

/** A `@octokit/request` failure as a GitServerError, classified like {@link GitHubClient}'s own calls. */
function octokitFailure(e: unknown, op: string, base: string, timeoutMs: number, dispatcher?: Dispatcher): GitServerError {
  if (e instanceof GitServerError) return e;
  const server: ApiServer = { label: 'GitHub', base, dispatcher, timeoutMs, scrub: (t) => t };
  if (e instanceof RequestError && e.response) {
    const r = e.response;
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(r.headers ?? {})) if (v !== undefined) headers[k.toLowerCase()] = String(v);
    const data = typeof r.data === 'object' && r.data !== null ? r.data : undefined;
    const text = typeof r.data === 'string' ? r.data : '';
    return githubFailure(server, op, { status: r.status, data, text, contentType: headers['content-type'] ?? '', headers });
  }
  const cause = (e as { cause?: unknown })?.cause;
  if ((cause as Record<symbol, unknown> | undefined)?.[timedOut]) {
    return new GitServerError(0, 'Network', `GitHub: ${op} failed: no answer from ${displayURL(base)} within ${Math.round(timeoutMs / 1000)}s`);
  }
  return new GitServerError(0, 'Network', `GitHub: ${op} failed: ${networkReason(cause ?? e, base, timeoutMs, (t) => t)}`);
}

/**
 * Client of the GitHub REST API (github.com or GitHub Enterprise Server `…/api/v3`) the Job programs use:
 * organizations, rate limit, teams and organization repositories. Methods throw GitServerError (never carrying the
 * token) for refused or failed requests; the constructor throws TypeError for a bad base URL.
 */
export class GitHubClient {
  private readonly base: string;
  private readonly token: string;
  private readonly dispatcher?: Dispatcher;
  private readonly timeoutMs: number;

  constructor(opts: GitHubClientOptions) {
    this.base = apiBaseURL(opts.baseURL, 'GitHub API endpoint');
    this.token = opts.token;
    this.dispatcher = opts.dispatcher;
    this.timeoutMs = opts.requestTimeoutMs ?? 30_000;
  }

  get baseURL(): string {
    return this.base;
  }

  /** `GET /orgs/{org}`. A 404 (no such organization) is a `NotFound` GitServerError. */
  async getOrg(org: string): Promise<OrgInfo> {
    const res = await this.call(`get organization ${org}`, 'GET', `/orgs/${enc(org)}`);
    const d = (res.data ?? {}) as { login?: unknown; id?: unknown; html_url?: unknown };
    return { login: typeof d.login === 'string' ? d.login : org, id: typeof d.id === 'number' ? d.id : 0, htmlURL: typeof d.html_url === 'string' ? d.html_url : '' };
  }

  /** `GET /rate_limit` → `resources.core` (the call itself is not counted). */
  async rateLimit(): Promise<RateLimit> {
    const res = await this.call('get rate limit', 'GET', '/rate_limit');
    const core = ((res.data as { resources?: { core?: Record<string, unknown> } } | undefined)?.resources?.core ?? {}) as Record<string, unknown>;
    const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? Math.max(0, Math.floor(v)) : 0);
    return { limit: num(core.limit), remaining: num(core.remaining), reset: num(core.reset), used: num(core.used) };
  }

  /** `GET /orgs/{org}/installation` (JWT auth). */
  async getOrgInstallation(org: string): Promise<{ id: number }> {
    const res = await this.call(`get the app installation of organization ${org}`, 'GET', `/orgs/${enc(org)}/installation`);
    const id = (res.data as { id?: unknown } | undefined)?.id;
    if (typeof id !== 'number') throw new GitServerError(res.status, 'ServerError', `GitHub: get the app installation of organization ${org}: the answer has no id`);
    return { id };
  }

  /** `GET /orgs/{org}/teams/{slug}`; undefined when there is no such team. */
  async getTeam(org: string, slug: string): Promise<TeamInfo | undefined> {
    const res = await this.call(`get team ${slug} of ${org}`, 'GET', `/orgs/${enc(org)}/teams/${enc(slug)}`, { ok: [200, 404] });
    return res.status === 200 ? toTeam(res.data) : undefined;
  }

  /** The team named `name` (looked up by its slug); created (`POST /orgs/{org}/teams`, privacy closed) when missing. */
  async ensureTeam(org: string, name: string, description?: string): Promise<TeamInfo & { created: boolean }> {
    const slug = teamSlug(name);
    const existing = await this.getTeam(org, slug);
    if (existing) return { ...existing, created: false };
    try {
      const res = await this.call(`create team ${name} in ${org}`, 'POST', `/orgs/${enc(org)}/teams`, {
        body: { name, privacy: 'closed', ...(description !== undefined ? { description } : {}) },
        ok: [201],
      });
      return { ...toTeam(res.data), created: true };
    } catch (e) {
      // 422 "Name must be unique for this org": created concurrently.
      if (e instanceof GitServerError && e.status === 422) {
        const again = await this.getTeam(org, slug);
        if (again) return { ...again, created: false };
      }
      throw e;
    }
  }

  /** `PUT /orgs/{org}/teams/{slug}/repos/{owner}/{repo}` with `permission` (idempotent). */
  async grantTeamRepo(org: string, slug: string, owner: string, repo: string, permission: TeamPermission): Promise<void> {
    await this.call(`grant team ${slug} ${permission} on ${owner}/${repo}`, 'PUT', `/orgs/${enc(org)}/teams/${enc(slug)}/repos/${enc(owner)}/${enc(repo)}`, {
      body: { permission },
      ok: [204],
    });
  }

  /** `GET /repos/{owner}/{repo}`; undefined when it does not exist (or the token cannot see it). */
  async getRepo(owner: string, name: string): Promise<GitHubRepoInfo | undefined> {
    const res = await this.call(`get repository ${owner}/${name}`, 'GET', `/repos/${enc(owner)}/${enc(name)}`, { ok: [200, 404] });
    return res.status === 200 ? toRepo(res.data, false) : undefined;
  }

  /** `POST /orgs/{org}/repos`. */
  async createRepo(org: string, spec: GitHubRepoSpec): Promise<GitHubRepoInfo> {
    const visibility = spec.visibility ?? 'private';
    const body: Record<string, unknown> = {
      name: spec.name,
      ...(spec.description ? { description: spec.description } : {}),
      private: visibility !== 'public',
      visibility,
      auto_init: spec.autoInit ?? false,
    };
    if (spec.allowSquashMerge !== undefined) body.allow_squash_merge = spec.allowSquashMerge;
    if (spec.allowMergeCommit !== undefined) body.allow_merge_commit = spec.allowMergeCommit;
    if (spec.allowRebaseMerge !== undefined) body.allow_rebase_merge = spec.allowRebaseMerge;
    const res = await this.call(`create repository ${org}/${spec.name}`, 'POST', `/orgs/${enc(org)}/repos`, { body, ok: [201] });
    return toRepo(res.data, true);
  }

  /**
   * `GET /orgs/{org}`; a 404 becomes a `NotFound` error `GitHub: <what>: organization <org> does not exist
   * (or the token cannot see it)`. GitHub answers 404 for a user account too: repositories go to organizations.
   */
  async requireOrg(org: string, what: string): Promise<OrgInfo> {
    try {
      return await this.getOrg(org);
    } catch (e) {
      if (e instanceof GitServerError && e.status === 404) {
        throw new GitServerError(404, 'NotFound', `GitHub: ${what}: organization ${org} does not exist (or the token cannot see it)`, e.apiMessage);
      }
      throw e;
    }
  }

  /**
   * `PATCH /repos/{owner}/{repo}`: `visibility` (with the matching `private`) and/or `default_branch`
   * (which must name an existing branch: GitHub answers 422 otherwise). Returns the repository as answered.
   */
  async updateRepo(owner: string, name: string, edit: { visibility?: Visibility; defaultBranch?: string }): Promise<GitHubRepoInfo> {
    const body: Record<string, unknown> = {};
    if (edit.visibility !== undefined) {
      body.private = edit.visibility !== 'public';
      body.visibility = edit.visibility;
    }
    if (edit.defaultBranch !== undefined) body.default_branch = edit.defaultBranch;
    const res = await this.call(`update repository ${owner}/${name}`, 'PATCH', `/repos/${enc(owner)}/${enc(name)}`, { body, ok: [200] });
    return toRepo(res.data, false);
  }

  /** `POST /repos/{owner}/{repo}/branches/{branch}/rename` (also makes it the default branch when it was). */
  async renameBranch(owner: string, repo: string, from: string, to: string): Promise<void> {
    await this.call(`rename branch ${from} of ${owner}/${repo} to ${to}`, 'POST', `/repos/${enc(owner)}/${enc(repo)}/branches/${enc(from)}/rename`, {
      body: { new_name: to },
      ok: [201],
    });
  }

  /**
   * The repository `org/spec.name`, created when missing. GitHub has no default-branch field on create: a
   * new auto-initialized repository whose first branch is not `spec.defaultBranch` gets that branch renamed.
   * An empty repository takes the first branch pushed to it as its default. Existing repositories are left
   * as they are. Before creating, the organization is checked (`GET /orgs/{org}`): a 404 is a `NotFound`
   * error saying the organization does not exist.
   */
  async ensureRepo(org: string, spec: GitHubRepoSpec): Promise<GitHubRepoInfo> {
    const existing = await this.getRepo(org, spec.name);
    if (existing) return existing;
    await this.requireOrg(org, `cannot create repository ${org}/${spec.name}`);
    let repo: GitHubRepoInfo;
    try {
      repo = await this.createRepo(org, spec);
    } catch (e) {
      // 422 "name already exists on this account": created concurrently.
      if (e instanceof GitServerError && e.status === 422) {
        const again = await this.getRepo(org, spec.name);
        if (again) return again;
      }
      throw e;
    }
    if (spec.autoInit && spec.defaultBranch && repo.defaultBranch && repo.defaultBranch !== spec.defaultBranch) {
      await this.renameBranch(org, spec.name, repo.defaultBranch, spec.defaultBranch);
      repo = { ...repo, defaultBranch: spec.defaultBranch };
    }
    return repo;
  }

  private scrub(text: string): string {
    return maskSecrets(text, [this.token]);
  }

  private async call(
    op: string,
    method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
    path: string,
    opts: { body?: unknown; ok?: number[] } = {},
  ): Promise<{ status: number; data: unknown }> {
    const server = { label: 'GitHub', base: this.base, dispatcher: this.dispatcher, timeoutMs: this.timeoutMs, scrub: (t: string) => this.scrub(t) };
    const headers = { accept: 'application/vnd.github+json', 'x-github-api-version': GITHUB_API_VERSION, 'user-agent': 'idpbuilder', authorization: `Bearer ${this.token}` };
    const a = await sendJSON(server, op, method, path, headers, opts.body);
    if ((opts.ok ?? [200]).includes(a.status)) return { status: a.status, data: a.data };
    throw githubFailure(server, op, a);
  }
}

/** The error for a GitHub answer that is not one of the expected statuses; GitHub answers 403 (not 429) when a rate limit is exhausted: its headers tell. */
function githubFailure(server: ApiServer, op: string, a: ApiAnswer): GitServerError {
  const message = githubMessage(a.data, a.text, a.contentType);
  const remaining = header(a, 'x-ratelimit-remaining');
  const retryAfter = header(a, 'retry-after');
  const rateLimited = a.status === 429 || (a.status === 403 && (remaining === '0' || (retryAfter !== undefined && /rate limit/i.test(message))));
  if (!rateLimited) return apiError(server, op, a, message);
  const reset = header(a, 'x-ratelimit-reset');
  const detail = retryAfter && /^\d+$/.test(retryAfter) ? `(retry after ${retryAfter}s)` : remaining === '0' && reset && /^\d+$/.test(reset) ? `(resets at ${isoSeconds(Number(reset))})` : undefined;
  return apiError(server, op, a, message, 'RateLimited', detail);
}

/** GitHub's `message`, with the `errors[]` details of a 422 (`Validation Failed: name already exists on this account`). */
function githubMessage(data: unknown, text: string, contentType: string): string {
  if (data && typeof data === 'object' && !Array.isArray(data)) {
    const d = data as { message?: unknown; errors?: unknown };
    const base = typeof d.message === 'string' ? d.message : '';
    const details = Array.isArray(d.errors)
      ? d.errors
          .map((x) => {
            if (typeof x === 'string') return x;
            const e = (x ?? {}) as { message?: unknown; field?: unknown; code?: unknown };
            if (typeof e.message === 'string' && e.message) return e.message;
            return [e.field, e.code].filter((s) => typeof s === 'string' && s).join(' ');
          })
          .filter(Boolean)
      : [];
    return details.length ? `${base.replace(/\.$/, '')}: ${details.join('; ')}` : base;
  }
  if (data === undefined && contentType.startsWith('text/plain') && text.length <= 200) return text;
  return '';
}

/** An epoch time in seconds as an RFC 3339 / ISO 8601 UTC string without milliseconds (`2026-01-02T03:04:05Z`). */
export function isoSeconds(epochSeconds: number): string {
  return new Date(epochSeconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function enc(segment: string): string {
  return encodeURIComponent(segment);
}

function toTeam(data: unknown): TeamInfo {
  const d = (data ?? {}) as { id?: unknown; name?: unknown; slug?: unknown };
  return { id: typeof d.id === 'number' ? d.id : 0, name: typeof d.name === 'string' ? d.name : '', slug: typeof d.slug === 'string' ? d.slug : '' };
}

function toRepo(data: unknown, created: boolean): GitHubRepoInfo {
  const r = (data ?? {}) as ApiRepo;
  const s = (v: unknown) => (typeof v === 'string' ? v : '');
  return {
    fullName: s(r.full_name),
    htmlURL: s(r.html_url),
    cloneURL: s(r.clone_url),
    defaultBranch: s(r.default_branch),
    visibility: s(r.visibility) || (r.private === true ? 'private' : r.private === false ? 'public' : ''),
    created,
  };
}
