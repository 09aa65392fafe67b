/**
 * InstanceSnapshot: the normalized SSM Inventory of one instance.
 *
 * Inventory content is written by the instances themselves, so everything here treats it as
 * untrusted: keys are matched case-insensitively, values must be strings (numbers are accepted and
 * stringified), every field is length-limited, entry counts are bounded, and all collections are
 * `Map`s so that a package called `__proto__` is just a package.
 */
import { rpmEvr } from './versions.ts';

/** Inventory type names driftwatch reads. Custom types are written by the driftwatch SSM document. */
export const InventoryTypes = {
  application: 'AWS:Application',
  instanceInformation: 'AWS:InstanceInformation',
  service: 'AWS:Service',
  files: 'Custom:DriftwatchFiles',
  services: 'Custom:DriftwatchServices',
  kernel: 'Custom:DriftwatchKernel',
} as const;

/** SSM caps an attribute value at 4,096 characters; anything longer did not come from SSM. */
export const MAX_FIELD_LENGTH = 4096;
/** Entries of one type for one instance. SSM's own cap is 10,000 a PutInventory; hosts with more exist. */
export const MAX_ENTRIES_PER_TYPE = 200_000;

export type PackageFormat = 'rpm' | 'deb' | 'snap' | 'other';

export interface PackageRecord {
  readonly name: string;
  /** Normalized architecture (`x86_64`, `aarch64`, `noarch`, `all`, ...); '' when none (snaps). */
  readonly arch: string;
  readonly format: PackageFormat;
  /**
   * Full comparable versions, sorted: `epoch:version-release` for rpm, the dpkg string for deb.
   * Usually one; install-only packages (several `kernel` builds side by side) have more.
   */
  readonly versions: readonly string[];
}

export interface ServiceRecord {
  readonly name: string;
  /** `running`, `stopped`, ... lower-cased. */
  readonly status: string;
  /** `enabled`, `disabled`, `auto`, `manual`, ... lower-cased; '' when unknown. */
  readonly startType: string;
}

export interface PlatformInfo {
  readonly name: string;
  readonly version: string;
  readonly type: string;
}

export interface InstanceSnapshot {
  readonly instanceId: string;
  /** Oldest capture time (ISO-8601) among the audited inventory types; undefined when none is known. */
  readonly captureTime: string | undefined;
  readonly platform: PlatformInfo | undefined;
  /** AWS:InstanceInformation's InstanceStatus (`Active`, `Terminated`, `Stopped`, ...). */
  readonly instanceStatus: string | undefined;
  readonly agentVersion: string | undefined;
  /** Keyed by `packageKey(name, arch)`. Undefined when the instance sent no AWS:Application. */
  readonly packages: ReadonlyMap<string, PackageRecord> | undefined;
  /** Undefined when the instance sent neither AWS:Service nor Custom:DriftwatchServices. */
  readonly services: ReadonlyMap<string, ServiceRecord> | undefined;
  /** path -> sha256 (lower-case hex). Undefined when the instance sent no Custom:DriftwatchFiles. */
  readonly files: ReadonlyMap<string, string> | undefined;
  /** Running kernel release. Undefined when the instance sent no Custom:DriftwatchKernel. */
  readonly kernel: string | undefined;
  /** Inventory type name -> capture time, for every type seen. */
  readonly types: ReadonlyMap<string, string | undefined>;
  /** Why the inventory is incomplete or was partly unreadable; empty when whole. */
  readonly problems: readonly string[];
  /**
   * The inventory as received, type by type, in the SSM result-entity shape — kept only when the
   * builder was asked to (`driftwatch snapshot` writes it; audits do not need it).
   */
  readonly raw?: ReadonlyMap<string, RawInventoryItem>;
}

/** One inventory type of one instance as SSM returns it (GetInventory's result item shape). */
export interface RawInventoryItem {
  readonly TypeName: string;
  readonly SchemaVersion: string;
  readonly CaptureTime: string | undefined;
  readonly Content: unknown[];
}

export function packageKey(name: string, arch: string): string {
  return `${name}\u0000${arch}`;
}

const ARCH_ALIASES = new Map([
  ['amd64', 'x86_64'],
  ['x64', 'x86_64'],
  ['arm64', 'aarch64'],
  ['i386', 'i686'],
]);

