export const VERSION = 'driftwatch 0.1.0';

const main = `driftwatch — find drift between EC2 instances and their golden AMI

Usage:
  driftwatch audit   --manifest <file|dir> --inventory <file|dir> [options]
  driftwatch audit   --live --manifest <dir|s3://bucket/prefix> [--inventory s3://bucket/prefix] [options]
  driftwatch snapshot --live [--asg NAME ...] [--inventory s3://bucket/prefix] --out fleet.json
  driftwatch capture --inventory <file|dir> --instance <id> --ami <ami-id> > manifest.json
  driftwatch help <command>

Commands:
  audit     Compare every instance's SSM Inventory with the manifest of the AMI it was launched from.
  snapshot  Freeze the live fleet's inventory into a file that 'audit' reads offline.
  capture   Build a golden manifest from the inventory of a reference instance.

Exit codes: 0 no finding at or above --fail-on, 1 drift at or above it, 2 bad usage or bad input,
3 unexpected internal error. Run 'driftwatch <command> --help' for the options of a command.
`;

const audit = `driftwatch audit — compare each instance with the golden manifest of its own AMI

Usage:
  driftwatch audit --manifest <file|dir> --inventory <file|dir> [--instances <file>]
                   [--policy <file.yaml|json>] [--format text|json|markdown|html|chatbot] [--out <file>]
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

Live mode (the same engine, on AWS APIs; standard AWS credentials, profile and region):
  --live              Read the fleet from EC2 and Auto Scaling (running instances, their AMI and group,
                      the AMI of each group's launch template: instances on an older one are
                      'ami-outdated').
  --inventory s3://bucket/prefix
                      A Resource Data Sync in S3: one GET per instance and inventory type, plus one list
                      call per 1,000 objects. Recommended past a few hundred instances.
                      Without --inventory, the SSM API: GetInventory lists managed instances and
                      ListInventoryEntries reads packages 50 at a time (about ceil(packages/50) calls per
                      instance: ~19 for a 900-package host), throttled by SSM.
  --manifest s3://bucket/prefix
                      Manifests stored as <prefix><ami-id>.json (a local directory works too).
  --asg NAME          Only these Auto Scaling groups (repeatable).
  --region R          The region (default: AWS_REGION or the profile's).
  AWS_ENDPOINT_URL / AWS_ENDPOINT_URL_<SERVICE> point the clients at LocalStack or moto.
  The JSON report lists the AWS calls the run made (apiCalls).

Acting on drift (live mode; what the deployed act function does, from a terminal):
  --act               Decide per Auto Scaling group (the policy's remediation block), publish one digest
                      per group with new or changed drift to SNS (AWS Chatbot format, so Slack shows it),
                      and start guarded instance refreshes for opted-in groups. Needs --policy.
  --dry-run           With --act: decide and print what would be sent and refreshed; change nothing.
  --topic ARN         The SNS topic (or DRIFTWATCH_TOPIC_ARN).
  --state-table NAME  The DynamoDB alert-state table (or DRIFTWATCH_STATE_TABLE): unchanged drift is not
                      alerted twice, and a refresh decision starts at most one refresh.

Output:
  --format <f>        text (default; colour only on a terminal, NO_COLOR honoured), json (the report
                      contract), markdown, html, or chatbot: the digest messages that would be published
                      (decided without live state: all drift counts as new, no group as opted in).
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

const snapshot = `driftwatch snapshot — freeze the live fleet's inventory for offline audits

Usage:
  driftwatch snapshot --live [--region R] [--asg NAME ...] [--inventory s3://bucket/prefix]
                      [--out fleet.json] [--instances-out instances.json]

  Reads the running instances from EC2 (optionally only some Auto Scaling groups) and their inventory
  from a Resource Data Sync in S3 (--inventory) or the SSM API, and writes it in the SSM result-entity
  shape with full content ({"Entities":[{"Id","Data":{"AWS:Application":{...}}}]}), instance by
  instance. --instances-out also writes the fleet as describe-instances output. Then, offline:

    driftwatch audit --inventory fleet.json --instances instances.json --manifest ./manifests
`;

export const HELP = { main, audit, capture, snapshot } as const;
