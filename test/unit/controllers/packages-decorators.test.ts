import { describe, expect, it } from 'vitest';
import { packagesArgoCD } from '../../../src/controllers/packages-argocd.js';
import { packagesFlux } from '../../../src/controllers/packages-flux.js';
import { packageHooks } from '../../../src/controllers/package.js';
import type { KubeObject } from '../../../src/metacontroller/protocol.js';
import { parent, syncRequest, testEnv } from '../../support/requests.js';
import { condition, toMap, withStatus } from '../../support/world.js';

const env = testEnv();
const ready = { conditions: [{ type: 'Ready', status: 'True', reason: 'Synced', message: '' }] };
const repo = (status: Record<string, unknown> = { ...ready, cloneURL: 'http://gitea-http.gitea.svc.cluster.local:3000/idpbuilder/app.git' }) =>
  ({ apiVersion: 'idpbuilder.cnoe.io/v1alpha2', kind: 'GitRepository', metadata: { name: 'app-repo', namespace: 'idpbuilder-system' }, spec: {}, status }) as KubeObject;
const argocd = withStatus({ apiVersion: 'idpbuilder.cnoe.io/v1alpha2', kind: 'ArgoCDProvider', metadata: { name: 'argocd', namespace: 'idpbuilder-system' } } as KubeObject, ready);

function pkg(spec: Record<string, unknown> = {}, annotations?: Record<string, string>) {
  return parent('Package', 'app', { source: { gitRepository: { name: 'app-repo', path: 'manifests' } }, ...spec }, annotations ? { metadata: { name: 'app', annotations } as never } : {});
}

describe('packages-argocd decorator', () => {
  it('attaches the Application once source and dependencies are Ready, repoURL = the repository cloneURL', () => {
    const p = pkg({ dependencies: [{ kind: 'ArgoCDProvider', name: 'argocd' }], argocd: { destination: { namespace: 'app' }, syncPolicy: { automated: { prune: true } } } });
    const res = packagesArgoCD.hooks.sync({ object: p, attachments: {}, related: toMap([repo(), argocd]) }, env);
    expect(res.attachments).toHaveLength(1);
    const app = res.attachments[0] as KubeObject & { spec: any };
    expect(app.metadata).toMatchObject({ name: 'app', namespace: 'idpbuilder-system', finalizers: ['resources-finalizer.argocd.argoproj.io'] });
    expect(app.spec).toEqual({
      project: 'default',
      source: { repoURL: 'http://gitea-http.gitea.svc.cluster.local:3000/idpbuilder/app.git', targetRevision: 'HEAD', path: 'manifests' },
      destination: { server: 'https://kubernetes.default.svc', namespace: 'app' },
      syncPolicy: { automated: { prune: true } },
    });
    expect(res.annotations).toEqual({ 'idpbuilder.cnoe.io/argocd-status': null });
  });

  it('attaches nothing while a dependency is not Ready, and keeps an existing Application', () => {
    const p = pkg({ dependencies: [{ kind: 'ArgoCDProvider', name: 'argocd' }] });
    expect(packagesArgoCD.hooks.sync({ object: p, attachments: {}, related: toMap([repo()]) }, env).attachments).toEqual([]);
    const first = packagesArgoCD.hooks.sync({ object: p, attachments: {}, related: toMap([repo(), argocd]) }, env);
    const observed = withStatus(first.attachments[0], { sync: { status: 'Synced' }, health: { status: 'Healthy' } });
    const later = packagesArgoCD.hooks.sync({ object: p, attachments: toMap([observed]), related: toMap([repo()]) }, env);
    expect(later.attachments).toEqual(first.attachments);
    expect(later.annotations).toEqual({ 'idpbuilder.cnoe.io/argocd-status': '{"name":"app","namespace":"idpbuilder-system","syncStatus":"Synced","healthStatus":"Healthy"}' });
  });

  it('leaves Flux Packages alone', () => {
    const res = packagesArgoCD.hooks.sync({ object: pkg({ flux: { interval: '1m' } }), attachments: {}, related: toMap([repo()]) }, env);
    expect(res).toEqual({ attachments: [], annotations: { 'idpbuilder.cnoe.io/argocd-status': null } });
  });
});

