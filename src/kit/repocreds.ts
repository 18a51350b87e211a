/**
 * Repository credentials for GitOps engines (docs/decisions.md, "Repository credentials for GitOps engines").
 *
 * A git provider publishes a Secret (its child, label `idpbuilder.cnoe.io/role: repository-credentials`, named in
 * its duck `status.repositoryCredentialsSecretRef`) with the keys git over HTTPS needs: `username`, `password`,
 * and `ca.crt` (PEM) when its server has a custom CA. Consumers cannot name that Secret in customize (its name is
 * in the provider's status, customize sees only the parent's spec), so they ask for the role's Secrets of the
 * namespace they may read by label, and take the one the duck status names. Each consumer copies what it needs
 * into a child Secret of its own namespace (children live in the parent's namespace): the GitRepository
 * (`<repository>-gitrepository-credentials`), the Package for Flux (`<package>-git-credentials`, Flux's
 * `spec.secretRef` keys), the ArgoCDProvider for Argo CD (credential templates written into its namespace).
 *
 * A copy whose source is not observed is not answered: the contract returns the observed child unchanged
 * (unknown is not absent), and the caller reports a condition. Values never reach status, Events or logs.
 */
import type { KubeObject, RelatedResourceRule, SyncRequest } from '../metacontroller/protocol.js';
import { childName } from './names.js';
import { relatedObject } from './observed.js';
import { decodeSecretData, secret } from './secrets.js';
import { LABEL_ROLE } from './labels.js';

/** Role label of a Secret holding repository credentials (username, password, ca.crt). */
export const ROLE_REPOSITORY_CREDENTIALS = 'repository-credentials';
/** The keys such a Secret may hold, in the format Flux's GitRepository `spec.secretRef` reads. */
const REPOSITORY_CREDENTIAL_KEYS = ['username', 'password', 'ca.crt'] as const;

/**
 * Name of the repository credentials child of an object, DNS-1123, ≤ 63: `<name>-repository-credentials` for a
 * git provider, `<name>-gitrepository-credentials` for a GitRepository (`kind`), so that a provider and a
 * GitRepository of the same name in one namespace do not claim the same Secret.
 */
export function repositoryCredentialsName(name: string, kind?: 'GitRepository'): string {
  return childName([name, kind === 'GitRepository' ? 'gitrepository-credentials' : ROLE_REPOSITORY_CREDENTIALS]);
}

/** customize: the repository credentials Secrets of a namespace (label selector on the role, plus `extra` labels). */
export function repositoryCredentialsRule(namespace: string, extra: Record<string, string> = {}): RelatedResourceRule {
  return { apiVersion: 'v1', resource: 'secrets', namespace, labelSelector: { matchLabels: { [LABEL_ROLE]: ROLE_REPOSITORY_CREDENTIALS, ...extra } } };
}

/** The data of an observed related Secret (decoded), or undefined when it is not observed. */
export function relatedSecretData(req: Pick<SyncRequest, 'parent' | 'related'>, namespace: string, name: string): Record<string, string> | undefined {
  const o = relatedObject(req as SyncRequest, 'Secret', 'v1', namespace, name);
  return o ? decodeSecretData(o) : undefined;
}

/** One key of decoded Secret data: own keys only (a key named like an Object member is not one). */
export function secretValue(data: Record<string, string> | undefined, key: string): string | undefined {
  return data && Object.hasOwn(data, key) && typeof data[key] === 'string' && data[key] ? data[key] : undefined;
}

/** Only the repository credential keys that are present and non-empty. */
export function credentialKeys(data: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of REPOSITORY_CREDENTIAL_KEYS) {
    const v = secretValue(data, k);
    if (v) out[k] = v;
  }
  return out;
}

/** A repository credentials child Secret (role label set) with the given data. */
export function repositoryCredentialsSecret(name: string, namespace: string, labels: Record<string, string>, data: Record<string, string>): KubeObject {
  return secret(name, namespace, { ...labels, [LABEL_ROLE]: ROLE_REPOSITORY_CREDENTIALS }, data);
}

/** The git provider duck's repository credentials reference, when complete. */
export function duckRepositoryCredentials(server: KubeObject | undefined): { name: string; namespace: string } | undefined {
  const r = (server?.status as { repositoryCredentialsSecretRef?: { name?: unknown; namespace?: unknown } } | undefined)?.repositoryCredentialsSecretRef;
  return r && typeof r.name === 'string' && r.name && typeof r.namespace === 'string' && r.namespace ? { name: r.name, namespace: r.namespace } : undefined;
}
