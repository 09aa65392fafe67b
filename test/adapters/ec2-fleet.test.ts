/**
 * Ec2FleetSource against moto (a realistic fleet: test/helpers/moto-fleet.ts), and against
 * aws-sdk-client-mock for what moto cannot produce (other errors, override AMIs, malformed ids).
 */
import { AutoScalingClient, DescribeAutoScalingGroupsCommand } from '@aws-sdk/client-auto-scaling';
import {
  DescribeInstancesCommand,
  type DescribeInstancesCommandInput,
  DescribeLaunchTemplateVersionsCommand,
  EC2Client,
  EC2ServiceException,
} from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  Ec2FleetError,
  Ec2FleetSource,
  type Ec2FleetSourceOptions,
} from '../../shared/adapters/ec2-fleet.ts';
import { auditInstance } from '../../shared/domain/diff.ts';
import { defaultPolicy } from '../../shared/domain/policy.ts';
import { describeWithMoto, useMoto } from '../helpers/moto.ts';
import {
  buildStandardFleet,
  type FleetClients,
  MotoFleet,
  motoFleetClients,
  STANDARD_SSM_AMI,
  type StandardFleet,
} from '../helpers/moto-fleet.ts';

interface SentCommand {
  readonly command: string;
  readonly input: Record<string, unknown>;
}

type Handler = (args: { input: unknown }) => Promise<unknown>;
interface Recordable {
  middlewareStack: {
    add(
      middleware: (next: Handler, context: { commandName?: string }) => Handler,
      options: { step: 'initialize'; name: string },
    ): void;
  };
}

/** Records every command a client sends (before retries), with its input as sent. */
function recordCommands<T extends EC2Client | AutoScalingClient>(client: T, into: SentCommand[]): T {
  (client as unknown as Recordable).middlewareStack.add(
    (next, context) => async (args) => {
      into.push({
        command: (context.commandName ?? '').replace(/Command$/, ''),
        input: structuredClone(args.input as Record<string, unknown>),
      });
      return next(args);
    },
    { step: 'initialize', name: 'recordCommands' },
  );
  return client;
}

function filterValues(input: Record<string, unknown>, name: string): string[] | undefined {
  const filters = (input.Filters ?? []) as { Name: string; Values: string[] }[];
  return filters.find((f) => f.Name === name)?.Values;
}

const fakeIds = (n: number, from = 0) =>
  Array.from({ length: n }, (_, i) => `i-0${(from + i).toString(16).padStart(16, '0')}`);

