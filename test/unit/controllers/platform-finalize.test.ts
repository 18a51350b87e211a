/**
 * Platform finalize: Packages → GitOps hand-off (bootstrap GitRepositories) → GitOps providers → git providers →
 * gateways. Each call releases only the first step that still has observed children and returns every later
 * step's children as observed; finalized once nothing is observed.
 */
import { describe, expect, it } from 'vitest';
import { argoCDProviderHooks } from '../../../src/controllers/argocdprovider.js';
import { giteaProviderHooks } from '../../../src/controllers/giteaprovider.js';
import { nginxGatewayHooks } from '../../../src/controllers/nginxgateway.js';
import { platformHooks as hooks, TEARDOWN_STEPS } from '../../../src/controllers/platform.js';
import type { Hooks } from '../../../src/kit/hooks.js';
import { controllers } from '../../../src/controllers/registry.js';
import { compositeController } from '../../../src/codegen/manifests.js';
import type { KubeObject, ObjectMap, SyncRequest, SyncResponse } from '../../../src/metacontroller/protocol.js';
import { noUsers, parent, syncRequest, testEnv } from '../../support/requests.js';
import { condition, jobSucceeded, next, toMap, withStatus } from '../../support/world.js';
import { NS, provider, readyCondition, settle } from '../../support/providers.js';

const env = testEnv();
const HOOKS: Record<string, Hooks> = { GiteaProvider: giteaProviderHooks, ArgoCDProvider: argoCDProviderHooks, NginxGateway: nginxGatewayHooks };
const keys = (res: { children: KubeObject[] }) => res.children.map((c) => `${c.kind}/${c.metadata.name}`).sort();

/** Every inline provider installed and Ready, then the bootstrap GitRepositories and Packages observed Ready. */
function bootstrapped(spec: Record<string, unknown> = { components: { gitea: {}, nginx: {}, argocd: {} } }) {
  const req = syncRequest(parent('Platform', 'platform', spec));
  const first = hooks.sync(req, env);
  const installed = new Map<string, { object: KubeObject; configMap: KubeObject }>();
  for (const c of first.children) {
    const p = { ...c, metadata: { ...c.metadata, uid: `uid-${c.metadata.name}`, generation: 1 } } as KubeObject;
    const related = toMap([provider('NginxGateway', 'platform-nginx', { ingressClassName: 'nginx' })]);
    const { res } = settle(HOOKS[c.kind].sync, syncRequest(p, {}, related), testEnv(), 3);
    const configMap = res.children.find((x) => x.kind === 'ConfigMap' && x.metadata.labels?.['idpbuilder.cnoe.io/helm-values'] === 'true')!;
    installed.set(c.metadata.name, { object: { ...p, status: res.status } as KubeObject, configMap });
  }
  const related = toMap([...installed.values()].map((i) => i.configMap));
  const req2 = next(req, first, (o) => installed.get(o.metadata.name)?.object ?? o, related);
  const res2 = hooks.sync(req2, env);
  const ready = (o: KubeObject) =>
    o.kind === 'GitRepository' || o.kind === 'Package' ? withStatus({ ...o, metadata: { ...o.metadata, generation: 1 } } as KubeObject, { observedGeneration: 1, conditions: [readyCondition('Synced')] }) : o;
  const req3 = next(req2, res2, ready);
  const deleting = { ...req3.parent, metadata: { ...req3.parent.metadata, deletionTimestamp: '2026-01-01T00:00:00Z' } } as KubeObject;
  return { ...req3, parent: deleting, finalizing: true } as SyncRequest;
}

/** The request after Metacontroller deleted every child of `kinds` (they are no longer observed). */
function without(req: SyncRequest, kinds: string[]): SyncRequest {
  const children: ObjectMap = {};
  for (const [g, byKey] of Object.entries(req.children ?? {})) children[g] = kinds.some((k) => g.startsWith(`${k}.`)) ? {} : byKey;
  return { ...req, children };
}

const observedKeys = (req: SyncRequest) =>
  Object.values(req.children ?? {})
    .flatMap((g) => Object.values(g))
    .map((o) => `${o.kind}/${o.metadata.name}`)
    .sort();

