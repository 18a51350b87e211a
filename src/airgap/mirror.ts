/**
 * Air-gapped installs: how an image reference and a chart move to a mirror, and which values of each upstream
 * chart point its images at a registry mirror.
 *
 * Mirror layout (docs/airgap.md): an image `<host>/<path>[:tag][@digest]` is served by the mirror registry `M`
 * as `M/<host>/<path>[:tag][@digest]` — the upstream host is kept as the first path segment, so images of
 * different registries never collide (`docker.io/envoyproxy/gateway` → `mirror.example:5000/docker.io/envoyproxy/gateway`).
 * Tags and digests are unchanged: copy images with a tool that keeps digests (`crane copy`, `skopeo copy --all`).
 * Charts are served by one chart repository: an OCI path (`oci://mirror.example:5000/charts`, chart
 * `<path>/<chart>:<version>`) or a classic HTTP repository (an `index.yaml`).
 *
 * Facts: each chart's values keys at its pinned version (src/controllers/defaults.ts), read in the chart's
 * values.yaml and templates and checked with `helm template` by scripts/airgap-images.ts (docs/airgap.md
 * "How the table is made"): with these values and the mirror `mirror.invalid`, every `image:` of every
 * rendered object starts with the mirror.
 */
import { getPath } from '../kit/values.js';

/** Docker Hub's host in a normalized reference. */
const DOCKER_HUB = 'docker.io';

/**
 * `ref` with an explicit registry host, as the container runtime resolves it: `busybox:1.28` →
 * `docker.io/library/busybox:1.28`, `envoyproxy/envoy:v1` → `docker.io/envoyproxy/envoy:v1`.
 * A first segment with a `.` or `:`, or `localhost`, is a host (the distribution reference grammar).
 */
export function normalizeImage(ref: string): string {
  const slash = ref.indexOf('/');
  const first = slash < 0 ? '' : ref.slice(0, slash);
  if (slash >= 0 && (first.includes('.') || first.includes(':') || first === 'localhost')) return ref;
  return slash < 0 ? `${DOCKER_HUB}/library/${ref}` : `${DOCKER_HUB}/${ref}`;
}

/**
 * A registry mirror given by the user: `host[:port][/path]`, without scheme or trailing slash.
 * @throws Error naming the value when it is not `host[:port][/path]` (after dropping a scheme and trailing slashes).
 */
export function parseRegistry(value: string): string {
  const v = value.trim().replace(/^(https?|oci):\/\//, '').replace(/\/+$/, '');
  if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?(:[0-9]{1,5})?(\/[a-z0-9._-]+)*$/i.test(v)) throw new Error(`registry mirror ${JSON.stringify(value)}: expected host[:port][/path]`);
  return v;
}

/** `ref` as the mirror `registry` serves it (`M/<host>/<path>…`); a reference already under the mirror is kept. */
export function mirrorImage(ref: string, registry: string): string {
  if (ref.startsWith(`${registry}/`)) return ref;
  return `${registry}/${normalizeImage(ref)}`;
}

/** Whether `ref` is served by the mirror `registry`. */
export function inMirror(ref: string, registry: string): boolean {
  return ref.startsWith(`${registry}/`);
}

/**
 * A chart repository mirror: `oci://host[/path]` or `http(s)://host[/path]` (no trailing slash).
 * @throws Error naming the value when it is not `oci://host[/path]` or `http(s)://host[/path]`.
 */
export function parseChartRepository(value: string): string {
  const v = value.trim().replace(/\/+$/, '');
  if (!/^(oci|https?):\/\/[^\s/]+(\/[^\s]*)?$/.test(v)) throw new Error(`chart mirror ${JSON.stringify(value)}: expected oci://host[/path] or https://host[/path]`);
  return v;
}

/**
 * The values that make one chart pull every image from the mirror `registry`, per chart name. Each key is one
 * the chart reads at the pinned version; values that take a registry get `M/<host>`, values that take a
 * repository `M/<host>/<path>`, values that take a full reference the mirrored reference.
 */
