/**
 * Release Secrets (src/kit/helm.ts ReleaseSecret): the install script GiteaProvider generates is run with
 * /bin/sh against fake `kubectl` and `helm` that log their argument lists, so what reaches a command line,
 * what goes through a pipe, the order against `helm upgrade`, the restart on a changed credential and the
 * delete after `helm uninstall` are checked on the script itself, not on its text.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { giteaProviderHooks as hooks } from '../../src/controllers/giteaprovider.js';
import { RELEASE_SECRET_DIGEST } from '../../src/kit/helm.js';
import type { KubeObject, SyncResponse } from '../../src/metacontroller/protocol.js';
import { cmData, secretData } from '../support/providers.js';
import { noUsers, parent, syncRequest, testEnv } from '../support/requests.js';
import { byKind, jobSucceeded, next, toMap } from '../support/world.js';

const root = mkdtempSync(join(tmpdir(), 'release-secrets-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

// kubectl: `get secret` answers $OLD_DIGEST as the annotation (absent: NotFound), `create secret generic
// --from-file=k=f` prints a Secret with the files' content, annotate/label --local pass stdin through,
// `apply` stores stdin in $APPLIED. Every call's argv goes to $LOG.
const FAKE_KUBECTL = `#!/bin/sh
printf 'kubectl %s\\n' "$*" >> "$LOG"
case "$1 $2" in
  "get namespace") exit 0 ;;
  "get secret") [ -n "\${OLD_DIGEST:-}" ] || { echo 'NotFound' >&2; exit 1; }; printf '%s' "$OLD_DIGEST" ;;
  "create secret")
    printf 'apiVersion: v1\\nkind: Secret\\ndata:\\n'
    for a in "$@"; do case "$a" in --from-file=*) kv=\${a#--from-file=}; printf '  %s: %s\\n' "\${kv%%=*}" "$(base64 -w0 < "\${kv#*=}")" || exit 1 ;; esac; done ;;
  "annotate --local"|"label --local") cat ;;
  "apply --server-side") cat > "$APPLIED"; [ -s "$APPLIED" ] || { echo 'no objects passed to apply' >&2; exit 1; } ;;
esac
`;
const FAKE_HELM = `#!/bin/sh
printf 'helm %s\\n' "$*" >> "$LOG"
`;

const bin = join(root, 'bin');
mkdirSync(bin);
writeFileSync(join(bin, 'kubectl'), FAKE_KUBECTL);
writeFileSync(join(bin, 'helm'), FAKE_HELM);
chmodSync(join(bin, 'kubectl'), 0o755);
chmodSync(join(bin, 'helm'), 0o755);

interface Run {
  status: number | null;
  log: string[];
  applied: string;
  stderr: string;
}

/** Runs a Job script with its /secrets/<name>/<key> files under a temporary directory. */
function run(script: string, secrets: Record<string, Record<string, string>>, oldDigest = ''): Run {
  const dir = mkdtempSync(join(root, 'run-'));
  for (const [name, data] of Object.entries(secrets)) {
    mkdirSync(join(dir, 'secrets', name), { recursive: true });
    for (const [k, v] of Object.entries(data)) writeFileSync(join(dir, 'secrets', name, k), v);
  }
  const file = join(dir, 'run.sh');
  writeFileSync(file, script.split('/secrets/').join(`${dir}/secrets/`));
  const env = { PATH: `${bin}:${process.env.PATH}`, LOG: join(dir, 'log'), APPLIED: join(dir, 'applied'), OLD_DIGEST: oldDigest };
  const p = spawnSync('/bin/sh', [file], { env, encoding: 'utf8' });
  const read = (f: string) => (existsSync(f) ? readFileSync(f, 'utf8') : '');
  return { status: p.status, log: read(env.LOG).trim().split('\n').filter(Boolean), applied: read(env.APPLIED), stderr: p.stderr };
}

const env = testEnv();
const gitea = (spec: Record<string, unknown> = {}) => parent('GiteaProvider', 'gitea', spec);

