/**
 * The one list of our kinds. CRDs, offline validation, the hook routes and the Metacontroller manifests
 * all derive from it.
 */
import { Type, type TSchema } from '@sinclair/typebox';
import { GROUP } from './common.js';
import { GiteaProviderSpec, GiteaProviderStatus } from './gitea.js';
import { GitHubProviderSpec, GitHubProviderStatus } from './github.js';
import { GitLabProviderSpec, GitLabProviderStatus } from './gitlab.js';
import {
  EnvoyGatewaySpec,
  EnvoyGatewayStatus,
  IstioGatewaySpec,
  IstioGatewayStatus,
  NginxGatewaySpec,
  NginxGatewayStatus,
} from './gateways.js';
import { ArgoCDProviderSpec, ArgoCDProviderStatus, FluxProviderSpec, FluxProviderStatus } from './gitops.js';
import { GitRepositorySpec, GitRepositoryStatus } from './gitrepository.js';
import { PackageSpec, PackageStatus } from './package.js';
import { PlatformSpec, PlatformStatus } from './platform.js';
import { ReferenceGrantSpec } from './referencegrant.js';

/**
 * The duck-typed status contracts a kind can honour: `git` (git providers), `gateway` (gateways), `gitops` (Argo CD,
 * Flux).
 */
export type Duck = 'git' | 'gateway' | 'gitops';

/**
 * One `additionalPrinterColumns` entry of a CRD version (Kubernetes apiextensions v1): column name, type, JSON path
 * into the object, and priority (0 in the default view, >0 only with `-o wide`).
 */
export interface PrinterColumn {
  name: string;
  type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  jsonPath: string;
  priority?: number;
}

/**
 * What the code knows of one idpbuilder kind: its names (kind, plural, singular, short names), spec and status
 * schemas, duck contract, whether a controller reconciles it, extra printer columns and the CRD description.
 */
export interface KindDef {
  kind: string;
  plural: string;
  singular: string;
  shortNames: string[];
  /** Which duck-typed status contract the kind honours, if any. */
  duck?: Duck;
  spec: TSchema;
  /** Absent for a kind without status (and then without a status subresource). */
  status?: TSchema;
  /**
   * false for a kind no controller reconciles (ReferenceGrant: only read by other controllers): no hooks,
   * no CompositeController. Default true.
   */
  controlled?: boolean;
  /**
   * The kind's own `kubectl get` columns, between Phase and Age: what users look for first (endpoint,
   * version, domain, commit, sync and health).
   */
  columns?: PrinterColumn[];
  description: string;
}

const endpoint: PrinterColumn = { name: 'Endpoint', type: 'string', jsonPath: '.status.endpoint' };
const lbEndpoint: PrinterColumn = { name: 'Endpoint', type: 'string', jsonPath: '.status.loadBalancerEndpoint' };
/** The application version that runs (absent while unknown: see the VersionUnverified condition). */
const version: PrinterColumn = { name: 'Version', type: 'string', jsonPath: '.status.version' };
const installed = (endpointColumn: PrinterColumn): PrinterColumn[] => [endpointColumn, version];

/**
 * Every idpbuilder kind, in the order the CRDs, manifests and docs list them; the single source of
 * src/codegen/crds.ts.
 */
