/** Resource name → kind for the related rules render resolves offline (ours, plus the ones our hooks ask for). */
import { KIND_BY_PLURAL } from '../api/kinds.js';
import type { KubeObject } from '../metacontroller/protocol.js';
import { defaultResource } from '../kit/refs.js';

const KNOWN: Record<string, string> = {
  'v1/configmaps': 'ConfigMap',
  'v1/secrets': 'Secret',
  'v1/pods': 'Pod',
  'v1/services': 'Service',
  'apps/v1/deployments': 'Deployment',
  'apps/v1/statefulsets': 'StatefulSet',
  'apps/v1/daemonsets': 'DaemonSet',
  'batch/v1/jobs': 'Job',
  'argoproj.io/v1alpha1/applications': 'Application',
  'gateway.networking.k8s.io/v1/gateways': 'Gateway',
  'gateway.networking.k8s.io/v1/httproutes': 'HTTPRoute',
  'source.toolkit.fluxcd.io/v1/gitrepositories': 'GitRepository',
  'kustomize.toolkit.fluxcd.io/v1/kustomizations': 'Kustomization',
  'cluster.x-k8s.io/v1beta1/clusters': 'Cluster',
};

/**
 * The kind of a plural resource name under `apiVersion` for the related rules render resolves offline: ours through
 * KIND_BY_PLURAL, else a fixed table of the built-in, Argo CD, Gateway API, Flux and Cluster API resources our hooks
 * ask for; `undefined` for any other.
 */
export function kindOf(apiVersion: string, resource: string): string | undefined {
  if (apiVersion.startsWith('idpbuilder.cnoe.io/')) return KIND_BY_PLURAL.get(resource)?.kind;
  return KNOWN[`${apiVersion}/${resource}`];
}

/** The API group of an apiVersion: the part before `/`, or `''` for the core group (`v1`). */
export function groupOf(apiVersion: string): string {
  const slash = apiVersion.indexOf('/');
  return slash < 0 ? '' : apiVersion.slice(0, slash);
}

/**
 * The kind of a resource no table knows (another group's provider, a health check's kind), found among
 * the objects render holds: a CustomResourceDefinition of the group naming the plural, else an object of
 * the group whose kind pluralises to it (kit/refs.ts `defaultResource`, the rule references use).
 */
export function kindAmong(objects: Iterable<KubeObject>, apiVersion: string, resource: string): string | undefined {
  const group = groupOf(apiVersion);
  let guessed: string | undefined;
  for (const o of objects) {
    if (o.kind === 'CustomResourceDefinition' && groupOf(o.apiVersion) === 'apiextensions.k8s.io') {
      const spec = (o.spec ?? {}) as { group?: string; names?: { plural?: string; kind?: string } };
      if (spec.group === group && spec.names?.plural === resource && spec.names.kind) return spec.names.kind;
    } else if (!guessed && groupOf(o.apiVersion) === group && defaultResource(o.kind) === resource) guessed = o.kind;
  }
  return guessed;
}
