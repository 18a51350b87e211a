/**
 * How a component with a UI is reached (Gitea, Argo CD, exposed Services): host or path routing under the
 * platform's domain, through an Ingress or an HTTPRoute, whichever the gateway's duck-typed status says it
 * serves. Paths are forwarded unchanged unless a component needs its prefix stripped and the gateway can.
 */
import type { Routing } from '../api/common.js';
import type { KubeObject, RelatedResourceRule, SyncRequest } from '../metacontroller/protocol.js';
import type { Blocker } from './provider.js';
import { readiness, refRules, resolveRef } from './refs.js';
import { DEFAULT_DOMAIN } from '../api/names.js';

/**
 * How a component with a UI is reached: host, path (`/` with host routing, `/<component>` with path routing), the
 * external URL without a trailing slash, the protocol, whether path routing is used and the TLS Secret name, if any.
 */
export interface Route {
  host: string;
  /** `/` with host routing, `/<component>` with path routing. */
  path: string;
  /** External URL, without a trailing slash. */
  endpoint: string;
  protocol: 'http' | 'https';
  usePathRouting: boolean;
  tlsSecretName?: string;
}

/**
 * The one rule of how a component's UI is reached under `routing` (the Routing defaults: domain
 * cnoe.localtest.me, https, host routing). Host routing: host `<component>.<domain>`, path `/`, endpoint
 * `<protocol>://<component>.<domain>[:<port>]`. Path routing: host `<domain>`, path `/<component>`, endpoint
 * `<protocol>://<domain>[:<port>]/<component>`. `hostOverride` replaces the host only (the path stays). The
 * port is left out when absent or the scheme's default (443 for https, 80 for http). Never throws.
 */
export function route(component: string, routing: Routing | undefined, hostOverride?: string): Route {
  const domain = routing?.domain ?? DEFAULT_DOMAIN;
  const usePathRouting = routing?.usePathRouting ?? false;
  const protocol = routing?.protocol ?? 'https';
  const host = hostOverride ?? (usePathRouting ? domain : `${component}.${domain}`);
  const path = usePathRouting ? `/${component}` : '/';
  const port = routing?.port && !((protocol === 'https' && routing.port === 443) || (protocol === 'http' && routing.port === 80)) ? `:${routing.port}` : '';
  return { host, path, endpoint: `${protocol}://${host}${port}${usePathRouting ? path : ''}`, protocol, usePathRouting, tlsSecretName: routing?.tlsSecretName };
}

/**
 * The URL a browser is sent to for a route: its `endpoint`, with a trailing `/` when the path is `/` (host
 * routing: `https://argocd.cnoe.localtest.me/`; path routing: `https://cnoe.localtest.me/argocd`).
 */
export function uiURL(r: Pick<Route, 'endpoint' | 'path'>): string {
  return r.path === '/' ? `${r.endpoint}/` : r.endpoint;
}

/** customize: the referenced gateway, and the ReferenceGrants of its namespace when that is another one. */
export function gatewayRules(routing: Routing | undefined, req: { parent: SyncRequest['parent'] }): RelatedResourceRule[] {
  return routing?.gatewayRef ? refRules([routing.gatewayRef], req.parent) : [];
}

/** How a gateway strips a path prefix (`status.prefixRewrite` of the gateway duck type). */
export type PrefixRewrite = 'NginxRewriteTarget' | 'URLRewrite';

/**
 * What to create to route through a gateway, read from its duck status (src/api/common.ts
 * GatewayStatusFields): an Ingress of `className`, or an HTTPRoute attached to `parentRef`. `prefixRewrite`:
 * how the gateway can strip a path prefix; absent, it forwards paths unchanged only.
 */
export type RouteTarget =
  | { kind: 'Ingress'; className: string; prefixRewrite?: PrefixRewrite }
  | { kind: 'HTTPRoute'; parentRef: { name: string; namespace: string }; prefixRewrite?: PrefixRewrite };

