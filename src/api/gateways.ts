/** The three gateway providers. Each exposes the gateway duck type (src/api/common.ts GatewayStatusFields): routeKind, ingressClassName or parentRef, prefixRewrite, loadBalancerEndpoint, internalEndpoint. */
import { Type, type Static } from '@sinclair/typebox';
import { DNS1123Label, DNS1123Subdomain, Desc, Enum, Obj, Port, StringMap } from './schema.js';
import { Address, GatewayStatusFields, InstalledStatusFields, ReadyFlag, Resources, SecretRef, installedProviderSpec } from './common.js';

const ServiceType = Enum(['ClusterIP', 'NodePort', 'LoadBalancer'] as const, { description: 'Service type: ClusterIP, NodePort or LoadBalancer.' });
const NodePort = Type.Integer({ minimum: 30000, maximum: 32767, description: 'Node port (30000-32767).' });
const ClassName = Type.String({ ...DNS1123Subdomain, description: 'Ingress/Gateway class name' });

/** Shorthands from the spec's multi-gateway example: the Service type and the class name. */
const gatewayShorthands = {
  serviceType: Type.Optional(Desc(ServiceType, 'Type of the gateway\'s traffic Service: ClusterIP, NodePort or LoadBalancer (shorthand; a config field wins).')),
  class: Type.Optional(Desc(ClassName, 'Class the gateway serves (IngressClass or GatewayClass name; shorthand, a class field wins).')),
};
const Toggle = (description: string) => Obj({ enabled: Type.Boolean({ description: 'On or off.' }) }, { description });
const Replicas = (description: string) => Type.Integer({ minimum: 0, maximum: 100, description });

/**
 * Schema of NginxGateway `spec`: install namespace (default ingress-nginx), the gateway shorthands (`serviceType`,
 * `class`) and `config` of the ingress-nginx chart's controller; the chart and its pinned version are in
 * src/controllers/defaults.ts.
 */
export const NginxGatewaySpec = Obj(
  {
    ...installedProviderSpec('ingress-nginx'),
    ...gatewayShorthands,
    config: Type.Optional(
      Obj(
        {
          controller: Type.Optional(
            Obj(
              {
                replicaCount: Type.Optional(Replicas('Controller replicas: chart controller.replicaCount.')),
                service: Type.Optional(
                  Obj(
                    {
                      type: Type.Optional(Desc(ServiceType, 'Controller Service type: chart controller.service.type (wins over serviceType).')),
                      nodePorts: Type.Optional(
                        Obj(
                          { http: Type.Optional(Desc(NodePort, 'HTTP node port (30000-32767).')), https: Type.Optional(Desc(NodePort, 'HTTPS node port (30000-32767).')) },
                          { description: 'Fixed node ports with type NodePort: chart controller.service.nodePorts.' },
                        ),
                      ),
                    },
                    { description: 'The controller Service.' },
                  ),
                ),
                hostPort: Type.Optional(Toggle('Bind ports 80 and 443 on the node: chart controller.hostPort.enabled.')),
                resources: Type.Optional(Desc(Resources, 'Controller container resources: chart controller.resources.')),
                admissionWebhooks: Type.Optional(Toggle('The Ingress validating webhook: chart controller.admissionWebhooks.enabled.')),
                config: Type.Optional(StringMap(Type.String(), { description: 'ingress-nginx controller ConfigMap entries: chart controller.config.' })),
                extraArgs: Type.Optional(StringMap(Type.String(), { description: 'Extra controller flags without --: chart controller.extraArgs (merged with ours).' })),
              },
              { description: 'The ingress-nginx controller (chart controller.*).' },
            ),
          ),
        },
        { description: 'Typed ingress-nginx chart settings; anything else goes through values.' },
      ),
    ),
    ingressClass: Type.Optional(
      Obj(
        {
          name: Type.Optional(Desc(ClassName, 'IngressClass name: chart controller.ingressClass and controller.ingressClassResource.name; default class, else nginx.')),
          isDefault: Type.Optional(Type.Boolean({ default: false, description: 'Make it the cluster\'s default IngressClass: chart controller.ingressClassResource.default.' })),
        },
        { description: 'The IngressClass the controller serves.' },
      ),
    ),
    defaultTLS: Type.Optional(
      Obj(
        { secretRef: Desc(SecretRef, "TLS Secret in this object's namespace: chart controller.extraArgs.default-ssl-certificate <namespace>/<name>.") },
        { description: 'The certificate served for hosts without one of their own.' },
      ),
    ),
  },
  { description: 'The ingress-nginx controller, installed with the ingress-nginx chart (default 4.15.1); docs/providers/nginxgateway.md maps each field.' },
);
export type NginxGatewaySpec = Static<typeof NginxGatewaySpec>;

