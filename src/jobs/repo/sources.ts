/**
 * The sources of a repository (Local, Embedded, Git, Inline) made into one tree: each prepared (Embedded
 * resolved below the embedded root, Git cloned, Inline kept as files, Local skipped: the CLI pushes it),
 * then staged into an empty directory under its targetPath, later sources winning. Every path is checked
 * to stay inside its root and away from `.git`; a violation is a RepoSyncError.
 */
import { chmod, copyFile, lstat, mkdir, readdir, readlink, realpath, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { join, sep } from 'node:path';
import type { RepoSyncConfig } from '../repo-sync.js';
import { RepoSyncError } from './errors.js';
import type { Git } from './git.js';
import { OWNERS_DIR } from './owners.js';
import { listFiles, safeRelParts } from './paths.js';
import { redactURL, type JobLogger } from './scrub.js';

/** A source ready to stage: a directory to copy, or files to write, under `target` (path parts). */
export type Prepared =
  | { kind: 'dir'; dir: string; target: string[] }
  | { kind: 'files'; files: Array<[string[], string]>; target: string[] };

/**
 * Resolves and fetches `cfg.sources` (Git sources cloned below `dir` with `git`). Throws RepoSyncError for
 * a bad path or a missing embedded root or directory, GitCommandError when a Git source cannot be fetched.
 */
export async function prepareSources(cfg: Pick<RepoSyncConfig, 'sources' | 'embeddedRoot'>, git: Git, dir: string, log: JobLogger): Promise<Prepared[]> {
  await mkdir(dir, { recursive: true });
  const out: Prepared[] = [];
  let rootReal: string | undefined;
  for (const [i, src] of cfg.sources.entries()) {
    const where = `sources[${i}]`;
    const target = safeRelParts(src.targetPath ?? '', `${where}.targetPath`);
    switch (src.type) {
      case 'Local':
        log.info('skipping Local source: the CLI pushes it', { source: i, path: src.path });
        break;
      case 'Inline': {
        const files: Array<[string[], string]> = [];
        for (const [name, content] of Object.entries(src.files)) {
          const parts = safeRelParts(name, `${where}.files["${name}"]`);
          if (parts.length === 0) throw new RepoSyncError(`${where}.files: a file needs a name`);
          files.push([parts, content]);
        }
        out.push({ kind: 'files', files, target });
        break;
      }
      case 'Embedded': {
        if (rootReal === undefined) {
          try {
            rootReal = await realpath(cfg.embeddedRoot);
          } catch {
            throw new RepoSyncError(`embedded root ${cfg.embeddedRoot} does not exist`);
          }
        }
        const real = await containedDir(rootReal, safeRelParts(src.path, `${where}.path`), `Embedded source "${src.path}"`);
        out.push({ kind: 'dir', dir: real, target });
        break;
      }
      case 'Git': {
        const clone = join(dir, String(i));
        const shown = redactURL(src.url);
        log.info('fetching Git source', { source: i, url: shown, ref: src.ref ?? '(default branch)' });
        await git.cloneSource(src.url, src.ref, clone);
        const cloneReal = await realpath(clone);
        const real = await containedDir(cloneReal, safeRelParts(src.path ?? '', `${where}.path`), `path "${src.path ?? ''}" of Git source ${shown}`);
        out.push({ kind: 'dir', dir: real, target });
        break;
      }
      default:
        throw new RepoSyncError(`${where}: unknown source type "${(src as { type: string }).type}"`);
    }
  }
  return out;
}

/** Resolves `parts` below `rootReal` (symlinks followed) and insists the result is a directory inside it. */
async function containedDir(rootReal: string, parts: string[], what: string): Promise<string> {
  let real: string;
  try {
    real = await realpath(join(rootReal, ...parts));
  } catch {
    throw new RepoSyncError(`${what} not found`);
  }
  if (real !== rootReal && !real.startsWith(rootReal + sep)) throw new RepoSyncError(`${what} escapes its root`);
  if (!(await stat(real)).isDirectory()) throw new RepoSyncError(`${what} is not a directory`);
  return real;
}

/** Makes `root/parts…` a real directory, replacing files or symlinks in the way (so nothing is written through a link). */
async function ensureRealDir(root: string, parts: string[]): Promise<string> {
  let cur = root;
  for (const part of parts) {
    cur = join(cur, part);
    const st = await lstat(cur).catch(() => undefined);
    if (st?.isDirectory()) continue;
    if (st) await rm(cur, { recursive: true, force: true });
    await mkdir(cur);
  }
  return cur;
}

/** Copies `src` into `dst` (a real directory), overwriting; skips `.git`, keeps symlinks as symlinks and the exec bit. */
async function copyTree(src: string, dst: string): Promise<void> {
  for (const entry of await readdir(src, { withFileTypes: true })) {
    if (entry.name.toLowerCase() === '.git') continue;
    const s = join(src, entry.name);
    const d = join(dst, entry.name);
    const st = await lstat(s);
    const existing = await lstat(d).catch(() => undefined);
    if (st.isDirectory()) {
      if (existing && !existing.isDirectory()) await rm(d, { recursive: true, force: true });
      if (!existing || !existing.isDirectory()) await mkdir(d);
      await copyTree(s, d);
    } else if (st.isSymbolicLink()) {
      if (existing) await rm(d, { recursive: true, force: true });
      await symlink(await readlink(s), d);
    } else if (st.isFile()) {
      if (existing) await rm(d, { recursive: true, force: true });
      await copyFile(s, d);
      await chmod(d, st.mode & 0o111 ? 0o755 : 0o644);
    }
  }
}

/**
 * Writes the merged sources into the empty directory `stage` (later sources win) and lists its files.
 * @throws RepoSyncError when a source writes under `.idpbuilder/owners/` (reserved for the writer manifests); file
 *   system errors as Node raises them.
 */
export async function stageSources(stage: string, prepared: Prepared[]): Promise<string[]> {
  await mkdir(stage, { recursive: true });
  for (const p of prepared) {
    const base = await ensureRealDir(stage, p.target);
    if (p.kind === 'dir') {
      await copyTree(p.dir, base);
      continue;
    }
    for (const [parts, content] of p.files) {
      const parent = await ensureRealDir(base, parts.slice(0, -1));
      const file = join(parent, parts[parts.length - 1]);
      if (await lstat(file).catch(() => undefined)) await rm(file, { recursive: true, force: true });
      await writeFile(file, content, { mode: 0o644 });
    }
  }
  const files = await listFiles(stage);
  const reserved = files.find((f) => f === OWNERS_DIR || f.startsWith(`${OWNERS_DIR}/`));
  if (reserved) throw new RepoSyncError(`a source writes ${reserved}: ${OWNERS_DIR}/ is where repo-sync records who wrote what`);
  return files;
}
