/**
 * The install Job's script, run with stand-in `helm` and `kubectl` executables: a release left
 * `pending-*` by a killed helm is recovered before the upgrade, and SIGTERM reaches helm.
 */
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { helmJob, release } from '../../../src/kit/helm.js';
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
