/**
 * Server CPU per request, a figure that holds on a shared machine (`npx tsx bench/server-cpu.ts [requests]
 * [rounds] [--base DIR]`): starts bench/server.ts `echo` and `hook-nomemo` (and, with `--base`, the
 * `hook-nomemo` of another checkout, e.g. the commit before a change), sends each the memo-off Platform and
 * GitRepository requests of bench/requests.ts one at a time (300 warm-up, then `requests`, default 2000) and
 * reads the server process's user + system CPU from /proc/<pid>/stat (Linux only; 10 ms ticks). Prints per
 * server and request the median µs per request over `rounds` (default 3) and the CPU ratio echo / hook,
 * the CPU side of the headline's req/s ratio (the load generator's share is left out).
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Pool } from 'undici';
import { defaultPlatform, manySourcesRepository, recordRequests } from './requests.js';
const base = recordRequests([...defaultPlatform(), manySourcesRepository(64)]);
const reqs = { platform: base.find((x) => x.id === 'Platform/idpbuilder-system/localdev')!, gitrepo: base.find((x) => x.id === 'GitRepository/idpbuilder-system/many-sources')! };
const cpu = (pid: number) => { const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' '); return (Number(f[11]) + Number(f[12])) * 10000; };
async function start(dir: string, mode: string) {
  const p = spawn(process.execPath, ['--import', 'tsx', 'bench/server.ts', mode], { cwd: dir, stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((res) => p.stdout!.once('data', (d) => res(JSON.parse(String(d)).port)));
  return { p, port };
}
const args = process.argv.slice(2);
const baseDir = args.includes('--base') ? args[args.indexOf('--base') + 1] : undefined;
const [N, ROUNDS] = [Number(args[0] && !args[0].startsWith('--') ? args[0] : 2000), Number(args[1] && !args[1].startsWith('--') ? args[1] : 3)];
const out: Record<string, number[]> = {};
const here = new URL('..', import.meta.url).pathname;
const servers: Record<string, { p: ReturnType<typeof spawn>; port: number }> = { echo: await start(here, 'echo'), ...(baseDir ? { base: await start(baseDir, 'hook-nomemo') } : {}), hook: await start(here, 'hook-nomemo') };
for (let round = 0; round < ROUNDS; round++) {
  for (const [name, r] of Object.entries(reqs)) {
    const body = JSON.stringify(r.body);
    const size = (await (await fetch(`http://127.0.0.1:${servers.hook.port}${r.url}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body })).text()).length;
    for (const [mode, s] of Object.entries(servers)) {
      const url = mode === 'echo' ? `/echo/${size}` : r.url;
      const pool = new Pool(`http://127.0.0.1:${s.port}`, { connections: 1 });
      const go = async (n: number) => { for (let i = 0; i < n; i++) { const res = await pool.request({ path: url, method: 'POST', headers: { 'content-type': 'application/json' }, body }); await res.body.text(); if (res.statusCode !== 200) throw new Error(String(res.statusCode)); } };
      await go(300);
      const c0 = cpu(s.p.pid!); await go(N); const c1 = cpu(s.p.pid!);
      (out[`${name}/${mode}`] ??= []).push(Math.round((c1 - c0) / N));
      await pool.close();
    }
  }
}
for (const s of Object.values(servers)) s.p.kill('SIGTERM');
const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(JSON.stringify({ us_per_request: Object.fromEntries(Object.entries(out).map(([k, v]) => [k, { median: med(v), runs: v }])) }));
const ratios = Object.fromEntries(Object.keys(reqs).flatMap((n) => Object.keys(servers).filter((t) => t !== 'echo').map((t) => [`${n}/${t}`, Math.round((100 * med(out[`${n}/echo`])) / med(out[`${n}/${t}`])) / 100])));
console.log(JSON.stringify({ cpu_ratio_echo_over_hook: ratios }));
