// A throw-away Kubernetes control plane for tests: etcd + kube-apiserver on loopback, in the
// spirit of controller-runtime's envtest. No kubelet, scheduler or controller-manager run, so
// nothing is reconciled: the API server validates, defaults, stores and serves objects.
//
// Binaries come from IDPBUILDER_TOOLS_BIN, else from scripts/test-tools.sh (which builds them
// from the versions pinned in test/tools/go.mod into a cache outside the repository).
//
// Both server processes are started in their own process group and are always stopped:
// by stop(), by handlers on process exit/SIGINT/SIGTERM, and by a small watchdog process that
// kills them when this Node process disappears without running any handler (SIGKILL, OOM).

import { spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { accessSync, closeSync, constants, openSync, readFileSync, rmSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface ControlPlaneOptions {
  /**
   * Names this control plane in logs, its temporary directory and etcd member name, so several can run side by
   * side (the management cluster of global-setup.ts and a target cluster in target-cluster.test.ts). Default
   * `idpbuilder-test`. Each start picks its own free ports and certificates.
   */
  name?: string;
  /** Directory holding kube-apiserver, etcd, helm and kubectl. Default: $IDPBUILDER_TOOLS_BIN, else built by scripts/test-tools.sh. */
  binDir?: string;
  /** How long to wait for etcd and /readyz. Default 120 s. */
  startTimeoutMs?: number;
  /** Keep the temporary directory (logs, etcd data, kubeconfig) after stop(). Default: $IDPBUILDER_KEEP_CLUSTER_DIR is set. */
  keepTempDir?: boolean;
  /** Extra kube-apiserver flags, appended last (so they win). */
  apiServerFlags?: string[];
  /** Progress messages. Default: stderr. */
  log?: (message: string) => void;
}

export interface ControlPlane {
  /** Path of a kubeconfig for an admin user (group system:masters). */
  kubeconfig: string;
  /** https URL of the API server. */
  server: string;
  /** Directory with kube-apiserver, etcd, helm and kubectl. */
  binDir: string;
  /** Environment for child processes: KUBECONFIG set, binDir first on PATH. */
  env: NodeJS.ProcessEnv;
  /** Temporary directory with logs, certificates and etcd data. */
  dir: string;
  /** Process ids (= process group ids) of the servers. */
  pids: { etcd: number; apiServer: number };
  kubectl(args: string[], input?: string): Promise<CommandResult>;
  helm(args: string[], input?: string): Promise<CommandResult>;
  stop(): Promise<void>;
}

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const TOOLS = ['kube-apiserver', 'etcd', 'helm', 'kubectl'] as const;
const ADMIN_USER = 'idpbuilder-test-admin';

/** Runs a command to completion and collects its output; never throws for a non-zero exit. */
export function run(
  command: string,
  args: string[],
  options: { env?: NodeJS.ProcessEnv | undefined; input?: string | undefined; cwd?: string | undefined; timeoutMs?: number | undefined } = {},
): Promise<CommandResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, {
      env: options.env ?? process.env,
      cwd: options.cwd,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    const timer =
      options.timeoutMs === undefined
        ? undefined
        : setTimeout(() => child.kill('SIGKILL'), options.timeoutMs);
    child.on('error', (error) => {
      if (timer) clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      resolvePromise({
        code: code ?? (signal ? 128 : 1),
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8') + (signal ? `\n(killed by ${signal})` : ''),
      });
    });
    child.stdin.on('error', () => {
      /* the command may exit before reading its input */
    });
    child.stdin.end(options.input ?? '');
  });
}

/** The environment tests use to reach a control plane: KUBECONFIG set, binDir first on PATH. */
export function clusterEnv(kubeconfig: string, binDir: string, base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  return { ...base, KUBECONFIG: kubeconfig, PATH: [binDir, base.PATH ?? ''].filter(Boolean).join(delimiter) };
}

