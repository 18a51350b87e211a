/**
 * What every hook route shares: the injected clock and randomness, the envelope and object checks, the
 * response memo (./memo.ts), metrics and the observer (metrics, events). One per server (buildApp); the
 * plugins and route files get it as an option. It holds no Fastify instance: routes hand it their request
 * and reply.
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { FastifyBaseLogger, FastifyReply, FastifyRequest } from 'fastify';
import type { ValidateFunction } from 'ajv';
import { CustomizeRequest, DecoratorSyncRequest, SyncRequest } from '../metacontroller/protocol.js';
import type { SyncRequest as SyncRequestT } from '../metacontroller/protocol.js';
import type { HookEnv, HookName, Settings } from '../kit/hooks.js';
import type { HookMetrics } from './metrics.js';
import { Observer, type ObserverOptions } from './observer.js';
import { ObservedCheck, quickObservedCheck } from './observed-check.js';
import { ParentCheck, describeAjvError, fastAjv } from './request-check.js';
import { ResponseMemo, recordingRandom, type MemoEntry } from './memo.js';
import { keyedRandom, objectIdentity } from '../kit/random.js';
import { EventQueue, type EventQueueOptions } from '../events/queue.js';
import type { EventSink } from '../events/types.js';
import { HttpError, JSON_TYPE } from './http-error.js';

/**
 * What a HookRuntime is built from: hook Settings, injected clock/randomness, the secret seed of the keyed random
 * streams, metrics, the response memo window (seconds, default 30; 0 off), an event sink or queue with its options,
 * observer options and the server's logger (read lazily).
 */
export interface HookRuntimeOptions {
  settings: Settings;
  /** Injected clock and randomness; see AppOptions.env. */
  env?: Partial<Pick<HookEnv, 'now' | 'random'>>;
  /** Secret seed of the keyed random streams (./random.ts). */
  seed: Uint8Array;
  metrics: HookMetrics;
  /** Window of the response memo in seconds; 0 turns it off. Default 30. */
  responseMemoSeconds?: number;
  events?: EventSink | EventQueue;
  eventQueue?: EventQueueOptions;
  observer?: Omit<ObserverOptions, 'events'>;
  /** The server's logger, read when an event or the observer fails (not before). */
  log: () => FastifyBaseLogger;
}

/** What the JSON parser learnt about a hook request: its memo key, and the memoised answer if any. */
interface MemoState {
  key: string;
  hit?: MemoEntry;
}
const MEMO = Symbol('idpbuilder.memo');
type WithMemo = FastifyRequest & { [MEMO]?: MemoState };

/**
 * What every hook route shares, made once per app: the HookEnv (clock, keyed randomness, settings), metrics, the
 * response memo, the event queue and observer, the Ajv validators of the request envelopes, and the parent and
 * observed-object checks; `runHook` runs a hook with a fixed clock and memoises a stable answer, and a hook failure
 * becomes 400 when an observed object is malformed (ObservedCheck), else it propagates (500).
 */
export class HookRuntime {
  readonly env: HookEnv;
  readonly metrics: HookMetrics;
  readonly memo: ResponseMemo;
  readonly events: EventQueue | undefined;
  readonly observer: Observer;
  /** Ajv validators of the three request envelopes (Metacontroller protocol). */
  readonly envelope: { sync: ValidateFunction; customize: ValidateFunction; decorator: ValidateFunction };
  readonly parentCheck = new ParentCheck();
  private readonly observedCheck = new ObservedCheck();
  private readonly seed: Uint8Array;
  private readonly injectedRandom: HookEnv['random'] | undefined;

  constructor(options: HookRuntimeOptions) {
    this.env = {
      now: options.env?.now ?? (() => new Date()),
      random: options.env?.random ?? ((n) => randomBytes(n)),
      settings: options.settings,
    };
    this.seed = options.seed;
    this.injectedRandom = options.env?.random;
    this.metrics = options.metrics;
    const metrics = options.metrics;
    const ajv = fastAjv();
    this.envelope = {
      sync: ajv.compile(SyncRequest),
      customize: ajv.compile(CustomizeRequest),
      decorator: ajv.compile(DecoratorSyncRequest),
    };
    this.memo = new ResponseMemo({ horizonMs: (options.responseMemoSeconds ?? 30) * 1000, now: () => this.env.now().getTime() });
    this.events =
      options.events instanceof EventQueue
        ? options.events
        : options.events
          ? new EventQueue(options.events, {
              ...options.eventQueue,
              metrics: {
                emitted: (reason, result) => metrics.eventsEmitted.inc({ reason, result }),
                dropped: (reason) => metrics.eventsDropped.inc({ reason }),
                length: (n) => metrics.eventQueueLength.set(n),
              },
              onError: (err) => options.log().warn({ eventError: (err as Error)?.message }, 'event not written'),
            })
          : undefined;
    this.observer = new Observer(metrics, { ...options.observer, events: this.events, onError: (err) => options.log().error({ observerError: (err as Error)?.message }, 'observer failed') });
  }

