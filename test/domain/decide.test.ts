import { describe, expect, it } from 'vitest';
import {
  type ActDecision,
  type AlertMemory,
  type DecideActionsInput,
  decideActions,
  decideGroups,
  type GroupState,
} from '../../shared/domain/decide.ts';
import type { PolicyInput } from '../../shared/domain/policy.ts';
import type { Finding, InstanceResult, InstanceStatus } from '../../shared/domain/report.ts';
import { AMI, FRESH, NOW, policy } from '../helpers/domain.ts';

const HOUR = 3_600_000;
const OPENSSL = { kind: 'package-changed', subject: 'openssl', arch: 'x86_64' } as const;
const EXPECTED = '1:3.0.8-1.amzn2023.0.14';

/** What one group looks like in the audit: how many instances are clean or unknown, and the drift. */
interface GroupSpec {
  readonly compliant?: number;
  readonly unknown?: number;
  /** One drifted instance per entry, with these findings (a finding's fields default to openssl). */
  readonly drifted?: readonly (readonly Partial<Finding>[])[];
}

let serial = 0;

function result(asgName: string | null, status: InstanceStatus, findings = 0): InstanceResult {
  serial++;
  return {
    instanceId: `i-${String(serial).padStart(17, '0')}`,
    amiId: AMI,
    asgName,
    status,
    reason: status === 'unknown' ? 'inventory-stale' : status,
    captureTime: status === 'unknown' ? null : FRESH,
    findings,
  };
}

function finding(instance: InstanceResult, over: Partial<Finding>): Finding {
  const base = {
    ...OPENSSL,
    expected: EXPECTED,
    actual: '1:3.0.8-1.amzn2023.0.12',
    severity: 'high' as const,
  };
  const f = { ...base, ...over };
  return {
    instanceId: instance.instanceId,
    asgName: instance.asgName,
    amiId: AMI,
    ...f,
    fingerprint: over.fingerprint ?? `${instance.instanceId}/${f.kind}/${f.subject}/${f.actual}`,
  };
}

function audit(groups: Record<string, GroupSpec>): Pick<DecideActionsInput, 'instances' | 'findings'> {
  const instances: InstanceResult[] = [];
  const findings: Finding[] = [];
  for (const [key, spec] of Object.entries(groups)) {
    const asgName = key === '' ? null : key;
    for (const overs of spec.drifted ?? []) {
      const instance = result(asgName, 'drifted', overs.length);
      instances.push(instance);
      for (const over of overs) findings.push(finding(instance, over));
    }
    for (let n = 0; n < (spec.compliant ?? 0); n++) instances.push(result(asgName, 'compliant'));
    for (let n = 0; n < (spec.unknown ?? 0); n++) instances.push(result(asgName, 'unknown'));
  }
  return { instances, findings };
}

function live(asgName: string, over: Partial<GroupState> = {}): [string, GroupState] {
  return [asgName, { asgName, optedIn: true, refreshInProgress: false, refreshesToday: 0, ...over }];
}

interface Scenario {
  readonly groups: Record<string, GroupSpec>;
  readonly remediation?: PolicyInput['remediation'];
  readonly live?: readonly [string, GroupState][];
  readonly memory?: Record<string, AlertMemory>;
  readonly now?: Date;
}

/** Decides for a scenario; remediation defaults to mode refresh, every named group opted in. */
function decide(scenario: Scenario): ActDecision[] {
  const names = Object.keys(scenario.groups).filter((name) => name !== '');
  return decideActions({
    ...audit(scenario.groups),
    policy: policy({ remediation: { mode: 'refresh', ...scenario.remediation } }),
    groups: new Map(scenario.live ?? names.map((name) => live(name))),
    memory: new Map(Object.entries(scenario.memory ?? {})),
    now: scenario.now ?? NOW,
  });
}

function only(decisions: ActDecision[]): ActDecision {
  expect(decisions).toHaveLength(1);
  return decisions[0] as ActDecision;
}

/** One drifted instance (openssl, high) among five clean ones: passes every guard by default. */
const WEB: Record<string, GroupSpec> = { web: { compliant: 5, drifted: [[{}]] } };
const hoursAgo = (hours: number) => new Date(NOW.getTime() - hours * HOUR).toISOString();

