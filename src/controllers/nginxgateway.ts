/**
 * NginxGateway: the ingress-nginx chart. Exposes the gateway duck type (routeKind Ingress, ingressClassName,
 * prefixRewrite NginxRewriteTarget, loadBalancerEndpoint, internalEndpoint) plus the controller Deployment's replica counts.
 */
import { withClusterRules } from '../kit/cluster.js';
import type { NginxGatewaySpec } from '../api/gateways.js';
import type { CustomizeRequest, CustomizeResponse, KubeObject, SyncRequest, SyncResponse } from '../metacontroller/protocol.js';
import type { HookEnv, Hooks } from '../kit/hooks.js';
import { mergeValues, release } from '../kit/helm.js';
import { relatedObject } from '../kit/observed.js';
import { finalizeProvider, jobPodsRule, syncProvider, type ProviderPlan } from '../kit/provider.js';
import { secretRefRefusal } from '../kit/refs.js';
import { INGRESS_NGINX, tagVersion } from './versions.js';
import { settle, type Relied } from '../kit/values.js';
import { contract } from '../kit/contract.js';

interface Resolved {
  spec: NginxGatewaySpec;
  /** The install namespace (spec.namespace). */
  namespace: string;
  /** The NginxGateway's own namespace: where `defaultTLS.secretRef` resolves. */
  ownNamespace: string;
  className: string;
  release: string;
  service: string;
}

function resolve(parent: KubeObject): Resolved {
  const spec = (parent.spec ?? {}) as NginxGatewaySpec;
  const namespace = spec.namespace ?? 'ingress-nginx';
  const className = spec.ingressClass?.name ?? spec.class ?? 'nginx';
  // The chart's fullname is the release name when it contains "ingress-nginx": Services stay predictable.
  const release = className === 'nginx' ? 'ingress-nginx' : `ingress-nginx-${className}`.slice(0, 53).replace(/-+$/, '');
  return { spec, namespace, ownNamespace: parent.metadata.namespace ?? 'default', className, release, service: `${release}-controller` };
}

/** The IngressClass controller value of a class: its own per class. */
function controllerValue(r: Resolved): string {
  return r.className === 'nginx' ? 'k8s.io/ingress-nginx' : `k8s.io/ingress-nginx-${r.className}`;
}

/** spec → chart values (documented in docs/providers.md). */
function values(r: Resolved): Record<string, unknown> {
  const c = r.spec.config?.controller ?? {};
  const serviceType = c.service?.type ?? r.spec.serviceType;
  const extraArgs: Record<string, string> = { ...(c.extraArgs ?? {}) };
  const tls = r.spec.defaultTLS?.secretRef;
  // a Secret reference resolves in the NginxGateway's own namespace (plan refuses any other)
  if (tls) extraArgs['default-ssl-certificate'] = `${r.ownNamespace}/${tls.name}`;
  const controller: Record<string, unknown> = {
    ingressClass: r.className,
    ingressClassResource: {
      name: r.className,
      enabled: true,
      default: r.spec.ingressClass?.isDefault ?? false,
      controllerValue: controllerValue(r),
    },
  };
  if (serviceType || c.service?.nodePorts) {
    controller.service = {
      ...(serviceType ? { type: serviceType } : {}),
      ...(c.service?.nodePorts ? { nodePorts: c.service.nodePorts } : {}),
    };
  }
  if (c.replicaCount !== undefined) controller.replicaCount = c.replicaCount;
  if (c.hostPort) controller.hostPort = { enabled: c.hostPort.enabled };
  if (c.resources) controller.resources = c.resources;
  if (c.admissionWebhooks) controller.admissionWebhooks = { enabled: c.admissionWebhooks.enabled };
  if (c.config) controller.config = c.config;
  if (Object.keys(extraArgs).length) controller.extraArgs = extraArgs;
  return mergeValues({ controller }, tagVersion(INGRESS_NGINX, r.spec).values, r.spec.values);
}

