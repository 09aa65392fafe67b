/**
 * GoldenManifest: what an instance launched from one AMI should look like. One JSON document per
 * AMI, stored as `manifests/<ami-id>.json`, usually written by `driftwatch capture`.
 */
import { z } from 'zod';
import {
  type InstanceSnapshot,
  MAX_FIELD_LENGTH,
  normalizeArch,
  type PackageFormat,
  type PackageRecord,
  packageKey,
  type ServiceRecord,
} from './inventory.ts';
import { compareText } from './order.ts';
import { rpmEvr } from './versions.ts';

export const AMI_ID = /^ami-[0-9a-f]{8,17}$/;
const field = z.string().max(MAX_FIELD_LENGTH);
const isoTime = z.iso.datetime({ offset: true });

const ManifestPackageSchema = z.strictObject({
  name: field.min(1),
  arch: field.default(''),
  format: z.enum(['rpm', 'deb', 'snap', 'other']).optional(),
  epoch: field.optional(),
  version: field.min(1),
  release: field.optional(),
});

const ManifestServiceSchema = z.strictObject({
  name: field.min(1),
  status: field.min(1),
  startType: field.optional(),
});

/** A match for a waiver; `*` globs allowed in both fields. */
export const WaiverMatchSchema = z.strictObject({
  kind: field.optional(),
  subject: field.optional(),
});

/**
 * `files` is a JSON object path -> sha256. It is validated as entries so that a path such as
 * `__proto__` is kept as data rather than silently dropped or turned into a prototype.
 */
const FilesSchema = z.preprocess(
  (value) =>
    typeof value === 'object' && value !== null && !Array.isArray(value) ? Object.entries(value) : value,
  z.array(
    z.tuple([field.min(1), z.string().regex(/^[0-9a-fA-F]{64}$/, 'expected a sha256 (64 hex digits)')]),
  ),
);

export const GoldenManifestSchema = z.strictObject({
  schemaVersion: z.literal(1),
  amiId: z.string().regex(AMI_ID, 'expected an AMI id such as ami-0123456789abcdef0'),
  name: field,
  platform: z.strictObject({ name: field, version: field, type: field }),
  capturedAt: isoTime,
  source: z
    .strictObject({
      instanceId: field,
      inventoryCaptureTime: isoTime.optional(),
      tool: field.optional(),
    })
    .optional(),
  packages: z.array(ManifestPackageSchema),
  services: z.array(ManifestServiceSchema).default([]),
  files: FilesSchema.default([]),
  kernel: field.optional(),
  waivers: z
    .array(
      z.strictObject({
        match: WaiverMatchSchema,
        reason: field.min(1),
        expires: z.union([z.iso.date(), isoTime]),
      }),
    )
    .default([]),
});

export type GoldenManifestInput = z.input<typeof GoldenManifestSchema>;
export type GoldenManifest = z.output<typeof GoldenManifestSchema>;

/** A manifest indexed for auditing. */
export interface ManifestIndex {
  readonly manifest: GoldenManifest;
  readonly packages: ReadonlyMap<string, PackageRecord>;
  readonly services: ReadonlyMap<string, ServiceRecord> | undefined;
  readonly files: ReadonlyMap<string, string> | undefined;
}

function inferFormat(pkg: z.output<typeof ManifestPackageSchema>): PackageFormat {
  if (pkg.format) return pkg.format;
  return pkg.release !== undefined || pkg.epoch !== undefined ? 'rpm' : 'deb';
}

/** Builds lookup maps. Families the reference instance did not report (no services, no files) stay undefined. */
export function indexManifest(manifest: GoldenManifest): ManifestIndex {
  const packages = new Map<string, PackageRecord>();
  for (const pkg of manifest.packages) {
    const format = inferFormat(pkg);
    const arch = normalizeArch(pkg.arch);
    const version = format === 'rpm' ? rpmEvr(pkg.epoch, pkg.version, pkg.release) : pkg.version;
    const key = packageKey(pkg.name, arch);
    const existing = packages.get(key);
    if (existing) {
      if (!existing.versions.includes(version)) {
        packages.set(key, { ...existing, versions: [...existing.versions, version].sort() });
      }
    } else {
      packages.set(key, { name: pkg.name, arch, format, versions: [version] });
    }
  }
  const services =
    manifest.services.length > 0
      ? new Map(
          manifest.services.map((s) => [
            s.name,
            { name: s.name, status: s.status.toLowerCase(), startType: (s.startType ?? '').toLowerCase() },
          ]),
        )
      : undefined;
  const files =
    manifest.files.length > 0
      ? new Map(manifest.files.map(([path, sha]) => [path, sha.toLowerCase()]))
      : undefined;
  return { manifest, packages, services, files };
}

