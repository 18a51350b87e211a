/**
 * Target clusters (docs/multi-cluster.md): an object's `spec.clusterRef` names the cluster it installs into or
 * deploys to. The controllers stay in the management cluster; what runs on the target gets its kubeconfig:
 * - the install/uninstall Jobs (./helm.ts) mount the kubeconfig Secret as a volume (never env) and run helm and
 *   kubectl with `KUBECONFIG` pointing at the mounted file (./jobs.ts `JobSpecInput.kubeconfig`);
 * - Argo CD gets the cluster registered (an Argo CD cluster Secret, `argoClusterConfig`), Flux a Kustomization
 *   `spec.kubeConfig.secretRef`;
 * - the Job programs that call a git server on the target (gitea-bootstrap, repo-sync) stay in the management
 *   cluster and reach its Service through the target's API server (`serviceTunnel`, src/kube/tunnel.ts).
 *
 * Facts (checked against the upstream sources, see docs/decisions.md "Target clusters"):
 * - Cluster API writes `<cluster>-kubeconfig` with the kubeconfig under key `value` (cluster-api
 *   util/secret `KubeconfigDataName`, `Kubeconfig` purpose suffix); a Cluster is usable once its control plane
 *   is ready: v1beta1 `status.controlPlaneReady`, v1beta2 `status.initialization.controlPlaneInitialized`.
 * - vCluster writes `vc-<name>` in its host namespace with the kubeconfig under key `config` (vcluster
 *   pkg/util/kubeconfig `DefaultSecretPrefix`, `KubeconfigSecretKey`).
 * - Flux's `kubeConfig.secretRef.key` defaults to `value` (or `value.yaml`).
 *
 * The kubeconfig Secret is read in the referring object's namespace only (DESIGN.md "Namespaces are a
 * boundary"). Nothing read from it but the server URL ever enters a status.
 */
import { parse as parseYAML } from 'yaml';
import type { ClusterRef } from '../api/common.js';
import type { ServiceTunnel } from '../api/jobs.js';
import type { KubeObject, RelatedResourceRule, SyncRequest } from '../metacontroller/protocol.js';
import { shortHash } from './canonical.js';
import type { ConditionInput } from './conditions.js';
import type { ReleaseSecret } from './helm.js';
import { childName, hashedName } from './names.js';
import { observedChild, relatedObject } from './observed.js';
import { decodeSecretData, secret as secretObject } from './secrets.js';

/** Cluster API's Cluster, read in the served version every current release serves. */
const CAPI_CLUSTER = { apiVersion: 'cluster.x-k8s.io/v1beta1', kind: 'Cluster', resource: 'clusters' } as const;

/** Condition reasons of a target that cannot be used (yet). */
export const CLUSTER_REASONS = {
  secretNotFound: 'ClusterSecretNotFound',
  keyNotFound: 'ClusterKubeconfigKeyNotFound',
  invalid: 'ClusterKubeconfigInvalid',
  clusterNotFound: 'ClusterNotFound',
  clusterNotReady: 'ClusterNotReady',
} as const;

/** The kubeconfig Secret (in the referring object's namespace) and key of a cluster reference. */
export function kubeconfigSecretOf(ref: ClusterRef): { secret: string; key: string } {
  switch (ref.kind) {
    case 'Cluster':
      return { secret: `${ref.name}-kubeconfig`, key: 'value' };
    case 'VCluster':
      return { secret: `vc-${ref.name}`, key: 'config' };
    default:
      return { secret: ref.name, key: ref.key ?? 'value' };
  }
}

/**
 * The name a GitOps engine knows the cluster by: `<namespace>-<kubeconfig Secret>` (DNS-1123, ≤ 63, hash-suffixed
 * when longer). One kubeconfig Secret is one cluster, whichever kind led to it.
 */
export function registeredName(ref: ClusterRef, namespace: string): string {
  return childName([namespace, kubeconfigSecretOf(ref).secret]);
}

/** `spec.clusterRef` of an object, when set. */
export function clusterRefOf(obj: KubeObject): ClusterRef | undefined {
  const ref = (obj.spec as { clusterRef?: ClusterRef } | undefined)?.clusterRef;
  return ref && typeof ref.name === 'string' && typeof ref.kind === 'string' ? ref : undefined;
}

