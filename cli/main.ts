/**
 * driftwatch CLI. Thin: parse arguments, build adapters, call a use case, render, pick the exit code.
 * Exit codes: 0 no finding at or above --fail-on; 1 drift at or above it; 2 bad usage or bad input.
 */
import { randomUUID } from 'node:crypto';
import { realpath, rename, rm, stat, writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import {
  FileFleetSource,
  FileInventorySource,
  FileManifestStore,
  loadPolicyFile,
} from '../shared/adapters/files.ts';
import { type AuditFleetResult, auditFleet } from '../shared/app/audit-fleet.ts';
import { InventoryTypes } from '../shared/domain/inventory.ts';
import { CaptureError, captureManifest, manifestToJson } from '../shared/domain/manifest.ts';
import {
  type CompiledPolicy,
  defaultPolicy,
  SEVERITIES,
  type Severity,
  severityRank,
} from '../shared/domain/policy.ts';
import { type ReportFormat, renderReport } from '../shared/domain/render.ts';
import type { AuditReport } from '../shared/domain/report.ts';
import { InputError, UsageError } from '../shared/errors.ts';
import { HELP, VERSION } from './help.ts';

export interface CliIo {
  readonly stdout: NodeJS.WritableStream & { isTTY?: boolean };
  readonly stderr: NodeJS.WritableStream & { isTTY?: boolean };
  readonly env: NodeJS.ProcessEnv;
  readonly clock: () => Date;
}

const defaultIo = (): CliIo => ({
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  clock: () => new Date(),
});

export async function main(argv: string[], io: CliIo = defaultIo()): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'audit':
        return await auditCommand(rest, io);
      case 'capture':
        return await captureCommand(rest, io);
      case 'snapshot':
        return await snapshotCommand(rest, io);
      case '--version':
      case 'version':
        io.stdout.write(`${VERSION}\n`);
        return 0;
      case undefined:
      case 'help':
      case '--help':
      case '-h': {
        const topic = command === 'help' ? rest[0] : undefined;
        io.stdout.write(topic && topic in HELP ? HELP[topic as keyof typeof HELP] : HELP.main);
        return 0;
      }
      default:
        throw new UsageError(
          `unknown command '${command}' (commands: audit, capture; see driftwatch --help)`,
        );
    }
  } catch (error) {
    return reportError(error, command, io);
  }
}

function reportError(error: unknown, command: string | undefined, io: CliIo): number {
  const prefix = `driftwatch${command && !command.startsWith('-') ? ` ${command}` : ''}`;
  if (error instanceof UsageError) {
    io.stderr.write(`${prefix}: ${error.message}\n`);
    return 2;
  }
  if (error instanceof InputError || error instanceof CaptureError) {
    io.stderr.write(`${prefix}: ${error.message}\n`);
    return 2;
  }
  const code = (error as { code?: string })?.code;
  if (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS')) {
    io.stderr.write(`${prefix}: ${(error as Error).message} (see driftwatch ${command ?? ''} --help)\n`);
    return 2;
  }
  // Anything else is a bug or an environment failure: say so plainly, keep the stack for debugging.
  io.stderr.write(`${prefix}: unexpected error: ${error instanceof Error ? error.message : String(error)}\n`);
  if (io.env.DRIFTWATCH_DEBUG) io.stderr.write(`${(error as Error)?.stack ?? ''}\n`);
  else io.stderr.write('  (set DRIFTWATCH_DEBUG=1 for a stack trace)\n');
  return 3;
}

function parse<T extends Record<string, { type: 'string' | 'boolean'; multiple?: boolean; short?: string }>>(
  args: string[],
  options: T,
) {
  return parseArgs({
    args,
    options: { ...options, help: { type: 'boolean', short: 'h' } },
    strict: true,
    allowPositionals: false,
  });
}

function parseNow(value: string | undefined, io: CliIo): Date {
  if (value === undefined) return io.clock();
  const match = /^(\d{4})-(\d{2})-(\d{2})(T[\d:.]+(Z|[+-]\d{2}:?\d{2}))?$/.exec(value);
  const ms = match ? Date.parse(value) : Number.NaN;
  // Date.parse rolls an impossible day over (2026-02-30 -> March 2): check the calendar date too.
  const [, y, m, d] = match ?? [];
  const day = new Date(Date.UTC(Number(y), Number(m) - 1, Number(d)));
  if (
    Number.isNaN(ms) ||
    day.getUTCFullYear() !== Number(y) ||
    day.getUTCMonth() !== Number(m) - 1 ||
    day.getUTCDate() !== Number(d)
  )
    throw new UsageError(`--now: '${value}' is not an ISO-8601 time (e.g. 2026-11-27T12:00:00Z)`);
  return new Date(ms);
}

