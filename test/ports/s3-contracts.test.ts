/**
 * The port contracts (test/ports/suites.ts) run against the S3 adapters on moto: a Resource Data Sync
 * read by SyncedInventorySource and manifests read by S3ManifestStore behave like the in-memory fakes
 * and the file adapters.
 */
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { describe } from 'vitest';
import { mapLimit } from '../../shared/adapters/aws-clients.ts';
import { S3ManifestStore } from '../../shared/adapters/s3-manifest-store.ts';
import { SyncedInventorySource } from '../../shared/adapters/synced-inventory.ts';
import type { InventorySource, ManifestStore } from '../../shared/ports.ts';
import { describeWithMoto, MOTO_REGION, type Moto, useMoto } from '../helpers/moto.ts';
import { type SyncObject, syncObjectPath, syncObjectText } from '../helpers/sync-tree.ts';
import {
  type InventoryCase,
  inventorySourceContract,
  type MANIFESTS,
  manifestStoreContract,
} from './suites.ts';

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

/** Writes the cases as a Resource Data Sync would, below `prefix`. */
async function syncBucket(moto: Moto, cases: readonly InventoryCase[], prefix: string): Promise<S3Client> {
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

describeWithMoto('S3 adapter contracts on moto', () => {
  const moto = useMoto();

  const inventorySources: [string, (cases: readonly InventoryCase[]) => Promise<InventorySource>][] = [
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
  describe.each(inventorySources)('InventorySource contract: %s', (_name, make) =>
    inventorySourceContract(make),
  );

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
  describe.each(manifestStores)('ManifestStore contract: %s', (_name, make) =>
    manifestStoreContract(make, () => moto.reset()),
  );
});
