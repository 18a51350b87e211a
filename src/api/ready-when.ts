/**
 * Package health checks' readiness expressions (`readyWhen`, as kro's `readyWhen`): compiled, checked
 * offline (admission, `idpbuilder validate`) and evaluated over an object (src/kit/health.ts resolves
 * which object a check reads).
 *
 * CEL runs through @marcbachmann/cel-js with one variable, `self` (a map: the whole object, integers as
 * CEL ints). An expression is compiled once (parse + type check: it must be able to give a bool) and
 * reused from a bounded cache; evaluation is pure. An evaluation error (an absent field without has(),
 * a type mismatch) means "not ready", with the error's first line as the reason.
 */
import { Environment } from '@marcbachmann/cel-js';
import { toCel } from './cel.js';
import type { KubeObject } from '../metacontroller/protocol.js';

type Program = (ctx: Record<string, unknown>) => unknown;

const celEnv = new Environment({ unlistedVariablesAreDyn: false }).registerVariable('self', 'map');
const compiled = new Map<string, { program: Program } | { error: string }>();
/** Distinct expressions kept compiled; the oldest goes first beyond this. */
const CACHE_SIZE = 512;

function firstLine(err: unknown): string {
  return String((err as Error)?.message ?? err).split('\n')[0].trim();
}

/** A readiness expression compiled, or the compile error (syntax, unknown variable, a result that cannot be a bool). */
/** CEL macros that loop over a list or map (cel-js AST: `rcall` with the macro name first). */
const COMPREHENSIONS = new Set(['all', 'exists', 'exists_one', 'map', 'filter']);
/**
 * At most this many comprehensions inside one another. Evaluation cost is the product of the nested lists'
 * sizes and the hook service is single-threaded: 4 levels over a 60-element literal list (739 characters,
 * well inside maxLength) take about 10 s, 5 levels about 10 min. Two levels (e.g. every container has a
 * ready port) cover readiness checks; a fixed bound keeps the verdict independent of machine load.
 */
const MAX_COMPREHENSION_NESTING = 2;

/** The deepest nesting of comprehensions in a cel-js AST node (0: none). */
function comprehensionDepth(node: unknown): number {
  if (Array.isArray(node)) return node.reduce((m: number, n) => Math.max(m, comprehensionDepth(n)), 0);
  if (!node || typeof node !== 'object') return 0;
  const n = node as { op?: unknown; args?: unknown };
  const inner = comprehensionDepth(n.args);
  return n.op === 'rcall' && Array.isArray(n.args) && COMPREHENSIONS.has(n.args[0] as string) ? inner + 1 : inner;
}

function compileReadyWhen(expr: string): { program: Program } | { error: string } {
  const hit = compiled.get(expr);
  if (hit) return hit;
  let out: { program: Program } | { error: string };
  try {
    const parsed = celEnv.parse(expr);
    const checked = parsed.check();
    const depth = comprehensionDepth((parsed as unknown as { ast: unknown }).ast);
    if (!checked.valid) out = { error: firstLine(checked.error) };
    else if (depth > MAX_COMPREHENSION_NESTING) {
      out = { error: `nests ${depth} comprehensions (all, exists, exists_one, map, filter) inside one another; at most ${MAX_COMPREHENSION_NESTING}, as the cost grows with the product of the lists' sizes` };
    }
    else if (checked.type !== 'bool' && checked.type !== 'dyn') out = { error: `gives ${checked.type}, not bool` };
    else out = { program: parsed as unknown as Program };
  } catch (err) {
    out = { error: firstLine(err) };
  }
  if (compiled.size >= CACHE_SIZE) compiled.delete(compiled.keys().next().value as string);
  compiled.set(expr, out);
  return out;
}

/** Undefined when `expr` compiles; else the message `readyWhen does not compile: …`. */
export function readyWhenProblem(expr: string): string | undefined {
  const c = compileReadyWhen(expr);
  return 'error' in c ? `readyWhen does not compile: ${c.error}` : undefined;
}

/** Whether `obj` is ready by `expr`: true only when it evaluates to true; the message says why not. */
export function evaluateReadyWhen(expr: string, obj: KubeObject): { ready: boolean; message?: string } {
  const c = compileReadyWhen(expr);
  if ('error' in c) return { ready: false, message: `readyWhen does not compile: ${c.error}` };
  let v: unknown;
  try {
    v = c.program({ self: toCel(obj) });
  } catch (err) {
    return { ready: false, message: `not ready (readyWhen: ${firstLine(err)})` };
  }
  if (v === true) return { ready: true };
  if (v === false) return { ready: false, message: 'not ready' };
  return { ready: false, message: `not ready (readyWhen gave ${typeof v}, not a bool)` };
}

/** Problems of a Package spec's health checks that admission can find offline (`idpbuilder validate`): compile errors. */
export function healthCheckProblems(spec: unknown): { path: string; message: string }[] {
  const checks = (spec as { healthChecks?: unknown } | undefined)?.healthChecks;
  if (!Array.isArray(checks)) return [];
  const out: { path: string; message: string }[] = [];
  checks.forEach((h, i) => {
    const expr = (h as { readyWhen?: unknown } | null)?.readyWhen;
    if (typeof expr !== 'string') return;
    const problem = readyWhenProblem(expr);
    if (problem) out.push({ path: `.spec.healthChecks[${i}].readyWhen`, message: problem });
  });
  return out;
}
