/**
 * Shapes shared by several kinds: references, conditions, the Helm install method, and the three
 * duck-typed status contracts (git provider, gateway, GitOps provider). Consumers read providers only
 * through these fields (DESIGN.md decision 2).
 */
import { Type, type Static } from '@sinclair/typebox';
import { DNS1123Label, DNS1123Subdomain, Desc, Enum, FreeForm, HttpURL, KindName, Obj, Port, Quantity, StringMap } from './schema.js';

/** API group of every idpbuilder kind (`apiVersion: idpbuilder.cnoe.io/…`); the CRDs' `spec.group`. */
export const GROUP = 'idpbuilder.cnoe.io';
/** The CRD version objects are stored in (`storage: true`); the newest served version. */
export const STORAGE_VERSION = 'v1alpha2';
/** Every CRD version the API server serves, oldest first. */
export const SERVED_VERSIONS = ['v1alpha1', 'v1alpha2'] as const;
/** `apiVersion` of objects idpbuilder writes: `idpbuilder.cnoe.io/v1alpha2` (GROUP/STORAGE_VERSION). */
export const API_VERSION = `${GROUP}/${STORAGE_VERSION}`;

/**
 * Secret references resolve in the namespace of the object that holds them, as in Kubernetes' own API
 * (a Pod's `secretKeyRef`, `imagePullSecrets`): nobody can make a controller read a Secret of another
 * namespace. CRD validation rules cannot read `metadata.namespace`, so `namespace` is refused outright;
 * the field stays in the schema only to say so clearly (objects stored before the rule existed are also
 * refused by the controllers, with reason SecretRefNotPermitted).
 */
const ownNamespaceOnly = {
  'x-kubernetes-validations': [
    {
      // `namespace` is a reserved word in Kubernetes CEL: the field is written `__namespace__`.
      rule: '!has(self.__namespace__)',
      message: "a Secret reference resolves in the namespace of the object that holds it: remove namespace (a Secret of another namespace can't be referenced)",
      fieldPath: '.namespace',
      reason: 'FieldValueForbidden' as const,
    },
  ],
};
const ForbiddenNamespace = Type.Optional(
  Type.String({ ...DNS1123Label, description: 'Not allowed: a Secret reference resolves in the namespace of the object that holds it.' }),
);

const SecretName = Desc(DNS1123Subdomain, "Name of the Secret, in the referring object's namespace.");

/**
 * Schema of a reference to one key of a Secret in the referring object's namespace: `{name, key?}` (`namespace`
 * refused, see ownNamespaceOnly); the default key is the field's, given in its description.
 */
export const SecretKeyRef = Obj(
  {
    name: SecretName,
    namespace: ForbiddenNamespace,
    key: Type.Optional(
      Type.String({ minLength: 1, maxLength: 253, pattern: '^[-._a-zA-Z0-9]+$', description: 'Key in the Secret; the default depends on the field (see its description).' }),
    ),
  },
  { description: "A Secret (and optionally one key in it) in the referring object's namespace.", ...ownNamespaceOnly },
);
export type SecretKeyRef = Static<typeof SecretKeyRef>;

/** Schema of a reference to a whole Secret in the referring object's namespace: `{name}` (`namespace` refused). */
export const SecretRef = Obj(
  { name: SecretName, namespace: ForbiddenNamespace },
  { description: "A Secret in the referring object's namespace.", ...ownNamespaceOnly },
);
export type SecretRef = Static<typeof SecretRef>;

/**
 * A reference to another idpbuilder object by kind and name (duck-typed: any kind that honours the
 * contract). In another namespace it resolves only if a ReferenceGrant there allows the referring kind
 * from the referring namespace (see ./referencegrant.ts).
 */
/**
 * `group/version` of a referenced kind (`v1` alone for the core group): the API version of another group's
 * CRD that implements a duck type (docs/providers/README.md, "Providers of other API groups").
 */
