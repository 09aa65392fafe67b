/**
 * Local files users already have:
 * - a Resource Data Sync tree copied down with `aws s3 sync`
 *   (`AWS:<Type>/accountid=<acct>/region=<region>/resourcetype=ManagedInstanceInventory/<id>.json`,
 *   newline-delimited JSON, or a JSON array);
 * - `aws ssm list-inventory-entries` responses (several pages and types of one instance merged);
 * - driftwatch snapshot pages (`{"Entities":[{"Id","Data":{"AWS:Application":{...}}}]}`);
 * - `aws ec2 describe-instances` output;
 * - golden manifests (`<ami-id>.json`) and policies (YAML or JSON).
 *
 * Memory follows one file: a sync tree is read instance by instance and snapshot pages page by page.
 */
import type { Dirent } from 'node:fs';
import { readFileSync, statSync } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { z } from 'zod';
import type { FleetInstance, ManifestLookup } from '../domain/diff.ts';
import { type InstanceSnapshot, isGone, SnapshotBuilder } from '../domain/inventory.ts';
import { AMI_ID, GoldenManifestSchema, indexManifest, type ManifestIndex } from '../domain/manifest.ts';
import { type CompiledPolicy, compilePolicy, PolicySchema } from '../domain/policy.ts';
import { describeJsonError, InputError, inputErrorFromZod } from '../errors.ts';
import type { AuditScope, FleetSource, InventoryFilter, InventorySource, ManifestStore } from '../ports.ts';
import { inScope } from './memory.ts';

/** A file larger than this is not read (an instance's inventory is a few MiB even with 20,000 packages). */
export const MAX_INVENTORY_FILE_BYTES = 256 * 1024 * 1024;
const MAX_CONFIG_FILE_BYTES = 16 * 1024 * 1024;
const TYPE_DIR = /^(AWS|Custom):[A-Za-z0-9_.:-]+$/;
const INSTANCE_FILE = /^(mi|i)-[0-9a-f]{8,17}\.json$/;

/**
 * Reads a whole file as UTF-8 after checking its size. Synchronous on purpose: the audit is
 * CPU-bound, files are read one at a time, and readFileSync's UTF-8 path is the fastest Node has.
 */
async function readText(path: string, limit: number): Promise<string> {
  let size: number;
  try {
    const info = statSync(path);
    if (info.isDirectory()) throw new InputError(path, undefined, 'is a directory, expected a file');
    size = info.size;
  } catch (error) {
    if (error instanceof InputError) throw error;
    throw new InputError(path, undefined, describeFsError(error), { cause: error });
  }
  if (size > limit) throw new InputError(path, undefined, `is ${size} bytes, over the ${limit}-byte limit`);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new InputError(path, undefined, describeFsError(error), { cause: error });
  }
  return decodeText(path, text);
}

/** UTF-8, with or without a byte-order mark (Windows editors write one); UTF-16 is refused by name. */
function decodeText(path: string, text: string): string {
  const first = text.charCodeAt(0);
  // A UTF-16 byte-order mark decoded as UTF-8 shows as U+FFFD pairs; a NUL second byte is UTF-16 text.
  if ((first === 0xfffd && text.charCodeAt(1) === 0xfffd) || (text.length > 1 && text.charCodeAt(1) === 0)) {
    throw new InputError(
      path,
      undefined,
      "is UTF-16 text (Windows PowerShell's > writes it); save it as UTF-8, e.g. | Out-File -Encoding utf8",
    );
  }
  return first === 0xfeff ? text.slice(1) : text;
}

function describeFsError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException)?.code;
  if (code === 'ENOENT') return 'does not exist';
  if (code === 'EACCES') return 'is not readable (permission denied)';
  if (code === 'EISDIR') return 'is a directory, expected a file';
  return error instanceof Error ? error.message : String(error);
}

function parseJson(path: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new InputError(path, undefined, describeJsonError(text, error), { cause: error });
  }
}

export async function readJsonFile(path: string, limit = MAX_CONFIG_FILE_BYTES): Promise<unknown> {
  return parseJson(path, await readText(path, limit));
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Case-insensitive lookup of one attribute of an untrusted object. */
function attr(entry: Record<string, unknown>, lowerName: string): unknown {
  for (const key of Object.keys(entry)) if (key.toLowerCase() === lowerName) return entry[key];
  return undefined;
}

function numericAware(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true });
}