/** customize rules for a cluster reference: its kubeconfig Secret, and for kind Cluster the Cluster API Cluster. */
export function clusterRules(ref: ClusterRef | undefined, parent: KubeObject): RelatedResourceRule[] {
  if (!ref) return [];
  const namespace = parent.metadata.namespace ?? 'default';
  const rules: RelatedResourceRule[] = [{ apiVersion: 'v1', resource: 'secrets', namespace, names: [kubeconfigSecretOf(ref).secret] }];
  if (ref.kind === 'Cluster') rules.push({ apiVersion: CAPI_CLUSTER.apiVersion, resource: CAPI_CLUSTER.resource, namespace, names: [ref.name] });
  return rules;
}

/** What a Job needs to reach the target: the Secret and key to mount (see ./jobs.ts). */
export interface ClusterTarget {
  secret: string;
  key: string;
  registeredName: string;
}

/** The `status.cluster` duck-typed field (src/api/common.ts ClusterStatus). */
export interface ClusterStatusValue {
  kind: string;
  name: string;
  secretName: string;
  key: string;
  server?: string;
  registeredName: string;
  reachable: boolean;
}

/**
 * Where a parent's releases and Jobs go: `local` (no `spec.clusterRef`: the management cluster), `ready` (the target,
 * its `status.cluster` value and the kubeconfig text) or `blocked` (a condition reason and message, e.g. waiting for
 * the kubeconfig Secret, and the status to report).
 */
export type ClusterResolution =
  | { state: 'local' }
  | { state: 'ready'; target: ClusterTarget; status: ClusterStatusValue; kubeconfig: string }
  | { state: 'blocked'; reason: string; message: string; status: ClusterStatusValue };

/** The parts of a kubeconfig the controllers use, from its current context. */
export interface KubeconfigSummary {
  server: string;
  caData?: string;
  insecure?: boolean;
  serverName?: string;
  certData?: string;
  keyData?: string;
  token?: string;
  /** What the user entry uses that needs files or programs outside the kubeconfig (exec, auth-provider, file paths). */
  external: string[];
}

interface NamedEntry<T> {
  name?: string;
  cluster?: T;
  user?: T;
  context?: T;
}

/**
 * Reads a kubeconfig's current context (the first context when none is current). Throws an Error naming what
 * is missing (never a value) when there is no context, cluster or server.
 */
export function summarizeKubeconfig(text: string): KubeconfigSummary {
  let doc: unknown;
  try {
    doc = parseYAML(text);
  } catch {
    throw new Error('the kubeconfig is not valid YAML');
  }
  const cfg = (doc ?? {}) as { 'current-context'?: string; contexts?: NamedEntry<{ cluster?: string; user?: string }>[]; clusters?: NamedEntry<Record<string, unknown>>[]; users?: NamedEntry<Record<string, unknown>>[] };
  const contexts = Array.isArray(cfg.contexts) ? cfg.contexts : [];
  const ctx = contexts.find((c) => c?.name === cfg['current-context']) ?? contexts[0];
  if (!ctx?.context) throw new Error('the kubeconfig has no context');
  const cluster = (Array.isArray(cfg.clusters) ? cfg.clusters : []).find((c) => c?.name === ctx.context!.cluster)?.cluster;
  if (!cluster || typeof cluster.server !== 'string' || !cluster.server) throw new Error(`the kubeconfig's context has no cluster with a server`);
  const user = (Array.isArray(cfg.users) ? cfg.users : []).find((u) => u?.name === ctx.context!.user)?.user ?? {};
  const str = (o: Record<string, unknown>, k: string) => (typeof o[k] === 'string' && o[k] ? (o[k] as string) : undefined);
  const external = ['exec', 'auth-provider', 'client-certificate', 'client-key', 'tokenFile'].filter((k) => user[k] !== undefined);
  if (cluster['certificate-authority'] !== undefined) external.push('certificate-authority');
  const out: KubeconfigSummary = { server: cluster.server, external };
  const set = <K extends keyof KubeconfigSummary>(k: K, v: KubeconfigSummary[K] | undefined) => {
    if (v !== undefined) out[k] = v;
  };
  set('caData', str(cluster, 'certificate-authority-data'));
  if (cluster['insecure-skip-tls-verify'] === true) out.insecure = true;
  set('serverName', str(cluster, 'tls-server-name'));
  set('certData', str(user, 'client-certificate-data'));
  set('keyData', str(user, 'client-key-data'));
  set('token', str(user, 'token'));
  return out;
}