export const ApiVersion = Type.String({
  minLength: 2,
  maxLength: 316,
  pattern: '^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?v[0-9]+((alpha|beta)[0-9]+)?$',
});
/** A resource (plural) name as the API serves it, e.g. `bitbucketproviders`. */
export const ResourceName = Type.String({ minLength: 1, maxLength: 63, pattern: '^[a-z][a-z0-9]*$' });

/**
 * Schema of a reference to another object by `kind` and `name` (plus optional `apiVersion`, `resource`, `namespace`);
 * duck-typed: any kind that publishes the needed status contract will do. Another namespace needs a ReferenceGrant
 * there.
 */
export const ObjectRef = Obj(
  {
    apiVersion: Type.Optional(
      Desc(ApiVersion, `API version of the referenced kind, group/version; default ${GROUP}/${STORAGE_VERSION}. Another group's kind works when it implements the duck type (Metacontroller must be allowed to read it: docs/rbac.md).`),
    ),
    kind: Desc(KindName, 'Kind of the referenced object, e.g. GiteaProvider (any kind with the needed status contract).'),
    resource: Type.Optional(
      Desc(ResourceName, "Plural resource name of the kind, e.g. bitbucketproviders; default the kind's plural: ours as registered, another group's kind lower-cased plus s. Set it when the CRD's plural differs."),
    ),
    name: Desc(DNS1123Subdomain, 'Name of the referenced object.'),
    namespace: Type.Optional(
      Desc(DNS1123Label, "Namespace of the referenced object; default the referring object's. Another namespace needs a ReferenceGrant there."),
    ),
  },
  { description: 'A reference to another object by kind, name and (optionally) namespace and API version.' },
);
export type ObjectRef = Static<typeof ObjectRef>;

/**
 * Schema of one status condition, shaped like Kubernetes' `metav1.Condition` (`type`, `status` True/False/Unknown,
 * `reason`, `message`, `lastTransitionTime` RFC 3339, `observedGeneration`).
 */
export const Condition = Obj(
  {
    type: Type.String({
      minLength: 1,
      maxLength: 316,
      pattern: '^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$',
      description: 'Condition type: Ready (the summary), Progressing, Degraded or VersionUnverified, depending on the kind.',
    }),
    status: Enum(['True', 'False', 'Unknown'] as const, { description: 'True, False or Unknown.' }),
    reason: Type.Optional(Type.String({ maxLength: 1024, description: 'CamelCase reason for the status, e.g. WaitingForGateway, SecretNotFound (listed in docs/providers/<kind>.md).' })),
    message: Type.Optional(Type.String({ maxLength: 32768, description: 'Human-readable details; never carries a credential.' })),
    lastTransitionTime: Type.Optional(Type.String({ format: 'date-time', description: 'When status last changed (RFC 3339).' })),
    observedGeneration: Type.Optional(Type.Integer({ minimum: 0, description: 'The metadata.generation this condition was computed from.' })),
  },
  { description: 'One aspect of the current state, as in Kubernetes API conventions (metav1.Condition).' },
);
export type Condition = Static<typeof Condition>;

/**
 * `status.phase` of the provider kinds: a one-word summary of the conditions (Pending, Installing, Ready, Failed,
 * Deleting).
 */
const Phase = Enum(['Pending', 'Installing', 'Ready', 'Failed', 'Deleting'] as const, {
  description: 'One-word summary of the conditions: Pending, Installing, Ready, Failed or Deleting.',
});

const Conditions = Type.Array(Condition, {
  maxItems: 16,
  description: 'Current state, one entry per type. Ready is the summary; its reason and message say why it is not True.',
});

/** Fields every status carries. */
export const BaseStatus = {
  conditions: Type.Optional(Conditions),
  observedGeneration: Type.Optional(
    Type.Integer({ minimum: 0, description: 'The metadata.generation this status was computed from; lower than metadata.generation while the controller catches up.' }),
  ),
  phase: Type.Optional(Phase),
};

/**
 * Schema of a chart to install instead of a provider's default: `repository` (https:// chart repository or oci://
 * reference), chart `name` and chart `version`.
 */
