import {
  CreateTopicCommand,
  PublishCommand,
  SNSClient,
  SNSServiceException,
  SubscribeCommand,
} from '@aws-sdk/client-sns';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SetQueueAttributesCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it } from 'vitest';
import { NotifierError, SNS_MAX_PUBLISH_BYTES, SnsNotifier } from '../../shared/adapters/sns-notifier.ts';
import { renderGroupDigest } from '../../shared/domain/chatbot.ts';
import type { ActDecision } from '../../shared/domain/decide.ts';
import { type AuditReport, emptySummary, type Finding } from '../../shared/domain/report.ts';
import type { OutboundMessage } from '../../shared/ports.ts';
import { describeWithMoto, MOTO_ACCOUNT, MOTO_REGION, useMoto } from '../helpers/moto.ts';

const TOPIC_ARN = `arn:aws:sns:${MOTO_REGION}:${MOTO_ACCOUNT}:driftwatch-alerts`;
const AMI = 'ami-0a1b2c3d4e5f60718';

function digest(): OutboundMessage {
  const findings: Finding[] = [
    {
      instanceId: 'i-0123456789abcdef0',
      asgName: 'web',
      amiId: AMI,
      kind: 'package-changed',
      subject: 'openssl-libs',
      arch: 'x86_64',
      expected: '1:3.0.8-1.amzn2023.0.14',
      actual: '1:3.0.8-1.amzn2023.0.12',
      severity: 'critical',
      fingerprint: 'fp-1',
    },
  ];
  const report: AuditReport = {
    schemaVersion: 1,
    runId: 'run-1',
    startedAt: '2026-11-27T12:00:00.000Z',
    finishedAt: '2026-11-27T12:00:05.000Z',
    evaluatedAt: '2026-11-27T12:00:00.000Z',
    summary: emptySummary(),
    instances: [
      {
        instanceId: 'i-0123456789abcdef0',
        amiId: AMI,
        asgName: 'web',
        status: 'drifted',
        reason: 'differs from its manifest',
        captureTime: '2026-11-27T11:00:00.000Z',
        findings: 1,
      },
    ],
    findings,
    decisions: [],
    waived: [],
    errors: [],
  };
  const decision: ActDecision = {
    asgName: 'web',
    action: 'notify',
    reasons: ['1 drifted instance of 1, worst severity critical'],
    alert: 'new',
    refresh: false,
    dryRun: false,
    fingerprints: ['fp-1'],
    worstSeverity: 'critical',
  };
  return renderGroupDigest({ decision, report, reportUri: 's3://driftwatch-artifacts/reports/run-1.json' });
}

/** The SNS envelope an SQS subscriber receives when RawMessageDelivery is off. */
interface SnsEnvelope {
  Type: string;
  MessageId: string;
  TopicArn: string;
  Subject?: string;
  Message: string;
  MessageAttributes?: Record<string, { Type: string; Value: string }>;
}

