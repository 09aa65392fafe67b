import { describe, expect, it } from 'vitest';
import {
  InventoryTypes,
  MAX_FIELD_LENGTH,
  packageKey,
  SnapshotBuilder,
} from '../../shared/domain/inventory.ts';
import { deb, rpm } from '../helpers/domain.ts';

describe('SnapshotBuilder', () => {
  it('keeps the full epoch:version-release of rpm entries, with a missing epoch as 0', () => {
    const b = new SnapshotBuilder('i-0000000000000000a');
    b.addType(InventoryTypes.application, '2026-11-27T10:00:00Z', [
      rpm('openssl-libs', '1:3.0.8-1.amzn2023.0.14'),
      rpm('bash', '5.2.15-1.amzn2023.0.2'),
    ]);
    const snap = b.build();
    expect(snap.packages?.get(packageKey('openssl-libs', 'x86_64'))).toEqual({
      name: 'openssl-libs',
      arch: 'x86_64',
      format: 'rpm',
      versions: ['1:3.0.8-1.amzn2023.0.14'],
    });
    expect(snap.packages?.get(packageKey('bash', 'x86_64'))?.versions).toEqual(['0:5.2.15-1.amzn2023.0.2']);
  });

  it('tells dpkg entries from rpm entries and keeps the dpkg version string whole', () => {
    const b = new SnapshotBuilder('i-0000000000000000a');
    b.addType(InventoryTypes.application, undefined, [
      deb('libssl3', '3.0.15-1~deb12u1'),
      deb('tzdata', '2024a-0+deb12u1', 'all'),
    ]);
    const snap = b.build();
    expect(snap.packages?.get(packageKey('libssl3', 'x86_64'))).toMatchObject({
      format: 'deb',
      versions: ['3.0.15-1~deb12u1'],
    });
    expect(snap.packages?.get(packageKey('tzdata', 'all'))?.format).toBe('deb');
  });

  it('recognises snaps (no architecture, no release, no PackageId)', () => {
    const b = new SnapshotBuilder('i-0000000000000000a');
    b.addType(InventoryTypes.application, undefined, [
      { Name: 'core22', Version: '20241001', ApplicationType: 'admin', Architecture: '' },
    ]);
    expect(b.build().packages?.get(packageKey('core22', ''))?.format).toBe('snap');
  });

  it('matches attribute names case-insensitively', () => {
    const b = new SnapshotBuilder('i-0000000000000000a');
    b.addType(InventoryTypes.application, undefined, [
      { name: 'a', version: '1', release: '1', architecture: 'x86_64' },
      { NAME: 'b', VERSION: '2', RELEASE: '1', ARCHITECTURE: 'x86_64' },
    ]);
    expect([...(b.build().packages?.values() ?? [])].map((p) => p.versions[0])).toEqual(['0:1-1', '0:2-1']);
  });

  it('normalizes amd64 to x86_64 like the SSM agent', () => {
    const b = new SnapshotBuilder('i-0000000000000000a');
    b.addType(InventoryTypes.application, undefined, [deb('curl', '7.88.1-10+deb12u8', 'amd64')]);
    expect(b.build().packages?.has(packageKey('curl', 'x86_64'))).toBe(true);
  });

  it('records unreadable entries as problems instead of failing', () => {
    const b = new SnapshotBuilder('i-0000000000000000a');
    b.addType(InventoryTypes.application, undefined, [
      'not an object',
      { Name: { nested: true }, Version: '1' },
      { Name: 'x'.repeat(MAX_FIELD_LENGTH + 1), Version: '1' },
      { Name: 'no-version' },
      rpm('ok', '1-1'),
    ]);
    const snap = b.build();
    expect(snap.packages?.size).toBe(1);
    expect(snap.problems).toHaveLength(4);
    expect(snap.problems.join('\n')).toMatch(
      /not an object[\s\S]*not a string[\s\S]*longer than 4096[\s\S]*missing Name or Version/,
    );
  });

  it('leaves families the instance did not report undefined, so the audit can tell "none" from "not collected"', () => {
    const b = new SnapshotBuilder('i-0000000000000000a');
    b.addType(InventoryTypes.application, undefined, []);
    b.addType(InventoryTypes.services, undefined, []);
    const snap = b.build();
    expect(snap.packages?.size).toBe(0);
    expect(snap.services?.size).toBe(0);
    expect(snap.files).toBeUndefined();
    expect(snap.kernel).toBeUndefined();
  });

  it('takes the oldest capture time of the audited types', () => {
    const b = new SnapshotBuilder('i-0000000000000000a');
    b.addType(InventoryTypes.instanceInformation, '2026-11-27T11:00:00Z', [{ InstanceStatus: 'Active' }]);
    b.addType(InventoryTypes.application, '2026-11-27T10:00:00Z', []);
    b.addType(InventoryTypes.files, '2026-11-26T10:00:00Z', []);
    expect(b.build().captureTime).toBe('2026-11-26T10:00:00Z');
  });

  it('rejects file hashes that are not sha256', () => {
    const b = new SnapshotBuilder('i-0000000000000000a');
    b.addType(InventoryTypes.files, undefined, [
      { Path: '/etc/a', Sha256: 'abc' },
      { Path: '/etc/b', Sha256: 'F'.repeat(64) },
    ]);
    const snap = b.build();
    expect([...(snap.files ?? [])]).toEqual([['/etc/b', 'f'.repeat(64)]]);
    expect(snap.problems).toHaveLength(1);
  });
});