describe('Platform finalize: ordered teardown', () => {
  const all = bootstrapped();

  it('the world under test has every step: Packages, GitRepositories and the three inline providers', () => {
    expect(observedKeys(all)).toEqual([
      'ArgoCDProvider/platform-argocd',
      'GitRepository/platform-argocd',
      'GitRepository/platform-gitea',
      'GitRepository/platform-nginx',
      'GiteaProvider/platform-gitea',
      'NginxGateway/platform-nginx',
      'Package/platform-argocd',
      'Package/platform-gitea',
      'Package/platform-nginx',
    ]);
    expect(TEARDOWN_STEPS.map((s) => s.name)).toEqual(['Packages', 'GitOps hand-off', 'GitOps providers', 'git providers', 'gateways']);
  });

  it('step 1: with every child observed, only the Packages are dropped', () => {
    const res = hooks.finalize!(all, env);
    expect(res.finalized).toBe(false);
    expect(keys(res)).toEqual(observedKeys(all).filter((k) => !k.startsWith('Package/')));
    expect(res.status.phase).toBe('Deleting');
    expect(condition(res)).toMatchObject({
      status: 'False',
      reason: 'TearingDown',
      message:
        'step 1/5 (Packages): waiting for Package platform-argocd, Package platform-gitea, Package platform-nginx to be deleted; then GitOps hand-off, GitOps providers, git providers, gateways',
    });
  });

  it('step 2: Packages gone, the bootstrap GitRepositories (GitOps hand-off) are dropped', () => {
    const req = without(all, ['Package']);
    const res = hooks.finalize!(req, env);
    expect(res.finalized).toBe(false);
    expect(keys(res)).toEqual(['ArgoCDProvider/platform-argocd', 'GiteaProvider/platform-gitea', 'NginxGateway/platform-nginx']);
    expect(condition(res).message).toMatch(/^step 2\/5 \(GitOps hand-off\): waiting for GitRepository platform-argocd, GitRepository platform-gitea, GitRepository platform-nginx/);
  });

  it('step 3: hand-off gone, the GitOps provider is dropped; git provider and gateway stay', () => {
    const res = hooks.finalize!(without(all, ['Package', 'GitRepository']), env);
    expect(res.finalized).toBe(false);
    expect(keys(res)).toEqual(['GiteaProvider/platform-gitea', 'NginxGateway/platform-nginx']);
    expect(condition(res).message).toBe('step 3/5 (GitOps providers): waiting for ArgoCDProvider platform-argocd to be deleted; then git providers, gateways');
  });

  it('step 4: the git provider is dropped; the gateway stays', () => {
    const res = hooks.finalize!(without(all, ['Package', 'GitRepository', 'ArgoCDProvider']), env);
    expect(keys(res)).toEqual(['NginxGateway/platform-nginx']);
    expect(res.finalized).toBe(false);
  });

  it('step 5: the gateway is dropped; finalized only once it is gone', () => {
    const last = hooks.finalize!(without(all, ['Package', 'GitRepository', 'ArgoCDProvider', 'GiteaProvider']), env);
    expect(keys(last)).toEqual([]);
    expect(last.finalized).toBe(false);
    expect(condition(last).message).toBe('step 5/5 (gateways): waiting for NginxGateway platform-nginx to be deleted');
    const done = hooks.finalize!(without(all, ['Package', 'GitRepository', 'ArgoCDProvider', 'GiteaProvider', 'NginxGateway']), env);
    expect(done.finalized).toBe(true);
    expect(done.children).toEqual([]);
    expect(condition(done)).toMatchObject({ reason: 'TornDown' });
  });

  it('a provider being deleted that is held (InUse) is named with its reason; the next step waits', () => {
    const req = without(all, ['Package', 'GitRepository', 'ArgoCDProvider']);
    const gitea = Object.values(req.children!['GiteaProvider.idpbuilder.cnoe.io/v1alpha2'])[0];
    const held = {
      ...gitea,
      metadata: { ...gitea.metadata, deletionTimestamp: '2026-01-01T00:00:00Z' },
      status: { ...(gitea.status as object), conditions: [{ type: 'Ready', status: 'False', reason: 'InUse', message: 'in use by GitRepository team-a/app: the uninstall waits until they are gone', lastTransitionTime: '2026-01-01T00:00:00Z' }] },
    } as KubeObject;
    const res = hooks.finalize!({ ...req, children: { ...req.children, 'GiteaProvider.idpbuilder.cnoe.io/v1alpha2': { [`${NS}/platform-gitea`]: held } } }, env);
    expect(res.finalized).toBe(false);
    expect(keys(res)).toEqual(['NginxGateway/platform-nginx']);
    expect(condition(res).message).toContain('GiteaProvider platform-gitea (in use by GitRepository team-a/app: the uninstall waits until they are gone)');
  });
});

