/**
 * Creating and configuring repositories through the git servers' APIs: one GitHostingProvider per flavor
 * (Gitea, GitHub, GitLab), each ensuring the repository exists with the settings that protect data, making
 * a branch the default, and naming the credentials git pushes with.
 */
import { GiteaClient, GitServerError, type RepoSpec } from '../../gitea/client.js';
import { GitHubClient, teamSlug, type Visibility } from '../../github/client.js';
import { GitLabClient, narrower } from '../../gitlab/client.js';
import type { GitServerFlavor, RepositoryDefaults, TeamGrant } from '../repo-sync.js';
import { RepoSyncError } from './errors.js';

/** A repository as ensured on the server: where people browse it, clone it, and where the sync pushes. */
export interface EnsuredRepository {
  htmlURL: string;
  cloneURL: string;
  /** Where the Job pushes (may differ from cloneURL: e.g. Gitea's in-cluster endpoint). No credentials. */
  pushURL: string;
  /**
   * The repository's default branch as the server reports it now ('' when it reports none, e.g. an empty
   * GitLab project). When it differs from the configured branch, the sync builds the configured branch on
   * this one's head and then makes it the default ({@link GitHostingProvider.setDefaultBranch}).
   */
  defaultBranch: string;
}

/** What repo-sync needs from a git server; one implementation per flavor. */
export interface GitHostingProvider {
  /**
   * The repository, created when missing — after checking that the owner (organization, user, group)
   * exists, so a misspelled owner is reported as such. Every sync applies the settings that protect data
   * (visibility, when `spec.private` is set) to an existing repository too, and reads them back: a setting
   * that cannot be applied or does not take is an error naming it.
   */
  ensureRepository(owner: string, spec: RepoSpec): Promise<EnsuredRepository>;
  /** Makes the existing branch `branch` the repository's default branch and reads it back; throws when it does not take. */
  setDefaultBranch(owner: string, name: string, branch: string): Promise<void>;
  /** HTTP Basic credentials for git over HTTPS. */
  gitCredentials(): { username: string; password: string };
}

/**
 * What a hosting provider is built from: the server's API endpoint, the token and user name of the credentials
 * Secret, repository defaults and team grants from the config, and a PEM CA bundle.
 */
export interface ProviderOptions {
  apiEndpoint: string;
  token: string;
  /** The `username` key of the credentials Secret, when present. */
  username?: string;
  repositoryDefaults?: RepositoryDefaults;
  teams?: TeamGrant[];
  /** PEM CA bundle for the server (from `caSecretRef`). */
  ca?: string;
}

/** Builds the GitHostingProvider of one flavor (Gitea, GitHub, GitLab) from ProviderOptions. */
export type ProviderFactory = (opts: ProviderOptions) => GitHostingProvider;

/**
 * Applies one setting of repository `full` when the server reports another value, then reads it back.
 * Throws a {@link RepoSyncError} naming the setting when the change is refused or does not take.
 */
export async function enforceSetting<T>(
  full: string,
  setting: string,
  want: T,
  current: T | undefined,
  apply: () => Promise<unknown>,
  readBack: () => Promise<T | undefined>,
): Promise<void> {
  if (current === want) return;
  try {
    await apply();
  } catch (e) {
    throw new RepoSyncError(`repository ${full}: cannot set ${setting} to ${String(want)}: ${e instanceof Error ? e.message : String(e)}`);
  }
  const got = await readBack();
  if (got !== want) {
    throw new RepoSyncError(`repository ${full}: ${setting} is ${String(got)} after setting it to ${String(want)}: the server did not apply it`);
  }
}

/**
 * Gitea with an existing client (the Job's, or the CLI's with the platform CA): API token auth; git
 * pushes go to `<apiEndpoint>/<owner>/<repo>.git`. `private` is applied with `PATCH /repos/{owner}/{repo}`.
 */
export function giteaProviderFor(client: GiteaClient, opts: Pick<ProviderOptions, 'token' | 'username'>): GitHostingProvider {
  return {
    async ensureRepository(owner, spec) {
      const r = await client.ensureRepo(owner, spec);
      const full = `${owner}/${spec.name}`;
      if (spec.private !== undefined) {
        const want = spec.private;
        await enforceSetting(full, 'private', want, r.private, () => client.editRepo(owner, spec.name, { private: want }), async () => (await client.findRepo(owner, spec.name))?.private);
      }
      return { htmlURL: r.htmlURL, cloneURL: r.cloneURL, pushURL: `${client.baseURL}/${encodeURIComponent(owner)}/${encodeURIComponent(spec.name)}.git`, defaultBranch: r.defaultBranch };
    },
    async setDefaultBranch(owner, name, branch) {
      // Gitea ignores a default_branch that names no branch without an error: the read-back tells.
      await enforceSetting(`${owner}/${name}`, 'default_branch', branch, undefined, () => client.editRepo(owner, name, { defaultBranch: branch }), async () => (await client.findRepo(owner, name))?.defaultBranch);
    },
    // Gitea takes a token as the Basic password (with its owner as username), or as the username with
    // password `x-oauth-basic` when the owner is not known.
    gitCredentials: () => (opts.username ? { username: opts.username, password: opts.token } : { username: opts.token, password: 'x-oauth-basic' }),
  };
}

/** Gitea: API token auth; git pushes go to `<apiEndpoint>/<owner>/<repo>.git`, reachable from the Job. */
export const giteaProvider: ProviderFactory = (opts) => giteaProviderFor(new GiteaClient({ baseURL: opts.apiEndpoint, auth: { token: opts.token } }), opts);

