/**
 * Properties of every hook, over arbitrary parents valid under their kind's schema and arbitrary observed
 * children and related objects built from earlier answers:
 * - the hook never throws;
 * - the answer is deterministic: the same request twice gives byte-identical JSON;
 * - children stay in the parent's namespace, with names that are DNS-1123 labels of at most 63 characters;
 * - the status validates against the kind's status schema;
 * - no Secret value (decoded) of the request or the answer appears in the serialized status.
 */
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import type { ValidateFunction } from 'ajv';
import { newAjv } from '../../src/api/validate.js';
import { controllers, decorators } from '../../src/controllers/registry.js';
import type { ControllerDef, DecoratorDef } from '../../src/kit/hooks.js';
import type { DecoratorSyncRequest, KubeObject, ObjectMap, SyncRequest, SyncResponse } from '../../src/metacontroller/protocol.js';
import { groupKey } from '../../src/metacontroller/protocol.js';
import { finishSync, sortChildren } from '../../src/metacontroller/response.js';
import { testEnv } from '../support/requests.js';
import { admission, Choices, DNS_LABEL, DNS_SUBDOMAIN, choicesArb, nameArb, namespaceArb, observe, parentArb, relatedArb, secretValues, kindDef, type Stats } from './world.js';

/** Runs per hook; PROPERTY_RUNS raises it (e.g. 2000 for a long local run), PROPERTY_SEED changes the cases. */
const RUNS = Number(process.env.PROPERTY_RUNS ?? 150);
const SEED = Number(process.env.PROPERTY_SEED ?? 20261126);
/** ArgoCDProvider hashes a generated password with bcrypt (~50 ms) on most calls: fewer runs keep the suite short. */
const runsFor = (kind: string) => (kind === 'ArgoCDProvider' ? Math.max(10, Math.round(RUNS / 3)) : RUNS);
const ajv = newAjv();
const statusValidators = new Map<string, ValidateFunction>();
const stats = new Map<string, Stats>();

afterAll(() => {
  const lines = [...stats.entries()].map(([k, s]) => `${k}: ${s.generated - s.invalid}/${s.generated} generated parents valid`);
  // eslint-disable-next-line no-console
  console.info(`property runs per hook: ${RUNS} (seed ${SEED})\n${lines.join('\n')}`);
});

function statusValidator(kind: string): ValidateFunction {
  let v = statusValidators.get(kind);
  if (!v) {
    v = ajv.compile(kindDef(kind).status!);
    statusValidators.set(kind, v);
  }
  return v;
}

function deterministic<T>(run: () => T, normalise: (x: T) => unknown): string {
  const a = JSON.stringify(normalise(run()));
  const b = JSON.stringify(normalise(run()));
  expect(b, 'same request, same answer').toBe(a);
  return a;
}

/**
 * Child names are DNS-1123 labels of at most 63 characters. One allowance: a parent whose own name has
 * dots (names of custom resources are DNS-1123 subdomains) may pass them on to the children named after
 * it; those names must still be subdomains of at most 63 characters, which Kubernetes accepts for every
 * kind the hooks create. Services and Jobs must be labels whatever the parent's name.
 */
function checkChildren(children: KubeObject[], ns: string, parentName: string, what: string) {
  const dotted = parentName.includes('.');
  for (const c of children) {
    const name = c.metadata?.name;
    expect(c.metadata.namespace ?? ns, `${what}: ${c.kind}/${name} namespace`).toBe(ns);
    const strict = !dotted || c.kind === 'Service' || c.kind === 'Job';
    const ok = typeof name === 'string' && name.length <= 63 && (DNS_LABEL.test(name) || (!strict && DNS_SUBDOMAIN.test(name)));
    expect(ok, `${what}: ${c.kind} name ${JSON.stringify(name)} is not a DNS-1123 label of at most 63 characters`).toBe(true);
  }
}

function checkSync(def: ControllerDef, req: SyncRequest, res: SyncResponse, what: string) {
  const ns = req.parent.metadata.namespace!;
  checkChildren(res.children, ns, req.parent.metadata.name, what);
  const v = statusValidator(def.kind.kind);
  const status = { ...res.status };
  expect(v(status), `${what}: status ${JSON.stringify(v.errors?.slice(0, 2))}`).toBe(true);
  const text = JSON.stringify(res.status);
  for (const s of secretValues(req.children, req.related, res.children)) expect(text.includes(s), `${what}: a Secret value is in the status`).toBe(false);
}

const withHooks = controllers().filter((c) => c.hooks);

