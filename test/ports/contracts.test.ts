/**
 * One contract suite per port, run against the in-memory fake and every real adapter, so that a
 * test written against the fake says something true about the real thing.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FileFleetSource, FileInventorySource, FileManifestStore } from '../../shared/adapters/files.ts';
import {
  MemoryFleetSource,
  MemoryInventorySource,
  MemoryManifestStore,
} from '../../shared/adapters/memory.ts';
import type { FleetInstance } from '../../shared/domain/diff.ts';
import { type InstanceSnapshot, InventoryTypes, SnapshotBuilder } from '../../shared/domain/inventory.ts';
import { GoldenManifestSchema, indexManifest } from '../../shared/domain/manifest.ts';
import type { FleetSource, InventorySource, ManifestStore } from '../../shared/ports.ts';
import {
  debEntry,
  goldenManifest,
  instanceInformation,
  rpmEntry,
  type SyncObject,
  tempDir,
  writeAt,
  writeManifestDir,
  writeSyncTree,
} from '../helpers/sync-tree.ts';

// ---------------------------------------------------------------------------------------------
// InventorySource

interface InventoryCase {
  instanceId: string;
  captureTime: string;
  types: { typeName: string; entries: Record<string, unknown>[] }[];
}

const INVENTORY: InventoryCase[] = [
  {
    instanceId: 'i-0aaaaaaaaaaaaaaa1',
    captureTime: '2026-11-27T10:00:00Z',
    types: [
      {
        typeName: InventoryTypes.application,
        entries: [rpmEntry('bash', '5.2.15', '1.amzn2023.0.2'), rpmEntry('__proto__', '1', '1')],
      },
      { typeName: InventoryTypes.instanceInformation, entries: [instanceInformation('i-0aaaaaaaaaaaaaaa1')] },
    ],
  },
  {
    instanceId: 'i-0aaaaaaaaaaaaaaa2',
    captureTime: '2026-11-27T09:00:00Z',
    types: [
      {
        typeName: InventoryTypes.application,
        entries: [debEntry('libc6', '2.36-9+deb12u9', 'amd64'), debEntry('libc6', '2.36-9+deb12u9', 'i386')],
      },
      { typeName: InventoryTypes.files, entries: [{ Path: '/etc/sudoers', Sha256: 'c'.repeat(64) }] },
    ],
  },
];

function memorySnapshots(cases: InventoryCase[]): InstanceSnapshot[] {
  return cases.map((c) => {
    const b = new SnapshotBuilder(c.instanceId);
    for (const t of c.types) b.addType(t.typeName, c.captureTime, t.entries);
    return b.build();
  });
}

async function syncTree(cases: InventoryCase[]): Promise<string> {
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

async function snapshotPages(cases: InventoryCase[]): Promise<string> {
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

async function listEntriesFiles(cases: InventoryCase[]): Promise<string> {
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

const inventorySources: [string, (cases: InventoryCase[]) => Promise<InventorySource>][] = [
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

async function collect(source: InventorySource): Promise<InstanceSnapshot[]> {
  const out: InstanceSnapshot[] = [];
  for await (const s of source.snapshots()) out.push(s);
  return out;
}

describe.each(inventorySources)('InventorySource contract: %s', (_name, make) => {
  it('yields every instance exactly once', async () => {
    const snapshots = await collect(await make(INVENTORY));
    expect(snapshots.map((s) => s.instanceId).sort()).toEqual(['i-0aaaaaaaaaaaaaaa1', 'i-0aaaaaaaaaaaaaaa2']);
  });

  it('keeps packages by name and architecture with comparable versions, __proto__ included', async () => {
    const [al, deb] = (await collect(await make(INVENTORY))).sort((a, b) =>
      a.instanceId < b.instanceId ? -1 : 1,
    );
    expect([...(al?.packages?.values() ?? [])].map((p) => [p.name, p.arch, p.format, p.versions])).toEqual([
      ['bash', 'x86_64', 'rpm', ['0:5.2.15-1.amzn2023.0.2']],
      ['__proto__', 'x86_64', 'rpm', ['0:1-1']],
    ]);
    expect([...(deb?.packages?.values() ?? [])].map((p) => `${p.name}/${p.arch}`)).toEqual([
      'libc6/x86_64',
      'libc6/i686',
    ]);
  });

  it('reports the capture time, the platform and the families each instance sent', async () => {
    const [al, deb] = (await collect(await make(INVENTORY))).sort((a, b) =>
      a.instanceId < b.instanceId ? -1 : 1,
    );
    expect(Date.parse(al?.captureTime ?? '')).toBe(Date.parse('2026-11-27T10:00:00Z'));
    expect(al?.platform?.name).toBe('Amazon Linux');
    expect(al?.files).toBeUndefined();
    expect(deb?.files?.get('/etc/sudoers')).toBe('c'.repeat(64));
    expect(deb?.platform).toBeUndefined();
  });
});

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

const fleetSources: [string, () => Promise<FleetSource>][] = [
  ['MemoryFleetSource', async () => new MemoryFleetSource(RUNNING)],
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
      return new FileFleetSource(path);
    },
  ],
];

describe.each(fleetSources)('FleetSource contract: %s', (_name, make) => {
  it('lists running instances only, with their AMI and Auto Scaling group', async () => {
    const instances = await (await make()).instances();
    expect(instances.map((i) => [i.instanceId, i.amiId, i.asgName])).toEqual(
      RUNNING.map((i) => [i.instanceId, i.amiId, i.asgName]),
    );
  });

  it('answers groupAmis with a map', async () => {
    expect((await (await make()).groupAmis()) instanceof Map).toBe(true);
  });
});

// ---------------------------------------------------------------------------------------------
// ManifestStore

const MANIFESTS = [
  goldenManifest({ amiId: 'ami-0abcdef1234567890' }),
  goldenManifest({ amiId: 'ami-0fedcba9876543210' }),
];

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

describe.each(manifestStores)('ManifestStore contract: %s', (_name, make) => {
  it('finds the manifest of an AMI', async () => {
    const lookup = await (await make(MANIFESTS)).get('ami-0fedcba9876543210');
    expect(lookup.status === 'found' && lookup.index.manifest.amiId).toBe('ami-0fedcba9876543210');
  });

  it('says missing, with a reason, for an AMI it has no manifest for', async () => {
    const lookup = await (await make(MANIFESTS)).get('ami-0000000000000dead');
    expect(lookup.status).toBe('missing');
    expect(lookup.status === 'missing' && lookup.detail).toContain('ami-0000000000000dead');
  });

  it('answers an unknown AMI with its only manifest, and with missing when it has several', async () => {
    expect((await (await make(MANIFESTS.slice(0, 1))).get(undefined)).status).toBe('found');
    expect((await (await make(MANIFESTS)).get(undefined)).status).toBe('missing');
  });
});
