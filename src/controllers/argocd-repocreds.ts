/**
 * Argo CD repository credentials (ArgoCDProvider `spec.repositoryCredentials`, docs/providers/argocdprovider.md).
 *
 * Argo CD reads repository Secrets only in its own namespace (label `argocd.argoproj.io/secret-type`:
 * `repository` for one URL, `repo-creds` for a credential template matching every repository URL with its
 * `url` as prefix; keys `type`, `url`, `username`, `password`) and custom CAs only from the ConfigMap
 * `argocd-tls-certs-cm`, keyed by server host name (Argo CD operator manual, "Declarative Setup":
 * argocd-repositories.yaml, argocd-repo-creds.yaml, argocd-tls-certs-cm.yaml). Our children live in the
 * provider's namespace, so for each listed git provider:
 *
 * - a child Secret `<provider>-repo-creds-<n>` (one per URL prefix) holds `type`, `url`, `username`, `password`,
 *   copied from the git provider's repository credentials (duck `status.repositoryCredentialsSecretRef`, read as
 *   a related object through the role label); the install Job writes it into the install namespace as a
 *   `repo-creds` Secret (ReleaseSecret, values through mounted files only) and its digest is part of the Job's
 *   identity, so a rotated token re-runs the install;
 * - the CA (`ca.crt` of the same Secret) becomes chart value `configs.tls.certificates.<host>` (a CA is not secret).
 *
 * A git provider not Ready, refused, or whose Secret is not observed: its observed copy is kept unchanged (unknown
 * is not absent) and condition `RepositoryCredentials` says what is awaited; the install is not held back.
 */
import type { ArgoCDProviderSpec } from '../api/gitops.js';
import type { KubeObject, RelatedResourceRule, SyncRequest } from '../metacontroller/protocol.js';
import type { ConditionInput } from '../kit/conditions.js';
import { secretDigest, type ReleaseSecret } from '../kit/helm.js';
import { ownerLabels } from '../kit/labels.js';
import { childName } from '../kit/names.js';
import { asDesired, observedChild } from '../kit/observed.js';
import { readiness, refNamespace, refRules, resolveRef } from '../kit/refs.js';
import { credentialKeys, duckRepositoryCredentials, relatedSecretData, repositoryCredentialsRule, ROLE_REPOSITORY_CREDENTIALS } from '../kit/repocreds.js';
import { secret } from '../kit/secrets.js';
import { repoURLs } from './gitrepository.js';

/** Argo CD's label that makes a Secret of its namespace a repository or credential template. */
const ARGOCD_SECRET_TYPE = 'argocd.argoproj.io/secret-type';
/** Keys of a repo-creds Secret the install Job writes (the child also keeps `ca.crt`, which goes to values). */
const TEMPLATE_KEYS = ['password', 'type', 'url', 'username'];

/**
 * What ArgoCDProvider `spec.repositoryCredentials` adds to an install: the child Secret copies of each git provider's
 * credentials, the ReleaseSecrets that write them into Argo CD's namespace as credential templates (label
 * `argocd.argoproj.io/secret-type: repo-creds`), their digests for the install's identity, the chart values
 * (`configs.tls.certificates`, host → PEM CA) and the RepositoryCredentials condition.
 */
export interface RepositoryCredentialsPlan {
  /** Child Secrets (the copies), answered or kept as observed. */
  children: KubeObject[];
  /** ReleaseSecrets writing them into the install namespace as credential templates. */
  secrets: ReleaseSecret[];
  /** Digests of the copies, for the install Job's identity. */
  digests: Record<string, string>;
  /** Chart values: configs.tls.certificates (host → PEM). */
  values: Record<string, unknown>;
  /** The RepositoryCredentials condition (absent when none are asked for). */
  condition?: ConditionInput;
}

/** customize: each listed git provider (and grants), and the repository credentials Secrets of their namespaces. */
export function repositoryCredentialsRules(spec: ArgoCDProviderSpec, parent: KubeObject): RelatedResourceRule[] {
  const refs = (spec.repositoryCredentials ?? []).map((r) => r.gitServerRef);
  if (!refs.length) return [];
  const namespaces = [...new Set(refs.map((r) => refNamespace(r, parent)))].sort();
  return [...refRules(refs, parent), ...namespaces.map((ns) => repositoryCredentialsRule(ns))];
}

/**
 * The URL prefixes a git provider's repositories are cloned from (web and, for an in-cluster server, the
 * cluster-local one), each ending in `/`: `<endpoint>/` when the endpoint names the organization, else
 * `<endpoint>/<organization>/`.
 */
