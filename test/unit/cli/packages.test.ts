import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { cpSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { validateObjects } from '../../../src/cli/create/platform.js';
import {
  cloneRemotePackage,
  cloneURL,
  discoverPackages,
  fingerprint,
  isRemotePackage,
  packageObjects,
  parseRemotePackage,
  pushDirectory,
  refreshApplication,
  watchDirectories,
  type GitServer,
  type PackageContext,
} from '../../../src/cli/packages.js';
import { stacksRepo } from '../../fixtures/cli/stacks.js';
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
    // every push that made a commit asks Argo CD to refresh the Application using the directory: the first
    // pushes (before the Packages exist: one per repository, my-app2 has two), and the watcher's push after the edit
    const calls = si.calls();
    const refresh = (app: string) => `kubectl --kubeconfig /k annotate applications.argoproj.io ${app} -n argocd argocd.argoproj.io/refresh=normal --overwrite`;
    const lastApply = calls.map((c, i) => (c.includes(' apply ') ? i : -1)).reduce((a, b) => Math.max(a, b));
    expect(calls.slice(0, lastApply).filter((c) => c.includes(' annotate ')).sort()).toEqual([refresh('my-app'), refresh('my-app2'), refresh('my-app2')]);
    // (the test stops once my-app's repository has the edit; my-app2's push of the same directory may not have run)
    expect(calls.slice(lastApply).filter((c) => c.includes(' annotate '))[0]).toBe(refresh('my-app'));
  });
});


describe('remote packages: parsing today\'s -p URL forms', () => {
  const STACKS = 'https://github.com/cnoe-io/stacks';
  it.each([
    [`${STACKS}//ref-implementation`, { cloneURL: STACKS, clusterURL: STACKS, path: 'ref-implementation' }],
    [`${STACKS}//ref-implementation/`, { cloneURL: STACKS, clusterURL: STACKS, path: 'ref-implementation' }],
    [`${STACKS}//basic/package1?ref=v0.0.1`, { cloneURL: STACKS, clusterURL: STACKS, path: 'basic/package1', ref: 'v0.0.1' }],
    [`${STACKS}//basic?version=main&ref=dev`, { cloneURL: STACKS, clusterURL: STACKS, path: 'basic', ref: 'dev' }],
    [`${STACKS}//basic?version=release-1`, { cloneURL: STACKS, clusterURL: STACKS, path: 'basic', ref: 'release-1' }],
    [`${STACKS}//basic?ref=0123456789abcdef0123456789abcdef01234567&timeout=60s&submodules=false`, { cloneURL: STACKS, clusterURL: STACKS, path: 'basic', ref: '0123456789abcdef0123456789abcdef01234567' }],
    [`${STACKS}.git//ref-implementation`, { cloneURL: `${STACKS}.git`, clusterURL: `${STACKS}.git`, path: 'ref-implementation' }],
    [`${STACKS}//`, { cloneURL: STACKS, clusterURL: STACKS, path: '' }],
    ['https://git.example.com:8443/team/stacks//apps', { cloneURL: 'https://git.example.com:8443/team/stacks', clusterURL: 'https://git.example.com:8443/team/stacks', path: 'apps' }],
    ['git@github.com:cnoe-io/stacks//ref-implementation', { cloneURL: 'git@github.com:cnoe-io/stacks', clusterURL: STACKS, path: 'ref-implementation' }],
    ['git@github.com:cnoe-io/stacks.git//ref-implementation/?ref=main', { cloneURL: 'git@github.com:cnoe-io/stacks.git', clusterURL: `${STACKS}.git`, path: 'ref-implementation', ref: 'main' }],
    ['ssh://git@github.com:22/cnoe-io/stacks//basic', { cloneURL: 'ssh://git@github.com:22/cnoe-io/stacks', clusterURL: STACKS, path: 'basic' }],
  ])('%s', (raw, want) => {
    expect(isRemotePackage(raw)).toBe(true);
    expect(parseRemotePackage(raw)).toEqual({ raw, ...want });
  });

  it.each([
    [STACKS, 'a remote package needs // after the repository, e.g. https://github.com/cnoe-io/stacks//ref-implementation'],
    ['git@github.com:cnoe-io/stacks', 'a remote package needs // after the repository'],
    [`${STACKS}/`, 'a remote package needs // after the repository'],
    ['https://user:secret@github.com/cnoe-io/stacks//x', 'credentials in the URL are not supported'],
    [`${STACKS}//x?depth=1`, 'unknown query parameter "depth"'],
    [`${STACKS}//x/../..`, 'the directory "x/../.." must stay inside the repository'],
    ['https://github.com//x', 'no repository before //'],
    ['ftp://github.com/cnoe-io/stacks//x', 'scheme ftp'],
  ])('%s is refused', (raw, why) => {
    expect(() => parseRemotePackage(raw)).toThrow(`-p ${raw}: ${why}`);
  });

  it('local paths are not remote', () => {
    for (const p of ['./stacks', '/home/me/stacks', 'stacks//x', 'C:/x', 'my@dir']) expect(isRemotePackage(p)).toBe(false);
  });
});