describe('decideActions: refresh guards', () => {
  it('refreshes an opted-in group whose drift passes every guard, and announces the new drift', () => {
    const d = only(decide({ groups: WEB }));

    expect(d).toMatchObject({
      asgName: 'web',
      action: 'refresh',
      refresh: true,
      dryRun: false,
      alert: 'new',
      worstSeverity: 'high',
    });
    expect(d.reasons).toEqual([
      '1 drifted instance of 6, worst severity high',
      'new drift: 1 finding',
      'guards passed: starting an instance refresh',
    ]);
  });

  it('only refreshes opted-in groups, and names the missing tag', () => {
    const d = only(decide({ groups: WEB, live: [live('web', { optedIn: false })] }));

    expect(d).toMatchObject({ action: 'notify', refresh: false, alert: 'new' });
    expect(d.reasons).toContain('not opted in: the group lacks the tag driftwatch:remediate=true');
  });

  it('treats a group without live state as not opted in', () => {
    const d = only(decide({ groups: WEB, live: [] }));

    expect(d).toMatchObject({ action: 'notify', refresh: false });
    expect(d.reasons.at(-1)).toMatch(/^not opted in/);
  });

  it('only notifies when the worst finding is below minSeverity', () => {
    const d = only(decide({ groups: { web: { compliant: 5, drifted: [[{ severity: 'medium' }]] } } }));

    expect(d).toMatchObject({ action: 'notify', refresh: false, worstSeverity: 'medium' });
    expect(d.reasons.at(-1)).toBe('below minSeverity high: notify only');
  });

  it('never refreshes when remediation mode is notify, however severe the drift', () => {
    const groups = { web: { compliant: 5, drifted: [[{ severity: 'critical' as const }]] } };
    const d = only(decide({ groups, remediation: { mode: 'notify' } }));

    expect(d).toMatchObject({ action: 'notify', refresh: false, dryRun: false, alert: 'new' });
    expect(d.reasons.at(-1)).toBe('remediation mode is notify');
  });

  it('in dry-run decides refresh but starts nothing', () => {
    const d = only(decide({ groups: WEB, remediation: { mode: 'dry-run' } }));

    expect(d).toMatchObject({ action: 'refresh', refresh: false, dryRun: true, alert: 'new' });
    expect(d.reasons.at(-1)).toBe('dry-run: would start an instance refresh; nothing changed');
  });

  it('does not start a second refresh while one is in progress', () => {
    const d = only(decide({ groups: WEB, live: [live('web', { refreshInProgress: true })] }));

    expect(d).toMatchObject({ action: 'notify', refresh: false });
    expect(d.reasons.at(-1)).toBe('an instance refresh is already in progress: not starting another');
  });

  it('stops refreshing a group once maxRefreshesPerDay refreshes were started in the last 24 hours', () => {
    const d = only(
      decide({
        groups: WEB,
        remediation: { maxRefreshesPerDay: 2 },
        live: [live('web', { refreshesToday: 2 })],
      }),
    );

    expect(d).toMatchObject({ action: 'notify', refresh: false });
    expect(d.reasons.at(-1)).toBe('2 refreshes started in the last 24 hours (maxRefreshesPerDay 2)');
  });

  it('still refreshes below maxRefreshesPerDay', () => {
    const d = only(
      decide({
        groups: WEB,
        remediation: { maxRefreshesPerDay: 2 },
        live: [live('web', { refreshesToday: 1 })],
      }),
    );

    expect(d).toMatchObject({ action: 'refresh', refresh: true });
  });

  it('never refreshes instances outside any Auto Scaling group, and remembers them under the empty key', () => {
    const d = only(decide({ groups: { '': { compliant: 5, drifted: [[{}]] } } }));

    expect(d).toMatchObject({ asgName: null, action: 'notify', refresh: false, alert: 'new' });
    expect(d.reasons.at(-1)).toBe('not in an Auto Scaling group: nothing to refresh');
  });

  it('never refreshes a group whose instances could only be unknown', () => {
    const d = only(decide({ groups: { web: { unknown: 2 } } }));

    expect(d).toEqual({
      asgName: 'web',
      action: 'none',
      alert: undefined,
      refresh: false,
      dryRun: false,
      fingerprints: [],
      reasons: ['2 instances could not be checked'],
    });
  });

  it('does not let unknown instances block the refresh of a drifted group', () => {
    const d = only(decide({ groups: { web: { compliant: 4, unknown: 2, drifted: [[{}]] } } }));

    expect(d).toMatchObject({ action: 'refresh', refresh: true });
    expect(d.reasons.slice(0, 2)).toEqual([
      '1 drifted instance of 7, worst severity high',
      '2 instances could not be checked',
    ]);
  });

  it('gives only the first guard that stops a refresh', () => {
    const groups = { web: { compliant: 5, drifted: [[{ severity: 'low' as const }]] } };
    const d = only(decide({ groups, live: [live('web', { optedIn: false, refreshInProgress: true })] }));

    expect(d.reasons).toEqual([
      '1 drifted instance of 6, worst severity low',
      'new drift: 1 finding',
      'not opted in: the group lacks the tag driftwatch:remediate=true',
    ]);
  });
});

