/**
 * A small Gitea API v1 client (undici). It covers what the Job programs need: readiness, the admin API
 * token, organizations and repositories.
 *
 * Every failure is a {@link GitServerError}. Its message ends up in a Kubernetes condition, so it is one
 * short line that names the operation, the HTTP status and Gitea's own `message`, and it never carries a
 * credential: the client scrubs its password/token (and the Basic header built from them) out of anything
 * it quotes, and never puts credentials in URLs.
 */
import type { Dispatcher } from 'undici';
import { apiBaseURL, apiError, sendJSON, type ApiAnswer } from '../gitapi/http.js';
import { GitServerError, displayURL, maskSecrets } from '../gitapi/errors.js';

// Shared with the other git API clients; re-exported for the modules that import them from here.
export { GitServerError, codeForStatus, displayURL, oneLine, type GitServerErrorCode } from '../gitapi/errors.js';

/**
 * How the client authenticates to Gitea: HTTP basic with the admin's user name and password (`Authorization: Basic
 * …`; needed to mint tokens) or an API token (`Authorization: token …`).
 */
export type GiteaAuth = { basic: { username: string; password: string } } | { token: string };

/**
 * Options of GiteaClient: Gitea's base URL, the credentials, an optional undici dispatcher (e.g. a private CA) and
 * the per-request timeout (ms, default 30 000).
 */
export interface GiteaClientOptions {
  /** Gitea's base URL, e.g. `http://gitea-http.gitea.svc.cluster.local:3000` or `https://host/gitea` (sub-path routing). */
  baseURL: string;
  auth: GiteaAuth;
  dispatcher?: Dispatcher;
  /** Per-request timeout for headers and body (default 30 s). */
  requestTimeoutMs?: number;
}

/**
 * How `waitReady` polls Gitea: overall `timeoutMs` and `intervalMs` between probes (milliseconds), an injectable
 * `sleep` and clock `now` (ms since the epoch), and `onWait`, told why each probe failed.
 */
export interface WaitReadyOptions {
  timeoutMs: number;
  intervalMs: number;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
  /** Called after each failed probe with a one-line reason (never a credential). */
  onWait?: (reason: string) => void;
}

/** An organization to ensure: its name, description and visibility (Gitea's `public`, `limited` or `private`). */
export interface OrgSpec {
  name: string;
  description?: string;
  visibility?: 'public' | 'limited' | 'private';
}

/**
 * A repository to ensure in Gitea: name, description, `private`, `autoInit` (create with an initial commit) and the
 * default branch name.
 */
export interface RepoSpec {
  name: string;
  description?: string;
  private?: boolean;
  autoInit?: boolean;
  defaultBranch: string;
}

/**
 * A Gitea repository as this client reports it: web and clone URLs, default branch, whether it is empty or private,
 * and whether this call created it.
 */
export interface RepoInfo {
  htmlURL: string;
  cloneURL: string;
  /** The repository's default branch as Gitea reports it (Gitea reports one for empty repositories too). */
  defaultBranch: string;
  empty: boolean;
  /** `private` as Gitea reports it. */
  private: boolean;
  /** True when this call created the repository. */
  created: boolean;
}

interface ApiToken {
  id: number;
  name: string;
  sha1?: string;
}

interface ApiRepo {
  html_url?: string;
  clone_url?: string;
  default_branch?: string;
  empty?: boolean;
  private?: boolean;
}

/** The fields of `PATCH /api/v1/repos/{owner}/{repo}` (Gitea's EditRepoOption) this client sets. */
export interface RepoEdit {
  private?: boolean;
  description?: string;
  /** Gitea applies it only when the branch exists (or the repository is empty), and says nothing otherwise. */
  defaultBranch?: string;
}

/** What owns a repository: an organization, a user, or nothing of that name. */
export type OwnerKind = 'organization' | 'user' | 'none';

const defaultSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Client of the Gitea API v1 (`/api/v1`) the Job programs use: version and readiness, the admin API token,
 * organizations and repositories. Methods throw GitServerError (never carrying a credential) for refused or failed
 * requests; the constructor throws TypeError for a bad base URL.
 */
