/**
 * The shared status writer (src/kit/status.ts): one marker per transition sets Ready, Progressing and Degraded
 * consistently; writeStatus keeps transition times, stamps observedGeneration and checks the kind's condition set.
 */
import { describe, expect, it } from 'vitest';
import { conditionSet, markBlocked, markFailed, markProgressing, markReady, markRetrying, readParent, writeStatus } from '../../../src/kit/status.js';
import { parent, testEnv } from '../../support/requests.js';

const triple = (ready: string, progressing: string, degraded: string) => [
  expect.objectContaining({ type: 'Ready', status: ready }),
  expect.objectContaining({ type: 'Progressing', status: progressing }),
  expect.objectContaining({ type: 'Degraded', status: degraded }),
];

describe('markers', () => {
  it('markReady: Ready=True, Progressing=False with the same reason and message, Degraded=False AsExpected', () => {
    expect(markReady('Synced', 'repository synced')).toEqual([
      { type: 'Ready', status: 'True', reason: 'Synced', message: 'repository synced' },
      { type: 'Progressing', status: 'False', reason: 'Synced', message: 'repository synced' },
      { type: 'Degraded', status: 'False', reason: 'AsExpected', message: '' },
    ]);
  });

  it('markProgressing: Ready=False and Progressing=True with the reason; with serving, Ready=True keeps what serves', () => {
    expect(markProgressing('Installing', 'install job running')).toEqual([
      { type: 'Ready', status: 'False', reason: 'Installing', message: 'install job running' },
      { type: 'Progressing', status: 'True', reason: 'Installing', message: 'install job running' },
      { type: 'Degraded', status: 'False', reason: 'AsExpected', message: '' },
    ]);
    expect(markProgressing('Syncing', 'sync job created', { reason: 'Synced', message: 'repository synced at 0123' })).toEqual([
      { type: 'Ready', status: 'True', reason: 'Synced', message: 'repository synced at 0123' },
      { type: 'Progressing', status: 'True', reason: 'Syncing', message: 'sync job created' },
      { type: 'Degraded', status: 'False', reason: 'AsExpected', message: '' },
    ]);
  });

  it('markBlocked: a wait, nothing at fault: Ready=False, Progressing=False, Degraded=False', () => {
    expect(markBlocked('WaitingForGitServer', 'waiting for git server')).toEqual([
      { type: 'Ready', status: 'False', reason: 'WaitingForGitServer', message: 'waiting for git server' },
      { type: 'Progressing', status: 'False', reason: 'WaitingForGitServer', message: 'waiting for git server' },
      { type: 'Degraded', status: 'False', reason: 'AsExpected', message: '' },
    ]);
  });

  it('markFailed: Ready=False, Progressing=False, Degraded=True, all three with one reason and message', () => {
    const marks = markFailed('SyncFailed', 'sync job failed: push rejected');
    expect(marks).toEqual([
      { type: 'Ready', status: 'False', reason: 'SyncFailed', message: 'sync job failed: push rejected' },
      { type: 'Progressing', status: 'False', reason: 'SyncFailed', message: 'sync job failed: push rejected' },
      { type: 'Degraded', status: 'True', reason: 'SyncFailed', message: 'sync job failed: push rejected' },
    ]);
  });

  it('markRetrying: the failure stays on Ready=False and Degraded=True while Progressing=True says what runs', () => {
    expect(markRetrying({ reason: 'AuthenticationFailed', message: 'bad credentials' }, 'Validating', 'validation job running')).toEqual([
      { type: 'Ready', status: 'False', reason: 'AuthenticationFailed', message: 'bad credentials' },
      { type: 'Progressing', status: 'True', reason: 'Validating', message: 'validation job running' },
      { type: 'Degraded', status: 'True', reason: 'AuthenticationFailed', message: 'bad credentials' },
    ]);
  });
});

