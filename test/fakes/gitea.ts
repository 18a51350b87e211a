/**
 * A fake Gitea on 127.0.0.1 for tests. It follows Gitea's API v1 for the endpoints our jobs use (paths,
 * status codes, JSON field names, error `message`s), keeps users/orgs/repos/tokens in memory, enforces
 * token scopes like Gitea (`all`, or `read:`/`write:` per category; write implies read), and serves real
 * git smart-HTTP for created repositories by running `git http-backend` as a CGI over bare repositories
 * in a temp dir.
 *
 *  - Token endpoints (`/api/v1/users/{u}/tokens`) need Basic auth with the password; a token → 401.
 *  - Elsewhere `Authorization: token <t>` (or `bearer`), Basic user:password, or Basic with a token as
 *    password (its username must be the token's owner) / as username (password empty or `x-oauth-basic`).
 *  - `fail()` injects answers (401/403/429/500…) for matching requests.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { git as fakeGit, gitHttpBackend, listen, readBody, sendJSON as sendAny, shutdown } from './http.js';


export interface FakeUser {
  id: number;
  login: string;
  password: string;
  isAdmin: boolean;
  email: string;
}

export interface FakeToken {
  id: number;
  name: string;
  sha1: string;
  scopes: string[];
  uid: number;
}

export interface FakeOrg {
  id: number;
  name: string;
  description: string;
  visibility: string;
  ownerIds: Set<number>;
}

export interface FakeRepo {
  id: number;
  owner: string;
  ownerId: number;
  name: string;
  description: string;
  private: boolean;
  defaultBranch: string;
  dir: string;
}

export interface RecordedRequest {
  method: string;
  path: string;
  query: string;
  auth: 'none' | 'basic' | 'token' | 'invalid';
  user?: string;
  body?: unknown;
}

export interface Failure {
  method?: string;
  /** Matched against the path below the prefix, without query (e.g. `/api/v1/orgs`). */
  path: string | RegExp;
  status: number;
  message?: string;
  /** How many requests get this answer (default: all). */
  times?: number;
  headers?: Record<string, string>;
  /** A plain-text body instead of Gitea's JSON `{message, url}` (what git shows as `remote: …`). */
  text?: string;
}

export interface FakeGiteaOptions {
  adminUsername?: string;
  adminPassword?: string;
  /** Serve under a sub-path, like Gitea behind path routing (`/gitea`). */
  prefix?: string;
  /** Gitea's ROOT_URL, used for `html_url`/`clone_url` (default: this server's URL). Ends with `/`. */
  rootURL?: string;
  version?: string;
}

type Auth = { kind: 'none' } | { kind: 'invalid'; message: string } | { kind: 'basic'; user: FakeUser } | { kind: 'token'; user: FakeUser; token: FakeToken };

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

const NOT_FOUND = "The target couldn't be found.";
const SCOPE_CATEGORIES = ['activitypub', 'admin', 'misc', 'notification', 'organization', 'package', 'issue', 'repository', 'user'];

export class FakeGitea {
  readonly adminUsername: string;
  readonly adminPassword: string;
  readonly prefix: string;
  readonly version: string;
  readonly requests: RecordedRequest[] = [];
  /** Number of upcoming `/api/healthz` probes answered 424 `{"status":"fail"}`. */
  healthFailures = 0;
  /**
   * Runs before `git http-backend` serves a push (`POST …/git-receive-pack`), after the client read the
   * refs: another pusher acting here makes the push race like two concurrent pushes do.
   */
  beforeReceivePack?: (repo: FakeRepo) => Promise<void>;
  /** Fields of `PATCH /repos/{owner}/{repo}` answered 200 but not applied (a server that keeps its setting). */
  readonly ignoredEdits = new Set<'private' | 'default_branch'>();

  private server?: Server;
  private port = 0;
  private root = '';
  private nextId = 1;
  private readonly users = new Map<string, FakeUser>();
  private readonly tokens: FakeToken[] = [];
  private readonly orgs = new Map<string, FakeOrg>();
  private readonly repos = new Map<string, FakeRepo>();
  private readonly failures: Failure[] = [];
  private readonly rootURLOverride?: string;

