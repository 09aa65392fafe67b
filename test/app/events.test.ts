import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { triggerFromEvent } from '../../shared/app/events.ts';
import { FIXTURES } from '../helpers/sync-tree.ts';

const config = {
  bucket: 'driftwatch-111122223333-eu-west-1',
  inventoryPrefix: 'inventory/',
  manifestPrefix: 'manifests/',
};
const event = (name: string) =>
  JSON.parse(readFileSync(join(FIXTURES, '..', 'events', name), 'utf8')) as unknown;

describe('triggerFromEvent', () => {
  it('audits the one instance whose inventory object arrived in the sync, and says where its objects are', () => {
    const trigger = triggerFromEvent(event('s3-object-created-inventory.json'), config);
    expect(trigger).toMatchObject({
      kind: 'inventory-arrived',
      scope: { instanceIds: ['i-0abb4671ac6c1e300'] },
    });
    expect('scope' in trigger && trigger.scope?.locations?.get('i-0abb4671ac6c1e300')).toEqual({
      accountId: '111122223333',
      region: 'eu-west-1',
    });
  });

  it('decodes the URL-encoded key of a classic S3 notification', () => {
    expect(triggerFromEvent(event('s3-notification-inventory.json'), config)).toMatchObject({
      kind: 'inventory-arrived',
      scope: { instanceIds: ['i-0abb4671ac6c1e300'] },
    });
  });

  it('audits the instances of an AMI whose manifest was uploaded', () => {
    expect(triggerFromEvent(event('s3-object-created-manifest.json'), config)).toEqual({
      kind: 'manifest-changed',
      scope: { amiId: 'ami-0a1b2c3d4e5f60718' },
      key: 'manifests/ami-0a1b2c3d4e5f60718.json',
    });
  });

  it('audits an instance that entered running, and ignores other state changes', () => {
    const running = event('ec2-instance-running.json') as { detail: Record<string, string> };
    expect(triggerFromEvent(running, config)).toEqual({
      kind: 'instance-running',
      scope: { instanceIds: ['i-0abb4671ac6c1e300'] },
    });
    running.detail.state = 'stopping';
    expect(triggerFromEvent(running, config).kind).toBe('ignored');
  });

  it('audits the whole fleet on a schedule, or the groups the schedule names', () => {
    expect(triggerFromEvent(event('scheduler-payload.json'), config)).toEqual({ kind: 'scheduled' });
    expect(triggerFromEvent({ kind: 'scheduled', asgNames: ['web'] }, config)).toEqual({
      kind: 'scheduled',
      scope: { asgNames: ['web'] },
    });
    expect(
      triggerFromEvent({ source: 'aws.events', 'detail-type': 'Scheduled Event', detail: {} }, config).kind,
    ).toBe('scheduled');
  });

  it('ignores objects of other buckets and prefixes, and unknown events, saying why', () => {
    const other = event('s3-object-created-inventory.json') as { detail: { bucket: { name: string } } };
    other.detail.bucket.name = 'someone-else';
    expect(triggerFromEvent(other, config)).toMatchObject({
      kind: 'ignored',
      reason: expect.stringContaining('someone-else'),
    });
    const report = event('s3-object-created-manifest.json') as { detail: { object: { key: string } } };
    report.detail.object.key = 'reports/2026/11/27/run.json';
    expect(triggerFromEvent(report, config).kind).toBe('ignored');
    expect(triggerFromEvent({ hello: 'world' }, config).kind).toBe('ignored');
    expect(triggerFromEvent(null, config).kind).toBe('ignored');
  });
});
