import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { program } from '../../src/cli/main.js';
import { EXAMPLES, invalidExamples } from '../support/examples.js';

async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  process.exitCode = 0;
  await program((s) => (out += s), (s) => (err += s)).parseAsync(['node', 'idpbuilder', ...args]);
  const code = Number(process.exitCode ?? 0);
  process.exitCode = 0;
  return { code, out, err };
}

describe('idpbuilder validate', () => {
  it('exits 0 on the examples directory (not recursing into invalid/)', async () => {
    const r = await run(['validate', '-f', EXAMPLES]);
    expect(r.out).toBe('');
    expect(r.err).toMatch(/^\d+ valid, 0 invalid, 0 skipped\n$/);
    expect(r.code).toBe(0);
  });

  for (const { file, expect: texts } of invalidExamples()) {
    it(`exits 1 on ${file.split('/').pop()} with a FILE#DOC: Kind/name: .path: message line`, async () => {
      const r = await run(['validate', '-f', file]);
      expect(r.code).toBe(1);
      const lines = r.out.trim().split('\n');
      for (const line of lines) expect(line).toMatch(new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}#1: [A-Za-z]+/[a-z0-9-]+: \\.[^:]*: .+$`));
      for (const t of texts) expect(r.out).toContain(t);
    });
  }

  it('reports objects of other kinds as skipped, numbers documents, and flags YAML errors', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'validate-'));
    const f = join(dir, 'mixed.yaml');
    writeFileSync(
      f,
      [
        'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\n',
        'apiVersion: idpbuilder.cnoe.io/v1alpha1\nkind: NginxGateway\nmetadata:\n  name: ngx\nspec:\n  serviceType: Hover\n',
        'apiVersion: idpbuilder.cnoe.io/v1alpha1\nkind: FluxProvider\nmetadata:\n  name: flux\nspec: {}\n',
      ].join('---\n'),
    );
    writeFileSync(join(dir, 'broken.yaml'), 'kind: [unclosed\n');
    const r = await run(['validate', '-f', f, '-f', join(dir, 'broken.yaml')]);
    expect(r.code).toBe(1);
    expect(r.out).toContain(`${f}#1: ConfigMap/cm: skipped: v1 ConfigMap is not an idpbuilder kind`);
    expect(r.out).toContain(`${f}#2: NginxGateway/ngx: .spec.serviceType: Unsupported value`);
    expect(r.out).toMatch(/broken\.yaml#1: \?\/\?: \.: YAML: /);
    expect(r.err).toBe('1 valid, 2 invalid, 1 skipped\n');
  });

  it('recurses with -R', async () => {
    const r = await run(['validate', '-R', '-f', EXAMPLES]);
    expect(r.code).toBe(1);
    expect(r.out).toContain('invalid/github-app-without-appauth.yaml#1');
  });
});