  constructor(opts: FakeGiteaOptions = {}) {
    this.adminUsername = opts.adminUsername ?? 'giteaAdmin';
    this.adminPassword = opts.adminPassword ?? 'admin-password-Secr3t';
    this.prefix = (opts.prefix ?? '').replace(/\/+$/, '');
    this.version = opts.version ?? '1.24.3';
    this.rootURLOverride = opts.rootURL;
    this.addUser(this.adminUsername, this.adminPassword, { admin: true });
  }

  async start(): Promise<void> {
    const l = await listen('fake-gitea', (req, res) => this.handle(req, res), (message) => ({ message }));
    this.server = l.server;
    this.root = l.root;
    this.port = l.port;
  }

  async stop(): Promise<void> {
    await shutdown(this.server, this.root);
    this.server = undefined;
  }

  /** The API base URL (including the prefix), what the jobs get as `endpoint`/`apiEndpoint`. */
  get baseURL(): string {
    return `http://127.0.0.1:${this.port}${this.prefix}`;
  }

  get rootURL(): string {
    return this.rootURLOverride ?? `${this.baseURL}/`;
  }

  get reposRoot(): string {
    return join(this.root, 'repos');
  }

  addUser(login: string, password: string, opts: { admin?: boolean } = {}): FakeUser {
    const u: FakeUser = { id: this.nextId++, login, password, isAdmin: opts.admin ?? false, email: `${login.toLowerCase()}@local.domain` };
    this.users.set(login.toLowerCase(), u);
    return u;
  }

  /** Creates a token directly (as if made earlier); returns its secret. */
  addToken(login: string, name: string, scopes: string[] = ['all']): string {
    const u = this.users.get(login.toLowerCase());
    if (!u) throw new Error(`no user ${login}`);
    const t: FakeToken = { id: this.nextId++, name, sha1: randomBytes(20).toString('hex'), scopes, uid: u.id };
    this.tokens.push(t);
    return t.sha1;
  }

  addOrg(name: string, opts: { description?: string; owner?: string } = {}): FakeOrg {
    const owner = this.users.get((opts.owner ?? this.adminUsername).toLowerCase())!;
    const o: FakeOrg = { id: this.nextId++, name, description: opts.description ?? '', visibility: 'public', ownerIds: new Set([owner.id]) };
    this.orgs.set(name.toLowerCase(), o);
    return o;
  }

  tokensOf(login: string): FakeToken[] {
    const u = this.users.get(login.toLowerCase());
    return u ? this.tokens.filter((t) => t.uid === u.id) : [];
  }

  org(name: string): FakeOrg | undefined {
    return this.orgs.get(name.toLowerCase());
  }

  repo(owner: string, name: string): FakeRepo | undefined {
    return this.repos.get(`${owner}/${name}`.toLowerCase());
  }

  /** Answer matching requests with `status` and Gitea's error body `{message, url}`. */
  fail(f: Failure): void {
    this.failures.push({ ...f });
  }

  clearFailures(): void {
    this.failures.length = 0;
  }

  // ---------------------------------------------------------------------------------------------------

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x');
    const method = req.method ?? 'GET';
    let path = decodeURIComponent(url.pathname);
    if (this.prefix) {
      if (path !== this.prefix && !path.startsWith(`${this.prefix}/`)) return sendJSON(res, 404, { message: '404 page not found' });
      path = path.slice(this.prefix.length) || '/';
    }
    const body = await readBody(req);
    const auth = this.authenticate(req.headers.authorization);
    const rec: RecordedRequest = {
      method,
      path,
      query: url.search.replace(/^\?/, ''),
      auth: auth.kind,
      ...(auth.kind === 'basic' || auth.kind === 'token' ? { user: auth.user.login } : {}),
    };
    this.requests.push(rec);

    const injected = this.takeFailure(method, path);
    if (injected) {
      for (const [k, v] of Object.entries(injected.headers ?? {})) res.setHeader(k, v);
      if (injected.text !== undefined) return void res.writeHead(injected.status, { 'content-type': 'text/plain; charset=utf-8' }).end(injected.text);
      return sendJSON(res, injected.status, { message: injected.message ?? '', url: `${this.rootURL}api/swagger` });
    }

