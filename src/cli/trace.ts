/**
 * `idpbuilder trace <kind>/<name>`: the tree under one object — Platform → providers → install Jobs → Pods,
 * GitRepositories → Packages → Applications/Kustomizations — each with READY and STATUS (the Ready
 * reason and message), like `crossplane beta trace`. The tree itself is src/trace/tree.ts; this module
 * gets the objects and prints it.
 *
 * Sources: the live cluster (default; kubectl through src/cli/create/kube.ts, namespaced reads only: the
 * root's namespace, then the namespaces of references not found there, at most 4 rounds); objects in files
 * (`-f`: `idpbuilder render` output or `kubectl get -o json` dumps); or `--from-render`, which renders `-f`
 * (default: the built-in platform) offline first, with `--assume-ready` and `--observed` as `render`.
 *
 * Output (`-o`): a table (default; STATUS is `Reason: message`, cut at 64 characters), `wide` (STATUS is
 * the reason, MESSAGE the whole message), `json` (the tree as nested objects: apiVersion, kind, namespace,
 * name, ready, reason, message, found, children) or `dot` (a Graphviz digraph). Exit 1 when the root is
 * not found or the source cannot be read.
 */
import type { Command } from 'commander';
import type { KubeObject } from '../metacontroller/protocol.js';
import { resolveKind, traceTree, type TraceNode, type TraceRef } from '../trace/tree.js';
import { missingTools } from './exec.js';
import { Kube, SYSTEM_NAMESPACE } from './create/kube.js';
import { defaultDeps, type CliDeps } from './deps.js';
import { table } from './get.js';
import { loadDocuments } from './load.js';

/**
 * The flags of `idpbuilder trace`: namespace, output format (table, wide, json, dot), input files for an offline
 * trace (or `--from-render` with `--assume-ready` and observed objects), kubeconfig and context.
 */
export interface TraceOptions {
  namespace?: string;
  output: string;
  filename: string[];
  recursive: boolean;
  fromRender: boolean;
  assumeReady: boolean;
  observed: string[];
  kubeconfig?: string;
  context?: string;
}

/** Most characters of a status cell in the trace table; longer text is cut and ends in `...`. */
export const STATUS_WIDTH = 64;

const oneLine = (s: string) => s.replace(/\s+/g, ' ').trim();

function label(n: TraceNode, parentNamespace: string | undefined): string {
  return `${n.kind}/${n.name}${n.namespace && n.namespace !== parentNamespace ? ` (${n.namespace})` : ''}`;
}

/** The table: one row per node, names indented with box-drawing characters. */
function traceTable(root: TraceNode, wide: boolean): string {
  const rows: string[][] = [];
  const walk = (n: TraceNode, prefix: string, branch: string, parentNs: string | undefined) => {
    const message = oneLine(n.message);
    let status = n.reason;
    if (!wide && message) {
      status = status ? `${status}: ${message}` : message;
      if (status.length > STATUS_WIDTH) status = `${status.slice(0, STATUS_WIDTH - 3)}...`;
    }
    rows.push([`${prefix}${branch}${label(n, parentNs)}`, n.ready, status, ...(wide ? [message] : [])]);
    const childPrefix = prefix + (branch === '' ? '' : branch === '├─ ' ? '│  ' : '   ');
    n.children.forEach((c, i) => walk(c, childPrefix, i === n.children.length - 1 ? '└─ ' : '├─ ', n.namespace));
  };
  walk(root, '', '', undefined);
  return table(['Name', 'Ready', 'Status', ...(wide ? ['Message'] : [])], rows);
}

const dotString = (s: string) => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
const COLORS: Record<string, string> = { True: 'darkgreen', False: 'red3' };

