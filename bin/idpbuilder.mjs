#!/usr/bin/env node
// Entry point of the `idpbuilder` CLI. In a checkout the sources are TypeScript and tsx loads them directly,
// so `npx idpbuilder …` works right after `npm ci`. The container image sets IDPBUILDER_USE_DIST=1 and
// runs the compiled JavaScript from dist/ (npm run build) instead.
const useDist = process.env.IDPBUILDER_USE_DIST === '1';
let main;
if (useDist) {
  ({ main } = await import('../dist/cli/main.js'));
} else {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import('../src/cli/main.ts'));
}
process.exitCode = await main(process.argv);
