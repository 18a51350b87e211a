/** `idpbuilder render --observed`: observed objects override the status render assumes (issue 14, item 5). */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { runRender } from '../../src/cli/render.js';
import type { KubeObject } from '../../src/metacontroller/protocol.js';

const dir = mkdtempSync(join(tmpdir(), 'render-observed-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, objects: unknown[]) => {
  const path = join(dir, name);
  writeFileSync(path, objects.map((o) => stringify(o)).join('---\n'));
  return path;
};
const opts = { filename: [] as string[], recursive: false, assumeReady: true, output: 'json' as const, showSecrets: false };
const items = (stdout: string) => (JSON.parse(stdout) as { items: KubeObject[] }).items;
type Cond = { type: string; status: string; reason?: string; message?: string };
const ready = (o: KubeObject | undefined) => ((o?.status?.conditions ?? []) as Cond[]).find((c) => c.type === 'Ready');
const find = (all: KubeObject[], kind: string, name: string) => all.find((o) => o.kind === kind && o.metadata.name === name);

// The install Job's name carries a hash of its values: take it from a plain render rather than spelling it.
const baseline = items(runRender(opts).stdout);
const giteaInstall = baseline.find((o) => o.kind === 'Job' && o.metadata.labels?.['idpbuilder.cnoe.io/giteaprovider'] === 'gitea' && o.metadata.labels?.['idpbuilder.cnoe.io/role'] === 'install')!;

describe('render --observed', () => {
  it('a failed install Job: the provider is Failed with its retry schedule, the Platform reports it, other Jobs stay assumed ready', () => {
    const observed = file('job.yaml', [
      {
        apiVersion: 'batch/v1',
        kind: 'Job',
        metadata: { name: giteaInstall.metadata.name, namespace: 'idpbuilder-system' },
        status: { failed: 1, conditions: [{ type: 'Failed', status: 'True', reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit', lastTransitionTime: '2000-01-01T00:00:00Z' }] },
      },
    ]);
    const r = runRender({ ...opts, observed: [observed] });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const all = items(r.stdout);
    const gitea = find(all, 'GiteaProvider', 'gitea')!;
    expect(ready(gitea)).toMatchObject({ status: 'False', reason: 'InstallFailed' });
    expect(ready(gitea)!.message).toContain('BackoffLimitExceeded: Job has reached the specified backoff limit');
    // the first retry waits retryDelaySeconds(0) after the observed failure time
    expect(gitea.status.installation).toMatchObject({ job: giteaInstall.metadata.name, retries: 0, nextRetryTime: '2000-01-01T00:00:30Z' });
    expect(ready(gitea)!.message).toContain('retry at 2000-01-01T00:00:30Z');
    expect(find(all, 'Job', giteaInstall.metadata.name)!.status.conditions[0]).toMatchObject({ type: 'Failed', status: 'True' });
    const platform = find(all, 'Platform', 'localdev')!;
    expect(ready(platform)).toMatchObject({ status: 'False', reason: 'ProviderFailed' });
    expect(ready(platform)!.message).toContain('GiteaProvider/gitea');
    // --assume-ready still holds for the objects --observed does not name
    expect(ready(find(all, 'NginxGateway', 'nginx'))).toMatchObject({ status: 'True' });
    const argocdJob = all.find((o) => o.kind === 'Job' && o.metadata.labels?.['idpbuilder.cnoe.io/argocdprovider'] === 'argocd' && o.metadata.labels?.['idpbuilder.cnoe.io/role'] === 'install')!;
    expect(argocdJob.status.succeeded).toBe(1);
  });

  it('an observed Job without status is still running, even with --assume-ready', () => {
    const observed = file('pending.yaml', [{ apiVersion: 'batch/v1', kind: 'Job', metadata: { name: giteaInstall.metadata.name, namespace: 'idpbuilder-system' } }]);
    const all = items(runRender({ ...opts, observed: [observed] }).stdout);
    expect(find(all, 'Job', giteaInstall.metadata.name)!.status).toBeUndefined();
    expect(ready(find(all, 'GiteaProvider', 'gitea'))).toMatchObject({ status: 'False', reason: 'Installing' });
    expect(ready(find(all, 'Platform', 'localdev'))).toMatchObject({ status: 'False' });
  });

  it('an observed status of a kind our controllers reconcile is where its sync starts, not a pin: the controller recomputes it', () => {
    // a stale Ready=False (nothing observed makes the provider wait) is replaced by what the controller now says
    const stale = file('gitea.yaml', [
      {
        apiVersion: 'idpbuilder.cnoe.io/v1alpha2',
        kind: 'GiteaProvider',
        metadata: { name: 'gitea', namespace: 'idpbuilder-system' },
        status: { phase: 'Installing', conditions: [{ type: 'Ready', status: 'False', reason: 'Installing', message: 'helm install running', lastTransitionTime: '2000-01-01T00:00:00Z' }] },
      },
    ]);
    const all = items(runRender({ ...opts, observed: [stale] }).stdout);
    expect(ready(find(all, 'GiteaProvider', 'gitea'))).toMatchObject({ status: 'True', reason: 'Available' });
    expect(ready(find(all, 'Platform', 'localdev'))).toMatchObject({ status: 'True' });
    // a provider that is not ready is previewed through what makes it so: its install Job still running
    const running = file('gitea-running.yaml', [
      { apiVersion: 'batch/v1', kind: 'Job', metadata: { name: giteaInstall.metadata.name, namespace: 'idpbuilder-system' } },
    ]);
    const waiting = items(runRender({ ...opts, observed: [stale, running] }).stdout);
    expect(ready(find(waiting, 'GiteaProvider', 'gitea'))).toMatchObject({ status: 'False', reason: 'Installing' });
    const platform = find(waiting, 'Platform', 'localdev')!;
    expect(ready(platform)).toMatchObject({ status: 'False', reason: 'WaitingForProviders' });
    expect(ready(platform)!.message).toContain('GiteaProvider/gitea');
    expect(platform.status.providers.gitProviders[0]).toMatchObject({ name: 'gitea', ready: false });
  });

  it("a render's output given back as observed: every child is claimed by its parent (owner label) and kept; the same tree comes out", () => {
    // with the Secret values (a redacted admin Secret would be another credential, hence other install Jobs)
    const tree = items(runRender({ ...opts, showSecrets: true }).stdout);
    const again = items(runRender({ ...opts, showSecrets: true, observed: [file('tree.yaml', tree)] }).stdout);
    expect(again.map((o) => `${o.kind}/${o.metadata.name}`).sort()).toEqual(tree.map((o) => `${o.kind}/${o.metadata.name}`).sort());
    expect(again.filter((o) => o.kind === 'Job').length).toBeGreaterThan(0);
  });

  it("an observed child of a rendered parent is its child: a running install Job of an earlier spec is kept and the new one waits; once finished, it is superseded and goes", () => {
    const oldJob = (status?: unknown) => ({
      ...giteaInstall,
      metadata: { ...giteaInstall.metadata, name: 'gitea-install-00000000', labels: { ...giteaInstall.metadata.labels, 'idpbuilder.cnoe.io/install': 'gitea-install-00000000' } },
      status,
    });
    const running = items(runRender({ ...opts, observed: [file('old-running.yaml', [oldJob()])] }).stdout);
    expect(find(running, 'Job', 'gitea-install-00000000')).toBeDefined();
    expect(ready(find(running, 'GiteaProvider', 'gitea'))).toMatchObject({ status: 'False', reason: 'WaitingForRunningJob' });
    const done = items(runRender({ ...opts, observed: [file('old-done.yaml', [oldJob({ succeeded: 1, conditions: [{ type: 'Complete', status: 'True' }] })])] }).stdout);
    expect(find(done, 'Job', 'gitea-install-00000000')).toBeUndefined();
    expect(find(done, 'Job', giteaInstall.metadata.name)).toBeDefined();
  });

  it('an observed Secret nothing creates is a related object: the provider reads it, the output does not print it', () => {
    const input = file('provider.yaml', [
      { apiVersion: 'idpbuilder.cnoe.io/v1alpha2', kind: 'GiteaProvider', metadata: { name: 'gitea', namespace: 'team' }, spec: { adminUser: { passwordSecretRef: { name: 'my-gitea-admin' } } } },
    ]);
    const without = items(runRender({ ...opts, assumeReady: false, filename: [input] }).stdout);
    expect(ready(find(without, 'GiteaProvider', 'gitea'))).toMatchObject({ status: 'False', reason: 'SecretNotFound' });
    expect(without.some((o) => o.kind === 'Job')).toBe(false);

    const secret = file('secret.yaml', [
      { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'my-gitea-admin', namespace: 'team' }, data: { password: Buffer.from('a-long-enough-password').toString('base64') } },
    ]);
    const r = runRender({ ...opts, assumeReady: false, filename: [input], observed: [secret] });
    expect(r.code).toBe(0);
    const all = items(r.stdout);
    expect(ready(find(all, 'GiteaProvider', 'gitea'))).toMatchObject({ status: 'False', reason: 'Installing' });
    expect(all.filter((o) => o.kind === 'Job').map((o) => o.metadata.labels?.['idpbuilder.cnoe.io/role'])).toEqual(['install']);
    expect(find(all, 'Secret', 'my-gitea-admin')).toBeUndefined();
  });

  it('observed objects of our kinds that no input names are not reconciled', () => {
    const observed = file('stray.yaml', [{ apiVersion: 'idpbuilder.cnoe.io/v1alpha2', kind: 'NginxGateway', metadata: { name: 'other', namespace: 'idpbuilder-system' }, status: { phase: 'Ready' } }]);
    const all = items(runRender({ ...opts, observed: [observed] }).stdout);
    expect(find(all, 'NginxGateway', 'other')).toBeUndefined();
    expect(all.filter((o) => o.kind === 'Job' && o.metadata.name.startsWith('other-'))).toEqual([]);
  });

  it('an unreadable --observed file is reported like -f', () => {
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'a: [\n');
    const r = runRender({ ...opts, observed: [bad] });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/bad\.yaml#1: YAML:/);
  });
});
