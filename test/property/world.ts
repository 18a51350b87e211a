/**
 * Arbitrary Metacontroller requests for the property tests: a parent valid under its kind's schema, the
 * related objects its customize hook asks for (with arbitrary statuses, often Ready), and — for the second
 * call — the children the first call answered, observed in some state (Jobs running, succeeded or failed,
 * some children missing), with the first answer's status on the parent, as Metacontroller would send.
 */
import fc from 'fast-check';
import { API_VERSION } from '../../src/api/common.js';
import { KIND_BY_NAME, KIND_BY_PLURAL, type KindDef } from '../../src/api/kinds.js';
import { Admission } from '../../src/api/validate.js';
import type { ChildResource } from '../../src/kit/hooks.js';
import type { KubeObject, ObjectMap, RelatedResourceRule } from '../../src/metacontroller/protocol.js';
import { groupKey, objectKey } from '../../src/metacontroller/protocol.js';
import { arbitraryOf } from './schema-arbitrary.js';

export const admission = new Admission();

const SAMPLES: Record<string, string[]> = {
  '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$': ['gitea', 'argocd', 'a', 'x'.repeat(63)],
};

/** Object names: mostly DNS labels (short and up to 63), sometimes dotted subdomains up to 253. */
export const nameArb = fc.oneof(
  { arbitrary: fc.constantFrom('gitea', 'nginx', 'argocd', 'localdev', 'app', 'my-platform'), weight: 3 },
  { arbitrary: fc.stringMatching(/^[a-z0-9]([-a-z0-9]{0,20}[a-z0-9])?$/), weight: 3 },
  { arbitrary: fc.stringMatching(/^[a-z0-9][-a-z0-9]{40,61}[a-z0-9]$/), weight: 1 },
  { arbitrary: fc.constantFrom(`a${'-b'.repeat(31)}`, 'x'.repeat(63), 'platform.team-a.example', `${'y'.repeat(63)}.${'z'.repeat(63)}`), weight: 1 },
);
export const namespaceArb = fc.constantFrom('idpbuilder-system', 'team-a', 'x', 'n'.repeat(63));

export interface Stats {
  generated: number;
  invalid: number;
}

/** A parent of `def`'s kind; undefined (counted) when admission rejects what the schema generator made. */
export function parentArb(def: KindDef, stats: Stats): fc.Arbitrary<KubeObject | undefined> {
  return fc
    .record({
      apiVersion: fc.constantFrom('idpbuilder.cnoe.io/v1alpha1', 'idpbuilder.cnoe.io/v1alpha2'),
      name: nameArb,
      namespace: namespaceArb,
      generation: fc.integer({ min: 1, max: 4 }),
      spec: arbitraryOf(def.spec, { samples: SAMPLES }),
      status: fc.option(arbitraryOf(def.status!, { samples: SAMPLES }), { nil: undefined, freq: 3 }),
    })
    .map(({ apiVersion, name, namespace, generation, spec, status }) => {
      const o = { apiVersion, kind: def.kind, metadata: { name, namespace, uid: `uid-${name.slice(0, 20)}`, generation }, spec } as KubeObject;
      if (status !== undefined) (o as { status?: unknown }).status = status;
      stats.generated += 1;
      const r = admission.admit(o);
      if (r.outcome !== 'valid') {
        stats.invalid += 1;
        return undefined;
      }
      return o;
    });
}

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');

/** A status of `def` that is Ready for `generation` (the duck fields filled when the kind has them). */
function readyStatus(def: KindDef, generation: number): fc.Arbitrary<Record<string, unknown>> {
  return arbitraryOf(def.status!, { samples: SAMPLES }).map((s) => {
    const out = { ...(s as Record<string, unknown>) };
    out.observedGeneration = generation;
    out.phase = def.kind === 'Package' ? 'Synced' : def.kind === 'GitRepository' ? 'Ready' : 'Ready';
    out.conditions = [{ type: 'Ready', status: 'True', reason: 'Ready', message: 'ok', lastTransitionTime: '2026-01-01T00:00:00Z' }];
    if (def.duck === 'git' || def.duck === 'gitops') {
      out.endpoint = 'https://git.cnoe.localtest.me';
      out.internalEndpoint = 'http://git.git.svc.cluster.local:3000';
      out.credentialsSecretRef = { name: 'creds', namespace: 'idpbuilder-system', key: 'token' };
    }
    if (def.duck === 'gateway') {
      out.ingressClassName = 'nginx';
      out.internalEndpoint = 'http://ingress-nginx-controller.ingress-nginx.svc';
    }
    if (def.kind === 'GitRepository') out.cloneURL = 'http://git.git.svc.cluster.local:3000/idpbuilder/repo.git';
    return out;
  });
}

