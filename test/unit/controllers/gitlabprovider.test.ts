import { describe, expect, it } from 'vitest';
import { GitLabProviderStatus } from '../../../src/api/gitlab.js';
import { newAjv } from '../../../src/api/validate.js';
import { gitlabProviderHooks as hooks } from '../../../src/controllers/gitlabprovider.js';
import type { KubeObject, SyncRequest, SyncResponse } from '../../../src/metacontroller/protocol.js';
import { parent, syncRequest as baseSyncRequest, testEnv } from '../../support/requests.js';
import { byKind, condition, jobFailed, jobSucceeded, next, toMap } from '../../support/world.js';

const NS = 'idpbuilder-system';
const env = testEnv('2026-01-01T00:03:20Z');
const RESULT = 'idpbuilder.cnoe.io/result';

/** The Secrets a provider's spec names, as the API server would show them (present unless a test says otherwise). */
function inputSecrets(p: KubeObject): KubeObject[] {
  const spec = (p.spec ?? {}) as Record<string, any>;
  const refs = [spec.credentialsSecretRef, spec.caSecretRef, spec.appAuth?.privateKeySecretRef].filter((r) => r?.name);
  return refs.map((r) => ({ apiVersion: 'v1', kind: 'Secret', metadata: { name: r.name, namespace: p.metadata.namespace, resourceVersion: '1' }, data: { [r.key ?? 'token']: Buffer.from('stand-in').toString('base64') } }) as KubeObject);
}
/** A sync request whose related objects default to the Secrets the spec names. */
const syncRequest = (p: KubeObject, children: SyncRequest['children'] = {}, related?: SyncRequest['related']): SyncRequest => baseSyncRequest(p, children, related ?? toMap(inputSecrets(p)));

const gl = (spec: Record<string, unknown> = {}, extra = {}) =>
  parent('GitLabProvider', 'gitlab', { endpoint: 'https://gitlab.example.com/', group: 'platform/team', credentialsSecretRef: { name: 'gitlab-token' }, ...spec }, extra);

const config = (res: SyncResponse) => JSON.parse((byKind(res, 'ConfigMap')[0].data as Record<string, string>)['config.json']) as Record<string, unknown>;
const jobName = (res: SyncResponse) => byKind(res, 'Job')[0].metadata.name;

const success = (o: KubeObject) =>
  o.kind === 'Job' ? jobSucceeded(o, { [RESULT]: JSON.stringify({ authenticated: true, group: 'platform/team', groupID: 4711, checkedAt: '2026-01-01T00:04:00Z' }) }) : o;
const failure = (code: string, message: string) => (o: KubeObject) =>
  o.kind === 'Job' ? { ...jobFailed(o), metadata: { ...o.metadata, annotations: { [RESULT]: JSON.stringify({ authenticated: false, error: { code, message }, checkedAt: '2026-01-01T00:04:00Z' }) } } } : o;

function validated(req: SyncRequest, transform: (o: KubeObject) => KubeObject = success): { req: SyncRequest; res: SyncResponse } {
  const after = next(req, hooks.sync(req, env), transform);
  return { req: after, res: hooks.sync(after, testEnv('2026-01-01T00:05:00Z')) };
}

