/**
 * A small fleet on disk, matching test/fixtures/aws/ec2-describe-instances.json:
 *   web: i-0a1b... compliant, i-0b2c... drifted (openssl-libs rolled back a build, htop added)
 *   api: i-0c3d... (Debian 12) compliant
 *   no group: the bastion, running without inventory (unknown, unmanaged)
 *   the stopped and the terminated instance keep their sync files, and must not be audited.
 */
import { copyFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { GoldenManifestInput } from '../../shared/domain/manifest.ts';
import {
  AL2023_PACKAGES,
  al2023Instance,
  debEntry,
  FIXTURES,
  goldenManifest,
  IDS,
  type InventoryEntry,
  instanceInformation,
  rpmEntry,
  type SyncObject,
  tempDir,
  writeManifestDir,
  writeSyncTree,
} from './sync-tree.ts';

export const DEBIAN_PACKAGES: readonly InventoryEntry[] = [
  debEntry('bash', '5.2.15-2+b7'),
  debEntry('libc6', '2.36-9+deb12u9', 'amd64'),
  debEntry('libc6', '2.36-9+deb12u9', 'i386'),
  debEntry('openssh-server', '1:9.2p1-2+deb12u3'),
];

/** The drifted web instance: openssl-libs one build older than the golden AMI, htop installed. */
export const DRIFTED_PACKAGES: readonly InventoryEntry[] = [
  ...AL2023_PACKAGES.filter((p) => p.Name !== 'openssl-libs'),
  rpmEntry('openssl-libs', '3.0.8', '1.amzn2023.0.12', { epoch: '1' }),
  rpmEntry('htop', '3.2.1', '1.amzn2023.0.3'),
];

export function debianInstance(instanceId: string, packages = DEBIAN_PACKAGES): SyncObject[] {
  return [
    { typeName: 'AWS:Application', instanceId, entries: packages },
    {
      typeName: 'AWS:InstanceInformation',
      instanceId,
      entries: [instanceInformation(instanceId, { name: 'Debian GNU/Linux', version: '12' })],
    },
  ];
}

export function debianManifest(): GoldenManifestInput {
  return goldenManifest({
    amiId: IDS.debianAmi,
    name: 'debian12-api golden',
    platform: { name: 'Debian GNU/Linux', version: '12', type: 'Linux' },
    packages: DEBIAN_PACKAGES.map((p) => ({
      name: String(p.Name),
      arch: String(p.Architecture),
      format: 'deb' as const,
      version: String(p.Version),
    })),
  });
}

export interface Fleet {
  readonly dir: string;
  readonly inventory: string;
  readonly manifests: string;
  readonly instances: string;
  /** `audit` arguments for this fleet, evaluated at NOW. */
  readonly args: readonly string[];
}

export async function writeFleet(): Promise<Fleet> {
  const dir = await tempDir('driftwatch-fleet-');
  const inventory = join(dir, 'inventory');
  await writeSyncTree(inventory, [
    ...al2023Instance(IDS.al2023),
    ...al2023Instance(IDS.other, DRIFTED_PACKAGES),
    ...debianInstance(IDS.debian),
    // Left behind in the sync: a stopped and a terminated instance, both drifted.
    ...al2023Instance(IDS.stopped, DRIFTED_PACKAGES),
    ...debianInstance(IDS.terminated, [debEntry('netcat-openbsd', '1.219-1')]),
  ]);
  const manifests = await writeManifestDir(join(dir, 'manifests'), [goldenManifest(), debianManifest()]);
  const instances = join(dir, 'instances.json');
  await copyFile(join(FIXTURES, 'ec2-describe-instances.json'), instances);
  return {
    dir,
    inventory,
    manifests,
    instances,
    args: [
      'audit',
      '--inventory',
      inventory,
      '--instances',
      instances,
      '--manifest',
      manifests,
      '--now',
      '2026-11-27T12:00:00Z',
    ],
  };
}
