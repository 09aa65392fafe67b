/**
 * AsgRefreshRemediator against aws-sdk-client-mock (moto has no instance refresh), fed the documented
 * response shapes in test/fixtures/autoscaling. The service errors are the ones the real SDK builds from
 * the query-protocol error bodies there (see `sdkError`), so the code matching is the real one.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import {
  AutoScalingClient,
  type AutoScalingGroup,
  DescribeAutoScalingGroupsCommand,
  type DescribeAutoScalingGroupsCommandInput,
  DescribeInstanceRefreshesCommand,
  type DescribeInstanceRefreshesCommandInput,
  DescribeLaunchConfigurationsCommand,
  type DescribeLaunchConfigurationsCommandInput,
  type InstanceRefresh,
  InstanceRefreshInProgressFault,
  type LaunchConfiguration,
  LimitExceededFault,
  ResourceContentionFault,
  StartInstanceRefreshCommand,
  type StartInstanceRefreshCommandInput,
} from '@aws-sdk/client-auto-scaling';
import {
  DescribeLaunchTemplateVersionsCommand,
  type DescribeLaunchTemplateVersionsCommandInput,
  EC2Client,
  type LaunchTemplateVersion,
} from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  ACTIVE_REFRESH_STATUSES,
  AsgRefreshRemediator,
  type AsgRefreshRemediatorOptions,
  hasOptInTag,
  RemediationError,
} from '../../shared/adapters/asg-refresh.ts';
import type { RefreshPreferences } from '../../shared/ports.ts';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'autoscaling');
const TIMESTAMPS = new Set(['StartTime', 'EndTime', 'CreatedTime', 'CreateTime', 'RollbackStartTime']);

/** A fixture as the SDK returns it: timestamps as Dates. */
function fixture<T>(name: string): T {
  return JSON.parse(readFileSync(join(FIXTURES, name), 'utf8'), (key, value) =>
    TIMESTAMPS.has(key) && typeof value === 'string' ? new Date(value) : value,
  ) as T;
}

/** The error the real SDK throws for a query-protocol error body (HTTP 500 for `Receiver` errors). */
async function sdkError(file: string): Promise<Error> {
  const xml = readFileSync(join(FIXTURES, file), 'utf8');
  const statusCode = xml.includes('<Type>Receiver</Type>') ? 500 : 400;
  const client = new AutoScalingClient({
    region: 'eu-west-1',
    credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' },
    maxAttempts: 1,
    requestHandler: {
      async handle() {
        return {
          response: {
            statusCode,
            headers: { 'content-type': 'text/xml' },
            body: Readable.from([Buffer.from(xml)]),
          },
        };
      },
      updateHttpClientConfig() {},
      httpHandlerConfigs() {
        return {};
      },
    },
  });
  try {
    await client.send(new StartInstanceRefreshCommand({ AutoScalingGroupName: 'web' }));
  } catch (error) {
    return error as Error;
  }
  throw new Error(`${file} did not make the SDK throw`);
}

const GROUPS = fixture<{ AutoScalingGroups: AutoScalingGroup[] }>(
  'describe-auto-scaling-groups.json',
).AutoScalingGroups;
const CONFIGS = fixture<{ LaunchConfigurations: LaunchConfiguration[] }>(
  'describe-launch-configurations.json',
).LaunchConfigurations;
const VERSIONS = fixture<{ LaunchTemplateVersions: LaunchTemplateVersion[] }>(
  'describe-launch-template-versions.json',
).LaunchTemplateVersions;
const REFRESHES = fixture<{ InstanceRefreshes: InstanceRefresh[] }>(
  'describe-instance-refreshes.json',
).InstanceRefreshes;
const STARTED = fixture<{ InstanceRefreshId: string }>('start-instance-refresh.json');

const refreshId = (group: string, index: number) =>
  REFRESHES.filter((r) => r.AutoScalingGroupName === group)[index]?.InstanceRefreshId ?? '';

