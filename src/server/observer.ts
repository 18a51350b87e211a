/**
 * The observer: after each hook call the server hands it the request and the answer, and it turns what it
 * sees into the spec's domain metrics and into events. It never touches the answer, never throws (its own
 * errors are counted), and costs a few microseconds: no I/O, events go to a queue.
 *
 * Label values (docs/operations.md):
 * - `platform`: `<namespace>/<name>` of the Platform;
 * - `component`: `<kind>/<namespace>/<name>` of the provider (the same value in the Platform's
 *   `components_ready` and the provider's own metrics, so they join);
 * - `name` (GitRepository): `<namespace>/<name>`.
 *
 * Series of an object are removed when its finalize hook answers `finalized: true`, when a sync arrives
 * for an object being deleted (`deletionTimestamp` set, kinds without finalize hook), when a Platform stops
 * listing a provider, and, as a backstop for deletions this replica did not see, when the object has not
 * been synced for `staleAfterSeconds` (checked at each scrape).
 */
import { KIND_BY_NAME, type KindDef } from '../api/kinds.js';
import type { KubeObject, ObjectMap, SyncResponse } from '../metacontroller/protocol.js';
import { groupKey } from '../metacontroller/protocol.js';
import { jobState } from '../kit/jobs.js';
import type { EventQueue } from '../events/queue.js';
import { transitions } from '../events/transitions.js';
import type { HookMetrics } from './metrics.js';
import { Lru } from '../kit/lru.js';

const LABEL_ROLE = 'idpbuilder.cnoe.io/role';
const JOB_GROUP = groupKey('Job', 'batch/v1');
const CONFIGMAP_GROUP = groupKey('ConfigMap', 'v1');

/**
 * Options of Observer: the event queue, the time before which finished Jobs are not counted (default when the
 * observer is made), how many finished Jobs are remembered (default 20 000), after how many seconds an object's
 * series are dropped if it is not synced (default 7200), the clock (epoch ms) and an error callback.
 */
export interface ObserverOptions {
  events?: EventQueue;
  /**
   * Jobs that finished before this time are not counted (nor timed): after a restart, Metacontroller
   * replays every parent with its old Jobs, which this process must not count a second time.
   * Default: when the observer was made. Tests pass the epoch.
   */
  countSince?: Date;
  /** How many finished Jobs are remembered (each is counted once). */
  jobMemory?: number;
  /** Series of objects not synced for this long are removed at the next scrape. Default 2 h. */
  staleAfterSeconds?: number;
  now?: () => number;
  onError?: (err: unknown) => void;
}

/**
 * The part of a sync request the observer reads: the parent, its observed children and whether it is being finalized.
 */
export interface SyncView {
  parent: KubeObject;
  children?: ObjectMap;
  finalizing?: boolean;
}

type Remover = () => void;

interface Tracked {
  lastSeen: number;
  /** metric name + labels → how to remove that series */
  series: Map<string, Remover>;
  /** Platforms: the components listed last time. */
  components?: Set<string>;
}

function labelKey(metric: string, labels: Record<string, string>): string {
  let k = metric;
  for (const name of Object.keys(labels).sort()) k += `\u0000${name}=${labels[name]}`;
  return k;
}

function phasesOf(def: KindDef): string[] {
  const phase = (def.status as { properties?: Record<string, { enum?: unknown[] }> } | undefined)?.properties?.phase;
  return Array.isArray(phase?.enum) ? phase.enum.filter((p): p is string => typeof p === 'string') : [];
}

function timeOf(s: unknown): number | undefined {
  if (typeof s !== 'string') return undefined;
  const t = Date.parse(s);
  return Number.isNaN(t) ? undefined : t;
}

interface JobCondition {
  type?: string;
  status?: string;
  lastTransitionTime?: string;
}

/** When a finished Job finished: completionTime, or the Failed condition's transition. */
function finishedAt(job: KubeObject): number | undefined {
  const st = (job.status ?? {}) as { completionTime?: string; conditions?: JobCondition[] };
  const done = timeOf(st.completionTime);
  if (done !== undefined) return done;
  const conds = Array.isArray(st.conditions) ? st.conditions : [];
  return timeOf(conds.find((c) => c && (c.type === 'Failed' || c.type === 'FailureTarget') && c.status === 'True')?.lastTransitionTime);
}

