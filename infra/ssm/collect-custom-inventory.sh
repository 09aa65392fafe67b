#!/bin/sh
# driftwatch custom inventory collector.
#
# Writes three SSM custom inventory files, which the AWS-GatherSoftwareInventory association (with
# customInventory Enabled) uploads on its next run:
#   Custom:DriftwatchFiles     one entry per watched file:  Path, Sha256, Size, Mode, Owner
#   Custom:DriftwatchServices  one entry per systemd unit:  Name, Status, StartType
#   Custom:DriftwatchKernel    one entry:                   KernelRelease
#
# Usage: collect-custom-inventory.sh [PATH_OR_GLOB ...]
#   Each argument is one path or glob (kept whole: it may contain spaces); the script expands globs
#   itself. Without arguments, DRIFTWATCH_FILES is read instead: paths or globs separated by spaces or
#   newlines. Missing files, directories and other non-regular files are left out.
#
# Environment:
#   DRIFTWATCH_FILES          watched files, when no arguments are given (default: none)
#   DRIFTWATCH_SERVICES       systemd units separated by spaces or newlines; a name without a suffix
#                             gets `.service` (default: every unit
#                             `systemctl list-unit-files --type=service --state=enabled` lists)
#   DRIFTWATCH_INSTANCE_ID    the managed instance id (default: AWS_SSM_INSTANCE_ID, set by the SSM
#                             agent, else IMDSv2)
#   DRIFTWATCH_INVENTORY_DIR  where to write (default: /var/lib/amazon/ssm/<instance-id>/inventory/custom)
#
# POSIX sh (dash, bash, busybox ash); runs as root. No network access except the instance metadata
# service. Exits non-zero, with a message on stderr, when it cannot do its job.

set -u
umask 022
# Byte-wise string handling and stable tool output, whatever the agent's locale.
LC_ALL=C
export LC_ALL

PROG=driftwatch-collect
NL='
'
TAB='	'
WS_IFS=" $TAB$NL"
IFS=$WS_IFS
MAX_VALUE_LENGTH=4096
WORK_DIR=
PENDING=
FAILED=0

die() {
  printf '%s: error: %s\n' "$PROG" "$*" >&2
  exit 1
}

warn() {
  printf '%s: warning: %s\n' "$PROG" "$*" >&2
}

have() {
  command -v "$1" >/dev/null 2>&1
}

cleanup() {
  [ -z "$PENDING" ] || rm -f "$PENDING"
  [ -z "$WORK_DIR" ] || rm -rf "$WORK_DIR"
}
trap cleanup EXIT
trap 'exit 1' HUP INT TERM

# json_string VALUE: prints VALUE as a JSON string literal, quotes included. Escapes `"`, `\` and
# every control character; bytes >= 0x80 pass through (the caller checks that the value is UTF-8).
json_string() {
  _js_in=$1
  case $_js_in in
    *'"'* | *'\'* | *[[:cntrl:]]*) ;;
    *)
      printf '"%s"' "$_js_in"
      return
      ;;
  esac
  _js_out=
  while [ -n "$_js_in" ]; do
    _js_rest=${_js_in#?}
    _js_char=${_js_in%"$_js_rest"}
    _js_in=$_js_rest
    case $_js_char in
      '"') _js_out="$_js_out\\\"" ;;
      '\') _js_out="$_js_out\\\\" ;;
      "$NL") _js_out="$_js_out\\n" ;;
      "$TAB") _js_out="$_js_out\\t" ;;
      [[:cntrl:]]) _js_out="$_js_out$(printf '\\u%04x' "'$_js_char")" ;;
      *) _js_out="$_js_out$_js_char" ;;
    esac
  done
  printf '"%s"' "$_js_out"
}

# is_utf8 VALUE: true when VALUE is valid UTF-8 (always true when iconv is missing).
is_utf8() {
  case $1 in
    *[![:print:][:cntrl:]]*) ;;
    *) return 0 ;;
  esac
  have iconv || return 0
  printf '%s' "$1" | iconv -f UTF-8 -t UTF-8 >/dev/null 2>&1
}

# --- where to write ---------------------------------------------------------------------------------

imds_instance_id() {
  _imds=http://169.254.169.254/latest
  if have curl; then
    _token=$(curl -sf --connect-timeout 2 --max-time 5 -X PUT \
      -H 'X-aws-ec2-metadata-token-ttl-seconds: 60' "$_imds/api/token") || return 1
    curl -sf --connect-timeout 2 --max-time 5 -H "X-aws-ec2-metadata-token: $_token" \
      "$_imds/meta-data/instance-id"
  elif have wget; then
    _token=$(wget -q -T 5 -t 1 -O - --method=PUT \
      --header='X-aws-ec2-metadata-token-ttl-seconds: 60' "$_imds/api/token") || return 1
    wget -q -T 5 -t 1 -O - --header="X-aws-ec2-metadata-token: $_token" "$_imds/meta-data/instance-id"
  else
    return 1
  fi
}

