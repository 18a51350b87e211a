/**
 * Job configs: the JSON a hook writes into a Job's config ConfigMap (key `config.json`) and the Job's
 * program (`idpbuilder job <name> --config /config/config.json`) reads. One TypeBox schema per program,
 * shared by both sides: the writer builds a value of the schema's `Static` type, the reader calls
 * {@link parseJobConfig}, which checks it with the project's Ajv ({@link newAjv}), fills the defaults
 * and drops fields the schema does not name.
 *
 * Reading rules (the same as the hand-written readers these replace): a property whose value is `null`
 * counts as absent; unknown properties are ignored; the first problem found is reported as
 * `config.<path> <what it must be>` (for example `config.tokenSecret.name must be a non-empty string`).
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import type { ErrorObject, ValidateFunction } from 'ajv';
import { newAjv, pointerPath } from './validate.js';
import { SECRET_KEY_CA, SECRET_KEY_PRIVATE_KEY, SECRET_KEY_TOKEN } from './names.js';

/** Custom message of a schema node: replaces the generic one; `{value}` stands for the JSON of the value. */
const X_ERROR = 'x-error';

const closed = { additionalProperties: false } as const;
const NonEmpty = (options: Record<string, unknown> = {}) => Type.String({ minLength: 1, ...options });
const HttpEndpoint = NonEmpty({ pattern: '^https?://', [X_ERROR]: 'must be an http(s) URL' });
const StringRecord = Type.Record(Type.String(), Type.String());
/** A non-empty string out of `values`; `message` says so when the value is another. */
function OneOf<const T extends readonly string[]>(values: T, message: string, options: { default?: T[number] } = {}) {
  return Type.Unsafe<T[number]>({ type: 'string', minLength: 1, enum: [...values], [X_ERROR]: message, ...options });
}

/** A Secret key by namespace, name and key; `key` defaults to `defaultKey` when the schema gives one. */
const KeyRef = (defaultKey: string) => Type.Object({ namespace: NonEmpty(), name: NonEmpty(), key: Type.Optional(NonEmpty({ default: defaultKey })) }, closed);
const KeyRefRequired = Type.Object({ namespace: NonEmpty(), name: NonEmpty(), key: NonEmpty() }, closed);

/** A Secret key by namespace, name and key, as read (the key's default filled in). */
export type SecretKeyRef = Static<typeof KeyRefRequired>;

const OwnerReference = Type.Object({ apiVersion: NonEmpty(), kind: NonEmpty(), name: NonEmpty(), uid: NonEmpty() }, closed);

/** A Secret a Job server-side-applies (labels beside `app.kubernetes.io/managed-by`; optional owner). */
const TokenSecret = Type.Object(
  {
    namespace: NonEmpty(),
    name: NonEmpty(),
    labels: Type.Optional(StringRecord),
    ownerReference: Type.Optional(OwnerReference),
  },
  closed,
);
/** A token Secret to apply, as read: namespace, name, labels and owner. */
export type TokenSecret = Static<typeof TokenSecret>;

/** The Job to annotate with the result (`idpbuilder.cnoe.io/result`). */
const ResultTarget = Type.Object({ jobNamespace: NonEmpty(), jobName: NonEmpty() }, closed);
export type ResultTarget = Static<typeof ResultTarget>;

const TEAM_PERMISSIONS = ['pull', 'triage', 'push', 'maintain', 'admin'] as const;
const TeamPermission = OneOf(TEAM_PERMISSIONS, `must be one of ${TEAM_PERMISSIONS.join(', ')}`);
const Team = Type.Object({ name: NonEmpty(), permission: TeamPermission }, closed);

/**
 * A Service of another cluster that a Job reaches through that cluster's API server (a port-forward to one of
 * the Service's ready Pods, `pods/portforward`), because the Job runs in the management cluster and the
 * Service's DNS name resolves only inside the target. The kubeconfig is read from a Secret of the management
 * cluster by the Job program, never mounted nor put in env (docs/multi-cluster.md).
 */
export const ServiceTunnel = Type.Object(
  {
    /** The target's kubeconfig: a Secret key in the management cluster (kit/cluster.ts kubeconfigSecretOf). */
    kubeconfigSecretRef: KeyRefRequired,
    /** The Service on the target: namespace, name and its `spec.ports[].port`. */
    namespace: NonEmpty(),
    service: NonEmpty(),
    port: Type.Integer({ minimum: 1, maximum: 65535, [X_ERROR]: 'must be a port number (1-65535)' }),
  },
  closed,
);
export type ServiceTunnel = Static<typeof ServiceTunnel>;

// --- gitea-bootstrap ---------------------------------------------------------------------------------

