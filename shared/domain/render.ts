/**
 * Renderers for an AuditReport: text (terminal), JSON (the contract), Markdown (GitHub, PR comments)
 * and HTML (a standalone page). Pure: no I/O, no environment, no clock; the same report always gives
 * the same output.
 *
 * Every string in a report may come from an untrusted instance (package names, versions, file paths,
 * even the reason and detail texts), so each renderer neutralises it for its medium: terminal control
 * sequences are shown visibly, Markdown and HTML are escaped.
 */
import type { Decision } from './decide.ts';
import { compareFindingsInGroup, compareText, SEVERITIES_WORST_FIRST, severityIndex } from './order.ts';
import type { Severity } from './policy.ts';
import type { AuditReport, Finding, InstanceResult, WaivedFinding } from './report.ts';

export type ReportFormat = 'text' | 'json' | 'markdown' | 'html';

export interface TextRenderOptions {
  /** ANSI colour; decided by the caller (TTY, NO_COLOR, --color), never read here. */
  readonly color: boolean;
  /** Findings listed per drifted instance before "... and N more". @default 25 */
  readonly maxFindingsPerInstance?: number;
}

export interface TableRenderOptions {
  /** Finding rows in the whole document before the rest is left out (the JSON report has them all). @default 500 */
  readonly maxFindings?: number;
}

export interface RenderOptions extends TextRenderOptions, TableRenderOptions {}

const DEFAULT_MAX_FINDINGS_PER_INSTANCE = 25;
const DEFAULT_MAX_FINDINGS = 500;
/** Compliant instance ids listed by name in the text report before the rest are only counted. */
const MAX_COMPLIANT_LISTED = 10;
const NO_GROUP = '(no Auto Scaling group)';

// ---------------------------------------------------------------------------------------------
// Escaping
// ---------------------------------------------------------------------------------------------

/** C0 controls (incl. ESC, TAB, LF), DEL and C1 controls: shown as `\xNN` on a terminal. */
function isControl(code: number): boolean {
  return code <= 0x1f || (code >= 0x7f && code <= 0x9f);
}

/**
 * Invisible characters that reorder or split what is displayed: bidi embeddings/overrides/isolates
 * (U+202A-U+202E, U+2066-U+2069, "Trojan Source"), the bidi marks (U+061C, U+200E, U+200F), zero-width
 * characters (U+200B-U+200D, U+FEFF) and the Unicode line/paragraph separators (U+2028, U+2029).
 */
function isInvisibleFormat(code: number): boolean {
  return (
    code === 0x061c ||
    (code >= 0x200b && code <= 0x200f) ||
    (code >= 0x2028 && code <= 0x202e) ||
    (code >= 0x2066 && code <= 0x2069) ||
    code === 0xfeff
  );
}

/**
 * Makes a string inert for a terminal (and visible for a reader): control characters become `\xNN`,
 * bidi overrides and other invisible format characters become `\u{NNNN}`. Everything else is kept.
 */
export function escapeTerminal(text: string): string {
  let out = '';
  for (const ch of text) {
    const code = ch.codePointAt(0) as number;
    if (isControl(code)) out += `\\x${code.toString(16).padStart(2, '0')}`;
    else if (isInvisibleFormat(code)) out += `\\u{${code.toString(16).padStart(4, '0')}}`;
    else out += ch;
  }
  return out;
}

const MARKDOWN_ENTITIES: Readonly<Record<string, string>> = {
  '<': '&lt;',
  '>': '&gt;',
  '&': '&amp;',
  '@': '&#64;',
};
/**
 * Markdown punctuation that is backslash-escaped wherever it stands (`<` and `>` become entities
 * instead). `$` is included because GitHub renders `$...$` as maths. `-`, `+` and `.` only start a
 * list at the beginning of a line, before a space, so they are escaped there only: versions and names stay
 * readable in the raw Markdown.
 */
