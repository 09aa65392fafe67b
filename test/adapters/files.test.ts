import { copyFile, open } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  FileFleetSource,
  FileInventorySource,
  FileManifestStore,
  loadPolicyFile,
  MAX_INVENTORY_FILE_BYTES,
} from '../../shared/adapters/files.ts';
import { auditFleet } from '../../shared/app/audit-fleet.ts';
import { type InstanceSnapshot, packageKey } from '../../shared/domain/inventory.ts';
import { defaultPolicy } from '../../shared/domain/policy.ts';
import { InputError } from '../../shared/errors.ts';
import {
  AL2023_PACKAGES,
  al2023Instance,
  CAPTURE_TIME,
  debEntry,
  FIXTURES,
  goldenManifest,
  IDS,
  instanceInformation,
  NOW,
  rpmEntry,
  syncLines,
  syncObjectPath,
  tempDir,
  writeAt,
  writeManifestDir,
  writeSyncTree,
} from '../helpers/sync-tree.ts';

async function collect(source: FileInventorySource): Promise<InstanceSnapshot[]> {
  const out: InstanceSnapshot[] = [];
  for await (const snapshot of source.snapshots()) out.push(snapshot);
  return out;
}

function versionsOf(snapshot: InstanceSnapshot | undefined, name: string, arch: string): readonly string[] {
  return snapshot?.packages?.get(packageKey(name, arch))?.versions ?? [];
}

/** The InputError a promise rejects with (fails the test when it resolves or throws something else). */
async function inputError(promise: Promise<unknown>): Promise<InputError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(InputError);
  return error as InputError;
}

const ENTRIES = join(FIXTURES, 'list-inventory-entries');

// ---------------------------------------------------------------------------------------------