export const HelmChart = Obj(
  {
    repository: Type.String({
      minLength: 1,
      maxLength: 2048,
      pattern: '^(https?|oci)://[^\\s]+$',
      description: 'Chart repository URL (https://…) or OCI reference (oci://…).',
    }),
    chart: Type.Optional(Type.String({ minLength: 1, maxLength: 253, description: "Chart name in the repository; default the provider's default chart." })),
    version: Type.Optional(
      Type.String({ minLength: 1, maxLength: 128, description: "Chart version; default the provider's pinned chart version. Without a version known to the controller status.version stays empty." }),
    ),
  },
  { description: 'The Helm chart to install instead of the default one.' },
);
export type HelmChart = Static<typeof HelmChart>;

/**
 * Schema of `spec.installMethod`: `type` (only `Helm`, the default) and an optional `helm` chart overriding the
 * default chart of src/controllers/defaults.ts.
 */
export const InstallMethod = Obj(
  {
    type: Enum(['Helm'] as const, { default: 'Helm', description: 'How the component is installed; only Helm.' }),
    helm: Type.Optional(HelmChart),
  },
  { description: 'How the component is installed (helm upgrade --install by an install Job); overrides the default chart.' },
);
export type InstallMethod = Static<typeof InstallMethod>;

/**
 * Schema of `spec.deletionPolicy`: `Delete` (default; the uninstall Job runs `helm uninstall` when the object goes)
 * or `Retain` (the release keeps running).
 */
export const DeletionPolicy = Enum(['Delete', 'Retain'] as const, {
  default: 'Delete',
  description: 'Delete uninstalls what the provider installed when it is deleted; Retain leaves it running.',
});

/**
 * Schema of container resources as in a Pod container's `resources`: `requests` and `limits` maps of Kubernetes
 * quantities (cpu in cores or millicores, memory in bytes with SI/binary suffixes).
 */
export const Resources = Obj(
  {
    limits: Type.Optional(StringMap(Quantity, { description: 'Maximum per resource name (cpu in cores or millicores like 500m, memory in bytes like 512Mi).' })),
    requests: Type.Optional(StringMap(Quantity, { description: 'Reserved amount per resource name (cpu like 100m, memory like 128Mi).' })),
  },
  { description: 'Container resources, as a Pod container\'s resources (requests and limits).' },
);

/**
 * The cluster an object installs into or deploys to (docs/multi-cluster.md). Named like our other references
 * (`gatewayRef`, `gitServerRef`): `kind` + `name`, in the referring object's namespace (a kubeconfig is a
 * credential, so the Secret-reference rule applies: no `namespace`). The kubeconfig Secret is
 * - `Secret`: the Secret `name`, key `key` (default `value`, the key Cluster API and Flux's `kubeConfig.secretRef` use);
 * - `Cluster`: a Cluster API `Cluster` (cluster.x-k8s.io): its Secret `<name>-kubeconfig`, key `value`
 *   (cluster-api util/secret `KubeconfigDataName`); usable once `status.controlPlaneReady` is true;
 * - `VCluster`: a vCluster installed in this namespace: its Secret `vc-<name>`, key `config`
 *   (vcluster pkg/util/kubeconfig `DefaultSecretPrefix`, `KubeconfigSecretKey`).
 * Absent: the cluster the controllers run in.
 */
export const ClusterRef = Obj(
  {
    kind: Enum(['Secret', 'Cluster', 'VCluster'] as const, {
      description: 'Secret (a kubeconfig Secret), Cluster (a Cluster API Cluster: its <name>-kubeconfig Secret) or VCluster (a vCluster: its vc-<name> Secret).',
    }),
    name: Desc(DNS1123Subdomain, "Name of the Secret, Cluster or vCluster, in the referring object's namespace."),
    namespace: ForbiddenNamespace,
    key: Type.Optional(
      Type.String({ minLength: 1, maxLength: 253, pattern: '^[-._a-zA-Z0-9]+$', description: 'With kind Secret: the key holding the kubeconfig (default value).' }),
    ),
  },
  {
    description: "The cluster to install into (its kubeconfig Secret, a Cluster API Cluster or a vCluster) in the referring object's namespace; absent: the management cluster.",
    'x-kubernetes-validations': [
      ...ownNamespaceOnly['x-kubernetes-validations'],
      { rule: "!has(self.key) || self.kind == 'Secret'", message: 'key is only for kind Secret (Cluster API uses value, vCluster config)', fieldPath: '.key' },
    ],
  },
);
export type ClusterRef = Static<typeof ClusterRef>;

