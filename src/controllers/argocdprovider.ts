/**
 * ArgoCDProvider: the argo-cd chart with Applications allowed in the controllers' namespace (children
 * live beside their parent, so idpbuilder's Applications live there), an admin credential Secret (its
 * bcrypt hash goes to the chart with --set-file), and AppProjects applied after the chart (the CRDs come
 * from the same release, so the chart itself cannot create them). Exposes the GitOps provider duck type.
 */
import { argoRegistrations, clusterRules, withClusterRules } from '../kit/cluster.js';
import type { ArgoCDProviderSpec } from '../api/gitops.js';
import type { CustomizeRequest, CustomizeResponse, KubeObject, SyncRequest } from '../metacontroller/protocol.js';
import type { HookEnv, Hooks } from '../kit/hooks.js';
import { mergeValues, secretDigest, release } from '../kit/helm.js';
import { ownerLabels } from '../kit/labels.js';
import { childName } from '../kit/names.js';
import { relatedObject } from '../kit/observed.js';
import { usersRules } from '../kit/users.js';
import { finalizeProvider, jobPodsRule, syncProvider, type ProviderPlan } from '../kit/provider.js';
import { gatewayRules, gatewayTarget, route, type Route, type RouteTarget } from '../kit/routing.js';
import { adminCredential, credentialRule } from '../kit/secrets.js';
import { ARGO_CD, tagVersion } from './versions.js';
import { commaItems, getPath, settle, type Relied } from '../kit/values.js';
import { contract } from '../kit/contract.js';
import { repositoryCredentials, repositoryCredentialsRules } from './argocd-repocreds.js';
import { MANAGED_BY } from '../api/names.js';

const RELEASE = 'argocd';
/** Today's Secret with Argo CD's admin password (key `password`), in the Argo CD release namespace. */
const INITIAL_ADMIN_SECRET = 'argocd-initial-admin-secret';

function adminSecretName(parent: KubeObject): string {
  return childName([parent.metadata.name, 'argocd-admin']);
}

function specOf(parent: KubeObject): ArgoCDProviderSpec {
  return (parent.spec ?? {}) as ArgoCDProviderSpec;
}

/**
 * spec → chart values (docs/providers/argocdprovider.md). The route is the chart's `server.ingress` for a
 * gateway that serves Ingress, its `server.httproute` for one that serves HTTPRoutes; both forward paths
 * unchanged (under path routing argocd-server serves under `server.rootpath` itself).
 */
function values(spec: ArgoCDProviderSpec, r: Route, target: RouteTarget, applicationNamespaces: string[]): Record<string, unknown> {
  const c = spec.config ?? {};
  const params: Record<string, unknown> = { 'server.insecure': true, 'application.namespaces': applicationNamespaces.join(', ') };
  if (r.usePathRouting) {
    params['server.basehref'] = r.path;
    params['server.rootpath'] = r.path;
  }
  const routed = c.server?.ingress?.enabled ?? true;
  const hosts = c.server?.ingress?.hosts?.length ? c.server.ingress.hosts : [r.host];
  const server: Record<string, unknown> = {
    ingress: routed && target.kind === 'Ingress'
      ? {
          enabled: true,
          ingressClassName: target.className,
          hostname: c.server?.ingress?.hosts?.[0] ?? r.host,
          path: r.path,
          pathType: 'Prefix',
          tls: r.protocol === 'https',
          ...(c.server?.ingress?.hosts && c.server.ingress.hosts.length > 1 ? { extraHosts: c.server.ingress.hosts.slice(1).map((name) => ({ name, path: r.path })) } : {}),
        }
      : { enabled: false },
  };
  if (routed && target.kind === 'HTTPRoute') {
    // The chart renders one backendRef (argocd-server, port 80 when server.insecure) per rule.
    server.httproute = { enabled: true, parentRefs: [target.parentRef], hostnames: hosts, rules: [{ matches: [{ path: { type: 'PathPrefix', value: r.path } }] }] };
  }
  if (c.server?.extraArgs) server.extraArgs = c.server.extraArgs;
  if (c.server?.replicas !== undefined) server.replicas = c.server.replicas;
  if (c.server?.resources) server.resources = c.server.resources;
  const scaled = (x: { replicas?: number; resources?: unknown } | undefined) =>
    x ? { ...(x.replicas !== undefined ? { replicas: x.replicas } : {}), ...(x.resources ? { resources: x.resources } : {}) } : undefined;
  return mergeValues(
    {
      global: { domain: r.host },
      // Argo CD's external URL (links, SSO redirects): the chart's default is https://<global.domain>, whatever the port or path.
      configs: { params, cm: { 'timeout.reconciliation': '60s', url: r.endpoint } },
      server,
      controller: scaled(c.controller),
      repoServer: scaled(c.repoServer),
      dex: { enabled: c.dex?.enabled ?? false },
      notifications: { enabled: c.notifications?.enabled ?? false },
    },
    tagVersion(ARGO_CD, spec).values,
    spec.values,
  );
}