describe('FileInventorySource: Resource Data Sync tree', () => {
  it('reads packages, platform and capture time of each instance from newline-delimited objects', async () => {
    // Prepare
    const root = await tempDir();
    await writeSyncTree(root, [...al2023Instance(IDS.al2023), ...al2023Instance(IDS.other)]);

    // Act
    const snapshots = await collect(new FileInventorySource(root));

    // Assess
    expect(snapshots.map((s) => s.instanceId)).toEqual([IDS.al2023, IDS.other]);
    const [first] = snapshots;
    expect(first?.packages?.size).toBe(AL2023_PACKAGES.length);
    expect(versionsOf(first, 'openssl-libs', 'x86_64')).toEqual(['1:3.0.8-1.amzn2023.0.14']);
    expect(versionsOf(first, 'bash', 'x86_64')).toEqual(['0:5.2.15-1.amzn2023.0.2']);
    expect(versionsOf(first, 'tzdata', 'noarch')).toEqual(['0:2024a-1.amzn2023.0.1']);
    expect(first?.platform).toEqual({ name: 'Amazon Linux', version: '2023', type: 'Linux' });
    expect(first?.captureTime).toBe(CAPTURE_TIME);
    expect(first?.problems).toEqual([]);
  });

  it('reads an object written as a JSON array like one written line by line', async () => {
    const ndjson = await tempDir();
    const array = await tempDir();
    await writeSyncTree(ndjson, al2023Instance(IDS.al2023));
    await writeSyncTree(
      array,
      al2023Instance(IDS.al2023).map((o) => ({ ...o, format: 'array' as const })),
    );

    const [fromLines] = await collect(new FileInventorySource(ndjson));
    const [fromArray] = await collect(new FileInventorySource(array));

    expect(fromArray?.packages).toEqual(fromLines?.packages);
    expect(fromArray?.platform).toEqual(fromLines?.platform);
    expect(fromArray?.captureTime).toBe(CAPTURE_TIME);
  });

  it('matches attribute names case-insensitively (Name, name, NAME)', async () => {
    const root = await tempDir();
    const path = syncObjectPath(root, { typeName: 'AWS:Application', instanceId: IDS.al2023 });
    await writeAt(
      path,
      [
        { Name: 'bash', Version: '5.2.15', Release: '1.amzn2023.0.2', Epoch: '', Architecture: 'x86_64' },
        { name: 'glibc', version: '2.34', release: '52.amzn2023.0.11', epoch: '', architecture: 'x86_64' },
        { NAME: 'tzdata', VERSION: '2024a', RELEASE: '1.amzn2023.0.1', EPOCH: '', ARCHITECTURE: 'noarch' },
      ]
        .map((e) => `${JSON.stringify({ ...e, ResourceId: IDS.al2023, CAPTURETIME: CAPTURE_TIME })}\n`)
        .join(''),
    );

    const [snapshot] = await collect(new FileInventorySource(root));

    expect(versionsOf(snapshot, 'bash', 'x86_64')).toEqual(['0:5.2.15-1.amzn2023.0.2']);
    expect(versionsOf(snapshot, 'glibc', 'x86_64')).toEqual(['0:2.34-52.amzn2023.0.11']);
    expect(versionsOf(snapshot, 'tzdata', 'noarch')).toEqual(['0:2024a-1.amzn2023.0.1']);
    expect(snapshot?.captureTime).toBe(CAPTURE_TIME);
    expect(snapshot?.problems).toEqual([]);
  });

  it('keeps a multi-arch Debian package as one package per architecture', async () => {
    const root = await tempDir();
    await writeSyncTree(root, [
      {
        typeName: 'AWS:Application',
        instanceId: IDS.debian,
        entries: [
          debEntry('libc6', '2.36-9+deb12u9', 'amd64'),
          debEntry('libc6', '2.36-9+deb12u9', 'i386'),
          debEntry('openssh-server', '1:9.2p1-2+deb12u3'),
        ],
      },
    ]);

    const [snapshot] = await collect(new FileInventorySource(root));

    expect(versionsOf(snapshot, 'libc6', 'x86_64')).toEqual(['2.36-9+deb12u9']);
    expect(versionsOf(snapshot, 'libc6', 'i686')).toEqual(['2.36-9+deb12u9']);
    expect(snapshot?.packages?.get(packageKey('libc6', 'x86_64'))?.format).toBe('deb');
    expect(versionsOf(snapshot, 'openssh-server', 'x86_64')).toEqual(['1:9.2p1-2+deb12u3']);
  });

  it('keeps both builds of an install-only rpm (kernel) as two versions of one package', async () => {
    const root = await tempDir();
    await writeSyncTree(
      root,
      al2023Instance(IDS.al2023, [
        rpmEntry('kernel', '6.1.119', '129.201.amzn2023'),
        rpmEntry('kernel', '6.1.115', '126.197.amzn2023'),
      ]),
    );

    const [snapshot] = await collect(new FileInventorySource(root));

    expect(snapshot?.packages?.size).toBe(1);
    expect(versionsOf(snapshot, 'kernel', 'x86_64')).toEqual([
      '0:6.1.115-126.197.amzn2023',
      '0:6.1.119-129.201.amzn2023',
    ]);
  });

  it('keeps packages named __proto__, constructor and toString, and leaves Object.prototype alone', async () => {
    const root = await tempDir();
    const path = syncObjectPath(root, { typeName: 'AWS:Application', instanceId: IDS.al2023 });
    const line = (name: string) =>
      `{"name":${JSON.stringify(name)},"version":"1.0","release":"1","epoch":"","architecture":"x86_64",` +
      `"__proto__":{"polluted":"yes"},"constructor":{"prototype":{"polluted":"yes"}},"captureTime":"${CAPTURE_TIME}"}\n`;
    await writeAt(path, ['__proto__', 'constructor', 'toString', 'hasOwnProperty'].map(line).join(''));

    const [snapshot] = await collect(new FileInventorySource(root));

    expect([...(snapshot?.packages?.values() ?? [])].map((p) => p.name).sort()).toEqual([
      '__proto__',
      'constructor',
      'hasOwnProperty',
      'toString',
    ]);
    expect(versionsOf(snapshot, '__proto__', 'x86_64')).toEqual(['0:1.0-1']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty('polluted');
  });

  it('audits an instance with 20,000 packages', async () => {
    // Prepare: 20,000 packages on the host and in the manifest; one of them patched by hand.
    const root = await tempDir();
    const packages = Array.from({ length: 20_000 }, (_, i) =>
      rpmEntry(`pkg-${String(i).padStart(5, '0')}`, `1.${i % 97}.0`, `${i % 13}.amzn2023`),
    );
    const host = packages.map((p, i) => (i === 12_345 ? { ...p, Release: '99.amzn2023' } : p));
    await writeSyncTree(root, al2023Instance(IDS.al2023, host));
    const manifests = await writeManifestDir(await tempDir(), [
      goldenManifest({
        packages: packages.map((p) => ({
          name: String(p.Name),
          arch: 'x86_64',
          version: String(p.Version),
          release: String(p.Release),
        })),
      }),
    ]);

    // Act
    const started = Date.now();
    const { report } = await auditFleet(
      { inventory: new FileInventorySource(root), manifests: await FileManifestStore.open(manifests) },
      { policy: defaultPolicy(), now: new Date(NOW), runId: 'big' },
    );

    // Assess
    expect(report.summary).toMatchObject({ instances: 1, drifted: 1, unknown: 0 });
    expect(report.findings).toHaveLength(1);
    expect(report.findings[0]).toMatchObject({ kind: 'package-changed', subject: 'pkg-12345' });
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('makes an instance partial, not a crash, when an entry is too large or malformed', async () => {
    // Prepare: a 5,000-character Version, a Name that is an object, an entry that is not an object.
    const root = await tempDir();
    await writeSyncTree(root, [
      ...al2023Instance(IDS.al2023, [
        ...AL2023_PACKAGES,
        rpmEntry('huge', 'x'.repeat(5_000), '1'),
        { ...rpmEntry('odd', '1', '1'), Name: { nested: true } },
      ]),
      ...al2023Instance(IDS.other),
    ]);
    await writeAt(
      syncObjectPath(root, { typeName: 'AWS:Application', instanceId: IDS.other }),
      JSON.stringify([
        42,
        ...syncLines({ typeName: 'AWS:Application', instanceId: IDS.other, entries: AL2023_PACKAGES }),
      ]),
    );
    const manifests = await writeManifestDir(await tempDir(), [goldenManifest()]);

    // Act
    const snapshots = await collect(new FileInventorySource(root));
    const { report } = await auditFleet(
      { inventory: new FileInventorySource(root), manifests: await FileManifestStore.open(manifests) },
      { policy: defaultPolicy(), now: new Date(NOW), runId: 'partial' },
    );

    // Assess
    const [first, second] = snapshots;
    expect(first?.packages?.size).toBe(AL2023_PACKAGES.length);
    expect(first?.problems.join('; ')).toMatch(/longer than 4096/);
    expect(first?.problems.join('; ')).toMatch(/name is not a string/i);
    expect(second?.problems.join('; ')).toMatch(/entry 1 is not an object/);
    // A malformed first line does not hide the capture time of the lines after it.
    expect(second?.captureTime).toBe(CAPTURE_TIME);
    for (const id of [IDS.al2023, IDS.other]) {
      expect(report.instances.find((i) => i.instanceId === id)).toMatchObject({
        status: 'unknown',
        reason: 'inventory-partial',
      });
    }
  });

  it('makes an instance partial when one of its objects is over the size limit', async () => {
    const root = await tempDir();
    await writeSyncTree(root, [
      ...al2023Instance(IDS.al2023),
      { typeName: 'AWS:Service', instanceId: IDS.al2023, entries: [] },
    ]);
    // A sparse file: reported larger than the limit without taking the disk space.
    const handle = await open(
      syncObjectPath(root, { typeName: 'AWS:Service', instanceId: IDS.al2023 }),
      'r+',
    );
    await handle.truncate(MAX_INVENTORY_FILE_BYTES + 1);
    await handle.close();

    const [snapshot] = await collect(new FileInventorySource(root));

    expect(snapshot?.packages?.size).toBe(AL2023_PACKAGES.length);
    expect(snapshot?.problems).toEqual([expect.stringMatching(/^AWS:Service: .*over the .*limit/)]);
  });

  it('reports a broken line as a bad input naming the file and the line', async () => {
    const root = await tempDir();
    const [path] = await writeSyncTree(root, al2023Instance(IDS.al2023));
    const good = JSON.stringify({ name: 'bash', version: '1', release: '1', captureTime: CAPTURE_TIME });
    await writeAt(path as string, `${good}\n${good}\n{"name":"glibc","version":\n${good}\n`);

    const error = await inputError(collect(new FileInventorySource(root)));

    expect(error.file).toBe(path);
    expect(error.message).toMatch(/line 3, column \d+/);
    expect(error.message.split('\n')).toHaveLength(1);
  });

  it('stops early without an unhandled rejection when a later instance is unreadable', async () => {
    // Prepare: instance 4 of 5 is broken; capture looks up instance 1 and stops reading there.
    const root = await tempDir();
    const ids = Array.from({ length: 5 }, (_, i) => `i-0000000000000000${i}`);
    await writeSyncTree(
      root,
      ids.flatMap((id) => al2023Instance(id)),
    );
    await writeAt(
      syncObjectPath(root, { typeName: 'AWS:Application', instanceId: ids[3] as string }),
      '{"na',
    );
    const rejections: unknown[] = [];
    const onRejection = (reason: unknown) => rejections.push(reason);
    process.on('unhandledRejection', onRejection);

    try {
      // Act
      const found = await new FileInventorySource(root).find(ids[0] as string);
      const failed = await collect(new FileInventorySource(root)).catch((e: unknown) => e);
      await new Promise((resolve) => setTimeout(resolve, 50));

      // Assess
      expect(found?.instanceId).toBe(ids[0]);
      expect(failed).toBeInstanceOf(InputError);
      expect(rejections).toEqual([]);
    } finally {
      process.off('unhandledRejection', onRejection);
    }
  });

  it('reports progress with the number of instances known up front', async () => {
    const root = await tempDir();
    await writeSyncTree(root, [...al2023Instance(IDS.al2023), ...al2023Instance(IDS.other)]);
    const progress: [number, number | undefined][] = [];

    await collect(new FileInventorySource(root, { onProgress: (d, t) => progress.push([d, t]) }));

    expect(progress).toEqual([
      [1, 2],
      [2, 2],
    ]);
  });

  it('records inventory types it does not audit without failing on them', async () => {
    const root = await tempDir();
    await writeSyncTree(root, [
      ...al2023Instance(IDS.al2023),
      {
        typeName: 'AWS:Network',
        instanceId: IDS.al2023,
        entries: [{ Name: 'ens5', IPV4: '10.0.1.23', MacAddress: '0a:1b:2c:3d:4e:5f' }],
      },
    ]);

    const [snapshot] = await collect(new FileInventorySource(root));

    expect([...(snapshot?.types.keys() ?? [])].sort()).toEqual([
      'AWS:Application',
      'AWS:InstanceInformation',
      'AWS:Network',
    ]);
    expect(snapshot?.problems).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------

describe('FileInventorySource: list-inventory-entries responses', () => {
  it('merges the pages and types of one instance', async () => {
    const [snapshot, ...rest] = await collect(new FileInventorySource(join(ENTRIES, 'al2023')));

    expect(rest).toEqual([]);
    expect(snapshot?.instanceId).toBe(IDS.al2023);
    expect(snapshot?.packages?.size).toBe(10);
    expect(versionsOf(snapshot, 'kernel', 'x86_64')).toEqual([
      '0:6.1.115-126.197.amzn2023',
      '0:6.1.119-129.201.amzn2023',
    ]);
    expect(versionsOf(snapshot, 'amazon-ssm-agent', 'x86_64')).toEqual(['0:3.3.1142.0-1.amzn2023']);
    expect(versionsOf(snapshot, 'openssl-libs', 'x86_64')).toEqual(['1:3.0.8-1.amzn2023.0.14']);
    expect(snapshot?.platform).toEqual({ name: 'Amazon Linux', version: '2023', type: 'Linux' });
    expect(snapshot?.agentVersion).toBe('3.3.1142.0');
    expect(snapshot?.captureTime).toBe('2026-11-27T10:42:17Z');
    expect([...(snapshot?.types.keys() ?? [])].sort()).toEqual([
      'AWS:Application',
      'AWS:InstanceInformation',
    ]);
  });

  it('reads one response file; an instance without AWS:Application has no package list', async () => {
    const [snapshot] = await collect(
      new FileInventorySource(join(ENTRIES, 'other-instance-information.json')),
    );

    expect(snapshot?.instanceId).toBe(IDS.other);
    expect(snapshot?.packages).toBeUndefined();
    expect(snapshot?.instanceStatus).toBe('Active');
  });

  it('reads dpkg entries: the whole version, multi-arch packages once per architecture', async () => {
    const [snapshot] = await collect(new FileInventorySource(join(ENTRIES, 'debian12-application.json')));

    expect(snapshot?.packages?.size).toBe(8);
    expect(versionsOf(snapshot, 'libc6', 'x86_64')).toEqual(['2.36-9+deb12u9']);
    expect(versionsOf(snapshot, 'libc6', 'i686')).toEqual(['2.36-9+deb12u9']);
    expect(versionsOf(snapshot, 'openssh-server', 'x86_64')).toEqual(['1:9.2p1-2+deb12u3']);
    expect(versionsOf(snapshot, 'python3-yaml', 'all')).toEqual(['6.0-3+b2']);
    expect([...(snapshot?.packages?.values() ?? [])].every((p) => p.format === 'deb')).toBe(true);
  });

  it('rejects a JSON document of another shape, naming the file', async () => {
    const path = await writeAt(join(await tempDir(), 'instances.json'), { Reservations: [] });

    const error = await inputError(collect(new FileInventorySource(path)));

    expect(error.file).toBe(path);
    expect(error.message).toMatch(/not an inventory file/);
  });

  it('names the field when a response is missing its entries', async () => {
    const path = await writeAt(join(await tempDir(), 'page.json'), {
      TypeName: 'AWS:Application',
      InstanceId: IDS.al2023,
      Entries: null,
    });

    const error = await inputError(collect(new FileInventorySource(path)));

    expect(error.field).toBe('Entries');
  });
});

// ---------------------------------------------------------------------------------------------

describe('FileInventorySource: snapshot pages', () => {
  it('reads a page and skips the stub GetInventory keeps for a terminated instance', async () => {
    const snapshots = await collect(new FileInventorySource(join(FIXTURES, 'snapshot', 'page-1.json')));

    expect(snapshots.map((s) => s.instanceId)).toEqual([IDS.al2023]);
    expect(versionsOf(snapshots[0], 'openssl-libs', 'x86_64')).toEqual(['1:3.0.8-1.amzn2023.0.14']);
    expect(snapshots[0]?.captureTime).toBe('2026-11-27T10:42:17Z');
  });

  it('reads a directory of pages in page order', async () => {
    const snapshots = await collect(new FileInventorySource(join(FIXTURES, 'snapshot')));

    expect(snapshots.map((s) => s.instanceId)).toEqual([IDS.al2023, IDS.debian]);
    expect(snapshots[1]?.platform).toEqual({ name: 'Debian GNU/Linux', version: '12', type: 'Linux' });
    expect(versionsOf(snapshots[1], 'openssh-server', 'x86_64')).toEqual(['1:9.2p1-2+deb12u3']);
  });

  it('orders page-10 after page-9', async () => {
    const dir = await tempDir();
    const page = (id: string) => ({
      Entities: [
        {
          Id: id,
          Data: {
            'AWS:InstanceInformation': {
              TypeName: 'AWS:InstanceInformation',
              SchemaVersion: '1.0',
              CaptureTime: CAPTURE_TIME,
              Content: [instanceInformation(id)],
            },
          },
        },
      ],
    });
    await writeAt(join(dir, 'page-10.json'), page('i-00000000000000010'));
    await writeAt(join(dir, 'page-9.json'), page('i-00000000000000009'));

    const snapshots = await collect(new FileInventorySource(dir));

    expect(snapshots.map((s) => s.instanceId)).toEqual(['i-00000000000000009', 'i-00000000000000010']);
  });

  it('rejects an instance that appears on two pages', async () => {
    const dir = await tempDir();
    await copyFile(join(FIXTURES, 'snapshot', 'page-1.json'), join(dir, 'page-1.json'));
    await copyFile(join(FIXTURES, 'snapshot', 'page-1.json'), join(dir, 'page-2.json'));

    const error = await inputError(collect(new FileInventorySource(dir)));

    expect(error.message).toContain(IDS.al2023);
    expect(error.field).toBe('Entities[0].Id');
  });

  it('names the field when Entities is not an array', async () => {
    const path = await writeAt(join(await tempDir(), 'page.json'), { Entities: { Id: IDS.al2023 } });

    const error = await inputError(collect(new FileInventorySource(path)));

    expect(error.field).toBe('Entities');
  });
});

// ---------------------------------------------------------------------------------------------

describe('FileFleetSource', () => {
  it('keeps only running instances, each with its AMI and Auto Scaling group', async () => {
    const instances = await new FileFleetSource(join(FIXTURES, 'ec2-describe-instances.json')).instances();

    expect(instances.map((i) => [i.instanceId, i.amiId, i.asgName])).toEqual([
      [IDS.al2023, IDS.al2023Ami, 'web'],
      [IDS.other, IDS.al2023Ami, 'web'],
      [IDS.debian, IDS.debianAmi, 'api'],
      [IDS.bastion, IDS.al2023Ami, null],
    ]);
    expect(instances[0]?.launchTime).toBe('2026-11-20T08:10:05+00:00');
  });

  it('rejects a describe-instances file of the wrong shape, naming the field', async () => {
    const path = await writeAt(join(await tempDir(), 'instances.json'), {
      Reservations: [{ Instances: [{ InstanceId: 'web-1', ImageId: IDS.al2023Ami }] }],
    });

    const error = await inputError(new FileFleetSource(path).instances());

    expect(error.file).toBe(path);
    expect(error.field).toBe('Reservations[0].Instances[0].InstanceId');
  });
});

// ---------------------------------------------------------------------------------------------

describe('FileManifestStore', () => {
  it('finds the manifest of each AMI in a directory, and says which AMI has none', async () => {
    const dir = await writeManifestDir(await tempDir(), [
      goldenManifest(),
      goldenManifest({ amiId: IDS.debianAmi, name: 'debian' }),
    ]);

    const store = await FileManifestStore.open(dir);

    expect(await store.get(IDS.al2023Ami)).toMatchObject({
      status: 'found',
      index: { manifest: { amiId: IDS.al2023Ami } },
    });
    expect(await store.get(IDS.debianAmi)).toMatchObject({ status: 'found' });
    expect(await store.get('ami-0000000000000000f')).toMatchObject({
      status: 'missing',
      detail: expect.stringContaining('ami-0000000000000000f'),
    });
    // Two manifests: an instance of unknown AMI cannot be matched.
    expect(await store.get(undefined)).toMatchObject({ status: 'missing' });
  });

  it('applies a single manifest file to instances of unknown AMI, and names the AMI it is for', async () => {
    const path = await writeAt(join(await tempDir(), 'golden.json'), goldenManifest());

    const store = await FileManifestStore.open(path);

    expect(await store.get(undefined)).toMatchObject({ status: 'found' });
    expect(await store.get(IDS.debianAmi)).toMatchObject({
      status: 'missing',
      detail: expect.stringContaining(IDS.al2023Ami),
    });
  });

  it('rejects a manifest whose amiId differs from its file name', async () => {
    const dir = await tempDir();
    await writeAt(join(dir, `${IDS.debianAmi}.json`), goldenManifest());

    const error = await inputError(FileManifestStore.open(dir));

    expect(error.field).toBe('amiId');
    expect(error.message).toContain(IDS.debianAmi);
    expect(error.message).toContain(IDS.al2023Ami);
  });

  it('rejects a manifest that fails its schema, naming the field', async () => {
    const manifest = goldenManifest();
    const broken = { ...manifest, packages: [{ name: 'bash', arch: 'x86_64', release: '1' }] };
    const path = await writeAt(join(await tempDir(), `${IDS.al2023Ami}.json`), broken);

    const error = await inputError(FileManifestStore.open(path));

    expect(error.file).toBe(path);
    expect(error.field).toBe('packages[0].version');
    expect(error.message).not.toContain('"code"');
  });

  it('names a file hash by its path', async () => {
    const path = await writeAt(
      join(await tempDir(), `${IDS.al2023Ami}.json`),
      goldenManifest({ files: { '/etc/ssh/sshd_config': 'not-a-hash' } }),
    );

    const error = await inputError(FileManifestStore.open(path));

    expect(error.field).toBe('files["/etc/ssh/sshd_config"]');
  });

  it('rejects a directory without manifests', async () => {
    const dir = await tempDir();

    const error = await inputError(FileManifestStore.open(dir));

    expect(error.message).toMatch(/holds no manifests/);
  });
});

// ---------------------------------------------------------------------------------------------

describe('loadPolicyFile', () => {
  const yaml = [
    'staleAfter: 12h',
    'ignore:',
    '  packages: ["kernel-livepatch-*", amazon-ssm-agent]',
    'allow:',
    '  openssl-libs: ">= 1:3.0.8-1.amzn2023.0.14"',
    'severity:',
    '  default: low',
    '  rules:',
    '    - { kind: "package-*", subject: "openssl*", severity: critical }',
    'waivers:',
    '  - { kind: package-added, subject: htop, reason: "debugging INC-1234", expires: 2026-12-31 }',
    '',
  ].join('\n');

  it('reads YAML and JSON into the same policy', async () => {
    const dir = await tempDir();
    const fromYaml = await loadPolicyFile(await writeAt(join(dir, 'policy.yaml'), yaml));
    const fromJson = await loadPolicyFile(
      await writeAt(join(dir, 'policy.json'), {
        staleAfter: '12h',
        ignore: { packages: ['kernel-livepatch-*', 'amazon-ssm-agent'] },
        allow: { 'openssl-libs': '>= 1:3.0.8-1.amzn2023.0.14' },
        severity: {
          default: 'low',
          rules: [{ kind: 'package-*', subject: 'openssl*', severity: 'critical' }],
        },
        waivers: [
          { kind: 'package-added', subject: 'htop', reason: 'debugging INC-1234', expires: '2026-12-31' },
        ],
      }),
    );

    for (const policy of [fromYaml, fromJson]) {
      expect(policy.staleAfterMs).toBe(12 * 3_600_000);
      expect(policy.isIgnored('packages', 'kernel-livepatch-6.1')).toBe(true);
      expect(policy.isIgnored('packages', 'kernel')).toBe(false);
      expect(policy.allowFor('openssl-libs')).toEqual(['>= 1:3.0.8-1.amzn2023.0.14']);
      expect(policy.severityOf({ kind: 'package-changed', subject: 'openssl-libs', asgName: 'web' })).toBe(
        'critical',
      );
      expect(policy.severityOf({ kind: 'file-changed', subject: '/etc/hosts', asgName: 'web' })).toBe('low');
      expect(policy.waivers).toHaveLength(1);
    }
    expect(fromYaml.policy).toEqual(fromJson.policy);
  });

  it('gives the defaults for an empty file', async () => {
    const policy = await loadPolicyFile(await writeAt(join(await tempDir(), 'policy.yaml'), ''));

    expect(policy.staleAfterMs).toBe(24 * 3_600_000);
    expect(policy.policy.remediation.mode).toBe('notify');
  });

  it('names the line and column of a YAML syntax error', async () => {
    const path = await writeAt(
      join(await tempDir(), 'policy.yaml'),
      'ignore:\n  packages: [a, b\nseverity:\n  default: high\n',
    );

    const error = await inputError(loadPolicyFile(path));

    expect(error.field).toMatch(/^line \d+, column \d+$/);
    expect(error.message.split('\n')).toHaveLength(1);
  });

  it('names an unknown key', async () => {
    const path = await writeAt(join(await tempDir(), 'policy.yaml'), 'remediation:\n  mod: refresh\n');

    const error = await inputError(loadPolicyFile(path));

    expect(error.field).toBe('remediation.mod');
  });

  it('names the package of a bad allow constraint', async () => {
    const path = await writeAt(join(await tempDir(), 'policy.yaml'), 'allow:\n  openssl-libs: ">== 3"\n');

    const error = await inputError(loadPolicyFile(path));

    expect(error.field).toBe('allow.openssl-libs');
    expect(error.message).toContain('>== 3');
  });

  it('treats a YAML alias bomb as bad input', async () => {
    let text = 'a: &a [x, x, x, x, x, x, x, x, x]\n';
    let previous = 'a';
    for (const name of 'bcdefghij') {
      text += `${name}: &${name} [${Array(9).fill(`*${previous}`).join(', ')}]\n`;
      previous = name;
    }
    const path = await writeAt(join(await tempDir(), 'policy.yaml'), text);

    const error = await inputError(loadPolicyFile(path));

    expect(error.message).toMatch(/YAML error/);
  });
});
