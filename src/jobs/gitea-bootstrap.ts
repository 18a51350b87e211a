/**
 * `idpbuilder job gitea-bootstrap`: runs once Gitea's Helm install is done.
 *
 *  1. waits until Gitea answers (`/api/healthz`, then `/api/v1/version`) with the admin's Basic auth;
 *  2. recreates the admin's API token `tokenName` (deletes the old one, creates a new one);
 *  3. server-side-applies the Secret `tokenSecret` with keys `username` and `token` (right away, so a later
 *     failure never leaves consumers with the deleted token);
 *  4. ensures every organization, using the new token (which also proves its scopes are sufficient).
 *
 * Admin credentials come from env `GITEA_USERNAME` / `GITEA_PASSWORD` (mounted from a Secret).
 *
 * Token scopes: by default `write:organization`, `write:repository`, `write:user` — what the platform's
 * consumers of this token need and no more: creating organizations (`POST /orgs`), repositories in them
 * (`POST /orgs/{org}/repos`: organization + repository) or under the admin user (`POST /user/repos`: user +
 * repository, how idpbuilder lays out its bootstrap repos), reading them, and pushing over HTTP
 * (repository). Not `all`: that adds `write:admin` (create users, reset passwords, site settings) and
 * more to a token that sits in a Secret many workloads can read. Config `tokenScopes` overrides.
 */
import { GiteaClient, type GiteaClientOptions } from '../gitea/client.js';
import type { KubeClient } from '../kube/client.js';
import type { JobLogger } from './repo-sync.js';
import { applyTokenSecret } from './token-secret.js';
import { GiteaBootstrapConfig as GiteaBootstrapConfigSchema, parseJobConfig, type GiteaBootstrapConfig } from '../api/jobs.js';
import { ENV_GITEA_PASSWORD, ENV_GITEA_USERNAME } from '../api/names.js';

export const DEFAULT_TOKEN_SCOPES: readonly string[] = ['write:organization', 'write:repository', 'write:user'];
export const DEFAULT_TIMEOUT_SECONDS = 300;

/** The Job's config, as the GiteaProvider hook writes it (schema and field docs: src/api/jobs.ts). */
export type { GiteaBootstrapConfig };

export interface GiteaBootstrapResult {
  version: string;
  username: string;
  tokenSecret: { namespace: string; name: string };
  organizations: Array<{ name: string; created: boolean }>;
}

export type GiteaBootstrapClient = Pick<GiteaClient, 'waitReady' | 'recreateToken' | 'ensureOrg'>;

export interface GiteaBootstrapDeps {
  kube: Pick<KubeClient, 'applySecret'>;
  /** Builds a Gitea client (default: the real one). Called with Basic auth first, then with the new token. */
  gitea?: (opts: GiteaClientOptions) => GiteaBootstrapClient;
  log: JobLogger;
  /** Default: process.env. */
  env?: NodeJS.ProcessEnv;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
  /** Readiness poll interval (default 5000 ms). */
  pollIntervalMs?: number;
}

export class GiteaBootstrapError extends Error {
  override readonly name = 'GiteaBootstrapError';
}

export async function runGiteaBootstrap(config: GiteaBootstrapConfig, deps: GiteaBootstrapDeps): Promise<GiteaBootstrapResult> {
  const cfg = parseGiteaBootstrapConfig(config);
  const env = deps.env ?? process.env;
  const username = env[ENV_GITEA_USERNAME] ?? '';
  const password = env[ENV_GITEA_PASSWORD] ?? '';
  if (!username || !password) throw new GiteaBootstrapError(`${ENV_GITEA_USERNAME} and ${ENV_GITEA_PASSWORD} must be set (from the Gitea admin Secret)`);
  const make = deps.gitea ?? ((o: GiteaClientOptions) => new GiteaClient(o));
  const log = deps.log;

  const admin = make({ baseURL: cfg.endpoint, auth: { basic: { username, password } } });
  const timeoutMs = (cfg.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS) * 1000;
  log.info('waiting for Gitea', { endpoint: cfg.endpoint, timeoutSeconds: timeoutMs / 1000 });
  const version = await admin.waitReady({
    timeoutMs,
    intervalMs: deps.pollIntervalMs ?? 5000,
    sleep: deps.sleep,
    now: deps.now,
    onWait: (reason) => log.info('Gitea not ready yet', { reason }),
  });
  log.info('Gitea is ready', { version });

  const scopes = cfg.tokenScopes ?? [...DEFAULT_TOKEN_SCOPES];
  const token = await admin.recreateToken(username, cfg.tokenName, scopes);
  log.info('API token recreated', { user: username, tokenName: cfg.tokenName, scopes });

  const ts = cfg.tokenSecret;
  await applyTokenSecret(deps.kube, log, ts, { token, username });

  const api = make({ baseURL: cfg.endpoint, auth: { token } });
  const organizations: GiteaBootstrapResult['organizations'] = [];
  for (const org of cfg.organizations) {
    const r = await api.ensureOrg({ name: org.name, ...(org.description !== undefined ? { description: org.description } : {}) });
    log.info(r.created ? 'organization created' : 'organization exists', { organization: org.name });
    organizations.push({ name: org.name, created: r.created });
  }
  return { version, username, tokenSecret: { namespace: ts.namespace, name: ts.name }, organizations };
}

/** Checks the shape of a gitea-bootstrap config (as emitted by the GiteaProvider hook) and returns it typed; throws a GiteaBootstrapError. */
export function parseGiteaBootstrapConfig(raw: unknown): GiteaBootstrapConfig {
  return parseJobConfig<GiteaBootstrapConfig>(GiteaBootstrapConfigSchema, raw, (message) => new GiteaBootstrapError(message));
}
