/**
 * The objects `idpbuilder create` (and `idpbuilder migrate`) apply for a platform: a GiteaProvider, a
 * gateway (`--gateway`: NginxGateway by default, EnvoyGateway or IstioGateway) and a GitOps provider
 * (`--gitops`: ArgoCDProvider by default, or FluxProvider) in idpbuilder-system, and the Platform that
 * references them; with a static (dev) password also the Secret the admin users take their password from.
 * Everything is checked with the offline admission (the CRD schemas and CEL rules) before it goes near a
 * cluster.
 */
import { API_VERSION } from '../../api/common.js';
import { Admission } from '../../api/validate.js';
import type { KubeObject } from '../../metacontroller/protocol.js';
import { mergeValues } from '../../kit/helm.js';
import { route, uiURL } from '../../kit/routing.js';
import { SYSTEM_NAMESPACE } from './kube.js';
import { TLS_SECRET } from '../tls.js';
import { GITEA_SSH_PORT, INGRESS_NODE_LABEL } from '../kind.js';

export { MANAGED_BY } from '../../api/names.js';
import { MANAGED_BY } from '../../api/names.js';
/** Every object the CLI applies for a platform carries this label (value: the platform's name). */
export const CLI_PLATFORM_LABEL = 'idpbuilder.cnoe.io/cli-platform';
const DEV_PASSWORD = 'developer';
const DEV_PASSWORD_SECRET = 'idpbuilder-dev-password';
/**
 * The core components `idpbuilder create` makes (provider kind, object name, install namespace, plural): gitea
 * (GiteaProvider in gitea), nginx (NginxGateway in ingress-nginx), argocd (ArgoCDProvider in argocd).
 */
export const PROVIDERS = {
  gitea: { kind: 'GiteaProvider', name: 'gitea', namespace: 'gitea', plural: 'giteaproviders' },
  nginx: { kind: 'NginxGateway', name: 'nginx', namespace: 'ingress-nginx', plural: 'nginxgateways' },
  argocd: { kind: 'ArgoCDProvider', name: 'argocd', namespace: 'argocd', plural: 'argocdproviders' },
} as const;
/** A core component name: `gitea`, `nginx` or `argocd` (the names `-c name:path` takes). */
export type CoreComponent = keyof typeof PROVIDERS;
/** `--gateway` choices: the provider object of each (name, install namespace). */
export const GATEWAYS = {
  nginx: PROVIDERS.nginx,
  envoy: { kind: 'EnvoyGateway', name: 'envoy', namespace: 'envoy-gateway-system', plural: 'envoygateways' },
  istio: { kind: 'IstioGateway', name: 'istio', namespace: 'istio-system', plural: 'istiogateways' },
} as const;
/** A `--gateway` value: nginx, envoy or istio. */
export type GatewayChoice = keyof typeof GATEWAYS;
/** `--gitops` choices. */
export const GITOPS = {
  argocd: PROVIDERS.argocd,
  flux: { kind: 'FluxProvider', name: 'flux', namespace: 'flux-system', plural: 'fluxproviders' },
} as const;
/** A `--gitops` value: argocd or flux. */
export type GitOpsChoice = keyof typeof GITOPS;
/** A provider object the CLI creates: kind, name, install namespace and plural resource. */
export interface ProviderId {
  kind: string;
  name: string;
  namespace: string;
  plural: string;
}
/**
 * Container ports of the gateway proxies the CLI's ingress Service targets, per scheme:
 * - ingress-nginx: its named ports `http`/`https` (hostPort 80/443 on kind);
 * - Envoy Gateway maps a listener port below 1024 to container port `port + 10000` (envoyproxy/gateway
 *   `expectedContainerPort`), so 80 → 10080 and 443 → 10443;
 * - the Istio `gateway` chart's Service targets ports 80 and 443 of the gateway pods.
 */
const GATEWAY_TARGET_PORTS: Record<GatewayChoice, { http: number | string; https: number | string }> = {
  nginx: { http: 'http', https: 'https' },
  envoy: { http: 10080, https: 10443 },
  istio: { http: 80, https: 443 },
};
/** Pod labels of each gateway's proxy (what the CLI's ingress Service selects). */
function gatewaySelector(g: GatewayChoice): Record<string, string> {
  if (g === 'envoy') return { 'gateway.envoyproxy.io/owning-gateway-name': GATEWAYS.envoy.name, 'gateway.envoyproxy.io/owning-gateway-namespace': GATEWAYS.envoy.namespace };
  if (g === 'istio') return { istio: 'ingressgateway' };
  return { 'app.kubernetes.io/name': 'ingress-nginx', 'app.kubernetes.io/instance': 'ingress-nginx', 'app.kubernetes.io/component': 'controller' };
}
/**
 * On kind, Envoy and Istio have no host port: the ingress Service is a NodePort on these fixed ports and the
 * kind node maps that container port to the host's `--port` (ingress-nginx binds host ports 80/443 itself).
 */
