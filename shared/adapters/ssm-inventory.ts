/**
 * Inventory straight from the SSM API, for accounts without a Resource Data Sync (small fleets).
 *
 * Where the data comes from (DESIGN.md §3, §4):
 * - `GetInventory` lists the managed instances, 50 a page, with their `AWS:InstanceInformation`. It
 *   only accepts `AWS:InstanceInformation` or `AWS:PatchSummary` as a result attribute (asking it for
 *   `AWS:Application` is refused with InvalidResultAttributeException), so it never gives packages.
 *   It keeps stubs of terminated instances (only InstanceId and InstanceStatus): they are skipped.
 * - `ListInventoryEntries` gives one instance's entries of one type, 50 a page (no SDK paginator):
 *   ~19 calls for a 900-package host. This is what makes the SSM API slow at scale.
 * - `GetInventorySchema` (once) says which types the account has ever collected: types it does not
 *   know are not asked for, instance after instance.
 * - `DescribeInstanceInformation` gives the agents' PingStatus and last ping, kept aside for the use
 *   case (`lastPing()`, `offlineNote()`); an offline agent is not a problem here: the engine judges
 *   staleness from capture times.
 *
 * Instances are read `concurrency` at a time and yielded in GetInventory order, one at a time: at most
 * `concurrency` instances are being read or waiting to be consumed, so memory follows a few
 * instances and one GetInventory page, never the fleet. An instance whose inventory cannot be read
 * (throttled past the client's retries, any other error) is yielded anyway with a problem, so the
 * engine reports it `unknown` (`inventory-partial`), never compliant and never dropped. Only a failing
 * listing (GetInventory) is fatal: without it the fleet is not known.
 */
import {
  DescribeInstanceInformationCommand,
  type DescribeInstanceInformationCommandInput,
  GetInventoryCommand,
  type GetInventoryCommandInput,
  type GetInventoryCommandOutput,
  GetInventorySchemaCommand,
  type InventoryResultItem,
  ListInventoryEntriesCommand,
  type SSMClient,
} from '@aws-sdk/client-ssm';
import {
  type InstanceSnapshot,
  InventoryTypes,
  MAX_ENTRIES_PER_TYPE,
  SnapshotBuilder,
} from '../domain/inventory.ts';
import type { InventoryFilter, InventorySource } from '../ports.ts';
import { awsErrorName } from './aws-clients.ts';

/** Request limits of the SSM inventory APIs (DESIGN.md §4). */
export const SSM_LIMITS = {
  /** GetInventory MaxResults: 1-50. */
  getInventoryMaxResults: 50,
  /** ListInventoryEntries MaxResults: 1-50. */
  listEntriesMaxResults: 50,
  /** Values in one GetInventory filter (at most 5 filters, and filters are ANDed). */
  filterValues: 40,
  /** DescribeInstanceInformation MaxResults: 5-50; also the most instance ids we filter it by. */
  describeMaxResults: 50,
} as const;

/** GetInventorySchema MaxResults: 50-200. An account has ~15 AWS types and at most 20 custom ones. */
const SCHEMA_MAX_RESULTS = 200;

/** The types read by default, in this order. AWS:Application is always read; the others when the schema has them. */
export const DEFAULT_SSM_TYPES: readonly string[] = [
  InventoryTypes.application,
  InventoryTypes.files,
  InventoryTypes.services,
  InventoryTypes.kernel,
  InventoryTypes.service,
];

/**
 * Types only Windows agents collect: the agent gathers AWS:Service with PowerShell's Get-Service
 * (amazon-ssm-agent, plugins/inventory/gatherers/service). Not asked for on instances whose
 * AWS:InstanceInformation says another platform (one ListInventoryEntries call saved per instance).
 */
const WINDOWS_ONLY_TYPES: ReadonlySet<string> = new Set([InventoryTypes.service]);

/** Error names that mean the caller may not make the call (or its credentials are refused). */
const ACCESS_DENIED = new Set([
  'AccessDeniedException',
  'AccessDenied',
  'UnauthorizedOperation',
  'UnrecognizedClientException',
  'InvalidClientTokenId',
  'ExpiredTokenException',
]);

/** How many error messages `errors` keeps. */
const MAX_ERRORS = 10;
const MAX_MESSAGE_LENGTH = 300;

