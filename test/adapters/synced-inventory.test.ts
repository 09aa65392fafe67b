import {
  CreateBucketCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it } from 'vitest';
import { ApiCallCounter, countCalls, mapLimit } from '../../shared/adapters/aws-clients.ts';
import {
  parseSyncKey,
  SyncedInventoryError,
  SyncedInventorySource,
} from '../../shared/adapters/synced-inventory.ts';
import { type InstanceSnapshot, InventoryTypes, packageKey } from '../../shared/domain/inventory.ts';
import { describeWithMoto, MOTO_REGION, useMoto } from '../helpers/moto.ts';
import {
  al2023Instance,
  CAPTURE_TIME,
  debEntry,
  instanceInformation,
  type SyncObject,
  syncObjectPath,
  syncObjectText,
} from '../helpers/sync-tree.ts';

const BUCKET = 'driftwatch-inventory-test';
const PREFIX = 'inventory/';

const AL = 'i-0a1b2c3d4e5f60718';
const DEB = 'i-0c3d4e5f607182930';
const ONPREM = 'mi-0123456789abcdef0';

const FLEET: SyncObject[] = [
  ...al2023Instance(AL),
  {
    typeName: InventoryTypes.application,
    instanceId: DEB,
    format: 'array',
    entries: [debEntry('libc6', '2.36-9+deb12u9'), debEntry('openssl', '3.0.15-1~deb12u1')],
  },
  {
    typeName: InventoryTypes.instanceInformation,
    instanceId: DEB,
    entries: [instanceInformation(DEB, { name: 'Debian GNU/Linux', version: '12' })],
  },
  {
    typeName: InventoryTypes.files,
    instanceId: DEB,
    entries: [{ Path: '/etc/ssh/sshd_config', Sha256: 'a'.repeat(64) }],
  },
  {
    typeName: InventoryTypes.instanceInformation,
    instanceId: ONPREM,
    entries: [instanceInformation(ONPREM, { name: 'Ubuntu', version: '24.04' })],
  },
];

/** The S3 key the sync writes for one instance and type (the local tree's path below the prefix). */
function syncKey(o: Pick<SyncObject, 'typeName' | 'instanceId' | 'accountId' | 'region'>, prefix = PREFIX) {
  return `${prefix}${syncObjectPath('', o)}`;
}

function s3For(endpoint: string): S3Client {
  return new S3Client({ region: MOTO_REGION, endpoint, forcePathStyle: true });
}

async function createBucket(s3: S3Client): Promise<void> {
  await s3.send(
    new CreateBucketCommand({
      Bucket: BUCKET,
      CreateBucketConfiguration: { LocationConstraint: MOTO_REGION },
    }),
  );
}

async function putText(s3: S3Client, key: string, body: string): Promise<void> {
  await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body }));
}

async function putSyncObjects(s3: S3Client, objects: readonly SyncObject[], prefix = PREFIX): Promise<void> {
  await mapLimit(objects, 16, (o) => putText(s3, syncKey(o, prefix), syncObjectText(o)));
}

async function collect(
  source: SyncedInventorySource,
  filter?: Parameters<SyncedInventorySource['snapshots']>[0],
): Promise<InstanceSnapshot[]> {
  const out: InstanceSnapshot[] = [];
  for await (const snapshot of source.snapshots(filter)) out.push(snapshot);
  return out;
}

function versionsOf(snapshot: InstanceSnapshot | undefined, name: string, arch: string): readonly string[] {
  return snapshot?.packages?.get(packageKey(name, arch))?.versions ?? [];
}

// ---------------------------------------------------------------------------------------------

