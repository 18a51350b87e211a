/**
 * The "HelmRelease-equivalent": a values ConfigMap plus a Job that runs `helm upgrade --install --wait`
 * for one or more releases in order, then applies extra manifests with kubectl. Used by every
 * Helm-installed provider. Both objects are named after a hash of everything that defines the install,
 * so a spec change makes a new Job; the old one stays until the new one finished (src/kit/contract.ts).
 */
import { stringify } from 'yaml';
import type { KubeObject } from '../metacontroller/protocol.js';
import type { HookEnv } from './hooks.js';
import { shortHash } from './canonical.js';
import { durationSeconds } from './duration.js';
import { configMapObject, jobObject } from './jobs.js';
import { ownerLabels } from './labels.js';
import { hashedName } from './names.js';
import { q } from './shell.js';
import { MANAGED_BY } from '../api/names.js';

/**
 * A Helm value taken from a Secret at install time: the value's path, the Secret (a child in the parent's namespace)
 * and key. The install Job passes it with `--set-file`, so the value never enters the values ConfigMap.
 */
export interface SecretValue {
  /** Helm value path, e.g. `configs.secret.argocdServerAdminPassword`. */
  path: string;
  /** A Secret in the parent's namespace (one of the parent's children). */
  secret: string;
  key: string;
}

/**
 * A Secret the install Job writes into the release namespace before `helm upgrade`, copied key by key from a
 * child Secret (parent's namespace) mounted read-only at `/secrets/<from>`: how a chart gets a credential by
 * name (e.g. the Gitea chart's `gitea.admin.existingSecret`) without its value ever being in the values, a
 * command line, a ConfigMap, a pod spec or the GitOps copy. The uninstall Job deletes it after `helm
 * uninstall`; with `deletionPolicy: Retain` it stays with the release. Its content enters the install Job's
 * identity only through `InstallPlan.secretDigests` of `from`.
 */
export interface ReleaseSecret {
  /** Name in the release namespace (DNS-1123). */
  name: string;
  /** The child Secret the keys are read from (mounted into the install Job). */
  from: string;
  /** Keys copied, under the same names; each must exist in `from` (else the Job fails before the release). */
  keys: string[];
  /** Keys whose values are not secret (e.g. an Argo CD cluster Secret's `name` and `server`), written as given
   *  (`--from-literal`): they are in the install ConfigMap, so they must never hold a credential. */
  literals?: Record<string, string>;
  /** Labels of the Secret, beside `app.kubernetes.io/managed-by: idpbuilder`. */
  labels?: Record<string, string>;
  /** Workloads of the release (`deployment/<name>`, `statefulset/<name>`) restarted after the upgrade when the
   *  Secret existed and its content changed: pods read a Secret through `secretKeyRef` only when they start. */
  restart?: string[];
}

/**
 * One Helm release an install Job runs `helm upgrade --install` for: release name and namespace, chart `repository`
 * (https:// or oci://), `chart` and `version`, the values (written into the values ConfigMap), values from Secrets,
 * Secrets written before the release, GitOps-only values, the helm `--timeout` (a Go duration) and workloads to await
 * with `kubectl rollout status` instead of `--wait`.
 */
export interface HelmRelease {
  name: string;
  namespace: string;
  repository: string;
  chart: string;
  version?: string;
  values: Record<string, unknown>;
  /** Values read from Secrets at install time with --set-file: they never enter the ConfigMap. */
  secretValues?: SecretValue[];
  /** Secrets written into the release namespace before the release (see ReleaseSecret). */
  secrets?: ReleaseSecret[];
  /** Values layered over `values` in the GitOps copy of the release (bootstrap repositories): what keeps
   *  Argo CD from undoing what only the install Job can set, such as secret values. */
  gitOpsValues?: Record<string, unknown>;
  timeout?: string;
  /**
   * Workloads (`deployment/<name>`) awaited with `kubectl rollout status` instead of `helm --wait`. For a
   * release whose LoadBalancer Service may never get an address (no load balancer implementation, e.g. kind):
   * helm's --wait also waits for `status.loadBalancer.ingress` of every LoadBalancer Service (helm v3
   * pkg/kube/ready.go serviceReady), so it would time out with everything running.
   */
  waitRollout?: string[];
}

