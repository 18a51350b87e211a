/**
 * `npm run bench [-- --quick]`: hook throughput against a same-stack echo baseline, side by side in one run.
 *
 * - The hook service with the response memo off (`responseMemoSeconds: 0`: every request runs the hook,
 *   the cost of a request that carries a change), the same with the memo on (as deployed), and a bare
 *   Fastify echo route run in child processes on 127.0.0.1:0; this process is the load generator (undici,
 *   keep-alive, one connection per concurrent client).
 * - Requests are real v2 requests recorded from an offline render at its fixed point (bench/requests.ts).
 *   The echo route gets the same body and answers a body of the size the hook answered.
 *
 * Prints one JSON document:
 * - `headline`: memo-off `platform_sync_c1|c5` (Platform, three providers) and `gitrepository_sync_c1|c5`
 *   (GitRepository, 64 sources), each `{rps, p99_ms, echo_rps, ratio}` (ratio = rps / echo_rps; issue 15
 *   asks for at least 0.5);
 * - `curves` (memo off, concurrency 1): `package_sync` for a Package with three dependencies in a namespace
 *   of 10, 100 and 1,000 Packages, and `gitrepository_sync` with 1, 16, 64 and 256 sources, each point
 *   `{rps, p99_ms, echo_rps, request_bytes}` (a request the service refuses is reported with its status);
 * - `memory`: the memo-off server's peak RSS over the run against the chart's `resources.limits.memory`
 *   and src/server/limits.ts's worst case for the chart's limits;
 * - `memo_on`: the same Platform and GitRepository requests with the memo on, for reference;
 * - `render`: `idpbuilder render --assume-ready` (runRender) of the default platform and with 100 Packages.
 *
 * `--quick` (or BENCH_QUICK=1): 1 s per measurement, no 1,000-Package point (its render takes a minute),
 * no memo-on reference; about a minute in all. Otherwise about three minutes.
 * Options (env): BENCH_SECONDS (measurement seconds per run, default 2, quick 1), BENCH_WARMUP (default
 * 0.7, quick 0.4).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { Pool } from 'undici';
import { parse, stringify } from 'yaml';
import { defaultPlatform, manySourcesRepository, packages, recordRequests, type RecordedRequest } from './requests.js';
import { DEFAULT_BODY_LIMIT, limitsFit, parseMemoryQuantity } from '../src/server/limits.js';
import { runRender } from '../src/cli/render.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const QUICK = process.argv.includes('--quick') || process.env.BENCH_QUICK === '1';
const SECONDS = Number(process.env.BENCH_SECONDS ?? (QUICK ? 1 : 2));
const WARMUP = Number(process.env.BENCH_WARMUP ?? (QUICK ? 0.4 : 0.7));
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

function find(rs: RecordedRequest[], id: string): RecordedRequest {
  const r = rs.find((x) => x.id === id);
  if (!r) throw new Error(`no request for ${id}`);
  return r;
}

/** The chart's hook-service limits: resources.limits.memory and the serve flags' defaults in values.yaml. */
function chartLimits(): { memory: string; maxConcurrency: number; bodyLimit: number } {
  const values = parse(readFileSync(join(HERE, '..', 'charts', 'idpbuilder', 'values.yaml'), 'utf8')) as Record<string, unknown>;
  const memory = String((values.resources as { limits?: { memory?: string } } | undefined)?.limits?.memory ?? '');
  const limits = (values.limits ?? {}) as { maxConcurrency?: number; bodyLimit?: string | number };
  return { memory, maxConcurrency: Number(limits.maxConcurrency ?? 0), bodyLimit: limits.bodyLimit !== undefined ? parseMemoryQuantity(limits.bodyLimit) : DEFAULT_BODY_LIMIT };
}