/** A client for a control plane started elsewhere (for example in vitest's globalSetup). */
export function connect(kubeconfig: string, binDir: string): Pick<ControlPlane, 'kubeconfig' | 'binDir' | 'env' | 'kubectl' | 'helm'> {
  const env = clusterEnv(kubeconfig, binDir);
  return {
    kubeconfig,
    binDir,
    env,
    kubectl: (args, input) => run(join(binDir, 'kubectl'), args, { env, input, timeoutMs: 120_000 }),
    helm: (args, input) => run(join(binDir, 'helm'), args, { env, input, timeoutMs: 300_000 }),
  };
}

/** Finds (or builds) the directory holding kube-apiserver, etcd, helm and kubectl. */
export async function findBinDir(log: (message: string) => void = defaultLog): Promise<string> {
  const fromEnv = process.env.IDPBUILDER_TOOLS_BIN;
  if (fromEnv) {
    assertTools(fromEnv, 'IDPBUILDER_TOOLS_BIN');
    return fromEnv;
  }
  const script = join(repoRoot, 'scripts', 'test-tools.sh');
  log(`test tools: running ${script}`);
  const child = spawn('bash', [script], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'inherit'] });
  let stdout = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => (stdout += chunk));
  const [code] = (await once(child, 'close')) as [number | null];
  if (code !== 0) throw new Error(`scripts/test-tools.sh failed (exit ${code})`);
  const lines = stdout.trim().split('\n');
  const binDir = lines[lines.length - 1]?.trim() ?? '';
  assertTools(binDir, 'scripts/test-tools.sh');
  return binDir;
}

function assertTools(binDir: string, source: string): void {
  for (const tool of TOOLS) {
    try {
      accessSync(join(binDir, tool), constants.X_OK);
    } catch {
      throw new Error(`${source}: ${join(binDir, tool)} is missing; run scripts/test-tools.sh`);
    }
  }
}

function defaultLog(message: string): void {
  process.stderr.write(`${message}\n`);
}

/** Free TCP ports on 127.0.0.1, distinct from each other. */
async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: count }, async () => {
      const server = createServer();
      server.listen(0, '127.0.0.1');
      await once(server, 'listening');
      return server;
    }),
  );
  const ports = servers.map((server) => {
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('unexpected server address');
    return address.port;
  });
  await Promise.all(servers.map((server) => new Promise<void>((done) => server.close(() => done()))));
  return ports;
}

// ---------------------------------------------------------------------------------------------
// Process bookkeeping: every live server process group, killed on exit whatever happens.

const liveGroups = new Set<number>();
const liveDirs = new Set<string>(); // temporary directories to remove if the process dies
const liveWatchdogs = new Set<number>();
let handlersInstalled = false;

function killGroupSync(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    /* already gone */
  }
}

function cleanupSync(): void {
  for (const pid of liveGroups) killGroupSync(pid, 'SIGKILL');
  liveGroups.clear();
  for (const dir of liveDirs) rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
  liveDirs.clear();
  for (const pid of liveWatchdogs) killGroupSync(pid, 'SIGKILL');
  liveWatchdogs.clear();
}

function installExitHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.on('exit', cleanupSync);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const handler = (): void => {
      cleanupSync();
      // If nobody else handles the signal, behave as if we had not handled it: terminate.
      if (process.listenerCount(signal) === 1) {
        process.removeListener(signal, handler);
        process.kill(process.pid, signal);
      }
    };
    process.on(signal, handler);
  }
}

/**
 * Starts a detached watchdog that kills the given process groups (and removes dir, unless
 * empty) once this process is gone: the last resort when Node is killed with SIGKILL.
 */