/** The SSM API could not list the managed instances: the run cannot know its fleet. */
export class InventorySourceError extends Error {
  override readonly name = 'InventorySourceError';
  constructor(
    /** The source's description (`SSM API`). */
    readonly source: string,
    /** The API operation that failed (`GetInventory`). */
    readonly operation: string,
    /** True when the call was refused: missing IAM permission, refused credentials. */
    readonly accessDenied: boolean,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${source}: ${message}`, options);
  }
}

export interface SsmInventoryOptions {
  /**
   * Instances read at the same time (each reads its types one call after the other, so this is
   * also the most SSM calls in flight).
   * @default 4
   */
  readonly concurrency?: number;
  /**
   * Inventory types to read, besides AWS:InstanceInformation (which comes with the listing).
   * AWS:Application is always read; other types only when the account's inventory schema has them.
   * @default DEFAULT_SSM_TYPES
   */
  readonly types?: readonly string[];
  /** Clock for the age in `offlineNote()`. @default () => new Date() */
  readonly now?: () => Date;
}

/** An agent's connection to SSM, as DescribeInstanceInformation reported it. */
export interface PingInfo {
  /** `Online`, `ConnectionLost` or `Inactive`. */
  readonly pingStatus: string | undefined;
  /** The last ping (ISO-8601), when known. */
  readonly lastPing: string | undefined;
}

/**
 * A human note on an agent's connection: `SSM agent online, last ping ...` or
 * `SSM agent offline (connection lost) since ... (3 h ago)`. `now` adds the age.
 */
export function pingNote(
  status: string | undefined,
  lastPing: string | Date | undefined,
  now?: Date,
): string {
  const when = isoTime(lastPing);
  if (status === 'Online') return when ? `SSM agent online, last ping ${when}` : 'SSM agent online';
  const state =
    status === 'ConnectionLost'
      ? 'connection lost'
      : status === 'Inactive'
        ? 'inactive'
        : status
          ? `ping status ${status}`
          : 'ping status unknown';
  if (!when) return `SSM agent offline (${state}), last ping unknown`;
  const age = now ? ` (${formatAge(now.getTime() - Date.parse(when))} ago)` : '';
  return `SSM agent offline (${state}) since ${when}${age}`;
}

function formatAge(ms: number): string {
  const minutes = Math.max(0, Math.floor(ms / 60_000));
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours} h`;
  return `${Math.floor(hours / 24)} d`;
}

function isoTime(value: string | Date | undefined): string | undefined {
  if (value === undefined) return undefined;
  const date = value instanceof Date ? value : new Date(value);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}

/** One managed instance from a GetInventory page. */
interface ListedInstance {
  readonly instanceId: string;
  /** Its AWS:InstanceInformation result item, when GetInventory returned one. */
  readonly information: InventoryResultItem | undefined;
}

/** What reading one type of one instance gave. */
type TypeRead =
  | {
      readonly kind: 'collected';
      readonly captureTime: string | undefined;
      readonly schemaVersion: string | undefined;
      readonly entries: unknown[];
    }
  | { readonly kind: 'not-collected' }
  | { readonly kind: 'failed'; readonly problem: string };

interface InstanceRead {
  readonly snapshot: InstanceSnapshot;
  /** Problems this adapter added (unreadable types), as opposed to problems in the entries. */
  readonly failures: readonly string[];
}

/** Per-run bookkeeping, reset by each `snapshots()` call. */
interface RunState {
  closed: boolean;
  /** Keep the inventory as received on each snapshot (`InstanceSnapshot.raw`, for `driftwatch snapshot`). */
  readonly keepRaw: boolean;
}

function errorMessage(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.length > MAX_MESSAGE_LENGTH ? `${text.slice(0, MAX_MESSAGE_LENGTH)}...` : text;
}

/** `ThrottlingException after 8 attempts: Rate exceeded`: the error, and how often the client tried. */
function describeError(error: unknown): string {
  const name = awsErrorName(error) ?? 'Error';
  const attempts = (error as { $metadata?: { attempts?: unknown } })?.$metadata?.attempts;
  const tries = typeof attempts === 'number' && attempts > 1 ? ` after ${attempts} attempts` : '';
  return `${name}${tries}: ${errorMessage(error)}`;
}

function isGoneStatus(status: string | undefined): boolean {
  const lower = status?.toLowerCase();
  return lower === 'terminated' || lower === 'deregistered';
}

/**
 * Maps `items` through `task` with at most `limit` tasks started and not yet consumed, yielding in
 * input order. A task for item N + limit starts only once the consumer has taken result N, so a slow
 * consumer holds back the reads, and the source is pulled only as results are consumed.
 */
async function* mapOrdered<T, R>(
  items: AsyncIterable<T>,
  limit: number,
  task: (item: T) => Promise<R>,
): AsyncGenerator<R> {
  const iterator = items[Symbol.asyncIterator]();
  const window: Promise<R>[] = [];
  let exhausted = false;
  try {
    for (;;) {
      while (!exhausted && window.length < limit) {
        const next = await iterator.next();
        if (next.done) exhausted = true;
        else {
          const running = task(next.value);
          // Rejections surface when the result is awaited in order; do not report them as unhandled before.
          running.catch(() => undefined);
          window.push(running);
        }
      }
      const head = window.shift();
      if (!head) return;
      yield await head;
    }
  } finally {
    if (!exhausted) await iterator.return?.();
  }
}

/**
 * Managed instances' inventory read with the SSM API (ListInventoryEntries per instance and type).
 * One run at a time: `partialInstances`, `errors` and `lastPing()` describe the last `snapshots()` call.
 */
export class SsmInventorySource implements InventorySource {
  readonly description = 'SSM API';
  private readonly concurrency: number;
  private readonly types: readonly string[];
  private readonly now: () => Date;
  /** The account's inventory type names, read once (GetInventorySchema). */
  private schema: Promise<ReadonlySet<string> | undefined> | undefined;
  private pings = new Map<string, PingInfo>();
  private partial = 0;
  private errorList: string[] = [];

