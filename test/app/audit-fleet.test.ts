import { describe, expect, it } from 'vitest';
import {
  MemoryFleetSource,
  MemoryInventorySource,
  MemoryManifestStore,
  MemoryReportStore,
} from '../../shared/adapters/memory.ts';
import { auditFleet } from '../../shared/app/audit-fleet.ts';
import type { ManifestLookup } from '../../shared/domain/diff.ts';
import { mergeReports } from '../../shared/domain/report.ts';
import { AMI, instance, manifestFrom, NOW, policy, rpm, snapshot } from '../helpers/domain.ts';

const golden = manifestFrom({
  packages: [{ name: 'bash', arch: 'x86_64', version: '5.2.15', release: '1.amzn2023.0.2' }],
}) as Extract<ManifestLookup, { status: 'found' }>;
const clean = (id: string) => snapshot(id, { packages: [rpm('bash', '5.2.15-1.amzn2023.0.2')] });
const drifted = (id: string) => snapshot(id, { packages: [rpm('bash', '5.2.15-1.amzn2023.0.1')] });
const options = { policy: policy(), now: NOW, runId: 'run-1', clock: () => NOW };

describe('auditFleet use case', () => {
  it('audits running instances against their AMI manifest and reports every running instance once', async () => {
    // Prepare
    const fleet = new MemoryFleetSource([
      instance('i-00000000000000001', 'web'),
      instance('i-00000000000000002', 'web'),
      instance('i-00000000000000003', 'api'), // running, never reported inventory
      instance('i-00000000000000004', 'api', 'ami-0000000000000dead'),
    ]);
    const inventory = new MemoryInventorySource([
      clean('i-00000000000000001'),
      drifted('i-00000000000000002'),
      clean('i-00000000000000004'),
      clean('i-0000000000000000d'), // deleted long ago: its sync file stays behind
      snapshot('i-0000000000000000e', { status: 'Terminated' }),
    ]);
    const manifests = new MemoryManifestStore([golden.index]);

    // Act
    const { report } = await auditFleet({ inventory, fleet, manifests }, options);

    // Assess
    expect(report.summary).toMatchObject({ instances: 4, compliant: 1, drifted: 1, unknown: 2 });
    expect(report.summary.unknownReasons).toEqual({ unmanaged: 1, 'manifest-missing': 1 });
    const status = Object.fromEntries(report.instances.map((i) => [i.instanceId, [i.status, i.reason]]));
    expect(status['i-00000000000000001']).toEqual(['compliant', `matches ${AMI}`]);
    expect(status['i-00000000000000002']?.[0]).toBe('drifted');
    expect(status['i-00000000000000003']).toEqual(['unknown', 'unmanaged']);
    expect(status['i-00000000000000004']).toEqual(['unknown', 'manifest-missing']);
    expect(status).not.toHaveProperty('i-0000000000000000d');
    expect(status).not.toHaveProperty('i-0000000000000000e');
    expect(report.decisions).toEqual([
      { asgName: 'api', action: 'none', reasons: ['2 instances could not be checked'] },
      {
        asgName: 'web',
        action: 'notify',
        reasons: ['1 drifted instance of 2, worst severity medium', 'remediation mode is notify'],
      },
    ]);
  });

  it('audits every inventoried instance against the only manifest when no fleet is given', async () => {
    const inventory = new MemoryInventorySource([
      clean('i-00000000000000001'),
      drifted('i-00000000000000002'),
    ]);
    const { report } = await auditFleet(
      { inventory, manifests: new MemoryManifestStore([golden.index]) },
      options,
    );
    expect(report.summary).toMatchObject({ instances: 2, compliant: 1, drifted: 1 });
    expect(report.instances.every((i) => i.asgName === null && i.amiId === null)).toBe(true);
  });

  it('reports an instance on an older AMI than its group template as ami-outdated', async () => {
    const { report } = await auditFleet(
      {
        inventory: new MemoryInventorySource([clean('i-00000000000000001')]),
        fleet: new MemoryFleetSource(
          [instance('i-00000000000000001', 'web')],
          new Map([['web', 'ami-0ffffffffffffffff']]),
        ),
        manifests: new MemoryManifestStore([golden.index]),
      },
      options,
    );
    expect(report.findings).toMatchObject([
      { kind: 'ami-outdated', expected: 'ami-0ffffffffffffffff', actual: AMI },
    ]);
  });

  it('reports an invalid manifest as an operational error and its instances as unknown', async () => {
    const { report } = await auditFleet(
      {
        inventory: new MemoryInventorySource([clean('i-00000000000000001')]),
        fleet: new MemoryFleetSource([instance('i-00000000000000001', 'web')]),
        manifests: new MemoryManifestStore([], new Map([[AMI, 'packages[0].version: required']])),
      },
      options,
    );
    expect(report.instances[0]).toMatchObject({ status: 'unknown', reason: 'manifest-invalid' });
    expect(report.errors).toEqual([{ source: `manifest ${AMI}`, message: 'packages[0].version: required' }]);
  });

  it('merges per-scope reports by concatenation and summed summaries', async () => {
    const manifests = new MemoryManifestStore([golden.index]);
    const { report: web } = await auditFleet(
      {
        inventory: new MemoryInventorySource([drifted('i-00000000000000001')]),
        fleet: new MemoryFleetSource([instance('i-00000000000000001', 'web')]),
        manifests,
      },
      options,
    );
    const { report: api } = await auditFleet(
      {
        inventory: new MemoryInventorySource([clean('i-00000000000000002')]),
        fleet: new MemoryFleetSource([
          instance('i-00000000000000002', 'api'),
          instance('i-00000000000000003', 'api'),
        ]),
        manifests,
      },
      options,
    );
    const merged = mergeReports([web, api], { runId: 'merged' });
    expect(merged.summary).toMatchObject({ instances: 3, compliant: 1, drifted: 1, unknown: 1 });
    expect(merged.summary.findings.medium).toBe(1);
    expect(merged.instances).toHaveLength(3);
    expect(merged.decisions.map((d) => d.asgName)).toEqual(['web', 'api']);
  });

  it('audits only the scope it is given, reads inventory only for it, and records the scope', async () => {
    // Prepare
    const requested: string[][] = [];
    const inventory = new MemoryInventorySource([
      drifted('i-00000000000000001'),
      clean('i-00000000000000002'),
    ]);
    const spy = {
      description: 'spy',
      snapshots: (filter?: { instanceIds?: ReadonlySet<string> }) => {
        requested.push([...(filter?.instanceIds ?? [])]);
        return inventory.snapshots(filter);
      },
    };
    const fleet = new MemoryFleetSource([
      instance('i-00000000000000001', 'web'),
      instance('i-00000000000000002', 'api'),
    ]);

    // Act
    const { report } = await auditFleet(
      { inventory: spy, fleet, manifests: new MemoryManifestStore([golden.index]) },
      { ...options, scope: { asgNames: ['api'] } },
    );

    // Assess
    expect(report.instances.map((i) => i.instanceId)).toEqual(['i-00000000000000002']);
    expect(requested).toEqual([['i-00000000000000002']]);
    expect(report.scope).toEqual({ asgNames: ['api'] });
  });

  it('reads no inventory when nothing runs in the scope', async () => {
    let reads = 0;
    const spy = {
      description: 'spy',
      snapshots: () => {
        reads++;
        return new MemoryInventorySource([]).snapshots();
      },
    };
    const { report } = await auditFleet(
      {
        inventory: spy,
        fleet: new MemoryFleetSource([]),
        manifests: new MemoryManifestStore([golden.index]),
      },
      { ...options, scope: { instanceIds: ['i-0000000000000dead'] } },
    );
    expect(report.summary.instances).toBe(0);
    expect(reads).toBe(0);
  });

  it('stores the report and records the API calls of the run', async () => {
    const reports = new MemoryReportStore();
    const { report, location } = await auditFleet(
      {
        inventory: new MemoryInventorySource([clean('i-00000000000000001')]),
        manifests: new MemoryManifestStore([golden.index]),
        reports,
      },
      { ...options, apiCalls: () => ({ 'S3.GetObject': 2, 'S3.ListObjectsV2': 1 }) },
    );
    expect(location).toBe('memory://reports/run-1.json');
    expect(reports.reports).toEqual([report]);
    expect(report.apiCalls).toEqual({ 'S3.GetObject': 2, 'S3.ListObjectsV2': 1 });
  });

  it('says how many instances could only partly be read, and never counts them compliant', async () => {
    const partial = snapshot('i-00000000000000001', { packages: [rpm('bash', '5.2.15-1.amzn2023.0.2')] });
    const throttled = {
      ...partial,
      problems: ['AWS:Application: ThrottlingException after 8 attempts: Rate exceeded'],
    };
    const { report } = await auditFleet(
      {
        inventory: new MemoryInventorySource([throttled]),
        manifests: new MemoryManifestStore([golden.index]),
      },
      options,
    );
    expect(report.instances[0]).toMatchObject({ status: 'unknown', reason: 'inventory-partial' });
    expect(report.errors).toEqual([
      {
        source: 'inventory memory',
        message:
          '1 instance(s) could only partly be read: i-00000000000000001: AWS:Application: ThrottlingException after 8 attempts: Rate exceeded',
      },
    ]);
  });

  it('adds what the inventory source knows (an offline SSM agent) to an instance that is not compliant', async () => {
    const stale = snapshot('i-00000000000000001', {
      packages: [rpm('bash', '5.2.15-1.amzn2023.0.2')],
      captureTime: '2026-11-20T00:00:00Z',
    });
    const fresh = clean('i-00000000000000002');
    const inventory = new MemoryInventorySource([stale, fresh]);
    const withNotes = {
      description: 'ssm stand-in',
      snapshots: () => inventory.snapshots(),
      instanceNote: () => 'SSM agent offline (connection lost) since 2026-11-20T00:05:00.000Z',
    };

    const { report } = await auditFleet(
      { inventory: withNotes, manifests: new MemoryManifestStore([golden.index]) },
      options,
    );

    const byId = Object.fromEntries(report.instances.map((i) => [i.instanceId, i]));
    expect(byId['i-00000000000000001']?.reason).toBe('inventory-stale');
    expect(byId['i-00000000000000001']?.detail).toMatch(
      /old .*; SSM agent offline \(connection lost\) since 2026-11-20/,
    );
    expect(byId['i-00000000000000002']?.detail).toBeUndefined();
  });
});
