/** The `idpbuilder` command line. Each subcommand lives in its own module; this file only wires them. */
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { validatePaths } from './validate.js';
import { configureServeCommand } from '../server/serve.js';
import { jobCommand } from '../jobs/cli.js';
import { createCommand } from './create.js';
import { deleteCommand } from './delete.js';
import { getCommand } from './get.js';
import { migrateCommand } from './migrate.js';

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('must be a port number (0-65535)');
  return n;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

export function program(out: (s: string) => void = (s) => process.stdout.write(s), err: (s: string) => void = (s) => process.stderr.write(s)): Command {
  const cmd = new Command('idpbuilder')
    .description('Build an internal developer platform on Kubernetes, reconciled by Metacontroller hooks')
    .exitOverride()
    .configureOutput({ writeOut: out, writeErr: err });

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
    .option('-o, --output <format>', 'yaml (multi-document) or json (a v1 List)', 'yaml')
    .option('--show-secrets', 'print generated Secret values (seeded, for inspection only)', false)
    .option('--now <time>', 'the clock the hooks see (RFC 3339); fixed by default so output is reproducible')
    .action(async (o: { filename: string[]; recursive: boolean; assumeReady: boolean; output: string; showSecrets: boolean; now?: string }) => {
      if (o.output !== 'yaml' && o.output !== 'json') throw new InvalidArgumentError(`--output must be yaml or json, not ${o.output}`);
      const { runRender } = await import('./render.js');
      const r = runRender({ ...o, output: o.output });
      out(r.stdout);
      err(r.stderr);
      process.exitCode = r.code;
    });

  cmd.addCommand(jobCommand());

  // The platform lifecycle: today's idpbuilder commands (docs/cli.md).
  createCommand(cmd, { out, err });
  deleteCommand(cmd, { out, err });
  getCommand(cmd, { out, err });
  migrateCommand(cmd, { out, err });

  return cmd;
}

/** Runs the CLI; resolves to the exit code. */
export async function main(argv: string[]): Promise<number> {
  process.exitCode = 0;
  try {
    await program().parseAsync(argv);
    return Number(process.exitCode ?? 0);
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
    process.stderr.write(`error: ${(e as Error).message}\n`);
    return 1;
  }
}
