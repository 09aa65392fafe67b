/**
 * AWS Chatbot (Amazon Q Developer in chat applications) custom notifications: one digest per Auto
 * Scaling group that has something new to say, and an operational alert when an audit could not check
 * everything. Pure: plain data in, plain data out, the same input always gives the same message.
 *
 * Chatbot forwards only messages in its custom-notification schema (`version`, `source: custom`,
 * `content`, `metadata`) and drops anything else without an error, and SNS takes at most 256 KiB. So
 * a digest lists the worst findings that fit and links the full report in S3 for the rest.
 *
 * `client-markdown` is the chat client's own markup (Slack mrkdwn: `*bold*`, `<url|text>`,
 * `` `code` ``), which has no backslash escapes. Every string of a report may come from an untrusted
 * instance, so each one is shown through {@link escapeSlack}, as an inline code span that cannot be
 * closed, link, mention or format anything. Fields that are not markup (thread id, keywords, context)
 * only ever hold a restricted character set.
 */
import { createHash } from 'node:crypto';
import type { OutboundMessage } from '../ports.ts';
import type { ActDecision, AlertKind, Decision, RefreshOutcome } from './decide.ts';
import { compareFindingsInGroup, SEVERITIES_WORST_FIRST } from './order.ts';
import { FINDING_KINDS, SEVERITIES, type Severity } from './policy.ts';
import { escapeTerminal } from './render.ts';
import { type AuditReport, type Finding, type GroupSummary, groupSummaries } from './report.ts';

/** SNS refuses a message (body and attributes) over 256 KiB. */
export const SNS_MAX_MESSAGE_BYTES = 256 * 1024;
/** Room left for the message attributes and the SNS envelope. */
export const DEFAULT_DIGEST_MAX_BYTES = SNS_MAX_MESSAGE_BYTES - 1024;

export type ChatbotEventType =
  | 'DriftDetected'
  | 'DriftResolved'
  | 'SuspectBaseline'
  | 'RefreshStarted'
  | 'AuditError';

/** The AWS Chatbot custom-notification schema, as driftwatch fills it. */
export interface ChatbotNotification {
  readonly version: '1.0';
  readonly source: 'custom';
  readonly id: string;
  readonly content: {
    readonly textType: 'client-markdown';
    readonly title: string;
    readonly description: string;
    readonly nextSteps: readonly string[];
    readonly keywords: readonly string[];
  };
  readonly metadata: {
    readonly threadId: string;
    readonly summary: string;
    readonly eventType: ChatbotEventType;
    readonly relatedResources: readonly string[];
    readonly additionalContext: Readonly<Record<string, string>>;
  };
}

/** What the act step did or found about an instance refresh for the group this run. */
export interface DigestRefresh {
  readonly refreshId?: string | undefined;
  readonly autoRollback?: boolean | undefined;
  /** Why AutoRollback is off, what was adjusted, why nothing started. */
  readonly notes?: readonly string[] | undefined;
  /** `started` (the default when a refreshId is given), `in-progress`, `refused`, ... */
  readonly status?: string | undefined;
}

/** Remediation settings and live opt-in, when the caller knows them (for concrete next steps). */
export interface DigestRemediation {
  readonly mode?: 'notify' | 'refresh' | 'dry-run' | undefined;
  /** The opt-in tag (`key=value` or `key`). @default 'driftwatch:remediate=true' */
  readonly requireTag?: string | undefined;
  readonly optedIn?: boolean | undefined;
}

export interface GroupDigestInput {
  readonly decision: ActDecision;
  readonly report: AuditReport;
  /** Where the full report is (`s3://bucket/key` gets an S3 console link too). */
  readonly reportUri?: string | undefined;
  readonly refresh?: DigestRefresh | undefined;
  /** The outcome of the last refresh driftwatch started for the group. */
  readonly lastRefresh?: RefreshOutcome | undefined;
  readonly remediation?: DigestRemediation | undefined;
  /** Upper bound of the JSON body in bytes (UTF-8). @default DEFAULT_DIGEST_MAX_BYTES */
  readonly maxBytes?: number | undefined;
  /** Findings listed at most, whatever fits. @default no limit but maxBytes */
  readonly maxFindings?: number | undefined;
}

