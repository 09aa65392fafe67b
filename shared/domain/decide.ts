/**
 * Per-group decisions, with the reasons. Pure: plain data in (and `now`), plain data out.
 *
 * `decideGroups` decides from the audit alone (the report's `decisions`). `decideActions` adds what
 * only live state knows (the group's opt-in tag, refreshes running or started today, what was last
 * alerted) and decides what the act step does: publish or not, refresh or not. Both use the same
 * guards, so the act decision can only narrow the report's, never widen it.
 */
import { type CompiledPolicy, type Severity, severityRank } from './policy.ts';
import type { Finding, InstanceResult } from './report.ts';

export type DecisionAction = 'none' | 'notify' | 'refresh';

export interface Decision {
  readonly asgName: string | null;
  readonly action: DecisionAction;
  readonly reasons: readonly string[];
}

// ---------------------------------------------------------------------------------------------
// Acting on drift: the live facts a decision needs, and the decision the act step carries out.

/** What is known, live, about one Auto Scaling group when deciding (from Auto Scaling and AlertState). */
export interface GroupState {
  readonly asgName: string;
  /** The group carries the opt-in tag (`remediation.requireTag`, `key=value` or just `key`). */
  readonly optedIn: boolean;
  /** An instance refresh is Pending/InProgress/Cancelling/RollbackInProgress/Baking for the group. */
  readonly refreshInProgress: boolean;
  /** Refreshes driftwatch started for the group in the last 24 hours. */
  readonly refreshesToday: number;
  /** The last refresh driftwatch started, with its outcome as Auto Scaling reports it now. */
  readonly lastRefresh?: RefreshOutcome | undefined;
}

export interface RefreshOutcome {
  readonly refreshId: string;
  /** Auto Scaling's status: Pending, InProgress, Successful, Failed, Cancelled, RollbackSuccessful, ... */
  readonly status: string;
  readonly startedAt?: string | undefined;
  readonly statusReason?: string | undefined;
}

/** What was last alerted for a group: its drift identity (sorted finding fingerprints) and when. */
export interface AlertMemory {
  readonly fingerprints: readonly string[];
  readonly alertedAt: string;
}

/**
 * Why a message goes out this run: drift never alerted (`new`), drift that differs from what was
 * alerted (`changed`), unchanged drift past `remindAfter` (`reminder`), drift that cleared
 * (`resolved`), or the blast-radius brake (`suspect-baseline`: too much of the group drifted the same
 * way, the manifest is more likely wrong than the fleet).
 */
export type AlertKind = 'new' | 'changed' | 'reminder' | 'resolved' | 'suspect-baseline';

/** A group decision the act step carries out. `action` and `reasons` are the report's Decision. */
export interface ActDecision extends Decision {
  readonly asgName: string | null;
  /**
   * Publish a digest this run, and why; undefined: nothing to say (no drift, or unchanged drift). A
   * refresh that actually starts is announced by the act step even when this is undefined.
   */
  readonly alert?: AlertKind | undefined;
  /** Start an instance refresh this run (never in dry-run, never past a guard). */
  readonly refresh: boolean;
  /** dry-run mode: `action` says what would happen; nothing is changed. */
  readonly dryRun: boolean;
  /** The group's current drift identity: sorted, de-duplicated fingerprints of its findings. */
  readonly fingerprints: readonly string[];
  readonly worstSeverity?: Severity | undefined;
}

export interface DecideActionsInput {
  readonly instances: readonly InstanceResult[];
  readonly findings: readonly Finding[];
  readonly policy: CompiledPolicy;
  /** Live state per group name; a group missing here is treated as not opted in. */
  readonly groups: ReadonlyMap<string, GroupState>;
  /**
   * Last alert per group name (instances outside any group under ''). A group with remembered drift
   * and none now gets a `resolved` alert, once every one of its instances could be checked.
   */
  readonly memory: ReadonlyMap<string, AlertMemory>;
  readonly now: Date;
}

// ---------------------------------------------------------------------------------------------
// What the audit says about one group: shared by the report's decision and the act decision.

interface GroupTally {
  instances: number;
  drifted: number;
  unknown: number;
  /** Instances whose status is `drifted`: only they count towards the brake. */
  driftedIds: Set<string>;
  findings: Finding[];
}

function emptyTally(): GroupTally {
  return { instances: 0, drifted: 0, unknown: 0, driftedIds: new Set(), findings: [] };
}

