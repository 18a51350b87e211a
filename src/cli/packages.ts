/**
 * Local packages (`idpbuilder create -p DIR`), as today's idpbuilder finds them: the top-level *.yaml files
 * of DIR (or the file itself) holding Argo CD Applications or ApplicationSets (argoproj.io). Every string
 * `cnoe://PATH` in such an object (source.repoURL, sources[].repoURL, helm valuesObject strings, ApplicationSet
 * git generators and templates) names a directory PATH relative to the file.
 *
 * For each Application the CLI
 *  1. pushes every such directory to its own repository on the platform's git server (`git` binary, the
 *     repository created through the Gitea API first; credentials from the git provider's
 *     credentialsSecretRef), and records it as a GitRepository with a `Local` source (the Job skips it: the
 *     cluster knows where the content came from, the CLI owns it);
 *  2. rewrites each `cnoe://PATH` to that repository's in-cluster clone URL;
 *  3. writes the rewritten Application into a definition GitRepository (`Inline` source) and creates a
 *     Package that deploys it into Argo CD's namespace (app of apps), depending on the content repositories.
 * When two -p directories define the same application name, the later one wins (today's priority rule).
 *
 * Remote packages (`-p https://host/org/repo//subdir?ref=R`, `-p git@host:org/repo//subdir`, today's
 * kustomize-style syntax) are cloned shallowly by the CLI only to find the Applications, exactly as above
 * (cnoe:// paths resolve inside the clone and must stay inside the repository). Their content is not pushed
 * from this machine: each cnoe:// directory becomes a GitRepository with a `Git` source (the remote URL, ref
 * and the directory's path in the repository) that the cluster fetches and keeps in sync itself.
 */
