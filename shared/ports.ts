/**
 * Ports: what the use cases need from the outside world. Each has an in-memory fake (test/fakes)
 * and real adapters (shared/adapters): local files now, AWS services for live mode.
 */
import type { FleetInstance, ManifestLookup } from './domain/diff.ts';
import type { InstanceSnapshot } from './domain/inventory.ts';

/** Yields one instance's inventory at a time, so memory follows one instance or page, not the fleet. */
export interface InventorySource {
  /** A short description for logs and errors: the directory, the bucket and prefix, "SSM API". */
  readonly description: string;
  snapshots(): AsyncIterable<InstanceSnapshot>;
}

/** The running instances to audit, with their AMI and Auto Scaling group. */
export interface FleetSource {
  readonly description: string;
  /** Running instances only: stopped, terminated and pending ones are not audited. */
  instances(): Promise<FleetInstance[]>;
  /** Auto Scaling group name -> the AMI of the launch template version it uses, where known. */
  groupAmis(): Promise<ReadonlyMap<string, string>>;
}

/** Golden manifests by AMI id. An undefined AMI (no fleet data) gets the store's only manifest, if any. */
export interface ManifestStore {
  readonly description: string;
  get(amiId: string | undefined): Promise<ManifestLookup>;
}