/** The visibility of a new repository: see {@link RepositoryDefaults}. */
export function repoVisibility(spec: RepoSpec, defaults: RepositoryDefaults | undefined): Visibility {
  if (spec.private === true) return 'private';
  if (defaults?.visibility) return defaults.visibility;
  return spec.private === false ? 'public' : 'private';
}

/**
 * GitHub: the repository in the organization (`POST /orgs/{org}/repos` with the provider's defaults, after
 * `GET /orgs/{org}`), each team granted its permission on it; `visibility` enforced with
 * `PATCH /repos/{owner}/{repo}`; git over HTTPS as `x-access-token` with the token (PAT or installation
 * token) to the `clone_url` GitHub reports.
 */
export const githubProvider: ProviderFactory = (opts) => {
  const client = new GitHubClient({ baseURL: opts.apiEndpoint, token: opts.token });
  const d = opts.repositoryDefaults;
  return {
    async ensureRepository(owner, spec) {
      const r = await client.ensureRepo(owner, {
        name: spec.name,
        ...(spec.description ? { description: spec.description } : {}),
        visibility: repoVisibility(spec, d),
        autoInit: spec.autoInit === true || d?.autoInit === true,
        defaultBranch: spec.defaultBranch,
        ...(d?.allowSquashMerge !== undefined ? { allowSquashMerge: d.allowSquashMerge } : {}),
        ...(d?.allowMergeCommit !== undefined ? { allowMergeCommit: d.allowMergeCommit } : {}),
        ...(d?.allowRebaseMerge !== undefined ? { allowRebaseMerge: d.allowRebaseMerge } : {}),
      });
      if (spec.private !== undefined) {
        const want = repoVisibility(spec, d);
        await enforceSetting(`${owner}/${spec.name}`, 'visibility', want, r.visibility, () => client.updateRepo(owner, spec.name, { visibility: want }), async () => (await client.getRepo(owner, spec.name))?.visibility);
      }
      for (const t of opts.teams ?? []) await client.grantTeamRepo(owner, teamSlug(t.name), owner, spec.name, t.permission);
      if (!r.cloneURL) throw new GitServerError(0, 'ServerError', `GitHub: repository ${owner}/${spec.name} has no clone_url`);
      return { htmlURL: r.htmlURL, cloneURL: r.cloneURL, pushURL: r.cloneURL, defaultBranch: r.defaultBranch };
    },
    async setDefaultBranch(owner, name, branch) {
      await enforceSetting(`${owner}/${name}`, 'default_branch', branch, undefined, () => client.updateRepo(owner, name, { defaultBranch: branch }), async () => (await client.getRepo(owner, name))?.defaultBranch);
    },
    gitCredentials: () => ({ username: 'x-access-token', password: opts.token }),
  };
};

/**
 * GitLab: the project in the group (`POST /projects` with `namespace_id` and the provider's defaults,
 * after `GET /groups/:id`); `visibility` enforced with `PUT /projects/:id` (never more visible than the
 * group allows); git over HTTPS as `oauth2` with the token to the project's `http_url_to_repo`.
 */
export const gitlabProvider: ProviderFactory = (opts) => {
  const client = new GitLabClient({ baseURL: opts.apiEndpoint, token: opts.token, ...(opts.ca ? { ca: opts.ca } : {}) });
  const d = opts.repositoryDefaults;
  return {
    async ensureRepository(owner, spec) {
      const p = await client.ensureProject(owner, {
        name: spec.name,
        path: spec.name,
        ...(spec.description ? { description: spec.description } : {}),
        visibility: repoVisibility(spec, d),
        defaultBranch: spec.defaultBranch,
        initializeWithReadme: spec.autoInit === true || d?.initializeWithReadme === true,
        ...(d?.cicdEnabled !== undefined ? { cicdEnabled: d.cicdEnabled } : {}),
      });
      const full = `${owner}/${spec.name}`;
      if (spec.private !== undefined) {
        const group = await client.requireGroup(owner, `project ${full}`);
        const want = narrower(repoVisibility(spec, d), group.visibility);
        await enforceSetting(full, 'visibility', want, p.visibility, () => client.updateProject(p.id || full, { visibility: want }), async () => (await client.getProject(full))?.visibility);
      }
      if (!p.httpURLToRepo) throw new GitServerError(0, 'ServerError', `GitLab: project ${full} has no http_url_to_repo`);
      return { htmlURL: p.webURL, cloneURL: p.httpURLToRepo, pushURL: p.httpURLToRepo, defaultBranch: p.defaultBranch };
    },
    async setDefaultBranch(owner, name, branch) {
      const full = `${owner}/${name}`;
      await enforceSetting(full, 'default_branch', branch, undefined, () => client.updateProject(full, { defaultBranch: branch }), async () => (await client.getProject(full))?.defaultBranch);
    },
    gitCredentials: () => ({ username: 'oauth2', password: opts.token }),
  };
};

/** What runRepoSync uses without `deps.providers`. */
export const defaultProviders: Partial<Record<GitServerFlavor, ProviderFactory>> = { gitea: giteaProvider, github: githubProvider, gitlab: gitlabProvider };

/** Every flavor: what `idpbuilder job repo-sync` runs with. */
export const allProviders: Record<GitServerFlavor, ProviderFactory> = { gitea: giteaProvider, github: githubProvider, gitlab: gitlabProvider };
