/**
 * CustomInventoryCollector as CloudFormation, and the document's script run for real: the watched
 * files travel into the document quoted, so no path can change what the script does.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { afterEach, describe, expect, it } from 'vitest';
import {
  COLLECTOR_SCRIPT_PATH,
  CustomInventoryCollector,
  type CustomInventoryCollectorProps,
  DEFAULT_WATCHED_FILES,
  shellQuote,
} from '../../infra/constructs/custom-inventory.ts';
import { InventoryTypes, SnapshotBuilder } from '../../shared/domain/inventory.ts';

const SCRIPT = readFileSync(COLLECTOR_SCRIPT_PATH, 'utf8');
const TAG = { key: 'tag:driftwatch:audit', values: ['true'] };

function synth(props: Partial<CustomInventoryCollectorProps> = {}) {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'Test', { env: { account: '123456789012', region: 'eu-west-1' } });
  const collector = new CustomInventoryCollector(stack, 'Inventory', { targets: TAG, ...props });
  return { stack, collector, template: Template.fromStack(stack) };
}

type DocumentContent = {
  schemaVersion: string;
  mainSteps: { action: string; name: string; precondition?: unknown; inputs: { runCommand: string[] } }[];
};

function documentContent(template: Template): DocumentContent {
  const documents = Object.values(template.findResources('AWS::SSM::Document'));
  expect(documents).toHaveLength(1);
  return documents[0]?.Properties.Content as DocumentContent;
}

function runCommand(template: Template): string {
  const steps = documentContent(template).mainSteps;
  expect(steps).toHaveLength(1);
  return (steps[0]?.inputs.runCommand ?? []).join('\n');
}

describe('CustomInventoryCollector', () => {
  it('creates a Command document running the collector script verbatim, with the default files', () => {
    const { template } = synth();
    template.hasResourceProperties('AWS::SSM::Document', { DocumentType: 'Command', DocumentFormat: 'JSON' });
    const content = documentContent(template);
    expect(content.schemaVersion).toBe('2.2');
    expect(content.mainSteps[0]).toMatchObject({
      action: 'aws:runShellScript',
      precondition: { StringEquals: ['platformType', 'Linux'] },
    });
    const commands = runCommand(template);
    expect(commands).toContain(SCRIPT.trimEnd());
    expect(commands.startsWith('#!/bin/sh\n')).toBe(true);
    for (const file of DEFAULT_WATCHED_FILES) expect(commands).toContain(shellQuote(file));
    expect(commands).toContain(`set -- ${DEFAULT_WATCHED_FILES.map(shellQuote).join(' ')}\n`);
    // Services default to every enabled unit on the instance.
    expect(commands).toContain('unset DRIFTWATCH_SERVICES');
    // Nothing SSM would take for a parameter reference.
    expect(commands).not.toContain('{{');
  });

  it('passes the configured files and services quoted', () => {
    const { template } = synth({
      watchedFiles: ['/etc/nginx/*.conf', "/opt/app/it's here.yml"],
      watchedServices: ['sshd', 'nginx.service'],
    });
    const commands = runCommand(template);
    expect(commands).toContain(`set -- '/etc/nginx/*.conf' '/opt/app/it'\\''s here.yml'\n`);
    expect(commands).toContain(`DRIFTWATCH_SERVICES='sshd nginx.service'\nexport DRIFTWATCH_SERVICES\n`);
    expect(commands).not.toContain("'/etc/ssh/sshd_config'");
  });

  it('runs the document on the targets on the schedule, and AWS-GatherSoftwareInventory with custom inventory', () => {
    const { template, collector } = synth();
    template.resourceCountIs('AWS::SSM::Association', 2);
    template.hasResourceProperties('AWS::SSM::Association', {
      Name: { Ref: Match.stringLikeRegexp('^InventoryDocument') },
      Targets: [{ Key: 'tag:driftwatch:audit', Values: ['true'] }],
      ScheduleExpression: 'rate(30 minutes)',
    });
    template.hasResource('AWS::SSM::Association', {
      Properties: {
        Name: 'AWS-GatherSoftwareInventory',
        Targets: [{ Key: 'tag:driftwatch:audit', Values: ['true'] }],
        ScheduleExpression: 'rate(30 minutes)',
        Parameters: {
          applications: ['Enabled'],
          awsComponents: ['Enabled'],
          customInventory: ['Enabled'],
          instanceDetailedInformation: ['Enabled'],
          networkConfig: ['Enabled'],
          services: ['Enabled'],
          windowsRoles: ['Enabled'],
          windowsUpdates: ['Enabled'],
          files: [''],
          windowsRegistry: [''],
        },
      },
      // The collector's association exists (and first runs) before the upload's.
      DependsOn: [Stack.of(collector).resolve(collector.collectorAssociation.logicalId)],
    });
    expect(collector.inventoryAssociation).toBeDefined();
    expect(collector.document.documentType).toBe('Command');
  });

  it('leaves AWS-GatherSoftwareInventory out when the account already has an inventory association', () => {
    const { template, collector } = synth({ gatherSoftwareInventory: false, schedule: 'rate(1 hour)' });
    template.resourceCountIs('AWS::SSM::Association', 1);
    template.hasResourceProperties('AWS::SSM::Association', {
      Name: { Ref: Match.stringLikeRegexp('^InventoryDocument') },
      ScheduleExpression: 'rate(1 hour)',
    });
    expect(collector.inventoryAssociation).toBeUndefined();
  });

  it('turns a bare tag key into a tag target and keeps the keys State Manager knows', () => {
    const bare = synth({ targets: { key: 'driftwatch:audit', values: ['true', 'yes'] } }).template;
    bare.allResourcesProperties('AWS::SSM::Association', {
      Targets: [{ Key: 'tag:driftwatch:audit', Values: ['true', 'yes'] }],
    });
    const ids = synth({ targets: { key: 'InstanceIds', values: ['*'] } }).template;
    ids.allResourcesProperties('AWS::SSM::Association', { Targets: [{ Key: 'InstanceIds', Values: ['*'] }] });
  });

  it('refuses what State Manager or the document could not take', () => {
    expect(() => synth({ schedule: 'rate(10 minutes)' })).toThrow(/shorter than State Manager's minimum/);
    expect(() => synth({ schedule: 'every hour' })).toThrow(/not a rate\(\.\.\.\) or cron\(\.\.\.\)/);
    expect(() => synth({ watchedFiles: ['etc/passwd'] })).toThrow(/not an absolute path/);
    expect(() => synth({ watchedFiles: ['/etc/{{ssm:/secret}}'] })).toThrow(/SSM would interpolate/);
    expect(() => synth({ watchedServices: ['sshd; reboot'] })).toThrow(/not a systemd unit name/);
    expect(() => synth({ targets: { key: 'tag:driftwatch:audit', values: [] } })).toThrow(
      /selects no instance/,
    );
    expect(() =>
      synth({ watchedFiles: Array.from({ length: 3000 }, (_, i) => `/etc/app/file-${i}.conf`) }),
    ).toThrow(/SSM allows 65536/);
    expect(() => synth({ schedule: 'cron(0 */2 * * ? *)' })).not.toThrow();
  });

  it('passes cdk-nag AwsSolutions with nothing acknowledged', () => {
    const { stack } = synth();
    const report = new AwsSolutionsChecks().validateScope(stack);
    expect(report.violations).toEqual([]);
    expect(report.success).toBe(true);
  });
});

