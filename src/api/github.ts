import { Type, type Static } from '@sinclair/typebox';
import { Desc, Duration, Enum, HttpURL, Obj } from './schema.js';
import { DeletionPolicy, GitProviderStatusFields, SecretKeyRef } from './common.js';

/**
 * Schema of GitHubProvider `spec`: the `organization` (GitHub login rules: 1–39 letters, digits, `-`), the API
 * `endpoint`, the credentials (`authType`: a token Secret or `appAuth`, a GitHub App) checked by the validation Job,
 * `repositoryDefaults` for new repositories and `teams`.
 */
export const GitHubProviderSpec = Obj(
  {
    organization: Type.String({
      minLength: 1,
      maxLength: 39,
      pattern: '^[A-Za-z0-9]([-A-Za-z0-9]*[A-Za-z0-9])?$',
      description: 'The GitHub organization (not a user account) that owns the repositories; checked by the validation Job.',
    }),
    endpoint: Type.Optional(
      Type.String({ ...HttpURL, default: 'https://api.github.com', description: 'API endpoint; GitHub Enterprise Server: https://HOST/api/v3.' }),
    ),
    credentialsSecretRef: Type.Optional(
      Desc(SecretKeyRef, "With authType token (required): Secret (in this object's namespace) holding a personal access token, key default token."),
    ),
    authType: Type.Optional(
      Enum(['token', 'app'] as const, { default: 'token', description: 'token: a personal access token (credentialsSecretRef); app: a GitHub App installation token (appAuth).' }),
    ),
    appAuth: Type.Optional(
      Obj(
        {
          appID: Type.String({ minLength: 1, pattern: '^[0-9A-Za-z.]+$', description: 'The GitHub App ID (or client ID), the JWT issuer.' }),
          installationID: Type.Optional(
            Type.String({ pattern: '^[0-9]+$', description: "The App's installation ID on the organization; looked up when absent." }),
          ),
          privateKeySecretRef: Desc(SecretKeyRef, "Secret (in this object's namespace) holding the App's PEM private key, key default private-key."),
        },
        { description: 'With authType app (required): the GitHub App; the minted token is kept in the Secret <name>-github-token.' },
      ),
    ),
    repositoryDefaults: Type.Optional(
      Obj(
        {
          visibility: Type.Optional(
            Enum(['public', 'private', 'internal'] as const, { default: 'private', description: "Visibility of new repositories unless the GitRepository sets private." }),
          ),
          autoInit: Type.Optional(Type.Boolean({ description: 'Create new repositories with an initial commit (README).' })),
          defaultBranch: Type.Optional(Type.String({ minLength: 1, maxLength: 255, description: 'Default branch of new repositories when the GitRepository names none; default main.' })),
          allowSquashMerge: Type.Optional(Type.Boolean({ description: 'Allow squash merging on new repositories (allow_squash_merge).' })),
          allowMergeCommit: Type.Optional(Type.Boolean({ description: 'Allow merge commits on new repositories (allow_merge_commit).' })),
          allowRebaseMerge: Type.Optional(Type.Boolean({ description: 'Allow rebase merging on new repositories (allow_rebase_merge).' })),
        },
        { description: 'Settings of repositories that GitRepositories create here; existing repositories are not changed.' },
      ),
    ),
    teams: Type.Optional(
      Type.Array(
        Obj({
          name: Type.String({ minLength: 1, maxLength: 255, description: 'Team name; the slug is the name lower-cased with other characters turned into -.' }),
          permission: Enum(['pull', 'triage', 'push', 'maintain', 'admin'] as const, {
            description: 'Permission the team gets on every repository a GitRepository syncs here: pull, triage, push, maintain or admin.',
          }),
        }),
        {
          maxItems: 64,
          'x-kubernetes-list-type': 'map',
          'x-kubernetes-list-map-keys': ['name'],
          description: 'Teams the validation Job ensures exist (created closed when missing).',
        },
      ),
    ),
    validationInterval: Type.Optional(
      Type.String({ ...Duration, default: '10m', description: 'How often credentials and organization are checked again, a Go duration like 10m (with app auth at most 30m).' }),
    ),
    deletionPolicy: Type.Optional(
      Desc(DeletionPolicy, 'Nothing is installed, so nothing is torn down either way: the organization and its repositories are never deleted.'),
    ),
  },
  {
    description: 'A GitHub organization used as git provider; validated by a Job every validationInterval (docs/providers/githubprovider.md).',
    'x-kubernetes-validations': [
      { rule: "!has(self.authType) || self.authType != 'app' || has(self.appAuth)", message: 'authType app requires appAuth', fieldPath: '.appAuth', reason: 'FieldValueRequired' },
      {
        rule: "(has(self.authType) && self.authType == 'app') || has(self.credentialsSecretRef)",
        message: 'authType token requires credentialsSecretRef',
        fieldPath: '.credentialsSecretRef',
        reason: 'FieldValueRequired',
      },
    ],
  },
);
export type GitHubProviderSpec = Static<typeof GitHubProviderSpec>;

/**
 * Schema of GitHubProvider `status`: the git provider duck contract plus what the newest finished validation Job saw
 * (organization, authenticated, rate limit from GitHub's `GET /rate_limit`).
 */
export const GitHubProviderStatus = Obj(
  {
    ...GitProviderStatusFields,
    organization: Type.Optional(Type.String({ description: 'The organization the newest finished validation checked.' })),
    authenticated: Type.Optional(Type.Boolean({ description: 'Whether the newest finished validation authenticated.' })),
    rateLimit: Type.Optional(
      Obj(
        {
          remaining: Type.Integer({ minimum: 0, description: 'Requests left in the current window.' }),
          limit: Type.Integer({ minimum: 0, description: 'Requests allowed per window (per hour).' }),
          resetAt: Type.String({ format: 'date-time', description: 'When the window resets (RFC 3339).' }),
        },
        { description: 'The core API rate limit, as the newest validation read it.' },
      ),
    ),
  },
  { description: 'Observed state; endpoint, internalEndpoint (the API) and credentialsSecretRef form the git provider contract.' },
);
export type GitHubProviderStatus = Static<typeof GitHubProviderStatus>;