/**
 * The `config` of an Argo CD cluster Secret (Argo CD "declarative setup", clusters: `bearerToken`,
 * `tlsClientConfig{caData,certData,keyData,insecure,serverName}`, base64 PEM as in a kubeconfig's `*-data`).
 * Throws when the kubeconfig authenticates through something Argo CD cannot read from the Secret.
 */
export function argoClusterConfig(k: KubeconfigSummary): string {
  if (k.external.length) throw new Error(`the kubeconfig uses ${k.external.join(', ')}: Argo CD needs embedded credentials (client-certificate-data and client-key-data, or token)`);
  if (!k.token && !(k.certData && k.keyData)) throw new Error('the kubeconfig has no embedded credentials (client-certificate-data and client-key-data, or token)');
  const tls: Record<string, unknown> = { insecure: k.insecure ?? false };
  if (k.caData) tls.caData = k.caData;
  if (k.certData) tls.certData = k.certData;
  if (k.keyData) tls.keyData = k.keyData;
  if (k.serverName) tls.serverName = k.serverName;
  return JSON.stringify({ ...(k.token ? { bearerToken: k.token } : {}), tlsClientConfig: tls });
}

function controlPlaneReady(cluster: KubeObject): boolean {
  const st = (cluster.status ?? {}) as { controlPlaneReady?: boolean; initialization?: { controlPlaneInitialized?: boolean } };
  return st.controlPlaneReady === true || st.initialization?.controlPlaneInitialized === true;
}

/**
 * Resolves a cluster reference against the request's related objects (asked for by clusterRules). Unknown is
 * not absent: a Secret or Cluster not observed is `blocked` (the caller keeps its children and waits), never
 * the management cluster. The kubeconfig text is returned for the callers that convert it (Argo CD).
 */
export function resolveCluster(req: Pick<SyncRequest, 'parent' | 'related'>, ref: ClusterRef | undefined): ClusterResolution {
  if (!ref) return { state: 'local' };
  const namespace = req.parent.metadata.namespace ?? 'default';
  const { secret, key } = kubeconfigSecretOf(ref);
  const status: ClusterStatusValue = { kind: ref.kind, name: ref.name, secretName: secret, key, registeredName: registeredName(ref, namespace), reachable: false };
  const what = ref.kind === 'Cluster' ? `Cluster API Cluster ${ref.name}` : ref.kind === 'VCluster' ? `vCluster ${ref.name}` : `kubeconfig Secret ${ref.name}`;
  if (ref.kind === 'Cluster') {
    const cluster = relatedObject(req as SyncRequest, CAPI_CLUSTER.kind, CAPI_CLUSTER.apiVersion, namespace, ref.name);
    if (!cluster) return { state: 'blocked', reason: CLUSTER_REASONS.clusterNotFound, message: `waiting for ${what} in namespace ${namespace}`, status };
    if (!controlPlaneReady(cluster)) return { state: 'blocked', reason: CLUSTER_REASONS.clusterNotReady, message: `${what}: control plane not ready yet`, status };
  }
  const s = relatedObject(req as SyncRequest, 'Secret', 'v1', namespace, secret);
  if (!s) return { state: 'blocked', reason: CLUSTER_REASONS.secretNotFound, message: `${what}: waiting for its kubeconfig Secret ${secret} in namespace ${namespace}`, status };
  const text = decodeSecretData(s)[key];
  if (!text) return { state: 'blocked', reason: CLUSTER_REASONS.keyNotFound, message: `${what}: Secret ${secret} has no key ${key}`, status };
  let summary: KubeconfigSummary;
  try {
    summary = summarizeKubeconfig(text);
  } catch (e) {
    return { state: 'blocked', reason: CLUSTER_REASONS.invalid, message: `${what}: Secret ${secret} key ${key}: ${(e as Error).message}`, status };
  }
  // Fail closed, here rather than in a Job: the Job programs refuse to run a command a Secret names, the install
  // image has no cloud plugins, and Argo CD and Flux read only embedded credentials from a Secret.
  if (summary.external.length) {
    return { state: 'blocked', reason: CLUSTER_REASONS.invalid, message: `${what}: Secret ${secret} key ${key}: the kubeconfig uses ${summary.external.join(', ')}; embed the credentials (client-certificate-data and client-key-data, or token)`, status };
  }
  const ready: ClusterStatusValue = { ...status, server: summary.server, reachable: true };
  return { state: 'ready', target: { secret, key, registeredName: status.registeredName }, status: ready, kubeconfig: text };
}

