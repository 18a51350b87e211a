// Platform teardown order against the real kube-apiserver. No Metacontroller runs there, so the test plays it:
// the Platform and its children carry a finalizer (as Metacontroller's own holds them while their finalize
// runs); each round reads the observed children from the API server, calls the Platform's finalize hook,
// deletes every child the answer leaves out (what Metacontroller does), and then lets those children go (their
// own finalize done: the finalizer removed). The API server shows which children were being deleted at each
// step and which were untouched. Also checked here: marking an object with a finalizer as deleting bumps its
// metadata.generation (what makes Metacontroller's customize cache ask a provider again for its users), and
// the statuses the finalize hooks write (phase Deleting, usedBy) are kept by the CRD schemas.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { giteaProviderHooks } from '../../src/controllers/giteaprovider.js';
import { platformHooks } from '../../src/controllers/platform.js';
import type { KubeObject, ObjectMap, SyncRequest } from '../../src/metacontroller/protocol.js';
import { groupKey, objectKey } from '../../src/metacontroller/protocol.js';
import { testEnv } from '../support/requests.js';
import { KEPT_TEMPLATE } from '../../src/kit/helm.js';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cluster, ensureNamespaces, expectSuccess, installProjectCrds } from './support.js';

const kube = cluster();
const NS = 'teardown-test';
const OTHER = 'teardown-team';
const API = 'idpbuilder.cnoe.io/v1alpha2';
const FINALIZER = 'metacontroller.io/compositecontroller-idpbuilder-test';
const KINDS = ['packages', 'gitrepositories', 'argocdproviders', 'giteaproviders', 'nginxgateways'];
const env = testEnv();

async function getJSON(args: string[]): Promise<any> {
  return JSON.parse(expectSuccess(await kube.kubectl([...args, '-o', 'json']), `kubectl ${args.join(' ')}`).stdout);
}

async function apply(objects: unknown[]): Promise<void> {
  for (const o of objects) expectSuccess(await kube.kubectl(['create', '-f', '-'], JSON.stringify(o)), `creating ${JSON.stringify(o).slice(0, 80)}`);
}

/** Children of the Platform as Metacontroller would observe them (the v2 map), read from the API server. */
async function observed(): Promise<ObjectMap> {
  const list = await getJSON(['get', KINDS.map((k) => `${k}.idpbuilder.cnoe.io`).join(','), '-n', NS, '-l', 'idpbuilder.cnoe.io/platform=demo']);
  const map: ObjectMap = {};
  for (const o of list.items as KubeObject[]) (map[groupKey(o.kind, o.apiVersion)] ??= {})[objectKey(o.metadata.namespace, o.metadata.name)] = o;
  return map;
}

async function unfinalize(kind: string, name: string, ns = NS): Promise<void> {
  expectSuccess(await kube.kubectl(['patch', kind, name, '-n', ns, '--type=merge', '-p', '{"metadata":{"finalizers":null}}']), `releasing ${kind} ${name}`);
}

const labels = { 'app.kubernetes.io/managed-by': 'idpbuilder', 'idpbuilder.cnoe.io/platform': 'demo' };
const meta = (name: string, extra: Record<string, string> = {}) => ({ name, namespace: NS, labels: { ...labels, ...extra }, finalizers: [FINALIZER] });

beforeAll(async () => {
  await installProjectCrds(kube);
  await ensureNamespaces(kube, [NS, OTHER]);
  await kube.kubectl(['delete', ['platforms', ...KINDS, 'referencegrants'].map((k) => `${k}.idpbuilder.cnoe.io`).join(','), '--all', '-n', NS, '--ignore-not-found', '--wait=false']);
  await apply([
    { apiVersion: API, kind: 'Platform', metadata: { name: 'demo', namespace: NS, finalizers: [FINALIZER] }, spec: { components: { gitea: {}, nginx: {}, argocd: {} } } },
    { apiVersion: API, kind: 'NginxGateway', metadata: meta('demo-nginx'), spec: {} },
    { apiVersion: API, kind: 'GiteaProvider', metadata: meta('demo-gitea'), spec: { adminUser: { autoGenerate: true } } },
    { apiVersion: API, kind: 'ArgoCDProvider', metadata: meta('demo-argocd'), spec: { adminCredentials: { autoGenerate: true } } },
    { apiVersion: API, kind: 'GitRepository', metadata: meta('demo-gitea', { 'idpbuilder.cnoe.io/role': 'bootstrap' }), spec: { gitServerRef: { kind: 'GiteaProvider', name: 'demo-gitea' } } },
    {
      apiVersion: API,
      kind: 'Package',
      metadata: meta('demo-gitea', { 'idpbuilder.cnoe.io/role': 'bootstrap' }),
      spec: { source: { gitRepository: { name: 'demo-gitea', path: 'gitea' } }, gitOpsProviderRef: { kind: 'ArgoCDProvider', name: 'demo-argocd' } },
    },
  ]);
});

