/**
 * In-process timing of `idpbuilder render --assume-ready` (runRender, JSON output) of the default platform
 * and of the default platform plus 100 Packages (`npx tsx bench/render-profile.ts [runs] [--cpu-prof DIR]`).
 * Prints one JSON document: per case the median and minimum ms over `runs` (default 7) after one warm-up,
 * the object count and the rounds to the fixed point. `--cpu-prof DIR` writes a V8 CPU profile of each
 * case's measured runs to DIR/render-<case>.cpuprofile.
 */
import { performance } from 'node:perf_hooks';
import { Session } from 'node:inspector';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { runRender } from '../src/cli/render.js';
import { defaultPlatform, packages } from './requests.js';

const RUNS = Number(process.argv[2] && !process.argv[2].startsWith('--') ? process.argv[2] : 7);
const PROF_DIR = process.argv.includes('--cpu-prof') ? process.argv[process.argv.indexOf('--cpu-prof') + 1] : undefined;

function post<T>(s: Session, method: string): Promise<T> {
  return new Promise((resolve, reject) => s.post(method, (err, res) => (err ? reject(err) : resolve(res as T))));
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'render-profile-'));
  const platform = join(dir, 'platform.yaml');
  const many = join(dir, 'platform-100-packages.yaml');
  writeFileSync(platform, defaultPlatform().map((o) => stringify(o)).join('---\n'));
  writeFileSync(many, [...defaultPlatform(), ...packages(100)].map((o) => stringify(o)).join('---\n'));
  const out: Record<string, unknown> = {};
  try {
    for (const [name, file] of [['default_platform', platform], ['platform_100_packages', many]] as const) {
      const once = () => runRender({ filename: [file], recursive: false, assumeReady: true, output: 'json', showSecrets: false });
      once(); // warm-up: module initialisation, compiled validators
      const session = PROF_DIR ? new Session() : undefined;
      if (session) {
        session.connect();
        await post(session, 'Profiler.enable');
        await post(session, 'Profiler.start');
      }
      const times: number[] = [];
      let objects = 0;
      for (let i = 0; i < RUNS; i++) {
        const t0 = performance.now();
        const r = once();
        times.push(performance.now() - t0);
        objects = (JSON.parse(r.stdout) as { items: unknown[] }).items.length;
      }
      if (session) {
        const { profile } = await post<{ profile: unknown }>(session, 'Profiler.stop');
        writeFileSync(join(PROF_DIR!, `render-${name}.cpuprofile`), JSON.stringify(profile));
        session.disconnect();
      }
      times.sort((a, b) => a - b);
      out[name] = { ms_median: Math.round(times[Math.floor(times.length / 2)]), ms_min: Math.round(times[0]), objects };
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
}
void main();
