import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { chooseEntry, newestSourceMtime, readBuildStamp } from '../../../bin/entry.mjs';

const REPO = resolve(import.meta.dirname, '..', '..', '..');

describe('chooseEntry', () => {
  it('IDPBUILDER_USE_DIST=1 runs dist even when the sources are newer', () => {
    expect(chooseEntry({ forceDist: true, stampMtimeMs: 1, sourcesMtimeMs: 2 })).toEqual({ entry: 'dist' });
  });
  it('runs dist when the stamp is at least as new as the sources', () => {
    expect(chooseEntry({ forceDist: false, stampMtimeMs: 5, sourcesMtimeMs: 5 })).toEqual({ entry: 'dist' });
    expect(chooseEntry({ forceDist: false, stampMtimeMs: 6, sourcesMtimeMs: 5 })).toEqual({ entry: 'dist' });
  });
  it('runs tsx with one warning when a source is newer than the build', () => {
    const r = chooseEntry({ forceDist: false, stampMtimeMs: 5, sourcesMtimeMs: 6 });
    expect(r.entry).toBe('tsx');
    expect(r.warning).toMatch(/dist\/ is older than src\/.*npm run build/);
  });
  it('runs tsx quietly when nothing was built', () => {
    expect(chooseEntry({ forceDist: false, stampMtimeMs: undefined, sourcesMtimeMs: 6 })).toEqual({ entry: 'tsx' });
  });
  it('runs dist when there are no sources', () => {
    expect(chooseEntry({ forceDist: false, stampMtimeMs: undefined, sourcesMtimeMs: undefined })).toEqual({ entry: 'dist' });
  });
});

// A package root in a temp dir: the real bin/ scripts, the repo's node_modules (for tsx), a src/cli/main.ts
// and a dist/cli/main.js that each print which one ran. Every mtime is set explicitly (fixed past times).
describe('bin/idpbuilder.mjs', () => {
  let root: string;
  const T_SRC = 1_000_000; // seconds since the epoch
  const setTimes = (p: string, s: number) => utimesSync(p, s, s);

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'idpbuilder-bin-'));
    mkdirSync(join(root, 'bin'));
    for (const f of ['idpbuilder.mjs', 'entry.mjs']) copyFileSync(join(REPO, 'bin', f), join(root, 'bin', f));
    symlinkSync(join(REPO, 'node_modules'), join(root, 'node_modules'));
    writeFileSync(join(root, 'package.json'), '{"type":"module"}\n');
    mkdirSync(join(root, 'src', 'cli'), { recursive: true });
    // The type annotation only compiles through tsx: proof that the TypeScript source ran.
    writeFileSync(join(root, 'src', 'cli', 'main.ts'), "export async function main(argv: string[]): Promise<number> { process.stdout.write('tsx ' + argv.slice(2).join(' ')); return 0; }\n");
    mkdirSync(join(root, 'dist', 'cli'), { recursive: true });
    writeFileSync(join(root, 'dist', 'cli', 'main.js'), "export async function main(argv) { process.stdout.write('dist ' + argv.slice(2).join(' ')); return 0; }\n");
    for (const p of ['src/cli/main.ts', 'src/cli', 'src']) setTimes(join(root, p), T_SRC);
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  const stamp = (sourcesMtimeMs: number) => writeFileSync(join(root, 'dist', '.build-stamp'), JSON.stringify({ sourcesMtimeMs }));
  const run = (env: Record<string, string> = {}) => {
    const r = spawnSync(process.execPath, [join(root, 'bin', 'idpbuilder.mjs'), 'render', '--x'], {
      encoding: 'utf8',
      env: { ...process.env, IDPBUILDER_USE_DIST: '', ...env },
    });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  };

  it('newestSourceMtime sees files, directories and tsconfigs; readBuildStamp reads the stamp', () => {
    expect(newestSourceMtime(root)).toBe(T_SRC * 1000);
    setTimes(join(root, 'src', 'cli'), T_SRC + 5); // a file added or removed in src/cli
    expect(newestSourceMtime(root)).toBe((T_SRC + 5) * 1000);
    writeFileSync(join(root, 'tsconfig.build.json'), '{}');
    setTimes(join(root, 'tsconfig.build.json'), T_SRC + 9);
    expect(newestSourceMtime(root)).toBe((T_SRC + 9) * 1000);
    expect(readBuildStamp(root)).toBeUndefined();
    stamp(123.5);
    expect(readBuildStamp(root)).toBe(123.5);
    writeFileSync(join(root, 'dist', '.build-stamp'), 'not json');
    expect(readBuildStamp(root)).toBeUndefined();
    expect(newestSourceMtime(join(root, 'dist'))).toBeUndefined();
  });

  it('runs dist/ when the build stamp is as new as src/, quietly', () => {
    stamp(T_SRC * 1000);
    expect(run()).toEqual({ status: 0, stdout: 'dist render --x', stderr: '' });
  });

  it('runs src/ with tsx and says so once when a source changed after the build', () => {
    stamp(T_SRC * 1000);
    setTimes(join(root, 'src', 'cli', 'main.ts'), T_SRC + 1);
    const r = run();
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('tsx render --x');
    expect(r.stderr.trim().split('\n')).toEqual([expect.stringMatching(/dist\/ is older than src\//)]);
  });

  it('runs src/ with tsx, quietly, when dist/ has no stamp', () => {
    expect(run()).toEqual({ status: 0, stdout: 'tsx render --x', stderr: '' });
  });

  it('IDPBUILDER_USE_DIST=1 runs dist/ even when src/ is newer', () => {
    stamp(T_SRC * 1000);
    setTimes(join(root, 'src', 'cli', 'main.ts'), T_SRC + 1);
    expect(run({ IDPBUILDER_USE_DIST: '1' })).toEqual({ status: 0, stdout: 'dist render --x', stderr: '' });
  });
});
