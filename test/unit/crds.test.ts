import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { KINDS } from '../../src/api/kinds.js';
import { generatedFiles } from '../../src/codegen/generated.js';
import { ROOT } from '../support/examples.js';

type Node = Record<string, any>;

/** The structural-schema rules the API server enforces that a generator can get wrong. */
function structuralProblems(node: Node, path: string): string[] {
  const out: string[] = [];
  const special = node['x-kubernetes-int-or-string'] || node['x-kubernetes-preserve-unknown-fields'];
  if (!node.type && !special) out.push(`${path}: no type`);
  if (node.additionalProperties === false) out.push(`${path}: additionalProperties false`);
  if (node.properties && node.additionalProperties) out.push(`${path}: properties and additionalProperties`);
  if (node.patternProperties) out.push(`${path}: patternProperties`);
  for (const [k, v] of Object.entries(node.properties ?? {})) out.push(...structuralProblems(v as Node, `${path}.${k}`));
  if (node.items) out.push(...structuralProblems(node.items, `${path}[]`));
  if (typeof node.additionalProperties === 'object') out.push(...structuralProblems(node.additionalProperties, `${path}{}`));
  return out;
}

/**
 * Paths of properties without a description (what `kubectl explain` would show empty). Walks properties,
 * array items and map values; skips `metadata` (the API server documents it) and the inside of free-form
 * objects (`x-kubernetes-preserve-unknown-fields`: chart values, kept as written).
 */
function undescribed(node: Node, path: string): string[] {
  const out: string[] = [];
  if (node['x-kubernetes-preserve-unknown-fields']) return out;
  for (const [k, v] of Object.entries(node.properties ?? {})) {
    if (path === '' && k === 'metadata') continue;
    const child = v as Node;
    const p = path ? `${path}.${k}` : k;
    if (typeof child.description !== 'string' || child.description.trim() === '') out.push(p);
    out.push(...undescribed(child, p));
  }
  if (node.items) out.push(...undescribed(node.items, `${path}[]`));
  if (typeof node.additionalProperties === 'object') out.push(...undescribed(node.additionalProperties, `${path}{}`));
  return out;
}

const crds = KINDS.map((k) => parse(readFileSync(join(ROOT, 'crds', `idpbuilder.cnoe.io_${k.plural}.yaml`), 'utf8')) as Node);

