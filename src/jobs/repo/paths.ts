/** Repository-relative paths as repo-sync checks and lists them. */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { RepoSyncError } from './errors.js';

/**
 * Splits a repository-relative path into its parts (`.` and empty parts dropped). Throws RepoSyncError,
 * naming `field`, for a NUL, an absolute or backslashed path, `..` or a `.git` component.
 */
export function safeRelParts(p: string, field: string): string[] {
  if (p.includes('\0')) throw new RepoSyncError(`${field} contains a NUL character`);
  if (p.startsWith('/') || p.includes('\\') || /^[A-Za-z]:/.test(p)) throw new RepoSyncError(`${field} must be a relative path: "${p}"`);
  const parts = p.split('/').filter((s) => s !== '' && s !== '.');
  if (parts.includes('..')) throw new RepoSyncError(`${field} must stay inside the repository: "${p}"`);
  if (parts.some((s) => s.toLowerCase() === '.git')) throw new RepoSyncError(`${field} must not touch .git: "${p}"`);
  return parts;
}

/** Files and symlinks below `root` (not .git), as sorted `/`-separated relative paths. */
export async function listFiles(root: string, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  const dir = prefix ? join(root, ...prefix.split('/')) : root;
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (!prefix && entry.name === '.git') continue;
    const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) out.push(...(await listFiles(root, rel)));
    else out.push(rel);
  }
  return out.sort();
}
