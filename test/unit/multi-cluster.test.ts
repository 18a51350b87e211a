/**
 * Target clusters (docs/multi-cluster.md): a Platform aimed at a Cluster API Cluster or a vCluster renders install
 * Jobs that mount that cluster's kubeconfig Secret, an Argo CD cluster registration and Packages that deploy there.
 */
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { render } from '../../src/render/render.js';
import { controllers } from '../../src/controllers/registry.js';
import { argoClusterConfig, resolveCluster, serviceTunnel, summarizeKubeconfig } from '../../src/kit/cluster.js';
import { clusterInventory } from '../../src/controllers/platform.js';
import type { KubeObject } from '../../src/metacontroller/protocol.js';
import type { PackageSpec } from '../../src/api/package.js';
import { application } from '../../src/controllers/package.js';
import { fluxObjects, packagesFlux } from '../../src/controllers/packages-flux.js';
import { packagesArgoCD } from '../../src/controllers/packages-argocd.js';
import { packageHooks } from '../../src/controllers/package.js';
import { nginxGatewayHooks } from '../../src/controllers/nginxgateway.js';
import { parent, syncRequest, testEnv } from '../support/requests.js';
import { toMap } from '../support/world.js';

const CA = Buffer.from('-----BEGIN CERTIFICATE-----\nca\n-----END CERTIFICATE-----\n').toString('base64');
const CERT = Buffer.from('-----BEGIN CERTIFICATE-----\nclient\n-----END CERTIFICATE-----\n').toString('base64');
const KEY = Buffer.from('-----BEGIN RSA PRIVATE KEY-----\nkey-material-0123456789\n-----END RSA PRIVATE KEY-----\n').toString('base64');

function kubeconfig(server: string): string {
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    `- name: target`,
    `  cluster: {server: "${server}", certificate-authority-data: ${CA}}`,
    'users:',
    `- name: admin`,
    `  user: {client-certificate-data: ${CERT}, client-key-data: ${KEY}}`,
    'contexts:',
    '- name: target',
    '  context: {cluster: target, user: admin}',
    'current-context: target',
    '',
  ].join('\n');
}

function secret(name: string, key: string, server: string): KubeObject {
  return { apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace: 'default' }, data: { [key]: Buffer.from(kubeconfig(server)).toString('base64') } } as KubeObject;
}

function platform(clusterRef: Record<string, string>): KubeObject {
  return {
    apiVersion: 'idpbuilder.cnoe.io/v1alpha2',
    kind: 'Platform',
    metadata: { name: 'edge', namespace: 'default' },
    spec: { clusterRef, components: { gitea: {}, nginx: {}, argocd: {} } },
  } as KubeObject;
}

const capiCluster = (ready: boolean): KubeObject =>
  ({ apiVersion: 'cluster.x-k8s.io/v1beta1', kind: 'Cluster', metadata: { name: 'prod', namespace: 'default' }, spec: {}, status: { controlPlaneReady: ready, phase: ready ? 'Provisioned' : 'Provisioning' } }) as KubeObject;

function find(objects: KubeObject[], kind: string, pred: (o: KubeObject) => boolean = () => true): KubeObject[] {
  return objects.filter((o) => o.kind === kind && pred(o));
}

type Pod = { volumes: { name: string; secret?: { secretName: string; items?: { key: string; path: string }[] } }[]; containers: { env: { name: string; value?: string }[]; volumeMounts: { name: string; mountPath: string }[] }[] };
const pod = (job: KubeObject) => (job.spec as { template: { spec: Pod } }).template.spec;
const installJobOf = (objects: KubeObject[], provider: string) =>
  find(objects, 'Job', (j) => j.metadata.name.startsWith(`${provider}-install-`));

function renderPlatform(ref: Record<string, string>, observed: KubeObject[]) {
  return render([platform(ref)], controllers(), { assumeReady: true, observed });
}

