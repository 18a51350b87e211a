// `create -p <remote URL>`: the GitRepositories (Git sources) and Packages the CLI makes for a remote package
// are accepted by the real API server (server-side dry-run, strict field validation). The remote is a
// repository on disk that git is told to use for https://github.com/cnoe-io/stacks (no network).
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { processRunner } from '../../src/cli/exec.js';
import { cloneRemotePackage, discoverPackages, packageObjects, parseRemotePackage } from '../../src/cli/packages.js';
import { stacksRepo } from '../fixtures/cli/stacks.js';
import { cluster, ensureNamespaces, expectSuccess, installProjectCrds } from './support.js';

const kube = cluster();
const NS = 'idpbuilder-system';
let repo: ReturnType<typeof stacksRepo>;

beforeAll(async () => {
  await installProjectCrds(kube);
  await ensureNamespaces(kube, [NS]);
  repo = stacksRepo();
});
afterAll(() => rmSync(repo.dir, { recursive: true, force: true }));

describe('remote -p packages against a real API server', () => {
  it('the GitRepositories with Git sources, the Inline definitions and the Packages pass server-side dry-run', async () => {
    const raw = 'https://github.com/cnoe-io/stacks//ref-implementation?ref=v1';
    const co = await cloneRemotePackage(processRunner({ ...process.env, ...repo.env }), parseRemotePackage(raw));
    let objects;
    try {
      const { apps } = discoverPackages([raw], 'localdev', new Map([[raw, co]]));
      objects = packageObjects(apps, {
        platform: 'localdev',
        namespace: NS,
        server: { endpoint: 'https://gitea.cnoe.localtest.me:8443', internalEndpoint: 'http://gitea-http.gitea.svc.cluster.local:3000', organization: 'idpbuilder', token: 'unused', ref: { kind: 'GiteaProvider', name: 'gitea', namespace: NS } },
        gitOpsProviderRef: { kind: 'ArgoCDProvider', name: 'argocd', namespace: NS },
        argoNamespace: 'argocd',
      });
    } finally {
      co.cleanup();
    }
    expect(objects.filter((o) => o.kind === 'GitRepository' && (o.spec as any).sources[0].type === 'Git').map((o) => o.metadata.name)).toEqual([
      'my-app-manifests',
      'my-app2-chart',
      'my-app2-manifests',
    ]);
    const stream = objects.map((o) => JSON.stringify(o)).join('\n---\n');
    const applied = await kube.kubectl(['apply', '--server-side', '--dry-run=server', '--force-conflicts', '--validate=strict', '--field-manager=idpbuilder', '-f', '-'], stream);
    expectSuccess(applied, 'server-side dry-run of the remote package objects');
    expect(applied.stdout.split('\n').filter((l) => /serverside-applied|server-side applied/.test(l))).toHaveLength(objects.length);
  });
});
