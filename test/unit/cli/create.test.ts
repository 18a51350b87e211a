import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { DEFAULT_CHART } from '../../../src/cli/deps.js';
import { generateCertificate, certificateNames, tlsSecret } from '../../../src/cli/tls.js';
import { DEFAULT_SETTINGS, freshKubectl, objectsOf, platformJSON, runCli, settingsJSON } from '../../fixtures/cli/canned.js';
import { standIns, type StandIns } from '../../fixtures/cli/standins.js';

const CTX = '--context kind-localdev';
const APPLY = 'apply --server-side --force-conflicts --field-manager=idpbuilder -f -';
const CRDS = ['platforms', 'giteaproviders', 'nginxgateways', 'argocdproviders', 'gitrepositories', 'packages'].map((p) => `crd/${p}.idpbuilder.cnoe.io`).join(' ');

const ALL_CHART_CRDS = ['platforms', 'giteaproviders', 'githubproviders', 'gitlabproviders', 'nginxgateways', 'envoygateways', 'istiogateways', 'argocdproviders', 'fluxproviders', 'gitrepositories', 'packages', 'referencegrants']
  .map((p) => `${p}.idpbuilder.cnoe.io`)
  .join(' ');

/** What create runs against a cluster after the cluster step, with `k` the kubectl flags and `h` helm's. */
function installCommands(k: string, h: string, chart = DEFAULT_CHART): string[] {
  return [
    `kubectl ${k} get configmap idpbuilder-settings -n idpbuilder-system -o json --ignore-not-found`,
    `kubectl ${k} get crd localbuilds.idpbuilder.cnoe.io -o json --ignore-not-found`,
    `kubectl ${k} get secret platform-tls -n idpbuilder-system -o json --ignore-not-found`,
    `kubectl ${k} ${APPLY}`,
    `kubectl ${k} get configmap coredns -n kube-system -o json --ignore-not-found`,
    `kubectl ${k} ${APPLY}`,
    `helm upgrade --install metacontroller oci://ghcr.io/metacontroller/metacontroller-helm --version 4.17.2 -n metacontroller --create-namespace ${h}`,
    `kubectl ${k} get crd ${ALL_CHART_CRDS} -o json --ignore-not-found`,
    `helm upgrade --install idpbuilder ${chart} -n idpbuilder-system --create-namespace ${h}`,
    `kubectl ${k} wait --for condition=established --timeout=120s ${CRDS}`,
    `kubectl ${k} ${APPLY}`,
    `kubectl ${k} get platforms.idpbuilder.cnoe.io localdev -n idpbuilder-system -o json --ignore-not-found`,
  ];
}

let si: StandIns | undefined;
afterEach(() => {
  si?.cleanup();
  si = undefined;
});

function byKind(objects: Record<string, any>[], kind: string, name?: string): Record<string, any> {
  const o = objects.find((x) => x.kind === kind && (!name || x.metadata.name === name));
  if (!o) throw new Error(`no ${kind} ${name ?? ''} in ${objects.map((x) => `${x.kind}/${x.metadata?.name}`).join(', ')}`);
  return o;
}

