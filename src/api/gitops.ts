/** GitOps providers: Argo CD and Flux. Both expose endpoint, internalEndpoint, credentialsSecretRef. */
import { Type, type Static } from '@sinclair/typebox';
import { DNS1123Label, DNS1123Subdomain, Obj } from './schema.js';
import { GitOpsProviderStatusFields, InstalledStatusFields, ReadyFlag, Resources, Routing, SecretRef, installedProviderSpec } from './common.js';

const Toggle = Obj({ enabled: Type.Boolean() });

export const ArgoCDProviderSpec = Obj({
  ...installedProviderSpec('argocd'),
  config: Type.Optional(
    Obj({
      server: Type.Optional(
        Obj({
          ingress: Type.Optional(
            Obj({
              enabled: Type.Optional(Type.Boolean()),
              ingressClassName: Type.Optional(Type.String({ maxLength: 253 })),
              hosts: Type.Optional(Type.Array(DNS1123Subdomain, { maxItems: 16 })),
            }),
          ),
          extraArgs: Type.Optional(Type.Array(Type.String({ maxLength: 1024 }), { maxItems: 64 })),
          replicas: Type.Optional(Type.Integer({ minimum: 0, maximum: 100 })),
          resources: Type.Optional(Resources),
        }),
      ),
      controller: Type.Optional(Obj({ replicas: Type.Optional(Type.Integer({ minimum: 0, maximum: 100 })), resources: Type.Optional(Resources) })),
      repoServer: Type.Optional(Obj({ replicas: Type.Optional(Type.Integer({ minimum: 0, maximum: 100 })), resources: Type.Optional(Resources) })),
      notifications: Type.Optional(Toggle),
      dex: Type.Optional(Toggle),
    }),
  ),
  routing: Type.Optional(Routing),
  adminCredentials: Type.Optional(
    Obj(
      { secretRef: Type.Optional(SecretRef), autoGenerate: Type.Optional(Type.Boolean({ default: true })) },
      {
        'x-kubernetes-validations': [
          { rule: 'has(self.secretRef) || !has(self.autoGenerate) || self.autoGenerate', message: 'adminCredentials needs secretRef when autoGenerate is false', fieldPath: '.secretRef' },
        ],
      },
    ),
  ),
  projects: Type.Optional(
    Type.Array(
      Obj({
        name: DNS1123Label,
        description: Type.Optional(Type.String({ maxLength: 255 })),
        sourceRepos: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 2048 }), { maxItems: 64 })),
        destinations: Type.Optional(
          Type.Array(Obj({ server: Type.Optional(Type.String({ maxLength: 2048 })), namespace: Type.Optional(Type.String({ maxLength: 253 })) }), { maxItems: 64 }),
        ),
      }),
      { maxItems: 64, 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['name'] },
    ),
  ),
});
export type ArgoCDProviderSpec = Static<typeof ArgoCDProviderSpec>;

export const ArgoCDProviderStatus = Obj({
  ...GitOpsProviderStatusFields,
  ...InstalledStatusFields,
  serverHealth: Type.Optional(Obj({ status: Type.String() })),
  applicationController: Type.Optional(ReadyFlag),
  applicationNamespaces: Type.Optional(Type.Array(Type.String())),
});
export type ArgoCDProviderStatus = Static<typeof ArgoCDProviderStatus>;

const FluxController = Obj({ resources: Type.Optional(Resources) });

export const FluxProviderSpec = Obj({
  ...installedProviderSpec('flux-system'),
  config: Type.Optional(
    Obj({
      sourceController: Type.Optional(FluxController),
      kustomizeController: Type.Optional(FluxController),
      helmController: Type.Optional(FluxController),
      notificationController: Type.Optional(Obj({ enabled: Type.Optional(Type.Boolean({ default: true })), resources: Type.Optional(Resources) })),
    }),
  ),
  multitenancy: Type.Optional(
    Obj(
      { enabled: Type.Boolean(), defaultServiceAccount: Type.Optional(DNS1123Subdomain) },
      { 'x-kubernetes-validations': [{ rule: '!self.enabled || has(self.defaultServiceAccount)', message: 'multitenancy needs defaultServiceAccount', fieldPath: '.defaultServiceAccount' }] },
    ),
  ),
  imageAutomation: Type.Optional(Toggle),
});
export type FluxProviderSpec = Static<typeof FluxProviderSpec>;

export const FluxProviderStatus = Obj({
  ...GitOpsProviderStatusFields,
  ...InstalledStatusFields,
  controllers: Type.Optional(
    Obj({
      sourceController: Type.Optional(ReadyFlag),
      kustomizeController: Type.Optional(ReadyFlag),
      helmController: Type.Optional(ReadyFlag),
      notificationController: Type.Optional(ReadyFlag),
      imageAutomationController: Type.Optional(ReadyFlag),
      imageReflectionController: Type.Optional(ReadyFlag),
    }),
  ),
});
export type FluxProviderStatus = Static<typeof FluxProviderStatus>;
