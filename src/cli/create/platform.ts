/**
 * The objects `idpbuilder create` (and `idpbuilder migrate`) apply for a platform: a GiteaProvider, an
 * NginxGateway and an ArgoCDProvider in idpbuilder-system, and the Platform that references them; with a
 * static (dev) password also the Secret both admin users take their password from. Everything is checked
 * with the offline admission (the CRD schemas and CEL rules) before it goes near a cluster.
 */
import { API_VERSION } from '../../api/common.js';
import { Admission } from '../../api/validate.js';
import type { KubeObject } from '../../metacontroller/protocol.js';
import { mergeValues } from '../../kit/helm.js';
import { SYSTEM_NAMESPACE } from './kube.js';
import { TLS_SECRET } from '../tls.js';
import { GITEA_SSH_PORT, INGRESS_NODE_LABEL } from '../kind.js';

export const MANAGED_BY = { 'app.kubernetes.io/managed-by': 'idpbuilder' } as const;
/** Every object the CLI applies for a platform carries this label (value: the platform's name). */
export const CLI_PLATFORM_LABEL = 'idpbuilder.cnoe.io/cli-platform';
export const DEV_PASSWORD = 'developer';
export const DEV_PASSWORD_SECRET = 'idpbuilder-dev-password';
export const PROVIDERS = {
  gitea: { kind: 'GiteaProvider', name: 'gitea', namespace: 'gitea', plural: 'giteaproviders' },
  nginx: { kind: 'NginxGateway', name: 'nginx', namespace: 'ingress-nginx', plural: 'nginxgateways' },
  argocd: { kind: 'ArgoCDProvider', name: 'argocd', namespace: 'argocd', plural: 'argocdproviders' },
} as const;
export type CoreComponent = keyof typeof PROVIDERS;
export const CORE_COMPONENTS = Object.keys(PROVIDERS) as CoreComponent[];
/** The Service (in the gateway's namespace) that CoreDNS points the platform's host names at. */
export const INGRESS_SERVICE = 'idpbuilder-ingress';
export const GITEA_ADMIN = 'giteaAdmin';

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
}

export function labels(c: Pick<PlatformConfig, 'name'>): Record<string, string> {
  return { ...MANAGED_BY, [CLI_PLATFORM_LABEL]: c.name };
}

function isDefaultPort(protocol: string, port: number): boolean {
  return (protocol === 'https' && port === 443) || (protocol === 'http' && port === 80);
}

/** `https://argocd.<host>:<port>/` or, with path routing, `https://<host>:<port>/argocd` (today's output). */
export function componentURL(c: Pick<PlatformConfig, 'host' | 'protocol' | 'port' | 'usePathRouting'>, component: string): string {
  const port = isDefaultPort(c.protocol, c.port) ? '' : `:${c.port}`;
  return c.usePathRouting ? `${c.protocol}://${c.host}${port}/${component}` : `${c.protocol}://${component}.${c.host}${port}/`;
}

/** The objects for a platform, in apply order. */
export function platformObjects(c: PlatformConfig): KubeObject[] {
  const ns = c.namespace ?? SYSTEM_NAMESPACE;
  const meta = (name: string) => ({ name, namespace: ns, labels: labels(c) });
  const ingressHost = c.ingressHost && c.ingressHost !== c.host ? c.ingressHost : undefined;
  const gatewayRef = { kind: PROVIDERS.nginx.kind, name: PROVIDERS.nginx.name, namespace: ns };
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
  out.push({
    apiVersion: API_VERSION,
    kind: PROVIDERS.nginx.kind,
    metadata: meta(PROVIDERS.nginx.name),
    spec: {
      namespace: PROVIDERS.nginx.namespace,
      ingressClass: { name: 'nginx' },
      ...(c.protocol === 'https' ? { defaultTLS: { secretRef: { name: TLS_SECRET } } } : {}),
      ...(Object.keys(nginxConfig).length ? { config: nginxConfig } : {}),
      ...nonEmpty('values', mergeValues(nginxValues, c.values?.nginx)),
    },
  } as KubeObject);

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

  const ref = (p: (typeof PROVIDERS)[CoreComponent]) => [{ kind: p.kind, name: p.name, namespace: ns }];
  out.push({
    apiVersion: API_VERSION,
    kind: 'Platform',
    metadata: meta(c.name),
    spec: {
      domain: c.host,
      ingressConfig: {
        provider: PROVIDERS.nginx.name,
        usePathRouting: c.usePathRouting,
        protocol: c.protocol,
        port: c.port,
        ...(c.protocol === 'https' ? { tlsSecretRef: { name: TLS_SECRET } } : {}),
      },
      components: { gitProviders: ref(PROVIDERS.gitea), gateways: ref(PROVIDERS.nginx), gitOpsProviders: ref(PROVIDERS.argocd) },
    },
  } as KubeObject);
  return out;
}

function nonEmpty(key: string, v: Record<string, unknown>): Record<string, unknown> {
  return Object.keys(v).length ? { [key]: v } : {};
}

/**
 * A Service in front of the ingress-nginx controller pods that also listens on the platform's port, so
 * `https://gitea.<host>:<port>` is the same URL on the host and in pods (CoreDNS sends the host names here).
 */
export function ingressService(c: Pick<PlatformConfig, 'name' | 'protocol' | 'port'>): KubeObject {
  const ports = [
    { name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' },
    { name: 'https', port: 443, targetPort: 'https', protocol: 'TCP' },
  ];
  if (c.port !== 80 && c.port !== 443) ports.push({ name: 'platform', port: c.port, targetPort: c.protocol, protocol: 'TCP' });
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: INGRESS_SERVICE, namespace: PROVIDERS.nginx.namespace, labels: labels(c) },
    spec: {
      type: 'ClusterIP',
      selector: { 'app.kubernetes.io/name': 'ingress-nginx', 'app.kubernetes.io/instance': 'ingress-nginx', 'app.kubernetes.io/component': 'controller' },
      ports,
    },
  } as KubeObject;
}

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
