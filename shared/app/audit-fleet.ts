/**
 * The audit use case: inventory source -> engine -> report. The same code runs in the CLI (local
 * files or live AWS) and in the audit Lambda; only the adapters differ.
 *
 * It streams: instances are audited as the source yields them, and only the (small) fleet list and
 * the findings are held.
 */
import { auditInstance, type FleetInstance, type InstanceAuditInput } from '../domain/diff.ts';
import { isGone } from '../domain/inventory.ts';
import type { CompiledPolicy } from '../domain/policy.ts';
import { type AuditReport, ReportBuilder } from '../domain/report.ts';
import type { FleetSource, InventorySource, ManifestStore } from '../ports.ts';

export interface AuditFleetDeps {
  readonly inventory: InventorySource;
  /** Without a fleet source every inventoried instance is audited, with its AMI unknown. */
  readonly fleet?: FleetSource | undefined;
  readonly manifests: ManifestStore;
}

export interface AuditFleetOptions {
  readonly policy: CompiledPolicy;
  /** Evaluation time: staleness and waiver expiry are judged at this instant. */
  readonly now: Date;
  readonly runId: string;
  /** Wall clock for startedAt/finishedAt. */
  readonly clock?: () => Date;
  /** Called after each audited instance. */
  readonly onInstance?: (audited: number) => void;
}

export async function auditFleet(deps: AuditFleetDeps, options: AuditFleetOptions): Promise<AuditReport> {
  const clock = options.clock ?? (() => new Date());
  const startedAt = clock();
  const ctx = { policy: options.policy, now: options.now };
  const builder = new ReportBuilder();

  let running: Map<string, FleetInstance> | undefined;
  let groupAmis: ReadonlyMap<string, string> = new Map();
  if (deps.fleet) {
    running = new Map((await deps.fleet.instances()).map((i) => [i.instanceId, i]));
    groupAmis = await deps.fleet.groupAmis();
  }

  const audit = async (input: Omit<InstanceAuditInput, 'manifest' | 'groupAmiId'>) => {
    const { instance } = input;
    const manifest = await deps.manifests.get(instance.amiId);
    if (manifest.status === 'invalid')
      builder.addError({ source: `manifest ${instance.amiId}`, message: manifest.detail });
    const groupAmiId = instance.asgName ? groupAmis.get(instance.asgName) : undefined;
    builder.add(auditInstance({ ...input, manifest, groupAmiId }, ctx));
    options.onInstance?.(builder.size);
  };

  const seen = new Set<string>();
  for await (const snapshot of deps.inventory.snapshots()) {
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
    await audit({ instance, snapshot });
  }
  if (running) {
    for (const instance of running.values()) {
      if (!seen.has(instance.instanceId)) await audit({ instance, snapshot: undefined });
    }
  }

  return builder.build({
    runId: options.runId,
    startedAt,
    finishedAt: clock(),
    evaluatedAt: options.now,
    policy: options.policy,
  });
}
