import { describe, expect, it } from 'vitest';
import { auditInstance } from '../../shared/domain/diff.ts';
import {
  CaptureError,
  captureManifest,
  GoldenManifestSchema,
  indexManifest,
  manifestToJson,
} from '../../shared/domain/manifest.ts';
import { AMI, deb, instance, NOW, policy, rpm, SHA_A, snapshot } from '../helpers/domain.ts';

describe('golden manifest', () => {
  const reference = snapshot('i-0000000000000000a', {
    packages: [
      rpm('openssl-libs', '1:3.0.8-1.amzn2023.0.14'),
      rpm('bash', '5.2.15-1.amzn2023.0.2'),
      rpm('kernel', '6.1.112-122.189.amzn2023'),
      rpm('kernel', '6.1.115-126.197.amzn2023'),
      rpm('__proto__', '1-1'),
    ],
    services: [{ Name: 'sshd.service', Status: 'Running', StartType: 'Enabled' }],
    files: [{ Path: '/etc/ssh/sshd_config', Sha256: SHA_A }],
    kernel: '6.1.115-126.197.amzn2023.x86_64',
  });

  it('captures every package, service, file hash and the kernel of a reference instance', () => {
    const manifest = captureManifest(reference, { amiId: AMI, capturedAt: NOW });
    expect(manifest).toMatchObject({
      schemaVersion: 1,
      amiId: AMI,
      name: 'Amazon Linux 2023',
      platform: { name: 'Amazon Linux', version: '2023', type: 'Linux' },
      capturedAt: NOW.toISOString(),
      source: { instanceId: 'i-0000000000000000a' },
      kernel: '6.1.115-126.197.amzn2023.x86_64',
      services: [{ name: 'sshd.service', status: 'running', startType: 'enabled' }],
      files: [['/etc/ssh/sshd_config', SHA_A]],
    });
    expect(manifest.packages).toContainEqual({
      name: 'openssl-libs',
      arch: 'x86_64',
      format: 'rpm',
      epoch: '1',
      version: '3.0.8',
      release: '1.amzn2023.0.14',
    });
    expect(manifest.packages.filter((p) => p.name === 'kernel')).toHaveLength(2);
  });

  it('round-trips through its JSON form and validates, keeping a path or package named __proto__', () => {
    const manifest = captureManifest(reference, { amiId: AMI, capturedAt: NOW });
    manifest.files.push(['__proto__', SHA_A]);
    const reparsed = GoldenManifestSchema.parse(JSON.parse(manifestToJson(manifest)));
    expect(reparsed).toEqual(manifest);
    expect(reparsed.packages.some((p) => p.name === '__proto__')).toBe(true);
    expect(indexManifest(reparsed).files?.get('__proto__')).toBe(SHA_A);
  });

  it('audits the reference instance as compliant against its own capture', () => {
    const index = indexManifest(captureManifest(reference, { amiId: AMI, capturedAt: NOW }));
    const result = auditInstance(
      {
        instance: instance('i-0000000000000000a'),
        snapshot: reference,
        manifest: { status: 'found', index },
      },
      { policy: policy(), now: NOW },
    );
    expect(result.result.status).toBe('compliant');
    expect(result.findings).toEqual([]);
  });

  it('captures a Debian instance with dpkg versions whole', () => {
    const debian = snapshot('i-0000000000000000b', {
      platform: { name: 'Debian GNU/Linux', version: '12' },
      packages: [deb('libc6', '2.36-9+deb12u9'), deb('libc6', '2.36-9+deb12u9', 'i686')],
    });
    const manifest = captureManifest(debian, { amiId: AMI, capturedAt: NOW });
    expect(manifest.packages).toEqual([
      { name: 'libc6', arch: 'i686', format: 'deb', version: '2.36-9+deb12u9' },
      { name: 'libc6', arch: 'x86_64', format: 'deb', version: '2.36-9+deb12u9' },
    ]);
  });

  it('leaves out an unreadable inventory capture time instead of failing', () => {
    const odd = snapshot('i-0000000000000000d', {
      packages: [rpm('bash', '5.2.15-1')],
      captureTime: 'yesterday',
    });
    const manifest = captureManifest(odd, { amiId: AMI, capturedAt: NOW });
    expect(manifest.source).toEqual({ instanceId: 'i-0000000000000000d', tool: 'driftwatch capture' });
  });

  it('refuses to capture without package inventory or with a malformed AMI id', () => {
    expect(() => captureManifest(snapshot('i-0000000000000000c'), { amiId: AMI, capturedAt: NOW })).toThrow(
      CaptureError,
    );
    expect(() => captureManifest(reference, { amiId: 'ami-xyz', capturedAt: NOW })).toThrow(/not an AMI id/);
  });

  it('rejects a manifest with a bad schemaVersion, a bad hash or a missing version', () => {
    const base = JSON.parse(manifestToJson(captureManifest(reference, { amiId: AMI, capturedAt: NOW })));
    expect(GoldenManifestSchema.safeParse({ ...base, schemaVersion: 2 }).success).toBe(false);
    expect(GoldenManifestSchema.safeParse({ ...base, files: { '/etc/x': 'nothex' } }).success).toBe(false);
    const noVersion = { ...base, packages: [{ name: 'bash', arch: 'x86_64' }] };
    const result = GoldenManifestSchema.safeParse(noVersion);
    expect(result.error?.issues[0]?.path).toEqual(['packages', 0, 'version']);
  });
});