/** Splits a full rpm EVR back into the manifest's epoch/version/release fields. */
function splitEvr(evr: string): { epoch?: string; version: string; release?: string } {
  const colon = evr.indexOf(':');
  const epoch = colon >= 0 ? evr.slice(0, colon) : '';
  const rest = colon >= 0 ? evr.slice(colon + 1) : evr;
  const dash = rest.lastIndexOf('-');
  return {
    ...(epoch && epoch !== '0' ? { epoch } : {}),
    version: dash >= 0 ? rest.slice(0, dash) : rest,
    ...(dash >= 0 ? { release: rest.slice(dash + 1) } : {}),
  };
}

/** The inventory's capture time for `source`, left out when the instance sent none or an unreadable one. */
function inventoryTime(captureTime: string | undefined): { inventoryCaptureTime: string } | undefined {
  const ms = captureTime === undefined ? Number.NaN : Date.parse(captureTime);
  return Number.isNaN(ms) ? undefined : { inventoryCaptureTime: new Date(ms).toISOString() };
}

export class CaptureError extends Error {
  override readonly name = 'CaptureError';
}

/**
 * Builds a golden manifest from the inventory of a reference instance launched from the AMI.
 * Pure: the caller passes the capture time.
 */
export function captureManifest(
  snapshot: InstanceSnapshot,
  options: { amiId: string; name?: string; capturedAt: Date },
): GoldenManifest {
  if (!AMI_ID.test(options.amiId)) {
    throw new CaptureError(
      `--ami: '${options.amiId}' is not an AMI id (expected ami- and 8 or 17 hex digits)`,
    );
  }
  if (!snapshot.packages) {
    throw new CaptureError(`instance ${snapshot.instanceId} has no AWS:Application inventory to capture`);
  }
  const packages: GoldenManifest['packages'] = [];
  for (const pkg of [...snapshot.packages.values()].sort(comparePackages)) {
    for (const version of pkg.versions) {
      const base = { name: pkg.name, arch: pkg.arch, format: pkg.format };
      packages.push(pkg.format === 'rpm' ? { ...base, ...splitEvr(version) } : { ...base, version });
    }
  }
  const services = [...(snapshot.services?.values() ?? [])]
    .sort((a, b) => compareText(a.name, b.name))
    .map((s) => (s.startType ? { name: s.name, status: s.status, startType: s.startType } : s));
  const files: [string, string][] = [...(snapshot.files ?? [])].sort((a, b) => compareText(a[0], b[0]));
  const platform = snapshot.platform ?? { name: '', version: '', type: '' };
  const manifest: GoldenManifest = {
    schemaVersion: 1,
    amiId: options.amiId,
    name: options.name ?? `${platform.name} ${platform.version}`.trim(),
    platform: { ...platform },
    capturedAt: options.capturedAt.toISOString(),
    source: {
      instanceId: snapshot.instanceId,
      ...(inventoryTime(snapshot.captureTime) ?? {}),
      tool: 'driftwatch capture',
    },
    packages,
    services: services.map((s) => ({ ...s })),
    files,
    waivers: [],
  };
  if (snapshot.kernel !== undefined) manifest.kernel = snapshot.kernel;
  return manifest;
}

/** The JSON form of a manifest (files as an object, keys sorted), as stored in S3. */
export function manifestToJson(manifest: GoldenManifest): string {
  const files: Record<string, string> = Object.create(null);
  for (const [path, sha] of manifest.files) files[path] = sha;
  return `${JSON.stringify({ ...manifest, files }, null, 2)}\n`;
}

function comparePackages(a: PackageRecord, b: PackageRecord): number {
  return compareText(a.name, b.name) || compareText(a.arch, b.arch);
}