/** A release of `chart` (repository, chart, version) with the given values; `extra` adds secret or GitOps values. */
export function release(
  name: string,
  namespace: string,
  chart: { repository: string; chart: string; version?: string },
  values: Record<string, unknown>,
  extra: Pick<HelmRelease, 'secretValues' | 'secrets' | 'gitOpsValues' | 'timeout' | 'waitRollout'> = {},
): HelmRelease {
  return { name, namespace, repository: chart.repository, chart: chart.chart, version: chart.version, values, ...extra };
}

/**
 * What one install Job does: its releases in order, then the manifests applied with kubectl, then the conditions to
 * wait for; the digests of the Secrets it reads (so a changed credential makes a new Job) and the target cluster
 * (absent: the management cluster).
 */
export interface InstallPlan {
  releases: HelmRelease[];
  /** Objects applied with kubectl after the releases (things a chart cannot make, e.g. AppProjects). */
  manifests?: KubeObject[];
  /** Digests of the Secrets the install reads, so a changed credential makes a new Job. */
  secretDigests?: Record<string, string>;
  /** Conditions to wait for after the manifests are applied, in order (e.g. a Gateway becoming Programmed). */
  waitFor?: WaitFor[];
  /**
   * The cluster the releases go to (src/kit/cluster.ts): its kubeconfig Secret is mounted and `KUBECONFIG`
   * points at it for the whole script. Part of the install's identity, and recorded in the values ConfigMap
   * (`target.json`) so the uninstall goes to the cluster the release was installed into. Absent: the
   * management cluster (the Job's ServiceAccount).
   */
  target?: InstallTarget;
}

/** Where an install goes: a kubeconfig Secret (parent's namespace) and key, and the cluster's registered name. */
export interface InstallTarget {
  secret: string;
  key: string;
  registeredName: string;
}

/**
 * One `kubectl wait --for=condition=<condition>` of the install script (timeout default `5m`): for the object
 * `name`, or for every object matching `selector` (label map) once at least one exists. Objects made by a
 * controller later (e.g. Envoy Gateway's proxy Deployment) may not exist yet, and `kubectl wait -l` fails at
 * once when nothing matches: the script polls every 5 s for one, within the same timeout.
 */
export type WaitFor = { resource: string; namespace: string; condition: string; timeout?: string } & ({ name: string; selector?: never } | { selector: Record<string, string>; name?: never });

/**
 * Value of the `idpbuilder.cnoe.io/role` label on install Jobs and their values ConfigMaps (uninstall Jobs carry
 * `uninstall`).
 */
export const ROLE_INSTALL = 'install';
const ROLE_UNINSTALL = 'uninstall';

/**
 * Where a chart is, in the two forms helm takes it: the `helm upgrade` argument(s) and the `Chart.yaml`
 * dependency entry (`repository` + `name`). The one rule for both: an OCI `repository` may name the chart
 * itself (`oci://docker.io/envoyproxy/gateway-helm` with chart `gateway-helm`: its last path segment is the
 * chart) or the registry path above it (`oci://ghcr.io/argoproj/argo-helm` with chart `argo-cd`). Helm
 * resolves an OCI dependency as `<repository>/<name>:<version>` (`findChartURL` in helm's
 * pkg/downloader/manager.go), so the dependency's repository is always the path above the chart. A
 * classic repository (http/https) is passed with `--repo` and used as the dependency repository as is.
 */
export interface ChartLocation {
  /** Arguments of `helm upgrade --install <release>`: `[oci://…/<chart>]` or `[<chart>, --repo, <url>]`. */
  args: string[];
  /** The `dependencies[]` entry of an umbrella chart that resolves to the same chart. */
  dependency: { name: string; repository: string };
}