/** Values the controller relies on (src/kit/values.ts): the class it reports, its controller value, the Service name. */
function relied(r: Resolved): Relied[] {
  const out: Relied[] = [
    { path: ['controller', 'ingressClassResource', 'name'], value: r.className, why: 'status.ingressClassName names this IngressClass' },
    { path: ['controller', 'ingressClassResource', 'enabled'], value: true, why: 'the IngressClass the status names must exist' },
    { path: ['controller', 'ingressClassResource', 'controllerValue'], value: controllerValue(r), why: 'each class has its own controller, so two NginxGateways do not serve each other\'s Ingresses' },
    { path: ['controller', 'ingressClass'], value: r.className, why: 'the class this controller serves' },
    { path: ['controller', 'name'], value: 'controller', why: `the Service and Deployment ${r.service} are read for status` },
    { path: ['fullnameOverride'], value: r.release, why: `the Service and Deployment ${r.service} are read for status` },
    { path: ['nameOverride'], value: 'ingress-nginx', why: `the Service and Deployment ${r.service} are read for status` },
  ];
  if (r.spec.defaultTLS?.secretRef) {
    out.push({ path: ['controller', 'extraArgs', 'default-ssl-certificate'], value: `${r.ownNamespace}/${r.spec.defaultTLS.secretRef.name}`, why: 'spec.defaultTLS.secretRef' });
  }
  return out;
}

function customize(req: CustomizeRequest): CustomizeResponse {
  const r = resolve(req.parent);
  return {
    relatedResources: [
      jobPodsRule(req.parent),
      { apiVersion: 'apps/v1', resource: 'deployments', namespace: r.namespace, names: [r.service] },
      { apiVersion: 'v1', resource: 'services', namespace: r.namespace, names: [r.service] },
    ],
  };
}

function loadBalancerEndpoint(svc: KubeObject | undefined): string | undefined {
  const ingress = (svc?.status as { loadBalancer?: { ingress?: { ip?: string; hostname?: string }[] } } | undefined)?.loadBalancer?.ingress?.[0];
  const host = ingress?.ip ?? ingress?.hostname;
  return host ? `http://${host}` : undefined;
}

function plan(req: SyncRequest): ProviderPlan {
  const r = resolve(req.parent);
  const v = tagVersion(INGRESS_NGINX, r.spec);
  const settled = settle(values(r), relied(r), r.spec.values);
  const deployment = relatedObject(req, 'Deployment', 'apps/v1', r.namespace, r.service);
  const replicas = deployment?.status as { replicas?: number; readyReplicas?: number } | undefined;
  const status: Record<string, unknown> = {
    // ingress-nginx serves Ingresses and strips prefixes with regex paths + rewrite-target.
    routeKind: 'Ingress',
    ingressClassName: r.className,
    prefixRewrite: 'NginxRewriteTarget',
    internalEndpoint: `http://${r.service}.${r.namespace}.svc.cluster.local`,
    ...(v.version ? { version: v.version } : {}),
  };
  const lb = loadBalancerEndpoint(relatedObject(req, 'Service', 'v1', r.namespace, r.service));
  if (lb) status.loadBalancerEndpoint = lb;
  if (deployment) status.controller = { replicas: replicas?.replicas ?? 0, readyReplicas: replicas?.readyReplicas ?? 0 };
  const refused = secretRefRefusal(r.spec.defaultTLS?.secretRef, req.parent, 'spec.defaultTLS.secretRef');
  if (refused) return { blocked: refused, status, conditions: v.conditions };
  if (settled.conflict) return { blocked: settled.conflict, status, conditions: v.conditions };
  return {
    install: {
      releases: [release(r.release, r.namespace, v.chart, settled.values)],
    },
    health: deployment && !(replicas?.readyReplicas ?? 0) ? { reason: 'ControllerNotReady', message: `deployment ${r.namespace}/${r.service} has no ready replica` } : undefined,
    status,
    conditions: v.conditions,
  };
}

/**
 * The NginxGateway hooks, wrapped by the controller contract: customize (the target cluster), sync (Helm install of
 * the ingress-nginx chart pinned in ./defaults.ts) and finalize (uninstall unless Retain).
 */
export const nginxGatewayHooks: Hooks = contract({
  customize: (req) => withClusterRules(customize)(req),
  sync: (req: SyncRequest, env: HookEnv): SyncResponse => syncProvider(req, env, plan(req)),
  finalize: (req, env) => finalizeProvider(req, env),
});
