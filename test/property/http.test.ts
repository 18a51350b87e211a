/**
 * The HTTP surface never answers 500 to a bad request: random JSON, non-JSON, truncated real requests and
 * real requests with a value of the wrong type somewhere get 400, 404 or 413 (or 200 when the change
 * happens to leave a valid request).
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/server/app.js';
import { controllers, decorators } from '../../src/controllers/registry.js';
import { defaultPlatform, manySourcesRepository, recordRequests, type RecordedRequest } from '../../bench/requests.js';

const RUNS = Number(process.env.PROPERTY_RUNS ?? 200);
const SEED = Number(process.env.PROPERTY_SEED ?? 20261126);

let app: FastifyInstance;
let recorded: RecordedRequest[];
let routes: string[];

beforeAll(async () => {
  app = buildApp({ controllers: controllers(), decorators: decorators(), bodyLimit: 256 * 1024 });
  await app.ready();
  recorded = recordRequests([...defaultPlatform(), manySourcesRepository(8)]);
  routes = [
    ...controllers().flatMap((c) => ['sync', 'finalize', 'customize'].map((h) => `/hooks/${c.kind.plural}/${h}`)),
    ...decorators().flatMap((d) => ['sync', 'finalize', 'customize'].map((h) => `/hooks/${d.name}/${h}`)),
  ];
});
afterAll(async () => {
  await app.close();
});

const ALLOWED = new Set([200, 400, 404, 413]);

async function send(url: string, payload: string, contentType = 'application/json') {
  const res = await app.inject({ method: 'POST', url, headers: { 'content-type': contentType }, payload });
  return res;
}

/** Every path into a JSON value: [] is the root. */
function paths(v: unknown, prefix: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  out.push(prefix);
  if (Array.isArray(v)) v.forEach((x, i) => paths(x, [...prefix, i], out));
  else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) paths(x, [...prefix, k], out);
  return out;
}

function setAt(root: unknown, path: (string | number)[], value: unknown): unknown {
  if (path.length === 0) return value;
  const copy = structuredClone(root) as Record<string | number, unknown>;
  let cur = copy;
  for (const k of path.slice(0, -1)) cur = cur[k] as Record<string | number, unknown>;
  cur[path[path.length - 1]] = value;
  return copy;
}

function typeOf(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v;
}

const wrongValue = fc.oneof(fc.constant(null), fc.integer(), fc.double({ noNaN: true }), fc.boolean(), fc.string({ maxLength: 8 }), fc.constant([]), fc.constant({}), fc.array(fc.integer(), { maxLength: 2 }), fc.dictionary(fc.string({ maxLength: 4 }), fc.integer(), { maxKeys: 2 }));

describe('bad requests get 4xx, never 500', () => {
  it('random JSON bodies on every route, and on routes that do not exist', async () => {
    await fc.assert(
      fc.asyncProperty(fc.json({ maxDepth: 3 }), fc.nat(), fc.boolean(), async (body, i, realRoute) => {
        const url = realRoute ? routes[i % routes.length] : `/hooks/${['x', 'platforms', '..', ''][i % 4]}/${i % 3 === 0 ? 'sync' : 'nope'}`;
        const res = await send(url, body);
        expect(ALLOWED.has(res.statusCode), `${url} ${body.slice(0, 200)} → ${res.statusCode} ${res.body.slice(0, 200)}`).toBe(true);
        expect(res.statusCode).not.toBe(200);
      }),
      { numRuns: RUNS * 2, seed: SEED },
    );
  });

  it('bodies that are not JSON, or not sent as JSON', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 200 }), fc.nat(), fc.constantFrom('application/json', 'text/plain', 'application/x-www-form-urlencoded'), async (body, i, type) => {
        const res = await send(routes[i % routes.length], body, type);
        // 415: a content type the service does not take
        expect([400, 404, 413, 415].includes(res.statusCode), `${res.statusCode} ${res.body.slice(0, 200)}`).toBe(true);
      }),
      { numRuns: RUNS, seed: SEED },
    );
  });

  it('truncated real requests', async () => {
    await fc.assert(
      fc.asyncProperty(fc.nat(), fc.double({ min: 0, max: 1, noNaN: true }), async (i, at) => {
        const r = recorded[i % recorded.length];
        const text = JSON.stringify(r.body);
        const cut = Math.min(text.length - 1, Math.floor(at * text.length));
        const res = await send(r.url, text.slice(0, cut));
        expect(res.statusCode, `${r.id} cut at ${cut}: ${res.body.slice(0, 200)}`).toBe(400);
      }),
      { numRuns: RUNS, seed: SEED },
    );
  });

  it('real requests with a value of the wrong type somewhere', async () => {
    const counts: Record<number, number> = {};
    await fc.assert(
      fc.asyncProperty(fc.nat(), fc.nat(), wrongValue, async (i, j, value) => {
        const r = recorded[i % recorded.length];
        const all = paths(r.body).filter((p) => p.length > 0);
        const path = all[j % all.length];
        const old = path.reduce<unknown>((o, k) => (o as Record<string | number, unknown>)[k], r.body);
        if (typeOf(old) === typeOf(value)) return;
        const res = await send(r.url, JSON.stringify(setAt(r.body, path, value)));
        counts[res.statusCode] = (counts[res.statusCode] ?? 0) + 1;
        expect([200, 400].includes(res.statusCode), `${r.id} ${path.join('.')} = ${JSON.stringify(value)} → ${res.statusCode} ${res.body.slice(0, 300)}`).toBe(true);
      }),
      { numRuns: RUNS * 4, seed: SEED },
    );
    // most such requests must be refused; some changes hit fields nothing reads
    expect(counts[400] ?? 0).toBeGreaterThan(counts[200] ?? 0);
  });

  it('the untouched real requests are answered 200', async () => {
    for (const r of recorded) {
      const res = await send(r.url, JSON.stringify(r.body));
      expect(res.statusCode, `${r.id}: ${res.body.slice(0, 200)}`).toBe(200);
    }
  });
});
