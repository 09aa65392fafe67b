/**
 * What an incoming event asks the audit to do. Pure: event JSON in, scope out.
 *
 * - a schedule (EventBridge Scheduler's payload, or a classic "Scheduled Event"): the whole fleet,
 *   or the groups the payload names;
 * - S3 "Object Created" under the Resource Data Sync prefix: the one instance whose inventory just
 *   arrived (SSM emits no "new inventory" event; this is it);
 * - S3 "Object Created" under the manifest prefix: the instances launched from that AMI;
 * - an EC2 instance entering `running`, or an SSM association state change for an instance: that
 *   instance.
 * Both EventBridge events and classic S3 notifications (`Records[].s3`) are understood.
 */
import type { AuditScope } from '../ports.ts';

export interface EventConfig {
  readonly bucket: string;
  /** Where the Resource Data Sync writes, e.g. `inventory/`. */
  readonly inventoryPrefix: string;
  /** Where golden manifests live, e.g. `manifests/`. */
  readonly manifestPrefix: string;
}

export type AuditTrigger =
  | { readonly kind: 'scheduled'; readonly scope?: AuditScope }
  | { readonly kind: 'inventory-arrived'; readonly scope: AuditScope; readonly key: string }
  | { readonly kind: 'manifest-changed'; readonly scope: AuditScope; readonly key: string }
  | { readonly kind: 'instance-running'; readonly scope: AuditScope }
  | { readonly kind: 'association-changed'; readonly scope: AuditScope }
  | { readonly kind: 'ignored'; readonly reason: string };

const INSTANCE_ID = /^(i|mi)-[0-9a-f]{8,17}$/;
const AMI_ID = /^ami-[0-9a-f]{8,17}$/;
const SYNC_OBJECT =
  /\/accountid=([^/]+)\/region=([^/]+)\/resourcetype=[^/]+\/((?:i|mi)-[0-9a-f]{8,17})\.json$/;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** S3 keys in notifications are URL-encoded (`AWS%3AApplication`, `+` for spaces). */
function decodeKey(key: string): string {
  try {
    return decodeURIComponent(key.replace(/\+/g, ' '));
  } catch {
    return key;
  }
}

function fromObjectKey(
  bucket: string | undefined,
  rawKey: string,
  config: EventConfig,
  encoded: boolean,
): AuditTrigger {
  const key = encoded ? decodeKey(rawKey) : rawKey;
  if (bucket !== config.bucket)
    return { kind: 'ignored', reason: `object in bucket ${bucket}, not ${config.bucket}` };
  if (key.startsWith(config.inventoryPrefix)) {
    const match = SYNC_OBJECT.exec(key);
    if (!match) return { kind: 'ignored', reason: `not a Resource Data Sync object: ${key}` };
    const [, accountId, region, instanceId] = match as unknown as [string, string, string, string];
    const locations = new Map([[instanceId, { accountId, region }]]);
    return { kind: 'inventory-arrived', scope: { instanceIds: [instanceId], locations }, key };
  }
  if (key.startsWith(config.manifestPrefix)) {
    const amiId = key.slice(config.manifestPrefix.length).replace(/\.json$/, '');
    if (!AMI_ID.test(amiId) || !key.endsWith('.json'))
      return { kind: 'ignored', reason: `not a manifest key: ${key}` };
    return { kind: 'manifest-changed', scope: { amiId }, key };
  }
  return { kind: 'ignored', reason: `object outside the inventory and manifest prefixes: ${key}` };
}

function scheduledScope(payload: Record<string, unknown>): AuditScope | undefined {
  const names = payload.asgNames;
  if (Array.isArray(names) && names.every((n) => typeof n === 'string') && names.length > 0) {
    return { asgNames: names as string[] };
  }
  return undefined;
}

