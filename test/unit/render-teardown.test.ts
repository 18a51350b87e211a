/**
 * Render (issue 16, items 1 and 2): a Platform's components.<name>.deletionPolicy reaches the inline provider it
 * renders, and every rendered install Job creates its release namespace marked with the provider that created it
 * (what the uninstall Job reads before deleting a namespace under deletionPolicy Delete).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runRender } from '../../src/cli/render.js';
import type { KubeObject } from '../../src/metacontroller/protocol.js';

const opts = { filename: [] as string[], recursive: false, assumeReady: true, output: 'json' as const, showSecrets: false };

const PLATFORM = `apiVersion: idpbuilder.cnoe.io/v1alpha2
kind: Platform
metadata:
  name: keep
  namespace: idpbuilder-system
spec:
  components:
    gitea:
      deletionPolicy: Retain
    nginx: {}
    argocd: {}
`;

describe('idpbuilder render: teardown settings', () => {
  const dir = mkdtempSync(join(tmpdir(), 'render-teardown-'));
  const file = join(dir, 'platform.yaml');
  writeFileSync(file, PLATFORM);
  const r = runRender({ ...opts, filename: [file] });
  const all = (JSON.parse(r.stdout) as { items: KubeObject[] }).items;

  it('renders, and the inline GiteaProvider carries deletionPolicy Retain; the others the default', () => {
    expect(r.code, r.stderr).toBe(0);
    const spec = (kind: string) => all.find((o) => o.kind === kind && o.metadata.name.startsWith('keep-'))!.spec as { deletionPolicy?: string };
    expect(spec('GiteaProvider').deletionPolicy).toBe('Retain');
    expect(spec('NginxGateway').deletionPolicy ?? 'Delete').toBe('Delete');
    expect(spec('ArgoCDProvider').deletionPolicy ?? 'Delete').toBe('Delete');
  });

  it('each install script creates its release namespace annotated with the provider that created it', () => {
    const scripts = all.filter((o) => o.kind === 'ConfigMap' && o.metadata.labels?.['idpbuilder.cnoe.io/role'] === 'install').map((o) => (o.data as Record<string, string>)['run.sh']);
    expect(scripts).toHaveLength(3);
    const owners = scripts.map((s) => /idpbuilder\.cnoe\.io\/created-by=(\S+)/.exec(s)?.[1]).sort();
    expect(owners).toEqual(['ArgoCDProvider/idpbuilder-system/keep-argocd', 'GiteaProvider/idpbuilder-system/keep-gitea', 'NginxGateway/idpbuilder-system/keep-nginx']);
  });
});
