/**
 * Providers of another API group (issue 16, item 6): a reference may carry `apiVersion`; a made-up
 * `BitbucketProvider` of `example.com/v1` whose status implements the git-provider duck type works for a
 * Platform, a GitRepository and a Package, in the hooks and in render, with no code naming its kind.
 * Fixtures: test/fixtures/foreign-provider/ (the CRD, the objects, the provider's observed status).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { Admission } from '../../src/api/validate.js';
import { platformHooks } from '../../src/controllers/platform.js';
import { gitRepositoryHooks } from '../../src/controllers/gitrepository.js';
import { packageHooks } from '../../src/controllers/package.js';
import { controllers, decorators } from '../../src/controllers/registry.js';
import { defaultResource, refRules } from '../../src/kit/refs.js';
import { render } from '../../src/render/render.js';
import type { KubeObject, ObjectMap } from '../../src/metacontroller/protocol.js';
import { parent, syncRequest, testEnv } from '../support/requests.js';
import { condition, toMap } from '../support/world.js';
import { NS, provider } from '../support/providers.js';
import { referenceGrant } from '../support/grants.js';

const DIR = join(import.meta.dirname, '../fixtures/foreign-provider');
const load = (file: string) => parseAllDocuments(readFileSync(join(DIR, file), 'utf8')).map((d) => d.toJSON() as KubeObject);
const env = testEnv();
const BB = { apiVersion: 'example.com/v1', kind: 'BitbucketProvider', name: 'bitbucket' };

/** The BitbucketProvider as its own controller reports it (observed.yaml), optionally changed. */
function bitbucket(status: Record<string, unknown> = {}, namespace = NS): KubeObject {
  const o = load('observed.yaml').find((x) => x.kind === 'BitbucketProvider')!;
  return { ...o, metadata: { ...o.metadata, namespace }, status: { ...o.status, ...status } } as KubeObject;
}
const notReady = { phase: 'Pending', conditions: [{ type: 'Ready', status: 'False', reason: 'Connecting', message: 'bitbucket is not reachable yet' }] };

describe('references with apiVersion', () => {
  it('the plural of another group\'s kind: lower-cased and pluralised like CRD tooling does; an explicit resource wins', () => {
    expect(['BitbucketProvider', 'Ingress', 'NetworkPolicy', 'Gateway', 'Box'].map(defaultResource)).toEqual(['bitbucketproviders', 'ingresses', 'networkpolicies', 'gateways', 'boxes']);
    const p = parent('Platform', 'p', {});
    expect(refRules([BB, { ...BB, name: 'other', resource: 'bitbuckets' }, { kind: 'GiteaProvider', name: 'gitea', apiVersion: 'idpbuilder.cnoe.io/v1alpha1' }], p)).toEqual([
      { apiVersion: 'example.com/v1', resource: 'bitbucketproviders', namespace: NS, names: ['bitbucket'] },
      { apiVersion: 'example.com/v1', resource: 'bitbuckets', namespace: NS, names: ['other'] },
      // either served version of our group is asked for as the storage version, as before
      { apiVersion: 'idpbuilder.cnoe.io/v1alpha2', resource: 'giteaproviders', namespace: NS, names: ['gitea'] },
    ]);
  });

  it('idpbuilder validate (offline admission) accepts the references; a malformed apiVersion is refused', () => {
    const admission = new Admission();
    const ours = load('platform.yaml').filter((o) => o.apiVersion.startsWith('idpbuilder.cnoe.io/'));
    expect(ours.map((o) => admission.admit(o).outcome)).toEqual(['valid', 'valid', 'valid']);
    const bad = { ...ours[0], spec: { components: { gitProviders: [{ ...BB, apiVersion: 'Example.com/v1' }] } } };
    const r = admission.admit(bad);
    expect(r.outcome).toBe('invalid');
    expect(r.outcome === 'invalid' && r.problems.map((p) => p.path)).toEqual(['.spec.components.gitProviders[0].apiVersion']);
  });
});

