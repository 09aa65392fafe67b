/**
 * SsmInventorySource against a mocked SSM API (aws-sdk-client-mock on a real SSMClient; moto has no
 * SSM inventory). Responses are the documented shapes in test/fixtures/ssm, or generated in that shape
 * by FakeSsm, a small in-memory SSM account that pages, filters and refuses like the real API.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import {
  AccessDeniedException,
  DescribeInstanceInformationCommand,
  type DescribeInstanceInformationCommandInput,
  type DescribeInstanceInformationCommandOutput,
  GetInventoryCommand,
  type GetInventoryCommandInput,
  type GetInventoryCommandOutput,
  GetInventorySchemaCommand,
  type GetInventorySchemaCommandOutput,
  InternalServerError,
  InvalidInstanceId,
  InvalidResultAttributeException,
  InvalidTypeNameException,
  type InventoryResultItem,
  ListInventoryEntriesCommand,
  type ListInventoryEntriesCommandInput,
  type ListInventoryEntriesCommandOutput,
  SSMClient,
  ThrottlingException,
} from '@aws-sdk/client-ssm';
import { type AwsClientStub, mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  InventorySourceError,
  pingNote,
  SSM_LIMITS,
  SsmInventorySource,
} from '../../shared/adapters/ssm-inventory.ts';
import { type InstanceSnapshot, InventoryTypes, packageKey } from '../../shared/domain/inventory.ts';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'ssm');
const AL2023 = 'i-0a1b2c3d4e5f60718';
const OTHER = 'i-0b2c3d4e5f6071829';
const TERMINATED = 'i-0e5f60718293a4b52';
const CAPTURE_TIME = '2026-11-27T10:42:17Z';

type Entry = Record<string, string>;

function fixture<T>(name: string): T {
  return JSON.parse(readFileSync(join(FIXTURES, name), 'utf8')) as T;
}

function newClient(options: Partial<ConstructorParameters<typeof SSMClient>[0]> = {}): SSMClient {
  return new SSMClient({
    region: 'eu-west-1',
    credentials: { accessKeyId: 'x', secretAccessKey: 'y' },
    maxAttempts: 2,
    ...options,
  });
}

async function collect(source: SsmInventorySource, ...args: Parameters<SsmInventorySource['snapshots']>) {
  const out: InstanceSnapshot[] = [];
  for await (const snapshot of source.snapshots(...args)) out.push(snapshot);
  return out;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function throttling(): ThrottlingException {
  return new ThrottlingException({
    message: 'Rate exceeded',
    Message: 'Rate exceeded',
    $metadata: { httpStatusCode: 400 },
  });
}

/** `count` rpm entries in the agent's shape, modelled on the fixture's first entry. */
function rpmEntries(count: number, prefix = 'pkg'): Entry[] {
  const [template] = fixture<ListInventoryEntriesCommandOutput>(
    'list-inventory-entries-application-page-1.json',
  ).Entries as Entry[];
  return Array.from({ length: count }, (_, i) => {
    const name = `${prefix}-${String(i).padStart(4, '0')}`;
    return { ...template, Name: name, PackageId: `${name}-1.0.${i}-1.amzn2023.src.rpm`, Version: `1.0.${i}` };
  });
}

// ---------------------------------------------------------------------------------------------
// FakeSsm: an in-memory account answering the four inventory calls as the API does

interface FakeType {
  readonly captureTime?: string;
  readonly entries: readonly Entry[];
}

interface FakeInstance {
  readonly id: string;
  readonly information: InventoryResultItem;
  /** Changes while a test runs, to model a new inventory landing. */
  types: Map<string, FakeType>;
  readonly ping?: { PingStatus: 'Online' | 'ConnectionLost' | 'Inactive'; LastPingDateTime: Date };
}

interface AddOptions {
  readonly platformType?: string;
  readonly terminated?: boolean;
  readonly ping?: FakeInstance['ping'];
}

const ALL_TYPES = [
  'AWS:Application',
  'AWS:InstanceInformation',
  'AWS:Service',
  'Custom:DriftwatchFiles',
  'Custom:DriftwatchServices',
  'Custom:DriftwatchKernel',
];

class FakeSsm {
  readonly instances: FakeInstance[] = [];
  private readonly byId = new Map<string, FakeInstance>();
  /** The account's inventory type names (GetInventorySchema). */
  schema: string[] = ['AWS:Application', 'AWS:InstanceInformation', 'AWS:Service'];
  /** Runs before each ListInventoryEntries answer: delays, counts, throws. */
  beforeEntries: (input: ListInventoryEntriesCommandInput) => Promise<void> | void = () => undefined;

  add(id: string, types: Record<string, FakeType> = {}, options: AddOptions = {}): FakeInstance {
    const content: Entry = options.terminated
      ? { InstanceId: id, InstanceStatus: 'Terminated' }
      : {
          AgentType: 'amazon-ssm-agent',
          AgentVersion: '3.3.1142.0',
          ComputerName: `${id}.eu-west-1.compute.internal`,
          InstanceId: id,
          InstanceStatus: 'Active',
          IpAddress: '10.0.0.1',
          PlatformName:
            options.platformType === 'Windows' ? 'Microsoft Windows Server 2022 Datacenter' : 'Amazon Linux',
          PlatformType: options.platformType ?? 'Linux',
          PlatformVersion: options.platformType === 'Windows' ? '10.0.20348' : '2023',
          ResourceType: 'EC2Instance',
        };
    const instance: FakeInstance = {
      id,
      information: {
        TypeName: 'AWS:InstanceInformation',
        SchemaVersion: '1.0',
        CaptureTime: CAPTURE_TIME,
        Content: [content],
      },
      types: new Map(Object.entries(types)),
      ...(options.ping ? { ping: options.ping } : {}),
    };
    this.instances.push(instance);
    this.byId.set(id, instance);
    return instance;
  }