function ourObject(def: KindDef, namespace: string, name: string): fc.Arbitrary<KubeObject> {
  return fc
    .record({
      generation: fc.integer({ min: 1, max: 3 }),
      spec: arbitraryOf(def.spec, { samples: SAMPLES, optionalOdds: 3 }),
      ready: fc.boolean(),
      raw: arbitraryOf(def.status!, { samples: SAMPLES }),
    })
    .chain(({ generation, spec, ready, raw }) =>
      (ready ? readyStatus(def, generation) : fc.constant(raw as Record<string, unknown>)).map(
        (status) => ({ apiVersion: API_VERSION, kind: def.kind, metadata: { name, namespace, uid: `uid-r-${name.slice(0, 12)}`, generation }, spec, status }) as KubeObject,
      ),
    );
}

const CORE: Record<string, { apiVersion: string; kind: string }> = {
  secrets: { apiVersion: 'v1', kind: 'Secret' },
  configmaps: { apiVersion: 'v1', kind: 'ConfigMap' },
  services: { apiVersion: 'v1', kind: 'Service' },
  pods: { apiVersion: 'v1', kind: 'Pod' },
  deployments: { apiVersion: 'apps/v1', kind: 'Deployment' },
  statefulsets: { apiVersion: 'apps/v1', kind: 'StatefulSet' },
  daemonsets: { apiVersion: 'apps/v1', kind: 'DaemonSet' },
  jobs: { apiVersion: 'batch/v1', kind: 'Job' },
};

function coreObject(kind: string, apiVersion: string, namespace: string, name: string, labels?: Record<string, string>): fc.Arbitrary<KubeObject> {
  const metadata = { name, namespace, uid: `uid-c-${name.slice(0, 12)}`, generation: 1, ...(labels ? { labels } : {}) };
  switch (kind) {
    case 'Secret':
      return fc
        .record({ password: fc.string({ minLength: 12, maxLength: 40 }), token: fc.stringMatching(/^[0-9a-f]{20,40}$/) })
        .map(({ password, token }) => ({ apiVersion, kind, metadata, type: 'Opaque', data: { password: b64(`pw-${password}`), token: b64(`tk-${token}`), username: b64('admin') } }) as KubeObject);
    case 'ConfigMap':
      return fc
        .array(
          fc.record({
            name: fc.constantFrom('gitea', 'argocd', 'ingress-nginx', 'istiod'),
            namespace: fc.constantFrom('gitea', 'argocd'),
            repository: fc.constantFrom('https://charts.example.com', 'oci://ghcr.io/x/charts'),
            chart: fc.constantFrom('gitea', 'argo-cd'),
            version: fc.option(fc.constantFrom('1.2.3', '7.0.0'), { nil: undefined }),
            values: arbitraryOf({ type: 'object', 'x-kubernetes-preserve-unknown-fields': true }),
          }),
          { maxLength: 2 },
        )
        .map((releases) => ({ apiVersion, kind, metadata, data: { 'releases.json': JSON.stringify(releases), 'values-0.yaml': 'a: 1\n' } }) as KubeObject);
    case 'Service':
      return fc
        .record({ port: fc.integer({ min: 1, max: 65535 }), ip: fc.option(fc.constantFrom('10.0.0.1', '172.18.0.2'), { nil: undefined }) })
        .map(({ port, ip }) => ({ apiVersion, kind, metadata, spec: { type: 'LoadBalancer', ports: [{ port, name: 'http' }] }, status: ip ? { loadBalancer: { ingress: [{ ip }] } } : {} }) as KubeObject);
    case 'Deployment':
    case 'StatefulSet':
    case 'DaemonSet':
      return fc
        .record({ replicas: fc.integer({ min: 0, max: 3 }), ready: fc.integer({ min: 0, max: 3 }), gen: fc.integer({ min: 0, max: 2 }) })
        .map(({ replicas, ready, gen }) => ({ apiVersion, kind, metadata, spec: { replicas }, status: { replicas, readyReplicas: ready, availableReplicas: ready, observedGeneration: gen, numberReady: ready, desiredNumberScheduled: replicas } }) as KubeObject);
    default:
      return fc.constant({ apiVersion, kind, metadata } as KubeObject);
  }
}

/** The related objects for customize's rules: names asked for are there or not; selections have 0-3 objects. */
export function relatedArb(rules: RelatedResourceRule[], parentNs: string): fc.Arbitrary<ObjectMap> {
  const parts: fc.Arbitrary<[string, KubeObject[]]>[] = [];
  for (const rule of rules) {
    const ours = rule.apiVersion.startsWith('idpbuilder.cnoe.io/') ? KIND_BY_PLURAL.get(rule.resource) : undefined;
    const core = CORE[rule.resource];
    const kind = ours?.kind ?? core?.kind;
    if (!kind) continue;
    if (rule.resource === 'pods') continue; // made from the Jobs, in the second call
    const gk = groupKey(kind, rule.apiVersion);
    const ns = rule.namespace ?? parentNs;
    const one = (name: string) => (ours ? ourObject(ours, ns, name) : coreObject(kind, rule.apiVersion, ns, name, rule.labelSelector?.matchLabels));
    const objects = rule.names?.length
      ? fc.tuple(...rule.names.map((n) => fc.option(one(n), { nil: undefined, freq: 4 }))).map((xs) => xs.filter((x): x is KubeObject => !!x))
      : fc.array(fc.constantFrom('one', 'two', 'app-000', 'gitea', 'argocd').chain((n) => one(n)), { maxLength: 3 });
    parts.push(objects.map((xs) => [gk, xs] as [string, KubeObject[]]));
  }
  // every rule's group is present, even when empty, as Metacontroller sends it
  const empty: ObjectMap = {};
  for (const rule of rules) {
    const kind = (rule.apiVersion.startsWith('idpbuilder.cnoe.io/') ? KIND_BY_PLURAL.get(rule.resource)?.kind : undefined) ?? CORE[rule.resource]?.kind;
    if (kind) empty[groupKey(kind, rule.apiVersion)] = {};
  }
  if (parts.length === 0) return fc.constant(empty);
  return fc.tuple(...parts).map((groups) => {
    const map: ObjectMap = structuredClone(empty);
    for (const [gk, xs] of groups) for (const o of xs) (map[gk] ??= {})[objectKey(o.metadata.namespace, o.metadata.name)] = o;
    return map;
  });
}