describe('a Platform targeting a Cluster API Cluster', () => {
  const out = renderPlatform({ kind: 'Cluster', name: 'prod' }, [capiCluster(true), secret('prod-kubeconfig', 'value', 'https://prod.example.com:6443')]);

  it('installs nginx with the Cluster\'s <name>-kubeconfig Secret, key value, mounted as a file named by KUBECONFIG', () => {
    for (const provider of ['edge-nginx']) {
      const jobs = installJobOf(out.objects, provider);
      expect(jobs.length, provider).toBe(1);
      const p = pod(jobs[0]);
      const vol = p.volumes.find((v) => v.name === 'target-kubeconfig');
      expect(vol?.secret).toEqual({ secretName: 'prod-kubeconfig', items: [{ key: 'value', path: 'kubeconfig' }] });
      const c = p.containers[0];
      expect(c.env.find((e) => e.name === 'KUBECONFIG')?.value).toBe('/var/run/idpbuilder/target-cluster/kubeconfig');
      expect(c.volumeMounts.find((m) => m.name === 'target-kubeconfig')?.mountPath).toBe('/var/run/idpbuilder/target-cluster');
      // the kubeconfig never enters env values
      expect(JSON.stringify(c.env)).not.toContain(KEY);
    }
  });

  it('keeps Gitea beside the controllers with Argo CD: its install, bootstrap (no tunnel) and clone URLs stay in the management cluster', () => {
    const [job] = installJobOf(out.objects, 'edge-gitea');
    expect(pod(job).volumes.some((v) => v.name === 'target-kubeconfig')).toBe(false);
    const gitea = find(out.objects, 'GiteaProvider')[0];
    expect((gitea.spec as { clusterRef?: unknown }).clusterRef).toBeUndefined();
    expect((gitea.status as { cluster?: unknown }).cluster).toBeUndefined();
    const bootstrap = find(out.objects, 'ConfigMap', (c) => c.metadata.name.startsWith('edge-gitea-bootstrap-'));
    expect(bootstrap).toHaveLength(1);
    const cfg = JSON.parse((bootstrap[0].data as Record<string, string>)['config.json']) as { endpoint: string; tunnel?: unknown };
    expect(cfg).toMatchObject({ endpoint: 'http://gitea-http.gitea.svc.cluster.local:3000' });
    expect(cfg.tunnel).toBeUndefined();
  });

  it('keeps Argo CD beside the controllers and registers the target as an Argo CD cluster Secret', () => {
    const [job] = installJobOf(out.objects, 'edge-argocd');
    expect(pod(job).volumes.some((v) => v.name === 'target-kubeconfig')).toBe(false);
    const cm = find(out.objects, 'ConfigMap', (c) => c.metadata.name === job.metadata.name)[0];
    const script = (cm.data as Record<string, string>)['run.sh'];
    expect(script).toContain('--from-literal=name=default-prod-kubeconfig');
    expect(script).toContain('--from-literal=server=https://prod.example.com:6443');
    expect(script).toContain('argocd.argoproj.io/secret-type=cluster');
    expect(script).not.toContain(KEY);
    const reg = find(out.objects, 'Secret', (s) => s.metadata.name.startsWith('edge-argocd-cluster-'));
    expect(reg).toHaveLength(1);
    const config = JSON.parse(Buffer.from((reg[0].data as Record<string, string>).config, 'base64').toString());
    expect(config).toEqual({ tlsClientConfig: { insecure: false, caData: CA, certData: CERT, keyData: KEY } });
    // the registration Secret is mounted into the install Job that writes it
    expect(pod(job).volumes.some((v) => v.secret?.secretName === reg[0].metadata.name)).toBe(true);
    const argo = find(out.objects, 'ArgoCDProvider')[0];
    expect((argo.status as { clusters: unknown[] }).clusters).toEqual([
      { kind: 'Cluster', name: 'prod', secretName: 'prod-kubeconfig', key: 'value', server: 'https://prod.example.com:6443', registeredName: 'default-prod-kubeconfig', reachable: true },
    ]);
  });

  it('lists the clusters in the Platform status', () => {
    const p = find(out.objects, 'Platform')[0];
    const clusters = (p.status as { clusters: { name: string; reachable: boolean; members: string[] }[] }).clusters;
    expect(clusters.map((c) => c.name)).toEqual(['default-prod-kubeconfig', 'in-cluster']);
    expect(clusters[0].reachable).toBe(true);
    expect(clusters[0].members).toEqual(expect.arrayContaining(['NginxGateway/edge-nginx']));
    expect(clusters[0].members).not.toContain('ArgoCDProvider/edge-argocd');
    expect(clusters[0].members).not.toContain('GiteaProvider/edge-gitea');
    expect(clusters[1].members).toEqual(expect.arrayContaining(['ArgoCDProvider/edge-argocd', 'GiteaProvider/edge-gitea']));
  });

  it('waits with Ready=False ClusterNotReady while the control plane is not ready, installing nothing there', () => {
    const waiting = renderPlatform({ kind: 'Cluster', name: 'prod' }, [capiCluster(false), secret('prod-kubeconfig', 'value', 'https://prod.example.com:6443')]);
    expect(installJobOf(waiting.objects, 'edge-nginx')).toHaveLength(0);
    const nginx = find(waiting.objects, 'NginxGateway')[0];
    const ready = (nginx.status as { conditions: { type: string; status: string; reason: string }[] }).conditions.find((c) => c.type === 'Ready');
    expect(ready).toMatchObject({ status: 'False', reason: 'ClusterNotReady' });
    expect((nginx.status as { cluster: { reachable: boolean } }).cluster.reachable).toBe(false);
  });
});