function tallyInstances(instances: readonly InstanceResult[]): Map<string | null, GroupTally> {
  const groups = new Map<string | null, GroupTally>();
  for (const i of instances) {
    let g = groups.get(i.asgName);
    if (!g) {
      g = emptyTally();
      groups.set(i.asgName, g);
    }
    g.instances++;
    if (i.status === 'drifted') {
      g.drifted++;
      g.driftedIds.add(i.instanceId);
    }
    if (i.status === 'unknown') g.unknown++;
  }
  return groups;
}

function plural(n: number, word: string, many = `${word}s`): string {
  return `${n} ${n === 1 ? word : many}`;
}

function worstOf(findings: readonly Finding[]): Severity | undefined {
  let worst: Severity | undefined;
  for (const f of findings)
    if (worst === undefined || severityRank(f.severity) > severityRank(worst)) worst = f.severity;
  return worst;
}

/** "2 drifted instances of 6, worst severity high" (+ "1 instance could not be checked"). */
function driftSummary(g: GroupTally, worst: Severity): string[] {
  const reasons = [`${plural(g.drifted, 'drifted instance')} of ${g.instances}, worst severity ${worst}`];
  if (g.unknown > 0) reasons.push(`${plural(g.unknown, 'instance')} could not be checked`);
  return reasons;
}

function shortValue(value: string | null): string {
  if (value === null) return 'absent';
  return value.length > 40 ? `${value.slice(0, 12)}…` : value;
}

/** The blast-radius brake: the drift signature most of the group shares, when it shares too much. */
interface Brake {
  readonly signature: string;
  readonly count: number;
  readonly checked: number;
}

/**
 * A drift signature is a finding without its instance (kind, subject, arch, expected, actual). The
 * brake trips when the drifted instances sharing one signature, over the instances that could be
 * checked (compliant + drifted: an unknown instance is neither evidence for nor against the
 * manifest), exceed `maxDriftedFraction`: that much of a group drifting the same way says the
 * manifest is wrong, not the fleet.
 */
function brakeOf(g: GroupTally, maxDriftedFraction: number): Brake | undefined {
  const checked = g.instances - g.unknown;
  if (checked === 0) return undefined;
  const bySignature = new Map<string, { text: string; instances: Set<string> }>();
  for (const f of g.findings) {
    if (!g.driftedIds.has(f.instanceId)) continue;
    const key = JSON.stringify([f.kind, f.subject, f.arch ?? '', f.expected, f.actual]);
    let entry = bySignature.get(key);
    if (!entry) {
      const arch = f.arch ? ` (${f.arch})` : '';
      const text = `${f.kind} ${f.subject}${arch} ${shortValue(f.expected)} -> ${shortValue(f.actual)}`;
      entry = { text, instances: new Set() };
      bySignature.set(key, entry);
    }
    entry.instances.add(f.instanceId);
  }
  let widest: { text: string; count: number } | undefined;
  for (const { text, instances } of bySignature.values()) {
    const count = instances.size;
    if (!widest || count > widest.count || (count === widest.count && text < widest.text))
      widest = { text, count };
  }
  if (!widest || widest.count / checked <= maxDriftedFraction) return undefined;
  return { signature: widest.text, count: widest.count, checked };
}

function brakeReason(brake: Brake, maxDriftedFraction: number): string {
  const percent = (n: number) => `${Math.round(n * 100)}%`;
  return (
    `brake: ${brake.count} of ${plural(brake.checked, 'checked instance')} ${brake.count === 1 ? 'has' : 'have'} ${brake.signature} ` +
    `(${percent(brake.count / brake.checked)}, limit ${percent(maxDriftedFraction)}): suspect the manifest, never refresh`
  );
}

type Remediation = CompiledPolicy['policy']['remediation'];

/**
 * The refresh guards, in order; the first that stops a refresh gives the reason (undefined: all
 * pass). `live` is the group's live state, or undefined when deciding from the audit alone (the
 * report): then the live guards (opt-in tag, refresh running, refreshes today) are left to the act
 * step, which can only narrow the decision, never widen it.
 */
