/**
 * `idpbuilder job <name> --config /config/config.json`: the programs our Kubernetes Jobs run.
 *
 * Each prints exactly one JSON line with its result on stdout, logs JSON lines on stderr, and on failure
 * prints one `error: <message>` line on stderr and exits 1. The message (a GitServerError/KubeError/…
 * message, never a credential) is also written to the pod's termination log when there is one, so it can
 * surface in a condition.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { Command } from 'commander';
import { KubeClient } from '../kube/client.js';
import { parseGiteaBootstrapConfig, runGiteaBootstrap } from './gitea-bootstrap.js';
import { runGitHubValidate } from './github-validate.js';
import { runGitLabValidate } from './gitlab-validate.js';
import { allProviders, parseRepoSyncConfig, runRepoSync, type JobLogger } from './repo-sync.js';
import { ENV_JOB_NAME, ENV_JOB_NAMESPACE } from '../api/names.js';

/**
 * What `idpbuilder job` writes to and reads, injectable for tests: stdout and stderr writers, the environment, how
 * the exit code is set and the termination-log path (default /dev/termination-log, the Kubernetes
 * terminationMessagePath).
 */
export interface JobCommandIO {
  out?: (s: string) => void;
  err?: (s: string) => void;
  /** The programs' environment. The in-cluster Kubernetes config reads `process.env` itself (client-node). */
  env?: NodeJS.ProcessEnv;
  setExitCode?: (code: number) => void;
  /** Written on exit when the file exists (Kubernetes mounts /dev/termination-log). */
  terminationLog?: string;
}

interface CommonOptions {
  config: string;
  kubeconfig?: string;
  context?: string;
}

/**
 * The `idpbuilder job` command (commander) with one subcommand per Job program: gitea-bootstrap, repo-sync,
 * github-validate, gitlab-validate. Each reads its config file, logs JSON lines to stderr, prints its result on
 * stdout, writes the error to the termination log on failure and sets exit code 0 or 1; nothing is thrown.
 */
export function jobCommand(io: JobCommandIO = {}): Command {
  const out = io.out ?? ((s: string) => void process.stdout.write(s));
  const err = io.err ?? ((s: string) => void process.stderr.write(s));
  const env = io.env ?? process.env;
  const setExitCode = io.setExitCode ?? ((code: number) => void (process.exitCode = code));
  const terminationLog = io.terminationLog ?? '/dev/termination-log';

  const log: JobLogger = {
    info: (msg, fields) => err(`${JSON.stringify({ time: new Date().toISOString(), level: 'info', msg, ...fields })}\n`),
    warn: (msg, fields) => err(`${JSON.stringify({ time: new Date().toISOString(), level: 'warn', msg, ...fields })}\n`),
  };

  const finish = (message: string): void => {
    if (!existsSync(terminationLog)) return;
    try {
      writeFileSync(terminationLog, message);
    } catch {
      /* best effort */
    }
  };

  const run = async (o: CommonOptions, body: (config: unknown, kube: KubeClient) => Promise<unknown>): Promise<void> => {
    try {
      const config = readConfig(o.config);
      const kube = o.kubeconfig ? await KubeClient.fromKubeconfig(o.kubeconfig, o.context) : await KubeClient.fromInCluster();
      const result = await body(config, kube);
      const line = JSON.stringify(result);
      out(`${line}\n`);
      finish(line);
      setExitCode(0);
    } catch (e) {
      const message = oneLine(e instanceof Error ? e.message : String(e));
      err(`error: ${message}\n`);
      finish(message);
      setExitCode(1);
    }
  };

  const cmd = new Command('job').description('Programs run inside Kubernetes Jobs (side effects the hooks cannot have)');

  const common = (c: Command): Command =>
    c
      .requiredOption('--config <file>', 'JSON config written by the hook (usually /config/config.json)')
      .option('--kubeconfig <path>', 'use this kubeconfig instead of the in-cluster service account')
      .option('--context <name>', 'kubeconfig context (default: current-context)');

  common(
    cmd
      .command('gitea-bootstrap')
      .description('Wait for Gitea, recreate the admin API token into a Secret, ensure organizations (env GITEA_USERNAME, GITEA_PASSWORD)'),
  ).action((o: CommonOptions) =>
    run(o, (config, kube) => runGiteaBootstrap(parseGiteaBootstrapConfig(config), { kube, log, env })),
  );

  common(
    cmd
      .command('repo-sync')
      .description('Ensure a repository on the git server and push the merged sources to its default branch'),
  ).action((o: CommonOptions) =>
    run(o, (config, kube) => {
      const cfg = parseRepoSyncConfig(config);
      // No result target in the config: the Job's own (JOB_NAMESPACE/JOB_NAME from the pod's env).
      if (!cfg.result && env[ENV_JOB_NAMESPACE] && env[ENV_JOB_NAME]) cfg.result = { jobNamespace: env[ENV_JOB_NAMESPACE], jobName: env[ENV_JOB_NAME] };
      return runRepoSync(cfg, { kube, log, providers: allProviders });
    }),
  );

  common(
    cmd
      .command('github-validate')
      .description('Check a GitHubProvider: credentials (token or GitHub App), organization, rate limit, teams; record the result on the Job'),
  ).action((o: CommonOptions) => run(o, (config, kube) => runGitHubValidate(config, { kube, log, env })));

  common(
    cmd
      .command('gitlab-validate')
      .description('Check a GitLabProvider: token, group, subgroups; record the result on the Job'),
  ).action((o: CommonOptions) => run(o, (config, kube) => runGitLabValidate(config, { kube, log, env })));

  return cmd;
}

function readConfig(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new Error(`cannot read config ${path} (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new Error(`config ${path} is not valid JSON`);
  }
}

function oneLine(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\u0000-\u001f\u007f]+/g, ' ').replace(/\s+/g, ' ').trim();
}
