/**
 * The act Lambda end to end: the report in S3, digests through SNS to an SQS subscriber, alert state
 * in DynamoDB — all in moto; Auto Scaling mocked (moto has no instance refresh).
 */
import {
  AutoScalingClient,
  DescribeAutoScalingGroupsCommand,
  DescribeInstanceRefreshesCommand,
} from '@aws-sdk/client-auto-scaling';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateTopicCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, expect, it, vi } from 'vitest';
import {
  FileFleetSource,
  FileInventorySource,
  FileManifestStore,
  loadPolicyFile,
} from '../../shared/adapters/files.ts';
import { auditFleet } from '../../shared/app/audit-fleet.ts';
import type { AuditReport } from '../../shared/domain/report.ts';
import { describeWithMoto, MOTO_REGION, useMoto } from '../helpers/moto.ts';
import { createStateTable } from '../helpers/state-table.ts';

const BUCKET = 'driftwatch-act-e2e';
const TABLE = 'driftwatch-state';
const NOW = new Date('2026-11-27T12:00:00Z');

/** The example fleet's audit, as the audit function would have stored it. */
async function exampleReport(runId: string): Promise<AuditReport> {
  const { report } = await auditFleet(
    {
      inventory: new FileInventorySource('examples/fleet/inventory'),
      fleet: new FileFleetSource('examples/fleet/instances.json'),
      manifests: await FileManifestStore.open('examples/manifests'),
    },
    { policy: await loadPolicyFile('examples/policy.yaml'), now: NOW, runId, clock: () => NOW },
  );
  return report;
}

interface Received {
  Message: string;
  Subject: string;
  MessageAttributes: Record<string, { Type: string; Value: string }>;
}

describeWithMoto('act Lambda handler (moto: S3, SNS -> SQS, DynamoDB; Auto Scaling mocked)', () => {
  const moto = useMoto();
  const autoScaling = mockClient(AutoScalingClient);
  let s3: S3Client;
  let sqs: SQSClient;
  let queueUrl: string;
  let handler: (event: unknown) => Promise<{ status: string }>;

  afterAll(() => autoScaling.restore());

  async function drain(): Promise<Received[]> {
    const out: Received[] = [];
    for (;;) {
      const res = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
      );
      if (!res.Messages?.length) return out;
      out.push(...res.Messages.map((m) => JSON.parse(m.Body ?? '{}') as Received));
    }
  }

  async function storeAndAct(report: AuditReport): Promise<Received[]> {
    const key = `reports/2026/11/27/${report.runId}.json`;
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: JSON.stringify(report) }));
    const result = await handler({
      source: 'aws.s3',
      'detail-type': 'Object Created',
      detail: { bucket: { name: BUCKET }, object: { key } },
    });
    expect(result.status).toBe('acted');
    return drain();
  }

  beforeEach(async () => {
    s3 = new S3Client({ region: MOTO_REGION, endpoint: moto.endpoint, forcePathStyle: true });
    sqs = new SQSClient({ region: MOTO_REGION, endpoint: moto.endpoint });
    const sns = new SNSClient({ region: MOTO_REGION, endpoint: moto.endpoint });
    const ddb = new DynamoDBClient({ region: MOTO_REGION, endpoint: moto.endpoint });
    await s3.send(
      new CreateBucketCommand({
        Bucket: BUCKET,
        CreateBucketConfiguration: { LocationConstraint: MOTO_REGION },
      }),
    );
    await s3.send(
      new PutObjectCommand({ Bucket: BUCKET, Key: 'config/policy.yaml', Body: 'staleAfter: 24h\n' }),
    );
    await createStateTable(ddb, TABLE);
    const topic = await sns.send(new CreateTopicCommand({ Name: 'driftwatch-alerts' }));
    queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: 'slack-stand-in' }))).QueueUrl as string;
    const queueArn = (
      await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }))
    ).Attributes?.QueueArn;
    await sns.send(new SubscribeCommand({ TopicArn: topic.TopicArn, Protocol: 'sqs', Endpoint: queueArn }));

    autoScaling.reset();
    autoScaling.on(DescribeAutoScalingGroupsCommand).resolves({
      AutoScalingGroups: ['web', 'api'].map((name) => ({
        AutoScalingGroupName: name,
        MinSize: 0,
        MaxSize: 10,
        DesiredCapacity: 6,
        DefaultCooldown: 300,
        AvailabilityZones: [`${MOTO_REGION}a`],
        HealthCheckType: 'EC2',
        CreatedTime: new Date('2026-11-01T00:00:00Z'),
        Tags: [],
      })),
    });
    autoScaling.on(DescribeInstanceRefreshesCommand).resolves({ InstanceRefreshes: [] });

    vi.resetModules();
    Object.assign(process.env, {
      DRIFTWATCH_BUCKET: BUCKET,
      DRIFTWATCH_TOPIC_ARN: topic.TopicArn,
      DRIFTWATCH_STATE_TABLE: TABLE,
      POWERTOOLS_LOG_LEVEL: 'SILENT',
    });
    handler = (await import('../../lambdas/act/handler.ts')).handler;
  });

  it('sends one Chatbot digest per drifted group, and nothing for the same drift again', async () => {
    // Act
    const first = await storeAndAct(await exampleReport('run-1'));
    const second = await storeAndAct(await exampleReport('run-2'));

    // Assess
    expect(first.map((m) => m.MessageAttributes.asgName?.Value).sort()).toEqual(['api', 'web']);
    for (const m of first) {
      const body = JSON.parse(m.Message) as {
        version: string;
        source: string;
        content: { textType: string };
        metadata: { threadId: string };
      };
      expect(body).toMatchObject({
        version: '1.0',
        source: 'custom',
        content: { textType: 'client-markdown' },
      });
      expect(body.metadata.threadId).toBe(`driftwatch-${m.MessageAttributes.asgName?.Value}`);
      expect(m.MessageAttributes.eventType).toEqual({ Type: 'String', Value: 'DriftDetected' });
      expect(m.MessageAttributes.severity?.Value).toBe('critical');
      expect(Buffer.byteLength(m.Message)).toBeLessThan(256 * 1024);
    }
    expect(second).toEqual([]);
  });

  it('sends one digest for the group whose drift changed', async () => {
    await storeAndAct(await exampleReport('run-1'));
    const changed = await exampleReport('run-2');
    const web = changed.findings.find((f) => f.asgName === 'web');
    changed.findings.push({
      ...(web as AuditReport['findings'][number]),
      subject: 'telnet',
      kind: 'package-added',
      fingerprint: 'f'.repeat(64),
    });

    const messages = await storeAndAct(changed);

    expect(messages.map((m) => m.MessageAttributes.asgName?.Value)).toEqual(['web']);
  });

  it('ignores objects that are not reports', async () => {
    const result = await handler({
      source: 'aws.s3',
      'detail-type': 'Object Created',
      detail: { bucket: { name: BUCKET }, object: { key: 'manifests/ami-0123456789abcdef0.json' } },
    });
    expect(result.status).toBe('ignored');
  });
});
