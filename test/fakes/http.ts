/**
 * What the fake git servers (Gitea, GitHub, GitLab) share: their HTTP lifecycle on 127.0.0.1 with a
 * temporary directory of bare repositories, JSON answers, and git smart HTTP through `git http-backend`.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const execFileP = promisify(execFile);

export interface Listening {
  server: Server;
  /** Temporary directory of the fake, with `repos/` for its bare repositories. */
  root: string;
  port: number;
}

/** Starts a fake on a free loopback port; a handler that throws answers 500 with `errorBody(error)`. */
export async function listen(
  name: string,
  handle: (req: IncomingMessage, res: ServerResponse) => Promise<void>,
  errorBody: (message: string) => unknown,
): Promise<Listening> {
  const root = await mkdtemp(join(tmpdir(), `${name}-`));
  await mkdir(join(root, 'repos'));
  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      if (!res.headersSent) sendJSON(res, 500, errorBody(String((e as Error).message ?? e)));
      else res.destroy();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, root, port: (server.address() as AddressInfo).port };
}

/** Stops a fake: open connections closed, its directory removed. */
export async function shutdown(server: Server | undefined, root: string | undefined): Promise<void> {
  if (server) {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
  if (root) await rm(root, { recursive: true, force: true });
}

export interface GitBackendRequest {
  /** GIT_PROJECT_ROOT: the directory holding the bare repositories. */
  projectRoot: string;
  /** PATH_INFO below the project root, e.g. `/owner/repo.git/info/refs`. */
  pathInfo: string;
  method: string;
  query: string;
  body: Buffer;
  home: string;
  /** Set for pushes: git http-backend only serves receive-pack to an authenticated user. */
  remoteUser?: string;
}

/** Serves one git smart-HTTP request by running `git http-backend` as a CGI. */
export async function gitHttpBackend(req: IncomingMessage, res: ServerResponse, r: GitBackendRequest): Promise<void> {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    GIT_PROJECT_ROOT: r.projectRoot,
    GIT_HTTP_EXPORT_ALL: '1',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    HOME: r.home,
    PATH_INFO: r.pathInfo,
    QUERY_STRING: r.query,
    REQUEST_METHOD: r.method,
    CONTENT_TYPE: req.headers['content-type'] ?? '',
    CONTENT_LENGTH: String(r.body.length),
    REMOTE_ADDR: '127.0.0.1',
    ...(r.remoteUser ? { REMOTE_USER: r.remoteUser } : {}),
    ...(req.headers['content-encoding'] ? { HTTP_CONTENT_ENCODING: String(req.headers['content-encoding']) } : {}),
    ...(req.headers['git-protocol'] ? { HTTP_GIT_PROTOCOL: String(req.headers['git-protocol']) } : {}),
  };
  const out = await runCGI(env, r.body);
  let sep = out.indexOf('\r\n\r\n');
  let sepLen = 4;
  if (sep < 0) {
    sep = out.indexOf('\n\n');
    sepLen = 2;
  }
  if (sep < 0) return void res.writeHead(502, { 'content-type': 'text/plain' }).end('bad CGI output\n');
  const head = out.subarray(0, sep).toString('latin1');
  let status = 200;
  const headers: Record<string, string> = {};
  for (const line of head.split(/\r?\n/)) {
    const i = line.indexOf(':');
    if (i < 0) continue;
    const k = line.slice(0, i).trim();
    const v = line.slice(i + 1).trim();
    if (k.toLowerCase() === 'status') status = Number.parseInt(v, 10) || 200;
    else headers[k] = v;
  }
  res.writeHead(status, headers).end(out.subarray(sep + sepLen));
}

function runCGI(env: NodeJS.ProcessEnv, body: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn('git', ['http-backend'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    const errs: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => chunks.push(c));
    child.stderr.on('data', (c: Buffer) => errs.push(c));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0 && chunks.length === 0) reject(new Error(`git http-backend exited ${code}: ${Buffer.concat(errs).toString()}`));
      else resolve(Buffer.concat(chunks));
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(body);
  });
}

/** Runs git for a fake's bare repositories (no user or system config), committing as `author`. */
export async function git(args: string[], input?: string, author = { name: 'Fake', email: 'fake@127.0.0.1' }): Promise<string> {
  const env = {
    PATH: process.env.PATH,
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_AUTHOR_NAME: author.name,
    GIT_AUTHOR_EMAIL: author.email,
    GIT_COMMITTER_NAME: author.name,
    GIT_COMMITTER_EMAIL: author.email,
  };
  if (input === undefined) return (await execFileP('git', args, { env })).stdout;
  return new Promise((resolve, reject) => {
    const child = execFile('git', args, { env }, (err, stdout) => (err ? reject(err) : resolve(stdout)));
    child.stdin?.end(input);
  });
}

export function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

export function sendJSON(res: ServerResponse, status: number, body: unknown, contentType = 'application/json; charset=utf-8'): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(text) }).end(text);
}
