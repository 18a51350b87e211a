/**
 * A fake GitLab on 127.0.0.1 for tests. It follows REST API v4 for the endpoints our jobs use (paths under
 * `/api/v4`, ids that are numbers or URL-encoded full paths, status codes, `{"message": …}` error bodies
 * in their string and field-map forms, OAuth-style `insufficient_scope`), keeps users, tokens, groups and
 * projects in memory with member access levels and token scopes, and serves real git smart-HTTP for
 * created projects with `git http-backend`.
 *
 *  - API auth: `PRIVATE-TOKEN: <t>` or `Authorization: Bearer <t>`; an unknown token is a 401 everywhere.
 *  - Scopes: `api` reads and writes, `read_api` only reads (a write is 403 insufficient_scope);
 *    git needs `api`/`write_repository` to push.
 *  - Access levels: creating a subgroup or a project needs Maintainer (40) on the group; private groups and
 *    projects are invisible (404) to non-members.
 *  - git: Basic auth with the token as password (any username, e.g. `oauth2`).
 *  - `fail()` injects answers (401/403/404/422/429/500…), with a JSON `message` or a plain-text body.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { git, gitHttpBackend, listen, readBody, sendJSON, shutdown } from './http.js';

type Visibility = 'private' | 'internal' | 'public';
const RANK: Record<Visibility, number> = { private: 0, internal: 10, public: 20 };

export const GUEST = 10;
export const REPORTER = 20;
export const DEVELOPER = 30;
export const MAINTAINER = 40;
export const OWNER = 50;

export interface GlUser {
  id: number;
  username: string;
  isAdmin: boolean;
}

export interface GlToken {
  token: string;
  userId: number;
  scopes: string[];
}

export interface GlGroup {
  id: number;
  name: string;
  path: string;
  fullPath: string;
  parentId: number | null;
  visibility: Visibility;
  description: string;
  members: Map<number, number>;
}

export interface GlProject {
  id: number;
  name: string;
  path: string;
  groupId: number;
  fullPath: string;
  visibility: Visibility;
  description: string;
  defaultBranch: string;
  buildsAccessLevel: string;
  initializedWithReadme: boolean;
  dir: string;
}

export interface GlRecordedRequest {
  method: string;
  /** Raw path below the prefix (ids stay encoded: `/groups/a%2Fb`). */
  path: string;
  query: string;
  auth: 'none' | 'token' | 'basic' | 'invalid';
  user?: string;
  header?: 'private-token' | 'bearer' | 'basic';
  body?: unknown;
}

export interface GlFailure {
  method?: string;
  /** Matched against the raw path below `/api/v4`, without query (ids encoded: `/groups/a%2Fb`). */
  path: string | RegExp;
  status: number;
  /** JSON `{"message": …}` (default) … */
  message?: unknown;
  /** … or this plain-text body (e.g. Rack::Attack's `Retry later`). */
  text?: string;
  headers?: Record<string, string>;
  times?: number;
}

type Auth = { kind: 'none' } | { kind: 'invalid' } | { kind: 'token'; user: GlUser; token: GlToken; via: 'private-token' | 'bearer' | 'basic' };

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: Record<string, unknown>,
  ) {
    super(typeof body.message === 'string' ? body.message : JSON.stringify(body));
  }
}

const msg = (status: number, message: unknown) => new HttpError(status, { message });

export class FakeGitLab {
  readonly requests: GlRecordedRequest[] = [];
  /** Runs before `git http-backend` serves a push, after the client read the refs (a concurrent pusher acts here). */
  beforeReceivePack?: (project: GlProject) => Promise<void>;
  /** Fields of `PUT /projects/:id` answered 200 but not applied. */
  readonly ignoredEdits = new Set<'visibility' | 'default_branch'>();
  private server?: Server;
  private port = 0;
  private root = '';
  private nextId = 1;
  private readonly users = new Map<number, GlUser>();
  private readonly tokens: GlToken[] = [];
  private readonly groups = new Map<number, GlGroup>();
  private readonly projects = new Map<number, GlProject>();
  private readonly failures: GlFailure[] = [];

  async start(): Promise<void> {
    const l = await listen('fake-gitlab', (req, res) => this.handle(req, res), (detail) => ({ message: '500 Internal Server Error', detail }));
    this.server = l.server;
    this.root = l.root;
    this.port = l.port;
  }

  async stop(): Promise<void> {
    await shutdown(this.server, this.root);
    this.server = undefined;
  }

  /** The instance URL (what a GitLabProvider's `endpoint` would be). */
  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get apiURL(): string {
    return `${this.url}/api/v4`;
  }

