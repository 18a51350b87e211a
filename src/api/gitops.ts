/** GitOps providers: Argo CD and Flux. Both expose endpoint, internalEndpoint, credentialsSecretRef. */
import { Type, type Static } from '@sinclair/typebox';
import { DNS1123Label, DNS1123Subdomain, Desc, Obj } from './schema.js';
import { ClusterRef, ClusterStatus, FreeForm, GitOpsProviderStatusFields, InstallMethod, InstalledStatusFields, ObjectRef, ReadyFlag, Resources, Routing, SecretRef, installedProviderSpec } from './common.js';

const Toggle = (description: string) => Obj({ enabled: Type.Boolean({ description: 'On or off (default false).' }) }, { description });
const Replicas = (description: string) => Type.Integer({ minimum: 0, maximum: 100, description });
/** An Argo CD component's replicas and resources (chart `<component>.*`). */
const ArgoComponent = (chartKey: string, description: string) =>
  Obj(
    {
      replicas: Type.Optional(Replicas(`Replicas: chart ${chartKey}.replicas.`)),
      resources: Type.Optional(Desc(Resources, `Container resources: chart ${chartKey}.resources.`)),
    },
    { description },
  );

/**
 * Schema of ArgoCDProvider `spec`: install namespace (default argocd), version, chart override, Helm values, deletion
 * policy, `clusters` to register (Argo CD cluster Secrets), `config`, `routing`, admin and repository credentials and
 * AppProjects (`projects`); the chart is argo-cd, its version pinned in src/controllers/defaults.ts.
 */
export const ArgoCDProviderSpec = Obj(
  {
    ...installedProviderSpec('argocd'),
    clusters: Type.Optional(
      Type.Array(ClusterRef, {
        maxItems: 32,
        description:
          'Clusters to register with Argo CD (docs/multi-cluster.md): each becomes an Argo CD cluster Secret (label argocd.argoproj.io/secret-type: cluster) in spec.namespace, written by the install Job from the kubeconfig; Applications reach it by destination.name = its status.clusters[].registeredName.',
      }),
    ),
    config: Type.Optional(
      Obj(
        {
          server: Type.Optional(
            Obj(
              {
                ingress: Type.Optional(
                  Obj(
                    {
                      enabled: Type.Optional(
                        Type.Boolean({ description: 'Route to Argo CD at all (default true): chart server.ingress.enabled, or server.httproute.enabled for an HTTPRoute gateway.' }),
                      ),
                      ingressClassName: Type.Optional(
                        Type.String({ maxLength: 253, description: "IngressClass: chart server.ingress.ingressClassName; default the gateway's status.ingressClassName, else nginx." }),
                      ),
                      hosts: Type.Optional(
                        Type.Array(DNS1123Subdomain, {
                            maxItems: 16,
                            description: 'Host names: the first is chart server.ingress.hostname and global.domain, the others server.ingress.extraHosts; default argocd.<routing.domain>.',
                        }),
                      ),
                    },
                    { description: 'The route to the Argo CD UI and API.' },
                  ),
                ),
                extraArgs: Type.Optional(
                  Type.Array(Type.String({ maxLength: 1024 }), { maxItems: 64, description: 'Extra argocd-server flags: chart server.extraArgs.' }),
                ),
                replicas: Type.Optional(Replicas('argocd-server replicas: chart server.replicas.')),
                resources: Type.Optional(Desc(Resources, 'argocd-server resources: chart server.resources.')),
              },
              { description: 'argocd-server (chart server.*).' },
            ),
          ),
          controller: Type.Optional(ArgoComponent('controller', 'The application controller (chart controller.*).')),
          repoServer: Type.Optional(ArgoComponent('repoServer', 'The repo server (chart repoServer.*).')),
          notifications: Type.Optional(Toggle('The notifications controller: chart notifications.enabled.')),
          dex: Type.Optional(Toggle('Dex (SSO): chart dex.enabled.')),
        },
        { description: 'Typed argo-cd chart settings; anything else goes through values.' },
      ),
    ),
    routing: Type.Optional(Routing),
    adminCredentials: Type.Optional(
      Obj(
        {
          secretRef: Type.Optional(
            Desc(SecretRef, "Secret (in this object's namespace) whose key password is the admin password; read when it exists, else one is generated."),
          ),
          autoGenerate: Type.Optional(
            Type.Boolean({ default: true, description: 'Generate an admin password (kept) when secretRef is absent or missing; false requires secretRef.' }),
          ),
        },
        {
          description: 'The admin account (user admin); its credential Secret is <name>-argocd-admin, its bcrypt hash goes to chart configs.secret.argocdServerAdminPassword.',
          'x-kubernetes-validations': [
            { rule: 'has(self.secretRef) || !has(self.autoGenerate) || self.autoGenerate', message: 'adminCredentials needs secretRef when autoGenerate is false', fieldPath: '.secretRef' },
          ],
        },
      ),
    ),
    repositoryCredentials: Type.Optional(
      Type.Array(
        Obj(
          { gitServerRef: Desc(ObjectRef, 'A git provider (another namespace needs a ReferenceGrant there for ArgoCDProvider).') },
          { description: "One git provider whose repositories Argo CD reads with the provider's repository credentials." },
        ),
        {
          maxItems: 16,
          description:
            "Git providers whose status.repositoryCredentialsSecretRef becomes an Argo CD credential template (repo-creds Secret, by URL prefix) in the install namespace, and whose CA (ca.crt) goes to chart configs.tls.certificates (argocd-tls-certs-cm, by host name). A Platform lists its git providers for its inline Argo CD.",
        },
      ),
    ),
    projects: Type.Optional(
      Type.Array(
        Obj({
            name: Desc(DNS1123Label, 'AppProject name.'),
            description: Type.Optional(Type.String({ maxLength: 255, description: 'AppProject description.' })),
            sourceRepos: Type.Optional(
              Type.Array(Type.String({ minLength: 1, maxLength: 2048 }), { maxItems: 64, description: 'Repository URLs (or globs) Applications of the project may use; default *.' }),
            ),
            destinations: Type.Optional(
              Type.Array(
                Obj(
                  {
                    server: Type.Optional(Type.String({ maxLength: 2048, description: 'Cluster API URL, e.g. https://kubernetes.default.svc; default any.' })),
                    namespace: Type.Optional(Type.String({ maxLength: 253, description: 'Namespace (or glob); default any.' })),
                  },
                  { description: 'One allowed destination.' },
                ),
                { maxItems: 64, description: 'Where Applications of the project may deploy; default anywhere.' },
              ),
            ),
        }),
        {
          maxItems: 64,
          'x-kubernetes-list-type': 'map',
          'x-kubernetes-list-map-keys': ['name'],
          description: 'AppProjects applied after the chart (the default project is always written).',
        },
      ),
    ),
  },
  { description: 'Argo CD installed with the argo-cd chart (default 10.1.1); docs/providers/argocdprovider.md maps each field to its chart value.' },
);
export type ArgoCDProviderSpec = Static<typeof ArgoCDProviderSpec>;

