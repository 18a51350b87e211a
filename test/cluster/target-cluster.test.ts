// Target clusters (docs/multi-cluster.md) against real API servers: the shared control plane of global-setup.ts
// is the management cluster, and this file starts a second one (the same harness, named `target`) that plays
// the cluster a Platform's `spec.clusterRef` names (a vCluster: its `vc-<name>` Secret, key `config`).
//
// (a) The install Jobs' programs (their run.sh: kubectl for the release Secrets, helm upgrade --install) run
//     with the Job's own environment, KUBECONFIG included, and the pod's files laid out as the Job's volumes
//     mount them (the kubeconfig from the clusterRef Secret at /var/run/idpbuilder/target-cluster/kubeconfig):
//     the releases and Secrets land in the target, nothing in the management cluster. No network: the charts
//     come from a local chart repository (a tiny chart per release, same name and version) that the script's
//     --repo is pointed at; nothing else in the script changes.
// (b) The rendered objects go to the management cluster and are accepted there (server-side dry-run); what goes
//     to the target (the install scripts' Secrets and manifests) is accepted there; the Argo CD cluster
//     registration's credentials reach the target.
// (c) The Job programs of src/jobs that talk to Kubernetes (gitea-bootstrap here) stay on the management
//     cluster (docs/decisions.md "Target clusters"): their Jobs do not mount the target kubeconfig, and the
//     program writes to the cluster of its own identity even with KUBECONFIG pointing at the target.
// (d) A GiteaProvider with its own clusterRef (the Platform keeps its Gitea beside the controllers): its
//     gitea-bootstrap reaches Gitea through the target's API server (src/kube/tunnel.ts), with the kubeconfig it
//     reads from vc-target in the management cluster.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { controllers } from '../../src/controllers/registry.js';
import { giteaProviderHooks } from '../../src/controllers/giteaprovider.js';
import { render, renderHookEnv } from '../../src/render/render.js';
import type { KubeObject as Obj } from '../../src/metacontroller/protocol.js';
import { FakeGitea } from '../fakes/gitea.js';
import { run, startControlPlane, type ControlPlane } from './harness.js';
import { cluster, ensureNamespaces, expectSuccess, installProjectCrds, installThirdPartyCrds, namespacesOf, parseObjects, repoRoot } from './support.js';
import { noUsers } from '../support/requests.js';

const mgmt = cluster();
const NS = 'fleet';
const TARGET_MOUNT = '/var/run/idpbuilder/target-cluster';
const work = mkdtempSync(join(tmpdir(), 'idpbuilder-target-test-'));
let target: ControlPlane;
let objects: Obj[];
let kubeconfigSecret: Obj;

const b64 = (s: string) => Buffer.from(s).toString('base64');
const unb64 = (s: string) => Buffer.from(s, 'base64').toString('utf8');
const named = (kind: string, prefix: string) => objects.filter((o) => o.kind === kind && o.metadata.name.startsWith(prefix));
const one = (kind: string, prefix: string) => {
  const found = named(kind, prefix);
  expect(found.map((o) => o.metadata.name), `${kind} ${prefix}*`).toHaveLength(1);
  return found[0];
};

type Volume = { name: string; configMap?: { name: string }; secret?: { secretName: string; items?: { key: string; path: string }[] }; emptyDir?: object };
type EnvVar = { name: string; value?: string; valueFrom?: { fieldRef?: { fieldPath: string }; secretKeyRef?: { name: string; key: string } } };
type Container = { command: string[]; env: EnvVar[]; volumeMounts: { name: string; mountPath: string }[] };
const podOf = (job: Obj) => (job.spec as { template: { spec: { volumes: Volume[]; containers: Container[]; serviceAccountName?: string } } }).template.spec;

/** The Secret a Job mounts or reads: a rendered child, or the clusterRef's kubeconfig Secret. */
function secretData(name: string): Record<string, string> {
  const s = name === kubeconfigSecret.metadata.name ? kubeconfigSecret : objects.find((o) => o.kind === 'Secret' && o.metadata.name === name);
  if (!s) throw new Error(`Secret ${name} is neither rendered nor the kubeconfig Secret`);
  return Object.fromEntries(Object.entries((s.data ?? {}) as Record<string, string>).map(([k, v]) => [k, unb64(v)]));
}

