/**
 * Prometheus metrics of the hook service. One registry per app instance: nothing global.
 *
 * Besides the HTTP-level hook metrics, the domain metrics of the spec (appendix F) live here. The server
 * computes them from what it sees pass through the hooks (the request's parent and observed children, the
 * response's status and children); see ./observer.ts and docs/operations.md.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * The prom-client registry of the hook service and its series: hook request duration (seconds), errors, 503
 * rejections, in-flight requests, memo results; Platform, component and GitRepository domain metrics; event counters
 * and queue length; observer errors. Names and labels in newMetrics and docs/operations.md.
 */
export interface HookMetrics {
  registry: Registry;
  hookDuration: Histogram<'controller' | 'hook' | 'code'>;
  hookErrors: Counter<'controller' | 'hook' | 'code'>;
  /** Requests refused with 503 because --max-concurrency requests were already in flight. */
  hookRejected: Counter<'reason'>;
  hooksInFlight: Gauge;
  /** The response memo: hit (answered from it), stored (checked and kept), unstable (answer moves with the clock). */
  hookMemo: Counter<'result'>;

  platformComponentsTotal: Gauge<'platform'>;
  platformComponentsReady: Gauge<'platform' | 'component'>;
  platformReconcileDuration: Histogram<'platform'>;
  platformReconcileErrors: Counter<'platform'>;

  componentInstallDuration: Histogram<'component' | 'version'>;
  componentReady: Gauge<'component' | 'phase'>;
  componentHelmReleases: Counter<'component'>;
  componentHelmFailures: Counter<'component'>;

  gitRepositorySyncs: Counter<'name'>;
  gitRepositorySyncFailures: Counter<'name'>;
  gitRepositoryLastSync: Gauge<'name'>;

  eventsEmitted: Counter<'reason' | 'result'>;
  eventsDropped: Counter<'reason'>;
  eventQueueLength: Gauge;
  /** Failures of the observer itself (a bug in metrics or events code); never fails a hook. */
  observerErrors: Counter;
}

/**
 * A fresh registry with every HookMetrics series (names `idpbuilder_…`; durations in seconds); with `defaultMetrics`,
 * also prom-client's process metrics prefixed `idpbuilder_hooks_`.
 */