/**
 * Turns each hook call (request and answer) into the domain metrics and Events (see the module comment); never throws
 * and never changes the answer.
 */
export class Observer {
  private readonly tracked = new Map<string, Tracked>();
  private readonly jobs: Lru<string, true>;
  private readonly countSince: number;
  private readonly staleAfterMs: number;
  private readonly now: () => number;
  private readonly phases = new Map<string, string[]>();

  constructor(
    private readonly m: HookMetrics,
    private readonly options: ObserverOptions = {},
  ) {
    this.jobs = new Lru(options.jobMemory ?? 20_000);
    this.now = options.now ?? Date.now;
    this.countSince = (options.countSince ?? new Date(this.now())).getTime();
    this.staleAfterMs = (options.staleAfterSeconds ?? 7200) * 1000;
  }

  /**
   * A sync or finalize hook of a CompositeController answered. `seconds`: time spent in the hook.
   * Returns what to do when the same answer is given again from the response memo (the hook does not
   * run then): the object is still alive, and a Platform that failed failed again.
   */
  synced(req: SyncView, res: SyncResponse, seconds: number, hook: 'sync' | 'finalize'): () => void {
    let again: () => void = () => undefined;
    try {
      again = this.record(req, res, seconds, hook);
    } catch (err) {
      this.failedSelf(err);
    }
    try {
      const events = this.options.events;
      if (events && hook === 'sync') for (const e of transitions(req, res)) events.push(e);
    } catch (err) {
      this.failedSelf(err);
    }
    return () => {
      try {
        again();
      } catch (err) {
        this.failedSelf(err);
      }
    };
  }

  /** A sync or finalize hook threw (the server answers 500). */
  failed(req: SyncView, seconds: number): void {
    try {
      const parent = req.parent;
      if (parent?.kind !== 'Platform' || !parent.metadata) return;
      const platform = `${parent.metadata.namespace ?? ''}/${parent.metadata.name}`;
      const key = this.keyOf(parent);
      this.platformDuration(key, platform, seconds);
      this.m.platformReconcileErrors.inc({ platform });
      this.track(key, labelKey('errors', { platform }), () => this.m.platformReconcileErrors.remove({ platform }));
    } catch (err) {
      this.failedSelf(err);
    }
  }

  /** Removes the series of objects not seen for `staleAfterSeconds`. Called at each scrape. */
  sweep(): void {
    try {
      const cutoff = this.now() - this.staleAfterMs;
      for (const [key, t] of this.tracked) if (t.lastSeen < cutoff) this.forget(key);
    } catch (err) {
      this.failedSelf(err);
    }
  }

  /** Objects with series (tests, introspection). */
  get trackedObjects(): number {
    return this.tracked.size;
  }

  private failedSelf(err: unknown): void {
    this.m.observerErrors.inc();
    try {
      this.options.onError?.(err);
    } catch {
      /* never throw */
    }
  }

