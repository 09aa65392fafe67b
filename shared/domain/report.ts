/**
 * AuditReport (contract: the JSON printed by `--format json` and stored in S3) and the builder that
 * folds per-instance audits into it one at a time, so a fleet is never held twice.
 */
import { type Decision, decideGroups } from './decide.ts';
import type { InstanceAudit } from './diff.ts';
import { compareFindings, compareText, severityIndex } from './order.ts';
import type { CompiledPolicy, FindingKind, Severity } from './policy.ts';

export type InstanceStatus = 'compliant' | 'drifted' | 'unknown';
export type UnknownReason =
  | 'inventory-stale'
  | 'unmanaged'
  | 'manifest-missing'
  | 'manifest-invalid'
  | 'inventory-partial';

export interface InstanceResult {
  readonly instanceId: string;
  readonly amiId: string | null;
  readonly asgName: string | null;
  readonly status: InstanceStatus;
  /** For `unknown`: exactly one UnknownReason code. Otherwise a short human summary. */
  readonly reason: string;
  /** Human detail (why unknown, what was waived, what part of the inventory was missing). */
  readonly detail?: string;
  readonly captureTime: string | null;
  readonly findings: number;
}

export interface Finding {
  readonly instanceId: string;
  readonly asgName: string | null;
  readonly amiId: string | null;
  readonly kind: FindingKind;
  readonly subject: string;
  /** For package findings: the package architecture ('' for snaps). */
  readonly arch?: string;
  readonly expected: string | null;
  readonly actual: string | null;
  readonly severity: Severity;
  readonly fingerprint: string;
}

export interface WaivedFinding extends Finding {
  readonly waiver: {
    readonly reason: string;
    readonly expires: string;
    readonly source: 'policy' | 'manifest';
  };
}

export interface ReportSummary {
  instances: number;
  compliant: number;
  drifted: number;
  unknown: number;
  findings: Record<Severity, number>;
  /** Unknown instances by reason. */
  unknownReasons: Partial<Record<UnknownReason, number>>;
  waived: number;
}

export interface OperationalError {
  readonly source: string;
  readonly message: string;
}

export interface AuditReport {
  schemaVersion: 1;
  runId: string;
  startedAt: string;
  finishedAt: string;
  /** The time the audit was evaluated at (staleness, waiver expiry). */
  evaluatedAt: string;
  summary: ReportSummary;
  instances: InstanceResult[];
  findings: Finding[];
  decisions: Decision[];
  waived: WaivedFinding[];
  /** Problems that did not stop the run but make parts of it less certain (an invalid manifest, ...). */
  errors: OperationalError[];
  /** What this run audited, when not the whole fleet (a group, an instance, an AMI's instances). */
  scope?: { asgNames?: readonly string[]; instanceIds?: readonly string[]; amiId?: string };
  /** AWS calls made by the run, by `Service.Operation` (live mode only). */
  apiCalls?: Record<string, number>;
}

export interface GroupSummary {
  asgName: string | null;
  instances: number;
  compliant: number;
  drifted: number;
  unknown: number;
  findings: Record<Severity, number>;
}

/** Per Auto Scaling group counts (metrics, digests), groups sorted by name, no group last. */
export function groupSummaries(report: Pick<AuditReport, 'instances' | 'findings'>): GroupSummary[] {
  const groups = new Map<string | null, GroupSummary>();
  const get = (asgName: string | null) => {
    let g = groups.get(asgName);
    if (!g) {
      g = {
        asgName,
        instances: 0,
        compliant: 0,
        drifted: 0,
        unknown: 0,
        findings: { critical: 0, high: 0, medium: 0, low: 0 },
      };
      groups.set(asgName, g);
    }
    return g;
  };
  for (const i of report.instances) {
    const g = get(i.asgName);
    g.instances++;
    g[i.status]++;
  }
  for (const f of report.findings) get(f.asgName).findings[f.severity]++;
  return [...groups.values()].sort((a, b) =>
    a.asgName === null ? 1 : b.asgName === null ? -1 : compareText(a.asgName, b.asgName),
  );
}

export function emptySummary(): ReportSummary {
  return {
    instances: 0,
    compliant: 0,
    drifted: 0,
    unknown: 0,
    findings: { critical: 0, high: 0, medium: 0, low: 0 },
    unknownReasons: {},
    waived: 0,
  };
}