export class GiteaClient {
  private readonly base: string;
  private readonly authHeader: string;
  private readonly secrets: string[];
  private readonly dispatcher?: Dispatcher;
  private readonly timeoutMs: number;
  readonly isBasicAuth: boolean;

  constructor(opts: GiteaClientOptions) {
    this.base = apiBaseURL(opts.baseURL, 'Gitea baseURL');
    this.dispatcher = opts.dispatcher;
    this.timeoutMs = opts.requestTimeoutMs ?? 30_000;
    if ('basic' in opts.auth) {
      const { username, password } = opts.auth.basic;
      const encoded = Buffer.from(`${username}:${password}`, 'utf8').toString('base64');
      this.authHeader = `Basic ${encoded}`;
      this.secrets = [password, encoded].filter((s) => s.length > 0);
      this.isBasicAuth = true;
    } else {
      this.authHeader = `token ${opts.auth.token}`;
      this.secrets = [opts.auth.token].filter((s) => s.length > 0);
      this.isBasicAuth = false;
    }
  }

  /** The base URL as given, without trailing slash (no credentials). */
  get baseURL(): string {
    return this.base;
  }

  /** `GET /api/v1/version` → the version string. */
  async version(): Promise<string> {
    const res = await this.call('get version', 'GET', '/api/v1/version');
    const v = (res.data as { version?: unknown } | undefined)?.version;
    return typeof v === 'string' ? v : '';
  }

  /**
   * Polls `GET /api/healthz` (not under /api/v1) until it passes, then `GET /api/v1/version`.
   * Network errors, 5xx, 424 (health check failing) and 404 (ingress not routed yet) are retried until
   * `timeoutMs`; 401/403 on the version call mean wrong credentials or a locked account and fail at once.
   */
  async waitReady(opts: WaitReadyOptions): Promise<string> {
    const sleep = opts.sleep ?? defaultSleep;
    const now = opts.now ?? Date.now;
    const start = now();
    let slept = 0;
    for (;;) {
      let last: GitServerError;
      try {
        await this.call('health check', 'GET', '/api/healthz', { auth: false });
        return await this.version();
      } catch (e) {
        if (!(e instanceof GitServerError)) throw e;
        if (e.code === 'Unauthorized' || e.code === 'Forbidden') throw e;
        last = e;
      }
      opts.onWait?.(last.message);
      const elapsed = Math.max(now() - start, slept);
      if (elapsed + opts.intervalMs > opts.timeoutMs) {
        throw new GitServerError(
          last.status,
          last.code,
          `Gitea at ${displayURL(this.base)} not ready after ${Math.round(opts.timeoutMs / 1000)}s: ${last.message.replace(/^Gitea: /, '')}`,
          last.apiMessage,
        );
      }
      await sleep(opts.intervalMs);
      slept += opts.intervalMs;
    }
  }

  /** `GET /api/v1/user` → the login of the authenticated user. */
  async currentUser(): Promise<{ login: string; isAdmin: boolean }> {
    const res = await this.call('get authenticated user', 'GET', '/api/v1/user');
    const d = (res.data ?? {}) as { login?: unknown; username?: unknown; is_admin?: unknown };
    const login = typeof d.login === 'string' ? d.login : typeof d.username === 'string' ? d.username : '';
    return { login, isAdmin: d.is_admin === true };
  }

  /**
   * Deletes the user's token named `name` (if any) and creates a new one with `scopes`; returns its
   * secret (`sha1`, shown only once). Gitea only accepts Basic auth here: a token cannot mint tokens.
   */
  async recreateToken(username: string, name: string, scopes: string[]): Promise<string> {
    if (!this.isBasicAuth) throw new TypeError('recreateToken needs Basic auth: Gitea does not let a token create tokens');
    const u = enc(username);
    for (let attempt = 1; ; attempt++) {
      for (const t of await this.listTokens(username)) {
        if (t.name !== name) continue;
        await this.call(`delete token "${name}" of user ${username}`, 'DELETE', `/api/v1/users/${u}/tokens/${t.id}`, {
          ok: [204, 404],
        });
      }
      try {
        const res = await this.call(`create token "${name}" for user ${username}`, 'POST', `/api/v1/users/${u}/tokens`, {
          body: { name, scopes },
          ok: [201],
        });
        const sha1 = (res.data as ApiToken | undefined)?.sha1;
        if (typeof sha1 !== 'string' || sha1 === '') {
          throw new GitServerError(res.status, 'ServerError', `Gitea: create token "${name}" for user ${username}: the answer has no sha1`);
        }
        return sha1;
      } catch (e) {
        // 400 "access token name has been used already": someone created it between our list and create.
        if (attempt < 2 && e instanceof GitServerError && e.status === 400 && /used already|already exist/i.test(e.apiMessage)) continue;
        throw e;
      }
    }
  }