/**
 * Where a release's chart is, in the two forms helm takes it (see ChartLocation): for `oci://` the reference ending
 * in the chart, whether `repository` names the chart or the path above it; for http(s) `[chart, --repo, repository]`.
 */
export function chartLocation(r: Pick<HelmRelease, 'repository' | 'chart'>): ChartLocation {
  if (r.repository.startsWith('oci://')) {
    const repo = r.repository.replace(/\/+$/, '');
    // `oci://host` alone has no path segment that could be the chart
    const path = repo.slice('oci://'.length).split('/');
    const namesChart = path.length > 1 && path[path.length - 1] === r.chart;
    const ref = namesChart ? repo : `${repo}/${r.chart}`;
    return { args: [ref], dependency: { name: r.chart, repository: ref.slice(0, -(r.chart.length + 1)) } };
  }
  return { args: [r.chart, '--repo', r.repository], dependency: { name: r.chart, repository: r.repository } };
}

/** `helm` chart argument(s) for a repository URL: classic repo (`--repo`) or OCI reference (chartLocation). */
function chartRef(r: Pick<HelmRelease, 'repository' | 'chart'>): string[] {
  return chartLocation(r).args;
}

/**
 * Shell functions of the install (RUN_FN, RECOVER_FN) and uninstall (RUN_FN) scripts:
 * - `run CMD…` runs a command in the background and forwards SIGTERM/SIGINT to it, so that helm (which
 *   cancels its operation and records the release as failed on SIGTERM) is not SIGKILLed with the shell
 *   (PID 1 ignores SIGTERM) when the Pod is stopped;
 * - `recover RELEASE NAMESPACE` frees a release that a killed helm left `pending-install`,
 *   `pending-upgrade` or `pending-rollback` (helm's release lock: every later operation fails with
 *   "another operation (install/upgrade/rollback) is in progress"). A pending first install has no
 *   revision to roll back to, so it is uninstalled (the install that follows re-creates it); a pending
 *   upgrade or rollback is rolled back to the previous revision.
 */
const RUN_FN = [
  'run() {',
  '  "$@" &',
  '  child=$!',
  '  trap \'kill -TERM "$child" 2>/dev/null\' TERM INT',
  '  rc=0',
  '  while :; do',
  '    wait "$child" && rc=0 || rc=$?',
  '    kill -0 "$child" 2>/dev/null || break',
  '  done',
  '  trap - TERM INT',
  '  return "$rc"',
  '}',
];
const RECOVER_FN = [
  'recover() {',
  '  state=$(helm status "$1" --namespace "$2" -o json 2>/dev/null | grep -o \'"status":"pending-[a-z]*"\' | head -n 1 || true)',
  '  case "$state" in',
  '    *pending-install*) echo "release $1 was left pending-install: uninstalling it before installing again"; run helm uninstall "$1" --namespace "$2" --wait --timeout 10m ;;',
  '    *pending-*) echo "release $1 was left ${state#*:}: rolling back to the previous revision"; run helm rollback "$1" --namespace "$2" --wait --timeout 10m ;;',
  '  esac',
  '}',
];

/**
 * Annotation on a namespace the install Job created: who created it (`<Kind>/<namespace>/<name>` of the
 * provider object, see installOwner). The uninstall Job (deletionPolicy Delete) deletes a release namespace
 * only when this annotation names its own provider and no Helm release is left in it; a namespace that
 * existed before the install has no such annotation and stays.
 */
const ANNOTATION_CREATED_BY = 'idpbuilder.cnoe.io/created-by';

/** The value of ANNOTATION_CREATED_BY for a provider object: `<Kind>/<namespace>/<name>`. */
function installOwner(parent: Pick<KubeObject, 'kind' | 'metadata'>): string {
  return `${parent.kind}/${parent.metadata.namespace ?? 'default'}/${parent.metadata.name}`;
}