    if (!path.startsWith('/api/')) return this.serveGit(req, res, method, path, url.search.replace(/^\?/, ''), body, auth);

    let json: unknown;
    if (body.length > 0) {
      try {
        json = JSON.parse(body.toString('utf8'));
      } catch {
        return this.apiError(res, 422, 'invalid JSON body');
      }
      rec.body = redactBody(json);
    }
    try {
      await this.api(res, method, path, json, auth);
    } catch (e) {
      if (e instanceof HttpError) return this.apiError(res, e.status, e.message, e.extra);
      throw e;
    }
  }

  private takeFailure(method: string, path: string): Failure | undefined {
    const f = this.failures.find(
      (x) => (!x.method || x.method === method) && (typeof x.path === 'string' ? x.path === path : x.path.test(path)) && (x.times ?? 1) > 0,
    );
    if (!f) return undefined;
    if (f.times !== undefined) f.times--;
    return f;
  }

  private apiError(res: ServerResponse, status: number, message: string, extra: Record<string, unknown> = {}): void {
    sendJSON(res, status, { ...extra, message, url: `${this.rootURL}api/swagger` });
  }

  private authenticate(header: string | undefined): Auth {
    if (!header) return { kind: 'none' };
    const [scheme, rest = ''] = header.split(' ', 2);
    const s = scheme.toLowerCase();
    if (s === 'token' || s === 'bearer') {
      const t = this.tokens.find((x) => x.sha1 === rest.trim());
      const user = t && [...this.users.values()].find((u) => u.id === t.uid);
      return t && user ? { kind: 'token', user, token: t } : { kind: 'invalid', message: 'invalid username, password or token' };
    }
    if (s === 'basic') {
      const decoded = Buffer.from(rest.trim(), 'base64').toString('utf8');
      const i = decoded.indexOf(':');
      const uname = i < 0 ? decoded : decoded.slice(0, i);
      const passwd = i < 0 ? '' : decoded.slice(i + 1);
      const usernameIsToken = passwd === '' || passwd === 'x-oauth-basic';
      const tokenCandidate = usernameIsToken ? uname : passwd;
      const t = this.tokens.find((x) => x.sha1 === tokenCandidate);
      if (t) {
        const user = [...this.users.values()].find((u) => u.id === t.uid)!;
        if (!usernameIsToken && user.login.toLowerCase() !== uname.toLowerCase()) return { kind: 'invalid', message: 'invalid username, password or token' };
        return { kind: 'token', user, token: t };
      }
      const user = this.users.get(uname.toLowerCase());
      if (!user) return { kind: 'invalid', message: `user does not exist [uid: 0, name: ${uname}]` };
      if (user.password !== passwd) return { kind: 'invalid', message: `user's password is invalid [uid: ${user.id}, name: ${user.login}]` };
      return { kind: 'basic', user };
    }
    return { kind: 'none' };
  }

  /** Gitea's tokenRequiresScopes: every category at read (GET/HEAD) or write level. */
  private requireScopes(auth: Auth, method: string, ...categories: string[]): void {
    if (auth.kind !== 'token') return;
    const level = method === 'GET' || method === 'HEAD' ? 'read' : 'write';
    const scopes = auth.token.scopes;
    if (scopes.includes('all')) return;
    const missing = categories.filter((c) => !scopes.includes(`write:${c}`) && !(level === 'read' && scopes.includes(`read:${c}`)));
    if (missing.length > 0) {
      throw new HttpError(403, `token does not have at least one of required scope(s), required=[${missing.map((c) => `${level}:${c}`).join(' ')}], token scope=${scopes.join(',')}`);
    }
  }

  private signedIn(auth: Auth): FakeUser {
    if (auth.kind === 'invalid') throw new HttpError(401, auth.message);
    if (auth.kind === 'none') throw new HttpError(401, 'token is required');
    return auth.user;
  }

  private async api(res: ServerResponse, method: string, path: string, body: unknown, auth: Auth): Promise<void> {
    if (path === '/api/healthz' && method === 'GET') {
      if (this.healthFailures > 0) {
        this.healthFailures--;
        return sendJSON(res, 424, { status: 'fail', description: 'Gitea: Git with a cup of tea', checks: { 'database:ping': [{ status: 'fail' }] } }, 'application/health+json');
      }
      return sendJSON(res, 200, { status: 'pass', description: 'Gitea: Git with a cup of tea', checks: { 'cache:ping': [{ status: 'pass' }], 'database:ping': [{ status: 'pass' }] } }, 'application/health+json');
    }
    if (!path.startsWith('/api/v1/')) throw new HttpError(404, NOT_FOUND);
    // apiAuth: a failed authentication attempt is a 401 on every API route, public ones included.
    if (auth.kind === 'invalid') throw new HttpError(401, auth.message);
    const p = path.slice('/api/v1'.length);
    let m: RegExpMatchArray | null;

    if (p === '/version' && method === 'GET') return sendJSON(res, 200, { version: this.version });

    if (p === '/user' && method === 'GET') {
      const me = this.signedIn(auth);
      this.requireScopes(auth, method, 'user');
      return sendJSON(res, 200, this.userJSON(me));
    }

    if ((m = p.match(/^\/users\/([^/]+)\/tokens(?:\/([^/]+))?$/))) {
      this.requireScopes(auth, method, 'user');
      const target = this.users.get(m[1].toLowerCase());
      if (!target) throw new HttpError(404, NOT_FOUND, { errors: [`user redirect does not exist [name: ${m[1].toLowerCase()}]`] });
      if (auth.kind !== 'basic') throw new HttpError(401, 'auth required');
      if (auth.user.id !== target.id && !auth.user.isAdmin) throw new HttpError(403, 'doer should be the site admin or be same as the contextUser');
      const id = m[2];
      if (id === undefined && method === 'GET') {
        return sendJSON(
          res,
          200,
          this.tokensOf(target.login).map((t) => ({ id: t.id, name: t.name, sha1: '', token_last_eight: t.sha1.slice(-8), scopes: t.scopes })),
        );
      }
      if (id === undefined && method === 'POST') {
        const b = (body ?? {}) as { name?: unknown; scopes?: unknown };
        if (typeof b.name !== 'string' || b.name === '') throw new HttpError(422, '[Name]: Required');
        if (this.tokensOf(target.login).some((t) => t.name === b.name)) throw new HttpError(400, 'access token name has been used already');
        const scopes = Array.isArray(b.scopes) ? b.scopes.map(String) : [];
        for (const s of scopes) {
          const ok = s === 'all' || s === 'public-only' || SCOPE_CATEGORIES.some((c) => s === `read:${c}` || s === `write:${c}`);
          if (!ok) throw new HttpError(400, `invalid access token scope provided: invalid access token scope: ${s}`);
        }
        const t: FakeToken = { id: this.nextId++, name: b.name, sha1: randomBytes(20).toString('hex'), scopes, uid: target.id };
        this.tokens.push(t);
        return sendJSON(res, 201, { id: t.id, name: t.name, sha1: t.sha1, token_last_eight: t.sha1.slice(-8), scopes: t.scopes });
      }
      if (id !== undefined && method === 'DELETE') {
        const n = Number(id);
        const mine = this.tokensOf(target.login);
        const matches = Number.isInteger(n) && n > 0 ? mine.filter((t) => t.id === n) : mine.filter((t) => t.name === id);
        if (matches.length === 0) throw new HttpError(404, NOT_FOUND);
        this.tokens.splice(this.tokens.indexOf(matches[0]), 1);
        res.writeHead(204).end();
        return;
      }
      throw new HttpError(405, 'method not allowed');
    }

    if (p === '/orgs' && method === 'POST') {
      const me = this.signedIn(auth);
      this.requireScopes(auth, method, 'organization');
      const b = (body ?? {}) as { username?: unknown; description?: unknown; visibility?: unknown };
      if (typeof b.username !== 'string' || b.username === '') throw new HttpError(422, '[UserName]: Required');
      if (!/^[A-Za-z0-9_.-]+$/.test(b.username) || b.username.length > 40) throw new HttpError(422, `[UserName]: invalid username`);
      if (this.orgs.has(b.username.toLowerCase()) || this.users.has(b.username.toLowerCase())) {
        throw new HttpError(422, `user already exists [name: ${b.username}]`);
      }
      const vis = typeof b.visibility === 'string' ? b.visibility : 'public';
      if (!['public', 'limited', 'private'].includes(vis)) throw new HttpError(422, '[Visibility]: In');
      const o = this.addOrg(b.username, { description: typeof b.description === 'string' ? b.description : '', owner: me.login });
      o.visibility = vis;
      return sendJSON(res, 201, this.orgJSON(o));
    }

    if ((m = p.match(/^\/orgs\/([^/]+)$/)) && method === 'GET') {
      this.requireScopes(auth, method, 'organization');
      const o = this.orgs.get(m[1].toLowerCase());
      if (!o) throw new HttpError(404, NOT_FOUND, { errors: [`org does not exist [id: 0, name: ${m[1]}]`] });
      return sendJSON(res, 200, this.orgJSON(o));
    }

    if ((m = p.match(/^\/orgs\/([^/]+)\/repos$/)) && method === 'POST') {
      const me = this.signedIn(auth);
      this.requireScopes(auth, method, 'organization', 'repository');
      const o = this.orgs.get(m[1].toLowerCase());
      if (!o) throw new HttpError(404, NOT_FOUND);
      if (!me.isAdmin && !o.ownerIds.has(me.id)) throw new HttpError(403, 'Given user is not allowed to create repository in organization.');
      {
        const r = await this.createRepo(o.name, o.id, body);
        return sendJSON(res, 201, this.repoJSON(r, await this.isEmpty(r)));
      }
    }

    if (p === '/user/repos' && method === 'POST') {
      const me = this.signedIn(auth);
      this.requireScopes(auth, method, 'user', 'repository');
      {
        const r = await this.createRepo(me.login, me.id, body);
        return sendJSON(res, 201, this.repoJSON(r, await this.isEmpty(r)));
      }
    }

    if ((m = p.match(/^\/admin\/users\/([^/]+)\/repos$/)) && method === 'POST') {
      const me = this.signedIn(auth);
      this.requireScopes(auth, method, 'admin');
      if (!me.isAdmin) throw new HttpError(403, 'user should be the site admin');
      const u = this.users.get(m[1].toLowerCase());
      if (!u) throw new HttpError(404, NOT_FOUND);
      {
        const r = await this.createRepo(u.login, u.id, body);
        return sendJSON(res, 201, this.repoJSON(r, await this.isEmpty(r)));
      }
    }

    if ((m = p.match(/^\/users\/([^/]+)$/)) && method === 'GET') {
      this.requireScopes(auth, method, 'user');
      const u = this.users.get(m[1].toLowerCase());
      if (!u) throw new HttpError(404, NOT_FOUND, { errors: [`user redirect does not exist [name: ${m[1].toLowerCase()}]`] });
      return sendJSON(res, 200, this.userJSON(u));
    }

    if ((m = p.match(/^\/repos\/([^/]+)\/([^/]+)$/)) && method === 'PATCH') {
      // Gitea's EditRepo: repository admins only; default_branch applies only when the branch exists (or the
      // repository is empty) and is otherwise ignored without an error.
      const me = this.signedIn(auth);
      this.requireScopes(auth, method, 'repository');
      const r = this.repos.get(`${m[1]}/${m[2]}`.toLowerCase());
      if (!r || !this.canRead(r, auth)) throw new HttpError(404, NOT_FOUND);
      if (!this.canWrite(r, me)) throw new HttpError(403, 'Token does not have required permission');
      const b = (body ?? {}) as { private?: unknown; description?: unknown; default_branch?: unknown };
      if (typeof b.description === 'string') r.description = b.description;
      if (typeof b.private === 'boolean' && !this.ignoredEdits.has('private')) r.private = b.private;
      if (typeof b.default_branch === 'string' && b.default_branch !== r.defaultBranch && !this.ignoredEdits.has('default_branch')) {
        const exists = (await git(['--git-dir', r.dir, 'for-each-ref', `refs/heads/${b.default_branch}`])).trim() !== '';
        if (exists || (await this.isEmpty(r))) {
          r.defaultBranch = b.default_branch;
          await git(['--git-dir', r.dir, 'symbolic-ref', 'HEAD', `refs/heads/${b.default_branch}`]);
        }
      }
      return sendJSON(res, 200, this.repoJSON(r, await this.isEmpty(r)));
    }

    if ((m = p.match(/^\/repos\/([^/]+)\/([^/]+)$/)) && method === 'GET') {
      this.requireScopes(auth, method, 'repository');
      const r = this.repos.get(`${m[1]}/${m[2]}`.toLowerCase());
      if (!r || !this.canRead(r, auth)) throw new HttpError(404, NOT_FOUND);
      return sendJSON(res, 200, this.repoJSON(r, await this.isEmpty(r)));
    }

    throw new HttpError(404, NOT_FOUND);
  }

  private canRead(r: FakeRepo, auth: Auth): boolean {
    if (!r.private) return true;
    return auth.kind === 'basic' || auth.kind === 'token' ? this.canWrite(r, auth.user) : false;
  }

  private canWrite(r: FakeRepo, u: FakeUser): boolean {
    if (u.isAdmin || u.id === r.ownerId) return true;
    const o = this.orgs.get(r.owner.toLowerCase());
    return !!o && o.ownerIds.has(u.id);
  }

  private async createRepo(owner: string, ownerId: number, body: unknown): Promise<FakeRepo> {
    const b = (body ?? {}) as { name?: unknown; description?: unknown; private?: unknown; auto_init?: unknown; default_branch?: unknown; readme?: unknown };
    if (typeof b.name !== 'string' || b.name === '') throw new HttpError(422, '[Name]: Required');
    if (!/^[A-Za-z0-9_.-]+$/.test(b.name) || b.name.length > 100) throw new HttpError(422, '[Name]: AlphaDashDot');
    if (b.name === '.' || b.name === '..' || b.name.toLowerCase().endsWith('.git')) {
      throw new HttpError(422, `name is reserved [name: ${b.name}]`);
    }
    const key = `${owner}/${b.name}`.toLowerCase();
    if (this.repos.has(key)) throw new HttpError(409, 'The repository with the same name already exists.');
    const branch = typeof b.default_branch === 'string' && b.default_branch !== '' ? b.default_branch : 'main';
    const dir = join(this.reposRoot, owner.toLowerCase(), `${b.name.toLowerCase()}.git`);
    await mkdir(join(this.reposRoot, owner.toLowerCase()), { recursive: true });
    await git(['init', '-q', '--bare', `--initial-branch=${branch}`, dir]);
    const r: FakeRepo = {
      id: this.nextId++,
      owner,
      ownerId,
      name: b.name,
      description: typeof b.description === 'string' ? b.description : '',
      private: b.private === true,
      defaultBranch: branch,
      dir,
    };
    if (b.auto_init === true) {
      const readme = `# ${r.name}\n\n${r.description}\n`;
      const blob = (await git(['--git-dir', dir, 'hash-object', '-w', '--stdin'], readme)).trim();
      const tree = (await git(['--git-dir', dir, 'mktree'], `100644 blob ${blob}\tREADME.md\n`)).trim();
      const commit = (await git(['--git-dir', dir, 'commit-tree', tree, '-m', 'Initial commit'])).trim();
      await git(['--git-dir', dir, 'update-ref', `refs/heads/${branch}`, commit]);
    }
    this.repos.set(key, r);
    return r;
  }

  private async isEmpty(r: FakeRepo): Promise<boolean> {
    const out = await git(['--git-dir', r.dir, 'for-each-ref', '--count=1', 'refs/heads']);
    return out.trim() === '';
  }

  private userJSON(u: FakeUser): Record<string, unknown> {
    return { id: u.id, login: u.login, username: u.login, full_name: '', email: u.email, is_admin: u.isAdmin };
  }

  private orgJSON(o: FakeOrg): Record<string, unknown> {
    return { id: o.id, name: o.name, username: o.name, full_name: '', description: o.description, visibility: o.visibility };
  }

  private repoJSON(r: FakeRepo, empty = true): Record<string, unknown> {
    const owner = this.users.get(r.owner.toLowerCase()) ?? this.orgs.get(r.owner.toLowerCase());
    return {
      id: r.id,
      owner: { id: owner?.id ?? 0, login: r.owner, username: r.owner },
      name: r.name,
      full_name: `${r.owner}/${r.name}`,
      description: r.description,
      empty,
      private: r.private,
      default_branch: r.defaultBranch,
      html_url: `${this.rootURL}${r.owner}/${r.name}`,
      clone_url: `${this.rootURL}${r.owner}/${r.name}.git`,
      ssh_url: `git@127.0.0.1:${r.owner}/${r.name}.git`,
    };
  }

  // --- git smart HTTP ---------------------------------------------------------------------------------

  private async serveGit(
    req: IncomingMessage,
    res: ServerResponse,
    method: string,
    path: string,
    query: string,
    body: Buffer,
    auth: Auth,
  ): Promise<void> {
    const m = path.match(/^\/([^/]+)\/([^/]+?)(?:\.git)?(\/(?:info\/refs|git-upload-pack|git-receive-pack|HEAD|objects\/.+))$/);
    if (!m) return void res.writeHead(404, { 'content-type': 'text/plain' }).end('Not found.\n');
    const r = this.repos.get(`${m[1]}/${m[2]}`.toLowerCase());
    const challenge = (): void => void res.writeHead(401, { 'www-authenticate': 'Basic realm="Gitea"', 'content-type': 'text/plain' }).end('Unauthorized\n');
    if (!r) {
      // Gitea asks anonymous clients to authenticate before telling whether a repository exists.
      if (auth.kind === 'none') return challenge();
      return void res.writeHead(404, { 'content-type': 'text/plain' }).end('Repository not found\n');
    }
    const isPush = m[3] === '/git-receive-pack' || /(^|&)service=git-receive-pack(&|$)/.test(query);
    if (auth.kind === 'invalid') return challenge();
    if (isPush || r.private) {
      if (auth.kind === 'none') return challenge();
      if (!this.canWrite(r, auth.user)) return void res.writeHead(403, { 'content-type': 'text/plain' }).end('User permission denied\n');
    }
    if (auth.kind === 'token') {
      try {
        this.requireScopes(auth, isPush ? 'POST' : 'GET', 'repository');
      } catch (e) {
        return void res.writeHead(403, { 'content-type': 'text/plain' }).end(`${(e as Error).message}\n`);
      }
    }
    if (method === 'POST' && m[3] === '/git-receive-pack' && this.beforeReceivePack) await this.beforeReceivePack(r);
    await gitHttpBackend(req, res, {
      projectRoot: this.reposRoot,
      pathInfo: `/${r.owner.toLowerCase()}/${r.name.toLowerCase()}.git${m[3]}`,
      method,
      query,
      body,
      home: this.root,
      remoteUser: isPush && (auth.kind === 'basic' || auth.kind === 'token') ? auth.user.login : undefined,
    });
  }
}

/** git as Gitea commits (auto-init). */
function git(args: string[], input?: string): Promise<string> {
  return fakeGit(args, input, { name: 'Gitea', email: 'gitea@local.domain' });
}

/** JSON as Gitea sends it (its content type has no space before charset). */
function sendJSON(res: ServerResponse, status: number, body: unknown, contentType = 'application/json;charset=utf-8'): void {
  sendAny(res, status, body, contentType);
}

function redactBody(body: unknown): unknown {
  if (body && typeof body === 'object' && !Array.isArray(body)) {
    const copy: Record<string, unknown> = { ...(body as Record<string, unknown>) };
    for (const k of ['password', 'token', 'sha1']) if (k in copy) copy[k] = '***';
    return copy;
  }
  return body;
}
