/**
 * Breaker findings on issue 17's tunnel (git servers on a target cluster) and issue 18's status writer: each test
 * is an input a user (or a provider's controller) can give and the answer it must get.
 */
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { connect, createServer, type AddressInfo } from 'node:net';
import type { Readable, Writable } from 'node:stream';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { gitRepositoryHooks as hooks } from '../../src/controllers/gitrepository.js';
import { KubeClient } from '../../src/kube/client.js';
import { openTunnel } from '../../src/jobs/tunnel.js';
import { openServiceTunnel, type ForwardSocket, type PodLike, type TunnelApi } from '../../src/kube/tunnel.js';
import { forwardToLoopback } from '../fakes/portforward.js';
import type { ServiceTunnel } from '../../src/api/jobs.js';
import type { KubeObject } from '../../src/metacontroller/protocol.js';
import { parent, syncRequest, testEnv } from '../support/requests.js';
import { byKind, condition, toMap } from '../support/world.js';
import { cmData, giteaDuck, NS, provider } from '../support/providers.js';
import { referenceGrant } from '../support/grants.js';

const env = testEnv();

// --- a target's kubeconfig never appears in a message -----------------------------------------------------

const tunnelConfig: ServiceTunnel = { kubeconfigSecretRef: { namespace: 'fleet', name: 'vc-target', key: 'config' }, namespace: 'gitea', service: 'gitea-http', port: 3000 };
const kubeWith = (config: string) => ({ getSecret: async (ns: string, name: string) => (`${ns}/${name}` === 'fleet/vc-target' ? { config } : undefined) });
const messageOf = (p: Promise<unknown>) => p.then(() => 'resolved', (e: Error) => e.message);

describe('a kubeconfig Secret that is not YAML a kubeconfig can be', () => {
  // YAML parsers quote what they could not read: a tag (`!…`), an alias (`*…`). A token or password
  // stored in the Secret by mistake (or a kubeconfig with such a value) must not come back in the Job's error.
  it.each([
    ['a value read as a YAML tag', '!Sup3rS3cretTok'],
    ['a value read as a YAML alias', 'token: *Sup3rS3cretTok\n'],
  ])('%s: the error names the Secret and the position, never the content', async (_what, config) => {
    const msg = await messageOf(openTunnel(tunnelConfig, kubeWith(config)));
    expect(msg).toContain('kubeconfig Secret fleet/vc-target key config is not a kubeconfig');
    expect(msg).not.toContain('Sup3rS3cretTok');
    expect(msg).toMatch(/line \d+, column \d+/);
  });

  it('the loader itself (KubeConfigSource text) says the same', async () => {
    const msg = await messageOf(KubeClient.load({ kind: 'text', text: '!Sup3rS3cretTok', what: 'kubeconfig Secret a/b key value' }));
    expect(msg).toBe('kubeconfig Secret a/b key value is not a kubeconfig: not valid YAML (line 2, column 1)');
  });
});

describe('a kubeconfig Secret that would run a program in the Job', () => {
  // The Secret is written by whoever may write Secrets in the git server's namespace; the repo-sync Job runs in
  // the GitRepository's namespace with its rights. An exec plugin (or an auth-provider, which runs one) in it would
  // run that person's command there: refused by name, never run.
  // before the fix, this file appeared: the plugin ran while the tunnel read the Service
  const RAN = join(tmpdir(), `breaker-tunnel-exec-ran-${process.pid}`);
  const withUser = (user: string) =>
    [
      'apiVersion: v1',
      'kind: Config',
      'clusters: [{name: t, cluster: {server: "https://t.example:6443", insecure-skip-tls-verify: true}}]',
      `users: [{name: u, user: ${user}}]`,
      'contexts: [{name: t, context: {cluster: t, user: u}}]',
      'current-context: t',
      '',
    ].join('\n');
  it.each([
    ['exec', `{exec: {apiVersion: client.authentication.k8s.io/v1, command: sh, args: ["-c", "touch ${RAN}"]}}`],
    ['auth-provider', '{auth-provider: {name: oidc, config: {cmd-path: sh, idp-issuer-url: "https://i.example"}}}'],
  ])('%s: refused, naming the user entry, before any request; nothing ran', async (what, user) => {
    const msg = await messageOf(openTunnel(tunnelConfig, kubeWith(withUser(user))));
    expect(existsSync(RAN)).toBe(false);
    expect(msg).toBe(`kubeconfig Secret fleet/vc-target key config: user "u" uses ${what}: a kubeconfig read from a Secret must embed its credentials (token, or client-certificate-data and client-key-data)`);
  });
});