export interface OperationalAlertInput {
  /** Trusted text written by driftwatch (still made inert). */
  readonly title: string;
  readonly problems: readonly { readonly source: string; readonly message: string }[];
  readonly runId: string;
  readonly reportUri?: string | undefined;
  /** @default DEFAULT_DIGEST_MAX_BYTES */
  readonly maxBytes?: number | undefined;
}

const MAX_VALUE_CHARS = 200;
const MAX_COMMAND_CHARS = 600;
const MAX_RELATED_RESOURCES = 20;
const MAX_LISTED_AMIS = 3;
/** SNS: "less than 100 characters". */
const MAX_SUBJECT_CHARS = 99;
const MAX_ATTRIBUTE_CHARS = 256;
const MAX_TOKEN_CHARS = 100;
const DEFAULT_REQUIRE_TAG = 'driftwatch:remediate=true';
const NO_GROUP_ATTRIBUTE = '(none)';
const WORD_JOINER = '\u2060';
const MODIFIER_GRAVE = '\u02cb';

// ---------------------------------------------------------------------------------------------
// Making untrusted text inert
// ---------------------------------------------------------------------------------------------

const LINE_BREAKS = /[\t\n\v\f\r\u0085\u2028\u2029]+/g;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** One visible line: breaks collapsed, controls and bidi overrides shown as `\xNN`/`\u{NNNN}`, capped. */
function oneLine(text: string, max: number): string {
  const flat = escapeTerminal(text.replace(LONE_SURROGATE, '\ufffd').replace(LINE_BREAKS, ' '))
    .replace(/ {2,}/g, ' ')
    .trim();
  const chars = [...flat];
  return chars.length > max ? `${chars.slice(0, max - 1).join('')}…` : flat;
}

/**
 * Slack's three control characters as entities (no `<!channel>`, `<@U…>` or `<url|text>` can form),
 * a word joiner after every `@` (no `@here`, `@user` mention) and between `]` and `(` (no Markdown
 * link), and backticks as `ˋ` (a code span cannot be closed from inside).
 */
function inertText(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/`/g, MODIFIER_GRAVE)
    .replace(/@/g, `@${WORD_JOINER}`)
    .replace(/\]\(/g, `]${WORD_JOINER}(`);
}

function codeSpan(text: string, max: number): string {
  const inner = inertText(oneLine(text, max));
  return inner === '' ? '_(empty)_' : `\`${inner}\``;
}

/**
 * An untrusted value (package name, version, path, group name, instance id, any report string) made
 * inert for Slack/Chatbot `client-markdown`: shown as an inline code span, in which Slack formats
 * nothing, on one line, at most 200 characters. Inside it, `&` `<` `>` are entities, backticks become
 * `ˋ` (U+02CB), `@` and `](` are split by a word joiner (U+2060), and control characters and bidi
 * overrides are shown as `\xNN` / `\u{NNNN}` (as escapeTerminal does). An empty value is `_(empty)_`.
 */
export function escapeSlack(text: string): string {
  return codeSpan(text, MAX_VALUE_CHARS);
}

/** Trusted text written by driftwatch: one line, and still nothing that mentions or links. */
function trustedText(text: string): string {
  return inertText(oneLine(text, 1000));
}