describe('a Platform targeting a vCluster', () => {
  const out = renderPlatform({ kind: 'VCluster', name: 'dev' }, [secret('vc-dev', 'config', 'https://dev.default.svc:443')]);

  it('installs with the vc-<name> Secret, key config, and registers it with Argo CD', () => {
    const [job] = installJobOf(out.objects, 'edge-nginx');
    expect(pod(job).volumes.find((v) => v.name === 'target-kubeconfig')?.secret).toEqual({ secretName: 'vc-dev', items: [{ key: 'config', path: 'kubeconfig' }] });
    const [argoJob] = installJobOf(out.objects, 'edge-argocd');
    const script = (find(out.objects, 'ConfigMap', (c) => c.metadata.name === argoJob.metadata.name)[0].data as Record<string, string>)['run.sh'];
    expect(script).toContain('--from-literal=name=default-vc-dev');
    expect(script).toContain('--from-literal=server=https://dev.default.svc:443');
  });

  it('rendered again with its output as observed but without the vc-dev Secret: Ready=False ClusterSecretNotFound, children kept', () => {
    const again = renderPlatform({ kind: 'VCluster', name: 'dev' }, out.objects);
    const nginx = find(again.objects, 'NginxGateway')[0];
    const ready = (nginx.status as { conditions: { type: string; status: string; reason: string; message: string }[] }).conditions.find((c) => c.type === 'Ready');
    expect(ready).toMatchObject({ status: 'False', reason: 'ClusterSecretNotFound' });
    expect(ready!.message).toContain('vc-dev');
    expect((nginx.status as { cluster: { reachable: boolean } }).cluster.reachable).toBe(false);
    // every child of the first render is still there (nothing is deleted because the target cannot be read)
    const names = (objects: KubeObject[], kind: string) => find(objects, kind, (o) => o.metadata.name.startsWith('edge-nginx-')).map((o) => o.metadata.name).sort();
    for (const kind of ['Job', 'ConfigMap']) {
      expect(names(out.objects, kind).length, kind).toBeGreaterThan(0);
      expect(names(again.objects, kind), kind).toEqual(names(out.objects, kind));
    }
    const platform = find(again.objects, 'Platform')[0];
    const inventory = (platform.status as { clusters: { name: string; reachable: boolean }[] }).clusters;
    expect(inventory.find((c) => c.name === 'default-vc-dev')?.reachable).toBe(false);
  });
});

