/**
 * npm run bench:live [-- --instances 2000 --small 500 --packages 900]
 *
 * The two live inventory paths, each in a fresh process, at a small fleet and at N instances:
 *   - Resource Data Sync in S3, served by moto_server on 127.0.0.1 (real HTTP and SDK);
 *   - SSM API, answered by a stand-in client in documented shapes (moto has no SSM inventory).
 * Reports wall time, peak RSS and AWS calls per instance.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mapLimit } from '../shared/adapters/aws-clients.ts';
import { type BenchFleet, generateFleet } from './generate.ts';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
const { values } = parseArgs({
  options: {
    instances: { type: 'string', default: '2000' },
    small: { type: 'string', default: '500' },
    packages: { type: 'string', default: '900' },
    dir: { type: 'string', default: '.bench' },
  },
});
const sizes = [Number(values.small), Number(values.instances)];
const packages = Number(values.packages);

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

function walk(path: string): string[] {
  return readdirSync(path, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(join(path, e.name)) : [join(path, e.name)],
  );
}

async function startMoto(): Promise<{ endpoint: string; child: ChildProcess }> {
  const port = await freePort();
  const child = spawn('moto_server', ['-H', '127.0.0.1', '-p', String(port)], { stdio: 'ignore' });
  const endpoint = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 300; i++) {
    try {
      if ((await fetch(`${endpoint}/moto-api/`)).ok) return { endpoint, child };
    } catch {
      // starting
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('moto_server did not start');
}

interface Sample {
  ms: number;
  maxRssMb: number;
  instances: number;
  apiCalls: Record<string, number>;
}

function child(args: string[]): Sample {
  const run = spawnSync(process.execPath, ['--import', 'tsx', 'bench/live-child.ts', ...args], {
    encoding: 'utf8',
    env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    maxBuffer: 1 << 20,
  });
  if (run.status !== 0) throw new Error(`live-child ${args.join(' ')} failed: ${run.stderr}`);
  return JSON.parse(run.stdout.trim().split('\n').at(-1) as string) as Sample;
}

const fleets: BenchFleet[] = sizes.map((n) => {
  process.stderr.write(`generating ${n} instances x ${packages} packages ...\n`);
  return generateFleet(join(values.dir, `live-${n}`), n, packages);
});

const { endpoint, child: moto } = await startMoto();
try {
  const s3 = new S3Client({
    region: 'eu-west-1',
    endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId: 'x', secretAccessKey: 'y' },
  });
  await s3.send(
    new CreateBucketCommand({
      Bucket: 'bench-sync',
      CreateBucketConfiguration: { LocationConstraint: 'eu-west-1' },
    }),
  );
  for (const fleet of fleets) {
    const files = walk(fleet.sync);
    process.stderr.write(`uploading ${files.length} sync objects to moto ...\n`);
    await mapLimit(files, 16, async (file) => {
      const key = `${relative(join(fleet.dir, '..'), file)}`.replace(/\\/g, '/');
      await s3.send(new PutObjectCommand({ Bucket: 'bench-sync', Key: key, Body: readFileSync(file) }));
    });
  }

  const rows: string[] = [];
  for (const path of ['sync', 'ssm'] as const) {
    for (const [i, n] of sizes.entries()) {
      const fleet = fleets[i] as BenchFleet;
      process.stderr.write(`measuring ${path} at ${n} instances ...\n`);
      const prefix = `${relative(join(fleet.dir, '..'), fleet.sync)}/`;
      const sample = child([
        path,
        String(n),
        String(packages),
        endpoint,
        'bench-sync',
        prefix,
        fleet.manifest,
      ]);
      if (sample.instances !== n) throw new Error(`${path}: audited ${sample.instances} of ${n}`);
      const perInstance = Object.entries(sample.apiCalls)
        .map(([op, calls]) => `${op} ${(calls / n).toFixed(calls / n < 0.1 ? 3 : 2)}`)
        .join(', ');
      rows.push(
        `| ${path === 'sync' ? 'Resource Data Sync (S3, moto)' : 'SSM API (stand-in client)'} | ${n} | ${sample.ms} ms | ${sample.maxRssMb} MiB | ${perInstance} |`,
      );
    }
  }
  process.stdout.write(
    [
      `Live paths, ${packages} packages per instance, 2 inventory types per instance on the sync path; node ${process.version}.`,
      '',
      '| inventory path | instances | wall time | peak RSS | AWS calls per instance |',
      '| --- | --- | --- | --- | --- |',
      ...rows,
      '',
    ].join('\n'),
  );
} finally {
  moto.kill('SIGTERM');
}