/** The release namespaces of a plan, each once, in release order. */
function releaseNamespaces(plan: InstallPlan): string[] {
  return [...new Set(plan.releases.map((r) => r.namespace))];
}

/**
 * Script lines that create namespace `ns` with ANNOTATION_CREATED_BY = `owner` when it does not exist (in one
 * request, so a namespace we created always says so); an existing namespace is left as it is.
 */
function namespaceEnsure(ns: string, owner: string): string[] {
  return [
    `if ! kubectl get namespace ${q(ns)} >/dev/null 2>&1; then`,
    `  echo ${q(`creating namespace ${ns}`)}`,
    `  ${['kubectl', 'create', 'namespace', ns, '--dry-run=client', '-o', 'yaml'].map(q).join(' ')} | ${['kubectl', 'annotate', '--local', '-f', '-', `${ANNOTATION_CREATED_BY}=${owner}`, '-o', 'yaml'].map(q).join(' ')} | ${['kubectl', 'create', '-f', '-'].map(q).join(' ')}`,
    'fi',
  ];
}

function installScript(plan: InstallPlan, owner: string): string {
  const lines = ['#!/bin/sh', 'set -eu', ...RUN_FN, ...RECOVER_FN];
  for (const ns of releaseNamespaces(plan)) lines.push(...namespaceEnsure(ns, owner));
  plan.releases.forEach((r, i) => {
    const args = [
      'helm', 'upgrade', '--install', r.name, ...chartRef(r),
      ...(r.version ? ['--version', r.version] : []),
      '--namespace', r.namespace, '--create-namespace',
      '--values', `/config/values-${i}.yaml`,
      ...(r.secretValues ?? []).flatMap((s) => ['--set-file', `${s.path}=/secrets/${s.secret}/${s.key}`]),
      ...(r.waitRollout?.length ? [] : ['--wait']), '--timeout', r.timeout ?? '10m',
    ];
    lines.push(...releaseSecretsApply(r, i));
    lines.push(`echo ${q(`[${i + 1}/${plan.releases.length}] helm upgrade --install ${r.name} (${r.chart}${r.version ? ` ${r.version}` : ''}) in ${r.namespace}`)}`);
    lines.push(['recover', r.name, r.namespace].map(q).join(' '));
    lines.push(['run', ...args].map(q).join(' '));
    for (const w of r.waitRollout ?? []) lines.push(['run', 'kubectl', 'rollout', 'status', w, '--namespace', r.namespace, `--timeout=${r.timeout ?? '10m'}`].map(q).join(' '));
    lines.push(...releaseSecretsRestart(r, i));
  });
  if (plan.manifests?.length) {
    lines.push('echo applying extra manifests');
    lines.push('n=0; until kubectl apply --server-side --force-conflicts --field-manager=idpbuilder -f /config/manifests.yaml; do');
    lines.push('  n=$((n+1)); [ "$n" -ge 10 ] && exit 1; echo "retrying in 6s"; sleep 6');
    lines.push('done');
  }
  for (const w of plan.waitFor ?? []) {
    const timeout = w.timeout ?? '5m';
    if (w.selector) {
      const selector = Object.entries(w.selector).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => `${k}=${v}`).join(',');
      const get = ['kubectl', 'get', w.resource, '-l', selector, '--namespace', w.namespace, '-o', 'name'].map(q).join(' ');
      lines.push(`echo ${q(`waiting for ${w.resource} -l ${selector} in ${w.namespace} to exist and be ${w.condition}`)}`);
      lines.push(`n=0; until [ -n "$(${get} 2>/dev/null)" ]; do`);
      lines.push(`  n=$((n+1)); [ "$n" -ge ${Math.max(1, Math.ceil(durationSeconds(timeout, 300) / 5))} ] && { echo ${q(`no ${w.resource} -l ${selector} in ${w.namespace} after ${timeout}`)}; exit 1; }; sleep 5`);
      lines.push('done');
      lines.push(['kubectl', 'wait', `--for=condition=${w.condition}`, w.resource, '-l', selector, '--namespace', w.namespace, `--timeout=${timeout}`].map(q).join(' '));
    } else {
      lines.push(`echo ${q(`waiting for ${w.resource}/${w.name} in ${w.namespace} to be ${w.condition}`)}`);
      lines.push(['kubectl', 'wait', `--for=condition=${w.condition}`, `${w.resource}/${w.name}`, '--namespace', w.namespace, `--timeout=${timeout}`].map(q).join(' '));
    }
  }
  lines.push('echo done');
  return `${lines.join('\n')}\n`;
}