describe('Platform finalize honours deletionPolicy', () => {
  it('components.<name>.deletionPolicy reaches the inline provider', () => {
    const res = hooks.sync(syncRequest(parent('Platform', 'platform', { components: { gitea: { deletionPolicy: 'Retain' }, nginx: {} } })), env);
    const gitea = res.children.find((c) => c.kind === 'GiteaProvider')!;
    expect((gitea.spec as { deletionPolicy?: string }).deletionPolicy).toBe('Retain');
    expect((res.children.find((c) => c.kind === 'NginxGateway')!.spec as { deletionPolicy?: string }).deletionPolicy).toBeUndefined();
  });

  it('a Retain provider is released (its object goes) and its own finalize leaves the installation: no uninstall Job', () => {
    const all = bootstrapped({ components: { gitea: { deletionPolicy: 'Retain' }, nginx: {}, argocd: {} } });
    const req = without(all, ['Package', 'GitRepository', 'ArgoCDProvider']);
    const res = hooks.finalize!(req, env);
    expect(keys(res)).toEqual(['NginxGateway/platform-nginx']);
    expect(condition(res).message).toBe(
      'step 4/5 (git providers): waiting for GiteaProvider platform-gitea to be deleted; deletionPolicy Retain keeps the installation of GiteaProvider platform-gitea; then gateways',
    );
    // the released GiteaProvider's own finalize (Metacontroller deletes it): no uninstall, finalized at once
    const gitea = Object.values(req.children!['GiteaProvider.idpbuilder.cnoe.io/v1alpha2'])[0];
    let greq = syncRequest({ ...gitea, metadata: { ...gitea.metadata, uid: 'uid-platform-gitea' } } as KubeObject, {}, toMap([provider('NginxGateway', 'platform-nginx', { ingressClassName: 'nginx' })]));
    for (let i = 0; i < 3; i++) greq = next(greq, giteaProviderHooks.sync(greq, env), (o) => (o.kind === 'Job' ? jobSucceeded(o) : o));
    const f = giteaProviderHooks.finalize!({ ...greq, related: { ...greq.related, ...noUsers('GitRepository') }, finalizing: true }, env);
    expect(f.finalized).toBe(true);
    expect(f.children.filter((c) => c.metadata.labels?.['idpbuilder.cnoe.io/role'] === 'uninstall')).toEqual([]);
    expect(condition(f as SyncResponse)).toMatchObject({ reason: 'Retained' });
  });

  it('a Delete provider released by the Platform is uninstalled by its own finalize', () => {
    const all = bootstrapped();
    const nginx = Object.values(without(all, []).children!['NginxGateway.idpbuilder.cnoe.io/v1alpha2'])[0];
    let nreq = syncRequest({ ...nginx, metadata: { ...nginx.metadata, uid: 'uid-platform-nginx' } } as KubeObject);
    for (let i = 0; i < 3; i++) nreq = next(nreq, nginxGatewayHooks.sync(nreq, env), (o) => (o.kind === 'Job' ? jobSucceeded(o) : o));
    const f = nginxGatewayHooks.finalize!({ ...nreq, finalizing: true }, env);
    expect(f.finalized).toBe(false);
    expect(f.children.filter((c) => c.kind === 'Job' && c.metadata.labels?.['idpbuilder.cnoe.io/role'] === 'uninstall')).toHaveLength(1);
  });
});

describe('Platform CompositeController', () => {
  it('declares the finalize hook', () => {
    const def = controllers().find((c) => c.kind.kind === 'Platform')!;
    const hooksSpec = (compositeController(def).spec as { hooks: Record<string, { webhook: { path: string } }> }).hooks;
    expect(hooksSpec.finalize.webhook.path).toBe('/hooks/platforms/finalize');
  });
});
