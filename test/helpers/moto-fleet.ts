/**
 * Builds an EC2 fleet in moto: AMIs, launch templates with versions, Auto Scaling groups and
 * instances, for the fleet adapter's tests and for end-to-end tests of the audit.
 *
 * Two levels:
 * - {@link MotoFleet}: one method per building block (`registerAmi`, `launchTemplate`,
 *   `templateVersion`, `autoScalingGroup`, `scaleTo`, `runInstances`, ...), each returning the ids
 *   it created;
 * - {@link buildStandardFleet}: a realistic fleet with every case the audit cares about (an
 *   instance on an older AMI than its group's template, groups on `$Latest`, `$Default` and a
 *   numbered version, an SSM-parameter AMI, stopped, terminated and ungrouped instances), returned
 *   with the ground truth a FleetSource must report.
 *
 * What moto 5.2.1 does (and real AWS does differently) — see the notes on each method:
 * - an Auto Scaling group launches its instances at once (CreateAutoScalingGroup, SetDesiredCapacity)
 *   from the template version it names *at that moment* (`$Latest`/`$Default` resolved then), and
 *   tags them `aws:autoscaling:groupName` itself: use this to put group members on an older AMI
 *   (create the group, then add a template version);
 * - the version an instance reports (`aws:ec2launchtemplate:version` tag, the group's
 *   `Instances[].LaunchTemplate.Version`) is wrong: moto writes the template's default version there;
 * - moto accepts `aws:`-prefixed tags in RunInstances TagSpecifications and CreateTags (AWS refuses
 *   them); `runInstances({ asgName })` uses that to fake a group member the group does not list;
 * - a `resolve:ssm:` ImageId is accepted in a launch template, and a group on it launches instances
 *   whose ImageId is the literal `resolve:ssm:...` string: keep such groups at capacity 0;
 * - DeleteLaunchTemplate leaves groups pointing at the deleted template;
 * - DescribeInstances pages count reservations (one per RunInstances call or group launch), not
 *   instances, and moto enforces no limit on filter values or group names per call;
 * - instance refresh does not work.
 */
import {
  AttachInstancesCommand,
  AutoScalingClient,
  CreateAutoScalingGroupCommand,
  type CreateAutoScalingGroupCommandInput,
  CreateLaunchConfigurationCommand,
  DescribeAutoScalingGroupsCommand,
  SetDesiredCapacityCommand,
} from '@aws-sdk/client-auto-scaling';
import {
  CreateImageCommand,
  CreateLaunchTemplateCommand,
  CreateLaunchTemplateVersionCommand,
  DeleteLaunchTemplateCommand,
  EC2Client,
  ModifyLaunchTemplateCommand,
  RegisterImageCommand,
  RunInstancesCommand,
  StopInstancesCommand,
  TerminateInstancesCommand,
} from '@aws-sdk/client-ec2';
import type { FleetInstance } from '../../shared/domain/diff.ts';
import { MOTO_REGION } from './moto.ts';

/** The two clients a fleet needs (and that `Ec2FleetSource` takes). */
export interface FleetClients {
  readonly ec2: EC2Client;
  readonly autoScaling: AutoScalingClient;
}

/** EC2 and Auto Scaling clients for a running moto (`useMoto()`'s handle, once its beforeAll ran). */
export function motoFleetClients(moto: { readonly endpoint: string }): FleetClients {
  const config = {
    region: MOTO_REGION,
    endpoint: moto.endpoint,
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
    maxAttempts: 1,
  };
  return { ec2: new EC2Client(config), autoScaling: new AutoScalingClient(config) };
}

/** A launch template, by both its id and its name. */
export interface TemplateRef {
  readonly id: string;
  readonly name: string;
}

/** How a group launches: from a template version, or from a launch configuration. */
export type GroupLaunchSpec =
  | {
      readonly template: TemplateRef;
      /** `$Latest`, `$Default` or a number; omitted: the group names no version (AWS uses `$Default`). */
      readonly version?: string;
      /** Through a MixedInstancesPolicy instead of the group's LaunchTemplate. @default false */
      readonly mixedInstances?: boolean;
    }
  | { readonly launchConfiguration: string };

export interface GroupOptions {
  readonly name: string;
  readonly launch: GroupLaunchSpec;
  /** Instances moto launches right away. @default 1 */
  readonly desiredCapacity?: number;
  /** Group tags (propagated to its instances). @default {} */
  readonly tags?: Readonly<Record<string, string>>;
}

