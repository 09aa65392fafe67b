/**
 * Ports: what the use cases need from the outside world. Each has an in-memory fake
 * (shared/adapters/memory.ts) and real adapters (shared/adapters): local files and AWS services.
 * One contract suite per port (test/ports) holds the fake and the adapters to the same behaviour.
 */
import type { FleetInstance, ManifestLookup } from './domain/diff.ts';
import type { InstanceSnapshot } from './domain/inventory.ts';
import type { AuditReport } from './domain/report.ts';

/** Narrows what an inventory source reads: the running instances the audit will look at. */
export interface InventoryFilter {
  /** Only these instances; sources skip the rest as early as they can (fewer GETs, fewer SSM calls). */
  readonly instanceIds?: ReadonlySet<string>;
  /** Keep each instance's inventory as received (`InstanceSnapshot.raw`), for `driftwatch snapshot`. */
  readonly keepRaw?: boolean;
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
}

/** Which part of the fleet a run audits. Scopes merge by concatenation (fan-out per group/account). */
export interface AuditScope {
  /** Only instances in these Auto Scaling groups. */
  readonly asgNames?: readonly string[];
  /** Only these instances (a new inventory object, an instance entering `running`). */
  readonly instanceIds?: readonly string[];
  /** Only instances launched from this AMI (its manifest was uploaded or changed). */
  readonly amiId?: string;
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