import { createHash } from 'node:crypto';
import { lstatSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { parseAllDocuments, stringify } from 'yaml';
import { API_VERSION } from '../api/common.js';
import type { RepoSyncResult } from '../jobs/repo-sync.js';
import type { ProviderFactory } from '../jobs/repo/hosting.js';
import { childName } from '../kit/names.js';
import type { KubeObject } from '../metacontroller/protocol.js';
import type { Runner } from './exec.js';
import { MANAGED_BY, CLI_PLATFORM_LABEL } from './create/platform.js';

const CNOE_SCHEME = 'cnoe://';
const PACKAGE_NAME_LABEL = 'cnoe.io/package-name';
const PACKAGE_TYPE_LABEL = 'cnoe.io/package-type';
const LOCAL_PACKAGE_LABEL = 'idpbuilder.cnoe.io/local-package';
const SOURCE_PATH_ANNOTATION = 'cnoe.io/package-source-path';
/**
 * The index of the `-p` flag a Package came from. Informational only (which of two definitions won is
 * settled here); no controller orders on it.
 */
const PRIORITY_ANNOTATION = 'cnoe.io/package-priority';
export { COMMIT_AUTHOR } from '../api/names.js';
import { COMMIT_AUTHOR } from '../api/names.js';

type Obj = Record<string, unknown>;

/**
 * A `cnoe://` directory a package refers to: the URL as written, the directory (absolute, symlinks resolved), the
 * GitRepository object and repository name it becomes, and for a remote package the Git source the cluster fetches it
 * from.
 */
export interface ContentDir {
  /** The `cnoe://…` string as written. */
  url: string;
  /** Absolute, symlinks resolved. */
  dir: string;
  /** GitRepository object name. */
  object: string;
  /** Repository name on the git server. */
  repo: string;
  /** A directory of a remote package: the Git source the cluster fetches it from (nothing is pushed). */
  remote?: { url: string; ref?: string; path: string };
}

/**
 * An Argo CD Application or ApplicationSet found in a `-p` package: package name, application name and kind, where
 * its file is, the object, its `cnoe://` directories and the index of the `-p` flag it came from (later wins).
 */
export interface LocalApp {
  /** Package name (from the application name). */
  name: string;
  appName: string;
  kind: 'Application' | 'ApplicationSet';
  /** Where the manifest file is, as the user knows it: an absolute path, or `<-p URL> <path in the package>`. */
  file: string;
  object: Obj;
  dirs: ContentDir[];
  /** Index of the -p flag it came from (later wins). */
  priority: number;
}

/** A problem with a `-p` package the user must fix (unreadable file, bad `cnoe://` path, …); printed as an error. */
export class PackageError extends Error {
  override readonly name = 'PackageError';
}

function isObj(v: unknown): v is Obj {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Every string in `v` that starts with cnoe:// (depth-first, in order, without duplicates). */
function cnoeURLs(v: unknown, acc: string[] = []): string[] {
  if (typeof v === 'string') {
    if (v.startsWith(CNOE_SCHEME) && !acc.includes(v)) acc.push(v);
  } else if (Array.isArray(v)) for (const x of v) cnoeURLs(x, acc);
  else if (isObj(v)) for (const x of Object.values(v)) cnoeURLs(x, acc);
  return acc;
}

/** A deep copy of `v` with every string passed through `f`. */
function mapStrings(v: unknown, f: (s: string) => string): unknown {
  if (typeof v === 'string') return f(v);
  if (Array.isArray(v)) return v.map((x) => mapStrings(x, f));
  if (isObj(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, mapStrings(x, f)]));
  return v;
}

// ---- remote packages ------------------------------------------------------------------------------

/** A remote `-p` package, parsed. */
export interface RemotePackage {
  /** The -p value as given. */
  raw: string;
  /** What the CLI clones (the URL as given, without `//subdir` and query). */
  cloneURL: string;
  /**
   * What the cluster fetches: the same repository over https when it was given as `git@host:…` or
   * `ssh://…` (the in-cluster Job has no SSH key; only public repositories are supported, as today).
   */
  clusterURL: string;
  /** Branch, tag or commit (`?ref=`, else `?version=`); undefined: the remote's default branch. */
  ref?: string;
  /** The package directory inside the repository ('' = its root), without leading or trailing slashes. */
  path: string;
}

/** A -p value that names a remote repository (a URL scheme, or scp-like `user@host:path`), not a local path. */
export function isRemotePackage(value: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(value) || /^[^\s/:@]+@[^\s/:]+:/.test(value);
}

const QUERY_KEYS = new Set(['ref', 'version', 'timeout', 'submodules']);

/**
 * Parses a remote package in today's (kustomize's) syntax: `https://host/org/repo//dir[?ref=R]`,
 * `git@host:org/repo//dir[?ref=R]`, `ssh://git@host/org/repo//dir`. The `//` after the repository is
 * required (`//` alone = the repository root); `ref` wins over `version`; `timeout` and `submodules` are
 * accepted and ignored. Throws a {@link PackageError} saying what is wrong: no `//`, credentials in the
 * URL (they would end up in a GitRepository's spec), an unknown query key, `..` in the directory, a
 * scheme other than https, http, ssh or git.
 */
export function parseRemotePackage(raw: string): RemotePackage {
  const fail = (why: string) => new PackageError(`-p ${raw}: ${why}`);
  const q = raw.indexOf('?');
  const base = q < 0 ? raw : raw.slice(0, q);
  const params = new URLSearchParams(q < 0 ? '' : raw.slice(q + 1));
  for (const k of params.keys()) if (!QUERY_KEYS.has(k)) throw fail(`unknown query parameter "${k}" (supported: ref, version, timeout, submodules)`);
  const ref = params.get('ref') || params.get('version') || undefined;
  let host: string;
  let repoPath: string;
  let prefix: string;
  let scheme: string;
  const scp = /^([^\s/:@]+)@([^\s/:]+):(.*)$/.exec(base);
  if (scp && !/^[a-z][a-z0-9+.-]*:\/\//i.test(base)) {
    scheme = 'ssh';
    host = scp[2];
    prefix = `${scp[1]}@${scp[2]}:`;
    repoPath = scp[3];
  } else {
    const m = /^([a-z][a-z0-9+.-]*):\/\/([^/]*)(\/.*)?$/i.exec(base);
    if (!m) throw fail('not a URL');
    scheme = m[1].toLowerCase();
    if (!['https', 'http', 'ssh', 'git'].includes(scheme)) throw fail(`scheme ${scheme}: use https://, http://, ssh:// or git@host:`);
    const authority = m[2];
    const at = authority.lastIndexOf('@');
    if (at >= 0 && (scheme === 'https' || scheme === 'http' || authority.slice(0, at).includes(':'))) {
      throw fail('credentials in the URL are not supported (they would be stored in the cluster); private remote packages are not supported');
    }
    host = (at >= 0 ? authority.slice(at + 1) : authority).replace(/:\d+$/, scheme === 'https' || scheme === 'http' ? '$&' : '');
    if (!host) throw fail('no host');
    prefix = `${m[1]}://${authority}/`;
    repoPath = m[3] ?? '';
  }
  const cut = repoPath.indexOf('//');
  if (cut < 0) throw fail('a remote package needs // after the repository, e.g. https://github.com/cnoe-io/stacks//ref-implementation');
  const repo = repoPath.slice(0, cut).replace(/^\/+|\/+$/g, '');
  if (!repo) throw fail('no repository before //');
  const path = repoPath.slice(cut + 2).replace(/^\/+|\/+$/g, '');
  if (path.split('/').some((s) => s === '..' || s === '.git')) throw fail(`the directory "${path}" must stay inside the repository`);
  const cloneURL = `${prefix}${repo}`;
  const clusterURL = scheme === 'ssh' || scheme === 'git' ? `https://${host}/${repo}` : cloneURL;
  return { raw, cloneURL, clusterURL, ...(ref ? { ref } : {}), path };
}

/** A remote package cloned for discovery: the package directory in a temporary clone. */
export interface Checkout {
  remote: RemotePackage;
  /** The clone's root (symlinks resolved). */
  root: string;
  /** The package directory in it. */
  dir: string;
  /** Removes the clone. */
  cleanup(): void;
}

/**
 * Clones a remote package shallowly (depth 1, no tags; a commit SHA is fetched by itself) with the `git` of
 * `runner`, without prompting for credentials (GIT_TERMINAL_PROMPT=0), into a temporary directory. Throws a
 * {@link PackageError} with git's last line when the clone fails or the directory is not in the repository.
 */
export async function cloneRemotePackage(runner: Runner, remote: RemotePackage): Promise<Checkout> {
  const tmp = mkdtempSync(join(tmpdir(), 'idpbuilder-remote-'));
  const cleanup = () => rmSync(tmp, { recursive: true, force: true });
  const dir = join(tmp, 'repo');
  const env = { GIT_TERMINAL_PROMPT: '0' };
  const git = async (args: string[], cwd?: string) => {
    const r = await runner.run('git', args, { env, timeoutMs: 5 * 60_000, ...(cwd ? { cwd } : {}) });
    if (r.code !== 0) {
      const last = (r.stderr || r.stdout).trim().split('\n').filter(Boolean).pop() ?? `exit code ${r.code}`;
      throw new PackageError(`-p ${remote.raw}: cannot clone ${remote.cloneURL}${remote.ref ? ` at ${remote.ref}` : ''}: ${last}`);
    }
  };
  try {
    if (remote.ref && /^[0-9a-f]{40}([0-9a-f]{24})?$/i.test(remote.ref)) {
      await git(['init', '-q', dir]);
      await git(['fetch', '-q', '--depth', '1', '--no-tags', '--', remote.cloneURL, remote.ref], dir);
      await git(['checkout', '-q', 'FETCH_HEAD'], dir);
    } else {
      await git(['clone', '-q', '--depth', '1', '--no-tags', ...(remote.ref ? ['--branch', remote.ref] : []), '--', remote.cloneURL, dir]);
    }
    const root = realpathSync(dir);
    let pkg: string;
    try {
      pkg = realpathSync(join(root, remote.path));
      if (!statSync(pkg).isDirectory()) throw new Error('not a directory');
    } catch {
      throw new PackageError(`-p ${remote.raw}: ${remote.path || '(the root)'} is not a directory of ${remote.cloneURL}${remote.ref ? ` at ${remote.ref}` : ''}`);
    }
    if (!inside(root, pkg)) throw new PackageError(`-p ${remote.raw}: ${remote.path} leads outside the repository`);
    return { remote, root, dir: pkg, cleanup };
  } catch (e) {
    cleanup();
    throw e;
  }
}

function inside(root: string, p: string): boolean {
  return p === root || p.startsWith(root.endsWith(sep) ? root : root + sep);
}

function manifestFiles(path: string): string[] {
  let st;
  try {
    st = statSync(path);
  } catch {
    throw new PackageError(`-p ${path}: no such file or directory`);
  }
  if (st.isFile()) return [resolve(path)];
  return readdirSync(path)
    .filter((f) => /\.ya?ml$/i.test(f))
    .sort()
    .map((f) => resolve(path, f))
    .filter((f) => statSync(f).isFile());
}

function slug(s: string): string {
  return s.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/-+/g, '-').replace(/^-|-$/g, '') || 'x';
}