/** Annotation on a release Secret: SHA-256 over its mounted source files, to tell a changed content. */
export const RELEASE_SECRET_DIGEST = 'idpbuilder.cnoe.io/content-sha256';

/** Shell variable that says whether release secret `j` of release `i` changed (set by releaseSecretsApply). */
const changedVar = (i: number, j: number) => `secret_changed_${i}_${j}`;

/**
 * Script lines that write `r.secrets` into the release namespace (which the install script has created before,
 * with namespaceEnsure): `kubectl create secret generic --from-file` of the mounted child Secret,
 * rendered locally and applied server-side, so values travel only through files and pipes, never argv.
 */
function releaseSecretsApply(r: HelmRelease, i: number): string[] {
  if (!r.secrets?.length) return [];
  // the namespace exists: the install script created it first (namespaceEnsure, marked as ours)
  const lines: string[] = [];
  r.secrets.forEach((s, j) => {
    const dir = `/secrets/${s.from}`;
    const labels = { ...(s.labels ?? {}), ...MANAGED_BY };
    const get = ['kubectl', 'get', 'secret', s.name, '--namespace', r.namespace, `-o=jsonpath={.metadata.annotations.${RELEASE_SECRET_DIGEST.replace(/\./g, '\\.')}}`];
    lines.push(`echo ${q(`writing secret ${s.name} in ${r.namespace} from ${s.from} (${s.keys.join(', ')})`)}`);
    // A missing key fails here (set -e), before anything is written.
    lines.push(`new=$(cd ${q(dir)} && sha256sum ${s.keys.map(q).join(' ')})`);
    lines.push(`new=$(printf '%s\\n' "$new" | sha256sum | cut -c1-64)`);
    lines.push(`${changedVar(i, j)}=; if old=$(${get.map(q).join(' ')} 2>/dev/null) && [ "$old" != "$new" ]; then ${changedVar(i, j)}=1; fi`);
    lines.push(
      [
        ['kubectl', 'create', 'secret', 'generic', s.name, '--namespace', r.namespace, ...s.keys.map((k) => `--from-file=${k}=${dir}/${k}`), ...Object.entries(s.literals ?? {}).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => `--from-literal=${k}=${v}`), '--dry-run=client', '-o', 'yaml'].map(q).join(' '),
        `kubectl annotate --local -f - ${q(RELEASE_SECRET_DIGEST)}="$new" -o yaml`,
        ['kubectl', 'label', '--local', '-f', '-', ...Object.entries(labels).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => `${k}=${v}`), '-o', 'yaml'].map(q).join(' '),
        ['kubectl', 'apply', '--server-side', '--force-conflicts', '--field-manager=idpbuilder', '-f', '-'].map(q).join(' '),
      ].join(' | '),
    );
  });
  return lines;
}

/** Script lines after `helm upgrade`: restart `restart` workloads of each release Secret whose content changed. */
function releaseSecretsRestart(r: HelmRelease, i: number): string[] {
  const lines: string[] = [];
  (r.secrets ?? []).forEach((s, j) => {
    if (!s.restart?.length) return;
    const restart = ['kubectl', 'rollout', 'restart', ...s.restart, '--namespace', r.namespace].map(q).join(' ');
    const status = s.restart.map((w) => ['kubectl', 'rollout', 'status', w, '--namespace', r.namespace, `--timeout=${r.timeout ?? '10m'}`].map(q).join(' '));
    // One command per line: set -e does not stop on a failure inside an && list.
    lines.push(`if [ -n "$${changedVar(i, j)}" ]; then`, `  echo ${q(`secret ${s.name} changed: restarting ${s.restart.join(', ')}`)}`, `  ${restart}`, ...status.map((c) => `  ${c}`), 'fi');
  });
  return lines;
}