describe('generated CRDs', () => {
  it('are up to date on disk (npm run crds)', () => {
    for (const [rel, content] of Object.entries(generatedFiles())) expect(readFileSync(join(ROOT, rel), 'utf8'), rel).toBe(content);
  });

  it('one per kind, each serving v1alpha1 and v1alpha2 with v1alpha2 stored', () => {
    expect(crds).toHaveLength(12);
    for (const crd of crds) {
      expect(crd.spec.group).toBe('idpbuilder.cnoe.io');
      expect(crd.spec.scope).toBe('Namespaced');
      expect(crd.spec.versions.map((v: Node) => [v.name, v.served, v.storage])).toEqual([
        ['v1alpha1', true, false],
        ['v1alpha2', true, true],
      ]);
    }
  });

  it('have the status subresource, printer columns, short names and the idpbuilder category', () => {
    for (const crd of crds) {
      const kind = crd.spec.names.kind;
      expect(crd.spec.names.categories).toEqual(['idpbuilder']);
      expect(crd.spec.names.shortNames.length).toBeGreaterThan(0);
      if (kind === 'ReferenceGrant') {
        // read by other controllers only: no status, no status subresource, no Ready/Phase columns
        for (const v of crd.spec.versions) {
          expect(v).not.toHaveProperty('subresources');
          expect(v.schema.openAPIV3Schema.properties).not.toHaveProperty('status');
          expect(v.additionalPrinterColumns.map((c: Node) => c.name)).toEqual(['Age']);
        }
        continue;
      }
      for (const v of crd.spec.versions) {
        expect(v.subresources).toEqual({ status: {} });
        const cols = v.additionalPrinterColumns.map((c: Node) => c.name);
        expect(cols[0]).toBe('Ready');
        expect(cols).toContain('Phase');
        expect(cols.slice(-3)).toEqual(['Age', 'Reason', 'Message']);
        if (/Provider$|Gateway$/.test(kind)) expect(cols, kind).toContain('Endpoint');
      }
    }
    const shortNames = crds.flatMap((c) => c.spec.names.shortNames);
    expect(new Set(shortNames).size).toBe(shortNames.length);
  });

  it('have structural schemas and keep the CEL rules', () => {
    for (const crd of crds) {
      const schema = crd.spec.versions[1].schema.openAPIV3Schema;
      expect(structuralProblems(schema, crd.spec.names.kind)).toEqual([]);
    }
    const github = crds.find((c) => c.spec.names.kind === 'GitHubProvider')!;
    const rules = github.spec.versions[1].schema.openAPIV3Schema.properties.spec['x-kubernetes-validations'].map((r: Node) => r.message);
    expect(rules).toContain('authType app requires appAuth');
    // Secret references may not name a namespace (CRD rules cannot read metadata.namespace)
    const ref = github.spec.versions[1].schema.openAPIV3Schema.properties.spec.properties.credentialsSecretRef;
    expect(ref['x-kubernetes-validations']).toEqual([expect.objectContaining({ rule: '!has(self.__namespace__)', fieldPath: '.namespace', reason: 'FieldValueForbidden' })]);
  });

  it('describe every field of both served versions for kubectl explain', () => {
    for (const crd of crds) {
      for (const v of crd.spec.versions) {
        const schema = v.schema.openAPIV3Schema;
        const where = `${crd.spec.names.kind} ${v.name}`;
        expect(schema.description, where).toMatch(/\S/);
        expect(undescribed(schema, ''), where).toEqual([]);
      }
    }
  });

  it('finds an undescribed field (the walker itself)', () => {
    const schema = {
      type: 'object',
      properties: {
        metadata: { type: 'object' },
        spec: {
          type: 'object',
          description: 'd',
          properties: {
            a: { type: 'string', description: ' ' },
            list: { type: 'array', description: 'd', items: { type: 'object', properties: { b: { type: 'string' } } } },
            map: { type: 'object', description: 'd', additionalProperties: { type: 'object', properties: { c: { type: 'integer' } } } },
            values: { type: 'object', description: 'd', 'x-kubernetes-preserve-unknown-fields': true, properties: { free: { type: 'string' } } },
          },
        },
      },
    };
    expect(undescribed(schema, '')).toEqual(['spec.a', 'spec.list[].b', 'spec.map{}.c']);
  });

  const columns = (kind: string): Node[] => crds.find((c) => c.spec.names.kind === kind)!.spec.versions[1].additionalPrinterColumns;
  const brief = (kind: string) => columns(kind).map((c) => [c.name, c.jsonPath, c.priority ?? 0]);

  it("show the Ready condition's reason and message in -o wide only (priority 1), on every kind with status", () => {
    for (const crd of crds) {
      if (crd.spec.names.kind === 'ReferenceGrant') continue;
      for (const v of crd.spec.versions) {
        const byName = new Map((v.additionalPrinterColumns as Node[]).map((c) => [c.name, c]));
        expect(byName.get('Reason')).toEqual({ name: 'Reason', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].reason', priority: 1 });
        expect(byName.get('Message')).toEqual({ name: 'Message', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].message', priority: 1 });
        // everything else is in the default view
        expect((v.additionalPrinterColumns as Node[]).filter((c) => c.priority && !['Reason', 'Message', 'Application', 'Clusters'].includes(c.name))).toEqual([]);
      }
    }
  });

  it('show the field users look for per kind', () => {
    const ready = ['Ready', '.status.conditions[?(@.type=="Ready")].status', 0];
    const phase = ['Phase', '.status.phase', 0];
    const age = ['Age', '.metadata.creationTimestamp', 0];
    const wide = [
      ['Reason', '.status.conditions[?(@.type=="Ready")].reason', 1],
      ['Message', '.status.conditions[?(@.type=="Ready")].message', 1],
    ];
    expect(brief('Platform')).toEqual([ready, phase, ['Domain', '.spec.domain', 0], ['Clusters', '.status.clusters[*].name', 1], age, ...wide]);
    expect(brief('Package')).toEqual([
      ready,
      phase,
      ['Sync', '.status.argoApplication.syncStatus', 0],
      ['Health', '.status.argoApplication.healthStatus', 0],
      ['Application', '.status.argoApplication.name', 1],
      age,
      ...wide,
    ]);
    expect(brief('GitRepository')).toEqual([ready, phase, ['URL', '.status.url', 0], ['Commit', '.status.commitSHA', 0], age, ...wide]);
    for (const kind of ['GiteaProvider', 'ArgoCDProvider', 'FluxProvider']) {
      expect(brief(kind), kind).toEqual([ready, phase, ['Endpoint', '.status.endpoint', 0], ['Version', '.status.version', 0], age, ...wide]);
    }
    for (const kind of ['NginxGateway', 'EnvoyGateway', 'IstioGateway']) {
      expect(brief(kind), kind).toEqual([ready, phase, ['Endpoint', '.status.loadBalancerEndpoint', 0], ['Version', '.status.version', 0], age, ...wide]);
    }
    // nothing installed, so no version: the endpoint is the organization / group page
    for (const kind of ['GitHubProvider', 'GitLabProvider']) {
      expect(brief(kind), kind).toEqual([ready, phase, ['Endpoint', '.status.endpoint', 0], age, ...wide]);
    }
    expect(brief('ReferenceGrant')).toEqual([age]);
  });

  it('point every column at a field the schema has', () => {
    for (const crd of crds) {
      const schema = crd.spec.versions[1].schema.openAPIV3Schema;
      for (const col of crd.spec.versions[1].additionalPrinterColumns as Node[]) {
        if (col.jsonPath.startsWith('.metadata.')) continue;
        let node: Node = schema;
        for (const part of col.jsonPath.replace(/\[\?\(@\.type=="Ready"\)\]/, '[]').replace('[*]', '[]').slice(1).split('.')) {
          const [name, list] = [part.replace('[]', ''), part.endsWith('[]')];
          node = node.properties?.[name];
          expect(node, `${crd.spec.names.kind} ${col.name}: ${col.jsonPath}`).toBeDefined();
          if (list) node = node.items;
        }
        expect(node.type, `${crd.spec.names.kind} ${col.name}`).toBe('string');
      }
    }
  });
});