describe('a GiteaProvider on a target cluster (its own clusterRef)', () => {
  const gitea = { apiVersion: 'idpbuilder.cnoe.io/v1alpha2', kind: 'GiteaProvider', metadata: { name: 'remote', namespace: 'default' }, spec: { clusterRef: { kind: 'VCluster', name: 'dev' }, namespace: 'git' } } as KubeObject;
  const repo = { apiVersion: 'idpbuilder.cnoe.io/v1alpha2', kind: 'GitRepository', metadata: { name: 'apps', namespace: 'default' }, spec: { gitServerRef: { kind: 'GiteaProvider', name: 'remote' }, sources: [{ type: 'Inline', files: { 'a.yaml': 'x: 1\n' } }] } } as KubeObject;
  const out = render([gitea, repo], controllers(), { assumeReady: true, observed: [secret('vc-dev', 'config', 'https://dev.default.svc:443')] });
  const configOf = (prefix: string) => {
    const cms = find(out.objects, 'ConfigMap', (c) => c.metadata.name.startsWith(prefix));
    expect(cms.map((c) => c.metadata.name), prefix).toHaveLength(1);
    return JSON.parse((cms[0].data as Record<string, string>)['config.json']) as Record<string, unknown>;
  };
  const tunnel = { kubeconfigSecretRef: { namespace: 'default', name: 'vc-dev', key: 'config' }, namespace: 'git', service: 'gitea-http', port: 3000 };

  it('its bootstrap Job reaches Gitea\'s Service through the target\'s API server: the config names the tunnel, the Job mounts no kubeconfig', () => {
    expect(configOf('remote-bootstrap-')).toMatchObject({ endpoint: 'http://gitea-http.git.svc.cluster.local:3000', tunnel });
    const job = find(out.objects, 'Job', (j) => j.metadata.name.startsWith('remote-bootstrap-'))[0];
    expect(pod(job).volumes.some((v) => v.name === 'target-kubeconfig')).toBe(false);
    expect(pod(job).containers[0].env.map((e) => e.name)).not.toContain('KUBECONFIG');
  });

  it('a GitRepository on it syncs through the same tunnel (read from the duck status.cluster) and is cloned through the published URL', () => {
    expect(configOf('apps-sync-')).toMatchObject({ apiEndpoint: 'http://gitea-http.git.svc.cluster.local:3000', tunnel });
    const status = find(out.objects, 'GitRepository')[0].status as { cloneURL: string };
    expect(status.cloneURL).not.toContain('.svc.cluster.local');
  });
});

describe('serviceTunnel', () => {
  const kc = { namespace: 'ns', name: 'vc-x', key: 'config' };
  it.each([
    ['http://gitea-http.gitea.svc.cluster.local:3000', { namespace: 'gitea', service: 'gitea-http', port: 3000 }],
    ['http://gitea-http.gitea.svc:3000/sub/', { namespace: 'gitea', service: 'gitea-http', port: 3000 }],
    ['https://gitlab.tools.svc.cluster.local/api/v4', { namespace: 'tools', service: 'gitlab', port: 443 }],
    ['http://web.apps.svc.cluster.local.', { namespace: 'apps', service: 'web', port: 80 }],
  ])('%s is a Service', (endpoint, want) => {
    expect(serviceTunnel(endpoint, kc)).toEqual({ kubeconfigSecretRef: kc, ...want });
  });
  it.each(['https://api.github.com', 'http://gitea.cnoe.localtest.me:8443', 'http://a.b.c.svc.cluster.local', 'ftp://x.y.svc', 'not a url'])('%s is reached directly', (endpoint) => {
    expect(serviceTunnel(endpoint, kc)).toBeUndefined();
  });
});

describe('Packages with a clusterRef', () => {
  const pkg = { apiVersion: 'idpbuilder.cnoe.io/v1alpha2', kind: 'Package', metadata: { name: 'app', namespace: 'default' } } as KubeObject;
  const spec = { source: { gitRepository: { name: 'repo' } }, clusterRef: { kind: 'VCluster', name: 'dev' }, argocd: { destination: { namespace: 'apps' } } } as PackageSpec;
  it('Argo CD deploys to the registered name, Flux with kubeConfig.secretRef of the vc-<name> Secret', () => {
    expect((application(pkg, spec, 'http://git/x.git').spec as { destination: unknown }).destination).toEqual({ name: 'default-vc-dev', namespace: 'apps' });
    const k = fluxObjects(pkg, { ...spec, argocd: undefined, flux: {} } as PackageSpec, 'http://git/x.git').find((o) => o.kind === 'Kustomization')!;
    expect((k.spec as { kubeConfig: unknown }).kubeConfig).toEqual({ secretRef: { name: 'vc-dev', key: 'config' } });
  });
});

