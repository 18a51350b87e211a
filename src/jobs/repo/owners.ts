/**
 * Who wrote what in a repository several writers push to (the in-cluster sync per GitRepository, the CLI):
 * each writer records its paths in `.idpbuilder/owners/<writer>.paths` and deletes only paths it wrote
 * and no longer writes.
 */
import { chmod, copyFile, lstat, mkdir, readFile, readdir, readlink, rm, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { RepoSyncError } from './errors.js';
import { listFiles, safeRelParts } from './paths.js';
import type { JobLogger } from './scrub.js';

/**
 * Where each writer records the paths it wrote: `.idpbuilder/owners/<writer>.paths`, one JSON string per
 * line (`#` lines are comments). No .yaml/.json extension, so Argo CD, Flux and Helm do not read it.
 */
export const OWNERS_DIR = '.idpbuilder/owners';
/** The writer of a config without `writer` (older GitRepository configs). */
export const DEFAULT_WRITER = 'repo-sync';
/** The writer of `idpbuilder create -p` (the CLI pushing a local directory). */
export const CLI_WRITER = 'cli';


/** The manifest of `writer`, relative to the repository root. */
export function manifestPath(writer: string): string {
  return `${OWNERS_DIR}/${writer}.paths`;
}

/** The manifest text for `paths` written by `writer`. */
export function renderManifest(writer: string, paths: string[]): string {
  return [`# Paths written by ${writer} (idpbuilder repo-sync). It deletes only paths listed here that it no longer writes.`, ...paths.map((p) => JSON.stringify(p)), ''].join('\n');
}

/** The paths of a manifest; lines that are not a safe relative path are ignored (so never deleted). */
export function parseManifest(text: string): Set<string> {
  const out = new Set<string>();
  for (const line of text.split('\n')) {
    const l = line.trim();
    if (!l || l.startsWith('#')) continue;
    let p: unknown;
    try {
      p = JSON.parse(l);
    } catch {
      continue;
    }
    if (typeof p !== 'string') continue;
    try {
      if (safeRelParts(p, 'manifest').join('/') === p && !p.startsWith(`${OWNERS_DIR}/`)) out.add(p);
    } catch {
      /* not a path this sync could have written */
    }
  }
  return out;
}

/** Our manifest, and every other writer's claims (path → writer), read from the checked-out tree. */
async function readManifests(worktree: string, writer: string): Promise<{ mine: Set<string>; others: Map<string, string> }> {
  const mine = new Set<string>();
  const others = new Map<string, string>();
  const root = join(worktree, ...OWNERS_DIR.split('/'));
  const st = await lstat(root).catch(() => undefined);
  if (!st?.isDirectory()) return { mine, others };
  for (const rel of await listFiles(root)) {
    if (!rel.endsWith('.paths')) continue;
    const file = join(root, ...rel.split('/'));
    if (!(await lstat(file)).isFile()) continue;
    const who = rel.slice(0, -'.paths'.length);
    const paths = parseManifest(await readFile(file, 'utf8'));
    if (who === writer) for (const p of paths) mine.add(p);
    else for (const p of paths) if (!others.has(p)) others.set(p, who);
  }
  return { mine, others };
}

/**
 * Makes `worktree` (the branch as fetched) hold the staged files, deleting only what `writer` wrote before
 * (its manifest) and no longer writes, unless another writer's manifest claims it too. A staged file that
 * needs a path held by content this writer did not write (a file where a directory goes, or a directory
 * with others' files where a file goes) is a conflict: nothing is deleted to make room.
 * @throws RepoSyncError when a staged file needs a path held by content this writer did not write.
 */
export async function applyOwned(worktree: string, stage: string, staged: string[], writer: string, log: JobLogger): Promise<void> {
  const { mine, others } = await readManifests(worktree, writer);
  const want = new Set(staged);
  const owned = (p: string) => mine.has(p) && !others.has(p);
  const at = (p: string) => join(worktree, ...p.split('/'));

  for (const p of [...mine].sort()) {
    if (want.has(p) || others.has(p)) continue;
    const st = await lstat(at(p)).catch(() => undefined);
    if (!st || st.isDirectory()) continue;
    await rm(at(p), { force: true });
    await pruneEmptyParents(worktree, p);
  }

  for (const p of staged) {
    const parts = p.split('/');
    for (let i = 1; i < parts.length; i++) {
      const a = parts.slice(0, i).join('/');
      const st = await lstat(at(a)).catch(() => undefined);
      if (!st || st.isDirectory()) continue;
      if (!owned(a)) throw new RepoSyncError(`cannot write ${p}: ${a} is a file this sync did not write${others.has(a) ? ` (${others.get(a)} did)` : ''}`);
      await rm(at(a), { force: true });
    }
    const st = await lstat(at(p)).catch(() => undefined);
    if (st?.isDirectory()) {
      const inside = (await listFiles(at(p))).map((f) => `${p}/${f}`);
      const foreign = inside.find((f) => !owned(f));
      if (foreign) throw new RepoSyncError(`cannot write ${p}: it is a directory holding ${foreign}, which this sync did not write`);
      await rm(at(p), { recursive: true, force: true });
    } else if (st) {
      await rm(at(p), { force: true });
    }
    if (others.has(p)) log.warn('overwriting a path another writer also claims', { path: p, writer: others.get(p) });
    await mkdir(dirname(at(p)), { recursive: true });
    const src = join(stage, ...parts);
    const s = await lstat(src);
    if (s.isSymbolicLink()) await symlink(await readlink(src), at(p));
    else {
      await copyFile(src, at(p));
      await chmod(at(p), s.mode & 0o111 ? 0o755 : 0o644);
    }
  }

  const manifest = at(manifestPath(writer));
  if (staged.length > 0) {
    await mkdir(dirname(manifest), { recursive: true });
    await writeFile(manifest, renderManifest(writer, staged), { mode: 0o644 });
  } else if (await lstat(manifest).catch(() => undefined)) {
    await rm(manifest, { force: true });
    await pruneEmptyParents(worktree, manifestPath(writer));
  }
}

/** Removes the now empty directories above the removed path `p` (never the worktree itself). */
async function pruneEmptyParents(worktree: string, p: string): Promise<void> {
  const parts = p.split('/');
  for (let i = parts.length - 1; i > 0; i--) {
    const d = join(worktree, ...parts.slice(0, i));
    const entries = await readdir(d).catch(() => undefined);
    if (!entries || entries.length > 0) return;
    await rm(d, { recursive: true, force: true });
  }
}
