#!/usr/bin/env node
// Entry point of the `idpbuilder` CLI. It runs the compiled JavaScript in dist/ (built by `npm run build`,
// which `npm ci` runs as the `prepare` script) when dist/ is at least as new as src/; otherwise it runs the
// TypeScript sources through tsx, so an edit under src/ takes effect without a rebuild (and stderr says
// once per start that dist/ is stale). IDPBUILDER_USE_DIST=1 (the container image) always runs dist/.
// The choice is bin/entry.mjs.
import { fileURLToPath } from 'node:url';
import { chooseEntry, newestSourceMtime, readBuildStamp } from './entry.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const forceDist = process.env.IDPBUILDER_USE_DIST === '1';
const { entry, warning } = forceDist
  ? chooseEntry({ forceDist, stampMtimeMs: undefined, sourcesMtimeMs: undefined })
  : chooseEntry({ forceDist, stampMtimeMs: readBuildStamp(root), sourcesMtimeMs: newestSourceMtime(root) });
if (warning) process.stderr.write(`${warning}\n`);
let main;
if (entry === 'dist') {
  ({ main } = await import('../dist/cli/main.js'));
} else {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import('../src/cli/main.ts'));
}
process.exitCode = await main(process.argv);
