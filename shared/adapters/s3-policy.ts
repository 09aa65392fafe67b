/**
 * The policy a deployed auditor uses: one YAML or JSON object in its bucket (default
 * `config/policy.yaml`). No object means the defaults; a broken one is an error the run reports
 * rather than an audit under a policy nobody wrote.
 */
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { type CompiledPolicy, defaultPolicy } from '../domain/policy.ts';
import { awsErrorName } from './aws-clients.ts';
import { parsePolicyText } from './files.ts';

export async function loadS3Policy(s3: S3Client, bucket: string, key: string): Promise<CompiledPolicy> {
  const uri = `s3://${bucket}/${key}`;
  let text: string;
  try {
    const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    text = (await object.Body?.transformToString('utf-8')) ?? '';
  } catch (error) {
    if (awsErrorName(error) === 'NoSuchKey') return defaultPolicy();
    throw error;
  }
  return parsePolicyText(uri, text);
}