  constructor(
    private readonly ssm: SSMClient,
    options: SsmInventoryOptions = {},
  ) {
    const concurrency = options.concurrency ?? 4;
    if (!Number.isInteger(concurrency) || concurrency < 1) {
      throw new RangeError(`concurrency must be a positive integer, got ${concurrency}`);
    }
    this.concurrency = concurrency;
    const types = options.types ?? DEFAULT_SSM_TYPES;
    // AWS:Application is always read; AWS:InstanceInformation comes with the listing.
    this.types = [
      ...new Set([
        InventoryTypes.application,
        ...types.filter((t) => t !== InventoryTypes.instanceInformation),
      ]),
    ];
    this.now = options.now ?? (() => new Date());
  }

  /** Instances of the last run whose inventory could only partly be read (yielded with problems). */
  get partialInstances(): number {
    return this.partial;
  }

  /** The first few errors of the last run (`i-...: AWS:Application: ThrottlingException ...`), for the report. */
  get errors(): readonly string[] {
    return this.errorList;
  }

  /**
   * Agent connection per instance, from DescribeInstanceInformation in the last run (read before its
   * first snapshot is yielded): the instances of the filter, or every instance SSM describes. Stopped
   * instances are not described by SSM, so they are absent.
   */
  lastPing(): ReadonlyMap<string, PingInfo> {
    return this.pings;
  }

  /** `SSM agent offline (connection lost) since ...` when the instance's agent is not Online, else undefined. */
  offlineNote(instanceId: string): string | undefined {
    const ping = this.pings.get(instanceId);
    if (!ping || ping.pingStatus === 'Online') return undefined;
    return pingNote(ping.pingStatus, ping.lastPing, this.now());
  }

  /** The InventorySource note for the report: the offline agent, when it is. */
  instanceNote(instanceId: string): string | undefined {
    return this.offlineNote(instanceId);
  }

  async *snapshots(filter?: InventoryFilter): AsyncGenerator<InstanceSnapshot> {
    this.partial = 0;
    this.errorList = [];
    this.pings = new Map();
    const wanted = filter?.instanceIds;
    if (wanted && wanted.size === 0) return;

    const types = await this.readableTypes();
    this.pings = await this.readPings(wanted);
    const run: RunState = { closed: false, keepRaw: filter?.keepRaw === true };
    try {
      const reads = mapOrdered(this.listInstances(wanted), this.concurrency, (listed) =>
        this.readInstance(listed, types, run),
      );
      for await (const read of reads) {
        if (read.failures.length > 0) {
          this.partial++;
          for (const failure of read.failures) this.recordError(`${read.snapshot.instanceId}: ${failure}`);
        }
        yield read.snapshot;
      }
    } finally {
      run.closed = true;
    }
  }

