/** `idpbuilder render`: the offline main job (like `helm template` or `crossplane render`). */
import { parseAllDocuments } from 'yaml';
import type { KubeObject } from '../metacontroller/protocol.js';
import { controllers, decorators } from '../controllers/registry.js';
import { DEFAULT_PLATFORM_YAML } from '../render/default-platform.js';
import { redactSecrets, render, RenderInputError, RENDER_EPOCH } from '../render/render.js';
import { loadDocuments } from './load.js';
import { toYaml } from '../codegen/generated.js';

/**
 * Options of `idpbuilder render`: input files or directories (none: the default platform), `--recursive`,
 * `--assume-ready`, observed objects, output format (yaml or json), whether Secret data is shown, and the clock (an
 * RFC 3339 time).
 */
export interface RenderCliOptions {
  filename: string[];
  recursive: boolean;
  assumeReady: boolean;
  /** Files or directories of observed objects, status included (`render --observed`); read with `recursive` too. */
  observed?: string[];
  output: 'yaml' | 'json';
  showSecrets: boolean;
  now?: string;
}

/** What `idpbuilder render` prints and exits with: exit code, stdout and stderr. */
export interface RenderCliResult {
  code: number;
  stdout: string;
  stderr: string;
}

function clean(o: KubeObject): KubeObject {
  const { uid: _uid, generation: _generation, ...metadata } = o.metadata as Record<string, unknown>;
  return { ...o, metadata } as KubeObject;
}

/**
 * `idpbuilder render` without I/O besides reading the input files: loads the inputs (or the default platform),
 * renders them (render()) and formats the objects; input errors come back as exit code 1 with stderr, not as
 * exceptions.
 * @throws whatever render() throws other than RenderInputError (a fault of the hooks, not of the input).
 */
export function runRender(o: RenderCliOptions): RenderCliResult {
  let inputs: KubeObject[];
  let stderr = '';
  if (o.filename.length) {
    const docs = loadDocuments(o.filename, o.recursive);
    const bad = docs.filter((d) => d.error);
    if (bad.length) return { code: 1, stdout: '', stderr: bad.map((d) => `${d.file}#${d.doc}: ${d.error}\n`).join('') };
    inputs = docs.map((d) => d.object as KubeObject);
  } else {
    inputs = parseAllDocuments(DEFAULT_PLATFORM_YAML).map((d) => d.toJS() as KubeObject);
  }
  let observed: KubeObject[] = [];
  if (o.observed?.length) {
    const docs = loadDocuments(o.observed, o.recursive);
    const bad = docs.filter((d) => d.error);
    if (bad.length) return { code: 1, stdout: '', stderr: bad.map((d) => `${d.file}#${d.doc}: ${d.error}\n`).join('') };
    observed = docs.map((d) => d.object as KubeObject);
  }
  const now = o.now ? new Date(o.now) : RENDER_EPOCH;
  if (Number.isNaN(now.getTime())) return { code: 2, stdout: '', stderr: `--now: not a date: ${o.now}\n` };
  let result;
  try {
    result = render(inputs, controllers(), { assumeReady: o.assumeReady, observed, now, decorators: decorators() });
  } catch (e) {
    if (e instanceof RenderInputError) {
      return { code: 1, stdout: '', stderr: e.problems.map((p) => `${p.object}: ${p.problem.path}: ${p.problem.message}\n`).join('') };
    }
    throw e;
  }
  for (const w of result.warnings) stderr += `warning: ${w}\n`;
  const objects = (o.showSecrets ? result.objects : redactSecrets(result.objects)).map(clean);
  const stdout =
    o.output === 'json'
      ? `${JSON.stringify({ apiVersion: 'v1', kind: 'List', metadata: {}, items: objects }, null, 2)}\n`
      : objects.map((x) => toYaml(x)).join('---\n');
  return { code: result.converged ? 0 : 1, stdout, stderr };
}

