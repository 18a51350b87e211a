/**
 * GitRepository: a repository on any git provider, found through gitServerRef and read only through the
 * git provider duck status (endpoint, internalEndpoint, credentialsSecretRef). A sync Job (our image,
 * `idpbuilder job repo-sync`) creates the repository and pushes the merged content of the sources; it
 * writes its result (commit, time, URLs) onto its own Job, which this hook reads back.
 */
import type { GitRepositorySpec, GitRepositoryStatus } from '../api/gitrepository.js';
import type { RepoSyncConfigInput } from '../api/jobs.js';
import { COMMIT_AUTHOR, JOB_CONFIG_KEY, JOB_CONFIG_PATH, RESULT_ANNOTATION } from '../api/names.js';
import type { CustomizeRequest, CustomizeResponse, KubeObject, SyncRequest, SyncResponse } from '../metacontroller/protocol.js';
import type { HookEnv, Hooks } from '../kit/hooks.js';
import { conditionSet, markBlocked, markFailed, markProgressing, markReady, readParent, writeStatus, type Marks, type ParentView } from '../kit/status.js';
import { durationSeconds } from '../kit/duration.js';
import { configMapObject, jobObject, jobState, type JobState } from '../kit/jobs.js';
import { ownerLabels } from '../kit/labels.js';
import { hashedNameOfCanonical } from '../kit/names.js';
import { canonicalJSON } from '../kit/canonical.js';
import { observedChild, relatedObjects } from '../kit/observed.js';
import { jobPodsRule } from '../kit/provider.js';
import { readiness, refRules, resolveRef } from '../kit/refs.js';
import { contract } from '../kit/contract.js';
import { credentialKeys, duckRepositoryCredentials, relatedSecretData, repositoryCredentialsName, repositoryCredentialsRule, repositoryCredentialsSecret } from '../kit/repocreds.js';
import { duckClusterOf, serviceTunnel, type DuckCluster } from '../kit/cluster.js';

/** Directory in the Job image where the embedded package content is (sources of type Embedded are read below it). */
export const EMBEDDED_ROOT = '/opt/idpbuilder/embedded';
export { RESULT_ANNOTATION };
const ROLE = 'repo-sync';

/**
 * The git API a server speaks: its duck `status.gitAPI` when it reports one (a provider of another kind or
 * API group says so), else from our kinds; 'auto' when neither tells (the repository is not written).
 */
export function flavorOf(kind: string, gitAPI?: unknown): 'gitea' | 'github' | 'gitlab' | 'auto' {
  if (gitAPI === 'gitea' || gitAPI === 'github' || gitAPI === 'gitlab') return gitAPI;
  return kind === 'GiteaProvider' ? 'gitea' : kind === 'GitHubProvider' ? 'github' : kind === 'GitLabProvider' ? 'gitlab' : 'auto';
}

interface ServerDuck {
  endpoint?: string;
  internalEndpoint?: string;
  credentialsSecretRef?: { name: string; namespace: string; key: string };
  organization?: string;
  group?: string;
  gitAPI?: string;
  /** Set when the server runs on a target cluster (duck `status.cluster`, docs/multi-cluster.md). */
  cluster?: unknown;
}

function trimSlash(s: string): string {
  return s.replace(/\/+$/, '');
}

/** Web and clone URLs before the first sync reports the real ones. */
export function repoURLs(server: ServerDuck, org: string, repo: string): { url: string; cloneURL: string } {
  const endpoint = trimSlash(server.endpoint ?? '');
  const base = endpoint.endsWith(`/${org}`) ? endpoint : `${endpoint}/${org}`;
  const url = `${base}/${repo}.git`;
  const internal = trimSlash(server.internalEndpoint ?? '');
  // An in-cluster server (its internal endpoint is not an API path) is cloned through the cluster-local URL.
  const apiPath = (() => {
    try {
      return /\/api(\/|$)/.test(new URL(internal).pathname);
    } catch {
      return true; // not a URL: do not build clone URLs from it
    }
  })();
  // A server on a target cluster is cloned through the URL it publishes: its cluster-local name resolves only
  // inside that cluster, and the GitOps engines reading this repository may run elsewhere (the controllers' cluster).
  const onTarget = duckClusterOf(server).state !== 'local';
  const cloneURL = internal && !apiPath && !onTarget && !/^https:\/\/api\./.test(internal) ? `${internal}/${org}/${repo}.git` : url;
  return { url, cloneURL };
}