export const MIRROR_VALUES: Record<string, (registry: string) => Record<string, unknown>> = {
  // global.image.registry is the registry of the controller, admission-webhook certgen and default backend
  // images (their own `image.registry` is unset by default); digests stay, tags stay.
  'ingress-nginx': (m) => ({ global: { image: { registry: `${m}/registry.k8s.io` } } }),
  // global.image.repository: every Argo CD component (each component's image.repository is empty by default);
  // dex, redis, the redis exporter and the server's extension installer have their own repository.
  'argo-cd': (m) => ({
    global: { image: { repository: `${m}/quay.io/argoproj/argocd` } },
    dex: { image: { repository: `${m}/ghcr.io/dexidp/dex` } },
    redis: { image: { repository: `${m}/ecr-public.aws.com/docker/library/redis` }, exporter: { image: { repository: `${m}/ghcr.io/oliver006/redis_exporter` } } },
    server: { extensions: { image: { repository: `${m}/quay.io/argoprojlabs/argocd-extension-installer` } } },
  }),
  // global.imageRegistry replaces the registry (first segment) of the Envoy Gateway, rate limit and Envoy
  // proxy images; the proxy image is written into the controller's config only when
  // global.images.envoyProxy.image is set (else the binary's default docker.io/envoyproxy/envoy is used).
  'gateway-helm': (m) => ({
    global: { imageRegistry: `${m}/docker.io`, images: { envoyProxy: { image: 'docker.io/envoyproxy/envoy:distroless-v1.39.0' } } },
  }),
  // image.registry: the Gitea image (and its init containers); the Bitnami subcharts are disabled by our values.
  gitea: (m) => ({ image: { registry: `${m}/docker.gitea.com` } }),
  // each controller has its own full image name (the tag is separate).
  flux2: (m) => Object.fromEntries(
    (
      [
        ['cli', 'flux-cli'],
        ['helmController', 'helm-controller'],
        ['imageAutomationController', 'image-automation-controller'],
        ['imageReflectionController', 'image-reflector-controller'],
        ['kustomizeController', 'kustomize-controller'],
        ['notificationController', 'notification-controller'],
        ['sourceController', 'source-controller'],
        ['sourceWatcher', 'source-watcher'],
      ] as const
    ).map(([k, name]) => [k, { image: `${m}/ghcr.io/fluxcd/${name}` }]),
  ),
  // image.repository: the Flux Operator and its web UI (one image; the tag defaults to the chart's appVersion).
  'flux-operator': (m) => ({ image: { repository: `${m}/ghcr.io/controlplaneio-fluxcd/flux-operator` } }),
  // global.hub: pilot, and the proxyv2 image istiod injects into gateways and sidecars.
  istiod: (m) => ({ global: { hub: `${m}/docker.io/istio` } }),
  // the gateway's Deployment says `image: auto`: istiod injects its proxy image (istiod's global.hub).
  gateway: () => ({}),
  base: () => ({}),
  cni: (m) => ({ global: { hub: `${m}/docker.io/istio` } }),
  ztunnel: (m) => ({ hub: `${m}/docker.io/istio` }),
  // Metacontroller's chart (installed by `idpbuilder create`).
  'metacontroller-helm': (m) => ({ image: { repository: `${m}/ghcr.io/metacontroller/metacontroller` } }),
};

/** The mirror values of `chart` (undefined: a chart this table does not know). */
export function mirrorValues(chart: string, registry: string): Record<string, unknown> | undefined {
  return MIRROR_VALUES[chart]?.(registry);
}

/** Whether every leaf of `mirror` is set to the same value in `values` (the mirror values are in effect). */
export function mirrored(values: Record<string, unknown>, mirror: Record<string, unknown>): boolean {
  const walk = (m: unknown, path: string[]): boolean =>
    m !== null && typeof m === 'object' && !Array.isArray(m)
      ? Object.entries(m as Record<string, unknown>).every(([k, v]) => walk(v, [...path, k]))
      : getPath(values, path) === m;
  return walk(mirror, []);
}