// --- the duck status.cluster of a git server ---------------------------------------------------------------

const SERVICE_ENDPOINT = 'http://gitea-http.git.svc.cluster.local:3000';
const repo = (ref: Record<string, unknown> = { kind: 'GiteaProvider', name: 'gitea' }) =>
  parent('GitRepository', 'apps', { gitServerRef: ref, sources: [{ type: 'Inline', files: { 'a.yaml': 'x: 1\n' } }] });
const server = (cluster: unknown) => provider('GiteaProvider', 'gitea', { ...giteaDuck(), internalEndpoint: SERVICE_ENDPOINT, endpoint: 'https://gitea.example.com', cluster });

describe('a GitRepository on a git server whose status.cluster is incomplete', () => {
  // A server that says it runs on a target but not (yet) by which kubeconfig cannot be reached: a sync Job started
  // now would dial its cluster-local name from the management cluster, where the same name may be another server
  // (and get the token). Unknown is not absent: wait, start nothing.
  it.each([
    ['no secretName nor key', { kind: 'VCluster', name: 'dev', registeredName: 'x', reachable: false }],
    ['no key', { kind: 'VCluster', name: 'dev', secretName: 'vc-dev', registeredName: 'x', reachable: true }],
    ['an empty secretName', { kind: 'Secret', name: 'k', secretName: '', key: 'value', registeredName: 'x', reachable: true }],
  ])('%s: Pending, GitServerIncomplete, no Job', (_what, cluster) => {
    const res = hooks.sync(syncRequest(repo(), {}, toMap([server(cluster)])), env);
    expect(res.children).toEqual([]);
    expect(res.status).toMatchObject({ phase: 'Pending' });
    expect(condition(res)).toMatchObject({ status: 'False', reason: 'GitServerIncomplete' });
    expect(condition(res).message).toContain('status.cluster');
    expect(condition(res, 'Degraded')).toMatchObject({ status: 'False' });
  });

  it('a complete one: the sync goes through the tunnel, the Secret read in the server\'s namespace', () => {
    const res = hooks.sync(syncRequest(repo(), {}, toMap([server({ kind: 'VCluster', name: 'dev', secretName: 'vc-dev', key: 'config', registeredName: 'x', reachable: true })])), env);
    const cfg = JSON.parse(cmData(byKind(res, 'ConfigMap')[0])['config.json']);
    expect(cfg.tunnel).toEqual({ kubeconfigSecretRef: { namespace: NS, name: 'vc-dev', key: 'config' }, namespace: 'git', service: 'gitea-http', port: 3000 });
  });

  it('none (null, as a merge patch leaves it): beside the controllers, reached directly', () => {
    const res = hooks.sync(syncRequest(repo(), {}, toMap([server(null)])), env);
    const cfg = JSON.parse(cmData(byKind(res, 'ConfigMap')[0])['config.json']);
    expect(cfg.tunnel).toBeUndefined();
  });
});

describe('a git server of another API group whose status.cluster has the wrong shape', () => {
  const foreign = (cluster: unknown): KubeObject =>
    ({
      apiVersion: 'example.com/v1',
      kind: 'BitbucketProvider',
      metadata: { name: 'bb', namespace: NS, generation: 1 },
      spec: {},
      status: { ...giteaDuck(), gitAPI: 'gitea', internalEndpoint: SERVICE_ENDPOINT, observedGeneration: 1, conditions: [{ type: 'Ready', status: 'True', reason: 'Ok', message: '' }], cluster },
    }) as KubeObject;
  const ref = { apiVersion: 'example.com/v1', kind: 'BitbucketProvider', name: 'bb' };
  it.each([
    ['a string', 'vc-dev'],
    ['a list', [{ secretName: 'vc-dev', key: 'config' }]],
    ['a number secretName', { secretName: 5, key: 'config' }],
  ])('%s: refused as InvalidDuckStatus (Degraded), no Job', (_what, cluster) => {
    const res = hooks.sync(syncRequest(repo(ref), {}, toMap([foreign(cluster)])), env);
    expect(res.children).toEqual([]);
    expect(condition(res)).toMatchObject({ status: 'False', reason: 'InvalidDuckStatus' });
    expect(condition(res).message).toContain('status.cluster');
    expect(condition(res, 'Degraded')).toMatchObject({ status: 'True', reason: 'InvalidDuckStatus' });
  });
});

