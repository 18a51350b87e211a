/**
 * GiteaProvider: the Gitea chart (light single-pod setup: sqlite, no Valkey/PostgreSQL subcharts unless
 * asked), an admin credential Secret, and after the install a bootstrap Job that creates the
 * organizations and an API token Secret. Exposes the git provider duck type.
 */
import { clusterRefOf, kubeconfigSecretOf, serviceTunnel, withClusterRules } from '../kit/cluster.js';
import type { GiteaProviderSpec } from '../api/gitea.js';
import type { GiteaBootstrapConfig } from '../api/jobs.js';
import { ENV_GITEA_PASSWORD, ENV_GITEA_USERNAME, JOB_CONFIG_KEY, JOB_CONFIG_PATH, SECRET_KEY_PASSWORD, SECRET_KEY_USERNAME } from '../api/names.js';
import type { CustomizeRequest, CustomizeResponse, KubeObject, SyncRequest } from '../metacontroller/protocol.js';
import type { HookEnv, Hooks } from '../kit/hooks.js';
import { mergeValues, secretDigest, release } from '../kit/helm.js';
import { configMapObject, jobObject } from '../kit/jobs.js';
import { ownerLabels } from '../kit/labels.js';
import { childName, hashedName } from '../kit/names.js';
import { observedChild } from '../kit/observed.js';
import { usersRules } from '../kit/users.js';
import { finalizeProvider, jobPodsRule, syncProvider, type ProviderPlan, type Step } from '../kit/provider.js';
import { jobState } from '../kit/jobs.js';
import { relatedObjects } from '../kit/observed.js';
import { gatewayRules, gatewayTarget, httpRouteObject, httpRouteRule, route, type Route, type RouteTarget } from '../kit/routing.js';
import { adminCredential, credentialRule } from '../kit/secrets.js';
import { GITEA, tagVersion } from './versions.js';
import { settle, type Relied } from '../kit/values.js';
import { contract } from '../kit/contract.js';

const RELEASE = 'gitea';
const DEFAULT_ORGANIZATION = 'idpbuilder';

function names(parent: KubeObject) {
  return {
    admin: childName([parent.metadata.name, 'gitea-admin']),
    token: childName([parent.metadata.name, 'gitea-token']),
  };
}

function specOf(parent: KubeObject): GiteaProviderSpec {
  return (parent.spec ?? {}) as GiteaProviderSpec;
}

function internalEndpoint(namespace: string): string {
  return `http://${RELEASE}-http.${namespace}.svc.cluster.local:3000`;
}

/**
 * The Secret in the release namespace the chart reads the admin username and password from
 * (`gitea.admin.existingSecret`, keys `username` and `password`): written by the install Job from the admin
 * credential child, so the password is in no values file, pod spec or Git. Same name as today's idpbuilder.
 */
const CREDENTIAL_SECRET = 'gitea-credential';

/** The Service the chart makes for release RELEASE (`<fullname>-http`, port `service.http.port`). */
const HTTP_SERVICE = { name: `${RELEASE}-http`, port: 3000 };
/** Gitea's container registry answers at `/v2` on the host's root, whatever ROOT_URL's path. */
const REGISTRY_PATH = '/v2';

/**
 * Why `target` cannot route Gitea as asked, if it cannot. Gitea under a sub-path (ROOT_URL `…/gitea/`)
 * expects requests without the prefix (docs.gitea.com "Reverse Proxies": pass `/gitea/foo` as `/foo`), so
 * path routing needs a gateway that strips it.
 */
function routeProblem(r: Route, target: RouteTarget): string | undefined {
  if (!r.usePathRouting) return undefined;
  const can = target.kind === 'Ingress' ? target.prefixRewrite === 'NginxRewriteTarget' : target.prefixRewrite === 'URLRewrite';
  if (can) return undefined;
  return `path routing: Gitea needs ${r.path} stripped from requests and the gateway (${target.kind === 'Ingress' ? `Ingress class ${target.className}` : `Gateway ${target.parentRef.namespace}/${target.parentRef.name}`}) reports no prefixRewrite it can do that with; use host routing or a gateway that can rewrite paths`;
}