describeWithMoto('Ec2FleetSource on moto', () => {
  const moto = useMoto();
  let clients: FleetClients;
  let truth: StandardFleet;
  let sent: SentCommand[];

  /** A source on fresh clients that record what they send. */
  function source(options: Ec2FleetSourceOptions = {}): Ec2FleetSource {
    const fresh = motoFleetClients(moto);
    return new Ec2FleetSource(
      recordCommands(fresh.ec2, sent),
      recordCommands(fresh.autoScaling, sent),
      options,
    );
  }
  const calls = (command: string) => sent.filter((s) => s.command === command);

  beforeEach(async () => {
    clients = motoFleetClients(moto);
    truth = await buildStandardFleet(clients);
    sent = [];
  });

  describe('instances', () => {
    it('lists running instances only, with their AMI, group and ISO launch time, sorted by id', async () => {
      const instances = await source().instances();

      expect(instances.map(({ launchTime: _, ...i }) => i)).toEqual(truth.running);
      for (const i of instances) expect(new Date(i.launchTime as string).toISOString()).toBe(i.launchTime);
      expect(calls('DescribeInstances')[0]?.input.Filters).toEqual([
        { Name: 'instance-state-name', Values: ['running'] },
      ]);
    });

    it('scopes to Auto Scaling groups through their aws:autoscaling:groupName tag', async () => {
      const instances = await source().instances({ asgNames: ['web', 'api', 'no-such-group'] });

      const { webOutdated, webCurrent, api } = truth.instances;
      expect(instances.map((i) => i.instanceId)).toEqual([webOutdated, webCurrent, api].sort());
      expect(
        filterValues(calls('DescribeInstances')[0]?.input ?? {}, 'tag:aws:autoscaling:groupName'),
      ).toEqual(['web', 'api', 'no-such-group']);
    });

    it('scopes to one AMI', async () => {
      const instances = await source().instances({ amiId: truth.amis.old });

      const { webOutdated, api, standalone } = truth.instances;
      expect(instances.map((i) => i.instanceId)).toEqual([webOutdated, api, standalone].sort());
      expect(instances.every((i) => i.amiId === truth.amis.old)).toBe(true);
    });

    it('scopes to instance ids, skipping stopped, terminated and no longer existing ones', async () => {
      const { webOutdated, standalone, stopped, terminated } = truth.instances;
      const gone = 'i-0123456789abcdef0';

      const instances = await source().instances({
        instanceIds: [webOutdated, stopped, gone, terminated, standalone, webOutdated],
      });

      expect(instances.map((i) => i.instanceId)).toEqual([webOutdated, standalone].sort());
      const [byIds, byFilter] = calls('DescribeInstances');
      expect(byIds?.input.InstanceIds).toEqual([webOutdated, stopped, gone, terminated, standalone]);
      expect(byIds?.input.MaxResults).toBeUndefined();
      expect(filterValues(byFilter?.input ?? {}, 'instance-id')).toEqual(byIds?.input.InstanceIds);
    });

    it('applies every criterion of the scope together', async () => {
      const { webOutdated, webCurrent, api } = truth.instances;

      const instances = await source().instances({
        asgNames: ['web', 'api'],
        amiId: truth.amis.current,
        instanceIds: [webOutdated, webCurrent, api],
      });

      expect(instances.map((i) => i.instanceId)).toEqual([webCurrent]);
    });

    it('sends at most 200 instance ids and 200 group names per call', async () => {
      const { webCurrent, api } = truth.instances;
      const instanceIds = [...fakeIds(430), webCurrent, api];
      const asgNames = [...Array.from({ length: 250 }, (_, i) => `g-${i}`), 'web'];

      const instances = await source().instances({ asgNames, instanceIds });

      expect(instances.map((i) => i.instanceId)).toEqual([webCurrent]);
      const described = calls('DescribeInstances');
      // 2 group chunks x 3 id chunks, each id chunk failing on an unknown id and retried as a filter.
      expect(described).toHaveLength(12);
      for (const { input } of described) {
        expect((input.InstanceIds as string[] | undefined)?.length ?? 0).toBeLessThanOrEqual(200);
        for (const f of input.Filters as { Values: string[] }[])
          expect(f.Values.length).toBeLessThanOrEqual(200);
      }
    });

    it('follows DescribeInstances pages of pageSize', async () => {
      const fleet = new MotoFleet(clients);
      const more: string[] = [];
      for (let i = 0; i < 7; i++) more.push(...(await fleet.runInstances({ imageId: truth.amis.current })));

      const instances = await source({ pageSize: 5 }).instances();

      expect(instances.map((i) => i.instanceId)).toEqual(
        [...truth.running.map((i) => i.instanceId), ...more].sort(),
      );
      const described = calls('DescribeInstances');
      expect(described.length).toBeGreaterThanOrEqual(3);
      expect(described.every((c) => c.input.MaxResults === 5)).toBe(true);
    });
  });

  describe('groupAmis and groups', () => {
    it('resolves $Latest, $Default, a missing version and a version number to that version AMI', async () => {
      const amis = await source().groupAmis();

      expect(amis).toEqual(truth.groupAmis);
      expect(amis.get('web')).toBe(truth.amis.current);
      expect(amis.get('api')).toBe(truth.amis.old);
    });

    it('leaves out a group on an SSM-parameter AMI, with a note', async () => {
      const fleet = source();

      const amis = await fleet.groupAmis();

      expect(amis.has('ssm')).toBe(false);
      expect(fleet.notes).toEqual([expect.stringMatching(/^ssm: .*SSM parameter.*resolve:ssm:/)]);
    });

    it('gives the ami-outdated input: a web instance on an older AMI than its group template', async () => {
      const fleet = source();
      const instances = await fleet.instances({ asgNames: ['web'] });
      const amis = await fleet.groupAmis(['web']);

      const outdated = instances.find((i) => i.instanceId === truth.instances.webOutdated);
      const current = instances.find((i) => i.instanceId === truth.instances.webCurrent);
      expect(outdated?.amiId).toBe(truth.amis.old);
      expect(current?.amiId).toBe(truth.amis.current);
      expect(amis.get('web')).toBe(truth.amis.current);
      const audit = (instance: (typeof instances)[number]) =>
        auditInstance(
          {
            instance,
            snapshot: undefined,
            manifest: { status: 'missing', detail: 'none' },
            groupAmiId: amis.get('web'),
          },
          { policy: defaultPolicy(), now: new Date('2026-11-27T12:00:00Z') },
        ).findings.map((f) => [f.kind, f.expected, f.actual]);
      expect(audit(outdated as (typeof instances)[number])).toEqual([
        ['ami-outdated', truth.amis.current, truth.amis.old],
      ]);
      expect(audit(current as (typeof instances)[number])).toEqual([]);
    });

    it('describes each template version once per call, however many groups share it', async () => {
      await new MotoFleet(clients).autoScalingGroup({
        name: 'web-canary',
        launch: { template: truth.templates.app, version: '$Latest' },
        desiredCapacity: 0,
      });

      const amis = await source().groupAmis();

      expect(amis.get('web-canary')).toBe(truth.amis.current);
      const versions = calls('DescribeLaunchTemplateVersions').map((c) => [
        c.input.LaunchTemplateId,
        c.input.Versions,
      ]);
      // app: $Latest, 1, $Default (named by worker and, implicitly, by jobs); app-ssm: $Default.
      expect(versions).toHaveLength(4);
      expect(new Set(versions.map((v) => JSON.stringify(v))).size).toBe(4);
    });

    it('leaves out a group whose launch template was deleted, with a note', async () => {
      const fleet = new MotoFleet(clients);
      const gone = await fleet.launchTemplate('retired', truth.amis.old);
      await fleet.autoScalingGroup({
        name: 'legacy',
        launch: { template: gone, version: '1' },
        desiredCapacity: 0,
      });
      await fleet.deleteLaunchTemplate(gone);
      const source1 = source();

      const amis = await source1.groupAmis(['legacy', 'web']);

      expect([...amis.keys()]).toEqual(['web']);
      expect(source1.notes).toEqual([
        expect.stringMatching(
          /^legacy: launch template retired .*version 1 cannot be described \(InvalidLaunchTemplate/,
        ),
      ]);
    });

    it('reads the AMI of a launch configuration and of a mixed instances policy', async () => {
      const fleet = new MotoFleet(clients);
      await fleet.launchConfiguration('classic', truth.amis.old);
      await fleet.autoScalingGroup({ name: 'classic', launch: { launchConfiguration: 'classic' } });
      await fleet.autoScalingGroup({
        name: 'spot',
        launch: { template: truth.templates.app, version: '1', mixedInstances: true },
      });

      const groups = await source().groups(['classic', 'spot']);

      expect(groups.map((g) => [g.name, g.amiId, g.launchConfigurationName, g.mixedInstances])).toEqual([
        ['classic', truth.amis.old, 'classic', false],
        ['spot', truth.amis.old, undefined, true],
      ]);
    });

    it('describes groups for the act step: template version, tags, capacity and instances', async () => {
      const groups = await source().groups();

      const byName = new Map(groups.map((g) => [g.name, g]));
      expect(groups.map((g) => g.name)).toEqual(['api', 'jobs', 'ssm', 'web', 'worker']);
      const web = byName.get('web');
      expect(web).toMatchObject({
        amiId: truth.amis.current,
        launchTemplate: { id: truth.templates.app.id, name: 'app', version: '$Latest', versionNumber: 2 },
        desiredCapacity: 2,
        instanceIds: [truth.instances.webOutdated, truth.instances.webCurrent].sort(),
      });
      expect({ ...web?.tags }).toEqual({ team: 'storefront', 'driftwatch:remediate': 'true' });
      expect(Object.getPrototypeOf(web?.tags)).toBeNull();
      expect(byName.get('jobs')?.launchTemplate).toMatchObject({ version: '$Default', versionNumber: 2 });
      expect(byName.get('api')?.launchTemplate).toMatchObject({ version: '1', versionNumber: 1 });
      expect(byName.get('ssm')).toMatchObject({
        amiParameter: STANDARD_SSM_AMI.slice('resolve:ssm:'.length),
        desiredCapacity: 0,
        instanceIds: [],
      });
      expect(byName.get('ssm')?.amiId).toBeUndefined();
    });

    it('pages through groups and sends at most 50 group names per call', async () => {
      const names = [...Array.from({ length: 120 }, (_, i) => `g-${i}`), 'web', 'api'];

      const all = await source({ groupPageSize: 2 }).groupAmis();
      const described = calls('DescribeAutoScalingGroups');
      expect(all.size).toBe(4);
      expect(described.length).toBeGreaterThanOrEqual(3);
      expect(described.every((c) => c.input.MaxRecords === 2)).toBe(true);

      sent.length = 0;
      const some = await source().groupAmis(names);
      expect([...some.keys()]).toEqual(['api', 'web']);
      expect(
        calls('DescribeAutoScalingGroups').map((c) => (c.input.AutoScalingGroupNames as string[]).length),
      ).toEqual([50, 50, 22]);
    });

    it('keeps the notes of the last call only, and answers no names with nothing', async () => {
      const fleet = source();
      await fleet.groupAmis();
      expect(fleet.notes).toHaveLength(1);

      await fleet.groupAmis(['web']);
      expect(fleet.notes).toEqual([]);
      expect((await fleet.groupAmis([])).size).toBe(0);
    });
  });
});

describe('Ec2FleetSource with mocked clients', () => {
  const ec2 = new EC2Client({ region: 'eu-west-1' });
  const autoScaling = new AutoScalingClient({ region: 'eu-west-1' });
  const ec2Mock = mockClient(ec2);
  const asMock = mockClient(autoScaling);
  const awsError = (name: string, message = name) =>
    new EC2ServiceException({ name, message, $fault: 'client', $metadata: { httpStatusCode: 400 } });

  afterEach(() => {
    ec2Mock.reset();
    asMock.reset();
  });

  it('answers an empty list of groups or ids with no instances and no call', async () => {
    const fleet = new Ec2FleetSource(ec2, autoScaling);

    expect(await fleet.instances({ asgNames: [] })).toEqual([]);
    expect(await fleet.instances({ instanceIds: [] })).toEqual([]);
    expect(await fleet.groups([])).toEqual([]);
    expect(ec2Mock.calls()).toEqual([]);
    expect(asMock.calls()).toEqual([]);
  });

  it('refuses page sizes the APIs would refuse', () => {
    expect(() => new Ec2FleetSource(ec2, autoScaling, { pageSize: 4 })).toThrow(RangeError);
    expect(() => new Ec2FleetSource(ec2, autoScaling, { groupPageSize: 101 })).toThrow(RangeError);
  });

  it('retries a chunk with a malformed instance id as an instance-id filter', async () => {
    ec2Mock.on(DescribeInstancesCommand).callsFake((input: DescribeInstancesCommandInput) => {
      if (input.InstanceIds) throw awsError('InvalidInstanceID.Malformed', 'Invalid id: "bogus"');
      return {
        Reservations: [
          {
            Instances: [
              {
                InstanceId: 'i-0aaaaaaaaaaaaaaa1',
                ImageId: 'ami-0abcdef1234567890',
                LaunchTime: new Date('2026-11-20T08:00:00Z'),
                State: { Name: 'running' },
              },
            ],
          },
        ],
      };
    });

    const instances = await new Ec2FleetSource(ec2, autoScaling).instances({
      instanceIds: ['bogus', 'i-0aaaaaaaaaaaaaaa1'],
    });

    expect(instances).toEqual([
      {
        instanceId: 'i-0aaaaaaaaaaaaaaa1',
        amiId: 'ami-0abcdef1234567890',
        asgName: null,
        launchTime: '2026-11-20T08:00:00.000Z',
      },
    ]);
    const retry = ec2Mock.commandCalls(DescribeInstancesCommand)[1]?.args[0].input;
    expect(retry?.Filters?.at(-1)).toEqual({ Name: 'instance-id', Values: ['bogus', 'i-0aaaaaaaaaaaaaaa1'] });
  });

  it('throws Ec2FleetError, with the AWS error as cause, when EC2 refuses for another reason', async () => {
    const denied = awsError('UnauthorizedOperation', 'You are not authorized to perform this operation.');
    ec2Mock.on(DescribeInstancesCommand).rejects(denied);

    const error = await new Ec2FleetSource(ec2, autoScaling)
      .instances({ instanceIds: ['i-0aaaaaaaaaaaaaaa1'] })
      .then(
        () => undefined,
        (e: unknown) => e,
      );

    expect(error).toBeInstanceOf(Ec2FleetError);
    expect((error as Ec2FleetError).cause).toBe(denied);
    expect((error as Ec2FleetError).message).toBe(
      'EC2.DescribeInstances failed: UnauthorizedOperation: You are not authorized to perform this operation.',
    );
  });

  it('throws Ec2FleetError when a launch template cannot be read for another reason than its absence', async () => {
    asMock.on(DescribeAutoScalingGroupsCommand).resolves({
      AutoScalingGroups: [
        {
          AutoScalingGroupName: 'web',
          LaunchTemplate: { LaunchTemplateId: 'lt-0123456789abcdef0', Version: '$Latest' },
        } as never,
      ],
    });
    ec2Mock.on(DescribeLaunchTemplateVersionsCommand).rejects(awsError('RequestLimitExceeded'));

    await expect(new Ec2FleetSource(ec2, autoScaling).groupAmis()).rejects.toThrow(
      /^EC2\.DescribeLaunchTemplateVersions failed: RequestLimitExceeded/,
    );
  });

  it('leaves out a mixed instances group whose overrides launch another AMI, with a note', async () => {
    asMock.on(DescribeAutoScalingGroupsCommand).resolves({
      AutoScalingGroups: [
        {
          AutoScalingGroupName: 'spot',
          MixedInstancesPolicy: {
            LaunchTemplate: {
              LaunchTemplateSpecification: { LaunchTemplateName: 'app', Version: '3' },
              Overrides: [
                { InstanceType: 'm7g.large', ImageId: 'ami-0arm000000000000' },
                { InstanceType: 'm7i.large' },
              ],
            },
          },
        } as never,
      ],
    });
    ec2Mock.on(DescribeLaunchTemplateVersionsCommand).resolves({
      LaunchTemplateVersions: [{ VersionNumber: 3, LaunchTemplateData: { ImageId: 'ami-0x86000000000000' } }],
    });
    const fleet = new Ec2FleetSource(ec2, autoScaling);

    const amis = await fleet.groupAmis();

    expect(amis.size).toBe(0);
    expect(fleet.notes).toEqual([
      'spot: launches several AMIs (ami-0arm000000000000, ami-0x86000000000000) through its mixed instances policy',
    ]);
    expect(ec2Mock.commandCalls(DescribeLaunchTemplateVersionsCommand)[0]?.args[0].input).toEqual({
      LaunchTemplateName: 'app',
      Versions: ['3'],
    });
  });
});