describe('Platform', () => {
  const platform = parent('Platform', 'localdev', { components: { gitProviders: [BB] } });

  it('customize asks Metacontroller for the BitbucketProvider by its own apiVersion and plural', () => {
    const rules = platformHooks.customize!({ parent: platform }, env).relatedResources;
    expect(rules).toContainEqual({ apiVersion: 'example.com/v1', resource: 'bitbucketproviders', namespace: NS, names: ['bitbucket'] });
  });

  it('reads its duck status: Ready provider, Platform Ready; not ready, Platform waits', () => {
    const ready = platformHooks.sync(syncRequest(platform, {}, toMap([bitbucket()])), env);
    expect(condition(ready)).toMatchObject({ status: 'True', reason: 'AllComponentsReady' });
    expect((ready.status.providers as { gitProviders: unknown[] }).gitProviders).toEqual([
      { name: 'bitbucket', apiVersion: 'example.com/v1', kind: 'BitbucketProvider', namespace: NS, ready: true, phase: 'Ready', observedGeneration: 1 },
    ]);
    const waiting = platformHooks.sync(syncRequest(platform, {}, toMap([bitbucket(notReady)])), env);
    expect(condition(waiting)).toMatchObject({ status: 'False', reason: 'WaitingForProviders', message: 'waiting for providers: BitbucketProvider/bitbucket' });
    expect((waiting.status.providers as { gitProviders: { message: string }[] }).gitProviders[0].message).toBe('bitbucket is not reachable yet');
  });

  it('an object of the same kind name in our group is not it: not found', () => {
    const ours = { ...bitbucket(), apiVersion: 'idpbuilder.cnoe.io/v1alpha2' } as KubeObject;
    const res = platformHooks.sync(syncRequest(platform, {}, toMap([ours])), env);
    expect(condition(res)).toMatchObject({ reason: 'ProviderNotFound', message: 'provider not found: BitbucketProvider/bitbucket' });
  });

  it('in another namespace the ReferenceGrant there names the group example.com', () => {
    const p = parent('Platform', 'localdev', { components: { gitProviders: [{ ...BB, namespace: 'vendors' }] } });
    const provider = bitbucket({ credentialsSecretRef: { name: 'bitbucket-token', namespace: 'vendors', key: 'token' } }, 'vendors');
    const grant = (group: string) => referenceGrant('platforms', 'vendors', [{ kind: 'Platform', namespace: NS }], [{ group, kind: 'BitbucketProvider' }]);
    const refused = platformHooks.sync(syncRequest(p, {}, toMap([provider, grant('idpbuilder.cnoe.io')])), env);
    expect(condition(refused)).toMatchObject({ reason: 'ReferenceNotPermitted', message: `BitbucketProvider vendors/bitbucket: no ReferenceGrant in vendors allows Platform from ${NS}` });
    const allowed = platformHooks.sync(syncRequest(p, {}, toMap([provider, grant('example.com')])), env);
    expect(condition(allowed)).toMatchObject({ status: 'True', reason: 'AllComponentsReady' });
  });
});

