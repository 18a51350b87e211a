import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { cpSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { validateObjects } from '../../../src/cli/create/platform.js';
import { cloneURL, discoverPackages, fingerprint, packageObjects, pushDirectory, watchDirectories, type GitServer, type PackageContext } from '../../../src/cli/packages.js';
import { FakeGitea } from '../../fakes/gitea.js';
import { freshKubectl, objectsOf, platformJSON, runCli } from '../../fixtures/cli/canned.js';
import { standIns, type StandIns } from '../../fixtures/cli/standins.js';

const FIXTURES = resolve(__dirname, '..', '..', 'fixtures', 'packages');
const INTERNAL = 'http://gitea-http.gitea.svc.cluster.local:3000';

let fake: FakeGitea;
let token: string;

beforeAll(async () => {
  fake = new FakeGitea();
  await fake.start();
  token = fake.addToken('giteaAdmin', 'idpbuilder', ['write:organization', 'write:repository', 'write:user']);
});
afterAll(async () => {
  await fake.stop();
});

function server(): GitServer {
  return { endpoint: fake.baseURL, internalEndpoint: INTERNAL, organization: 'idpbuilder', token, username: 'giteaAdmin', ref: { kind: 'GiteaProvider', name: 'gitea', namespace: 'idpbuilder-system' } };
}

function ctx(): PackageContext {
  return { platform: 'localdev', namespace: 'idpbuilder-system', server: server(), gitOpsProviderRef: { kind: 'ArgoCDProvider', name: 'argocd', namespace: 'idpbuilder-system' }, argoNamespace: 'argocd' };
}

const run = promisify(execFile);

/** Clones a repository of the fake Gitea (asynchronously: the fake runs in this process) and returns its files. */
async function cloneTree(repo: string): Promise<Record<string, string>> {
  const dir = mkdtempSync(join(tmpdir(), 'clone-'));
  await run('git', ['clone', '-q', `${fake.baseURL}/idpbuilder/${repo}.git`, dir], { env: { ...process.env, GIT_TERMINAL_PROMPT: '0' } });
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const e of readdirSync(d)) {
      if (e === '.git' || (d === dir && e === '.idpbuilder')) continue; // .idpbuilder: the sync's ownership records
      const f = join(d, e);
      if (statSync(f).isDirectory()) walk(f);
      else out[relative(dir, f)] = readFileSync(f, 'utf8');
    }
  };
  walk(dir);
  rmSync(dir, { recursive: true, force: true });
  return out;
}

async function commits(repo: string): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), 'clone-'));
  await run('git', ['clone', '-q', `${fake.baseURL}/idpbuilder/${repo}.git`, dir]);
  const log = (await run('git', ['-C', dir, 'log', '--format=%an|%s'], { encoding: 'utf8' })).stdout;
  rmSync(dir, { recursive: true, force: true });
  return log.trim().split('\n');
}

describe('discovering local packages', () => {
  it('finds Applications with cnoe:// paths in the top-level YAML files, resolving directories relative to the file', () => {
    const { apps, warnings } = discoverPackages([join(FIXTURES, 'basic')], 'localdev');
    expect(warnings).toEqual([]);
    expect(apps.map((a) => [a.name, a.kind, a.dirs.map((d) => [d.url, relative(FIXTURES, d.dir), d.object, d.repo])])).toEqual([
      ['my-app', 'Application', [['cnoe://manifests', 'basic/manifests', 'my-app-manifests', 'idpbuilder-localdev-my-app-manifests']]],
      [
        'my-app2',
        'Application',
        [
          ['cnoe://chart', 'basic/chart', 'my-app2-chart', 'idpbuilder-localdev-my-app2-chart'],
          ['cnoe://manifests', 'basic/manifests', 'my-app2-manifests', 'idpbuilder-localdev-my-app2-manifests'],
        ],
      ],
    ]);
  });

  it('a later -p wins for the same application name', () => {
    const { apps, warnings } = discoverPackages([join(FIXTURES, 'basic'), join(FIXTURES, 'override')], 'localdev');
    const app = apps.find((a) => a.name === 'my-app')!;
    expect(relative(FIXTURES, app.file)).toBe('override/app.yaml');
    expect(app.priority).toBe(1);
    expect(warnings).toEqual([`Application my-app in ${join(FIXTURES, 'override', 'app.yaml')} replaces the one in ${join(FIXTURES, 'basic', 'app.yaml')} (a later -p wins)`]);
  });

  it('a cnoe:// path that is not a directory is an error naming the file and the URL', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pkg-'));
    writeFileSync(join(dir, 'a.yaml'), 'apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: broken\nspec:\n  source:\n    repoURL: cnoe://missing\n');
    expect(() => discoverPackages([dir], 'localdev')).toThrow(`${join(dir, 'a.yaml')}: Application broken: cnoe://missing must name a directory relative to the file`);
  });
});

