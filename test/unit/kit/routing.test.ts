import { describe, expect, it } from 'vitest';
import { targetOf } from '../../../src/kit/routing.js';

describe('targetOf: the route target a gateway duck status describes', () => {
  it('routeKind Ingress with a class and a prefixRewrite', () => {
    expect(targetOf({ routeKind: 'Ingress', ingressClassName: 'nginx', prefixRewrite: 'NginxRewriteTarget' }, 'gw')).toEqual({ kind: 'Ingress', className: 'nginx', prefixRewrite: 'NginxRewriteTarget' });
  });

  it('no routeKind: Ingress (the contract before routeKind), without prefixRewrite unless reported', () => {
    expect(targetOf({ ingressClassName: 'traefik' }, 'gw')).toEqual({ kind: 'Ingress', className: 'traefik' });
  });

  it('routeKind HTTPRoute: the parentRef, in the gateway object namespace when it names none', () => {
    expect(targetOf({ routeKind: 'HTTPRoute', parentRef: { name: 'edge', namespace: 'envoy-gateway-system' }, prefixRewrite: 'URLRewrite' }, 'gw')).toEqual({
      kind: 'HTTPRoute',
      parentRef: { name: 'edge', namespace: 'envoy-gateway-system' },
      prefixRewrite: 'URLRewrite',
    });
    expect(targetOf({ routeKind: 'HTTPRoute', parentRef: { name: 'edge' } }, 'gw')).toEqual({ kind: 'HTTPRoute', parentRef: { name: 'edge', namespace: 'gw' } });
  });

  it('what is missing: no class, no parentRef, an unknown routeKind; an unknown prefixRewrite is ignored', () => {
    expect(targetOf(undefined, 'gw')).toEqual({ missing: 'no ingressClassName yet' });
    expect(targetOf({ routeKind: 'HTTPRoute', ingressClassName: 'envoy' }, 'gw')).toEqual({ missing: 'no parentRef yet' });
    expect(targetOf({ routeKind: 'GRPCRoute', ingressClassName: 'x' }, 'gw')).toEqual({ missing: 'unknown routeKind GRPCRoute' });
    expect(targetOf({ ingressClassName: 'x', prefixRewrite: 'Magic' }, 'gw')).toEqual({ kind: 'Ingress', className: 'x' });
  });
});
