// The Service tunnel (src/kube/tunnel.ts) and its use by the Job programs (src/jobs/tunnel.ts): a stand-in for
// client-node's CoreV1Api and PortForward whose "Pod" is a loopback server, so the bytes really cross the tunnel.
import { once } from 'node:events';
import { connect, createServer, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { Readable, Writable } from 'node:stream';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { KubeError, type ApplySecretSpec } from '../../../src/kube/client.js';
import { openServiceTunnel, type ForwardSocket, type PodLike, type ServiceLike, type TunnelApi } from '../../../src/kube/tunnel.js';
import { openTunnel, withTunnel } from '../../../src/jobs/tunnel.js';
import { runGiteaBootstrap } from '../../../src/jobs/gitea-bootstrap.js';
import type { ServiceTunnel } from '../../../src/api/jobs.js';
import { FakeGitea } from '../../fakes/gitea.js';
import { forwardToLoopback } from '../../fakes/portforward.js';

const gitea = new FakeGitea();
let giteaPort = 0;
beforeAll(async () => {
  await gitea.start();
  giteaPort = Number(new URL(gitea.baseURL).port);
});
afterAll(() => gitea.stop());

const service = (over: Partial<NonNullable<ServiceLike['spec']>> = {}): ServiceLike => ({
  spec: { selector: { app: 'gitea', release: 'gitea' }, ports: [{ name: 'http', port: 3000, targetPort: 'http' }], ...over },
});
const podOf = (name: string, over: { phase?: string; ready?: boolean; deleting?: boolean; port?: number } = {}): PodLike => ({
  metadata: { name, ...(over.deleting ? { deletionTimestamp: '2026-01-01T00:00:00Z' } : {}) },
  spec: { containers: [{ ports: [{ name: 'http', containerPort: over.port ?? 3000 }] }] },
  status: { phase: over.phase ?? 'Running', conditions: [{ type: 'Ready', status: over.ready === false ? 'False' : 'True' }] },
});

/** A stand-in API: the Service and Pods given, port-forwards connected to `upstreamPort` on loopback. */
class StandIn implements TunnelApi {
  forwards: Array<{ namespace: string; pod: string; port: number }> = [];
  selectors: string[] = [];
  refuse?: string;
  errorChannel?: string;
  constructor(
    private svc: ServiceLike | KubeError,
    private pods: PodLike[],
    private upstreamPort: () => number,
  ) {}
  async readService(): Promise<ServiceLike> {
    if (this.svc instanceof KubeError) throw this.svc;
    return this.svc;
  }
  async listPods(_ns: string, labelSelector: string): Promise<PodLike[]> {
    this.selectors.push(labelSelector);
    return this.pods;
  }
  async portForward(namespace: string, pod: string, port: number, output: Writable, errors: Writable, input: Readable): Promise<ForwardSocket> {
    this.forwards.push({ namespace, pod, port });
    if (this.refuse) throw new Error(this.refuse);
    if (this.errorChannel) errors.write(this.errorChannel);
    return forwardToLoopback(this.upstreamPort(), output, input);
  }
}

const target = { namespace: 'gitea', service: 'gitea-http', port: 3000 };

describe('openServiceTunnel', () => {
  it('forwards HTTP (Authorization header included) to the first Ready Pod behind the Service, its named targetPort resolved', async () => {
    const api = new StandIn(service(), [podOf('gitea-1'), podOf('gitea-0', { ready: false }), podOf('gitea-2', { deleting: true }), podOf('gitea-3', { phase: 'Pending' })], () => giteaPort);
    const tunnel = await openServiceTunnel(api, target);
    try {
      expect(tunnel.pod).toBe('gitea/gitea-1');
      expect(tunnel.podPort).toBe(3000);
      expect(api.selectors).toEqual(['app=gitea,release=gitea']);
      expect(tunnel.rewrite('http://gitea-http.gitea.svc.cluster.local:3000')).toBe(`http://127.0.0.1:${tunnel.localPort}`);
      expect(tunnel.rewrite('http://gitea-http.gitea.svc.cluster.local:3000/sub/')).toBe(`http://127.0.0.1:${tunnel.localPort}/sub`);
      expect(tunnel.rewrite('https://gitlab.tools.svc:443/api/v4')).toBe(`https://127.0.0.1:${tunnel.localPort}/api/v4`);
      const basic = Buffer.from(`${gitea.adminUsername}:${gitea.adminPassword}`).toString('base64');
      const res = await fetch(`${tunnel.rewrite('http://gitea-http.gitea.svc.cluster.local:3000')}/api/v1/user`, { headers: { authorization: `Basic ${basic}` } });
      expect(res.status).toBe(200);
      expect(((await res.json()) as { login: string }).login).toBe(gitea.adminUsername);
      // the pre-flight and the request: every forward to the chosen Pod and port
      expect(api.forwards.length).toBeGreaterThanOrEqual(2);
      expect(new Set(api.forwards.map((f) => `${f.namespace}/${f.pod}:${f.port}`))).toEqual(new Set(['gitea/gitea-1:3000']));
    } finally {
      await tunnel.close();
    }
  });

  it('uses a numeric targetPort, and the Service port itself when targetPort is absent', async () => {
    const numeric = await openServiceTunnel(new StandIn(service({ ports: [{ port: 3000, targetPort: 8080 }] }), [podOf('a')], () => giteaPort), target);
    expect(numeric.podPort).toBe(8080);
    await numeric.close();
    const same = await openServiceTunnel(new StandIn(service({ ports: [{ port: 3000 }] }), [podOf('a')], () => giteaPort), target);
    expect(same.podPort).toBe(3000);
    await same.close();
  });

  it.each([
    ['no selector', new StandIn(service({ selector: {} }), [podOf('a')], () => giteaPort), 'Service gitea/gitea-http has no selector'],
    ['no such port', new StandIn(service({ ports: [{ port: 80 }] }), [podOf('a')], () => giteaPort), 'has no port 3000'],
    ['no Ready Pod', new StandIn(service(), [podOf('a', { ready: false })], () => giteaPort), 'no Running and Ready Pod matches app=gitea,release=gitea'],
    ['an unknown port name', new StandIn(service({ ports: [{ port: 3000, targetPort: 'web' }] }), [podOf('a')], () => giteaPort), 'Pod a declares no container port named "web"'],
    ['the Service missing', new StandIn(new KubeError(404, 'Kubernetes API GET /api/v1/namespaces/gitea/services/gitea-http: not found', 'NotFound'), [], () => giteaPort), 'services/gitea-http: not found'],
  ])('refuses with a clear error: %s', async (_what, api, message) => {
    await expect(openServiceTunnel(api, target)).rejects.toThrow(message);
  });

  it('fails at open, naming the Pod, when the API server refuses the port-forward or the error channel speaks', async () => {
    const refused = new StandIn(service(), [podOf('gitea-0')], () => giteaPort);
    refused.refuse = 'Unexpected server response: 403';
    await expect(openServiceTunnel(refused, target)).rejects.toThrow('port-forward to Pod gitea/gitea-0 port 3000 failed: Unexpected server response: 403');
    const said = new StandIn(service(), [podOf('gitea-0')], () => giteaPort);
    said.errorChannel = 'error forwarding port 3000 to pod abc: connection refused';
    await expect(openServiceTunnel(said, target)).rejects.toThrow('failed: error forwarding port 3000 to pod abc: connection refused');
  });

  it('closes the connections it carries', async () => {
    let held: Server | undefined;
    const hold = createServer(() => {});
    held = hold;
    await new Promise<void>((done) => hold.listen(0, '127.0.0.1', done));
    const api = new StandIn(service(), [podOf('a')], () => (held!.address() as AddressInfo).port);
    const tunnel = await openServiceTunnel(api, target);
    const client = connect(tunnel.localPort, '127.0.0.1');
    await once(client, 'connect');
    const closed = once(client, 'close');
    await tunnel.close();
    await closed;
    await new Promise<void>((done) => hold.close(() => done()));
  });
});

const tunnelConfig: ServiceTunnel = { kubeconfigSecretRef: { namespace: 'fleet', name: 'vc-target', key: 'config' }, namespace: 'gitea', service: 'gitea-http', port: 3000 };

class MemKube {
  secrets = new Map<string, Record<string, string>>();
  applied: ApplySecretSpec[] = [];
  async getSecret(namespace: string, name: string): Promise<Record<string, string> | undefined> {
    return this.secrets.get(`${namespace}/${name}`);
  }
  async applySecret(spec: ApplySecretSpec): Promise<void> {
    this.applied.push(spec);
  }
}

describe('openTunnel (the Job programs\' opener)', () => {
  it('reads the kubeconfig Secret in the management cluster and says which is missing, never its content', async () => {
    const kube = new MemKube();
    await expect(openTunnel(tunnelConfig, kube)).rejects.toThrow('kubeconfig Secret fleet/vc-target of the target cluster not found');
    kube.secrets.set('fleet/vc-target', { value: 'x' });
    await expect(openTunnel(tunnelConfig, kube)).rejects.toThrow('kubeconfig Secret fleet/vc-target has no key "config"');
    kube.secrets.set('fleet/vc-target', { config: 'apiVersion: v1\nclusters: [}\nsecret-token-material' });
    const err = await openTunnel(tunnelConfig, kube).catch((e: Error) => e);
    expect((err as Error).message).toContain('kubeconfig Secret fleet/vc-target key config is not a kubeconfig');
    expect((err as Error).message).not.toContain('secret-token-material');
  });

  it('refuses a kubeconfig that points at files of another machine', async () => {
    const kube = new MemKube();
    kube.secrets.set('fleet/vc-target', {
      config: 'apiVersion: v1\nkind: Config\nclusters: [{name: t, cluster: {server: "https://t:6443", certificate-authority: /etc/ca.crt}}]\nusers: [{name: u, user: {token: abc}}]\ncontexts: [{name: t, context: {cluster: t, user: u}}]\ncurrent-context: t\n',
    });
    await expect(openTunnel(tunnelConfig, kube)).rejects.toThrow('refers to files');
  });
});

describe('withTunnel', () => {
  it('without a tunnel: the endpoint as is, the opener never called', async () => {
    let opened = 0;
    const got = await withTunnel(undefined, 'http://x.y.svc:1', new MemKube(), async (e) => e, { opener: async () => (opened++, Promise.reject(new Error('no'))) });
    expect(got).toBe('http://x.y.svc:1');
    expect(opened).toBe(0);
  });

  it('retries opening while the Pod is not Ready, within the timeout, then gives the last error', async () => {
    let clock = 0;
    const waits: string[] = [];
    const attempts: number[] = [];
    const opener = async () => {
      attempts.push(clock);
      throw new KubeError(0, 'Service gitea/gitea-http: no Running and Ready Pod matches app=gitea');
    };
    const run = withTunnel(tunnelConfig, 'http://gitea-http.gitea.svc.cluster.local:3000', new MemKube(), async () => 'never', {
      opener,
      retry: { timeoutMs: 10_000, intervalMs: 4000, now: () => clock, sleep: async (ms) => void (clock += ms), onWait: (r) => waits.push(r) },
    });
    await expect(run).rejects.toThrow('no Running and Ready Pod');
    expect(attempts).toEqual([0, 4000, 8000]);
    expect(waits).toHaveLength(2);
  });
});

describe('gitea-bootstrap of a Gitea on a target cluster', () => {
  let kube: MemKube;
  beforeEach(() => {
    kube = new MemKube();
  });

  it('bootstraps through the tunnel: the Service name, which resolves nowhere here, is never dialled', async () => {
    const api = new StandIn(service(), [podOf('gitea-0')], () => giteaPort);
    const result = await runGiteaBootstrap(
      {
        endpoint: 'http://gitea-http.gitea.svc.cluster.local:3000',
        tunnel: tunnelConfig,
        organizations: [{ name: 'remote-org' }],
        tokenName: 'idpbuilder',
        tokenSecret: { namespace: 'fleet', name: 'remote-gitea-token' },
        timeoutSeconds: 30,
      },
      {
        kube,
        log: { info: () => {}, warn: () => {} },
        env: { GITEA_USERNAME: gitea.adminUsername, GITEA_PASSWORD: gitea.adminPassword },
        tunnel: (t) => openServiceTunnel(api, t),
        sleep: async () => {},
        pollIntervalMs: 10,
      },
    );
    expect(result.organizations).toEqual([{ name: 'remote-org', created: true }]);
    // the token Secret goes to the management cluster's client, with the token Gitea made
    expect(kube.applied.map((a) => `${a.namespace}/${a.name}`)).toEqual(['fleet/remote-gitea-token']);
    expect(gitea.tokensOf(gitea.adminUsername).find((t) => t.name === 'idpbuilder')?.sha1).toBe(kube.applied[0].stringData.token);
    expect(api.forwards.every((f) => f.pod === 'gitea-0' && f.port === 3000)).toBe(true);
  });
});
