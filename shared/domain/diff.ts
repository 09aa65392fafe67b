/**
 * The drift engine: compares each instance with the manifest of its own AMI, through a policy.
 * Pure: plain data in, plain data out, `now` passed in. (contract: auditInstance / auditFleet)
 */
import { createHash } from 'node:crypto';
import { type InstanceSnapshot, type PackageRecord, packageKey } from './inventory.ts';
import type { ManifestIndex } from './manifest.ts';
import { compareFindings } from './order.ts';
import { type CompiledPolicy, compileWaiver, expiryMs, type FindingKind, type WaiverRule } from './policy.ts';
import type { Finding, InstanceResult, UnknownReason, WaivedFinding } from './report.ts';
import { InvalidVersionError, satisfies, type VersionScheme } from './versions.ts';

/** One running instance, as EC2 describes it. */
export interface FleetInstance {
  readonly instanceId: string;
  readonly amiId: string | undefined;
  readonly asgName: string | null;
  readonly launchTime?: string | undefined;
}

/** What the manifest store found for an instance's AMI. */
export type ManifestLookup =
  | { readonly status: 'found'; readonly index: ManifestIndex }
  | { readonly status: 'missing'; readonly detail: string }
  | { readonly status: 'invalid'; readonly detail: string };

export interface InstanceAuditInput {
  readonly instance: FleetInstance;
  /** Undefined when SSM has no inventory for the instance. */
  readonly snapshot: InstanceSnapshot | undefined;
  readonly manifest: ManifestLookup;
  /** The AMI of the launch template version the instance's group uses, when known. */
  readonly groupAmiId?: string | undefined;
}

export interface InstanceAudit {
  readonly result: InstanceResult;
  readonly findings: readonly Finding[];
  readonly waived: readonly WaivedFinding[];
}

export interface AuditContext {
  readonly policy: CompiledPolicy;
  readonly now: Date;
}

interface RawFinding {
  kind: FindingKind;
  subject: string;
  arch?: string;
  expected: string | null;
  actual: string | null;
}

/** Same drift, same fingerprint, across runs: identity fields only (never severity or time). */
export function fingerprint(instanceId: string, f: RawFinding): string {
  return createHash('sha256')
    .update(JSON.stringify([instanceId, f.kind, f.subject, f.arch ?? '', f.expected, f.actual]))
    .digest('hex');
}

function versionScheme(pkg: PackageRecord): VersionScheme {
  return pkg.format === 'rpm' ? 'rpm' : pkg.format === 'deb' ? 'deb' : 'other';
}