  get reposRoot(): string {
    return join(this.root, 'repos');
  }

  addUser(username: string, opts: { admin?: boolean } = {}): GlUser {
    const u: GlUser = { id: this.nextId++, username, isAdmin: opts.admin ?? false };
    this.users.set(u.id, u);
    return u;
  }

  addToken(user: GlUser, scopes: string[] = ['api']): string {
    const t: GlToken = { token: `glpat-${randomBytes(12).toString('hex')}`, userId: user.id, scopes };
    this.tokens.push(t);
    return t.token;
  }

  /** A group (top-level, or below `parent`), with members `[user, accessLevel]`. */
  addGroup(path: string, opts: { parent?: GlGroup; visibility?: Visibility; members?: Array<[GlUser, number]>; name?: string } = {}): GlGroup {
    const g: GlGroup = {
      id: this.nextId++,
      name: opts.name ?? path,
      path,
      fullPath: opts.parent ? `${opts.parent.fullPath}/${path}` : path,
      parentId: opts.parent?.id ?? null,
      visibility: opts.visibility ?? 'private',
      description: '',
      members: new Map((opts.members ?? []).map(([u, l]) => [u.id, l])),
    };
    this.groups.set(g.id, g);
    return g;
  }

  group(fullPath: string): GlGroup | undefined {
    return [...this.groups.values()].find((g) => g.fullPath.toLowerCase() === fullPath.toLowerCase());
  }

  project(fullPath: string): GlProject | undefined {
    return [...this.projects.values()].find((p) => p.fullPath.toLowerCase() === fullPath.toLowerCase());
  }

  fail(f: GlFailure): void {
    this.failures.push({ ...f });
  }

  clearFailures(): void {
    this.failures.length = 0;
  }

  // ---------------------------------------------------------------------------------------------------

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x');
    const method = req.method ?? 'GET';
    const body = await readBody(req);
    const rawPath = url.pathname;
    const isAPI = rawPath === '/api/v4' || rawPath.startsWith('/api/v4/');
    const path = isAPI ? rawPath.slice('/api/v4'.length) || '/' : decodeURIComponent(rawPath);
    const auth = this.authenticate(req);
    const rec: GlRecordedRequest = {
      method,
      path,
      query: url.search.replace(/^\?/, ''),
      auth: auth.kind === 'token' ? (auth.via === 'basic' ? 'basic' : 'token') : auth.kind,
      ...(auth.kind === 'token' ? { user: auth.user.username, header: auth.via } : {}),
    };
    this.requests.push(rec);

    if (!isAPI) return this.serveGit(req, res, method, path, url.search.replace(/^\?/, ''), body, auth);

