/**
 * AlertState in one DynamoDB table (DESIGN.md §3): partition key `pk` (S), sort key `sk` (S), TTL
 * attribute `expiresAt` (epoch seconds), on-demand. Every item carries `expiresAt`. Items:
 *
 * | pk                       | sk                              | attributes                                        |
 * |--------------------------|---------------------------------|---------------------------------------------------|
 * | `ALERT#<groupKey>`       | `STATE`                         | groupKey, fingerprints? (L of S), fingerprintDigest, |
 * |                          |                                 | fingerprintCount, alertedAt (ISO), runId, expiresAt |
 * | `ALERT#<groupKey>`       | `LEASE`                         | owner (run id), leaseUntil (epoch s), claimedAt,   |
 * |                          |                                 | expiresAt                                         |
 * | `REFRESH#<asgName>`      | `<ISO startedAt>#<refreshId>`   | asgName, refreshId, startedAt, decisionKey, expiresAt |
 * | `DECISION#<decisionKey>` | `REFRESH`                       | asgName, status ('claimed' / 'started'), claimedAt, |
 * |                          |                                 | refreshId?, startedAt?, expiresAt                 |
 *
 * Alert memory (`STATE`). A group can have thousands of findings and an item must stay under 400 KB,
 * so `fingerprints` is stored only for at most FINGERPRINT_LIST_LIMIT (5,000) fingerprints (64 hex
 * characters each: ~330 KB); `fingerprintDigest` (sha256 of the sorted, de-duplicated set) and
 * `fingerprintCount` always are. A larger set comes back as `['sha256:<digest>']`. decide.ts then
 * still sees `changed` correctly, since the digest changes with the set; to see an unchanged large
 * set as unchanged, compare `alertIdentity(current)` (memory-alert-state.ts) with the memory.
 * `expiresAt` = alertedAt + alertTtlDays. `groupKey` '' (instances outside any group) is `ALERT#`.
 *
 * Lease (`LEASE`). claimAlert: PutItem if `attribute_not_exists(pk) OR leaseUntil < :now` (a crashed
 * run's lease runs out); a failed condition answers false. recordAlert: TransactWriteItems of the
 * `STATE` Put and a ConditionCheck `owner = :runId` on the lease, so only the holder records; a
 * non-holder's record does nothing. releaseAlert: DeleteItem if `owner = :runId` (else nothing).
 * `expiresAt` = leaseUntil + 1 day (TTL deletion is lazy: the condition, not TTL, judges expiry).
 *
 * Refresh history (`REFRESH#`): refreshHistory queries `sk >= <since ISO>`, the latest is the
 * greatest sort key. Refresh idempotency (`DECISION#`): claimRefresh PutItem if
 * `attribute_not_exists(pk)` (status 'claimed'); a lost claim reads the item (ConsistentRead) for
 * the refresh id. recordRefresh: TransactWriteItems of an Update of the decision (refreshId, status
 * 'started', if no refresh id is recorded yet) and the Put of the history item; recording the same
 * refresh id again is a no-op, another one an AlertStateError. Both expire after refreshTtlDays.
 *
 * Errors other than lost conditions throw AlertStateError with the SDK error as `cause`.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  type BatchGetCommandOutput,
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  type QueryCommandOutput,
  TransactWriteCommand,
} from '@aws-sdk/lib-dynamodb';
import type { AlertMemory } from '../domain/decide.ts';
import type { AlertState } from '../ports.ts';
import {
  AlertStateError,
  alertedAtOf,
  DIGEST_PREFIX,
  epochSeconds,
  fingerprintDigest,
  leaseLength,
  listable,
} from './memory-alert-state.ts';

export { AlertStateError } from './memory-alert-state.ts';

export interface DynamoDbAlertStateOptions {
  readonly tableName: string;
  /** Alert memory lives this long after the alert. @default 90 */
  readonly alertTtlDays?: number;
  /** Refresh decisions and history live this long after the claim / the start. @default 30 */
  readonly refreshTtlDays?: number;
}

const DAY_SECONDS = 86_400;
/** BatchGetItem takes at most 100 keys a call. */
const BATCH_GET_LIMIT = 100;
/** Calls per chunk while DynamoDB leaves keys unprocessed (throttled), first included. */
const BATCH_ATTEMPTS = 8;
const BATCH_BASE_DELAY_MS = 50;
const BATCH_MAX_DELAY_MS = 2_000;

export const alertPk = (groupKey: string): string => `ALERT#${groupKey}`;
export const refreshPk = (asgName: string): string => `REFRESH#${asgName}`;
export const decisionPk = (decisionKey: string): string => `DECISION#${decisionKey}`;
export const STATE_SK = 'STATE';
export const LEASE_SK = 'LEASE';
export const DECISION_SK = 'REFRESH';

