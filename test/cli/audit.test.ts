import { lstat, readdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { AuditReport } from '../../shared/domain/report.ts';
import { type Fleet, writeFleet } from '../helpers/fleet.ts';
import { runCli } from '../helpers/run-cli.ts';
import {
  AL2023_PACKAGES,
  al2023Instance,
  IDS,
  rpmEntry,
  tempDir,
  writeAt,
  writeSyncTree,
} from '../helpers/sync-tree.ts';

let fleet: Fleet;
beforeAll(async () => {
  fleet = await writeFleet();
});

async function auditJson(...extra: string[]): Promise<{ code: number; report: AuditReport; stderr: string }> {
  const result = await runCli([...fleet.args, '--format', 'json', ...extra]);
  return { code: result.code, report: JSON.parse(result.stdout) as AuditReport, stderr: result.stderr };
}

async function policy(text: string): Promise<string> {
  return writeAt(join(await tempDir(), 'policy.yaml'), text);
}

describe('driftwatch audit', () => {
  it('prints a readable report of the drift and exits 1', async () => {
    // Act
    const { code, stdout, stderr } = await runCli(fleet.args);

    // Assess
    expect(code).toBe(1);
    expect(stderr).toBe('');
    expect(stdout).toContain('Instances: 4  compliant 2  drifted 1  unknown 1');
    expect(stdout).toMatch(new RegExp(`DRIFTED ${IDS.other}`));
    expect(stdout).toMatch(
      /package-changed openssl-libs \[x86_64\]\s+1:3\.0\.8-1\.amzn2023\.0\.14 -> 1:3\.0\.8-1\.amzn2023\.0\.12/,
    );
    expect(stdout).toMatch(/package-added htop/);
    expect(stdout).toMatch(new RegExp(`UNKNOWN ${IDS.bastion}.*unmanaged`));
    expect(stdout).toContain('== web');
    expect(stdout).toContain('== api');
  });

  it('leaves out instances that are stopped or terminated, even when the sync still has their files', async () => {
    const { report } = await auditJson();

    const ids = report.instances.map((i) => i.instanceId);
    expect(ids).not.toContain(IDS.stopped);
    expect(ids).not.toContain(IDS.terminated);
    expect(ids.sort()).toEqual([IDS.al2023, IDS.other, IDS.debian, IDS.bastion].sort());
  });

  it.each([
    ['low', 1],
    ['medium', 1],
    ['high', 0],
    ['critical', 0],
    ['none', 0],
  ])('with --fail-on %s and medium drift, exits %i', async (failOn, expected) => {
    const { code, stdout } = await runCli([...fleet.args, '--fail-on', failOn]);

    expect(code).toBe(expected);
    expect(stdout).toContain(`DRIFTED ${IDS.other}`);
  });

  it('exits 1 with --fail-on critical once the policy makes the drift critical', async () => {
    const path = await policy(
      'severity:\n  rules:\n    - { kind: "package-*", subject: "openssl*", severity: critical }\n',
    );

    const { code, report } = await auditJson('--fail-on', 'critical', '--policy', path);

    expect(code).toBe(1);
    expect(report.summary.findings).toEqual({ critical: 1, high: 0, medium: 1, low: 0 });
  });

  it('with --fail-on-unknown, exits 1 when an instance could not be checked', async () => {
    const allowed = await policy(
      'ignore:\n  packages: [htop]\nallow:\n  openssl-libs: ">= 1:3.0.8-1.amzn2023.0.12"\n',
    );

    const lenient = await runCli([...fleet.args, '--policy', allowed]);
    const strict = await runCli([...fleet.args, '--policy', allowed, '--fail-on-unknown']);
    const strictNone = await runCli([
      ...fleet.args,
      '--policy',
      allowed,
      '--fail-on',
      'none',
      '--fail-on-unknown',
    ]);

    expect(lenient.code).toBe(0);
    expect(lenient.stdout).toContain('drifted 0  unknown 1');
    expect(strict.code).toBe(1);
    expect(strictNone.code).toBe(1);
  });

  it('prints the report contract with --format json', async () => {
    const { code, report } = await auditJson();

    expect(code).toBe(1);
    expect(report).toMatchObject({
      schemaVersion: 1,
      runId: expect.stringMatching(/\S/),
      startedAt: '2026-11-27T12:00:05.000Z',
      finishedAt: '2026-11-27T12:00:05.000Z',
      summary: {
        instances: 4,
        compliant: 2,
        drifted: 1,
        unknown: 1,
        findings: { critical: 0, high: 0, medium: 2, low: 0 },
      },
    });
    for (const instance of report.instances) {
      expect(Object.keys(instance)).toEqual(
        expect.arrayContaining(['instanceId', 'amiId', 'asgName', 'status', 'reason']),
      );
      expect(['compliant', 'drifted', 'unknown']).toContain(instance.status);
    }
    expect(report.instances.find((i) => i.instanceId === IDS.bastion)).toMatchObject({
      amiId: IDS.al2023Ami,
      asgName: null,
      status: 'unknown',
      reason: 'unmanaged',
    });
    expect(report.instances.find((i) => i.instanceId === IDS.debian)).toMatchObject({
      amiId: IDS.debianAmi,
      asgName: 'api',
      status: 'compliant',
    });
    expect(report.findings).toEqual([
      {
        instanceId: IDS.other,
        asgName: 'web',
        amiId: IDS.al2023Ami,
        kind: 'package-added',
        subject: 'htop',
        arch: 'x86_64',
        expected: null,
        actual: '0:3.2.1-1.amzn2023.0.3',
        severity: 'medium',
        fingerprint: expect.stringMatching(/^[0-9a-f]{64}$/),
      },
      {
        instanceId: IDS.other,
        asgName: 'web',
        amiId: IDS.al2023Ami,
        kind: 'package-changed',
        subject: 'openssl-libs',
        arch: 'x86_64',
        expected: '1:3.0.8-1.amzn2023.0.14',
        actual: '1:3.0.8-1.amzn2023.0.12',
        severity: 'medium',
        fingerprint: expect.stringMatching(/^[0-9a-f]{64}$/),
      },
    ]);
    expect(report.decisions).toEqual(
      expect.arrayContaining([
        { asgName: 'web', action: 'notify', reasons: expect.arrayContaining([expect.any(String)]) },
        { asgName: 'api', action: 'none', reasons: ['no drift'] },
      ]),
    );
  });

  it('gives the same drift the same fingerprints in two runs', async () => {
    const first = await auditJson();
    const second = await auditJson();

    expect(second.report.runId).not.toBe(first.report.runId);
    expect(second.report.findings.map((f) => f.fingerprint)).toEqual(
      first.report.findings.map((f) => f.fingerprint),
    );
    expect(new Set(first.report.findings.map((f) => f.fingerprint)).size).toBe(first.report.findings.length);
  });

  it('gives a fingerprint that does not depend on the severity the policy assigns', async () => {
    const path = await policy('severity:\n  default: high\n');

    const plain = await auditJson();
    const high = await auditJson('--policy', path);

    expect(high.report.findings.map((f) => f.severity)).toEqual(['high', 'high']);
    expect(high.report.findings.map((f) => f.fingerprint)).toEqual(
      plain.report.findings.map((f) => f.fingerprint),
    );
  });

  it('writes the report to --out and only a summary line to standard error', async () => {
    const dir = await tempDir();
    const out = join(dir, 'report.json');

    const { code, stdout, stderr } = await runCli([...fleet.args, '--format', 'json', '--out', out]);

    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toBe(`4 instances: 2 compliant, 1 drifted, 1 unknown; report written to ${out}\n`);
    const written = JSON.parse(await readFile(out, 'utf8')) as AuditReport;
    expect(written.summary.drifted).toBe(1);
    expect(await readdir(dir)).toEqual(['report.json']);
  });

  it('writes --out through a symbolic link instead of replacing the link', async () => {
    const dir = await tempDir();
    const real = join(dir, 'real.json');
    const link = join(dir, 'latest.json');
    await writeFile(real, '{}');
    await symlink(real, link);

    const { code } = await runCli([...fleet.args, '--format', 'json', '--out', link]);

    expect(code).toBe(1);
    expect((await lstat(link)).isSymbolicLink()).toBe(true);
    expect((JSON.parse(await readFile(real, 'utf8')) as AuditReport).schemaVersion).toBe(1);
  });

  it('renders markdown and html', async () => {
    const markdown = await runCli([...fleet.args, '--format', 'markdown']);
    const html = await runCli([...fleet.args, '--format', 'html']);

    expect(markdown.code).toBe(1);
    expect(markdown.stdout).toMatch(/^# /m);
    expect(markdown.stdout).toMatch(/\| package\\?-changed \| openssl\\?-libs/);
    expect(html.code).toBe(1);
    expect(html.stdout).toMatch(/<html/i);
    expect(html.stdout).toContain('openssl-libs');
  });

  it('does not count a newer build that the policy allows as drift', async () => {
    const inventory = await tempDir();
    const patched = [
      ...AL2023_PACKAGES.filter((p) => p.Name !== 'openssl-libs'),
      rpmEntry('openssl-libs', '3.0.8', '1.amzn2023.0.15', { epoch: '1' }),
    ];
    await writeSyncTree(inventory, al2023Instance(IDS.al2023, patched));
    const path = await policy('allow:\n  openssl-libs: ">= 1:3.0.8-1.amzn2023.0.14"\n');
    const manifest = join(fleet.manifests, `${IDS.al2023Ami}.json`);
    const args = ['audit', '--inventory', inventory, '--manifest', manifest, '--now', '2026-11-27T12:00:00Z'];

    const without = await runCli(args);
    const withPolicy = await runCli([...args, '--policy', path]);

    expect(without.code).toBe(1);
    expect(withPolicy.code).toBe(0);
    expect(withPolicy.stdout).toContain('compliant 1');
  });

  it('hides waived drift until the waiver expires', async () => {
    const path = await policy(
      'waivers:\n  - { kind: "package-*", subject: "*", reason: "INC-1234 hotfix", expires: 2026-11-30 }\n',
    );

    const before = await runCli([...fleet.args, '--policy', path]);
    const after = await runCli([
      ...fleet.args,
      '--policy',
      path,
      '--now',
      '2026-12-01T00:00:00Z',
      '--format',
      'json',
    ]);

    expect(before.code).toBe(0);
    expect(before.stdout).toContain('waived 2');
    // A week later the inventory is stale too: every instance is unknown, none compliant.
    const report = JSON.parse(after.stdout) as AuditReport;
    expect(report.summary.compliant).toBe(0);
    expect(report.instances.every((i) => i.status === 'unknown')).toBe(true);
  });

  it('reports stale inventory as unknown, never compliant', async () => {
    const { code, report } = await auditJson('--now', '2026-11-29T12:00:00Z');

    expect(code).toBe(0);
    expect(report.summary).toMatchObject({ compliant: 0, drifted: 0, unknown: 4 });
    expect(report.summary.unknownReasons).toEqual({ 'inventory-stale': 3, unmanaged: 1 });
  });

  it('audits every inventoried instance against a single manifest when no --instances is given', async () => {
    const { code, stdout } = await runCli([
      'audit',
      '--inventory',
      join(fleet.dir, 'inventory'),
      '--manifest',
      join(fleet.manifests, `${IDS.al2023Ami}.json`),
      '--now',
      '2026-11-27T12:00:00Z',
      '--format',
      'json',
    ]);

    const report = JSON.parse(stdout) as AuditReport;
    expect(code).toBe(1);
    // Without EC2 data nothing says which instances still run: all five sync files are audited.
    expect(report.summary.instances).toBe(5);
    expect(report.instances.find((i) => i.instanceId === IDS.al2023)?.status).toBe('compliant');
  });

  it('judges staleness at the clock when --now is not given', async () => {
    const args = fleet.args.slice(0, fleet.args.indexOf('--now'));

    const today = await runCli(args, { clock: () => new Date('2026-11-27T12:00:05Z') });
    const later = await runCli(args, { clock: () => new Date('2026-11-29T12:00:05Z') });

    expect(today.stdout).toContain('evaluated at 2026-11-27T12:00:05.000Z');
    expect(today.stdout).toContain('compliant 2');
    expect(later.stdout).toContain('unknown 4');
  });
  it('colours the text report only on a terminal, and honours NO_COLOR', async () => {
    const piped = await runCli(fleet.args, { env: {} });
    const terminal = await runCli([...fleet.args, '--quiet'], { env: {}, tty: true });
    const noColor = await runCli([...fleet.args, '--quiet'], { env: { NO_COLOR: '1' }, tty: true });

    expect(piped.stdout).not.toContain('\x1b[');
    expect(terminal.stdout).toContain('\x1b[');
    expect(noColor.stdout).not.toContain('\x1b[');
    expect(terminal.stderr).toBe('');
  });
});