/** Config of `idpbuilder job gitea-bootstrap` (written by the GiteaProvider hook). */
export const GiteaBootstrapConfig = Type.Object(
  {
    /** Internal API base, e.g. http://gitea-http.gitea.svc.cluster.local:3000 */
    endpoint: HttpEndpoint,
    /** Set when Gitea runs on a target cluster: `endpoint` is reached through this tunnel. */
    tunnel: Type.Optional(ServiceTunnel),
    organizations: Type.Array(Type.Object({ name: NonEmpty(), description: Type.Optional(Type.String()) }, closed)),
    tokenName: NonEmpty(),
    tokenSecret: TokenSecret,
    /** How long to wait for Gitea, seconds (the program's default 300). */
    timeoutSeconds: Type.Optional(Type.Number({ exclusiveMinimum: 0, [X_ERROR]: 'must be a positive number' })),
    /** Overrides the program's default token scopes. */
    tokenScopes: Type.Optional(Type.Array(NonEmpty(), { minItems: 1, [X_ERROR]: 'must be a non-empty list of scope strings' })),
  },
  closed,
);
export type GiteaBootstrapConfig = Static<typeof GiteaBootstrapConfig>;

// --- github-validate ---------------------------------------------------------------------------------

/** Config of `idpbuilder job github-validate` as written (written by the GitHubProvider hook). */
export const GitHubValidateConfig = Type.Object(
  {
    /** API base: https://api.github.com or https://HOST/api/v3. */
    endpoint: HttpEndpoint,
    organization: NonEmpty(),
    authType: Type.Optional(OneOf(['token', 'app'], 'must be token or app', { default: 'token' })),
    credentialsSecretRef: Type.Optional(KeyRef(SECRET_KEY_TOKEN)),
    appAuth: Type.Optional(
      Type.Object(
        {
          appID: NonEmpty(),
          installationID: Type.Optional(NonEmpty({ pattern: '^[0-9]+$', [X_ERROR]: 'must be a number' })),
          privateKeySecretRef: KeyRef(SECRET_KEY_PRIVATE_KEY),
        },
        closed,
      ),
    ),
    teams: Type.Optional(Type.Array(Team, { default: [] })),
    /** authType app: where the minted installation token is written (keys `token`, `username`). */
    tokenSecret: Type.Optional(TokenSecret),
    result: Type.Optional(ResultTarget),
  },
  closed,
);
type GitHubValidateWritten = Static<typeof GitHubValidateConfig>;
/** A github-validate config as read: defaults filled in. */
export type GitHubValidateConfig = Omit<GitHubValidateWritten, 'authType' | 'credentialsSecretRef' | 'appAuth' | 'teams'> & {
  authType: 'token' | 'app';
  credentialsSecretRef?: SecretKeyRef;
  appAuth?: Omit<NonNullable<GitHubValidateWritten['appAuth']>, 'privateKeySecretRef'> & { privateKeySecretRef: SecretKeyRef };
  teams: Array<Static<typeof Team>>;
};
/** A github-validate config as the hook writes it (defaults may be left out). */
export type GitHubValidateConfigInput = GitHubValidateWritten;

// --- gitlab-validate ---------------------------------------------------------------------------------

const GROUP_SEGMENT = '(?!\\.\\.?(?:/|$))[A-Za-z0-9_.][-A-Za-z0-9_.]*';
/** A GitLab namespace path: `/`-separated segments of letters, digits, `_`, `-`, `.` (not `.` or `..`). */
const GROUP_PATH_PATTERN = `^${GROUP_SEGMENT}(?:/${GROUP_SEGMENT})*$`;
const GroupPath = () => NonEmpty({ pattern: GROUP_PATH_PATTERN, [X_ERROR]: '{value} is not a group path' });

/** Config of `idpbuilder job gitlab-validate` as written (written by the GitLabProvider hook). */
export const GitLabValidateConfig = Type.Object(
  {
    /** Instance URL (https://gitlab.com) or its API base (…/api/v4). */
    endpoint: HttpEndpoint,
    /** Full path of the group (`platform` or `platform/team`). */
    group: GroupPath(),
    credentialsSecretRef: KeyRef(SECRET_KEY_TOKEN),
    caSecretRef: Type.Optional(KeyRef(SECRET_KEY_CA)),
    subgroups: Type.Optional(Type.Array(Type.Object({ name: GroupPath(), description: Type.Optional(Type.String()) }, closed), { default: [] })),
    /** Visibility of created subgroups (default: their parent's; never more visible than it). */
    subgroupVisibility: Type.Optional(OneOf(['private', 'internal', 'public'], 'must be private, internal or public')),
    result: Type.Optional(ResultTarget),
  },
  closed,
);
type GitLabValidateWritten = Static<typeof GitLabValidateConfig>;
/** A gitlab-validate config as read: defaults filled in. */
export type GitLabValidateConfig = Omit<GitLabValidateWritten, 'credentialsSecretRef' | 'caSecretRef' | 'subgroups'> & {
  credentialsSecretRef: SecretKeyRef;
  caSecretRef?: SecretKeyRef;
  subgroups: NonNullable<GitLabValidateWritten['subgroups']>;
};
/** A gitlab-validate config as the hook writes it (defaults may be left out). */
export type GitLabValidateConfigInput = GitLabValidateWritten;

