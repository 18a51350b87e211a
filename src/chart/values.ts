/**
 * The values of the Helm chart charts/idpbuilder, as a TypeBox schema: the single source of the chart's
 * values.schema.json (`npm run crds` writes it, `npm run check:generated` checks it). Helm validates the
 * merged values against it on install, upgrade, template and lint, so a wrong type (`--set
 * replicaCount=abc`) or a misspelt key (`--set replicas=3`) fails before anything is rendered.
 *
 * Objects of the chart's own settings are closed (additionalProperties: false). Values that are passed
 * through to Kubernetes as they are (resources, probes, securityContexts, affinity, tolerations, RBAC rules,
 * NetworkPolicy peers) stay open objects: the API server validates those, and closing them here would
 * reject fields of newer Kubernetes versions.
 *
 * The defaults live in values.yaml (Helm does not read schema defaults); test/unit/chart.test.ts checks
 * that values.yaml is valid against this schema.
 */
import { Type, type TSchema } from '@sinclair/typebox';

/** A closed object: every property optional (values.yaml supplies defaults), no other keys. */
const Closed = (properties: Record<string, TSchema>, description?: string) =>
  Type.Object(
    Object.fromEntries(Object.entries(properties).map(([k, v]) => [k, Type.Optional(v)])),
    { additionalProperties: false, ...(description ? { description } : {}) },
  );
/** A Kubernetes object passed through to a manifest unchanged (the API server validates it). */
const KubeObject = (description: string) => Type.Object({}, { additionalProperties: true, description });
const KubeList = (description: string) => Type.Array(Type.Object({}, { additionalProperties: true }), { description });
const StringMap = (description: string) => Type.Object({}, { additionalProperties: Type.String(), description });
const Bool = (description: string) => Type.Boolean({ description });
/** A string enum as JSON Schema `enum` (one clear error message, unlike a union of literals). */
const StringEnum = <T extends string>(values: readonly T[], description?: string) =>
  Type.Unsafe<T>({ type: 'string', enum: [...values], ...(description ? { description } : {}) });

