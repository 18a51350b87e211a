/**
 * The `idpbuilder` command line. Each subcommand lives in its own module; this file only wires them, plus
 * today's root flags `-l/--log-level` and `--color` (src/cli/log.ts) and `version` (src/cli/version.ts).
 * Exit codes as today's (cobra: every error, usage errors included, exits 1): 0 success, 1 failure or
 * usage error (unknown command or option, bad flag value).
 */
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { validatePaths } from './validate.js';
import { configureServeCommand } from '../server/serve.js';
import { jobCommand } from '../jobs/cli.js';
import { createCommand } from './create.js';
import { deleteCommand } from './delete.js';
import { getCommand } from './get.js';
import { migrateCommand } from './migrate.js';
import { traceCommand } from './trace.js';
import { airgapCommand } from './airgap.js';
import { defaultDeps, type CliDeps } from './deps.js';
import { filterWarnings, LOG_LEVELS, logger, loggingRunner, parseLogLevel } from './log.js';
import { versionInfo, versionOutput } from './version.js';

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('must be a port number (0-65535)');
  return n;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/**
 * The whole command line. `overrides` replaces the lifecycle commands' dependencies (tests: stand-in
 * executables, a fake clock); the root flags wrap its runner and stderr before any command runs.
 */
export function program(
  out: (s: string) => void = (s) => process.stdout.write(s),
  err: (s: string) => void = (s) => process.stderr.write(s),
  overrides: Partial<CliDeps> = {},
): Command {
  let errNow = err;
  const io = { out, err: (s: string) => errNow(s) };
  // Filled in by the preAction hook, read by each command when its action runs.
  const deps: Partial<CliDeps> = { ...overrides };
  const cmd = new Command('idpbuilder')
    .description('Build an internal developer platform on Kubernetes, reconciled by Metacontroller hooks')
    .exitOverride()
    .configureOutput({ writeOut: out, writeErr: err })
    .addOption(new Option('-l, --log-level <level>', `Set the log verbosity. Supported values are: ${LOG_LEVELS.join(', ')}.`).default('info'))
    .option('--color', 'Enable colored log messages.', false)
    .hook('preAction', () => {
      const o = cmd.opts<{ logLevel: string; color: boolean }>();
      const level = parseLogLevel(o.logLevel);
      const now = overrides.now ?? Date.now;
      const log = logger(level, o.color, err, now);
      deps.runner = loggingRunner(overrides.runner ?? defaultDeps(io).runner, log);
      errNow = filterWarnings(level, err);
    });

  configureServeCommand(cmd.command('serve'), port);

  cmd
    .command('validate')
    .description('Check idpbuilder objects in YAML/JSON files offline against the CRD schemas and CEL rules.\n' +
      'Prints FILE#DOC: Kind/name: .json.path: message per problem (DOC counts documents from 1); exits 1 if any is invalid.')
    .requiredOption('-f, --filename <path>', 'file or directory (repeatable)', collect, [] as string[])
    .option('-R, --recursive', 'read directories recursively', false)
    .action((o: { filename: string[]; recursive: boolean }) => {
      const report = validatePaths(o.filename, o.recursive);
      for (const line of report.lines) out(`${line}\n`);
      err(`${report.valid} valid, ${report.invalid} invalid, ${report.skipped} skipped\n`);
      process.exitCode = report.invalid > 0 ? 1 : 0;
    });

  cmd
    .command('render')
    .description('Run every controller offline over the given objects (default: the built-in platform) to a fixed point\n' +
      'and print each input with its computed status plus every desired child. Secret values are redacted.')
    .option('-f, --filename <path>', 'file or directory of objects (repeatable); default: the built-in default platform', collect, [] as string[])
    .option('-R, --recursive', 'read directories recursively', false)
    .option('--assume-ready', 'treat every Job as succeeded and every Application as synced and healthy', false)
    .option('--observed <path>', 'file or directory of objects as the cluster holds them, status included (repeatable): they override the status render assumes (wins over --assume-ready), or are added as related objects', collect, [] as string[])
    .option('-o, --output <format>', 'yaml (multi-document) or json (a v1 List)', 'yaml')
    .option('--show-secrets', 'print generated Secret values (seeded, for inspection only)', false)
    .option('--now <time>', 'the clock the hooks see (RFC 3339); fixed by default so output is reproducible')
    .action(async (o: { filename: string[]; recursive: boolean; assumeReady: boolean; observed: string[]; output: string; showSecrets: boolean; now?: string }) => {
      if (o.output !== 'yaml' && o.output !== 'json') throw new InvalidArgumentError(`--output must be yaml or json, not ${o.output}`);
      const { runRender } = await import('./render.js');
      const r = runRender({ ...o, output: o.output });
      out(r.stdout);
      err(r.stderr);
      process.exitCode = r.code;
    });

  cmd.addCommand(jobCommand());

  // The platform lifecycle: today's idpbuilder commands (docs/cli.md).
  createCommand(cmd, io, deps);
  deleteCommand(cmd, io, deps);
  getCommand(cmd, io, deps);
  migrateCommand(cmd, io, deps);
  traceCommand(cmd, io, deps);
  airgapCommand(cmd, io, deps, () => defaultDeps(io));

  cmd
    .command('version')
    .description('Print idpbuilder version and environment info')
    .option('-o, --output <format>', 'Print the idpbuilder version information in a given output format. Accepts "wide", "json", and "yaml".', '')
    .action((o: { output: string }) => {
      out(versionOutput(versionInfo(), o.output));
    });

  return cmd;
}

/** Runs the CLI; resolves to the exit code. */
export async function main(argv: string[], out?: (s: string) => void, err?: (s: string) => void, overrides: Partial<CliDeps> = {}): Promise<number> {
  process.exitCode = 0;
  const p = program(out, err, overrides);
  // Like today's (cobra), no command at all prints the help and succeeds.
  if (argv.length <= 2) {
    p.outputHelp();
    return 0;
  }
  try {
    await p.parseAsync(argv);
    return Number(process.exitCode ?? 0);
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 1;
    (err ?? ((s: string) => process.stderr.write(s)))(`error: ${(e as Error).message}\n`);
    return 1;
  }
}
