/**
 * Offline admission: what the API server would say about one of our objects. OpenAPI checks (types,
 * enums, patterns, required fields, unknown fields as with strict field validation) run through Ajv;
 * `x-kubernetes-validations` CEL rules run through cel-js; list-type=map keys must be unique. With
 * `applyDefaults` the object also gets the schema defaults, as the API server would store it.
 */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { parse as parseCel } from '@marcbachmann/cel-js';
import type { TSchema } from '@sinclair/typebox';
import { KIND_BY_NAME, isOurApiVersion, objectSchema, type KindDef } from './kinds.js';
import type { CelRule } from './schema.js';
import { toCel } from './cel.js';
import { healthCheckProblems } from './ready-when.js';

/**
 * One reason an object is refused by the offline admission check, in kubectl's words: the JSON path of the field and
 * the message.
 */
export interface Problem {
  /** JSON path in kubectl's style: `.spec.components.gateways[0].kind` */
  path: string;
  message: string;
}

/**
 * What the offline admission check (`admit`) says of one object: `skipped` (not an idpbuilder kind or version; with
 * the reason), `invalid` (the kind and every problem) or `valid` (the kind and the object with defaults applied).
 */
export type AdmitResult =
  | { outcome: 'skipped'; reason: string }
  | { outcome: 'invalid'; kind: string; problems: Problem[] }
  | { outcome: 'valid'; kind: string; object: Record<string, unknown> };

const K8S_KEYWORDS = [
  'x-kubernetes-validations',
  'x-kubernetes-preserve-unknown-fields',
  'x-kubernetes-int-or-string',
  'x-kubernetes-list-type',
  'x-kubernetes-list-map-keys',
  'x-kubernetes-embedded-resource',
];

const DATE_TIME = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

/**
 * An Ajv instance that understands the Kubernetes schema extensions (all errors unless told otherwise).
 * `removeAdditional` drops properties a closed object (`additionalProperties: false`) does not name,
 * `verbose` puts the failing schema and value on each error, `discriminator` enables the `discriminator`
 * keyword (one `oneOf` branch chosen by a tag property): all off unless told.
 */
export function newAjv(options: { useDefaults?: boolean; allErrors?: boolean; removeAdditional?: boolean; verbose?: boolean; discriminator?: boolean } = {}): Ajv {
  const ajv = new Ajv({
    allErrors: options.allErrors ?? true,
    strict: false,
    useDefaults: options.useDefaults ?? false,
    coerceTypes: false,
    removeAdditional: options.removeAdditional ?? false,
    verbose: options.verbose ?? false,
    discriminator: options.discriminator ?? false,
  });
  ajv.addVocabulary(K8S_KEYWORDS);
  ajv.addFormat('date-time', DATE_TIME);
  return ajv;
}

/**
 * An Ajv `instancePath` (a JSON Pointer, RFC 6901: `/spec/items/0/a~1b`) as a path the way messages show it:
 * `.spec.items[0]["a/b"]`. A segment matching `name` is written `.seg` (default: letters, digits and `_`, not
 * starting with a digit); an all-digit one `[n]` when `index` (default true), else `["n"]`; any other
 * `["…"]` (JSON-quoted). The empty pointer (the root) is `''`. Never throws.
 */
