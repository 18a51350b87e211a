/**
 * Well-known names shared by the hooks (which write objects and Job configs) and the programs and CLI that
 * read them: labels, annotations, the field manager, namespaces, defaults, env names and Secret keys. One
 * place each, so a writer and its reader cannot drift apart. Lowest layer: imports nothing.
 */

/** Label every object idpbuilder creates carries (DESIGN.md decision 5; Kubernetes recommended label). */
const MANAGED_BY_KEY = 'app.kubernetes.io/managed-by';
/** `app.kubernetes.io/managed-by: idpbuilder` as a label map to spread. */
export const MANAGED_BY = { [MANAGED_BY_KEY]: 'idpbuilder' } as const;
/**
 * The labels of what idpbuilder's code generation writes (CRDs, Metacontroller controllers):
 * `app.kubernetes.io/part-of: idpbuilder` and MANAGED_BY, in that order.
 */
export const GENERATED_LABELS = { 'app.kubernetes.io/part-of': 'idpbuilder', ...MANAGED_BY } as const;

/** Annotation on a Job where its program records the outcome as JSON (repo-sync, github/gitlab-validate). */
export const RESULT_ANNOTATION = 'idpbuilder.cnoe.io/result';
/** Annotation on a minted GitHub installation token Secret: when the token expires (RFC 3339). */
export const EXPIRES_AT_ANNOTATION = 'idpbuilder.cnoe.io/expires-at';

/** Field manager of idpbuilder's server-side applies (defined with the client, the lower layer). */
export { FIELD_MANAGER } from '../kube/client.js';
/** Namespace of the hook server, its settings and the CLI's own objects. */
export const SYSTEM_NAMESPACE = 'idpbuilder-system';

/** Base domain of the UIs when a Platform names none (the CRD default of `spec.domain`). */
export const DEFAULT_DOMAIN = 'cnoe.localtest.me';

/**
 * Author and committer of every commit idpbuilder makes (repo-sync's default, the GitRepository hook, the
 * CLI). The e-mail is the project's own domain (the API group's), as the GitRepository hook wrote it.
 */
export const COMMIT_AUTHOR = { name: 'git-reconciler', email: 'git-reconciler@idpbuilder.cnoe.io' } as const;

/** Key of a Job's config ConfigMap, and where the Job's pod mounts it. */
export const JOB_CONFIG_KEY = 'config.json';
/** Directory in a Job's pod where its config ConfigMap is mounted. */
export const JOB_CONFIG_DIR = '/config';
/** Full path of a Job's config file in its pod (`/config/config.json`). */
export const JOB_CONFIG_PATH = `${JOB_CONFIG_DIR}/${JOB_CONFIG_KEY}`;

/** Env of every Job pod: its own namespace and name (downward API), where a program records its result. */
export const ENV_JOB_NAMESPACE = 'JOB_NAMESPACE';
/** Env var holding the Job's own name (downward API); see ENV_JOB_NAMESPACE. */
export const ENV_JOB_NAME = 'JOB_NAME';
/** Env of the gitea-bootstrap Job: the Gitea admin's credentials (from the admin Secret). */
export const ENV_GITEA_USERNAME = 'GITEA_USERNAME';
/** Env var of the gitea-bootstrap Job holding the Gitea admin's password (from the admin Secret; never logged). */
export const ENV_GITEA_PASSWORD = 'GITEA_PASSWORD';

/** Keys of the credential Secrets the hooks and Jobs exchange. */
export const SECRET_KEY_TOKEN = 'token';
/** Key of a user name in the credential Secrets (basic-auth convention, as in `kubernetes.io/basic-auth`). */
export const SECRET_KEY_USERNAME = 'username';
/** Key of a password in the credential Secrets (basic-auth convention, as in `kubernetes.io/basic-auth`). */
export const SECRET_KEY_PASSWORD = 'password';
/** PEM CA bundle (the cert-manager / kubernetes.io/tls convention). */
export const SECRET_KEY_CA = 'ca.crt';
/** A GitHub App's PEM private key. */
export const SECRET_KEY_PRIVATE_KEY = 'private-key';
