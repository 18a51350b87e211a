/**
 * Every controller of the service, in one list. The HTTP routes (src/server) and the Metacontroller
 * manifests (metacontroller/, generated) both come from here, so they cannot disagree.
 */
import { CONTROLLED_KINDS } from '../api/kinds.js';
import type { ControllerDef, Hooks } from '../kit/hooks.js';
import { CONFIGMAPS, JOBS, SECRETS, ours } from './resources.js';
import type { DecoratorDef } from '../kit/hooks.js';
import { packagesArgoCD } from './packages-argocd.js';
import { packagesFlux } from './packages-flux.js';
import { exposeHTTPRoute, exposeIngress } from './expose.js';
import { nginxGatewayHooks } from './nginxgateway.js';
import { giteaProviderHooks } from './giteaprovider.js';
import { githubProviderHooks } from './githubprovider.js';
import { gitlabProviderHooks } from './gitlabprovider.js';
import { argoCDProviderHooks } from './argocdprovider.js';
import { gitRepositoryHooks } from './gitrepository.js';
import { packageHooks } from './package.js';
import { platformHooks } from './platform.js';
import { envoyGatewayHooks } from './envoygateway.js';
import { istioGatewayHooks } from './istiogateway.js';
import { fluxProviderHooks } from './fluxprovider.js';

const helmInstalled = [CONFIGMAPS, SECRETS, JOBS];

/** Hooks by kind: every controlled kind has an entry. */
const HOOKS: Record<string, Hooks> = {
  Platform: platformHooks,
  GiteaProvider: giteaProviderHooks,
  GitHubProvider: githubProviderHooks,
  GitLabProvider: gitlabProviderHooks,
  NginxGateway: nginxGatewayHooks,
  EnvoyGateway: envoyGatewayHooks,
  IstioGateway: istioGatewayHooks,
  FluxProvider: fluxProviderHooks,
  ArgoCDProvider: argoCDProviderHooks,
  GitRepository: gitRepositoryHooks,
  Package: packageHooks,
};

const CHILDREN: Record<string, ControllerDef['children']> = {
  Platform: [ours('GiteaProvider'), ours('NginxGateway'), ours('ArgoCDProvider'), ours('GitRepository'), ours('Package')],
  GiteaProvider: helmInstalled,
  // Secrets: the repository credentials for GitOps engines (src/kit/repocreds.ts)
  GitHubProvider: [CONFIGMAPS, JOBS, SECRETS],
  GitLabProvider: [CONFIGMAPS, JOBS, SECRETS],
  NginxGateway: helmInstalled,
  EnvoyGateway: helmInstalled,
  IstioGateway: helmInstalled,
  ArgoCDProvider: helmInstalled,
  FluxProvider: helmInstalled,
  GitRepository: [CONFIGMAPS, JOBS, SECRETS],
  // the engines' objects are attached by the packages-argocd / packages-flux decorators
  Package: [],
};

const RESYNC: Partial<Record<string, number>> = { GitHubProvider: 600, GitLabProvider: 600, GitRepository: 300 };

/** One CompositeController per controlled kind (ReferenceGrant has none: controllers only read it). */
export function controllers(): ControllerDef[] {
  return CONTROLLED_KINDS.map((k) => ({
    kind: k,
    children: CHILDREN[k.kind] ?? [],
    resyncPeriodSeconds: RESYNC[k.kind],
    hooks: HOOKS[k.kind],
  }));
}

/** The DecoratorControllers: each starts once the resource types it attaches exist in the cluster. */
export function decorators(): DecoratorDef[] {
  return [packagesArgoCD, packagesFlux, exposeIngress, exposeHTTPRoute];
}