/** Script lines after `helm uninstall`: delete the release's Secrets. */
function releaseSecretsDelete(r: Pick<HelmRelease, 'namespace' | 'secrets'>): string[] {
  if (!r.secrets?.length) return [];
  return [['kubectl', 'delete', 'secret', ...r.secrets.map((s) => s.name), '--namespace', r.namespace, '--ignore-not-found'].map(q).join(' ')];
}

/**
 * go-template (kubectl `-o go-template`) that prints `<apiVersion> <kind> <name> [<namespace>]`, one line per
 * object of a `kubectl get` answer (a List, or one object) whose annotation `helm.sh/resource-policy` is `keep`.
 */
export const KEPT_TEMPLATE =
  '{{define "o"}}{{$o := .}}{{range $k, $v := .metadata.annotations}}{{if eq $k "helm.sh/resource-policy"}}{{if eq $v "keep"}}' +
  '{{$o.apiVersion}} {{$o.kind}} {{$o.metadata.name}}{{with $o.metadata.namespace}} {{.}}{{end}}{{"\\n"}}{{end}}{{end}}{{end}}{{end}}' +
  '{{if .items}}{{range .items}}{{template "o" .}}{{end}}{{else}}{{template "o" .}}{{end}}';

/**
 * Script lines of one release's uninstall under deletionPolicy Delete (release `i` of the plan):
 * 1. before `helm uninstall`, what it would leave behind is written down: the objects of the release's
 *    manifest that carry `helm.sh/resource-policy: keep` (read live: Gitea's data PVC, Argo CD's CRDs), as
 *    `apiVersion kind name [namespace]` lines, and the chart hooks' objects (`helm get hooks`: hook RBAC,
 *    Jobs, ServiceAccounts; helm deletes hook objects only by their `helm.sh/hook-delete-policy`, never on
 *    uninstall);
 * 2. `helm uninstall --wait`, then the release Secrets (releaseSecretsDelete);
 * 3. those objects are deleted, and the PersistentVolumeClaims labelled `app.kubernetes.io/instance=<release>`
 *    in the release namespace (StatefulSet volumeClaimTemplates, which no uninstall deletes). A bound
 *    PersistentVolume then follows its reclaimPolicy (the StorageClass's; `Delete` for most provisioners).
 * A release that no longer exists skips step 1 (nothing is known about it) and still gets step 3's PVCs.
 */