    const injected = this.takeFailure(method, path);
    if (injected) {
      for (const [k, v] of Object.entries(injected.headers ?? {})) res.setHeader(k, v);
      if (injected.text !== undefined) return void res.writeHead(injected.status, { 'content-type': 'text/plain' }).end(injected.text);
      return sendJSON(res, injected.status, { message: injected.message ?? `${injected.status}` });
    }
    let json: unknown;
    if (body.length > 0) {
      try {
        json = JSON.parse(body.toString('utf8'));
      } catch {
        return sendJSON(res, 400, { error: 'The provided content-type \'application/json\' is not supported.' });
      }
      rec.body = json;
    }
    try {
      if (auth.kind === 'invalid') throw msg(401, '401 Unauthorized');
      await this.api(res, method, path, json, auth);
    } catch (e) {
      if (e instanceof HttpError) return sendJSON(res, e.status, e.body);
      throw e;
    }
  }

  private takeFailure(method: string, path: string): GlFailure | undefined {
    const f = this.failures.find(
      (x) => (!x.method || x.method === method) && (typeof x.path === 'string' ? x.path === path : x.path.test(path)) && (x.times ?? 1) > 0,
    );
    if (!f) return undefined;
    if (f.times !== undefined) f.times--;
    return f;
  }

  private authenticate(req: IncomingMessage): Auth {
    const pt = req.headers['private-token'];
    const header = req.headers.authorization;
    let secret: string | undefined;
    let via: 'private-token' | 'bearer' | 'basic' = 'private-token';
    if (typeof pt === 'string') secret = pt;
    else if (header) {
      const [scheme, rest = ''] = header.split(' ', 2);
      if (scheme.toLowerCase() === 'bearer') {
        secret = rest.trim();
        via = 'bearer';
      } else if (scheme.toLowerCase() === 'basic') {
        const decoded = Buffer.from(rest.trim(), 'base64').toString('utf8');
        secret = decoded.slice(decoded.indexOf(':') + 1);
        via = 'basic';
      } else return { kind: 'invalid' };
    }
    if (secret === undefined) return { kind: 'none' };
    const t = this.tokens.find((x) => x.token === secret);
    const user = t && this.users.get(t.userId);
    return t && user ? { kind: 'token', user, token: t, via } : { kind: 'invalid' };
  }

  /** The access level of `user` in `g` (inherited from ancestors; admins are owners). */
  private level(user: GlUser | undefined, g: GlGroup): number {
    if (!user) return 0;
    if (user.isAdmin) return OWNER;
    let best = 0;
    for (let cur: GlGroup | undefined = g; cur; cur = cur.parentId === null ? undefined : this.groups.get(cur.parentId)) {
      best = Math.max(best, cur.members.get(user.id) ?? 0);
    }
    return best;
  }

  private canSee(user: GlUser | undefined, g: GlGroup, visibility = g.visibility): boolean {
    if (visibility === 'public') return true;
    if (visibility === 'internal') return !!user;
    return this.level(user, g) >= GUEST;
  }

  private requireWrite(auth: Auth): GlUser {
    if (auth.kind !== 'token') throw msg(401, '401 Unauthorized');
    if (!auth.token.scopes.includes('api')) {
      throw new HttpError(403, { error: 'insufficient_scope', error_description: 'The request requires higher privileges than provided by the access token.', scope: 'api' });
    }
    return auth.user;
  }

  private findGroup(id: string): GlGroup | undefined {
    const key = decodeURIComponent(id);
    return /^\d+$/.test(key) ? this.groups.get(Number(key)) : this.group(key);
  }

  private async api(res: ServerResponse, method: string, path: string, body: unknown, auth: Auth): Promise<void> {
    const user = auth.kind === 'token' ? auth.user : undefined;
    let m: RegExpMatchArray | null;

    if (path === '/user' && method === 'GET') {
      if (!user) throw msg(401, '401 Unauthorized');
      return sendJSON(res, 200, { id: user.id, username: user.username, is_admin: user.isAdmin, state: 'active' });
    }

    if ((m = path.match(/^\/groups\/([^/]+)$/)) && method === 'GET') {
      const g = this.findGroup(m[1]);
      if (!g || !this.canSee(user, g)) throw msg(404, '404 Group Not Found');
      return sendJSON(res, 200, this.groupJSON(g));
    }

    if (path === '/groups' && method === 'POST') {
      const u = this.requireWrite(auth);
      const b = (body ?? {}) as { name?: unknown; path?: unknown; parent_id?: unknown; visibility?: unknown; description?: unknown };
      if (typeof b.name !== 'string' || b.name === '') throw new HttpError(400, { error: 'name is missing' });
      if (typeof b.path !== 'string' || b.path === '') throw new HttpError(400, { error: 'path is missing' });
      let parent: GlGroup | undefined;
      if (b.parent_id !== undefined && b.parent_id !== null) {
        parent = typeof b.parent_id === 'number' ? this.groups.get(b.parent_id) : undefined;
        if (!parent || !this.canSee(u, parent)) throw msg(404, '404 Group Not Found');
        if (this.level(u, parent) < MAINTAINER) throw msg(403, '403 Forbidden');
      } else if (!u.isAdmin) {
        throw msg(403, '403 Forbidden');
      }
      const vis = (typeof b.visibility === 'string' ? b.visibility : 'private') as Visibility;
      if (!(vis in RANK)) throw new HttpError(400, { error: 'visibility does not have a valid value' });
      if (parent && RANK[vis] > RANK[parent.visibility]) {
        throw msg(400, { visibility_level: [`${vis} is not allowed since the parent group has a ${parent.visibility} visibility.`] });
      }
      const full = parent ? `${parent.fullPath}/${b.path}` : b.path;
      if (this.group(full) || this.project(full)) throw msg(400, `Failed to save group {:path=>["has already been taken"]}`);
      const g = this.addGroup(b.path, { parent, visibility: vis, name: b.name, members: parent ? [] : [[u, OWNER]] });
      g.description = typeof b.description === 'string' ? b.description : '';
      return sendJSON(res, 201, this.groupJSON(g));
    }

    if ((m = path.match(/^\/projects\/([^/]+)$/)) && method === 'GET') {
      const key = decodeURIComponent(m[1]);
      const p = /^\d+$/.test(key) ? this.projects.get(Number(key)) : this.project(key);
      if (!p || !this.canSee(user, this.groups.get(p.groupId)!, p.visibility)) throw msg(404, '404 Project Not Found');
      return sendJSON(res, 200, await this.projectJSON(p));
    }

    if ((m = path.match(/^\/projects\/([^/]+)$/)) && method === 'PUT') {
      const u = this.requireWrite(auth);
      const key = decodeURIComponent(m[1]);
      const p = /^\d+$/.test(key) ? this.projects.get(Number(key)) : this.project(key);
      const g = p && this.groups.get(p.groupId)!;
      if (!p || !g || !this.canSee(u, g, p.visibility)) throw msg(404, '404 Project Not Found');
      if (this.level(u, g) < MAINTAINER) throw msg(403, '403 Forbidden');
      const b = (body ?? {}) as { visibility?: unknown; default_branch?: unknown; description?: unknown };
      if (b.visibility !== undefined) {
        const vis = b.visibility as Visibility;
        if (typeof vis !== 'string' || !(vis in RANK)) throw new HttpError(400, { error: 'visibility does not have a valid value' });
        if (RANK[vis] > RANK[g.visibility]) throw msg(400, { visibility_level: [`${vis} is not allowed in a ${g.visibility} group.`] });
        if (!this.ignoredEdits.has('visibility')) p.visibility = vis;
      }
      if (typeof b.default_branch === 'string') {
        const has = (await git(['--git-dir', p.dir, 'for-each-ref', `refs/heads/${b.default_branch}`])).trim() !== '';
        if (!has) throw msg(400, 'Could not set the default branch');
        if (!this.ignoredEdits.has('default_branch')) {
          p.defaultBranch = b.default_branch;
          await git(['--git-dir', p.dir, 'symbolic-ref', 'HEAD', `refs/heads/${b.default_branch}`]);
        }
      }
      if (typeof b.description === 'string') p.description = b.description;
      return sendJSON(res, 200, await this.projectJSON(p));
    }

    if (path === '/projects' && method === 'POST') {
      const u = this.requireWrite(auth);
      const b = (body ?? {}) as Record<string, unknown>;
      const name = typeof b.name === 'string' && b.name ? b.name : typeof b.path === 'string' ? b.path : '';
      const ppath = typeof b.path === 'string' && b.path ? b.path : name;
      if (!name) throw new HttpError(400, { error: 'name, path are missing, at least one parameter must be provided' });
      const g = typeof b.namespace_id === 'number' ? this.groups.get(b.namespace_id) : undefined;
      if (!g || !this.canSee(u, g)) throw msg(404, '404 Namespace Not Found');
      if (this.level(u, g) < MAINTAINER) throw msg(403, '403 Forbidden');
      const vis = (typeof b.visibility === 'string' ? b.visibility : 'private') as Visibility;
      if (!(vis in RANK)) throw new HttpError(400, { error: 'visibility does not have a valid value' });
      if (RANK[vis] > RANK[g.visibility]) throw msg(400, { visibility_level: [`${vis} is not allowed in a ${g.visibility} group.`] });
      const full = `${g.fullPath}/${ppath}`;
      if (this.project(full)) throw msg(400, { name: ['has already been taken'], path: ['has already been taken'] });
      if (!/^[A-Za-z0-9_][-A-Za-z0-9_.]*$/.test(ppath) || ppath.endsWith('.git')) {
        throw msg(400, { path: ['can contain only letters, digits, \'_\', \'-\' and \'.\'. Cannot start with \'-\', end in \'.git\' or end in \'.atom\''] });
      }
      const requested = typeof b.default_branch === 'string' && b.default_branch ? b.default_branch : 'main';
      const dir = join(this.reposRoot, `${full.toLowerCase()}.git`);
      await mkdir(dirname(dir), { recursive: true });
      const shortBranch = requested.replace(/^refs\/heads\//, '');
      await git(['init', '-q', '--bare', `--initial-branch=${shortBranch}`, dir]);
      const builds = typeof b.builds_access_level === 'string' ? b.builds_access_level : b.jobs_enabled === false ? 'disabled' : 'enabled';
      const p: GlProject = {
        id: this.nextId++,
        name,
        path: ppath,
        groupId: g.id,
        fullPath: full,
        visibility: vis,
        description: typeof b.description === 'string' ? b.description : '',
        defaultBranch: shortBranch,
        buildsAccessLevel: builds,
        // gitlab-org/gitlab#516857: a full ref as default_branch silently skips the README.
        initializedWithReadme: b.initialize_with_readme === true && !requested.startsWith('refs/'),
        dir,
      };
      if (p.initializedWithReadme) {
        const blob = (await git(['--git-dir', dir, 'hash-object', '-w', '--stdin'], `# ${name}\n`)).trim();
        const tree = (await git(['--git-dir', dir, 'mktree'], `100644 blob ${blob}\tREADME.md\n`)).trim();
        const commit = (await git(['--git-dir', dir, 'commit-tree', tree, '-m', 'Initial commit'])).trim();
        await git(['--git-dir', dir, 'update-ref', `refs/heads/${shortBranch}`, commit]);
      }
      this.projects.set(p.id, p);
      return sendJSON(res, 201, await this.projectJSON(p));
    }

    throw msg(404, '404 Not Found');
  }

  private groupJSON(g: GlGroup): Record<string, unknown> {
    const parents: string[] = [];
    for (let cur: GlGroup | undefined = g; cur; cur = cur.parentId === null ? undefined : this.groups.get(cur.parentId)) parents.unshift(cur.name);
    return {
      id: g.id,
      name: g.name,
      path: g.path,
      full_name: parents.join(' / '),
      full_path: g.fullPath,
      description: g.description,
      visibility: g.visibility,
      web_url: `${this.url}/groups/${g.fullPath}`,
      parent_id: g.parentId,
    };
  }

  private async projectJSON(p: GlProject): Promise<Record<string, unknown>> {
    const g = this.groups.get(p.groupId)!;
    const empty = (await git(['--git-dir', p.dir, 'for-each-ref', '--count=1', 'refs/heads'])).trim() === '';
    return {
      id: p.id,
      name: p.name,
      path: p.path,
      path_with_namespace: p.fullPath,
      name_with_namespace: `${g.name} / ${p.name}`,
      description: p.description,
      default_branch: empty ? null : p.defaultBranch,
      visibility: p.visibility,
      web_url: `${this.url}/${p.fullPath}`,
      http_url_to_repo: `${this.url}/${p.fullPath}.git`,
      ssh_url_to_repo: `git@127.0.0.1:${p.fullPath}.git`,
      namespace: { id: g.id, name: g.name, path: g.path, kind: 'group', full_path: g.fullPath },
      empty_repo: empty,
      jobs_enabled: p.buildsAccessLevel !== 'disabled',
      builds_access_level: p.buildsAccessLevel,
    };
  }

  // --- git smart HTTP ---------------------------------------------------------------------------------

  private async serveGit(req: IncomingMessage, res: ServerResponse, method: string, path: string, query: string, body: Buffer, auth: Auth): Promise<void> {
    const m = path.match(/^\/(.+?)\.git(\/(?:info\/refs|git-upload-pack|git-receive-pack))$/);
    const challenge = (): void => void res.writeHead(401, { 'www-authenticate': 'Basic realm="GitLab"', 'content-type': 'text/plain' }).end('HTTP Basic: Access denied.\n');
    if (!m) return void res.writeHead(404, { 'content-type': 'text/plain' }).end('Not Found\n');
    if (auth.kind === 'invalid') return challenge();
    const user = auth.kind === 'token' ? auth.user : undefined;
    const p = this.project(m[1]);
    const g = p && this.groups.get(p.groupId)!;
    if (!p || !g || !this.canSee(user, g, p.visibility)) {
      if (!user) return challenge();
      return void res.writeHead(404, { 'content-type': 'text/plain' }).end('The project you were looking for could not be found or you don\'t have permission to view it.\n');
    }
    const isPush = m[2] === '/git-receive-pack' || /(^|&)service=git-receive-pack(&|$)/.test(query);
    if (isPush) {
      if (auth.kind !== 'token') return challenge();
      if (!auth.token.scopes.some((s) => s === 'api' || s === 'write_repository')) return void res.writeHead(403, { 'content-type': 'text/plain' }).end('HTTP Basic: Access denied. The provided password or token is incorrect or your account has 2FA enabled.\n');
      if (this.level(user, g) < DEVELOPER) return void res.writeHead(403, { 'content-type': 'text/plain' }).end('You are not allowed to push code to this project.\n');
    }
    if (method === 'POST' && m[2] === '/git-receive-pack' && this.beforeReceivePack) await this.beforeReceivePack(p);
    await gitHttpBackend(req, res, {
      projectRoot: this.reposRoot,
      pathInfo: `/${p.fullPath.toLowerCase()}.git${m[2]}`,
      method,
      query,
      body,
      home: this.root,
      remoteUser: isPush ? user?.username : undefined,
    });
  }
}