/** Only `[A-Za-z0-9._:/=+-]` (anything else becomes `-`): for keywords, context values, summaries. */
function safeToken(text: string, max = MAX_TOKEN_CHARS): string {
  const token = [...text]
    .map((ch) => (/^[A-Za-z0-9._:/=+-]$/.test(ch) ? ch : '-'))
    .join('')
    .slice(0, max);
  return token === '' ? '-' : token;
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** `driftwatch-<asg>`: stable per group, `[A-Za-z0-9-_]` only; a short hash keeps altered names apart. */
export function threadIdFor(asgName: string | null): string {
  if (asgName === null) return 'driftwatch_ungrouped';
  const clean = asgName.replace(/[^A-Za-z0-9_-]/g, '-').slice(0, 80);
  return clean === asgName ? `driftwatch-${clean}` : `driftwatch-${clean}-${sha256(asgName).slice(0, 8)}`;
}

/** SNS Subject: printable ASCII only, one line, less than 100 characters. */
export function snsSubject(text: string): string {
  const ascii = text
    .replace(/[^\x20-\x7e]/g, '?')
    .replace(/ {2,}/g, ' ')
    .trim();
  return ascii.length > MAX_SUBJECT_CHARS ? `${ascii.slice(0, MAX_SUBJECT_CHARS - 3)}...` : ascii;
}

/** An SNS String attribute value: only characters XML allows, one line, never empty. */
function attributeValue(text: string): string {
  const clean = [...text.replace(LONE_SURROGATE, '').replace(LINE_BREAKS, ' ')]
    .filter((ch) => {
      const code = ch.codePointAt(0) as number;
      return code >= 0x20 && code !== 0x7f && code !== 0xfffe && code !== 0xffff;
    })
    .join('')
    .trim()
    .slice(0, MAX_ATTRIBUTE_CHARS);
  return clean === '' ? NO_GROUP_ATTRIBUTE : clean;
}

function shellQuote(text: string): string {
  return /^[A-Za-z0-9._:/=+-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}

/** A shell command shown as one code span (values inside it made inert too). */
function command(text: string): string {
  return codeSpan(text, MAX_COMMAND_CHARS);
}

// ---------------------------------------------------------------------------------------------
// Report views
// ---------------------------------------------------------------------------------------------

const KNOWN_KINDS = new Set<string>(FINDING_KINDS);
const KNOWN_SEVERITIES = new Set<string>(SEVERITIES);

function plural(n: number, word: string, wordPlural = `${word}s`): string {
  return `${n.toLocaleString('en-US')} ${n === 1 ? word : wordPlural}`;
}

function emptyGroup(asgName: string | null): GroupSummary {
  return {
    asgName,
    instances: 0,
    compliant: 0,
    drifted: 0,
    unknown: 0,
    findings: { critical: 0, high: 0, medium: 0, low: 0 },
  };
}

function groupLabel(asgName: string | null): string {
  return asgName === null ? 'instances outside any Auto Scaling group' : escapeSlack(asgName);
}

function severityLabel(severity: string): string {
  return KNOWN_SEVERITIES.has(severity) ? `*${severity.toUpperCase()}*` : escapeSlack(severity);
}

function kindLabel(kind: string): string {
  return KNOWN_KINDS.has(kind) ? kind : escapeSlack(kind);
}

function versionLabel(value: string | null): string {
  return value === null ? '_(none)_' : escapeSlack(value);
}

function findingLine(f: Finding): string {
  const arch = f.arch ? ` (${escapeSlack(f.arch)})` : '';
  return (
    `• ${severityLabel(f.severity)} ${escapeSlack(f.instanceId)} ${kindLabel(f.kind)} ` +
    `${escapeSlack(f.subject)}${arch}: ${versionLabel(f.expected)} → ${versionLabel(f.actual)}`
  );
}

/** `s3://bucket/key` -> its S3 console page, or undefined for anything else. */
export function s3ConsoleUrl(uri: string): string | undefined {
  const match = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])\/(.+)$/.exec(uri);
  if (!match) return undefined;
  const [, bucket, key] = match as unknown as [string, string, string];
  const prefix = encodeURIComponent(key).replace(/%2F/g, '/');
  return `https://s3.console.aws.amazon.com/s3/object/${bucket}?prefix=${prefix}`;
}

function reportLine(reportUri: string | undefined): string | undefined {
  if (!reportUri) return undefined;
  const consoleUrl = s3ConsoleUrl(reportUri);
  return `*Report:* ${escapeSlack(reportUri)}${consoleUrl ? ` (<${consoleUrl}|open in the S3 console>)` : ''}`;
}

function reportStep(reportUri: string | undefined): string | undefined {
  if (!reportUri) return undefined;
  const consoleUrl = s3ConsoleUrl(reportUri);
  return consoleUrl
    ? `Read the full report: <${consoleUrl}|${inertText(oneLine(reportUri, MAX_VALUE_CHARS))}>`
    : `Read the full report: ${escapeSlack(reportUri)}`;
}