/**
 * The route target a gateway's status describes, or what is missing from it. `routeKind` absent means
 * Ingress (the contract before `routeKind` existed). A `parentRef` must name the Gateway and its namespace:
 * a half-written status is waited for, never completed with a default (the contract's "unknown is not absent").
 */
export function targetOf(status: unknown): RouteTarget | { missing: string } {
  const s = (status ?? {}) as { routeKind?: string; ingressClassName?: string; parentRef?: { name?: string; namespace?: string }; prefixRewrite?: string };
  const rw: { prefixRewrite?: PrefixRewrite } = s.prefixRewrite === 'NginxRewriteTarget' || s.prefixRewrite === 'URLRewrite' ? { prefixRewrite: s.prefixRewrite } : {};
  if (s.routeKind === 'HTTPRoute') {
    if (!s.parentRef?.name || !s.parentRef.namespace) return { missing: 'no parentRef (name and namespace) yet' };
    return { kind: 'HTTPRoute', parentRef: { name: s.parentRef.name, namespace: s.parentRef.namespace }, ...rw };
  }
  if (s.routeKind !== undefined && s.routeKind !== 'Ingress') return { missing: `unknown routeKind ${s.routeKind}` };
  if (!s.ingressClassName) return { missing: 'no ingressClassName yet' };
  return { kind: 'Ingress', className: s.ingressClassName, ...rw };
}

/**
 * The route target of a component: an explicit ingress class (taken to be an ingress-nginx class, as the
 * default `nginx` is), else the referenced gateway's duck status, else Ingress class `nginx`. A gateway of
 * another namespace that no ReferenceGrant there allows blocks with `ReferenceNotPermitted`; a missing one
 * with `GatewayNotFound`; one not Ready or without a usable status with `WaitingForGateway`.
 */
export function gatewayTarget(req: SyncRequest, routing: Routing | undefined, explicitClass?: string): { target: RouteTarget } | { blocked: Blocker } {
  const nginx = (className: string): { target: RouteTarget } => ({ target: { kind: 'Ingress', className, prefixRewrite: 'NginxRewriteTarget' } });
  if (explicitClass) return nginx(explicitClass);
  const ref = routing?.gatewayRef;
  if (!ref) return nginx('nginx');
  const { object: gw, refusal } = resolveRef(req, ref);
  const label = `${ref.kind} ${ref.namespace ?? req.parent.metadata.namespace}/${ref.name}`;
  if (refusal) return { blocked: refusal };
  if (!gw) return { blocked: { reason: 'GatewayNotFound', message: `gateway ${label} not found` } };
  const r = readiness(gw);
  const t = targetOf(gw.status);
  if (!r.ready || 'missing' in t) return { blocked: { reason: 'WaitingForGateway', message: `waiting for gateway ${label}: ${r.message ?? ('missing' in t ? t.missing : '')}` } };
  return { target: t };
}

/** One HTTPRoute rule: paths under `prefix` to `backend`, with `prefix` replaced by `/` when `strip`. */
export function httpRouteRule(prefix: string, backend: { name: string; port: number }, strip = false): Record<string, unknown> {
  return {
    matches: [{ path: { type: 'PathPrefix', value: prefix } }],
    ...(strip && prefix !== '/' ? { filters: [{ type: 'URLRewrite', urlRewrite: { path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/' } } }] } : {}),
    backendRefs: [{ name: backend.name, port: backend.port }],
  };
}

/** A Gateway API HTTPRoute (gateway.networking.k8s.io/v1) attached to `parentRef` for `hostnames`. */
export function httpRouteObject(
  meta: { name: string; namespace?: string; labels?: Record<string, string> },
  parentRef: { name: string; namespace: string },
  hostnames: string[],
  rules: Record<string, unknown>[],
): KubeObject {
  return {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata: meta,
    spec: { parentRefs: [parentRef], hostnames, rules },
  } as KubeObject;
}
