/**
 * Metacontroller's hook protocol, version 2 (composite sync/finalize, customize, decorator sync).
 * Field names follow metacontroller/pkg/controller/{composite,decorator}/api/v2 and
 * pkg/controller/common/customize/api/v2. Responses are closed objects: v2 hooks are parsed in strict
 * mode, so a field outside the protocol fails the hook.
 */
import { Type, type Static } from '@sinclair/typebox';

const ObjectMetaLoose = Type.Object(
  {
    name: Type.String({ minLength: 1 }),
    namespace: Type.Optional(Type.String()),
    uid: Type.Optional(Type.String()),
    generation: Type.Optional(Type.Integer()),
    resourceVersion: Type.Optional(Type.String()),
    labels: Type.Optional(Type.Record(Type.String(), Type.String())),
    annotations: Type.Optional(Type.Record(Type.String(), Type.String())),
    deletionTimestamp: Type.Optional(Type.String()),
  },
  { additionalProperties: true },
);

/**
 * Schema of any Kubernetes object as hooks see it: `apiVersion`, `kind` and `metadata` (name required; namespace,
 * uid, generation, resourceVersion, labels, annotations, deletionTimestamp read), other fields (spec, status, data,
 * …) passed through.
 */
export const KubeObject = Type.Object(
  {
    apiVersion: Type.String({ minLength: 1 }),
    kind: Type.String({ minLength: 1 }),
    metadata: ObjectMetaLoose,
  },
  { additionalProperties: true },
);
export type KubeObject = Static<typeof KubeObject> & { spec?: any; status?: any; data?: Record<string, string>; [k: string]: unknown };

/** `{"<Kind>.<apiVersion>": {"<namespace>/<name>" | "<name>": object}}` */
export const ObjectMap = Type.Record(Type.String(), Type.Record(Type.String(), KubeObject));
export type ObjectMap = Record<string, Record<string, KubeObject>>;

const Controller = Type.Object({}, { additionalProperties: true });

/**
 * Schema of a CompositeController v2 sync/finalize request (Metacontroller composite/api/v2 `SyncHookRequest`):
 * `parent`, observed `children` and `related` objects as ObjectMaps, `finalizing` true on the finalize hook; unknown
 * fields allowed.
 */
export const SyncRequest = Type.Object(
  {
    controller: Type.Optional(Controller),
    parent: KubeObject,
    children: Type.Optional(ObjectMap),
    related: Type.Optional(ObjectMap),
    finalizing: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: true },
);
export type SyncRequest = { controller?: Record<string, unknown>; parent: KubeObject; children?: ObjectMap; related?: ObjectMap; finalizing?: boolean };

/**
 * Schema of a CompositeController v2 sync/finalize response (`SyncHookResponse`): the parent's `status` (null leaves
 * it), the desired `children` (any observed child left out is deleted), optional `resyncAfterSeconds` (seconds, ≥ 0)
 * and `finalized` (finalize hook: true lets the parent go). Closed: v2 strict mode refuses other fields.
 */
export const SyncResponse = Type.Object(
  {
    status: Type.Union([Type.Object({}, { additionalProperties: true }), Type.Null()]),
    children: Type.Array(KubeObject),
    resyncAfterSeconds: Type.Optional(Type.Number({ minimum: 0 })),
    finalized: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
export type SyncResponse = { status: Record<string, unknown>; children: KubeObject[]; resyncAfterSeconds?: number; finalized?: boolean };

const LabelSelector = Type.Object(
  {
    matchLabels: Type.Optional(Type.Record(Type.String(), Type.String())),
    matchExpressions: Type.Optional(
      Type.Array(Type.Object({ key: Type.String(), operator: Type.String(), values: Type.Optional(Type.Array(Type.String())) }, { additionalProperties: false })),
    ),
  },
  { additionalProperties: false },
);

/**
 * Schema of one customize-hook rule (Metacontroller customize/api/v2 `RelatedResourceRule`): which objects to send as
 * `related`, by `apiVersion` and plural `resource`, optionally limited to a `namespace`, `names`, a `labelSelector`
 * and a `namespaceSelector`.
 */
export const RelatedResourceRule = Type.Object(
  {
    apiVersion: Type.String(),
    resource: Type.String(),
    namespace: Type.Optional(Type.String()),
    names: Type.Optional(Type.Array(Type.String())),
    labelSelector: Type.Optional(LabelSelector),
    namespaceSelector: Type.Optional(LabelSelector),
  },
  { additionalProperties: false },
);
export type RelatedResourceRule = Static<typeof RelatedResourceRule>;

/** Schema of a customize hook request (customize/api/v2): the `parent` (and the controller); unknown fields allowed. */
export const CustomizeRequest = Type.Object({ controller: Type.Optional(Controller), parent: KubeObject }, { additionalProperties: true });
export type CustomizeRequest = { controller?: Record<string, unknown>; parent: KubeObject };

/**
 * Schema of a customize hook response: `relatedResources`, the rules of the objects Metacontroller should send as
 * `related`. Closed.
 */
export const CustomizeResponse = Type.Object({ relatedResources: Type.Array(RelatedResourceRule) }, { additionalProperties: false });
export type CustomizeResponse = Static<typeof CustomizeResponse>;

/** DecoratorController v2 sync/finalize. */
export const DecoratorSyncRequest = Type.Object(
  {
    controller: Type.Optional(Controller),
    object: KubeObject,
    attachments: Type.Optional(ObjectMap),
    related: Type.Optional(ObjectMap),
    finalizing: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: true },
);
export type DecoratorSyncRequest = { controller?: Record<string, unknown>; object: KubeObject; attachments?: ObjectMap; related?: ObjectMap; finalizing?: boolean };

/**
 * Schema of a DecoratorController v2 sync/finalize response (decorator/api/v2): `labels` and `annotations` to set on
 * the object (null removes one), its `status`, the desired `attachments`, optional `resyncAfterSeconds` (seconds, ≥
 * 0) and `finalized`. Closed.
 */
export const DecoratorSyncResponse = Type.Object(
  {
    labels: Type.Optional(Type.Record(Type.String(), Type.Union([Type.String(), Type.Null()]))),
    annotations: Type.Optional(Type.Record(Type.String(), Type.Union([Type.String(), Type.Null()]))),
    status: Type.Optional(Type.Union([Type.Object({}, { additionalProperties: true }), Type.Null()])),
    attachments: Type.Array(KubeObject),
    resyncAfterSeconds: Type.Optional(Type.Number({ minimum: 0 })),
    finalized: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
export type DecoratorSyncResponse = {
  labels?: Record<string, string | null>;
  annotations?: Record<string, string | null>;
  status?: Record<string, unknown> | null;
  attachments: KubeObject[];
  resyncAfterSeconds?: number;
  finalized?: boolean;
};

/** The key Metacontroller uses for a group of objects: `<Kind>.<apiVersion>`. */
export function groupKey(kind: string, apiVersion: string): string {
  return `${kind}.${apiVersion}`;
}

/** The v2 key of one object: `<namespace>/<name>`, or `<name>` when cluster-scoped. */
export function objectKey(namespace: string | undefined, name: string): string {
  return namespace ? `${namespace}/${name}` : name;
}
