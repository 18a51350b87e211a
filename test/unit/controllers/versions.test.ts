/**
 * status.version tells what runs, and the values the controllers rely on survive the user's values
 * (issue 12 items 1, 2, 5, 6). Chart facts behind each expectation: docs/providers/<kind>.md.
 */
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { SyncResponse } from '../../../src/metacontroller/protocol.js';
import type { Hooks } from '../../../src/kit/hooks.js';
import { nginxGatewayHooks } from '../../../src/controllers/nginxgateway.js';
import { argoCDProviderHooks } from '../../../src/controllers/argocdprovider.js';
import { fluxProviderHooks } from '../../../src/controllers/fluxprovider.js';
import { envoyGatewayHooks } from '../../../src/controllers/envoygateway.js';
import { istioGatewayHooks } from '../../../src/controllers/istiogateway.js';
import { giteaProviderHooks } from '../../../src/controllers/giteaprovider.js';
import { compareVersions, withV } from '../../../src/controllers/versions.js';
import { commaItems, settle } from '../../../src/kit/values.js';
import { parent, syncRequest, testEnv } from '../../support/requests.js';
import { condition } from '../../support/world.js';

const env = testEnv();

function sync(hooks: Hooks, kind: string, spec: Record<string, unknown>): SyncResponse {
  return hooks.sync(syncRequest(parent(kind, 'x', spec)), env) as SyncResponse;
}

/** The values file of release `i` and its helm command line. */
function release(res: SyncResponse, i = 0): { values: Record<string, any>; script: string } {
  const cm = res.children.find((c) => c.kind === 'ConfigMap' && /-install-/.test(c.metadata.name));
  const data = (cm?.data ?? {}) as Record<string, string>;
  return { values: parse(data[`values-${i}.yaml`] ?? '{}') ?? {}, script: data['run.sh'] ?? '' };
}

function unverified(res: SyncResponse) {
  return (res.status.conditions as { type: string; status: string; reason: string; message: string }[]).find((c) => c.type === 'VersionUnverified');
}

describe('status.version: NginxGateway (ingress-nginx)', () => {
  it('default chart 4.15.1 runs controller 1.15.1', () => {
    const res = sync(nginxGatewayHooks, 'NginxGateway', {});
    expect(res.status.version).toBe('1.15.1');
    expect(release(res).values.controller.image).toBeUndefined();
    expect(unverified(res)).toBeUndefined();
  });

  it('spec.version 1.13.0 with the default chart sets controller.image.tag v1.13.0 and clears the digests that would win over it', () => {
    const res = sync(nginxGatewayHooks, 'NginxGateway', { version: '1.13.0' });
    expect(release(res).values.controller.image).toEqual({ tag: 'v1.13.0', digest: '', digestChroot: '' });
    expect(release(res).script).toContain('--version 4.15.1');
    expect(res.status.version).toBe('1.13.0');
  });

  it('a user tag in values: no claim, VersionUnverified naming the key', () => {
    const res = sync(nginxGatewayHooks, 'NginxGateway', { version: '1.13.0', values: { controller: { image: { tag: 'v1.12.1' } } } });
    expect(res.status.version).toBeUndefined();
    expect(unverified(res)).toMatchObject({ status: 'True', reason: 'ValuesOverrideImage' });
    expect(unverified(res)!.message).toContain('values.controller.image.tag ("v1.12.1")');
  });

  it('the same tag in values as spec.version is no conflict', () => {
    const res = sync(nginxGatewayHooks, 'NginxGateway', { version: '1.13.0', values: { controller: { image: { tag: 'v1.13.0' } } } });
    expect(res.status.version).toBe('1.13.0');
    expect(unverified(res)).toBeUndefined();
  });

  it('a chart version the controller has not checked, without spec.version: no claim', () => {
    const res = sync(nginxGatewayHooks, 'NginxGateway', { installMethod: { type: 'Helm', helm: { repository: 'https://kubernetes.github.io/ingress-nginx', version: '4.12.0' } } });
    expect(res.status.version).toBeUndefined();
    expect(unverified(res)).toMatchObject({ reason: 'UnknownChartVersion' });
    expect(unverified(res)!.message).toContain('chart ingress-nginx 4.12.0');
  });

  it('chart 4.11.0 (checked) runs 1.11.0', () => {
    const res = sync(nginxGatewayHooks, 'NginxGateway', { installMethod: { type: 'Helm', helm: { repository: 'https://kubernetes.github.io/ingress-nginx', version: '4.11.0' } } });
    expect(res.status.version).toBe('1.11.0');
  });

  it('an ingressClassResource name in values that is not the class: Ready=False ConflictingValues naming the key', () => {
    const res = sync(nginxGatewayHooks, 'NginxGateway', { values: { controller: { ingressClassResource: { name: 'other' } } } });
    expect(condition(res)).toMatchObject({ status: 'False', reason: 'ConflictingValues' });
    expect(condition(res).message).toContain('values.controller.ingressClassResource.name is "other"');
    expect(res.children.filter((c) => c.kind === 'Job')).toEqual([]);
  });
});

