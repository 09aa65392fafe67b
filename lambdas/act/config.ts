/** The act function's settings, from its environment, validated once per cold start. */
import { z } from 'zod';
import { ConfigError } from '../audit/config.ts';

export const ActConfigSchema = z.object({
  DRIFTWATCH_BUCKET: z.string().min(3, 'the bucket holding reports and the policy is required'),
  DRIFTWATCH_TOPIC_ARN: z
    .string()
    .regex(/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]+$/, 'expected an SNS topic ARN'),
  DRIFTWATCH_STATE_TABLE: z.string().min(3, 'the DynamoDB alert-state table is required'),
  DRIFTWATCH_REPORT_PREFIX: z.string().default('reports/'),
  DRIFTWATCH_POLICY_KEY: z.string().min(1).default('config/policy.yaml'),
  /** Set by the stack (context `remediationMode`): overrides the policy's remediation.mode. */
  DRIFTWATCH_REMEDIATION_MODE: z.enum(['notify', 'refresh', 'dry-run']).optional(),
  /** Set by the stack: the opt-in tag its IAM policy allows refreshes on; overrides the policy's requireTag. */
  DRIFTWATCH_REMEDIATION_TAG: z.string().min(1).optional(),
});

export type ActConfig = z.output<typeof ActConfigSchema>;

export function loadActConfig(env: NodeJS.ProcessEnv): ActConfig {
  const parsed = ActConfigSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new ConfigError(`invalid driftwatch act configuration: ${problems}`, { cause: parsed.error });
  }
  return parsed.data;
}