const KIND_NODE_PORTS = { http: 31080, https: 31443 } as const;
/** The core component names, in PROVIDERS order. */
export const CORE_COMPONENTS = Object.keys(PROVIDERS) as CoreComponent[];
/** The Service (in the gateway's namespace) that CoreDNS points the platform's host names at. */
export const INGRESS_SERVICE = 'idpbuilder-ingress';
/** User name of Gitea's admin account that `idpbuilder create` asks for (as idpbuilder names it). */
export const GITEA_ADMIN = 'giteaAdmin';

/**
 * What `idpbuilder create` builds the platform objects from: Platform name and namespace, host and ingress host,
 * protocol and port, path routing, dev password, kind mode (host ports, Gitea SSH NodePort), extra Helm values, and
 * the chosen gateway and gitops engine.
 */
export interface PlatformConfig {
  /** The Platform's name (the cluster name with kind). */
  name: string;
  namespace?: string;
  host: string;
  /** Host name the ingresses answer to (default: host). */
  ingressHost?: string;
  protocol: 'http' | 'https';
  port: number;
  usePathRouting: boolean;
  /** Set the admin passwords of Argo CD and Gitea to `developer` (a Secret both reference). */
  devPassword: boolean;
  /** kind: ingress-nginx on the node's host ports, Gitea SSH on NodePort 32222. */
  kind: boolean;
  /** Helm values per core component, merged last (from `-c name:file`). */
  values?: Partial<Record<CoreComponent, Record<string, unknown>>>;
  /** `--gateway` (default nginx). */
  gateway?: GatewayChoice;
  /** `--gitops` (default argocd). */
  gitops?: GitOpsChoice;
}

/** The platform's providers: git (always Gitea), gateway and GitOps, in that order. */
export function platformProviders(c: Pick<PlatformConfig, 'gateway' | 'gitops'>): { git: ProviderId; gateway: ProviderId; gitops: ProviderId } {
  return { git: PROVIDERS.gitea, gateway: GATEWAYS[c.gateway ?? 'nginx'], gitops: GITOPS[c.gitops ?? 'argocd'] };
}

/** The container port of the kind node that the host's `--port` maps to. */
export function kindIngressContainerPort(c: Pick<PlatformConfig, 'gateway' | 'protocol'>): number {
  if ((c.gateway ?? 'nginx') === 'nginx') return c.protocol === 'http' ? 80 : 443;
  return KIND_NODE_PORTS[c.protocol];
}

/**
 * The labels of every object the CLI creates for a platform: `app.kubernetes.io/managed-by: idpbuilder` and
 * `idpbuilder.cnoe.io/cli-platform: <platform name>`.
 */
export function labels(c: Pick<PlatformConfig, 'name'>): Record<string, string> {
  return { ...MANAGED_BY, [CLI_PLATFORM_LABEL]: c.name };
}

/**
 * `https://argocd.<host>:<port>/` or, with path routing, `https://<host>:<port>/argocd`; the port left out when
 * it is the scheme's default. The controllers' rule (kit/routing.ts `route`, `uiURL`) with `host` as the domain.
 */
export function componentURL(c: Pick<PlatformConfig, 'host' | 'protocol' | 'port' | 'usePathRouting'>, component: string): string {
  return uiURL(route(component, { domain: c.host, usePathRouting: c.usePathRouting, protocol: c.protocol, port: c.port }));
}

