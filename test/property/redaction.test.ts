/**
 * Redaction property test (issue 11, "Done when"). For every controller, from the steady-state request of
 * each of its objects (./steady.ts), random failure texts that contain a credential are planted where Jobs
 * and the API report failures:
 * - the message of every observed Job's Failed condition (or the Job succeeded, with the text in its result);
 * - the termination message of a related Pod of every observed Job (label batch.kubernetes.io/job-name);
 * - every field of every observed Job's result annotation (idpbuilder.cnoe.io/result).
 * The credential is a Secret value of the request (a related Secret such as a GitHubProvider's token, an
 * observed child Secret such as a generated admin password, or one the steady answer generates), or a
 * token shape (ghp_…, glpat-…, github_pat_…, `Authorization: Bearer <t>`, `token <t>`,
 * `https://user:<pw>@host`). The request goes through the hook service (buildApp, pino logger into a
 * buffer, events into a fake sink), and the events of the transition are computed too (transitions()).
 * Neither the status, nor an Event note, nor a log line may contain the credential.
 *
 * The decorators whose annotations carry engine or gateway text (packages-flux, expose-*) are checked the
 * same way with token shapes planted in the Kustomization's and the gateway's Ready message.
 */
import fc from 'fast-check';
import pino from 'pino';
import { Writable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/server/app.js';
import { controllers, decorators } from '../../src/controllers/registry.js';
import { transitions } from '../../src/events/transitions.js';
import { EventQueue } from '../../src/events/queue.js';
import type { EmitResult, EventSink, KubeEvent } from '../../src/events/types.js';
import type { DecoratorSyncRequest, KubeObject, ObjectMap, SyncRequest, SyncResponse } from '../../src/metacontroller/protocol.js';
import { groupKey } from '../../src/metacontroller/protocol.js';
import { RENDER_EPOCH } from '../../src/render/render.js';
import { steadyEnv, steadyRequests, type SteadyRequest } from './steady.js';

const RUNS = Number(process.env.REDACTION_RUNS ?? 25);
const SEED = Number(process.env.PROPERTY_SEED ?? 20261126);
const RESULT = 'idpbuilder.cnoe.io/result';
// the redactor's public keys (src/kit/redact.ts PUBLIC_SECRET_KEYS): url and type of Argo CD repository Secrets name a repository
const PUBLIC_KEYS = new Set(['username', 'user', 'email', 'url', 'type']);

class Sink implements EventSink {
  events: KubeEvent[] = [];
  emit(event: KubeEvent): Promise<EmitResult> {
    this.events.push(event);
    return Promise.resolve('created');
  }
}

const logLines: string[] = [];
const logger = pino(
  { level: 'trace' },
  new Writable({
    write(chunk, _enc, cb) {
      logLines.push(String(chunk));
      cb();
    },
  }),
);
const sink = new Sink();
const queue = new EventQueue(sink);
const app = buildApp({ controllers: controllers(), decorators: decorators(), logger, events: queue, env: { now: () => RENDER_EPOCH }, responseMemoSeconds: 0 });
afterAll(async () => {
  await app.close();
});

/** Decoded values of the Secrets among `objects` (public keys such as `username` excluded). */
function secretValuesOf(objects: KubeObject[]): string[] {
  const out: string[] = [];
  for (const o of objects) {
    if (o.kind !== 'Secret') continue;
    for (const [k, v] of Object.entries((o.data ?? {}) as Record<string, string>)) if (!PUBLIC_KEYS.has(k)) out.push(Buffer.from(v, 'base64').toString('utf8'));
    for (const [k, v] of Object.entries((o.stringData ?? {}) as Record<string, string>)) if (!PUBLIC_KEYS.has(k)) out.push(v);
  }
  return [...new Set(out.filter((v) => v.trim().length >= 4))].sort();
}

const all = (m: ObjectMap | undefined) => Object.values(m ?? {}).flatMap((g) => Object.values(g));

/** Every Secret value a steady request carries or its answer generates. */
function secretPool(s: SteadyRequest): string[] {
  return secretValuesOf([...all(s.req.children), ...all(s.req.related), ...s.res.children]);
}

const alnum = (min: number, max: number) => fc.stringMatching(new RegExp(`^[A-Za-z0-9]{${min},${max}}$`));

/** A credential in some shape: the text planted, and the part that must never be shown. */
type Planted = { text: string; needle: string };
const tokenShapes: fc.Arbitrary<Planted> = fc.oneof(
  alnum(36, 36).map((t) => ({ text: `ghp_${t}`, needle: `ghp_${t}` })),
  alnum(40, 60).map((t) => ({ text: `github_pat_${t}`, needle: `github_pat_${t}` })),
  alnum(20, 20).map((t) => ({ text: `glpat-${t}`, needle: `glpat-${t}` })),
  alnum(12, 40).map((t) => ({ text: `Authorization: Bearer ${t}`, needle: t })),
  alnum(12, 40).map((t) => ({ text: `token ${t}9`, needle: `${t}9` })),
  fc.tuple(alnum(8, 24), fc.constantFrom('github.com', 'gitea.example:3000', '10.0.0.1')).map(([pw, host]) => ({ text: `https://git:${pw}@${host}/org/repo.git`, needle: pw })),
);

function plantedArb(pool: string[]): fc.Arbitrary<Planted> {
  if (!pool.length) return tokenShapes;
  return fc.oneof({ arbitrary: fc.constantFrom(...pool).map((v) => ({ text: v, needle: v })), weight: 2 }, { arbitrary: tokenShapes, weight: 1 });
}

/**
 * Free text around the credential (a separator on each side, as in a real log line). Sometimes long, so
 * that the credential straddles where a Pod's termination message (500) or a Kustomization message
 * (300) is cut.
 */
const around = fc.tuple(fc.string({ maxLength: 40 }), fc.string({ maxLength: 40 }), fc.nat({ max: 4 }), fc.constantFrom(' ', '\n', ': ', ' "'));
function failureText(p: Planted, [before, after, pad, sep]: [string, string, number, string]): string {
  const filler = pad === 3 ? 'x '.repeat(230) : pad === 4 ? 'x '.repeat(135) : '';
  return `${filler}${before}${sep}${p.text}${sep}${after}`;
}

/**
 * What must never be shown of a credential: the whole of it, or a piece of at least 8 characters and half
 * its length from its start or its end (what a cut at a length limit leaves).
 */
function pieces(needle: string): string[] {
  const min = Math.max(8, Math.ceil(needle.length / 2));
  if (needle.length <= min) return [needle];
  return [needle, needle.slice(0, min), needle.slice(-min)];
}

/** The steady request with `text` planted into every observed Job (failed or succeeded), its Pod and its result. */
function plant(req: SyncRequest, text: string, failed: boolean): SyncRequest {
  const out = structuredClone(req);
  const pods: Record<string, KubeObject> = {};
  for (const [group, byKey] of Object.entries(out.children ?? {})) {
    if (!group.startsWith('Job.batch/')) continue;
    for (const [key, job] of Object.entries(byKey)) {
      const result = {
        authenticated: !failed,
        url: text,
        cloneURL: text,
        commitSHA: text,
        syncedAt: text,
        organization: text,
        group: text,
        groupID: 7,
        rateLimit: { remaining: 1, limit: 5000, resetAt: text },
        ...(failed ? { error: { code: 'Unauthorized', message: text } } : {}),
      };
      const annotations = { ...(job.metadata.annotations ?? {}), [RESULT]: JSON.stringify(result) };
      const status = failed
        ? { failed: 1, conditions: [{ type: 'Failed', status: 'True', reason: 'BackoffLimitExceeded', message: text, lastTransitionTime: RENDER_EPOCH.toISOString() }] }
        : { succeeded: 1, completionTime: RENDER_EPOCH.toISOString(), conditions: [{ type: 'Complete', status: 'True' }] };
      byKey[key] = { ...job, metadata: { ...job.metadata, annotations }, status } as KubeObject;
      const name = `${job.metadata.name}-pod0`.slice(0, 63);
      pods[`${job.metadata.namespace}/${name}`] = {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name, namespace: job.metadata.namespace, labels: { 'batch.kubernetes.io/job-name': job.metadata.name, 'job-name': job.metadata.name, 'idpbuilder.cnoe.io/owner-uid': req.parent.metadata.uid ?? '' } },
        status: { phase: failed ? 'Failed' : 'Succeeded', containerStatuses: [{ name: 'main', state: { terminated: { exitCode: failed ? 1 : 0, message: text } } }] },
      } as KubeObject;
    }
  }
  out.related = { ...(out.related ?? {}), [groupKey('Pod', 'v1')]: { ...(out.related?.[groupKey('Pod', 'v1')] ?? {}), ...pods } };
  return out;
}