const MARKDOWN_PUNCTUATION = new Set([
  '\\',
  '`',
  '*',
  '_',
  '{',
  '}',
  '[',
  ']',
  '(',
  ')',
  '#',
  '!',
  '|',
  '~',
  '$',
]);
const LIST_MARKER = /^(\d+)([.)])(?=\s|$)|^([-+])(?=\s|$)/;

/**
 * Escapes an untrusted string for Markdown (GitHub, and the Slack/Chatbot renderers), including inside
 * a table cell: Markdown punctuation is backslash-escaped, `<` `>` `&` become HTML entities (no HTML,
 * no Slack `<!channel>`), `@` becomes `&#64;` (no mentions), newlines and tabs become spaces, and
 * control and invisible bidi characters are removed. Links, emphasis, code spans and cell breaks
 * cannot be formed from the result.
 */
export function escapeMarkdown(text: string): string {
  let out = '';
  for (const ch of text) {
    const code = ch.codePointAt(0) as number;
    if (ch === '\n' || ch === '\r' || ch === '\t') out += ' ';
    else if (isControl(code) || isInvisibleFormat(code)) continue;
    else if (MARKDOWN_ENTITIES[ch] !== undefined) out += MARKDOWN_ENTITIES[ch];
    else if (MARKDOWN_PUNCTUATION.has(ch)) out += `\\${ch}`;
    else out += ch;
  }
  return out.replace(
    LIST_MARKER,
    (_m, digits: string | undefined, dot: string | undefined, sign: string | undefined) =>
      sign ? `\\${sign}` : `${digits}\\${dot}`,
  );
}

const HTML_ENTITIES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Escapes a string for HTML text and quoted attribute values: `& < > " '` become entities. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => HTML_ENTITIES[ch] as string);
}

/** Untrusted text for an HTML page: invisible/control characters made visible, then HTML-escaped. */
function html(text: string): string {
  return escapeHtml(escapeTerminal(text));
}

// ---------------------------------------------------------------------------------------------
// Grouping (shared by every human-readable format)
// ---------------------------------------------------------------------------------------------

interface GroupView {
  readonly asgName: string | null;
  readonly decision: Decision | undefined;
  readonly drifted: InstanceResult[];
  readonly unknown: InstanceResult[];
  readonly compliant: InstanceResult[];
  /** Sorted worst first. */
  readonly findings: Finding[];
  readonly worst: Severity | undefined;
}

/** A lookup that ignores inherited keys (`constructor`, `__proto__`): report values are untrusted. */
function lookup<T>(map: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(map, key) ? map[key] : undefined;
}

function byInstanceId(a: InstanceResult, b: InstanceResult): number {
  return compareText(a.instanceId, b.instanceId);
}

/** Groups the report by Auto Scaling group, worst first: severity, drifted, unknown, then name. */
function groupReport(report: AuditReport): GroupView[] {
  const groups = new Map<string | null, GroupView>();
  const group = (asgName: string | null): GroupView => {
    let g = groups.get(asgName);
    if (!g) {
      g = {
        asgName,
        decision: undefined,
        drifted: [],
        unknown: [],
        compliant: [],
        findings: [],
        worst: undefined,
      };
      groups.set(asgName, g);
    }
    return g;
  };
  for (const i of report.instances) {
    const g = group(i.asgName);
    if (i.status === 'drifted') g.drifted.push(i);
    else if (i.status === 'unknown') g.unknown.push(i);
    else g.compliant.push(i);
  }
  for (const f of report.findings) group(f.asgName).findings.push(f);
  for (const d of report.decisions) {
    const g = group(d.asgName);
    if (g.decision === undefined) groups.set(d.asgName, { ...g, decision: d });
  }
  const views = [...groups.values()].map((g) => {
    g.drifted.sort(byInstanceId);
    g.unknown.sort(byInstanceId);
    g.compliant.sort(byInstanceId);
    g.findings.sort(compareFindingsInGroup);
    return { ...g, worst: g.findings[0]?.severity };
  });
  return views.sort(
    (a, b) =>
      severityIndex(a.worst) - severityIndex(b.worst) ||
      b.drifted.length - a.drifted.length ||
      b.unknown.length - a.unknown.length ||
      compareGroupNames(a.asgName, b.asgName),
  );
}