function refreshBlocker(
  remediation: Remediation,
  asgName: string | null,
  worst: Severity,
  brake: Brake | undefined,
  live: { readonly state: GroupState | undefined } | undefined,
): string | undefined {
  if (remediation.mode === 'notify') return 'remediation mode is notify';
  if (asgName === null) return 'not in an Auto Scaling group: nothing to refresh';
  if (live && !live.state?.optedIn) return `not opted in: the group lacks the tag ${remediation.requireTag}`;
  if (severityRank(worst) < severityRank(remediation.minSeverity))
    return `below minSeverity ${remediation.minSeverity}: notify only`;
  if (brake) return brakeReason(brake, remediation.maxDriftedFraction);
  if (live?.state?.refreshInProgress)
    return 'an instance refresh is already in progress: not starting another';
  if (live && (live.state?.refreshesToday ?? 0) >= remediation.maxRefreshesPerDay)
    return `${plural(live.state?.refreshesToday ?? 0, 'refresh', 'refreshes')} started in the last 24 hours (maxRefreshesPerDay ${remediation.maxRefreshesPerDay})`;
  return undefined;
}

const DRY_RUN_REASON = 'dry-run: would start an instance refresh; nothing changed';

/**
 * The report's decision per group, from the audit alone: `refresh` means the policy would allow a
 * refresh on this evidence; the act step still checks the live guards before starting one.
 */
export function decideGroups(
  instances: readonly InstanceResult[],
  findings: readonly Finding[],
  policy: CompiledPolicy,
): Decision[] {
  const groups = tallyInstances(instances);
  for (const f of findings) {
    let g = groups.get(f.asgName);
    if (!g) {
      g = emptyTally();
      groups.set(f.asgName, g);
    }
    g.findings.push(f);
  }

  const { remediation } = policy.policy;
  const decisions: Decision[] = [];
  for (const [asgName, g] of groups) {
    const worst = worstOf(g.findings);
    if (g.drifted === 0 || worst === undefined) {
      const reasons =
        g.unknown > 0 ? [`${plural(g.unknown, 'instance')} could not be checked`] : ['no drift'];
      decisions.push({ asgName, action: 'none', reasons });
      continue;
    }
    const reasons = driftSummary(g, worst);
    const brake = brakeOf(g, remediation.maxDriftedFraction);
    const blocker = refreshBlocker(remediation, asgName, worst, brake, undefined);
    if (blocker) reasons.push(blocker);
    else if (remediation.mode === 'dry-run') reasons.push(DRY_RUN_REASON);
    decisions.push({ asgName, action: blocker ? 'notify' : 'refresh', reasons });
  }
  return decisions.sort((a, b) => (a.asgName ?? '').localeCompare(b.asgName ?? ''));
}

// ---------------------------------------------------------------------------------------------
// The act decision: the report's decision narrowed by live state, plus alert de-duplication.