describe('GitRepository on the BitbucketProvider', () => {
  const repo = parent('GitRepository', 'my-app', { gitServerRef: BB, organization: 'idp' });
  const related = (p: KubeObject): ObjectMap => toMap([p, ...load('observed.yaml').filter((o) => o.kind === 'Secret')]);

  it('customize asks for it by apiVersion and plural', () => {
    expect(gitRepositoryHooks.customize!({ parent: repo }, env).relatedResources).toContainEqual({ apiVersion: 'example.com/v1', resource: 'bitbucketproviders', namespace: NS, names: ['bitbucket'] });
  });

  it('with status.gitAPI the repository is written through that API (a sync Job with its endpoint and credentials)', () => {
    const res = gitRepositoryHooks.sync(syncRequest(repo, {}, related(bitbucket())), env);
    const job = res.children.find((c) => c.kind === 'Job');
    expect(job, JSON.stringify(res.status)).toBeDefined();
    const config = JSON.parse((res.children.find((c) => c.kind === 'ConfigMap')!.data as Record<string, string>)['config.json']);
    expect(config).toMatchObject({ flavor: 'gitea', apiEndpoint: 'https://bitbucket.example.com', credentialsSecretRef: { name: 'bitbucket-token', namespace: NS, key: 'token' }, organization: 'idp' });
  });

  it('without status.gitAPI no API is known for the kind: UnsupportedGitServer, saying what to report', () => {
    const { gitAPI: _drop, ...status } = bitbucket().status as Record<string, unknown>;
    const res = gitRepositoryHooks.sync(syncRequest(repo, {}, related({ ...bitbucket(), status } as KubeObject)), env);
    expect(condition(res)).toMatchObject({
      reason: 'UnsupportedGitServer',
      message: `git server BitbucketProvider ${NS}/bitbucket: no git API is known for kind BitbucketProvider (GiteaProvider, GitHubProvider and GitLabProvider are; another kind reports status.gitAPI: gitea, github or gitlab)`,
    });
    // an error only a change clears (the server reports its API): Degraded=True, the phase stays Pending
    expect(res.status.phase).toBe('Pending');
    expect(condition(res, 'Degraded')).toMatchObject({ status: 'True', reason: 'UnsupportedGitServer', message: condition(res).message });
  });
});

describe('Package depending on the BitbucketProvider', () => {
  const pkg = parent('Package', 'my-app', { source: { gitRepository: { name: 'my-app' } }, dependencies: [BB] });
  const source = provider('GitRepository', 'my-app', { cloneURL: 'https://bitbucket.example.com/idp/my-app.git' });

  it('waits while it is not Ready, deploys once it is', () => {
    expect(packageHooks.customize!({ parent: pkg }, env).relatedResources).toContainEqual({ apiVersion: 'example.com/v1', resource: 'bitbucketproviders', namespace: NS, names: ['bitbucket'] });
    const waiting = packageHooks.sync(syncRequest(pkg, {}, toMap([source, bitbucket(notReady)])), env);
    expect(condition(waiting)).toMatchObject({ reason: 'WaitingForDependencies', message: `waiting for BitbucketProvider/${NS}/bitbucket (bitbucket is not reachable yet)` });
    const deploying = packageHooks.sync(syncRequest(pkg, {}, toMap([source, bitbucket()])), env);
    expect(deploying.status.phase).toBe('Deploying');
  });
});

describe('render: the BitbucketProvider CRD, its object (status observed) and a Platform, GitRepository and Package using it', () => {
  const inputs = [...load('bitbucketprovider-crd.yaml'), ...load('platform.yaml')];
  const r = render(inputs, controllers(), { decorators: decorators(), assumeReady: true, observed: load('observed.yaml') });
  const find = (kind: string, name: string) => r.objects.find((o) => o.kind === kind && o.metadata.name === name)!;
  const ready = (o: KubeObject) => (o.status?.conditions as { type: string; status: string; reason: string }[]).find((c) => c.type === 'Ready');

  it('everything becomes Ready; the bootstrap repositories live on the BitbucketProvider', () => {
    expect(r.converged).toBe(true);
    expect(r.warnings).toEqual([]);
    expect(ready(find('Platform', 'localdev'))).toMatchObject({ status: 'True', reason: 'AllComponentsReady' });
    expect(ready(find('GitRepository', 'my-app'))).toMatchObject({ status: 'True' });
    expect(find('Package', 'my-app').status.phase).toBe('Synced');
    const bootstrap = r.objects.filter((o) => o.kind === 'GitRepository' && o.metadata.labels?.['idpbuilder.cnoe.io/platform'] === 'localdev');
    expect(bootstrap.map((o) => o.metadata.name).sort()).toEqual(['localdev-argocd', 'localdev-nginx']);
    for (const b of bootstrap) expect((b.spec as { gitServerRef: unknown }).gitServerRef).toEqual({ ...BB, namespace: NS });
  });
});
