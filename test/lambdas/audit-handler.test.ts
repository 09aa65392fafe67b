/**
 * The audit Lambda end to end: EC2, Auto Scaling and S3 in moto; SSM mocked (moto has no SSM
 * inventory). Each trigger writes the expected report to S3.
 */
import { GetInventoryCommand, ListInventoryEntriesCommand } from '@aws-sdk/client-ssm';
import { beforeEach, expect, it, vi } from 'vitest';
import type { AuditReport } from '../../shared/domain/report.ts';
import {
  buildLiveFleet,
  DELETED_INSTANCE,
  LIVE_BUCKET,
  type LiveFleet,
  mockSsmInventory,
  readLiveReport,
  syncKey,
} from '../helpers/live-fleet.ts';
import { describeWithMoto, useMoto } from '../helpers/moto.ts';

type Handler = (
  event: unknown,
) => Promise<{ status: string; report?: string; summary?: AuditReport['summary'] }>;

describeWithMoto('audit Lambda handler (moto: EC2, Auto Scaling, S3; SSM mocked)', () => {
  const moto = useMoto();
  let fleet: LiveFleet;
  const BUCKET = LIVE_BUCKET;
  const readReport = (uri: string | undefined) => readLiveReport(fleet.s3, uri);

  async function loadHandler(env: Record<string, string>): Promise<Handler> {
    vi.resetModules();
    Object.assign(process.env, {
      DRIFTWATCH_BUCKET: BUCKET,
      POWERTOOLS_LOG_LEVEL: 'SILENT',
      POWERTOOLS_METRICS_DISABLED: 'true',
      POWERTOOLS_DEV: 'false',
      ...env,
    });
    return (await import('../../lambdas/audit/handler.ts')).handler as Handler;
  }

  beforeEach(async () => {
    fleet = await buildLiveFleet(moto);
  });

  it('audits the whole fleet on a schedule and writes the report to S3', async () => {
    const handler = await loadHandler({ DRIFTWATCH_INVENTORY: 'sync' });

    const result = await handler({ kind: 'scheduled' });

    expect(result.status).toBe('audited');
    const report = await readReport(result.report);
    expect(report.summary).toMatchObject({ instances: 3, compliant: 1, drifted: 2, unknown: 0 });
    const findings = report.findings.map((f) => [f.instanceId, f.kind, f.subject, f.severity]);
    expect(findings).toEqual(
      expect.arrayContaining([
        [fleet.drifted, 'package-added', 'htop', 'high'],
        [fleet.drifted, 'ami-outdated', 'ami', 'low'],
        [fleet.outdated, 'ami-outdated', 'ami', 'low'],
      ]),
    );
    expect(report.instances.map((i) => i.instanceId)).not.toContain(DELETED_INSTANCE);
    expect(report.decisions).toEqual([expect.objectContaining({ asgName: 'web', action: 'notify' })]);
    // One GET per instance and inventory type; no SSM calls on the sync path.
    expect(report.apiCalls?.['S3.GetObject']).toBeGreaterThanOrEqual(6);
    expect(Object.keys(report.apiCalls ?? {}).some((k) => k.startsWith('SSM.'))).toBe(false);
  });

  it('audits only the instance whose inventory object just arrived', async () => {
    const handler = await loadHandler({ DRIFTWATCH_INVENTORY: 'sync' });
    const key = syncKey('AWS:Application', fleet.drifted);

    const result = await handler({
      source: 'aws.s3',
      'detail-type': 'Object Created',
      detail: { bucket: { name: BUCKET }, object: { key } },
    });

    const report = await readReport(result.report);
    expect(report.instances.map((i) => i.instanceId)).toEqual([fleet.drifted]);
    expect(report.scope).toEqual({ instanceIds: [fleet.drifted] });
  });

  it('re-audits the instances of an AMI when its manifest is uploaded', async () => {
    const handler = await loadHandler({ DRIFTWATCH_INVENTORY: 'sync' });

    const result = await handler({
      source: 'aws.s3',
      'detail-type': 'Object Created',
      detail: { bucket: { name: BUCKET }, object: { key: `manifests/${fleet.amiB}.json` } },
    });

    const report = await readReport(result.report);
    expect(report.instances.map((i) => i.instanceId)).toEqual([fleet.clean]);
    expect(report.instances[0]?.status).toBe('compliant');
  });

  it('reports an instance that just entered running without inventory as unknown/unmanaged', async () => {
    const handler = await loadHandler({ DRIFTWATCH_INVENTORY: 'sync' });
    const [fresh] = await fleet.build.scaleTo('web', 4);

    const result = await handler({
      source: 'aws.ec2',
      'detail-type': 'EC2 Instance State-change Notification',
      detail: { 'instance-id': fresh, state: 'running' },
    });

    const report = await readReport(result.report);
    expect(report.instances).toEqual([
      expect.objectContaining({ instanceId: fresh, status: 'unknown', reason: 'unmanaged' }),
    ]);
  });

  it('ignores events it does not handle, without auditing', async () => {
    const handler = await loadHandler({ DRIFTWATCH_INVENTORY: 'sync' });
    const result = await handler({
      source: 'aws.s3',
      'detail-type': 'Object Created',
      detail: { bucket: { name: BUCKET }, object: { key: 'reports/x.json' } },
    });
    expect(result.status).toBe('ignored');
  });

  it('reads inventory through the SSM API when there is no sync', async () => {
    // Prepare: SSM answers in its documented shapes (moto has no inventory API).
    const ssm = mockSsmInventory(fleet);
    try {
      const handler = await loadHandler({ DRIFTWATCH_INVENTORY: 'ssm' });

      // Act
      const result = await handler({ kind: 'scheduled' });

      // Assess
      const report = await readReport(result.report);
      expect(report.summary).toMatchObject({ instances: 3, drifted: 2, compliant: 1 });
      expect(report.findings.filter((f) => f.kind === 'package-added').map((f) => f.instanceId)).toEqual([
        fleet.drifted,
      ]);
      expect(
        ssm
          .commandCalls(GetInventoryCommand)
          .every((c) => JSON.stringify(c.args[0].input).includes('AWS:InstanceInformation')),
      ).toBe(true);
      expect(ssm.commandCalls(ListInventoryEntriesCommand).length).toBeGreaterThanOrEqual(3);
    } finally {
      ssm.restore();
    }
  });
});