/** Named groups by name; the instances outside any group last. */
function compareGroupNames(a: string | null, b: string | null): number {
  if (a === b) return 0;
  if (a === null) return 1;
  if (b === null) return -1;
  return compareText(a, b);
}

function findingsByInstance(findings: readonly Finding[]): Map<string, Finding[]> {
  const map = new Map<string, Finding[]>();
  for (const f of findings) {
    const list = map.get(f.instanceId);
    if (list) list.push(f);
    else map.set(f.instanceId, [f]);
  }
  return map;
}

function plural(n: number, word: string, wordPlural = `${word}s`): string {
  return `${n} ${n === 1 ? word : wordPlural}`;
}

function unknownReasonsText(report: AuditReport): string {
  return Object.entries(report.summary.unknownReasons)
    .filter(([, n]) => n !== undefined && n > 0)
    .sort(([a], [b]) => compareText(a, b))
    .map(([reason, n]) => `${reason} ${n}`)
    .join(', ');
}

function subjectWithArch(f: Finding): string {
  return f.arch ? `${f.subject} (${f.arch})` : f.subject;
}

function versionText(value: string | null): string {
  return value ?? '(none)';
}

// ---------------------------------------------------------------------------------------------
// JSON
// ---------------------------------------------------------------------------------------------

/** The report contract, as `--format json` prints it and the report store writes it. */
export function renderJson(report: AuditReport): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}

// ---------------------------------------------------------------------------------------------
// Text
// ---------------------------------------------------------------------------------------------

const ANSI = {
  reset: '\x1b[0m',
  bold: '\x1b[1m',
  dim: '\x1b[2m',
  red: '\x1b[31m',
  green: '\x1b[32m',
  yellow: '\x1b[33m',
  blue: '\x1b[34m',
  magenta: '\x1b[35m',
  cyan: '\x1b[36m',
  boldRed: '\x1b[1;31m',
} as const;
type Style = keyof typeof ANSI;

const SEVERITY_STYLE: Record<Severity, Style> = {
  critical: 'boldRed',
  high: 'red',
  medium: 'yellow',
  low: 'cyan',
};
const ACTION_STYLE: Record<string, Style> = { refresh: 'magenta', notify: 'yellow', none: 'green' };

/**
 * A readable terminal summary: counts, then one section per Auto Scaling group (worst first) with its
 * decision, drifted instances and their findings, unknown instances with their reason, and compliant
 * instances collapsed to one line; then operational errors.
 */