/**
 * Schema of ArgoCDProvider `status`: the gitops duck contract, the installed-provider fields and `serverHealth`
 * (argocd-server), the application controller StatefulSet, `applicationNamespaces` and registered `clusters`,
 * observed as related objects.
 */
export const ArgoCDProviderStatus = Obj(
  {
    ...GitOpsProviderStatusFields,
    ...InstalledStatusFields,
    serverHealth: Type.Optional(
      Obj({ status: Type.String({ description: 'Healthy when the argocd-server Deployment has a ready replica.' }) }, { description: 'argocd-server, observed as a related object.' }),
    ),
    applicationController: Type.Optional(Desc(ReadyFlag, 'The argocd-application-controller StatefulSet, observed as a related object.')),
    applicationNamespaces: Type.Optional(
      Type.Array(Type.String(), { description: 'Namespaces Applications may live in (chart configs.params."application.namespaces").' }),
    ),
    clusters: Type.Optional(Type.Array(ClusterStatus, { description: 'The clusters of spec.clusters as registered (or waiting for their kubeconfig).' })),
  },
  { description: 'Observed state; endpoint (the UI), internalEndpoint and credentialsSecretRef (admin password) form the GitOps provider contract.' },
);
export type ArgoCDProviderStatus = Static<typeof ArgoCDProviderStatus>;

const FluxController = (chartKey: string) =>
  Obj({ resources: Type.Optional(Desc(Resources, `Container resources: chart ${chartKey}.resources.`)) }, { description: `The ${chartKey} (chart ${chartKey}.*).` });

/**
 * Schema of FluxProvider `spec`: install namespace (default flux-system), version, chart override, Helm values,
 * deletion policy and per-controller settings (source, kustomize, helm, notification controllers) and the optional
 * web UI.
 */
