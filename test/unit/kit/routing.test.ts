import { describe, expect, it } from 'vitest';
import { targetOf } from '../../../src/kit/routing.js';

describe('targetOf: the route target a gateway duck status describes', () => {
  it('routeKind Ingress with a class and a prefixRewrite', () => {
    expect(targetOf({ routeKind: 'Ingress', ingressClassName: 'nginx', prefixRewrite: 'NginxRewriteTarget' })).toEqual({ kind: 'Ingress', className: 'nginx', prefixRewrite: 'NginxRewriteTarget' });
  });

  it('no routeKind: Ingress (the contract before routeKind), without prefixRewrite unless reported', () => {
    expect(targetOf({ ingressClassName: 'traefik' })).toEqual({ kind: 'Ingress', className: 'traefik' });
  });

  it('routeKind HTTPRoute: the parentRef; one without a namespace is waited for, never defaulted', () => {
    expect(targetOf({ routeKind: 'HTTPRoute', parentRef: { name: 'edge', namespace: 'envoy-gateway-system' }, prefixRewrite: 'URLRewrite' })).toEqual({
      kind: 'HTTPRoute',
      parentRef: { name: 'edge', namespace: 'envoy-gateway-system' },
      prefixRewrite: 'URLRewrite',
    });
    expect(targetOf({ routeKind: 'HTTPRoute', parentRef: { name: 'edge' } })).toEqual({ missing: 'no parentRef (name and namespace) yet' });
  });

  it('what is missing: no class, no parentRef, an unknown routeKind; an unknown prefixRewrite is ignored', () => {
    expect(targetOf(undefined)).toEqual({ missing: 'no ingressClassName yet' });
    expect(targetOf({ routeKind: 'HTTPRoute', ingressClassName: 'envoy' })).toEqual({ missing: 'no parentRef (name and namespace) yet' });
    expect(targetOf({ routeKind: 'GRPCRoute', ingressClassName: 'x' })).toEqual({ missing: 'unknown routeKind GRPCRoute' });
    expect(targetOf({ ingressClassName: 'x', prefixRewrite: 'Magic' })).toEqual({ kind: 'Ingress', className: 'x' });
  });
});