/** What a digest is about, from the decision, the alert kind and the refresh. */
function eventTypeOf(alert: AlertKind, refresh: DigestRefresh | undefined): ChatbotEventType {
  if (refresh?.refreshId && (refresh.status === undefined || refresh.status === 'started'))
    return 'RefreshStarted';
  if (alert === 'resolved') return 'DriftResolved';
  if (alert === 'suspect-baseline') return 'SuspectBaseline';
  return 'DriftDetected';
}

const OPT_IN_REASON = /opt(?:ed)?[ -]?in|require ?tag|not tagged/i;

/** Largest `k` in [0, max] with `fits(k)`, for a `fits` that holds up to some k and not after; -1 if none. */
function largestFitting(max: number, fits: (k: number) => boolean): number {
  if (fits(max)) return max;
  if (!fits(0)) return -1;
  let lo = 0;
  let hi = max;
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (fits(mid)) lo = mid;
    else hi = mid;
  }
  return lo;
}

function byteSize(notification: ChatbotNotification): number {
  return Buffer.byteLength(JSON.stringify(notification), 'utf8');
}

// ---------------------------------------------------------------------------------------------
// Group digest
// ---------------------------------------------------------------------------------------------

/**
 * One digest for one group and run. The title says what happened; the description gives the counts,
 * the decision and its reasons, the refresh started and the last one's outcome, then the worst
 * findings first, as many as fit in `maxBytes` (then how many were left out, and the report link).
 * The thread id is stable per group so updates thread in Slack; the id is stable per group, event
 * and drift (fingerprints), so a retried publish is recognisable.
 *
 * Attributes: `severity` (worst finding, `none` when resolved), `asgName` (`(none)` outside any
 * group) and `eventType`, for SNS filter policies. Subject: printable ASCII, for email subscribers.
 */
export function renderGroupDigest(input: GroupDigestInput): OutboundMessage {
  const { decision, report } = input;
  const asg = decision.asgName;
  const maxBytes = input.maxBytes ?? DEFAULT_DIGEST_MAX_BYTES;
  const group = groupSummaries(report).find((g) => g.asgName === asg) ?? emptyGroup(asg);
  const findings = report.findings.filter((f) => f.asgName === asg).sort(compareFindingsInGroup);
  const alert: AlertKind = decision.alert ?? (group.drifted > 0 || findings.length > 0 ? 'new' : 'resolved');
  const eventType = eventTypeOf(alert, input.refresh);
  const worst: Severity | undefined =
    (findings[0] && KNOWN_SEVERITIES.has(findings[0].severity) ? findings[0].severity : undefined) ??
    decision.worstSeverity;
  const severity = alert === 'resolved' ? 'none' : (worst ?? 'low');
  const fingerprints =
    decision.fingerprints.length > 0 || alert === 'resolved'
      ? [...decision.fingerprints]
      : [...new Set(findings.map((f) => f.fingerprint))].sort();
  const groupToken = asg === null ? 'ungrouped' : safeToken(asg);

  const title = digestTitle(alert, eventType, group, asg, worst);
  const head = digestHead(input, alert, eventType, group);
  const tail = [
    reportLine(input.reportUri),
    `_Run ${escapeSlack(report.runId)}, evaluated ${escapeSlack(report.evaluatedAt)}_`,
  ].filter((line): line is string => line !== undefined);
  const lines = alert === 'resolved' ? [] : findings.map(findingLine);
  const amis = [...new Set(findings.flatMap((f) => (f.amiId ? [f.amiId] : [])))]
    .sort()
    .slice(0, MAX_LISTED_AMIS);
  const nextSteps = digestNextSteps(input, alert, eventType, amis, findings);
  const relatedResources = [
    ...new Set(findings.map((f) => f.instanceId).filter((id) => /^i-[0-9a-f]{8,17}$/.test(id))),
  ].slice(0, MAX_RELATED_RESOURCES);
  const additionalContext: Record<string, string> = {
    runId: safeToken(report.runId),
    asgName: asg === null ? NO_GROUP_ATTRIBUTE : safeToken(asg, 255),
    worstSeverity: worst ?? 'none',
    alertKind: alert,
    action: safeToken(decision.action),
    instances: String(group.instances),
    drifted: String(group.drifted),
    unknown: String(group.unknown),
    compliant: String(group.compliant),
    findings: String(findings.length),
    ...(input.refresh?.refreshId ? { refreshId: safeToken(input.refresh.refreshId) } : {}),
  };
  const summary =
    alert === 'resolved'
      ? `Drift resolved in ${groupToken}`
      : `${group.drifted} of ${group.instances} instances drifted in ${groupToken} (worst ${worst ?? 'unknown'})`;
  const id = `driftwatch-${sha256(JSON.stringify([asg, eventType, alert, fingerprints, input.refresh?.refreshId ?? null])).slice(0, 32)}`;

  const build = (listed: number): ChatbotNotification => {
    const body = [...head];
    if (lines.length > 0) {
      body.push(
        listed < lines.length
          ? `*Worst findings* (${listed.toLocaleString('en-US')} of ${lines.length.toLocaleString('en-US')}):`
          : '*Findings*, worst first:',
      );
      body.push(...lines.slice(0, listed));
      const left = lines.length - listed;
      if (left > 0) {
        body.push(
          `_… and ${plural(left, 'more finding')}: see the report${input.reportUri ? '' : ` (${command(`driftwatch audit --live${asg === null ? '' : ` --asg ${shellQuote(asg)}`} --format json`)})`}_`,
        );
      }
    }
    body.push(...tail);
    return {
      version: '1.0',
      source: 'custom',
      id,
      content: {
        textType: 'client-markdown',
        title,
        description: body.join('\n'),
        nextSteps,
        keywords: [severity, groupToken, alert],
      },
      metadata: {
        threadId: threadIdFor(asg),
        summary,
        eventType,
        relatedResources,
        additionalContext,
      },
    };
  };

  const limit = Math.min(lines.length, Math.max(0, input.maxFindings ?? lines.length));
  const listed = largestFitting(limit, (k) => byteSize(build(k)) <= maxBytes);
  const notification = listed >= 0 ? build(listed) : tooLarge(build(0), input.reportUri);
  const subjectGroup = asg === null ? 'ungrouped instances' : safeToken(asg, 60);
  return {
    body: JSON.stringify(notification),
    subject: snsSubject(digestSubject(eventType, alert, group, subjectGroup, worst)),
    attributes: {
      severity,
      asgName: asg === null ? NO_GROUP_ATTRIBUTE : attributeValue(asg),
      eventType,
    },
  };
}

