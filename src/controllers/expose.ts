/**
 * The expose decorators: a Service annotated `idpbuilder.cnoe.io/expose: [<namespace>/]<gateway>` gets an
 * Ingress (gateways that expose an ingressClassName: `expose-ingress`) or an HTTPRoute (Gateway API
 * gateways, whose status names their Gateway: `expose-httproute`) in its own namespace, with host or
 * path routing under the domain of the Platform that uses that gateway. The URL is written back on the
 * Service as `idpbuilder.cnoe.io/exposed-url`. Optional annotations: `idpbuilder.cnoe.io/expose-host`
 * (host), `idpbuilder.cnoe.io/expose-port` (Service port, default its first port).
 */
import type { PlatformSpec } from '../api/platform.js';
import { API_VERSION } from '../api/common.js';
import type { CustomizeRequest, CustomizeResponse, DecoratorSyncRequest, DecoratorSyncResponse, KubeObject } from '../metacontroller/protocol.js';
import { groupKey } from '../metacontroller/protocol.js';
import type { DecoratorDef, HookEnv } from './types.js';
import { ownerLabels } from '../kit/labels.js';
import { asDesired, relatedObjects } from '../kit/observed.js';
import { readiness } from '../kit/refs.js';
import { decoratorContract } from '../kit/contract.js';
import { HTTPROUTES, INGRESSES } from './resources.js';

export const EXPOSE = 'idpbuilder.cnoe.io/expose';
export const EXPOSE_HOST = 'idpbuilder.cnoe.io/expose-host';
export const EXPOSE_PORT = 'idpbuilder.cnoe.io/expose-port';
export const EXPOSED_URL = 'idpbuilder.cnoe.io/exposed-url';
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
  host: string;
  path: string;
  url: string;
  port: number | string;
  ingressClassName?: string;
  parentRef?: { name: string; namespace: string };
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

export function plan(req: DecoratorSyncRequest, env: HookEnv): Exposure | { error: string } {
  const svc = req.object;
  const ref = gatewayName(svc, env);
  if (!ref.name) return { error: `annotation ${EXPOSE} names no gateway` };
  const gw = GATEWAY_KINDS.map((k) => req.related?.[groupKey(k.kind, API_VERSION)]?.[`${ref.namespace}/${ref.name}`]).find((o) => !!o);
  if (!gw) return { error: `gateway ${ref.namespace}/${ref.name} not found` };
  const r = readiness(gw);
  if (!r.ready) return { error: `gateway ${gw.kind} ${ref.namespace}/${ref.name} is not ready: ${r.message}` };
  const status = (gw.status ?? {}) as { ingressClassName?: string; gateway?: { name?: string; namespace?: string } };
  const platform = platformFor(req, gw);
  const domain = platform?.domain ?? 'cnoe.localtest.me';
  const pathRouting = platform?.ingressConfig?.usePathRouting ?? false;
  const protocol = platform?.ingressConfig?.protocol ?? 'https';
  const extPort = platform?.ingressConfig?.port;
  const name = svc.metadata.name;
  const host = svc.metadata.annotations?.[EXPOSE_HOST] ?? (pathRouting ? domain : `${name}.${domain}`);
  const path = pathRouting && !svc.metadata.annotations?.[EXPOSE_HOST] ? `/${name}` : '/';
  const ports = ((svc.spec as { ports?: { port: number; name?: string }[] } | undefined)?.ports ?? []);
  const wanted = svc.metadata.annotations?.[EXPOSE_PORT];
  const port = wanted ? (/^\d+$/.test(wanted) ? Number(wanted) : wanted) : ports[0]?.port;
  if (port === undefined) return { error: `service ${svc.metadata.namespace}/${name} has no port to expose` };
  const portPart = extPort && !((protocol === 'https' && extPort === 443) || (protocol === 'http' && extPort === 80)) ? `:${extPort}` : '';
  const url = `${protocol}://${host}${portPart}${path === '/' ? '/' : path}`;
  const base = { gateway: gw, host, path, url, port, tls: protocol === 'https' };
  if (status.gateway?.name) return { ...base, style: 'httproute', parentRef: { name: status.gateway.name, namespace: status.gateway.namespace ?? gw.metadata.namespace ?? ref.namespace } };
  if (status.ingressClassName) return { ...base, style: 'ingress', ingressClassName: status.ingressClassName };
  return { error: `gateway ${gw.kind} ${ref.namespace}/${ref.name} reports neither an ingressClassName nor a Gateway` };
}

const backendPort = (port: number | string) => (typeof port === 'number' ? { number: port } : { name: port });

export function ingress(svc: KubeObject, e: Exposure): KubeObject {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name: svc.metadata.name, namespace: svc.metadata.namespace, labels: ownerLabels(svc, 'expose') },
    spec: {
      ingressClassName: e.ingressClassName,
      rules: [{ host: e.host, http: { paths: [{ path: e.path, pathType: 'Prefix', backend: { service: { name: svc.metadata.name, port: backendPort(e.port) } } }] } }],
      ...(e.tls ? { tls: [{ hosts: [e.host] }] } : {}),
    },
  } as KubeObject;
}

export function httpRoute(svc: KubeObject, e: Exposure): KubeObject {
  const rule: Record<string, unknown> = {
    matches: [{ path: { type: 'PathPrefix', value: e.path } }],
    backendRefs: [{ name: svc.metadata.name, port: typeof e.port === 'number' ? e.port : undefined }].map((b) => (b.port === undefined ? { name: b.name } : b)),
  };
  if (e.path !== '/') rule.filters = [{ type: 'URLRewrite', urlRewrite: { path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/' } } }];
  return {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata: { name: svc.metadata.name, namespace: svc.metadata.namespace, labels: ownerLabels(svc, 'expose') },
    spec: { parentRefs: [e.parentRef], hostnames: [e.host], rules: [rule] },
  } as KubeObject;
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

export const exposeIngress: DecoratorDef = {
  name: 'expose-ingress',
  resources: exposed,
  attachments: [INGRESSES],
  hooks: decoratorContract({ sync: decoratorSync('ingress'), customize }),
};

export const exposeHTTPRoute: DecoratorDef = {
  name: 'expose-httproute',
  resources: exposed,
  attachments: [HTTPROUTES],
  hooks: decoratorContract({ sync: decoratorSync('httproute'), customize }),
};