function customize(req: CustomizeRequest): CustomizeResponse {
  const spec = req.parent.spec as GitRepositorySpec;
  const serverNs = spec.gitServerRef.namespace ?? req.parent.metadata.namespace ?? 'default';
  // the server's repository credentials Secret, copied for GitOps engines (src/kit/repocreds.ts)
  return { relatedResources: [jobPodsRule(req.parent), ...refRules([spec.gitServerRef], req.parent), repositoryCredentialsRule(serverNs)] };
}

interface Result {
  commitSHA?: string;
  syncedAt?: string;
  url?: string;
  cloneURL?: string;
}

function readResult(annotations: Record<string, string> | undefined): Result {
  try {
    return JSON.parse(annotations?.[RESULT_ANNOTATION] ?? '{}') as Result;
  } catch {
    return {};
  }
}

/** The conditions of a GitRepository: the standard three (src/kit/status.ts). */
export const GITREPOSITORY_CONDITIONS = conditionSet('GitRepository');

type View = ParentView<GitRepositorySpec, GitRepositoryStatus>;

/** A transition of the status and the fields it sets (beside those carried from the observed status). */
interface Decision {
  phase: string;
  marks: Marks;
  fields?: Record<string, unknown>;
}

/** The git server as observed, complete enough to sync with. */
interface Server {
  object: KubeObject;
  duck: ServerDuck;
  cred: { name: string; namespace: string; key: string };
  internalEndpoint: string;
  /** Where it runs (its duck `status.cluster`, read once); never `incomplete` here (that waits). */
  cluster: Exclude<DuckCluster, { state: 'incomplete' }>;
  /** `Kind namespace/name`, for messages. */
  label: string;
}

/**
 * observe: the git server gitServerRef names, ready, with a complete duck status; or why the sync cannot go
 * on. A refused reference is an error only a change clears (Degraded=True); a server not found, not ready or
 * not complete yet is a wait (Degraded=False).
 */
function observeServer(req: SyncRequest, view: View): { server: Server } | { blocked: Decision } {
  const ref = view.spec.gitServerRef;
  const label = `${ref.kind} ${ref.namespace ?? view.namespace}/${ref.name}`;
  const { object, refusal } = resolveRef(req, ref);
  if (!object) return { blocked: { phase: 'Pending', marks: refusal ? markFailed(refusal.reason, refusal.message) : markBlocked('ProviderNotFound', `git server ${label} not found`) } };
  const r = readiness(object);
  if (!r.ready) return { blocked: { phase: 'Pending', marks: markBlocked('WaitingForGitServer', `waiting for git server ${label}: ${r.message}`) } };
  const duck = (object.status ?? {}) as ServerDuck;
  // The duck contract's credentialsSecretRef has name, namespace and key: a half-written one waits (a
  // guessed default would start a sync Job with other credentials, under another name).
  const cred = duck.credentialsSecretRef;
  if (!cred?.name || !cred.namespace || !cred.key || !duck.internalEndpoint) {
    return { blocked: { phase: 'Pending', marks: markBlocked('GitServerIncomplete', `git server ${label} reports no internalEndpoint or no complete credentialsSecretRef (name, namespace, key)`) } };
  }
  // On a target cluster but not (yet) saying through which kubeconfig: its cluster-local name must not be dialled
  // from the management cluster, where it may be another server.
  const cluster = duckClusterOf(object.status);
  if (cluster.state === 'incomplete') return { blocked: { phase: 'Pending', marks: markBlocked('GitServerIncomplete', `git server ${label}: ${cluster.message}`) } };
  return { server: { object, duck, cred, internalEndpoint: duck.internalEndpoint, cluster, label } };
}

/**
 * desired: what GitOps engines read this repository with, a copy of the server's repository credentials
 * (username, password, ca.crt) as `<name>-gitrepository-credentials`; while the server's Secret is not
 * observed the observed copy is kept (not answered: the contract returns it). `named`: the copy is named in
 * status while the server publishes credentials (the copy is answered, or kept as observed); a server that
 * stops naming them while the copy exists is taken as not observed yet, so the copy stays named.
 */
function credentialsCopy(req: SyncRequest, view: View, server: KubeObject): { children: KubeObject[]; named: boolean } {
  const name = repositoryCredentialsName(view.name, 'GitRepository');
  const children: KubeObject[] = [];
  const credsRef = duckRepositoryCredentials(server);
  const credsData = credsRef && credsRef.namespace === (server.metadata.namespace ?? view.namespace) ? relatedSecretData(req, credsRef.namespace, credsRef.name) : undefined;
  if (credsData && credentialKeys(credsData).password) children.push(repositoryCredentialsSecret(name, view.namespace, ownerLabels(view.parent), credentialKeys(credsData)));
  return { children, named: !!credsRef || !!observedChild(req, 'Secret', 'v1', name) };
}