export interface RunOptions {
  readonly imageId: string;
  /** Instances in this one reservation. @default 1 */
  readonly count?: number;
  /**
   * Tags the instances `aws:autoscaling:groupName` = this (moto accepts the reserved `aws:` prefix;
   * AWS does not). The group does not list them: use {@link MotoFleet.attach} for that.
   */
  readonly asgName?: string;
  /** More instance tags. @default {} */
  readonly tags?: Readonly<Record<string, string>>;
  /** Stopped and terminated instances stay visible to DescribeInstances. @default 'running' */
  readonly state?: 'running' | 'stopped' | 'terminated';
}

/** Building blocks of a fleet in moto. Every method returns the ids it created. */
export class MotoFleet {
  readonly ec2: EC2Client;
  readonly autoScaling: AutoScalingClient;

  constructor(clients: FleetClients) {
    this.ec2 = clients.ec2;
    this.autoScaling = clients.autoScaling;
  }

  /** An AMI with nothing behind it (RegisterImage); fast. Returns its id. */
  async registerAmi(name: string): Promise<string> {
    const res = await this.ec2.send(new RegisterImageCommand({ Name: name }));
    return res.ImageId as string;
  }

  /** An AMI made from an instance (CreateImage), as a golden-image pipeline would. Returns its id. */
  async imageFromInstance(instanceId: string, name: string): Promise<string> {
    const res = await this.ec2.send(new CreateImageCommand({ InstanceId: instanceId, Name: name }));
    return res.ImageId as string;
  }

  /** A launch template whose version 1 (default and latest) launches `imageId` (an AMI or `resolve:ssm:...`). */
  async launchTemplate(name: string, imageId: string): Promise<TemplateRef> {
    const res = await this.ec2.send(
      new CreateLaunchTemplateCommand({
        LaunchTemplateName: name,
        LaunchTemplateData: { ImageId: imageId, InstanceType: 't3.micro' },
      }),
    );
    return { id: res.LaunchTemplate?.LaunchTemplateId as string, name };
  }

  /** A new version of the template on `imageId`; it becomes `$Latest`, not `$Default`. Returns its number. */
  async templateVersion(template: TemplateRef, imageId: string): Promise<number> {
    const res = await this.ec2.send(
      new CreateLaunchTemplateVersionCommand({
        LaunchTemplateId: template.id,
        LaunchTemplateData: { ImageId: imageId, InstanceType: 't3.micro' },
      }),
    );
    return res.LaunchTemplateVersion?.VersionNumber as number;
  }

  /** Makes `version` the template's `$Default` (ModifyLaunchTemplate). */
  async setDefaultVersion(template: TemplateRef, version: number): Promise<void> {
    await this.ec2.send(
      new ModifyLaunchTemplateCommand({ LaunchTemplateId: template.id, DefaultVersion: String(version) }),
    );
  }

  /** Deletes the template; groups using it keep pointing at it (as in AWS). */
  async deleteLaunchTemplate(template: TemplateRef): Promise<void> {
    await this.ec2.send(new DeleteLaunchTemplateCommand({ LaunchTemplateId: template.id }));
  }

  /** A launch configuration on `imageId` (the legacy way for a group to name its AMI). */
  async launchConfiguration(name: string, imageId: string): Promise<void> {
    await this.autoScaling.send(
      new CreateLaunchConfigurationCommand({
        LaunchConfigurationName: name,
        ImageId: imageId,
        InstanceType: 't3.micro',
      }),
    );
  }