describe('remote packages: discovery through a shallow clone', () => {
  let repo: ReturnType<typeof stacksRepo>;
  let si: StandIns;
  beforeAll(() => {
    repo = stacksRepo();
    si = standIns({}, { env: repo.env, passthrough: ['git'] });
  });
  afterAll(() => {
    si.cleanup();
    rmSync(repo.dir, { recursive: true, force: true });
  });

  it('cnoe:// directories become GitRepositories with a Git source (URL, ref, path in the repository); nothing is pushed', async () => {
    const raw = 'https://github.com/cnoe-io/stacks//ref-implementation?ref=v1';
    const co = await cloneRemotePackage(si.runner, parseRemotePackage(raw));
    try {
      const { apps, warnings } = discoverPackages([raw], 'localdev', new Map([[raw, co]]));
      expect(warnings).toEqual([]);
      expect(apps.map((a) => [a.name, a.file])).toEqual([
        ['my-app', `${raw} app.yaml`],
        ['my-app2', `${raw} app2.yaml`],
      ]);
      const objects = packageObjects(apps, ctx());
      validateObjects(objects);
      const content = objects.find((o) => o.metadata.name === 'my-app2-chart')!;
      expect(content.spec).toEqual({
        gitServerRef: { kind: 'GiteaProvider', name: 'gitea', namespace: 'idpbuilder-system' },
        name: 'idpbuilder-localdev-my-app2-chart',
        organization: 'idpbuilder',
        description: 'idpbuilder remote package my-app2: cnoe://chart (fetched from https://github.com/cnoe-io/stacks by the cluster)',
        private: false,
        sources: [{ type: 'Git', url: 'https://github.com/cnoe-io/stacks', ref: 'v1', path: 'ref-implementation/chart' }],
      });
      expect(content.metadata.annotations!['cnoe.io/package-source-path']).toBe('https://github.com/cnoe-io/stacks//ref-implementation/chart?ref=v1');
      // the definition: cnoe:// rewritten to the in-cluster clone URL, as for local packages
      const def = objects.find((o) => o.metadata.name === 'my-app2-definition')!;
      const app = parse(def.spec.sources[0].files['application.yaml']);
      expect(app.spec.sources[0].repoURL).toBe(`${INTERNAL}/idpbuilder/idpbuilder-localdev-my-app2-chart.git`);
      expect(app.spec.sources[0].helm.valuesObject.manifestsRepo).toBe(`${INTERNAL}/idpbuilder/idpbuilder-localdev-my-app2-manifests.git`);
    } finally {
      co.cleanup();
    }
    expect(si.calls().at(-1)).toMatch(/^git clone -q --depth 1 --no-tags --branch v1 -- https:\/\/github.com\/cnoe-io\/stacks \/.*\/repo$/);
  });

  it('a commit SHA is fetched by itself; git@ URLs are cloned as given and fetched by the cluster over https', async () => {
    const raw = `git@github.com:cnoe-io/stacks//ref-implementation?ref=${repo.sha}`;
    const co = await cloneRemotePackage(si.runner, parseRemotePackage(raw));
    try {
      const { apps } = discoverPackages([raw], 'localdev', new Map([[raw, co]]));
      const content = packageObjects(apps, ctx()).find((o) => o.metadata.name === 'my-app-manifests')!;
      expect(content.spec.sources).toEqual([{ type: 'Git', url: 'https://github.com/cnoe-io/stacks', ref: repo.sha, path: 'ref-implementation/manifests' }]);
    } finally {
      co.cleanup();
    }
    expect(si.calls().slice(-3).map((c) => c.replace(/ \/\S*\/repo$/, ' DIR'))).toEqual([
      'git init -q DIR',
      `git fetch -q --depth 1 --no-tags -- git@github.com:cnoe-io/stacks ${repo.sha}`,
      'git checkout -q FETCH_HEAD',
    ]);
  });

  it('a cnoe:// path leading out of the repository, a missing directory and a failed clone are errors', async () => {
    const esc = 'https://github.com/cnoe-io/stacks//escape';
    const co = await cloneRemotePackage(si.runner, parseRemotePackage(esc));
    try {
      expect(() => discoverPackages([esc], 'localdev', new Map([[esc, co]]))).toThrow(`${esc} app.yaml: Application esc: cnoe://../../.. leads outside the repository`);
    } finally {
      co.cleanup();
    }
    await expect(cloneRemotePackage(si.runner, parseRemotePackage('https://github.com/cnoe-io/stacks//nope'))).rejects.toThrow(
      '-p https://github.com/cnoe-io/stacks//nope: nope is not a directory of https://github.com/cnoe-io/stacks',
    );
    await expect(cloneRemotePackage(si.runner, parseRemotePackage('https://github.com/cnoe-io/stacks//x?ref=no-such-branch'))).rejects.toThrow(
      /^-p https:\/\/github.com\/cnoe-io\/stacks\/\/x\?ref=no-such-branch: cannot clone https:\/\/github.com\/cnoe-io\/stacks at no-such-branch: /,
    );
    expect(() => discoverPackages(['https://github.com/cnoe-io/stacks//x'], 'localdev')).toThrow('the remote package was not fetched');
  });

  it('the same application in a local and a remote -p: the later one wins, the warning names both', async () => {
    const raw = 'https://github.com/cnoe-io/stacks//ref-implementation';
    const co = await cloneRemotePackage(si.runner, parseRemotePackage(raw));
    try {
      const { apps, warnings } = discoverPackages([raw, join(FIXTURES, 'override')], 'localdev', new Map([[raw, co]]));
      expect(apps.find((a) => a.name === 'my-app')!.file).toBe(join(FIXTURES, 'override', 'app.yaml'));
      expect(apps.find((a) => a.name === 'my-app')!.priority).toBe(1);
      expect(apps.find((a) => a.name === 'my-app2')!.priority).toBe(0);
      expect(warnings).toEqual([`Application my-app in ${join(FIXTURES, 'override', 'app.yaml')} replaces the one in ${raw} app.yaml (a later -p wins)`]);
    } finally {
      co.cleanup();
    }
  });
});

