/**
 * The act use case: from an audit report, decide per Auto Scaling group (notify, refresh or
 * nothing), publish one digest per group that has something new to say, and start the guarded
 * instance refreshes the policy allows.
 *
 * Delivery is at-least-once and never silent: an alert is recorded as sent only after SNS accepted
 * it (a failed publish is retried next run), a lease in the state table keeps two racing runs from
 * both alerting, and a refresh decision is claimed in the table before StartInstanceRefresh, so a
 * retried invocation starts at most one refresh.
 */
import { createHash } from 'node:crypto';
import { alertIdentity } from '../adapters/memory-alert-state.ts';
import { type DigestRefresh, renderGroupDigest, renderOperationalAlert } from '../domain/chatbot.ts';
import { type ActDecision, type AlertMemory, decideActions, type GroupState } from '../domain/decide.ts';
import type { CompiledPolicy } from '../domain/policy.ts';
import type { AuditReport } from '../domain/report.ts';
import type { AlertState, Notifier, OutboundMessage, RefreshStart, Remediator } from '../ports.ts';

export interface ActDeps {
  readonly notifier: Notifier;
  readonly state: AlertState;
  readonly remediator: Remediator;
}

export interface ActOptions {
  readonly policy: CompiledPolicy;
  readonly now: Date;
  readonly runId: string;
  /** Where the audit report is (linked from the digests). */
  readonly reportUri?: string | undefined;
  /** Decide and render only: publish nothing, refresh nothing, write no state. */
  readonly dryRun?: boolean;
  /** How long a run may hold a group's alert lease. @default 300 */
  readonly leaseSeconds?: number;
}

export interface ActOutcome {
  readonly asgName: string | null;
  readonly decision: ActDecision;
  /** The digest published (or, in a dry run, that would be). */
  readonly published?:
    | { readonly messageId?: string; readonly eventType: string; readonly body: string }
    | undefined;
  readonly refresh?:
    | RefreshStart
    | { readonly status: 'already-started'; readonly refreshId?: string }
    | undefined;
  /** What did not happen and why (lease held by another run, publish failed, ...). */
  readonly notes: readonly string[];
}

export interface ActResult {
  readonly outcomes: readonly ActOutcome[];
  readonly operational?: { readonly messageId?: string; readonly body: string } | undefined;
  readonly errors: readonly string[];
}

const DAY_MS = 86_400_000;

/** '' stands for instances outside any Auto Scaling group in the state table. */
export function groupKey(asgName: string | null): string {
  return asgName ?? '';
}

/** The same drift decided on the same day is one refresh decision, however often it is retried. */
export function refreshDecisionKey(asgName: string, fingerprints: readonly string[], now: Date): string {
  const digest = createHash('sha256').update(fingerprints.join('\n')).digest('hex').slice(0, 32);
  return `${asgName}#${now.toISOString().slice(0, 10)}#${digest}`;
}

