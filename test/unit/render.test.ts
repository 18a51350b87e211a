import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runRender } from '../../src/cli/render.js';
import { DEFAULT_PLATFORM_YAML } from '../../src/render/default-platform.js';
import { Admission } from '../../src/api/validate.js';
import { isDNS1123Label } from '../../src/kit/names.js';
import type { KubeObject } from '../../src/metacontroller/protocol.js';
import { EXAMPLES, exampleFiles } from '../support/examples.js';
import { referencedSecrets } from '../property/steady.js';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';

const opts = { filename: [] as string[], recursive: false, assumeReady: false, output: 'json' as const, showSecrets: false };
const items = (stdout: string) => (JSON.parse(stdout) as { items: KubeObject[] }).items;
const ready = (o: KubeObject) => (o.status?.conditions as { type: string; status: string; reason: string }[] | undefined)?.find((c) => c.type === 'Ready');

describe('idpbuilder render (default platform)', () => {
  const assumed = runRender({ ...opts, assumeReady: true });
  const all = items(assumed.stdout);
  const of = (kind: string) => all.filter((o) => o.kind === kind);

  it('with --assume-ready: Platform Ready=True with its three providers listed ready', () => {
    expect(assumed.code).toBe(0);
    expect(assumed.stderr).toBe('');
    const [platform] = of('Platform');
    expect(ready(platform)).toMatchObject({ status: 'True', reason: 'AllComponentsReady' });
    const p = platform.status.providers;
    expect([...p.gitProviders, ...p.gateways, ...p.gitOpsProviders].map((x: any) => [x.kind, x.name, x.ready])).toEqual([
      ['GiteaProvider', 'gitea', true],
      ['NginxGateway', 'nginx', true],
      ['ArgoCDProvider', 'argocd', true],
    ]);
  });

  it('emits three install Jobs with their values ConfigMaps and the generated credential Secrets', () => {
    const installJobs = of('Job').filter((j) => j.metadata.labels?.['idpbuilder.cnoe.io/role'] === 'install');
    expect(installJobs.map((j) => j.metadata.name.replace(/-[0-9a-f]{8}$/, '')).sort()).toEqual(['argocd-install', 'gitea-install', 'nginx-install']);
    for (const j of installJobs) {
      const cm = of('ConfigMap').find((c) => c.metadata.name === j.metadata.name);
      expect(cm?.data?.['values-0.yaml'], j.metadata.name).toBeTruthy();
    }
    expect(of('Secret').map((s) => s.metadata.name).sort()).toEqual(['argocd-argocd-admin', 'gitea-gitea-admin']);
    for (const s of of('Secret')) for (const v of Object.values(s.data!)) expect(Buffer.from(v, 'base64').toString()).toBe('REDACTED');
  });

  it('emits bootstrap GitRepositories with cloneURL, and Applications whose repoURL is that cloneURL', () => {
    const repos = of('GitRepository');
    expect(repos.map((r) => r.metadata.name).sort()).toEqual(['localdev-argocd', 'localdev-gitea', 'localdev-nginx']);
    const apps = of('Application');
    expect(apps).toHaveLength(3);
    for (const r of repos) {
      expect(r.status.cloneURL).toBe(`http://gitea-http.gitea.svc.cluster.local:3000/idpbuilder/${r.metadata.name}.git`);
      const pkg = of('Package').find((p) => p.spec.source.gitRepository.name === r.metadata.name)!;
      const app = apps.find((a) => a.metadata.name === pkg.metadata.name)!;
      expect(app.spec.source.repoURL).toBe(r.status.cloneURL);
    }
  });

  it('keeps every namespaced child in its parent namespace, with valid names', () => {
    for (const o of all) {
      expect(o.metadata.namespace, `${o.kind}/${o.metadata.name}`).toBe('idpbuilder-system');
      expect(isDNS1123Label(o.metadata.name), o.metadata.name).toBe(true);
    }
  });

  it('computes statuses that our own schemas accept', () => {
    const admission = new Admission();
    for (const o of all.filter((x) => x.apiVersion.startsWith('idpbuilder.cnoe.io/'))) {
      const r = admission.admit(o);
      expect(r.outcome === 'invalid' ? r.problems : [], `${o.kind}/${o.metadata.name}`).toEqual([]);
    }
  });

  it('is byte-identical from run to run, in yaml too', () => {
    expect(runRender({ ...opts, assumeReady: true }).stdout).toBe(assumed.stdout);
    const y1 = runRender({ ...opts, output: 'yaml' });
    expect(runRender({ ...opts, output: 'yaml' }).stdout).toBe(y1.stdout);
    expect(parseAllDocuments(y1.stdout).length).toBeGreaterThan(5);
  });

  it('without --assume-ready: Platform Progressing, providers Installing, no Application yet', () => {
    const r = runRender(opts);
    const objs = items(r.stdout);
    const platform = objs.find((o) => o.kind === 'Platform')!;
    expect(platform.status.phase).toBe('Progressing');
    expect(ready(platform)).toMatchObject({ status: 'False', reason: 'WaitingForProviders' });
    for (const p of objs.filter((o) => /Provider$|Gateway$/.test(o.kind))) expect(p.status.phase, p.kind).toBe('Installing');
    expect(objs.filter((o) => o.kind === 'Application' || o.kind === 'GitRepository' || o.kind === 'Package')).toEqual([]);
  });

  it('renders the built-in platform, which is the spec appendix A example', () => {
    const fromFile = parseAllDocuments(readFileSync(join(EXAMPLES, 'default-platform.yaml'), 'utf8')).map((d) => d.toJS());
    expect(parseAllDocuments(DEFAULT_PLATFORM_YAML).map((d) => d.toJS())).toEqual(fromFile);
  });

  it('shows generated secret values only when asked', () => {
    const r = runRender({ ...opts, showSecrets: true });
    const secret = items(r.stdout).find((o) => o.kind === 'Secret' && o.metadata.name === 'gitea-gitea-admin')!;
    expect(Buffer.from(secret.data!.password, 'base64').toString()).toMatch(/^[A-Za-z0-9]{40}$/);
    expect(Buffer.from(secret.data!.username, 'base64').toString()).toBe('giteaAdmin');
  });

  it('refuses invalid input with the offending field', () => {
    const r = runRender({ ...opts, filename: [join(EXAMPLES, 'invalid', 'github-app-without-appauth.yaml')] });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('GitHubProvider/github-app: .spec.appAuth: authType app requires appAuth');
  });
});

