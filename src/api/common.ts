/**
 * Shapes shared by several kinds: references, conditions, the Helm install method, and the three
 * duck-typed status contracts (git provider, gateway, GitOps provider). Consumers read providers only
 * through these fields (DESIGN.md decision 2).
 */
import { Type, type Static } from '@sinclair/typebox';
import { DNS1123Label, DNS1123Subdomain, Enum, FreeForm, HttpURL, KindName, Obj, Port, Quantity, StringMap } from './schema.js';

export const GROUP = 'idpbuilder.cnoe.io';
export const STORAGE_VERSION = 'v1alpha2';
export const SERVED_VERSIONS = ['v1alpha1', 'v1alpha2'] as const;
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

export const SecretKeyRef = Obj(
  {
    name: DNS1123Subdomain,
    namespace: ForbiddenNamespace,
    key: Type.Optional(Type.String({ minLength: 1, maxLength: 253, pattern: '^[-._a-zA-Z0-9]+$' })),
  },
  { description: "A Secret (and optionally one key in it) in the referring object's namespace.", ...ownNamespaceOnly },
);
export type SecretKeyRef = Static<typeof SecretKeyRef>;

export const SecretRef = Obj(
  { name: DNS1123Subdomain, namespace: ForbiddenNamespace },
  { description: "A Secret in the referring object's namespace.", ...ownNamespaceOnly },
);
export type SecretRef = Static<typeof SecretRef>;

/**
 * A reference to another idpbuilder object by kind and name (duck-typed: any kind that honours the
 * contract). In another namespace it resolves only if a ReferenceGrant there allows the referring kind
 * from the referring namespace (see ./referencegrant.ts).
 */
export const ObjectRef = Obj({
  kind: KindName,
  name: DNS1123Subdomain,
  namespace: Type.Optional(DNS1123Label),
});
export type ObjectRef = Static<typeof ObjectRef>;

export const Condition = Obj({
  type: Type.String({ minLength: 1, maxLength: 316, pattern: '^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$' }),
  status: Enum(['True', 'False', 'Unknown'] as const),
  reason: Type.Optional(Type.String({ maxLength: 1024 })),
  message: Type.Optional(Type.String({ maxLength: 32768 })),
  lastTransitionTime: Type.Optional(Type.String({ format: 'date-time' })),
  observedGeneration: Type.Optional(Type.Integer({ minimum: 0 })),
});
export type Condition = Static<typeof Condition>;

export const Phase = Enum(['Pending', 'Installing', 'Ready', 'Failed', 'Deleting'] as const);
export type Phase = Static<typeof Phase>;

export const Conditions = Type.Array(Condition, { maxItems: 16 });

/** Fields every status carries. */
export const BaseStatus = {
  conditions: Type.Optional(Conditions),
  observedGeneration: Type.Optional(Type.Integer({ minimum: 0 })),
  phase: Type.Optional(Phase),
};

export const HelmChart = Obj({
  repository: Type.String({ minLength: 1, maxLength: 2048, pattern: '^(https?|oci)://[^\\s]+$' }),
  chart: Type.Optional(Type.String({ minLength: 1, maxLength: 253 })),
  version: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
});
export type HelmChart = Static<typeof HelmChart>;

export const InstallMethod = Obj({
  type: Enum(['Helm'] as const, { default: 'Helm' }),
  helm: Type.Optional(HelmChart),
});
export type InstallMethod = Static<typeof InstallMethod>;

export const DeletionPolicy = Enum(['Delete', 'Retain'] as const, {
  default: 'Delete',
  description: 'Delete uninstalls what the provider installed when it is deleted; Retain leaves it running.',
});

export const Resources = Obj({
  limits: Type.Optional(StringMap(Quantity)),
  requests: Type.Optional(StringMap(Quantity)),
});

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
    values: Type.Optional(FreeForm('Helm values merged last over the values computed from this spec.')),
    deletionPolicy: Type.Optional(DeletionPolicy),
  };
}

/** How a component with a UI is reached: set by hand or filled in by the Platform that owns it. */
export const Routing = Obj({
  gatewayRef: Type.Optional(ObjectRef),
  domain: Type.Optional(Type.String({ ...DNS1123Subdomain, default: 'cnoe.localtest.me' })),
  usePathRouting: Type.Optional(Type.Boolean({ default: false })),
  protocol: Type.Optional(Enum(['http', 'https'] as const, { default: 'https' })),
  port: Type.Optional(Port),
  tlsSecretName: Type.Optional(DNS1123Subdomain),
});
export type Routing = Static<typeof Routing>;

// ---- duck-typed status contracts --------------------------------------------------------------

export const CredentialsSecretRef = Obj({ name: DNS1123Subdomain, namespace: DNS1123Label, key: Type.String({ minLength: 1 }) });

/** Git providers: endpoint, internalEndpoint, credentialsSecretRef. */
export const GitProviderStatusFields = {
  ...BaseStatus,
  endpoint: Type.Optional(Type.String()),
  internalEndpoint: Type.Optional(Type.String()),
  credentialsSecretRef: Type.Optional(CredentialsSecretRef),
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
      { name: Type.String({ minLength: 1, maxLength: 253 }), namespace: Type.String({ minLength: 1, maxLength: 63 }) },
      { description: 'With routeKind HTTPRoute: the Gateway API Gateway HTTPRoutes attach to (it admits routes of every namespace).' },
    ),
  ),
  prefixRewrite: Type.Optional(
    Enum(['NginxRewriteTarget', 'URLRewrite'] as const, {
      description:
        'How this gateway forwards /<prefix>/x as /x, if it can: NginxRewriteTarget (Ingress regex path + nginx.ingress.kubernetes.io/rewrite-target), URLRewrite (HTTPRoute URLRewrite filter, ReplacePrefixMatch). Absent: it forwards paths unchanged only.',
    }),
  ),
  loadBalancerEndpoint: Type.Optional(Type.String()),
  internalEndpoint: Type.Optional(Type.String()),
};

/** GitOps providers: same contract as git providers. */
export const GitOpsProviderStatusFields = { ...GitProviderStatusFields };

export const InstalledStatusFields = {
  installed: Type.Optional(Type.Boolean()),
  version: Type.Optional(Type.String()),
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

export const Address = Obj({ type: Type.String(), value: Type.String() });
export const ReadyFlag = Obj({ ready: Type.Boolean() });

export { HttpURL, Port, FreeForm };
