/**
 * Namespaces are a boundary (issue 11 item 1, docs/security.md "Namespaces"): a hostile user with rights in one
 * namespace only. Secret references resolve in the referring object's namespace; references to our kinds in another
 * namespace need a ReferenceGrant there.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Admission } from '../../src/api/validate.js';
import { program } from '../../src/cli/main.js';
import { argoCDProviderHooks } from '../../src/controllers/argocdprovider.js';
import { envoyGatewayHooks } from '../../src/controllers/envoygateway.js';
import { giteaProviderHooks } from '../../src/controllers/giteaprovider.js';
import { githubProviderHooks } from '../../src/controllers/githubprovider.js';
import { gitlabProviderHooks } from '../../src/controllers/gitlabprovider.js';
import { gitRepositoryHooks } from '../../src/controllers/gitrepository.js';
import { nginxGatewayHooks } from '../../src/controllers/nginxgateway.js';
import { packageHooks } from '../../src/controllers/package.js';
import { packagesArgoCD } from '../../src/controllers/packages-argocd.js';
import { packagesFlux } from '../../src/controllers/packages-flux.js';
import type { Hooks } from '../../src/kit/hooks.js';
import { referencePermitted, resolveRef } from '../../src/kit/refs.js';
import type { KubeObject, ObjectMap, SyncRequest, SyncResponse } from '../../src/metacontroller/protocol.js';
import { referenceGrant } from '../support/grants.js';
import { API, giteaDuck, provider, userSecret } from '../support/providers.js';
import { syncRequest, testEnv } from '../support/requests.js';
import { byKind, condition, jobSucceeded, next, toMap, withStatus } from '../support/world.js';

const env = testEnv();
const TEAM = 'team-a';
const KUBE_SECRET_VALUE = 'kube-system-s3cr3t-value';
const stolen = userSecret('cluster-admin-token', { password: KUBE_SECRET_VALUE, token: KUBE_SECRET_VALUE }, 'kube-system');

/** An object of ours in namespace team-a (the hostile user's). */
function teamObject(kind: string, name: string, spec: Record<string, unknown>, namespace = TEAM): KubeObject {
  return { apiVersion: API, kind, metadata: { name, namespace, uid: `uid-${name}`, generation: 1 }, spec } as KubeObject;
}

const secretRules = (hooks: Hooks, p: KubeObject) => hooks.customize!({ parent: p }, env).relatedResources.filter((r) => r.resource === 'secrets');
const problems = (obj: unknown) => {
  const r = new Admission().admit(obj);
  return r.outcome === 'invalid' ? r.problems.map((p) => `${p.path}: ${p.message}`) : [];
};
const FORBIDDEN = "a Secret reference resolves in the namespace of the object that holds it: remove namespace (a Secret of another namespace can't be referenced)";

/** The hook's answer with the kube-system Secret handed over as a related object anyway (as if Metacontroller had read it). */
function syncWithStolenSecret(hooks: Hooks, p: KubeObject): SyncResponse {
  return hooks.sync(syncRequest(p, {}, toMap([stolen])), env);
}

