/**
 * Schema helpers shared by every kind. TypeBox gives us JSON Schema plus static types; these helpers
 * add the Kubernetes extensions (x-kubernetes-*) and keep every object closed to unknown fields, the
 * way `kubectl apply` (strict field validation) treats them. The CRD generator strips what a CRD may
 * not carry (`additionalProperties: false`).
 */
import { Type, type Static, type TSchema, type TProperties, type ObjectOptions, type TObject } from '@sinclair/typebox';

/**
 * One `x-kubernetes-validations` rule of a CRD schema (Kubernetes apiextensions v1): the CEL expression, the message
 * shown when it is false, an optional `fieldPath` the error points at, and the error `reason`.
 */
export interface CelRule {
  rule: string;
  message: string;
  fieldPath?: string;
  reason?: 'FieldValueInvalid' | 'FieldValueForbidden' | 'FieldValueRequired' | 'FieldValueDuplicate';
}

/**
 * TypeBox object options plus `x-kubernetes-validations` (CEL rules the CRD carries and api/validate.ts checks
 * offline).
 */
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

/**
 * A Kubernetes DNS-1123 label (1–63 lower-case letters, digits and `-`, alphanumeric at both ends): namespace names
 * and most object names.
 */
export const DNS1123Label = Type.String({ minLength: 1, maxLength: 63, pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$' });
/**
 * A Kubernetes DNS-1123 subdomain (1–253 characters; dot-separated DNS-1123 labels): object names such as Secret
 * names, and domains.
 */
export const DNS1123Subdomain = Type.String({
  minLength: 1,
  maxLength: 253,
  pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$',
});
/** A Kubernetes kind name: 1–63 characters, upper-case first letter, then letters and digits (e.g. GiteaProvider). */
export const KindName = Type.String({ minLength: 1, maxLength: 63, pattern: '^[A-Z][A-Za-z0-9]*$' });
/**
 * A Go-style duration string as Kubernetes and Flux take it (e.g. `30s`, `1m30s`, `1.5h`; units ms, s, m, h), at most
 * 32 characters.
 */
export const Duration = Type.String({ pattern: '^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$', maxLength: 32 });
/** An http:// or https:// URL without whitespace, at most 2048 characters. */
export const HttpURL = Type.String({ pattern: '^https?://[^\\s]+$', maxLength: 2048 });
/** A TCP/UDP port number, 1–65535. */
export const Port = Type.Integer({ minimum: 1, maximum: 65535 });

/**
 * A string schema limited to `values` (JSON Schema `enum`), typed as their union, with an optional default and
 * description.
 */
export function Enum<const T extends readonly string[]>(values: T, options: { default?: T[number]; description?: string } = {}) {
  return Type.Unsafe<T[number]>({ type: 'string', enum: [...values], ...options });
}
