/**
 * The examples of issue 10 (docs/decisions.md, "Retention, Jobs and retries"), each a test named after it:
 * what the controllers answer when the cache lags, a Job still runs, an install fails, or a Secret the user
 * named is incomplete. Every answer is the one Metacontroller receives (the hooks are wrapped by
 * src/kit/contract.ts).
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { compareSync } from 'bcryptjs';
import { buildApp } from '../../src/server/app.js';
import { controllers } from '../../src/controllers/registry.js';
import { secretDigest } from '../../src/kit/helm.js';
import { giteaProviderHooks as gitea } from '../../src/controllers/giteaprovider.js';
import { nginxGatewayHooks as nginx } from '../../src/controllers/nginxgateway.js';
import { gitRepositoryHooks as gitrepo } from '../../src/controllers/gitrepository.js';
import { platformHooks as platform } from '../../src/controllers/platform.js';
import { enforce, jobFinished } from '../../src/kit/contract.js';
import { retryDelaySeconds } from '../../src/kit/provider.js';
import type { KubeObject, ObjectMap, SyncRequest, SyncResponse } from '../../src/metacontroller/protocol.js';
import { defaultPlatform, recordRequests, type RecordedRequest } from '../../bench/requests.js';
import { parent, syncRequest, testEnv } from '../support/requests.js';
import { byKind, condition, jobFailed, jobRunning, jobSucceeded, next, toMap, withStatus } from '../support/world.js';
import { cmData, giteaDuck, NS, provider, secretData, userSecret } from '../support/providers.js';

const env = testEnv();
const keys = (res: { children: KubeObject[] }) => res.children.map((c) => `${c.kind}/${c.metadata.name}`);
const jobNames = (res: SyncResponse) => byKind(res, 'Job').map((j) => j.metadata.name);
const role = (r: string) => (o: KubeObject) => o.kind === 'Job' && o.metadata.labels?.['idpbuilder.cnoe.io/role'] === r;
const succeed = (o: KubeObject) => (o.kind === 'Job' ? jobSucceeded(o) : o);
const installation = (res: SyncResponse) => res.status.installation as { configMap: string; job: string; retries?: number; nextRetryTime?: string };

/** A Job that failed at `at` (the Failed condition's transition time, as the Job controller writes it). */
const failedAt = (at: string, message = 'Job has reached the specified backoff limit') => (job: KubeObject) =>
  withStatus(job, { failed: 3, startTime: '2026-01-01T00:00:00Z', conditions: [{ type: 'Failed', status: 'True', reason: 'BackoffLimitExceeded', message, lastTransitionTime: at }] });

/** Removes one observed object (kind, name) from a map of observed objects. */
function without(map: ObjectMap | undefined, kind: string, name: string): ObjectMap {
  const out: ObjectMap = {};
  for (const [g, byKey] of Object.entries(map ?? {})) {
    out[g] = Object.fromEntries(Object.entries(byKey).filter(([, o]) => !(o.kind === kind && o.metadata.name === name)));
  }
  return out;
}