/** "45m", "3h", "1h30m", "3d": how long ago, or how often, in words an operator reads. */
function formatDuration(ms: number): string {
  const minutes = Math.floor(Math.max(0, ms) / 60_000);
  if (minutes === 0) return `${Math.floor(Math.max(0, ms) / 1000)}s`;
  const days = Math.floor(minutes / 1440);
  if (days >= 2) {
    const hours = Math.floor((minutes % 1440) / 60);
    return hours ? `${days}d${hours}h` : `${days}d`;
  }
  const hours = Math.floor(minutes / 60);
  const rest = minutes % 60;
  return hours === 0 ? `${rest}m` : rest ? `${hours}h${rest}m` : `${hours}h`;
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/**
 * De-duplication against what was last alerted. `fingerprints` and `memory.fingerprints` are sorted
 * and unique. Unchanged drift is alerted again only once `remindAfter` has passed since the last
 * alert (an unreadable `alertedAt` counts as due: better one reminder too many than silence).
 */
function alertOf(
  fingerprints: readonly string[],
  memory: AlertMemory | undefined,
  unknown: number,
  now: Date,
  remindAfter: number,
): { kind: AlertKind | undefined; reason: string | undefined } {
  const remembered = memory?.fingerprints ?? [];
  const alertedAt = memory ? Date.parse(memory.alertedAt) : Number.NaN;
  const ago = Number.isNaN(alertedAt)
    ? 'at an unknown time'
    : `${formatDuration(now.getTime() - alertedAt)} ago`;
  if (fingerprints.length === 0) {
    if (remembered.length === 0) return { kind: undefined, reason: undefined };
    // Unknown is never compliant: drift that may only have gone out of sight is not resolved.
    if (unknown > 0)
      return {
        kind: undefined,
        reason: `alerted drift (${ago}) is gone from the checked instances; not resolved while some could not be checked`,
      };
    return { kind: 'resolved', reason: `drift resolved (alerted ${ago})` };
  }
  if (remembered.length === 0)
    return { kind: 'new', reason: `new drift: ${plural(fingerprints.length, 'finding')}` };
  if (!sameSet(fingerprints, remembered)) {
    const before = new Set(remembered);
    const current = new Set(fingerprints);
    const added = fingerprints.filter((f) => !before.has(f)).length;
    const gone = remembered.filter((f) => !current.has(f)).length;
    return { kind: 'changed', reason: `drift changed since the alert ${ago}: ${added} new, ${gone} gone` };
  }
  if (Number.isNaN(alertedAt) || now.getTime() - alertedAt >= remindAfter)
    return {
      kind: 'reminder',
      reason: `unchanged drift, alerted ${ago}: reminder (every ${formatDuration(remindAfter)})`,
    };
  return {
    kind: undefined,
    reason: `unchanged drift, alerted ${ago}; reminder after ${formatDuration(remindAfter)}`,
  };
}

function compareGroupNames(a: string | null, b: string | null): number {
  if (a === b) return 0;
  if (a === null) return 1;
  if (b === null) return -1;
  return a < b ? -1 : 1;
}

/**
 * What to do per group this run: whether to publish (and why), and whether to start an instance
 * refresh. One decision per group with instances in `input.instances` (instances outside any group
 * under `asgName: null`, alert memory key ''), sorted by name, no group last. Groups that are not
 * part of this run are left alone: a scoped run never resolves drift it did not look at.
 *
 * - Alert: `new` (never alerted, or the last alert was a resolution), `changed` (the fingerprint set
 *   differs from the last alert), `reminder` (unchanged and `remindAfter` has passed), `resolved`
 *   (no findings now, remembered drift, and every instance could be checked), or none.
 * - Brake: when one drift signature covers more than `maxDriftedFraction` of the checked instances,
 *   the alert that de-duplication allows is sent as `suspect-baseline`, and the group is never
 *   refreshed.
 * - Refresh guards, in order: mode refresh or dry-run, a group, the opt-in tag, `minSeverity`, the
 *   brake, no refresh in progress, fewer than `maxRefreshesPerDay` today. Unknown instances never
 *   trigger a refresh (only findings do) and do not block one either: a refresh replaces them too.
 *   In dry-run the decision says `refresh` with `refresh: false`.
 * - A refresh decision keeps the alert de-duplication computed: when the drift was already alerted,
 *   `alert` stays undefined, and the act step announces the refresh once it has actually started
 *   (a refused or already-running refresh must not turn into a reminder every run).
 */
export function decideActions(input: DecideActionsInput): ActDecision[] {
  const { remediation } = input.policy.policy;
  const groups = tallyInstances(input.instances);
  for (const f of input.findings) groups.get(f.asgName)?.findings.push(f);

  const decisions: ActDecision[] = [];
  for (const [asgName, g] of groups) {
    const fingerprints = [...new Set(g.findings.map((f) => f.fingerprint))].sort();
    const worst = worstOf(g.findings);
    const memory = input.memory.get(asgName ?? '');
    const alert = alertOf(fingerprints, memory, g.unknown, input.now, remediation.remindAfter);
    const base = { asgName, refresh: false, dryRun: remediation.mode === 'dry-run', fingerprints };

    if (worst === undefined) {
      const reasons: string[] = [];
      if (g.unknown < g.instances) reasons.push('no drift');
      if (g.unknown > 0) reasons.push(`${plural(g.unknown, 'instance')} could not be checked`);
      if (alert.reason) reasons.push(alert.reason);
      decisions.push({ ...base, action: alert.kind ? 'notify' : 'none', alert: alert.kind, reasons });
      continue;
    }

    const reasons = [...driftSummary(g, worst)];
    if (alert.reason) reasons.push(alert.reason);
    const brake = brakeOf(g, remediation.maxDriftedFraction);
    let kind = alert.kind;
    if (brake) {
      reasons.push(brakeReason(brake, remediation.maxDriftedFraction));
      if (kind) kind = 'suspect-baseline';
    }
    const live = { state: asgName === null ? undefined : input.groups.get(asgName) };
    const blocker = refreshBlocker(remediation, asgName, worst, brake, live);
    if (blocker && !reasons.includes(blocker)) reasons.push(blocker);
    const refresh = blocker === undefined;
    if (refresh)
      reasons.push(
        remediation.mode === 'dry-run' ? DRY_RUN_REASON : 'guards passed: starting an instance refresh',
      );
    decisions.push({
      ...base,
      action: refresh ? 'refresh' : 'notify',
      alert: kind,
      refresh: refresh && remediation.mode === 'refresh',
      worstSeverity: worst,
      reasons,
    });
  }
  return decisions.sort((a, b) => compareGroupNames(a.asgName, b.asgName));
}
