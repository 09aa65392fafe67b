/** Builders for domain tests: snapshots and manifests from compact package lists. */
import type { FleetInstance, ManifestLookup } from '../../shared/domain/diff.ts';
import { type InstanceSnapshot, InventoryTypes, SnapshotBuilder } from '../../shared/domain/inventory.ts';
import {
  type GoldenManifestInput,
  GoldenManifestSchema,
  indexManifest,
} from '../../shared/domain/manifest.ts';
import {
  type CompiledPolicy,
  compilePolicy,
  type PolicyInput,
  PolicySchema,
} from '../../shared/domain/policy.ts';

export const NOW = new Date('2026-11-27T12:00:00Z');
export const FRESH = '2026-11-27T10:00:00Z';
export const AMI = 'ami-0a1b2c3d4e5f60718';

/** An rpm AWS:Application entry as the SSM agent writes it. */
export function rpm(name: string, evr: string, arch = 'x86_64'): Record<string, string> {
  const colon = evr.indexOf(':');
  const epoch = colon >= 0 ? evr.slice(0, colon) : '';
  const vr = colon >= 0 ? evr.slice(colon + 1) : evr;
  const dash = vr.lastIndexOf('-');
  return {
    Name: name,
    Version: vr.slice(0, dash),
    Release: vr.slice(dash + 1),
    Epoch: epoch,
    Architecture: arch,
    PackageId: `${name}-${vr}.src.rpm`,
    ApplicationType: 'System Environment/Base',
    Publisher: 'Amazon Linux',
  };
}

/** A dpkg AWS:Application entry: the whole version in Version, no Release or Epoch. */
export function deb(name: string, version: string, arch = 'x86_64'): Record<string, string> {
  return {
    Name: name,
    Version: version,
    Architecture: arch,
    PackageId: `${name}_${version}_${arch}.deb`,
    ApplicationType: 'libs',
  };
}

export interface SnapshotSpec {
  packages?: Record<string, string>[];
  services?: { Name: string; Status: string; StartType?: string }[];
  files?: { Path: string; Sha256: string }[];
  kernel?: string;
  platform?: { name: string; version: string };
  captureTime?: string;
  status?: string;
}

export function snapshot(instanceId: string, spec: SnapshotSpec = {}): InstanceSnapshot {
  const b = new SnapshotBuilder(instanceId);
  const time = spec.captureTime ?? FRESH;
  const platform = spec.platform ?? { name: 'Amazon Linux', version: '2023' };
  b.addType(InventoryTypes.instanceInformation, time, [
    {
      InstanceId: instanceId,
      PlatformName: platform.name,
      PlatformVersion: platform.version,
      PlatformType: 'Linux',
      InstanceStatus: spec.status ?? 'Active',
    },
  ]);
  if (spec.packages) b.addType(InventoryTypes.application, time, spec.packages);
  if (spec.services) b.addType(InventoryTypes.services, time, spec.services);
  if (spec.files) b.addType(InventoryTypes.files, time, spec.files);
  if (spec.kernel) b.addType(InventoryTypes.kernel, time, [{ KernelRelease: spec.kernel }]);
  return b.build();
}

export function manifestFrom(
  input: Partial<GoldenManifestInput> & Pick<GoldenManifestInput, 'packages'>,
): ManifestLookup {
  const manifest = GoldenManifestSchema.parse({
    schemaVersion: 1,
    amiId: AMI,
    name: 'golden',
    platform: { name: 'Amazon Linux', version: '2023', type: 'Linux' },
    capturedAt: '2026-11-01T00:00:00Z',
    ...input,
  });
  return { status: 'found', index: indexManifest(manifest) };
}

export function policy(input: PolicyInput = {}): CompiledPolicy {
  return compilePolicy(PolicySchema.parse(input));
}

export function instance(instanceId: string, asgName: string | null = 'web', amiId = AMI): FleetInstance {
  return { instanceId, amiId, asgName };
}

export const SHA_A = 'a'.repeat(64);
export const SHA_B = 'b'.repeat(64);