/** Deterministic choices from a list of numbers (shrinkable by fast-check). */
export class Choices {
  private i = 0;
  constructor(private readonly xs: number[]) {}
  pick(n: number): number {
    const v = this.xs.length ? this.xs[this.i++ % this.xs.length] : 0;
    return v % n;
  }
}
export const choicesArb = fc.array(fc.nat({ max: 1000 }), { minLength: 8, maxLength: 48 });

/** The previous answer's children as Metacontroller would observe them: some missing, Jobs in some state. */
export function observe(children: KubeObject[], declared: ChildResource[], parentNs: string, c: Choices): { children: ObjectMap; pods: KubeObject[] } {
  const map: ObjectMap = {};
  for (const d of declared) map[groupKey(d.kind, d.apiVersion)] = {};
  const pods: KubeObject[] = [];
  children.forEach((child, i) => {
    if (c.pick(10) === 0) return; // not created (yet)
    const o = structuredClone(child) as KubeObject & { status?: unknown };
    o.metadata = { ...o.metadata, namespace: o.metadata.namespace ?? parentNs, uid: `uid-child-${i}`, resourceVersion: String(100 + i) };
    if (o.kind === 'Job') {
      const state = c.pick(4);
      if (state === 1) o.status = { active: 1, startTime: '2026-01-01T00:00:00Z' };
      if (state === 2) {
        o.status = { succeeded: 1, startTime: '2026-01-01T00:00:00Z', completionTime: '2026-01-01T00:02:00Z', conditions: [{ type: 'Complete', status: 'True' }] };
        if (c.pick(2) === 0) o.metadata.annotations = { ...(o.metadata.annotations ?? {}), 'idpbuilder.cnoe.io/result': JSON.stringify({ commitSHA: 'a'.repeat(40), syncedAt: '2026-01-01T00:02:00Z', url: 'https://git.example/org/repo.git' }) };
      }
      if (state === 3) {
        o.status = { failed: 3, startTime: '2026-01-01T00:00:00Z', conditions: [{ type: 'Failed', status: 'True', reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' }] };
        pods.push({
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: { name: `${o.metadata.name.slice(0, 50)}-x1`, namespace: o.metadata.namespace, labels: { 'batch.kubernetes.io/job-name': o.metadata.name, ...(o.metadata.labels ?? {}) } },
          status: { phase: 'Failed', containerStatuses: [{ name: 'main', state: { terminated: { exitCode: 1, message: 'Error: helm failed\nline two' } } }] },
        } as KubeObject);
      }
    }
    (map[groupKey(o.kind, o.apiVersion)] ??= {})[objectKey(o.metadata.namespace, o.metadata.name)] = o;
  });
  return { children: map, pods };
}

/** Every decoded Secret value (but user names) the request and the answer carry. */
export function secretValues(...maps: (ObjectMap | KubeObject[] | undefined)[]): string[] {
  const out = new Set<string>();
  const add = (o: KubeObject) => {
    if (o.kind !== 'Secret') return;
    for (const [k, v] of Object.entries((o.data ?? {}) as Record<string, string>)) {
      if (/^user(name)?$/i.test(k) || typeof v !== 'string') continue;
      const plain = Buffer.from(v, 'base64').toString('utf8');
      if (plain.length >= 6) out.add(plain);
      if (v.length >= 8) out.add(v);
    }
    for (const [k, v] of Object.entries(((o as { stringData?: Record<string, string> }).stringData ?? {}) as Record<string, string>)) {
      if (!/^user(name)?$/i.test(k) && typeof v === 'string' && v.length >= 6) out.add(v);
    }
  };
  for (const m of maps) {
    if (!m) continue;
    if (Array.isArray(m)) m.forEach(add);
    else for (const g of Object.values(m)) for (const o of Object.values(g ?? {})) add(o);
  }
  return [...out];
}

export const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
export const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export function kindDef(kind: string): KindDef {
  return KIND_BY_NAME.get(kind)!;
}