describe("the document's script", () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  it('reports exactly the configured files, however hostile their names, and runs nothing else', () => {
    dir = mkdtempSync(join(tmpdir(), 'driftwatch-document-'));
    // Relative commands: the script runs in `dir`, so anything they did would show up there.
    const hostile = join(dir, `it's $(touch pwned) \`touch pwned2\` "x" $HOME.conf`);
    const plain = join(dir, 'plain.conf');
    writeFileSync(hostile, 'hostile\n');
    writeFileSync(plain, 'plain\n');
    const { template } = synth({ watchedFiles: [hostile, `${dir}/pl*n.conf`], watchedServices: ['sshd'] });
    const script = join(dir, '_script.sh');
    writeFileSync(script, runCommand(template));
    const out = join(dir, 'custom');

    // As the SSM agent does: run the document's commands with sh, with the agent's instance id variable.
    const result = spawnSync('sh', [script], {
      cwd: dir,
      env: {
        PATH: process.env.PATH,
        AWS_SSM_INSTANCE_ID: 'i-0123456789abcdef0',
        DRIFTWATCH_INVENTORY_DIR: out,
      },
      encoding: 'utf8',
    });
    expect(result.status, result.stderr).toBe(0);
    expect(existsSync(join(dir, 'pwned'))).toBe(false);
    expect(existsSync(join(dir, 'pwned2'))).toBe(false);

    const builder = new SnapshotBuilder('i-0123456789abcdef0');
    for (const name of ['DriftwatchFiles', 'DriftwatchServices', 'DriftwatchKernel']) {
      const file = JSON.parse(readFileSync(join(out, `${name}.json`), 'utf8'));
      builder.addType(file.TypeName, '2026-11-27T10:00:00Z', file.Content);
    }
    const snapshot = builder.build();
    expect(snapshot.problems).toEqual([]);
    expect([...(snapshot.files?.keys() ?? [])]).toEqual([hostile, plain]);
    expect([...(snapshot.services?.keys() ?? [])]).toEqual(['sshd.service']);
    expect(snapshot.kernel).toBeTruthy();
    expect(snapshot.types.has(InventoryTypes.kernel)).toBe(true);
  });
});
