/**
 * FluxProvider: the flux2 community chart, and (spec.dashboard, default on) the Flux Operator's web UI
 * (chart flux-operator, a second release in the same Job) routed through the platform's gateway. Exposes
 * the GitOps duck type: `internalEndpoint` (source-controller's artifact server), and with the dashboard
 * `endpoint` (the UI, once the install succeeded) and `credentialsSecretRef` (a child Secret in this object's
 * namespace holding the token of a ServiceAccount bound to the chart's `flux-web-admin` ClusterRole, copied
 * from the token Secret Kubernetes fills in spec.namespace, once that is observed). The UI itself has no password login
 * (Anonymous or OIDC only): it runs as a read-only anonymous identity. Per-controller readiness comes
 * from the controllers' Deployments. The UI's chart location is spec.dashboard.installMethod.helm and its user
 * values spec.dashboard.values (settled against dashboardRelied). Mapping, facts and limitations:
 * docs/providers/fluxprovider.md.
 */
import { withClusterRules } from '../kit/cluster.js';
import type { FluxProviderSpec } from '../api/gitops.js';
import type { CustomizeRequest, CustomizeResponse, KubeObject, SyncRequest, SyncResponse } from '../metacontroller/protocol.js';
import type { HookEnv, Hooks } from '../kit/hooks.js';
import { mergeValues, release } from '../kit/helm.js';
import { ownerLabels } from '../kit/labels.js';
import { childName } from '../kit/names.js';
import { observedChild, relatedObject } from '../kit/observed.js';
import { jobState } from '../kit/jobs.js';
import { decodeSecretData, secret } from '../kit/secrets.js';
import { usersRules } from '../kit/users.js';
import { finalizeProvider, jobPodsRule, syncProvider, type ProviderPlan } from '../kit/provider.js';
import { gatewayRules, gatewayTarget, route, type Route, type RouteTarget } from '../kit/routing.js';
import { CHARTS } from './defaults.js';
import { FLUX2, chartVersion } from './versions.js';
import { CONFLICTING_VALUES, settle, type Relied } from '../kit/values.js';
import { isDeepStrictEqual } from 'node:util';
import { contract } from '../kit/contract.js';
import { MANAGED_BY } from '../api/names.js';

/** Status key (and chart values key, except image reflection) → Deployment name in the flux2 chart. */
const CONTROLLERS = {
  sourceController: 'source-controller',
  kustomizeController: 'kustomize-controller',
  helmController: 'helm-controller',
  notificationController: 'notification-controller',
  imageAutomationController: 'image-automation-controller',
  imageReflectionController: 'image-reflector-controller',
} as const;
type ControllerKey = keyof typeof CONTROLLERS;

interface Resolved {
  spec: FluxProviderSpec;
  namespace: string;
  /** The controllers this spec installs, in a fixed order. */
  enabled: ControllerKey[];
  /** The web UI is installed (spec.dashboard.enabled, default true). */
  dashboard: boolean;
}

/** Release of the Flux Operator chart that serves the web UI; also its Deployment and Service name. */
const OPERATOR_RELEASE = 'flux-operator';
/**
 * Anonymous identity (user and group) the web UI impersonates: bound to our own read-only ClusterRole
 * ({@link VIEWER_RULES}), not the chart's `flux-web-user`, which reads every resource including Secrets.
 */
const WEB_IDENTITY = 'idpbuilder:flux-web';
/**
 * What anyone who reaches the UI may read: the Flux groups (group list: the chart's `flux-web-admin` rule,
 * flux-operator chart 0.49.0 templates/web-standard-roles.yaml) and the workloads, events and routes Flux
 * objects manage. Never Secrets (nor any other core resource not listed): the UI has no login.
 */
