import { describe, expect, it } from 'vitest';
import { argoCDProviderHooks as hooks } from '../../../src/controllers/argocdprovider.js';
import { urlPrefixes } from '../../../src/controllers/argocd-repocreds.js';
import { platformHooks } from '../../../src/controllers/platform.js';
import type { KubeObject, SyncResponse } from '../../../src/metacontroller/protocol.js';
import { parent, syncRequest, testEnv } from '../../support/requests.js';
import { byKind, next, toMap } from '../../support/world.js';
import { NS, provider, secretData, values } from '../../support/providers.js';
import { referenceGrant } from '../../support/grants.js';

const env = testEnv();
const b64 = (s: string) => Buffer.from(s).toString('base64');
const CA = '-----BEGIN CERTIFICATE-----\nstand-in\n-----END CERTIFICATE-----\n';
const gitlab = (status: Record<string, unknown> = {}, opts: { ready?: boolean; namespace?: string } = {}) =>
  provider(
    'GitLabProvider',
    'gitlab',
    {
      endpoint: 'https://gitlab.corp.example/platform',
      internalEndpoint: 'https://gitlab.corp.example/api/v4',
      group: 'platform',
      credentialsSecretRef: { name: 'gitlab-token', namespace: opts.namespace ?? NS, key: 'token' },
      repositoryCredentialsSecretRef: { name: 'gitlab-repository-credentials', namespace: opts.namespace ?? NS },
      ...status,
    },
    opts,
  );
const source = (namespace = NS) =>
  ({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'gitlab-repository-credentials', namespace, labels: { 'idpbuilder.cnoe.io/role': 'repository-credentials' } }, data: { username: b64('oauth2'), password: b64('stand-in-token'), 'ca.crt': b64(CA) } }) as KubeObject;
const argocd = (refs: Record<string, unknown>[] = [{ kind: 'GitLabProvider', name: 'gitlab' }]) =>
  parent('ArgoCDProvider', 'argocd', { repositoryCredentials: refs.map((gitServerRef) => ({ gitServerRef })) });
const installCM = (res: SyncResponse) => byKind(res, 'ConfigMap').find((c) => c.metadata.labels?.['idpbuilder.cnoe.io/helm-values'] === 'true')!;
const releases = (res: SyncResponse) => JSON.parse((installCM(res).data as Record<string, string>)['releases.json']);
const repoCondition = (res: SyncResponse) => (res.status.conditions as { type: string; message: string }[]).find((c) => c.type === 'RepositoryCredentials');

