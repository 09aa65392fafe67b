/**
 * Test helpers for local inputs: a Resource Data Sync tree as `aws s3 sync` leaves it, golden
 * manifests, and temporary directories that are removed after the test file.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll } from 'vitest';
import type { GoldenManifestInput } from '../../shared/domain/manifest.ts';

export const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'aws');
export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Ids used across the fixtures (see test/fixtures/aws/README.md). */
export const IDS = {
  al2023: 'i-0a1b2c3d4e5f60718',
  other: 'i-0b2c3d4e5f6071829',
  debian: 'i-0c3d4e5f607182930',
  stopped: 'i-0d4e5f60718293a41',
  terminated: 'i-0e5f60718293a4b52',
  bastion: 'i-0f60718293a4b5c63',
  al2023Ami: 'ami-0abcdef1234567890',
  debianAmi: 'ami-0fedcba9876543210',
} as const;

export const CAPTURE_TIME = '2026-11-27T10:42:17Z';
export const NOW = '2026-11-27T12:00:00Z';

const created: string[] = [];
afterAll(async () => {
  await Promise.all(created.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

/** A fresh temporary directory, removed when the test file finishes. */
export async function tempDir(prefix = 'driftwatch-test-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  created.push(dir);
  return dir;
}

/** Writes a file, creating its directory. Text and bytes are written as they are, anything else as pretty JSON. */
export async function writeAt(path: string, content: unknown): Promise<string> {
  await mkdir(dirname(path), { recursive: true });
  const data =
    typeof content === 'string' || content instanceof Uint8Array
      ? content
      : `${JSON.stringify(content, null, 2)}\n`;
  await writeFile(path, data);
  return path;
}

// ---------------------------------------------------------------------------------------------
// Resource Data Sync

export type InventoryEntry = Record<string, unknown>;

export interface SyncObject {
  readonly typeName: string;
  readonly instanceId: string;
  /** Entries with the type's attribute names as the SSM API spells them (`Name`, `PackageId`, ...). */
  readonly entries: readonly InventoryEntry[];
  /** @default CAPTURE_TIME */
  readonly captureTime?: string;
  /** @default '1.1' for AWS:Application, else '1.0' */
  readonly schemaVersion?: string;
  /** `ndjson` (what the sync writes) or a JSON `array` (also accepted). @default 'ndjson' */
  readonly format?: 'ndjson' | 'array';
  /** @default '123456789012' */
  readonly accountId?: string;
  /** @default 'us-east-1' */
  readonly region?: string;
  /** Key spelling: lower-camel as the sync writes it, or kept as given. @default 'sync' */
  readonly keys?: 'sync' | 'as-is';
}

/** `PackageId` -> `packageId`, `URL` -> `url`, `IpAddress` -> `ipAddress`: the sync's key spelling. */
export function lowerCamel(key: string): string {
  return key.replace(/^[A-Z]+(?=[A-Z][a-z]|$)|^[A-Z]/, (head) => head.toLowerCase());
}

/** Where the sync puts the object of one instance and type. */
export function syncObjectPath(
  root: string,
  o: Pick<SyncObject, 'typeName' | 'instanceId' | 'accountId' | 'region'>,
): string {
  return join(
    root,
    o.typeName,
    `accountid=${o.accountId ?? '123456789012'}`,
    `region=${o.region ?? 'us-east-1'}`,
    'resourcetype=ManagedInstanceInventory',
    `${o.instanceId}.json`,
  );
}

/** The lines of one sync object: each entry plus the sync's own keys. */
export function syncLines(o: SyncObject): InventoryEntry[] {
  const meta = {
    resourceId: o.instanceId,
    resourceType: 'ManagedInstanceInventory',
    accountId: o.accountId ?? '123456789012',
    region: o.region ?? 'us-east-1',
    captureTime: o.captureTime ?? CAPTURE_TIME,
    schemaVersion: o.schemaVersion ?? (o.typeName === 'AWS:Application' ? '1.1' : '1.0'),
  };
  return o.entries.map((entry) => {
    const line: InventoryEntry = {};
    for (const [key, value] of Object.entries(entry)) {
      line[o.keys === 'as-is' ? key : lowerCamel(key)] = value;
    }
    return { ...line, ...meta };
  });
}

/** The text of one sync object. */
export function syncObjectText(o: SyncObject): string {
  const lines = syncLines(o);
  if (o.format === 'array') return `${JSON.stringify(lines)}\n`;
  return lines.map((line) => `${JSON.stringify(line)}\n`).join('');
}

/** Writes a Resource Data Sync tree under `root`; returns the paths written, in order. */
export async function writeSyncTree(root: string, objects: readonly SyncObject[]): Promise<string[]> {
  const paths: string[] = [];
  for (const o of objects) paths.push(await writeAt(syncObjectPath(root, o), syncObjectText(o)));
  return paths;
}

// ---------------------------------------------------------------------------------------------
// Inventory entries as the SSM agent writes them

/** An rpm AWS:Application entry (Amazon Linux), every attribute the agent sends. */
export function rpmEntry(
  name: string,
  version: string,
  release: string,
  options: { epoch?: string; arch?: string; sourceRpm?: string } = {},
): InventoryEntry {
  return {
    ApplicationType: 'Unspecified',
    Architecture: options.arch ?? 'x86_64',
    Epoch: options.epoch ?? '',
    InstalledTime: '2026-11-20T08:12:44Z',
    Name: name,
    PackageId: options.sourceRpm ?? `${name}-${version}-${release}.src.rpm`,
    Publisher: 'Amazon Linux',
    Release: release,
    Summary: `The ${name} package`,
    Url: `https://example.org/${name}`,
    Version: version,
  };
}

/** A dpkg AWS:Application entry (Debian/Ubuntu): the whole version in Version, no Release/Epoch. */
export function debEntry(name: string, version: string, dpkgArch = 'amd64'): InventoryEntry {
  return {
    ApplicationType: 'utils',
    Architecture: dpkgArch === 'amd64' ? 'x86_64' : dpkgArch,
    Name: name,
    PackageId: `${name}_${version}_${dpkgArch}.deb`,
    Publisher: 'Debian Maintainers <debian@lists.debian.org>',
    Summary: `the ${name} package`,
    Url: `https://example.org/${name}`,
    Version: version,
  };
}

/** An AWS:InstanceInformation entry of an active Linux instance. */
export function instanceInformation(
  instanceId: string,
  platform: { name: string; version: string } = { name: 'Amazon Linux', version: '2023' },
  status = 'Active',
): InventoryEntry {
  return {
    AgentType: 'amazon-ssm-agent',
    AgentVersion: '3.3.1142.0',
    ComputerName: 'ip-10-0-1-23.ec2.internal',
    InstanceId: instanceId,
    InstanceStatus: status,
    IpAddress: '10.0.1.23',
    PlatformName: platform.name,
    PlatformType: 'Linux',
    PlatformVersion: platform.version,
    ResourceType: 'EC2Instance',
  };
}

/** The golden package set of the Amazon Linux 2023 AMI used across the CLI tests. */
export const AL2023_PACKAGES: readonly InventoryEntry[] = [
  rpmEntry('bash', '5.2.15', '1.amzn2023.0.2'),
  rpmEntry('glibc', '2.34', '52.amzn2023.0.11'),
  rpmEntry('openssl-libs', '3.0.8', '1.amzn2023.0.14', {
    epoch: '1',
    sourceRpm: 'openssl-3.0.8-1.amzn2023.0.14.src.rpm',
  }),
  rpmEntry('systemd', '252.23', '2.amzn2023'),
  rpmEntry('tzdata', '2024a', '1.amzn2023.0.1', { arch: 'noarch' }),
];

/** The sync objects of one Amazon Linux 2023 instance: its packages and its instance information. */
export function al2023Instance(
  instanceId: string,
  packages: readonly InventoryEntry[] = AL2023_PACKAGES,
  captureTime = CAPTURE_TIME,
): SyncObject[] {
  return [
    { typeName: 'AWS:Application', instanceId, captureTime, entries: packages },
    {
      typeName: 'AWS:InstanceInformation',
      instanceId,
      captureTime,
      entries: [instanceInformation(instanceId)],
    },
  ];
}

// ---------------------------------------------------------------------------------------------
// Golden manifests

/** A valid golden manifest; `packages` given as inventory entries or manifest packages. */
export function goldenManifest(over: Partial<GoldenManifestInput> = {}): GoldenManifestInput {
  return {
    schemaVersion: 1,
    amiId: IDS.al2023Ami,
    name: 'al2023-web golden',
    platform: { name: 'Amazon Linux', version: '2023', type: 'Linux' },
    capturedAt: '2026-11-20T09:00:00Z',
    packages: AL2023_PACKAGES.map((e) => ({
      name: String(e.Name),
      arch: String(e.Architecture),
      ...(e.Epoch ? { epoch: String(e.Epoch) } : {}),
      version: String(e.Version),
      release: String(e.Release),
    })),
    ...over,
  };
}

/** Writes manifests as `<dir>/<amiId>.json`; returns the directory. */
export async function writeManifestDir(
  dir: string,
  manifests: readonly GoldenManifestInput[],
): Promise<string> {
  for (const m of manifests) await writeAt(join(dir, `${m.amiId}.json`), m);
  return dir;
}
