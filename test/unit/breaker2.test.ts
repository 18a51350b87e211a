/**
 * Faults found by the second breaker pass (issues 16 and 17 features), each replayed with the answer it should get.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runRender } from '../../src/cli/render.js';
import { giteaProviderHooks } from '../../src/controllers/giteaprovider.js';
import type { KubeObject, SyncRequest } from '../../src/metacontroller/protocol.js';
import { groupKey } from '../../src/metacontroller/protocol.js';
import { parent, syncRequest, testEnv } from '../support/requests.js';
import { condition, jobSucceeded, next, toMap } from '../support/world.js';
import { referenceGrant } from '../support/grants.js';
import { API, NS } from '../support/providers.js';

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
