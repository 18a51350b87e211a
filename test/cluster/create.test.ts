// `idpbuilder create --kubeconfig <test server>` against the real kube-apiserver. No kubelet or controllers
// run there, so the charts cannot run: a stand-in `helm` first on PATH only logs its arguments, the
// project's CRDs are installed by the test (as the chart would), and create must stop at its time-out with
// a message naming what is not Ready — after having applied the settings, certificate, CoreDNS rules,
// providers and Platform for real.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { processRunner } from '../../src/cli/exec.js';
import { KIND_COREFILE, runCli } from '../fixtures/cli/canned.js';
import { standIns, type StandIns } from '../fixtures/cli/standins.js';
import { cluster, ensureNamespaces, expectSuccess, installProjectCrds } from './support.js';

const kube = cluster();
const NS = 'idpbuilder-system';
const OURS = ['platforms', 'giteaproviders', 'nginxgateways', 'argocdproviders', 'gitrepositories', 'packages'].map((p) => `${p}.idpbuilder.cnoe.io`).join(',');

let si: StandIns;
let deps: Parameters<typeof runCli>[2];

async function getJSON(args: string[]): Promise<any> {
  return JSON.parse(expectSuccess(await kube.kubectl([...args, '-o', 'json']), `kubectl ${args.join(' ')}`).stdout);
}

beforeAll(async () => {
  await installProjectCrds(kube);
  await ensureNamespaces(kube, [NS]);
  // Objects other test files left in the namespace (examples with patched statuses) would blur what create did.
  await kube.kubectl(['delete', OURS, '--all', '-n', NS, '--ignore-not-found', '--wait=true']);
  await kube.kubectl(['delete', 'configmap', 'idpbuilder-settings', 'coredns', '-n', NS, '--ignore-not-found']);
  await ensureNamespaces(kube, ['kube-system']);
  const corefile = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'coredns', namespace: 'kube-system' }, data: { Corefile: KIND_COREFILE } };
  expectSuccess(await kube.kubectl(['apply', '--server-side', '--field-manager=kubeadm', '-f', '-'], JSON.stringify(corefile)), 'creating kube-system/coredns');
  si = standIns({ helm: [] });
  const env = { ...process.env, STANDIN_DIR: si.env.STANDIN_DIR, PATH: `${join(si.root, 'bin')}:${inject('binDir')}:${process.env.PATH}` };
  deps = { runner: processRunner(env), sleep: (ms: number) => new Promise((r) => setTimeout(r, ms)), now: () => Date.now(), pollIntervalMs: 2_000 };
});

afterAll(() => si?.cleanup());

