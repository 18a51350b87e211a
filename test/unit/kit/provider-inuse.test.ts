/**
 * A provider being deleted waits while GitRepositories (git providers) or Packages (GitOps providers) still
 * reference it, from its namespace or one a ReferenceGrant allows: not finalized, no uninstall Job, and the
 * status says who holds it (status.usedBy, Ready=False reason InUse).
 */
import { describe, expect, it } from 'vitest';
import { giteaProviderHooks } from '../../../src/controllers/giteaprovider.js';
import { argoCDProviderHooks } from '../../../src/controllers/argocdprovider.js';
import { usersRules } from '../../../src/kit/users.js';
import type { KubeObject, ObjectMap, SyncRequest } from '../../../src/metacontroller/protocol.js';
import { groupKey } from '../../../src/metacontroller/protocol.js';
import { parent, syncRequest, testEnv } from '../../support/requests.js';
import { condition, jobSucceeded, next, toMap } from '../../support/world.js';
import { referenceGrant } from '../../support/grants.js';
import { API, NS } from '../../support/providers.js';

const env = testEnv();
const DELETING = { deletionTimestamp: '2026-01-01T00:00:00Z' };

function deleting(kind: string, name: string, spec: Record<string, unknown> = {}): KubeObject {
  const p = parent(kind, name, spec);
  return { ...p, metadata: { ...p.metadata, ...DELETING } } as KubeObject;
}

/** A provider installed (install Job succeeded), as its finalize sees it. */
function installedRequest(hooks: typeof giteaProviderHooks, p: KubeObject): SyncRequest {
  const live = { ...p, metadata: { ...p.metadata, deletionTimestamp: undefined } } as KubeObject;
  let req = syncRequest(live);
  for (let i = 0; i < 3; i++) req = next(req, hooks.sync(req, env), (o) => (o.kind === 'Job' ? jobSucceeded(o) : o));
  return { ...req, parent: { ...p, status: req.parent.status } as KubeObject, finalizing: true };
}

function gitRepository(namespace: string, name: string, ref: Record<string, unknown>): KubeObject {
  return { apiVersion: API, kind: 'GitRepository', metadata: { name, namespace, uid: `uid-${name}` }, spec: { gitServerRef: ref } } as KubeObject;
}

function pkg(namespace: string, name: string, ref?: Record<string, unknown>): KubeObject {
  return { apiVersion: API, kind: 'Package', metadata: { name, namespace, uid: `uid-${name}` }, spec: { source: { gitRepository: { name: 'r' } }, ...(ref ? { gitOpsProviderRef: ref } : {}) } } as KubeObject;
}

/** The related objects Metacontroller sends for usersRules: every declared group, even when empty. */
function users(kind: 'GitRepository' | 'Package', objects: KubeObject[], grants: KubeObject[] = []): ObjectMap {
  return { [groupKey(kind, API)]: {}, [groupKey('ReferenceGrant', API)]: {}, ...toMap([...objects, ...grants]) };
}

const uninstallJobs = (res: { children: KubeObject[] }) => res.children.filter((c) => c.kind === 'Job' && c.metadata.labels?.['idpbuilder.cnoe.io/role'] === 'uninstall');

describe('customize: users are asked for only while the provider is being deleted', () => {
  it('a live provider asks for no GitRepositories', () => {
    const res = giteaProviderHooks.customize!({ parent: parent('GiteaProvider', 'gitea', {}) }, env);
    expect(res.relatedResources.some((r) => r.resource === 'gitrepositories')).toBe(false);
  });

  it('a GiteaProvider being deleted asks for every GitRepository and its namespace\'s ReferenceGrants', () => {
    const res = giteaProviderHooks.customize!({ parent: deleting('GiteaProvider', 'gitea') }, env);
    expect(res.relatedResources).toContainEqual({ apiVersion: API, resource: 'gitrepositories', labelSelector: {} });
    expect(res.relatedResources).toContainEqual({ apiVersion: API, resource: 'referencegrants', namespace: NS });
  });

  it('an ArgoCDProvider being deleted asks for every Package', () => {
    expect(usersRules(deleting('ArgoCDProvider', 'argocd'), ['Package'])).toEqual([
      { apiVersion: API, resource: 'packages', labelSelector: {} },
      { apiVersion: API, resource: 'referencegrants', namespace: NS },
    ]);
    const res = argoCDProviderHooks.customize!({ parent: deleting('ArgoCDProvider', 'argocd') }, env);
    expect(res.relatedResources).toContainEqual({ apiVersion: API, resource: 'packages', labelSelector: {} });
  });
});