/**
 * The Secrets the examples name but do not define, as stand-in inputs (a file beside the examples): without them a
 * GitHub or GitLab provider rightly waits (SecretNotFound) and starts no validation Job.
 */
function standInSecrets(): string {
  const loaded = exampleFiles().flatMap((f) => parseAllDocuments(readFileSync(f, 'utf8')).map((d) => d.toJS() as KubeObject).filter((o) => o?.kind));
  const dir = mkdtempSync(join(tmpdir(), 'render-secrets-'));
  const file = join(dir, 'secrets.yaml');
  writeFileSync(file, referencedSecrets(loaded).map((o) => JSON.stringify(o)).join('\n---\n'));
  return file;
}

describe('idpbuilder render -f examples (every example of the spec)', () => {
  const all = items(runRender({ ...opts, filename: [EXAMPLES, standInSecrets()], assumeReady: true }).stdout);
  const isProvider = (o: KubeObject) => /(Provider|Gateway)$/.test(o.kind) && o.apiVersion.startsWith('idpbuilder.cnoe.io/');

  it('with --assume-ready every provider is Ready, and each Platform lists all its providers, Ready', () => {
    const providers = all.filter(isProvider);
    expect(providers.length).toBeGreaterThan(15);
    for (const p of providers) expect(ready(p), `${p.kind}/${p.metadata.name}`).toMatchObject({ status: 'True' });
    const platforms = all.filter((o) => o.kind === 'Platform');
    expect(platforms.map((p) => p.metadata.name).sort()).toEqual(['dev', 'dev-external', 'hybrid', 'localdev', 'multi-gateway', 'multi-gitops', 'production']);
    for (const p of platforms) {
      expect(ready(p), p.metadata.name).toMatchObject({ status: 'True', reason: 'AllComponentsReady' });
      const listed = [...p.status.providers.gitProviders, ...p.status.providers.gateways, ...p.status.providers.gitOpsProviders];
      const refs = [...(p.spec.components.gitProviders ?? []), ...(p.spec.components.gateways ?? []), ...(p.spec.components.gitOpsProviders ?? [])];
      for (const r of refs) expect(listed.find((l: any) => l.kind === r.kind && l.name === r.name)?.ready, `${p.metadata.name}: ${r.kind}/${r.name}`).toBe(true);
    }
  });

  it('status.version says what runs (issue 12): each provider of the examples, from its spec.version or its chart', () => {
    const version = (kind: string, name: string) => all.find((o) => o.kind === kind && o.metadata.name === name)?.status?.version;
    // spec.version written to the image tag
    expect(version('NginxGateway', 'nginx-gateway')).toBe('1.13.0');
    expect(version('EnvoyGateway', 'envoy-gateway')).toBe('v1.0.0');
    expect(version('GiteaProvider', 'gitea-local')).toBe('1.24.3');
    // Istio and Flux: the chart version decides (examples pin chart versions that match spec.version)
    expect(version('IstioGateway', 'istio-gateway')).toBe('1.25.5');
    expect(version('FluxProvider', 'flux')).toBe('2.4.0');
    for (const p of all.filter(isProvider)) {
      const unverified = (p.status?.conditions as { type: string }[] | undefined)?.find((c) => c.type === 'VersionUnverified');
      expect(unverified, `${p.kind}/${p.metadata.name}`).toBeUndefined();
    }
  });

  it('the production example writes gitea 12.x keys for three replicas (replicaCount, valkey-cluster, postgresql-ha, RWX storage, an HA indexer)', () => {
    const cm = all.find((o) => o.kind === 'ConfigMap' && /^production-gitea-install-/.test(o.metadata.name))!;
    const v = parseAllDocuments((cm.data as Record<string, string>)['values-0.yaml'])[0].toJS();
    expect(v.replicaCount).toBe(3);
    expect(v).not.toHaveProperty('replicas');
    expect(v).not.toHaveProperty('redis');
    expect(v['valkey-cluster']).toEqual({ enabled: true });
    expect(v['postgresql-ha']).toMatchObject({ enabled: true });
    expect(v.postgresql).toEqual({ enabled: false });
    expect(v.persistence.accessModes).toEqual(['ReadWriteMany']);
    expect(v.gitea.config.indexer).toEqual({ ISSUE_INDEXER_TYPE: 'db', REPO_INDEXER_ENABLED: false });
  });

  it('without --assume-ready a Package waiting on a dependency has no Application or Kustomization and says what it waits for', () => {
    const first = items(runRender({ ...opts, filename: [join(EXAMPLES, 'package.yaml'), join(EXAMPLES, 'default-platform.yaml')] }).stdout);
    const pkg = first.find((o) => o.kind === 'Package' && o.metadata.name === 'backstage')!;
    expect(pkg.status.phase).toBe('Waiting');
    expect(pkg.status.waitingFor).toEqual([
      'ArgoCDProvider/idpbuilder-system/argocd (install job running)',
      'GiteaProvider/idpbuilder-system/gitea-local (not found)',
      'Package/idpbuilder-system/postgresql (not found)',
    ]);
    expect(first.filter((o) => o.kind === 'Application' || o.kind === 'Kustomization')).toEqual([]);
  });
});