export const FluxProviderSpec = Obj(
  {
    ...installedProviderSpec('flux-system'),
    config: Type.Optional(
      Obj(
        {
          sourceController: Type.Optional(FluxController('sourceController')),
          kustomizeController: Type.Optional(FluxController('kustomizeController')),
          helmController: Type.Optional(FluxController('helmController')),
          notificationController: Type.Optional(
            Obj(
              {
                enabled: Type.Optional(Type.Boolean({ default: true, description: 'Install the notification controller: chart notificationController.create.' })),
                resources: Type.Optional(Desc(Resources, 'Container resources: chart notificationController.resources.')),
              },
              { description: 'The notification controller (chart notificationController.*).' },
            ),
          ),
        },
        { description: 'Typed flux2 chart settings; anything else goes through values.' },
      ),
    ),
    multitenancy: Type.Optional(
      Obj(
        {
          enabled: Type.Boolean({ description: 'Lock Flux down for several tenants: chart multitenancy.enabled (--no-cross-namespace-refs, --default-service-account).' }),
          defaultServiceAccount: Type.Optional(Desc(DNS1123Subdomain, 'Service account reconciliations run as: chart multitenancy.defaultServiceAccount; required when enabled.')),
          privileged: Type.Optional(
            Type.Boolean({
              description:
                'Chart multitenancy.privileged (chart default true): keep cluster-admin for the kustomize and helm controllers; false grants them only the impersonation of ServiceAccounts.',
            }),
          ),
        },
        { description: 'Flux multi-tenancy lockdown; Packages deployed through this Flux then get a reconciler ServiceAccount and RoleBinding in their namespace (docs/providers/package.md).', 'x-kubernetes-validations': [{ rule: '!self.enabled || has(self.defaultServiceAccount)', message: 'multitenancy needs defaultServiceAccount', fieldPath: '.defaultServiceAccount' }] },
      ),
    ),
    dashboard: Type.Optional(
      Obj(
        {
          enabled: Type.Optional(
            Type.Boolean({ default: true, description: 'Install the Flux web UI (the Flux Operator chart, release flux-operator in spec.namespace) and route to it; default true.' }),
          ),
          host: Type.Optional(Desc(DNS1123Subdomain, 'Host name of the UI; default flux.<routing.domain> (also under path routing: the UI serves only from /).')),
          installMethod: Type.Optional(
            Desc(
              InstallMethod,
              'The Flux Operator chart: helm.repository (default oci://ghcr.io/controlplaneio-fluxcd/charts), helm.chart (default flux-operator), helm.version (default the pinned 0.49.0, also when helm is given without a version).',
            ),
          ),
          values: Type.Optional(
            FreeForm(
              'flux-operator chart values merged last over the ones the controller computes (objects key by key, lists replaced), e.g. resources or web.ingress.annotations; web.enabled, web.configSecretName, web.config.baseURL, web.config.authentication, web.rbac.createRoles and the route keys the controller sets may not be changed (Ready=False ConflictingValues).',
            ),
          ),
        },
        { description: 'The Flux Operator web UI (status.endpoint; anonymous read-only, no login) and a Flux admin token (status.credentialsSecretRef); docs/providers/fluxprovider.md.' },
      ),
    ),
    routing: Type.Optional(Routing),
    imageAutomation: Type.Optional(
      Toggle('Image automation and reflector controllers: chart imageAutomationController.create and imageReflectionController.create (always written).'),
    ),
  },
  { description: 'Flux controllers installed with the flux2 chart (default 2.18.3, Flux 2.8.5), and the Flux Operator web UI (chart flux-operator 0.49.0); docs/providers/fluxprovider.md maps each field.' },
);
export type FluxProviderSpec = Static<typeof FluxProviderSpec>;

const FluxReady = (deployment: string) => Type.Optional(Desc(ReadyFlag, `The ${deployment} Deployment, once observed.`));

/**
 * Schema of FluxProvider `status`: the gitops duck contract, the installed-provider fields and each Flux controller's
 * readiness (`controllers.*.ready`).
 */
export const FluxProviderStatus = Obj(
  {
    ...GitOpsProviderStatusFields,
    ...InstalledStatusFields,
    controllers: Type.Optional(
      Obj(
        {
          sourceController: FluxReady('source-controller'),
          kustomizeController: FluxReady('kustomize-controller'),
          helmController: FluxReady('helm-controller'),
          notificationController: FluxReady('notification-controller'),
          imageAutomationController: FluxReady('image-automation-controller'),
          imageReflectionController: FluxReady('image-reflector-controller'),
          dashboard: FluxReady('flux-operator (the web UI)'),
        },
        { description: 'Readiness of each installed Flux controller.' },
      ),
    ),
  },
  {
    description:
      "Observed state; endpoint (the Flux web UI), internalEndpoint (source-controller) and credentialsSecretRef (key token: a copy, in this object's namespace, of a Flux admin ServiceAccount token; not a UI login) form the GitOps provider contract; endpoint and credentialsSecretRef only with the dashboard on, once installed.",
  },
);
export type FluxProviderStatus = Static<typeof FluxProviderStatus>;
