/**
 * Inventory from a Resource Data Sync: the S3 objects SSM keeps writing for every managed instance,
 * one object per instance and inventory type:
 * `<prefix><Type>/accountid=<acct>/region=<region>/resourcetype=ManagedInstanceInventory/<instance-id>.json`.
 *
 * Calls: one delimited listing of the prefix (the type folders), one paginated listing per type folder
 * (1,000 keys a call), then exactly one GetObject per instance and type. Instances are read with a
 * sliding window of `concurrency` instances in flight and yielded in instance-id order, so memory
 * follows the window (plus the key list), never the fleet's inventory.
 *
 * The objects are untrusted: an object over the size limit is not downloaded, a malformed object, an
 * object deleted between listing and reading, or an S3 error after the SDK's retries each become a
 * problem of that instance (it is yielded as partial, never dropped and never clean). Only a failed
 * listing stops the read: without it nothing can be said about any instance.
 *
 * Files of deleted instances stay in a sync: they are yielded too, and the audit reconciles with EC2.
 */
import {
  GetObjectCommand,
  ListObjectsV2Command,
  type ListObjectsV2CommandOutput,
  type S3Client,
} from '@aws-sdk/client-s3';
import { type InstanceSnapshot, SnapshotBuilder } from '../domain/inventory.ts';
import { InputError } from '../errors.ts';
import type { InventoryFilter, InventorySource } from '../ports.ts';
import { awsErrorName } from './aws-clients.ts';
import { MAX_INVENTORY_FILE_BYTES, parseSyncObject } from './files.ts';

const DEFAULT_CONCURRENCY = 16;
const TYPE_NAME = /^(?:AWS|Custom):[A-Za-z0-9_.:-]+$/;
const SYNC_KEY =
  /^((?:AWS|Custom):[A-Za-z0-9_.:-]+)\/accountid=([^/]+)\/region=([^/]+)\/resourcetype=ManagedInstanceInventory\/((?:mi|i)-[0-9a-f]{8,17})\.json$/;

/** Where one sync object sits: its inventory type, account, region and instance. */
export interface SyncKey {
  readonly typeName: string;
  readonly accountId: string;
  readonly region: string;
  readonly instanceId: string;
}

/**
 * Reads a Resource Data Sync object key (already URL-decoded: S3 event notifications encode keys,
 * `AWS%3AApplication/...`) below `prefix`. Undefined for any other key: another prefix, a folder
 * marker, a file that is not `<i-|mi- id>.json`.
 */
export function parseSyncKey(key: string, prefix: string): SyncKey | undefined {
  if (!key.startsWith(prefix)) return undefined;
  const match = SYNC_KEY.exec(key.slice(prefix.length));
  if (!match) return undefined;
  const [, typeName, accountId, region, instanceId] = match as unknown as [
    string,
    string,
    string,
    string,
    string,
  ];
  return { typeName, accountId, region, instanceId };
}

/** The sync could not be listed (no such bucket, access denied, throttled past the retries). */
export class SyncedInventoryError extends Error {
  override readonly name = 'SyncedInventoryError';
}

export interface SyncedInventoryOptions {
  readonly bucket: string;
  /** The sync's prefix: '' or ending in '/' (a missing trailing '/' is added). */
  readonly prefix: string;
  /** Instances read at the same time (one GET each in flight). @default 16 */
  readonly concurrency?: number;
  /** A larger object is not downloaded; its instance is partial. @default MAX_INVENTORY_FILE_BYTES (256 MiB) */
  readonly maxObjectBytes?: number;
}

interface SyncObjectRef {
  readonly typeName: string;
  readonly key: string;
  /** Size from the listing; the GET's ContentLength is checked again (the object may have changed). */
  readonly size: number | undefined;
  /** Addressed without a listing: a missing object means the instance never sent this type. */
  readonly guessed?: boolean;
}

interface InstanceObjects {
  readonly instanceId: string;
  readonly objects: SyncObjectRef[];
}