/** Even with no finding listed the digest is too big (absurd reasons or notes): say so, link the report. */
function tooLarge(full: ChatbotNotification, reportUri: string | undefined): ChatbotNotification {
  return {
    ...full,
    content: {
      ...full.content,
      description: [
        'This digest was too large to send: the full report has the details.',
        reportLine(reportUri),
      ]
        .filter((line): line is string => line !== undefined)
        .join('\n'),
      nextSteps: full.content.nextSteps.slice(0, 3).map((step) => oneLine(step, 1000)),
    },
  };
}

function digestTitle(
  alert: AlertKind,
  eventType: ChatbotEventType,
  group: GroupSummary,
  asg: string | null,
  worst: Severity | undefined,
): string {
  const where = asg === null ? 'outside Auto Scaling groups' : `in ${escapeSlack(asg)}`;
  const drifted = plural(group.drifted, 'drifted instance');
  const sev = worst ? ` (${worst})` : '';
  if (eventType === 'RefreshStarted')
    return `:arrows_counterclockwise: driftwatch: instance refresh started ${where} (${drifted}${worst ? `, ${worst}` : ''})`;
  if (alert === 'resolved') return `:white_check_mark: driftwatch: drift resolved ${where}`;
  if (alert === 'suspect-baseline') return `:warning: driftwatch: suspect baseline ${where}${sev}`;
  const icon = worst === 'critical' || worst === 'high' ? ':rotating_light:' : ':warning:';
  if (alert === 'changed') return `${icon} driftwatch: drift changed ${where}: ${drifted}${sev}`;
  if (alert === 'reminder') return `${icon} driftwatch: still drifted ${where}: ${drifted}${sev}`;
  return `${icon} driftwatch: ${drifted} ${where}${sev}`;
}