describe('GiteaProvider finalize holds while GitRepositories use it', () => {
  const base = installedRequest(giteaProviderHooks, deleting('GiteaProvider', 'gitea'));

  it('a GitRepository in another namespace allowed by a ReferenceGrant holds it; one not allowed does not', () => {
    const grant = referenceGrant('team-a-repos', NS, [{ kind: 'GitRepository', namespace: 'team-a' }], [{ kind: 'GiteaProvider' }]);
    const related = users(
      'GitRepository',
      [
        gitRepository('team-a', 'app', { kind: 'GiteaProvider', name: 'gitea', namespace: NS }),
        // no grant for team-b: its reference was never followed, so it holds nothing
        gitRepository('team-b', 'other', { kind: 'GiteaProvider', name: 'gitea', namespace: NS }),
        // same name, another kind or another namespace: not this provider
        gitRepository(NS, 'elsewhere', { kind: 'GitLabProvider', name: 'gitea' }),
        gitRepository('team-a', 'own-ns', { kind: 'GiteaProvider', name: 'gitea' }),
      ],
      [grant],
    );
    const res = giteaProviderHooks.finalize!({ ...base, related }, env);
    expect(res.finalized).toBe(false);
    expect(uninstallJobs(res)).toEqual([]);
    expect(res.status.usedBy).toEqual([{ kind: 'GitRepository', namespace: 'team-a', name: 'app' }]);
    expect(condition(res)).toMatchObject({ status: 'False', reason: 'InUse', message: 'in use by GitRepository team-a/app: the uninstall waits until they are gone' });
    expect(res.status.phase).toBe('Deleting');
    // nothing observed is dropped while it waits
    const observed = Object.values(base.children!).flatMap((g) => Object.keys(g)).length;
    expect(res.children).toHaveLength(observed);
  });

  it('a GitRepository of its own namespace holds it without a grant', () => {
    const res = giteaProviderHooks.finalize!({ ...base, related: users('GitRepository', [gitRepository(NS, 'repo', { kind: 'GiteaProvider', name: 'gitea' })]) }, env);
    expect(res.finalized).toBe(false);
    expect(res.status.usedBy).toEqual([{ kind: 'GitRepository', namespace: NS, name: 'repo' }]);
  });

  it('once the users are gone, the uninstall Job starts and usedBy is dropped', () => {
    const held = giteaProviderHooks.finalize!({ ...base, related: users('GitRepository', [gitRepository(NS, 'repo', { kind: 'GiteaProvider', name: 'gitea' })]) }, env);
    const res = giteaProviderHooks.finalize!({ ...base, parent: { ...base.parent, status: held.status } as KubeObject, related: users('GitRepository', []) }, env);
    expect(uninstallJobs(res)).toHaveLength(1);
    expect(res.status.usedBy).toBeUndefined();
    expect(condition(res)).toMatchObject({ reason: 'Uninstalling' });
  });

  it('users not known yet (the request has no GitRepository list): waits, no uninstall Job', () => {
    const res = giteaProviderHooks.finalize!({ ...base, related: {} }, env);
    expect(res.finalized).toBe(false);
    expect(uninstallJobs(res)).toEqual([]);
    expect(condition(res)).toMatchObject({ reason: 'WaitingForUsers' });
  });

  it('deletionPolicy Retain holds too while in use, then lets go without uninstalling', () => {
    const retain = installedRequest(giteaProviderHooks, deleting('GiteaProvider', 'gitea', { deletionPolicy: 'Retain' }));
    const held = giteaProviderHooks.finalize!({ ...retain, related: users('GitRepository', [gitRepository(NS, 'repo', { kind: 'GiteaProvider', name: 'gitea' })]) }, env);
    expect(held.finalized).toBe(false);
    expect(condition(held).message).toBe('in use by GitRepository idpbuilder-system/repo: deletion waits until they are gone');
    const free = giteaProviderHooks.finalize!({ ...retain, related: users('GitRepository', []) }, env);
    expect(free.finalized).toBe(true);
    expect(uninstallJobs(free)).toEqual([]);
  });

  it('more than 20 users: status lists 20, the message counts the rest', () => {
    const many = Array.from({ length: 23 }, (_, i) => gitRepository(NS, `r${String(i).padStart(2, '0')}`, { kind: 'GiteaProvider', name: 'gitea' }));
    const res = giteaProviderHooks.finalize!({ ...base, related: users('GitRepository', many) }, env);
    expect(res.status.usedBy).toHaveLength(20);
    expect(condition(res).message).toContain('GitRepository idpbuilder-system/r19 and 3 more');
  });
});

describe('ArgoCDProvider finalize holds while Packages use it', () => {
  it('a Package naming it holds it; a Package without gitOpsProviderRef does not', () => {
    const base = installedRequest(argoCDProviderHooks, deleting('ArgoCDProvider', 'argocd'));
    const res = argoCDProviderHooks.finalize!({ ...base, related: users('Package', [pkg(NS, 'app', { kind: 'ArgoCDProvider', name: 'argocd' }), pkg(NS, 'plain')]) }, env);
    expect(res.finalized).toBe(false);
    expect(uninstallJobs(res)).toEqual([]);
    expect(res.status.usedBy).toEqual([{ kind: 'Package', namespace: NS, name: 'app' }]);
    expect(condition(res)).toMatchObject({ reason: 'InUse' });
  });
});
