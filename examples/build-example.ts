/**
 * Builds the example fleet from the package lists in examples/source/.
 *
 *   npx tsx examples/build-example.ts
 *
 * Writes, replacing any earlier output:
 *   examples/fleet/inventory/      a Resource Data Sync tree, as `aws s3 sync s3://<bucket>/<prefix> ./inventory` leaves it
 *   examples/fleet/instances.json  `aws ec2 describe-instances` output for the same fleet
 *   examples/reference/inventory/  the same sync layout for the two reference (golden) instances
 *
 * The output is deterministic: nothing reads the clock and nothing is random. Identifiers come from SHA-256 of
 * fixed labels. examples/source/README.md describes the fleet and the drift on each instance.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const EXAMPLES = dirname(fileURLToPath(import.meta.url));
const SOURCE = join(EXAMPLES, 'source');
const FLEET = join(EXAMPLES, 'fleet');
const REFERENCE = join(EXAMPLES, 'reference');

const ACCOUNT = '111122223333';
const REGION = 'eu-west-1';

/**
 * How attribute names are written. Resource Data Sync keeps the inventory type's attribute names (PascalCase
 * for the AWS:* types, as the SSM Agent reports them: `Name`, `URL`, `PackageId`, ...) and adds `resourceId`,
 * `captureTime` and `schemaVersion`. 'lowerCamel' lower-cases the first letter of every attribute name instead
 * (`name`, `url`, `packageId`); custom types already use lower camel case, so it does not change them.
 */
const ATTRIBUTE_NAMES: 'asCollected' | 'lowerCamel' = 'asCollected';

/** The golden AMIs, and the Debian AMI that was golden before ami-0d1e2b3a4c5d6e7f8 (it has no manifest). */
const AMI = {
  web: 'ami-0a1b2c3d4e5f60718',
  api: 'ami-0d1e2b3a4c5d6e7f8',
  apiPrevious: 'ami-001ddeb1a00000001',
} as const;

/** When the AL2023 base AMI was built (rpm install time of its packages) and when each golden AMI was baked. */
const AL2023_AMI_BUILD = '2024-10-10T21:03:11Z';
const WEB_GOLDEN_BAKE = '2026-11-18T10:22:40Z';

const AGENT_VERSION = '3.3.859.0';

// ---------------------------------------------------------------------------------------------------------------
// Small helpers

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** An AWS-style resource id: prefix, '-0', then 16 hex digits (17 after the dash, like current EC2 ids). */
function awsId(prefix: string, label: string): string {
  return `${prefix}-0${sha256(`${prefix}:${label}`).slice(0, 16)}`;
}

function hashNumber(label: string): number {
  return Number.parseInt(sha256(label).slice(0, 8), 16);
}

/** `base` plus some seconds, as RFC 3339 UTC without fractions (the format the SSM Agent writes). */
function addSeconds(base: string, seconds: number): string {
  return new Date(Date.parse(base) + seconds * 1000).toISOString().replace('.000Z', 'Z');
}

/** The timestamp format of AWS CLI v2 JSON output. */
function cliTime(iso: string): string {
  return iso.replace('Z', '+00:00');
}

