/** Runs the hook service until SIGTERM/SIGINT, then drains in-flight requests and exits. */
import { readFileSync, statSync } from 'node:fs';
import { BlockList, isIP } from 'node:net';
import type { Server as TlsServer } from 'node:tls';
import type { FastifyInstance } from 'fastify';
import { InvalidArgumentError, type Command } from 'commander';
import pino, { type Logger } from 'pino';
import { buildApp } from './app.js';
import { DEFAULT_BODY_LIMIT, DEFAULT_REQUEST_TIMEOUT_SECONDS } from './limits.js';
import { controllers, decorators } from '../controllers/registry.js';
import { DEFAULT_SETTINGS, type Settings } from '../kit/hooks.js';
import { newMetrics } from './metrics.js';
import { KubernetesEventSink } from '../events/kube.js';
import type { EventSink } from '../events/types.js';
import { MIN_SEED_BYTES } from '../kit/random.js';

/**
 * Options of `idpbuilder serve`: listen port and host, the token file, the random seed file, whether to serve
 * unauthenticated on a non-loopback address, body limit (bytes, default 8 MiB), request timeout (seconds, default
 * 30), settings, log level, TLS certificate and key (PEM files), concurrency limit, Kubernetes Events, response memo
 * window (seconds) and test overrides.
 */
export interface ServeOptions {
  port: number;
  host: string;
  tokenFile?: string;
  /** File holding the secret seed of the hooks' keyed randomness (src/kit/random.ts); `$IDPBUILDER_RANDOM_SEED_FILE`. */
  randomSeedFile?: string;
  /**
   * Serve without a bearer token on a non-loopback address (default false: refused, see `authPolicy`).
   * Also IDPBUILDER_ALLOW_UNAUTHENTICATED=1.
   */
  allowUnauthenticated?: boolean;
  /** Largest accepted request body in bytes (default 8 MiB, src/server/limits.ts). */
  bodyLimit?: number;
  /**
   * Seconds a client has to send a whole request (Fastify `requestTimeout`; also the idle
   * `connectionTimeout`). 0 turns it off. Default 30.
   */
  requestTimeoutSeconds?: number;
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
  /** Where the log goes (tests); default stdout. */
  logDestination?: pino.DestinationStream;
  /** Environment the token and settings are read from (tests); default process.env. */
  env?: NodeJS.ProcessEnv;
}

/** A start-up refusal: bad auth configuration. The CLI prints the message and exits 1. */
export class ServeConfigError extends Error {}

/**
 * The bearer token of the hook service, from `--token-file` (one trailing newline removed), else from
 * IDPBUILDER_WEBHOOK_TOKEN; undefined when neither is given.
 *
 * Throws ServeConfigError when the file cannot be read, when the file or the variable holds nothing but
 * whitespace (an empty Secret must never mean "auth off"), or when the token spans several lines (it
 * could never match an HTTP header).
 */
