import { describe, expect, it } from 'vitest';
import {
  type ChatbotNotification,
  DEFAULT_DIGEST_MAX_BYTES,
  escapeSlack,
  previewDecisions,
  renderChatbotPreview,
  renderDigests,
  renderGroupDigest,
  renderOperationalAlert,
  SNS_MAX_MESSAGE_BYTES,
  s3ConsoleUrl,
  threadIdFor,
} from '../../shared/domain/chatbot.ts';
import type { ActDecision } from '../../shared/domain/decide.ts';
import type { Severity } from '../../shared/domain/policy.ts';
import {
  type AuditReport,
  emptySummary,
  type Finding,
  type InstanceResult,
} from '../../shared/domain/report.ts';

// ---------------------------------------------------------------------------------------------
// Fixtures: group web, 10 instances, 3 drifted (critical, high, low findings), 1 unknown.
// ---------------------------------------------------------------------------------------------

const REPORT_URI = 's3://driftwatch-artifacts/reports/2026/11/27/run-2026-11-27T12-00-00Z.json';
const CONSOLE_URL =
  'https://s3.console.aws.amazon.com/s3/object/driftwatch-artifacts?prefix=reports/2026/11/27/run-2026-11-27T12-00-00Z.json';
const AMI = 'ami-0a1b2c3d4e5f60718';

/** Control characters (but the newlines between lines) and bidi overrides left in `text`. */
function hiddenCharacters(text: string): string[] {
  return [...text].filter((ch) => {
    const code = ch.codePointAt(0) as number;
    return (
      (code <= 0x1f && ch !== '\n') ||
      (code >= 0x7f && code <= 0x9f) ||
      (code >= 0x202a && code <= 0x202e) ||
      (code >= 0x2066 && code <= 0x2069)
    );
  });
}
const HOSTILE = '<!channel> `x` *y* [a](http://e) @here';

function id(n: number): string {
  return `i-0${n.toString(16).padStart(16, '0')}`;
}

function instance(
  n: number,
  status: InstanceResult['status'],
  asgName: string | null = 'web',
): InstanceResult {
  return {
    instanceId: id(n),
    amiId: AMI,
    asgName,
    status,
    reason:
      status === 'unknown' ? 'inventory-stale' : status === 'drifted' ? 'differs from its manifest' : 'ok',
    captureTime: '2026-11-27T11:00:00.000Z',
    findings: 0,
  };
}

function finding(n: number, subject: string, severity: Severity, over: Partial<Finding> = {}): Finding {
  return {
    instanceId: id(n),
    asgName: 'web',
    amiId: AMI,
    kind: 'package-changed',
    subject,
    arch: 'x86_64',
    expected: '1:3.0.8-1.amzn2023.0.14',
    actual: '1:3.0.8-1.amzn2023.0.12',
    severity,
    fingerprint: `fp-${n}-${subject}`,
    ...over,
  };
}

function report(
  findings: Finding[],
  over: Partial<AuditReport> & { instances?: InstanceResult[] } = {},
): AuditReport {
  const drifted = new Set(findings.map((f) => f.instanceId));
  const instances =
    over.instances ??
    Array.from({ length: 10 }, (_, k) => {
      const n = k + 1;
      if (drifted.has(id(n))) return instance(n, 'drifted');
      return instance(n, n === 10 ? 'unknown' : 'compliant');
    });
  return {
    schemaVersion: 1,
    runId: 'run-2026-11-27T12-00-00Z',
    startedAt: '2026-11-27T12:00:00.000Z',
    finishedAt: '2026-11-27T12:00:05.000Z',
    evaluatedAt: '2026-11-27T12:00:00.000Z',
    summary: emptySummary(),
    instances,
    findings,
    decisions: [],
    waived: [],
    errors: [],
    ...over,
  };
}

const WEB_FINDINGS = [
  finding(3, 'htop', 'low', { kind: 'package-added', expected: null, actual: '3.2.2-1.amzn2023' }),
  finding(1, 'openssl-libs', 'critical'),
  finding(2, 'sshd', 'high', {
    kind: 'service-changed',
    arch: undefined,
    expected: 'running',
    actual: 'stopped',
  }),
];

