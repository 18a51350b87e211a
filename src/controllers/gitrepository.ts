/**
 * GitRepository: a repository on any git provider, found through gitServerRef and read only through the
 * git provider duck status (endpoint, internalEndpoint, credentialsSecretRef). A sync Job (our image,
 * `idpbuilder job repo-sync`) creates the repository and pushes the merged content of the sources; it
 * writes its result (commit, time, URLs) onto its own Job, which this hook reads back.
 */
import type { GitRepositorySpec, GitRepositoryStatus } from '../api/gitrepository.js';
import type { Condition } from '../api/common.js';
import type { RepoSyncConfigInput } from '../api/jobs.js';
import { COMMIT_AUTHOR, JOB_CONFIG_KEY, JOB_CONFIG_PATH, RESULT_ANNOTATION } from '../api/names.js';
import type { CustomizeRequest, CustomizeResponse, KubeObject, SyncRequest, SyncResponse } from '../metacontroller/protocol.js';
import type { HookEnv, Hooks } from '../kit/hooks.js';
import { conditions, type ConditionInput } from '../kit/conditions.js';
import { durationSeconds } from '../kit/duration.js';
import { configMapObject, jobObject, jobState } from '../kit/jobs.js';
import { ownerLabels } from '../kit/labels.js';
import { hashedNameOfCanonical } from '../kit/names.js';
import { canonicalJSON } from '../kit/canonical.js';
import { observedChild, relatedObjects } from '../kit/observed.js';
import { jobPodsRule } from '../kit/provider.js';
import { readiness, refRules, resolveRef } from '../kit/refs.js';
import { contract } from '../kit/contract.js';
import { credentialKeys, duckRepositoryCredentials, relatedSecretData, repositoryCredentialsName, repositoryCredentialsRule, repositoryCredentialsSecret } from '../kit/repocreds.js';
import { providerTunnel } from '../kit/cluster.js';

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
  cluster?: { secretName?: string; key?: string };
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
  const onTarget = typeof server.cluster?.secretName === 'string' && server.cluster.secretName !== '';
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