describe('idpbuilder render with Packages deployed through Flux', () => {
  const fixture = join(__dirname, '../fixtures/render/flux-package.yaml');
  it('alone: exit 0, the Flux GitRepository and Kustomization are attached and the Package is Synced', () => {
    const r = runRender({ ...opts, filename: [fixture], assumeReady: true });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const all = items(r.stdout);
    const flux = all.filter((o) => o.apiVersion.startsWith('source.toolkit.fluxcd.io/') || o.apiVersion.startsWith('kustomize.toolkit.fluxcd.io/'));
    expect(flux.map((o) => `${o.kind}/${o.metadata.name}`).sort()).toEqual(['GitRepository/app', 'Kustomization/app']);
    // the Flux GitRepository is not one of ours: it gets no sync Job and no status from our controller
    expect(all.filter((o) => o.kind === 'Job' && o.metadata.name.startsWith('app-sync-'))).toHaveLength(1);
    expect(ready(all.find((o) => o.kind === 'Package' && o.metadata.name === 'app')!)).toMatchObject({ status: 'True' });
  });

  it('beside every example: exit 0', () => {
    const r = runRender({ ...opts, filename: [fixture, EXAMPLES], assumeReady: true });
    expect(r.code, r.stderr).toBe(0);
  });
});

describe('idpbuilder render: Flux with its web UI and multitenancy', () => {
  const fixture = join(__dirname, '../fixtures/render/flux-multitenant.yaml');
  const token = join(__dirname, '../fixtures/render/flux-token-observed.yaml');
  const r = runRender({ ...opts, filename: [fixture], assumeReady: true, observed: [token] });
  const all = items(r.stdout);

  it('without the token observed: endpoint claimed, credentialsSecretRef not (render cannot know the token)', () => {
    const alone = items(runRender({ ...opts, filename: [fixture], assumeReady: true }).stdout).find((o) => o.kind === 'FluxProvider')!;
    expect(alone.status.endpoint).toBe('https://flux.cnoe.localtest.me:8443');
    expect(alone.status).not.toHaveProperty('credentialsSecretRef');
  });

  it('FluxProvider Ready with the duck type complete: endpoint (the UI through the gateway) and credentialsSecretRef (the admin token copied beside it)', () => {
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const flux = all.find((o) => o.kind === 'FluxProvider')!;
    expect(flux.status).toMatchObject({
      phase: 'Ready',
      endpoint: 'https://flux.cnoe.localtest.me:8443',
      internalEndpoint: 'http://source-controller.flux-system.svc.cluster.local',
      credentialsSecretRef: { name: 'flux-flux-admin', namespace: 'idpbuilder-system', key: 'token' },
    });
    expect(all.some((o) => o.kind === 'Secret' && o.metadata.name === 'flux-flux-admin' && o.metadata.namespace === 'idpbuilder-system')).toBe(true);
    const cm = all.find((o) => o.kind === 'ConfigMap' && o.metadata.name.startsWith('flux-install-'))!;
    const releases = JSON.parse((cm.data as Record<string, string>)['releases.json']) as { name: string; chart: string; version: string; values: any }[];
    expect(releases.map((x) => `${x.name} ${x.chart} ${x.version}`)).toEqual(['flux2 flux2 2.18.3', 'flux-operator flux-operator 0.49.0']);
    expect(releases[0].values.multitenancy).toEqual({ enabled: true, defaultServiceAccount: 'flux-reconciler' });
    expect(releases[1].values.web.ingress).toMatchObject({ enabled: true, className: 'nginx', hosts: [{ host: 'flux.cnoe.localtest.me', paths: [{ path: '/', pathType: 'Prefix' }] }] });
  });

  it("the tenant Package's Kustomization runs as its own ServiceAccount, bound in team-a", () => {
    const inTeam = (kind: string) => all.filter((o) => o.kind === kind && o.metadata.namespace === 'team-a').map((o) => o.metadata.name);
    expect(inTeam('ServiceAccount')).toEqual(['app-flux']);
    expect(inTeam('RoleBinding')).toEqual(['app-flux']);
    const k = all.find((o) => o.kind === 'Kustomization')!;
    expect((k.spec as { serviceAccountName?: string }).serviceAccountName).toBe('app-flux');
    const rb = all.find((o) => o.kind === 'RoleBinding')!;
    expect(rb).toMatchObject({ roleRef: { kind: 'ClusterRole', name: 'cluster-admin' }, subjects: [{ kind: 'ServiceAccount', name: 'app-flux', namespace: 'team-a' }] });
    expect(ready(all.find((o) => o.kind === 'Package')!)).toMatchObject({ status: 'True' });
  });
});

