import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { giteaProviderHooks as hooks } from '../../../src/controllers/giteaprovider.js';
import { gitOpsFiles } from '../../../src/controllers/platform.js';
import type { ReleaseSummary } from '../../../src/kit/helm.js';
import type { KubeObject, SyncRequest } from '../../../src/metacontroller/protocol.js';
import { parent, syncRequest, testEnv, noUsers } from '../../support/requests.js';
import { byKind, condition, jobFailed, jobRunning, jobSucceeded, next, toMap } from '../../support/world.js';
import { cmData, expectValidChildren, gatewayObject, names, NS, provider, secretData, statusText, userSecret, values, type GatewayName } from '../../support/providers.js';

const env = testEnv();
const gitea = (spec: Record<string, unknown> = {}, extra = {}) => parent('GiteaProvider', 'gitea', spec, extra);
const succeed = (o: KubeObject) => (o.kind === 'Job' ? jobSucceeded(o) : o);
const installJob = (o: KubeObject) => o.kind === 'Job' && o.metadata.labels?.['idpbuilder.cnoe.io/role'] === 'install';
const bootstrapJob = (o: KubeObject) => o.kind === 'Job' && o.metadata.labels?.['idpbuilder.cnoe.io/role'] === 'bootstrap';

/** install Job succeeded, bootstrap Job not yet observed. */
function installed(spec: Record<string, unknown> = {}, related = {}) {
  const req = syncRequest(gitea(spec), {}, related);
  const first = hooks.sync(req, testEnv());
  const req2 = next(req, first, succeed);
  return { req: req2, res: hooks.sync(req2, testEnv()), first };
}

/** install and bootstrap Jobs succeeded: Ready. */
function ready(spec: Record<string, unknown> = {}, related = {}) {
  const { req, res } = installed(spec, related);
  const req3 = next(req, res, succeed);
  return { req: req3, res: hooks.sync(req3, testEnv()) };
}