describe('idpbuilder create -p <remote URL> (recorded commands)', () => {
  let repo: ReturnType<typeof stacksRepo>;
  let si: StandIns | undefined;
  beforeAll(() => {
    repo = stacksRepo();
  });
  afterAll(() => rmSync(repo.dir, { recursive: true, force: true }));
  afterEach(() => si?.cleanup());

  it('clones the package shallowly to find its Applications, applies GitRepositories with Git sources and Packages, pushes nothing', async () => {
    const ready = (kind: string) => JSON.stringify({ apiVersion: 'idpbuilder.cnoe.io/v1alpha2', kind, metadata: { name: 'x', namespace: 'idpbuilder-system' }, status: { conditions: [{ type: 'Ready', status: 'True' }] } });
    si = standIns(
      {
        helm: [],
        kubectl: freshKubectl([
          {
            match: '*get giteaproviders.idpbuilder.cnoe.io gitea *',
            stdout: JSON.stringify({ apiVersion: 'idpbuilder.cnoe.io/v1alpha2', kind: 'GiteaProvider', metadata: { name: 'gitea', namespace: 'idpbuilder-system' }, status: { endpoint: 'https://gitea.cnoe.localtest.me:8443', internalEndpoint: INTERNAL, credentialsSecretRef: { name: 't', namespace: 'idpbuilder-system', key: 'token' } } }),
          },
          { match: '*get secret t *', stdout: JSON.stringify({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 't', namespace: 'idpbuilder-system' }, data: { token: Buffer.from('tok').toString('base64') } }) },
          { match: '*get gitrepositories.idpbuilder.cnoe.io *', stdout: ready('GitRepository') },
          { match: '*get packages.idpbuilder.cnoe.io *', stdout: ready('Package') },
        ]),
      },
      { env: repo.env, passthrough: ['git'] },
    );
    const raw = 'https://github.com/cnoe-io/stacks//ref-implementation?ref=main';
    const r = await runCli(['create', '--kubeconfig', '/k', '-p', raw], si);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toContain(`Fetching the remote package ${raw}\n`);
    expect(r.out).not.toContain('Pushed ');
    const calls = si.calls();
    // the only git command is the discovery clone, before anything touches the cluster
    expect(calls.filter((c) => c.startsWith('git ')).map((c) => c.replace(/ \/\S*\/repo$/, ' DIR'))).toEqual(['git clone -q --depth 1 --no-tags --branch main -- https://github.com/cnoe-io/stacks DIR']);
    expect(calls[0]).toMatch(/^git clone /);
    // no refresh without a push
    expect(calls.filter((c) => c.includes(' annotate '))).toEqual([]);
    const applied = objectsOf(si.inputsOf(/ apply /)[3]);
    expect(applied.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([
      'GitRepository/my-app-manifests',
      'GitRepository/my-app-definition',
      'Package/my-app',
      'GitRepository/my-app2-chart',
      'GitRepository/my-app2-manifests',
      'GitRepository/my-app2-definition',
      'Package/my-app2',
    ]);
    expect(applied.find((o) => o.metadata.name === 'my-app-manifests')!.spec.sources).toEqual([{ type: 'Git', url: 'https://github.com/cnoe-io/stacks', ref: 'main', path: 'ref-implementation/manifests' }]);
    expect(applied.find((o) => o.metadata.name === 'my-app-manifests')!.spec).not.toHaveProperty('sync');
    expect(applied.find((o) => o.kind === 'Package' && o.metadata.name === 'my-app')!.metadata.annotations).toEqual({
      'cnoe.io/package-source-path': `${raw} app.yaml`,
      'cnoe.io/package-priority': '0',
    });
    // the temporary clone is gone
    const clone = calls.find((c) => c.startsWith('git clone'))!.split(' ').at(-1)!;
    expect(() => statSync(clone)).toThrow();
    expect(r.out).toContain('Finished Creating IDP Successfully!');
  });

  it('a remote package that cannot be cloned stops create before it touches the cluster', async () => {
    si = standIns({ helm: [], kubectl: freshKubectl() }, { env: repo.env, passthrough: ['git'] });
    const r = await runCli(['create', '--kubeconfig', '/k', '-p', 'https://github.com/cnoe-io/stacks//ref-implementation?ref=gone'], si);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^error: -p https:\/\/github.com\/cnoe-io\/stacks\/\/ref-implementation\?ref=gone: cannot clone https:\/\/github.com\/cnoe-io\/stacks at gone: /);
    expect(si.calls().filter((c) => !c.startsWith('git '))).toEqual([]);
  });
});

describe('Argo CD refresh after a push', () => {
  it('annotates the Application with argocd.argoproj.io/refresh=normal through kubectl; a missing Application is not an error', async () => {
    const calls: string[][] = [];
    const kube = (code: number, stderr = '') => ({
      kubectl: async (args: string[]) => (calls.push(args), { code, stdout: '', stderr }),
    });
    expect(await refreshApplication(kube(0), { appName: 'my-app', kind: 'Application' }, 'argocd')).toBeUndefined();
    expect(calls[0]).toEqual(['annotate', 'applications.argoproj.io', 'my-app', '-n', 'argocd', 'argocd.argoproj.io/refresh=normal', '--overwrite']);
    expect(await refreshApplication(kube(1, 'Error from server (NotFound): applications.argoproj.io "my-app" not found\n'), { appName: 'my-app', kind: 'Application' }, 'argocd')).toBeUndefined();
    expect(await refreshApplication(kube(1, 'error: forbidden\n'), { appName: 'my-app', kind: 'Application' }, 'argocd')).toBe('error: forbidden');
    calls.length = 0;
    expect(await refreshApplication(kube(0), { appName: 'set', kind: 'ApplicationSet' }, 'argocd')).toBeUndefined();
    expect(calls).toEqual([]);
  });
});