export const KINDS: readonly KindDef[] = [
  { kind: 'Platform', plural: 'platforms', singular: 'platform', shortNames: ['plat'], spec: PlatformSpec, status: PlatformStatus, columns: [{ name: 'Domain', type: 'string', jsonPath: '.spec.domain' }, { name: 'Clusters', type: 'string', jsonPath: '.status.clusters[*].name', priority: 1 }], description: 'An internal developer platform: references to git, gateway and GitOps providers (or inline components) wired together and bootstrapped through GitOps.' },
  { kind: 'GiteaProvider', plural: 'giteaproviders', singular: 'giteaprovider', shortNames: ['giteap'], duck: 'git', spec: GiteaProviderSpec, status: GiteaProviderStatus, columns: installed(endpoint), description: 'A Gitea server installed in the cluster with Helm.' },
  { kind: 'GitHubProvider', plural: 'githubproviders', singular: 'githubprovider', shortNames: ['ghp'], duck: 'git', spec: GitHubProviderSpec, status: GitHubProviderStatus, columns: [endpoint], description: 'A GitHub (or GitHub Enterprise) organization used as git provider.' },
  { kind: 'GitLabProvider', plural: 'gitlabproviders', singular: 'gitlabprovider', shortNames: ['glp'], duck: 'git', spec: GitLabProviderSpec, status: GitLabProviderStatus, columns: [endpoint], description: 'A GitLab group (gitlab.com or self-hosted) used as git provider.' },
  { kind: 'NginxGateway', plural: 'nginxgateways', singular: 'nginxgateway', shortNames: ['ngw'], duck: 'gateway', spec: NginxGatewaySpec, status: NginxGatewayStatus, columns: installed(lbEndpoint), description: 'The ingress-nginx controller installed with Helm.' },
  { kind: 'EnvoyGateway', plural: 'envoygateways', singular: 'envoygateway', shortNames: ['egw'], duck: 'gateway', spec: EnvoyGatewaySpec, status: EnvoyGatewayStatus, columns: installed(lbEndpoint), description: 'Envoy Gateway with a GatewayClass and a Gateway.' },
  { kind: 'IstioGateway', plural: 'istiogateways', singular: 'istiogateway', shortNames: ['igw'], duck: 'gateway', spec: IstioGatewaySpec, status: IstioGatewayStatus, columns: installed(lbEndpoint), description: 'Istio control plane and ingress gateway.' },
  { kind: 'ArgoCDProvider', plural: 'argocdproviders', singular: 'argocdprovider', shortNames: ['argop'], duck: 'gitops', spec: ArgoCDProviderSpec, status: ArgoCDProviderStatus, columns: installed(endpoint), description: 'Argo CD installed with Helm.' },
  { kind: 'FluxProvider', plural: 'fluxproviders', singular: 'fluxprovider', shortNames: ['fluxp'], duck: 'gitops', spec: FluxProviderSpec, status: FluxProviderStatus, columns: installed(endpoint), description: 'Flux controllers installed with Helm.' },
  { kind: 'GitRepository', plural: 'gitrepositories', singular: 'gitrepository', shortNames: ['idprepo'], spec: GitRepositorySpec, status: GitRepositoryStatus, columns: [
      { name: 'URL', type: 'string', jsonPath: '.status.url' },
      { name: 'Commit', type: 'string', jsonPath: '.status.commitSHA' },
    ], description: 'A repository on any git provider, filled from embedded, local or remote sources.' },
  { kind: 'Package', plural: 'packages', singular: 'package', shortNames: ['idppkg'], spec: PackageSpec, status: PackageStatus, columns: [
      { name: 'Sync', type: 'string', jsonPath: '.status.argoApplication.syncStatus' },
      { name: 'Health', type: 'string', jsonPath: '.status.argoApplication.healthStatus' },
      { name: 'Application', type: 'string', jsonPath: '.status.argoApplication.name', priority: 1 },
    ], description: 'An application deployed from a GitRepository through a GitOps provider.' },
  { kind: 'ReferenceGrant', plural: 'referencegrants', singular: 'referencegrant', shortNames: ['idprefgrant'], spec: ReferenceGrantSpec, controlled: false, description: 'Lets objects of other namespaces reference objects of this namespace (modelled on Gateway API ReferenceGrant).' },
];

/** The kinds a controller reconciles (every kind but ReferenceGrant). */
export const CONTROLLED_KINDS: readonly KindDef[] = KINDS.filter((k) => k.controlled !== false);

/** KINDS by `kind` (e.g. `GiteaProvider`). */
export const KIND_BY_NAME: ReadonlyMap<string, KindDef> = new Map(KINDS.map((k) => [k.kind, k]));
/** KINDS by plural resource name (e.g. `giteaproviders`, as in hook URLs and RBAC). */
export const KIND_BY_PLURAL: ReadonlyMap<string, KindDef> = new Map(KINDS.map((k) => [k.plural, k]));

const ObjectMeta = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 253, pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$' }),
  namespace: Type.Optional(Type.String({ minLength: 1, maxLength: 63, pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$' })),
  labels: Type.Optional(Type.Record(Type.String(), Type.String())),
  annotations: Type.Optional(Type.Record(Type.String(), Type.String())),
}, { additionalProperties: true });

/**
 * The whole object as `kubectl apply` sends it. metadata is checked loosely (the API server owns it),
 * apart from name and namespace syntax.
 */
export function objectSchema(def: KindDef): TSchema {
  return Type.Object(
    {
      apiVersion: Type.String(),
      kind: Type.Literal(def.kind),
      metadata: ObjectMeta,
      spec: def.spec,
      ...(def.status ? { status: Type.Optional(def.status) } : {}),
    },
    { additionalProperties: false },
  );
}

/**
 * Whether `apiVersion` is one of idpbuilder's served versions (`idpbuilder.cnoe.io/v1alpha1` or `/v1alpha2`); false
 * for anything else, including non-strings.
 */
export function isOurApiVersion(apiVersion: unknown): boolean {
  return typeof apiVersion === 'string' && (apiVersion === `${GROUP}/v1alpha1` || apiVersion === `${GROUP}/v1alpha2`);
}