/** Answers the hook gives `body` once (status, bytes), so the echo can answer the same size. */
async function probe(server: Server, url: string, body: string): Promise<{ status: number; text: string }> {
  const res = await fetch(`http://127.0.0.1:${server.port}${url}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  return { status: res.status, text: await res.text() };
}

interface Point {
  rps: number;
  p99_ms: number;
  echo_rps: number;
  ratio: number;
  request_bytes: number;
  response_bytes: number;
  errors: number;
}

async function compare(hook: Server, echo: Server, url: string, body: string, concurrency: number): Promise<Point> {
  const answer = await probe(hook, url, body);
  if (answer.status !== 200) throw new Error(`${url}: hook answered ${answer.status}: ${answer.text.slice(0, 300)}`);
  const responseBytes = Buffer.byteLength(answer.text);
  const h = await load(hook, url, body, concurrency);
  const e = await load(echo, `/echo/${responseBytes}`, body, concurrency);
  return { rps: h.rps, p99_ms: h.p99_ms, echo_rps: e.rps, ratio: round3(h.rps / e.rps), request_bytes: Buffer.byteLength(body), response_bytes: responseBytes, errors: h.errors };
}

async function main() {
  const started = performance.now();
  const base = recordRequests([...defaultPlatform(), manySourcesRepository(64)]);
  const platform = find(base, 'Platform/idpbuilder-system/localdev');
  const repo64 = find(base, 'GitRepository/idpbuilder-system/many-sources');

  const [noMemo, echo, memoOn] = await Promise.all([startServer('hook-nomemo'), startServer('echo'), QUICK ? undefined : startServer('hook')]);
  let peakRss = 0;
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, rssMiB(noMemo.proc.pid) ?? 0);
  }, 100);
  const headline: Record<string, Omit<Point, 'request_bytes' | 'response_bytes' | 'errors'>> = {};
  const curves: { package_sync: Record<string, unknown>[]; gitrepository_sync: Record<string, unknown>[] } = { package_sync: [], gitrepository_sync: [] };
  const memoOnResults: Record<string, unknown> = {};
  try {
    for (const [name, r] of [['platform_sync', platform], ['gitrepository_sync', repo64]] as const) {
      const body = JSON.stringify(r.body);
      for (const c of [1, 5]) {
        const p = await compare(noMemo, echo, r.url, body, c);
        headline[`${name}_c${c}`] = { rps: p.rps, p99_ms: p.p99_ms, echo_rps: p.echo_rps, ratio: p.ratio };
        if (memoOn) {
          const m = await load(memoOn, r.url, body, c);
          memoOnResults[`${name}_c${c}`] = { rps: m.rps, p99_ms: m.p99_ms, ratio: round3(m.rps / p.echo_rps) };
        }
      }
    }

    // A Package with three dependencies in namespaces of growing size: its request carries what it depends on.
    for (const n of QUICK ? [10, 100] : [10, 100, 1000]) {
      const t0 = performance.now();
      const rs = recordRequests([...defaultPlatform(), ...packages(n, 'idpbuilder-system', 3)]);
      const r = find(rs, 'Package/idpbuilder-system/app-005');
      const related = Object.values((r.body as { related?: Record<string, Record<string, unknown>> }).related ?? {}).reduce((a, m) => a + Object.keys(m).length, 0);
      const p = await compare(noMemo, echo, r.url, JSON.stringify(r.body), 1);
      curves.package_sync.push({ packages_in_namespace: n, related_objects: related, ...p, render_seconds: round3((performance.now() - t0) / 1000) });
    }

    // GitRepository with growing sources; the schema allows at most 64 (src/api/gitrepository.ts), so the
    // larger request is the 64-source one with its sources replaced, and is expected to be refused.
    for (const n of [1, 16, 64, 256]) {
      let r: RecordedRequest;
      if (n <= 64) r = n === 64 ? repo64 : find(recordRequests([...defaultPlatform(), manySourcesRepository(n)]), 'GitRepository/idpbuilder-system/many-sources');
      else {
        r = structuredClone(repo64);
        (r.body as { parent: { spec: { sources: unknown[] } } }).parent.spec.sources = (manySourcesRepository(n).spec as { sources: unknown[] }).sources;
      }
      const body = JSON.stringify(r.body);
      const answer = await probe(noMemo, r.url, body);
      if (answer.status !== 200) {
        curves.gitrepository_sync.push({ sources: n, request_bytes: Buffer.byteLength(body), refused: { status: answer.status, message: (JSON.parse(answer.text) as { message?: string }).message } });
        continue;
      }
      curves.gitrepository_sync.push({ sources: n, ...(await compare(noMemo, echo, r.url, body, 1)) });
    }
  } finally {
    clearInterval(sampler);
    peakRss = Math.max(peakRss, rssMiB(noMemo.proc.pid) ?? 0);
    for (const s of [noMemo, echo, memoOn]) s?.proc.kill('SIGTERM');
  }

  const chart = chartLimits();
  const fit = limitsFit({ maxConcurrency: chart.maxConcurrency, bodyLimit: chart.bodyLimit, memoryLimit: chart.memory });
  const mib = (n: number) => Math.round((n / 2 ** 20) * 10) / 10;
  const memory = {
    peak_rss_mib: peakRss,
    chart_memory_limit: chart.memory,
    chart_memory_limit_mib: mib(fit.memoryLimitBytes),
    under_limit: peakRss * 2 ** 20 < fit.memoryLimitBytes,
    worst_case_mib: mib(fit.worstCaseBytes),
    worst_case_fits: fit.fits,
    model: `src/server/limits.ts worstCaseBytes(maxConcurrency ${chart.maxConcurrency}, bodyLimit ${mib(chart.bodyLimit)} MiB)`,
  };

  const dir = mkdtempSync(join(tmpdir(), 'idpbuilder-bench-'));
  let renders;
  try {
    const file = join(dir, 'platform-100-packages.yaml');
    writeFileSync(file, [...defaultPlatform(), ...packages(100)].map((o) => stringify(o)).join('---\n'));
    renders = {
      default_platform: timeRender([], QUICK ? 3 : 5),
      platform_100_packages: timeRender([file], 3),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }

  const out = {
    node: process.version,
    cpus: (await import('node:os')).cpus().length,
    quick: QUICK,
    seconds_per_run: SECONDS,
    headline,
    curves,
    memory,
    ...(memoOn ? { memo_on: memoOnResults } : {}),
    render: renders,
    targets: {
      headline_ratios_at_least_0_5: Object.values(headline).every((h) => h.ratio >= 0.5),
      render_default_platform_at_most_150ms: renders.default_platform.ms_median <= 150,
      render_100_packages_at_most_300ms: renders.platform_100_packages.ms_median <= 300,
    },
    total_seconds: Math.round((performance.now() - started) / 100) / 10,
  };
  process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
