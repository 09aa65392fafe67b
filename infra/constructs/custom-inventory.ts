/**
 * CustomInventoryCollector: makes SSM Inventory describe what driftwatch audits beyond packages.
 *
 *   State Manager association (schedule) --> driftwatch Command document --> collect-custom-inventory.sh
 *     writes Custom:DriftwatchFiles, Custom:DriftwatchServices, Custom:DriftwatchKernel as JSON files
 *     into /var/lib/amazon/ssm/<instance-id>/inventory/custom/
 *   State Manager association (schedule) --> AWS-GatherSoftwareInventory (customInventory Enabled)
 *     uploads them with AWS:Application, AWS:InstanceInformation, ...
 *
 * `AWS:File` carries no hash, so file contents are fingerprinted by the script; the association
 * running AWS-GatherSoftwareInventory is what uploads the result. An instance can have only ONE
 * inventory association: when the account already has one, set `gatherSoftwareInventory: false` and
 * make sure that association runs with `customInventory: Enabled`, or the custom types never leave
 * the instances.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Token } from 'aws-cdk-lib';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';

/** The collector script, embedded into the SSM document at synth time. */
export const COLLECTOR_SCRIPT_PATH = fileURLToPath(
  new URL('../ssm/collect-custom-inventory.sh', import.meta.url),
);

/** The files watched when `watchedFiles` is not given. */
export const DEFAULT_WATCHED_FILES: readonly string[] = [
  '/etc/ssh/sshd_config',
  '/etc/sudoers',
  '/etc/sysctl.conf',
  '/etc/security/limits.conf',
  '/etc/audit/auditd.conf',
  '/etc/chrony.conf',
];

/** State Manager runs an association at most every 30 minutes; inventory cannot go faster either. */
const MIN_RATE_MINUTES = 30;
/** A Command document's content is limited to 64 KB. */
const MAX_DOCUMENT_BYTES = 64 * 1024;
/** systemd unit names: ASCII letters, digits, `:-_.\` and `@` (templates' instances). */
const UNIT_NAME = /^[A-Za-z0-9:_.\\@-]+$/;
/** Target keys State Manager understands as is; any other key is taken to be a tag key. */
const TARGET_KEY = /^(tag:.+|tag-key|InstanceIds|resource-groups:.+)$/;

export interface CustomInventoryTargets {
  /**
   * The target key: a tag key (`driftwatch:audit`, sent as `tag:driftwatch:audit`), or any key
   * State Manager understands as is (`tag:<key>`, `tag-key`, `InstanceIds`, `resource-groups:Name`).
   */
  readonly key: string;
  /** The values that select instances, e.g. `['true']` (or instance ids for `InstanceIds`). */
  readonly values: readonly string[];
}

export interface CustomInventoryCollectorProps {
  /**
   * The instances to inventory, e.g. `{ key: 'tag:driftwatch:audit', values: ['true'] }`. A key
   * without a `tag:` prefix is a tag key and gets one.
   */
  readonly targets: CustomInventoryTargets;
  /**
   * Files whose SHA-256 (with size, octal mode and owner) is reported as `Custom:DriftwatchFiles`.
   * Absolute paths or shell globs (expanded on the instance); missing files are simply absent.
   * @default ['/etc/ssh/sshd_config', '/etc/sudoers', '/etc/sysctl.conf', '/etc/security/limits.conf', '/etc/audit/auditd.conf', '/etc/chrony.conf']
   */
  readonly watchedFiles?: readonly string[];
  /**
   * systemd units reported as `Custom:DriftwatchServices` (`sshd` means `sshd.service`). An empty
   * list reports no service at all.
   * @default - every unit `systemctl list-unit-files --type=service --state=enabled` lists on the instance
   */
  readonly watchedServices?: readonly string[];
  /**
   * How often both associations run: a State Manager `rate(...)` or `cron(...)` expression.
   * `rate(30 minutes)` is the shortest State Manager accepts.
   * @default 'rate(30 minutes)'
   */
  readonly schedule?: string;
  /**
   * Also create the State Manager association that runs `AWS-GatherSoftwareInventory` on the same
   * targets and schedule (applications, AWS components, instance details, network, services and
   * custom inventory Enabled). An instance can have only one inventory association: set this to
   * false when the account already has one — that association must have `customInventory: Enabled`,
   * or the custom types are written on the instances but never uploaded.
   * @default true
   */
  readonly gatherSoftwareInventory?: boolean;
}

export class CustomInventoryCollector extends Construct {
  /** The Command document running the collector script. */
  readonly document: ssm.CfnDocument;
  /** The association running `document` on the targets. */
  readonly collectorAssociation: ssm.CfnAssociation;
  /** The association running `AWS-GatherSoftwareInventory`; undefined when `gatherSoftwareInventory` is false. */
  readonly inventoryAssociation: ssm.CfnAssociation | undefined;
  /** The State Manager targets both associations use. */
  readonly targets: ssm.CfnAssociation.TargetProperty[];
  /** The schedule both associations use. */
  readonly schedule: string;