/** A repository name on the git server (Gitea: letters, digits, - _ ., at most 100). */
function repoName(parts: string[]): string {
  const raw = parts.map(slug).join('-');
  if (raw.length <= 100) return raw;
  const hash = createHash('sha256').update(parts.join('/')).digest('hex').slice(0, 8);
  return `${raw.slice(0, 91).replace(/-+$/, '')}-${hash}`;
}

/**
 * Finds the local packages of every `-p` path (directories or files), resolving cnoe:// directories.
 * Throws a {@link PackageError} naming the file and URL when a cnoe:// path is not a directory.
 */
export function discoverPackages(paths: string[], cluster: string, checkouts: ReadonlyMap<string, Checkout> = new Map()): { apps: LocalApp[]; warnings: string[] } {
  const byName = new Map<string, LocalApp>();
  const warnings: string[] = [];
  paths.forEach((p, priority) => {
    const checkout = checkouts.get(p);
    if (!checkout && isRemotePackage(p)) throw new PackageError(`-p ${p}: the remote package was not fetched`);
    for (const file of manifestFiles(checkout ? checkout.dir : p)) {
      const shown = checkout ? `${p} ${relative(checkout.dir, file)}` : file;
      let docs;
      try {
        docs = parseAllDocuments(readFileSync(file, 'utf8'));
      } catch (e) {
        throw new PackageError(`${file}: cannot read: ${(e as Error).message}`);
      }
      for (const doc of docs) {
        if (doc.errors.length) throw new PackageError(`${file}: not YAML: ${doc.errors[0].message.split('\n')[0]}`);
        const o = doc.toJS() as unknown;
        if (!isObj(o) || typeof o.apiVersion !== 'string' || !o.apiVersion.startsWith('argoproj.io/')) continue;
        if (o.kind !== 'Application' && o.kind !== 'ApplicationSet') continue;
        const appName = String((o.metadata as Obj | undefined)?.name ?? '');
        if (!appName) throw new PackageError(`${shown}: an ${o.kind} without metadata.name`);
        const name = childName([appName]);
        const dirs: ContentDir[] = [];
        const used = new Set<string>();
        for (const url of cnoeURLs(o)) {
          const rel = url.slice(CNOE_SCHEME.length);
          const abs = resolve(dirname(file), rel);
          let real: string;
          try {
            real = realpathSync(abs);
            if (!statSync(real).isDirectory()) throw new Error('not a directory');
          } catch {
            const where = checkout ? relative(checkout.root, abs) : abs;
            throw new PackageError(`${shown}: ${o.kind} ${appName}: ${url} must name a directory relative to the file (${where} is not one)`);
          }
          if (checkout && !inside(checkout.root, real)) throw new PackageError(`${shown}: ${o.kind} ${appName}: ${url} leads outside the repository`);
          let base = slug(basename(real));
          if (used.has(base)) base = `${base}-${createHash('sha256').update(rel).digest('hex').slice(0, 6)}`;
          used.add(base);
          const remote = checkout
            ? { remote: { url: checkout.remote.clusterURL, ...(checkout.remote.ref ? { ref: checkout.remote.ref } : {}), path: relative(checkout.root, real).split(sep).join('/') || '.' } }
            : {};
          dirs.push({ url, dir: real, object: childName([name, base]), repo: repoName(['idpbuilder', cluster, appName, base]), ...remote });
        }
        const app: LocalApp = { name, appName, kind: o.kind, file: shown, object: o, dirs, priority };
        const earlier = byName.get(name);
        if (earlier) warnings.push(`${o.kind} ${appName} in ${shown} replaces the one in ${earlier.file} (a later -p wins)`);
        byName.set(name, app);
      }
    }
  });
  return { apps: [...byName.values()].sort((a, b) => a.name.localeCompare(b.name)), warnings };
}

