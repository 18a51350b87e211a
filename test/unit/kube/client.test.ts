import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { KubeClient, KubeError } from '../../../src/kube/client.js';

interface Seen {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  body: string;
  clientCN?: string;
}

type Handler = (req: Seen, res: ServerResponse) => void;

/** A tiny Kubernetes API stand-in: records every request, answers through `handler`. */
class FakeAPI {
  seen: Seen[] = [];
  handler: Handler = (_req, res) => status(res, 404, 'NotFound', 'not found');
  server!: Server;
  url = '';

  async start(tls?: { key: Buffer; cert: Buffer; ca?: Buffer; requestCert?: boolean }): Promise<void> {
    const listener = (req: IncomingMessage, res: ServerResponse): void => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const u = new URL(req.url ?? '/', 'http://x');
        const peer = (req.socket as TLSSocket).getPeerCertificate?.();
        const s: Seen = {
          method: req.method ?? '',
          path: u.pathname,
          query: u.searchParams,
          headers: req.headers,
          body: Buffer.concat(chunks).toString('utf8'),
          clientCN: peer && typeof peer.subject?.CN === 'string' ? peer.subject.CN : undefined,
        };
        this.seen.push(s);
        this.handler(s, res);
      });
    };
    this.server = tls
      ? createHttpsServer({ key: tls.key, cert: tls.cert, ca: tls.ca, requestCert: tls.requestCert ?? false, rejectUnauthorized: tls.requestCert ?? false }, listener)
      : createHttpServer(listener);
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `${tls ? 'https' : 'http'}://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

function json(res: ServerResponse, code: number, body: unknown): void {
  res.writeHead(code, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

function status(res: ServerResponse, code: number, reason: string, message: string): void {
  json(res, code, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code });
}

const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');

let dir: string;
let pki: { ca: Buffer; caKey: Buffer; serverKey: Buffer; serverCert: Buffer; clientKey: Buffer; clientCert: Buffer };

function openssl(args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'kube-client-test-'));
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl(['req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '1', '-subj', '/CN=test-ca',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  writeFileSync(join(dir, 'server.ext'), 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
  writeFileSync(join(dir, 'client.ext'), 'extendedKeyUsage=clientAuth\n');
  for (const [name, cn] of [['server', '127.0.0.1'], ['client', 'idpbuilder-job']] as const) {
    openssl(['req', ...ec, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`]);
    openssl(['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.crt`, '-days', '1', '-extfile', `${name}.ext`]);
  }
  const r = (f: string): Buffer => readFileSync(join(dir, f));
  pki = { ca: r('ca.crt'), caKey: r('ca.key'), serverKey: r('server.key'), serverCert: r('server.crt'), clientKey: r('client.key'), clientCert: r('client.crt') };
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

function kubeconfig(name: string, cluster: Record<string, unknown>, user: Record<string, unknown>, extra: Record<string, unknown> = {}): string {
  const path = join(dir, name);
  const doc = {
    apiVersion: 'v1',
    kind: 'Config',
    'current-context': 'test',
    clusters: [{ name: 'c', cluster }],
    users: [{ name: 'u', user }],
    contexts: [
      { name: 'test', context: { cluster: 'c', user: 'u', namespace: 'team-a' } },
      { name: 'other', context: { cluster: 'c', user: 'u' } },
    ],
    ...extra,
  };
  writeFileSync(path, JSON.stringify(doc)); // JSON is YAML
  return path;
}

describe('KubeClient over plain HTTP with a bearer token (kubeconfig)', () => {
  const api = new FakeAPI();
  let kube: KubeClient;
  beforeAll(async () => {
    await api.start();
    kube = KubeClient.fromKubeconfig(kubeconfig('http.yaml', { server: api.url }, { token: 'kube-token-123' }));
  });
  afterAll(() => api.stop());
  afterEach(() => {
    api.seen = [];
  });

  it('takes the namespace from the context, and another context when asked', () => {
    expect(kube.namespace).toBe('team-a');
    expect(KubeClient.fromKubeconfig(join(dir, 'http.yaml'), 'other').namespace).toBe('default');
  });

  it('getSecret decodes data and sends the bearer token', async () => {
    api.handler = (_req, res) => json(res, 200, { kind: 'Secret', data: { token: b64('t0k3n'), username: b64('giteaAdmin') } });
    expect(await kube.getSecret('gitea', 'gitea-credential')).toEqual({ token: 't0k3n', username: 'giteaAdmin' });
    expect(api.seen).toHaveLength(1);
    expect(api.seen[0].method).toBe('GET');
    expect(api.seen[0].path).toBe('/api/v1/namespaces/gitea/secrets/gitea-credential');
    expect(api.seen[0].headers.authorization).toBe('Bearer kube-token-123');
  });

  it('getSecret answers undefined on 404', async () => {
    api.handler = (_req, res) => status(res, 404, 'NotFound', 'secrets "nope" not found');
    expect(await kube.getSecret('gitea', 'nope')).toBeUndefined();
  });

  it('applySecret is a server-side apply: PATCH, apply-patch+yaml, fieldManager=idpbuilder, force=true, base64 data', async () => {
    api.handler = (req, res) => json(res, 200, JSON.parse(req.body));
    await kube.applySecret({
      namespace: 'gitea',
      name: 'gitea-token',
      labels: { 'app.kubernetes.io/managed-by': 'idpbuilder' },
      ownerReferences: [{ apiVersion: 'idpbuilder.cnoe.io/v1alpha2', kind: 'GiteaProvider', name: 'gitea', uid: 'u-1' }],
      stringData: { username: 'giteaAdmin', token: 's3cr3t' },
    });
    expect(api.seen).toHaveLength(1);
    const r = api.seen[0];
    expect(r.method).toBe('PATCH');
    expect(r.path).toBe('/api/v1/namespaces/gitea/secrets/gitea-token');
    expect(r.query.get('fieldManager')).toBe('idpbuilder');
    expect(r.query.get('force')).toBe('true');
    expect(r.headers['content-type']).toBe('application/apply-patch+yaml');
    expect(JSON.parse(r.body)).toEqual({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: {
        name: 'gitea-token',
        namespace: 'gitea',
        labels: { 'app.kubernetes.io/managed-by': 'idpbuilder' },
        ownerReferences: [{ apiVersion: 'idpbuilder.cnoe.io/v1alpha2', kind: 'GiteaProvider', name: 'gitea', uid: 'u-1' }],
      },
      type: 'Opaque',
      data: { token: b64('s3cr3t'), username: b64('giteaAdmin') },
    });
  });

  it('annotateJob merge-patches the Job annotations', async () => {
    api.handler = (_req, res) => json(res, 200, { kind: 'Job' });
    await kube.annotateJob('idpbuilder-system', 'repo-sync-abc', { 'idpbuilder.cnoe.io/result': '{"commitSHA":"x"}' });
    const r = api.seen[0];
    expect(r.method).toBe('PATCH');
    expect(r.path).toBe('/apis/batch/v1/namespaces/idpbuilder-system/jobs/repo-sync-abc');
    expect(r.headers['content-type']).toBe('application/merge-patch+json');
    expect(JSON.parse(r.body)).toEqual({ metadata: { annotations: { 'idpbuilder.cnoe.io/result': '{"commitSHA":"x"}' } } });
  });

  it('errors carry the status, reason and API message, and never a Secret value', async () => {
    api.handler = (_req, res) =>
      status(res, 403, 'Forbidden', 'secrets "gitea-token" is forbidden: User "system:serviceaccount:x:y" cannot patch resource "secrets" in API group "" in the namespace "gitea"');
    const err = await kube.applySecret({ namespace: 'gitea', name: 'gitea-token', stringData: { token: 'very-secret-value' } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KubeError);
    const k = err as KubeError;
    expect(k.status).toBe(403);
    expect(k.reason).toBe('Forbidden');
    expect(k.message).toBe(
      'Kubernetes API PATCH /api/v1/namespaces/gitea/secrets/gitea-token: secrets "gitea-token" is forbidden: User "system:serviceaccount:x:y" cannot patch resource "secrets" in API group "" in the namespace "gitea"',
    );
    expect(k.message).not.toContain('very-secret-value');
    expect(k.message).not.toContain(b64('very-secret-value'));
  });

  it('a non-Status error body still gives a clean message', async () => {
    api.handler = (_req, res) => res.writeHead(502, { 'content-type': 'text/html' }).end('<html>bad gateway</html>');
    const err = (await kube.getSecret('a', 'b').catch((e: unknown) => e)) as KubeError;
    expect(err).toBeInstanceOf(KubeError);
    expect(err.status).toBe(502);
    expect(err.message).toBe('Kubernetes API GET /api/v1/namespaces/a/secrets/b: HTTP 502');
  });

  it('an unreachable server is a KubeError with status 0', async () => {
    const closed = new FakeAPI();
    await closed.start();
    const url = closed.url;
    await closed.stop();
    const k = new KubeClient({ server: url, token: 't' });
    const err = (await k.getSecret('a', 'b').catch((e: unknown) => e)) as KubeError;
    expect(err).toBeInstanceOf(KubeError);
    expect(err.status).toBe(0);
    expect(err.message).toContain(`cannot reach ${url}`);
    expect(err.message).toContain('ECONNREFUSED');
  });
});

describe('KubeClient over TLS', () => {
  const api = new FakeAPI();
  beforeAll(async () => {
    await api.start({ key: pki.serverKey, cert: pki.serverCert, ca: pki.ca, requestCert: true });
    api.handler = (_req, res) => json(res, 200, { kind: 'Secret', data: { a: b64('1') } });
  });
  afterAll(() => api.stop());
  afterEach(() => {
    api.seen = [];
  });

  it('kubeconfig with certificate-authority-data and client certificate data (mTLS)', async () => {
    const k = KubeClient.fromKubeconfig(
      kubeconfig('mtls.yaml', { server: api.url, 'certificate-authority-data': pki.ca.toString('base64') }, {
        'client-certificate-data': pki.clientCert.toString('base64'),
        'client-key-data': pki.clientKey.toString('base64'),
      }),
    );
    expect(await k.getSecret('ns', 's')).toEqual({ a: '1' });
    expect(api.seen[0].clientCN).toBe('idpbuilder-job');
    expect(api.seen[0].headers.authorization).toBeUndefined();
  });

  it('kubeconfig with relative certificate-authority / client-certificate / client-key files', async () => {
    const k = KubeClient.fromKubeconfig(
      kubeconfig('files.yaml', { server: api.url, 'certificate-authority': 'ca.crt' }, { 'client-certificate': 'client.crt', 'client-key': 'client.key' }),
    );
    expect(await k.getSecret('ns', 's')).toEqual({ a: '1' });
    expect(api.seen[0].clientCN).toBe('idpbuilder-job');
  });

  it('rejects an untrusted server certificate unless insecure-skip-tls-verify', async () => {
    const untrusted = KubeClient.fromKubeconfig(kubeconfig('untrusted.yaml', { server: api.url }, { 'client-certificate': 'client.crt', 'client-key': 'client.key' }));
    const err = (await untrusted.getSecret('ns', 's').catch((e: unknown) => e)) as KubeError;
    expect(err).toBeInstanceOf(KubeError);
    expect(err.status).toBe(0);
    expect(err.message).toMatch(/cannot reach https:\/\/127\.0\.0\.1:\d+ \(/);

    const insecure = KubeClient.fromKubeconfig(
      kubeconfig('insecure.yaml', { server: api.url, 'insecure-skip-tls-verify': true }, { 'client-certificate': 'client.crt', 'client-key': 'client.key' }),
    );
    expect(await insecure.getSecret('ns', 's')).toEqual({ a: '1' });
  });

  it('fromInCluster: service env, CA, namespace and a token re-read on every request', async () => {
    const sa = mkdtempSync(join(tmpdir(), 'sa-'));
    try {
      writeFileSync(join(sa, 'token'), 'sa-token-1\n');
      writeFileSync(join(sa, 'ca.crt'), pki.ca);
      writeFileSync(join(sa, 'namespace'), 'idpbuilder-system');
      // The SA path has no client certificate: use a server that does not ask for one.
      const plain = new FakeAPI();
      await plain.start({ key: pki.serverKey, cert: pki.serverCert });
      plain.handler = (_req, res) => json(res, 200, { kind: 'Secret', data: {} });
      try {
        const k = KubeClient.fromInCluster({ KUBERNETES_SERVICE_HOST: '127.0.0.1', KUBERNETES_SERVICE_PORT: String(plain.port) }, sa);
        expect(k.namespace).toBe('idpbuilder-system');
        expect(k.server).toBe(`https://127.0.0.1:${plain.port}`);
        await k.getSecret('a', 'b');
        writeFileSync(join(sa, 'token'), 'sa-token-2\n');
        await k.getSecret('a', 'b');
        expect(plain.seen.map((s) => s.headers.authorization)).toEqual(['Bearer sa-token-1', 'Bearer sa-token-2']);
      } finally {
        await plain.stop();
      }
    } finally {
      rmSync(sa, { recursive: true, force: true });
    }
  });
});

describe('KubeClient configuration errors', () => {
  it('fromInCluster outside a cluster', () => {
    expect(() => KubeClient.fromInCluster({}, '/nonexistent')).toThrow(/not running in a cluster/);
    expect(() => KubeClient.fromInCluster({ KUBERNETES_SERVICE_HOST: '10.0.0.1', KUBERNETES_SERVICE_PORT: '443' }, '/nonexistent')).toThrow(
      /service account credentials not found in \/nonexistent/,
    );
  });

  it('fromInCluster brackets an IPv6 service host', () => {
    const sa = mkdtempSync(join(tmpdir(), 'sa6-'));
    try {
      writeFileSync(join(sa, 'token'), 't');
      writeFileSync(join(sa, 'ca.crt'), pki.ca);
      const k = KubeClient.fromInCluster({ KUBERNETES_SERVICE_HOST: 'fd00::1', KUBERNETES_SERVICE_PORT: '6443' }, sa);
      expect(k.server).toBe('https://[fd00::1]:6443');
      expect(k.namespace).toBe('default');
    } finally {
      rmSync(sa, { recursive: true, force: true });
    }
  });

  it('kubeconfig: unknown context, exec plugins and missing files are clear errors', () => {
    const p = kubeconfig('exec.yaml', { server: 'https://127.0.0.1:1' }, { exec: { command: 'aws' } });
    expect(() => KubeClient.fromKubeconfig(p, 'missing')).toThrow(/has no context "missing"/);
    expect(() => KubeClient.fromKubeconfig(p)).toThrow(/exec\/auth-provider plugin, which is not supported/);
    const q = kubeconfig('nofile.yaml', { server: 'https://127.0.0.1:1', 'certificate-authority': 'nope.crt' }, { token: 't' });
    expect(() => KubeClient.fromKubeconfig(q)).toThrow(/cannot read a referenced file \(ENOENT\)/);
    expect(() => KubeClient.fromKubeconfig(join(dir, 'absent.yaml'))).toThrow(KubeError);
  });
});
