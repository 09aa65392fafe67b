import { describe, expect, it } from 'vitest';
import { type AuditContext, auditInstance, type InstanceAuditInput } from '../../shared/domain/diff.ts';
import {
  AMI,
  deb,
  instance,
  manifestFrom,
  NOW,
  policy,
  rpm,
  SHA_A,
  SHA_B,
  snapshot,
} from '../helpers/domain.ts';

const GOLDEN_RPMS = [
  rpm('openssl-libs', '1:3.0.8-1.amzn2023.0.14'),
  rpm('bash', '5.2.15-1.amzn2023.0.2'),
  rpm('nginx', '1:1.24.0-1.amzn2023.0.4'),
];
const golden = manifestFrom({
  packages: [
    { name: 'openssl-libs', arch: 'x86_64', epoch: '1', version: '3.0.8', release: '1.amzn2023.0.14' },
    { name: 'bash', arch: 'x86_64', version: '5.2.15', release: '1.amzn2023.0.2' },
    { name: 'nginx', arch: 'x86_64', epoch: '1', version: '1.24.0', release: '1.amzn2023.0.4' },
  ],
});
const ctx = (p = policy()): AuditContext => ({ policy: p, now: NOW });

function audit(input: Partial<InstanceAuditInput> & Pick<InstanceAuditInput, 'snapshot'>, c = ctx()) {
  return auditInstance({ instance: instance('i-0000000000000000a'), manifest: golden, ...input }, c);
}

