/**
 * The hook service: Fastify routes that hand Metacontroller requests to pure hook functions. It adds
 * validation, auth, logging, metrics, events and error mapping, and nothing else: hooks never see the
 * server, the server only watches what goes in and out.
 *
 * Routes: POST /hooks/<plural>/<sync|finalize|customize>, GET /healthz, GET /readyz, GET /metrics.
 *
 * The request path, in order:
 * 1. onRequest: the concurrency limit (503 + Retry-After) and the bearer token (401), before the body
 *    is read;
 * 2. the JSON body (413 over the limit, 400 when not JSON); a request seen before whose answer is
 *    memoised is answered here without parsing (./memo.ts);
 * 3. the envelope and the parent are validated (400 naming the field); a body nested deeper than
 *    MAX_JSON_DEPTH is refused before parsing (./json-depth.ts); the fields of observed objects the hooks
 *    read get a quick shape check (./observed-check.ts quickObservedCheck: 400); the full schema check of
 *    observed objects runs only when the hook fails (400 for an impossible shape, else 500 with an id);
 * 4. the hook runs with the injected clock and randomness; its answer is normalised (./response.ts),
 *    serialized once, and handed to the observer (metrics, events) before it is sent.
 */
import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { ValidateFunction } from 'ajv';
import type { Logger } from 'pino';
import { CustomizeRequest, DecoratorSyncRequest, SyncRequest } from '../metacontroller/protocol.js';
import type { CustomizeRequest as CustomizeRequestT, DecoratorSyncRequest as DecoratorSyncRequestT, SyncRequest as SyncRequestT } from '../metacontroller/protocol.js';
import type { ControllerDef, DecoratorDef, HookEnv, HookName, Settings } from '../kit/hooks.js';
import { DEFAULT_SETTINGS } from '../kit/hooks.js';
import { newMetrics, type HookMetrics } from './metrics.js';
import { finishCustomize, finishSync, sortChildren } from '../metacontroller/response.js';
import { Observer, type ObserverOptions } from './observer.js';
import { ObservedCheck, quickObservedCheck } from './observed-check.js';
import { MAX_JSON_DEPTH, jsonDepthExceeds } from './json-depth.js';
import { ParentCheck, describeAjvError, fastAjv } from './request-check.js';
import { ResponseMemo, recordingRandom, type MemoEntry } from './memo.js';
import { keyedRandom, newSeed, objectIdentity } from '../kit/random.js';
import { EventQueue, type EventQueueOptions } from '../events/queue.js';
import { DEFAULT_BODY_LIMIT } from './limits.js';
import type { EventSink } from '../events/types.js';

export interface AppOptions {
  controllers: ControllerDef[];
  decorators?: DecoratorDef[];
  settings?: Settings;
  /**
   * Expected bearer token (Metacontroller's webhook `authorization`); no check when unset. An empty or
   * whitespace-only string is refused (throws): it must never mean "auth off" (src/server/serve.ts decides
   * whether running without a token is allowed).
   */
  token?: string;
  /** Largest accepted request body in bytes (default DEFAULT_BODY_LIMIT, 8 MiB; larger gets 413). */
  bodyLimit?: number;
  /**
   * Milliseconds a client has to send a whole request, headers and body (Fastify `requestTimeout`); the
   * connection is closed with 408 after it. 0 or unset: no limit (`serve` sets 30 s).
   */
  requestTimeoutMs?: number;
  logger?: Logger | boolean;
  /**
   * Injected clock and randomness (tests). Without `random`, each hook call draws from the keyed stream
   * of the object it is about (./random.ts), so identical requests get identical answers.
   */
  env?: Partial<Pick<HookEnv, 'now' | 'random'>>;
  /** Secret seed of the keyed random streams (at least 32 bytes); a fresh one per process when unset. */
  randomSeed?: Uint8Array;
  metrics?: HookMetrics;
  /**
   * Hook requests in flight at most (being received or answered); more get 503 with Retry-After.
   * Not 429: Metacontroller requeues a 429 after Retry-After without backing off.
   */
  maxConcurrency?: number;
  /** Serve HTTPS with this certificate and key (PEM), for Metacontroller's caBundle. */
  tls?: { cert: string | Buffer; key: string | Buffer };
  /** Where events go; no events without it (serve --events). */
  events?: EventSink | EventQueue;
  eventQueue?: EventQueueOptions;
  /** Domain metrics tuning (tests set countSince to the epoch). */
  observer?: Omit<ObserverOptions, 'events'>;
  /** Window of the response memo in seconds (./memo.ts); 0 turns it off. Default 30. */
  responseMemoSeconds?: number;
}

