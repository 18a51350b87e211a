/**
 * `idpbuilder create --gateway nginx|envoy|istio --gitops argocd|flux`: the objects for every combination
 * pass `idpbuilder validate`, and a create with the stand-in executables runs the recorded commands.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { DEFAULT_CHART } from '../../../src/cli/deps.js';
import { ingressService, kindIngressContainerPort, platformObjects, type GatewayChoice, type GitOpsChoice } from '../../../src/cli/create/platform.js';
import { validatePaths } from '../../../src/cli/validate.js';
import { freshKubectl, objectsOf, runCli } from '../../fixtures/cli/canned.js';
import { standIns, type StandIns } from '../../fixtures/cli/standins.js';

const GATEWAY_CHOICES: GatewayChoice[] = ['nginx', 'envoy', 'istio'];
const GITOPS_CHOICES: GitOpsChoice[] = ['argocd', 'flux'];
const GATEWAY_KIND = { nginx: 'NginxGateway', envoy: 'EnvoyGateway', istio: 'IstioGateway' } as const;
const GITOPS_KIND = { argocd: 'ArgoCDProvider', flux: 'FluxProvider' } as const;

let si: StandIns | undefined;
afterEach(() => {
  si?.cleanup();
  si = undefined;
});

describe('platform objects for every --gateway/--gitops combination', () => {
  const dir = mkdtempSync(join(tmpdir(), 'idpbuilder-combos-'));
  for (const gateway of GATEWAY_CHOICES) {
    for (const gitops of GITOPS_CHOICES) {
      for (const variant of [
        { protocol: 'https' as const, kind: true, devPassword: false, usePathRouting: false },
        { protocol: 'http' as const, kind: false, devPassword: true, usePathRouting: true },
      ]) {
        it(`${gateway} + ${gitops} (${variant.protocol}, ${variant.kind ? 'kind' : 'existing cluster'}): idpbuilder validate finds nothing`, () => {
          const objects = platformObjects({ name: 'localdev', host: 'cnoe.localtest.me', port: 8443, gateway, gitops, ...variant });
          const file = join(dir, `${gateway}-${gitops}-${variant.protocol}.yaml`);
          writeFileSync(file, objects.map((o) => stringify(o)).join('---\n'));
          const report = validatePaths([file]);
          expect(report.invalid).toBe(0);
          // every object but the dev-password Secret is one of ours; that Secret is the only line (skipped)
          expect(report.valid).toBe(objects.filter((o) => o.kind !== 'Secret').length);
          expect(report.lines).toEqual(variant.devPassword ? [`${file}#1: Secret/idpbuilder-dev-password: skipped: ${report.lines[0]?.split(': skipped: ')[1]}`] : []);
          expect(report.skipped).toBe(variant.devPassword ? 1 : 0);

          const kinds = objects.map((o) => o.kind);
          expect(kinds).toContain(GATEWAY_KIND[gateway]);
          expect(kinds).toContain(GITOPS_KIND[gitops]);
          const platform = objects.find((o) => o.kind === 'Platform')!;
          const spec = platform.spec as { ingressConfig: { provider: string }; components: Record<string, { kind: string; name: string }[]> };
          expect(spec.components.gateways).toEqual([{ kind: GATEWAY_KIND[gateway], name: gateway, namespace: 'idpbuilder-system' }]);
          expect(spec.components.gitOpsProviders).toEqual([{ kind: GITOPS_KIND[gitops], name: gitops, namespace: 'idpbuilder-system' }]);
          expect(spec.ingressConfig.provider).toBe(gateway);
          // Gitea (and Argo CD) route through the chosen gateway
          const gitea = objects.find((o) => o.kind === 'GiteaProvider')!;
          expect((gitea.spec as { routing: { gatewayRef: unknown } }).routing.gatewayRef).toEqual({ kind: GATEWAY_KIND[gateway], name: gateway, namespace: 'idpbuilder-system' });
          // so does Flux's web UI (FluxProvider dashboard)
          const gitOps = objects.find((o) => o.kind === GITOPS_KIND[gitops])!;
          expect((gitOps.spec as { routing: unknown }).routing).toEqual({
            gatewayRef: { kind: GATEWAY_KIND[gateway], name: gateway, namespace: 'idpbuilder-system' },
            domain: 'cnoe.localtest.me',
            usePathRouting: variant.usePathRouting,
            protocol: variant.protocol,
            port: 8443,
          });
        });
      }
    }
  }
  it('cleans up', () => rmSync(dir, { recursive: true, force: true }));
});

describe('the ingress Service and kind port per gateway', () => {
  it('nginx: ClusterIP on the controller pods\' named ports; kind maps the node\'s 443', () => {
    const s = ingressService({ name: 'localdev', protocol: 'https', port: 8443, gateway: 'nginx', kind: true }) as Record<string, any>;
    expect(s.metadata.namespace).toBe('ingress-nginx');
    expect(s.spec.type).toBe('ClusterIP');
    expect(s.spec.ports.map((p: { targetPort: unknown }) => p.targetPort)).toEqual(['http', 'https', 'https']);
    expect(kindIngressContainerPort({ gateway: 'nginx', protocol: 'https' })).toBe(443);
  });

  it('envoy on kind: NodePort 31443 on the Envoy proxy (container port 10443), selected by the owning-gateway labels', () => {
    const s = ingressService({ name: 'localdev', protocol: 'https', port: 8443, gateway: 'envoy', kind: true }) as Record<string, any>;
    expect(s.metadata.namespace).toBe('envoy-gateway-system');
    expect(s.spec.type).toBe('NodePort');
    expect(s.spec.selector).toEqual({ 'gateway.envoyproxy.io/owning-gateway-name': 'envoy', 'gateway.envoyproxy.io/owning-gateway-namespace': 'envoy-gateway-system' });
    expect(s.spec.ports).toEqual([
      { name: 'http', port: 80, targetPort: 10080, protocol: 'TCP' },
      { name: 'https', port: 443, targetPort: 10443, protocol: 'TCP', nodePort: 31443 },
      { name: 'platform', port: 8443, targetPort: 10443, protocol: 'TCP' },
    ]);
    expect(kindIngressContainerPort({ gateway: 'envoy', protocol: 'https' })).toBe(31443);
  });

  it('istio over http on an existing cluster: ClusterIP on the gateway pods (istio: ingressgateway)', () => {
    const s = ingressService({ name: 'localdev', protocol: 'http', port: 80, gateway: 'istio', kind: false }) as Record<string, any>;
    expect(s.metadata.namespace).toBe('istio-system');
    expect(s.spec.type).toBe('ClusterIP');
    expect(s.spec.selector).toEqual({ istio: 'ingressgateway' });
    expect(s.spec.ports.map((p: { port: number }) => p.port)).toEqual([80, 443]);
    expect(kindIngressContainerPort({ gateway: 'istio', protocol: 'http' })).toBe(31080);
  });
});

describe('idpbuilder create --gateway/--gitops (stand-ins)', () => {
  it('--gateway envoy --gitops flux: kind maps the NodePort, CoreDNS points at the gateway namespace, the chosen providers are applied', async () => {
    si = standIns({ kind: [{ match: 'get clusters', stdout: '' }], docker: [], helm: [], kubectl: freshKubectl() });
    const r = await runCli(['create', '--gateway', 'envoy', '--gitops', 'flux'], si);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const [kindConfig] = si.inputsOf(/^kind create cluster/);
    expect(parse(kindConfig).nodes[0].extraPortMappings[0]).toEqual({ containerPort: 31443, hostPort: 8443, protocol: 'TCP' });
    const [base, coredns, platform] = si.inputsOf(/ apply /).map(objectsOf);
    expect(base.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual(['Namespace/idpbuilder-system', 'Namespace/envoy-gateway-system', 'ConfigMap/idpbuilder-settings', 'Secret/platform-tls', 'Service/idpbuilder-ingress']);
    expect(base[2].data).toMatchObject({ gateway: 'envoy', gitops: 'flux' });
    expect(coredns[0].data.Corefile).toContain('idpbuilder-ingress.envoy-gateway-system.svc.cluster.local');
    expect(platform.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual(['EnvoyGateway/envoy', 'GiteaProvider/gitea', 'FluxProvider/flux', 'Platform/localdev']);
    const crds = ['platforms', 'giteaproviders', 'envoygateways', 'fluxproviders', 'gitrepositories', 'packages'].map((p) => `crd/${p}.idpbuilder.cnoe.io`).join(' ');
    expect(si.calls()).toContain(`helm upgrade --install idpbuilder ${DEFAULT_CHART} -n idpbuilder-system --create-namespace --kube-context kind-localdev`);
    expect(si.calls()).toContain(`kubectl --context kind-localdev wait --for condition=established --timeout=120s ${crds}`);
    // no Argo CD: the banner names Gitea and Flux's web UI
    expect(r.out).toContain('Can Access Gitea at https://gitea.cnoe.localtest.me:8443/');
    expect(r.out).toContain('Can Access the Flux UI at https://flux.cnoe.localtest.me:8443/ (read-only, no login)\nAn admin token can be retrieved by running: idpbuilder get secrets -p flux\n');
    expect(r.out).not.toContain('Can Access ArgoCD');
    expect(r.out).not.toContain('get secrets -p argocd');
  });

  it('--gateway istio on an existing cluster: IstioGateway and ArgoCDProvider routed through it', async () => {
    si = standIns({ helm: [], kubectl: freshKubectl() });
    const r = await runCli(['create', '--kubeconfig', '/k', '--gateway', 'istio'], si);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const [, , platform] = si.inputsOf(/ apply /).map(objectsOf);
    expect(platform.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual(['IstioGateway/istio', 'GiteaProvider/gitea', 'ArgoCDProvider/argocd', 'Platform/localdev']);
    expect(platform[2].spec.routing.gatewayRef).toEqual({ kind: 'IstioGateway', name: 'istio', namespace: 'idpbuilder-system' });
  });

  it('refuses what the choice cannot do, before anything runs', async () => {
    si = standIns({ kind: [], docker: [], helm: [], kubectl: [] });
    const flux = await runCli(['create', '--gitops', 'flux', '-p', '/nowhere'], si);
    expect(flux.code).toBe(1);
    expect(flux.err).toMatch(/^error: -p packages are Argo CD Applications; they need --gitops argocd \(this platform uses flux\)/);
    const values = join(si.env.HOME!, 'values.yaml');
    writeFileSync(values, 'controller: {}\n');
    const nginx = await runCli(['create', '--gateway', 'envoy', '-c', `nginx:${values}`], si);
    expect(nginx.code).toBe(1);
    expect(nginx.err).toBe(`error: -c nginx:${values}: nginx values need --gateway nginx (this platform uses envoy)\n`);
    expect(si.calls()).toEqual([]);
  });

  it('an unknown --gateway is a usage error', async () => {
    si = standIns({});
    const r = await runCli(['create', '--gateway', 'traefik'], si);
    expect(r.code).not.toBe(0);
    expect(r.err).toContain("option '--gateway <gateway>' argument 'traefik' is invalid. Allowed choices are nginx, envoy, istio.");
  });
});

describe('--build-name (deprecated alias of --name)', () => {
  it('warns like today and names the cluster', async () => {
    si = standIns({ kind: [{ match: 'get clusters', stdout: '' }], docker: [], helm: [], kubectl: freshKubectl([{ match: '*get platforms.idpbuilder.cnoe.io other*', stdout: JSON.stringify({ apiVersion: 'idpbuilder.cnoe.io/v1alpha2', kind: 'Platform', metadata: { name: 'other', namespace: 'idpbuilder-system', generation: 1 }, status: { phase: 'Ready', observedGeneration: 1, conditions: [{ type: 'Ready', status: 'True' }] } }) }]) });
    const r = await runCli(['create', '--build-name', 'other'], si);
    expect(r.err).toBe('Flag --build-name has been deprecated, use --name instead.\n');
    expect(r.code).toBe(0);
    expect(si.calls()).toContain('kind create cluster --name other --config -');
  });

  it('--name wins when both are given', async () => {
    si = standIns({ kind: [{ match: 'get clusters', stdout: '' }], docker: [], helm: [], kubectl: freshKubectl() });
    const r = await runCli(['create', '--build-name', 'other', '--name', 'localdev'], si);
    expect(r.code).toBe(0);
    expect(si.calls()).toContain('kind create cluster --name localdev --config -');
  });
});
