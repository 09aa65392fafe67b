/**
 * The real program, as a user or a CI job runs it: `node bin/driftwatch.mjs ...` in a child process.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { AuditReport } from '../../shared/domain/report.ts';
import { type Fleet, writeFleet } from '../helpers/fleet.ts';
import { runCli } from '../helpers/run-cli.ts';
import { IDS, REPO_ROOT, tempDir, writeAt } from '../helpers/sync-tree.ts';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function driftwatch(args: readonly string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(REPO_ROOT, 'bin', 'driftwatch.mjs'), ...args],
      { cwd: REPO_ROOT, env: { PATH: process.env.PATH, NO_COLOR: '1' }, timeout: 60_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

let fleet: Fleet;
beforeAll(async () => {
  fleet = await writeFleet();
});

describe('bin/driftwatch.mjs', () => {
  it('audits a fleet end to end: report on stdout, exit 1 on drift', async () => {
    const { code, stdout, stderr } = await driftwatch([...fleet.args, '--format', 'json']);

    expect(stderr).toBe('');
    expect(code).toBe(1);
    const report = JSON.parse(stdout) as AuditReport;
    expect(report.summary).toMatchObject({ instances: 4, compliant: 2, drifted: 1, unknown: 1 });
    expect(report.findings.map((f) => [f.instanceId, f.kind, f.subject])).toEqual([
      [IDS.other, 'package-added', 'htop'],
      [IDS.other, 'package-changed', 'openssl-libs'],
    ]);
  });

  it('exits 0 when nothing reaches --fail-on', async () => {
    const { code, stdout } = await driftwatch([...fleet.args, '--fail-on', 'high']);

    expect(code).toBe(0);
    expect(stdout).toContain(`DRIFTED ${IDS.other}`);
  });

  it('reports bad input in one line with exit 2, without a stack trace', async () => {
    const path = await writeAt(join(await tempDir(), 'policy.yaml'), 'severity:\n  default: urgent\n');

    const { code, stdout, stderr } = await driftwatch([...fleet.args, '--policy', path]);

    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toBe(
      `driftwatch audit: ${path}: severity.default: Invalid option: expected one of "low"|"medium"|"high"|"critical"\n`,
    );
  });

  it('prints its version', async () => {
    const { code, stdout } = await driftwatch(['--version']);

    expect(code).toBe(0);
    expect(stdout).toMatch(/^driftwatch \d+\.\d+\.\d+\n$/);
  });
});

describe('help', () => {
  it('driftwatch --help lists the commands and the exit codes', async () => {
    const { code, stdout } = await driftwatch(['--help']);

    expect(code).toBe(0);
    expect(stdout).toMatch(/audit\s+Compare/);
    expect(stdout).toMatch(/capture\s+Build a golden manifest/);
    expect(stdout).toMatch(/0 no finding .*1 drift .*2 bad usage or bad input/s);
  });

  it('audit --help explains every input and where it comes from', async () => {
    const { code, stdout, stderr } = await driftwatch(['audit', '--help']);

    expect(code).toBe(0);
    expect(stderr).toBe('');
    for (const text of [
      '--inventory <dir>',
      'Resource Data Sync',
      'aws s3 sync',
      'list-inventory-entries',
      'snapshot',
      '--instances <file>',
      'describe-instances',
      'unmanaged',
      '--manifest <path>',
      '<ami-id>.json',
      '--policy <file>',
      'YAML or JSON',
      '--fail-on <sev>',
      '--fail-on-unknown',
      '--now <time>',
      '--format <f>',
      '--out <file>',
    ]) {
      expect(stdout).toContain(text);
    }
  });

  it('capture --help explains the inputs', async () => {
    const { code, stdout } = await driftwatch(['capture', '--help']);

    expect(code).toBe(0);
    for (const text of [
      '--inventory <path>',
      "Same inputs as 'audit --inventory'",
      '--instance <id>',
      '--ami <ami-id>',
    ]) {
      expect(stdout).toContain(text);
    }
  });

  it.each([
    [['help', 'audit'], 'driftwatch audit'],
    [['help', 'capture'], 'driftwatch capture'],
    [['audit', '-h'], 'driftwatch audit'],
    [[], 'Usage:'],
  ])('driftwatch %j prints help', async (argv, heading) => {
    const { code, stdout, stderr } = await runCli(argv);

    expect(code).toBe(0);
    expect(stderr).toBe('');
    expect(stdout).toContain(heading);
  });
});