describe('GiteaProvider', () => {
  it('first sync: admin Secret, values ConfigMap and install Job; no bootstrap Job yet; git provider duck status', () => {
    const res = hooks.sync(syncRequest(gitea()), env);
    expect(res.children.map((c) => `${c.kind}/${c.metadata.name}`)).toEqual([
      'Secret/gitea-gitea-admin',
      expect.stringMatching(/^ConfigMap\/gitea-install-[0-9a-f]{8}$/),
      expect.stringMatching(/^Job\/gitea-install-[0-9a-f]{8}$/),
    ]);
    expectValidChildren(res);
    const [cm] = byKind(res, 'ConfigMap');
    const [job] = byKind(res, 'Job');
    expect(job.metadata.name).toBe(cm.metadata.name);
    expect(cmData(cm)['run.sh']).toContain(
      'helm upgrade --install gitea gitea --repo https://dl.gitea.com/charts/ --version 12.1.2 --namespace gitea --create-namespace --values /config/values-0.yaml --wait --timeout 10m',
    );
    // the chart reads the admin credential from a Secret by name: no password value, no --set-file
    const v = values(cm);
    expect(v.gitea.admin).toEqual({ existingSecret: 'gitea-credential', email: 'admin@gitea.cnoe.localtest.me', passwordMode: 'keepUpdated' });
    expect(cmData(cm)['run.sh']).not.toContain('--set-file');
    expect(v.gitea.config.database).toEqual({ DB_TYPE: 'sqlite3' });
    expect(v.gitea.config.server).toEqual({ DOMAIN: 'gitea.cnoe.localtest.me', ROOT_URL: 'https://gitea.cnoe.localtest.me/' });
    expect(v.ingress).toEqual({
      enabled: true,
      className: 'nginx',
      annotations: { 'nginx.ingress.kubernetes.io/proxy-body-size': '512m' },
      hosts: [{ host: 'gitea.cnoe.localtest.me', paths: [{ path: '/', pathType: 'Prefix' }] }],
      tls: [{ hosts: ['gitea.cnoe.localtest.me'] }],
    });
    expect(v.postgresql).toEqual({ enabled: false });
    expect(v.persistence).toEqual({ enabled: true, size: '5Gi' });
    // the install Job mounts the admin Secret (it copies it into gitea/gitea-credential)
    const pod = (job.spec as any).template.spec;
    expect(pod.containers[0].command).toEqual(['/bin/sh', '/config/run.sh']);
    expect(pod.volumes).toContainEqual({ name: 'secret-0', secret: { secretName: 'gitea-gitea-admin' } });
    expect(res.status).toMatchObject({
      phase: 'Installing',
      endpoint: 'https://gitea.cnoe.localtest.me',
      internalEndpoint: 'http://gitea-http.gitea.svc.cluster.local:3000',
      credentialsSecretRef: { name: 'gitea-gitea-token', namespace: NS, key: 'token' },
      version: '1.24.3',
      adminUser: { username: 'giteaAdmin' },
      installed: false,
      installation: { configMap: cm.metadata.name, job: job.metadata.name },
      observedGeneration: 1,
    });
    expect(condition(res)).toMatchObject({ status: 'False', reason: 'Installing', message: 'install job created', lastTransitionTime: '2026-01-01T00:00:00Z' });
    expect(secretData(byKind(res, 'Secret')[0])).toEqual({ username: 'giteaAdmin', password: expect.stringMatching(/^[A-Za-z0-9]{40}$/) });
  });

  it('the install values and their GitOps copy name the same credential Secret and carry no password value', () => {
    const res = hooks.sync(syncRequest(gitea({ adminUser: { passwordSecretRef: { name: 'gitea-creds' } } }), {}, toMap([userSecret('gitea-creds', { password: 'from-the-user-1' })])), env);
    const [cm] = byKind(res, 'ConfigMap');
    const install = values(cm);
    const releases = JSON.parse(cmData(cm)['releases.json']) as ReleaseSummary[];
    const files = gitOpsFiles({ kind: 'GiteaProvider', namespace: NS, name: 'gitea' }, releases, undefined);
    const gitOps = parse(files['gitea/values.yaml']).gitea;
    for (const v of [install, gitOps]) {
      expect(v.gitea.admin).toEqual({ existingSecret: 'gitea-credential', email: 'admin@gitea.cnoe.localtest.me', passwordMode: 'keepUpdated' });
      expect(v.gitea.admin).not.toHaveProperty('password');
    }
    expect(gitOps).toEqual(install);
    // the release Secret is described by names only; its source is the admin credential child
    expect(releases[0].secrets).toEqual([
      { name: 'gitea-credential', from: 'gitea-gitea-admin', keys: ['password', 'username'], labels: expect.any(Object), restart: ['deployment/gitea'] },
    ]);
    // the password is nowhere in the ConfigMap (values, script, summary) nor in the repository files
    for (const text of [...Object.values(cmData(cm)), ...Object.values(files)]) expect(text).not.toContain('from-the-user-1');
  });

  it('the install Job pod spec carries no password: the credential is a mounted Secret volume, no env value', () => {
    const res = hooks.sync(syncRequest(gitea()), env);
    const password = secretData(byKind(res, 'Secret')[0]).password;
    const [job] = byKind(res, 'Job');
    const pod = (job.spec as any).template.spec;
    expect(JSON.stringify(job)).not.toContain(password);
    for (const c of pod.containers) {
      for (const e of c.env ?? []) expect(e.name.toUpperCase().includes('PASSWORD') && 'value' in e, `env ${e.name}`).toBe(false);
    }
    expect(pod.volumes).toEqual(expect.arrayContaining([{ name: 'secret-0', secret: { secretName: 'gitea-gitea-admin' } }]));
    expect(pod.containers[0].volumeMounts).toContainEqual({ name: 'secret-0', mountPath: '/secrets/gitea-gitea-admin', readOnly: true });
    const script = cmData(byKind(res, 'ConfigMap')[0])['run.sh'];
    expect(script.indexOf('kubectl create secret generic gitea-credential')).toBeGreaterThan(-1);
    expect(script.indexOf('kubectl create secret generic gitea-credential')).toBeLessThan(script.indexOf('helm upgrade --install gitea'));
  });

  it('path routing, a gateway and a custom admin: endpoint, ingress and ROOT_URL follow', () => {
    const related = toMap([provider('NginxGateway', 'edge', { routeKind: 'Ingress', ingressClassName: 'edge-nginx', prefixRewrite: 'NginxRewriteTarget' })]);
    const res = hooks.sync(
      syncRequest(
        gitea({
          namespace: 'git',
          adminUser: { username: 'root', email: 'root@example.com' },
          routing: { domain: 'idp.example.com', usePathRouting: true, protocol: 'https', port: 8443, gatewayRef: { kind: 'NginxGateway', name: 'edge' } },
        }),
        {},
        related,
      ),
      env,
    );
    const v = values(byKind(res, 'ConfigMap')[0]);
    expect(v.gitea.config.server).toEqual({ DOMAIN: 'idp.example.com', ROOT_URL: 'https://idp.example.com:8443/gitea/' });
    expect(v.gitea.admin).toEqual({ existingSecret: 'gitea-credential', email: 'root@example.com', passwordMode: 'keepUpdated' });
    // the username reaches the chart through the credential Secret, which the install Job writes into `git`
    expect(cmData(byKind(res, 'ConfigMap')[0])['run.sh']).toContain("kubectl create secret generic gitea-credential --namespace git --from-file=password=/secrets/gitea-gitea-admin/password --from-file=username=/secrets/gitea-gitea-admin/username");
    expect(v.ingress.className).toBe('edge-nginx');
    expect(v.ingress.hosts).toEqual([{ host: 'idp.example.com', paths: [{ path: '/gitea(/|$)(.*)', pathType: 'ImplementationSpecific' }] }]);
    expect(res.status).toMatchObject({
      endpoint: 'https://idp.example.com:8443/gitea',
      internalEndpoint: 'http://gitea-http.git.svc.cluster.local:3000',
      adminUser: { username: 'root' },
    });
    expect(secretData(byKind(res, 'Secret')[0]).username).toBe('root');
  });

  describe('routing through each gateway kind', () => {
    const HOST = 'gitea.idp.example.com';
    const DOMAIN = 'idp.example.com';
    const backend = { service: { name: 'gitea-http', port: { number: 3000 } } };
    function sync(gateway: GatewayName, usePathRouting: boolean) {
      const spec = { routing: { domain: DOMAIN, usePathRouting, gatewayRef: { kind: gatewayObject(gateway).kind, name: 'edge' } } };
      return hooks.sync(syncRequest(gitea(spec), {}, toMap([gatewayObject(gateway)])), env);
    }
    const manifestsOf = (res: ReturnType<typeof sync>) => parseAllDocuments(cmData(byKind(res, 'ConfigMap')[0])['manifests.yaml'] ?? '').map((d) => d.toJS());

    it('nginx, host routing: the chart Ingress of class nginx at /, nothing else', () => {
      const res = sync('nginx', false);
      const v = values(byKind(res, 'ConfigMap')[0]);
      expect(v.ingress).toEqual({
        enabled: true,
        className: 'nginx',
        annotations: { 'nginx.ingress.kubernetes.io/proxy-body-size': '512m' },
        hosts: [{ host: HOST, paths: [{ path: '/', pathType: 'Prefix' }] }],
        tls: [{ hosts: [HOST] }],
      });
      expect(v.gitea.config.server).toEqual({ DOMAIN: HOST, ROOT_URL: `https://${HOST}/` });
      expect(manifestsOf(res)).toEqual([]);
    });

    it('nginx, path routing: /gitea stripped by rewrite-target, /v2 unchanged in its own Ingress', () => {
      const res = sync('nginx', true);
      const v = values(byKind(res, 'ConfigMap')[0]);
      expect(v.ingress).toEqual({
        enabled: true,
        className: 'nginx',
        annotations: { 'nginx.ingress.kubernetes.io/rewrite-target': '/$2', 'nginx.ingress.kubernetes.io/proxy-body-size': '512m' },
        hosts: [{ host: DOMAIN, paths: [{ path: '/gitea(/|$)(.*)', pathType: 'ImplementationSpecific' }] }],
        tls: [{ hosts: [DOMAIN] }],
      });
      expect(v.gitea.config.server).toEqual({ DOMAIN, ROOT_URL: `https://${DOMAIN}/gitea/` });
      expect(manifestsOf(res)).toEqual([
        {
          apiVersion: 'networking.k8s.io/v1',
          kind: 'Ingress',
          metadata: { name: 'gitea-registry', namespace: 'gitea', labels: expect.objectContaining({ 'idpbuilder.cnoe.io/role': 'route' }), annotations: { 'nginx.ingress.kubernetes.io/proxy-body-size': '512m' } },
          spec: { ingressClassName: 'nginx', rules: [{ host: DOMAIN, http: { paths: [{ path: '/v2', pathType: 'Prefix', backend }] } }], tls: [{ hosts: [DOMAIN] }] },
        },
      ]);
      expect(res.status.endpoint).toBe(`https://${DOMAIN}/gitea`);
    });

    it('istio, host routing: the chart Ingress of class istio at /', () => {
      const res = sync('istio', false);
      const v = values(byKind(res, 'ConfigMap')[0]);
      expect(v.ingress).toMatchObject({ enabled: true, className: 'istio', hosts: [{ host: HOST, paths: [{ path: '/', pathType: 'Prefix' }] }] });
      expect(manifestsOf(res)).toEqual([]);
    });

    it('istio, path routing: refused with InvalidSpec (Istio cannot strip /gitea, Gitea needs it stripped); nothing installed', () => {
      const res = sync('istio', true);
      expect(condition(res)).toMatchObject({ status: 'False', reason: 'InvalidSpec' });
      expect(condition(res).message).toContain('Gitea needs /gitea stripped');
      expect(condition(res).message).toContain('Ingress class istio');
      expect(res.children.map((c) => c.kind)).toEqual(['Secret']);
    });

    it('envoy, host routing: no chart Ingress; one HTTPRoute attached to the Gateway, / to gitea-http:3000', () => {
      const res = sync('envoy', false);
      const v = values(byKind(res, 'ConfigMap')[0]);
      expect(v.ingress).toEqual({ enabled: false });
      expect(manifestsOf(res)).toEqual([
        {
          apiVersion: 'gateway.networking.k8s.io/v1',
          kind: 'HTTPRoute',
          metadata: { name: 'gitea', namespace: 'gitea', labels: expect.objectContaining({ 'idpbuilder.cnoe.io/role': 'route' }) },
          spec: {
            parentRefs: [{ name: 'edge', namespace: 'envoy-gateway-system' }],
            hostnames: [HOST],
            rules: [{ matches: [{ path: { type: 'PathPrefix', value: '/' } }], backendRefs: [{ name: 'gitea-http', port: 3000 }] }],
          },
        },
      ]);
      expect(res.status.endpoint).toBe(`https://${HOST}`);
    });

    it('envoy, path routing: /gitea with its prefix replaced by /, /v2 unchanged, both to gitea-http:3000', () => {
      const res = sync('envoy', true);
      expect(values(byKind(res, 'ConfigMap')[0]).ingress).toEqual({ enabled: false });
      expect(values(byKind(res, 'ConfigMap')[0]).gitea.config.server).toEqual({ DOMAIN, ROOT_URL: `https://${DOMAIN}/gitea/` });
      const [route] = manifestsOf(res);
      expect(route.spec).toEqual({
        parentRefs: [{ name: 'edge', namespace: 'envoy-gateway-system' }],
        hostnames: [DOMAIN],
        rules: [
          {
            matches: [{ path: { type: 'PathPrefix', value: '/gitea' } }],
            filters: [{ type: 'URLRewrite', urlRewrite: { path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/' } } }],
            backendRefs: [{ name: 'gitea-http', port: 3000 }],
          },
          { matches: [{ path: { type: 'PathPrefix', value: '/v2' } }], backendRefs: [{ name: 'gitea-http', port: 3000 }] },
        ],
      });
    });

    it('routing turned off (config.ingress.enabled: false): no Ingress, no HTTPRoute, and path routing through Istio is no error', () => {
      for (const g of ['nginx', 'istio', 'envoy'] as const) {
        const spec = { config: { ingress: { enabled: false } }, routing: { usePathRouting: true, gatewayRef: { kind: gatewayObject(g).kind, name: 'edge' } } };
        const res = hooks.sync(syncRequest(gitea(spec), {}, toMap([gatewayObject(g)])), env);
        expect(values(byKind(res, 'ConfigMap')[0]).ingress, g).toEqual({ enabled: false });
        expect(cmData(byKind(res, 'ConfigMap')[0])['manifests.yaml'], g).toBeUndefined();
      }
    });

    it('a gateway whose status does not say where routes go yet: WaitingForGateway', () => {
      const gw = provider('EnvoyGateway', 'edge', { routeKind: 'HTTPRoute' });
      const res = hooks.sync(syncRequest(gitea({ routing: { gatewayRef: { kind: 'EnvoyGateway', name: 'edge' } } }), {}, toMap([gw])), env);
      expect(condition(res)).toMatchObject({ status: 'False', reason: 'WaitingForGateway', message: `waiting for gateway EnvoyGateway ${NS}/edge: no parentRef (name and namespace) yet` });
    });
  });

  it('install succeeded: the bootstrap Job appears (organizations, token Secret) and Ready waits for it', () => {
    const { res, first } = installed();
    expectValidChildren(res);
    const installName = byKind(first, 'Job')[0].metadata.name;
    const boot = res.children.filter(bootstrapJob);
    expect(boot).toHaveLength(1);
    expect(boot[0].metadata.name).toMatch(/^gitea-bootstrap-[0-9a-f]{8}$/);
    expect(names(res, 'Job')).toEqual([installName, boot[0].metadata.name]);
    const c = (boot[0].spec as any).template.spec.containers[0];
    expect(c.command).toEqual(['idpbuilder', 'job', 'gitea-bootstrap', '--config', '/config/config.json']);
    expect(c.env).toContainEqual({ name: 'GITEA_PASSWORD', valueFrom: { secretKeyRef: { name: 'gitea-gitea-admin', key: 'password' } } });
    expect(c.env).toContainEqual({ name: 'GITEA_USERNAME', valueFrom: { secretKeyRef: { name: 'gitea-gitea-admin', key: 'username' } } });
    const bootCm = byKind(res, 'ConfigMap').find((o) => o.metadata.name === boot[0].metadata.name)!;
    expect(JSON.parse(cmData(bootCm)['config.json'])).toEqual({
      endpoint: 'http://gitea-http.gitea.svc.cluster.local:3000',
      organizations: [{ name: 'idpbuilder', description: 'idpbuilder repositories' }],
      tokenName: 'idpbuilder',
      tokenSecret: {
        namespace: NS,
        name: 'gitea-gitea-token',
        labels: { 'app.kubernetes.io/managed-by': 'idpbuilder', 'idpbuilder.cnoe.io/giteaprovider': 'gitea', 'idpbuilder.cnoe.io/role': 'credentials' },
        ownerReference: { apiVersion: 'idpbuilder.cnoe.io/v1alpha2', kind: 'GiteaProvider', name: 'gitea', uid: 'uid-gitea' },
      },
      timeoutSeconds: 600,
    });
    expect(res.status).toMatchObject({ phase: 'Installing', installed: true });
    expect(condition(res)).toMatchObject({ status: 'False', reason: 'Bootstrap', message: 'bootstrap job created' });
  });

  it('install running: no bootstrap Job, still Installing', () => {
    const req = syncRequest(gitea());
    const res = hooks.sync(next(req, hooks.sync(req, testEnv()), (o) => (o.kind === 'Job' ? jobRunning(o) : o)), testEnv());
    expect(res.children.filter(bootstrapJob)).toEqual([]);
    expect(condition(res)).toMatchObject({ status: 'False', reason: 'Installing', message: 'install job running' });
  });

  it('install and bootstrap succeeded: Ready=True, reason Available', () => {
    const { res } = ready();
    expect(res.status.phase).toBe('Ready');
    expect(condition(res)).toMatchObject({ status: 'True', reason: 'Available', message: 'GiteaProvider is installed and available' });
    expect(condition(res, 'Degraded')).toMatchObject({ status: 'False', reason: 'AsExpected' });
    expect(condition(res, 'Progressing').status).toBe('False');
    expect(res.status.installed).toBe(true);
    expect(res.children.map((c) => c.kind)).toEqual(['Secret', 'ConfigMap', 'Job', 'ConfigMap', 'Job']);
  });

  it('organizations from the spec go to the bootstrap config', () => {
    const { res } = installed({ organizations: [{ name: 'platform' }, { name: 'apps', description: 'applications' }] });
    const bootCm = byKind(res, 'ConfigMap').find((o) => o.metadata.name.startsWith('gitea-bootstrap-'))!;
    expect(JSON.parse(cmData(bootCm)['config.json']).organizations).toEqual([{ name: 'platform' }, { name: 'apps', description: 'applications' }]);
  });

  it('install failed: phase Failed, Ready=False with the Job failure message, no bootstrap Job', () => {
    const req = syncRequest(gitea());
    const first = hooks.sync(req, testEnv());
    const res = hooks.sync(next(req, first, (o) => (o.kind === 'Job' ? jobFailed(o, 'Job was active longer than specified deadline') : o)), testEnv());
    expect(res.status.phase).toBe('Failed');
    const nextRetryTime = (res.status.installation as { nextRetryTime?: string }).nextRetryTime;
    expect(nextRetryTime).toEqual(expect.any(String));
    expect(condition(res)).toMatchObject({
      status: 'False',
      reason: 'InstallFailed',
      message: `install job failed: BackoffLimitExceeded: Job was active longer than specified deadline (attempt 1; retry at ${nextRetryTime})`,
    });
    expect(condition(res, 'Degraded')).toMatchObject({ status: 'True', reason: 'InstallFailed' });
    expect(res.children.filter(bootstrapJob)).toEqual([]);
    expect(names(res, 'Job')).toEqual(names(first, 'Job'));
  });

  it('bootstrap failed: phase Failed with reason BootstrapFailed', () => {
    const { req, res } = installed();
    const out = hooks.sync(next(req, res, (o) => (bootstrapJob(o) ? jobFailed(o, 'gitea API unreachable') : succeed(o))), testEnv());
    expect(out.status.phase).toBe('Failed');
    expect(condition(out)).toMatchObject({ status: 'False', reason: 'BootstrapFailed', message: 'bootstrap job failed: BackoffLimitExceeded: gitea API unreachable' });
  });

  it('spec change: the new install Job is created; the old (finished) Job and ConfigMap are kept until the new Job has finished, then dropped', () => {
    const { req, res: before } = ready();
    const oldJob = before.children.find(installJob)!.metadata.name;
    const oldBootstrap = before.children.find(bootstrapJob)!.metadata.name;
    const changed: SyncRequest = { ...next(req, before, succeed), parent: { ...gitea({ config: { persistence: { size: '20Gi' } } }, { metadata: { generation: 2 } }), status: before.status } as KubeObject };
    const res = hooks.sync(changed, testEnv());
    const newJob = (res.status.installation as { job: string }).job;
    expect(newJob).toMatch(/^gitea-install-[0-9a-f]{8}$/);
    expect(newJob).not.toBe(oldJob);
    expect(res.children.filter(installJob).map((j) => j.metadata.name).sort()).toEqual([oldJob, newJob].sort());
    expect(names(res, 'ConfigMap')).toEqual(expect.arrayContaining([oldJob, newJob]));
    // the completed bootstrap Job is kept too: its token Secret is what the platform uses
    expect(names(res, 'Job')).toContain(oldBootstrap);
    expect(values(byKind(res, 'ConfigMap').find((c) => c.metadata.name === newJob)!).persistence).toEqual({ enabled: true, size: '20Gi' });
    // the installed Gitea keeps serving while the new install Job runs
    expect(res.status.phase).toBe('Ready');
    expect(condition(res)).toMatchObject({ status: 'True', reason: 'Upgrading' });
    expect(condition(res, 'Progressing')).toMatchObject({ status: 'True', reason: 'Upgrading' });
    const done = hooks.sync(next(changed, res, succeed), testEnv());
    expect(done.children.filter(installJob).map((j) => j.metadata.name)).toEqual([newJob]);
    expect(names(done)).not.toContain(oldJob);
  });

  it('gatewayRef to a missing gateway: GatewayNotFound, the admin Secret and install children are kept', () => {
    const spec = { routing: { gatewayRef: { kind: 'NginxGateway', name: 'edge' } } };
    const related = toMap([provider('NginxGateway', 'edge', { ingressClassName: 'nginx' })]);
    const { req, res } = installed(spec, related);
    const gone = hooks.sync({ ...next(req, res, succeed), related: {} }, testEnv());
    expect(gone.status.phase).toBe('Pending');
    expect(condition(gone)).toMatchObject({ status: 'False', reason: 'GatewayNotFound', message: `gateway NginxGateway ${NS}/edge not found` });
    const installChildren = res.children.filter((o) => o.metadata.labels?.['idpbuilder.cnoe.io/role'] === 'install');
    expect(installChildren).toHaveLength(2);
    for (const o of installChildren) expect(childKeysOf(gone)).toContain(`${o.kind}/${o.metadata.name}`);
    expect(childKeysOf(gone)).toContain('Secret/gitea-gitea-admin');
    // the generated password survives the blocked sync
    expect(secretData(byKind(gone, 'Secret')[0]).password).toBe(secretData(byKind(res, 'Secret')[0]).password);
  });

  it('a gateway that is not Ready yet: WaitingForGateway', () => {
    const related = toMap([provider('NginxGateway', 'edge', { ingressClassName: 'nginx' }, { ready: false })]);
    const res = hooks.sync(syncRequest(gitea({ routing: { gatewayRef: { kind: 'NginxGateway', name: 'edge' } } }), {}, related), env);
    expect(condition(res)).toMatchObject({ status: 'False', reason: 'WaitingForGateway' });
    expect(byKind(res, 'Job')).toEqual([]);
  });

  // Errors never delete (DESIGN.md decision 3): a blocked sync keeps every observed child, bootstrap ones included.
  it('gateway gone after bootstrap: the bootstrap Job and ConfigMap are kept too', () => {
    const spec = { routing: { gatewayRef: { kind: 'NginxGateway', name: 'edge' } } };
    const related = toMap([provider('NginxGateway', 'edge', { ingressClassName: 'nginx' })]);
    const { req, res } = ready(spec, related);
    const gone = hooks.sync({ ...next(req, res, succeed), related: {} }, testEnv());
    expect(condition(gone).reason).toBe('GatewayNotFound');
    expect(childKeysOf(gone).sort()).toEqual(childKeysOf(res).sort());
  });

  it('passwordSecretRef (autoGenerate false) to a missing Secret: SecretNotFound, install children kept', () => {
    const spec = { adminUser: { autoGenerate: false, passwordSecretRef: { name: 'gitea-creds', key: 'pw' } } };
    const related = toMap([userSecret('gitea-creds', { pw: 'hunter2-from-user' })]);
    const { req, res } = installed(spec, related);
    expect(secretData(byKind(res, 'Secret')[0]).password).toBe('hunter2-from-user');
    const gone = hooks.sync({ ...next(req, res, succeed), related: {} }, testEnv());
    expect(gone.status.phase).toBe('Pending');
    expect(condition(gone)).toMatchObject({ status: 'False', reason: 'SecretNotFound', message: `secret ${NS}/gitea-creds (key pw) not found` });
    for (const o of res.children.filter((x) => x.metadata.labels?.['idpbuilder.cnoe.io/role'] === 'install')) expect(childKeysOf(gone)).toContain(`${o.kind}/${o.metadata.name}`);
  });

  // The observed admin Secret (the password Gitea runs with, mounted by the kept install Job) stays while blocked.
  it('passwordSecretRef Secret gone: the observed admin Secret is kept as well', () => {
    const spec = { adminUser: { autoGenerate: false, passwordSecretRef: { name: 'gitea-creds', key: 'pw' } } };
    const related = toMap([userSecret('gitea-creds', { pw: 'hunter2-from-user' })]);
    const { req, res } = installed(spec, related);
    const gone = hooks.sync({ ...next(req, res, succeed), related: {} }, testEnv());
    expect(condition(gone).reason).toBe('SecretNotFound');
    expect(childKeysOf(gone)).toContain('Secret/gitea-gitea-admin');
  });

  it('passwordSecretRef with an existing Secret: its value is the admin password, and a change makes a new install Job', () => {
    const spec = { adminUser: { passwordSecretRef: { name: 'gitea-creds' } } };
    const res = hooks.sync(syncRequest(gitea(spec), {}, toMap([userSecret('gitea-creds', { password: 'from-the-user-1' })])), env);
    expect(secretData(byKind(res, 'Secret')[0])).toEqual({ username: 'giteaAdmin', password: 'from-the-user-1' });
    const req2 = next(syncRequest(gitea(spec)), res, succeed, toMap([userSecret('gitea-creds', { password: 'from-the-user-2' })]));
    const res2 = hooks.sync(req2, env);
    expect(secretData(byKind(res2, 'Secret')[0]).password).toBe('from-the-user-2');
    expect(names(res2, 'Job')[0]).not.toBe(names(res, 'Job')[0]);
  });

  it('the generated password is reused from the observed Secret, whatever the randomness', () => {
    const req = syncRequest(gitea());
    const first = hooks.sync(req, testEnv('2026-01-01T00:00:00Z', 'seed-a'));
    const password = secretData(byKind(first, 'Secret')[0]).password;
    expect(password).toHaveLength(40);
    const second = hooks.sync(next(req, first, succeed), testEnv('2026-01-01T00:00:00Z', 'seed-b'));
    expect(secretData(byKind(second, 'Secret')[0]).password).toBe(password);
    // the install Job is the same one (its name hashes the Secret's digest)
    expect(names(second, 'Job')[0]).toBe(names(first, 'Job')[0]);
    // without the observed Secret another seed gives another password
    const fresh = hooks.sync(req, testEnv('2026-01-01T00:00:00Z', 'seed-b'));
    expect(secretData(byKind(fresh, 'Secret')[0]).password).not.toBe(password);
  });

  it('no Secret value appears in status or in the ConfigMaps', () => {
    const userPw = 'user-supplied-Secret-123';
    for (const { res } of [ready(), ready({ adminUser: { passwordSecretRef: { name: 'gitea-creds' } } }, toMap([userSecret('gitea-creds', { password: userPw })]))]) {
      const password = secretData(byKind(res, 'Secret')[0]).password;
      expect(password.length).toBeGreaterThan(8);
      const b64 = Buffer.from(password).toString('base64');
      for (const text of [statusText(res), ...byKind(res, 'ConfigMap').map((c) => JSON.stringify(c))]) {
        expect(text).not.toContain(password);
        expect(text).not.toContain(b64);
      }
    }
  });

  it('determinism: same request, byte-identical answer; a later clock keeps lastTransitionTime', () => {
    const req = syncRequest(gitea());
    expect(JSON.stringify(hooks.sync(req, testEnv()))).toBe(JSON.stringify(hooks.sync(req, testEnv())));
    const { req: readyReq, res } = ready();
    const again = next(readyReq, res, succeed);
    const a = hooks.sync(again, testEnv('2026-01-01T00:00:00Z', 'x'));
    const b = hooks.sync(again, testEnv('2026-03-01T12:00:00Z', 'y'));
    expect(JSON.stringify(b)).toBe(JSON.stringify(a));
    expect(JSON.stringify(a)).toBe(JSON.stringify(res));
    expect(condition(b).lastTransitionTime).toBe(condition(res).lastTransitionTime);
  });

  it('a long parent name still gives DNS-1123 child names of at most 63 characters', () => {
    const long = 'a-very-long-gitea-provider-name-for-a-team-with-a-long-name-x';
    const req = syncRequest(parent('GiteaProvider', long, {}));
    const first = hooks.sync(req, testEnv());
    const res = hooks.sync(next(req, first, succeed), testEnv());
    expect(res.children).toHaveLength(5);
    expectValidChildren(res);
    expect(new Set(names(res)).size).toBe(3); // Secret, install ConfigMap+Job, bootstrap ConfigMap+Job
    const token = (res.status.credentialsSecretRef as { name: string }).name;
    expect(token.length).toBeLessThanOrEqual(63);
    expect(token).not.toBe(names(res, 'Secret')[0]);
  });

  // BUG: ownerLabels (src/kit/labels.ts:11) puts the parent's name as a label value (`idpbuilder.cnoe.io/<kind>: <name>`);
  // metadata.name of our kinds may be up to 253 characters, a label value only 63, so every child of a parent with a
  // longer name is rejected by the API server. Same for every controller. Fix: use a label-safe value (childName of the
  // name, truncated + hash) and keep the full name in an annotation.
  it('a parent name longer than 63 characters still gives valid label values (at most 63 characters)', () => {
    const long = 'gitea-provider-of-the-platform-engineering-team-in-the-emea-region-production';
    expect(long.length).toBeGreaterThan(63);
    const res = hooks.sync(syncRequest(parent('GiteaProvider', long, {})), testEnv());
    expectValidChildren(res);
    for (const c of res.children) for (const v of Object.values(c.metadata.labels ?? {})) expect(v.length, `${c.kind} label ${v}`).toBeLessThanOrEqual(63);
  });

  it('finalize with deletionPolicy Delete: an uninstall Job; finalized only once it succeeded', () => {
    const { req } = ready();
    const f1 = hooks.finalize!({ ...req, finalizing: true, related: { ...req.related, ...noUsers('GitRepository') } }, testEnv());
    expect(f1.finalized).toBe(false);
    // the uninstall ConfigMap and Job, and the install ConfigMap kept so every finalize call finds the same plan;
    // the other observed children are retained by the contract (they go with the parent once finalized)
    expect(f1.children.slice(0, 3).map((c) => `${c.kind}/${c.metadata.labels?.['idpbuilder.cnoe.io/role']}`)).toEqual(['ConfigMap/uninstall', 'Job/uninstall', 'ConfigMap/install']);
    expect(childKeysOf(f1).slice(3).sort()).toEqual(childKeysOf({ children: Object.values(req.children!).flatMap((g) => Object.values(g)) }).filter((k) => !childKeysOf(f1).slice(0, 3).includes(k)).sort());
    expect(names(f1, 'Job')[0]).toMatch(/^gitea-uninstall-[0-9a-f]{8}$/);
    expectValidChildren(f1);
    expect(cmData(byKind(f1, 'ConfigMap')[0])['run.sh']).toContain(
      'helm uninstall gitea --namespace gitea --wait --ignore-not-found --timeout 10m\nkubectl delete secret gitea-credential --namespace gitea --ignore-not-found\n',
    );
    expect(condition(f1)).toMatchObject({ status: 'False', reason: 'Uninstalling', message: 'uninstall job created' });
    // install ConfigMap still observed beside the finished uninstall Job
    const installCm = Object.values(req.children!['ConfigMap.v1']).filter((c) => c.metadata.labels?.['idpbuilder.cnoe.io/role'] === 'install');
    const f2 = hooks.finalize!({ ...req, children: toMap([...installCm, ...f1.children.map(succeed)]), finalizing: true, related: { ...req.related, ...noUsers('GitRepository') } }, testEnv());
    expect(f2.finalized).toBe(true);
    expect(condition(f2)).toMatchObject({ reason: 'Uninstalled' });
    expect(f2.status.installed).toBe(false);
    const f3 = hooks.finalize!({ ...req, children: toMap([...installCm, ...f1.children.map((c) => (c.kind === 'Job' ? jobFailed(c, 'helm: timed out') : c))]), finalizing: true, related: { ...req.related, ...noUsers('GitRepository') } }, testEnv());
    expect(f3.finalized).toBe(false);
    expect(f3.status.phase).toBe('Failed');
    expect(condition(f3).message).toContain('helm: timed out');
  });

  // The install ConfigMap stays through finalize, so the next finalize call finds the same plan and uninstall Job.
  it('finalize with Delete, as Metacontroller plays it: not finalized while the uninstall Job is still running', () => {
    const { req } = ready();
    const fReq = { ...req, finalizing: true, related: { ...req.related, ...noUsers('GitRepository') } };
    const f1 = hooks.finalize!(fReq, testEnv());
    expect(f1.finalized).toBe(false);
    const f2 = hooks.finalize!({ ...next(fReq, f1, (o) => (o.kind === 'Job' ? jobRunning(o) : o)), finalizing: true, related: { ...req.related, ...noUsers('GitRepository') } }, testEnv());
    expect(f2.finalized).toBe(false);
    expect(names(f2, 'Job')).toEqual(names(f1, 'Job'));
  });

  it('finalize with deletionPolicy Retain: finalized, reason Retained, nothing run', () => {
    const { req } = ready({ deletionPolicy: 'Retain' });
    const res = hooks.finalize!({ ...req, finalizing: true, related: { ...req.related, ...noUsers('GitRepository') } }, testEnv());
    expect(res.finalized).toBe(true);
    // nothing new: only what was observed (it goes with the parent)
    expect(names(res, 'Job').filter((n) => n.includes('-uninstall-'))).toEqual([]);
    expect(byKind(res, 'ConfigMap').filter((c) => c.metadata.labels?.['idpbuilder.cnoe.io/role'] === 'uninstall')).toEqual([]);
    expect(condition(res)).toMatchObject({
      reason: 'Retained',
      message:
        'deletionPolicy is Retain: the installation is left in place: release gitea in namespace gitea, with the namespace and everything in it (volumes and their data, Secrets), its cluster-scoped objects (CRDs, cluster roles, webhooks) and chart hook objects; a provider that installs the same release there later takes it over, data included',
    });
    // no uninstall Job: gitea/gitea-credential stays with the release it serves
    expect(res.status.endpoint).toBe('https://gitea.cnoe.localtest.me');
  });

  it('customize: Job pods, the password Secret and the gateway', () => {
    const res = hooks.customize!(
      { parent: gitea({ adminUser: { passwordSecretRef: { name: 'gitea-creds' } }, routing: { gatewayRef: { kind: 'NginxGateway', name: 'edge', namespace: 'net' } } }) },
      env,
    );
    expect(res.relatedResources).toEqual([
      { apiVersion: 'v1', resource: 'pods', namespace: NS, labelSelector: { matchLabels: { 'idpbuilder.cnoe.io/owner-uid': 'uid-gitea' } } },
      { apiVersion: 'v1', resource: 'secrets', namespace: NS, names: ['gitea-creds'] },
      { apiVersion: 'idpbuilder.cnoe.io/v1alpha2', resource: 'nginxgateways', namespace: 'net', names: ['edge'] },
      // the gateway is in another namespace: that namespace's ReferenceGrants decide whether it may be used
      { apiVersion: 'idpbuilder.cnoe.io/v1alpha2', resource: 'referencegrants', namespace: 'net' },
    ]);
  });
  it('a failing Job that printed the admin password does not put it into status', () => {
    const req = syncRequest(gitea());
    const first = hooks.sync(req, env);
    const password = secretData(byKind(first, 'Secret')[0]).password;
    const leaked = (o: KubeObject) => (installJob(o) ? jobFailed(o, `helm: bad value gitea.admin.password=${password}`) : o);
    const res = hooks.sync(next(req, first, leaked), env);
    expect(condition(res).reason).toBe('InstallFailed');
    expect(condition(res).message).toContain('gitea.admin.password=***');
    expect(JSON.stringify(res.status)).not.toContain(password);
  });
});

function childKeysOf(res: { children: KubeObject[] }): string[] {
  return res.children.map((c) => `${c.kind}/${c.metadata.name}`);
}
