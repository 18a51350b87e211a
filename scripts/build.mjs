// `npm run build` and the `prepare` script (`npm ci` runs it in a checkout): compiles src/ to dist/ with
// `tsc -p tsconfig.build.json --noCheck` (emit only: types are checked by `npm run typecheck`, and
// isolatedModules makes a per-file emit safe; 5 s instead of 10 s on 2 cores) and writes dist/.build-stamp,
// which bin/idpbuilder.mjs compares with the sources to decide whether dist/ may run (bin/entry.mjs). Plain JavaScript: it runs before any TypeScript
// could. dist/ is emptied first so a removed source leaves no stale module behind. The stamp holds the
// sources' newest mtime taken *before* compiling, so an edit made while tsc runs still counts as newer;
// it is written only when tsc succeeds. Exit code: tsc's.
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { STAMP_FILE, newestSourceMtime } from '../bin/entry.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const sourcesMtimeMs = newestSourceMtime(root);
const dist = join(root, 'dist');
rmSync(dist, { recursive: true, force: true });
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const r = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json'), '--noCheck'], { stdio: 'inherit' });
if (r.status !== 0) {
  process.stderr.write('build: tsc failed; dist/ has no build stamp, so bin/idpbuilder.mjs keeps running src/ with tsx\n');
  process.exit(r.status ?? 1);
}
mkdirSync(dist, { recursive: true });
writeFileSync(join(dist, STAMP_FILE), `${JSON.stringify({ sourcesMtimeMs })}\n`);