/** Values the controller relies on (src/kit/values.ts). `application.namespaces` is joined with the user's list. */
function relied(r: Route, target: RouteTarget, applicationNamespaces: string[], ingressEnabled: boolean): Relied[] {
  const truthy = (v: unknown) => String(v) === 'true';
  const out: Relied[] = [
    { path: ['configs', 'params', 'application.namespaces'], value: applicationNamespaces.join(','), merge: 'commaList', why: 'Applications are created there' },
    { path: ['configs', 'params', 'server.insecure'], value: true, same: truthy, why: 'TLS ends at the ingress, which talks HTTP to argocd-server' },
    { path: ['configs', 'cm', 'url'], value: r.endpoint, same: (u) => String(u).replace(/\/+$/, '') === r.endpoint, why: 'status.endpoint' },
    { path: ['configs', 'secret', 'createSecret'], value: true, same: truthy, why: 'the admin password of credentialsSecretRef is set through argocd-secret' },
    { path: ['nameOverride'], value: 'argocd', why: `Deployment ${RELEASE}-server and StatefulSet ${RELEASE}-application-controller are read for status` },
    { path: ['fullnameOverride'], value: RELEASE, why: `Deployment ${RELEASE}-server and StatefulSet ${RELEASE}-application-controller are read for status` },
  ];
  if (r.usePathRouting) {
    out.push({ path: ['configs', 'params', 'server.basehref'], value: r.path, why: `Argo CD is served under ${r.path}` });
    out.push({ path: ['configs', 'params', 'server.rootpath'], value: r.path, why: `Argo CD is served under ${r.path}` });
  }
  if (ingressEnabled && target.kind === 'Ingress') out.push({ path: ['server', 'ingress', 'ingressClassName'], value: target.className, why: 'the gateway\'s ingress class (set spec.config.server.ingress.ingressClassName to choose another)' });
  return out;
}

/** AppProjects: `default` always accepts Applications from the controllers' namespace; then the spec's projects. */
function appProjects(spec: ArgoCDProviderSpec, target: string, sourceNamespaces: string[]): KubeObject[] {
  const byName = new Map<string, NonNullable<ArgoCDProviderSpec['projects']>[number]>();
  byName.set('default', { name: 'default' });
  for (const p of spec.projects ?? []) byName.set(p.name, p);
  return [...byName.values()].map((p) => ({
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'AppProject',
    metadata: { name: p.name, namespace: target, labels: { ...MANAGED_BY } },
    spec: {
      ...(p.description ? { description: p.description } : {}),
      sourceRepos: p.sourceRepos ?? ['*'],
      destinations: (p.destinations ?? [{ server: '*', namespace: '*' }]).map((d) => ({ server: d.server ?? '*', namespace: d.namespace ?? '*' })),
      clusterResourceWhitelist: [{ group: '*', kind: '*' }],
      sourceNamespaces,
    },
  })) as KubeObject[];
}

function customize(req: CustomizeRequest): CustomizeResponse {
  const spec = specOf(req.parent);
  const target = spec.namespace ?? 'argocd';
  return {
    relatedResources: [
      jobPodsRule(req.parent),
      ...usersRules(req.parent, ['Package']),
      ...credentialRule(spec.adminCredentials?.secretRef ? { ...spec.adminCredentials.secretRef, key: 'password' } : undefined, req.parent),
      ...gatewayRules(spec.routing, req),
      ...repositoryCredentialsRules(spec, req.parent),
      { apiVersion: 'apps/v1', resource: 'deployments', namespace: target, names: [`${RELEASE}-server`] },
      { apiVersion: 'apps/v1', resource: 'statefulsets', namespace: target, names: [`${RELEASE}-application-controller`] },
      ...(spec.clusters ?? []).flatMap((c) => clusterRules(c, req.parent)),
    ],
  };
}

