/**
 * The Kubernetes event sink: creates `events.k8s.io/v1` Events (POST
 * /apis/events.k8s.io/v1/namespaces/<ns>/events) through src/kube/client.ts, whose single loader gives the
 * configuration (the pod's service account in production). 409 AlreadyExists means another replica (or an
 * earlier try) wrote the same change: that is success. Errors carry the HTTP status and the API's reason
 * only, never the event's content.
 *
 * RBAC: `create` on `events.k8s.io/events` in the namespaces of the objects (docs/security.md).
 */
import { KubeClient, KubeError, type KubeConfigSource } from '../kube/client.js';
import type { EmitResult, EventSink, KubeEvent } from './types.js';

/**
 * Why the Kubernetes sink could not write an Event: the HTTP status (0 when no answer came) and `POST <path>: …`
 * without the event's content.
 */
export class EventSinkError extends Error {
  override readonly name = 'EventSinkError';
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** Per-request timeout of the sink, in milliseconds. */
const EVENT_REQUEST_TIMEOUT_MS = 10_000;

/**
 * The EventSink that writes events.k8s.io/v1 Events through the API server (`POST
 * /apis/events.k8s.io/v1/namespaces/<ns>/events`, 10 s per request). `emit` answers `created`, or `exists` on 409
 * (the event's name is a hash of what it reports, so a repeat is the same event), and throws EventSinkError
 * otherwise.
 */
export class KubernetesEventSink implements EventSink {
  constructor(private readonly kube: Pick<KubeClient, 'createEvent'>) {}

  /**
   * The pod's service account (src/kube/client.ts `in-cluster`: `KUBERNETES_SERVICE_HOST`/`_PORT` and
   * /var/run/secrets/kubernetes.io/serviceaccount; `pathPrefix` is for tests).
   * @throws KubeError outside a cluster or without the service-account token and CA.
   */
  static fromInCluster(opts: { pathPrefix?: string } = {}): Promise<KubernetesEventSink> {
    return KubernetesEventSink.load({ kind: 'in-cluster', pathPrefix: opts.pathPrefix });
  }

  /** A sink over any configuration source of src/kube/client.ts. @throws KubeError as `loadKubeConfig`. */
  static async load(source: KubeConfigSource): Promise<KubernetesEventSink> {
    return new KubernetesEventSink(await KubeClient.load(source, { requestTimeoutMs: EVENT_REQUEST_TIMEOUT_MS }));
  }

  async emit(event: KubeEvent, signal: AbortSignal): Promise<EmitResult> {
    const path = `/apis/events.k8s.io/v1/namespaces/${encodeURIComponent(event.metadata.namespace)}/events`;
    try {
      await this.kube.createEvent(event, signal);
      return 'created';
    } catch (e) {
      if (!(e instanceof KubeError)) throw new EventSinkError(0, `POST ${path}: request failed`);
      if (e.status === 409) return 'exists';
      if (e.status === 0) throw new EventSinkError(0, `POST ${path}: ${e.message.replace(/^Kubernetes API POST \S+: /, '')}`);
      throw new EventSinkError(e.status, `POST ${path}: HTTP ${e.status}${e.reason ? ` ${e.reason}` : ''}`);
    }
  }

  /** Nothing to release: client-node opens a connection per request. */
  async close(): Promise<void> {}
}