function digestSubject(
  eventType: ChatbotEventType,
  alert: AlertKind,
  group: GroupSummary,
  groupName: string,
  worst: Severity | undefined,
): string {
  const sev = worst ? ` (${worst})` : '';
  if (eventType === 'RefreshStarted')
    return `driftwatch: refresh started in ${groupName} (${group.drifted} drifted${worst ? `, ${worst}` : ''})`;
  if (alert === 'resolved') return `driftwatch: drift resolved in ${groupName}`;
  if (alert === 'suspect-baseline') return `driftwatch: suspect baseline in ${groupName}${sev}`;
  if (alert === 'reminder') return `driftwatch: still ${group.drifted} drifted in ${groupName}${sev}`;
  return `driftwatch: ${group.drifted} drifted in ${groupName}${sev}`;
}

function digestHead(
  input: GroupDigestInput,
  alert: AlertKind,
  eventType: ChatbotEventType,
  group: GroupSummary,
): string[] {
  const { decision } = input;
  const where = groupLabel(decision.asgName);
  const lines: string[] = [];
  const others = `${group.unknown} unknown, ${group.compliant} compliant`;
  if (alert === 'resolved') {
    lines.push(
      group.instances > 0
        ? `*Drift resolved* in ${where}: no drifted instance among ${plural(group.instances, 'instance')} (${others}).`
        : `*Drift resolved* in ${where}: no instance reported drift in this run.`,
    );
    if (group.unknown > 0)
      lines.push(`${plural(group.unknown, 'instance')} could not be checked: see the report.`);
  } else {
    lines.push(
      `*${group.drifted} of ${plural(group.instances, 'instance')} drifted* in ${where} (${others}).`,
    );
    lines.push(
      `Findings: ${SEVERITIES_WORST_FIRST.map((s) => (group.findings[s] > 0 ? `*${s} ${group.findings[s]}*` : `${s} 0`)).join(', ')}.`,
    );
    if (alert === 'suspect-baseline') {
      lines.push(
        '*Suspect baseline:* so much of the group drifted that the manifest is more likely wrong than the fleet. ' +
          'Nothing is refreshed until it is checked.',
      );
    }
  }
  const why = {
    new: 'new drift',
    changed: 'the drift changed',
    reminder: 'reminder: drift unchanged',
    resolved: 'drift resolved',
    'suspect-baseline': 'blast-radius brake',
  }[alert];
  lines.push(
    `*Decision:* ${escapeSlack(decision.action)}${decision.dryRun ? ' (dry-run: nothing was changed)' : ''} — ${why}`,
  );
  for (const reason of decision.reasons) lines.push(`• ${escapeSlack(reason)}`);

  const refresh = input.refresh;
  if (refresh) {
    const notes = (refresh.notes ?? []).map((n) => escapeSlack(n));
    if (eventType === 'RefreshStarted') {
      const rollback =
        refresh.autoRollback === false
          ? `AutoRollback *off*${notes.length > 0 ? `: ${notes.join('; ')}` : ''}`
          : `AutoRollback on${notes.length > 0 ? ` (${notes.join('; ')})` : ''}`;
      lines.push(`*Instance refresh started:* ${escapeSlack(refresh.refreshId ?? '')}, ${rollback}.`);
    } else {
      lines.push(
        `*Instance refresh:* ${escapeSlack(refresh.status ?? 'not started')}${notes.length > 0 ? `: ${notes.join('; ')}` : ''}`,
      );
    }
  }
  const last = input.lastRefresh;
  if (last) {
    lines.push(
      `*Last refresh* ${escapeSlack(last.refreshId)}: ${escapeSlack(last.status)}` +
        (last.startedAt ? `, started ${escapeSlack(last.startedAt)}` : '') +
        (last.statusReason ? ` (${escapeSlack(last.statusReason)})` : ''),
    );
  }
  return lines;
}