afterAll(async () => {
  for (const k of ['platforms', ...KINDS]) {
    const list = await getJSON(['get', `${k}.idpbuilder.cnoe.io`, '-n', NS]).catch(() => ({ items: [] }));
    for (const o of list.items as KubeObject[]) await unfinalize(`${k}.idpbuilder.cnoe.io`, o.metadata.name);
  }
});

describe('Platform finalize order, played against the API server', () => {
  it('deleting an object with a finalizer bumps metadata.generation (customize is asked again)', async () => {
    const before = await getJSON(['get', 'platform.idpbuilder.cnoe.io', 'demo', '-n', NS]);
    expectSuccess(await kube.kubectl(['delete', 'platform.idpbuilder.cnoe.io', 'demo', '-n', NS, '--wait=false']), 'deleting the Platform');
    const after = await getJSON(['get', 'platform.idpbuilder.cnoe.io', 'demo', '-n', NS]);
    expect(after.metadata.deletionTimestamp).toBeTruthy();
    expect(after.metadata.generation).toBeGreaterThan(before.metadata.generation);
  });

  it('Packages, then GitRepositories, then the GitOps provider, the git provider, the gateway; finalized at the end', async () => {
    const steps: string[][] = [];
    for (let round = 0; round < 10; round++) {
      const parent = (await getJSON(['get', 'platform.idpbuilder.cnoe.io', 'demo', '-n', NS])) as KubeObject;
      const children = await observed();
      const req: SyncRequest = { controller: { metadata: { name: 'idpbuilder-platforms' } }, parent, children, related: {}, finalizing: true };
      const res = platformHooks.finalize!(req, env);
      // the status the hook writes is accepted and kept by the Platform CRD
      expectSuccess(
        await kube.kubectl(['patch', 'platform.idpbuilder.cnoe.io', 'demo', '-n', NS, '--subresource=status', '--type=merge', '-p', JSON.stringify({ status: res.status })]),
        'writing the Platform status',
      );
      const kept = await getJSON(['get', 'platform.idpbuilder.cnoe.io', 'demo', '-n', NS]);
      expect(kept.status.phase).toBe('Deleting');
      if (res.finalized) {
        await unfinalize('platform.idpbuilder.cnoe.io', 'demo');
        break;
      }
      const answered = new Set(res.children.map((c) => `${c.kind}/${c.metadata.name}`));
      const dropped = Object.values(children)
        .flatMap((g) => Object.values(g))
        .filter((o) => !answered.has(`${o.kind}/${o.metadata.name}`));
      // what Metacontroller does with a child the answer leaves out
      for (const o of dropped) expectSuccess(await kube.kubectl(['delete', `${o.kind.toLowerCase()}.idpbuilder.cnoe.io`, o.metadata.name, '-n', NS, '--wait=false']), `deleting ${o.kind}`);
      // the children the answer kept are untouched: no deletionTimestamp on the API server
      const now = await observed();
      for (const g of Object.values(now)) for (const o of Object.values(g)) expect(!!o.metadata.deletionTimestamp, `${o.kind}/${o.metadata.name}`).toBe(!answered.has(`${o.kind}/${o.metadata.name}`));
      steps.push(dropped.map((o) => o.kind).sort());
      // each dropped child's own finalize finishes: its finalizer goes, and so does the object
      for (const o of dropped) await unfinalize(`${o.kind.toLowerCase()}.idpbuilder.cnoe.io`, o.metadata.name);
    }
    expect(steps).toEqual([['Package'], ['GitRepository'], ['ArgoCDProvider'], ['GiteaProvider'], ['NginxGateway']]);
    const gone = await kube.kubectl(['get', 'platform.idpbuilder.cnoe.io', 'demo', '-n', NS]);
    expect(gone.code).not.toBe(0);
  });

  it('a GiteaProvider held by a GitRepository of a granted namespace: status.usedBy and InUse are kept by the CRD', async () => {
    await apply([
      { apiVersion: API, kind: 'GiteaProvider', metadata: { name: 'held', namespace: NS, finalizers: [FINALIZER] }, spec: { adminUser: { autoGenerate: true } } },
      { apiVersion: API, kind: 'ReferenceGrant', metadata: { name: 'team-repos', namespace: NS }, spec: { from: [{ kind: 'GitRepository', namespace: OTHER }], to: [{ kind: 'GiteaProvider' }] } },
      { apiVersion: API, kind: 'GitRepository', metadata: { name: 'app', namespace: OTHER }, spec: { gitServerRef: { kind: 'GiteaProvider', name: 'held', namespace: NS } } },
    ]);
    expectSuccess(await kube.kubectl(['delete', 'giteaprovider.idpbuilder.cnoe.io', 'held', '-n', NS, '--wait=false']), 'deleting the GiteaProvider');
    const parent = (await getJSON(['get', 'giteaprovider.idpbuilder.cnoe.io', 'held', '-n', NS])) as KubeObject;
    // what the customize rules of a provider being deleted select (src/kit/users.ts usersRules)
    const rules = giteaProviderHooks.customize!({ parent }, env).relatedResources;
    expect(rules).toContainEqual({ apiVersion: API, resource: 'gitrepositories', labelSelector: {} });
    const repos = (await getJSON(['get', 'gitrepositories.idpbuilder.cnoe.io', '-A'])).items as KubeObject[];
    const grants = (await getJSON(['get', 'referencegrants.idpbuilder.cnoe.io', '-n', NS])).items as KubeObject[];
    const related: ObjectMap = { [groupKey('GitRepository', API)]: {}, [groupKey('ReferenceGrant', API)]: {} };
    for (const o of [...repos, ...grants]) related[groupKey(o.kind, o.apiVersion)]![objectKey(o.metadata.namespace, o.metadata.name)] = o;
    const res = giteaProviderHooks.finalize!({ controller: { metadata: { name: 'idpbuilder-giteaproviders' } }, parent, children: {}, related, finalizing: true }, env);
    expect(res.finalized).toBe(false);
    expectSuccess(
      await kube.kubectl(['patch', 'giteaprovider.idpbuilder.cnoe.io', 'held', '-n', NS, '--subresource=status', '--type=merge', '-p', JSON.stringify({ status: res.status })]),
      'writing the GiteaProvider status',
    );
    const kept = await getJSON(['get', 'giteaprovider.idpbuilder.cnoe.io', 'held', '-n', NS]);
    expect(kept.status.usedBy).toEqual([{ kind: 'GitRepository', namespace: OTHER, name: 'app' }]);
    expect(kept.status.conditions.find((c: { type: string }) => c.type === 'Ready')).toMatchObject({ status: 'False', reason: 'InUse' });
    await unfinalize('giteaprovider.idpbuilder.cnoe.io', 'held');
    await kube.kubectl(['delete', 'gitrepository.idpbuilder.cnoe.io', 'app', '-n', OTHER, '--ignore-not-found']);
  });
});