export function newMetrics(options: { defaultMetrics?: boolean } = {}): HookMetrics {
  const registry = new Registry();
  const registers = [registry];
  if (options.defaultMetrics) collectDefaultMetrics({ register: registry, prefix: 'idpbuilder_hooks_' });
  const hookDuration = new Histogram({
    name: 'idpbuilder_hook_request_duration_seconds',
    help: 'Duration of Metacontroller hook requests, by controller, hook and HTTP status code.',
    labelNames: ['controller', 'hook', 'code'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers,
  });
  const hookErrors = new Counter({
    name: 'idpbuilder_hook_request_errors_total',
    help: 'Hook requests that did not answer 200, by controller, hook and HTTP status code.',
    labelNames: ['controller', 'hook', 'code'] as const,
    registers,
  });
  const hookRejected = new Counter({
    name: 'idpbuilder_hook_requests_rejected_total',
    help: 'Hook requests refused with 503 before running, by reason (concurrency: --max-concurrency reached).',
    labelNames: ['reason'] as const,
    registers,
  });
  const hooksInFlight = new Gauge({ name: 'idpbuilder_hook_requests_in_flight', help: 'Hook requests being received or answered.', registers });

  const hookMemo = new Counter({
    name: 'idpbuilder_hook_memo_total',
    help: 'Response memo outcomes: hit (a repeated request answered without running the hook), stored, unstable (the answer depends on the clock).',
    labelNames: ['result'] as const,
    registers,
  });

  const platformComponentsTotal = new Gauge({
    name: 'idpbuilder_platform_components_total',
    help: 'Providers a Platform lists in status.providers. platform = <namespace>/<name>.',
    labelNames: ['platform'] as const,
    registers,
  });
  const platformComponentsReady = new Gauge({
    name: 'idpbuilder_platform_components_ready',
    help: 'Whether a provider listed by a Platform is ready (1) or not (0). component = <kind>/<namespace>/<name>.',
    labelNames: ['platform', 'component'] as const,
    registers,
  });
  const platformReconcileDuration = new Histogram({
    name: 'idpbuilder_platform_reconcile_duration_seconds',
    help: 'Duration of the Platform sync hook (the reconcile computation), by platform.',
    labelNames: ['platform'] as const,
    buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5],
    registers,
  });
  const platformReconcileErrors = new Counter({
    name: 'idpbuilder_platform_reconcile_errors_total',
    help: 'Platform syncs that failed (the hook failed) or ended Ready=False with a failure (phase Degraded).',
    labelNames: ['platform'] as const,
    registers,
  });

  const componentInstallDuration = new Histogram({
    name: 'idpbuilder_component_install_duration_seconds',
    help: 'Duration of successful install Jobs (completionTime - startTime), counted once per Job.',
    labelNames: ['component', 'version'] as const,
    buckets: [5, 15, 30, 60, 120, 180, 300, 600, 900, 1800, 3600],
    registers,
  });
  const componentReady = new Gauge({
    name: 'idpbuilder_component_ready',
    help: 'A component\'s (provider\'s) phase: 1 for the current phase, 0 for the others.',
    labelNames: ['component', 'phase'] as const,
    registers,
  });
  const componentHelmReleases = new Counter({
    name: 'idpbuilder_component_helm_releases_total',
    help: 'Install Jobs (helm upgrade --install) seen finished, succeeded or failed; each Job counted once.',
    labelNames: ['component'] as const,
    registers,
  });
  const componentHelmFailures = new Counter({
    name: 'idpbuilder_component_helm_failures_total',
    help: 'Install Jobs seen failed; each Job counted once.',
    labelNames: ['component'] as const,
    registers,
  });

  const gitRepositorySyncs = new Counter({
    name: 'idpbuilder_gitrepository_syncs_total',
    help: 'Repository sync Jobs seen finished, succeeded or failed; each Job counted once. name = <namespace>/<name>.',
    labelNames: ['name'] as const,
    registers,
  });
  const gitRepositorySyncFailures = new Counter({
    name: 'idpbuilder_gitrepository_sync_failures_total',
    help: 'Repository sync Jobs seen failed; each Job counted once.',
    labelNames: ['name'] as const,
    registers,
  });
  const gitRepositoryLastSync = new Gauge({
    name: 'idpbuilder_gitrepository_last_sync_timestamp',
    help: 'status.lastSyncTime of a GitRepository, in seconds since the epoch.',
    labelNames: ['name'] as const,
    registers,
  });

  const eventsEmitted = new Counter({
    name: 'idpbuilder_events_total',
    help: 'Kubernetes Events handled by the event queue, by reason and result (emitted, exists, failed, timeout).',
    labelNames: ['reason', 'result'] as const,
    registers,
  });
  const eventsDropped = new Counter({
    name: 'idpbuilder_events_dropped_total',
    help: 'Events dropped before reaching the sink, by reason (queue_full).',
    labelNames: ['reason'] as const,
    registers,
  });
  const eventQueueLength = new Gauge({ name: 'idpbuilder_events_queue_length', help: 'Events waiting to be sent.', registers });
  const observerErrors = new Counter({
    name: 'idpbuilder_observer_errors_total',
    help: 'Errors while computing metrics or events from a hook call (the hook answer is not affected).',
    registers,
  });

  return {
    registry,
    hookDuration,
    hookErrors,
    hookRejected,
    hooksInFlight,
    hookMemo,
    platformComponentsTotal,
    platformComponentsReady,
    platformReconcileDuration,
    platformReconcileErrors,
    componentInstallDuration,
    componentReady,
    componentHelmReleases,
    componentHelmFailures,
    gitRepositorySyncs,
    gitRepositorySyncFailures,
    gitRepositoryLastSync,
    eventsEmitted,
    eventsDropped,
    eventQueueLength,
    observerErrors,
  };
}