export const VIEWER_RULES = [
  {
    apiGroups: [
      'fluxcd.controlplane.io',
      'source.toolkit.fluxcd.io',
      'source.extensions.fluxcd.io',
      'kustomize.toolkit.fluxcd.io',
      'helm.toolkit.fluxcd.io',
      'image.toolkit.fluxcd.io',
      'notification.toolkit.fluxcd.io',
      'apps',
      'batch',
      'events.k8s.io',
      'networking.k8s.io',
      'gateway.networking.k8s.io',
      'apiextensions.k8s.io',
    ],
    resources: ['*'],
    verbs: ['get', 'list', 'watch'],
  },
  { apiGroups: [''], resources: ['namespaces', 'pods', 'services', 'events', 'serviceaccounts', 'persistentvolumeclaims'], verbs: ['get', 'list', 'watch'] },
];
/** ClusterRole the flux-operator chart creates with `web.rbac.createRoles` (templates/web-standard-roles.yaml). */
const WEB_ADMIN_ROLE = 'flux-web-admin';

/**
 * Names of what the dashboard adds, applied by the install Job after the releases: the admin
 * ServiceAccount and its token Secret (in spec.namespace), and the two ClusterRoleBindings (cluster-scoped,
 * so named after the parent's namespace and name).
 */
function dashboardNames(parent: KubeObject): { account: string; token: string; credentials: string; adminBinding: string; viewerBinding: string } {
  const ns = parent.metadata.namespace ?? 'default';
  const account = childName([parent.metadata.name, 'flux-admin']);
  return {
    account,
    token: childName([parent.metadata.name, 'flux-admin-token']),
    credentials: account,
    adminBinding: childName(['idpbuilder', ns, parent.metadata.name, 'flux-admin']),
    viewerBinding: childName(['idpbuilder', ns, parent.metadata.name, 'flux-web']),
  };
}

function resolve(parent: KubeObject): Resolved {
  const spec = (parent.spec ?? {}) as FluxProviderSpec;
  const namespace = spec.namespace ?? 'flux-system';
  const notification = spec.config?.notificationController?.enabled ?? true;
  const image = spec.imageAutomation?.enabled ?? false;
  const enabled = (Object.keys(CONTROLLERS) as ControllerKey[]).filter((k) =>
    k === 'notificationController' ? notification : k === 'imageAutomationController' || k === 'imageReflectionController' ? image : true,
  );
  return { spec, namespace, enabled, dashboard: spec.dashboard?.enabled ?? true };
}

/** The UI's route: always a host of its own (the UI serves only from `/`: no base path), default flux.<domain>. */
function dashboardRoute(spec: FluxProviderSpec): Route {
  return route('flux', { ...(spec.routing ?? {}), usePathRouting: false }, spec.dashboard?.host);
}

/**
 * flux-operator chart values for the web UI (docs/providers/fluxprovider.md, checked with helm template of
 * chart 0.49.0): the web config (`web.config`, rendered into Secret flux-operator-web-config), anonymous access
 * as WEB_IDENTITY, and the route: `web.ingress` for an Ingress gateway, `web.httpRoute` for a Gateway API one.
 */
function dashboardValues(r: Route, target: RouteTarget): Record<string, unknown> {
  const web: Record<string, unknown> = {
    enabled: true,
    config: {
      baseURL: r.endpoint,
      ...(r.protocol === 'http' ? { insecure: true } : {}),
      authentication: { type: 'Anonymous', anonymous: { username: WEB_IDENTITY, groups: [WEB_IDENTITY] } },
    },
    rbac: { createRoles: true },
  };
  if (target.kind === 'Ingress') {
    web.ingress = {
      enabled: true,
      className: target.className,
      hosts: [{ host: r.host, paths: [{ path: '/', pathType: 'Prefix' }] }],
      ...(r.protocol === 'https' ? { tls: [{ hosts: [r.host], ...(r.tlsSecretName ? { secretName: r.tlsSecretName } : {}) }] } : {}),
    };
  } else {
    web.httpRoute = { enabled: true, parentRefs: [target.parentRef], hostnames: [r.host] };
  }
  return { web };
}

