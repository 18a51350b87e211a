/** Child and related resource types used by the controllers, with their Metacontroller update strategies. */
import { API_VERSION } from '../api/common.js';
import { KIND_BY_NAME } from '../api/kinds.js';
import type { ChildResource, UpdateMethod } from '../kit/hooks.js';

function res(apiVersion: string, kind: string, resource: string, updateStrategy: UpdateMethod): ChildResource {
  return { apiVersion, kind, resource, updateStrategy };
}

/** Jobs are named after a hash of what they do, so they are never updated in place (a change makes a new Job). */
export const JOBS = res('batch/v1', 'Job', 'jobs', 'OnDelete');
/** v1 ConfigMaps as children (updated in place). */
export const CONFIGMAPS = res('v1', 'ConfigMap', 'configmaps', 'InPlace');
/** v1 Secrets as children (updated in place). */
export const SECRETS = res('v1', 'Secret', 'secrets', 'InPlace');

/**
 * One of our own kinds as a child (the Platform owns inline providers, bootstrap repositories and Packages).
 * @throws Error `unknown kind <kind>` when `kind` is not one of KINDS.
 */
export function ours(kind: string): ChildResource {
  const def = KIND_BY_NAME.get(kind);
  if (!def) throw new Error(`unknown kind ${kind}`);
  return res(API_VERSION, kind, def.plural, 'InPlace');
}

/** Argo CD Applications (argoproj.io/v1alpha1) as attachments. */
export const ARGO_APPLICATIONS = res('argoproj.io/v1alpha1', 'Application', 'applications', 'InPlace');
/** Flux GitRepositories (source.toolkit.fluxcd.io/v1) as attachments. */
export const FLUX_GITREPOSITORIES = res('source.toolkit.fluxcd.io/v1', 'GitRepository', 'gitrepositories', 'InPlace');
/** Flux Kustomizations (kustomize.toolkit.fluxcd.io/v1) as attachments. */
export const FLUX_KUSTOMIZATIONS = res('kustomize.toolkit.fluxcd.io/v1', 'Kustomization', 'kustomizations', 'InPlace');
/** v1 ServiceAccounts as children or attachments (updated in place). */
export const SERVICEACCOUNTS = res('v1', 'ServiceAccount', 'serviceaccounts', 'InPlace');
/** RoleBindings (rbac.authorization.k8s.io/v1) as children or attachments (updated in place). */
export const ROLEBINDINGS = res('rbac.authorization.k8s.io/v1', 'RoleBinding', 'rolebindings', 'InPlace');
/** Ingresses (networking.k8s.io/v1) as children or attachments (updated in place). */
export const INGRESSES = res('networking.k8s.io/v1', 'Ingress', 'ingresses', 'InPlace');
/** Gateway API HTTPRoutes (gateway.networking.k8s.io/v1) as children or attachments (updated in place). */
export const HTTPROUTES = res('gateway.networking.k8s.io/v1', 'HTTPRoute', 'httproutes', 'InPlace');
