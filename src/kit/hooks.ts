/**
 * What a controller is: its parent kind, the child types it manages (with update strategies), and pure
 * hooks. The list in src/controllers/registry.ts drives the HTTP routes and the Metacontroller manifests alike.
 */
import type { KindDef } from '../api/kinds.js';
import type { CustomizeRequest, CustomizeResponse, DecoratorSyncRequest, DecoratorSyncResponse, SyncRequest, SyncResponse } from '../metacontroller/protocol.js';

/**
 * How Metacontroller updates a child of this type when its desired state changes (CompositeController
 * `childResources[].updateStrategy.method`; idpbuilder uses these three of Metacontroller's five).
 */
export type UpdateMethod = 'OnDelete' | 'Recreate' | 'InPlace';

/**
 * One `childResources` entry of a CompositeController (or `attachments` of a DecoratorController): apiVersion, kind,
 * plural resource and the update strategy.
 */
export interface ChildResource {
  apiVersion: string;
  kind: string;
  resource: string;
  updateStrategy: UpdateMethod;
}

/** Settings of the running service, injected into every hook (never read from globals). */
export interface Settings {
  /** Image that runs install, bootstrap and sync Jobs (has helm, kubectl, git and this program). */
  jobImage: string;
  /**
   * ServiceAccount the Helm install/uninstall Jobs run as, in the parent's namespace (broad rights:
   * docs/rbac.md). Only `helmJob` (src/kit/helm.ts) uses it.
   */
  jobServiceAccount: string;
  /**
   * ServiceAccount every other Job runs as (gitea-bootstrap, repo-sync, github/gitlab-validate), in the
   * parent's namespace: a namespaced Role with secrets get/create/patch and jobs patch (docs/rbac.md).
   * Default `idpbuilder-runner`.
   */
  runnerServiceAccount: string;
  /** Namespace Argo CD Applications made by idpbuilder live in (the controllers' namespace). */
  controllerNamespace: string;
}

/**
 * Settings used when the service's settings name none: the Job image of this release
 * (ghcr.io/cnoe-io/idpbuilder-metacontroller:0.1.0), the `idpbuilder-installer` and `idpbuilder-runner`
 * ServiceAccounts and the `idpbuilder-system` namespace (the chart's defaults).
 */
export const DEFAULT_SETTINGS: Settings = {
  jobImage: 'ghcr.io/cnoe-io/idpbuilder-metacontroller:0.1.0',
  jobServiceAccount: 'idpbuilder-installer',
  runnerServiceAccount: 'idpbuilder-runner',
  controllerNamespace: 'idpbuilder-system',
};

/** Everything impure a hook may use, injected: time, randomness and settings. */
export interface HookEnv {
  now(): Date;
  /** Cryptographically random bytes (the server) or a seeded stream (render, tests). */
  random(bytes: number): Uint8Array;
  settings: Settings;
}

/**
 * The hooks of a controlled kind: `sync` (required), `finalize` (when absent, Metacontroller deletes the children
 * with the parent) and `customize` (which related objects to send). Each is pure: request and HookEnv in, response
 * out.
 */
export interface Hooks {
  sync(req: SyncRequest, env: HookEnv): SyncResponse;
  finalize?(req: SyncRequest, env: HookEnv): SyncResponse;
  customize?(req: CustomizeRequest, env: HookEnv): CustomizeResponse;
}

/**
 * One controlled kind as registry.ts lists it: the kind, its child types, the resync period in seconds
 * (time-dependent status also asks with resyncAfterSeconds) and its hooks. Source of its CompositeController manifest
 * and routes.
 */
export interface ControllerDef {
  kind: KindDef;
  children: ChildResource[];
  /** Periodic resync; status that depends on time (sync intervals, re-validation) also asks via resyncAfterSeconds. */
  resyncPeriodSeconds?: number;
  hooks: Hooks;
}

/** The hooks of a DecoratorController: `sync` (required), `finalize` and `customize`; pure, like Hooks. */
export interface DecoratorHooks {
  sync(req: DecoratorSyncRequest, env: HookEnv): DecoratorSyncResponse;
  finalize?(req: DecoratorSyncRequest, env: HookEnv): DecoratorSyncResponse;
  customize?(req: CustomizeRequest, env: HookEnv): CustomizeResponse;
}

/** Objects a DecoratorController attaches to: a resource, optionally narrowed by labels or annotations. */
export interface DecoratedResource {
  apiVersion: string;
  kind: string;
  resource: string;
  labelSelector?: { matchLabels?: Record<string, string> };
  annotationSelector?: { matchExpressions: { key: string; operator: 'Exists' | 'DoesNotExist' }[] };
}

/**
 * One DecoratorController: its route name, the resources it decorates, the attachment types it may create, the resync
 * period in seconds and its hooks.
 */
export interface DecoratorDef {
  /** Route segment and manifest name suffix: POST /hooks/<name>/<hook>. */
  name: string;
  resources: DecoratedResource[];
  attachments: ChildResource[];
  resyncPeriodSeconds?: number;
  hooks: DecoratorHooks;
}

/** The hook names of the routes and manifests: POST /hooks/<plural or decorator>/<hook>. */
export type HookName = 'sync' | 'finalize' | 'customize';