export function renderText(report: AuditReport, options: TextRenderOptions): string {
  const maxPerInstance = Math.max(0, options.maxFindingsPerInstance ?? DEFAULT_MAX_FINDINGS_PER_INSTANCE);
  /** Styles trusted text; untrusted text must go through `t` first. */
  const paint = (style: Style, text: string): string =>
    options.color ? `${ANSI[style]}${text}${ANSI.reset}` : text;
  const t = (text: string | number): string => escapeTerminal(String(text));
  const sev = (severity: Severity): string =>
    paint(lookup(SEVERITY_STYLE, severity) ?? 'bold', t(severity).toUpperCase());
  const s = report.summary;
  const lines: string[] = [];

  lines.push(
    `${paint('bold', `driftwatch audit ${t(report.runId)}`)}  evaluated at ${t(report.evaluatedAt)}`,
  );
  const reasons = unknownReasonsText(report);
  lines.push(
    `Instances: ${t(s.instances)}  ` +
      `${paint('green', `compliant ${t(s.compliant)}`)}  ` +
      `${paint(s.drifted > 0 ? 'red' : 'green', `drifted ${t(s.drifted)}`)}  ` +
      `${paint(s.unknown > 0 ? 'yellow' : 'green', `unknown ${t(s.unknown)}`)}` +
      (reasons ? ` (${t(reasons)})` : ''),
  );
  lines.push(
    `Findings:  ${SEVERITIES_WORST_FIRST.map((x) => {
      const n = s.findings[x] ?? 0;
      const text = `${x} ${t(n)}`;
      return n > 0 ? paint(SEVERITY_STYLE[x], text) : text;
    }).join('  ')}  waived ${t(s.waived)}`,
  );

  for (const g of groupReport(report)) {
    const findingsOf = findingsByInstance(g.findings);
    const total = g.drifted.length + g.unknown.length + g.compliant.length;
    const counts = [
      plural(total, 'instance'),
      `${g.drifted.length} drifted`,
      `${g.unknown.length} unknown`,
      `${g.compliant.length} compliant`,
    ].join(', ');
    lines.push('');
    lines.push(
      `${paint('bold', `== ${g.asgName === null ? NO_GROUP : t(g.asgName)}`)}  (${counts})` +
        (g.worst ? `  worst: ${sev(g.worst)}` : ''),
    );
    if (g.decision) {
      const action = t(g.decision.action);
      lines.push(
        `   decision: ${paint(lookup(ACTION_STYLE, g.decision.action) ?? 'bold', action)}` +
          (g.decision.reasons.length ? ` - ${g.decision.reasons.map(t).join('; ')}` : ''),
      );
    } else {
      lines.push(`   decision: ${paint('dim', '(none recorded)')}`);
    }
    for (const i of g.drifted) {
      const found = findingsOf.get(i.instanceId) ?? [];
      const count = found.length || i.findings;
      lines.push(
        `   ${paint('red', 'DRIFTED')} ${t(i.instanceId)}` +
          (i.amiId ? ` (${t(i.amiId)})` : '') +
          `  ${plural(count, 'finding')}`,
      );
      for (const f of found.slice(0, maxPerInstance)) {
        lines.push(
          `     ${sev(f.severity)} ${t(f.kind)} ${t(f.subject)}` +
            (f.arch ? ` [${t(f.arch)}]` : '') +
            `  ${t(versionText(f.expected))} -> ${t(versionText(f.actual))}`,
        );
      }
      if (found.length > maxPerInstance) lines.push(`     ... and ${found.length - maxPerInstance} more`);
    }
    for (const i of g.unknown) {
      lines.push(
        `   ${paint('yellow', 'UNKNOWN')} ${t(i.instanceId)}` +
          (i.amiId ? ` (${t(i.amiId)})` : '') +
          `  ${paint('yellow', t(i.reason))}` +
          (i.detail ? `: ${t(i.detail)}` : ''),
      );
    }
    if (g.compliant.length > 0) {
      const ids = g.compliant.slice(0, MAX_COMPLIANT_LISTED).map((i) => t(i.instanceId));
      const rest = g.compliant.length - ids.length;
      lines.push(
        `   ${paint('green', `${g.compliant.length} compliant`)}: ${ids.join(', ')}` +
          (rest > 0 ? `, ... and ${rest} more` : ''),
      );
    }
  }

  if (report.errors.length > 0) {
    lines.push('');
    lines.push(paint('red', `Errors (${report.errors.length}):`));
    for (const e of report.errors) lines.push(`   ${t(e.source)}: ${t(e.message)}`);
  }
  return `${lines.join('\n')}\n`;
}

// ---------------------------------------------------------------------------------------------
// Markdown
// ---------------------------------------------------------------------------------------------

/** Picks the finding rows to show: the `max` most severe of the whole report. */
function selectShown(groups: readonly GroupView[], max: number): Set<Finding> {
  const all = groups.flatMap((g, index) => g.findings.map((f) => ({ f, index })));
  all.sort((a, b) => severityIndex(a.f.severity) - severityIndex(b.f.severity) || a.index - b.index);
  return new Set(all.slice(0, Math.max(0, max)).map((x) => x.f));
}

