/**
 * DynamoDbAlertState specifics the contract suite (test/ports/alert-state.contract.test.ts) does not
 * see: the item design on moto (keys, attribute types, expiresAt) and BatchGetItem chunking; and with
 * aws-sdk-client-mock, unprocessed keys retried and AWS errors surfacing as AlertStateError.
 */
import { createHash } from 'node:crypto';
import {
  type AttributeValue,
  BatchWriteItemCommand,
  DynamoDBClient,
  GetItemCommand,
} from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  DeleteCommand,
  DynamoDBDocumentClient,
  type DynamoDBDocumentClientResolvedConfig,
  GetCommand,
  PutCommand,
  QueryCommand,
  type ServiceInputTypes,
  type ServiceOutputTypes,
  TransactWriteCommand,
} from '@aws-sdk/lib-dynamodb';
import { type AwsStub, mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AlertStateError, DynamoDbAlertState } from '../../shared/adapters/dynamodb-alert-state.ts';
import { describeWithMoto, MOTO_REGION, useMoto } from '../helpers/moto.ts';
import { createStateTable, fingerprints } from '../helpers/state-table.ts';

const TABLE = 'driftwatch-state-test';
const NOW = new Date('2026-11-27T12:00:00.000Z');
const NOW_S = NOW.getTime() / 1000;
const DAY = 86_400;

/** Counts the commands a client sends, by name (the document client shares the client's stack). */
function countCommands(ddb: DynamoDBClient): Map<string, number> {
  const counts = new Map<string, number>();
  ddb.middlewareStack.add(
    (next, context) => async (args) => {
      const name = context.commandName ?? '?';
      counts.set(name, (counts.get(name) ?? 0) + 1);
      return next(args);
    },
    { step: 'initialize', name: 'testCountCommands' },
  );
  return counts;
}

