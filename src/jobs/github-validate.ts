/**
 * `idpbuilder job github-validate`: the periodic check behind a GitHubProvider.
 *
 *  1. gets an API token: `authType: token` reads it from `credentialsSecretRef`; `authType: app` signs a
 *     GitHub App JWT with the private key from `appAuth.privateKeySecretRef`, finds the installation on the
 *     organization (unless `appAuth.installationID` is given), mints an installation token and
 *     server-side-applies it into `tokenSecret` (keys `token`, `username: x-access-token`), which is what
 *     the provider's `credentialsSecretRef` points consumers at (installation tokens live one hour; the
 *     hook re-runs this Job well within that);
 *  2. checks the organization (`GET /orgs/{org}`) and reads the core rate limit (`GET /rate_limit`);
 *  3. ensures every team in `teams` exists (`GET /orgs/{org}/teams/{slug}`, else `POST /orgs/{org}/teams`,
 *     privacy closed). Teams get their `permission` on each repository the GitRepository sync creates
 *     (repo-sync flavor `github`), since a team permission needs a repository;
 *  4. ALWAYS writes the outcome onto its own Job as annotation `idpbuilder.cnoe.io/result` — success
 *     `{"authenticated":true,"organization","rateLimit":{"remaining","limit","resetAt"},"checkedAt"}`,
 *     failure `{"authenticated":false,"error":{"code","message"},"checkedAt"}` — and on failure exits 1.
 *
 * Secret values never appear in the result, the logs or an error message.
 */
import { GitServerError, type GitServerErrorCode } from '../gitea/client.js';
import { GitHubClient, isoSeconds, mintInstallationToken } from '../github/client.js';
import { KubeError, type KubeClient } from '../kube/client.js';
import type { JobLogger } from './repo-sync.js';
import { applyTokenSecret } from './token-secret.js';
import { GitHubValidateConfig as GitHubValidateConfigSchema, parseJobConfig, type GitHubValidateConfig, type ResultTarget, type SecretKeyRef } from '../api/jobs.js';
import { ENV_JOB_NAME, ENV_JOB_NAMESPACE, EXPIRES_AT_ANNOTATION, RESULT_ANNOTATION } from '../api/names.js';
import type { Dispatcher } from 'undici';

const GITHUB_TOKEN_USERNAME = 'x-access-token';

// --- shared by the validate jobs ---------------------------------------------------------------------

/** A failure code in a validate result: the git server's, or `SecretNotFound` / `Internal`. */
export type ValidateErrorCode = GitServerErrorCode | 'SecretNotFound' | 'Internal';

