/**
 * DecoratorController `packages-flux`: attaches a Flux GitRepository (source) and Kustomization to
 * every Package deployed by Flux, once the Package may deploy, and reports the Kustomization's Ready
 * condition back on the Package in the annotation idpbuilder.cnoe.io/flux-status. Metacontroller starts
 * it once Flux's CRDs exist.
 */
import type { PackageSpec } from '../api/package.js';
import type { DecoratorSyncRequest, DecoratorSyncResponse, KubeObject } from '../metacontroller/protocol.js';
import { groupKey, objectKey } from '../metacontroller/protocol.js';
import type { DecoratorDef } from './types.js';
import { kubeconfigSecretOf } from '../kit/cluster.js';
import { API_VERSION } from '../api/common.js';
import { ownerLabels } from '../kit/labels.js';
import { asDesired } from '../kit/observed.js';
import { decoratorContract } from '../kit/contract.js';
import { clip } from '../kit/redact.js';
import { FLUX_GITREPOSITORIES, FLUX_KUSTOMIZATIONS } from './resources.js';
import { ENGINE_STATUS_ANNOTATION, engineOf, packageCustomize, packagePlan, type EngineStatus } from './package.js';

const SOURCE = { apiVersion: 'source.toolkit.fluxcd.io/v1', kind: 'GitRepository' } as const;
const KUSTOMIZATION = { apiVersion: 'kustomize.toolkit.fluxcd.io/v1', kind: 'Kustomization' } as const;

export function fluxObjects(pkg: KubeObject, spec: PackageSpec, cloneURL: string): KubeObject[] {
  const f = spec.flux ?? {};
  const name = pkg.metadata.name;
  const namespace = pkg.metadata.namespace;
  const labels = ownerLabels(pkg);
  const rev = spec.source.gitRepository.targetRevision;
  const ref = !rev || rev === 'HEAD' ? { branch: 'main' } : /^[0-9a-f]{40}$/.test(rev) ? { commit: rev } : { branch: rev };
  const path = `./${(spec.source.gitRepository.path ?? '.').replace(/^\.?\/*/, '').replace(/\/+$/, '')}`.replace(/\/$/, '') || './';
  return [
    { ...SOURCE, metadata: { name, namespace, labels }, spec: { url: cloneURL, interval: f.interval ?? '5m', ref } },
    {
      ...KUSTOMIZATION,
      metadata: { name, namespace, labels },
      spec: {
        interval: f.interval ?? '5m',
        prune: f.prune ?? true,
        sourceRef: { kind: 'GitRepository', name },
        path: path === './' || path === '.' ? './' : path,
        ...(f.targetNamespace ? { targetNamespace: f.targetNamespace } : {}),
        ...(f.serviceAccountName ? { serviceAccountName: f.serviceAccountName } : {}),
        // clusterRef: Flux applies with the target's kubeconfig (kubeConfig.secretRef, same namespace)
        ...(spec.clusterRef ? { kubeConfig: { secretRef: { name: kubeconfigSecretOf(spec.clusterRef).secret, key: kubeconfigSecretOf(spec.clusterRef).key } } } : {}),
      },
    },
  ] as KubeObject[];
}

export function fluxStatus(k: KubeObject): EngineStatus {
  const ready = ((k.status as { conditions?: { type: string; status: string; reason?: string; message?: string }[] } | undefined)?.conditions ?? []).find((c) => c.type === 'Ready');
  const out: EngineStatus = { name: k.metadata.name, namespace: k.metadata.namespace ?? '' };
  if (ready) {
    out.ready = ready.status;
    if (ready.reason) out.reason = ready.reason;
    if (ready.message) out.message = clip(ready.message, 300);
  }
  return out;
}

function sync(req: DecoratorSyncRequest): DecoratorSyncResponse {
  const pkg = req.object;
  const spec = pkg.spec as PackageSpec;
  const key = ENGINE_STATUS_ANNOTATION.flux;
  if (engineOf(spec) !== 'flux') return { attachments: [], annotations: { [key]: null } };
  const at = (t: { apiVersion: string; kind: string }) => req.attachments?.[groupKey(t.kind, t.apiVersion)]?.[objectKey(pkg.metadata.namespace, pkg.metadata.name)];
  const observed = [at(SOURCE), at(KUSTOMIZATION)].filter((o): o is KubeObject => !!o);
  const kustomization = at(KUSTOMIZATION);
  const annotations = { [key]: kustomization ? JSON.stringify(fluxStatus(kustomization)) : null };
  const plan = packagePlan({ parent: pkg, related: req.related });
  if (!plan.deploy) return { attachments: observed.map(asDesired), annotations };
  return { attachments: fluxObjects(pkg, spec, plan.cloneURL), annotations };
}

export const packagesFlux: DecoratorDef = {
  name: 'packages-flux',
  resources: [{ apiVersion: API_VERSION, kind: 'Package', resource: 'packages' }],
  attachments: [FLUX_GITREPOSITORIES, FLUX_KUSTOMIZATIONS],
  hooks: decoratorContract({ sync: (req) => sync(req), customize: (req) => packageCustomize(req) }),
};
