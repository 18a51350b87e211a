/**
 * Fuzzes the live hook service: `npx tsx bench/fuzz.ts [--url http://127.0.0.1:PORT] [--count 10000] [--seed N]`.
 *
 * Without --url it starts the real service (bench/server.ts hook) on 127.0.0.1:0 in a child process.
 * Sends `count` bodies, mixed: random JSON, random strings, truncated real requests, real requests with a
 * value of the wrong type somewhere, real requests on the wrong route, other content types, and bodies over
 * the size limit; 8 at a time. Prints the status-code counts as JSON, then checks the service still
 * answers /healthz and a real request. Exit code 1 on any 5xx, a dead service, or a failed check.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { Pool } from 'undici';
import { controllers, decorators } from '../src/controllers/registry.js';
import { defaultPlatform, manySourcesRepository, recordRequests } from './requests.js';

const HERE = dirname(fileURLToPath(import.meta.url));

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

async function startServer(): Promise<{ proc: ChildProcess; url: string }> {
  const proc = spawn(process.execPath, ['--import', 'tsx', join(HERE, 'server.ts'), 'hook'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    let buf = '';
    proc.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      if (buf.includes('\n')) resolve((JSON.parse(buf.split('\n')[0]) as { port: number }).port);
    });
    proc.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
  });
  return { proc, url: `http://127.0.0.1:${port}` };
}

function paths(v: unknown, prefix: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  out.push(prefix);
  if (Array.isArray(v)) v.forEach((x, i) => paths(x, [...prefix, i], out));
  else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) paths(x, [...prefix, k], out);
  return out;
}

function setAt(root: unknown, path: (string | number)[], value: unknown): unknown {
  if (path.length === 0) return value;
  const copy = structuredClone(root) as Record<string | number, unknown>;
  let cur = copy;
  for (const k of path.slice(0, -1)) cur = cur[k] as Record<string | number, unknown>;
  cur[path[path.length - 1]] = value;
  return copy;
}

interface Case {
  kind: string;
  url: string;
  body: string;
  contentType: string;
}

async function main() {
  const count = Number(arg('count') ?? 10_000);
  const seed = Number(arg('seed') ?? Date.now() % 1_000_000);
  const external = arg('url');
  const server = external ? undefined : await startServer();
  const base = external ?? server!.url;

  const recorded = recordRequests([...defaultPlatform(), manySourcesRepository(8)]);
  const routes = [
    ...controllers().flatMap((c) => ['sync', 'finalize', 'customize'].map((h) => `/hooks/${c.kind.plural}/${h}`)),
    ...decorators().flatMap((d) => ['sync', 'finalize', 'customize'].map((h) => `/hooks/${d.name}/${h}`)),
    '/hooks/widgets/sync',
    '/hooks/platforms/explode',
    '/metrics',
    '/nope',
  ];
  const wrong = fc.oneof(fc.constant(null), fc.integer(), fc.double(), fc.boolean(), fc.string({ maxLength: 12 }), fc.constant([]), fc.constant({}), fc.json({ maxDepth: 2 }).map((j) => JSON.parse(j) as unknown));
  const caseArb: fc.Arbitrary<Case> = fc.oneof(
    fc.tuple(fc.json({ maxDepth: 4 }), fc.nat()).map(([body, i]) => ({ kind: 'random-json', url: routes[i % routes.length], body, contentType: 'application/json' })),
    fc.tuple(fc.string({ maxLength: 300 }), fc.nat()).map(([body, i]) => ({ kind: 'random-string', url: routes[i % routes.length], body, contentType: 'application/json' })),
    fc.tuple(fc.nat(), fc.double({ min: 0, max: 1, noNaN: true })).map(([i, at]) => {
      const r = recorded[i % recorded.length];
      const text = JSON.stringify(r.body);
      return { kind: 'truncated', url: r.url, body: text.slice(0, Math.floor(at * (text.length - 1))), contentType: 'application/json' };
    }),
    fc.tuple(fc.nat(), fc.nat(), wrong).map(([i, j, value]) => {
      const r = recorded[i % recorded.length];
      const all = paths(r.body).filter((p) => p.length > 0);
      return { kind: 'wrong-type', url: r.url, body: JSON.stringify(setAt(r.body, all[j % all.length], value)), contentType: 'application/json' };
    }),
    fc.tuple(fc.nat(), fc.nat()).map(([i, j]) => ({ kind: 'wrong-route', url: routes[j % routes.length], body: JSON.stringify(recorded[i % recorded.length].body), contentType: 'application/json' })),
    fc.tuple(fc.nat(), fc.constantFrom('text/plain', 'application/x-www-form-urlencoded', 'application/octet-stream', 'application/json; charset=latin1')).map(([i, contentType]) => ({ kind: 'content-type', url: recorded[i % recorded.length].url, body: JSON.stringify(recorded[i % recorded.length].body), contentType })),
    fc.nat().map((i) => ({ kind: 'oversized', url: routes[i % routes.length], body: `{"parent":"${'x'.repeat(9 * 1024 * 1024)}"}`, contentType: 'application/json' })),
  );
  // oversized bodies are costly to build and send: few of them
  const cases = fc.sample(caseArb, { numRuns: count, seed }).map((c, i) => (c.kind === 'oversized' && i % 50 !== 0 ? { ...c, kind: 'random-json', body: '{}' } : c));

  const pool = new Pool(base, { connections: 8, pipelining: 1 });
  const byStatus: Record<string, number> = {};
  const byKind: Record<string, Record<string, number>> = {};
  const fiveHundreds: { kind: string; url: string; status: number; body: string; answer: string }[] = [];
  let next = 0;
  let transportErrors = 0;
  const started = Date.now();
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < cases.length) {
        const c = cases[next++];
        let status: number;
        let answer = '';
        try {
          const res = await pool.request({ path: c.url, method: 'POST', headers: { 'content-type': c.contentType }, body: c.body });
          answer = await res.body.text();
          status = res.statusCode;
        } catch {
          // the service may close the connection on an oversized body; that is a refusal, not a crash
          transportErrors += 1;
          status = 0;
        }
        byStatus[status] = (byStatus[status] ?? 0) + 1;
        (byKind[c.kind] ??= {})[status] = (byKind[c.kind][status] ?? 0) + 1;
        if (status >= 500) fiveHundreds.push({ kind: c.kind, url: c.url, status, body: c.body.slice(0, 500), answer: answer.slice(0, 300) });
      }
    }),
  );
  const seconds = (Date.now() - started) / 1000;

  // still alive and still right?
  const health = await pool.request({ path: '/healthz', method: 'GET' }).then(async (r) => (await r.body.text(), r.statusCode)).catch(() => 0);
  const real = recorded.find((r) => r.id.startsWith('Platform/'))!;
  const realStatus = await pool
    .request({ path: real.url, method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(real.body) })
    .then(async (r) => (await r.body.text(), r.statusCode))
    .catch(() => 0);
  await pool.close();
  const alive = health === 200 && realStatus === 200 && (!server || server.proc.exitCode === null);
  server?.proc.kill('SIGTERM');

  const report = {
    seed,
    requests: cases.length,
    seconds,
    status_counts: byStatus,
    by_kind: byKind,
    transport_errors: transportErrors,
    five_hundreds: fiveHundreds.length,
    examples_5xx: fiveHundreds.slice(0, 5),
    alive_after: alive,
  };
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  process.exit(fiveHundreds.length === 0 && alive ? 0 : 1);
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