describe('parseSyncKey', () => {
  it('reads the type, account, region and instance of a sync object key', () => {
    const key = syncKey({
      typeName: 'AWS:Application',
      instanceId: AL,
      accountId: '210987654321',
      region: 'eu-west-1',
    });
    expect(parseSyncKey(key, PREFIX)).toEqual({
      typeName: 'AWS:Application',
      accountId: '210987654321',
      region: 'eu-west-1',
      instanceId: AL,
    });
    expect(
      parseSyncKey(syncKey({ typeName: 'Custom:DriftwatchFiles', instanceId: ONPREM }, ''), ''),
    ).toMatchObject({
      typeName: 'Custom:DriftwatchFiles',
      instanceId: ONPREM,
    });
  });

  it('refuses keys that are not an instance object below the prefix', () => {
    const good = syncKey({ typeName: 'AWS:Application', instanceId: AL });
    expect(parseSyncKey(good, 'other/')).toBeUndefined();
    expect(parseSyncKey(good.replace(`${AL}.json`, 'README.txt'), PREFIX)).toBeUndefined();
    expect(parseSyncKey(good.replace(`${AL}.json`, ''), PREFIX)).toBeUndefined();
    expect(parseSyncKey(good.replace('AWS:Application', 'AWS%3AApplication'), PREFIX)).toBeUndefined();
    expect(parseSyncKey(`${PREFIX}AWS:Application/${AL}.json`, PREFIX)).toBeUndefined();
  });
});

