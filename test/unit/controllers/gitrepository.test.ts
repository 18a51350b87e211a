import { describe, expect, it } from 'vitest';
import { gitRepositoryHooks as hooks, RESULT_ANNOTATION } from '../../../src/controllers/gitrepository.js';
import { canonicalJSON } from '../../../src/kit/canonical.js';
import type { KubeObject, ObjectMap, SyncRequest } from '../../../src/metacontroller/protocol.js';
import { parent, syncRequest, testEnv } from '../../support/requests.js';
import { byKind, condition, jobFailed, jobRunning, jobSucceeded, next, toMap, withStatus } from '../../support/world.js';
import { cmData, expectValidChildren, giteaDuck, names, NS, provider, secretData, statusText } from '../../support/providers.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');

const env = testEnv();
const SERVER_REF = { kind: 'GiteaProvider', name: 'gitea' };
const repo = (spec: Record<string, unknown> = {}, extra = {}) => parent('GitRepository', 'my-app', { gitServerRef: SERVER_REF, sources: [{ type: 'Embedded', path: 'argocd' }], ...spec }, extra);
const gitea = (opts: { ready?: boolean } = {}): ObjectMap => toMap([provider('GiteaProvider', 'gitea', giteaDuck(), opts)]);
const RESULT = { commitSHA: '0123456789abcdef0123456789abcdef01234567', syncedAt: '2026-01-01T00:00:30Z', url: 'https://gitea.cnoe.localtest.me/idpbuilder/my-app.git', cloneURL: 'http://gitea-http.gitea.svc.cluster.local:3000/idpbuilder/my-app.git' };
const synced = (o: KubeObject) => (o.kind === 'Job' ? jobSucceeded(o, { [RESULT_ANNOTATION]: JSON.stringify(RESULT) }) : o);
const keys = (res: { children: KubeObject[] }) => res.children.map((c) => `${c.kind}/${c.metadata.name}`);

function readyRepo(spec: Record<string, unknown> = {}) {
  const req = syncRequest(repo(spec), {}, gitea());
  const first = hooks.sync(req, testEnv());
  const req2 = next(req, first, synced);
  return { req: req2, res: hooks.sync(req2, testEnv()), first };
}

