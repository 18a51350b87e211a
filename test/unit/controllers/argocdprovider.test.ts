import { compareSync } from 'bcryptjs';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { argoCDProviderHooks as hooks } from '../../../src/controllers/argocdprovider.js';
import type { KubeObject, ObjectMap, SyncRequest } from '../../../src/metacontroller/protocol.js';
import { parent, syncRequest, testEnv, noUsers } from '../../support/requests.js';
import { byKind, condition, jobFailed, jobRunning, jobSucceeded, next, toMap, withStatus } from '../../support/world.js';
import { cmData, expectValidChildren, gatewayObject, names, NS, provider, secretData, statusText, userSecret, values, type GatewayName } from '../../support/providers.js';

const env = testEnv();
const argocd = (spec: Record<string, unknown> = {}, extra = {}) => parent('ArgoCDProvider', 'argocd', spec, extra);
const succeed = (o: KubeObject) => (o.kind === 'Job' ? jobSucceeded(o) : o);
const keys = (res: { children: KubeObject[] }) => res.children.map((c) => `${c.kind}/${c.metadata.name}`);

function workloads(serverReady: number, controllerReady: number): ObjectMap {
  return toMap([
    withStatus({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'argocd-server', namespace: 'argocd' } } as KubeObject, { replicas: 1, readyReplicas: serverReady }),
    withStatus({ apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 'argocd-application-controller', namespace: 'argocd' } } as KubeObject, { replicas: 1, readyReplicas: controllerReady }),
  ]);
}

function installed(spec: Record<string, unknown> = {}, related: ObjectMap = {}) {
  const req = syncRequest(argocd(spec), {}, related);
  const first = hooks.sync(req, testEnv());
  const req2 = next(req, first, succeed);
  return { req: req2, res: hooks.sync(req2, testEnv()), first };
}

