/**
 * `driftwatch audit --live` and `driftwatch snapshot --live` end to end against moto (EC2, Auto
 * Scaling, S3), and against a mocked SSM API for the no-sync path.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeEach, expect, it } from 'vitest';
import type { AuditReport } from '../../shared/domain/report.ts';
import { buildLiveFleet, LIVE_BUCKET, type LiveFleet, mockSsmInventory } from '../helpers/live-fleet.ts';
import { describeWithMoto, useMoto } from '../helpers/moto.ts';
import { runCli } from '../helpers/run-cli.ts';
import { tempDir } from '../helpers/sync-tree.ts';

const S3_ARGS = [
  '--inventory',
  `s3://${LIVE_BUCKET}/inventory`,
  '--manifest',
  `s3://${LIVE_BUCKET}/manifests`,
];

describeWithMoto('driftwatch audit --live and snapshot --live (moto)', () => {
  const moto = useMoto();
  let fleet: LiveFleet;
  const env = () => ({ ...moto.env, NO_COLOR: '1' });

  beforeEach(async () => {
    fleet = await buildLiveFleet(moto);
  });

  it('audits the live fleet from a Resource Data Sync in S3, with the same report contract as local mode', async () => {
    const result = await runCli(['audit', '--live', ...S3_ARGS, '--format', 'json'], { env: env() });

    expect(result.code, result.stderr).toBe(1);
    const report = JSON.parse(result.stdout) as AuditReport;
    expect(report.summary).toMatchObject({ instances: 3, drifted: 2, compliant: 1, unknown: 0 });
    expect(
      report.findings
        .filter((f) => f.kind === 'ami-outdated')
        .map((f) => f.instanceId)
        .sort(),
    ).toEqual([fleet.drifted, fleet.outdated].sort());
    expect(report.apiCalls).toMatchObject({ 'S3.GetObject': expect.any(Number), 'EC2.DescribeInstances': 1 });
  });

  it('limits the audit to the groups named with --asg', async () => {
    const result = await runCli(['audit', '--live', ...S3_ARGS, '--asg', 'api', '--format', 'json'], {
      env: env(),
    });

    expect(result.code, result.stderr).toBe(0);
    expect((JSON.parse(result.stdout) as AuditReport).summary.instances).toBe(0);
  });

  it('audits through the SSM API when no sync is given', async () => {
    const ssm = mockSsmInventory(fleet);
    try {
      const result = await runCli(
        ['audit', '--live', '--manifest', `s3://${LIVE_BUCKET}/manifests`, '--format', 'json'],
        { env: env() },
      );

      expect(result.code, result.stderr).toBe(1);
      const report = JSON.parse(result.stdout) as AuditReport;
      expect(report.summary).toMatchObject({ instances: 3, drifted: 2, compliant: 1 });
      expect(report.findings.find((f) => f.kind === 'package-added')?.instanceId).toBe(fleet.drifted);
    } finally {
      ssm.restore();
    }
  });

  it('freezes the live fleet with snapshot --live, and the offline audit of it matches the live one', async () => {
    const dir = await tempDir();
    const snapshotFile = join(dir, 'fleet.json');
    const instancesFile = join(dir, 'instances.json');

    const snap = await runCli(
      [
        'snapshot',
        '--live',
        '--inventory',
        `s3://${LIVE_BUCKET}/inventory`,
        '--out',
        snapshotFile,
        '--instances-out',
        instancesFile,
      ],
      { env: env() },
    );
    expect(snap.code, snap.stderr).toBe(0);
    expect(snap.stderr).toContain('3 of 3 running instances had inventory');
    const written = JSON.parse(await readFile(snapshotFile, 'utf8')) as {
      Entities: { Id: string; Data: Record<string, { Content: unknown[] }> }[];
    };
    expect(written.Entities.map((e) => e.Id).sort()).toEqual(
      [fleet.clean, fleet.drifted, fleet.outdated].sort(),
    );
    // Full content: every attribute the instance sent, not just what the audit uses.
    expect(written.Entities[0]?.Data['AWS:Application']?.Content[0]).toHaveProperty('summary');

    const live = JSON.parse(
      (await runCli(['audit', '--live', ...S3_ARGS, '--format', 'json'], { env: env() })).stdout,
    ) as AuditReport;
    const manifestsDir = join(dir, 'manifests');
    const { mkdir, writeFile } = await import('node:fs/promises');
    await mkdir(manifestsDir);
    for (const ami of [fleet.amiA, fleet.amiB]) {
      const { GetObjectCommand } = await import('@aws-sdk/client-s3');
      const object = await fleet.s3.send(
        new GetObjectCommand({ Bucket: LIVE_BUCKET, Key: `manifests/${ami}.json` }),
      );
      await writeFile(join(manifestsDir, `${ami}.json`), (await object.Body?.transformToString()) ?? '');
    }
    const offline = await runCli(
      [
        'audit',
        '--inventory',
        snapshotFile,
        '--instances',
        instancesFile,
        '--manifest',
        manifestsDir,
        '--format',
        'json',
      ],
      { env: env() },
    );
    const offlineReport = JSON.parse(offline.stdout) as AuditReport;
    const withoutAmiOutdated = (r: AuditReport) =>
      r.findings
        .filter((f) => f.kind !== 'ami-outdated')
        .map((f) => [f.instanceId, f.kind, f.subject, f.fingerprint]);
    expect(withoutAmiOutdated(offlineReport)).toEqual(withoutAmiOutdated(live));
    expect(offlineReport.summary.instances).toBe(3);
  });

  it('says which AWS problem stopped it, in one line, with exit 2', async () => {
    const result = await runCli(
      [
        'audit',
        '--live',
        '--inventory',
        's3://no-such-bucket-here/inventory',
        '--manifest',
        `s3://${LIVE_BUCKET}/manifests`,
      ],
      {
        env: env(),
      },
    );

    expect(result.code).toBe(2);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).not.toMatch(/^\s+at /m);
  });
});
