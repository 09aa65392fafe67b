/**
 * The act use case with in-memory adapters: what an on-call engineer sees happen over several runs.
 */
import { describe, expect, it } from 'vitest';
import {
  MemoryFleetSource,
  MemoryInventorySource,
  MemoryManifestStore,
  MemoryNotifier,
  MemoryRemediator,
} from '../../shared/adapters/memory.ts';
import { MemoryAlertState } from '../../shared/adapters/memory-alert-state.ts';
import { actOnReport } from '../../shared/app/act.ts';
import { auditFleet } from '../../shared/app/audit-fleet.ts';
import type { ManifestLookup } from '../../shared/domain/diff.ts';
import type { PolicyInput } from '../../shared/domain/policy.ts';
import type { AuditReport } from '../../shared/domain/report.ts';
import { instance, manifestFrom, NOW, policy, rpm, snapshot } from '../helpers/domain.ts';

const golden = manifestFrom({
  packages: [
    { name: 'bash', arch: 'x86_64', version: '5.2.15', release: '1.amzn2023.0.2' },
    { name: 'openssl-libs', arch: 'x86_64', epoch: '1', version: '3.0.8', release: '1.amzn2023.0.14' },
  ],
}) as Extract<ManifestLookup, { status: 'found' }>;
const GOLDEN = [rpm('bash', '5.2.15-1.amzn2023.0.2'), rpm('openssl-libs', '1:3.0.8-1.amzn2023.0.14')];
const at = (hours: number) => new Date(NOW.getTime() + hours * 3_600_000);

/** An audit of group `web` (4 instances): `drifted` maps instance index -> its packages. */
async function audit(drifted: Record<number, Record<string, string>[]>, now = NOW): Promise<AuditReport> {
  const ids = [1, 2, 3, 4].map((n) => `i-0000000000000000${n}`);
  const captureTime = new Date(now.getTime() - 600_000).toISOString();
  const { report } = await auditFleet(
    {
      inventory: new MemoryInventorySource(
        ids.map((id, i) => snapshot(id, { packages: drifted[i] ?? GOLDEN, captureTime })),
      ),
      fleet: new MemoryFleetSource(ids.map((id) => instance(id, 'web'))),
      manifests: new MemoryManifestStore([golden.index]),
    },
    { policy: policy(), now, runId: `run-${now.getTime()}` },
  );
  return report;
}

function setup(policyInput: PolicyInput = {}, tags: Record<string, string> = {}) {
  const deps = {
    notifier: new MemoryNotifier(),
    state: new MemoryAlertState(),
    remediator: new MemoryRemediator(new Map([['web', { tags }]])),
  };
  const p = policy(policyInput);
  const act = (report: AuditReport, now = NOW, extra: { dryRun?: boolean; runId?: string } = {}) =>
    actOnReport(report, deps, { policy: p, now, runId: extra.runId ?? report.runId, ...extra });
  return { deps, act };
}

const HTOP = [...GOLDEN, rpm('htop', '3.2.1-1.amzn2023.0.1')];
const TCPDUMP = [...GOLDEN, rpm('tcpdump', '14:4.99.1-1.amzn2023.0.2')];