function errorText(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

async function liveGroupStates(
  report: AuditReport,
  deps: ActDeps,
  options: ActOptions,
): Promise<Map<string, GroupState>> {
  const names = [...new Set(report.instances.flatMap((i) => (i.asgName ? [i.asgName] : [])))].sort();
  if (names.length === 0) return new Map();
  const since = new Date(options.now.getTime() - DAY_MS);
  const histories = new Map(
    await Promise.all(
      names.map(async (name) => [name, await deps.state.refreshHistory(name, since)] as const),
    ),
  );
  const lastIds = new Map<string, string>();
  for (const [name, history] of histories) if (history.latest) lastIds.set(name, history.latest.refreshId);
  const live = await deps.remediator.groupStates(
    names,
    options.policy.policy.remediation.requireTag,
    lastIds,
  );
  const states = new Map<string, GroupState>();
  for (const name of names) {
    const state = live.get(name);
    states.set(name, {
      asgName: name,
      optedIn: state?.optedIn ?? false,
      refreshInProgress: state?.refreshInProgress ?? false,
      refreshesToday: histories.get(name)?.count ?? 0,
      lastRefresh: state?.lastRefresh,
    });
  }
  return states;
}

/** Findings listed in a Slack digest; the report in S3 has them all. */
const DIGEST_FINDINGS = 25;

/** What the digest says about this run's refresh: started (with its id), refused, already running. */
function refreshForDigest(refresh: ActOutcome['refresh']): DigestRefresh | undefined {
  if (!refresh) return undefined;
  switch (refresh.status) {
    case 'started':
      return {
        status: 'started',
        refreshId: refresh.refreshId,
        autoRollback: refresh.autoRollback,
        notes: refresh.notes,
      };
    case 'in-progress':
      return { status: 'in-progress', notes: refresh.notes };
    case 'refused':
      return { status: 'refused', notes: [refresh.reason] };
    case 'already-started':
      return { status: 'already-started', ...(refresh.refreshId ? { refreshId: refresh.refreshId } : {}) };
  }
}

/** Publishes under the group's alert lease and records it only once SNS accepted it. */
async function deliver(
  deps: ActDeps,
  options: ActOptions,
  key: string,
  message: OutboundMessage,
  fingerprints: readonly string[],
): Promise<{ messageId?: string; note?: string; error?: string }> {
  const claimed = await deps.state.claimAlert(key, options.runId, options.now, options.leaseSeconds ?? 300);
  if (!claimed) return { note: 'another run is alerting for this group: not publishing twice' };
  try {
    const { messageId } = await deps.notifier.publish(message);
    await deps.state.recordAlert(key, options.runId, { fingerprints, alertedAt: options.now.toISOString() });
    return { messageId };
  } catch (error) {
    // Not recorded: the next run sees the drift as still unalerted and tries again.
    return { error: errorText(error), note: `alert not sent (will retry next run): ${errorText(error)}` };
  } finally {
    await deps.state.releaseAlert(key, options.runId).catch(() => {});
  }
}

/** The state-table key under which operational alerts (audit errors) are de-duplicated. */
export const OPERATIONAL_KEY = '#operational';

/**
 * The state table keeps very large fingerprint sets as one digest (`['sha256:…']`, to stay within
 * DynamoDB's item size). Where the group's current set has that same digest, give the decision the
 * current set, so unchanged drift reads as unchanged.
 */
function comparableMemory(
  memory: ReadonlyMap<string, AlertMemory>,
  report: AuditReport,
): Map<string, AlertMemory> {
  const current = new Map<string, Set<string>>();
  for (const f of report.findings) {
    const key = groupKey(f.asgName);
    let set = current.get(key);
    if (!set) {
      set = new Set();
      current.set(key, set);
    }
    set.add(f.fingerprint);
  }
  const out = new Map<string, AlertMemory>();
  for (const [key, remembered] of memory) {
    if (key === OPERATIONAL_KEY) continue;
    const now = [...(current.get(key) ?? [])].sort();
    const digestOnly =
      remembered.fingerprints.length === 1 && remembered.fingerprints[0]?.startsWith('sha256:');
    out.set(
      key,
      digestOnly && alertIdentity(now)[0] === remembered.fingerprints[0]
        ? { ...remembered, fingerprints: now }
        : remembered,
    );
  }
  return out;
}

export async function actOnReport(
  report: AuditReport,
  deps: ActDeps,
  options: ActOptions,
): Promise<ActResult> {
  const groups = await liveGroupStates(report, deps, options);
  const keys = [...new Set([...report.instances.map((i) => groupKey(i.asgName)), OPERATIONAL_KEY])];
  const memory = await deps.state.alertMemory(keys);
  const decisions = decideActions({
    instances: report.instances,
    findings: report.findings,
    policy: options.policy,
    groups,
    memory: comparableMemory(memory, report),
    now: options.now,
  });

  const outcomes: ActOutcome[] = [];
  const errors: string[] = [];
  for (const decision of decisions) {
    const notes: string[] = [];
    let refresh: ActOutcome['refresh'];
    const asg = decision.asgName;

    if (decision.refresh && asg !== null && !options.dryRun) {
      const key = refreshDecisionKey(asg, decision.fingerprints, options.now);
      let claimed = false;
      try {
        const claim = await deps.state.claimRefresh(key, asg, options.now);
        claimed = claim.claimed;
        if (!claim.claimed) {
          refresh = { status: 'already-started', ...(claim.refreshId ? { refreshId: claim.refreshId } : {}) };
          notes.push(
            `refresh for this drift was already started${claim.refreshId ? ` (${claim.refreshId})` : ''}`,
          );
        } else {
          const prefs = options.policy.policy.remediation.refresh;
          refresh = await deps.remediator.startRefresh(asg, {
            minHealthyPercentage: prefs.minHealthyPercentage,
            autoRollback: prefs.autoRollback,
            checkpointPercentages: prefs.checkpointPercentages,
            instanceWarmup: prefs.instanceWarmup,
          });
          if (refresh.status === 'started') {
            await deps.state.recordRefresh(key, asg, refresh.refreshId, options.now);
            claimed = false; // recorded: the claim is now the refresh's record
          } else {
            notes.push(
              refresh.status === 'refused'
                ? `refresh refused: ${refresh.reason}`
                : 'a refresh is already running',
            );
          }
        }
      } catch (error) {
        errors.push(`${asg}: refresh failed: ${errorText(error)}`);
        notes.push(`refresh failed: ${errorText(error)}`);
      } finally {
        // Nothing started under this claim: give it back so a later run may try the decision again.
        if (claimed) await deps.state.releaseRefresh(key).catch(() => {});
      }
    }

    let published: ActOutcome['published'];
    // A started refresh is always announced, even when the drift itself was already alerted.
    const announce = decision.alert ?? (refresh?.status === 'started' ? 'reminder' : undefined);
    if (announce) {
      const remediation = options.policy.policy.remediation;
      const message = renderGroupDigest({
        decision: { ...decision, alert: announce },
        report,
        reportUri: options.reportUri,
        refresh: refreshForDigest(refresh),
        lastRefresh: asg !== null ? groups.get(asg)?.lastRefresh : undefined,
        remediation: {
          mode: remediation.mode,
          requireTag: remediation.requireTag,
          optedIn: asg !== null ? groups.get(asg)?.optedIn : false,
        },
        // Slack shows about 40,000 characters of a message: the worst findings, then the report link.
        maxFindings: DIGEST_FINDINGS,
      });
      const eventType = message.attributes.eventType ?? 'DriftDetected';
      if (options.dryRun) {
        published = { eventType, body: message.body };
      } else {
        const sent = await deliver(deps, options, groupKey(asg), message, decision.fingerprints);
        if (sent.note) notes.push(sent.note);
        if (sent.error) errors.push(`${asg ?? '(no group)'}: alert not sent: ${sent.error}`);
        if (sent.messageId !== undefined)
          published = { messageId: sent.messageId, eventType, body: message.body };
      }
    }
    outcomes.push({ asgName: asg, decision, published, refresh, notes });
  }

  // Operational problems (an invalid manifest, unreadable inventory): alerted when they change, and
  // reminded like drift, not on every scheduled run.
  let operational: ActResult['operational'];
  const problemPrints = report.errors
    .map((e) => createHash('sha256').update(`${e.source}\n${e.message}`).digest('hex'))
    .sort();
  const last = memory.get(OPERATIONAL_KEY);
  const changed = !last || last.fingerprints.join() !== problemPrints.join();
  const reminderDue =
    last !== undefined &&
    options.now.getTime() - Date.parse(last.alertedAt) >= options.policy.policy.remediation.remindAfter;
  if (report.errors.length > 0 && (changed || reminderDue)) {
    const message = renderOperationalAlert({
      title: 'driftwatch: the audit could not check everything',
      problems: report.errors,
      runId: report.runId,
      ...(options.reportUri ? { reportUri: options.reportUri } : {}),
    });
    if (options.dryRun) operational = { body: message.body };
    else {
      const sent = await deliver(deps, options, OPERATIONAL_KEY, message, problemPrints);
      if (sent.error) errors.push(`operational alert not sent: ${sent.error}`);
      if (sent.messageId !== undefined) operational = { messageId: sent.messageId, body: message.body };
    }
  } else if (report.errors.length === 0 && last && last.fingerprints.length > 0 && !options.dryRun) {
    // Problems cleared: forget them, so the next one is alerted as new.
    if (
      await deps.state.claimAlert(OPERATIONAL_KEY, options.runId, options.now, options.leaseSeconds ?? 300)
    ) {
      await deps.state.recordAlert(OPERATIONAL_KEY, options.runId, {
        fingerprints: [],
        alertedAt: options.now.toISOString(),
      });
      await deps.state.releaseAlert(OPERATIONAL_KEY, options.runId).catch(() => {});
    }
  }
  return { outcomes, operational, errors };
}