describe.each(withHooks.map((c) => [c.kind.kind, c] as const))('%s hooks', (kind, def) => {
  const s: Stats = { generated: 0, invalid: 0 };
  stats.set(kind, s);
  const hooks = def.hooks!;

  it('never throw, answer deterministically, keep children in the namespace with valid names, and a valid status without secrets', () => {
    const scenario = parentArb(def.kind, s)
      .filter((p): p is KubeObject => !!p)
      .chain((parent) => {
        const rules = hooks.customize?.({ parent }, testEnv()).relatedResources ?? [];
        return fc.tuple(fc.constant(parent), relatedArb(rules, parent.metadata.namespace!), choicesArb, fc.boolean());
      });
    fc.assert(
      fc.property(scenario, ([parent, related, picks, keepStatus]) => {
        const c = new Choices(picks);
        const empty: ObjectMap = {};
        for (const d of def.children) empty[groupKey(d.kind, d.apiVersion)] = {};
        const req1: SyncRequest = { controller: {}, parent, children: empty, related, finalizing: false };
        const json1 = deterministic(() => finishSync(hooks.sync(structuredClone(req1), testEnv())), (x) => x);
        const res1 = JSON.parse(json1) as SyncResponse;
        checkSync(def, req1, res1, 'first sync');

        // second call: the children observed in some state, the status written back
        const { children, pods } = observe(res1.children, def.children, parent.metadata.namespace!, c);
        const rel2 = structuredClone(related);
        for (const p of pods) (rel2['Pod.v1'] ??= {})[`${p.metadata.namespace}/${p.metadata.name}`] = p;
        // the status Metacontroller wrote (or, sometimes, an older one it still shows)
        const status2 = keepStatus && parent.status !== undefined ? parent.status : { ...res1.status, observedGeneration: parent.metadata.generation };
        const parent2 = { ...parent, status: status2 } as KubeObject;
        const req2: SyncRequest = { controller: {}, parent: parent2, children, related: rel2, finalizing: false };
        const res2 = JSON.parse(deterministic(() => finishSync(hooks.sync(structuredClone(req2), testEnv())), (x) => x)) as SyncResponse;
        checkSync(def, req2, res2, 'second sync');

        if (hooks.finalize) {
          const req3: SyncRequest = { ...req2, parent: { ...parent2, metadata: { ...parent2.metadata, deletionTimestamp: '2026-01-02T00:00:00Z' } } as KubeObject, finalizing: true };
          const res3 = JSON.parse(deterministic(() => finishSync(hooks.finalize!(structuredClone(req3), testEnv())), (x) => x)) as SyncResponse;
          checkSync(def, req3, res3, 'finalize');
        }
      }),
      { numRuns: runsFor(kind), seed: SEED },
    );
    expect(s.generated - s.invalid).toBeGreaterThanOrEqual(runsFor(kind));
    // bcrypt (ArgoCDProvider) makes some kinds slow on a loaded 2-core machine: a limit, not a measurement
  }, 180_000);
});

/** The object a decorator decorates: a Package, or a Service carrying the expose annotation. */
function decoratedArb(d: DecoratorDef, s: Stats): fc.Arbitrary<KubeObject | undefined> {
  const r = d.resources[0];
  if (r.apiVersion.startsWith('idpbuilder.cnoe.io/')) return parentArb(kindDef(r.kind), s);
  return fc
    .record({
      name: nameArb.filter((n) => !n.includes('.')),
      namespace: namespaceArb,
      gateway: fc.constantFrom('nginx', 'idpbuilder-system/nginx', 'team-a/envoy', '', 'x/y/z'),
      host: fc.option(fc.constantFrom('app.example.com', 'a.b'), { nil: undefined }),
      port: fc.option(fc.constantFrom('8080', 'http', '99999'), { nil: undefined }),
      ports: fc.array(fc.record({ port: fc.integer({ min: 1, max: 65535 }), name: fc.constantFrom('http', 'web') }), { maxLength: 2 }),
    })
    .map(({ name, namespace, gateway, host, port, ports }) => {
      s.generated += 1;
      const annotations: Record<string, string> = { 'idpbuilder.cnoe.io/expose': gateway };
      if (host) annotations['idpbuilder.cnoe.io/expose-host'] = host;
      if (port) annotations['idpbuilder.cnoe.io/expose-port'] = port;
      return { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace, uid: `uid-${name.slice(0, 10)}`, annotations }, spec: { ports } } as KubeObject;
    });
}