const autoScaling = new AutoScalingClient({ region: 'eu-west-1' });
const ec2 = new EC2Client({ region: 'eu-west-1' });
const asMock = mockClient(autoScaling);
const ec2Mock = mockClient(ec2);

/** The fixture account: each call answered with the fixture entries that match its input. */
function serveFixtureAccount(): void {
  asMock.on(DescribeAutoScalingGroupsCommand).callsFake((input: DescribeAutoScalingGroupsCommandInput) => ({
    AutoScalingGroups: GROUPS.filter(
      (g) =>
        !input.AutoScalingGroupNames || input.AutoScalingGroupNames.includes(g.AutoScalingGroupName ?? ''),
    ),
  }));
  asMock
    .on(DescribeLaunchConfigurationsCommand)
    .callsFake((input: DescribeLaunchConfigurationsCommandInput) => ({
      LaunchConfigurations: CONFIGS.filter((c) =>
        input.LaunchConfigurationNames?.includes(c.LaunchConfigurationName ?? ''),
      ),
    }));
  asMock.on(DescribeInstanceRefreshesCommand).callsFake((input: DescribeInstanceRefreshesCommandInput) => {
    const all = REFRESHES.filter((r) => r.AutoScalingGroupName === input.AutoScalingGroupName)
      .filter(
        (r) => !input.InstanceRefreshIds || input.InstanceRefreshIds.includes(r.InstanceRefreshId ?? ''),
      )
      .sort((a, b) => (b.StartTime?.getTime() ?? 0) - (a.StartTime?.getTime() ?? 0));
    const max = input.MaxRecords ?? 50;
    return {
      InstanceRefreshes: all.slice(0, max),
      ...(all.length > max ? { NextToken: 'bmV4dA==' } : {}),
    };
  });
  ec2Mock
    .on(DescribeLaunchTemplateVersionsCommand)
    .callsFake((input: DescribeLaunchTemplateVersionsCommandInput) => {
      const ofTemplate = VERSIONS.filter((v) =>
        input.LaunchTemplateId
          ? v.LaunchTemplateId === input.LaunchTemplateId
          : v.LaunchTemplateName === input.LaunchTemplateName,
      );
      const latest = Math.max(...ofTemplate.map((v) => v.VersionNumber ?? 0));
      return {
        LaunchTemplateVersions: ofTemplate.filter((v) =>
          (input.Versions ?? []).some((wanted) =>
            wanted === '$Latest'
              ? v.VersionNumber === latest
              : wanted === '$Default'
                ? v.DefaultVersion
                : String(v.VersionNumber) === wanted,
          ),
        ),
      };
    });
  asMock.on(StartInstanceRefreshCommand).resolves(STARTED);
}

const PREFS: RefreshPreferences = { minHealthyPercentage: 90, autoRollback: true };

let delays: number[];
function remediator(options: AsgRefreshRemediatorOptions = {}): AsgRefreshRemediator {
  return new AsgRefreshRemediator(autoScaling, ec2, {
    sleep: async (ms) => {
      delays.push(ms);
    },
    random: () => 0.5,
    ...options,
  });
}

function startInputs(): StartInstanceRefreshCommandInput[] {
  return asMock.commandCalls(StartInstanceRefreshCommand).map((call) => call.args[0].input);
}

beforeEach(() => {
  delays = [];
  serveFixtureAccount();
});

afterEach(() => {
  asMock.reset();
  ec2Mock.reset();
});