function digestNextSteps(
  input: GroupDigestInput,
  alert: AlertKind,
  eventType: ChatbotEventType,
  amis: readonly string[],
  findings: readonly Finding[],
): string[] {
  const { decision } = input;
  const asg = decision.asgName;
  const asgArg = asg === null ? '' : ` --asg ${shellQuote(asg)}`;
  const steps: string[] = [];
  const report = reportStep(input.reportUri);

  if (eventType === 'RefreshStarted' && asg !== null) {
    steps.push(
      `Follow the refresh: ${command(`aws autoscaling describe-instance-refreshes --auto-scaling-group-name ${shellQuote(asg)}${input.refresh?.refreshId ? ` --instance-refresh-ids ${shellQuote(input.refresh.refreshId)}` : ''}`)}`,
    );
    if (input.refresh?.autoRollback === false) {
      steps.push(
        `AutoRollback is off: if new instances fail, cancel it: ${command(`aws autoscaling cancel-instance-refresh --auto-scaling-group-name ${shellQuote(asg)}`)}`,
      );
    }
  }
  if (alert === 'resolved') {
    if (report) steps.push(report);
    return steps;
  }
  if (alert === 'suspect-baseline') {
    for (const ami of amis) steps.push(`Check the manifest of ${escapeSlack(ami)} before refreshing`);
    const sample = findings[0];
    if (sample?.amiId) {
      steps.push(
        `If the fleet is right, recapture the manifest from a drifted instance: ${command(`driftwatch capture --inventory <dir> --instance ${shellQuote(sample.instanceId)} --ami ${shellQuote(sample.amiId)}`)}`,
      );
    }
  }
  steps.push(`Review the drift: ${command(`driftwatch audit --live${asgArg}`)}`);

  const remediation = input.remediation;
  const notOptedIn =
    asg !== null &&
    (remediation?.optedIn === false
      ? remediation.mode !== 'notify'
      : remediation?.optedIn === undefined && decision.reasons.some((r) => OPT_IN_REASON.test(r)));
  if (notOptedIn && asg !== null) {
    const tag = remediation?.requireTag ?? DEFAULT_REQUIRE_TAG;
    const eq = tag.indexOf('=');
    const key = eq >= 0 ? tag.slice(0, eq) : tag;
    const value = eq >= 0 ? tag.slice(eq + 1) : '';
    steps.push(
      `Opt the group into refresh with tag ${escapeSlack(tag)}: ${command(`aws autoscaling create-or-update-tags --tags ${shellQuote(`ResourceId=${asg},ResourceType=auto-scaling-group,Key=${key},Value=${value},PropagateAtLaunch=false`)}`)}`,
    );
  }
  if (decision.dryRun && decision.action === 'refresh') {
    steps.push(
      'This was a dry run: set `remediation.mode: refresh` in the policy to let driftwatch replace drifted instances',
    );
  }
  if (alert !== 'suspect-baseline' && eventType !== 'RefreshStarted') {
    steps.push(
      'If the change is intended, waive it in the policy (`waivers`) or recapture the golden manifest',
    );
  }
  if (report) steps.push(report);
  return steps;
}

// ---------------------------------------------------------------------------------------------
// Operational alert
// ---------------------------------------------------------------------------------------------

/**
 * For an audit that failed or could not check everything (an invalid manifest, an unreadable
 * inventory): eventType `AuditError`, severity `high`, the problems listed as many as fit.
 */
export function renderOperationalAlert(input: OperationalAlertInput): OutboundMessage {
  const maxBytes = input.maxBytes ?? DEFAULT_DIGEST_MAX_BYTES;
  const problems = input.problems.map((p) => `• ${escapeSlack(p.source)}: ${escapeSlack(p.message)}`);
  const id = `driftwatch-${sha256(JSON.stringify([input.runId, input.problems.map((p) => [p.source, p.message])])).slice(0, 32)}`;
  const report = reportLine(input.reportUri);
  const reportNext = reportStep(input.reportUri);
  const build = (listed: number): ChatbotNotification => {
    const lines = [
      `*${plural(input.problems.length, 'problem')}* in run ${escapeSlack(input.runId)}. ` +
        'Instances they touch are reported `unknown`, never compliant.',
      ...problems.slice(0, listed),
    ];
    if (listed < problems.length)
      lines.push(`_… and ${plural(problems.length - listed, 'more problem')}: see the report_`);
    if (report) lines.push(report);
    return {
      version: '1.0',
      source: 'custom',
      id,
      content: {
        textType: 'client-markdown',
        title: `:x: ${trustedText(input.title)}`,
        description: lines.join('\n'),
        nextSteps: [
          `Fix the inputs named above (manifest, policy, inventory) and rerun: ${command('driftwatch audit --live')}`,
          ...(reportNext ? [reportNext] : []),
        ],
        keywords: ['high', 'audit-error'],
      },
      metadata: {
        threadId: 'driftwatch-audit-errors',
        summary: `${plural(input.problems.length, 'problem')} in run ${safeToken(input.runId)}`,
        eventType: 'AuditError',
        relatedResources: [],
        additionalContext: { runId: safeToken(input.runId), problems: String(input.problems.length) },
      },
    };
  };
  const listed = largestFitting(problems.length, (k) => byteSize(build(k)) <= maxBytes);
  const notification = listed >= 0 ? build(listed) : tooLarge(build(0), input.reportUri);
  return {
    body: JSON.stringify(notification),
    subject: snsSubject(`driftwatch: audit error in run ${safeToken(input.runId, 60)}`),
    attributes: { severity: 'high', asgName: NO_GROUP_ATTRIBUTE, eventType: 'AuditError' },
  };
}

