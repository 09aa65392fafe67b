/**
 * DriftAuditor: the complete event-driven auditor as one construct.
 *
 *   SSM Inventory --(Resource Data Sync)--> S3 inventory/ --(Object Created)--> audit function
 *   schedule / manifest upload / instance running / association change ------> audit function
 *   audit function --> S3 reports/ --(Object Created)--> act function --> SNS (Chatbot, email)
 *                                                                    \--> guarded instance refresh
 *
 * The audit function reads everything and changes nothing; only the act function can publish and
 * start instance refreshes, and only on groups carrying the opt-in tag.
 */
import { join } from 'node:path';
import { Aws, CfnOutput, type CfnResource, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as chatbot from 'aws-cdk-lib/aws-chatbot';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as eventTargets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as schedulerTargets from 'aws-cdk-lib/aws-scheduler-targets';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';
import { CustomInventoryCollector } from './custom-inventory.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const METRICS_NAMESPACE = 'Driftwatch';
const INVENTORY_PREFIX = 'inventory/';
const MANIFEST_PREFIX = 'manifests/';
const REPORT_PREFIX = 'reports/';
const POLICY_KEY = 'config/policy.yaml';

export interface SlackChannel {
  /** The Slack workspace id, from the AWS Chatbot console after the workspace is authorised. */
  readonly workspaceId: string;
  /** The Slack channel id (channel details > "Channel ID"). */
  readonly channelId: string;
}

export interface DriftAuditorProps {
  /**
   * When full audits run: an EventBridge Scheduler expression.
   * @default 'rate(6 hours)'
   */
  readonly schedule?: string;
  /**
   * The instance tag that selects what SSM inventories (and therefore what is audited in depth).
   * @default { key: 'driftwatch:audit', values: ['true'] }
   */
  readonly targetTag?: { readonly key: string; readonly values: readonly string[] };
  /**
   * Overrides the policy's `remediation.mode` for the deployed auditor (`notify`, `refresh`, `dry-run`).
   * @default - the policy's own mode (notify unless the policy says otherwise)
   */
  readonly remediationMode?: 'notify' | 'refresh' | 'dry-run';
  /**
   * The opt-in tag a group must carry before it is ever refreshed (`key=value` or `key`).
   * @default 'driftwatch:remediate=true'
   */
  readonly remediationTag?: string;
  /**
   * Slack channel to receive the digests through AWS Chatbot.
   * @default - no Chatbot channel configuration
   */
  readonly slack?: SlackChannel;
  /**
   * An email address subscribed to the alert topic (it receives the same JSON).
   * @default - no email subscription
   */
  readonly alertEmail?: string;
  /**
   * How long run reports are kept.
   * @default Duration.days(90)
   */
  readonly reportRetention?: Duration;
  /**
   * Create the State Manager association running AWS-GatherSoftwareInventory on the targets. Turn it
   * off when the account already has one (it must have customInventory Enabled).
   * @default true
   */
  readonly gatherSoftwareInventory?: boolean;
  /**
   * Files whose SHA-256 the custom inventory reports.
   * @default - the collector's defaults (sshd_config, sudoers, sysctl.conf, limits.conf, auditd.conf, chrony.conf)
   */
  readonly watchedFiles?: readonly string[];
  /**
   * Where the audit reads inventory: `sync` (the Resource Data Sync in the bucket: scales) or `ssm`
   * (the SSM API: small fleets).
   * @default 'sync'
   */
  readonly inventorySource?: 'sync' | 'ssm';
  /**
   * Log retention of the functions.
   * @default logs.RetentionDays.THREE_MONTHS
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * What happens to the bucket, table and key when the stack is deleted.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/** Schedule periods in minutes for the dead man's switch, from `rate(N unit)`; cron falls back to 24h. */
export function schedulePeriodMinutes(expression: string): number {
  const match = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/.exec(expression.trim());
  if (!match) return 24 * 60;
  const n = Number(match[1]);
  const unit = match[2] as string;
  return unit.startsWith('minute') ? n : unit.startsWith('hour') ? n * 60 : n * 24 * 60;
}

export class DriftAuditor extends Construct {
  readonly bucket: s3.Bucket;
  readonly topic: sns.Topic;
  readonly table: dynamodb.Table;
  readonly auditFunction: NodejsFunction;
  readonly actFunction: NodejsFunction;
  readonly key: kms.Key;
  readonly deadLetterQueue: sqs.Queue;
  readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: DriftAuditorProps = {}) {
    super(scope, id);
    const stack = Stack.of(this);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const schedule = props.schedule ?? 'rate(6 hours)';
    const targetTag = props.targetTag ?? { key: 'driftwatch:audit', values: ['true'] };
    const remediationTag = props.remediationTag ?? 'driftwatch:remediate=true';
    const logRetention = props.logRetention ?? logs.RetentionDays.THREE_MONTHS;

    // --- Encryption key for the topic, the dead-letter queue and the state table --------------------
    this.key = new kms.Key(this, 'Key', {
      description: 'driftwatch: alert topic, dead-letter queue and state table',
      enableKeyRotation: true,
      removalPolicy,
    });
    // SNS publishes to KMS-encrypted topics on behalf of the act function; Chatbot and email receive
    // through SNS, which decrypts with this grant.
    this.key.grant(new iam.ServicePrincipal('sns.amazonaws.com'), 'kms:Decrypt', 'kms:GenerateDataKey*');

    // --- Bucket: inventory (Resource Data Sync), manifests, reports, policy ------------------------
    const accessLogs = new s3.Bucket(this, 'AccessLogs', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
      lifecycleRules: [{ expiration: Duration.days(365) }],
      removalPolicy,
    });
    Validations.of(accessLogs).acknowledge({
      id: 'AwsSolutions-S1',
      reason: 'This is the access-log bucket of the driftwatch bucket; logging it to itself would loop.',
    });
    this.bucket = new s3.Bucket(this, 'Bucket', {
      // SSE-S3: the Resource Data Sync writes here without needing a grant on a customer key.
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      versioned: true,
      eventBridgeEnabled: true,
      serverAccessLogsBucket: accessLogs,
      serverAccessLogsPrefix: 'driftwatch/',
      lifecycleRules: [
        { prefix: REPORT_PREFIX, expiration: props.reportRetention ?? Duration.days(90) },
        { prefix: INVENTORY_PREFIX, noncurrentVersionExpiration: Duration.days(7) },
        { noncurrentVersionExpiration: Duration.days(90) },
      ],
      removalPolicy,
    });

    // SSM writes the Resource Data Sync (documented bucket policy for SyncToDestination).
    this.bucket.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'SsmResourceDataSyncAcl',
        principals: [new iam.ServicePrincipal('ssm.amazonaws.com')],
        actions: ['s3:GetBucketAcl'],
        resources: [this.bucket.bucketArn],
        conditions: { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID } },
      }),
    );
    this.bucket.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'SsmResourceDataSyncWrite',
        principals: [new iam.ServicePrincipal('ssm.amazonaws.com')],
        actions: ['s3:PutObject'],
        resources: [this.bucket.arnForObjects(`${INVENTORY_PREFIX}*/accountid=${Aws.ACCOUNT_ID}/*`)],
        conditions: {
          StringEquals: { 's3:x-amz-acl': 'bucket-owner-full-control', 'aws:SourceAccount': Aws.ACCOUNT_ID },
        },
      }),
    );
    // aws-cdk-lib's handler that turns on EventBridge for the bucket also depends on a role it
    // already references by GetAtt (cfn-lint W3005).
    const notifications = stack.node.tryFindChild(
      'BucketNotificationsHandler050a0587b7544547bf325f094a3db834',
    );
    (notifications?.node.tryFindChild('Resource') as CfnResource | undefined)?.addDeletionOverride(
      'DependsOn',
    );
    const sync = new ssm.CfnResourceDataSync(this, 'ResourceDataSync', {
      syncName: `driftwatch-${Aws.STACK_NAME}`,
      s3Destination: {
        bucketName: this.bucket.bucketName,
        bucketPrefix: INVENTORY_PREFIX.replace(/\/$/, ''),
        bucketRegion: Aws.REGION,
        syncFormat: 'JsonSerDe',
      },
    });
    sync.node.addDependency(this.bucket.policy ?? this.bucket);

    // --- Inventory collection: software inventory + driftwatch's custom types ---------------------
    new CustomInventoryCollector(this, 'Inventory', {
      targets: { key: targetTag.key, values: [...targetTag.values] },
      gatherSoftwareInventory: props.gatherSoftwareInventory ?? true,
      ...(props.watchedFiles ? { watchedFiles: [...props.watchedFiles] } : {}),
    });

    // --- Alert topic, state table, dead-letter queue ---------------------------------------------
    this.topic = new sns.Topic(this, 'Alerts', {
      displayName: 'driftwatch drift alerts',
      masterKey: this.key,
      enforceSSL: true,
    });
    if (props.alertEmail) this.topic.addSubscription(new subscriptions.EmailSubscription(props.alertEmail));
    if (props.slack) {
      const channel = new chatbot.SlackChannelConfiguration(this, 'Slack', {
        slackChannelConfigurationName: `driftwatch-${props.slack.channelId}`,
        slackWorkspaceId: props.slack.workspaceId,
        slackChannelId: props.slack.channelId,
        notificationTopics: [this.topic],
        loggingLevel: chatbot.LoggingLevel.ERROR,
        guardrailPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('ReadOnlyAccess')],
      });
      Validations.of(channel).acknowledge({
        id: 'AwsSolutions-IAM4',
        reason:
          'Chatbot guardrail: the AWS-managed ReadOnlyAccess policy caps what the Slack channel can do; it grants nothing by itself.',
      });
    }

    this.table = new dynamodb.Table(this, 'State', {
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
      timeToLiveAttribute: 'expiresAt',
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: this.key,
      removalPolicy,
    });

    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetters', {
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: this.key,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    Validations.of(this.deadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason:
        'This queue is the dead-letter destination of the functions; it has no queue of its own to dead-letter to.',
    });

    // --- Functions ------------------------------------------------------------------------------
    const common = {
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: 1024,
      tracing: lambda.Tracing.ACTIVE,
      depsLockFilePath: join(ROOT, 'package-lock.json'),
      projectRoot: ROOT,
      bundling: { minify: true, sourceMap: true, target: 'node24', externalModules: [] as string[] },
      onFailure: new SqsDestination(this.deadLetterQueue),
      retryAttempts: 2,
      // One run at a time: scheduled audits never overlap, and the act step never races itself.
      reservedConcurrentExecutions: 1,
    };
    const makeFunction = (
      name: string,
      entry: string,
      timeout: Duration,
      environment: Record<string, string>,
    ) => {
      const logGroup = new logs.LogGroup(this, `${name}Logs`, { retention: logRetention, removalPolicy });
      const role = new iam.Role(this, `${name}Role`, {
        assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
        description: `driftwatch ${name.toLowerCase()} function`,
      });
      logGroup.grantWrite(role);
      const fn = new NodejsFunction(this, `${name}Function`, {
        ...common,
        entry: join(ROOT, entry),
        handler: 'handler',
        timeout,
        role,
        logGroup,
        environment: {
          ...environment,
          NODE_OPTIONS: '--enable-source-maps',
          POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
          POWERTOOLS_LOG_LEVEL: 'INFO',
        },
      });
      // The function references its role (GetAtt) already: depend on its policy only (cfn-lint W3005).
      const policy = role.node.tryFindChild('DefaultPolicy')?.node.defaultChild as CfnResource;
      (fn.node.defaultChild as CfnResource).addOverride('DependsOn', [stack.getLogicalId(policy)]);
      return { fn, role };
    };

    const audit = makeFunction('Audit', 'lambdas/audit/handler.ts', Duration.minutes(15), {
      DRIFTWATCH_BUCKET: this.bucket.bucketName,
      DRIFTWATCH_INVENTORY: props.inventorySource ?? 'sync',
      DRIFTWATCH_INVENTORY_PREFIX: INVENTORY_PREFIX,
      DRIFTWATCH_MANIFEST_PREFIX: MANIFEST_PREFIX,
      DRIFTWATCH_REPORT_PREFIX: REPORT_PREFIX,
      DRIFTWATCH_POLICY_KEY: POLICY_KEY,
    });
    this.auditFunction = audit.fn;
    const act = makeFunction('Act', 'lambdas/act/handler.ts', Duration.minutes(5), {
      DRIFTWATCH_BUCKET: this.bucket.bucketName,
      DRIFTWATCH_TOPIC_ARN: this.topic.topicArn,
      DRIFTWATCH_STATE_TABLE: this.table.tableName,
      DRIFTWATCH_REPORT_PREFIX: REPORT_PREFIX,
      DRIFTWATCH_POLICY_KEY: POLICY_KEY,
      ...(props.remediationMode ? { DRIFTWATCH_REMEDIATION_MODE: props.remediationMode } : {}),
      DRIFTWATCH_REMEDIATION_TAG: remediationTag,
    });
    this.actFunction = act.fn;

    // --- Least privilege ------------------------------------------------------------------------
    // Audit: read inventory, manifests and the policy; write reports; describe the fleet.
    this.bucket.grantRead(audit.role, `${INVENTORY_PREFIX}*`);
    this.bucket.grantRead(audit.role, `${MANIFEST_PREFIX}*`);
    this.bucket.grantRead(audit.role, POLICY_KEY);
    this.bucket.grantPut(audit.role, `${REPORT_PREFIX}*`);
    const describeFleet = new iam.PolicyStatement({
      sid: 'DescribeFleet',
      actions: [
        'ec2:DescribeInstances',
        'ec2:DescribeLaunchTemplateVersions',
        'autoscaling:DescribeAutoScalingGroups',
        'autoscaling:DescribeLaunchConfigurations',
      ],
      resources: ['*'],
    });
    audit.role.addToPolicy(describeFleet);
    audit.role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'ReadInventory',
        actions: [
          'ssm:GetInventory',
          'ssm:ListInventoryEntries',
          'ssm:DescribeInstanceInformation',
          'ssm:GetInventorySchema',
        ],
        resources: ['*'],
      }),
    );
    // Act: read reports and the policy; publish; keep state; refresh opted-in groups only.
    this.bucket.grantRead(act.role, `${REPORT_PREFIX}*`);
    this.bucket.grantRead(act.role, POLICY_KEY);
    this.topic.grantPublish(act.role);
    this.table.grantReadWriteData(act.role);
    act.role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'DescribeGroups',
        actions: [
          'autoscaling:DescribeAutoScalingGroups',
          'autoscaling:DescribeInstanceRefreshes',
          'autoscaling:DescribeLaunchConfigurations',
          'ec2:DescribeLaunchTemplateVersions',
        ],
        resources: ['*'],
      }),
    );
    const [tagKey, tagValue] = remediationTag.split('=', 2) as [string, string | undefined];
    act.role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'RefreshOptedInGroupsOnly',
        actions: ['autoscaling:StartInstanceRefresh'],
        resources: [
          `arn:${Aws.PARTITION}:autoscaling:${Aws.REGION}:${Aws.ACCOUNT_ID}:autoScalingGroup:*:autoScalingGroupName/*`,
        ],
        conditions:
          tagValue === undefined
            ? { Null: { [`aws:ResourceTag/${tagKey}`]: 'false' } }
            : { StringEquals: { [`aws:ResourceTag/${tagKey}`]: tagValue } },
      }),
    );
    // A refresh with a DesiredConfiguration launches from the group's launch template on our behalf.
    act.role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'UseLaunchTemplatesForRefresh',
        actions: ['ec2:RunInstances', 'ec2:CreateTags'],
        resources: [`arn:${Aws.PARTITION}:ec2:${Aws.REGION}:${Aws.ACCOUNT_ID}:launch-template/*`],
      }),
    );
    this.deadLetterQueue.grantSendMessages(audit.role);
    this.deadLetterQueue.grantSendMessages(act.role);

    this.acknowledgeScopedWildcards(audit.role, act.role);

    // --- Triggers -------------------------------------------------------------------------------
    const objectCreated = (id: string, prefixes: string[], target: lambda.IFunction) =>
      new events.Rule(this, id, {
        eventPattern: {
          source: ['aws.s3'],
          detailType: ['Object Created'],
          detail: {
            bucket: { name: [this.bucket.bucketName] },
            object: { key: prefixes.map((prefix) => ({ prefix })) },
          },
        },
        targets: [
          new eventTargets.LambdaFunction(target, {
            deadLetterQueue: this.deadLetterQueue,
            retryAttempts: 4,
          }),
        ],
      });
    objectCreated(
      'NewInventory',
      [`${INVENTORY_PREFIX}AWS:Application/`, `${INVENTORY_PREFIX}Custom:Driftwatch`],
      this.auditFunction,
    );
    objectCreated('NewManifest', [MANIFEST_PREFIX], this.auditFunction);
    objectCreated('NewReport', [REPORT_PREFIX], this.actFunction);
    new events.Rule(this, 'InstanceRunning', {
      eventPattern: {
        source: ['aws.ec2'],
        detailType: ['EC2 Instance State-change Notification'],
        detail: { state: ['running'] },
      },
      targets: [
        new eventTargets.LambdaFunction(this.auditFunction, { deadLetterQueue: this.deadLetterQueue }),
      ],
    });
    new events.Rule(this, 'InventoryAssociationChanged', {
      eventPattern: {
        source: ['aws.ssm'],
        detailType: ['EC2 State Manager Instance Association State Change'],
        detail: { status: ['Success'] },
      },
      targets: [
        new eventTargets.LambdaFunction(this.auditFunction, { deadLetterQueue: this.deadLetterQueue }),
      ],
    });
    new scheduler.Schedule(this, 'FullAudit', {
      schedule: scheduler.ScheduleExpression.expression(schedule),
      description: 'driftwatch: audit the whole fleet',
      target: new schedulerTargets.LambdaInvoke(this.auditFunction, {
        input: scheduler.ScheduleTargetInput.fromObject({ kind: 'scheduled' }),
        deadLetterQueue: this.deadLetterQueue,
        retryAttempts: 2,
      }),
    });

    // --- Alarms and dashboard -------------------------------------------------------------------
    const alarmAction = new cwActions.SnsAction(this.topic);
    for (const [name, fn] of [
      ['Audit', this.auditFunction],
      ['Act', this.actFunction],
    ] as const) {
      new cloudwatch.Alarm(this, `${name}Errors`, {
        alarmDescription: `driftwatch ${name.toLowerCase()} function failed`,
        metric: fn.metricErrors({ period: Duration.minutes(5), statistic: 'Sum' }),
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }).addAlarmAction(alarmAction);
    }
    const periodMinutes = schedulePeriodMinutes(schedule);
    const auditSucceeded = new cloudwatch.Metric({
      namespace: METRICS_NAMESPACE,
      metricName: 'AuditSucceeded',
      dimensionsMap: { service: 'driftwatch-audit' },
      statistic: 'Sum',
      period: Duration.minutes(Math.min(periodMinutes * 2, 24 * 60)),
    });
    new cloudwatch.Alarm(this, 'NoSuccessfulAudit', {
      alarmDescription: "driftwatch dead man's switch: no successful audit within two schedule periods",
      metric: auditSucceeded,
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.BREACHING,
    }).addAlarmAction(alarmAction);
    const drifted = new cloudwatch.Metric({
      namespace: METRICS_NAMESPACE,
      metricName: 'DriftedInstances',
      dimensionsMap: { service: 'driftwatch-audit' },
      statistic: 'Maximum',
      period: Duration.minutes(Math.min(periodMinutes, 60)),
    });
    new cloudwatch.Alarm(this, 'DriftedInstancesAlarm', {
      alarmDescription: 'driftwatch: instances have drifted from their golden AMI',
      metric: drifted,
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });

    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      widgets: [
        [
          new cloudwatch.GraphWidget({
            title: 'Drifted instances per Auto Scaling group',
            width: 12,
            left: [
              new cloudwatch.MathExpression({
                expression: `SEARCH('{${METRICS_NAMESPACE},AsgName,service} MetricName="DriftedInstances"', 'Maximum', 3600)`,
                label: '',
                period: Duration.hours(1),
              }),
            ],
          }),
          new cloudwatch.GraphWidget({
            title: 'Unknown instances per Auto Scaling group',
            width: 12,
            left: [
              new cloudwatch.MathExpression({
                expression: `SEARCH('{${METRICS_NAMESPACE},AsgName,service} MetricName="UnknownInstances"', 'Maximum', 3600)`,
                label: '',
                period: Duration.hours(1),
              }),
            ],
          }),
        ],
        [
          new cloudwatch.GraphWidget({ title: 'Successful audits', width: 12, left: [auditSucceeded] }),
          new cloudwatch.GraphWidget({
            title: 'Function errors',
            width: 12,
            left: [this.auditFunction.metricErrors(), this.actFunction.metricErrors()],
          }),
        ],
      ],
    });

    new CfnOutput(this, 'BucketName', {
      value: this.bucket.bucketName,
      description: 'manifests/, reports/, config/policy.yaml',
    });
    new CfnOutput(this, 'AlertTopicArn', { value: this.topic.topicArn });
    new CfnOutput(this, 'StateTableName', { value: this.table.tableName });
  }

  /**
   * cdk-nag reports every wildcard; each one here is either an API without resource-level
   * permissions or a wildcard inside a resource this stack owns. Acknowledged finding by finding,
   * so a new wildcard still fails the check.
   */
  private acknowledgeScopedWildcards(audit: iam.Role, act: iam.Role): void {
    const stack = Stack.of(this);
    const arnOf = (resource: Construct) =>
      `<${stack.resolve(stack.getLogicalId(resource.node.defaultChild as CfnResource))}.Arn>`;
    const bucket = arnOf(this.bucket);
    const describe =
      'EC2, Auto Scaling and SSM inventory describe/list APIs have no resource-level permissions; they read, never change.';
    const kmsGrant =
      'KMS actions generated by grants on the stack key only (dead-letter queue, topic, table encryption).';
    const s3Grant =
      'S3 read/write action groups generated by grant* on the driftwatch bucket, limited to the prefixes below.';
    const shared = [
      { id: 'AwsSolutions-IAM5[Resource::*]', reason: describe },
      { id: 'AwsSolutions-IAM5[Action::kms:GenerateDataKey*]', reason: kmsGrant },
      { id: 'AwsSolutions-IAM5[Action::kms:ReEncrypt*]', reason: kmsGrant },
      { id: 'AwsSolutions-IAM5[Action::s3:GetBucket*]', reason: s3Grant },
      { id: 'AwsSolutions-IAM5[Action::s3:GetObject*]', reason: s3Grant },
      { id: 'AwsSolutions-IAM5[Action::s3:List*]', reason: s3Grant },
    ];
    Validations.of(audit).acknowledge(
      ...shared,
      {
        id: 'AwsSolutions-IAM5[Action::s3:Abort*]',
        reason: 'Lets the audit abort its own multipart report uploads under reports/.',
      },
      {
        id: `AwsSolutions-IAM5[Resource::${bucket}/inventory/*]`,
        reason: 'The audit reads every instance object of the Resource Data Sync.',
      },
      {
        id: `AwsSolutions-IAM5[Resource::${bucket}/manifests/*]`,
        reason: 'The audit reads the golden manifest of any AMI.',
      },
      {
        id: `AwsSolutions-IAM5[Resource::${bucket}/reports/*]`,
        reason: 'The audit writes one report per run under reports/.',
      },
    );
    Validations.of(act).acknowledge(
      ...shared,
      {
        id: `AwsSolutions-IAM5[Resource::${bucket}/reports/*]`,
        reason: 'The act step reads the report it was triggered by.',
      },
      {
        id: 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:autoscaling:<AWS::Region>:<AWS::AccountId>:autoScalingGroup:*:autoScalingGroupName/*]',
        reason:
          'StartInstanceRefresh on any group of the account and region, but only where the group carries the opt-in tag (aws:ResourceTag condition).',
      },
      {
        id: 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ec2:<AWS::Region>:<AWS::AccountId>:launch-template/*]',
        reason:
          "A refresh's desired configuration launches from the refreshed group's own launch template, whichever that is.",
      },
    );
    // Stack-level singletons made by aws-cdk-lib for this construct: the S3 notification handler
    // (eventBridgeEnabled) and the scheduler's invoke role.
    Validations.of(stack).acknowledge(
      {
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
        reason:
          "aws-cdk-lib's bucket-notification handler (it turns on EventBridge for the bucket) uses the AWS-managed basic execution role; driftwatch's own functions have their own roles.",
      },
      {
        id: `AwsSolutions-IAM5[Resource::${arnOf(this.auditFunction)}:*]`,
        reason: 'The scheduler role may invoke any version or alias of the audit function, and nothing else.',
      },
    );
  }
}
