import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it } from 'vitest';
import { ApiCallCounter, countCalls } from '../../shared/adapters/aws-clients.ts';
import { ManifestStoreError, S3ManifestStore } from '../../shared/adapters/s3-manifest-store.ts';
import { ReportStoreError, S3ReportStore } from '../../shared/adapters/s3-report-store.ts';
import type { ManifestLookup } from '../../shared/domain/diff.ts';
import { defaultPolicy } from '../../shared/domain/policy.ts';
import { type AuditReport, ReportBuilder } from '../../shared/domain/report.ts';
import { describeWithMoto, MOTO_REGION, useMoto } from '../helpers/moto.ts';
import { goldenManifest, IDS } from '../helpers/sync-tree.ts';

const BUCKET = 'driftwatch-artifacts-test';
const AMI = IDS.al2023Ami;
const OTHER_AMI = IDS.debianAmi;
const URI = `s3://${BUCKET}/manifests/${AMI}.json`;

function s3For(endpoint: string): S3Client {
  return new S3Client({ region: MOTO_REGION, endpoint, forcePathStyle: true });
}

/** Records the input of every GetObject the client sends (to see which were conditional). */
function recordGets(client: S3Client): { IfNoneMatch?: string }[] {
  const inputs: { IfNoneMatch?: string }[] = [];
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === 'GetObjectCommand')
        inputs.push({ ...(args.input as { IfNoneMatch?: string }) });
      return next(args);
    },
    { step: 'initialize', name: 'testRecordGets' },
  );
  return inputs;
}

function detailOf(lookup: ManifestLookup): string | undefined {
  return lookup.status === 'found' ? undefined : lookup.detail;
}

function report(runId: string, startedAt: Date): AuditReport {
  return new ReportBuilder().build({
    runId,
    startedAt,
    finishedAt: new Date(startedAt.getTime() + 1000),
    evaluatedAt: startedAt,
    policy: defaultPolicy(),
  });
}