type Item = Record<string, unknown>;
type Key = { pk: string; sk: string };

function errorName(error: unknown): string | undefined {
  const name = (error as { name?: unknown })?.name;
  return typeof name === 'string' ? name : undefined;
}

function isConditionFailure(error: unknown): boolean {
  return errorName(error) === 'ConditionalCheckFailedException';
}

/** The index of each transaction item whose condition failed, when a transaction was cancelled for that. */
function failedConditions(error: unknown): number[] | undefined {
  if (errorName(error) !== 'TransactionCanceledException') return undefined;
  const reasons = (error as { CancellationReasons?: { Code?: string }[] }).CancellationReasons ?? [];
  const failed = reasons.flatMap((r, i) => (r?.Code === 'ConditionalCheckFailed' ? [i] : []));
  const others = reasons.filter((r) => r?.Code && r.Code !== 'None' && r.Code !== 'ConditionalCheckFailed');
  return failed.length > 0 && others.length === 0 ? failed : undefined;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function positiveDays(value: number, name: string): number {
  if (!Number.isFinite(value) || value <= 0) {
    throw new AlertStateError(`${name} ${value}: must be a positive number of days`);
  }
  return value;
}

export class DynamoDbAlertState implements AlertState {
  readonly description: string;
  private readonly doc: DynamoDBDocumentClient;
  private readonly table: string;
  private readonly alertTtlSeconds: number;
  private readonly refreshTtlSeconds: number;

  constructor(ddb: DynamoDBClient, options: DynamoDbAlertStateOptions) {
    if (!options.tableName) throw new AlertStateError('a DynamoDB table name is required');
    this.table = options.tableName;
    this.description = `DynamoDB table ${options.tableName}`;
    this.alertTtlSeconds = Math.round(positiveDays(options.alertTtlDays ?? 90, 'alertTtlDays') * DAY_SECONDS);
    this.refreshTtlSeconds = Math.round(
      positiveDays(options.refreshTtlDays ?? 30, 'refreshTtlDays') * DAY_SECONDS,
    );
    this.doc = DynamoDBDocumentClient.from(ddb, { marshallOptions: { removeUndefinedValues: true } });
  }

  private fail(what: string, error: unknown): AlertStateError {
    const name = errorName(error) ?? 'Error';
    const message = error instanceof Error ? error.message : String(error);
    return new AlertStateError(`${this.description}: ${what}: ${name}: ${message}`, { cause: error });
  }

  async alertMemory(groupKeys: readonly string[]): Promise<Map<string, AlertMemory>> {
    const keys = [...new Set(groupKeys)];
    const result = new Map<string, AlertMemory>();
    for (let start = 0; start < keys.length; start += BATCH_GET_LIMIT) {
      const chunk = keys.slice(start, start + BATCH_GET_LIMIT).map((k) => ({ pk: alertPk(k), sk: STATE_SK }));
      for (const item of await this.batchGet(chunk)) {
        const groupKey = typeof item.pk === 'string' ? item.pk.slice('ALERT#'.length) : undefined;
        const memory = memoryOf(item);
        if (groupKey !== undefined && memory) result.set(groupKey, memory);
      }
    }
    return result;
  }

  /** One BatchGetItem chunk, retrying unprocessed keys with exponential backoff and full jitter. */
  private async batchGet(keys: Key[]): Promise<Item[]> {
    const items: Item[] = [];
    let pending: Record<string, unknown>[] = keys;
    for (let attempt = 0; pending.length > 0; attempt++) {
      if (attempt >= BATCH_ATTEMPTS) {
        throw new AlertStateError(
          `${this.description}: BatchGetItem left ${pending.length} alert keys unprocessed after ${BATCH_ATTEMPTS} attempts`,
        );
      }
      if (attempt > 0) {
        await sleep(Math.random() * Math.min(BATCH_MAX_DELAY_MS, BATCH_BASE_DELAY_MS * 2 ** attempt));
      }
      let output: BatchGetCommandOutput;
      try {
        output = await this.doc.send(
          new BatchGetCommand({ RequestItems: { [this.table]: { Keys: pending, ConsistentRead: true } } }),
        );
      } catch (error) {
        throw this.fail(`reading the alert memory of ${pending.length} groups`, error);
      }
      items.push(...(output.Responses?.[this.table] ?? []));
      pending = output.UnprocessedKeys?.[this.table]?.Keys ?? [];
    }
    return items;
  }

  async claimAlert(groupKey: string, runId: string, now: Date, leaseSeconds: number): Promise<boolean> {
    const nowSeconds = epochSeconds(now);
    const leaseUntil = nowSeconds + leaseLength(leaseSeconds);
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.table,
          Item: {
            pk: alertPk(groupKey),
            sk: LEASE_SK,
            owner: runId,
            leaseUntil,
            claimedAt: now.toISOString(),
            expiresAt: leaseUntil + DAY_SECONDS,
          },
          ConditionExpression: 'attribute_not_exists(#pk) OR #leaseUntil < :now',
          ExpressionAttributeNames: { '#pk': 'pk', '#leaseUntil': 'leaseUntil' },
          ExpressionAttributeValues: { ':now': nowSeconds },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw this.fail(`claiming the alert lease of group ${JSON.stringify(groupKey)}`, error);
    }
  }

  async recordAlert(groupKey: string, runId: string, memory: AlertMemory): Promise<void> {
    const alertedAt = alertedAtOf(memory);
    const fingerprints = memory.fingerprints;
    const item: Item = {
      pk: alertPk(groupKey),
      sk: STATE_SK,
      groupKey,
      ...(listable(fingerprints) ? { fingerprints: [...fingerprints] } : {}),
      fingerprintDigest: fingerprintDigest(fingerprints),
      fingerprintCount: new Set(fingerprints).size,
      alertedAt: memory.alertedAt,
      runId,
      expiresAt: epochSeconds(alertedAt) + this.alertTtlSeconds,
    };
    try {
      await this.doc.send(
        new TransactWriteCommand({
          TransactItems: [
            { Put: { TableName: this.table, Item: item } },
            {
              ConditionCheck: {
                TableName: this.table,
                Key: { pk: alertPk(groupKey), sk: LEASE_SK },
                ConditionExpression: '#owner = :runId',
                ExpressionAttributeNames: { '#owner': 'owner' },
                ExpressionAttributeValues: { ':runId': runId },
              },
            },
          ],
        }),
      );
    } catch (error) {
      // The lease is not (or no longer) this run's: only the holder records.
      if (failedConditions(error)) return;
      throw this.fail(`recording the alert of group ${JSON.stringify(groupKey)}`, error);
    }
  }

  async releaseAlert(groupKey: string, runId: string): Promise<void> {
    try {
      await this.doc.send(
        new DeleteCommand({
          TableName: this.table,
          Key: { pk: alertPk(groupKey), sk: LEASE_SK },
          ConditionExpression: '#owner = :runId',
          ExpressionAttributeNames: { '#owner': 'owner' },
          ExpressionAttributeValues: { ':runId': runId },
        }),
      );
    } catch (error) {
      if (isConditionFailure(error)) return;
      throw this.fail(`releasing the alert lease of group ${JSON.stringify(groupKey)}`, error);
    }
  }

  async refreshHistory(
    asgName: string,
    since: Date,
  ): Promise<{ count: number; latest?: { refreshId: string; startedAt: string } }> {
    epochSeconds(since);
    let count = 0;
    let latest: { sk: string; refreshId: string; startedAt: string } | undefined;
    let startKey: Record<string, unknown> | undefined;
    do {
      let output: QueryCommandOutput;
      try {
        output = await this.doc.send(
          new QueryCommand({
            TableName: this.table,
            KeyConditionExpression: '#pk = :pk AND #sk >= :since',
            ExpressionAttributeNames: { '#pk': 'pk', '#sk': 'sk' },
            ExpressionAttributeValues: { ':pk': refreshPk(asgName), ':since': since.toISOString() },
            ConsistentRead: true,
            ...(startKey ? { ExclusiveStartKey: startKey } : {}),
          }),
        );
      } catch (error) {
        throw this.fail(`reading the refresh history of group ${JSON.stringify(asgName)}`, error);
      }
      for (const item of output.Items ?? []) {
        count++;
        const sk = String(item.sk);
        if (!latest || sk > latest.sk) {
          latest = {
            sk,
            refreshId: String(item.refreshId ?? sk.slice(sk.indexOf('#') + 1)),
            startedAt: String(item.startedAt ?? sk.slice(0, sk.indexOf('#'))),
          };
        }
      }
      startKey = output.LastEvaluatedKey;
    } while (startKey);
    return latest
      ? { count, latest: { refreshId: latest.refreshId, startedAt: latest.startedAt } }
      : { count };
  }

  async claimRefresh(
    decisionKey: string,
    asgName: string,
    now: Date,
  ): Promise<{ claimed: boolean; refreshId?: string }> {
    const nowSeconds = epochSeconds(now);
    const key = { pk: decisionPk(decisionKey), sk: DECISION_SK };
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.table,
          Item: {
            ...key,
            asgName,
            status: 'claimed',
            claimedAt: now.toISOString(),
            expiresAt: nowSeconds + this.refreshTtlSeconds,
          },
          ConditionExpression: 'attribute_not_exists(#pk)',
          ExpressionAttributeNames: { '#pk': 'pk' },
        }),
      );
      return { claimed: true };
    } catch (error) {
      if (!isConditionFailure(error)) {
        throw this.fail(`claiming refresh decision ${JSON.stringify(decisionKey)}`, error);
      }
    }
    const refreshId = await this.recordedRefreshId(decisionKey);
    return refreshId === undefined ? { claimed: false } : { claimed: false, refreshId };
  }

  async releaseRefresh(decisionKey: string): Promise<void> {
    try {
      await this.doc.send(
        new DeleteCommand({
          TableName: this.table,
          Key: { pk: decisionPk(decisionKey), sk: DECISION_SK },
          // Only a claim that started nothing: a recorded refresh stays, whatever happens.
          ConditionExpression: '#status = :claimed AND attribute_not_exists(#refreshId)',
          ExpressionAttributeNames: { '#status': 'status', '#refreshId': 'refreshId' },
          ExpressionAttributeValues: { ':claimed': 'claimed' },
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) {
        throw this.fail(`releasing refresh decision ${JSON.stringify(decisionKey)}`, error);
      }
    }
  }

  private async recordedRefreshId(decisionKey: string): Promise<string | undefined> {
    try {
      const { Item } = await this.doc.send(
        new GetCommand({
          TableName: this.table,
          Key: { pk: decisionPk(decisionKey), sk: DECISION_SK },
          ConsistentRead: true,
        }),
      );
      return typeof Item?.refreshId === 'string' ? Item.refreshId : undefined;
    } catch (error) {
      throw this.fail(`reading refresh decision ${JSON.stringify(decisionKey)}`, error);
    }
  }

  async recordRefresh(decisionKey: string, asgName: string, refreshId: string, now: Date): Promise<void> {
    const expiresAt = epochSeconds(now) + this.refreshTtlSeconds;
    const startedAt = now.toISOString();
    try {
      await this.doc.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Update: {
                TableName: this.table,
                Key: { pk: decisionPk(decisionKey), sk: DECISION_SK },
                UpdateExpression:
                  'SET #refreshId = :refreshId, #status = :started, #asgName = :asgName, #startedAt = :startedAt, #expiresAt = :expiresAt',
                ConditionExpression: 'attribute_not_exists(#refreshId)',
                ExpressionAttributeNames: {
                  '#refreshId': 'refreshId',
                  '#status': 'status',
                  '#asgName': 'asgName',
                  '#startedAt': 'startedAt',
                  '#expiresAt': 'expiresAt',
                },
                ExpressionAttributeValues: {
                  ':refreshId': refreshId,
                  ':started': 'started',
                  ':asgName': asgName,
                  ':startedAt': startedAt,
                  ':expiresAt': expiresAt,
                },
              },
            },
            {
              Put: {
                TableName: this.table,
                Item: {
                  pk: refreshPk(asgName),
                  sk: `${startedAt}#${refreshId}`,
                  asgName,
                  refreshId,
                  startedAt,
                  decisionKey,
                  expiresAt,
                },
              },
            },
          ],
        }),
      );
      return;
    } catch (error) {
      if (!failedConditions(error)) {
        throw this.fail(`recording refresh ${refreshId} of decision ${JSON.stringify(decisionKey)}`, error);
      }
    }
    // The decision already has a refresh id: the same one is a retried record, another one a bug.
    const recorded = await this.recordedRefreshId(decisionKey);
    if (recorded === refreshId) return;
    throw new AlertStateError(
      `${this.description}: refresh decision ${JSON.stringify(decisionKey)} already recorded refresh ${recorded}, not ${refreshId}`,
    );
  }
}

/** An alert memory from a `STATE` item; undefined for an item that is not one (skipped: alerted again). */
function memoryOf(item: Item): AlertMemory | undefined {
  if (typeof item.alertedAt !== 'string') return undefined;
  if (Array.isArray(item.fingerprints) && item.fingerprints.every((f) => typeof f === 'string')) {
    return { fingerprints: item.fingerprints as string[], alertedAt: item.alertedAt };
  }
  if (typeof item.fingerprintDigest === 'string') {
    return { fingerprints: [`${DIGEST_PREFIX}${item.fingerprintDigest}`], alertedAt: item.alertedAt };
  }
  return undefined;
}
