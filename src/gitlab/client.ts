/**
 * A small GitLab REST API v4 client (undici) for the Job programs: groups, subgroups and projects.
 * Auth: `PRIVATE-TOKEN: <token>` (personal, group or project access token). Base `<instance>/api/v4`.
 * A self-hosted instance with a private CA is reached with that CA (PEM) as the TLS trust.
 *
 * Groups and projects are addressed by numeric id or by their URL-encoded full path (`parent%2Fchild`):
 * a raw slash would be a different route (404).
 *
 * Every failure is a {@link GitServerError} (shared with the Gitea and GitHub clients), one short line that
 * never carries the token.
 */
import { Agent, type Dispatcher } from 'undici';
import { apiBaseURL, apiError, sendJSON } from '../gitapi/http.js';
import { GitServerError, maskSecrets } from '../gitapi/errors.js';

/** A GitLab group's or project's visibility level (`visibility` in the REST API v4). */
export type GitLabVisibility = 'private' | 'internal' | 'public';

/**
 * Options of GitLabClient: the instance URL or its API base, the access token (sent as `PRIVATE-TOKEN`), an optional
 * PEM CA bundle or undici dispatcher, and the per-request timeout (ms, default 30 000).
 */
export interface GitLabClientOptions {
  /** The instance (`https://gitlab.com`, `https://gitlab.example.com`) or its API base (`…/api/v4`). */
  baseURL: string;
  token: string;
  /** PEM CA bundle trusted for this instance (self-hosted with a private CA). */
  ca?: string;
  dispatcher?: Dispatcher;
  requestTimeoutMs?: number;
}

/**
 * A GitLab group (`GET /groups/:id`): numeric id, name, path, full path, visibility, web URL and parent group ID
 * (null for a top-level group).
 */
export interface GroupInfo {
  id: number;
  name: string;
  path: string;
  fullPath: string;
  visibility: GitLabVisibility;
  webURL: string;
  parentID: number | null;
}

/**
 * A project to ensure in a group: name, URL path (default the name), description, visibility, default branch, whether
 * to start with a README and whether CI/CD is enabled.
 */
export interface GitLabProjectSpec {
  name: string;
  /** The URL path (default: `name`). */
  path?: string;
  description?: string;
  visibility?: GitLabVisibility;
  /** A short branch name (`main`); a `refs/heads/` prefix is stripped (a full ref silently skips initialization). */
  defaultBranch?: string;
  initializeWithReadme?: boolean;
  /** CI/CD (`builds_access_level` enabled/disabled, and the older `jobs_enabled`). */
  cicdEnabled?: boolean;
}

/**
 * A GitLab project as this client reports it: numeric id, `path_with_namespace`, web and HTTP clone URLs, default
 * branch, visibility and whether this call created it.
 */
export interface ProjectInfo {
  id: number;
  pathWithNamespace: string;
  webURL: string;
  httpURLToRepo: string;
  defaultBranch: string;
  visibility: string;
  /** True when this call created the project. */
  created: boolean;
}

/** `/api/v4` of an instance URL (a URL that already ends in `/api/v4` is kept). */
export function gitlabAPIBase(endpoint: string): string {
  const u = new URL(endpoint);
  const path = u.pathname.replace(/\/+$/, '');
  return `${u.origin}${path.endsWith('/api/v4') ? path : `${path}/api/v4`}`;
}

const VISIBILITY_RANK: Record<GitLabVisibility, number> = { private: 0, internal: 1, public: 2 };

/** The less visible of two visibilities (GitLab refuses a subgroup or project more visible than its group). */
export function narrower(a: GitLabVisibility, b: GitLabVisibility): GitLabVisibility {
  return VISIBILITY_RANK[a] <= VISIBILITY_RANK[b] ? a : b;
}

/**
 * Client of the GitLab REST API v4 (gitlab.com or self-hosted) the Job programs use: groups, subgroups and projects.
 * Methods throw GitServerError (never carrying the token) for refused or failed requests; the constructor throws
 * TypeError for a bad instance URL.
 */
export class GitLabClient {
  private readonly base: string;
  private readonly token: string;
  private readonly dispatcher?: Dispatcher;
  private readonly timeoutMs: number;

  constructor(opts: GitLabClientOptions) {
    apiBaseURL(opts.baseURL, 'GitLab endpoint');
    this.base = gitlabAPIBase(opts.baseURL);
    this.token = opts.token;
    this.timeoutMs = opts.requestTimeoutMs ?? 30_000;
    this.dispatcher = opts.dispatcher ?? (opts.ca ? new Agent({ connect: { ca: opts.ca } }) : undefined);
  }

