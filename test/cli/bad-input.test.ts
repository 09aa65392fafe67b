/**
 * Bad input, as a user meets it: exit 2 and one to four lines on standard error that name the file,
 * the field and what is wrong. Never a stack trace, never a raw zod issue dump, never the parser's
 * quote of the file.
 */
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { type Fleet, writeFleet } from '../helpers/fleet.ts';
import { expectBadInput, runCli } from '../helpers/run-cli.ts';
import {
  al2023Instance,
  CAPTURE_TIME,
  goldenManifest,
  IDS,
  NOW,
  syncObjectPath,
  tempDir,
  writeAt,
  writeSyncTree,
} from '../helpers/sync-tree.ts';

let fleet: Fleet;
let dir: string;
beforeAll(async () => {
  fleet = await writeFleet();
  dir = await tempDir();
});

/** `audit` of the test fleet with one input replaced. */
function audit(
  replace: Partial<Record<'--inventory' | '--instances' | '--manifest', string>>,
  ...extra: string[]
) {
  const args = [...fleet.args];
  for (const [flag, value] of Object.entries(replace)) args[args.indexOf(flag) + 1] = value;
  return runCli([...args, ...extra]);
}

const file = (name: string, content: unknown) => writeAt(join(dir, name), content);

describe('bad input files', () => {
  it('a truncated inventory file', async () => {
    const path = await file('truncated.json', '{"Entities":[{"Id":"i-0a1b2c3d4e5f60718","Data":{"AWS:Applic');

    expectBadInput(await audit({ '--inventory': path }), [
      path,
      /not complete JSON \(truncated\?\)/,
      'line 1',
    ]);
  });

  it('an empty inventory file', async () => {
    const path = await file('empty.json', '');

    expectBadInput(await audit({ '--inventory': path }), [path, 'is empty']);
  });

  it('an inventory file of the wrong shape', async () => {
    const path = await file('not-inventory.json', { InstanceInformationList: [] });

    expectBadInput(await audit({ '--inventory': path }), [
      path,
      'not an inventory file',
      'Entities',
      'Entries',
    ]);
  });

  it('an inventory file with a trailing comma, without quoting the file back', async () => {
    const path = await file('comma.json', '{\n  "Entities": [\n    {"Id": "i-0a1b2c3d4e5f60718"},\n  ]\n}\n');

    const result = await audit({ '--inventory': path });

    expectBadInput(result, [path, 'line 4, column 3']);
    expect(result.stderr.trimEnd().split('\n')).toHaveLength(1);
  });

  it('an inventory path that does not exist', async () => {
    const path = join(dir, 'no-such-dir');

    expectBadInput(await audit({ '--inventory': path }), [path, 'does not exist']);
  });

  it('a describe-instances file of the wrong shape', async () => {
    const path = await file('instances-flat.json', [[{ InstanceId: IDS.al2023 }]]);

    expectBadInput(await audit({ '--instances': path }), [path, '(top level)', 'expected object']);
  });

  it('a describe-instances file missing Reservations', async () => {
    const path = await file('instances-empty.json', { NextToken: 'x' });

    expectBadInput(await audit({ '--instances': path }), [path, 'Reservations: is missing']);
  });

  it('a describe-instances file that does not exist', async () => {
    const path = join(dir, 'missing-instances.json');

    expectBadInput(await audit({ '--instances': path }), [path, 'does not exist']);
  });

  it('a manifest failing its schema', async () => {
    const manifests = join(dir, 'bad-manifests');
    const broken = {
      ...goldenManifest(),
      packages: [{ name: 'bash', arch: 'x86_64', release: '1.amzn2023' }],
    };
    const path = await writeAt(join(manifests, `${IDS.al2023Ami}.json`), broken);

    expectBadInput(await audit({ '--manifest': manifests }), [path, 'packages[0].version', 'missing']);
  });

  it('a manifest with many problems lists a few, within four lines', async () => {
    const path = await file('many.json', { schemaVersion: 2, amiId: 'web', packages: 'all', extra: 1 });

    expectBadInput(await audit({ '--manifest': path }), [path, 'schemaVersion', '... and']);
  });

  it('a manifest that is truncated', async () => {
    const path = await file(
      'truncated-manifest.json',
      JSON.stringify(goldenManifest(), null, 2).slice(0, 200),
    );

    expectBadInput(await audit({ '--manifest': path }), [path, /truncated.*line \d+, column \d+/]);
  });

  it('a policy with a YAML syntax error names the line and column', async () => {
    const path = await file('syntax.yaml', 'ignore:\n  packages: [htop\nseverity:\n  default: high\n');

    expectBadInput(await audit({}, '--policy', path), [path, /line \d+, column \d+: YAML error/]);
  });

  it('a policy with an unknown key', async () => {
    const path = await file('unknown-key.yaml', 'staleAfter: 24h\nstaleafter: 12h\n');

    expectBadInput(await audit({}, '--policy', path), [path, 'staleafter: unknown key']);
  });

  it('a policy with a bad allow constraint names the package', async () => {
    const path = await file('allow.yaml', 'allow:\n  openssl-libs: ">== 1:3.0.8-1.amzn2023.0.14"\n');

    expectBadInput(await audit({}, '--policy', path), [path, 'allow.openssl-libs', '>==']);
  });

  it('a policy with a JSON syntax error', async () => {
    const path = await file('policy.json', '{"staleAfter": "24h",}');

    expectBadInput(await audit({}, '--policy', path), [path, 'line 1, column 22']);
  });

  it('a policy with a bad value', async () => {
    const path = await file('severity.yaml', 'severity:\n  default: urgent\n');

    expectBadInput(await audit({}, '--policy', path), [path, 'severity.default', 'critical']);
  });

  it('a sync object with a broken line names the line', async () => {
    const inventory = await tempDir();
    await writeSyncTree(inventory, al2023Instance(IDS.al2023));
    const path = syncObjectPath(inventory, { typeName: 'AWS:Application', instanceId: IDS.al2023 });
    const good = JSON.stringify({ name: 'bash', version: '5.2.15', release: '1', captureTime: CAPTURE_TIME });
    await writeAt(path, `${good}\n${good}\n${good.slice(0, 30)}\n${good}\n`);

    expectBadInput(await audit({ '--inventory': inventory }), [path, 'line 3']);
  });

  it('a file saved as UTF-16 says so', async () => {
    const text = JSON.stringify({ Reservations: [] });
    const path = await file(
      'utf16.json',
      Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]),
    );

    expectBadInput(await audit({ '--instances': path }), [path, 'UTF-16']);
  });

  it('a file with a UTF-8 byte-order mark is read', async () => {
    const path = await file('bom.json', `\ufeff${JSON.stringify({ Reservations: [] })}`);

    const result = await audit({ '--instances': path });

    expect(result.code).toBe(0);
  });
});