describe('packages-flux decorator', () => {
  it('attaches a Flux GitRepository and Kustomization for a Flux Package', () => {
    const p = pkg({ flux: { interval: '1m', targetNamespace: 'app', serviceAccountName: 'flux-reconciler' } });
    const res = packagesFlux.hooks.sync({ object: p, attachments: {}, related: toMap([repo()]) }, env);
    expect(res.attachments.map((a) => [a.apiVersion, a.kind, a.metadata.name])).toEqual([
      ['source.toolkit.fluxcd.io/v1', 'GitRepository', 'app'],
      ['kustomize.toolkit.fluxcd.io/v1', 'Kustomization', 'app'],
    ]);
    expect(res.attachments[0].spec).toEqual({ url: 'http://gitea-http.gitea.svc.cluster.local:3000/idpbuilder/app.git', interval: '1m', ref: { branch: 'main' } });
    expect(res.attachments[1].spec).toEqual({
      interval: '1m',
      prune: true,
      sourceRef: { kind: 'GitRepository', name: 'app' },
      path: './manifests',
      targetNamespace: 'app',
      serviceAccountName: 'flux-reconciler',
    });
  });

  it('a private repository: its credentials are copied beside the Package and named by the Flux GitRepository spec.secretRef; a missing source keeps the copy and the Package says so', () => {
    const b64 = (v: string) => Buffer.from(v).toString('base64');
    const ca = '-----BEGIN CERTIFICATE-----\nstand-in\n-----END CERTIFICATE-----\n';
    const privateRepo = repo({ ...ready, cloneURL: 'https://gitlab.example.com/platform/app.git', repositoryCredentialsSecret: 'app-repo-repository-credentials' });
    const source = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'app-repo-repository-credentials', namespace: 'idpbuilder-system' }, data: { username: b64('oauth2'), password: b64('stand-in-token'), 'ca.crt': b64(ca) } } as KubeObject;
    const p = pkg({ flux: { interval: '1m' } });
    const res = packagesFlux.hooks.sync({ object: p, attachments: {}, related: toMap([privateRepo, source]) }, env);
    expect(res.attachments.map((a) => `${a.kind}/${a.metadata.name}`)).toEqual(['GitRepository/app', 'Kustomization/app', 'Secret/app-git-credentials']);
    expect(res.attachments[0].spec).toMatchObject({ url: 'https://gitlab.example.com/platform/app.git', secretRef: { name: 'app-git-credentials' } });
    const copy = res.attachments[2] as KubeObject & { data: Record<string, string> };
    expect(Object.fromEntries(Object.entries(copy.data).map(([k, v]) => [k, Buffer.from(v, 'base64').toString()]))).toEqual({ username: 'oauth2', password: 'stand-in-token', 'ca.crt': ca });
    expect(copy.metadata.labels).toMatchObject({ 'idpbuilder.cnoe.io/package': 'app', 'idpbuilder.cnoe.io/role': 'repository-credentials' });
    expect(JSON.stringify(res.annotations)).not.toContain('stand-in-token');
    // customize asks for the source's repository credentials by label, in the source's namespace
    expect(packagesFlux.hooks.customize!({ parent: p }, env).relatedResources).toContainEqual({
      apiVersion: 'v1', resource: 'secrets', namespace: 'idpbuilder-system',
      labelSelector: { matchLabels: { 'idpbuilder.cnoe.io/role': 'repository-credentials', 'idpbuilder.cnoe.io/gitrepository': 'app-repo' } },
    });
    // the source Secret not observed: the observed copy is kept unchanged, the Package reports it
    const lagging = packagesFlux.hooks.sync({ object: p, attachments: toMap(res.attachments), related: toMap([privateRepo]) }, env);
    expect(lagging.attachments.find((a) => a.kind === 'Secret')).toEqual(copy);
    expect(lagging.attachments[0].spec).toMatchObject({ secretRef: { name: 'app-git-credentials' } });
    const annotated = pkg({ flux: { interval: '1m' } }, lagging.annotations as Record<string, string>);
    const out = packageHooks.sync(syncRequest(annotated, {}, toMap([privateRepo])), env);
    expect(condition(out)).toMatchObject({
      status: 'False',
      reason: 'RepositoryCredentialsNotFound',
      message: 'Secret idpbuilder-system/app-repo-repository-credentials (the repository credentials of GitRepository app-repo) not found; Secret app-git-credentials is kept as it was',
    });
    // a public repository (no repositoryCredentialsSecret): no secretRef, no Secret
    const pub = packagesFlux.hooks.sync({ object: p, attachments: {}, related: toMap([repo()]) }, env);
    expect(pub.attachments.map((a) => a.kind)).toEqual(['GitRepository', 'Kustomization']);
  });

  it('a FluxProvider reference selects Flux too, and the Kustomization state is reported back', () => {
    const p = pkg({ gitOpsProviderRef: { kind: 'FluxProvider', name: 'flux' } });
    const flux = withStatus({ apiVersion: 'idpbuilder.cnoe.io/v1alpha2', kind: 'FluxProvider', metadata: { name: 'flux', namespace: 'idpbuilder-system' } } as KubeObject, ready);
    const first = packagesFlux.hooks.sync({ object: p, attachments: {}, related: toMap([repo(), flux]) }, env);
    const k = withStatus(first.attachments[1], { conditions: [{ type: 'Ready', status: 'False', reason: 'BuildFailed', message: 'kustomize build failed: missing resource' }] });
    const res = packagesFlux.hooks.sync({ object: p, attachments: toMap([first.attachments[0], k]), related: toMap([repo(), flux]) }, env);
    expect(JSON.parse(res.annotations!['idpbuilder.cnoe.io/flux-status']!)).toEqual({
      name: 'app',
      namespace: 'idpbuilder-system',
      ready: 'False',
      reason: 'BuildFailed',
      message: 'kustomize build failed: missing resource',
    });
  });
});

