/**
 * `idpbuilder get platforms|packages|secrets`: reads the objects with `kubectl get … -o json` and prints
 * kubectl-like tables (or `-o json|yaml`).
 *
 * `get secrets` shows credentials like today's CLI (plaintext, it is what the command is for; today's
 * pkg/cmd/get/secrets.go and pkg/printer): one core row (`IsCore: true`) per git or GitOps provider, then
 * every Secret labelled `cnoe.io/cli-secret=true` with its data as `k=v`. A GiteaProvider's row is today's
 * `<namespace>/gitea-credential` and an ArgoCDProvider's `<namespace>/argocd-initial-admin-secret` (username
 * `admin` added, as today), the Secrets their install Jobs write into the release namespace; Gitea's API token
 * comes from the provider's token Secret. A provider whose release Secret is not there (yet) shows its own
 * credential Secrets instead, under their names. `-p NAME` narrows to the provider NAME (`argocd`, `gitea`)
 * or to labelled Secrets with `cnoe.io/package-name=NAME`. JSON/YAML keys are today's: `IsCore`, `name`,
 * `namespace`, `username`, `password`, `token`, `data` (empty ones left out, `IsCore` always there).
 */
import type { Command } from 'commander';
import { stringify } from 'yaml';
import { KIND_BY_NAME } from '../api/kinds.js';
import type { KubeObject } from '../metacontroller/protocol.js';
import { missingTools } from './exec.js';
import { decodeData, Kube } from './create/kube.js';
import { defaultDeps, type CliDeps } from './deps.js';
import { DEFAULT_DOMAIN } from '../api/names.js';

/**
 * The flags of `idpbuilder get …`: output format (table, json or yaml), package names (`-p`), kubeconfig and context.
 */
export interface GetOptions {
  output: string;
  packages: string[];
  kubeconfig?: string;
  context?: string;
}

const CLI_SECRET_LABEL = 'cnoe.io/cli-secret';
const PACKAGE_NAME_LABEL = 'cnoe.io/package-name';

/** kubectl's table layout: upper-case headers, columns padded to the widest cell plus three spaces. */
export function table(headers: string[], rows: string[][]): string {
  const all = [headers.map((h) => h.toUpperCase()), ...rows];
  const widths = headers.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  return all.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] + 3))).join('').trimEnd()).join('\n') + '\n';
}