/** Duck-typed status: the cluster an object points at (absent: the management cluster). */
export const ClusterStatus = Obj(
  {
    kind: Type.String({ description: 'Secret, Cluster or VCluster (as spec.clusterRef).' }),
    name: Type.String({ description: 'Name of the Secret, Cluster or vCluster.' }),
    secretName: Type.String({ description: "The kubeconfig Secret (this object's namespace) the Jobs mount." }),
    key: Type.String({ description: 'The key of the kubeconfig in the Secret.' }),
    server: Type.Optional(Type.String({ description: "The API server URL of the kubeconfig's current context, once read." })),
    registeredName: Type.String({ description: 'The name the GitOps engine knows the cluster by (Argo CD cluster Secret name, Application destination.name).' }),
    reachable: Type.Boolean({ description: 'True when the kubeconfig Secret was found and the Cluster (if any) reports its control plane ready.' }),
  },
  { description: 'Duck-typed contract: which cluster this object installs into or deploys to.' },
);

/** Spec fields every Helm-installed provider has. */
export function installedProviderSpec(defaultNamespace: string) {
  return {
    namespace: Type.Optional(
      Type.String({ ...DNS1123Label, default: defaultNamespace, description: 'Namespace the component is installed into.' }),
    ),
    version: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 128,
        description:
          'Application version to run (a leading v is optional): written to the chart\'s image tag, or for Istio and Flux the chart version that ships it. status.version reports what runs; see docs/providers/<kind>.md.',
      }),
    ),
    installMethod: Type.Optional(InstallMethod),
    values: Type.Optional(
      FreeForm('Helm values merged last over the values computed from this spec (objects key by key, lists replaced); values the controller relies on may not be changed.'),
    ),
    deletionPolicy: Type.Optional(DeletionPolicy),
    clusterRef: Type.Optional(ClusterRef),
  };
}

/** How a component with a UI is reached: set by hand or filled in by the Platform that owns it. */
export const Routing = Obj(
  {
    gatewayRef: Type.Optional(
      Desc(ObjectRef, 'The gateway (NginxGateway, EnvoyGateway, IstioGateway, …) routes go through, read through its status; default: an nginx Ingress class.'),
    ),
    domain: Type.Optional(
      Type.String({ ...DNS1123Subdomain, default: 'cnoe.localtest.me', description: 'Base domain: host routing serves <component>.<domain>, path routing <domain>/<component>.' }),
    ),
    usePathRouting: Type.Optional(Type.Boolean({ default: false, description: 'Serve under a path of the domain (/gitea, /argocd) instead of a host of its own.' })),
    protocol: Type.Optional(Enum(['http', 'https'] as const, { default: 'https', description: 'Scheme of the public URL (status.endpoint); https turns on the route\'s TLS.' })),
    port: Type.Optional(Desc(Port, 'Port of the public URL when not the scheme\'s default (e.g. 8443 for a kind cluster).')),
    tlsSecretName: Type.Optional(Desc(DNS1123Subdomain, 'TLS Secret of the route, in the install namespace (with protocol https).')),
  },
  { description: 'How the UI is reached (host or path, scheme, port, gateway); set by hand or by the owning Platform.' },
);
export type Routing = Static<typeof Routing>;

// ---- duck-typed status contracts --------------------------------------------------------------

