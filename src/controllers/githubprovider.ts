/**
 * GitHubProvider: a GitHub (or GitHub Enterprise Server) organization used as git provider. Nothing is
 * installed: a validation Job (`idpbuilder job github-validate`) checks the credentials (a token, or a
 * GitHub App whose installation token it mints into `<name>-github-token`), the organization and the rate
 * limit, ensures the teams, and writes its result onto its own Job; this hook reads it back into the
 * git provider duck status (endpoint, internalEndpoint, credentialsSecretRef) plus `organization`,
 * `authenticated` and `rateLimit`.
 *
 * The check runs again every `validationInterval` (default 10m; at most 30m with app auth, so the minted
 * one-hour token never runs out): a new Job per window `floor(now / interval)`, and `resyncAfterSeconds`
 * to the next window. It also runs at once when the spec or a Secret it reads changes (their
 * resourceVersions are part of the Job's name). The shared loop is exported for the GitLabProvider.
 */
import type { GitHubProviderSpec } from '../api/github.js';
import type { GitHubValidateConfigInput, GitLabValidateConfigInput } from '../api/jobs.js';
import { JOB_CONFIG_KEY, JOB_CONFIG_PATH, RESULT_ANNOTATION } from '../api/names.js';
import type { CustomizeRequest, CustomizeResponse, KubeObject, RelatedResourceRule, SyncRequest, SyncResponse } from '../metacontroller/protocol.js';
import type { HookEnv, Hooks } from '../kit/hooks.js';
import { durationSeconds } from '../kit/duration.js';
import { configMapObject, jobObject, jobState, type JobState } from '../kit/jobs.js';
import { LABEL_ROLE, ownerLabels } from '../kit/labels.js';
import { childName, hashedName } from '../kit/names.js';
import { asDesired, observedChild, observedChildren, relatedObject, relatedObjects } from '../kit/observed.js';
import { jobPodsRule } from '../kit/provider.js';
import { conditionSet, markBlocked, markFailed, markProgressing, markReady, markRetrying, readParent, writeStatus, type Marks, type ParentView } from '../kit/status.js';
import { contract } from '../kit/contract.js';
import { secretRefRefusal, type Refusal } from '../kit/refs.js';
import { relatedSecretData, repositoryCredentialsName, repositoryCredentialsSecret, secretValue } from '../kit/repocreds.js';

/** Value of the `idpbuilder.cnoe.io/role` label on the validation Jobs of GitHubProvider and GitLabProvider. */
export const ROLE_VALIDATE = 'validate';
/** Seconds between validation Jobs when `spec.validationInterval` is not set (10 minutes). */
export const DEFAULT_VALIDATION_INTERVAL = 600;
/** With app auth the installation token (valid 1 h) is re-minted by every check: keep the window shorter. */
export const MAX_APP_VALIDATION_INTERVAL = 1800;
/**
 * GitHub's REST API base when `spec.endpoint` is not set (github.com; GitHub Enterprise Server uses
 * `https://HOST/api/v3`).
 */
export const DEFAULT_GITHUB_API = 'https://api.github.com';

type Phase = 'Pending' | 'Installing' | 'Ready' | 'Failed' | 'Deleting';

/** A Secret key reference with every part resolved: namespace, name and key (defaults applied). */
export interface SecretRefFull {
  namespace: string;
  name: string;
  key: string;
}

/** What one kind of validated (not installed) git provider contributes to the shared loop. */
export interface ValidationPlan {
  /** `github-validate` / `gitlab-validate`. */
  command: string;
  /** The Job's config, without `result` (added here with the Job's own name). */
  config: Omit<GitHubValidateConfigInput, 'result'> | Omit<GitLabValidateConfigInput, 'result'>;
  intervalSeconds: number;
  /** Duck-typed and kind-specific fields that do not depend on the check. */
  fields: Record<string, unknown>;
  /** Status fields taken from a successful result. */
  fromResult(result: Record<string, unknown>): Record<string, unknown>;
  /** Status fields kept from the previous status while a re-check runs. */
  carried: string[];
  /** The reason for a NotFound failure (`OrganizationNotFound`, `GroupNotFound`). */
  notFoundReason: string;
  /** "organization acme", "group platform/team". */
  subject: string;
  /** Secrets the Job reads: their resourceVersions are hashed into the Job's name. */
  inputSecrets: SecretRefFull[];
  /** A spec problem the schema could not catch: no Job, Pending. */
  invalid?: string;
  /** A Secret reference into another namespace (SecretRefNotPermitted): no Job, Pending, the Secret never asked for. */
  refused?: Refusal;
  /**
   * What GitOps engines read repositories with (src/kit/repocreds.ts): the git user name the server takes with
   * the token, the token, and the CA bundle. Copied into the child `<name>-repository-credentials`.
   */
  repositoryCredentials?: { username: string; token: SecretRefFull; ca?: SecretRefFull };
}