  private async listTokens(username: string): Promise<ApiToken[]> {
    const all: ApiToken[] = [];
    const limit = 50;
    for (let page = 1; page <= 100; page++) {
      const res = await this.call(`list tokens of user ${username}`, 'GET', `/api/v1/users/${enc(username)}/tokens?page=${page}&limit=${limit}`);
      const items = Array.isArray(res.data) ? (res.data as ApiToken[]) : [];
      all.push(...items.filter((t) => t && typeof t.id === 'number' && typeof t.name === 'string'));
      if (items.length < limit) break;
    }
    return all;
  }

  /** `GET /api/v1/orgs/{org}`; on 404 `POST /api/v1/orgs`. Returns whether it created the organization. */
  async ensureOrg(spec: OrgSpec): Promise<{ created: boolean }> {
    if (await this.orgExists(spec.name)) return { created: false };
    try {
      await this.call(`create organization ${spec.name}`, 'POST', '/api/v1/orgs', {
        body: {
          username: spec.name,
          ...(spec.description !== undefined ? { description: spec.description } : {}),
          visibility: spec.visibility ?? 'public',
        },
        ok: [201],
      });
      return { created: true };
    } catch (e) {
      // 422 "user already exists": created concurrently (fine) or a *user* has that name (a real error).
      if (e instanceof GitServerError && e.status === 422 && (await this.orgExists(spec.name))) return { created: false };
      throw e;
    }
  }

  private async orgExists(name: string): Promise<boolean> {
    const res = await this.call(`get organization ${name}`, 'GET', `/api/v1/orgs/${enc(name)}`, { ok: [200, 404] });
    return res.status === 200;
  }

  /**
   * What `owner` is: `GET /api/v1/orgs/{owner}` (200: an organization), else `GET /api/v1/users/{owner}`
   * (200: a user), else `none`. Both answer 404 for a name that does not exist.
   */
  async ownerKind(owner: string): Promise<OwnerKind> {
    if (await this.orgExists(owner)) return 'organization';
    const res = await this.call(`get user ${owner}`, 'GET', `/api/v1/users/${enc(owner)}`, { ok: [200, 404] });
    return res.status === 200 ? 'user' : 'none';
  }

  /**
   * `GET /api/v1/repos/{owner}/{repo}`; on 404 checks the owner first (a name that is neither an
   * organization nor a user is a `NotFound` error saying so, not whatever the create call would answer —
   * a token without `write:admin` gets 403 `required=[write:admin]` there) and creates it where Gitea
   * documents it: an organization owner → `POST /api/v1/orgs/{org}/repos`; the authenticated user →
   * `POST /api/v1/user/repos`; any other user → `POST /api/v1/admin/users/{user}/repos` (site admin,
   * `write:admin` scope).
   */
  async ensureRepo(owner: string, spec: RepoSpec): Promise<RepoInfo> {
    const full = `${owner}/${spec.name}`;
    const existing = await this.getRepo(owner, spec.name);
    if (existing) return toRepoInfo(existing, false);

    const kind = await this.ownerKind(owner);
    if (kind === 'none') {
      throw new GitServerError(404, 'NotFound', `Gitea: cannot create repository ${full}: owner ${owner} does not exist (there is no organization or user of that name)`);
    }
    const body = {
      name: spec.name,
      ...(spec.description !== undefined ? { description: spec.description } : {}),
      private: spec.private ?? false,
      auto_init: spec.autoInit ?? false,
      default_branch: spec.defaultBranch,
    };
    let path: string;
    if (kind === 'organization') {
      path = `/api/v1/orgs/${enc(owner)}/repos`;
    } else {
      const me = await this.currentUser();
      path = me.login.toLowerCase() === owner.toLowerCase() ? '/api/v1/user/repos' : `/api/v1/admin/users/${enc(owner)}/repos`;
    }
    try {
      const res = await this.call(`create repository ${full}`, 'POST', path, { body, ok: [201] });
      return toRepoInfo(res.data as ApiRepo, true);
    } catch (e) {
      if (e instanceof GitServerError && e.status === 409) {
        const again = await this.getRepo(owner, spec.name);
        if (again) return toRepoInfo(again, false);
      }
      throw e;
    }
  }

