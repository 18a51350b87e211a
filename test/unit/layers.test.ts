/**
 * The layers of src/, bottom to top, and the one rule between them: a module imports only from its own
 * folder or from a folder of a lower layer (never a higher one, never a sibling of the same layer). Every
 * import counts: static `import` and `export … from`, `import type`, dynamic `import()` and `import('…')`
 * types, parsed with TypeScript's own parser. Each folder's README.md names its layer.
 */
import { readdirSync, readFileSync, statSync, existsSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

/** Bottom → top; the folders of one layer are siblings and do not import each other. */
const LAYERS: readonly { name: string; folders: readonly string[] }[] = [
  { name: 'protocol', folders: ['metacontroller', 'kube', 'gitapi'] },
  { name: 'schemas', folders: ['api', 'chart', 'gitea', 'github', 'gitlab'] },
  { name: 'kit', folders: ['kit'] },
  { name: 'controllers', folders: ['controllers'] },
  { name: 'views', folders: ['codegen', 'render', 'trace'] },
  { name: 'airgap', folders: ['airgap'] },
  { name: 'services', folders: ['events', 'jobs'] },
  { name: 'server', folders: ['server'] },
  { name: 'cli', folders: ['cli'] },
];

const SRC = resolve(import.meta.dirname, '../../src');

function walk(dir: string, out: { files: string[]; dirs: string[] } = { files: [], dirs: [] }) {
  for (const entry of readdirSync(dir).sort()) {
    const p = join(dir, entry);
    if (statSync(p).isDirectory()) {
      out.dirs.push(p);
      walk(p, out);
    } else if (/\.(ts|mts|cts)$/.test(entry)) out.files.push(p);
  }
  return out;
}

/** Every module specifier a file names: static imports and re-exports, `import()` calls and `import('…')` types. */
function importsOf(file: string, text: string): string[] {
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const out: string[] = [];
  const visit = (n: ts.Node) => {
    if ((ts.isImportDeclaration(n) || ts.isExportDeclaration(n)) && n.moduleSpecifier && ts.isStringLiteral(n.moduleSpecifier)) out.push(n.moduleSpecifier.text);
    else if (ts.isImportEqualsDeclaration(n) && ts.isExternalModuleReference(n.moduleReference) && ts.isStringLiteral(n.moduleReference.expression)) out.push(n.moduleReference.expression.text);
    else if (ts.isCallExpression(n) && n.expression.kind === ts.SyntaxKind.ImportKeyword && n.arguments.length > 0) {
      const a = n.arguments[0];
      out.push(ts.isStringLiteralLike(a) ? a.text : `<non-literal import(): ${a.getText(sf)}>`);
    } else if (ts.isImportTypeNode(n) && ts.isLiteralTypeNode(n.argument) && ts.isStringLiteral(n.argument.literal)) out.push(n.argument.literal.text);
    ts.forEachChild(n, visit);
  };
  visit(sf);
  return out;
}

const layerOf = new Map(LAYERS.flatMap((l, i) => l.folders.map((f) => [f, i] as const)));
/** The top folder under src/ of an absolute path, or undefined for a file directly in src/ or outside it. */
const folderOf = (abs: string): string | undefined => {
  const rel = relative(SRC, abs);
  if (rel.startsWith('..') || !rel.includes(sep)) return undefined;
  return rel.split(sep)[0];
};

/** `file → import` problems of one file: an import of a higher layer, of a sibling, or of src/ outside every layer. */
function violations(file: string, text: string): string[] {
  const from = folderOf(file);
  const fromLayer = from === undefined ? undefined : layerOf.get(from);
  const rel = relative(SRC, file);
  if (fromLayer === undefined) return [`${rel}: not in a layer folder (add its folder to LAYERS)`];
  const out: string[] = [];
  for (const spec of importsOf(file, text)) {
    if (spec.startsWith('<non-literal')) {
      out.push(`${rel} → ${spec}: cannot be checked`);
      continue;
    }
    if (!spec.startsWith('.')) continue; // packages and node: builtins
    const target = resolve(dirname(file), spec);
    const to = folderOf(target);
    if (to === from) continue;
    const toLayer = to === undefined ? undefined : layerOf.get(to);
    if (toLayer === undefined) out.push(`${rel} → ${spec}: outside every layer`);
    else if (toLayer > fromLayer) out.push(`${rel} → ${spec}: ${from} (${LAYERS[fromLayer].name}) imports ${to} (${LAYERS[toLayer].name}), a higher layer`);
    else if (toLayer === fromLayer) out.push(`${rel} → ${spec}: ${from} imports its sibling ${to} (both ${LAYERS[fromLayer].name})`);
  }
  return out;
}

describe('layers of src/', () => {
  const { files, dirs } = walk(SRC);

  it('every folder of src/ is in exactly one layer, and every layer folder exists', () => {
    const top = readdirSync(SRC).filter((e) => statSync(join(SRC, e)).isDirectory()).sort();
    const listed = LAYERS.flatMap((l) => l.folders);
    expect(new Set(listed).size).toBe(listed.length);
    expect(top).toEqual([...listed].sort());
  });

  it('no import runs from a lower layer to a higher one, nor between siblings', () => {
    expect(files.length).toBeGreaterThan(100);
    const problems = files.flatMap((f) => violations(f, readFileSync(f, 'utf8')));
    expect(problems).toEqual([]);
  });

  it("each folder's README.md states its layer", () => {
    const problems: string[] = [];
    for (const d of dirs) {
      const folder = relative(SRC, d).split(sep)[0];
      const layer = layerOf.get(folder);
      const readme = join(d, 'README.md');
      if (layer === undefined) continue; // reported above
      if (!existsSync(readme)) problems.push(`${relative(SRC, d)}/README.md is missing`);
      else if (!readFileSync(readme, 'utf8').includes(`Layer: ${LAYERS[layer].name} (${layer + 1} of ${LAYERS.length})`)) {
        problems.push(`${relative(SRC, d)}/README.md does not say "Layer: ${LAYERS[layer].name} (${layer + 1} of ${LAYERS.length})"`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('finds the imports a violation can hide in, and names file → import', () => {
    const kit = join(SRC, 'kit', 'x.ts');
    const text = [
      "import type { A } from '../controllers/a.js';",
      "export { B } from '../server/b.js';",
      "const c = await import('../cli/c.js');",
      "type D = import('../render/d.js').D;",
      "import { E } from './e.js';",
      "import { F } from '../api/f.js';",
      "import { G } from 'yaml';",
      'const h = await import(name);',
    ].join('\n');
    expect(violations(kit, text)).toEqual([
      'kit/x.ts → ../controllers/a.js: kit (kit) imports controllers (controllers), a higher layer',
      'kit/x.ts → ../server/b.js: kit (kit) imports server (server), a higher layer',
      'kit/x.ts → ../cli/c.js: kit (kit) imports cli (cli), a higher layer',
      'kit/x.ts → ../render/d.js: kit (kit) imports render (views), a higher layer',
      'kit/x.ts → <non-literal import(): name>: cannot be checked',
    ]);
    expect(violations(join(SRC, 'render', 'y.ts'), "import { T } from '../trace/t.js';")).toEqual([
      'render/y.ts → ../trace/t.js: render imports its sibling trace (both views)',
    ]);
    expect(violations(join(SRC, 'z.ts'), '')).toEqual(['z.ts: not in a layer folder (add its folder to LAYERS)']);
  });
});