interface ValidateResult {
  authenticated?: boolean;
  error?: { code?: string; message?: string };
  [k: string]: unknown;
}

function readResult(annotations: Record<string, string> | undefined): ValidateResult | undefined {
  const raw = annotations?.[RESULT_ANNOTATION];
  if (!raw) return undefined;
  try {
    const v = JSON.parse(raw) as unknown;
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as ValidateResult) : undefined;
  } catch {
    return undefined;
  }
}

/** The condition reason for a validate Job's error code. */
export function reasonFor(code: string | undefined, notFoundReason: string): string {
  switch (code) {
    case 'Unauthorized':
      return 'AuthenticationFailed';
    case 'Forbidden':
      return 'Forbidden';
    case 'NotFound':
      return notFoundReason;
    case 'RateLimited':
      return 'RateLimited';
    case 'SecretNotFound':
      return 'SecretNotFound';
    default:
      return 'ValidationFailed';
  }
}

/** customize: the Job's Pods (failure messages) and the Secrets the Job reads (a change re-runs the check). */
export function validationRelated(parent: KubeObject, secrets: Array<{ namespace: string; name: string }>): RelatedResourceRule[] {
  const byNs = new Map<string, Set<string>>();
  for (const s of secrets) byNs.set(s.namespace, (byNs.get(s.namespace) ?? new Set()).add(s.name));
  const rules: RelatedResourceRule[] = [jobPodsRule(parent) as RelatedResourceRule];
  for (const ns of [...byNs.keys()].sort()) rules.push({ apiVersion: 'v1', resource: 'secrets', namespace: ns, names: [...byNs.get(ns)!].sort() });
  return rules;
}

function secretVersions(req: SyncRequest, secrets: SecretRefFull[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const s of secrets) {
    const o = relatedObject(req, 'Secret', 'v1', s.namespace, s.name);
    out[`${s.namespace}/${s.name}`] = o ? String(o.metadata.resourceVersion ?? 'present') : 'absent';
  }
  return out;
}

/** Annotation on a validate Job: the resourceVersions (`namespace/name` → version) of the Secrets it was started with. */
export const ANNOTATION_SECRET_VERSIONS = 'idpbuilder.cnoe.io/secret-versions';

