/** Orderings shared by the report, its renderers and the digests: stable output for stable diffs. */
import type { Severity } from './policy.ts';
import type { Finding } from './report.ts';

/** Code-unit order (locale-independent, so output does not change with the machine's locale). */
export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export const SEVERITIES_WORST_FIRST: readonly Severity[] = ['critical', 'high', 'medium', 'low'];

/** 0 for critical ... 3 for low; anything else sorts after low. */
export function severityIndex(severity: string | undefined): number {
  const index = SEVERITIES_WORST_FIRST.indexOf(severity as Severity);
  return index === -1 ? SEVERITIES_WORST_FIRST.length : index;
}

/** Worst first, then instance, kind, subject, architecture: the order within one group. */
export function compareFindingsInGroup(a: Finding, b: Finding): number {
  return (
    severityIndex(a.severity) - severityIndex(b.severity) ||
    compareText(a.instanceId, b.instanceId) ||
    compareText(a.kind, b.kind) ||
    compareText(a.subject, b.subject) ||
    compareText(a.arch ?? '', b.arch ?? '')
  );
}

/** Worst first, then group, instance, kind, subject, architecture: the report's order. */
export function compareFindings(a: Finding, b: Finding): number {
  return (
    severityIndex(a.severity) - severityIndex(b.severity) ||
    compareText(a.asgName ?? '', b.asgName ?? '') ||
    compareFindingsInGroup(a, b)
  );
}
