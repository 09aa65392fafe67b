/**
 * One live-path measurement in a fresh process: the audit use case over
 * - `sync`: a Resource Data Sync in S3 served by moto_server (real HTTP, real SDK), or
 * - `ssm`: the SSM API, answered in documented shapes (moto has no SSM
 *   inventory) by a stand-in client, so the figure is driftwatch's own cost, not SSM's latency.
 * Usage: node --import tsx bench/live-child.ts <sync|ssm> <instances> <packages> [endpoint bucket prefix manifest]
 * Prints one JSON line: { ms, maxRssMb, instances, apiCalls }.
 */
import { S3Client } from '@aws-sdk/client-s3';
import {
  DescribeInstanceInformationCommand,
  GetInventoryCommand,
  GetInventorySchemaCommand,
  ListInventoryEntriesCommand,
  type SSMClient,
} from '@aws-sdk/client-ssm';
import { ApiCallCounter, countCalls } from '../shared/adapters/aws-clients.ts';
import { FileManifestStore } from '../shared/adapters/files.ts';
import { SsmInventorySource } from '../shared/adapters/ssm-inventory.ts';
import { SyncedInventorySource } from '../shared/adapters/synced-inventory.ts';
import { auditFleet } from '../shared/app/audit-fleet.ts';
import { defaultPolicy } from '../shared/domain/policy.ts';
import type { InventorySource } from '../shared/ports.ts';
import { appEntries, benchInstanceId } from './generate.ts';

const [path, countText, packagesText, endpoint, bucket, prefix, manifest] = process.argv.slice(2);
const count = Number(countText);
const packages = Number(packagesText);
const calls = new ApiCallCounter();

/**
 * A stand-in SSM client answering in documented shapes. Hand-rolled rather than aws-sdk-client-mock:
 * the mock records every call and response, which would be the mock's memory, not driftwatch's.
 */
function ssmSource(): InventorySource {
  const capture = '2026-11-27T10:00:00Z';
  const answer = (command: object): unknown => {
    const input = (command as { input: Record<string, unknown> }).input;
    if (command instanceof GetInventorySchemaCommand) {
      calls.add('SSM', 'GetInventorySchema');
      return { Schemas: [] };
    }
    if (command instanceof DescribeInstanceInformationCommand) {
      calls.add('SSM', 'DescribeInstanceInformation');
      return { InstanceInformationList: [] };
    }
    if (command instanceof GetInventoryCommand) {
      calls.add('SSM', 'GetInventory');
      const start = Number(input.NextToken ?? 0);
      const ids = Array.from({ length: Math.min(50, count - start) }, (_, i) => benchInstanceId(start + i));
      return {
        Entities: ids.map((id) => ({
          Id: id,
          Data: {
            'AWS:InstanceInformation': {
              TypeName: 'AWS:InstanceInformation',
              SchemaVersion: '1.0',
              CaptureTime: capture,
              Content: [
                {
                  InstanceId: id,
                  InstanceStatus: 'Active',
                  PlatformName: 'Amazon Linux',
                  PlatformVersion: '2023',
                  PlatformType: 'Linux',
                },
              ],
            },
          },
        })),
        ...(start + 50 < count ? { NextToken: String(start + 50) } : {}),
      };
    }
    if (command instanceof ListInventoryEntriesCommand) {
      calls.add('SSM', 'ListInventoryEntries');
      const id = input.InstanceId as string;
      const all = appEntries(Number.parseInt(id.slice(2), 16), packages, id);
      const start = Number(input.NextToken ?? 0);
      return {
        InstanceId: id,
        TypeName: input.TypeName,
        SchemaVersion: '1.1',
        CaptureTime: capture,
        Entries: all.slice(start, start + 50),
        ...(start + 50 < all.length ? { NextToken: String(start + 50) } : {}),
      };
    }
    throw new Error(`unexpected SSM call ${command.constructor.name}`);
  };
  const client = { send: async (command: object) => answer(command) } as unknown as SSMClient;
  return new SsmInventorySource(client);
}

function syncSource(): InventorySource {
  const s3 = countCalls(
    new S3Client({
      region: 'eu-west-1',
      endpoint,
      forcePathStyle: true,
      credentials: { accessKeyId: 'x', secretAccessKey: 'y' },
    }),
    'S3',
    calls,
  );
  return new SyncedInventorySource(s3, { bucket: bucket as string, prefix: prefix as string });
}

const started = performance.now();
const inventory = path === 'ssm' ? ssmSource() : syncSource();
const manifests = await FileManifestStore.open(manifest as string);
const { report } = await auditFleet(
  { inventory, manifests },
  {
    policy: defaultPolicy(),
    now: new Date('2026-11-27T12:00:00Z'),
    runId: 'bench',
    apiCalls: () => calls.snapshot(),
  },
);
const ms = Math.round(performance.now() - started);
process.stdout.write(
  `${JSON.stringify({ ms, maxRssMb: Math.round(process.resourceUsage().maxRSS / 1024), instances: report.summary.instances, apiCalls: report.apiCalls })}\n`,
);