// ---- the git server -------------------------------------------------------------------------------

/** The platform's git server as the CLI reaches it from this machine. */
export interface GitServer {
  /** External base URL (API and git), e.g. https://gitea.cnoe.localtest.me:8443. */
  endpoint: string;
  /** In-cluster base URL, used for the clone URLs Argo CD gets; default: endpoint. */
  internalEndpoint?: string;
  organization: string;
  token: string;
  username?: string;
  /** PEM CA to trust (the platform's self-signed certificate). */
  ca?: string;
  /** The git provider object (for GitRepository.spec.gitServerRef). */
  ref: { kind: string; name: string; namespace: string };
}

/** The clone URL a GitRepository on this server gets (same rule as the GitRepository controller). */
export function cloneURL(server: Pick<GitServer, 'endpoint' | 'internalEndpoint' | 'organization'>, repo: string): string {
  const base = (server.internalEndpoint || server.endpoint).replace(/\/+$/, '');
  return `${base}/${server.organization}/${repo}.git`;
}

/** Gitea reached from this machine: the API with the platform's CA; the organization is created when missing. */
async function cliGiteaProvider(ca: string | undefined): Promise<ProviderFactory> {
  const { Agent } = await import('undici');
  const { GiteaClient, GitServerError } = await import('../gitea/client.js');
  const { giteaProviderFor } = await import('../jobs/repo/hosting.js');
  return (opts) => {
    const dispatcher = ca ? new Agent({ connect: { ca } }) : undefined;
    const client = new GiteaClient({ baseURL: opts.apiEndpoint, auth: { token: opts.token }, ...(dispatcher ? { dispatcher } : {}) });
    const base = giteaProviderFor(client, opts);
    return {
      ...base,
      async ensureRepository(owner, spec) {
        try {
          await client.ensureOrg({ name: owner, description: 'idpbuilder repositories' });
        } catch (e) {
          // 422: a user has that name; the repository then goes to that user.
          if (!(e instanceof GitServerError && e.status === 422)) throw e;
        }
        return base.ensureRepository(owner, spec);
      },
    };
  };
}

