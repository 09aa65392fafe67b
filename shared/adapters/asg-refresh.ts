/**
 * The Remediator on Amazon EC2 Auto Scaling: the live state of groups (opt-in tag, refreshes running,
 * the outcome of the last refresh driftwatch started) and guarded instance refreshes.
 *
 * A refresh is pinned: its DesiredConfiguration names the group's own launch template at the version
 * NUMBER the group's `$Latest`/`$Default` resolves to now, never `$Latest`/`$Default` itself, so every
 * replacement launches from one known version even if the template moves during the refresh. It
 * always replaces every instance (`SkipMatching: false`, the API default, sent explicitly): a drifted
 * instance still *matches* its group's launch template, so skip-matching would skip exactly the
 * instances the refresh is meant to replace. AWS refuses AutoRollback when the *group* is configured
 * with `$Latest` or `$Default` or takes its AMI from an SSM parameter: there the refresh runs without
 * it, and the result's notes say so.
 *
 * Once a refresh succeeds, Auto Scaling writes its DesiredConfiguration into the group: a group that was
 * on `$Latest` or `$Default` is then on the pinned number (a note says so).
 *
 * Not idempotent, on purpose: every `startRefresh` call asks Auto Scaling for a new refresh. The act use
 * case claims each refresh decision in AlertState (`claimRefresh`) before calling it, so a retried
 * invocation does not start a second one; Auto Scaling itself allows one running refresh per group
 * (`InstanceRefreshInProgress`, answered here as `in-progress`).
 */

import { setTimeout as delay } from 'node:timers/promises';
import {
  type AutoScalingClient,
  type AutoScalingGroup,
  type RefreshPreferences as AwsRefreshPreferences,
  DescribeInstanceRefreshesCommand,
  type DesiredConfiguration,
  type InstanceRefresh,
  type LaunchTemplateSpecification,
  type MixedInstancesPolicy,
  paginateDescribeAutoScalingGroups,
  StartInstanceRefreshCommand,
  type StartInstanceRefreshCommandInput,
} from '@aws-sdk/client-auto-scaling';
import type { EC2Client } from '@aws-sdk/client-ec2';
import type { GroupState, RefreshOutcome } from '../domain/decide.ts';
import type { RefreshPreferences, RefreshStart, Remediator } from '../ports.ts';
import { awsErrorName, mapLimit } from './aws-clients.ts';
import {
  type AutoScalingGroupInfo,
  describeLaunchTemplateVersion,
  Ec2FleetError,
  Ec2FleetSource,
} from './ec2-fleet.ts';

/** Statuses of a refresh that still holds the group: Auto Scaling refuses a new one meanwhile. */
export const ACTIVE_REFRESH_STATUSES: ReadonlySet<string> = new Set([
  'Pending',
  'InProgress',
  'Cancelling',
  'RollbackInProgress',
  'Baking',
]);

/** How long a refresh waits at each checkpoint when the policy sets checkpoints (seconds). */
export const CHECKPOINT_DELAY_SECONDS = 600;
/** The most recent refreshes read per group: only the newest can be running; the rest may hold the last one. */
const RECENT_REFRESHES = 5;
const MAX_GROUP_NAMES = 50;
const GROUP_CONCURRENCY = 4;
const MAX_BACKOFF_MS = 30_000;
/** Errors worth waiting out: too many refreshes account-wide, the group being changed right now. */
const RETRYABLE = new Set(['LimitExceeded', 'ResourceContention']);

/** A call to Auto Scaling or EC2 failed in a way a retry does not fix (access denied, validation, ...). */
export class RemediationError extends Error {
  override readonly name = 'RemediationError';
  constructor(
    /** `AutoScaling.StartInstanceRefresh`, `EC2.DescribeLaunchTemplateVersions`, ... */
    readonly operation: string,
    readonly asgName: string | undefined,
    options: { cause: unknown },
  ) {
    const cause = options.cause instanceof Ec2FleetError ? options.cause.cause : options.cause;
    const code = errorCode(cause);
    const reason = cause instanceof Error ? cause.message : String(cause);
    super(
      `${operation}${asgName === undefined ? '' : ` for ${asgName}`} failed: ${code && code !== 'Error' ? `${code}: ` : ''}${reason}`,
      options,
    );
  }
}

