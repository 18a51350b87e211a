import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { KubeClient, KubeError, loadKubeConfig } from '../../../src/kube/client.js';
import { rejectionOf } from '../../support/rejection.js';

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

/** A plain-HTTP cluster entry, as kubectl takes it: no insecure-skip-tls-verify (client-node alone would ask for it). */
const httpCluster = (url: string): Record<string, unknown> => ({ server: url });

/** What a failing call threw. */
const failure = (p: Promise<unknown>): Promise<KubeError> => rejectionOf(p, KubeError);

describe('KubeClient over plain HTTP with a bearer token (kubeconfig)', () => {
  const api = new FakeAPI();
  let kube: KubeClient;
  beforeAll(async () => {
    await api.start();
    kube = await KubeClient.fromKubeconfig(kubeconfig('http.yaml', httpCluster(api.url), { token: 'kube-token-123' }));
  });
  afterAll(() => api.stop());
  afterEach(() => {
    api.seen = [];
  });

  it('takes the server and namespace from the context, and another context when asked', async () => {
    expect(kube.namespace).toBe('team-a');
    expect(kube.server).toBe(api.url);
    expect((await KubeClient.fromKubeconfig(join(dir, 'http.yaml'), 'other')).namespace).toBe('default');
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
    expect(r.headers.authorization).toBe('Bearer kube-token-123');
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
    api.handler = (_req, res) => json(res, 200, { apiVersion: 'batch/v1', kind: 'Job' });
    await kube.annotateJob('idpbuilder-system', 'repo-sync-abc', { 'idpbuilder.cnoe.io/result': '{"commitSHA":"x"}', stale: null });
    const r = api.seen[0];
    expect(r.method).toBe('PATCH');
    expect(r.path).toBe('/apis/batch/v1/namespaces/idpbuilder-system/jobs/repo-sync-abc');
    expect(r.headers['content-type']).toBe('application/merge-patch+json');
    expect(JSON.parse(r.body)).toEqual({ metadata: { annotations: { 'idpbuilder.cnoe.io/result': '{"commitSHA":"x"}', stale: null } } });
  });

  it('createEvent POSTs an events.k8s.io/v1 Event to its namespace', async () => {
    api.handler = (req, res) => json(res, 201, JSON.parse(req.body));
    const event = {
      apiVersion: 'events.k8s.io/v1' as const,
      kind: 'Event' as const,
      metadata: { name: 'x.1', namespace: 'team-a' },
      eventTime: '2026-01-01T00:00:00.000000Z',
      reportingController: 'idpbuilder.cnoe.io/hooks',
      reportingInstance: 'hooks-0',
      action: 'Create',
      reason: 'PlatformCreated',
      note: 'Platform x created',
      type: 'Normal',
      regarding: { apiVersion: 'idpbuilder.cnoe.io/v1alpha2', kind: 'Platform', name: 'x', namespace: 'team-a' },
    };
    await kube.createEvent(event);
    expect(api.seen[0].method).toBe('POST');
    expect(api.seen[0].path).toBe('/apis/events.k8s.io/v1/namespaces/team-a/events');
    expect(JSON.parse(api.seen[0].body)).toEqual(event);
  });

  it.each([
    [403, 'Forbidden', 'secrets "gitea-token" is forbidden: User "system:serviceaccount:x:y" cannot patch resource "secrets" in API group "" in the namespace "gitea"'],
    [409, 'Conflict', 'Apply failed with 1 conflict: conflict with "kubectl" using v1: .data.token'],
    [422, 'Invalid', 'Secret "gitea-token" is invalid: data[bad key]: Invalid value: "bad key": a valid config key must consist of alphanumeric characters'],
    [404, 'NotFound', 'namespaces "gitea" not found'],
  ])('an apply answered %i maps to a KubeError with that status, reason %s and the API message, never a Secret value', async (code, reason, message) => {
    api.handler = (_req, res) => status(res, code, reason, message);
    const k = await failure(kube.applySecret({ namespace: 'gitea', name: 'gitea-token', stringData: { token: 'very-secret-value' } }));
    expect(k.status).toBe(code);
    expect(k.reason).toBe(reason);
    expect(k.message).toBe(`Kubernetes API PATCH /api/v1/namespaces/gitea/secrets/gitea-token: ${message}`);
    expect(k.message).not.toContain('very-secret-value');
    expect(k.message).not.toContain(b64('very-secret-value'));
    expect(k.message).not.toContain('kube-token-123');
  });

  it('401 is Unauthorized (client-node drops that body) and the token is not in the message', async () => {
    api.handler = (_req, res) => status(res, 401, 'Unauthorized', 'Unauthorized');
    const k = await failure(kube.getSecret('a', 'b'));
    expect(k.status).toBe(401);
    expect(k.reason).toBe('Unauthorized');
    expect(k.message).toBe('Kubernetes API GET /api/v1/namespaces/a/secrets/b: HTTP 401');
  });

  it('a non-Status error body still gives a clean message', async () => {
    api.handler = (_req, res) => res.writeHead(502, { 'content-type': 'text/html' }).end('<html>bad gateway</html>');
    const err = await failure(kube.getSecret('a', 'b'));
    expect(err.status).toBe(502);
    expect(err.reason).toBe('');
    expect(err.message).toBe('Kubernetes API GET /api/v1/namespaces/a/secrets/b: HTTP 502');
  });

  it('an unreachable server is a KubeError with status 0', async () => {
    const closed = new FakeAPI();
    await closed.start();
    const url = closed.url;
    await closed.stop();
    const k = await KubeClient.load({ kind: 'server', server: url, token: 't' });
    const err = await failure(k.getSecret('a', 'b'));
    expect(err.status).toBe(0);
    expect(err.message).toBe(`Kubernetes API GET /api/v1/namespaces/a/secrets/b: cannot reach ${url} (ECONNREFUSED)`);
  });

  it('a server that does not answer in time is a KubeError with status 0', async () => {
    api.handler = () => undefined; // never answers
    const k = await KubeClient.fromKubeconfig(join(dir, 'http.yaml'), undefined, { requestTimeoutMs: 200 });
    const err = await failure(k.getSecret('a', 'b'));
    expect(err.status).toBe(0);
    expect(err.message).toBe(`Kubernetes API GET /api/v1/namespaces/a/secrets/b: no answer from ${api.url} within 0.2s`);
  });

  it('a caller abort signal stops the request', async () => {
    api.handler = () => undefined;
    const ac = new AbortController();
    const p = kube.createEvent({ apiVersion: 'events.k8s.io/v1', kind: 'Event', metadata: { name: 'e', namespace: 'n' } }, ac.signal);
    setTimeout(() => ac.abort(), 50);
    const err = await failure(p);
    expect(err.status).toBe(0);
    expect(err.message).toBe('Kubernetes API POST /apis/events.k8s.io/v1/namespaces/n/events: aborted');
  });
});