describe('issue 10 examples', () => {
  let recorded: RecordedRequest[];
  beforeAll(() => {
    recorded = recordRequests(defaultPlatform());
  });
  const steady = (id: string) => structuredClone(recorded.find((r) => r.id === id)!.body) as SyncRequest;

  it('a. a Ready GiteaProvider whose values ConfigMap is absent from related for one sync: bootstrap objects kept, the Platform Progressing/Bootstrapping naming the ConfigMap', () => {
    const req = steady('Platform/idpbuilder-system/localdev');
    // the steady state: Ready, with the bootstrap repository and Package of Gitea
    const before = platform.sync(req, env);
    expect(condition(before)).toMatchObject({ status: 'True', reason: 'AllComponentsReady' });
    expect(keys(before)).toEqual(expect.arrayContaining(['GitRepository/localdev-gitea', 'Package/localdev-gitea']));
    const giteaProvider = Object.values(req.related!['GiteaProvider.idpbuilder.cnoe.io/v1alpha2'])[0];
    const cmName = (giteaProvider.status as { installation: { configMap: string } }).installation.configMap;
    expect(condition({ status: giteaProvider.status } as SyncResponse).status).toBe('True');

    const lagging = { ...req, related: without(req.related, 'ConfigMap', cmName) };
    const res = platform.sync(lagging, env);
    // kept as observed
    const observed = (kind: string, name: string) => req.children![`${kind}.idpbuilder.cnoe.io/v1alpha2`][`${NS}/${name}`];
    for (const kind of ['GitRepository', 'Package']) {
      const kept = res.children.find((c) => c.kind === kind && c.metadata.name === 'localdev-gitea');
      expect(kept, kind).toBeDefined();
      expect(kept!.spec).toEqual(observed(kind, 'localdev-gitea').spec);
    }
    // every other bootstrap object is kept too: nothing observed is left out
    expect(keys(res).sort()).toEqual(keys(before).sort());
    expect(res.status.phase).toBe('Progressing');
    expect(condition(res)).toMatchObject({ status: 'False', reason: 'Bootstrapping' });
    expect(condition(res, 'Progressing')).toMatchObject({ status: 'True', reason: 'Bootstrapping' });
    expect(condition(res).message).toContain(`ConfigMap ${NS}/${cmName}`);
    // once the ConfigMap is observed again: Ready, the same children
    const back = platform.sync(req, env);
    expect(condition(back)).toMatchObject({ status: 'True', reason: 'AllComponentsReady' });
  });

  it('b. NginxGateway spec.config.controller.replicaCount changed while the install Job runs: the running Job kept, the new one withheld (WaitingForRunningJob) until it finished; the old Job and ConfigMap go once the new Job finished', () => {
    const gw = (replicaCount?: number) => parent('NginxGateway', 'nginx', { namespace: 'ingress-nginx', ...(replicaCount ? { config: { controller: { replicaCount } } } : {}) });
    const req = syncRequest(gw());
    const first = nginx.sync(req, env);
    const [oldJob] = jobNames(first);
    const running = next(req, first, jobRunning);
    const changed: SyncRequest = { ...running, parent: { ...gw(3), metadata: { ...gw(3).metadata, generation: 2 }, status: running.parent.status } as KubeObject };

    const waiting = nginx.sync(changed, env);
    const newJob = installation(waiting).job;
    expect(newJob).not.toBe(oldJob);
    // the running Job and its ConfigMap stay; the new Job is withheld (its values ConfigMap is created already)
    expect(keys(waiting).sort()).toEqual([`ConfigMap/${newJob}`, `ConfigMap/${oldJob}`, `Job/${oldJob}`].sort());
    expect(condition(waiting)).toMatchObject({ status: 'False', reason: 'WaitingForRunningJob' });
    expect(condition(waiting).message).toContain(oldJob);
    expect(condition(waiting).message).toContain(newJob);

    // the old Job observed finished: the new Job appears, the old one is kept until the new one finished
    const oldDone = next(changed, waiting, (o) => (o.kind === 'Job' && o.metadata.name === oldJob ? jobSucceeded(o) : o));
    const started = nginx.sync(oldDone, env);
    expect(jobNames(started).sort()).toEqual([oldJob, newJob].sort());
    expect(condition(started, 'Progressing')).toMatchObject({ status: 'True', reason: 'Upgrading' });

    // the new Job finished: the old Job and ConfigMap are gone
    const done = nginx.sync(next(oldDone, started, succeed), env);
    expect(keys(done).sort()).toEqual([`ConfigMap/${newJob}`, `Job/${newJob}`]);
    expect(done.status.phase).toBe('Ready');
  });

  describe('d. a completed Gitea bootstrap Job is kept whatever the install Job is observed as', () => {
    const ready = () => {
      const req = syncRequest(parent('GiteaProvider', 'gitea', {}));
      const r1 = gitea.sync(req, env);
      const req2 = next(req, r1, succeed);
      const r2 = gitea.sync(req2, env);
      const req3 = next(req2, r2, succeed);
      const r3 = gitea.sync(req3, env);
      expect(r3.status.phase).toBe('Ready');
      return { req: next(req3, r3, succeed), res: r3 };
    };
    const cases: [string, (req: SyncRequest, install: KubeObject) => SyncRequest][] = [
      ['without status', (req, install) => ({ ...req, children: toMap([...Object.values(req.children!).flatMap((g) => Object.values(g)).filter((o) => o !== install), { ...install, status: undefined } as KubeObject]) })],
      ['running', (req, install) => ({ ...req, children: toMap([...Object.values(req.children!).flatMap((g) => Object.values(g)).filter((o) => o !== install), jobRunning(install)]) })],
      ['failed', (req, install) => ({ ...req, children: toMap([...Object.values(req.children!).flatMap((g) => Object.values(g)).filter((o) => o !== install), jobFailed(install)]) })],
      ['missing', (req, install) => ({ ...req, children: without(req.children, 'Job', install.metadata.name) })],
    ];
    for (const [what, observe] of cases) {
      it(`install Job observed ${what}: the bootstrap Job and its ConfigMap are returned`, () => {
        const { req, res } = ready();
        const install = Object.values(req.children!['Job.batch/v1']).find(role('install'))!;
        const bootstrap = res.children.find(role('bootstrap'))!.metadata.name;
        const out = gitea.sync(observe(req, install), env);
        expect(keys(out)).toEqual(expect.arrayContaining([`Job/${bootstrap}`, `ConfigMap/${bootstrap}`, `Job/${install.metadata.name}`, `ConfigMap/${install.metadata.name}`, 'Secret/gitea-gitea-admin']));
      });
    }
  });

  describe('g. a failed install is retried with backoff', () => {
    const gw = () => parent('NginxGateway', 'nginx', { namespace: 'ingress-nginx' });
    const FAILED = '2026-01-01T00:10:00Z';
    const failed = () => {
      const req = syncRequest(gw());
      const first = nginx.sync(req, env);
      return { req: next(req, first, failedAt(FAILED)), first };
    };

    it('before failedAt + 30 s: the same Job, retries 0, nextRetryTime set, a resync when it is due', () => {
      const { req, first } = failed();
      const res = nginx.sync(req, testEnv('2026-01-01T00:10:10Z'));
      expect(jobNames(res)).toEqual(jobNames(first));
      expect(installation(res)).toMatchObject({ job: jobNames(first)[0], retries: 0, nextRetryTime: '2026-01-01T00:10:30Z' });
      expect(res.resyncAfterSeconds).toBe(20);
      expect(condition(res)).toMatchObject({ status: 'False', reason: 'InstallFailed' });
      expect(condition(res).message).toMatch(/\(attempt 1; retry at 2026-01-01T00:10:30Z\)$/);
    });

    it('at failedAt + 30 s: a new Job <name>-retry1-…, the failed Job kept until the retry finished; a second failure waits 60 s', () => {
      const { req, first } = failed();
      const [failedJob] = jobNames(first);
      const res = nginx.sync(req, testEnv('2026-01-01T00:10:30Z'));
      const retry = installation(res).job;
      expect(retry).toMatch(/^nginx-install-retry1-[0-9a-f]{8}$/);
      expect(jobNames(res).sort()).toEqual([failedJob, retry].sort());
      // the same values ConfigMap
      expect(byKind(res, 'ConfigMap').map((c) => c.metadata.name)).toEqual([failedJob]);
      expect(installation(res)).toMatchObject({ configMap: failedJob, retries: 1 });
      expect(installation(res).nextRetryTime).toBeUndefined();
      expect(condition(res)).toMatchObject({ reason: 'Installing' });
      expect(condition(res).message).toContain('retry 1 after');

      // the retry runs: the failed Job is still kept
      const runningReq = next(req, res, jobRunning);
      const stillRunning = nginx.sync(runningReq, testEnv('2026-01-01T00:11:00Z'));
      expect(jobNames(stillRunning).sort()).toEqual([failedJob, retry].sort());

      // the retry succeeds: the failed Job goes
      const ok = nginx.sync(next(runningReq, stillRunning, succeed), testEnv('2026-01-01T00:12:00Z'));
      expect(jobNames(ok)).toEqual([retry]);
      expect(ok.status.phase).toBe('Ready');

      // the retry fails as well: the next attempt waits 60 s; the first failed Job is superseded by the
      // finished retry (its attempt number lives on in the retry's annotation)
      expect(retryDelaySeconds(1)).toBe(60);
      const failedAgain = next(runningReq, stillRunning, failedAt('2026-01-01T00:12:00Z'));
      const wait2 = nginx.sync(failedAgain, testEnv('2026-01-01T00:12:59Z'));
      expect(jobNames(wait2)).toEqual([retry]);
      expect(installation(wait2)).toMatchObject({ job: retry, retries: 1, nextRetryTime: '2026-01-01T00:13:00Z' });
      expect(wait2.resyncAfterSeconds).toBe(1);
      const retry2 = nginx.sync(failedAgain, testEnv('2026-01-01T00:13:00Z'));
      expect(installation(retry2)).toMatchObject({ retries: 2 });
      expect(installation(retry2).job).toMatch(/^nginx-install-retry2-[0-9a-f]{8}$/);
      expect(jobNames(retry2)).toContain(installation(retry2).job);
    });

    it('retries are counted from the observed Jobs even when the status lags, and from the status when the cache lags', () => {
      const { req, first } = failed();
      const res = nginx.sync(req, testEnv('2026-01-01T00:10:30Z'));
      const retry = installation(res).job;
      // retry1 observed failed, but the parent status is still the one from before the retry (retries 0)
      const before = nginx.sync(req, testEnv('2026-01-01T00:10:10Z'));
      const lagging: SyncRequest = { ...next(req, res, failedAt('2026-01-01T00:11:00Z')), parent: { ...req.parent, status: before.status } as KubeObject };
      expect(installation({ status: lagging.parent.status } as SyncResponse).retries).toBe(0);
      const out = nginx.sync(lagging, testEnv('2026-01-01T00:11:10Z'));
      expect(installation(out)).toMatchObject({ job: retry, retries: 1, nextRetryTime: '2026-01-01T00:12:00Z' });
      expect(jobNames(out)).toEqual([retry]);
      // the status says attempt 1 while the observed Jobs show only the first attempt (the cache lags): not back to 0
      const cacheLag: SyncRequest = { ...req, parent: { ...req.parent, status: res.status } as KubeObject };
      const out2 = nginx.sync(cacheLag, testEnv('2026-01-01T00:10:40Z'));
      expect(installation(out2)).toMatchObject({ job: retry, retries: 1 });
      expect(jobNames(out2).sort()).toEqual([jobNames(first)[0], retry].sort());
    });
  });

  describe('h. a user password Secret whose key is missing or empty: SecretKeyMissing, nothing generated, observed children kept', () => {
    const spec = { adminUser: { passwordSecretRef: { name: 'gitea-creds', key: 'pw' } } };
    for (const [what, data] of [
      ['missing', { other: 'x' }],
      ['empty', { pw: '' }],
    ] as const) {
      it(`key ${what} on the first sync: Ready=False SecretKeyMissing, no Secret, no Job`, () => {
        const res = gitea.sync(syncRequest(parent('GiteaProvider', 'gitea', spec), {}, toMap([userSecret('gitea-creds', data)])), env);
        expect(condition(res)).toMatchObject({ status: 'False', reason: 'SecretKeyMissing' });
        expect(condition(res).message).toBe(`secret ${NS}/gitea-creds has ${what === 'empty' ? 'an empty' : 'no'} key pw`);
        expect(res.children).toEqual([]);
      });

      it(`key ${what} after an install: the observed admin Secret (the user's password), install Job and ConfigMap kept`, () => {
        const req = syncRequest(parent('GiteaProvider', 'gitea', spec), {}, toMap([userSecret('gitea-creds', { pw: 'from-the-user-1' })]));
        const r1 = gitea.sync(req, env);
        const installed = next(req, r1, succeed);
        const r2 = gitea.sync(installed, env);
        const res = gitea.sync(next(installed, r2, succeed, toMap([userSecret('gitea-creds', data)])), env);
        expect(res.status.phase).toBe('Pending');
        expect(condition(res)).toMatchObject({ status: 'False', reason: 'SecretKeyMissing' });
        expect(keys(res).sort()).toEqual(keys(r2).sort());
        expect(secretData(byKind(res, 'Secret')[0]).password).toBe('from-the-user-1');
        expect(JSON.stringify(res.status)).not.toContain('from-the-user-1');
      });
    }
  });

  it('e. a git server whose duck status names no organization (and a GitRepository naming none): GitServerIncomplete, the sync Job and ConfigMap kept, config unchanged', () => {
    const repo = parent('GitRepository', 'my-app', { gitServerRef: { kind: 'GiteaProvider', name: 'gitea' }, sources: [{ type: 'Embedded', path: 'argocd' }] });
    const req = syncRequest(repo, {}, toMap([provider('GiteaProvider', 'gitea', giteaDuck())]));
    const first = gitrepo.sync(req, env);
    const synced = next(req, first, succeed);
    const before = gitrepo.sync(synced, env);
    const { organization: _org, ...duck } = giteaDuck();
    const incomplete = next(synced, before, (o) => o, toMap([provider('GiteaProvider', 'gitea', duck)]));
    const res = gitrepo.sync(incomplete, env);
    expect(condition(res)).toMatchObject({ status: 'False', reason: 'GitServerIncomplete' });
    expect(condition(res).message).toContain('organization');
    expect(keys(res).sort()).toEqual(keys(before).sort());
    // the config is the observed one: nothing pushes to a default organization
    const observedCm = Object.values(incomplete.children!['ConfigMap.v1'])[0];
    const cm = byKind(res, 'ConfigMap')[0];
    expect(cmData(cm)).toEqual(cmData(observedCm));
    expect(JSON.parse(cmData(cm)['config.json']).organization).toBe('idpbuilder');
    // from the start: nothing at all rather than a repository in a guessed organization
    const fresh = gitrepo.sync(syncRequest(repo, {}, toMap([provider('GiteaProvider', 'gitea', duck)])), env);
    expect(fresh.children).toEqual([]);
    expect(condition(fresh).reason).toBe('GitServerIncomplete');
  });

  it('f. upgrading a Ready provider: Ready=True, Progressing=True (Upgrading) while the new install Job runs; the Platform referencing it stays Ready', () => {
    const greq = steady('GiteaProvider/idpbuilder-system/gitea');
    const before = gitea.sync(greq, env);
    expect(condition(before)).toMatchObject({ status: 'True', reason: 'Available' });
    const spec = { ...(greq.parent.spec as Record<string, unknown>), values: { replicaCount: 2 } };
    const upgraded: SyncRequest = { ...greq, parent: { ...greq.parent, metadata: { ...greq.parent.metadata, generation: (greq.parent.metadata.generation ?? 1) + 1 }, spec } as KubeObject };
    const res = gitea.sync(upgraded, env);
    const newJob = installation(res).job;
    expect(newJob).not.toBe(installation(before).job);
    expect(res.status.phase).toBe('Ready');
    expect(condition(res)).toMatchObject({ status: 'True', reason: 'Upgrading' });
    expect(condition(res, 'Progressing')).toMatchObject({ status: 'True', reason: 'Upgrading' });
    expect(condition(res, 'Degraded').status).toBe('False');
    // and while the Job runs
    const running = gitea.sync(next(upgraded, res, (o) => (o.kind === 'Job' && o.metadata.name === newJob ? jobRunning(o) : o)), env);
    expect(condition(running)).toMatchObject({ status: 'True', reason: 'Upgrading' });
    expect(condition(running, 'Progressing')).toMatchObject({ status: 'True', reason: 'Upgrading', message: 'install job running' });

    // the Platform sees the upgrading provider (and the new values ConfigMap, created with the Job)
    const preq = steady('Platform/idpbuilder-system/localdev');
    const providerObj = { ...upgraded.parent, status: running.status } as KubeObject;
    const newCm = byKind(res, 'ConfigMap').find((c) => c.metadata.name === installation(res).configMap)!;
    const related = toMap([
      ...Object.values(preq.related!).flatMap((g) => Object.values(g)).filter((o) => !(o.kind === 'GiteaProvider')),
      providerObj,
      newCm,
    ]);
    const p = platform.sync({ ...preq, related }, env);
    expect(p.status.phase).toBe('Ready');
    expect(condition(p)).toMatchObject({ status: 'True', reason: 'AllComponentsReady' });
  });
});