/**
 * Pushes the content of `dir` to the repository (created when missing; a commit by git-reconciler only when
 * something changed), under `opts.targetPath` (default: the root). Calls repo-sync's push (jobs/repo/sync.ts)
 * with the directory as its only source, writing as `cli`: it replaces and deletes only what the CLI wrote
 * before (`.idpbuilder/owners/cli.paths`), and the in-cluster sync never deletes what the CLI wrote. Every
 * message it throws is scrubbed of the token.
 */
export async function pushDirectory(server: GitServer, repo: string, dir: string, description: string, opts: { targetPath?: string } = {}): Promise<RepoSyncResult> {
  const real = realpathSync(dir);
  const { pushSources, withScrubbing } = await import('../jobs/repo/sync.js');
  const { CLI_WRITER } = await import('../jobs/repo/owners.js');
  const { RepoSyncError } = await import('../jobs/repo/errors.js');
  const factory = await cliGiteaProvider(server.ca);
  // As the Job reads a token from a Secret: a trailing newline would break the headers.
  const token = server.token.trim();
  if (!token) throw new RepoSyncError('the git server token is empty');
  const secrets = [token];
  return withScrubbing(secrets, { info: () => undefined, warn: () => undefined }, (log) =>
    pushSources(
      {
        flavor: 'gitea',
        apiEndpoint: server.endpoint.replace(/\/+$/, ''),
        organization: server.organization,
        repository: { name: repo, description, private: false, autoInit: false, defaultBranch: 'main' },
        sources: [{ type: 'Embedded', path: basename(real), ...(opts.targetPath ? { targetPath: opts.targetPath } : {}) }],
        embeddedRoot: dirname(real),
        commitAuthor: COMMIT_AUTHOR,
        writer: CLI_WRITER,
      },
      { factory, token, ...(server.username ? { username: server.username } : {}), ...(server.ca ? { ca: server.ca } : {}), secrets, log },
    ),
  );
}