describeWithMoto('SyncedInventorySource on moto', () => {
  const moto = useMoto();

  async function prepare(objects: readonly SyncObject[] = FLEET) {
    const s3 = s3For(moto.endpoint);
    await createBucket(s3);
    await putSyncObjects(s3, objects);
    const calls = new ApiCallCounter();
    const counted = countCalls(s3For(moto.endpoint), 'S3', calls);
    return { s3, calls, counted };
  }

  it('yields every instance once, in instance-id order, with packages, platform and files parsed', async () => {
    // Prepare
    const { s3, counted, calls } = await prepare();
    await putText(s3, `${PREFIX}AWS:Application/accountid=123456789012/README.txt`, 'not an instance');
    await putText(s3, `${PREFIX}not-a-type/${AL}.json`, '{}');
    await putText(
      s3,
      syncKey({ typeName: 'AWS:Application', instanceId: 'i-0ffffffffffffffff' }, 'elsewhere/'),
      '{}',
    );
    const source = new SyncedInventorySource(counted, { bucket: BUCKET, prefix: 'inventory' });

    // Act
    const snapshots = await collect(source);

    // Assess
    expect(source.description).toBe(`s3://${BUCKET}/inventory/`);
    expect(snapshots.map((s) => s.instanceId)).toEqual([AL, DEB, ONPREM]);
    const [al, deb, onprem] = snapshots;
    expect(al?.problems).toEqual([]);
    expect(versionsOf(al, 'openssl-libs', 'x86_64')).toEqual(['1:3.0.8-1.amzn2023.0.14']);
    expect(al?.platform).toEqual({ name: 'Amazon Linux', version: '2023', type: 'Linux' });
    expect(al?.captureTime).toBe(CAPTURE_TIME);
    expect(al?.files).toBeUndefined();
    expect(versionsOf(deb, 'openssl', 'x86_64')).toEqual(['3.0.15-1~deb12u1']);
    expect(deb?.platform?.name).toBe('Debian GNU/Linux');
    expect(deb?.files?.get('/etc/ssh/sshd_config')).toBe('a'.repeat(64));
    expect(onprem?.packages).toBeUndefined();
    expect(onprem?.platform?.version).toBe('24.04');
    // One delimited listing, one listing per type folder (3 folders), one GET per instance and type.
    expect(calls.snapshot()).toEqual({ 'S3.GetObject': FLEET.length, 'S3.ListObjectsV2': 1 + 3 });
  });

  it('reads only the instances of the filter: no GET for the others', async () => {
    // Prepare
    const { counted, calls } = await prepare();
    const source = new SyncedInventorySource(counted, { bucket: BUCKET, prefix: PREFIX });

    // Act
    const snapshots = await collect(source, { instanceIds: new Set([DEB, 'i-0000000000000dead']) });

    // Assess
    expect(snapshots.map((s) => s.instanceId)).toEqual([DEB]);
    expect(calls.snapshot()).toEqual({ 'S3.GetObject': 3, 'S3.ListObjectsV2': 4 });
  });

  it('reads an instance whose sync location an event named with one listing and one GET per type', async () => {
    // Prepare: the same instance read through a full listing, and through its known location.
    const { counted, calls } = await prepare();
    const source = new SyncedInventorySource(counted, { bucket: BUCKET, prefix: PREFIX });
    const [listed] = await collect(source, { instanceIds: new Set([AL]) });
    calls.reset();

    // Act
    const located = await collect(source, {
      instanceIds: new Set([AL]),
      locations: new Map([[AL, { accountId: '123456789012', region: 'us-east-1' }]]),
    });

    // Assess: same snapshot; the type AL never sent (Custom:DriftwatchFiles) is simply absent.
    expect(located).toEqual([listed]);
    expect(located[0]?.problems).toEqual([]);
    expect(calls.snapshot()).toEqual({ 'S3.GetObject': 3, 'S3.ListObjectsV2': 1 });
  });

  it('makes an instance partial, without downloading it, when one of its objects is over the size limit', async () => {
    // Prepare
    const big = rpmEntries(40);
    const { counted, calls } = await prepare([...FLEET, ...al2023Instance('i-0b2c3d4e5f6071829', big)]);
    const source = new SyncedInventorySource(counted, {
      bucket: BUCKET,
      prefix: PREFIX,
      maxObjectBytes: 4096,
    });

    // Act
    const snapshots = await collect(source);

    // Assess
    const partial = snapshots.find((s) => s.instanceId === 'i-0b2c3d4e5f6071829');
    expect(partial?.problems).toEqual([
      expect.stringMatching(
        /^AWS:Application: s3:\/\/driftwatch-inventory-test\/inventory\/AWS:Application\/.*\/i-0b2c3d4e5f6071829\.json is \d+ bytes, over the 4096-byte limit$/,
      ),
    ]);
    expect(partial?.packages).toBeUndefined();
    expect(partial?.platform?.name).toBe('Amazon Linux');
    expect(snapshots.filter((s) => s.problems.length > 0)).toHaveLength(1);
    expect(calls.snapshot()['S3.GetObject']).toBe(FLEET.length + 1);
  });

  it('makes only the instance with a malformed object partial, naming the object and the line', async () => {
    // Prepare
    const { s3, counted } = await prepare();
    const key = syncKey({ typeName: InventoryTypes.application, instanceId: AL });
    await putText(s3, key, `${syncObjectText(FLEET[0] as SyncObject).split('\n')[0]}\n{"name": "bash", \n`);
    const source = new SyncedInventorySource(counted, { bucket: BUCKET, prefix: PREFIX });

    // Act
    const snapshots = await collect(source);

    // Assess
    expect(snapshots.map((s) => s.instanceId)).toEqual([AL, DEB, ONPREM]);
    const [al, deb, onprem] = snapshots;
    expect(al?.problems).toHaveLength(1);
    expect(al?.problems[0]).toContain(`AWS:Application: s3://${BUCKET}/${key}: is not`);
    expect(al?.problems[0]).toContain('line 2');
    expect(al?.packages).toBeUndefined();
    expect(al?.platform?.name).toBe('Amazon Linux');
    expect(deb?.problems).toEqual([]);
    expect(onprem?.problems).toEqual([]);
  });

  it('pages through a type folder of more than 1,000 objects, 1,000 keys a listing', async () => {
    // Prepare
    const ids = Array.from({ length: 1050 }, (_, n) => `i-${n.toString(16).padStart(17, '0')}`);
    const { counted, calls } = await prepare(
      ids.map((instanceId) => ({
        typeName: InventoryTypes.kernel,
        instanceId,
        entries: [{ KernelRelease: '6.1.112-122.189.amzn2023.x86_64' }],
      })),
    );
    const source = new SyncedInventorySource(counted, { bucket: BUCKET, prefix: PREFIX });
    const wanted = [ids[0], ids[999], ids[1000], ids[1049]] as string[];

    // Act
    const snapshots = await collect(source, { instanceIds: new Set(wanted) });

    // Assess
    expect(snapshots.map((s) => s.instanceId)).toEqual(wanted);
    expect(snapshots.every((s) => s.kernel === '6.1.112-122.189.amzn2023.x86_64')).toBe(true);
    expect(calls.snapshot()).toEqual({ 'S3.GetObject': 4, 'S3.ListObjectsV2': 1 + 2 });
  }, 60_000);

  it('yields nothing for an empty sync, and fails with a named error when the bucket cannot be listed', async () => {
    // Prepare
    const { counted } = await prepare([]);

    // Act
    const empty = await collect(new SyncedInventorySource(counted, { bucket: BUCKET, prefix: PREFIX }));
    const failure = await collect(
      new SyncedInventorySource(counted, { bucket: 'no-such-bucket-here', prefix: PREFIX }),
    ).catch((e: unknown) => e);

    // Assess
    expect(empty).toEqual([]);
    expect(failure).toBeInstanceOf(SyncedInventoryError);
    expect((failure as Error).message).toContain('s3://no-such-bucket-here/inventory/');
    expect((failure as Error).message).toContain('NoSuchBucket');
    expect((failure as Error).cause).toBeInstanceOf(S3ServiceException);
  });
});

