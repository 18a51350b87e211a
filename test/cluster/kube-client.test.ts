// The Job programs' Kubernetes client (src/kube/client.ts over @kubernetes/client-node) against the real
// kube-apiserver: server-side apply of a Secret with key ownership, reading it back, annotating a Job,
// creating Events, an exec credential plugin, and the KubeError reasons the API server really sends.
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parse as parseYAML, stringify } from 'yaml';
import { FIELD_MANAGER, KubeClient, KubeError } from '../../src/kube/client.js';
import { cluster, ensureNamespaces, expectSuccess } from './support.js';

const NS = 'kube-client-test';

interface Kubeconfig {
  'current-context': string;
  clusters: Array<{ name: string; cluster: Record<string, unknown> }>;
  users: Array<{ name: string; user: Record<string, unknown> }>;
  contexts: Array<{ name: string; context: Record<string, unknown> }>;
}

describe('KubeClient against the real API server', () => {
  let dir: string;
  let kube: KubeClient;
  let admin: Kubeconfig;

  /** A copy of the suite's kubeconfig whose user is replaced by `user`. */
  const withUser = (name: string, user: Record<string, unknown>): string => {
    const doc = structuredClone(admin);
    doc.users = [{ name: doc.users[0].name, user }];
    const path = join(dir, name);
    writeFileSync(path, stringify(doc), { mode: 0o600 });
    return path;
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kube-client-cluster-'));
    admin = parseYAML(readFileSync(inject('kubeconfig'), 'utf8')) as Kubeconfig;
    kube = await KubeClient.fromKubeconfig(inject('kubeconfig'));
    await ensureNamespaces(cluster(), [NS]);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('applySecret is a server-side apply that owns its keys: a key it stops sending goes, another manager’s key stays', async () => {
    await kube.applySecret({ namespace: NS, name: 'creds', labels: { app: 'test' }, stringData: { token: 't-1', username: 'admin' } });
    const other = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'creds', namespace: NS }, stringData: { extra: 'theirs' } };
    expectSuccess(await cluster().kubectl(['apply', '--server-side', '--field-manager=someone-else', '-f', '-'], JSON.stringify(other)), 'kubectl apply (other manager)');
    await kube.applySecret({ namespace: NS, name: 'creds', labels: { app: 'test' }, stringData: { token: 't-2' } });

    expect(await kube.getSecret(NS, 'creds')).toEqual({ token: 't-2', extra: 'theirs' });
    const got = JSON.parse(expectSuccess(await cluster().kubectl(['get', 'secret', 'creds', '-n', NS, '-o', 'json', '--show-managed-fields']), 'kubectl get secret').stdout) as {
      type: string;
      metadata: { labels: Record<string, string>; managedFields: Array<{ manager: string; operation: string }> };
    };
    expect(got.type).toBe('Opaque');
    expect(got.metadata.labels).toEqual({ app: 'test' });
    expect(got.metadata.managedFields.filter((m) => m.manager === FIELD_MANAGER).map((m) => m.operation)).toEqual(['Apply']);
  });

  it('getSecret of a Secret that does not exist is undefined', async () => {
    expect(await kube.getSecret(NS, 'absent')).toBeUndefined();
  });

  it('annotateJob sets and removes annotations on a Job', async () => {
    const job = {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'annotated', namespace: NS },
      spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox' }] } } },
    };
    expectSuccess(await cluster().kubectl(['apply', '--server-side', '-f', '-'], JSON.stringify(job)), 'kubectl apply job');
    await kube.annotateJob(NS, 'annotated', { 'idpbuilder.cnoe.io/result': '{"ok":true}', 'idpbuilder.cnoe.io/old': 'x' });
    await kube.annotateJob(NS, 'annotated', { 'idpbuilder.cnoe.io/old': null });
    const res = expectSuccess(await cluster().kubectl(['get', 'job', 'annotated', '-n', NS, '-o', 'jsonpath={.metadata.annotations}']), 'kubectl get job');
    expect(JSON.parse(res.stdout)).toEqual({ 'idpbuilder.cnoe.io/result': '{"ok":true}' });
    const err = await kube.annotateJob(NS, 'no-such-job', { a: 'b' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KubeError);
    expect(err).toMatchObject({ status: 404, reason: 'NotFound' });
  });

  it('createEvent creates an events.k8s.io/v1 Event; the same name again is 409 AlreadyExists', async () => {
    const event = {
      apiVersion: 'events.k8s.io/v1' as const,
      kind: 'Event' as const,
      metadata: { name: 'kube-client-test.1', namespace: NS },
      eventTime: new Date().toISOString().replace(/\.(\d{3})Z$/, '.$1000Z'),
      reportingController: 'idpbuilder.cnoe.io/hooks',
      reportingInstance: 'test',
      action: 'Create',
      reason: 'PlatformCreated',
      note: 'created',
      type: 'Normal',
      regarding: { apiVersion: 'v1', kind: 'Secret', name: 'creds', namespace: NS },
    };
    await kube.createEvent(event);
    const err = await kube.createEvent(event).catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 409, reason: 'AlreadyExists' });
  });

  it('a kubeconfig user with an exec credential plugin authenticates with the token the plugin prints', async () => {
    const token = String(admin.users[0].user.token);
    const plugin = join(dir, 'auth-plugin');
    writeFileSync(plugin, `#!/bin/sh\nprintf '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"%s"}}' "$TOKEN"\n`);
    chmodSync(plugin, 0o755);
    const exec = (value: string) => ({ exec: { apiVersion: 'client.authentication.k8s.io/v1', command: plugin, env: [{ name: 'TOKEN', value }], interactiveMode: 'Never' } });

    const viaExec = await KubeClient.fromKubeconfig(withUser('exec.yaml', exec(token)));
    await viaExec.applySecret({ namespace: NS, name: 'from-exec', stringData: { k: 'v' } });
    expect(await viaExec.getSecret(NS, 'from-exec')).toEqual({ k: 'v' });

    const wrong = await KubeClient.fromKubeconfig(withUser('exec-wrong.yaml', exec('not-a-valid-token')));
    const err = (await wrong.getSecret(NS, 'from-exec').catch((e: unknown) => e)) as KubeError;
    expect(err).toBeInstanceOf(KubeError);
    expect(err).toMatchObject({ status: 401, reason: 'Unauthorized' });
    expect(err.message).not.toContain('not-a-valid-token');
  });

  it('a user without the right is Forbidden, and the message never holds the Secret value', async () => {
    const token = String(admin.users[0].user.token);
    // Impersonation (kubeconfig `as`): the admin acts as a service account with no RBAC.
    const nobody = await KubeClient.fromKubeconfig(withUser('nobody.yaml', { token, as: `system:serviceaccount:${NS}:nobody` }));
    const err = (await nobody.applySecret({ namespace: NS, name: 'creds', stringData: { token: 'very-secret-value' } }).catch((e: unknown) => e)) as KubeError;
    expect(err).toBeInstanceOf(KubeError);
    expect(err.status).toBe(403);
    expect(err.reason).toBe('Forbidden');
    expect(err.message).toContain(`cannot patch resource "secrets" in API group "" in the namespace "${NS}"`);
    expect(err.message).not.toContain('very-secret-value');
    expect(err.message).not.toContain(Buffer.from('very-secret-value').toString('base64'));
    expect(err.message).not.toContain(token);
  });
});
