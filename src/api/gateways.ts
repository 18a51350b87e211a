/** The three gateway providers. Each exposes the gateway duck type (src/api/common.ts GatewayStatusFields): routeKind, ingressClassName or parentRef, prefixRewrite, loadBalancerEndpoint, internalEndpoint. */
import { Type, type Static } from '@sinclair/typebox';
import { DNS1123Label, DNS1123Subdomain, Enum, Obj, Port, StringMap } from './schema.js';
import { Address, GatewayStatusFields, InstalledStatusFields, ReadyFlag, Resources, SecretRef, installedProviderSpec } from './common.js';

const ServiceType = Enum(['ClusterIP', 'NodePort', 'LoadBalancer'] as const);
const NodePort = Type.Integer({ minimum: 30000, maximum: 32767 });
const ClassName = Type.String({ ...DNS1123Subdomain, description: 'Ingress/Gateway class name' });

/** Shorthands from the spec's multi-gateway example: the Service type and the class name. */
const gatewayShorthands = {
  serviceType: Type.Optional(ServiceType),
  class: Type.Optional(ClassName),
};

export const NginxGatewaySpec = Obj({
  ...installedProviderSpec('ingress-nginx'),
  ...gatewayShorthands,
  config: Type.Optional(
    Obj({
      controller: Type.Optional(
        Obj({
          replicaCount: Type.Optional(Type.Integer({ minimum: 0, maximum: 100 })),
          service: Type.Optional(
            Obj({
              type: Type.Optional(ServiceType),
              nodePorts: Type.Optional(Obj({ http: Type.Optional(NodePort), https: Type.Optional(NodePort) })),
            }),
          ),
          hostPort: Type.Optional(Obj({ enabled: Type.Boolean() })),
          resources: Type.Optional(Resources),
          admissionWebhooks: Type.Optional(Obj({ enabled: Type.Boolean() })),
          config: Type.Optional(StringMap(Type.String(), { description: 'ingress-nginx controller ConfigMap entries' })),
          extraArgs: Type.Optional(StringMap(Type.String())),
        }),
      ),
    }),
  ),
  ingressClass: Type.Optional(
    Obj({ name: Type.Optional(ClassName), isDefault: Type.Optional(Type.Boolean({ default: false })) }),
  ),
  defaultTLS: Type.Optional(Obj({ secretRef: SecretRef })),
});
export type NginxGatewaySpec = Static<typeof NginxGatewaySpec>;

export const NginxGatewayStatus = Obj({
  ...GatewayStatusFields,
  ...InstalledStatusFields,
  controller: Type.Optional(Obj({ replicas: Type.Integer({ minimum: 0 }), readyReplicas: Type.Integer({ minimum: 0 }) })),
});
export type NginxGatewayStatus = Static<typeof NginxGatewayStatus>;

const Listener = Obj(
  {
    name: DNS1123Label,
    protocol: Enum(['HTTP', 'HTTPS', 'TLS', 'TCP', 'UDP'] as const),
    port: Port,
    hostname: Type.Optional(Type.String({ maxLength: 253, pattern: '^(\\*\\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$' })),
    tls: Type.Optional(
      Obj({
        mode: Type.Optional(Enum(['Terminate', 'Passthrough'] as const, { default: 'Terminate' })),
        certificateRefs: Type.Optional(Type.Array(SecretRef, { maxItems: 64 })),
      }),
    ),
  },
  {
    'x-kubernetes-validations': [
      {
        rule: "self.protocol != 'HTTPS' || (has(self.tls) && (has(self.tls.mode) && self.tls.mode == 'Passthrough' || has(self.tls.certificateRefs) && size(self.tls.certificateRefs) > 0))",
        message: 'an HTTPS listener that terminates TLS needs tls.certificateRefs',
        fieldPath: '.tls',
      },
    ],
  },
);

export const EnvoyGatewaySpec = Obj({
  ...installedProviderSpec('envoy-gateway-system'),
  ...gatewayShorthands,
  config: Type.Optional(
    Obj({
      provider: Type.Optional(Obj({ type: Enum(['Kubernetes', 'Custom'] as const) })),
      gateway: Type.Optional(Obj({ controllerName: Type.String({ minLength: 1, maxLength: 253 }) })),
      resources: Type.Optional(Resources),
      deployment: Type.Optional(Obj({ replicas: Type.Optional(Type.Integer({ minimum: 0, maximum: 100 })), resources: Type.Optional(Resources) })),
    }),
  ),
  gatewayClass: Type.Optional(Obj({ name: Type.Optional(ClassName), isDefault: Type.Optional(Type.Boolean({ default: false })) })),
  listeners: Type.Optional(
    Type.Array(Listener, { maxItems: 64, 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['name'] }),
  ),
});
export type EnvoyGatewaySpec = Static<typeof EnvoyGatewaySpec>;

export const EnvoyGatewayStatus = Obj({
  ...GatewayStatusFields,
  ...InstalledStatusFields,
  gatewayClass: Type.Optional(Type.String()),
  gateway: Type.Optional(
    Obj({
      /** The Gateway API Gateway routes attach to (HTTPRoute parentRefs). */
      name: Type.Optional(Type.String()),
      namespace: Type.Optional(Type.String()),
      ready: Type.Boolean(),
      addresses: Type.Optional(Type.Array(Address)),
    }),
  ),
});
export type EnvoyGatewayStatus = Static<typeof EnvoyGatewayStatus>;

const IstioGatewayService = Obj({
  enabled: Type.Optional(Type.Boolean()),
  type: Type.Optional(ServiceType),
  ports: Type.Optional(
    Type.Array(Obj({ name: DNS1123Label, port: Port, nodePort: Type.Optional(NodePort), targetPort: Type.Optional(Port) }), { maxItems: 32 }),
  ),
});

export const IstioGatewaySpec = Obj({
  ...installedProviderSpec('istio-system'),
  ...gatewayShorthands,
  profile: Type.Optional(Enum(['default', 'demo', 'minimal', 'ambient'] as const, { default: 'default' })),
  config: Type.Optional(
    Obj({
      pilot: Type.Optional(Obj({ resources: Type.Optional(Resources) })),
      gateways: Type.Optional(StringMap(IstioGatewayService, { maxProperties: 16 })),
    }),
  ),
  gateway: Type.Optional(
    Obj({ name: Type.Optional(DNS1123Label), namespace: Type.Optional(DNS1123Label), selector: Type.Optional(StringMap(Type.String())) }),
  ),
  mesh: Type.Optional(
    Obj({
      mtls: Type.Optional(Obj({ mode: Enum(['STRICT', 'PERMISSIVE', 'DISABLE'] as const, { default: 'PERMISSIVE' }) })),
      observability: Type.Optional(Obj({ tracing: Type.Optional(Type.Boolean()), metrics: Type.Optional(Type.Boolean()) })),
    }),
  ),
});
export type IstioGatewaySpec = Static<typeof IstioGatewaySpec>;

export const IstioGatewayStatus = Obj({
  ...GatewayStatusFields,
  ...InstalledStatusFields,
  profile: Type.Optional(Type.String()),
  controlPlane: Type.Optional(Obj({ ready: Type.Boolean(), version: Type.Optional(Type.String()) })),
  gateway: Type.Optional(Obj({ ready: Type.Boolean(), addresses: Type.Optional(Type.Array(Address)) })),
});
export type IstioGatewayStatus = Static<typeof IstioGatewayStatus>;

export { ReadyFlag };