/**
 * The flux-operator chart to install: spec.dashboard.installMethod.helm over CHARTS.fluxOperator. Unlike
 * chartFor, a helm block without `version` keeps the pinned version (the values above are checked against it).
 */
function dashboardChart(spec: FluxProviderSpec): { repository: string; chart: string; version: string } {
  const h = spec.dashboard?.installMethod?.helm;
  const d = CHARTS.fluxOperator;
  return { repository: h?.repository ?? d.repository, chart: h?.chart ?? d.chart, version: h?.version ?? d.version };
}

/** A relied-on object block: the user's values may repeat it but change nothing in it. */
const unchanged = (ours: unknown) => (user: unknown) => isDeepStrictEqual(mergeValues({ v: ours }, { v: user }).v, ours);

/**
 * flux-operator values the controller relies on (src/kit/values.ts) against spec.dashboard.values: the UI on
 * with our web config (not a Secret of the user's), its baseURL (status.endpoint), the anonymous identity bound
 * to VIEWER_RULES (the UI has no login), the chart's roles (WEB_ADMIN_ROLE is bound to the admin account), and
 * the route keys dashboardValues sets (annotations and other keys stay free).
 */
function dashboardRelied(ours: Record<string, unknown>): Relied[] {
  const web = ours.web as Record<string, Record<string, unknown>>;
  const out: Relied[] = [
    { path: ['web', 'enabled'], value: true, why: 'the UI is status.endpoint' },
    { path: ['web', 'configSecretName'], value: '', same: (u) => u === '' || u === null, why: 'the web config the controller writes (web.config) is the one served' },
    { path: ['web', 'config', 'baseURL'], value: web.config.baseURL, why: 'status.endpoint' },
    { path: ['web', 'config', 'authentication'], value: web.config.authentication, same: unchanged(web.config.authentication), why: `the UI has no login: anyone reaching it acts as ${WEB_IDENTITY}, bound to a read-only role` },
    { path: ['web', 'rbac', 'createRoles'], value: true, why: `the admin account of status.credentialsSecretRef is bound to the chart's ${WEB_ADMIN_ROLE} ClusterRole` },
  ];
  for (const k of ['ingress', 'httpRoute'] as const) {
    const route = web[k];
    if (!route) continue;
    for (const [key, value] of Object.entries(route)) {
      out.push({ path: ['web', k, key], value, ...(typeof value === 'object' ? { same: unchanged(value) } : {}), why: 'the route to status.endpoint through the platform\'s gateway' });
    }
  }
  return out;
}

/** What the install Job applies after the releases for the dashboard: the viewer binding, the admin account and its token. */
function dashboardManifests(parent: KubeObject, namespace: string): KubeObject[] {
  const n = dashboardNames(parent);
  const labels = { ...MANAGED_BY };
  const binding = (name: string, role: string, subject: Record<string, string>) => ({
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRoleBinding',
    metadata: { name, labels },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role },
    subjects: [subject],
  });
  return [
    // the viewer role before its binding (same name: one per provider, cluster-scoped)
    { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: n.viewerBinding, labels }, rules: VIEWER_RULES },
    binding(n.viewerBinding, n.viewerBinding, { apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: WEB_IDENTITY }),
    // the account before its token Secret: the token controller fills a Secret whose account exists
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: n.account, namespace, labels } },
    {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: n.token, namespace, labels, annotations: { 'kubernetes.io/service-account.name': n.account } },
      type: 'kubernetes.io/service-account-token',
    },
    binding(n.adminBinding, WEB_ADMIN_ROLE, { kind: 'ServiceAccount', name: n.account, namespace }),
  ] as KubeObject[];
}