describe('deleting a provider installed into a target cluster', () => {
  const out = renderPlatform({ kind: 'VCluster', name: 'dev' }, [secret('vc-dev', 'config', 'https://dev.default.svc:443')]);
  const nginx = { ...find(out.objects, 'NginxGateway')[0], metadata: { ...find(out.objects, 'NginxGateway')[0].metadata, deletionTimestamp: '2000-01-01T00:00:00Z' } } as KubeObject;
  const installed = [...installJobOf(out.objects, 'edge-nginx'), ...find(out.objects, 'ConfigMap', (c) => c.metadata.name.startsWith('edge-nginx-install-'))];
  const finalize = (related: KubeObject[], extra: KubeObject[] = []) => nginxGatewayHooks.finalize!(syncRequest(nginx, toMap([...installed, ...extra]), toMap(related), true), testEnv());

  it('uninstalls there: the uninstall Job mounts the recorded target kubeconfig', () => {
    const res = finalize([secret('vc-dev', 'config', 'https://dev.default.svc:443')]);
    const job = res.children.find((c) => c.kind === 'Job' && c.metadata.name.startsWith('edge-nginx-uninstall-'))!;
    expect(pod(job).volumes.find((v) => v.name === 'target-kubeconfig')?.secret).toEqual({ secretName: 'vc-dev', items: [{ key: 'config', path: 'kubeconfig' }] });
    expect(res.finalized).toBe(false);
  });

  it('with the kubeconfig Secret already gone: no uninstall Job pending in silence but Ready=False ClusterSecretNotFound saying what to do; a Job already made is kept', () => {
    const res = finalize([]);
    expect(res.finalized).toBe(false);
    expect(res.children.filter((c) => c.kind === 'Job' && c.metadata.name.startsWith('edge-nginx-uninstall-'))).toEqual([]);
    // the install ConfigMap that records the target stays, so the uninstall finds it once the Secret is back
    expect(res.children.map((c) => c.metadata.name)).toContain(installed.find((o) => o.kind === 'ConfigMap')!.metadata.name);
    const ready = (res.status as { conditions: { type: string; status: string; reason: string; message: string }[] }).conditions.find((c) => c.type === 'Ready')!;
    expect(ready).toMatchObject({ status: 'False', reason: 'ClusterSecretNotFound' });
    expect(ready.message).toContain('vc-dev');
    expect(ready.message).toContain('deletionPolicy: Retain');
    const made = finalize([secret('vc-dev', 'config', 'https://dev.default.svc:443')]).children.find((c) => c.kind === 'Job' && c.metadata.name.startsWith('edge-nginx-uninstall-'))!;
    const again = finalize([], [made]);
    expect(again.children.map((c) => c.metadata.name)).toContain(made.metadata.name);
    expect((again.status as { conditions: { type: string; reason: string }[] }).conditions.find((c) => c.type === 'Ready')!.reason).toBe('ClusterSecretNotFound');
  });
});

