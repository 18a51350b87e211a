import { Type, type Static } from '@sinclair/typebox';
import { DNS1123Label, DNS1123Subdomain, Enum, Obj } from './schema.js';
import { GitProviderStatusFields, InstalledStatusFields, Routing, SecretKeyRef, installedProviderSpec } from './common.js';

export const GiteaProviderSpec = Obj({
  ...installedProviderSpec('gitea'),
  config: Type.Optional(
    Obj({
      ingress: Type.Optional(
        Obj({
          enabled: Type.Optional(Type.Boolean({ default: true })),
          className: Type.Optional(Type.String({ maxLength: 253 })),
          host: Type.Optional(DNS1123Subdomain),
        }),
      ),
      persistence: Type.Optional(
        Obj({
          enabled: Type.Optional(Type.Boolean()),
          size: Type.Optional(Type.String({ pattern: '^[0-9]+(Ki|Mi|Gi|Ti)$' })),
          storageClass: Type.Optional(Type.String({ maxLength: 253 })),
        }),
      ),
      database: Type.Optional(Obj({ type: Enum(['sqlite', 'postgres', 'mysql'] as const, { default: 'sqlite' }) })),
    }),
  ),
  routing: Type.Optional(Routing),
  adminUser: Type.Optional(
    Obj(
      {
        username: Type.Optional(Type.String({ minLength: 1, maxLength: 40, pattern: '^[A-Za-z0-9][-._A-Za-z0-9]*$', default: 'giteaAdmin' })),
        email: Type.Optional(Type.String({ maxLength: 254, pattern: '^[^@\\s]+@[^@\\s]+$' })),
        passwordSecretRef: Type.Optional(SecretKeyRef),
        autoGenerate: Type.Optional(Type.Boolean({ default: true })),
      },
      {
        'x-kubernetes-validations': [
          {
            rule: "has(self.passwordSecretRef) || !has(self.autoGenerate) || self.autoGenerate",
            message: 'adminUser needs passwordSecretRef when autoGenerate is false',
            fieldPath: '.passwordSecretRef',
          },
        ],
      },
    ),
  ),
  organizations: Type.Optional(
    Type.Array(Obj({ name: DNS1123Label, description: Type.Optional(Type.String({ maxLength: 255 })) }), {
      maxItems: 64,
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['name'],
    }),
  ),
});
export type GiteaProviderSpec = Static<typeof GiteaProviderSpec>;

export const GiteaProviderStatus = Obj({
  ...GitProviderStatusFields,
  ...InstalledStatusFields,
  adminUser: Type.Optional(Obj({ username: Type.String() })),
  organization: Type.Optional(
    Type.String({ description: 'The organization repositories go to when a GitRepository names none: the first of spec.organizations, else `idpbuilder`.' }),
  ),
});
export type GiteaProviderStatus = Static<typeof GiteaProviderStatus>;