describe('auditInstance', () => {
  it('reports an instance identical to its manifest as compliant with no findings', () => {
    // Prepare
    const snap = snapshot('i-0000000000000000a', { packages: GOLDEN_RPMS });
    // Act
    const result = audit({ snapshot: snap });
    // Assess
    expect(result.result.status).toBe('compliant');
    expect(result.findings).toEqual([]);
  });

  it('flags a package whose release went backwards as package-changed with full epoch:version-release', () => {
    const packages = [GOLDEN_RPMS[0], GOLDEN_RPMS[1], rpm('nginx', '1:1.24.0-1.amzn2023.0.2')].map(
      (p) => p ?? {},
    );
    const result = audit({ snapshot: snapshot('i-0000000000000000a', { packages }) });
    expect(result.result.status).toBe('drifted');
    expect(result.findings).toMatchObject([
      {
        kind: 'package-changed',
        subject: 'nginx',
        arch: 'x86_64',
        expected: '1:1.24.0-1.amzn2023.0.4',
        actual: '1:1.24.0-1.amzn2023.0.2',
        instanceId: 'i-0000000000000000a',
        asgName: 'web',
      },
    ]);
  });

  it('reports added and removed packages', () => {
    const packages = [GOLDEN_RPMS[0], GOLDEN_RPMS[2], rpm('htop', '3.2.1-1.amzn2023.0.1')].map(
      (p) => p ?? {},
    );
    const result = audit({ snapshot: snapshot('i-0000000000000000a', { packages }) });
    const kinds = result.findings.map((f) => `${f.kind}:${f.subject}`).sort();
    expect(kinds).toEqual(['package-added:htop', 'package-removed:bash']);
    const added = result.findings.find((f) => f.kind === 'package-added');
    expect(added?.expected).toBeNull();
    expect(added?.actual).toBe('0:3.2.1-1.amzn2023.0.1');
  });

  it('does not report a newer build that the policy allows, but does report one outside the range', () => {
    const patched = [rpm('openssl-libs', '1:3.0.8-1.amzn2023.0.15'), GOLDEN_RPMS[1], GOLDEN_RPMS[2]].map(
      (p) => p ?? {},
    );
    const allowing = policy({ allow: { 'openssl-*': '>= 1:3.0.8-1.amzn2023.0.14' } });
    expect(
      audit({ snapshot: snapshot('i-0000000000000000a', { packages: patched }) }, ctx(allowing)).findings,
    ).toEqual([]);

    const downgraded = [rpm('openssl-libs', '1:3.0.8-1.amzn2023.0.12'), GOLDEN_RPMS[1], GOLDEN_RPMS[2]].map(
      (p) => p ?? {},
    );
    const result = audit(
      { snapshot: snapshot('i-0000000000000000a', { packages: downgraded }) },
      ctx(allowing),
    );
    expect(result.findings.map((f) => f.kind)).toEqual(['package-changed']);
  });

  it('ignores packages matching an ignore glob in both directions', () => {
    const packages = [...GOLDEN_RPMS, rpm('kernel-livepatch-6.1.112', '1.0-3.amzn2023')];
    const p = policy({ ignore: { packages: ['kernel-livepatch-*'] } });
    expect(audit({ snapshot: snapshot('i-0000000000000000a', { packages }) }, ctx(p)).result.status).toBe(
      'compliant',
    );
  });

  it('keys packages by name and architecture, so a multi-arch package is two packages', () => {
    const manifest = manifestFrom({
      platform: { name: 'Debian GNU/Linux', version: '12', type: 'Linux' },
      packages: [
        { name: 'libc6', arch: 'amd64', format: 'deb', version: '2.36-9+deb12u9' },
        { name: 'libc6', arch: 'i386', format: 'deb', version: '2.36-9+deb12u9' },
      ],
    });
    const snap = snapshot('i-0000000000000000a', {
      platform: { name: 'Debian GNU/Linux', version: '12' },
      packages: [deb('libc6', '2.36-9+deb12u9', 'x86_64'), deb('libc6', '2.36-9+deb12u8', 'i686')],
    });
    const result = audit({ snapshot: snap, manifest });
    expect(result.findings).toMatchObject([
      {
        kind: 'package-changed',
        subject: 'libc6',
        arch: 'i686',
        expected: '2.36-9+deb12u9',
        actual: '2.36-9+deb12u8',
      },
    ]);
  });

  it('compares install-only packages with several versions as a set', () => {
    const manifest = manifestFrom({
      packages: [
        { name: 'kernel', arch: 'x86_64', version: '6.1.112', release: '122.189.amzn2023' },
        { name: 'kernel', arch: 'x86_64', version: '6.1.115', release: '126.197.amzn2023' },
      ],
    });
    const same = snapshot('i-0000000000000000a', {
      packages: [rpm('kernel', '6.1.115-126.197.amzn2023'), rpm('kernel', '6.1.112-122.189.amzn2023')],
    });
    expect(audit({ snapshot: same, manifest }).findings).toEqual([]);
    const extra = snapshot('i-0000000000000000a', {
      packages: [rpm('kernel', '6.1.112-122.189.amzn2023'), rpm('kernel', '6.1.119-129.201.amzn2023')],
    });
    expect(audit({ snapshot: extra, manifest }).findings).toMatchObject([
      {
        kind: 'package-changed',
        expected: '0:6.1.112-122.189.amzn2023, 0:6.1.115-126.197.amzn2023',
        actual: '0:6.1.112-122.189.amzn2023, 0:6.1.119-129.201.amzn2023',
      },
    ]);
  });

  it('reports stopped services, edited files and a changed kernel', () => {
    const manifest = manifestFrom({
      packages: [],
      services: [{ name: 'sshd.service', status: 'running', startType: 'enabled' }],
      files: { '/etc/ssh/sshd_config': SHA_A },
      kernel: '6.1.112-122.189.amzn2023.x86_64',
    });
    const snap = snapshot('i-0000000000000000a', {
      packages: [],
      services: [
        { Name: 'sshd.service', Status: 'stopped', StartType: 'enabled' },
        { Name: 'telnet.socket', Status: 'running', StartType: 'enabled' },
      ],
      files: [
        { Path: '/etc/ssh/sshd_config', Sha256: SHA_B },
        { Path: '/etc/motd', Sha256: SHA_A },
      ],
      kernel: '6.1.115-126.197.amzn2023.x86_64',
    });
    const result = audit({ snapshot: snap, manifest });
    expect(result.findings.map((f) => [f.kind, f.subject, f.expected, f.actual]).sort()).toEqual(
      [
        ['file-added', '/etc/motd', null, SHA_A],
        ['file-changed', '/etc/ssh/sshd_config', SHA_A, SHA_B],
        ['kernel-changed', 'kernel', '6.1.112-122.189.amzn2023.x86_64', '6.1.115-126.197.amzn2023.x86_64'],
        ['service-added', 'telnet.socket', null, 'running/enabled'],
        ['service-changed', 'sshd.service', 'running/enabled', 'stopped/enabled'],
      ].sort(),
    );
  });

  it('reports an instance on an older AMI than its group template as ami-outdated', () => {
    const snap = snapshot('i-0000000000000000a', { packages: GOLDEN_RPMS });
    const result = audit({ snapshot: snap, groupAmiId: 'ami-0ffffffffffffffff' });
    expect(result.result.status).toBe('drifted');
    expect(result.findings).toMatchObject([
      { kind: 'ami-outdated', expected: 'ami-0ffffffffffffffff', actual: AMI },
    ]);
  });

  it('reports a platform change', () => {
    const snap = snapshot('i-0000000000000000a', {
      packages: GOLDEN_RPMS,
      platform: { name: 'Amazon Linux', version: '2' },
    });
    expect(audit({ snapshot: snap }).findings).toMatchObject([
      { kind: 'platform-changed', expected: 'Amazon Linux 2023', actual: 'Amazon Linux 2' },
    ]);
  });
});