// --- repo-sync ---------------------------------------------------------------------------------------

const targetPath = Type.Optional(Type.String());
const RepoSource = Type.Unsafe<
  | { type: 'Embedded'; path: string; targetPath?: string }
  | { type: 'Git'; url: string; ref?: string; path?: string; targetPath?: string }
  | { type: 'Inline'; files: Record<string, string>; targetPath?: string }
  | { type: 'Local'; path: string; targetPath?: string }
>({
  type: 'object',
  discriminator: { propertyName: 'type' },
  [X_ERROR]: 'must be Embedded, Git, Inline or Local',
  oneOf: [
    /** A directory below `embeddedRoot`. */
    Type.Object({ type: Type.Literal('Embedded'), path: Type.String(), targetPath }, closed),
    /** `ref`: branch, tag or full commit SHA (default: the remote's default branch); `path`: a subdirectory. */
    Type.Object({ type: Type.Literal('Git'), url: NonEmpty(), ref: Type.Optional(Type.String()), path: Type.Optional(Type.String()), targetPath }, closed),
    /** Path (relative to targetPath) → file content. */
    Type.Object({ type: Type.Literal('Inline'), files: StringRecord, targetPath }, closed),
    /** A path on the machine running the CLI, which pushes it itself; the Job skips it. */
    Type.Object({ type: Type.Literal('Local'), path: Type.String(), targetPath }, closed),
  ],
});

/** Visibility of a new repository. */
const Visibility = OneOf(['public', 'private', 'internal'], 'must be public, private or internal');

/** The git provider's defaults for new repositories (GitHubProvider / GitLabProvider `spec.repositoryDefaults`). */
const RepositoryDefaults = Type.Object(
  {
    visibility: Type.Optional(Visibility),
    defaultBranch: Type.Optional(NonEmpty()),
    /** GitHub: `auto_init`. */
    autoInit: Type.Optional(Type.Boolean()),
    allowSquashMerge: Type.Optional(Type.Boolean()),
    allowMergeCommit: Type.Optional(Type.Boolean()),
    allowRebaseMerge: Type.Optional(Type.Boolean()),
    /** GitLab: `initialize_with_readme`. */
    initializeWithReadme: Type.Optional(Type.Boolean()),
    /** GitLab: `builds_access_level` / `jobs_enabled`. */
    cicdEnabled: Type.Optional(Type.Boolean()),
  },
  closed,
);

/** Who a sync writes as: one or two `/`-separated lower-case DNS-style segments. */
const WRITER_PATTERN = '^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?(\\/[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?)?$';

/** Config of `idpbuilder job repo-sync` as written (by the GitRepository hook and the CLI). */
export const RepoSyncConfig = Type.Object(
  {
    flavor: OneOf(['gitea', 'github', 'gitlab'], 'must be gitea, github or gitlab, not {value}'),
    /**
     * API base URL of the git server: Gitea the internal endpoint (e.g.
     * http://gitea-http.gitea.svc.cluster.local:3000), GitHub the API (https://api.github.com,
     * https://HOST/api/v3), GitLab the instance or its `/api/v4`.
     */
    apiEndpoint: HttpEndpoint,
    /** Set when the git server runs on a target cluster: `apiEndpoint` (and git over HTTP) go through this tunnel. */
    tunnel: Type.Optional(ServiceTunnel),
    credentialsSecretRef: KeyRefRequired,
    /** A PEM CA bundle to trust for the git server (API and git over HTTPS), e.g. a GitLabProvider's caSecretRef. */
    caSecretRef: Type.Optional(KeyRef(SECRET_KEY_CA)),
    /** The owner: a Gitea organization or user, a GitHub organization, a GitLab group path. */
    organization: NonEmpty(),
    repository: Type.Object(
      {
        name: NonEmpty(),
        /** Filled from `repositoryDefaults.defaultBranch` when absent; required one way or the other. */
        defaultBranch: Type.Optional(NonEmpty()),
        description: Type.Optional(Type.String()),
        private: Type.Optional(Type.Boolean()),
        autoInit: Type.Optional(Type.Boolean()),
      },
      closed,
    ),
    /**
     * The git provider's defaults for new repositories, passed through by the GitRepository hook. What the
     * repository itself says wins: `repository.private: true` always makes it private, `repository.autoInit:
     * true` always initializes it; otherwise `visibility` decides (and with neither, `repository.private:
     * false` means public, no `private` at all means private).
     */
    repositoryDefaults: Type.Optional(RepositoryDefaults),
    /** GitHub: teams granted their permission on the repository. */
    teams: Type.Optional(Type.Array(Team)),
    sources: Type.Array(RepoSource),
    embeddedRoot: NonEmpty(),
    commitAuthor: Type.Optional(Type.Object({ name: NonEmpty(), email: NonEmpty() }, closed)),
    result: Type.Optional(ResultTarget),
    /**
     * Who this sync writes as (default `repo-sync`): it records the paths it wrote in
     * `.idpbuilder/owners/<writer>.paths` and deletes only paths listed there that it no longer writes. The
     * GitRepository hook sets `<namespace>/<name>` of the GitRepository; the CLI writes as `cli`.
     */
    writer: Type.Optional(NonEmpty({ pattern: WRITER_PATTERN, [X_ERROR]: '{value} must be one or two /-separated lower-case names (letters, digits, - and .)' })),
  },
  closed,
);
/** A repo-sync config as the hook writes it. */
export type RepoSyncConfigInput = Static<typeof RepoSyncConfig>;