describe('GitRepository', () => {
  it('first sync: a config ConfigMap and a repo-sync Job; URLs from the git provider duck status', () => {
    const res = hooks.sync(syncRequest(repo(), {}, gitea()), env);
    expect(keys(res)).toEqual([expect.stringMatching(/^ConfigMap\/my-app-sync-[0-9a-f]{8}$/), expect.stringMatching(/^Job\/my-app-sync-[0-9a-f]{8}$/)]);
    expectValidChildren(res);
    const [cm] = byKind(res, 'ConfigMap');
    const [job] = byKind(res, 'Job');
    const pod = (job.spec as any).template.spec;
    expect(pod.containers[0].command).toEqual(['idpbuilder', 'job', 'repo-sync', '--config', '/config/config.json']);
    expect(pod.volumes[0]).toEqual({ name: 'config', configMap: { name: cm.metadata.name } });
    expect(job.metadata.labels).toEqual({ 'app.kubernetes.io/managed-by': 'idpbuilder', 'idpbuilder.cnoe.io/gitrepository': 'my-app', 'idpbuilder.cnoe.io/role': 'repo-sync' });
    expect(JSON.parse(cmData(cm)['config.json'])).toEqual({
      flavor: 'gitea',
      apiEndpoint: 'http://gitea-http.gitea.svc.cluster.local:3000',
      credentialsSecretRef: { name: 'gitea-gitea-token', namespace: NS, key: 'token' },
      organization: 'idpbuilder',
      // privacy and auto-init are left to the git provider's defaults unless the repository sets them
      repository: { name: 'my-app', description: '', defaultBranch: 'main' },
      sources: [{ type: 'Embedded', path: 'argocd' }],
      embeddedRoot: '/opt/idpbuilder/embedded',
      commitAuthor: { name: 'git-reconciler', email: 'git-reconciler@idpbuilder.cnoe.io' },
      writer: `${NS}/my-app`,
    });
    expect(res.status).toMatchObject({
      phase: 'Syncing',
      url: 'https://gitea.cnoe.localtest.me/idpbuilder/my-app.git',
      cloneURL: 'http://gitea-http.gitea.svc.cluster.local:3000/idpbuilder/my-app.git',
      observedGeneration: 1,
    });
    expect(condition(res)).toMatchObject({ status: 'False', reason: 'Syncing', message: 'sync job created' });
    expect(condition(res, 'Progressing').status).toBe('True');
    expect(condition(res, 'Degraded')).toMatchObject({ status: 'False', reason: 'AsExpected', message: '' });
    // 2026-01-01T00:00:00Z is on a 5m boundary: the next periodic sync is a whole interval away
    expect(res.resyncAfterSeconds).toBe(300);
  });

  it('spec fields go to the config: repository name, organization, privacy, branch', () => {
    const res = hooks.sync(
      syncRequest(repo({ name: 'Platform.Config', organization: 'team-a', private: true, autoInit: true, defaultBranch: 'trunk', description: 'platform config', sync: { autoSync: false } }), {}, gitea()),
      env,
    );
    const config = JSON.parse(cmData(byKind(res, 'ConfigMap')[0])['config.json']);
    expect(config.organization).toBe('team-a');
    expect(config.repository).toEqual({ name: 'Platform.Config', description: 'platform config', private: true, autoInit: true, defaultBranch: 'trunk' });
    expect(res.status.cloneURL).toBe('http://gitea-http.gitea.svc.cluster.local:3000/team-a/Platform.Config.git');
    expect(res.resyncAfterSeconds).toBeUndefined();
    expectValidChildren(res);
  });

  it('sync succeeded: Ready=True (Synced) with the commit, time and URLs the Job wrote', () => {
    const { res, first } = readyRepo();
    expect(res.status).toMatchObject({
      phase: 'Ready',
      commitSHA: RESULT.commitSHA,
      lastSyncTime: '2026-01-01T00:00:30Z',
      url: RESULT.url,
      cloneURL: RESULT.cloneURL,
    });
    expect(condition(res)).toMatchObject({ status: 'True', reason: 'Synced', message: 'repository idpbuilder/my-app synced at 0123456789ab' });
    expect(condition(res, 'Progressing')).toMatchObject({ status: 'False', reason: 'Synced' });
    expect(condition(res, 'Degraded')).toMatchObject({ status: 'False', reason: 'AsExpected' });
    expect(keys(res)).toEqual(keys(first));
  });

  it('sync running: still Syncing', () => {
    const req = syncRequest(repo(), {}, gitea());
    const res = hooks.sync(next(req, hooks.sync(req, testEnv()), (o) => (o.kind === 'Job' ? jobRunning(o) : o)), testEnv());
    expect(res.status.phase).toBe('Syncing');
    expect(condition(res)).toMatchObject({ status: 'False', reason: 'Syncing', message: 'sync job running' });
  });

  it('sync failed: phase Failed, Ready=False with the Job message and the pod termination message', () => {
    const req = syncRequest(repo(), {}, gitea());
    const first = hooks.sync(req, testEnv());
    const jobName = names(first, 'Job')[0];
    const pod = withStatus(
      { apiVersion: 'v1', kind: 'Pod', metadata: { name: `${jobName}-x1`, namespace: NS, labels: { 'batch.kubernetes.io/job-name': jobName } } } as KubeObject,
      { containerStatuses: [{ state: { terminated: { exitCode: 1, message: 'push rejected: 403 Forbidden' } } }] },
    );
    const related = { ...gitea(), ...toMap([pod]) };
    const res = hooks.sync(next(req, first, (o) => (o.kind === 'Job' ? jobFailed(o) : o), related), testEnv());
    expect(res.status.phase).toBe('Failed');
    expect(condition(res)).toMatchObject({
      status: 'False',
      reason: 'SyncFailed',
      message: 'sync job failed: BackoffLimitExceeded: Job has reached the specified backoff limit; last error: push rejected: 403 Forbidden',
    });
    // a failure: all three conditions say it, with one reason and message
    const failure = { reason: 'SyncFailed', message: condition(res).message };
    expect(condition(res, 'Progressing')).toMatchObject({ status: 'False', ...failure });
    expect(condition(res, 'Degraded')).toMatchObject({ status: 'True', ...failure });
    expect(names(res, 'Job')).toEqual([jobName]);
    // the next round's Job runs: Degraded=False again (a new attempt, not a failure)
    const retry = hooks.sync(next(req, first, (o) => (o.kind === 'Job' ? jobFailed(o) : o), related), testEnv('2026-01-01T00:05:00Z'));
    expect(retry.status.phase).toBe('Syncing');
    expect(condition(retry, 'Degraded')).toMatchObject({ status: 'False', reason: 'AsExpected' });
  });

  it('spec change: the new sync Job is created; the old (finished) Job and ConfigMap are kept until the new Job has finished, then dropped', () => {
    const { req, res: before } = readyRepo();
    const cur = next(req, before, synced);
    const changed: SyncRequest = { ...cur, parent: { ...repo({ sources: [{ type: 'Embedded', path: 'gitea' }] }, { metadata: { generation: 2 } }), status: before.status } as KubeObject };
    const res = hooks.sync(changed, testEnv());
    const fresh = keys(res).filter((k) => !keys(before).includes(k));
    expect(fresh.map((k) => k.split('/')[0]).sort()).toEqual(['ConfigMap', 'Job']);
    expect(keys(res).sort()).toEqual([...keys(before), ...fresh].sort());
    const freshCm = byKind(res, 'ConfigMap').find((c) => fresh.includes(`ConfigMap/${c.metadata.name}`))!;
    expect(JSON.parse(cmData(freshCm)['config.json']).sources).toEqual([{ type: 'Embedded', path: 'gitea' }]);
    const done = hooks.sync(next(changed, res, synced), testEnv());
    expect(keys(done).sort()).toEqual(fresh.sort());
    expect(done.status.phase).toBe('Ready');
    // a new generation is not Ready until its own sync finished; the known URLs and commit are carried over
    expect(res.status).toMatchObject({ phase: 'Syncing', commitSHA: RESULT.commitSHA, cloneURL: RESULT.cloneURL, observedGeneration: 2 });
    expect(condition(res)).toMatchObject({ status: 'False', reason: 'Syncing' });
  });

  it('periodic resync: a new Job each interval, the repository stays Ready, lastTransitionTime kept', () => {
    const { req, res } = readyRepo();
    const later = next(req, res, synced);
    const mid = hooks.sync(later, testEnv('2026-01-01T00:02:00Z'));
    // same content (key order of status may differ from the first Ready answer: Metacontroller compares decoded objects)
    expect(canonicalJSON({ ...mid, resyncAfterSeconds: 0 })).toBe(canonicalJSON({ ...res, resyncAfterSeconds: 0 }));
    expect(JSON.stringify(hooks.sync(later, testEnv('2026-01-01T00:04:00Z')).status)).toBe(JSON.stringify(mid.status));
    expect(mid.resyncAfterSeconds).toBe(180);
    const round2 = hooks.sync(later, testEnv('2026-01-01T00:05:00Z'));
    // a new Job for the new interval; the finished one of the last interval is kept until the new one has finished
    const fresh = names(round2, 'Job').filter((n) => n !== names(res, 'Job')[0]);
    expect(fresh).toHaveLength(1);
    expect(names(round2, 'Job').sort()).toEqual([names(res, 'Job')[0], fresh[0]].sort());
    expect(names(round2, 'ConfigMap')).toEqual(names(res, 'ConfigMap'));
    const round2done = hooks.sync(next(later, round2, synced), testEnv('2026-01-01T00:06:00Z'));
    expect(names(round2done, 'Job')).toEqual(fresh);
    expect(names(round2done, 'ConfigMap')).toEqual(names(res, 'ConfigMap'));
    expect(round2.status.phase).toBe('Ready');
    expect(condition(round2)).toMatchObject({ status: 'True', reason: 'Synced', lastTransitionTime: '2026-01-01T00:00:00Z' });
    expect(round2.status.commitSHA).toBe(RESULT.commitSHA);
  });

  it('gitServerRef to a missing provider: ProviderNotFound, the observed ConfigMap and Job kept', () => {
    const { req, res } = readyRepo();
    const gone = hooks.sync({ ...next(req, res, synced), related: {} }, testEnv());
    expect(gone.status.phase).toBe('Pending');
    expect(condition(gone)).toMatchObject({ status: 'False', reason: 'ProviderNotFound', message: `git server GiteaProvider ${NS}/gitea not found` });
    expect(keys(gone)).toEqual(keys(res));
    // kept as desired objects: no status of their own
    for (const c of gone.children) expect(c).not.toHaveProperty('status');
    // the repository's known URLs stay in status
    expect(gone.status).toMatchObject({ url: RESULT.url, cloneURL: RESULT.cloneURL, commitSHA: RESULT.commitSHA });
  });

  it('provider missing from the start: ProviderNotFound and no children', () => {
    const res = hooks.sync(syncRequest(repo()), env);
    expect(res.children).toEqual([]);
    expect(condition(res)).toMatchObject({ status: 'False', reason: 'ProviderNotFound' });
    expect(condition(res, 'Degraded')).toMatchObject({ status: 'False', reason: 'AsExpected' });
  });

  it('a provider that is not Ready: WaitingForGitServer with its message, no Job', () => {
    const res = hooks.sync(syncRequest(repo(), {}, gitea({ ready: false })), env);
    expect(res.children).toEqual([]);
    expect(res.status.phase).toBe('Pending');
    expect(condition(res)).toMatchObject({ status: 'False', reason: 'WaitingForGitServer', message: `waiting for git server GiteaProvider ${NS}/gitea: install job running` });
    // a wait, not a fault
    expect(condition(res, 'Progressing')).toMatchObject({ status: 'False', reason: 'WaitingForGitServer' });
    expect(condition(res, 'Degraded')).toMatchObject({ status: 'False', reason: 'AsExpected' });
  });

  it('a Ready provider without credentialsSecretRef: GitServerIncomplete', () => {
    const related = toMap([provider('GiteaProvider', 'gitea', { endpoint: 'https://gitea.cnoe.localtest.me' })]);
    const res = hooks.sync(syncRequest(repo(), {}, related), env);
    expect(condition(res)).toMatchObject({ status: 'False', reason: 'GitServerIncomplete' });
  });

  it('no credential value in status: only the provider reference goes into the config', () => {
    const { res } = readyRepo();
    expect(statusText(res)).not.toContain('gitea-gitea-token');
    expect(JSON.parse(cmData(byKind(res, 'ConfigMap')[0])['config.json']).credentialsSecretRef).toEqual({ name: 'gitea-gitea-token', namespace: NS, key: 'token' });
  });

  it('determinism: same request, byte-identical answer', () => {
    const req = syncRequest(repo(), {}, gitea());
    expect(JSON.stringify(hooks.sync(req, testEnv()))).toBe(JSON.stringify(hooks.sync(req, testEnv('2026-01-01T00:00:00Z', 'other'))));
    const { req: r, res } = readyRepo();
    const steady = next(r, res, synced);
    const a = hooks.sync(steady, testEnv());
    expect(JSON.stringify(hooks.sync(steady, testEnv('2026-01-01T00:00:00Z', 'other')))).toBe(JSON.stringify(a));
    expect(canonicalJSON(a)).toBe(canonicalJSON(res));
    // the answer fed back once more is byte-identical (no hot loop)
    expect(JSON.stringify(hooks.sync(next(steady, a, synced), testEnv()))).toBe(JSON.stringify(a));
  });

  it('a long repository object name gives DNS-1123 names of at most 63 characters', () => {
    const p = parent('GitRepository', 'the-platform-configuration-repository-of-the-team-in-emea-x', { gitServerRef: SERVER_REF });
    const res = hooks.sync(syncRequest(p, {}, gitea()), env);
    expect(res.children).toHaveLength(2);
    expectValidChildren(res);
  });

  it('customize: Job pods and the git server', () => {
    const res = hooks.customize!({ parent: repo({ gitServerRef: { kind: 'GiteaProvider', name: 'gitea', namespace: 'git' } }) }, env);
    expect(res.relatedResources).toEqual([
      { apiVersion: 'v1', resource: 'pods', namespace: NS, labelSelector: { matchLabels: { 'idpbuilder.cnoe.io/owner-uid': 'uid-my-app' } } },
      { apiVersion: 'idpbuilder.cnoe.io/v1alpha2', resource: 'giteaproviders', namespace: 'git', names: ['gitea'] },
      { apiVersion: 'idpbuilder.cnoe.io/v1alpha2', resource: 'referencegrants', namespace: 'git' },
      { apiVersion: 'v1', resource: 'secrets', namespace: 'git', labelSelector: { matchLabels: { 'idpbuilder.cnoe.io/role': 'repository-credentials' } } },
    ]);
  });

  it('repository credentials: a copy of the server\'s (duck repositoryCredentialsSecretRef) as <name>-gitrepository-credentials; kept while its source is not observed', () => {
    const gitlab = provider('GitLabProvider', 'gitlab', {
      endpoint: 'https://gitlab.example.com/platform',
      internalEndpoint: 'https://gitlab.example.com/api/v4',
      group: 'platform',
      credentialsSecretRef: { name: 'gitlab-token', namespace: NS, key: 'token' },
      repositoryCredentialsSecretRef: { name: 'gitlab-repository-credentials', namespace: NS },
    });
    const source = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'gitlab-repository-credentials', namespace: NS }, data: { username: b64('oauth2'), password: b64('stand-in-token'), 'ca.crt': b64('-----BEGIN CERTIFICATE-----\nstand-in\n-----END CERTIFICATE-----\n'), other: b64('x') } } as KubeObject;
    const req = syncRequest(repo({ gitServerRef: { kind: 'GitLabProvider', name: 'gitlab' } }), {}, toMap([gitlab, source]));
    const res = hooks.sync(req, env);
    const copy = byKind(res, 'Secret');
    expect(copy.map((c) => c.metadata.name)).toEqual(['my-app-gitrepository-credentials']);
    expect(copy[0].metadata.labels).toEqual({ 'app.kubernetes.io/managed-by': 'idpbuilder', 'idpbuilder.cnoe.io/gitrepository': 'my-app', 'idpbuilder.cnoe.io/role': 'repository-credentials' });
    expect(secretData(copy[0])).toEqual({ username: 'oauth2', password: 'stand-in-token', 'ca.crt': '-----BEGIN CERTIFICATE-----\nstand-in\n-----END CERTIFICATE-----\n' });
    expect(JSON.stringify(res.status)).not.toContain('stand-in-token');
    // the source not observed for a sync: the copy is not answered anew, the contract keeps the observed one unchanged
    const lagging = hooks.sync({ ...next(req, res), related: toMap([gitlab]) }, env);
    expect(byKind(lagging, 'Secret')).toEqual(copy);
    // a server without repository credentials (public repositories): no copy
    const { repositoryCredentialsSecretRef: _r, ...publicDuck } = gitlab.status as Record<string, unknown>;
    expect(byKind(hooks.sync(syncRequest(repo({ gitServerRef: { kind: 'GitLabProvider', name: 'gitlab' } }), {}, toMap([{ ...gitlab, status: publicDuck } as KubeObject, source])), env), 'Secret')).toEqual([]);
  });

  it("passes the git provider's repository defaults (and GitHub teams) to the sync, and its default branch", () => {
    const server = {
      apiVersion: 'idpbuilder.cnoe.io/v1alpha2',
      kind: 'GitHubProvider',
      metadata: { name: 'gh', namespace: NS },
      spec: { organization: 'acme', repositoryDefaults: { visibility: 'internal', defaultBranch: 'trunk' }, teams: [{ name: 'platform', permission: 'admin' }] },
      status: {
        conditions: [{ type: 'Ready', status: 'True', reason: 'Authenticated', message: '' }],
        endpoint: 'https://github.com/acme',
        internalEndpoint: 'https://api.github.com',
        credentialsSecretRef: { name: 'gh-token', namespace: NS, key: 'token' },
        organization: 'acme',
      },
    } as KubeObject;
    const res = hooks.sync(syncRequest(repo({ gitServerRef: { kind: 'GitHubProvider', name: 'gh' } }), {}, toMap([server])), env);
    const config = JSON.parse(cmData(byKind(res, 'ConfigMap')[0])['config.json']);
    expect(config).toMatchObject({
      flavor: 'github',
      apiEndpoint: 'https://api.github.com',
      organization: 'acme',
      repository: { defaultBranch: 'trunk' },
      repositoryDefaults: { visibility: 'internal', defaultBranch: 'trunk' },
      teams: [{ name: 'platform', permission: 'admin' }],
    });
    // an external server is cloned through its public URL
    expect(res.status.cloneURL).toBe('https://github.com/acme/my-app.git');
  });
});