describe('status.version: ArgoCDProvider (argo-cd)', () => {
  it('spec.version v2.12.0 with the default chart 10.1.1 sets global.image.tag and reports v2.12.0 (the chart alone runs v3.4.4)', () => {
    const res = sync(argoCDProviderHooks, 'ArgoCDProvider', { version: 'v2.12.0' });
    expect(release(res).values.global.image).toEqual({ tag: 'v2.12.0' });
    expect(res.status.version).toBe('v2.12.0');
    expect(sync(argoCDProviderHooks, 'ArgoCDProvider', {}).status.version).toBe('v3.4.4');
  });

  it('spec.version without the leading v gets one (the image tag has it)', () => {
    const res = sync(argoCDProviderHooks, 'ArgoCDProvider', { version: '2.12.0' });
    expect(release(res).values.global.image).toEqual({ tag: 'v2.12.0' });
    expect(res.status.version).toBe('v2.12.0');
  });

  it('chart 7.0.0 without spec.version runs v2.11.2', () => {
    const res = sync(argoCDProviderHooks, 'ArgoCDProvider', { installMethod: { type: 'Helm', helm: { repository: 'https://argoproj.github.io/argo-helm', version: '7.0.0' } } });
    expect(res.status.version).toBe('v2.11.2');
  });

  it('a per-component tag in values: VersionUnverified', () => {
    const res = sync(argoCDProviderHooks, 'ArgoCDProvider', { version: 'v2.12.0', values: { server: { image: { tag: 'v2.13.0' } } } });
    expect(res.status.version).toBeUndefined();
    expect(unverified(res)!.message).toContain('values.server.image.tag');
  });

  it('application.namespaces from values is joined with the controllers namespace; status shows the effective list', () => {
    const res = sync(argoCDProviderHooks, 'ArgoCDProvider', { values: { configs: { params: { 'application.namespaces': 'team-*' } } } });
    expect(release(res).values.configs.params['application.namespaces']).toBe('team-*,idpbuilder-system');
    expect(res.status.applicationNamespaces).toEqual(['team-*', 'idpbuilder-system']);
    expect(condition(res).reason).not.toBe('ConflictingValues');
  });

  it('server.insecure false in values: ConflictingValues naming the key', () => {
    const res = sync(argoCDProviderHooks, 'ArgoCDProvider', { values: { configs: { params: { 'server.insecure': false } } } });
    expect(condition(res)).toMatchObject({ status: 'False', reason: 'ConflictingValues' });
    expect(condition(res).message).toContain('values.configs.params."server.insecure" is false');
  });

  it('configs.cm.url is status.endpoint: host routing with a port', () => {
    const res = sync(argoCDProviderHooks, 'ArgoCDProvider', { routing: { domain: 'cnoe.localtest.me', port: 8443 } });
    expect(res.status.endpoint).toBe('https://argocd.cnoe.localtest.me:8443');
    expect(release(res).values.configs.cm.url).toBe('https://argocd.cnoe.localtest.me:8443');
  });

  it('configs.cm.url is status.endpoint under path routing, with server.basehref and server.rootpath /argocd', () => {
    const res = sync(argoCDProviderHooks, 'ArgoCDProvider', { routing: { domain: 'cnoe.localtest.me', port: 8443, usePathRouting: true } });
    const v = release(res).values;
    expect(res.status.endpoint).toBe('https://cnoe.localtest.me:8443/argocd');
    expect(v.configs.cm.url).toBe('https://cnoe.localtest.me:8443/argocd');
    expect(v.configs.params['server.basehref']).toBe('/argocd');
    expect(v.configs.params['server.rootpath']).toBe('/argocd');
  });

  it('a url in values that is not the endpoint: ConflictingValues; the same url (trailing slash) is fine', () => {
    expect(condition(sync(argoCDProviderHooks, 'ArgoCDProvider', { values: { configs: { cm: { url: 'https://elsewhere.example' } } } })).reason).toBe('ConflictingValues');
    expect(condition(sync(argoCDProviderHooks, 'ArgoCDProvider', { values: { configs: { cm: { url: 'https://argocd.cnoe.localtest.me/' } } } })).reason).not.toBe('ConflictingValues');
  });
});

