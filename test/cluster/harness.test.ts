// The harness itself: a control plane starts, answers as an admin, and stop() leaves nothing.
import { describe, expect, it } from 'vitest';
import { processExists, startControlPlane } from './harness.js';
import { cluster } from './support.js';

describe('control plane harness', () => {
  it('serves the shared control plane to the tests', async () => {
    const kube = cluster();
    const version = await kube.kubectl(['version', '-o', 'json']);
    expect(version.code, version.stderr).toBe(0);
    const parsed = JSON.parse(version.stdout) as {
      clientVersion?: { gitVersion?: string };
      serverVersion?: { gitVersion?: string };
    };
    expect(parsed.serverVersion?.gitVersion).toMatch(/^v1\.\d+\.\d+/);
    // The kubectl built with the server comes first on PATH: versions match exactly.
    expect(parsed.clientVersion?.gitVersion).toBe(parsed.serverVersion?.gitVersion);
  });

  it('starts its own control plane, grants admin, and stop() kills every process', async () => {
    const cp = await startControlPlane({ binDir: cluster().binDir });
    let stopped = false;
    try {
      expect(cp.server).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      expect(cp.env.KUBECONFIG).toBe(cp.kubeconfig);
      expect(cp.env.PATH?.split(':')[0]).toBe(cp.binDir);

      const version = await cp.kubectl(['version']);
      expect(version.code, version.stderr).toBe(0);
      expect(version.stdout).toMatch(/Server Version: v1\.\d+/);

      const canI = await cp.kubectl(['auth', 'can-i', '*', '*']);
      expect(canI.code, canI.stderr).toBe(0);
      expect(canI.stdout.trim()).toBe('yes');

      // The serving certificate is verified (no insecure-skip-tls-verify in the kubeconfig).
      const raw = await cp.kubectl(['get', '--raw', '/readyz']);
      expect(raw.stdout.trim()).toBe('ok');

      const helm = await cp.helm(['version', '--short']);
      expect(helm.code, helm.stderr).toBe(0);

      expect(processExists(cp.pids.etcd)).toBe(true);
      expect(processExists(cp.pids.apiServer)).toBe(true);
      await cp.stop();
      stopped = true;
      expect(() => process.kill(cp.pids.etcd, 0)).toThrow();
      expect(() => process.kill(cp.pids.apiServer, 0)).toThrow();
      // stop() is idempotent
      await cp.stop();
    } finally {
      if (!stopped) await cp.stop();
    }
  });
});