describe('c. the admin Secret missing from children for one sync: the same password and the same install Job name (through the server)', () => {
  const apps: FastifyInstance[] = [];
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((a) => a.close()));
  });
  /** The hook service as deployed: no injected randomness (the keyed stream of src/server/random.ts), a fixed seed and clock. */
  const server = () => {
    const a = buildApp({ controllers: controllers(), randomSeed: Buffer.alloc(32, 7), env: { now: () => new Date('2026-01-01T00:00:00Z') }, responseMemoSeconds: 0 });
    apps.push(a);
    return a;
  };
  const post = async (a: FastifyInstance, url: string, body: SyncRequest) => {
    const res = await a.inject({ method: 'POST', url, payload: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
    expect(res.statusCode, res.body).toBe(200);
    return res.body;
  };
  const installJob = (res: SyncResponse) => byKind(res, 'Job').find(role('install'))!.metadata.name;

  for (const [kind, url, secretName, hasBcrypt] of [
    ['GiteaProvider', '/hooks/giteaproviders/sync', 'gitea-gitea-admin', false],
    ['ArgoCDProvider', '/hooks/argocdproviders/sync', 'argocd-argocd-admin', true],
  ] as const) {
    it(`${kind}: three identical first syncs give three byte-identical answers; the Secret missing for one sync gives it back unchanged`, async () => {
      const a = server();
      const first = syncRequest(parent(kind, kind === 'GiteaProvider' ? 'gitea' : 'argocd', {}));
      const bodies = [await post(a, url, first), await post(a, url, first), await post(a, url, first)];
      expect(new Set(bodies).size).toBe(1);
      const r1 = JSON.parse(bodies[0]) as SyncResponse;
      const admin = secretData(byKind(r1, 'Secret').find((x) => x.metadata.name === secretName));
      expect(admin.password.length).toBeGreaterThanOrEqual(16);
      if (hasBcrypt) expect(compareSync(admin.password, admin.bcrypt)).toBe(true);
      // a restarted service with the same seed answers the same; another seed draws another password
      expect(await post(server(), url, first)).toBe(bodies[0]);
      const other = buildApp({ controllers: controllers(), randomSeed: Buffer.alloc(32, 8), env: { now: () => new Date('2026-01-01T00:00:00Z') }, responseMemoSeconds: 0 });
      apps.push(other);
      const elsewhere = JSON.parse(await post(other, url, first)) as SyncResponse;
      expect(secretData(byKind(elsewhere, 'Secret').find((x) => x.metadata.name === secretName)).password).not.toBe(admin.password);

      // the install Job is observed running, the admin Secret is not (the cache lags)
      const observed = next(first, r1, jobRunning);
      const lagging = { ...observed, children: without(observed.children, 'Secret', secretName) };
      const r2 = JSON.parse(await post(a, url, lagging)) as SyncResponse;
      const again = secretData(byKind(r2, 'Secret').find((x) => x.metadata.name === secretName));
      expect(again).toEqual(admin);
      expect(secretDigest(again)).toBe(secretDigest(admin));
      expect(installJob(r2)).toBe(installJob(r1));
      // nothing new starts: the running Job is the only one
      expect(byKind(r2, 'Job').map((j) => j.metadata.name)).toEqual([installJob(r1)]);
    });
  }
});

