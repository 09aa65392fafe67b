/**
 * A small live fleet in moto for end-to-end tests of the Lambda and of `audit --live`: group `web`
 * on its template's $Latest, two instances from v1 (AMI A), then v2 (AMI B) published and one more
 * instance launched from it; manifests for both AMIs, a policy, and a Resource Data Sync in S3
 * (with the leftover objects of a deleted instance).
 */
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import {
  DescribeInstanceInformationCommand,
  GetInventoryCommand,
  GetInventorySchemaCommand,
  ListInventoryEntriesCommand,
  SSMClient,
} from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { expect } from 'vitest';
import type { AuditReport } from '../../shared/domain/report.ts';
import { MOTO_REGION, type Moto } from './moto.ts';
import { MotoFleet, motoFleetClients } from './moto-fleet.ts';
import {
  AL2023_PACKAGES,
  al2023Instance,
  goldenManifest,
  instanceInformation,
  rpmEntry,
  syncObjectText,
} from './sync-tree.ts';

export const LIVE_BUCKET = 'driftwatch-e2e-111122223333';
/** An hour ago: fresh under the default 24h staleAfter. */
export const LIVE_CAPTURE = new Date(Date.now() - 3_600_000).toISOString().replace(/\.\d+Z$/, 'Z');
export const DRIFTED_PACKAGES = [...AL2023_PACKAGES, rpmEntry('htop', '3.2.1', '1.amzn2023.0.1')];
export const DELETED_INSTANCE = 'i-0deadbeefdeadbeef';

export interface LiveFleet {
  readonly s3: S3Client;
  /** Runs AMI B, matches its manifest. */
  readonly clean: string;
  /** Runs AMI A (outdated) and has htop added. */
  readonly drifted: string;
  /** Runs AMI A (outdated), packages as the manifest. */
  readonly outdated: string;
  readonly amiA: string;
  readonly amiB: string;
  readonly build: MotoFleet;
}

export function syncKey(typeName: string, instanceId: string, prefix = 'inventory/'): string {
  return `${prefix}${typeName}/accountid=123456789012/region=${MOTO_REGION}/resourcetype=ManagedInstanceInventory/${instanceId}.json`;
}

export async function buildLiveFleet(moto: Moto): Promise<LiveFleet> {
  const s3 = new S3Client({ region: MOTO_REGION, endpoint: moto.endpoint, forcePathStyle: true });
  const put = (key: string, body: string) =>
    s3.send(new PutObjectCommand({ Bucket: LIVE_BUCKET, Key: key, Body: body }));
  await s3.send(
    new CreateBucketCommand({
      Bucket: LIVE_BUCKET,
      CreateBucketConfiguration: { LocationConstraint: MOTO_REGION },
    }),
  );
  const build = new MotoFleet(motoFleetClients(moto));
  const amiA = await build.registerAmi('golden-a');
  const amiB = await build.registerAmi('golden-b');
  const template = await build.launchTemplate('web', amiA);
  const [first, second] = await build.autoScalingGroup({
    name: 'web',
    launch: { template, version: '$Latest' },
    desiredCapacity: 2,
  });
  await build.templateVersion(template, amiB);
  const [third] = await build.scaleTo('web', 3);

  await put(`manifests/${amiA}.json`, JSON.stringify(goldenManifest({ amiId: amiA })));
  await put(`manifests/${amiB}.json`, JSON.stringify(goldenManifest({ amiId: amiB })));
  await put(
    'config/policy.yaml',
    'severity:\n  default: high\n  rules:\n    - { kind: ami-outdated, severity: low }\n',
  );
  const sync = async (instanceId: string, packages = AL2023_PACKAGES) => {
    for (const o of al2023Instance(instanceId, packages, LIVE_CAPTURE))
      await put(syncKey(o.typeName, instanceId), syncObjectText(o));
  };
  await sync(third as string);
  await sync(first as string, DRIFTED_PACKAGES);
  await sync(second as string);
  await sync(DELETED_INSTANCE);
  return {
    s3,
    clean: third as string,
    drifted: first as string,
    outdated: second as string,
    amiA,
    amiB,
    build,
  };
}

/** Reads a report the audit wrote to the live bucket. */
export async function readLiveReport(s3: S3Client, uri: string | undefined): Promise<AuditReport> {
  expect(uri).toMatch(new RegExp(`^s3://${LIVE_BUCKET}/reports/\\d{4}/\\d{2}/\\d{2}/[0-9a-f-]+\\.json$`));
  const key = (uri as string).slice(`s3://${LIVE_BUCKET}/`.length);
  const object = await s3.send(new GetObjectCommand({ Bucket: LIVE_BUCKET, Key: key }));
  return JSON.parse(await (object.Body?.transformToString() ?? '')) as AuditReport;
}

/**
 * Mocks the SSM inventory API (moto has none) for the live fleet, in its documented shapes: the three
 * instances are managed and online, and the drifted one reports htop. Restore the mock after the test.
 */
export function mockSsmInventory(fleet: LiveFleet) {
  const ssm = mockClient(SSMClient);
  const ids = [fleet.clean, fleet.drifted, fleet.outdated];
  ssm.on(GetInventoryCommand).resolves({
    Entities: ids.map((id) => ({
      Id: id,
      Data: {
        'AWS:InstanceInformation': {
          TypeName: 'AWS:InstanceInformation',
          SchemaVersion: '1.0',
          CaptureTime: LIVE_CAPTURE,
          Content: [instanceInformation(id) as Record<string, string>],
        },
      },
    })),
  });
  ssm.on(DescribeInstanceInformationCommand).resolves({
    InstanceInformationList: ids.map((id) => ({
      InstanceId: id,
      PingStatus: 'Online',
      LastPingDateTime: new Date(),
    })),
  });
  ssm.on(GetInventorySchemaCommand).resolves({ Schemas: [] });
  ssm.on(ListInventoryEntriesCommand).callsFake((input: { InstanceId: string; TypeName: string }) => ({
    InstanceId: input.InstanceId,
    TypeName: input.TypeName,
    SchemaVersion: '1.1',
    CaptureTime: LIVE_CAPTURE,
    Entries: (input.InstanceId === fleet.drifted ? DRIFTED_PACKAGES : AL2023_PACKAGES) as Record<
      string,
      string
    >[],
  }));
  return ssm;
}