const FORMATS: readonly (ReportFormat | 'chatbot')[] = ['text', 'json', 'markdown', 'html', 'chatbot'];
const FAIL_ON = [...SEVERITIES, 'none'] as const;

function required(value: string | undefined, flag: string): string {
  if (value === undefined || value === '') throw new UsageError(`${flag} is required (see --help)`);
  return value;
}

/** Writes via a temporary file and a rename, so an interrupted run never leaves half a report. */
async function writeOutput(path: string, text: string): Promise<void> {
  // Write through links, and straight into anything that is not a regular file (/dev/stdout, a
  // pipe): renaming over those would replace the link or the device instead of writing to it.
  let target = path;
  try {
    target = await realpath(path);
    if (!(await stat(target)).isFile()) {
      await writeFile(target, text);
      return;
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException)?.code !== 'ENOENT') {
      throw new InputError(path, undefined, `cannot be written: ${(error as Error).message}`, {
        cause: error,
      });
    }
  }
  const tmp = `${target}.${process.pid}.tmp`;
  try {
    await writeFile(tmp, text);
    await rename(tmp, target);
  } catch (error) {
    await rm(tmp, { force: true }).catch(() => {});
    const code = (error as NodeJS.ErrnoException)?.code;
    const why =
      code === 'ENOENT'
        ? 'its directory does not exist'
        : code === 'EACCES' || code === 'EPERM'
          ? 'permission denied'
          : code === 'EISDIR'
            ? 'it is a directory'
            : (error as Error).message;
    throw new InputError(path, undefined, `cannot be written: ${why}`, { cause: error });
  }
}

function progressReporter(io: CliIo, enabled: boolean) {
  if (!enabled) return { tick: (_n: number) => {}, done: () => {} };
  let last = 0;
  return {
    tick: (n: number) => {
      const now = Date.now();
      if (now - last < 200) return;
      last = now;
      io.stderr.write(`\r\x1b[Kaudited ${n} instances`);
    },
    done: () => io.stderr.write('\r\x1b[K'),
  };
}