describe('instances that cannot be judged are unknown, never compliant', () => {
  it('marks a running instance without inventory as unknown/unmanaged', () => {
    const result = audit({ snapshot: undefined });
    expect(result.result).toMatchObject({ status: 'unknown', reason: 'unmanaged' });
  });

  it('marks inventory older than staleAfter as unknown/inventory-stale and reports no findings from it', () => {
    const snap = snapshot('i-0000000000000000a', {
      packages: [rpm('htop', '3.2.1-1')],
      captureTime: '2026-11-24T08:00:00Z',
    });
    const result = audit({ snapshot: snap });
    expect(result.result).toMatchObject({ status: 'unknown', reason: 'inventory-stale' });
    expect(result.result.detail).toContain('3d old');
    expect(result.findings).toEqual([]);
  });

  it('honours a policy staleAfter', () => {
    const snap = snapshot('i-0000000000000000a', {
      packages: GOLDEN_RPMS,
      captureTime: '2026-11-27T10:00:00Z',
    });
    expect(audit({ snapshot: snap }, ctx(policy({ staleAfter: '1h' }))).result.reason).toBe(
      'inventory-stale',
    );
    expect(audit({ snapshot: snap }, ctx(policy({ staleAfter: '3h' }))).result.status).toBe('compliant');
  });

  it('marks an instance whose AMI has no manifest as unknown/manifest-missing', () => {
    const snap = snapshot('i-0000000000000000a', { packages: GOLDEN_RPMS });
    const result = audit({
      snapshot: snap,
      manifest: { status: 'missing', detail: 'no manifest for ami-0old' },
    });
    expect(result.result).toMatchObject({
      status: 'unknown',
      reason: 'manifest-missing',
      detail: 'no manifest for ami-0old',
    });
  });

  it('marks an instance whose manifest is invalid as unknown/manifest-invalid', () => {
    const snap = snapshot('i-0000000000000000a', { packages: GOLDEN_RPMS });
    const result = audit({
      snapshot: snap,
      manifest: { status: 'invalid', detail: 'packages[0].version: required' },
    });
    expect(result.result).toMatchObject({ status: 'unknown', reason: 'manifest-invalid' });
  });

  it('marks an instance without package inventory as unknown/inventory-partial', () => {
    const snap = snapshot('i-0000000000000000a', {});
    const result = audit({ snapshot: snap });
    expect(result.result).toMatchObject({ status: 'unknown', reason: 'inventory-partial' });
    expect(result.result.detail).toContain('AWS:Application');
  });

  it('marks an instance lacking the file-hash inventory its manifest expects as partial, not compliant', () => {
    const manifest = manifestFrom({ packages: [], files: { '/etc/sudoers': SHA_A } });
    const result = audit({ snapshot: snapshot('i-0000000000000000a', { packages: [] }), manifest });
    expect(result.result).toMatchObject({ status: 'unknown', reason: 'inventory-partial' });
  });

  it('still reports drift it could see when part of the inventory is missing', () => {
    const manifest = manifestFrom({ packages: [], files: { '/etc/sudoers': SHA_A } });
    const result = audit({
      snapshot: snapshot('i-0000000000000000a', { packages: [rpm('htop', '3.2.1-1')] }),
      manifest,
    });
    expect(result.result.status).toBe('drifted');
    expect(result.result.detail).toContain('inventory partial');
  });
});