describe('ArgoCDProvider', () => {
  it('first sync: admin Secret (password + bcrypt), values ConfigMap with AppProjects, install Job; GitOps duck status', () => {
    const res = hooks.sync(syncRequest(argocd()), env);
    expect(keys(res)).toEqual(['Secret/argocd-argocd-admin', expect.stringMatching(/^ConfigMap\/argocd-install-[0-9a-f]{8}$/), expect.stringMatching(/^Job\/argocd-install-[0-9a-f]{8}$/)]);
    expectValidChildren(res);
    const [cm] = byKind(res, 'ConfigMap');
    const [job] = byKind(res, 'Job');
    expect(job.metadata.name).toBe(cm.metadata.name);
    const data = cmData(cm);
    expect(data['run.sh']).toContain(
      'helm upgrade --install argocd argo-cd --repo https://argoproj.github.io/argo-helm --version 10.1.1 --namespace argocd --create-namespace --values /config/values-0.yaml --set-file configs.secret.argocdServerAdminPassword=/secrets/argocd-argocd-admin/bcrypt --wait --timeout 10m',
    );
    expect(data['run.sh']).toContain('kubectl apply --server-side --force-conflicts --field-manager=idpbuilder -f /config/manifests.yaml');
    expect(values(cm)).toEqual({
      global: { domain: 'argocd.cnoe.localtest.me' },
      configs: { params: { 'server.insecure': true, 'application.namespaces': NS }, cm: { 'timeout.reconciliation': '60s', url: 'https://argocd.cnoe.localtest.me' } },
      server: { ingress: { enabled: true, ingressClassName: 'nginx', hostname: 'argocd.cnoe.localtest.me', path: '/', pathType: 'Prefix', tls: true } },
      dex: { enabled: false },
      notifications: { enabled: false },
    });
    const projects = parseAllDocuments(data['manifests.yaml']).map((d) => d.toJS());
    expect(projects).toEqual([
      {
        apiVersion: 'argoproj.io/v1alpha1',
        kind: 'AppProject',
        metadata: { name: 'default', namespace: 'argocd', labels: { 'app.kubernetes.io/managed-by': 'idpbuilder' } },
        spec: { sourceRepos: ['*'], destinations: [{ server: '*', namespace: '*' }], clusterResourceWhitelist: [{ group: '*', kind: '*' }], sourceNamespaces: [NS] },
      },
    ]);
    expect((job.spec as any).template.spec.volumes).toContainEqual({ name: 'secret-0', secret: { secretName: 'argocd-argocd-admin' } });
    expect(res.status).toMatchObject({
      phase: 'Installing',
      endpoint: 'https://argocd.cnoe.localtest.me',
      internalEndpoint: 'http://argocd-server.argocd.svc.cluster.local',
      credentialsSecretRef: { name: 'argocd-argocd-admin', namespace: NS, key: 'password' },
      version: 'v3.4.4',
      applicationNamespaces: [NS],
      installed: false,
      installation: { configMap: cm.metadata.name, job: job.metadata.name },
    });
    expect(condition(res)).toMatchObject({ status: 'False', reason: 'Installing', message: 'install job created' });
    const secret = secretData(byKind(res, 'Secret')[0]);
    expect(Object.keys(secret).sort()).toEqual(['bcrypt', 'password', 'username']);
    expect(secret.username).toBe('admin');
    expect(secret.password).toMatch(/^[A-Za-z0-9]{40}$/);
    expect(secret.bcrypt).toMatch(/^\$2a\$10\$.{53}$/);
    expect(compareSync(secret.password, secret.bcrypt)).toBe(true);
  });

  it('a parent outside the controllers namespace adds its namespace to the application namespaces', () => {
    const res = hooks.sync(syncRequest(parent('ArgoCDProvider', 'argocd', {}, { metadata: { name: 'argocd', namespace: 'team-a' } } as any)), env);
    expect(res.status.applicationNamespaces).toEqual([NS, 'team-a']);
    expect(values(byKind(res, 'ConfigMap')[0]).configs.params['application.namespaces']).toBe(`${NS}, team-a`);
    expectValidChildren(res, 'team-a');
    expect(res.status.credentialsSecretRef).toEqual({ name: 'argocd-argocd-admin', namespace: 'team-a', key: 'password' });
  });

  it('path routing, gateway class and projects from the spec', () => {
    const related = toMap([provider('NginxGateway', 'edge', { ingressClassName: 'edge-nginx' })]);
    const res = hooks.sync(
      syncRequest(
        argocd({
          routing: { domain: 'idp.example.com', usePathRouting: true, gatewayRef: { kind: 'NginxGateway', name: 'edge' } },
          projects: [{ name: 'apps', description: 'team apps', sourceRepos: ['https://git.example.com/*'], destinations: [{ namespace: 'apps' }] }],
        }),
        {},
        related,
      ),
      env,
    );
    const cm = byKind(res, 'ConfigMap')[0];
    const v = values(cm);
    expect(v.configs.params).toEqual({ 'server.insecure': true, 'application.namespaces': NS, 'server.basehref': '/argocd', 'server.rootpath': '/argocd' });
    expect(v.server.ingress).toMatchObject({ ingressClassName: 'edge-nginx', hostname: 'idp.example.com', path: '/argocd' });
    expect(res.status.endpoint).toBe('https://idp.example.com/argocd');
    const projects = parseAllDocuments(cmData(cm)['manifests.yaml']).map((d) => d.toJS());
    expect(projects.map((p) => p.metadata.name)).toEqual(['default', 'apps']);
    expect(projects[1].spec).toEqual({
      description: 'team apps',
      sourceRepos: ['https://git.example.com/*'],
      destinations: [{ server: '*', namespace: 'apps' }],
      clusterResourceWhitelist: [{ group: '*', kind: '*' }],
      sourceNamespaces: [NS],
    });
  });

  describe('routing through each gateway kind: argocd-server serves under its rootpath, so every gateway forwards paths unchanged', () => {
    const DOMAIN = 'idp.example.com';
    function v(gateway: GatewayName, usePathRouting: boolean, extra: Record<string, unknown> = {}) {
      const spec = { routing: { domain: DOMAIN, usePathRouting, gatewayRef: { kind: gatewayObject(gateway).kind, name: 'edge' } }, ...extra };
      const res = hooks.sync(syncRequest(argocd(spec), {}, toMap([gatewayObject(gateway)])), env);
      return { res, v: values(byKind(res, 'ConfigMap')[0]) };
    }
    const ingress = (className: string, host: string, path: string) => ({ enabled: true, ingressClassName: className, hostname: host, path, pathType: 'Prefix', tls: true });

    it.each([
      ['nginx', false, ingress('nginx', 'argocd.idp.example.com', '/')],
      ['nginx', true, ingress('nginx', DOMAIN, '/argocd')],
      ['istio', false, ingress('istio', 'argocd.idp.example.com', '/')],
      ['istio', true, ingress('istio', DOMAIN, '/argocd')],
    ] as const)('%s, path routing %s: server.ingress, no server.httproute', (gateway, path, expected) => {
      const { v: values } = v(gateway, path);
      expect(values.server.ingress).toEqual(expected);
      expect(values.server.httproute).toBeUndefined();
    });

    it('envoy, host routing: server.httproute attached to the Gateway for argocd.<domain> at /, no Ingress', () => {
      const { v: values, res } = v('envoy', false);
      expect(values.server.ingress).toEqual({ enabled: false });
      expect(values.server.httproute).toEqual({
        enabled: true,
        parentRefs: [{ name: 'edge', namespace: 'envoy-gateway-system' }],
        hostnames: ['argocd.idp.example.com'],
        rules: [{ matches: [{ path: { type: 'PathPrefix', value: '/' } }] }],
      });
      expect(res.status.endpoint).toBe('https://argocd.idp.example.com');
    });

    it('envoy, path routing: server.httproute at /argocd without rewrite; rootpath and basehref /argocd', () => {
      const { v: values, res } = v('envoy', true);
      expect(values.server.httproute).toEqual({
        enabled: true,
        parentRefs: [{ name: 'edge', namespace: 'envoy-gateway-system' }],
        hostnames: [DOMAIN],
        rules: [{ matches: [{ path: { type: 'PathPrefix', value: '/argocd' } }] }],
      });
      expect(values.configs.params).toMatchObject({ 'server.basehref': '/argocd', 'server.rootpath': '/argocd' });
      expect(res.status.endpoint).toBe(`https://${DOMAIN}/argocd`);
    });

    it('envoy with extra hosts: every host is an HTTPRoute hostname; route off (server.ingress.enabled false): neither', () => {
      expect(v('envoy', false, { config: { server: { ingress: { hosts: ['cd.example.com', 'argo.example.com'] } } } }).v.server.httproute.hostnames).toEqual(['cd.example.com', 'argo.example.com']);
      const off = v('envoy', true, { config: { server: { ingress: { enabled: false } } } }).v.server;
      expect(off.ingress).toEqual({ enabled: false });
      expect(off.httproute).toBeUndefined();
    });
  });

  it('install succeeded: Ready=True (reason Available) once server and controller have ready replicas', () => {
    const { res } = installed({}, workloads(1, 1));
    expect(res.status.phase).toBe('Ready');
    expect(condition(res)).toMatchObject({ status: 'True', reason: 'Available', message: 'ArgoCDProvider is installed and available' });
    expect(res.status).toMatchObject({ installed: true, serverHealth: { status: 'Healthy' }, applicationController: { ready: true } });
    expect(res.children.map((c) => c.kind)).toEqual(['Secret', 'ConfigMap', 'Job']);
  });

  it('install succeeded but argocd-server has no ready replica: ComponentNotReady', () => {
    const { res } = installed({}, workloads(0, 1));
    expect(res.status.phase).toBe('Installing');
    expect(condition(res)).toMatchObject({ status: 'False', reason: 'ComponentNotReady', message: 'argocd-server has no ready replica' });
    expect(res.status.serverHealth).toEqual({ status: 'Progressing' });
  });

  it('install running: Installing', () => {
    const req = syncRequest(argocd());
    const res = hooks.sync(next(req, hooks.sync(req, testEnv()), (o) => (o.kind === 'Job' ? jobRunning(o) : o)), testEnv());
    expect(condition(res)).toMatchObject({ status: 'False', reason: 'Installing', message: 'install job running' });
  });

  it('install failed: phase Failed, the Job message in the Ready condition', () => {
    const req = syncRequest(argocd());
    const first = hooks.sync(req, testEnv());
    const res = hooks.sync(next(req, first, (o) => (o.kind === 'Job' ? jobFailed(o, 'Job has reached the specified backoff limit') : o)), testEnv());
    expect(res.status.phase).toBe('Failed');
    const nextRetryTime = (res.status.installation as { nextRetryTime?: string }).nextRetryTime;
    expect(nextRetryTime).toEqual(expect.any(String));
    expect(condition(res)).toMatchObject({
      status: 'False',
      reason: 'InstallFailed',
      message: `install job failed: BackoffLimitExceeded: Job has reached the specified backoff limit (attempt 1; retry at ${nextRetryTime})`,
    });
    expect(condition(res, 'Degraded').status).toBe('True');
    expect(names(res, 'Job')).toEqual(names(first, 'Job'));
  });

  it('spec change: the new install Job is created; the old (finished) Job and ConfigMap are kept until the new Job has finished, then dropped', () => {
    const { req, res: before } = installed();
    const oldJob = names(before, 'Job')[0];
    const changed: SyncRequest = { ...next(req, before, succeed), parent: { ...argocd({ config: { dex: { enabled: true } } }, { metadata: { generation: 2 } }), status: before.status } as KubeObject };
    const res = hooks.sync(changed, testEnv());
    const newJob = (res.status.installation as { job: string }).job;
    expect(newJob).not.toBe(oldJob);
    expect(names(res, 'Job').sort()).toEqual([oldJob, newJob].sort());
    expect(names(res, 'ConfigMap').sort()).toEqual([oldJob, newJob].sort());
    expect(values(byKind(res, 'ConfigMap').find((c) => c.metadata.name === newJob)!).dex).toEqual({ enabled: true });
    // the installed Argo CD keeps serving while the new install runs
    expect(condition(res)).toMatchObject({ status: 'True', reason: 'Upgrading', observedGeneration: 2 });
    expect(condition(res, 'Progressing')).toMatchObject({ status: 'True', reason: 'Upgrading' });
    const done = hooks.sync(next(changed, res, succeed), testEnv());
    expect(names(done, 'Job')).toEqual([newJob]);
    expect(names(done, 'ConfigMap')).toEqual([newJob]);
    expect(names(done)).not.toContain(oldJob);
  });

  it('gateway missing: GatewayNotFound, admin Secret and install children kept', () => {
    const spec = { routing: { gatewayRef: { kind: 'NginxGateway', name: 'edge' } } };
    const { req, res } = installed(spec, toMap([provider('NginxGateway', 'edge', { ingressClassName: 'nginx' })]));
    const gone = hooks.sync({ ...next(req, res, succeed), related: {} }, testEnv());
    expect(gone.status.phase).toBe('Pending');
    expect(condition(gone)).toMatchObject({ status: 'False', reason: 'GatewayNotFound', message: `gateway NginxGateway ${NS}/edge not found` });
    expect(keys(gone).sort()).toEqual(keys(res).sort());
    expect(secretData(byKind(gone, 'Secret')[0])).toEqual(secretData(byKind(res, 'Secret')[0]));
  });

  it('adminCredentials.secretRef (autoGenerate false) missing: SecretNotFound, install children kept', () => {
    const spec = { adminCredentials: { autoGenerate: false, secretRef: { name: 'argo-creds' } } };
    const { req, res } = installed(spec, toMap([userSecret('argo-creds', { password: 'user-argo-pw' })]));
    const gone = hooks.sync({ ...next(req, res, succeed), related: {} }, testEnv());
    expect(condition(gone)).toMatchObject({ status: 'False', reason: 'SecretNotFound', message: `secret ${NS}/argo-creds (key password) not found` });
    for (const k of keys(res).filter((k) => !k.startsWith('Secret/'))) expect(keys(gone)).toContain(k);
  });

  // The observed admin Secret (password + the bcrypt hash Argo CD runs with) stays while blocked.
  it('adminCredentials.secretRef gone: the observed admin Secret is kept as well', () => {
    const spec = { adminCredentials: { autoGenerate: false, secretRef: { name: 'argo-creds' } } };
    const { req, res } = installed(spec, toMap([userSecret('argo-creds', { password: 'user-argo-pw' })]));
    const gone = hooks.sync({ ...next(req, res, succeed), related: {} }, testEnv());
    expect(condition(gone).reason).toBe('SecretNotFound');
    expect(keys(gone)).toContain('Secret/argocd-argocd-admin');
  });

  it('adminCredentials.secretRef present: the user password is used and the bcrypt hash verifies against it', () => {
    const related = toMap([userSecret('argo-creds', { password: 'user-argo-pw' })]);
    const res = hooks.sync(syncRequest(argocd({ adminCredentials: { secretRef: { name: 'argo-creds' } } }), {}, related), env);
    const s = secretData(byKind(res, 'Secret')[0]);
    expect(s.password).toBe('user-argo-pw');
    expect(compareSync('user-argo-pw', s.bcrypt)).toBe(true);
  });

  it('password and bcrypt hash are reused while the password is unchanged, whatever the randomness', () => {
    const req = syncRequest(argocd());
    const first = hooks.sync(req, testEnv('2026-01-01T00:00:00Z', 'seed-a'));
    const s1 = secretData(byKind(first, 'Secret')[0]);
    const second = hooks.sync(next(req, first, succeed), testEnv('2026-01-01T00:00:00Z', 'seed-b'));
    const s2 = secretData(byKind(second, 'Secret')[0]);
    expect(s2).toEqual(s1);
    expect(compareSync(s2.password, s2.bcrypt)).toBe(true);
    expect(names(second, 'Job')).toEqual(names(first, 'Job'));
  });

  it('a changed user password gets a new bcrypt hash and a new install Job', () => {
    const spec = { adminCredentials: { secretRef: { name: 'argo-creds' } } };
    const req = syncRequest(argocd(spec), {}, toMap([userSecret('argo-creds', { password: 'first-pw' })]));
    const first = hooks.sync(req, testEnv());
    const res = hooks.sync(next(req, first, succeed, toMap([userSecret('argo-creds', { password: 'second-pw' })])), testEnv());
    const s1 = secretData(byKind(first, 'Secret')[0]);
    const s2 = secretData(byKind(res, 'Secret')[0]);
    expect(s2.password).toBe('second-pw');
    expect(s2.bcrypt).not.toBe(s1.bcrypt);
    expect(compareSync('second-pw', s2.bcrypt)).toBe(true);
    expect(compareSync('first-pw', s2.bcrypt)).toBe(false);
    expect(names(res, 'Job')[0]).not.toBe(names(first, 'Job')[0]);
  });

  it('neither the password nor its hash appears in status or in the values ConfigMap', () => {
    for (const related of [{}, toMap([userSecret('argo-creds', { password: 'user-argo-pw-123' })])]) {
      const spec = Object.keys(related).length ? { adminCredentials: { secretRef: { name: 'argo-creds' } } } : {};
      const { res } = installed(spec, related);
      const s = secretData(byKind(res, 'Secret')[0]);
      const texts = [statusText(res), JSON.stringify(byKind(res, 'ConfigMap'))];
      for (const secret of [s.password, s.bcrypt, Buffer.from(s.password).toString('base64'), Buffer.from(s.bcrypt).toString('base64')]) {
        for (const t of texts) expect(t).not.toContain(secret);
      }
    }
  });

  it('determinism: same request, byte-identical answer; a later clock keeps lastTransitionTime', () => {
    const req = syncRequest(argocd());
    expect(JSON.stringify(hooks.sync(req, testEnv()))).toBe(JSON.stringify(hooks.sync(req, testEnv())));
    const { req: r, res } = installed({}, workloads(1, 1));
    const again = next(r, res, succeed);
    const later = hooks.sync(again, testEnv('2026-02-01T00:00:00Z', 'other'));
    expect(JSON.stringify(later)).toBe(JSON.stringify(res));
    expect(condition(later).lastTransitionTime).toBe('2026-01-01T00:00:00Z');
  });

  it('a long parent name gives DNS-1123 child names of at most 63 characters', () => {
    const res = hooks.sync(syncRequest(parent('ArgoCDProvider', 'argocd-for-the-platform-engineering-team-of-the-emea-region-x', {})), env);
    expectValidChildren(res);
    expect((res.status.credentialsSecretRef as { name: string }).name).toBe(names(res, 'Secret')[0]);
  });

  it('finalize with Delete: uninstall Job (manifests deleted, release uninstalled); finalized only once it succeeded', () => {
    const { req } = installed();
    const f1 = hooks.finalize!({ ...req, finalizing: true, related: { ...req.related, ...noUsers('Package') } }, testEnv());
    expect(f1.finalized).toBe(false);
    expect(names(f1, 'Job')[0]).toMatch(/^argocd-uninstall-[0-9a-f]{8}$/);
    expectValidChildren(f1);
    const script = cmData(byKind(f1, 'ConfigMap')[0])['run.sh'];
    expect(script).toContain('kubectl delete --ignore-not-found --wait=true -f /config/manifests.yaml');
    expect(script).toContain('helm uninstall argocd --namespace argocd --wait --ignore-not-found --timeout 10m');
    expect(script.indexOf('kubectl delete')).toBeLessThan(script.indexOf('helm uninstall'));
    const installCm = Object.values(req.children!['ConfigMap.v1']);
    const f2 = hooks.finalize!({ ...req, children: toMap([...installCm, ...f1.children.map(succeed)]), finalizing: true, related: { ...req.related, ...noUsers('Package') } }, testEnv());
    expect(f2.finalized).toBe(true);
    expect(condition(f2).reason).toBe('Uninstalled');
  });

  it('finalize with Delete, fed back as Metacontroller does: not finalized while the uninstall Job runs', () => {
    const { req } = installed();
    const fReq = { ...req, finalizing: true, related: { ...req.related, ...noUsers('Package') } };
    const f1 = hooks.finalize!(fReq, testEnv());
    const f2 = hooks.finalize!({ ...next(fReq, f1, (o) => (o.kind === 'Job' ? jobRunning(o) : o)), finalizing: true, related: { ...req.related, ...noUsers('Package') } }, testEnv());
    expect(f2.finalized).toBe(false);
    expect(condition(f2)).toMatchObject({ reason: 'Uninstalling', message: 'uninstall job running' });
  });

  it('finalize with Retain: finalized, reason Retained, no uninstall Job', () => {
    const { req } = installed({ deletionPolicy: 'Retain' });
    const res = hooks.finalize!({ ...req, finalizing: true, related: { ...req.related, ...noUsers('Package') } }, testEnv());
    expect(res.finalized).toBe(true);
    expect(condition(res)).toMatchObject({ status: 'False', reason: 'Retained' });
    expect(names(res, 'Job').filter((n) => n.includes('-uninstall-'))).toEqual([]);
  });

  it('customize: pods, user Secret, gateway, server Deployment and controller StatefulSet', () => {
    const res = hooks.customize!({ parent: argocd({ namespace: 'gitops', adminCredentials: { secretRef: { name: 'argo-creds' } } }) }, env);
    expect(res.relatedResources.map((r) => `${r.apiVersion}:${r.resource}:${r.namespace}:${(r.names ?? []).join()}`)).toEqual([
      `v1:pods:${NS}:`,
      `v1:secrets:${NS}:argo-creds`,
      'apps/v1:deployments:gitops:argocd-server',
      'apps/v1:statefulsets:gitops:argocd-application-controller',
    ]);
  });
});
