/**
 * Wires the AWS adapters for a live audit: the fleet from EC2 and Auto Scaling, inventory from a
 * Resource Data Sync in S3 (or the SSM API), manifests and reports in S3. Used by the audit Lambda
 * (once per cold start) and by `driftwatch audit --live`.
 */
import type { AwsClients } from '../adapters/aws-clients.ts';
import { Ec2FleetSource } from '../adapters/ec2-fleet.ts';
import { S3ManifestStore } from '../adapters/s3-manifest-store.ts';
import { S3ReportStore } from '../adapters/s3-report-store.ts';
import { SsmInventorySource } from '../adapters/ssm-inventory.ts';
import { SyncedInventorySource } from '../adapters/synced-inventory.ts';
import type { InventorySource, ManifestStore, ReportStore } from '../ports.ts';
import type { AuditFleetDeps } from './audit-fleet.ts';

export type InventoryLocation =
  | { readonly kind: 'sync'; readonly bucket: string; readonly prefix: string }
  | { readonly kind: 'ssm' };

export interface LiveLocations {
  readonly inventory: InventoryLocation;
  /** Manifests in S3, or any other store (a local directory for `audit --live --manifest ./dir`). */
  readonly manifests: { readonly bucket: string; readonly prefix: string } | ManifestStore;
  readonly reports?: { readonly bucket: string; readonly prefix: string } | undefined;
}

export function inventorySource(clients: AwsClients, where: InventoryLocation): InventorySource {
  return where.kind === 'sync'
    ? new SyncedInventorySource(clients.s3, { bucket: where.bucket, prefix: where.prefix })
    : new SsmInventorySource(clients.ssm);
}

export function liveDeps(
  clients: AwsClients,
  where: LiveLocations,
): Required<Pick<AuditFleetDeps, 'fleet'>> & AuditFleetDeps {
  const manifests: ManifestStore =
    'get' in where.manifests
      ? where.manifests
      : new S3ManifestStore(clients.s3, { bucket: where.manifests.bucket, prefix: where.manifests.prefix });
  const reports: ReportStore | undefined = where.reports
    ? new S3ReportStore(clients.s3, { bucket: where.reports.bucket, prefix: where.reports.prefix })
    : undefined;
  return {
    inventory: inventorySource(clients, where.inventory),
    fleet: new Ec2FleetSource(clients.ec2, clients.autoScaling),
    manifests,
    reports,
  };
}
