/**
 * The live fleet: running instances from EC2 and, per Auto Scaling group, the AMI of the launch
 * template version the group launches from (the input of `ami-outdated`).
 *
 * Every list call is paginated and every list of names or ids is sent in chunks the API accepts
 * (200 filter values, 50 group names, 50 launch configuration names).
 */
import {
  type AutoScalingClient,
  type AutoScalingGroup,
  type LaunchTemplateSpecification,
  paginateDescribeAutoScalingGroups,
  paginateDescribeLaunchConfigurations,
} from '@aws-sdk/client-auto-scaling';
import {
  type DescribeInstancesCommandInput,
  DescribeLaunchTemplateVersionsCommand,
  type EC2Client,
  type Filter,
  type LaunchTemplateVersion,
  paginateDescribeInstances,
} from '@aws-sdk/client-ec2';
import type { FleetInstance } from '../domain/diff.ts';
import type { AuditScope, FleetSource } from '../ports.ts';
import { awsErrorName, mapLimit } from './aws-clients.ts';

/** The tag Auto Scaling puts on every instance it launches. */
export const ASG_TAG = 'aws:autoscaling:groupName';
/** An AMI given as an SSM parameter in a launch template: `resolve:ssm:/aws/service/...`. */
export const SSM_AMI_PREFIX = 'resolve:ssm:';

const MAX_FILTER_VALUES = 200;
const MAX_GROUP_NAMES = 50;
const MAX_LAUNCH_CONFIGURATION_NAMES = 50;
const TEMPLATE_LOOKUP_CONCURRENCY = 4;
/** DescribeInstances with InstanceIds fails for ids that do not exist (any more), or are malformed. */
const MISSING_INSTANCE_ERRORS = new Set(['InvalidInstanceID.NotFound', 'InvalidInstanceID.Malformed']);
/** A deleted template, a deleted version, a malformed id or name. */
const MISSING_TEMPLATE_ERROR = /^InvalidLaunchTemplate(?:Id|Name)\./;

/** An EC2 or Auto Scaling call failed for another reason than a missing resource (access, throttling). */
export class Ec2FleetError extends Error {
  override readonly name = 'Ec2FleetError';
  constructor(
    /** `EC2.DescribeInstances`, `AutoScaling.DescribeAutoScalingGroups`, ... */
    readonly operation: string,
    options: { cause: unknown },
  ) {
    const reason = options.cause instanceof Error ? options.cause.message : String(options.cause);
    const code = awsErrorName(options.cause);
    super(`${operation} failed: ${code && code !== 'Error' ? `${code}: ` : ''}${reason}`, options);
  }
}

/** The launch template a group launches from, as the group names it. */
export interface GroupLaunchTemplate {
  readonly id?: string;
  readonly name?: string;
  /** `$Latest`, `$Default` or a version number, as the group says (`$Default` when it says none). */
  readonly version: string;
  /** The number `version` resolves to now, when the template could be described. */
  readonly versionNumber?: number;
}

/** An Auto Scaling group, with what the act step needs to decide on and start an instance refresh. */
export interface AutoScalingGroupInfo {
  readonly name: string;
  /** The AMI new instances get; undefined when it cannot be known (see `amiNote`). */
  readonly amiId?: string;
  /** Why `amiId` is undefined: an SSM-parameter AMI, a deleted template, several AMIs. */
  readonly amiNote?: string;
  /** The SSM parameter of a `resolve:ssm:` AMI (AWS refuses AutoRollback for such groups). */
  readonly amiParameter?: string;
  /** The group's own template, or its mixed instances policy's. */
  readonly launchTemplate?: GroupLaunchTemplate;
  readonly launchConfigurationName?: string;
  /** True when the group launches through a mixed instances policy. */
  readonly mixedInstances: boolean;
  /** The group's tags (a null-prototype object: any key is safe). */
  readonly tags: Readonly<Record<string, string>>;
  readonly desiredCapacity: number;
  /** Every instance the group holds, whatever its lifecycle state; sorted. */
  readonly instanceIds: readonly string[];
}

export interface Ec2FleetSourceOptions {
  /**
   * DescribeInstances MaxResults (5-1000). Calls with InstanceIds cannot carry it and send none.
   * @default 1000
   */
  readonly pageSize?: number;
  /**
   * DescribeAutoScalingGroups and DescribeLaunchConfigurations MaxRecords (1-100).
   * @default 100
   */
  readonly groupPageSize?: number;
}

type TemplateLookup =
  | { readonly ok: true; readonly imageId: string | undefined; readonly versionNumber: number | undefined }
  | { readonly ok: false; readonly problem: string };