describe('the uninstall script\'s kubectl template against the API server (src/kit/helm.ts KEPT_TEMPLATE)', () => {
  it('lists exactly the objects annotated helm.sh/resource-policy: keep, from a List or a single object', async () => {
    const cm = (name: string, keep: boolean) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: NS, ...(keep ? { annotations: { 'helm.sh/resource-policy': 'keep' } } : { labels: { a: 'b' } }) } });
    const crdLike = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: OTHER, annotations: { 'helm.sh/resource-policy': 'keep' } } };
    const objects = [cm('kept-data', true), cm('plain', false), crdLike];
    for (const o of objects) expectSuccess(await kube.kubectl(['apply', '--server-side', '--field-manager=idpbuilder-tests', '-f', '-'], JSON.stringify(o)), 'applying');
    const dir = mkdtempSync(join(tmpdir(), 'kept-'));
    const many = join(dir, 'release.yaml');
    writeFileSync(many, objects.map((o) => JSON.stringify(o)).join('\n---\n'));
    const r = expectSuccess(await kube.kubectl(['get', '-f', many, '--namespace', NS, '--ignore-not-found', '-o', `go-template=${KEPT_TEMPLATE}`]), 'kept (list)');
    expect(r.stdout.split('\n').filter(Boolean).sort()).toEqual([`v1 ConfigMap kept-data ${NS}`, `v1 Namespace ${OTHER}`]);
    const one = join(dir, 'one.yaml');
    writeFileSync(one, JSON.stringify(cm('kept-data', true)));
    const r1 = expectSuccess(await kube.kubectl(['get', '-f', one, '--namespace', NS, '--ignore-not-found', '-o', `go-template=${KEPT_TEMPLATE}`]), 'kept (one)');
    expect(r1.stdout).toBe(`v1 ConfigMap kept-data ${NS}\n`);
    const none = join(dir, 'none.yaml');
    writeFileSync(none, JSON.stringify(cm('plain', false)));
    expect(expectSuccess(await kube.kubectl(['get', '-f', none, '--namespace', NS, '--ignore-not-found', '-o', `go-template=${KEPT_TEMPLATE}`]), 'kept (none)').stdout).toBe('');
    await kube.kubectl(['delete', 'configmap', 'kept-data', 'plain', '-n', NS, '--ignore-not-found']);
  });
});