describe('the objects of local packages', () => {
  it('GitRepositories with a Local source for the content, an Inline definition with the rewritten Application, and a Package', () => {
    const { apps } = discoverPackages([join(FIXTURES, 'basic')], 'localdev');
    const objects = packageObjects(apps, ctx());
    validateObjects(objects);
    expect(objects.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([
      'GitRepository/my-app-manifests',
      'GitRepository/my-app-definition',
      'Package/my-app',
      'GitRepository/my-app2-chart',
      'GitRepository/my-app2-manifests',
      'GitRepository/my-app2-definition',
      'Package/my-app2',
    ]);
    const content = objects[0] as Record<string, any>;
    expect(content.spec).toEqual({
      gitServerRef: { kind: 'GiteaProvider', name: 'gitea', namespace: 'idpbuilder-system' },
      name: 'idpbuilder-localdev-my-app-manifests',
      organization: 'idpbuilder',
      description: 'idpbuilder local package my-app: cnoe://manifests (pushed by the idpbuilder CLI)',
      private: false,
      sources: [{ type: 'Local', path: join(FIXTURES, 'basic', 'manifests') }],
      sync: { autoSync: false },
    });
    expect(content.metadata.labels).toMatchObject({ 'cnoe.io/package-name': 'my-app', 'cnoe.io/package-type': 'custom', 'idpbuilder.cnoe.io/cli-platform': 'localdev' });
    const pkg = objects[2] as Record<string, any>;
    expect(pkg.spec).toEqual({
      source: { gitRepository: { name: 'my-app-definition', path: '.' } },
      gitOpsProviderRef: { kind: 'ArgoCDProvider', name: 'argocd', namespace: 'idpbuilder-system' },
      dependencies: [{ kind: 'GitRepository', name: 'my-app-manifests', namespace: 'idpbuilder-system' }],
      argocd: { project: 'default', destination: { server: 'https://kubernetes.default.svc', namespace: 'argocd' }, syncPolicy: { automated: { prune: true, selfHeal: true } } },
    });
    const def2 = objects[5] as Record<string, any>;
    const app2 = parse(def2.spec.sources[0].files['application.yaml']);
    expect(app2.spec.sources[0].repoURL).toBe(`${INTERNAL}/idpbuilder/idpbuilder-localdev-my-app2-chart.git`);
    expect(app2.spec.sources[0].helm.valuesObject.manifestsRepo).toBe(`${INTERNAL}/idpbuilder/idpbuilder-localdev-my-app2-manifests.git`);
    expect(app2.spec.sources[1].repoURL).toBe('https://github.com/argoproj/argocd-example-apps');
    expect(app2.metadata).toEqual({ name: 'my-app2', namespace: 'argocd' });
    expect(cloneURL(server(), 'x')).toBe(`${INTERNAL}/idpbuilder/x.git`);
  });
});

describe('pushing a cnoe:// directory to the git server', () => {
  it('creates the repository, pushes the directory, commits only on change, follows edits and removals', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pkg-'));
    cpSync(join(FIXTURES, 'basic', 'manifests'), join(dir, 'manifests'), { recursive: true });
    const first = await pushDirectory(server(), 'push-test', join(dir, 'manifests'), 'test');
    expect(first.changed).toBe(true);
    expect(await cloneTree('push-test')).toEqual({ 'deploy.yaml': readFileSync(join(FIXTURES, 'basic', 'manifests', 'deploy.yaml'), 'utf8') });
    expect(fake.org('idpbuilder')).toBeDefined();
    expect(await commits('push-test')).toEqual(['git-reconciler|Sync from idpbuilder']);

    const again = await pushDirectory(server(), 'push-test', join(dir, 'manifests'), 'test');
    expect(again).toMatchObject({ changed: false, commitSHA: first.commitSHA });

    writeFileSync(join(dir, 'manifests', 'extra.yaml'), 'kind: Extra\n');
    rmSync(join(dir, 'manifests', 'deploy.yaml'));
    const third = await pushDirectory(server(), 'push-test', join(dir, 'manifests'), 'test');
    expect(third.changed).toBe(true);
    expect(await cloneTree('push-test')).toEqual({ 'extra.yaml': 'kind: Extra\n' });
  });

  it('watchDirectories pushes a directory when it changes and stops when aborted', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'watch-'));
    writeFileSync(join(dir, 'a.yaml'), 'a: 1\n');
    const before = fingerprint(dir);
    const ac = new AbortController();
    const pushed: string[] = [];
    let round = 0;
    await watchDirectories([{ dir, push: async () => void pushed.push(dir) }], {
      intervalMs: 1,
      signal: ac.signal,
      sleep: async () => {
        round += 1;
        if (round === 2) writeFileSync(join(dir, 'b.yaml'), 'b: 2\n');
        if (round === 4) ac.abort();
      },
      onError: () => undefined,
    });
    expect(fingerprint(dir)).not.toBe(before);
    expect(pushed).toEqual([dir]);
  });
});

