/**
 * A minimal Kubernetes REST client (undici) for the Job programs: read a Secret, server-side-apply a Secret,
 * annotate a Job. Auth: bearer token (in-cluster service account, kubeconfig `token`/`tokenFile`) or client
 * certificates; TLS trust from the service-account CA, `certificate-authority(-data)`, or
 * `insecure-skip-tls-verify`. Secret values are never logged nor put in error messages.
 */
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { Agent, request, type Dispatcher } from 'undici';
import { parse as parseYAML } from 'yaml';

/** The API server refused or failed a request. `status` is 0 when it could not be reached. */
export class KubeError extends Error {
  override readonly name = 'KubeError';
  constructor(
    readonly status: number,
    message: string,
    /** Kubernetes `Status.reason` (NotFound, Forbidden, Conflict, Invalid…), when the server sent one. */
    readonly reason = '',
  ) {
    super(message);
  }
}

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export interface ApplySecretSpec {
  namespace: string;
  name: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
  /** Plain-text values; sent base64-encoded as `data` so server-side apply tracks each key's ownership. */
  stringData: Record<string, string>;
  type?: string;
}

export interface KubeClientOptions {
  /** API server URL, e.g. `https://10.96.0.1:443`. */
  server: string;
  /** Bearer token, or a function returning it (re-read per request: bound tokens rotate). */
  token?: string | (() => string);
  /** Extra TLS / connection settings, used when no dispatcher is given. */
  ca?: string | Buffer;
  cert?: string | Buffer;
  key?: string | Buffer;
  insecureSkipTLSVerify?: boolean;
  tlsServerName?: string;
  /** The namespace of the context (kubeconfig) or the pod (in-cluster). */
  namespace?: string;
  dispatcher?: Dispatcher;
  requestTimeoutMs?: number;
}

export const FIELD_MANAGER = 'idpbuilder';

const SA_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

export class KubeClient {
  readonly server: string;
  readonly namespace: string;
  private readonly token?: () => string;
  private readonly dispatcher: Dispatcher;
  private readonly timeoutMs: number;

  constructor(opts: KubeClientOptions) {
    let u: URL;
    try {
      u = new URL(opts.server);
    } catch {
      throw new KubeError(0, 'Kubernetes API server URL is not valid');
    }
    this.server = `${u.origin}${u.pathname.replace(/\/+$/, '')}`;
    this.namespace = opts.namespace ?? 'default';
    const t = opts.token;
    this.token = t === undefined ? undefined : typeof t === 'function' ? t : () => t;
    this.timeoutMs = opts.requestTimeoutMs ?? 30_000;
    this.dispatcher =
      opts.dispatcher ??
      new Agent({
        connect: {
          ...(opts.ca !== undefined ? { ca: opts.ca } : {}),
          ...(opts.cert !== undefined ? { cert: opts.cert } : {}),
          ...(opts.key !== undefined ? { key: opts.key } : {}),
          ...(opts.tlsServerName ? { servername: opts.tlsServerName } : {}),
          rejectUnauthorized: !opts.insecureSkipTLSVerify,
        },
      });
  }

  /**
   * The pod's service account: `KUBERNETES_SERVICE_HOST`/`_PORT`, and token, CA and namespace from
   * `/var/run/secrets/kubernetes.io/serviceaccount` (the token file is re-read on every request).
   */
  static fromInCluster(env: NodeJS.ProcessEnv = process.env, saDir: string = SA_DIR): KubeClient {
    const host = env.KUBERNETES_SERVICE_HOST;
    const port = env.KUBERNETES_SERVICE_PORT;
    if (!host || !port) throw new KubeError(0, 'not running in a cluster: KUBERNETES_SERVICE_HOST/KUBERNETES_SERVICE_PORT are not set');
    const tokenPath = `${saDir}/token`;
    let ca: Buffer;
    let namespace = 'default';
    try {
      readFileSync(tokenPath);
      ca = readFileSync(`${saDir}/ca.crt`);
    } catch {
      throw new KubeError(0, `service account credentials not found in ${saDir}`);
    }
    try {
      namespace = readFileSync(`${saDir}/namespace`, 'utf8').trim() || 'default';
    } catch {
      /* keep default */
    }
    const h = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
    return new KubeClient({
      server: `https://${h}:${port}`,
      token: () => readFileSync(tokenPath, 'utf8').trim(),
      ca,
      namespace,
    });
  }

