// `kubectl explain` shows the descriptions the CRDs carry (issue 14): the real kube-apiserver publishes
// them through its OpenAPI v3 document, which kubectl (pinned in scripts/test-tools.sh) reads.
import { describe, expect, it } from 'vitest';
import { cluster, expectSuccess, installProjectCrds } from './support.js';

type Client = ReturnType<typeof cluster>;

/**
 * `kubectl explain` output with whitespace folded. The API server publishes a changed CRD's OpenAPI a
 * moment after the CRD is Established, so an answer without `expected` is asked again (up to 30 s).
 */
async function explain(kube: Client, args: string[], expected: string): Promise<string> {
  let out = '';
  for (let attempt = 0; attempt < 30; attempt++) {
    const res = expectSuccess(await kube.kubectl(['explain', ...args]), `kubectl explain ${args.join(' ')}`);
    out = res.stdout.replace(/\s+/g, ' ');
    if (out.includes(expected)) break;
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  return out;
}

describe('kubectl explain', () => {
  it('describes platforms.spec.components and its fields (v1alpha2)', async () => {
    const kube = cluster();
    expect(await installProjectCrds(kube)).toEqual([]);
    const out = await explain(
      kube,
      ['platforms.spec.components', '--api-version=idpbuilder.cnoe.io/v1alpha2'],
      'The providers of the platform: references to existing ones, and inline ones the Platform creates.',
    );
    expect(out).toContain('GROUP: idpbuilder.cnoe.io KIND: Platform VERSION: v1alpha2');
    expect(out).toContain('The providers of the platform: references to existing ones, and inline ones the Platform creates.');
    expect(out).toContain('gitProviders <[]Object> Git providers (GiteaProvider, GitHubProvider, GitLabProvider, …), read through their status');
    expect(out).toContain('argocd <Object> An ArgoCDProvider <platform>-argocd the Platform creates and owns.');
  });

  it('describes a status field of the duck-typed contract in both served versions', async () => {
    const kube = cluster();
    expect(await installProjectCrds(kube)).toEqual([]);
    const expected = 'Duck-typed contract: the Secret and key consumers authenticate with';
    for (const version of ['v1alpha1', 'v1alpha2']) {
      const out = await explain(kube, ['giteaproviders.status.credentialsSecretRef', `--api-version=idpbuilder.cnoe.io/${version}`], expected);
      expect(out, version).toContain(expected);
      expect(out, version).toContain('key <string> -required-');
    }
  });
});