function recordedVersions(job: KubeObject): Record<string, string> | undefined {
  try {
    const v = JSON.parse(job.metadata.annotations?.[ANNOTATION_SECRET_VERSIONS] ?? '') as unknown;
    if (!v || typeof v !== 'object' || Array.isArray(v)) return undefined;
    return Object.values(v).every((x) => typeof x === 'string') ? (v as Record<string, string>) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The validate Job of this window: its name hashes the config, the window and the resourceVersions of the
 * Secrets it reads, so a changed Secret re-runs the check at once. A Secret the request does not show is
 * unknown, not absent (docs/decisions.md): when an observed validate Job agrees with every Secret the
 * request shows and recorded a version for the missing ones, that Job is kept (a lagging cache starts no
 * new check). Otherwise the missing Secret counts as `absent` (the Job then reports SecretNotFound).
 */
function validateJobIdentity(req: SyncRequest, plan: ValidationPlan, round: number): { name: string; versions: Record<string, string> } {
  const current = secretVersions(req, plan.inputSecrets);
  const nameFor = (secrets: Record<string, string>) => hashedName([req.parent.metadata.name, 'validate'], { config: plan.config, round, secrets });
  const missing = Object.keys(current).filter((k) => current[k] === 'absent');
  if (missing.length) {
    for (const j of observedChildren(req, 'Job', 'batch/v1')) {
      if (j.metadata.labels?.[LABEL_ROLE] !== ROLE_VALIDATE) continue;
      const recorded = recordedVersions(j);
      if (!recorded) continue;
      const merged = { ...current };
      for (const k of missing) if (recorded[k] !== undefined) merged[k] = recorded[k];
      if (nameFor(merged) === j.metadata.name) return { name: j.metadata.name, versions: merged };
    }
  }
  return { name: nameFor(current), versions: current };
}

/** The conditions of the validated git providers (GitHubProvider, GitLabProvider). */
export const VALIDATED_CONDITIONS = conditionSet('validated git provider');

/** What one sync of a validated provider wants: the children of this window's check and what it needs. */
interface ValidationWant {
  /** The plan, with `repositoryCredentialsSecretRef` in its fields while the copy is answered or observed. */
  plan: ValidationPlan;
  name: string;
  versions: Record<string, string>;
  children: KubeObject[];
  /** Seconds to the next window. */
  resync: number;
}

/**
 * desired: the validate Job of this window (./validateJobIdentity), its ConfigMap, and the repository
 * credentials child from the Secrets as observed; one not observed is not answered (the contract keeps the
 * observed child: unknown is not absent) and the duck field names it while it exists.
 */
function validationChildren(req: SyncRequest, env: HookEnv, given: ValidationPlan): ValidationWant {
  let plan = given;
  const parent = req.parent;
  const ns = parent.metadata.namespace ?? 'default';
  const interval = plan.intervalSeconds;
  const nowSeconds = Math.floor(env.now().getTime() / 1000);
  const round = Math.floor(nowSeconds / interval);
  const { name, versions } = validateJobIdentity(req, plan, round);
  const labels = ownerLabels(parent, ROLE_VALIDATE);
  const config = { ...plan.config, result: { jobNamespace: ns, jobName: name } };
  const cm = configMapObject(name, ns, labels, { [JOB_CONFIG_KEY]: JSON.stringify(config, null, 2) });
  const job = jobObject(
    {
      name,
      namespace: ns,
      labels,
      ownerUid: parent.metadata.uid,
      command: ['idpbuilder', 'job', plan.command, '--config', JOB_CONFIG_PATH],
      configMap: name,
      backoffLimit: 1,
      activeDeadlineSeconds: 300,
      annotations: { [ANNOTATION_SECRET_VERSIONS]: JSON.stringify(versions) },
    },
    env,
  );
  const children: KubeObject[] = [cm, job];
  const resync = (round + 1) * interval - nowSeconds;
  const rc = plan.repositoryCredentials;
  if (rc) {
    const credsName = repositoryCredentialsName(parent.metadata.name);
    const token = secretValue(relatedSecretData(req, rc.token.namespace, rc.token.name), rc.token.key);
    const ca = rc.ca ? secretValue(relatedSecretData(req, rc.ca.namespace, rc.ca.name), rc.ca.key) : undefined;
    if (token && (!rc.ca || ca)) children.push(repositoryCredentialsSecret(credsName, ns, ownerLabels(parent), { username: rc.username, password: token, ...(ca ? { 'ca.crt': ca } : {}) }));
    if (children.length > 2 || observedChild(req, 'Secret', 'v1', credsName)) plan = { ...plan, fields: { ...plan.fields, repositoryCredentialsSecretRef: { name: credsName, namespace: ns } } };
  }
  return { plan, name, versions, children, resync };
}

/** decide: the transition of a check's Job (observed state and recorded result), and the status fields it sets. */
interface ValidationDecision {
  phase: Phase;
  marks: Marks;
  fields: Record<string, unknown>;
}

function decideValidation(view: ParentView<unknown, ValidatedStatus>, plan: ValidationPlan, name: string, state: JobState, result: ValidateResult | undefined): ValidationDecision {
  if (state.phase === 'Succeeded') {
    // Only a recorded result says the check passed: a Job that ended without one proves nothing.
    if (!result || result.authenticated !== true) {
      const message = result?.error?.message || `validation job ${name} completed without a result (annotation ${RESULT_ANNOTATION})`;
      return { phase: 'Failed', marks: markFailed('ValidationFailed', message), fields: { authenticated: false } };
    }
    return { phase: 'Ready', marks: markReady('Authenticated', `credentials valid for ${plan.subject}`), fields: { authenticated: true, ...plan.fromResult(result) } };
  }
  if (state.phase === 'Failed') {
    const reason = result?.error ? reasonFor(result.error.code, plan.notFoundReason) : 'ValidationFailed';
    const message = result?.error?.message || `validation job failed: ${state.message ?? 'unknown error'}`;
    return { phase: 'Failed', marks: markFailed(reason, message), fields: { authenticated: false } };
  }
  // Absent or running: a re-check of an unchanged spec keeps what the last check found.
  const prev = view.status;
  const prevReady = view.condition('Ready');
  const carried: Record<string, unknown> = {};
  if (view.current) for (const k of plan.carried) if (prev[k] !== undefined) carried[k] = prev[k];
  const progress = `validation job ${state.phase === 'Absent' ? 'created' : 'running'}`;
  if (view.current && prev.phase === 'Ready' && prevReady?.status === 'True') {
    return { phase: 'Ready', marks: markProgressing('Validating', progress, { reason: prevReady.reason ?? 'Authenticated', message: prevReady.message ?? '' }), fields: carried };
  }
  if (view.current && prev.phase === 'Failed' && prevReady) {
    return { phase: 'Failed', marks: markRetrying({ reason: prevReady.reason ?? 'ValidationFailed', message: prevReady.message ?? '' }, 'Validating', progress), fields: carried };
  }
  return { phase: 'Installing', marks: markProgressing('Validating', progress), fields: {} };
}

type ValidatedStatus = Record<string, unknown> & { phase?: string };

/** The shared reconcile loop of the validated git providers (GitHubProvider, GitLabProvider): observe → decide → desired. */
export function syncValidated(req: SyncRequest, env: HookEnv, validationPlan: ValidationPlan): SyncResponse {
  const view = readParent<unknown, ValidatedStatus>(req);
  const answer = (plan: ValidationPlan, phase: Phase, marks: Marks, fields: Record<string, unknown>, children: KubeObject[], resyncAfterSeconds?: number): SyncResponse => {
    const status = writeStatus(VALIDATED_CONDITIONS, req.parent, env, { phase, marks }, { ...plan.fields, ...fields });
    return resyncAfterSeconds ? { status, children, resyncAfterSeconds } : { status, children };
  };

  if (validationPlan.refused || validationPlan.invalid) {
    const keep = [...observedChildren(req, 'ConfigMap', 'v1'), ...observedChildren(req, 'Job', 'batch/v1')].filter((o) => o.metadata.labels?.[LABEL_ROLE] === ROLE_VALIDATE).map(asDesired);
    const why = validationPlan.refused ?? { reason: 'InvalidSpec', message: validationPlan.invalid! };
    return answer(validationPlan, 'Pending', markBlocked(why.reason, why.message), {}, keep);
  }

  const want = validationChildren(req, env, validationPlan);
  const observedJob = observedChild(req, 'Job', 'batch/v1', want.name);
  // No validation Job before the Secrets it reads exist: a Secret that is neither in the request nor
  // recorded by an observed Job of this identity waits (the contract keeps the observed children).
  const absent = Object.keys(want.versions).filter((k) => want.versions[k] === 'absent');
  if (absent.length && !observedJob) {
    const message = `waiting for Secret ${absent.join(', ')}: the validation Job starts once it exists`;
    return answer(want.plan, 'Pending', markBlocked('SecretNotFound', message), {}, [], want.resync);
  }
  const state = jobState(observedJob, relatedObjects(req, 'Pod', 'v1'));
  const decision = decideValidation(view, want.plan, want.name, state, readResult(state.annotations));
  return answer(want.plan, decision.phase, decision.marks, decision.fields, want.children, want.resync);
}

/** finalize: nothing was installed and nothing on the git server is ever deleted, so done at once. */
export function finalizeValidated(req: SyncRequest, env: HookEnv, what: string): SyncResponse {
  const spec = (req.parent.spec ?? {}) as { deletionPolicy?: string };
  const prev = { ...((req.parent.status as Record<string, unknown>) ?? {}) };
  delete prev.conditions;
  delete prev.phase;
  const retain = spec.deletionPolicy === 'Retain';
  const reason = retain ? 'Retained' : 'NothingInstalled';
  const message = `nothing was installed; ${what} are left as they are`;
  const status = writeStatus(VALIDATED_CONDITIONS, req.parent, env, { phase: 'Deleting', marks: markProgressing(reason, message) }, prev);
  return { status, children: [], finalized: true };
}

// --- GitHub ------------------------------------------------------------------------------------------

function trimSlash(s: string): string {
  return s.replace(/\/+$/, '');
}

/** The web base of a GitHub API endpoint: api.github.com → github.com, GHES https://HOST/api/v3 → https://HOST. */
export function githubWebBase(apiEndpoint: string): string {
  const u = new URL(apiEndpoint);
  const path = trimSlash(u.pathname);
  if (path.endsWith('/api/v3')) return `${u.origin}${path.slice(0, -'/api/v3'.length)}`;
  if (u.hostname.startsWith('api.')) return `${u.protocol}//${u.host.slice(4)}${path}`;
  return `${u.origin}${path}`;
}

/**
 * Name of the child Secret that holds a GitHubProvider's minted installation token (GitHub App auth): `<parent
 * name>-github-token`, shortened with a hash when too long.
 */
export function githubTokenSecretName(parent: KubeObject): string {
  return childName([parent.metadata.name, 'github-token']);
}

function githubPlan(parent: KubeObject): ValidationPlan {
  const spec = (parent.spec ?? {}) as GitHubProviderSpec;
  const ns = parent.metadata.namespace ?? 'default';
  const endpoint = trimSlash(spec.endpoint ?? DEFAULT_GITHUB_API);
  const org = spec.organization;
  const authType = spec.authType ?? 'token';
  const fields: Record<string, unknown> = { organization: org };
  let invalid: string | undefined;
  try {
    fields.endpoint = `${githubWebBase(endpoint)}/${org}`;
  } catch {
    invalid = `endpoint "${endpoint}" is not a URL`;
  }
  fields.internalEndpoint = endpoint;
  const config: Omit<GitHubValidateConfigInput, 'result'> = { endpoint, organization: org, authType };
  const inputSecrets: SecretRefFull[] = [];
  let repositoryCredentials: ValidationPlan['repositoryCredentials'];
  const refused =
    secretRefRefusal(spec.credentialsSecretRef, parent, 'spec.credentialsSecretRef') ?? secretRefRefusal(spec.appAuth?.privateKeySecretRef, parent, 'spec.appAuth.privateKeySecretRef');
  if (refused) {
    // never read, never named in status: the plan carries no Secret at all
  } else if (authType === 'app') {
    if (!spec.appAuth) invalid ??= 'authType app needs appAuth';
    else {
      const k = spec.appAuth.privateKeySecretRef;
      const keyRef = { namespace: ns, name: k.name, key: k.key ?? 'private-key' };
      inputSecrets.push(keyRef);
      config.appAuth = { appID: spec.appAuth.appID, ...(spec.appAuth.installationID ? { installationID: spec.appAuth.installationID } : {}), privateKeySecretRef: keyRef };
      const tokenName = githubTokenSecretName(parent);
      config.tokenSecret = {
        namespace: ns,
        name: tokenName,
        labels: ownerLabels(parent, 'credentials'),
        ownerReference: { apiVersion: parent.apiVersion, kind: parent.kind, name: parent.metadata.name, uid: parent.metadata.uid ?? '' },
      };
      fields.credentialsSecretRef = { name: tokenName, namespace: ns, key: 'token' };
    }
  } else if (!spec.credentialsSecretRef) {
    invalid ??= 'authType token needs credentialsSecretRef';
  } else {
    const c = spec.credentialsSecretRef;
    const ref = { namespace: ns, name: c.name, key: c.key ?? 'token' };
    inputSecrets.push(ref);
    config.credentialsSecretRef = ref;
    fields.credentialsSecretRef = { name: ref.name, namespace: ref.namespace, key: ref.key };
    // git over HTTPS takes a token as the password of user x-access-token (the repo-sync Job pushes so too)
    repositoryCredentials = { username: 'x-access-token', token: ref };
  }
  config.teams = (spec.teams ?? []).map((t) => ({ name: t.name, permission: t.permission }));
  let interval = durationSeconds(spec.validationInterval, DEFAULT_VALIDATION_INTERVAL);
  if (authType === 'app') interval = Math.min(interval, MAX_APP_VALIDATION_INTERVAL);
  return {
    command: 'github-validate',
    config,
    intervalSeconds: Math.max(1, Math.round(interval)),
    fields,
    fromResult: (r) => {
      const out: Record<string, unknown> = {};
      if (typeof r.organization === 'string' && r.organization) out.organization = r.organization;
      const rl = r.rateLimit as { remaining?: unknown; limit?: unknown; resetAt?: unknown } | undefined;
      if (rl && typeof rl.remaining === 'number' && typeof rl.limit === 'number' && typeof rl.resetAt === 'string') {
        out.rateLimit = { remaining: rl.remaining, limit: rl.limit, resetAt: rl.resetAt };
      }
      return out;
    },
    carried: ['authenticated', 'rateLimit'],
    notFoundReason: 'OrganizationNotFound',
    subject: `organization ${org}`,
    inputSecrets,
    ...(repositoryCredentials ? { repositoryCredentials } : {}),
    ...(invalid ? { invalid } : {}),
    ...(refused ? { refused } : {}),
  };
}

function customize(req: CustomizeRequest): CustomizeResponse {
  return { relatedResources: validationRelated(req.parent, githubPlan(req.parent).inputSecrets) };
}

/**
 * The GitHubProvider hooks, wrapped by the controller contract: customize (the credentials Secret), sync (a
 * github-validate Job every validationInterval; its result becomes the status) and finalize (leaves the organization,
 * its teams and repositories on GitHub).
 */
export const githubProviderHooks: Hooks = contract({
  customize: (req) => customize(req),
  sync: (req, env) => syncValidated(req, env, githubPlan(req.parent)),
  finalize: (req, env) => finalizeValidated(req, env, 'the organization, its teams and repositories'),
});
