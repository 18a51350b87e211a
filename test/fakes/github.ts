/**
 * A fake GitHub on 127.0.0.1 for tests. It follows the REST API (paths, status codes, JSON field names,
 * `{message, documentation_url, status}` error bodies, `x-ratelimit-*` headers) for the endpoints our jobs
 * use, keeps organizations, teams, repositories, personal access tokens and GitHub Apps in memory, checks
 * GitHub App JWTs (RS256 against the app's public key, `iat`/`exp` against the fake's clock) and mints
 * installation tokens, and serves real git smart-HTTP for created repositories with `git http-backend`.
 *
 *  - The API lives under `apiPrefix` ('' like api.github.com, or '/api/v3' like GitHub Enterprise Server);
 *    git and web URLs at the root (`<web>/<owner>/<repo>.git`).
 *  - API auth: `Authorization: Bearer <t>` or `token <t>`; git: Basic with the token as password (any
 *    username, e.g. `x-access-token`).
 *  - A core rate limit per fake: every authenticated API call but `GET /rate_limit` counts; at 0 the answer is
 *    403 "API rate limit exceeded" with `x-ratelimit-remaining: 0`.
 *  - `fail()` injects answers (401/403/404/422/429/500…) for matching requests.
 */
import { createPublicKey, createVerify, randomBytes } from 'node:crypto';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { git, gitHttpBackend, listen, readBody, sendJSON, shutdown } from './http.js';

// Shared with the other fakes; re-exported for the tests that import them from here.
export { git, gitHttpBackend, readBody, sendJSON, type GitBackendRequest } from './http.js';


export const SUPPORTED_API_VERSIONS = ['2022-11-28', '2026-03-10'];
const DOCS = 'https://docs.github.com/rest';

export interface GhOrg {
  id: number;
  login: string;
  description: string;
  /** Logins that may create repositories and teams. */
  admins: Set<string>;
  teams: Map<string, GhTeam>;
}

export interface GhTeam {
  id: number;
  name: string;
  slug: string;
  description: string;
  privacy: string;
  /** `owner/repo` (lower case) → permission. */
  repos: Map<string, string>;
}

export interface GhRepo {
  id: number;
  owner: string;
  name: string;
  description: string;
  visibility: 'public' | 'private' | 'internal';
  defaultBranch: string;
  allowSquashMerge: boolean;
  allowMergeCommit: boolean;
  allowRebaseMerge: boolean;
  autoInit: boolean;
  dir: string;
}

export interface GhToken {
  token: string;
  /** A user's token (PAT) or an installation token. */
  kind: 'pat' | 'installation';
  login?: string;
  /** Installation tokens: the organization the app is installed on. */
  org?: string;
  installationID?: number;
  expiresAt?: number;
}

export interface GhApp {
  id: number;
  clientID: string;
  publicKeyPEM: string;
  /** org login (lower case) → installation id. */
  installations: Map<string, number>;
}

export interface GhRecordedRequest {
  method: string;
  path: string;
  query: string;
  auth: 'none' | 'token' | 'jwt' | 'basic' | 'invalid';
  who?: string;
  accept?: string;
  apiVersion?: string;
  body?: unknown;
}

export interface GhFailure {
  method?: string;
  /** Matched against the path below the API prefix, without query (e.g. `/orgs/acme`). */
  path: string | RegExp;
  status: number;
  message?: string;
  headers?: Record<string, string>;
  /** How many requests get this answer (default: all). */
  times?: number;
}

export interface FakeGitHubOptions {
  /** '' (api.github.com) or '/api/v3' (GitHub Enterprise Server). */
  apiPrefix?: string;
  /** The fake's clock, for JWT checks and token expiry (default: real time). */
  now?: () => Date;
  rateLimit?: number;
  /** The first branch of an auto-initialized repository (an org's "default branch name" setting). */
  newRepoBranch?: string;
}

