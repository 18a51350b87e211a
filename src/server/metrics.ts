/** Prometheus metrics of the hook service. One registry per app instance: nothing global. */
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface HookMetrics {
  registry: Registry;
  hookDuration: Histogram<'controller' | 'hook' | 'code'>;
  hookErrors: Counter<'controller' | 'hook' | 'code'>;
}

export function newMetrics(options: { defaultMetrics?: boolean } = {}): HookMetrics {
  const registry = new Registry();
  if (options.defaultMetrics) collectDefaultMetrics({ register: registry, prefix: 'idpbuilder_hooks_' });
  const hookDuration = new Histogram({
    name: 'idpbuilder_hook_request_duration_seconds',
    help: 'Duration of Metacontroller hook requests, by controller, hook and HTTP status code.',
    labelNames: ['controller', 'hook', 'code'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [registry],
  });
  const hookErrors = new Counter({
    name: 'idpbuilder_hook_request_errors_total',
    help: 'Hook requests that did not answer 200, by controller, hook and HTTP status code.',
    labelNames: ['controller', 'hook', 'code'] as const,
    registers: [registry],
  });
  return { registry, hookDuration, hookErrors };
}
