/**
 * `idpbuilder get clusters` with target clusters (docs/multi-cluster.md): the kind clusters as today, and the
 * clusters the Platforms of the current cluster report in status.clusters; offline (no kubeconfig context) only
 * kind is asked.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../../fixtures/cli/canned.js';
import { standIns, type Rule, type StandIns } from '../../fixtures/cli/standins.js';
import { targetClusters } from '../../../src/cli/get.js';

let si: StandIns | undefined;
afterEach(() => {
  si?.cleanup();
  si = undefined;
});

const list = (items: unknown[]) => JSON.stringify({ apiVersion: 'v1', kind: 'List', items });
const platform = {
  apiVersion: 'idpbuilder.cnoe.io/v1alpha2',
  kind: 'Platform',
  metadata: { name: 'edge', namespace: 'fleet' },
  status: {
    clusters: [
      { name: 'fleet-vc-dev', kind: 'VCluster', ref: 'VCluster/dev', server: 'https://dev.fleet.svc:443', reachable: false, members: ['GiteaProvider/edge-gitea', 'NginxGateway/edge-nginx'] },
      { name: 'in-cluster', kind: 'InCluster', reachable: true, members: ['ArgoCDProvider/edge-argocd'] },
    ],
  },
};
const view = (current?: string) =>
  JSON.stringify({ clusters: [{ name: 'kind-localdev', cluster: { server: 'https://127.0.0.1:36443' } }], contexts: [{ name: 'kind-localdev' }], ...(current ? { 'current-context': current } : {}) });

function clusterStandIns(kubectl: Rule[]): StandIns {
  return standIns({ kind: [{ match: 'get clusters', stdout: 'localdev\n' }], kubectl });
}

describe('get clusters with target clusters', () => {
  it('table: the kind clusters as today, then the targets of each Platform with their health and what runs there', async () => {
    si = clusterStandIns([
      { match: 'config view -o json', stdout: view('kind-localdev') },
      { match: '--context kind-localdev get platforms.idpbuilder.cnoe.io -A -o json', stdout: list([platform]) },
    ]);
    const r = await runCli(['get', 'clusters'], si);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const [kindPart, targetPart] = r.out.split('\n\n');
    expect(kindPart.split('\n')[1].split(/\s{2,}/)[0]).toBe('localdev');
    const [header, ...rows] = targetPart.trimEnd().split('\n');
    expect(header.split(/\s{2,}/)).toEqual(['NAME', 'PLATFORM', 'KIND', 'REF', 'KUBE-API', 'REACHABLE', 'MEMBERS']);
    expect(rows.map((l) => l.split(/\s{2,}/))).toEqual([
      ['fleet-vc-dev', 'fleet/edge', 'VCluster', 'VCluster/dev', 'https://dev.fleet.svc:443', 'false', 'GiteaProvider/edge-gitea,NginxGateway/edge-nginx'],
      ['in-cluster', 'fleet/edge', 'InCluster', '-', '-', 'true', 'ArgoCDProvider/edge-argocd'],
    ]);
  });

  it('-o json: today\'s array of kind clusters, then one entry per target with today\'s keys and Platform, Kind, Ref, Reachable, Members', async () => {
    si = clusterStandIns([
      { match: 'config view -o json', stdout: view('kind-localdev') },
      { match: '*get platforms.idpbuilder.cnoe.io*', stdout: list([platform]) },
    ]);
    const clusters = JSON.parse((await runCli(['get', 'clusters', '-o', 'json'], si)).out);
    expect(clusters.map((c: { Name: string }) => c.Name)).toEqual(['localdev', 'fleet-vc-dev', 'in-cluster']);
    expect(Object.keys(clusters[0])).toEqual(['Name', 'URLKubeApi', 'KubePort', 'TlsCheck', 'ExternalPort', 'Nodes']);
    expect(clusters[1]).toEqual({
      Name: 'fleet-vc-dev',
      URLKubeApi: 'https://dev.fleet.svc:443',
      KubePort: 0,
      TlsCheck: false,
      ExternalPort: 0,
      Nodes: null,
      Platform: 'fleet/edge',
      Kind: 'VCluster',
      Ref: 'VCluster/dev',
      Reachable: false,
      Members: ['GiteaProvider/edge-gitea', 'NginxGateway/edge-nginx'],
    });
  });

  it('--context names the cluster whose Platforms are read', async () => {
    si = clusterStandIns([
      { match: 'config view -o json', stdout: view() },
      { match: '--context mgmt get platforms.idpbuilder.cnoe.io -A -o json', stdout: list([platform]) },
    ]);
    const r = await runCli(['get', 'clusters', '--context', 'mgmt'], si);
    expect(r.code).toBe(0);
    expect(si.calls()).toContain('kubectl --context mgmt get platforms.idpbuilder.cnoe.io -A -o json');
    expect(r.out).toContain('fleet-vc-dev');
  });

  it('offline: no kubeconfig context, only kind is asked and its clusters are listed', async () => {
    si = clusterStandIns([{ match: 'config view -o json', stdout: JSON.stringify({ clusters: null, contexts: null, users: null }) }]);
    const r = await runCli(['get', 'clusters'], si);
    expect(r.code).toBe(0);
    expect(si.calls()).toEqual(['kind get clusters', 'kubectl config view -o json']);
    expect(r.out.trimEnd().split('\n').map((l) => l.split(/\s{2,}/)[0])).toEqual(['NAME', 'localdev']);
    expect(r.err).toBe('Cluster not found: localdev within kube config file\n');
  });

  it('a cluster that cannot be read: the kind clusters are still listed, one line says why the targets are missing', async () => {
    si = clusterStandIns([
      { match: 'config view -o json', stdout: view('kind-localdev') },
      { match: '*get platforms.idpbuilder.cnoe.io*', exit: 1 },
    ]);
    const r = await runCli(['get', 'clusters'], si);
    expect(r.code).toBe(0);
    expect(r.out.trimEnd().split('\n').map((l) => l.split(/\s{2,}/)[0])).toEqual(['NAME', 'localdev']);
    expect(r.err).toMatch(/^target clusters: cannot read Platforms of context kind-localdev: kubectl get platforms\.idpbuilder\.cnoe\.io failed \(exit 1\)/);
    expect(r.err.trimEnd().split('\n')).toHaveLength(1);
  });

  it('a Platform without status.clusters (or an older one) adds no target', () => {
    expect(targetClusters([{ ...platform, status: {} } as never, { ...platform, status: { clusters: [{ kind: 'Secret' }] } } as never])).toEqual([]);
  });
});
