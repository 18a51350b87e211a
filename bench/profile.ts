/**
 * In-process breakdown of one memo-off hook request (`npx tsx bench/profile.ts [iterations]`): the time
 * per call of each stage the server runs — JSON.parse of the body, the envelope and parent checks
 * (src/server/request-check.ts), the observed shape check (src/server/observed-check.ts), the hook with
 * its contract (src/kit/contract.ts enforce + Redactor scrub), finishSync and JSON.stringify — for the
 * Platform and GitRepository requests of bench/requests.ts. Prints one JSON document (median µs per call per stage).
 * Run under `node --cpu-prof --import tsx bench/profile.ts` for a V8 profile of the same loop.
 */
import { performance } from 'node:perf_hooks';
import { Session } from 'node:inspector';
import { writeFileSync } from 'node:fs';
import { controllers } from '../src/controllers/registry.js';
import { DEFAULT_SETTINGS, type HookEnv } from '../src/kit/hooks.js';
import { SyncRequest, type SyncRequest as SyncRequestT } from '../src/metacontroller/protocol.js';
import { ParentCheck, fastAjv } from '../src/server/request-check.js';
import { quickObservedCheck } from '../src/server/observed-check.js';
import { finishSync } from '../src/metacontroller/response.js';
import { benchRequests } from './requests.js';

const N = Number(process.argv[2] ?? 2000);
/** `--cpu-prof <dir>`: a V8 CPU profile of each case's measured loop only, written to <dir>/<case>.cpuprofile. */
const PROF_DIR = process.argv.includes('--cpu-prof') ? process.argv[process.argv.indexOf('--cpu-prof') + 1] : undefined;

function post<T>(s: Session, method: string): Promise<T> {
  return new Promise((resolve, reject) => s.post(method, (err, res) => (err ? reject(err) : resolve(res as T))));
}

async function main() {
  const cases = benchRequests().filter((c) => c.name !== 'package-in-100-package-namespace');
  const envelope = fastAjv().compile(SyncRequest);
  const parentCheck = new ParentCheck();
  const now = new Date('2025-01-01T00:00:00Z');
  const env: HookEnv = { now: () => now, random: (n) => Buffer.alloc(n, 7), settings: DEFAULT_SETTINGS };
  const out: Record<string, unknown> = {};
  for (const c of cases) {
    const plural = c.request.url.split('/')[2];
    const ctrl = controllers().find((x) => x.kind.plural === plural)!;
    const text = JSON.stringify(c.request.body);
    const stages: Record<string, number> = { parse: 0, envelope: 0, parent: 0, observed: 0, hook: 0, finish: 0, stringify: 0 };
    // per stage, the time of each iteration; reported as the median (the machine is shared: means are noisy)
    const samples: Record<string, number[]> = Object.fromEntries(Object.keys(stages).map((k) => [k, []]));
    const t = (name: string, f: () => unknown) => {
      const s = performance.now();
      const r = f();
      const d = performance.now() - s;
      stages[name] += d;
      samples[name].push(d);
      return r;
    };
    const session = PROF_DIR ? new Session() : undefined;
    for (let i = 0; i < N + 200; i++) {
      if (i === 200) {
        for (const k of Object.keys(stages)) {
          stages[k] = 0; // warm-up done
          samples[k] = [];
        }
        if (session) {
          session.connect();
          await post(session, 'Profiler.enable');
          await post(session, 'Profiler.start');
        }
      }
      const body = t('parse', () => JSON.parse(text)) as SyncRequestT;
      t('envelope', () => envelope(body));
      t('parent', () => parentCheck.admit(body.parent));
      t('observed', () => quickObservedCheck({ children: body.children, related: body.related }));
      const res = t('hook', () => ctrl.hooks!.sync(body, env)) as ReturnType<typeof finishSync>;
      const fin = t('finish', () => finishSync(res));
      t('stringify', () => JSON.stringify(fin));
    }
    if (session) {
      const { profile } = await post<{ profile: unknown }>(session, 'Profiler.stop');
      writeFileSync(`${PROF_DIR}/${c.name}.cpuprofile`, JSON.stringify(profile));
      session.disconnect();
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    const us = Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, Math.round(median(v) * 1000)]));
    const total = Object.values(us).reduce((a, b) => a + b, 0);
    out[c.name] = { request_bytes: text.length, us_per_call: us, total_us: total, parse_plus_stringify_us: us.parse + us.stringify };
  }
  process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
}
void main();
