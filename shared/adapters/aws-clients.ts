/**
 * AWS SDK clients for live mode, built once per process (once per Lambda cold start).
 *
 * They honour the standard SDK configuration — region, profile, the credential chain and the
 * AWS_ENDPOINT_URL / AWS_ENDPOINT_URL_<SERVICE> variables — so the same code runs against AWS,
 * LocalStack or moto. Retries are adaptive (client-side rate limiting on throttling). Every call is
 * counted per service and operation, and the counts go into the report (`apiCalls`).
 */
import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EC2Client } from '@aws-sdk/client-ec2';
import { S3Client } from '@aws-sdk/client-s3';
import { SNSClient } from '@aws-sdk/client-sns';
import { SSMClient } from '@aws-sdk/client-ssm';

/** Counts AWS calls by `Service.Operation` (`S3.GetObject`, `SSM.ListInventoryEntries`). */
export class ApiCallCounter {
  private counts = new Map<string, number>();

  add(service: string, operation: string): void {
    const key = `${service}.${operation}`;
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
  }

  /** The counts so far, keys sorted, as a plain object for the report. */
  snapshot(): Record<string, number> {
    return Object.fromEntries([...this.counts].sort(([a], [b]) => (a < b ? -1 : 1)));
  }

  reset(): void {
    this.counts = new Map();
  }
}

interface CountableClient {
  middlewareStack: {
    add(
      middleware: (
        next: (args: unknown) => Promise<unknown>,
        context: { commandName?: string },
      ) => (args: unknown) => Promise<unknown>,
      options: { step: 'initialize'; name: string },
    ): void;
  };
}

/** Adds the counting middleware to a client: one count per command sent, retries not included. */
export function countCalls<T>(client: T, service: string, counter: ApiCallCounter): T {
  (client as unknown as CountableClient).middlewareStack.add(
    (next, context) => async (args) => {
      counter.add(service, (context.commandName ?? 'Unknown').replace(/Command$/, ''));
      return next(args);
    },
    { step: 'initialize', name: 'driftwatchApiCallCounter' },
  );
  return client;
}

export interface AwsClientOptions {
  /** Defaults to the SDK's resolution (AWS_REGION, the profile's region). */
  readonly region?: string | undefined;
  /** Attempts per call, first included. SSM throttles without a published rate: be patient. */
  readonly maxAttempts?: number;
  readonly env?: NodeJS.ProcessEnv;
}

export interface AwsClients {
  readonly s3: S3Client;
  readonly ssm: SSMClient;
  readonly ec2: EC2Client;
  readonly autoScaling: AutoScalingClient;
  readonly calls: ApiCallCounter;
}

function baseConfig(options: AwsClientOptions) {
  return {
    ...(options.region ? { region: options.region } : {}),
    retryMode: 'adaptive' as const,
    maxAttempts: options.maxAttempts ?? 8,
  };
}

/** A custom S3 endpoint (moto, LocalStack, MinIO) is usually an address: address buckets by path there. */
function s3Client(options: AwsClientOptions, calls: ApiCallCounter): S3Client {
  const env = options.env ?? process.env;
  const customS3 = Boolean(env.AWS_ENDPOINT_URL_S3 ?? env.AWS_ENDPOINT_URL);
  return countCalls(new S3Client({ ...baseConfig(options), forcePathStyle: customS3 }), 'S3', calls);
}

/** The clients the audit needs. */
export function createAwsClients(options: AwsClientOptions = {}): AwsClients {
  const calls = new ApiCallCounter();
  const base = baseConfig(options);
  return {
    s3: s3Client(options, calls),
    ssm: countCalls(new SSMClient(base), 'SSM', calls),
    ec2: countCalls(new EC2Client(base), 'EC2', calls),
    autoScaling: countCalls(new AutoScalingClient(base), 'AutoScaling', calls),
    calls,
  };
}

export interface ActClients {
  readonly s3: S3Client;
  readonly sns: SNSClient;
  readonly dynamodb: DynamoDBClient;
  readonly ec2: EC2Client;
  readonly autoScaling: AutoScalingClient;
  readonly calls: ApiCallCounter;
}

/** The clients the act step needs (publishing, alert state, refreshes): no SSM, no inventory. */
export function createActClients(options: AwsClientOptions = {}): ActClients {
  const calls = new ApiCallCounter();
  const base = baseConfig(options);
  return {
    s3: s3Client(options, calls),
    sns: countCalls(new SNSClient(base), 'SNS', calls),
    dynamodb: countCalls(new DynamoDBClient(base), 'DynamoDB', calls),
    ec2: countCalls(new EC2Client(base), 'EC2', calls),
    autoScaling: countCalls(new AutoScalingClient(base), 'AutoScaling', calls),
    calls,
  };
}

/** Runs `task` over `items` with at most `limit` in flight; results in input order. */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  task: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await task(items[index] as T, index);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return results;
}

/** The AWS error name (`ThrottlingException`, `NoSuchKey`), or undefined for other errors. */
export function awsErrorName(error: unknown): string | undefined {
  const name = (error as { name?: unknown })?.name;
  return typeof name === 'string' ? name : undefined;
}