// --- parsing -----------------------------------------------------------------------------------------

let ajv: ReturnType<typeof newAjv> | undefined;
const compiled = new WeakMap<TSchema, ValidateFunction>();

/** A JSON-ish schema node, as far as the reader walks it. */
type Node = {
  type?: string;
  properties?: Record<string, Node>;
  items?: Node;
  oneOf?: Node[];
  discriminator?: { propertyName: string };
  const?: unknown;
  minLength?: number;
  [X_ERROR]?: string;
};

/** Removes `null`-valued properties the schema names (they count as absent), walking a copy. */
function dropNulls(node: Node | undefined, v: unknown): unknown {
  if (!node || v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) return v.map((x) => dropNulls(node.items, x));
  const o = v as Record<string, unknown>;
  if (node.oneOf && node.discriminator) {
    const tag = o[node.discriminator.propertyName];
    return dropNulls(node.oneOf.find((b) => b.properties?.[node.discriminator!.propertyName]?.const === tag), v);
  }
  if (!node.properties) return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(o)) {
    const sub = node.properties[k];
    if (x === null && sub) continue;
    out[k] = dropNulls(sub, x);
  }
  return out;
}

/** What a value of `node` must be, in words. */
function mustBe(node: Node | undefined): string {
  switch (node?.type) {
    case 'object':
      return 'must be an object';
    case 'array':
      return 'must be a list';
    case 'boolean':
      return 'must be true or false';
    case 'number':
    case 'integer':
      return 'must be a number';
    case 'string':
      return (node.minLength ?? 0) > 0 ? 'must be a non-empty string' : 'must be a string';
    default:
      return 'is required';
  }
}

function describe(e: ErrorObject, root: string): string {
  const path = `${root}${pointerPath(e.instancePath)}`;
  const node = e.parentSchema as Node | undefined;
  const custom = node?.[X_ERROR];
  switch (e.keyword) {
    case 'required': {
      const missing = String((e.params as { missingProperty: string }).missingProperty);
      return `${path}.${missing} ${mustBe(node?.properties?.[missing])}`;
    }
    case 'discriminator':
      return `${path}.${(e.params as { tag: string }).tag} ${custom ?? 'is not a known kind'}`;
    case 'type':
    case 'minLength':
      // a wrong type or an empty string says what the value must be; numbers and lists their own message
      return `${path} ${custom && node?.type !== 'string' ? custom : mustBe(node)}`;
    default:
      return `${path} ${custom ? custom.replace('{value}', JSON.stringify(e.data)) : (e.message ?? e.keyword)}`;
  }
}

/**
 * Checks `raw` against a Job config schema and returns it typed, with defaults filled in and unknown or
 * `null` fields dropped (`raw` itself is not changed). Throws what `fail` makes of the first problem, a
 * message such as `config.tokenSecret.name must be a non-empty string`.
 */
export function parseJobConfig<T>(schema: TSchema, raw: unknown, fail: (message: string) => Error): T {
  ajv ??= newAjv({ useDefaults: true, allErrors: false, removeAdditional: true, verbose: true, discriminator: true });
  let validate = compiled.get(schema);
  if (!validate) {
    validate = ajv.compile(schema);
    compiled.set(schema, validate);
  }
  const value = structuredClone(dropNulls(schema as Node, raw));
  if (!validate(value)) throw fail(describe(validate.errors![0], 'config'));
  return value as T;
}
