/**
 * `idpbuilder job gitlab-validate`: the periodic check behind a GitLabProvider.
 *
 *  1. reads the access token from `credentialsSecretRef` (and a PEM CA bundle from `caSecretRef`, for a
 *     self-hosted instance with a private CA);
 *  2. reads the group by its full path (`GET /groups/:encoded-path`) — a wrong token is a 401, a missing
 *     group (or one the token cannot see) a 404;
 *  3. ensures every subgroup in `subgroups` (nested paths level by level, `POST /groups` with `parent_id`;
 *     visibility the parent's unless `subgroupVisibility` asks for less);
 *  4. ALWAYS writes the outcome onto its own Job as annotation `idpbuilder.cnoe.io/result` — success
 *     `{"authenticated":true,"group","groupID","checkedAt"}`, failure
 *     `{"authenticated":false,"error":{"code","message"},"checkedAt"}` — and on failure exits 1.
 */
import { GitLabClient, type GitLabVisibility } from '../gitlab/client.js';
import { ValidateError, obj, readSecretKey, secretRef, stamp, str, withResult, type ResultTarget, type SecretKeyRef, type ValidateDeps } from './github-validate.js';

export interface GitLabValidateConfig {
  /** Instance URL (https://gitlab.com) or its API base (…/api/v4). */
  endpoint: string;
  /** Full path of the group (`platform` or `platform/team`). */
  group: string;
  credentialsSecretRef: SecretKeyRef;
  caSecretRef?: SecretKeyRef;
  subgroups: Array<{ name: string; description?: string }>;
  /** Visibility of created subgroups (default: their parent's; never more visible than it). */
  subgroupVisibility?: GitLabVisibility;
  result?: ResultTarget;
}

export interface GitLabValidateResult {
  authenticated: true;
  group: string;
  groupID: number;
  checkedAt: string;
}

export async function runGitLabValidate(config: GitLabValidateConfig | unknown, deps: ValidateDeps): Promise<GitLabValidateResult> {
  const now = deps.now ?? (() => new Date());
  const log = deps.log;
  return withResult(config, deps, async () => {
    const cfg = parseGitLabValidateConfig(config);
    const token = (await readSecretKey(deps.kube, cfg.credentialsSecretRef, 'credentials')).trim();
    const ca = cfg.caSecretRef ? await readSecretKey(deps.kube, cfg.caSecretRef, 'CA') : undefined;
    const gl = new GitLabClient({ baseURL: cfg.endpoint, token, ...(ca ? { ca } : {}), ...(deps.dispatcher ? { dispatcher: deps.dispatcher } : {}) });
    const group = await gl.getGroup(cfg.group);
    log.info('group found', { group: group.fullPath, id: group.id });
    for (const sg of cfg.subgroups) {
      const r = await gl.ensureSubgroup(group, sg.name, {
        ...(sg.description !== undefined ? { description: sg.description } : {}),
        ...(cfg.subgroupVisibility ? { visibility: cfg.subgroupVisibility } : {}),
      });
      log.info(r.created ? 'subgroup created' : 'subgroup exists', { group: r.fullPath, id: r.id });
    }
    return { authenticated: true as const, group: group.fullPath || cfg.group, groupID: group.id, checkedAt: stamp(now()) };
  });
}

const PATH_SEGMENT = /^[A-Za-z0-9_.][-A-Za-z0-9_.]*$/;

/** A GitLab namespace path: segments of letters, digits, `_`, `-`, `.` (not `.` or `..`). */
function isGroupPath(p: string): boolean {
  return p.split('/').every((s) => PATH_SEGMENT.test(s) && s !== '.' && s !== '..');
}

/** Checks the shape of a gitlab-validate config (as emitted by the GitLabProvider hook) and returns it typed. */
export function parseGitLabValidateConfig(raw: unknown): GitLabValidateConfig {
  const c = obj(raw, 'config');
  const endpoint = str(c, 'endpoint', 'config');
  if (!/^https?:\/\//.test(endpoint)) throw new ValidateError('Invalid', 'config.endpoint must be an http(s) URL');
  const group = str(c, 'group', 'config');
  if (!isGroupPath(group)) throw new ValidateError('Invalid', `config.group "${group}" is not a group path`);
  const out: GitLabValidateConfig = {
    endpoint,
    group,
    credentialsSecretRef: secretRef(c.credentialsSecretRef, 'config.credentialsSecretRef', 'token'),
    subgroups: [],
  };
  if (c.caSecretRef !== undefined && c.caSecretRef !== null) out.caSecretRef = secretRef(c.caSecretRef, 'config.caSecretRef', 'ca.crt');
  if (c.subgroups !== undefined && c.subgroups !== null) {
    if (!Array.isArray(c.subgroups)) throw new ValidateError('Invalid', 'config.subgroups must be a list');
    out.subgroups = c.subgroups.map((s, i) => {
      const w = `config.subgroups[${i}]`;
      const o = obj(s, w);
      const name = str(o, 'name', w);
      if (!isGroupPath(name)) throw new ValidateError('Invalid', `${w}.name "${name}" is not a group path`);
      if (o.description !== undefined && o.description !== null && typeof o.description !== 'string') throw new ValidateError('Invalid', `${w}.description must be a string`);
      return { name, ...(typeof o.description === 'string' ? { description: o.description } : {}) };
    });
  }
  if (c.subgroupVisibility !== undefined && c.subgroupVisibility !== null) {
    if (!['private', 'internal', 'public'].includes(c.subgroupVisibility as string)) throw new ValidateError('Invalid', 'config.subgroupVisibility must be private, internal or public');
    out.subgroupVisibility = c.subgroupVisibility as GitLabVisibility;
  }
  if (c.result !== undefined && c.result !== null) {
    const r = obj(c.result, 'config.result');
    out.result = { jobNamespace: str(r, 'jobNamespace', 'config.result'), jobName: str(r, 'jobName', 'config.result') };
  }
  return out;
}
