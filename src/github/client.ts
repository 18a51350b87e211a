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
import { createPrivateKey, createSign, type KeyObject } from 'node:crypto';
import type { Dispatcher } from 'undici';
import { GitServerError } from '../gitapi/errors.js';
import { apiBaseURL, apiError, header, sendJSON } from '../gitapi/http.js';

export const GITHUB_API_VERSION = '2022-11-28';
export const DEFAULT_GITHUB_API = 'https://api.github.com';

export type TeamPermission = 'pull' | 'triage' | 'push' | 'maintain' | 'admin';
export type Visibility = 'public' | 'private' | 'internal';

export interface GitHubClientOptions {
  /** API base: `https://api.github.com` or `https://HOST/api/v3`. */
  baseURL: string;
  /** A token or a GitHub App JWT, sent as `Authorization: Bearer`. */
  token: string;
  dispatcher?: Dispatcher;
  /** Per-request timeout for headers and body (default 30 s). */
  requestTimeoutMs?: number;
}

export interface OrgInfo {
  login: string;
  id: number;
  htmlURL: string;
}

export interface RateLimit {
  limit: number;
  remaining: number;
  /** Epoch seconds when the window resets. */
  reset: number;
  used: number;
}

export interface TeamInfo {
  id: number;
  name: string;
  slug: string;
}

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

function b64url(data: string | Buffer): string {
  return Buffer.from(data).toString('base64url');
}

/**
 * A GitHub App JWT (RS256): `iat` 60 s in the past (clock drift), `exp` 9 minutes ahead (GitHub allows at
 * most 10), `iss` the app ID (a number when it is one) or client ID.
 */
export function appJWT(appID: string, privateKeyPEM: string, now: Date = new Date()): string {
  let key: KeyObject;
  try {
    key = createPrivateKey(privateKeyPEM);
  } catch {
    throw new GitServerError(0, 'Invalid', 'GitHub App private key is not a valid PEM key');
  }
  if (key.asymmetricKeyType !== 'rsa') throw new GitServerError(0, 'Invalid', 'GitHub App private key must be an RSA key');
  const t = Math.floor(now.getTime() / 1000);
  const header = b64url(JSON.stringify({ alg: 'RS256', typ: 'JWT' }));
  const payload = b64url(JSON.stringify({ iat: t - 60, exp: t + 540, iss: /^[0-9]+$/.test(appID) ? Number(appID) : appID }));
  const signer = createSign('RSA-SHA256');
  signer.update(`${header}.${payload}`);
  return `${header}.${payload}.${b64url(signer.sign(key))}`;
}

export interface InstallationTokenOptions {
  baseURL: string;
  appID: string;
  privateKey: string;
  /** When absent, looked up with `GET /orgs/{org}/installation`. */
  installationID?: string;
  organization: string;
  now?: () => Date;
  dispatcher?: Dispatcher;
  requestTimeoutMs?: number;
}

export interface InstallationToken {
  token: string;
  expiresAt: string;
  installationID: string;
}

/** Mints an installation access token for a GitHub App (JWT → installation → `POST .../access_tokens`). */
export async function mintInstallationToken(opts: InstallationTokenOptions): Promise<InstallationToken> {
  const jwt = appJWT(opts.appID, opts.privateKey, (opts.now ?? (() => new Date()))());
  const app = new GitHubClient({ baseURL: opts.baseURL, token: jwt, dispatcher: opts.dispatcher, requestTimeoutMs: opts.requestTimeoutMs });
  let id = opts.installationID;
  if (!id) {
    try {
      id = String((await app.getOrgInstallation(opts.organization)).id);
    } catch (e) {
      if (e instanceof GitServerError && e.status === 404) {
        throw new GitServerError(404, 'Forbidden', `GitHub: the GitHub App ${opts.appID} is not installed on organization ${opts.organization}`, e.apiMessage);
      }
      throw e;
    }
  }
  const t = await app.createInstallationToken(id);
  return { ...t, installationID: id };
}

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

  /** `POST /app/installations/{id}/access_tokens` (JWT auth). */
  async createInstallationToken(installationID: string): Promise<{ token: string; expiresAt: string }> {
    const res = await this.call(`create an access token for installation ${installationID}`, 'POST', `/app/installations/${enc(installationID)}/access_tokens`, { ok: [201] });
    const d = (res.data ?? {}) as { token?: unknown; expires_at?: unknown };
    if (typeof d.token !== 'string' || d.token === '') {
      throw new GitServerError(res.status, 'ServerError', `GitHub: create an access token for installation ${installationID}: the answer has no token`);
    }
    return { token: d.token, expiresAt: typeof d.expires_at === 'string' ? d.expires_at : '' };
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
    return this.token ? text.split(this.token).join('***') : text;
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
    const message = githubMessage(a.data, a.text, a.contentType);
    // GitHub answers 403 (not 429) when a rate limit is exhausted: its headers tell.
    const remaining = header(a, 'x-ratelimit-remaining');
    const retryAfter = header(a, 'retry-after');
    const rateLimited = a.status === 429 || (a.status === 403 && (remaining === '0' || (retryAfter !== undefined && /rate limit/i.test(message))));
    if (!rateLimited) throw apiError(server, op, a, message);
    const reset = header(a, 'x-ratelimit-reset');
    const detail = retryAfter && /^\d+$/.test(retryAfter) ? `(retry after ${retryAfter}s)` : remaining === '0' && reset && /^\d+$/.test(reset) ? `(resets at ${isoSeconds(Number(reset))})` : undefined;
    throw apiError(server, op, a, message, 'RateLimited', detail);
  }
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