describe('Package status from the engine annotation', () => {
  it('Synced when Argo CD reports Synced/Healthy, Deploying before', () => {
    const related = toMap([repo()]);
    const before = packageHooks.sync(syncRequest(pkg(), {}, related), env);
    expect(before.children).toEqual([]);
    expect(before.status.phase).toBe('Deploying');
    const after = packageHooks.sync(syncRequest(pkg({}, { 'idpbuilder.cnoe.io/argocd-status': '{"name":"app","namespace":"idpbuilder-system","syncStatus":"Synced","healthStatus":"Healthy"}' }), {}, related), env);
    expect(after.status.phase).toBe('Synced');
    expect(after.status.argoApplication).toEqual({ name: 'app', namespace: 'idpbuilder-system', syncStatus: 'Synced', healthStatus: 'Healthy' });
    expect(condition(after)).toMatchObject({ status: 'True', reason: 'Synced' });
  });

  it('Degraded with the Kustomization message for a failing Flux Package', () => {
    const status = '{"name":"app","namespace":"idpbuilder-system","ready":"False","reason":"BuildFailed","message":"kustomize build failed"}';
    const res = packageHooks.sync(syncRequest(pkg({ flux: {} }, { 'idpbuilder.cnoe.io/flux-status': status }), {}, toMap([repo()])), env);
    expect(res.status.phase).toBe('Degraded');
    expect(condition(res).message).toBe('kustomization is False (BuildFailed: kustomize build failed)');
    expect(res.status.fluxKustomization).toEqual({ name: 'app', namespace: 'idpbuilder-system', ready: 'False', reason: 'BuildFailed' });
  });

  it('cnoe.io/package-priority holds nothing back: a Package of higher priority deploys while one of lower priority is not Ready', () => {
    const db = { ...pkg(), metadata: { name: 'db', namespace: 'idpbuilder-system', annotations: { 'cnoe.io/package-priority': '10' } } } as KubeObject;
    const res = packageHooks.sync(syncRequest(pkg({}, { 'cnoe.io/package-priority': '100' }), {}, toMap([repo(), db])), env);
    expect(res.status.phase).toBe('Deploying');
    expect(res.status).not.toHaveProperty('waitingFor');
  });
});

