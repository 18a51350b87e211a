/**
 * The settings a platform was created with, stored in the ConfigMap `idpbuilder-system/idpbuilder-settings`.
 * Like today's isCompatible check (pkg/build/build.go), a later `create` with different protocol, host,
 * ingress host, port, path routing or dev password is refused: those are baked into the kind port mapping,
 * the certificate, the CoreDNS rules and every URL. So are `--gateway` and `--gitops` (the kind port mapping
 * and the CoreDNS target follow the gateway); settings stored before those flags existed have no such key
 * and are read as the defaults' (nothing to compare).
 */
import type { KubeObject } from '../../metacontroller/protocol.js';
import { SYSTEM_NAMESPACE } from './kube.js';
import { labels } from './platform.js';

const SETTINGS_CONFIGMAP = 'idpbuilder-settings';

/**
 * The settings a platform was created with, as strings (the ConfigMap's data): protocol, host, ingress host, port,
 * path routing, dev password, gateway and gitops.
 */
export interface Settings {
  protocol: string;
  host: string;
  ingressHost: string;
  port: string;
  usePathRouting: string;
  devPassword: string;
  gateway: string;
  gitops: string;
}

const SETTINGS_KEYS: (keyof Settings)[] = ['protocol', 'host', 'ingressHost', 'port', 'usePathRouting', 'devPassword', 'gateway', 'gitops'];

/**
 * The Settings of a `create` invocation: numbers and booleans as strings, ingress host defaulting to the host,
 * gateway to `nginx`, gitops to `argocd`.
 */
export function settingsOf(o: { protocol: string; host: string; ingressHost?: string; port: number; usePathRouting: boolean; devPassword: boolean; gateway?: string; gitops?: string }): Settings {
  return {
    protocol: o.protocol,
    host: o.host,
    ingressHost: o.ingressHost || o.host,
    port: String(o.port),
    usePathRouting: String(o.usePathRouting),
    devPassword: String(o.devPassword),
    gateway: o.gateway ?? 'nginx',
    gitops: o.gitops ?? 'argocd',
  };
}

/**
 * The ConfigMap `idpbuilder-settings` in idpbuilder-system that records a platform's settings (data: `platform` and
 * the Settings), labelled as the platform's.
 */
export function settingsConfigMap(name: string, s: Settings): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: SETTINGS_CONFIGMAP, namespace: SYSTEM_NAMESPACE, labels: labels({ name }) },
    data: { platform: name, ...s },
  } as KubeObject;
}

/** The differences between stored and wanted settings, as `key: stored → wanted`; [] when compatible. */
export function incompatibilities(stored: KubeObject | undefined, wanted: Settings): string[] {
  if (!stored) return [];
  const data = (stored.data ?? {}) as Record<string, string>;
  return SETTINGS_KEYS.filter((k) => data[k] !== undefined && data[k] !== wanted[k]).map((k) => `${k}: ${data[k]} → ${wanted[k]}`);
}