function describeError(error: unknown): string {
  const name = awsErrorName(error) ?? 'Error';
  const message = error instanceof Error ? error.message : String(error);
  return message && message !== name ? `${name}: ${message}` : name;
}

function isNoSuchKey(error: unknown): boolean {
  return awsErrorName(error) === 'NoSuchKey';
}

/** At most this many located instances are addressed directly; more are cheaper to list. */
const MAX_LOCATED = 20;

/** The filter's instances with their sync location, when every one of them has one (and they are few). */
function locatedInstances(
  filter: InventoryFilter | undefined,
): Map<string, { accountId: string; region: string }> | undefined {
  const ids = filter?.instanceIds;
  const locations = filter?.locations;
  if (!ids || !locations || ids.size === 0 || ids.size > MAX_LOCATED) return undefined;
  const out = new Map<string, { accountId: string; region: string }>();
  for (const id of ids) {
    const where = locations.get(id);
    if (!where || !SEGMENT.test(where.accountId) || !SEGMENT.test(where.region)) return undefined;
    out.set(id, where);
  }
  return out;
}

const SEGMENT = /^[A-Za-z0-9-]{1,64}$/;

export class SyncedInventorySource implements InventorySource {
  readonly description: string;
  private readonly bucket: string;
  private readonly prefix: string;
  private readonly concurrency: number;
  private readonly maxObjectBytes: number;

  constructor(
    private readonly s3: S3Client,
    options: SyncedInventoryOptions,
  ) {
    this.bucket = options.bucket;
    this.prefix =
      options.prefix === '' || options.prefix.endsWith('/') ? options.prefix : `${options.prefix}/`;
    this.concurrency = Math.max(1, Math.floor(options.concurrency ?? DEFAULT_CONCURRENCY));
    this.maxObjectBytes = options.maxObjectBytes ?? MAX_INVENTORY_FILE_BYTES;
    this.description = `s3://${this.bucket}/${this.prefix}`;
  }

  async *snapshots(filter?: InventoryFilter): AsyncGenerator<InstanceSnapshot> {
    const instances = await this.listInstances(filter);
    const abort = new AbortController();
    const window: Promise<InstanceSnapshot>[] = [];
    let next = 0;
    const fill = () => {
      while (window.length < this.concurrency && next < instances.length) {
        window.push(this.readInstance(instances[next++] as InstanceObjects, abort.signal, filter?.keepRaw));
      }
    };
    try {
      fill();
      while (window.length > 0) {
        const snapshot = await (window.shift() as Promise<InstanceSnapshot>);
        fill();
        yield snapshot;
      }
    } finally {
      // The consumer stopped early (or failed): cancel the GETs still in flight.
      if (window.length > 0) abort.abort();
    }
  }

