// Helpers shared by the cluster test files: the control plane started by global-setup.ts,
// reading the repository's CRDs and examples at test time, and installing what tests need.

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inject } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { connect, type CommandResult } from './harness.js';

declare module 'vitest' {
  export interface ProvidedContext {
    kubeconfig: string;
    binDir: string;
    server: string;
  }
}

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const IDP_GROUP = 'idpbuilder.cnoe.io';

/** Client for the control plane of this test run. */
export function cluster(): ReturnType<typeof connect> {
  return connect(inject('kubeconfig'), inject('binDir'));
}

/** Directories under test; overridable so a broken copy can be tested without touching the repo. */
export const crdsDir = (): string => process.env.IDPBUILDER_CRDS_DIR ?? join(repoRoot, 'crds');
export const examplesDir = (): string => process.env.IDPBUILDER_EXAMPLES_DIR ?? join(repoRoot, 'examples');
export const thirdPartyCrdsDir = join(repoRoot, 'test', 'cluster', 'third-party-crds');

/** Sorted *.yaml / *.yml files directly in dir; [] when dir does not exist. */
export function yamlFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isFile() && /\.ya?ml$/.test(entry.name))
    .map((entry) => join(dir, entry.name))
    .sort();
}

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name?: string; namespace?: string; generation?: number; [key: string]: unknown };
  [key: string]: unknown;
}

/** Every non-empty document of a YAML stream; throws on YAML syntax errors. */
export function parseObjects(text: string, source = 'input'): KubeObject[] {
  const objects: KubeObject[] = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length > 0) throw new Error(`${source}: ${doc.errors.map((e) => e.message).join('; ')}`);
    const value: unknown = doc.toJS();
    if (value === null || value === undefined) continue;
    if (typeof value !== 'object' || Array.isArray(value)) throw new Error(`${source}: a document is not an object`);
    const object = value as KubeObject;
    object.metadata ??= {};
    objects.push(object);
  }
  return objects;
}

export function readObjects(file: string): KubeObject[] {
  return parseObjects(readFileSync(file, 'utf8'), file);
}

export const groupOf = (apiVersion: string): string => (apiVersion.includes('/') ? apiVersion.split('/')[0]! : '');
export const versionOf = (apiVersion: string): string => apiVersion.split('/').pop()!;

/** Namespaces the objects live in, plus the Namespace objects among them. */
export function namespacesOf(objects: KubeObject[]): string[] {
  const names = new Set<string>();
  for (const object of objects) {
    if (object.metadata.namespace) names.add(object.metadata.namespace);
  }
  return [...names].sort();
}

/** Throws with kubectl's output unless the command succeeded. */
export function expectSuccess(result: CommandResult, what: string): CommandResult {
  if (result.code !== 0) {
    throw new Error(`${what} failed (exit ${result.code}):\n${result.stderr}${result.stdout}`);
  }
  return result;
}

type Client = ReturnType<typeof connect>;

/** Creates the namespaces (idempotent). */
export async function ensureNamespaces(kube: Client, names: Iterable<string>): Promise<void> {
  const wanted = [...new Set(names)].filter((n) => n !== 'default');
  if (wanted.length === 0) return;
  const manifest = wanted.map((name) => `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ${name}\n`).join('---\n');
  expectSuccess(
    await kube.kubectl(['apply', '--server-side', '--field-manager=idpbuilder-tests', '-f', '-'], manifest),
    `creating namespaces ${wanted.join(', ')}`,
  );
}

/** Names of the CustomResourceDefinitions in a file. */
export function crdNames(file: string): string[] {
  return readObjects(file)
    .filter((o) => o.kind === 'CustomResourceDefinition')
    .map((o) => o.metadata.name)
    .filter((name): name is string => Boolean(name));
}

/** Applies CRD files server-side and waits until every CRD in them is Established. */
export async function installCrdFiles(kube: Client, files: string[]): Promise<void> {
  if (files.length === 0) return;
  const args = ['apply', '--server-side', '--force-conflicts', '--field-manager=idpbuilder-tests'];
  for (const file of files) args.push('-f', file);
  expectSuccess(await kube.kubectl(args), `kubectl apply of ${files.join(', ')}`);
  const names = files.flatMap(crdNames);
  if (names.length === 0) return;
  expectSuccess(
    await kube.kubectl(['wait', '--for', 'condition=established', '--timeout=60s', ...names.map((n) => `crd/${n}`)]),
    `waiting for CRDs ${names.join(', ')}`,
  );
}

/**
 * Installs the project's CRDs file by file, tolerating files the server rejects (crds.test.ts
 * reports those), so tests of the other kinds still run. Returns the rejected files' errors.
 */
export async function installProjectCrds(kube: Client): Promise<string[]> {
  const errors: string[] = [];
  for (const file of yamlFiles(crdsDir())) {
    try {
      await installCrdFiles(kube, [file]);
    } catch (error) {
      errors.push(error instanceof Error ? error.message : String(error));
    }
  }
  if (errors.length > 0) {
    process.stderr.write(`warning: ${errors.length} CRD file(s) in ${crdsDir()} were rejected; see crds.test.ts\n`);
  }
  return errors;
}
export const installThirdPartyCrds = (kube: Client): Promise<void> =>
  installCrdFiles(kube, yamlFiles(thirdPartyCrdsDir));

export interface ProjectKind {
  group: string;
  plural: string;
  namespaced: boolean;
  /** Served versions. */
  versions: string[];
  /** The enum of status.phase in the storage version's schema, if it has one. */
  phaseEnum?: string[];
  /** Whether the storage version has the status subresource (kinds without status, e.g. ReferenceGrant, have none). */
  statusSubresource: boolean;
}

interface CrdSchemaNode {
  properties?: Record<string, CrdSchemaNode>;
  enum?: unknown[];
}

/** group/kind -> what the tests need to know, from the project's CRDs. */
export function projectKinds(): Map<string, ProjectKind> {
  const kinds = new Map<string, ProjectKind>();
  for (const file of yamlFiles(crdsDir())) {
    for (const crd of readObjects(file)) {
      if (crd.kind !== 'CustomResourceDefinition') continue;
      const spec = crd.spec as {
        group: string;
        scope: string;
        names: { kind: string; plural: string };
        versions?: { name: string; served?: boolean; storage?: boolean; schema?: { openAPIV3Schema?: CrdSchemaNode }; subresources?: { status?: unknown } }[];
      };
      const versions = spec.versions ?? [];
      const storage = versions.find((v) => v.storage) ?? versions[0];
      const phase = storage?.schema?.openAPIV3Schema?.properties?.status?.properties?.phase;
      const info: ProjectKind = {
        group: spec.group,
        plural: spec.names.plural,
        namespaced: spec.scope === 'Namespaced',
        versions: versions.filter((v) => v.served !== false).map((v) => v.name),
        statusSubresource: !!storage?.subresources?.status,
      };
      if (phase?.enum) info.phaseEnum = phase.enum.map(String);
      kinds.set(`${spec.group}/${spec.names.kind}`, info);
    }
  }
  return kinds;
}