// ---- objects ----------------------------------------------------------------------------------------

/**
 * Where local packages go: the Platform name and namespace, the git server, the gitops provider reference and the
 * namespace Argo CD watches for Applications.
 */
export interface PackageContext {
  platform: string;
  namespace: string;
  server: GitServer;
  gitOpsProviderRef: { kind: string; name: string; namespace: string };
  /** Namespace Argo CD watches for Applications (its install namespace). */
  argoNamespace: string;
}

/** The Application as Argo CD gets it: cnoe:// rewritten to clone URLs, in Argo CD's namespace, without server fields. */
function rewrittenApplication(app: LocalApp, ctx: PackageContext): Obj {
  const urls = new Map(app.dirs.map((d) => [d.url, cloneURL(ctx.server, d.repo)]));
  const o = mapStrings(app.object, (s) => urls.get(s) ?? s) as Obj;
  const md = { ...((o.metadata as Obj | undefined) ?? {}) };
  for (const k of ['uid', 'resourceVersion', 'generation', 'creationTimestamp', 'managedFields']) delete md[k];
  md.namespace = ctx.argoNamespace;
  const { status: _status, ...rest } = o;
  return { ...rest, metadata: md };
}

/** GitRepositories (content: Local; definition: Inline) and the Package of each application. */
export function packageObjects(apps: LocalApp[], ctx: PackageContext): KubeObject[] {
  const out: KubeObject[] = [];
  for (const app of apps) {
    const labels = { ...MANAGED_BY, [CLI_PLATFORM_LABEL]: ctx.platform, [PACKAGE_NAME_LABEL]: app.appName, [PACKAGE_TYPE_LABEL]: 'custom', [LOCAL_PACKAGE_LABEL]: 'true' };
    const annotations = { [SOURCE_PATH_ANNOTATION]: app.file, [PRIORITY_ANNOTATION]: String(app.priority) };
    const meta = (name: string, extra: Obj = {}) => ({ name, namespace: ctx.namespace, labels, annotations: { ...annotations, ...extra } });
    for (const d of app.dirs) {
      const r = d.remote;
      out.push({
        apiVersion: API_VERSION,
        kind: 'GitRepository',
        metadata: meta(d.object, { [SOURCE_PATH_ANNOTATION]: r ? `${r.url}//${r.path === '.' ? '' : r.path}${r.ref ? `?ref=${r.ref}` : ''}` : d.dir }),
        spec: {
          gitServerRef: ctx.server.ref,
          name: d.repo,
          organization: ctx.server.organization,
          description: r
            ? `idpbuilder remote package ${app.appName}: ${d.url} (fetched from ${r.url} by the cluster)`
            : `idpbuilder local package ${app.appName}: ${d.url} (pushed by the idpbuilder CLI)`,
          private: false,
          // a remote directory is fetched and kept in sync by the cluster; a local one is pushed by the CLI
          ...(r
            ? { sources: [{ type: 'Git', url: r.url, ...(r.ref ? { ref: r.ref } : {}), path: r.path }] }
            : { sources: [{ type: 'Local', path: d.dir }], sync: { autoSync: false } }),
        },
      } as KubeObject);
    }
    const definition = childName([app.name, 'definition']);
    const file = `${app.kind.toLowerCase()}.yaml`;
    out.push({
      apiVersion: API_VERSION,
      kind: 'GitRepository',
      metadata: meta(definition),
      spec: {
        gitServerRef: ctx.server.ref,
        name: repoName(['idpbuilder', ctx.platform, app.appName, 'definition']),
        organization: ctx.server.organization,
        description: `idpbuilder local package ${app.appName}: the ${app.kind} from ${app.file}`,
        private: false,
        sources: [{ type: 'Inline', files: { [file]: stringify(rewrittenApplication(app, ctx), { lineWidth: 0 }) } }],
        sync: { autoSync: false },
      },
    } as KubeObject);
    out.push({
      apiVersion: API_VERSION,
      kind: 'Package',
      metadata: meta(app.name),
      spec: {
        source: { gitRepository: { name: definition, path: '.' } },
        gitOpsProviderRef: ctx.gitOpsProviderRef,
        ...(app.dirs.length ? { dependencies: app.dirs.map((d) => ({ kind: 'GitRepository', name: d.object, namespace: ctx.namespace })) } : {}),
        argocd: {
          project: 'default',
          destination: { server: 'https://kubernetes.default.svc', namespace: ctx.argoNamespace },
          syncPolicy: { automated: { prune: true, selfHeal: true } },
        },
      },
    } as KubeObject);
  }
  return out;
}