/**
 * Schema of NginxGateway `status`: the gateway duck contract, the installed-provider fields and the controller
 * Deployment's desired and ready replicas.
 */
export const NginxGatewayStatus = Obj(
  {
    ...GatewayStatusFields,
    ...InstalledStatusFields,
    controller: Type.Optional(
      Obj(
        {
          replicas: Type.Integer({ minimum: 0, description: 'Desired replicas of the controller Deployment.' }),
          readyReplicas: Type.Integer({ minimum: 0, description: 'Ready replicas; Ready waits for one.' }),
        },
        { description: 'The controller Deployment, observed as a related object.' },
      ),
    ),
  },
  { description: 'Observed state; routeKind, ingressClassName, prefixRewrite, loadBalancerEndpoint and internalEndpoint form the gateway contract.' },
);
export type NginxGatewayStatus = Static<typeof NginxGatewayStatus>;

const Listener = Obj(
  {
    name: Desc(DNS1123Label, 'Listener name, unique in the list.'),
    protocol: Enum(['HTTP', 'HTTPS', 'TLS', 'TCP', 'UDP'] as const, { description: 'HTTP, HTTPS, TLS, TCP or UDP.' }),
    port: Desc(Port, 'Port the Gateway listens on.'),
    hostname: Type.Optional(
      Type.String({
        maxLength: 253,
        pattern: '^(\\*\\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$',
        description: 'Host (or *.wildcard) the listener accepts; routes with other hostnames do not attach. Default any.',
      }),
    ),
    tls: Type.Optional(
      Obj(
        {
          mode: Type.Optional(Enum(['Terminate', 'Passthrough'] as const, { default: 'Terminate', description: 'Terminate TLS at the Gateway, or pass it through.' })),
          certificateRefs: Type.Optional(Type.Array(SecretRef, { maxItems: 64, description: "TLS Secrets in this object's namespace, needed to terminate HTTPS." })),
        },
        { description: 'TLS of an HTTPS or TLS listener (dropped on other protocols).' },
      ),
    ),
  },
  {
    description: 'A Gateway listener: Gateway.spec.listeners[], admitting routes of every namespace.',
    'x-kubernetes-validations': [
      {
        rule: "self.protocol != 'HTTPS' || (has(self.tls) && (has(self.tls.mode) && self.tls.mode == 'Passthrough' || has(self.tls.certificateRefs) && size(self.tls.certificateRefs) > 0))",
        message: 'an HTTPS listener that terminates TLS needs tls.certificateRefs',
        fieldPath: '.tls',
      },
    ],
  },
);

/**
 * Schema of EnvoyGateway `spec`: install namespace (default envoy-gateway-system), the gateway shorthands and
 * `config` of the Envoy Gateway chart (gateway-helm) and the Gateway it creates.
 */
