/**
 * The act function: a new audit report in S3 -> decide per group -> one digest per group with news
 * (SNS, AWS Chatbot format) and the guarded instance refreshes the policy allows. Separate from the
 * audit function so that only this code can start refreshes, and it reads no inventory.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { AsgRefreshRemediator } from '../../shared/adapters/asg-refresh.ts';
import { createActClients } from '../../shared/adapters/aws-clients.ts';
import { DynamoDbAlertState } from '../../shared/adapters/dynamodb-alert-state.ts';
import { loadS3Policy } from '../../shared/adapters/s3-policy.ts';
import { S3ReportStore } from '../../shared/adapters/s3-report-store.ts';
import { SnsNotifier } from '../../shared/adapters/sns-notifier.ts';
import { actOnReport } from '../../shared/app/act.ts';
import { reportKeyFromEvent } from '../../shared/app/events.ts';
import { withRemediationOverrides } from '../../shared/domain/policy.ts';
import { loadActConfig } from './config.ts';

const logger = new Logger({ serviceName: 'driftwatch-act' });
const config = loadActConfig(process.env);
const clients = createActClients();
const reports = new S3ReportStore(clients.s3, {
  bucket: config.DRIFTWATCH_BUCKET,
  prefix: config.DRIFTWATCH_REPORT_PREFIX,
});
const deps = {
  notifier: new SnsNotifier(clients.sns, { topicArn: config.DRIFTWATCH_TOPIC_ARN }),
  state: new DynamoDbAlertState(clients.dynamodb, { tableName: config.DRIFTWATCH_STATE_TABLE }),
  remediator: new AsgRefreshRemediator(clients.autoScaling, clients.ec2),
};

export const handler = async (event: unknown) => {
  const target = reportKeyFromEvent(event, {
    bucket: config.DRIFTWATCH_BUCKET,
    reportPrefix: config.DRIFTWATCH_REPORT_PREFIX,
  });
  if ('ignored' in target) {
    logger.info('event ignored', { reason: target.ignored });
    return { status: 'ignored' as const, reason: target.ignored };
  }
  const report = await reports.get(target.key);
  const policy = withRemediationOverrides(
    await loadS3Policy(clients.s3, config.DRIFTWATCH_BUCKET, config.DRIFTWATCH_POLICY_KEY),
    { mode: config.DRIFTWATCH_REMEDIATION_MODE, requireTag: config.DRIFTWATCH_REMEDIATION_TAG },
  );
  const result = await actOnReport(report, deps, {
    policy,
    now: new Date(),
    runId: report.runId,
    reportUri: `s3://${config.DRIFTWATCH_BUCKET}/${target.key}`,
  });
  const summary = result.outcomes.map((o) => ({
    asgName: o.asgName,
    action: o.decision.action,
    alert: o.published?.eventType,
    refresh: o.refresh?.status,
    notes: o.notes,
  }));
  logger.info('act finished', { runId: report.runId, outcomes: summary, errors: result.errors });
  // A failed publish or refresh is retried by the next run; surface it so the function's error alarm sees it.
  if (result.errors.length > 0) throw new Error(`act finished with errors: ${result.errors.join('; ')}`);
  return { status: 'acted' as const, runId: report.runId, outcomes: summary };
};
