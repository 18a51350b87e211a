/**
 * The `git` binary as repo-sync runs it: a clean environment (no system or global config, no prompts, C
 * locale, HOME of its own), credentials only through the environment (`GIT_CONFIG_*` →
 * `http.<url>.extraHeader`) scoped to one URL, never in argv or URLs; every output it reports scrubbed.
 */
import { spawn } from 'node:child_process';
import { GitCommandError } from './errors.js';
import { redactURL, scrubSecrets } from './scrub.js';

/** A push the server refused because another push moved or locked the branch (retried by the caller). */
export class PushRejected extends Error {
  constructor(
    /** git's reason, scrubbed, on one line. */
    readonly reason: string,
  ) {
    super(`git push was rejected: ${reason}`);
  }
}

/**
 * Push rejections that another push explains (retried after a fetch): the client's `[rejected]` (fetch
 * first, non-fast-forward, stale info) and the server's ref-lock failures (`cannot lock ref` — `is at …
 * but expected …`, `reference already exists`, `Unable to create '….lock'` — and `failed to update ref`).
 */
export const RETRYABLE_PUSH_REJECTION = /fetch first|non-fast-forward|stale info|cannot lock ref|reference already exists|failed to update ref|failed to lock|incorrect old value|but expected [0-9a-f]{7,}/i;

/** Options of one git command. */
export interface RunOptions {
  cwd?: string;
  env?: Record<string, string>;
  /** Send `header` on requests to `url` only (http.<url>.extraHeader via GIT_CONFIG_* env); trust `caFile` for it. */
  auth?: { url: string; header: string; caFile?: string };
  okCodes?: number[];
}

/**
 * Runs git as `bin` with HOME `home`. `secrets` is scrubbed from every output it reports and grows with
 * the credentials of the Git source URLs it clones.
 */
export class Git {
  constructor(
    private readonly bin: string,
    private readonly home: string,
    private readonly secrets: string[],
  ) {}

  private baseEnv(): NodeJS.ProcessEnv {
    const pass = ['PATH', 'HTTP_PROXY', 'HTTPS_PROXY', 'NO_PROXY', 'http_proxy', 'https_proxy', 'no_proxy', 'GIT_SSL_CAINFO', 'SSL_CERT_FILE', 'SSL_CERT_DIR'];
    const env: NodeJS.ProcessEnv = {};
    for (const k of pass) if (process.env[k] !== undefined) env[k] = process.env[k];
    return {
      ...env,
      HOME: this.home,
      LC_ALL: 'C',
      LANG: 'C',
      GIT_TERMINAL_PROMPT: '0',
      GIT_CONFIG_NOSYSTEM: '1',
      GIT_CONFIG_GLOBAL: '/dev/null',
      GIT_ALLOW_PROTOCOL: 'http:https:ssh:git:file',
      GIT_SSH_COMMAND: 'ssh -o BatchMode=yes',
      GIT_ADVICE: '0',
    };
  }

  scrub(text: string): string {
    return scrubSecrets(text, this.secrets);
  }

  run(args: string[], opts: RunOptions = {}): Promise<{ stdout: string; code: number }> {
    const env: NodeJS.ProcessEnv = { ...this.baseEnv(), ...opts.env };
    const config: Array<[string, string]> = [['advice.detachedHead', 'false']];
    if (opts.auth) config.push([`http.${opts.auth.url}.extraHeader`, opts.auth.header]);
    if (opts.auth?.caFile) config.push([`http.${opts.auth.url}.sslCAInfo`, opts.auth.caFile]);
    env.GIT_CONFIG_COUNT = String(config.length);
    config.forEach(([k, v], i) => {
      env[`GIT_CONFIG_KEY_${i}`] = k;
      env[`GIT_CONFIG_VALUE_${i}`] = v;
    });
    const okCodes = opts.okCodes ?? [0];
    return new Promise((resolve, reject) => {
      const child = spawn(this.bin, args, { cwd: opts.cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      child.stdout.on('data', (c: Buffer) => out.push(c));
      child.stderr.on('data', (c: Buffer) => err.push(c));
      child.on('error', (e) => reject(new GitCommandError(`cannot run git: ${(e as NodeJS.ErrnoException).code ?? e.message}`, '')));
      child.on('close', (code) => {
        const stdout = Buffer.concat(out).toString('utf8');
        const c = code ?? -1;
        if (okCodes.includes(c)) return resolve({ stdout, code: c });
        const output = this.scrub(`${stdout}\n${Buffer.concat(err).toString('utf8')}`);
        reject(new GitCommandError(`git ${args[0]} failed: ${summarize(output) || `exit code ${c}`}`, output));
      });
    });
  }

  /** Shallow clone of a Git source. Credentials in the URL move to a header scoped to that URL. */
  async cloneSource(rawURL: string, ref: string | undefined, dir: string): Promise<void> {
    const { url, header } = splitCredentials(rawURL);
    if (header) this.secrets.push(header.slice('Authorization: Basic '.length));
    const auth = header ? { url, header } : undefined;
    const r = ref?.replace(/^refs\/(heads|tags)\//, '');
    try {
      if (r && /^[0-9a-f]{40}([0-9a-f]{24})?$/i.test(r)) {
        await this.run(['init', '-q', dir]);
        await this.run(['remote', 'add', 'origin', url], { cwd: dir });
        try {
          await this.run(['fetch', '-q', '--depth', '1', '--no-tags', 'origin', r], { cwd: dir, auth });
        } catch {
          await this.run(['fetch', '-q', '--no-tags', 'origin'], { cwd: dir, auth });
        }
        await this.run(['checkout', '-q', r], { cwd: dir });
      } else {
        await this.run(['clone', '-q', '--depth', '1', '--no-tags', ...(r ? ['--branch', r] : []), '--', url, dir], { auth });
      }
    } catch (e) {
      if (e instanceof GitCommandError) {
        throw new GitCommandError(`Git source ${redactURL(rawURL)}${ref ? `@${ref}` : ''}: ${e.message}`, e.output);
      }
      throw e;
    }
  }
}


/** The lines of git's output that say what went wrong, on one line (at most 300 characters). */
export function summarize(output: string): string {
  const lines = output
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.length > 0);
  const useful = lines.filter((l) => /^(fatal|error|remote|!|hint: Updates were rejected)/i.test(l) || l.includes('[rejected]') || l.includes('[remote rejected]'));
  const text = (useful.length > 0 ? useful : lines.slice(-2)).join('; ').replace(/\s+/g, ' ');
  return text.length > 300 ? `${text.slice(0, 299)}…` : text;
}

/** The base64 of `username:password` (HTTP Basic). */
export function basic(username: string, password: string): string {
  return Buffer.from(`${username}:${password}`, 'utf8').toString('base64');
}

/** An http(s) URL without its userinfo, and the Basic Authorization header the userinfo makes (if any). */
function splitCredentials(raw: string): { url: string; header?: string } {
  if (!/^https?:\/\//i.test(raw)) return { url: raw };
  try {
    const u = new URL(raw);
    if (!u.username && !u.password) return { url: raw };
    const header = `Authorization: Basic ${basic(decodeURIComponent(u.username), decodeURIComponent(u.password))}`;
    u.username = '';
    u.password = '';
    return { url: u.toString(), header };
  } catch {
    return { url: raw };
  }
}
