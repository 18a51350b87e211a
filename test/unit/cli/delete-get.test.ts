import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { corednsJSON, KIND_COREFILE, objectsOf, runCli } from '../../fixtures/cli/canned.js';
import { standIns, type StandIns } from '../../fixtures/cli/standins.js';
import { patchCorefile } from '../../../src/cli/create/coredns.js';

let si: StandIns | undefined;
afterEach(() => {
  si?.cleanup();
  si = undefined;
});

const b64 = (s: string) => Buffer.from(s).toString('base64');
const list = (items: unknown[]) => JSON.stringify({ apiVersion: 'v1', kind: 'List', items });

describe('idpbuilder delete', () => {
  it('deletes the kind cluster (and its registry config directory)', async () => {
    si = standIns({ kind: [], docker: [] });
    const cache = join(si.env.HOME!, '.cache', 'idpbuilder', 'localdev', 'certs.d');
    mkdirSync(cache, { recursive: true });
    const r = await runCli(['delete'], si);
    expect(r.code).toBe(0);
    expect(si.calls()).toEqual(['kind delete cluster --name localdev']);
    expect(existsSync(cache)).toBe(false);
    expect(r.out).toContain('Deleted kind cluster "localdev"');
  });

  it('--name picks the cluster', async () => {
    si = standIns({ kind: [], docker: [] });
    expect((await runCli(['delete', '--name', 'other'], si)).code).toBe(0);
    expect(si.calls()).toEqual(['kind delete cluster --name other']);
  });

  it('missing kind: one clear line', async () => {
    si = standIns({ docker: [] });
    const r = await runCli(['delete'], si);
    expect(r.code).toBe(1);
    expect(r.err).toBe('error: idpbuilder delete needs kind on your PATH: install kind (https://kind.sigs.k8s.io/docs/user/quick-start/#installation) and run it again\n');
  });

  it('--kubeconfig: deletes packages, repositories, the Platform, the providers and the rest, in order, and the CoreDNS rules', async () => {
    const patched = patchCorefile(KIND_COREFILE, ['cnoe.localtest.me'], 'idpbuilder-ingress.ingress-nginx.svc.cluster.local')!;
    si = standIns({ kubectl: [{ match: '*get configmap coredns*', stdout: corednsJSON(patched) }] });
    const r = await runCli(['delete', '--kubeconfig', '/k', '--timeout', '2m'], si);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const sel = '-l idpbuilder.cnoe.io/cli-platform=localdev --ignore-not-found --wait=true --timeout=120s';
    expect(si.calls()).toEqual([
      `kubectl --kubeconfig /k delete packages.idpbuilder.cnoe.io -n idpbuilder-system ${sel}`,
      `kubectl --kubeconfig /k delete gitrepositories.idpbuilder.cnoe.io -n idpbuilder-system ${sel}`,
      `kubectl --kubeconfig /k delete platforms.idpbuilder.cnoe.io -n idpbuilder-system ${sel}`,
      `kubectl --kubeconfig /k delete argocdproviders.idpbuilder.cnoe.io,giteaproviders.idpbuilder.cnoe.io,nginxgateways.idpbuilder.cnoe.io,envoygateways.idpbuilder.cnoe.io,istiogateways.idpbuilder.cnoe.io,fluxproviders.idpbuilder.cnoe.io -n idpbuilder-system ${sel}`,
      `kubectl --kubeconfig /k delete secrets,configmaps,services -A ${sel}`,
      'kubectl --kubeconfig /k get configmap coredns -n kube-system -o json --ignore-not-found',
      'kubectl --kubeconfig /k apply --server-side --force-conflicts --field-manager=idpbuilder -f -',
    ]);
    expect(objectsOf(si.inputsOf(/ apply /)[0])[0].data.Corefile).toBe(KIND_COREFILE);
    expect(r.out).toContain('helm uninstall idpbuilder -n idpbuilder-system');
  });

  it('--kubeconfig: a step that does not finish is reported with what to look at', async () => {
    si = standIns({ kubectl: [{ match: '*delete platforms*', exit: 1, stdout: '' }] });
    const r = await runCli(['delete', '--kubeconfig', '/k'], si);
    expect(r.code).toBe(1);
    expect(r.err).toContain('error: deleting the Platform did not finish within 10m');
    expect(si.calls().some((c) => c.includes('providers'))).toBe(false);
  });
});