function age(created: string | undefined, now: number): string {
  if (!created) return '<unknown>';
  const s = Math.max(0, Math.floor((now - Date.parse(created)) / 1000));
  if (s < 120) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 120) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h`;
  return `${Math.floor(h / 24)}d`;
}

function condition(o: KubeObject, type: string): { status?: string; message?: string; reason?: string } | undefined {
  return ((o.status as { conditions?: { type: string; status?: string; message?: string; reason?: string }[] } | undefined)?.conditions ?? []).find((c) => c.type === type);
}

function list(objects: KubeObject[], format: string): string {
  const doc = { apiVersion: 'v1', kind: 'List', metadata: {}, items: objects };
  return format === 'json' ? `${JSON.stringify(doc, null, 2)}\n` : stringify(doc, { lineWidth: 0 });
}

function wanted(names: string[]): (name: string) => boolean {
  const set = new Set(names.flatMap((n) => n.split(',')).map((n) => n.trim()).filter(Boolean));
  return (name) => set.size === 0 || set.has(name);
}

// ---- platforms ----------------------------------------------------------------------------------------

function platformsTable(items: KubeObject[], now: number): string {
  const rows = items.map((o) => {
    const st = (o.status ?? {}) as { phase?: string; providers?: Record<string, { ready: boolean }[] | undefined> };
    const providers = Object.values(st.providers ?? {}).flatMap((x) => x ?? []);
    const ready = condition(o, 'Ready');
    return [
      o.metadata.name,
      o.metadata.namespace ?? '',
      String((o.spec as { domain?: string } | undefined)?.domain ?? DEFAULT_DOMAIN),
      st.phase ?? '<none>',
      ready?.status ?? 'Unknown',
      providers.length ? `${providers.filter((p) => p.ready).length}/${providers.length}` : '-',
      age((o.metadata as Record<string, unknown>).creationTimestamp as string | undefined, now),
      ready?.status === 'True' ? '' : (ready?.message ?? ''),
    ];
  });
  return table(['Name', 'Namespace', 'Domain', 'Phase', 'Ready', 'Providers', 'Age', 'Message'], rows);
}

// ---- packages -----------------------------------------------------------------------------------------

function packagesTable(packages: KubeObject[], repos: KubeObject[]): string {
  const repoOf = (ns: string, name: string) => repos.find((r) => r.metadata.name === name && r.metadata.namespace === ns);
  const rows = packages.map((p) => {
    const src = (p.spec as { source?: { gitRepository?: { name: string; namespace?: string } } } | undefined)?.source?.gitRepository;
    const repo = src ? repoOf(src.namespace ?? p.metadata.namespace ?? '', src.name) : undefined;
    const rs = (repo?.status ?? {}) as { url?: string; cloneURL?: string };
    const st = (p.status ?? {}) as { phase?: string; argoApplication?: { name: string; namespace: string; syncStatus?: string; healthStatus?: string } };
    const app = st.argoApplication;
    return [
      p.metadata.name,
      p.metadata.namespace ?? '',
      rs.url ?? rs.cloneURL ?? (src ? `GitRepository/${src.name}` : '-'),
      app ? `${app.namespace}/${app.name}` : '-',
      app?.syncStatus ?? '-',
      app?.healthStatus ?? '-',
      st.phase ?? '<none>',
      condition(p, 'Ready')?.status ?? 'Unknown',
    ];
  });
  return table(['Name', 'Namespace', 'Git Repository', 'Argo CD App', 'Sync', 'Health', 'Phase', 'Ready'], rows);
}

// ---- secrets ------------------------------------------------------------------------------------------

/** Today's core Secret names, per provider kind: written into the release namespace by the install Job. */
const CORE_SECRETS: Record<string, { name: string; defaultNamespace: string; username?: string }> = {
  GiteaProvider: { name: 'gitea-credential', defaultNamespace: 'gitea' },
  ArgoCDProvider: { name: 'argocd-initial-admin-secret', defaultNamespace: 'argocd', username: 'admin' },
};

/**
 * One row of `idpbuilder get secrets`: the Secret's name and namespace, and its username, password, token or other
 * data as text (core provider rows show only those fields).
 */
export interface SecretRow {
  name: string;
  namespace: string;
  username?: string;
  password?: string;
  token?: string;
  data?: Record<string, string>;
  /** Internal: provider rows show no data. */
  core?: boolean;
}

/** The credential rows of the git and GitOps providers, and the labelled Secrets. */
function secretRows(providers: KubeObject[], credentialSecrets: KubeObject[], labelled: KubeObject[], filter: string[]): SecretRow[] {
  const want = wanted(filter);
  const any = filter.flatMap((n) => n.split(',')).filter(Boolean).length > 0;
  const rows: SecretRow[] = [];
  const sorted = [...providers].sort((a, b) => `${a.kind}/${a.metadata.namespace}/${a.metadata.name}`.localeCompare(`${b.kind}/${b.metadata.namespace}/${b.metadata.name}`));
  for (const p of sorted) {
    const duck = KIND_BY_NAME.get(p.kind)?.duck;
    const ref = (p.status as { credentialsSecretRef?: { name: string; namespace: string; key: string } } | undefined)?.credentialsSecretRef;
    if ((duck !== 'git' && duck !== 'gitops') || !ref || !want(p.metadata.name)) continue;
    const ownerLabel = `idpbuilder.cnoe.io/${p.kind.toLowerCase()}`;
    const mine = credentialSecrets.filter((s) => s.metadata.namespace === p.metadata.namespace && s.metadata.labels?.[ownerLabel] === p.metadata.name);
    const refSecret = credentialSecrets.find((s) => s.metadata.name === ref.name && s.metadata.namespace === ref.namespace);
    const all = [...mine.filter((s) => s !== refSecret), ...(refSecret ? [refSecret] : [])];
    if (all.length === 0) continue;
    const merged: Record<string, string> = {};
    for (const s of all) for (const [k, v] of Object.entries(decodeData(s))) merged[k] ??= v;
    const refData = refSecret ? decodeData(refSecret) : {};
    const token = merged.token ?? (ref.key !== 'password' && ref.key !== 'username' ? refData[ref.key] : undefined);
    const core = CORE_SECRETS[p.kind];
    const coreNs = (p.spec as { namespace?: string } | undefined)?.namespace ?? core?.defaultNamespace;
    const release = core && credentialSecrets.find((s) => s.metadata.name === core.name && s.metadata.namespace === coreNs);
    if (release) {
      const d = decodeData(release);
      const username = d.username ?? core.username ?? merged.username;
      rows.push({
        name: core.name,
        namespace: coreNs ?? '',
        core: true,
        ...(username ? { username } : {}),
        ...(d.password ? { password: d.password } : {}),
        ...(token ? { token } : {}),
      });
      continue;
    }
    const home = all.find((s) => decodeData(s).password) ?? all[0];
    rows.push({
      name: home.metadata.name,
      namespace: home.metadata.namespace ?? '',
      core: true,
      ...(merged.username ? { username: merged.username } : {}),
      ...(merged.password ? { password: merged.password } : {}),
      ...(token ? { token } : {}),
    });
  }
  const coreNames = new Set(sorted.map((p) => p.metadata.name));
  for (const s of [...labelled].sort((a, b) => `${a.metadata.namespace}/${a.metadata.name}`.localeCompare(`${b.metadata.namespace}/${b.metadata.name}`))) {
    const pkg = s.metadata.labels?.[PACKAGE_NAME_LABEL];
    if (any && !(pkg && want(pkg) && !coreNames.has(pkg))) continue;
    const data = decodeData(s);
    rows.push({ name: s.metadata.name, namespace: s.metadata.namespace ?? '', ...(Object.keys(data).length ? { data } : {}) });
  }
  return rows;
}

function secretsOutput(rows: SecretRow[], format: string): string {
  const plain = rows.map(({ core, ...r }) => ({ IsCore: Boolean(core), ...r }));
  if (format === 'json') return `${JSON.stringify(plain, null, 2)}\n`;
  if (format === 'yaml') return stringify(sortedKeys(plain), { lineWidth: 0 });
  return table(
    ['Name', 'Namespace', 'Username', 'Password', 'Token', 'Data'],
    rows.map((r) => [r.name, r.namespace, r.username ?? '', r.password ?? '', r.token ?? '', r.core ? '' : Object.entries(r.data ?? {}).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => `${k}=${v}`).join(', ')]),
  );
}

/** sigs.k8s.io/yaml (today's YAML output) writes map keys in byte order: `IsCore` before `data`, `name`…. */
function sortedKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortedKeys);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, x]) => [k, sortedKeys(x)]));
  return v;
}

// ---- clusters -----------------------------------------------------------------------------------------

/** One row of `get clusters`, with today's JSON keys (pkg/printer/types Cluster, Node, Capacity, Allocated). */
export interface ClusterInfo {
  Name: string;
  URLKubeApi: string;
  KubePort: number;
  TlsCheck: boolean;
  ExternalPort: number;
  Nodes: NodeInfo[] | null;
}
/**
 * One node of `idpbuilder get clusters`, in today's idpbuilder field names: name, internal and external IP, capacity
 * (memory bytes, pods, CPU cores) and what is allocated (CPU and memory as Kubernetes quantities).
 */
export interface NodeInfo {
  Name: string;
  InternalIP: string;
  ExternalIP: string;
  Capacity: { Memory: number; Pods: number; Cpu: number };
  Allocated: { Cpu: string; Memory: string };
}

const SUFFIX: Record<string, number> = { n: 1e-9, u: 1e-6, m: 1e-3, '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18, Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60 };

/** A Kubernetes quantity (`1500m`, `2Gi`, `1e3`) as a number; NaN when it is not one. */
export function parseQuantity(q: string | number | undefined): number {
  if (q === undefined) return 0;
  const m = /^([+-]?[0-9.]+(?:[eE][+-]?\d+)?)(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]?)$/.exec(String(q).trim());
  return m ? Number(m[1]) * SUFFIX[m[2]] : NaN;
}

/** Summed CPU requests in apimachinery's canonical form: whole cores (`2`) or millicores (`1950m`). */
export function formatCpu(cores: number): string {
  const milli = Math.round(cores * 1000);
  return milli % 1000 === 0 ? String(milli / 1000) : `${milli}m`;
}

/** Summed memory requests as a binary-SI quantity: the largest of Ki/Mi/Gi/Ti that divides it, else bytes. */
export function formatMemory(bytes: number): string {
  const b = Math.round(bytes);
  if (b === 0) return '0';
  for (const [s, f] of [['Ti', 2 ** 40], ['Gi', 2 ** 30], ['Mi', 2 ** 20], ['Ki', 2 ** 10]] as const) if (b % f === 0) return `${b / f}${s}`;
  return String(b);
}

/**
 * A target cluster a Platform of the live cluster reports (`Platform.status.clusters`, docs/multi-cluster.md),
 * as a `get clusters` entry: today's keys (`URLKubeApi` the server a member read, the others zero) and
 * `Platform` (`<namespace>/<name>`), `Kind` (InCluster, Secret, Cluster, VCluster), `Ref` (`Kind/name`),
 * `Reachable` and `Members` (what runs there, `Kind/name`).
 */
export interface TargetClusterInfo extends ClusterInfo {
  Platform: string;
  Kind: string;
  Ref: string;
  Reachable: boolean;
  Members: string[];
}

/** The `status.clusters` inventory of each Platform, one entry per platform and cluster, in the Platforms' order. */
export function targetClusters(platforms: KubeObject[]): TargetClusterInfo[] {
  type Entry = { name?: string; kind?: string; ref?: string; server?: string; reachable?: boolean; members?: string[] };
  return platforms.flatMap((p) =>
    (((p.status as { clusters?: Entry[] } | undefined)?.clusters ?? []) as Entry[])
      .filter((c) => typeof c?.name === 'string')
      .map((c) => ({
        Name: c.name!,
        URLKubeApi: c.server ?? '',
        KubePort: 0,
        TlsCheck: false,
        ExternalPort: 0,
        Nodes: null,
        Platform: `${p.metadata.namespace ?? ''}/${p.metadata.name}`,
        Kind: c.kind ?? '',
        Ref: c.ref ?? '',
        Reachable: c.reachable === true,
        Members: Array.isArray(c.members) ? c.members : [],
      })),
  );
}

/** The target clusters table: NAME, PLATFORM, KIND, REF, KUBE-API, REACHABLE, MEMBERS ('' when there are none). */
function targetClustersTable(targets: TargetClusterInfo[]): string {
  if (targets.length === 0) return '';
  return table(
    ['Name', 'Platform', 'Kind', 'Ref', 'Kube-Api', 'Reachable', 'Members'],
    targets.map((t) => [t.Name, t.Platform, t.Kind, t.Ref || '-', t.URLKubeApi || '-', String(t.Reachable), t.Members.join(',')]),
  );
}

/** The `get clusters` table (Name, External-Port, Kube-Api, TLS, Kube-Port, Nodes); empty text for no clusters. */
export function clustersTable(clusters: ClusterInfo[]): string {
  if (clusters.length === 0) return '';
  return table(
    ['Name', 'External-Port', 'Kube-Api', 'TLS', 'Kube-Port', 'Nodes'],
    clusters.map((c) => [c.Name, String(c.ExternalPort), c.URLKubeApi, String(c.TlsCheck), String(c.KubePort), (c.Nodes ?? []).map((n) => n.Name).join(',')]),
  );
}

/**
 * Today's `get clusters`: every kind cluster (`kind get clusters`) with, when the kubeconfig has its
 * `kind-<name>` cluster and context, the API server URL and insecure-skip-tls-verify from the kubeconfig, the
 * platform's external port (idpbuilder-settings `port`; today read from ingress-nginx's Service), the API
 * server's internal port (the `https` port of `default/kubernetes`), and per node its addresses, capacity
 * (memory in GiB) and the summed CPU/memory requests of its pods.
 */
async function listClusters(o: GetOptions, deps: CliDeps): Promise<{ kind: ClusterInfo[]; targets: TargetClusterInfo[] }> {
  const r = await deps.runner.run('kind', ['get', 'clusters']);
  if (r.code !== 0) throw new Error(`kind get clusters failed (exit ${r.code}): ${r.stderr.trim()}`);
  const names = r.stdout.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('No kind clusters'));
  const view = await deps.runner.run('kubectl', [...(o.kubeconfig ? ['--kubeconfig', o.kubeconfig] : []), 'config', 'view', '-o', 'json']);
  if (view.code !== 0) throw new Error(`kubectl config view failed (exit ${view.code}): ${view.stderr.trim()}`);
  const config = JSON.parse(view.stdout || '{}') as { clusters?: { name: string; cluster: { server?: string; 'insecure-skip-tls-verify'?: boolean } }[]; contexts?: { name: string }[]; 'current-context'?: string };
  const out: ClusterInfo[] = [];
  for (const name of names) {
    const c: ClusterInfo = { Name: name, URLKubeApi: '', KubePort: 0, TlsCheck: false, ExternalPort: 0, Nodes: null };
    out.push(c);
    const entry = (config.clusters ?? []).find((x) => x.name === `kind-${name}`);
    if (!entry || !(config.contexts ?? []).some((x) => x.name === `kind-${name}`)) {
      deps.err(`Cluster not found: ${name} within kube config file\n`);
      continue;
    }
    c.URLKubeApi = entry.cluster.server ?? '';
    c.TlsCheck = entry.cluster['insecure-skip-tls-verify'] ?? false;
    const kube = new Kube(deps.runner, { kubeconfig: o.kubeconfig, context: `kind-${name}` });
    const settings = await kube.get('configmap', 'idpbuilder-settings', 'idpbuilder-system');
    c.ExternalPort = Number((settings?.data as Record<string, string> | undefined)?.port ?? 0) || 0;
    const svc = await kube.get('service', 'kubernetes', 'default');
    const https = ((svc?.spec as { ports?: { name?: string; targetPort?: number | string }[] } | undefined)?.ports ?? []).find((p) => p.name?.startsWith('https'));
    c.KubePort = typeof https?.targetPort === 'number' ? https.targetPort : 0;
    const nodes = await kube.list('nodes');
    const pods = await kube.list('pods');
    c.Nodes = nodes.map((n) => {
      const st = (n.status ?? {}) as { addresses?: { type: string; address: string }[]; capacity?: Record<string, string> };
      const addr = (t: string) => (st.addresses ?? []).find((a) => a.type === t)?.address ?? '';
      let cpu = 0;
      let memory = 0;
      for (const p of pods.filter((x) => (x.spec as { nodeName?: string } | undefined)?.nodeName === n.metadata.name)) {
        for (const ct of ((p.spec as { containers?: { resources?: { requests?: Record<string, string> } }[] }).containers ?? [])) {
          cpu += parseQuantity(ct.resources?.requests?.cpu) || 0;
          memory += parseQuantity(ct.resources?.requests?.memory) || 0;
        }
      }
      return {
        Name: n.metadata.name,
        InternalIP: addr('InternalIP'),
        ExternalIP: addr('ExternalIP'),
        Capacity: { Memory: (parseQuantity(st.capacity?.memory) || 0) / 2 ** 30, Pods: Math.ceil(parseQuantity(st.capacity?.pods) || 0), Cpu: Math.ceil(parseQuantity(st.capacity?.cpu) || 0) },
        Allocated: { Cpu: formatCpu(cpu), Memory: formatMemory(memory) },
      };
    });
  }
  return { kind: out, targets: await liveTargets(o, deps, config['current-context']) };
}

/**
 * The target clusters the Platforms of the current (or `--context`) cluster report. Without a context (no
 * kubeconfig: offline) nothing is asked; a cluster that cannot be read or has no Platform CRD gives none,
 * with one line on stderr for the former: the kind clusters are listed either way.
 */
async function liveTargets(o: GetOptions, deps: CliDeps, currentContext: string | undefined): Promise<TargetClusterInfo[]> {
  const context = o.context ?? currentContext;
  if (!context) return [];
  const kube = new Kube(deps.runner, { kubeconfig: o.kubeconfig, context });
  try {
    return targetClusters(await kube.list('platforms.idpbuilder.cnoe.io'));
  } catch (e) {
    const message = (e as Error).message;
    if (!/the server doesn't have a resource type/.test(message)) deps.err(`target clusters: cannot read Platforms of context ${context}: ${message.split('\n')[0]}\n`);
    return [];
  }
}

// ---- command ------------------------------------------------------------------------------------------

async function runGet(what: 'platforms' | 'packages' | 'secrets' | 'clusters', o: GetOptions, deps: CliDeps): Promise<number> {
  const format = o.output;
  if (!['table', 'json', 'yaml'].includes(format)) {
    deps.err(`error: --output must be table, json or yaml, not ${format}\n`);
    return 1;
  }
  const missing = missingTools(deps.runner, what === 'clusters' ? ['kind', 'kubectl'] : ['kubectl'], `get ${what}`);
  if (missing) {
    deps.err(`error: ${missing}\n`);
    return 1;
  }
  const kube = new Kube(deps.runner, { kubeconfig: o.kubeconfig, context: o.context });
  const want = wanted(o.packages);
  try {
    if (what === 'clusters') {
      const { kind, targets } = await listClusters(o, deps);
      // JSON/YAML: today's array of kind clusters, then the target clusters (today's keys and their own).
      const clusters: ClusterInfo[] = [...kind, ...targets];
      // Go's encoder: two-space indent, and a trailing newline; sigs.k8s.io/yaml: sorted keys.
      if (format === 'json') deps.out(`${JSON.stringify(clusters, null, 2)}\n`);
      else if (format === 'yaml') deps.out(stringify(sortedKeys(clusters), { lineWidth: 0 }));
      else deps.out([clustersTable(kind), targetClustersTable(targets)].filter(Boolean).join('\n'));
      return 0;
    }
    if (what === 'platforms') {
      const items = (await kube.list('platforms.idpbuilder.cnoe.io')).filter((x) => want(x.metadata.name));
      if (format !== 'table') deps.out(list(items, format));
      else if (items.length === 0) deps.err('No platforms found\n');
      else deps.out(platformsTable(items, deps.now()));
      return 0;
    }
    if (what === 'packages') {
      const all = await kube.list('packages.idpbuilder.cnoe.io,gitrepositories.idpbuilder.cnoe.io');
      const packages = all.filter((x) => x.kind === 'Package' && want(x.metadata.name));
      const repos = all.filter((x) => x.kind === 'GitRepository');
      if (format !== 'table') deps.out(list(packages, format));
      else if (packages.length === 0) deps.err('No packages found\n');
      else deps.out(packagesTable(packages, repos));
      return 0;
    }
    const providers = (await kube.list('idpbuilder')).filter((x) => KIND_BY_NAME.get(x.kind)?.duck === 'git' || KIND_BY_NAME.get(x.kind)?.duck === 'gitops');
    const credentials = await kube.list('secrets', { selector: 'idpbuilder.cnoe.io/role=credentials' });
    // credentialsSecretRef Secrets the label did not find (e.g. a GitHub token Secret you made yourself)
    for (const p of providers) {
      const ref = (p.status as { credentialsSecretRef?: { name: string; namespace: string } } | undefined)?.credentialsSecretRef;
      if (!ref || credentials.some((s) => s.metadata.name === ref.name && s.metadata.namespace === ref.namespace)) continue;
      const s = await kube.get('secret', ref.name, ref.namespace);
      if (s) credentials.push(s);
    }
    const labelled = await kube.list('secrets', { selector: `${CLI_SECRET_LABEL}=true` });
    const rows = secretRows(providers, credentials, labelled, o.packages);
    if (rows.length === 0 && format === 'table') deps.err('no secrets found\n');
    else deps.out(secretsOutput(rows, format));
    return 0;
  } catch (e) {
    deps.err(`error: ${(e as Error).message}\n`);
    return 1;
  }
}

/**
 * Adds `get` with its subcommands platforms, packages, secrets and clusters to `parent` (each with `-o
 * table|json|yaml` and `-p`). Output goes through `io`; `overrides` replace CliDeps (tests).
 */
export function getCommand(parent: Command, io: { out: (s: string) => void; err: (s: string) => void }, overrides: Partial<CliDeps> = {}): Command {
  const get = parent.command('get').description('Show platforms, packages and credentials of the current cluster');
  const sub = (name: 'platforms' | 'packages' | 'secrets' | 'clusters', description: string, pHelp: string) =>
    get
      .command(name)
      .description(description)
      .option('-o, --output <format>', 'table, json or yaml', 'table')
      .option('-p, --packages <names>', pHelp, (v: string, prev: string[]) => [...prev, v], [] as string[])
      .option('--kubeconfig <path>', 'kubeconfig to use (default: kubectl\'s)')
      .option('--context <name>', 'kubeconfig context to use')
      .action(async (opts: GetOptions) => {
        process.exitCode = await runGet(name, opts, { ...defaultDeps(io), ...overrides });
      });
  sub('clusters', 'Get idp clusters: the kind clusters with their API server, external port and nodes, and the target clusters the Platforms of the current cluster use (status.clusters)', 'accepted for today\'s compatibility; not used');
  sub('platforms', 'List Platforms with their phase and providers', 'only these platforms (comma-separated or repeated)');
  sub('packages', 'List Packages with their repository and Argo CD application', 'only these packages (comma-separated or repeated)');
  sub('secrets', 'Print the credentials of the git and GitOps providers and Secrets labelled cnoe.io/cli-secret=true (plaintext)', 'only the provider with this name (argocd, gitea) or labelled Secrets of this package');
  return get;
}
