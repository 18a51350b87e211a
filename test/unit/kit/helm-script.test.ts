/**
 * The install Job's script, run with stand-in `helm` and `kubectl` executables: a release left
 * `pending-*` by a killed helm is recovered before the upgrade, and SIGTERM reaches helm.
 */
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { chartLocation, helmJob, release } from '../../../src/kit/helm.js';
import { parent, testEnv } from '../../support/requests.js';

const env = testEnv();
const owner = parent('NginxGateway', 'nginx', {});
const plan = { releases: [release('ingress-nginx', 'ingress-nginx', { repository: 'https://example.test/charts', chart: 'ingress-nginx', version: '4.15.1' }, {})] };

function script(action: 'install' | 'uninstall'): string {
  return (helmJob(owner, plan, env, action).configMap.data as Record<string, string>)['run.sh'];
}

/** A bin directory with a `helm` that logs its arguments and answers `status` with `state`. */
function standIns(state: string | undefined, upgrade = 'exit 0'): { dir: string; log: string } {
  const dir = mkdtempSync(join(tmpdir(), 'helm-script-'));
  const log = join(dir, 'log');
  writeFileSync(
    join(dir, 'helm'),
    `#!/bin/sh
echo "helm $*" >> ${log}
case "$1" in
  status) ${state ? `echo '{"name":"ingress-nginx","info":{"status":"${state}"},"version":2}'` : 'echo "Error: release: not found" >&2; exit 1'} ;;
  upgrade) ${upgrade} ;;
esac
`,
  );
  writeFileSync(join(dir, 'kubectl'), `#!/bin/sh\necho "kubectl $*" >> ${log}\n`);
  chmodSync(join(dir, 'helm'), 0o755);
  chmodSync(join(dir, 'kubectl'), 0o755);
  return { dir, log };
}

function runScript(text: string, dir: string) {
  const file = join(dir, 'run.sh');
  writeFileSync(file, text);
  return spawnSync('/bin/sh', [file], { env: { PATH: `${dir}:/usr/bin:/bin` }, encoding: 'utf8' });
}

const allCalls = (log: string) => readFileSync(log, 'utf8').trim().split('\n');
/** The calls without the namespace check every install script starts with (see 'release namespaces'). */
const calls = (log: string) => allCalls(log).filter((l) => !l.startsWith('kubectl get namespace '));