describe('KubeClient with exec credential plugins and auth-providers', () => {
  const api = new FakeAPI();
  beforeAll(async () => {
    await api.start({ key: pki.serverKey, cert: pki.serverCert });
    api.handler = (_req, res) => json(res, 200, { kind: 'Secret', data: { a: b64('1') } });
    // A stand-in for aws/gke-gcloud-auth-plugin/kubelogin: prints a client.authentication.k8s.io
    // ExecCredential whose token comes from its argument and env (as kubeconfig `args`/`env` give them).
    mkdirSync(join(dir, 'bin'), { recursive: true });
    writeFileSync(
      join(dir, 'bin', 'fake-auth-plugin'),
      [
        '#!/bin/sh',
        'if [ "$FAKE_PLUGIN_FAIL" = "1" ]; then echo "error: not logged in; run fake-auth login" >&2; exit 1; fi',
        'printf \'{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"%s-%s"}}\\n\' "$1" "$FAKE_PLUGIN_SUFFIX"',
        '',
      ].join('\n'),
    );
    chmodSync(join(dir, 'bin', 'fake-auth-plugin'), 0o755);
  });
  afterAll(() => api.stop());
  afterEach(() => {
    api.seen = [];
  });

  const ca = (): Record<string, unknown> => ({ server: api.url, 'certificate-authority-data': pki.ca.toString('base64') });

  it('an exec user (command relative to the kubeconfig, args, env) reaches the API server with the ExecCredential token', async () => {
    const k = await KubeClient.fromKubeconfig(
      kubeconfig('exec.yaml', ca(), {
        exec: {
          apiVersion: 'client.authentication.k8s.io/v1',
          command: './bin/fake-auth-plugin',
          args: ['exec-token'],
          env: [{ name: 'FAKE_PLUGIN_SUFFIX', value: 'from-env' }],
          interactiveMode: 'Never',
        },
      }),
    );
    expect(await k.getSecret('ns', 's')).toEqual({ a: '1' });
    expect(await k.applySecret({ namespace: 'ns', name: 's', stringData: { a: '1' } })).toBeUndefined();
    expect(api.seen.map((s) => s.headers.authorization)).toEqual(['Bearer exec-token-from-env', 'Bearer exec-token-from-env']);
    expect(api.seen[1].headers['content-type']).toBe('application/apply-patch+yaml');
  });

  it('a failing exec plugin is a KubeError with its message, before any request', async () => {
    const k = await KubeClient.fromKubeconfig(
      kubeconfig('exec-fail.yaml', ca(), { exec: { apiVersion: 'client.authentication.k8s.io/v1', command: join(dir, 'bin', 'fake-auth-plugin'), env: [{ name: 'FAKE_PLUGIN_FAIL', value: '1' }] } }),
    );
    const err = await failure(k.applySecret({ namespace: 'ns', name: 's', stringData: { token: 'very-secret-value' } }));
    expect(err.status).toBe(0);
    expect(err.message).toBe(
      'Kubernetes API PATCH /api/v1/namespaces/ns/secrets/s: cannot prepare the request (credentials or configuration): error: not logged in; run fake-auth login',
    );
    expect(err.message).not.toContain('very-secret-value');
    expect(api.seen).toHaveLength(0);
  });

  it('an exec plugin that does not exist is a KubeError naming the missing program', async () => {
    const k = await KubeClient.fromKubeconfig(kubeconfig('exec-missing.yaml', ca(), { exec: { apiVersion: 'client.authentication.k8s.io/v1', command: 'no-such-auth-plugin-xyz' } }));
    const err = await failure(k.getSecret('ns', 's'));
    expect(err.status).toBe(0);
    expect(err.message).toContain('cannot prepare the request (credentials or configuration ENOENT)');
    expect(err.message).toContain('no-such-auth-plugin-xyz');
  });

  it('an oidc auth-provider user sends its (unexpired) id-token', async () => {
    const part = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString('base64url');
    // exp: 2100-01-01, so client-node uses the token as it is and does not call the issuer.
    const idToken = `${part({ alg: 'RS256', typ: 'JWT' })}.${part({ iss: 'https://issuer.invalid', sub: 'dev', exp: 4102444800 })}.c2ln`;
    const k = await KubeClient.fromKubeconfig(
      kubeconfig('oidc.yaml', ca(), { 'auth-provider': { name: 'oidc', config: { 'client-id': 'kubernetes', 'id-token': idToken, 'idp-issuer-url': 'https://issuer.invalid' } } }),
    );
    await k.getSecret('ns', 's');
    expect(api.seen[0].headers.authorization).toBe(`Bearer ${idToken}`);
  });

  it('a tokenFile user (relative to the kubeconfig) sends the file content', async () => {
    writeFileSync(join(dir, 'user.token'), 'file-token-1');
    const k = await KubeClient.fromKubeconfig(kubeconfig('tokenfile.yaml', ca(), { tokenFile: 'user.token' }));
    await k.getSecret('ns', 's');
    expect(api.seen[0].headers.authorization).toBe('Bearer file-token-1');
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
    const k = await KubeClient.fromKubeconfig(
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
    const k = await KubeClient.fromKubeconfig(
      kubeconfig('files.yaml', { server: api.url, 'certificate-authority': 'ca.crt' }, { 'client-certificate': 'client.crt', 'client-key': 'client.key' }),
    );
    expect(await k.getSecret('ns', 's')).toEqual({ a: '1' });
    expect(api.seen[0].clientCN).toBe('idpbuilder-job');
  });

  it('rejects an untrusted server certificate unless insecure-skip-tls-verify', async () => {
    const untrusted = await KubeClient.fromKubeconfig(kubeconfig('untrusted.yaml', { server: api.url }, { 'client-certificate': 'client.crt', 'client-key': 'client.key' }));
    const err = await failure(untrusted.getSecret('ns', 's'));
    expect(err.status).toBe(0);
    expect(err.message).toMatch(/cannot reach https:\/\/127\.0\.0\.1:\d+ \(SELF_SIGNED_CERT_IN_CHAIN\)$/);

    const insecure = await KubeClient.fromKubeconfig(
      kubeconfig('insecure.yaml', { server: api.url, 'insecure-skip-tls-verify': true }, { 'client-certificate': 'client.crt', 'client-key': 'client.key' }),
    );
    expect(await insecure.getSecret('ns', 's')).toEqual({ a: '1' });
  });
});

/** A fake service-account directory below `root` (client-node's path prefix). */
function serviceAccount(root: string, files: Record<string, string | Buffer>): void {
  const sa = join(root, 'var/run/secrets/kubernetes.io/serviceaccount');
  mkdirSync(sa, { recursive: true });
  for (const [name, content] of Object.entries(files)) writeFileSync(join(sa, name), content);
}

describe('KubeClient in a cluster (service account)', () => {
  let root: string;
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'sa-'));
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  afterEach(() => {
    vi.unstubAllEnvs();
    vi.useRealTimers();
  });

  it('service env, CA and namespace; the token file is re-read once the copy in memory is older than 60 s', async () => {
    serviceAccount(root, { token: 'sa-token-1', 'ca.crt': pki.ca, namespace: 'idpbuilder-system\n' });
    const plain = new FakeAPI();
    await plain.start({ key: pki.serverKey, cert: pki.serverCert });
    plain.handler = (_req, res) => json(res, 200, { kind: 'Secret', data: {} });
    try {
      vi.stubEnv('KUBERNETES_SERVICE_HOST', '127.0.0.1');
      vi.stubEnv('KUBERNETES_SERVICE_PORT', String(plain.port));
      vi.useFakeTimers({ toFake: ['Date'] });
      const k = await KubeClient.fromInCluster({ pathPrefix: root });
      expect(k.namespace).toBe('idpbuilder-system');
      expect(k.server).toBe(`https://127.0.0.1:${plain.port}`);
      await k.getSecret('a', 'b');
      serviceAccount(root, { token: 'sa-token-2' }); // kubelet rotated the bound token
      await k.getSecret('a', 'b');
      vi.setSystemTime(Date.now() + 61_000);
      await k.getSecret('a', 'b');
      expect(plain.seen.map((s) => s.headers.authorization)).toEqual(['Bearer sa-token-1', 'Bearer sa-token-1', 'Bearer sa-token-2']);
    } finally {
      await plain.stop();
    }
  });

  it('outside a cluster, or without the service-account files, is a clear error', async () => {
    vi.stubEnv('KUBERNETES_SERVICE_HOST', '');
    vi.stubEnv('KUBERNETES_SERVICE_PORT', '');
    await expect(KubeClient.fromInCluster({ pathPrefix: '/nonexistent' })).rejects.toThrow(/not running in a cluster/);
    vi.stubEnv('KUBERNETES_SERVICE_HOST', '10.0.0.1');
    vi.stubEnv('KUBERNETES_SERVICE_PORT', '443');
    await expect(KubeClient.fromInCluster({ pathPrefix: '/nonexistent' })).rejects.toThrow(
      'service account credentials not found in /nonexistent/var/run/secrets/kubernetes.io/serviceaccount',
    );
  });

  it('brackets an IPv6 service host; no namespace file is namespace default', async () => {
    const r6 = mkdtempSync(join(tmpdir(), 'sa6-'));
    try {
      serviceAccount(r6, { token: 't', 'ca.crt': pki.ca });
      vi.stubEnv('KUBERNETES_SERVICE_HOST', 'fd00::1');
      vi.stubEnv('KUBERNETES_SERVICE_PORT', '6443');
      const k = await KubeClient.fromInCluster({ pathPrefix: r6 });
      expect(k.server).toBe('https://[fd00::1]:6443');
      expect(k.namespace).toBe('default');
    } finally {
      rmSync(r6, { recursive: true, force: true });
    }
  });
});