describe('a GitRepository in another namespace than its git server on a target', () => {
  // status.cluster names a Secret, never a namespace: the kubeconfig is read in the server's namespace, which the
  // ReferenceGrant opened to this GitRepository, never in the repository's own nor one status could name.
  const cluster = { kind: 'VCluster', name: 'dev', secretName: 'vc-dev', key: 'config', registeredName: 'x', reachable: true, namespace: 'kube-system' };
  const teamRepo = () => ({ ...repo({ kind: 'GiteaProvider', name: 'gitea', namespace: NS }), metadata: { ...repo().metadata, namespace: 'team' } }) as KubeObject;
  it('with a grant: the tunnel\'s kubeconfig Secret is the server\'s, in the server\'s namespace (a namespace in status.cluster is ignored)', () => {
    const grant = referenceGrant('git', NS, [{ kind: 'GitRepository', namespace: 'team' }], [{ kind: 'GiteaProvider' }]);
    const res = hooks.sync(syncRequest(teamRepo(), {}, toMap([server(cluster), grant])), env);
    const cfg = JSON.parse(cmData(byKind(res, 'ConfigMap')[0])['config.json']);
    expect(cfg.tunnel.kubeconfigSecretRef).toEqual({ namespace: NS, name: 'vc-dev', key: 'config' });
  });
  it('without one: refused (ReferenceNotPermitted), no Job', () => {
    const res = hooks.sync(syncRequest(teamRepo(), {}, toMap([server(cluster)])), env);
    expect(res.children).toEqual([]);
    expect(condition(res)).toMatchObject({ reason: 'ReferenceNotPermitted' });
  });
});

describe('a tunnel whose Pod is replaced while the Job runs', () => {
  it('the next connection goes to the Ready Pod the Service selects then; the one before is never dialled again', async () => {
    const echo = createServer((s) => s.on('data', (d) => s.write(d)));
    await new Promise<void>((done) => echo.listen(0, '127.0.0.1', done));
    const port = (echo.address() as AddressInfo).port;
    const podOf = (name: string): PodLike => ({ metadata: { name }, spec: { containers: [{ ports: [{ name: 'http', containerPort: 3000 }] }] }, status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] } });
    let pods = [podOf('gitea-0')];
    const gone = new Set<string>();
    const forwards: string[] = [];
    const api: TunnelApi = {
      readService: async () => ({ spec: { selector: { app: 'gitea' }, ports: [{ port: 3000, targetPort: 'http' }] } }),
      listPods: async () => pods,
      portForward: async (_ns: string, pod: string, _port: number, output: Writable, _errors: Writable, input: Readable): Promise<ForwardSocket> => {
        forwards.push(pod);
        if (gone.has(pod)) throw new Error(`pods "${pod}" not found`);
        return forwardToLoopback(port, output, input);
      },
    };
    const tunnel = await openServiceTunnel(api, { namespace: 'git', service: 'gitea-http', port: 3000 });
    const roundTrip = async (text: string) => {
      const c = connect(tunnel.localPort, '127.0.0.1');
      await once(c, 'connect');
      c.write(text);
      // a connection the tunnel drops answers 'closed' (rather than hanging)
      const [d] = await Promise.race([once(c, 'data'), once(c, 'close').then(() => ['closed'])]);
      c.destroy();
      return String(d);
    };
    expect(await roundTrip('one')).toBe('one');
    // the StatefulSet's Pod was deleted and came back under another name (or a rollout replaced it)
    gone.add('gitea-0');
    pods = [podOf('gitea-1')];
    expect(await roundTrip('two')).toBe('two');
    expect(await roundTrip('three')).toBe('three');
    expect(forwards).toEqual(['gitea-0', 'gitea-0', 'gitea-0', 'gitea-1', 'gitea-1']);
    await tunnel.close();
    await tunnel.close(); // twice: nothing to do, no error
    await new Promise<void>((done) => echo.close(() => done()));
  });
});
