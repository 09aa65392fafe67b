import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type ActDecision,
  type AlertMemory,
  decideActions,
  decideGroups,
  type GroupState,
} from '../../shared/domain/decide.ts';
import { SEVERITIES, type Severity, severityRank } from '../../shared/domain/policy.ts';
import type { Finding, InstanceResult, InstanceStatus } from '../../shared/domain/report.ts';
import { AMI, FRESH, NOW, policy } from '../helpers/domain.ts';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

function result(instanceId: string, asgName: string | null, status: InstanceStatus): InstanceResult {
  return {
    instanceId,
    amiId: AMI,
    asgName,
    status,
    reason: status === 'unknown' ? 'inventory-stale' : status,
    captureTime: FRESH,
    findings: 0,
  };
}

function finding(
  instance: InstanceResult,
  subject: string,
  actual: string,
  severity: Severity,
  fingerprint: string,
): Finding {
  return {
    instanceId: instance.instanceId,
    asgName: instance.asgName,
    amiId: AMI,
    kind: 'package-changed',
    subject,
    arch: 'x86_64',
    expected: '1.0-1',
    actual,
    severity,
    fingerprint,
  };
}

// ---------------------------------------------------------------------------------------------
// A sequence of runs over one group.

/**
 * One run of the group `web`: ten instances. Fingerprint `fN` is drift on instance N (0-4); the
 * others are compliant, except the first `unknown` of instances 5-9. With `shared`, every drifted
 * instance drifted the same way (one signature), so the brake trips on enough of them.
 */
interface Run {
  readonly drift: readonly string[];
  readonly shared: boolean;
  readonly unknown: number;
  readonly step: number;
  readonly state: Omit<GroupState, 'asgName'>;
}

const POOL = ['f0', 'f1', 'f2', 'f3', 'f4'];

const runArb: fc.Arbitrary<Run> = fc.record({
  // Repeats of the same set are what de-duplication is about: draw from few sets, often empty.
  drift: fc.oneof(
    { weight: 1, arbitrary: fc.constant([] as string[]) },
    { weight: 4, arbitrary: fc.subarray(POOL.slice(0, 3), { minLength: 1 }) },
    { weight: 1, arbitrary: fc.subarray(POOL, { minLength: 1 }) },
  ),
  shared: fc.boolean(),
  unknown: fc.constantFrom(0, 0, 0, 1, 2),
  step: fc.oneof(
    fc.constantFrom(0, MINUTE, HOUR, 24 * HOUR - 1, 24 * HOUR, 25 * HOUR),
    fc.integer({ min: 0, max: 30 * HOUR }),
  ),
  state: fc.record({
    optedIn: fc.boolean(),
    refreshInProgress: fc.boolean(),
    refreshesToday: fc.integer({ min: 0, max: 2 }),
  }),
});

function runAudit(run: Run): { instances: InstanceResult[]; findings: Finding[] } {
  const instances: InstanceResult[] = [];
  const findings: Finding[] = [];
  POOL.forEach((fp, n) => {
    const drifted = run.drift.includes(fp);
    const instance = result(`i-${n}`, 'web', drifted ? 'drifted' : 'compliant');
    instances.push(instance);
    if (drifted) findings.push(finding(instance, run.shared ? 'openssl' : `pkg-${n}`, '0.9-1', 'high', fp));
  });
  for (let n = 5; n < 10; n++)
    instances.push(result(`i-${n}`, 'web', n - 5 < run.unknown ? 'unknown' : 'compliant'));
  return { instances, findings };
}

const DRIFT_ALERTS = new Set(['new', 'changed', 'reminder', 'suspect-baseline']);