describe('idpbuilder create --kubeconfig against a real API server', () => {
  it('applies the CRD instances, stops at the time-out and names what is not Ready', async () => {
    const kubeconfig = inject('kubeconfig');
    const r = await runCli(['create', '--kubeconfig', kubeconfig, '--timeout', '20s'], si, deps);

    expect(r.code, `${r.out}\n${r.err}`).toBe(1);
    // the time-out path (no time asserted: the message says which limit ended the wait)
    expect(r.err).toContain('error: Platform idpbuilder-system/localdev did not become Ready within 20s. Not Ready:\n');
    expect(r.err).toContain('  - Platform idpbuilder-system/localdev (no status yet: its controller has not reconciled it (is Metacontroller running with the idpbuilder controllers?))\n');
    for (const p of ['GiteaProvider idpbuilder-system/gitea', 'NginxGateway idpbuilder-system/nginx', 'ArgoCDProvider idpbuilder-system/argocd']) {
      expect(r.err).toContain(`  - ${p} (no status yet`);
    }
    expect(r.out).toContain('Waiting up to 20s for Platform idpbuilder-system/localdev to become Ready');

    // helm only logged (no kubelet could run the charts)
    expect(si.calls()).toEqual([
      `helm upgrade --install metacontroller oci://ghcr.io/metacontroller/metacontroller-helm --version 4.17.2 -n metacontroller --create-namespace --kubeconfig ${kubeconfig}`,
      expect.stringMatching(new RegExp(`^helm upgrade --install idpbuilder \\S+charts/idpbuilder -n idpbuilder-system --create-namespace --kubeconfig ${kubeconfig.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`)),
    ]);

    // create handed the CRDs (installed by the test, outside any release) to the idpbuilder release, so
    // its `helm upgrade` owns and upgrades them (templates/crds.yaml)
    const crd = await getJSON(['get', 'crd', 'platforms.idpbuilder.cnoe.io']);
    expect(crd.metadata.labels['app.kubernetes.io/managed-by']).toBe('Helm');
    expect(crd.metadata.annotations).toMatchObject({ 'meta.helm.sh/release-name': 'idpbuilder', 'meta.helm.sh/release-namespace': NS });

    // what create applied is in the cluster, accepted by the CRDs' schemas
    const platform = await getJSON(['get', 'platforms.idpbuilder.cnoe.io', 'localdev', '-n', NS]);
    expect(platform.spec).toMatchObject({ domain: 'cnoe.localtest.me', ingressConfig: { usePathRouting: false, protocol: 'https', port: 8443 } });
    expect(platform.metadata.labels['idpbuilder.cnoe.io/cli-platform']).toBe('localdev');
    expect(platform.status).toBeUndefined();
    const argocd = await getJSON(['get', 'argocdproviders.idpbuilder.cnoe.io', 'argocd', '-n', NS]);
    expect(argocd.spec.routing).toEqual({ gatewayRef: { kind: 'NginxGateway', name: 'nginx', namespace: NS }, domain: 'cnoe.localtest.me', usePathRouting: false, protocol: 'https', port: 8443 });
    const gitea = await getJSON(['get', 'giteaproviders.idpbuilder.cnoe.io', 'gitea', '-n', NS]);
    expect(gitea.spec.adminUser).toMatchObject({ username: 'giteaAdmin', autoGenerate: true });
    const nginx = await getJSON(['get', 'nginxgateways.idpbuilder.cnoe.io', 'nginx', '-n', NS]);
    expect(nginx.spec.defaultTLS).toEqual({ secretRef: { name: 'platform-tls' } }); // a Secret ref resolves in the gateway's namespace
    expect(nginx.spec.config).toBeUndefined(); // an existing cluster: no kind host ports
    const tls = await getJSON(['get', 'secret', 'platform-tls', '-n', NS]);
    expect(tls.type).toBe('kubernetes.io/tls');
    expect(Buffer.from(tls.data['tls.crt'], 'base64').toString()).toContain('BEGIN CERTIFICATE');
    const settings = await getJSON(['get', 'configmap', 'idpbuilder-settings', '-n', NS]);
    expect(settings.data).toMatchObject({ host: 'cnoe.localtest.me', port: '8443', protocol: 'https' });
    const svc = await getJSON(['get', 'service', 'idpbuilder-ingress', '-n', 'ingress-nginx']);
    expect(svc.spec.ports.map((p: { port: number }) => p.port)).toEqual([80, 443, 8443]);
    const coredns = await getJSON(['get', 'configmap', 'coredns', '-n', 'kube-system']);
    expect(coredns.data.Corefile).toContain('rewrite name exact cnoe.localtest.me idpbuilder-ingress.ingress-nginx.svc.cluster.local');
  }, 90_000);

  it('a second create with another port is refused before anything changes', async () => {
    const kubeconfig = inject('kubeconfig');
    const before = si.calls().length;
    const r = await runCli(['create', '--kubeconfig', kubeconfig, '--port', '2443', '--timeout', '5s'], si, deps);
    expect(r.code).toBe(1);
    expect(r.err).toContain('was created with incompatible settings (port: 8443 → 2443); use --recreate to re-apply it with the new settings');
    expect(si.calls().length).toBe(before); // no helm
    const settings = await getJSON(['get', 'configmap', 'idpbuilder-settings', '-n', NS]);
    expect(settings.data.port).toBe('8443');
  });

  it('get platforms reads it back; delete --kubeconfig removes what create applied', async () => {
    const kubeconfig = inject('kubeconfig');
    const g = await runCli(['get', 'platforms', '--kubeconfig', kubeconfig], si, deps);
    expect(g.code).toBe(0);
    expect(g.out).toMatch(/^NAME\s+NAMESPACE\s+DOMAIN\s+PHASE\s+READY\s+PROVIDERS\s+AGE\s+MESSAGE\nlocaldev\s+idpbuilder-system\s+cnoe\.localtest\.me\s+<none>\s+Unknown\s+-\s+\d+s\n$/);

    const d = await runCli(['delete', '--kubeconfig', kubeconfig, '--timeout', '30s'], si, deps);
    expect(d.err).toBe('');
    expect(d.code).toBe(0);
    const left = await getJSON(['get', OURS, '-n', NS]);
    expect(left.items).toEqual([]);
    expect((await kube.kubectl(['get', 'configmap', 'idpbuilder-settings', '-n', NS, '--ignore-not-found', '-o', 'name'])).stdout).toBe('');
    expect((await kube.kubectl(['get', 'secret', 'platform-tls', '-n', NS, '--ignore-not-found', '-o', 'name'])).stdout).toBe('');
    const coredns = await getJSON(['get', 'configmap', 'coredns', '-n', 'kube-system']);
    expect(coredns.data.Corefile).toBe(KIND_COREFILE);
  });
});