describe('Secret references resolve in the referring object namespace only', () => {
  const giteaSpec = { adminUser: { passwordSecretRef: { name: 'cluster-admin-token', namespace: 'kube-system', key: 'password' }, autoGenerate: false } };
  const argoSpec = { adminCredentials: { secretRef: { name: 'cluster-admin-token', namespace: 'kube-system' }, autoGenerate: false } };

  it('admission (CRD CEL, as idpbuilder validate runs it) refuses a namespace on every kind of Secret reference', () => {
    expect(problems(teamObject('GiteaProvider', 'gitea', giteaSpec))).toEqual([`.spec.adminUser.passwordSecretRef.namespace: ${FORBIDDEN}`]);
    expect(problems(teamObject('ArgoCDProvider', 'argocd', argoSpec))).toEqual([`.spec.adminCredentials.secretRef.namespace: ${FORBIDDEN}`]);
    expect(problems(teamObject('GitHubProvider', 'gh', { organization: 'acme', credentialsSecretRef: { name: 't', namespace: 'kube-system' } }))).toEqual([`.spec.credentialsSecretRef.namespace: ${FORBIDDEN}`]);
    expect(problems(teamObject('GitLabProvider', 'gl', { group: 'g', credentialsSecretRef: { name: 't' }, caSecretRef: { name: 'ca', namespace: 'certs' } }))).toEqual([`.spec.caSecretRef.namespace: ${FORBIDDEN}`]);
    expect(problems(teamObject('NginxGateway', 'ngw', { defaultTLS: { secretRef: { name: 'tls', namespace: 'kube-system' } } }))).toEqual([`.spec.defaultTLS.secretRef.namespace: ${FORBIDDEN}`]);
    expect(problems(teamObject('Platform', 'p', { ingressConfig: { tlsSecretRef: { name: 'tls', namespace: 'kube-system' } } }))).toEqual([`.spec.ingressConfig.tlsSecretRef.namespace: ${FORBIDDEN}`]);
    // naming the object's own namespace is refused too (a CRD rule cannot read metadata.namespace); no namespace is fine
    expect(problems(teamObject('GiteaProvider', 'gitea', { adminUser: { passwordSecretRef: { name: 'mine', namespace: TEAM } } }))).toHaveLength(1);
    expect(problems(teamObject('GiteaProvider', 'gitea', { adminUser: { passwordSecretRef: { name: 'mine', key: 'password' } } }))).toEqual([]);
  });

  it('idpbuilder validate refuses the kube-system Secret copy', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'xns-'));
    const f = join(dir, 'steal.yaml');
    writeFileSync(
      f,
      `apiVersion: idpbuilder.cnoe.io/v1alpha2\nkind: GiteaProvider\nmetadata:\n  name: gitea\n  namespace: team-a\nspec:\n  adminUser:\n    passwordSecretRef:\n      name: cluster-admin-token\n      namespace: kube-system\n      key: password\n`,
    );
    let out = '';
    process.exitCode = 0;
    await program((s) => (out += s), () => undefined).parseAsync(['node', 'idpbuilder', 'validate', '-f', f]);
    expect(Number(process.exitCode)).toBe(1);
    process.exitCode = 0;
    expect(out).toBe(`${f}#1: GiteaProvider/gitea: .spec.adminUser.passwordSecretRef.namespace: ${FORBIDDEN}\n`);
  });

  for (const [kind, hooks, spec, field] of [
    ['GiteaProvider', giteaProviderHooks, giteaSpec, 'spec.adminUser.passwordSecretRef'],
    ['ArgoCDProvider', argoCDProviderHooks, argoSpec, 'spec.adminCredentials.secretRef'],
  ] as const) {
    it(`${kind}: the hook neither asks for nor copies a kube-system Secret (stored before the CEL rule)`, () => {
      const p = teamObject(kind, 'steal', spec);
      expect(secretRules(hooks, p)).toEqual([]);
      const res = syncWithStolenSecret(hooks, p);
      expect(JSON.stringify(res)).not.toContain(KUBE_SECRET_VALUE);
      expect(JSON.stringify(res)).not.toContain(Buffer.from(KUBE_SECRET_VALUE).toString('base64'));
      expect(byKind(res, 'Secret')).toEqual([]);
      expect(byKind(res, 'Job')).toEqual([]);
      expect(res.status.phase).toBe('Pending');
      expect(condition(res)).toMatchObject({
        status: 'False',
        reason: 'SecretRefNotPermitted',
        message: `${field} names Secret kube-system/cluster-admin-token: a Secret reference resolves in the object's own namespace (team-a) only`,
      });
    });
  }

  it('GiteaProvider: a refused reference keeps the observed children (admin Secret, install Job) as they are', () => {
    const ok = teamObject('GiteaProvider', 'gitea', { adminUser: { passwordSecretRef: { name: 'mine', key: 'password' } } });
    expect(secretRules(giteaProviderHooks, ok)).toEqual([{ apiVersion: 'v1', resource: 'secrets', namespace: TEAM, names: ['mine'] }]);
    const req = syncRequest(ok, {}, toMap([userSecret('mine', { password: 'team-a-password' }, TEAM)]));
    const first = giteaProviderHooks.sync(req, env);
    expect(byKind(first, 'Job')).toHaveLength(1);
    const observed = next(req, first);
    const hostile = { ...observed, parent: { ...ok, metadata: { ...ok.metadata, generation: 2 }, spec: giteaSpec } as KubeObject, related: toMap([stolen]) };
    const res = giteaProviderHooks.sync(hostile, env);
    expect(condition(res).reason).toBe('SecretRefNotPermitted');
    expect(res.children.map((c) => `${c.kind}/${c.metadata.name}`).sort()).toEqual(first.children.map((c) => `${c.kind}/${c.metadata.name}`).sort());
    expect(JSON.stringify(res)).not.toContain(KUBE_SECRET_VALUE);
  });

  it('GitHubProvider and GitLabProvider: no related rule, no Job, no credentialsSecretRef in status', () => {
    const cases: [Hooks, KubeObject, string][] = [
      [githubProviderHooks, teamObject('GitHubProvider', 'gh', { organization: 'acme', credentialsSecretRef: { name: 'cluster-admin-token', namespace: 'kube-system' } }), 'spec.credentialsSecretRef'],
      [githubProviderHooks, teamObject('GitHubProvider', 'gh', { organization: 'acme', authType: 'app', appAuth: { appID: '1', privateKeySecretRef: { name: 'cluster-admin-token', namespace: 'kube-system' } } }), 'spec.appAuth.privateKeySecretRef'],
      [gitlabProviderHooks, teamObject('GitLabProvider', 'gl', { group: 'g', credentialsSecretRef: { name: 'cluster-admin-token', namespace: 'kube-system' } }), 'spec.credentialsSecretRef'],
      [gitlabProviderHooks, teamObject('GitLabProvider', 'gl', { group: 'g', credentialsSecretRef: { name: 'tok' }, caSecretRef: { name: 'cluster-admin-token', namespace: 'kube-system' } }), 'spec.caSecretRef'],
    ];
    for (const [hooks, p, field] of cases) {
      expect(secretRules(hooks, p), field).toEqual([]);
      const res = syncWithStolenSecret(hooks, p);
      expect(condition(res)).toMatchObject({ status: 'False', reason: 'SecretRefNotPermitted', message: expect.stringContaining(`${field} names Secret kube-system/cluster-admin-token`) });
      expect(res.children).toEqual([]);
      expect(res.status).not.toHaveProperty('credentialsSecretRef');
      expect(JSON.stringify(res)).not.toContain(KUBE_SECRET_VALUE);
    }
  });

  it('NginxGateway and EnvoyGateway: a TLS Secret of another namespace blocks the install; none resolves in the install namespace', () => {
    const ngw = nginxGatewayHooks.sync(syncRequest(teamObject('NginxGateway', 'ngw', { defaultTLS: { secretRef: { name: 'tls', namespace: 'kube-system' } } })), env);
    expect(condition(ngw)).toMatchObject({ reason: 'SecretRefNotPermitted', message: expect.stringContaining('spec.defaultTLS.secretRef names Secret kube-system/tls') });
    expect(byKind(ngw, 'Job')).toEqual([]);
    const listeners = [{ name: 'https', protocol: 'HTTPS', port: 443, tls: { certificateRefs: [{ name: 'tls', namespace: 'kube-system' }] } }];
    const egw = envoyGatewayHooks.sync(syncRequest(teamObject('EnvoyGateway', 'egw', { listeners })), env);
    expect(condition(egw)).toMatchObject({ reason: 'SecretRefNotPermitted', message: expect.stringContaining('spec.listeners[0].tls.certificateRefs[0] names Secret kube-system/tls') });
    expect(byKind(egw, 'ConfigMap')).toEqual([]);
    // without a namespace the Secret is the gateway object's own (team-a), not the install namespace's
    const own = nginxGatewayHooks.sync(syncRequest(teamObject('NginxGateway', 'ngw', { defaultTLS: { secretRef: { name: 'tls' } } })), env);
    expect((byKind(own, 'ConfigMap')[0].data as Record<string, string>)['values-0.yaml']).toContain('default-ssl-certificate: team-a/tls');
  });
});

