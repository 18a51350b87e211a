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

const calls = (log: string) => readFileSync(log, 'utf8').trim().split('\n');

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
      expect(calls(log).filter((l) => !l.startsWith('helm status'))).toEqual([expect.stringMatching(/^helm upgrade --install ingress-nginx ingress-nginx --repo/)]);
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
    writeFileSync(join(dir, 'kubectl'), `#!/bin/sh\necho "kubectl $*" >> ${log}\nif [ "$1" = get ]; then c=$(grep -c '^kubectl get' ${log}); [ "$c" -ge 2 ] && echo deployment.apps/x; fi\n`);
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

