/** Runs the hook service until SIGTERM/SIGINT, then drains in-flight requests and exits. */
import { readFileSync, statSync } from 'node:fs';
import type { Server as TlsServer } from 'node:tls';
import { InvalidArgumentError, type Command } from 'commander';
import pino, { type Logger } from 'pino';
import { buildApp } from './app.js';
import { controllers, decorators } from '../controllers/registry.js';
import { DEFAULT_SETTINGS, type Settings } from '../controllers/types.js';
import { newMetrics } from './metrics.js';
import { KubernetesEventSink } from '../events/kube.js';
import type { EventSink } from '../events/types.js';

export interface ServeOptions {
  port: number;
  host: string;
  tokenFile?: string;
  bodyLimit?: number;
  settings?: Partial<Settings>;
  logLevel?: string;
  /** PEM files: serve HTTPS (Metacontroller's webhook caBundle must hold the issuing CA). */
  tlsCert?: string;
  tlsKey?: string;
  /** Hook requests in flight at most; more get 503 + Retry-After. */
  maxConcurrency?: number;
  /** Write Kubernetes Events (events.k8s.io/v1) with the pod's service account. */
  events?: boolean;
  /** Window of the response memo in seconds; 0 turns it off (src/server/memo.ts). */
  responseMemoSeconds?: number;
  /** Sink override (tests). */
  eventSink?: EventSink;
}

/** Paths pino replaces wherever they occur: tokens and every Secret-shaped field. Bodies are never logged. */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  'authorization',
  'token',
  'password',
  'data',
  'stringData',
  '*.data',
  '*.stringData',
  '*.*.data',
  '*.*.stringData',
  '*.token',
  '*.password',
  'body',
  '*.body',
];

export function createLogger(level = 'info', destination?: pino.DestinationStream): Logger {
  const opts: pino.LoggerOptions = { level, redact: { paths: REDACT_PATHS, censor: '[redacted]' } };
  return destination ? pino(opts, destination) : pino(opts);
}

/** Settings from the environment, so the chart can set them on the Deployment. */
export function settingsFromEnv(env: NodeJS.ProcessEnv = process.env): Settings {
  return {
    jobImage: env.IDPBUILDER_JOB_IMAGE || DEFAULT_SETTINGS.jobImage,
    jobServiceAccount: env.IDPBUILDER_JOB_SERVICE_ACCOUNT || DEFAULT_SETTINGS.jobServiceAccount,
    controllerNamespace: env.IDPBUILDER_NAMESPACE || DEFAULT_SETTINGS.controllerNamespace,
  };
}

function truthy(v: string | undefined): boolean {
  return v !== undefined && /^(1|true|yes|on)$/i.test(v.trim());
}

/** Options from flags, with the environment as fallback (IDPBUILDER_EVENTS, IDPBUILDER_TLS_CERT, …). */
export function serveOptionsFromEnv(o: Partial<ServeOptions>, env: NodeJS.ProcessEnv = process.env): Partial<ServeOptions> {
  const max = o.maxConcurrency ?? (env.IDPBUILDER_MAX_CONCURRENCY ? Number(env.IDPBUILDER_MAX_CONCURRENCY) : undefined);
  const memo = o.responseMemoSeconds ?? (env.IDPBUILDER_RESPONSE_MEMO_SECONDS ? Number(env.IDPBUILDER_RESPONSE_MEMO_SECONDS) : undefined);
  return {
    ...o,
    responseMemoSeconds: memo !== undefined && Number.isFinite(memo) && memo >= 0 ? memo : undefined,
    tlsCert: o.tlsCert ?? (env.IDPBUILDER_TLS_CERT || undefined),
    tlsKey: o.tlsKey ?? (env.IDPBUILDER_TLS_KEY || undefined),
    maxConcurrency: max !== undefined && Number.isFinite(max) && max > 0 ? max : undefined,
    events: o.events || truthy(env.IDPBUILDER_EVENTS),
  };
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a positive integer');
  return n;
}

function seconds(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError('must be a number of seconds (0 turns it off)');
  return n;
}

/**
 * The options and action of `idpbuilder serve`, for src/cli/main.ts:
 * `configureServeCommand(cmd.command('serve'), port)`.
 */
