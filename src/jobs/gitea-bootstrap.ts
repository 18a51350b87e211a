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
import type { KubeClient, OwnerReference } from '../kube/client.js';
import type { JobLogger } from './repo-sync.js';

export const DEFAULT_TOKEN_SCOPES: readonly string[] = ['write:organization', 'write:repository', 'write:user'];
export const DEFAULT_TIMEOUT_SECONDS = 300;
export const MANAGED_BY_LABEL = { 'app.kubernetes.io/managed-by': 'idpbuilder' } as const;

export interface GiteaBootstrapConfig {
  /** Internal API base, e.g. http://gitea-http.gitea.svc.cluster.local:3000 */
  endpoint: string;
  organizations: Array<{ name: string; description?: string }>;
  tokenName: string;
  tokenSecret: {
    namespace: string;
    name: string;
    labels?: Record<string, string>;
    ownerReference?: { apiVersion: string; kind: string; name: string; uid: string };
  };
  /** How long to wait for Gitea (default 300). */
  timeoutSeconds?: number;
  /** Optional override of {@link DEFAULT_TOKEN_SCOPES}. */
  tokenScopes?: string[];
}

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
  const username = env.GITEA_USERNAME ?? '';
  const password = env.GITEA_PASSWORD ?? '';
  if (!username || !password) throw new GiteaBootstrapError('GITEA_USERNAME and GITEA_PASSWORD must be set (from the Gitea admin Secret)');
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
  const ownerReferences: OwnerReference[] | undefined = ts.ownerReference
    ? [{ apiVersion: ts.ownerReference.apiVersion, kind: ts.ownerReference.kind, name: ts.ownerReference.name, uid: ts.ownerReference.uid }]
    : undefined;
  await deps.kube.applySecret({
    namespace: ts.namespace,
    name: ts.name,
    labels: { ...MANAGED_BY_LABEL, ...(ts.labels ?? {}) },
    ...(ownerReferences ? { ownerReferences } : {}),
    stringData: { username, token },
  });
  log.info('token Secret applied', { secret: `${ts.namespace}/${ts.name}`, keys: ['token', 'username'] });

  const api = make({ baseURL: cfg.endpoint, auth: { token } });
  const organizations: GiteaBootstrapResult['organizations'] = [];
  for (const org of cfg.organizations) {
    const r = await api.ensureOrg({ name: org.name, ...(org.description !== undefined ? { description: org.description } : {}) });
    log.info(r.created ? 'organization created' : 'organization exists', { organization: org.name });
    organizations.push({ name: org.name, created: r.created });
  }
  return { version, username, tokenSecret: { namespace: ts.namespace, name: ts.name }, organizations };
}

/** Checks the shape of a gitea-bootstrap config (as emitted by the GiteaProvider hook) and returns it typed. */
export function parseGiteaBootstrapConfig(raw: unknown): GiteaBootstrapConfig {
  const c = obj(raw, 'config');
  const endpoint = str(c, 'endpoint', 'config');
  if (!/^https?:\/\//.test(endpoint)) throw new GiteaBootstrapError('config.endpoint must be an http(s) URL');
  if (!Array.isArray(c.organizations)) throw new GiteaBootstrapError('config.organizations must be a list');
  const organizations = c.organizations.map((o, i) => {
    const x = obj(o, `config.organizations[${i}]`);
    const name = str(x, 'name', `config.organizations[${i}]`);
    if (x.description !== undefined && x.description !== null && typeof x.description !== 'string') {
      throw new GiteaBootstrapError(`config.organizations[${i}].description must be a string`);
    }
    return { name, ...(typeof x.description === 'string' ? { description: x.description } : {}) };
  });
  const ts = obj(c.tokenSecret, 'config.tokenSecret');
  const tokenSecret: GiteaBootstrapConfig['tokenSecret'] = {
    namespace: str(ts, 'namespace', 'config.tokenSecret'),
    name: str(ts, 'name', 'config.tokenSecret'),
  };
  if (ts.labels !== undefined && ts.labels !== null) {
    const l = obj(ts.labels, 'config.tokenSecret.labels');
    for (const [k, v] of Object.entries(l)) if (typeof v !== 'string') throw new GiteaBootstrapError(`config.tokenSecret.labels["${k}"] must be a string`);
    tokenSecret.labels = l as Record<string, string>;
  }
  if (ts.ownerReference !== undefined && ts.ownerReference !== null) {
    const w = 'config.tokenSecret.ownerReference';
    const r = obj(ts.ownerReference, w);
    tokenSecret.ownerReference = { apiVersion: str(r, 'apiVersion', w), kind: str(r, 'kind', w), name: str(r, 'name', w), uid: str(r, 'uid', w) };
  }
  const out: GiteaBootstrapConfig = { endpoint, organizations, tokenName: str(c, 'tokenName', 'config'), tokenSecret };
  if (c.timeoutSeconds !== undefined && c.timeoutSeconds !== null) {
    if (typeof c.timeoutSeconds !== 'number' || !(c.timeoutSeconds > 0)) throw new GiteaBootstrapError('config.timeoutSeconds must be a positive number');
    out.timeoutSeconds = c.timeoutSeconds;
  }
  if (c.tokenScopes !== undefined && c.tokenScopes !== null) {
    if (!Array.isArray(c.tokenScopes) || c.tokenScopes.length === 0 || c.tokenScopes.some((s) => typeof s !== 'string' || s === '')) {
      throw new GiteaBootstrapError('config.tokenScopes must be a non-empty list of scope strings');
    }
    out.tokenScopes = c.tokenScopes as string[];
  }
  return out;
}

function obj(v: unknown, where: string): Record<string, unknown> {
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new GiteaBootstrapError(`${where} must be an object`);
  return v as Record<string, unknown>;
}
function str(o: Record<string, unknown>, k: string, where: string): string {
  const v = o[k];
  if (typeof v !== 'string' || v === '') throw new GiteaBootstrapError(`${where}.${k} must be a non-empty string`);
  return v;
}
