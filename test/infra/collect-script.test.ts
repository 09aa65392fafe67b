/**
 * The custom inventory collector script, run for real: what it writes must be valid SSM custom
 * inventory, and SnapshotBuilder must read it back as the files, services and kernel it describes.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InventoryTypes, SnapshotBuilder } from '../../shared/domain/inventory.ts';

const SCRIPT = join(import.meta.dirname, '..', '..', 'infra', 'ssm', 'collect-custom-inventory.sh');
const INSTANCE = 'i-0123456789abcdef0';
const CAPTURED = '2026-11-27T10:00:00Z';
/** A file name with everything JSON must escape: a quote, a backslash, a newline, a tab, a control byte. */
const WEIRD_NAME = 'we"ird\\name\nwith\tcontrol\u0001.conf';

/** The shells the script must run under: bash always, dash (Debian's /bin/sh) when installed. */
const SHELLS = ['bash', 'dash'].flatMap((name) => {
  const path = which(name);
  return path ? [{ name, path }] : [];
});

function which(command: string): string | undefined {
  const found = spawnSync('sh', ['-c', `command -v ${command}`], { encoding: 'utf8' });
  const path = found.stdout.trim();
  return found.status === 0 && path.startsWith('/') ? path : undefined;
}

/** A `systemctl` stand-in: sshd runs and is enabled, crond is stopped and disabled, the rest unknown. */
const FAKE_SYSTEMCTL = `#!/bin/sh
[ "$2" = -- ] && unit=$3 || unit=$2
case $1 in
  is-active)
    case $unit in
      sshd.service) echo active; exit 0 ;;
      crond.service) echo inactive; exit 3 ;;
      chronyd.service) echo failed; exit 3 ;;
      *) echo inactive; exit 3 ;;
    esac ;;
  is-enabled)
    case $unit in
      sshd.service|chronyd.service) echo enabled; exit 0 ;;
      crond.service) echo disabled; exit 1 ;;
      *) echo "Failed to get unit file state for $unit: No such file or directory" >&2; exit 1 ;;
    esac ;;
  list-unit-files)
    printf '%s\\n' 'sshd.service enabled enabled' 'getty@.service enabled enabled' 'chronyd.service enabled disabled'
    exit 0 ;;
esac
exit 1
`;

interface InventoryFile {
  SchemaVersion: string;
  TypeName: string;
  Content: Record<string, string>[];
}

