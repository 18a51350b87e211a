/**
 * Faults found by the second breaker pass (issues 16 and 17 features), each replayed with the answer it should get.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { buildApp } from '../../src/server/app.js';
import { controllers, decorators } from '../../src/controllers/registry.js';
import { runRender } from '../../src/cli/render.js';
import { giteaProviderHooks } from '../../src/controllers/giteaprovider.js';
import { ENGINE_STATUS_ANNOTATION, packageHooks } from '../../src/controllers/package.js';
import { MAX_RESYNC_AFTER_SECONDS } from '../../src/kit/contract.js';
import type { KubeObject, SyncRequest } from '../../src/metacontroller/protocol.js';
import { groupKey } from '../../src/metacontroller/protocol.js';
import { parent, syncRequest, testEnv } from '../support/requests.js';
import { condition, jobSucceeded, next, toMap } from '../support/world.js';
import { referenceGrant } from '../support/grants.js';
import { API, NS, provider } from '../support/providers.js';

const env = testEnv();

describe('render without --show-secrets', () => {
  const dir = mkdtempSync(join(tmpdir(), 'breaker2-'));
  const file = join(dir, 'in.yaml');
  writeFileSync(
    file,
    [
      'apiVersion: v1',
      'kind: Secret',
      'metadata: {name: gitlab-token, namespace: idpbuilder-system}',
      'stringData: {token: planted-glpat-value-1}',
      '---',
      'apiVersion: v1',
      'kind: Secret',
      'metadata: {name: both, namespace: idpbuilder-system}',
      `data: {a: ${Buffer.from('planted-data-value-2').toString('base64')}}`,
      'stringData: {b: planted-string-value-3}',
      '',
    ].join('\n'),
  );
  const items = (stdout: string) => (JSON.parse(stdout) as { items: KubeObject[] }).items;

  it('redacts the stringData of input Secrets as it redacts data (keys kept)', () => {
    const r = runRender({ filename: [file], recursive: false, assumeReady: true, output: 'json', showSecrets: false });
    expect(r.code).toBe(0);
    expect(r.stdout).not.toContain('planted-');
    expect(r.stdout).not.toContain(Buffer.from('planted-data-value-2').toString('base64'));
    const secrets = items(r.stdout).filter((o) => o.kind === 'Secret');
    expect(secrets.find((s) => s.metadata.name === 'gitlab-token')?.stringData).toEqual({ token: 'REDACTED' });
    expect(secrets.find((s) => s.metadata.name === 'both')).toMatchObject({ data: { a: Buffer.from('REDACTED').toString('base64') }, stringData: { b: 'REDACTED' } });
  });

  it('--show-secrets prints them as given', () => {
    const r = runRender({ filename: [file], recursive: false, assumeReady: true, output: 'json', showSecrets: true });
    expect(r.stdout).toContain('planted-glpat-value-1');
    expect(r.stdout).toContain('planted-string-value-3');
  });
});

describe('a provider being deleted, used from a granted namespace, while the ReferenceGrant list is not in the request', () => {
  const DELETING = { deletionTimestamp: '2026-01-01T00:00:00Z' };
  const p = parent('GiteaProvider', 'gitea', {});
  const dying = { ...p, metadata: { ...p.metadata, ...DELETING } } as KubeObject;
  let req: SyncRequest = syncRequest(p);
  for (let i = 0; i < 3; i++) req = next(req, giteaProviderHooks.sync(req, env), (o) => (o.kind === 'Job' ? jobSucceeded(o) : o));
  const base: SyncRequest = { ...req, parent: { ...dying, status: req.parent.status } as KubeObject, finalizing: true };
  const repo = { apiVersion: API, kind: 'GitRepository', metadata: { name: 'app', namespace: 'team-a', uid: 'uid-app' }, spec: { gitServerRef: { kind: 'GiteaProvider', name: 'gitea', namespace: NS } } } as KubeObject;
  const grant = referenceGrant('team-a-repos', NS, [{ kind: 'GitRepository', namespace: 'team-a' }], [{ kind: 'GiteaProvider' }]);
  const uninstallJobs = (res: { children: KubeObject[] }) => res.children.filter((c) => c.kind === 'Job' && c.metadata.labels?.['idpbuilder.cnoe.io/role'] === 'uninstall');

  it('waits (grant unknown is not grant absent): no uninstall Job, not finalized', () => {
    const related = { [groupKey('GitRepository', API)]: {}, ...toMap([repo]) };
    const res = giteaProviderHooks.finalize!({ ...base, related }, env);
    expect(res.finalized).toBe(false);
    expect(uninstallJobs(res)).toEqual([]);
    expect(condition(res)).toMatchObject({ status: 'False', reason: 'WaitingForUsers' });
  });

  it('with the grant list it is held by that GitRepository; with an empty grant list it is not', () => {
    const held = giteaProviderHooks.finalize!({ ...base, related: { [groupKey('ReferenceGrant', API)]: {}, ...toMap([repo, grant]) } }, env);
    expect(held.status.usedBy).toEqual([{ kind: 'GitRepository', namespace: 'team-a', name: 'app' }]);
    expect(uninstallJobs(held)).toEqual([]);
    const free = giteaProviderHooks.finalize!({ ...base, related: { [groupKey('ReferenceGrant', API)]: {}, ...toMap([repo]) } }, env);
    expect(uninstallJobs(free)).toHaveLength(1);
  });

  it('users of its own namespace only: the grant list is not needed', () => {
    const own = { ...repo, metadata: { ...repo.metadata, namespace: NS } } as KubeObject;
    const res = giteaProviderHooks.finalize!({ ...base, related: { [groupKey('GitRepository', API)]: {}, ...toMap([own]) } }, env);
    expect(res.status.usedBy).toEqual([{ kind: 'GitRepository', namespace: NS, name: 'app' }]);
  });
});

describe('a provider of another API group whose status does not have the duck type\'s shape (its CRD, not ours, decides)', () => {
  const fixture = parseAllDocuments(readFileSync(join(import.meta.dirname, '../fixtures/foreign-provider/observed.yaml'), 'utf8')).map((d) => d.toJSON() as KubeObject);
  const bb = fixture.find((o) => o.kind === 'BitbucketProvider')!;
  const token = fixture.find((o) => o.kind === 'Secret')!;
  const BB = { apiVersion: 'example.com/v1', kind: 'BitbucketProvider', name: 'bitbucket' };
  const withStatus = (st: Record<string, unknown>) => ({ ...bb, status: { ...(bb.status as object), ...st } }) as KubeObject;
  const repoSpec = { gitServerRef: BB, sources: [{ type: 'Inline', files: { 'a.yaml': 'a: b' }, targetPath: '.' }] };
  const cases: [string, string, Record<string, unknown>, Record<string, unknown>, string][] = [
    ['platforms', 'Platform', { components: { gitProviders: [BB], argocd: {} } }, { conditions: [null] }, 'status.conditions that is not a list of conditions'],
    ['platforms', 'Platform', { components: { gitProviders: [BB], argocd: {} } }, { conditions: 'x' }, 'status.conditions that is not a list of conditions'],
    ['gitrepositories', 'GitRepository', repoSpec, { conditions: 'x' }, 'status.conditions that is not a list of conditions'],
    ['gitrepositories', 'GitRepository', repoSpec, { endpoint: 5 }, 'status.endpoint that is not a string'],
    ['gitrepositories', 'GitRepository', repoSpec, { internalEndpoint: { a: 1 } }, 'status.internalEndpoint that is not a string'],
    ['gitrepositories', 'GitRepository', repoSpec, { credentialsSecretRef: 'token' }, 'status.credentialsSecretRef that is not a Secret reference'],
    ['argocdproviders', 'ArgoCDProvider', { repositoryCredentials: [{ gitServerRef: BB }] }, { conditions: [null] }, 'status.conditions that is not a list of conditions'],
  ];

  it('is answered 200 through the hook service, the object not ready and the condition naming the field (was 500)', async () => {
    const app = buildApp({ controllers: controllers(), decorators: decorators(), logger: false, randomSeed: Buffer.alloc(32, 7), responseMemoSeconds: 0 });
    await app.ready();
    try {
      for (const [plural, kind, spec, st, says] of cases) {
        const p = parent(kind, 'x', spec);
        const r = await app.inject({ method: 'POST', url: `/hooks/${plural}/sync`, payload: syncRequest(p, {}, toMap([withStatus(st), token])) });
        expect(r.statusCode, `${kind} ${JSON.stringify(st)}`).toBe(200);
        const conds = (r.json() as { status: { conditions: { type: string; status: string; reason: string; message: string }[] } }).status.conditions;
        expect(conds.some((c) => c.status === 'False' && c.message.includes(`BitbucketProvider ${NS}/bitbucket reports ${says}`)), `${kind} ${JSON.stringify(st)}`).toBe(true);
      }
    } finally {
      await app.close();
    }
  });

  it('a well-formed status still works (the fixture as given)', () => {
    const res = controllers().find((c) => c.kind.kind === 'GitRepository')!.hooks!.sync(syncRequest(parent('GitRepository', 'x', repoSpec), {}, toMap([bb, token])), env);
    expect(JSON.stringify(res.status)).not.toContain('InvalidDuckStatus');
  });
});

describe('a provider with deletionPolicy Delete whose install ConfigMap is not observed for one finalize call', () => {
  const p = parent('GiteaProvider', 'gitea', {});
  let req: SyncRequest = syncRequest(p);
  for (let i = 0; i < 3; i++) req = next(req, giteaProviderHooks.sync(req, env), (o) => (o.kind === 'Job' ? jobSucceeded(o) : o));
  const dying = { ...req.parent, metadata: { ...req.parent.metadata, deletionTimestamp: '2026-01-01T00:00:00Z' } } as KubeObject;
  const recorded = (req.parent.status as { installation: { configMap: string } }).installation.configMap;
  const withoutRecord = Object.fromEntries(Object.entries(req.children!).map(([g, m]) => [g, Object.fromEntries(Object.entries(m).filter(([, o]) => !(o.kind === 'ConfigMap' && o.metadata.name === recorded)))]));
  const users = { [groupKey('GitRepository', API)]: {} };

  it('waits (InstallRecordNotFound) instead of finalizing as "nothing was installed" and leaving the installation behind', () => {
    const res = giteaProviderHooks.finalize!({ ...req, parent: dying, children: withoutRecord, related: users, finalizing: true }, env);
    expect(res.finalized).toBe(false);
    expect(condition(res)).toMatchObject({ status: 'False', reason: 'InstallRecordNotFound' });
    expect(condition(res).message).toContain(recorded);
    // nothing observed is dropped
    const observed = Object.values(withoutRecord).flatMap((g) => Object.keys(g)).length;
    expect(res.children).toHaveLength(observed);
  });

  it('with the ConfigMap observed again, the uninstall Job starts; with Retain it lets go at once', () => {
    const res = giteaProviderHooks.finalize!({ ...req, parent: dying, related: users, finalizing: true }, env);
    expect(res.children.some((c) => c.kind === 'Job' && c.metadata.labels?.['idpbuilder.cnoe.io/role'] === 'uninstall')).toBe(true);
    const retain = { ...dying, spec: { deletionPolicy: 'Retain' } } as KubeObject;
    expect(giteaProviderHooks.finalize!({ ...req, parent: retain, children: withoutRecord, related: users, finalizing: true }, env).finalized).toBe(true);
  });
});

describe('a health check timeout longer than Metacontroller can wait', () => {
  it('asks for a resync within one day (a Go time.Duration holds about 292 years; beyond it the requeue is immediate on amd64)', () => {
    const p = parent('Package', 'my-app', { source: { gitRepository: { name: 'my-app', path: 'deploy' } }, gitOpsProviderRef: { kind: 'ArgoCDProvider', name: 'argocd' }, healthChecks: [{ type: 'Deployment', name: 'web', timeout: '3000000h' }] }, {
      metadata: { name: 'my-app', namespace: NS, uid: 'uid-my-app', generation: 1, annotations: { [ENGINE_STATUS_ANNOTATION.argocd]: JSON.stringify({ name: 'my-app', namespace: NS, syncStatus: 'Synced', healthStatus: 'Healthy' }) } },
    } as Partial<KubeObject>);
    const web = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: NS, generation: 1 }, spec: { replicas: 2 }, status: { readyReplicas: 1, observedGeneration: 1 } } as KubeObject;
    const related = toMap([provider('GitRepository', 'my-app', { cloneURL: 'http://gitea/idpbuilder/my-app.git' }), provider('ArgoCDProvider', 'argocd', { endpoint: 'https://argocd.example' }), web]);
    const res = packageHooks.sync(syncRequest(p, {}, related), env);
    expect(condition(res)).toMatchObject({ reason: 'HealthCheckPending' });
    expect(res.resyncAfterSeconds).toBe(MAX_RESYNC_AFTER_SECONDS);
    // a short timeout is asked for as computed
    const short = { ...p, spec: { ...p.spec, healthChecks: [{ type: 'Deployment', name: 'web', timeout: '10m' }] } } as KubeObject;
    expect(packageHooks.sync(syncRequest(short, {}, related), env).resyncAfterSeconds).toBe(600);
  });
});