/** Attachments as observed: engines report some state. */
function observeAttachments(attachments: KubeObject[], d: DecoratorDef, ns: string, c: Choices): ObjectMap {
  const map: ObjectMap = {};
  for (const a of d.attachments) map[groupKey(a.kind, a.apiVersion)] = {};
  for (const a of attachments) {
    if (c.pick(8) === 0) continue;
    const o = structuredClone(a) as KubeObject & { status?: unknown };
    o.metadata = { ...o.metadata, namespace: o.metadata.namespace ?? ns, uid: 'uid-att' };
    if (o.kind === 'Application') o.status = [{}, { sync: { status: 'Synced' }, health: { status: 'Healthy' } }, { sync: { status: 'OutOfSync' }, health: { status: 'Degraded' } }][c.pick(3)];
    if (o.kind === 'Kustomization' || (o.kind === 'GitRepository' && o.apiVersion.startsWith('source.'))) {
      o.status = [{}, { conditions: [{ type: 'Ready', status: 'True', reason: 'ReconciliationSucceeded' }] }, { conditions: [{ type: 'Ready', status: 'False', reason: 'BuildFailed', message: 'kustomize build failed' }] }][c.pick(3)];
    }
    (map[groupKey(o.kind, o.apiVersion)] ??= {})[`${o.metadata.namespace}/${o.metadata.name}`] = o;
  }
  return map;
}

function normaliseDecorator(res: ReturnType<DecoratorDef['hooks']['sync']>) {
  return { ...res, attachments: sortChildren(res.attachments ?? []) };
}

function checkDecorator(res: ReturnType<DecoratorDef['hooks']['sync']>, ns: string, objectName: string, what: string) {
  checkChildren(res.attachments ?? [], ns, objectName, what);
  for (const m of [res.labels, res.annotations]) for (const v of Object.values(m ?? {})) expect(v === null || typeof v === 'string', `${what}: label/annotation value`).toBe(true);
  expect(res.status === undefined || res.status === null || typeof res.status === 'object').toBe(true);
}

describe.each(decorators().map((d) => [d.name, d] as const))('decorator %s', (name, d) => {
  const s: Stats = { generated: 0, invalid: 0 };
  stats.set(`decorator ${name}`, s);

  it('never throws, answers deterministically and attaches valid objects in the object\'s namespace', () => {
    const scenario = decoratedArb(d, s)
      .filter((o): o is KubeObject => !!o)
      .chain((object) => {
        const rules = d.hooks.customize?.({ parent: object }, testEnv()).relatedResources ?? [];
        return fc.tuple(fc.constant(object), relatedArb(rules, object.metadata.namespace!), choicesArb);
      });
    fc.assert(
      fc.property(scenario, ([object, related, picks]) => {
        const c = new Choices(picks);
        const ns = object.metadata.namespace!;
        const empty: ObjectMap = {};
        for (const a of d.attachments) empty[groupKey(a.kind, a.apiVersion)] = {};
        const req1: DecoratorSyncRequest = { controller: {}, object, attachments: empty, related, finalizing: false };
        const res1 = JSON.parse(deterministic(() => d.hooks.sync(structuredClone(req1), testEnv()), normaliseDecorator)) as ReturnType<DecoratorDef['hooks']['sync']>;
        checkDecorator(res1, ns, object.metadata.name, 'first sync');
        const req2: DecoratorSyncRequest = { ...req1, attachments: observeAttachments(res1.attachments ?? [], d, ns, c) };
        const res2 = JSON.parse(deterministic(() => d.hooks.sync(structuredClone(req2), testEnv()), normaliseDecorator)) as ReturnType<DecoratorDef['hooks']['sync']>;
        checkDecorator(res2, ns, object.metadata.name, 'second sync');
        if (d.hooks.finalize) {
          const res3 = JSON.parse(deterministic(() => d.hooks.finalize!(structuredClone({ ...req2, finalizing: true }), testEnv()), normaliseDecorator)) as ReturnType<DecoratorDef['hooks']['sync']>;
          checkDecorator(res3, ns, object.metadata.name, 'finalize');
        }
      }),
      { numRuns: RUNS, seed: SEED },
    );
  });
});

describe('fixed bugs stay fixed', () => {
  it('a credential key named like an Object.prototype member ("valueOf") does not make the GiteaProvider hook throw', () => {
    const def = controllers().find((c) => c.kind.kind === 'GiteaProvider')!;
    const parent = {
      apiVersion: 'idpbuilder.cnoe.io/v1alpha2',
      kind: 'GiteaProvider',
      metadata: { name: 'gitea', namespace: 'idpbuilder-system', uid: 'u', generation: 1 },
      spec: { adminUser: { autoGenerate: false, passwordSecretRef: { name: 'admin', key: 'valueOf' } } },
    } as KubeObject;
    // valid under the schema: the key pattern allows it
    expect(parentArbAdmission(parent)).toBe('valid');
    expect(() => def.hooks!.sync({ parent, children: {}, related: { 'Secret.v1': {} } }, testEnv())).not.toThrow();
  });
});

function parentArbAdmission(o: KubeObject): string {
  return admission.admit(o).outcome;
}
