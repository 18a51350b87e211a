import { Type, type Static } from '@sinclair/typebox';
import { Duration, Enum, Obj, StringMap } from './schema.js';
import { BaseStatus, ObjectRef } from './common.js';

const RelPath = Type.String({ maxLength: 1024, pattern: '^[^\\0]*$' });

export const RepoSource = Obj(
  {
    type: Enum(['Embedded', 'Local', 'Git', 'Inline'] as const),
    path: Type.Optional(RelPath),
    files: Type.Optional(
      StringMap(Type.String({ maxLength: 262144 }), { maxProperties: 256, description: 'Inline: file path (relative to targetPath) to content' }),
    ),
    url: Type.Optional(Type.String({ maxLength: 2048, pattern: '^(https?|ssh|git|file)://[^\\s]+$|^git@[^\\s]+$' })),
    ref: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
    targetPath: Type.Optional(RelPath),
  },
  {
    'x-kubernetes-validations': [
      { rule: "self.type != 'Git' || has(self.url)", message: 'a Git source needs url', fieldPath: '.url', reason: 'FieldValueRequired' },
      { rule: "!(self.type == 'Embedded' || self.type == 'Local') || has(self.path)", message: 'an Embedded or Local source needs path', fieldPath: '.path', reason: 'FieldValueRequired' },
      { rule: "self.type != 'Inline' || has(self.files)", message: 'an Inline source needs files', fieldPath: '.files', reason: 'FieldValueRequired' },
      { rule: "!has(self.targetPath) || !self.targetPath.startsWith('/') && !self.targetPath.contains('..')", message: 'targetPath must be relative and stay inside the repository', fieldPath: '.targetPath' },
    ],
  },
);
export type RepoSource = Static<typeof RepoSource>;

export const GitRepositorySpec = Obj({
  gitServerRef: ObjectRef,
  name: Type.Optional(Type.String({ minLength: 1, maxLength: 100, pattern: '^[A-Za-z0-9_.][-A-Za-z0-9_.]*$', description: 'Repository name; defaults to metadata.name' })),
  organization: Type.Optional(Type.String({ minLength: 1, maxLength: 255, pattern: '^[A-Za-z0-9_.][-A-Za-z0-9_./]*$' })),
  description: Type.Optional(Type.String({ maxLength: 2048 })),
  private: Type.Optional(Type.Boolean()),
  autoInit: Type.Optional(Type.Boolean()),
  defaultBranch: Type.Optional(Type.String({ minLength: 1, maxLength: 255, description: "Default: the git provider's repositoryDefaults.defaultBranch, else main" })),
  sources: Type.Optional(Type.Array(RepoSource, { maxItems: 64 })),
  sync: Type.Optional(
    Obj({ autoSync: Type.Optional(Type.Boolean({ default: true })), interval: Type.Optional(Type.String({ ...Duration, default: '5m' })) }),
  ),
});
export type GitRepositorySpec = Static<typeof GitRepositorySpec>;

export const GitRepositoryStatus = Obj({
  ...BaseStatus,
  phase: Type.Optional(Enum(['Pending', 'Syncing', 'Ready', 'Failed'] as const)),
  url: Type.Optional(Type.String()),
  cloneURL: Type.Optional(Type.String()),
  lastSyncTime: Type.Optional(Type.String({ format: 'date-time' })),
  commitSHA: Type.Optional(Type.String()),
});
export type GitRepositoryStatus = Static<typeof GitRepositoryStatus>;