describe('install script', () => {
  it('a release left pending-upgrade is rolled back before the upgrade', () => {
    const { dir, log } = standIns('pending-upgrade');
    const r = runScript(script('install'), dir);
    expect(r.status).toBe(0);
    const c = calls(log);
    expect(c[1]).toBe('helm rollback ingress-nginx --namespace ingress-nginx --wait --timeout 10m');
    expect(c[2]).toMatch(/^helm upgrade --install ingress-nginx /);
  });

  it('a first install left pending-install is uninstalled (no revision to roll back to), then installed', () => {
    const { dir, log } = standIns('pending-install');
    expect(runScript(script('install'), dir).status).toBe(0);
    const c = calls(log);
    expect(c[1]).toBe('helm uninstall ingress-nginx --namespace ingress-nginx --wait --timeout 10m');
    expect(c[2]).toMatch(/^helm upgrade --install ingress-nginx /);
  });

  it('a deployed or absent release goes straight to the upgrade', () => {
    for (const state of ['deployed', 'failed', undefined]) {
      const { dir, log } = standIns(state);
      expect(runScript(script('install'), dir).status).toBe(0);
      expect(calls(log).filter((l) => l.startsWith('helm ') && !l.startsWith('helm status'))).toEqual([expect.stringMatching(/^helm upgrade --install ingress-nginx ingress-nginx --repo/)]);
    }
  });

  it('a failing helm fails the script with its exit code', () => {
    const { dir } = standIns(undefined, 'echo "Error: UPGRADE FAILED" >&2; exit 3');
    const r = runScript(script('install'), dir);
    expect(r.status).toBe(3);
    expect(r.stdout).not.toContain('done');
  });

  it('SIGTERM to the script reaches helm, which can record its outcome; the script exits non-zero', async () => {
    const { dir, log } = standIns(undefined, `trap 'echo "helm got TERM" >> "$(dirname "$0")/helm.log"; exit 1' TERM; echo started > "$(dirname "$0")/started"; while :; do sleep 0.1; done`);
    const file = join(dir, 'run.sh');
    writeFileSync(file, script('install'));
    const child = spawn('/bin/sh', [file], { env: { PATH: `${dir}:/usr/bin:/bin` } });
    const started = join(dir, 'started');
    for (let i = 0; i < 100; i++) {
      try {
        readFileSync(started);
        break;
      } catch {
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    child.kill('SIGTERM');
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    expect(code).not.toBe(0);
    expect(readFileSync(join(dir, 'helm.log'), 'utf8')).toContain('helm got TERM');
    expect(calls(log).some((l) => l.startsWith('helm upgrade'))).toBe(true);
  });

  it('the uninstall script runs helm through the same signal-forwarding wrapper, without recovery', () => {
    const text = script('uninstall');
    expect(text).toContain("run helm uninstall ingress-nginx --namespace ingress-nginx --wait --ignore-not-found --timeout 10m");
    expect(text).not.toContain('recover');
  });
});

describe('chartLocation: one rule for the install and the GitOps copy', () => {
  it('an OCI repository that names the chart: the dependency repository is the path above it', () => {
    // helm resolves an OCI dependency as <repository>/<name>:<version> (findChartURL)
    expect(chartLocation({ repository: 'oci://docker.io/envoyproxy/gateway-helm', chart: 'gateway-helm' })).toEqual({
      args: ['oci://docker.io/envoyproxy/gateway-helm'],
      dependency: { name: 'gateway-helm', repository: 'oci://docker.io/envoyproxy' },
    });
    expect(chartLocation({ repository: 'oci://docker.io/envoyproxy/gateway-helm/', chart: 'gateway-helm' }).dependency.repository).toBe('oci://docker.io/envoyproxy');
  });

  it('an OCI registry path above the chart: the chart is appended for helm upgrade, the path is the dependency repository', () => {
    expect(chartLocation({ repository: 'oci://ghcr.io/argoproj/argo-helm', chart: 'argo-cd' })).toEqual({
      args: ['oci://ghcr.io/argoproj/argo-helm/argo-cd'],
      dependency: { name: 'argo-cd', repository: 'oci://ghcr.io/argoproj/argo-helm' },
    });
    // a bare registry host is never taken for the chart, even when they are spelled alike
    expect(chartLocation({ repository: 'oci://charts', chart: 'charts' })).toEqual({ args: ['oci://charts/charts'], dependency: { name: 'charts', repository: 'oci://charts' } });
  });

  it('a classic repository: --repo for helm upgrade, the same URL as the dependency repository', () => {
    expect(chartLocation({ repository: 'https://dl.gitea.com/charts/', chart: 'gitea' })).toEqual({
      args: ['gitea', '--repo', 'https://dl.gitea.com/charts/'],
      dependency: { name: 'gitea', repository: 'https://dl.gitea.com/charts/' },
    });
  });
});

describe('waitRollout: workloads awaited instead of helm --wait', () => {
  it('helm runs without --wait, then kubectl rollout status for each workload, in the release namespace', () => {
    const gw = release('istio-ingressgateway', 'istio-system', { repository: 'https://example.test/charts', chart: 'gateway', version: '1.30.3' }, {}, { waitRollout: ['deployment/istio-ingressgateway'] });
    const { dir, log } = standIns(undefined);
    const text = (helmJob(owner, { releases: [gw] }, env).configMap.data as Record<string, string>)['run.sh'];
    expect(runScript(text, dir).status).toBe(0);
    expect(calls(log).filter((l) => !l.startsWith('helm status'))).toEqual([
      'helm upgrade --install istio-ingressgateway gateway --repo https://example.test/charts --version 1.30.3 --namespace istio-system --create-namespace --values /config/values-0.yaml --timeout 10m',
      'kubectl rollout status deployment/istio-ingressgateway --namespace istio-system --timeout=10m',
    ]);
  });
});

describe('waitFor with a selector', () => {
  it('polls until an object matches, then waits for the condition on the selected objects; gives up after the timeout', () => {
    const waitPlan = { ...plan, waitFor: [{ resource: 'deployments.apps', selector: { b: '2', a: '1' }, namespace: 'ns', condition: 'Available', timeout: '10s' }] };
    const text = (helmJob(owner, waitPlan, env).configMap.data as Record<string, string>)['run.sh'];
    // a kubectl whose `get` finds the object on the second poll
    const { dir, log } = standIns(undefined);
    writeFileSync(join(dir, 'kubectl'), `#!/bin/sh\necho "kubectl $*" >> ${log}\nif [ "$1" = get ]; then c=$(grep -c '^kubectl get deployments' ${log}); [ "$c" -ge 2 ] && echo deployment.apps/x; fi\nexit 0\n`);
    writeFileSync(join(dir, 'sleep'), '#!/bin/sh\n');
    chmodSync(join(dir, 'sleep'), 0o755);
    expect(runScript(text, dir).status).toBe(0);
    expect(calls(log).filter((l) => l.startsWith('kubectl'))).toEqual([
      'kubectl get deployments.apps -l a=1,b=2 --namespace ns -o name',
      'kubectl get deployments.apps -l a=1,b=2 --namespace ns -o name',
      'kubectl wait --for=condition=Available deployments.apps -l a=1,b=2 --namespace ns --timeout=10s',
    ]);
    // nothing ever matches: the script fails after timeout / 5 s polls, naming what it waited for
    const never = standIns(undefined);
    writeFileSync(join(never.dir, 'sleep'), '#!/bin/sh\n');
    chmodSync(join(never.dir, 'sleep'), 0o755);
    const r = runScript(text, never.dir);
    expect(r.status).toBe(1);
    expect(r.stdout).toContain('no deployments.apps -l a=1,b=2 in ns after 10s');
    expect(calls(never.log).filter((l) => l.startsWith('kubectl get'))).toHaveLength(2);
  });
});


describe('release namespaces: created by the install, deleted by a Delete uninstall only when ours', () => {
  const gitea = parent('GiteaProvider', 'gitea', {});
  const gplan = { releases: [release('gitea', 'gitea', { repository: 'https://example.test/charts', chart: 'gitea', version: '12.1.2' }, {})] };
  const text = (action: 'install' | 'uninstall') => (helmJob(gitea, gplan, env, action).configMap.data as Record<string, string>)['run.sh'];
  const owner = `GiteaProvider/${gitea.metadata.namespace}/gitea`;

  /** Stand-ins for an uninstall: `helm get manifest` lists a kept PVC, `helm get hooks` a hook Role; the namespace says `createdBy`. */
  function uninstallStandIns(opts: { createdBy?: string; releasesLeft?: string; kept?: string; released?: boolean }) {
    const { dir, log } = standIns('deployed');
    writeFileSync(
      join(dir, 'helm'),
      `#!/bin/sh
echo "helm $*" >> ${log}
case "$1 $2" in
  "status "*) ${opts.released === false ? 'exit 1' : 'exit 0'} ;;
  "get manifest") printf 'apiVersion: v1\\nkind: PersistentVolumeClaim\\nmetadata:\\n  name: gitea-shared-storage\\n' ;;
  "get hooks") printf 'apiVersion: rbac.authorization.k8s.io/v1\\nkind: Role\\nmetadata:\\n  name: gitea-hook\\n' ;;
  "list "*) printf '%s' ${JSON.stringify(opts.releasesLeft ?? '')} ;;
esac
`,
    );
    writeFileSync(
      join(dir, 'kubectl'),
      `#!/bin/sh
echo "kubectl $*" >> ${log}
case "$1 $2 $3" in
  "get namespace "*) printf '%s' ${JSON.stringify(opts.createdBy ?? '')} ;;
  "get -f "*) printf '%b' ${JSON.stringify(opts.kept ?? 'v1 PersistentVolumeClaim gitea-shared-storage gitea\n')} ;;
  "delete --ignore-not-found --wait=true"*) for a in "$@"; do case "$a" in /tmp/kept-*.yaml) cat "$a" >> ${log}.kept ;; esac; done ;;
esac
`,
    );
    return { dir, log };
  }

  it('the install creates a missing release namespace in one request, annotated with the provider that created it', () => {
    const { dir, log } = standIns(undefined);
    writeFileSync(join(dir, 'kubectl'), `#!/bin/sh\necho "kubectl $*" >> ${log}\n[ "$1 $2" = "get namespace" ] && exit 1\nexit 0\n`);
    expect(runScript(text('install'), dir).status).toBe(0);
    const c = allCalls(log);
    expect(c[0]).toBe('kubectl get namespace gitea');
    expect(c).toContain(`kubectl annotate --local -f - idpbuilder.cnoe.io/created-by=${owner} -o yaml`);
    expect(c).toContain('kubectl create -f -');
    expect(c.findIndex((l) => l === 'kubectl create -f -')).toBeLessThan(c.findIndex((l) => l.startsWith('helm upgrade')));
  });

  it('the install leaves an existing namespace as it is (not marked, so never deleted by us)', () => {
    const { dir, log } = standIns(undefined);
    expect(runScript(text('install'), dir).status).toBe(0);
    expect(allCalls(log).filter((l) => l.startsWith('kubectl'))).toEqual(['kubectl get namespace gitea']);
  });

  it('Delete: kept objects and hook objects are written down before helm uninstall and deleted after it, then release PVCs, then our namespace', () => {
    const { dir, log } = uninstallStandIns({ createdBy: owner });
    const r = runScript(text('uninstall'), dir);
    expect(r.status).toBe(0);
    const c = allCalls(log);
    const at = (prefix: string) => c.findIndex((l) => l.startsWith(prefix));
    expect(at('helm get manifest gitea --namespace gitea')).toBeGreaterThanOrEqual(0);
    expect(c[at('kubectl get -f /tmp/release-0.yaml')]).toContain('--namespace gitea --ignore-not-found -o go-template=');
    expect(at('kubectl get -f')).toBeLessThan(at('helm uninstall gitea'));
    expect(at('helm uninstall gitea')).toBeLessThan(at('kubectl delete --ignore-not-found --wait=true --timeout=5m --namespace gitea -f /tmp/kept-0.yaml'));
    expect(readFileSync(`${log}.kept`, 'utf8')).toBe('apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata:\n  name: gitea-shared-storage\n  namespace: gitea\n---\n');
    expect(c).toContain('kubectl delete --ignore-not-found --wait=true --namespace gitea -f /tmp/hooks-0.yaml');
    expect(c).toContain('kubectl delete persistentvolumeclaims --namespace gitea -l app.kubernetes.io/instance=gitea --ignore-not-found --wait=true');
    expect(c[c.length - 1]).toBe('kubectl delete namespace gitea --ignore-not-found --wait=true --timeout=10m');
    expect(at('helm list --namespace gitea --all -q')).toBeLessThan(c.length - 1);
    expect(r.stdout).toContain(`deleting namespace gitea (created by ${owner})`);
  });

  it('a cluster-scoped kept object (a CRD) is deleted without a namespace', () => {
    const { dir, log } = uninstallStandIns({ createdBy: owner, kept: 'apiextensions.k8s.io/v1 CustomResourceDefinition applications.argoproj.io\n' });
    expect(runScript(text('uninstall'), dir).status).toBe(0);
    expect(readFileSync(`${log}.kept`, 'utf8')).toBe('apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: applications.argoproj.io\n---\n');
  });

  it('a namespace created by someone else, or unmarked, is kept', () => {
    for (const createdBy of ['', 'GiteaProvider/other/gitea']) {
      const { dir, log } = uninstallStandIns({ createdBy });
      const r = runScript(text('uninstall'), dir);
      expect(r.status).toBe(0);
      expect(allCalls(log).some((l) => l.startsWith('kubectl delete namespace'))).toBe(false);
      expect(r.stdout).toContain(`namespace gitea was not created by ${owner}: kept`);
    }
  });

  it('our namespace that still holds another Helm release is kept', () => {
    const { dir, log } = uninstallStandIns({ createdBy: owner, releasesLeft: 'other-release\n' });
    const r = runScript(text('uninstall'), dir);
    expect(r.status).toBe(0);
    expect(allCalls(log).some((l) => l.startsWith('kubectl delete namespace'))).toBe(false);
    expect(r.stdout).toContain('namespace gitea still holds Helm releases: kept');
  });

  it('a release already gone: nothing to read, nothing kept; its PVCs still go', () => {
    const { dir, log } = uninstallStandIns({ createdBy: owner, released: false });
    expect(runScript(text('uninstall'), dir).status).toBe(0);
    const c = allCalls(log);
    expect(c.some((l) => l.startsWith('helm get'))).toBe(false);
    expect(c.some((l) => l.includes('/tmp/kept-0.yaml'))).toBe(false);
    expect(c).toContain('kubectl delete persistentvolumeclaims --namespace gitea -l app.kubernetes.io/instance=gitea --ignore-not-found --wait=true');
  });
});