/** spec → flux2 chart values (docs/providers/fluxprovider.md). */
function values(r: Resolved): Record<string, unknown> {
  const c = r.spec.config ?? {};
  const out: Record<string, unknown> = {};
  for (const k of ['sourceController', 'kustomizeController', 'helmController'] as const) {
    const resources = c[k]?.resources;
    if (resources) out[k] = { resources };
  }
  const n = c.notificationController;
  if (n && (n.enabled !== undefined || n.resources)) {
    out.notificationController = { ...(n.enabled !== undefined ? { create: n.enabled } : {}), ...(n.resources ? { resources: n.resources } : {}) };
  }
  // The chart installs the image controllers by default; like `flux install`, we install them only when asked.
  const image = r.spec.imageAutomation?.enabled ?? false;
  out.imageAutomationController = { create: image };
  out.imageReflectionController = { create: image };
  const m = r.spec.multitenancy;
  if (m) {
    out.multitenancy = {
      enabled: m.enabled,
      ...(m.defaultServiceAccount ? { defaultServiceAccount: m.defaultServiceAccount } : {}),
      ...(m.privileged !== undefined ? { privileged: m.privileged } : {}),
    };
  }
  return mergeValues(out, r.spec.values);
}

/** Values the controller relies on (src/kit/values.ts): the controllers Packages use, watching every namespace. */
function relied(): Relied[] {
  return [
    { path: ['sourceController', 'create'], value: true, why: 'Packages sync through GitRepositories, and status.internalEndpoint is source-controller' },
    { path: ['kustomizeController', 'create'], value: true, why: 'Packages sync through Kustomizations' },
    { path: ['watchAllNamespaces'], value: true, why: 'Packages create their GitRepositories and Kustomizations in their own namespaces' },
  ];
}

function customize(req: CustomizeRequest): CustomizeResponse {
  const r = resolve(req.parent);
  return {
    relatedResources: [
      jobPodsRule(req.parent),
      ...(r.dashboard ? gatewayRules(r.spec.routing, req) : []),
      // the admin token Kubernetes fills in (copied into credentialsSecretRef's child Secret)
      ...(r.dashboard ? [{ apiVersion: 'v1', resource: 'secrets', namespace: r.namespace, names: [dashboardNames(req.parent).token] }] : []),
      ...usersRules(req.parent, ['Package']),
      { apiVersion: 'apps/v1', resource: 'deployments', namespace: r.namespace, names: [...r.enabled.map((k) => CONTROLLERS[k]), ...(r.dashboard ? [OPERATOR_RELEASE] : [])] },
    ],
  };
}

function readyReplicas(d: KubeObject | undefined): number {
  return (d?.status as { readyReplicas?: number } | undefined)?.readyReplicas ?? 0;
}

function plan(req: SyncRequest): ProviderPlan {
  const r = resolve(req.parent);
  const v = chartVersion(FLUX2, r.spec);
  const settled = settle(values(r), relied(), r.spec.values);
  const controllers: Record<string, { ready: boolean }> = {};
  const notReady: string[] = [];
  const watched: [string, string][] = [...r.enabled.map((k): [string, string] => [k, CONTROLLERS[k]]), ...(r.dashboard ? [['dashboard', OPERATOR_RELEASE] as [string, string]] : [])];
  for (const [k, name] of watched) {
    const d = relatedObject(req, 'Deployment', 'apps/v1', r.namespace, name);
    if (!d) continue;
    const ready = readyReplicas(d) > 0;
    controllers[k] = { ready };
    if (!ready) notReady.push(name);
  }
  const status: Record<string, unknown> = {
    internalEndpoint: `http://source-controller.${r.namespace}.svc.cluster.local`,
    ...(v.version ? { version: v.version } : {}),
  };
  if (Object.keys(controllers).length) status.controllers = controllers;
  const credentials = r.dashboard ? adminTokenSecret(req, r.namespace) : undefined;
  const kept = credentials ? { children: [credentials] } : {};
  const releases = [release('flux2', r.namespace, v.chart, settled.values)];
  const conflicts = settled.conflict ? [settled.conflict.message] : [];
  let manifests: KubeObject[] | undefined;
  if (r.dashboard) {
    const gw = gatewayTarget(req, r.spec.routing);
    if ('blocked' in gw) return { blocked: gw.blocked, ...kept, status, conditions: v.conditions };
    const ours = dashboardValues(dashboardRoute(r.spec), gw.target);
    const user = r.spec.dashboard?.values;
    const web = settle(mergeValues(ours, user), dashboardRelied(ours), user, 'dashboard.values');
    if (web.conflict) conflicts.push(web.conflict.message);
    releases.push(release(OPERATOR_RELEASE, r.namespace, dashboardChart(r.spec), web.values));
    manifests = dashboardManifests(req.parent, r.namespace);
  }
  if (conflicts.length) return { blocked: { reason: CONFLICTING_VALUES, message: conflicts.join('; ') }, ...kept, status, conditions: v.conditions };
  return {
    ...(credentials ? { children: [credentials] } : {}),
    install: { releases, ...(manifests ? { manifests } : {}) },
    health: notReady.length ? { reason: 'ControllersNotReady', message: `no ready replica in ${r.namespace}: ${notReady.join(', ')}` } : undefined,
    status,
    conditions: v.conditions,
  };
}

