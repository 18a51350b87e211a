/**
 * Kubernetes Events about our objects, as the hook service sees them change. The server decides what
 * happened (./transitions.ts), a bounded queue (./queue.ts) hands events to a sink in the background, and
 * the sink writes them (./kube.ts: events.k8s.io/v1 through the API server). A hook never waits for an
 * event, and an event that cannot be written is dropped and counted.
 */

const EVENT_REASONS = [
  'PlatformCreated',
  'ComponentInstallStarted',
  'ComponentInstallCompleted',
  'ComponentInstallFailed',
  'ComponentUpgradeStarted',
  'ComponentHealthCheckPassed',
  'ComponentHealthCheckFailed',
  'GitRepositoryCreated',
  'GitRepositorySyncCompleted',
  'PackageDeployed',
] as const;
/**
 * The reasons of the Events idpbuilder writes (EVENT_REASONS): installs started, completed, failed and upgraded,
 * health checks passed and failed, Platform, GitRepository and Package milestones.
 */
export type EventReason = (typeof EVENT_REASONS)[number];

/**
 * A reference to the object an Event is about (events.k8s.io/v1 `regarding`/`related`, core/v1 ObjectReference fields
 * used): apiVersion, kind, name, namespace and uid.
 */
export interface ObjectReference {
  apiVersion: string;
  kind: string;
  name: string;
  namespace?: string;
  uid?: string;
}

/** What the observer decided to report about one object. */
export interface EventSpec {
  type: 'Normal' | 'Warning';
  reason: EventReason;
  /** What was done or failed, in one word (events.k8s.io `action`): Create, Install, Upgrade, HealthCheck, Sync, Deploy. */
  action: string;
  /** Human-readable, at most 1 KiB; never holds a secret value. */
  note: string;
  regarding: ObjectReference;
  related?: ObjectReference;
  /**
   * Identity of the change: the same change seen again (a retried hook call, a second replica) has the
   * same key, so it is reported once. It also names the Event object, so the API server refuses a copy.
   */
  key: string;
}

/** An `events.k8s.io/v1` Event as the API server takes it. */
export interface KubeEvent {
  apiVersion: 'events.k8s.io/v1';
  kind: 'Event';
  metadata: { name: string; namespace: string };
  /** MicroTime: RFC 3339 with microseconds. */
  eventTime: string;
  reportingController: string;
  reportingInstance: string;
  action: string;
  reason: string;
  note: string;
  type: 'Normal' | 'Warning';
  regarding: ObjectReference;
  related?: ObjectReference;
}

/**
 * What an EventSink did with an event: `created`, or `exists` (an Event of that name was already there: the same
 * change was reported before).
 */
export type EmitResult = 'created' | 'exists';

/** Where events go. `emit` may be slow, hang or fail: the queue bounds all three. */
export interface EventSink {
  emit(event: KubeEvent, signal: AbortSignal): Promise<EmitResult>;
  close?(): Promise<void>;
}
