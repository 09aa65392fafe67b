/**
 * Every run's JSON report in S3: `s3://<bucket>/<prefix><yyyy>/<mm>/<dd>/<runId>.json`, dated by the
 * run's start (UTC). Encryption is the bucket's default (SSE-S3 or the bucket's KMS key): no keys here.
 */
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { AuditReport } from '../domain/report.ts';
import type { ReportStore } from '../ports.ts';
import { awsErrorName } from './aws-clients.ts';

/** A run id becomes a key segment: no '/', no control characters, no '..'. */
const RUN_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/;

/** The report could not be stored (a bad run id or start time, access denied, throttled past the retries). */
export class ReportStoreError extends Error {
  override readonly name = 'ReportStoreError';
}

export interface S3ReportStoreOptions {
  readonly bucket: string;
  /** '' or ending in '/' (a missing trailing '/' is added). @default 'reports/' */
  readonly prefix?: string;
}

export class S3ReportStore implements ReportStore {
  readonly description: string;
  private readonly bucket: string;
  private readonly prefix: string;

  constructor(
    private readonly s3: S3Client,
    options: S3ReportStoreOptions,
  ) {
    const prefix = options.prefix ?? 'reports/';
    this.bucket = options.bucket;
    this.prefix = prefix === '' || prefix.endsWith('/') ? prefix : `${prefix}/`;
    this.description = `s3://${this.bucket}/${this.prefix}`;
  }

  /** The key a report is stored under. */
  keyFor(report: Pick<AuditReport, 'runId' | 'startedAt'>): string {
    if (!RUN_ID.test(report.runId) || report.runId.includes('..')) {
      throw new ReportStoreError(`report runId ${JSON.stringify(report.runId)} cannot be used in an S3 key`);
    }
    const started = new Date(report.startedAt);
    if (Number.isNaN(started.getTime())) {
      throw new ReportStoreError(
        `report ${report.runId}: startedAt ${JSON.stringify(report.startedAt)} is not a time`,
      );
    }
    const yyyy = String(started.getUTCFullYear()).padStart(4, '0');
    const mm = String(started.getUTCMonth() + 1).padStart(2, '0');
    const dd = String(started.getUTCDate()).padStart(2, '0');
    return `${this.prefix}${yyyy}/${mm}/${dd}/${report.runId}.json`;
  }

  async put(report: AuditReport): Promise<string> {
    const key = this.keyFor(report);
    const uri = `s3://${this.bucket}/${key}`;
    try {
      await this.s3.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: key,
          Body: JSON.stringify(report, null, 2),
          ContentType: 'application/json',
        }),
      );
    } catch (error) {
      const name = awsErrorName(error) ?? 'Error';
      const message = error instanceof Error ? error.message : String(error);
      throw new ReportStoreError(`${uri}: cannot store the report: ${name}: ${message}`, { cause: error });
    }
    return uri;
  }

  /**
   * Reads a stored report back (the act step acts on what the audit stored). Only the fields the act
   * step relies on are checked; a report that is not one is an error, not an empty audit.
   */
  async get(key: string): Promise<AuditReport> {
    const uri = `s3://${this.bucket}/${key}`;
    let text: string;
    try {
      const object = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      text = (await object.Body?.transformToString('utf-8')) ?? '';
    } catch (error) {
      const name = awsErrorName(error) ?? 'Error';
      throw new ReportStoreError(`${uri}: cannot read the report: ${name}`, { cause: error });
    }
    let report: Partial<AuditReport>;
    try {
      report = JSON.parse(text) as Partial<AuditReport>;
    } catch (error) {
      throw new ReportStoreError(`${uri}: is not JSON`, { cause: error });
    }
    if (report.schemaVersion !== 1 || !Array.isArray(report.instances) || !Array.isArray(report.findings)) {
      throw new ReportStoreError(
        `${uri}: is not a driftwatch report (schemaVersion 1 with instances and findings)`,
      );
    }
    return report as AuditReport;
  }
}
