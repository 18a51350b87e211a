// (a) Every CRD in crds/ installs server-side and becomes Established.
import { basename } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cluster, crdNames, crdsDir, expectSuccess, yamlFiles } from './support.js';

const files = yamlFiles(crdsDir());

describe('CRDs install and become Established', () => {
  if (files.length === 0) it.skip(`no CRD files in ${crdsDir()} (yet)`, () => undefined);

  for (const file of files) {
    it(basename(file), async () => {
      const names = crdNames(file);
      expect(names.length, `${file} holds no CustomResourceDefinition`).toBeGreaterThan(0);
      const kube = cluster();
      expectSuccess(
        await kube.kubectl(['apply', '--server-side', '--force-conflicts', '--field-manager=idpbuilder-tests', '-f', file]),
        `kubectl apply --server-side -f ${file}`,
      );
      expectSuccess(
        await kube.kubectl(['wait', '--for', 'condition=established', '--timeout=60s', ...names.map((n) => `crd/${n}`)]),
        `kubectl wait --for condition=established (${names.join(', ')})`,
      );
      // Established also means structural and free of violations the server reports later.
      for (const name of names) {
        const res = expectSuccess(await kube.kubectl(['get', `crd/${name}`, '-o', 'json']), `kubectl get crd/${name}`);
        const crd = JSON.parse(res.stdout) as {
          status?: { conditions?: { type: string; status: string; message?: string }[] };
        };
        const bad = (crd.status?.conditions ?? []).filter(
          (c) => ['NonStructuralSchema', 'NamesAccepted'].includes(c.type) && c.status !== (c.type === 'NamesAccepted' ? 'True' : 'False'),
        );
        expect(bad, `${name}: ${JSON.stringify(bad)}`).toEqual([]);
      }
    });
  }
});