function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

function unique(items: readonly string[]): string[] {
  return [...new Set(items)];
}

function byString(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function describeTemplate(spec: LaunchTemplateSpecification): string {
  const ref = spec.LaunchTemplateName
    ? `${spec.LaunchTemplateName}${spec.LaunchTemplateId ? ` (${spec.LaunchTemplateId})` : ''}`
    : (spec.LaunchTemplateId ?? '(unnamed)');
  return `launch template ${ref} version ${spec.Version ?? '$Default'}`;
}

function checkRange(name: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`${name} must be an integer from ${min} to ${max}, got ${value}`);
  }
  return value;
}

/** Running instances and group AMIs from the EC2 and Auto Scaling APIs. */
/**
 * One version of a launch template (`$Latest`, `$Default` or a number), by template id or name;
 * undefined when AWS lists none. Errors, including a missing template, are the caller's to judge.
 */
export async function describeLaunchTemplateVersion(
  ec2: EC2Client,
  spec: LaunchTemplateSpecification,
  version: string,
): Promise<LaunchTemplateVersion | undefined> {
  const res = await ec2.send(
    new DescribeLaunchTemplateVersionsCommand({
      ...(spec.LaunchTemplateId
        ? { LaunchTemplateId: spec.LaunchTemplateId }
        : { LaunchTemplateName: spec.LaunchTemplateName }),
      Versions: [version],
    }),
  );
  return res.LaunchTemplateVersions?.[0];
}

export class Ec2FleetSource implements FleetSource {
  readonly description = 'EC2 and Auto Scaling APIs';
  /**
   * What the last `groups`/`groupAmis` call could not resolve, one line per group (`web: ...`):
   * groups left out of `groupAmis`, so no `ami-outdated` judgement was possible for them.
   */
  notes: string[] = [];
  private readonly pageSize: number;
  private readonly groupPageSize: number;

  constructor(
    private readonly ec2: EC2Client,
    private readonly autoScaling: AutoScalingClient,
    options: Ec2FleetSourceOptions = {},
  ) {
    this.pageSize = checkRange('pageSize', options.pageSize ?? 1000, 5, 1000);
    this.groupPageSize = checkRange('groupPageSize', options.groupPageSize ?? 100, 1, 100);
  }

  /**
   * Running instances with their AMI, launch time and Auto Scaling group, sorted by instance id. Every
   * criterion of the scope must hold; an empty list in the scope matches nothing. Instance ids that
   * do not exist (any more) are skipped.
   */
  async instances(scope: AuditScope = {}): Promise<FleetInstance[]> {
    const asgNames = scope.asgNames && unique(scope.asgNames);
    const instanceIds = scope.instanceIds && unique(scope.instanceIds);
    if (asgNames?.length === 0 || instanceIds?.length === 0) return [];
    const base: Filter[] = [{ Name: 'instance-state-name', Values: ['running'] }];
    if (scope.amiId !== undefined) base.push({ Name: 'image-id', Values: [scope.amiId] });
    const groupFilters: Filter[][] = asgNames
      ? chunk(asgNames, MAX_FILTER_VALUES).map((names) => [{ Name: `tag:${ASG_TAG}`, Values: names }])
      : [[]];
    const found = new Map<string, FleetInstance>();
    for (const groupFilter of groupFilters) {
      const filters = [...base, ...groupFilter];
      if (!instanceIds) {
        await this.collectInstances({ Filters: filters }, found);
        continue;
      }
      for (const ids of chunk(instanceIds, MAX_FILTER_VALUES)) {
        try {
          // InstanceIds cannot be combined with MaxResults: one unpaged call per chunk.
          await this.collectInstances({ InstanceIds: ids, Filters: filters }, found);
        } catch (error) {
          const code = awsErrorName(error instanceof Ec2FleetError ? error.cause : error);
          if (!code || !MISSING_INSTANCE_ERRORS.has(code)) throw error;
          // One id of the chunk is gone: an instance-id filter skips missing ids instead of failing.
          await this.collectInstances({ Filters: [...filters, { Name: 'instance-id', Values: ids }] }, found);
        }
      }
    }
    return [...found.values()].sort((a, b) => byString(a.instanceId, b.instanceId));
  }

  /** Group name -> the AMI of the launch template version (or launch configuration) it launches from. */
  async groupAmis(asgNames?: readonly string[]): Promise<ReadonlyMap<string, string>> {
    const out = new Map<string, string>();
    for (const group of await this.groups(asgNames))
      if (group.amiId !== undefined) out.set(group.name, group.amiId);
    return out;
  }

