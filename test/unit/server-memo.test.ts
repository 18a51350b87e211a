/** The response memo, and how hook failures map to 400 or 500. */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { buildApp, type AppOptions } from '../../src/server/app.js';
import { controllers, decorators } from '../../src/controllers/registry.js';
import { KIND_BY_NAME } from '../../src/api/kinds.js';
import type { ControllerDef } from '../../src/kit/hooks.js';
import type { KubeObject } from '../../src/metacontroller/protocol.js';
import { next } from '../support/world.js';
import { ResponseMemo, recordingRandom } from '../../src/server/memo.js';
import { parent, syncRequest } from '../support/requests.js';
import { defaultPlatform, manySourcesRepository, recordRequests, type RecordedRequest } from '../../bench/requests.js';

const apps: FastifyInstance[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((a) => a.close()));
});
let now = Date.parse('2026-03-01T12:00:00Z');
function app(extra: Partial<AppOptions> = {}) {
  const a = buildApp({ controllers: controllers(), decorators: decorators(), env: { now: () => new Date(now) }, ...extra });
  apps.push(a);
  return a;
}
const memoCount = async (a: FastifyInstance, result: string) => {
  const m = new RegExp(`idpbuilder_hook_memo_total\\{result="${result}"\\} (\\d+)`).exec((await a.inject({ method: 'GET', url: '/metrics' })).body);
  return m ? Number(m[1]) : 0;
};

let recorded: RecordedRequest[];
beforeAll(() => {
  recorded = recordRequests([...defaultPlatform(), manySourcesRepository(4)]);
});
const find = (id: string) => structuredClone(recorded.find((r) => r.id === id)!);

describe('response memo', () => {
  it('answers a repeated request from the memo, byte for byte what the hook answers', async () => {
    const plat = find('Platform/idpbuilder-system/localdev');
    const payload = JSON.stringify(plat.body);
    const a = app();
    const off = app({ responseMemoSeconds: 0 });
    const bodies: string[] = [];
    for (let i = 0; i < 4; i++) bodies.push((await a.inject({ method: 'POST', url: plat.url, payload, headers: { 'content-type': 'application/json' } })).body);
    const fresh = (await off.inject({ method: 'POST', url: plat.url, payload, headers: { 'content-type': 'application/json' } })).body;
    expect(new Set([...bodies, fresh]).size).toBe(1);
    // first sight: nothing; second: checked and stored; then hits
    expect(await memoCount(a, 'stored')).toBe(1);
    expect(await memoCount(a, 'hit')).toBe(2);
    expect(await memoCount(off, 'hit')).toBe(0);
  });

  it('never memoises an answer that moves with the clock, and lets entries expire', async () => {
    const repo = find('GitRepository/idpbuilder-system/many-sources');
    // periodic sync: resyncAfterSeconds counts down with the clock
    const a = app();
    const seen = new Set<number>();
    for (let i = 0; i < 4; i++) {
      now += 1000;
      const res = await a.inject({ method: 'POST', url: repo.url, payload: repo.body as object });
      expect(res.statusCode).toBe(200);
      seen.add(res.json().resyncAfterSeconds);
    }
    expect(seen.size).toBe(4);
    expect(await memoCount(a, 'hit')).toBe(0);
    expect(await memoCount(a, 'unstable')).toBe(1);

    const plat = find('Platform/idpbuilder-system/localdev');
    const b = app({ responseMemoSeconds: 30 });
    for (let i = 0; i < 3; i++) await b.inject({ method: 'POST', url: plat.url, payload: plat.body as object });
    expect(await memoCount(b, 'hit')).toBe(1);
    now += 31_000;
    await b.inject({ method: 'POST', url: plat.url, payload: plat.body as object });
    expect(await memoCount(b, 'hit')).toBe(1);
  });

  it('is keyed by route and exact bytes, and checks the bearer token before answering from it', async () => {
    const plat = find('Platform/idpbuilder-system/localdev');
    const a = app({ token: 't' });
    const headers = { authorization: 'Bearer t', 'content-type': 'application/json' };
    const payload = JSON.stringify(plat.body);
    for (let i = 0; i < 3; i++) await a.inject({ method: 'POST', url: plat.url, payload, headers });
    expect(await memoCount(a, 'hit')).toBe(1);
    expect((await a.inject({ method: 'POST', url: plat.url, payload, headers: { 'content-type': 'application/json' } })).statusCode).toBe(401);
    // one more space: other bytes, no hit
    await a.inject({ method: 'POST', url: plat.url, payload: `${payload} `, headers });
    expect(await memoCount(a, 'hit')).toBe(1);
  });

  it('replays the random bytes of the first run when it checks an answer, so a first sync with a generated password can be memoised', () => {
    let n = 0;
    const r = recordingRandom((k) => Uint8Array.from({ length: k }, () => n++ % 256));
    const a = r.random(4);
    const replay = r.replay();
    expect([...replay(4)]).toEqual([...a]);
    // asked for more than was drawn: fresh bytes
    expect(replay(2).length).toBe(2);
  });

  it('keeps within its byte budget', () => {
    let t = 0;
    const memo = new ResponseMemo({ horizonMs: 1000, maxBytes: 10_000, maxEntries: 100, now: () => t });
    for (let i = 0; i < 50; i++) memo.set(`k${i}`, { body: 'x'.repeat(400), expires: 500 });
    expect(memo.size).toBeLessThanOrEqual(10);
    expect(memo.get('k49')?.body.length).toBe(400);
    expect(memo.get('k0')).toBeUndefined();
    t = 600;
    expect(memo.get('k49')).toBeUndefined();
  });
});

