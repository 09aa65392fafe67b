/**
 * The AlertState contract, run against the in-memory fake and against DynamoDbAlertState on moto:
 * leases that keep two racing runs from alerting twice, alert memory that round-trips (large sets as a
 * digest), refresh decisions claimed once, and the refresh history window.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { DynamoDbAlertState } from '../../shared/adapters/dynamodb-alert-state.ts';
import {
  AlertStateError,
  alertIdentity,
  MemoryAlertState,
} from '../../shared/adapters/memory-alert-state.ts';
import type { AlertState } from '../../shared/ports.ts';
import { describeWithMoto, MOTO_REGION, type Moto, useMoto } from '../helpers/moto.ts';
import { createStateTable, fingerprints } from '../helpers/state-table.ts';

const TABLE = 'driftwatch-state-contract';
const NOW = new Date('2026-11-27T12:00:00.000Z');
const at = (seconds: number) => new Date(NOW.getTime() + seconds * 1000);

/** Claims, records and releases as the act use case does. */
async function alert(
  state: AlertState,
  group: string,
  runId: string,
  fps: string[],
  when: Date,
): Promise<void> {
  expect(await state.claimAlert(group, runId, when, 300)).toBe(true);
  await state.recordAlert(group, runId, { fingerprints: fps, alertedAt: when.toISOString() });
  await state.releaseAlert(group, runId);
}

