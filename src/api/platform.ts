import { Type, type Static } from '@sinclair/typebox';
import { DNS1123Label, DNS1123Subdomain, Enum, FreeForm, KindName, Obj, Port } from './schema.js';
import { BaseStatus, HelmChart, ObjectRef, SecretRef } from './common.js';

/** Provider references in a Platform list are unique by kind, name and namespace. */
const uniqueRefs = {
  // `namespace` is a reserved word in Kubernetes CEL: the field is written `__namespace__`.
  rule: "self.all(x, self.exists_one(y, y.kind == x.kind && y.name == x.name && (has(y.__namespace__) ? y.__namespace__ : '') == (has(x.__namespace__) ? x.__namespace__ : '')))",
  message: 'provider references must be unique',
};
const RefList = (description: string) => Type.Optional(Type.Array(ObjectRef, { maxItems: 16, description, 'x-kubernetes-validations': [uniqueRefs] }));

export const InlineComponent = Obj({
  enabled: Type.Optional(Type.Boolean({ default: true })),
  namespace: Type.Optional(DNS1123Label),
  version: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
  helmChart: Type.Optional(HelmChart),
  values: Type.Optional(FreeForm('Helm values for this component, merged last.')),
});
export type InlineComponent = Static<typeof InlineComponent>;

export const PlatformSpec = Obj({
  domain: Type.Optional(Type.String({ ...DNS1123Subdomain, default: 'cnoe.localtest.me' })),
  ingressConfig: Type.Optional(
    Obj({
      provider: Type.Optional(Type.String({ minLength: 1, maxLength: 63, description: 'Gateway to route UIs through: a gateway reference name, or a gateway kind short name (nginx, envoy, istio)' })),
      usePathRouting: Type.Optional(Type.Boolean({ default: false })),
      tlsSecretRef: Type.Optional(SecretRef),
      protocol: Type.Optional(Enum(['http', 'https'] as const, { default: 'https' })),
      port: Type.Optional(Port),
    }),
  ),
  components: Type.Optional(
    Obj({
      gitProviders: RefList('Git providers (GiteaProvider, GitHubProvider, GitLabProvider, …)'),
      gateways: RefList('Gateways (NginxGateway, EnvoyGateway, IstioGateway, …)'),
      gitOpsProviders: RefList('GitOps providers (ArgoCDProvider, FluxProvider, …)'),
      argocd: Type.Optional(InlineComponent),
      gitea: Type.Optional(InlineComponent),
      nginx: Type.Optional(InlineComponent),
    }),
  ),
  bootstrap: Type.Optional(
    Obj({
      gitServerRef: Type.Optional(Obj({ name: DNS1123Subdomain, kind: Type.Optional(KindName), namespace: Type.Optional(DNS1123Label) })),
      gitOpsProviderRef: Type.Optional(Obj({ name: DNS1123Subdomain, kind: Type.Optional(KindName), namespace: Type.Optional(DNS1123Label) })),
      organization: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
      repositories: Type.Optional(
        Type.Array(
          Obj({
            name: DNS1123Label,
            path: Type.String({ minLength: 1, maxLength: 1024 }),
            autoSync: Type.Optional(Type.Boolean({ default: true })),
          }),
          { maxItems: 32, 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['name'] },
        ),
      ),
    }),
  ),
});
export type PlatformSpec = Static<typeof PlatformSpec>;

const ProviderStatusEntry = Obj({
  name: Type.String(),
  kind: Type.String(),
  namespace: Type.Optional(Type.String()),
  ready: Type.Boolean(),
  phase: Type.Optional(Type.String()),
  observedGeneration: Type.Optional(Type.Integer()),
  message: Type.Optional(Type.String()),
});

export const PlatformStatus = Obj({
  ...BaseStatus,
  phase: Type.Optional(Enum(['Pending', 'Progressing', 'Ready', 'Degraded', 'Deleting'] as const)),
  providers: Type.Optional(
    Obj({
      gitProviders: Type.Optional(Type.Array(ProviderStatusEntry)),
      gateways: Type.Optional(Type.Array(ProviderStatusEntry)),
      gitOpsProviders: Type.Optional(Type.Array(ProviderStatusEntry)),
    }),
  ),
  bootstrap: Type.Optional(
    Obj({
      repositories: Type.Optional(
        Type.Array(Obj({ name: Type.String(), ready: Type.Boolean(), cloneURL: Type.Optional(Type.String()), application: Type.Optional(Type.String()) })),
      ),
    }),
  ),
});
export type PlatformStatus = Static<typeof PlatformStatus>;
