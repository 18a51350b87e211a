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
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, realpathSync, statSync, lstatSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { parseAllDocuments, stringify } from 'yaml';
import { API_VERSION } from '../api/common.js';
import type { ProviderFactory, RepoSyncResult } from '../jobs/repo-sync.js';
import { childName } from '../kit/names.js';
import type { KubeObject } from '../metacontroller/protocol.js';
import { MANAGED_BY, CLI_PLATFORM_LABEL } from './create/platform.js';

export const CNOE_SCHEME = 'cnoe://';
export const PACKAGE_NAME_LABEL = 'cnoe.io/package-name';
export const PACKAGE_TYPE_LABEL = 'cnoe.io/package-type';
export const LOCAL_PACKAGE_LABEL = 'idpbuilder.cnoe.io/local-package';
export const SOURCE_PATH_ANNOTATION = 'cnoe.io/package-source-path';
export const PRIORITY_ANNOTATION = 'cnoe.io/package-priority';
export const COMMIT_AUTHOR = { name: 'git-reconciler', email: 'git-reconciler@cnoe.io' };

type Obj = Record<string, unknown>;

export interface ContentDir {
  /** The `cnoe://…` string as written. */
  url: string;
  /** Absolute, symlinks resolved. */
  dir: string;
  /** GitRepository object name. */
  object: string;
  /** Repository name on the git server. */
  repo: string;
}

export interface LocalApp {
  /** Package name (from the application name). */
  name: string;
  appName: string;
  kind: 'Application' | 'ApplicationSet';
  /** Absolute path of the manifest file. */
  file: string;
  object: Obj;
  dirs: ContentDir[];
  /** Index of the -p flag it came from (later wins). */
  priority: number;
}

export class PackageError extends Error {
  override readonly name = 'PackageError';
}

function isObj(v: unknown): v is Obj {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Every string in `v` that starts with cnoe:// (depth-first, in order, without duplicates). */
export function cnoeURLs(v: unknown, acc: string[] = []): string[] {
  if (typeof v === 'string') {
    if (v.startsWith(CNOE_SCHEME) && !acc.includes(v)) acc.push(v);
  } else if (Array.isArray(v)) for (const x of v) cnoeURLs(x, acc);
  else if (isObj(v)) for (const x of Object.values(v)) cnoeURLs(x, acc);
  return acc;
}

/** A deep copy of `v` with every string passed through `f`. */
export function mapStrings(v: unknown, f: (s: string) => string): unknown {
  if (typeof v === 'string') return f(v);
  if (Array.isArray(v)) return v.map((x) => mapStrings(x, f));
  if (isObj(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, mapStrings(x, f)]));
  return v;
}

function manifestFiles(path: string): string[] {
  if (/^(https?:\/\/|git@)/.test(path)) {
    throw new PackageError(`-p ${path}: remote packages are not supported yet; declare a GitRepository with a Git source and a Package for it (docs/cli.md)`);
  }
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
export function repoName(parts: string[]): string {
  const raw = parts.map(slug).join('-');
  if (raw.length <= 100) return raw;
  const hash = createHash('sha256').update(parts.join('/')).digest('hex').slice(0, 8);
  return `${raw.slice(0, 91).replace(/-+$/, '')}-${hash}`;
}

/**
 * Finds the local packages of every `-p` path (directories or files), resolving cnoe:// directories.
 * Throws a {@link PackageError} naming the file and URL when a cnoe:// path is not a directory.
 */
export function discoverPackages(paths: string[], cluster: string): { apps: LocalApp[]; warnings: string[] } {
  const byName = new Map<string, LocalApp>();
  const warnings: string[] = [];
  paths.forEach((p, priority) => {
    for (const file of manifestFiles(p)) {
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
        if (!appName) throw new PackageError(`${file}: an ${o.kind} without metadata.name`);
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
            throw new PackageError(`${file}: ${o.kind} ${appName}: ${url} must name a directory relative to the file (${abs} is not one)`);
          }
          let base = slug(basename(real));
          if (used.has(base)) base = `${base}-${createHash('sha256').update(rel).digest('hex').slice(0, 6)}`;
          used.add(base);
          dirs.push({ url, dir: real, object: childName([name, base]), repo: repoName(['idpbuilder', cluster, appName, base]) });
        }
        const app: LocalApp = { name, appName, kind: o.kind, file, object: o, dirs, priority };
        const earlier = byName.get(name);
        if (earlier) warnings.push(`${o.kind} ${appName} in ${file} replaces the one in ${earlier.file} (a later -p wins)`);
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
  const { giteaProviderFor } = await import('../jobs/repo-sync.js');
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
 * something changed), under `opts.targetPath` (default: the root). Reuses the repo-sync program with the
 * directory as its only source, writing as `cli`: it replaces and deletes only what the CLI wrote before
 * (`.idpbuilder/owners/cli.paths`), and the in-cluster sync never deletes what the CLI wrote.
 */
export async function pushDirectory(server: GitServer, repo: string, dir: string, description: string, opts: { targetPath?: string } = {}): Promise<RepoSyncResult> {
  const real = realpathSync(dir);
  const { runRepoSync, CLI_WRITER } = await import('../jobs/repo-sync.js');
  const provider = await cliGiteaProvider(server.ca);
  const secrets: Record<string, Record<string, string>> = {
    credentials: { token: server.token, ...(server.username ? { username: server.username } : {}) },
    ...(server.ca ? { ca: { 'ca.crt': server.ca } } : {}),
  };
  return runRepoSync(
    {
      flavor: 'gitea',
      apiEndpoint: server.endpoint.replace(/\/+$/, ''),
      credentialsSecretRef: { namespace: 'cli', name: 'credentials', key: 'token' },
      ...(server.ca ? { caSecretRef: { namespace: 'cli', name: 'ca', key: 'ca.crt' } } : {}),
      organization: server.organization,
      repository: { name: repo, description, private: false, autoInit: false, defaultBranch: 'main' },
      sources: [{ type: 'Embedded', path: basename(real), ...(opts.targetPath ? { targetPath: opts.targetPath } : {}) }],
      embeddedRoot: dirname(real),
      commitAuthor: COMMIT_AUTHOR,
      writer: CLI_WRITER,
    },
    {
      kube: { getSecret: async (_ns: string, name: string) => secrets[name], annotateJob: async () => undefined },
      log: { info: () => undefined, warn: () => undefined },
      providers: { gitea: provider },
    } as Parameters<typeof import('../jobs/repo-sync.js').runRepoSync>[1],
  );
}

// ---- objects ----------------------------------------------------------------------------------------

export interface PackageContext {
  platform: string;
  namespace: string;
  server: GitServer;
  gitOpsProviderRef: { kind: string; name: string; namespace: string };
  /** Namespace Argo CD watches for Applications (its install namespace). */
  argoNamespace: string;
}

/** The Application as Argo CD gets it: cnoe:// rewritten to clone URLs, in Argo CD's namespace, without server fields. */
export function rewrittenApplication(app: LocalApp, ctx: PackageContext): Obj {
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
      out.push({
        apiVersion: API_VERSION,
        kind: 'GitRepository',
        metadata: meta(d.object, { [SOURCE_PATH_ANNOTATION]: d.dir }),
        spec: {
          gitServerRef: ctx.server.ref,
          name: d.repo,
          organization: ctx.server.organization,
          description: `idpbuilder local package ${app.appName}: ${d.url} (pushed by the idpbuilder CLI)`,
          private: false,
          sources: [{ type: 'Local', path: d.dir }],
          sync: { autoSync: false },
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