const gitea = {
  apiVersion: 'idpbuilder.cnoe.io/v1alpha2',
  kind: 'GiteaProvider',
  metadata: { name: 'gitea', namespace: 'idpbuilder-system' },
  status: { credentialsSecretRef: { name: 'gitea-gitea-token', namespace: 'idpbuilder-system', key: 'token' } },
};
const argocd = {
  apiVersion: 'idpbuilder.cnoe.io/v1alpha2',
  kind: 'ArgoCDProvider',
  metadata: { name: 'argocd', namespace: 'idpbuilder-system' },
  status: { credentialsSecretRef: { name: 'argocd-argocd-admin', namespace: 'idpbuilder-system', key: 'password' } },
};
const nginx = { apiVersion: 'idpbuilder.cnoe.io/v1alpha2', kind: 'NginxGateway', metadata: { name: 'nginx', namespace: 'idpbuilder-system' }, status: {} };
const secret = (name: string, labels: Record<string, string>, data: Record<string, string>, namespace = 'idpbuilder-system') => ({
  apiVersion: 'v1',
  kind: 'Secret',
  metadata: { name, namespace, labels },
  data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, b64(v)])),
});
const credentials = [
  secret('gitea-gitea-admin', { 'idpbuilder.cnoe.io/giteaprovider': 'gitea', 'idpbuilder.cnoe.io/role': 'credentials' }, { username: 'giteaAdmin', password: 'g-pass' }),
  secret('gitea-gitea-token', { 'idpbuilder.cnoe.io/giteaprovider': 'gitea', 'idpbuilder.cnoe.io/role': 'credentials' }, { username: 'giteaAdmin', token: 'g-token' }),
  secret('argocd-argocd-admin', { 'idpbuilder.cnoe.io/argocdprovider': 'argocd', 'idpbuilder.cnoe.io/role': 'credentials' }, { username: 'admin', password: 'a-pass', bcrypt: '$2a$10$x' }),
];
const labelled = [
  secret('db', { 'cnoe.io/cli-secret': 'true', 'cnoe.io/package-name': 'my-app' }, { user: 'app', pass: 's3cret' }, 'my-app'),
  secret('other', { 'cnoe.io/cli-secret': 'true', 'cnoe.io/package-name': 'other' }, { k: 'v' }, 'other'),
];

function secretsStandIns(): StandIns {
  return standIns({
    kubectl: [
      { match: 'get idpbuilder -A -o json', stdout: list([gitea, argocd, nginx]) },
      { match: 'get secrets -A -l idpbuilder.cnoe.io/role=credentials -o json', stdout: list(credentials) },
      { match: 'get secrets -A -l cnoe.io/cli-secret=true -o json', stdout: list(labelled) },
    ],
  });
}

describe('idpbuilder get secrets', () => {
  it('prints a row per provider (credentials merged) and the labelled Secrets, like today', async () => {
    si = secretsStandIns();
    const r = await runCli(['get', 'secrets'], si);
    expect(r.err).toBe('');
    expect(r.out).toBe(
      [
        'NAME                  NAMESPACE           USERNAME     PASSWORD   TOKEN     DATA',
        'argocd-argocd-admin   idpbuilder-system   admin        a-pass',
        'gitea-gitea-admin     idpbuilder-system   giteaAdmin   g-pass     g-token',
        'db                    my-app                                                pass=s3cret, user=app',
        'other                 other                                                 k=v',
        '',
      ].join('\n'),
    );
    expect(si.calls()).toEqual([
      'kubectl get idpbuilder -A -o json',
      'kubectl get secrets -A -l idpbuilder.cnoe.io/role=credentials -o json',
      'kubectl get secrets -A -l cnoe.io/cli-secret=true -o json',
    ]);
  });

  it('-o json -p gitea: exactly the Gitea credentials (today\'s shape)', async () => {
    si = secretsStandIns();
    const r = await runCli(['get', 'secrets', '-o', 'json', '-p', 'gitea'], si);
    expect(JSON.parse(r.out)).toEqual([{ IsCore: true, name: 'gitea-gitea-admin', namespace: 'idpbuilder-system', username: 'giteaAdmin', password: 'g-pass', token: 'g-token' }]);
  });

  it('-p <package> narrows to the labelled Secrets of that package; --kubeconfig reaches kubectl', async () => {
    si = secretsStandIns();
    si.setRules('kubectl', [
      { match: '--kubeconfig /k get idpbuilder -A -o json', stdout: list([gitea, argocd]) },
      { match: '--kubeconfig /k get secrets -A -l idpbuilder.cnoe.io/role=credentials -o json', stdout: list(credentials) },
      { match: '--kubeconfig /k get secrets -A -l cnoe.io/cli-secret=true -o json', stdout: list(labelled) },
    ]);
    const r = await runCli(['get', 'secrets', '-p', 'my-app', '-o', 'yaml', '--kubeconfig', '/k'], si);
    expect(r.out).toBe('- IsCore: false\n  data:\n    pass: s3cret\n    user: app\n  name: db\n  namespace: my-app\n');
  });

  it('a FluxProvider with the dashboard: its admin token (credentialsSecretRef, key token) is a row of its own', async () => {
    const flux = {
      apiVersion: 'idpbuilder.cnoe.io/v1alpha2',
      kind: 'FluxProvider',
      metadata: { name: 'flux', namespace: 'idpbuilder-system' },
      spec: { namespace: 'flux-system' },
      status: { endpoint: 'https://flux.cnoe.localtest.me:8443', credentialsSecretRef: { name: 'flux-flux-admin', namespace: 'idpbuilder-system', key: 'token' } },
    };
    const token = secret('flux-flux-admin', { 'idpbuilder.cnoe.io/fluxprovider': 'flux', 'idpbuilder.cnoe.io/role': 'credentials' }, { token: 'sa-token', 'ca.crt': 'ca' });
    si = standIns({
      kubectl: [
        { match: 'get idpbuilder -A -o json', stdout: list([flux, gitea]) },
        { match: 'get secrets -A -l idpbuilder.cnoe.io/role=credentials -o json', stdout: list([...credentials, token]) },
        { match: 'get secrets -A -l cnoe.io/cli-secret=true -o json', stdout: list([]) },
      ],
    });
    const r = await runCli(['get', 'secrets', '-o', 'json', '-p', 'flux'], si);
    expect(JSON.parse(r.out)).toEqual([{ IsCore: true, name: 'flux-flux-admin', namespace: 'idpbuilder-system', token: 'sa-token' }]);
  });

  it('nothing found', async () => {
    si = standIns({ kubectl: [{ match: 'get *', stdout: list([]) }] });
    const r = await runCli(['get', 'secrets'], si);
    expect(r.out).toBe('');
    expect(r.err).toBe('no secrets found\n');
  });
});