  getInventory(input: GetInventoryCommandInput): GetInventoryCommandOutput {
    for (const attribute of input.ResultAttributes ?? []) {
      if (attribute.TypeName !== 'AWS:InstanceInformation' && attribute.TypeName !== 'AWS:PatchSummary') {
        const { Message } = fixture<{ Message: string }>('error-invalid-result-attribute.json');
        throw new InvalidResultAttributeException({
          message: Message,
          Message,
          $metadata: { httpStatusCode: 400 },
        });
      }
    }
    const max = input.MaxResults ?? 50;
    if (max < 1 || max > 50) throw new Error(`MaxResults ${max} out of 1-50`);
    let matching = this.instances;
    for (const filter of input.Filters ?? []) {
      if (filter.Key !== 'AWS:InstanceInformation.InstanceId' || filter.Type !== 'Equal')
        throw new Error(`unexpected filter ${filter.Key}`);
      if ((filter.Values?.length ?? 0) > 40) throw new Error('a filter takes at most 40 values');
      matching = matching.filter((i) => filter.Values?.includes(i.id));
    }
    const offset = input.NextToken ? Number(input.NextToken.slice(1)) : 0;
    const page = matching.slice(offset, offset + max);
    return {
      Entities: page.map((i) => ({ Id: i.id, Data: { 'AWS:InstanceInformation': i.information } })),
      ...(offset + max < matching.length ? { NextToken: `t${offset + max}` } : {}),
      $metadata: {},
    };
  }

  async listInventoryEntries(
    input: ListInventoryEntriesCommandInput,
  ): Promise<ListInventoryEntriesCommandOutput> {
    await this.beforeEntries(input);
    const max = input.MaxResults ?? 50;
    if (max < 1 || max > 50) throw new Error(`MaxResults ${max} out of 1-50`);
    const instance = this.byId.get(input.InstanceId ?? '');
    if (!instance)
      throw new InvalidInstanceId({ message: 'Invalid instance id', $metadata: { httpStatusCode: 400 } });
    const typeName = input.TypeName ?? '';
    if (!this.schema.includes(typeName)) {
      throw new InvalidTypeNameException({
        message: `${typeName} is not valid`,
        $metadata: { httpStatusCode: 400 },
      });
    }
    const type = instance.types.get(typeName);
    if (!type) return { TypeName: typeName, InstanceId: instance.id, Entries: [], $metadata: {} };
    const offset = input.NextToken ? Number(input.NextToken.slice(1)) : 0;
    return {
      TypeName: typeName,
      InstanceId: instance.id,
      SchemaVersion: '1.0',
      CaptureTime: type.captureTime,
      Entries: type.entries.slice(offset, offset + max),
      ...(offset + max < type.entries.length ? { NextToken: `t${offset + max}` } : {}),
      $metadata: {},
    };
  }

  describeInstanceInformation(
    input: DescribeInstanceInformationCommandInput,
  ): DescribeInstanceInformationCommandOutput {
    const max = input.MaxResults ?? 10;
    if (max < 5 || max > 50) throw new Error(`MaxResults ${max} out of 5-50`);
    let managed = this.instances.filter((i) => i.ping);
    for (const filter of input.Filters ?? []) {
      if (filter.Key !== 'InstanceIds') throw new Error(`unexpected filter ${filter.Key}`);
      managed = managed.filter((i) => filter.Values?.includes(i.id));
    }
    const offset = input.NextToken ? Number(input.NextToken.slice(1)) : 0;
    return {
      InstanceInformationList: managed
        .slice(offset, offset + max)
        .map((i) => ({ InstanceId: i.id, ...i.ping, PlatformType: 'Linux', ResourceType: 'EC2Instance' })),
      ...(offset + max < managed.length ? { NextToken: `t${offset + max}` } : {}),
      $metadata: {},
    };
  }

  getInventorySchema(): GetInventorySchemaCommandOutput {
    return {
      Schemas: this.schema.map((TypeName) => ({
        TypeName,
        Version: '1.0',
        Attributes: [{ Name: 'Name', DataType: 'string' }],
      })),
      $metadata: {},
    };
  }

  install(mock: AwsClientStub<SSMClient>, options: { listEntries?: boolean } = {}): void {
    mock.on(GetInventoryCommand).callsFake(async (input) => this.getInventory(input));
    mock
      .on(DescribeInstanceInformationCommand)
      .callsFake(async (input) => this.describeInstanceInformation(input));
    mock.on(GetInventorySchemaCommand).callsFake(async () => this.getInventorySchema());
    if (options.listEntries !== false) {
      mock.on(ListInventoryEntriesCommand).callsFake((input) => this.listInventoryEntries(input));
    }
  }
}

// ---------------------------------------------------------------------------------------------
// The fixture account: the documented response shapes in test/fixtures/ssm