async function auditCommand(args: string[], io: CliIo): Promise<number> {
  const { values } = parse(args, {
    manifest: { type: 'string' },
    inventory: { type: 'string' },
    instances: { type: 'string' },
    policy: { type: 'string' },
    format: { type: 'string' },
    out: { type: 'string' },
    'fail-on': { type: 'string' },
    'fail-on-unknown': { type: 'boolean' },
    now: { type: 'string' },
    live: { type: 'boolean' },
    region: { type: 'string' },
    asg: { type: 'string', multiple: true },
    act: { type: 'boolean' },
    'dry-run': { type: 'boolean' },
    topic: { type: 'string' },
    'state-table': { type: 'string' },
    quiet: { type: 'boolean', short: 'q' },
  });
  if (values.help) {
    io.stdout.write(HELP.audit);
    return 0;
  }
  const topic = values.topic ?? io.env.DRIFTWATCH_TOPIC_ARN;
  const stateTable = values['state-table'] ?? io.env.DRIFTWATCH_STATE_TABLE;
  if (values.act) {
    if (!values.live) throw new UsageError('--act needs --live: it alerts and refreshes the live fleet');
    if (!values.policy)
      throw new UsageError('--act needs --policy: its remediation block decides what to do');
    if (!topic) throw new UsageError('--act needs --topic <sns-topic-arn> (or DRIFTWATCH_TOPIC_ARN)');
    if (!stateTable)
      throw new UsageError('--act needs --state-table <dynamodb-table> (or DRIFTWATCH_STATE_TABLE)');
  } else if (values['dry-run']) {
    throw new UsageError('--dry-run goes with --act');
  }
  const format = (values.format ?? 'text') as ReportFormat | 'chatbot';
  if (!FORMATS.includes(format))
    throw new UsageError(`--format: '${values.format}' is not one of ${FORMATS.join(', ')}`);
  const failOn = (values['fail-on'] ?? 'low') as (typeof FAIL_ON)[number];
  if (!FAIL_ON.includes(failOn))
    throw new UsageError(`--fail-on: '${values['fail-on']}' is not one of ${FAIL_ON.join(', ')}`);
  const manifestPath = required(values.manifest, '--manifest');
  const now = parseNow(values.now, io);
  const policy: CompiledPolicy = values.policy ? await loadPolicyFile(values.policy) : defaultPolicy();
  const progress = progressReporter(io, !values.quiet && io.stderr.isTTY === true);

  let result: AuditFleetResult;
  if (values.live) {
    if (values.instances)
      throw new UsageError('--instances is for local files; --live reads the fleet from EC2');
    // Loaded on demand: local audits never pay for the AWS SDK.
    const { createAwsClients } = await import('../shared/adapters/aws-clients.ts');
    const { liveDeps } = await import('../shared/app/live-deps.ts');
    const clients = createAwsClients({ region: values.region, env: io.env });
    const inventory = values.inventory ? s3Location(values.inventory, '--inventory') : undefined;
    const manifests = manifestPath.startsWith('s3://')
      ? s3Location(manifestPath, '--manifest')
      : await FileManifestStore.open(manifestPath);
    const deps = liveDeps(clients, {
      inventory: inventory ? { kind: 'sync', ...inventory } : { kind: 'ssm' },
      manifests,
    });
    result = await withAwsErrors(() =>
      auditFleet(deps, {
        policy,
        now,
        runId: randomUUID(),
        clock: io.clock,
        onInstance: progress.tick,
        scope: values.asg?.length ? { asgNames: values.asg } : undefined,
        apiCalls: () => clients.calls.snapshot(),
      }),
    );
  } else {
    if (values.region || values.asg) throw new UsageError('--region and --asg go with --live');
    const inventoryPath = required(values.inventory, '--inventory');
    if (manifestPath.startsWith('s3://') || inventoryPath.startsWith('s3://')) {
      throw new UsageError('s3:// locations are read with --live; or copy them down with `aws s3 sync`');
    }
    const manifests = await FileManifestStore.open(manifestPath);
    const fleet = values.instances ? new FileFleetSource(values.instances) : undefined;
    const inventory = new FileInventorySource(inventoryPath);
    result = await auditFleet(
      { inventory, fleet, manifests },
      { policy, now, runId: randomUUID(), clock: io.clock, onInstance: progress.tick },
    );
  }
  progress.done();
  const { report } = result;

  if (values.act) {
    const { runAct } = await import('./act.ts');
    await withAwsErrors(() =>
      runAct(report, {
        policy,
        now,
        region: values.region,
        topicArn: topic as string,
        stateTable: stateTable as string,
        dryRun: values['dry-run'] === true,
        env: io.env,
        stderr: io.stderr,
      }),
    );
  }

  const color = !values.out && io.stdout.isTTY === true && !io.env.NO_COLOR;
  const text =
    format === 'chatbot'
      ? await chatbotPreview(report, policy, now)
      : renderReport(report, format, { color: color || io.env.FORCE_COLOR === '1' });
  if (values.out) {
    await writeOutput(values.out, text);
    if (!values.quiet) io.stderr.write(`${summaryLine(report)}; report written to ${values.out}\n`);
  } else {
    io.stdout.write(text);
  }
  for (const error of report.errors) io.stderr.write(`warning: ${error.source}: ${error.message}\n`);
  return exitCode(report, failOn, values['fail-on-unknown'] === true);
}

/**
 * The digests a run would publish, decided with no live state: every group's drift counts as new
 * and no group as opted into refreshes.
 */
async function chatbotPreview(report: AuditReport, policy: CompiledPolicy, now: Date): Promise<string> {
  const { renderChatbotPreview } = await import('../shared/domain/chatbot.ts');
  const { decideActions } = await import('../shared/domain/decide.ts');
  const decisions = decideActions({
    instances: report.instances,
    findings: report.findings,
    policy,
    groups: new Map(),
    memory: new Map(),
    now,
  });
  return renderChatbotPreview(report, decisions);
}

/** `s3://bucket/prefix` -> { bucket, prefix: 'prefix/' } (prefix '' or ending in '/'). */
export function parseS3Url(url: string): { bucket: string; prefix: string } | undefined {
  const match = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:\/(.*))?$/.exec(url);
  if (!match) return undefined;
  const raw = match[2] ?? '';
  return { bucket: match[1] as string, prefix: raw === '' || raw.endsWith('/') ? raw : `${raw}/` };
}

function s3Location(url: string, flag: string): { bucket: string; prefix: string } {
  const location = parseS3Url(url);
  if (!location) throw new UsageError(`${flag}: '${url}' is not an s3://bucket/prefix location`);
  return location;
}

/** The AWS error names along an error's cause chain (adapters wrap SDK errors in their own). */
function errorNames(error: unknown): string[] {
  const names: string[] = [];
  for (let e = error, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const name = (e as { name?: unknown }).name;
    if (typeof name === 'string') names.push(name);
  }
  return names;
}

