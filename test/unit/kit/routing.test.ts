import { describe, expect, it } from 'vitest';
import { route, targetOf, uiURL } from '../../../src/kit/routing.js';

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

describe('route and uiURL: the one rule of a UI URL (controllers, expose decorator and CLI)', () => {
  it('host routing: <component>.<domain>, path /, endpoint without and URL with a trailing slash', () => {
    const r = route('argocd', { domain: 'h.io' });
    expect(r).toMatchObject({ host: 'argocd.h.io', path: '/', endpoint: 'https://argocd.h.io', protocol: 'https', usePathRouting: false });
    expect(uiURL(r)).toBe('https://argocd.h.io/');
  });

  it('path routing: <domain>/<component>, the port kept unless it is the scheme default', () => {
    expect(uiURL(route('gitea', { domain: 'h.io', usePathRouting: true, protocol: 'http', port: 8080 }))).toBe('http://h.io:8080/gitea');
    expect(uiURL(route('gitea', { domain: 'h.io', usePathRouting: true, protocol: 'http', port: 80 }))).toBe('http://h.io/gitea');
    expect(uiURL(route('gitea', { domain: 'h.io', protocol: 'https', port: 443 }))).toBe('https://gitea.h.io/');
    expect(uiURL(route('gitea', { domain: 'h.io', protocol: 'https', port: 80 }))).toBe('https://gitea.h.io:80/');
  });

  it('defaults: cnoe.localtest.me, https, host routing; a host override keeps the path', () => {
    expect(uiURL(route('argocd', undefined))).toBe('https://argocd.cnoe.localtest.me/');
    const r = route('gitea', { usePathRouting: true }, 'git.example.com');
    expect(r).toMatchObject({ host: 'git.example.com', path: '/gitea', endpoint: 'https://git.example.com/gitea' });
    expect(uiURL(r)).toBe('https://git.example.com/gitea');
  });
});