function installFixtureAccount(mock: AwsClientStub<SSMClient>): void {
  const page1 = fixture<GetInventoryCommandOutput>('get-inventory-page-1.json');
  const page2 = fixture<GetInventoryCommandOutput>('get-inventory-page-2.json');
  mock.on(GetInventoryCommand).callsFake(async (input: GetInventoryCommandInput) => {
    if (input.NextToken === undefined) return page1;
    if (input.NextToken === page1.NextToken) return page2;
    throw new Error(`unexpected NextToken ${input.NextToken}`);
  });
  const described = fixture<DescribeInstanceInformationCommandOutput>('describe-instance-information.json');
  mock.on(DescribeInstanceInformationCommand).resolves({
    InstanceInformationList: described.InstanceInformationList?.map((info) => ({
      ...info,
      LastPingDateTime: new Date(info.LastPingDateTime as unknown as string),
    })),
  });
  mock.on(GetInventorySchemaCommand).resolves(fixture('get-inventory-schema.json'));
  const app1 = fixture<ListInventoryEntriesCommandOutput>('list-inventory-entries-application-page-1.json');
  const app2 = fixture<ListInventoryEntriesCommandOutput>('list-inventory-entries-application-page-2.json');
  mock.on(ListInventoryEntriesCommand).callsFake(async (input: ListInventoryEntriesCommandInput) => {
    const notCollected = { TypeName: input.TypeName, InstanceId: input.InstanceId, Entries: [] };
    if (input.InstanceId === AL2023) {
      if (input.TypeName === 'AWS:Application') return input.NextToken === app1.NextToken ? app2 : app1;
      if (input.TypeName === 'Custom:DriftwatchFiles') return fixture('list-inventory-entries-files.json');
      if (input.TypeName === 'Custom:DriftwatchServices')
        return fixture('list-inventory-entries-services-empty.json');
      return notCollected;
    }
    if (input.TypeName === 'Custom:DriftwatchFiles')
      return fixture('list-inventory-entries-not-collected.json');
    if (input.TypeName === 'AWS:Application') {
      return { ...app2, InstanceId: input.InstanceId, CaptureTime: '2026-11-27T10:38:03Z' };
    }
    return notCollected;
  });
}

function entriesCalls(mock: AwsClientStub<SSMClient>): ListInventoryEntriesCommandInput[] {
  return mock.commandCalls(ListInventoryEntriesCommand).map((call) => call.args[0].input);
}

// ---------------------------------------------------------------------------------------------

let ssm: SSMClient;
let ssmMock: AwsClientStub<SSMClient>;

beforeEach(() => {
  ssm = newClient();
  ssmMock = mockClient(ssm);
});

afterEach(() => {
  ssmMock.restore();
});

