/**
 * A second look at the observed objects of a request whose hook threw. The envelope and the parent are
 * validated before every call; observed children and related objects are not (that would cost more than
 * the hook itself on a large request, and the API server has already validated them). So when a hook
 * fails, the server checks here whether an observed object has a shape no API server would send — a
 * wrong type in a field the hooks read. If so, the request is malformed (400, naming the field); if not,
 * the failure is ours (500).
 */
import type { ValidateFunction } from 'ajv';
import { Admission, newAjv, pointerPath } from '../api/validate.js';
import { KIND_BY_NAME, isOurApiVersion } from '../api/kinds.js';
import type { KubeObject, ObjectMap } from '../metacontroller/protocol.js';

const str = { type: 'string' };
const int = { type: 'integer' };
const strMap = { type: 'object', additionalProperties: str };
const condition = {
  type: 'object',
  properties: { type: str, status: str, reason: str, message: str, lastTransitionTime: str, lastUpdateTime: str, observedGeneration: int },
};
const conditions = { type: 'array', items: condition };
const meta = {
  type: 'object',
  properties: {
    name: str,
    namespace: str,
    uid: str,
    generation: int,
    labels: strMap,
    annotations: strMap,
    finalizers: { type: 'array', items: str },
    deletionTimestamp: str,
  },
};
const object = (props: Record<string, unknown>) => ({ type: 'object', properties: { apiVersion: str, kind: str, metadata: meta, ...props } });

/** The fields of the core and third-party objects the hooks read, with the types the API server guarantees. */
const SHAPES: Record<string, unknown> = {
  Job: object({
    spec: { type: 'object' },
    status: {
      type: 'object',
      properties: { conditions, startTime: str, completionTime: str, succeeded: int, failed: int, active: int, ready: int },
    },
  }),
  Pod: object({
    status: {
      type: 'object',
      properties: {
        phase: str,
        conditions,
        containerStatuses: {
          type: 'array',
          items: {
            type: 'object',
            properties: {
              name: str,
              ready: { type: 'boolean' },
              restartCount: int,
              state: {
                type: 'object',
                properties: { terminated: { type: 'object', properties: { exitCode: int, message: str, reason: str } }, waiting: { type: 'object', properties: { reason: str, message: str } } },
              },
            },
          },
        },
      },
    },
  }),
  Secret: object({ data: strMap, stringData: strMap, type: str }),
  ConfigMap: object({ data: strMap, binaryData: strMap }),
  Service: object({ spec: { type: 'object', properties: { type: str, clusterIP: str, ports: { type: 'array', items: { type: 'object' } } } }, status: { type: 'object' } }),
  Deployment: object({ status: { type: 'object', properties: { replicas: int, readyReplicas: int, availableReplicas: int, updatedReplicas: int, observedGeneration: int, conditions } } }),
  StatefulSet: object({ status: { type: 'object', properties: { replicas: int, readyReplicas: int, availableReplicas: int, observedGeneration: int, conditions } } }),
  DaemonSet: object({ status: { type: 'object', properties: { desiredNumberScheduled: int, numberReady: int, numberAvailable: int, observedGeneration: int, conditions } } }),
  Application: object({
    status: {
      type: 'object',
      properties: {
        sync: { type: 'object', properties: { status: str, revision: str } },
        health: { type: 'object', properties: { status: str, message: str } },
        conditions: { type: 'array', items: { type: 'object', properties: { type: str, message: str } } },
        operationState: { type: 'object', properties: { phase: str, message: str } },
      },
    },
  }),
  Kustomization: object({ status: { type: 'object', properties: { conditions, lastAppliedRevision: str } } }),
  GitRepository: object({ status: { type: 'object', properties: { conditions, artifact: { type: 'object' } } } }),
  Ingress: object({ status: { type: 'object' } }),
  HTTPRoute: object({ status: { type: 'object' } }),
  Gateway: object({ status: { type: 'object', properties: { conditions, addresses: { type: 'array', items: { type: 'object', properties: { type: str, value: str } } } } } }),
};

/**
 * A malformed observed object: the path of the field (e.g. `.children["Secret.v1"]["ns/x"].data`) and what is wrong.
 */
export interface ObservedProblem {
  path: string;
  message: string;
}

/**
 * The second look at a failed hook's observed children and related objects (see the module comment): `check` returns
 * the first field with a shape no API server would send, or `undefined` (then the failure is the hook's own, 500).
 */