describe('act on drift', () => {
  it('sends one digest for new drift, nothing for the same drift an hour later, and one when it changes', async () => {
    const { deps, act } = setup();

    await act(await audit({ 0: HTOP }));
    await act(await audit({ 0: HTOP }, at(1)), at(1));
    await act(await audit({ 0: HTOP, 1: TCPDUMP }, at(2)), at(2));

    expect(deps.notifier.messages.map((m) => m.attributes.eventType)).toEqual([
      'DriftDetected',
      'DriftDetected',
    ]);
    expect(deps.notifier.messages.every((m) => m.attributes.asgName === 'web')).toBe(true);
  });

  it('reminds about unchanged drift after remindAfter', async () => {
    const { deps, act } = setup({ remediation: { remindAfter: '12h' } });

    await act(await audit({ 0: HTOP }));
    await act(await audit({ 0: HTOP }, at(11)), at(11));
    await act(await audit({ 0: HTOP }, at(13)), at(13));

    expect(deps.notifier.messages).toHaveLength(2);
  });

  it('says once when the drift has cleared', async () => {
    const { deps, act } = setup();

    await act(await audit({ 0: HTOP }));
    await act(await audit({}, at(1)), at(1));
    await act(await audit({}, at(2)), at(2));

    expect(deps.notifier.messages.map((m) => m.attributes.eventType)).toEqual([
      'DriftDetected',
      'DriftResolved',
    ]);
  });

  it('retries an alert whose publish failed on the next run, and never loses it', async () => {
    const { deps, act } = setup();
    deps.notifier.failNext = 1;

    const first = await act(await audit({ 0: HTOP }));
    await act(await audit({ 0: HTOP }, at(1)), at(1));

    expect(first.errors[0]).toContain('alert not sent');
    expect(deps.notifier.messages).toHaveLength(1);
  });

  it('lets only one of two racing runs alert for the same drift', async () => {
    const { deps, act } = setup();
    const report = await audit({ 0: HTOP });

    await Promise.all([act(report, NOW, { runId: 'run-a' }), act(report, NOW, { runId: 'run-b' })]);

    expect(deps.notifier.messages).toHaveLength(1);
  });

  it('refreshes an opted-in group once, even when the same decision is retried', async () => {
    const { deps, act } = setup(
      { remediation: { mode: 'refresh', minSeverity: 'medium', maxRefreshesPerDay: 3 } },
      { 'driftwatch:remediate': 'true' },
    );
    const report = await audit({ 0: HTOP });

    const first = await act(report);
    const retry = await act(report, at(0.1), { runId: 'retry' });

    expect(deps.remediator.started).toHaveLength(1);
    expect(deps.remediator.started[0]?.preferences).toMatchObject({
      minHealthyPercentage: 90,
      autoRollback: true,
    });
    expect(first.outcomes[0]?.refresh).toMatchObject({ status: 'started' });
    expect(retry.outcomes[0]?.refresh).toMatchObject({ status: 'already-started', refreshId: 'refresh-1' });
  });

  it('never refreshes a group that is not opted in, and says so', async () => {
    const { deps, act } = setup({ remediation: { mode: 'refresh', minSeverity: 'low' } });

    const result = await act(await audit({ 0: HTOP }));

    expect(deps.remediator.started).toHaveLength(0);
    expect(result.outcomes[0]?.decision.reasons.join(' ')).toMatch(/driftwatch:remediate=true/);
  });

  it('never refreshes a group past the blast-radius brake', async () => {
    const { deps, act } = setup(
      { remediation: { mode: 'refresh', minSeverity: 'low', maxDriftedFraction: 0.5 } },
      { 'driftwatch:remediate': 'true' },
    );

    await act(await audit({ 0: HTOP, 1: HTOP, 2: HTOP }));

    expect(deps.remediator.started).toHaveLength(0);
    expect(deps.notifier.messages[0]?.attributes.eventType).toBe('SuspectBaseline');
  });

  it('changes nothing in a dry run, but shows what it would send', async () => {
    const { deps, act } = setup(
      { remediation: { mode: 'refresh', minSeverity: 'low' } },
      { 'driftwatch:remediate': 'true' },
    );

    const result = await act(await audit({ 0: HTOP }), NOW, { dryRun: true });

    expect(deps.notifier.messages).toHaveLength(0);
    expect(deps.remediator.started).toHaveLength(0);
    expect(result.outcomes[0]?.published?.eventType).toBe('DriftDetected');
    expect(JSON.parse(result.outcomes[0]?.published?.body ?? '{}')).toMatchObject({
      version: '1.0',
      source: 'custom',
    });
  });

  it('alerts operational errors once, not on every run', async () => {
    const { deps, act } = setup();
    const report = await audit({});
    const broken = {
      ...report,
      errors: [{ source: 'manifest ami-0abc', message: 'packages[0].version: is missing' }],
    };

    await act(broken);
    await act({ ...broken, runId: 'next' }, at(1), { runId: 'next' });

    expect(deps.notifier.messages.filter((m) => m.attributes.eventType === 'AuditError')).toHaveLength(1);
  });

  it('tries a refresh again on the next run when starting it failed', async () => {
    const { deps, act } = setup(
      { remediation: { mode: 'refresh', minSeverity: 'low', maxRefreshesPerDay: 3 } },
      { 'driftwatch:remediate': 'true' },
    );
    const report = await audit({ 0: HTOP });
    const start = deps.remediator.startRefresh.bind(deps.remediator);
    let failures = 1;
    deps.remediator.startRefresh = async (asg, prefs) => {
      if (failures-- > 0) throw new Error('ResourceContention after 5 attempts');
      return start(asg, prefs);
    };

    const first = await act(report);
    const second = await act(report, at(0.5), { runId: 'next' });

    expect(first.errors[0]).toContain('refresh failed');
    expect(second.outcomes[0]?.refresh).toMatchObject({ status: 'started' });
    expect(deps.remediator.started).toHaveLength(1);
  });
});