export const EnvoyGatewaySpec = Obj(
  {
    ...installedProviderSpec('envoy-gateway-system'),
    ...gatewayShorthands,
    config: Type.Optional(
      Obj(
        {
          provider: Type.Optional(
            Obj(
              { type: Enum(['Kubernetes', 'Custom'] as const, { description: 'Kubernetes or Custom (the rest of a Custom provider goes through values).' }) },
              { description: 'Envoy Gateway provider: chart config.envoyGateway.provider.type.' },
            ),
          ),
          gateway: Type.Optional(
            Obj(
              { controllerName: Type.String({ minLength: 1, maxLength: 253, description: 'Controller name, also the GatewayClass controllerName; default gateway.envoyproxy.io/gatewayclass-controller[-<class>].' }) },
              { description: 'chart config.envoyGateway.gateway.' },
            ),
          ),
          resources: Type.Optional(Desc(Resources, 'Controller resources: chart deployment.envoyGateway.resources.')),
          deployment: Type.Optional(
            Obj(
              {
                replicas: Type.Optional(Replicas('Controller replicas: chart deployment.replicas.')),
                resources: Type.Optional(Desc(Resources, 'Controller resources: chart deployment.envoyGateway.resources (wins over config.resources).')),
              },
              { description: 'The Envoy Gateway controller Deployment.' },
            ),
          ),
        },
        { description: 'Typed gateway-helm chart settings; anything else goes through values.' },
      ),
    ),
    gatewayClass: Type.Optional(
      Obj(
        {
          name: Type.Optional(Desc(ClassName, 'GatewayClass name (also Gateway.spec.gatewayClassName); default class, else envoy.')),
          isDefault: Type.Optional(Type.Boolean({ default: false, description: 'No effect: Gateway API has no default GatewayClass.' })),
        },
        { description: 'The GatewayClass created for this install.' },
      ),
    ),
    listeners: Type.Optional(
      Type.Array(Listener, {
        maxItems: 64,
        'x-kubernetes-list-type': 'map',
        'x-kubernetes-list-map-keys': ['name'],
        description: 'Listeners of the Gateway; default one HTTP listener http on port 80.',
      }),
    ),
  },
  { description: 'Envoy Gateway (gateway-helm chart, default v1.9.0) with a GatewayClass and a Gateway; docs/providers/envoygateway.md maps each field.' },
);
export type EnvoyGatewaySpec = Static<typeof EnvoyGatewaySpec>;

const GatewayAddresses = Type.Array(Address, { description: "The gateway Service's status.loadBalancer.ingress entries." });

/**
 * Schema of EnvoyGateway `status`: the gateway duck contract, the installed-provider fields, the GatewayClass name
 * and the Gateway's state.
 */
export const EnvoyGatewayStatus = Obj(
  {
    ...GatewayStatusFields,
    ...InstalledStatusFields,
    gatewayClass: Type.Optional(Type.String({ description: 'Name of the GatewayClass.' })),
    gateway: Type.Optional(
      Obj(
        {
          name: Type.Optional(Type.String({ description: 'Name of the Gateway.' })),
          namespace: Type.Optional(Type.String({ description: 'Namespace of the Gateway (spec.namespace).' })),
          ready: Type.Boolean({ description: 'The Envoy proxy Deployment of the Gateway has a ready replica.' }),
          addresses: Type.Optional(GatewayAddresses),
        },
        { description: 'The Gateway API Gateway routes attach to (HTTPRoute parentRefs).' },
      ),
    ),
  },
  { description: 'Observed state; routeKind, parentRef, prefixRewrite, loadBalancerEndpoint and internalEndpoint form the gateway contract.' },
);
export type EnvoyGatewayStatus = Static<typeof EnvoyGatewayStatus>;

const IstioGatewayService = Obj(
  {
    enabled: Type.Optional(Type.Boolean({ description: 'Install this gateway release; false skips it (default true).' })),
    type: Type.Optional(Desc(ServiceType, 'Gateway Service type: gateway chart service.type (for the main gateway, wins over serviceType).')),
    ports: Type.Optional(
      Type.Array(
        Obj(
          {
            name: Desc(DNS1123Label, 'Port name.'),
            port: Desc(Port, 'Service port.'),
            nodePort: Type.Optional(Desc(NodePort, 'Node port with type NodePort (30000-32767).')),
            targetPort: Type.Optional(Desc(Port, 'Container port; default port.')),
          },
          { description: 'One Service port (protocol TCP).' },
        ),
        { maxItems: 32, description: "Service ports: gateway chart service.ports, replacing the chart's (status-port 15021 is added)." },
      ),
    ),
  },
  { description: 'One Istio ingress gateway release (gateway chart) and its Service.' },
);

/**
 * Schema of IstioGateway `spec`: install namespace (default istio-system), the gateway shorthands, `profile`
 * (default, demo, minimal, ambient; default `default`) and settings of the istio base, istiod and gateway charts.
 */
