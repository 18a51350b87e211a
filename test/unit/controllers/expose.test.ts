import { describe, expect, it } from 'vitest';
import { exposeHTTPRoute, exposeIngress, EXPOSED_URL, EXPOSE_ERROR, EXPOSE_STRIP_PREFIX } from '../../../src/controllers/expose.js';
import type { KubeObject } from '../../../src/metacontroller/protocol.js';
import { testEnv } from '../../support/requests.js';
import { toMap } from '../../support/world.js';

const env = testEnv();
const ready = [{ type: 'Ready', status: 'True', reason: 'Available', message: '' }];

function service(annotations: Record<string, string>): KubeObject {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name: 'backstage', namespace: 'backstage', annotations }, spec: { ports: [{ name: 'http', port: 7007 }] } } as KubeObject;
}
// duck statuses as the gateway controllers report them
const nginx = {
  apiVersion: 'idpbuilder.cnoe.io/v1alpha2',
  kind: 'NginxGateway',
  metadata: { name: 'nginx', namespace: 'idpbuilder-system' },
  spec: {},
  status: { conditions: ready, routeKind: 'Ingress', ingressClassName: 'nginx', prefixRewrite: 'NginxRewriteTarget' },
} as KubeObject;
const istio = { apiVersion: 'idpbuilder.cnoe.io/v1alpha2', kind: 'IstioGateway', metadata: { name: 'istio', namespace: 'idpbuilder-system' }, spec: {}, status: { conditions: ready, routeKind: 'Ingress', ingressClassName: 'istio' } } as KubeObject;
const envoy = {
  apiVersion: 'idpbuilder.cnoe.io/v1alpha2',
  kind: 'EnvoyGateway',
  metadata: { name: 'envoy', namespace: 'idpbuilder-system' },
  spec: {},
  status: { conditions: ready, routeKind: 'HTTPRoute', parentRef: { name: 'envoy', namespace: 'envoy-gateway-system' }, prefixRewrite: 'URLRewrite', gatewayClass: 'envoy', gateway: { name: 'envoy', namespace: 'envoy-gateway-system', ready: true } },
} as KubeObject;
const platform = (gateway: KubeObject, ingressConfig: Record<string, unknown>) =>
  ({
    apiVersion: 'idpbuilder.cnoe.io/v1alpha2',
    kind: 'Platform',
    metadata: { name: 'p', namespace: 'idpbuilder-system' },
    spec: { domain: 'idp.example.com', ingressConfig, components: { gateways: [{ kind: gateway.kind, name: gateway.metadata.name }] } },
  }) as KubeObject;

function request(svc: KubeObject, related: KubeObject[], attachments: KubeObject[] = []) {
  return { object: svc, attachments: toMap(attachments), related: toMap(related) };
}