describe('GitLabProvider', () => {
  it('first sync: a ConfigMap and a validation Job; duck fields endpoint/<group>, /api/v4, credentialsSecretRef', () => {
    const res = hooks.sync(
      syncRequest(gl({ caSecretRef: { name: 'gitlab-ca' }, subgroups: [{ name: 'apps', description: 'Applications' }, { name: 'infra/clusters' }] })),
      env,
    );
    expect(jobName(res)).toMatch(/^gitlab-validate-[0-9a-f]{8}$/);
    expect(res.children.map((c) => `${c.kind}/${c.metadata.namespace}`)).toEqual([`ConfigMap/${NS}`, `Job/${NS}`]);
    expect(config(res)).toEqual({
      endpoint: 'https://gitlab.example.com',
      group: 'platform/team',
      credentialsSecretRef: { namespace: NS, name: 'gitlab-token', key: 'token' },
      caSecretRef: { namespace: NS, name: 'gitlab-ca', key: 'ca.crt' },
      subgroups: [{ name: 'apps', description: 'Applications' }, { name: 'infra/clusters' }],
      result: { jobNamespace: NS, jobName: jobName(res) },
    });
    const job = byKind(res, 'Job')[0] as KubeObject & { spec: { template: { spec: { containers: Array<{ command: string[] }> } } } };
    expect(job.spec.template.spec.containers[0].command).toEqual(['idpbuilder', 'job', 'gitlab-validate', '--config', '/config/config.json']);
    expect(res.status).toMatchObject({
      endpoint: 'https://gitlab.example.com/platform/team',
      internalEndpoint: 'https://gitlab.example.com/api/v4',
      credentialsSecretRef: { name: 'gitlab-token', namespace: NS, key: 'token' },
      group: 'platform/team',
      phase: 'Installing',
    });
    expect(condition(res)).toMatchObject({ status: 'False', reason: 'Validating' });
    expect(res.resyncAfterSeconds).toBe(400);
    // the default instance
    expect(hooks.sync(syncRequest(gl({ endpoint: undefined })), env).status).toMatchObject({ endpoint: 'https://gitlab.com/platform/team', internalEndpoint: 'https://gitlab.com/api/v4' });
  });

  it('no validation Job before its Secrets exist (token and CA): Pending SecretNotFound', () => {
    const res = hooks.sync(syncRequest(gl({ caSecretRef: { name: 'gitlab-ca' } }), {}, toMap(inputSecrets(gl()))), env);
    expect(byKind(res, 'Job')).toEqual([]);
    expect(condition(res)).toMatchObject({ status: 'False', reason: 'SecretNotFound', message: `waiting for Secret ${NS}/gitlab-ca: the validation Job starts once it exists` });
  });

  it('a Job that succeeded without a result annotation is ValidationFailed', () => {
    const { res } = validated(syncRequest(gl()), (o) => (o.kind === 'Job' ? jobSucceeded(o) : o));
    expect(res.status).toMatchObject({ phase: 'Failed', authenticated: false });
    expect(condition(res)).toMatchObject({ status: 'False', reason: 'ValidationFailed' });
  });

  it('validation succeeded: Ready with group, groupID and authenticated', () => {
    const { req, res } = validated(syncRequest(gl()));
    expect(res.status).toMatchObject({ phase: 'Ready', authenticated: true, group: 'platform/team', groupID: 4711 });
    expect(condition(res)).toMatchObject({ status: 'True', reason: 'Authenticated', message: 'credentials valid for group platform/team' });
    const again = hooks.sync(next(req, res, success), testEnv('2026-01-01T00:05:00Z'));
    expect(JSON.stringify(again)).toBe(JSON.stringify(res));
  });

  it('validation failed: NotFound is GroupNotFound, Unauthorized is AuthenticationFailed, a missing Secret SecretNotFound', () => {
    for (const [code, reason, message] of [
      ['NotFound', 'GroupNotFound', 'GitLab: get group platform/team failed with HTTP 404: 404 Group Not Found'],
      ['Unauthorized', 'AuthenticationFailed', 'GitLab: get group platform/team failed with HTTP 401: 401 Unauthorized'],
      ['Forbidden', 'Forbidden', 'GitLab: create group platform/team/apps failed with HTTP 403: 403 Forbidden'],
      ['RateLimited', 'RateLimited', 'GitLab: get group platform/team failed with HTTP 429: Retry later (retry after 60s)'],
      ['SecretNotFound', 'SecretNotFound', `credentials Secret ${NS}/gitlab-token not found`],
      ['Invalid', 'ValidationFailed', 'GitLab: create group platform/team/x failed with HTTP 400: path has already been taken'],
    ] as const) {
      const { res } = validated(syncRequest(gl()), failure(code, message));
      expect(res.status.phase).toBe('Failed');
      expect(res.status.authenticated).toBe(false);
      expect(res.status.groupID).toBeUndefined();
      expect(condition(res), code).toMatchObject({ status: 'False', reason, message });
    }
  });

  it('re-validation window and spec change', () => {
    const { req, res } = validated(syncRequest(gl()));
    const w2 = hooks.sync(next(req, res, success), testEnv('2026-01-01T00:10:00Z'));
    expect(jobName(w2)).not.toBe(jobName(res));
    expect(w2.status).toMatchObject({ phase: 'Ready', groupID: 4711, authenticated: true });
    expect(condition(w2, 'Progressing')).toMatchObject({ status: 'True', reason: 'Validating' });
    expect(w2.resyncAfterSeconds).toBe(600);

    const changed: SyncRequest = { ...next(req, res, success), parent: { ...gl({ group: 'platform/other' }, { metadata: { generation: 2 } }), status: res.status } as KubeObject };
    const out = hooks.sync(changed, env);
    expect(jobName(out)).not.toBe(jobName(res));
    expect(out.status).toMatchObject({ phase: 'Installing', group: 'platform/other', endpoint: 'https://gitlab.example.com/platform/other' });
    expect(out.status.groupID).toBeUndefined();
  });

  it('customize: Job pods, the token and CA Secrets; no secret value in status or children', () => {
    expect(hooks.customize!({ parent: gl({ caSecretRef: { name: 'ca', key: 'root.pem' } }) }, env).relatedResources).toEqual([
      { apiVersion: 'v1', resource: 'pods', namespace: NS, labelSelector: { matchLabels: { 'idpbuilder.cnoe.io/owner-uid': 'uid-gitlab' } } },
      { apiVersion: 'v1', resource: 'secrets', namespace: NS, names: ['ca', 'gitlab-token'] },
    ]);
    const secret = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'gitlab-token', namespace: NS, resourceVersion: '9' }, data: { token: Buffer.from('glpat-very-secret').toString('base64') } } as KubeObject;
    const res = hooks.sync(syncRequest(gl(), {}, toMap([secret])), env);
    // the token reaches only the repository credentials Secret (password of user oauth2)
    const outside = JSON.stringify({ status: res.status, children: res.children.filter((c) => c.kind !== 'Secret') });
    expect(outside).not.toContain('glpat-very-secret');
    expect(outside).not.toContain(Buffer.from('glpat-very-secret').toString('base64'));
    expect(byKind(res, 'Secret').map((c) => c.metadata.name)).toEqual(['gitlab-repository-credentials']);
  });

  it('finalize: finalized at once with either deletionPolicy', () => {
    for (const policy of ['Delete', 'Retain']) {
      const { req, res } = validated(syncRequest(gl({ deletionPolicy: policy })));
      const f = hooks.finalize!({ ...next(req, res, success), finalizing: true }, env);
      expect(f.finalized).toBe(true);
      // nothing new to run; what was observed goes with the parent
      expect(f.children.map((c) => `${c.kind}/${c.metadata.name}`).sort()).toEqual(res.children.map((c) => `${c.kind}/${c.metadata.name}`).sort());
      expect(condition(f)).toMatchObject({ reason: policy === 'Retain' ? 'Retained' : 'NothingInstalled', message: 'nothing was installed; the group, its subgroups and projects are left as they are' });
    }
  });

  it('every status conforms to the GitLabProvider status schema (no unknown fields)', () => {
    const check = newAjv().compile(GitLabProviderStatus);
    for (const s of [hooks.sync(syncRequest(gl()), env).status, validated(syncRequest(gl())).res.status, validated(syncRequest(gl()), failure('NotFound', 'x')).res.status]) {
      expect(check(s), JSON.stringify(check.errors)).toBe(true);
    }
  });
});
