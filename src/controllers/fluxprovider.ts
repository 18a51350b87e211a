/**
 * FluxProvider: the flux2 community chart. Exposes the GitOps duck type as far as Flux has it:
 * internalEndpoint (source-controller's artifact server). Flux has no UI and no admin credential, so
 * `endpoint` and `credentialsSecretRef` are not reported. Per-controller readiness comes from the
 * controllers' Deployments. Mapping and limitations: docs/providers/fluxprovider.md.
 */
import type { FluxProviderSpec } from '../api/gitops.js';
import type { CustomizeRequest, CustomizeResponse, KubeObject, SyncRequest, SyncResponse } from '../metacontroller/protocol.js';
import type { HookEnv, Hooks } from './types.js';
import { mergeValues, release } from '../kit/helm.js';
import { relatedObject } from '../kit/observed.js';
import { usersRules } from '../kit/users.js';
import { finalizeProvider, jobPodsRule, syncProvider, type ProviderPlan } from '../kit/provider.js';
import { FLUX2, chartVersion } from './versions.js';
import { settle, type Relied } from '../kit/values.js';
import { contract } from '../kit/contract.js';

/** Status key (and chart values key, except image reflection) → Deployment name in the flux2 chart. */
export const CONTROLLERS = {
  sourceController: 'source-controller',
  kustomizeController: 'kustomize-controller',
  helmController: 'helm-controller',
  notificationController: 'notification-controller',
  imageAutomationController: 'image-automation-controller',
  imageReflectionController: 'image-reflector-controller',
} as const;
type ControllerKey = keyof typeof CONTROLLERS;

interface Resolved {
  spec: FluxProviderSpec;
  namespace: string;
  /** The controllers this spec installs, in a fixed order. */
  enabled: ControllerKey[];
}

export function resolve(parent: KubeObject): Resolved {
  const spec = (parent.spec ?? {}) as FluxProviderSpec;
  const namespace = spec.namespace ?? 'flux-system';
  const notification = spec.config?.notificationController?.enabled ?? true;
  const image = spec.imageAutomation?.enabled ?? false;
  const enabled = (Object.keys(CONTROLLERS) as ControllerKey[]).filter((k) =>
    k === 'notificationController' ? notification : k === 'imageAutomationController' || k === 'imageReflectionController' ? image : true,
  );
  return { spec, namespace, enabled };
}

/** spec → flux2 chart values (docs/providers/fluxprovider.md). */
export function values(r: Resolved): Record<string, unknown> {
  const c = r.spec.config ?? {};
  const out: Record<string, unknown> = {};
  for (const k of ['sourceController', 'kustomizeController', 'helmController'] as const) {
    const resources = c[k]?.resources;
    if (resources) out[k] = { resources };
  }
  const n = c.notificationController;
  if (n && (n.enabled !== undefined || n.resources)) {
    out.notificationController = { ...(n.enabled !== undefined ? { create: n.enabled } : {}), ...(n.resources ? { resources: n.resources } : {}) };
  }
  // The chart installs the image controllers by default; like `flux install`, we install them only when asked.
  const image = r.spec.imageAutomation?.enabled ?? false;
  out.imageAutomationController = { create: image };
  out.imageReflectionController = { create: image };
  const m = r.spec.multitenancy;
  if (m) out.multitenancy = { enabled: m.enabled, ...(m.defaultServiceAccount ? { defaultServiceAccount: m.defaultServiceAccount } : {}) };
  return mergeValues(out, r.spec.values);
}

/** Values the controller relies on (src/kit/values.ts): the controllers Packages use, watching every namespace. */
export function relied(): Relied[] {
  return [
    { path: ['sourceController', 'create'], value: true, why: 'Packages sync through GitRepositories, and status.internalEndpoint is source-controller' },
    { path: ['kustomizeController', 'create'], value: true, why: 'Packages sync through Kustomizations' },
    { path: ['watchAllNamespaces'], value: true, why: 'Packages create their GitRepositories and Kustomizations in their own namespaces' },
  ];
}

function customize(req: CustomizeRequest): CustomizeResponse {
  const r = resolve(req.parent);
  return {
    relatedResources: [
      jobPodsRule(req.parent),
      ...usersRules(req.parent, ['Package']),
      { apiVersion: 'apps/v1', resource: 'deployments', namespace: r.namespace, names: r.enabled.map((k) => CONTROLLERS[k]) },
    ],
  };
}

function readyReplicas(d: KubeObject | undefined): number {
  return (d?.status as { readyReplicas?: number } | undefined)?.readyReplicas ?? 0;
}

export function plan(req: SyncRequest): ProviderPlan {
  const r = resolve(req.parent);
  const v = chartVersion(FLUX2, r.spec);
  const settled = settle(values(r), relied(), r.spec.values);
  const controllers: Record<string, { ready: boolean }> = {};
  const notReady: string[] = [];
  for (const k of r.enabled) {
    const d = relatedObject(req, 'Deployment', 'apps/v1', r.namespace, CONTROLLERS[k]);
    if (!d) continue;
    const ready = readyReplicas(d) > 0;
    controllers[k] = { ready };
    if (!ready) notReady.push(CONTROLLERS[k]);
  }
  const status: Record<string, unknown> = {
    internalEndpoint: `http://source-controller.${r.namespace}.svc.cluster.local`,
    ...(v.version ? { version: v.version } : {}),
  };
  if (Object.keys(controllers).length) status.controllers = controllers;
  if (settled.conflict) return { blocked: settled.conflict, status, conditions: v.conditions };
  return {
    install: {
      releases: [release('flux2', r.namespace, v.chart, settled.values)],
    },
    health: notReady.length ? { reason: 'ControllersNotReady', message: `no ready replica in ${r.namespace}: ${notReady.join(', ')}` } : undefined,
    status,
    conditions: v.conditions,
  };
}

export const fluxProviderHooks: Hooks = contract({
  customize: (req) => customize(req),
  sync: (req: SyncRequest, env: HookEnv): SyncResponse => syncProvider(req, env, plan(req)),
  finalize: (req, env) => finalizeProvider(req, env, { usedBy: ['Package'] }),
});