const STATUS_ORDER: Record<InstanceStatus, number> = { drifted: 0, unknown: 1, compliant: 2 };

/** Folds instance audits into a report. Memory follows the findings, not the inventory. */
export class ReportBuilder {
  private readonly instances: InstanceResult[] = [];
  private readonly findings: Finding[] = [];
  private readonly waived: WaivedFinding[] = [];
  private readonly errors: OperationalError[] = [];
  private readonly summary = emptySummary();

  add(audit: InstanceAudit): void {
    const { result } = audit;
    this.instances.push(result);
    this.summary.instances++;
    this.summary[result.status]++;
    if (result.status === 'unknown') {
      const reason = result.reason as UnknownReason;
      this.summary.unknownReasons[reason] = (this.summary.unknownReasons[reason] ?? 0) + 1;
    }
    for (const f of audit.findings) {
      this.findings.push(f);
      this.summary.findings[f.severity]++;
    }
    for (const w of audit.waived) this.waived.push(w);
    this.summary.waived += audit.waived.length;
  }

  addError(error: OperationalError): void {
    if (!this.errors.some((e) => e.source === error.source && e.message === error.message))
      this.errors.push(error);
  }

  get size(): number {
    return this.instances.length;
  }

  build(meta: {
    runId: string;
    startedAt: Date;
    finishedAt: Date;
    evaluatedAt: Date;
    policy: CompiledPolicy;
  }): AuditReport {
    const instances = [...this.instances].sort(
      (a, b) =>
        compareText(a.asgName ?? '', b.asgName ?? '') ||
        STATUS_ORDER[a.status] - STATUS_ORDER[b.status] ||
        compareText(a.instanceId, b.instanceId),
    );
    const findings = [...this.findings].sort(compareFindings);
    return {
      schemaVersion: 1,
      runId: meta.runId,
      startedAt: meta.startedAt.toISOString(),
      finishedAt: meta.finishedAt.toISOString(),
      evaluatedAt: meta.evaluatedAt.toISOString(),
      summary: structuredClone(this.summary),
      instances,
      findings,
      decisions: decideGroups(instances, findings, meta.policy),
      waived: [...this.waived].sort(
        (a, b) =>
          compareText(a.instanceId, b.instanceId) ||
          compareText(a.kind, b.kind) ||
          compareText(a.subject, b.subject),
      ),
      errors: [...this.errors],
    };
  }
}

/** Merges per-scope reports (fan-out over groups, accounts, regions): concatenate, sum the summary. */
export function mergeReports(reports: readonly AuditReport[], meta: { runId: string }): AuditReport {
  if (reports.length === 0) throw new Error('mergeReports needs at least one report');
  const summary = emptySummary();
  for (const r of reports) {
    summary.instances += r.summary.instances;
    summary.compliant += r.summary.compliant;
    summary.drifted += r.summary.drifted;
    summary.unknown += r.summary.unknown;
    summary.waived += r.summary.waived;
    for (const s of Object.keys(summary.findings) as Severity[]) summary.findings[s] += r.summary.findings[s];
    for (const [reason, n] of Object.entries(r.summary.unknownReasons) as [UnknownReason, number][]) {
      summary.unknownReasons[reason] = (summary.unknownReasons[reason] ?? 0) + n;
    }
  }
  const times = reports.map((r) => [r.startedAt, r.finishedAt] as const);
  const first = reports[0] as AuditReport;
  return {
    schemaVersion: 1,
    runId: meta.runId,
    startedAt: times.map((t) => t[0]).sort()[0] as string,
    finishedAt: times
      .map((t) => t[1])
      .sort()
      .at(-1) as string,
    evaluatedAt: first.evaluatedAt,
    summary,
    instances: reports.flatMap((r) => r.instances),
    findings: reports.flatMap((r) => r.findings),
    decisions: reports.flatMap((r) => r.decisions),
    waived: reports.flatMap((r) => r.waived),
    errors: reports.flatMap((r) => r.errors),
  };
}

/** The worst severity among findings, or undefined when there are none. */
export function worstSeverity(findings: readonly { severity: Severity }[]): Severity | undefined {
  let worst: Severity | undefined;
  for (const f of findings)
    if (worst === undefined || severityIndex(f.severity) < severityIndex(worst)) worst = f.severity;
  return worst;
}
