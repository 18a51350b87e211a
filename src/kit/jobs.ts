/**
 * Jobs as children: the pod template every Job of ours uses (non-root, read-only root filesystem, the
 * configured image and ServiceAccount), and the mapping from an observed Job (and its Pods) to a state.
 */
import type { KubeObject } from '../metacontroller/protocol.js';
import type { HookEnv } from './hooks.js';
import { LABEL_OWNER_UID } from './labels.js';
import { clip } from './redact.js';
import { ENV_JOB_NAME, ENV_JOB_NAMESPACE, JOB_CONFIG_DIR } from '../api/names.js';

/**
 * A Job's state as the hooks see it: `Absent` (not observed), `Running` (neither complete nor failed), `Succeeded`
 * (condition Complete or SuccessCriteriaMet) or `Failed` (condition Failed or FailureTarget).
 */
export type JobPhase = 'Absent' | 'Running' | 'Succeeded' | 'Failed';

/**
 * What jobState found of a Job: its phase, why it failed (condition reason and message, plus the failed container's
 * termination message), `completionTime` (RFC 3339), its annotations and the pod's termination grace period in
 * seconds.
 */
export interface JobState {
  phase: JobPhase;
  /** Why it failed: the Job condition, plus the failed container's termination message when observed. */
  message?: string;
  completionTime?: string;
  annotations?: Record<string, string>;
  /** Seconds the Pod gets between SIGTERM and SIGKILL (Kubernetes default 30). */
  terminationGracePeriodSeconds?: number;
}

interface Cond {
  type: string;
  status: string;
  reason?: string;
  message?: string;
}

/**
 * The state of an observed Job (`undefined` → Absent) from its `status.conditions` (batch/v1:
 * Complete/SuccessCriteriaMet, Failed/FailureTarget); for a failed Job the message adds the last lines (at most 500
 * characters) of the newest failed container's termination message among `pods` (matched by the
 * `batch.kubernetes.io/job-name` or `job-name` label).
 */
export function jobState(job: KubeObject | undefined, pods: KubeObject[] = []): JobState {
  if (!job) return { phase: 'Absent' };
  const status = (job.status ?? {}) as { conditions?: Cond[]; succeeded?: number; failed?: number; completionTime?: string };
  const conds = status.conditions ?? [];
  const annotations = job.metadata.annotations;
  const isTrue = (t: string) => conds.some((c) => c.type === t && c.status === 'True');
  if (isTrue('Complete') || isTrue('SuccessCriteriaMet')) return { phase: 'Succeeded', completionTime: status.completionTime, annotations };
  if (isTrue('Failed') || isTrue('FailureTarget')) {
    const c = conds.find((x) => (x.type === 'Failed' || x.type === 'FailureTarget') && x.status === 'True')!;
    const detail = podFailure(job, pods);
    const base = [c.reason, c.message].filter(Boolean).join(': ') || 'job failed';
    return { phase: 'Failed', message: detail ? `${base}; last error: ${detail}` : base, annotations };
  }
  return { phase: 'Running', annotations };
}

/** The termination message of the newest failed container of the Job's pods (FallbackToLogsOnError gives the log tail). */
function podFailure(job: KubeObject, pods: KubeObject[]): string | undefined {
  const mine = pods
    .filter((p) => {
      const l = p.metadata.labels ?? {};
      return l['batch.kubernetes.io/job-name'] === job.metadata.name || l['job-name'] === job.metadata.name;
    })
    .sort((a, b) => String(a.metadata.name).localeCompare(String(b.metadata.name)));
  for (const p of mine.reverse()) {
    const statuses = ((p.status as { containerStatuses?: { state?: { terminated?: { exitCode?: number; message?: string } } }[] })?.containerStatuses) ?? [];
    for (const s of statuses) {
      const t = s.state?.terminated;
      if (t && t.exitCode !== 0 && t.message) return clip(t.message.trim().split('\n').slice(-3).join(' | '), 500);
    }
  }
  return undefined;
}

/**
 * What jobObject builds a batch/v1 Job from: name, namespace, labels (copied to the pod, plus the owner uid label),
 * the command and env of its one container, its config ConfigMap (mounted at /config), Secrets mounted at
 * /secrets/<name>, the target kubeconfig, `backoffLimit`, `activeDeadlineSeconds` (seconds), annotations, the
 * termination grace period (seconds) and which configured ServiceAccount it runs as (default the runner).
 */