describe('the contract itself (src/kit/contract.ts)', () => {
  const job = (name: string, r: string, status?: Record<string, unknown>) =>
    ({ apiVersion: 'batch/v1', kind: 'Job', metadata: { name, namespace: NS, labels: { 'idpbuilder.cnoe.io/role': r } }, spec: {}, ...(status ? { status } : {}) }) as KubeObject;
  const done = { conditions: [{ type: 'Complete', status: 'True' }] };

  it('a Job is finished only with Complete or Failed True (SuccessCriteriaMet / FailureTarget alone are not enough)', () => {
    expect(jobFinished(job('a', 'install', done))).toBe(true);
    expect(jobFinished(job('a', 'install', { conditions: [{ type: 'Failed', status: 'True' }] }))).toBe(true);
    expect(jobFinished(job('a', 'install', { conditions: [{ type: 'SuccessCriteriaMet', status: 'True' }] }))).toBe(false);
    expect(jobFinished(job('a', 'install', { conditions: [{ type: 'FailureTarget', status: 'True' }] }))).toBe(false);
    expect(jobFinished(job('a', 'install'))).toBe(false);
  });

  it('a released running Job is returned anyway; a released finished child goes', () => {
    const req = syncRequest(parent('NginxGateway', 'nginx', {}), toMap([job('run', 'validate', { active: 1 }), job('old', 'other', done)]));
    const out = enforce(req, { status: {}, children: [], released: ['Job/run', 'Job/old'] });
    expect(keys(out)).toEqual(['Job/run']);
    expect(out.effects.retained).toEqual(['Job/run']);
  });

  it('uninstall waits for a running install (helm release lock); finalize is not finalized while a Job of ours runs', () => {
    const req = syncRequest(parent('NginxGateway', 'nginx', {}), toMap([job('install', 'install', { active: 1 })]), {}, true);
    const out = enforce(req, { status: {}, children: [job('uninstall', 'uninstall')], finalized: true });
    expect(keys(out)).toEqual(['Job/install']);
    expect(out.effects.withheld).toEqual(['Job/uninstall']);
    expect(out.finalized).toBe(false);
  });
});
