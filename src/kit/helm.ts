/**
 * The "HelmRelease-equivalent": a values ConfigMap plus a Job that runs `helm upgrade --install --wait`
 * for one or more releases in order, then applies extra manifests with kubectl. Used by every
 * Helm-installed provider. Both objects are named after a hash of everything that defines the install,
 * so a spec change makes a new Job and the old one is dropped (DESIGN.md decision 1).
 */
import { stringify } from 'yaml';
import type { KubeObject } from '../metacontroller/protocol.js';
import type { HookEnv } from '../controllers/types.js';
import { shortHash } from './canonical.js';
import { configMapObject, jobObject } from './jobs.js';
import { ownerLabels } from './labels.js';
import { hashedName } from './names.js';
import { q } from './shell.js';

export interface SecretValue {
  /** Helm value path, e.g. `configs.secret.argocdServerAdminPassword`. */
  path: string;
  /** A Secret in the parent's namespace (one of the parent's children). */
  secret: string;
  key: string;
}

export interface HelmRelease {
  name: string;
  namespace: string;
  repository: string;
  chart: string;
  version?: string;
  values: Record<string, unknown>;
  /** Values read from Secrets at install time with --set-file: they never enter the ConfigMap. */
  secretValues?: SecretValue[];
  /** Values layered over `values` in the GitOps copy of the release (bootstrap repositories): what keeps
   *  Argo CD from undoing what only the install Job can set, such as secret values. */
  gitOpsValues?: Record<string, unknown>;
  timeout?: string;
}

/** A release of `chart` (repository, chart, version) with the given values; `extra` adds secret or GitOps values. */
export function release(
  name: string,
  namespace: string,
  chart: { repository: string; chart: string; version?: string },
  values: Record<string, unknown>,
  extra: Pick<HelmRelease, 'secretValues' | 'gitOpsValues' | 'timeout'> = {},
): HelmRelease {
  return { name, namespace, repository: chart.repository, chart: chart.chart, version: chart.version, values, ...extra };
}

export interface InstallPlan {
  releases: HelmRelease[];
  /** Objects applied with kubectl after the releases (things a chart cannot make, e.g. AppProjects). */
  manifests?: KubeObject[];
  /** Digests of the Secrets the install reads, so a changed credential makes a new Job. */
  secretDigests?: Record<string, string>;
  /** Conditions to wait for after the manifests are applied (e.g. a Gateway becoming Programmed). */
  waitFor?: { resource: string; name: string; namespace: string; condition: string; timeout?: string }[];
}

export const ROLE_INSTALL = 'install';
export const ROLE_UNINSTALL = 'uninstall';
export const ROLE_HELM_VALUES = 'helm-values';

/** `helm` chart argument(s) for a repository URL: classic repo (`--repo`) or OCI reference. */
export function chartRef(r: Pick<HelmRelease, 'repository' | 'chart'>): string[] {
  if (r.repository.startsWith('oci://')) {
    const repo = r.repository.replace(/\/+$/, '');
    return [repo.split('/').pop() === r.chart ? repo : `${repo}/${r.chart}`];
  }
  return [r.chart, '--repo', r.repository];
}

function installScript(plan: InstallPlan): string {
  const lines = ['#!/bin/sh', 'set -eu'];
  plan.releases.forEach((r, i) => {
    const args = [
      'helm', 'upgrade', '--install', r.name, ...chartRef(r),
      ...(r.version ? ['--version', r.version] : []),
      '--namespace', r.namespace, '--create-namespace',
      '--values', `/config/values-${i}.yaml`,
      ...(r.secretValues ?? []).flatMap((s) => ['--set-file', `${s.path}=/secrets/${s.secret}/${s.key}`]),
      '--wait', '--timeout', r.timeout ?? '10m',
    ];
    lines.push(`echo ${q(`[${i + 1}/${plan.releases.length}] helm upgrade --install ${r.name} (${r.chart}${r.version ? ` ${r.version}` : ''}) in ${r.namespace}`)}`);
    lines.push(args.map(q).join(' '));
  });
  if (plan.manifests?.length) {
    lines.push('echo applying extra manifests');
    lines.push('n=0; until kubectl apply --server-side --force-conflicts --field-manager=idpbuilder -f /config/manifests.yaml; do');
    lines.push('  n=$((n+1)); [ "$n" -ge 10 ] && exit 1; echo "retrying in 6s"; sleep 6');
    lines.push('done');
  }
  for (const w of plan.waitFor ?? []) {
    lines.push(`echo ${q(`waiting for ${w.resource}/${w.name} in ${w.namespace} to be ${w.condition}`)}`);
    lines.push(['kubectl', 'wait', `--for=condition=${w.condition}`, `${w.resource}/${w.name}`, '--namespace', w.namespace, `--timeout=${w.timeout ?? '5m'}`].map(q).join(' '));
  }
  lines.push('echo done');
  return `${lines.join('\n')}\n`;
}

