/** ReferenceGrant objects for the cross-namespace tests (src/api/referencegrant.ts). */
import type { KubeObject } from '../../src/metacontroller/protocol.js';
import { API } from './providers.js';

export interface GrantFrom {
  kind: string;
  namespace: string;
  group?: string;
}

export interface GrantTo {
  kind: string;
  name?: string;
  group?: string;
}

/** A ReferenceGrant in `namespace` letting every `from` reference every `to` (as the API server stores it, v1alpha2). */
export function referenceGrant(name: string, namespace: string, from: GrantFrom[], to: GrantTo[], apiVersion = API): KubeObject {
  return { apiVersion, kind: 'ReferenceGrant', metadata: { name, namespace, uid: `uid-grant-${name}` }, spec: { from, to } } as KubeObject;
}
