/**
 * Column names, JSON keys and flags compared with today's idpbuilder (cnoe-io/idpbuilder bef38e6; the file
 * each fact comes from is named beside it).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { main } from '../../../src/cli/main.js';
import { clustersTable, formatCpu, formatMemory, parseQuantity } from '../../../src/cli/get.js';
import { standIns, type StandIns } from '../../fixtures/cli/standins.js';

/** pkg/cmd/root.go: persistent flags; cobra adds help. Subcommands: create, delete, get, version (+ cobra's completion, help). */
const TODAY_ROOT_FLAGS = ['-l, --log-level', '--color', '-h, --help'];
const TODAY_COMMANDS = ['create', 'delete', 'get', 'version', 'help'];
/** pkg/cmd/version/root.go idpbuilderInfo json tags, in order. */
const TODAY_VERSION_KEYS = ['idpbuilderVersion', 'goVersion', 'goOs', 'goArch', 'gitCommit', 'buildDate'];
/** pkg/printer/cluster.go column definitions. */
const TODAY_CLUSTER_COLUMNS = ['NAME', 'EXTERNAL-PORT', 'KUBE-API', 'TLS', 'KUBE-PORT', 'NODES'];
/** pkg/printer/types/internal_types.go: Cluster, Node, Capacity, Allocated (no json tags: Go field names). */
const TODAY_CLUSTER_KEYS = ['Name', 'URLKubeApi', 'KubePort', 'TlsCheck', 'ExternalPort', 'Nodes'];
const TODAY_NODE_KEYS = ['Name', 'InternalIP', 'ExternalIP', 'Capacity', 'Allocated'];
const TODAY_CAPACITY_KEYS = ['Memory', 'Pods', 'Cpu'];
const TODAY_ALLOCATED_KEYS = ['Cpu', 'Memory'];
/** pkg/printer/secret.go columns; pkg/printer/types Secret json keys. */
const TODAY_SECRET_COLUMNS = ['NAME', 'NAMESPACE', 'USERNAME', 'PASSWORD', 'TOKEN', 'DATA'];
const TODAY_SECRET_KEYS = ['IsCore', 'name', 'namespace', 'username', 'password', 'token'];
/** pkg/logger/handler.go: `<time.Stamp> <LEVEL> <message> key=value `. */
const TODAY_LOG_LINE = /^[A-Z][a-z]{2} [ \d]\d \d{2}:\d{2}:\d{2} DEBUG \S.* $/;

let si: StandIns | undefined;
afterEach(() => {
  si?.cleanup();
  si = undefined;
});

async function run(args: string[], s?: StandIns) {
  let out = '';
  let err = '';
  const code = await main(['node', 'idpbuilder', ...args], (x) => (out += x), (x) => (err += x), s ? { runner: s.runner, now: () => Date.parse('2026-01-01T00:00:00Z') } : {});
  process.exitCode = 0;
  return { code, out, err };
}

const list = (items: unknown[]) => JSON.stringify({ apiVersion: 'v1', kind: 'List', items });
const b64 = (s: string) => Buffer.from(s).toString('base64');

describe('today\'s command line', () => {
  it('--help lists today\'s commands and root flags', async () => {
    const r = await run(['--help']);
    expect(r.code).toBe(0);
    for (const f of TODAY_ROOT_FLAGS) expect(r.out).toContain(f);
    for (const c of TODAY_COMMANDS) expect(r.out).toMatch(new RegExp(`^  ${c}\\b`, 'm'));
  });

  it('no command prints the help and exits 0; usage errors exit 1 (cobra)', async () => {
    expect((await run([])).code).toBe(0);
    expect((await run(['nope'])).code).toBe(1);
    expect((await run(['create', '--bogus'])).code).toBe(1);
    const bad = await run(['-l', 'loud', 'version']);
    expect(bad).toMatchObject({ code: 1, err: 'error: loud is not a valid log level\n' });
  });

  it('version -o json has today\'s keys in today\'s order; -o yaml sorted; bad format exits 1', async () => {
    const j = await run(['version', '-o', 'json']);
    expect(j.code).toBe(0);
    expect(Object.keys(JSON.parse(j.out))).toEqual(TODAY_VERSION_KEYS);
    expect(j.out.trim().split('\n')).toHaveLength(1);
    expect(JSON.parse(j.out).idpbuilderVersion).toMatch(/^v\d+\.\d+\.\d+/);
    const y = await run(['version', '-o', 'yaml']);
    expect(y.out.split('\n').filter(Boolean).map((l) => l.split(':')[0])).toEqual([...TODAY_VERSION_KEYS].sort());
    const plain = await run(['version']);
    expect(plain.out).toMatch(/^idpbuilder v\S+ node\S+ \S+\/\S+\n$/);
    expect(await run(['version', '-o', 'xml'])).toMatchObject({ code: 1, err: 'error: invalid output format: xml\n' });
  });

  it('-l debug logs every external command in today\'s line format; --color colours the level', async () => {
    si = standIns({ kubectl: [{ match: 'get *', stdout: list([]) }] });
    const r = await run(['-l', 'debug', 'get', 'secrets'], si);
    const lines = r.err.split('\n').filter((l) => / DEBUG /.test(l));
    expect(lines.length).toBeGreaterThan(0);
    for (const l of lines) expect(l).toMatch(TODAY_LOG_LINE);
    expect(lines[0]).toContain('running command=kubectl get idpbuilder -A -o json ');
    const quiet = await run(['get', 'secrets'], si);
    expect(quiet.err).toBe('no secrets found\n');
    const colored = await run(['--color', '-l', 'DEBUG', 'get', 'secrets'], si);
    expect(colored.err).toContain('\x1b[35mDEBUG\x1b[0m');
  });
});