describe('a Package whose target is not usable waits instead of handing it to the GitOps engine', () => {
  const env = testEnv();
  const repoReady = { apiVersion: 'idpbuilder.cnoe.io/v1alpha2', kind: 'GitRepository', metadata: { name: 'app-repo', namespace: 'idpbuilder-system' }, spec: {}, status: { conditions: [{ type: 'Ready', status: 'True', reason: 'Synced', message: '' }], cloneURL: 'http://git/app.git' } } as KubeObject;
  const kc = { ...secret('vc-dev', 'config', 'https://dev:443'), metadata: { name: 'vc-dev', namespace: 'idpbuilder-system' } } as KubeObject;
  const pkgOf = (engine: Record<string, unknown>) => parent('Package', 'app', { source: { gitRepository: { name: 'app-repo', path: 'manifests' } }, clusterRef: { kind: 'VCluster', name: 'dev' }, ...engine });
  const ready = (res: { status?: Record<string, unknown> }) => (res.status as { conditions: { type: string; status: string; reason: string }[] }).conditions.find((c) => c.type === 'Ready');

  it('customize of the Package and of both decorators asks for the kubeconfig Secret', () => {
    const p = pkgOf({});
    for (const rules of [packageHooks.customize!({ parent: p }, env).relatedResources, packagesArgoCD.hooks.customize!({ parent: p }, env).relatedResources, packagesFlux.hooks.customize!({ parent: p }, env).relatedResources]) {
      expect(rules).toContainEqual({ apiVersion: 'v1', resource: 'secrets', namespace: 'idpbuilder-system', names: ['vc-dev'] });
    }
  });

  it('Argo CD: no Application while vc-dev is missing (Ready=False ClusterSecretNotFound, phase Waiting); an existing one is kept as it is; with the Secret it deploys', () => {
    const p = pkgOf({ argocd: { destination: { namespace: 'apps' } } });
    expect(packagesArgoCD.hooks.sync({ object: p, attachments: {}, related: toMap([repoReady]) }, env).attachments).toEqual([]);
    const deployed = packagesArgoCD.hooks.sync({ object: p, attachments: {}, related: toMap([repoReady, kc]) }, env).attachments;
    expect(deployed.map((a) => [a.kind, (a.spec as { destination: unknown }).destination])).toEqual([['Application', { name: 'idpbuilder-system-vc-dev', namespace: 'apps' }]]);
    const kept = packagesArgoCD.hooks.sync({ object: p, attachments: toMap(deployed), related: toMap([repoReady]) }, env).attachments;
    expect(kept).toEqual(deployed);
    const res = packageHooks.sync(syncRequest(p, {}, toMap([repoReady])), env);
    expect(res.status).toMatchObject({ phase: 'Waiting', waitingFor: ['VCluster/dev'], cluster: { name: 'dev', secretName: 'vc-dev', reachable: false } });
    expect(ready(res)).toMatchObject({ status: 'False', reason: 'ClusterSecretNotFound' });
  });

  it('Flux: no GitRepository/Kustomization while vc-dev is missing; existing ones are kept', () => {
    const p = pkgOf({ flux: { interval: '1m' } });
    expect(packagesFlux.hooks.sync({ object: p, attachments: {}, related: toMap([repoReady]) }, env).attachments).toEqual([]);
    const deployed = packagesFlux.hooks.sync({ object: p, attachments: {}, related: toMap([repoReady, kc]) }, env).attachments;
    expect(deployed.map((a) => a.kind)).toEqual(['GitRepository', 'Kustomization']);
    expect(packagesFlux.hooks.sync({ object: p, attachments: toMap(deployed), related: toMap([repoReady]) }, env).attachments).toEqual(deployed);
  });
});