  /** The randomness of one hook call about `object`: injected, else the object's keyed stream. */
  randomFor(object: Parameters<typeof objectIdentity>[0]): HookEnv['random'] {
    return this.injectedRandom ?? keyedRandom(this.seed, objectIdentity(object));
  }

  /**
   * The memo lookup of the JSON parser: for a sync/finalize hook request (not customize) with the memo on,
   * remembers the request's key on `req`; true when a memoised answer exists (the body need not be parsed).
   */
  lookup(req: FastifyRequest, body: Buffer): boolean {
    if (!(this.memo.enabled && req.url.startsWith('/hooks/') && !req.url.endsWith('/customize'))) return false;
    const key = this.memo.key(req.url, body);
    const hit = this.memo.get(key);
    (req as WithMemo)[MEMO] = { key, hit };
    return !!hit;
  }

  /** The route's onResponse hook: `hookDuration` always, `hookErrors` for every status but 200. */
  observe(controller: string, hook: HookName) {
    return (_req: FastifyRequest, reply: FastifyReply, done: () => void) => {
      const seconds = reply.elapsedTime / 1000;
      const code = String(reply.statusCode);
      this.metrics.hookDuration.observe({ controller, hook, code }, seconds);
      if (reply.statusCode !== 200) this.metrics.hookErrors.inc({ controller, hook, code });
      done();
    };
  }

  /** `body` as T when `v` accepts it; else throws HttpError 400 naming the field. */
  checkEnvelope<T>(v: ValidateFunction, body: unknown): T {
    if (!v(body)) throw new HttpError(400, 'BadRequest', describeAjvError(v));
    return body as T;
  }

  /** Throws HttpError 400 when `o` (at `body.<field>`) is of an unknown apiVersion or fails its schema. */
  checkAdmitted(o: unknown, field: string): void {
    const result = this.parentCheck.admit(o);
    if (result.outcome === 'skipped') throw new HttpError(400, 'BadRequest', `body.${field}.apiVersion: ${result.reason}`);
    if (result.outcome === 'invalid') {
      const p = result.problems[0];
      throw new HttpError(400, 'BadRequest', `body.${field}${p.path === '.' ? '' : p.path}: ${p.message}`);
    }
  }

  /** Before every hook: observed objects of a shape no API server sends are a 400 (./observed-check.ts). */
  checkObserved(maps: Record<string, SyncRequestT['children'] | undefined>): void {
    const problem = quickObservedCheck(maps);
    if (problem) throw new HttpError(400, 'BadRequest', `${problem.path}: ${problem.message}`);
  }

  /**
   * A hook threw. If an observed object has a shape no API server sends, the request was malformed: 400
   * naming the field. Otherwise the failure is ours: rethrown, 500.
   */
  hookFailed(err: unknown, maps: Record<string, SyncRequestT['children']>): never {
    let problem;
    try {
      problem = this.observedCheck.check(maps);
    } catch {
      problem = undefined;
    }
    if (problem) throw new HttpError(400, 'BadRequest', `${problem.path}: ${problem.message}`);
    throw err;
  }

  /**
   * Runs a hook with a clock fixed for the call; serializes the answer once. When the request was seen
   * before, the hook runs a second time with the clock `horizon` ahead and the same random bytes: an
   * identical answer is memoised until then.
   */
  runHook<R>(
    req: FastifyRequest,
    reply: FastifyReply,
    random: HookEnv['random'],
    run: (e: HookEnv, first: boolean) => R,
    after?: (res: R, seconds: number) => (() => void) | void,
  ): string {
    const { env, memo, metrics } = this;
    const m = (req as WithMemo)[MEMO];
    const candidate = !!m && memo.sighted(m.key);
    const t = env.now();
    const rec = candidate ? recordingRandom(random) : undefined;
    const started = performance.now();
    const res = run({ ...env, now: () => t, random: rec?.random ?? random }, true);
    const seconds = (performance.now() - started) / 1000;
    const json = JSON.stringify(res);
    const onHit = after?.(res, seconds);
    if (candidate && m) {
      try {
        const later = run({ ...env, now: () => new Date(t.getTime() + memo.horizonMs), random: rec!.replay() }, false);
        if (JSON.stringify(later) === json) {
          memo.set(m.key, { body: json, expires: t.getTime() + memo.horizonMs, ...(onHit ? { onHit } : {}) });
          metrics.hookMemo.inc({ result: 'stored' });
        } else {
          memo.unstable(m.key, t.getTime() + memo.horizonMs);
          metrics.hookMemo.inc({ result: 'unstable' });
        }
      } catch {
        memo.unstable(m.key, t.getTime() + memo.horizonMs);
        metrics.hookMemo.inc({ result: 'unstable' });
      }
    }
    reply.type(JSON_TYPE);
    return json;
  }

  /** The memoised answer, when the parser found one. */
  memoHit(req: FastifyRequest, reply: FastifyReply): string | undefined {
    const hit = (req as WithMemo)[MEMO]?.hit;
    if (!hit) return undefined;
    this.metrics.hookMemo.inc({ result: 'hit' });
    try {
      hit.onHit?.();
    } catch {
      /* metrics only */
    }
    reply.type(JSON_TYPE);
    return hit.body;
  }
}
