/**
 * DecoratorController `packages-argocd`: attaches the Argo CD Application of every Package deployed by
 * Argo CD, once the Package may deploy (see packagePlan), and reports the Application's sync and health
 * back on the Package in the annotation idpbuilder.cnoe.io/argocd-status. Metacontroller starts it once
 * Argo CD's CRDs exist. An Application that exists is kept while the Package waits (errors never delete).
 */
import type { PackageSpec } from '../api/package.js';
import type { DecoratorSyncRequest, DecoratorSyncResponse, KubeObject } from '../metacontroller/protocol.js';
import { groupKey, objectKey } from '../metacontroller/protocol.js';
import type { DecoratorDef } from '../kit/hooks.js';
import { API_VERSION } from '../api/common.js';
import { asDesired } from '../kit/observed.js';
import { decoratorContract } from '../kit/contract.js';
import { ARGO_APPLICATIONS } from './resources.js';
import { ARGO_APP, ENGINE_STATUS_ANNOTATION, application, engineOf, packageCustomize, packagePlan, type EngineStatus } from './package.js';

function observedApp(req: DecoratorSyncRequest): KubeObject | undefined {
  return req.attachments?.[groupKey(ARGO_APP.kind, ARGO_APP.apiVersion)]?.[objectKey(req.object.metadata.namespace, req.object.metadata.name)];
}

function argoStatus(app: KubeObject): EngineStatus {
  const s = (app.status ?? {}) as { sync?: { status?: string }; health?: { status?: string } };
  const out: EngineStatus = { name: app.metadata.name, namespace: app.metadata.namespace ?? '' };
  if (s.sync?.status) out.syncStatus = s.sync.status;
  if (s.health?.status) out.healthStatus = s.health.status;
  return out;
}

function sync(req: DecoratorSyncRequest): DecoratorSyncResponse {
  const pkg = req.object;
  const spec = pkg.spec as PackageSpec;
  const key = ENGINE_STATUS_ANNOTATION.argocd;
  if (engineOf(spec) !== 'argocd') return { attachments: [], annotations: { [key]: null } };
  const own = observedApp(req);
  const annotations = { [key]: own ? JSON.stringify(argoStatus(own)) : null };
  const plan = packagePlan({ parent: pkg, related: req.related });
  if (!plan.deploy) return { attachments: own ? [asDesired(own)] : [], annotations };
  return { attachments: [application(pkg, spec, plan.cloneURL)], annotations };
}

/**
 * The `packages-argocd` DecoratorController: a Package deployed by Argo CD gets its Application as an attachment, and
 * the Application's sync and health status copied into an annotation of the Package.
 */
export const packagesArgoCD: DecoratorDef = {
  name: 'packages-argocd',
  resources: [{ apiVersion: API_VERSION, kind: 'Package', resource: 'packages' }],
  attachments: [ARGO_APPLICATIONS],
  hooks: decoratorContract({ sync: (req) => sync(req), customize: (req) => packageCustomize(req) }),
};
