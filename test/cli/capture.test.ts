import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { GoldenManifest } from '../../shared/domain/manifest.ts';
import type { AuditReport } from '../../shared/domain/report.ts';
import { DRIFTED_PACKAGES, debianInstance } from '../helpers/fleet.ts';
import { expectBadInput, runCli } from '../helpers/run-cli.ts';
import { al2023Instance, FIXTURES, IDS, NOW, tempDir, writeSyncTree } from '../helpers/sync-tree.ts';

const ENTRIES = join(FIXTURES, 'list-inventory-entries');

/** Captures `instance` from `inventory` into a manifest file, then audits the same inventory with it. */
async function captureThenAudit(inventory: string, instance: string, ami: string) {
  const manifest = join(await tempDir(), `${ami}.json`);
  const capture = await runCli([
    'capture',
    '--inventory',
    inventory,
    '--instance',
    instance,
    '--ami',
    ami,
    '--now',
    '2026-11-27T11:00:00Z',
    '--out',
    manifest,
  ]);
  const audit = await runCli([
    'audit',
    '--inventory',
    inventory,
    '--manifest',
    manifest,
    '--now',
    NOW,
    '--format',
    'json',
  ]);
  const report = audit.stdout ? (JSON.parse(audit.stdout) as AuditReport) : undefined;
  return { capture, audit, report, manifest: JSON.parse(await readFile(manifest, 'utf8')) as GoldenManifest };
}

describe('driftwatch capture', () => {
  it('writes a manifest of every package, kernel builds and epochs included', async () => {
    const { code, stdout, stderr } = await runCli([
      'capture',
      '--inventory',
      join(ENTRIES, 'al2023'),
      '--instance',
      IDS.al2023,
      '--ami',
      IDS.al2023Ami,
      '--now',
      '2026-11-27T11:00:00Z',
    ]);

    expect(code).toBe(0);
    expect(stderr).toBe('');
    const manifest = JSON.parse(stdout) as GoldenManifest;
    expect(manifest).toMatchObject({
      schemaVersion: 1,
      amiId: IDS.al2023Ami,
      name: 'Amazon Linux 2023',
      platform: { name: 'Amazon Linux', version: '2023', type: 'Linux' },
      capturedAt: '2026-11-27T11:00:00.000Z',
      source: { instanceId: IDS.al2023, inventoryCaptureTime: '2026-11-27T10:42:17.000Z' },
    });
    expect(manifest.packages).toHaveLength(11);
    expect(
      manifest.packages.filter((p) => p.name === 'kernel').map((p) => `${p.version}-${p.release}`),
    ).toEqual(['6.1.115-126.197.amzn2023', '6.1.119-129.201.amzn2023']);
    expect(manifest.packages.find((p) => p.name === 'openssl-libs')).toMatchObject({
      epoch: '1',
      version: '3.0.8',
      release: '1.amzn2023.0.14',
    });
    expect(manifest.packages.find((p) => p.name === 'bash')).not.toHaveProperty('epoch');
  });

  it('captures list-inventory-entries pages, and an audit of the same instance is compliant', async () => {
    const { capture, audit, report } = await captureThenAudit(
      join(ENTRIES, 'al2023'),
      IDS.al2023,
      IDS.al2023Ami,
    );

    expect(capture.code).toBe(0);
    expect(capture.stderr).toMatch(
      /^captured 11 packages, 0 services, 0 files from i-0a1b2c3d4e5f60718 into /,
    );
    expect(audit.code).toBe(0);
    expect(report?.summary).toMatchObject({ instances: 1, compliant: 1, drifted: 0, unknown: 0 });
  });

  it('captures from a Resource Data Sync tree, and the instance audits compliant', async () => {
    const inventory = await tempDir();
    await writeSyncTree(inventory, [
      ...al2023Instance(IDS.al2023),
      ...al2023Instance(IDS.other, DRIFTED_PACKAGES),
    ]);

    const { capture, audit, report } = await captureThenAudit(inventory, IDS.al2023, IDS.al2023Ami);

    expect(capture.code).toBe(0);
    // Both instances are audited against the one manifest: the reference is compliant, the other drifted.
    expect(audit.code).toBe(1);
    expect(report?.instances.find((i) => i.instanceId === IDS.al2023)?.status).toBe('compliant');
    expect(report?.instances.find((i) => i.instanceId === IDS.other)?.status).toBe('drifted');
  });

  it('captures a Debian instance with multi-arch packages, and it audits compliant', async () => {
    const inventory = await tempDir();
    await writeSyncTree(inventory, debianInstance(IDS.debian));

    const { capture, audit, manifest } = await captureThenAudit(inventory, IDS.debian, IDS.debianAmi);

    expect(capture.code).toBe(0);
    expect(manifest.packages.filter((p) => p.name === 'libc6')).toEqual([
      { name: 'libc6', arch: 'i686', format: 'deb', version: '2.36-9+deb12u9' },
      { name: 'libc6', arch: 'x86_64', format: 'deb', version: '2.36-9+deb12u9' },
    ]);
    expect(manifest.packages.find((p) => p.name === 'openssh-server')?.version).toBe('1:9.2p1-2+deb12u3');
    expect(audit.code).toBe(0);
  });

  it('captures one instance from a directory of snapshot pages', async () => {
    const { capture, audit, report } = await captureThenAudit(
      join(FIXTURES, 'snapshot'),
      IDS.debian,
      IDS.debianAmi,
    );

    expect(capture.code).toBe(0);
    expect(report?.instances.find((i) => i.instanceId === IDS.debian)?.status).toBe('compliant');
    expect(audit.code).toBe(1); // the AL2023 instance on page 1 is not a Debian host
  });

  it('exits 2 naming the instance when the inventory does not hold it', async () => {
    const result = await runCli([
      'capture',
      '--inventory',
      join(ENTRIES, 'al2023'),
      '--instance',
      'i-0123456789abcdef0',
      '--ami',
      IDS.al2023Ami,
    ]);

    expectBadInput(result, [join(ENTRIES, 'al2023'), 'i-0123456789abcdef0']);
  });

  it('exits 2 when the instance sent no package inventory', async () => {
    const path = join(ENTRIES, 'other-instance-information.json');

    const result = await runCli([
      'capture',
      '--inventory',
      path,
      '--instance',
      IDS.other,
      '--ami',
      IDS.al2023Ami,
    ]);

    expectBadInput(result, [path, IDS.other, 'AWS:Application']);
  });

  it('exits 2 on an AMI id that is not one', async () => {
    const result = await runCli([
      'capture',
      '--inventory',
      join(ENTRIES, 'al2023'),
      '--instance',
      IDS.al2023,
      '--ami',
      'golden-2026',
    ]);

    expectBadInput(result, ['--ami', 'golden-2026']);
  });

  it('exits 2 when --instance is missing', async () => {
    const result = await runCli(['capture', '--inventory', join(ENTRIES, 'al2023'), '--ami', IDS.al2023Ami]);

    expectBadInput(result, ['--instance']);
  });
});