/** RFC 1123 label: namespaces, ServiceAccount names. */
const DNSLabel = { pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$', maxLength: 63 };
/** A name that may be empty ("use the default"). */
const OptionalName = (description: string) => Type.String({ pattern: '^([a-z0-9]([-.a-z0-9]*[a-z0-9])?)?$', maxLength: 253, description });
/** Go duration (time.ParseDuration), as Metacontroller reads webhook.timeout. */
const GoDuration = '^([0-9]+(\\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$';
/** Prometheus duration, as monitoring.coreos.com/v1 validates `interval` and `scrapeTimeout`; empty: Prometheus' default. */
const PromDuration = '^((([0-9]+)y)?(([0-9]+)w)?(([0-9]+)d)?(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?(([0-9]+)ms)?)$';

const Monitor = (kind: string) =>
  Closed(
    {
      enabled: Bool(`Render a ${kind} (monitoring.coreos.com/v1; the Prometheus Operator CRDs must be installed).`),
      interval: Type.String({ pattern: PromDuration, description: 'Scrape interval, e.g. 30s; empty: the Prometheus default.' }),
      scrapeTimeout: Type.String({ pattern: PromDuration, description: 'Scrape timeout; empty: the Prometheus default.' }),
      labels: StringMap(`Extra labels of the ${kind} (for a Prometheus ${kind.charAt(0).toLowerCase()}${kind.slice(1)}Selector).`),
      annotations: StringMap(`Annotations of the ${kind}.`),
      namespace: OptionalName(`Namespace of the ${kind}; empty: the release namespace.`),
    },
    `A ${kind} for the hook service's /metrics endpoint.`,
  );

/**
 * Schema of the values of the Helm chart charts/idpbuilder (the source of its values.schema.json via valuesSchema):
 * images, replicas, log level, limits, the Metacontroller webhook and its token, service accounts, CRDs, metrics,
 * events, probes, Service, PodDisruptionBudget, NetworkPolicy and pod scheduling; every object closed (unknown keys
 * refused), every key optional (values.yaml holds the defaults).
 */
export const ChartValues = Type.Object(
  {
    global: Type.Optional(KubeObject('Helm global values (when the chart is a dependency); not read.')),
    nameOverride: Type.Optional(OptionalName('Replaces the chart name in object names.')),
    fullnameOverride: Type.Optional(OptionalName('Replaces <release>-<chart> in object names.')),
    image: Type.Optional(
      Closed({
        repository: Type.String({ minLength: 1 }),
        tag: Type.String({ description: "Empty: the chart's appVersion." }),
        digest: Type.String({ pattern: '^([a-z0-9]+:[a-fA-F0-9]+)?$', description: 'sha256:…; wins over tag.' }),
        pullPolicy: StringEnum(['Always', 'IfNotPresent', 'Never']),
      }),
    ),
    imagePullSecrets: Type.Optional(Type.Array(Closed({ name: Type.String({ minLength: 1 }) }))),
    jobImage: Type.Optional(Type.String({ description: 'Image of the Jobs; empty: image above.' })),
    replicaCount: Type.Optional(Type.Integer({ minimum: 0, description: 'Hook service replicas.' })),
    logLevel: Type.Optional(StringEnum(['fatal', 'error', 'warn', 'info', 'debug', 'trace'], 'pino log level of the hook service.')),
    limits: Type.Optional(
      Closed({
        maxConcurrency: Type.Integer({ minimum: 1, description: 'serve --max-concurrency' }),
        bodyLimit: Type.Integer({ minimum: 1, description: 'serve --body-limit, bytes' }),
        requestTimeoutSeconds: Type.Integer({ minimum: 0, description: 'serve --request-timeout, seconds; 0: off' }),
      }),
    ),
    webhook: Type.Optional(Closed({ timeout: Type.String({ pattern: `^(${GoDuration.slice(1, -1)})?$`, description: 'Go duration; empty: Metacontroller default.' }) })),
    webhookToken: Type.Optional(
      Closed({
        enabled: Bool('Bearer token between Metacontroller and the hooks.'),
        existingSecret: OptionalName('Secret in the release namespace holding the token; empty: generated.'),
        existingSecretKey: Type.String({ pattern: '^[-._a-zA-Z0-9]+$' }),
      }),
    ),
    serviceAccount: Type.Optional(
      Closed({
        create: Bool('Create the hook pods ServiceAccount.'),
        name: OptionalName('Default: <fullname>-hooks.'),
        annotations: StringMap('Annotations of the ServiceAccount.'),
      }),
    ),
    installer: Type.Optional(
      Closed({
        create: Bool('Create the installer ServiceAccounts and RBAC.'),
        serviceAccountName: Type.String(DNSLabel),
        namespaces: Type.Array(Type.String(DNSLabel), { description: 'Namespaces holding idpbuilder objects besides the release namespace.' }),
        clusterAdmin: Bool('Bind cluster-admin instead of the listed rules.'),
        extraRules: KubeList('Extra PolicyRules of the installer ClusterRole.'),
        annotations: StringMap('Annotations of the ServiceAccounts.'),
      }),
    ),
    runner: Type.Optional(
      Closed({
        create: Bool('Create the runner ServiceAccounts and Roles.'),
        serviceAccountName: Type.String(DNSLabel),
        crossNamespaceSecretRead: Bool('Runners may get Secrets in every idpbuilder namespace.'),
        annotations: StringMap('Annotations of the ServiceAccounts.'),
      }),
    ),
    crds: Type.Optional(
      Closed({
        install: Bool('Install and upgrade the idpbuilder.cnoe.io CRDs with the release (templates/crds.yaml).'),
        keep: Bool('Annotate the CRDs helm.sh/resource-policy: keep, so uninstalling (or crds.install=false) never deletes them.'),
      }),
    ),
    metrics: Type.Optional(Closed({ serviceMonitor: Monitor('ServiceMonitor'), podMonitor: Monitor('PodMonitor') })),
    events: Type.Optional(
      Closed({
        enabled: Bool('serve --events: the hook pods write events.k8s.io/v1 Events with their ServiceAccount (mounts its token, adds RBAC).'),
      }),
    ),
    tests: Type.Optional(Closed({ enabled: Bool('Render the `helm test` hook (templates/tests/) and let its pod reach the hook port.') })),
    podAnnotations: Type.Optional(StringMap('Annotations of the hook pods.')),
    podLabels: Type.Optional(StringMap('Labels of the hook pods.')),
    podSecurityContext: Type.Optional(KubeObject('PodSecurityContext of the hook pods.')),
    securityContext: Type.Optional(KubeObject('SecurityContext of the hook container.')),
    resources: Type.Optional(KubeObject('ResourceRequirements of the hook container.')),
    livenessProbe: Type.Optional(KubeObject('Probe; empty: none.')),
    readinessProbe: Type.Optional(KubeObject('Probe; empty: none.')),
    service: Type.Optional(Closed({ port: Type.Integer({ minimum: 1, maximum: 65535 }) })),
    podDisruptionBudget: Type.Optional(
      Closed({
        enabled: Bool('Render the PodDisruptionBudget (with replicaCount > 1).'),
        minAvailable: Type.Union([Type.Integer({ minimum: 0 }), Type.String({ pattern: '^[0-9]+%$' })]),
      }),
    ),
    networkPolicy: Type.Optional(
      Closed({
        enabled: Bool('Admit only Metacontroller (and extraFrom) to the hook port.'),
        metacontroller: Closed({ namespace: Type.String(DNSLabel), podLabels: StringMap('Labels of the Metacontroller pods; empty: every pod of the namespace.') }),
        extraFrom: KubeList('More NetworkPolicyPeers.'),
      }),
    ),
    priorityClassName: Type.Optional(OptionalName('PriorityClass of the hook pods.')),
    nodeSelector: Type.Optional(StringMap('nodeSelector of the hook pods.')),
    tolerations: Type.Optional(KubeList('Tolerations of the hook pods.')),
    affinity: Type.Optional(KubeObject('Affinity of the hook pods; empty: spread over nodes.')),
    topologySpreadConstraints: Type.Optional(KubeList('TopologySpreadConstraints of the hook pods.')),
  },
  { additionalProperties: false, title: 'Values of the idpbuilder chart' },
);

/** values.schema.json as written into the chart (JSON Schema draft-07; TypeBox's symbols dropped). */
export function valuesSchema(): Record<string, unknown> {
  return { $schema: 'http://json-schema.org/draft-07/schema#', ...(JSON.parse(JSON.stringify(ChartValues)) as Record<string, unknown>) };
}
