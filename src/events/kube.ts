/**
 * The Kubernetes event sink: POST /apis/events.k8s.io/v1/namespaces/<ns>/events with the pod's service
 * account (undici). 409 AlreadyExists means another replica (or an earlier try) wrote the same change:
 * that is success. Errors carry the HTTP status and the API's reason only, never the event's content.
 *
 * RBAC: `create` on `events.k8s.io/events` in the namespaces of the objects (docs/security.md).
 */
import { readFileSync } from 'node:fs';
import { Agent, request, type Dispatcher } from 'undici';
import { KubeClient } from '../kube/client.js';
import type { EmitResult, EventSink, KubeEvent } from './types.js';

const SA_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

export interface KubernetesEventSinkOptions {
  /** API server URL, e.g. https://10.96.0.1:443 */
  server: string;
  /** Bearer token, re-read on every call (bound service account tokens rotate). */
  token?: () => string;
  ca?: string | Buffer;
  dispatcher?: Dispatcher;
}

export class EventSinkError extends Error {
  override readonly name = 'EventSinkError';
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export class KubernetesEventSink implements EventSink {
  private readonly server: string;
  private readonly dispatcher: Dispatcher;
  private readonly ownDispatcher: boolean;

  constructor(private readonly opts: KubernetesEventSinkOptions) {
    this.server = opts.server.replace(/\/+$/, '');
    this.ownDispatcher = !opts.dispatcher;
    this.dispatcher = opts.dispatcher ?? new Agent({ connections: 4, connect: opts.ca !== undefined ? { ca: opts.ca } : {} });
  }

  /**
   * The pod's service account. The address and the namespace come from src/kube/client.ts's in-cluster
   * loader (which fails clearly outside a cluster); token and CA are read from the same directory.
   */
  static fromInCluster(env: NodeJS.ProcessEnv = process.env, saDir: string = SA_DIR): KubernetesEventSink {
    const client = KubeClient.fromInCluster(env, saDir);
    const tokenPath = `${saDir}/token`;
    return new KubernetesEventSink({ server: client.server, token: () => readFileSync(tokenPath, 'utf8').trim(), ca: readFileSync(`${saDir}/ca.crt`) });
  }

  async emit(event: KubeEvent, signal: AbortSignal): Promise<EmitResult> {
    const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json', 'user-agent': 'idpbuilder-hooks' };
    if (this.opts.token) {
      let token = '';
      try {
        token = this.opts.token();
      } catch (e) {
        throw new EventSinkError(0, `cannot read the service account token (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
      }
      if (token) headers.authorization = `Bearer ${token}`;
    }
    const path = `/apis/events.k8s.io/v1/namespaces/${encodeURIComponent(event.metadata.namespace)}/events`;
    let res: Dispatcher.ResponseData;
    try {
      res = await request(`${this.server}${path}`, { method: 'POST', headers, body: JSON.stringify(event), dispatcher: this.dispatcher, signal, headersTimeout: 10_000, bodyTimeout: 10_000 });
    } catch (e) {
      const err = e as { code?: string; name?: string };
      throw new EventSinkError(0, `POST ${path}: ${err.code ?? err.name ?? 'request failed'}`);
    }
    const text = await res.body.text().catch(() => '');
    if (res.statusCode === 200 || res.statusCode === 201) return 'created';
    if (res.statusCode === 409) return 'exists';
    let reason = '';
    try {
      reason = String((JSON.parse(text) as { reason?: unknown }).reason ?? '');
    } catch {
      /* not a Status */
    }
    throw new EventSinkError(res.statusCode, `POST ${path}: HTTP ${res.statusCode}${reason ? ` ${reason}` : ''}`);
  }

  async close(): Promise<void> {
    if (this.ownDispatcher) await this.dispatcher.close();
  }
}