const CredentialsSecretRef = Obj(
  {
    name: Desc(DNS1123Subdomain, 'Name of the Secret.'),
    namespace: Desc(DNS1123Label, "The provider's namespace, where the Secret is."),
    key: Type.String({ minLength: 1, description: 'Key holding the token or password.' }),
  },
  { description: 'Duck-typed contract: the Secret and key consumers authenticate with (a token, or the admin password); absent when the provider has none.' },
);

/** Git providers: endpoint, internalEndpoint, credentialsSecretRef. */
export const GitProviderStatusFields = {
  ...BaseStatus,
  endpoint: Type.Optional(Type.String({ description: 'Duck-typed contract: the URL users open (web UI or organization page).' })),
  internalEndpoint: Type.Optional(Type.String({ description: 'Duck-typed contract: the base URL controllers and Jobs use (in-cluster Service URL, or the API URL for hosted providers).' })),
  credentialsSecretRef: Type.Optional(CredentialsSecretRef),
  gitAPI: Type.Optional(
    Enum(['gitea', 'github', 'gitlab'] as const, {
      description: "Optional in the duck type: the API GitRepositories create repositories through. Our kinds need not set it (GiteaProvider speaks gitea, …); a provider of another kind or API group sets it, or its GitRepositories stay UnsupportedGitServer.",
    }),
  ),
  usedBy: Type.Optional(
    Type.Array(
      Obj(
        {
          kind: Type.String({ minLength: 1, maxLength: 63, description: 'GitRepository or Package.' }),
          namespace: Type.String({ minLength: 1, maxLength: 63, description: 'Its namespace.' }),
          name: Type.String({ minLength: 1, maxLength: 253, description: 'Its name.' }),
        },
        { description: 'An object that references this provider.' },
      ),
      {
        maxItems: 20,
        description:
          'While the provider is being deleted: the GitRepositories (gitServerRef) and Packages (gitOpsProviderRef) that still reference it, from its own namespace or one a ReferenceGrant allows (at most 20; the Ready message counts the rest). Its finalize waits, without uninstalling, until none is left.',
      },
    ),
  ),
  repositoryCredentialsSecretRef: Type.Optional(
    Obj(
      {
        name: Desc(DNS1123Subdomain, 'Name of the Secret (labelled idpbuilder.cnoe.io/role: repository-credentials).'),
        namespace: Desc(DNS1123Label, "The provider's namespace, where the Secret is."),
      },
      {
        description:
          'Git provider contract (optional): a Secret with keys username and password for git over HTTPS, and ca.crt (PEM) when the server needs a custom CA; what GitOps engines are given to read repositories. Absent: repositories are read without credentials.',
      },
    ),
  ),
  caSecretRef: Type.Optional(
    Obj(
      {
        name: Desc(DNS1123Subdomain, 'Name of the Secret.'),
        namespace: Desc(DNS1123Label, "The provider's namespace, where the Secret is."),
        key: Type.String({ minLength: 1, description: 'Key holding the PEM CA bundle.' }),
      },
      { description: 'Git provider contract (optional): the CA bundle the server\'s TLS certificate chains to, when not a public CA.' },
    ),
  ),
};

/**
 * Gateways: which routing API they serve (`routeKind`, with `ingressClassName` for Ingress and `parentRef` for
 * HTTPRoute), whether they can strip a path prefix (`prefixRewrite`), loadBalancerEndpoint, internalEndpoint.
 * Consumers (GiteaProvider, ArgoCDProvider, the expose decorators) choose what to create from these fields
 * alone (src/kit/routing.ts `gatewayTarget`); docs/providers/README.md describes the contract.
 */