describe('idpbuilder create (kind)', () => {
  it('default flags: creates the kind cluster, installs everything, applies the platform and prints the URLs', async () => {
    si = standIns({ kind: [{ match: 'get clusters', stdout: '' }], docker: [], helm: [], kubectl: freshKubectl() });
    const r = await runCli(['create'], si);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(si.calls()).toEqual([
      'kind get clusters',
      'kind create cluster --name localdev --config -',
      'kind export kubeconfig --name localdev',
      ...installCommands(CTX, '--kube-context kind-localdev'),
    ]);

    // the kind config, printed between today's banners and given to kind on stdin
    const [kindConfig] = si.inputsOf(/^kind create cluster/);
    expect(r.out).toContain(`########################### Our kind config ############################\n${kindConfig}\n#########################   config end    ############################\n`);
    const cfg = parse(kindConfig);
    expect(cfg).toMatchObject({ kind: 'Cluster', apiVersion: 'kind.x-k8s.io/v1alpha4' });
    expect(cfg.nodes).toHaveLength(1);
    expect(cfg.nodes[0]).toMatchObject({
      role: 'control-plane',
      image: 'kindest/node:v1.33.1',
      labels: { 'ingress-ready': 'true' },
      extraPortMappings: [
        { containerPort: 443, hostPort: 8443, protocol: 'TCP' },
        { containerPort: 32222, hostPort: 32222, protocol: 'TCP' },
      ],
    });
    expect(cfg.nodes[0].extraPortMappings[0].listenAddress).toBeUndefined();
    expect(cfg.nodes[0].extraMounts[0]).toEqual({ containerPath: '/etc/containerd/certs.d', hostPath: join(si.env.HOME!, '.cache', 'idpbuilder', 'localdev', 'certs.d') });

    // first apply: namespaces, settings, the certificate, the ingress Service
    const [base, coredns, platform] = si.inputsOf(/ apply /).map(objectsOf);
    expect(base.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual(['Namespace/idpbuilder-system', 'Namespace/ingress-nginx', 'ConfigMap/idpbuilder-settings', 'Secret/platform-tls', 'Service/idpbuilder-ingress']);
    expect(byKind(base, 'ConfigMap').data).toEqual({ ...DEFAULT_SETTINGS, gateway: 'nginx', gitops: 'argocd' });
    const tls = byKind(base, 'Secret');
    expect(tls.type).toBe('kubernetes.io/tls');
    expect(Object.keys(tls.data).sort()).toEqual(['ca.crt', 'tls.crt', 'tls.key']);
    // containerd in the node trusts that certificate for the registry (made before the cluster, mounted with certs.d)
    const certsDir = join(si.env.HOME!, '.cache', 'idpbuilder', 'localdev', 'certs.d', 'gitea.cnoe.localtest.me:8443');
    expect(readFileSync(join(certsDir, 'ca.crt'), 'utf8')).toBe(Buffer.from(tls.data['ca.crt'], 'base64').toString());
    expect(readFileSync(join(certsDir, 'hosts.toml'), 'utf8')).toBe(
      'server = "https://gitea.cnoe.localtest.me:8443"\n\n[host."https://gitea.cnoe.localtest.me"]\n  capabilities = ["pull", "resolve"]\n  ca = "/etc/containerd/certs.d/gitea.cnoe.localtest.me:8443/ca.crt"\n',
    );
    expect(readFileSync(join(certsDir, 'hosts.toml'), 'utf8')).not.toContain('skip_verify');
    expect(cfg.containerdConfigPatches).toEqual(['[plugins."io.containerd.grpc.v1.cri".registry]\n  config_path = "/etc/containerd/certs.d"']);
    expect(r.out.match(/Generating a self-signed certificate/g)).toHaveLength(1);
    expect(r.out.indexOf('Generating a self-signed certificate')).toBeLessThan(r.out.indexOf('Our kind config'));
    expect(byKind(base, 'Service').spec.ports.map((p: { port: number }) => p.port)).toEqual([80, 443, 8443]);

    // CoreDNS: today's rewrite rules, at the top of the .:53 block
    const corefile = coredns[0].data.Corefile as string;
    expect(corefile).toContain('rewrite stop {\n        name regex (.*)\\.cnoe\\.localtest\\.me idpbuilder-ingress.ingress-nginx.svc.cluster.local\n    }');
    expect(corefile).toContain('rewrite name exact cnoe.localtest.me idpbuilder-ingress.ingress-nginx.svc.cluster.local');
    expect(corefile.indexOf('idpbuilder:begin')).toBeLessThan(corefile.indexOf('errors'));

    // the providers and the Platform
    expect(platform.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual(['NginxGateway/nginx', 'GiteaProvider/gitea', 'ArgoCDProvider/argocd', 'Platform/localdev']);
    const routing = { gatewayRef: { kind: 'NginxGateway', name: 'nginx', namespace: 'idpbuilder-system' }, domain: 'cnoe.localtest.me', usePathRouting: false, protocol: 'https', port: 8443 };
    expect(byKind(platform, 'ArgoCDProvider').spec).toEqual({ namespace: 'argocd', routing, adminCredentials: { autoGenerate: true } });
    expect(byKind(platform, 'GiteaProvider').spec).toMatchObject({ namespace: 'gitea', routing, adminUser: { username: 'giteaAdmin', autoGenerate: true }, values: { service: { ssh: { type: 'NodePort', nodePort: 32222 } } } });
    expect(byKind(platform, 'NginxGateway').spec).toMatchObject({
      namespace: 'ingress-nginx',
      defaultTLS: { secretRef: { name: 'platform-tls' } },
      config: { controller: { hostPort: { enabled: true }, service: { type: 'NodePort' } } },
      values: { controller: { nodeSelector: { 'ingress-ready': 'true' } } },
    });
    expect(byKind(platform, 'Platform').spec).toEqual({
      domain: 'cnoe.localtest.me',
      ingressConfig: { provider: 'nginx', usePathRouting: false, protocol: 'https', port: 8443, tlsSecretRef: { name: 'platform-tls' } },
      components: {
        gitProviders: [{ kind: 'GiteaProvider', name: 'gitea', namespace: 'idpbuilder-system' }],
        gateways: [{ kind: 'NginxGateway', name: 'nginx', namespace: 'idpbuilder-system' }],
        gitOpsProviders: [{ kind: 'ArgoCDProvider', name: 'argocd', namespace: 'idpbuilder-system' }],
      },
    });
    for (const o of platform) expect(o.metadata.labels['idpbuilder.cnoe.io/cli-platform']).toBe('localdev');

    // progress and the end
    expect(r.out).toContain('Platform idpbuilder-system/localdev: Ready');
    expect(r.out).toContain('Finished Creating IDP Successfully!');
    expect(r.out).toContain('Can Access ArgoCD at https://argocd.cnoe.localtest.me:8443/\nUsername: admin\nPassword can be retrieved by running: idpbuilder get secrets -p argocd');
    expect(r.out).toContain('Can Access Gitea at https://gitea.cnoe.localtest.me:8443/');
    expect(r.out).not.toMatch(/password:/i);
  });

  it('--use-path-routing --port 2443: maps 443 to 2443 and routes every UI under one host', async () => {
    si = standIns({ kind: [{ match: 'get clusters', stdout: 'other\n' }], docker: [], helm: [], kubectl: freshKubectl() });
    const r = await runCli(['create', '--use-path-routing', '--port', '2443'], si);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(si.calls()).toEqual([
      'kind get clusters',
      'kind create cluster --name localdev --config -',
      'kind export kubeconfig --name localdev',
      ...installCommands(CTX, '--kube-context kind-localdev'),
    ]);
    const cfg = parse(si.inputsOf(/^kind create cluster/)[0]);
    expect(cfg.nodes[0].extraPortMappings[0]).toEqual({ containerPort: 443, hostPort: 2443, protocol: 'TCP' });
    const [base, , platform] = si.inputsOf(/ apply /).map(objectsOf);
    expect(byKind(base, 'ConfigMap').data).toMatchObject({ port: '2443', usePathRouting: 'true' });
    expect(byKind(base, 'Service').spec.ports.map((p: { port: number }) => p.port)).toEqual([80, 443, 2443]);
    expect(byKind(platform, 'ArgoCDProvider').spec.routing).toMatchObject({ usePathRouting: true, port: 2443, domain: 'cnoe.localtest.me' });
    expect(byKind(platform, 'GiteaProvider').spec.routing).toMatchObject({ usePathRouting: true, port: 2443 });
    expect(byKind(platform, 'Platform').spec.ingressConfig).toMatchObject({ usePathRouting: true, port: 2443 });
    expect(r.out).toContain('Can Access ArgoCD at https://cnoe.localtest.me:2443/argocd\n');
    expect(r.out).toContain('Can Access Gitea at https://cnoe.localtest.me:2443/gitea\n');
  });

  it('--dev-password: binds the port to 127.0.0.1 and points both admin users at the "developer" Secret', async () => {
    si = standIns({ kind: [{ match: 'get clusters', stdout: '' }], docker: [], helm: [], kubectl: freshKubectl() });
    const r = await runCli(['create', '--dev-password'], si);
    expect(r.code).toBe(0);
    const cfg = parse(si.inputsOf(/^kind create cluster/)[0]);
    expect(cfg.nodes[0].extraPortMappings[0]).toEqual({ containerPort: 443, hostPort: 8443, listenAddress: '127.0.0.1', protocol: 'TCP' });
    const platform = objectsOf(si.inputsOf(/ apply /)[2]);
    const secret = byKind(platform, 'Secret', 'idpbuilder-dev-password');
    expect(Buffer.from(secret.data.password, 'base64').toString()).toBe('developer');
    expect(byKind(platform, 'GiteaProvider').spec.adminUser).toEqual({ username: 'giteaAdmin', passwordSecretRef: { name: 'idpbuilder-dev-password', key: 'password' }, autoGenerate: false });
    expect(byKind(platform, 'ArgoCDProvider').spec.adminCredentials).toEqual({ secretRef: { name: 'idpbuilder-dev-password' }, autoGenerate: false });
    expect(r.out).not.toContain('developer');
  });

  it('re-run with compatible settings: reuses the healthy cluster and its certificate', async () => {
    const cert = await generateCertificate(certificateNames('cnoe.localtest.me'));
    si = standIns({
      kind: [{ match: 'get clusters', stdout: 'localdev\n' }],
      docker: [],
      helm: [],
      kubectl: freshKubectl([
        { match: '*get configmap idpbuilder-settings*', stdout: settingsJSON(DEFAULT_SETTINGS) },
        { match: '*get secret platform-tls*', stdout: JSON.stringify(tlsSecret('platform-tls', 'idpbuilder-system', cert)) },
      ]),
    });
    const r = await runCli(['create'], si);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const install = installCommands(CTX, '--kube-context kind-localdev').filter((c) => !c.includes('localbuilds'));
    expect(si.calls()).toEqual(['kind get clusters', 'kind export kubeconfig --name localdev', `kubectl ${CTX} get --raw /readyz`, ...install]);
    expect(r.out).not.toContain('Our kind config');
    expect(r.out).toContain('Reusing the existing kind cluster "localdev"');
    expect(r.out).toContain('Reusing the certificate in idpbuilder-system/platform-tls');
    const tls = byKind(objectsOf(si.inputsOf(/ apply /)[0]), 'Secret');
    expect(Buffer.from(tls.data['tls.crt'], 'base64').toString()).toBe(cert.cert);
    // the reused cluster's node trusts the certificate in the Secret (the mounted certs.d file is rewritten)
    expect(readFileSync(join(si.env.HOME!, '.cache', 'idpbuilder', 'localdev', 'certs.d', 'gitea.cnoe.localtest.me:8443', 'ca.crt'), 'utf8')).toBe(cert.cert);
  });

  it('re-run with incompatible settings: refuses before changing anything', async () => {
    si = standIns({
      kind: [{ match: 'get clusters', stdout: 'localdev\n' }],
      docker: [],
      helm: [],
      kubectl: freshKubectl([{ match: '*get configmap idpbuilder-settings*', stdout: settingsJSON({ ...DEFAULT_SETTINGS, port: '2443', usePathRouting: 'true' }) }]),
    });
    const r = await runCli(['create'], si);
    expect(r.code).toBe(1);
    expect(r.err).toBe(
      'error: the platform in kind cluster "localdev" was created with incompatible settings (port: 2443 → 8443, usePathRouting: true → false); use --recreate to delete and recreate the cluster\n',
    );
    expect(si.calls()).toEqual([
      'kind get clusters',
      'kind export kubeconfig --name localdev',
      `kubectl ${CTX} get --raw /readyz`,
      `kubectl ${CTX} get configmap idpbuilder-settings -n idpbuilder-system -o json --ignore-not-found`,
    ]);
  });

  it('--recreate: deletes the existing cluster and creates it again', async () => {
    si = standIns({ kind: [{ match: 'get clusters', stdout: 'localdev\n' }], docker: [], helm: [], kubectl: freshKubectl() });
    const r = await runCli(['create', '--recreate'], si);
    expect(r.code).toBe(0);
    expect(si.calls().slice(0, 4)).toEqual(['kind get clusters', 'kind delete cluster --name localdev', 'kind create cluster --name localdev --config -', 'kind export kubeconfig --name localdev']);
  });

  it('an existing cluster that does not answer is reported, not reused', async () => {
    si = standIns({ kind: [{ match: 'get clusters', stdout: 'localdev\n' }], docker: [], helm: [], kubectl: [{ match: '*get --raw /readyz*', exit: 1 }] });
    const r = await runCli(['create'], si);
    expect(r.code).toBe(1);
    expect(r.err).toContain('kind cluster "localdev" exists but is not healthy (its API server does not answer /readyz)');
    expect(r.err).toContain('idpbuilder delete --name localdev');
  });

  it('an existing cluster whose node is stopped (kind cannot export its kubeconfig) is reported the same way', async () => {
    si = standIns({ kind: [{ match: 'get clusters', stdout: 'localdev\n' }, { match: 'export kubeconfig*', exit: 1, stdout: 'ERROR: failed to get cluster internal kubeconfig: command "docker exec --privileged localdev-control-plane cat /etc/kubernetes/admin.conf" failed' }], docker: [], helm: [], kubectl: [] });
    const r = await runCli(['create'], si);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^error: kind cluster "localdev" exists but is not healthy \(kind cannot read its kubeconfig: kind export kubeconfig --name localdev failed \(exit 1\): ERROR: failed to get cluster internal kubeconfig/);
    expect(si.calls()).toEqual(['kind get clusters', 'kind export kubeconfig --name localdev']);
  });

  it('missing kind: one clear line, nothing run', async () => {
    si = standIns({ docker: [], helm: [], kubectl: [] });
    const r = await runCli(['create'], si);
    expect(r.code).toBe(1);
    expect(r.err).toBe('error: idpbuilder create needs kind on your PATH: install kind (https://kind.sigs.k8s.io/docs/user/quick-start/#installation) and run it again\n');
    expect(r.out).toBe('');
    expect(si.calls()).toEqual([]);
  });

  it('missing kubectl and helm: still one line naming both', async () => {
    si = standIns({ kind: [], docker: [] });
    const r = await runCli(['create'], si);
    expect(r.code).toBe(1);
    expect(r.err.split('\n').filter(Boolean)).toHaveLength(1);
    expect(r.err).toMatch(/^error: idpbuilder create needs kubectl, helm on your PATH: install kubectl \(https:\/\/kubernetes\.io[^)]*\), helm \(https:\/\/helm\.sh[^)]*\) and run it again\n$/);
  });

  it('KIND_EXPERIMENTAL_PROVIDER=podman needs podman, not docker', async () => {
    si = standIns({ kind: [], helm: [], kubectl: [] }, { env: { KIND_EXPERIMENTAL_PROVIDER: 'podman' } });
    const r = await runCli(['create'], si);
    expect(r.err).toContain('needs podman on your PATH');
  });

  it('--extra-ports, --kube-version and --protocol http shape the kind config', async () => {
    si = standIns({ kind: [{ match: 'get clusters', stdout: '' }], docker: [], helm: [], kubectl: freshKubectl() });
    const r = await runCli(['create', '--protocol', 'http', '--port', '8080', '--kube-version', 'v1.31.0', '--extra-ports', '22:32223,9090:30090'], si);
    expect(r.code).toBe(0);
    const cfg = parse(si.inputsOf(/^kind create cluster/)[0]);
    expect(cfg.nodes[0].image).toBe('kindest/node:v1.31.0');
    expect(cfg.nodes[0].extraPortMappings).toEqual([
      { containerPort: 80, hostPort: 8080, protocol: 'TCP' },
      { containerPort: 32222, hostPort: 32222, protocol: 'TCP' },
      { containerPort: 32223, hostPort: 22, protocol: 'TCP' },
      { containerPort: 30090, hostPort: 9090, protocol: 'TCP' },
    ]);
    const platform = objectsOf(si.inputsOf(/ apply /)[2]);
    expect(byKind(platform, 'NginxGateway').spec.defaultTLS).toBeUndefined();
    expect(r.out).toContain('Can Access ArgoCD at http://argocd.cnoe.localtest.me:8080/');
  });

  it('--kind-config: a custom config is templated and patched to map the port on the ingress node', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kindcfg-'));
    const file = join(dir, 'kind.yaml');
    writeFileSync(file, 'kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnodes:\n- role: control-plane\n  image: kindest/node:{{ .KubernetesVersion }}\n- role: worker\n');
    si = standIns({ kind: [{ match: 'get clusters', stdout: '' }], docker: [], helm: [], kubectl: freshKubectl() });
    const r = await runCli(['create', '--kind-config', file], si);
    expect(r.code).toBe(0);
    const cfg = parse(si.inputsOf(/^kind create cluster/)[0]);
    expect(cfg.nodes[0]).toEqual({
      role: 'control-plane',
      image: 'kindest/node:v1.33.1',
      extraPortMappings: [{ containerPort: 443, hostPort: 8443, protocol: 'TCP' }],
      labels: { 'ingress-ready': 'true' },
    });
    expect(cfg.nodes[1]).toEqual({ role: 'worker' });
  });

  it('-c argocd:FILE with Helm values and nginx:FILE with the controller ConfigMap become provider values', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'custom-'));
    writeFileSync(join(dir, 'argocd.yaml'), 'configs:\n  cm:\n    url: https://argocd.{{ .Host }}:{{ .Port }}\n');
    writeFileSync(join(dir, 'nginx.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ingress-nginx-controller\n  namespace: ingress-nginx\ndata:\n  proxy-body-size: 0\n');
    si = standIns({ kind: [{ match: 'get clusters', stdout: '' }], docker: [], helm: [], kubectl: freshKubectl() });
    const r = await runCli(['create', '-c', `argocd:${join(dir, 'argocd.yaml')}`, '-c', `nginx:${join(dir, 'nginx.yaml')}`], si);
    expect(r.err).toBe('');
    const platform = objectsOf(si.inputsOf(/ apply /)[2]);
    expect(byKind(platform, 'ArgoCDProvider').spec.values).toEqual({ configs: { cm: { url: 'https://argocd.cnoe.localtest.me:8443' } } });
    expect(byKind(platform, 'NginxGateway').spec.values.controller.config).toEqual({ 'proxy-body-size': '0' });
  });

  it('-c with manifests that have no chart-values equivalent is refused before anything runs', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'custom-'));
    writeFileSync(join(dir, 'gitea.yaml'), 'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: my-gitea\n  namespace: gitea\n');
    si = standIns({ kind: [], docker: [], helm: [], kubectl: [] });
    const r = await runCli(['create', '-c', `gitea:${join(dir, 'gitea.yaml')}`], si);
    expect(r.code).toBe(1);
    expect(r.err).toContain('Deployment gitea/my-gitea cannot be expressed as Helm values of the gitea chart');
    expect(si.calls()).toEqual([]);
  });

  it('bad flags are reported before anything runs', async () => {
    si = standIns({ kind: [], docker: [], helm: [], kubectl: [] });
    expect((await runCli(['create', '--kubeconfig', '/x', '--kind-config', 'k.yaml'], si)).err).toContain('--kind-config only apply when idpbuilder creates the kind cluster');
    expect((await runCli(['create', '-c', 'backstage:x.yaml'], si)).err).toContain('unknown package "backstage"');
    expect((await runCli(['create', '--timeout', 'soon'], si)).err).toContain('--timeout soon: not a duration');
    expect((await runCli(['create', '-p', '/no/such/dir'], si)).err).toContain('-p /no/such/dir: no such file or directory');
    expect((await runCli(['create', '-p', 'https://github.com/cnoe-io/stacks'], si)).err).toContain('-p https://github.com/cnoe-io/stacks: a remote package needs // after the repository');
    expect(si.calls()).toEqual([]);
  });
});

