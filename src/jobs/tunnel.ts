/**
 * The Job programs' side of a {@link ServiceTunnel} (src/api/jobs.ts): a git server on a target cluster is
 * reached through that cluster's API server (src/kube/tunnel.ts). The target's kubeconfig is read from its
 * Secret in the management cluster through the Job's own client (never mounted, never in env); the program's
 * writes (token Secrets, result annotations) stay in the management cluster.
 */
import type { ServiceTunnel } from '../api/jobs.js';
import type { WaitReadyOptions } from '../gitea/client.js';
import { KubeClient } from '../kube/client.js';
import { openServiceTunnel, type Tunnel } from '../kube/tunnel.js';

/** Opens the tunnel of a config, reading the kubeconfig Secret through `kube` (the management cluster). */
export type TunnelOpener = (tunnel: ServiceTunnel, kube: Pick<KubeClient, 'getSecret'>) => Promise<Tunnel>;

/**
 * The production {@link TunnelOpener}.
 *
 * @throws Error when the kubeconfig Secret or its key is missing; KubeError when the kubeconfig cannot be
 *   loaded or the tunnel cannot be opened (see openServiceTunnel). Messages name Secrets and Pods, never
 *   the kubeconfig's content.
 */
export const openTunnel: TunnelOpener = async (tunnel, kube) => {
  const ref = tunnel.kubeconfigSecretRef;
  const what = `kubeconfig Secret ${ref.namespace}/${ref.name}`;
  const secret = await kube.getSecret(ref.namespace, ref.name);
  if (!secret) throw new Error(`${what} of the target cluster not found`);
  const text = secret[ref.key];
  if (!text) throw new Error(`${what} has no key "${ref.key}"`);
  const target = await KubeClient.load({ kind: 'text', text, what: `${what} key ${ref.key}` });
  return openServiceTunnel(target.tunnelApi(), tunnel);
};

/**
 * How {@link withTunnel} retries opening (a Pod that is not Ready yet); none: one attempt. The same polling
 * settings as Gitea's waitReady (timeout and interval in ms, injectable sleep and clock, onWait per failure).
 */
export type TunnelRetry = WaitReadyOptions;

/**
 * Runs `fn` with the endpoint to use: `endpoint` itself without a tunnel, else `endpoint` rewritten to the
 * tunnel's loopback address (path kept); the tunnel is closed when `fn` settles.
 *
 * @throws what the opener throws (the last attempt's error when retrying), or what `fn` throws.
 */
export async function withTunnel<T>(
  tunnel: ServiceTunnel | undefined,
  endpoint: string,
  kube: Pick<KubeClient, 'getSecret'>,
  fn: (endpoint: string, opened?: Tunnel) => Promise<T>,
  opts: { opener?: TunnelOpener; retry?: TunnelRetry } = {},
): Promise<T> {
  if (!tunnel) return fn(endpoint);
  const opener = opts.opener ?? openTunnel;
  const r = opts.retry;
  const now = r?.now ?? Date.now;
  const sleep = r?.sleep ?? ((ms: number) => new Promise<void>((done) => setTimeout(done, ms)));
  const deadline = r ? now() + r.timeoutMs : 0;
  let opened: Tunnel;
  for (;;) {
    try {
      opened = await opener(tunnel, kube);
      break;
    } catch (e) {
      if (!r || now() + r.intervalMs > deadline) throw e;
      r.onWait?.((e as Error).message);
      await sleep(r.intervalMs);
    }
  }
  try {
    return await fn(opened.rewrite(endpoint), opened);
  } finally {
    await opened.close();
  }
}
