/**
 * The expose decorators: a Service annotated `idpbuilder.cnoe.io/expose: [<namespace>/]<gateway>` gets an
 * Ingress (gateways whose status says `routeKind: Ingress`: `expose-ingress`) or an HTTPRoute (`routeKind:
 * HTTPRoute`, attached to the status' `parentRef`: `expose-httproute`) in its own namespace, with host or
 * path routing under the domain of the Platform that uses that gateway. The URL is written back on the
 * Service as `idpbuilder.cnoe.io/exposed-url`. Under path routing every gateway forwards `/<service>/x`
 * unchanged, unless `idpbuilder.cnoe.io/expose-strip-prefix: "true"` asks for `/x` (only through a gateway
 * that reports a `prefixRewrite`). Optional annotations: `idpbuilder.cnoe.io/expose-host` (host),
 * `idpbuilder.cnoe.io/expose-port` (Service port, default its first port). docs/providers/expose.md.
 */
import type { PlatformSpec } from '../api/platform.js';
import { API_VERSION } from '../api/common.js';
import type { CustomizeRequest, CustomizeResponse, DecoratorSyncRequest, DecoratorSyncResponse, KubeObject } from '../metacontroller/protocol.js';
import { groupKey } from '../metacontroller/protocol.js';
import type { DecoratorDef, HookEnv } from '../kit/hooks.js';
import { ownerLabels } from '../kit/labels.js';
import { asDesired, relatedObjects } from '../kit/observed.js';
import { readiness } from '../kit/refs.js';
import { httpRouteObject, httpRouteRule, route, targetOf, uiURL, type RouteTarget } from '../kit/routing.js';
import { decoratorContract } from '../kit/contract.js';
import { HTTPROUTES, INGRESSES } from './resources.js';

const EXPOSE = 'idpbuilder.cnoe.io/expose';
const EXPOSE_HOST = 'idpbuilder.cnoe.io/expose-host';
const EXPOSE_PORT = 'idpbuilder.cnoe.io/expose-port';
/** `"true"`: forward `/<service>/x` as `/x` under path routing (default: unchanged). */
export const EXPOSE_STRIP_PREFIX = 'idpbuilder.cnoe.io/expose-strip-prefix';
/** Annotation the expose decorators write on an exposed Service: the URL it is reached at. */
export const EXPOSED_URL = 'idpbuilder.cnoe.io/exposed-url';
/**
 * Annotation the expose decorators write on a Service they cannot expose: why (e.g. the gateway is missing or not
 * ready); removed once it is exposed.
 */
export const EXPOSE_ERROR = 'idpbuilder.cnoe.io/expose-error';

const GATEWAY_KINDS = [
  { kind: 'NginxGateway', resource: 'nginxgateways' },
  { kind: 'EnvoyGateway', resource: 'envoygateways' },
  { kind: 'IstioGateway', resource: 'istiogateways' },
];

function gatewayName(svc: KubeObject, env: HookEnv): { namespace: string; name: string } {
  const raw = svc.metadata.annotations?.[EXPOSE] ?? '';
  const [a, b] = raw.split('/');
  return b ? { namespace: a, name: b } : { namespace: env.settings.controllerNamespace, name: a };
}

function customize(req: CustomizeRequest, env: HookEnv): CustomizeResponse {
  const gw = gatewayName(req.parent, env);
  return {
    relatedResources: [
      ...GATEWAY_KINDS.map((k) => ({ apiVersion: API_VERSION, resource: k.resource, namespace: gw.namespace, names: [gw.name] })),
      { apiVersion: API_VERSION, resource: 'platforms', namespace: gw.namespace },
    ],
  };
}

interface Exposure {
  style: 'ingress' | 'httproute';
  gateway: KubeObject;
  target: RouteTarget;
  host: string;
  path: string;
  /** Forward `<path>/x` as `/x` (only with a path other than `/`). */
  strip: boolean;
  url: string;
  port: number | string;
  /** The port's number (an HTTPRoute backendRef to a Service needs one). */
  portNumber?: number;
  tls: boolean;
}

