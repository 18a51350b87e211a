import { describe, expect, it } from 'vitest';
import { GitHubProviderStatus } from '../../../src/api/github.js';
import { newAjv } from '../../../src/api/validate.js';
import { githubProviderHooks as hooks, githubWebBase, reasonFor } from '../../../src/controllers/githubprovider.js';
import type { KubeObject, SyncRequest, SyncResponse } from '../../../src/metacontroller/protocol.js';
import { parent, syncRequest as baseSyncRequest, testEnv } from '../../support/requests.js';
import { byKind, condition, jobFailed, jobRunning, jobSucceeded, next, toMap, withStatus } from '../../support/world.js';
import { secretData } from '../../support/providers.js';

const NS = 'idpbuilder-system';
const T0 = '2026-01-01T00:03:20Z'; // 200 s into a 10-minute window
const env = testEnv(T0);
const RESULT = 'idpbuilder.cnoe.io/result';

/** The Secrets a provider's spec names, as the API server would show them (present unless a test says otherwise). */
function inputSecrets(p: KubeObject): KubeObject[] {
  const spec = (p.spec ?? {}) as Record<string, any>;
  const refs = [spec.credentialsSecretRef, spec.caSecretRef, spec.appAuth?.privateKeySecretRef].filter((r) => r?.name);
  return refs.map((r) => ({ apiVersion: 'v1', kind: 'Secret', metadata: { name: r.name, namespace: p.metadata.namespace, resourceVersion: '1' }, data: { [r.key ?? 'token']: Buffer.from('stand-in').toString('base64') } }) as KubeObject);
}
/** A sync request whose related objects default to the Secrets the spec names. */
const syncRequest = (p: KubeObject, children: SyncRequest['children'] = {}, related?: SyncRequest['related']): SyncRequest => baseSyncRequest(p, children, related ?? toMap(inputSecrets(p)));

const gh = (spec: Record<string, unknown> = {}, extra = {}) =>
  parent('GitHubProvider', 'github', { organization: 'acme', credentialsSecretRef: { name: 'github-credentials' }, teams: [{ name: 'developers', permission: 'push' }], ...spec }, extra);

const config = (res: SyncResponse) => JSON.parse((byKind(res, 'ConfigMap')[0].data as Record<string, string>)['config.json']) as Record<string, unknown>;
const jobName = (res: SyncResponse) => byKind(res, 'Job')[0].metadata.name;

const success = (o: KubeObject, extra: Record<string, unknown> = {}) =>
  o.kind === 'Job'
    ? jobSucceeded(o, { [RESULT]: JSON.stringify({ authenticated: true, organization: 'acme', rateLimit: { remaining: 4990, limit: 5000, resetAt: '2026-01-01T01:00:00Z' }, checkedAt: '2026-01-01T00:04:00Z', ...extra }) })
    : o;
const failure = (code: string, message: string) => (o: KubeObject) =>
  o.kind === 'Job' ? { ...jobFailed(o), metadata: { ...o.metadata, annotations: { [RESULT]: JSON.stringify({ authenticated: false, error: { code, message }, checkedAt: '2026-01-01T00:04:00Z' }) } } } : o;

function validated(req: SyncRequest, transform: (o: KubeObject) => KubeObject = success, at = '2026-01-01T00:05:00Z'): { req: SyncRequest; res: SyncResponse } {
  const first = hooks.sync(req, env);
  const after = next(req, first, transform);
  return { req: after, res: hooks.sync(after, testEnv(at)) };
}

