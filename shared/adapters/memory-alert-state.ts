/**
 * The in-memory fake of AlertState, with the semantics of DynamoDbAlertState
 * (shared/adapters/dynamodb-alert-state.ts), held to them by test/ports/alert-state.contract.test.ts:
 *
 * - a lease is taken when there is none or the last one has run out (`leaseUntil < now`, whole epoch
 *   seconds); the same run id does not take its own live lease twice;
 * - only the lease holder records an alert; a record or a release by anyone else does nothing;
 * - a group's fingerprints come back as stored while there are at most FINGERPRINT_LIST_LIMIT of them,
 *   above that as `['sha256:<digest of the sorted set>']` (see `alertIdentity`);
 * - the first claim of a refresh decision wins; later ones get the refresh id once it is recorded;
 *   a decision records one refresh id (the same one again is a no-op, another one is an error).
 *
 * Also home to the pure helpers both implementations share (no AWS SDK here).
 */
import { createHash } from 'node:crypto';
import type { AlertMemory } from '../domain/decide.ts';
import type { AlertState } from '../ports.ts';

/** A state operation failed (not a lost race: those answer false or do nothing). */
export class AlertStateError extends Error {
  override readonly name = 'AlertStateError';
}

/** Above this many fingerprints a group's alert memory keeps only their digest (DynamoDB items < 400 KB). */
export const FINGERPRINT_LIST_LIMIT = 5_000;
/** And above this many characters of fingerprints (they are 64 hex characters each in practice). */
export const FINGERPRINT_LIST_MAX_CHARS = 350_000;
/** The prefix of the one-element fingerprint list that stands for a digested set. */
export const DIGEST_PREFIX = 'sha256:';

/** sha256 (hex) of the sorted, de-duplicated fingerprint set, one per line. */
export function fingerprintDigest(fingerprints: readonly string[]): string {
  const set = [...new Set(fingerprints)].sort();
  return createHash('sha256').update(set.join('\n')).digest('hex');
}

/** Whether a fingerprint list is stored as is (true) or only as its digest (false). */
export function listable(fingerprints: readonly string[]): boolean {
  if (fingerprints.length > FINGERPRINT_LIST_LIMIT) return false;
  let chars = 0;
  for (const f of fingerprints) chars += f.length;
  return chars <= FINGERPRINT_LIST_MAX_CHARS;
}

/**
 * The drift identity as AlertState gives it back: the fingerprints themselves, or for a large set
 * `['sha256:<digest>']`. Compare a group's current fingerprints through this with the remembered ones:
 * an unchanged large set then compares equal, a changed one differs (the digest changes with the set).
 */
export function alertIdentity(fingerprints: readonly string[]): readonly string[] {
  return listable(fingerprints) ? [...fingerprints] : [`${DIGEST_PREFIX}${fingerprintDigest(fingerprints)}`];
}

/** Whole epoch seconds of a time (a lease runs out when `leaseUntil < epochSeconds(now)`). */
export function epochSeconds(time: Date): number {
  const ms = time.getTime();
  if (Number.isNaN(ms)) throw new AlertStateError('the time given is not a valid date');
  return Math.floor(ms / 1000);
}

/** The lease length in whole seconds: positive and finite, else an AlertStateError. */
export function leaseLength(leaseSeconds: number): number {
  if (!Number.isFinite(leaseSeconds) || leaseSeconds <= 0) {
    throw new AlertStateError(`lease length ${leaseSeconds} s: must be a positive number of seconds`);
  }
  return Math.ceil(leaseSeconds);
}

/** The alert time of a memory to record, checked. */
export function alertedAtOf(memory: AlertMemory): Date {
  const at = new Date(memory.alertedAt);
  if (Number.isNaN(at.getTime())) {
    throw new AlertStateError(`alertedAt ${JSON.stringify(memory.alertedAt)} is not a time`);
  }
  return at;
}