/** observe: the organization and git API of the repository on this server; or why the sync cannot go on. */
function observeTarget(view: View, server: Server): { org: string; flavor: 'gitea' | 'github' | 'gitlab' } | { blocked: Decision } {
  const ref = view.spec.gitServerRef;
  // Never a default in place of what the server did not say (yet): a half-written duck status waits.
  const org = view.spec.organization ?? server.duck.organization ?? server.duck.group;
  if (!org) return { blocked: { phase: 'Pending', marks: markBlocked('GitServerIncomplete', `git server ${server.label} reports no organization (or group) and the repository names none`) } };
  const flavor = flavorOf(ref.kind, server.duck.gitAPI);
  if (flavor === 'auto') {
    // an error only a change clears (another kind of server, or one that reports its API)
    const message = `git server ${server.label}: no git API is known for kind ${ref.kind} (GiteaProvider, GitHubProvider and GitLabProvider are; another kind reports status.gitAPI: gitea, github or gitlab)`;
    return { blocked: { phase: 'Pending', marks: markFailed('UnsupportedGitServer', message) } };
  }
  return { org, flavor };
}

/** desired: the sync Job of this round and its ConfigMap; the round's end is the resync (autoSync). */
function syncJob(view: View, env: HookEnv, server: Server, org: string, flavor: 'gitea' | 'github' | 'gitlab'): { configMap: KubeObject; job: KubeObject; resync?: number } {
  const { spec, namespace: ns, parent } = view;
  const repo = spec.name ?? view.name;
  // What the server asks of new repositories (its spec, not its status: these are the server's settings).
  const serverSpec = (server.object.spec ?? {}) as {
    repositoryDefaults?: RepoSyncConfigInput['repositoryDefaults'];
    teams?: RepoSyncConfigInput['teams'];
    caSecretRef?: { name: string; namespace?: string; key?: string };
  };
  const serverNs = server.object.metadata.namespace ?? ns;
  // a server on a target cluster: its Service is reached through the target's API server
  const c = server.cluster;
  const tunnel = c.state === 'target' ? serviceTunnel(server.internalEndpoint, { namespace: serverNs, name: c.secretName, key: c.key }) : undefined;
  const config: RepoSyncConfigInput = {
    flavor,
    apiEndpoint: server.internalEndpoint,
    ...(tunnel ? { tunnel } : {}),
    credentialsSecretRef: server.cred,
    organization: org,
    repository: {
      name: repo,
      description: spec.description ?? '',
      ...(spec.private !== undefined ? { private: spec.private } : {}),
      ...(spec.autoInit !== undefined ? { autoInit: spec.autoInit } : {}),
      defaultBranch: spec.defaultBranch ?? serverSpec.repositoryDefaults?.defaultBranch ?? 'main',
    },
    ...(serverSpec.repositoryDefaults ? { repositoryDefaults: serverSpec.repositoryDefaults } : {}),
    ...(flavor === 'github' && serverSpec.teams?.length ? { teams: serverSpec.teams } : {}),
    ...(flavor === 'gitlab' && serverSpec.caSecretRef ? { caSecretRef: { ...serverSpec.caSecretRef, namespace: serverNs } } : {}),
    // the CRD's rules require each source type's own fields; the Job checks them again
    sources: (spec.sources ?? []) as RepoSyncConfigInput['sources'],
    embeddedRoot: EMBEDDED_ROOT,
    commitAuthor: COMMIT_AUTHOR,
    // The sync deletes only paths this GitRepository wrote (.idpbuilder/owners/<namespace>/<name>.paths).
    writer: `${ns}/${parent.metadata.name}`,
  };
  const autoSync = spec.sync?.autoSync ?? true;
  const interval = durationSeconds(spec.sync?.interval, 300);
  const nowSeconds = Math.floor(env.now().getTime() / 1000);
  const round = autoSync ? Math.floor(nowSeconds / interval) : 0;
  // The config (every source, inline files included) is serialized once for both names:
  // hashedName(…, config) and hashedName(…, { config, round }), whose canonical form is composed here.
  const configJSON = canonicalJSON(config);
  const cmName = hashedNameOfCanonical([parent.metadata.name, 'sync'], configJSON);
  const jobName = hashedNameOfCanonical([parent.metadata.name, 'sync'], `{"config":${configJSON},"round":${canonicalJSON(round)}}`);
  const labels = ownerLabels(parent, ROLE);
  const configMap = configMapObject(cmName, ns, labels, { [JOB_CONFIG_KEY]: JSON.stringify({ ...config }, null, 2) });
  const job = jobObject(
    {
      name: jobName,
      namespace: ns,
      labels,
      ownerUid: parent.metadata.uid,
      command: ['idpbuilder', 'job', 'repo-sync', '--config', JOB_CONFIG_PATH],
      configMap: cmName,
      backoffLimit: 3,
      activeDeadlineSeconds: 900,
    },
    env,
  );
  return { configMap, job, ...(autoSync ? { resync: (round + 1) * interval - nowSeconds } : {}) };
}