/** A Graphviz digraph: one box per node (kind/name, namespace, READY and reason), edges parent → child. */
function traceDot(root: TraceNode): string {
  const lines = ['digraph trace {', '  rankdir=LR;', '  node [shape=box, fontname="Helvetica"];'];
  let next = 0;
  const walk = (n: TraceNode): string => {
    const id = `n${next++}`;
    const text = [`${n.kind}/${n.name}`, n.namespace, [n.ready, n.reason].filter(Boolean).join(' ')].filter(Boolean).join('\n');
    lines.push(`  ${id} [label=${dotString(text)}, color=${COLORS[n.ready] ?? 'gray50'}${n.found ? '' : ', style=dashed'}];`);
    for (const c of n.children) lines.push(`  ${id} -> ${walk(c)};`);
    return id;
  };
  walk(root);
  lines.push('}');
  return `${lines.join('\n')}\n`;
}

/** The trace tree as text in `format`: json, dot (Graphviz) or a table (wide with `wide`). */
export function traceOutput(root: TraceNode, format: string): string {
  if (format === 'json') return `${JSON.stringify(root, null, 2)}\n`;
  if (format === 'dot') return traceDot(root);
  return traceTable(root, format === 'wide');
}

/** `<kind>/<name>` → the kind's group and Kind; throws a usage message when it is not one. */
function parseTarget(target: string): { kind: string; group: string; name: string } {
  const m = /^([^/\s]+)\/([^/\s]+)$/.exec(target);
  if (!m) throw new Error(`expected <kind>/<name>, e.g. platform/localdev, not ${JSON.stringify(target)}`);
  const k = resolveKind(m[1]);
  if (!k) throw new Error(`unknown kind ${JSON.stringify(m[1])}: one of ours (platform, giteaprovider, package, …), job, pod, application, kustomization, or <kind>.<group>`);
  return { ...k, name: m[2] };
}

/** The root reference: with no namespace, the single object of that kind and name in `objects`. */
function rootRef(t: { kind: string; group: string; name: string }, namespace: string | undefined, objects: KubeObject[]): TraceRef {
  if (namespace) return { ...t, namespace };
  const matches = objects.filter((o) => o.kind === t.kind && o.metadata.name === t.name && (o.apiVersion.includes('/') ? o.apiVersion.split('/')[0] : '') === t.group);
  const namespaces = [...new Set(matches.map((o) => o.metadata.namespace ?? ''))];
  if (namespaces.length > 1) throw new Error(`${t.kind}/${t.name} is in several namespaces (${namespaces.join(', ')}): choose one with -n`);
  return { ...t, namespace: namespaces[0] ?? 'default' };
}

/** Everything `trace` looks at in one namespace; the kinds of Argo CD and Flux only if their CRDs exist. */
async function namespaceObjects(kube: Kube, namespace: string): Promise<KubeObject[]> {
  const out = await kube.list('idpbuilder,jobs,pods', { namespace });
  for (const optional of ['applications.argoproj.io', 'kustomizations.kustomize.toolkit.fluxcd.io', 'gitrepositories.source.toolkit.fluxcd.io']) {
    const r = await kube.kubectl(['get', optional, '-n', namespace, '-o', 'json']);
    if (r.code !== 0) continue; // not installed (or not readable): those nodes show as not found
    out.push(...((JSON.parse(r.stdout || '{}') as { items?: KubeObject[] }).items ?? []));
  }
  return out;
}

/** The live objects around `root`: its namespace, then the namespaces of references not found yet. */
async function liveObjects(kube: Kube, root: TraceRef): Promise<KubeObject[]> {
  const objects: KubeObject[] = [];
  const read = new Set<string>();
  let todo = [root.namespace];
  for (let round = 0; round < 4 && todo.length; round++) {
    for (const ns of todo) {
      read.add(ns);
      objects.push(...(await namespaceObjects(kube, ns)));
    }
    todo = [...new Set(traceTree(objects, root).missing.map((m) => m.namespace))].filter((ns) => ns && !read.has(ns));
  }
  return objects;
}