  /**
   * A kubeconfig context (default: `current-context`). Supports `token`, `tokenFile`, client certificates
   * (`client-certificate(-data)`/`client-key(-data)`), `certificate-authority(-data)`,
   * `insecure-skip-tls-verify` and `tls-server-name`. Relative file paths resolve against the kubeconfig's
   * directory. Exec and auth-provider plugins are not supported.
   */
  static fromKubeconfig(path: string, context?: string, extra: Pick<KubeClientOptions, 'dispatcher' | 'requestTimeoutMs'> = {}): KubeClient {
    let doc: KubeconfigDoc;
    try {
      doc = (parseYAML(readFileSync(path, 'utf8')) ?? {}) as KubeconfigDoc;
    } catch (e) {
      throw new KubeError(0, `cannot read kubeconfig ${path}: ${(e as Error).message.split('\n')[0]}`);
    }
    const base = dirname(resolve(path));
    const file = (p: string): Buffer => readFileSync(isAbsolute(p) ? p : resolve(base, p));
    const ctxName = context ?? doc['current-context'];
    if (!ctxName) throw new KubeError(0, `kubeconfig ${path} has no current-context; pass a context`);
    const ctx = doc.contexts?.find((c) => c?.name === ctxName)?.context;
    if (!ctx) throw new KubeError(0, `kubeconfig ${path} has no context "${ctxName}"`);
    const cluster = doc.clusters?.find((c) => c?.name === ctx.cluster)?.cluster;
    if (!cluster?.server) throw new KubeError(0, `kubeconfig ${path}: context "${ctxName}" names cluster "${ctx.cluster ?? ''}", which has no server`);
    const user = (ctx.user ? doc.users?.find((u) => u?.name === ctx.user)?.user : undefined) ?? {};
    if (user.exec || user['auth-provider']) {
      throw new KubeError(0, `kubeconfig ${path}: user "${ctx.user}" uses an exec/auth-provider plugin, which is not supported; use a token or client certificate`);
    }
    const opts: KubeClientOptions = { server: cluster.server, namespace: ctx.namespace || 'default', ...extra };
    try {
      if (cluster['certificate-authority-data']) opts.ca = Buffer.from(cluster['certificate-authority-data'], 'base64');
      else if (cluster['certificate-authority']) opts.ca = file(cluster['certificate-authority']);
      if (cluster['insecure-skip-tls-verify']) opts.insecureSkipTLSVerify = true;
      if (cluster['tls-server-name']) opts.tlsServerName = cluster['tls-server-name'];
      if (user['client-certificate-data']) opts.cert = Buffer.from(user['client-certificate-data'], 'base64');
      else if (user['client-certificate']) opts.cert = file(user['client-certificate']);
      if (user['client-key-data']) opts.key = Buffer.from(user['client-key-data'], 'base64');
      else if (user['client-key']) opts.key = file(user['client-key']);
      if (user.token) opts.token = user.token;
      else if (user.tokenFile) {
        const tf = isAbsolute(user.tokenFile) ? user.tokenFile : resolve(base, user.tokenFile);
        opts.token = () => readFileSync(tf, 'utf8').trim();
      }
    } catch (e) {
      throw new KubeError(0, `kubeconfig ${path}: cannot read a referenced file (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
    }
    return new KubeClient(opts);
  }

  /** The Secret's data, base64-decoded; `undefined` when it does not exist. */
  async getSecret(namespace: string, name: string): Promise<Record<string, string> | undefined> {
    const path = `/api/v1/namespaces/${enc(namespace)}/secrets/${enc(name)}`;
    const res = await this.call('GET', path, { ok: [200, 404] });
    if (res.status === 404) return undefined;
    const data = ((res.data as { data?: Record<string, string> } | undefined)?.data ?? {}) as Record<string, unknown>;
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(data)) if (typeof v === 'string') out[k] = Buffer.from(v, 'base64').toString('utf8');
    return out;
  }

  /**
   * Server-side apply (field manager `idpbuilder`, force=true) of an Opaque Secret with these keys. Keys that
   * other field managers own stay; keys this manager applied before and no longer sends are removed.
   */
  async applySecret(spec: ApplySecretSpec): Promise<void> {
    const data: Record<string, string> = {};
    for (const k of Object.keys(spec.stringData).sort()) data[k] = Buffer.from(spec.stringData[k], 'utf8').toString('base64');
    const metadata: Record<string, unknown> = { name: spec.name, namespace: spec.namespace };
    if (spec.labels && Object.keys(spec.labels).length > 0) metadata.labels = spec.labels;
    if (spec.annotations && Object.keys(spec.annotations).length > 0) metadata.annotations = spec.annotations;
    if (spec.ownerReferences && spec.ownerReferences.length > 0) metadata.ownerReferences = spec.ownerReferences;
    const body = { apiVersion: 'v1', kind: 'Secret', metadata, type: spec.type ?? 'Opaque', data };
    const path = `/api/v1/namespaces/${enc(spec.namespace)}/secrets/${enc(spec.name)}?fieldManager=${FIELD_MANAGER}&force=true`;
    await this.call('PATCH', path, { body: JSON.stringify(body), contentType: 'application/apply-patch+yaml', ok: [200, 201] });
  }

  /** Merge-patches annotations onto a Job (`null` removes one). */
  async annotateJob(namespace: string, name: string, annotations: Record<string, string | null>): Promise<void> {
    const path = `/apis/batch/v1/namespaces/${enc(namespace)}/jobs/${enc(name)}`;
    await this.call('PATCH', path, {
      body: JSON.stringify({ metadata: { annotations } }),
      contentType: 'application/merge-patch+json',
      ok: [200],
    });
  }

  private async call(
    method: 'GET' | 'PATCH',
    path: string,
    opts: { body?: string; contentType?: string; ok: number[] },
  ): Promise<{ status: number; data: unknown }> {
    const headers: Record<string, string> = { accept: 'application/json', 'user-agent': 'idpbuilder-job' };
    if (this.token) {
      let token: string;
      try {
        token = this.token();
      } catch (e) {
        throw new KubeError(0, `cannot read the service account token (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
      }
      if (token) headers.authorization = `Bearer ${token}`;
    }
    if (opts.contentType) headers['content-type'] = opts.contentType;
    const what = `${method} ${path.split('?')[0]}`;
    let res: Dispatcher.ResponseData;
    let text: string;
    try {
      res = await request(`${this.server}${path}`, {
        method,
        headers,
        body: opts.body,
        dispatcher: this.dispatcher,
        headersTimeout: this.timeoutMs,
        bodyTimeout: this.timeoutMs,
      });
      text = await res.body.text();
    } catch (e) {
      const err = e as { code?: string; cause?: { code?: string }; message?: string };
      const code = err.code ?? err.cause?.code ?? '';
      throw new KubeError(0, `Kubernetes API ${what}: cannot reach ${this.server} (${code || oneLine(String(err.message ?? 'error'))})`);
    }
    let data: unknown;
    if (text.length > 0) {
      try {
        data = JSON.parse(text);
      } catch {
        data = undefined;
      }
    }
    if (opts.ok.includes(res.statusCode)) return { status: res.statusCode, data };
    const st = (data ?? {}) as { kind?: unknown; message?: unknown; reason?: unknown };
    const apiMessage = typeof st.message === 'string' && st.message ? oneLine(st.message) : `HTTP ${res.statusCode}`;
    throw new KubeError(res.statusCode, `Kubernetes API ${what}: ${apiMessage}`, typeof st.reason === 'string' ? st.reason : '');
  }
}

function enc(s: string): string {
  return encodeURIComponent(s);
}

function oneLine(s: string, max = 300): string {
  // eslint-disable-next-line no-control-regex
  const flat = s.replace(/[\u0000-\u001f\u007f]+/g, ' ').replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

interface KubeconfigDoc {
  'current-context'?: string;
  clusters?: Array<{
    name?: string;
    cluster?: {
      server?: string;
      'certificate-authority'?: string;
      'certificate-authority-data'?: string;
      'insecure-skip-tls-verify'?: boolean;
      'tls-server-name'?: string;
    };
  }>;
  users?: Array<{
    name?: string;
    user?: {
      token?: string;
      tokenFile?: string;
      'client-certificate'?: string;
      'client-certificate-data'?: string;
      'client-key'?: string;
      'client-key-data'?: string;
      exec?: unknown;
      'auth-provider'?: unknown;
    };
  }>;
  contexts?: Array<{ name?: string; context?: { cluster?: string; user?: string; namespace?: string } }>;
}