/** A problem of the Job's own inputs (config, Secrets), with the code it reports. */
export class ValidateError extends Error {
  override readonly name = 'ValidateError';
  constructor(
    readonly code: ValidateErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export type { ResultTarget, SecretKeyRef };

/**
 * A failed validation as written onto the Job (result annotation): `authenticated: false`, the error code and
 * message, and when it was checked (RFC 3339, seconds).
 */
export interface ValidateFailure {
  authenticated: false;
  error: { code: ValidateErrorCode; message: string };
  checkedAt: string;
}

/**
 * What the validation programs need: the Kubernetes client (read Secrets, annotate the Job, apply the token Secret),
 * a logger, a clock, the environment (JOB_NAMESPACE/JOB_NAME, default process.env) and an HTTP dispatcher for the git
 * server API (tests).
 */
export interface ValidateDeps {
  kube: Pick<KubeClient, 'getSecret' | 'annotateJob' | 'applySecret'>;
  log: JobLogger;
  now?: () => Date;
  /** JOB_NAMESPACE / JOB_NAME: where the result goes when the config has no `result` (default: process.env). */
  env?: NodeJS.ProcessEnv;
  /** HTTP dispatcher for the git server API (tests). */
  dispatcher?: Dispatcher;
}

/** A time as RFC 3339 UTC without milliseconds (`2026-01-02T03:04:05Z`), as the results record it. */
export function stamp(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * One Secret key's value; a missing Secret or key is a `SecretNotFound` ValidateError.
 * @throws ValidateError `SecretNotFound` when the Secret or the key is missing or empty; KubeError when the API
 *   server fails.
 */
export async function readSecretKey(kube: Pick<KubeClient, 'getSecret'>, ref: SecretKeyRef, what: string): Promise<string> {
  const data = await kube.getSecret(ref.namespace, ref.name);
  if (!data) throw new ValidateError('SecretNotFound', `${what} Secret ${ref.namespace}/${ref.name} not found`);
  const v = data[ref.key];
  if (!v) throw new ValidateError('SecretNotFound', `${what} Secret ${ref.namespace}/${ref.name} has no key "${ref.key}"`);
  return v;
}

function failureOf(e: unknown, checkedAt: string): ValidateFailure {
  let code: ValidateErrorCode = 'Internal';
  let message = e instanceof Error ? e.message : String(e);
  if (e instanceof GitServerError || e instanceof ValidateError) code = e.code;
  else if (e instanceof KubeError) code = 'Internal';
  // eslint-disable-next-line no-control-regex
  message = message.replace(/[\u0000-\u001f\u007f]+/g, ' ').replace(/\s+/g, ' ').trim().slice(0, 500);
  return { authenticated: false, error: { code, message }, checkedAt };
}

/** Where the result annotation goes: `config.result`, else the Job's own env (JOB_NAMESPACE, JOB_NAME). */
function resultTarget(raw: unknown, env: NodeJS.ProcessEnv): ResultTarget | undefined {
  const r = (raw as { result?: { jobNamespace?: unknown; jobName?: unknown } } | undefined)?.result;
  if (r && typeof r.jobNamespace === 'string' && r.jobNamespace && typeof r.jobName === 'string' && r.jobName) return { jobNamespace: r.jobNamespace, jobName: r.jobName };
  const jobNamespace = env[ENV_JOB_NAMESPACE];
  const jobName = env[ENV_JOB_NAME];
  if (jobNamespace && jobName) return { jobNamespace, jobName };
  return undefined;
}

/**
 * Runs `body`, then writes its result (or the failure) onto the Job. A failure is re-thrown after the
 * annotation, so the program exits non-zero.
 * @throws whatever `body` throws, after the failure is annotated; KubeError when the annotation cannot be written.
 */
export async function withResult<T extends object>(raw: unknown, deps: ValidateDeps, body: () => Promise<T>): Promise<T> {
  const now = deps.now ?? (() => new Date());
  const target = resultTarget(raw, deps.env ?? process.env);
  const annotate = async (value: object): Promise<void> => {
    if (!target) {
      deps.log.warn('no result target (config.result or JOB_NAMESPACE/JOB_NAME): result not recorded');
      return;
    }
    await deps.kube.annotateJob(target.jobNamespace, target.jobName, { [RESULT_ANNOTATION]: JSON.stringify(value) });
  };
  let result: T;
  try {
    result = await body();
  } catch (e) {
    const failure = failureOf(e, stamp(now()));
    deps.log.warn('validation failed', { code: failure.error.code, message: failure.error.message });
    try {
      await annotate(failure);
    } catch (ae) {
      deps.log.warn('cannot record the result on the Job', { message: ae instanceof Error ? ae.message : String(ae) });
    }
    throw e;
  }
  await annotate(result);
  return result;
}

// --- config ------------------------------------------------------------------------------------------

/** The Job's config as read (defaults filled in); schema and field docs: src/api/jobs.ts. */
export type { GitHubValidateConfig };

/**
 * A successful github-validate result: `authenticated: true`, the organization login, the core rate limit (remaining,
 * limit, reset time RFC 3339) and when it was checked.
 */
export interface GitHubValidateResult {
  authenticated: true;
  organization: string;
  rateLimit: { remaining: number; limit: number; resetAt: string };
  checkedAt: string;
}

/**
 * The github-validate Job: with app auth, mints an installation token from the App's private key and applies it to
 * the token Secret (user name `x-access-token`, expiry annotation); else reads the token; then checks the
 * organization, ensures the teams and reads the rate limit. The result or failure is annotated on the Job
 * (withResult); a failure is re-thrown (ValidateError, GitServerError, KubeError).
 */
export async function runGitHubValidate(config: GitHubValidateConfig | unknown, deps: ValidateDeps): Promise<GitHubValidateResult> {
  const now = deps.now ?? (() => new Date());
  const log = deps.log;
  return withResult(config, deps, async () => {
    const cfg = parseGitHubValidateConfig(config);
    let token: string;
    if (cfg.authType === 'app') {
      const app = cfg.appAuth!;
      const privateKey = await readSecretKey(deps.kube, app.privateKeySecretRef, 'GitHub App private key');
      const minted = await mintInstallationToken({
        baseURL: cfg.endpoint,
        appID: app.appID,
        privateKey,
        installationID: app.installationID,
        organization: cfg.organization,
        now,
        dispatcher: deps.dispatcher,
        warn: (message) => log.warn('GitHub App authentication', { message }),
      });
      token = minted.token;
      log.info('installation token minted', { appID: app.appID, installationID: minted.installationID, expiresAt: minted.expiresAt });
      const annotations = minted.expiresAt ? { [EXPIRES_AT_ANNOTATION]: minted.expiresAt } : undefined;
      await applyTokenSecret(deps.kube, log, cfg.tokenSecret!, { token, username: GITHUB_TOKEN_USERNAME }, annotations);
    } else {
      token = (await readSecretKey(deps.kube, cfg.credentialsSecretRef!, 'credentials')).trim();
    }

    const gh = new GitHubClient({ baseURL: cfg.endpoint, token, dispatcher: deps.dispatcher });
    const org = await gh.getOrg(cfg.organization);
    log.info('organization found', { organization: org.login });
    for (const t of cfg.teams) {
      const team = await gh.ensureTeam(cfg.organization, t.name);
      log.info(team.created ? 'team created' : 'team exists', { team: team.slug, permission: t.permission });
    }
    const rl = await gh.rateLimit();
    log.info('rate limit', { remaining: rl.remaining, limit: rl.limit });
    return {
      authenticated: true as const,
      organization: org.login,
      rateLimit: { remaining: rl.remaining, limit: rl.limit, resetAt: isoSeconds(rl.reset) },
      checkedAt: stamp(now()),
    };
  });
}

/**
 * Checks the shape of a github-validate config (as emitted by the GitHubProvider hook) and returns it
 * typed, defaults filled in; throws a ValidateError `Invalid`, also when the fields `authType` needs are
 * missing.
 */
export function parseGitHubValidateConfig(raw: unknown): GitHubValidateConfig {
  const out = parseJobConfig<GitHubValidateConfig>(GitHubValidateConfigSchema, raw, (message) => new ValidateError('Invalid', message));
  if (out.authType === 'token' && !out.credentialsSecretRef) throw new ValidateError('Invalid', 'config.credentialsSecretRef is required with authType token');
  if (out.authType === 'app' && !out.appAuth) throw new ValidateError('Invalid', 'config.appAuth is required with authType app');
  if (out.authType === 'app' && !out.tokenSecret) throw new ValidateError('Invalid', 'config.tokenSecret is required with authType app');
  return out;
}