export interface AsgRefreshRemediatorOptions {
  /**
   * StartInstanceRefresh attempts on LimitExceeded/ResourceContention, the first included. The SDK client
   * may retry ResourceContention (a server fault) within each attempt too. @default 5
   */
  readonly maxAttempts?: number;
  /** Backoff before attempt n+1: a random delay up to `baseDelayMs * 2^(n-1)` (full jitter). @default 2000 */
  readonly baseDelayMs?: number;
  /** Waits between attempts (tests inject one that records the delays). */
  readonly sleep?: (ms: number) => Promise<void>;
  /** The jitter source, in [0, 1). @default Math.random */
  readonly random?: () => number;
}

/**
 * The Auto Scaling error code without the SDK's `Fault` suffix: the SDK names modeled errors after their
 * class (`InstanceRefreshInProgressFault`) and keeps the wire code in `Code` (`InstanceRefreshInProgress`).
 */
function errorCode(error: unknown): string | undefined {
  const code = (error as { Code?: unknown })?.Code;
  const name = typeof code === 'string' && code !== '' ? code : awsErrorName(error);
  return name?.replace(/Fault$/, '');
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** `key=value`: the tag must have that value; `key`: the tag must be there, with any value. */
export function hasOptInTag(tags: Readonly<Record<string, string>>, requireTag: string): boolean {
  const eq = requireTag.indexOf('=');
  const key = eq === -1 ? requireTag : requireTag.slice(0, eq);
  if (!Object.hasOwn(tags, key)) return false;
  return eq === -1 || tags[key] === requireTag.slice(eq + 1);
}

function isFixedVersion(version: string | undefined): boolean {
  return version !== undefined && /^\d+$/.test(version);
}

function templateRef(spec: { id?: string | undefined; name?: string | undefined }): string {
  return spec.name ?? spec.id ?? '(unnamed)';
}

function outcome(refresh: InstanceRefresh, refreshId: string): RefreshOutcome {
  const start = refresh.StartTime as Date | string | undefined;
  return {
    refreshId,
    status: refresh.Status ?? 'Unknown',
    ...(start !== undefined ? { startedAt: start instanceof Date ? start.toISOString() : start } : {}),
    ...(refresh.StatusReason ? { statusReason: refresh.StatusReason } : {}),
  };
}

function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** Guarded instance refreshes through the Auto Scaling API (launch templates resolved through EC2). */
export class AsgRefreshRemediator implements Remediator {
  readonly description = 'Auto Scaling instance refresh';
  private readonly fleet: Ec2FleetSource;
  private readonly maxAttempts: number;
  private readonly baseDelayMs: number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;

  constructor(
    private readonly autoScaling: AutoScalingClient,
    private readonly ec2: EC2Client,
    options: AsgRefreshRemediatorOptions = {},
  ) {
    this.fleet = new Ec2FleetSource(ec2, autoScaling);
    this.maxAttempts = options.maxAttempts ?? 5;
    if (!Number.isInteger(this.maxAttempts) || this.maxAttempts < 1) {
      throw new RangeError(`maxAttempts must be an integer of at least 1, got ${options.maxAttempts}`);
    }
    this.baseDelayMs = options.baseDelayMs ?? 2000;
    if (!(this.baseDelayMs >= 0))
      throw new RangeError(`baseDelayMs must be 0 or more, got ${options.baseDelayMs}`);
    this.sleep = options.sleep ?? ((ms) => delay(ms));
    this.random = options.random ?? Math.random;
  }

  /**
   * Per existing group (groups that do not exist are left out, which the act use case reads as not
   * opted in): the opt-in tag, whether a refresh holds the group, and the outcome of the refresh named
   * in `lastRefreshIds` as Auto Scaling reports it now (left out when Auto Scaling no longer knows it:
   * it keeps six weeks of refreshes).
   */
  async groupStates(
    asgNames: readonly string[],
    requireTag: string,
    lastRefreshIds: ReadonlyMap<string, string>,
  ): Promise<Map<string, Omit<GroupState, 'refreshesToday'>>> {
    const names = [...new Set(asgNames)];
    const out = new Map<string, Omit<GroupState, 'refreshesToday'>>();
    if (names.length === 0) return out;
    const groups = await this.describeGroups(names);
    const states = await mapLimit(groups, GROUP_CONCURRENCY, async (group) => {
      const asgName = group.AutoScalingGroupName ?? '';
      const tags: Record<string, string> = Object.create(null);
      for (const tag of group.Tags ?? []) if (tag.Key !== undefined) tags[tag.Key] = tag.Value ?? '';
      const recent = await this.describeRefreshes(asgName, { MaxRecords: RECENT_REFRESHES });
      const lastId = lastRefreshIds.get(asgName);
      let last = lastId === undefined ? undefined : recent.find((r) => r.InstanceRefreshId === lastId);
      if (lastId !== undefined && !last) {
        [last] = await this.describeRefreshes(asgName, { InstanceRefreshIds: [lastId] });
      }
      const state: Omit<GroupState, 'refreshesToday'> = {
        asgName,
        optedIn: hasOptInTag(tags, requireTag),
        refreshInProgress: recent.some(
          (r) => r.Status !== undefined && ACTIVE_REFRESH_STATUSES.has(r.Status),
        ),
        ...(last && lastId !== undefined ? { lastRefresh: outcome(last, lastId) } : {}),
      };
      return state;
    });
    for (const state of states) out.set(state.asgName, state);
    return out;
  }

  /**
   * Starts a refresh of every instance of the group, pinned to the launch template version its
   * configuration resolves to now. `refused` (with the reason) for a group that does not exist, launches
   * from a launch configuration, or whose template cannot be resolved, and when Auto Scaling stays busy
   * (LimitExceeded, ResourceContention) past `maxAttempts`; `in-progress` when a refresh already holds the
   * group. Other failures throw a RemediationError.
   */
  async startRefresh(asgName: string, preferences: RefreshPreferences): Promise<RefreshStart> {
    let group: AutoScalingGroupInfo | undefined;
    try {
      [group] = await this.fleet.groups([asgName]);
    } catch (error) {
      const operation =
        error instanceof Ec2FleetError ? error.operation : 'AutoScaling.DescribeAutoScalingGroups';
      throw new RemediationError(operation, asgName, { cause: error });
    }
    if (!group) return { status: 'refused', reason: `Auto Scaling group ${asgName} was not found` };
    const template = group.launchTemplate;
    if (!template) {
      return {
        status: 'refused',
        reason: group.launchConfigurationName
          ? `the group launches from launch configuration ${group.launchConfigurationName}: an instance refresh can only be pinned to a launch template version (move the group to a launch template)`
          : 'the group has no launch template: an instance refresh cannot be pinned to a version',
      };
    }
    if (template.versionNumber === undefined) {
      return {
        status: 'refused',
        reason: `launch template ${templateRef(template)} version ${template.version} could not be resolved to a version number${group.amiNote ? ` (${group.amiNote})` : ''}`,
      };
    }

    const notes: string[] = [];
    const pinned: LaunchTemplateSpecification = {
      ...(template.id ? { LaunchTemplateId: template.id } : { LaunchTemplateName: template.name }),
      Version: String(template.versionNumber),
    };
    if (!isFixedVersion(template.version)) {
      notes.push(
        `pinned to launch template ${templateRef(template)} version ${template.versionNumber} (the group's ${template.version} now); when the refresh succeeds Auto Scaling sets the group to version ${template.versionNumber}`,
      );
    }

    const rollbackBlockers: string[] = [];
    if (!isFixedVersion(template.version)) {
      rollbackBlockers.push(
        `the group uses ${template.version}; AWS requires a fixed launch template version for rollback`,
      );
    }
    if (group.amiParameter !== undefined) {
      rollbackBlockers.push(
        `the group's AMI is the SSM parameter ${group.amiParameter}; AWS does not roll back groups whose AMI is an SSM parameter`,
      );
    }

    let desired: DesiredConfiguration;
    if (group.mixedInstances) {
      const mixed = await this.pinnedMixedPolicy(asgName, pinned, rollbackBlockers);
      if ('refused' in mixed) return { status: 'refused', reason: mixed.refused };
      desired = { MixedInstancesPolicy: mixed.policy };
    } else {
      desired = { LaunchTemplate: pinned };
    }

    let autoRollback = preferences.autoRollback && rollbackBlockers.length === 0;
    if (preferences.autoRollback)
      for (const blocker of rollbackBlockers) notes.push(`AutoRollback off: ${blocker}`);
    const checkpoints = preferences.checkpointPercentages ?? [];
    const last = checkpoints.at(-1);
    if (last !== undefined && last < 100) {
      notes.push(`the last checkpoint is ${last}%: the refresh replaces only that share of the group`);
    }

    const input = (rollback: boolean): StartInstanceRefreshCommandInput => {
      const prefs: AwsRefreshPreferences = {
        MinHealthyPercentage: preferences.minHealthyPercentage,
        SkipMatching: false,
        AutoRollback: rollback,
        ...(checkpoints.length > 0
          ? { CheckpointPercentages: [...checkpoints], CheckpointDelay: CHECKPOINT_DELAY_SECONDS }
          : {}),
        ...(preferences.instanceWarmup !== undefined ? { InstanceWarmup: preferences.instanceWarmup } : {}),
      };
      return {
        AutoScalingGroupName: asgName,
        Strategy: 'Rolling',
        DesiredConfiguration: desired,
        Preferences: prefs,
      };
    };

    let attempt = 1;
    for (;;) {
      try {
        const res = await this.autoScaling.send(new StartInstanceRefreshCommand(input(autoRollback)));
        if (!res.InstanceRefreshId) {
          throw new RemediationError('AutoScaling.StartInstanceRefresh', asgName, {
            cause: new Error('the response has no InstanceRefreshId'),
          });
        }
        return { status: 'started', refreshId: res.InstanceRefreshId, autoRollback, notes };
      } catch (error) {
        if (error instanceof RemediationError) throw error;
        const code = errorCode(error);
        if (code === 'InstanceRefreshInProgress') {
          notes.push(
            `an instance refresh is already running for the group (${errorMessage(error)}): not starting another`,
          );
          return { status: 'in-progress', notes };
        }
        if (code === 'ValidationError' && autoRollback && /rollback/i.test(errorMessage(error))) {
          // Rollback prerequisites AWS checks that driftwatch cannot see: refresh without it, once.
          autoRollback = false;
          notes.push(
            `AutoRollback off: Auto Scaling refused it (${errorMessage(error)}); refreshing without rollback`,
          );
          continue;
        }
        if (code !== undefined && RETRYABLE.has(code)) {
          if (attempt >= this.maxAttempts) {
            return {
              status: 'refused',
              reason: `Auto Scaling answered ${code} ${this.maxAttempts} time${this.maxAttempts === 1 ? '' : 's'} (${errorMessage(error)}); try again later`,
            };
          }
          await this.sleep(this.backoff(attempt));
          attempt++;
          continue;
        }
        throw new RemediationError('AutoScaling.StartInstanceRefresh', asgName, { cause: error });
      }
    }
  }

  /** Full jitter: a random delay up to `base * 2^(attempt-1)`, capped. */
  private backoff(attempt: number): number {
    const ceiling = Math.min(MAX_BACKOFF_MS, this.baseDelayMs * 2 ** (attempt - 1));
    return Math.floor(this.random() * ceiling);
  }

  /**
   * The group's whole mixed instances policy (instance types, distribution: a desired configuration
   * replaces the group's policy when the refresh succeeds), with its template and the templates of its
   * overrides pinned to version numbers. One more DescribeAutoScalingGroups: `Ec2FleetSource.groups()`
   * resolves the template but does not keep the policy.
   */
  private async pinnedMixedPolicy(
    asgName: string,
    pinned: LaunchTemplateSpecification,
    rollbackBlockers: string[],
  ): Promise<{ policy: MixedInstancesPolicy } | { refused: string }> {
    const [raw] = await this.describeGroups([asgName]);
    const policy = raw?.MixedInstancesPolicy;
    if (!policy)
      return { refused: `Auto Scaling group ${asgName} changed while the refresh was being prepared` };
    const overrides = [];
    for (const override of policy.LaunchTemplate?.Overrides ?? []) {
      const spec = override.LaunchTemplateSpecification;
      if (!spec) {
        overrides.push(override);
        continue;
      }
      const version = spec.Version ?? '$Default';
      const ref = templateRef({ id: spec.LaunchTemplateId, name: spec.LaunchTemplateName });
      const number = isFixedVersion(version)
        ? Number(version)
        : await this.resolveVersion(asgName, spec, version);
      if (number === undefined) {
        return {
          refused: `override launch template ${ref} version ${version} could not be resolved to a version number`,
        };
      }
      if (!isFixedVersion(version)) {
        rollbackBlockers.push(
          `the override for ${override.InstanceType ?? 'an instance type'} uses launch template ${ref} ${version}; AWS requires fixed launch template versions for rollback`,
        );
      }
      overrides.push({ ...override, LaunchTemplateSpecification: { ...spec, Version: String(number) } });
    }
    return {
      policy: {
        ...policy,
        LaunchTemplate: {
          ...policy.LaunchTemplate,
          LaunchTemplateSpecification: pinned,
          ...(policy.LaunchTemplate?.Overrides ? { Overrides: overrides } : {}),
        },
      },
    };
  }

  private async resolveVersion(
    asgName: string,
    spec: LaunchTemplateSpecification,
    version: string,
  ): Promise<number | undefined> {
    try {
      return (await describeLaunchTemplateVersion(this.ec2, spec, version))?.VersionNumber;
    } catch (error) {
      if (/^InvalidLaunchTemplate(?:Id|Name)\./.test(awsErrorName(error) ?? '')) return undefined;
      throw new RemediationError('EC2.DescribeLaunchTemplateVersions', asgName, { cause: error });
    }
  }

  private async describeGroups(names: readonly string[]): Promise<AutoScalingGroup[]> {
    const out: AutoScalingGroup[] = [];
    try {
      for (const c of chunk(names, MAX_GROUP_NAMES)) {
        const pages = paginateDescribeAutoScalingGroups(
          { client: this.autoScaling, pageSize: 100 },
          { AutoScalingGroupNames: c },
        );
        for await (const page of pages) out.push(...(page.AutoScalingGroups ?? []));
      }
    } catch (error) {
      throw new RemediationError(
        'AutoScaling.DescribeAutoScalingGroups',
        names.length === 1 ? names[0] : undefined,
        {
          cause: error,
        },
      );
    }
    return out.filter((g) => g.AutoScalingGroupName !== undefined);
  }

  private async describeRefreshes(
    asgName: string,
    query: { MaxRecords: number } | { InstanceRefreshIds: string[] },
  ): Promise<InstanceRefresh[]> {
    try {
      const res = await this.autoScaling.send(
        new DescribeInstanceRefreshesCommand({ AutoScalingGroupName: asgName, ...query }),
      );
      return res.InstanceRefreshes ?? [];
    } catch (error) {
      throw new RemediationError('AutoScaling.DescribeInstanceRefreshes', asgName, { cause: error });
    }
  }
}
