/**
 * How a component with a UI is reached (Gitea, Argo CD): host or path routing under the platform's
 * domain, through the ingress class of a gateway read from its duck-typed status.
 */
import type { Routing } from '../api/common.js';
import type { RelatedResourceRule, SyncRequest } from '../metacontroller/protocol.js';
import type { Blocker } from './provider.js';
import { readiness, refRules, resolveRef } from './refs.js';

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

export function route(component: string, routing: Routing | undefined, hostOverride?: string): Route {
  const domain = routing?.domain ?? 'cnoe.localtest.me';
  const usePathRouting = routing?.usePathRouting ?? false;
  const protocol = routing?.protocol ?? 'https';
  const host = hostOverride ?? (usePathRouting ? domain : `${component}.${domain}`);
  const path = usePathRouting ? `/${component}` : '/';
  const port = routing?.port && !((protocol === 'https' && routing.port === 443) || (protocol === 'http' && routing.port === 80)) ? `:${routing.port}` : '';
  return { host, path, endpoint: `${protocol}://${host}${port}${usePathRouting ? path : ''}`, protocol, usePathRouting, tlsSecretName: routing?.tlsSecretName };
}

/** customize: the referenced gateway, and the ReferenceGrants of its namespace when that is another one. */
export function gatewayRules(routing: Routing | undefined, req: { parent: SyncRequest['parent'] }): RelatedResourceRule[] {
  return routing?.gatewayRef ? refRules([routing.gatewayRef], req.parent) : [];
}

/**
 * The ingress class to use: explicit, else the referenced gateway's duck status, else `nginx`. A gateway
 * of another namespace that no ReferenceGrant there allows blocks with `ReferenceNotPermitted`.
 */
export function ingressClass(req: SyncRequest, routing: Routing | undefined, explicit?: string): { className: string } | { blocked: Blocker } {
  if (explicit) return { className: explicit };
  const ref = routing?.gatewayRef;
  if (!ref) return { className: 'nginx' };
  const { object: gw, refusal } = resolveRef(req, ref);
  const label = `${ref.kind} ${ref.namespace ?? req.parent.metadata.namespace}/${ref.name}`;
  if (refusal) return { blocked: refusal };
  if (!gw) return { blocked: { reason: 'GatewayNotFound', message: `gateway ${label} not found` } };
  const r = readiness(gw);
  const className = (gw.status as { ingressClassName?: string } | undefined)?.ingressClassName;
  if (!r.ready || !className) return { blocked: { reason: 'WaitingForGateway', message: `waiting for gateway ${label}: ${r.message ?? 'no ingressClassName yet'}` } };
  return { className };
}