function rpmEntries(count: number) {
  return Array.from({ length: count }, (_, n) => ({
    Name: `package-${n}`,
    Version: '1.0',
    Release: '1.amzn2023',
    Epoch: '',
    Architecture: 'x86_64',
  }));
}

// ---------------------------------------------------------------------------------------------
// Errors moto cannot produce

function listing(objects: readonly SyncObject[], size = 100) {
  const types = [...new Set(objects.map((o) => o.typeName))].sort();
  return (input: { Prefix?: string; Delimiter?: string }) => {
    if (input.Delimiter === '/') return { CommonPrefixes: types.map((t) => ({ Prefix: `${PREFIX}${t}/` })) };
    const keys = objects.map((o) => syncKey(o)).filter((k) => k.startsWith(input.Prefix ?? ''));
    return { Contents: keys.map((Key) => ({ Key, Size: size })), IsTruncated: false };
  };
}

/** A GetObject response body as the SDK gives it (only what the adapter reads). */
function body(text: string) {
  return { transformToString: async () => text, destroy: () => undefined };
}

function textFor(objects: readonly SyncObject[], key: string | undefined): string {
  const object = objects.find((o) => syncKey(o) === key);
  if (!object) throw new Error(`unexpected key ${key}`);
  return syncObjectText(object);
}

function awsError(name: string, status: number): S3ServiceException {
  return new S3ServiceException({
    name,
    $fault: status >= 500 ? 'server' : 'client',
    $metadata: { httpStatusCode: status },
  });
}