/**
 * spec → chart values (docs/providers/giteaprovider.md). The admin credential is referenced by name
 * (CREDENTIAL_SECRET), never given as a value; the username lives in that Secret. The chart's Ingress is used
 * when the gateway serves Ingress; an HTTPRoute gateway gets `routeManifests` instead.
 */
function values(spec: GiteaProviderSpec, r: Route, target: RouteTarget): Record<string, unknown> & { invalid?: string } {
  const db = spec.config?.database?.type ?? 'sqlite';
  const userDb = (spec.values as { gitea?: { config?: { database?: { HOST?: string } } } } | undefined)?.gitea?.config?.database;
  if (db === 'mysql' && !userDb?.HOST) return { invalid: 'database type mysql needs an external server: set values.gitea.config.database (DB_TYPE, HOST, NAME, USER, PASSWD)' };
  const database: Record<string, string> = db === 'sqlite' ? { DB_TYPE: 'sqlite3' } : db === 'postgres' ? { DB_TYPE: 'postgres' } : { DB_TYPE: 'mysql' };
  const ing = spec.config?.ingress ?? {};
  const routed = ing.enabled ?? true;
  if (routed) {
    const problem = routeProblem(r, target);
    if (problem) return { invalid: problem };
  }
  const ingress: Record<string, unknown> = { enabled: routed && target.kind === 'Ingress' };
  if (ingress.enabled && target.kind === 'Ingress') {
    ingress.className = target.className;
    if (r.usePathRouting) {
      ingress.annotations = { 'nginx.ingress.kubernetes.io/rewrite-target': '/$2', 'nginx.ingress.kubernetes.io/proxy-body-size': '512m' };
      ingress.hosts = [{ host: r.host, paths: [{ path: `${r.path}(/|$)(.*)`, pathType: 'ImplementationSpecific' }] }];
    } else {
      ingress.annotations = { 'nginx.ingress.kubernetes.io/proxy-body-size': '512m' };
      ingress.hosts = [{ host: r.host, paths: [{ path: '/', pathType: 'Prefix' }] }];
    }
    if (r.protocol === 'https') ingress.tls = [{ hosts: [r.host], ...(r.tlsSecretName ? { secretName: r.tlsSecretName } : {}) }];
  }
  const persistence = spec.config?.persistence;
  return mergeValues(
    {
      gitea: {
        admin: { existingSecret: CREDENTIAL_SECRET, email: spec.adminUser?.email ?? `admin@${r.host}`, passwordMode: 'keepUpdated' },
        config: {
          database,
          server: { DOMAIN: r.host, ROOT_URL: `${r.endpoint}/` },
          session: { PROVIDER: 'memory' },
          cache: { ADAPTER: 'memory' },
          queue: { TYPE: 'level' },
        },
      },
      'valkey-cluster': { enabled: false },
      valkey: { enabled: false },
      'postgresql-ha': { enabled: false },
      postgresql: { enabled: db === 'postgres' },
      persistence: {
        enabled: persistence?.enabled ?? true,
        size: persistence?.size ?? '5Gi',
        ...(persistence?.storageClass ? { storageClass: persistence.storageClass } : {}),
      },
      test: { enabled: false },
      ingress,
    },
    tagVersion(GITEA, spec).values,
    spec.values,
  );
}

/**
 * Routes the chart cannot make, applied after the release in `namespace`: for a gateway that serves
 * HTTPRoutes, one HTTPRoute `gitea` (the UI at `r.path`, prefix stripped under path routing; `/v2` for the
 * registry under path routing); for an Ingress gateway under path routing, the Ingress `gitea-registry` for
 * `/v2` (the chart's Ingress carries the rewrite annotation, which would rewrite `/v2` too). Nothing when
 * routing is off (`config.ingress.enabled: false`).
 */