let dir: string;
let files: string;
let out: string;
let bin: string;
let work: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'driftwatch-collect-'));
  files = join(dir, 'files');
  out = join(dir, 'inventory', 'custom');
  bin = join(dir, 'bin');
  work = join(dir, 'tmp');
  for (const d of [files, bin, work]) mkdirSync(d, { recursive: true });
  writeFileSync(join(bin, 'systemctl'), FAKE_SYSTEMCTL);
  chmodSync(join(bin, 'systemctl'), 0o755);
  writeFileSync(join(files, 'sshd_config'), 'PermitRootLogin no\nPasswordAuthentication no\n');
  writeFileSync(join(files, WEIRD_NAME), 'weird but valid\n');
  writeFileSync(join(files, 'with space.conf'), 'spaced\n');
  writeFileSync(join(files, 'café.conf'), 'unicode\n');
  writeFileSync(join(files, 'empty.conf'), '');
  chmodSync(join(files, 'sshd_config'), 0o600);
  mkdirSync(join(files, 'a-directory.d'));
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function sha256(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

function run(shell: string, env: Record<string, string | undefined>, args: string[] = []) {
  const base: Record<string, string> = {
    PATH: `${bin}:${process.env.PATH ?? '/usr/bin:/bin'}`,
    TMPDIR: work,
    DRIFTWATCH_INVENTORY_DIR: out,
    DRIFTWATCH_INSTANCE_ID: INSTANCE,
  };
  const merged: Record<string, string> = {};
  for (const [key, value] of Object.entries({ ...base, ...env }))
    if (value !== undefined) merged[key] = value;
  return spawnSync(shell, [SCRIPT, ...args], { env: merged, encoding: 'utf8', timeout: 20_000 });
}

function readType(name: string): InventoryFile {
  const raw = readFileSync(join(out, `${name}.json`));
  // Valid UTF-8 (SSM refuses anything else), then valid JSON.
  const text = new TextDecoder('utf-8', { fatal: true }).decode(raw);
  return JSON.parse(text) as InventoryFile;
}

function expectShape(file: InventoryFile, typeName: string): void {
  expect(Object.keys(file).sort()).toEqual(['Content', 'SchemaVersion', 'TypeName']);
  expect(file.SchemaVersion).toBe('1.0');
  expect(file.TypeName).toBe(typeName);
  expect(Array.isArray(file.Content)).toBe(true);
  for (const entry of file.Content) {
    expect(Object.keys(entry).length).toBeLessThanOrEqual(50);
    for (const value of Object.values(entry)) {
      expect(typeof value).toBe('string');
      expect(value.length).toBeLessThanOrEqual(4096);
    }
  }
}

/** Feeds every written type to SnapshotBuilder, as the SSM sources do with uploaded inventory. */
function snapshotOf(...typeNames: string[]) {
  const builder = new SnapshotBuilder(INSTANCE);
  for (const typeName of typeNames) {
    const file = readType(typeName.replace(/^Custom:/, ''));
    expectShape(file, typeName);
    builder.addType(file.TypeName, CAPTURED, file.Content);
  }
  return builder.build();
}

/** A PATH holding only what the script needs, and no systemctl (nor curl: no IMDS from tests). */
function bareBin(): string {
  const bare = join(dir, 'bare-bin');
  if (existsSync(bare)) return bare;
  mkdirSync(bare);
  for (const tool of [
    'cat',
    'chmod',
    'iconv',
    'mkdir',
    'mktemp',
    'mv',
    'rm',
    'sed',
    'sha256sum',
    'stat',
    'uname',
  ]) {
    const path = which(tool);
    if (path) symlinkSync(path, join(bare, tool));
  }
  return bare;
}

const kernelRelease = () => execFileSync('uname', ['-r'], { encoding: 'utf8' }).trim();

describe.each(SHELLS)('collect-custom-inventory.sh under $name', ({ path: shell }) => {
  it('writes the three types, and SnapshotBuilder reads back the right hashes, services and kernel', () => {
    const result = run(shell, {
      // Space- and newline-separated; one glob; one missing file; sshd_config twice.
      DRIFTWATCH_FILES: `${files}/sshd_config ${join(dir, 'missing.conf')}\n${files}/*\n${files}/sshd_config`,
      DRIFTWATCH_SERVICES: 'sshd crond.service\nnot-installed',
    });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(result.stdout).toContain(out);

    expect(readdirSync(out).sort()).toEqual([
      'DriftwatchFiles.json',
      'DriftwatchKernel.json',
      'DriftwatchServices.json',
    ]);
    expect(readdirSync(work)).toEqual([]); // no temporary file left behind

    const snapshot = snapshotOf(InventoryTypes.files, InventoryTypes.services, InventoryTypes.kernel);
    expect(snapshot.problems).toEqual([]);
    const expectedFiles = ['sshd_config', WEIRD_NAME, 'with space.conf', 'café.conf', 'empty.conf'].map(
      (name) => join(files, name),
    );
    expect(new Map(snapshot.files)).toEqual(new Map(expectedFiles.map((path) => [path, sha256(path)])));
    expect(snapshot.files?.get(join(files, 'empty.conf'))).toBe(createHash('sha256').digest('hex'));
    expect(snapshot.kernel).toBe(kernelRelease());
    expect([...(snapshot.services?.values() ?? [])]).toEqual([
      { name: 'sshd.service', status: 'running', startType: 'enabled' },
      { name: 'crond.service', status: 'stopped', startType: 'disabled' },
      { name: 'not-installed.service', status: 'stopped', startType: 'unknown' },
    ]);
    expect(snapshot.types.get(InventoryTypes.files)).toBe(CAPTURED);
  });

  it('reports each file once, with size, octal mode and owner', () => {
    const result = run(shell, { DRIFTWATCH_FILES: `${files}/sshd_config ${files}/sshd_config` });
    expect(result.status).toBe(0);
    const content = readType('DriftwatchFiles').Content;
    expect(content).toEqual([
      {
        Path: join(files, 'sshd_config'),
        Sha256: sha256(join(files, 'sshd_config')),
        Size: String(readFileSync(join(files, 'sshd_config')).length),
        Mode: '0600',
        Owner: execFileSync('id', ['-un'], { encoding: 'utf8' }).trim(),
      },
    ]);
  });

  it('takes arguments as whole paths or globs (spaces included) and lists enabled services by default', () => {
    const result = run(shell, { DRIFTWATCH_FILES: `${files}/sshd_config` }, [
      join(files, 'with space.conf'),
      join(files, 'we*'),
      join(files, 'no match *'),
    ]);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    const snapshot = snapshotOf(InventoryTypes.files, InventoryTypes.services, InventoryTypes.kernel);
    expect(snapshot.problems).toEqual([]);
    // Arguments win over DRIFTWATCH_FILES.
    expect([...(snapshot.files?.keys() ?? [])]).toEqual([
      join(files, 'with space.conf'),
      join(files, WEIRD_NAME),
    ]);
    // Every enabled unit, templates (getty@.service) left out.
    expect([...(snapshot.services?.values() ?? [])]).toEqual([
      { name: 'sshd.service', status: 'running', startType: 'enabled' },
      { name: 'chronyd.service', status: 'failed', startType: 'enabled' },
    ]);
  });

  it('writes an empty file list when nothing is watched, and replaces the previous files atomically', () => {
    mkdirSync(out, { recursive: true });
    writeFileSync(join(out, 'DriftwatchFiles.json'), '{"stale": true}');
    const result = run(shell, { DRIFTWATCH_SERVICES: '' });
    expect(result.status).toBe(0);
    const snapshot = snapshotOf(InventoryTypes.files, InventoryTypes.services);
    expect(snapshot.files).toEqual(new Map());
    expect(snapshot.services).toEqual(new Map());
    expect(readdirSync(out).filter((name) => !name.endsWith('.json'))).toEqual([]);
  });

  it('leaves out a path that is not UTF-8 instead of writing invalid JSON', () => {
    const latin1 = Buffer.concat([Buffer.from(`${files}/caf`), Buffer.from([0xe9]), Buffer.from('.conf')]);
    writeFileSync(latin1, 'latin-1 name\n');
    const result = run(shell, { DRIFTWATCH_FILES: `${files}/caf*.conf` });
    expect(result.status).toBe(0);
    expect(result.stderr).toMatch(/not valid UTF-8/);
    const snapshot = snapshotOf(InventoryTypes.files);
    expect([...(snapshot.files?.keys() ?? [])]).toEqual([join(files, 'café.conf')]);
  });

  describe('without systemctl', () => {
    it('reports the configured services with Status and StartType unknown', () => {
      const result = run(shell, {
        PATH: bareBin(),
        DRIFTWATCH_FILES: `${files}/sshd_config`,
        DRIFTWATCH_SERVICES: 'sshd.service',
      });
      expect(result.status).toBe(0);
      expect(result.stderr).toMatch(/systemctl not found/);
      const snapshot = snapshotOf(InventoryTypes.files, InventoryTypes.services, InventoryTypes.kernel);
      expect(snapshot.problems).toEqual([]);
      expect([...(snapshot.services?.values() ?? [])]).toEqual([
        { name: 'sshd.service', status: 'unknown', startType: 'unknown' },
      ]);
      expect(snapshot.files?.get(join(files, 'sshd_config'))).toBe(sha256(join(files, 'sshd_config')));
      expect(snapshot.kernel).toBe(kernelRelease());
    });

    it('writes no services type at all when none is configured (an empty one would read as all removed)', () => {
      const result = run(shell, { PATH: bareBin(), DRIFTWATCH_FILES: `${files}/sshd_config` });
      expect(result.status).toBe(0);
      expect(result.stderr).toMatch(/Custom:DriftwatchServices not written/);
      expect(existsSync(join(out, 'DriftwatchServices.json'))).toBe(false);
      expect(existsSync(join(out, 'DriftwatchFiles.json'))).toBe(true);
      expect(existsSync(join(out, 'DriftwatchKernel.json'))).toBe(true);
    });

    it('fails clearly when the instance id cannot be found', () => {
      const result = run(shell, {
        PATH: bareBin(),
        DRIFTWATCH_INSTANCE_ID: undefined,
        AWS_SSM_INSTANCE_ID: undefined,
      });
      expect(result.status).not.toBe(0);
      expect(result.stderr).toMatch(/cannot find the instance id/);
      expect(existsSync(out)).toBe(false);
    });
  });

  it("takes the SSM agent's AWS_SSM_INSTANCE_ID before asking IMDS", () => {
    const env = { DRIFTWATCH_INSTANCE_ID: undefined, DRIFTWATCH_SERVICES: '' };
    // Valid: no IMDS call is needed (the bare PATH has no curl or wget to make one).
    expect(run(shell, { ...env, AWS_SSM_INSTANCE_ID: 'mi-0123456789abcdef0', PATH: bareBin() }).status).toBe(
      0,
    );
    // Invalid: refused, which shows it was the id used.
    const refused = run(shell, { ...env, AWS_SSM_INSTANCE_ID: 'i-1/../../x' });
    expect(refused.status).not.toBe(0);
    expect(refused.stderr).toMatch(/not an instance id: 'i-1\/\.\.\/\.\.\/x'/);
  });

  it('refuses an instance id that is not one', () => {
    const result = run(shell, { DRIFTWATCH_INSTANCE_ID: '../../etc' });
    expect(result.status).not.toBe(0);
    expect(result.stderr).toMatch(/not an instance id/);
  });
});