function mdRow(cells: readonly string[]): string {
  return `| ${cells.join(' | ')} |`;
}

function mdTable(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  return [mdRow(header), mdRow(header.map(() => '---')), ...rows.map((r) => mdRow(r.map(escapeMarkdown)))];
}

function groupTitle(asgName: string | null): string {
  return asgName === null ? NO_GROUP : asgName;
}

function decisionText(d: Decision | undefined): { action: string; reasons: string } {
  if (!d) return { action: '(none recorded)', reasons: '' };
  return { action: d.action, reasons: d.reasons.join('; ') };
}

const SUMMARY_COLUMNS = [
  'Instances',
  'Compliant',
  'Drifted',
  'Unknown',
  'Critical',
  'High',
  'Medium',
  'Low',
  'Waived',
];

/** The summary counts in SUMMARY_COLUMNS order. */
function summaryCounts(s: AuditReport['summary']): number[] {
  return [
    s.instances,
    s.compliant,
    s.drifted,
    s.unknown,
    ...SEVERITIES_WORST_FIRST.map((x) => s.findings[x] ?? 0),
    s.waived,
  ];
}

/**
 * GitHub-flavoured Markdown: a summary table, then per group (worst first) the decision, the findings
 * and the unknown instances; waived findings and errors when there are any. At most `maxFindings`
 * finding rows in all (the most severe), with a line saying how many were left out.
 */
export function renderMarkdown(report: AuditReport, options: TableRenderOptions = {}): string {
  const max = options.maxFindings ?? DEFAULT_MAX_FINDINGS;
  const md = (text: string | number): string => escapeMarkdown(String(text));
  const s = report.summary;
  const groups = groupReport(report);
  const shown = selectShown(groups, max);
  const out: string[] = [];

  out.push(`# driftwatch audit report`, '');
  out.push(`Run ${md(report.runId)}, evaluated at ${md(report.evaluatedAt)}`, '');
  out.push(...mdTable(SUMMARY_COLUMNS, [summaryCounts(s).map(String)]));
  const reasons = unknownReasonsText(report);
  if (reasons) out.push('', `Unknown by reason: ${md(reasons)}`);

  let leftOut = 0;
  for (const g of groups) {
    const d = decisionText(g.decision);
    out.push('', `## ${md(groupTitle(g.asgName))}`, '');
    out.push(`**Decision:** ${md(d.action)}${d.reasons ? ` - ${md(d.reasons)}` : ''}`);
    const total = g.drifted.length + g.unknown.length + g.compliant.length;
    out.push(
      '',
      `${plural(total, 'instance')}: ${g.drifted.length} drifted, ${g.unknown.length} unknown, ${g.compliant.length} compliant`,
    );
    const rows = g.findings.filter((f) => shown.has(f));
    const omitted = g.findings.length - rows.length;
    leftOut += omitted;
    if (rows.length > 0) {
      out.push('', '### Findings', '');
      out.push(
        ...mdTable(
          ['Severity', 'Instance', 'Kind', 'Subject', 'Expected', 'Actual'],
          rows.map((f) => [
            f.severity,
            f.instanceId,
            f.kind,
            subjectWithArch(f),
            versionText(f.expected),
            versionText(f.actual),
          ]),
        ),
      );
    }
    if (omitted > 0) out.push('', `_${plural(omitted, 'more finding')} in this group left out._`);
    if (g.unknown.length > 0) {
      out.push('', '### Unknown instances', '');
      out.push(
        ...mdTable(
          ['Instance', 'Reason', 'Detail'],
          g.unknown.map((i) => [i.instanceId, i.reason, i.detail ?? '']),
        ),
      );
    }
  }
  if (leftOut > 0) {
    out.push(
      '',
      `**${plural(leftOut, 'finding')} left out** (limit ${max} rows): the JSON report has them all.`,
    );
  }

  if (report.waived.length > 0) {
    const waived = report.waived.slice(0, Math.max(0, max));
    out.push('', `## Waived findings (${report.waived.length})`, '');
    out.push(
      ...mdTable(
        ['Severity', 'Instance', 'Kind', 'Subject', 'Reason', 'Expires', 'Source'],
        waived.map((w) => [
          w.severity,
          w.instanceId,
          w.kind,
          subjectWithArch(w),
          w.waiver.reason,
          w.waiver.expires,
          w.waiver.source,
        ]),
      ),
    );
    const rest = report.waived.length - waived.length;
    if (rest > 0)
      out.push('', `_${plural(rest, 'more waived finding')} left out: the JSON report has them all._`);
  }

  if (report.errors.length > 0) {
    out.push('', `## Errors (${report.errors.length})`, '');
    for (const e of report.errors) out.push(`- **${md(e.source)}**: ${md(e.message)}`);
  }
  return `${out.join('\n')}\n`;
}