describe('writeStatus', () => {
  const SET = conditionSet('Widget', ['VersionUnverified']);

  it('fields, phase, the conditions with observedGeneration, and observedGeneration', () => {
    const p = parent('Widget', 'w', {}, { metadata: { name: 'w', generation: 3 } });
    const status = writeStatus(SET, p, testEnv('2026-01-01T00:00:00.123Z'), { phase: 'Ready', marks: markReady('Available', 'up') }, { endpoint: 'https://w' });
    expect(Object.keys(status)).toEqual(['endpoint', 'phase', 'conditions', 'observedGeneration']);
    expect(status).toMatchObject({ endpoint: 'https://w', phase: 'Ready', observedGeneration: 3 });
    expect(status.conditions).toEqual(triple('True', 'False', 'False'));
    // seconds, no milliseconds (RFC 3339 as the API server writes it)
    for (const c of status.conditions as { lastTransitionTime: string; observedGeneration: number }[]) {
      expect(c).toMatchObject({ lastTransitionTime: '2026-01-01T00:00:00Z', observedGeneration: 3 });
    }
  });

  it('keeps lastTransitionTime of a condition whose status did not change, stamps the ones that changed', () => {
    const before = writeStatus(SET, parent('Widget', 'w', {}), testEnv('2026-01-01T00:00:00Z'), { phase: 'Installing', marks: markProgressing('Installing', 'install job running') });
    const observed = parent('Widget', 'w', {}, { status: before });
    const after = writeStatus(SET, observed, testEnv('2026-01-01T00:10:00Z'), { phase: 'Failed', marks: markFailed('InstallFailed', 'install job failed') });
    const at = (type: string) => (after.conditions as { type: string; lastTransitionTime: string }[]).find((c) => c.type === type)!.lastTransitionTime;
    expect(at('Ready')).toBe('2026-01-01T00:00:00Z'); // False → False (new reason): no transition
    expect(at('Progressing')).toBe('2026-01-01T00:10:00Z'); // True → False
    expect(at('Degraded')).toBe('2026-01-01T00:10:00Z'); // False → True
    // the same transition again is byte-identical (no hot loop)
    const again = writeStatus(SET, parent('Widget', 'w', {}, { status: after }), testEnv('2026-01-01T00:20:00Z'), { phase: 'Failed', marks: markFailed('InstallFailed', 'install job failed') });
    expect(JSON.stringify(again)).toBe(JSON.stringify(after));
  });

  it('a wait keeps an observed Degraded=True of this generation (not seeing the server once is no recovery); an attempt, a success or a spec change clears it', () => {
    const at = (gen: number, status?: Record<string, unknown>) => parent('Widget', 'w', {}, { metadata: { name: 'w', generation: gen }, ...(status ? { status } : {}) });
    const failed = writeStatus(SET, at(2), testEnv('2026-01-01T00:00:00Z'), { phase: 'Failed', marks: markFailed('SyncFailed', 'sync job failed: push rejected') });
    const degraded = (s: Record<string, unknown>) => (s.conditions as { type: string; status: string; reason: string; lastTransitionTime: string }[]).find((c) => c.type === 'Degraded')!;
    const waiting = writeStatus(SET, at(2, failed), testEnv('2026-01-01T00:05:00Z'), { phase: 'Pending', marks: markBlocked('ProviderNotFound', 'git server not found') });
    expect(degraded(waiting)).toMatchObject({ status: 'True', reason: 'SyncFailed', lastTransitionTime: '2026-01-01T00:00:00Z' });
    expect((waiting.conditions as { type: string; reason: string }[]).find((c) => c.type === 'Ready')!.reason).toBe('ProviderNotFound');
    // a copy of the marks is a wait too (read from their content)
    const copied = writeStatus(SET, at(2, failed), testEnv('2026-01-01T00:05:00Z'), { phase: 'Pending', marks: [...markBlocked('ProviderNotFound', 'git server not found')] as unknown as ReturnType<typeof markBlocked> });
    expect(JSON.stringify(copied)).toBe(JSON.stringify(waiting));
    // a new attempt clears it
    const retry = writeStatus(SET, at(2, waiting), testEnv('2026-01-01T00:06:00Z'), { phase: 'Syncing', marks: markProgressing('Syncing', 'sync job created') });
    expect(degraded(retry)).toMatchObject({ status: 'False', reason: 'AsExpected' });
    // a spec change (new generation): the wait says Degraded=False
    const changed = writeStatus(SET, at(3, failed), testEnv('2026-01-01T00:07:00Z'), { phase: 'Pending', marks: markBlocked('ProviderNotFound', 'git server not found') });
    expect(degraded(changed)).toMatchObject({ status: 'False', reason: 'AsExpected' });
  });

  it('extras of the set follow the three, in the order given; a type outside the set is refused', () => {
    const p = parent('Widget', 'w', {});
    const extra = { type: 'VersionUnverified', status: 'True' as const, reason: 'UnknownChartVersion', message: 'not checked' };
    const status = writeStatus(SET, p, testEnv(), { phase: 'Ready', marks: markReady('Available', 'up'), extras: [extra] });
    expect((status.conditions as { type: string }[]).map((c) => c.type)).toEqual(['Ready', 'Progressing', 'Degraded', 'VersionUnverified']);
    expect(() => writeStatus(SET, p, testEnv(), { phase: 'Ready', marks: markReady('Available', 'up'), extras: [{ ...extra, type: 'Surprise' }] })).toThrow(
      'Widget: condition Surprise is not in its condition set (Ready, Progressing, Degraded, VersionUnverified)',
    );
  });

  it('a parent without generation: no observedGeneration anywhere', () => {
    const p = parent('Widget', 'w', {});
    delete (p.metadata as { generation?: number }).generation;
    const status = writeStatus(SET, p, testEnv(), { phase: 'Pending', marks: markBlocked('Waiting', 'waiting') });
    expect(status).not.toHaveProperty('observedGeneration');
    for (const c of status.conditions as object[]) expect(c).not.toHaveProperty('observedGeneration');
  });
});

describe('readParent', () => {
  it('typed spec and status, namespace defaulted, whether the status is of this generation, conditions by type', () => {
    const p = parent('Widget', 'w', { size: 2 }, { metadata: { name: 'w', generation: 2 }, status: { phase: 'Ready', observedGeneration: 1, conditions: [{ type: 'Ready', status: 'True', reason: 'Available', message: 'up', lastTransitionTime: '2026-01-01T00:00:00Z' }] } });
    delete (p.metadata as { namespace?: string }).namespace;
    const view = readParent<{ size: number }, { phase: string }>({ parent: p });
    expect(view).toMatchObject({ name: 'w', namespace: 'default', generation: 2, spec: { size: 2 }, status: { phase: 'Ready' }, current: false });
    expect(view.condition('Ready')).toMatchObject({ status: 'True', reason: 'Available' });
    expect(view.condition('Degraded')).toBeUndefined();
    // conditions that are not a list (another writer) count as none
    expect(readParent({ parent: { ...p, status: { conditions: 'broken' } } as never }).condition('Ready')).toBeUndefined();
  });
});