/**
 * The pod of `job` on this machine: every volume written under a fresh root at its mountPath (a configMap's
 * keys, a Secret's keys or items, an empty dir), and the container's environment with the paths under that root
 * (fieldRef and secretKeyRef resolved as the kubelet would). `rooted` maps a path of the pod to this machine.
 */
function pod(job: Obj): { root: string; env: NodeJS.ProcessEnv; rooted: (text: string) => string; command: string[] } {
  const root = mkdtempSync(join(work, `${job.metadata.name}-`));
  const spec = podOf(job);
  const c = spec.containers[0];
  const mounts = c.volumeMounts.map((m) => m.mountPath).sort((a, b) => b.length - a.length);
  // one pass, longest mount first, a mount path only where a path starts (the root itself is under /tmp)
  const esc = (m: string) => m.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const re = new RegExp(`(^|[\\s'"=(])(${mounts.map(esc).join('|')})(?=[/\\s'"]|$)`, 'gm');
  const rooted = (text: string) => text.replace(re, (_all, pre: string, m: string) => `${pre}${root}${m}`);
  for (const v of spec.volumes) {
    const at = join(root, c.volumeMounts.find((m) => m.name === v.name)!.mountPath);
    mkdirSync(at, { recursive: true });
    let files: Record<string, string> = {};
    if (v.configMap) files = (objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === v.configMap!.name)!.data ?? {}) as Record<string, string>;
    if (v.secret) {
      const data = secretData(v.secret.secretName);
      files = v.secret.items ? Object.fromEntries(v.secret.items.map((i) => [i.path, data[i.key]])) : data;
    }
    for (const [k, text] of Object.entries(files)) writeFileSync(join(at, k), text, { mode: 0o600 });
  }
  const env: NodeJS.ProcessEnv = {};
  for (const e of c.env) {
    if (e.value !== undefined) env[e.name] = mounts.some((m) => e.value === m || e.value!.startsWith(`${m}/`)) ? `${root}${e.value}` : e.value;
    else if (e.valueFrom?.fieldRef) env[e.name] = e.valueFrom.fieldRef.fieldPath === 'metadata.namespace' ? job.metadata.namespace : job.metadata.name;
    else if (e.valueFrom?.secretKeyRef) env[e.name] = secretData(e.valueFrom.secretKeyRef.name)[e.valueFrom.secretKeyRef.key];
  }
  return { root, env, rooted, command: c.command };
}

/** Runs a helm Job's run.sh as its pod would (pod()), with the chart repositories pointed at the local one. */
async function runScript(job: Obj): Promise<{ code: number; stdout: string; stderr: string; env: NodeJS.ProcessEnv; root: string }> {
  const data = one('ConfigMap', job.metadata.name).data as Record<string, string>;
  const p = pod(job);
  expect(p.command).toEqual(['/bin/sh', '/config/run.sh']);
  const releases = JSON.parse(data['releases.json']) as { repository: string }[];
  let script = p.rooted(data['run.sh']);
  for (const r of releases) script = script.split(`--repo ${r.repository} `).join(`--repo ${repo!.url} `);
  const file = join(p.root, 'run.sh');
  writeFileSync(file, script);
  // nothing from this process's environment: the Job's env, and PATH with the test's helm and kubectl
  const res = await run('/bin/sh', [file], { env: { ...p.env, PATH: [mgmt.binDir, process.env.PATH].join(':') }, timeoutMs: 300_000 });
  return { ...res, env: p.env, root: p.root };
}

