/** Helpers shared by the provider / consumer hook tests: provider duck objects, Secrets, name checks. */
import { expect } from 'vitest';
import { parse } from 'yaml';
import type { KubeObject, SyncRequest, SyncResponse } from '../../src/metacontroller/protocol.js';
import type { HookEnv } from '../../src/kit/hooks.js';
import { jobSucceeded, next } from './world.js';

export const NS = 'idpbuilder-system';
export const API = 'idpbuilder.cnoe.io/v1alpha2';
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** Every child: a DNS-1123 label of at most 63 characters, in the parent's namespace. */
export function expectValidChildren(res: SyncResponse, namespace = NS): void {
  for (const c of res.children) {
    expect(c.metadata.name, `${c.kind} name`).toMatch(DNS1123_LABEL);
    expect(c.metadata.name.length, `${c.kind} ${c.metadata.name} length`).toBeLessThanOrEqual(63);
    expect(c.metadata.namespace, `${c.kind} ${c.metadata.name} namespace`).toBe(namespace);
  }
}

/** No two children share kind and name (Metacontroller rejects such an answer). */
export function childKeys(res: SyncResponse): string[] {
  return res.children.map((c) => `${c.kind}/${c.metadata.name}`);
}

export function names(res: SyncResponse, kind?: string): string[] {
  return res.children.filter((c) => !kind || c.kind === kind).map((c) => c.metadata.name);
}

/** The decoded data of a Secret object. */
export function secretData(secret: KubeObject | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries((secret?.data as Record<string, string> | undefined) ?? {})) out[k] = Buffer.from(v, 'base64').toString('utf8');
  return out;
}

export function userSecret(name: string, data: Record<string, string>, namespace = NS): KubeObject {
  const encoded = Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString('base64')]));
  return { apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace }, type: 'Opaque', data: encoded } as KubeObject;
}

export function cmData(obj: KubeObject): Record<string, string> {
  return (obj.data ?? {}) as Record<string, string>;
}

export function values(cm: KubeObject, i = 0): Record<string, any> {
  return parse(cmData(cm)[`values-${i}.yaml`]);
}

export function readyCondition(reason = 'Available', message = 'ok') {
  return { type: 'Ready', status: 'True', reason, message, lastTransitionTime: '2026-01-01T00:00:00Z' };
}

/** An object of our group with a duck-typed status and a Ready condition. */
export function provider(kind: string, name: string, status: Record<string, unknown> = {}, opts: { ready?: boolean; namespace?: string; generation?: number; phase?: string } = {}): KubeObject {
  const ready = opts.ready ?? true;
  const generation = opts.generation ?? 1;
  return {
    apiVersion: API,
    kind,
    metadata: { name, namespace: opts.namespace ?? NS, generation, uid: `uid-${name}` },
    spec: {},
    status: {
      phase: opts.phase ?? (ready ? 'Ready' : 'Installing'),
      observedGeneration: generation,
      conditions: [ready ? readyCondition() : { type: 'Ready', status: 'False', reason: 'Installing', message: 'install job running', lastTransitionTime: '2026-01-01T00:00:00Z' }],
      ...status,
    },
  } as KubeObject;
}

/**
 * Ready gateways named `edge` with the duck status each gateway controller reports (their own tests assert
 * the same fields): ingress-nginx serves Ingress and rewrites, Istio serves Ingress without rewrites, Envoy
 * Gateway serves HTTPRoutes attached to its Gateway.
 */
export const GATEWAYS = {
  nginx: { kind: 'NginxGateway', status: { routeKind: 'Ingress', ingressClassName: 'nginx', prefixRewrite: 'NginxRewriteTarget' } },
  istio: { kind: 'IstioGateway', status: { routeKind: 'Ingress', ingressClassName: 'istio' } },
  envoy: { kind: 'EnvoyGateway', status: { routeKind: 'HTTPRoute', parentRef: { name: 'edge', namespace: 'envoy-gateway-system' }, prefixRewrite: 'URLRewrite', gatewayClass: 'envoy' } },
} as const;
export type GatewayName = keyof typeof GATEWAYS;
export const gatewayObject = (g: GatewayName) => provider(GATEWAYS[g].kind, 'edge', GATEWAYS[g].status);

/** The duck status a Ready GiteaProvider reports (src/controllers/giteaprovider.ts), organization included. */
export const giteaDuck = (ns = NS) => ({
  endpoint: 'https://gitea.cnoe.localtest.me',
  internalEndpoint: 'http://gitea-http.gitea.svc.cluster.local:3000',
  credentialsSecretRef: { name: 'gitea-gitea-token', namespace: ns, key: 'token' },
  organization: 'idpbuilder',
});

/** Runs Job children to success until nothing changes (at most `rounds` syncs). */
export function settle(sync: (req: SyncRequest, env: HookEnv) => SyncResponse, req: SyncRequest, env: HookEnv, rounds = 4): { req: SyncRequest; res: SyncResponse } {
  let res = sync(req, env);
  for (let i = 0; i < rounds; i++) {
    req = next(req, res, (o) => (o.kind === 'Job' ? jobSucceeded(o) : o));
    res = sync(req, env);
  }
  return { req, res };
}

/** The status, serialised: what a search for leaked values runs over. */
export function statusText(res: SyncResponse): string {
  return JSON.stringify(res.status);
}

/**
 * A spec change of a Helm-installed provider whose install succeeded, as the contract answers it: a new
 * install Job and ConfigMap beside the old (finished) ones, Ready with Progressing/Upgrading while the new Job
 * runs; once it has finished, only the new Job and ConfigMap remain.
 */
export function expectUpgradeKeepsOldInstall(
  sync: (req: SyncRequest, env: HookEnv) => SyncResponse,
  req: SyncRequest,
  changedParent: (status: Record<string, unknown>) => KubeObject,
  env: HookEnv,
): void {
  const first = sync(req, env);
  const changed = { ...next(req, first, jobSucceeded), parent: changedParent(first.status) };
  const res = sync(changed, env);
  const old = first.children.filter((c) => c.kind === 'Job')[0].metadata.name;
  const fresh = (res.status.installation as { job: string }).job;
  expect(fresh).not.toBe(old);
  expect(res.children.filter((c) => c.kind === 'Job').map((j) => j.metadata.name).sort()).toEqual([old, fresh].sort());
  expect(res.children.filter((c) => c.kind === 'ConfigMap').map((c) => c.metadata.name).sort()).toEqual([old, fresh].sort());
  expect(res.status.phase).toBe('Ready');
  expect((res.status.conditions as { type: string }[]).find((c) => c.type === 'Progressing')).toMatchObject({ status: 'True', reason: 'Upgrading' });
  const done = sync(next(changed, res, jobSucceeded), env);
  expect(done.children.map((c) => `${c.kind}/${c.metadata.name}`).sort()).toEqual([`ConfigMap/${fresh}`, `Job/${fresh}`]);
}
