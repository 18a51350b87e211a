/**
 * Schema helpers shared by every kind. TypeBox gives us JSON Schema plus static types; these helpers
 * add the Kubernetes extensions (x-kubernetes-*) and keep every object closed to unknown fields, the
 * way `kubectl apply` (strict field validation) treats them. The CRD generator strips what a CRD may
 * not carry (`additionalProperties: false`).
 */
import { Type, type Static, type TSchema, type TProperties, type ObjectOptions, type TObject } from '@sinclair/typebox';

export interface CelRule {
  rule: string;
  message: string;
  fieldPath?: string;
  reason?: 'FieldValueInvalid' | 'FieldValueForbidden' | 'FieldValueRequired' | 'FieldValueDuplicate';
}

export interface K8sObjectOptions extends ObjectOptions {
  'x-kubernetes-validations'?: CelRule[];
}

/** A closed object: unknown fields are errors in offline validation, as with `kubectl apply --validate=strict`. */
export function Obj<T extends TProperties>(properties: T, options: K8sObjectOptions = {}): TObject<T> {
  return Type.Object(properties, { additionalProperties: false, ...options });
}

/**
 * The same schema with its own description (what `kubectl explain` shows for the field): shared shapes
 * (DNS names, refs, durations) keep their validation and get a description per use.
 */
export function Desc<T extends TSchema>(schema: T, description: string): T {
  return { ...schema, description };
}

/** Free-form YAML (Helm values, chart config): kept as written. */
export function FreeForm(description: string) {
  return Type.Unsafe<Record<string, unknown>>({
    type: 'object',
    description,
    'x-kubernetes-preserve-unknown-fields': true,
  });
}

/** A map with string keys, as `additionalProperties` (CRDs reject patternProperties). */
export function StringMap<T extends TSchema>(value: T, options: { description?: string; maxProperties?: number } = {}) {
  return Type.Unsafe<Record<string, Static<T>>>({ type: 'object', additionalProperties: value, ...options });
}

/**
 * A Kubernetes quantity (`100m`, `90Mi`, `2`).
 * As Kubernetes' own quantity schema: the pattern sits beside anyOf (structural schemas allow no value validation inside anyOf types). */
export const Quantity = Type.Unsafe<string | number>({
  'x-kubernetes-int-or-string': true,
  anyOf: [{ type: 'integer' }, { type: 'string' }],
  pattern: '^[+]?[0-9]+(\\.[0-9]+)?(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei|e[0-9]+)?$',
});

export const DNS1123Label = Type.String({ minLength: 1, maxLength: 63, pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$' });
export const DNS1123Subdomain = Type.String({
  minLength: 1,
  maxLength: 253,
  pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$',
});
export const KindName = Type.String({ minLength: 1, maxLength: 63, pattern: '^[A-Z][A-Za-z0-9]*$' });
export const Duration = Type.String({ pattern: '^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$', maxLength: 32 });
export const HttpURL = Type.String({ pattern: '^https?://[^\\s]+$', maxLength: 2048 });
export const Port = Type.Integer({ minimum: 1, maximum: 65535 });

export function Enum<const T extends readonly string[]>(values: T, options: { default?: T[number]; description?: string } = {}) {
  return Type.Unsafe<T[number]>({ type: 'string', enum: [...values], ...options });
}
