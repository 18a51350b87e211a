// Cluster tests: a real kube-apiserver + etcd on loopback (see docs/testing.md).
// Run with `npm run test:cluster`; the binaries come from scripts/test-tools.sh.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/cluster/**/*.test.ts'],
    globalSetup: ['test/cluster/global-setup.ts'],
    testTimeout: 120_000,
    hookTimeout: 600_000,
    teardownTimeout: 60_000,
    fileParallelism: false,
    pool: 'forks',
  },
});
