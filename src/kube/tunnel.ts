/**
 * A loopback tunnel to a Service of another cluster, through that cluster's API server: the Job programs run
 * in the management cluster, where the target's Service DNS names (`gitea-http.gitea.svc.cluster.local`) do
 * not resolve, so they listen on `127.0.0.1:<ephemeral port>` and carry each accepted connection over a
 * port-forward (`POST /api/v1/namespaces/{ns}/pods/{pod}/portforward`, client-node's `PortForward` over a
 * WebSocket) to one ready Pod behind the Service. The bytes are passed through unchanged, so HTTP
 * `Authorization` headers (basic auth, tokens) reach the server; the API server's service proxy would strip
 * them (kube-apiserver removes `Authorization` after authenticating a request).
 *
 * What the target's kubeconfig must allow: `get` services, `list` pods in the Service's namespace, and
 * `create` pods/portforward (docs/multi-cluster.md).
 */
import { createServer, type Server, type Socket } from 'node:net';
import { PassThrough, Writable, type Readable } from 'node:stream';
import { KubeError } from './client.js';

/** The Service to reach: namespace, name and one of its `spec.ports[].port`. */
export interface ServiceTarget {
  namespace: string;
  service: string;
  port: number;
}

/** An open tunnel. */
export interface Tunnel {
  /** The loopback port connections are accepted on. */
  readonly localPort: number;
  /** `namespace/name` of the Pod the connections went to when the tunnel opened (a later one may take over). */
  readonly pod: string;
  /** The container port on that Pod (the Service port's `targetPort`, resolved). */
  readonly podPort: number;
  /** `endpoint` with its host and port replaced by `127.0.0.1:<localPort>` (scheme and path kept). */
  rewrite(endpoint: string): string;
  /** Stops accepting connections and closes the open ones. */
  close(): Promise<void>;
}

/** The part of a WebSocket the tunnel uses (the `ws` package's, as client-node returns it). */
export interface ForwardSocket {
  close(): void;
  on(event: 'close', listener: () => void): unknown;
  on(event: 'error', listener: (e: Error) => void): unknown;
}

/** The Kubernetes calls a tunnel makes; client-node's `CoreV1Api` and `PortForward` in production. */
export interface TunnelApi {
  readService(namespace: string, name: string): Promise<ServiceLike>;
  /** Pods matching `labelSelector` (`k=v,k=v`). */
  listPods(namespace: string, labelSelector: string): Promise<PodLike[]>;
  /**
   * Opens a port-forward to `pod`'s `port`: `output` receives the Pod's bytes, `errors` the error channel's,
   * `input` is sent to the Pod. Resolves once the WebSocket is open; rejects when it cannot be opened.
   */
  portForward(namespace: string, pod: string, port: number, output: Writable, errors: Writable, input: Readable): Promise<ForwardSocket>;
}

/** What the tunnel reads of a Service (core/v1 Service). */
export interface ServiceLike {
  spec?: { selector?: Record<string, string>; ports?: Array<{ name?: string; port: number; targetPort?: number | string }> };
}

/** What the tunnel reads of a Pod (core/v1 Pod). */
export interface PodLike {
  metadata?: { name?: string; deletionTimestamp?: unknown };
  spec?: { containers?: Array<{ ports?: Array<{ name?: string; containerPort: number }> }> };
  status?: { phase?: string; conditions?: Array<{ type: string; status: string }> };
}

/**
 * Opens a tunnel to `target`. Before answering it checks that one connection can be forwarded, so a target
 * that refuses (RBAC, no kubelet route, Pod gone) fails here with a message naming the Pod, not later as a
 * reset connection. Later, a connection whose forward is refused is tried once more on the Ready Pod the
 * Service selects then (the first one restarted or was replaced), and that Pod serves the next connections.
 *
 * @throws KubeError when the Service cannot be read (its HTTP status), has no selector, no port `target.port`,
 *   no Running and Ready Pod, a named `targetPort` no container declares, or the port-forward is refused.
 */