// ---------------------------------------------------------------------------------------------
// Inventory

interface SyncInstanceFiles {
  readonly instanceId: string;
  readonly files: { readonly typeName: string; readonly path: string }[];
}

/**
 * Parses one Resource Data Sync object: newline-delimited JSON (one inventory item per line), or a
 * JSON array. Returns the items and the capture time of the first item that has one.
 */
export function parseSyncObject(
  path: string,
  text: string,
): { items: unknown[]; captureTime: string | undefined } {
  const trimmed = text.trimStart();
  let items: unknown[];
  if (trimmed.startsWith('[')) {
    const parsed = parseJson(path, text);
    if (!Array.isArray(parsed))
      throw new InputError(path, undefined, 'expected a JSON array of inventory items');
    items = parsed;
  } else {
    items = [];
    let start = 0;
    let line = 0;
    while (start < text.length) {
      let end = text.indexOf('\n', start);
      if (end === -1) end = text.length;
      line++;
      const chunk = text.slice(start, end);
      start = end + 1;
      if (chunk.trim() === '') continue;
      try {
        items.push(JSON.parse(chunk));
      } catch (error) {
        throw new InputError(path, undefined, describeJsonError(chunk, error, { line }), { cause: error });
      }
    }
  }
  // The first item that carries one: a malformed first line must not hide the capture time.
  for (const item of items) {
    const time = isObject(item) ? attr(item, 'capturetime') : undefined;
    if (typeof time === 'string') return { items, captureTime: time };
  }
  return { items, captureTime: undefined };
}

async function listDir(path: string): Promise<Dirent[]> {
  try {
    return await readdir(path, { withFileTypes: true });
  } catch (error) {
    throw new InputError(path, undefined, describeFsError(error), { cause: error });
  }
}

/** Finds `<instance-id>.json` files below one type folder (accountid=/region=/resourcetype= levels). */
async function collectSyncFiles(
  dir: string,
  typeName: string,
  into: Map<string, SyncInstanceFiles>,
  depth = 0,
) {
  for (const entry of await listDir(dir)) {
    const path = join(dir, entry.name);
    if (entry.isDirectory() && depth < 4) await collectSyncFiles(path, typeName, into, depth + 1);
    else if (entry.isFile() && INSTANCE_FILE.test(entry.name)) {
      const instanceId = entry.name.slice(0, -'.json'.length);
      let record = into.get(instanceId);
      if (!record) {
        record = { instanceId, files: [] };
        into.set(instanceId, record);
      }
      record.files.push({ typeName, path });
    }
  }
}

type InventoryShape = 'snapshot' | 'entries';

function shapeOf(path: string, doc: unknown): InventoryShape {
  if (isObject(doc) && Array.isArray(doc.Entities)) return 'snapshot';
  if (isObject(doc) && typeof doc.InstanceId === 'string' && Array.isArray(doc.Entries)) return 'entries';
  if (isObject(doc) && 'Entities' in doc) {
    throw new InputError(
      path,
      'Entities',
      'expected an array of {"Id","Data"} entities (a driftwatch snapshot)',
    );
  }
  if (isObject(doc) && ('Entries' in doc || 'InstanceId' in doc)) {
    const field = typeof doc.InstanceId === 'string' ? 'Entries' : 'InstanceId';
    throw new InputError(
      path,
      field,
      `expected ${field === 'Entries' ? 'an array of inventory entries' : 'an instance id'} (an \`aws ssm list-inventory-entries\` response)`,
    );
  }
  throw new InputError(
    path,
    undefined,
    'is not an inventory file: expected a driftwatch snapshot ({"Entities":[...]}) or an ' +
      '`aws ssm list-inventory-entries` response ({"InstanceId","TypeName","Entries":[...]})',
  );
}

export interface FileInventoryOptions {
  /** Called with (done, total) as instances are read; total is undefined when not known up front. */
  readonly onProgress?: (done: number, total: number | undefined) => void;
}

/**
 * Inventory from local files: a Resource Data Sync tree, `list-inventory-entries` responses, or
 * driftwatch snapshot pages (a file or a directory of them).
 */
export class FileInventorySource implements InventorySource {
  readonly description: string;
  constructor(
    private readonly path: string,
    private readonly options: FileInventoryOptions = {},
  ) {
    this.description = path;
  }