function uuidFrom(label: string): string {
  const h = sha256(label);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

function readTsv(file: string): Record<string, string>[] {
  const [header, ...lines] = readFileSync(file, 'utf8').trimEnd().split('\n');
  if (header === undefined) throw new Error(`${file} is empty`);
  const columns = header.split('\t');
  return lines.map((line, index) => {
    const cells = line.split('\t');
    if (cells.length !== columns.length) {
      throw new Error(`${file}:${index + 2}: ${cells.length} columns, the header has ${columns.length}`);
    }
    return Object.fromEntries(columns.map((column, i) => [column, cells[i] ?? '']));
  });
}

function cell(row: Record<string, string>, column: string): string {
  const value = row[column];
  if (value === undefined) throw new Error(`missing column ${column}`);
  return value;
}

// ---------------------------------------------------------------------------------------------------------------
// Packages

interface RpmPackage {
  kind: 'rpm';
  name: string;
  epoch: string;
  version: string;
  release: string;
  arch: string;
  /** '' (same as the package), a source package name, `name@version-release`, or '(none)'. */
  source: string;
  url: string;
  summary: string;
  installedTime: string;
}

interface DebPackage {
  kind: 'deb';
  name: string;
  version: string;
  arch: string;
  section: string;
  maintainer: string;
  homepage: string;
  summary: string;
}

interface SnapPackage {
  kind: 'snap';
  name: string;
  version: string;
  publisher: string;
}

type Package = RpmPackage | DebPackage | SnapPackage;

function loadAl2023(): RpmPackage[] {
  return readTsv(join(SOURCE, 'al2023-packages.tsv')).map((row) => {
    const name = cell(row, 'name');
    const layer = cell(row, 'layer');
    // rpm installs packages one after the other: spread install times over the build.
    const base = layer === 'golden' ? WEB_GOLDEN_BAKE : AL2023_AMI_BUILD;
    const spread = layer === 'golden' ? 95 : 170;
    const offset = name === 'gpg-pubkey' ? 0 : 1 + (hashNumber(`installed:${name}`) % spread);
    return {
      kind: 'rpm',
      name,
      epoch: cell(row, 'epoch'),
      version: cell(row, 'version'),
      release: cell(row, 'release'),
      arch: cell(row, 'arch'),
      source: cell(row, 'source'),
      url: cell(row, 'url'),
      summary: cell(row, 'summary'),
      installedTime: addSeconds(base, offset),
    };
  });
}

function loadDebian12(): DebPackage[] {
  return readTsv(join(SOURCE, 'debian12-packages.tsv')).map((row) => ({
    kind: 'deb',
    name: cell(row, 'name'),
    version: cell(row, 'version'),
    arch: cell(row, 'arch'),
    section: cell(row, 'section'),
    maintainer: cell(row, 'maintainer'),
    homepage: cell(row, 'homepage'),
    summary: cell(row, 'summary'),
  }));
}

const AL2023_PACKAGES = loadAl2023();
const DEBIAN12_PACKAGES = loadDebian12();
const DEBIAN12_SNAPS: SnapPackage[] = [
  { kind: 'snap', name: 'core22', version: '20240904', publisher: 'canonical**' },
];

type Item = Record<string, string>;

/** What the agent does to Summary: keep the first line, escape it, cut it to 100 characters. */
function agentSummary(text: string): string {
  return (text.split('\n')[0] ?? '').slice(0, 100);
}

/** The agent's model.FormatArchitecture. */
function agentArchitecture(arch: string): string {
  const a = arch.trim().toLowerCase();
  if (a === 'amd64') return 'x86_64';
  if (a === '386') return 'i386';
  return a;
}

function sourceRpm(p: RpmPackage): string {
  if (p.source === '(none)') return '(none)';
  if (p.source.includes('@')) return `${p.source.replace('@', '-')}.src.rpm`;
  return `${p.source || p.name}-${p.version}-${p.release}.src.rpm`;
}

/**
 * One AWS:Application item, with the attributes in the order of the agent's ApplicationData struct. Release,
 * Epoch, InstalledTime, ApplicationType, URL, Summary and PackageId are `omitempty` there, so an empty value
 * leaves the attribute out: an rpm without an epoch has no Epoch, a deb has no Release, Epoch or InstalledTime.
 */
function applicationItem(p: Package): Item {
  const item: Item = {};
  const put = (key: string, value: string, omitEmpty: boolean) => {
    if (value !== '' || !omitEmpty) item[key] = value;
  };
  switch (p.kind) {
    case 'rpm': {
      const keyOnly = p.arch === '(none)'; // gpg-pubkey: rpm prints (none) for tags the header does not have
      put('Name', p.name, false);
      put('Publisher', keyOnly ? '(none)' : 'Amazon Linux', false);
      put('Version', p.version, false);
      put('Release', p.release, true);
      put('Epoch', p.epoch, true);
      put('InstalledTime', p.installedTime, true);
      // Fedora, and so AL2023, dropped the Group tag from its spec files: rpm reports "Unspecified".
      put('ApplicationType', keyOnly ? 'Public Keys' : 'Unspecified', true);
      put('Architecture', agentArchitecture(p.arch), false);
      put('URL', p.url, true);
      put('Summary', agentSummary(p.summary), true);
      put('PackageId', sourceRpm(p), true);
      break;
    }
    case 'deb':
      put('Name', p.name, false);
      put('Publisher', p.maintainer, false);
      put('Version', p.version, false);
      put('ApplicationType', p.section, true);
      put('Architecture', agentArchitecture(p.arch), false);
      put('URL', p.homepage, true);
      put('Summary', agentSummary(p.summary), true);
      put('PackageId', `${p.name}_${p.version}_${p.arch}.deb`, true);
      break;
    case 'snap':
      // From `snap list`: no architecture, URL, summary or package id.
      put('Name', p.name, false);
      put('Publisher', p.publisher, false);
      put('Version', p.version, false);
      put('ApplicationType', 'admin', true);
      put('Architecture', '', false);
      break;
  }
  return item;
}

function compareItems(a: Item, b: Item): number {
  const key = (i: Item) => [
    (i.Name ?? '').toLowerCase(),
    (i.Publisher ?? '').toLowerCase(),
    i.Version ?? '',
    i.Architecture ?? '',
  ];
  const ka = key(a);
  const kb = key(b);
  for (let i = 0; i < ka.length; i++) {
    const x = ka[i] ?? '';
    const y = kb[i] ?? '';
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

// ---------------------------------------------------------------------------------------------------------------
// Watched files, services and kernel (the Custom:Driftwatch* types written by driftwatch's collector)

interface WatchedFile {
  path: string;
  content: string;
  mode: string;
  owner: string;
}

interface Unit {
  name: string;
  status: 'running' | 'exited' | 'stopped' | 'failed';
  startType: 'enabled' | 'disabled' | 'static';
}

const text = (lines: string[]) => `${lines.join('\n')}\n`;

function sshdConfig(os: Os, passwordAuthentication: 'no' | 'yes', incidentNote?: string): string {
  const al = os === 'al2023';
  return text([
    '# Managed by the golden image build. Local changes are lost on the next bake.',
    '# See sshd_config(5).',
    '',
    'Include /etc/ssh/sshd_config.d/*.conf',
    '',
    'HostKey /etc/ssh/ssh_host_rsa_key',
    'HostKey /etc/ssh/ssh_host_ecdsa_key',
    'HostKey /etc/ssh/ssh_host_ed25519_key',
    '',
    al ? 'SyslogFacility AUTHPRIV' : 'SyslogFacility AUTH',
    'LogLevel VERBOSE',
    '',
    'PermitRootLogin no',
    'MaxAuthTries 3',
    'MaxSessions 4',
    'LoginGraceTime 30',
    'PubkeyAuthentication yes',
    'AuthorizedKeysFile .ssh/authorized_keys',
    ...(al
      ? [
          'AuthorizedKeysCommand /opt/aws/bin/eic_run_authorized_keys %u %f',
          'AuthorizedKeysCommandUser ec2-instance-connect',
        ]
      : []),
    ...(incidentNote === undefined ? [] : [`# ${incidentNote}`]),
    `PasswordAuthentication ${passwordAuthentication}`,
    'PermitEmptyPasswords no',
    'KbdInteractiveAuthentication no',
    'GSSAPIAuthentication no',
    'UsePAM yes',
    '',
    'AllowAgentForwarding no',
    'AllowTcpForwarding no',
    'X11Forwarding no',
    'PrintMotd no',
    'ClientAliveInterval 300',
    'ClientAliveCountMax 2',
    '',
    'AcceptEnv LANG LC_*',
    '',
    al ? 'Subsystem sftp /usr/libexec/openssh/sftp-server' : 'Subsystem sftp /usr/lib/openssh/sftp-server',
  ]);
}

function sudoers(os: Os): string {
  if (os === 'al2023') {
    return text([
      '## Sudoers allows particular users to run various commands as',
      '## the root user, without needing the root password.',
      '##',
      "## This file must be edited with the 'visudo' command.",
      '',
      'Defaults   !visiblepw',
      'Defaults    always_set_home',
      'Defaults    match_group_by_gid',
      'Defaults    always_query_group_plugin',
      'Defaults    env_reset',
      'Defaults    env_keep =  "COLORS DISPLAY HOSTNAME HISTSIZE KDEDIR LS_COLORS"',
      'Defaults    env_keep += "MAIL QTDIR USERNAME LANG LC_ADDRESS LC_CTYPE"',
      'Defaults    secure_path = /sbin:/bin:/usr/sbin:/usr/bin',
      'Defaults    use_pty',
      'Defaults    logfile=/var/log/sudo.log',
      '',
      '## Allow root to run any commands anywhere',
      'root\tALL=(ALL) \tALL',
      '',
      '## Allows people in group wheel to run all commands',
      '%wheel\tALL=(ALL)\tALL',
      '',
      '## Read drop-in files from /etc/sudoers.d (the # here does not mean a comment)',
      '#includedir /etc/sudoers.d',
    ]);
  }
  return text([
    '#',
    "# This file MUST be edited with the 'visudo' command as root.",
    '#',
    '# Please consider adding local content in /etc/sudoers.d/ instead of',
    '# directly modifying this file.',
    '#',
    'Defaults\tenv_reset',
    'Defaults\tmail_badpass',
    'Defaults\tsecure_path="/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"',
    'Defaults\tuse_pty',
    'Defaults\tlogfile=/var/log/sudo.log',
    '',
    '# User privilege specification',
    'root\tALL=(ALL:ALL) ALL',
    '',
    '# Allow members of group sudo to execute any command',
    '%sudo\tALL=(ALL:ALL) ALL',
    '',
    '@includedir /etc/sudoers.d',
  ]);
}

function chronyConf(os: Os): string {
  const al = os === 'al2023';
  return text([
    '# Use the Amazon Time Sync Service (link-local, reachable from every VPC).',
    'server 169.254.169.123 prefer iburst minpoll 4 maxpoll 4',
    '',
    '# Additional sources, e.g. from DHCP.',
    ...(al
      ? ['sourcedir /run/chrony.d', 'sourcedir /etc/chrony.d']
      : ['confdir /etc/chrony/conf.d', 'sourcedir /run/chrony-dhcp']),
    '',
    al ? 'keyfile /etc/chrony.keys' : 'keyfile /etc/chrony/chrony.keys',
    al ? 'driftfile /var/lib/chrony/drift' : 'driftfile /var/lib/chrony/chrony.drift',
    'ntsdumpdir /var/lib/chrony',
    'logdir /var/log/chrony',
    '',
    '# Step the clock in the first three updates if it is off by more than a second.',
    'makestep 1.0 3',
    'rtcsync',
    'leapsectz right/UTC',
  ]);
}

function sysctlConf(os: Os): string {
  return text([
    '# sysctl settings are defined through files in',
    '# /usr/lib/sysctl.d/, /run/sysctl.d/, and /etc/sysctl.d/.',
    '#',
    `# Hardening from the golden image build (${os === 'al2023' ? 'web' : 'api'}). Do not edit on instances.`,
    'net.ipv4.conf.all.accept_redirects = 0',
    'net.ipv4.conf.default.accept_redirects = 0',
    'net.ipv4.conf.all.send_redirects = 0',
    'net.ipv4.conf.all.accept_source_route = 0',
    'net.ipv4.conf.all.log_martians = 1',
    'net.ipv4.tcp_syncookies = 1',
    'net.ipv6.conf.all.accept_redirects = 0',
    'net.ipv6.conf.all.accept_ra = 0',
    'kernel.kptr_restrict = 2',
    'kernel.dmesg_restrict = 1',
    'kernel.yama.ptrace_scope = 1',
    'fs.suid_dumpable = 0',
    ...(os === 'al2023' ? ['net.core.somaxconn = 4096'] : ['vm.swappiness = 10']),
  ]);
}

function limitsConf(os: Os): string {
  const service = os === 'al2023' ? 'nginx' : 'api';
  return text([
    '# /etc/security/limits.conf',
    '#',
    '#This file sets the resource limits for the users logged in via PAM.',
    '#It does not affect resource limits of the system services.',
    '#',
    '#<domain>      <type>  <item>         <value>',
    '*               soft    core            0',
    '*               hard    core            0',
    `${service.padEnd(16)}soft    nofile          65536`,
    `${service.padEnd(16)}hard    nofile          65536`,
    '',
    '# End of file',
  ]);
}

function auditdConf(): string {
  return text([
    '#',
    '# This file controls the configuration of the audit daemon',
    '#',
    '',
    'local_events = yes',
    'write_logs = yes',
    'log_file = /var/log/audit/audit.log',
    'log_group = root',
    'log_format = ENRICHED',
    'flush = INCREMENTAL_ASYNC',
    'freq = 50',
    'max_log_file = 32',
    'num_logs = 8',
    'priority_boost = 4',
    'name_format = HOSTNAME',
    'max_log_file_action = ROTATE',
    'space_left = 75',
    'space_left_action = SYSLOG',
    'admin_space_left = 50',
    'admin_space_left_action = SUSPEND',
    'disk_full_action = SUSPEND',
    'disk_error_action = SUSPEND',
    'tcp_listen_queue = 5',
    'tcp_max_per_addr = 1',
    'tcp_client_max_idle = 0',
    'transport = TCP',
    'krb5_principal = auditd',
    'distribute_network = no',
    'q_depth = 2000',
    'overflow_action = SYSLOG',
    'max_restarts = 10',
    'plugin_dir = /etc/audit/plugins.d',
    'end_of_event_timeout = 2',
  ]);
}

function fileItem(f: WatchedFile): Item {
  return {
    path: f.path,
    sha256: sha256(f.content),
    size: String(Buffer.byteLength(f.content)),
    mode: f.mode,
    owner: f.owner,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Host state: the golden state of each AMI, and the drift applied on top of it

type Os = 'al2023' | 'debian12';

interface HostState {
  packages: Package[];
  files: WatchedFile[];
  units: Unit[];
  kernelRelease: string;
}

function goldenState(os: Os): HostState {
  if (os === 'al2023') {
    return {
      packages: AL2023_PACKAGES.map((p) => ({ ...p })),
      files: [
        { path: '/etc/ssh/sshd_config', content: sshdConfig(os, 'no'), mode: '0600', owner: 'root' },
        { path: '/etc/sudoers', content: sudoers(os), mode: '0440', owner: 'root' },
        { path: '/etc/chrony.conf', content: chronyConf(os), mode: '0644', owner: 'root' },
        { path: '/etc/sysctl.conf', content: sysctlConf(os), mode: '0644', owner: 'root' },
        { path: '/etc/security/limits.conf', content: limitsConf(os), mode: '0644', owner: 'root' },
        { path: '/etc/audit/auditd.conf', content: auditdConf(), mode: '0640', owner: 'root' },
      ],
      units: [
        { name: 'amazon-ssm-agent.service', status: 'running', startType: 'enabled' },
        { name: 'auditd.service', status: 'running', startType: 'enabled' },
        { name: 'chronyd.service', status: 'running', startType: 'enabled' },
        { name: 'crond.service', status: 'running', startType: 'enabled' },
        { name: 'nginx.service', status: 'running', startType: 'enabled' },
        { name: 'rsyslog.service', status: 'running', startType: 'enabled' },
        { name: 'sshd.service', status: 'running', startType: 'enabled' },
        { name: 'systemd-journald.service', status: 'running', startType: 'static' },
      ],
      kernelRelease: '6.1.112-122.189.amzn2023.x86_64',
    };
  }
  return {
    packages: [...DEBIAN12_PACKAGES.map((p) => ({ ...p })), ...DEBIAN12_SNAPS.map((p) => ({ ...p }))],
    files: [
      { path: '/etc/ssh/sshd_config', content: sshdConfig(os, 'no'), mode: '0644', owner: 'root' },
      { path: '/etc/sudoers', content: sudoers(os), mode: '0440', owner: 'root' },
      { path: '/etc/chrony/chrony.conf', content: chronyConf(os), mode: '0644', owner: 'root' },
      { path: '/etc/sysctl.conf', content: sysctlConf(os), mode: '0644', owner: 'root' },
      { path: '/etc/security/limits.conf', content: limitsConf(os), mode: '0644', owner: 'root' },
      { path: '/etc/audit/auditd.conf', content: auditdConf(), mode: '0640', owner: 'root' },
    ],
    units: [
      { name: 'amazon-ssm-agent.service', status: 'running', startType: 'enabled' },
      { name: 'auditd.service', status: 'running', startType: 'enabled' },
      { name: 'chrony.service', status: 'running', startType: 'enabled' },
      { name: 'cron.service', status: 'running', startType: 'enabled' },
      { name: 'fail2ban.service', status: 'running', startType: 'enabled' },
      { name: 'nftables.service', status: 'exited', startType: 'enabled' },
      { name: 'rsyslog.service', status: 'running', startType: 'enabled' },
      { name: 'ssh.service', status: 'running', startType: 'enabled' },
      { name: 'systemd-journald.service', status: 'running', startType: 'static' },
    ],
    kernelRelease: '6.1.0-26-cloud-amd64',
  };
}

function findPackage<K extends Package['kind']>(state: HostState, kind: K, name: string, arch?: string) {
  const found = state.packages.find(
    (p): p is Extract<Package, { kind: K }> =>
      p.kind === kind && p.name === name && (arch === undefined || ('arch' in p && p.arch === arch)),
  );
  if (found === undefined) throw new Error(`no ${kind} package ${name} in the golden state`);
  return found;
}

type Drift = (state: HostState) => void;

/** dnf upgrade/downgrade of one rpm to another release, at a given time. */
const setRpmRelease =
  (names: string[], release: string, installedTime: string): Drift =>
  (state) => {
    names.forEach((name, i) => {
      const p = findPackage(state, 'rpm', name);
      p.release = release;
      p.installedTime = addSeconds(installedTime, i);
    });
  };

const addRpm =
  (p: Omit<RpmPackage, 'kind'>): Drift =>
  (state) => {
    state.packages.push({ kind: 'rpm', ...p });
  };

const setDebVersion =
  (names: string[], version: string): Drift =>
  (state) => {
    for (const name of names) findPackage(state, 'deb', name, 'amd64').version = version;
  };

const removeDeb =
  (name: string): Drift =>
  (state) => {
    const p = findPackage(state, 'deb', name, 'amd64');
    state.packages = state.packages.filter((q) => q !== p);
  };

const addDeb =
  (p: Omit<DebPackage, 'kind'>): Drift =>
  (state) => {
    state.packages.push({ kind: 'deb', ...p });
  };

const setUnit =
  (name: string, status: Unit['status']): Drift =>
  (state) => {
    const unit = state.units.find((u) => u.name === name);
    if (unit === undefined) throw new Error(`no unit ${name}`);
    unit.status = status;
  };

const setFile =
  (path: string, content: string): Drift =>
  (state) => {
    const file = state.files.find((f) => f.path === path);
    if (file === undefined) throw new Error(`no watched file ${path}`);
    file.content = content;
  };

const setKernel =
  (release: string): Drift =>
  (state) => {
    state.kernelRelease = release;
  };

// ---------------------------------------------------------------------------------------------------------------
// The fleet

type Az = 'a' | 'b' | 'c';

interface Host {
  label: string;
  instanceId: string;
  os: Os;
  /** The ASG, or undefined for the reference instances. */
  asg: 'web' | 'api' | undefined;
  imageId: string;
  az: Az;
  ip: string;
  /** When the inventory was collected; undefined: the instance never reported (no inventory at all). */
  captureTime: string | undefined;
  /** AWS:InstanceInformation InstanceStatus. */
  instanceStatus: 'Active' | 'Terminated';
  drift: Drift[];
  /** How the instance appears in describe-instances; undefined: it does not appear at all. */
  ec2: Ec2Facts | undefined;
}

interface Ec2Facts {
  launchTime: string;
  state: 'running' | 'terminated';
  terminatedAt?: string;
  launchTemplateVersion: string;
  /** Instances launched by the same RunInstances call share a reservation. */
  reservation: string;
}

const INCIDENT_WEB = 'INC-4711: password login for the vendor, revert after the call';

const webHost = (
  n: number,
  az: Az,
  ip: string,
  captureTime: string,
  launchTime: string,
  drift: Drift[],
): Host => ({
  label: `web-${n}`,
  instanceId: awsId('i', `web-${n}`),
  os: 'al2023',
  asg: 'web',
  imageId: AMI.web,
  az,
  ip,
  captureTime,
  instanceStatus: 'Active',
  drift,
  ec2: { launchTime, state: 'running', launchTemplateVersion: '7', reservation: `web-${n}` },
});

const apiHost = (
  n: number,
  az: Az,
  ip: string,
  captureTime: string | undefined,
  ec2: Partial<Ec2Facts>,
  drift: Drift[],
) => {
  const host: Host = {
    label: `api-${n}`,
    instanceId: awsId('i', `api-${n}`),
    os: 'debian12',
    asg: 'api',
    imageId: AMI.api,
    az,
    ip,
    captureTime,
    instanceStatus: 'Active',
    drift,
    ec2: {
      launchTime: '2026-11-25T09:02:11Z',
      state: 'running',
      launchTemplateVersion: '4',
      reservation: `api-${n}`,
      ...ec2,
    },
  };
  return host;
};

const FLEET_HOSTS: Host[] = [
  webHost(1, 'a', '10.0.1.37', '2026-11-27T09:12:44Z', '2026-11-24T14:06:51Z', []),
  webHost(2, 'b', '10.0.2.118', '2026-11-27T09:26:05Z', '2026-11-24T14:06:53Z', [
    setRpmRelease(['openssl-libs', 'openssl'], '1.amzn2023.0.15', '2026-11-25T03:14:51Z'),
    addRpm({
      name: 'htop',
      epoch: '',
      version: '3.2.1',
      release: '1.amzn2023.0.2',
      arch: 'x86_64',
      source: '',
      url: 'https://htop.dev',
      summary: 'Interactive process viewer',
      installedTime: '2026-11-25T03:21:07Z',
    }),
  ]),
  webHost(3, 'c', '10.0.3.201', '2026-11-27T09:47:31Z', '2026-11-24T14:07:02Z', [
    setFile('/etc/ssh/sshd_config', sshdConfig('al2023', 'yes', INCIDENT_WEB)),
    setUnit('sshd.service', 'stopped'),
  ]),
  webHost(4, 'a', '10.0.1.164', '2026-11-27T10:03:18Z', '2026-11-25T08:31:17Z', [
    // `dnf downgrade nginx` takes the subpackages built from the same source along.
    setRpmRelease(['nginx-filesystem', 'nginx-core', 'nginx'], '1.amzn2023.0.2', '2026-11-26T16:40:18Z'),
    addRpm({
      name: 'libpcap',
      epoch: '14',
      version: '1.10.1',
      release: '1.amzn2023.0.2',
      arch: 'x86_64',
      source: '',
      url: 'http://www.tcpdump.org',
      summary: 'A system-independent interface for user-level packet capture',
      installedTime: '2026-11-26T16:52:40Z',
    }),
    addRpm({
      name: 'tcpdump',
      epoch: '14',
      version: '4.99.1',
      release: '1.amzn2023.0.2',
      arch: 'x86_64',
      source: '',
      url: 'http://www.tcpdump.org',
      summary: 'A network traffic monitoring tool',
      installedTime: '2026-11-26T16:52:41Z',
    }),
  ]),
  // The agent stopped reporting: the last inventory is three days old.
  webHost(5, 'b', '10.0.2.59', '2026-11-24T08:00:00Z', '2026-11-23T22:48:09Z', []),
  webHost(6, 'c', '10.0.3.92', '2026-11-27T10:58:27Z', '2026-11-26T11:15:40Z', []),
  // Scaled in eight minutes before the audit: describe-instances still lists it as terminated, and the sync has
  // not caught up yet (InstanceStatus is still Active).
  {
    ...webHost(7, 'a', '10.0.1.88', '2026-11-27T09:41:12Z', '2026-11-25T08:31:19Z', []),
    ec2: {
      launchTime: '2026-11-25T08:31:19Z',
      state: 'terminated',
      terminatedAt: '2026-11-27T11:52:04Z',
      launchTemplateVersion: '7',
      reservation: 'web-7',
    },
  },
  // Terminated in October: gone from describe-instances, its inventory is still in the bucket.
  {
    ...webHost(0, 'b', '10.0.2.14', '2026-10-29T06:15:40Z', '2026-10-12T09:30:00Z', []),
    instanceStatus: 'Terminated',
    ec2: undefined,
  },
  apiHost(1, 'a', '10.0.11.23', '2026-11-27T09:08:52Z', {}, [
    setDebVersion(['libssl3', 'openssl'], '3.0.15-1~deb12u1'),
    removeDeb('curl'),
  ]),
  apiHost(2, 'b', '10.0.12.140', '2026-11-27T09:33:10Z', { launchTime: '2026-11-25T09:02:14Z' }, [
    addDeb({
      name: 'linux-image-6.1.0-27-cloud-amd64',
      version: '6.1.115-1',
      arch: 'amd64',
      section: 'kernel',
      maintainer: 'Debian Kernel Team <debian-kernel@lists.debian.org>',
      homepage: 'https://www.kernel.org/',
      summary: 'Linux 6.1 for x86-64 cloud',
    }),
    setKernel('6.1.0-27-cloud-amd64'),
  ]),
  // Never replaced after the AMI rollout: still on the previous golden AMI, which has no manifest.
  {
    ...apiHost(
      3,
      'c',
      '10.0.13.77',
      '2026-11-27T10:17:49Z',
      { launchTime: '2026-10-02T07:44:36Z', launchTemplateVersion: '3' },
      [],
    ),
    imageId: AMI.apiPrevious,
  },
  apiHost(
    4,
    'a',
    '10.0.11.206',
    '2026-11-27T10:41:23Z',
    { launchTime: '2026-11-26T15:20:03Z', reservation: 'api-4+5' },
    [],
  ),
  apiHost(
    5,
    'b',
    '10.0.12.31',
    '2026-11-27T11:24:56Z',
    { launchTime: '2026-11-26T15:20:03Z', reservation: 'api-4+5' },
    [],
  ),
  // Running, but the agent never registered: present in describe-instances, absent from the sync tree.
  apiHost(6, 'c', '10.0.13.185', undefined, { launchTime: '2026-11-25T09:02:16Z' }, []),
];

const REFERENCE_HOSTS: Host[] = [
  {
    label: 'reference-web',
    instanceId: 'i-0a11ce00000000001',
    os: 'al2023',
    asg: undefined,
    imageId: AMI.web,
    az: 'a',
    ip: '10.0.250.10',
    captureTime: '2026-11-27T09:02:13Z',
    instanceStatus: 'Active',
    drift: [],
    ec2: undefined,
  },
  {
    label: 'reference-api',
    instanceId: 'i-0deb1a00000000001',
    os: 'debian12',
    asg: undefined,
    imageId: AMI.api,
    az: 'a',
    ip: '10.0.250.11',
    captureTime: '2026-11-27T09:03:40Z',
    instanceStatus: 'Active',
    drift: [],
    ec2: undefined,
  },
];

// ---------------------------------------------------------------------------------------------------------------
// Resource Data Sync tree

function renameAttributes(item: Item): Item {
  if (ATTRIBUTE_NAMES === 'asCollected') return item;
  return Object.fromEntries(
    Object.entries(item).map(([key, value]) => [
      key === 'URL' ? 'url' : key[0]?.toLowerCase() + key.slice(1),
      value,
    ]),
  );
}

function syncObject(items: Item[], resourceId: string, captureTime: string, schemaVersion: string): string {
  return items
    .map((item) => JSON.stringify({ ...renameAttributes(item), resourceId, captureTime, schemaVersion }))
    .join('\n');
}

function hostname(host: Host): string {
  const short = `ip-${host.ip.replaceAll('.', '-')}`;
  return host.os === 'al2023' ? `${short}.${REGION}.compute.internal` : short;
}

function writeSyncTree(root: string, hosts: Host[]): number {
  let written = 0;
  const write = (type: string, host: Host, body: string) => {
    const dir = join(
      root,
      type,
      `accountid=${ACCOUNT}`,
      `region=${REGION}`,
      'resourcetype=ManagedInstanceInventory',
    );
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `${host.instanceId}.json`), body);
    written++;
  };
  for (const host of hosts) {
    const t = host.captureTime;
    if (t === undefined) continue;
    const state = goldenState(host.os);
    for (const drift of host.drift) drift(state);
    const id = host.instanceId;

    // Each gatherer stamps its own capture time; the custom types run a second after AWS:Application.
    const custom = addSeconds(t, 1);
    const apps = state.packages.map(applicationItem).sort(compareItems);
    write('AWS:Application', host, syncObject(apps, id, t, '1.1'));
    const info: Item = {
      AgentType: 'amazon-ssm-agent',
      AgentVersion: AGENT_VERSION,
      ComputerName: hostname(host),
      InstanceId: id,
      InstanceStatus: host.instanceStatus,
      IpAddress: host.ip,
      PlatformName: host.os === 'al2023' ? 'Amazon Linux' : 'Debian GNU/Linux',
      PlatformType: 'Linux',
      PlatformVersion: host.os === 'al2023' ? '2023' : '12',
      ResourceType: 'EC2Instance',
    };
    write('AWS:InstanceInformation', host, syncObject([info], id, t, '1.0'));
    write('Custom:DriftwatchFiles', host, syncObject(state.files.map(fileItem), id, custom, '1.0'));
    const units = state.units.map((u): Item => ({ name: u.name, status: u.status, startType: u.startType }));
    write('Custom:DriftwatchServices', host, syncObject(units, id, custom, '1.0'));
    write(
      'Custom:DriftwatchKernel',
      host,
      syncObject([{ kernelRelease: state.kernelRelease }], id, custom, '1.0'),
    );
  }
  return written;
}

// ---------------------------------------------------------------------------------------------------------------
// describe-instances

const VPC_ID = awsId('vpc', 'prod');
const SUBNETS: Record<Az, string> = {
  a: awsId('subnet', 'private-a'),
  b: awsId('subnet', 'private-b'),
  c: awsId('subnet', 'private-c'),
};

function macAddress(label: string): string {
  const h = sha256(`mac:${label}`);
  return ['06', h.slice(0, 2), h.slice(2, 4), h.slice(4, 6), h.slice(6, 8), h.slice(8, 10)].join(':');
}

function instanceProfileId(asg: string): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  const h = sha256(`profile:${asg}`);
  let id = 'AIPA';
  for (let i = 0; i < 17; i++) id += alphabet[Number.parseInt(h.slice(i * 2, i * 2 + 2), 16) % 32];
  return id;
}

function describeInstance(host: Host, ec2: Ec2Facts): Record<string, unknown> {
  const asg = host.asg ?? 'none';
  const al = host.os === 'al2023';
  const type = al ? 'm6i.large' : 'c6i.large';
  const az = `${REGION}${host.az}`;
  const launch = cliTime(ec2.launchTime);
  const running = ec2.state === 'running';
  const dns = `ip-${host.ip.replaceAll('.', '-')}.${REGION}.compute.internal`;
  const securityGroups = [{ GroupName: `${asg}-instances`, GroupId: awsId('sg', `${asg}-instances`) }];
  const tags = [
    { Key: 'aws:ec2launchtemplate:version', Value: ec2.launchTemplateVersion },
    { Key: 'aws:autoscaling:groupName', Value: asg },
    { Key: 'Service', Value: asg },
    { Key: 'aws:ec2launchtemplate:id', Value: awsId('lt', asg) },
    { Key: 'Environment', Value: 'production' },
    { Key: 'Name', Value: `${asg}-prod` },
  ];
  const network = running
    ? {
        PrivateDnsName: dns,
        PrivateIpAddress: host.ip,
        ProductCodes: [],
        PublicDnsName: '',
        State: { Code: 16, Name: 'running' },
        StateTransitionReason: '',
        SubnetId: SUBNETS[host.az],
        VpcId: VPC_ID,
      }
    : {
        PrivateDnsName: '',
        ProductCodes: [],
        PublicDnsName: '',
        State: { Code: 48, Name: 'terminated' },
        StateTransitionReason: `User initiated (${(ec2.terminatedAt ?? '').replace('T', ' ').replace('Z', ' GMT')})`,
      };
  return {
    AmiLaunchIndex: 0,
    ImageId: host.imageId,
    InstanceId: host.instanceId,
    InstanceType: type,
    LaunchTime: launch,
    Monitoring: { State: 'disabled' },
    Placement: { AvailabilityZone: az, GroupName: '', Tenancy: 'default' },
    ...network,
    Architecture: 'x86_64',
    BlockDeviceMappings: running
      ? [
          {
            DeviceName: '/dev/xvda',
            Ebs: {
              AttachTime: launch,
              DeleteOnTermination: true,
              Status: 'attached',
              VolumeId: awsId('vol', host.label),
            },
          },
        ]
      : [],
    ClientToken: uuidFrom(`client-token:${ec2.reservation}`),
    EbsOptimized: true,
    EnaSupport: true,
    Hypervisor: 'xen',
    IamInstanceProfile: {
      Arn: `arn:aws:iam::${ACCOUNT}:instance-profile/${asg}-prod-instance`,
      Id: instanceProfileId(asg),
    },
    NetworkInterfaces: running
      ? [
          {
            Attachment: {
              AttachTime: launch,
              AttachmentId: awsId('eni-attach', host.label),
              DeleteOnTermination: true,
              DeviceIndex: 0,
              Status: 'attached',
              NetworkCardIndex: 0,
            },
            Description: '',
            Groups: securityGroups,
            Ipv6Addresses: [],
            MacAddress: macAddress(host.label),
            NetworkInterfaceId: awsId('eni', host.label),
            OwnerId: ACCOUNT,
            PrivateDnsName: dns,
            PrivateIpAddress: host.ip,
            PrivateIpAddresses: [{ Primary: true, PrivateDnsName: dns, PrivateIpAddress: host.ip }],
            SourceDestCheck: true,
            Status: 'in-use',
            SubnetId: SUBNETS[host.az],
            VpcId: VPC_ID,
            InterfaceType: 'interface',
          },
        ]
      : [],
    RootDeviceName: '/dev/xvda',
    RootDeviceType: 'ebs',
    SecurityGroups: running ? securityGroups : [],
    ...(running
      ? { SourceDestCheck: true }
      : {
          StateReason: {
            Code: 'Client.UserInitiatedShutdown',
            Message: 'Client.UserInitiatedShutdown: User initiated shutdown',
          },
        }),
    Tags: tags,
    VirtualizationType: 'hvm',
    CpuOptions: { CoreCount: 1, ThreadsPerCore: 2 },
    CapacityReservationSpecification: { CapacityReservationPreference: 'open' },
    HibernationOptions: { Configured: false },
    MetadataOptions: {
      State: 'applied',
      HttpTokens: 'required',
      HttpPutResponseHopLimit: 2,
      HttpEndpoint: 'enabled',
      HttpProtocolIpv6: 'disabled',
      InstanceMetadataTags: 'disabled',
    },
    EnclaveOptions: { Enabled: false },
    ...(al ? { BootMode: 'uefi-preferred' } : {}),
    PlatformDetails: 'Linux/UNIX',
    UsageOperation: 'RunInstances',
    UsageOperationUpdateTime: launch,
    PrivateDnsNameOptions: {
      HostnameType: 'ip-name',
      EnableResourceNameDnsARecord: false,
      EnableResourceNameDnsAAAARecord: false,
    },
    MaintenanceOptions: { AutoRecovery: 'default' },
    CurrentInstanceBootMode: al ? 'uefi' : 'legacy-bios',
    Operator: { Managed: false },
  };
}

function describeInstances(hosts: Host[]): unknown {
  const reservations = new Map<string, Record<string, unknown>[]>();
  for (const host of hosts) {
    if (host.ec2 === undefined) continue;
    const list = reservations.get(host.ec2.reservation) ?? [];
    list.push(describeInstance(host, host.ec2));
    reservations.set(host.ec2.reservation, list);
  }
  return {
    Reservations: [...reservations].map(([label, instances]) => ({
      Groups: [],
      Instances: instances,
      OwnerId: ACCOUNT,
      ReservationId: awsId('r', label),
    })),
  };
}

// ---------------------------------------------------------------------------------------------------------------

function main(): void {
  const fleetInventory = join(FLEET, 'inventory');
  const referenceInventory = join(REFERENCE, 'inventory');
  rmSync(fleetInventory, { recursive: true, force: true });
  rmSync(referenceInventory, { recursive: true, force: true });
  mkdirSync(FLEET, { recursive: true });

  const fleetObjects = writeSyncTree(fleetInventory, FLEET_HOSTS);
  const referenceObjects = writeSyncTree(referenceInventory, REFERENCE_HOSTS);
  writeFileSync(
    join(FLEET, 'instances.json'),
    `${JSON.stringify(describeInstances(FLEET_HOSTS), null, 4)}\n`,
  );

  const rel = (p: string) => p.slice(EXAMPLES.length + 1);
  console.log(`${rel(fleetInventory)}: ${fleetObjects} objects`);
  console.log(`${rel(referenceInventory)}: ${referenceObjects} objects`);
  console.log(`${rel(join(FLEET, 'instances.json'))}: ${FLEET_HOSTS.filter((h) => h.ec2).length} instances`);
  for (const host of [...REFERENCE_HOSTS, ...FLEET_HOSTS]) {
    console.log(`  ${host.instanceId}  ${host.label.padEnd(13)} ${host.imageId}`);
  }
}

main();
