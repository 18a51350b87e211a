/**
 * The token Secret a Job writes (gitea-bootstrap's API token, github-validate's installation token): the Job
 * config's `tokenSecret` (src/api/jobs.ts TokenSecret), server-side applied with the token and its username.
 */
import type { KubeClient } from '../kube/client.js';
import type { TokenSecret } from '../api/jobs.js';
import { MANAGED_BY, SECRET_KEY_TOKEN, SECRET_KEY_USERNAME } from '../api/names.js';
import type { JobLogger } from './repo-sync.js';

/**
 * Applies the Secret `ts` names with keys `token` and `username`, labelled `app.kubernetes.io/managed-by`
 * plus `ts.labels`, owned by `ts.ownerReference` when given, annotated with `annotations` when given; then
 * logs `token Secret applied` with the Secret's name and keys (never a value). Errors of the API server
 * (KubeError from KubeClient.applySecret) propagate.
 */
export async function applyTokenSecret(
  kube: Pick<KubeClient, 'applySecret'>,
  log: JobLogger,
  ts: TokenSecret,
  value: { token: string; username: string },
  annotations?: Record<string, string>,
): Promise<void> {
  await kube.applySecret({
    namespace: ts.namespace,
    name: ts.name,
    labels: { ...MANAGED_BY, ...(ts.labels ?? {}) },
    ...(annotations ? { annotations } : {}),
    ...(ts.ownerReference ? { ownerReferences: [{ ...ts.ownerReference }] } : {}),
    stringData: { [SECRET_KEY_TOKEN]: value.token, [SECRET_KEY_USERNAME]: value.username },
  });
  log.info('token Secret applied', { secret: `${ts.namespace}/${ts.name}`, keys: [SECRET_KEY_TOKEN, SECRET_KEY_USERNAME] });
}