/** A chart repository on loopback with a tiny chart (one ConfigMap `<release>-target-probe`) per name@version. */
async function chartRepo(charts: { chart: string; version: string }[]): Promise<{ url: string; server: Server }> {
  const dir = join(work, 'charts');
  const src = join(work, 'chart-src');
  for (const { chart, version } of charts) {
    const c = join(src, chart);
    mkdirSync(join(c, 'templates'), { recursive: true });
    writeFileSync(join(c, 'Chart.yaml'), `apiVersion: v2\nname: ${chart}\nversion: ${version}\n`);
    writeFileSync(join(c, 'templates', 'probe.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-target-probe\ndata:\n  chart: {{ .Chart.Name }}-{{ .Chart.Version }}\n');
    expectSuccess(await target.helm(['package', c, '--destination', dir]), `helm package ${chart}`);
  }
  const server = createServer((req, res) => {
    try {
      const body = readFileSync(join(dir, (req.url ?? '/').split('?')[0].replace(/^\/+/, '').replace(/\.\./g, '')));
      res.writeHead(200).end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  server.listen(0, '127.0.0.1');
  await new Promise((done) => server.once('listening', done));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  expectSuccess(await target.helm(['repo', 'index', dir, '--url', url]), 'helm repo index');
  return { url, server };
}

let repo: { url: string; server: Server } | undefined;

beforeAll(async () => {
  target = await startControlPlane({ name: 'target', binDir: inject('binDir') });
  const kubeconfig = readFileSync(target.kubeconfig, 'utf8');
  kubeconfigSecret = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'vc-target', namespace: NS }, type: 'Opaque', data: { config: b64(kubeconfig) } } as Obj;
  const platform = {
    apiVersion: 'idpbuilder.cnoe.io/v1alpha2',
    kind: 'Platform',
    metadata: { name: 'edge', namespace: NS },
    spec: { clusterRef: { kind: 'VCluster', name: 'target' }, components: { gitea: {}, nginx: {}, argocd: {} } },
  } as Obj;
  // the Platform keeps Gitea beside the controllers (docs/multi-cluster.md); a GiteaProvider of its own goes there
  const remote = {
    apiVersion: 'idpbuilder.cnoe.io/v1alpha2',
    kind: 'GiteaProvider',
    metadata: { name: 'remote', namespace: NS },
    spec: { clusterRef: { kind: 'VCluster', name: 'target' }, namespace: 'gitea-remote', config: { ingress: { host: 'remote-gitea.cnoe.localtest.me' } } },
  } as Obj;
  const out = render([platform, remote], controllers(), { assumeReady: true, observed: [kubeconfigSecret] });
  expect(out.converged, out.warnings.join('\n')).toBe(true);
  objects = out.objects;
  const releases = objects.filter((c) => c.kind === 'ConfigMap' && (c.data as Record<string, string>)['target.json']).flatMap((c) => JSON.parse((c.data as Record<string, string>)['releases.json']) as { chart: string; version: string }[]);
  repo = await chartRepo(releases);
}, 600_000);

afterAll(async () => {
  await new Promise((done) => (repo ? repo.server.close(done) : done(undefined)));
  await target?.stop();
  rmSync(work, { recursive: true, force: true });
});

describe('a Platform whose clusterRef names a second API server', () => {
  it('(a) the Gitea and nginx install Jobs run their script with the kubeconfig mounted from vc-target: releases and Secrets land in the target only', async () => {
    for (const provider of ['remote', 'edge-nginx']) {
      const job = one('Job', `${provider}-install-`);
      const cm = one('ConfigMap', job.metadata.name);
      const data = cm.data as Record<string, string>;
      expect(JSON.parse(data['target.json'])).toEqual({ secret: 'vc-target', key: 'config', registeredName: `${NS}-vc-target` });
      const releases = JSON.parse(data['releases.json']) as { name: string; namespace: string; repository: string }[];
      // the namespaces exist on the target beforehand: a namespace the install creates is deleted (and waited
      // for) by the uninstall, and a lone kube-apiserver has no namespace controller to finish that deletion
      for (const ns of new Set(releases.map((r) => r.namespace))) {
        const made = await target.kubectl(['create', 'namespace', ns]);
        if (made.code !== 0) expect(made.stderr).toContain('AlreadyExists');
      }
      const res = await runScript(job);
      // as the kubelet mounts it: the Secret's key `config`, as the file KUBECONFIG names
      expect(res.env.KUBECONFIG).toBe(`${res.root}${TARGET_MOUNT}/kubeconfig`);
      expect(readFileSync(res.env.KUBECONFIG!, 'utf8')).toBe(readFileSync(target.kubeconfig, 'utf8'));
      expect(res.code, `${provider} run.sh:\n${res.stdout}\n${res.stderr}`).toBe(0);
      for (const r of releases) {
        const list = JSON.parse(expectSuccess(await target.helm(['list', '-n', r.namespace, '-o', 'json']), 'helm list on the target').stdout) as { name: string; status: string }[];
        expect(list.map((x) => [x.name, x.status])).toContainEqual([r.name, 'deployed']);
        expectSuccess(await target.kubectl(['get', 'configmap', `${r.name}-target-probe`, '-n', r.namespace]), 'the chart object on the target');
        const onMgmt = await mgmt.kubectl(['get', 'configmap', `${r.name}-target-probe`, '-n', r.namespace, '--ignore-not-found', '-o', 'name']);
        expect(onMgmt.stdout.trim(), `${r.name} must not be installed in the management cluster`).toBe('');
      }
    }
    // the release Secret the Gitea script writes from the admin credential
    const cred = JSON.parse(expectSuccess(await target.kubectl(['get', 'secret', 'gitea-credential', '-n', 'gitea-remote', '-o', 'json']), 'gitea-credential on the target').stdout) as Obj;
    expect(unb64((cred.data as Record<string, string>).username)).toBe(secretData('remote-gitea-admin').username);
    expect(cred.metadata.labels).toMatchObject({ 'idpbuilder.cnoe.io/giteaprovider': 'remote', 'idpbuilder.cnoe.io/role': 'credentials' });
  });

  it('(a) deleting the GiteaProvider: its uninstall Job (from the finalize hook, the target read from the install ConfigMap) removes the release from the target', async () => {
    const provider = one('GiteaProvider', 'remote');
    const deleting = { ...provider, metadata: { ...provider.metadata, deletionTimestamp: '2000-01-01T00:00:00Z' } } as Obj;
    const children = objects.filter((o) => (o.kind === 'ConfigMap' || o.kind === 'Job') && o.metadata.name.startsWith('remote-install-'));
    const group = (list: Obj[]) => {
      const map: Record<string, Record<string, Obj>> = {};
      for (const o of list) (map[`${o.kind}.${o.apiVersion}`] ??= {})[`${o.metadata.namespace}/${o.metadata.name}`] = o;
      return map;
    };
    const res = giteaProviderHooks.finalize!({ parent: deleting, children: group(children), related: { ...group([kubeconfigSecret]), ...noUsers('GitRepository') }, finalizing: true }, renderHookEnv({}, deleting));
    const uninstall = res.children.filter((c) => c.kind === 'Job' && c.metadata.name.startsWith('remote-uninstall-'));
    expect(uninstall).toHaveLength(1);
    objects.push(...res.children.filter((c) => c.metadata.name === uninstall[0].metadata.name));
    const ran = await runScript(uninstall[0]);
    expect(ran.code, `uninstall run.sh:\n${ran.stdout}\n${ran.stderr}`).toBe(0);
    const list = JSON.parse(expectSuccess(await target.helm(['list', '-n', 'gitea-remote', '-o', 'json']), 'helm list on the target').stdout) as { name: string }[];
    expect(list.map((x) => x.name)).not.toContain('gitea');
    const probe = await target.kubectl(['get', 'configmap', 'gitea-target-probe', '-n', 'gitea-remote', '--ignore-not-found', '-o', 'name']);
    expect(probe.stdout.trim()).toBe('');
  });

  it('(b) the rendered objects are accepted by the management API server, what goes to the target by the target, and the Argo CD registration reaches the target', async () => {
    await installThirdPartyCrds(mgmt);
    await installProjectCrds(mgmt);
    await ensureNamespaces(mgmt, [...namespacesOf(objects as never), ...objects.filter((o) => o.kind === 'Namespace').map((o) => o.metadata.name)]);
    // as the API server gets them from Metacontroller: no uid or generation of render's world
    const toMgmt = [kubeconfigSecret, ...objects].map((o) => {
      const { uid: _u, generation: _g, ...metadata } = o.metadata;
      return { ...o, metadata } as Obj;
    });
    const applied = await mgmt.kubectl(['apply', '--server-side', '--dry-run=server', '--force-conflicts', '--validate=strict', '--field-manager=idpbuilder', '-f', '-'], toMgmt.map((o) => JSON.stringify(o)).join('\n---\n'));
    expect(applied.code, `management dry-run:\n${applied.stderr}\n${applied.stdout}`).toBe(0);
    expect(applied.stdout.split('\n').filter((l) => /serverside-applied|server-side applied/.test(l))).toHaveLength(toMgmt.length);

    // what the targeted install Jobs apply besides their charts: manifests.yaml (none for Gitea and nginx now)
    const manifests = named('ConfigMap', 'edge-')
      .filter((c) => (c.data as Record<string, string>)['target.json'])
      .flatMap((c) => parseObjects((c.data as Record<string, string>)['manifests.yaml'] ?? '', c.metadata.name));
    if (manifests.length) {
      await ensureNamespaces(target, namespacesOf(manifests));
      const res = await target.kubectl(['apply', '--server-side', '--dry-run=server', '--validate=strict', '--field-manager=idpbuilder', '-f', '-'], manifests.map((o) => JSON.stringify(o)).join('\n---\n'));
      expect(res.code, `target dry-run:\n${res.stderr}`).toBe(0);
    }

    // Argo CD stays in the management cluster and gets the target as a cluster Secret: name, server, config
    const reg = one('Secret', 'edge-argocd-cluster-');
    const config = JSON.parse(unb64((reg.data as Record<string, string>).config)) as { bearerToken?: string; tlsClientConfig: { caData?: string; insecure: boolean } };
    const server = reg.metadata.annotations!['idpbuilder.cnoe.io/cluster-server'];
    expect(server).toBe(target.server);
    const argoView = [
      'apiVersion: v1',
      'kind: Config',
      `clusters: [{name: t, cluster: {server: "${server}", certificate-authority-data: ${config.tlsClientConfig.caData}}}]`,
      `users: [{name: argocd, user: {token: "${config.bearerToken}"}}]`,
      'contexts: [{name: t, context: {cluster: t, user: argocd}}]',
      'current-context: t',
      '',
    ].join('\n');
    const file = join(work, 'argocd-view.kubeconfig');
    writeFileSync(file, argoView, { mode: 0o600 });
    const canI = await run(join(mgmt.binDir, 'kubectl'), ['--kubeconfig', file, 'auth', 'can-i', 'create', 'deployments', '-n', 'gitea'], { env: { PATH: process.env.PATH, HOME: work }, timeoutMs: 60_000 });
    expect(canI.stdout.trim(), canI.stderr).toBe('yes');
    const argoJob = one('Job', 'edge-argocd-install-');
    expect(podOf(argoJob).volumes.some((v) => v.name === 'target-kubeconfig')).toBe(false);
  });

  it('(c) gitea-bootstrap, repo-sync: no target kubeconfig in their Jobs; gitea-bootstrap writes its token Secret to the cluster of its identity even with KUBECONFIG at the target', async () => {
    for (const prefix of ['edge-gitea-bootstrap-', 'remote-bootstrap-', 'edge-gitea-sync-', 'edge-nginx-sync-', 'edge-argocd-sync-']) {
      const spec = podOf(one('Job', prefix));
      expect(spec.volumes.map((v) => v.name), prefix).not.toContain('target-kubeconfig');
      expect(spec.containers[0].env.map((e) => e.name), prefix).not.toContain('KUBECONFIG');
      expect(spec.containers[0].command.slice(0, 2), prefix).toEqual(['idpbuilder', 'job']);
      expect(spec.containers[0].command, prefix).not.toContain('--kubeconfig');
    }
    const job = one('Job', 'edge-gitea-bootstrap-');
    const p = pod(job);
    const cfgFile = join(p.root, 'config', 'config.json');
    const cfg = JSON.parse(readFileSync(cfgFile, 'utf8')) as { endpoint: string; tokenSecret: { name: string; namespace: string } };
    // Gitea (a fake) with the admin credential the Job reads from the rendered admin Secret
    const gitea = new FakeGitea({ adminUsername: p.env.GITEA_USERNAME, adminPassword: p.env.GITEA_PASSWORD });
    await gitea.start();
    try {
      writeFileSync(cfgFile, JSON.stringify({ ...cfg, endpoint: gitea.baseURL, timeoutSeconds: 30 }));
      await ensureNamespaces(mgmt, [cfg.tokenSecret.namespace]);
      // Without a pod identity the program refuses; it does not fall back to KUBECONFIG (the target).
      const cli = join(repoRoot, 'bin', 'idpbuilder.mjs');
      const leaked = { ...p.env, KUBECONFIG: target.kubeconfig, PATH: process.env.PATH };
      const noIdentity = await run(process.execPath, [cli, ...p.command.slice(1).map(p.rooted)], { env: leaked, cwd: repoRoot, timeoutMs: 120_000 });
      expect(noIdentity.code).toBe(1);
      expect(noIdentity.stderr).toContain('not running in a cluster');
      // The pod's identity (its service account in the management cluster) stands in as --kubeconfig.
      const res = await run(process.execPath, [cli, ...p.command.slice(1).map(p.rooted), '--kubeconfig', mgmt.kubeconfig], { env: leaked, cwd: repoRoot, timeoutMs: 120_000 });
      expect(res.code, `${res.stdout}\n${res.stderr}`).toBe(0);
      expect(JSON.parse(res.stdout.trim().split('\n').pop()!)).toMatchObject({ tokenSecret: { name: cfg.tokenSecret.name, namespace: cfg.tokenSecret.namespace } });
      const onMgmt = await mgmt.kubectl(['get', 'secret', cfg.tokenSecret.name, '-n', cfg.tokenSecret.namespace, '-o', 'name']);
      expect(onMgmt.stdout.trim(), onMgmt.stderr).toBe(`secret/${cfg.tokenSecret.name}`);
      const onTarget = await target.kubectl(['get', 'secret', cfg.tokenSecret.name, '-n', cfg.tokenSecret.namespace, '--ignore-not-found', '-o', 'name']);
      expect(onTarget.stdout.trim()).toBe('');
    } finally {
      await gitea.stop();
    }
  });

  it('(d) a GiteaProvider on the target: its gitea-bootstrap reads the target kubeconfig from vc-target in the management cluster and finds Gitea\'s Service and Ready Pod on the target (the port-forward itself needs a kubelet, which this API server has not)', async () => {
    const job = one('Job', 'remote-bootstrap-');
    const p = pod(job);
    const cfgFile = join(p.root, 'config', 'config.json');
    const cfg = JSON.parse(readFileSync(cfgFile, 'utf8')) as { endpoint: string; tunnel: { kubeconfigSecretRef: { namespace: string; name: string; key: string }; namespace: string; service: string; port: number } };
    expect(cfg.tunnel).toEqual({ kubeconfigSecretRef: { namespace: NS, name: 'vc-target', key: 'config' }, namespace: 'gitea-remote', service: 'gitea-http', port: 3000 });
    writeFileSync(cfgFile, JSON.stringify({ ...cfg, timeoutSeconds: 3 }));
    await ensureNamespaces(mgmt, [NS]);
    const { uid: _u, ...meta } = kubeconfigSecret.metadata;
    expectSuccess(await mgmt.kubectl(['apply', '--server-side', '--field-manager=idpbuilder-test', '-f', '-'], JSON.stringify({ ...kubeconfigSecret, metadata: meta })), 'vc-target in the management cluster');
    await ensureNamespaces(target, ['gitea-remote']);
    const onTarget = [
      { apiVersion: 'v1', kind: 'Service', metadata: { name: 'gitea-http', namespace: 'gitea-remote' }, spec: { selector: { app: 'gitea' }, ports: [{ name: 'http', port: 3000, targetPort: 'http' }] } },
      { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'gitea-0', namespace: 'gitea-remote', labels: { app: 'gitea' } }, spec: { containers: [{ name: 'gitea', image: 'gitea/gitea:stand-in', ports: [{ name: 'http', containerPort: 3000 }] }] } },
    ];
    expectSuccess(await target.kubectl(['apply', '--server-side', '--field-manager=idpbuilder-test', '-f', '-'], onTarget.map((o) => JSON.stringify(o)).join('\n---\n')), 'Service and Pod on the target');
    const cli = join(repoRoot, 'bin', 'idpbuilder.mjs');
    const runIt = () => run(process.execPath, [cli, ...p.command.slice(1).map(p.rooted), '--kubeconfig', mgmt.kubeconfig], { env: { ...p.env, PATH: process.env.PATH }, cwd: repoRoot, timeoutMs: 120_000 });
    // no Pod Ready yet: the program says so (after retrying within its timeout)
    const notReady = await runIt();
    expect(notReady.code, notReady.stderr).toBe(1);
    expect(notReady.stderr).toContain('Service gitea-remote/gitea-http: no Running and Ready Pod matches app=gitea');
    // Ready (as a kubelet would report it): the program picks it, resolves the named port, asks the target's API server for the port-forward
    expectSuccess(
      await target.kubectl(['patch', 'pod', 'gitea-0', '-n', 'gitea-remote', '--subresource=status', '--type=merge', '-p', JSON.stringify({ status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] } })]),
      'Pod status',
    );
    const res = await runIt();
    expect(res.code, res.stderr).toBe(1);
    expect(res.stderr).toContain('port-forward to Pod gitea-remote/gitea-0 port 3000 failed');
    // nothing of the kubeconfig in what the program printed
    expect(`${res.stdout}${res.stderr}`).not.toContain(b64(readFileSync(target.kubeconfig, 'utf8')).slice(0, 40));
    expect(`${res.stdout}${res.stderr}`).not.toMatch(/client-key-data|BEGIN (RSA |EC )?PRIVATE KEY/);
  });
});

