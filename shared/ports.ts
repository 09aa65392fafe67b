/**
 * Ports: what the use cases need from the outside world. Each has an in-memory fake
 * (shared/adapters/memory.ts) and real adapters (shared/adapters): local files and AWS services.
 * One contract suite per port (test/ports) holds the fake and the adapters to the same behaviour.
 */
import type { AlertMemory, GroupState, RefreshOutcome } from './domain/decide.ts';
import type { FleetInstance, ManifestLookup } from './domain/diff.ts';
import type { InstanceSnapshot } from './domain/inventory.ts';
import type { AuditReport } from './domain/report.ts';

/** Narrows what an inventory source reads: the running instances the audit will look at. */
export interface InventoryFilter {
  /** Only these instances; sources skip the rest as early as they can (fewer GETs, fewer SSM calls). */
  readonly instanceIds?: ReadonlySet<string>;
  /** Keep each instance's inventory as received (`InstanceSnapshot.raw`), for `driftwatch snapshot`. */
  readonly keepRaw?: boolean;
  /**
   * Where an instance's objects are in a Resource Data Sync (from the S3 event that named one), so a
   * single-instance audit reads them directly instead of listing the whole sync. Other sources ignore it.
   */
  readonly locations?: ReadonlyMap<string, { readonly accountId: string; readonly region: string }>;
}

/** Yields one instance's inventory at a time, so memory follows one instance or page, not the fleet. */
export interface InventorySource {
  /** A short description for logs and errors: the directory, the bucket and prefix, "SSM API". */
  readonly description: string;
  /**
   * Each instance at most once. An instance whose inventory could only partly be read (throttled past
   * the retries, an object too large) is still yielded, with `problems` saying what is missing.
   */
  snapshots(filter?: InventoryFilter): AsyncIterable<InstanceSnapshot>;
  /**
   * What the source knows about an instance beyond its inventory, for the report's detail of an
   * instance that is not compliant (the SSM API: "SSM agent offline (connection lost) since ...").
   */
  instanceNote?(instanceId: string): string | undefined;
}

/** Which part of the fleet a run audits. Scopes merge by concatenation (fan-out per group/account). */
export interface AuditScope {
  /** Only instances in these Auto Scaling groups. */
  readonly asgNames?: readonly string[];
  /** Only these instances (a new inventory object, an instance entering `running`). */
  readonly instanceIds?: readonly string[];
  /** Only instances launched from this AMI (its manifest was uploaded or changed). */
  readonly amiId?: string;
  /** Where instances' inventory objects are in the sync, when an event said so (see InventoryFilter). */
  readonly locations?: ReadonlyMap<string, { readonly accountId: string; readonly region: string }>;
}

/** The running instances to audit, with their AMI and Auto Scaling group. */
export interface FleetSource {
  readonly description: string;
  /** Running instances only: stopped, terminated and pending ones are not audited. */
  instances(scope?: AuditScope): Promise<FleetInstance[]>;
  /** Auto Scaling group name -> the AMI of the launch template version it uses, where known. */
  groupAmis(asgNames?: readonly string[]): Promise<ReadonlyMap<string, string>>;
}

/** Golden manifests by AMI id. An undefined AMI (no fleet data) gets the store's only manifest, if any. */
export interface ManifestStore {
  readonly description: string;
  get(amiId: string | undefined): Promise<ManifestLookup>;
  /**
   * Marks the start of an audit run. A store that lives across runs (a warm Lambda) revalidates
   * what it cached (an ETag check), so a manifest changed since the last run is seen in this one.
   */
  startRun?(): void;
}

/** Where every run's JSON report is kept. */
export interface ReportStore {
  readonly description: string;
  /** Stores the report; returns where it went (an s3:// URI, a path). */
  put(report: AuditReport): Promise<string>;
}

// ---------------------------------------------------------------------------------------------
// Acting on drift

/** One message for subscribers (SNS: AWS Chatbot -> Slack, email, queues). */
export interface OutboundMessage {
  /** The body: AWS Chatbot custom-notification JSON, which other subscribers parse too. At most 256 KiB. */
  readonly body: string;
  /** For email subscribers (SNS Subject: at most 100 printable ASCII characters). */
  readonly subject: string;
  /** SNS message attributes for filter policies: severity, asgName, eventType. */
  readonly attributes: Readonly<Record<string, string>>;
}

export interface Notifier {
  readonly description: string;
  /** Publishes one message; rejects when it was not accepted (the caller keeps the alert pending). */
  publish(message: OutboundMessage): Promise<{ messageId: string }>;
}

/**
 * Alert and remediation state (DynamoDB single table: pk, sk, TTL expiresAt). Every write that
 * guards against a racing run is conditional.
 */
export interface AlertState {
  readonly description: string;
  /** What was last alerted, per group name ('' for instances outside any group). */
  alertMemory(groupKeys: readonly string[]): Promise<Map<string, AlertMemory>>;
  /**
   * Takes the right to alert for a group for `leaseSeconds`; false when another run holds it. The
   * holder publishes, then records, then releases: a failed publish records nothing and is retried
   * by the next run; a racing run does not alert twice.
   */
  claimAlert(groupKey: string, runId: string, now: Date, leaseSeconds: number): Promise<boolean>;
  /** Records what was alerted (only the lease holder may); drift resolved records an empty set. */
  recordAlert(groupKey: string, runId: string, memory: AlertMemory): Promise<void>;
  releaseAlert(groupKey: string, runId: string): Promise<void>;
  /** Refreshes driftwatch started for the group since `since`, and the latest of them. */
  refreshHistory(
    asgName: string,
    since: Date,
  ): Promise<{ count: number; latest?: { refreshId: string; startedAt: string } }>;
  /**
   * Idempotency for a refresh decision: the first caller for `decisionKey` gets true; a retried
   * Lambda with the same decision gets false (and the refresh id, once recorded).
   */
  claimRefresh(
    decisionKey: string,
    asgName: string,
    now: Date,
  ): Promise<{ claimed: boolean; refreshId?: string }>;
  recordRefresh(decisionKey: string, asgName: string, refreshId: string, now: Date): Promise<void>;
  /**
   * Gives back a claim that started nothing (the refresh failed or was refused), so a later run can
   * try the same decision again. A claim with a recorded refresh is never released.
   */
  releaseRefresh(decisionKey: string): Promise<void>;
}

export interface RefreshPreferences {
  readonly minHealthyPercentage: number;
  readonly autoRollback: boolean;
  readonly checkpointPercentages?: readonly number[] | undefined;
  readonly instanceWarmup?: number | undefined;
}

export type RefreshStart =
  | {
      readonly status: 'started';
      readonly refreshId: string;
      readonly autoRollback: boolean;
      readonly notes: readonly string[];
    }
  | { readonly status: 'in-progress'; readonly notes: readonly string[] }
  | { readonly status: 'refused'; readonly reason: string };

/** Replaces drifted instances from the golden AMI: a guarded Auto Scaling instance refresh. */
export interface Remediator {
  readonly description: string;
  /** Live state of groups: opt-in tag, refresh running, the outcome of a given refresh. */
  groupStates(
    asgNames: readonly string[],
    requireTag: string,
    lastRefreshIds: ReadonlyMap<string, string>,
  ): Promise<Map<string, Omit<GroupState, 'refreshesToday'>>>;
  /** Starts a refresh pinned to the group's own launch template version (never $Latest/$Default). */
  startRefresh(asgName: string, preferences: RefreshPreferences): Promise<RefreshStart>;
}

export type { RefreshOutcome };