describe('references to our kinds in another namespace need a ReferenceGrant there', () => {
  const SERVER = { kind: 'GiteaProvider', name: 'gitea', namespace: 'idpbuilder-system' };
  const repo = () => teamObject('GitRepository', 'apps', { gitServerRef: SERVER, sources: [{ type: 'Embedded', path: 'apps' }] });
  const server = provider('GiteaProvider', 'gitea', giteaDuck('idpbuilder-system'));
  const grant = (from: { kind: string; namespace: string }, to: { kind: string; name?: string }, namespace = 'idpbuilder-system') => referenceGrant(`g-${from.kind}-${from.namespace}-${to.kind}`.toLowerCase(), namespace, [from], [to]);
  const allowed = grant({ kind: 'GitRepository', namespace: TEAM }, { kind: 'GiteaProvider', name: 'gitea' });
  const REFUSED = 'GiteaProvider idpbuilder-system/gitea: no ReferenceGrant in idpbuilder-system allows GitRepository from team-a';

  it('customize asks for the target and the ReferenceGrants of its namespace', () => {
    expect(gitRepositoryHooks.customize!({ parent: repo() }, env).relatedResources.slice(1)).toEqual([
      { apiVersion: API, resource: 'giteaproviders', namespace: 'idpbuilder-system', names: ['gitea'] },
      { apiVersion: API, resource: 'referencegrants', namespace: 'idpbuilder-system' },
      { apiVersion: 'v1', resource: 'secrets', namespace: 'idpbuilder-system', labelSelector: { matchLabels: { 'idpbuilder.cnoe.io/role': 'repository-credentials' } } },
    ]);
  });

  it('GitRepository → GiteaProvider of another namespace without a grant: Ready=False ReferenceNotPermitted, no sync Job (no push with its token)', () => {
    const res = gitRepositoryHooks.sync(syncRequest(repo(), {}, toMap([server])), env);
    expect(res.status.phase).toBe('Pending');
    expect(condition(res)).toMatchObject({ status: 'False', reason: 'ReferenceNotPermitted', message: REFUSED });
    // an error only a grant (a change) clears: Degraded=True with the same reason and message
    expect(condition(res, 'Progressing')).toMatchObject({ status: 'False', reason: 'ReferenceNotPermitted', message: REFUSED });
    expect(condition(res, 'Degraded')).toMatchObject({ status: 'True', reason: 'ReferenceNotPermitted', message: REFUSED });
    expect(res.children).toEqual([]);
    expect(JSON.stringify(res)).not.toContain('gitea-gitea-token');
  });

  it('with a grant it works; when the grant goes, the observed ConfigMap and Job are kept', () => {
    const req = syncRequest(repo(), {}, toMap([server, allowed]));
    const first = gitRepositoryHooks.sync(req, env);
    expect(first.children.map((c) => c.kind)).toEqual(['ConfigMap', 'Job']);
    const cfg = JSON.parse((byKind(first, 'ConfigMap')[0].data as Record<string, string>)['config.json']);
    expect(cfg.credentialsSecretRef).toEqual({ name: 'gitea-gitea-token', namespace: 'idpbuilder-system', key: 'token' });
    const synced = gitRepositoryHooks.sync(next(req, first, (o) => (o.kind === 'Job' ? jobSucceeded(o) : o)), env);
    expect(condition(synced)).toMatchObject({ status: 'True', reason: 'Synced' });
    const revoked = gitRepositoryHooks.sync({ ...next(req, first), related: toMap([server]) }, env);
    expect(condition(revoked)).toMatchObject({ status: 'False', reason: 'ReferenceNotPermitted', message: REFUSED });
    expect(revoked.children.map((c) => `${c.kind}/${c.metadata.name}`)).toEqual(first.children.map((c) => `${c.kind}/${c.metadata.name}`));
  });

  it('a grant for another referring kind, another source namespace, another target kind or name, or in another namespace does not count', () => {
    const wrong = [
      grant({ kind: 'Package', namespace: TEAM }, { kind: 'GiteaProvider' }),
      grant({ kind: 'GitRepository', namespace: 'team-b' }, { kind: 'GiteaProvider' }),
      grant({ kind: 'GitRepository', namespace: TEAM }, { kind: 'GitLabProvider' }),
      grant({ kind: 'GitRepository', namespace: TEAM }, { kind: 'GiteaProvider', name: 'other' }),
      grant({ kind: 'GitRepository', namespace: TEAM }, { kind: 'GiteaProvider' }, TEAM),
      // being deleted: gone already
      { ...grant({ kind: 'GitRepository', namespace: TEAM }, { kind: 'GiteaProvider' }), metadata: { name: 'deleting', namespace: 'idpbuilder-system', deletionTimestamp: '2026-01-01T00:00:00Z' } } as KubeObject,
    ];
    for (const g of wrong) {
      const res = gitRepositoryHooks.sync(syncRequest(repo(), {}, toMap([server, g])), env);
      expect(condition(res).reason, g.metadata.name).toBe('ReferenceNotPermitted');
    }
    // the refusal does not depend on whether the target exists (nothing about the other namespace is revealed)
    expect(condition(gitRepositoryHooks.sync(syncRequest(repo()), env))).toMatchObject({ reason: 'ReferenceNotPermitted', message: REFUSED });
  });

  it('the controllers namespace is not special: a same-namespace reference needs no grant, any other does', () => {
    const inTeam = teamObject('GitRepository', 'apps', { gitServerRef: { kind: 'GiteaProvider', name: 'gitea' } });
    const local = provider('GiteaProvider', 'gitea', giteaDuck(TEAM), { namespace: TEAM });
    expect(resolveRef({ parent: inTeam, related: toMap([local]) }, { kind: 'GiteaProvider', name: 'gitea' }).object).toBe(local);
    const fromSystem = { ...inTeam, metadata: { ...inTeam.metadata, namespace: 'idpbuilder-system' } } as KubeObject;
    expect(resolveRef({ parent: fromSystem, related: toMap([local]) }, { kind: 'GiteaProvider', name: 'gitea', namespace: TEAM }).refusal?.reason).toBe('ReferenceNotPermitted');
  });

  it('a provider whose duck credentialsSecretRef names another namespace is refused (SecretRefNotPermitted)', () => {
    const local = provider('GiteaProvider', 'gitea', giteaDuck('kube-system'), { namespace: TEAM });
    const res = gitRepositoryHooks.sync(syncRequest(teamObject('GitRepository', 'apps', { gitServerRef: { kind: 'GiteaProvider', name: 'gitea' } }), {}, toMap([local])), env);
    expect(condition(res)).toMatchObject({ reason: 'SecretRefNotPermitted', message: expect.stringContaining('reports status.credentialsSecretRef in namespace kube-system') });
    expect(res.children).toEqual([]);
  });

  it('routing.gatewayRef: a gateway of another namespace without a grant blocks the GiteaProvider (children kept)', () => {
    const gw = provider('NginxGateway', 'edge', { ingressClassName: 'nginx' }, { namespace: 'net' });
    const p = teamObject('GiteaProvider', 'gitea', { routing: { gatewayRef: { kind: 'NginxGateway', name: 'edge', namespace: 'net' } } });
    const res = giteaProviderHooks.sync(syncRequest(p, {}, toMap([gw])), env);
    expect(condition(res)).toMatchObject({ reason: 'ReferenceNotPermitted', message: 'NginxGateway net/edge: no ReferenceGrant in net allows GiteaProvider from team-a' });
    expect(byKind(res, 'Job')).toEqual([]);
    const ok = giteaProviderHooks.sync(syncRequest(p, {}, toMap([gw, referenceGrant('g', 'net', [{ kind: 'GiteaProvider', namespace: TEAM }], [{ kind: 'NginxGateway', name: 'edge' }])])), env);
    expect(byKind(ok, 'Job')).toHaveLength(1);
  });

  describe('Package: source, dependencies, gitOpsProviderRef and health checks', () => {
    const CLONE = 'http://gitea-http.gitea.svc.cluster.local:3000/idpbuilder/apps.git';
    const source = provider('GitRepository', 'apps', { cloneURL: CLONE }, { namespace: 'shared' });
    const argo = provider('ArgoCDProvider', 'argocd', {});
    const spec = (extra: Record<string, unknown> = {}) => ({ source: { gitRepository: { name: 'apps', namespace: 'shared' } }, gitOpsProviderRef: { kind: 'ArgoCDProvider', name: 'argocd', namespace: 'idpbuilder-system' }, ...extra });
    const pkg = (extra: Record<string, unknown> = {}) => teamObject('Package', 'apps', spec(extra));
    const grants = [
      referenceGrant('pkgs', 'shared', [{ kind: 'Package', namespace: TEAM }], [{ kind: 'GitRepository', name: 'apps' }]),
      referenceGrant('pkgs', 'idpbuilder-system', [{ kind: 'Package', namespace: TEAM }], [{ kind: 'ArgoCDProvider' }]),
    ];
    const decorate = (p: KubeObject, related: ObjectMap, attachments: ObjectMap = {}) =>
      packagesArgoCD.hooks.sync({ controller: {}, object: p, attachments, related }, env);

    it('customize (Package and both decorators) asks for the ReferenceGrants of every foreign namespace', () => {
      const p = pkg({ healthChecks: [{ type: 'Deployment', name: 'web', namespace: 'web' }] });
      for (const customize of [packageHooks.customize!, packagesArgoCD.hooks.customize!, packagesFlux.hooks.customize!]) {
        const grantsAsked = customize({ parent: p }, env).relatedResources.filter((r) => r.resource === 'referencegrants').map((r) => r.namespace);
        expect(grantsAsked.sort()).toEqual(['idpbuilder-system', 'shared', 'web']);
      }
    });

    it('without grants: ReferenceNotPermitted naming each refused reference, no Application; with them, the Application', () => {
      const res = packageHooks.sync(syncRequest(pkg(), {}, toMap([source, argo])), env);
      expect(res.status.phase).toBe('Pending');
      expect(condition(res)).toMatchObject({
        status: 'False',
        reason: 'ReferenceNotPermitted',
        message:
          'GitRepository shared/apps: no ReferenceGrant in shared allows Package from team-a; ArgoCDProvider idpbuilder-system/argocd: no ReferenceGrant in idpbuilder-system allows Package from team-a',
      });
      // an error only a grant (a change) clears: Degraded=True with the same reason
      expect(condition(res, 'Progressing')).toMatchObject({ status: 'False', reason: 'ReferenceNotPermitted' });
      expect(condition(res, 'Degraded')).toMatchObject({ status: 'True', reason: 'ReferenceNotPermitted', message: condition(res).message });
      expect(decorate(pkg(), toMap([source, argo])).attachments).toEqual([]);
      const dec = decorate(pkg(), toMap([source, argo, ...grants]));
      expect(dec.attachments.map((a) => (a.spec as { source: { repoURL: string } }).source.repoURL)).toEqual([CLONE]);
      // grant revoked: the observed Application is kept
      const app = withStatus(dec.attachments[0], { sync: { status: 'Synced' } });
      const kept = decorate(pkg(), toMap([source, argo]), toMap([app]));
      expect(kept.attachments.map((a) => a.metadata.name)).toEqual(['apps']);
    });

    it('a dependency and a health check of another namespace need grants too; a grant for the wrong group does not count', () => {
      const dep = provider('Package', 'db', {}, { namespace: 'data' });
      const withDep = pkg({ dependencies: [{ kind: 'Package', name: 'db', namespace: 'data' }] });
      expect(condition(packageHooks.sync(syncRequest(withDep, {}, toMap([source, argo, dep, ...grants])), env)).message).toBe('Package data/db: no ReferenceGrant in data allows Package from team-a');
      const web = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'web' } } as KubeObject;
      const withCheck = pkg({ healthChecks: [{ type: 'Deployment', name: 'web', namespace: 'web' }] });
      const ourGroup = referenceGrant('g', 'web', [{ kind: 'Package', namespace: TEAM }], [{ kind: 'Deployment', name: 'web' }]);
      expect(condition(packageHooks.sync(syncRequest(withCheck, {}, toMap([source, argo, web, ...grants, ourGroup])), env)).message).toBe('Deployment web/web: no ReferenceGrant in web allows Package from team-a');
      const apps = referenceGrant('g', 'web', [{ kind: 'Package', namespace: TEAM }], [{ group: 'apps', kind: 'Deployment', name: 'web' }]);
      expect(referencePermitted({ parent: withCheck, related: toMap([apps]) } as SyncRequest, { group: 'apps', kind: 'Deployment', namespace: 'web', name: 'web' })).toBeUndefined();
      expect(condition(packageHooks.sync(syncRequest(withCheck, {}, toMap([source, argo, web, ...grants, apps])), env)).reason).not.toBe('ReferenceNotPermitted');
    });
  });

  it('ReferenceGrant is validated like the other kinds (Gateway API field names, at least one from and one to)', () => {
    const g = (spec: Record<string, unknown>) => ({ apiVersion: API, kind: 'ReferenceGrant', metadata: { name: 'g', namespace: 'idpbuilder-system' }, spec });
    expect(problems(g({ from: [{ kind: 'GitRepository', namespace: TEAM }], to: [{ kind: 'GiteaProvider', name: 'gitea' }] }))).toEqual([]);
    expect(problems(g({ from: [{ group: 'idpbuilder.cnoe.io', kind: 'Package', namespace: TEAM }], to: [{ group: '', kind: 'Service' }] }))).toEqual([]);
    expect(problems(g({ from: [], to: [{ kind: 'GiteaProvider' }] }))[0]).toMatch(/^\.spec\.from: /);
    expect(problems(g({ from: [{ kind: 'GitRepository' }], to: [{ kind: 'GiteaProvider' }] }))).toEqual(['.spec.from[0].namespace: Required value']);
    expect(problems(g({ from: [{ group: 'apps', kind: 'Deployment', namespace: TEAM }], to: [{ kind: 'GiteaProvider' }] }))[0]).toMatch(/^\.spec\.from\[0\]\.group: Unsupported value/);
    expect(problems({ ...g({ from: [{ kind: 'GitRepository', namespace: TEAM }], to: [{ kind: 'GiteaProvider' }] }), status: {} })).toEqual(['.status: unknown field']);
  });
});