  async *snapshots(filter?: InventoryFilter): AsyncGenerator<InstanceSnapshot> {
    let info: Awaited<ReturnType<typeof stat>>;
    try {
      info = await stat(this.path);
    } catch (error) {
      throw new InputError(this.path, undefined, describeFsError(error), { cause: error });
    }
    if (info.isFile()) {
      yield* keep(this.fromDocuments([this.path]), filter);
      return;
    }
    const entries = await listDir(this.path);
    const typeDirs = entries.filter((e) => e.isDirectory() && TYPE_DIR.test(e.name));
    if (typeDirs.length > 0) {
      yield* this.fromSyncTree(
        typeDirs.map((e) => e.name),
        filter,
      );
      return;
    }
    const files = entries
      .filter((e) => e.isFile() && e.name.endsWith('.json'))
      .map((e) => e.name)
      .sort(numericAware)
      .map((name) => join(this.path, name));
    if (files.length === 0) {
      throw new InputError(
        this.path,
        undefined,
        'holds no inventory: expected a Resource Data Sync tree (AWS:Application/accountid=.../*.json), ' +
          'list-inventory-entries responses or snapshot pages (*.json)',
      );
    }
    yield* keep(this.fromDocuments(files), filter);
  }

  /** The snapshot of one instance, or undefined when the inventory does not hold it. */
  async find(instanceId: string): Promise<InstanceSnapshot | undefined> {
    for await (const snapshot of this.snapshots()) if (snapshot.instanceId === instanceId) return snapshot;
    return undefined;
  }

  private async *fromSyncTree(
    typeNames: string[],
    filter?: InventoryFilter,
  ): AsyncGenerator<InstanceSnapshot> {
    const byInstance = new Map<string, SyncInstanceFiles>();
    for (const typeName of typeNames.sort()) {
      await collectSyncFiles(join(this.path, typeName), typeName, byInstance);
    }
    const instances = [...byInstance.values()]
      .filter((record) => !filter?.instanceIds || filter.instanceIds.has(record.instanceId))
      .sort((a, b) => (a.instanceId < b.instanceId ? -1 : 1));
    const total = instances.length;
    for (let done = 0; done < total; ) {
      const record = instances[done] as SyncInstanceFiles;
      const builder = new SnapshotBuilder(record.instanceId, { keepRaw: filter?.keepRaw });
      for (const file of record.files) {
        let text: string;
        try {
          text = await readText(file.path, MAX_INVENTORY_FILE_BYTES);
        } catch (error) {
          if (!(error instanceof InputError && /over the .*limit/.test(error.problem))) throw error;
          builder.addProblem(`${file.typeName}: ${error.problem}`);
          continue;
        }
        const { items, captureTime } = parseSyncObject(file.path, text);
        builder.addType(file.typeName, captureTime, items);
      }
      done++;
      this.options.onProgress?.(done, total);
      yield builder.build();
    }
  }

  private async *fromDocuments(paths: string[]): AsyncGenerator<InstanceSnapshot> {
    const entries = new Map<string, SnapshotBuilder>();
    const seen = new Map<string, string>();
    let done = 0;
    for (const path of paths) {
      const doc = parseJson(path, await readText(path, MAX_INVENTORY_FILE_BYTES));
      if (shapeOf(path, doc) === 'entries') {
        addEntriesDocument(path, doc as Record<string, unknown>, entries);
        continue;
      }
      const entities = (doc as { Entities: unknown[] }).Entities;
      for (let i = 0; i < entities.length; i++) {
        const snapshot = snapshotFromEntity(path, i, entities[i]);
        if (!snapshot) continue;
        const first = seen.get(snapshot.instanceId);
        if (first !== undefined) {
          throw new InputError(
            path,
            `Entities[${i}].Id`,
            `instance ${snapshot.instanceId} also appears in ${first}`,
          );
        }
        seen.set(snapshot.instanceId, path);
        done++;
        this.options.onProgress?.(done, undefined);
        yield snapshot;
      }
    }
    for (const [instanceId, builder] of [...entries].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
      if (seen.has(instanceId)) {
        throw new InputError(
          this.path,
          undefined,
          `instance ${instanceId} appears both in snapshot pages and list-inventory-entries files`,
        );
      }
      done++;
      this.options.onProgress?.(done, undefined);
      yield builder.build();
    }
  }
}

