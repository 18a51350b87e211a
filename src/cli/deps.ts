/**
 * What every `idpbuilder` command shares: the injected dependencies (process runner, output, clock,
 * polling intervals), the error meant for the user, the `--timeout` parser and the chart shipped with the
 * CLI.
 */
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { durationSeconds } from '../kit/duration.js';
import { processRunner, type Runner } from './exec.js';

/** The idpbuilder chart shipped with the CLI: charts/idpbuilder beside src/ (or dist/). */
export const DEFAULT_CHART = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'charts', 'idpbuilder');

/**
 * What every command shares, injectable for tests: the process runner, stdout and stderr writers, sleep and clock
 * (epoch ms), the poll interval while waiting (ms), the --no-exit watch interval (ms) and the signal that ends a
 * wait.
 */
export interface CliDeps {
  runner: Runner;
  out: (s: string) => void;
  err: (s: string) => void;
  sleep: (ms: number) => Promise<void>;
  now: () => number;
  /** How often to poll objects while waiting. */
  pollIntervalMs: number;
  /** How often --no-exit looks at the local package directories. */
  watchIntervalMs: number;
  /** Ends --no-exit (and a wait in progress). Default: SIGINT/SIGTERM. */
  signal?: AbortSignal;
}

/** The real dependencies: child processes, `out`/`err` as given, real timers and clock; polls every 5 s, watches every 2 s. */
export function defaultDeps(io: { out: (s: string) => void; err: (s: string) => void }): CliDeps {
  return {
    runner: processRunner(),
    out: io.out,
    err: io.err,
    sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
    now: () => Date.now(),
    pollIntervalMs: 5_000,
    watchIntervalMs: 2_000,
  };
}

/** An error meant for the user: printed as `error: <message>`, exit code 1. */
export class UserError extends Error {
  override readonly name = 'UserError';
}

/**
 * `--timeout`: a Go duration (`90s`, `15m`, `1h30m`) or plain seconds.
 * @throws UserError when `value` is neither whole seconds nor a positive Go duration.
 */
export function timeoutMs(value: string): number {
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  const s = durationSeconds(value, -1);
  if (s <= 0) throw new UserError(`--timeout ${value}: not a duration (e.g. 90s, 15m, 1h)`);
  return Math.round(s * 1000);
}