describe('KubeClient configuration errors', () => {
  it('kubeconfig: unknown context, missing current-context, missing referenced files and an absent file are KubeErrors', async () => {
    const p = kubeconfig('ctx.yaml', { server: 'https://127.0.0.1:1' }, { token: 'kube-token-123' });
    await expect(KubeClient.fromKubeconfig(p, 'missing')).rejects.toThrow(`kubeconfig ${p} has no context "missing"`);
    const none = kubeconfig('nocurrent.yaml', { server: 'https://127.0.0.1:1' }, { token: 't' }, { 'current-context': '' });
    await expect(KubeClient.fromKubeconfig(none)).rejects.toThrow(`kubeconfig ${none} has no current-context; pass a context`);
    const q = kubeconfig('nofile.yaml', { server: 'https://127.0.0.1:1', 'certificate-authority': 'nope.crt' }, { token: 't' });
    await expect(KubeClient.fromKubeconfig(q)).rejects.toThrow(`kubeconfig ${q}: cannot read a referenced file (ENOENT)`);
    const t = kubeconfig('notoken.yaml', { server: 'https://127.0.0.1:1' }, { tokenFile: 'nope.token' });
    await expect(KubeClient.fromKubeconfig(t)).rejects.toThrow(`kubeconfig ${t}: cannot read a referenced file (ENOENT)`);
    const absent = join(dir, 'absent.yaml');
    const err = await failure(KubeClient.fromKubeconfig(absent));
    expect(err.message).toBe(`cannot read kubeconfig ${absent}: ENOENT`);
  });

  it('a context whose cluster has no server, and a malformed file, are KubeErrors that do not echo credentials', async () => {
    const p = join(dir, 'noserver.yaml');
    writeFileSync(p, JSON.stringify({ 'current-context': 'x', clusters: [{ name: 'c', cluster: {} }], users: [{ name: 'u', user: { token: 'kube-token-123' } }], contexts: [{ name: 'x', context: { cluster: 'c', user: 'u' } }] }));
    const e1 = await failure(KubeClient.fromKubeconfig(p));
    expect(e1.message).toBe(`cannot read kubeconfig ${p}: clusters[0].cluster.server is missing`);
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'users: [ {name: u, user: {token: kube-token-123}\n');
    const e2 = await failure(KubeClient.fromKubeconfig(bad));
    expect(e2.message).toMatch(new RegExp(`^cannot read kubeconfig ${bad.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: `));
    expect(e2.message).not.toContain('kube-token-123');
  });

  it('loadKubeConfig gives client-node a KubeConfig with the chosen context current', async () => {
    const p = kubeconfig('two.yaml', { server: 'https://127.0.0.1:1' }, { token: 't' });
    const kc = await loadKubeConfig({ kind: 'file', path: p, context: 'other' });
    expect(kc.getCurrentContext()).toBe('other');
    expect(kc.getCurrentCluster()?.server).toBe('https://127.0.0.1:1');
  });

  it('a server URL that is not valid', async () => {
    await expect(KubeClient.load({ kind: 'server', server: 'not a url' })).rejects.toThrow('Kubernetes API server URL is not valid');
  });
});