// ---------------------------------------------------------------------------------------------
// HTML
// ---------------------------------------------------------------------------------------------

const HTML_STYLE = `
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2rem; color: #1f2328; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.2rem; margin-top: 2rem; border-bottom: 1px solid #d0d7de; }
table { border-collapse: collapse; margin: .5rem 0 1rem; }
th, td { border: 1px solid #d0d7de; padding: .25rem .5rem; text-align: left; vertical-align: top; }
th { background: #f6f8fa; }
td { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 13px; word-break: break-all; }
.sev-critical { color: #fff; background: #a40e26; font-weight: bold; }
.sev-high { color: #a40e26; font-weight: bold; }
.sev-medium { color: #9a6700; }
.sev-low { color: #0969da; }
.action-refresh { color: #8250df; font-weight: bold; }
.action-notify { color: #9a6700; font-weight: bold; }
.action-none { color: #1a7f37; font-weight: bold; }
.note { color: #59636e; font-style: italic; }
`.trim();

const SEVERITY_CLASS: Record<Severity, string> = {
  critical: 'sev-critical',
  high: 'sev-high',
  medium: 'sev-medium',
  low: 'sev-low',
};
const ACTION_CLASS: Record<string, string> = {
  refresh: 'action-refresh',
  notify: 'action-notify',
  none: 'action-none',
};

function htmlTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const head = `<tr>${header.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr>`;
  return `<table>\n<thead>${head}</thead>\n<tbody>\n${rows.map((r) => `<tr>${r.join('')}</tr>`).join('\n')}\n</tbody>\n</table>`;
}

function td(text: string | number, className?: string): string {
  return className ? `<td class="${className}">${html(String(text))}</td>` : `<td>${html(String(text))}</td>`;
}

/**
 * A standalone HTML5 page (inline style, no script, no external resource; a Content-Security-Policy
 * forbids both) with the same content as the Markdown report.
 */