export async function openServiceTunnel(api: TunnelApi, target: ServiceTarget): Promise<Tunnel> {
  const where = `Service ${target.namespace}/${target.service}`;
  const svc = await api.readService(target.namespace, target.service);
  const selector = svc.spec?.selector ?? {};
  if (!Object.keys(selector).length) throw new KubeError(0, `${where} has no selector: no Pod to port-forward to`);
  const sp = (svc.spec?.ports ?? []).find((p) => p.port === target.port);
  if (!sp) throw new KubeError(0, `${where} has no port ${target.port}`);
  const labelSelector = Object.keys(selector)
    .sort()
    .map((k) => `${k}=${selector[k]}`)
    .join(',');
  /** The first Running and Ready Pod (by name) and its container port. @throws KubeError */
  const pick = async (): Promise<{ name: string; port: number }> => {
    const pods = (await api.listPods(target.namespace, labelSelector)).filter(ready).sort((a, b) => (a.metadata!.name! < b.metadata!.name! ? -1 : 1));
    if (!pods.length) throw new KubeError(0, `${where}: no Running and Ready Pod matches ${labelSelector}`);
    const name = pods[0].metadata!.name!;
    const port = containerPort(pods[0], sp.targetPort ?? sp.port);
    if (port === undefined) throw new KubeError(0, `${where}: Pod ${name} declares no container port named "${String(sp.targetPort)}"`);
    return { name, port };
  };
  const first = await pick();
  const podName = first.name;
  const podPort = first.port;
  const what = `port-forward to Pod ${target.namespace}/${podName} port ${podPort}`;

  // Pre-flight: one forward opened and closed.
  await forward(api, target.namespace, podName, podPort, what);

  // The Pod connections go to; when a forward to it is refused (the Pod restarted or was replaced during the
  // Job), the connection is tried once more on the Ready Pod the Service then selects.
  let current = first;
  const open = async (output: Writable, errors: Writable, input: Readable): Promise<ForwardSocket> => {
    const tried = current;
    try {
      return await api.portForward(target.namespace, tried.name, tried.port, output, errors, input);
    } catch (e) {
      const next = await pick().catch(() => undefined);
      if (!next || (next.name === tried.name && next.port === tried.port)) throw e;
      current = next;
      return api.portForward(target.namespace, next.name, next.port, output, errors, input);
    }
  };

  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    // a connection's error channel is not read: the client sees its connection end
    open(socket, discard(), socket)
      .then((ws) => {
        // the client may have gone (or the tunnel closed) while the forward was being opened
        if (socket.destroyed) return ws.close();
        ws.on('close', () => socket.end());
        ws.on('error', () => socket.destroy());
        socket.on('close', () => ws.close());
      })
      .catch(() => socket.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const localPort = (server.address() as { port: number }).port;
  return {
    localPort,
    pod: `${target.namespace}/${podName}`,
    podPort,
    rewrite: (endpoint) => {
      const u = new URL(endpoint);
      // the scheme stays: TLS to a Service's port is still TLS (verified against the Service's name, it fails
      // closed on 127.0.0.1 rather than sending plain HTTP to a TLS port)
      return `${u.protocol}//127.0.0.1:${localPort}${u.pathname === '/' ? '' : u.pathname.replace(/\/+$/, '')}`;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Running, Ready and not being deleted. */
function ready(p: PodLike): boolean {
  if (!p.metadata?.name || p.metadata.deletionTimestamp) return false;
  return p.status?.phase === 'Running' && (p.status.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
}

/** A Service port's `targetPort` on `pod`: a number as is, a name from the containers' ports. */
function containerPort(pod: PodLike, targetPort: number | string): number | undefined {
  if (typeof targetPort === 'number') return targetPort;
  if (/^[0-9]+$/.test(targetPort)) return Number(targetPort);
  for (const c of pod.spec?.containers ?? []) for (const p of c.ports ?? []) if (p.name === targetPort) return p.containerPort;
  return undefined;
}

/** Opens one forward with an empty input and closes it. @throws KubeError naming `what`. */
async function forward(api: TunnelApi, namespace: string, pod: string, port: number, what: string): Promise<void> {
  const errors = collector();
  const input = new PassThrough();
  let ws: ForwardSocket;
  try {
    ws = await api.portForward(namespace, pod, port, discard(), errors.stream, input);
  } catch (e) {
    input.destroy();
    throw new KubeError(0, `${what} failed: ${message(e)}`);
  }
  ws.close();
  input.destroy();
  const said = errors.text();
  if (said) throw new KubeError(0, `${what} failed: ${said}`);
}

/** A Writable that drops what it is given. */
function discard(): Writable {
  return new Writable({ write: (_c, _e, done) => done() });
}

/** A Writable that keeps what the error channel says (at most 500 characters). */
function collector(): { stream: Writable; text: () => string } {
  let text = '';
  const stream = new Writable({
    write: (chunk: Buffer, _enc, done) => {
      if (text.length < 500) text += chunk.toString('utf8');
      done();
    },
  });
  return { stream, text: () => text.replace(/\s+/g, ' ').trim().slice(0, 500) };
}

function message(e: unknown): string {
  const m = e instanceof Error ? e.message : typeof (e as { message?: unknown })?.message === 'string' ? (e as { message: string }).message : String(e);
  return m.replace(/\s+/g, ' ').trim().slice(0, 300) || 'error';
}