describe('severity, waivers and fingerprints', () => {
  const drifted = () =>
    snapshot('i-0000000000000000a', {
      packages: [
        rpm('openssl-libs', '1:3.0.8-1.amzn2023.0.12'),
        GOLDEN_RPMS[2] ?? {},
        rpm('htop', '3.2.1-1'),
      ],
    });

  it('applies the first matching severity rule, else the default', () => {
    const p = policy({
      severity: {
        default: 'low',
        rules: [
          { kind: 'package-removed', severity: 'high' },
          { kind: 'package-*', subject: 'openssl*', severity: 'critical' },
        ],
      },
    });
    const bySubject = Object.fromEntries(
      audit({ snapshot: drifted() }, ctx(p)).findings.map((f) => [f.subject, f.severity]),
    );
    expect(bySubject).toEqual({ 'openssl-libs': 'critical', bash: 'high', htop: 'low' });
  });

  it('hides drift under an unexpired waiver and lists it as waived', () => {
    const p = policy({
      waivers: [
        { kind: 'package-added', subject: 'htop', reason: 'debugging INC-1234', expires: '2026-12-31' },
      ],
    });
    const result = audit({ snapshot: drifted() }, ctx(p));
    expect(result.findings.map((f) => f.subject)).not.toContain('htop');
    expect(result.waived).toMatchObject([{ subject: 'htop', waiver: { reason: 'debugging INC-1234' } }]);
  });

  it('stops hiding drift once the waiver has expired', () => {
    const p = policy({
      waivers: [{ kind: 'package-added', subject: 'htop', reason: 'old incident', expires: '2026-11-26' }],
    });
    const result = audit({ snapshot: drifted() }, ctx(p));
    expect(result.findings.map((f) => f.subject)).toContain('htop');
    expect(result.waived).toEqual([]);
  });

  it('keeps a date-only waiver valid through the end of that day (UTC)', () => {
    const p = policy({ waivers: [{ subject: 'htop', reason: 'until tonight', expires: '2026-11-27' }] });
    expect(audit({ snapshot: drifted() }, ctx(p)).waived).toHaveLength(1);
  });

  it('applies waivers carried by the manifest', () => {
    const manifest = manifestFrom({
      packages: [{ name: 'bash', arch: 'x86_64', version: '5.2.15', release: '1.amzn2023.0.2' }],
      waivers: [
        {
          match: { kind: 'package-added', subject: 'ht*' },
          reason: 'known',
          expires: '2027-01-01T00:00:00Z',
        },
      ],
    });
    const snap = snapshot('i-0000000000000000a', {
      packages: [GOLDEN_RPMS[1] ?? {}, rpm('htop', '3.2.1-1')],
    });
    const result = audit({ snapshot: snap, manifest });
    expect(result.result.status).toBe('compliant');
    expect(result.waived[0]?.waiver.source).toBe('manifest');
  });

  it('gives the same drift the same fingerprint across runs, and different drift a different one', () => {
    const first = audit({ snapshot: drifted() }).findings.map((f) => f.fingerprint);
    const second = audit(
      { snapshot: drifted() },
      ctx(policy({ severity: { default: 'critical' } })),
    ).findings.map((f) => f.fingerprint);
    expect(second).toEqual(first);
    expect(new Set(first).size).toBe(first.length);
    for (const f of first) expect(f).toMatch(/^[0-9a-f]{64}$/);
    const other = audit({
      snapshot: snapshot('i-0000000000000000a', {
        packages: [rpm('openssl-libs', '1:3.0.8-1.amzn2023.0.11')],
      }),
    }).findings.find((f) => f.subject === 'openssl-libs');
    expect(first).not.toContain(other?.fingerprint);
  });
});

describe('hostile inventory', () => {
  it('audits packages named __proto__, constructor and toString without polluting prototypes', () => {
    const snap = snapshot('i-0000000000000000a', {
      packages: [...GOLDEN_RPMS, rpm('__proto__', '1-1'), rpm('constructor', '1-1'), rpm('toString', '1-1')],
    });
    const result = audit({ snapshot: snap });
    expect(result.findings.map((f) => f.subject).sort()).toEqual(['__proto__', 'constructor', 'toString']);
    expect(({} as Record<string, unknown>).version).toBeUndefined();
    expect(Object.hasOwn(Object.prototype, 'Name')).toBe(false);
  });

  it('audits an instance with 20,000 packages', () => {
    const packages = Array.from({ length: 20_000 }, (_, i) => rpm(`pkg-${i}`, `1.${i}-1.amzn2023`));
    const manifest = manifestFrom({
      packages: packages.map((p, i) => ({
        name: p.Name ?? '',
        arch: 'x86_64',
        version: `1.${i}`,
        release: '1.amzn2023',
      })),
    });
    packages[19_999] = rpm('pkg-19999', '1.19999-2.amzn2023');
    const result = audit({ snapshot: snapshot('i-0000000000000000a', { packages }), manifest });
    expect(result.findings).toMatchObject([{ kind: 'package-changed', subject: 'pkg-19999' }]);
  });
});