interface Lease {
  owner: string;
  leaseUntil: number;
}

interface Decision {
  asgName: string;
  status: 'claimed' | 'started';
  refreshId?: string;
}

interface RefreshRecord {
  refreshId: string;
  startedAt: string;
}

export class MemoryAlertState implements AlertState {
  readonly description = 'memory';
  private readonly memories = new Map<string, AlertMemory>();
  private readonly leases = new Map<string, Lease>();
  private readonly decisions = new Map<string, Decision>();
  private readonly refreshes = new Map<string, RefreshRecord[]>();

  async alertMemory(groupKeys: readonly string[]): Promise<Map<string, AlertMemory>> {
    const result = new Map<string, AlertMemory>();
    for (const key of groupKeys) {
      const memory = this.memories.get(key);
      if (memory) result.set(key, { fingerprints: [...memory.fingerprints], alertedAt: memory.alertedAt });
    }
    return result;
  }

  async claimAlert(groupKey: string, runId: string, now: Date, leaseSeconds: number): Promise<boolean> {
    const nowSeconds = epochSeconds(now);
    const length = leaseLength(leaseSeconds);
    const held = this.leases.get(groupKey);
    if (held && !(held.leaseUntil < nowSeconds)) return false;
    this.leases.set(groupKey, { owner: runId, leaseUntil: nowSeconds + length });
    return true;
  }

  async recordAlert(groupKey: string, runId: string, memory: AlertMemory): Promise<void> {
    alertedAtOf(memory);
    if (this.leases.get(groupKey)?.owner !== runId) return;
    this.memories.set(groupKey, {
      fingerprints: alertIdentity(memory.fingerprints),
      alertedAt: memory.alertedAt,
    });
  }

  async releaseAlert(groupKey: string, runId: string): Promise<void> {
    if (this.leases.get(groupKey)?.owner === runId) this.leases.delete(groupKey);
  }

  async refreshHistory(
    asgName: string,
    since: Date,
  ): Promise<{ count: number; latest?: { refreshId: string; startedAt: string } }> {
    epochSeconds(since);
    const from = since.toISOString();
    const within = (this.refreshes.get(asgName) ?? [])
      .filter((r) => `${r.startedAt}#${r.refreshId}` >= from)
      .sort((a, b) => (`${a.startedAt}#${a.refreshId}` < `${b.startedAt}#${b.refreshId}` ? -1 : 1));
    const latest = within.at(-1);
    return latest
      ? { count: within.length, latest: { refreshId: latest.refreshId, startedAt: latest.startedAt } }
      : { count: 0 };
  }

  async claimRefresh(
    decisionKey: string,
    asgName: string,
    now: Date,
  ): Promise<{ claimed: boolean; refreshId?: string }> {
    epochSeconds(now);
    const existing = this.decisions.get(decisionKey);
    if (existing)
      return existing.refreshId ? { claimed: false, refreshId: existing.refreshId } : { claimed: false };
    this.decisions.set(decisionKey, { asgName, status: 'claimed' });
    return { claimed: true };
  }

  async releaseRefresh(decisionKey: string): Promise<void> {
    if (this.decisions.get(decisionKey)?.status === 'claimed') this.decisions.delete(decisionKey);
  }

  async recordRefresh(decisionKey: string, asgName: string, refreshId: string, now: Date): Promise<void> {
    epochSeconds(now);
    const existing = this.decisions.get(decisionKey);
    if (existing?.refreshId !== undefined) {
      if (existing.refreshId === refreshId) return;
      throw new AlertStateError(
        `refresh decision ${decisionKey} already recorded refresh ${existing.refreshId}, not ${refreshId}`,
      );
    }
    this.decisions.set(decisionKey, { asgName, status: 'started', refreshId });
    const history = this.refreshes.get(asgName) ?? [];
    history.push({ refreshId, startedAt: now.toISOString() });
    this.refreshes.set(asgName, history);
  }
}