describe('AsgRefreshRemediator.startRefresh: the request', () => {
  it('pins a group on $Latest to the number it resolves to, without AutoRollback, and says so', async () => {
    // Act
    const result = await remediator().startRefresh('web', PREFS);

    // Assess
    expect(startInputs()).toEqual([
      {
        AutoScalingGroupName: 'web',
        Strategy: 'Rolling',
        DesiredConfiguration: { LaunchTemplate: { LaunchTemplateId: 'lt-0a1b2c3d4e5f60001', Version: '7' } },
        Preferences: { MinHealthyPercentage: 90, SkipMatching: false, AutoRollback: false },
      },
    ]);
    expect(result).toEqual({
      status: 'started',
      refreshId: STARTED.InstanceRefreshId,
      autoRollback: false,
      notes: [
        "pinned to launch template web-golden version 7 (the group's $Latest now); when the refresh succeeds Auto Scaling sets the group to version 7",
        'AutoRollback off: the group uses $Latest; AWS requires a fixed launch template version for rollback',
      ],
    });
  });

  it('keeps AutoRollback for a group on a numeric version, pinned to that version', async () => {
    const result = await remediator().startRefresh('api', PREFS);

    expect(startInputs()).toEqual([
      {
        AutoScalingGroupName: 'api',
        Strategy: 'Rolling',
        DesiredConfiguration: { LaunchTemplate: { LaunchTemplateId: 'lt-0a1b2c3d4e5f60002', Version: '3' } },
        Preferences: { MinHealthyPercentage: 90, SkipMatching: false, AutoRollback: true },
      },
    ]);
    expect(result).toEqual({
      status: 'started',
      refreshId: STARTED.InstanceRefreshId,
      autoRollback: true,
      notes: [],
    });
  });

  it('sends minimum healthy percentage, checkpoints (with their delay) and warmup from the preferences', async () => {
    await remediator().startRefresh('api', {
      minHealthyPercentage: 75,
      autoRollback: true,
      checkpointPercentages: [25, 50, 100],
      instanceWarmup: 300,
    });

    expect(startInputs()[0]?.Preferences).toEqual({
      MinHealthyPercentage: 75,
      SkipMatching: false,
      AutoRollback: true,
      CheckpointPercentages: [25, 50, 100],
      CheckpointDelay: 600,
      InstanceWarmup: 300,
    });
  });

  it('says when the checkpoints stop short of 100%, and sends a warmup of 0 as given', async () => {
    const result = await remediator().startRefresh('api', {
      ...PREFS,
      checkpointPercentages: [50],
      instanceWarmup: 0,
    });

    expect(startInputs()[0]?.Preferences).toMatchObject({ CheckpointPercentages: [50], InstanceWarmup: 0 });
    expect(result).toMatchObject({
      notes: ['the last checkpoint is 50%: the refresh replaces only that share of the group'],
    });
  });

  it('pins a mixed instances group: its whole policy, the template and the override templates at numbers', async () => {
    const result = await remediator().startRefresh('batch', PREFS);

    expect(startInputs()).toEqual([
      {
        AutoScalingGroupName: 'batch',
        Strategy: 'Rolling',
        DesiredConfiguration: {
          MixedInstancesPolicy: {
            LaunchTemplate: {
              LaunchTemplateSpecification: { LaunchTemplateId: 'lt-0a1b2c3d4e5f60003', Version: '2' },
              Overrides: [
                { InstanceType: 'm6i.large', WeightedCapacity: '1' },
                { InstanceType: 'c6i.xlarge', WeightedCapacity: '2' },
                {
                  InstanceType: 'm7g.large',
                  LaunchTemplateSpecification: {
                    LaunchTemplateId: 'lt-0a1b2c3d4e5f60004',
                    LaunchTemplateName: 'batch-arm',
                    Version: '5',
                  },
                  WeightedCapacity: '1',
                },
              ],
            },
            InstancesDistribution: {
              OnDemandAllocationStrategy: 'prioritized',
              OnDemandBaseCapacity: 1,
              OnDemandPercentageAboveBaseCapacity: 25,
              SpotAllocationStrategy: 'price-capacity-optimized',
            },
          },
        },
        Preferences: { MinHealthyPercentage: 90, SkipMatching: false, AutoRollback: false },
      },
    ]);
    expect(result).toEqual({
      status: 'started',
      refreshId: STARTED.InstanceRefreshId,
      autoRollback: false,
      notes: [
        "pinned to launch template batch-x86 version 2 (the group's $Default now); when the refresh succeeds Auto Scaling sets the group to version 2",
        'AutoRollback off: the group uses $Default; AWS requires a fixed launch template version for rollback',
        'AutoRollback off: the override for m7g.large uses launch template batch-arm $Latest; AWS requires fixed launch template versions for rollback',
      ],
    });
  });

  it('refreshes a group whose AMI is an SSM parameter without AutoRollback, and says so', async () => {
    const result = await remediator().startRefresh('edge', PREFS);

    expect(startInputs()).toEqual([
      {
        AutoScalingGroupName: 'edge',
        Strategy: 'Rolling',
        DesiredConfiguration: { LaunchTemplate: { LaunchTemplateId: 'lt-0a1b2c3d4e5f60005', Version: '2' } },
        Preferences: { MinHealthyPercentage: 90, SkipMatching: false, AutoRollback: false },
      },
    ]);
    expect(result).toEqual({
      status: 'started',
      refreshId: STARTED.InstanceRefreshId,
      autoRollback: false,
      notes: [
        "AutoRollback off: the group's AMI is the SSM parameter /aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64; AWS does not roll back groups whose AMI is an SSM parameter",
      ],
    });
  });

  it('never asks for skip-matching, and adds no AutoRollback note when the policy does not want rollback', async () => {
    const refresher = remediator();
    const noRollback = { minHealthyPercentage: 90, autoRollback: false };
    const results = [
      await refresher.startRefresh('web', noRollback),
      await refresher.startRefresh('api', noRollback),
      await refresher.startRefresh('batch', noRollback),
      await refresher.startRefresh('edge', PREFS),
    ];

    expect(startInputs().map((input) => input.Preferences?.SkipMatching)).toEqual([
      false,
      false,
      false,
      false,
    ]);
    expect(startInputs().map((input) => input.Preferences?.AutoRollback)).toEqual([
      false,
      false,
      false,
      false,
    ]);
    expect(
      results
        .flatMap((r) => (r.status === 'started' ? r.notes : []))
        .filter((n) => n.startsWith('AutoRollback')),
    ).toEqual([expect.stringContaining('SSM parameter')]);
  });

  it('refuses a group on a launch configuration: there is no template version to pin', async () => {
    const result = await remediator().startRefresh('legacy', PREFS);

    expect(result).toEqual({
      status: 'refused',
      reason:
        'the group launches from launch configuration legacy-lc-2019: an instance refresh can only be pinned to a launch template version (move the group to a launch template)',
    });
    expect(startInputs()).toEqual([]);
  });

  it('refuses a group that does not exist', async () => {
    expect(await remediator().startRefresh('gone', PREFS)).toEqual({
      status: 'refused',
      reason: 'Auto Scaling group gone was not found',
    });
    expect(startInputs()).toEqual([]);
  });

  it('refuses a group whose template version cannot be resolved', async () => {
    ec2Mock.on(DescribeLaunchTemplateVersionsCommand).resolves({ LaunchTemplateVersions: [] });

    const result = await remediator().startRefresh('web', PREFS);

    expect(result).toEqual({
      status: 'refused',
      reason: expect.stringMatching(
        /^launch template web-golden version \$Latest could not be resolved to a version number/,
      ),
    });
    expect(startInputs()).toEqual([]);
  });
});

