import { Type, type Static } from '@sinclair/typebox';
import { DNS1123Label, DNS1123Subdomain, Desc, Enum, FreeForm, KindName, Obj, Port } from './schema.js';
import { BaseStatus, ClusterRef, DeletionPolicy, HelmChart, ObjectRef, SecretRef } from './common.js';

/** Provider references in a Platform list are unique by kind, name and namespace. */
const uniqueRefs = {
  // `namespace` is a reserved word in Kubernetes CEL: the field is written `__namespace__`.
  rule: "self.all(x, self.exists_one(y, y.kind == x.kind && y.name == x.name && (has(y.__namespace__) ? y.__namespace__ : '') == (has(x.__namespace__) ? x.__namespace__ : '')))",
  message: 'provider references must be unique',
};
const RefList = (description: string) => Type.Optional(Type.Array(ObjectRef, { maxItems: 16, description, 'x-kubernetes-validations': [uniqueRefs] }));

/**
 * Schema of one component a Platform creates inline (a provider object): `enabled` (default true; false removes it),
 * install `namespace`, `version`, `helmChart` override, Helm `values` and `deletionPolicy`, copied into the
 * provider's spec.
 */
export const InlineComponent = Obj(
  {
    enabled: Type.Optional(Type.Boolean({ default: true, description: 'Create the provider object; false removes it.' })),
    namespace: Type.Optional(Desc(DNS1123Label, "Install namespace: the provider's spec.namespace (default gitea, ingress-nginx, argocd).")),
    version: Type.Optional(Type.String({ minLength: 1, maxLength: 128, description: "Application version to run: the provider's spec.version." })),
    helmChart: Type.Optional(Desc(HelmChart, "The chart to install instead of the default: the provider's spec.installMethod.helm.")),
    values: Type.Optional(FreeForm("Helm values for this component, merged last: the provider's spec.values.")),
    deletionPolicy: Type.Optional(
      Desc(DeletionPolicy, "The provider's spec.deletionPolicy: what deleting the Platform (or disabling the component) does to the installation."),
    ),
  },
  { description: 'A provider the Platform creates and owns, named <platform>-<component>, in the Platform\'s namespace.' },
);
export type InlineComponent = Static<typeof InlineComponent>;

/** bootstrap.gitServerRef / gitOpsProviderRef: a provider named in components (kind optional). */
const BootstrapRef = (description: string) =>
  Type.Optional(
    Obj(
      {
        name: Desc(DNS1123Subdomain, 'Name of the provider.'),
        kind: Type.Optional(Desc(KindName, 'Kind of the provider; needed only when two providers of the list share the name.')),
        namespace: Type.Optional(Desc(DNS1123Label, "Namespace of the provider; default the Platform's.")),
      },
      { description },
    ),
  );

/**
 * Schema of Platform `spec`: base `domain` (default cnoe.localtest.me), `ingressConfig`, the target `clusterRef`, the
 * inline or referenced `components` (git providers, gateways, gitops) and the `bootstrap` objects.
 */
export const PlatformSpec = Obj(
  {
    domain: Type.Optional(
      Type.String({ ...DNS1123Subdomain, default: 'cnoe.localtest.me', description: 'Base domain of the UIs: routing.domain of the inline Gitea and Argo CD (gitea.<domain>, argocd.<domain>).' }),
    ),
    ingressConfig: Type.Optional(
      Obj(
        {
          provider: Type.Optional(
            Type.String({
              minLength: 1,
              maxLength: 63,
              description: 'Gateway to route UIs through: a gateway reference name, or a gateway kind short name (nginx, envoy, istio); default the first gateway.',
            }),
          ),
          usePathRouting: Type.Optional(
            Type.Boolean({ default: false, description: 'Serve the UIs under paths of the domain (/gitea, /argocd) instead of hosts: routing.usePathRouting.' }),
          ),
          tlsSecretRef: Type.Optional(Desc(SecretRef, "TLS Secret (in the Platform's namespace) of the inline NginxGateway: its defaultTLS.secretRef.")),
          protocol: Type.Optional(Enum(['http', 'https'] as const, { default: 'https', description: 'Scheme of the UIs\' URLs: routing.protocol.' })),
          port: Type.Optional(Desc(Port, 'Port of the UIs\' URLs when not the scheme\'s default (e.g. 8443): routing.port.')),
        },
        { description: 'How the inline Gitea and Argo CD are reached: becomes their routing.' },
      ),
    ),
    clusterRef: Type.Optional(
      Desc(
        ClusterRef,
        'The cluster the platform installs into (docs/multi-cluster.md): given to the inline Gitea and nginx and to the bootstrap Packages; the inline Argo CD stays beside the controllers and registers it (its spec.clusters). Absent: the management cluster.',
      ),
    ),
    components: Type.Optional(
      Obj(
        {
          gitProviders: RefList('Git providers (GiteaProvider, GitHubProvider, GitLabProvider, …), read through their status; unique by kind, name and namespace; at most 16.'),
          gateways: RefList('Gateways (NginxGateway, EnvoyGateway, IstioGateway, …), read through their status; unique by kind, name and namespace; at most 16.'),
          gitOpsProviders: RefList('GitOps providers (ArgoCDProvider, FluxProvider, …), read through their status; unique by kind, name and namespace; at most 16.'),
          argocd: Type.Optional(Desc(InlineComponent, 'An ArgoCDProvider <platform>-argocd the Platform creates and owns.')),
          gitea: Type.Optional(Desc(InlineComponent, 'A GiteaProvider <platform>-gitea the Platform creates and owns.')),
          nginx: Type.Optional(Desc(InlineComponent, 'An NginxGateway <platform>-nginx the Platform creates and owns.')),
        },
        { description: 'The providers of the platform: references to existing ones, and inline ones the Platform creates.' },
      ),
    ),
    bootstrap: Type.Optional(
      Obj(
        {
          gitServerRef: BootstrapRef('The git provider that hosts the bootstrap repositories; default the first git provider.'),
          gitOpsProviderRef: BootstrapRef('The GitOps provider that deploys the bootstrap repositories; default the first ArgoCDProvider, else the first GitOps provider.'),
          organization: Type.Optional(
            Type.String({ minLength: 1, maxLength: 255, description: "Organization (or group) of the bootstrap repositories; default the git provider's status.organization." }),
          ),
          repositories: Type.Optional(
            Type.Array(
              Obj({
                name: Desc(DNS1123Label, 'Repository name; also the name of its GitRepository and Package.'),
                path: Type.String({ minLength: 1, maxLength: 1024, description: 'Directory of the embedded content filling it (an Embedded source).' }),
                autoSync: Type.Optional(Type.Boolean({ default: true, description: 'Sync the repository again every 5m (its sync.autoSync).' })),
              }),
              {
                maxItems: 32,
                'x-kubernetes-list-type': 'map',
                'x-kubernetes-list-map-keys': ['name'],
                description: 'One GitRepository and Package each; default one per Helm-installed provider, holding its GitOps definition.',
              },
            ),
          ),
        },
        { description: 'The GitOps bootstrap: repositories and Packages created once every provider is Ready; none without a GitOps provider.' },
      ),
    ),
  },
  { description: 'Which providers make up the platform, how their UIs are reached and what is bootstrapped through GitOps.' },
);
export type PlatformSpec = Static<typeof PlatformSpec>;

