import { Type, type Static } from '@sinclair/typebox';
import { Desc, Enum, HttpURL, Obj } from './schema.js';
import { DeletionPolicy, GitProviderStatusFields, SecretKeyRef } from './common.js';

const GroupPath = Type.String({ minLength: 1, maxLength: 255, pattern: '^[A-Za-z0-9_.][-A-Za-z0-9_.]*(/[A-Za-z0-9_.][-A-Za-z0-9_.]*)*$' });

/**
 * Schema of GitLabProvider `spec`: `endpoint` (default https://gitlab.com; the API is `<endpoint>/api/v4`), the group
 * path, and the access token Secret (scope `api`; key default `token`).
 */
export const GitLabProviderSpec = Obj(
  {
    endpoint: Type.Optional(Type.String({ ...HttpURL, default: 'https://gitlab.com', description: 'GitLab instance URL (self-hosted or gitlab.com); the API is <endpoint>/api/v4.' })),
    group: Desc(GroupPath, 'Full path of the group (e.g. platform/team) where projects are created; checked by the validation Job.'),
    credentialsSecretRef: Desc(
      SecretKeyRef,
      "Secret (in this object's namespace) holding an access token with scope api (read_api without subgroups to create), key default token.",
    ),
    caSecretRef: Type.Optional(
      Desc(SecretKeyRef, "Secret (in this object's namespace) holding the PEM CA bundle trusted for the instance, key default ca.crt."),
    ),
    repositoryDefaults: Type.Optional(
      Obj(
        {
          visibility: Type.Optional(
            Enum(['public', 'private', 'internal'] as const, { default: 'private', description: 'Visibility of new projects unless the GitRepository sets private; never more than the group\'s.' }),
          ),
          defaultBranch: Type.Optional(
            Type.String({ minLength: 1, maxLength: 255, pattern: '^[^/].*$', description: 'Default branch of new projects (a short name, not refs/heads/…); default main.' }),
          ),
          initializeWithReadme: Type.Optional(Type.Boolean({ description: 'Create new projects with a README commit.' })),
          cicdEnabled: Type.Optional(Type.Boolean({ description: 'Enable CI/CD on new projects (builds_access_level, jobs_enabled).' })),
        },
        { description: 'Settings of projects that GitRepositories create here; existing projects are not changed.' },
      ),
    ),
    subgroups: Type.Optional(
      Type.Array(
        Obj({
          name: Desc(GroupPath, 'Subgroup path below group; nested paths (infra/clusters) are created level by level.'),
          description: Type.Optional(Type.String({ maxLength: 255, description: 'Description of the (last level) subgroup.' })),
        }),
        {
          maxItems: 64,
          'x-kubernetes-list-type': 'map',
          'x-kubernetes-list-map-keys': ['name'],
          description: 'Subgroups the validation Job ensures exist, with the parent\'s visibility.',
        },
      ),
    ),
    validationInterval: Type.Optional(
      Type.String({ pattern: '^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$', default: '10m', description: 'How often token and group are checked again, a Go duration like 10m.' }),
    ),
    deletionPolicy: Type.Optional(
      Desc(DeletionPolicy, 'Nothing is installed, so nothing is torn down either way: the group, subgroups and projects are never deleted.'),
    ),
  },
  { description: 'A GitLab group used as git provider; validated by a Job every validationInterval (docs/providers/gitlabprovider.md).' },
);
export type GitLabProviderSpec = Static<typeof GitLabProviderSpec>;

/**
 * Schema of GitLabProvider `status`: the git provider duck contract plus the group path and numeric group ID the
 * newest finished validation Job checked and whether it authenticated.
 */
export const GitLabProviderStatus = Obj(
  {
    ...GitProviderStatusFields,
    group: Type.Optional(Type.String({ description: 'Full path of the group the newest finished validation checked.' })),
    groupID: Type.Optional(Type.Integer({ description: 'Numeric ID of that group.' })),
    authenticated: Type.Optional(Type.Boolean({ description: 'Whether the newest finished validation authenticated.' })),
  },
  { description: 'Observed state; endpoint, internalEndpoint (the API) and credentialsSecretRef form the git provider contract.' },
);
export type GitLabProviderStatus = Static<typeof GitLabProviderStatus>;