describe('AsgRefreshRemediator.startRefresh: Auto Scaling errors', () => {
  const errors: Record<string, Error> = {};
  beforeAll(async () => {
    for (const name of [
      'instance-refresh-in-progress',
      'limit-exceeded',
      'resource-contention',
      'validation-rollback',
      'validation',
    ]) {
      errors[name] = await sdkError(`error-${name}.xml`);
    }
  });

  it('builds the errors the way the SDK does: a Fault class name, the wire code in Code', () => {
    expect(errors['instance-refresh-in-progress']).toMatchObject({
      name: 'InstanceRefreshInProgressFault',
      Code: 'InstanceRefreshInProgress',
    });
    expect(errors['resource-contention']).toMatchObject({
      name: 'ResourceContentionFault',
      $fault: 'server',
    });
    expect(errors.validation).toMatchObject({ name: 'ValidationError' });
  });

  it('also knows the errors by their class name alone (a modeled exception built without Code)', async () => {
    const meta = { $metadata: {} };
    asMock
      .on(StartInstanceRefreshCommand)
      .rejectsOnce(new LimitExceededFault({ message: 'limit', ...meta }))
      .rejectsOnce(new ResourceContentionFault({ message: 'busy', ...meta }))
      .rejectsOnce(new InstanceRefreshInProgressFault({ message: 'running', ...meta }));

    const result = await remediator().startRefresh('api', PREFS);

    expect(result).toMatchObject({ status: 'in-progress' });
    expect(delays).toEqual([1000, 2000]);
  });

  it('answers InstanceRefreshInProgress with in-progress, without retrying', async () => {
    asMock.on(StartInstanceRefreshCommand).rejects(errors['instance-refresh-in-progress']);

    const result = await remediator().startRefresh('api', PREFS);

    expect(result).toEqual({
      status: 'in-progress',
      notes: [
        'an instance refresh is already running for the group (An Instance Refresh is already in progress and blocks the execution of this Instance Refresh.): not starting another',
      ],
    });
    expect(startInputs()).toHaveLength(1);
    expect(delays).toEqual([]);
  });

  it('waits out LimitExceeded with growing backoffs, then starts', async () => {
    asMock
      .on(StartInstanceRefreshCommand)
      .rejectsOnce(errors['limit-exceeded'])
      .rejectsOnce(errors['limit-exceeded'])
      .resolves(STARTED);

    const result = await remediator().startRefresh('api', PREFS);

    expect(result).toEqual({
      status: 'started',
      refreshId: STARTED.InstanceRefreshId,
      autoRollback: true,
      notes: [],
    });
    expect(delays).toEqual([1000, 2000]);
    const inputs = startInputs();
    expect(inputs).toHaveLength(3);
    expect(inputs[2]).toEqual(inputs[0]);
  });

  it('gives up on ResourceContention after maxAttempts, refused with the reason', async () => {
    asMock.on(StartInstanceRefreshCommand).rejects(errors['resource-contention']);

    const result = await remediator().startRefresh('api', PREFS);

    expect(result).toEqual({
      status: 'refused',
      reason:
        'Auto Scaling answered ResourceContention 5 times (You already have a pending update to an Auto Scaling resource (for example, a group, instance, or load balancer).); try again later',
    });
    expect(startInputs()).toHaveLength(5);
    expect(delays).toEqual([1000, 2000, 4000, 8000]);
  });

  it('draws each backoff at random below its ceiling (full jitter), from the configured base', async () => {
    asMock.on(StartInstanceRefreshCommand).rejects(errors['limit-exceeded']);
    const draws = [0, 0.999, 0.25];
    const refresher = remediator({ maxAttempts: 4, baseDelayMs: 100, random: () => draws.shift() ?? 0 });

    const result = await refresher.startRefresh('api', PREFS);

    expect(result).toMatchObject({
      status: 'refused',
      reason: expect.stringContaining('LimitExceeded 4 times'),
    });
    expect(delays).toEqual([0, 199, 100]);
  });

  it('retries once without AutoRollback when Auto Scaling refuses rollback, and says so', async () => {
    asMock.on(StartInstanceRefreshCommand).rejectsOnce(errors['validation-rollback']).resolves(STARTED);

    const result = await remediator().startRefresh('api', PREFS);

    expect(startInputs().map((input) => input.Preferences?.AutoRollback)).toEqual([true, false]);
    expect(result).toEqual({
      status: 'started',
      refreshId: STARTED.InstanceRefreshId,
      autoRollback: false,
      notes: [
        'AutoRollback off: Auto Scaling refused it (AutoRollback is not supported for this Auto Scaling group: its launch template takes the AMI from a Systems Manager parameter.); refreshing without rollback',
      ],
    });
    expect(delays).toEqual([]);
  });

  it('throws a RemediationError, with the cause, for any other error', async () => {
    asMock.on(StartInstanceRefreshCommand).rejects(errors.validation);

    const error = await remediator()
      .startRefresh('api', PREFS)
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(RemediationError);
    expect(error).toMatchObject({
      name: 'RemediationError',
      operation: 'AutoScaling.StartInstanceRefresh',
      asgName: 'api',
      cause: errors.validation,
      message:
        'AutoScaling.StartInstanceRefresh for api failed: ValidationError: The instance warmup must be less than or equal to 172800 seconds.',
    });
    expect(startInputs()).toHaveLength(1);
  });

  it('does not retry a rollback refusal twice, nor when rollback was not asked for', async () => {
    asMock.on(StartInstanceRefreshCommand).rejects(errors['validation-rollback']);

    await expect(remediator().startRefresh('api', PREFS)).rejects.toThrow(RemediationError);
    expect(startInputs()).toHaveLength(2);
    asMock.resetHistory();
    await expect(remediator().startRefresh('api', { ...PREFS, autoRollback: false })).rejects.toThrow(
      RemediationError,
    );
    expect(startInputs()).toHaveLength(1);
  });

  it('wraps a failure to describe the group in a RemediationError naming the call', async () => {
    const denied = Object.assign(
      new Error('User is not authorized to perform: autoscaling:DescribeAutoScalingGroups'),
      {
        name: 'AccessDenied',
      },
    );
    asMock.on(DescribeAutoScalingGroupsCommand).rejects(denied);

    await expect(remediator().startRefresh('web', PREFS)).rejects.toMatchObject({
      name: 'RemediationError',
      operation: 'AutoScaling.DescribeAutoScalingGroups',
      message: expect.stringContaining('AccessDenied: User is not authorized'),
    });
  });

  it('refuses options that would never start a refresh', () => {
    expect(() => new AsgRefreshRemediator(autoScaling, ec2, { maxAttempts: 0 })).toThrow(RangeError);
    expect(() => new AsgRefreshRemediator(autoScaling, ec2, { baseDelayMs: -1 })).toThrow(RangeError);
  });
});