  /** The instances of the sync (in id order) with their objects, from the listings alone. */
  private async listInstances(filter: InventoryFilter | undefined): Promise<InstanceObjects[]> {
    const types = await this.listTypes();
    const located = locatedInstances(filter);
    if (located) {
      // A few instances whose account and region are known (an S3 event named the object): address
      // their objects directly instead of listing the whole sync — one list call, one GET per type.
      return [...located]
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([instanceId, where]) => ({
          instanceId,
          objects: types.map((typeName) => ({
            typeName,
            key: `${this.prefix}${typeName}/accountid=${where.accountId}/region=${where.region}/resourcetype=ManagedInstanceInventory/${instanceId}.json`,
            size: undefined,
            guessed: true,
          })),
        }));
    }
    const byInstance = new Map<string, InstanceObjects>();
    for (const typeName of types) {
      await this.listPages(`${this.prefix}${typeName}/`, undefined, (page) => {
        for (const object of page.Contents ?? []) {
          const parsed = object.Key === undefined ? undefined : parseSyncKey(object.Key, this.prefix);
          if (!parsed || parsed.typeName !== typeName) continue;
          if (filter?.instanceIds && !filter.instanceIds.has(parsed.instanceId)) continue;
          let record = byInstance.get(parsed.instanceId);
          if (!record) {
            record = { instanceId: parsed.instanceId, objects: [] };
            byInstance.set(parsed.instanceId, record);
          }
          record.objects.push({ typeName, key: object.Key as string, size: object.Size });
        }
      });
    }
    return [...byInstance.values()].sort((a, b) => (a.instanceId < b.instanceId ? -1 : 1));
  }

  /** The inventory type folders below the prefix (`AWS:Application`, `Custom:DriftwatchFiles`, ...). */
  private async listTypes(): Promise<string[]> {
    const types: string[] = [];
    await this.listPages(this.prefix, '/', (page) => {
      for (const common of page.CommonPrefixes ?? []) {
        const name = common.Prefix?.slice(this.prefix.length, -1);
        if (name !== undefined && TYPE_NAME.test(name)) types.push(name);
      }
    });
    return types.sort();
  }

  private async listPages(
    prefix: string,
    delimiter: string | undefined,
    onPage: (page: ListObjectsV2CommandOutput) => void,
  ): Promise<void> {
    let token: string | undefined;
    do {
      let page: ListObjectsV2CommandOutput;
      try {
        page = await this.s3.send(
          new ListObjectsV2Command({
            Bucket: this.bucket,
            Prefix: prefix,
            ...(delimiter ? { Delimiter: delimiter } : {}),
            ...(token ? { ContinuationToken: token } : {}),
          }),
        );
      } catch (error) {
        throw new SyncedInventoryError(
          `s3://${this.bucket}/${prefix}: the Resource Data Sync cannot be listed: ${describeError(error)}`,
          { cause: error },
        );
      }
      onPage(page);
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  /** Reads every object of one instance, one after the other. Never rejects: failures become problems. */
  private async readInstance(
    record: InstanceObjects,
    signal: AbortSignal,
    keepRaw: boolean | undefined,
  ): Promise<InstanceSnapshot> {
    const builder = new SnapshotBuilder(record.instanceId, { keepRaw });
    for (const object of record.objects) {
      if (signal.aborted) break; // the consumer is gone: this snapshot will not be yielded
      try {
        await this.readObject(object, builder, signal);
      } catch (error) {
        builder.addProblem(`${object.typeName}: ${describeError(error)}`);
      }
    }
    return builder.build();
  }

  private async readObject(
    object: SyncObjectRef,
    builder: SnapshotBuilder,
    signal: AbortSignal,
  ): Promise<void> {
    const uri = `s3://${this.bucket}/${object.key}`;
    const { typeName } = object;
    if (object.size !== undefined && object.size > this.maxObjectBytes) {
      builder.addProblem(
        `${typeName}: ${uri} is ${object.size} bytes, over the ${this.maxObjectBytes}-byte limit`,
      );
      return;
    }
    let text: string;
    try {
      const response = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: object.key }), {
        abortSignal: signal,
      });
      const length = response.ContentLength;
      if (length !== undefined && length > this.maxObjectBytes) {
        // Replaced by a larger object since the listing: close the connection without reading it.
        (response.Body as { destroy?: () => void } | undefined)?.destroy?.();
        builder.addProblem(
          `${typeName}: ${uri} is ${length} bytes, over the ${this.maxObjectBytes}-byte limit`,
        );
        return;
      }
      text = (await response.Body?.transformToString('utf-8')) ?? '';
    } catch (error) {
      if (isNoSuchKey(error) && object.guessed) {
        return; // this instance never sent this inventory type
      }
      if (isNoSuchKey(error)) {
        builder.addProblem(`${typeName}: ${uri} was deleted between listing and reading`);
      } else {
        builder.addProblem(`${typeName}: ${uri} could not be read: ${describeError(error)}`);
      }
      return;
    }
    if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    let parsed: ReturnType<typeof parseSyncObject>;
    try {
      parsed = parseSyncObject(uri, text);
    } catch (error) {
      if (!(error instanceof InputError)) throw error;
      builder.addProblem(`${typeName}: ${error.message}`);
      return;
    }
    builder.addType(typeName, parsed.captureTime, parsed.items);
  }
}