function routeManifests(spec: GiteaProviderSpec, r: Route, target: RouteTarget, namespace: string, labels: Record<string, string>): KubeObject[] {
  if (!(spec.config?.ingress?.enabled ?? true)) return [];
  if (target.kind === 'HTTPRoute') {
    const rules = [httpRouteRule(r.path, HTTP_SERVICE, r.usePathRouting)];
    if (r.usePathRouting) rules.push(httpRouteRule(REGISTRY_PATH, HTTP_SERVICE));
    return [httpRouteObject({ name: RELEASE, namespace, labels }, target.parentRef, [r.host], rules)];
  }
  if (!r.usePathRouting) return [];
  return [
    {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'Ingress',
      metadata: { name: `${RELEASE}-registry`, namespace, labels, annotations: { 'nginx.ingress.kubernetes.io/proxy-body-size': '512m' } },
      spec: {
        ingressClassName: target.className,
        rules: [{ host: r.host, http: { paths: [{ path: REGISTRY_PATH, pathType: 'Prefix', backend: { service: { name: HTTP_SERVICE.name, port: { number: HTTP_SERVICE.port } } } }] } }],
        ...(r.protocol === 'https' ? { tls: [{ hosts: [r.host], ...(r.tlsSecretName ? { secretName: r.tlsSecretName } : {}) }] } : {}),
      },
    } as KubeObject,
  ];
}

/** Values the controller relies on (src/kit/values.ts): Gitea's URL, the admin credential, the Service. */
function relied(spec: GiteaProviderSpec, r: Route, target: RouteTarget): Relied[] {
  const out: Relied[] = [
    { path: ['gitea', 'config', 'server', 'ROOT_URL'], value: `${r.endpoint}/`, same: (u) => String(u).replace(/\/+$/, '') === r.endpoint, why: 'status.endpoint: clone URLs and redirects' },
    { path: ['gitea', 'config', 'server', 'DOMAIN'], value: r.host, why: 'status.endpoint' },
    { path: ['gitea', 'admin', 'existingSecret'], value: CREDENTIAL_SECRET, why: 'the admin credential the bootstrap Job uses' },
    { path: ['gitea', 'admin', 'passwordMode'], value: 'keepUpdated', why: 'a changed admin password must reach Gitea' },
    { path: ['service', 'http', 'port'], value: 3000, why: 'status.internalEndpoint' },
    { path: ['fullnameOverride'], value: RELEASE, why: `Service ${RELEASE}-http is status.internalEndpoint` },
    { path: ['nameOverride'], value: 'gitea', why: `Service ${RELEASE}-http is status.internalEndpoint` },
  ];
  if ((spec.config?.ingress?.enabled ?? true) && target.kind === 'Ingress') out.push({ path: ['ingress', 'className'], value: target.className, why: 'the gateway\'s ingress class (set spec.config.ingress.className to choose another)' });
  return out;
}

function customize(req: CustomizeRequest): CustomizeResponse {
  const spec = specOf(req.parent);
  return {
    relatedResources: [jobPodsRule(req.parent), ...usersRules(req.parent, ['GitRepository']), ...credentialRule(spec.adminUser?.passwordSecretRef, req.parent), ...gatewayRules(spec.routing, req)],
  };
}