function releaseUninstall(r: Pick<HelmRelease, 'name' | 'namespace' | 'timeout' | 'secrets'>, i: number): string[] {
  const manifest = `/tmp/release-${i}.yaml`;
  const hooks = `/tmp/hooks-${i}.yaml`;
  const kept = `/tmp/kept-${i}.txt`;
  const keptYaml = `/tmp/kept-${i}.yaml`;
  const ns = ['--namespace', r.namespace];
  return [
    `echo ${q(`helm uninstall ${r.name} in ${r.namespace}`)}`,
    `: > ${kept}; : > ${hooks}`,
    `if ${['helm', 'status', r.name, ...ns].map(q).join(' ')} >/dev/null 2>&1; then`,
    `  ${['helm', 'get', 'manifest', r.name, ...ns].map(q).join(' ')} > ${manifest}`,
    `  ${['helm', 'get', 'hooks', r.name, ...ns].map(q).join(' ')} > ${hooks}`,
    `  if grep -q '^kind:' ${manifest}; then ${['kubectl', 'get', '-f', manifest, ...ns, '--ignore-not-found', '-o', `go-template=${KEPT_TEMPLATE}`].map(q).join(' ')} > ${kept}; fi`,
    'fi',
    ['run', 'helm', 'uninstall', r.name, ...ns, '--wait', '--ignore-not-found', '--timeout', r.timeout ?? '10m'].map(q).join(' '),
    ...releaseSecretsDelete(r),
    `if [ -s ${kept} ]; then`,
    `  echo ${q(`deleting what ${r.name} kept on uninstall (helm.sh/resource-policy: keep):`)}; cat ${kept}`,
    `  while read -r api kind name objns; do printf 'apiVersion: %s\\nkind: %s\\nmetadata:\\n  name: %s\\n' "$api" "$kind" "$name"; if [ -n "$objns" ]; then printf '  namespace: %s\\n' "$objns"; fi; printf -- '---\\n'; done < ${kept} > ${keptYaml}`,
    // a CRD is gone only when its custom resources are: one whose finalizer nobody serves any more (an Argo CD
    // Application with the resources finalizer) would hold it for ever, so the wait is bounded and the Job fails
    `  ${['kubectl', 'delete', '--ignore-not-found', '--wait=true', '--timeout=5m', ...ns, '-f', keptYaml].map(q).join(' ')}`,
    'fi',
    `if grep -q '^kind:' ${hooks}; then`,
    `  echo ${q(`deleting the chart hooks' objects of ${r.name}`)}`,
    `  ${['kubectl', 'delete', '--ignore-not-found', '--wait=true', ...ns, '-f', hooks].map(q).join(' ')}`,
    'fi',
    ['kubectl', 'delete', 'persistentvolumeclaims', ...ns, '-l', `app.kubernetes.io/instance=${r.name}`, '--ignore-not-found', '--wait=true'].map(q).join(' '),
  ];
}

/**
 * Script lines that delete release namespace `ns` when it was created by `owner` (ANNOTATION_CREATED_BY) and
 * holds no Helm release any more (another release in it, of this or another provider, keeps it).
 */
function namespaceRelease(ns: string, owner: string): string[] {
  const get = ['kubectl', 'get', 'namespace', ns, '--ignore-not-found', `-o=jsonpath={.metadata.annotations.${ANNOTATION_CREATED_BY.replace(/\./g, '\\.')}}`].map(q).join(' ');
  return [
    `if [ "$(${get})" = ${q(owner)} ]; then`,
    `  if [ -z "$(${['helm', 'list', '--namespace', ns, '--all', '-q'].map(q).join(' ')})" ]; then`,
    `    echo ${q(`deleting namespace ${ns} (created by ${owner})`)}`,
    `    ${['kubectl', 'delete', 'namespace', ns, '--ignore-not-found', '--wait=true', '--timeout=10m'].map(q).join(' ')}`,
    '  else',
    `    echo ${q(`namespace ${ns} still holds Helm releases: kept`)}`,
    '  fi',
    'else',
    `  echo ${q(`namespace ${ns} was not created by ${owner}: kept`)}`,
    'fi',
  ];
}

function uninstallScript(plan: InstallPlan, owner: string): string {
  const lines = ['#!/bin/sh', 'set -eu', ...RUN_FN];
  if (plan.manifests?.length) lines.push('kubectl delete --ignore-not-found --wait=true -f /config/manifests.yaml');
  const releases = plan.releases.map((r, i) => ({ r, i })).reverse();
  for (const { r, i } of releases) lines.push(...releaseUninstall(r, i));
  for (const ns of releaseNamespaces(plan).reverse()) lines.push(...namespaceRelease(ns, owner));
  lines.push('echo done');
  return `${lines.join('\n')}\n`;
}

/** The children of one install or uninstall attempt (helmJob): the Job's name, its values ConfigMap and the Job. */
export interface InstallChildren {
  name: string;
  configMap: KubeObject;
  job: KubeObject;
}

/** The summary a values ConfigMap carries, readable by the Platform to hand the component to GitOps. */
export type ReleaseSummary = Pick<HelmRelease, 'name' | 'namespace' | 'repository' | 'chart' | 'version' | 'values' | 'gitOpsValues' | 'secrets'>;

