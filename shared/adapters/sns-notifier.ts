/**
 * Publishes digests to an SNS topic (subscribed by AWS Chatbot, email, queues). The body is the
 * Chatbot custom-notification JSON as rendered; the attributes let subscribers filter on severity,
 * group and event type.
 */
import { type MessageAttributeValue, PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import type { Notifier, OutboundMessage } from '../ports.ts';
import { awsErrorName } from './aws-clients.ts';

/** SNS refuses a message whose body and attributes exceed 256 KiB (UTF-8 bytes). */
export const SNS_MAX_PUBLISH_BYTES = 256 * 1024;

/** A message was not published: too large, malformed, or refused by SNS (`cause` has the SDK error). */
export class NotifierError extends Error {
  override readonly name = 'NotifierError';
  constructor(
    message: string,
    readonly topicArn: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export interface SnsNotifierOptions {
  readonly topicArn: string;
}

/** Bytes SNS counts against its limit: the body plus each attribute's name, type and value. */
export function publishSize(message: OutboundMessage): number {
  let size = Buffer.byteLength(message.body, 'utf8');
  for (const [name, value] of Object.entries(message.attributes)) {
    size += Buffer.byteLength(name, 'utf8') + 'String'.length + Buffer.byteLength(value, 'utf8');
  }
  return size;
}

export class SnsNotifier implements Notifier {
  readonly description: string;
  private readonly topicArn: string;

  constructor(
    private readonly sns: SNSClient,
    options: SnsNotifierOptions,
  ) {
    this.topicArn = options.topicArn;
    this.description = options.topicArn;
  }

  async publish(message: OutboundMessage): Promise<{ messageId: string }> {
    const size = publishSize(message);
    if (size > SNS_MAX_PUBLISH_BYTES) {
      throw new NotifierError(
        `${this.topicArn}: message of ${size} bytes is over the SNS limit of ${SNS_MAX_PUBLISH_BYTES} bytes: not sent`,
        this.topicArn,
      );
    }
    const attributes: Record<string, MessageAttributeValue> = {};
    for (const [name, value] of Object.entries(message.attributes)) {
      if (value === '') {
        throw new NotifierError(
          `${this.topicArn}: message attribute ${name} is empty (SNS refuses it)`,
          this.topicArn,
        );
      }
      attributes[name] = { DataType: 'String', StringValue: value };
    }
    let messageId: string | undefined;
    try {
      const response = await this.sns.send(
        new PublishCommand({
          TopicArn: this.topicArn,
          Message: message.body,
          ...(message.subject ? { Subject: message.subject } : {}),
          MessageAttributes: attributes,
        }),
      );
      messageId = response.MessageId;
    } catch (error) {
      const name = awsErrorName(error) ?? 'Error';
      const detail = error instanceof Error ? error.message : String(error);
      throw new NotifierError(
        `${this.topicArn}: SNS refused the message: ${name}: ${detail}`,
        this.topicArn,
        {
          cause: error,
        },
      );
    }
    if (!messageId) {
      throw new NotifierError(`${this.topicArn}: SNS returned no MessageId`, this.topicArn);
    }
    return { messageId };
  }
}
