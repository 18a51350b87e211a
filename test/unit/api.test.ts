import { describe, expect, it } from 'vitest';
import { Admission } from '../../src/api/validate.js';
import { KINDS } from '../../src/api/kinds.js';
import { loadDocuments } from '../../src/cli/load.js';
import { exampleFiles, invalidExamples } from '../support/examples.js';

const admission = new Admission();

function problemsOf(obj: unknown): string[] {
  const r = admission.admit(obj);
  return r.outcome === 'invalid' ? r.problems.map((p) => `${p.path}: ${p.message}`) : [];
}

const gitea = (spec: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  apiVersion: 'idpbuilder.cnoe.io/v1alpha2',
  kind: 'GiteaProvider',
  metadata: { name: 'gitea', namespace: 'idpbuilder-system' },
  spec,
  ...extra,
});

describe('examples', () => {
  for (const file of exampleFiles()) {
    it(`${file.split('/').pop()} is valid`, () => {
      const docs = loadDocuments([file]);
      expect(docs.length).toBeGreaterThan(0);
      for (const d of docs) expect(problemsOf(d.object), `${d.file}#${d.doc}`).toEqual([]);
    });
  }
  it('cover every kind', () => {
    const kinds = new Set(exampleFiles().flatMap((f) => loadDocuments([f]).map((d) => d.object?.kind)));
    expect([...kinds].sort()).toEqual(KINDS.map((k) => k.kind).sort());
  });
  for (const { file, expect: texts } of invalidExamples()) {
    it(`invalid/${file.split('/').pop()} is rejected naming ${texts[0]}`, () => {
      expect(texts.length).toBeGreaterThan(0);
      const problems = loadDocuments([file]).flatMap((d) => problemsOf(d.object));
      expect(problems.length).toBeGreaterThan(0);
      for (const t of texts) expect(problems.join('\n')).toContain(t);
    });
  }
});

describe('schemas', () => {
  it('accept a minimal provider and reject unknown fields, bad enums, bad patterns', () => {
    expect(problemsOf(gitea({}))).toEqual([]);
    expect(problemsOf(gitea({ colour: 'blue' }))).toEqual(['.spec.colour: unknown field']);
    expect(problemsOf(gitea({ deletionPolicy: 'Orphan' }))).toEqual(['.spec.deletionPolicy: Unsupported value: supported values: "Delete", "Retain"']);
    expect(problemsOf(gitea({ namespace: 'Not_A_Namespace' }))[0]).toMatch(/^\.spec\.namespace: Invalid value/);
  });

  it('require spec and check metadata names', () => {
    expect(problemsOf({ apiVersion: 'idpbuilder.cnoe.io/v1alpha1', kind: 'Package', metadata: { name: 'x' } })).toEqual(['.spec: Required value']);
    expect(problemsOf(gitea({}, { metadata: { name: 'UPPER' } }))[0]).toMatch(/^\.metadata\.name: Invalid value/);
  });

  it('evaluate CEL cross-field rules', () => {
    const github = (spec: Record<string, unknown>) => ({ apiVersion: 'idpbuilder.cnoe.io/v1alpha1', kind: 'GitHubProvider', metadata: { name: 'gh' }, spec });
    expect(problemsOf(github({ organization: 'acme', authType: 'app' }))).toEqual(['.spec.appAuth: authType app requires appAuth']);
    expect(problemsOf(github({ organization: 'acme' }))).toEqual(['.spec.credentialsSecretRef: authType token requires credentialsSecretRef']);
    expect(
      problemsOf(github({ organization: 'acme', authType: 'app', appAuth: { appID: '1', privateKeySecretRef: { name: 'key', key: 'pem' } } })),
    ).toEqual([]);
    expect(problemsOf(gitea({ adminUser: { autoGenerate: false } }))).toEqual(['.spec.adminUser.passwordSecretRef: adminUser needs passwordSecretRef when autoGenerate is false']);
  });

  it('keep provider references unique, telling namespaces apart', () => {
    const platform = (gateways: unknown[]) => ({ apiVersion: 'idpbuilder.cnoe.io/v1alpha2', kind: 'Platform', metadata: { name: 'p' }, spec: { components: { gateways } } });
    expect(problemsOf(platform([{ kind: 'NginxGateway', name: 'a' }, { kind: 'NginxGateway', name: 'a', namespace: 'other' }]))).toEqual([]);
    expect(problemsOf(platform([{ kind: 'NginxGateway', name: 'a' }, { kind: 'NginxGateway', name: 'a' }]))).toEqual([
      '.spec.components.gateways: provider references must be unique',
    ]);
  });

  it('reject duplicate keys in list-type=map lists', () => {
    expect(problemsOf(gitea({ organizations: [{ name: 'a' }, { name: 'a' }] }))).toEqual(['.spec.organizations[1]: Duplicate value: ["a"]']);
  });

  it('accept quantities as strings or integers, and reject malformed ones', () => {
    const nginx = (cpu: unknown) => ({
      apiVersion: 'idpbuilder.cnoe.io/v1alpha2',
      kind: 'NginxGateway',
      metadata: { name: 'n' },
      spec: { config: { controller: { resources: { limits: { cpu } } } } },
    });
    expect(problemsOf(nginx('100m'))).toEqual([]);
    expect(problemsOf(nginx(2))).toEqual([]);
    expect(problemsOf(nginx('lots')).join()).toContain('.spec.config.controller.resources.limits.cpu');
  });

  it('apply schema defaults like the API server when asked', () => {
    const defaulting = new Admission({ applyDefaults: true });
    const r = defaulting.admit(gitea({ adminUser: {} }));
    expect(r.outcome).toBe('valid');
    if (r.outcome !== 'valid') return;
    const spec = r.object.spec as Record<string, any>;
    expect(spec.namespace).toBe('gitea');
    expect(spec.deletionPolicy).toBe('Delete');
    expect(spec.adminUser).toEqual({ username: 'giteaAdmin', autoGenerate: true });
  });

  it('skip objects that are not ours and reject unknown kinds of our group', () => {
    expect(admission.admit({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' } }).outcome).toBe('skipped');
    expect(problemsOf({ apiVersion: 'idpbuilder.cnoe.io/v1alpha1', kind: 'GiteaComponent', metadata: { name: 'x' }, spec: {} })).toEqual([
      '.kind: unknown kind "GiteaComponent" in idpbuilder.cnoe.io/v1alpha1',
    ]);
  });
});
