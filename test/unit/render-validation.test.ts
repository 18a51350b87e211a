/**
 * Issue 16 item 7 through render: no validation Job before its credentials Secret exists, and a validation
 * Job that finishes without a result is ValidationFailed (never Ready/Authenticated).
 */
import { describe, expect, it } from 'vitest';
import { controllers, decorators } from '../../src/controllers/registry.js';
import { render } from '../../src/render/render.js';
import type { KubeObject } from '../../src/metacontroller/protocol.js';

const NS = 'idpbuilder-system';
const github = {
  apiVersion: 'idpbuilder.cnoe.io/v1alpha2',
  kind: 'GitHubProvider',
  metadata: { name: 'github-external', namespace: NS },
  spec: { organization: 'my-organization', endpoint: 'https://api.github.com', authType: 'token', credentialsSecretRef: { name: 'github-credentials', key: 'token' } },
} as unknown as KubeObject;
const tokenSecret = {
  apiVersion: 'v1',
  kind: 'Secret',
  metadata: { name: 'github-credentials', namespace: NS },
  data: { token: Buffer.from('ghp_standinstandinstandinstandin1234').toString('base64') },
} as unknown as KubeObject;

const ready = (o: KubeObject) => (o.status?.conditions as { type: string; status: string; reason: string }[] | undefined)?.find((c) => c.type === 'Ready');
const run = (inputs: KubeObject[], observed: KubeObject[] = []) => render(inputs, controllers(), { decorators: decorators(), observed });

describe('render: GitHub validation (issue 16 item 7)', () => {
  it('without its credentials Secret: Pending/SecretNotFound and no validation Job', () => {
    const r = run([github]);
    const p = r.objects.find((o) => o.kind === 'GitHubProvider')!;
    expect(ready(p)).toMatchObject({ status: 'False', reason: 'SecretNotFound' });
    expect(r.objects.filter((o) => o.kind === 'Job')).toEqual([]);
  });

  it('with the Secret: one validation Job; when it succeeds without writing a result: ValidationFailed, not Authenticated', () => {
    const first = run([github, tokenSecret]);
    const jobs = first.objects.filter((o) => o.kind === 'Job');
    expect(jobs).toHaveLength(1);
    const done = { ...jobs[0], status: { succeeded: 1, completionTime: '2026-01-01T00:00:00Z', conditions: [{ type: 'Complete', status: 'True' }] } } as KubeObject;
    const second = run([github, tokenSecret], [done]);
    const p = second.objects.find((o) => o.kind === 'GitHubProvider')!;
    expect(ready(p)).toMatchObject({ status: 'False', reason: 'ValidationFailed' });
    expect(p.status?.authenticated).not.toBe(true);
  });
});