/** Drops the snapshots the filter does not ask for (documents must be parsed to know what they hold). */
async function* keep(
  snapshots: AsyncIterable<InstanceSnapshot>,
  filter: InventoryFilter | undefined,
): AsyncGenerator<InstanceSnapshot> {
  for await (const snapshot of snapshots) {
    if (!filter?.instanceIds || filter.instanceIds.has(snapshot.instanceId)) yield snapshot;
  }
}

function snapshotFromEntity(path: string, index: number, entity: unknown): InstanceSnapshot | undefined {
  const where = `Entities[${index}]`;
  if (!isObject(entity)) throw new InputError(path, where, 'expected an object with Id and Data');
  if (typeof entity.Id !== 'string' || entity.Id === '')
    throw new InputError(path, `${where}.Id`, 'expected an instance id');
  const data = entity.Data ?? {};
  if (!isObject(data)) throw new InputError(path, `${where}.Data`, 'expected an object of inventory types');
  const builder = new SnapshotBuilder(entity.Id);
  for (const typeName of Object.keys(data)) {
    const item = data[typeName];
    if (!isObject(item))
      throw new InputError(path, `${where}.Data.${typeName}`, 'expected an inventory result item');
    const content = item.Content ?? [];
    if (!Array.isArray(content))
      throw new InputError(path, `${where}.Data.${typeName}.Content`, 'expected an array');
    const captureTime = typeof item.CaptureTime === 'string' ? item.CaptureTime : undefined;
    builder.addType(typeof item.TypeName === 'string' ? item.TypeName : typeName, captureTime, content);
  }
  const snapshot = builder.build();
  return isGone(snapshot) ? undefined : snapshot;
}

function addEntriesDocument(
  path: string,
  doc: Record<string, unknown>,
  into: Map<string, SnapshotBuilder>,
): void {
  const instanceId = doc.InstanceId as string;
  if (typeof doc.TypeName !== 'string' || !doc.TypeName)
    throw new InputError(path, 'TypeName', 'expected an inventory type name');
  let builder = into.get(instanceId);
  if (!builder) {
    builder = new SnapshotBuilder(instanceId);
    into.set(instanceId, builder);
  }
  const captureTime = typeof doc.CaptureTime === 'string' ? doc.CaptureTime : undefined;
  builder.addType(doc.TypeName, captureTime, doc.Entries as unknown[]);
}

// ---------------------------------------------------------------------------------------------
// Fleet: `aws ec2 describe-instances`

const TagSchema = z.object({ Key: z.string(), Value: z.string() });
const DescribeInstancesSchema = z.object({
  Reservations: z.array(
    z.object({
      Instances: z.array(
        z.object({
          InstanceId: z
            .string()
            .regex(/^i-[0-9a-f]{8,17}$/, 'expected an instance id such as i-0123456789abcdef0'),
          ImageId: z.string().optional(),
          LaunchTime: z.string().optional(),
          State: z.object({ Name: z.string() }).optional(),
          Tags: z.array(TagSchema).optional(),
        }),
      ),
    }),
  ),
});

const ASG_TAG = 'aws:autoscaling:groupName';

/** Running instances from an `aws ec2 describe-instances` response. */
export class FileFleetSource implements FleetSource {
  readonly description: string;
  constructor(private readonly path: string) {
    this.description = path;
  }

  async instances(scope?: AuditScope): Promise<FleetInstance[]> {
    const raw = await readJsonFile(this.path, MAX_INVENTORY_FILE_BYTES);
    const parsed = DescribeInstancesSchema.safeParse(raw);
    if (!parsed.success) throw inputErrorFromZod(this.path, parsed.error, 3, raw);
    const out: FleetInstance[] = [];
    const seen = new Set<string>();
    for (const reservation of parsed.data.Reservations) {
      for (const instance of reservation.Instances) {
        if ((instance.State?.Name ?? 'running') !== 'running' || seen.has(instance.InstanceId)) continue;
        seen.add(instance.InstanceId);
        out.push({
          instanceId: instance.InstanceId,
          amiId: instance.ImageId,
          asgName: instance.Tags?.find((t) => t.Key === ASG_TAG)?.Value ?? null,
          launchTime: instance.LaunchTime,
        });
      }
    }
    return out.filter((instance) => inScope(instance, scope));
  }

  async groupAmis(): Promise<ReadonlyMap<string, string>> {
    return new Map();
  }
}

