/**
 * DecoratorController `packages-flux`: attaches a Flux GitRepository (source) and Kustomization to
 * every Package deployed by Flux, once the Package may deploy, and reports the Kustomization's Ready
 * condition back on the Package in the annotation idpbuilder.cnoe.io/flux-status. Metacontroller starts
 * it once Flux's CRDs exist. Under a FluxProvider with `multitenancy.enabled` (Flux impersonates a
 * ServiceAccount of the Kustomization's namespace), each Package also gets its own reconciler
 * ServiceAccount and a RoleBinding in its namespace, named in the Kustomization's `serviceAccountName`
 * (tenantObjects; docs/providers/package.md).
 */
import type { PackageSpec } from '../api/package.js';
import type { DecoratorSyncRequest, DecoratorSyncResponse, KubeObject } from '../metacontroller/protocol.js';
import { groupKey, objectKey } from '../metacontroller/protocol.js';
import type { CustomizeRequest, CustomizeResponse } from '../metacontroller/protocol.js';
import type { FluxProviderSpec } from '../api/gitops.js';
import type { DecoratorDef, HookEnv } from '../kit/hooks.js';
import { kubeconfigSecretOf } from '../kit/cluster.js';
import { API_VERSION } from '../api/common.js';
import { labelValue, ownerLabels } from '../kit/labels.js';
import { childName } from '../kit/names.js';
import { lookup } from '../kit/refs.js';
import { credentialKeys, relatedSecretData, repositoryCredentialsRule, repositoryCredentialsSecret } from '../kit/repocreds.js';
import { asDesired } from '../kit/observed.js';
import { decoratorContract } from '../kit/contract.js';
import { clip } from '../kit/redact.js';
import { FLUX_GITREPOSITORIES, FLUX_KUSTOMIZATIONS, ROLEBINDINGS, SECRETS, SERVICEACCOUNTS } from './resources.js';
import { ENGINE_STATUS_ANNOTATION, engineOf, packageCustomize, packagePlan, type EngineStatus } from './package.js';

const SOURCE = { apiVersion: 'source.toolkit.fluxcd.io/v1', kind: 'GitRepository' } as const;
const KUSTOMIZATION = { apiVersion: 'kustomize.toolkit.fluxcd.io/v1', kind: 'Kustomization' } as const;

/**
 * ClusterRole a tenant reconciler is bound to, by a RoleBinding in the Package's namespace (so only there):
 * `cluster-admin`, the default of `flux create tenant --cluster-role` (fluxcd/flux2 cmd/flux/create_tenant.go),
 * which scoped by a RoleBinding is full control of that one namespace.
 */
const TENANT_CLUSTER_ROLE = 'cluster-admin';

/** Name of a Package's reconciler ServiceAccount and RoleBinding under Flux multitenancy: `<package>-flux`. */
function tenantAccountName(pkg: KubeObject): string {
  return childName([pkg.metadata.name, 'flux']);
}

/**
 * The reconciler of a Package under Flux multitenancy: a ServiceAccount and a RoleBinding of it to
 * TENANT_CLUSTER_ROLE, both in the Package's namespace. Only the Package's namespace is granted: a
 * `flux.targetNamespace` elsewhere needs a RoleBinding there made by its owner.
 */
function tenantObjects(pkg: KubeObject): KubeObject[] {
  const name = tenantAccountName(pkg);
  const namespace = pkg.metadata.namespace;
  const labels = ownerLabels(pkg, 'flux-tenant');
  return [
    { ...SERVICEACCOUNTS_TYPE, metadata: { name, namespace, labels } },
    {
      ...ROLEBINDINGS_TYPE,
      metadata: { name, namespace, labels },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: TENANT_CLUSTER_ROLE },
      subjects: [{ kind: 'ServiceAccount', name, namespace }],
    },
  ] as KubeObject[];
}

const SERVICEACCOUNTS_TYPE = { apiVersion: SERVICEACCOUNTS.apiVersion, kind: SERVICEACCOUNTS.kind } as const;
const ROLEBINDINGS_TYPE = { apiVersion: ROLEBINDINGS.apiVersion, kind: ROLEBINDINGS.kind } as const;

/** The Package's copy of its repository's credentials, which the Flux GitRepository's `spec.secretRef` names. */
function fluxCredentialsName(pkg: KubeObject): string {
  return childName([pkg.metadata.name, 'git-credentials']);
}

/**
 * The Flux source and Kustomization of a Package. `serviceAccountName`: the Package's `flux.serviceAccountName`
 * (the user's own account: nothing is created for it), else under multitenancy the Package's reconciler
 * (tenantObjects), else none. `secretRef`: the Secret (Package's namespace) with `username`,
 * `password` and `ca.crt` that source-controller reads for HTTPS basic auth and a custom CA (source.toolkit.fluxcd.io/v1
 * GitRepository `spec.secretRef`; v1 has no `certSecretRef`: docs/providers/package.md).
 */
export function fluxObjects(pkg: KubeObject, spec: PackageSpec, cloneURL: string, multitenant = false, secretRef?: string): KubeObject[] {
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
        ...(f.serviceAccountName ? { serviceAccountName: f.serviceAccountName } : multitenant ? { serviceAccountName: tenantAccountName(pkg) } : {}),
        // clusterRef: Flux applies with the target's kubeconfig (kubeConfig.secretRef, same namespace)
        ...(spec.clusterRef ? { kubeConfig: { secretRef: { name: kubeconfigSecretOf(spec.clusterRef).secret, key: kubeconfigSecretOf(spec.clusterRef).key } } } : {}),
      },
    },
  ] as KubeObject[];
}

