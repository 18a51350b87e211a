/** Resource name → kind for the related rules render resolves offline (ours, plus the ones our hooks ask for). */
import { KIND_BY_PLURAL } from '../api/kinds.js';

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

export function kindOf(apiVersion: string, resource: string): string | undefined {
  if (apiVersion.startsWith('idpbuilder.cnoe.io/')) return KIND_BY_PLURAL.get(resource)?.kind;
  return KNOWN[`${apiVersion}/${resource}`];
}

export function groupOf(apiVersion: string): string {
  return apiVersion.includes('/') ? apiVersion.split('/')[0] : '';
}