/**
 * decide: the status from the sync Job's state. Succeeded: Ready (the result's URLs, commit and time);
 * Failed: SyncFailed (Degraded=True); running or not yet created: Syncing, and a periodic re-sync of an
 * unchanged spec keeps the repository Ready. `carried`: the URL fields of the observed status.
 */
function decideSync(view: View, state: JobState, urls: { url: string; cloneURL: string }, name: string, carried: Record<string, unknown>): Decision {
  const fields: Record<string, unknown> = { url: carried.url ?? urls.url, cloneURL: carried.cloneURL ?? urls.cloneURL };
  if (state.phase === 'Succeeded') {
    const result = readResult(state.annotations);
    fields.url = result.url ?? urls.url;
    // An in-cluster server is cloned through its cluster-local URL (what the server itself reports is its
    // external ROOT_URL); an external server through the URL it reports.
    fields.cloneURL = urls.cloneURL !== urls.url ? urls.cloneURL : (result.cloneURL ?? urls.cloneURL);
    if (result.commitSHA) fields.commitSHA = result.commitSHA;
    const at = result.syncedAt ?? state.completionTime;
    if (at) fields.lastSyncTime = at;
    return { phase: 'Ready', marks: markReady('Synced', `repository ${name} synced${result.commitSHA ? ` at ${result.commitSHA.slice(0, 12)}` : ''}`), fields };
  }
  if (state.phase === 'Failed') return { phase: 'Failed', marks: markFailed('SyncFailed', `sync job failed: ${state.message ?? 'unknown error'}`), fields };
  const prevReady = view.condition('Ready');
  const stillReady = prevReady?.status === 'True' && view.current;
  const message = `sync job ${state.phase === 'Absent' ? 'created' : 'running'}`;
  return { phase: stillReady ? 'Ready' : 'Syncing', marks: markProgressing('Syncing', message, stillReady ? { reason: 'Synced', message: prevReady?.message ?? message } : undefined), fields };
}

/**
 * sync: observe (the git server, the repository's organization and API) → decide (from the sync Job) →
 * desired (the sync Job and ConfigMap, the credentials copy). A sync that cannot go on answers no children:
 * the contract keeps every observed one (errors never delete).
 */
function sync(req: SyncRequest, env: HookEnv): SyncResponse {
  const view = readParent<GitRepositorySpec, GitRepositoryStatus>(req);
  const prev = view.status;
  const carried: Record<string, unknown> = {};
  for (const k of ['url', 'cloneURL', 'lastSyncTime', 'commitSHA', 'repositoryCredentialsSecret'] as const) if (prev[k]) carried[k] = prev[k];
  const answer = (d: Decision, children: KubeObject[], resyncAfterSeconds?: number): SyncResponse => {
    const status = writeStatus(GITREPOSITORY_CONDITIONS, view.parent, env, d, { ...carried, ...d.fields });
    return resyncAfterSeconds ? { status, children, resyncAfterSeconds } : { status, children };
  };

  const found = observeServer(req, view);
  if ('blocked' in found) return answer(found.blocked, []);
  const copy = credentialsCopy(req, view, found.server.object);
  if (copy.named) carried.repositoryCredentialsSecret = repositoryCredentialsName(view.name, 'GitRepository');
  else delete carried.repositoryCredentialsSecret;
  const target = observeTarget(view, found.server);
  if ('blocked' in target) return answer(target.blocked, []);

  const repo = view.spec.name ?? view.name;
  const want = syncJob(view, env, found.server, target.org, target.flavor);
  const state = jobState(observedChild(req, 'Job', 'batch/v1', want.job.metadata.name), relatedObjects(req, 'Pod', 'v1'));
  const decision = decideSync(view, state, repoURLs(found.server.duck, target.org, repo), `${target.org}/${repo}`, carried);
  return answer(decision, [want.configMap, want.job, ...copy.children], want.resync);
}

/**
 * The GitRepository hooks, wrapped by the controller contract: customize (the git provider and the Secrets it names)
 * and sync (a repo-sync Job whenever the sources or the provider change; its result annotation becomes the status).
 */
export const gitRepositoryHooks: Hooks = contract({
  customize: (req) => customize(req),
  sync: (req, env) => sync(req, env),
});