describe('idpbuilder get platforms|packages', () => {
  it('platforms: a kubectl-like table, and -o json as a List', async () => {
    const platform = {
      apiVersion: 'idpbuilder.cnoe.io/v1alpha2',
      kind: 'Platform',
      metadata: { name: 'localdev', namespace: 'idpbuilder-system', creationTimestamp: '2025-12-31T23:00:00Z' },
      spec: { domain: 'cnoe.localtest.me' },
      status: {
        phase: 'Progressing',
        conditions: [{ type: 'Ready', status: 'False', message: 'waiting for providers: GiteaProvider/gitea' }],
        providers: { gitProviders: [{ name: 'gitea', kind: 'GiteaProvider', ready: false }], gateways: [{ name: 'nginx', kind: 'NginxGateway', ready: true }] },
      },
    };
    si = standIns({ kubectl: [{ match: 'get platforms.idpbuilder.cnoe.io -A -o json', stdout: list([platform]) }] });
    const r = await runCli(['get', 'platforms'], si);
    expect(r.out).toBe(
      'NAME       NAMESPACE           DOMAIN              PHASE         READY   PROVIDERS   AGE   MESSAGE\n' +
        'localdev   idpbuilder-system   cnoe.localtest.me   Progressing   False   1/2         60m   waiting for providers: GiteaProvider/gitea\n',
    );
    const j = await runCli(['get', 'platforms', '-o', 'json'], si);
    expect(JSON.parse(j.out)).toMatchObject({ kind: 'List', items: [{ metadata: { name: 'localdev' } }] });
    expect((await runCli(['get', 'platforms', '-o', 'wide'], si)).err).toBe('error: --output must be table, json or yaml, not wide\n');
  });

  it('packages: repository URL and Argo CD application state', async () => {
    const pkg = {
      apiVersion: 'idpbuilder.cnoe.io/v1alpha2',
      kind: 'Package',
      metadata: { name: 'my-app', namespace: 'idpbuilder-system' },
      spec: { source: { gitRepository: { name: 'my-app-definition' } } },
      status: { phase: 'Synced', conditions: [{ type: 'Ready', status: 'True' }], argoApplication: { name: 'my-app', namespace: 'idpbuilder-system', syncStatus: 'Synced', healthStatus: 'Healthy' } },
    };
    const repo = { apiVersion: 'idpbuilder.cnoe.io/v1alpha2', kind: 'GitRepository', metadata: { name: 'my-app-definition', namespace: 'idpbuilder-system' }, status: { url: 'https://gitea.cnoe.localtest.me:8443/idpbuilder/x.git' } };
    si = standIns({ kubectl: [{ match: 'get packages.idpbuilder.cnoe.io,gitrepositories.idpbuilder.cnoe.io -A -o json', stdout: list([pkg, repo]) }] });
    const r = await runCli(['get', 'packages'], si);
    expect(r.out).toBe(
      'NAME     NAMESPACE           GIT REPOSITORY                                          ARGO CD APP                SYNC     HEALTH    PHASE    READY\n' +
        'my-app   idpbuilder-system   https://gitea.cnoe.localtest.me:8443/idpbuilder/x.git   idpbuilder-system/my-app   Synced   Healthy   Synced   True\n',
    );
    expect((await runCli(['get', 'packages', '-p', 'nope'], si)).err).toBe('No packages found\n');
  });

  it('missing kubectl: one line', async () => {
    si = standIns({});
    const r = await runCli(['get', 'platforms'], si);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^error: idpbuilder get platforms needs kubectl on your PATH: install kubectl \([^)]+\) and run it again\n$/);
  });
});