describe('decideActions: blast-radius brake', () => {
  it('suspects the baseline and never refreshes when most of a group drifted the same way', () => {
    const d = only(decide({ groups: { web: { compliant: 2, drifted: [[{}], [{}], [{}], [{}]] } } }));

    expect(d).toMatchObject({ action: 'notify', refresh: false, alert: 'suspect-baseline' });
    expect(d.reasons).toContain(
      'brake: 4 of 6 checked instances have package-changed openssl (x86_64) 1:3.0.8-1.amzn2023.0.14 -> ' +
        '1:3.0.8-1.amzn2023.0.12 (67%, limit 50%): suspect the manifest, never refresh',
    );
  });

  it('does not brake when the drifted instances drifted in different ways', () => {
    const other = { actual: '1:3.0.8-1.amzn2023.0.11' };
    const d = only(decide({ groups: { web: { compliant: 2, drifted: [[{}], [{}], [other], [other]] } } }));

    expect(d).toMatchObject({ action: 'refresh', refresh: true, alert: 'new' });
    expect(d.reasons.join('\n')).not.toContain('brake');
  });

  it('does not brake at exactly maxDriftedFraction', () => {
    const d = only(decide({ groups: { web: { compliant: 3, drifted: [[{}], [{}], [{}]] } } }));

    expect(d).toMatchObject({ action: 'refresh', refresh: true });
  });

  it('leaves unknown instances out of the fraction', () => {
    const d = only(decide({ groups: { web: { compliant: 1, unknown: 4, drifted: [[{}], [{}]] } } }));

    expect(d).toMatchObject({ action: 'notify', refresh: false, alert: 'suspect-baseline' });
    expect(d.reasons.find((r) => r.startsWith('brake:'))).toMatch(/^brake: 2 of 3 checked instances have /);
  });

  it('holds the brake in dry-run and in notify mode too', () => {
    const groups = { web: { compliant: 1, drifted: [[{}], [{}]] } };
    const dry = only(decide({ groups, remediation: { mode: 'dry-run' } }));
    const notify = only(decide({ groups, remediation: { mode: 'notify' } }));

    expect(dry).toMatchObject({ action: 'notify', refresh: false, alert: 'suspect-baseline' });
    expect(notify).toMatchObject({ action: 'notify', refresh: false, alert: 'suspect-baseline' });
  });

  it('de-duplicates suspect-baseline alerts like any other drift', () => {
    const prepared = audit({ web: { compliant: 1, drifted: [[{}], [{}]] } });
    const fingerprints = prepared.findings.map((f) => f.fingerprint).sort();
    const [d] = decideActions({
      ...prepared,
      policy: policy({ remediation: { mode: 'refresh' } }),
      groups: new Map([live('web')]),
      memory: new Map([['web', { fingerprints, alertedAt: hoursAgo(3) }]]),
      now: NOW,
    });

    expect(d).toMatchObject({ action: 'notify', refresh: false, alert: undefined });
  });

  it('shortens long values such as file hashes in the brake reason', () => {
    const file = { kind: 'file-changed' as const, subject: '/etc/ssh/sshd_config', arch: undefined };
    const hashes = { ...file, expected: 'a'.repeat(64), actual: 'b'.repeat(64) };
    const d = only(decide({ groups: { web: { drifted: [[hashes]] } } }));

    expect(d.reasons).toContain(
      'brake: 1 of 1 checked instance has file-changed /etc/ssh/sshd_config aaaaaaaaaaaa… -> bbbbbbbbbbbb… ' +
        '(100%, limit 50%): suspect the manifest, never refresh',
    );
  });
});