function plan(req: SyncRequest, env: HookEnv): ProviderPlan {
  const parent = req.parent;
  const spec = specOf(parent);
  const ns = parent.metadata.namespace ?? 'default';
  const target = spec.namespace ?? 'gitea';
  const n = names(parent);
  const ver = tagVersion(GITEA, spec);
  const r = route('gitea', spec.routing, spec.config?.ingress?.host);
  const username = spec.adminUser?.username ?? 'giteaAdmin';
  const status: Record<string, unknown> = {
    endpoint: r.endpoint,
    internalEndpoint: internalEndpoint(target),
    credentialsSecretRef: { name: n.token, namespace: ns, key: 'token' },
    ...(ver.version ? { version: ver.version } : {}),
    adminUser: { username },
    organization: spec.organizations?.[0]?.name ?? DEFAULT_ORGANIZATION,
  };
  const cred = adminCredential(req, env, {
    name: n.admin,
    username,
    ref: spec.adminUser?.passwordSecretRef,
    field: 'spec.adminUser.passwordSecretRef',
    autoGenerate: spec.adminUser?.autoGenerate ?? true,
    labels: ownerLabels(parent, 'credentials'),
  });
  const conditions = ver.conditions;
  if ('blocked' in cred) return { blocked: cred.blocked, status, conditions };
  const gw = gatewayTarget(req, spec.routing, spec.config?.ingress?.className);
  if ('blocked' in gw) return { blocked: gw.blocked, children: [cred.secret], status, conditions };
  const computed = values(spec, r, gw.target);
  if (typeof computed.invalid === 'string') return { blocked: { reason: 'InvalidSpec', message: computed.invalid }, children: [cred.secret], status, conditions };
  const { values: v, conflict } = settle(computed, relied(spec, r, gw.target), spec.values);
  if (conflict) return { blocked: conflict, children: [cred.secret], status, conditions };
  const manifests = routeManifests(spec, r, gw.target, target, ownerLabels(parent, 'route'));

  const organizations = spec.organizations?.length ? spec.organizations : [{ name: DEFAULT_ORGANIZATION, description: 'idpbuilder repositories' }];
  // On a target cluster the Job (in the management cluster) reaches Gitea's Service through the target's API server.
  const clusterRef = clusterRefOf(parent);
  const kubeconfig = clusterRef ? kubeconfigSecretOf(clusterRef) : undefined;
  const tunnel = kubeconfig ? serviceTunnel(internalEndpoint(target), { namespace: ns, name: kubeconfig.secret, key: kubeconfig.key }) : undefined;
  const bootstrapConfig: GiteaBootstrapConfig = {
    endpoint: internalEndpoint(target),
    ...(tunnel ? { tunnel } : {}),
    organizations,
    tokenName: 'idpbuilder',
    tokenSecret: {
      namespace: ns,
      name: n.token,
      labels: ownerLabels(parent, 'credentials'),
      ownerReference: { apiVersion: parent.apiVersion, kind: parent.kind, name: parent.metadata.name, uid: parent.metadata.uid ?? '' },
    },
    timeoutSeconds: 600,
  };
  const digest = secretDigest(cred.data);
  return {
    children: [cred.secret],
    install: {
      releases: [
        release(RELEASE, target, ver.chart, v, {
          // The chart reads the credential from this Secret (values: gitea.admin.existingSecret), in the install
          // and in the GitOps copy alike; a changed password restarts Gitea, whose init container applies it.
          secrets: [{ name: CREDENTIAL_SECRET, from: n.admin, keys: ['password', 'username'], labels: ownerLabels(parent, 'credentials'), restart: [`deployment/${RELEASE}`] }],
        }),
      ],
      ...(manifests.length ? { manifests } : {}),
      secretDigests: { [n.admin]: digest },
    },
    after: (): Step[] => {
      const name = hashedName([parent.metadata.name, 'bootstrap'], { bootstrapConfig, digest });
      const labels = ownerLabels(parent, 'bootstrap');
      const job = jobObject(
        {
          name,
          namespace: ns,
          labels,
          ownerUid: parent.metadata.uid,
          command: ['idpbuilder', 'job', 'gitea-bootstrap', '--config', JOB_CONFIG_PATH],
          configMap: name,
          env: [
            { name: ENV_GITEA_USERNAME, valueFrom: { secretKeyRef: { name: n.admin, key: SECRET_KEY_USERNAME } } },
            { name: ENV_GITEA_PASSWORD, valueFrom: { secretKeyRef: { name: n.admin, key: SECRET_KEY_PASSWORD } } },
          ],
          backoffLimit: 4,
          activeDeadlineSeconds: 900,
        },
        env,
      );
      const state = jobState(observedChild(req, 'Job', 'batch/v1', name), relatedObjects(req, 'Pod', 'v1'));
      return [{ name: 'bootstrap', children: [configMapObject(name, ns, labels, { [JOB_CONFIG_KEY]: JSON.stringify(bootstrapConfig, null, 2) }), job], state }];
    },
    status,
    conditions,
  };
}

/**
 * The GiteaProvider hooks, wrapped by the controller contract: customize (referenced Secrets, gateway and target
 * cluster), sync (Helm install of the gitea chart pinned in ./defaults.ts, then the bootstrap Job that makes
 * organizations and the API token) and finalize (uninstall unless Retain; waits while GitRepositories use it).
 */
export const giteaProviderHooks: Hooks = contract({
  customize: (req) => withClusterRules(customize)(req),
  sync: (req, env) => syncProvider(req, env, plan(req, env)),
  finalize: (req, env) => finalizeProvider(req, env, { usedBy: ['GitRepository'] }),
});
