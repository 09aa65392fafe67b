/**
 * In-memory adapters for every port: the fakes the contract suites hold the real adapters to, and
 * what tests and examples wire in when no files or AWS account are involved.
 */

import type { GroupState } from '../domain/decide.ts';
import type { FleetInstance, ManifestLookup } from '../domain/diff.ts';
import type { InstanceSnapshot } from '../domain/inventory.ts';
import type { ManifestIndex } from '../domain/manifest.ts';
import type { AuditReport } from '../domain/report.ts';
import type {
  AuditScope,
  FleetSource,
  InventoryFilter,
  InventorySource,
  ManifestStore,
  Notifier,
  OutboundMessage,
  RefreshPreferences,
  RefreshStart,
  Remediator,
  ReportStore,
} from '../ports.ts';

export class MemoryInventorySource implements InventorySource {
  readonly description = 'memory';
  constructor(private readonly items: readonly InstanceSnapshot[]) {}

  async *snapshots(filter?: InventoryFilter): AsyncGenerator<InstanceSnapshot> {
    for (const item of [...this.items].sort((a, b) => (a.instanceId < b.instanceId ? -1 : 1))) {
      if (!filter?.instanceIds || filter.instanceIds.has(item.instanceId)) yield item;
    }
  }
}

export class MemoryFleetSource implements FleetSource {
  readonly description = 'memory';
  constructor(
    private readonly running: readonly FleetInstance[],
    private readonly amis: ReadonlyMap<string, string> = new Map(),
  ) {}

  async instances(scope?: AuditScope): Promise<FleetInstance[]> {
    return this.running.filter((i) => inScope(i, scope));
  }

  async groupAmis(asgNames?: readonly string[]): Promise<ReadonlyMap<string, string>> {
    return asgNames ? new Map([...this.amis].filter(([name]) => asgNames.includes(name))) : this.amis;
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

/** True when an instance belongs to the scope (every given criterion must hold). */
export function inScope(instance: FleetInstance, scope: AuditScope | undefined): boolean {
  if (!scope) return true;
  if (scope.asgNames && !(instance.asgName !== null && scope.asgNames.includes(instance.asgName)))
    return false;
  if (scope.instanceIds && !scope.instanceIds.includes(instance.instanceId)) return false;
  if (scope.amiId !== undefined && instance.amiId !== scope.amiId) return false;
  return true;
}

export class MemoryReportStore implements ReportStore {
  readonly description = 'memory';
  readonly reports: AuditReport[] = [];

  async put(report: AuditReport): Promise<string> {
    this.reports.push(report);
    return `memory://reports/${report.runId}.json`;
  }
}

/** Keeps what it was asked to publish; can be told to fail, to test that failed alerts are retried. */
export class MemoryNotifier implements Notifier {
  readonly description = 'memory';
  readonly messages: OutboundMessage[] = [];
  failNext = 0;

  async publish(message: OutboundMessage): Promise<{ messageId: string }> {
    if (this.failNext > 0) {
      this.failNext--;
      throw new Error('publish failed (test)');
    }
    this.messages.push(message);
    return { messageId: `msg-${this.messages.length}` };
  }
}

/** Groups with their opt-in tag and refresh state; records every refresh it starts. */
export class MemoryRemediator implements Remediator {
  readonly description = 'memory';
  readonly started: { asgName: string; preferences: RefreshPreferences; refreshId: string }[] = [];
  constructor(
    private readonly groups: ReadonlyMap<
      string,
      { tags: Readonly<Record<string, string>>; refreshInProgress?: boolean }
    >,
  ) {}

  async groupStates(
    asgNames: readonly string[],
    requireTag: string,
    lastRefreshIds: ReadonlyMap<string, string>,
  ): Promise<Map<string, Omit<GroupState, 'refreshesToday'>>> {
    const [key, value] = requireTag.split('=', 2) as [string, string | undefined];
    const out = new Map<string, Omit<GroupState, 'refreshesToday'>>();
    for (const name of asgNames) {
      const group = this.groups.get(name);
      if (!group) continue;
      const tag = Object.hasOwn(group.tags, key) ? group.tags[key] : undefined;
      const lastId = lastRefreshIds.get(name);
      const last = this.started.find((s) => s.refreshId === lastId);
      out.set(name, {
        asgName: name,
        optedIn: tag !== undefined && (value === undefined || tag === value),
        refreshInProgress: group.refreshInProgress ?? false,
        ...(last ? { lastRefresh: { refreshId: last.refreshId, status: 'InProgress' } } : {}),
      });
    }
    return out;
  }

  async startRefresh(asgName: string, preferences: RefreshPreferences): Promise<RefreshStart> {
    if (this.groups.get(asgName)?.refreshInProgress) return { status: 'in-progress', notes: [] };
    const refreshId = `refresh-${this.started.length + 1}`;
    this.started.push({ asgName, preferences, refreshId });
    return { status: 'started', refreshId, autoRollback: preferences.autoRollback, notes: [] };
  }
}