function startWatchdog(groups: number[], dir: string): ChildProcess {
  const script = [
    'parent=$1; dir=$2; shift 2',
    'alive() {',
    '  kill -0 "$parent" 2>/dev/null || return 1',
    '  # a killed parent stays a zombie until its own parent reaps it',
    '  if [ -r "/proc/$parent/stat" ]; then',
    '    state=$(sed "s/.*) //" "/proc/$parent/stat" 2>/dev/null | cut -c1)',
    '    [ "$state" != Z ] || return 1',
    '  fi',
    '}',
    'while alive; do sleep 1; done',
    'for g in "$@"; do kill -TERM "-$g" 2>/dev/null; done',
    'sleep 3',
    'for g in "$@"; do kill -KILL "-$g" 2>/dev/null; done',
    '[ -n "$dir" ] && rm -rf "$dir"',
  ].join('\n');
  const watchdog = spawn(
    'sh',
    ['-c', script, 'idpbuilder-cluster-watchdog', String(process.pid), dir, ...groups.map(String)],
    { detached: true, stdio: 'ignore' },
  );
  watchdog.unref();
  if (watchdog.pid !== undefined) liveWatchdogs.add(watchdog.pid);
  return watchdog;
}

interface Server {
  name: string;
  child: ChildProcess;
  logFile: string;
  exited: Promise<void>;
  exitInfo: () => string | undefined;
}

function startServer(name: string, command: string, args: string[], logFile: string): Server {
  const fd = openSync(logFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn(command, args, { detached: true, stdio: ['ignore', fd, fd] });
  } finally {
    closeSync(fd);
  }
  const pid = child.pid;
  if (pid === undefined) throw new Error(`${name}: could not start ${command}`);
  liveGroups.add(pid);
  installExitHandlers();
  let info: string | undefined;
  const exited = new Promise<void>((done) => {
    child.on('error', (error) => {
      info = `failed to start: ${error.message}`;
      done();
    });
    child.on('exit', (code, signal) => {
      info = signal ? `killed by ${signal}` : `exited with code ${code}`;
      done();
    });
  });
  // Do not keep the event loop alive because of the server itself.
  child.unref();
  return { name, child, logFile, exited, exitInfo: () => info };
}

async function stopServer(server: Server, graceMs = 10_000): Promise<void> {
  const pid = server.child.pid;
  if (pid === undefined) return;
  if (server.exitInfo() === undefined) {
    // Keep the event loop alive until the exit is observed (the child was unref'd).
    server.child.ref();
    killGroupSync(pid, 'SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      server.exited.then(() => false),
      new Promise<boolean>((done) => {
        timer = setTimeout(() => done(true), graceMs);
      }),
    ]);
    clearTimeout(timer);
    if (timedOut) killGroupSync(pid, 'SIGKILL');
    await server.exited;
  }
  // Children the server may have left in its group.
  killGroupSync(pid, 'SIGKILL');
  liveGroups.delete(pid);
}

