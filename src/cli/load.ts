/** Reads Kubernetes objects from YAML/JSON files and directories (multi-document), in a stable order. */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';

/** One YAML/JSON document read from a file: the file, its 1-based position in it, and the object or the parse error. */
export interface LoadedDocument {
  file: string;
  /** 1-based position of the document in its file. */
  doc: number;
  object?: Record<string, unknown>;
  error?: string;
}

const MANIFEST = /\.(ya?ml|json)$/i;

function listFiles(path: string, recursive: boolean): string[] {
  const st = statSync(path);
  if (!st.isDirectory()) return [path];
  const out: string[] = [];
  for (const entry of readdirSync(path).sort()) {
    const full = join(path, entry);
    const s = statSync(full);
    if (s.isDirectory()) {
      if (recursive) out.push(...listFiles(full, true));
    } else if (MANIFEST.test(entry)) out.push(full);
  }
  return out;
}

/** Parses one file's text; `List` objects are expanded into their items. */
function parseDocuments(file: string, text: string): LoadedDocument[] {
  const out: LoadedDocument[] = [];
  let n = 0;
  for (const doc of parseAllDocuments(text)) {
    if (doc.contents === null && doc.errors.length === 0) continue; // empty document (e.g. trailing ---)
    n += 1;
    if (doc.errors.length) {
      out.push({ file, doc: n, error: `YAML: ${doc.errors[0].message.split('\n')[0]}` });
      continue;
    }
    const value = doc.toJS({ maxAliasCount: 100 }) as unknown;
    if (value === null || value === undefined) continue;
    if (typeof value !== 'object' || Array.isArray(value)) {
      out.push({ file, doc: n, error: 'not a Kubernetes object (expected a mapping)' });
      continue;
    }
    const obj = value as Record<string, unknown>;
    if (obj.kind === 'List' && Array.isArray(obj.items)) {
      for (const item of obj.items) out.push({ file, doc: n, object: item as Record<string, unknown> });
    } else out.push({ file, doc: n, object: obj });
  }
  return out;
}

/**
 * Every document of the given files and directories (`.yaml`, `.yml`, `.json`; subdirectories only with `recursive`),
 * files in sorted order, `List` objects expanded. A document that does not parse is returned with its `error`; throws
 * only when a path cannot be read.
 */
export function loadDocuments(paths: string[], recursive = false): LoadedDocument[] {
  return paths.flatMap((p) => listFiles(p, recursive)).flatMap((f) => parseDocuments(f, readFileSync(f, 'utf8')));
}
