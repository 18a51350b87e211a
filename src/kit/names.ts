/** Valid Kubernetes names for generated objects (DESIGN.md decision 5). */
import { hashOfCanonical, shortHash } from './canonical.js';

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/**
 * Whether `name` is a DNS-1123 label: at most 63 characters, lower-case letters, digits and `-`, alphanumeric at both
 * ends (the rule of namespace names and Service names).
 */
export function isDNS1123Label(name: string): boolean {
  return name.length <= 63 && DNS1123_LABEL.test(name);
}

/** What sanitize returns as is, when not empty: lower-case letters and digits in runs joined by single `-`. */
const CLEAN = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;

function sanitize(part: string): string {
  return part
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/-+/g, '-')
    .replace(/^-+|-+$/g, '');
}

/**
 * Joins parts with `-` into a DNS-1123 label of at most `max` characters. A name that had to be
 * shortened or cleaned ends with a hash of the original parts, so distinct inputs stay distinct.
 */
export function childName(parts: string[], max = 63): string {
  const raw = parts.join('-');
  // already clean (sanitize would return it as is): no three replacements (issue 15; most names are)
  if (raw.length <= max && CLEAN.test(raw)) return raw;
  const clean = sanitize(raw);
  if (clean === raw && clean.length <= max && clean.length > 0) return clean;
  const suffix = shortHash(parts, 6);
  const head = clean.slice(0, max - suffix.length - 1).replace(/-+$/g, '');
  return head ? `${head}-${suffix}` : suffix;
}

/** Like childName, with a hash of `content` always appended (for objects whose identity is their content, e.g. install Jobs). */
export function hashedName(parts: string[], content: unknown, max = 63): string {
  const hash = shortHash(content, 8);
  return `${childName(parts, max - hash.length - 1)}-${hash}`;
}

/**
 * hashedName for content whose canonical form (canonicalJSON) is already at hand: `hashedName(p, v) ===
 * hashedNameOfCanonical(p, canonicalJSON(v))`, without serializing a large value again.
 */
export function hashedNameOfCanonical(parts: string[], canonical: string, max = 63): string {
  const hash = hashOfCanonical(canonical, 8);
  return `${childName(parts, max - hash.length - 1)}-${hash}`;
}
