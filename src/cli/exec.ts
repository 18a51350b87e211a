/**
 * A small injectable process runner for the CLI commands that drive other programs (kind, docker, kubectl,
 * helm, git). Commands are found on the PATH of the environment the runner was made with, so tests put
 * stand-in executables first on that PATH. Nothing here goes through a shell: arguments are passed as is.
 */
import { spawn } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';

/**
 * The outcome of one command: its exit code (127 when not found on PATH, 124 when killed on timeout), stdout and
 * stderr as text.
 */
export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Options of one command run: text for its stdin, the working directory, extra environment, and a timeout (ms) after
 * which it is killed with SIGKILL.
 */
export interface RunOptions {
  /** Written to the command's stdin (which is closed afterwards in any case). */
  input?: string;
  cwd?: string;
  /** Added to the runner's environment. */
  env?: NodeJS.ProcessEnv;
  /** Kill the command (SIGKILL) after this long; the result then has code 124. */
  timeoutMs?: number;
}

/**
 * Runs external programs (kind, docker, kubectl, helm, git) for the CLI, injectable for tests: its environment (whose
 * PATH is searched), `run` (never rejects for a failing command: the code says it) and `which`.
 */
export interface Runner {
  /** The environment commands run in (its PATH is where commands are looked up). */
  readonly env: NodeJS.ProcessEnv;
  run(command: string, args: string[], options?: RunOptions): Promise<RunResult>;
  /** The full path of an executable on PATH, or undefined. */
  which(command: string): string | undefined;
}

/** Looks `command` up on `pathEnv` like a shell does (a name with a slash is taken as a path). */
export function findExecutable(command: string, pathEnv: string | undefined): string | undefined {
  const candidates = command.includes('/') || isAbsolute(command) ? [command] : (pathEnv ?? '').split(delimiter).filter(Boolean).map((d) => join(d, command));
  for (const c of candidates) {
    try {
      if (!statSync(c).isFile()) continue;
      accessSync(c, constants.X_OK);
      return c;
    } catch {
      /* not here */
    }
  }
  return undefined;
}

/** The runner the CLI uses: real processes, in `env` (default: this process's environment). */
export function processRunner(env: NodeJS.ProcessEnv = process.env): Runner {
  return {
    env,
    which: (command) => findExecutable(command, env.PATH),
    run: (command, args, options = {}) =>
      new Promise<RunResult>((resolve) => {
        const exe = findExecutable(command, env.PATH);
        if (!exe) {
          resolve({ code: 127, stdout: '', stderr: `${command}: command not found\n` });
          return;
        }
        const child = spawn(exe, args, { cwd: options.cwd, env: { ...env, ...options.env }, stdio: ['pipe', 'pipe', 'pipe'] });
        const out: Buffer[] = [];
        const err: Buffer[] = [];
        let timedOut = false;
        const timer = options.timeoutMs === undefined ? undefined : setTimeout(() => ((timedOut = true), child.kill('SIGKILL')), options.timeoutMs);
        child.stdout.on('data', (c: Buffer) => out.push(c));
        child.stderr.on('data', (c: Buffer) => err.push(c));
        child.on('error', (e) => {
          if (timer) clearTimeout(timer);
          resolve({ code: 127, stdout: '', stderr: `${command}: ${e.message}\n` });
        });
        child.on('close', (code, signal) => {
          if (timer) clearTimeout(timer);
          resolve({
            code: timedOut ? 124 : (code ?? (signal ? 128 : 1)),
            stdout: Buffer.concat(out).toString('utf8'),
            stderr: Buffer.concat(err).toString('utf8') + (timedOut ? `\n${command}: timed out after ${Math.round((options.timeoutMs ?? 0) / 1000)}s\n` : ''),
          });
        });
        child.stdin.on('error', () => {
          /* the command may exit without reading its input */
        });
        child.stdin.end(options.input ?? '');
      }),
  };
}

/** A command that exited non-zero. The message is one line: the command and the last useful output line. */
export class CommandError extends Error {
  override readonly name = 'CommandError';
  constructor(
    readonly command: string,
    readonly args: string[],
    readonly result: RunResult,
    what?: string,
  ) {
    super(`${what ?? `${command} ${args[0] ?? ''}`.trim()} failed (exit ${result.code}): ${summarize(result)}`);
  }
}

/** The last few meaningful lines of a failed command's output, on one line. */
function summarize(r: RunResult): string {
  const lines = `${r.stderr}\n${r.stdout}`
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  const useful = lines.filter((l) => /error|fatal|failed|not found|denied|refused|unable|cannot/i.test(l));
  const text = (useful.length ? useful.slice(-2) : lines.slice(-2)).join('; ');
  return text.length > 400 ? `${text.slice(0, 399)}…` : text || 'no output';
}

/** Runs a command and returns its stdout; throws {@link CommandError} on a non-zero exit. */
export async function runOk(runner: Runner, command: string, args: string[], options: RunOptions & { what?: string } = {}): Promise<string> {
  const r = await runner.run(command, args, options);
  if (r.code !== 0) throw new CommandError(command, args, r, options.what);
  return r.stdout;
}

/** Where to get each tool, for the "missing binary" message. */
const INSTALL_HINTS: Record<string, string> = {
  kind: 'https://kind.sigs.k8s.io/docs/user/quick-start/#installation',
  docker: 'https://docs.docker.com/get-docker/',
  podman: 'https://podman.io/docs/installation',
  nerdctl: 'https://github.com/containerd/nerdctl#install',
  finch: 'https://github.com/runfinch/finch#installing-finch',
  kubectl: 'https://kubernetes.io/docs/tasks/tools/#kubectl',
  helm: 'https://helm.sh/docs/intro/install/',
  git: 'https://git-scm.com/downloads',
};

/**
 * Checks that every tool is on PATH. Returns undefined when all are there, else ONE line naming what to
 * install (and where from).
 */
export function missingTools(runner: Runner, tools: string[], command: string): string | undefined {
  const missing = tools.filter((t) => !runner.which(t));
  if (missing.length === 0) return undefined;
  const where = missing.map((t) => (INSTALL_HINTS[t] ? `${t} (${INSTALL_HINTS[t]})` : t)).join(', ');
  return `idpbuilder ${command} needs ${missing.join(', ')} on your PATH: install ${where} and run it again`;
}