describe('get clusters', () => {
  const node = {
    metadata: { name: 'localdev-control-plane' },
    status: { addresses: [{ type: 'InternalIP', address: '172.18.0.2' }, { type: 'Hostname', address: 'localdev-control-plane' }], capacity: { cpu: '4', memory: '8Gi', pods: '110' } },
  };
  const pod = (cpu: string, memory: string) => ({ metadata: { name: 'p' }, spec: { nodeName: 'localdev-control-plane', containers: [{ resources: { requests: { cpu, memory } } }] } });
  function clusterStandIns(): StandIns {
    return standIns({
      kind: [{ match: 'get clusters', stdout: 'localdev\nother\n' }],
      kubectl: [
        { match: 'config view -o json', stdout: JSON.stringify({ clusters: [{ name: 'kind-localdev', cluster: { server: 'https://127.0.0.1:36443' } }], contexts: [{ name: 'kind-localdev' }] }) },
        { match: '*get configmap idpbuilder-settings*', stdout: JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'idpbuilder-settings' }, data: { port: '8443' } }) },
        { match: '*get service kubernetes*', stdout: JSON.stringify({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'kubernetes' }, spec: { ports: [{ name: 'https', port: 443, targetPort: 6443 }] } }) },
        { match: '*get nodes*', stdout: list([node]) },
        { match: '*get pods*', stdout: list([pod('100m', '70Mi'), pod('250m', '100Mi'), pod('1', '')]) },
      ],
    });
  }

  it('table: today\'s columns; a kind cluster missing from the kubeconfig gets a name-only row and a message', async () => {
    si = clusterStandIns();
    const r = await run(['get', 'clusters'], si);
    expect(r.code).toBe(0);
    const [header, ...rows] = r.out.trimEnd().split('\n');
    expect(header.split(/\s{2,}/)).toEqual(TODAY_CLUSTER_COLUMNS);
    expect(rows[0].split(/\s{2,}/)).toEqual(['localdev', '8443', 'https://127.0.0.1:36443', 'false', '6443', 'localdev-control-plane']);
    expect(rows[1].split(/\s{2,}/)).toEqual(['other', '0', 'false', '0']);
    expect(r.err).toBe('Cluster not found: other within kube config file\n');
  });

  it('-o json: today\'s keys, node capacity and requested resources', async () => {
    si = clusterStandIns();
    const r = await run(['get', 'clusters', '-o', 'json'], si);
    const clusters = JSON.parse(r.out);
    expect(Object.keys(clusters[0])).toEqual(TODAY_CLUSTER_KEYS);
    expect(Object.keys(clusters[0].Nodes[0])).toEqual(TODAY_NODE_KEYS);
    expect(Object.keys(clusters[0].Nodes[0].Capacity)).toEqual(TODAY_CAPACITY_KEYS);
    expect(Object.keys(clusters[0].Nodes[0].Allocated)).toEqual(TODAY_ALLOCATED_KEYS);
    expect(clusters[0].Nodes[0]).toEqual({
      Name: 'localdev-control-plane',
      InternalIP: '172.18.0.2',
      ExternalIP: '',
      Capacity: { Memory: 8, Pods: 110, Cpu: 4 },
      Allocated: { Cpu: '1350m', Memory: '170Mi' },
    });
    expect(clusters[1]).toEqual({ Name: 'other', URLKubeApi: '', KubePort: 0, TlsCheck: false, ExternalPort: 0, Nodes: null });
  });

  it('quantities', () => {
    expect(parseQuantity('1500m')).toBe(1.5);
    expect(parseQuantity('2Gi')).toBe(2 * 2 ** 30);
    expect(formatCpu(2)).toBe('2');
    expect(formatCpu(0.25)).toBe('250m');
    expect(formatMemory(1536 * 2 ** 20)).toBe('1536Mi');
    expect(formatMemory(0)).toBe('0');
    expect(clustersTable([])).toBe('');
  });
});

