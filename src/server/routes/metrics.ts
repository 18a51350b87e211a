/**
 * GET /metrics: the Prometheus text of the server's registry (content type from prom-client), after the
 * observer's sweep has dropped the gauges of objects not seen lately.
 */
import type { FastifyPluginCallback } from 'fastify';
import type { HookRuntime } from '../hook-runtime.js';

/** Options of the /metrics route: the HookRuntime whose registry and observer it reads. */
export interface MetricsRouteOptions {
  runtime: HookRuntime;
}

/** Registers GET /metrics (Prometheus text format). */
const metricsRoute: FastifyPluginCallback<MetricsRouteOptions> = (app, { runtime }, done) => {
  app.get('/metrics', async (_req, reply) => {
    runtime.observer.sweep();
    reply.header('content-type', runtime.metrics.registry.contentType);
    return runtime.metrics.registry.metrics();
  });
  done();
};

export default metricsRoute;
