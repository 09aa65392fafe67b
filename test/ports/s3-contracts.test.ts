/**
 * The port contracts of test/ports/contracts.test.ts, run against the S3 adapters on moto: a
 * Resource Data Sync read by SyncedInventorySource and manifests read by S3ManifestStore must behave
 * like the in-memory fakes and the file adapters. The cases are copies of that suite's (keep them in
 * step), plus a direct comparison with the fake.
 */
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { mapLimit } from '../../shared/adapters/aws-clients.ts';
import { MemoryInventorySource } from '../../shared/adapters/memory.ts';
import { S3ManifestStore } from '../../shared/adapters/s3-manifest-store.ts';
import { SyncedInventorySource } from '../../shared/adapters/synced-inventory.ts';
import { type InstanceSnapshot, InventoryTypes, SnapshotBuilder } from '../../shared/domain/inventory.ts';
import type { InventorySource, ManifestStore } from '../../shared/ports.ts';
import { describeWithMoto, MOTO_REGION, type Moto, useMoto } from '../helpers/moto.ts';
import {
  debEntry,
  goldenManifest,
  instanceInformation,
  rpmEntry,
  type SyncObject,
  syncObjectPath,
  syncObjectText,
} from '../helpers/sync-tree.ts';

const BUCKET = 'driftwatch-contract-test';

async function bucket(moto: Moto): Promise<S3Client> {
  const s3 = new S3Client({ region: MOTO_REGION, endpoint: moto.endpoint, forcePathStyle: true });
  await s3.send(
    new CreateBucketCommand({
      Bucket: BUCKET,
      CreateBucketConfiguration: { LocationConstraint: MOTO_REGION },
    }),
  );
  return s3;
}

async function put(s3: S3Client, key: string, body: string): Promise<void> {
  await s3.send(
    new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body, ContentLength: Buffer.byteLength(body) }),
  );
}

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

/** Writes the cases as a Resource Data Sync would, below `prefix`. */
async function syncBucket(moto: Moto, cases: InventoryCase[], prefix: string): Promise<S3Client> {
  const s3 = await bucket(moto);
  const objects: SyncObject[] = cases.flatMap((c) =>
    c.types.map((t) => ({
      typeName: t.typeName,
      instanceId: c.instanceId,
      entries: t.entries,
      captureTime: c.captureTime,
    })),
  );
  await mapLimit(objects, 8, (o) => put(s3, `${prefix}${syncObjectPath('', o)}`, syncObjectText(o)));
  return s3;
}

async function collect(source: InventorySource): Promise<InstanceSnapshot[]> {
  const out: InstanceSnapshot[] = [];
  for await (const s of source.snapshots()) out.push(s);
  return out;
}

describeWithMoto('S3 adapter contracts on moto', () => {
  const moto = useMoto();

  const inventorySources: [string, (cases: InventoryCase[]) => Promise<InventorySource>][] = [
    [
      'SyncedInventorySource (Resource Data Sync in S3)',
      async (cases) =>
        new SyncedInventorySource(await syncBucket(moto, cases, 'inventory/'), {
          bucket: BUCKET,
          prefix: 'inventory/',
        }),
    ],
    [
      'SyncedInventorySource (sync at the bucket root, concurrency 1)',
      async (cases) =>
        new SyncedInventorySource(await syncBucket(moto, cases, ''), {
          bucket: BUCKET,
          prefix: '',
          concurrency: 1,
        }),
    ],
  ];

  describe.each(inventorySources)('InventorySource contract: %s', (_name, make) => {
    it('yields every instance exactly once', async () => {
      const snapshots = await collect(await make(INVENTORY));
      expect(snapshots.map((s) => s.instanceId).sort()).toEqual([
        'i-0aaaaaaaaaaaaaaa1',
        'i-0aaaaaaaaaaaaaaa2',
      ]);
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

    it('yields the same snapshots as the in-memory fake, filter included', async () => {
      const source = await make(INVENTORY);
      const fake = new MemoryInventorySource(memorySnapshots(INVENTORY));
      expect(await collect(source)).toEqual(await collect(fake));
      const only = { instanceIds: new Set(['i-0aaaaaaaaaaaaaaa2']) };
      const filtered: InstanceSnapshot[] = [];
      for await (const s of source.snapshots(only)) filtered.push(s);
      const expected: InstanceSnapshot[] = [];
      for await (const s of fake.snapshots(only)) expected.push(s);
      expect(filtered).toEqual(expected);
    });
  });

  // -------------------------------------------------------------------------------------------
  // ManifestStore

  const MANIFESTS = [
    goldenManifest({ amiId: 'ami-0abcdef1234567890' }),
    goldenManifest({ amiId: 'ami-0fedcba9876543210' }),
  ];

  const manifestStores: [string, (manifests: typeof MANIFESTS) => Promise<ManifestStore>][] = [
    [
      'S3ManifestStore (manifests/ prefix)',
      async (ms) => {
        const s3 = await bucket(moto);
        for (const m of ms) await put(s3, `manifests/${m.amiId}.json`, JSON.stringify(m, null, 2));
        return new S3ManifestStore(s3, { bucket: BUCKET });
      },
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
      await moto.reset();
      expect((await (await make(MANIFESTS)).get(undefined)).status).toBe('missing');
    });
  });
});