describe('status.version: FluxProvider (flux2)', () => {
  it('default chart 2.18.3 runs Flux 2.8.5', () => {
    const res = sync(fluxProviderHooks, 'FluxProvider', {});
    expect(res.status.version).toBe('2.8.5');
    expect(release(res).script).toContain('--version 2.18.3');
  });

  it('spec.version v2.4.0 picks chart 2.14.1 (the newest chart of Flux 2.4.0) and reports 2.4.0', () => {
    const res = sync(fluxProviderHooks, 'FluxProvider', { version: 'v2.4.0' });
    expect(release(res).script).toContain('--version 2.14.1');
    expect(res.status.version).toBe('2.4.0');
    expect(unverified(res)).toBeUndefined();
  });

  it('a Flux version with no known chart: the default chart is installed and reported, with VersionUnverified', () => {
    const res = sync(fluxProviderHooks, 'FluxProvider', { version: 'v2.0.0' });
    expect(release(res).script).toContain('--version 2.18.3');
    expect(res.status.version).toBe('2.8.5');
    expect(unverified(res)).toMatchObject({ reason: 'UnknownVersion' });
  });

  it('installMethod.helm.version contradicting spec.version: the chart decides, and says so', () => {
    const res = sync(fluxProviderHooks, 'FluxProvider', { version: 'v2.4.0', installMethod: { type: 'Helm', helm: { repository: 'https://fluxcd-community.github.io/helm-charts', version: '2.18.3' } } });
    expect(res.status.version).toBe('2.8.5');
    expect(unverified(res)).toMatchObject({ reason: 'SpecVersionIgnored' });
  });

  it('a controller tag in values: VersionUnverified', () => {
    const res = sync(fluxProviderHooks, 'FluxProvider', { values: { sourceController: { tag: 'v1.2.0' } } });
    expect(res.status.version).toBeUndefined();
    expect(unverified(res)!.message).toContain('values.sourceController.tag');
  });

  it('watchAllNamespaces false in values: ConflictingValues', () => {
    const res = sync(fluxProviderHooks, 'FluxProvider', { values: { watchAllNamespaces: false } });
    expect(condition(res)).toMatchObject({ status: 'False', reason: 'ConflictingValues' });
    expect(condition(res).message).toContain('values.watchAllNamespaces is false');
  });
});

describe('status.version: EnvoyGateway (gateway-helm)', () => {
  it('spec.version v1.0.0 with the default chart v1.9.0 sets the image repository and tag (the tag alone is ignored by v1.9.0)', () => {
    const res = sync(envoyGatewayHooks, 'EnvoyGateway', { version: 'v1.0.0' });
    expect(release(res).values.deployment.envoyGateway.image).toEqual({ repository: 'docker.io/envoyproxy/gateway', tag: 'v1.0.0' });
    expect(release(res).script).toContain('--version v1.9.0');
    expect(res.status.version).toBe('v1.0.0');
    expect(sync(envoyGatewayHooks, 'EnvoyGateway', {}).status.version).toBe('v1.9.0');
  });

  it('a chart version without spec.version: its own version (gateway-helm packages app version = chart version)', () => {
    const res = sync(envoyGatewayHooks, 'EnvoyGateway', { installMethod: { type: 'Helm', helm: { repository: 'oci://docker.io/envoyproxy/gateway-helm', version: 'v1.0.0' } } });
    expect(res.status.version).toBe('v1.0.0');
  });

  it('a controllerName in values other than the GatewayClass one: ConflictingValues', () => {
    const res = sync(envoyGatewayHooks, 'EnvoyGateway', { values: { config: { envoyGateway: { gateway: { controllerName: 'example.com/other' } } } } });
    expect(condition(res).reason).toBe('ConflictingValues');
    expect(condition(res).message).toContain('values.config.envoyGateway.gateway.controllerName');
  });
});

