/**
 * The deployed auditor, as CloudFormation: the properties a platform team's reviewer checks.
 * Bundling is skipped here (the construct stays a real NodejsFunction); `cdk synth` in CI bundles.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DriftAuditorStack } from '../../infra/drift-auditor-stack.ts';
import { auditorProps, SettingsError, settingsFromContext } from '../../infra/settings.ts';

const outdir = mkdtempSync(join(tmpdir(), 'driftwatch-cdk-'));
afterAll(() => rmSync(outdir, { recursive: true, force: true }));

const cdkContext = (JSON.parse(readFileSync('cdk.json', 'utf8')) as { context: Record<string, unknown> })
  .context;

function synth(context: Record<string, unknown> = {}): { stack: DriftAuditorStack; template: Template } {
  const app = new App({ outdir, context: { ...cdkContext, 'aws:cdk:bundling-stacks': [], ...context } });
  const settings = settingsFromContext(app.node.getAllContext() as Record<string, unknown>);
  const stack = new DriftAuditorStack(app, 'Driftwatch', { auditor: auditorProps(settings) });
  return { stack, template: Template.fromStack(stack) };
}

type Statement = {
  Action: string | string[];
  Effect: string;
  Resource?: unknown;
  Condition?: Record<string, unknown>;
};

function statementsOfRole(template: Template, rolePrefix: string): Statement[] {
  const roles = template.findResources('AWS::IAM::Role');
  const roleIds = Object.keys(roles).filter((id) => id.startsWith(`Auditor${rolePrefix}Role`));
  expect(roleIds).toHaveLength(1);
  const policies = template.findResources('AWS::IAM::Policy');
  return Object.values(policies)
    .filter((p) => JSON.stringify(p.Properties.Roles).includes(roleIds[0] as string))
    .flatMap((p) => p.Properties.PolicyDocument.Statement as Statement[]);
}

const actions = (statements: Statement[]) =>
  statements.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]));

describe('DriftAuditor stack', () => {
  let template: Template;
  let stack: DriftAuditorStack;
  beforeAll(() => {
    ({ stack, template } = synth({
      'driftwatch:slackWorkspaceId': 'T0123ABCD',
      'driftwatch:slackChannelId': 'C0123ABCD',
      'driftwatch:alertEmail': 'platform@example.com',
    }));
  });

  it('keeps manifests and reports in a versioned, encrypted, private, TLS-only bucket with EventBridge on', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      VersioningConfiguration: { Status: 'Enabled' },
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
      },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      LifecycleConfiguration: {
        Rules: Match.arrayWith([
          Match.objectLike({ Prefix: 'reports/', ExpirationInDays: 90, Status: 'Enabled' }),
        ]),
      },
    });
    template.hasResourceProperties('Custom::S3BucketNotifications', {
      NotificationConfiguration: { EventBridgeConfiguration: {} },
    });
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          Match.objectLike({ Sid: 'SsmResourceDataSyncWrite', Principal: { Service: 'ssm.amazonaws.com' } }),
        ]),
      },
    });
  });

  it('syncs SSM Inventory into the bucket under inventory/', () => {
    template.hasResourceProperties('AWS::SSM::ResourceDataSync', {
      S3Destination: Match.objectLike({ BucketPrefix: 'inventory', SyncFormat: 'JsonSerDe' }),
    });
  });

  it('publishes alerts on a KMS-encrypted, TLS-only topic, to Slack through Chatbot and to email', () => {
    template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
    template.hasResourceProperties('AWS::Chatbot::SlackChannelConfiguration', {
      SlackWorkspaceId: 'T0123ABCD',
      SlackChannelId: 'C0123ABCD',
      SnsTopicArns: [Match.anyValue()],
    });
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'platform@example.com',
    });
  });

  it('keeps alert state in an on-demand table with pk/sk, TTL on expiresAt and point-in-time recovery', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      BillingMode: 'PAY_PER_REQUEST',
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
    });
  });

  it('runs both functions on Node.js 24, ARM64, traced, one at a time, with a dead-letter destination', () => {
    const functions = template.findResources('AWS::Lambda::Function', {
      Properties: { Environment: { Variables: Match.objectLike({ DRIFTWATCH_BUCKET: Match.anyValue() }) } },
    });
    expect(Object.keys(functions)).toHaveLength(2);
    for (const fn of Object.values(functions)) {
      expect(fn.Properties).toMatchObject({
        Runtime: 'nodejs24.x',
        Architectures: ['arm64'],
        TracingConfig: { Mode: 'Active' },
        ReservedConcurrentExecutions: 1,
      });
    }
    template.resourceCountIs('AWS::Lambda::EventInvokeConfig', 2);
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      DestinationConfig: { OnFailure: { Destination: Match.anyValue() } },
    });
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 90 });
  });

  it('triggers the audit on new inventory, new manifests, running instances, association changes and a schedule', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: Match.objectLike({
        source: ['aws.s3'],
        'detail-type': ['Object Created'],
        detail: Match.objectLike({
          object: {
            key: [{ prefix: 'inventory/AWS:Application/' }, { prefix: 'inventory/Custom:Driftwatch' }],
          },
        }),
      }),
    });
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: Match.objectLike({
        detail: Match.objectLike({ object: { key: [{ prefix: 'manifests/' }] } }),
      }),
    });
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: Match.objectLike({
        detail: Match.objectLike({ object: { key: [{ prefix: 'reports/' }] } }),
      }),
    });
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.ec2'],
        'detail-type': ['EC2 Instance State-change Notification'],
        detail: { state: ['running'] },
      },
    });
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: Match.objectLike({ source: ['aws.ssm'] }),
    });
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'rate(6 hours)',
      Target: Match.objectLike({ Input: JSON.stringify({ kind: 'scheduled' }) }),
    });
  });

  it('lets only the act function start refreshes, and only on groups carrying the opt-in tag', () => {
    const audit = statementsOfRole(template, 'Audit');
    const act = statementsOfRole(template, 'Act');

    expect(actions(audit)).not.toContain('autoscaling:StartInstanceRefresh');
    expect(actions(audit)).not.toContain('sns:Publish');
    const refresh = act.filter((s) => actions([s]).includes('autoscaling:StartInstanceRefresh'));
    expect(refresh).toHaveLength(1);
    expect(refresh[0]?.Condition).toEqual({
      StringEquals: { 'aws:ResourceTag/driftwatch:remediate': 'true' },
    });
    expect(actions(act)).toContain('sns:Publish');
    expect(actions(act)).not.toContain('ssm:ListInventoryEntries');
  });

  it('grants no wildcard action anywhere', () => {
    for (const policy of Object.values(template.findResources('AWS::IAM::Policy'))) {
      for (const action of actions(policy.Properties.PolicyDocument.Statement as Statement[])) {
        expect(action).not.toBe('*');
        expect(action).not.toMatch(/^[a-z0-9-]+:\*$/);
      }
    }
  });

  it('alarms on function errors, on no successful audit within two schedule periods, and on drift', () => {
    template.resourceCountIs('AWS::CloudWatch::Alarm', 4);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'AuditSucceeded',
      Namespace: 'Driftwatch',
      Period: 43_200,
      ComparisonOperator: 'LessThanThreshold',
      TreatMissingData: 'breaching',
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'DriftedInstances',
      Threshold: 1,
    });
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
  });

  it('passes cdk-nag AwsSolutions with every exception acknowledged and explained', () => {
    const report = new AwsSolutionsChecks().validateScope(stack);
    const unacknowledged = report.violations.map(
      (v) =>
        `${v.ruleName} @ ${v.violatingResources.map((r) => r.constructPath ?? r.resourceLogicalId).join(', ')}: ${v.description.slice(0, 100)}`,
    );
    expect(unacknowledged).toEqual([]);
  });

  it('matches the reviewed template (asset hashes masked)', () => {
    const json = JSON.stringify(template.toJSON(), null, 2).replace(
      /[0-9a-f]{64}(\.zip|\.json)?/g,
      '<asset-hash>$1',
    );
    expect(json).toMatchSnapshot();
  });

  it('has no cfn-lint errors or warnings', () => {
    const probe = spawnSync('cfn-lint', ['--version'], { encoding: 'utf8' });
    if (probe.status !== 0) {
      if (process.env.CI === 'true') expect.fail('cfn-lint is not installed, and CI=true requires it');
      console.warn('SKIPPED cfn-lint check: cfn-lint is not installed');
      return;
    }
    const file = join(outdir, 'lint.template.json');
    writeFileSync(file, JSON.stringify(template.toJSON()));
    const lint = spawnSync('cfn-lint', ['--format', 'parseable', file], { encoding: 'utf8' });
    expect(lint.stdout + lint.stderr).toBe('');
    expect(lint.status).toBe(0);
  });
});

describe('deployment settings', () => {
  it('applies the schedule, the target tag and the remediation mode from context', () => {
    const { template } = synth({
      'driftwatch:schedule': 'rate(1 hour)',
      'driftwatch:targetTagKey': 'Team',
      'driftwatch:targetTagValue': 'platform',
      'driftwatch:remediationMode': 'refresh',
      'driftwatch:reportRetentionDays': '30',
    });
    template.hasResourceProperties('AWS::Scheduler::Schedule', { ScheduleExpression: 'rate(1 hour)' });
    template.hasResourceProperties('AWS::SSM::Association', {
      Targets: [{ Key: 'tag:Team', Values: ['platform'] }],
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ DRIFTWATCH_REMEDIATION_MODE: 'refresh' }) },
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'AuditSucceeded', Period: 7200 });
  });

  it('rejects bad settings with a message naming the setting', () => {
    expect(() => settingsFromContext({ 'driftwatch:remediationMode': 'yolo' })).toThrow(SettingsError);
    expect(() => settingsFromContext({ 'driftwatch:schedule': 'every hour' })).toThrow(/driftwatch:schedule/);
    expect(() => settingsFromContext({ 'driftwatch:slackWorkspaceId': 'T0123ABCD' })).toThrow(
      /slackChannelId/,
    );
    expect(() => settingsFromContext({ 'driftwatch:sheduel': 'rate(1 hour)' })).toThrow(/sheduel/);
    expect(() => settingsFromContext({ 'driftwatch:alertEmail': 'not-an-email' })).toThrow(/alertEmail/);
  });

  it('leaves out the software-inventory association when the account already has one', () => {
    const { template } = synth({ 'driftwatch:gatherSoftwareInventory': 'false' });
    const associations = Object.values(template.findResources('AWS::SSM::Association'));
    expect(associations.map((a) => a.Properties.Name)).not.toContain('AWS-GatherSoftwareInventory');
  });
});
