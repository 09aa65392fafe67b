/**
 * npm run bench [-- --instances 2000 --small 500 --repeat 3 --packages 900]
 *
 * For a fleet of N instances x ~900 packages, as a Resource Data Sync tree and as snapshot pages of
 * 50 instances, measures in fresh processes:
 *   - the floor: reading every file and JSON.parse of it, nothing else;
 *   - the audit: `driftwatch audit --format json` over the same files;
 *   - peak RSS of the audit at the small fleet and at N.
 * Goals: audit <= 1.5x the floor; peak RSS at N <= 1.3x that at the small fleet.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { generateFleet } from './generate.ts';

const { values } = parseArgs({
  options: {
    instances: { type: 'string', default: '2000' },
    small: { type: 'string', default: '500' },
    packages: { type: 'string', default: '900' },
    repeat: { type: 'string', default: '3' },
    dir: { type: 'string', default: '.bench' },
  },
});
const big = Number(values.instances);
const small = Number(values.small);
const repeat = Number(values.repeat);

interface Sample {
  ms: number;
  maxRssMb: number;
  instances: number;
}

function run(mode: 'floor' | 'audit', layout: 'sync' | 'pages', dir: string): Sample {
  const child = spawnSync(process.execPath, ['--import', 'tsx', 'bench/child.ts', mode, layout, dir], {
    encoding: 'utf8',
    maxBuffer: 1 << 20,
  });
  if (child.status !== 0) throw new Error(`${mode} ${layout} failed: ${child.stderr}`);
  return JSON.parse(child.stdout.trim().split('\n').at(-1) as string) as Sample;
}

function median(samples: Sample[], key: 'ms' | 'maxRssMb'): number {
  const sorted = samples.map((s) => s[key]).sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

function measure(mode: 'floor' | 'audit', layout: 'sync' | 'pages', dir: string) {
  const samples = Array.from({ length: repeat }, () => run(mode, layout, dir));
  return {
    ms: median(samples, 'ms'),
    rss: median(samples, 'maxRssMb'),
    instances: samples[0]?.instances ?? 0,
  };
}

process.stderr.write(
  `generating ${big} and ${small} instances x ${values.packages} packages in ${values.dir}/ ...\n`,
);
const fleetBig = generateFleet(join(values.dir, `fleet-${big}`), big, Number(values.packages));
const fleetSmall = generateFleet(join(values.dir, `fleet-${small}`), small, Number(values.packages));

const rows: string[] = [];
let ok = true;
for (const layout of ['sync', 'pages'] as const) {
  process.stderr.write(`measuring ${layout} ...\n`);
  const floor = measure('floor', layout, fleetBig.dir);
  const audit = measure('audit', layout, fleetBig.dir);
  const auditSmall = measure('audit', layout, fleetSmall.dir);
  if (audit.instances !== big || auditSmall.instances !== small)
    throw new Error(`${layout}: wrong instance count`);
  const ratio = audit.ms / floor.ms;
  const rssRatio = audit.rss / auditSmall.rss;
  ok &&= ratio <= 1.5 && rssRatio <= 1.3;
  rows.push(
    `| ${layout === 'sync' ? 'Resource Data Sync tree' : 'snapshot pages (50/page)'} | ${floor.ms} ms | ${audit.ms} ms | ${ratio.toFixed(2)}x | ${auditSmall.rss} MiB | ${audit.rss} MiB | ${rssRatio.toFixed(2)}x |`,
  );
}
const header = [
  `Fleet: ${big} instances x ${values.packages} packages (5% drifted); median of ${repeat} runs; node ${process.version}.`,
  '',
  `| input | floor (read + JSON.parse) | audit | audit / floor | peak RSS @ ${small} | peak RSS @ ${big} | RSS ratio |`,
  '| --- | --- | --- | --- | --- | --- | --- |',
];
process.stdout.write(
  `${[...header, ...rows].join('\n')}\n\ngoals (audit <= 1.5x floor, RSS ratio <= 1.3x): ${ok ? 'met' : 'NOT met'}\n`,
);