  constructor(scope: Construct, id: string, props: CustomInventoryCollectorProps) {
    super(scope, id);
    this.targets = [associationTarget(props.targets)];
    this.schedule = props.schedule ?? `rate(${MIN_RATE_MINUTES} minutes)`;
    validateSchedule(this.schedule);
    const watchedFiles = props.watchedFiles ?? DEFAULT_WATCHED_FILES;
    validateFiles(watchedFiles);
    if (props.watchedServices) validateServices(props.watchedServices);

    const content = {
      schemaVersion: '2.2',
      description:
        'driftwatch: write the Custom:DriftwatchFiles (file SHA-256), Custom:DriftwatchServices (systemd ' +
        'units) and Custom:DriftwatchKernel (uname -r) custom inventory types for AWS-GatherSoftwareInventory ' +
        'to upload.',
      mainSteps: [
        {
          action: 'aws:runShellScript',
          name: 'collectDriftwatchInventory',
          precondition: { StringEquals: ['platformType', 'Linux'] },
          inputs: {
            timeoutSeconds: '600',
            runCommand: collectorCommands(watchedFiles, props.watchedServices),
          },
        },
      ],
    };
    const bytes = Buffer.byteLength(JSON.stringify(content));
    if (bytes > MAX_DOCUMENT_BYTES)
      throw new Error(
        `CustomInventoryCollector: the SSM document would be ${bytes} bytes; SSM allows ${MAX_DOCUMENT_BYTES}. ` +
          'Watch fewer files, or use globs.',
      );

    this.document = new ssm.CfnDocument(this, 'Document', {
      documentType: 'Command',
      documentFormat: 'JSON',
      content,
    });

    this.collectorAssociation = new ssm.CfnAssociation(this, 'CollectorAssociation', {
      name: this.document.ref,
      targets: this.targets,
      scheduleExpression: this.schedule,
      complianceSeverity: 'UNSPECIFIED',
    });

    if (props.gatherSoftwareInventory ?? true) {
      this.inventoryAssociation = new ssm.CfnAssociation(this, 'InventoryAssociation', {
        name: 'AWS-GatherSoftwareInventory',
        targets: this.targets,
        scheduleExpression: this.schedule,
        complianceSeverity: 'UNSPECIFIED',
        parameters: {
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
      });
      // Associations run once when created: create the collector's first, so that the first
      // inventory upload already finds the custom types.
      this.inventoryAssociation.node.addDependency(this.collectorAssociation);
    } else {
      this.inventoryAssociation = undefined;
    }
  }
}

/** The document's script: the configuration as shell assignments, then the collector verbatim. */
export function collectorCommands(
  watchedFiles: readonly string[],
  watchedServices: readonly string[] | undefined,
): string[] {
  const script = readFileSync(COLLECTOR_SCRIPT_PATH, 'utf8');
  if (script.includes('{{'))
    throw new Error(`${COLLECTOR_SCRIPT_PATH} contains '{{', which SSM would take for a parameter`);
  const config = [
    '#!/bin/sh',
    '# Configuration generated by the driftwatch CustomInventoryCollector construct.',
    ...(watchedServices
      ? [`DRIFTWATCH_SERVICES=${shellQuote(watchedServices.join(' '))}`, 'export DRIFTWATCH_SERVICES']
      : ['unset DRIFTWATCH_SERVICES']),
    // Each watched file is one positional argument: exact, whatever characters the path holds.
    watchedFiles.length > 0 ? `set -- ${watchedFiles.map(shellQuote).join(' ')}` : 'set --',
    'unset DRIFTWATCH_FILES',
    '',
  ];
  return [...config, ...script.replace(/\n$/, '').split('\n')];
}

/** A POSIX shell single-quoted word: no expansion of any kind happens inside. */
export function shellQuote(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

function associationTarget(targets: CustomInventoryTargets): ssm.CfnAssociation.TargetProperty {
  const key = targets.key.trim();
  if (!key) throw new Error('CustomInventoryCollector: targets.key is empty');
  if (targets.values.length === 0)
    throw new Error('CustomInventoryCollector: targets.values is empty; it selects no instance');
  const resolvedKey = Token.isUnresolved(key) || TARGET_KEY.test(key) ? key : `tag:${key}`;
  return { key: resolvedKey, values: [...targets.values] };
}

function validateSchedule(schedule: string): void {
  if (Token.isUnresolved(schedule)) return;
  const rate = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/.exec(schedule.trim());
  if (rate) {
    const n = Number(rate[1]);
    const unit = rate[2] as string;
    const minutes = unit.startsWith('minute') ? n : unit.startsWith('hour') ? n * 60 : n * 24 * 60;
    if (minutes < MIN_RATE_MINUTES)
      throw new Error(
        `CustomInventoryCollector: schedule ${schedule} is shorter than State Manager's minimum, rate(${MIN_RATE_MINUTES} minutes)`,
      );
    return;
  }
  if (!/^(cron|at)\(.+\)$/.test(schedule.trim()))
    throw new Error(
      `CustomInventoryCollector: schedule '${schedule}' is not a rate(...) or cron(...) expression`,
    );
}

/** Rejects what would not survive the trip into the document intact. */
function checkLiteral(what: string, value: string): void {
  if (Token.isUnresolved(value))
    throw new Error(`CustomInventoryCollector: ${what} must be known at synth time (got a token)`);
  if (value.includes('{{'))
    throw new Error(
      `CustomInventoryCollector: ${what} '${value}' contains '{{', which SSM would interpolate`,
    );
}

function validateFiles(files: readonly string[]): void {
  for (const file of files) {
    checkLiteral('a watched file', file);
    if (!file.startsWith('/'))
      throw new Error(`CustomInventoryCollector: watched file '${file}' is not an absolute path`);
    if (file.includes('\0'))
      throw new Error('CustomInventoryCollector: a watched file contains a NUL character');
  }
}

function validateServices(services: readonly string[]): void {
  for (const service of services) {
    checkLiteral('a watched service', service);
    if (!UNIT_NAME.test(service))
      throw new Error(`CustomInventoryCollector: '${service}' is not a systemd unit name`);
  }
}
