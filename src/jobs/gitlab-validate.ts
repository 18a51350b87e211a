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
import { GitLabClient } from '../gitlab/client.js';
import { ValidateError, readSecretKey, stamp, withResult, type ValidateDeps } from './github-validate.js';
import { GitLabValidateConfig as GitLabValidateConfigSchema, parseJobConfig, type GitLabValidateConfig } from '../api/jobs.js';

/** The Job's config as read (defaults filled in); schema and field docs: src/api/jobs.ts. */
export type { GitLabValidateConfig };

/**
 * A successful gitlab-validate result: `authenticated: true`, the group's full path and numeric ID, and when it was
 * checked (RFC 3339).
 */
export interface GitLabValidateResult {
  authenticated: true;
  group: string;
  groupID: number;
  checkedAt: string;
}

/**
 * The gitlab-validate Job: reads the token (and CA) Secrets, checks the group and ensures the subgroups. The result
 * or failure is annotated on the Job (withResult); a failure is re-thrown (ValidateError, GitServerError, KubeError).
 */
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

/** Checks the shape of a gitlab-validate config (as emitted by the GitLabProvider hook) and returns it typed, defaults filled in; throws a ValidateError `Invalid`. */
export function parseGitLabValidateConfig(raw: unknown): GitLabValidateConfig {
  return parseJobConfig<GitLabValidateConfig>(GitLabValidateConfigSchema, raw, (message) => new ValidateError('Invalid', message));
}