/** The Platform that routes through this gateway (referenced, or its inline `<platform>-nginx`). */
function platformFor(req: DecoratorSyncRequest, gw: KubeObject): PlatformSpec | undefined {
  const platforms = ['v1alpha2', 'v1alpha1'].flatMap((v) => relatedObjects({ parent: req.object, related: req.related }, 'Platform', `idpbuilder.cnoe.io/${v}`));
  return platforms
    .sort((a, b) => a.metadata.name.localeCompare(b.metadata.name))
    .map((p) => ({ p, spec: (p.spec ?? {}) as PlatformSpec }))
    .find(
      ({ p, spec }) =>
        (spec.components?.gateways ?? []).some((g) => g.kind === gw.kind && g.name === gw.metadata.name && (g.namespace ?? p.metadata.namespace) === gw.metadata.namespace) ||
        (gw.metadata.name === `${p.metadata.name}-nginx` && gw.kind === 'NginxGateway'),
    )?.spec;
}

function plan(req: DecoratorSyncRequest, env: HookEnv): Exposure | { error: string } {
  const svc = req.object;
  const ref = gatewayName(svc, env);
  if (!ref.name) return { error: `annotation ${EXPOSE} names no gateway` };
  const gw = GATEWAY_KINDS.map((k) => req.related?.[groupKey(k.kind, API_VERSION)]?.[`${ref.namespace}/${ref.name}`]).find((o) => !!o);
  if (!gw) return { error: `gateway ${ref.namespace}/${ref.name} not found` };
  const r = readiness(gw);
  if (!r.ready) return { error: `gateway ${gw.kind} ${ref.namespace}/${ref.name} is not ready: ${r.message}` };
  const target = targetOf(gw.status);
  if ('missing' in target) return { error: `gateway ${gw.kind} ${ref.namespace}/${ref.name} reports no route target: ${target.missing}` };
  const platform = platformFor(req, gw);
  const name = svc.metadata.name;
  // an expose-host is served whole (host routing on that host), whatever the Platform's routing
  const hostOverride = svc.metadata.annotations?.[EXPOSE_HOST];
  const ic = platform?.ingressConfig;
  const rt = route(name, { domain: platform?.domain, usePathRouting: !!ic?.usePathRouting && !hostOverride, protocol: ic?.protocol, port: ic?.port }, hostOverride);
  const { host, path, protocol } = rt;
  const ports = ((svc.spec as { ports?: { port: number; name?: string }[] } | undefined)?.ports ?? []);
  const wanted = svc.metadata.annotations?.[EXPOSE_PORT];
  const port = wanted ? (/^\d+$/.test(wanted) ? Number(wanted) : wanted) : ports[0]?.port;
  if (port === undefined) return { error: `service ${svc.metadata.namespace}/${name} has no port to expose` };
  const url = uiURL(rt);
  const stripValue = svc.metadata.annotations?.[EXPOSE_STRIP_PREFIX];
  if (stripValue !== undefined && stripValue !== 'true' && stripValue !== 'false') return { error: `annotation ${EXPOSE_STRIP_PREFIX} must be "true" or "false", not ${JSON.stringify(stripValue)}` };
  const strip = stripValue === 'true' && path !== '/';
  const can = target.kind === 'Ingress' ? target.prefixRewrite === 'NginxRewriteTarget' : target.prefixRewrite === 'URLRewrite';
  if (strip && !can) return { error: `gateway ${gw.kind} ${ref.namespace}/${ref.name} cannot strip a path prefix (it reports no prefixRewrite): remove ${EXPOSE_STRIP_PREFIX} or use host routing` };
  const portNumber = typeof port === 'number' ? port : ports.find((p) => p.name === port)?.port;
  if (target.kind === 'HTTPRoute' && portNumber === undefined) return { error: `service ${svc.metadata.namespace}/${name} has no port named ${port}` };
  return { gateway: gw, target, host, path, strip, url, port, portNumber, tls: protocol === 'https', style: target.kind === 'HTTPRoute' ? 'httproute' : 'ingress' };
}

