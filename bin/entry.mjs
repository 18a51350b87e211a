// Which program bin/idpbuilder.mjs starts: the compiled JavaScript in dist/ or the TypeScript sources in src/
// through tsx. Plain JavaScript on purpose: it runs before anything could compile TypeScript.
//
// `npm run build` (scripts/build.mjs, also the `prepare` script `npm ci` runs in a checkout) records in
// dist/.build-stamp the newest modification time (ms since the epoch) of the build's inputs as they were
// *before* tsc ran. dist/ is fresh when no input is newer than that: a file edited, added or removed under
// src/ (a removal changes its directory's mtime), or a tsconfig changed, since the build makes it stale.
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** Name of the stamp file inside dist/. */
export const STAMP_FILE = '.build-stamp';

/** Files besides src/ whose change makes dist/ stale (paths relative to the package root). */
export const BUILD_CONFIG_FILES = ['tsconfig.json', 'tsconfig.build.json'];

/**
 * The newest mtime (ms since the epoch) of the build inputs below `root`: every file and directory under
 * root/src (recursively, symlinks not followed) and BUILD_CONFIG_FILES. `undefined` when root/src does not
 * exist (an installation without sources: only dist/ can run). About 1 ms for ~100 files.
 * @param {string} root package root
 * @returns {number | undefined}
 */
export function newestSourceMtime(root) {
  const src = join(root, 'src');
  if (!existsSync(src)) return undefined;
  let newest = statSync(src).mtimeMs;
  for (const entry of readdirSync(src, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() && !entry.isDirectory()) continue;
    const m = statSync(join(entry.parentPath ?? entry.path, entry.name)).mtimeMs;
    if (m > newest) newest = m;
  }
  for (const f of BUILD_CONFIG_FILES) {
    const p = join(root, f);
    if (existsSync(p)) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

/**
 * The sources' mtime recorded by the last successful build, from root/dist/.build-stamp
 * (`{"sourcesMtimeMs": <number>}`). `undefined` when there is no stamp or it cannot be read (no build, a
 * failed build, a build from before the stamp existed): dist/ is then not trusted.
 * @param {string} root package root
 * @returns {number | undefined}
 */
export function readBuildStamp(root) {
  try {
    const v = JSON.parse(readFileSync(join(root, 'dist', STAMP_FILE), 'utf8')).sourcesMtimeMs;
    return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The choice itself, pure.
 * - `forceDist` (IDPBUILDER_USE_DIST=1, the image): dist, no questions asked.
 * - no sources (`sourcesMtimeMs` undefined): dist, the only thing there is.
 * - no stamp: tsx, quietly (dist/ was never built here, or its build failed).
 * - sources newer than the stamp: tsx, with a one-line warning for stderr (a developer editing src/ never
 *   runs stale code, and learns why the start is slower).
 * - otherwise: dist.
 * @param {{ forceDist: boolean, stampMtimeMs: number | undefined, sourcesMtimeMs: number | undefined }} input
 * @returns {{ entry: 'dist' | 'tsx', warning?: string }}
 */
export function chooseEntry({ forceDist, stampMtimeMs, sourcesMtimeMs }) {
  if (forceDist || sourcesMtimeMs === undefined) return { entry: 'dist' };
  if (stampMtimeMs === undefined) return { entry: 'tsx' };
  if (sourcesMtimeMs > stampMtimeMs) {
    return {
      entry: 'tsx',
      warning: 'idpbuilder: dist/ is older than src/; running the TypeScript sources with tsx (npm run build makes start-up fast again)',
    };
  }
  return { entry: 'dist' };
}
