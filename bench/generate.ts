/**
 * Generates a benchmark fleet: N instances x ~900 packages on one AL2023-like AMI, written both as a
 * Resource Data Sync tree and as snapshot pages of 50 instances, plus describe-instances output and
 * the golden manifest. Deterministic (seeded), so runs are comparable.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const BENCH_AMI = 'ami-0be0c0ffee0000001';
const ACCOUNT = '111122223333';
const REGION = 'eu-west-1';
const CAPTURE = '2026-11-27T10:00:00Z';

function prng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Pkg {
  name: string;
  epoch: string;
  version: string;
  release: string;
  arch: string;
}

function goldenPackages(count: number): Pkg[] {
  const rand = prng(42);
  const stems = [
    'lib',
    'python3-',
    'perl-',
    'glib',
    'systemd-',
    'kernel-',
    'xz-',
    'nss-',
    'gnupg2-',
    'util-linux-',
  ];
  return Array.from({ length: count }, (_, i) => ({
    name: `${stems[i % stems.length]}pkg${i}`,
    epoch: i % 17 === 0 ? String(1 + (i % 3)) : '',
    version: `${1 + Math.floor(rand() * 9)}.${Math.floor(rand() * 40)}.${Math.floor(rand() * 20)}`,
    release: `${1 + Math.floor(rand() * 5)}.amzn2023.0.${Math.floor(rand() * 15)}`,
    arch: i % 11 === 0 ? 'noarch' : 'x86_64',
  }));
}

export function benchInstanceId(i: number): string {
  return `i-0${i.toString(16).padStart(16, '0')}`;
}

const goldenCache = new Map<number, Pkg[]>();

/** The AWS:Application entries of bench instance `i` (the golden list, or its drifted variant). */
export function appEntries(i: number, packagesPerInstance: number, id = benchInstanceId(i)) {
  let golden = goldenCache.get(packagesPerInstance);
  if (!golden) {
    golden = goldenPackages(packagesPerInstance);
    goldenCache.set(packagesPerInstance, golden);
  }
  return packagesOf(golden, i).map((p) => appEntry(p, id));
}

function appEntry(p: Pkg, id: string) {
  return {
    name: p.name,
    applicationType: 'System Environment/Libraries',
    publisher: 'Amazon Linux',
    version: p.version,
    release: p.release,
    epoch: p.epoch,
    installedTime: '2026-10-10T21:03:11Z',
    architecture: p.arch,
    url: `https://example.invalid/${p.name}`,
    summary: `The ${p.name} package, as summarised by its spec file`,
    packageId: `${p.name}-${p.version}-${p.release}.src.rpm`,
    resourceId: id,
    captureTime: CAPTURE,
    schemaVersion: '1.1',
  };
}

/** Instance i's packages: every 20th instance drifts (one package patched, one added). */
function packagesOf(golden: Pkg[], i: number): Pkg[] {
  if (i % 20 !== 7) return golden;
  const out = golden.slice();
  const at = (i * 31) % out.length;
  const p = out[at] as Pkg;
  out[at] = { ...p, release: `${p.release}.hotfix` };
  out.push({ name: 'htop', epoch: '', version: '3.2.1', release: '1.amzn2023.0.1', arch: 'x86_64' });
  return out;
}

export interface BenchFleet {
  dir: string;
  sync: string;
  pages: string;
  instances: string;
  manifest: string;
}

export function generateFleet(dir: string, count: number, packagesPerInstance = 900): BenchFleet {
  rmSync(dir, { recursive: true, force: true });
  const sync = join(dir, 'sync');
  const pages = join(dir, 'pages');
  const appDir = join(
    sync,
    'AWS:Application',
    `accountid=${ACCOUNT}`,
    `region=${REGION}`,
    'resourcetype=ManagedInstanceInventory',
  );
  const infoDir = join(
    sync,
    'AWS:InstanceInformation',
    `accountid=${ACCOUNT}`,
    `region=${REGION}`,
    'resourcetype=ManagedInstanceInventory',
  );
  mkdirSync(appDir, { recursive: true });
  mkdirSync(infoDir, { recursive: true });
  mkdirSync(pages, { recursive: true });

  const golden = goldenPackages(packagesPerInstance);
  const info = (id: string) => ({
    agentType: 'amazon-ssm-agent',
    agentVersion: '3.3.987.0',
    computerName: `ip-10-0-${id.slice(-4, -2)}.eu-west-1.compute.internal`,
    instanceStatus: 'Active',
    ipAddress: '10.0.1.10',
    platformName: 'Amazon Linux',
    platformType: 'Linux',
    platformVersion: '2023',
    resourceType: 'EC2Instance',
    instanceId: id,
    resourceId: id,
    captureTime: CAPTURE,
    schemaVersion: '1.0',
  });

  let page: unknown[] = [];
  let pageNo = 0;
  const flush = () => {
    if (page.length === 0) return;
    pageNo++;
    writeFileSync(
      join(pages, `page-${String(pageNo).padStart(3, '0')}.json`),
      JSON.stringify({ Entities: page }),
    );
    page = [];
  };
  const reservations: unknown[] = [];
  for (let i = 0; i < count; i++) {
    const id = benchInstanceId(i);
    const entries = appEntries(i, packagesPerInstance, id);
    writeFileSync(join(appDir, `${id}.json`), `${entries.map((e) => JSON.stringify(e)).join('\n')}\n`);
    writeFileSync(join(infoDir, `${id}.json`), `${JSON.stringify(info(id))}\n`);
    page.push({
      Id: id,
      Data: {
        'AWS:Application': {
          TypeName: 'AWS:Application',
          SchemaVersion: '1.1',
          CaptureTime: CAPTURE,
          Content: entries,
        },
        'AWS:InstanceInformation': {
          TypeName: 'AWS:InstanceInformation',
          SchemaVersion: '1.0',
          CaptureTime: CAPTURE,
          Content: [info(id)],
        },
      },
    });
    if (page.length === 50) flush();
    reservations.push({
      ReservationId: `r-0${i.toString(16).padStart(16, '0')}`,
      OwnerId: ACCOUNT,
      Instances: [
        {
          InstanceId: id,
          ImageId: BENCH_AMI,
          InstanceType: 'm7g.large',
          LaunchTime: '2026-11-20T08:00:00+00:00',
          State: { Code: 16, Name: 'running' },
          Tags: [{ Key: 'aws:autoscaling:groupName', Value: `asg-${i % 8}` }],
        },
      ],
    });
  }
  flush();
  const instances = join(dir, 'instances.json');
  writeFileSync(instances, JSON.stringify({ Reservations: reservations }));
  const manifest = join(dir, `${BENCH_AMI}.json`);
  writeFileSync(
    manifest,
    JSON.stringify({
      schemaVersion: 1,
      amiId: BENCH_AMI,
      name: 'bench golden',
      platform: { name: 'Amazon Linux', version: '2023', type: 'Linux' },
      capturedAt: '2026-11-01T00:00:00Z',
      packages: golden.map((p) => ({
        name: p.name,
        arch: p.arch,
        format: 'rpm',
        ...(p.epoch ? { epoch: p.epoch } : {}),
        version: p.version,
        release: p.release,
      })),
    }),
  );
  return { dir, sync, pages, instances, manifest };
}