// ---------------------------------------------------------------------------------------------
// Manifests

export async function loadManifestFile(path: string): Promise<ManifestIndex> {
  const raw = await readJsonFile(path);
  const parsed = GoldenManifestSchema.safeParse(raw);
  if (!parsed.success) throw inputErrorFromZod(path, parsed.error, 3, raw);
  return indexManifest(parsed.data);
}

/**
 * Golden manifests from a file (one manifest) or a directory of `<ami-id>.json` files. All are
 * validated up front: a broken manifest is a bad input, reported before any instance is audited.
 */
export class FileManifestStore implements ManifestStore {
  readonly description: string;
  private constructor(
    path: string,
    private readonly byAmi: ReadonlyMap<string, ManifestIndex>,
    private readonly single: boolean,
  ) {
    this.description = path;
  }

  static async open(path: string): Promise<FileManifestStore> {
    let info: Awaited<ReturnType<typeof stat>>;
    try {
      info = await stat(path);
    } catch (error) {
      throw new InputError(path, undefined, describeFsError(error), { cause: error });
    }
    if (info.isFile()) {
      const index = await loadManifestFile(path);
      return new FileManifestStore(path, new Map([[index.manifest.amiId, index]]), true);
    }
    const byAmi = new Map<string, ManifestIndex>();
    const names = (await listDir(path))
      .filter((e) => e.isFile() && e.name.endsWith('.json'))
      .map((e) => e.name);
    for (const name of names.sort()) {
      const file = join(path, name);
      const index = await loadManifestFile(file);
      const expected = basename(name, '.json');
      if (AMI_ID.test(expected) && expected !== index.manifest.amiId) {
        throw new InputError(
          file,
          'amiId',
          `is ${index.manifest.amiId}, but the file is named for ${expected}`,
        );
      }
      if (byAmi.has(index.manifest.amiId)) {
        throw new InputError(file, 'amiId', `${index.manifest.amiId} has another manifest in ${path}`);
      }
      byAmi.set(index.manifest.amiId, index);
    }
    if (byAmi.size === 0) throw new InputError(path, undefined, 'holds no manifests (<ami-id>.json files)');
    return new FileManifestStore(path, byAmi, false);
  }

  async get(amiId: string | undefined): Promise<ManifestLookup> {
    if (amiId === undefined) {
      const [only] = this.byAmi.values();
      if (this.byAmi.size === 1 && only) return { status: 'found', index: only };
      return {
        status: 'missing',
        detail: 'the instance AMI is not known: pass --instances (aws ec2 describe-instances output)',
      };
    }
    const index = this.byAmi.get(amiId);
    if (index) return { status: 'found', index };
    return {
      status: 'missing',
      detail: this.single
        ? `no manifest for ${amiId} (the manifest file is for ${[...this.byAmi.keys()][0]})`
        : `no manifest for ${amiId} in ${this.description}`,
    };
  }
}

// ---------------------------------------------------------------------------------------------
// Policy

export async function loadPolicyFile(path: string): Promise<CompiledPolicy> {
  return parsePolicyText(path, await readText(path, MAX_CONFIG_FILE_BYTES));
}

/**
 * A policy from its text: JSON when the name ends in .json, else YAML (a superset of JSON). `name`
 * (a path or an s3:// URI) is what errors mention.
 */
export function parsePolicyText(name: string, text: string): CompiledPolicy {
  let raw: unknown;
  if (/\.json$/i.test(name)) {
    raw = parseJson(name, text);
  } else {
    try {
      raw = parseYaml(text, { uniqueKeys: true, maxAliasCount: 100, logLevel: 'error' });
    } catch (error) {
      // YAMLParseError for syntax; the parser throws plain errors for alias abuse and unknown anchors.
      const pos = error instanceof YAMLParseError ? error.linePos?.[0] : undefined;
      const where = pos ? `line ${pos.line}, column ${pos.col}` : undefined;
      const message = (error instanceof Error ? error.message : String(error))
        .split('\n')[0]
        ?.replace(/ at line \d+, column \d+:?$/, '');
      throw new InputError(name, where, `YAML error: ${message}`, { cause: error });
    }
  }
  const parsed = PolicySchema.safeParse(raw ?? {});
  if (!parsed.success) throw inputErrorFromZod(name, parsed.error, 3, raw);
  return compilePolicy(parsed.data);
}
