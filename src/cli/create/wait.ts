/**
 * Waiting for objects to become Ready (their `Ready` condition), polling `kubectl get … -o json`, printing
 * each phase change (and, for a Platform, each provider's state) as it happens. On time-out the result names
 * everything that is not Ready and why, as far as the objects' status tells.
 */
import type { KubeObject } from '../../metacontroller/protocol.js';
import type { Kube } from './kube.js';

/**
 * What waitReady needs: the Kube client, a line printer, sleep and clock (epoch ms), the poll interval (ms) and an
 * abort signal (Ctrl-C).
 */
export interface WaitDeps {
  kube: Kube;
  out: (line: string) => void;
  sleep: (ms: number) => Promise<void>;
  now: () => number;
  intervalMs: number;
  /** Stops the wait early (Ctrl-C). */
  signal?: AbortSignal;
}

/** An object waitReady polls: kind, the fully qualified kubectl resource, name and namespace. */
export interface Watched {
  kind: string;
  /** kubectl resource, fully qualified (`platforms.idpbuilder.cnoe.io`). */
  resource: string;
  name: string;
  namespace: string;
}

/**
 * An object's readiness as waitReady sees it: whether it is Ready (Ready=True for the current generation), its phase
 * (`NoStatus`, `NotFound` when so) and why it is not Ready.
 */
export interface State {
  ready: boolean;
  /** status.phase, or `NoStatus` when the object has no status yet, or `NotFound`. */
  phase: string;
  message?: string;
}

interface Condition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
}

/**
 * The State of an object: NotFound when absent, NoStatus when it has no status yet, else Ready when its Ready
 * condition is True and `status.observedGeneration` (when reported) has caught up with `metadata.generation`; the
 * message is the Ready condition's message or reason.
 */
export function stateOf(o: KubeObject | undefined): State {
  if (!o) return { ready: false, phase: 'NotFound' };
  const status = (o.status ?? {}) as { phase?: string; conditions?: Condition[]; observedGeneration?: number };
  if (!o.status || Object.keys(status).length === 0) return { ready: false, phase: 'NoStatus' };
  const ready = status.conditions?.find((c) => c.type === 'Ready');
  const current = status.observedGeneration === undefined || o.metadata.generation === undefined || status.observedGeneration >= o.metadata.generation;
  const isReady = ready?.status === 'True' && current;
  const phase = status.phase ?? (isReady ? 'Ready' : 'Pending');
  const message = isReady ? undefined : ready?.message || ready?.reason || (current ? undefined : 'status not updated for the latest spec yet');
  return { ready: isReady, phase, ...(message ? { message } : {}) };
}

/** `Kind namespace/name` of a watched object, for progress lines. */
export function label(w: Pick<Watched, 'kind' | 'namespace' | 'name'>): string {
  return `${w.kind} ${w.namespace}/${w.name}`;
}

/** A short explanation of a state, for progress lines and the time-out message. */
function describe(s: State): string {
  if (s.phase === 'NotFound') return 'not found';
  if (s.phase === 'NoStatus') return 'no status yet: its controller has not reconciled it (is Metacontroller running with the idpbuilder controllers?)';
  return s.message ? `${s.phase}: ${s.message}` : s.phase;
}

interface ProviderEntry {
  name: string;
  kind: string;
  namespace?: string;
  ready: boolean;
  phase?: string;
  message?: string;
}

/** The provider entries of a Platform's status, in group order. */
function platformProviders(o: KubeObject | undefined): ProviderEntry[] {
  const p = ((o?.status as { providers?: Record<string, ProviderEntry[] | undefined> } | undefined)?.providers ?? {}) as Record<string, ProviderEntry[] | undefined>;
  return [...(p.gitProviders ?? []), ...(p.gateways ?? []), ...(p.gitOpsProviders ?? [])];
}

/**
 * The outcome of waitReady: whether everything became Ready, what is not (`Kind ns/name (why)`) and the objects last
 * read.
 */
export interface WaitResult {
  ready: boolean;
  /** What is not Ready (one entry per object, `Kind ns/name (why)`); empty when ready. */
  notReady: string[];
  objects: Map<string, KubeObject | undefined>;
}

/**
 * Polls until every watched object is Ready or `deadline` (epoch ms) passes. `related` are objects to
 * explain on time-out when the main ones give no detail (e.g. the providers of a Platform without status).
 */
export async function waitReady(d: WaitDeps, watched: Watched[], deadline: number, related: Watched[] = []): Promise<WaitResult> {
  const printed = new Map<string, string>();
  const say = (key: string, line: string) => {
    if (printed.get(key) === line) return;
    printed.set(key, line);
    d.out(line);
  };
  let objects = new Map<string, KubeObject | undefined>();
  for (;;) {
    objects = new Map();
    for (const w of watched) {
      const o = await d.kube.get(w.resource, w.name, w.namespace);
      objects.set(label(w), o);
      const s = stateOf(o);
      say(label(w), `${label(w)}: ${s.ready ? 'Ready' : describe(s)}`);
      for (const p of platformProviders(o)) {
        const key = `${label(w)}/${p.kind}/${p.name}`;
        say(key, `  ${p.kind} ${p.namespace ?? w.namespace}/${p.name}: ${p.ready ? 'Ready' : `${p.phase ?? 'Pending'}${p.message ? `: ${p.message}` : ''}`}`);
      }
    }
    const pending = watched.filter((w) => !stateOf(objects.get(label(w))).ready);
    if (pending.length === 0) return { ready: true, notReady: [], objects };
    if (d.signal?.aborted || d.now() + d.intervalMs > deadline) {
      return { ready: false, notReady: await explain(d, pending, objects, related), objects };
    }
    await d.sleep(d.intervalMs);
  }
}

async function explain(d: WaitDeps, pending: Watched[], objects: Map<string, KubeObject | undefined>, related: Watched[]): Promise<string[]> {
  const out: string[] = [];
  const named = new Set<string>();
  for (const w of pending) {
    const o = objects.get(label(w));
    out.push(`${label(w)} (${describe(stateOf(o))})`);
    for (const p of platformProviders(o)) {
      const key = `${p.kind} ${p.namespace ?? w.namespace}/${p.name}`;
      named.add(key);
      if (!p.ready) out.push(`${key} (${p.phase ?? 'Pending'}${p.message ? `: ${p.message}` : ''})`);
    }
  }
  for (const r of related) {
    if (named.has(label(r))) continue;
    let s: State;
    try {
      s = stateOf(await d.kube.get(r.resource, r.name, r.namespace));
    } catch {
      s = { ready: false, phase: 'Unknown', message: 'could not be read' };
    }
    if (!s.ready) out.push(`${label(r)} (${describe(s)})`);
  }
  return out;
}