describe('SsmInventorySource: listing', () => {
  it('reads every managed instance across GetInventory pages and skips terminated stubs', async () => {
    // Prepare
    installFixtureAccount(ssmMock);
    const source = new SsmInventorySource(ssm);

    // Act
    const snapshots = await collect(source);

    // Assess
    expect(source.description).toBe('SSM API');
    expect(snapshots.map((s) => s.instanceId)).toEqual([AL2023, OTHER]);
    expect(snapshots.map((s) => s.instanceId)).not.toContain(TERMINATED);
    const calls = ssmMock.commandCalls(GetInventoryCommand).map((c) => c.args[0].input);
    expect(calls).toHaveLength(2);
    expect(calls[0]?.NextToken).toBeUndefined();
    expect(calls[1]?.NextToken).toBe(
      fixture<GetInventoryCommandOutput>('get-inventory-page-1.json').NextToken,
    );
    expect(calls.every((c) => c.MaxResults === SSM_LIMITS.getInventoryMaxResults)).toBe(true);
    const [al2023] = snapshots;
    expect(al2023?.platform).toEqual({ name: 'Amazon Linux', version: '2023', type: 'Linux' });
    expect(al2023?.instanceStatus).toBe('Active');
    expect(al2023?.agentVersion).toBe('3.3.1142.0');
    expect(al2023?.types.get('AWS:InstanceInformation')).toBe('2026-11-27T10:42:16Z');
    expect(al2023?.packages?.get(packageKey('openssl-libs', 'x86_64'))?.versions).toEqual([
      '1:3.0.8-1.amzn2023.0.14',
    ]);
    expect(al2023?.packages?.size).toBe(3);
    expect(al2023?.files?.get('/etc/ssh/sshd_config')).toMatch(/^[0-9a-f]{64}$/);
    expect(al2023?.problems).toEqual([]);
  });

  it('never asks GetInventory for AWS:Application, which the API refuses with InvalidResultAttributeException', async () => {
    // Prepare
    const world = new FakeSsm();
    world.add('i-0000000000000000a', {
      'AWS:Application': { captureTime: CAPTURE_TIME, entries: rpmEntries(3) },
    });
    world.install(ssmMock);

    // Act
    const refused = await ssm
      .send(new GetInventoryCommand({ ResultAttributes: [{ TypeName: 'AWS:Application' }] }))
      .catch((error: unknown) => error);
    ssmMock.resetHistory();
    const snapshots = await collect(new SsmInventorySource(ssm));

    // Assess
    expect(refused).toBeInstanceOf(InvalidResultAttributeException);
    expect(snapshots[0]?.packages?.size).toBe(3);
    const sent = ssmMock.commandCalls(GetInventoryCommand).map((c) => c.args[0].input.ResultAttributes);
    expect(sent.length).toBeGreaterThan(0);
    for (const attributes of sent) expect(attributes).toEqual([{ TypeName: 'AWS:InstanceInformation' }]);
  });

  it('filters GetInventory and DescribeInstanceInformation by instance id for up to 40 ids', async () => {
    // Prepare
    const world = new FakeSsm();
    const ids = Array.from({ length: 60 }, (_, i) => `i-${String(i).padStart(17, '0')}`);
    for (const id of ids) {
      world.add(
        id,
        { 'AWS:Application': { captureTime: CAPTURE_TIME, entries: rpmEntries(2) } },
        {
          ping: { PingStatus: 'Online', LastPingDateTime: new Date('2026-11-27T11:00:00Z') },
        },
      );
    }
    world.install(ssmMock);
    const wanted = ids.slice(10, 50);

    // Act
    const snapshots = await collect(new SsmInventorySource(ssm), { instanceIds: new Set(wanted) });

    // Assess
    expect(snapshots.map((s) => s.instanceId)).toEqual(wanted);
    const listing = ssmMock.commandCalls(GetInventoryCommand).map((c) => c.args[0].input);
    expect(listing).toHaveLength(1);
    expect(listing[0]?.Filters).toEqual([
      { Key: 'AWS:InstanceInformation.InstanceId', Values: wanted, Type: 'Equal' },
    ]);
    const described = ssmMock.commandCalls(DescribeInstanceInformationCommand).map((c) => c.args[0].input);
    expect(described).toHaveLength(1);
    expect(described[0]?.Filters).toEqual([{ Key: 'InstanceIds', Values: wanted }]);
  });

  it('lists every instance and skips the others for more than 40 ids', async () => {
    // Prepare
    const world = new FakeSsm();
    const ids = Array.from({ length: 120 }, (_, i) => `i-${String(i).padStart(17, '0')}`);
    for (const id of ids)
      world.add(id, { 'AWS:Application': { captureTime: CAPTURE_TIME, entries: rpmEntries(2) } });
    world.install(ssmMock);
    const wanted = ids.filter((_, i) => i % 2 === 0);

    // Act
    const snapshots = await collect(new SsmInventorySource(ssm), { instanceIds: new Set(wanted) });

    // Assess
    expect(snapshots.map((s) => s.instanceId)).toEqual(wanted);
    const listing = ssmMock.commandCalls(GetInventoryCommand).map((c) => c.args[0].input);
    expect(listing).toHaveLength(3);
    expect(listing.every((c) => c.Filters === undefined)).toBe(true);
    expect(new Set(entriesCalls(ssmMock).map((c) => c.InstanceId))).toEqual(new Set(wanted));
  });

  it('makes no call at all for an empty instance filter', async () => {
    // Prepare
    new FakeSsm().install(ssmMock);

    // Act
    const snapshots = await collect(new SsmInventorySource(ssm), { instanceIds: new Set() });

    // Assess
    expect(snapshots).toEqual([]);
    expect(ssmMock.calls()).toHaveLength(0);
  });

  it('throws InventorySourceError, with the cause, when GetInventory is denied', async () => {
    // Prepare
    const denied = new AccessDeniedException({
      message:
        'User: arn:aws:sts::123456789012:assumed-role/audit/x is not authorized to perform: ssm:GetInventory',
      Message: 'not authorized',
      $metadata: { httpStatusCode: 400 },
    });
    new FakeSsm().install(ssmMock);
    ssmMock.on(GetInventoryCommand).rejects(denied);

    // Act
    const error = await collect(new SsmInventorySource(ssm)).catch((e: unknown) => e);

    // Assess
    expect(error).toBeInstanceOf(InventorySourceError);
    const sourceError = error as InventorySourceError;
    expect(sourceError.name).toBe('InventorySourceError');
    expect(sourceError.cause).toBe(denied);
    expect(sourceError.accessDenied).toBe(true);
    expect(sourceError.operation).toBe('GetInventory');
    expect(sourceError.message).toMatch(
      /^SSM API: not allowed to list managed instances \(ssm:GetInventory\)/,
    );
  });
});

