/**
 * Perturbation test (issue 10, "Done when"). From the steady-state sync request of every object of every
 * example (./steady.ts), variants that Metacontroller really sends when its caches lag or objects are
 * half-written:
 * - a related object missing;
 * - a status field of a related object or of an observed child missing (every top-level key of `status`,
 *   and every key of a nested object field such as `credentialsSecretRef` or `installation`);
 * - an observed child missing;
 * - an observed Job in each state: no status, running, failed (an hour ago), succeeded.
 * The spec never changes, so for every variant the controller's sync (the wrapped hooks of the registry)
 * must:
 * - return every observed child, unless a finished Job of the same role in the answer superseded it,
 *   and return everything the steady-state answer returned (no release without a spec change);
 * - keep every Secret of the steady-state answer with identical data (a Secret regenerated after it was
 *   not observed comes from the same keyed random stream, so it must be identical too);
 * - keep every Job of the steady-state answer, and add a Job only as the retry of a Job that failed;
 * - (Platform) not claim Ready=True/AllComponentsReady when the variant removed something it reads.
 */
import { describe, expect, it } from 'vitest';
import { jobFinished } from '../../src/kit/contract.js';
import { LABEL_ROLE } from '../../src/kit/labels.js';
import type { KubeObject, ObjectMap, SyncRequest, SyncResponse } from '../../src/metacontroller/protocol.js';
import { canonicalJSON } from '../../src/kit/canonical.js';
import { finishSync } from '../../src/metacontroller/response.js';
import { RENDER_EPOCH } from '../../src/render/render.js';
import { hooksOf, steadyEnv, steadyRequests, type SteadyRequest } from './steady.js';

type Perturbation =
  | { kind: 'steady' }
  | { kind: 'remove-related'; group: string; key: string }
  | { kind: 'remove-status-field'; where: 'related' | 'children'; group: string; key: string; path: string[] }
  | { kind: 'remove-child'; group: string; key: string }
  | { kind: 'job-state'; group: string; key: string; state: 'none' | 'running' | 'failed' | 'succeeded' };

interface Variant {
  p: Perturbation;
  req: SyncRequest;
}

const HOUR_AGO = new Date(RENDER_EPOCH.getTime() - 3600_000).toISOString().replace('.000', '');

function describeP(p: Perturbation): string {
  switch (p.kind) {
    case 'steady':
      return 'steady state';
    case 'remove-related':
      return `related ${p.group} ${p.key} removed`;
    case 'remove-status-field':
      return `status.${p.path.join('.')} of ${p.where === 'related' ? 'related' : 'child'} ${p.group} ${p.key} removed`;
    case 'remove-child':
      return `child ${p.group} ${p.key} removed`;
    case 'job-state':
      return `Job ${p.key} ${p.state}`;
  }
}

const isPlainObject = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);

/** A copy of `map` with one object replaced (or removed when `next` is undefined); the rest is shared. */
function withObject(map: ObjectMap | undefined, group: string, key: string, next: KubeObject | undefined): ObjectMap {
  const out: ObjectMap = { ...(map ?? {}) };
  const g = { ...(out[group] ?? {}) };
  if (next) g[key] = next;
  else delete g[key];
  out[group] = g;
  return out;
}