describe('status.version: IstioGateway (Istio charts)', () => {
  it('default 1.30.3', () => {
    const res = sync(istioGatewayHooks, 'IstioGateway', {});
    expect(res.status.version).toBe('1.30.3');
    expect(release(res).script).toContain('--version 1.30.3');
  });

  it('spec.version 1.27.1 picks chart version 1.27.1 for every Istio chart', () => {
    const res = sync(istioGatewayHooks, 'IstioGateway', { version: '1.27.1' });
    expect(res.status.version).toBe('1.27.1');
    expect(release(res).script.match(/--version 1\.27\.1/g)).toHaveLength(3);
  });

  it('spec.version 1.24.0: Ready=False UnsupportedVersion (its gateway chart schema fails under helm >= 3.18), nothing installed', () => {
    const res = sync(istioGatewayHooks, 'IstioGateway', { version: '1.24.0' });
    expect(condition(res)).toMatchObject({ status: 'False', reason: 'UnsupportedVersion' });
    expect(res.children.filter((c) => c.kind === 'Job')).toEqual([]);
  });

  it.each([
    ['1.25.4', true],
    ['1.25.5', false],
    ['1.26.3', true],
    ['1.26.4', false],
    ['1.27.0', true],
    ['1.27.1', false],
    ['1.28.0', false],
  ])('Istio %s refused: %s', (version, refused) => {
    const res = sync(istioGatewayHooks, 'IstioGateway', { installMethod: { type: 'Helm', helm: { repository: 'https://istio-release.storage.googleapis.com/charts', version } } });
    expect(condition(res).reason === 'UnsupportedVersion').toBe(refused);
    if (!refused) expect(res.status.version).toBe(version);
  });

  it('1.24.0 without any gateway installs (only the gateway chart is broken)', () => {
    const res = sync(istioGatewayHooks, 'IstioGateway', { version: '1.24.0', config: { gateways: { 'istio-ingressgateway': { enabled: false } } } });
    expect(condition(res).reason).not.toBe('UnsupportedVersion');
  });

  it('an istiod tag in values: VersionUnverified; a revision in values: ConflictingValues', () => {
    expect(unverified(sync(istioGatewayHooks, 'IstioGateway', { values: { global: { tag: '1.29.0' } } }))!.message).toContain('values.global.tag');
    expect(condition(sync(istioGatewayHooks, 'IstioGateway', { values: { revision: 'canary' } })).reason).toBe('ConflictingValues');
  });
});

describe('status.version: GiteaProvider (gitea)', () => {
  it('default chart 12.1.2 runs 1.24.3; spec.version 1.25.2 sets image.tag 1.25.2', () => {
    expect(sync(giteaProviderHooks, 'GiteaProvider', {}).status.version).toBe('1.24.3');
    const res = sync(giteaProviderHooks, 'GiteaProvider', { version: 'v1.25.2' });
    expect(release(res).values.image).toEqual({ tag: '1.25.2' });
    expect(res.status.version).toBe('1.25.2');
  });

  it('image.fullOverride in values: VersionUnverified', () => {
    const res = sync(giteaProviderHooks, 'GiteaProvider', { values: { image: { fullOverride: 'example.com/gitea:dev' } } });
    expect(res.status.version).toBeUndefined();
    expect(unverified(res)!.reason).toBe('ValuesOverrideImage');
  });

  it('ROOT_URL in values that is not status.endpoint: ConflictingValues naming the key', () => {
    const res = sync(giteaProviderHooks, 'GiteaProvider', { values: { gitea: { config: { server: { ROOT_URL: 'https://git.example.com/' } } } } });
    expect(condition(res)).toMatchObject({ status: 'False', reason: 'ConflictingValues' });
    expect(condition(res).message).toContain('values.gitea.config.server.ROOT_URL');
  });
});

