import { describe, expect, it } from 'vitest';
import { GitLabValidateConfig, RepoSyncConfig, parseJobConfig } from '../../../src/api/jobs.js';

const fail = (message: string) => new Error(message);
const repoSync = (patch: Record<string, unknown> = {}) => ({
  flavor: 'gitea',
  apiEndpoint: 'http://gitea:3000',
  credentialsSecretRef: { namespace: 'n', name: 's', key: 'token' },
  organization: 'o',
  repository: { name: 'r', defaultBranch: 'main' },
  sources: [],
  embeddedRoot: '/e',
  ...patch,
});

describe('parseJobConfig', () => {
  it('drops null and unknown fields, fills defaults, leaves the input alone', () => {
    const raw = { endpoint: 'https://gitlab.com', group: 'g', credentialsSecretRef: { namespace: 'n', name: 's', extra: 1 }, caSecretRef: null, later: true };
    const copy = structuredClone(raw);
    expect(parseJobConfig(GitLabValidateConfig, raw, fail)).toEqual({ endpoint: 'https://gitlab.com', group: 'g', credentialsSecretRef: { namespace: 'n', name: 's', key: 'token' }, subgroups: [] });
    expect(raw).toEqual(copy);
  });

  it('says what a field must be, with its path', () => {
    expect(() => parseJobConfig(GitLabValidateConfig, { endpoint: 'https://gitlab.com', group: 'a/../b', credentialsSecretRef: { namespace: 'n', name: 's' } }, fail)).toThrow('config.group "a/../b" is not a group path');
    expect(() => parseJobConfig(RepoSyncConfig, repoSync({ flavor: 'svn' }), fail)).toThrow('config.flavor must be gitea, github or gitlab, not "svn"');
    expect(() => parseJobConfig(RepoSyncConfig, repoSync({ sources: [{ type: 'Inline', files: { 'a.txt': 1 } }] }), fail)).toThrow('config.sources[0].files["a.txt"] must be a string');
    expect(() => parseJobConfig(RepoSyncConfig, repoSync({ repository: { name: 'r', private: 'yes' } }), fail)).toThrow('config.repository.private must be true or false');
    expect(() => parseJobConfig(RepoSyncConfig, repoSync({ sources: [{ path: 'x' }] }), fail)).toThrow('config.sources[0].type must be Embedded, Git, Inline or Local');
  });

  it('keeps each source type with its own fields only', () => {
    const c = parseJobConfig<{ sources: unknown[] }>(RepoSyncConfig, repoSync({ sources: [{ type: 'Git', url: 'https://x/y.git', files: { a: 'b' } }, { type: 'Embedded', path: '', targetPath: null }] }), fail);
    expect(c.sources).toEqual([{ type: 'Git', url: 'https://x/y.git' }, { type: 'Embedded', path: '' }]);
  });
});