  private recordError(message: string): void {
    if (this.errorList.length < MAX_ERRORS) this.errorList.push(message);
  }

  /** The configured types the account has a schema for (AWS:Application always). All, when the schema is unreadable. */
  private async readableTypes(): Promise<readonly string[]> {
    this.schema ??= this.readSchema();
    const known = await this.schema;
    if (!known) {
      this.schema = undefined; // ask again next run
      return this.types;
    }
    return this.types.filter((t) => t === InventoryTypes.application || known.has(t));
  }

  private async readSchema(): Promise<ReadonlySet<string> | undefined> {
    const names = new Set<string>();
    let token: string | undefined;
    try {
      do {
        const page = await this.ssm.send(
          new GetInventorySchemaCommand({ MaxResults: SCHEMA_MAX_RESULTS, NextToken: token }),
        );
        for (const schema of page.Schemas ?? []) if (schema.TypeName) names.add(schema.TypeName);
        token = page.NextToken || undefined;
      } while (token);
    } catch (error) {
      // Not fatal: every configured type is asked for, and a type the account lacks reads as not collected.
      this.recordError(`GetInventorySchema: ${describeError(error)}; reading every configured type`);
      return undefined;
    }
    return names;
  }

  /**
   * PingStatus and last ping from DescribeInstanceInformation, filtered by instance id when there are
   * few enough. Not fatal: without it the ping notes are missing, the inventory is the same.
   */
  private async readPings(wanted: ReadonlySet<string> | undefined): Promise<Map<string, PingInfo>> {
    const pings = new Map<string, PingInfo>();
    const byId = wanted && wanted.size <= SSM_LIMITS.describeMaxResults ? [...wanted] : undefined;
    const list = async (ids: string[] | undefined) => {
      let token: string | undefined;
      do {
        const input: DescribeInstanceInformationCommandInput = {
          MaxResults: SSM_LIMITS.describeMaxResults,
          NextToken: token,
          ...(ids ? { Filters: [{ Key: 'InstanceIds', Values: ids }] } : {}),
        };
        const page = await this.ssm.send(new DescribeInstanceInformationCommand(input));
        for (const info of page.InstanceInformationList ?? []) {
          if (!info.InstanceId || (wanted && !wanted.has(info.InstanceId))) continue;
          pings.set(info.InstanceId, {
            pingStatus: info.PingStatus,
            lastPing: isoTime(info.LastPingDateTime),
          });
        }
        token = page.NextToken || undefined;
      } while (token);
    };
    try {
      try {
        await list(byId);
      } catch (error) {
        // An id SSM does not manage can make the filtered call fail: list them all instead.
        if (!byId || awsErrorName(error) !== 'InvalidInstanceId') throw error;
        await list(undefined);
      }
    } catch (error) {
      this.recordError(`DescribeInstanceInformation: ${describeError(error)}; ping status unknown`);
    }
    return pings;
  }

  /** The managed instances, page by page, without terminated stubs, each once. */
  private async *listInstances(wanted: ReadonlySet<string> | undefined): AsyncGenerator<ListedInstance> {
    const filters =
      wanted && wanted.size <= SSM_LIMITS.filterValues
        ? [{ Key: 'AWS:InstanceInformation.InstanceId', Values: [...wanted], Type: 'Equal' as const }]
        : undefined;
    const seen = new Set<string>();
    let token: string | undefined;
    do {
      const input: GetInventoryCommandInput = {
        MaxResults: SSM_LIMITS.getInventoryMaxResults,
        ResultAttributes: [{ TypeName: InventoryTypes.instanceInformation }],
        NextToken: token,
        ...(filters ? { Filters: filters } : {}),
      };
      let page: GetInventoryCommandOutput;
      try {
        page = await this.ssm.send(new GetInventoryCommand(input));
      } catch (error) {
        throw listingError(this.description, error);
      }
      for (const entity of page.Entities ?? []) {
        const instanceId = entity.Id;
        if (!instanceId || seen.has(instanceId) || (wanted && !wanted.has(instanceId))) continue;
        const information = entity.Data?.[InventoryTypes.instanceInformation];
        if (isGoneStatus(information?.Content?.[0]?.InstanceStatus)) continue;
        seen.add(instanceId);
        yield { instanceId, information };
      }
      const next = page.NextToken || undefined;
      if (next !== undefined && next === token) {
        throw new InventorySourceError(
          this.description,
          'GetInventory',
          false,
          'GetInventory repeated its NextToken',
        );
      }
      token = next;
    } while (token);
  }