export const GatewayStatusFields = {
  ...BaseStatus,
  routeKind: Type.Optional(
    Enum(['Ingress', 'HTTPRoute'] as const, {
      description: 'The routing API this gateway serves: Ingress (of class ingressClassName) or Gateway API HTTPRoute (attached to parentRef). Absent: Ingress.',
    }),
  ),
  ingressClassName: Type.Optional(Type.String({ description: 'With routeKind Ingress: the IngressClass routes use.' })),
  parentRef: Type.Optional(
    Obj(
      {
        name: Type.String({ minLength: 1, maxLength: 253, description: 'Name of the Gateway.' }),
        namespace: Type.String({ minLength: 1, maxLength: 63, description: 'Namespace of the Gateway.' }),
      },
      { description: 'With routeKind HTTPRoute: the Gateway API Gateway HTTPRoutes attach to (it admits routes of every namespace).' },
    ),
  ),
  prefixRewrite: Type.Optional(
    Enum(['NginxRewriteTarget', 'URLRewrite'] as const, {
      description:
        'How this gateway forwards /<prefix>/x as /x, if it can: NginxRewriteTarget (Ingress regex path + nginx.ingress.kubernetes.io/rewrite-target), URLRewrite (HTTPRoute URLRewrite filter, ReplacePrefixMatch). Absent: it forwards paths unchanged only.',
    }),
  ),
  loadBalancerEndpoint: Type.Optional(Type.String({ description: 'Duck-typed contract: http://<ip or hostname> of the gateway Service\'s load balancer, once it has one.' })),
  internalEndpoint: Type.Optional(Type.String({ description: 'Duck-typed contract: in-cluster URL of the gateway Service (http://<service>.<namespace>.svc.cluster.local).' })),
};

/** GitOps providers: same contract as git providers (gitAPI and the repository credentials aside: they are about git servers). */
const { gitAPI: _gitAPI, repositoryCredentialsSecretRef: _repositoryCredentials, caSecretRef: _ca, ...gitOpsDuck } = GitProviderStatusFields;
/**
 * Status fields of the gitops duck contract (ArgoCDProvider, FluxProvider): the git provider fields without `gitAPI`,
 * `repositoryCredentialsSecretRef` and `caSecretRef`.
 */
export const GitOpsProviderStatusFields = { ...gitOpsDuck };

/**
 * Status fields of every Helm-installed provider: `cluster`, `installed` (an install Job of the current spec
 * succeeded), `version` (the chart's appVersion notation; absent while unverified) and `installation` (the Helm
 * release and chart that ran).
 */
export const InstalledStatusFields = {
  cluster: Type.Optional(ClusterStatus),
  installed: Type.Optional(Type.Boolean({ description: 'True once an install Job of the current spec succeeded.' })),
  version: Type.Optional(
    Type.String({ description: "Application version that runs, in the chart's appVersion notation; absent (with a VersionUnverified condition) when the controller cannot know it." }),
  ),
  installation: Type.Optional(
    Obj(
      {
        configMap: Type.String({ description: 'The values ConfigMap of the current install.' }),
        job: Type.String({ description: 'The current install Job (attempt `retries`).' }),
        retries: Type.Optional(Type.Integer({ minimum: 0, description: 'Failed attempts of this install so far; each retry is a new Job named after the attempt.' })),
        nextRetryTime: Type.Optional(Type.String({ format: 'date-time', description: 'When the next attempt starts (RFC 3339), after a failed install; absent otherwise.' })),
      },
      { description: 'The current install Job and its values ConfigMap (in this object\'s namespace).' },
    ),
  ),
};

/**
 * Schema of one load balancer address of a gateway Service, as in a Service's `status.loadBalancer.ingress` (`type`
 * IPAddress or Hostname, `value`).
 */
export const Address = Obj(
  {
    type: Type.String({ description: 'IPAddress or Hostname.' }),
    value: Type.String({ description: 'The IP address or host name.' }),
  },
  { description: 'One load balancer address of the gateway Service.' },
);
/**
 * Schema of the readiness of one workload (Deployment or StatefulSet) observed as a related object: `{ready}`, true
 * with at least one ready replica.
 */
export const ReadyFlag = Obj(
  { ready: Type.Boolean({ description: 'True when the workload has at least one ready replica.' }) },
  { description: 'Readiness of one workload (Deployment or StatefulSet), observed as a related object.' },
);

export { HttpURL, Port, FreeForm };
