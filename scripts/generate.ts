/**
 * Writes the generated files: crds/ (one CRD per kind), metacontroller/ (one Composite/DecoratorController
 * per controller) and the Helm chart's generated parts (charts/idpbuilder/files/crds/, files/controllers.yaml,
 * values.schema.json). With --check, writes nothing and exits 1 when a file on disk differs from what would
 * be generated, or a stale *.yaml is left in a generated directory (CI's freshness check).
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { generatedFiles } from '../src/codegen/generated.js';

const check = process.argv.includes('--check');
const root = new URL('..', import.meta.url).pathname;
const files = generatedFiles();
const stale: string[] = [];

// Every directory that holds generated *.yaml files holds only generated *.yaml files: any other *.yaml is
// stale. (A directory with a generated file of another kind, such as the chart's values.schema.json next
// to its hand-written Chart.yaml, is not checked for strays.)
for (const dir of new Set(Object.keys(files).filter((f) => f.endsWith('.yaml')).map((f) => dirname(f)))) {
  const abs = join(root, dir);
  if (!existsSync(abs)) continue;
  for (const entry of readdirSync(abs)) {
    const rel = `${dir}/${entry}`;
    if (entry.endsWith('.yaml') && !(rel in files)) stale.push(`${rel} (not generated any more)`);
  }
}
for (const [rel, content] of Object.entries(files)) {
  const abs = join(root, rel);
  const current = existsSync(abs) ? readFileSync(abs, 'utf8') : undefined;
  if (current === content) continue;
  stale.push(rel);
  if (!check) {
    mkdirSync(dirname(abs), { recursive: true });
    writeFileSync(abs, content);
  }
}
if (check) {
  if (stale.length) {
    console.error(`generated files are stale; run \`npm run crds\`:\n  ${stale.join('\n  ')}`);
    process.exit(1);
  }
  console.log(`generated files are up to date (${Object.keys(files).length} files)`);
} else {
  console.log(stale.length ? `wrote ${stale.length} file(s):\n  ${stale.join('\n  ')}` : 'nothing to write');
}
