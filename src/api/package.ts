import { Type, type Static } from '@sinclair/typebox';
import { DNS1123Label, DNS1123Subdomain, Desc, Duration, Enum, Obj } from './schema.js';
import { BaseStatus, ClusterRef, ClusterStatus, ObjectRef } from './common.js';

export const PackageSpec = Obj(
  {
    source: Obj(
      {
        gitRepository: Obj(
          {
            name: Desc(DNS1123Subdomain, 'Name of the GitRepository.'),
            namespace: Type.Optional(Desc(DNS1123Label, "Its namespace; default the Package's. Another namespace needs a ReferenceGrant there.")),
            path: Type.Optional(Type.String({ maxLength: 1024, description: 'Directory in the repository to deploy; default the root (.).' })),
            targetRevision: Type.Optional(
              Type.String({ maxLength: 255, description: 'Branch, tag or commit to deploy; default HEAD (Argo CD) or main (Flux).' }),
            ),
          },
          { description: 'The GitRepository whose status.cloneURL is deployed.' },
        ),
      },
      { description: 'What to deploy.' },
    ),
    gitOpsProviderRef: Type.Optional(
      Desc(ObjectRef, 'The GitOps provider (ArgoCDProvider or FluxProvider) that deploys; it must be Ready first. A FluxProvider selects Flux.'),
    ),
    clusterRef: Type.Optional(
      Desc(
        ClusterRef,
        "The cluster to deploy into (docs/multi-cluster.md), instead of argocd.destination server/name: Argo CD gets destination.name of the cluster its ArgoCDProvider registered (spec.clusters there); Flux gets kubeConfig.secretRef of the kubeconfig Secret. Absent: the GitOps engine's own cluster.",
      ),
    ),
    argocd: Type.Optional(
      Obj(
        {
          enabled: Type.Optional(Type.Boolean({ default: true, description: 'Deploy with an Argo CD Application (named like the Package, in its namespace).' })),
          project: Type.Optional(Type.String({ ...DNS1123Label, default: 'default', description: 'AppProject: Application spec.project.' })),
          cascadeDelete: Type.Optional(
            Type.Boolean({ default: true, description: 'Delete what the Application deployed when the Package is deleted (Argo CD resources finalizer).' }),
          ),
          releaseName: Type.Optional(Type.String({ minLength: 1, maxLength: 53, description: 'Helm release name, for sources that are Helm charts' })),
          destination: Type.Optional(
            Obj(
              {
                server: Type.Optional(Type.String({ maxLength: 2048, default: 'https://kubernetes.default.svc', description: 'API URL of the target cluster.' })),
                name: Type.Optional(Type.String({ maxLength: 253, description: 'Name of the target cluster in Argo CD (instead of server).' })),
                namespace: Type.Optional(Desc(DNS1123Label, 'Namespace for namespaced resources without one.')),
              },
              { description: 'Where to deploy: Application spec.destination.' },
            ),
          ),
          syncPolicy: Type.Optional(
            Obj(
              {
                automated: Type.Optional(
                  Obj(
                    {
                      prune: Type.Optional(Type.Boolean({ description: 'Delete resources no longer in Git.' })),
                      selfHeal: Type.Optional(Type.Boolean({ description: 'Revert changes made in the cluster.' })),
                      allowEmpty: Type.Optional(Type.Boolean({ description: 'Allow a sync that leaves no resources.' })),
                    },
                    { description: 'Sync automatically; absent: manual sync.' },
                  ),
                ),
                syncOptions: Type.Optional(
                  Type.Array(Type.String({ pattern: '^[A-Za-z]+=[^\\s]+$' }), { maxItems: 32, description: 'Argo CD sync options as Name=value, e.g. CreateNamespace=true.' }),
                ),
              },
              { description: 'Application spec.syncPolicy.' },
            ),
          ),
        },
        { description: "Deployment through Argo CD (the default): the Application's settings." },
      ),
    ),
    flux: Type.Optional(
      Obj(
        {
          enabled: Type.Optional(Type.Boolean({ default: true, description: 'Deploy with a Flux GitRepository and Kustomization.' })),
          interval: Type.Optional(Type.String({ ...Duration, default: '5m', description: 'Reconcile interval of both, a Go duration like 5m.' })),
          prune: Type.Optional(Type.Boolean({ default: true, description: 'Delete resources no longer in Git: Kustomization spec.prune.' })),
          targetNamespace: Type.Optional(Desc(DNS1123Label, 'Namespace for all resources: Kustomization spec.targetNamespace.')),
          serviceAccountName: Type.Optional(Desc(DNS1123Subdomain, 'Service account applying the resources: Kustomization spec.serviceAccountName.')),
        },
        { description: 'Deployment through Flux instead of Argo CD (not both).' },
      ),
    ),
    dependencies: Type.Optional(
      Type.Array(ObjectRef, { maxItems: 64, description: 'Objects (Packages, providers, …) that must be Ready before deploying; cycles are refused.' }),
    ),
    healthChecks: Type.Optional(
      Type.Array(
        Obj({
            type: Type.String({ minLength: 1, maxLength: 63, pattern: '^[A-Z][A-Za-z0-9]*$', description: 'Kind of the object to check, e.g. Deployment' }),
            apiVersion: Type.Optional(Type.String({ maxLength: 253, description: 'Not read: the API version follows from type.' })),
            namespace: Type.Optional(Desc(DNS1123Label, "Its namespace; default the Package's. Another namespace needs a ReferenceGrant there.")),
            name: Desc(DNS1123Subdomain, 'Name of the object.'),
            timeout: Type.Optional(Desc(Duration, 'Go duration like 5m; not enforced yet.')),
        }),
        { maxItems: 64, description: 'Deployments, StatefulSets, DaemonSets, Jobs or Services that must be ready, besides the Application.' },
      ),
    ),
  },
  {
    description: 'What to deploy, through which GitOps engine, after what (docs/providers/package.md).',
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

export const PackageStatus = Obj(
  {
    ...BaseStatus,
    phase: Type.Optional(
      Enum(['Pending', 'Waiting', 'Deploying', 'Synced', 'Degraded', 'Failed'] as const, {
        description: 'Pending (source missing or refused), Waiting (dependencies), Deploying, Synced, Degraded or Failed (e.g. a dependency cycle).',
      }),
    ),
    waitingFor: Type.Optional(Type.Array(Type.String(), { description: 'Dependencies not Ready yet, as Kind/name (why).' })),
    cluster: Type.Optional(ClusterStatus),
    dependsOn: Type.Optional(
      Type.Array(Type.String({ maxLength: 317, description: 'A Package as namespace/name.' }), {
        maxItems: 1000,
        description: 'Every Package this one waits on, directly or through other Packages (namespace/name, sorted); how dependency cycles are found.',
      }),
    ),
    argoApplication: Type.Optional(
      Obj(
        {
          name: Type.String({ description: 'Name of the Application.' }),
          namespace: Type.String({ description: 'Namespace of the Application.' }),
          syncStatus: Type.Optional(Type.String({ description: "The Application's sync status: Synced, OutOfSync or Unknown." })),
          healthStatus: Type.Optional(Type.String({ description: "The Application's health: Healthy, Progressing, Degraded, Suspended, Missing or Unknown." })),
        },
        { description: 'The Argo CD Application, as observed.' },
      ),
    ),
    fluxKustomization: Type.Optional(
      Obj(
        {
          name: Type.String({ description: 'Name of the Kustomization.' }),
          namespace: Type.String({ description: 'Namespace of the Kustomization.' }),
          ready: Type.Optional(Type.String({ description: "Status of its Ready condition: True, False or Unknown." })),
          reason: Type.Optional(Type.String({ description: 'Reason of its Ready condition.' })),
        },
        { description: 'The Flux Kustomization, as observed.' },
      ),
    ),
  },
  { description: 'Observed state of the deployment.' },
);
export type PackageStatus = Static<typeof PackageStatus>;