describe('idpbuilder render with a private GitLab with a custom CA (issue 16 item 3)', () => {
  const fixture = join(__dirname, '../fixtures/render/private-gitlab.yaml');
  const r = runRender({ ...opts, filename: [fixture], assumeReady: true, showSecrets: true });
  const all = items(r.stdout);
  const get = (kind: string, name: string, api?: string) => all.find((o) => o.kind === kind && o.metadata.name === name && (!api || o.apiVersion.startsWith(api)))!;
  const data = (o: KubeObject) => Object.fromEntries(Object.entries((o.data ?? {}) as Record<string, string>).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]));
  const CA = '-----BEGIN CERTIFICATE-----\nc3RhbmQtaW4gQ0EgZm9yIHRlc3Rz\n-----END CERTIFICATE-----\n';
  const creds = { username: 'oauth2', password: 'stand-in-gitlab-token', 'ca.crt': CA };

  it('converges Ready: the GitLabProvider, the Platform (bootstrap on GitLab through Argo CD) and the Flux Package', () => {
    expect(r.code, r.stderr).toBe(0);
    for (const [k, n] of [['GitLabProvider', 'gitlab'], ['Platform', 'private'], ['Package', 'app'], ['Package', 'private-nginx']]) expect(ready(get(k, n)), `${k}/${n}`).toMatchObject({ status: 'True' });
    expect(get('GitRepository', 'private-nginx', 'idpbuilder').spec.gitServerRef).toEqual({ kind: 'GitLabProvider', name: 'gitlab', namespace: 'idpbuilder-system' });
    expect(get('GitLabProvider', 'gitlab').status).toMatchObject({
      repositoryCredentialsSecretRef: { name: 'gitlab-repository-credentials', namespace: 'idpbuilder-system' },
      caSecretRef: { name: 'gitlab-ca', namespace: 'idpbuilder-system', key: 'ca.crt' },
    });
  });

  it('bootstrap: Argo CD gets a repo-creds credential template for the GitLab group and the CA by host name', () => {
    const argocd = get('ArgoCDProvider', 'private-argocd');
    expect(argocd.spec.repositoryCredentials).toEqual([{ gitServerRef: { kind: 'GitLabProvider', name: 'gitlab' } }]);
    expect((argocd.status.conditions as { type: string }[]).find((c) => c.type === 'RepositoryCredentials')).toMatchObject({ status: 'True' });
    const copy = get('Secret', 'private-argocd-repo-creds-gitlabprovider-gitlab-0');
    expect(data(copy)).toEqual({ type: 'git', url: 'https://gitlab.corp.example/platform/', ...creds });
    // every bootstrap Application's repoURL starts with the template's url
    for (const app of all.filter((o) => o.kind === 'Application')) expect(app.spec.source.repoURL.startsWith('https://gitlab.corp.example/platform/'), app.metadata.name).toBe(true);
    // the install Job writes it into the argocd namespace as a repo-creds Secret (keys for Argo CD), the CA goes to argocd-tls-certs-cm
    const cm = all.find((o) => o.kind === 'ConfigMap' && /^private-argocd-install-/.test(o.metadata.name))!;
    const [rel] = JSON.parse((cm.data as Record<string, string>)['releases.json']);
    expect(rel.namespace).toBe('argocd');
    expect(rel.secrets.find((s: { name: string }) => s.name === copy.metadata.name)).toEqual({
      name: copy.metadata.name,
      from: copy.metadata.name,
      keys: ['password', 'type', 'url', 'username'],
      labels: { 'app.kubernetes.io/managed-by': 'idpbuilder', 'idpbuilder.cnoe.io/argocdprovider': 'private-argocd', 'idpbuilder.cnoe.io/role': 'repository-credentials', 'argocd.argoproj.io/secret-type': 'repo-creds' },
    });
    expect(rel.values.configs.tls).toEqual({ certificates: { 'gitlab.corp.example': CA } });
    const job = all.find((o) => o.kind === 'Job' && o.metadata.name === cm.metadata.name)!;
    expect(job.spec.template.spec.volumes.map((v: { secret?: { secretName: string } }) => v.secret?.secretName).filter(Boolean)).toContain(copy.metadata.name);
    // no token in the values ConfigMap or the Job
    expect(JSON.stringify([cm, job])).not.toContain('stand-in-gitlab-token');
  });

  it('Package through Flux: the Flux GitRepository names a Secret beside it with username, password and ca.crt', () => {
    const src = get('GitRepository', 'app', 'source.toolkit.fluxcd.io');
    expect(src.spec).toMatchObject({ url: 'https://gitlab.corp.example/platform/app.git', secretRef: { name: 'app-git-credentials' } });
    expect(data(get('Secret', 'app-git-credentials'))).toEqual(creds);
    expect(data(get('Secret', 'app-gitrepository-credentials'))).toEqual(creds);
    expect(get('GitRepository', 'app', 'idpbuilder').status.repositoryCredentialsSecret).toBe('app-gitrepository-credentials');
  });

  it('no credential in any status', () => {
    expect(JSON.stringify(all.map((o) => o.status ?? null))).not.toContain('stand-in-gitlab-token');
  });
});
