/**
 * One contract suite per port. Each `*Contract` function registers the suite's tests inside the
 * caller's `describe`, for a factory that builds the adapter under test from the suite's data; the
 * in-memory fakes, the file adapters and the AWS adapters all run the same cases.
 */
import { expect, it } from 'vitest';
import { MemoryInventorySource } from '../../shared/adapters/memory.ts';
import type { FleetInstance } from '../../shared/domain/diff.ts';
import { type InstanceSnapshot, InventoryTypes, SnapshotBuilder } from '../../shared/domain/inventory.ts';
import type { FleetSource, InventoryFilter, InventorySource, ManifestStore } from '../../shared/ports.ts';
import { debEntry, goldenManifest, instanceInformation, rpmEntry } from '../helpers/sync-tree.ts';

// ---------------------------------------------------------------------------------------------
// InventorySource

export interface InventoryCase {
  readonly instanceId: string;
  readonly captureTime: string;
  readonly types: readonly { readonly typeName: string; readonly entries: Record<string, unknown>[] }[];
}

export const INVENTORY: readonly InventoryCase[] = [
  {
    instanceId: 'i-0aaaaaaaaaaaaaaa1',
    captureTime: '2026-11-27T10:00:00Z',
    types: [
      {
        typeName: InventoryTypes.application,
        entries: [rpmEntry('bash', '5.2.15', '1.amzn2023.0.2'), rpmEntry('__proto__', '1', '1')],
      },
      { typeName: InventoryTypes.instanceInformation, entries: [instanceInformation('i-0aaaaaaaaaaaaaaa1')] },
    ],
  },
  {
    instanceId: 'i-0aaaaaaaaaaaaaaa2',
    captureTime: '2026-11-27T09:00:00Z',
    types: [
      {
        typeName: InventoryTypes.application,
        entries: [debEntry('libc6', '2.36-9+deb12u9', 'amd64'), debEntry('libc6', '2.36-9+deb12u9', 'i386')],
      },
      { typeName: InventoryTypes.files, entries: [{ Path: '/etc/sudoers', Sha256: 'c'.repeat(64) }] },
    ],
  },
];

/** The cases as the in-memory fake holds them. */
export function memorySnapshots(cases: readonly InventoryCase[]): InstanceSnapshot[] {
  return cases.map((c) => {
    const b = new SnapshotBuilder(c.instanceId);
    for (const t of c.types) b.addType(t.typeName, c.captureTime, t.entries);
    return b.build();
  });
}

export async function collect(
  source: InventorySource,
  filter?: InventoryFilter,
): Promise<InstanceSnapshot[]> {
  const out: InstanceSnapshot[] = [];
  for await (const s of source.snapshots(filter)) out.push(s);
  return out;
}

const byId = (a: InstanceSnapshot, b: InstanceSnapshot) => (a.instanceId < b.instanceId ? -1 : 1);

export function inventorySourceContract(
  make: (cases: readonly InventoryCase[]) => Promise<InventorySource>,
): void {
  it('yields every instance exactly once', async () => {
    const snapshots = await collect(await make(INVENTORY));
    expect(snapshots.map((s) => s.instanceId).sort()).toEqual(['i-0aaaaaaaaaaaaaaa1', 'i-0aaaaaaaaaaaaaaa2']);
  });

  it('keeps packages by name and architecture with comparable versions, __proto__ included', async () => {
    const [al, deb] = (await collect(await make(INVENTORY))).sort(byId);
    expect([...(al?.packages?.values() ?? [])].map((p) => [p.name, p.arch, p.format, p.versions])).toEqual([
      ['bash', 'x86_64', 'rpm', ['0:5.2.15-1.amzn2023.0.2']],
      ['__proto__', 'x86_64', 'rpm', ['0:1-1']],
    ]);
    expect([...(deb?.packages?.values() ?? [])].map((p) => `${p.name}/${p.arch}`)).toEqual([
      'libc6/x86_64',
      'libc6/i686',
    ]);
  });

  it('reports the capture time, the platform and the families each instance sent', async () => {
    const [al, deb] = (await collect(await make(INVENTORY))).sort(byId);
    expect(Date.parse(al?.captureTime ?? '')).toBe(Date.parse('2026-11-27T10:00:00Z'));
    expect(al?.platform?.name).toBe('Amazon Linux');
    expect(al?.files).toBeUndefined();
    expect(deb?.files?.get('/etc/sudoers')).toBe('c'.repeat(64));
    expect(deb?.platform).toBeUndefined();
  });

  it('yields what the in-memory fake yields, with and without a filter', async () => {
    const source = await make(INVENTORY);
    const fake = new MemoryInventorySource(memorySnapshots(INVENTORY));
    expect((await collect(source)).sort(byId)).toEqual((await collect(fake)).sort(byId));
    const only = { instanceIds: new Set(['i-0aaaaaaaaaaaaaaa2']) };
    expect(await collect(source, only)).toEqual(await collect(fake, only));
  });
}

// ---------------------------------------------------------------------------------------------
// FleetSource

/** A source over a fleet with two running instances (one in group `web`, one in none) and a stopped one. */
export interface ContractFleet {
  readonly source: FleetSource;
  /** The running instances, sorted by instance id. */
  readonly running: readonly FleetInstance[];
}

export function fleetSourceContract(make: () => Promise<ContractFleet>): void {
  it('lists running instances only, with their AMI and Auto Scaling group', async () => {
    const { source, running } = await make();
    const instances = await source.instances();
    expect(instances.map((i) => [i.instanceId, i.amiId, i.asgName])).toEqual(
      running.map((i) => [i.instanceId, i.amiId, i.asgName]),
    );
  });

  it('narrows to the groups of a scope', async () => {
    const { source, running } = await make();
    const instances = await source.instances({ asgNames: ['web'] });
    expect(instances.map((i) => i.instanceId)).toEqual(
      running.filter((i) => i.asgName === 'web').map((i) => i.instanceId),
    );
  });

  it('answers groupAmis with a map', async () => {
    const { source } = await make();
    expect((await source.groupAmis()) instanceof Map).toBe(true);
  });
}

// ---------------------------------------------------------------------------------------------
// ManifestStore

export const MANIFESTS = [
  goldenManifest({ amiId: 'ami-0abcdef1234567890' }),
  goldenManifest({ amiId: 'ami-0fedcba9876543210' }),
];

/** `make` may be called twice in one test; `reset` (when given) runs before the second call. */
export function manifestStoreContract(
  make: (manifests: typeof MANIFESTS) => Promise<ManifestStore>,
  reset?: () => Promise<void>,
): void {
  it('finds the manifest of an AMI', async () => {
    const lookup = await (await make(MANIFESTS)).get('ami-0fedcba9876543210');
    expect(lookup.status === 'found' && lookup.index.manifest.amiId).toBe('ami-0fedcba9876543210');
  });

  it('says missing, with a reason, for an AMI it has no manifest for', async () => {
    const lookup = await (await make(MANIFESTS)).get('ami-0000000000000dead');
    expect(lookup.status).toBe('missing');
    expect(lookup.status === 'missing' && lookup.detail).toContain('ami-0000000000000dead');
  });

  it('answers an unknown AMI with its only manifest, and with missing when it has several', async () => {
    expect((await (await make(MANIFESTS.slice(0, 1))).get(undefined)).status).toBe('found');
    await reset?.();
    expect((await (await make(MANIFESTS)).get(undefined)).status).toBe('missing');
  });
}