/** The objects for a platform, in apply order. */
export function platformObjects(c: PlatformConfig): KubeObject[] {
  const ns = c.namespace ?? SYSTEM_NAMESPACE;
  const meta = (name: string) => ({ name, namespace: ns, labels: labels(c) });
  const ingressHost = c.ingressHost && c.ingressHost !== c.host ? c.ingressHost : undefined;
  const gatewayChoice = c.gateway ?? 'nginx';
  const gitopsChoice = c.gitops ?? 'argocd';
  const ids = platformProviders(c);
  const gatewayRef = { kind: ids.gateway.kind, name: ids.gateway.name, namespace: ns };
  const routing = { gatewayRef, domain: c.host, usePathRouting: c.usePathRouting, protocol: c.protocol, port: c.port };
  const out: KubeObject[] = [];

  if (c.devPassword) {
    out.push({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: meta(DEV_PASSWORD_SECRET),
      type: 'Opaque',
      data: { password: Buffer.from(DEV_PASSWORD).toString('base64') },
    } as KubeObject);
  }

  out.push(gatewayObject(c, gatewayChoice, meta(ids.gateway.name)));

  const giteaValues = mergeValues(c.kind ? { service: { ssh: { type: 'NodePort', nodePort: GITEA_SSH_PORT } } } : {}, c.values?.gitea);
  out.push({
    apiVersion: API_VERSION,
    kind: PROVIDERS.gitea.kind,
    metadata: meta(PROVIDERS.gitea.name),
    spec: {
      namespace: PROVIDERS.gitea.namespace,
      routing,
      adminUser: c.devPassword
        ? { username: GITEA_ADMIN, passwordSecretRef: { name: DEV_PASSWORD_SECRET, key: 'password' }, autoGenerate: false }
        : { username: GITEA_ADMIN, autoGenerate: true },
      ...(ingressHost ? { config: { ingress: { host: c.usePathRouting ? ingressHost : `gitea.${ingressHost}` } } } : {}),
      ...nonEmpty('values', giteaValues),
    },
  } as KubeObject);

  if (gitopsChoice === 'argocd') {
    out.push({
      apiVersion: API_VERSION,
      kind: PROVIDERS.argocd.kind,
      metadata: meta(PROVIDERS.argocd.name),
      spec: {
        namespace: PROVIDERS.argocd.namespace,
        routing,
        adminCredentials: c.devPassword ? { secretRef: { name: DEV_PASSWORD_SECRET }, autoGenerate: false } : { autoGenerate: true },
        ...(ingressHost ? { config: { server: { ingress: { hosts: [c.usePathRouting ? ingressHost : `argocd.${ingressHost}`] } } } } : {}),
        ...nonEmpty('values', mergeValues({}, c.values?.argocd)),
      },
    } as KubeObject);
  } else {
    // Flux's web UI (FluxProvider spec.dashboard, on by default) is routed like Argo CD's, always on a host of its own.
    out.push({
      apiVersion: API_VERSION,
      kind: GITOPS.flux.kind,
      metadata: meta(GITOPS.flux.name),
      spec: { namespace: GITOPS.flux.namespace, routing, ...(ingressHost ? { dashboard: { host: `flux.${ingressHost}` } } : {}) },
    } as KubeObject);
  }

  const ref = (p: ProviderId) => [{ kind: p.kind, name: p.name, namespace: ns }];
  out.push({
    apiVersion: API_VERSION,
    kind: 'Platform',
    metadata: meta(c.name),
    spec: {
      domain: c.host,
      ingressConfig: {
        provider: ids.gateway.name,
        usePathRouting: c.usePathRouting,
        protocol: c.protocol,
        port: c.port,
        ...(c.protocol === 'https' ? { tlsSecretRef: { name: TLS_SECRET } } : {}),
      },
      components: { gitProviders: ref(ids.git), gateways: ref(ids.gateway), gitOpsProviders: ref(ids.gitops) },
    },
  } as KubeObject);
  return out;
}