function fluxStatus(k: KubeObject): EngineStatus {
  const ready = ((k.status as { conditions?: { type: string; status: string; reason?: string; message?: string }[] } | undefined)?.conditions ?? []).find((c) => c.type === 'Ready');
  const out: EngineStatus = { name: k.metadata.name, namespace: k.metadata.namespace ?? '' };
  if (ready) {
    out.ready = ready.status;
    if (ready.reason) out.reason = ready.reason;
    if (ready.message) out.message = clip(ready.message, 300);
  }
  return out;
}

/** The FluxProviders this Package may deploy through: the one it references, else those of the controller namespace. */
function fluxProviders(req: DecoratorSyncRequest, spec: PackageSpec, env: HookEnv): KubeObject[] {
  const ref = spec.gitOpsProviderRef;
  const all = ['v1alpha2', 'v1alpha1'].flatMap((v) => Object.values(req.related?.[groupKey('FluxProvider', `idpbuilder.cnoe.io/${v}`)] ?? {}));
  if (ref?.kind === 'FluxProvider') {
    const ns = ref.namespace ?? req.object.metadata.namespace;
    return all.filter((o) => o.metadata.name === ref.name && o.metadata.namespace === ns);
  }
  return all.filter((o) => o.metadata.namespace === env.settings.controllerNamespace);
}

/**
 * Is the Flux that deploys this Package multitenant (`spec.multitenancy.enabled` of its FluxProvider)? With no
 * FluxProvider observed, unknown is not absent: the answer is whether a reconciler of this Package is attached.
 */
function multitenant(req: DecoratorSyncRequest, spec: PackageSpec, env: HookEnv): boolean {
  const providers = fluxProviders(req, spec, env);
  if (providers.length) return providers.some((p) => (p.spec as FluxProviderSpec | undefined)?.multitenancy?.enabled === true);
  return !!req.attachments?.[groupKey(SERVICEACCOUNTS.kind, SERVICEACCOUNTS.apiVersion)]?.[objectKey(req.object.metadata.namespace, tenantAccountName(req.object))];
}

function sync(req: DecoratorSyncRequest, env: HookEnv): DecoratorSyncResponse {
  const pkg = req.object;
  const spec = pkg.spec as PackageSpec;
  const key = ENGINE_STATUS_ANNOTATION.flux;
  if (engineOf(spec) !== 'flux') return { attachments: [], annotations: { [key]: null } };
  const at = (t: { apiVersion: string; kind: string }, name = pkg.metadata.name) => req.attachments?.[groupKey(t.kind, t.apiVersion)]?.[objectKey(pkg.metadata.namespace, name)];
  const observed = [at(SOURCE), at(KUSTOMIZATION), at(SERVICEACCOUNTS, tenantAccountName(pkg)), at(ROLEBINDINGS, tenantAccountName(pkg))].filter((o): o is KubeObject => !!o);
  const kustomization = at(KUSTOMIZATION);
  const annotations = { [key]: kustomization ? JSON.stringify(fluxStatus(kustomization)) : null };
  const credsName = fluxCredentialsName(pkg);
  const observedCreds = req.attachments?.[groupKey('Secret', 'v1')]?.[objectKey(pkg.metadata.namespace, credsName)];
  const plan = packagePlan({ parent: pkg, related: req.related });
  if (!plan.deploy) return { attachments: [...observed, ...(observedCreds ? [observedCreds] : [])].map(asDesired), annotations };
  // the user's own serviceAccountName: the account is theirs, nothing is created for it
  const tenant = multitenant(req, spec, env) && !spec.flux?.serviceAccountName;
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
  return {
    attachments: [...fluxObjects(pkg, spec, plan.cloneURL, tenant, credsSource ? credsName : undefined), ...(tenant ? tenantObjects(pkg) : []), ...attachments],
    annotations: note,
  };
}

/**
 * customize: the Package's related objects, the repository credentials Secret of its source GitRepository (by
 * label), and the FluxProviders of the controller namespace when the Package references none.
 */
function customize(req: CustomizeRequest, env: HookEnv): CustomizeResponse {
  const base = packageCustomize(req);
  const spec = req.parent.spec as PackageSpec;
  const src = spec.source.gitRepository;
  const srcNs = src.namespace ?? req.parent.metadata.namespace ?? 'default';
  const rules = [...base.relatedResources, repositoryCredentialsRule(srcNs, { [`idpbuilder.cnoe.io/gitrepository`]: labelValue(src.name) })];
  if (spec.gitOpsProviderRef?.kind !== 'FluxProvider') rules.push({ apiVersion: API_VERSION, resource: 'fluxproviders', namespace: env.settings.controllerNamespace });
  return { relatedResources: rules };
}

/**
 * The `packages-flux` DecoratorController: a Package deployed by Flux gets a Flux GitRepository
 * (source.toolkit.fluxcd.io/v1) and Kustomization (kustomize.toolkit.fluxcd.io/v1), with the tenant ServiceAccount,
 * RoleBinding and credentials Secret when multi-tenant, and the Kustomization's Ready condition in an annotation of
 * the Package.
 */
export const packagesFlux: DecoratorDef = {
  name: 'packages-flux',
  resources: [{ apiVersion: API_VERSION, kind: 'Package', resource: 'packages' }],
  attachments: [FLUX_GITREPOSITORIES, FLUX_KUSTOMIZATIONS, SERVICEACCOUNTS, ROLEBINDINGS, SECRETS],
  hooks: decoratorContract({ sync: (req, env) => sync(req, env), customize: (req, env) => customize(req, env) }),
};
