/**
 * ReferenceGrant: lets objects of another namespace reference objects of this one, modelled on Gateway
 * API's `gateway.networking.k8s.io` ReferenceGrant (same field names: `spec.from[].{group, kind,
 * namespace}`, `spec.to[].{group, kind, name}`, at most 16 entries each). A reference from namespace A to
 * an object in namespace B resolves only if a ReferenceGrant in B lists the referring kind and A under
 * `from` and the target's kind (and name, when given) under `to`. Same-namespace references need none.
 *
 * Differences from Gateway API: `group` may be left out and then means idpbuilder.cnoe.io (the group of
 * every referring kind); in `to`, a group other than ours names what a Package health check reads
 * (`apps` Deployment/StatefulSet/DaemonSet, `batch` Job, `""` Service). The kind has no status and no
 * controller: controllers read grants as related objects (src/kit/refs.ts).
 */
import { Type, type Static } from '@sinclair/typebox';
import { DNS1123Label, DNS1123Subdomain, Desc, Enum, Obj } from './schema.js';
import { GROUP } from './common.js';

const Kind = Type.String({ minLength: 1, maxLength: 63, pattern: '^[a-zA-Z]([-a-zA-Z0-9]*[a-zA-Z0-9])?$' });
/** An API group, `""` for the core group (Gateway API's Group). */
const Group = Type.String({ maxLength: 253, pattern: '^$|^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$' });

/**
 * Schema of one `spec.from` entry: the referring objects' `group` (only idpbuilder.cnoe.io, the default), `kind` and
 * `namespace` (Gateway API's ReferenceGrantFrom).
 */
const ReferenceGrantFrom = Obj(
  {
    group: Type.Optional(Enum([GROUP] as const, { default: GROUP, description: 'Group of the referring kind; only idpbuilder.cnoe.io kinds refer.' })),
    kind: Desc(Kind, 'The referring kind, e.g. Platform, Package, GitRepository.'),
    namespace: Desc(DNS1123Label, 'The namespace of the referring objects.'),
  },
  { description: 'Objects of this kind in this namespace may reference the targets listed in `to`.' },
);

/**
 * Schema of one `spec.to` entry: the target's `group` (default idpbuilder.cnoe.io; `""` is the core group), `kind`
 * and optional `name` (Gateway API's ReferenceGrantTo).
 */
const ReferenceGrantTo = Obj(
  {
    group: Type.Optional(Type.String({ ...Group, default: GROUP, description: 'Group of the target kind (default idpbuilder.cnoe.io; "" is the core group).' })),
    kind: Desc(Kind, 'The target kind, e.g. GiteaProvider, or Deployment for a Package health check.'),
    name: Type.Optional(Type.String({ ...DNS1123Subdomain, description: 'Only this object; every object of the kind when left out.' })),
  },
  { description: 'Objects of this namespace that the `from` entries may reference.' },
);

/** Schema of ReferenceGrant `spec`: 1–16 `from` entries allowed to refer to 1–16 `to` entries of this namespace. */
export const ReferenceGrantSpec = Obj(
  {
    from: Type.Array(ReferenceGrantFrom, { minItems: 1, maxItems: 16, description: 'Who may refer here: kind and namespace pairs (1 to 16).' }),
    to: Type.Array(ReferenceGrantTo, { minItems: 1, maxItems: 16, description: 'What they may refer to in this namespace: kinds, optionally one name (1 to 16).' }),
  },
  { description: 'References from the from entries to the to entries of this namespace are allowed.' },
);
export type ReferenceGrantSpec = Static<typeof ReferenceGrantSpec>;