describe('expose decorators', () => {
  it('Ingress through an ingress-class gateway, host routing under the Platform domain', () => {
    const req = request(service({ 'idpbuilder.cnoe.io/expose': 'nginx' }), [nginx, platform(nginx, { port: 8443 })]);
    const res = exposeIngress.hooks.sync(req, env);
    expect(res.attachments).toEqual([
      {
        apiVersion: 'networking.k8s.io/v1',
        kind: 'Ingress',
        metadata: { name: 'backstage', namespace: 'backstage', labels: { 'app.kubernetes.io/managed-by': 'idpbuilder', 'idpbuilder.cnoe.io/service': 'backstage', 'idpbuilder.cnoe.io/role': 'expose' } },
        spec: {
          ingressClassName: 'nginx',
          rules: [{ host: 'backstage.idp.example.com', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'backstage', port: { number: 7007 } } } }] } }],
          tls: [{ hosts: ['backstage.idp.example.com'] }],
        },
      },
    ]);
    expect(res.annotations).toEqual({ [EXPOSED_URL]: 'https://backstage.idp.example.com:8443/', [EXPOSE_ERROR]: null });
    // the HTTPRoute decorator leaves this Service alone
    expect(exposeHTTPRoute.hooks.sync(req, env)).toEqual({ attachments: [] });
  });

  it('Ingress with path routing', () => {
    const res = exposeIngress.hooks.sync(request(service({ 'idpbuilder.cnoe.io/expose': 'idpbuilder-system/nginx' }), [nginx, platform(nginx, { usePathRouting: true, protocol: 'http' })]), env);
    const spec = res.attachments[0].spec as any;
    expect(spec.rules[0]).toMatchObject({ host: 'idp.example.com', http: { paths: [{ path: '/backstage' }] } });
    expect(spec.tls).toBeUndefined();
    expect(res.annotations?.[EXPOSED_URL]).toBe('http://idp.example.com/backstage');
  });

  it('HTTPRoute attached to the Gateway of a Gateway API gateway, host and path routing', () => {
    const req = request(service({ 'idpbuilder.cnoe.io/expose': 'envoy' }), [envoy, platform(envoy, {})]);
    expect(exposeIngress.hooks.sync(req, env)).toEqual({ attachments: [] });
    const host = exposeHTTPRoute.hooks.sync(req, env);
    expect(host.attachments[0].spec).toEqual({
      parentRefs: [{ name: 'envoy', namespace: 'envoy-gateway-system' }],
      hostnames: ['backstage.idp.example.com'],
      rules: [{ matches: [{ path: { type: 'PathPrefix', value: '/' } }], backendRefs: [{ name: 'backstage', port: 7007 }] }],
    });
    // path routing forwards /backstage/... unchanged, as the Ingress gateways do
    const path = exposeHTTPRoute.hooks.sync(request(service({ 'idpbuilder.cnoe.io/expose': 'envoy' }), [envoy, platform(envoy, { usePathRouting: true })]), env);
    expect((path.attachments[0].spec as any).rules).toEqual([{ matches: [{ path: { type: 'PathPrefix', value: '/backstage' } }], backendRefs: [{ name: 'backstage', port: 7007 }] }]);
    expect(path.annotations?.[EXPOSED_URL]).toBe('https://idp.example.com/backstage');
  });

  describe('the same request path reaches the Service through every gateway', () => {
    const backend = { service: { name: 'backstage', port: { number: 7007 } } };
    const sync = (gw: KubeObject, ingressConfig: Record<string, unknown>, extra: Record<string, string> = {}) => {
      const req = request(service({ 'idpbuilder.cnoe.io/expose': gw.metadata.name, ...extra }), [gw, platform(gw, ingressConfig)]);
      const ing = exposeIngress.hooks.sync(req, env);
      const route = exposeHTTPRoute.hooks.sync(req, env);
      return { ing, route };
    };

    it.each([
      [nginx, 'nginx'],
      [istio, 'istio'],
    ])('%#: Ingress gateway (class %s): host routing at /, path routing at /backstage, forwarded unchanged', (gw, className) => {
      const host = sync(gw, {});
      expect(host.route).toEqual({ attachments: [] });
      expect(host.ing.attachments[0].spec).toEqual({
        ingressClassName: className,
        rules: [{ host: 'backstage.idp.example.com', http: { paths: [{ path: '/', pathType: 'Prefix', backend }] } }],
        tls: [{ hosts: ['backstage.idp.example.com'] }],
      });
      const path = sync(gw, { usePathRouting: true });
      expect(path.ing.attachments[0].metadata.annotations).toBeUndefined();
      expect(path.ing.attachments[0].spec).toEqual({
        ingressClassName: className,
        rules: [{ host: 'idp.example.com', http: { paths: [{ path: '/backstage', pathType: 'Prefix', backend }] } }],
        tls: [{ hosts: ['idp.example.com'] }],
      });
      expect(path.ing.annotations?.[EXPOSED_URL]).toBe('https://idp.example.com/backstage');
    });

    it(`${EXPOSE_STRIP_PREFIX}: "true": nginx strips with a regex path and rewrite-target, envoy with URLRewrite`, () => {
      const n = sync(nginx, { usePathRouting: true }, { [EXPOSE_STRIP_PREFIX]: 'true' }).ing.attachments[0];
      expect(n.metadata.annotations).toEqual({ 'nginx.ingress.kubernetes.io/rewrite-target': '/$2' });
      expect((n.spec as any).rules[0].http.paths).toEqual([{ path: '/backstage(/|$)(.*)', pathType: 'ImplementationSpecific', backend }]);
      const e = sync(envoy, { usePathRouting: true }, { [EXPOSE_STRIP_PREFIX]: 'true' }).route;
      expect((e.attachments[0].spec as any).rules).toEqual([
        {
          matches: [{ path: { type: 'PathPrefix', value: '/backstage' } }],
          filters: [{ type: 'URLRewrite', urlRewrite: { path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/' } } }],
          backendRefs: [{ name: 'backstage', port: 7007 }],
        },
      ]);
      expect(e.annotations?.[EXPOSED_URL]).toBe('https://idp.example.com/backstage');
      // host routing has no prefix to strip
      expect((sync(nginx, {}, { [EXPOSE_STRIP_PREFIX]: 'true' }).ing.attachments[0].spec as any).rules[0].http.paths[0]).toEqual({ path: '/', pathType: 'Prefix', backend });
    });

    it(`${EXPOSE_STRIP_PREFIX} through Istio (no prefixRewrite): refused on the Service, what was attached is kept`, () => {
      const svc = service({ 'idpbuilder.cnoe.io/expose': 'istio', [EXPOSE_STRIP_PREFIX]: 'true' });
      const before = sync(istio, { usePathRouting: true }).ing.attachments;
      const res = exposeIngress.hooks.sync(request(svc, [istio, platform(istio, { usePathRouting: true })], before), env);
      expect(res.attachments).toEqual(before);
      expect(res.annotations).toEqual({
        [EXPOSE_ERROR]: `gateway IstioGateway idpbuilder-system/istio cannot strip a path prefix (it reports no prefixRewrite): remove ${EXPOSE_STRIP_PREFIX} or use host routing`,
      });
    });

    it(`${EXPOSE_STRIP_PREFIX} with a value other than true/false is refused`, () => {
      const res = sync(nginx, { usePathRouting: true }, { [EXPOSE_STRIP_PREFIX]: 'yes' }).ing;
      expect(res).toEqual({ attachments: [], annotations: { [EXPOSE_ERROR]: `annotation ${EXPOSE_STRIP_PREFIX} must be "true" or "false", not "yes"` } });
    });

    it('an HTTPRoute names the backend port by number, also when the expose-port annotation names it', () => {
      const res = sync(envoy, {}, { 'idpbuilder.cnoe.io/expose-port': 'http' }).route;
      expect((res.attachments[0].spec as any).rules[0].backendRefs).toEqual([{ name: 'backstage', port: 7007 }]);
      expect(sync(envoy, {}, { 'idpbuilder.cnoe.io/expose-port': 'grpc' }).route.annotations).toEqual({ [EXPOSE_ERROR]: 'service backstage/backstage has no port named grpc' });
    });
  });

  it('honours the host and port annotations', () => {
    const res = exposeIngress.hooks.sync(request(service({ 'idpbuilder.cnoe.io/expose': 'nginx', 'idpbuilder.cnoe.io/expose-host': 'portal.example.org', 'idpbuilder.cnoe.io/expose-port': 'http' }), [nginx]), env);
    expect((res.attachments[0].spec as any).rules[0]).toMatchObject({ host: 'portal.example.org', http: { paths: [{ path: '/', backend: { service: { port: { name: 'http' } } } }] } });
  });

  it('keeps what it attached when the gateway goes missing, and says why on the Service', () => {
    const svc = service({ 'idpbuilder.cnoe.io/expose': 'nginx' });
    const first = exposeIngress.hooks.sync(request(svc, [nginx]), env);
    const gone = exposeIngress.hooks.sync(request(svc, [], first.attachments), env);
    expect(gone.attachments).toEqual(first.attachments);
    expect(gone.annotations).toEqual({ [EXPOSE_ERROR]: 'gateway idpbuilder-system/nginx not found' });
  });

  it('asks for the named gateway of every gateway kind and the Platforms beside it', () => {
    const res = exposeIngress.hooks.customize!({ parent: service({ 'idpbuilder.cnoe.io/expose': 'edge/envoy' }) }, env);
    expect(res.relatedResources.map((r) => `${r.resource}:${r.namespace}:${(r.names ?? []).join()}`)).toEqual([
      'nginxgateways:edge:envoy',
      'envoygateways:edge:envoy',
      'istiogateways:edge:envoy',
      'platforms:edge:',
    ]);
  });
});
