/**
 * kubectl and helm, aimed at one cluster: the kubeconfig/context flags go on every call. Objects are read
 * with `kubectl get -o json` and written with server-side apply (field manager `idpbuilder`).
 */
import { stringify } from 'yaml';
import type { KubeObject } from '../../metacontroller/protocol.js';
import { runOk, type RunResult, type Runner } from '../exec.js';

export { FIELD_MANAGER, SYSTEM_NAMESPACE } from '../../api/names.js';
import { FIELD_MANAGER } from '../../api/names.js';

/**
 * Which cluster kubectl and helm talk to: `--kubeconfig` and `--context` (`--kube-context` for helm); both default to
 * the tools' own defaults.
 */
export interface KubeTarget {
  /** --kubeconfig for kubectl and helm; default: theirs ($KUBECONFIG, ~/.kube/config). */
  kubeconfig?: string;
  /** --context (kubectl) / --kube-context (helm). */
  context?: string;
}

const KUBECTL_TIMEOUT_MS = 120_000;

/**
 * Objects as one multi-document YAML stream (`---` between documents, no aliases, no line wrapping), for `kubectl
 * apply -f -`.
 */
export function toYamlStream(objects: unknown[]): string {
  return objects.map((o) => stringify(o, { aliasDuplicateObjects: false, lineWidth: 0 })).join('---\n');
}

/**
 * kubectl and helm against one cluster (KubeTarget flags on every call): get and list objects as JSON, server-side
 * apply (field manager `idpbuilder`), helm commands. kubectl calls time out after 120 s, helm after 15 min; the `…Ok`
 * methods and get/list/apply throw CommandError on a non-zero exit.
 */
export class Kube {
  constructor(
    readonly runner: Runner,
    readonly target: KubeTarget,
  ) {}

  kubectlFlags(): string[] {
    return [...(this.target.kubeconfig ? ['--kubeconfig', this.target.kubeconfig] : []), ...(this.target.context ? ['--context', this.target.context] : [])];
  }

  helmFlags(): string[] {
    return [...(this.target.kubeconfig ? ['--kubeconfig', this.target.kubeconfig] : []), ...(this.target.context ? ['--kube-context', this.target.context] : [])];
  }

  kubectl(args: string[], input?: string): Promise<RunResult> {
    return this.runner.run('kubectl', [...this.kubectlFlags(), ...args], { input, timeoutMs: KUBECTL_TIMEOUT_MS });
  }

  async kubectlOk(args: string[], what: string, input?: string): Promise<string> {
    return runOk(this.runner, 'kubectl', [...this.kubectlFlags(), ...args], { input, timeoutMs: KUBECTL_TIMEOUT_MS, what });
  }

  async helmOk(args: string[], what: string): Promise<string> {
    return runOk(this.runner, 'helm', [...args, ...this.helmFlags()], { what, timeoutMs: 15 * 60_000 });
  }

  /** One object, or undefined when it does not exist. */
  async get(resource: string, name: string, namespace?: string): Promise<KubeObject | undefined> {
    const out = await this.kubectlOk(['get', resource, name, ...(namespace ? ['-n', namespace] : []), '-o', 'json', '--ignore-not-found'], `kubectl get ${resource} ${name}`);
    return out.trim() ? (JSON.parse(out) as KubeObject) : undefined;
  }

  /** The items of a list (`namespace` undefined: all namespaces). */
  async list(resource: string, opts: { namespace?: string; selector?: string } = {}): Promise<KubeObject[]> {
    const args = ['get', resource, ...(opts.namespace ? ['-n', opts.namespace] : ['-A']), ...(opts.selector ? ['-l', opts.selector] : []), '-o', 'json'];
    const out = await this.kubectlOk(args, `kubectl get ${resource}`);
    if (!out.trim()) return [];
    const parsed = JSON.parse(out) as { items?: KubeObject[]; kind?: string };
    return parsed.items ?? (parsed.kind && parsed.kind !== 'List' ? [parsed as unknown as KubeObject] : []);
  }

  /** Server-side apply of the objects, in order. */
  async apply(objects: KubeObject[], what: string): Promise<void> {
    if (objects.length === 0) return;
    await this.kubectlOk(['apply', '--server-side', '--force-conflicts', `--field-manager=${FIELD_MANAGER}`, '-f', '-'], what, toYamlStream(objects));
  }
}

/** A v1 Namespace object named `name`. */
export function namespaceObject(name: string): KubeObject {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name } } as KubeObject;
}

/**
 * The `data` of a Secret base64-decoded to UTF-8 text; empty for an absent Secret. `stringData` is not read (the API
 * server never returns it).
 */
export function decodeData(secret: KubeObject | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries((secret?.data as Record<string, string> | undefined) ?? {})) out[k] = Buffer.from(v, 'base64').toString('utf8');
  return out;
}