  /**
   * An Auto Scaling group in one availability zone. moto launches `desiredCapacity` instances at once,
   * from the template version the group names as it is now, tagged with the group's name.
   * Returns the ids of the group's instances, sorted.
   */
  async autoScalingGroup(options: GroupOptions): Promise<string[]> {
    const desired = options.desiredCapacity ?? 1;
    const launch = options.launch;
    let how: Partial<CreateAutoScalingGroupCommandInput>;
    if ('launchConfiguration' in launch) {
      how = { LaunchConfigurationName: launch.launchConfiguration };
    } else {
      const spec = {
        LaunchTemplateId: launch.template.id,
        ...(launch.version !== undefined ? { Version: launch.version } : {}),
      };
      how = launch.mixedInstances
        ? {
            MixedInstancesPolicy: {
              LaunchTemplate: {
                LaunchTemplateSpecification: spec,
                Overrides: [{ InstanceType: 't3.micro' }, { InstanceType: 't3a.micro' }],
              },
            },
          }
        : { LaunchTemplate: spec };
    }
    await this.autoScaling.send(
      new CreateAutoScalingGroupCommand({
        AutoScalingGroupName: options.name,
        MinSize: 0,
        MaxSize: Math.max(10, desired),
        DesiredCapacity: desired,
        AvailabilityZones: [`${MOTO_REGION}a`],
        Tags: Object.entries(options.tags ?? {}).map(([Key, Value]) => ({
          Key,
          Value,
          PropagateAtLaunch: true,
        })),
        ...how,
      }),
    );
    return this.groupInstanceIds(options.name);
  }

  /**
   * Sets the group's desired capacity; moto launches (from the template version the group names now)
   * or terminates at once. Returns the ids of the instances it launched, sorted.
   */
  async scaleTo(groupName: string, desiredCapacity: number): Promise<string[]> {
    const before = new Set(await this.groupInstanceIds(groupName));
    await this.autoScaling.send(
      new SetDesiredCapacityCommand({ AutoScalingGroupName: groupName, DesiredCapacity: desiredCapacity }),
    );
    return (await this.groupInstanceIds(groupName)).filter((id) => !before.has(id));
  }

  /** Attaches running instances to a group (AttachInstances; moto raises its desired capacity). */
  async attach(groupName: string, instanceIds: readonly string[]): Promise<void> {
    await this.autoScaling.send(
      new AttachInstancesCommand({ AutoScalingGroupName: groupName, InstanceIds: [...instanceIds] }),
    );
  }

  /** The ids of the instances the group lists, sorted. */
  async groupInstanceIds(groupName: string): Promise<string[]> {
    const res = await this.autoScaling.send(
      new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [groupName] }),
    );
    const group = res.AutoScalingGroups?.[0];
    return (group?.Instances ?? []).map((i) => i.InstanceId as string).sort();
  }

  /** Instances in one reservation (one RunInstances call), optionally stopped or terminated. Returns their ids. */
  async runInstances(options: RunOptions): Promise<string[]> {
    const tags = {
      ...(options.asgName !== undefined ? { 'aws:autoscaling:groupName': options.asgName } : {}),
      ...options.tags,
    };
    const entries = Object.entries(tags);
    const res = await this.ec2.send(
      new RunInstancesCommand({
        ImageId: options.imageId,
        InstanceType: 't3.micro',
        MinCount: options.count ?? 1,
        MaxCount: options.count ?? 1,
        ...(entries.length > 0
          ? {
              TagSpecifications: [
                { ResourceType: 'instance', Tags: entries.map(([Key, Value]) => ({ Key, Value })) },
              ],
            }
          : {}),
      }),
    );
    const ids = (res.Instances ?? []).map((i) => i.InstanceId as string).sort();
    if (options.state === 'stopped') await this.ec2.send(new StopInstancesCommand({ InstanceIds: ids }));
    if (options.state === 'terminated')
      await this.ec2.send(new TerminateInstancesCommand({ InstanceIds: ids }));
    return ids;
  }
}

/** The ground truth of {@link buildStandardFleet}. */
export interface StandardFleet {
  readonly fleet: MotoFleet;
  /** `old` (golden-a, template version 1) and `current` (golden-b, version 2: `$Latest` and `$Default`). */
  readonly amis: { readonly old: string; readonly current: string };
  readonly templates: {
    /** Version 1 on `amis.old`, version 2 on `amis.current`; default version 2. */
    readonly app: TemplateRef;
    /** Version 1 on an SSM-parameter AMI (`resolve:ssm:...`). */
    readonly ssm: TemplateRef;
  };
  readonly instances: {
    /** In `web`, launched while `$Latest` was version 1: on `amis.old`, its group says `amis.current`. */
    readonly webOutdated: string;
    /** In `web`, launched after version 2: on `amis.current`. */
    readonly webCurrent: string;
    /** In `api` (version `1`): on `amis.old`, as its group says. */
    readonly api: string;
    /** In `worker` (`$Default`): on `amis.current`. */
    readonly worker: string;
    /** In `jobs` (no version named, so `$Default`): on `amis.current`. */
    readonly jobs: string;
    /** No group, on `amis.old`. */
    readonly standalone: string;
    /** Tagged `web`, on `amis.old`, stopped. */
    readonly stopped: string;
    /** Tagged `web`, on `amis.old`, terminated. */
    readonly terminated: string;
  };
  /** Group name -> the version each group names (`jobs` names none). */
  readonly groupVersions: Readonly<Record<string, string | undefined>>;
  /** What `groupAmis()` must answer: every group but `ssm` (an SSM-parameter AMI cannot be judged). */
  readonly groupAmis: ReadonlyMap<string, string>;
  /** What `instances()` must answer (without launch times): the running instances, sorted by id. */
  readonly running: readonly FleetInstance[];
}