/**
 * The child Secret credentialsSecretRef names (`<name>-flux-admin` in this object's namespace, keys `token`
 * and `ca.crt`): a copy of the ServiceAccount token Secret that Kubernetes fills in the Flux namespace, read as
 * a related object. Undefined while that token is not observed (an observed copy is then kept by the contract).
 */
function adminTokenSecret(req: SyncRequest, fluxNamespace: string): KubeObject | undefined {
  const n = dashboardNames(req.parent);
  const source = decodeSecretData(relatedObject(req, 'Secret', 'v1', fluxNamespace, n.token));
  if (!source.token) return undefined;
  const data: Record<string, string> = { token: source.token, ...(source['ca.crt'] ? { 'ca.crt': source['ca.crt'] } : {}) };
  return secret(n.credentials, req.parent.metadata.namespace ?? 'default', ownerLabels(req.parent, 'credentials'), data);
}

/**
 * The provider loop, then the dashboard's duck fields: `endpoint` (the UI) and `credentialsSecretRef` (the
 * admin token copy, key `token`, in this object's namespace: adminTokenSecret) enter the status only once the
 * install Job of this very spec (both releases, the route and the token manifests) has succeeded (an older
 * install without the dashboard proves nothing about it), credentialsSecretRef only once the copy exists.
 */
function sync(req: SyncRequest, env: HookEnv): SyncResponse {
  const p = plan(req);
  const res = syncProvider(req, env, p);
  const r = resolve(req.parent);
  const st = res.status as { installation?: { job?: string } };
  const job = st.installation?.job ? observedChild(req, 'Job', 'batch/v1', st.installation.job) : undefined;
  if (r.dashboard && p.install && jobState(job).phase === 'Succeeded') {
    const n = dashboardNames(req.parent);
    const ns = req.parent.metadata.namespace ?? 'default';
    const copied = !!p.children?.length || !!decodeSecretData(observedChild(req, 'Secret', 'v1', n.credentials)).token;
    res.status = {
      endpoint: dashboardRoute(r.spec).endpoint,
      ...(copied ? { credentialsSecretRef: { name: n.credentials, namespace: ns, key: 'token' } } : {}),
      ...res.status,
    };
  }
  return res;
}

/**
 * The FluxProvider hooks, wrapped by the controller contract: customize (the target cluster), sync (Helm install of
 * the flux2 chart and, with spec.dashboard (default on), the Flux Operator's web UI chart, both pinned in
 * ./defaults.ts) and finalize (uninstall unless Retain; waits while Packages use it).
 */
export const fluxProviderHooks: Hooks = contract({
  customize: (req) => withClusterRules(customize)(req),
  sync: (req: SyncRequest, env: HookEnv): SyncResponse => sync(req, env),
  finalize: (req, env) => finalizeProvider(req, env, { usedBy: ['Package'] }),
});