describe('bad usage', () => {
  it.each([
    ['an unknown flag', ['--colour'], ["Unknown option '--colour'", 'audit --help']],
    ['a bad --fail-on', ['--fail-on', 'severe'], ['--fail-on', 'severe', 'critical']],
    ['a bad --format', ['--format', 'xml'], ['--format', 'xml', 'markdown']],
    ['a --now that is not a time', ['--now', 'yesterday'], ['--now', 'yesterday']],
    ['a --now that is not a date', ['--now', '2026-02-30T00:00:00Z'], ['--now', '2026-02-30']],
    ['a --now without a time zone', ['--now', '2026-11-27T12:00:00'], ['--now']],
    ['a positional argument', ['extra'], ['extra']],
  ])('%s', async (_name, extra, mentions) => {
    expectBadInput(await audit({}, ...extra), mentions);
  });

  it('a missing --manifest', async () => {
    const result = await runCli(['audit', '--inventory', fleet.inventory, '--now', NOW]);

    expectBadInput(result, ['--manifest is required']);
  });

  it('a flag without its value', async () => {
    const result = await runCli(['audit', '--inventory', fleet.inventory, '--manifest']);

    expectBadInput(result, ['--manifest']);
  });

  it('an unknown command', async () => {
    expectBadInput(await runCli(['audti']), ["unknown command 'audti'", '--help']);
  });

  it('capture of an instance not in the file', async () => {
    const result = await runCli([
      'capture',
      '--inventory',
      fleet.inventory,
      '--instance',
      'i-0123456789abcdef0',
      '--ami',
      IDS.al2023Ami,
    ]);

    expectBadInput(result, [fleet.inventory, 'i-0123456789abcdef0']);
  });

  it('an --out that cannot be written', async () => {
    const out = join(dir, 'no-such-dir', 'report.json');

    const result = await audit({}, '--out', out);

    expect(result.code).toBe(2);
    expect(result.stderr).toContain(out);
    expect(result.stderr).toContain('directory does not exist');
    expect(result.stderr).not.toContain('.tmp');
  });
});
