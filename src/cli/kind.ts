/**
 * The kind cluster: the config idpbuilder generates (today's pkg/kind/resources/kind.yaml.tmpl), a
 * user's `--kind-config` patched so that ingress works (today's ensureCorrectConfig), and the `kind`
 * commands. The cluster is created with `kind create cluster --name N --config -` (config on stdin); kind
 * writes the kubeconfig (context `kind-N`) to $KUBECONFIG or ~/.kube/config as usual.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { runOk, type Runner } from './exec.js';

/** Line printed before the kind config `create` generates (today's idpbuilder output). */
export const KIND_CONFIG_BANNER = '########################### Our kind config ############################';
/** Line printed after the kind config `create` generates. */
export const KIND_CONFIG_END = '#########################   config end    ############################';
/**
 * Node label (`ingress-ready=true`) of the kind node that maps the host port; ingress-nginx runs there (kind's
 * ingress guide).
 */
export const INGRESS_NODE_LABEL = 'ingress-ready';
/** Gitea's SSH NodePort, mapped to the same host port (today's template). */
export const GITEA_SSH_PORT = 32222;
const DEFAULT_REGISTRY_CONFIG = '$XDG_RUNTIME_DIR/containers/auth.json,$HOME/.docker/config.json';

/** A kind `extraPortMappings` entry: host port → node container port. */
export interface PortMapping {
  hostPort: number;
  containerPort: number;
}

/**
 * What the kind config is generated from: cluster name, Kubernetes version (node image tag), protocol, host, ingress
 * host, port, path routing, dev password, extra port mappings and the registry auth file to mount.
 */
export interface KindConfigInput {
  name: string;
  kubeVersion: string;
  protocol: 'http' | 'https';
  host: string;
  ingressHost: string;
  port: number;
  usePathRouting: boolean;
  devPassword: boolean;
  extraPorts: PortMapping[];
  /** Host path of the registry auth file to mount at /var/lib/kubelet/config.json. */
  registryConfig?: string;
  /** Host directory mounted at /etc/containerd/certs.d (hosts.toml and the platform CA for the Gitea registry). */
  registryCertsDir?: string;
  /** Node container port the host's `port` maps to (default: 80/443 by protocol, ingress-nginx's host ports;
   *  a NodePort for gateways without host ports, see create/platform.ts kindIngressContainerPort). */
  ingressContainerPort?: number;
}

function port(text: string, what: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isInteger(n) || n < 1 || n > 65535) throw new Error(`${what}: ${JSON.stringify(text)} is not a port number`);
  return n;
}

/** `--extra-ports host:container[,host:container…]` (today's format). */
export function parseExtraPorts(value: string | undefined): PortMapping[] {
  if (!value) return [];
  return value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((pair) => {
      const parts = pair.split(':');
      if (parts.length !== 2) throw new Error(`--extra-ports: ${JSON.stringify(pair)} is not host:container`);
      return { hostPort: port(parts[0], '--extra-ports'), containerPort: port(parts[1], '--extra-ports') };
    });
}

/** The container port ingress-nginx listens on (hostPort): 80 for http, 443 for https. */
function ingressContainerPort(protocol: 'http' | 'https'): number {
  return protocol === 'http' ? 80 : 443;
}

function ingressMapping(o: KindConfigInput): Record<string, unknown> {
  return {
    containerPort: o.ingressContainerPort ?? ingressContainerPort(o.protocol),
    hostPort: o.port,
    ...(o.devPassword ? { listenAddress: '127.0.0.1' } : {}),
    protocol: 'TCP',
  };
}

function mounts(o: KindConfigInput): Record<string, unknown>[] {
  return [
    ...(o.registryCertsDir ? [{ containerPath: NODE_CERTS_DIR, hostPath: o.registryCertsDir }] : []),
    ...(o.registryConfig ? [{ containerPath: '/var/lib/kubelet/config.json', hostPath: o.registryConfig }] : []),
  ];
}

const CONTAINERD_PATCH = '[plugins."io.containerd.grpc.v1.cri".registry]\n  config_path = "/etc/containerd/certs.d"';