  /** `GET /api/v1/repos/{owner}/{repo}`; undefined when it does not exist (or the token cannot see it). */
  async findRepo(owner: string, name: string): Promise<RepoInfo | undefined> {
    const r = await this.getRepo(owner, name);
    return r ? toRepoInfo(r, false) : undefined;
  }

  /** `PATCH /api/v1/repos/{owner}/{repo}` with the given fields; returns the repository as Gitea answers. */
  async editRepo(owner: string, name: string, edit: RepoEdit): Promise<RepoInfo> {
    const body: Record<string, unknown> = {};
    if (edit.private !== undefined) body.private = edit.private;
    if (edit.description !== undefined) body.description = edit.description;
    if (edit.defaultBranch !== undefined) body.default_branch = edit.defaultBranch;
    const res = await this.call(`edit repository ${owner}/${name}`, 'PATCH', `/api/v1/repos/${enc(owner)}/${enc(name)}`, { body, ok: [200] });
    return toRepoInfo((res.data ?? {}) as ApiRepo, false);
  }

  private async getRepo(owner: string, name: string): Promise<ApiRepo | undefined> {
    const res = await this.call(`get repository ${owner}/${name}`, 'GET', `/api/v1/repos/${enc(owner)}/${enc(name)}`, { ok: [200, 404] });
    return res.status === 200 ? ((res.data ?? {}) as ApiRepo) : undefined;
  }

  private scrub(text: string): string {
    return maskSecrets(text, this.secrets);
  }

  private async call(
    op: string,
    method: 'GET' | 'POST' | 'DELETE' | 'PATCH',
    path: string,
    opts: { body?: unknown; ok?: number[]; auth?: boolean } = {},
  ): Promise<{ status: number; data: unknown }> {
    const server = { label: 'Gitea', base: this.base, dispatcher: this.dispatcher, timeoutMs: this.timeoutMs, scrub: (t: string) => this.scrub(t) };
    const headers: Record<string, string> = { accept: 'application/json' };
    if (opts.auth !== false) headers.authorization = this.authHeader;
    const a = await sendJSON(server, op, method, path, headers, opts.body, { jsonOnlyWithContentType: true });
    if ((opts.ok ?? [200]).includes(a.status)) return { status: a.status, data: a.data };
    throw apiError(server, op, a, giteaMessage(a));
  }
}

/** Gitea's `message` (or the first of a list), or a short plain-text body. */
function giteaMessage(a: ApiAnswer): string {
  const m = (a.data as { message?: unknown } | undefined)?.message;
  if (typeof m === 'string') return m;
  if (Array.isArray(a.data) && typeof (a.data[0] as { message?: unknown })?.message === 'string') return (a.data[0] as { message: string }).message;
  if (a.data === undefined && a.contentType.startsWith('text/plain') && a.text.length <= 200) return a.text;
  return '';
}

function enc(segment: string): string {
  return encodeURIComponent(segment);
}

function toRepoInfo(r: ApiRepo, created: boolean): RepoInfo {
  return {
    htmlURL: typeof r.html_url === 'string' ? r.html_url : '',
    cloneURL: typeof r.clone_url === 'string' ? r.clone_url : '',
    defaultBranch: typeof r.default_branch === 'string' ? r.default_branch : '',
    empty: r.empty === true,
    private: r.private === true,
    created,
  };
}
