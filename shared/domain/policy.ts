/**
 * Policy: what counts as drift and how much it matters. YAML or JSON, every field optional.
 * Validated with zod (strict: a misspelt key is an error, not a silently ignored setting), then
 * compiled into matchers once per run.
 */
import picomatch from 'picomatch';
import { z } from 'zod';
import { InvalidConstraintError, parseConstraint } from './versions.ts';

export const SEVERITIES = ['low', 'medium', 'high', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

export const FINDING_KINDS = [
  'package-added',
  'package-removed',
  'package-changed',
  'service-added',
  'service-removed',
  'service-changed',
  'file-added',
  'file-removed',
  'file-changed',
  'kernel-changed',
  'platform-changed',
  'ami-outdated',
] as const;
export type FindingKind = (typeof FINDING_KINDS)[number];

export function severityRank(severity: Severity): number {
  return SEVERITIES.indexOf(severity);
}

const DURATION = /^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/;

/** Parses `24h`, `7d`, `1h30m`, `90s` (or a number of seconds) into milliseconds. */
export function parseDuration(text: string | number): number | undefined {
  if (typeof text === 'number') return Number.isFinite(text) && text >= 0 ? text * 1000 : undefined;
  const match = DURATION.exec(text.trim());
  if (!match || text.trim() === '') return undefined;
  const [, d, h, m, s] = match;
  return ((Number(d ?? 0) * 24 + Number(h ?? 0)) * 60 + Number(m ?? 0)) * 60_000 + Number(s ?? 0) * 1000;
}

const duration = z.union([z.string(), z.number()]).transform((value, ctx) => {
  const ms = parseDuration(value);
  if (ms === undefined) {
    ctx.addIssue({ code: 'custom', message: `'${value}' is not a duration (use e.g. 30m, 24h, 7d)` });
    return z.NEVER;
  }
  return ms;
});

const glob = z.string().min(1);
const severity = z.enum(SEVERITIES);
/** When a waiver stops hiding drift: a date (`2026-12-31`) lasts through that day, UTC. NaN if invalid. */
export function expiryMs(text: string): number {
  return /^\d{4}-\d{2}-\d{2}$/.test(text) ? Date.parse(`${text}T00:00:00Z`) + 86_400_000 : Date.parse(text);
}

const expiry = z.union([z.string(), z.date()]).transform((value, ctx) => {
  const text = value instanceof Date ? value.toISOString() : value;
  const ms = expiryMs(text);
  if (Number.isNaN(ms)) {
    ctx.addIssue({ code: 'custom', message: `'${text}' is not a date (use YYYY-MM-DD or ISO-8601)` });
    return z.NEVER;
  }
  return ms;
});

const constraintText = z.string().superRefine((value, ctx) => {
  try {
    parseConstraint(value);
  } catch (error) {
    const message = error instanceof InvalidConstraintError ? error.message : String(error);
    ctx.addIssue({ code: 'custom', message });
  }
});

/**
 * `allow` maps package-name globs to version constraints. Validated as entries so that a key such
 * as `__proto__` stays data.
 */
const AllowSchema = z.preprocess(
  (value) =>
    typeof value === 'object' && value !== null && !Array.isArray(value) ? Object.entries(value) : value,
  z.array(z.tuple([glob, constraintText]), { error: 'expected a map of package name -> version constraint' }),
);

const WaiverSchema = z.strictObject({
  kind: glob.optional(),
  subject: glob.optional(),
  asg: glob.optional(),
  instance: glob.optional(),
  reason: z.string().min(1, 'a waiver needs a reason'),
  expires: expiry,
});

export const RemediationSchema = z.strictObject({
  mode: z.enum(['notify', 'refresh', 'dry-run']).default('notify'),
  minSeverity: severity.default('high'),
  requireTag: z.string().min(1).default('driftwatch:remediate=true'),
  maxDriftedFraction: z.number().min(0).max(1).default(0.5),
  maxRefreshesPerDay: z.number().int().min(0).default(1),
  remindAfter: duration.prefault('24h'),
  refresh: z
    .strictObject({
      minHealthyPercentage: z.number().int().min(0).max(100).default(90),
      autoRollback: z.boolean().default(true),
      checkpointPercentages: z.array(z.number().int().min(1).max(100)).optional(),
      instanceWarmup: z.number().int().min(0).optional(),
    })
    .prefault({}),
});

export const PolicySchema = z.strictObject({
  staleAfter: duration.prefault('24h'),
  ignore: z
    .strictObject({
      packages: z.array(glob).default([]),
      files: z.array(glob).default([]),
      services: z.array(glob).default([]),
    })
    .prefault({}),
  allow: AllowSchema.default([]),
  severity: z
    .strictObject({
      default: severity.default('medium'),
      rules: z
        .array(
          z.strictObject({
            kind: glob.optional(),
            subject: glob.optional(),
            asg: glob.optional(),
            severity,
          }),
        )
        .default([]),
    })
    .prefault({}),
  waivers: z.array(WaiverSchema).default([]),
  remediation: RemediationSchema.prefault({}),
});

export type PolicyInput = z.input<typeof PolicySchema>;
export type Policy = z.output<typeof PolicySchema>;

type Matcher = (text: string) => boolean;
const MATCH_ALL: Matcher = () => true;

function matcher(pattern: string | undefined): Matcher {
  if (pattern === undefined) return MATCH_ALL;
  return picomatch(pattern, { dot: true, nocase: false });
}

function anyOf(patterns: readonly string[]): Matcher | undefined {
  if (patterns.length === 0) return undefined;
  return picomatch([...patterns], { dot: true });
}

export interface WaiverRule {
  readonly reason: string;
  readonly expiresAt: number;
  readonly source: 'policy' | 'manifest';
  matches(finding: { kind: string; subject: string; asgName: string | null; instanceId: string }): boolean;
}

/** A policy ready to apply: globs compiled once. */
export interface CompiledPolicy {
  readonly policy: Policy;
  readonly staleAfterMs: number;
  isIgnored(family: 'packages' | 'files' | 'services', subject: string): boolean;
  /** Constraints that apply to a package name, in policy order. */
  allowFor(name: string): readonly string[];
  severityOf(finding: { kind: string; subject: string; asgName: string | null }): Severity;
  readonly waivers: readonly WaiverRule[];
}

export function compileWaiver(
  waiver: { kind?: string; subject?: string; asg?: string; instance?: string; reason: string },
  expiresAt: number,
  source: 'policy' | 'manifest',
): WaiverRule {
  const kind = matcher(waiver.kind);
  const subject = matcher(waiver.subject);
  const asg = matcher(waiver.asg);
  const instance = matcher(waiver.instance);
  return {
    reason: waiver.reason,
    expiresAt,
    source,
    matches: (f) => kind(f.kind) && subject(f.subject) && instance(f.instanceId) && asg(f.asgName ?? ''),
  };
}

export function compilePolicy(policy: Policy): CompiledPolicy {
  const ignored = {
    packages: anyOf(policy.ignore.packages),
    files: anyOf(policy.ignore.files),
    services: anyOf(policy.ignore.services),
  };
  const allow = policy.allow.map(([pattern, constraint]) => ({ match: matcher(pattern), constraint }));
  const rules = policy.severity.rules.map((rule) => ({
    kind: matcher(rule.kind),
    subject: matcher(rule.subject),
    asg: matcher(rule.asg),
    severity: rule.severity,
  }));
  return {
    policy,
    staleAfterMs: policy.staleAfter,
    isIgnored: (family, subject) => ignored[family]?.(subject) ?? false,
    allowFor: (name) => allow.filter((a) => a.match(name)).map((a) => a.constraint),
    severityOf: (f) =>
      rules.find((r) => r.kind(f.kind) && r.subject(f.subject) && r.asg(f.asgName ?? ''))?.severity ??
      policy.severity.default,
    waivers: policy.waivers.map((w) => compileWaiver(w, w.expires, 'policy')),
  };
}

/** The policy used when none is given: defaults for every field. */
export function defaultPolicy(): CompiledPolicy {
  return compilePolicy(PolicySchema.parse({}));
}

/**
 * The deployed stack pins what its IAM allows: the opt-in tag (the only groups it may refresh) and,
 * when set, the remediation mode. Those win over the policy file.
 */
export function withRemediationOverrides(
  compiled: CompiledPolicy,
  overrides: { mode?: Policy['remediation']['mode'] | undefined; requireTag?: string | undefined },
): CompiledPolicy {
  if (overrides.mode === undefined && overrides.requireTag === undefined) return compiled;
  const remediation = {
    ...compiled.policy.remediation,
    ...(overrides.mode ? { mode: overrides.mode } : {}),
    ...(overrides.requireTag ? { requireTag: overrides.requireTag } : {}),
  };
  return compilePolicy({ ...compiled.policy, remediation });
}