describe('SyncedInventorySource: S3 errors (aws-sdk-client-mock)', () => {
  const objects = [...al2023Instance(AL), ...al2023Instance(DEB)];

  it('yields an instance whose object is throttled past the retries, with a problem naming the type and error', async () => {
    // Prepare
    const s3 = new S3Client({ region: MOTO_REGION });
    const mock = mockClient(s3);
    mock.on(ListObjectsV2Command).callsFake(listing(objects));
    mock.on(GetObjectCommand).callsFake(async (input: { Key?: string }) => {
      if (input.Key === syncKey({ typeName: 'AWS:Application', instanceId: AL })) {
        throw awsError('SlowDown', 503);
      }
      return { ContentLength: 100, Body: body(textFor(objects, input.Key)) };
    });

    // Act
    const snapshots = await collect(new SyncedInventorySource(s3, { bucket: BUCKET, prefix: PREFIX }));

    // Assess
    expect(snapshots.map((s) => s.instanceId)).toEqual([AL, DEB]);
    expect(snapshots[0]?.problems).toEqual([
      expect.stringMatching(/^AWS:Application: s3:\/\/.*\.json could not be read: SlowDown/),
    ]);
    expect(snapshots[0]?.packages).toBeUndefined();
    expect(snapshots[0]?.platform?.name).toBe('Amazon Linux');
    expect(snapshots[1]?.problems).toEqual([]);
    expect(mock.commandCalls(GetObjectCommand)).toHaveLength(4);
  });

  it('skips a type whose object was deleted between listing and reading, with a problem', async () => {
    // Prepare
    const s3 = new S3Client({ region: MOTO_REGION });
    const mock = mockClient(s3);
    mock.on(ListObjectsV2Command).callsFake(listing(objects));
    mock.on(GetObjectCommand).callsFake(async (input: { Key?: string }) => {
      if (input.Key === syncKey({ typeName: 'AWS:InstanceInformation', instanceId: DEB })) {
        throw awsError('NoSuchKey', 404);
      }
      return { ContentLength: 100, Body: body(textFor(objects, input.Key)) };
    });

    // Act
    const snapshots = await collect(new SyncedInventorySource(s3, { bucket: BUCKET, prefix: PREFIX }));

    // Assess
    expect(snapshots[1]?.problems).toEqual([
      expect.stringMatching(
        /^AWS:InstanceInformation: s3:\/\/.*\.json was deleted between listing and reading$/,
      ),
    ]);
    expect(snapshots[1]?.packages?.size).toBe(5);
    expect(snapshots[1]?.platform).toBeUndefined();
  });

  it('does not read an object that grew over the limit after the listing', async () => {
    // Prepare
    const s3 = new S3Client({ region: MOTO_REGION });
    const mock = mockClient(s3);
    let read = 0;
    mock.on(ListObjectsV2Command).callsFake(listing(objects, 10));
    mock.on(GetObjectCommand).callsFake(async () => ({
      ContentLength: 5_000_000,
      Body: {
        transformToString: async () => {
          read++;
          return '';
        },
        destroy: () => undefined,
      },
    }));

    // Act
    const snapshots = await collect(
      new SyncedInventorySource(s3, { bucket: BUCKET, prefix: PREFIX, maxObjectBytes: 1_000_000 }),
    );

    // Assess
    expect(read).toBe(0);
    expect(snapshots.every((s) => s.problems.length === 2)).toBe(true);
    expect(snapshots[0]?.problems[0]).toMatch(/is 5000000 bytes, over the 1000000-byte limit$/);
  });

  it('keeps at most `concurrency` instances in flight and yields them in id order whatever order they finish in', async () => {
    // Prepare
    const many = Array.from({ length: 40 }, (_, n) => `i-${n.toString(16).padStart(17, '0')}`).flatMap((id) =>
      al2023Instance(id),
    );
    const s3 = new S3Client({ region: MOTO_REGION });
    const mock = mockClient(s3);
    let inFlight = 0;
    let peak = 0;
    mock.on(ListObjectsV2Command).callsFake(listing(many));
    mock.on(GetObjectCommand).callsFake(async (input: { Key?: string }) => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      await new Promise((r) => setTimeout(r, Math.floor(Math.random() * 8)));
      inFlight--;
      return { ContentLength: 100, Body: body(textFor(many, input.Key)) };
    });

    // Act
    const snapshots = await collect(
      new SyncedInventorySource(s3, { bucket: BUCKET, prefix: PREFIX, concurrency: 5 }),
    );

    // Assess
    const ids = snapshots.map((s) => s.instanceId);
    expect(ids).toEqual([...new Set(many.map((o) => o.instanceId))].sort());
    expect(peak).toBeLessThanOrEqual(5);
    expect(peak).toBeGreaterThan(1);
    expect(mock.commandCalls(GetObjectCommand)).toHaveLength(80);
  });

  it('stops reading when the consumer stops', async () => {
    // Prepare
    const many = Array.from({ length: 40 }, (_, n) => `i-${n.toString(16).padStart(17, '0')}`).flatMap((id) =>
      al2023Instance(id),
    );
    const s3 = new S3Client({ region: MOTO_REGION });
    const mock = mockClient(s3);
    mock.on(ListObjectsV2Command).callsFake(listing(many));
    mock.on(GetObjectCommand).callsFake(async (input: { Key?: string }) => ({
      ContentLength: 100,
      Body: body(textFor(many, input.Key)),
    }));
    const source = new SyncedInventorySource(s3, { bucket: BUCKET, prefix: PREFIX, concurrency: 4 });

    // Act
    for await (const _snapshot of source.snapshots()) break;
    await new Promise((r) => setTimeout(r, 20));

    // Assess: the first instance and the window behind it (two types each), no more.
    expect(mock.commandCalls(GetObjectCommand).length).toBeLessThanOrEqual(2 * 5);
  });
});
