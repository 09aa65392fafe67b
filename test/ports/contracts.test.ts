/**
 * The port contracts (test/ports/suites.ts) run against the in-memory fakes and the local-file
 * adapters. The S3 and EC2 adapters run the same suites on moto (s3-contracts, ec2-contracts).
 */
import { join } from 'node:path';
import { describe } from 'vitest';
import { FileFleetSource, FileInventorySource, FileManifestStore } from '../../shared/adapters/files.ts';
import {
  MemoryFleetSource,
  MemoryInventorySource,
  MemoryManifestStore,
} from '../../shared/adapters/memory.ts';
import type { FleetInstance } from '../../shared/domain/diff.ts';
import { GoldenManifestSchema, indexManifest } from '../../shared/domain/manifest.ts';
import type { InventorySource, ManifestStore } from '../../shared/ports.ts';
import { type SyncObject, tempDir, writeAt, writeManifestDir, writeSyncTree } from '../helpers/sync-tree.ts';
import {
  type ContractFleet,
  fleetSourceContract,
  type InventoryCase,
  inventorySourceContract,
  type MANIFESTS,
  manifestStoreContract,
  memorySnapshots,
} from './suites.ts';

// ---------------------------------------------------------------------------------------------
// InventorySource

async function syncTree(cases: readonly InventoryCase[]): Promise<string> {
  const root = await tempDir();
  const objects: SyncObject[] = cases.flatMap((c) =>
    c.types.map((t) => ({
      typeName: t.typeName,
      instanceId: c.instanceId,
      entries: t.entries,
      captureTime: c.captureTime,
    })),
  );
  await writeSyncTree(root, objects);
  return root;
}

async function snapshotPages(cases: readonly InventoryCase[]): Promise<string> {
  const dir = await tempDir();
  for (const [i, c] of cases.entries()) {
    const Data = Object.fromEntries(
      c.types.map((t) => [
        t.typeName,
        { TypeName: t.typeName, SchemaVersion: '1.0', CaptureTime: c.captureTime, Content: t.entries },
      ]),
    );
    await writeAt(join(dir, `page-${i + 1}.json`), { Entities: [{ Id: c.instanceId, Data }] });
  }
  return dir;
}

async function listEntriesFiles(cases: readonly InventoryCase[]): Promise<string> {
  const dir = await tempDir();
  for (const c of cases) {
    for (const t of c.types) {
      await writeAt(join(dir, `${c.instanceId}-${t.typeName.replace(':', '_')}.json`), {
        TypeName: t.typeName,
        InstanceId: c.instanceId,
        SchemaVersion: '1.0',
        CaptureTime: c.captureTime,
        Entries: t.entries,
      });
    }
  }
  return dir;
}

const inventorySources: [string, (cases: readonly InventoryCase[]) => Promise<InventorySource>][] = [
  ['MemoryInventorySource', async (cases) => new MemoryInventorySource(memorySnapshots(cases))],
  [
    'FileInventorySource (Resource Data Sync tree)',
    async (cases) => new FileInventorySource(await syncTree(cases)),
  ],
  [
    'FileInventorySource (snapshot pages)',
    async (cases) => new FileInventorySource(await snapshotPages(cases)),
  ],
  [
    'FileInventorySource (list-inventory-entries)',
    async (cases) => new FileInventorySource(await listEntriesFiles(cases)),
  ],
];

describe.each(inventorySources)('InventorySource contract: %s', (_name, make) =>
  inventorySourceContract(make),
);

// ---------------------------------------------------------------------------------------------
// FleetSource

const RUNNING: FleetInstance[] = [
  {
    instanceId: 'i-0aaaaaaaaaaaaaaa1',
    amiId: 'ami-0abcdef1234567890',
    asgName: 'web',
    launchTime: '2026-11-20T08:00:00.000Z',
  },
  {
    instanceId: 'i-0aaaaaaaaaaaaaaa2',
    amiId: 'ami-0abcdef1234567890',
    asgName: null,
    launchTime: '2026-11-21T08:00:00.000Z',
  },
];

const fleetSources: [string, () => Promise<ContractFleet>][] = [
  ['MemoryFleetSource', async () => ({ source: new MemoryFleetSource(RUNNING), running: RUNNING })],
  [
    'FileFleetSource (describe-instances)',
    async () => {
      const path = join(await tempDir(), 'instances.json');
      const asEc2 = (i: FleetInstance, state: string) => ({
        InstanceId: i.instanceId,
        ImageId: i.amiId,
        LaunchTime: i.launchTime,
        State: { Code: state === 'running' ? 16 : 80, Name: state },
        Tags: i.asgName
          ? [
              { Key: 'aws:autoscaling:groupName', Value: i.asgName },
              { Key: 'Name', Value: 'x' },
            ]
          : [],
      });
      const stopped = { instanceId: 'i-0aaaaaaaaaaaaaaa3', amiId: 'ami-0abcdef1234567890', asgName: 'web' };
      await writeAt(path, {
        Reservations: [
          { ReservationId: 'r-1', Instances: RUNNING.map((i) => asEc2(i, 'running')) },
          { ReservationId: 'r-2', Instances: [asEc2(stopped, 'stopped')] },
        ],
      });
      return { source: new FileFleetSource(path), running: RUNNING };
    },
  ],
];

describe.each(fleetSources)('FleetSource contract: %s', (_name, make) => fleetSourceContract(make));

// ---------------------------------------------------------------------------------------------
// ManifestStore

const manifestStores: [string, (manifests: typeof MANIFESTS) => Promise<ManifestStore>][] = [
  [
    'MemoryManifestStore',
    async (ms) => new MemoryManifestStore(ms.map((m) => indexManifest(GoldenManifestSchema.parse(m)))),
  ],
  [
    'FileManifestStore (directory)',
    async (ms) => FileManifestStore.open(await writeManifestDir(await tempDir(), ms)),
  ],
];

describe.each(manifestStores)('ManifestStore contract: %s', (_name, make) => manifestStoreContract(make));
