/**
 * `idpbuilder version [-o wide|json|yaml]`: today's command (pkg/cmd/version/root.go) with today's keys
 * (`idpbuilderVersion`, `goVersion`, `goOs`, `goArch`, `gitCommit`, `buildDate`). This CLI runs on Node.js,
 * so `goVersion` carries the runtime in Go's style (`node22.11.0`), and `goOs`/`goArch` are Node's platform
 * and architecture in Go's names (`linux`, `darwin`, `windows`; `amd64`, `arm64`, `386`). The version is
 * package.json's; `gitCommit` and `buildDate` come from `build-info.json` beside package.json when the
 * build wrote one, else today's unset values (`unknown`, `1970-01-01T00:00:00Z`).
 * Unlike today (cobra's Println writes to stderr) the output goes to stdout.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';

/**
 * What `idpbuilder version` prints, in today's idpbuilder field names: the version, the runtime (`node<version>` in
 * `goVersion`), OS and architecture in Go's names, the git commit and build date (from build-info.json).
 */
export interface VersionInfo {
  idpbuilderVersion: string;
  goVersion: string;
  goOs: string;
  goArch: string;
  gitCommit: string;
  buildDate: string;
}

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const GO_OS: Record<string, string> = { win32: 'windows', sunos: 'solaris' };
const GO_ARCH: Record<string, string> = { x64: 'amd64', ia32: '386', ppc64: 'ppc64le' };

/**
 * The VersionInfo of the installation at `root`: `v` + package.json version (else `unknown`), Node's version,
 * platform and arch mapped to Go's names (win32 → windows, x64 → amd64, …), commit and build date from
 * build-info.json (else `unknown` and 1970-01-01T00:00:00Z).
 */
export function versionInfo(root = ROOT, runtime: { node: string; platform: string; arch: string } = { node: process.versions.node, platform: process.platform, arch: process.arch }): VersionInfo {
  const read = (f: string): Record<string, unknown> => (existsSync(join(root, f)) ? (JSON.parse(readFileSync(join(root, f), 'utf8')) as Record<string, unknown>) : {});
  const pkg = read('package.json');
  const build = read('build-info.json');
  const str = (v: unknown, d: string) => (typeof v === 'string' && v ? v : d);
  return {
    idpbuilderVersion: str(pkg.version && `v${pkg.version as string}`, 'unknown'),
    goVersion: `node${runtime.node}`,
    goOs: GO_OS[runtime.platform] ?? runtime.platform,
    goArch: GO_ARCH[runtime.arch] ?? runtime.arch,
    gitCommit: str(build.gitCommit, 'unknown'),
    buildDate: str(build.buildDate, '1970-01-01T00:00:00Z'),
  };
}

/** The text `version -o <format>` prints; throws `invalid output format: <f>` (today's message). */
export function versionOutput(info: VersionInfo, format: string): string {
  switch (format) {
    case '':
      return `idpbuilder ${info.idpbuilderVersion} ${info.goVersion} ${info.goOs}/${info.goArch}\n`;
    case 'wide':
      return `Version: version.idpbuilderInfo{${Object.entries(info).map(([k, v]) => `${k[0].toUpperCase()}${k.slice(1)}:${JSON.stringify(v)}`).join(', ')}}\n`;
    case 'json':
      return `${JSON.stringify(info)}\n`;
    case 'yaml': {
      // sigs.k8s.io/yaml writes keys sorted; cobra's Println adds a blank line.
      const sorted = Object.fromEntries(Object.entries(info).sort(([a], [b]) => (a < b ? -1 : 1)));
      return `${stringify(sorted)}\n`;
    }
    default:
      throw new Error(`invalid output format: ${format}`);
  }
}