describeWithMoto('S3ManifestStore and S3ReportStore on moto', () => {
  const moto = useMoto();

  async function prepare() {
    const s3 = s3For(moto.endpoint);
    await s3.send(
      new CreateBucketCommand({
        Bucket: BUCKET,
        CreateBucketConfiguration: { LocationConstraint: MOTO_REGION },
      }),
    );
    const calls = new ApiCallCounter();
    const counted = countCalls(s3For(moto.endpoint), 'S3', calls);
    const gets = recordGets(counted);
    const put = (key: string, body: unknown) => {
      const text = typeof body === 'string' ? body : JSON.stringify(body, null, 2);
      return s3.send(
        new PutObjectCommand({
          Bucket: BUCKET,
          Key: key,
          Body: text,
          ContentLength: Buffer.byteLength(text),
        }),
      );
    };
    return { s3, calls, counted, gets, put };
  }

  describe('S3ManifestStore', () => {
    it('finds and indexes the manifest of an AMI', async () => {
      // Prepare
      const { counted, put } = await prepare();
      await put(`manifests/${AMI}.json`, goldenManifest({ amiId: AMI }));
      const store = new S3ManifestStore(counted, { bucket: BUCKET });

      // Act
      const lookup = await store.get(AMI);

      // Assess
      expect(store.description).toBe(`s3://${BUCKET}/manifests/`);
      expect(lookup.status).toBe('found');
      expect(lookup.status === 'found' && lookup.index.manifest.amiId).toBe(AMI);
      expect(lookup.status === 'found' && lookup.index.packages.size).toBe(5);
    });

    it('says missing, naming the object, for an AMI without a manifest', async () => {
      const { counted } = await prepare();
      const lookup = await new S3ManifestStore(counted, { bucket: BUCKET }).get(AMI);
      expect(lookup).toEqual({ status: 'missing', detail: `no manifest for ${AMI} (${URI} does not exist)` });
    });

    it('says invalid, naming the object and where the JSON breaks, for a truncated manifest', async () => {
      const { counted, put } = await prepare();
      await put(`manifests/${AMI}.json`, '{\n  "schemaVersion": 1,\n  "amiId": "ami-0abc');
      const lookup = await new S3ManifestStore(counted, { bucket: BUCKET }).get(AMI);
      expect(lookup.status).toBe('invalid');
      expect(detailOf(lookup)).toMatch(
        /^s3:\/\/driftwatch-artifacts-test\/manifests\/ami-0abcdef1234567890\.json: is not complete JSON \(truncated\?\): .* at line 3, column 21$/,
      );
    });

    it('says invalid, naming the object and the field, for a manifest that breaks the schema', async () => {
      const { counted, put } = await prepare();
      const manifest = goldenManifest({ amiId: AMI });
      await put(`manifests/${AMI}.json`, {
        ...manifest,
        packages: [{ name: 'bash', arch: 'x86_64' }],
        extra: true,
      });
      const lookup = await new S3ManifestStore(counted, { bucket: BUCKET }).get(AMI);
      expect(lookup.status).toBe('invalid');
      expect(detailOf(lookup)).toMatch(new RegExp(`^${URI.replace(/[.]/g, '\\.')}: `));
      expect(detailOf(lookup)).toContain('packages[0].version: is missing');
      expect(detailOf(lookup)).toContain('extra: unknown key');
    });

    it('says invalid when the manifest names another AMI than its key', async () => {
      const { counted, put } = await prepare();
      await put(`manifests/${AMI}.json`, goldenManifest({ amiId: OTHER_AMI }));
      const lookup = await new S3ManifestStore(counted, { bucket: BUCKET }).get(AMI);
      expect(lookup).toEqual({
        status: 'invalid',
        detail: `${URI}: amiId: is ${OTHER_AMI}, but the object is named for ${AMI}`,
      });
    });

    it('reads a custom prefix, and answers an unknown AMI with the only manifest there', async () => {
      const { counted, put } = await prepare();
      await put(`golden/${AMI}.json`, goldenManifest({ amiId: AMI }));
      await put('golden/README.md', 'not a manifest');
      await put(`golden/old/${OTHER_AMI}.json`, goldenManifest({ amiId: OTHER_AMI }));
      const store = new S3ManifestStore(counted, { bucket: BUCKET, prefix: 'golden' });

      const lookup = await store.get(undefined);

      expect(store.description).toBe(`s3://${BUCKET}/golden/`);
      expect(lookup.status === 'found' && lookup.index.manifest.amiId).toBe(AMI);
    });

    it('reads each AMI once a run, however many instances ask, concurrently or not', async () => {
      // Prepare
      const { counted, put, calls } = await prepare();
      await put(`manifests/${AMI}.json`, goldenManifest({ amiId: AMI }));
      const store = new S3ManifestStore(counted, { bucket: BUCKET });

      // Act
      const [a, b] = await Promise.all([store.get(AMI), store.get(AMI)]);
      const c = await store.get(AMI);
      const missing = [await store.get(OTHER_AMI), await store.get(OTHER_AMI)];

      // Assess
      expect(a).toBe(b);
      expect(a).toBe(c);
      expect(missing.map((m) => m.status)).toEqual(['missing', 'missing']);
      expect(calls.snapshot()).toEqual({ 'S3.GetObject': 2 });
    });

    it('revalidates with the ETag on the next run, and reuses the parsed manifest when it did not change', async () => {
      // Prepare
      const { counted, put, gets, calls } = await prepare();
      await put(`manifests/${AMI}.json`, goldenManifest({ amiId: AMI }));
      const store = new S3ManifestStore(counted, { bucket: BUCKET });
      const first = await store.get(AMI);

      // Act
      store.startRun();
      const second = await store.get(AMI);

      // Assess
      expect(second).toBe(first);
      expect(gets).toHaveLength(2);
      expect(gets[0]?.IfNoneMatch).toBeUndefined();
      expect(gets[1]?.IfNoneMatch).toMatch(/^"[0-9a-f]{32}"$/);
      expect(calls.snapshot()).toEqual({ 'S3.GetObject': 2 });
    });

    it('picks up a changed manifest on the next run, and a deleted one as missing', async () => {
      // Prepare
      const { s3, counted, put } = await prepare();
      await put(`manifests/${AMI}.json`, goldenManifest({ amiId: AMI }));
      const store = new S3ManifestStore(counted, { bucket: BUCKET });
      const before = await store.get(AMI);
      await put(`manifests/${AMI}.json`, goldenManifest({ amiId: AMI, name: 'al2023-web golden v2' }));

      // Act
      const sameRun = await store.get(AMI);
      store.startRun();
      const nextRun = await store.get(AMI);
      await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: `manifests/${AMI}.json` }));
      store.startRun();
      const deleted = await store.get(AMI);

      // Assess
      expect(sameRun).toBe(before);
      expect(nextRun).not.toBe(before);
      expect(nextRun.status === 'found' && nextRun.index.manifest.name).toBe('al2023-web golden v2');
      expect(deleted.status).toBe('missing');
    });

    it('revalidates a run memo older than maxRunMs even without startRun (a forgotten call pins nothing)', async () => {
      // Prepare
      const { counted, put, gets } = await prepare();
      let now = 0;
      await put(`manifests/${AMI}.json`, goldenManifest({ amiId: AMI }));
      const store = new S3ManifestStore(counted, { bucket: BUCKET, maxRunMs: 60_000, now: () => now });
      await store.get(AMI);
      await put(`manifests/${AMI}.json`, goldenManifest({ amiId: AMI, name: 'v2' }));

      // Act
      now = 59_999;
      const stillMemo = await store.get(AMI);
      now = 60_000;
      const revalidated = await store.get(AMI);

      // Assess
      expect(stillMemo.status === 'found' && stillMemo.index.manifest.name).toBe('al2023-web golden');
      expect(revalidated.status === 'found' && revalidated.index.manifest.name).toBe('v2');
      expect(gets).toHaveLength(2);
    });

    it('caches an invalid manifest by ETag too, and reports it again on the next run', async () => {
      const { counted, put } = await prepare();
      await put(`manifests/${AMI}.json`, '');
      const store = new S3ManifestStore(counted, { bucket: BUCKET });
      const first = await store.get(AMI);
      store.startRun();
      const second = await store.get(AMI);
      expect(first).toEqual({ status: 'invalid', detail: `${URI}: is empty (expected JSON)` });
      expect(second).toBe(first);
    });

    it('refuses a manifest over the size limit without parsing it', async () => {
      const { counted, put } = await prepare();
      await put(`manifests/${AMI}.json`, goldenManifest({ amiId: AMI }));
      const lookup = await new S3ManifestStore(counted, { bucket: BUCKET, maxObjectBytes: 100 }).get(AMI);
      expect(lookup.status).toBe('invalid');
      expect(detailOf(lookup)).toMatch(/^s3:\/\/.*\.json: is \d+ bytes, over the 100-byte limit$/);
    });

    it('fails with a ManifestStoreError when the bucket does not exist', async () => {
      const { counted } = await prepare();
      const error = await new S3ManifestStore(counted, { bucket: 'no-such-bucket-here' })
        .get(AMI)
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ManifestStoreError);
      expect((error as Error).message).toContain('NoSuchBucket');
      expect((error as Error).cause).toBeInstanceOf(S3ServiceException);
    });
  });

  describe('S3ReportStore', () => {
    it('writes the JSON report under its UTC start date and returns the s3 URI', async () => {
      // Prepare
      const { s3, counted } = await prepare();
      const store = new S3ReportStore(counted, { bucket: BUCKET });
      const runId = '5c0a3b52-3f07-4e52-9d4a-3f6f1c2b9e10';
      const audit = report(runId, new Date('2027-01-01T00:30:00+01:00'));

      // Act
      const uri = await store.put(audit);

      // Assess
      const key = `reports/2026/12/31/${runId}.json`;
      expect(uri).toBe(`s3://${BUCKET}/${key}`);
      expect(store.description).toBe(`s3://${BUCKET}/reports/`);
      const object = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
      expect(object.ContentType).toBe('application/json');
      expect(await object.Body?.transformToString('utf-8')).toBe(JSON.stringify(audit, null, 2));
    });

    it('refuses a run id that would escape its key', async () => {
      const { counted, calls } = await prepare();
      const store = new S3ReportStore(counted, { bucket: BUCKET, prefix: 'audit/reports' });
      for (const runId of ['../../etc', 'a/b', '', 'run\n1', 'x..y']) {
        await expect(store.put(report(runId, new Date()))).rejects.toBeInstanceOf(ReportStoreError);
      }
      expect(calls.snapshot()).toEqual({});
      expect(store.keyFor({ runId: 'r-1', startedAt: '2026-11-27T10:00:00.000Z' })).toBe(
        'audit/reports/2026/11/27/r-1.json',
      );
    });

    it('fails with a ReportStoreError naming the object when S3 refuses the write', async () => {
      const { counted } = await prepare();
      const error = await new S3ReportStore(counted, { bucket: 'no-such-bucket-here' })
        .put(report('r-1', new Date('2026-11-27T10:00:00Z')))
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ReportStoreError);
      expect((error as Error).message).toContain('s3://no-such-bucket-here/reports/2026/11/27/r-1.json');
      expect((error as Error).cause).toBeInstanceOf(S3ServiceException);
    });
  });
});