/** Workload kinds a provider observes in its install namespace (health, load balancer address). */
const WORKLOAD_RESOURCES = new Set(['deployments', 'statefulsets', 'daemonsets', 'services']);

/**
 * A provider's customize made target-aware: with `spec.clusterRef` set, the rules for the cluster's kubeconfig
 * Secret (and Cluster) are added, and the rules for workloads (Deployments, StatefulSets, DaemonSets, Services)
 * are dropped: Metacontroller watches the management cluster only, so those objects would describe another
 * cluster than the one installed into (the install Job's `helm --wait` is the readiness signal there).
 */
export function withClusterRules<R extends { parent: KubeObject }>(customize: (req: R) => { relatedResources?: RelatedResourceRule[] }) {
  return (req: R): { relatedResources: RelatedResourceRule[] } => {
    const rules = customize(req).relatedResources ?? [];
    const ref = clusterRefOf(req.parent);
    if (!ref) return { relatedResources: rules };
    return { relatedResources: [...rules.filter((r) => !(r.apiVersion.startsWith('apps/') || r.apiVersion === 'v1') || !WORKLOAD_RESOURCES.has(r.resource)), ...clusterRules(ref, req.parent)] };
  };
}

/** Label that makes a Secret an Argo CD cluster (Argo CD declarative setup). */
const ARGO_CLUSTER_LABEL = 'argocd.argoproj.io/secret-type';

/** What an ArgoCDProvider adds to its install to register `spec.clusters` (see argoRegistrations). */
export interface ArgoRegistrations {
  /** Child Secrets `<provider>-cluster-<hash>` holding the converted `config` (credentials). */
  children: KubeObject[];
  /** Release Secrets written by the install Job into Argo CD's namespace: the Argo CD cluster Secrets. */
  secrets: ReleaseSecret[];
  /** secretDigests of the child Secrets (a changed kubeconfig makes a new install Job). */
  digests: Record<string, string>;
  /** status.clusters of the provider. */
  statuses: ClusterStatusValue[];
  /** A `ClustersRegistered` condition when spec.clusters is set. */
  condition?: ConditionInput;
}

/**
 * The Argo CD cluster Secrets of `refs` (an ArgoCDProvider's `spec.clusters`). Each resolved cluster gets a child
 * Secret with the `config` converted from its kubeconfig (argoClusterConfig) and a ReleaseSecret that the install
 * Job writes into Argo CD's namespace: label `argocd.argoproj.io/secret-type: cluster`, keys `name` (the
 * registered name), `server`, `config`. A cluster that cannot be resolved now keeps the registration an
 * observed child says it had (unknown is not absent), else is left out and named in `ClustersRegistered=False`.
 */
