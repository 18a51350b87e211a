/**
 * Every export of src/ carries a doc comment (`/** … *\/`), parsed with TypeScript's own parser: exported
 * functions, classes, consts/lets, interfaces, types, enums and default exports, and local declarations exported
 * by name (`export { a as b }`). Re-exports of another module's names (`export … from`, or `export { x }` of an
 * imported `x`) are the other module's to document and are skipped. An exported function whose own body has a
 * `throw` (not one inside a nested function or class) must say what it throws: a `@throws` tag or the word
 * "throws"/"Throws" in its comment.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const SRC = resolve(import.meta.dirname, '../../src');

function walk(dir: string, out: string[] = []): string[] {
  for (const entry of readdirSync(dir).sort()) {
    const p = join(dir, entry);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (/\.(ts|mts|cts)$/.test(entry) && !entry.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

/** The statement that carries a declaration's comment: a variable's statement, otherwise the node itself. */
function carrier(n: ts.Node): ts.Node {
  if (ts.isVariableDeclaration(n) && ts.isVariableDeclarationList(n.parent)) return n.parent.parent;
  return n;
}

/**
 * The text of the JSDoc comment right above a statement (the last `/** … *\/` of its leading comments), or
 * undefined. A file's opening comment, separated from a first statement by a blank line, is the module's, not
 * the statement's.
 */
function docOf(sf: ts.SourceFile, node: ts.Node): string | undefined {
  const text = sf.text;
  const ranges = ts.getLeadingCommentRanges(text, node.pos) ?? [];
  const docs = ranges.filter((r) => r.kind === ts.SyntaxKind.MultiLineCommentTrivia && text.startsWith('/**', r.pos) && !text.startsWith('/**/', r.pos));
  const last = docs.at(-1);
  if (last === undefined) return undefined;
  const isFirst = sf.statements[0] === node;
  const gap = text.slice(last.end, node.getStart(sf));
  if (isFirst && last.pos === ranges[0].pos && ranges[0].pos === text.search(/\S/) && /\n\s*\n/.test(gap)) return undefined;
  return text.slice(last.pos, last.end);
}

const hasExport = (n: ts.Node): boolean =>
  ts.canHaveModifiers(n) && (ts.getModifiers(n) ?? []).some((m) => m.kind === ts.SyntaxKind.ExportKeyword);

/**
 * Whether a function's own body throws: a `throw` statement not inside a nested function, class or accessor,
 * nor inside the `try` block of a try statement with a `catch` (its catch block counts: a rethrow there throws).
 */
function throwsDirectly(body: ts.Node | undefined): boolean {
  if (body === undefined) return false;
  let found = false;
  const visit = (n: ts.Node) => {
    if (found) return;
    if (ts.isThrowStatement(n)) {
      found = true;
      return;
    }
    if (ts.isFunctionLike(n) || ts.isClassLike(n)) return;
    if (ts.isTryStatement(n) && n.catchClause) {
      visit(n.catchClause);
      if (n.finallyBlock) visit(n.finallyBlock);
      return;
    }
    ts.forEachChild(n, visit);
  };
  ts.forEachChild(body, visit);
  return found;
}

/** The function body a declaration defines, if it is a function (declaration, or a const of an arrow/function expression). */
function functionBody(n: ts.Node): ts.Node | undefined {
  if (ts.isFunctionDeclaration(n)) return n.body;
  if (ts.isVariableDeclaration(n) && n.initializer !== undefined) {
    let init: ts.Expression = n.initializer;
    while (ts.isParenthesizedExpression(init) || ts.isAsExpression(init) || ts.isSatisfiesExpression(init)) init = init.expression;
    if (ts.isArrowFunction(init) || ts.isFunctionExpression(init)) return init.body;
  }
  return undefined;
}

const SAYS_THROWS = /@throws\b|\b[Tt]hrows\b/;