/** Label on every attempt of one install: the name of its values ConfigMap (the install's identity). */
export const LABEL_INSTALL = 'idpbuilder.cnoe.io/install';
/** Annotation: which attempt of the install a Job is (0 for the first). */
export const ANNOTATION_ATTEMPT = 'idpbuilder.cnoe.io/attempt';

/** The Job name of attempt `attempt` of the install named `base` (attempt 0 is `base` itself). */
function attemptName(base: string, attempt: number): string {
  return attempt === 0 ? base : hashedName([base.replace(/-[0-9a-f]{8}$/, ''), `retry${attempt}`], { base, attempt });
}

/**
 * The values ConfigMap and the Job of a helm install or uninstall. Both are named after a hash of
 * everything that defines it (`<parent>-<action>-<8 hex>`); attempt `n > 0` (a retry after a failure)
 * only changes the Job's name (attemptName) and its attempt annotation, never the ConfigMap.
 */
export function helmJob(parent: KubeObject, plan: InstallPlan, env: HookEnv, action: 'install' | 'uninstall' = 'install', attempt = 0): InstallChildren {
  const namespace = parent.metadata.namespace ?? 'default';
  const identity = {
    releases: plan.releases.map((r) => ({ ...r, timeout: r.timeout ?? '10m' })),
    manifests: plan.manifests ?? [],
    secrets: plan.secretDigests ?? {},
    ...(plan.waitFor?.length ? { waitFor: plan.waitFor } : {}),
    ...(plan.target ? { target: plan.target } : {}),
  };
  const name = hashedName([parent.metadata.name, action], identity);
  const role = action === 'install' ? ROLE_INSTALL : ROLE_UNINSTALL;
  const labels = { ...ownerLabels(parent, role) };
  const data: Record<string, string> = {
    'run.sh': action === 'install' ? installScript(plan, installOwner(parent)) : uninstallScript(plan, installOwner(parent)),
    'releases.json': JSON.stringify(
      plan.releases.map(
        (r): ReleaseSummary => ({ name: r.name, namespace: r.namespace, repository: r.repository, chart: r.chart, version: r.version, values: r.values, gitOpsValues: r.gitOpsValues, secrets: r.secrets }),
      ),
    ),
  };
  if (plan.target) data['target.json'] = JSON.stringify({ secret: plan.target.secret, key: plan.target.key, registeredName: plan.target.registeredName });
  plan.releases.forEach((r, i) => (data[`values-${i}.yaml`] = stringify(r.values, { aliasDuplicateObjects: false, lineWidth: 0 })));
  if (plan.manifests?.length) data['manifests.yaml'] = plan.manifests.map((m) => stringify(m, { aliasDuplicateObjects: false, lineWidth: 0 })).join('---\n');
  const cmLabels = action === 'install' ? { ...labels, 'idpbuilder.cnoe.io/helm-values': 'true' } : labels;
  const secrets = [...new Set(plan.releases.flatMap((r) => [...(r.secretValues ?? []).map((s) => s.secret), ...(r.secrets ?? []).map((s) => s.from)]))].sort();
  const jobName = attemptName(name, attempt);
  return {
    name: jobName,
    configMap: configMapObject(name, namespace, cmLabels, data),
    job: jobObject(
      {
        name: jobName,
        namespace,
        labels: { ...labels, [LABEL_INSTALL]: name },
        annotations: { [ANNOTATION_ATTEMPT]: String(attempt) },
        // helm needs time to cancel and record the release as failed when the Pod is stopped
        terminationGracePeriodSeconds: 120,
        ownerUid: parent.metadata.uid,
        command: ['/bin/sh', '/config/run.sh'],
        configMap: name,
        secrets: action === 'install' ? secrets : [],
        ...(plan.target ? { kubeconfig: { secret: plan.target.secret, key: plan.target.key } } : {}),
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
