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
import { withTunnel, type TunnelOpener } from './tunnel.js';
import type { JobLogger } from './repo-sync.js';
import { applyTokenSecret } from './token-secret.js';
import { GiteaBootstrapConfig as GiteaBootstrapConfigSchema, parseJobConfig, type GiteaBootstrapConfig } from '../api/jobs.js';
import { ENV_GITEA_PASSWORD, ENV_GITEA_USERNAME } from '../api/names.js';

/**
 * Scopes of the API token the bootstrap mints when the config names none (Gitea token scopes; see the module comment
 * for why not `all`).
 */
export const DEFAULT_TOKEN_SCOPES: readonly string[] = ['write:organization', 'write:repository', 'write:user'];
const DEFAULT_TIMEOUT_SECONDS = 300;

/** The Job's config, as the GiteaProvider hook writes it (schema and field docs: src/api/jobs.ts). */
export type { GiteaBootstrapConfig };

/**
 * What the gitea-bootstrap Job reports: the Gitea version, the admin user name, the token Secret it applied and each
 * organization with whether it was created.
 */
export interface GiteaBootstrapResult {
  version: string;
  username: string;
  tokenSecret: { namespace: string; name: string };
  organizations: Array<{ name: string; created: boolean }>;
}

/** The GiteaClient methods the bootstrap uses (a fake in tests). */
export type GiteaBootstrapClient = Pick<GiteaClient, 'waitReady' | 'recreateToken' | 'ensureOrg'>;

/**
 * What runGiteaBootstrap needs: the Kubernetes client (applySecret), a Gitea client factory, a logger, the
 * environment (default process.env), sleep and clock for the readiness wait, and the poll interval (default 5000 ms).
 */
export interface GiteaBootstrapDeps {
  /** The management cluster: the token Secret is applied there, a tunnel's kubeconfig Secret read there. */
  kube: Pick<KubeClient, 'applySecret' | 'getSecret'>;
  /** Opens `config.tunnel` (default: ./tunnel.ts openTunnel). */
  tunnel?: TunnelOpener;
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

/**
 * A gitea-bootstrap failure of its own (invalid config, admin credentials missing from the environment); the message
 * names no credential.
 */
export class GiteaBootstrapError extends Error {
  override readonly name = 'GiteaBootstrapError';
}

/**
 * The gitea-bootstrap Job: waits for Gitea (timeoutSeconds, default 300 s), recreates the admin's API token with the
 * configured scopes, applies it to the token Secret (keys `username`, `token`) and ensures every organization. Throws
 * GiteaBootstrapError for a bad config or missing GITEA_USERNAME/GITEA_PASSWORD, and GitServerError or KubeError from
 * the APIs.
 */
export async function runGiteaBootstrap(config: GiteaBootstrapConfig, deps: GiteaBootstrapDeps): Promise<GiteaBootstrapResult> {
  const cfg = parseGiteaBootstrapConfig(config);
  const env = deps.env ?? process.env;
  const username = env[ENV_GITEA_USERNAME] ?? '';
  const password = env[ENV_GITEA_PASSWORD] ?? '';
  if (!username || !password) throw new GiteaBootstrapError(`${ENV_GITEA_USERNAME} and ${ENV_GITEA_PASSWORD} must be set (from the Gitea admin Secret)`);
  const make = deps.gitea ?? ((o: GiteaClientOptions) => new GiteaClient(o));
  const log = deps.log;

  const timeoutMs = (cfg.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS) * 1000;
  const started = (deps.now ?? Date.now)();
  // Gitea on a target cluster: through a tunnel, opened (retried while no Pod is Ready) within the same timeout.
  const retry = { timeoutMs, intervalMs: deps.pollIntervalMs ?? 5000, sleep: deps.sleep, now: deps.now, onWait: (reason: string) => log.info('Gitea not reachable yet', { reason }) };
  return withTunnel(cfg.tunnel, cfg.endpoint, deps.kube, (endpoint, opened) => {
    if (opened) log.info('tunnel to Gitea opened', { pod: opened.pod, port: opened.podPort });
    // what opening the tunnel took is taken from the wait for Gitea
    const left = opened ? Math.max(1000, timeoutMs - ((deps.now ?? Date.now)() - started)) : timeoutMs;
    return bootstrap(cfg, { ...deps, log, make, username, password }, endpoint, left);
  }, { ...(deps.tunnel ? { opener: deps.tunnel } : {}), retry });
}

/** The bootstrap proper, against `endpoint` (the config's, or a tunnel's loopback address). */
async function bootstrap(
  cfg: GiteaBootstrapConfig,
  deps: GiteaBootstrapDeps & { make: (opts: GiteaClientOptions) => GiteaBootstrapClient; username: string; password: string },
  endpoint: string,
  timeoutMs: number,
): Promise<GiteaBootstrapResult> {
  const { log, make, username, password } = deps;
  const admin = make({ baseURL: endpoint, auth: { basic: { username, password } } });
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

  const api = make({ baseURL: endpoint, auth: { token } });
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