describe('ArgoCDProvider repository credentials (issue 16 item 3)', () => {
  it('a listed git provider becomes a repo-creds credential template for its URL prefix, written by the install Job into argocd; its CA goes to configs.tls.certificates by host', () => {
    const res = hooks.sync(syncRequest(argocd(), {}, toMap([gitlab(), source()])), env);
    const copy = byKind(res, 'Secret').find((s) => s.metadata.name === 'argocd-repo-creds-gitlabprovider-gitlab-0')!;
    expect(secretData(copy)).toEqual({ type: 'git', url: 'https://gitlab.corp.example/platform/', username: 'oauth2', password: 'stand-in-token', 'ca.crt': CA });
    const [rel] = releases(res);
    expect(rel.secrets[1]).toEqual({
      name: 'argocd-repo-creds-gitlabprovider-gitlab-0',
      from: 'argocd-repo-creds-gitlabprovider-gitlab-0',
      keys: ['password', 'type', 'url', 'username'],
      labels: { 'app.kubernetes.io/managed-by': 'idpbuilder', 'idpbuilder.cnoe.io/argocdprovider': 'argocd', 'idpbuilder.cnoe.io/role': 'repository-credentials', 'argocd.argoproj.io/secret-type': 'repo-creds' },
    });
    expect(values(installCM(res)).configs.tls).toEqual({ certificates: { 'gitlab.corp.example': CA } });
    expect(repoCondition(res)).toMatchObject({ status: 'True', reason: 'AsExpected', message: '1 credential template(s) for 1 git provider(s)' });
    expect(JSON.stringify([res.status, installCM(res)])).not.toContain('stand-in-token');
    // a rotated token makes a new install Job (the copy's digest is part of its identity)
    const rotated = { ...source(), data: { ...source().data as Record<string, string>, password: b64('stand-in-token-2') } } as KubeObject;
    const again = hooks.sync(syncRequest(argocd(), {}, toMap([gitlab(), rotated])), env);
    expect(byKind(again, 'Job')[0].metadata.name).not.toBe(byKind(res, 'Job')[0].metadata.name);
  });

  it('an in-cluster server gets a template for its web and its cluster-local prefix', () => {
    expect(urlPrefixes({ endpoint: 'https://gitea.cnoe.localtest.me:8443', internalEndpoint: 'http://gitea-http.gitea.svc.cluster.local:3000', organization: 'idpbuilder' })).toEqual([
      'https://gitea.cnoe.localtest.me:8443/idpbuilder/',
      'http://gitea-http.gitea.svc.cluster.local:3000/idpbuilder/',
    ]);
    expect(urlPrefixes({ endpoint: 'https://gitlab.corp.example/platform', internalEndpoint: 'https://gitlab.corp.example/api/v4', group: 'platform' })).toEqual(['https://gitlab.corp.example/platform/']);
  });

  it('a git provider not Ready, or whose Secret is not observed: the install goes on, the observed copy is kept unchanged, RepositoryCredentials=False says what is awaited', () => {
    const notReady = hooks.sync(syncRequest(argocd(), {}, toMap([gitlab({}, { ready: false })])), env);
    expect(byKind(notReady, 'Job')).toHaveLength(1);
    expect(byKind(notReady, 'Secret').map((s) => s.metadata.name)).toEqual(['argocd-argocd-admin']);
    expect(repoCondition(notReady)).toMatchObject({ status: 'False', reason: 'WaitingForGitServer', message: `waiting for GitLabProvider ${NS}/gitlab: not ready (install job running)` });
    const req = syncRequest(argocd(), {}, toMap([gitlab(), source()]));
    const first = hooks.sync(req, env);
    const lagging = hooks.sync({ ...next(req, first), related: toMap([gitlab()]) }, env);
    expect(byKind(lagging, 'Secret')).toEqual(byKind(first, 'Secret'));
    expect(byKind(lagging, 'Job').map((j) => j.metadata.name)).toEqual(byKind(first, 'Job').map((j) => j.metadata.name));
    expect(repoCondition(lagging)).toMatchObject({ status: 'False', message: `waiting for GitLabProvider ${NS}/gitlab: Secret ${NS}/gitlab-repository-credentials not found` });
  });

  it('a git provider of another namespace needs a ReferenceGrant for ArgoCDProvider; customize asks for it, its grants and its repository credentials Secrets', () => {
    const refs = [{ kind: 'GitLabProvider', name: 'gitlab', namespace: 'git' }];
    const rules = hooks.customize!({ parent: argocd(refs) }, env).relatedResources;
    expect(rules.slice(rules.findIndex((r) => r.resource === 'gitlabproviders'), rules.findIndex((r) => r.resource === 'gitlabproviders') + 3)).toEqual([
      { apiVersion: 'idpbuilder.cnoe.io/v1alpha2', resource: 'gitlabproviders', namespace: 'git', names: ['gitlab'] },
      { apiVersion: 'idpbuilder.cnoe.io/v1alpha2', resource: 'referencegrants', namespace: 'git' },
      { apiVersion: 'v1', resource: 'secrets', namespace: 'git', labelSelector: { matchLabels: { 'idpbuilder.cnoe.io/role': 'repository-credentials' } } },
    ]);
    const refused = hooks.sync(syncRequest(argocd(refs), {}, toMap([gitlab({}, { namespace: 'git' }), source('git')])), env);
    expect(byKind(refused, 'Secret').map((s) => s.metadata.name)).toEqual(['argocd-argocd-admin']);
    expect(repoCondition(refused)).toMatchObject({ status: 'False', reason: 'WaitingForGitServer' });
    expect(repoCondition(refused)!.message).toContain('no ReferenceGrant in git allows ArgoCDProvider');
    const grant = referenceGrant('argo', 'git', [{ kind: 'ArgoCDProvider', namespace: NS }], [{ kind: 'GitLabProvider', name: 'gitlab' }]);
    const granted = hooks.sync(syncRequest(argocd(refs), {}, toMap([gitlab({}, { namespace: 'git' }), source('git'), grant])), env);
    expect(byKind(granted, 'Secret').map((s) => s.metadata.name)).toContain('argocd-repo-creds-gitlabprovider-gitlab-0');
  });

  it('a Platform lists its referenced git providers (not the inline Gitea) for its inline Argo CD', () => {
    const spec = { components: { gitProviders: [{ kind: 'GitLabProvider', name: 'gitlab' }, { kind: 'GitHubProvider', name: 'github', namespace: 'git' }], gitea: {}, argocd: {} } };
    const res = platformHooks.sync(syncRequest(parent('Platform', 'platform', spec)), env);
    const inline = res.children.find((c) => c.kind === 'ArgoCDProvider')!;
    expect(inline.spec.repositoryCredentials).toEqual([{ gitServerRef: { kind: 'GitLabProvider', name: 'gitlab' } }, { gitServerRef: { kind: 'GitHubProvider', name: 'github', namespace: 'git' } }]);
    // the default platform (inline Gitea only) is unchanged
    const plain = platformHooks.sync(syncRequest(parent('Platform', 'platform', { components: { gitea: {}, argocd: {} } })), env);
    expect(plain.children.find((c) => c.kind === 'ArgoCDProvider')!.spec).not.toHaveProperty('repositoryCredentials');
  });
});