// ---- watching -------------------------------------------------------------------------------------

const MAX_ENTRIES = 20_000;

/** A fingerprint of a directory tree (paths, sizes, modification times; .git skipped). */
export function fingerprint(dir: string): string {
  const h = createHash('sha256');
  let n = 0;
  const walk = (d: string, rel: string) => {
    let entries: string[];
    try {
      entries = readdirSync(d).sort();
    } catch {
      h.update(`!${rel}\n`);
      return;
    }
    for (const e of entries) {
      if (e === '.git') continue;
      if (++n > MAX_ENTRIES) return;
      const full = join(d, e);
      const st = lstatSync(full);
      h.update(`${rel}/${e}\0${st.isDirectory() ? 'd' : st.size}\0${st.mtimeMs}\n`);
      if (st.isDirectory()) walk(full, `${rel}/${e}`);
    }
  };
  walk(dir, '');
  return h.digest('hex');
}

/** A local package directory --no-exit watches, and how to push it when it changes. */
export interface WatchTarget {
  dir: string;
  push: () => Promise<void>;
}

/**
 * Polls the directories every `intervalMs` and calls `push` for each one that changed, one at a time,
 * until `signal` aborts. A failed push is reported through `onError` and tried again at the next poll.
 */
export async function watchDirectories(
  targets: WatchTarget[],
  opts: { intervalMs: number; signal: AbortSignal; sleep?: (ms: number, signal: AbortSignal) => Promise<void>; onError: (dir: string, e: unknown) => void },
): Promise<void> {
  const sleep =
    opts.sleep ??
    ((ms: number, signal: AbortSignal) =>
      new Promise<void>((done) => {
        const t = setTimeout(done, ms);
        signal.addEventListener('abort', () => (clearTimeout(t), done()), { once: true });
      }));
  const last = new Map(targets.map((t) => [t.dir, fingerprint(t.dir)]));
  while (!opts.signal.aborted) {
    await sleep(opts.intervalMs, opts.signal);
    if (opts.signal.aborted) break;
    for (const t of targets) {
      const now = fingerprint(t.dir);
      if (now === last.get(t.dir)) continue;
      try {
        await t.push();
        last.set(t.dir, now);
      } catch (e) {
        opts.onError(t.dir, e);
      }
    }
  }
}

// ---- Argo CD refresh ------------------------------------------------------------------------------

/** Argo CD's refresh request: the application controller refreshes the Application and removes the annotation. */
const ARGO_REFRESH_ANNOTATION = 'argocd.argoproj.io/refresh';

/**
 * Asks Argo CD to refresh the Application of a package now (`argocd.argoproj.io/refresh: normal`) instead
 * of at its next poll, so a push shows within seconds. ApplicationSets are left alone (the Applications
 * they generate are not known here). Returns undefined when done or when the Application does not exist
 * yet (it will read the new commit when it is created), else the reason it failed (one line).
 */
export async function refreshApplication(
  kube: { kubectl(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> },
  app: Pick<LocalApp, 'appName' | 'kind'>,
  argoNamespace: string,
): Promise<string | undefined> {
  if (app.kind !== 'Application') return undefined;
  const r = await kube.kubectl(['annotate', 'applications.argoproj.io', app.appName, '-n', argoNamespace, `${ARGO_REFRESH_ANNOTATION}=normal`, '--overwrite']);
  if (r.code === 0 || /NotFound|not found/.test(r.stderr)) return undefined;
  return (r.stderr || r.stdout).trim().split('\n').filter(Boolean).pop() ?? `kubectl exit code ${r.code}`;
}