describe('AsgRefreshRemediator.groupStates', () => {
  const ALL = ['api', 'batch', 'edge', 'legacy', 'web'];

  it('reads the opt-in tag as key=value (the value must match) or as a bare key', async () => {
    const byValue = await remediator().groupStates(ALL, 'driftwatch:remediate=true', new Map());
    const byKey = await remediator().groupStates(ALL, 'driftwatch:remediate', new Map());
    const byName = await remediator().groupStates(ALL, 'Name', new Map());

    const optedIn = (states: Map<string, { optedIn: boolean }>) =>
      [...states].filter(([, s]) => s.optedIn).map(([name]) => name);
    expect(optedIn(byValue)).toEqual(['batch', 'edge', 'legacy', 'web']);
    expect(optedIn(byKey)).toEqual(ALL);
    expect(optedIn(byName)).toEqual(['api', 'web']);
  });

  it('matches tags exactly, and splits key=value at the first =', () => {
    const tags = { team: 'a=b', empty: '' };
    expect(hasOptInTag(tags, 'team=a=b')).toBe(true);
    expect(hasOptInTag(tags, 'team=a')).toBe(false);
    expect(hasOptInTag(tags, 'empty=')).toBe(true);
    expect(hasOptInTag(tags, 'empty')).toBe(true);
    expect(hasOptInTag(tags, 'Team')).toBe(false);
    expect(hasOptInTag(Object.create(null), 'toString')).toBe(false);
  });

  it('sees a refresh holding the group (InProgress, Baking, ...) from its few most recent refreshes', async () => {
    const states = await remediator().groupStates(ALL, 'driftwatch:remediate=true', new Map());

    expect(Object.fromEntries([...states].map(([name, s]) => [name, s.refreshInProgress]))).toEqual({
      api: false,
      batch: false,
      edge: true,
      legacy: false,
      web: true,
    });
    expect(asMock.commandCalls(DescribeInstanceRefreshesCommand).map((c) => c.args[0].input)).toEqual(
      expect.arrayContaining(ALL.map((name) => ({ AutoScalingGroupName: name, MaxRecords: 5 }))),
    );
    expect([...ACTIVE_REFRESH_STATUSES].sort()).toEqual([
      'Baking',
      'Cancelling',
      'InProgress',
      'Pending',
      'RollbackInProgress',
    ]);
  });

  it('reports the outcome of the last refresh driftwatch started, reading it by id when it is older', async () => {
    const last = new Map([
      ['web', refreshId('web', 1)],
      ['batch', refreshId('batch', 0)],
      ['api', refreshId('api', 5)],
      ['edge', 'not-a-known-refresh'],
    ]);

    const states = await remediator().groupStates(
      ['web', 'batch', 'api', 'edge'],
      'driftwatch:remediate',
      last,
    );

    expect(states.get('web')).toEqual({
      asgName: 'web',
      optedIn: true,
      refreshInProgress: true,
      lastRefresh: {
        refreshId: refreshId('web', 1),
        status: 'Successful',
        startedAt: '2026-11-20T09:15:07.000Z',
      },
    });
    expect(states.get('batch')?.lastRefresh).toEqual({
      refreshId: refreshId('batch', 0),
      status: 'RollbackSuccessful',
      startedAt: '2026-11-26T22:03:40.000Z',
      statusReason:
        'The instance refresh was rolled back because it failed: Instances failed to pass health checks.',
    });
    expect(states.get('api')?.lastRefresh).toEqual({
      refreshId: refreshId('api', 5),
      status: 'Cancelled',
      startedAt: '2026-10-21T06:00:11.000Z',
      statusReason: 'Cancelled due to user request.',
    });
    expect(states.get('edge')).toEqual({ asgName: 'edge', optedIn: true, refreshInProgress: true });
    // Only the refreshes past the recent page are read by id (api's, and edge's unknown one).
    expect(
      asMock
        .commandCalls(DescribeInstanceRefreshesCommand)
        .map((c) => c.args[0].input)
        .filter((input) => input.InstanceRefreshIds)
        .sort((a, b) => (a.AutoScalingGroupName ?? '').localeCompare(b.AutoScalingGroupName ?? '')),
    ).toEqual([
      { AutoScalingGroupName: 'api', InstanceRefreshIds: [refreshId('api', 5)] },
      { AutoScalingGroupName: 'edge', InstanceRefreshIds: ['not-a-known-refresh'] },
    ]);
  });

  it('leaves out groups that do not exist, and asks nothing for no groups', async () => {
    const states = await remediator().groupStates(['web', 'gone', 'web'], 'driftwatch:remediate', new Map());
    expect([...states.keys()]).toEqual(['web']);
    expect(asMock.commandCalls(DescribeInstanceRefreshesCommand)).toHaveLength(1);

    asMock.resetHistory();
    expect(await remediator().groupStates([], 'driftwatch:remediate', new Map())).toEqual(new Map());
    expect(asMock.calls()).toEqual([]);
  });

  it('asks for at most 50 group names a call', async () => {
    const names = Array.from({ length: 120 }, (_, i) => `g${i}`);
    await remediator().groupStates(names, 'driftwatch:remediate', new Map());
    expect(
      asMock
        .commandCalls(DescribeAutoScalingGroupsCommand)
        .map((c) => c.args[0].input.AutoScalingGroupNames?.length),
    ).toEqual([50, 50, 20]);
  });

  it('throws a RemediationError naming the call that failed', async () => {
    asMock
      .on(DescribeInstanceRefreshesCommand)
      .rejects(Object.assign(new Error('Rate exceeded'), { name: 'Throttling' }));

    await expect(remediator().groupStates(['web'], 'driftwatch:remediate', new Map())).rejects.toMatchObject({
      name: 'RemediationError',
      operation: 'AutoScaling.DescribeInstanceRefreshes',
      asgName: 'web',
      message: 'AutoScaling.DescribeInstanceRefreshes for web failed: Throttling: Rate exceeded',
    });
  });
});
