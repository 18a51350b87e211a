// Starts ONE control plane (etcd + kube-apiserver) for the whole cluster test run and hands
// its kubeconfig to the test files through vitest's provide/inject.
import type { TestProject } from 'vitest/node';
import { startControlPlane } from './harness.js';
import type {} from './support.js'; // ProvidedContext typings

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const controlPlane = await startControlPlane();
  project.provide('kubeconfig', controlPlane.kubeconfig);
  project.provide('binDir', controlPlane.binDir);
  project.provide('server', controlPlane.server);
  return async () => {
    await controlPlane.stop();
  };
}