describe('packages-flux under Flux multitenancy: a reconciler ServiceAccount and RoleBinding per Package, in its namespace', () => {
  const TENANT = 'team-a';
  const tenantRepo = () => ({ ...repo(), metadata: { name: 'app-repo', namespace: TENANT } }) as KubeObject;
  const tenantPkg = (name: string, spec: Record<string, unknown> = {}) =>
    parent('Package', name, { source: { gitRepository: { name: 'app-repo' } }, flux: {}, ...spec }, { metadata: { name, namespace: TENANT } as never });
  const fluxProvider = (spec: Record<string, unknown>, namespace = 'idpbuilder-system') =>
    ({ apiVersion: 'idpbuilder.cnoe.io/v1alpha2', kind: 'FluxProvider', metadata: { name: 'flux', namespace }, spec, status: ready }) as KubeObject;
  const MT = { multitenancy: { enabled: true, defaultServiceAccount: 'flux-reconciler' } };
  const kinds = (res: { attachments: KubeObject[] }) => res.attachments.map((a) => `${a.kind}/${a.metadata.namespace}/${a.metadata.name}`);
  const kustomization = (res: { attachments: KubeObject[] }) => res.attachments.find((a) => a.kind === 'Kustomization')!.spec as Record<string, unknown>;

  it('the FluxProvider of the controller namespace is multitenant: ServiceAccount <package>-flux, RoleBinding to cluster-admin, serviceAccountName on the Kustomization', () => {
    const res = packagesFlux.hooks.sync({ object: tenantPkg('app'), attachments: {}, related: toMap([tenantRepo(), fluxProvider(MT)]) }, env);
    expect(kinds(res)).toEqual(['GitRepository/team-a/app', 'Kustomization/team-a/app', 'ServiceAccount/team-a/app-flux', 'RoleBinding/team-a/app-flux']);
    expect(kustomization(res).serviceAccountName).toBe('app-flux');
    const labels = { 'app.kubernetes.io/managed-by': 'idpbuilder', 'idpbuilder.cnoe.io/package': 'app', 'idpbuilder.cnoe.io/role': 'flux-tenant' };
    expect(res.attachments[2]).toEqual({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'app-flux', namespace: TENANT, labels } });
    expect(res.attachments[3]).toEqual({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: 'app-flux', namespace: TENANT, labels },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' },
      subjects: [{ kind: 'ServiceAccount', name: 'app-flux', namespace: TENANT }],
    });
  });

  it('two Packages of one tenant namespace get one reconciler each (no object with two owners)', () => {
    const related = toMap([tenantRepo(), fluxProvider(MT)]);
    const a = packagesFlux.hooks.sync({ object: tenantPkg('app'), attachments: {}, related }, env);
    const b = packagesFlux.hooks.sync({ object: tenantPkg('web'), attachments: {}, related }, env);
    expect(kinds(b)).toEqual(['GitRepository/team-a/web', 'Kustomization/team-a/web', 'ServiceAccount/team-a/web-flux', 'RoleBinding/team-a/web-flux']);
    expect(kustomization(a).serviceAccountName).toBe('app-flux');
    expect(kustomization(b).serviceAccountName).toBe('web-flux');
  });

  it('the referenced FluxProvider decides (gitOpsProviderRef), not the others', () => {
    const own = { ...fluxProvider(MT, TENANT), metadata: { name: 'tenant-flux', namespace: TENANT } } as KubeObject;
    const res = packagesFlux.hooks.sync({ object: tenantPkg('app', { gitOpsProviderRef: { kind: 'FluxProvider', name: 'tenant-flux' } }), attachments: {}, related: toMap([tenantRepo(), own, fluxProvider({})]) }, env);
    expect(kustomization(res).serviceAccountName).toBe('app-flux');
    const plain = { ...fluxProvider({}, TENANT), metadata: { name: 'tenant-flux', namespace: TENANT } } as KubeObject;
    const off = packagesFlux.hooks.sync({ object: tenantPkg('app', { gitOpsProviderRef: { kind: 'FluxProvider', name: 'tenant-flux' } }), attachments: {}, related: toMap([tenantRepo(), plain, fluxProvider(MT)]) }, env);
    expect(kinds(off)).toEqual(['GitRepository/team-a/app', 'Kustomization/team-a/app']);
  });

  it('without multitenancy: no ServiceAccount, no RoleBinding, no serviceAccountName', () => {
    for (const spec of [{}, { multitenancy: { enabled: false } }]) {
      const res = packagesFlux.hooks.sync({ object: tenantPkg('app'), attachments: {}, related: toMap([tenantRepo(), fluxProvider(spec)]) }, env);
      expect(kinds(res)).toEqual(['GitRepository/team-a/app', 'Kustomization/team-a/app']);
      expect(kustomization(res)).not.toHaveProperty('serviceAccountName');
    }
  });

  it("the Package's own flux.serviceAccountName wins and nothing is created for it", () => {
    const res = packagesFlux.hooks.sync({ object: tenantPkg('app', { flux: { serviceAccountName: 'team-deployer' } }), attachments: {}, related: toMap([tenantRepo(), fluxProvider(MT)]) }, env);
    expect(kinds(res)).toEqual(['GitRepository/team-a/app', 'Kustomization/team-a/app']);
    expect(kustomization(res).serviceAccountName).toBe('team-deployer');
  });

  it('FluxProvider not observed (cache lag): the attached reconciler is kept, not dropped; none is invented for a Package that has none', () => {
    const first = packagesFlux.hooks.sync({ object: tenantPkg('app'), attachments: {}, related: toMap([tenantRepo(), fluxProvider(MT)]) }, env);
    const lagging = packagesFlux.hooks.sync({ object: tenantPkg('app'), attachments: toMap(first.attachments), related: toMap([tenantRepo()]) }, env);
    expect(lagging.attachments).toEqual(first.attachments);
    const fresh = packagesFlux.hooks.sync({ object: tenantPkg('app'), attachments: {}, related: toMap([tenantRepo()]) }, env);
    expect(kinds(fresh)).toEqual(['GitRepository/team-a/app', 'Kustomization/team-a/app']);
  });

  it('multitenancy turned off on an observed FluxProvider: the reconciler is released and serviceAccountName removed', () => {
    const first = packagesFlux.hooks.sync({ object: tenantPkg('app'), attachments: {}, related: toMap([tenantRepo(), fluxProvider(MT)]) }, env);
    const off = packagesFlux.hooks.sync({ object: tenantPkg('app'), attachments: toMap(first.attachments), related: toMap([tenantRepo(), fluxProvider({})]) }, env);
    expect(kinds(off)).toEqual(['GitRepository/team-a/app', 'Kustomization/team-a/app']);
    expect(kustomization(off)).not.toHaveProperty('serviceAccountName');
  });

  it('while the Package waits, the attached reconciler stays with the other attachments', () => {
    const first = packagesFlux.hooks.sync({ object: tenantPkg('app'), attachments: {}, related: toMap([tenantRepo(), fluxProvider(MT)]) }, env);
    const waiting = packagesFlux.hooks.sync({ object: tenantPkg('app'), attachments: toMap(first.attachments), related: toMap([fluxProvider(MT)]) }, env);
    expect(kinds(waiting).sort()).toEqual(kinds(first).sort());
  });

  it('customize: the FluxProviders of the controller namespace when the Package references none', () => {
    const rules = packagesFlux.hooks.customize!({ parent: tenantPkg('app') } as never, env).relatedResources;
    expect(rules).toContainEqual({ apiVersion: 'idpbuilder.cnoe.io/v1alpha2', resource: 'fluxproviders', namespace: 'idpbuilder-system' });
    const ref = packagesFlux.hooks.customize!({ parent: tenantPkg('app', { gitOpsProviderRef: { kind: 'FluxProvider', name: 'tenant-flux' } }) } as never, env).relatedResources;
    expect(ref.filter((r) => r.resource === 'fluxproviders')).toEqual([{ apiVersion: 'idpbuilder.cnoe.io/v1alpha2', resource: 'fluxproviders', namespace: TENANT, names: ['tenant-flux'] }]);
  });
});