function leaks(needle: string, what: Record<string, string>): string[] {
  return Object.entries(what)
    .filter(([, text]) => pieces(needle).some((p) => text.includes(p)))
    .map(([where]) => where);
}

const steady = steadyRequests();
const kinds = [...new Set(steady.map((s) => s.kind))].sort();
const pluralOf = new Map(controllers().map((c) => [c.kind.kind, c.kind.plural]));
const withJobs = new Set(steady.filter((s) => all(s.req.children).some((o) => o.kind === 'Job')).map((s) => s.kind));
let runs = 0;

afterAll(() => {
  // eslint-disable-next-line no-console
  console.log(`redaction: ${runs} runs over ${kinds.length} controllers (${[...withJobs].sort().join(', ')} with Jobs)`);
});

describe('no credential in status, Events or logs (issue 11)', () => {
  it.each(kinds)('%s', async (kind) => {
    const mine = steady.filter((s) => s.kind === kind);
    // the counterexample names the request by its index (a whole request would flood the report)
    const scenario = fc.nat({ max: mine.length - 1 }).chain((i) => fc.tuple(fc.constant(i), plantedArb(secretPool(mine[i])), around, fc.boolean()));
    await fc.assert(
      fc.asyncProperty(scenario, async ([i, planted, ctx, failed]) => {
        const s = mine[i];
        runs += 1;
        const text = failureText(planted, ctx);
        const req = plant(s.req, text, failed);
        sink.events.length = 0;
        logLines.length = 0;
        const r = await app.inject({ method: 'POST', url: `/hooks/${pluralOf.get(kind)}/sync`, payload: req });
        expect(r.statusCode, r.body).toBe(200);
        const res = JSON.parse(r.body) as SyncResponse;
        await queue.idle();
        const events = transitions({ parent: req.parent, children: req.children }, res);
        const found = leaks(planted.needle, {
          status: JSON.stringify(res.status),
          events: JSON.stringify(events),
          'written events': JSON.stringify(sink.events),
          log: logLines.join(''),
        });
        expect(found, `${s.world} ${s.key}: ${JSON.stringify(planted.needle)} (${failed ? 'failed' : 'succeeded'} Jobs) shown in`).toEqual([]);
        // the hook itself, without the server, answers the same status
        const direct = controllers().find((c) => c.kind.kind === kind)!.hooks!.sync(structuredClone(req), steadyEnv(req.parent));
        expect(leaks(planted.needle, { status: JSON.stringify(direct.status) }), `${s.key}: direct hook status`).toEqual([]);
      }),
      { numRuns: RUNS, seed: SEED },
    );
  }, 120_000);
});

