/**
 * Load shedding: at most `maxConcurrency` hook requests (/hooks/…) in flight, counted from onRequest
 * (before the body is read) until the connection's response closes; more get 503 with `Retry-After: 1`.
 * Not 429: Metacontroller requeues a 429 after Retry-After without backing off. Other routes are not
 * counted. Metrics: `hookRejected{reason="concurrency"}`, `hooksInFlight`.
 */
import fp from 'fastify-plugin';
import type { FastifyPluginCallback } from 'fastify';
import type { HookMetrics } from '../metrics.js';

/**
 * Options of the load-shedding plugin: the most hook requests in flight (0, negative or unset: no limit; fractions
 * floored) and the metrics that count rejections.
 */
export interface LoadSheddingOptions {
  /** Hook requests in flight at most; 0, negative or unset: no limit. Fractions are floored. */
  maxConcurrency?: number;
  metrics: HookMetrics;
}

const loadShedding: FastifyPluginCallback<LoadSheddingOptions> = (app, opts, done) => {
  const { metrics } = opts;
  const maxConcurrency = opts.maxConcurrency && opts.maxConcurrency > 0 ? Math.floor(opts.maxConcurrency) : Infinity;
  let inFlight = 0;
  app.addHook('onRequest', (req, reply, next) => {
    if (!req.url.startsWith('/hooks/')) return next();
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
    next();
  });
  done();
};

/** Registers the concurrency limit as an onRequest hook of the whole server. */
export default fp(loadShedding, { name: 'idpbuilder-load-shedding' });
