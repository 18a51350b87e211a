import { Type, type Static } from '@sinclair/typebox';
import { DNS1123Label, DNS1123Subdomain, Duration, Enum, Obj } from './schema.js';
import { BaseStatus, ObjectRef } from './common.js';

export const PackageSpec = Obj(
  {
    source: Obj({
      gitRepository: Obj({
        name: DNS1123Subdomain,
        namespace: Type.Optional(DNS1123Label),
        path: Type.Optional(Type.String({ maxLength: 1024 })),
        targetRevision: Type.Optional(Type.String({ maxLength: 255 })),
      }),
    }),
    gitOpsProviderRef: Type.Optional(ObjectRef),
    argocd: Type.Optional(
      Obj({
        enabled: Type.Optional(Type.Boolean({ default: true })),
        project: Type.Optional(Type.String({ ...DNS1123Label, default: 'default' })),
        cascadeDelete: Type.Optional(
          Type.Boolean({ default: true, description: 'Delete what the Application deployed when the Package is deleted (Argo CD resources finalizer).' }),
        ),
        releaseName: Type.Optional(Type.String({ minLength: 1, maxLength: 53, description: 'Helm release name, for sources that are Helm charts' })),
        destination: Type.Optional(
          Obj({
            server: Type.Optional(Type.String({ maxLength: 2048, default: 'https://kubernetes.default.svc' })),
            name: Type.Optional(Type.String({ maxLength: 253 })),
            namespace: Type.Optional(DNS1123Label),
          }),
        ),
        syncPolicy: Type.Optional(
          Obj({
            automated: Type.Optional(
              Obj({ prune: Type.Optional(Type.Boolean()), selfHeal: Type.Optional(Type.Boolean()), allowEmpty: Type.Optional(Type.Boolean()) }),
            ),
            syncOptions: Type.Optional(Type.Array(Type.String({ pattern: '^[A-Za-z]+=[^\\s]+$' }), { maxItems: 32 })),
          }),
        ),
      }),
    ),
    flux: Type.Optional(
      Obj({
        enabled: Type.Optional(Type.Boolean({ default: true })),
        interval: Type.Optional(Type.String({ ...Duration, default: '5m' })),
        prune: Type.Optional(Type.Boolean({ default: true })),
        targetNamespace: Type.Optional(DNS1123Label),
        serviceAccountName: Type.Optional(DNS1123Subdomain),
      }),
    ),
    dependencies: Type.Optional(Type.Array(ObjectRef, { maxItems: 64 })),
    healthChecks: Type.Optional(
      Type.Array(
        Obj({
          type: Type.String({ minLength: 1, maxLength: 63, pattern: '^[A-Z][A-Za-z0-9]*$', description: 'Kind of the object to check, e.g. Deployment' }),
          apiVersion: Type.Optional(Type.String({ maxLength: 253 })),
          namespace: Type.Optional(DNS1123Label),
          name: DNS1123Subdomain,
          timeout: Type.Optional(Duration),
        }),
        { maxItems: 64 },
      ),
    ),
  },
  {
    'x-kubernetes-validations': [
      {
        rule: '!(has(self.argocd) && (!has(self.argocd.enabled) || self.argocd.enabled) && has(self.flux) && (!has(self.flux.enabled) || self.flux.enabled))',
        message: 'a Package is deployed by Argo CD or by Flux, not both',
        fieldPath: '.flux',
      },
    ],
  },
);
export type PackageSpec = Static<typeof PackageSpec>;

export const PackageStatus = Obj({
  ...BaseStatus,
  phase: Type.Optional(Enum(['Pending', 'Waiting', 'Deploying', 'Synced', 'Degraded', 'Failed'] as const)),
  waitingFor: Type.Optional(Type.Array(Type.String())),
  dependsOn: Type.Optional(
    Type.Array(Type.String({ maxLength: 317 }), {
      maxItems: 1000,
      description: 'Every Package this one waits on, directly or through other Packages (namespace/name, sorted); how dependency cycles are found',
    }),
  ),
  argoApplication: Type.Optional(
    Obj({ name: Type.String(), namespace: Type.String(), syncStatus: Type.Optional(Type.String()), healthStatus: Type.Optional(Type.String()) }),
  ),
  fluxKustomization: Type.Optional(
    Obj({ name: Type.String(), namespace: Type.String(), ready: Type.Optional(Type.String()), reason: Type.Optional(Type.String()) }),
  ),
});
export type PackageStatus = Static<typeof PackageStatus>;