/** The SSM agent reports amd64 as x86_64; do the same for every source so manifests and hosts agree. */
export function normalizeArch(arch: string): string {
  const lower = arch.toLowerCase();
  return ARCH_ALIASES.get(lower) ?? lower;
}

type Entry = Record<string, unknown>;

/**
 * Lower-cased attribute names. Inventory repeats the same dozen keys on every entry, so caching
 * them saves a toLowerCase per key per entry; the cache is bounded, since keys are untrusted too.
 */
const LOWER_KEYS = new Map<string, string>();
function lowerKey(key: string): string {
  let lower = LOWER_KEYS.get(key);
  if (lower === undefined) {
    lower = key.toLowerCase();
    if (LOWER_KEYS.size < 4096) LOWER_KEYS.set(key, lower);
  }
  return lower;
}

/** An attribute value as text, or an error message. Numbers and booleans are stringified. */
function fieldText(key: string, value: unknown): string | { error: string } | undefined {
  let text: string;
  if (typeof value === 'string') text = value;
  else if (typeof value === 'number' || typeof value === 'boolean') text = String(value);
  else if (value === null || value === undefined) return undefined;
  else return { error: `${key} is not a string` };
  if (text.length > MAX_FIELD_LENGTH)
    return { error: `${key} is longer than ${MAX_FIELD_LENGTH} characters` };
  return text;
}

/** Reads an entry's attributes case-insensitively into a null-prototype bag, as strings. */
function readFields(entry: Entry, wanted: ReadonlySet<string>): Record<string, string> | string {
  const out: Record<string, string> = Object.create(null);
  for (const key of Object.keys(entry)) {
    const lower = lowerKey(key);
    if (!wanted.has(lower)) continue;
    const text = fieldText(key, entry[key]);
    if (text === undefined) continue;
    if (typeof text !== 'string') return text.error;
    out[lower] = text;
  }
  return out;
}

const APP_FIELDS = new Set(['name', 'version', 'release', 'epoch', 'architecture', 'packageid']);
/** The spellings SSM writes (PascalCase from the API, lower camel-case in some sync objects), pre-lowered. */
const APP_KEYS: Readonly<Record<string, string>> = Object.assign(Object.create(null), {
  Name: 'name',
  name: 'name',
  Version: 'version',
  version: 'version',
  Release: 'release',
  release: 'release',
  Epoch: 'epoch',
  epoch: 'epoch',
  Architecture: 'architecture',
  architecture: 'architecture',
  PackageId: 'packageid',
  packageId: 'packageid',
});
const INFO_FIELDS = new Set([
  'platformname',
  'platformversion',
  'platformtype',
  'instancestatus',
  'agentversion',
  'instanceid',
]);
const SERVICE_FIELDS = new Set(['name', 'status', 'starttype']);
const FILE_FIELDS = new Set(['path', 'sha256']);
const KERNEL_FIELDS = new Set(['kernelrelease']);
const SHA256 = /^[0-9a-f]{64}$/;