function jobWithState(job: KubeObject, state: 'none' | 'running' | 'failed' | 'succeeded'): KubeObject {
  const { status: _old, ...rest } = job as KubeObject & { status?: unknown };
  switch (state) {
    case 'none':
      return rest as KubeObject;
    case 'running':
      return { ...rest, status: { active: 1, startTime: HOUR_AGO } } as KubeObject;
    case 'failed':
      return {
        ...rest,
        status: { failed: 3, startTime: HOUR_AGO, conditions: [{ type: 'Failed', status: 'True', reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit', lastTransitionTime: HOUR_AGO }] },
      } as KubeObject;
    case 'succeeded':
      return { ...rest, status: { succeeded: 1, startTime: HOUR_AGO, completionTime: HOUR_AGO, conditions: [{ type: 'Complete', status: 'True', lastTransitionTime: HOUR_AGO }] } } as KubeObject;
  }
}

/** Every variant of a steady request (the steady request itself first). */
function variants(req: SyncRequest): Variant[] {
  const out: Variant[] = [{ p: { kind: 'steady' }, req }];
  for (const where of ['related', 'children'] as const) {
    const map = req[where] ?? {};
    for (const group of Object.keys(map).sort()) {
      for (const key of Object.keys(map[group]).sort()) {
        const o = map[group][key];
        // the object missing
        out.push({ p: where === 'related' ? { kind: 'remove-related', group, key } : { kind: 'remove-child', group, key }, req: { ...req, [where]: withObject(map, group, key, undefined) } });
        // each status field missing, and each key of a nested object field
        const status = o.status as Record<string, unknown> | undefined;
        if (isPlainObject(status)) {
          for (const f of Object.keys(status).sort()) {
            const { [f]: _gone, ...rest } = status;
            out.push({ p: { kind: 'remove-status-field', where, group, key, path: [f] }, req: { ...req, [where]: withObject(map, group, key, { ...o, status: rest } as KubeObject) } });
            const nested = status[f];
            if (!isPlainObject(nested)) continue;
            for (const g of Object.keys(nested).sort()) {
              const { [g]: _gone2, ...restNested } = nested;
              out.push({ p: { kind: 'remove-status-field', where, group, key, path: [f, g] }, req: { ...req, [where]: withObject(map, group, key, { ...o, status: { ...status, [f]: restNested } } as KubeObject) } });
            }
          }
        }
        // each observed Job in each state
        if (where === 'children' && o.kind === 'Job') {
          for (const state of ['none', 'running', 'failed', 'succeeded'] as const) {
            out.push({ p: { kind: 'job-state', group, key, state }, req: { ...req, children: withObject(map, group, key, jobWithState(o, state)) } });
          }
        }
      }
    }
  }
  return out;
}

function observedList(map: ObjectMap | undefined): KubeObject[] {
  return Object.values(map ?? {}).flatMap((g) => Object.values(g));
}

const ck = (o: KubeObject) => `${o.kind}/${o.metadata.name}`;
const role = (o: KubeObject) => o.metadata.labels?.[LABEL_ROLE];

/**
 * Whether the variant hid something the Platform reads to decide AllComponentsReady: an object (provider,
 * values ConfigMap, bootstrap GitRepository or Package), a `conditions` list, or the install record that
 * names the values ConfigMap (`installation`, `installation.configMap`) when the Platform bootstraps (a
 * Platform without a GitOps provider writes no bootstrap repository, so it does not read them).
 */
function platformReads(p: Perturbation, bootstraps: boolean): boolean {
  // values ConfigMaps and install records are read only to write the bootstrap repositories
  const install = (p.kind === 'remove-related' && p.group.startsWith('ConfigMap.')) || (p.kind === 'remove-status-field' && p.path[0] === 'installation' && (p.path.length === 1 || p.path[1] === 'configMap'));
  if (install) return bootstraps;
  if (p.kind === 'remove-related' || p.kind === 'remove-child') return true;
  return p.kind === 'remove-status-field' && p.path[0] === 'conditions';
}

/** The problems of one variant's answer, compared with the steady-state answer. */
function problems(kind: string, v: Variant, steady: SyncResponse, res: SyncResponse): string[] {
  const out: string[] = [];
  const answer = new Map(res.children.map((c) => [ck(c), c]));
  const observed = observedList(v.req.children);
  const observedByKey = new Map(observed.map((o) => [ck(o), o]));

  // 1. every observed child is in the answer, or superseded by a finished Job of its role in the answer
  for (const o of observed) {
    if (answer.has(ck(o))) continue;
    const r = role(o);
    const superseded = !!r && res.children.some((c) => c.kind === 'Job' && role(c) === r && observedByKey.has(ck(c)) && jobFinished(observedByKey.get(ck(c))!));
    if (!superseded) out.push(`observed child ${ck(o)} dropped`);
  }
  // ... and nothing the steady state returned is released (the spec did not change)
  if (v.p.kind !== 'steady') for (const c of steady.children) if (!answer.has(ck(c))) out.push(`${ck(c)} of the steady-state answer released`);

  // 2. no credential changes
  for (const s of steady.children.filter((c) => c.kind === 'Secret')) {
    const now = answer.get(ck(s));
    if (now && canonicalJSON([now.data ?? null, now.stringData ?? null]) !== canonicalJSON([s.data ?? null, s.stringData ?? null])) out.push(`Secret ${s.metadata.name} changed its data`);
  }

  // 3. no Job name changes; a new Job only as the retry of the Job this variant failed
  const steadyJobs = new Set(steady.children.filter((c) => c.kind === 'Job').map(ck));
  for (const j of steadyJobs) if (!answer.has(j)) out.push(`Job ${j} of the steady state is gone`);
  for (const c of res.children.filter((x) => x.kind === 'Job')) {
    if (steadyJobs.has(ck(c))) continue;
    const failedJob = v.p.kind === 'job-state' && v.p.state === 'failed' ? observedByKey.get(`Job/${v.p.key.split('/').pop()}`) : undefined;
    // Allowed: the install retry of a failed install Job (docs/decisions.md "Retries": `<parent>-retryN-<hash>`).
    const retry = !!failedJob && role(failedJob) === 'install' && role(c) === 'install' && /-retry\d+-/.test(c.metadata.name);
    if (!retry) out.push(`new Job ${c.metadata.name} (role ${role(c)})`);
  }

  // 4. the Platform does not claim all ready when it could not see something it reads
  if (kind === 'Platform' && platformReads(v.p, steady.status?.bootstrap !== undefined)) {
    const ready = ((res.status?.conditions ?? []) as { type: string; status: string; reason: string }[]).find((c) => c.type === 'Ready');
    if (ready?.status === 'True' && ready.reason === 'AllComponentsReady') out.push('Platform claims Ready=True/AllComponentsReady');
  }
  return out;
}

/** Keeps the run short: at most this many variants per steady request (deterministic stride, every kind kept). */
const MAX_VARIANTS_PER_REQUEST = Number(process.env.PERTURB_MAX ?? 400);

function sample(vs: Variant[]): Variant[] {
  if (vs.length <= MAX_VARIANTS_PER_REQUEST) return vs;
  const byKind = new Map<string, Variant[]>();
  for (const v of vs) byKind.set(v.p.kind, [...(byKind.get(v.p.kind) ?? []), v]);
  const per = Math.max(1, Math.floor(MAX_VARIANTS_PER_REQUEST / byKind.size));
  return [...byKind.values()].flatMap((list) => {
    if (list.length <= per) return list;
    const stride = list.length / per;
    return Array.from({ length: per }, (_, i) => list[Math.floor(i * stride)]);
  });
}

describe('perturbation of every steady state (issue 10)', () => {
  const steady = steadyRequests();

  it('covers every controller with hooks', async () => {
    const { controllers } = await import('../../src/controllers/registry.js');
    const kinds = controllers().filter((c) => c.hooks).map((c) => c.kind.kind).sort();
    expect([...new Set(steady.map((s) => s.kind))].sort()).toEqual(kinds);
  });

  it('never drops a child, changes a credential or a Job name, or claims readiness it cannot see', () => {
    const started = Date.now();
    const found: string[] = [];
    const kinds = new Set<string>();
    const perKind = new Map<string, number>();
    let count = 0;
    for (const s of steady as SteadyRequest[]) {
      const hooks = hooksOf(s.kind);
      kinds.add(s.kind);
      const base = finishSync(hooks.sync(structuredClone(s.req), steadyEnv(s.req.parent)));
      // replaying the recorded request gives the recorded answer (pure hooks, same keyed randomness)
      expect(canonicalJSON(base), `${s.world} ${s.key}: replay`).toBe(canonicalJSON(finishSync(s.res)));
      for (const v of sample(variants(s.req))) {
        const res = finishSync(hooks.sync(structuredClone(v.req), steadyEnv(v.req.parent)));
        count += 1;
        perKind.set(v.p.kind, (perKind.get(v.p.kind) ?? 0) + 1);
        for (const p of problems(s.kind, v, base, res)) found.push(`${s.world} ${s.key}: ${describeP(v.p)}: ${p}`);
      }
    }
    // eslint-disable-next-line no-console
    console.log(`perturbation: ${count} variants over ${kinds.size} controllers (${[...perKind].map(([k, n]) => `${k} ${n}`).join(', ')}) in ${Date.now() - started} ms`);
    for (const k of ['steady', 'remove-related', 'remove-status-field', 'remove-child', 'job-state']) expect(perKind.get(k), k).toBeGreaterThan(0);
    expect([...new Set(found)]).toEqual([]);
  }, 120_000);
});