const ErrorBody = {
  type: 'object',
  properties: { error: { type: 'string' }, message: { type: 'string' }, id: { type: 'string' } },
  required: ['error', 'message'],
  additionalProperties: false,
} as const;

const JSON_TYPE = 'application/json; charset=utf-8';

class HttpError extends Error {
  constructor(readonly statusCode: number, readonly code: string, message: string) {
    super(message);
  }
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

/**
 * The bearer check: true when `header` is exactly `Bearer <token>`. Both sides are SHA-256 digests of
 * equal length, so timingSafeEqual compares in constant time and neither the token's content nor its
 * length leaks through timing. Without a token (undefined) every request passes; an empty or
 * whitespace-only token throws instead of turning the check off.
 */
export function bearerCheck(token: string | undefined): (header: unknown) => boolean {
  if (token === undefined) return () => true;
  if (token.trim() === '') throw new Error('bearer token is empty; leave it unset to run without auth');
  const expected = digest(`Bearer ${token}`);
  return (header) => typeof header === 'string' && timingSafeEqual(digest(header), expected);
}

/** What the JSON parser learnt about a hook request: its memo key, and the memoised answer if any. */
interface MemoState {
  key: string;
  hit?: MemoEntry;
}
const MEMO = Symbol('idpbuilder.memo');
type WithMemo = FastifyRequest & { [MEMO]?: MemoState };

export function buildApp(options: AppOptions): FastifyInstance {
  const settings = options.settings ?? DEFAULT_SETTINGS;
  const seed = options.randomSeed ?? newSeed();
  const env: HookEnv = {
    now: options.env?.now ?? (() => new Date()),
    random: options.env?.random ?? ((n) => randomBytes(n)),
    settings,
  };
  /** The randomness of one hook call about `object`: injected, else the object's keyed stream. */
  const randomFor = (object: Parameters<typeof objectIdentity>[0]): HookEnv['random'] => options.env?.random ?? keyedRandom(seed, objectIdentity(object));
  const metrics = options.metrics ?? newMetrics();
  const parentCheck = new ParentCheck();
  const observedCheck = new ObservedCheck();
  const ajv = fastAjv();
  const envelope = {
    sync: ajv.compile(SyncRequest),
    customize: ajv.compile(CustomizeRequest),
    decorator: ajv.compile(DecoratorSyncRequest),
  };
  const memo = new ResponseMemo({ horizonMs: (options.responseMemoSeconds ?? 30) * 1000, now: () => env.now().getTime() });
  const authorized = bearerCheck(options.token);
  const maxConcurrency = options.maxConcurrency && options.maxConcurrency > 0 ? Math.floor(options.maxConcurrency) : Infinity;
  let closing = false;
  let inFlight = 0;

  const logging = typeof options.logger === 'object' ? { loggerInstance: options.logger as FastifyBaseLogger } : { logger: options.logger ?? false };
  const app = Fastify({
    ...logging,
    ...(options.tls ? { https: { cert: options.tls.cert, key: options.tls.key, minVersion: 'TLSv1.2' as const } } : {}),
    bodyLimit: options.bodyLimit ?? DEFAULT_BODY_LIMIT,
    ...(options.requestTimeoutMs && options.requestTimeoutMs > 0 ? { requestTimeout: Math.floor(options.requestTimeoutMs) } : {}),
    return503OnClosing: true,
  }) as unknown as FastifyInstance;

  const events =
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
            onError: (err) => app.log.warn({ eventError: (err as Error)?.message }, 'event not written'),
          })
        : undefined;
  const observer = new Observer(metrics, { ...options.observer, events, onError: (err) => app.log.error({ observerError: (err as Error)?.message }, 'observer failed') });

  app.addHook('onClose', async () => {
    closing = true;
    await events?.close();
  });

  // JSON bodies: Fastify's own parser (proto-poisoning checks included), with the memo lookup in front.
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (req, body, done) => {
    if (memo.enabled && req.url.startsWith('/hooks/') && !req.url.endsWith('/customize')) {
      const key = memo.key(req.url, body as Buffer);
      const hit = memo.get(key);
      (req as WithMemo)[MEMO] = { key, hit };
      if (hit) return done(null, null);
    }
    if (jsonDepthExceeds(body as Buffer, MAX_JSON_DEPTH)) {
      return done(new HttpError(400, 'BadRequest', `body: nested deeper than ${MAX_JSON_DEPTH} levels`), undefined);
    }
    parseJson(req, body as unknown as string, done);
  });

  // Before the body is read: load shedding, then the token.
  app.addHook('onRequest', (req, reply, done) => {
    if (!req.url.startsWith('/hooks/')) return done();
    if (inFlight >= maxConcurrency) {
      metrics.hookRejected.inc({ reason: 'concurrency' });
      reply
        .code(503)
        .header('retry-after', '1')
        .send({ error: 'Unavailable', message: `more than ${maxConcurrency} hook requests in flight; retry later` });
      return;
    }
    inFlight += 1;
    metrics.hooksInFlight.set(inFlight);
    reply.raw.once('close', () => {
      inFlight -= 1;
      metrics.hooksInFlight.set(inFlight);
    });
    if (!authorized(req.headers.authorization)) {
      reply.code(401).send({ error: 'Unauthorized', message: 'missing or wrong bearer token' });
      return;
    }
    done();
  });

  app.setErrorHandler((err: Error & { validation?: unknown; statusCode?: number; code?: string }, req, reply) => {
    if (err instanceof HttpError) return reply.code(err.statusCode).send({ error: err.code, message: err.message });
    if (err.validation) return reply.code(400).send({ error: 'BadRequest', message: err.message });
    if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) {
      return reply.code(err.statusCode).send({ error: err.code ?? 'BadRequest', message: err.message });
    }
    const id = randomUUID().slice(0, 8);
    // only what identifies the failure: an error may carry the request it failed on
    req.log.error({ err: { type: err.name, message: err.message, stack: err.stack }, errorId: id }, 'hook failed');
    return reply.code(500).send({ error: 'InternalError', message: `hook failed; see the service log for error id ${id}`, id });
  });

  app.setNotFoundHandler((req, reply) => {
    reply.code(404).send({ error: 'NotFound', message: `no route ${req.method} ${req.url.split('?')[0]}` });
  });

  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => (closing ? reply.code(503).send({ status: 'shutting down' }) : { status: 'ok' }));
  app.get('/metrics', async (_req, reply) => {
    observer.sweep();
    reply.header('content-type', metrics.registry.contentType);
    return metrics.registry.metrics();
  });

  const observe = (controller: string, hook: HookName) => (_req: FastifyRequest, reply: FastifyReply, done: () => void) => {
    const seconds = reply.elapsedTime / 1000;
    const code = String(reply.statusCode);
    metrics.hookDuration.observe({ controller, hook, code }, seconds);
    if (reply.statusCode !== 200) metrics.hookErrors.inc({ controller, hook, code });
    done();
  };

  const checkEnvelope = <T>(v: ValidateFunction, body: unknown): T => {
    if (!v(body)) throw new HttpError(400, 'BadRequest', describeAjvError(v));
    return body as T;
  };

  const checkAdmitted = (o: unknown, field: string) => {
    const result = parentCheck.admit(o);
    if (result.outcome === 'skipped') throw new HttpError(400, 'BadRequest', `body.${field}.apiVersion: ${result.reason}`);
    if (result.outcome === 'invalid') {
      const p = result.problems[0];
      throw new HttpError(400, 'BadRequest', `body.${field}${p.path === '.' ? '' : p.path}: ${p.message}`);
    }
  };

  /** Before every hook: observed objects of a shape no API server sends are a 400 (./observed-check.ts). */
  const checkObserved = (maps: Record<string, SyncRequestT['children'] | undefined>) => {
    const problem = quickObservedCheck(maps);
    if (problem) throw new HttpError(400, 'BadRequest', `${problem.path}: ${problem.message}`);
  };

  /**
   * A hook threw. If an observed object has a shape no API server sends, the request was malformed: 400
   * naming the field. Otherwise the failure is ours: rethrown, 500.
   */
  const hookFailed = (err: unknown, maps: Record<string, SyncRequestT['children']>): never => {
    let problem;
    try {
      problem = observedCheck.check(maps);
    } catch {
      problem = undefined;
    }
    if (problem) throw new HttpError(400, 'BadRequest', `${problem.path}: ${problem.message}`);
    throw err;
  };

  /**
   * Runs a hook with a clock fixed for the call; serializes the answer once. When the request was seen
   * before, the hook runs a second time with the clock `horizon` ahead and the same random bytes: an
   * identical answer is memoised until then.
   */
  const runHook = <R>(
    req: FastifyRequest,
    reply: FastifyReply,
    random: HookEnv['random'],
    run: (e: HookEnv, first: boolean) => R,
    after?: (res: R, seconds: number) => (() => void) | void,
  ): string => {
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
  };

  /** The memoised answer, when the parser found one. */
  const memoHit = (req: FastifyRequest, reply: FastifyReply): string | undefined => {
    const hit = (req as WithMemo)[MEMO]?.hit;
    if (!hit) return undefined;
    metrics.hookMemo.inc({ result: 'hit' });
    try {
      hit.onHit?.();
    } catch {
      /* metrics only */
    }
    reply.type(JSON_TYPE);
    return hit.body;
  };

  const errorResponses = { '4xx': ErrorBody, '5xx': ErrorBody };

  for (const c of options.controllers) {
    const plural = c.kind.plural;
    const checkParent = (parent: { kind?: string }) => {
      if (parent.kind !== c.kind.kind) throw new HttpError(400, 'BadRequest', `body.parent.kind: expected ${c.kind.kind}, got ${JSON.stringify(parent.kind)}`);
      checkAdmitted(parent, 'parent');
    };
    const hooks = c.hooks;

    for (const hook of ['sync', 'finalize'] as const) {
      if (hook === 'finalize' && !hooks.finalize) continue;
      app.post(`/hooks/${plural}/${hook}`, { schema: { response: errorResponses }, onResponse: observe(plural, hook) }, async (req, reply) => {
        const cached = memoHit(req, reply);
        if (cached !== undefined) return cached;
        const body = checkEnvelope<SyncRequestT>(envelope.sync, req.body);
        checkParent(body.parent);
        checkObserved({ children: body.children, related: body.related });
        const fn = hook === 'sync' ? hooks.sync : hooks.finalize!;
        return runHook(
          req,
          reply,
          randomFor(body.parent),
          (e, first) => {
            const started = performance.now();
            try {
              return finishSync(fn(body, e));
            } catch (err) {
              if (first) observer.failed(body, (performance.now() - started) / 1000);
              return hookFailed(err, { children: body.children, related: body.related });
            }
          },
          (res, seconds) => observer.synced(body, res, seconds, hook),
        );
      });
    }
    const customize = hooks.customize;
    if (customize) {
      app.post(`/hooks/${plural}/customize`, { schema: { response: errorResponses }, onResponse: observe(plural, 'customize') }, async (req, reply) => {
        const body = checkEnvelope<CustomizeRequestT>(envelope.customize, req.body);
        checkParent(body.parent);
        const res = customize(body, { ...env, random: randomFor(body.parent) });
        reply.type(JSON_TYPE);
        return JSON.stringify(finishCustomize(res));
      });
    }
  }
  for (const d of options.decorators ?? []) {
    const kinds = new Set(d.resources.map((r) => r.kind));
    const checkObject = (o: { kind?: string }, field: string) => {
      if (!o.kind || !kinds.has(o.kind)) throw new HttpError(400, 'BadRequest', `body.${field}.kind: expected ${[...kinds].join(' or ')}, got ${JSON.stringify(o.kind)}`);
      const result = parentCheck.admit(o);
      if (result.outcome === 'invalid') {
        const p = result.problems[0];
        throw new HttpError(400, 'BadRequest', `body.${field}${p.path === '.' ? '' : p.path}: ${p.message}`);
      }
    };
    for (const hook of ['sync', 'finalize'] as const) {
      const fn = hook === 'sync' ? d.hooks.sync : d.hooks.finalize;
      if (!fn) continue;
      app.post(`/hooks/${d.name}/${hook}`, { schema: { response: errorResponses }, onResponse: observe(d.name, hook) }, async (req, reply) => {
        const cached = memoHit(req, reply);
        if (cached !== undefined) return cached;
        const body = checkEnvelope<DecoratorSyncRequestT>(envelope.decorator, req.body);
        checkObject(body.object, 'object');
        checkObserved({ attachments: body.attachments, related: body.related });
        return runHook(req, reply, randomFor(body.object), (e) => {
          let res;
          try {
            res = fn(body, e);
          } catch (err) {
            return hookFailed(err, { attachments: body.attachments, related: body.related });
          }
          const out: Record<string, unknown> = {};
          // exactly the fields v2 strict mode accepts
          for (const k of ['labels', 'annotations', 'status', 'resyncAfterSeconds', 'finalized'] as const) if (res[k] !== undefined) out[k] = res[k];
          out.attachments = sortChildren(res.attachments ?? []);
          return out;
        });
      });
    }
    const customize = d.hooks.customize;
    if (customize) {
      app.post(`/hooks/${d.name}/customize`, { schema: { response: errorResponses }, onResponse: observe(d.name, 'customize') }, async (req, reply) => {
        const body = checkEnvelope<CustomizeRequestT>(envelope.customize, req.body);
        checkObject(body.parent, 'parent');
        const res = customize(body, { ...env, random: randomFor(body.parent) });
        reply.type(JSON_TYPE);
        return JSON.stringify(finishCustomize(res));
      });
    }
  }
  return app;
}
