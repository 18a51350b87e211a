/**
 * The project's Kubernetes API client: a thin adapter over `@kubernetes/client-node` (1.x) for the Job
 * programs (read a Secret, server-side-apply a Secret, annotate a Job) and the events sink (create an
 * `events.k8s.io/v1` Event).
 *
 * Configuration comes from one loader, {@link loadKubeConfig}, over client-node's `KubeConfig`, so every
 * kubeconfig the library understands works: bearer `token`, `tokenFile`, client certificates,
 * `certificate-authority(-data)`, `insecure-skip-tls-verify`, `tls-server-name`, `proxy-url`, `exec`
 * credential plugins (client.authentication.k8s.io ExecCredential: EKS, GKE, AKS/kubelogin…) and the
 * auth-providers client-node ships (`oidc`, `gcp`, `azure` with `cmd-path`), plus the pod's service account.
 *
 * client-node is imported on first use only (about 0.8 s of module loading on a 2-core machine), so the
 * commands that never talk to a cluster (`render`, `validate`…) do not pay for it.
 *
 * Secret values are never logged nor put in error messages: errors carry the HTTP status, the API's
 * `Status.reason` and `Status.message` (which names objects and keys, never data), or a connection code.
 */
import { accessSync, constants, readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import type { Cluster, ConfigurationOptions, KubeConfig, ObservableMiddleware, RequestContext, ResponseContext, User } from '@kubernetes/client-node';
import { parse as parseYAML } from 'yaml';
import type { ForwardSocket, PodLike, ServiceLike, TunnelApi } from './tunnel.js';

type ClientNode = typeof import('@kubernetes/client-node');

let clientNode: Promise<ClientNode> | undefined;

/** `@kubernetes/client-node`, imported once, on first use. */
function lib(): Promise<ClientNode> {
  return (clientNode ??= import('@kubernetes/client-node'));
}

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

/**
 * A Kubernetes ownerReference (`metadata.ownerReferences[]`, meta/v1 OwnerReference): the owner's apiVersion, kind,
 * name and uid; `controller` and `blockOwnerDeletion` as in the API.
 */
export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

/**
 * A Secret to server-side apply (`applySecret`): namespace and name, labels, annotations, owner references, the
 * values in plain text (`stringData`, sent base64-encoded as `data`) and the Secret `type` (default `Opaque`).
 */
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

/** Where the configuration comes from. */
export type KubeConfigSource =
  /**
   * A kubeconfig file and a context in it (default: its `current-context`). Relative file paths
   * (`certificate-authority`, `client-certificate`, `client-key`, `tokenFile`, an `exec` command with a
   * slash) resolve against the file's directory, as kubectl does.
   */
  | { kind: 'file'; path: string; context?: string }
  /**
   * The pod's service account: `KUBERNETES_SERVICE_HOST`/`KUBERNETES_SERVICE_PORT` from `process.env`
   * (client-node reads them there), token, CA and namespace from
   * `<pathPrefix>/var/run/secrets/kubernetes.io/serviceaccount/`. The token file is re-read when the copy in
   * memory is older than 60 s (client-node's FileAuth, as client-go does): kubelet rotates bound tokens
   * well before they expire. `pathPrefix` (default `''`) exists for tests.
   */
  | { kind: 'in-cluster'; pathPrefix?: string }
  /** kubectl's order: `$KUBECONFIG` (a path list), `~/.kube/config`, then the in-cluster service account. */
  | { kind: 'default'; context?: string }
  /**
   * A kubeconfig's text, e.g. read from a target cluster's Secret (`what` names it in errors), and a context in
   * it (default: its `current-context`). Credentials must be embedded (`*-data`, `token`): paths to files are
   * refused (they would name files of another machine), and so are `exec` and `auth-provider` users (whoever may
   * write the Secret would choose a program the reader runs).
   */
  | { kind: 'text'; text: string; what: string; context?: string }
  /** One server and an optional static token, for programmatic use. */
  | { kind: 'server'; server: string; token?: string; caData?: string; insecureSkipTLSVerify?: boolean; namespace?: string };

/** client-node's default service-account directory (without a prefix). */
const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

/**
 * The single loader of Kubernetes client configuration (Job programs, events sink). Returns client-node's
 * `KubeConfig` with the chosen context current.
 *
 * @throws KubeError (status 0) when the file cannot be read or parsed, the context does not exist, its
 *   cluster has no server, a file it references cannot be read, or (in-cluster) the service env variables
 *   or the service-account token/CA are missing. Messages name paths and contexts, never credentials.
 */
export async function loadKubeConfig(source: KubeConfigSource): Promise<KubeConfig> {
  const k8s = await lib();
  const kc = new k8s.KubeConfig();
  switch (source.kind) {
    case 'file':
      loadFile(kc, source.path, source.context);
      break;
    case 'in-cluster': {
      const host = process.env.KUBERNETES_SERVICE_HOST;
      const port = process.env.KUBERNETES_SERVICE_PORT;
      if (!host || !port) throw new KubeError(0, 'not running in a cluster: KUBERNETES_SERVICE_HOST/KUBERNETES_SERVICE_PORT are not set');
      const dir = `${source.pathPrefix ?? ''}${SERVICE_ACCOUNT_DIR}`;
      try {
        accessSync(`${dir}/token`, constants.R_OK);
        accessSync(`${dir}/ca.crt`, constants.R_OK);
      } catch {
        throw new KubeError(0, `service account credentials not found in ${dir}`);
      }
      kc.loadFromCluster(source.pathPrefix ?? '');
      break;
    }
    case 'text':
      loadText(kc, source.text, source.what, source.context);
      break;
    case 'default':
      try {
        kc.loadFromDefault();
      } catch (e) {
        throw new KubeError(0, `cannot load the default kubeconfig: ${oneLine((e as Error).message)}`);
      }
      if (source.context) useContext(kc, source.context, 'the default kubeconfig');
      break;
    case 'server': {
      try {
        new URL(source.server);
      } catch {
        throw new KubeError(0, 'Kubernetes API server URL is not valid');
      }
      kc.loadFromOptions({
        clusters: [plainHTTP({ name: 'server', server: source.server.replace(/\/+$/, ''), caData: source.caData, skipTLSVerify: source.insecureSkipTLSVerify === true })],
        users: [{ name: 'user', token: source.token }],
        contexts: [{ name: 'server', cluster: 'server', user: 'user', namespace: source.namespace }],
        currentContext: 'server',
      });
      break;
    }
  }
  if (!kc.getCurrentCluster()?.server) throw new KubeError(0, `kubeconfig context "${kc.getCurrentContext() ?? ''}" has no cluster with a server`);
  return kc;
}

function loadFile(kc: KubeConfig, path: string, context: string | undefined): void {
  let text: string;
  let raw: RawKubeconfig;
  try {
    text = readFileSync(path, 'utf8');
    raw = (parseYAML(text) ?? {}) as RawKubeconfig;
    kc.loadFromString(text);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new KubeError(0, `cannot read kubeconfig ${path}: ${err.code ?? oneLine(err.message.split('\n')[0])}`);
  }
  const base = dirname(resolve(path));
  const abs = (p: string): string => (isAbsolute(p) ? p : resolve(base, p));
  // client-node's loadFromFile does this for CA and client cert/key; kubectl also resolves `tokenFile` and
  // an exec `command` containing a slash against the kubeconfig's directory. client-node reads `tokenFile`
  // nowhere, so it becomes its FileAuth provider (re-read after 60 s), unless the user has other auth.
  const rawUsers = new Map((raw.users ?? []).map((u) => [u?.name, u?.user ?? {}]));
  const users: User[] = kc.getUsers().map((u) => {
    const r = rawUsers.get(u.name) ?? {};
    let out: User = { ...u, ...(u.certFile ? { certFile: abs(u.certFile) } : {}), ...(u.keyFile ? { keyFile: abs(u.keyFile) } : {}) };
    if (out.exec && typeof out.exec.command === 'string' && out.exec.command.includes('/')) {
      out = { ...out, exec: { ...out.exec, command: abs(out.exec.command) } };
    }
    if (typeof r.tokenFile === 'string' && r.tokenFile && !out.token && !out.exec && !out.authProvider) {
      out = { ...out, authProvider: { name: 'tokenFile', config: { tokenFile: abs(r.tokenFile) } } };
    }
    return out;
  });
  kc.loadFromOptions({
    clusters: kc.getClusters().map((c) => plainHTTP(c.caFile ? { ...c, caFile: abs(c.caFile) } : c)),
    users,
    contexts: kc.getContexts(),
    currentContext: kc.getCurrentContext(),
  });
  const ctxName = context ?? kc.getCurrentContext();
  if (!ctxName) throw new KubeError(0, `kubeconfig ${path} has no current-context; pass a context`);
  useContext(kc, ctxName, `kubeconfig ${path}`);
  const ctx = kc.getContextObject(ctxName)!;
  if (!kc.getCurrentCluster()?.server) throw new KubeError(0, `kubeconfig ${path}: context "${ctxName}" names cluster "${ctx.cluster ?? ''}", which has no server`);
  // Fail at start, not at the first request, when a referenced file is missing.
  const user = kc.getCurrentUser();
  const cluster = kc.getCurrentCluster();
  const files = [cluster?.caFile, user?.certFile, user?.keyFile, user?.authProvider?.config?.tokenFile].filter((f): f is string => typeof f === 'string' && f !== '');
  for (const f of files) {
    try {
      accessSync(f, constants.R_OK);
    } catch (e) {
      throw new KubeError(0, `kubeconfig ${path}: cannot read a referenced file (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
    }
  }
}

/**
 * Loads a kubeconfig given as text (see {@link KubeConfigSource} `text`).
 * @throws KubeError naming `what`: not YAML (the position only: a YAML parser quotes the tag, alias or
 *   directive it could not read, which may be a credential), no context, files referred to, or a user entry that
 *   runs a program (`exec`, `auth-provider`).
 */
function loadText(kc: KubeConfig, text: string, what: string, context?: string): void {
  try {
    kc.loadFromString(text);
  } catch (e) {
    const mark = (e as { mark?: { line?: unknown; column?: unknown } }).mark;
    if (mark && typeof mark.line === 'number' && typeof mark.column === 'number') {
      throw new KubeError(0, `${what} is not a kubeconfig: not valid YAML (line ${mark.line + 1}, column ${mark.column + 1})`);
    }
    // client-node's own checks name fields and entry names only (`clusters[0].cluster.server is missing`)
    throw new KubeError(0, `${what} is not a kubeconfig: ${oneLine((e as Error).message.split('\n')[0])}`);
  }
  kc.loadFromOptions({ clusters: kc.getClusters().map(plainHTTP), users: kc.getUsers(), contexts: kc.getContexts(), currentContext: kc.getCurrentContext() });
  const ctxName = context ?? kc.getCurrentContext() ?? kc.getContexts()[0]?.name;
  if (!ctxName) throw new KubeError(0, `${what} has no context`);
  useContext(kc, ctxName, what);
  if (!kc.getCurrentCluster()?.server) throw new KubeError(0, `${what}: context "${ctxName}" has a cluster without a server`);
  const user = kc.getCurrentUser();
  const cluster = kc.getCurrentCluster();
  if (cluster?.caFile || user?.certFile || user?.keyFile) throw new KubeError(0, `${what} refers to files (certificate-authority, client-certificate or client-key): embed them (*-data)`);
  // Whoever may write the Secret would choose a command to run with the reader's rights (another namespace's Job).
  const runs = user?.exec ? 'exec' : user?.authProvider ? 'auth-provider' : undefined;
  if (runs) throw new KubeError(0, `${what}: user "${user!.name}" uses ${runs}: a kubeconfig read from a Secret must embed its credentials (token, or client-certificate-data and client-key-data)`);
}

/**
 * client-node refuses an `http://` server unless `insecure-skip-tls-verify` is set; kubectl does not ask for
 * it. Plain HTTP has no certificate to verify, so the flag changes nothing else: set it, as kubectl behaves.
 */
function plainHTTP(c: Cluster): Cluster {
  return c.server.startsWith('http:') && !c.skipTLSVerify ? { ...c, skipTLSVerify: true } : c;
}

function useContext(kc: KubeConfig, name: string, where: string): void {
  if (!kc.getContextObject(name)) throw new KubeError(0, `${where} has no context "${name}"`);
  kc.setCurrentContext(name);
}

/** Field manager of idpbuilder's server-side applies (the Job programs' client and the CLI; re-exported by api/names.ts). */
export const FIELD_MANAGER = 'idpbuilder';

/** Options of the factories. */
export interface KubeClientOptions {
  /** Per-request timeout in milliseconds (connect to last byte). Default 30 000. */
  requestTimeoutMs?: number;
}

/** A request's extra settings, applied through a client-node middleware. */
interface CallOptions {
  contentType?: string;
  signal?: AbortSignal;
}

/**
 * The project's Kubernetes API client: a thin adapter over `@kubernetes/client-node` with per-request timeouts
 * (default 30 000 ms) that the Job programs and the events sink use to read and apply Secrets, annotate Jobs and
 * create Events. Build it with `load`, `fromInCluster` or `fromKubeconfig` (they throw KubeError when the
 * configuration cannot be loaded); failed requests throw KubeError with the HTTP status.
 */
export class KubeClient {
  /** API server URL without a trailing slash. */
  readonly server: string;
  /** The namespace of the context (kubeconfig) or of the pod (in-cluster); `default` when none. */
  readonly namespace: string;
  private readonly timeoutMs: number;

  private constructor(
    private readonly k8s: ClientNode,
    /** client-node's configuration, for callers that need another API group. */
    readonly config: KubeConfig,
    opts: KubeClientOptions,
  ) {
    this.server = (config.getCurrentCluster()?.server ?? '').replace(/\/+$/, '');
    const ctx = config.getContextObject(config.getCurrentContext());
    this.namespace = ctx?.namespace?.trim() || 'default';
    this.timeoutMs = opts.requestTimeoutMs ?? 30_000;
  }

  /** A client over any {@link KubeConfigSource}. @throws KubeError as {@link loadKubeConfig}. */
  static async load(source: KubeConfigSource, opts: KubeClientOptions = {}): Promise<KubeClient> {
    const config = await loadKubeConfig(source);
    return new KubeClient(await lib(), config, opts);
  }

  /** The pod's service account (see {@link KubeConfigSource} `in-cluster`). */
  static fromInCluster(opts: KubeClientOptions & { pathPrefix?: string } = {}): Promise<KubeClient> {
    return KubeClient.load({ kind: 'in-cluster', pathPrefix: opts.pathPrefix }, opts);
  }

  /** A kubeconfig file and context (default: `current-context`); exec and auth-provider users included. */
  static fromKubeconfig(path: string, context?: string, opts: KubeClientOptions = {}): Promise<KubeClient> {
    return KubeClient.load({ kind: 'file', path, context }, opts);
  }

  /**
   * The calls a Service tunnel (./tunnel.ts) makes, with this client's configuration: read the Service, list
   * its Pods, open a port-forward (client-node `PortForward`, one WebSocket per connection).
   * Each call rejects with a KubeError (reads) or client-node's error (the WebSocket).
   */
  tunnelApi(): TunnelApi {
    const core = this.config.makeApiClient(this.k8s.CoreV1Api);
    const pf = new this.k8s.PortForward(this.config);
    return {
      readService: (namespace, name) =>
        this.call(`GET /api/v1/namespaces/${enc(namespace)}/services/${enc(name)}`, {}, (o) => core.readNamespacedService({ namespace, name }, o)) as Promise<ServiceLike>,
      listPods: async (namespace, labelSelector) =>
        (await this.call(`GET /api/v1/namespaces/${enc(namespace)}/pods`, {}, (o) => core.listNamespacedPod({ namespace, labelSelector }, o))).items as PodLike[],
      portForward: async (namespace, pod, port, output, errors, input) => (await pf.portForward(namespace, pod, [port], output, errors, input)) as unknown as ForwardSocket,
    };
  }

  /** The Secret's data, base64-decoded; `undefined` when it does not exist. */
  async getSecret(namespace: string, name: string): Promise<Record<string, string> | undefined> {
    const api = this.config.makeApiClient(this.k8s.CoreV1Api);
    const what = `GET /api/v1/namespaces/${enc(namespace)}/secrets/${enc(name)}`;
    let secret: { data?: Record<string, string> };
    try {
      secret = await this.call(what, {}, (o) => api.readNamespacedSecret({ namespace, name }, o));
    } catch (e) {
      if (e instanceof KubeError && e.status === 404) return undefined;
      throw e;
    }
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(secret.data ?? {})) if (typeof v === 'string') out[k] = Buffer.from(v, 'base64').toString('utf8');
    return out;
  }

  /**
   * Server-side apply (`application/apply-patch+yaml`, field manager `idpbuilder`, force=true) of an Opaque
   * Secret with these keys. Keys that other field managers own stay; keys this manager applied before and no
   * longer sends are removed.
   */
  async applySecret(spec: ApplySecretSpec): Promise<void> {
    const data: Record<string, string> = {};
    for (const k of Object.keys(spec.stringData).sort()) data[k] = Buffer.from(spec.stringData[k], 'utf8').toString('base64');
    const metadata: Record<string, unknown> = { name: spec.name, namespace: spec.namespace };
    if (spec.labels && Object.keys(spec.labels).length > 0) metadata.labels = spec.labels;
    if (spec.annotations && Object.keys(spec.annotations).length > 0) metadata.annotations = spec.annotations;
    if (spec.ownerReferences && spec.ownerReferences.length > 0) metadata.ownerReferences = spec.ownerReferences;
    const body = { apiVersion: 'v1', kind: 'Secret', metadata, type: spec.type ?? 'Opaque', data };
    const api = this.config.makeApiClient(this.k8s.CoreV1Api);
    const what = `PATCH /api/v1/namespaces/${enc(spec.namespace)}/secrets/${enc(spec.name)}`;
    await this.call(what, { contentType: this.k8s.PatchStrategy.ServerSideApply }, (o) =>
      api.patchNamespacedSecret({ namespace: spec.namespace, name: spec.name, body, fieldManager: FIELD_MANAGER, force: true }, o),
    );
  }

  /** Merge-patches annotations onto a Job (`null` removes one). */
  async annotateJob(namespace: string, name: string, annotations: Record<string, string | null>): Promise<void> {
    const api = this.config.makeApiClient(this.k8s.BatchV1Api);
    const what = `PATCH /apis/batch/v1/namespaces/${enc(namespace)}/jobs/${enc(name)}`;
    await this.call(what, { contentType: this.k8s.PatchStrategy.MergePatch }, (o) =>
      api.patchNamespacedJob({ namespace, name, body: { metadata: { annotations } } }, o),
    );
  }

  /**
   * Creates an `events.k8s.io/v1` Event in `event.metadata.namespace`. `signal` aborts the request (the
   * client's timeout applies too). @throws KubeError (409 AlreadyExists when an Event of that name exists).
   */
  async createEvent(event: { apiVersion: 'events.k8s.io/v1'; kind: 'Event'; metadata: { name: string; namespace: string } }, signal?: AbortSignal): Promise<void> {
    const api = this.config.makeApiClient(this.k8s.EventsV1Api);
    const namespace = event.metadata.namespace;
    const what = `POST /apis/events.k8s.io/v1/namespaces/${enc(namespace)}/events`;
    await this.call(what, { signal }, (o) => api.createNamespacedEvent({ namespace, body: event as never }, o));
  }

  /**
   * Runs one client-node call with a middleware that sets the timeout/abort signal and, for patches, the
   * Content-Type (client-node's generated code would send `application/json-patch+json`), and maps every
   * failure to a KubeError.
   */
  private async call<T>(what: string, opts: CallOptions, fn: (o: ConfigurationOptions) => Promise<T>): Promise<T> {
    const { Observable } = this.k8s;
    const timeout = AbortSignal.timeout(this.timeoutMs);
    const signal = opts.signal ? AbortSignal.any([opts.signal, timeout]) : timeout;
    const middleware: ObservableMiddleware = {
      pre: (ctx: RequestContext) => {
        if (opts.contentType) ctx.setHeaderParam('Content-Type', opts.contentType);
        ctx.setSignal(signal);
        return new Observable(Promise.resolve(ctx));
      },
      post: (res: ResponseContext) => new Observable(Promise.resolve(res)),
    };
    try {
      return await fn({ middleware: [middleware], middlewareMergeStrategy: 'append' });
    } catch (e) {
      throw this.toKubeError(e, what, timeout.aborted);
    }
  }

  private toKubeError(e: unknown, what: string, timedOut: boolean): KubeError {
    const err = e as { code?: unknown; body?: unknown; name?: string; type?: string; errno?: unknown; message?: string };
    if (e instanceof this.k8s.ApiException) {
      const code = typeof err.code === 'number' ? err.code : 0;
      let st: { message?: unknown; reason?: unknown } = {};
      if (typeof err.body === 'string' && err.body) {
        try {
          st = (JSON.parse(err.body) ?? {}) as typeof st;
        } catch {
          /* not a Status */
        }
      } else if (err.body && typeof err.body === 'object') st = err.body as typeof st;
      const apiMessage = typeof st.message === 'string' && st.message ? oneLine(st.message) : `HTTP ${code}`;
      // client-node drops the body of a 401; Kubernetes' reason for it is Unauthorized.
      const reason = typeof st.reason === 'string' ? st.reason : code === 401 ? 'Unauthorized' : '';
      return new KubeError(code, `Kubernetes API ${what}: ${apiMessage}`, reason);
    }
    if (timedOut) return new KubeError(0, `Kubernetes API ${what}: no answer from ${this.server} within ${this.timeoutMs / 1000}s`);
    if (err?.name === 'AbortError') return new KubeError(0, `Kubernetes API ${what}: aborted`);
    if (err?.name === 'FetchError') {
      const code = typeof err.code === 'string' ? err.code : typeof err.errno === 'string' ? err.errno : '';
      return new KubeError(0, `Kubernetes API ${what}: cannot reach ${this.server} (${code || oneLine(String(err.message ?? 'error'))})`);
    }
    // Credentials (an exec plugin that failed, an unreadable file…) or configuration, before any request.
    const code = typeof err?.code === 'string' ? ` ${err.code}` : '';
    return new KubeError(0, `Kubernetes API ${what}: cannot prepare the request (credentials or configuration${code}): ${oneLine(String(err?.message ?? e), 200) || 'error'}`);
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

/** The only raw kubeconfig field read besides client-node's parsing: `users[].user.tokenFile`. */
interface RawKubeconfig {
  users?: Array<{ name?: string; user?: { tokenFile?: unknown } } | null>;
}