instance_id() {
  if [ -n "${DRIFTWATCH_INSTANCE_ID:-}" ]; then
    _id=$DRIFTWATCH_INSTANCE_ID
  elif [ -n "${AWS_SSM_INSTANCE_ID:-}" ]; then
    _id=$AWS_SSM_INSTANCE_ID
  else
    _id=$(imds_instance_id) ||
      die 'cannot find the instance id: IMDSv2 did not answer (set DRIFTWATCH_INSTANCE_ID)'
  fi
  case $_id in
    '' | *[!A-Za-z0-9-]*) die "not an instance id: '$_id'" ;;
  esac
  printf '%s' "$_id"
}

# write_type TYPE_NAME CONTENT_FILE: writes <dir>/<TYPE_NAME without Custom:>.json atomically.
write_type() {
  _wt_target="$OUT_DIR/${1#Custom:}.json"
  _wt_tmp="$OUT_DIR/.${1#Custom:}.json.$$.tmp"
  PENDING=$_wt_tmp
  {
    printf '{"SchemaVersion":"1.0","TypeName":"%s","Content":[' "$1"
    cat "$2"
    printf ']}\n'
  } >"$_wt_tmp" || die "cannot write $_wt_tmp"
  chmod 644 "$_wt_tmp" 2>/dev/null
  mv -f "$_wt_tmp" "$_wt_target" || die "cannot move $_wt_tmp to $_wt_target"
  PENDING=
}

# append_entry FILE JSON_OBJECT
append_entry() {
  if [ -s "$1" ]; then printf ',%s' "$2" >>"$1"; else printf '%s' "$2" >>"$1"; fi
}

# --- Custom:DriftwatchFiles -------------------------------------------------------------------------

sha256_of() {
  if have sha256sum; then
    _sum=$(sha256sum <"$1") || return 1
  elif have shasum; then
    _sum=$(shasum -a 256 <"$1") || return 1
  elif have openssl; then
    _sum=$(openssl dgst -sha256 -r <"$1") || return 1
  else
    return 2
  fi
  _sum=${_sum%%[!0-9a-fA-F]*}
  [ ${#_sum} -eq 64 ] || return 1
  printf '%s' "$_sum"
}

# file_entry PATH: appends PATH's entry to FILES_CONTENT unless it was seen before.
file_entry() {
  _fe_path=$1
  [ -f "$_fe_path" ] || return 0
  if [ ${#_fe_path} -gt $MAX_VALUE_LENGTH ]; then
    warn "skipped a path longer than $MAX_VALUE_LENGTH characters"
    return 0
  fi
  if ! is_utf8 "$_fe_path"; then
    warn "skipped a path that is not valid UTF-8: $(json_string "$_fe_path")"
    return 0
  fi
  _fe_json=$(json_string "$_fe_path")
  # JSON string literals hold no raw newline: newline-delimited, the seen list is exact.
  case $SEEN_PATHS in
    *"$NL$_fe_json$NL"*) return 0 ;;
  esac
  SEEN_PATHS="$SEEN_PATHS$_fe_json$NL"
  _fe_sha=$(sha256_of "$_fe_path")
  case $? in
    0) ;;
    2) die 'no sha256sum, shasum or openssl to hash files with' ;;
    *)
      warn "cannot hash $_fe_json"
      FILES_FAILED=1
      return 0
      ;;
  esac
  # Size, mode (octal) and owner of the file the path resolves to, as the hash is.
  _fe_stat=$(stat -L -c '%s %a %U' -- "$_fe_path" 2>/dev/null) || _fe_stat='unknown unknown unknown'
  set -f
  # shellcheck disable=SC2086 # split on purpose: three words
  set -- $_fe_stat
  set +f
  _fe_size=${1:-unknown}
  _fe_mode=${2:-unknown}
  _fe_owner=${3:-unknown}
  case $_fe_mode in
    [0-7]) _fe_mode=000$_fe_mode ;;
    [0-7][0-7]) _fe_mode=00$_fe_mode ;;
    [0-7][0-7][0-7]) _fe_mode=0$_fe_mode ;;
  esac
  append_entry "$FILES_CONTENT" \
    "{\"Path\":$_fe_json,\"Sha256\":\"$_fe_sha\",\"Size\":$(json_string "$_fe_size"),\"Mode\":$(json_string "$_fe_mode"),\"Owner\":$(json_string "$_fe_owner")}"
}

# collect_files PATTERN...: every regular file each pattern names or matches.
collect_files() {
  for _cf_pattern in "$@"; do
    # Pathname expansion only: no field splitting, so a pattern may contain spaces.
    IFS=
    set +f
    for _cf_path in $_cf_pattern; do
      IFS=$WS_IFS
      file_entry "$_cf_path"
    done
    IFS=$WS_IFS
  done
}

# --- Custom:DriftwatchServices ----------------------------------------------------------------------

# first_line COMMAND...: the first line COMMAND prints on stdout, whatever its exit status.
first_line() {
  _fl=$("$@" 2>/dev/null)
  printf '%s' "${_fl%%"$NL"*}"
}

