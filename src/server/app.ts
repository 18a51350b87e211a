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
 *
 * Each concern is a Fastify plugin (./plugins: load shedding, auth, the JSON body with the memo lookup,
 * errors) registered in that order, so the onRequest hooks run shedding first, then auth; the routes are
 * route files (./routes: health, metrics, controller and decorator hooks) sharing one HookRuntime
 * (./hook-runtime.ts: clock, randomness, checks, memo, observer).
 */
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { ControllerDef, DecoratorDef, HookEnv, Settings } from '../kit/hooks.js';
import { DEFAULT_SETTINGS } from '../kit/hooks.js';
import { newMetrics, type HookMetrics } from './metrics.js';
import type { ObserverOptions } from './observer.js';
import { newSeed } from '../kit/random.js';
import type { EventQueue, EventQueueOptions } from '../events/queue.js';
import { DEFAULT_BODY_LIMIT } from './limits.js';
import type { EventSink } from '../events/types.js';
import { HookRuntime } from './hook-runtime.js';
import { bearerCheck } from './plugins/auth.js';
import loadShedding from './plugins/load-shedding.js';
import auth from './plugins/auth.js';
import jsonBody from './plugins/json-body.js';
import errors from './plugins/errors.js';
import health from './routes/health.js';
import metricsRoute from './routes/metrics.js';
import controllerHooks from './routes/controller-hooks.js';
import decoratorHooks from './routes/decorator-hooks.js';

export { bearerCheck };

/**
 * Options of buildApp, the Fastify hook service: the controllers and decorators to serve, hook Settings, the bearer
 * token, body limit (bytes, default 8 MiB), request timeout (ms), logger, injected clock and randomness, the random
 * seed (at least 32 bytes), metrics, concurrency limit, response memo window, events and observer options. Each
 * field's comment gives its default.
 */
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

/**
 * The hook server, not yet listening (call `listen`, or `inject` in tests; both load the plugins). Throws
 * at once when `token` is empty or whitespace-only.
 */
export function buildApp(options: AppOptions): FastifyInstance {
  const authorized = bearerCheck(options.token);
  const logging = typeof options.logger === 'object' ? { loggerInstance: options.logger as FastifyBaseLogger } : { logger: options.logger ?? false };
  const app = Fastify({
    ...logging,
    ...(options.tls ? { https: { cert: options.tls.cert, key: options.tls.key, minVersion: 'TLSv1.2' as const } } : {}),
    bodyLimit: options.bodyLimit ?? DEFAULT_BODY_LIMIT,
    ...(options.requestTimeoutMs && options.requestTimeoutMs > 0 ? { requestTimeout: Math.floor(options.requestTimeoutMs) } : {}),
    return503OnClosing: true,
  }) as unknown as FastifyInstance;
  const metrics = options.metrics ?? newMetrics();
  const runtime = new HookRuntime({
    settings: options.settings ?? DEFAULT_SETTINGS,
    ...(options.env ? { env: options.env } : {}),
    seed: options.randomSeed ?? newSeed(),
    metrics,
    ...(options.responseMemoSeconds !== undefined ? { responseMemoSeconds: options.responseMemoSeconds } : {}),
    ...(options.events ? { events: options.events } : {}),
    ...(options.eventQueue ? { eventQueue: options.eventQueue } : {}),
    ...(options.observer ? { observer: options.observer } : {}),
    log: () => app.log,
  });
  app.addHook('onClose', async () => {
    await runtime.events?.close();
  });

  app.register(loadShedding, { metrics, ...(options.maxConcurrency !== undefined ? { maxConcurrency: options.maxConcurrency } : {}) });
  app.register(auth, { authorized });
  app.register(jsonBody, { runtime });
  app.register(errors);
  app.register(health);
  app.register(metricsRoute, { runtime });
  app.register(controllerHooks, { controllers: options.controllers, runtime });
  app.register(decoratorHooks, { decorators: options.decorators ?? [], runtime });
  return app;
}
