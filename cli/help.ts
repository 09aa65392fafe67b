export const VERSION = 'driftwatch 0.1.0';

const main = `driftwatch — find drift between EC2 instances and their golden AMI

Usage:
  driftwatch audit   --manifest <file|dir> --inventory <file|dir> [options]
  driftwatch capture --inventory <file|dir> --instance <id> --ami <ami-id> > manifest.json
  driftwatch help <command>

Commands:
  audit     Compare every instance's SSM Inventory with the manifest of the AMI it was launched from.
  capture   Build a golden manifest from the inventory of a reference instance.

Exit codes: 0 no finding at or above --fail-on, 1 drift at or above it, 2 bad usage or bad input,
3 unexpected internal error. Run 'driftwatch <command> --help' for the options of a command.
`;

const audit = `driftwatch audit — compare each instance with the golden manifest of its own AMI

Usage:
  driftwatch audit --manifest <file|dir> --inventory <file|dir> [--instances <file>]
                   [--policy <file.yaml|json>] [--format text|json|markdown|html] [--out <file>]
                   [--fail-on low|medium|high|critical|none] [--fail-on-unknown] [--now <ISO-8601>]

Inputs (the files you already have; no AWS account needed):
  --inventory <dir>   A Resource Data Sync tree copied down with
                        aws s3 sync s3://<bucket>/<prefix> ./inventory
                      (AWS:Application/accountid=.../region=.../resourcetype=ManagedInstanceInventory/<id>.json),
                      or a directory of the files below (the pages and types of one instance are merged).
  --inventory <file>  One 'aws ssm list-inventory-entries' response, or one driftwatch snapshot page
                      ({"Entities":[...]}).
  --instances <file>  'aws ec2 describe-instances' output. Gives each instance its AMI and Auto Scaling
                      group; only running instances are audited, and a running instance without
                      inventory is reported unknown (unmanaged). Without it, every inventoried instance
                      is audited against the only manifest given.
  --manifest <path>   A directory of <ami-id>.json golden manifests, or one manifest file.
  --policy <file>     YAML or JSON: staleAfter, ignore globs, allowed version ranges, severity rules,
                      waivers with an expiry date. See examples/policy.yaml.

Output:
  --format <f>        text (default; colour only on a terminal, NO_COLOR honoured), json (the report
                      contract), markdown, html.
  --out <file>        Write the report to a file (atomically) instead of standard output.
  --fail-on <sev>     Exit 1 when a finding is at or above this severity (default: low). 'none' always
                      exits 0 on a completed audit.
  --fail-on-unknown   Also exit 1 when any instance could not be checked (stale, unmanaged, no manifest).
  --now <time>        Judge staleness and waiver expiry at this time instead of the clock: a date
                      (2026-11-27) or a time with its zone (2026-11-27T12:00:00Z).
  -q, --quiet         No progress on standard error.

Every instance ends up compliant, drifted or unknown. Unknown is never counted as compliant: its
reason says why (inventory-stale, unmanaged, manifest-missing, manifest-invalid, inventory-partial).

Example:
  driftwatch audit --inventory ./inventory --instances instances.json --manifest ./manifests \\
                   --policy policy.yaml --format markdown --out drift.md
`;

const capture = `driftwatch capture — build a golden manifest from a reference instance

Launch an instance from the golden AMI, let SSM Inventory collect it, then:

Usage:
  driftwatch capture --inventory <file|dir> --instance <i-...> --ami <ami-...> [--name <text>]
                     [--out <file>] [--now <ISO-8601>]

  --inventory <path>  Same inputs as 'audit --inventory'.
  --instance <id>     The reference instance.
  --ami <ami-id>      The AMI the reference instance was launched from; the manifest is stored as
                      manifests/<ami-id>.json.
  --name <text>       A name for the manifest (default: the platform name and version).
  --out <file>        Write the manifest there instead of standard output.
  --now <time>        capturedAt (default: the clock).

The manifest holds every package (name, arch, epoch, version, release), and the services, file
hashes and kernel when the instance reported them (Custom:DriftwatchServices, Custom:DriftwatchFiles,
Custom:DriftwatchKernel).
`;

export const HELP = { main, audit, capture } as const;