export const IstioGatewaySpec = Obj(
  {
    ...installedProviderSpec('istio-system'),
    ...gatewayShorthands,
    profile: Type.Optional(
      Enum(['default', 'demo', 'minimal', 'ambient'] as const, {
        default: 'default',
        description: 'Istio profile: istiod profile for demo and ambient (ambient also installs istio-cni and ztunnel); default and minimal change nothing.',
      }),
    ),
    config: Type.Optional(
      Obj(
        {
          pilot: Type.Optional(Obj({ resources: Type.Optional(Desc(Resources, 'istiod resources: istiod chart resources.')) }, { description: 'istiod settings.' })),
          gateways: Type.Optional(
            StringMap(IstioGatewayService, {
              maxProperties: 16,
              description: 'Gateway releases by name: the main one (gateway.name) and extra ones, each a gateway chart release.',
            }),
          ),
        },
        { description: 'Typed Istio chart settings; anything else for istiod goes through values.' },
      ),
    ),
    gateway: Type.Optional(
      Obj(
        {
          name: Type.Optional(
            Desc(DNS1123Label, 'Main gateway release, Deployment and Service name (at most 53 characters); default istio-ingressgateway.'),
          ),
          namespace: Type.Optional(Desc(DNS1123Label, 'Namespace of the gateway releases; default spec.namespace.')),
          selector: Type.Optional(
            StringMap(Type.String(), { description: 'Pod labels of the gateway: gateway chart labels (istio/app replace the selector labels).' }),
          ),
        },
        { description: 'The main ingress gateway, which serves Ingresses of the class.' },
      ),
    ),
    mesh: Type.Optional(
      Obj(
        {
          mtls: Type.Optional(
            Obj(
              {
                mode: Enum(['STRICT', 'PERMISSIVE', 'DISABLE'] as const, {
                  default: 'PERMISSIVE',
                  description: 'STRICT, PERMISSIVE or DISABLE: the mesh-wide PeerAuthentication default spec.mtls.mode.',
                }),
              },
              { description: 'Mesh-wide mutual TLS; absent: no PeerAuthentication (Istio\'s permissive default).' },
            ),
          ),
          observability: Type.Optional(
            Obj(
              {
                tracing: Type.Optional(Type.Boolean({ description: 'Generate spans: istiod meshConfig.enableTracing (a collector is configured separately).' })),
                metrics: Type.Optional(Type.Boolean({ description: 'Merge app and proxy metrics: istiod meshConfig.enablePrometheusMerge.' })),
              },
              { description: 'Mesh telemetry switches.' },
            ),
          ),
        },
        { description: 'Mesh-wide settings.' },
      ),
    ),
  },
  { description: 'Istio (base, istiod, gateway charts; default 1.30.3) with an ingress gateway serving an IngressClass; docs/providers/istiogateway.md maps each field.' },
);
export type IstioGatewaySpec = Static<typeof IstioGatewaySpec>;

/**
 * Schema of IstioGateway `status`: the gateway duck contract, the installed-provider fields, the profile in use and
 * the control plane (istiod) state.
 */
export const IstioGatewayStatus = Obj(
  {
    ...GatewayStatusFields,
    ...InstalledStatusFields,
    profile: Type.Optional(Type.String({ description: 'The profile in use (spec.profile, default default).' })),
    controlPlane: Type.Optional(
      Obj(
        {
          ready: Type.Boolean({ description: 'The istiod Deployment has a ready replica.' }),
          version: Type.Optional(Type.String({ description: 'Tag of the running istiod image.' })),
        },
        { description: 'istiod, observed as a related object.' },
      ),
    ),
    gateway: Type.Optional(
      Obj(
        { ready: Type.Boolean({ description: 'The gateway Deployment has a ready replica.' }), addresses: Type.Optional(GatewayAddresses) },
        { description: 'The main ingress gateway, observed as a related object.' },
      ),
    ),
  },
  { description: 'Observed state; routeKind, ingressClassName, loadBalancerEndpoint and internalEndpoint form the gateway contract.' },
);
export type IstioGatewayStatus = Static<typeof IstioGatewayStatus>;

export { ReadyFlag };
