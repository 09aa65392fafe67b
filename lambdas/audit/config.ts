/** The audit function's settings, from its environment, validated once per cold start. */
import { z } from 'zod';

const prefix = z
  .string()
  .regex(/^([^/].*\/)?$/, 'expected a key prefix ending in "/" (or empty), without a leading "/"');

export const AuditConfigSchema = z.object({
  DRIFTWATCH_BUCKET: z.string().min(3, 'the bucket for manifests, inventory and reports is required'),
  /** `sync`: a Resource Data Sync in the bucket (scales); `ssm`: the SSM API (small fleets). */
  DRIFTWATCH_INVENTORY: z.enum(['sync', 'ssm']).default('sync'),
  DRIFTWATCH_INVENTORY_PREFIX: prefix.default('inventory/'),
  DRIFTWATCH_MANIFEST_PREFIX: prefix.default('manifests/'),
  DRIFTWATCH_REPORT_PREFIX: prefix.default('reports/'),
  DRIFTWATCH_POLICY_KEY: z.string().min(1).default('config/policy.yaml'),
});

export type AuditConfig = z.output<typeof AuditConfigSchema>;

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

export function loadAuditConfig(env: NodeJS.ProcessEnv): AuditConfig {
  const parsed = AuditConfigSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new ConfigError(`invalid driftwatch audit configuration: ${problems}`, { cause: parsed.error });
  }
  return parsed.data;
}