export function configureServeCommand(cmd: Command, port: (v: string) => number): Command {
  return cmd
    .description('Run the hook service Metacontroller calls')
    .option('--port <port>', 'port to listen on', port, 8080)
    .option('--host <host>', 'address to bind', '0.0.0.0')
    .option('--token-file <path>', 'file holding the bearer token Metacontroller sends (default: $IDPBUILDER_WEBHOOK_TOKEN)')
    .option('--log-level <level>', 'pino log level', 'info')
    .option('--tls-cert <file>', 'serve HTTPS with this PEM certificate (chain); reloaded when the file changes ($IDPBUILDER_TLS_CERT)')
    .option('--tls-key <file>', 'PEM private key of --tls-cert ($IDPBUILDER_TLS_KEY)')
    .option('--max-concurrency <n>', 'hook requests in flight at most; more get 503 with Retry-After ($IDPBUILDER_MAX_CONCURRENCY)', positiveInt)
    .option('--events', 'write Kubernetes Events about our objects with the pod\'s service account ($IDPBUILDER_EVENTS=1)', false)
    .option('--response-memo-seconds <s>', 'answer a repeated identical request from memory for this long when the answer cannot change with the clock; 0 turns it off (default 30, $IDPBUILDER_RESPONSE_MEMO_SECONDS)', seconds)
    .action(async (o: { port: number; host: string; tokenFile?: string; logLevel: string; tlsCert?: string; tlsKey?: string; maxConcurrency?: number; events: boolean; responseMemoSeconds?: number }) => {
      await serve(o);
    });
}

/** Watches the certificate files and swaps the server's TLS context when they change (cert-manager rotation). */
function watchCertificates(server: TlsServer, certFile: string, keyFile: string, logger: Logger): NodeJS.Timeout {
  const stamp = () => `${statSync(certFile).mtimeMs}/${statSync(keyFile).mtimeMs}`;
  let last = stamp();
  const timer = setInterval(() => {
    try {
      const now = stamp();
      if (now === last) return;
      server.setSecureContext({ cert: readFileSync(certFile), key: readFileSync(keyFile) });
      last = now;
      logger.info({ certFile }, 'TLS certificate reloaded');
    } catch (err) {
      logger.warn({ certFile, error: (err as Error).message }, 'TLS certificate reload failed; keeping the current one');
    }
  }, 30_000);
  timer.unref();
  return timer;
}

export async function serve(input: ServeOptions): Promise<void> {
  const opts = { ...input, ...serveOptionsFromEnv(input) } as ServeOptions;
  const logger = createLogger(opts.logLevel ?? 'info');
  const token = opts.tokenFile ? readFileSync(opts.tokenFile, 'utf8').trim() : process.env.IDPBUILDER_WEBHOOK_TOKEN || undefined;
  if (!!opts.tlsCert !== !!opts.tlsKey) throw new Error('--tls-cert and --tls-key go together');
  const tls = opts.tlsCert && opts.tlsKey ? { cert: readFileSync(opts.tlsCert), key: readFileSync(opts.tlsKey) } : undefined;
  let events: EventSink | undefined = opts.eventSink;
  if (opts.events && !events) {
    try {
      events = KubernetesEventSink.fromInCluster();
    } catch (err) {
      logger.warn({ error: (err as Error).message }, 'events disabled: no in-cluster service account');
    }
  }
  const app = buildApp({
    controllers: controllers(),
    decorators: decorators(),
    settings: { ...settingsFromEnv(), ...opts.settings },
    token,
    bodyLimit: opts.bodyLimit,
    logger,
    metrics: newMetrics({ defaultMetrics: true }),
    tls,
    maxConcurrency: opts.maxConcurrency,
    events,
    responseMemoSeconds: opts.responseMemoSeconds,
  });
  const certTimer = tls ? watchCertificates(app.server as unknown as TlsServer, opts.tlsCert!, opts.tlsKey!, logger) : undefined;
  const shutdown = (signal: string) => {
    logger.info({ signal }, 'shutting down');
    if (certTimer) clearInterval(certTimer);
    app.close().then(
      () => process.exit(0),
      (err) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
  await app.listen({ port: opts.port, host: opts.host });
  logger.info({ tls: !!tls, events: !!events, maxConcurrency: opts.maxConcurrency ?? null, responseMemoSeconds: opts.responseMemoSeconds ?? 30 }, 'hook service listening');
}
