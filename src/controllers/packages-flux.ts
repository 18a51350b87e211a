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
import { API_VERSION } from '../api/common.js';
import { labelValue, ownerLabels } from '../kit/labels.js';
import { childName } from '../kit/names.js';
import { lookup } from '../kit/refs.js';
import { credentialKeys, relatedSecretData, repositoryCredentialsRule, repositoryCredentialsSecret } from '../kit/repocreds.js';
import { asDesired } from '../kit/observed.js';
import { decoratorContract } from '../kit/contract.js';
import { clip } from '../kit/redact.js';
import { FLUX_GITREPOSITORIES, FLUX_KUSTOMIZATIONS, SECRETS } from './resources.js';
import { ENGINE_STATUS_ANNOTATION, engineOf, packageCustomize, packagePlan, type EngineStatus } from './package.js';

const SOURCE = { apiVersion: 'source.toolkit.fluxcd.io/v1', kind: 'GitRepository' } as const;
const KUSTOMIZATION = { apiVersion: 'kustomize.toolkit.fluxcd.io/v1', kind: 'Kustomization' } as const;

/** The Package's copy of its repository's credentials, which the Flux GitRepository's `spec.secretRef` names. */
export function fluxCredentialsName(pkg: KubeObject): string {
  return childName([pkg.metadata.name, 'git-credentials']);
}

/**
 * The Flux source and Kustomization of a Package. `secretRef`: the Secret (Package's namespace) with `username`,
 * `password` and `ca.crt` that source-controller reads for HTTPS basic auth and a custom CA (source.toolkit.fluxcd.io/v1
 * GitRepository `spec.secretRef`; v1 has no `certSecretRef`: docs/providers/package.md).
 */
export function fluxObjects(pkg: KubeObject, spec: PackageSpec, cloneURL: string, secretRef?: string): KubeObject[] {
  const f = spec.flux ?? {};
  const name = pkg.metadata.name;
  const namespace = pkg.metadata.namespace;
  const labels = ownerLabels(pkg);
  const rev = spec.source.gitRepository.targetRevision;
  const ref = !rev || rev === 'HEAD' ? { branch: 'main' } : /^[0-9a-f]{40}$/.test(rev) ? { commit: rev } : { branch: rev };
  const path = `./${(spec.source.gitRepository.path ?? '.').replace(/^\.?\/*/, '').replace(/\/+$/, '')}`.replace(/\/$/, '') || './';
  return [
    { ...SOURCE, metadata: { name, namespace, labels }, spec: { url: cloneURL, interval: f.interval ?? '5m', ref, ...(secretRef ? { secretRef: { name: secretRef } } : {}) } },
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
  const credsName = fluxCredentialsName(pkg);
  const observedCreds = req.attachments?.[groupKey('Secret', 'v1')]?.[objectKey(pkg.metadata.namespace, credsName)];
  const plan = packagePlan({ parent: pkg, related: req.related });
  if (!plan.deploy) return { attachments: [...observed, ...(observedCreds ? [observedCreds] : [])].map(asDesired), annotations };
  // The repository's credentials (GitRepository status.repositoryCredentialsSecret, a Secret beside it), copied
  // beside the Package: Flux reads a secretRef in the Flux GitRepository's namespace only. A source Secret not
  // observed keeps the observed copy (unknown is not absent) and is reported on the Package.
  const src = spec.source.gitRepository;
  const srcNs = src.namespace ?? pkg.metadata.namespace ?? 'default';
  const repo = lookup({ parent: pkg, related: req.related }, { kind: 'GitRepository', name: src.name, namespace: src.namespace });
  const credsSource = (repo?.status as { repositoryCredentialsSecret?: string } | undefined)?.repositoryCredentialsSecret;
  const attachments: KubeObject[] = [];
  let credentials: EngineStatus['credentials'];
  if (credsSource) {
    const data = relatedSecretData({ parent: pkg, related: req.related }, srcNs, credsSource);
    if (data && credentialKeys(data).password) attachments.push(repositoryCredentialsSecret(credsName, pkg.metadata.namespace ?? 'default', ownerLabels(pkg), credentialKeys(data)));
    else {
      if (observedCreds) attachments.push(asDesired(observedCreds));
      credentials = `Secret ${srcNs}/${credsSource} (the repository credentials of GitRepository ${src.name}) not found${observedCreds ? `; Secret ${credsName} is kept as it was` : ''}`;
    }
  }
  const status = kustomization ? fluxStatus(kustomization) : undefined;
  const note = credentials ? { [key]: JSON.stringify({ ...(status ?? { name: pkg.metadata.name, namespace: pkg.metadata.namespace ?? '' }), credentials }) } : annotations;
  return { attachments: [...fluxObjects(pkg, spec, plan.cloneURL, credsSource ? credsName : undefined), ...attachments], annotations: note };
}

/** customize: the Package's related objects, and the repository credentials Secret of its source GitRepository (by label). */
function customize(req: Parameters<typeof packageCustomize>[0]) {
  const base = packageCustomize(req);
  const src = (req.parent.spec as PackageSpec).source.gitRepository;
  const srcNs = src.namespace ?? req.parent.metadata.namespace ?? 'default';
  return { relatedResources: [...base.relatedResources, repositoryCredentialsRule(srcNs, { [`idpbuilder.cnoe.io/gitrepository`]: labelValue(src.name) })] };
}

export const packagesFlux: DecoratorDef = {
  name: 'packages-flux',
  resources: [{ apiVersion: API_VERSION, kind: 'Package', resource: 'packages' }],
  attachments: [FLUX_GITREPOSITORIES, FLUX_KUSTOMIZATIONS, SECRETS],
  hooks: decoratorContract({ sync: (req) => sync(req), customize: (req) => customize(req) }),
};