function uninstallScript(plan: InstallPlan): string {
  const lines = ['#!/bin/sh', 'set -eu'];
  if (plan.manifests?.length) lines.push('kubectl delete --ignore-not-found --wait=true -f /config/manifests.yaml');
  for (const r of [...plan.releases].reverse()) {
    lines.push(`echo ${q(`helm uninstall ${r.name} in ${r.namespace}`)}`);
    lines.push(['helm', 'uninstall', r.name, '--namespace', r.namespace, '--wait', '--ignore-not-found', '--timeout', r.timeout ?? '10m'].map(q).join(' '));
  }
  lines.push('echo done');
  return `${lines.join('\n')}\n`;
}

export interface InstallChildren {
  name: string;
  configMap: KubeObject;
  job: KubeObject;
}

/** The summary a values ConfigMap carries, readable by the Platform to hand the component to GitOps. */
export type ReleaseSummary = Pick<HelmRelease, 'name' | 'namespace' | 'repository' | 'chart' | 'version' | 'values' | 'gitOpsValues'>;

export function helmJob(parent: KubeObject, plan: InstallPlan, env: HookEnv, action: 'install' | 'uninstall' = 'install'): InstallChildren {
  const namespace = parent.metadata.namespace ?? 'default';
  const identity = {
    releases: plan.releases.map((r) => ({ ...r, timeout: r.timeout ?? '10m' })),
    manifests: plan.manifests ?? [],
    secrets: plan.secretDigests ?? {},
    ...(plan.waitFor?.length ? { waitFor: plan.waitFor } : {}),
  };
  const name = hashedName([parent.metadata.name, action], identity);
  const role = action === 'install' ? ROLE_INSTALL : ROLE_UNINSTALL;
  const labels = { ...ownerLabels(parent, role) };
  const data: Record<string, string> = {
    'run.sh': action === 'install' ? installScript(plan) : uninstallScript(plan),
    'releases.json': JSON.stringify(
      plan.releases.map(
        (r): ReleaseSummary => ({ name: r.name, namespace: r.namespace, repository: r.repository, chart: r.chart, version: r.version, values: r.values, gitOpsValues: r.gitOpsValues }),
      ),
    ),
  };
  plan.releases.forEach((r, i) => (data[`values-${i}.yaml`] = stringify(r.values, { aliasDuplicateObjects: false, lineWidth: 0 })));
  if (plan.manifests?.length) data['manifests.yaml'] = plan.manifests.map((m) => stringify(m, { aliasDuplicateObjects: false, lineWidth: 0 })).join('---\n');
  const cmLabels = action === 'install' ? { ...labels, 'idpbuilder.cnoe.io/helm-values': 'true' } : labels;
  const secrets = [...new Set(plan.releases.flatMap((r) => (r.secretValues ?? []).map((s) => s.secret)))].sort();
  return {
    name,
    configMap: configMapObject(name, namespace, cmLabels, data),
    job: jobObject(
      {
        name,
        namespace,
        labels,
        ownerUid: parent.metadata.uid,
        command: ['/bin/sh', '/config/run.sh'],
        configMap: name,
        secrets: action === 'install' ? secrets : [],
        backoffLimit: 2,
        activeDeadlineSeconds: 1800 + 600 * plan.releases.length,
        serviceAccount: 'installer',
      },
      env,
    ),
  };
}

/** Digest of a Secret's data (for InstallPlan.secretDigests): changes when a value changes, reveals nothing. */
export function secretDigest(data: Record<string, string>): string {
  return shortHash(data, 16);
}

/** Deep merge for Helm values: objects merge key by key, anything else (arrays included) is replaced. */
export function mergeValues(...layers: (Record<string, unknown> | undefined)[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const layer of layers) {
    if (!layer) continue;
    for (const [k, v] of Object.entries(layer)) {
      const cur = out[k];
      if (isPlainObject(cur) && isPlainObject(v)) out[k] = mergeValues(cur, v);
      else if (v !== undefined) out[k] = isPlainObject(v) ? mergeValues(v) : v;
    }
  }
  return out;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}
