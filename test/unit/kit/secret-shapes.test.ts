/**
 * Secrets of odd shapes through the one Secret decoding and the one scrubber (breaker pass on the merged
 * dedupe: kit/secrets secretEntries/decodeSecretData, kit/redact Redactor, events notes, repo-sync scrubSecrets).
 */
import { describe, expect, it } from 'vitest';
import { decodeSecretData } from '../../../src/kit/secrets.js';
import { resolveCluster } from '../../../src/kit/cluster.js';
import { Redactor } from '../../../src/kit/redact.js';
import { scrub as scrubNote, transitions } from '../../../src/events/transitions.js';
import { scrubSecrets } from '../../../src/jobs/repo/scrub.js';
import type { KubeObject } from '../../../src/metacontroller/protocol.js';

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
const secretOf = (data: Record<string, string>): KubeObject =>
  ({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'kc', namespace: 'default' }, data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, b64(v)])) }) as KubeObject;

describe('decodeSecretData: a key named like an Object member is not a key of the Secret', () => {
  it.each(['constructor', 'toString', 'hasOwnProperty', '__proto__'])('%s is absent from a Secret without it', (key) => {
    const data = decodeSecretData(secretOf({ value: 'x' }));
    expect(data[key]).toBeUndefined();
    expect(data.value).toBe('x');
  });

  it('an own __proto__ key is an ordinary key', () => {
    const s = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' }, data: JSON.parse(`{"__proto__":"${b64('pw')}"}`) } as KubeObject;
    expect(Object.hasOwn(decodeSecretData(s), '__proto__')).toBe(true);
    expect(decodeSecretData(s)['__proto__']).toBe('pw');
  });

  it('a kubeconfig Secret reference with key "constructor" waits for that key (not an invalid kubeconfig)', () => {
    const parent = { apiVersion: 'idpbuilder.cnoe.io/v1alpha1', kind: 'GitRepository', metadata: { name: 'r', namespace: 'default' } } as KubeObject;
    const req = { parent, related: { 'Secret.v1': { 'default/kc': secretOf({ value: 'apiVersion: v1' }) } } };
    const r = resolveCluster(req, { kind: 'Secret', name: 'kc', key: 'constructor' });
    expect(r.state).toBe('blocked');
    expect((r as { reason: string }).reason).toBe('ClusterKubeconfigKeyNotFound');
    expect((r as { message: string }).message).toBe('kubeconfig Secret kc: Secret kc has no key constructor');
  });
});

describe('the Redactor never throws on a value that is not well-formed UTF-16', () => {
  const lone = 'pass\ud800word';

  it('masks a value holding a lone surrogate (no URIError from its percent-encoding)', () => {
    expect(new Redactor([lone]).scrub(`x ${lone} y`)).toBe('x *** y');
  });

  it('Event notes of a sync whose Secret stringData holds a lone surrogate are still scrubbed', () => {
    expect(scrubNote(`failed: ${lone}`, [lone])).toBe('failed: [redacted]');
  });

  it('repo-sync scrubSecrets with such a secret', () => {
    expect(scrubSecrets(`push ${lone} refused`, [lone])).toBe('push *** refused');
  });

  it('transitions() does not throw for a desired Secret with such stringData', () => {
    const parent = { apiVersion: 'idpbuilder.cnoe.io/v1alpha1', kind: 'GitRepository', metadata: { name: 'r', namespace: 'default', uid: 'u', generation: 1 }, status: {} } as KubeObject;
    const s = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's', namespace: 'default' }, stringData: { password: lone } } as unknown as KubeObject;
    const res = { status: { conditions: [{ type: 'Ready', status: 'False', reason: 'SyncFailed', message: `bad ${lone}` }] }, children: [s] };
    const events = transitions({ parent, children: {} } as never, res as never);
    for (const e of events) expect(e.note).not.toContain(lone);
  });
});