  /**
   * The Auto Scaling groups (all, or those named; names that do not exist are skipped), sorted by
   * name, each with the AMI its launch template version or launch configuration gives new instances.
   * Replaces `notes` with what could not be resolved.
   */
  async groups(asgNames?: readonly string[]): Promise<AutoScalingGroupInfo[]> {
    const names = asgNames && unique(asgNames);
    if (names?.length === 0) {
      this.notes = [];
      return [];
    }
    const raw = await this.describeGroups(names);
    const configNames = unique(
      raw.map((g) => g.LaunchConfigurationName).filter((n): n is string => n !== undefined && n !== ''),
    );
    const configAmis = await this.launchConfigurationAmis(configNames);
    const cache = new Map<string, Promise<TemplateLookup>>();
    const groups = await mapLimit(raw, TEMPLATE_LOOKUP_CONCURRENCY, (group) =>
      this.groupInfo(group, configAmis, cache),
    );
    groups.sort((a, b) => byString(a.name, b.name));
    this.notes = groups.filter((g) => g.amiNote !== undefined).map((g) => `${g.name}: ${g.amiNote}`);
    return groups;
  }

  private async collectInstances(input: DescribeInstancesCommandInput, into: Map<string, FleetInstance>) {
    const paged = input.InstanceIds === undefined;
    try {
      const pages = paginateDescribeInstances(
        paged ? { client: this.ec2, pageSize: this.pageSize } : { client: this.ec2 },
        input,
      );
      for await (const page of pages) {
        for (const reservation of page.Reservations ?? []) {
          for (const instance of reservation.Instances ?? []) {
            const id = instance.InstanceId;
            if (!id || into.has(id) || (instance.State?.Name && instance.State.Name !== 'running')) continue;
            const launchTime = instance.LaunchTime;
            into.set(id, {
              instanceId: id,
              amiId: instance.ImageId,
              asgName: instance.Tags?.find((t) => t.Key === ASG_TAG)?.Value ?? null,
              launchTime: launchTime instanceof Date ? launchTime.toISOString() : launchTime,
            });
          }
        }
      }
    } catch (error) {
      throw new Ec2FleetError('EC2.DescribeInstances', { cause: error });
    }
  }

  private async describeGroups(names: string[] | undefined): Promise<AutoScalingGroup[]> {
    const inputs = names ? chunk(names, MAX_GROUP_NAMES).map((c) => ({ AutoScalingGroupNames: c })) : [{}];
    const seen = new Map<string, AutoScalingGroup>();
    try {
      for (const input of inputs) {
        const pages = paginateDescribeAutoScalingGroups(
          { client: this.autoScaling, pageSize: this.groupPageSize },
          input,
        );
        for await (const page of pages) {
          for (const group of page.AutoScalingGroups ?? []) {
            if (group.AutoScalingGroupName && !seen.has(group.AutoScalingGroupName)) {
              seen.set(group.AutoScalingGroupName, group);
            }
          }
        }
      }
    } catch (error) {
      throw new Ec2FleetError('AutoScaling.DescribeAutoScalingGroups', { cause: error });
    }
    return [...seen.values()];
  }

  private async launchConfigurationAmis(names: string[]): Promise<Map<string, string | undefined>> {
    const out = new Map<string, string | undefined>();
    try {
      for (const c of chunk(names, MAX_LAUNCH_CONFIGURATION_NAMES)) {
        const pages = paginateDescribeLaunchConfigurations(
          { client: this.autoScaling, pageSize: this.groupPageSize },
          { LaunchConfigurationNames: c },
        );
        for await (const page of pages) {
          for (const config of page.LaunchConfigurations ?? []) {
            if (config.LaunchConfigurationName) out.set(config.LaunchConfigurationName, config.ImageId);
          }
        }
      }
    } catch (error) {
      throw new Ec2FleetError('AutoScaling.DescribeLaunchConfigurations', { cause: error });
    }
    return out;
  }

  /** One DescribeLaunchTemplateVersions per template and version, shared by the groups of one call. */
  private lookupTemplate(
    spec: LaunchTemplateSpecification,
    cache: Map<string, Promise<TemplateLookup>>,
  ): Promise<TemplateLookup> {
    const version = spec.Version ?? '$Default';
    const key = JSON.stringify([spec.LaunchTemplateId ?? '', spec.LaunchTemplateName ?? '', version]);
    let lookup = cache.get(key);
    if (!lookup) {
      lookup = this.describeTemplateVersion(spec, version);
      cache.set(key, lookup);
    }
    return lookup;
  }

