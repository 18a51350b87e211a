/**
 * `npm run bench`: hook latency and throughput against a same-stack echo baseline, side by side in one run.
 *
 * - The real hook service (buildApp, every controller) and a bare Fastify echo route run in two child
 *   processes on 127.0.0.1:0; this process is the load generator (undici, keep-alive, one connection per
 *   concurrent client).
 * - Requests are real v2 requests recorded from an offline render at its fixed point (bench/requests.ts):
 *   a Platform with three providers, a Package in a namespace of 100 Packages, a GitRepository with 64
 *   sources. The echo route gets the same request body and answers a body of the size the hook answered.
 * - Concurrency 1 and 5; per case p50/p99 (ms), requests/s, server RSS and the ratio to the echo baseline.
 * - Also times `idpbuilder render --assume-ready` (runRender) of the default platform and of the default
 *   platform with 100 Packages.
 *
 * Prints one JSON document. Bounded: under 3 s per measurement, about 80 s in all.
 * Two hook servers run: the service as deployed (response memo on: a request seen before is answered
 * from the memo, as Metacontroller's resyncs of unchanged objects are) and the same with the memo off
 * (every request runs the hook: the cost of a request that changed). Both are reported.
 *
 * Options (env): BENCH_SECONDS (measurement seconds per run, default 2), BENCH_WARMUP (default 0.7).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { Pool } from 'undici';
import { stringify } from 'yaml';
import { benchRequests, defaultPlatform, packages } from './requests.js';
import { runRender } from '../src/cli/render.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const SECONDS = Number(process.env.BENCH_SECONDS ?? 2);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 0.7);
const MAX_REQUESTS = 100_000;

interface Server {
  proc: ChildProcess;
  port: number;
}

async function startServer(mode: 'hook' | 'hook-nomemo' | 'echo'): Promise<Server> {
  const proc = spawn(process.execPath, ['--import', 'tsx', join(HERE, 'server.ts'), mode], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, NODE_ENV: 'production' } });
  const port = await new Promise<number>((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => reject(new Error(`${mode} server did not start`)), 30_000);
    proc.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      const line = buf.split('\n')[0];
      if (buf.includes('\n')) {
        clearTimeout(timer);
        resolve((JSON.parse(line) as { port: number }).port);
      }
    });
    proc.once('exit', (code) => reject(new Error(`${mode} server exited with ${code}`)));
  });
  return { proc, port };
}

function rssMiB(pid: number | undefined): number | null {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Math.round((Number(m[1]) / 1024) * 10) / 10 : null;
  } catch {
    return null;
  }
}

function quantile(sorted: number[], q: number): number {
  if (!sorted.length) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i];
}

const round3 = (n: number) => Math.round(n * 1000) / 1000;

interface Measurement {
  requests: number;
  errors: number;
  p50_ms: number;
  p99_ms: number;
  rps: number;
  rss_mib: number | null;
}

/** `concurrency` clients, each sending the body again as soon as its previous answer is read. */
async function load(server: Server, path: string, body: string, concurrency: number): Promise<Measurement> {
  const pool = new Pool(`http://127.0.0.1:${server.port}`, { connections: concurrency, pipelining: 1, keepAliveTimeout: 30_000 });
  const headers = { 'content-type': 'application/json' };
  let errors = 0;
  const once = async (): Promise<void> => {
    const res = await pool.request({ path, method: 'POST', headers, body });
    await res.body.arrayBuffer();
    if (res.statusCode !== 200) errors += 1;
  };
  const run = async (seconds: number, record: number[] | undefined): Promise<number> => {
    const until = performance.now() + seconds * 1000;
    let count = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (performance.now() < until && count < MAX_REQUESTS) {
          const t0 = performance.now();
          await once();
          if (record) record.push(performance.now() - t0);
          count += 1;
        }
      }),
    );
    return count;
  };
  await run(WARMUP, undefined);
  errors = 0;
  const latencies: number[] = [];
  const t0 = performance.now();
  const n = await run(SECONDS, latencies);
  const elapsed = (performance.now() - t0) / 1000;
  await pool.close();
  latencies.sort((a, b) => a - b);
  return { requests: n, errors, p50_ms: round3(quantile(latencies, 0.5)), p99_ms: round3(quantile(latencies, 0.99)), rps: Math.round(n / elapsed), rss_mib: rssMiB(server.proc.pid) };
}