describe('decideActions: alert de-duplication', () => {
  const prepared = audit(WEB);
  const current = prepared.findings.map((f) => f.fingerprint).sort();
  const run = (memory: AlertMemory | undefined, over: Partial<DecideActionsInput> = {}) =>
    only(
      decideActions({
        ...prepared,
        policy: policy({ remediation: { mode: 'notify' } }),
        groups: new Map(),
        memory: new Map(memory ? [['web', memory]] : []),
        now: NOW,
        ...over,
      }),
    );

  it('alerts drift never alerted before as new', () => {
    expect(run(undefined)).toMatchObject({ action: 'notify', alert: 'new', fingerprints: current });
  });

  it('alerts drift as new again after its resolution was alerted', () => {
    expect(run({ fingerprints: [], alertedAt: hoursAgo(1) }).alert).toBe('new');
  });

  it('alerts drift that differs from the last alert as changed, counting what came and went', () => {
    const d = run({ fingerprints: ['gone-1', 'gone-2'], alertedAt: hoursAgo(2) });

    expect(d.alert).toBe('changed');
    expect(d.reasons).toContain('drift changed since the alert 2h ago: 1 new, 2 gone');
  });

  it('says nothing about unchanged drift before remindAfter, and says why', () => {
    const d = run({ fingerprints: current, alertedAt: hoursAgo(3) });

    expect(d).toMatchObject({ action: 'notify', alert: undefined });
    expect(d.reasons).toEqual([
      '1 drifted instance of 6, worst severity high',
      'unchanged drift, alerted 3h ago; reminder after 24h',
      'remediation mode is notify',
    ]);
  });

  it('reminds about unchanged drift once remindAfter has passed', () => {
    const d = run({ fingerprints: current, alertedAt: hoursAgo(24) });

    expect(d.alert).toBe('reminder');
    expect(d.reasons).toContain('unchanged drift, alerted 24h ago: reminder (every 24h)');
  });

  it('treats an unreadable alert time as a reminder due rather than staying silent', () => {
    expect(run({ fingerprints: current, alertedAt: 'yesterday' }).alert).toBe('reminder');
  });

  it('alerts resolved when remembered drift is gone and every instance was checked', () => {
    const clean = audit({ web: { compliant: 6 } });
    const d = run({ fingerprints: ['old'], alertedAt: hoursAgo(5) }, clean);

    expect(d).toMatchObject({ action: 'notify', alert: 'resolved', fingerprints: [], refresh: false });
    expect(d.reasons).toEqual(['no drift', 'drift resolved (alerted 5h ago)']);
  });

  it('does not call drift resolved while some instances could not be checked', () => {
    const partly = audit({ web: { compliant: 4, unknown: 2 } });
    const d = run({ fingerprints: ['old'], alertedAt: hoursAgo(5) }, partly);

    expect(d).toMatchObject({ action: 'none', alert: undefined });
    expect(d.reasons).toEqual([
      'no drift',
      '2 instances could not be checked',
      'alerted drift (5h ago) is gone from the checked instances; not resolved while some could not be checked',
    ]);
  });

  it('says nothing when there is no drift and nothing was alerted', () => {
    const d = run(undefined, audit({ web: { compliant: 6 } }));

    expect(d).toMatchObject({ action: 'none', alert: undefined, reasons: ['no drift'] });
  });

  it('does not resolve a group after its resolution was alerted', () => {
    const d = run({ fingerprints: [], alertedAt: hoursAgo(30) }, audit({ web: { compliant: 6 } }));

    expect(d).toMatchObject({ action: 'none', alert: undefined });
  });

  it('leaves a refresh of already alerted drift unannounced here: the act step announces a started refresh', () => {
    const d = run(
      { fingerprints: current, alertedAt: hoursAgo(1) },
      { policy: policy({ remediation: { mode: 'refresh' } }), groups: new Map([live('web')]) },
    );

    expect(d).toMatchObject({ action: 'refresh', refresh: true, alert: undefined });
  });

  it('keeps one fingerprint per drift, sorted, however many findings share it', () => {
    const twice = audit({
      web: { drifted: [[{ fingerprint: 'b' }, { fingerprint: 'a', subject: 'bash' }]] },
    });
    const d = run(undefined, {
      ...twice,
      findings: [...twice.findings, { ...(twice.findings[0] as Finding) }],
    });

    expect(d.fingerprints).toEqual(['a', 'b']);
  });
});