  private async describeTemplateVersion(
    spec: LaunchTemplateSpecification,
    version: string,
  ): Promise<TemplateLookup> {
    try {
      const found = await describeLaunchTemplateVersion(this.ec2, spec, version);
      if (!found) return { ok: false, problem: `${describeTemplate(spec)} was not found` };
      return { ok: true, imageId: found.LaunchTemplateData?.ImageId, versionNumber: found.VersionNumber };
    } catch (error) {
      const code = awsErrorName(error);
      if (code && MISSING_TEMPLATE_ERROR.test(code)) {
        const reason = error instanceof Error ? error.message : String(error);
        return { ok: false, problem: `${describeTemplate(spec)} cannot be described (${code}: ${reason})` };
      }
      throw new Ec2FleetError('EC2.DescribeLaunchTemplateVersions', { cause: error });
    }
  }

  private async groupInfo(
    group: AutoScalingGroup,
    configAmis: ReadonlyMap<string, string | undefined>,
    cache: Map<string, Promise<TemplateLookup>>,
  ): Promise<AutoScalingGroupInfo> {
    const tags: Record<string, string> = Object.create(null);
    for (const tag of group.Tags ?? []) if (tag.Key !== undefined) tags[tag.Key] = tag.Value ?? '';
    const mixed = group.MixedInstancesPolicy?.LaunchTemplate;
    const spec = group.LaunchTemplate ?? mixed?.LaunchTemplateSpecification;
    const base = {
      name: group.AutoScalingGroupName ?? '',
      mixedInstances: group.MixedInstancesPolicy !== undefined,
      tags,
      desiredCapacity: group.DesiredCapacity ?? 0,
      instanceIds: (group.Instances ?? [])
        .map((i) => i.InstanceId)
        .filter((id): id is string => id !== undefined)
        .sort(byString),
    };

    if (spec) {
      const main = await this.lookupTemplate(spec, cache);
      const launchTemplate: GroupLaunchTemplate = {
        ...(spec.LaunchTemplateId ? { id: spec.LaunchTemplateId } : {}),
        ...(spec.LaunchTemplateName ? { name: spec.LaunchTemplateName } : {}),
        version: spec.Version ?? '$Default',
        ...(main.ok && main.versionNumber !== undefined ? { versionNumber: main.versionNumber } : {}),
      };
      const withTemplate = { ...base, launchTemplate };
      if (!main.ok) return { ...withTemplate, amiNote: `${main.problem}; its AMI is unknown` };
      if (!main.imageId) return { ...withTemplate, amiNote: `${describeTemplate(spec)} has no ImageId` };

      // A mixed instances policy may launch some instance types from other templates or AMIs.
      const amis = new Set([main.imageId]);
      for (const override of group.LaunchTemplate ? [] : (mixed?.Overrides ?? [])) {
        if (override.ImageId) amis.add(override.ImageId);
        if (!override.LaunchTemplateSpecification) continue;
        const other = await this.lookupTemplate(override.LaunchTemplateSpecification, cache);
        if (!other.ok) return { ...withTemplate, amiNote: `override ${other.problem}; its AMI is unknown` };
        if (other.imageId) amis.add(other.imageId);
      }
      const parameter = [...amis].find((ami) => ami.startsWith(SSM_AMI_PREFIX));
      if (parameter) {
        return {
          ...withTemplate,
          amiParameter: parameter.slice(SSM_AMI_PREFIX.length),
          amiNote: `${describeTemplate(spec)} takes its AMI from an SSM parameter (${parameter}), not resolved`,
        };
      }
      if (amis.size > 1) {
        return {
          ...withTemplate,
          amiNote: `launches several AMIs (${[...amis].sort(byString).join(', ')}) through its mixed instances policy`,
        };
      }
      return { ...withTemplate, amiId: main.imageId };
    }

    const configName = group.LaunchConfigurationName;
    if (configName) {
      const withConfig = { ...base, launchConfigurationName: configName };
      const imageId = configAmis.get(configName);
      if (!imageId) {
        return {
          ...withConfig,
          amiNote: configAmis.has(configName)
            ? `launch configuration ${configName} has no ImageId`
            : `launch configuration ${configName} was not found; its AMI is unknown`,
        };
      }
      if (imageId.startsWith(SSM_AMI_PREFIX)) {
        return {
          ...withConfig,
          amiParameter: imageId.slice(SSM_AMI_PREFIX.length),
          amiNote: `launch configuration ${configName} takes its AMI from an SSM parameter (${imageId}), not resolved`,
        };
      }
      return { ...withConfig, amiId: imageId };
    }
    return { ...base, amiNote: 'has no launch template or launch configuration' };
  }
}