function timeRender(files: string[], runs: number): { ms_median: number; ms_min: number; objects: number; code: number } {
  const times: number[] = [];
  let objects = 0;
  let code = 0;
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const r = runRender({ filename: files, recursive: false, assumeReady: true, output: 'json', showSecrets: false });
    times.push(performance.now() - t0);
    code = r.code;
    objects = (JSON.parse(r.stdout) as { items: unknown[] }).items.length;
  }
  times.sort((a, b) => a - b);
  return { ms_median: Math.round(quantile(times, 0.5)), ms_min: Math.round(times[0]), objects, code };
}

async function main() {
  const started = performance.now();
  const cases = benchRequests();
  const [hook, noMemo, echo] = await Promise.all([startServer('hook'), startServer('hook-nomemo'), startServer('echo')]);
  const results: Record<string, unknown>[] = [];
  try {
    for (const c of cases) {
      const body = JSON.stringify(c.request.body);
      const probe = await fetch(`http://127.0.0.1:${hook.port}${c.request.url}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      const answer = await probe.text();
      if (probe.status !== 200) throw new Error(`${c.name}: hook answered ${probe.status}: ${answer.slice(0, 300)}`);
      const responseBytes = Buffer.byteLength(answer);
      const byConcurrency: Record<string, unknown> = {};
      for (const concurrency of [1, 5]) {
        const h = await load(hook, c.request.url, body, concurrency);
        const n = await load(noMemo, c.request.url, body, concurrency);
        const e = await load(echo, `/echo/${responseBytes}`, body, concurrency);
        byConcurrency[`c${concurrency}`] = {
          hook: h,
          hook_no_memo: n,
          echo: e,
          rps_ratio_to_echo: round3(h.rps / e.rps),
          p99_ratio_to_echo: round3(h.p99_ms / e.p99_ms),
          no_memo_rps_ratio_to_echo: round3(n.rps / e.rps),
          no_memo_p99_ratio_to_echo: round3(n.p99_ms / e.p99_ms),
        };
      }
      results.push({ case: c.name, route: c.request.url, request_bytes: Buffer.byteLength(body), response_bytes: responseBytes, ...byConcurrency });
    }
  } finally {
    for (const s of [hook, noMemo, echo]) s.proc.kill('SIGTERM');
  }

  const dir = mkdtempSync(join(tmpdir(), 'idpbuilder-bench-'));
  let renders;
  try {
    const file = join(dir, 'platform-100-packages.yaml');
    writeFileSync(file, [...defaultPlatform(), ...packages(100)].map((o) => stringify(o)).join('---\n'));
    renders = {
      default_platform: timeRender([], 5),
      platform_100_packages: timeRender([file], 3),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }

  const platform = results.find((r) => r.case === 'platform-3-providers') as Record<string, { rps_ratio_to_echo: number; no_memo_rps_ratio_to_echo: number; hook: Measurement; hook_no_memo: Measurement }>;
  const targets = {
    platform_c5_rps_ratio_at_least_0_7: platform.c5.rps_ratio_to_echo >= 0.7,
    platform_c1_p99_below_2ms: platform.c1.hook.p99_ms < 2,
    no_memo_platform_c5_rps_ratio_at_least_0_7: platform.c5.no_memo_rps_ratio_to_echo >= 0.7,
    no_memo_platform_c1_p99_below_2ms: platform.c1.hook_no_memo.p99_ms < 2,
  };
  const out = {
    node: process.version,
    cpus: (await import('node:os')).cpus().length,
    seconds_per_run: SECONDS,
    cases: results,
    render: renders,
    targets,
    total_seconds: Math.round((performance.now() - started) / 100) / 10,
  };
  process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