  /** The API base (`…/api/v4`). */
  get baseURL(): string {
    return this.base;
  }

  /** `GET /groups/:id` by full path. A missing group (or one the token cannot see) is a `NotFound` error. */
  async getGroup(fullPath: string): Promise<GroupInfo> {
    const res = await this.call(`get group ${fullPath}`, 'GET', `/groups/${enc(fullPath)}?with_projects=false`);
    return toGroup(res.data);
  }

  /** Like {@link getGroup}, undefined on 404. */
  async findGroup(fullPath: string): Promise<GroupInfo | undefined> {
    const res = await this.call(`get group ${fullPath}`, 'GET', `/groups/${enc(fullPath)}?with_projects=false`, { ok: [200, 404] });
    return res.status === 200 ? toGroup(res.data) : undefined;
  }

  /**
   * The subgroup `name` (a path, possibly nested: `team/app`) below `parent`, each missing level created
   * with `POST /groups` (`name`, `path`, `parent_id`, `visibility`; `description` on the last level).
   * Visibility defaults to the parent's and never exceeds it.
   */
  async ensureSubgroup(parent: GroupInfo, name: string, opts: { description?: string; visibility?: GitLabVisibility } = {}): Promise<GroupInfo & { created: boolean }> {
    const parts = name.split('/').filter(Boolean);
    let cur = parent;
    let created = false;
    for (const [i, part] of parts.entries()) {
      const full = `${cur.fullPath}/${part}`;
      const existing = await this.findGroup(full);
      if (existing) {
        cur = existing;
        created = false;
        continue;
      }
      const visibility = narrower(opts.visibility ?? cur.visibility, cur.visibility);
      const last = i === parts.length - 1;
      try {
        const res = await this.call(`create group ${full}`, 'POST', '/groups', {
          body: { name: part, path: part, parent_id: cur.id, visibility, ...(last && opts.description !== undefined ? { description: opts.description } : {}) },
          ok: [201],
        });
        cur = toGroup(res.data);
        created = true;
      } catch (e) {
        // 400 "has already been taken": created concurrently.
        if (e instanceof GitServerError && e.status === 400) {
          const again = await this.findGroup(full);
          if (again) {
            cur = again;
            created = false;
            continue;
          }
        }
        throw e;
      }
    }
    return { ...cur, created };
  }

  /** `GET /projects/:id` by full path; undefined on 404. */
  async getProject(fullPath: string): Promise<ProjectInfo | undefined> {
    const res = await this.call(`get project ${fullPath}`, 'GET', `/projects/${enc(fullPath)}`, { ok: [200, 404] });
    return res.status === 200 ? toProject(res.data, false) : undefined;
  }