function install(spec: Record<string, unknown> = {}) {
  const res = hooks.sync(syncRequest(gitea(spec)), env);
  const admin = byKind(res, 'Secret')[0];
  const cm = byKind(res, 'ConfigMap')[0];
  return { res, admin, data: secretData(admin), script: cmData(cm)['run.sh'] };
}

const digestOf = (r: Run) => r.log.find((l) => l.startsWith('kubectl annotate'))!.match(new RegExp(`${RELEASE_SECRET_DIGEST}=([0-9a-f]{64})`))![1];
const b64 = (s: string) => Buffer.from(s).toString('base64');

describe('release Secrets in the install and uninstall scripts (GiteaProvider: gitea/gitea-credential)', () => {
  it('first install: the credential Secret is written from the mounted child Secret through a pipe, before helm upgrade; no restart', () => {
    const { data, script } = install();
    const r = run(script, { 'gitea-gitea-admin': data });
    expect(r.status, r.stderr).toBe(0);
    const heads = r.log.map((l) => l.split(' ').slice(0, 3).join(' '));
    expect(heads.slice(0, 2)).toEqual(['kubectl get namespace', 'kubectl get secret']);
    // one pipeline: its four processes run side by side, so they log in any order
    expect(heads.slice(2, 6).sort()).toEqual(['kubectl annotate --local', 'kubectl apply --server-side', 'kubectl create secret', 'kubectl label --local']);
    // then the check for a release a killed helm left pending-* (none here: the fake helm reports nothing), then the upgrade
    expect(heads.slice(6)).toEqual(['helm status gitea', 'helm upgrade --install']);
    expect(r.log[6]).toBe('helm status gitea --namespace gitea -o json');
    const line = (prefix: string) => r.log.find((l) => l.startsWith(prefix))!;
    expect(line('kubectl create')).toMatch(
      /^kubectl create secret generic gitea-credential --namespace gitea --from-file=password=\S+\/secrets\/gitea-gitea-admin\/password --from-file=username=\S+\/secrets\/gitea-gitea-admin\/username --dry-run=client -o yaml$/,
    );
    expect(line('kubectl label')).toBe('kubectl label --local -f - app.kubernetes.io/managed-by=idpbuilder idpbuilder.cnoe.io/giteaprovider=gitea idpbuilder.cnoe.io/role=credentials -o yaml');
    expect(line('kubectl apply')).toBe('kubectl apply --server-side --force-conflicts --field-manager=idpbuilder -f -');
    // the values went through the pipe into apply, and never onto a command line (neither plain nor base64)
    expect(r.applied).toContain(`password: ${b64(data.password)}`);
    expect(r.applied).toContain(`username: ${b64('giteaAdmin')}`);
    const argv = r.log.join('\n');
    expect(argv).not.toContain(data.password);
    expect(argv).not.toContain(b64(data.password));
    expect(argv).not.toContain('rollout');
  });

  it('the same credential again: no restart; a changed credential: Gitea is restarted after the upgrade and waited for', () => {
    const { data, script } = install();
    const digest = digestOf(run(script, { 'gitea-gitea-admin': data }));
    const same = run(script, { 'gitea-gitea-admin': data }, digest);
    expect(same.status, same.stderr).toBe(0);
    expect(same.log.join('\n')).not.toContain('rollout');

    const changed = run(script, { 'gitea-gitea-admin': { ...data, password: 'a-new-password-1' } }, digest);
    expect(changed.status, changed.stderr).toBe(0);
    expect(changed.log.slice(-3)).toEqual([
      expect.stringMatching(/^helm upgrade --install gitea /),
      'kubectl rollout restart deployment/gitea --namespace gitea',
      'kubectl rollout status deployment/gitea --namespace gitea --timeout=10m',
    ]);
    expect(digestOf(changed)).not.toBe(digest);
    expect(changed.log.join('\n')).not.toContain('a-new-password-1');
  });

  it('a key missing from the mounted Secret fails the Job before anything is written or installed', () => {
    const { data, script } = install();
    const r = run(script, { 'gitea-gitea-admin': { username: data.username } });
    expect(r.status).not.toBe(0);
    expect(r.log.join('\n')).not.toMatch(/kubectl apply|helm upgrade/);
  });

  it('uninstall (deletionPolicy Delete): helm uninstall, then the credential Secret is deleted', () => {
    const req = syncRequest(gitea());
    const first = hooks.sync(req, env);
    const req2 = next(req, first, (o: KubeObject) => (o.kind === 'Job' ? jobSucceeded(o) : o));
    const f = hooks.finalize!({ ...req2, children: toMap(first.children.map((o) => (o.kind === 'Job' ? jobSucceeded(o) : o))), related: { ...req2.related, ...noUsers('GitRepository') }, finalizing: true }, env);
    const script = cmData(byKind(f, 'ConfigMap').find((c) => c.metadata.labels?.['idpbuilder.cnoe.io/role'] === 'uninstall')!)['run.sh'];
    const r = run(script, {});
    expect(r.status, r.stderr).toBe(0);
    // the fake helm knows no release content (empty manifest and hooks) and the fake kubectl no namespace
    // annotation: nothing kept to delete, the namespace is not ours (src/kit/helm.ts releaseUninstall)
    expect(r.log).toEqual([
      'helm status gitea --namespace gitea',
      'helm get manifest gitea --namespace gitea',
      'helm get hooks gitea --namespace gitea',
      'helm uninstall gitea --namespace gitea --wait --ignore-not-found --timeout 10m',
      'kubectl delete secret gitea-credential --namespace gitea --ignore-not-found',
      'kubectl delete persistentvolumeclaims --namespace gitea -l app.kubernetes.io/instance=gitea --ignore-not-found --wait=true',
      'kubectl get namespace gitea --ignore-not-found -o=jsonpath={.metadata.annotations.idpbuilder\\.cnoe\\.io/created-by}',
    ]);
  });

  it('issue 10 example i: deletionPolicy Retain finalizes without running anything, so gitea/gitea-credential is never deleted; with Delete the uninstall script deletes it', () => {
    const finalizeAfterInstall = (spec: Record<string, unknown>) => {
      const req = syncRequest(gitea(spec));
      const installed = next(req, hooks.sync(req, env), (o: KubeObject) => (o.kind === 'Job' ? jobSucceeded(o) : o));
      return { installed, f: hooks.finalize!({ ...installed, related: { ...installed.related, ...noUsers('GitRepository') }, finalizing: true }, env) };
    };
    const scripts = (res: SyncResponse) => byKind(res, 'ConfigMap').map((c) => cmData(c)['run.sh'] ?? '');

    const retain = finalizeAfterInstall({ deletionPolicy: 'Retain' });
    expect(retain.f.finalized).toBe(true);
    expect((retain.f.status.conditions as { type: string; reason: string }[]).find((c) => c.type === 'Ready')!.reason).toBe('Retained');
    // nothing new to run: the answer holds only what was observed (the install Job, its ConfigMap, the admin Secret)
    const observedKeys = Object.values(retain.installed.children!).flatMap((g) => Object.values(g)).map((o) => `${o.kind}/${o.metadata.name}`).sort();
    expect(retain.f.children.map((o) => `${o.kind}/${o.metadata.name}`).sort()).toEqual(observedKeys);
    expect(byKind(retain.f, 'Job').filter((j) => j.metadata.labels?.['idpbuilder.cnoe.io/role'] === 'uninstall')).toEqual([]);
    for (const s of scripts(retain.f)) expect(s).not.toContain('kubectl delete secret gitea-credential');

    const del = finalizeAfterInstall({ deletionPolicy: 'Delete' });
    expect(del.f.finalized).toBe(false);
    const uninstall = byKind(del.f, 'ConfigMap').find((c) => c.metadata.labels?.['idpbuilder.cnoe.io/role'] === 'uninstall')!;
    expect(byKind(del.f, 'Job').map((j) => j.metadata.name)).toContain(uninstall.metadata.name);
    const r = run(cmData(uninstall)['run.sh'], {});
    expect(r.status, r.stderr).toBe(0);
    expect(r.log).toContain('kubectl delete secret gitea-credential --namespace gitea --ignore-not-found');
  });
});
