import { createHash } from 'node:crypto';
/** Labels every generated object carries (DESIGN.md decision 5). */
import type { KubeObject } from '../metacontroller/protocol.js';

export { MANAGED_BY } from '../api/names.js';
import { MANAGED_BY } from '../api/names.js';
/** Label naming what a child is for (e.g. `install`, `uninstall`, `bootstrap`), set by ownerLabels. */
export const LABEL_ROLE = 'idpbuilder.cnoe.io/role';
/** Label on a Job's pods holding the uid of the object the Job belongs to (set from JobSpecInput `ownerUid`). */
export const LABEL_OWNER_UID = 'idpbuilder.cnoe.io/owner-uid';

/** A valid label value for any object name: names longer than 63 characters are shortened with a hash suffix. */
export function labelValue(name: string): string {
  if (name.length <= 63) return name;
  const hash = createHash('sha256').update(name).digest('hex').slice(0, 8);
  return `${name.slice(0, 54).replace(/[^A-Za-z0-9]+$/, '')}-${hash}`;
}

/** `idpbuilder.cnoe.io/<kind in lowercase>` per kind, built once (one string, not a new one per child). */
const ownerKeys = new Map<string, string>();
function ownerKey(kind: string): string {
  let key = ownerKeys.get(kind);
  if (key === undefined) {
    key = `idpbuilder.cnoe.io/${kind.toLowerCase()}`;
    if (ownerKeys.size < 256) ownerKeys.set(kind, key);
  }
  return key;
}

/**
 * The labels of a child of `parent`: `app.kubernetes.io/managed-by: idpbuilder`, `idpbuilder.cnoe.io/<kind
 * lower-case>: <parent name>` (shortened by labelValue past 63 characters) and, with `role`, LABEL_ROLE.
 */
export function ownerLabels(parent: KubeObject, role?: string): Record<string, string> {
  // the same keys in the same order as before: managed-by, the owner, the role
  const labels: Record<string, string> = { ...MANAGED_BY };
  labels[ownerKey(parent.kind)] = labelValue(parent.metadata.name);
  if (role) labels[LABEL_ROLE] = role;
  return labels;
}