export function urlPrefixes(duck: { endpoint?: string; internalEndpoint?: string; organization?: string; group?: string }): string[] {
  const org = duck.organization ?? duck.group;
  if (!org || !duck.endpoint) return [];
  const probe = 'x';
  const { url, cloneURL } = repoURLs(duck, org, probe);
  const strip = (u: string) => u.slice(0, -`${probe}.git`.length);
  return [...new Set([strip(url), strip(cloneURL)])];
}

function hostOf(url: string): string | undefined {
  try {
    return new URL(url).hostname || undefined;
  } catch {
    return undefined;
  }
}

/**
 * The RepositoryCredentialsPlan of an ArgoCDProvider: for each `spec.repositoryCredentials[].gitServerRef`, the
 * referenced git provider's `repositoryCredentialsSecretRef` (read as a related object; another namespace needs a
 * ReferenceGrant) copied for every URL prefix its repositories are cloned from; an empty plan when none are asked
 * for. Missing or refused references are reported in the condition, never by dropping an observed copy.
 */
export function repositoryCredentials(req: SyncRequest, parent: KubeObject, spec: ArgoCDProviderSpec): RepositoryCredentialsPlan {
  const out: RepositoryCredentialsPlan = { children: [], secrets: [], digests: {}, values: {} };
  const refs = (spec.repositoryCredentials ?? []).map((r) => r.gitServerRef);
  if (!refs.length) return out;
  const ns = parent.metadata.namespace ?? 'default';
  const waiting: string[] = [];
  const certificates: Record<string, string> = {};
  let templates = 0;
  for (const ref of refs) {
    const label = `${ref.kind} ${refNamespace(ref, parent)}/${ref.name}`;
    const base = childName([parent.metadata.name, 'repo-creds', ref.kind.toLowerCase(), ref.name]);
    const names = [0, 1].map((i) => childName([base, String(i)]));
    const keep = (why: string) => {
      waiting.push(`${label}: ${why}`);
      for (const n of names) {
        const o = observedChild(req, 'Secret', 'v1', n);
        if (o) add(n, asDesired(o));
      }
    };
    const add = (name: string, child: KubeObject) => {
      out.children.push(child);
      const data = Object.fromEntries(Object.entries((child.data as Record<string, string> | undefined) ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]));
      out.digests[name] = secretDigest(data);
      out.secrets.push({ name, from: name, keys: TEMPLATE_KEYS.filter((k) => data[k]), labels: { ...ownerLabels(parent, ROLE_REPOSITORY_CREDENTIALS), [ARGOCD_SECRET_TYPE]: 'repo-creds' } });
      if (data['ca.crt'] && data.url) {
        const host = hostOf(data.url);
        if (host) certificates[host] = data['ca.crt'];
      }
      templates++;
    };
    const { object: server, refusal } = resolveRef(req, ref);
    if (!server) {
      keep(refusal?.message ?? 'not found');
      continue;
    }
    const r = readiness(server);
    if (!r.ready) {
      keep(`not ready (${r.message})`);
      continue;
    }
    const credsRef = duckRepositoryCredentials(server);
    if (!credsRef) {
      // the server publishes none (its repositories are read without credentials), unless copies exist: then the
      // field is taken as not observed yet (unknown is not absent) and the copies stay
      if (names.some((n) => observedChild(req, 'Secret', 'v1', n))) keep('status reports no repositoryCredentialsSecretRef');
      continue;
    }
    const data = relatedSecretData(req, credsRef.namespace, credsRef.name);
    const creds = data ? credentialKeys(data) : {};
    const prefixes = urlPrefixes((server.status ?? {}) as Record<string, string>);
    if (!creds.password || !prefixes.length) {
      keep(!creds.password ? `Secret ${credsRef.namespace}/${credsRef.name} not found` : 'status has no endpoint or organization yet');
      continue;
    }
    prefixes.slice(0, names.length).forEach((url, i) => {
      add(names[i], secret(names[i], ns, ownerLabels(parent, ROLE_REPOSITORY_CREDENTIALS), { type: 'git', url, ...creds }));
    });
  }
  if (Object.keys(certificates).length) out.values = { configs: { tls: { certificates } } };
  out.condition = waiting.length
    ? { type: 'RepositoryCredentials', status: 'False', reason: 'WaitingForGitServer', message: `waiting for ${waiting.join('; ')}` }
    : { type: 'RepositoryCredentials', status: 'True', reason: 'AsExpected', message: `${templates} credential template(s) for ${refs.length} git provider(s)` };
  return out;
}