// ---------------------------------------------------------------------------------------------
// A run's messages
// ---------------------------------------------------------------------------------------------

export interface DigestsOptions {
  readonly reportUri?: string | undefined;
  readonly maxBytes?: number | undefined;
  readonly maxFindings?: number | undefined;
  /** Refreshes started this run, by group name. */
  readonly refreshes?: ReadonlyMap<string, DigestRefresh> | undefined;
  /** The last refresh's outcome, by group name. */
  readonly lastRefresh?: ReadonlyMap<string, RefreshOutcome> | undefined;
  readonly remediation?: DigestRemediation | undefined;
}

/** Every message of a run: a digest per group with an alert, then one operational alert if needed. */
export function renderDigests(
  report: AuditReport,
  decisions: readonly ActDecision[],
  options: DigestsOptions = {},
): OutboundMessage[] {
  const messages: OutboundMessage[] = [];
  for (const decision of decisions) {
    if (decision.alert === undefined) continue;
    const asg = decision.asgName;
    messages.push(
      renderGroupDigest({
        decision,
        report,
        reportUri: options.reportUri,
        refresh: asg === null ? undefined : options.refreshes?.get(asg),
        lastRefresh: asg === null ? undefined : options.lastRefresh?.get(asg),
        remediation: options.remediation,
        maxBytes: options.maxBytes,
        maxFindings: options.maxFindings,
      }),
    );
  }
  if (report.errors.length > 0) {
    messages.push(
      renderOperationalAlert({
        title: 'driftwatch: the audit could not check everything',
        problems: report.errors,
        runId: report.runId,
        reportUri: options.reportUri,
        maxBytes: options.maxBytes,
      }),
    );
  }
  return messages;
}

/**
 * Decisions for a preview without alert history (`audit --format chatbot` on local files): every
 * group the report decided to notify or refresh is `new` drift, or `suspect-baseline` when the brake
 * held it back. Nothing is refreshed.
 */
export function previewDecisions(report: AuditReport): ActDecision[] {
  return report.decisions
    .filter((d: Decision) => d.action !== 'none')
    .map((d) => {
      const findings = report.findings.filter((f) => f.asgName === d.asgName);
      const sorted = [...findings].sort(compareFindingsInGroup);
      const worst = sorted[0]?.severity;
      return {
        ...d,
        alert: d.reasons.some((r) => /brake|suspect/i.test(r)) ? 'suspect-baseline' : 'new',
        refresh: false,
        dryRun: true,
        fingerprints: [...new Set(findings.map((f) => f.fingerprint))].sort(),
        worstSeverity: worst && KNOWN_SEVERITIES.has(worst) ? worst : undefined,
      } satisfies ActDecision;
    });
}

/**
 * What `driftwatch audit --format chatbot` prints: the messages a run would publish, as a JSON array
 * of `{subject, attributes, message}` with the body parsed. Decisions default to {@link previewDecisions}.
 */
export function renderChatbotPreview(
  report: AuditReport,
  decisions: readonly ActDecision[] = previewDecisions(report),
  options: DigestsOptions = {},
): string {
  const preview = renderDigests(report, decisions, options).map((m) => ({
    subject: m.subject,
    attributes: m.attributes,
    message: JSON.parse(m.body) as ChatbotNotification,
  }));
  return `${JSON.stringify(preview, null, 2)}\n`;
}