/** The kind config idpbuilder generates (today's template, as YAML). */
export function defaultKindConfig(o: KindConfigInput): string {
  const node: Record<string, unknown> = {
    role: 'control-plane',
    image: `kindest/node:${o.kubeVersion}`,
    labels: { [INGRESS_NODE_LABEL]: 'true' },
    extraPortMappings: [
      ingressMapping(o),
      { containerPort: GITEA_SSH_PORT, hostPort: GITEA_SSH_PORT, protocol: 'TCP' },
      ...o.extraPorts.map((p) => ({ containerPort: p.containerPort, hostPort: p.hostPort, protocol: 'TCP' })),
    ],
  };
  const m = mounts(o);
  if (m.length) node.extraMounts = m;
  const config: Record<string, unknown> = { kind: 'Cluster', apiVersion: 'kind.x-k8s.io/v1alpha4', nodes: [node] };
  if (o.registryCertsDir) config.containerdConfigPatches = [CONTAINERD_PATCH];
  return stringify(config, { lineWidth: 0 });
}

/** The values a custom kind config may use as `{{ .Name }}` (today's TemplateConfig, scalars only). */
function templateValues(o: KindConfigInput): Record<string, string> {
  return {
    Protocol: o.protocol,
    Host: o.host,
    IngressHost: o.ingressHost,
    Port: String(o.port),
    UsePathRouting: String(o.usePathRouting),
    StaticPassword: String(o.devPassword),
    KubernetesVersion: o.kubeVersion,
    RegistryConfig: o.registryConfig ?? '',
    RegistryCertsDir: o.registryCertsDir ?? '',
  };
}

/** Replaces `{{ .Field }}` with values; any other template action is an error (what it is, where). */
export function substitute(text: string, values: Record<string, string>, what: string): string {
  return text.replace(/\{\{-?\s*([^}]*?)\s*-?\}\}/g, (whole, expr: string) => {
    const m = /^\.([A-Za-z][A-Za-z0-9]*)$/.exec(expr);
    if (!m || !(m[1] in values)) {
      throw new Error(`${what}: template action ${whole} is not supported (only ${Object.keys(values).map((k) => `{{ .${k} }}`).join(', ')})`);
    }
    return values[m[1]];
  });
}

/**
 * A user's kind config, templated, then patched like today's ensureCorrectConfig: the node that maps the
 * host port (else the first node) gets the port mapping and the `ingress-ready=true` label, so ingress-nginx
 * runs where the port is.
 * @throws Error naming `source` when the text is not YAML, is not a kind Cluster config, has no nodes, or uses an
 *   unsupported template action.
 */