function sameVersions(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** True when every installed version meets one of the policy's constraints for that package. */
function allowed(policy: CompiledPolicy, pkg: PackageRecord): boolean {
  const constraints = policy.allowFor(pkg.name);
  if (constraints.length === 0) return false;
  const scheme = versionScheme(pkg);
  return pkg.versions.every((version) =>
    constraints.some((constraint) => {
      try {
        return satisfies(scheme, version, constraint);
      } catch (error) {
        if (error instanceof InvalidVersionError) return false;
        throw error;
      }
    }),
  );
}

function diffPackages(
  expected: ReadonlyMap<string, PackageRecord>,
  actual: ReadonlyMap<string, PackageRecord>,
  policy: CompiledPolicy,
  out: RawFinding[],
): void {
  for (const [key, want] of expected) {
    if (policy.isIgnored('packages', want.name)) continue;
    const have = actual.get(key);
    if (!have) {
      out.push({
        kind: 'package-removed',
        subject: want.name,
        arch: want.arch,
        expected: want.versions.join(', '),
        actual: null,
      });
    } else if (!sameVersions(want.versions, have.versions) && !allowed(policy, have)) {
      out.push({
        kind: 'package-changed',
        subject: want.name,
        arch: want.arch,
        expected: want.versions.join(', '),
        actual: have.versions.join(', '),
      });
    }
  }
  for (const [key, have] of actual) {
    if (expected.has(key) || policy.isIgnored('packages', have.name)) continue;
    out.push({
      kind: 'package-added',
      subject: have.name,
      arch: have.arch,
      expected: null,
      actual: have.versions.join(', '),
    });
  }
}

function serviceState(s: { status: string; startType: string }): string {
  return s.startType ? `${s.status}/${s.startType}` : s.status;
}

function diffServices(
  expected: ReadonlyMap<string, { name: string; status: string; startType: string }>,
  actual: ReadonlyMap<string, { name: string; status: string; startType: string }>,
  policy: CompiledPolicy,
  out: RawFinding[],
): void {
  for (const [name, want] of expected) {
    if (policy.isIgnored('services', name)) continue;
    const have = actual.get(name);
    if (!have) {
      out.push({ kind: 'service-removed', subject: name, expected: serviceState(want), actual: null });
      continue;
    }
    const startDiffers = want.startType !== '' && have.startType !== want.startType;
    if (have.status !== want.status || startDiffers) {
      out.push({
        kind: 'service-changed',
        subject: name,
        expected: serviceState(want),
        actual: serviceState(have),
      });
    }
  }
  for (const [name, have] of actual) {
    if (expected.has(name) || policy.isIgnored('services', name)) continue;
    out.push({ kind: 'service-added', subject: name, expected: null, actual: serviceState(have) });
  }
}

function diffFiles(
  expected: ReadonlyMap<string, string>,
  actual: ReadonlyMap<string, string>,
  policy: CompiledPolicy,
  out: RawFinding[],
): void {
  for (const [path, want] of expected) {
    if (policy.isIgnored('files', path)) continue;
    const have = actual.get(path);
    if (have === undefined) out.push({ kind: 'file-removed', subject: path, expected: want, actual: null });
    else if (have !== want) out.push({ kind: 'file-changed', subject: path, expected: want, actual: have });
  }
  for (const [path, have] of actual) {
    if (expected.has(path) || policy.isIgnored('files', path)) continue;
    out.push({ kind: 'file-added', subject: path, expected: null, actual: have });
  }
}

function platformText(p: { name: string; version: string }): string {
  return `${p.name} ${p.version}`.trim();
}

function unknown(
  input: InstanceAuditInput,
  reason: UnknownReason,
  detail: string,
  captureTime?: string | undefined,
): InstanceAudit {
  const { instance } = input;
  return {
    result: {
      instanceId: instance.instanceId,
      amiId: instance.amiId ?? null,
      asgName: instance.asgName,
      status: 'unknown',
      reason,
      detail,
      captureTime: captureTime ?? null,
      findings: 0,
    },
    findings: [],
    waived: [],
  };
}

function formatAge(ms: number): string {
  const hours = ms / 3_600_000;
  return hours >= 48 ? `${Math.floor(hours / 24)}d` : `${Math.floor(hours)}h`;
}

/** Audits one instance against the manifest of its AMI. */
export function auditInstance(input: InstanceAuditInput, ctx: AuditContext): InstanceAudit {
  const { instance, snapshot, manifest } = input;
  const raw: RawFinding[] = [];
  if (input.groupAmiId && instance.amiId && input.groupAmiId !== instance.amiId) {
    raw.push({ kind: 'ami-outdated', subject: 'ami', expected: input.groupAmiId, actual: instance.amiId });
  }

  let partial: string | undefined;
  let unknownReason: [UnknownReason, string] | undefined;
  let waiverRules: readonly WaiverRule[] = ctx.policy.waivers;

  if (!snapshot) {
    unknownReason = ['unmanaged', 'running, but SSM has no inventory for it'];
  } else if (manifest.status === 'missing') {
    unknownReason = ['manifest-missing', manifest.detail];
  } else if (manifest.status === 'invalid') {
    unknownReason = ['manifest-invalid', manifest.detail];
  } else {
    const captured = snapshot.captureTime === undefined ? Number.NaN : Date.parse(snapshot.captureTime);
    const age = ctx.now.getTime() - captured;
    if (Number.isNaN(captured)) {
      unknownReason = ['inventory-stale', 'inventory capture time is unknown'];
    } else if (age > ctx.policy.staleAfterMs) {
      unknownReason = [
        'inventory-stale',
        `inventory is ${formatAge(age)} old (limit ${formatAge(ctx.policy.staleAfterMs)}), captured ${snapshot.captureTime}`,
      ];
    } else {
      const index = manifest.index;
      const missing: string[] = [];
      if (snapshot.packages) diffPackages(index.packages, snapshot.packages, ctx.policy, raw);
      else missing.push('no AWS:Application (packages)');
      if (index.services) {
        if (snapshot.services) diffServices(index.services, snapshot.services, ctx.policy, raw);
        else missing.push('no service inventory');
      }
      if (index.files) {
        if (snapshot.files) diffFiles(index.files, snapshot.files, ctx.policy, raw);
        else missing.push('no Custom:DriftwatchFiles (file hashes)');
      }
      const wantKernel = index.manifest.kernel;
      if (wantKernel !== undefined) {
        if (snapshot.kernel === undefined) missing.push('no Custom:DriftwatchKernel');
        else if (snapshot.kernel !== wantKernel) {
          raw.push({
            kind: 'kernel-changed',
            subject: 'kernel',
            expected: wantKernel,
            actual: snapshot.kernel,
          });
        }
      }
      const wantPlatform = index.manifest.platform;
      if (snapshot.platform && platformText(snapshot.platform) !== platformText(wantPlatform)) {
        raw.push({
          kind: 'platform-changed',
          subject: 'platform',
          expected: platformText(wantPlatform),
          actual: platformText(snapshot.platform),
        });
      }
      missing.push(...snapshot.problems);
      if (missing.length > 0) partial = missing.join('; ');
      waiverRules = [
        ...ctx.policy.waivers,
        ...index.manifest.waivers.map((w) =>
          compileWaiver({ ...w.match, reason: w.reason }, expiryMs(w.expires), 'manifest'),
        ),
      ];
    }
  }

  const findings: Finding[] = [];
  const waived: WaivedFinding[] = [];
  const nowMs = ctx.now.getTime();
  for (const f of raw) {
    const base = {
      instanceId: instance.instanceId,
      asgName: instance.asgName,
      amiId: instance.amiId ?? null,
    };
    const finding: Finding = {
      ...base,
      kind: f.kind,
      subject: f.subject,
      ...(f.arch !== undefined ? { arch: f.arch } : {}),
      expected: f.expected,
      actual: f.actual,
      severity: ctx.policy.severityOf({ kind: f.kind, subject: f.subject, asgName: instance.asgName }),
      fingerprint: fingerprint(instance.instanceId, f),
    };
    const waiver = waiverRules.find((w) => w.expiresAt > nowMs && w.matches(finding));
    if (waiver) {
      waived.push({
        ...finding,
        waiver: {
          reason: waiver.reason,
          expires: new Date(waiver.expiresAt).toISOString(),
          source: waiver.source,
        },
      });
    } else {
      findings.push(finding);
    }
  }
  findings.sort(compareFindings);

  if (findings.length === 0 && unknownReason) {
    return { ...unknown(input, unknownReason[0], unknownReason[1], snapshot?.captureTime), waived };
  }
  if (findings.length === 0 && partial !== undefined) {
    return { ...unknown(input, 'inventory-partial', partial, snapshot?.captureTime), waived };
  }
  const notes = [
    unknownReason?.[1],
    partial ? `inventory partial: ${partial}` : undefined,
    waived.length ? `${waived.length} waived` : undefined,
  ].filter((n): n is string => n !== undefined);
  const drifted = findings.length > 0;
  return {
    result: {
      instanceId: instance.instanceId,
      amiId: instance.amiId ?? null,
      asgName: instance.asgName,
      status: drifted ? 'drifted' : 'compliant',
      reason: drifted
        ? summarizeKinds(findings)
        : `matches ${manifest.status === 'found' ? manifest.index.manifest.amiId : 'manifest'}`,
      ...(notes.length ? { detail: notes.join('; ') } : {}),
      captureTime: snapshot?.captureTime ?? null,
      findings: findings.length,
    },
    findings,
    waived,
  };
}

function summarizeKinds(findings: readonly Finding[]): string {
  const counts = new Map<string, number>();
  for (const f of findings) counts.set(f.kind, (counts.get(f.kind) ?? 0) + 1);
  return [...counts].map(([kind, n]) => `${n} ${kind}`).join(', ');
}

/** Audits a whole fleet held in memory. Streaming callers feed `ReportBuilder` instead. */
export function auditFleet(inputs: Iterable<InstanceAuditInput>, ctx: AuditContext): InstanceAudit[] {
  const out: InstanceAudit[] = [];
  for (const input of inputs) out.push(auditInstance(input, ctx));
  return out;
}

export { compareFindings, packageKey };