const backendPort = (port: number | string) => (typeof port === 'number' ? { number: port } : { name: port });

function ingress(svc: KubeObject, e: Exposure): KubeObject {
  // Stripping through ingress-nginx: a regex path whose second group is what remains after the prefix.
  const path = e.strip ? { path: `${e.path}(/|$)(.*)`, pathType: 'ImplementationSpecific' } : { path: e.path, pathType: 'Prefix' };
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: {
      name: svc.metadata.name,
      namespace: svc.metadata.namespace,
      labels: ownerLabels(svc, 'expose'),
      ...(e.strip ? { annotations: { 'nginx.ingress.kubernetes.io/rewrite-target': '/$2' } } : {}),
    },
    spec: {
      ingressClassName: e.target.kind === 'Ingress' ? e.target.className : undefined,
      rules: [{ host: e.host, http: { paths: [{ ...path, backend: { service: { name: svc.metadata.name, port: backendPort(e.port) } } }] } }],
      ...(e.tls ? { tls: [{ hosts: [e.host] }] } : {}),
    },
  } as KubeObject;
}

function httpRoute(svc: KubeObject, e: Exposure): KubeObject {
  // plan() gives an HTTPRoute exposure a port number; anything else is a programming error.
  if (e.target.kind !== 'HTTPRoute' || e.portNumber === undefined) throw new Error('httpRoute needs an HTTPRoute gateway and a port number');
  const rule = httpRouteRule(e.path, { name: svc.metadata.name, port: e.portNumber }, e.strip);
  return httpRouteObject({ name: svc.metadata.name, namespace: svc.metadata.namespace, labels: ownerLabels(svc, 'expose') }, e.target.parentRef, [e.host], [rule]);
}

function decoratorSync(style: Exposure['style']) {
  return (req: DecoratorSyncRequest, env: HookEnv): DecoratorSyncResponse => {
    const svc = req.object;
    const att = style === 'ingress' ? INGRESSES : HTTPROUTES;
    const observed = Object.values(req.attachments?.[groupKey(att.kind, att.apiVersion)] ?? {});
    const p = plan(req, env);
    if ('error' in p) return { attachments: observed.map(asDesired), annotations: { [EXPOSE_ERROR]: p.error } };
    if (p.style !== style) return { attachments: [] };
    const obj = style === 'ingress' ? ingress(svc, p) : httpRoute(svc, p);
    return { attachments: [obj], annotations: { [EXPOSED_URL]: p.url, [EXPOSE_ERROR]: null } };
  };
}

const exposed = [{ apiVersion: 'v1', kind: 'Service', resource: 'services', annotationSelector: { matchExpressions: [{ key: EXPOSE, operator: 'Exists' as const }] } }];

/**
 * The `expose-ingress` DecoratorController: Services annotated `idpbuilder.cnoe.io/expose` whose gateway serves
 * Ingresses (`routeKind: Ingress`) get an Ingress attachment.
 */
export const exposeIngress: DecoratorDef = {
  name: 'expose-ingress',
  resources: exposed,
  attachments: [INGRESSES],
  hooks: decoratorContract({ sync: decoratorSync('ingress'), customize }),
};

/**
 * The `expose-httproute` DecoratorController: Services annotated `idpbuilder.cnoe.io/expose` whose gateway serves
 * HTTPRoutes (`routeKind: HTTPRoute`) get an HTTPRoute (gateway.networking.k8s.io/v1) attached to the gateway's
 * `parentRef`.
 */
export const exposeHTTPRoute: DecoratorDef = {
  name: 'expose-httproute',
  resources: exposed,
  attachments: [HTTPROUTES],
  hooks: decoratorContract({ sync: decoratorSync('httproute'), customize }),
};
