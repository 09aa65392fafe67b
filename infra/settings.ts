/**
 * Deployment settings from cdk.json context (or `cdk deploy -c driftwatch:<name>=<value>`), validated
 * with zod so a typo fails the synth with a clear message instead of deploying defaults.
 */
import { Duration } from 'aws-cdk-lib';
import { z } from 'zod';
import type { DriftAuditorProps } from './constructs/drift-auditor.ts';

const booleanish = z.union([z.boolean(), z.enum(['true', 'false']).transform((v) => v === 'true')]);
const scheduleExpression = z
  .string()
  .regex(
    /^(rate\(\d+ (minute|minutes|hour|hours|day|days)\)|cron\(.+\)|at\(.+\))$/,
    'expected rate(...), cron(...) or at(...)',
  );

export const SettingsSchema = z.strictObject({
  schedule: scheduleExpression.optional(),
  targetTagKey: z.string().min(1).max(128).optional(),
  targetTagValue: z.string().min(1).max(256).optional(),
  remediationMode: z.enum(['notify', 'refresh', 'dry-run']).optional(),
  remediationTag: z
    .string()
    .regex(/^[^=]{1,128}(=.{1,256})?$/, 'expected key=value or key')
    .optional(),
  slackWorkspaceId: z
    .string()
    .regex(/^[A-Z0-9]{9,11}$/, 'expected a Slack workspace id such as T0123ABCD')
    .optional(),
  slackChannelId: z
    .string()
    .regex(/^[A-Z0-9]{9,11}$/, 'expected a Slack channel id such as C0123ABCD')
    .optional(),
  alertEmail: z.email().optional(),
  reportRetentionDays: z.coerce.number().int().min(1).max(3650).optional(),
  gatherSoftwareInventory: booleanish.optional(),
  inventorySource: z.enum(['sync', 'ssm']).optional(),
  account: z
    .string()
    .regex(/^\d{12}$/)
    .optional(),
  region: z
    .string()
    .regex(/^[a-z]{2}(-gov)?-[a-z]+-\d$/)
    .optional(),
});

export type Settings = z.output<typeof SettingsSchema>;

export class SettingsError extends Error {
  override readonly name = 'SettingsError';
}

/** Reads `driftwatch:<name>` context keys; anything else in the context is not ours. */
export function settingsFromContext(context: Record<string, unknown>): Settings {
  const raw: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(context)) {
    if (key.startsWith('driftwatch:')) raw[key.slice('driftwatch:'.length)] = value;
  }
  const parsed = SettingsSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map(
      (i) => `driftwatch:${i.path.join('.') || '(settings)'}: ${i.message}`,
    );
    throw new SettingsError(`invalid driftwatch settings in cdk.json context:\n  ${problems.join('\n  ')}`);
  }
  const s = parsed.data;
  if ((s.slackWorkspaceId === undefined) !== (s.slackChannelId === undefined)) {
    throw new SettingsError(
      'invalid driftwatch settings: set both driftwatch:slackWorkspaceId and driftwatch:slackChannelId, or neither',
    );
  }
  return s;
}

export function auditorProps(s: Settings): DriftAuditorProps {
  return {
    ...(s.schedule ? { schedule: s.schedule } : {}),
    ...(s.targetTagKey ? { targetTag: { key: s.targetTagKey, values: [s.targetTagValue ?? 'true'] } } : {}),
    ...(s.remediationMode ? { remediationMode: s.remediationMode } : {}),
    ...(s.remediationTag ? { remediationTag: s.remediationTag } : {}),
    ...(s.slackWorkspaceId && s.slackChannelId
      ? { slack: { workspaceId: s.slackWorkspaceId, channelId: s.slackChannelId } }
      : {}),
    ...(s.alertEmail ? { alertEmail: s.alertEmail } : {}),
    ...(s.reportRetentionDays ? { reportRetention: Duration.days(s.reportRetentionDays) } : {}),
    ...(s.gatherSoftwareInventory !== undefined
      ? { gatherSoftwareInventory: s.gatherSoftwareInventory }
      : {}),
    ...(s.inventorySource ? { inventorySource: s.inventorySource } : {}),
  };
}