describe('decideActions: which groups', () => {
  it('decides once per group in the run, sorted by name with instances outside any group last', () => {
    const decisions = decide({
      groups: { web: { compliant: 1 }, '': { compliant: 1 }, api: { compliant: 1 }, Batch: { compliant: 1 } },
    });

    expect(decisions.map((d) => d.asgName)).toEqual(['Batch', 'api', 'web', null]);
  });

  it('leaves remembered groups that are not part of this run alone', () => {
    const decisions = decide({
      groups: { web: { compliant: 2 } },
      memory: { api: { fingerprints: ['x'], alertedAt: hoursAgo(2) } },
    });

    expect(decisions.map((d) => [d.asgName, d.alert])).toEqual([['web', undefined]]);
  });

  it('resolves remembered drift of the instances outside any group', () => {
    const d = only(
      decide({
        groups: { '': { compliant: 2 } },
        memory: { '': { fingerprints: ['x'], alertedAt: hoursAgo(2) } },
      }),
    );

    expect(d).toMatchObject({ asgName: null, alert: 'resolved', action: 'notify' });
  });

  it('writes every reason as a sentence an operator can read', () => {
    const decisions = decide({
      groups: {
        web: { compliant: 5, drifted: [[{}]] },
        api: { compliant: 1, drifted: [[{}], [{}]] },
        '': { unknown: 1 },
      },
      live: [live('web', { refreshesToday: 1 }), live('api')],
    });

    expect(decisions.map((d) => [d.asgName, d.action, d.reasons])).toEqual([
      [
        'api',
        'notify',
        [
          '2 drifted instances of 3, worst severity high',
          'new drift: 2 findings',
          'brake: 2 of 3 checked instances have package-changed openssl (x86_64) 1:3.0.8-1.amzn2023.0.14 -> ' +
            '1:3.0.8-1.amzn2023.0.12 (67%, limit 50%): suspect the manifest, never refresh',
        ],
      ],
      [
        'web',
        'notify',
        [
          '1 drifted instance of 6, worst severity high',
          'new drift: 1 finding',
          '1 refresh started in the last 24 hours (maxRefreshesPerDay 1)',
        ],
      ],
      [null, 'none', ['1 instance could not be checked']],
    ]);
  });
});

describe('decideGroups (the report, from the audit alone)', () => {
  const report = (groups: Record<string, GroupSpec>, remediation: PolicyInput['remediation'] = {}) => {
    const { instances, findings } = audit(groups);
    return decideGroups(instances, findings, policy({ remediation }));
  };

  it('allows a refresh on the audit alone, leaving the live guards to the act step', () => {
    expect(report(WEB, { mode: 'refresh' })).toEqual([
      { asgName: 'web', action: 'refresh', reasons: ['1 drifted instance of 6, worst severity high'] },
    ]);
  });

  it('says what dry-run would do', () => {
    expect(report(WEB, { mode: 'dry-run' })[0]?.reasons.at(-1)).toBe(
      'dry-run: would start an instance refresh; nothing changed',
    );
  });

  it('applies the same brake as the act decision', () => {
    const groups = { web: { compliant: 1, unknown: 4, drifted: [[{}], [{}]] } };
    const [d] = report(groups, { mode: 'refresh' });

    expect(d?.action).toBe('notify');
    expect(d?.reasons.at(-1)).toMatch(/^brake: 2 of 3 checked instances have package-changed openssl/);
  });

  it('notifies in notify mode, naming the mode', () => {
    expect(report({ web: { compliant: 1, drifted: [[{ severity: 'medium' }]] } })).toEqual([
      {
        asgName: 'web',
        action: 'notify',
        reasons: ['1 drifted instance of 2, worst severity medium', 'remediation mode is notify'],
      },
    ]);
  });

  it('reports a group it could not check as none, with how many instances', () => {
    expect(report({ api: { unknown: 2 } })).toEqual([
      { asgName: 'api', action: 'none', reasons: ['2 instances could not be checked'] },
    ]);
  });
});