describe('get secrets: today\'s names, columns and keys', () => {
  const secret = (name: string, namespace: string, labels: Record<string, string>, data: Record<string, string>) => ({ apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace, labels }, data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, b64(v)])) });
  const providers = [
    { apiVersion: 'idpbuilder.cnoe.io/v1alpha2', kind: 'GiteaProvider', metadata: { name: 'gitea', namespace: 'idpbuilder-system' }, spec: { namespace: 'gitea' }, status: { credentialsSecretRef: { name: 'gitea-gitea-token', namespace: 'idpbuilder-system', key: 'token' } } },
    { apiVersion: 'idpbuilder.cnoe.io/v1alpha2', kind: 'ArgoCDProvider', metadata: { name: 'argocd', namespace: 'idpbuilder-system' }, spec: { namespace: 'argocd' }, status: { credentialsSecretRef: { name: 'argocd-argocd-admin', namespace: 'idpbuilder-system', key: 'password' } } },
  ];
  const gl = { 'idpbuilder.cnoe.io/giteaprovider': 'gitea', 'idpbuilder.cnoe.io/role': 'credentials' };
  const al = { 'idpbuilder.cnoe.io/argocdprovider': 'argocd', 'idpbuilder.cnoe.io/role': 'credentials' };
  const credentials = [
    secret('gitea-gitea-admin', 'idpbuilder-system', gl, { username: 'giteaAdmin', password: 'g-pass' }),
    secret('gitea-gitea-token', 'idpbuilder-system', gl, { username: 'giteaAdmin', token: 'g-token' }),
    secret('gitea-credential', 'gitea', gl, { username: 'giteaAdmin', password: 'g-pass' }),
    secret('argocd-argocd-admin', 'idpbuilder-system', al, { username: 'admin', password: 'a-pass', bcrypt: '$2a$10$x' }),
    secret('argocd-initial-admin-secret', 'argocd', al, { password: 'a-pass' }),
  ];
  const labelled = [secret('db', 'my-app', { 'cnoe.io/cli-secret': 'true', 'cnoe.io/package-name': 'my-app' }, { user: 'app' })];
  const mk = () =>
    standIns({
      kubectl: [
        { match: 'get idpbuilder -A -o json', stdout: list(providers) },
        { match: 'get secrets -A -l idpbuilder.cnoe.io/role=credentials -o json', stdout: list(credentials) },
        { match: 'get secrets -A -l cnoe.io/cli-secret=true -o json', stdout: list(labelled) },
      ],
    });

  it('table: today\'s columns and core rows argocd/argocd-initial-admin-secret (user admin) and gitea/gitea-credential (with the token)', async () => {
    si = mk();
    const r = await run(['get', 'secrets'], si);
    const lines = r.out.trimEnd().split('\n');
    expect(lines[0].split(/\s+/)).toEqual(TODAY_SECRET_COLUMNS);
    expect(lines.slice(1).map((l) => l.split(/\s+/))).toEqual([
      ['argocd-initial-admin-secret', 'argocd', 'admin', 'a-pass'],
      ['gitea-credential', 'gitea', 'giteaAdmin', 'g-pass', 'g-token'],
      ['db', 'my-app', 'user=app'],
    ]);
  });

  it('-o json: today\'s keys with IsCore; -p argocd narrows to the core row; -o yaml sorts keys like sigs.k8s.io/yaml', async () => {
    si = mk();
    const j = JSON.parse((await run(['get', 'secrets', '-o', 'json'], si)).out);
    expect(Object.keys(j[1])).toEqual(TODAY_SECRET_KEYS);
    expect(j[2]).toEqual({ IsCore: false, name: 'db', namespace: 'my-app', data: { user: 'app' } });
    const argo = JSON.parse((await run(['get', 'secrets', '-p', 'argocd', '-o', 'json'], si)).out);
    expect(argo).toEqual([{ IsCore: true, name: 'argocd-initial-admin-secret', namespace: 'argocd', username: 'admin', password: 'a-pass' }]);
    const y = await run(['get', 'secrets', '-p', 'gitea', '-o', 'yaml'], si);
    expect(y.out).toBe('- IsCore: true\n  name: gitea-credential\n  namespace: gitea\n  password: g-pass\n  token: g-token\n  username: giteaAdmin\n');
  });
});