describe('SsmInventorySource: inventory types', () => {
  it('merges ListInventoryEntries pages: a 120-package instance takes 3 calls and keeps every package', async () => {
    // Prepare
    const world = new FakeSsm();
    world.add('i-0000000000000000a', {
      'AWS:Application': { captureTime: CAPTURE_TIME, entries: rpmEntries(120) },
    });
    world.install(ssmMock);

    // Act
    const [snapshot] = await collect(new SsmInventorySource(ssm));

    // Assess
    const calls = entriesCalls(ssmMock).filter((c) => c.TypeName === 'AWS:Application');
    expect(calls.map((c) => c.NextToken)).toEqual([undefined, 't50', 't100']);
    expect(calls.every((c) => c.MaxResults === SSM_LIMITS.listEntriesMaxResults)).toBe(true);
    expect(snapshot?.packages?.size).toBe(120);
    expect(snapshot?.packages?.get(packageKey('pkg-0119', 'x86_64'))?.versions).toEqual([
      '0:1.0.119-1.amzn2023.0.2',
    ]);
    expect(snapshot?.types.get('AWS:Application')).toBe(CAPTURE_TIME);
  });

  it('keeps the inventory as received, pages merged, when the filter asks for it', async () => {
    // Prepare
    installFixtureAccount(ssmMock);

    // Act
    const [kept] = await collect(new SsmInventorySource(ssm), { keepRaw: true });
    const [plain] = await collect(new SsmInventorySource(ssm));

    // Assess
    const application = kept?.raw?.get('AWS:Application');
    expect(application?.SchemaVersion).toBe('1.1');
    expect(application?.CaptureTime).toBe(CAPTURE_TIME);
    expect(application?.Content.map((e) => (e as Entry).Name)).toEqual(['bash', 'glibc', 'openssl-libs']);
    expect(kept?.raw?.get('AWS:InstanceInformation')?.Content).toEqual(
      fixture<GetInventoryCommandOutput>('get-inventory-page-1.json').Entities?.[0]?.Data?.[
        'AWS:InstanceInformation'
      ]?.Content,
    );
    expect(kept?.raw?.has('Custom:DriftwatchKernel')).toBe(false);
    expect(plain?.raw).toBeUndefined();
  });

  it('leaves out a type the instance never collected, and keeps an empty one it did collect', async () => {
    // Prepare
    installFixtureAccount(ssmMock);

    // Act
    const [al2023, other] = await collect(new SsmInventorySource(ssm));

    // Assess
    expect(al2023?.services).toEqual(new Map());
    expect(al2023?.types.get('Custom:DriftwatchServices')).toBe('2026-11-27T10:42:19Z');
    expect(other?.files).toBeUndefined();
    expect(other?.types.has('Custom:DriftwatchFiles')).toBe(false);
    expect(other?.problems).toEqual([]);
  });

  it("asks only for the types in the account's inventory schema, read once", async () => {
    // Prepare
    installFixtureAccount(ssmMock);
    const source = new SsmInventorySource(ssm);

    // Act
    await collect(source);
    await collect(source);

    // Assess: the fixture schema has no Custom:DriftwatchKernel; AWS:Service is Windows-only.
    const asked = new Set(entriesCalls(ssmMock).map((c) => c.TypeName));
    expect(asked).toEqual(
      new Set(['AWS:Application', 'Custom:DriftwatchFiles', 'Custom:DriftwatchServices']),
    );
    expect(ssmMock.commandCalls(GetInventorySchemaCommand)).toHaveLength(1);
  });

  it('asks for AWS:Service only on Windows instances', async () => {
    // Prepare
    const world = new FakeSsm();
    const services = {
      captureTime: CAPTURE_TIME,
      entries: [{ Name: 'W32Time', Status: 'Running', StartType: 'Automatic' }],
    };
    world.add('i-0000000000000000a', {
      'AWS:Application': { captureTime: CAPTURE_TIME, entries: rpmEntries(1) },
    });
    world.add('i-0000000000000000b', { 'AWS:Service': services }, { platformType: 'Windows' });
    world.install(ssmMock);

    // Act
    const [linux, windows] = await collect(new SsmInventorySource(ssm));

    // Assess
    const serviceCalls = entriesCalls(ssmMock).filter((c) => c.TypeName === 'AWS:Service');
    expect(serviceCalls.map((c) => c.InstanceId)).toEqual(['i-0000000000000000b']);
    expect(linux?.services).toBeUndefined();
    expect(windows?.services?.get('W32Time')).toEqual({
      name: 'W32Time',
      status: 'running',
      startType: 'automatic',
    });
  });

  it('reads every configured type when the schema cannot be read, a type the account lacks as not collected', async () => {
    // Prepare
    const world = new FakeSsm();
    world.schema = ['AWS:Application', 'AWS:InstanceInformation', 'Custom:DriftwatchFiles'];
    world.add('i-0000000000000000a', {
      'AWS:Application': { captureTime: CAPTURE_TIME, entries: rpmEntries(1) },
    });
    world.install(ssmMock);
    ssmMock
      .on(GetInventorySchemaCommand)
      .rejects(new InternalServerError({ message: 'boom', $metadata: {} }));
    const source = new SsmInventorySource(ssm);

    // Act
    const [snapshot] = await collect(source);

    // Assess
    expect(new Set(entriesCalls(ssmMock).map((c) => c.TypeName))).toEqual(
      new Set([
        'AWS:Application',
        'Custom:DriftwatchFiles',
        'Custom:DriftwatchServices',
        'Custom:DriftwatchKernel',
      ]),
    );
    expect(snapshot?.problems).toEqual([]);
    expect(snapshot?.kernel).toBeUndefined();
    expect(source.partialInstances).toBe(0);
    expect(source.errors).toEqual([expect.stringMatching(/^GetInventorySchema: InternalServerError: boom/)]);
  });

  it('reads a type again when a new inventory lands between two of its pages', async () => {
    // Prepare
    const world = new FakeSsm();
    const instance = world.add('i-0000000000000000a', {
      'AWS:Application': { captureTime: '2026-11-27T10:00:00Z', entries: rpmEntries(80, 'old') },
    });
    let calls = 0;
    world.beforeEntries = () => {
      calls++;
      if (calls === 2) {
        instance.types.set('AWS:Application', {
          captureTime: '2026-11-27T10:30:00Z',
          entries: rpmEntries(70, 'new'),
        });
      }
    };
    world.install(ssmMock);

    // Act
    const [snapshot] = await collect(new SsmInventorySource(ssm));

    // Assess
    expect(snapshot?.problems).toEqual([]);
    expect(snapshot?.packages?.size).toBe(70);
    expect([...(snapshot?.packages?.values() ?? [])].every((p) => p.name.startsWith('new-'))).toBe(true);
    expect(snapshot?.types.get('AWS:Application')).toBe('2026-11-27T10:30:00Z');
  });
});