  private keyOf(o: KubeObject): string {
    return `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;
  }

  private entry(key: string): Tracked {
    let t = this.tracked.get(key);
    if (!t) {
      t = { lastSeen: this.now(), series: new Map() };
      this.tracked.set(key, t);
    }
    t.lastSeen = this.now();
    return t;
  }

  private track(key: string, series: string, remove: Remover): void {
    const t = this.entry(key);
    if (!t.series.has(series)) t.series.set(series, remove);
  }

  private untrack(key: string, series: string): void {
    const t = this.tracked.get(key);
    const remove = t?.series.get(series);
    if (!remove) return;
    t!.series.delete(series);
    remove();
  }

  private forget(key: string): void {
    const t = this.tracked.get(key);
    if (!t) return;
    this.tracked.delete(key);
    for (const remove of t.series.values()) remove();
  }

  private record(req: SyncView, res: SyncResponse, seconds: number, hook: 'sync' | 'finalize'): () => void {
    const parent = req.parent;
    const def = KIND_BY_NAME.get(parent.kind);
    const nothing = () => undefined;
    if (!def) return nothing;
    const key = this.keyOf(parent);
    // Gone, or going: its series go too, and are not made again by later calls.
    if ((hook === 'finalize' && res.finalized === true) || (hook === 'sync' && parent.metadata.deletionTimestamp)) {
      this.forget(key);
      return nothing;
    }
    const ns = parent.metadata.namespace ?? '';
    const status = (res.status ?? {}) as Record<string, unknown>;
    const touch = () => {
      const t = this.tracked.get(key);
      if (t) t.lastSeen = this.now();
    };
    if (parent.kind === 'Platform') {
      const platform = `${ns}/${parent.metadata.name}`;
      const failed = this.platform(key, platform, status, seconds);
      return () => {
        touch();
        if (failed && this.tracked.has(key)) this.m.platformReconcileErrors.inc({ platform });
      };
    }
    if (def.duck) this.component(key, def, parent, req.children, status);
    else if (parent.kind === 'GitRepository') this.gitRepository(key, `${ns}/${parent.metadata.name}`, req.children, status);
    else this.entry(key);
    return touch;
  }

  private platformDuration(key: string, platform: string, seconds: number): void {
    this.m.platformReconcileDuration.observe({ platform }, seconds);
    this.track(key, labelKey('duration', { platform }), () => this.m.platformReconcileDuration.remove({ platform }));
  }

  /** Returns whether the reconcile counts as failed. */
  private platform(key: string, platform: string, status: Record<string, unknown>, seconds: number): boolean {
    this.platformDuration(key, platform, seconds);
    const providers = (status.providers ?? {}) as Record<string, unknown>;
    const listed = new Map<string, boolean>();
    for (const group of ['gitProviders', 'gateways', 'gitOpsProviders']) {
      const entries = providers[group];
      if (!Array.isArray(entries)) continue;
      for (const e of entries as { kind?: unknown; name?: unknown; namespace?: unknown; ready?: unknown }[]) {
        if (!e || typeof e.kind !== 'string' || typeof e.name !== 'string') continue;
        listed.set(`${e.kind}/${typeof e.namespace === 'string' ? e.namespace : ''}/${e.name}`, e.ready === true);
      }
    }
    this.m.platformComponentsTotal.set({ platform }, listed.size);
    this.track(key, labelKey('total', { platform }), () => this.m.platformComponentsTotal.remove({ platform }));
    const t = this.entry(key);
    for (const component of t.components ?? []) {
      if (!listed.has(component)) this.untrack(key, labelKey('ready', { platform, component }));
    }
    for (const [component, ready] of listed) {
      this.m.platformComponentsReady.set({ platform, component }, ready ? 1 : 0);
      this.track(key, labelKey('ready', { platform, component }), () => this.m.platformComponentsReady.remove({ platform, component }));
    }
    t.components = new Set(listed.keys());

    const conds = Array.isArray(status.conditions) ? (status.conditions as { type?: string; status?: string }[]) : [];
    const ready = conds.find((c) => c?.type === 'Ready');
    const degraded = conds.find((c) => c?.type === 'Degraded');
    if (ready?.status === 'False' && (status.phase === 'Degraded' || degraded?.status === 'True')) {
      this.m.platformReconcileErrors.inc({ platform });
      this.track(key, labelKey('errors', { platform }), () => this.m.platformReconcileErrors.remove({ platform }));
      return true;
    }
    return false;
  }

  private component(key: string, def: KindDef, parent: KubeObject, children: ObjectMap | undefined, status: Record<string, unknown>): void {
    const component = key;
    this.entry(key);
    const phase = typeof status.phase === 'string' ? status.phase : undefined;
    if (phase) {
      let phases = this.phases.get(def.kind);
      if (!phases) this.phases.set(def.kind, (phases = phasesOf(def)));
      const all = phases.includes(phase) ? phases : [...phases, phase];
      for (const p of all) {
        this.m.componentReady.set({ component, phase: p }, p === phase ? 1 : 0);
        this.track(key, labelKey('phase', { component, phase: p }), () => this.m.componentReady.remove({ component, phase: p }));
      }
    }
    for (const { job, state } of this.newlyFinished(children, 'install')) {
      this.m.componentHelmReleases.inc({ component });
      this.track(key, labelKey('releases', { component }), () => this.m.componentHelmReleases.remove({ component }));
      if (state.phase === 'Failed') {
        this.m.componentHelmFailures.inc({ component });
        this.track(key, labelKey('failures', { component }), () => this.m.componentHelmFailures.remove({ component }));
        continue;
      }
      const st = (job.status ?? {}) as { startTime?: string; completionTime?: string };
      const start = timeOf(st.startTime);
      const end = timeOf(st.completionTime);
      if (start === undefined || end === undefined || end < start) continue;
      const version = versionOf(parent, status, children, job.metadata.name);
      this.m.componentInstallDuration.observe({ component, version }, (end - start) / 1000);
      this.track(key, labelKey('install', { component, version }), () => this.m.componentInstallDuration.remove({ component, version }));
    }
  }

  private gitRepository(key: string, name: string, children: ObjectMap | undefined, status: Record<string, unknown>): void {
    this.entry(key);
    const last = timeOf(status.lastSyncTime);
    if (last !== undefined) {
      this.m.gitRepositoryLastSync.set({ name }, last / 1000);
      this.track(key, labelKey('last', { name }), () => this.m.gitRepositoryLastSync.remove({ name }));
    }
    for (const { state } of this.newlyFinished(children, 'repo-sync')) {
      this.m.gitRepositorySyncs.inc({ name });
      this.track(key, labelKey('syncs', { name }), () => this.m.gitRepositorySyncs.remove({ name }));
      if (state.phase === 'Failed') {
        this.m.gitRepositorySyncFailures.inc({ name });
        this.track(key, labelKey('syncFailures', { name }), () => this.m.gitRepositorySyncFailures.remove({ name }));
      }
    }
  }

  /**
   * The observed child Jobs of `role` (label LABEL_ROLE) that finished (Succeeded or Failed) and are seen
   * for the first time ({@link firstSight}), each with its state; none when the children hold no Jobs.
   */
  private newlyFinished(children: ObjectMap | undefined, role: string): { job: KubeObject; state: ReturnType<typeof jobState> }[] {
    const jobs = children?.[JOB_GROUP];
    if (!jobs || typeof jobs !== 'object') return [];
    const out: { job: KubeObject; state: ReturnType<typeof jobState> }[] = [];
    for (const job of Object.values(jobs)) {
      if (!job?.metadata || job.metadata.labels?.[LABEL_ROLE] !== role) continue;
      const state = jobState(job);
      if (state.phase !== 'Succeeded' && state.phase !== 'Failed') continue;
      if (this.firstSight(job)) out.push({ job, state });
    }
    return out;
  }

  /** True the first time a finished Job is seen (by uid, else namespace/name), if it finished after countSince. */
  private firstSight(job: KubeObject): boolean {
    const at = finishedAt(job);
    if (at !== undefined && at < this.countSince) return false;
    return this.jobs.add(job.metadata.uid ?? `${job.metadata.namespace ?? ''}/${job.metadata.name}`, true);
  }
}

/** The component's version: what its status reports, else its spec, else the chart version the install Job used. */
function versionOf(parent: KubeObject, status: Record<string, unknown>, children: ObjectMap | undefined, job: string): string {
  if (typeof status.version === 'string' && status.version) return status.version;
  const spec = (parent.spec ?? {}) as { version?: unknown };
  if (typeof spec.version === 'string' && spec.version) return spec.version;
  const cms = children?.[CONFIGMAP_GROUP];
  const cm = cms ? Object.values(cms).find((c) => c?.metadata?.name === job) : undefined;
  try {
    const releases = JSON.parse(((cm?.data ?? {}) as Record<string, string>)['releases.json'] ?? '[]') as { version?: unknown }[];
    const v = releases[0]?.version;
    if (typeof v === 'string' && v) return v;
  } catch {
    /* unknown */
  }
  return 'unknown';
}