export function renderHtml(report: AuditReport, options: TableRenderOptions = {}): string {
  const max = options.maxFindings ?? DEFAULT_MAX_FINDINGS;
  const s = report.summary;
  const groups = groupReport(report);
  const shown = selectShown(groups, max);
  const body: string[] = [];
  const sevCell = (severity: Severity): string => td(severity, lookup(SEVERITY_CLASS, severity));

  body.push(`<h1>driftwatch audit report</h1>`);
  body.push(`<p>Run <code>${html(report.runId)}</code>, evaluated at ${html(report.evaluatedAt)}</p>`);
  body.push(htmlTable(SUMMARY_COLUMNS, [summaryCounts(s).map((n) => td(n))]));
  const reasons = unknownReasonsText(report);
  if (reasons) body.push(`<p>Unknown by reason: ${html(reasons)}</p>`);

  let leftOut = 0;
  for (const g of groups) {
    const d = decisionText(g.decision);
    const total = g.drifted.length + g.unknown.length + g.compliant.length;
    body.push(`<section>`);
    body.push(`<h2>${html(groupTitle(g.asgName))}</h2>`);
    body.push(
      `<p><strong>Decision:</strong> <span class="${lookup(ACTION_CLASS, g.decision?.action ?? '') ?? 'note'}">${html(d.action)}</span>` +
        (d.reasons ? ` - ${html(d.reasons)}` : '') +
        '</p>',
    );
    body.push(
      `<p>${plural(total, 'instance')}: ${g.drifted.length} drifted, ${g.unknown.length} unknown, ${g.compliant.length} compliant</p>`,
    );
    const rows = g.findings.filter((f) => shown.has(f));
    const omitted = g.findings.length - rows.length;
    leftOut += omitted;
    if (rows.length > 0) {
      body.push('<h3>Findings</h3>');
      body.push(
        htmlTable(
          ['Severity', 'Instance', 'Kind', 'Subject', 'Expected', 'Actual'],
          rows.map((f) => [
            sevCell(f.severity),
            td(f.instanceId),
            td(f.kind),
            td(subjectWithArch(f)),
            td(versionText(f.expected)),
            td(versionText(f.actual)),
          ]),
        ),
      );
    }
    if (omitted > 0)
      body.push(`<p class="note">${plural(omitted, 'more finding')} in this group left out.</p>`);
    if (g.unknown.length > 0) {
      body.push('<h3>Unknown instances</h3>');
      body.push(
        htmlTable(
          ['Instance', 'Reason', 'Detail'],
          g.unknown.map((i) => [td(i.instanceId), td(i.reason), td(i.detail ?? '')]),
        ),
      );
    }
    body.push(`</section>`);
  }
  if (leftOut > 0) {
    body.push(
      `<p><strong>${plural(leftOut, 'finding')} left out</strong> (limit ${max} rows): the JSON report has them all.</p>`,
    );
  }

  if (report.waived.length > 0) {
    const waived: WaivedFinding[] = report.waived.slice(0, Math.max(0, max));
    body.push(`<section>`, `<h2>Waived findings (${report.waived.length})</h2>`);
    body.push(
      htmlTable(
        ['Severity', 'Instance', 'Kind', 'Subject', 'Reason', 'Expires', 'Source'],
        waived.map((w) => [
          sevCell(w.severity),
          td(w.instanceId),
          td(w.kind),
          td(subjectWithArch(w)),
          td(w.waiver.reason),
          td(w.waiver.expires),
          td(w.waiver.source),
        ]),
      ),
    );
    const rest = report.waived.length - waived.length;
    if (rest > 0)
      body.push(
        `<p class="note">${plural(rest, 'more waived finding')} left out: the JSON report has them all.</p>`,
      );
    body.push(`</section>`);
  }

  if (report.errors.length > 0) {
    body.push(`<section>`, `<h2>Errors (${report.errors.length})</h2>`, '<ul>');
    for (const e of report.errors)
      body.push(`<li><strong>${html(e.source)}</strong>: ${html(e.message)}</li>`);
    body.push('</ul>', `</section>`);
  }

  return [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>driftwatch audit ${html(report.runId)}</title>`,
    `<style>\n${HTML_STYLE}\n</style>`,
    '</head>',
    '<body>',
    ...body,
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

// ---------------------------------------------------------------------------------------------
// Dispatch
// ---------------------------------------------------------------------------------------------

/** Renders a report in one of the `--format` choices. */
export function renderReport(report: AuditReport, format: ReportFormat, options: RenderOptions): string {
  switch (format) {
    case 'text':
      return renderText(report, options);
    case 'json':
      return renderJson(report);
    case 'markdown':
      return renderMarkdown(report, options);
    case 'html':
      return renderHtml(report, options);
    default: {
      const never: never = format;
      throw new Error(`unknown report format '${String(never)}' (use text, json, markdown or html)`);
    }
  }
}