describeWithMoto('SnsNotifier on moto', () => {
  const moto = useMoto();

  async function prepare() {
    const sns = new SNSClient({ region: MOTO_REGION, endpoint: moto.endpoint });
    const sqs = new SQSClient({ region: MOTO_REGION, endpoint: moto.endpoint });
    const topic = await sns.send(new CreateTopicCommand({ Name: 'driftwatch-alerts' }));
    const queue = await sqs.send(new CreateQueueCommand({ QueueName: 'driftwatch-alerts-tap' }));
    const queueUrl = queue.QueueUrl as string;
    const attributes = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }),
    );
    const queueArn = attributes.Attributes?.QueueArn as string;
    await sqs.send(
      new SetQueueAttributesCommand({
        QueueUrl: queueUrl,
        Attributes: {
          Policy: JSON.stringify({
            Version: '2012-10-17',
            Statement: [
              {
                Effect: 'Allow',
                Principal: { Service: 'sns.amazonaws.com' },
                Action: 'sqs:SendMessage',
                Resource: queueArn,
                Condition: { ArnEquals: { 'aws:SourceArn': topic.TopicArn } },
              },
            ],
          }),
        },
      }),
    );
    await sns.send(
      new SubscribeCommand({
        TopicArn: topic.TopicArn,
        Protocol: 'sqs',
        Endpoint: queueArn,
        Attributes: { RawMessageDelivery: 'false' },
      }),
    );
    const receive = async (): Promise<SnsEnvelope[]> => {
      const out = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
      );
      return (out.Messages ?? []).map((m) => JSON.parse(m.Body as string) as SnsEnvelope);
    };
    return { sns, topicArn: topic.TopicArn as string, receive };
  }

  it('publishes the digest JSON exactly, with its subject and String attributes', async () => {
    const { sns, topicArn, receive } = await prepare();
    const notifier = new SnsNotifier(sns, { topicArn });
    const message = digest();

    const { messageId } = await notifier.publish(message);

    const [envelope, ...rest] = await receive();
    expect(rest).toEqual([]);
    expect(envelope?.Type).toBe('Notification');
    expect(envelope?.MessageId).toBe(messageId);
    expect(envelope?.TopicArn).toBe(topicArn);
    expect(envelope?.Message).toBe(message.body);
    expect(JSON.parse(envelope?.Message ?? 'null')).toEqual(JSON.parse(message.body));
    expect(Buffer.byteLength(envelope?.Message ?? '', 'utf8')).toBe(Buffer.byteLength(message.body, 'utf8'));
    expect(envelope?.Subject).toBe('driftwatch: 1 drifted in web (critical)');
    expect(envelope?.MessageAttributes).toEqual({
      severity: { Type: 'String', Value: 'critical' },
      asgName: { Type: 'String', Value: 'web' },
      eventType: { Type: 'String', Value: 'DriftDetected' },
    });
    expect(notifier.description).toBe(topicArn);
  });

  it('refuses a body over 256 KiB before sending anything', async () => {
    const { sns, topicArn, receive } = await prepare();
    const notifier = new SnsNotifier(sns, { topicArn });
    // Under 256 Ki characters, over 256 KiB: the limit is in bytes.
    const body = JSON.stringify({ text: 'é'.repeat(SNS_MAX_PUBLISH_BYTES / 2) });
    expect(body.length).toBeLessThan(SNS_MAX_PUBLISH_BYTES);

    await expect(notifier.publish({ ...digest(), body })).rejects.toThrow(NotifierError);
    await expect(notifier.publish({ ...digest(), body })).rejects.toThrow(
      /over the SNS limit of 262144 bytes/,
    );

    expect(await receive()).toEqual([]);
  });
});

describe('SnsNotifier errors', () => {
  it('refuses an oversize body without calling SNS', async () => {
    const sns = new SNSClient({ region: MOTO_REGION });
    const mock = mockClient(sns);
    const notifier = new SnsNotifier(sns, { topicArn: TOPIC_ARN });

    await expect(
      notifier.publish({ ...digest(), body: 'x'.repeat(SNS_MAX_PUBLISH_BYTES + 1) }),
    ).rejects.toThrow(NotifierError);

    expect(mock.commandCalls(PublishCommand)).toHaveLength(0);
  });

  it('surfaces a refused publish as a NotifierError with the SDK error as cause', async () => {
    const sns = new SNSClient({ region: MOTO_REGION });
    const refused = new SNSServiceException({
      name: 'AuthorizationErrorException',
      $fault: 'client',
      $metadata: { httpStatusCode: 403 },
      message: 'User is not authorized to perform: SNS:Publish',
    });
    mockClient(sns).on(PublishCommand).rejects(refused);
    const notifier = new SnsNotifier(sns, { topicArn: TOPIC_ARN });

    const error = await notifier.publish(digest()).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(NotifierError);
    expect((error as NotifierError).name).toBe('NotifierError');
    expect((error as NotifierError).message).toContain('AuthorizationErrorException');
    expect((error as NotifierError).cause).toBe(refused);
    expect((error as NotifierError).topicArn).toBe(TOPIC_ARN);
  });

  it('sends the body, subject and attributes as given', async () => {
    const sns = new SNSClient({ region: MOTO_REGION });
    const mock = mockClient(sns);
    mock.on(PublishCommand).resolves({ MessageId: 'm-1' });
    const message = digest();

    const result = await new SnsNotifier(sns, { topicArn: TOPIC_ARN }).publish(message);

    expect(result).toEqual({ messageId: 'm-1' });
    expect(mock.commandCalls(PublishCommand)[0]?.args[0].input).toEqual({
      TopicArn: TOPIC_ARN,
      Message: message.body,
      Subject: message.subject,
      MessageAttributes: {
        severity: { DataType: 'String', StringValue: 'critical' },
        asgName: { DataType: 'String', StringValue: 'web' },
        eventType: { DataType: 'String', StringValue: 'DriftDetected' },
      },
    });
  });
});
