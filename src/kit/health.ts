/**
 * Package health checks: which object a check reads (API version, resource, group for ReferenceGrants)
 * and the CEL expression that decides whether it is ready (`readyWhen`, as kro's `readyWhen`; the
 * built-in kinds' defaults are CEL expressions too: BUILTIN_HEALTH_KINDS). Compiling and evaluating the
 * expression is src/api/ready-when.ts (admission checks it offline too).
 */
import { BUILTIN_HEALTH_KINDS, type HealthCheck } from '../api/package.js';
import { defaultResource, groupOfApiVersion } from './refs.js';

/** What a health check reads: resolved from `type`, `apiVersion` and `resource`, with its readiness expression. */
export interface HealthTarget {
  kind: string;
  apiVersion: string;
  /** The API group (`""` core): what a ReferenceGrant's `to.group` names. */
  group: string;
  resource: string;
  readyWhen: string;
}

/**
 * The object a check reads, or why the check is invalid: a kind other than the built-in ones (or a
 * built-in kind under another API version) needs `apiVersion` and `readyWhen` (the CRD refuses it at
 * admission; an object stored before that rule is refused here).
 */
export function healthTarget(h: Pick<HealthCheck, 'type' | 'apiVersion' | 'resource' | 'readyWhen'>): HealthTarget | { invalid: string } {
  const builtin = BUILTIN_HEALTH_KINDS[h.type];
  const isBuiltin = !!builtin && (!h.apiVersion || h.apiVersion === builtin.apiVersion);
  const apiVersion = h.apiVersion ?? builtin?.apiVersion;
  if (!apiVersion) return { invalid: `kind ${h.type} is not built in (${Object.keys(BUILTIN_HEALTH_KINDS).join(', ')}): set apiVersion and readyWhen` };
  const readyWhen = h.readyWhen ?? (isBuiltin ? builtin.readyWhen : undefined);
  if (!readyWhen) return { invalid: `${h.type} of ${apiVersion} has no built-in readiness: set readyWhen` };
  return { kind: h.type, apiVersion, group: groupOfApiVersion(apiVersion), resource: h.resource ?? (isBuiltin ? builtin.resource : defaultResource(h.type)), readyWhen };
}