const ProviderStatusEntry = Obj(
  {
    name: Type.String({ description: 'Name of the provider.' }),
    apiVersion: Type.Optional(Type.String({ description: "API version of the provider's kind, when it is not of idpbuilder.cnoe.io." })),
    kind: Type.String({ description: 'Kind of the provider.' }),
    namespace: Type.Optional(Type.String({ description: 'Namespace of the provider.' })),
    ready: Type.Boolean({ description: 'Whether its Ready condition is True.' }),
    phase: Type.Optional(Type.String({ description: 'Its status.phase.' })),
    observedGeneration: Type.Optional(Type.Integer({ description: 'Its status.observedGeneration.' })),
    message: Type.Optional(Type.String({ description: 'Why it is not ready (its Ready message, or not found / being created).' })),
  },
  { description: 'One provider as the Platform sees it.' },
);

/**
 * Schema of Platform `status`: phase (Pending, Progressing, Ready, Degraded, Deleting), each provider's readiness,
 * the clusters in use and the bootstrap state.
 */
export const PlatformStatus = Obj(
  {
    ...BaseStatus,
    phase: Type.Optional(
      Enum(['Pending', 'Progressing', 'Ready', 'Degraded', 'Deleting'] as const, {
        description: 'One-word summary: Pending, Progressing (providers or bootstrap not ready yet), Ready, Degraded (a provider failed or a reference is refused), Deleting.',
      }),
    ),
    providers: Type.Optional(
      Obj(
        {
          gitProviders: Type.Optional(Type.Array(ProviderStatusEntry, { description: 'The git providers, referenced and inline, in spec order.' })),
          gateways: Type.Optional(Type.Array(ProviderStatusEntry, { description: 'The gateways, referenced and inline, in spec order.' })),
          gitOpsProviders: Type.Optional(Type.Array(ProviderStatusEntry, { description: 'The GitOps providers, referenced and inline, in spec order.' })),
        },
        { description: 'Readiness of every provider of components.' },
      ),
    ),
    clusters: Type.Optional(
      Type.Array(
        Obj(
          {
            name: Type.String({ description: 'The registered name (status.cluster.registeredName of its members), or in-cluster for the management cluster.' }),
            kind: Type.String({ description: 'InCluster, Secret, Cluster or VCluster.' }),
            ref: Type.Optional(Type.String({ description: 'The referenced object, as Kind/name (absent for in-cluster).' })),
            server: Type.Optional(Type.String({ description: 'API server URL, when a member has read it.' })),
            reachable: Type.Boolean({ description: 'Every member pointing at it found its kubeconfig (and the Cluster reports a ready control plane).' }),
            members: Type.Array(Type.String(), { description: 'What the platform runs there: providers and Packages as Kind/name.' }),
          },
          { description: 'One cluster the platform uses.' },
        ),
        { description: 'Inventory: the clusters the platform uses, from its members\' status.cluster, with their health and what runs on each (sorted by name).' },
      ),
    ),
    bootstrap: Type.Optional(
      Obj(
        {
          repositories: Type.Optional(
            Type.Array(
              Obj(
                {
                  name: Type.String({ description: 'Name of the GitRepository and Package.' }),
                  ready: Type.Boolean({ description: 'Whether the GitRepository and its Package are Ready.' }),
                  cloneURL: Type.Optional(Type.String({ description: "The GitRepository's status.cloneURL." })),
                  application: Type.Optional(Type.String({ description: 'The Argo CD Application deploying it.' })),
                },
                { description: 'One bootstrap repository.' },
              ),
              { description: 'The bootstrap repositories and their Packages.' },
            ),
          ),
        },
        { description: 'Progress of the GitOps bootstrap.' },
      ),
    ),
  },
  { description: 'Observed state of the platform, written by the controller.' },
);
export type PlatformStatus = Static<typeof PlatformStatus>;