function decision(over: Partial<ActDecision> = {}): ActDecision {
  return {
    asgName: 'web',
    action: 'notify',
    reasons: ['3 drifted instances of 10, worst severity critical', 'remediation mode is notify'],
    alert: 'new',
    refresh: false,
    dryRun: false,
    fingerprints: WEB_FINDINGS.map((f) => f.fingerprint).sort(),
    worstSeverity: 'critical',
    ...over,
  };
}

function parse(body: string): ChatbotNotification {
  return JSON.parse(body) as ChatbotNotification;
}

/** Every string anywhere in a parsed message (values and keys). */
function allStrings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(allStrings);
  if (value && typeof value === 'object')
    return Object.entries(value).flatMap(([k, v]) => [k, ...allStrings(v)]);
  return [];
}

function listedFindings(description: string): string[] {
  return description.split('\n').filter((line) => /^• \*(CRITICAL|HIGH|MEDIUM|LOW)\*/.test(line));
}

// ---------------------------------------------------------------------------------------------

describe('renderGroupDigest', () => {
  it('produces the AWS Chatbot custom-notification schema with client-markdown', () => {
    const message = renderGroupDigest({
      decision: decision(),
      report: report(WEB_FINDINGS),
      reportUri: REPORT_URI,
    });

    const body = parse(message.body);
    expect(Object.keys(body).sort()).toEqual(['content', 'id', 'metadata', 'source', 'version']);
    expect(body.version).toBe('1.0');
    expect(body.source).toBe('custom');
    expect(body.id).toMatch(/^driftwatch-[0-9a-f]{32}$/);
    expect(Object.keys(body.content).sort()).toEqual([
      'description',
      'keywords',
      'nextSteps',
      'textType',
      'title',
    ]);
    expect(body.content.textType).toBe('client-markdown');
    expect(body.content.title).toBe(':rotating_light: driftwatch: 3 drifted instances in `web` (critical)');
    expect(Object.keys(body.metadata).sort()).toEqual([
      'additionalContext',
      'eventType',
      'relatedResources',
      'summary',
      'threadId',
    ]);
    expect(body.metadata.eventType).toBe('DriftDetected');
    expect(body.metadata.threadId).toBe('driftwatch-web');
    expect(body.metadata.relatedResources).toEqual([id(1), id(2), id(3)]);
    expect(body.content.keywords).toEqual(['critical', 'web', 'new']);
    expect(body.metadata.additionalContext).toMatchObject({
      runId: 'run-2026-11-27T12-00-00Z',
      asgName: 'web',
      worstSeverity: 'critical',
      instances: '10',
      drifted: '3',
      unknown: '1',
      compliant: '6',
      findings: '3',
    });
    for (const value of Object.values(body.metadata.additionalContext)) expect(typeof value).toBe('string');
    expect(body.content.description).toContain(
      '*3 of 10 instances drifted* in `web` (1 unknown, 6 compliant).',
    );
    expect(body.content.description).toContain('• `remediation mode is notify`');
    expect(body.content.nextSteps).toContain('Review the drift: `driftwatch audit --live --asg web`');
  });

  it('sets the severity, asgName and eventType attributes and a short ASCII subject', () => {
    const message = renderGroupDigest({ decision: decision(), report: report(WEB_FINDINGS) });

    expect(message.attributes).toEqual({ severity: 'critical', asgName: 'web', eventType: 'DriftDetected' });
    expect(message.subject).toBe('driftwatch: 3 drifted in web (critical)');
  });

  it('keeps the subject printable ASCII and at most 100 characters, whatever the group is called', () => {
    const name = `web-\u00e9t\u00e9-${'x'.repeat(300)}\n<!here>`;
    const findings = WEB_FINDINGS.map((f) => ({ ...f, asgName: name }));
    const instances = report(WEB_FINDINGS).instances.map((i) => ({ ...i, asgName: name }));
    const message = renderGroupDigest({
      decision: decision({ asgName: name }),
      report: report(findings, { instances }),
    });

    expect(message.subject.length).toBeLessThanOrEqual(100);
    expect(message.subject).toMatch(/^[\x20-\x7e]+$/);
    expect(message.attributes.asgName).not.toContain('\n');
    expect(parse(message.body).metadata.threadId).toMatch(/^driftwatch-[A-Za-z0-9_-]+$/);
  });

  it('keeps the thread id of a group stable across runs, and the id stable for the same drift', () => {
    const first = renderGroupDigest({ decision: decision(), report: report(WEB_FINDINGS) });
    const later = renderGroupDigest({
      decision: decision(),
      report: report(WEB_FINDINGS, {
        runId: 'run-2026-11-28T12-00-00Z',
        evaluatedAt: '2026-11-28T12:00:00.000Z',
      }),
    });
    const changed = renderGroupDigest({
      decision: decision({ alert: 'changed', fingerprints: ['fp-other'] }),
      report: report(WEB_FINDINGS.slice(1), { runId: 'run-2026-11-29T12-00-00Z' }),
    });
    const otherGroup = renderGroupDigest({
      decision: decision({ asgName: 'api' }),
      report: report(WEB_FINDINGS.map((f) => ({ ...f, asgName: 'api' }))),
    });

    expect(parse(later.body).metadata.threadId).toBe(parse(first.body).metadata.threadId);
    expect(parse(changed.body).metadata.threadId).toBe('driftwatch-web');
    expect(parse(otherGroup.body).metadata.threadId).toBe('driftwatch-api');
    expect(parse(later.body).id).toBe(parse(first.body).id);
    expect(parse(changed.body).id).not.toBe(parse(first.body).id);
    expect(threadIdFor('web.prod')).not.toBe(threadIdFor('web-prod'));
    expect(threadIdFor(null)).toBe('driftwatch_ungrouped');
  });

  it('lists the worst findings first', () => {
    const message = renderGroupDigest({ decision: decision(), report: report(WEB_FINDINGS) });

    const lines = listedFindings(parse(message.body).content.description);
    expect(lines).toEqual([
      '• *CRITICAL* `i-00000000000000001` package-changed `openssl-libs` (`x86_64`): `1:3.0.8-1.amzn2023.0.14` → `1:3.0.8-1.amzn2023.0.12`',
      '• *HIGH* `i-00000000000000002` service-changed `sshd`: `running` → `stopped`',
      '• *LOW* `i-00000000000000003` package-added `htop` (`x86_64`): _(none)_ → `3.2.2-1.amzn2023`',
    ]);
  });

  it('caps 5,000 findings under 256 KiB, says how many were left out and links the report', () => {
    const severities: Severity[] = ['low', 'medium', 'high', 'critical'];
    const many = Array.from({ length: 5000 }, (_, k) =>
      finding((k % 9) + 1, `package-with-a-rather-long-name-${k}`, severities[k % 4] as Severity),
    );

    const message = renderGroupDigest({ decision: decision(), report: report(many), reportUri: REPORT_URI });

    const bytes = Buffer.byteLength(message.body, 'utf8');
    expect(bytes).toBeLessThanOrEqual(DEFAULT_DIGEST_MAX_BYTES);
    expect(bytes).toBeLessThan(SNS_MAX_MESSAGE_BYTES);
    const body = parse(message.body);
    const listed = listedFindings(body.content.description);
    expect(listed.length).toBeGreaterThan(100);
    expect(listed.length).toBeLessThan(5000);
    expect(listed[0]).toMatch(/^• \*CRITICAL\*/);
    expect(listed.at(-1)).toMatch(/^• \*(CRITICAL|HIGH)\*/);
    const left = (5000 - listed.length).toLocaleString('en-US');
    expect(body.content.description).toContain(`_… and ${left} more findings: see the report_`);
    expect(body.content.description).toContain(
      `*Worst findings* (${listed.length.toLocaleString('en-US')} of 5,000):`,
    );
    expect(body.content.description).toContain(`\`${REPORT_URI}\``);
    expect(body.content.description).toContain(`<${CONSOLE_URL}|open in the S3 console>`);
    expect(body.metadata.relatedResources.length).toBeLessThanOrEqual(20);
  });

  it('lists as many findings as fit: one byte less lists fewer', () => {
    const many = Array.from({ length: 400 }, (_, k) => finding((k % 9) + 1, `pkg-${k}`, 'high'));
    const input = { decision: decision(), report: report(many), reportUri: REPORT_URI, maxBytes: 20_000 };

    const message = renderGroupDigest(input);
    const size = Buffer.byteLength(message.body, 'utf8');
    const smaller = renderGroupDigest({ ...input, maxBytes: size - 1 });

    expect(size).toBeLessThanOrEqual(20_000);
    const listed = listedFindings(parse(message.body).content.description).length;
    expect(listedFindings(parse(smaller.body).content.description).length).toBe(listed - 1);
  });

  it('falls back to a short note and the report link when not even the header fits', () => {
    const message = renderGroupDigest({
      decision: decision({ reasons: Array.from({ length: 50 }, (_, k) => `reason ${k} ${'x'.repeat(150)}`) }),
      report: report(WEB_FINDINGS),
      reportUri: REPORT_URI,
      maxBytes: 4000,
    });

    const body = parse(message.body);
    expect(Buffer.byteLength(message.body, 'utf8')).toBeLessThanOrEqual(4000);
    expect(body.content.description).toContain('This digest was too large to send');
    expect(body.content.description).toContain(`<${CONSOLE_URL}|open in the S3 console>`);
    expect(body.metadata.eventType).toBe('DriftDetected');
  });

  it('makes a hostile package name, version and group name inert in every string of the message', () => {
    const group = '<!here> web';
    const hostile = [
      finding(1, HOSTILE, 'critical', {
        asgName: group,
        expected: '@channel <http://evil|click>',
        actual: '1.0\u202e\x1b[31m`rm -rf`\n@everyone',
        arch: '_x_',
      }),
    ];
    const instances = report(hostile).instances.map((i) => ({ ...i, asgName: group }));
    const r = report(hostile, { instances, errors: [{ source: HOSTILE, message: '<!here> @here' }] });

    const messages = renderDigests(r, [decision({ asgName: group, reasons: [`${HOSTILE} reason`] })], {
      reportUri: REPORT_URI,
      refreshes: new Map([[group, { refreshId: '<!channel>', autoRollback: false, notes: [HOSTILE] }]]),
      lastRefresh: new Map([[group, { refreshId: 'ir-1', status: '<!here>', statusReason: HOSTILE }]]),
    });

    expect(messages).toHaveLength(2);
    for (const message of messages) {
      const strings = [...allStrings(parse(message.body)), message.subject];
      for (const text of strings) {
        expect(text).not.toContain('<!channel>');
        expect(text).not.toContain('<!here>');
        expect(text).not.toContain('<http://evil');
        expect(text).not.toMatch(/@(?!\u2060)/);
        expect(text).not.toContain('](http');
        expect(text).not.toContain('`x`');
        expect(text).not.toContain('`rm -rf`');
        expect(hiddenCharacters(text)).toEqual([]);
      }
    }
    const description = parse(messages[0]?.body ?? '{}').content.description;
    expect(description).toContain('`&lt;!channel&gt; ˋxˋ *y* [a]\u2060(http://e) @\u2060here`');
    expect(description).toContain('`1.0\\u{202e}\\x1b[31mˋrm -rfˋ @\u2060everyone`');
    // Every code span is closed on its line: backticks come in pairs.
    for (const text of allStrings(parse(messages[0]?.body ?? '{}')))
      for (const line of text.split('\n')) expect((line.match(/`/g) ?? []).length % 2).toBe(0);
  });

  it('renders a resolved digest without findings', () => {
    const message = renderGroupDigest({
      decision: decision({
        action: 'none',
        reasons: ['no drift'],
        alert: 'resolved',
        fingerprints: [],
        worstSeverity: undefined,
      }),
      report: report([]),
      reportUri: REPORT_URI,
    });

    const body = parse(message.body);
    expect(body.content.title).toBe(':white_check_mark: driftwatch: drift resolved in `web`');
    expect(body.metadata.eventType).toBe('DriftResolved');
    expect(body.metadata.threadId).toBe('driftwatch-web');
    expect(body.content.description).toContain(
      '*Drift resolved* in `web`: no drifted instance among 10 instances',
    );
    expect(listedFindings(body.content.description)).toEqual([]);
    expect(body.metadata.relatedResources).toEqual([]);
    expect(message.attributes).toEqual({ severity: 'none', asgName: 'web', eventType: 'DriftResolved' });
    expect(message.subject).toBe('driftwatch: drift resolved in web');
  });

  it('renders a suspect-baseline digest that asks to check the manifest first', () => {
    const message = renderGroupDigest({
      decision: decision({
        alert: 'suspect-baseline',
        reasons: ['brake: 80% of the group drifted (limit 50%): suspect the baseline, never refresh'],
      }),
      report: report(WEB_FINDINGS),
    });

    const body = parse(message.body);
    expect(body.content.title).toBe(':warning: driftwatch: suspect baseline in `web` (critical)');
    expect(body.metadata.eventType).toBe('SuspectBaseline');
    expect(body.content.description).toContain('*Suspect baseline:*');
    expect(body.content.nextSteps[0]).toBe(`Check the manifest of \`${AMI}\` before refreshing`);
    expect(body.content.nextSteps[1]).toContain(
      `driftwatch capture --inventory &lt;dir&gt; --instance ${id(1)} --ami ${AMI}`,
    );
    expect(message.attributes.eventType).toBe('SuspectBaseline');
    expect(message.subject).toBe('driftwatch: suspect baseline in web (critical)');
  });

  it('announces a refresh it started, AutoRollback off and why, and the last refresh outcome', () => {
    const message = renderGroupDigest({
      decision: decision({ action: 'refresh', refresh: true, alert: 'reminder' }),
      report: report(WEB_FINDINGS),
      refresh: {
        refreshId: '0f1e2d3c-aaaa-bbbb-cccc-111122223333',
        autoRollback: false,
        notes: ['the group uses $Latest: AutoRollback is not allowed'],
      },
      lastRefresh: { refreshId: 'ir-previous', status: 'Successful' },
    });

    const body = parse(message.body);
    expect(body.metadata.eventType).toBe('RefreshStarted');
    expect(body.content.title).toBe(
      ':arrows_counterclockwise: driftwatch: instance refresh started in `web` (3 drifted instances, critical)',
    );
    expect(body.content.description).toContain(
      '*Instance refresh started:* `0f1e2d3c-aaaa-bbbb-cccc-111122223333`, AutoRollback *off*: `the group uses $Latest: AutoRollback is not allowed`.',
    );
    expect(body.content.description).toContain('*Last refresh* `ir-previous`: `Successful`');
    expect(body.content.nextSteps[0]).toBe(
      'Follow the refresh: `aws autoscaling describe-instance-refreshes --auto-scaling-group-name web --instance-refresh-ids 0f1e2d3c-aaaa-bbbb-cccc-111122223333`',
    );
    expect(body.metadata.additionalContext.refreshId).toBe('0f1e2d3c-aaaa-bbbb-cccc-111122223333');
    expect(message.attributes.eventType).toBe('RefreshStarted');
  });

  it('tells how to opt a group into refresh when it is not opted in', () => {
    const message = renderGroupDigest({
      decision: decision({ reasons: ['group is not opted in (tag driftwatch:remediate=true)'] }),
      report: report(WEB_FINDINGS),
      remediation: { mode: 'refresh', requireTag: 'driftwatch:remediate=true', optedIn: false },
    });

    expect(parse(message.body).content.nextSteps).toContain(
      "Opt the group into refresh with tag `driftwatch:remediate=true`: `aws autoscaling create-or-update-tags --tags 'ResourceId=web,ResourceType=auto-scaling-group,Key=driftwatch:remediate,Value=true,PropagateAtLaunch=false'`",
    );
  });

  it('names the instances outside any group', () => {
    const findings = WEB_FINDINGS.map((f) => ({ ...f, asgName: null }));
    const instances = report(WEB_FINDINGS).instances.map((i) => ({ ...i, asgName: null }));
    const message = renderGroupDigest({
      decision: decision({ asgName: null }),
      report: report(findings, { instances }),
    });

    expect(message.attributes.asgName).toBe('(none)');
    expect(parse(message.body).content.title).toBe(
      ':rotating_light: driftwatch: 3 drifted instances outside Auto Scaling groups (critical)',
    );
    expect(message.subject).toBe('driftwatch: 3 drifted in ungrouped instances (critical)');
  });
});

describe('renderOperationalAlert', () => {
  it('reports audit problems as an AuditError of severity high', () => {
    const message = renderOperationalAlert({
      title: 'driftwatch: the audit could not check everything',
      problems: [{ source: `manifests/${AMI}.json`, message: 'packages[3].version: is missing' }],
      runId: 'run-1',
      reportUri: REPORT_URI,
    });

    const body = parse(message.body);
    expect(body.version).toBe('1.0');
    expect(body.source).toBe('custom');
    expect(body.content.textType).toBe('client-markdown');
    expect(body.metadata.eventType).toBe('AuditError');
    expect(body.content.description).toContain(
      `• \`manifests/${AMI}.json\`: \`packages[3].version: is missing\``,
    );
    expect(message.attributes).toEqual({ severity: 'high', asgName: '(none)', eventType: 'AuditError' });
    expect(message.subject).toBe('driftwatch: audit error in run run-1');
  });
});

describe('renderDigests and renderChatbotPreview', () => {
  it('renders the groups with an alert, plus one operational alert when the report has errors', () => {
    const r = report(WEB_FINDINGS, { errors: [{ source: 'manifests', message: 'bad' }] });
    const quiet = decision({ asgName: 'api', alert: undefined });

    const messages = renderDigests(r, [decision(), quiet]);

    expect(messages.map((m) => m.attributes.eventType)).toEqual(['DriftDetected', 'AuditError']);
  });

  it('prints what would be sent as a JSON array of subject, attributes and the parsed message', () => {
    const r = report(WEB_FINDINGS, {
      decisions: [{ asgName: 'web', action: 'notify', reasons: ['3 drifted instances of 10'] }],
    });

    const preview = JSON.parse(renderChatbotPreview(r)) as {
      subject: string;
      attributes: Record<string, string>;
      message: ChatbotNotification;
    }[];

    expect(preview).toHaveLength(1);
    expect(preview[0]?.subject).toBe('driftwatch: 3 drifted in web (critical)');
    expect(preview[0]?.attributes.eventType).toBe('DriftDetected');
    expect(preview[0]?.message.metadata.threadId).toBe('driftwatch-web');
    expect(previewDecisions(r)[0]).toMatchObject({ alert: 'new', dryRun: true, refresh: false });
  });
});

describe('escapeSlack', () => {
  it('shows a value as a code span that nothing can close, link or mention from', () => {
    expect(escapeSlack('openssl-libs')).toBe('`openssl-libs`');
    expect(escapeSlack(HOSTILE)).toBe('`&lt;!channel&gt; ˋxˋ *y* [a]\u2060(http://e) @\u2060here`');
    expect(escapeSlack('a & b <@U123>')).toBe('`a &amp; b &lt;@\u2060U123&gt;`');
    expect(escapeSlack('line\r\nbreak\tand  more')).toBe('`line break and more`');
    expect(escapeSlack('\u202eevil\x1b[0m')).toBe('`\\u{202e}evil\\x1b[0m`');
    expect(escapeSlack('')).toBe('_(empty)_');
    expect([...escapeSlack('x'.repeat(500))]).toHaveLength(202);
  });

  it('links s3 reports to the S3 console', () => {
    expect(s3ConsoleUrl(REPORT_URI)).toBe(CONSOLE_URL);
    expect(s3ConsoleUrl('/tmp/report.json')).toBeUndefined();
  });
});
