/**
 * One benchmark measurement in a fresh process (so peak RSS belongs to that job alone).
 * Usage: node --import tsx bench/child.ts <floor|audit> <sync|pages> <fleet-dir>
 * Prints one JSON line: { ms, maxRssMb, instances }.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { main } from '../cli/main.ts';

const [mode, layout, dir] = process.argv.slice(2);
if (!mode || !layout || !dir) throw new Error('usage: child.ts <floor|audit> <sync|pages> <fleet-dir>');

function walk(path: string): string[] {
  return readdirSync(path, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(join(path, e.name)) : e.name.endsWith('.json') ? [join(path, e.name)] : [],
  );
}

/** The floor: read every file of the inventory and JSON.parse it (line by line for the sync's NDJSON). */
function floor(): number {
  let count = 0;
  if (layout === 'sync') {
    for (const file of walk(join(dir as string, 'sync'))) {
      const text = readFileSync(file, 'utf8');
      for (const line of text.split('\n')) if (line) JSON.parse(line);
      if (file.includes('AWS:Application')) count++;
    }
  } else {
    for (const file of walk(join(dir as string, 'pages')).sort()) {
      count += (JSON.parse(readFileSync(file, 'utf8')) as { Entities: unknown[] }).Entities.length;
    }
  }
  return count;
}

async function audit(): Promise<number> {
  const sink = { write: () => true, isTTY: false } as unknown as NodeJS.WritableStream;
  const out = join(dir as string, `report-${layout}.json`);
  const manifest = readdirSync(dir as string).find((n) => n.startsWith('ami-')) as string;
  const code = await main(
    [
      'audit',
      '--inventory',
      join(dir as string, layout as string),
      '--instances',
      join(dir as string, 'instances.json'),
      '--manifest',
      join(dir as string, manifest),
      '--now',
      '2026-11-27T12:00:00Z',
      '--format',
      'json',
      '--out',
      out,
      '--quiet',
      '--fail-on',
      'none',
    ],
    { stdout: sink, stderr: sink, env: {}, clock: () => new Date() },
  );
  if (code !== 0) throw new Error(`audit exited ${code}`);
  return (JSON.parse(readFileSync(out, 'utf8')) as { summary: { instances: number } }).summary.instances;
}

const started = performance.now();
const instances = mode === 'floor' ? floor() : await audit();
const ms = performance.now() - started;
const maxRssMb = process.resourceUsage().maxRSS / 1024;
process.stdout.write(
  `${JSON.stringify({ ms: Math.round(ms), maxRssMb: Math.round(maxRssMb), instances })}\n`,
);