export function argoRegistrations(req: SyncRequest, refs: ClusterRef[] | undefined, labels: Record<string, string>): ArgoRegistrations {
  const out: ArgoRegistrations = { children: [], secrets: [], digests: {}, statuses: [] };
  if (!refs?.length) return out;
  const parent = req.parent;
  const namespace = parent.metadata.namespace ?? 'default';
  const problems: string[] = [];
  let reason = 'Registered';
  for (const ref of refs) {
    const reg = registeredName(ref, namespace);
    const childSecret = hashedName([parent.metadata.name, 'cluster'], reg);
    const resolved = resolveCluster(req, ref);
    let config: string | undefined;
    let server: string | undefined;
    if (resolved.state === 'ready') {
      try {
        const summary = summarizeKubeconfig(resolved.kubeconfig);
        config = argoClusterConfig(summary);
        server = summary.server;
      } catch (e) {
        problems.push(`${reg}: ${(e as Error).message}`);
        reason = CLUSTER_REASONS.invalid;
      }
      out.statuses.push(resolved.status);
    } else if (resolved.state === 'blocked') {
      problems.push(`${reg}: ${resolved.message}`);
      reason = resolved.reason;
      out.statuses.push(resolved.status);
    }
    if (config === undefined) {
      // Unknown is not absent: keep what the observed child registered.
      const seen = observedChild(req, 'Secret', 'v1', childSecret);
      const data = decodeSecretData(seen);
      const annotations = seen?.metadata.annotations ?? {};
      if (!data.config || !annotations[ANNOTATION_SERVER]) continue;
      config = data.config;
      server = annotations[ANNOTATION_SERVER];
    }
    const data = { config };
    const child = secretObject(childSecret, namespace, { ...labels }, data);
    child.metadata.annotations = { [ANNOTATION_SERVER]: server! };
    out.children.push(child);
    out.digests[childSecret] = shortHash(data, 16);
    out.secrets.push({
      name: childName(['cluster', reg]),
      from: childSecret,
      keys: ['config'],
      literals: { name: reg, server: server! },
      labels: { [ARGO_CLUSTER_LABEL]: 'cluster' },
    });
  }
  out.condition = problems.length
    ? { type: 'ClustersRegistered', status: 'False', reason, message: problems.join('; ') }
    : { type: 'ClustersRegistered', status: 'True', reason: 'Registered', message: `${refs.length} cluster(s) registered with Argo CD` };
  return out;
}

/** Annotation on a registration child Secret: the API server URL it was made for (not secret). */
const ANNOTATION_SERVER = 'idpbuilder.cnoe.io/cluster-server';

/**
 * The tunnel a Job of the management cluster needs to reach `endpoint` on the cluster whose kubeconfig is
 * `kubeconfig` (a Secret key in the management cluster), or undefined when `endpoint` is not a Service's
 * cluster DNS name and is reached directly.
 *
 * A Service name is `http(s)://SERVICE.NAMESPACE.svc[.cluster.local][:PORT][/path]` (Kubernetes DNS for
 * Services: `<service>.<namespace>.svc.<cluster-domain>`); the port defaults to 80 for http and 443 for https.
 */
export function serviceTunnel(endpoint: string, kubeconfig: { namespace: string; name: string; key: string }): ServiceTunnel | undefined {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    return undefined;
  }
  const m = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?)\.([a-z0-9]([-a-z0-9]*[a-z0-9])?)\.svc(\.cluster\.local)?\.?$/.exec(url.hostname);
  if (!m || (url.protocol !== 'http:' && url.protocol !== 'https:')) return undefined;
  const port = url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
  return { kubeconfigSecretRef: { ...kubeconfig }, namespace: m[3], service: m[1], port };
}

/**
 * Where a referenced provider runs, read from its duck `status.cluster`: `local` (absent or null: beside the
 * controllers), `target` (the kubeconfig Secret `secretName` and `key`, in the provider's own namespace), or
 * `incomplete` (an object without a non-empty string `secretName` and `key`: on a target, but not how to reach
 * it; `message` says what is missing). A caller waits on `incomplete`: the server is not beside the controllers,
 * so its cluster-local name must not be dialled from here. (A value that is not an object is refused earlier, as
 * the duck shape: ./refs.ts.)
 */
export type DuckCluster = { state: 'local' } | { state: 'target'; secretName: string; key: string } | { state: 'incomplete'; message: string };

/** Reads a provider's duck `status.cluster` (see {@link DuckCluster}). */
export function duckClusterOf(status: unknown): DuckCluster {
  const c = (status as { cluster?: unknown } | undefined)?.cluster;
  if (c === undefined || c === null) return { state: 'local' };
  const o = (typeof c === 'object' && !Array.isArray(c) ? c : {}) as { secretName?: unknown; key?: unknown };
  const missing = (['secretName', 'key'] as const).filter((k) => typeof o[k] !== 'string' || !o[k]);
  if (missing.length) return { state: 'incomplete', message: `status.cluster names no ${missing.join(' nor ')} of the target's kubeconfig Secret` };
  return { state: 'target', secretName: o.secretName as string, key: o.key as string };
}
