import { Type, type Static } from '@sinclair/typebox';
import { Enum, HttpURL, Obj } from './schema.js';
import { DeletionPolicy, GitProviderStatusFields, SecretKeyRef } from './common.js';

const GroupPath = Type.String({ minLength: 1, maxLength: 255, pattern: '^[A-Za-z0-9_.][-A-Za-z0-9_.]*(/[A-Za-z0-9_.][-A-Za-z0-9_.]*)*$' });

export const GitLabProviderSpec = Obj({
  endpoint: Type.Optional(Type.String({ ...HttpURL, default: 'https://gitlab.com', description: 'GitLab instance URL (self-hosted or gitlab.com)' })),
  group: GroupPath,
  credentialsSecretRef: SecretKeyRef,
  caSecretRef: Type.Optional(SecretKeyRef),
  repositoryDefaults: Type.Optional(
    Obj({
      visibility: Type.Optional(Enum(['public', 'private', 'internal'] as const, { default: 'private' })),
      defaultBranch: Type.Optional(Type.String({ minLength: 1, maxLength: 255, pattern: '^[^/].*$' })),
      initializeWithReadme: Type.Optional(Type.Boolean()),
      cicdEnabled: Type.Optional(Type.Boolean()),
    }),
  ),
  subgroups: Type.Optional(
    Type.Array(Obj({ name: GroupPath, description: Type.Optional(Type.String({ maxLength: 255 })) }), {
      maxItems: 64,
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['name'],
    }),
  ),
  validationInterval: Type.Optional(Type.String({ pattern: '^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$', default: '10m' })),
  deletionPolicy: Type.Optional(DeletionPolicy),
});
export type GitLabProviderSpec = Static<typeof GitLabProviderSpec>;

export const GitLabProviderStatus = Obj({
  ...GitProviderStatusFields,
  group: Type.Optional(Type.String()),
  groupID: Type.Optional(Type.Integer()),
  authenticated: Type.Optional(Type.Boolean()),
});
export type GitLabProviderStatus = Static<typeof GitLabProviderStatus>;
