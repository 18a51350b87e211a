import { Type, type Static } from '@sinclair/typebox';
import { DNS1123Label, DNS1123Subdomain, Desc, Duration, Enum, Obj } from './schema.js';
import { ApiVersion, BaseStatus, ClusterRef, ClusterStatus, ObjectRef, ResourceName } from './common.js';

/**
 * Kinds a health check knows without `readyWhen`: their API version, resource, and the readiness
 * expression used by default (CEL over the object as `self`, like `readyWhen`). Deployment and
 * StatefulSet: the controller has seen the current generation and `readyReplicas` reaches `spec.replicas`
 * (default 1); DaemonSet: `numberReady` reaches `desiredNumberScheduled`; Job: one Pod succeeded; Service:
 * it exists. Facts: the apps/v1 and batch/v1 status fields of the Kubernetes API reference.
 */
export const BUILTIN_HEALTH_KINDS: Readonly<Record<string, { apiVersion: string; resource: string; readyWhen: string }>> = (() => {
  const rollout =
    'has(self.status) && (has(self.status.observedGeneration) ? self.status.observedGeneration : 0) >= (has(self.metadata.generation) ? self.metadata.generation : 0)' +
    ' && (has(self.status.readyReplicas) ? self.status.readyReplicas : 0) >= (has(self.spec) && has(self.spec.replicas) ? self.spec.replicas : 1)';
  return {
    Deployment: { apiVersion: 'apps/v1', resource: 'deployments', readyWhen: rollout },
    StatefulSet: { apiVersion: 'apps/v1', resource: 'statefulsets', readyWhen: rollout },
    DaemonSet: {
      apiVersion: 'apps/v1',
      resource: 'daemonsets',
      readyWhen: 'has(self.status) && (has(self.status.numberReady) ? self.status.numberReady : 0) >= (has(self.status.desiredNumberScheduled) ? self.status.desiredNumberScheduled : 1)',
    },
    Job: { apiVersion: 'batch/v1', resource: 'jobs', readyWhen: 'has(self.status) && has(self.status.succeeded) && self.status.succeeded > 0' },
    Service: { apiVersion: 'v1', resource: 'services', readyWhen: 'true' },
  };
})();

/** A built-in kind (by `type`, with no apiVersion or its own): the CEL condition the health-check rules share. */
const builtinCel = Object.entries(BUILTIN_HEALTH_KINDS)
  .map(([kind, k]) => `(self.type == '${kind}' && (!has(self.apiVersion) || self.apiVersion == '${k.apiVersion}'))`)
  .join(' || ');

/**
 * Schema of one entry of Package `spec.healthChecks`: the kind (`type`), its `apiVersion` (default the built-in
 * kind's: apps/v1, batch/v1, v1) and plural `resource`, which object(s) to read, and an optional `readyWhen` CEL
 * expression (see api/ready-when.ts) deciding readiness.
 */
export const HealthCheck = Obj(
  {
    type: Type.String({ minLength: 1, maxLength: 63, pattern: '^[A-Z][A-Za-z0-9]*$', description: 'Kind of the object to check, e.g. Deployment or Certificate.' }),
    apiVersion: Type.Optional(
      Desc(ApiVersion, 'API version of the kind, group/version (v1 for the core group); default the built-in kind\'s (apps/v1, batch/v1, v1). Required for any other kind.'),
    ),
    resource: Type.Optional(
      Desc(ResourceName, 'Plural resource name of the kind, e.g. certificates; default the kind lower-cased and pluralised (…s, …es, …ies). Set it for an irregular plural.'),
    ),
    namespace: Type.Optional(Desc(DNS1123Label, "Its namespace; default the Package's. Another namespace needs a ReferenceGrant there.")),
    name: Desc(DNS1123Subdomain, 'Name of the object.'),
    readyWhen: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 2048,
        description:
          "CEL expression over the object (`self`) that is true when it is ready, e.g. self.status.conditions.exists(c, c.type == 'Ready' && c.status == 'True'). Default for Deployment, StatefulSet, DaemonSet, Job and Service: their usual readiness; required for any other kind. An absent field is an error (guard with has()), which counts as not ready.",
      }),
    ),
    timeout: Type.Optional(
      Desc(
        Duration,
        'Go duration like 10m: a check not passed this long after it started (the Package began deploying, or the check stopped passing) makes the Package Failed, reason HealthCheckTimeout. Default: no limit.',
      ),
    ),
  },
  {
    description: 'An object that must be ready besides the GitOps engine reporting success.',
    'x-kubernetes-validations': [
      {
        rule: `${builtinCel} || has(self.apiVersion)`,
        message: 'a health check of a kind other than Deployment, StatefulSet, DaemonSet, Job or Service needs apiVersion',
        fieldPath: '.apiVersion',
        reason: 'FieldValueRequired',
      },
      {
        rule: `${builtinCel} || has(self.readyWhen)`,
        message: 'a health check of a kind other than Deployment, StatefulSet, DaemonSet, Job or Service (of their own API version) needs readyWhen',
        fieldPath: '.readyWhen',
        reason: 'FieldValueRequired',
      },
    ],
  },
);
export type HealthCheck = Static<typeof HealthCheck>;

/**
 * Schema of Package `spec`: the `source` (a GitRepository by name and namespace, and the path in it), the gitops
 * provider (`gitOpsProviderRef`), the target `clusterRef`, Argo CD or Flux settings (`argocd`, `flux`),
 * `dependencies` on other Packages and `healthChecks`.
 */
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
      Type.Array(HealthCheck, {
        maxItems: 64,
        description: 'Objects of any kind that must be ready (readyWhen, or the built-in readiness of Deployments, StatefulSets, DaemonSets, Jobs and Services), besides the GitOps engine.',
      }),
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

/**
 * Schema of Package `status`: phase (Pending, Waiting, Deploying, Synced, Degraded, Failed), each health check's
 * result, the dependencies still waited for, the target cluster, and the Argo CD Application or Flux Kustomization
 * observed.
 */
export const PackageStatus = Obj(
  {
    ...BaseStatus,
    phase: Type.Optional(
      Enum(['Pending', 'Waiting', 'Deploying', 'Synced', 'Degraded', 'Failed'] as const, {
        description: 'Pending (source missing or refused), Waiting (dependencies), Deploying, Synced, Degraded or Failed (e.g. a dependency cycle).',
      }),
    ),
    healthChecks: Type.Optional(
      Type.Array(
        Obj(
          {
            type: Type.String({ description: 'Kind of the checked object.' }),
            apiVersion: Type.String({ description: 'Its API version.' }),
            namespace: Type.String({ description: 'Its namespace.' }),
            name: Type.String({ description: 'Its name.' }),
            ready: Type.Boolean({ description: 'Whether the check passes.' }),
            since: Type.String({ format: 'date-time', description: 'When the check started or last changed between passing and not (RFC 3339); timeout counts from here.' }),
            message: Type.Optional(Type.String({ description: 'Why it does not pass: not found, not ready, or what its readyWhen reported.' })),
          },
          { description: 'One health check as last evaluated.' },
        ),
        { maxItems: 64, description: 'The health checks of the current generation, once the Package deploys, in spec order.' },
      ),
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