/** The SSM parameter the `ssm` template's AMI comes from. */
export const STANDARD_SSM_AMI =
  'resolve:ssm:/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64';

/**
 * A realistic fleet (about 15 calls, well under a second on moto):
 * - AMIs `old` and `current`; template `app`: v1 on `old`, v2 on `current`, default v2;
 * - group `web` on `$Latest` with one instance on `old` (launched before v2 existed) and one on
 *   `current`: the `ami-outdated` case; group `api` on version `1` (`old`), `worker` on `$Default`,
 *   `jobs` naming no version (both `current`), `ssm` on an SSM-parameter AMI with no instances;
 * - a running instance in no group, a stopped and a terminated one tagged `web`.
 */
export async function buildStandardFleet(clients: FleetClients): Promise<StandardFleet> {
  const fleet = new MotoFleet(clients);
  const old = await fleet.registerAmi('golden-a');
  const current = await fleet.registerAmi('golden-b');
  const app = await fleet.launchTemplate('app', old);
  const ssm = await fleet.launchTemplate('app-ssm', STANDARD_SSM_AMI);

  const [webOutdated] = await fleet.autoScalingGroup({
    name: 'web',
    launch: { template: app, version: '$Latest' },
    tags: { team: 'storefront', 'driftwatch:remediate': 'true' },
  });
  const [api] = await fleet.autoScalingGroup({ name: 'api', launch: { template: app, version: '1' } });
  await fleet.templateVersion(app, current);
  await fleet.setDefaultVersion(app, 2);
  const [webCurrent] = await fleet.scaleTo('web', 2);
  const [worker] = await fleet.autoScalingGroup({
    name: 'worker',
    launch: { template: app, version: '$Default' },
  });
  const [jobs] = await fleet.autoScalingGroup({ name: 'jobs', launch: { template: app } });
  await fleet.autoScalingGroup({
    name: 'ssm',
    launch: { template: ssm, version: '$Default' },
    desiredCapacity: 0,
  });
  const [standalone] = await fleet.runInstances({ imageId: old, tags: { Name: 'bastion' } });
  const [stopped] = await fleet.runInstances({ imageId: old, asgName: 'web', state: 'stopped' });
  const [terminated] = await fleet.runInstances({ imageId: old, asgName: 'web', state: 'terminated' });

  const instances = {
    webOutdated: webOutdated as string,
    webCurrent: webCurrent as string,
    api: api as string,
    worker: worker as string,
    jobs: jobs as string,
    standalone: standalone as string,
    stopped: stopped as string,
    terminated: terminated as string,
  };
  const running: FleetInstance[] = [
    { instanceId: instances.webOutdated, amiId: old, asgName: 'web' },
    { instanceId: instances.webCurrent, amiId: current, asgName: 'web' },
    { instanceId: instances.api, amiId: old, asgName: 'api' },
    { instanceId: instances.worker, amiId: current, asgName: 'worker' },
    { instanceId: instances.jobs, amiId: current, asgName: 'jobs' },
    { instanceId: instances.standalone, amiId: old, asgName: null },
  ];
  running.sort((a, b) => (a.instanceId < b.instanceId ? -1 : 1));
  return {
    fleet,
    amis: { old, current },
    templates: { app, ssm },
    instances,
    groupVersions: { web: '$Latest', api: '1', worker: '$Default', jobs: undefined, ssm: '$Default' },
    groupAmis: new Map([
      ['api', old],
      ['jobs', current],
      ['web', current],
      ['worker', current],
    ]),
    running,
  };
}