export class ObservedCheck {
  private readonly ajv = newAjv();
  private readonly compiled = new Map<string, ValidateFunction>();
  private readonly admission = new Admission();

  private validator(kind: string): ValidateFunction | undefined {
    const shape = SHAPES[kind];
    if (!shape) return undefined;
    let v = this.compiled.get(kind);
    if (!v) {
      v = this.ajv.compile(shape as object);
      this.compiled.set(kind, v);
    }
    return v;
  }

  /** The first observed object (of `maps`, by field name) whose shape is impossible, or undefined. */
  check(maps: Record<string, ObjectMap | undefined>): ObservedProblem | undefined {
    for (const [field, map] of Object.entries(maps)) {
      if (!map) continue;
      for (const [group, objects] of Object.entries(map)) {
        for (const [key, o] of Object.entries(objects ?? {})) {
          const at = `body.${field}[${JSON.stringify(group)}][${JSON.stringify(key)}]`;
          const p = this.checkObject(o);
          if (p) return { path: `${at}${p.path}`, message: p.message };
        }
      }
    }
    return undefined;
  }

  private checkObject(o: KubeObject): ObservedProblem | undefined {
    if (KIND_BY_NAME.has(o.kind) && isOurApiVersion(o.apiVersion)) {
      const r = this.admission.admit(o);
      if (r.outcome === 'invalid') {
        const p = r.problems[0];
        return { path: p.path === '.' ? '' : p.path, message: p.message };
      }
      return contract(o);
    }
    const v = this.validator(o.kind);
    if (v && !v(o)) {
      const e = v.errors?.[0];
      return { path: pointerPath(e?.instancePath ?? ''), message: e?.message ?? 'invalid' };
    }
    return contract(o);
  }
}

function isURL(s: string): boolean {
  try {
    new URL(s);
    return true;
  } catch {
    return false;
  }
}

/**
 * Contracts between our objects that the schemas state only as "a string": the duck-typed endpoints are
 * absolute URLs, and an install ConfigMap's releases.json is a JSON array (the Platform reads it).
 */
function contract(o: KubeObject): ObservedProblem | undefined {
  const def = KIND_BY_NAME.get(o.kind);
  if (def?.duck && isOurApiVersion(o.apiVersion)) {
    const st = (o.status ?? {}) as Record<string, unknown>;
    for (const f of ['endpoint', 'internalEndpoint']) {
      const v = st[f];
      if (typeof v === 'string' && v !== '' && !isURL(v)) return { path: `.status.${f}`, message: 'must be an absolute URL' };
    }
  }
  if (o.kind === 'ConfigMap') {
    const raw = (o.data as Record<string, unknown> | undefined)?.['releases.json'];
    if (typeof raw === 'string') {
      let ok = false;
      try {
        ok = Array.isArray(JSON.parse(raw));
      } catch {
        ok = false;
      }
      if (!ok) return { path: '.data["releases.json"]', message: 'must be a JSON array of releases' };
    }
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------------
// The quick check, before every hook.

const isObj = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** RFC 3339 date-time as the API server writes a metav1.Time (`2006-01-02T15:04:05Z`, fraction and offset allowed). */
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})$/i;

/** A timestamp field that is set (not null: an unset metav1.Time is serialized as null) but is not an RFC 3339 time (the hooks compute retry times from them). */
function timeProblem(o: Record<string, unknown>, fields: readonly string[], at: string): ObservedProblem | undefined {
  for (const f of fields) {
    const v = o[f];
    if (v !== undefined && v !== null && !(typeof v === 'string' && RFC3339.test(v) && Number.isFinite(Date.parse(v)))) return { path: `${at}.${f}`, message: 'must be an RFC 3339 date-time' };
  }
  return undefined;
}

function conditionsProblem(v: unknown, at: string): ObservedProblem | undefined {
  if (v === undefined) return undefined;
  if (!Array.isArray(v)) return { path: at, message: 'must be array' };
  for (let i = 0; i < v.length; i++) {
    const c = v[i];
    if (!isObj(c)) return { path: `${at}[${i}]`, message: 'must be object' };
    for (const f of ['type', 'status', 'reason', 'message'] as const) if (c[f] !== undefined && typeof c[f] !== 'string') return { path: `${at}[${i}].${f}`, message: 'must be string' };
    const t = timeProblem(c, ['lastTransitionTime', 'lastProbeTime'], `${at}[${i}]`);
    if (t) return t;
  }
  return undefined;
}