describe('idpbuilder create -p (against the fake Gitea)', () => {
  let si: StandIns | undefined;
  afterEach(() => si?.cleanup());

  it('pushes each cnoe:// directory, applies GitRepositories and Packages, and waits for them', async () => {
    const ready = (kind: string) => JSON.stringify({ apiVersion: 'idpbuilder.cnoe.io/v1alpha2', kind, metadata: { name: 'x', namespace: 'idpbuilder-system' }, status: { phase: kind === 'Package' ? 'Synced' : 'Ready', conditions: [{ type: 'Ready', status: 'True' }] } });
    si = standIns({
      helm: [],
      kubectl: freshKubectl([
        {
          match: '*get giteaproviders.idpbuilder.cnoe.io gitea *',
          stdout: JSON.stringify({
            apiVersion: 'idpbuilder.cnoe.io/v1alpha2',
            kind: 'GiteaProvider',
            metadata: { name: 'gitea', namespace: 'idpbuilder-system' },
            status: { endpoint: fake.baseURL, internalEndpoint: INTERNAL, credentialsSecretRef: { name: 'gitea-gitea-token', namespace: 'idpbuilder-system', key: 'token' } },
          }),
        },
        {
          match: '*get secret gitea-gitea-token *',
          stdout: JSON.stringify({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'gitea-gitea-token', namespace: 'idpbuilder-system' }, data: { token: Buffer.from(token).toString('base64'), username: Buffer.from('giteaAdmin').toString('base64') } }),
        },
        { match: '*get gitrepositories.idpbuilder.cnoe.io *', stdout: ready('GitRepository') },
        { match: '*get packages.idpbuilder.cnoe.io *', stdout: ready('Package') },
      ]),
    });
    const r = await runCli(['create', '--kubeconfig', '/k', '--protocol', 'http', '--port', '8080', '-p', join(FIXTURES, 'basic')], si);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);

    // the content on the git server
    const deploy = readFileSync(join(FIXTURES, 'basic', 'manifests', 'deploy.yaml'), 'utf8');
    expect(await cloneTree('idpbuilder-localdev-my-app-manifests')).toEqual({ 'deploy.yaml': deploy });
    expect(await cloneTree('idpbuilder-localdev-my-app2-manifests')).toEqual({ 'deploy.yaml': deploy });
    expect(Object.keys(await cloneTree('idpbuilder-localdev-my-app2-chart')).sort()).toEqual(['Chart.yaml', 'templates/cm.yaml']);
    expect(r.out).toContain('Pushed ');
    expect(r.out).toContain('Applied 2 local package(s): my-app, my-app2');

    // the objects applied
    const applied = objectsOf(si.inputsOf(/ apply /)[3]);
    expect(applied.map((o) => `${o.kind}/${o.metadata.name}`)).toContain('Package/my-app');
    const pkg = applied.find((o) => o.kind === 'Package' && o.metadata.name === 'my-app')!;
    expect(pkg.spec.source.gitRepository.name).toBe('my-app-definition');
    const def = applied.find((o) => o.metadata.name === 'my-app-definition')!;
    const app = parse(def.spec.sources[0].files['application.yaml']);
    expect(app.spec.source.repoURL).toBe(`${INTERNAL}/idpbuilder/idpbuilder-localdev-my-app-manifests.git`);
    // the wait covered every GitRepository and Package
    expect(si.calls().filter((c) => /get (gitrepositories|packages)\.idpbuilder\.cnoe\.io /.test(c))).toHaveLength(7);
    expect(r.out).toContain('Finished Creating IDP Successfully!');
  });

  it('--no-exit keeps pushing changes of the local package directories until stopped', async () => {
    const work = mkdtempSync(join(tmpdir(), 'noexit-'));
    cpSync(join(FIXTURES, 'basic'), work, { recursive: true });
    const ready = (kind: string) => JSON.stringify({ apiVersion: 'idpbuilder.cnoe.io/v1alpha2', kind, metadata: { name: 'x', namespace: 'idpbuilder-system' }, status: { conditions: [{ type: 'Ready', status: 'True' }] } });
    si = standIns({
      helm: [],
      kubectl: freshKubectl([
        {
          match: '*get giteaproviders.idpbuilder.cnoe.io gitea *',
          stdout: JSON.stringify({ apiVersion: 'idpbuilder.cnoe.io/v1alpha2', kind: 'GiteaProvider', metadata: { name: 'gitea', namespace: 'idpbuilder-system' }, status: { endpoint: fake.baseURL, credentialsSecretRef: { name: 't', namespace: 'idpbuilder-system', key: 'token' } } }),
        },
        { match: '*get platforms.idpbuilder.cnoe.io noexit *', stdout: platformJSON(true, 'noexit') },
        { match: '*get secret t *', stdout: JSON.stringify({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 't', namespace: 'idpbuilder-system' }, data: { token: Buffer.from(token).toString('base64') } }) },
        { match: '*get gitrepositories.idpbuilder.cnoe.io *', stdout: ready('GitRepository') },
        { match: '*get packages.idpbuilder.cnoe.io *', stdout: ready('Package') },
      ]),
    });
    const ac = new AbortController();
    const edit = (async () => {
      // wait until create has pushed once, then edit the directory and wait for the watcher's push
      try {
      for (let i = 0; i < 200 && !fake.repo('idpbuilder', 'idpbuilder-noexit-my-app-manifests'); i++) await new Promise((r) => setTimeout(r, 50));
      await new Promise((r) => setTimeout(r, 200));
      writeFileSync(join(work, 'manifests', 'added.yaml'), 'added: true\n');
      for (let i = 0; i < 200; i++) {
        if ('added.yaml' in (await cloneTree('idpbuilder-noexit-my-app-manifests'))) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      } finally {
        ac.abort();
      }
    })();
    const r = await runCli(['create', '--name', 'noexit', '--kubeconfig', '/k', '--protocol', 'http', '-n', '-p', work], si, { signal: ac.signal, watchIntervalMs: 20 });
    await edit;
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toContain('Watching 3 local package directories for changes (Ctrl-C to stop)');
    expect(await cloneTree('idpbuilder-noexit-my-app-manifests')).toMatchObject({ 'added.yaml': 'added: true\n' });
  });
});
