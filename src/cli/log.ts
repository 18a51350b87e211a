/**
 * The root `-l/--log-level` and `--color` flags (today's idpbuilder: pkg/cmd/helpers/logger.go and
 * pkg/logger/handler.go). Log lines go to stderr as `<Jan _2 15:04:05> <LEVEL> <message> key=value …`, the
 * level in ANSI colour with --color. What is logged: at `debug`, every external command the CLI runs
 * (program and arguments: the CLI never puts a secret on a command line) and how it ended; at `error`,
 * the CLI's `warning:` lines are dropped. `info` (default) and `warn` print what the commands print anyway.
 */
import type { Runner } from './exec.js';

/** The `--log-level` values, lowest first. */
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
/** One of LOG_LEVELS. */
export type LogLevel = (typeof LOG_LEVELS)[number];
const RANK: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };
const COLOR: Record<LogLevel, string> = { debug: '\x1b[35m', info: '\x1b[32m', warn: '\x1b[93m', error: '\x1b[91m' };
const RESET = '\x1b[0m';
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** Case-insensitive, like today's; throws `<value> is not a valid log level` otherwise. */
export function parseLogLevel(value: string): LogLevel {
  const v = value.toLowerCase();
  if ((LOG_LEVELS as readonly string[]).includes(v)) return v as LogLevel;
  throw new Error(`${value} is not a valid log level`);
}

/** Go's `time.Stamp` layout (`Jan _2 15:04:05`) in local time. */
function stamp(t: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${MONTHS[t.getMonth()]} ${String(t.getDate()).padStart(2, ' ')} ${p(t.getHours())}:${p(t.getMinutes())}:${p(t.getSeconds())}`;
}

/**
 * The CLI's logger: its level, whether a level is printed, and `log` (one line to stderr in today's idpbuilder
 * format, with `key=value` attributes).
 */
export interface Logger {
  level: LogLevel;
  enabled(level: LogLevel): boolean;
  log(level: LogLevel, message: string, attrs?: Record<string, string | number>): void;
}

/** A logger writing today's line format to `write` (stderr). */
export function logger(level: LogLevel, color: boolean, write: (s: string) => void, now: () => number = Date.now): Logger {
  const enabled = (l: LogLevel) => RANK[l] >= RANK[level];
  return {
    level,
    enabled,
    log(l, message, attrs = {}) {
      if (!enabled(l)) return;
      const kv = Object.entries(attrs).filter(([, v]) => String(v) !== '');
      const name = l.toUpperCase();
      const line = color
        ? `\x1b[37;2m${stamp(new Date(now()))}${RESET} ${COLOR[l]}${name}${RESET} \x1b[36m${message}${RESET} ${kv.map(([k, v]) => `\x1b[37;2m${k}=${RESET}\x1b[37m${v}${RESET} `).join('')}`
        : `${stamp(new Date(now()))} ${name} ${message} ${kv.map(([k, v]) => `${k}=${v} `).join('')}`;
      write(`${line}\n`);
    },
  };
}

/** `runner`, logging every command at debug level (program, arguments, exit code). */
export function loggingRunner(runner: Runner, log: Logger): Runner {
  if (!log.enabled('debug')) return runner;
  return {
    env: runner.env,
    which: (c) => runner.which(c),
    async run(command, args, options) {
      log.log('debug', 'running', { command: [command, ...args].join(' ') });
      const r = await runner.run(command, args, options);
      log.log('debug', 'finished', { command, code: r.code });
      return r;
    },
  };
}

/** The stderr writer of a command at `level`: at `error` the CLI's `warning:` lines are dropped. */
export function filterWarnings(level: LogLevel, err: (s: string) => void): (s: string) => void {
  if (level !== 'error') return err;
  return (s) => {
    const kept = s.split(/(?<=\n)/).filter((line) => !line.startsWith('warning: ')).join('');
    if (kept) err(kept);
  };
}