service_status() {
  case $(first_line systemctl is-active -- "$1") in
    active | reloading | refreshing) printf running ;;
    inactive | dead) printf stopped ;;
    failed) printf failed ;;
    activating) printf starting ;;
    deactivating) printf stopping ;;
    maintenance) printf maintenance ;;
    *) printf unknown ;;
  esac
}

service_start_type() {
  _st=$(first_line systemctl is-enabled -- "$1")
  case $_st in
    '' | *[!a-z-]*) printf unknown ;;
    *) printf '%s' "$_st" ;;
  esac
}

enabled_units() {
  systemctl list-unit-files --type=service --state=enabled --no-legend --no-pager --plain 2>/dev/null |
    while read -r _eu_unit _eu_rest; do
      case $_eu_unit in
        *@.service | '') ;; # templates are not units that run
        *.service) printf '%s\n' "$_eu_unit" ;;
      esac
    done
}

service_entry() {
  _se_name=$1
  case $_se_name in
    *.*) ;;
    *) _se_name=$_se_name.service ;;
  esac
  case $SEEN_UNITS in
    *"$NL$_se_name$NL"*) return 0 ;;
  esac
  SEEN_UNITS="$SEEN_UNITS$_se_name$NL"
  if [ "$HAVE_SYSTEMCTL" = yes ]; then
    _se_status=$(service_status "$_se_name")
    _se_start=$(service_start_type "$_se_name")
  else
    _se_status=unknown
    _se_start=unknown
  fi
  append_entry "$SERVICES_CONTENT" \
    "{\"Name\":$(json_string "$_se_name"),\"Status\":\"$_se_status\",\"StartType\":\"$_se_start\"}"
}

# --- main ----------------------------------------------------------------------------------------------

case ${1:-} in
  -h | --help)
    sed -n '2,/^$/s/^# \{0,1\}//p' "$0" 2>/dev/null
    exit 0
    ;;
  --) shift ;;
esac

ID=$(instance_id) || exit 1
OUT_DIR=${DRIFTWATCH_INVENTORY_DIR:-/var/lib/amazon/ssm/$ID/inventory/custom}
mkdir -p "$OUT_DIR" || die "cannot create $OUT_DIR"
[ -w "$OUT_DIR" ] || die "cannot write to $OUT_DIR"
WORK_DIR=$(mktemp -d "${TMPDIR:-/tmp}/driftwatch.XXXXXX") || die 'cannot create a temporary directory'
FILES_CONTENT=$WORK_DIR/files
SERVICES_CONTENT=$WORK_DIR/services
KERNEL_CONTENT=$WORK_DIR/kernel
: >"$FILES_CONTENT" && : >"$SERVICES_CONTENT" && : >"$KERNEL_CONTENT" || die "cannot write to $WORK_DIR"

# Files.
FILES_FAILED=0
SEEN_PATHS=$NL
if [ $# -gt 0 ]; then
  collect_files "$@"
else
  set -f
  # shellcheck disable=SC2086 # split on spaces and newlines on purpose
  set -- ${DRIFTWATCH_FILES:-}
  set +f
  [ $# -gt 0 ] && collect_files "$@"
fi
if [ "$FILES_FAILED" -eq 0 ]; then
  write_type Custom:DriftwatchFiles "$FILES_CONTENT"
else
  # A file left out would read as removed: keep the previous report and fail instead.
  warn 'Custom:DriftwatchFiles not written: some watched files could not be hashed'
  FAILED=1
fi

# Services.
SEEN_UNITS=$NL
if have systemctl; then HAVE_SYSTEMCTL=yes; else HAVE_SYSTEMCTL=no; fi
if [ -n "${DRIFTWATCH_SERVICES+set}" ]; then
  set -f
  # shellcheck disable=SC2086 # split on spaces and newlines on purpose
  set -- $DRIFTWATCH_SERVICES
  set +f
  for _unit in "$@"; do service_entry "$_unit"; done
  [ "$HAVE_SYSTEMCTL" = yes ] || warn 'systemctl not found: service states reported as unknown'
  write_type Custom:DriftwatchServices "$SERVICES_CONTENT"
elif [ "$HAVE_SYSTEMCTL" = yes ]; then
  UNITS=$(enabled_units)
  set -f
  # shellcheck disable=SC2086 # unit names contain no whitespace
  set -- $UNITS
  set +f
  for _unit in "$@"; do service_entry "$_unit"; done
  write_type Custom:DriftwatchServices "$SERVICES_CONTENT"
else
  # Reporting no services would read as every service removed: report none at all instead.
  warn 'systemctl not found and DRIFTWATCH_SERVICES not set: Custom:DriftwatchServices not written'
fi

# Kernel.
KERNEL=$(uname -r) || die 'uname -r failed'
[ -n "$KERNEL" ] || die 'uname -r printed nothing'
append_entry "$KERNEL_CONTENT" "{\"KernelRelease\":$(json_string "$KERNEL")}"
write_type Custom:DriftwatchKernel "$KERNEL_CONTENT"

[ "$FAILED" -eq 0 ] || die "custom inventory incomplete (written to $OUT_DIR)"
printf '%s: custom inventory written to %s\n' "$PROG" "$OUT_DIR"