describeWithMoto('DynamoDbAlertState on moto', () => {
  const moto = useMoto();

  async function setup(options: { alertTtlDays?: number; refreshTtlDays?: number } = {}) {
    const ddb = new DynamoDBClient({ region: MOTO_REGION, endpoint: moto.endpoint });
    await createStateTable(ddb, TABLE);
    const state = new DynamoDbAlertState(ddb, { tableName: TABLE, ...options });
    const raw = async (pk: string, sk: string): Promise<Record<string, AttributeValue> | undefined> =>
      (await ddb.send(new GetItemCommand({ TableName: TABLE, Key: { pk: { S: pk }, sk: { S: sk } } }))).Item;
    return { ddb, state, raw };
  }

  it('describes itself by its table', async () => {
    const { state } = await setup();
    expect(state.description).toBe(`DynamoDB table ${TABLE}`);
  });

  it('keeps the lease and the alert memory under ALERT#<group>, with expiresAt', async () => {
    const { state, raw } = await setup();
    const fps = fingerprints(3);
    expect(await state.claimAlert('web', 'run-1', NOW, 300)).toBe(true);
    expect(await raw('ALERT#web', 'LEASE')).toEqual({
      pk: { S: 'ALERT#web' },
      sk: { S: 'LEASE' },
      owner: { S: 'run-1' },
      leaseUntil: { N: String(NOW_S + 300) },
      claimedAt: { S: NOW.toISOString() },
      expiresAt: { N: String(NOW_S + 300 + DAY) },
    });

    await state.recordAlert('web', 'run-1', { fingerprints: fps, alertedAt: NOW.toISOString() });
    const item = await raw('ALERT#web', 'STATE');
    expect(item).toEqual({
      pk: { S: 'ALERT#web' },
      sk: { S: 'STATE' },
      groupKey: { S: 'web' },
      fingerprints: { L: fps.map((f) => ({ S: f })) },
      fingerprintDigest: { S: createHash('sha256').update(fps.join('\n')).digest('hex') },
      fingerprintCount: { N: '3' },
      alertedAt: { S: NOW.toISOString() },
      runId: { S: 'run-1' },
      expiresAt: { N: String(NOW_S + 90 * DAY) },
    });

    await state.releaseAlert('web', 'run-1');
    expect(await raw('ALERT#web', 'LEASE')).toBeUndefined();
    expect(await raw('ALERT#web', 'STATE')).toBeDefined();
  });

  it('keeps instances outside any group under ALERT# and an empty set as an empty list', async () => {
    const { state, raw } = await setup();
    expect(await state.claimAlert('', 'run-1', NOW, 300)).toBe(true);
    await state.recordAlert('', 'run-1', { fingerprints: [], alertedAt: NOW.toISOString() });
    expect(await raw('ALERT#', 'STATE')).toMatchObject({
      groupKey: { S: '' },
      fingerprints: { L: [] },
      fingerprintCount: { N: '0' },
    });
  });

  it('stores only the digest and the count of a set above 5,000 fingerprints (item well below 400 KB)', async () => {
    const { state, raw } = await setup();
    const fps = fingerprints(6_000);
    expect(await state.claimAlert('web', 'run-1', NOW, 300)).toBe(true);
    await state.recordAlert('web', 'run-1', { fingerprints: fps, alertedAt: NOW.toISOString() });
    const item = await raw('ALERT#web', 'STATE');
    expect(item?.fingerprints).toBeUndefined();
    expect(item?.fingerprintDigest).toEqual({ S: createHash('sha256').update(fps.join('\n')).digest('hex') });
    expect(item?.fingerprintCount).toEqual({ N: '6000' });
    expect(JSON.stringify(item).length).toBeLessThan(1_000);
  });

  it('honours the TTL options', async () => {
    const { state, raw } = await setup({ alertTtlDays: 7, refreshTtlDays: 2 });
    expect(await state.claimAlert('web', 'run-1', NOW, 300)).toBe(true);
    await state.recordAlert('web', 'run-1', { fingerprints: [], alertedAt: NOW.toISOString() });
    expect((await raw('ALERT#web', 'STATE'))?.expiresAt).toEqual({ N: String(NOW_S + 7 * DAY) });
    await state.claimRefresh('k', 'web', NOW);
    expect((await raw('DECISION#k', 'REFRESH'))?.expiresAt).toEqual({ N: String(NOW_S + 2 * DAY) });
  });

  it('keeps refresh decisions under DECISION#<key> and the history under REFRESH#<group>', async () => {
    const { state, raw } = await setup();
    const key = 'web#2026-11-27#abc';
    expect(await state.claimRefresh(key, 'web', NOW)).toEqual({ claimed: true });
    expect(await raw(`DECISION#${key}`, 'REFRESH')).toEqual({
      pk: { S: `DECISION#${key}` },
      sk: { S: 'REFRESH' },
      asgName: { S: 'web' },
      status: { S: 'claimed' },
      claimedAt: { S: NOW.toISOString() },
      expiresAt: { N: String(NOW_S + 30 * DAY) },
    });

    const started = new Date(NOW.getTime() + 5_000);
    await state.recordRefresh(key, 'web', 'refresh-1', started);
    expect(await raw(`DECISION#${key}`, 'REFRESH')).toEqual({
      pk: { S: `DECISION#${key}` },
      sk: { S: 'REFRESH' },
      asgName: { S: 'web' },
      status: { S: 'started' },
      claimedAt: { S: NOW.toISOString() },
      refreshId: { S: 'refresh-1' },
      startedAt: { S: started.toISOString() },
      expiresAt: { N: String(NOW_S + 5 + 30 * DAY) },
    });
    expect(await raw('REFRESH#web', `${started.toISOString()}#refresh-1`)).toEqual({
      pk: { S: 'REFRESH#web' },
      sk: { S: `${started.toISOString()}#refresh-1` },
      asgName: { S: 'web' },
      refreshId: { S: 'refresh-1' },
      startedAt: { S: started.toISOString() },
      decisionKey: { S: key },
      expiresAt: { N: String(NOW_S + 5 + 30 * DAY) },
    });
  });

  it('reads the memory of more than 100 groups in chunks of 100 BatchGetItem keys', async () => {
    const { ddb, state } = await setup();
    const groups = Array.from({ length: 250 }, (_, i) => `asg-${String(i).padStart(3, '0')}`);
    const remembered = groups.filter((_, i) => i % 2 === 0);
    for (let i = 0; i < remembered.length; i += 25) {
      await ddb.send(
        new BatchWriteItemCommand({
          RequestItems: {
            [TABLE]: remembered.slice(i, i + 25).map((g) => ({
              PutRequest: {
                Item: {
                  pk: { S: `ALERT#${g}` },
                  sk: { S: 'STATE' },
                  fingerprints: { L: [{ S: `fp-${g}` }] },
                  fingerprintDigest: { S: 'x' },
                  fingerprintCount: { N: '1' },
                  alertedAt: { S: NOW.toISOString() },
                  expiresAt: { N: String(NOW_S + DAY) },
                },
              },
            })),
          },
        }),
      );
    }
    const counts = countCommands(ddb);
    const memory = await state.alertMemory([...groups, ...groups.slice(0, 10)]);
    expect(Object.fromEntries(counts)).toEqual({ BatchGetItemCommand: 3 });
    expect([...memory.keys()].sort()).toEqual(remembered);
    expect(memory.get('asg-002')).toEqual({ fingerprints: ['fp-asg-002'], alertedAt: NOW.toISOString() });
  });
});

