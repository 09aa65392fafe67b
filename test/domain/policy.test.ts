import { describe, expect, it } from 'vitest';
import { PolicySchema, parseDuration } from '../../shared/domain/policy.ts';
import { policy } from '../helpers/domain.ts';

describe('policy', () => {
  it('fills every field with a default when the policy is empty', () => {
    const p = PolicySchema.parse({});
    expect(p.staleAfter).toBe(24 * 3600 * 1000);
    expect(p.severity.default).toBe('medium');
    expect(p.remediation).toMatchObject({
      mode: 'notify',
      minSeverity: 'high',
      requireTag: 'driftwatch:remediate=true',
      maxDriftedFraction: 0.5,
      maxRefreshesPerDay: 1,
      remindAfter: 24 * 3600 * 1000,
      refresh: { minHealthyPercentage: 90, autoRollback: true },
    });
  });

  it('parses durations in days, hours, minutes and seconds', () => {
    expect(parseDuration('24h')).toBe(86_400_000);
    expect(parseDuration('7d')).toBe(7 * 86_400_000);
    expect(parseDuration('1h30m')).toBe(5_400_000);
    expect(parseDuration('90s')).toBe(90_000);
    expect(parseDuration(60)).toBe(60_000);
    expect(parseDuration('')).toBeUndefined();
    expect(parseDuration('soon')).toBeUndefined();
    expect(parseDuration('24x')).toBeUndefined();
  });

  it('rejects a misspelt key instead of silently ignoring it', () => {
    const result = PolicySchema.safeParse({ ignroe: { packages: ['x'] } });
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.message).toMatch(/ignroe/);
  });

  it('rejects a malformed allow constraint, naming the package', () => {
    const result = PolicySchema.safeParse({ allow: { openssl: '>>= 1.0' } });
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.path).toEqual(['allow', 0, 1]);
  });

  it('keeps an allow entry for a package called __proto__', () => {
    const p = policy(JSON.parse('{"allow":{"__proto__":">= 1"}}'));
    expect(p.allowFor('__proto__')).toEqual(['>= 1']);
    expect(p.allowFor('other')).toEqual([]);
  });

  it('rejects a waiver without a reason or with a bad expiry date', () => {
    expect(PolicySchema.safeParse({ waivers: [{ subject: 'htop', expires: '2026-12-31' }] }).success).toBe(
      false,
    );
    const bad = PolicySchema.safeParse({ waivers: [{ subject: 'htop', reason: 'x', expires: 'next week' }] });
    expect(bad.error?.issues[0]?.message).toMatch(/not a date/);
  });

  it('matches ignore globs per family only', () => {
    const p = policy({ ignore: { packages: ['kernel-livepatch-*'], files: ['/etc/hostname'] } });
    expect(p.isIgnored('packages', 'kernel-livepatch-6.1')).toBe(true);
    expect(p.isIgnored('packages', 'kernel')).toBe(false);
    expect(p.isIgnored('files', '/etc/hostname')).toBe(true);
    expect(p.isIgnored('services', '/etc/hostname')).toBe(false);
  });

  it('picks severity by the first matching rule, with globs on kind, subject and group', () => {
    const p = policy({
      severity: {
        default: 'low',
        rules: [
          { kind: 'package-*', subject: 'openssl*', severity: 'critical' },
          { kind: 'package-*', asg: 'prod-*', severity: 'high' },
        ],
      },
    });
    expect(p.severityOf({ kind: 'package-changed', subject: 'openssl-libs', asgName: 'web' })).toBe(
      'critical',
    );
    expect(p.severityOf({ kind: 'package-added', subject: 'htop', asgName: 'prod-web' })).toBe('high');
    expect(p.severityOf({ kind: 'package-added', subject: 'htop', asgName: 'web' })).toBe('low');
    expect(p.severityOf({ kind: 'file-changed', subject: '/etc/x', asgName: null })).toBe('low');
  });

  it('validates remediation settings', () => {
    expect(PolicySchema.safeParse({ remediation: { mode: 'yolo' } }).success).toBe(false);
    expect(PolicySchema.safeParse({ remediation: { maxDriftedFraction: 2 } }).success).toBe(false);
    expect(PolicySchema.parse({ remediation: { remindAfter: '12h' } }).remediation.remindAfter).toBe(
      43_200_000,
    );
  });
});