describe('SsmInventorySource: throttling and errors', () => {
  it('survives a throttling burst that clears within the SDK retries', async () => {
    // Prepare: aws-sdk-client-mock replaces SSMClient#send, which skips the SDK's retry middleware
    // (see the next test); to exercise the real retry, this client talks to an in-memory HTTP handler.
    const world = new FakeSsm();
    world.add('i-0000000000000000a', {
      'AWS:Application': { captureTime: CAPTURE_TIME, entries: rpmEntries(60) },
    });
    const throttleBody = readFileSync(join(FIXTURES, 'error-throttling.json'), 'utf8');
    const seen: string[] = [];
    let throttled = 0;
    const requestHandler = {
      async handle(request: { headers: Record<string, string>; body?: unknown }) {
        const operation = String(request.headers['x-amz-target']).replace('AmazonSSM.', '');
        const raw = request.body;
        const input = JSON.parse(typeof raw === 'string' ? raw : new TextDecoder().decode(raw as Uint8Array));
        seen.push(operation);
        let status = 200;
        let body: unknown;
        if (operation === 'ListInventoryEntries' && input.NextToken && throttled < 1) {
          throttled++;
          status = 400;
          body = JSON.parse(throttleBody);
        } else if (operation === 'GetInventory') body = world.getInventory(input);
        else if (operation === 'ListInventoryEntries') body = await world.listInventoryEntries(input);
        else if (operation === 'DescribeInstanceInformation') body = world.describeInstanceInformation(input);
        else body = world.getInventorySchema();
        const text = JSON.stringify(body, (key, value) => (key === '$metadata' ? undefined : value));
        return {
          response: {
            statusCode: status,
            headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': `r${seen.length}` },
            body: Readable.from([Buffer.from(text)]),
          },
        };
      },
      updateHttpClientConfig() {},
      httpHandlerConfigs() {
        return {};
      },
    };
    const client = newClient({ requestHandler });
    const source = new SsmInventorySource(client);

    // Act
    const [snapshot] = await collect(source);

    // Assess
    expect(throttled).toBe(1);
    expect(seen.filter((op) => op === 'ListInventoryEntries').length).toBe(3);
    expect(snapshot?.problems).toEqual([]);
    expect(snapshot?.packages?.size).toBe(60);
    expect(source.partialInstances).toBe(0);
  });

  it('with aws-sdk-client-mock a single mocked throttle reaches the adapter, which yields the instance as partial', async () => {
    // Prepare: the mock stubs SSMClient#send, so the SDK's retry (maxAttempts 2) never runs.
    const world = new FakeSsm();
    world.add('i-0000000000000000a', {
      'AWS:Application': { captureTime: CAPTURE_TIME, entries: rpmEntries(3) },
    });
    world.add('i-0000000000000000b', {
      'AWS:Application': { captureTime: CAPTURE_TIME, entries: rpmEntries(3) },
    });
    world.install(ssmMock, { listEntries: false });
    ssmMock
      .on(ListInventoryEntriesCommand)
      .rejectsOnce(throttling())
      .callsFake((input) => world.listInventoryEntries(input));
    const source = new SsmInventorySource(ssm, { concurrency: 1 });

    // Act
    const [first, second] = await collect(source);

    // Assess
    expect(entriesCalls(ssmMock)).toHaveLength(2);
    expect(first?.packages).toBeUndefined();
    expect(first?.problems).toEqual(['AWS:Application: ThrottlingException: Rate exceeded']);
    expect(second?.packages?.size).toBe(3);
    expect(source.partialInstances).toBe(1);
  });

  it('yields an instance throttled past the retries with a problem, and counts it as partial', async () => {
    // Prepare
    const world = new FakeSsm();
    for (const id of ['i-0000000000000000a', 'i-0000000000000000b', 'i-0000000000000000c']) {
      world.add(id, { 'AWS:Application': { captureTime: CAPTURE_TIME, entries: rpmEntries(75) } });
    }
    world.beforeEntries = (input) => {
      if (input.InstanceId === 'i-0000000000000000b' && input.NextToken) {
        throw Object.assign(throttling(), { $metadata: { httpStatusCode: 400, attempts: 8 } });
      }
    };
    world.install(ssmMock);
    const source = new SsmInventorySource(ssm);

    // Act
    const snapshots = await collect(source);

    // Assess
    expect(snapshots.map((s) => s.instanceId)).toEqual([
      'i-0000000000000000a',
      'i-0000000000000000b',
      'i-0000000000000000c',
    ]);
    const throttled = snapshots[1];
    expect(throttled?.packages).toBeUndefined();
    expect(throttled?.types.has('AWS:Application')).toBe(false);
    expect(throttled?.problems).toEqual([
      'AWS:Application: ThrottlingException after 8 attempts: Rate exceeded',
    ]);
    expect(snapshots[0]?.problems).toEqual([]);
    expect(snapshots[2]?.packages?.size).toBe(75);
    expect(source.partialInstances).toBe(1);
    expect(source.errors).toEqual([
      'i-0000000000000000b: AWS:Application: ThrottlingException after 8 attempts: Rate exceeded',
    ]);
  });

  it('reports any other ListInventoryEntries error the same way, type by type', async () => {
    // Prepare
    const world = new FakeSsm();
    world.schema = [...ALL_TYPES];
    world.add('i-0000000000000000a', {
      'AWS:Application': { captureTime: CAPTURE_TIME, entries: rpmEntries(2) },
      'Custom:DriftwatchKernel': {
        captureTime: CAPTURE_TIME,
        entries: [{ KernelRelease: '6.1.112-124.190.amzn2023.x86_64' }],
      },
    });
    world.beforeEntries = (input) => {
      if (input.TypeName === 'Custom:DriftwatchFiles')
        throw new InternalServerError({
          message: 'We encountered an internal error',
          $metadata: { httpStatusCode: 500 },
        });
      if (input.TypeName === 'Custom:DriftwatchServices')
        throw new AccessDeniedException({
          message: 'not authorized',
          Message: 'not authorized',
          $metadata: {},
        });
    };
    world.install(ssmMock);
    const source = new SsmInventorySource(ssm);

    // Act
    const [snapshot] = await collect(source);

    // Assess
    expect(snapshot?.problems).toEqual([
      'Custom:DriftwatchFiles: InternalServerError: We encountered an internal error',
      'Custom:DriftwatchServices: AccessDeniedException: not authorized',
    ]);
    expect(snapshot?.packages?.size).toBe(2);
    expect(snapshot?.kernel).toBe('6.1.112-124.190.amzn2023.x86_64');
    expect(source.partialInstances).toBe(1);
    expect(source.errors).toHaveLength(2);
  });
});