  private async readInstance(
    listed: ListedInstance,
    types: readonly string[],
    run: RunState,
  ): Promise<InstanceRead> {
    const builder = new SnapshotBuilder(listed.instanceId, { keepRaw: run.keepRaw });
    const info = listed.information;
    if (info) {
      builder.addType(
        InventoryTypes.instanceInformation,
        info.CaptureTime,
        info.Content ?? [],
        info.SchemaVersion,
      );
    }
    const platformType = info?.Content?.[0]?.PlatformType;
    const failures: string[] = [];
    for (const typeName of types) {
      if (run.closed) break;
      if (WINDOWS_ONLY_TYPES.has(typeName) && platformType && platformType.toLowerCase() !== 'windows')
        continue;
      const read = await this.readType(listed.instanceId, typeName, run);
      if (read.kind === 'collected')
        builder.addType(typeName, read.captureTime, read.entries, read.schemaVersion);
      else if (read.kind === 'failed') {
        builder.addProblem(read.problem);
        failures.push(read.problem);
      }
    }
    return { snapshot: builder.build(), failures };
  }

  /**
   * All entries of one type of one instance (a hand-written NextToken loop: there is no SDK paginator).
   * A type is added whole or not at all: a page that fails leaves the type out, with a problem. When a
   * new inventory lands between two pages (the capture time changes), the type is read again, once.
   */
  private async readType(instanceId: string, typeName: string, run: RunState): Promise<TypeRead> {
    const maxPages = Math.ceil(MAX_ENTRIES_PER_TYPE / SSM_LIMITS.listEntriesMaxResults) + 1;
    let changed = '';
    for (let attempt = 1; attempt <= 2; attempt++) {
      const entries: unknown[] = [];
      let captureTime: string | undefined;
      let schemaVersion: string | undefined;
      let token: string | undefined;
      let pages = 0;
      changed = '';
      try {
        do {
          if (run.closed)
            return { kind: 'failed', problem: `${typeName}: not read (the iteration was stopped)` };
          const page = await this.ssm.send(
            new ListInventoryEntriesCommand({
              InstanceId: instanceId,
              TypeName: typeName,
              MaxResults: SSM_LIMITS.listEntriesMaxResults,
              NextToken: token,
            }),
          );
          pages++;
          if (pages === 1) {
            captureTime = page.CaptureTime;
            schemaVersion = page.SchemaVersion;
          } else if (page.CaptureTime !== captureTime) {
            changed = `capture time ${captureTime} then ${page.CaptureTime}`;
            break;
          }
          for (const entry of page.Entries ?? []) entries.push(entry);
          const next = page.NextToken || undefined;
          if (next !== undefined && next === token) {
            return { kind: 'failed', problem: `${typeName}: NextToken did not advance after ${pages} pages` };
          }
          token = next;
        } while (token && pages < maxPages);
      } catch (error) {
        if (awsErrorName(error) === 'InvalidTypeNameException') return { kind: 'not-collected' };
        return { kind: 'failed', problem: `${typeName}: ${describeError(error)}` };
      }
      if (changed) continue;
      if (token) {
        return {
          kind: 'failed',
          problem: `${typeName}: more than ${MAX_ENTRIES_PER_TYPE} entries; not read`,
        };
      }
      // No entries and no capture time: the instance never sent this type (not the same as an empty list).
      if (entries.length === 0 && captureTime === undefined) return { kind: 'not-collected' };
      return { kind: 'collected', captureTime, schemaVersion, entries };
    }
    return { kind: 'failed', problem: `${typeName}: the inventory changed while it was read (${changed})` };
  }
}

function listingError(source: string, error: unknown): InventorySourceError {
  const name = awsErrorName(error);
  const denied = name !== undefined && ACCESS_DENIED.has(name);
  const message = denied
    ? `not allowed to list managed instances (ssm:GetInventory): ${describeError(error)}`
    : `could not list managed instances (GetInventory): ${describeError(error)}`;
  return new InventorySourceError(source, 'GetInventory', denied, message, { cause: error });
}
