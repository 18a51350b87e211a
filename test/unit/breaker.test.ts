/**
 * Failures found by perturbing steady-state requests against the real hook service (the breaker pass):
 * each is replayed here with the answer it should get.
 */
import { describe, expect, it } from 'vitest';
import { buildApp } from '../../src/server/app.js';
import { controllers } from '../../src/controllers/registry.js';
import { nginxGatewayHooks as nginx } from '../../src/controllers/nginxgateway.js';
import type { KubeObject, SyncRequest, SyncResponse } from '../../src/metacontroller/protocol.js';
import { enforce } from '../../src/kit/contract.js';
import { Redactor } from '../../src/kit/redact.js';
import { parent, syncRequest, testEnv } from '../support/requests.js';
import { byKind, next, toMap, withStatus } from '../support/world.js';

const jobNames = (res: SyncResponse) => byKind(res, 'Job').map((j) => j.metadata.name);
const installation = (res: SyncResponse) => res.status.installation as { job: string; retries?: number; nextRetryTime?: string };

/** A failed Job as a Job controller that wrote no times would leave it: Failed condition, no lastTransitionTime, no startTime. */
const failedWithoutTime = (job: KubeObject) =>
  job.kind === 'Job' ? withStatus(job, { failed: 1, conditions: [{ type: 'Failed', status: 'True', reason: 'BackoffLimitExceeded', message: 'x' }] }) : job;

describe('a failed install Job that says not when it failed', () => {
  it('is retried once the delay the status scheduled has passed (the schedule does not slide with every sync)', () => {
    const req = syncRequest(parent('NginxGateway', 'nginx', { namespace: 'ingress-nginx' }));
    const first = nginx.sync(req, testEnv('2026-01-01T00:00:00Z'));
    const failed = next(req, first, failedWithoutTime);
    // first sight of the failure: scheduled 30 s from now
    const seen = nginx.sync(failed, testEnv('2026-01-01T00:10:00Z'));
    expect(installation(seen)).toMatchObject({ retries: 0, nextRetryTime: '2026-01-01T00:10:30Z' });
    expect(seen.resyncAfterSeconds).toBe(30);
    // the resync 31 s later, with the status written: the retry starts (before: nextRetryTime 00:11:01, no retry, for ever)
    const later = next(failed, seen);
    const res = nginx.sync(later, testEnv('2026-01-01T00:10:31Z'));
    expect(installation(res).retries).toBe(1);
    expect(installation(res).job).toMatch(/^nginx-install-retry1-[0-9a-f]{8}$/);
    expect(jobNames(res)).toContain(installation(res).job);
    // a sync before the scheduled time keeps the schedule
    const early = nginx.sync(later, testEnv('2026-01-01T00:10:20Z'));
    expect(installation(early)).toMatchObject({ retries: 0, nextRetryTime: '2026-01-01T00:10:30Z' });
    expect(early.resyncAfterSeconds).toBe(10);
  });
});

describe('Job times of impossible shape', () => {
  it('are refused with 400 by the hook service, not answered with a retry in the year 12345 or never', async () => {
    const app = buildApp({ controllers: controllers(), logger: false, randomSeed: Buffer.alloc(32, 7), responseMemoSeconds: 0 });
    await app.ready();
    try {
      const req = syncRequest(parent('NginxGateway', 'nginx', { namespace: 'ingress-nginx' }));
      const first = nginx.sync(req, testEnv('2026-01-01T00:00:00Z'));
      const cases: [string, (job: KubeObject) => KubeObject][] = [
        ['.status.conditions[0].lastTransitionTime', (j) => withStatus(j, { failed: 1, conditions: [{ type: 'Failed', status: 'True', lastTransitionTime: 12345 }] })],
        ['.status.conditions[0].lastTransitionTime', (j) => withStatus(j, { failed: 1, conditions: [{ type: 'Failed', status: 'True', lastTransitionTime: 'yesterday' }] })],
        ['.status.startTime', (j) => withStatus(j, { failed: 1, startTime: '2026-13-45', conditions: [{ type: 'Failed', status: 'True' }] })],
      ];
      for (const [path, f] of cases) {
        const body = next(req, first, (o) => (o.kind === 'Job' ? f(o) : o));
        const r = await app.inject({ method: 'POST', url: '/hooks/nginxgateways/sync', payload: body });
        expect(r.statusCode, path).toBe(400);
        expect(r.json().message, path).toContain(path);
      }
      // what the API server writes passes: RFC 3339 times, and null for an unset lastProbeTime
      const ok = next(req, first, (o) =>
        o.kind === 'Job' ? withStatus(o, { failed: 1, startTime: '2026-01-01T00:00:00Z', conditions: [{ type: 'Failed', status: 'True', lastProbeTime: null, lastTransitionTime: '2026-01-01T00:01:00.5+02:00' }] }) : o,
      );
      expect((await app.inject({ method: 'POST', url: '/hooks/nginxgateways/sync', payload: ok })).statusCode).toBe(200);
    } finally {
      await app.close();
    }
  });
});

describe('encoded forms of a Secret value in a status', () => {
  it('base64 (a Secret manifest in a kubectl error), base64 of user:password (Basic) and percent-encoding are masked', () => {
    const password = 'p@ss/word+Secret-1';
    const admin = {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'gitea-gitea-admin', namespace: 'idpbuilder-system' },
      data: { username: Buffer.from('giteaAdmin').toString('base64'), password: Buffer.from(password).toString('base64') },
    } as KubeObject;
    const b64 = Buffer.from(password).toString('base64');
    const basic = Buffer.from(`giteaAdmin:${password}`).toString('base64');
    const message = `error when applying patch: {"data":{"password":"${b64}"}}; curl -H 'X: Basic ${basic}'; url https://h/?p=${encodeURIComponent(password)}`;
    const req = { parent: parent('GiteaProvider', 'gitea', {}), children: toMap([admin], 'idpbuilder-system'), related: {} } as unknown as SyncRequest;
    const res = enforce(req, { status: { conditions: [{ type: 'Ready', status: 'False', reason: 'InstallFailed', message }] }, children: [admin] });
    const out = JSON.stringify(res.status);
    for (const form of [password, b64.replace(/=+$/, ''), basic.replace(/=+$/, ''), encodeURIComponent(password)]) expect(out).not.toContain(form);
    expect(out).toContain('error when applying patch');
    // the username alone is not a credential and stays readable
    expect(new Redactor(['giteaAdmin:x']).scrub('user giteaAdmin')).toBe('user giteaAdmin');
  });
});
