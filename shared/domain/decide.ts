/**
 * Per-group decision from an audit: none | notify | refresh, with the reasons. Pure.
 *
 * This module decides from the audit alone. Refresh guards that need live state (the group's
 * opt-in tag, refreshes already running or started today, alert history) are applied by the act
 * use case, which can only narrow a decision, never widen it.
 */
import { type CompiledPolicy, type Severity, severityRank } from './policy.ts';
import type { Finding, InstanceResult } from './report.ts';

export type DecisionAction = 'none' | 'notify' | 'refresh';

export interface Decision {
  readonly asgName: string | null;
  readonly action: DecisionAction;
  readonly reasons: readonly string[];
}

interface GroupTally {
  instances: number;
  drifted: number;
  unknown: number;
  findings: Finding[];
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

export function decideGroups(
  instances: readonly InstanceResult[],
  findings: readonly Finding[],
  policy: CompiledPolicy,
): Decision[] {
  const groups = new Map<string | null, GroupTally>();
  const tally = (asg: string | null) => {
    let g = groups.get(asg);
    if (!g) {
      g = { instances: 0, drifted: 0, unknown: 0, findings: [] };
      groups.set(asg, g);
    }
    return g;
  };
  for (const i of instances) {
    const g = tally(i.asgName);
    g.instances++;
    if (i.status === 'drifted') g.drifted++;
    if (i.status === 'unknown') g.unknown++;
  }
  for (const f of findings) tally(f.asgName).findings.push(f);

  const { remediation } = policy.policy;
  const decisions: Decision[] = [];
  for (const [asgName, g] of groups) {
    const reasons: string[] = [];
    if (g.drifted === 0) {
      if (g.unknown > 0) reasons.push(`${plural(g.unknown, 'instance')} could not be checked`);
      decisions.push({ asgName, action: 'none', reasons: reasons.length ? reasons : ['no drift'] });
      continue;
    }
    const worst = g.findings.reduce<Severity>(
      (w, f) => (severityRank(f.severity) > severityRank(w) ? f.severity : w),
      'low',
    );
    reasons.push(`${plural(g.drifted, 'drifted instance')} of ${g.instances}, worst severity ${worst}`);
    if (g.unknown > 0) reasons.push(`${plural(g.unknown, 'instance')} could not be checked`);
    const fraction = g.drifted / g.instances;
    let action: DecisionAction = 'notify';
    if (remediation.mode === 'notify') {
      reasons.push('remediation mode is notify');
    } else if (asgName === null) {
      reasons.push('not in an Auto Scaling group: nothing to refresh');
    } else if (severityRank(worst) < severityRank(remediation.minSeverity)) {
      reasons.push(`below minSeverity ${remediation.minSeverity}: notify only`);
    } else if (fraction > remediation.maxDriftedFraction) {
      reasons.push(
        `brake: ${Math.round(fraction * 100)}% of the group drifted (limit ${Math.round(remediation.maxDriftedFraction * 100)}%): suspect the baseline, never refresh`,
      );
    } else {
      action = 'refresh';
      if (remediation.mode === 'dry-run') reasons.push('dry-run: would refresh, changes nothing');
    }
    decisions.push({ asgName, action, reasons });
  }
  return decisions.sort((a, b) => (a.asgName ?? '').localeCompare(b.asgName ?? ''));
}
