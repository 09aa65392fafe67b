/**
 * The audit use case: fleet + inventory -> engine -> report (-> report store). The same code runs
 * in the CLI (local files or live AWS) and in the audit Lambda; only the adapters differ.
 *
 * It streams: instances are audited as the inventory source yields them; only the running-instance
 * list (small) and the findings are held.
 */
import { auditInstance, type FleetInstance, type InstanceAuditInput } from '../domain/diff.ts';
import { isGone } from '../domain/inventory.ts';
import type { CompiledPolicy } from '../domain/policy.ts';
import { type AuditReport, ReportBuilder } from '../domain/report.ts';
import type {
  AuditScope,
  FleetSource,
  InventoryFilter,
  InventorySource,
  ManifestStore,
  ReportStore,
} from '../ports.ts';

export interface AuditFleetDeps {
  readonly inventory: InventorySource;
  /** Without a fleet source every inventoried instance is audited, with its AMI unknown. */
  readonly fleet?: FleetSource | undefined;
  readonly manifests: ManifestStore;
  /** Where the report is kept; the run's report location is returned. */
  readonly reports?: ReportStore | undefined;
}

export interface AuditFleetOptions {
  readonly policy: CompiledPolicy;
  /** Evaluation time: staleness and waiver expiry are judged at this instant. */
  readonly now: Date;
  readonly runId: string;
  /** What to audit; the whole fleet when absent. */
  readonly scope?: AuditScope | undefined;
  /** Wall clock for startedAt/finishedAt. */
  readonly clock?: () => Date;
  /** Called after each audited instance with the count so far. */
  readonly onInstance?: (audited: number) => void;
  /** The AWS calls made so far (live mode), read when the report is built. */
  readonly apiCalls?: () => Record<string, number>;
}

export interface AuditFleetResult {
  readonly report: AuditReport;
  /** Where the report store put it, when there is one. */
  readonly location?: string;
}

function describeScope(scope: AuditScope | undefined): AuditReport['scope'] | undefined {
  if (!scope) return undefined;
  const out: NonNullable<AuditReport['scope']> = {};
  if (scope.asgNames?.length) out.asgNames = [...scope.asgNames].sort();
  if (scope.instanceIds?.length) out.instanceIds = [...scope.instanceIds].sort();
  if (scope.amiId) out.amiId = scope.amiId;
  return Object.keys(out).length ? out : undefined;
}

export async function auditFleet(
  deps: AuditFleetDeps,
  options: AuditFleetOptions,
): Promise<AuditFleetResult> {
  const clock = options.clock ?? (() => new Date());
  const startedAt = clock();
  const ctx = { policy: options.policy, now: options.now };
  const builder = new ReportBuilder();
  const scope = options.scope;
  deps.manifests.startRun?.();

  let running: Map<string, FleetInstance> | undefined;
  let groupAmis: ReadonlyMap<string, string> = new Map();
  let filter: InventoryFilter | undefined;
  if (deps.fleet) {
    running = new Map((await deps.fleet.instances(scope)).map((i) => [i.instanceId, i]));
    const groups = [...new Set([...running.values()].flatMap((i) => (i.asgName ? [i.asgName] : [])))].sort();
    groupAmis = groups.length ? await deps.fleet.groupAmis(groups) : new Map();
    filter = {
      instanceIds: new Set(running.keys()),
      ...(scope?.locations ? { locations: scope.locations } : {}),
    };
  } else if (scope?.instanceIds) {
    filter = {
      instanceIds: new Set(scope.instanceIds),
      ...(scope.locations ? { locations: scope.locations } : {}),
    };
  }

  const audit = async (input: Omit<InstanceAuditInput, 'manifest' | 'groupAmiId'>) => {
    const { instance } = input;
    const manifest = await deps.manifests.get(instance.amiId);
    if (manifest.status === 'invalid')
      builder.addError({ source: `manifest ${instance.amiId}`, message: manifest.detail });
    const groupAmiId = instance.asgName ? groupAmis.get(instance.asgName) : undefined;
    const audited = auditInstance({ ...input, manifest, groupAmiId }, ctx);
    const note =
      audited.result.status === 'compliant' ? undefined : deps.inventory.instanceNote?.(instance.instanceId);
    builder.add(
      note
        ? {
            ...audited,
            result: { ...audited.result, detail: [audited.result.detail, note].filter(Boolean).join('; ') },
          }
        : audited,
    );
    options.onInstance?.(builder.size);
  };

  const seen = new Set<string>();
  const unreadable: string[] = [];
  // With a fleet, an empty scope means nothing runs there: do not read the whole inventory for it.
  if (!running || running.size > 0) {
    for await (const snapshot of deps.inventory.snapshots(filter)) {
      if (isGone(snapshot) || seen.has(snapshot.instanceId)) continue;
      let instance: FleetInstance | undefined;
      if (running) {
        // Files of deleted or stopped instances stay in a sync: only running instances are audited.
        instance = running.get(snapshot.instanceId);
        if (!instance) continue;
      } else {
        instance = { instanceId: snapshot.instanceId, amiId: undefined, asgName: null };
      }
      seen.add(snapshot.instanceId);
      if (snapshot.problems.length > 0) unreadable.push(`${snapshot.instanceId}: ${snapshot.problems[0]}`);
      await audit({ instance, snapshot });
    }
  }
  if (running) {
    for (const instance of running.values()) {
      if (!seen.has(instance.instanceId)) await audit({ instance, snapshot: undefined });
    }
  }

  if (unreadable.length > 0) {
    // Throttled past the retries, an object too large or malformed: those instances are unknown
    // (inventory-partial) or drifted on what could be read, never compliant. Say how many.
    const shown = unreadable.slice(0, 3).join('; ');
    const more = unreadable.length > 3 ? `; and ${unreadable.length - 3} more` : '';
    builder.addError({
      source: `inventory ${deps.inventory.description}`,
      message: `${unreadable.length} instance(s) could only partly be read: ${shown}${more}`,
    });
  }
  const report = builder.build({
    runId: options.runId,
    startedAt,
    finishedAt: clock(),
    evaluatedAt: options.now,
    policy: options.policy,
  });
  const described = describeScope(scope);
  if (described) report.scope = described;
  if (options.apiCalls) report.apiCalls = options.apiCalls();
  const location = deps.reports ? await deps.reports.put(report) : undefined;
  return location === undefined ? { report } : { report, location };
}
