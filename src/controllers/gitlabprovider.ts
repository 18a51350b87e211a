/**
 * GitLabProvider: a GitLab group (gitlab.com or self-hosted) used as git provider. Nothing is installed:
 * a validation Job (`idpbuilder job gitlab-validate`) checks the token and the group, ensures the
 * subgroups, and writes its result onto its own Job; this hook reads it back into the git provider duck
 * status (endpoint `<endpoint>/<group>`, internalEndpoint `<endpoint>/api/v4`, credentialsSecretRef) plus
 * `group`, `groupID` and `authenticated`. Same periodic loop as the GitHubProvider (see ./githubprovider.ts).
 */
import type { GitLabProviderSpec } from '../api/gitlab.js';
import type { CustomizeRequest, CustomizeResponse, KubeObject } from '../metacontroller/protocol.js';
import type { Hooks } from '../kit/hooks.js';
import { durationSeconds } from '../kit/duration.js';
import { secretRefRefusal } from '../kit/refs.js';
import { DEFAULT_VALIDATION_INTERVAL, finalizeValidated, syncValidated, validationRelated, type SecretRefFull, type ValidationPlan } from './githubprovider.js';
import type { GitLabValidateConfigInput } from '../api/jobs.js';
import { contract } from '../kit/contract.js';

const DEFAULT_GITLAB = 'https://gitlab.com';

/** The instance URL without trailing slash (an `/api/v4` suffix given by mistake is dropped). */
function gitlabInstance(endpoint: string | undefined): string {
  return (endpoint ?? DEFAULT_GITLAB).replace(/\/+$/, '').replace(/\/api\/v4$/, '');
}

function gitlabPlan(parent: KubeObject): ValidationPlan {
  const spec = (parent.spec ?? {}) as GitLabProviderSpec;
  const ns = parent.metadata.namespace ?? 'default';
  const endpoint = gitlabInstance(spec.endpoint);
  const group = spec.group.replace(/^\/+|\/+$/g, '');
  const inputSecrets: SecretRefFull[] = [];
  let repositoryCredentials: ValidationPlan['repositoryCredentials'];
  const fields: Record<string, unknown> = { endpoint: `${endpoint}/${group}`, internalEndpoint: `${endpoint}/api/v4`, group };
  // complete (credentialsSecretRef set) whenever the plan is neither refused nor invalid, the only case a Job runs
  const config: Partial<Omit<GitLabValidateConfigInput, 'result'>> = { endpoint, group };
  let invalid: string | undefined;
  const refused = secretRefRefusal(spec.credentialsSecretRef, parent, 'spec.credentialsSecretRef') ?? secretRefRefusal(spec.caSecretRef, parent, 'spec.caSecretRef');
  if (refused) {
    // never read, never named in status: the plan carries no Secret at all
  } else if (!spec.credentialsSecretRef) invalid = 'credentialsSecretRef is required';
  else {
    const c = spec.credentialsSecretRef;
    const ref = { namespace: ns, name: c.name, key: c.key ?? 'token' };
    inputSecrets.push(ref);
    config.credentialsSecretRef = ref;
    fields.credentialsSecretRef = { name: ref.name, namespace: ref.namespace, key: ref.key };
    // git over HTTPS takes a token as the password of user oauth2 (the repo-sync Job pushes so too)
    repositoryCredentials = { username: 'oauth2', token: ref };
  }
  if (spec.caSecretRef && !refused) {
    const c = spec.caSecretRef;
    const ref = { namespace: ns, name: c.name, key: c.key ?? 'ca.crt' };
    inputSecrets.push(ref);
    config.caSecretRef = ref;
    fields.caSecretRef = { name: ref.name, namespace: ref.namespace, key: ref.key };
    if (repositoryCredentials) repositoryCredentials = { ...repositoryCredentials, ca: ref };
  }
  config.subgroups = (spec.subgroups ?? []).map((s) => ({ name: s.name, ...(s.description !== undefined ? { description: s.description } : {}) }));
  return {
    command: 'gitlab-validate',
    config: config as Omit<GitLabValidateConfigInput, 'result'>,
    intervalSeconds: Math.max(1, Math.round(durationSeconds(spec.validationInterval, DEFAULT_VALIDATION_INTERVAL))),
    fields,
    fromResult: (r) => {
      const out: Record<string, unknown> = {};
      if (typeof r.group === 'string' && r.group) out.group = r.group;
      if (typeof r.groupID === 'number' && Number.isInteger(r.groupID)) out.groupID = r.groupID;
      return out;
    },
    carried: ['authenticated', 'groupID'],
    notFoundReason: 'GroupNotFound',
    subject: `group ${group}`,
    inputSecrets,
    ...(repositoryCredentials ? { repositoryCredentials } : {}),
    ...(invalid ? { invalid } : {}),
    ...(refused ? { refused } : {}),
  };
}

function customize(req: CustomizeRequest): CustomizeResponse {
  return { relatedResources: validationRelated(req.parent, gitlabPlan(req.parent).inputSecrets) };
}

/**
 * The GitLabProvider hooks, wrapped by the controller contract: customize (the token Secret), sync (a gitlab-validate
 * Job every validationInterval; its result becomes the status) and finalize (leaves the group, its subgroups and
 * projects on GitLab).
 */
export const gitlabProviderHooks: Hooks = contract({
  customize: (req) => customize(req),
  sync: (req, env) => syncValidated(req, env, gitlabPlan(req.parent)),
  finalize: (req, env) => finalizeValidated(req, env, 'the group, its subgroups and projects'),
});