describe('SsmInventorySource: call budget, concurrency and streaming', () => {
  it('makes ceil(packages / 50) ListInventoryEntries calls per instance for AWS:Application', async () => {
    // Prepare
    const world = new FakeSsm();
    world.schema = [...ALL_TYPES];
    const sizes = [1, 50, 51, 120, 900];
    for (const [i, size] of sizes.entries()) {
      world.add(`i-000000000000000${i}a`, {
        'AWS:Application': { captureTime: CAPTURE_TIME, entries: rpmEntries(size) },
        'Custom:DriftwatchKernel': { captureTime: CAPTURE_TIME, entries: [{ KernelRelease: '6.1.112' }] },
      });
    }
    world.install(ssmMock);

    // Act
    const snapshots = await collect(new SsmInventorySource(ssm));

    // Assess
    const calls = entriesCalls(ssmMock);
    for (const [i, size] of sizes.entries()) {
      const id = `i-000000000000000${i}a`;
      const mine = calls.filter((c) => c.InstanceId === id);
      expect(mine.filter((c) => c.TypeName === 'AWS:Application')).toHaveLength(Math.ceil(size / 50));
      // One call for each of the three custom types; AWS:Service is not asked on Linux.
      expect(mine.length).toBe(Math.ceil(size / 50) + 3);
      expect(snapshots[i]?.packages?.size).toBe(size);
    }
  });

  it('keeps at most `concurrency` calls in flight and yields in GetInventory order', async () => {
    // Prepare
    const world = new FakeSsm();
    const ids = Array.from({ length: 12 }, (_, i) => `i-${String(i).padStart(17, '0')}`);
    for (const id of ids)
      world.add(id, { 'AWS:Application': { captureTime: CAPTURE_TIME, entries: rpmEntries(120) } });
    let inFlight = 0;
    let peak = 0;
    world.install(ssmMock, { listEntries: false });
    ssmMock.on(ListInventoryEntriesCommand).callsFake(async (input: ListInventoryEntriesCommandInput) => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      try {
        // Earlier instances answer slower, so later ones finish first.
        await sleep(12 - ids.indexOf(input.InstanceId ?? ''));
        return await world.listInventoryEntries(input);
      } finally {
        inFlight--;
      }
    });

    // Act
    const snapshots = await collect(new SsmInventorySource(ssm, { concurrency: 3 }));

    // Assess
    expect(peak).toBe(3);
    expect(snapshots.map((s) => s.instanceId)).toEqual(ids);
    expect(snapshots.every((s) => s.packages?.size === 120)).toBe(true);
  });

  it('reads lazily: instance N + concurrency is not read before instance N is consumed', async () => {
    // Prepare
    const world = new FakeSsm();
    const ids = Array.from({ length: 10 }, (_, i) => `i-${String(i).padStart(17, '0')}`);
    for (const id of ids)
      world.add(id, { 'AWS:Application': { captureTime: CAPTURE_TIME, entries: rpmEntries(60) } });
    world.install(ssmMock);
    const concurrency = 2;
    const source = new SsmInventorySource(ssm, { concurrency });

    // Act: a slow consumer
    const highestStartedWhenConsumed: number[] = [];
    for await (const snapshot of source.snapshots()) {
      const highest = Math.max(...entriesCalls(ssmMock).map((c) => ids.indexOf(c.InstanceId ?? '')));
      highestStartedWhenConsumed.push(highest - ids.indexOf(snapshot.instanceId));
      await sleep(5);
    }

    // Assess
    expect(highestStartedWhenConsumed).toHaveLength(10);
    expect(Math.max(...highestStartedWhenConsumed)).toBeLessThanOrEqual(concurrency);
  });

  it('stops reading when the consumer stops early', async () => {
    // Prepare
    const world = new FakeSsm();
    const ids = Array.from({ length: 20 }, (_, i) => `i-${String(i).padStart(17, '0')}`);
    for (const id of ids)
      world.add(id, { 'AWS:Application': { captureTime: CAPTURE_TIME, entries: rpmEntries(300) } });
    world.beforeEntries = () => sleep(1);
    world.install(ssmMock);
    const source = new SsmInventorySource(ssm, { concurrency: 2 });

    // Act
    for await (const snapshot of source.snapshots()) {
      expect(snapshot.instanceId).toBe(ids[0]);
      break;
    }
    const callsAtBreak = entriesCalls(ssmMock).length;
    await sleep(30);

    // Assess: the instance read ahead stops at its next page; nothing else is started.
    const calls = entriesCalls(ssmMock);
    expect(new Set(calls.map((c) => c.InstanceId))).toEqual(new Set(ids.slice(0, 2)));
    expect(calls.length).toBeLessThanOrEqual(callsAtBreak + 1);
  });

  it('streams 2,000 instances of 900 packages with a bounded number of instances read ahead', async () => {
    // Prepare
    const world = new FakeSsm();
    const entries = rpmEntries(900);
    for (let i = 0; i < 2000; i++) {
      world.add(`i-${String(i).padStart(17, '0')}`, {
        'AWS:Application': { captureTime: CAPTURE_TIME, entries },
      });
    }
    const started = new Set<string>();
    world.beforeEntries = (input) => {
      started.add(input.InstanceId ?? '');
    };
    world.install(ssmMock);
    const concurrency = 4;
    const source = new SsmInventorySource(ssm, { concurrency });

    // Act
    let consumed = 0;
    let aheadPeak = 0;
    for await (const snapshot of source.snapshots()) {
      consumed++;
      aheadPeak = Math.max(aheadPeak, started.size - consumed);
      if (snapshot.packages?.size !== 900)
        throw new Error(`${snapshot.instanceId}: ${snapshot.packages?.size}`);
    }

    // Assess
    expect(consumed).toBe(2000);
    expect(aheadPeak).toBeLessThanOrEqual(concurrency);
    expect(ssmMock.commandCalls(ListInventoryEntriesCommand)).toHaveLength(2000 * 18);
    expect(ssmMock.commandCalls(GetInventoryCommand)).toHaveLength(40);
  }, 20_000);
});

