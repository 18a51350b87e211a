import { Type, type Static } from '@sinclair/typebox';
import { Desc, Duration, Enum, Obj, StringMap } from './schema.js';
import { BaseStatus, ObjectRef } from './common.js';

const RelPath = Type.String({ maxLength: 1024, pattern: '^[^\\0]*$' });

/**
 * Schema of one entry of GitRepository `spec.sources`: `type` Embedded (content in the image), Local (pushed by
 * `idpbuilder create -p`), Git (another repository) or Inline (files), with the fields that type uses.
 */
const RepoSource = Obj(
  {
    type: Enum(['Embedded', 'Local', 'Git', 'Inline'] as const, {
      description: 'Embedded (content shipped in the image), Local (pushed by idpbuilder create -p), Git (another repository) or Inline (files).',
    }),
    path: Type.Optional(
      Desc(RelPath, 'Embedded: directory below the embedded content; Local: the local directory; Git: sub-directory of the repository (default its root).'),
    ),
    files: Type.Optional(
      StringMap(Type.String({ maxLength: 262144 }), { maxProperties: 256, description: 'Inline: file path (relative to targetPath) to content' }),
    ),
    url: Type.Optional(
      Type.String({ maxLength: 2048, pattern: '^(https?|ssh|git|file)://[^\\s]+$|^git@[^\\s]+$', description: 'Git: URL of the repository to copy from.' }),
    ),
    ref: Type.Optional(Type.String({ minLength: 1, maxLength: 255, description: 'Git: branch, tag or commit to copy; default the remote HEAD.' })),
    targetPath: Type.Optional(Desc(RelPath, 'Directory in this repository the source lands under (relative, no ..); default the root.')),
  },
  {
    description: 'Content written into the repository; later sources win when paths collide.',
    'x-kubernetes-validations': [
      { rule: "self.type != 'Git' || has(self.url)", message: 'a Git source needs url', fieldPath: '.url', reason: 'FieldValueRequired' },
      { rule: "!(self.type == 'Embedded' || self.type == 'Local') || has(self.path)", message: 'an Embedded or Local source needs path', fieldPath: '.path', reason: 'FieldValueRequired' },
      { rule: "self.type != 'Inline' || has(self.files)", message: 'an Inline source needs files', fieldPath: '.files', reason: 'FieldValueRequired' },
      { rule: "!has(self.targetPath) || !self.targetPath.startsWith('/') && !self.targetPath.contains('..')", message: 'targetPath must be relative and stay inside the repository', fieldPath: '.targetPath' },
    ],
  },
);

/**
 * Schema of GitRepository `spec`: the git provider (`gitServerRef`, an ObjectRef), repository `name` (default
 * metadata.name), `organization`, description, privacy, `autoInit`, `defaultBranch`, the `sources` pushed into it and
 * `sync` settings.
 */
export const GitRepositorySpec = Obj(
  {
    gitServerRef: Desc(
      ObjectRef,
      'The git provider (GiteaProvider, GitHubProvider, GitLabProvider, …) hosting the repository; it must be Ready and report internalEndpoint and credentialsSecretRef.',
    ),
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 100, pattern: '^[A-Za-z0-9_.][-A-Za-z0-9_.]*$', description: 'Repository name; defaults to metadata.name' })),
    organization: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 255,
        pattern: '^[A-Za-z0-9_.][-A-Za-z0-9_./]*$',
        description: "Owner (organization, user or GitLab group path); default the provider's status.organization or status.group, else idpbuilder.",
      }),
    ),
    description: Type.Optional(Type.String({ maxLength: 2048, description: 'Repository description, set when it is created.' })),
    private: Type.Optional(
      Type.Boolean({ description: "Repository visibility, applied on every sync; unset: the provider's repositoryDefaults on creation, then left as is." }),
    ),
    autoInit: Type.Optional(Type.Boolean({ description: 'Create the repository with an initial commit (README).' })),
    defaultBranch: Type.Optional(Type.String({ minLength: 1, maxLength: 255, description: "Default: the git provider's repositoryDefaults.defaultBranch, else main" })),
    sources: Type.Optional(Type.Array(RepoSource, { maxItems: 64, description: 'Content to write into the default branch, in order.' })),
    sync: Type.Optional(
      Obj(
        {
          autoSync: Type.Optional(Type.Boolean({ default: true, description: 'Run the sync Job again every interval.' })),
          interval: Type.Optional(Type.String({ ...Duration, default: '5m', description: 'Time between syncs, a Go duration like 5m.' })),
        },
        { description: 'When the sync Job runs again.' },
      ),
    ),
  },
  { description: 'A repository on a git provider, created if missing and filled from sources by a sync Job (docs/providers/gitrepository.md).' },
);
export type GitRepositorySpec = Static<typeof GitRepositorySpec>;

/**
 * Schema of GitRepository `status`: the base status plus phase (Pending, Syncing, Ready, Failed), web `url`,
 * `cloneURL` (in-cluster for in-cluster servers), `lastSyncTime` (RFC 3339), `commitSHA` of the default branch after
 * the last successful sync, and the repository credentials Secret.
 */
export const GitRepositoryStatus = Obj(
  {
    ...BaseStatus,
    phase: Type.Optional(
      Enum(['Pending', 'Syncing', 'Ready', 'Failed'] as const, {
        description: 'Pending (git server missing or not ready), Syncing, Ready or Failed (the sync Job failed).',
      }),
    ),
    url: Type.Optional(Type.String({ description: 'Web URL of the repository on the git server.' })),
    cloneURL: Type.Optional(Type.String({ description: 'URL to clone from: in-cluster for in-cluster servers (what Packages deploy from).' })),
    lastSyncTime: Type.Optional(Type.String({ format: 'date-time', description: 'When the last successful sync finished (RFC 3339).' })),
    commitSHA: Type.Optional(Type.String({ description: 'Head commit of the default branch after the last successful sync.' })),
    repositoryCredentialsSecret: Type.Optional(
      Type.String({
        description:
          "The Secret (in this object's namespace; keys username, password, ca.crt) GitOps engines read the repository with: a copy of the git server's repository credentials. Absent: the server publishes none (public repositories).",
      }),
    ),
  },
  { description: 'Observed state of the repository, from the last sync Job.' },
);
export type GitRepositoryStatus = Static<typeof GitRepositoryStatus>;