function alertStateContract(make: () => Promise<AlertState>): void {
  it('remembers what was alerted per group, and nothing for groups never alerted', async () => {
    const state = await make();
    expect(await state.alertMemory([])).toEqual(new Map());
    expect(await state.alertMemory(['web'])).toEqual(new Map());

    const web = fingerprints(3, 'web');
    await alert(state, 'web', 'run-1', web, NOW);
    await alert(state, '', 'run-1', ['a'.repeat(64)], at(1));
    await alert(state, 'api', 'run-1', [], at(2)); // drift resolved: an empty set

    const memory = await state.alertMemory(['web', '', 'api', 'never', 'web']);
    expect(memory).toEqual(
      new Map([
        ['web', { fingerprints: web, alertedAt: NOW.toISOString() }],
        ['', { fingerprints: ['a'.repeat(64)], alertedAt: at(1).toISOString() }],
        ['api', { fingerprints: [], alertedAt: at(2).toISOString() }],
      ]),
    );

    // A later alert replaces the memory.
    await alert(state, 'web', 'run-2', web.slice(1), at(3600));
    expect((await state.alertMemory(['web'])).get('web')).toEqual({
      fingerprints: web.slice(1),
      alertedAt: at(3600).toISOString(),
    });
  });

  it('refuses a second claim while the lease is held, by another run or the same one', async () => {
    const state = await make();
    expect(await state.claimAlert('web', 'run-a', NOW, 300)).toBe(true);
    expect(await state.claimAlert('web', 'run-b', at(1), 300)).toBe(false);
    expect(await state.claimAlert('web', 'run-b', at(300), 300)).toBe(false); // leaseUntil = now: still held
    expect(await state.claimAlert('web', 'run-a', at(10), 300)).toBe(false);
    // Leases are per group.
    expect(await state.claimAlert('api', 'run-b', at(1), 300)).toBe(true);
    expect(await state.claimAlert('', 'run-b', at(1), 300)).toBe(true);
  });

  it('lets another run take a lease that ran out (a crashed run)', async () => {
    const state = await make();
    expect(await state.claimAlert('web', 'run-a', NOW, 60)).toBe(true);
    expect(await state.claimAlert('web', 'run-b', at(61), 60)).toBe(true);
    expect(await state.claimAlert('web', 'run-c', at(100), 60)).toBe(false);
  });

  it('records only for the lease holder', async () => {
    const state = await make();
    const fps = fingerprints(2);
    // No lease at all.
    await state.recordAlert('web', 'run-a', { fingerprints: fps, alertedAt: NOW.toISOString() });
    expect(await state.alertMemory(['web'])).toEqual(new Map());

    expect(await state.claimAlert('web', 'run-a', NOW, 60)).toBe(true);
    await state.recordAlert('web', 'run-b', { fingerprints: fps, alertedAt: NOW.toISOString() });
    expect(await state.alertMemory(['web'])).toEqual(new Map());

    await state.recordAlert('web', 'run-a', { fingerprints: fps, alertedAt: NOW.toISOString() });
    expect((await state.alertMemory(['web'])).get('web')?.fingerprints).toEqual(fps);

    // run-a's lease runs out and run-b takes it: run-a can no longer record.
    expect(await state.claimAlert('web', 'run-b', at(61), 60)).toBe(true);
    await state.recordAlert('web', 'run-a', { fingerprints: [], alertedAt: at(62).toISOString() });
    expect((await state.alertMemory(['web'])).get('web')).toEqual({
      fingerprints: fps,
      alertedAt: NOW.toISOString(),
    });
  });

  it('ignores a release by a run that does not hold the lease', async () => {
    const state = await make();
    expect(await state.claimAlert('web', 'run-a', NOW, 300)).toBe(true);
    await state.releaseAlert('web', 'run-b');
    await state.releaseAlert('never-claimed', 'run-b');
    expect(await state.claimAlert('web', 'run-c', at(1), 300)).toBe(false);
    await state.releaseAlert('web', 'run-a');
    expect(await state.claimAlert('web', 'run-c', at(2), 300)).toBe(true);
  });

  it('gives exactly one of two racing runs the lease', async () => {
    const state = await make();
    for (const group of ['web', 'api', 'batch', '']) {
      const results = await Promise.all([
        state.claimAlert(group, 'run-a', NOW, 300),
        state.claimAlert(group, 'run-b', NOW, 300),
      ]);
      expect(results.filter(Boolean)).toHaveLength(1);
    }
  });

  it('rejects a lease length or an alert time that makes no sense', async () => {
    const state = await make();
    await expect(state.claimAlert('web', 'run-a', NOW, 0)).rejects.toBeInstanceOf(AlertStateError);
    await expect(state.claimAlert('web', 'run-a', new Date(Number.NaN), 60)).rejects.toBeInstanceOf(
      AlertStateError,
    );
    await expect(
      state.recordAlert('web', 'run-a', { fingerprints: [], alertedAt: 'yesterday' }),
    ).rejects.toBeInstanceOf(AlertStateError);
  });

  it('claims a refresh decision once; later claims get the refresh id once it is recorded', async () => {
    const state = await make();
    const key = 'web#2026-11-27#0123456789abcdef';
    expect(await state.claimRefresh(key, 'web', NOW)).toEqual({ claimed: true });
    expect(await state.claimRefresh(key, 'web', at(5))).toEqual({ claimed: false });

    await state.recordRefresh(key, 'web', 'refresh-1', at(10));
    expect(await state.claimRefresh(key, 'web', at(20))).toEqual({ claimed: false, refreshId: 'refresh-1' });
    expect(await state.claimRefresh('web#2026-11-27#other', 'web', at(20))).toEqual({ claimed: true });

    // Recording the same refresh again (a retried invocation) changes nothing; another one is refused.
    await state.recordRefresh(key, 'web', 'refresh-1', at(30));
    expect(await state.refreshHistory('web', NOW)).toEqual({
      count: 1,
      latest: { refreshId: 'refresh-1', startedAt: at(10).toISOString() },
    });
    await expect(state.recordRefresh(key, 'web', 'refresh-2', at(40))).rejects.toBeInstanceOf(
      AlertStateError,
    );
    expect(await state.claimRefresh(key, 'web', at(50))).toEqual({ claimed: false, refreshId: 'refresh-1' });
  });

  it('gives back a claim that started nothing, but never one with a recorded refresh', async () => {
    const state = await make();
    const failed = 'web#2026-11-27#failed';
    const started = 'web#2026-11-27#started';
    await state.claimRefresh(failed, 'web', NOW);
    await state.claimRefresh(started, 'web', NOW);
    await state.recordRefresh(started, 'web', 'refresh-1', at(1));

    await state.releaseRefresh(failed);
    await state.releaseRefresh(started);
    await state.releaseRefresh('web#2026-11-27#never-claimed');

    expect(await state.claimRefresh(failed, 'web', at(2))).toEqual({ claimed: true });
    expect(await state.claimRefresh(started, 'web', at(2))).toEqual({
      claimed: false,
      refreshId: 'refresh-1',
    });
  });

  it('counts the refreshes started within the window and returns the latest', async () => {
    const state = await make();
    expect(await state.refreshHistory('web', NOW)).toEqual({ count: 0 });

    const day = 86_400;
    const starts: [string, number][] = [
      ['r-old', -2 * day],
      ['r-edge', -day],
      ['r-1', -3600],
      ['r-2', -60],
    ];
    for (const [id, offset] of starts) {
      expect((await state.claimRefresh(`web#${id}`, 'web', at(offset))).claimed).toBe(true);
      await state.recordRefresh(`web#${id}`, 'web', id, at(offset));
    }
    await state.claimRefresh('api#x', 'api', at(-30));
    await state.recordRefresh('api#x', 'api', 'r-api', at(-30));

    expect(await state.refreshHistory('web', at(-day))).toEqual({
      count: 3,
      latest: { refreshId: 'r-2', startedAt: at(-60).toISOString() },
    });
    expect(await state.refreshHistory('web', at(-3 * day))).toMatchObject({ count: 4 });
    expect(await state.refreshHistory('web', at(-59))).toEqual({ count: 0 });
    expect(await state.refreshHistory('api', at(-day))).toEqual({
      count: 1,
      latest: { refreshId: 'r-api', startedAt: at(-30).toISOString() },
    });
    expect(await state.refreshHistory('batch', at(-day))).toEqual({ count: 0 });
  });

  it('keeps a large fingerprint set as a digest that changes when the set does', async () => {
    const state = await make();
    const large = fingerprints(6_000);
    await alert(state, 'web', 'run-1', large, NOW);
    const remembered = (await state.alertMemory(['web'])).get('web');
    expect(remembered?.fingerprints).toHaveLength(1);
    expect(remembered?.fingerprints[0]).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(remembered?.fingerprints).toEqual(alertIdentity(large));
    // The same set in another order is the same drift.
    expect(alertIdentity([...large].reverse())).toEqual(remembered?.fingerprints);

    const changed = [...large.slice(1), fingerprints(1, 'new')[0] as string].sort();
    await alert(state, 'web', 'run-2', changed, at(60));
    const after = (await state.alertMemory(['web'])).get('web');
    expect(after?.fingerprints).toEqual(alertIdentity(changed));
    expect(after?.fingerprints).not.toEqual(remembered?.fingerprints);
    expect(after?.alertedAt).toBe(at(60).toISOString());

    // At the limit the list itself is kept.
    const limit = fingerprints(5_000, 'limit');
    await alert(state, 'api', 'run-3', limit, NOW);
    expect((await state.alertMemory(['api'])).get('api')?.fingerprints).toEqual(limit);
  });
}

describe('AlertState contract: MemoryAlertState', () => {
  alertStateContract(async () => new MemoryAlertState());
});

describeWithMoto('AlertState contract: DynamoDbAlertState on moto', () => {
  const moto: Moto = useMoto();
  alertStateContract(async () => {
    const ddb = new DynamoDBClient({ region: MOTO_REGION, endpoint: moto.endpoint });
    await createStateTable(ddb, TABLE);
    return new DynamoDbAlertState(ddb, { tableName: TABLE });
  });
});