/** `file: name (kind): problem` for every undocumented export of one file. */
function problems(file: string, text: string): string[] {
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const rel = relative(SRC, file);
  /** name → its declarations (overloads and merged declarations share one name). */
  const declared = new Map<string, ts.Node[]>();
  const exported: { name: string; kind: string; nodes: ts.Node[] }[] = [];
  const add = (name: string, node: ts.Node) => declared.set(name, [...(declared.get(name) ?? []), node]);
  const imported = new Set<string>();

  for (const s of sf.statements) {
    if (ts.isImportDeclaration(s) && s.importClause) {
      const c = s.importClause;
      if (c.name) imported.add(c.name.text);
      if (c.namedBindings && ts.isNamedImports(c.namedBindings)) for (const e of c.namedBindings.elements) imported.add(e.name.text);
      if (c.namedBindings && ts.isNamespaceImport(c.namedBindings)) imported.add(c.namedBindings.name.text);
    } else if (ts.isImportEqualsDeclaration(s)) imported.add(s.name.text);
    else if (ts.isVariableStatement(s)) for (const d of s.declarationList.declarations) { if (ts.isIdentifier(d.name)) add(d.name.text, d); }
    else if ((ts.isFunctionDeclaration(s) || ts.isClassDeclaration(s) || ts.isInterfaceDeclaration(s) || ts.isTypeAliasDeclaration(s) || ts.isEnumDeclaration(s) || ts.isModuleDeclaration(s)) && s.name && ts.isIdentifier(s.name)) {
      add(s.name.text, s);
    }
  }

  const kindOf = (n: ts.Node): string =>
    ts.isFunctionDeclaration(n) ? 'function'
    : ts.isClassDeclaration(n) ? 'class'
    : ts.isInterfaceDeclaration(n) ? 'interface'
    : ts.isTypeAliasDeclaration(n) ? 'type'
    : ts.isEnumDeclaration(n) ? 'enum'
    : ts.isModuleDeclaration(n) ? 'namespace'
    : ts.isVariableDeclaration(n) ? (functionBody(n) ? 'function' : 'const')
    : 'default';

  for (const s of sf.statements) {
    if (ts.isExportDeclaration(s)) {
      if (s.moduleSpecifier !== undefined || s.exportClause === undefined || !ts.isNamedExports(s.exportClause)) continue; // re-export
      for (const e of s.exportClause.elements) {
        const local = (e.propertyName ?? e.name).text;
        if (imported.has(local)) continue; // re-export of an imported name
        const nodes = declared.get(local);
        if (nodes) exported.push({ name: e.name.text === local ? local : `${e.name.text} (= ${local})`, kind: kindOf(nodes[0]), nodes });
      }
    } else if (ts.isExportAssignment(s)) {
      const e = s.expression;
      const nodes = ts.isIdentifier(e) && !imported.has(e.text) ? declared.get(e.text) : undefined;
      exported.push(nodes ? { name: `default (= ${(e as ts.Identifier).text})`, kind: kindOf(nodes[0]), nodes: [s, ...nodes] } : { name: 'default', kind: 'default', nodes: [s] });
    } else if (hasExport(s)) {
      if (ts.isVariableStatement(s)) {
        for (const d of s.declarationList.declarations) exported.push({ name: d.name.getText(sf), kind: kindOf(d), nodes: [d] });
      } else if ((ts.isFunctionDeclaration(s) || ts.isClassDeclaration(s) || ts.isInterfaceDeclaration(s) || ts.isTypeAliasDeclaration(s) || ts.isEnumDeclaration(s) || ts.isModuleDeclaration(s))) {
        const name = s.name && ts.isIdentifier(s.name) ? s.name.text : 'default';
        exported.push({ name, kind: kindOf(s), nodes: declared.get(name) ?? [s] });
      }
    }
  }

  const out: string[] = [];
  const seen = new Set<string>();
  for (const { name, kind, nodes } of exported) {
    if (seen.has(name)) continue;
    seen.add(name);
    const docs = nodes.map((n) => docOf(sf, carrier(n))).filter((d): d is string => d !== undefined);
    if (docs.length === 0) {
      out.push(`${rel}: ${name} (${kind}): no doc comment`);
      continue;
    }
    if (nodes.some((n) => throwsDirectly(functionBody(n))) && !docs.some((d) => SAYS_THROWS.test(d))) {
      out.push(`${rel}: ${name} (${kind}): throws, but its doc comment does not say what (@throws or "throws")`);
    }
  }
  return out;
}

describe('doc comments on the exports of src/', () => {
  const files = walk(SRC);

  it('every exported declaration has a doc comment, and one that throws says what', () => {
    expect(files.length).toBeGreaterThan(100);
    const found = files.flatMap((f) => problems(f, readFileSync(f, 'utf8')));
    expect(found).toEqual([]);
  });

  it('finds each kind of undocumented export, skips re-exports, and checks what throwing functions say', () => {
    const file = join(SRC, 'kit', 'x.ts');
    const text = [
      "import { imported } from './y.js';",
      "export { fromElsewhere } from './z.js';",
      "export * from './w.js';",
      'export function bare() {}',
      '/** Documented. */',
      'export function documented() {}',
      'export class C {}',
      'export const K = 1;',
      'export interface I { a: number }',
      'export type T = string;',
      'export enum E { A }',
      '/** Says nothing of errors. */',
      "export function thrower(): void { throw new Error('x'); }",
      '/** @throws Error when x. */',
      "export function tagged(): void { throw new Error('x'); }",
      '/** Throws a TypeError when x. */',
      "export const arrow = (): void => { throw new TypeError('x'); };",
      '/** The throw is in a nested callback, not this function. */',
      "export function nested(): () => void { return () => { throw new Error('x'); }; }",
      '/** Every throw is caught here. */',
      "export function caught(): number { try { throw new Error('x'); } catch { return 1; } }",
      '/** Only the rethrow escapes. */',
      "export function rethrows(): void { try { throw new Error('x'); } catch (e) { throw e; } }",
      'function local() {}',
      'export { local as renamed, imported };',
      '/** Overloads share the first one\'s comment. */',
      'export function over(a: string): string;',
      'export function over(a: number): number;',
      'export function over(a: unknown): unknown { return a; }',
      '// a line comment is not a doc comment',
      'export const lined = 2;',
      'export default bare;',
    ].join('\n');
    expect(problems(file, text)).toEqual([
      'kit/x.ts: bare (function): no doc comment',
      'kit/x.ts: C (class): no doc comment',
      'kit/x.ts: K (const): no doc comment',
      'kit/x.ts: I (interface): no doc comment',
      'kit/x.ts: T (type): no doc comment',
      'kit/x.ts: E (enum): no doc comment',
      'kit/x.ts: thrower (function): throws, but its doc comment does not say what (@throws or "throws")',
      'kit/x.ts: rethrows (function): throws, but its doc comment does not say what (@throws or "throws")',
      'kit/x.ts: renamed (= local) (function): no doc comment',
      'kit/x.ts: lined (const): no doc comment',
      'kit/x.ts: default (= bare) (function): no doc comment',
    ]);
  });

  it("does not take a file's opening comment for its first export's", () => {
    const file = join(SRC, 'kit', 'x.ts');
    expect(problems(file, '/** The module. */\n\nexport const A = 1;\n')).toEqual(['kit/x.ts: A (const): no doc comment']);
    expect(problems(file, '/** The constant. */\nexport const A = 1;\n')).toEqual([]);
  });
});