type Auth =
  | { kind: 'none' }
  | { kind: 'invalid'; message: string; status?: number }
  | { kind: 'token'; token: GhToken }
  | { kind: 'jwt'; app: GhApp };

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

export class FakeGitHub {
  readonly apiPrefix: string;
  readonly requests: GhRecordedRequest[] = [];
  readonly rate: { limit: number; remaining: number; reset: number; used: number };
  newRepoBranch: string;
  now: () => Date;
  /** Runs before `git http-backend` serves a push, after the client read the refs (a concurrent pusher acts here). */
  beforeReceivePack?: (repo: GhRepo) => Promise<void>;
  /** Fields of `PATCH /repos/{owner}/{repo}` answered 200 but not applied. */
  readonly ignoredEdits = new Set<'visibility' | 'default_branch'>();

  private server?: Server;
  private port = 0;
  private root = '';
  private nextId = 100;
  private readonly orgs = new Map<string, GhOrg>();
  private readonly repos = new Map<string, GhRepo>();
  private readonly tokens: GhToken[] = [];
  private readonly apps: GhApp[] = [];
  private readonly failures: GhFailure[] = [];

  constructor(opts: FakeGitHubOptions = {}) {
    this.apiPrefix = (opts.apiPrefix ?? '').replace(/\/+$/, '');
    this.now = opts.now ?? (() => new Date());
    const limit = opts.rateLimit ?? 5000;
    this.rate = { limit, remaining: limit, reset: 0, used: 0 };
    this.newRepoBranch = opts.newRepoBranch ?? 'main';
  }

  async start(): Promise<void> {
    const l = await listen('fake-github', (req, res) => this.handle(req, res), (message) => ({ message }));
    this.server = l.server;
    this.root = l.root;
    this.port = l.port;
  }

  async stop(): Promise<void> {
    await shutdown(this.server, this.root);
    this.server = undefined;
  }