describe('status.version under a registry mirror (docs/airgap.md layout)', () => {
  it('Argo CD: global.image.repository <mirror>/quay.io/argoproj/argocd keeps v3.4.4; another repository does not', () => {
    const mirrored = sync(argoCDProviderHooks, 'ArgoCDProvider', { values: { global: { image: { repository: 'mirror.example:5000/quay.io/argoproj/argocd' } } } });
    expect(mirrored.status.version).toBe('v3.4.4');
    expect(unverified(mirrored)).toBeUndefined();
    const other = sync(argoCDProviderHooks, 'ArgoCDProvider', { values: { global: { image: { repository: 'mirror.example:5000/quay.io/someone/argocd-fork' } } } });
    expect(other.status.version).toBeUndefined();
    expect(unverified(other)!.reason).toBe('ValuesOverrideImage');
  });

  it('Flux: <controller>.image <mirror>/ghcr.io/fluxcd/source-controller keeps the chart\'s Flux version', () => {
    const plain = sync(fluxProviderHooks, 'FluxProvider', {}).status.version;
    expect(plain).toBeTruthy();
    const res = sync(fluxProviderHooks, 'FluxProvider', { values: { sourceController: { image: 'mirror.example:5000/ghcr.io/fluxcd/source-controller' } } });
    expect(res.status.version).toBe(plain);
    expect(unverified(sync(fluxProviderHooks, 'FluxProvider', { values: { sourceController: { image: 'example.com/source-controller' } } }))!.reason).toBe('ValuesOverrideImage');
  });

  it('Istio: global.hub <mirror>/docker.io/istio keeps the Istio version', () => {
    const plain = sync(istioGatewayHooks, 'IstioGateway', {}).status.version;
    expect(plain).toBeTruthy();
    expect(sync(istioGatewayHooks, 'IstioGateway', { values: { global: { hub: 'mirror.example:5000/docker.io/istio' } } }).status.version).toBe(plain);
  });
});

describe('installMethod.helm without a version', () => {
  it('the default chart from another repository keeps the pinned chart version (and its status.version)', () => {
    const res = sync(giteaProviderHooks, 'GiteaProvider', { installMethod: { type: 'Helm', helm: { repository: 'oci://mirror.example:5000/charts' } } });
    expect(release(res).script).toContain('--version 12.1.2');
    expect(res.status.version).toBe('1.24.3');
  });

  it('another chart: no pinned version to keep (helm installs its newest), and no version claimed', () => {
    const res = sync(giteaProviderHooks, 'GiteaProvider', { installMethod: { type: 'Helm', helm: { repository: 'https://charts.example.com', chart: 'gitea-fork' } } });
    expect(release(res).script).not.toContain('--version');
    expect(res.status.version).toBeUndefined();
    expect(unverified(res)!.reason).toBe('UnknownChartVersion');
  });

  it('Istio: spec.version with a helm block without a version still picks the chart version', () => {
    const res = sync(istioGatewayHooks, 'IstioGateway', { version: '1.30.3', installMethod: { type: 'Helm', helm: { repository: 'oci://mirror.example:5000/charts' } } });
    expect(res.status.version).toBe('1.30.3');
  });
});

describe('helpers', () => {
  it('withV and compareVersions', () => {
    expect(withV('1.2.3', true)).toBe('v1.2.3');
    expect(withV('v1.2.3', false)).toBe('1.2.3');
    expect(compareVersions('1.25.10', '1.25.5')).toBeGreaterThan(0);
    expect(compareVersions('v1.26.4', '1.26.4')).toBe(0);
  });

  it('settle joins comma lists and lists every conflict', () => {
    const relied = [
      { path: ['a', 'list'], value: 'x,y', merge: 'commaList' as const, why: 'w' },
      { path: ['b'], value: 1, why: 'needed' },
      { path: ['c'], value: 'k', why: 'needed too' },
    ];
    const user = { a: { list: 'z, x' }, b: 2, c: 'k' };
    const out = settle({ a: { list: 'z, x' }, b: 2, c: 'k' }, relied, user);
    expect(out.values.a).toEqual({ list: 'z,x,y' });
    expect(out.conflict).toEqual({ reason: 'ConflictingValues', message: 'values.b is 2 but the controller relies on 1 (needed)' });
    expect(commaItems(' a, ,b')).toEqual(['a', 'b']);
  });
});