describe('kubeconfig handling', () => {
  it('converts embedded client certificates into Argo CD tlsClientConfig, and refuses exec plugins by name only', () => {
    expect(JSON.parse(argoClusterConfig(summarizeKubeconfig(kubeconfig('https://x:6443'))))).toEqual({ tlsClientConfig: { insecure: false, caData: CA, certData: CERT, keyData: KEY } });
    const exec = parse(kubeconfig('https://x:6443')) as { users: { user: Record<string, unknown> }[] };
    exec.users[0].user = { exec: { command: 'aws', args: ['eks', 'get-token'] } };
    expect(() => argoClusterConfig(summarizeKubeconfig(JSON.stringify(exec)))).toThrow('the kubeconfig uses exec: Argo CD needs embedded credentials');
  });

  it('reports a missing key of a kind Secret reference and never reads another namespace', () => {
    const parent = { apiVersion: 'x/v1', kind: 'GiteaProvider', metadata: { name: 'g', namespace: 'team' } } as KubeObject;
    const other = { ...secret('kc', 'value', 'https://a'), metadata: { name: 'kc', namespace: 'default' } } as KubeObject;
    const related = { 'Secret.v1': { 'default/kc': other } };
    expect(resolveCluster({ parent, related }, { kind: 'Secret', name: 'kc' })).toMatchObject({ state: 'blocked', reason: 'ClusterSecretNotFound' });
    const own = { ...other, metadata: { name: 'kc', namespace: 'team' } } as KubeObject;
    expect(resolveCluster({ parent, related: { 'Secret.v1': { 'team/kc': own } } }, { kind: 'Secret', name: 'kc', key: 'other' })).toMatchObject({ state: 'blocked', reason: 'ClusterKubeconfigKeyNotFound' });
  });

  it('refuses a kubeconfig that needs a command or files (exec, auth-provider, file paths): Ready=False ClusterKubeconfigInvalid, nothing installed', () => {
    const parent = { apiVersion: 'x/v1', kind: 'GiteaProvider', metadata: { name: 'g', namespace: 'team' } } as KubeObject;
    const kc = (user: string) =>
      ({
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 'kc', namespace: 'team' },
        data: { value: Buffer.from(`apiVersion: v1\nclusters: [{name: t, cluster: {server: "https://t:6443"}}]\nusers: [{name: u, user: ${user}}]\ncontexts: [{name: t, context: {cluster: t, user: u}}]\ncurrent-context: t\n`).toString('base64') },
      }) as KubeObject;
    for (const [user, uses] of [
      ['{exec: {apiVersion: client.authentication.k8s.io/v1, command: aws, args: [eks, get-token]}}', 'exec'],
      ['{auth-provider: {name: oidc}}', 'auth-provider'],
      ['{client-certificate: /etc/c.crt, client-key: /etc/c.key}', 'client-certificate, client-key'],
    ] as const) {
      const r = resolveCluster({ parent, related: { 'Secret.v1': { 'team/kc': kc(user) } } }, { kind: 'Secret', name: 'kc' });
      expect(r, uses).toMatchObject({ state: 'blocked', reason: 'ClusterKubeconfigInvalid' });
      expect((r as { message: string }).message, uses).toContain(`the kubeconfig uses ${uses}; embed the credentials`);
    }
    expect(resolveCluster({ parent, related: { 'Secret.v1': { 'team/kc': kc('{token: abc}') } } }, { kind: 'Secret', name: 'kc' })).toMatchObject({ state: 'ready' });
    // through a provider: waits, installs nothing
    const out = render([{ apiVersion: 'idpbuilder.cnoe.io/v1alpha2', kind: 'NginxGateway', metadata: { name: 'edge', namespace: 'team' }, spec: { clusterRef: { kind: 'Secret', name: 'kc' } } } as KubeObject], controllers(), { assumeReady: true, observed: [kc('{exec: {command: sh}}')] });
    expect(installJobOf(out.objects, 'edge')).toHaveLength(0);
    const ready = ((find(out.objects, 'NginxGateway')[0].status as { conditions: { type: string; status: string; reason: string }[] }).conditions).find((c) => c.type === 'Ready');
    expect(ready).toMatchObject({ status: 'False', reason: 'ClusterKubeconfigInvalid' });
  });

  it('inventory groups members by the cluster they report', () => {
    const member = (kind: string, name: string, cluster?: Record<string, unknown>) => ({ group: 'gitProviders', kind, name, namespace: 'default', inline: true, object: { apiVersion: 'v', kind, metadata: { name }, status: cluster ? { cluster } : {} } as KubeObject });
    const inv = clusterInventory(
      [member('GiteaProvider', 'g', { kind: 'Secret', name: 'kc', registeredName: 'default-kc', reachable: false }), member('ArgoCDProvider', 'a')] as never,
      [],
    );
    expect(inv).toEqual([
      { name: 'default-kc', kind: 'Secret', ref: 'Secret/kc', reachable: false, members: ['GiteaProvider/g'] },
      { name: 'in-cluster', kind: 'InCluster', reachable: true, members: ['ArgoCDProvider/a'] },
    ]);
  });
});