  /** The web (and git) base URL. */
  get webURL(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** The API base URL: what a GitHubProvider's `endpoint` would be. */
  get apiURL(): string {
    return `${this.webURL}${this.apiPrefix}`;
  }

  get reposRoot(): string {
    return join(this.root, 'repos');
  }

  addOrg(login: string, opts: { admins?: string[]; description?: string } = {}): GhOrg {
    const o: GhOrg = { id: this.nextId++, login, description: opts.description ?? '', admins: new Set((opts.admins ?? []).map((a) => a.toLowerCase())), teams: new Map() };
    this.orgs.set(login.toLowerCase(), o);
    return o;
  }

  org(login: string): GhOrg | undefined {
    return this.orgs.get(login.toLowerCase());
  }

  repo(owner: string, name: string): GhRepo | undefined {
    return this.repos.get(`${owner}/${name}`.toLowerCase());
  }

  addTeam(org: string, name: string): GhTeam {
    const o = this.org(org)!;
    const t: GhTeam = { id: this.nextId++, name, slug: slugify(name), description: '', privacy: 'closed', repos: new Map() };
    o.teams.set(t.slug, t);
    return t;
  }

  /** A personal access token of `login`; returns its secret. */
  addToken(login: string): string {
    const t: GhToken = { token: `ghp_${randomBytes(18).toString('hex')}`, kind: 'pat', login };
    this.tokens.push(t);
    return t.token;
  }

  /** A GitHub App with this public key (PEM), installed on `orgs`. */
  addApp(publicKeyPEM: string, orgs: string[] = [], opts: { id?: number; clientID?: string } = {}): GhApp {
    const app: GhApp = { id: opts.id ?? this.nextId++, clientID: opts.clientID ?? `Iv1.${randomBytes(8).toString('hex')}`, publicKeyPEM, installations: new Map() };
    for (const o of orgs) app.installations.set(o.toLowerCase(), this.nextId++);
    this.apps.push(app);
    return app;
  }

  installationTokens(): GhToken[] {
    return this.tokens.filter((t) => t.kind === 'installation');
  }

  fail(f: GhFailure): void {
    this.failures.push({ ...f });
  }

  clearFailures(): void {
    this.failures.length = 0;
  }

  resetRateLimit(remaining = this.rate.limit): void {
    this.rate.remaining = remaining;
    this.rate.used = this.rate.limit - remaining;
  }

  // ---------------------------------------------------------------------------------------------------

  private nowSeconds(): number {
    return Math.floor(this.now().getTime() / 1000);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x');
    const method = req.method ?? 'GET';
    const body = await readBody(req);
    const rawPath = decodeURIComponent(url.pathname);
    const isAPI = this.apiPrefix ? rawPath === this.apiPrefix || rawPath.startsWith(`${this.apiPrefix}/`) : !/\.git\/(info\/refs|git-upload-pack|git-receive-pack)$/.test(rawPath);
    const path = isAPI ? rawPath.slice(this.apiPrefix.length) || '/' : rawPath;
    const auth = this.authenticate(req.headers.authorization, !isAPI);
    const rec: GhRecordedRequest = {
      method,
      path,
      query: url.search.replace(/^\?/, ''),
      auth: auth.kind === 'token' ? (isAPI ? 'token' : 'basic') : auth.kind,
      ...(auth.kind === 'token' ? { who: auth.token.login ?? `installation:${auth.token.installationID}` } : auth.kind === 'jwt' ? { who: `app:${auth.app.id}` } : {}),
      ...(typeof req.headers.accept === 'string' ? { accept: req.headers.accept } : {}),
      ...(typeof req.headers['x-github-api-version'] === 'string' ? { apiVersion: req.headers['x-github-api-version'] } : {}),
    };
    this.requests.push(rec);

    if (!isAPI) return this.serveGit(req, res, method, path, url.search.replace(/^\?/, ''), body, auth);

    const injected = this.takeFailure(method, path);
    if (injected) {
      for (const [k, v] of Object.entries(injected.headers ?? {})) res.setHeader(k, v);
      return sendJSON(res, injected.status, { message: injected.message ?? '', documentation_url: DOCS, status: String(injected.status) });
    }
    let json: unknown;
    if (body.length > 0) {
      try {
        json = JSON.parse(body.toString('utf8'));
      } catch {
        return sendJSON(res, 400, { message: 'Problems parsing JSON', documentation_url: DOCS, status: '400' });
      }
      rec.body = json;
    }
    try {
      const v = req.headers['x-github-api-version'];
      if (typeof v === 'string' && !SUPPORTED_API_VERSIONS.includes(v)) throw new HttpError(400, `API version ${v} is not supported.`);
      await this.api(res, method, path, json, auth);
    } catch (e) {
      if (e instanceof HttpError) return sendJSON(res, e.status, { message: e.message, documentation_url: DOCS, status: String(e.status), ...e.extra });
      throw e;
    }
  }

  private takeFailure(method: string, path: string): GhFailure | undefined {
    const f = this.failures.find(
      (x) => (!x.method || x.method === method) && (typeof x.path === 'string' ? x.path === path : x.path.test(path)) && (x.times ?? 1) > 0,
    );
    if (!f) return undefined;
    if (f.times !== undefined) f.times--;
    return f;
  }

  private authenticate(header: string | undefined, git: boolean): Auth {
    if (!header) return { kind: 'none' };
    const [scheme, rest = ''] = header.split(' ', 2);
    const s = scheme.toLowerCase();
    let secret = rest.trim();
    if (s === 'basic') {
      const decoded = Buffer.from(secret, 'base64').toString('utf8');
      const i = decoded.indexOf(':');
      secret = i < 0 ? decoded : decoded.slice(i + 1);
    } else if (s !== 'bearer' && s !== 'token') {
      return { kind: 'invalid', message: 'Bad credentials' };
    }
    if (!git && secret.split('.').length === 3 && s === 'bearer') return this.verifyJWT(secret);
    const t = this.tokens.find((x) => x.token === secret);
    if (!t) return { kind: 'invalid', message: 'Bad credentials' };
    if (t.expiresAt !== undefined && t.expiresAt <= this.nowSeconds()) return { kind: 'invalid', message: 'Bad credentials' };
    return { kind: 'token', token: t };
  }

  private verifyJWT(jwt: string): Auth {
    const bad = (message: string): Auth => ({ kind: 'invalid', message });
    const [h, p, sig] = jwt.split('.');
    let header: { alg?: unknown };
    let payload: { iat?: unknown; exp?: unknown; iss?: unknown };
    try {
      header = JSON.parse(Buffer.from(h, 'base64url').toString('utf8'));
      payload = JSON.parse(Buffer.from(p, 'base64url').toString('utf8'));
    } catch {
      return bad('A JSON web token could not be decoded');
    }
    if (header.alg !== 'RS256') return bad('A JSON web token could not be decoded');
    const app = this.apps.find((a) => payload.iss === a.id || payload.iss === String(a.id) || payload.iss === a.clientID);
    if (!app) return bad(`'Issuer' claim ('iss') must be an Integer`);
    const ok = createVerify('RSA-SHA256').update(`${h}.${p}`).verify(createPublicKey(app.publicKeyPEM), Buffer.from(sig, 'base64url'));
    if (!ok) return bad('A JSON web token could not be decoded');
    const now = this.nowSeconds();
    if (typeof payload.iat !== 'number' || payload.iat > now + 30) return bad(`'Issued at' claim ('iat') must be an Integer representing a time in the past.`);
    if (typeof payload.exp !== 'number' || payload.exp <= now) return bad(`'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires.`);
    if (payload.exp > now + 600 || payload.exp - payload.iat > 600) return bad(`'Expiration time' claim ('exp') is too far in the future.`);
    return { kind: 'jwt', app };
  }

  /** Rate limit accounting and headers for an authenticated call. */
  private countCall(res: ServerResponse, counted: boolean): void {
    if (this.rate.reset <= this.nowSeconds()) this.rate.reset = this.nowSeconds() + 3600;
    if (counted && this.rate.remaining > 0) {
      this.rate.remaining--;
      this.rate.used++;
    }
    res.setHeader('x-ratelimit-limit', String(this.rate.limit));
    res.setHeader('x-ratelimit-remaining', String(this.rate.remaining));
    res.setHeader('x-ratelimit-reset', String(this.rate.reset));
    res.setHeader('x-ratelimit-used', String(this.rate.used));
    res.setHeader('x-ratelimit-resource', 'core');
  }

  private requireToken(auth: Auth): GhToken {
    if (auth.kind === 'invalid') throw new HttpError(401, auth.message);
    if (auth.kind === 'none') throw new HttpError(401, 'Requires authentication');
    if (auth.kind === 'jwt') throw new HttpError(403, 'Resource not accessible by integration');
    return auth.token;
  }

  /** Organization admin: the org's admins, or an installation token of that org. */
  private isOrgAdmin(t: GhToken, org: GhOrg): boolean {
    if (t.kind === 'installation') return t.org === org.login.toLowerCase();
    return !!t.login && org.admins.has(t.login.toLowerCase());
  }

  private canRead(t: GhToken | undefined, r: GhRepo): boolean {
    if (r.visibility === 'public') return true;
    if (!t) return false;
    const o = this.org(r.owner);
    if (o && this.isOrgAdmin(t, o)) return true;
    return r.visibility === 'internal' && t.kind === 'pat';
  }

  private async api(res: ServerResponse, method: string, path: string, body: unknown, auth: Auth): Promise<void> {
    if (auth.kind === 'invalid') throw new HttpError(401, auth.message);
    const counted = path !== '/rate_limit' && auth.kind !== 'jwt';
    if (auth.kind === 'token') {
      if (counted && this.rate.remaining === 0) {
        this.countCall(res, false);
        throw new HttpError(403, `API rate limit exceeded for user ID 1. If you reach out to GitHub Support for help, please include the request ID.`);
      }
      this.countCall(res, counted);
    }
    let m: RegExpMatchArray | null;

    if (path === '/rate_limit' && method === 'GET') {
      const t = this.requireToken(auth);
      void t;
      const core = { limit: this.rate.limit, remaining: this.rate.remaining, reset: this.rate.reset, used: this.rate.used, resource: 'core' };
      const other = (resource: string, limit: number) => ({ limit, remaining: limit, reset: this.rate.reset, used: 0, resource });
      return sendJSON(res, 200, { resources: { core, search: other('search', 30), graphql: other('graphql', 5000) }, rate: core });
    }

    if ((m = path.match(/^\/orgs\/([^/]+)\/installation$/)) && method === 'GET') {
      if (auth.kind !== 'jwt') throw new HttpError(401, 'A JSON web token could not be decoded');
      const o = this.org(m[1]);
      const id = o ? auth.app.installations.get(o.login.toLowerCase()) : undefined;
      if (!o || id === undefined) throw new HttpError(404, 'Not Found');
      return sendJSON(res, 200, { id, app_id: auth.app.id, client_id: auth.app.clientID, target_type: 'Organization', account: { login: o.login, id: o.id, type: 'Organization' }, repository_selection: 'all', permissions: { administration: 'write', contents: 'write', members: 'write', metadata: 'read' } });
    }

    if ((m = path.match(/^\/app\/installations\/([^/]+)\/access_tokens$/)) && method === 'POST') {
      if (auth.kind !== 'jwt') throw new HttpError(401, 'A JSON web token could not be decoded');
      const id = Number(m[1]);
      const org = [...auth.app.installations.entries()].find(([, v]) => v === id)?.[0];
      if (org === undefined) throw new HttpError(404, 'Not Found');
      const expiresAt = this.nowSeconds() + 3600;
      const t: GhToken = { token: `ghs_${randomBytes(18).toString('hex')}`, kind: 'installation', org, installationID: id, expiresAt };
      this.tokens.push(t);
      return sendJSON(res, 201, { token: t.token, expires_at: isoSeconds(expiresAt), permissions: { administration: 'write', contents: 'write', members: 'write', metadata: 'read' }, repository_selection: 'all' });
    }

    if ((m = path.match(/^\/orgs\/([^/]+)$/)) && method === 'GET') {
      this.requireToken(auth);
      const o = this.org(m[1]);
      if (!o) throw new HttpError(404, 'Not Found');
      return sendJSON(res, 200, this.orgJSON(o));
    }

    if ((m = path.match(/^\/orgs\/([^/]+)\/teams$/)) && method === 'POST') {
      const t = this.requireToken(auth);
      const o = this.org(m[1]);
      if (!o) throw new HttpError(404, 'Not Found');
      if (!this.isOrgAdmin(t, o)) throw new HttpError(403, 'You must be an organization owner or team maintainer to create a team.');
      const b = (body ?? {}) as { name?: unknown; description?: unknown; privacy?: unknown };
      if (typeof b.name !== 'string' || b.name === '') throw new HttpError(422, 'Invalid request.\n\n"name" wasn\'t supplied.');
      const slug = slugify(b.name);
      if (o.teams.has(slug)) throw new HttpError(422, 'Validation Failed', { errors: [{ resource: 'Team', code: 'custom', field: 'name', message: 'Name must be unique for this org' }] });
      const team = this.addTeam(o.login, b.name);
      team.description = typeof b.description === 'string' ? b.description : '';
      team.privacy = typeof b.privacy === 'string' ? b.privacy : 'secret';
      return sendJSON(res, 201, this.teamJSON(o, team));
    }

    if ((m = path.match(/^\/orgs\/([^/]+)\/teams\/([^/]+)$/)) && method === 'GET') {
      this.requireToken(auth);
      const o = this.org(m[1]);
      const team = o?.teams.get(m[2].toLowerCase());
      if (!o || !team) throw new HttpError(404, 'Not Found');
      return sendJSON(res, 200, this.teamJSON(o, team));
    }

    if ((m = path.match(/^\/orgs\/([^/]+)\/teams\/([^/]+)\/repos\/([^/]+)\/([^/]+)$/)) && method === 'PUT') {
      const t = this.requireToken(auth);
      const o = this.org(m[1]);
      const team = o?.teams.get(m[2].toLowerCase());
      const r = this.repo(m[3], m[4]);
      if (!o || !team || !r) throw new HttpError(404, 'Not Found');
      if (!this.isOrgAdmin(t, o)) throw new HttpError(403, 'Must have admin rights to Repository.');
      const p = (body as { permission?: unknown } | undefined)?.permission ?? 'push';
      if (typeof p !== 'string' || !['pull', 'triage', 'push', 'maintain', 'admin'].includes(p)) {
        throw new HttpError(422, 'Validation Failed', { errors: [{ resource: 'TeamRepository', code: 'invalid', field: 'permission' }] });
      }
      team.repos.set(`${r.owner}/${r.name}`.toLowerCase(), p);
      return void res.writeHead(204).end();
    }

    if ((m = path.match(/^\/orgs\/([^/]+)\/repos$/)) && method === 'POST') {
      const t = this.requireToken(auth);
      const o = this.org(m[1]);
      if (!o) throw new HttpError(404, 'Not Found');
      if (!this.isOrgAdmin(t, o)) throw new HttpError(403, 'You need admin access to the organization before adding a repository to it.');
      const r = await this.createRepo(o, body);
      return sendJSON(res, 201, this.repoJSON(r));
    }

    if ((m = path.match(/^\/repos\/([^/]+)\/([^/]+)$/)) && method === 'GET') {
      const t = auth.kind === 'token' ? auth.token : undefined;
      if (auth.kind === 'none') throw new HttpError(401, 'Requires authentication');
      const r = this.repo(m[1], m[2]);
      if (!r || !this.canRead(t, r)) throw new HttpError(404, 'Not Found');
      return sendJSON(res, 200, this.repoJSON(r));
    }

    if ((m = path.match(/^\/repos\/([^/]+)\/([^/]+)$/)) && method === 'PATCH') {
      const t = this.requireToken(auth);
      const r = this.repo(m[1], m[2]);
      if (!r || !this.canRead(t, r)) throw new HttpError(404, 'Not Found');
      const o = this.org(r.owner);
      if (!o || !this.isOrgAdmin(t, o)) throw new HttpError(403, 'Must have admin rights to Repository.');
      const b = (body ?? {}) as { private?: unknown; visibility?: unknown; default_branch?: unknown; description?: unknown };
      const vis = typeof b.visibility === 'string' ? b.visibility : typeof b.private === 'boolean' ? (b.private ? 'private' : 'public') : undefined;
      if (vis !== undefined && !['public', 'private', 'internal'].includes(vis)) {
        throw new HttpError(422, 'Validation Failed', { errors: [{ resource: 'Repository', code: 'invalid', field: 'visibility' }] });
      }
      if (typeof b.default_branch === 'string') {
        const has = (await git(['--git-dir', r.dir, 'for-each-ref', `refs/heads/${b.default_branch}`])).trim() !== '';
        if (!has) throw new HttpError(422, 'Validation Failed', { errors: [{ resource: 'Repository', code: 'invalid', field: 'default_branch' }] });
        if (!this.ignoredEdits.has('default_branch')) {
          r.defaultBranch = b.default_branch;
          await git(['--git-dir', r.dir, 'symbolic-ref', 'HEAD', `refs/heads/${b.default_branch}`]);
        }
      }
      if (vis !== undefined && !this.ignoredEdits.has('visibility')) r.visibility = vis as GhRepo['visibility'];
      if (typeof b.description === 'string') r.description = b.description;
      return sendJSON(res, 200, this.repoJSON(r));
    }

    if ((m = path.match(/^\/repos\/([^/]+)\/([^/]+)\/branches\/(.+)\/rename$/)) && method === 'POST') {
      const t = this.requireToken(auth);
      const r = this.repo(m[1], m[2]);
      if (!r || !this.canRead(t, r)) throw new HttpError(404, 'Not Found');
      const o = this.org(r.owner);
      if (!o || !this.isOrgAdmin(t, o)) throw new HttpError(403, 'Resource not accessible by personal access token');
      const from = m[3];
      const to = (body as { new_name?: unknown } | undefined)?.new_name;
      if (typeof to !== 'string' || to === '') throw new HttpError(422, 'Invalid request.\n\n"new_name" wasn\'t supplied.');
      const has = (await git(['--git-dir', r.dir, 'for-each-ref', `refs/heads/${from}`])).trim() !== '';
      if (!has) throw new HttpError(404, 'Branch not found');
      await git(['--git-dir', r.dir, 'branch', '-m', from, to]);
      if (r.defaultBranch === from) {
        r.defaultBranch = to;
        await git(['--git-dir', r.dir, 'symbolic-ref', 'HEAD', `refs/heads/${to}`]);
      }
      return sendJSON(res, 201, { name: to, protected: false });
    }

    throw new HttpError(404, 'Not Found');
  }

  private async createRepo(o: GhOrg, body: unknown): Promise<GhRepo> {
    const b = (body ?? {}) as Record<string, unknown>;
    if (typeof b.name !== 'string' || b.name === '') throw new HttpError(422, 'Repository creation failed.', { errors: [{ resource: 'Repository', code: 'missing_field', field: 'name' }] });
    if (!/^[A-Za-z0-9_.-]+$/.test(b.name) || b.name.length > 100) {
      throw new HttpError(422, 'Repository creation failed.', { errors: [{ resource: 'Repository', code: 'custom', field: 'name', message: 'name is invalid' }] });
    }
    const key = `${o.login}/${b.name}`.toLowerCase();
    if (this.repos.has(key)) {
      throw new HttpError(422, 'Repository creation failed.', { errors: [{ resource: 'Repository', code: 'custom', field: 'name', message: 'name already exists on this account' }] });
    }
    const vis = typeof b.visibility === 'string' ? b.visibility : b.private === true ? 'private' : 'public';
    if (!['public', 'private', 'internal'].includes(vis)) {
      throw new HttpError(422, 'Validation Failed', { errors: [{ resource: 'Repository', code: 'invalid', field: 'visibility' }] });
    }
    const dir = join(this.reposRoot, o.login.toLowerCase(), `${b.name.toLowerCase()}.git`);
    await mkdir(join(this.reposRoot, o.login.toLowerCase()), { recursive: true });
    const branch = this.newRepoBranch;
    await git(['init', '-q', '--bare', `--initial-branch=${branch}`, dir]);
    const r: GhRepo = {
      id: this.nextId++,
      owner: o.login,
      name: b.name,
      description: typeof b.description === 'string' ? b.description : '',
      visibility: vis as GhRepo['visibility'],
      defaultBranch: branch,
      allowSquashMerge: b.allow_squash_merge !== false,
      allowMergeCommit: b.allow_merge_commit !== false,
      allowRebaseMerge: b.allow_rebase_merge !== false,
      autoInit: b.auto_init === true,
      dir,
    };
    if (r.autoInit) {
      const readme = `# ${r.name}\n${r.description ? `${r.description}\n` : ''}`;
      const blob = (await git(['--git-dir', dir, 'hash-object', '-w', '--stdin'], readme)).trim();
      const tree = (await git(['--git-dir', dir, 'mktree'], `100644 blob ${blob}\tREADME.md\n`)).trim();
      const commit = (await git(['--git-dir', dir, 'commit-tree', tree, '-m', 'Initial commit'])).trim();
      await git(['--git-dir', dir, 'update-ref', `refs/heads/${branch}`, commit]);
    }
    this.repos.set(key, r);
    return r;
  }

  private orgJSON(o: GhOrg): Record<string, unknown> {
    return {
      login: o.login,
      id: o.id,
      node_id: `O_${o.id}`,
      url: `${this.apiURL}/orgs/${o.login}`,
      repos_url: `${this.apiURL}/orgs/${o.login}/repos`,
      html_url: `${this.webURL}/${o.login}`,
      description: o.description,
      type: 'Organization',
    };
  }

  private teamJSON(o: GhOrg, t: GhTeam): Record<string, unknown> {
    return {
      id: t.id,
      node_id: `T_${t.id}`,
      name: t.name,
      slug: t.slug,
      description: t.description,
      privacy: t.privacy,
      permission: 'pull',
      url: `${this.apiURL}/orgs/${o.login}/teams/${t.slug}`,
      html_url: `${this.webURL}/orgs/${o.login}/teams/${t.slug}`,
      organization: { login: o.login, id: o.id },
    };
  }

  private repoJSON(r: GhRepo): Record<string, unknown> {
    return {
      id: r.id,
      node_id: `R_${r.id}`,
      name: r.name,
      full_name: `${r.owner}/${r.name}`,
      private: r.visibility !== 'public',
      visibility: r.visibility,
      owner: { login: r.owner, type: 'Organization' },
      description: r.description,
      html_url: `${this.webURL}/${r.owner}/${r.name}`,
      clone_url: `${this.webURL}/${r.owner}/${r.name}.git`,
      git_url: `git://127.0.0.1/${r.owner}/${r.name}.git`,
      ssh_url: `git@127.0.0.1:${r.owner}/${r.name}.git`,
      default_branch: r.defaultBranch,
      allow_squash_merge: r.allowSquashMerge,
      allow_merge_commit: r.allowMergeCommit,
      allow_rebase_merge: r.allowRebaseMerge,
    };
  }

  // --- git smart HTTP ---------------------------------------------------------------------------------

  private async serveGit(req: IncomingMessage, res: ServerResponse, method: string, path: string, query: string, body: Buffer, auth: Auth): Promise<void> {
    const m = path.match(/^\/([^/]+)\/([^/]+?)\.git(\/(?:info\/refs|git-upload-pack|git-receive-pack))$/);
    const challenge = (): void => void res.writeHead(401, { 'www-authenticate': 'Basic realm="GitHub"', 'content-type': 'text/plain' }).end('Invalid username or token.\n');
    if (!m) return void res.writeHead(404, { 'content-type': 'text/plain' }).end('Not Found\n');
    if (auth.kind === 'invalid') return challenge();
    const token = auth.kind === 'token' ? auth.token : undefined;
    const r = this.repo(m[1], m[2]);
    if (!r || !this.canRead(token, r)) {
      if (!token) return challenge();
      return void res.writeHead(404, { 'content-type': 'text/plain' }).end('Repository not found.\n');
    }
    const isPush = m[3] === '/git-receive-pack' || /(^|&)service=git-receive-pack(&|$)/.test(query);
    if (isPush) {
      if (!token) return challenge();
      const o = this.org(r.owner);
      if (!o || !this.isOrgAdmin(token, o)) return void res.writeHead(403, { 'content-type': 'text/plain' }).end(`Permission to ${r.owner}/${r.name}.git denied.\n`);
    }
    if (method === 'POST' && m[3] === '/git-receive-pack' && this.beforeReceivePack) await this.beforeReceivePack(r);
    await gitHttpBackend(req, res, {
      projectRoot: this.reposRoot,
      pathInfo: `/${r.owner.toLowerCase()}/${r.name.toLowerCase()}.git${m[3]}`,
      method,
      query,
      body,
      home: this.root,
      remoteUser: isPush ? (token?.login ?? 'x-access-token') : undefined,
    });
  }
}

/** GitHub's team slug (Rails `parameterize`). */
export function slugify(name: string): string {
  return name
    .toLowerCase()
    .replace(/[^a-z0-9_-]+/g, '-')
    .replace(/-{2,}/g, '-')
    .replace(/^-+|-+$/g, '');
}

function isoSeconds(s: number): string {
  return new Date(s * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