export function pointerPath(instancePath: string, opts: { name?: RegExp; index?: boolean } = {}): string {
  const name = opts.name ?? /^[A-Za-z_][A-Za-z0-9_]*$/;
  const index = opts.index ?? true;
  return instancePath
    .split('/')
    .slice(1)
    .map((seg) => seg.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((seg) => (index && /^\d+$/.test(seg) ? `[${seg}]` : name.test(seg) ? `.${seg}` : `[${JSON.stringify(seg)}]`))
    .join('');
}

/** The admission's path: Kubernetes field names may hold `-`; the root is `.`. */
function toPath(instancePath: string): string {
  return instancePath ? pointerPath(instancePath, { name: /^[A-Za-z_][A-Za-z0-9_-]*$/ }) : '.';
}

function describe(e: ErrorObject): Problem {
  const path = toPath(e.instancePath);
  const join = (p: string, field: string) => (p === '.' ? `.${field}` : `${p}.${field}`);
  switch (e.keyword) {
    case 'additionalProperties':
      return { path: join(path, String(e.params.additionalProperty)), message: 'unknown field' };
    case 'required':
      return { path: join(path, String(e.params.missingProperty)), message: 'Required value' };
    case 'enum':
      return { path, message: `Unsupported value: supported values: ${(e.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}` };
    case 'const':
      return { path, message: `must be ${JSON.stringify(e.params.allowedValue)}` };
    case 'pattern':
      return { path, message: `Invalid value: should match '${e.params.pattern}'` };
    default:
      return { path, message: e.message ?? e.keyword };
  }
}

export { toCel } from './cel.js';

const programs = new Map<string, (ctx: Record<string, unknown>) => unknown>();

/** A CEL rule compiled once and reused (the rules are the CRDs' fixed set). */
export function celProgram(rule: string): (ctx: Record<string, unknown>) => unknown {
  let p = programs.get(rule);
  if (!p) {
    p = parseCel(rule) as unknown as (ctx: Record<string, unknown>) => unknown;
    programs.set(rule, p);
  }
  return p;
}

/** The parts of a schema the rule walkers read. */
export type SchemaNode = {
  properties?: Record<string, SchemaNode>;
  items?: SchemaNode;
  additionalProperties?: SchemaNode | boolean;
  'x-kubernetes-validations'?: CelRule[];
  'x-kubernetes-list-type'?: string;
  'x-kubernetes-list-map-keys'?: string[];
};

/** Runs CEL rules and list-map uniqueness over `value`, walking its schema. Skips subtrees with schema errors. */
function checkRules(schema: TSchema, value: unknown, basePath: string, hasSchemaError: (path: string) => boolean): Problem[] {
  const problems: Problem[] = [];
  const visit = (node: SchemaNode | undefined, v: unknown, path: string): void => {
    if (!node || v === undefined || v === null) return;
    if (hasSchemaError(path)) return;
    for (const rule of node['x-kubernetes-validations'] ?? []) {
      let ok: unknown;
      try {
        ok = celProgram(rule.rule)({ self: toCel(v) });
      } catch (err) {
        problems.push({ path, message: `rule ${JSON.stringify(rule.rule)} could not be evaluated: ${(err as Error).message}` });
        continue;
      }
      if (ok !== true) problems.push({ path: rule.fieldPath ? `${path === '.' ? '' : path}${rule.fieldPath}` : path, message: rule.message });
    }
    if (Array.isArray(v)) {
      const keys = node['x-kubernetes-list-map-keys'];
      if (node['x-kubernetes-list-type'] === 'map' && keys) {
        const seen = new Set<string>();
        v.forEach((item, i) => {
          const key = JSON.stringify(keys.map((k) => (item as Record<string, unknown>)?.[k]));
          if (seen.has(key)) problems.push({ path: `${path}[${i}]`, message: `Duplicate value: ${key}` });
          seen.add(key);
        });
      }
      v.forEach((item, i) => visit(node.items, item, `${path}[${i}]`));
      return;
    }
    if (typeof v === 'object') {
      for (const [k, child] of Object.entries(v as Record<string, unknown>)) {
        const sub = node.properties?.[k] ?? (typeof node.additionalProperties === 'object' ? node.additionalProperties : undefined);
        visit(sub, child, path === '.' ? `.${k}` : `${path}.${k}`);
      }
    }
  };
  visit(schema as SchemaNode, value, basePath);
  return problems;
}

/**
 * Compiled validators per kind, shared by every Admission with the same `applyDefaults` (false, true) for
 * the life of the process: compiling a kind's schema costs tens of ms, validating an object microseconds,
 * and `render` makes a new Admission per call. The schemas are the kinds' fixed set, so at most 2 × kinds
 * entries; a ValidateFunction keeps no state between calls but its last `errors`, read right after the call.
 */
const SHARED = new Map<boolean, { ajv: Ajv; validators: Map<string, ValidateFunction> }>();

/** Validates (and optionally defaults) objects of our kinds. Compiled validators are shared (see SHARED). */
export class Admission {
  private readonly ajv: Ajv;
  private readonly validators: Map<string, ValidateFunction>;

  constructor(private readonly options: { applyDefaults?: boolean } = {}) {
    const useDefaults = options.applyDefaults === true;
    let shared = SHARED.get(useDefaults);
    if (!shared) {
      shared = { ajv: newAjv({ useDefaults }), validators: new Map() };
      SHARED.set(useDefaults, shared);
    }
    this.ajv = shared.ajv;
    this.validators = shared.validators;
  }

  private validator(def: KindDef): ValidateFunction {
    let v = this.validators.get(def.kind);
    if (!v) {
      v = this.ajv.compile(objectSchema(def));
      this.validators.set(def.kind, v);
    }
    return v;
  }

  admit(input: unknown): AdmitResult {
    const obj = input as Record<string, unknown> | null;
    if (!obj || typeof obj !== 'object' || Array.isArray(obj)) return { outcome: 'invalid', kind: '?', problems: [{ path: '.', message: 'not an object' }] };
    const kind = typeof obj.kind === 'string' ? obj.kind : '';
    if (!isOurApiVersion(obj.apiVersion)) return { outcome: 'skipped', reason: `${String(obj.apiVersion ?? '?')} ${kind || '?'} is not an idpbuilder kind` };
    const def = KIND_BY_NAME.get(kind);
    if (!def) return { outcome: 'invalid', kind: kind || '?', problems: [{ path: '.kind', message: `unknown kind ${JSON.stringify(kind)} in ${String(obj.apiVersion)}` }] };
    const object = this.options.applyDefaults ? (structuredClone(obj) as Record<string, unknown>) : obj;
    const validate = this.validator(def);
    const ok = validate(object);
    const schemaProblems = ok ? [] : (validate.errors ?? []).map(describe);
    const errorPaths = schemaProblems.map((p) => p.path);
    const hasSchemaError = (path: string) => errorPaths.some((p) => p === path || p.startsWith(`${path}.`) || p.startsWith(`${path}[`));
    const ruleProblems = [
      ...checkRules(def.spec, object.spec, '.spec', hasSchemaError),
      // what no CRD rule can check: a Package readiness expression must compile
      ...(def.kind === 'Package' && !hasSchemaError('.spec.healthChecks') ? healthCheckProblems(object.spec) : []),
      ...(def.status ? checkRules(def.status, object.status, '.status', hasSchemaError) : []),
    ];
    const problems = dedupe([...schemaProblems, ...ruleProblems]);
    if (problems.length) return { outcome: 'invalid', kind: def.kind, problems };
    return { outcome: 'valid', kind: def.kind, object };
  }
}

function dedupe(problems: Problem[]): Problem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const key = `${p.path}\u0000${p.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