export interface JobSpecInput {
  name: string;
  namespace: string;
  labels: Record<string, string>;
  ownerUid?: string;
  command: string[];
  env?: Record<string, unknown>[];
  /** ConfigMap mounted at /config. */
  configMap: string;
  /** Secrets (same namespace) mounted read-only at /secrets/<name>. */
  secrets?: string[];
  /**
   * The target cluster's kubeconfig (src/kit/cluster.ts): Secret `secret` (same namespace), key `key`, mounted
   * read-only as the file TARGET_KUBECONFIG, which `KUBECONFIG` names, so helm and kubectl talk to the target.
   * Only the path is in env; the content stays in the volume.
   */
  kubeconfig?: { secret: string; key: string };
  backoffLimit?: number;
  activeDeadlineSeconds?: number;
  annotations?: Record<string, string>;
  /** Seconds the Pod gets between SIGTERM and SIGKILL (Kubernetes default 30). */
  terminationGracePeriodSeconds?: number;
  /**
   * Which configured ServiceAccount the pod runs as: `installer` (settings.jobServiceAccount, Helm
   * install/uninstall only) or `runner` (settings.runnerServiceAccount, the default: every other Job).
   */
  serviceAccount?: 'installer' | 'runner';
}

/** Directory and file of a mounted target kubeconfig (JobSpecInput.kubeconfig). */
const TARGET_KUBECONFIG_DIR = '/var/run/idpbuilder/target-cluster';
const TARGET_KUBECONFIG = `${TARGET_KUBECONFIG_DIR}/kubeconfig`;

/** A batch/v1 Job running our image. No TTL: a vanished Job would be recreated by Metacontroller and run again. */
export function jobObject(input: JobSpecInput, env: HookEnv): KubeObject {
  const podLabels = { ...input.labels, ...(input.ownerUid ? { [LABEL_OWNER_UID]: input.ownerUid } : {}) };
  const volumes: Record<string, unknown>[] = [
    { name: 'config', configMap: { name: input.configMap } },
    { name: 'tmp', emptyDir: {} },
    ...(input.secrets ?? []).map((s, i) => ({ name: `secret-${i}`, secret: { secretName: s } })),
    ...(input.kubeconfig ? [{ name: 'target-kubeconfig', secret: { secretName: input.kubeconfig.secret, items: [{ key: input.kubeconfig.key, path: 'kubeconfig' }] } }] : []),
  ];
  const mounts: Record<string, unknown>[] = [
    { name: 'config', mountPath: JOB_CONFIG_DIR, readOnly: true },
    { name: 'tmp', mountPath: '/tmp' },
    ...(input.secrets ?? []).map((s, i) => ({ name: `secret-${i}`, mountPath: `/secrets/${s}`, readOnly: true })),
    ...(input.kubeconfig ? [{ name: 'target-kubeconfig', mountPath: TARGET_KUBECONFIG_DIR, readOnly: true }] : []),
  ];
  const metadata: Record<string, unknown> = { name: input.name, namespace: input.namespace, labels: input.labels };
  if (input.annotations) metadata.annotations = input.annotations;
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata,
    spec: {
      backoffLimit: input.backoffLimit ?? 2,
      activeDeadlineSeconds: input.activeDeadlineSeconds ?? 1800,
      template: {
        metadata: { labels: podLabels },
        spec: {
          serviceAccountName: input.serviceAccount === 'installer' ? env.settings.jobServiceAccount : env.settings.runnerServiceAccount,
          restartPolicy: 'Never',
          ...(input.terminationGracePeriodSeconds !== undefined ? { terminationGracePeriodSeconds: input.terminationGracePeriodSeconds } : {}),
          securityContext: { runAsNonRoot: true, runAsUser: 65532, runAsGroup: 65532, fsGroup: 65532, seccompProfile: { type: 'RuntimeDefault' } },
          containers: [
            {
              name: 'main',
              image: env.settings.jobImage,
              command: input.command,
              env: [
                { name: 'HOME', value: '/tmp' },
                { name: 'HELM_CACHE_HOME', value: '/tmp/helm/cache' },
                { name: 'HELM_CONFIG_HOME', value: '/tmp/helm/config' },
                { name: 'HELM_DATA_HOME', value: '/tmp/helm/data' },
                { name: ENV_JOB_NAMESPACE, valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
                { name: ENV_JOB_NAME, valueFrom: { fieldRef: { fieldPath: "metadata.labels['batch.kubernetes.io/job-name']" } } },
                ...(input.kubeconfig ? [{ name: 'KUBECONFIG', value: TARGET_KUBECONFIG }] : []),
                ...(input.env ?? []),
              ],
              volumeMounts: mounts,
              terminationMessagePolicy: 'FallbackToLogsOnError',
              securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
              resources: { requests: { cpu: '50m', memory: '128Mi' }, limits: { memory: '512Mi' } },
            },
          ],
          volumes,
        },
      },
    },
  } as KubeObject;
}

/** A v1 ConfigMap with the given name, namespace, labels and data (keys in sorted order, for stable answers). */
export function configMapObject(name: string, namespace: string, labels: Record<string, string>, data: Record<string, string>): KubeObject {
  const sorted: Record<string, string> = {};
  for (const k of Object.keys(data).sort()) sorted[k] = data[k];
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace, labels }, data: sorted } as KubeObject;
}