describe('DynamoDbAlertState with a mocked client', () => {
  // Mocks every document client's send: set up per test, so the moto suite above is untouched.
  let ddbMock: AwsStub<ServiceInputTypes, ServiceOutputTypes, DynamoDBDocumentClientResolvedConfig>;
  beforeEach(() => {
    ddbMock = mockClient(DynamoDBDocumentClient);
  });
  afterEach(() => {
    ddbMock.restore();
    vi.restoreAllMocks();
  });

  const state = () =>
    new DynamoDbAlertState(new DynamoDBClient({ region: MOTO_REGION }), { tableName: TABLE });
  const stateItem = (group: string) => ({
    pk: `ALERT#${group}`,
    sk: 'STATE',
    fingerprints: [`fp-${group}`],
    alertedAt: NOW.toISOString(),
  });
  const key = (group: string) => ({ pk: `ALERT#${group}`, sk: 'STATE' });
  const throttled = () =>
    Object.assign(new Error('Rate of requests exceeds the allowed throughput.'), {
      name: 'ThrottlingException',
    });

  it('retries the keys BatchGetItem left unprocessed', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0);
    ddbMock
      .on(BatchGetCommand)
      .resolvesOnce({
        Responses: { [TABLE]: [stateItem('web')] },
        UnprocessedKeys: { [TABLE]: { Keys: [key('api')], ConsistentRead: true } },
      })
      .resolvesOnce({ Responses: { [TABLE]: [] }, UnprocessedKeys: { [TABLE]: { Keys: [key('api')] } } })
      .resolvesOnce({ Responses: { [TABLE]: [stateItem('api')] }, UnprocessedKeys: {} });

    const memory = await state().alertMemory(['web', 'api', 'batch']);
    expect([...memory.keys()].sort()).toEqual(['api', 'web']);
    const calls = ddbMock.commandCalls(BatchGetCommand);
    expect(calls).toHaveLength(3);
    expect(calls[0]?.args[0].input.RequestItems?.[TABLE]).toEqual({
      Keys: [key('web'), key('api'), key('batch')],
      ConsistentRead: true,
    });
    expect(calls[2]?.args[0].input.RequestItems?.[TABLE]).toEqual({
      Keys: [key('api')],
      ConsistentRead: true,
    });
  });

  it('gives up on keys still unprocessed after 8 attempts', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0);
    ddbMock.on(BatchGetCommand).resolves({ UnprocessedKeys: { [TABLE]: { Keys: [key('web')] } } });
    await expect(state().alertMemory(['web'])).rejects.toThrow(
      /BatchGetItem left 1 alert keys unprocessed after 8 attempts/,
    );
    expect(ddbMock.commandCalls(BatchGetCommand)).toHaveLength(8);
  });

  it('surfaces throttling as AlertStateError, with the SDK error as cause', async () => {
    ddbMock.on(BatchGetCommand).rejects(throttled());
    ddbMock.on(PutCommand).rejects(throttled());
    ddbMock.on(QueryCommand).rejects(throttled());
    ddbMock.on(DeleteCommand).rejects(throttled());
    ddbMock.on(TransactWriteCommand).rejects(throttled());
    const s = state();
    const attempts: Promise<unknown>[] = [
      s.alertMemory(['web']),
      s.claimAlert('web', 'run-1', NOW, 60),
      s.recordAlert('web', 'run-1', { fingerprints: [], alertedAt: NOW.toISOString() }),
      s.releaseAlert('web', 'run-1'),
      s.refreshHistory('web', NOW),
      s.claimRefresh('k', 'web', NOW),
      s.recordRefresh('k', 'web', 'r-1', NOW),
    ];
    for (const attempt of attempts) {
      const error = await attempt.then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(AlertStateError);
      expect((error as AlertStateError).name).toBe('AlertStateError');
      expect((error as AlertStateError).message).toMatch(
        /DynamoDB table driftwatch-state-test: .*ThrottlingException/,
      );
      expect(((error as AlertStateError).cause as Error).name).toBe('ThrottlingException');
    }
  });

  it('treats a transaction cancelled by a conflict, not the lease condition, as an error', async () => {
    ddbMock.on(TransactWriteCommand).rejects(
      Object.assign(new Error('Transaction cancelled'), {
        name: 'TransactionCanceledException',
        CancellationReasons: [{ Code: 'None' }, { Code: 'TransactionConflict' }],
      }),
    );
    await expect(
      state().recordAlert('web', 'run-1', { fingerprints: [], alertedAt: NOW.toISOString() }),
    ).rejects.toBeInstanceOf(AlertStateError);
  });

  it('reads a lost refresh claim consistently for the refresh id', async () => {
    ddbMock.on(PutCommand).rejects(
      Object.assign(new Error('The conditional request failed'), {
        name: 'ConditionalCheckFailedException',
      }),
    );
    ddbMock.on(GetCommand).resolves({ Item: { pk: 'DECISION#k', sk: 'REFRESH', refreshId: 'r-9' } });
    expect(await state().claimRefresh('k', 'web', NOW)).toEqual({ claimed: false, refreshId: 'r-9' });
    expect(ddbMock.commandCalls(GetCommand)[0]?.args[0].input).toEqual({
      TableName: TABLE,
      Key: { pk: 'DECISION#k', sk: 'REFRESH' },
      ConsistentRead: true,
    });
  });
});