describe('idpbuilder create --kubeconfig (existing cluster)', () => {
  it('installs into the existing cluster without kind or docker', async () => {
    si = standIns({ helm: [], kubectl: freshKubectl() });
    const r = await runCli(['create', '--kubeconfig', '/home/me/.kube/other'], si);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(si.calls()).toEqual([
      'kubectl --kubeconfig /home/me/.kube/other get --raw /readyz',
      ...installCommands('--kubeconfig /home/me/.kube/other', '--kubeconfig /home/me/.kube/other'),
    ]);
    const platform = objectsOf(si.inputsOf(/ apply /)[2]);
    expect(byKind(platform, 'NginxGateway').spec.config).toBeUndefined();
    expect(byKind(platform, 'NginxGateway').spec.values).toBeUndefined();
    expect(byKind(platform, 'GiteaProvider').spec.values).toBeUndefined();
  });

  it('--context alone also means an existing cluster; helm gets --kube-context; --image sets the chart image', async () => {
    si = standIns({ helm: [], kubectl: freshKubectl() });
    const r = await runCli(['create', '--context', 'prod', '--chart', 'oci://example.com/charts/idpbuilder', '--image', 'registry.local:5000/idp/hooks:v1'], si);
    expect(r.code).toBe(0);
    expect(si.calls()).toContain('helm upgrade --install idpbuilder oci://example.com/charts/idpbuilder -n idpbuilder-system --create-namespace --set image.repository=registry.local:5000/idp/hooks --set image.tag=v1 --kube-context prod');
    expect(si.calls()[0]).toBe('kubectl --context prod get --raw /readyz');
  });

  it('CRDs installed outside the release (an earlier chart\'s crds/, kubectl apply) are handed to Helm before the upgrade; owned ones are not touched', async () => {
    const crd = (name: string, annotations?: Record<string, string>, labels?: Record<string, string>) => ({
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name, ...(annotations ? { annotations } : {}), ...(labels ? { labels } : {}) },
    });
    const list = {
      apiVersion: 'v1',
      kind: 'List',
      items: [
        crd('platforms.idpbuilder.cnoe.io'),
        crd('packages.idpbuilder.cnoe.io', { 'meta.helm.sh/release-name': 'idpbuilder', 'meta.helm.sh/release-namespace': 'idpbuilder-system' }, { 'app.kubernetes.io/managed-by': 'Helm' }),
        crd('gitrepositories.idpbuilder.cnoe.io', { 'kubectl.kubernetes.io/last-applied-configuration': '{}' }),
        // ours, but `kubectl apply -f crds/` put the generated label back
        crd('argocdproviders.idpbuilder.cnoe.io', { 'meta.helm.sh/release-name': 'idpbuilder', 'meta.helm.sh/release-namespace': 'idpbuilder-system' }, { 'app.kubernetes.io/managed-by': 'idpbuilder' }),
        // another release's: left for helm to report
        crd('fluxproviders.idpbuilder.cnoe.io', { 'meta.helm.sh/release-name': 'other', 'meta.helm.sh/release-namespace': 'x' }),
      ],
    };
    si = standIns({ helm: [], kubectl: freshKubectl([{ match: '*get crd platforms.idpbuilder.cnoe.io *', stdout: JSON.stringify(list) }]) });
    const r = await runCli(['create', '--kubeconfig', '/k'], si);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const calls = si.calls();
    const helm = calls.findIndex((c) => c.startsWith('helm upgrade --install idpbuilder '));
    expect(calls.slice(helm - 3, helm)).toEqual([
      `kubectl --kubeconfig /k get crd ${ALL_CHART_CRDS} -o json --ignore-not-found`,
      'kubectl --kubeconfig /k label --overwrite crd/platforms.idpbuilder.cnoe.io crd/gitrepositories.idpbuilder.cnoe.io crd/argocdproviders.idpbuilder.cnoe.io app.kubernetes.io/managed-by=Helm',
      'kubectl --kubeconfig /k annotate --overwrite crd/platforms.idpbuilder.cnoe.io crd/gitrepositories.idpbuilder.cnoe.io crd/argocdproviders.idpbuilder.cnoe.io meta.helm.sh/release-name=idpbuilder meta.helm.sh/release-namespace=idpbuilder-system',
    ]);
    expect(r.out).toContain('Handing 3 idpbuilder CRD(s) installed outside the release over to it');
  });

  it('an unreachable cluster is one clear error', async () => {
    si = standIns({ helm: [], kubectl: [{ match: '*readyz*', exit: 1, stdout: '' }] });
    const r = await runCli(['create', '--kubeconfig', '/k'], si);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^error: cannot reach the cluster of --kubeconfig \/k/);
  });

  it('--recreate re-applies an existing platform with changed settings', async () => {
    si = standIns({ helm: [], kubectl: freshKubectl([{ match: '*get configmap idpbuilder-settings*', stdout: settingsJSON(DEFAULT_SETTINGS) }]) });
    const refused = await runCli(['create', '--kubeconfig', '/k', '--port', '443'], si);
    expect(refused.code).toBe(1);
    expect(refused.err).toContain('use --recreate to re-apply it with the new settings');
    const r = await runCli(['create', '--kubeconfig', '/k', '--port', '443', '--recreate'], si);
    expect(r.code).toBe(0);
    expect(r.out).toContain('Re-applying the platform with new settings (--recreate): port: 8443 → 443');
    expect(r.out).toContain('Can Access ArgoCD at https://argocd.cnoe.localtest.me/');
  });

  it('a cluster built by an earlier idpbuilder (Localbuild CRD) is not installed over', async () => {
    si = standIns({ helm: [], kubectl: freshKubectl([{ match: '*get crd localbuilds.idpbuilder.cnoe.io*', stdout: JSON.stringify({ apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', metadata: { name: 'localbuilds.idpbuilder.cnoe.io' } }) }]) });
    const r = await runCli(['create', '--kubeconfig', '/k'], si);
    expect(r.code).toBe(1);
    expect(r.err).toContain('built by an earlier idpbuilder');
    expect(si.calls().some((c) => c.startsWith('helm'))).toBe(false);
  });
});

describe('waiting for the Platform', () => {
  it('prints phase changes and provider states, and on time-out names what is not Ready', async () => {
    si = standIns({
      helm: [],
      kubectl: freshKubectl([
        { match: '*get platforms.idpbuilder.cnoe.io localdev*', stdout: platformJSON(false) },
      ]),
    });
    const r = await runCli(['create', '--kubeconfig', '/k', '--timeout', '20s'], si);
    expect(r.code).toBe(1);
    expect(r.out).toContain('Waiting up to 20s for Platform idpbuilder-system/localdev to become Ready');
    expect(r.out).toContain('Platform idpbuilder-system/localdev: Progressing: waiting for providers: GiteaProvider/gitea, ArgoCDProvider/argocd');
    expect(r.out).toContain('  GiteaProvider idpbuilder-system/gitea: Pending: waiting for gateway NginxGateway idpbuilder-system/nginx');
    expect(r.out).toContain('  NginxGateway idpbuilder-system/nginx: Ready');
    expect(r.out).toContain('  ArgoCDProvider idpbuilder-system/argocd: Installing: install job running');
    // each state once, not once per poll
    expect(r.out.match(/ArgoCDProvider idpbuilder-system\/argocd: Installing/g)).toHaveLength(1);
    // 20 s at 5 s per poll: at 0, 5, 10, 15 and 20 s
    expect(si.calls().filter((c) => c.includes('get platforms.idpbuilder.cnoe.io')).length).toBe(5);
    expect(r.err).toContain('error: Platform idpbuilder-system/localdev did not become Ready within 20s. Not Ready:\n');
    expect(r.err).toContain('  - Platform idpbuilder-system/localdev (Progressing: waiting for providers: GiteaProvider/gitea, ArgoCDProvider/argocd)\n');
    expect(r.err).toContain('  - GiteaProvider idpbuilder-system/gitea (Pending: waiting for gateway NginxGateway idpbuilder-system/nginx)\n');
    expect(r.err).toContain('  - ArgoCDProvider idpbuilder-system/argocd (Installing: install job running)\n');
    expect(r.err).not.toContain('NginxGateway idpbuilder-system/nginx (');
    expect(r.out).not.toContain('Finished Creating IDP');
  });
});
