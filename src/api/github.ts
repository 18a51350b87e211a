import { Type, type Static } from '@sinclair/typebox';
import { Duration, Enum, HttpURL, Obj } from './schema.js';
import { DeletionPolicy, GitProviderStatusFields, SecretKeyRef } from './common.js';

export const GitHubProviderSpec = Obj(
  {
    organization: Type.String({ minLength: 1, maxLength: 39, pattern: '^[A-Za-z0-9]([-A-Za-z0-9]*[A-Za-z0-9])?$' }),
    endpoint: Type.Optional(Type.String({ ...HttpURL, default: 'https://api.github.com', description: 'API endpoint; GitHub Enterprise: https://HOST/api/v3' })),
    credentialsSecretRef: Type.Optional(SecretKeyRef),
    authType: Type.Optional(Enum(['token', 'app'] as const, { default: 'token' })),
    appAuth: Type.Optional(
      Obj({
        appID: Type.String({ minLength: 1, pattern: '^[0-9A-Za-z.]+$' }),
        installationID: Type.Optional(Type.String({ pattern: '^[0-9]+$' })),
        privateKeySecretRef: SecretKeyRef,
      }),
    ),
    repositoryDefaults: Type.Optional(
      Obj({
        visibility: Type.Optional(Enum(['public', 'private', 'internal'] as const, { default: 'private' })),
        autoInit: Type.Optional(Type.Boolean()),
        defaultBranch: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
        allowSquashMerge: Type.Optional(Type.Boolean()),
        allowMergeCommit: Type.Optional(Type.Boolean()),
        allowRebaseMerge: Type.Optional(Type.Boolean()),
      }),
    ),
    teams: Type.Optional(
      Type.Array(
        Obj({
          name: Type.String({ minLength: 1, maxLength: 255 }),
          permission: Enum(['pull', 'triage', 'push', 'maintain', 'admin'] as const),
        }),
        { maxItems: 64, 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['name'] },
      ),
    ),
    validationInterval: Type.Optional(Type.String({ ...Duration, default: '10m', description: 'How often credentials are checked again.' })),
    deletionPolicy: Type.Optional(DeletionPolicy),
  },
  {
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

export const GitHubProviderStatus = Obj({
  ...GitProviderStatusFields,
  organization: Type.Optional(Type.String()),
  authenticated: Type.Optional(Type.Boolean()),
  rateLimit: Type.Optional(
    Obj({ remaining: Type.Integer({ minimum: 0 }), limit: Type.Integer({ minimum: 0 }), resetAt: Type.String({ format: 'date-time' }) }),
  ),
});
export type GitHubProviderStatus = Static<typeof GitHubProviderStatus>;
