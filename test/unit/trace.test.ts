/** `idpbuilder trace` (issue 14, item 6): the pure tree, its three output formats, and the live source. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { runRender } from '../../src/cli/render.js';
import { runTrace, traceCommand, traceOutput, STATUS_WIDTH } from '../../src/cli/trace.js';
import { resolveKind, traceTree, type TraceNode } from '../../src/trace/tree.js';
import type { KubeObject } from '../../src/metacontroller/protocol.js';
import { standIns, type StandIns } from '../fixtures/cli/standins.js';

const NS = 'idpbuilder-system';
const rendered = (JSON.parse(runRender({ filename: [], recursive: false, assumeReady: true, output: 'json', showSecrets: false }).stdout) as { items: KubeObject[] }).items;
const platformRef = { group: 'idpbuilder.cnoe.io', kind: 'Platform', namespace: NS, name: 'localdev' };
const jobOf = (label: string, name: string, role: string) =>
  rendered.find((o) => o.kind === 'Job' && o.metadata.labels?.[`idpbuilder.cnoe.io/${label}`] === name && o.metadata.labels?.['idpbuilder.cnoe.io/role'] === role)!.metadata.name;
const shape = (n: TraceNode): unknown => [`${n.kind}/${n.name}`, n.ready, n.children.map(shape)];
const count = (n: TraceNode): number => 1 + n.children.reduce((s, c) => s + count(c), 0);
const clone = <T>(x: T): T => JSON.parse(JSON.stringify(x)) as T;

describe('trace tree (pure) over the default platform rendered with --assume-ready', () => {
  const { root, missing } = traceTree(rendered, platformRef);

  it('Platform → providers → their Jobs; GitRepositories → sync Job, Package → Application; all Ready', () => {
    expect(missing).toEqual([]);
    const repo = (name: string) => [`GitRepository/${name}`, 'True', [[`Job/${jobOf('gitrepository', name, 'repo-sync')}`, 'True', []], [`Package/${name}`, 'True', [[`Application/${name}`, 'True', []]]]]];
    expect(shape(root)).toEqual([
      'Platform/localdev',
      'True',
      [
        ['GiteaProvider/gitea', 'True', [[`Job/${jobOf('giteaprovider', 'gitea', 'bootstrap')}`, 'True', []], [`Job/${jobOf('giteaprovider', 'gitea', 'install')}`, 'True', []]]],
        ['NginxGateway/nginx', 'True', [[`Job/${jobOf('nginxgateway', 'nginx', 'install')}`, 'True', []]]],
        ['ArgoCDProvider/argocd', 'True', [[`Job/${jobOf('argocdprovider', 'argocd', 'install')}`, 'True', []]]],
        repo('localdev-argocd'),
        repo('localdev-gitea'),
        repo('localdev-nginx'),
      ],
    ]);
    expect(root).toMatchObject({ reason: 'AllComponentsReady', message: 'All platform components are operational', found: true, namespace: NS });
    expect(root.children[0]).toMatchObject({ kind: 'GiteaProvider', reason: 'Available', message: 'GiteaProvider is installed and available' });
  });

  it('shows every object once: nothing of the render output appears twice, ConfigMaps and Secrets not at all', () => {
    const keys: string[] = [];
    const walk = (n: TraceNode) => (keys.push(`${n.kind}/${n.name}`), n.children.forEach(walk));
    walk(root);
    expect(new Set(keys).size).toBe(keys.length);
    expect(keys.length).toBe(rendered.filter((o) => o.kind !== 'ConfigMap' && o.kind !== 'Secret').length);
  });

  it('a subtree can be the root: a Package with its Application', () => {
    const t = traceTree(rendered, { group: 'idpbuilder.cnoe.io', kind: 'Package', namespace: NS, name: 'localdev-gitea' });
    expect(shape(t.root)).toEqual(['Package/localdev-gitea', 'True', [['Application/localdev-gitea', 'True', []]]]);
  });

  it('a reference to an object that is not there is a NotFound node and is reported missing', () => {
    const objects = clone(rendered).filter((o) => o.kind !== 'ArgoCDProvider');
    const t = traceTree(objects, platformRef);
    const argocd = t.root.children.find((c) => c.kind === 'ArgoCDProvider')!;
    expect(argocd).toMatchObject({ name: 'argocd', ready: '-', reason: 'NotFound', found: false, children: [], apiVersion: 'idpbuilder.cnoe.io/v1alpha2' });
    expect(t.missing).toEqual([{ group: 'idpbuilder.cnoe.io', kind: 'ArgoCDProvider', namespace: NS, name: 'argocd' }]);
    // its install Job, labelled for the provider, has no place in the tree without it
    expect(JSON.stringify(t.root)).not.toContain(jobOf('argocdprovider', 'argocd', 'install'));
  });

  it('a failed Job shows its reason, and its failed Pod the container termination message', () => {
    const objects = clone(rendered);
    const name = jobOf('giteaprovider', 'gitea', 'install');
    const job = objects.find((o) => o.kind === 'Job' && o.metadata.name === name)!;
    job.status = { failed: 1, conditions: [{ type: 'Failed', status: 'True', reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' }] };
    objects.push({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: `${name}-x7k2p`, namespace: NS, labels: { 'batch.kubernetes.io/job-name': name } },
      status: { phase: 'Failed', containerStatuses: [{ state: { terminated: { exitCode: 1, reason: 'Error', message: 'Error: INSTALLATION FAILED: context deadline exceeded\n' } } }] },
    } as unknown as KubeObject);
    const gitea = traceTree(objects, platformRef).root.children[0];
    const j = gitea.children.find((c) => c.name === name)!;
    expect(j).toMatchObject({ ready: 'False', reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' });
    expect(j.children).toMatchObject([{ kind: 'Pod', name: `${name}-x7k2p`, ready: 'False', reason: 'Error', message: 'Error: INSTALLATION FAILED: context deadline exceeded' }]);
  });

  it('resolves kind spellings', () => {
    expect(resolveKind('platform')).toEqual({ kind: 'Platform', group: 'idpbuilder.cnoe.io' });
    expect(resolveKind('plat')).toEqual({ kind: 'Platform', group: 'idpbuilder.cnoe.io' });
    expect(resolveKind('GitRepositories')).toEqual({ kind: 'GitRepository', group: 'idpbuilder.cnoe.io' });
    expect(resolveKind('gitrepositories.source.toolkit.fluxcd.io')).toEqual({ kind: 'gitrepositories', group: 'source.toolkit.fluxcd.io' });
    expect(resolveKind('app')).toEqual({ kind: 'Application', group: 'argoproj.io' });
    expect(resolveKind('nonsense')).toBeUndefined();
  });
});

describe('trace output formats', () => {
  const { root } = traceTree(rendered, platformRef);

  it('table: NAME READY STATUS, a tree of names, STATUS is reason: message', () => {
    const lines = traceOutput(root, '').trimEnd().split('\n');
    expect(lines).toHaveLength(count(root) + 1);
    expect(lines[0].split(/\s{3,}/)).toEqual(['NAME', 'READY', 'STATUS']);
    expect(lines[1]).toMatch(/^Platform\/localdev \(idpbuilder-system\)\s+True\s+AllComponentsReady: All platform components are operational$/);
    expect(lines[2]).toMatch(/^├─ GiteaProvider\/gitea\s+True\s+Available: GiteaProvider is installed and available$/);
    expect(lines[lines.length - 1]).toMatch(/^ {6}└─ Application\/localdev-nginx\s+True\s+Synced\/Healthy$/);
  });

  it('table cuts long statuses; wide shows the reason and the whole message in its own column', () => {
    const t = clone(root);
    const long = 'install job failed: BackoffLimitExceeded: Job has reached the specified backoff limit (attempt 1; retry at 2000-01-01T00:00:30Z)';
    Object.assign(t.children[0], { ready: 'False', reason: 'InstallFailed', message: long });
    const row = traceOutput(t, '').split('\n')[2];
    const status = row.replace(/^.*?False\s+/, '');
    expect(status).toHaveLength(STATUS_WIDTH);
    expect(status).toBe(`InstallFailed: ${long}`.slice(0, STATUS_WIDTH - 3) + '...');
    const wide = traceOutput(t, 'wide').split('\n');
    expect(wide[0].split(/\s{3,}/)).toEqual(['NAME', 'READY', 'STATUS', 'MESSAGE']);
    expect(wide[2]).toMatch(new RegExp(`^├─ GiteaProvider/gitea\\s+False\\s+InstallFailed\\s+${long.replace(/[()]/g, '\\$&')}$`));
  });

  it('json: the tree as nested objects', () => {
    const parsed = JSON.parse(traceOutput(root, 'json')) as TraceNode;
    expect(parsed).toEqual(root);
    expect(Object.keys(parsed)).toEqual(['apiVersion', 'kind', 'namespace', 'name', 'ready', 'reason', 'message', 'found', 'children']);
  });

  it('dot: a digraph with a node per object and an edge per parent → child', () => {
    const dot = traceOutput(root, 'dot');
    expect(dot.startsWith('digraph trace {\n')).toBe(true);
    expect(dot.endsWith('}\n')).toBe(true);
    expect(dot.match(/^ {2}n\d+ \[label=/gm)).toHaveLength(count(root));
    expect(dot.match(/^ {2}n\d+ -> n\d+;$/gm)).toHaveLength(count(root) - 1);
    expect(dot).toContain('n0 [label="Platform/localdev\\nidpbuilder-system\\nTrue AllComponentsReady", color=darkgreen];');
    expect(dot).toContain('  n0 -> n1;');
  });
});

describe('idpbuilder trace (command)', () => {
  let si: StandIns | undefined;
  const dir = mkdtempSync(join(tmpdir(), 'trace-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  afterEach(() => {
    si?.cleanup();
    si = undefined;
  });
  const run = async (args: string[], s?: StandIns) => {
    let out = '';
    let err = '';
    const io = { out: (x: string) => (out += x), err: (x: string) => (err += x) };
    const root = new Command('idpbuilder').exitOverride().configureOutput({ writeOut: io.out, writeErr: io.err });
    traceCommand(root, io, s ? { runner: s.runner } : {});
    process.exitCode = 0;
    await root.parseAsync(['node', 'idpbuilder', 'trace', ...args]);
    const code = Number(process.exitCode ?? 0);
    process.exitCode = 0;
    return { code, out, err };
  };
  const list = (items: unknown[]) => JSON.stringify({ apiVersion: 'v1', kind: 'List', items });

  it('live: reads the root namespace, then the namespace of an Application found elsewhere; Flux not installed is fine', async () => {
    const objects = clone(rendered);
    const pkg = objects.find((o) => o.kind === 'Package' && o.metadata.name === 'localdev-gitea')!;
    pkg.status.argoApplication.namespace = 'argocd';
    const moved = objects.find((o) => o.kind === 'Application' && o.metadata.name === 'localdev-gitea')!;
    moved.metadata.namespace = 'argocd';
    const ours = objects.filter((o) => o.apiVersion.startsWith('idpbuilder.cnoe.io/') || o.kind === 'Job');
    const apps = objects.filter((o) => o.kind === 'Application' && o !== moved);
    si = standIns({
      kubectl: [
        { match: `--context kind-localdev get idpbuilder,jobs,pods -n ${NS} -o json`, stdout: list(ours) },
        { match: `--context kind-localdev get applications.argoproj.io -n ${NS} -o json`, stdout: list(apps) },
        { match: '--context kind-localdev get applications.argoproj.io -n argocd -o json', stdout: list([moved]) },
        { match: '*get idpbuilder,jobs,pods -n argocd -o json', stdout: list([]) },
        { match: '*.fluxcd.io*', exit: 1, stdout: '' },
      ],
    });
    const r = await run(['platform/localdev', '--context', 'kind-localdev', '-o', 'json'], si);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const tree = JSON.parse(r.out) as TraceNode;
    expect(tree).toEqual({ ...traceTree(objects, platformRef).root });
    const repo = tree.children.find((c) => c.name === 'localdev-gitea')!;
    expect(repo.children[1].children).toMatchObject([{ kind: 'Application', name: 'localdev-gitea', namespace: 'argocd', ready: 'True', found: true }]);
    const perNs = (ns: string) => [
      `kubectl --context kind-localdev get idpbuilder,jobs,pods -n ${ns} -o json`,
      `kubectl --context kind-localdev get applications.argoproj.io -n ${ns} -o json`,
      `kubectl --context kind-localdev get kustomizations.kustomize.toolkit.fluxcd.io -n ${ns} -o json`,
      `kubectl --context kind-localdev get gitrepositories.source.toolkit.fluxcd.io -n ${ns} -o json`,
    ];
    expect(si.calls()).toEqual([...perNs(NS), ...perNs('argocd')]);
  });

  it('live: a root that does not exist is an error', async () => {
    si = standIns({ kubectl: [] });
    const r = await run(['giteaprovider/nope', '-n', 'team'], si);
    expect(r.code).toBe(1);
    expect(r.err).toBe('error: GiteaProvider/nope not found in namespace team\n');
    expect(si.calls()[0]).toBe('kubectl get idpbuilder,jobs,pods -n team -o json');
  });

  it('-f: traces render output from a file; --from-render renders first (same tree)', async () => {
    const file = join(dir, 'render.json');
    writeFileSync(file, list(rendered));
    const fromFile = await run(['plat/localdev', '-f', file]);
    expect(fromFile.code).toBe(0);
    const fromRender = await run(['platform/localdev', '--from-render', '--assume-ready']);
    expect(fromRender.err).toBe('');
    expect(fromRender.out).toBe(fromFile.out);
    expect(fromFile.out).toBe(traceOutput(traceTree(rendered, platformRef).root, ''));
  });

  it('--from-render --observed: a failed install Job shows in the tree', async () => {
    const name = jobOf('giteaprovider', 'gitea', 'install');
    const file = join(dir, 'failed.json');
    writeFileSync(file, JSON.stringify({ apiVersion: 'batch/v1', kind: 'Job', metadata: { name, namespace: NS }, status: { failed: 1, conditions: [{ type: 'Failed', status: 'True', reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit', lastTransitionTime: '2000-01-01T00:00:00Z' }] } }));
    const r = await run(['giteaprovider/gitea', '--from-render', '--assume-ready', '--observed', file, '-o', 'wide']);
    expect(r.code).toBe(0);
    const lines = r.out.split('\n');
    expect(lines[1]).toMatch(/^GiteaProvider\/gitea \(idpbuilder-system\)\s+False\s+InstallFailed\s+install job failed: .*retry at 2000-01-01T00:00:30Z\)$/);
    expect(lines.filter(Boolean)).toHaveLength(3); // the bootstrap Job waits for the install
    expect(lines[2]).toMatch(new RegExp(`^└─ Job/${name}\\s+False\\s+BackoffLimitExceeded\\s+Job has reached the specified backoff limit$`));
  });

  it('usage errors: a bad target, an unknown kind, an unknown format', async () => {
    si = standIns({});
    const deps = { runner: si.runner, out: () => {}, err: (s: string) => void (errs += s) };
    let errs = '';
    expect(await runTrace('localdev', { output: '', filename: [], recursive: false, fromRender: true, assumeReady: false, observed: [] }, deps)).toBe(1);
    expect(await runTrace('widget/x', { output: '', filename: [], recursive: false, fromRender: true, assumeReady: false, observed: [] }, deps)).toBe(1);
    expect(await runTrace('platform/localdev', { output: 'yaml', filename: [], recursive: false, fromRender: true, assumeReady: false, observed: [] }, deps)).toBe(1);
    expect(errs.split('\n').filter(Boolean)).toEqual([
      'error: expected <kind>/<name>, e.g. platform/localdev, not "localdev"',
      'error: unknown kind "widget": one of ours (platform, giteaprovider, package, …), job, pod, application, kustomization, or <kind>.<group>',
      'error: --output must be wide, json or dot, not yaml',
    ]);
  });
});