describe('hook failures', () => {
  it('answers 400 naming the field when an observed object has an impossible shape that made the hook fail', async () => {
    const a = app();
    const req = syncRequest(parent('GiteaProvider', 'gitea', {}));
    const first = (await a.inject({ method: 'POST', url: '/hooks/giteaproviders/sync', payload: req })).json();
    const job = first.children.find((c: { kind: string }) => c.kind === 'Job');
    // observed: the first answer's children (the generated Secret keeps the Job's name), the Job malformed
    const bad = next(req, first, (o) => (o.kind === 'Job' ? ({ ...o, status: { conditions: 5 } } as unknown as KubeObject) : o));
    const res = await a.inject({ method: 'POST', url: '/hooks/giteaproviders/sync', payload: bad });
    expect(res.statusCode).toBe(400);
    expect(res.json().message).toBe(`body.children["Job.batch/v1"]["idpbuilder-system/${job.metadata.name}"].status.conditions: must be array`);
  });

  it('answers 500 when the hook fails on a well-formed request', async () => {
    const def: ControllerDef = { kind: KIND_BY_NAME.get('GiteaProvider')!, children: [], hooks: { sync: () => { throw new TypeError('x is undefined'); } } };
    const a = app({ controllers: [def] });
    const res = await a.inject({ method: 'POST', url: '/hooks/giteaproviders/sync', payload: syncRequest(parent('GiteaProvider', 'gitea', {})) });
    expect(res.statusCode).toBe(500);
  });
});

describe('strict answers', () => {
  it('answers customize and decorator hooks with only the fields v2 strict mode accepts', async () => {
    const def: ControllerDef = {
      kind: KIND_BY_NAME.get('GiteaProvider')!,
      children: [],
      hooks: {
        sync: () => ({ status: {}, children: [] }),
        customize: () => ({ relatedResources: [{ apiVersion: 'v1', resource: 'pods', namespace: 'x', labelSelector: { matchLabels: { a: 'b' }, bogus: 1 }, extra: true }], more: 1 }) as never,
      },
    };
    const a = app({ controllers: [def], decorators: [{ name: 'deco', resources: [{ apiVersion: 'v1', kind: 'Service', resource: 'services' }], attachments: [], hooks: { sync: () => ({ attachments: [], labels: { a: null }, surprise: 1 }) as never } }] });
    const c = await a.inject({ method: 'POST', url: '/hooks/giteaproviders/customize', payload: { controller: {}, parent: parent('GiteaProvider', 'g', {}) } });
    expect(c.json()).toEqual({ relatedResources: [{ apiVersion: 'v1', resource: 'pods', namespace: 'x', labelSelector: { matchLabels: { a: 'b' } } }] });
    const d = await a.inject({ method: 'POST', url: '/hooks/deco/sync', payload: { object: { apiVersion: 'v1', kind: 'Service', metadata: { name: 's', namespace: 'n' } } } });
    expect(d.json()).toEqual({ labels: { a: null }, attachments: [] });
  });
});
