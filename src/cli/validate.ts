/** `idpbuilder validate`: offline admission of our objects, one line per problem. */
import { Admission } from '../api/validate.js';
import { loadDocuments } from './load.js';

/**
 * What `idpbuilder validate` found: one line per problem (`file#doc: Kind/name: path: message`) and the counts of
 * valid, invalid and skipped documents.
 */
export interface ValidateReport {
  lines: string[];
  valid: number;
  invalid: number;
  skipped: number;
}

function label(obj: Record<string, unknown> | undefined): string {
  const kind = typeof obj?.kind === 'string' ? obj.kind : '?';
  const md = obj?.metadata as Record<string, unknown> | undefined;
  const name = typeof md?.name === 'string' ? md.name : '?';
  return `${kind}/${name}`;
}

/**
 * Offline admission (CRD schemas and CEL rules) of every document in `paths` (see loadDocuments); documents that are
 * not idpbuilder objects are skipped.
 */
export function validatePaths(paths: string[], recursive = false): ValidateReport {
  const admission = new Admission();
  const report: ValidateReport = { lines: [], valid: 0, invalid: 0, skipped: 0 };
  for (const d of loadDocuments(paths, recursive)) {
    const where = `${d.file}#${d.doc}`;
    if (d.error) {
      report.invalid += 1;
      report.lines.push(`${where}: ${label(d.object)}: .: ${d.error}`);
      continue;
    }
    const result = admission.admit(d.object);
    if (result.outcome === 'skipped') {
      report.skipped += 1;
      report.lines.push(`${where}: ${label(d.object)}: skipped: ${result.reason}`);
    } else if (result.outcome === 'invalid') {
      report.invalid += 1;
      for (const p of result.problems) report.lines.push(`${where}: ${label(d.object)}: ${p.path}: ${p.message}`);
    } else report.valid += 1;
  }
  return report;
}
