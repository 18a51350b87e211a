#!/usr/bin/env node
// Entry point of the `idpbuilder` CLI. The sources are TypeScript; tsx loads them directly so that
// `npx idpbuilder …` works right after `npm ci` with no build step.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv);
