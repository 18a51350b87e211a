/**
 * CompositeController (and DecoratorController) manifests, generated from the controller registry so
 * that the hook paths Metacontroller calls are exactly the routes the service serves.
 */
import { API_VERSION } from '../api/common.js';
import type { ControllerDef } from '../controllers/types.js';

export interface WebhookTarget {
  /** Service in front of the hook Deployment. */
  service: { name: string; namespace: string; port: number; protocol?: 'http' | 'https' };
  timeout?: string;
  /** Secret with the bearer token Metacontroller sends (webhook `authorization`). */
  tokenSecretRef?: { name: string; namespace: string; key: string };
}

export const DEFAULT_TARGET: WebhookTarget = {
  service: { name: 'idpbuilder-hooks', namespace: 'idpbuilder-system', port: 80 },
  timeout: '10s',
};

function webhook(target: WebhookTarget, path: string): Record<string, unknown> {
  const w: Record<string, unknown> = { service: { ...target.service, protocol: target.service.protocol ?? 'http' }, path };
  if (target.timeout) w.timeout = target.timeout;
  if (target.tokenSecretRef) w.authorization = { type: 'Bearer', secretRef: target.tokenSecretRef };
  w.responseUnMarshallMode = 'strict';
  return w;
}

export function compositeController(c: ControllerDef, target: WebhookTarget = DEFAULT_TARGET): Record<string, unknown> {
  const plural = c.kind.plural;
  const hooks: Record<string, unknown> = {
    sync: { version: 'v2', webhook: webhook(target, `/hooks/${plural}/sync`) },
  };
  // A kind whose hooks are not written yet still gets sync, finalize and customize routes (answering 501),
  // so the manifest may name them all; once written, only the hooks that exist are declared.
  if (!c.hooks || c.hooks.finalize) hooks.finalize = { version: 'v2', webhook: webhook(target, `/hooks/${plural}/finalize`) };
  if (!c.hooks || c.hooks.customize) hooks.customize = { version: 'v2', webhook: webhook(target, `/hooks/${plural}/customize`) };
  const spec: Record<string, unknown> = {
    generateSelector: true,
    parentResource: { apiVersion: API_VERSION, resource: plural },
    childResources: c.children.map((r) => ({ apiVersion: r.apiVersion, resource: r.resource, updateStrategy: { method: r.updateStrategy } })),
    hooks,
  };
  if (c.resyncPeriodSeconds) spec.resyncPeriodSeconds = c.resyncPeriodSeconds;
  return {
    apiVersion: 'metacontroller.k8s.io/v1alpha1',
    kind: 'CompositeController',
    metadata: { name: `idpbuilder-${plural}`, labels: { 'app.kubernetes.io/part-of': 'idpbuilder', 'app.kubernetes.io/managed-by': 'idpbuilder' } },
    spec,
  };
}

export function controllerManifests(controllers: ControllerDef[], target: WebhookTarget = DEFAULT_TARGET): Record<string, unknown>[] {
  return controllers.map((c) => compositeController(c, target));
}