function plan(req: SyncRequest, env: HookEnv): ProviderPlan {
  const parent = req.parent;
  const spec = specOf(parent);
  const ns = parent.metadata.namespace ?? 'default';
  const target = spec.namespace ?? 'argocd';
  const v = tagVersion(ARGO_CD, spec);
  const r = route('argocd', spec.routing, spec.config?.server?.ingress?.hosts?.[0]);
  const secretName = adminSecretName(parent);
  const appNamespaces = [...new Set([env.settings.controllerNamespace, ns])].sort();
  const server = relatedObject(req, 'Deployment', 'apps/v1', target, `${RELEASE}-server`);
  const controller = relatedObject(req, 'StatefulSet', 'apps/v1', target, `${RELEASE}-application-controller`);
  const status: Record<string, unknown> = {
    endpoint: r.endpoint,
    internalEndpoint: `http://${RELEASE}-server.${target}.svc.cluster.local`,
    credentialsSecretRef: { name: secretName, namespace: ns, key: 'password' },
    ...(v.version ? { version: v.version } : {}),
    // effective: the user's values.configs.params."application.namespaces" joined with ours
    applicationNamespaces: [...new Set([...commaItems(getPath(spec.values, ['configs', 'params', 'application.namespaces'])), ...appNamespaces])],
  };
  const serverReady = server ? ((server.status as { readyReplicas?: number })?.readyReplicas ?? 0) > 0 : undefined;
  const controllerReady = controller ? ((controller.status as { readyReplicas?: number })?.readyReplicas ?? 0) > 0 : undefined;
  if (serverReady !== undefined) status.serverHealth = { status: serverReady ? 'Healthy' : 'Progressing' };
  if (controllerReady !== undefined) status.applicationController = { ready: controllerReady };

  const cred = adminCredential(req, env, {
    name: secretName,
    username: 'admin',
    ref: spec.adminCredentials?.secretRef ? { ...spec.adminCredentials.secretRef, key: 'password' } : undefined,
    field: 'spec.adminCredentials.secretRef',
    autoGenerate: spec.adminCredentials?.autoGenerate ?? true,
    labels: ownerLabels(parent, 'credentials'),
    bcrypt: true,
  });
  if ('blocked' in cred) return { blocked: cred.blocked, status, conditions: v.conditions };
  const gw = gatewayTarget(req, spec.routing, spec.config?.server?.ingress?.ingressClassName);
  if ('blocked' in gw) return { blocked: gw.blocked, children: [cred.secret], status, conditions: v.conditions };
  // Repository credentials for Argo CD (./argocd-repocreds.ts): copies, credential templates, CAs.
  const repos = repositoryCredentials(req, parent, spec);
  const conds = repos.condition ? [...v.conditions, repos.condition] : v.conditions;
  const settled = settle(mergeValues(values(spec, r, gw.target, appNamespaces), repos.values), relied(r, gw.target, appNamespaces, spec.config?.server?.ingress?.enabled ?? true), spec.values);
  if (settled.conflict) return { blocked: settled.conflict, children: [cred.secret], status, conditions: conds };
  // spec.clusters: Argo CD cluster Secrets written by the install Job into Argo CD's namespace (docs/multi-cluster.md)
  const clusters = argoRegistrations(req, spec.clusters, ownerLabels(parent, 'cluster'));
  if (spec.clusters?.length) status.clusters = clusters.statuses;
  const conditions = [...conds, ...(clusters.condition ? [clusters.condition] : [])];
  const notReady = serverReady === false ? 'argocd-server' : controllerReady === false ? 'argocd-application-controller' : undefined;
  return {
    children: [cred.secret, ...repos.children, ...clusters.children],
    install: {
      releases: [
        release(RELEASE, target, v.chart, settled.values, {
          secretValues: [{ path: 'configs.secret.argocdServerAdminPassword', secret: secretName, key: 'bcrypt' }],
          // Today's name for the admin password (what `idpbuilder get secrets -p argocd` and scripts read):
          // written by the install Job from the admin child Secret, so it follows the provider's credential.
          // The chart never renders it (argo-cd only writes it from argocd-server when argocd-secret has no
          // admin.password, and configs.secret.argocdServerAdminPassword sets one).
          secrets: [{ name: INITIAL_ADMIN_SECRET, from: secretName, keys: ['password'], labels: ownerLabels(parent, 'credentials') }, ...repos.secrets, ...clusters.secrets],
          // Argo CD syncs its own release without the admin hash: leave the Secret the install Job made alone.
          gitOpsValues: { configs: { secret: { createSecret: false } } },
        }),
      ],
      manifests: appProjects(spec, target, appNamespaces),
      secretDigests: { [secretName]: secretDigest(cred.data), ...repos.digests, ...clusters.digests },
    },
    health: notReady ? { reason: 'ComponentNotReady', message: `${notReady} has no ready replica` } : undefined,
    status,
    conditions,
  };
}

/**
 * The ArgoCDProvider hooks, wrapped by the controller contract: customize (referenced objects and the target
 * cluster), sync (Helm install of the argo-cd chart pinned in ./defaults.ts, admin credentials, AppProjects, cluster
 * registrations, repository credentials) and finalize (uninstall unless Retain; waits while Packages use it).
 */
export const argoCDProviderHooks: Hooks = contract({
  customize: (req) => withClusterRules(customize)(req),
  sync: (req, env) => syncProvider(req, env, plan(req, env)),
  finalize: (req, env) => finalizeProvider(req, env, { usedBy: ['Package'] }),
});