describe('decorator annotations carry no credential (issue 11)', () => {
  const packages = steady.filter((s) => s.kind === 'Package').map((s) => s.req.parent);

  it('packages-flux: a token in the Kustomization Ready message', () => {
    const flux = decorators().find((d) => d.name === 'packages-flux')!;
    const pkg = packages[0];
    fc.assert(
      fc.property(tokenShapes, around, (planted, ctx) => {
        const text = failureText(planted, ctx);
        const object = { ...pkg, spec: { ...pkg.spec, gitOpsProviderRef: { kind: 'FluxProvider', name: 'flux' } } } as KubeObject;
        delete (object.spec as { argocd?: unknown }).argocd;
        const kustomization = {
          apiVersion: 'kustomize.toolkit.fluxcd.io/v1',
          kind: 'Kustomization',
          metadata: { name: pkg.metadata.name, namespace: pkg.metadata.namespace },
          status: { conditions: [{ type: 'Ready', status: 'False', reason: 'ArtifactFailed', message: text }] },
        } as KubeObject;
        const req: DecoratorSyncRequest = { object, attachments: { [groupKey('Kustomization', kustomization.apiVersion)]: { [`${pkg.metadata.namespace}/${pkg.metadata.name}`]: kustomization } }, related: {}, finalizing: false };
        const res = flux.hooks.sync(req, steadyEnv(object));
        expect(leaks(planted.needle, { annotations: JSON.stringify(res.annotations ?? {}) }), JSON.stringify(res.annotations)).toEqual([]);
      }),
      { numRuns: RUNS * 4, seed: SEED },
    );
  });

  it('expose-*: a token in the gateway Ready message', () => {
    for (const d of decorators().filter((x) => x.name.startsWith('expose-'))) {
      fc.assert(
        fc.property(tokenShapes, around, (planted, ctx) => {
          const text = failureText(planted, ctx);
          const object = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'app', namespace: 'team-a', annotations: { 'idpbuilder.cnoe.io/expose': 'idpbuilder-system/nginx' } }, spec: { ports: [{ port: 80 }] } } as KubeObject;
          const gateway = { apiVersion: 'idpbuilder.cnoe.io/v1alpha2', kind: 'NginxGateway', metadata: { name: 'nginx', namespace: 'idpbuilder-system', generation: 1 }, spec: {}, status: { conditions: [{ type: 'Ready', status: 'False', reason: 'InstallFailed', message: text }] } } as KubeObject;
          const req: DecoratorSyncRequest = { object, attachments: {}, related: { [groupKey('NginxGateway', gateway.apiVersion)]: { 'idpbuilder-system/nginx': gateway } }, finalizing: false };
          const res = d.hooks.sync(req, steadyEnv(object));
          expect(leaks(planted.needle, { annotations: JSON.stringify(res.annotations ?? {}) }), `${d.name}: ${JSON.stringify(res.annotations)}`).toEqual([]);
        }),
        { numRuns: RUNS * 2, seed: SEED },
      );
    }
  });
});