  /** `POST /projects` in the namespace (group) `namespaceID`. */
  async createProject(namespaceID: number, spec: GitLabProjectSpec, where = String(namespaceID)): Promise<ProjectInfo> {
    const body: Record<string, unknown> = {
      name: spec.name,
      path: spec.path ?? spec.name,
      namespace_id: namespaceID,
      visibility: spec.visibility ?? 'private',
      initialize_with_readme: spec.initializeWithReadme ?? false,
    };
    if (spec.description) body.description = spec.description;
    if (spec.defaultBranch) body.default_branch = spec.defaultBranch.replace(/^refs\/heads\//, '');
    if (spec.cicdEnabled !== undefined) {
      body.builds_access_level = spec.cicdEnabled ? 'enabled' : 'disabled';
      body.jobs_enabled = spec.cicdEnabled;
    }
    const res = await this.call(`create project ${where}/${spec.path ?? spec.name}`, 'POST', '/projects', { body, ok: [201] });
    return toProject(res.data, true);
  }

  /**
   * `GET /groups/:id`; a 404 becomes a `NotFound` error `GitLab: <what>: group <path> does not exist (or the
   * token cannot see it)`.
   */
  async requireGroup(fullPath: string, what: string): Promise<GroupInfo> {
    const g = await this.findGroup(fullPath);
    if (!g) throw new GitServerError(404, 'NotFound', `GitLab: ${what}: group ${fullPath} does not exist (or the token cannot see it)`, '404 Group Not Found');
    return g;
  }

  /**
   * `PUT /projects/:id` with `visibility` and/or `default_branch` (an existing branch; GitLab answers 400
   * otherwise). Returns the project as answered.
   */
  async updateProject(id: number | string, edit: { visibility?: GitLabVisibility; defaultBranch?: string }): Promise<ProjectInfo> {
    const body: Record<string, unknown> = {};
    if (edit.visibility !== undefined) body.visibility = edit.visibility;
    if (edit.defaultBranch !== undefined) body.default_branch = edit.defaultBranch.replace(/^refs\/heads\//, '');
    const res = await this.call(`update project ${id}`, 'PUT', `/projects/${enc(String(id))}`, { body, ok: [200] });
    return toProject(res.data, false);
  }

  /** The project `group/spec.path`, created in the group when missing (visibility capped at the group's). */
  async ensureProject(groupPath: string, spec: GitLabProjectSpec): Promise<ProjectInfo> {
    const full = `${groupPath}/${spec.path ?? spec.name}`;
    const existing = await this.getProject(full);
    if (existing) return existing;
    const group = await this.requireGroup(groupPath, `cannot create project ${full}`);
    const visibility = narrower(spec.visibility ?? 'private', group.visibility);
    try {
      return await this.createProject(group.id, { ...spec, visibility }, group.fullPath);
    } catch (e) {
      if (e instanceof GitServerError && e.status === 400) {
        const again = await this.getProject(full);
        if (again) return again;
      }
      throw e;
    }
  }

  private scrub(text: string): string {
    return maskSecrets(text, [this.token]);
  }

  private async call(
    op: string,
    method: 'GET' | 'POST' | 'PUT' | 'DELETE',
    path: string,
    opts: { body?: unknown; ok?: number[] } = {},
  ): Promise<{ status: number; data: unknown }> {
    const server = { label: 'GitLab', base: this.base, dispatcher: this.dispatcher, timeoutMs: this.timeoutMs, scrub: (t: string) => this.scrub(t) };
    const headers = { accept: 'application/json', 'user-agent': 'idpbuilder', 'private-token': this.token };
    const a = await sendJSON(server, op, method, path, headers, opts.body);
    if ((opts.ok ?? [200]).includes(a.status)) return { status: a.status, data: a.data };
    throw apiError(server, op, a, gitlabMessage(a.data, a.text, a.contentType));
  }
}

/**
 * GitLab's error text: `message` as a string (`404 Group Not Found`) or a field map
 * (`{"path": ["has already been taken"]}` → `path has already been taken`), or OAuth's
 * `error`/`error_description` (`insufficient_scope`).
 */
function gitlabMessage(data: unknown, text: string, contentType: string): string {
  if (data && typeof data === 'object' && !Array.isArray(data)) {
    const d = data as { message?: unknown; error?: unknown; error_description?: unknown };
    if (typeof d.message === 'string') return d.message;
    if (d.message && typeof d.message === 'object') {
      return Object.entries(d.message as Record<string, unknown>)
        .map(([k, v]) => `${k} ${Array.isArray(v) ? v.join(', ') : String(v)}`)
        .join('; ');
    }
    if (typeof d.error_description === 'string') return typeof d.error === 'string' ? `${d.error}: ${d.error_description}` : d.error_description;
    if (typeof d.error === 'string') return d.error;
    return '';
  }
  if (data === undefined && !contentType.includes('html') && text.length <= 200) return text;
  return '';
}

function enc(segment: string): string {
  return encodeURIComponent(segment);
}

function toGroup(data: unknown): GroupInfo {
  const d = (data ?? {}) as Record<string, unknown>;
  const s = (v: unknown) => (typeof v === 'string' ? v : '');
  const vis = s(d.visibility);
  return {
    id: typeof d.id === 'number' ? d.id : 0,
    name: s(d.name),
    path: s(d.path),
    fullPath: s(d.full_path),
    visibility: vis === 'public' || vis === 'internal' ? vis : 'private',
    webURL: s(d.web_url),
    parentID: typeof d.parent_id === 'number' ? d.parent_id : null,
  };
}

function toProject(data: unknown, created: boolean): ProjectInfo {
  const d = (data ?? {}) as Record<string, unknown>;
  const s = (v: unknown) => (typeof v === 'string' ? v : '');
  return {
    id: typeof d.id === 'number' ? d.id : 0,
    pathWithNamespace: s(d.path_with_namespace),
    webURL: s(d.web_url),
    httpURLToRepo: s(d.http_url_to_repo),
    defaultBranch: s(d.default_branch),
    visibility: s(d.visibility),
    created,
  };
}
