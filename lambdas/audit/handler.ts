/**
 * The audit function: a schedule, a new inventory object in the sync, a manifest upload or an
 * instance entering `running` -> audit that scope -> report to S3, metrics, a log line.
 */
import { randomUUID } from 'node:crypto';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { recordAuditMetrics } from '../../shared/adapters/audit-metrics.ts';
import { createAwsClients } from '../../shared/adapters/aws-clients.ts';
import { loadS3Policy } from '../../shared/adapters/s3-policy.ts';
import { auditFleet } from '../../shared/app/audit-fleet.ts';
import { triggerFromEvent } from '../../shared/app/events.ts';
import { liveDeps } from '../../shared/app/live-deps.ts';
import { loadAuditConfig } from './config.ts';

const logger = new Logger({ serviceName: 'driftwatch-audit' });
const metrics = new Metrics({ namespace: 'Driftwatch', serviceName: 'driftwatch-audit' });
const config = loadAuditConfig(process.env);
const clients = createAwsClients();
const bucket = config.DRIFTWATCH_BUCKET;
const deps = liveDeps(clients, {
  inventory:
    config.DRIFTWATCH_INVENTORY === 'sync'
      ? { kind: 'sync', bucket, prefix: config.DRIFTWATCH_INVENTORY_PREFIX }
      : { kind: 'ssm' },
  manifests: { bucket, prefix: config.DRIFTWATCH_MANIFEST_PREFIX },
  reports: { bucket, prefix: config.DRIFTWATCH_REPORT_PREFIX },
});
const eventConfig = {
  bucket,
  inventoryPrefix: config.DRIFTWATCH_INVENTORY_PREFIX,
  manifestPrefix: config.DRIFTWATCH_MANIFEST_PREFIX,
};

export const handler = async (event: unknown) => {
  const trigger = triggerFromEvent(event, eventConfig);
  if (trigger.kind === 'ignored') {
    logger.info('event ignored', { reason: trigger.reason });
    return { status: 'ignored' as const, reason: trigger.reason };
  }
  clients.calls.reset();
  const policy = await loadS3Policy(clients.s3, bucket, config.DRIFTWATCH_POLICY_KEY);
  const now = new Date();
  const { report, location } = await auditFleet(deps, {
    policy,
    now,
    runId: randomUUID(),
    scope: 'scope' in trigger ? trigger.scope : undefined,
    apiCalls: () => clients.calls.snapshot(),
  });
  recordAuditMetrics(metrics, report);
  metrics.publishStoredMetrics();
  logger.info('audit finished', {
    trigger: trigger.kind,
    runId: report.runId,
    report: location,
    summary: report.summary,
    errors: report.errors,
  });
  return {
    status: 'audited' as const,
    trigger: trigger.kind,
    runId: report.runId,
    report: location,
    summary: report.summary,
  };
};