export function readToken(tokenFile: string | undefined, env: NodeJS.ProcessEnv = process.env): string | undefined {
  let raw: string;
  let source: string;
  if (tokenFile) {
    source = `--token-file ${tokenFile}`;
    try {
      raw = readFileSync(tokenFile, 'utf8');
    } catch (err) {
      throw new ServeConfigError(`${source}: cannot read the token (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    }
  } else if (env.IDPBUILDER_WEBHOOK_TOKEN !== undefined) {
    source = 'IDPBUILDER_WEBHOOK_TOKEN';
    raw = env.IDPBUILDER_WEBHOOK_TOKEN;
  } else {
    return undefined;
  }
  const token = raw.replace(/\r?\n$/, '');
  if (token.trim() === '') {
    throw new ServeConfigError(`${source} is empty: refusing to start without the bearer token it should hold (write the token into it, or remove it to run without auth)`);
  }
  if (/[\r\n]/.test(token)) throw new ServeConfigError(`${source}: the token spans several lines; it must be one line`);
  return token;
}

const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');
LOOPBACK.addSubnet('::ffff:127.0.0.0', 104, 'ipv6');

/** True for `localhost`, 127.0.0.0/8, ::1 (also in brackets) and IPv4-mapped 127.x; false for anything else, 0.0.0.0 and :: included. */
export function isLoopback(host: string): boolean {
  const h = host.trim().toLowerCase().replace(/^\[(.*)\]$/, '$1');
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  const family = isIP(h);
  if (family === 0) return false;
  return LOOPBACK.check(h, family === 4 ? 'ipv4' : 'ipv6');
}

/**
 * The seed of the hooks' keyed randomness (src/kit/random.ts) from `--random-seed-file` (else
 * `$IDPBUILDER_RANDOM_SEED_FILE`): the file's bytes, one trailing newline removed. Every replica must read
 * the same seed, or two replicas would generate different credentials for the same object. Undefined when
 * neither is given (a per-process seed is used then). Throws ServeConfigError when the file cannot be read
 * or holds fewer than MIN_SEED_BYTES bytes.
 */
export function readRandomSeed(file: string | undefined, env: NodeJS.ProcessEnv = process.env): Buffer | undefined {
  const path = file ?? (env.IDPBUILDER_RANDOM_SEED_FILE || undefined);
  if (!path) return undefined;
  let raw: Buffer;
  try {
    raw = readFileSync(path);
  } catch (err) {
    throw new ServeConfigError(`--random-seed-file ${path}: cannot read the seed (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  const seed = raw.at(-1) === 0x0a ? raw.subarray(0, raw.length - (raw.at(-2) === 0x0d ? 2 : 1)) : raw;
  if (seed.length < MIN_SEED_BYTES) throw new ServeConfigError(`--random-seed-file ${path}: the seed must be at least ${MIN_SEED_BYTES} bytes, got ${seed.length}`);
  return seed;
}

/** What the service does about auth: `bearer` (token checked), or `off` with the warning to log. */
export type AuthDecision = { auth: 'bearer' } | { auth: 'off'; warning: string };

/**
 * Fail-closed auth: with a token, bearer auth is on. Without one, a loopback listen address is allowed
 * with a warning, and any other address only with `allowUnauthenticated`; otherwise ServeConfigError says
 * how to fix it.
 * @throws ServeConfigError when there is no token, the address is not loopback and unauthenticated serving was not
 *   allowed.
 */
export function authPolicy(o: { token?: string; host: string; allowUnauthenticated?: boolean }): AuthDecision {
  if (o.token) return { auth: 'bearer' };
  if (isLoopback(o.host)) return { auth: 'off', warning: `no bearer token: any local process can call the hooks on ${o.host}` };
  if (o.allowUnauthenticated) return { auth: 'off', warning: `no bearer token and listening on ${o.host}: anyone who can reach the port can call the hooks (--allow-unauthenticated)` };
  throw new ServeConfigError(
    `refusing to serve on ${o.host} without a bearer token: pass --token-file <file> (or set IDPBUILDER_WEBHOOK_TOKEN), listen on a loopback address (--host 127.0.0.1), or pass --allow-unauthenticated`,
  );
}

/** Paths pino replaces wherever they occur: tokens and every Secret-shaped field. Bodies are never logged. */
const REDACT_PATHS = [
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

/**
 * The service's pino logger at `level` (default info), to `destination` or stdout, with tokens, passwords, Secret
 * data and bodies replaced by `[redacted]` wherever they occur.
 */
export function createLogger(level = 'info', destination?: pino.DestinationStream): Logger {
  const opts: pino.LoggerOptions = { level, redact: { paths: REDACT_PATHS, censor: '[redacted]' } };
  return destination ? pino(opts, destination) : pino(opts);
}

/** Settings from the environment, so the chart can set them on the Deployment. */
export function settingsFromEnv(env: NodeJS.ProcessEnv = process.env): Settings {
  return {
    jobImage: env.IDPBUILDER_JOB_IMAGE || DEFAULT_SETTINGS.jobImage,
    jobServiceAccount: env.IDPBUILDER_JOB_SERVICE_ACCOUNT || DEFAULT_SETTINGS.jobServiceAccount,
    runnerServiceAccount: env.IDPBUILDER_RUNNER_SERVICE_ACCOUNT || DEFAULT_SETTINGS.runnerServiceAccount,
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
    allowUnauthenticated: o.allowUnauthenticated || truthy(env.IDPBUILDER_ALLOW_UNAUTHENTICATED),
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
    .option('--random-seed-file <path>', 'file holding the secret seed the hooks derive generated credentials from; the same for every replica ($IDPBUILDER_RANDOM_SEED_FILE; default: a seed per process)')
    .option('--token-file <path>', 'file holding the bearer token Metacontroller sends (default: $IDPBUILDER_WEBHOOK_TOKEN); empty is an error')
    .option('--allow-unauthenticated', 'serve without a token on a non-loopback --host ($IDPBUILDER_ALLOW_UNAUTHENTICATED=1)', false)
    .option('--log-level <level>', 'pino log level', 'info')
    .option('--tls-cert <file>', 'serve HTTPS with this PEM certificate (chain); reloaded when the file changes ($IDPBUILDER_TLS_CERT)')
    .option('--tls-key <file>', 'PEM private key of --tls-cert ($IDPBUILDER_TLS_KEY)')
    .option('--max-concurrency <n>', 'hook requests in flight at most; more get 503 with Retry-After ($IDPBUILDER_MAX_CONCURRENCY)', positiveInt)
    .option('--events', 'write Kubernetes Events about our objects with the pod\'s service account ($IDPBUILDER_EVENTS=1)', false)
    .option('--body-limit <bytes>', 'largest request body accepted; larger gets 413 (default 8388608)', positiveInt)
    .option('--request-timeout <s>', 'seconds a client has to send a whole request; 0 turns it off (default 30)', seconds)
    .option('--response-memo-seconds <s>', 'answer a repeated identical request from memory for this long when the answer cannot change with the clock; 0 turns it off (default 30, $IDPBUILDER_RESPONSE_MEMO_SECONDS)', seconds)
    .action(
      async (o: {
        port: number;
        host: string;
        tokenFile?: string;
        randomSeedFile?: string;
        allowUnauthenticated: boolean;
        logLevel: string;
        tlsCert?: string;
        tlsKey?: string;
        maxConcurrency?: number;
        bodyLimit?: number;
        requestTimeout?: number;
        events: boolean;
        responseMemoSeconds?: number;
      }) => {
        const { requestTimeout, ...rest } = o;
        await serve({ ...rest, requestTimeoutSeconds: requestTimeout });
      },
    );
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

/**
 * Starts the hook service and resolves once it listens. Throws ServeConfigError (before listening) on a
 * bad auth configuration (`readToken`, `authPolicy`) or a lone --tls-cert/--tls-key. SIGTERM/SIGINT close it
 * and exit the process.
 */
export async function serve(input: ServeOptions): Promise<FastifyInstance> {
  const processEnv = input.env ?? process.env;
  const opts = { ...input, ...serveOptionsFromEnv(input, processEnv) } as ServeOptions;
  const logger = createLogger(opts.logLevel ?? 'info', opts.logDestination);
  const token = readToken(opts.tokenFile, processEnv);
  const decision = authPolicy({ token, host: opts.host, allowUnauthenticated: opts.allowUnauthenticated });
  const randomSeed = readRandomSeed(opts.randomSeedFile, processEnv);
  if (!!opts.tlsCert !== !!opts.tlsKey) throw new ServeConfigError('--tls-cert and --tls-key go together');
  const tls = opts.tlsCert && opts.tlsKey ? { cert: readFileSync(opts.tlsCert), key: readFileSync(opts.tlsKey) } : undefined;
  let events: EventSink | undefined = opts.eventSink;
  if (opts.events && !events) {
    try {
      events = await KubernetesEventSink.fromInCluster();
    } catch (err) {
      logger.warn({ error: (err as Error).message }, 'events disabled: no in-cluster service account');
    }
  }
  const requestTimeoutSeconds = opts.requestTimeoutSeconds ?? DEFAULT_REQUEST_TIMEOUT_SECONDS;
  const app = buildApp({
    controllers: controllers(),
    decorators: decorators(),
    settings: { ...settingsFromEnv(processEnv), ...opts.settings },
    token,
    bodyLimit: opts.bodyLimit,
    requestTimeoutMs: requestTimeoutSeconds * 1000,
    logger,
    metrics: newMetrics({ defaultMetrics: true }),
    tls,
    maxConcurrency: opts.maxConcurrency,
    events,
    responseMemoSeconds: opts.responseMemoSeconds,
    ...(randomSeed ? { randomSeed } : {}),
  });
  const certTimer = tls ? watchCertificates(app.server as unknown as TlsServer, opts.tlsCert!, opts.tlsKey!, logger) : undefined;
  const shutdown = (signal: string) => {
    logger.info({ signal }, 'shutting down');
    app.close().then(
      () => process.exit(0),
      (err) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  const onTerm = () => shutdown('SIGTERM');
  const onInt = () => shutdown('SIGINT');
  process.once('SIGTERM', onTerm);
  process.once('SIGINT', onInt);
  app.addHook('onClose', async () => {
    if (certTimer) clearInterval(certTimer);
    process.removeListener('SIGTERM', onTerm);
    process.removeListener('SIGINT', onInt);
  });
  await app.listen({ port: opts.port, host: opts.host });
  if (decision.auth === 'off') logger.warn({ auth: 'off', host: opts.host }, decision.warning);
  logger.info(
    {
      auth: decision.auth,
      tls: !!tls,
      events: !!events,
      maxConcurrency: opts.maxConcurrency ?? null,
      bodyLimit: opts.bodyLimit ?? DEFAULT_BODY_LIMIT,
      requestTimeoutSeconds,
      responseMemoSeconds: opts.responseMemoSeconds ?? 30,
      randomSeed: randomSeed ? 'file' : 'per-process',
    },
    `hook service listening (bearer auth ${decision.auth === 'bearer' ? 'on' : 'OFF'})`,
  );
  return app;
}
