/**
 * A bounded, best-effort event queue. `push` never blocks and never throws: it turns an EventSpec into an
 * Event, drops it when the queue is full (counted), skips it when the same change was already reported
 * (by key), and returns at once. Workers hand events to the sink in the background, each call bounded by
 * a timeout, so a sink that hangs or throws costs a hook call nothing.
 */
import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import type { EventSink, EventSpec, KubeEvent } from './types.js';
import { Lru } from '../kit/lru.js';

const REPORTING_CONTROLLER = 'idpbuilder.cnoe.io/hooks';
const NOTE_LIMIT = 1024;

/**
 * Where the queue counts what happens to events: each outcome per reason (emitted, exists, failed, timeout,
 * duplicate), drops because the queue is full, and its length.
 */
export interface EventQueueMetrics {
  emitted(reason: string, result: 'emitted' | 'exists' | 'failed' | 'timeout' | 'duplicate'): void;
  dropped(reason: 'queue_full'): void;
  length(n: number): void;
}

/**
 * Options of EventQueue: capacity (default 1000 waiting events; more are dropped), concurrent sink calls (default 2),
 * per-call timeout (default 5000 ms), how long close() waits (default 5000 ms), how many reported changes are
 * remembered to skip repeats (default 10 000), the clock, the `reportingInstance` (pod name) and the metrics.
 */
export interface EventQueueOptions {
  /** Events waiting at most; more are dropped. */
  capacity?: number;
  /** Sink calls running at once. */
  concurrency?: number;
  /** A sink call taking longer is abandoned (and aborted through its signal). */
  timeoutMs?: number;
  /** How long close() waits for queued events to be sent. */
  closeTimeoutMs?: number;
  /** How many reported changes are remembered to skip repeats. */
  dedupeSize?: number;
  now?: () => Date;
  /** events.k8s.io `reportingInstance`: the pod name. */
  instance?: string;
  metrics?: EventQueueMetrics;
  /** Called when the sink fails (message only: no event content). */
  onError?: (err: unknown, event: KubeEvent) => void;
}

