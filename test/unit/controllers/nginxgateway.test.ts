import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { nginxGatewayHooks as hooks } from '../../../src/controllers/nginxgateway.js';
import { parent, syncRequest, testEnv } from '../../support/requests.js';
import type { KubeObject } from '../../../src/metacontroller/protocol.js';
import { byKind, condition, jobFailed, jobRunning, jobSucceeded, next, toMap, withStatus } from '../../support/world.js';

const env = testEnv();
const gw = (spec: Record<string, unknown> = {}, extra = {}) => parent('NginxGateway', 'nginx', { namespace: 'ingress-nginx', ...spec }, extra);

describe('NginxGateway', () => {
  it('first sync: a values ConfigMap and an install Job in the parent namespace, phase Installing', () => {
    const res = hooks.sync(syncRequest(gw()), env);
    const [cm] = byKind(res, 'ConfigMap');
    const [job] = byKind(res, 'Job');
    expect(cm.metadata.namespace).toBe('idpbuilder-system');
    expect(job.metadata.name).toBe(cm.metadata.name);
    expect(job.metadata.name).toMatch(/^nginx-install-[0-9a-f]{8}$/);
    const values = parse((cm.data as Record<string, string>)['values-0.yaml']);
    expect(values.controller.ingressClassResource).toEqual({ name: 'nginx', enabled: true, default: false, controllerValue: 'k8s.io/ingress-nginx' });
    const script = (cm.data as Record<string, string>)['run.sh'];
    expect(script).toContain('helm upgrade --install ingress-nginx ingress-nginx --repo https://kubernetes.github.io/ingress-nginx --version 4.15.1 --namespace ingress-nginx --create-namespace --values /config/values-0.yaml --wait --timeout 10m');
    expect(res.status.phase).toBe('Installing');
    expect(condition(res).status).toBe('False');
    expect(res.status).toMatchObject({ routeKind: 'Ingress', ingressClassName: 'nginx', prefixRewrite: 'NginxRewriteTarget' });
    expect(res.status.internalEndpoint).toBe('http://ingress-nginx-controller.ingress-nginx.svc.cluster.local');
  });

  it('maps the spec onto chart values: NodePorts, resources, webhooks, controller config, TLS, class', () => {
    const res = hooks.sync(
      syncRequest(
        gw({
          config: {
            controller: {
              service: { type: 'NodePort', nodePorts: { http: 30080, https: 30443 } },
              resources: { limits: { cpu: '100m', memory: '90Mi' } },
              admissionWebhooks: { enabled: false },
              config: { 'use-forwarded-headers': 'true' },
            },
          },
          ingressClass: { name: 'public', isDefault: true },
          defaultTLS: { secretRef: { name: 'platform-tls', namespace: 'idpbuilder-system' } },
          values: { controller: { replicaCount: 2 } },
        }),
      ),
      env,
    );
    const values = parse((byKind(res, 'ConfigMap')[0].data as Record<string, string>)['values-0.yaml']);
    expect(values.controller).toEqual({
      ingressClass: 'public',
      ingressClassResource: { name: 'public', enabled: true, default: true, controllerValue: 'k8s.io/ingress-nginx-public' },
      service: { type: 'NodePort', nodePorts: { http: 30080, https: 30443 } },
      resources: { limits: { cpu: '100m', memory: '90Mi' } },
      admissionWebhooks: { enabled: false },
      config: { 'use-forwarded-headers': 'true' },
      extraArgs: { 'default-ssl-certificate': 'idpbuilder-system/platform-tls' },
      replicaCount: 2,
    });
    expect(res.status.ingressClassName).toBe('public');
    expect(res.status.internalEndpoint).toBe('http://ingress-nginx-public-controller.ingress-nginx.svc.cluster.local');
  });

  it('install succeeded: Ready, with replicas and the load balancer address from related objects', () => {
    const req = syncRequest(gw());
    const first = hooks.sync(req, env);
    const related = toMap([
      withStatus({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'ingress-nginx-controller', namespace: 'ingress-nginx' } }, { replicas: 1, readyReplicas: 1 }),
      withStatus({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'ingress-nginx-controller', namespace: 'ingress-nginx' } }, { loadBalancer: { ingress: [{ ip: '172.18.0.2' }] } }),
    ]);
    const res = hooks.sync(next(req, first, (o) => (o.kind === 'Job' ? jobSucceeded(o) : o), related), testEnv('2026-01-01T00:05:00Z'));
    expect(res.status.phase).toBe('Ready');
    expect(condition(res)).toMatchObject({ status: 'True', reason: 'Available', lastTransitionTime: '2026-01-01T00:05:00Z' });
    expect(condition(res, 'Degraded').status).toBe('False');
    expect(res.status.installed).toBe(true);
    expect(res.status.loadBalancerEndpoint).toBe('http://172.18.0.2');
    expect(res.status.controller).toEqual({ replicas: 1, readyReplicas: 1 });
    // same world again: byte-identical answer, transition time kept
    const again = hooks.sync(next(req, res, (o) => (o.kind === 'Job' ? jobSucceeded(o) : o), related), testEnv('2026-01-01T09:00:00Z'));
    expect(JSON.stringify(again)).toBe(JSON.stringify(res));
  });

  it('a controller Deployment with no ready replica keeps it from Ready', () => {
    const req = syncRequest(gw());
    const first = hooks.sync(req, env);
    const related = toMap([withStatus({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'ingress-nginx-controller', namespace: 'ingress-nginx' } }, { replicas: 1, readyReplicas: 0 })]);
    const res = hooks.sync(next(req, first, (o) => (o.kind === 'Job' ? jobSucceeded(o) : o), related), env);
    expect(res.status.phase).toBe('Installing');
    expect(condition(res).reason).toBe('ControllerNotReady');
  });

  it('install failed: the message surfaces in status, including the pod termination message', () => {
    const req = syncRequest(gw());
    const first = hooks.sync(req, env);
    const jobName = byKind(first, 'Job')[0].metadata.name;
    const pods = toMap([
      withStatus(
        { apiVersion: 'v1', kind: 'Pod', metadata: { name: `${jobName}-abcde`, namespace: 'idpbuilder-system', labels: { 'batch.kubernetes.io/job-name': jobName } } },
        { containerStatuses: [{ state: { terminated: { exitCode: 1, message: 'Error: INSTALLATION FAILED: context deadline exceeded' } } }] },
      ),
    ]);
    const res = hooks.sync(next(req, first, (o) => (o.kind === 'Job' ? jobFailed(o) : o), pods), env);
    expect(res.status.phase).toBe('Failed');
    expect(condition(res)).toMatchObject({ status: 'False', reason: 'InstallFailed' });
    // the failure, then when the retry starts (the retry itself: contract.test.ts)
    const installation = res.status.installation as { retries?: number; nextRetryTime?: string };
    expect(condition(res).message).toBe(
      `install job failed: BackoffLimitExceeded: Job has reached the specified backoff limit; last error: Error: INSTALLATION FAILED: context deadline exceeded (attempt 1; retry at ${installation.nextRetryTime})`,
    );
    expect(installation.retries).toBe(0);
    expect(res.resyncAfterSeconds).toBe(30);
    expect(condition(res, 'Degraded').status).toBe('True');
    // the failed Job is kept (not recreated in a loop)
    expect(byKind(res, 'Job').map((j) => j.metadata.name)).toEqual([jobName]);
  });

  it('spec change: the new install Job is created; the old (finished) Job and ConfigMap are kept until the new Job has finished, then dropped', () => {
    const req = syncRequest(gw());
    const first = hooks.sync(req, env);
    const oldJob = byKind(first, 'Job')[0].metadata.name;
    const changed = { ...next(req, first, jobSucceeded), parent: { ...gw({ config: { controller: { replicaCount: 3 } } }), status: first.status } as KubeObject };
    const res = hooks.sync(changed, env);
    const newJob = byKind(res, 'Job').map((j) => j.metadata.name).find((n) => n !== oldJob)!;
    expect(newJob).toMatch(/^nginx-install-[0-9a-f]{8}$/);
    expect(byKind(res, 'Job').map((j) => j.metadata.name).sort()).toEqual([oldJob, newJob].sort());
    expect(byKind(res, 'ConfigMap').map((c) => c.metadata.name).sort()).toEqual([oldJob, newJob].sort());
    expect(res.status.installation).toEqual({ configMap: newJob, job: newJob });
    // the old release serves while the new Job runs
    expect(res.status.phase).toBe('Ready');
    expect(condition(res)).toMatchObject({ status: 'True', reason: 'Upgrading' });
    expect(condition(res, 'Progressing')).toMatchObject({ status: 'True', reason: 'Upgrading' });
    const done = hooks.sync(next(changed, res, jobSucceeded), env);
    expect(done.children.map((c) => `${c.kind}/${c.metadata.name}`).sort()).toEqual([`ConfigMap/${newJob}`, `Job/${newJob}`]);
    expect(done.status.phase).toBe('Ready');
  });

  it('finalize with Delete runs the uninstall and finalizes only once it succeeded', () => {
    const req = syncRequest(gw());
    const installed = next(req, hooks.sync(req, env), jobSucceeded);
    const f1 = hooks.finalize!({ ...installed, finalizing: true }, env);
    expect(f1.finalized).toBe(false);
    const [job] = byKind(f1, 'Job');
    expect(job.metadata.name).toMatch(/^nginx-uninstall-/);
    expect((byKind(f1, 'ConfigMap')[0].data as Record<string, string>)['run.sh']).toContain('helm uninstall ingress-nginx --namespace ingress-nginx --wait --ignore-not-found');
    expect(f1.status.phase).toBe('Deleting');
    // the install ConfigMap is still observed while uninstalling (Metacontroller deletes it after this answer)
    const observed = { ...installed, children: toMap([...Object.values(installed.children!['ConfigMap.v1']), ...f1.children.map((c) => (c.kind === 'Job' ? jobSucceeded(c) : c))]) };
    const f2 = hooks.finalize!({ ...observed, finalizing: true }, env);
    expect(f2.finalized).toBe(true);
    const failedUninstall = hooks.finalize!({ ...installed, children: toMap([...Object.values(installed.children!['ConfigMap.v1']), ...f1.children.map((c) => (c.kind === 'Job' ? jobFailed(c) : c))]), finalizing: true }, env);
    expect(failedUninstall.finalized).toBe(false);
    expect(condition(failedUninstall).reason).toBe('UninstallFailed');
  });

  it('a failed uninstall is retried with a new Job after the backoff (30 s, doubling), the failed one kept; finalized once a retry succeeds', () => {
    const req = syncRequest(gw());
    const installed = next(req, hooks.sync(req, env), jobSucceeded);
    const cms = Object.values(installed.children!['ConfigMap.v1']);
    const f1 = hooks.finalize!({ ...installed, finalizing: true }, env);
    const [first] = byKind(f1, 'Job');
    const failedAtT = '2026-01-01T00:00:00Z';
    const failed = withStatus(first, { failed: 3, conditions: [{ type: 'Failed', status: 'True', reason: 'BackoffLimitExceeded', message: 'helm: timed out', lastTransitionTime: failedAtT }] });
    const observed = (jobs: KubeObject[]) => ({ ...installed, children: toMap([...cms, ...byKind(f1, 'ConfigMap'), ...jobs]), finalizing: true });
    // before the backoff: no new Job, Failed/UninstallFailed naming the retry time, resync when it is due
    const waiting = hooks.finalize!(observed([failed]), testEnv('2026-01-01T00:00:10Z'));
    expect(waiting.finalized).toBe(false);
    expect(byKind(waiting, 'Job').map((j) => j.metadata.name)).toEqual([first.metadata.name]);
    expect(condition(waiting)).toMatchObject({ status: 'False', reason: 'UninstallFailed' });
    expect(condition(waiting).message).toContain('retry at 2026-01-01T00:00:30Z');
    expect(waiting.resyncAfterSeconds).toBe(20);
    // after it: attempt 1, a new Job of the same uninstall; the failed one is still returned (never dropped)
    const retrying = hooks.finalize!(observed([failed]), testEnv('2026-01-01T00:00:31Z'));
    const names = byKind(retrying, 'Job').map((j) => j.metadata.name);
    expect(names).toHaveLength(2);
    const retry = byKind(retrying, 'Job').find((j) => j.metadata.name !== first.metadata.name)!;
    expect(retry.metadata.name).toMatch(/^nginx-uninstall-retry1-/);
    expect(retry.metadata.annotations).toMatchObject({ 'idpbuilder.cnoe.io/attempt': '1' });
    expect(condition(retrying)).toMatchObject({ reason: 'Uninstalling' });
    expect(condition(retrying).message).toBe('uninstall job created (retry 1 after: BackoffLimitExceeded: helm: timed out)');
    // the retry running is this uninstall, not another Job to wait for
    const running = hooks.finalize!(observed([failed, jobRunning(retry)]), testEnv('2026-01-01T00:00:40Z'));
    expect(condition(running)).toMatchObject({ reason: 'Uninstalling' });
    expect(running.finalized).toBe(false);
    const done = hooks.finalize!(observed([failed, jobSucceeded(retry)]), testEnv('2026-01-01T00:01:00Z'));
    expect(done.finalized).toBe(true);
  });

  it('finalize with Retain: finalized, reason Retained, no uninstall Job; while the install Job runs, not finalized', () => {
    const req = syncRequest(gw({ deletionPolicy: 'Retain' }));
    const first = hooks.sync(req, env);
    const res = hooks.finalize!({ ...next(req, first, jobSucceeded), finalizing: true }, env);
    expect(res.finalized).toBe(true);
    expect(condition(res).reason).toBe('Retained');
    expect(byKind(res, 'Job').map((j) => j.metadata.name)).not.toContain(expect.stringMatching(/uninstall/));
    const running = hooks.finalize!({ ...next(req, first, jobRunning), finalizing: true }, env);
    expect(running.finalized).toBe(false);
    expect(condition(running).reason).toBe('WaitingForRunningJob');
    expect(byKind(running, 'Job').map((j) => j.metadata.name)).toEqual(byKind(first, 'Job').map((j) => j.metadata.name));
  });

  it('asks for its Job pods, the controller Deployment and Service as related objects', () => {
    const res = hooks.customize!({ parent: gw() }, env);
    expect(res.relatedResources.map((r) => `${r.resource}:${r.namespace}:${(r.names ?? []).join()}`)).toEqual([
      'pods:idpbuilder-system:',
      'deployments:ingress-nginx:ingress-nginx-controller',
      'services:ingress-nginx:ingress-nginx-controller',
    ]);
  });
});
