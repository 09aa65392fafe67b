/**
 * In-memory adapters for every port: the fakes the contract suites hold the real adapters to, and
 * what tests and examples wire in when no files or AWS account are involved.
 */
import type { FleetInstance, ManifestLookup } from '../domain/diff.ts';
import type { InstanceSnapshot } from '../domain/inventory.ts';
import type { ManifestIndex } from '../domain/manifest.ts';
import type { FleetSource, InventorySource, ManifestStore } from '../ports.ts';

export class MemoryInventorySource implements InventorySource {
  readonly description = 'memory';
  constructor(private readonly items: readonly InstanceSnapshot[]) {}

  async *snapshots(): AsyncGenerator<InstanceSnapshot> {
    for (const item of [...this.items].sort((a, b) => (a.instanceId < b.instanceId ? -1 : 1))) yield item;
  }
}

export class MemoryFleetSource implements FleetSource {
  readonly description = 'memory';
  constructor(
    private readonly running: readonly FleetInstance[],
    private readonly amis: ReadonlyMap<string, string> = new Map(),
  ) {}

  async instances(): Promise<FleetInstance[]> {
    return [...this.running];
  }

  async groupAmis(): Promise<ReadonlyMap<string, string>> {
    return this.amis;
  }
}

export class MemoryManifestStore implements ManifestStore {
  readonly description = 'memory';
  private readonly byAmi: ReadonlyMap<string, ManifestIndex>;
  constructor(
    manifests: readonly ManifestIndex[],
    private readonly invalid: ReadonlyMap<string, string> = new Map(),
  ) {
    this.byAmi = new Map(manifests.map((m) => [m.manifest.amiId, m]));
  }

  async get(amiId: string | undefined): Promise<ManifestLookup> {
    if (amiId === undefined) {
      const [only] = this.byAmi.values();
      return this.byAmi.size === 1 && only
        ? { status: 'found', index: only }
        : { status: 'missing', detail: 'the instance AMI is not known' };
    }
    const invalid = this.invalid.get(amiId);
    if (invalid !== undefined) return { status: 'invalid', detail: invalid };
    const index = this.byAmi.get(amiId);
    return index ? { status: 'found', index } : { status: 'missing', detail: `no manifest for ${amiId}` };
  }
}