function tail(file: string, lines = 40): string {
  try {
    const all = readFileSync(file, 'utf8').trimEnd().split('\n');
    return all.slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((done) => setTimeout(done, ms));
}

/** GET https://127.0.0.1:port/path; resolves the status code, or 0 on a connection error. */
function probe(url: string, token: string): Promise<{ status: number; body: string }> {
  return new Promise((done) => {
    const req = request(
      url,
      { method: 'GET', headers: { Authorization: `Bearer ${token}` }, rejectUnauthorized: false, timeout: 5_000 },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => done({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => done({ status: 0, body: '' }));
    req.end();
  });
}

async function waitFor(
  what: string,
  servers: Server[],
  deadline: number,
  check: () => Promise<boolean>,
): Promise<void> {
  for (;;) {
    for (const server of servers) {
      const info = server.exitInfo();
      if (info !== undefined) {
        throw new Error(`${server.name} ${info} while waiting for ${what}`);
      }
    }
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(250);
  }
}

function kubeconfigYaml(server: string, caData: string | undefined, token: string): string {
  const cluster = caData
    ? `    certificate-authority-data: ${caData}\n    server: ${server}`
    : `    insecure-skip-tls-verify: true\n    server: ${server}`;
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '- name: test',
    '  cluster:',
    cluster,
    'users:',
    `- name: ${ADMIN_USER}`,
    '  user:',
    `    token: ${token}`,
    'contexts:',
    '- name: test',
    '  context:',
    '    cluster: test',
    `    user: ${ADMIN_USER}`,
    '    namespace: default',
    'current-context: test',
    '',
  ].join('\n');
}

/** Starts etcd and kube-apiserver on loopback and waits until the API server is ready. */
export async function startControlPlane(opts: ControlPlaneOptions = {}): Promise<ControlPlane> {
  const log = opts.log ?? defaultLog;
  const binDir = opts.binDir ?? (await findBinDir(log));
  assertTools(binDir, 'binDir');
  const keep = opts.keepTempDir ?? Boolean(process.env.IDPBUILDER_KEEP_CLUSTER_DIR);
  const timeoutMs = opts.startTimeoutMs ?? 120_000;
  const name = opts.name ?? 'idpbuilder-test';
  if (!/^[a-z0-9-]+$/.test(name)) throw new Error(`control plane name ${JSON.stringify(name)}: use lower-case letters, digits and -`);

  // Ports are picked before the servers bind them, so another process may take one in
  // between; retry the whole start a few times when that (or anything else) goes wrong.
  let lastError: unknown;
  for (let attempt = 1; attempt <= 3; attempt++) {
    const dir = await mkdtemp(join(tmpdir(), `idpbuilder-cluster-${name}-`));
    try {
      return await startOnce(name, dir, binDir, keep, timeoutMs, opts.apiServerFlags ?? [], log);
    } catch (error) {
      lastError = error;
      const message = error instanceof Error ? error.message : String(error);
      const portClash = /address already in use/i.test(message);
      // Keep the logs of a failed start for inspection, drop the (large) etcd data.
      rmSync(join(dir, 'etcd-data'), { recursive: true, force: true });
      if (!portClash) break;
      log(`control plane ${name}: port clash on attempt ${attempt}, retrying`);
      await rm(dir, { recursive: true, force: true });
    }
  }
  throw lastError;
}

async function startOnce(
  name: string,
  dir: string,
  binDir: string,
  keep: boolean,
  timeoutMs: number,
  extraFlags: string[],
  log: (message: string) => void,
): Promise<ControlPlane> {
  const started = Date.now();
  const deadline = started + timeoutMs;
  const [etcdClientPort, etcdPeerPort, apiPort] = (await freePorts(3)) as [number, number, number];
  const certDir = join(dir, 'certs');
  await mkdir(certDir, { recursive: true });
  if (!keep) liveDirs.add(dir);

  // Service-account token signing key (the API server derives the public key from it).
  const { privateKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  const saKey = join(certDir, 'sa.key');
  await writeFile(saKey, privateKey, { mode: 0o600 });

  // Static bearer token for an admin user in system:masters (bypasses RBAC).
  const token = randomBytes(24).toString('hex');
  const tokenFile = join(certDir, 'tokens.csv');
  await writeFile(tokenFile, `${token},${ADMIN_USER},${ADMIN_USER},"system:masters"\n`, { mode: 0o600 });

  const etcdUrl = `http://127.0.0.1:${etcdClientPort}`;
  const peerUrl = `http://127.0.0.1:${etcdPeerPort}`;
  const etcd = startServer(
    'etcd',
    join(binDir, 'etcd'),
    [
      `--name=${name}`,
      `--data-dir=${join(dir, 'etcd-data')}`,
      `--listen-client-urls=${etcdUrl}`,
      `--advertise-client-urls=${etcdUrl}`,
      `--listen-peer-urls=${peerUrl}`,
      `--initial-advertise-peer-urls=${peerUrl}`,
      `--initial-cluster=${name}=${peerUrl}`,
      '--initial-cluster-state=new',
      '--unsafe-no-fsync=true',
      '--quota-backend-bytes=1073741824',
      '--log-level=warn',
    ],
    join(dir, 'etcd.log'),
  );
  const servers: Server[] = [etcd];
  let watchdog: ChildProcess | undefined;
  const server = `https://127.0.0.1:${apiPort}`;

  const stopAll = async (): Promise<void> => {
    // API server first, so it does not log etcd connection errors on the way down.
    for (const s of [...servers].reverse()) await stopServer(s);
    if (watchdog?.pid !== undefined) {
      killGroupSync(watchdog.pid, 'SIGKILL');
      liveWatchdogs.delete(watchdog.pid);
    }
  };

  try {
    await waitFor('etcd', servers, deadline, async () => (await probeHttp(`${etcdUrl}/health`)) === 200);

    const apiServer = startServer(
      'kube-apiserver',
      join(binDir, 'kube-apiserver'),
      [
        `--etcd-servers=${etcdUrl}`,
        '--bind-address=127.0.0.1',
        '--advertise-address=127.0.0.1',
        `--secure-port=${apiPort}`,
        `--cert-dir=${certDir}`,
        `--token-auth-file=${tokenFile}`,
        '--authorization-mode=RBAC',
        '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
        `--service-account-key-file=${saKey}`,
        `--service-account-signing-key-file=${saKey}`,
        '--service-cluster-ip-range=10.0.0.0/24',
        '--disable-admission-plugins=ServiceAccount',
        '--allow-privileged=true',
        '--enable-priority-and-fairness=false',
        '--endpoint-reconciler-type=none',
        '--profiling=false',
        '--v=1',
        ...extraFlags,
      ],
      join(dir, 'kube-apiserver.log'),
    );
    servers.push(apiServer);
    watchdog = startWatchdog(servers.map((s) => s.child.pid as number), keep ? '' : dir);

    await waitFor('kube-apiserver /readyz', servers, deadline, async () => {
      const { status } = await probe(`${server}/readyz`, token);
      return status === 200;
    });

    // The self-signed serving certificate the API server generated holds the cert and its CA.
    let caData: string | undefined;
    try {
      caData = (await readFile(join(certDir, 'apiserver.crt'))).toString('base64');
    } catch {
      caData = undefined;
    }
    const kubeconfig = join(dir, 'kubeconfig');
    await writeFile(kubeconfig, kubeconfigYaml(server, caData, token), { mode: 0o600 });

    const client = connect(kubeconfig, binDir);
    // Wait until the default namespace exists and the admin can act (RBAC bootstrap done).
    await waitFor('the default namespace', servers, deadline, async () => {
      const res = await client.kubectl(['get', 'namespace', 'default', '-o', 'name']);
      return res.code === 0;
    });

    log(`control plane ${name}: ${server} ready in ${((Date.now() - started) / 1000).toFixed(1)}s (dir ${dir})`);

    let stopped: Promise<void> | undefined;
    return {
      ...client,
      server,
      dir,
      pids: { etcd: etcd.child.pid as number, apiServer: apiServer.child.pid as number },
      stop: () => {
        stopped ??= (async () => {
          await stopAll();
          liveDirs.delete(dir);
          if (!keep) await rm(dir, { recursive: true, force: true });
        })();
        return stopped;
      },
    };
  } catch (error) {
    await stopAll();
    liveDirs.delete(dir); // keep the logs of a failed start
    const message = error instanceof Error ? error.message : String(error);
    const logs = servers
      .map((s) => `--- ${s.name} (${s.logFile}), last lines:\n${tail(s.logFile)}`)
      .join('\n');
    throw new Error(`control plane failed to start: ${message}\n${logs}`, { cause: error });
  }
}

/** Plain-http GET for etcd's /health; resolves the status code or 0. */
async function probeHttp(url: string): Promise<number> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
    await res.arrayBuffer();
    return res.status;
  } catch {
    return 0;
  }
}

/** True when a process with this id exists (used by tests to check nothing is left behind). */
export function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

// Exposed for scripts/debugging: `npx tsx test/cluster/harness.ts` starts a control plane,
// prints its kubeconfig path and stops it on Ctrl-C.
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const cp = await startControlPlane();
  process.stdout.write(`export KUBECONFIG=${cp.kubeconfig}\nexport PATH=${cp.binDir}${delimiter}$PATH\n`);
  const keepAlive = setInterval(() => undefined, 1 << 30);
  process.on('SIGINT', () => {
    clearInterval(keepAlive);
    void cp.stop().then(() => process.exit(0));
  });
}