describe('GitHubProvider', () => {
  it('first sync: a ConfigMap and a validation Job in the parent namespace, duck fields, phase Installing', () => {
    const res = hooks.sync(syncRequest(gh()), env);
    expect(res.children.map((c) => `${c.kind}/${c.metadata.namespace}/${c.metadata.name}`)).toEqual([
      `ConfigMap/${NS}/${jobName(res)}`,
      `Job/${NS}/${jobName(res)}`,
      `Secret/${NS}/github-repository-credentials`,
    ]);
    expect(jobName(res)).toMatch(/^github-validate-[0-9a-f]{8}$/);
    expect(config(res)).toEqual({
      endpoint: 'https://api.github.com',
      organization: 'acme',
      authType: 'token',
      credentialsSecretRef: { namespace: NS, name: 'github-credentials', key: 'token' },
      teams: [{ name: 'developers', permission: 'push' }],
      result: { jobNamespace: NS, jobName: jobName(res) },
    });
    const job = byKind(res, 'Job')[0] as KubeObject & { spec: { template: { spec: { containers: Array<{ command: string[] }> } }; backoffLimit: number } };
    expect(job.spec.template.spec.containers[0].command).toEqual(['idpbuilder', 'job', 'github-validate', '--config', '/config/config.json']);
    expect(job.metadata.labels).toMatchObject({ 'idpbuilder.cnoe.io/githubprovider': 'github', 'idpbuilder.cnoe.io/role': 'validate' });
    expect(res.status).toMatchObject({
      endpoint: 'https://github.com/acme',
      internalEndpoint: 'https://api.github.com',
      credentialsSecretRef: { name: 'github-credentials', namespace: NS, key: 'token' },
      organization: 'acme',
      phase: 'Installing',
      observedGeneration: 1,
    });
    expect(res.status.authenticated).toBeUndefined();
    expect(condition(res)).toMatchObject({ status: 'False', reason: 'Validating', message: 'validation job created' });
    expect(condition(res, 'Progressing').status).toBe('True');
    expect(res.resyncAfterSeconds).toBe(400);
    // running
    const running = hooks.sync(next(syncRequest(gh()), res, jobRunning), env);
    expect(condition(running)).toMatchObject({ status: 'False', reason: 'Validating', message: 'validation job running' });
  });

  it('GitHub Enterprise: the web endpoint is the API host without /api/v3', () => {
    expect(githubWebBase('https://ghe.corp.example/api/v3')).toBe('https://ghe.corp.example');
    expect(githubWebBase('https://api.github.com/')).toBe('https://github.com');
    expect(githubWebBase('https://api.acme.ghe.com')).toBe('https://acme.ghe.com');
    const res = hooks.sync(syncRequest(gh({ endpoint: 'https://ghe.corp.example/api/v3/', credentialsSecretRef: { name: 'c', key: 'pat' } })), env);
    expect(res.status).toMatchObject({ endpoint: 'https://ghe.corp.example/acme', internalEndpoint: 'https://ghe.corp.example/api/v3', credentialsSecretRef: { name: 'c', namespace: NS, key: 'pat' } });
    expect(config(res).endpoint).toBe('https://ghe.corp.example/api/v3');
  });

  it('validation succeeded: Ready with authenticated and rateLimit; the same world answers byte-identically', () => {
    const { req, res } = validated(syncRequest(gh()));
    expect(res.status).toMatchObject({ phase: 'Ready', authenticated: true, organization: 'acme', rateLimit: { remaining: 4990, limit: 5000, resetAt: '2026-01-01T01:00:00Z' } });
    expect(condition(res)).toMatchObject({ status: 'True', reason: 'Authenticated', message: 'credentials valid for organization acme', lastTransitionTime: '2026-01-01T00:05:00Z' });
    expect(condition(res, 'Degraded')).toMatchObject({ status: 'False' });
    expect(condition(res, 'Progressing')).toMatchObject({ status: 'False' });
    expect(res.resyncAfterSeconds).toBe(300);
    const again = hooks.sync(next(req, res, success), testEnv('2026-01-01T00:05:00Z'));
    expect(JSON.stringify(again)).toBe(JSON.stringify(res));
  });

  it('validation failed: each error code maps to a reason, the API message is in the status', () => {
    const cases: Array<[string, string, string]> = [
      ['Unauthorized', 'AuthenticationFailed', 'GitHub: get organization acme failed with HTTP 401: Bad credentials'],
      ['Forbidden', 'Forbidden', 'GitHub: create team developers in acme failed with HTTP 403: You must be an organization owner'],
      ['NotFound', 'OrganizationNotFound', 'GitHub: get organization acme failed with HTTP 404: Not Found'],
      ['RateLimited', 'RateLimited', 'GitHub: get organization acme failed with HTTP 403: API rate limit exceeded (resets at 2026-01-01T01:00:00Z)'],
      ['Invalid', 'ValidationFailed', 'GitHub: create team developers in acme failed with HTTP 422: Validation Failed'],
      ['ServerError', 'ValidationFailed', 'GitHub: get rate limit failed with HTTP 500: Server Error'],
      ['Network', 'ValidationFailed', 'GitHub: get organization acme failed: cannot reach https://api.github.com (ENOTFOUND)'],
      ['SecretNotFound', 'SecretNotFound', `credentials Secret ${NS}/github-credentials not found`],
    ];
    for (const [code, reason, message] of cases) {
      expect(reasonFor(code, 'OrganizationNotFound')).toBe(reason);
      const { res } = validated(syncRequest(gh()), failure(code, message));
      expect(res.status.phase, code).toBe('Failed');
      expect(res.status.authenticated).toBe(false);
      expect(condition(res), code).toMatchObject({ status: 'False', reason, message });
      expect(condition(res, 'Degraded'), code).toMatchObject({ status: 'True', reason, message });
      expect(res.status.rateLimit).toBeUndefined();
      expect(byKind(res, 'Job')).toHaveLength(1); // the failed Job is kept until the next window
    }
  });

  it('a failed Job without a result annotation: ValidationFailed with the pod termination message', () => {
    const req = syncRequest(gh());
    const first = hooks.sync(req, env);
    const name = jobName(first);
    const pods = toMap([
      withStatus(
        { apiVersion: 'v1', kind: 'Pod', metadata: { name: `${name}-x1`, namespace: NS, labels: { 'batch.kubernetes.io/job-name': name } } },
        { containerStatuses: [{ state: { terminated: { exitCode: 1, message: 'error: cannot read config /config/config.json (ENOENT)' } } }] },
      ),
    ]);
    const res = hooks.sync(next(req, first, (o) => (o.kind === 'Job' ? jobFailed(o) : o), pods), env);
    expect(condition(res)).toMatchObject({
      reason: 'ValidationFailed',
      message: 'validation job failed: BackoffLimitExceeded: Job has reached the specified backoff limit; last error: error: cannot read config /config/config.json (ENOENT)',
    });
  });

  it('spec change: the new validation Job is created; the old (finished) Job and ConfigMap are kept until the new Job has finished, then dropped; not Ready until validated again', () => {
    const { req, res } = validated(syncRequest(gh()));
    const changed: SyncRequest = { ...next(req, res, success), parent: { ...gh({ organization: 'acme-two' }, { metadata: { generation: 2 } }), status: res.status } as KubeObject };
    const out = hooks.sync(changed, env);
    expect(jobName(out)).not.toBe(jobName(res));
    const keys = (r: SyncResponse) => r.children.map((c) => `${c.kind}/${c.metadata.name}`).sort();
    expect(keys(out)).toEqual([`ConfigMap/${jobName(out)}`, `ConfigMap/${jobName(res)}`, `Job/${jobName(out)}`, `Job/${jobName(res)}`, 'Secret/github-repository-credentials'].sort());
    const done = hooks.sync(next(changed, out, (o) => success(o, { organization: 'acme-two' })), env);
    expect(keys(done)).toEqual([`ConfigMap/${jobName(out)}`, `Job/${jobName(out)}`, 'Secret/github-repository-credentials']);
    expect(done.status).toMatchObject({ phase: 'Ready', organization: 'acme-two' });
    expect(out.status).toMatchObject({ phase: 'Installing', organization: 'acme-two', endpoint: 'https://github.com/acme-two', observedGeneration: 2 });
    expect(out.status.rateLimit).toBeUndefined();
    expect(condition(out)).toMatchObject({ status: 'False', reason: 'Validating' });
  });

  it('re-validation window: a new Job per window; a Ready provider stays Ready while it runs, a Failed one stays Failed', () => {
    const { req, res } = validated(syncRequest(gh()));
    // next window (10 minutes later): a new Job; the old (finished) one is kept until the new one has finished
    const later = testEnv('2026-01-01T00:10:01Z');
    const w2 = hooks.sync(next(req, res, success), later);
    expect(jobName(w2)).not.toBe(jobName(res));
    expect(byKind(w2, 'Job').map((j) => j.metadata.name).sort()).toEqual([jobName(w2), jobName(res)].sort());
    expect(w2.status).toMatchObject({ phase: 'Ready', authenticated: true, rateLimit: { remaining: 4990 } });
    expect(condition(w2)).toMatchObject({ status: 'True', reason: 'Authenticated', lastTransitionTime: '2026-01-01T00:05:00Z' });
    expect(condition(w2, 'Progressing')).toMatchObject({ status: 'True', reason: 'Validating' });
    expect(w2.resyncAfterSeconds).toBe(599);
    // the new check reports a fresh rate limit
    const w2done = hooks.sync(next(next(req, res, success), w2, (o) => success(o, { rateLimit: { remaining: 4000, limit: 5000, resetAt: '2026-01-01T01:10:00Z' } })), later);
    expect(w2done.status).toMatchObject({ phase: 'Ready', rateLimit: { remaining: 4000, resetAt: '2026-01-01T01:10:00Z' } });
    expect(byKind(w2done, 'Job').map((j) => j.metadata.name)).toEqual([jobName(w2)]);
    // the new check fails: Failed
    const w2fail = hooks.sync(next(next(req, res, success), w2, failure('Unauthorized', 'GitHub: get organization acme failed with HTTP 401: Bad credentials')), later);
    expect(w2fail.status.phase).toBe('Failed');
    expect(condition(w2fail)).toMatchObject({ status: 'False', reason: 'AuthenticationFailed' });
    // and in the window after, the failure stays visible while the Job runs
    const w3 = hooks.sync(next(next(next(req, res, success), w2, success), w2fail, (o) => o), testEnv('2026-01-01T00:20:00Z'));
    expect(w3.status.phase).toBe('Failed');
    expect(condition(w3)).toMatchObject({ status: 'False', reason: 'AuthenticationFailed', message: 'GitHub: get organization acme failed with HTTP 401: Bad credentials' });
    expect(condition(w3, 'Progressing')).toMatchObject({ status: 'True', reason: 'Validating' });
    // a custom interval
    expect(hooks.sync(syncRequest(gh({ validationInterval: '90s' })), env).resyncAfterSeconds).toBe(70);
  });

  it('a change of a Secret the Job reads re-runs the check at once', () => {
    const secret = (rv: string) => ({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'github-credentials', namespace: NS, resourceVersion: rv }, data: { token: Buffer.from('ghp_secret-value').toString('base64') } }) as KubeObject;
    const a = hooks.sync(syncRequest(gh(), {}, toMap([secret('1')])), env);
    const b = hooks.sync(syncRequest(gh(), {}, toMap([secret('2')])), env);
    expect(jobName(a)).not.toBe(jobName(b));
    for (const r of [a, b]) {
      // the value reaches only the repository credentials Secret (password), never status or another child
      const outside = JSON.stringify({ status: r.status, children: r.children.filter((c) => c.kind !== 'Secret') });
      expect(outside).not.toContain('ghp_secret-value');
      expect(outside).not.toContain(Buffer.from('ghp_secret-value').toString('base64'));
      expect(secretData(byKind(r, 'Secret')[0])).toEqual({ username: 'x-access-token', password: 'ghp_secret-value' });
    }
  });

  it('no validation Job before its credentials Secret exists: Pending SecretNotFound, observed children kept', () => {
    const res = hooks.sync(syncRequest(gh(), {}, {}), env);
    expect(byKind(res, 'Job')).toEqual([]);
    expect(res.status.phase).toBe('Pending');
    expect(condition(res)).toMatchObject({ status: 'False', reason: 'SecretNotFound', message: `waiting for Secret ${NS}/github-credentials: the validation Job starts once it exists` });
    // once validated, the Secret vanishing from the request starts no new Job in the next window and the old one is kept
    const { req } = validated(syncRequest(gh()));
    const gone = { ...req, related: {} };
    const later = hooks.sync(gone, testEnv('2026-01-01T00:25:00Z'));
    expect(condition(later)).toMatchObject({ reason: 'SecretNotFound' });
    expect(later.children.map((c) => `${c.kind}/${c.metadata.name}`).sort()).toEqual(Object.values(req.children!['Job.batch/v1']).concat(Object.values(req.children!['ConfigMap.v1']), Object.values(req.children!['Secret.v1'])).map((c) => `${c.kind}/${c.metadata.name}`).sort());
    // the repository credentials copy is kept unchanged while its source is not observed
    expect(byKind(later, 'Secret')[0].data).toEqual(Object.values(req.children!['Secret.v1'])[0].data);
    // the app's private key Secret likewise
    const app = hooks.sync(syncRequest(gh({ authType: 'app', credentialsSecretRef: undefined, appAuth: { appID: '1', privateKeySecretRef: { name: 'github-app' } } }), {}, {}), env);
    expect(byKind(app, 'Job')).toEqual([]);
    expect(condition(app)).toMatchObject({ reason: 'SecretNotFound', message: `waiting for Secret ${NS}/github-app: the validation Job starts once it exists` });
  });

  it('a Job that succeeded without a result annotation is ValidationFailed, not Authenticated', () => {
    const { res } = validated(syncRequest(gh()), (o) => (o.kind === 'Job' ? jobSucceeded(o) : o));
    expect(res.status.phase).toBe('Failed');
    expect(res.status.authenticated).toBe(false);
    expect(condition(res)).toMatchObject({ status: 'False', reason: 'ValidationFailed' });
    expect(condition(res).message).toMatch(/completed without a result \(annotation idpbuilder\.cnoe\.io\/result\)$/);
    // a result that does not say authenticated: true proves nothing either
    const { res: unproven } = validated(syncRequest(gh()), (o) => (o.kind === 'Job' ? jobSucceeded(o, { [RESULT]: JSON.stringify({ organization: 'acme' }) }) : o));
    expect(condition(unproven)).toMatchObject({ status: 'False', reason: 'ValidationFailed' });
  });

  it('GitHub App auth: the minted token Secret is the duck credentialsSecretRef; the window is at most 30m', () => {
    const res = hooks.sync(
      syncRequest(gh({ authType: 'app', credentialsSecretRef: undefined, appAuth: { appID: '12345', privateKeySecretRef: { name: 'github-app' } }, validationInterval: '2h' })),
      env,
    );
    expect(res.status.credentialsSecretRef).toEqual({ name: 'github-github-token', namespace: NS, key: 'token' });
    expect(config(res)).toMatchObject({
      authType: 'app',
      appAuth: { appID: '12345', privateKeySecretRef: { namespace: NS, name: 'github-app', key: 'private-key' } },
      tokenSecret: {
        namespace: NS,
        name: 'github-github-token',
        labels: { 'app.kubernetes.io/managed-by': 'idpbuilder', 'idpbuilder.cnoe.io/githubprovider': 'github', 'idpbuilder.cnoe.io/role': 'credentials' },
        ownerReference: { apiVersion: 'idpbuilder.cnoe.io/v1alpha2', kind: 'GitHubProvider', name: 'github', uid: 'uid-github' },
      },
    });
    expect(config(res).credentialsSecretRef).toBeUndefined();
    expect(res.resyncAfterSeconds).toBe(1600); // 30-minute windows, not 2h
    expect(hooks.customize!({ parent: gh({ authType: 'app', appAuth: { appID: '1', privateKeySecretRef: { name: 'k' } } }) }, env).relatedResources).toEqual([
      { apiVersion: 'v1', resource: 'pods', namespace: NS, labelSelector: { matchLabels: { 'idpbuilder.cnoe.io/owner-uid': 'uid-github' } } },
      { apiVersion: 'v1', resource: 'secrets', namespace: NS, names: ['k'] },
    ]);
  });

  it('a spec the schema could not catch: Pending InvalidSpec, observed children kept', () => {
    const req = syncRequest(gh());
    const first = hooks.sync(req, env);
    const bad = { ...next(req, first, success), parent: gh({ credentialsSecretRef: undefined }) };
    const res = hooks.sync(bad, env);
    expect(res.status.phase).toBe('Pending');
    expect(condition(res)).toMatchObject({ reason: 'InvalidSpec', message: 'authType token needs credentialsSecretRef' });
    expect(res.children.map((c) => c.metadata.name)).toEqual([jobName(first), jobName(first), 'github-repository-credentials']);
  });

  it('customize asks for the Job pods and the credentials Secret', () => {
    expect(hooks.customize!({ parent: gh() }, env).relatedResources).toEqual([
      { apiVersion: 'v1', resource: 'pods', namespace: NS, labelSelector: { matchLabels: { 'idpbuilder.cnoe.io/owner-uid': 'uid-github' } } },
      { apiVersion: 'v1', resource: 'secrets', namespace: NS, names: ['github-credentials'] },
    ]);
  });

  it('finalize: nothing to tear down, finalized at once with either deletionPolicy', () => {
    for (const [policy, reason] of [
      [undefined, 'NothingInstalled'],
      ['Delete', 'NothingInstalled'],
      ['Retain', 'Retained'],
    ] as const) {
      const { req, res } = validated(syncRequest(gh(policy ? { deletionPolicy: policy } : {})));
      const f = hooks.finalize!({ ...next(req, res, success), finalizing: true }, env);
      expect(f.finalized).toBe(true);
      // nothing new to run; what was observed goes with the parent
      expect(byKind(f, 'Job').map((j) => j.metadata.name)).toEqual([jobName(res)]);
      expect(f.status).toMatchObject({ phase: 'Deleting', endpoint: 'https://github.com/acme', authenticated: true });
      expect(condition(f)).toMatchObject({ status: 'False', reason, message: 'nothing was installed; the organization, its teams and repositories are left as they are' });
    }
    // a validation Job still running is never cut short: not finalized until it has finished
    const req = syncRequest(gh());
    const f = hooks.finalize!({ ...next(req, hooks.sync(req, env), jobRunning), finalizing: true }, env);
    expect(f.finalized).toBe(false);
    expect(byKind(f, 'Job')).toHaveLength(1);
  });

  it('every status conforms to the GitHubProvider status schema (no unknown fields)', () => {
    const check = newAjv().compile(GitHubProviderStatus);
    const statuses = [
      hooks.sync(syncRequest(gh()), env).status,
      validated(syncRequest(gh())).res.status,
      validated(syncRequest(gh()), failure('NotFound', 'x')).res.status,
      hooks.sync(syncRequest(gh({ credentialsSecretRef: undefined })), env).status,
      hooks.finalize!({ ...syncRequest(gh()), finalizing: true }, env).status,
    ];
    for (const s of statuses) expect(check(s), JSON.stringify(check.errors)).toBe(true);
  });
});