/** The gateway provider object of `--gateway`. */
function gatewayObject(c: PlatformConfig, choice: GatewayChoice, metadata: KubeObject['metadata']): KubeObject {
  // On kind there is no load balancer: the proxy's own Service stays ClusterIP and the CLI's NodePort
  // ingress Service (ingressService) is what the host reaches.
  const kindService = c.kind ? { serviceType: 'ClusterIP' } : {};
  if (choice === 'envoy') {
    // HTTP always; HTTPS terminating with the platform certificate (a Secret of the EnvoyGateway's own namespace).
    const listeners: Record<string, unknown>[] = [{ name: 'http', protocol: 'HTTP', port: 80 }];
    if (c.protocol === 'https') listeners.push({ name: 'https', protocol: 'HTTPS', port: 443, tls: { mode: 'Terminate', certificateRefs: [{ name: TLS_SECRET }] } });
    return { apiVersion: API_VERSION, kind: GATEWAYS.envoy.kind, metadata, spec: { namespace: GATEWAYS.envoy.namespace, ...kindService, listeners } } as KubeObject;
  }
  if (choice === 'istio') {
    return { apiVersion: API_VERSION, kind: GATEWAYS.istio.kind, metadata, spec: { namespace: GATEWAYS.istio.namespace, ...kindService } } as KubeObject;
  }
  // ingress-nginx: on kind it binds the node's ports 80/443 (mapped to the host by the kind config) and
  // runs on the node labelled ingress-ready=true, like upstream's kind values.
  const nginxConfig: Record<string, unknown> = {};
  let nginxValues: Record<string, unknown> = {};
  if (c.kind) {
    nginxConfig.controller = { hostPort: { enabled: true }, service: { type: 'NodePort' }, extraArgs: { 'publish-status-address': 'localhost' } };
    nginxValues = {
      controller: {
        nodeSelector: { [INGRESS_NODE_LABEL]: 'true', 'kubernetes.io/os': 'linux' },
        tolerations: [
          { key: 'node-role.kubernetes.io/control-plane', operator: 'Equal', effect: 'NoSchedule' },
          { key: 'node-role.kubernetes.io/master', operator: 'Equal', effect: 'NoSchedule' },
        ],
        watchIngressWithoutClass: true,
        publishService: { enabled: false },
      },
    };
  }
  return {
    apiVersion: API_VERSION,
    kind: PROVIDERS.nginx.kind,
    metadata,
    spec: {
      namespace: PROVIDERS.nginx.namespace,
      ingressClass: { name: 'nginx' },
      ...(c.protocol === 'https' ? { defaultTLS: { secretRef: { name: TLS_SECRET } } } : {}),
      ...(Object.keys(nginxConfig).length ? { config: nginxConfig } : {}),
      ...nonEmpty('values', mergeValues(nginxValues, c.values?.nginx)),
    },
  } as KubeObject;
}

function nonEmpty(key: string, v: Record<string, unknown>): Record<string, unknown> {
  return Object.keys(v).length ? { [key]: v } : {};
}

/**
 * A Service in front of the gateway's proxy pods (`--gateway`) that also listens on the platform's port, so
 * `https://gitea.<host>:<port>` is the same URL on the host and in pods (CoreDNS sends the host names here).
 * For Envoy and Istio on kind it is a NodePort on KIND_NODE_PORTS, which the kind node maps to the host.
 */
export function ingressService(c: Pick<PlatformConfig, 'name' | 'protocol' | 'port' | 'gateway' | 'kind'>): KubeObject {
  const g = c.gateway ?? 'nginx';
  const target = GATEWAY_TARGET_PORTS[g];
  const nodePorts = c.kind && g !== 'nginx';
  const ports: Record<string, unknown>[] = [
    { name: 'http', port: 80, targetPort: target.http, protocol: 'TCP', ...(nodePorts && c.protocol === 'http' ? { nodePort: KIND_NODE_PORTS.http } : {}) },
    { name: 'https', port: 443, targetPort: target.https, protocol: 'TCP', ...(nodePorts && c.protocol === 'https' ? { nodePort: KIND_NODE_PORTS.https } : {}) },
  ];
  if (c.port !== 80 && c.port !== 443) ports.push({ name: 'platform', port: c.port, targetPort: target[c.protocol], protocol: 'TCP' });
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: INGRESS_SERVICE, namespace: GATEWAYS[g].namespace, labels: labels(c) },
    spec: { type: nodePorts ? 'NodePort' : 'ClusterIP', selector: gatewaySelector(g), ports },
  } as KubeObject;
}

/**
 * Thrown by validateObjects when generated objects fail offline admission; `problems` lists `Kind/name: path:
 * message`.
 */
export class InvalidObjectsError extends Error {
  constructor(readonly problems: string[]) {
    super(`the generated objects are not valid:\n${problems.map((p) => `  ${p}`).join('\n')}`);
  }
}

/** Offline admission of our kinds among `objects` (other kinds are skipped); throws listing every problem. */
export function validateObjects(objects: KubeObject[]): void {
  const admission = new Admission();
  const problems: string[] = [];
  for (const o of objects) {
    const r = admission.admit(o);
    if (r.outcome === 'invalid') for (const p of r.problems) problems.push(`${o.kind}/${o.metadata.name}: ${p.path}: ${p.message}`);
  }
  if (problems.length) throw new InvalidObjectsError(problems);
}