function sync(req: SyncRequest, env: HookEnv): SyncResponse {
  const parent = req.parent;
  const spec = parent.spec as GitRepositorySpec;
  const ns = parent.metadata.namespace ?? 'default';
  const prev = (parent.status ?? {}) as GitRepositoryStatus;
  const gen = parent.metadata.generation;
  const carried: Record<string, unknown> = {};
  for (const k of ['url', 'cloneURL', 'lastSyncTime', 'commitSHA', 'repositoryCredentialsSecret'] as const) if (prev[k]) carried[k] = prev[k];
  const finish = (phase: string, conds: ConditionInput[], fields: Record<string, unknown>, children: KubeObject[], resyncAfterSeconds?: number): SyncResponse => {
    const status: Record<string, unknown> = {
      ...carried,
      ...fields,
      phase,
      conditions: conditions(prev.conditions as Condition[] | undefined, conds, env.now(), gen),
    };
    if (gen !== undefined) status.observedGeneration = gen;
    return resyncAfterSeconds ? { status, children, resyncAfterSeconds } : { status, children };
  };
  // A sync that cannot go on answers no children: the contract keeps every observed one (errors never delete).
  const notReady = (reason: string, message: string): ConditionInput[] => [
    { type: 'Ready', status: 'False', reason, message },
    { type: 'Progressing', status: 'False', reason, message },
  ];

  const ref = spec.gitServerRef;
  const label = `${ref.kind} ${ref.namespace ?? ns}/${ref.name}`;
  const { object: server, refusal } = resolveRef(req, ref);
  if (!server) return finish('Pending', notReady(refusal?.reason ?? 'ProviderNotFound', refusal?.message ?? `git server ${label} not found`), {}, []);
  const r = readiness(server);
  if (!r.ready) return finish('Pending', notReady('WaitingForGitServer', `waiting for git server ${label}: ${r.message}`), {}, []);
  const duck = (server.status ?? {}) as ServerDuck;
  // The duck contract's credentialsSecretRef has name, namespace and key: a half-written one waits (a
  // guessed default would start a sync Job with other credentials, under another name).
  const cred = duck.credentialsSecretRef;
  if (!cred?.name || !cred.namespace || !cred.key || !duck.internalEndpoint) {
    return finish('Pending', notReady('GitServerIncomplete', `git server ${label} reports no internalEndpoint or no complete credentialsSecretRef (name, namespace, key)`), {}, []);
  }

  // What GitOps engines read this repository with: a copy of the server's repository credentials (username,
  // password, ca.crt) as `<name>-gitrepository-credentials`; while the server's Secret is not observed the
  // observed copy is kept (not answered: the contract returns it).
  const creds: KubeObject[] = [];
  const credsRef = duckRepositoryCredentials(server);
  const credsData = credsRef && credsRef.namespace === (server.metadata.namespace ?? ns) ? relatedSecretData(req, credsRef.namespace, credsRef.name) : undefined;
  if (credsData && credentialKeys(credsData).password) {
    creds.push(repositoryCredentialsSecret(repositoryCredentialsName(parent.metadata.name, 'GitRepository'), ns, ownerLabels(parent), credentialKeys(credsData)));
  }
  // named in status while the server publishes credentials (the copy is answered, or kept as observed)
  // a server that stops naming them while the copy exists is taken as not observed yet: the copy stays named
  if (credsRef || observedChild(req, 'Secret', 'v1', repositoryCredentialsName(parent.metadata.name, 'GitRepository'))) {
    carried.repositoryCredentialsSecret = repositoryCredentialsName(parent.metadata.name, 'GitRepository');
  } else delete carried.repositoryCredentialsSecret;

  const repo = spec.name ?? parent.metadata.name;
  // Never a default in place of what the server did not say (yet): a half-written duck status waits.
  const org = spec.organization ?? duck.organization ?? duck.group;
  if (!org) return finish('Pending', notReady('GitServerIncomplete', `git server ${label} reports no organization (or group) and the repository names none`), {}, []);
  const urls = repoURLs(duck, org, repo);
  const flavor = flavorOf(ref.kind, duck.gitAPI);
  if (flavor === 'auto') {
    return finish('Pending', notReady('UnsupportedGitServer', `git server ${label}: no git API is known for kind ${ref.kind} (GiteaProvider, GitHubProvider and GitLabProvider are; another kind reports status.gitAPI: gitea, github or gitlab)`), {}, []);
  }
  // What the server asks of new repositories (its spec, not its status: these are the server's settings).
  const serverSpec = (server.spec ?? {}) as {
    repositoryDefaults?: RepoSyncConfigInput['repositoryDefaults'];
    teams?: RepoSyncConfigInput['teams'];
    caSecretRef?: { name: string; namespace?: string; key?: string };
  };
  const serverNs = server.metadata.namespace ?? ns;
  const tunnel = providerTunnel(duck, serverNs, duck.internalEndpoint);
  const config: RepoSyncConfigInput = {
    flavor,
    apiEndpoint: duck.internalEndpoint,
    // a server on a target cluster: its Service is reached through the target's API server
    ...(tunnel ? { tunnel } : {}),
    credentialsSecretRef: cred,
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
  const cm = configMapObject(cmName, ns, labels, { [JOB_CONFIG_KEY]: JSON.stringify({ ...config }, null, 2) });
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
  const resync = autoSync ? (round + 1) * interval - nowSeconds : undefined;
  const state = jobState(observedChild(req, 'Job', 'batch/v1', jobName), relatedObjects(req, 'Pod', 'v1'));
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
    const ok = `repository ${org}/${repo} synced${result.commitSHA ? ` at ${result.commitSHA.slice(0, 12)}` : ''}`;
    return finish('Ready', [
      { type: 'Ready', status: 'True', reason: 'Synced', message: ok },
      { type: 'Progressing', status: 'False', reason: 'Synced', message: ok },
    ], fields, [cm, job, ...creds], resync);
  }
  if (state.phase === 'Failed') {
    const message = `sync job failed: ${state.message ?? 'unknown error'}`;
    return finish('Failed', [
      { type: 'Ready', status: 'False', reason: 'SyncFailed', message },
      { type: 'Progressing', status: 'False', reason: 'SyncFailed', message },
    ], fields, [cm, job, ...creds], resync);
  }
  // Running or not yet created: a periodic re-sync of an unchanged spec keeps the repository Ready.
  const prevReady = (prev.conditions as Condition[] | undefined)?.find((c) => c.type === 'Ready');
  const stillReady = prevReady?.status === 'True' && prev.observedGeneration === gen;
  const message = `sync job ${state.phase === 'Absent' ? 'created' : 'running'}`;
  return finish(stillReady ? 'Ready' : 'Syncing', [
    stillReady ? { type: 'Ready', status: 'True', reason: 'Synced', message: prevReady?.message ?? message } : { type: 'Ready', status: 'False', reason: 'Syncing', message },
    { type: 'Progressing', status: 'True', reason: 'Syncing', message },
  ], fields, [cm, job, ...creds], resync);
}

/**
 * The GitRepository hooks, wrapped by the controller contract: customize (the git provider and the Secrets it names)
 * and sync (a repo-sync Job whenever the sources or the provider change; its result annotation becomes the status).
 */
export const gitRepositoryHooks: Hooks = contract({
  customize: (req) => customize(req),
  sync: (req, env) => sync(req, env),
});
