/** Runs the hook service until SIGTERM/SIGINT, then drains in-flight requests and exits. */
import { readFileSync } from 'node:fs';
import pino from 'pino';
import { buildApp } from './app.js';
import { controllers, decorators } from '../controllers/registry.js';
import { DEFAULT_SETTINGS, type Settings } from '../controllers/types.js';
import { newMetrics } from './metrics.js';

export interface ServeOptions {
  port: number;
  host: string;
  tokenFile?: string;
  bodyLimit?: number;
  settings?: Partial<Settings>;
  logLevel?: string;
}

/** Settings from the environment, so the chart can set them on the Deployment. */
export function settingsFromEnv(env: NodeJS.ProcessEnv = process.env): Settings {
  return {
    jobImage: env.IDPBUILDER_JOB_IMAGE || DEFAULT_SETTINGS.jobImage,
    jobServiceAccount: env.IDPBUILDER_JOB_SERVICE_ACCOUNT || DEFAULT_SETTINGS.jobServiceAccount,
    controllerNamespace: env.IDPBUILDER_NAMESPACE || DEFAULT_SETTINGS.controllerNamespace,
  };
}

export async function serve(opts: ServeOptions): Promise<void> {
  const logger = pino({
    level: opts.logLevel ?? 'info',
    redact: { paths: ['req.headers.authorization', '*.data', '*.stringData', 'password', 'token'], censor: '[redacted]' },
  });
  const token = opts.tokenFile ? readFileSync(opts.tokenFile, 'utf8').trim() : process.env.IDPBUILDER_WEBHOOK_TOKEN || undefined;
  const app = buildApp({
    controllers: controllers(),
    decorators: decorators(),
    settings: { ...settingsFromEnv(), ...opts.settings },
    token,
    bodyLimit: opts.bodyLimit,
    logger,
    metrics: newMetrics({ defaultMetrics: true }),
  });
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
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
  await app.listen({ port: opts.port, host: opts.host });
}