describe('SsmInventorySource: agent ping status', () => {
  it('keeps each agent ping status for the use case without making an offline agent a problem', async () => {
    // Prepare
    installFixtureAccount(ssmMock);
    const source = new SsmInventorySource(ssm, { now: () => new Date('2026-11-27T12:03:47Z') });

    // Act
    const snapshots = await collect(source);

    // Assess
    expect(snapshots.every((s) => s.problems.length === 0)).toBe(true);
    expect(source.partialInstances).toBe(0);
    expect(source.lastPing()).toEqual(
      new Map([
        [AL2023, { pingStatus: 'Online', lastPing: '2026-11-27T11:58:21.904Z' }],
        [OTHER, { pingStatus: 'ConnectionLost', lastPing: '2026-11-27T08:03:47.120Z' }],
      ]),
    );
    expect(source.offlineNote(AL2023)).toBeUndefined();
    expect(source.offlineNote(OTHER)).toBe(
      'SSM agent offline (connection lost) since 2026-11-27T08:03:47.120Z (3 h ago)',
    );
    const described = ssmMock.commandCalls(DescribeInstanceInformationCommand).map((c) => c.args[0].input);
    expect(described).toEqual([{ MaxResults: SSM_LIMITS.describeMaxResults, NextToken: undefined }]);
  });

  it('describes online, offline and unknown agents in one line', () => {
    // Act / Assess
    expect(pingNote('Online', '2026-11-27T11:58:21Z')).toBe(
      'SSM agent online, last ping 2026-11-27T11:58:21.000Z',
    );
    expect(pingNote('Inactive', new Date('2026-11-20T08:00:00Z'), new Date('2026-11-27T08:00:00Z'))).toBe(
      'SSM agent offline (inactive) since 2026-11-20T08:00:00.000Z (7 d ago)',
    );
    expect(pingNote('ConnectionLost', '2026-11-27T11:40:00Z', new Date('2026-11-27T12:00:00Z'))).toBe(
      'SSM agent offline (connection lost) since 2026-11-27T11:40:00.000Z (20 min ago)',
    );
    expect(pingNote(undefined, undefined)).toBe('SSM agent offline (ping status unknown), last ping unknown');
  });

  it('carries on without ping status when DescribeInstanceInformation fails', async () => {
    // Prepare
    const world = new FakeSsm();
    world.add('i-0000000000000000a', {
      'AWS:Application': { captureTime: CAPTURE_TIME, entries: rpmEntries(2) },
    });
    world.install(ssmMock);
    ssmMock.on(DescribeInstanceInformationCommand).rejects(throttling());
    const source = new SsmInventorySource(ssm);

    // Act
    const [snapshot] = await collect(source);

    // Assess
    expect(snapshot?.packages?.size).toBe(2);
    expect(snapshot?.problems).toEqual([]);
    expect(source.lastPing().size).toBe(0);
    expect(source.errors).toEqual([
      'DescribeInstanceInformation: ThrottlingException: Rate exceeded; ping status unknown',
    ]);
  });
});

describe('SsmInventorySource: configuration', () => {
  it('refuses a concurrency that is not a positive integer', () => {
    expect(() => new SsmInventorySource(ssm, { concurrency: 0 })).toThrow(RangeError);
    expect(() => new SsmInventorySource(ssm, { concurrency: 1.5 })).toThrow(RangeError);
  });

  it('always reads AWS:Application, whatever types are configured', async () => {
    // Prepare
    const world = new FakeSsm();
    world.schema = [...ALL_TYPES];
    world.add('i-0000000000000000a', {
      'AWS:Application': { captureTime: CAPTURE_TIME, entries: rpmEntries(2) },
    });
    world.install(ssmMock);

    // Act
    await collect(new SsmInventorySource(ssm, { types: [InventoryTypes.kernel] }));

    // Assess
    expect(entriesCalls(ssmMock).map((c) => c.TypeName)).toEqual([
      'AWS:Application',
      'Custom:DriftwatchKernel',
    ]);
  });
});