export function customKindConfig(text: string, o: KindConfigInput, source = '--kind-config'): string {
  const rendered = substitute(text, templateValues(o), source);
  let parsed: unknown;
  try {
    parsed = parse(rendered);
  } catch (e) {
    throw new Error(`${source}: not YAML: ${(e as Error).message.split('\n')[0]}`);
  }
  const cfg = (parsed ?? {}) as { kind?: string; nodes?: Record<string, unknown>[] };
  if (typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error(`${source}: not a kind Cluster config`);
  if (!Array.isArray(cfg.nodes) || cfg.nodes.length === 0) throw new Error(`${source}: the kind config has no nodes`);
  let index = cfg.nodes.findIndex((n) => ((n.extraPortMappings as { hostPort?: number }[] | undefined) ?? []).some((pm) => Number(pm.hostPort) === o.port));
  if (index < 0) {
    index = 0;
    const node = cfg.nodes[0];
    node.extraPortMappings = [ingressMapping(o), ...((node.extraPortMappings as unknown[] | undefined) ?? [])];
  }
  const node = cfg.nodes[index];
  const labels = (node.labels as Record<string, string> | undefined) ?? {};
  if (labels[INGRESS_NODE_LABEL] !== 'true') node.labels = { ...labels, [INGRESS_NODE_LABEL]: 'true' };
  return stringify(cfg, { lineWidth: 0 });
}

/**
 * Reads `--kind-config`: a file, or an http(s) URL.
 * @throws Error when the URL cannot be fetched or answers a non-2xx status, or the file cannot be read.
 */
export async function loadKindConfig(pathOrURL: string): Promise<string> {
  if (/^https?:\/\//i.test(pathOrURL)) {
    let res: Response;
    let body: string;
    try {
      res = await fetch(pathOrURL, { signal: AbortSignal.timeout(30_000), redirect: 'follow' });
      body = await res.text();
    } catch (e) {
      throw new Error(`--kind-config: cannot fetch ${pathOrURL}: ${(e as Error).message}`);
    }
    if (res.status < 200 || res.status >= 300) throw new Error(`--kind-config: got HTTP ${res.status} fetching ${pathOrURL}`);
    return body;
  }
  try {
    return readFileSync(pathOrURL, 'utf8');
  } catch (e) {
    throw new Error(`--kind-config: cannot read ${pathOrURL}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

/**
 * `--registry-config [paths]`: the first of the (comma-separated, $VAR-expanded) paths that exists.
 * @throws Error when none of the listed paths exists.
 */
export function resolveRegistryConfig(value: string | boolean | undefined, env: NodeJS.ProcessEnv): string | undefined {
  if (value === undefined || value === false) return undefined;
  const list = (value === true ? DEFAULT_REGISTRY_CONFIG : value).split(',').map((s) => s.trim()).filter(Boolean);
  const expand = (p: string) => p.replace(/\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?/g, (_m, v: string) => env[v] ?? '');
  for (const p of list.map(expand)) if (p && existsSync(p)) return p;
  throw new Error(`--registry-config: none of ${list.join(', ')} exists`);
}

/** Where the certs.d directory is mounted in the kind node (containerd's registry `config_path`). */
const NODE_CERTS_DIR = '/etc/containerd/certs.d';
/** The platform's CA certificate, beside hosts.toml in the registry's certs.d directory. */
const REGISTRY_CA_FILE = 'ca.crt';

/**
 * The containerd hosts.toml that lets the node pull from Gitea's registry behind the platform's self-signed
 * certificate: the registry host (`gitea.<host>:<port>`, or `<host>:<port>` with path routing) is reached
 * inside the node on 443 (the ingress host port), and its certificate is verified against the platform CA
 * mounted beside the file (`ca`, containerd's hosts.toml field, read by containerd 1.5+ and 2.x alike; no
 * `skip_verify`). Source of the format: containerd docs/hosts.md.
 */
export function registryHosts(o: Pick<KindConfigInput, 'host' | 'port' | 'usePathRouting'>): { hostAndPort: string; toml: string; caPath: string } {
  const host = o.usePathRouting ? o.host : `gitea.${o.host}`;
  const hostAndPort = `${host}:${o.port}`;
  const caPath = `${NODE_CERTS_DIR}/${hostAndPort}/${REGISTRY_CA_FILE}`;
  return {
    hostAndPort,
    caPath,
    toml: `server = "https://${hostAndPort}"\n\n[host."https://${host}"]\n  capabilities = ["pull", "resolve"]\n  ca = "${caPath}"\n`,
  };
}

/**
 * Writes the certs.d directory for the cluster under the user's cache (it must outlive this process: it is
 * bind-mounted into the node at /etc/containerd/certs.d) — hosts.toml and the platform CA (PEM) — and returns
 * its path. Writing again replaces the CA: containerd reads the directory on every pull, no restart needed.
 */
export function writeRegistryCertsDir(env: NodeJS.ProcessEnv, o: Pick<KindConfigInput, 'name' | 'host' | 'port' | 'usePathRouting'>, caPem: string): string {
  const cache = env.XDG_CACHE_HOME || join(env.HOME || homedir(), '.cache');
  const dir = join(cache, 'idpbuilder', o.name, 'certs.d');
  const { hostAndPort, toml } = registryHosts(o);
  mkdirSync(join(dir, hostAndPort), { recursive: true });
  writeFileSync(join(dir, hostAndPort, REGISTRY_CA_FILE), caPem);
  writeFileSync(join(dir, hostAndPort, 'hosts.toml'), toml);
  return dir;
}

/** The `kind` commands idpbuilder runs. */
export class Kind {
  constructor(
    private readonly runner: Runner,
    readonly name: string,
  ) {}

  get context(): string {
    return `kind-${this.name}`;
  }

  async exists(): Promise<boolean> {
    const out = await runOk(this.runner, 'kind', ['get', 'clusters'], { what: 'kind get clusters' });
    return out.split('\n').map((l) => l.trim()).includes(this.name);
  }

  async create(config: string): Promise<void> {
    await runOk(this.runner, 'kind', ['create', 'cluster', '--name', this.name, '--config', '-'], { input: config, what: `kind create cluster --name ${this.name}`, timeoutMs: 20 * 60_000 });
  }

  async delete(): Promise<void> {
    await runOk(this.runner, 'kind', ['delete', 'cluster', '--name', this.name], { what: `kind delete cluster --name ${this.name}`, timeoutMs: 10 * 60_000 });
  }

  /** Writes the cluster's kubeconfig (context kind-<name>) into $KUBECONFIG or ~/.kube/config, as today. */
  async exportKubeconfig(): Promise<void> {
    await runOk(this.runner, 'kind', ['export', 'kubeconfig', '--name', this.name], { what: `kind export kubeconfig --name ${this.name}` });
  }
}
