/**
 * CustomResourceDefinitions generated from the TypeBox schemas in src/api. `v1alpha2` is the storage
 * version; `v1alpha1` is served with the same schema so that the spec's examples apply as written.
 */
import { GROUP, SERVED_VERSIONS, STORAGE_VERSION } from '../api/common.js';
import { GENERATED_LABELS } from '../api/names.js';
import type { KindDef, PrinterColumn } from '../api/kinds.js';

const CATEGORY = 'idpbuilder';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** Drops what a CRD schema may not carry: TypeBox symbols, closed objects, Ajv-only keywords. */
function toStructural(schema: unknown): Json {
  const plain = JSON.parse(JSON.stringify(schema)) as Json;
  const walk = (node: Json): Json => {
    if (Array.isArray(node)) return node.map(walk);
    if (node === null || typeof node !== 'object') return node;
    const out: { [k: string]: Json } = {};
    for (const [k, v] of Object.entries(node)) {
      if (k === 'additionalProperties' && v === false) continue;
      if (k === '$id' || k === 'unevaluatedProperties') continue;
      if (k === 'properties' || k === 'patternProperties') {
        out[k] = Object.fromEntries(Object.entries(v as Record<string, Json>).map(([pk, pv]) => [pk, walk(pv)]));
        continue;
      }
      out[k] = walk(v);
    }
    return out;
  };
  return walk(plain);
}

const READY = '.status.conditions[?(@.type=="Ready")]';

/**
 * `kubectl get` columns: Ready and Phase (kinds with status), the kind's own columns (KindDef.columns), Age,
 * then the Ready condition's Reason and Message with priority 1 (shown by `kubectl get -o wide` only).
 */
function printerColumns(def: KindDef): PrinterColumn[] {
  const cols: PrinterColumn[] = def.status
    ? [
        { name: 'Ready', type: 'string', jsonPath: `${READY}.status` },
        { name: 'Phase', type: 'string', jsonPath: '.status.phase' },
      ]
    : [];
  cols.push(...(def.columns ?? []));
  cols.push({ name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' });
  if (def.status) {
    cols.push(
      { name: 'Reason', type: 'string', jsonPath: `${READY}.reason`, priority: 1 },
      { name: 'Message', type: 'string', jsonPath: `${READY}.message`, priority: 1 },
    );
  }
  return cols;
}

/** Descriptions of the fields every Kubernetes object has (as in the API server's own types). */
const API_VERSION_DESCRIPTION =
  'APIVersion defines the versioned schema of this representation of an object. Servers should convert recognized schemas to the latest internal value, and may reject unrecognized values.';
const KIND_DESCRIPTION =
  'Kind is a string value representing the REST resource this object represents. Servers may infer this from the endpoint the client submits requests to. In CamelCase.';

/**
 * The CustomResourceDefinition (apiextensions.k8s.io/v1) of one kind: every served version with its structural
 * openAPIV3Schema from the TypeBox schemas (CEL rules as `x-kubernetes-validations`), the status subresource when the
 * kind has a status, printer columns and the `idpbuilder` category.
 */
export function crdFor(def: KindDef): Record<string, Json> {
  const openAPIV3Schema: Json = {
    type: 'object',
    description: def.description,
    required: ['spec'],
    properties: {
      apiVersion: { type: 'string', description: API_VERSION_DESCRIPTION },
      kind: { type: 'string', description: KIND_DESCRIPTION },
      metadata: { type: 'object' },
      spec: toStructural(def.spec),
      ...(def.status ? { status: toStructural(def.status) } : {}),
    },
  };
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: {
      name: `${def.plural}.${GROUP}`,
      labels: { ...GENERATED_LABELS },
    },
    spec: {
      group: GROUP,
      names: {
        kind: def.kind,
        listKind: `${def.kind}List`,
        plural: def.plural,
        singular: def.singular,
        shortNames: def.shortNames,
        categories: [CATEGORY],
      },
      scope: 'Namespaced',
      versions: SERVED_VERSIONS.map((name) => ({
        name,
        served: true,
        storage: name === STORAGE_VERSION,
        schema: { openAPIV3Schema },
        ...(def.status ? { subresources: { status: {} } } : {}),
        additionalPrinterColumns: printerColumns(def) as unknown as Json,
      })),
    },
  };
}
