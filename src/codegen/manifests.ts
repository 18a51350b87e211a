/**
 * CompositeController (and DecoratorController) manifests, generated from the controller registry so
 * that the hook paths Metacontroller calls are exactly the routes the service serves.
 */
import { API_VERSION } from '../api/common.js';
import { GENERATED_LABELS } from '../api/names.js';
import type { ControllerDef, DecoratorDef } from '../kit/hooks.js';

/**
 * Where Metacontroller sends the hooks: the hook Service (name, namespace, port, protocol default http), the webhook
 * timeout (a Go duration) and the Secret with the bearer token (webhook `authorization`).
 */
export interface WebhookTarget {
  /** Service in front of the hook Deployment. */
  service: { name: string; namespace: string; port: number; protocol?: 'http' | 'https' };
  timeout?: string;
  /** Secret with the bearer token Metacontroller sends (webhook `authorization`). */
  tokenSecretRef?: { name: string; namespace: string; key: string };
}

/**
 * The webhook target of the generated metacontroller/ manifests: Service idpbuilder-hooks in idpbuilder-system on
 * port 80, timeout 10s, no token.
 */
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

/**
 * `spec.hooks` of a controller whose routes are `/hooks/<name>/<hook>`: sync always, finalize and customize
 * only when the controller has them (the service serves exactly those routes); each a v2 webhook.
 */
function hooksOf(name: string, hooks: { finalize?: unknown; customize?: unknown }, target: WebhookTarget): Record<string, unknown> {
  const out: Record<string, unknown> = { sync: { version: 'v2', webhook: webhook(target, `/hooks/${name}/sync`) } };
  if (hooks.finalize) out.finalize = { version: 'v2', webhook: webhook(target, `/hooks/${name}/finalize`) };
  if (hooks.customize) out.customize = { version: 'v2', webhook: webhook(target, `/hooks/${name}/customize`) };
  return out;
}

/**
 * The CompositeController (metacontroller.k8s.io/v1alpha1) of a controlled kind: parent resource, child resources
 * with their update strategies, `generateSelector: true`, the resync period and v2 webhooks `/hooks/<plural>/sync`
 * (and finalize, customize when the kind has them) with strict response parsing.
 */
export function compositeController(c: ControllerDef, target: WebhookTarget = DEFAULT_TARGET): Record<string, unknown> {
  const plural = c.kind.plural;
  const hooks = hooksOf(plural, c.hooks, target);
  const spec: Record<string, unknown> = {
    generateSelector: true,
    parentResource: { apiVersion: API_VERSION, resource: plural },
    childResources: c.children.map((r) => ({ apiVersion: r.apiVersion, resource: r.resource, updateStrategy: { method: r.updateStrategy } })),
    hooks,
  };
  return metacontrollerObject('CompositeController', plural, spec, c.resyncPeriodSeconds);
}

/**
 * The DecoratorController (metacontroller.k8s.io/v1alpha1) of a decorator: the resources it decorates (with label or
 * annotation selectors), its attachments, the resync period and v2 webhooks `/hooks/<name>/sync` (and finalize,
 * customize when present) with strict response parsing.
 */
export function decoratorController(d: DecoratorDef, target: WebhookTarget = DEFAULT_TARGET): Record<string, unknown> {
  const hooks = hooksOf(d.name, d.hooks, target);
  const spec: Record<string, unknown> = {
    resources: d.resources.map((r) => ({
      apiVersion: r.apiVersion,
      resource: r.resource,
      ...(r.labelSelector ? { labelSelector: r.labelSelector } : {}),
      ...(r.annotationSelector ? { annotationSelector: r.annotationSelector } : {}),
    })),
    attachments: d.attachments.map((a) => ({ apiVersion: a.apiVersion, resource: a.resource, updateStrategy: { method: a.updateStrategy } })),
    hooks,
  };
  return metacontrollerObject('DecoratorController', d.name, spec, d.resyncPeriodSeconds);
}

/** A metacontroller.k8s.io/v1alpha1 object `idpbuilder-<name>` with GENERATED_LABELS; `resyncPeriodSeconds` (when set) ends its spec. */
function metacontrollerObject(kind: 'CompositeController' | 'DecoratorController', name: string, spec: Record<string, unknown>, resyncPeriodSeconds?: number): Record<string, unknown> {
  if (resyncPeriodSeconds) spec.resyncPeriodSeconds = resyncPeriodSeconds;
  return { apiVersion: 'metacontroller.k8s.io/v1alpha1', kind, metadata: { name: `idpbuilder-${name}`, labels: { ...GENERATED_LABELS } }, spec };
}

/** The webhook fields that depend on where the hook service runs; the Helm chart fills them in. */
const TARGET_FIELDS = ['service', 'url', 'timeout', 'authorization'] as const;

/**
 * The controllers as the Helm chart needs them (`charts/idpbuilder/files/controllers.yaml`): each generated
 * Composite/DecoratorController with everything but its webhook target (service, timeout, authorization),
 * which the chart's template adds for the release (its Service, namespace and token Secret). So the chart
 * and `metacontroller/` come from the same objects and cannot disagree on paths, children or strategies.
 */
export function chartControllers(manifests: Record<string, unknown>[]): { controllers: Record<string, unknown>[] } {
  return {
    controllers: manifests.map((m) => {
      const spec = structuredClone(m.spec) as Record<string, unknown>;
      const hooks = (spec.hooks ?? {}) as Record<string, { webhook?: Record<string, unknown> }>;
      for (const hook of Object.values(hooks)) {
        if (!hook.webhook) continue;
        for (const f of TARGET_FIELDS) delete hook.webhook[f];
      }
      // Labels are the chart's own (app.kubernetes.io/managed-by: Helm), so only the name is kept.
      return { kind: m.kind, name: (m.metadata as { name: string }).name, spec };
    }),
  };
}