function isEntry(value: unknown): value is Entry {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Decides how an AWS:Application entry is versioned. rpm entries carry Release/Epoch attributes;
 * dpkg entries carry the whole version in Version and a `.deb` PackageId; snaps have neither and no
 * architecture.
 */
function packageFormat(rpmFields: boolean, packageId: string, arch: string): PackageFormat {
  if (rpmFields) return 'rpm';
  if (packageId.endsWith('.deb')) return 'deb';
  if (packageId.endsWith('.rpm')) return 'rpm';
  if (!arch) return 'snap';
  return 'other';
}

/** Builds one InstanceSnapshot from the inventory types of one instance, type by type. */
export class SnapshotBuilder {
  /** Records are built in place; `versions` grows for install-only packages (several kernels). */
  private readonly packages = new Map<string, PackageRecord & { versions: string[] }>();
  private sawApplication = false;
  private services: Map<string, ServiceRecord> | undefined;
  private files: Map<string, string> | undefined;
  private kernel: string | undefined;
  private platform: PlatformInfo | undefined;
  private instanceStatus: string | undefined;
  private agentVersion: string | undefined;
  private readonly types = new Map<string, string | undefined>();
  private readonly problems: string[] = [];

  private readonly raw: Map<string, RawInventoryItem> | undefined;

  constructor(
    readonly instanceId: string,
    options: { readonly keepRaw?: boolean | undefined } = {},
  ) {
    this.raw = options.keepRaw ? new Map() : undefined;
  }

  /** Records a problem that makes the inventory partial (an unreadable entry, a size limit hit). */
  addProblem(problem: string): void {
    if (this.problems.length < 20) this.problems.push(problem);
  }

  /**
   * Adds the entries of one inventory type. `captureTime` is the type's capture time (ISO-8601) when
   * known. Types driftwatch does not audit are recorded (for completeness checks) and otherwise ignored.
   */
  addType(
    typeName: string,
    captureTime: string | undefined,
    entries: Iterable<unknown>,
    schemaVersion = '1.0',
  ): void {
    const previous = this.types.get(typeName);
    this.types.set(typeName, minTime(previous, captureTime));
    if (this.raw) {
      const kept = this.raw.get(typeName);
      const content = [...entries];
      entries = content;
      if (kept) kept.Content.push(...content);
      else
        this.raw.set(typeName, {
          TypeName: typeName,
          SchemaVersion: schemaVersion,
          CaptureTime: captureTime,
          Content: content,
        });
    }
    let count = 0;
    for (const entry of entries) {
      count++;
      if (count > MAX_ENTRIES_PER_TYPE) {
        this.addProblem(`${typeName}: more than ${MAX_ENTRIES_PER_TYPE} entries; the rest were not read`);
        break;
      }
      if (!isEntry(entry)) {
        this.addProblem(`${typeName}: entry ${count} is not an object`);
        continue;
      }
      this.addEntry(typeName, entry, count);
    }
    if (typeName === InventoryTypes.application) this.sawApplication = true;
    else if (typeName === InventoryTypes.service || typeName === InventoryTypes.services)
      this.services ??= new Map();
    else if (typeName === InventoryTypes.files) this.files ??= new Map();
  }

  private addEntry(typeName: string, entry: Entry, index: number): void {
    switch (typeName) {
      case InventoryTypes.application:
        this.addPackage(entry, index);
        break;
      case InventoryTypes.instanceInformation:
        this.addInstanceInformation(entry, index);
        break;
      case InventoryTypes.service:
      case InventoryTypes.services:
        this.addService(typeName, entry, index);
        break;
      case InventoryTypes.files:
        this.addFile(entry, index);
        break;
      case InventoryTypes.kernel:
        this.addKernel(entry, index);
        break;
    }
  }

  private fields(typeName: string, entry: Entry, wanted: ReadonlySet<string>, index: number) {
    const fields = readFields(entry, wanted);
    if (typeof fields === 'string') {
      this.addProblem(`${typeName}: entry ${index}: ${fields}`);
      return undefined;
    }
    return fields;
  }

  /** The hot path (hundreds of thousands of entries a run): no intermediate objects per entry. */
  private addPackage(entry: Entry, index: number): void {
    let name: string | undefined;
    let rawVersion: string | undefined;
    let release: string | undefined;
    let epoch: string | undefined;
    let arch = '';
    let packageId = '';
    // for-in over a JSON.parse result visits its own keys; it allocates no key array per entry.
    for (const key in entry) {
      const field = APP_KEYS[key] ?? lowerKey(key);
      if (!APP_FIELDS.has(field)) continue;
      const text = fieldText(key, entry[key]);
      if (text === undefined) continue;
      if (typeof text !== 'string') {
        this.addProblem(`${InventoryTypes.application}: entry ${index}: ${text.error}`);
        return;
      }
      if (field === 'name') name = text;
      else if (field === 'version') rawVersion = text;
      else if (field === 'release') release = text;
      else if (field === 'epoch') epoch = text;
      else if (field === 'architecture') arch = text;
      else if (field === 'packageid') packageId = text;
    }
    if (!name || rawVersion === undefined) {
      this.addProblem(`${InventoryTypes.application}: entry ${index}: missing Name or Version`);
      return;
    }
    const format = packageFormat(release !== undefined || epoch !== undefined, packageId, arch);
    const normalizedArch = normalizeArch(arch);
    const version = format === 'rpm' ? rpmEvr(epoch, rawVersion, release) : rawVersion;
    const key = packageKey(name, normalizedArch);
    const existing = this.packages.get(key);
    if (!existing) this.packages.set(key, { name, arch: normalizedArch, format, versions: [version] });
    else if (!existing.versions.includes(version)) existing.versions.push(version);
  }

  private addInstanceInformation(entry: Entry, index: number): void {
    const f = this.fields(InventoryTypes.instanceInformation, entry, INFO_FIELDS, index);
    if (!f) return;
    if (f.platformname !== undefined || f.platformversion !== undefined) {
      this.platform = {
        name: f.platformname ?? '',
        version: f.platformversion ?? '',
        type: f.platformtype ?? '',
      };
    }
    if (f.instancestatus !== undefined) this.instanceStatus = f.instancestatus;
    if (f.agentversion !== undefined) this.agentVersion = f.agentversion;
  }

  private addService(typeName: string, entry: Entry, index: number): void {
    const f = this.fields(typeName, entry, SERVICE_FIELDS, index);
    if (!f) return;
    if (!f.name) {
      this.addProblem(`${typeName}: entry ${index}: missing Name`);
      return;
    }
    this.services ??= new Map();
    this.services.set(f.name, {
      name: f.name,
      status: (f.status ?? '').toLowerCase(),
      startType: (f.starttype ?? '').toLowerCase(),
    });
  }

  private addFile(entry: Entry, index: number): void {
    const f = this.fields(InventoryTypes.files, entry, FILE_FIELDS, index);
    if (!f) return;
    const sha = (f.sha256 ?? '').toLowerCase();
    if (!f.path || !SHA256.test(sha)) {
      this.addProblem(`${InventoryTypes.files}: entry ${index}: needs a Path and a 64-hex-digit Sha256`);
      return;
    }
    this.files ??= new Map();
    this.files.set(f.path, sha);
  }

  private addKernel(entry: Entry, index: number): void {
    const f = this.fields(InventoryTypes.kernel, entry, KERNEL_FIELDS, index);
    if (!f) return;
    if (!f.kernelrelease) {
      this.addProblem(`${InventoryTypes.kernel}: entry ${index}: missing KernelRelease`);
      return;
    }
    this.kernel = f.kernelrelease;
  }

  build(): InstanceSnapshot {
    if (this.sawApplication) {
      for (const record of this.packages.values()) if (record.versions.length > 1) record.versions.sort();
    }
    return {
      instanceId: this.instanceId,
      captureTime: auditedCaptureTime(this.types),
      platform: this.platform,
      instanceStatus: this.instanceStatus,
      agentVersion: this.agentVersion,
      packages: this.sawApplication ? this.packages : undefined,
      services: this.services,
      files: this.files,
      kernel: this.kernel,
      types: this.types,
      problems: this.problems,
      ...(this.raw ? { raw: this.raw } : {}),
    };
  }
}

const AUDITED_TYPES: readonly string[] = [
  InventoryTypes.application,
  InventoryTypes.service,
  InventoryTypes.files,
  InventoryTypes.services,
  InventoryTypes.kernel,
];

/** The oldest capture time among audited types (the weakest link), else InstanceInformation's. */
function auditedCaptureTime(types: ReadonlyMap<string, string | undefined>): string | undefined {
  let oldest: string | undefined;
  let sawAudited = false;
  for (const type of AUDITED_TYPES) {
    if (!types.has(type)) continue;
    sawAudited = true;
    const time = types.get(type);
    if (time === undefined) return undefined;
    oldest = minTime(oldest, time);
  }
  return sawAudited ? oldest : types.get(InventoryTypes.instanceInformation);
}

function minTime(a: string | undefined, b: string | undefined): string | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return Date.parse(a) <= Date.parse(b) ? a : b;
}

/** True for the stubs SSM keeps for instances that are gone (GetInventory's terminated entries). */
export function isGone(snapshot: InstanceSnapshot): boolean {
  const status = snapshot.instanceStatus?.toLowerCase();
  return status === 'terminated' || status === 'deregistered';
}
