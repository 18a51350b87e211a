// (b) Every example applies server-side, as written (v1alpha1) and as v1alpha2; every invalid
//     example is rejected with the errors its `# expect-error:` lines name.
// (c) For every kind in the examples, status written through the status subresource
//     round-trips (phase, observedGeneration, a Ready condition), read back in every version.
import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  IDP_GROUP,
  cluster,
  ensureNamespaces,
  examplesDir,
  expectSuccess,
  groupOf,
  installProjectCrds,
  namespacesOf,
  parseObjects,
  projectKinds,
  readObjects,
  versionOf,
  yamlFiles,
  type KubeObject,
} from './support.js';

const valid = yamlFiles(examplesDir());
const invalid = yamlFiles(join(examplesDir(), 'invalid'));

const toV1alpha2 = (text: string): string =>
  text.replace(/^(\s*(?:-\s+)?apiVersion:\s*["']?)idpbuilder\.cnoe\.io\/v1alpha1\b/gm, '$1idpbuilder.cnoe.io/v1alpha2');

/** The `# expect-error: <text>` lines at the top of a file (comments before the first document line). */
function expectedErrors(text: string): string[] {
  const expected: string[] = [];
  for (const line of text.split('\n')) {
    const trimmed = line.trim();
    if (trimmed === '' || trimmed === '---') continue;
    if (!trimmed.startsWith('#')) break;
    const match = /^#\s*expect-error:\s*(.+?)\s*$/.exec(trimmed);
    if (match?.[1]) expected.push(match[1]);
  }
  return expected;
}

const kube = cluster();

beforeAll(async () => {
  await installProjectCrds(kube);
  const objects = [...valid, ...invalid].flatMap((file) => {
    try {
      return readObjects(file);
    } catch {
      return []; // a file that does not parse fails in its own test
    }
  });
  await ensureNamespaces(kube, ['idpbuilder-system', ...namespacesOf(objects)]);
});

describe('examples apply server-side', () => {
  if (valid.length === 0) it.skip(`no examples in ${examplesDir()} (yet)`, () => undefined);

  for (const file of valid) {
    it(`${basename(file)} as written`, async () => {
      expectSuccess(
        await kube.kubectl(['apply', '--server-side', '--field-manager=idpbuilder-examples', '-f', file]),
        `kubectl apply --server-side -f ${file}`,
      );
    });

    it(`${basename(file)} as ${IDP_GROUP}/v1alpha2`, async () => {
      const text = toV1alpha2(readFileSync(file, 'utf8'));
      expectSuccess(
        await kube.kubectl(['apply', '--server-side', '--field-manager=idpbuilder-examples', '-f', '-'], text),
        `kubectl apply --server-side of ${file} rewritten to v1alpha2`,
      );
      // Read back through v1alpha2: the object exists in the storage version.
      for (const object of parseObjects(text).filter((o) => groupOf(o.apiVersion) === IDP_GROUP)) {
        const args = ['get', `${object.kind}.${versionOf(object.apiVersion)}.${IDP_GROUP}`, object.metadata.name ?? '', '-o', 'name'];
        if (object.metadata.namespace) args.push('-n', object.metadata.namespace);
        expectSuccess(await kube.kubectl(args), `kubectl get ${object.kind}/${object.metadata.name}`);
      }
    });
  }
});

describe('invalid examples are rejected', () => {
  if (invalid.length === 0) it.skip(`no invalid examples in ${join(examplesDir(), 'invalid')} (yet)`, () => undefined);

  for (const file of invalid) {
    it(basename(file), async () => {
      const text = readFileSync(file, 'utf8');
      const expected = expectedErrors(text);
      expect(expected.length, `${file} must start with one or more "# expect-error: <text>" lines`).toBeGreaterThan(0);
      const res = await kube.kubectl(['apply', '--server-side', '--field-manager=idpbuilder-examples', '-f', file]);
      const output = `${res.stderr}\n${res.stdout}`;
      expect(res.code, `${file} was accepted:\n${output}`).not.toBe(0);
      for (const text of expected) {
        expect(output, `expected error text not in kubectl output`).toContain(text);
      }
    });
  }
});

describe('status subresource round-trips for every kind', () => {
  // First example object of every kind of ours, in file order.
  const byKind = new Map<string, KubeObject>();
  for (const file of valid) {
    for (const object of readObjects(file)) {
      if (groupOf(object.apiVersion) !== IDP_GROUP || byKind.has(object.kind)) continue;
      byKind.set(object.kind, object);
    }
  }
  if (byKind.size === 0) it.skip(`no ${IDP_GROUP} objects in ${examplesDir()} (yet)`, () => undefined);

  for (const [kind, object] of byKind) {
    it(kind, async () => {
      const info = projectKinds().get(`${IDP_GROUP}/${kind}`);
      expect(info, `no CRD for ${IDP_GROUP}/${kind} in crds/`).toBeDefined();
      if (!info) return;
      if (!info.statusSubresource) {
        // a kind without status (ReferenceGrant): its CRD must say so, and its schema has no status to write
        expect(kind).toBe('ReferenceGrant');
        return;
      }
      const name = object.metadata.name ?? '';
      const ns = info.namespaced ? ['-n', object.metadata.namespace ?? 'default'] : [];
      expectSuccess(
        await kube.kubectl(['apply', '--server-side', '--field-manager=idpbuilder-examples', '-f', '-'], JSON.stringify(object)),
        `kubectl apply of ${kind}/${name}`,
      );
      const current = JSON.parse(
        expectSuccess(await kube.kubectl(['get', `${info.plural}.${IDP_GROUP}`, name, ...ns, '-o', 'json']), 'get').stdout,
      ) as KubeObject;
      // A phase the kind's schema allows: "Ready" unless the schema enumerates others.
      const phase = !info.phaseEnum || info.phaseEnum.includes('Ready') ? 'Ready' : info.phaseEnum[0];
      const status = {
        phase,
        observedGeneration: current.metadata.generation ?? 1,
        conditions: [
          {
            type: 'Ready',
            status: 'True',
            reason: 'RoundTrip',
            message: 'written by the cluster test suite',
            lastTransitionTime: '2024-01-02T03:04:05Z',
          },
        ],
      };
      expectSuccess(
        await kube.kubectl([
          'patch',
          `${info.plural}.${IDP_GROUP}`,
          name,
          ...ns,
          '--subresource=status',
          '--type=merge',
          '-p',
          JSON.stringify({ status }),
        ]),
        `kubectl patch --subresource=status ${kind}/${name}`,
      );
      for (const version of info.versions) {
        const res = expectSuccess(
          await kube.kubectl(['get', `${info.plural}.${version}.${IDP_GROUP}`, name, ...ns, '-o', 'json']),
          `kubectl get ${kind}/${name} as ${version}`,
        );
        const read = JSON.parse(res.stdout) as KubeObject & { status?: Record<string, unknown> };
        expect(read.status, `status of ${kind}/${name} read as ${version}`).toMatchObject(status);
      }
    });
  }
});
