/**
 * `driftwatch snapshot --live`: freezes the live fleet's inventory into a driftwatch snapshot
 * (`{"Entities":[{"Id","Data":{...}}]}`, the SSM result-entity shape with full content) that
 * `driftwatch audit --inventory` reads offline, plus optionally the fleet as describe-instances output.
 * Written entity by entity: memory follows one instance.
 */

import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import type { Writable } from 'node:stream';
import { createAwsClients } from '../shared/adapters/aws-clients.ts';
import { Ec2FleetSource } from '../shared/adapters/ec2-fleet.ts';
import { inventorySource } from '../shared/app/live-deps.ts';
import type { FleetInstance } from '../shared/domain/diff.ts';
import { isGone } from '../shared/domain/inventory.ts';
import { InputError } from '../shared/errors.ts';

export interface SnapshotOptions {
  readonly region?: string | undefined;
  readonly asgNames?: readonly string[] | undefined;
  readonly inventory?: { bucket: string; prefix: string } | undefined;
  readonly out?: string | undefined;
  readonly instancesOut?: string | undefined;
  readonly env: NodeJS.ProcessEnv;
  readonly stdout: NodeJS.WritableStream;
  readonly onInstance?: (n: number) => void;
}

async function write(stream: NodeJS.WritableStream, text: string): Promise<void> {
  if (!stream.write(text)) await once(stream as Writable, 'drain');
}

/** Writes to `path` through a temporary file renamed at the end, or to stdout. */
async function withOutput(
  path: string | undefined,
  stdout: NodeJS.WritableStream,
  body: (stream: NodeJS.WritableStream) => Promise<void>,
): Promise<void> {
  if (!path) return body(stdout);
  const tmp = `${path}.${process.pid}.tmp`;
  const stream = createWriteStream(tmp);
  try {
    await body(stream);
    stream.end();
    await once(stream, 'finish');
    await rename(tmp, path);
  } catch (error) {
    stream.destroy();
    await rm(tmp, { force: true });
    if (
      error instanceof Error &&
      'code' in error &&
      typeof error.code === 'string' &&
      error.code.startsWith('E')
    ) {
      throw new InputError(path, undefined, `cannot be written: ${error.message}`, { cause: error });
    }
    throw error;
  }
}

/** describe-instances output for the running fleet, enough for `audit --instances`. */
export function describeInstancesDocument(instances: readonly FleetInstance[]): unknown {
  return {
    Reservations: [
      {
        Instances: instances.map((i) => ({
          InstanceId: i.instanceId,
          ImageId: i.amiId,
          ...(i.launchTime ? { LaunchTime: i.launchTime } : {}),
          State: { Code: 16, Name: 'running' },
          Tags: i.asgName ? [{ Key: 'aws:autoscaling:groupName', Value: i.asgName }] : [],
        })),
      },
    ],
  };
}

export async function snapshotLive(
  options: SnapshotOptions,
): Promise<{ instances: number; running: number }> {
  const clients = createAwsClients({ region: options.region, env: options.env });
  const fleet = new Ec2FleetSource(clients.ec2, clients.autoScaling);
  const running = await fleet.instances(
    options.asgNames?.length ? { asgNames: options.asgNames } : undefined,
  );
  const source = inventorySource(
    clients,
    options.inventory ? { kind: 'sync', ...options.inventory } : { kind: 'ssm' },
  );
  let count = 0;
  await withOutput(options.out, options.stdout, async (stream) => {
    await write(stream, '{"Entities":[');
    if (running.length > 0) {
      const filter = { instanceIds: new Set(running.map((i) => i.instanceId)), keepRaw: true };
      for await (const snapshot of source.snapshots(filter)) {
        if (isGone(snapshot) || !snapshot.raw) continue;
        const entity = { Id: snapshot.instanceId, Data: Object.fromEntries(snapshot.raw) };
        await write(stream, `${count === 0 ? '\n' : ',\n'}${JSON.stringify(entity)}`);
        count++;
        options.onInstance?.(count);
      }
    }
    await write(stream, '\n]}\n');
  });
  if (options.instancesOut) {
    await withOutput(options.instancesOut, options.stdout, (stream) =>
      write(stream, `${JSON.stringify(describeInstancesDocument(running), null, 2)}\n`),
    );
  }
  return { instances: count, running: running.length };
}