/** RFC 3339 with microseconds, as MicroTime wants it. */
function microTime(d: Date): string {
  return d.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

/** A UTF-8-safe cut to the API's note limit. */
function limitNote(note: string): string {
  if (Buffer.byteLength(note, 'utf8') <= NOTE_LIMIT) return note;
  let cut = note.slice(0, NOTE_LIMIT - 1);
  while (Buffer.byteLength(cut, 'utf8') > NOTE_LIMIT - 3) cut = cut.slice(0, -1);
  return `${cut}…`;
}

/** The Event object's name: the object's name and a hash of the change, so a repeat has the same name. */
export function eventName(spec: EventSpec): string {
  const hash = createHash('sha256').update(spec.key).digest('hex').slice(0, 16);
  return `${spec.regarding.name.slice(0, 200).replace(/[.-]+$/, '')}.${hash}`;
}

/**
 * The events.k8s.io/v1 Event for one EventSpec: named `<object name>.<16 hex of sha256 of the spec's key>` in the
 * object's namespace (default `default`), `eventTime` from `now` (MicroTime: RFC 3339 with six fractional digits),
 * `reportingController: idpbuilder.cnoe.io/hooks`, `reportingInstance` (at most 128 characters), action, reason, note
 * (at most 1024 characters), type, regarding and related.
 */
export function toKubeEvent(spec: EventSpec, now: Date, instance: string): KubeEvent {
  const ev: KubeEvent = {
    apiVersion: 'events.k8s.io/v1',
    kind: 'Event',
    metadata: { name: eventName(spec), namespace: spec.regarding.namespace ?? 'default' },
    eventTime: microTime(now),
    reportingController: REPORTING_CONTROLLER,
    reportingInstance: instance.slice(0, 128),
    action: spec.action.slice(0, 128),
    reason: spec.reason,
    note: limitNote(spec.note),
    type: spec.type,
    regarding: spec.regarding,
  };
  if (spec.related) ev.related = spec.related;
  return ev;
}

/**
 * A bounded, best-effort queue between the hooks and an EventSink: `push` never blocks or throws; events beyond the
 * capacity are dropped and counted; repeats of a reported change are skipped; each sink call is limited by the
 * timeout and aborted past it; `close` waits a bounded time for what is queued.
 */
export class EventQueue {
  private readonly queue: { ev: KubeEvent; key: string }[] = [];
  private readonly reported: Lru<string, true>;
  private readonly capacity: number;
  private readonly concurrency: number;
  private readonly timeoutMs: number;
  private readonly now: () => Date;
  private readonly instance: string;
  private active = 0;
  private scheduled = false;
  private closed = false;
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly sink: EventSink,
    private readonly options: EventQueueOptions = {},
  ) {
    this.capacity = options.capacity ?? 1000;
    this.concurrency = options.concurrency ?? 2;
    this.timeoutMs = options.timeoutMs ?? 5000;
    this.reported = new Lru(options.dedupeSize ?? 10_000);
    this.now = options.now ?? (() => new Date());
    this.instance = options.instance ?? process.env.POD_NAME ?? hostname();
  }

  get length(): number {
    return this.queue.length;
  }

  /** Queues an event; false when it was a repeat, the queue was full or closed. Never throws, never waits. */
  push(spec: EventSpec): boolean {
    try {
      if (this.closed) return false;
      if (this.reported.has(spec.key)) {
        this.options.metrics?.emitted(spec.reason, 'duplicate');
        return false;
      }
      if (this.queue.length >= this.capacity) {
        this.options.metrics?.dropped('queue_full');
        return false;
      }
      this.reported.set(spec.key, true);
      this.queue.push({ ev: toKubeEvent(spec, this.now(), this.instance), key: spec.key });
      this.options.metrics?.length(this.queue.length);
      this.schedule();
      return true;
    } catch {
      return false;
    }
  }

  /** Resolves once nothing is queued or being sent (tests, shutdown), or after `timeoutMs`. */
  async idle(timeoutMs = 10_000): Promise<boolean> {
    if (this.queue.length === 0 && this.active === 0) return true;
    return new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => {
        this.idleWaiters = this.idleWaiters.filter((w) => w !== done);
        resolve(false);
      }, timeoutMs);
      timer.unref?.();
      const done = () => {
        clearTimeout(timer);
        resolve(true);
      };
      this.idleWaiters.push(done);
    });
  }

  /** Stops taking events; waits up to `timeoutMs` for those queued to be sent. */
  async close(timeoutMs = this.options.closeTimeoutMs ?? 5000): Promise<void> {
    this.closed = true;
    await this.idle(timeoutMs);
    await this.sink.close?.().catch(() => undefined);
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    // never inside the caller's stack: the hook's answer goes out first
    setImmediate(() => {
      this.scheduled = false;
      this.pump();
    });
  }

  private pump(): void {
    while (this.active < this.concurrency && this.queue.length > 0) {
      const { ev, key } = this.queue.shift()!;
      this.options.metrics?.length(this.queue.length);
      this.active += 1;
      void this.send(ev, key).finally(() => {
        this.active -= 1;
        if (this.queue.length > 0) this.pump();
        else if (this.active === 0) for (const w of this.idleWaiters.splice(0)) w();
      });
    }
  }

  private async send(ev: KubeEvent, key: string): Promise<void> {
    const abort = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => {
        abort.abort();
        resolve('timeout');
      }, this.timeoutMs);
      timer.unref?.();
    });
    try {
      const call = Promise.resolve().then(() => this.sink.emit(ev, abort.signal));
      const result = await Promise.race([call, timeout]);
      if (result === 'timeout') {
        call.catch(() => undefined);
        this.reported.delete(key);
        this.options.metrics?.emitted(ev.reason, 'timeout');
      } else {
        this.options.metrics?.emitted(ev.reason, result === 'exists' ? 'exists' : 'emitted');
      }
    } catch (err) {
      // not reported: a later sight of the same change may try again
      this.reported.delete(key);
      this.options.metrics?.emitted(ev.reason, 'failed');
      try {
        this.options.onError?.(err, ev);
      } catch {
        /* best effort */
      }
    } finally {
      clearTimeout(timer);
    }
  }
}