/**
 * `idpbuilder trace <kind>/<name>`: reads the objects (cluster, files, or a render), builds the tree and prints it;
 * returns the exit code (1 with a message on stderr for a bad target, output format or read failure).
 */
export async function runTrace(target: string, o: TraceOptions, deps: Pick<CliDeps, 'runner' | 'out' | 'err'>): Promise<number> {
  if (!['', 'table', 'wide', 'json', 'dot'].includes(o.output)) {
    deps.err(`error: --output must be wide, json or dot, not ${o.output}\n`);
    return 1;
  }
  try {
    const t = parseTarget(target);
    let objects: KubeObject[];
    let root: TraceRef;
    if (o.fromRender) {
      const { runRender } = await import('./render.js');
      const r = runRender({ filename: o.filename, recursive: o.recursive, assumeReady: o.assumeReady, observed: o.observed, output: 'json', showSecrets: false });
      deps.err(r.stderr);
      if (!r.stdout) return 1;
      objects = (JSON.parse(r.stdout) as { items: KubeObject[] }).items;
      root = rootRef(t, o.namespace, objects);
    } else if (o.filename.length) {
      const docs = loadDocuments(o.filename, o.recursive);
      const bad = docs.filter((d) => d.error);
      if (bad.length) {
        deps.err(bad.map((d) => `${d.file}#${d.doc}: ${d.error}\n`).join(''));
        return 1;
      }
      objects = docs.map((d) => d.object as KubeObject);
      root = rootRef(t, o.namespace, objects);
    } else {
      const missing = missingTools(deps.runner, ['kubectl'], 'trace');
      if (missing) throw new Error(missing);
      root = { ...t, namespace: o.namespace ?? SYSTEM_NAMESPACE };
      objects = await liveObjects(new Kube(deps.runner, { kubeconfig: o.kubeconfig, context: o.context }), root);
    }
    const tree = traceTree(objects, root);
    if (!tree.root.found) {
      deps.err(`error: ${root.kind}/${root.name} not found in namespace ${root.namespace}\n`);
      return 1;
    }
    deps.out(traceOutput(tree.root, o.output));
    return 0;
  } catch (e) {
    deps.err(`error: ${(e as Error).message}\n`);
    return 1;
  }
}

/** Adds the `trace` command to `parent`. Output goes through `io`; `overrides` replace CliDeps (tests). */
export function traceCommand(parent: Command, io: { out: (s: string) => void; err: (s: string) => void }, overrides: Partial<CliDeps> = {}): Command {
  return parent
    .command('trace')
    .description('Show the tree under an object (Platform → providers → Jobs → Pods, GitRepositories → Packages → Applications)\n' +
      'with READY and STATUS per object, from the cluster, from files or from an offline render')
    .argument('<kind/name>', 'e.g. platform/localdev, giteaprovider/gitea, package/my-app')
    .option('-n, --namespace <ns>', `namespace of the object (cluster default: ${SYSTEM_NAMESPACE}; files: where it is)`)
    .option('-o, --output <format>', 'wide (whole messages), json (nested) or dot (Graphviz); default: a table', '')
    .option('-f, --filename <path>', 'read objects from files or directories instead of the cluster (repeatable): render output, kubectl get -o json', (v: string, p: string[]) => [...p, v], [] as string[])
    .option('-R, --recursive', 'read directories recursively', false)
    .option('--from-render', 'render first (the -f objects, default: the built-in platform) and trace the result, offline', false)
    .option('--assume-ready', 'with --from-render: as render --assume-ready', false)
    .option('--observed <path>', 'with --from-render: as render --observed (repeatable)', (v: string, p: string[]) => [...p, v], [] as string[])
    .option('--kubeconfig <path>', "kubeconfig to use (default: kubectl's)")
    .option('--context <name>', 'kubeconfig context to use')
    .action(async (target: string, opts: TraceOptions) => {
      process.exitCode = await runTrace(target, opts, { ...defaultDeps(io), ...overrides });
    });
}
