/** Labels every generated object carries (DESIGN.md decision 5). */
import type { KubeObject } from '../metacontroller/protocol.js';

export const MANAGED_BY = { 'app.kubernetes.io/managed-by': 'idpbuilder' } as const;
export const LABEL_ROLE = 'idpbuilder.cnoe.io/role';
export const LABEL_OWNER_UID = 'idpbuilder.cnoe.io/owner-uid';

export function ownerLabels(parent: KubeObject, role?: string): Record<string, string> {
  const labels: Record<string, string> = {
    ...MANAGED_BY,
    [`idpbuilder.cnoe.io/${parent.kind.toLowerCase()}`]: parent.metadata.name,
  };
  if (role) labels[LABEL_ROLE] = role;
  return labels;
}