describe('decideActions over a sequence of runs', () => {
  it('never alerts twice for the same unchanged drift within remindAfter, and alerts every change', () => {
    fc.assert(
      fc.property(
        fc.array(runArb, { minLength: 1, maxLength: 25 }),
        fc.constantFrom('notify', 'refresh', 'dry-run'),
        fc.constantFrom(0.2, 0.5, 1),
        fc.constantFrom(HOUR, 24 * HOUR),
        (runs, mode, maxDriftedFraction, remindAfterMs) => {
          const compiled = policy({
            remediation: { mode, maxDriftedFraction, remindAfter: remindAfterMs / 1000 },
          });
          let memory: AlertMemory | undefined;
          let now = NOW.getTime();
          const alerts: { kind: string; set: string; at: number }[] = [];

          for (const run of runs) {
            now += run.step;
            const [decision] = decideActions({
              ...runAudit(run),
              policy: compiled,
              groups: new Map([['web', { asgName: 'web', ...run.state }]]),
              memory: new Map(memory ? [['web', memory]] : []),
              now: new Date(now),
            }) as [ActDecision];
            const current = [...run.drift].sort();
            const lastSet = memory?.fingerprints ?? [];
            const sinceLast = memory ? now - Date.parse(memory.alertedAt) : Number.POSITIVE_INFINITY;
            const brake = run.shared && current.length / (10 - run.unknown) > maxDriftedFraction;

            expect(decision.fingerprints).toEqual(current);
            if (current.length > 0 && current.join() !== lastSet.join()) {
              // Drift that differs from what was last alerted is always alerted: new, changed or the brake.
              const expected = brake ? 'suspect-baseline' : lastSet.length === 0 ? 'new' : 'changed';
              expect(decision.alert).toBe(expected);
            } else if (current.length > 0) {
              // Unchanged drift: silent until remindAfter has passed since the last alert.
              const due = sinceLast >= remindAfterMs;
              expect(decision.alert).toBe(due ? (brake ? 'suspect-baseline' : 'reminder') : undefined);
            } else {
              // No drift now: resolved once, and only when nothing is hidden behind an unknown instance.
              const resolves = lastSet.length > 0 && run.unknown === 0;
              expect(decision.alert).toBe(resolves ? 'resolved' : undefined);
            }

            if (decision.alert) {
              alerts.push({ kind: decision.alert, set: decision.fingerprints.join(), at: now });
              memory = { fingerprints: decision.fingerprints, alertedAt: new Date(now).toISOString() };
            }
          }

          for (let n = 1; n < alerts.length; n++) {
            const [before, after] = [alerts[n - 1], alerts[n]] as [(typeof alerts)[0], (typeof alerts)[0]];
            // Two alerts in a row about the same drift are at least remindAfter apart.
            if (before.set === after.set) expect(after.at - before.at).toBeGreaterThanOrEqual(remindAfterMs);
            // Exactly one resolved per transition to no drift: never two in a row, never before any drift.
            if (after.kind === 'resolved') expect(DRIFT_ALERTS.has(before.kind)).toBe(true);
          }
          if (alerts[0]) expect(alerts[0].kind).not.toBe('resolved');
        },
      ),
      { numRuns: 500 },
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Any fleet, any policy, any live state.

const SIGNATURES = [
  ['openssl', '3.0-1'],
  ['openssl', '3.0-2'],
  ['bash', '5.2-1'],
] as const;

const instanceArb = fc.record({
  asgName: fc.constantFrom<string | null>('a', 'b', null),
  status: fc.constantFrom<InstanceStatus>('compliant', 'drifted', 'unknown'),
  drift: fc.subarray([0, 1, 2], { minLength: 1 }),
  severity: fc.constantFrom(...SEVERITIES),
});

const stateArb = fc.option(
  fc.record({ optedIn: fc.boolean(), refreshInProgress: fc.boolean(), refreshesToday: fc.nat({ max: 2 }) }),
  { nil: undefined },
);

const scenarioArb = fc.record({
  instances: fc.array(instanceArb, { maxLength: 12 }),
  mode: fc.constantFrom('notify', 'refresh', 'dry-run'),
  maxDriftedFraction: fc.constantFrom(0, 0.25, 0.5, 0.75, 1),
  minSeverity: fc.constantFrom(...SEVERITIES),
  maxRefreshesPerDay: fc.nat({ max: 2 }),
  states: fc.record({ a: stateArb, b: stateArb }),
  remembered: fc.record({ a: fc.boolean(), b: fc.boolean(), '': fc.boolean() }),
});

/** The brake, computed here from its definition: one signature over the checked instances. */
function brakeTrips(
  instances: readonly InstanceResult[],
  findings: readonly Finding[],
  limit: number,
): boolean {
  const checked = instances.filter((i) => i.status !== 'unknown').length;
  const drifted = new Set(instances.filter((i) => i.status === 'drifted').map((i) => i.instanceId));
  const bySignature = new Map<string, Set<string>>();
  for (const f of findings) {
    if (!drifted.has(f.instanceId)) continue;
    const key = `${f.subject} ${f.actual}`;
    bySignature.set(key, (bySignature.get(key) ?? new Set()).add(f.instanceId));
  }
  return [...bySignature.values()].some((ids) => ids.size / checked > limit);
}

describe('decideActions over any fleet, policy and live state', () => {
  it('never refreshes a group that is not opted in, past the brake, or outside mode refresh', () => {
    fc.assert(
      fc.property(scenarioArb, (s) => {
        const instances: InstanceResult[] = [];
        const findings: Finding[] = [];
        s.instances.forEach((spec, n) => {
          const instance = result(`i-${n}`, spec.asgName, spec.status);
          instances.push(instance);
          if (spec.status !== 'drifted') return;
          for (const sig of spec.drift) {
            const [subject, actual] = SIGNATURES[sig] as (typeof SIGNATURES)[number];
            findings.push(finding(instance, subject, actual, spec.severity, `i-${n}:${sig}`));
          }
        });
        const groups = new Map<string, GroupState>();
        for (const name of ['a', 'b'] as const) {
          const state = s.states[name];
          if (state) groups.set(name, { asgName: name, ...state });
        }
        const memory = new Map<string, AlertMemory>(
          Object.entries(s.remembered)
            .filter(([, remembered]) => remembered)
            .map(([key]) => [key, { fingerprints: ['old'], alertedAt: NOW.toISOString() }]),
        );
        const compiled = policy({
          remediation: {
            mode: s.mode,
            maxDriftedFraction: s.maxDriftedFraction,
            minSeverity: s.minSeverity,
            maxRefreshesPerDay: s.maxRefreshesPerDay,
          },
        });

        const decisions = decideActions({ instances, findings, policy: compiled, groups, memory, now: NOW });
        const report = new Map(decideGroups(instances, findings, compiled).map((d) => [d.asgName, d]));

        const names = [...new Set(instances.map((i) => i.asgName))];
        expect(decisions.map((d) => d.asgName)).toEqual(
          names.sort((x, y) => (x === null ? 1 : y === null ? -1 : x < y ? -1 : 1)),
        );
        for (const d of decisions) {
          const own = instances.filter((i) => i.asgName === d.asgName);
          const ownFindings = findings.filter((f) => f.asgName === d.asgName);
          const state = d.asgName === null ? undefined : groups.get(d.asgName);
          if (d.refresh) {
            expect(s.mode).toBe('refresh');
            expect(d.asgName).not.toBeNull();
            expect(state?.optedIn).toBe(true);
            expect(brakeTrips(own, ownFindings, s.maxDriftedFraction)).toBe(false);
            expect(state?.refreshInProgress).toBe(false);
            expect(state?.refreshesToday ?? 0).toBeLessThan(s.maxRefreshesPerDay);
            expect(severityRank(d.worstSeverity ?? 'low')).toBeGreaterThanOrEqual(
              severityRank(s.minSeverity),
            );
          }
          if (d.refresh) expect(d.action).toBe('refresh');
          if (d.action === 'refresh') expect(s.mode).not.toBe('notify');
          if (d.dryRun) expect(d.refresh).toBe(false);
          if (ownFindings.length === 0) expect(d.action).not.toBe('refresh');
          if (brakeTrips(own, ownFindings, s.maxDriftedFraction)) {
            expect(d.action).not.toBe('refresh');
            expect(d.alert === undefined || d.alert === 'suspect-baseline').toBe(true);
          }
          // The act decision only narrows the report's: it never refreshes what the report would not.
          if (d.action === 'refresh') expect(report.get(d.asgName)?.action).toBe('refresh');
          expect(d.reasons.length).toBeGreaterThan(0);
        }
      }),
      { numRuns: 1000 },
    );
  });
});