// ---------------------------------------------------------------------------------------------
// Errors and responses moto does not produce

function awsError(name: string, status: number): S3ServiceException {
  return new S3ServiceException({
    name,
    $fault: status >= 500 ? 'server' : 'client',
    $metadata: { httpStatusCode: status },
  });
}

describe('S3ManifestStore: S3 errors (aws-sdk-client-mock)', () => {
  const manifestText = JSON.stringify(goldenManifest({ amiId: AMI }));
  const body = (text: string) => ({ transformToString: async () => text, destroy: () => undefined });

  it('throws a ManifestStoreError with the cause on AccessDenied, and tries again on the next get', async () => {
    // Prepare
    const s3 = new S3Client({ region: MOTO_REGION });
    const mock = mockClient(s3);
    mock
      .on(GetObjectCommand)
      .rejectsOnce(awsError('AccessDenied', 403))
      .resolves({ ETag: '"e1"', Body: body(manifestText) as never });
    const store = new S3ManifestStore(s3, { bucket: BUCKET });

    // Act
    const error = await store.get(AMI).catch((e: unknown) => e);
    const retried = await store.get(AMI);

    // Assess
    expect(error).toBeInstanceOf(ManifestStoreError);
    expect((error as Error).message).toBe(`${URI}: cannot read the manifest: AccessDenied`);
    expect((error as Error & { cause: { name: string } }).cause.name).toBe('AccessDenied');
    expect(retried.status).toBe('found');
  });

  it('reuses the cached manifest on the NotModified error S3 answers a matching If-None-Match with', async () => {
    // Prepare
    const s3 = new S3Client({ region: MOTO_REGION });
    const mock = mockClient(s3);
    mock
      .on(GetObjectCommand)
      .resolvesOnce({ ETag: '"e1"', Body: body(manifestText) as never })
      .rejects(awsError('NotModified', 304));
    const store = new S3ManifestStore(s3, { bucket: BUCKET });
    const first = await store.get(AMI);

    // Act
    store.startRun();
    const second = await store.get(AMI);

    // Assess
    expect(second).toBe(first);
    expect(mock.commandCalls(GetObjectCommand)[1]?.args[0].input.IfNoneMatch).toBe('"e1"');
  });

  it('reuses the cached manifest when the server ignores If-None-Match but sends the same ETag', async () => {
    const s3 = new S3Client({ region: MOTO_REGION });
    const mock = mockClient(s3);
    let parsedBodies = 0;
    mock.on(GetObjectCommand).callsFake(async () => ({
      ETag: '"e1"',
      Body: {
        transformToString: async () => {
          parsedBodies++;
          return manifestText;
        },
        destroy: () => undefined,
      },
    }));
    const store = new S3ManifestStore(s3, { bucket: BUCKET });
    const first = await store.get(AMI);
    store.startRun();
    expect(await store.get(AMI)).toBe(first);
    expect(parsedBodies).toBe(1);
  });

  it('answers an unknown AMI with missing when the prefix holds several manifests or none', async () => {
    const s3 = new S3Client({ region: MOTO_REGION });
    const mock = mockClient(s3);
    const store = new S3ManifestStore(s3, { bucket: BUCKET });
    mock
      .on(ListObjectsV2Command)
      .resolvesOnce({ Contents: [{ Key: `manifests/${AMI}.json` }, { Key: `manifests/${OTHER_AMI}.json` }] })
      .resolves({ Contents: [] });

    const several = await store.get(undefined);
    store.startRun();
    const none = await store.get(undefined);

    expect(several).toEqual({
      status: 'missing',
      detail: `the instance AMI is not known (s3://${BUCKET}/manifests/ holds several manifests)`,
    });
    expect(detailOf(none)).toBe(
      `the instance AMI is not known (s3://${BUCKET}/manifests/ holds no manifest)`,
    );
    expect(mock.commandCalls(GetObjectCommand)).toHaveLength(0);
  });
});