const REFUSED =
  /AccessDenied|UnauthorizedOperation|UnrecognizedClient|InvalidClientTokenId|ExpiredToken|SignatureDoesNotMatch/;

/** AWS configuration and permission problems are the user's to fix: say which, in one line. */
async function withAwsErrors<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    const names = errorNames(error);
    const message = error instanceof Error ? (error.message.split('\n')[0] ?? '') : String(error);
    if (names.includes('CredentialsProviderError')) {
      throw new UsageError(
        `no AWS credentials found (${message}); set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY`,
      );
    }
    const refused = names.find((n) => REFUSED.test(n));
    if (refused) throw new UsageError(`AWS refused a call (${refused}): ${message}`);
    if (names.includes('NoSuchBucket'))
      throw new UsageError(message.includes('bucket') ? message : `AWS: ${message}`);
    if (error instanceof Error && /Region is missing/i.test(error.message)) {
      throw new UsageError('no AWS region: pass --region or set AWS_REGION');
    }
    throw error;
  }
}

function summaryLine(report: AuditReport): string {
  const s = report.summary;
  return `${s.instances} instances: ${s.compliant} compliant, ${s.drifted} drifted, ${s.unknown} unknown`;
}

export function exitCode(report: AuditReport, failOn: Severity | 'none', failOnUnknown: boolean): number {
  if (failOnUnknown && report.summary.unknown > 0) return 1;
  if (failOn === 'none') return 0;
  const threshold = severityRank(failOn);
  return report.findings.some((f) => severityRank(f.severity) >= threshold) ? 1 : 0;
}

async function snapshotCommand(args: string[], io: CliIo): Promise<number> {
  const { values } = parse(args, {
    live: { type: 'boolean' },
    region: { type: 'string' },
    asg: { type: 'string', multiple: true },
    inventory: { type: 'string' },
    out: { type: 'string' },
    'instances-out': { type: 'string' },
    quiet: { type: 'boolean', short: 'q' },
  });
  if (values.help) {
    io.stdout.write(HELP.snapshot);
    return 0;
  }
  if (!values.live) throw new UsageError('snapshot reads the live fleet: pass --live');
  const inventory = values.inventory ? s3Location(values.inventory, '--inventory') : undefined;
  const progress = progressReporter(io, !values.quiet && io.stderr.isTTY === true);
  const { snapshotLive } = await import('./snapshot.ts');
  const { instances, running } = await withAwsErrors(() =>
    snapshotLive({
      region: values.region,
      asgNames: values.asg,
      inventory,
      out: values.out,
      instancesOut: values['instances-out'],
      env: io.env,
      stdout: io.stdout,
      onInstance: progress.tick,
    }),
  );
  progress.done();
  if (!values.quiet) {
    const where = values.out ? `; written to ${values.out}` : '';
    io.stderr.write(`snapshot: ${instances} of ${running} running instances had inventory${where}\n`);
  }
  return 0;
}

async function captureCommand(args: string[], io: CliIo): Promise<number> {
  const { values } = parse(args, {
    inventory: { type: 'string' },
    instance: { type: 'string' },
    ami: { type: 'string' },
    name: { type: 'string' },
    out: { type: 'string' },
    now: { type: 'string' },
  });
  if (values.help) {
    io.stdout.write(HELP.capture);
    return 0;
  }
  const inventoryPath = required(values.inventory, '--inventory');
  const instanceId = required(values.instance, '--instance');
  const amiId = required(values.ami, '--ami');
  const capturedAt = parseNow(values.now, io);
  const snapshot = await new FileInventorySource(inventoryPath).find(instanceId);
  if (!snapshot)
    throw new InputError(inventoryPath, undefined, `has no inventory for instance ${instanceId}`);
  if (!snapshot.types.has(InventoryTypes.application)) {
    throw new InputError(
      inventoryPath,
      undefined,
      `instance ${instanceId} has no AWS:Application inventory (packages) to capture`,
    );
  }
  const manifest = captureManifest(snapshot, {
    amiId,
    capturedAt,
    ...(values.name ? { name: values.name } : {}),
  });
  const json = manifestToJson(manifest);
  if (values.out) {
    await writeOutput(values.out, json);
    io.stderr.write(
      `captured ${manifest.packages.length} packages, ${manifest.services.length} services, ${manifest.files.length} files from ${instanceId} into ${values.out}\n`,
    );
  } else {
    io.stdout.write(json);
  }
  if (snapshot.problems.length > 0) {
    io.stderr.write(`warning: the inventory of ${instanceId} is partial: ${snapshot.problems.join('; ')}\n`);
  }
  return 0;
}
