/**
 * `driftwatch audit --live --act`: the act step of the deployed auditor, run from a terminal. Same
 * use case, same state table, same topic: a digest the Lambda already sent is not sent again.
 */
import { AsgRefreshRemediator } from '../shared/adapters/asg-refresh.ts';
import { createActClients } from '../shared/adapters/aws-clients.ts';
import { DynamoDbAlertState } from '../shared/adapters/dynamodb-alert-state.ts';
import { SnsNotifier } from '../shared/adapters/sns-notifier.ts';
import { actOnReport } from '../shared/app/act.ts';
import type { CompiledPolicy } from '../shared/domain/policy.ts';
import type { AuditReport } from '../shared/domain/report.ts';

export interface RunActOptions {
  readonly policy: CompiledPolicy;
  readonly now: Date;
  readonly region?: string | undefined;
  readonly topicArn: string;
  readonly stateTable: string;
  readonly dryRun: boolean;
  readonly env: NodeJS.ProcessEnv;
  readonly stderr: NodeJS.WritableStream;
}

export async function runAct(report: AuditReport, options: RunActOptions): Promise<void> {
  const clients = createActClients({ region: options.region, env: options.env });
  const result = await actOnReport(
    report,
    {
      notifier: new SnsNotifier(clients.sns, { topicArn: options.topicArn }),
      state: new DynamoDbAlertState(clients.dynamodb, { tableName: options.stateTable }),
      remediator: new AsgRefreshRemediator(clients.autoScaling, clients.ec2),
    },
    { policy: options.policy, now: options.now, runId: report.runId, dryRun: options.dryRun },
  );
  const would = options.dryRun ? 'would ' : '';
  for (const o of result.outcomes) {
    const parts = [`${o.asgName ?? '(no group)'}: ${o.decision.action}`];
    if (o.published)
      parts.push(
        `${would}publish ${o.published.eventType}${o.published.messageId ? ` (${o.published.messageId})` : ''}`,
      );
    else if (o.decision.alert === undefined) parts.push('nothing new to alert');
    if (o.decision.refresh || o.decision.dryRun) {
      if (o.refresh?.status === 'started') parts.push(`refresh ${o.refresh.refreshId} started`);
      else if (options.dryRun || o.decision.dryRun) parts.push('would start an instance refresh');
      else if (o.refresh) parts.push(`refresh ${o.refresh.status}`);
    }
    options.stderr.write(`act: ${parts.join('; ')}${o.notes.length ? ` (${o.notes.join('; ')})` : ''}\n`);
  }
  if (result.operational) options.stderr.write(`act: ${would}publish an operational alert\n`);
  for (const error of result.errors) options.stderr.write(`act error: ${error}\n`);
}