export function triggerFromEvent(event: unknown, config: EventConfig): AuditTrigger {
  if (!isObject(event)) return { kind: 'ignored', reason: 'event is not an object' };

  // Classic S3 notification (S3 -> Lambda directly).
  if (Array.isArray(event.Records)) {
    const record = event.Records[0];
    const s3 = isObject(record) && isObject(record.s3) ? record.s3 : undefined;
    const bucket = s3 && isObject(s3.bucket) ? str(s3.bucket.name) : undefined;
    const key = s3 && isObject(s3.object) ? str(s3.object.key) : undefined;
    if (key === undefined) return { kind: 'ignored', reason: 'Records without an S3 object' };
    return fromObjectKey(bucket, key, config, true);
  }

  const source = str(event.source);
  const detailType = str(event['detail-type']);
  const detail = isObject(event.detail) ? event.detail : {};

  if (source === 'aws.s3' && detailType === 'Object Created') {
    const bucket = isObject(detail.bucket) ? str(detail.bucket.name) : undefined;
    const key = isObject(detail.object) ? str(detail.object.key) : undefined;
    if (key === undefined) return { kind: 'ignored', reason: 'Object Created event without a key' };
    return fromObjectKey(bucket, key, config, false);
  }
  if (source === 'aws.ec2' && detailType === 'EC2 Instance State-change Notification') {
    const instanceId = str(detail['instance-id']);
    if (str(detail.state) !== 'running')
      return { kind: 'ignored', reason: `instance state ${str(detail.state)}` };
    if (!instanceId || !INSTANCE_ID.test(instanceId)) return { kind: 'ignored', reason: 'no instance id' };
    return { kind: 'instance-running', scope: { instanceIds: [instanceId] } };
  }
  if (source === 'aws.ssm' && /Association State Change/.test(detailType ?? '')) {
    const instanceId = str(detail['instance-id']) ?? str(detail.InstanceId);
    if (!instanceId || !INSTANCE_ID.test(instanceId))
      return { kind: 'ignored', reason: 'association event without an instance' };
    return { kind: 'association-changed', scope: { instanceIds: [instanceId] } };
  }
  if ((source === 'aws.events' || source === 'aws.scheduler') && detailType === 'Scheduled Event') {
    return { kind: 'scheduled' };
  }
  // EventBridge Scheduler delivers the schedule's own input: { "kind": "scheduled", "asgNames": [...] }.
  if (event.kind === 'scheduled') {
    const scope = scheduledScope(event);
    return scope ? { kind: 'scheduled', scope } : { kind: 'scheduled' };
  }
  return {
    kind: 'ignored',
    reason: `unrecognised event (source ${source ?? 'none'}, detail-type ${detailType ?? 'none'})`,
  };
}

/** The report an act invocation should act on: a new object under the report prefix, or `{ reportKey }`. */
export function reportKeyFromEvent(
  event: unknown,
  config: { readonly bucket: string; readonly reportPrefix: string },
): { key: string } | { ignored: string } {
  if (!isObject(event)) return { ignored: 'event is not an object' };
  if (typeof event.reportKey === 'string') {
    return event.reportKey.startsWith(config.reportPrefix)
      ? { key: event.reportKey }
      : { ignored: 'reportKey outside the report prefix' };
  }
  let bucket: string | undefined;
  let key: string | undefined;
  if (Array.isArray(event.Records)) {
    const record = event.Records[0];
    const s3 = isObject(record) && isObject(record.s3) ? record.s3 : undefined;
    bucket = s3 && isObject(s3.bucket) ? str(s3.bucket.name) : undefined;
    const raw = s3 && isObject(s3.object) ? str(s3.object.key) : undefined;
    key = raw === undefined ? undefined : decodeKey(raw);
  } else if (
    event.source === 'aws.s3' &&
    event['detail-type'] === 'Object Created' &&
    isObject(event.detail)
  ) {
    bucket = isObject(event.detail.bucket) ? str(event.detail.bucket.name) : undefined;
    key = isObject(event.detail.object) ? str(event.detail.object.key) : undefined;
  }
  if (key === undefined) return { ignored: 'not a report event' };
  if (bucket !== config.bucket) return { ignored: `object in bucket ${bucket}, not ${config.bucket}` };
  if (!key.startsWith(config.reportPrefix) || !key.endsWith('.json'))
    return { ignored: `not a report: ${key}` };
  return { key };
}