function intProblem(o: Record<string, unknown>, fields: readonly string[], at: string): ObservedProblem | undefined {
  for (const f of fields) if (o[f] !== undefined && !Number.isSafeInteger(o[f])) return { path: `${at}.${f}`, message: 'must be integer' };
  return undefined;
}

/** The fields the hooks read of one observed object, with the types the API server guarantees. */
function quickObject(o: unknown): ObservedProblem | undefined {
  if (!isObj(o)) return { path: '', message: 'must be object' };
  const meta = o.metadata;
  if (!isObj(meta)) return { path: '.metadata', message: 'must be object' };
  if (meta.generation !== undefined && !Number.isSafeInteger(meta.generation)) return { path: '.metadata.generation', message: 'must be integer' };
  for (const f of ['labels', 'annotations'] as const) {
    const m = meta[f];
    if (m === undefined) continue;
    if (!isObj(m)) return { path: `.metadata.${f}`, message: 'must be object' };
    for (const [k, v] of Object.entries(m)) if (typeof v !== 'string') return { path: `.metadata.${f}[${JSON.stringify(k)}]`, message: 'must be string' };
  }
  const st = o.status;
  switch (o.kind) {
    case 'Job': {
      if (st === undefined) return undefined;
      if (!isObj(st)) return { path: '.status', message: 'must be object' };
      return conditionsProblem(st.conditions, '.status.conditions') ?? intProblem(st, ['succeeded', 'failed', 'active', 'ready'], '.status') ?? timeProblem(st, ['startTime', 'completionTime'], '.status');
    }
    case 'Pod': {
      if (st === undefined) return undefined;
      if (!isObj(st)) return { path: '.status', message: 'must be object' };
      if (st.phase !== undefined && typeof st.phase !== 'string') return { path: '.status.phase', message: 'must be string' };
      const cs = st.containerStatuses;
      if (cs === undefined) return conditionsProblem(st.conditions, '.status.conditions');
      if (!Array.isArray(cs)) return { path: '.status.containerStatuses', message: 'must be array' };
      for (let i = 0; i < cs.length; i++) {
        const at = `.status.containerStatuses[${i}]`;
        const c = cs[i];
        if (!isObj(c)) return { path: at, message: 'must be object' };
        if (c.state === undefined) continue;
        if (!isObj(c.state)) return { path: `${at}.state`, message: 'must be object' };
        const t = c.state.terminated;
        if (t === undefined) continue;
        if (!isObj(t)) return { path: `${at}.state.terminated`, message: 'must be object' };
        const p = intProblem(t, ['exitCode'], `${at}.state.terminated`);
        if (p) return p;
        if (t.message !== undefined && typeof t.message !== 'string') return { path: `${at}.state.terminated.message`, message: 'must be string' };
      }
      return conditionsProblem(st.conditions, '.status.conditions');
    }
    case 'Secret': {
      const data = o.data;
      if (data === undefined) return undefined;
      if (!isObj(data)) return { path: '.data', message: 'must be object' };
      for (const [k, v] of Object.entries(data)) {
        if (typeof v !== 'string' || !BASE64.test(v)) return { path: `.data[${JSON.stringify(k)}]`, message: 'must be base64' };
      }
      return undefined;
    }
    default:
      if (st !== undefined && st !== null && !isObj(st)) return { path: '.status', message: 'must be object' };
      return undefined;
  }
}

/**
 * The check that runs before every hook: only the fields the hooks read whose wrong shape would change an
 * answer rather than fail it — metadata (generation a safe integer, labels and annotations string maps),
 * the status of Jobs and Pods, Secret data (base64), and that any status is an object. Hand-written, with
 * no schema compilation; its cost is measured in docs/operations.md. Returns the first problem with its
 * path in the request (`body.children["Job.batch/v1"]["ns/name"].status`), or undefined.
 */
export function quickObservedCheck(maps: Record<string, ObjectMap | undefined>): ObservedProblem | undefined {
  for (const [field, map] of Object.entries(maps)) {
    if (map === undefined || map === null) continue;
    if (!isObj(map)) return { path: `body.${field}`, message: 'must be object' };
    for (const [group, objects] of Object.entries(map)) {
      if (objects === null || objects === undefined) continue;
      if (!isObj(objects)) return { path: `body.${field}[${JSON.stringify(group)}]`, message: 'must be object' };
      for (const [key, o] of Object.entries(objects)) {
        const p = quickObject(o);
        if (p) return { path: `body.${field}[${JSON.stringify(group)}][${JSON.stringify(key)}]${p.path}`, message: p.message };
      }
    }
  }
  return undefined;
}
