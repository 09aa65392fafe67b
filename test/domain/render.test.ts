import { describe, expect, it } from 'vitest';
import type { Decision } from '../../shared/domain/decide.ts';
import type { Severity } from '../../shared/domain/policy.ts';
import {
  escapeHtml,
  escapeMarkdown,
  escapeTerminal,
  renderHtml,
  renderJson,
  renderMarkdown,
  renderReport,
  renderText,
} from '../../shared/domain/render.ts';
import type { AuditReport, Finding, InstanceResult, WaivedFinding } from '../../shared/domain/report.ts';

// ---------------------------------------------------------------------------------------------
// Fixtures: two groups plus an instance outside any group.
//   api: 2 drifted (a critical and a low finding set), 1 unknown, 1 compliant -> worst critical
//   web: 1 drifted (medium + high), 1 unknown, 4 compliant                   -> worst high
//   (no group): 1 unknown (unmanaged)
// ---------------------------------------------------------------------------------------------

const ESC = '\x1b';
/** Our own colour codes (SGR), built at run time so no control character sits in a regex literal. */
const SGR = new RegExp(`${ESC}\\[[0-9;]*m`, 'g');

/** Terminal-unsafe characters left in `text`: C0 (but newline), DEL, C1, bidi overrides and isolates. */
function unsafeCharacters(text: string): string[] {
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

function instance(
  over: Partial<InstanceResult> & Pick<InstanceResult, 'instanceId' | 'status'>,
): InstanceResult {
  return {
    amiId: 'ami-0golden',
    asgName: null,
    reason: over.status === 'compliant' ? 'matches its manifest' : 'differs from its manifest',
    captureTime: '2026-11-27T11:00:00.000Z',
    findings: 0,
    ...over,
  };
}

function finding(over: Partial<Finding> & Pick<Finding, 'instanceId' | 'subject' | 'severity'>): Finding {
  return {
    asgName: null,
    amiId: 'ami-0golden',
    kind: 'package-changed',
    arch: 'x86_64',
    expected: '1:3.0.8-1.amzn2023.0.14',
    actual: '1:3.0.8-1.amzn2023.0.12',
    fingerprint: `sha256:${over.instanceId}:${over.subject}`,
    ...over,
  };
}

function summarize(
  instances: InstanceResult[],
  findings: Finding[],
  waived: WaivedFinding[],
): AuditReport['summary'] {
  const count = (severity: Severity) => findings.filter((f) => f.severity === severity).length;
  const unknownReasons: AuditReport['summary']['unknownReasons'] = {};
  for (const i of instances.filter((x) => x.status === 'unknown')) {
    const reason = i.reason as keyof typeof unknownReasons;
    unknownReasons[reason] = (unknownReasons[reason] ?? 0) + 1;
  }
  return {
    instances: instances.length,
    compliant: instances.filter((i) => i.status === 'compliant').length,
    drifted: instances.filter((i) => i.status === 'drifted').length,
    unknown: instances.filter((i) => i.status === 'unknown').length,
    findings: {
      critical: count('critical'),
      high: count('high'),
      medium: count('medium'),
      low: count('low'),
    },
    unknownReasons,
    waived: waived.length,
  };
}

function report(
  over: {
    instances?: InstanceResult[];
    findings?: Finding[];
    waived?: WaivedFinding[];
    decisions?: Decision[];
  } = {},
): AuditReport {
  const instances = over.instances ?? [
    // Listed in name order on purpose: the renderer must order groups worst first itself.
    instance({ instanceId: 'i-api1', asgName: 'api', status: 'drifted', findings: 1 }),
    instance({ instanceId: 'i-api2', asgName: 'api', status: 'drifted', findings: 1 }),
    instance({
      instanceId: 'i-api3',
      asgName: 'api',
      status: 'unknown',
      reason: 'inventory-stale',
      detail: 'last inventory 2026-11-20T00:00:00Z, older than 24h',
    }),
    instance({ instanceId: 'i-api4', asgName: 'api', status: 'compliant' }),
    instance({ instanceId: 'i-web1', asgName: 'web', status: 'drifted', findings: 2 }),
    instance({ instanceId: 'i-web2', asgName: 'web', status: 'unknown', reason: 'manifest-missing' }),
    instance({ instanceId: 'i-web3', asgName: 'web', status: 'compliant' }),
    instance({ instanceId: 'i-web4', asgName: 'web', status: 'compliant' }),
    instance({ instanceId: 'i-web5', asgName: 'web', status: 'compliant' }),
    instance({ instanceId: 'i-web6', asgName: 'web', status: 'compliant' }),
    instance({ instanceId: 'i-solo', asgName: null, amiId: null, status: 'unknown', reason: 'unmanaged' }),
  ];
  const findings = over.findings ?? [
    finding({ instanceId: 'i-api1', asgName: 'api', subject: 'openssl-libs', severity: 'critical' }),
    finding({
      instanceId: 'i-api2',
      asgName: 'api',
      kind: 'service-changed',
      subject: 'chronyd',
      arch: undefined,
      expected: 'running',
      actual: 'stopped',
      severity: 'low',
    }),
    finding({
      instanceId: 'i-web1',
      asgName: 'web',
      kind: 'package-added',
      subject: 'htop',
      expected: null,
      actual: '3.2.2-1.amzn2023',
      severity: 'medium',
    }),
    finding({
      instanceId: 'i-web1',
      asgName: 'web',
      kind: 'file-changed',
      subject: '/etc/ssh/sshd_config',
      arch: '',
      expected: 'sha256:aaa',
      actual: 'sha256:bbb',
      severity: 'high',
    }),
  ];
  const waived = over.waived ?? [
    {
      ...finding({
        instanceId: 'i-web3',
        asgName: 'web',
        kind: 'package-added',
        subject: 'strace',
        severity: 'low',
      }),
      waiver: { reason: 'debugging INC-1234', expires: '2026-12-31', source: 'policy' },
    },
  ];
  return {
    schemaVersion: 1,
    runId: 'run-2026-11-27-0001',
    startedAt: '2026-11-27T12:00:00.000Z',
    finishedAt: '2026-11-27T12:00:05.000Z',
    evaluatedAt: '2026-11-27T12:00:00.000Z',
    summary: summarize(instances, findings, waived),
    instances,
    findings,
    decisions: over.decisions ?? [
      { asgName: 'api', action: 'refresh', reasons: ['2 drifted instances of 4, worst severity critical'] },
      {
        asgName: 'web',
        action: 'notify',
        reasons: ['1 drifted instance of 6, worst severity high', 'below minSeverity critical'],
      },
      { asgName: null, action: 'none', reasons: ['1 instance could not be checked'] },
    ],
    waived,
    errors: [{ source: 'manifests/ami-0broken.json', message: 'packages[3].version: expected string' }],
  };
}

/** A report whose one drifted instance has `n` findings, all package-changed on the same group. */
function reportWithManyFindings(n: number): AuditReport {
  const findings = Array.from({ length: n }, (_, k) =>
    finding({
      instanceId: 'i-big',
      asgName: 'big',
      subject: `pkg-${String(k).padStart(3, '0')}`,
      severity: 'medium',
    }),
  );
  return report({
    instances: [instance({ instanceId: 'i-big', asgName: 'big', status: 'drifted', findings: n })],
    findings,
    waived: [],
    decisions: [
      { asgName: 'big', action: 'notify', reasons: ['1 drifted instance of 1, worst severity medium'] },
    ],
  });
}

/** A report whose one drifted package carries `name` as its name, version and arch. */
function reportWithHostileName(name: string): AuditReport {
  return report({
    instances: [instance({ instanceId: 'i-evil', asgName: 'web', status: 'drifted', findings: 1 })],
    findings: [
      finding({
        instanceId: 'i-evil',
        asgName: 'web',
        subject: name,
        arch: name,
        actual: name,
        severity: 'high',
      }),
    ],
    waived: [],
    decisions: [
      { asgName: 'web', action: 'notify', reasons: ['1 drifted instance of 1, worst severity high'] },
    ],
  });
}

/** Splits a Markdown table row into cells the way GFM does: on `|` not escaped by a backslash. */
function cells(row: string): string[] {
  const out: string[] = [];
  let cell = '';
  for (let k = 0; k < row.length; k++) {
    const ch = row[k] as string;
    if (ch === '\\') {
      cell += ch + (row[k + 1] ?? '');
      k++;
    } else if (ch === '|') {
      out.push(cell);
      cell = '';
    } else {
      cell += ch;
    }
  }
  out.push(cell);
  // The leading and trailing pipes delimit the row; they do not open cells.
  return out.slice(1, -1).map((c) => c.trim());
}

// ---------------------------------------------------------------------------------------------

describe('renderJson', () => {
  it('round-trips through JSON.parse to an equal report', () => {
    // Prepare
    const r = report();

    // Act
    const json = renderJson(r);

    // Assess
    expect(JSON.parse(json)).toEqual(r);
    expect(json.endsWith('}\n')).toBe(true);
    expect(json).toContain('\n  "schemaVersion": 1,');
  });
});

describe('renderText', () => {
  it('prints the run id, the evaluation time and the summary counts with unknown reasons', () => {
    // Prepare
    const r = report();

    // Act
    const text = renderText(r, { color: false });

    // Assess
    const [header, instances, findings] = text.split('\n');
    expect(header).toContain('run-2026-11-27-0001');
    expect(header).toContain('2026-11-27T12:00:00.000Z');
    expect(instances).toBe(
      'Instances: 11  compliant 5  drifted 3  unknown 3 (inventory-stale 1, manifest-missing 1, unmanaged 1)',
    );
    expect(findings).toBe('Findings:  critical 1  high 1  medium 1  low 1  waived 1');
  });

  it('orders groups worst first, with instances outside any group under their own heading', () => {
    // Prepare: web has the most drifted-looking name order but api holds the critical finding.
    const r = report();

    // Act
    const text = renderText(r, { color: false });

    // Assess
    const headings = text.split('\n').filter((line) => line.startsWith('== '));
    expect(headings.map((h) => h.split('  ')[0])).toEqual(['== api', '== web', '== (no Auto Scaling group)']);
    expect(headings[0]).toContain('worst: CRITICAL');
  });

  it('breaks a severity tie by the number of drifted, then unknown instances, then the name', () => {
    // Prepare: three groups whose worst finding is high; b has more drifted, c more unknown than a.
    const instances = [
      instance({ instanceId: 'i-a1', asgName: 'a', status: 'drifted' }),
      instance({ instanceId: 'i-b1', asgName: 'b', status: 'drifted' }),
      instance({ instanceId: 'i-b2', asgName: 'b', status: 'drifted' }),
      instance({ instanceId: 'i-c1', asgName: 'c', status: 'drifted' }),
      instance({ instanceId: 'i-c2', asgName: 'c', status: 'unknown', reason: 'unmanaged' }),
      instance({ instanceId: 'i-d1', asgName: 'd', status: 'drifted' }),
    ];
    const findings = ['a1', 'b1', 'b2', 'c1', 'd1'].map((id) =>
      finding({ instanceId: `i-${id}`, asgName: id.slice(0, 1), subject: 'openssl', severity: 'high' }),
    );

    // Act
    const text = renderText(report({ instances, findings, waived: [], decisions: [] }), { color: false });

    // Assess
    const order = text
      .split('\n')
      .filter((line) => line.startsWith('== '))
      .map((h) => h.split('  ')[0]);
    expect(order).toEqual(['== b', '== c', '== a', '== d']);
  });

  it("shows each group's decision with its reasons", () => {
    // Prepare
    const r = report();

    // Act
    const text = renderText(r, { color: false });

    // Assess
    expect(text).toContain('decision: refresh - 2 drifted instances of 4, worst severity critical');
    expect(text).toContain(
      'decision: notify - 1 drifted instance of 6, worst severity high; below minSeverity critical',
    );
  });

  it('lists drifted instances first with their findings, then unknown ones with reason and detail, then compliant ones as a count', () => {
    // Prepare
    const r = report();

    // Act
    const text = renderText(r, { color: false });

    // Assess
    const api = text.slice(text.indexOf('== api'), text.indexOf('== web'));
    const drifted = api.indexOf('DRIFTED i-api1');
    const unknown = api.indexOf('UNKNOWN i-api3');
    const compliant = api.indexOf('1 compliant: i-api4');
    expect(drifted).toBeGreaterThan(-1);
    expect(unknown).toBeGreaterThan(drifted);
    expect(compliant).toBeGreaterThan(unknown);
    expect(api).toContain(
      'CRITICAL package-changed openssl-libs [x86_64]  1:3.0.8-1.amzn2023.0.14 -> 1:3.0.8-1.amzn2023.0.12',
    );
    expect(api).toContain('inventory-stale: last inventory 2026-11-20T00:00:00Z, older than 24h');
    expect(text).toContain('4 compliant: i-web3, i-web4, i-web5, i-web6');
  });

  it('shows an unknown instance with its reason code even without detail', () => {
    // Prepare
    const r = report();

    // Act
    const text = renderText(r, { color: false });

    // Assess
    expect(text).toContain('UNKNOWN i-web2 (ami-0golden)  manifest-missing');
    expect(text).toContain('UNKNOWN i-solo  unmanaged');
  });

  it('lists findings of an instance worst first, showing an arch only when it is set and a missing side as (none)', () => {
    // Prepare
    const r = report();

    // Act
    const text = renderText(r, { color: false });

    // Assess
    const high = text.indexOf('HIGH file-changed /etc/ssh/sshd_config  sha256:aaa -> sha256:bbb');
    const medium = text.indexOf('MEDIUM package-added htop [x86_64]  (none) -> 3.2.2-1.amzn2023');
    expect(high).toBeGreaterThan(-1);
    expect(medium).toBeGreaterThan(high);
    expect(text).toContain('LOW service-changed chronyd  running -> stopped');
  });

  it('caps the findings of an instance and says how many more there are', () => {
    // Prepare
    const r = reportWithManyFindings(30);

    // Act
    const capped = renderText(r, { color: false });
    const narrower = renderText(r, { color: false, maxFindingsPerInstance: 3 });

    // Assess
    expect(capped).toContain('pkg-024');
    expect(capped).not.toContain('pkg-025');
    expect(capped).toContain('... and 5 more');
    expect(narrower.match(/MEDIUM package-changed/g)).toHaveLength(3);
    expect(narrower).toContain('... and 27 more');
  });

  it('collapses many compliant instances to a count with the first few ids', () => {
    // Prepare
    const instances = Array.from({ length: 14 }, (_, k) =>
      instance({ instanceId: `i-${String(k).padStart(2, '0')}`, asgName: 'fleet', status: 'compliant' }),
    );

    // Act
    const text = renderText(report({ instances, findings: [], waived: [] }), { color: false });

    // Assess
    expect(text).toContain(
      '14 compliant: i-00, i-01, i-02, i-03, i-04, i-05, i-06, i-07, i-08, i-09, ... and 4 more',
    );
    expect(text).not.toContain('i-10');
  });

  it('ends with the operational errors', () => {
    // Prepare
    const r = report();

    // Act
    const text = renderText(r, { color: false });

    // Assess
    expect(text.trimEnd().split('\n').slice(-2)).toEqual([
      'Errors (1):',
      '   manifests/ami-0broken.json: packages[3].version: expected string',
    ]);
  });

  it('uses ANSI colour only when asked', () => {
    // Prepare
    const r = report();

    // Act
    const plain = renderText(r, { color: false });
    const coloured = renderText(r, { color: true });

    // Assess
    expect(plain).not.toContain(ESC);
    expect(coloured).toContain(`${ESC}[1;31mCRITICAL${ESC}[0m`);
    expect(coloured).toContain(`${ESC}[31mHIGH${ESC}[0m`);
    expect(coloured).toContain(`${ESC}[33mMEDIUM${ESC}[0m`);
    expect(coloured.replace(SGR, '')).toBe(plain);
  });

  it('renders escape sequences and bidi overrides in a package name inert and visible', () => {
    // Prepare: clear the screen, set the window title, hide text, reverse the display order.
    const name = `${ESC}[2J${ESC}]0;pwned\x07evil\x9b31m\u202Egnp.exe\x00\x7f`;
    const r = reportWithHostileName(name);

    // Act
    const plain = renderText(r, { color: false });
    const coloured = renderText(r, { color: true });

    // Assess
    expect(unsafeCharacters(plain)).toEqual([]);
    expect(plain).toContain('\\x1b[2J\\x1b]0;pwned\\x07evil\\x9b31m\\u{202e}gnp.exe\\x00\\x7f');
    // With colour on, the only escape sequences left are our own SGR codes.
    expect(coloured.replace(SGR, '')).not.toContain(ESC);
    expect(coloured).toContain('\\x1b[2J');
  });

  it('neutralises control characters in every untrusted field, not only package names', () => {
    // Prepare
    const r = report();
    r.runId = `run${ESC}[2J`;
    r.instances[2] = { ...(r.instances[2] as InstanceResult), detail: `line1\nline2${ESC}c` };
    r.errors = [{ source: `src\r`, message: `msg\u2066x` }];

    // Act
    const text = renderText(r, { color: false });

    // Assess
    expect(text).not.toContain(ESC);
    expect(text).not.toContain('\r');
    expect(text).toContain('run\\x1b[2J');
    expect(text).toContain('line1\\x0aline2\\x1bc');
    expect(text).toContain('src\\x0d: msg\\u{2066}x');
  });

  it('is deterministic', () => {
    // Prepare
    const r = report();

    // Act
    const first = renderText(r, { color: true });
    const second = renderText(structuredClone(r), { color: true });

    // Assess
    expect(second).toBe(first);
  });
});

describe('escapeTerminal', () => {
  it('keeps printable text, including non-ASCII letters, as it is', () => {
    expect(escapeTerminal('libstdc++ 1:3.0.8-1 ünïcødé 日本')).toBe('libstdc++ 1:3.0.8-1 ünïcødé 日本');
  });
});

describe('escapeMarkdown', () => {
  it('escapes a leading list marker but leaves versions and hyphenated names readable', () => {
    expect(escapeMarkdown('- item')).toBe('\\- item');
    expect(escapeMarkdown('1. item')).toBe('1\\. item');
    expect(escapeMarkdown('3.2.2-1.amzn2023')).toBe('3.2.2-1.amzn2023');
    expect(escapeMarkdown('openssl-libs')).toBe('openssl-libs');
  });

  it.each([
    ['<!channel>', '&lt;\\!channel&gt;'],
    ['@here', '&#64;here'],
    ['[x](http://e)', '\\[x\\]\\(http://e\\)'],
    ['`code`', '\\`code\\`'],
    ['a|b', 'a\\|b'],
    ['*bold* _it_ ~s~', '\\*bold\\* \\_it\\_ \\~s\\~'],
    ['# h', '\\# h'],
    ['a & b', 'a &amp; b'],
    ['back\\slash', 'back\\\\slash'],
    ['two\nlines\r\n', 'two lines  '],
    [`bell\x07 esc${ESC} rlo\u202E`, 'bell esc rlo'],
  ])('escapes %j as literal text', (input, expected) => {
    expect(escapeMarkdown(input)).toBe(expected);
  });
});

describe('renderMarkdown', () => {
  it('has a title, a summary table and one section per group, worst first', () => {
    // Prepare
    const r = report();

    // Act
    const md = renderMarkdown(r);

    // Assess
    expect(md.startsWith('# driftwatch audit report\n')).toBe(true);
    expect(md).toContain(
      '| Instances | Compliant | Drifted | Unknown | Critical | High | Medium | Low | Waived |',
    );
    expect(md).toContain('| 11 | 5 | 3 | 3 | 1 | 1 | 1 | 1 | 1 |');
    const headings = md.split('\n').filter((line) => line.startsWith('## '));
    expect(headings).toEqual([
      '## api',
      '## web',
      '## \\(no Auto Scaling group\\)',
      '## Waived findings (1)',
      '## Errors (1)',
    ]);
  });

  it('shows the decision, a findings table and an unknown-instances table per group', () => {
    // Prepare
    const r = report();

    // Act
    const md = renderMarkdown(r);

    // Assess
    const web = md.slice(md.indexOf('## web'), md.indexOf('## \\(no'));
    expect(web).toContain(
      '**Decision:** notify - 1 drifted instance of 6, worst severity high; below minSeverity critical',
    );
    expect(web).toContain('| Severity | Instance | Kind | Subject | Expected | Actual |');
    expect(web).toContain(
      '| high | i-web1 | file-changed | /etc/ssh/sshd\\_config | sha256:aaa | sha256:bbb |',
    );
    expect(web).toContain(
      '| medium | i-web1 | package-added | htop \\(x86\\_64\\) | \\(none\\) | 3.2.2-1.amzn2023 |',
    );
    expect(web).toContain('| Instance | Reason | Detail |');
    expect(web).toContain('| i-web2 | manifest-missing |  |');
  });

  it('lists waived findings and operational errors', () => {
    // Prepare
    const r = report();

    // Act
    const md = renderMarkdown(r);

    // Assess
    expect(md).toContain(
      '| low | i-web3 | package-added | strace \\(x86\\_64\\) | debugging INC-1234 | 2026-12-31 | policy |',
    );
    expect(md).toContain('- **manifests/ami-0broken.json**: packages\\[3\\].version: expected string');
  });

  it('leaves the waived and errors sections out when they are empty', () => {
    // Prepare
    const r = { ...report(), waived: [], errors: [] };

    // Act
    const md = renderMarkdown(r);

    // Assess
    expect(md).not.toContain('Waived findings');
    expect(md).not.toContain('Errors');
  });

  it.each([
    ['<!channel>', ['<!channel>']],
    ['@here', ['@here']],
    ['[x](http://e)', ['[x](http://e)', '](']],
    ['`code`', ['`code`']],
    ['a|b', ['a|b']],
  ])('renders a package named %j as literal text that keeps the table row intact', (name, dangerous) => {
    // Prepare
    const r = reportWithHostileName(name);

    // Act
    const md = renderMarkdown(r);

    // Assess
    for (const raw of dangerous) expect(md).not.toContain(raw);
    const row = md.split('\n').find((line) => line.startsWith('| high | i-evil'));
    expect(row).toBeDefined();
    expect(cells(row as string)).toHaveLength(6);
    expect(cells(row as string)[3]).toBe(`${escapeMarkdown(name)} \\(${escapeMarkdown(name)}\\)`);
  });

  it('keeps a table row intact when a field holds newlines and control characters', () => {
    // Prepare
    const r = reportWithHostileName(`evil\n| injected | row |\r\n${ESC}[2J`);

    // Act
    const md = renderMarkdown(r);

    // Assess
    expect(md).not.toContain(ESC);
    expect(md.split('\n').filter((line) => line.startsWith('| injected'))).toEqual([]);
    const row = md.split('\n').find((line) => line.startsWith('| high | i-evil')) as string;
    expect(cells(row)).toHaveLength(6);
  });

  it('caps the finding rows, keeps the most severe of the whole report and says how many were left out', () => {
    // Prepare: 'big' (worst group: 1 critical, 12 medium) comes first; 'small' has one high finding.
    const many = reportWithManyFindings(12);
    const r = report({
      instances: [
        ...many.instances,
        instance({ instanceId: 'i-small', asgName: 'small', status: 'drifted', findings: 1 }),
      ],
      findings: [
        ...many.findings,
        finding({ instanceId: 'i-big', asgName: 'big', subject: 'sudo', severity: 'critical' }),
        finding({ instanceId: 'i-small', asgName: 'small', subject: 'openssl', severity: 'high' }),
      ],
      waived: [],
      decisions: [],
    });

    // Act
    const md = renderMarkdown(r, { maxFindings: 5 });

    // Assess
    const rows = md.split('\n').filter((line) => /^\| (critical|high|medium|low) \|/.test(line));
    expect(rows).toHaveLength(5);
    expect(rows.map((row) => cells(row)[0])).toEqual(['critical', 'medium', 'medium', 'medium', 'high']);
    expect(md.indexOf('## big')).toBeLessThan(md.indexOf('## small'));
    expect(md).toContain('_9 more findings in this group left out._');
    expect(md).toContain('**9 findings left out** (limit 5 rows): the JSON report has them all.');
  });

  it('shows every finding and no left-out line under the default cap', () => {
    // Prepare
    const r = reportWithManyFindings(30);

    // Act
    const md = renderMarkdown(r);

    // Assess
    expect(md.split('\n').filter((line) => line.startsWith('| medium |'))).toHaveLength(30);
    expect(md).not.toContain('left out');
  });
});

describe('escapeHtml', () => {
  it('turns & < > " and \' into entities', () => {
    expect(escapeHtml(`<a href="x" title='y'>&</a>`)).toBe(
      '&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;',
    );
  });
});

describe('renderHtml', () => {
  it('is a standalone HTML5 document with inline style and no script or external resource', () => {
    // Prepare
    const r = report();

    // Act
    const page = renderHtml(r);

    // Assess
    expect(page.startsWith('<!DOCTYPE html>\n<html lang="en">')).toBe(true);
    expect(page).toContain('<meta charset="utf-8">');
    expect(page).toContain('<style>');
    expect(page).not.toMatch(/<script|<link|src=|href=|url\(/i);
    expect(page.trimEnd().endsWith('</html>')).toBe(true);
  });

  it('has the summary and one section per group, worst first, with decision and tables', () => {
    // Prepare
    const r = report();

    // Act
    const page = renderHtml(r);

    // Assess
    const headings = [...page.matchAll(/<h2>(.*?)<\/h2>/g)].map((m) => m[1]);
    expect(headings).toEqual(['api', 'web', '(no Auto Scaling group)', 'Waived findings (1)', 'Errors (1)']);
    expect(page).toContain(
      '<th>Severity</th><th>Instance</th><th>Kind</th><th>Subject</th><th>Expected</th><th>Actual</th>',
    );
    expect(page).toContain('<span class="action-refresh">refresh</span>');
    expect(page).toContain('<td class="sev-critical">critical</td><td>i-api1</td>');
    expect(page).toContain('<td>i-api3</td><td>inventory-stale</td>');
  });

  it('escapes a <script> package name and attribute breakouts', () => {
    // Prepare
    const r = reportWithHostileName(`<script>alert("x")</script>' onmouseover='x`);

    // Act
    const page = renderHtml(r);

    // Assess
    expect(page).not.toContain('<script>');
    expect(page).not.toContain(`' onmouseover='`);
    expect(page).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&#39; onmouseover=&#39;x');
  });

  it('shows control characters and bidi overrides visibly', () => {
    // Prepare
    const r = reportWithHostileName(`a${ESC}[2J\u202Eb`);

    // Act
    const page = renderHtml(r);

    // Assess
    expect(page).not.toContain(ESC);
    expect(page).not.toContain('\u202E');
    expect(page).toContain('a\\x1b[2J\\u{202e}b');
  });

  it('caps the finding rows and says how many were left out', () => {
    // Prepare
    const r = reportWithManyFindings(7);

    // Act
    const page = renderHtml(r, { maxFindings: 4 });

    // Assess
    expect(page.match(/<td class="sev-medium">/g)).toHaveLength(4);
    expect(page).toContain(
      '<strong>3 findings left out</strong> (limit 4 rows): the JSON report has them all.',
    );
  });
});

describe('renderReport', () => {
  it('dispatches to the renderer of each format', () => {
    // Prepare
    const r = report();

    // Act
    const outputs = {
      text: renderReport(r, 'text', { color: false }),
      json: renderReport(r, 'json', { color: false }),
      markdown: renderReport(r, 'markdown', { color: false }),
      html: renderReport(r, 'html', { color: false }),
    };

    // Assess
    expect(outputs.text).toBe(renderText(r, { color: false }));
    expect(outputs.json).toBe(renderJson(r));
    expect(outputs.markdown).toBe(renderMarkdown(r));
    expect(outputs.html).toBe(renderHtml(r));
  });

  it('refuses a format it does not know', () => {
    // Prepare
    const r = report();

    // Act
    const act = () => renderReport(r, 'pdf' as never, { color: false });

    // Assess
    expect(act).toThrow(/unknown report format 'pdf'/);
  });
});
