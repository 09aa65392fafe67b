/**
 * Version comparison for the package ecosystems driftwatch audits.
 *
 * - `compareRpm`: byte-for-byte reimplementation of rpm 4.18 (`rpm.vercmp` in rpm's Lua, i.e.
 *   `rpmverParse` + `rpmverCmp` + `rpmvercmp`) over full `[epoch:]version[-release]` strings.
 * - `compareDeb`: reimplementation of dpkg's `parseversion` + `dpkg_version_compare`/`verrevcmp`, i.e.
 *   the answer of `dpkg --compare-versions a lt|eq|gt b`, including dpkg's "blank version" rules.
 * - `compareSemver`: SemVer 2.0 precedence, strictly parsed by the `semver` package.
 *
 * Strings are handled with C semantics: an embedded NUL ends the string. Non-ASCII text is compared as
 * its UTF-8 bytes, which is what rpm and dpkg see when given the same string on the command line.
 *
 * This module is pure (no I/O) and allocation-light: the rpm/deb comparators work on index ranges of the
 * input strings and never split or slice them on the hot path.
 */
import semver from 'semver';

/** Thrown when a version string cannot be compared under its scheme (the real tool would reject it). */
export class InvalidVersionError extends Error {
  override readonly name = 'InvalidVersionError';
  /** The offending version string, exactly as given. */
  readonly version: string;
  /** What is wrong with it (e.g. `epoch in version is not number`). */
  readonly reason: string;

  constructor(version: string, reason: string, scheme?: VersionScheme) {
    super(`${scheme ? `${scheme} ` : ''}version ${JSON.stringify(version)} has bad syntax: ${reason}`);
    this.version = version;
    this.reason = reason;
  }
}

/** Thrown when a version constraint such as `>= 1.2, < 2 || = 3.0` is malformed. */
export class InvalidConstraintError extends Error {
  override readonly name = 'InvalidConstraintError';
  /** The offending constraint string, exactly as given. */
  readonly constraint: string;
  /** What is wrong with it, naming the bad part. */
  readonly reason: string;

  constructor(constraint: string, reason: string, options?: { cause?: unknown }) {
    super(`invalid version constraint ${JSON.stringify(constraint)}: ${reason}`, options);
    this.constraint = constraint;
    this.reason = reason;
  }
}

/**
 * Version schemes. `'other'` has no real ordering: versions are only meaningfully comparable for equality;
 * ordering operators fall back to plain UTF-16 code-unit order of the strings.
 */
export type VersionScheme = 'rpm' | 'deb' | 'semver' | 'other';

export type Comparison = -1 | 0 | 1;

// Character codes.
const NUL = 0;
const TAB = 9;
const SPACE = 32;
const PLUS = 43;
const HYPHEN = 45;
const ZERO = 48;
const COLON = 58;
const CARET = 94;
const TILDE = 126;

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

function isAsciiAlpha(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

function isAsciiAlnum(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

/** Character at `i`, or 0 (C's NUL terminator) at/after `end`. */
function charAt(s: string, i: number, end: number): number {
  return i < end ? s.charCodeAt(i) : NUL;
}

/** Length of `s` as C sees it: up to the first NUL. */
function cLength(s: string): number {
  const nul = s.indexOf('\0');
  return nul === -1 ? s.length : nul;
}

function sign(n: number): Comparison {
  return n < 0 ? -1 : n > 0 ? 1 : 0;
}

// ---------------------------------------------------------------------------------------------------------
// rpm
// ---------------------------------------------------------------------------------------------------------

/**
 * rpm's `rpmvercmp` over `a[aStart, aEnd)` and `b[bStart, bEnd)`. Only ASCII letters/digits form segments;
 * everything else (including every non-ASCII UTF-16 unit, whose UTF-8 bytes are all >= 0x80) separates,
 * except `~` (sorts before anything, even the end) and `^` (sorts after the end, before anything else).
 */
function rpmvercmp(
  a: string,
  aStart: number,
  aEnd: number,
  b: string,
  bStart: number,
  bEnd: number,
): Comparison {
  let one = aStart;
  let two = bStart;
  let c1 = charAt(a, one, aEnd);
  let c2 = charAt(b, two, bEnd);

  while (c1 !== NUL || c2 !== NUL) {
    while (c1 !== NUL && c1 !== TILDE && c1 !== CARET && !isAsciiAlnum(c1)) c1 = charAt(a, ++one, aEnd);
    while (c2 !== NUL && c2 !== TILDE && c2 !== CARET && !isAsciiAlnum(c2)) c2 = charAt(b, ++two, bEnd);

    // Tilde sorts before everything else, including the end of the string.
    if (c1 === TILDE || c2 === TILDE) {
      if (c1 !== TILDE) return 1;
      if (c2 !== TILDE) return -1;
      c1 = charAt(a, ++one, aEnd);
      c2 = charAt(b, ++two, bEnd);
      continue;
    }

    // Caret is like tilde, except that the end of the string (a base version) sorts before it.
    if (c1 === CARET || c2 === CARET) {
      if (c1 === NUL) return -1;
      if (c2 === NUL) return 1;
      if (c1 !== CARET) return 1;
      if (c2 !== CARET) return -1;
      c1 = charAt(a, ++one, aEnd);
      c2 = charAt(b, ++two, bEnd);
      continue;
    }

    if (c1 === NUL || c2 === NUL) break;

    // Grab the maximal all-digit or all-alpha segment, typed by the first string's segment.
    let end1 = one;
    let end2 = two;
    const isNum = isDigit(c1);
    if (isNum) {
      while (isDigit(charAt(a, end1, aEnd))) end1++;
      while (isDigit(charAt(b, end2, bEnd))) end2++;
    } else {
      while (isAsciiAlpha(charAt(a, end1, aEnd))) end1++;
      while (isAsciiAlpha(charAt(b, end2, bEnd))) end2++;
    }

    // Segments of different types: numeric is newer than alpha.
    if (two === end2) return isNum ? 1 : -1;

    if (isNum) {
      while (one < end1 && a.charCodeAt(one) === ZERO) one++;
      while (two < end2 && b.charCodeAt(two) === ZERO) two++;
      // Whichever number has more digits wins.
      const len1 = end1 - one;
      const len2 = end2 - two;
      if (len1 > len2) return 1;
      if (len2 > len1) return -1;
    }

    // strcmp of the two segments.
    const len1 = end1 - one;
    const len2 = end2 - two;
    const n = Math.min(len1, len2);
    for (let k = 0; k < n; k++) {
      const d = a.charCodeAt(one + k) - b.charCodeAt(two + k);
      if (d !== 0) return d < 0 ? -1 : 1;
    }
    if (len1 !== len2) return len1 < len2 ? -1 : 1;

    one = end1;
    two = end2;
    c1 = charAt(a, one, aEnd);
    c2 = charAt(b, two, bEnd);
  }

  // All segments compared equal; whichever string still has characters left wins.
  if (c1 === NUL && c2 === NUL) return 0;
  return c1 === NUL ? -1 : 1;
}

/** Index ranges of an EVR inside its source string, as rpm's `parseEVR` splits it. */
interface EvrRanges {
  epochSrc: string;
  epochStart: number;
  epochEnd: number;
  versionStart: number;
  versionEnd: number;
  /** -1 when there is no release (no '-' after the epoch). */
  releaseStart: number;
  releaseEnd: number;
}

const RPM_ZERO_EPOCH = '0';

function newEvrRanges(): EvrRanges {
  return {
    epochSrc: RPM_ZERO_EPOCH,
    epochStart: 0,
    epochEnd: 1,
    versionStart: 0,
    versionEnd: 0,
    releaseStart: -1,
    releaseEnd: -1,
  };
}

// Reused scratch records: comparisons are synchronous and non-reentrant.
const evrA = newEvrRanges();
const evrB = newEvrRanges();

/** rpm's `parseEVR` on `s[0, end)`, `end > 0`. */
function parseEvr(s: string, end: number, out: EvrRanges): void {
  let p = 0;
  while (p < end && isDigit(s.charCodeAt(p))) p++;
  // The release separator is the last '-' at or after the epoch-digit scan.
  const hyphen = end > 0 ? s.lastIndexOf('-', end - 1) : -1;
  if (p < end && s.charCodeAt(p) === COLON) {
    if (p === 0) {
      out.epochSrc = RPM_ZERO_EPOCH;
      out.epochStart = 0;
      out.epochEnd = 1;
    } else {
      out.epochSrc = s;
      out.epochStart = 0;
      out.epochEnd = p;
    }
    out.versionStart = p + 1;
  } else {
    // A missing epoch compares as "0".
    out.epochSrc = RPM_ZERO_EPOCH;
    out.epochStart = 0;
    out.epochEnd = 1;
    out.versionStart = 0;
  }
  if (hyphen >= p) {
    out.versionEnd = hyphen;
    out.releaseStart = hyphen + 1;
    out.releaseEnd = end;
  } else {
    out.versionEnd = end;
    out.releaseStart = -1;
    out.releaseEnd = -1;
  }
}

/**
 * Compares two rpm `[epoch:]version[-release]` strings exactly like rpm 4.18's `rpm.vercmp`.
 *
 * Epochs, then versions, then releases are compared with `rpmvercmp`. A missing or empty epoch is "0".
 * As in rpm 4.18's `rpmverCmp` (its `compare_values`), a missing release (no '-') sorts before any present
 * release, and an empty release after a trailing '-' is still a present release: `1.0 < 1.0-~ < 1.0- < 1.0-0`.
 * (Not the "compare releases only when both have one" rule: that is not what `rpm.vercmp` answers.)
 *
 * @throws InvalidVersionError for an empty string (or one starting with NUL), which rpm rejects.
 */
export function compareRpm(a: string, b: string): Comparison {
  if (a === b) {
    if (a.length === 0 || a.charCodeAt(0) === NUL) throw new InvalidVersionError(a, 'empty version', 'rpm');
    return 0;
  }
  const aEnd = cLength(a);
  if (aEnd === 0) throw new InvalidVersionError(a, 'empty version', 'rpm');
  const bEnd = cLength(b);
  if (bEnd === 0) throw new InvalidVersionError(b, 'empty version', 'rpm');

  parseEvr(a, aEnd, evrA);
  parseEvr(b, bEnd, evrB);

  let rc = rpmvercmp(
    evrA.epochSrc,
    evrA.epochStart,
    evrA.epochEnd,
    evrB.epochSrc,
    evrB.epochStart,
    evrB.epochEnd,
  );
  if (rc !== 0) return rc;
  rc = rpmvercmp(a, evrA.versionStart, evrA.versionEnd, b, evrB.versionStart, evrB.versionEnd);
  if (rc !== 0) return rc;
  // rpmverCmp's compare_values(): a missing release sorts before any release, even an empty one.
  if (evrA.releaseStart < 0) return evrB.releaseStart < 0 ? 0 : -1;
  if (evrB.releaseStart < 0) return 1;
  return rpmvercmp(a, evrA.releaseStart, evrA.releaseEnd, b, evrB.releaseStart, evrB.releaseEnd);
}

/**
 * Builds the full comparable rpm string: `${epoch || '0'}:${version}`, plus `-${release}` when a release is
 * given (even an empty one).
 */
export function rpmEvr(epoch: string | undefined, version: string, release: string | undefined): string {
  const evr = `${epoch || '0'}:${version}`;
  return release === undefined ? evr : `${evr}-${release}`;
}

// ---------------------------------------------------------------------------------------------------------
// deb
// ---------------------------------------------------------------------------------------------------------

/** A Debian version parsed like dpkg's `parseversion`, as index ranges into `src`. */
interface DebParsed {
  /** dpkg's blank version (empty string or `<unknown>`): sorts before every real version. */
  blank: boolean;
  /** The string the ranges index: the input, or its UTF-8 bytes as a latin1 string if it is not ASCII. */
  src: string;
  epoch: number;
  versionStart: number;
  versionEnd: number;
  revisionStart: number;
  revisionEnd: number;
}

function newDebParsed(): DebParsed {
  return {
    blank: false,
    src: '',
    epoch: 0,
    versionStart: 0,
    versionEnd: 0,
    revisionStart: 0,
    revisionEnd: 0,
  };
}

const debA = newDebParsed();
const debB = newDebParsed();

const utf8 = new TextEncoder();

/** The UTF-8 bytes of `s`, one char per byte (char codes 0..255). */
function utf8ByteString(s: string): string {
  const bytes = utf8.encode(s);
  let out = '';
  for (let i = 0; i < bytes.length; i++) out += String.fromCharCode(bytes[i] as number);
  return out;
}

function isBlank(c: number): boolean {
  return c === SPACE || c === TAB;
}

/** C `isspace` in the C locale, as skipped by `strtol`. */
function isCSpace(c: number): boolean {
  return c === SPACE || (c >= 9 && c <= 13);
}

const INT_MAX_DIGITS = '2147483647';

function debError(original: string, reason: string): InvalidVersionError {
  return new InvalidVersionError(original, reason, 'deb');
}

/**
 * dpkg's `parseversion` (plus `--compare-versions`' blank-version handling). Throws for what dpkg reports
 * as errors; its warnings (version not starting with a digit, invalid characters) are ignored because dpkg
 * still compares such versions.
 */
function parseDeb(original: string, out: DebParsed): void {
  let s = original;
  let end = cLength(s);
  if (end === 0 || (end === 9 && s.startsWith('<unknown>'))) {
    out.blank = true;
    out.src = '';
    out.epoch = 0;
    out.versionStart = out.versionEnd = out.revisionStart = out.revisionEnd = 0;
    return;
  }
  for (let i = 0; i < end; i++) {
    if (s.charCodeAt(i) > 0x7f) {
      s = utf8ByteString(end === s.length ? s : s.slice(0, end));
      end = s.length;
      break;
    }
  }
  out.blank = false;
  out.src = s;

  // Trim leading and trailing blanks; anything blank in the middle is an error.
  let start = 0;
  while (start < end && isBlank(s.charCodeAt(start))) start++;
  if (start === end) throw debError(original, 'version string is empty');
  let stop = start;
  while (stop < end && !isBlank(s.charCodeAt(stop))) stop++;
  for (let p = stop; p < end; p++) {
    if (!isBlank(s.charCodeAt(p))) throw debError(original, 'version string has embedded spaces');
  }

  let versionStart = start;
  out.epoch = 0;
  const colon = s.indexOf(':', start);
  if (colon !== -1 && colon < end) {
    // strtol(string, &end, 10): optional C-space, optional sign, digits.
    let p = start;
    while (p < end && isCSpace(s.charCodeAt(p))) p++;
    let negative = false;
    const sg = charAt(s, p, end);
    if (sg === PLUS || sg === HYPHEN) {
      negative = sg === HYPHEN;
      p++;
    }
    const digitsStart = p;
    while (p < end && isDigit(s.charCodeAt(p))) p++;
    if (p === digitsStart) throw debError(original, 'epoch in version is empty');
    if (p !== colon) throw debError(original, 'epoch in version is not number');
    let significant = digitsStart;
    while (significant < p && s.charCodeAt(significant) === ZERO) significant++;
    const nDigits = p - significant;
    if (negative && nDigits > 0) throw debError(original, 'epoch in version is negative');
    if (nDigits > 10 || (nDigits === 10 && s.slice(significant, p) > INT_MAX_DIGITS)) {
      throw debError(original, 'epoch in version is too big');
    }
    // Looks at the raw string: trailing blanks after the colon dodge this check, then fail as empty version.
    if (colon + 1 === end) throw debError(original, 'nothing after colon in version number');
    let epoch = 0;
    for (let k = significant; k < p; k++) epoch = epoch * 10 + (s.charCodeAt(k) - ZERO);
    out.epoch = epoch;
    versionStart = colon + 1;
  }

  // The revision follows the last '-' of the (epoch-less, trimmed) version.
  const hyphen = stop > versionStart ? s.lastIndexOf('-', stop - 1) : -1;
  if (hyphen >= versionStart) {
    if (hyphen + 1 === stop) throw debError(original, 'revision number is empty');
    out.versionStart = versionStart;
    out.versionEnd = hyphen;
    out.revisionStart = hyphen + 1;
    out.revisionEnd = stop;
  } else {
    out.versionStart = versionStart;
    out.versionEnd = stop;
    out.revisionStart = stop;
    out.revisionEnd = stop;
  }
  if (out.versionEnd === out.versionStart) throw debError(original, 'version number is empty');
}

/**
 * dpkg's `order()`: digits 0, letters their code, `~` -1, end 0, anything else code + 256. dpkg passes a
 * signed `char`, so bytes >= 0x80 (c - 256 + 256) order as their byte value: after letters, before ASCII
 * punctuation.
 */
function debOrder(c: number): number {
  if (c >= 48 && c <= 57) return 0;
  if (isAsciiAlpha(c)) return c;
  if (c === TILDE) return -1;
  if (c === NUL) return 0;
  if (c >= 0x80) return c;
  return c + 256;
}

/** dpkg's `verrevcmp` over `a[aStart, aEnd)` and `b[bStart, bEnd)`. */
function verrevcmp(
  a: string,
  aStart: number,
  aEnd: number,
  b: string,
  bStart: number,
  bEnd: number,
): Comparison {
  let i = aStart;
  let j = bStart;
  while (i < aEnd || j < bEnd) {
    let firstDiff = 0;
    for (;;) {
      const ca = charAt(a, i, aEnd);
      const cb = charAt(b, j, bEnd);
      if (!((ca !== NUL && !isDigit(ca)) || (cb !== NUL && !isDigit(cb)))) break;
      const ac = debOrder(ca);
      const bc = debOrder(cb);
      if (ac !== bc) return ac < bc ? -1 : 1;
      i++;
      j++;
    }
    while (i < aEnd && a.charCodeAt(i) === ZERO) i++;
    while (j < bEnd && b.charCodeAt(j) === ZERO) j++;
    while (i < aEnd && j < bEnd) {
      const ca = a.charCodeAt(i);
      const cb = b.charCodeAt(j);
      if (!isDigit(ca) || !isDigit(cb)) break;
      if (firstDiff === 0) firstDiff = ca - cb;
      i++;
      j++;
    }
    if (isDigit(charAt(a, i, aEnd))) return 1;
    if (isDigit(charAt(b, j, bEnd))) return -1;
    if (firstDiff !== 0) return sign(firstDiff);
  }
  return 0;
}

/**
 * Compares two Debian versions (`[epoch:]upstream[-revision]`) exactly like
 * `dpkg --compare-versions a lt|eq|gt b`.
 *
 * The empty string and `<unknown>` are dpkg's blank version, which sorts before every real version.
 * Versions dpkg merely warns about (not starting with a digit, unusual characters) are still compared.
 *
 * @throws InvalidVersionError for what dpkg rejects: embedded blanks, blank-only strings, an empty,
 *   non-numeric, negative or too big (> INT_MAX) epoch, nothing after the colon, an empty revision after
 *   the last '-', or an empty upstream version. The error's `reason` is dpkg's wording.
 */
export function compareDeb(a: string, b: string): Comparison {
  if (a === b) {
    parseDeb(a, debA);
    return 0;
  }
  parseDeb(a, debA);
  parseDeb(b, debB);
  if (debA.blank) return debB.blank ? 0 : -1;
  if (debB.blank) return 1;
  if (debA.epoch !== debB.epoch) return debA.epoch < debB.epoch ? -1 : 1;
  const rc = verrevcmp(
    debA.src,
    debA.versionStart,
    debA.versionEnd,
    debB.src,
    debB.versionStart,
    debB.versionEnd,
  );
  if (rc !== 0) return rc;
  return verrevcmp(
    debA.src,
    debA.revisionStart,
    debA.revisionEnd,
    debB.src,
    debB.revisionStart,
    debB.revisionEnd,
  );
}

// ---------------------------------------------------------------------------------------------------------
// semver
// ---------------------------------------------------------------------------------------------------------

const SURROUNDING_WHITESPACE = /^\s|\s$/;
const ALL_DIGITS = /^[0-9]+$/;

function parseSemver(v: string): semver.SemVer {
  // `semver` trims its input; strict SemVer does not allow surrounding whitespace, so reject it here.
  const parsed = SURROUNDING_WHITESPACE.test(v) ? null : semver.parse(v, { loose: false });
  if (parsed === null) throw new InvalidVersionError(v, 'not a valid SemVer 2.0 version', 'semver');
  return parsed;
}

/** SemVer 2.0 prerelease identifier precedence; exact for numeric identifiers of any length. */
function compareIdentifier(x: string, y: string): Comparison {
  if (x === y) return 0;
  const xNum = ALL_DIGITS.test(x);
  const yNum = ALL_DIGITS.test(y);
  if (xNum && yNum) {
    // Strict SemVer forbids leading zeros in numeric identifiers, so longer means bigger.
    if (x.length !== y.length) return x.length < y.length ? -1 : 1;
    return x < y ? -1 : 1;
  }
  if (xNum) return -1;
  if (yNum) return 1;
  return x < y ? -1 : 1;
}

/**
 * Compares two SemVer 2.0 versions by precedence (build metadata ignored). A leading `v` is allowed.
 * Parsing is strict (the `semver` package, not loose, no coercion).
 *
 * @throws InvalidVersionError for anything that is not a valid SemVer 2.0 version (including surrounding
 *   whitespace, partial versions like `1.2`, and versions over the `semver` package's 256-char limit).
 */
export function compareSemver(a: string, b: string): Comparison {
  const pa = parseSemver(a);
  const pb = a === b ? pa : parseSemver(b);
  if (pa === pb) return 0;
  const main = pa.compareMain(pb);
  if (main !== 0) return main;
  const preA = pa.prerelease;
  const preB = pb.prerelease;
  // A version without prerelease has higher precedence than one with.
  if (preA.length === 0 || preB.length === 0)
    return preA.length === preB.length ? 0 : preA.length === 0 ? 1 : -1;
  const n = Math.min(preA.length, preB.length);
  for (let i = 0; i < n; i++) {
    // `semver` numberifies safe-integer identifiers; String() restores the exact (zero-free) digits.
    const rc = compareIdentifier(String(preA[i]), String(preB[i]));
    if (rc !== 0) return rc;
  }
  return sign(preA.length - preB.length);
}

// ---------------------------------------------------------------------------------------------------------
// dispatch and constraints
// ---------------------------------------------------------------------------------------------------------

/**
 * Compares two versions under `scheme`. For `'other'` there is no real ordering: equal strings compare 0,
 * otherwise the result is plain UTF-16 code-unit order, which is only meaningful for equality checks.
 */
export function compareVersions(scheme: VersionScheme, a: string, b: string): Comparison {
  switch (scheme) {
    case 'rpm':
      return compareRpm(a, b);
    case 'deb':
      return compareDeb(a, b);
    case 'semver':
      return compareSemver(a, b);
    case 'other':
      return a < b ? -1 : a > b ? 1 : 0;
    default:
      throw new TypeError(`unknown version scheme ${JSON.stringify(scheme)}`);
  }
}

export type ConstraintOperator = '>=' | '<=' | '>' | '<' | '=' | '==' | '!=';

/** One `operator version` clause. */
export interface Comparator {
  readonly operator: ConstraintOperator;
  readonly version: string;
}

/** A parsed constraint: satisfied when every comparator of at least one alternative holds. */
export interface ParsedConstraint {
  readonly source: string;
  /** Alternatives (joined by `||`, OR), each a non-empty list of comparators (joined by `,`/space, AND). */
  readonly alternatives: readonly (readonly Comparator[])[];
}

const OPERATORS: ReadonlySet<string> = new Set<ConstraintOperator>(['>=', '<=', '>', '<', '=', '==', '!=']);

function isConstraintSpace(c: number): boolean {
  return c === SPACE || (c >= 9 && c <= 13);
}

function isOperatorChar(c: number): boolean {
  return c === 60 /* < */ || c === 61 /* = */ || c === 62 /* > */ || c === 33 /* ! */;
}

const COMMA = 44;
const PIPE = 124;

/**
 * Parses a constraint such as `>= 1:3.0.8-1.amzn2023.0.14`, `>=1.2, <2`, `< 2.0 || = 3.1`.
 *
 * Grammar: alternatives separated by `||` (OR); each alternative is one or more `operator version` clauses
 * separated by `,` and/or whitespace (AND). Operators: `>=`, `<=`, `>`, `<`, `=`, `==`, `!=`; whitespace
 * between operator and version is optional. A version is a run of characters other than whitespace, `,`,
 * `|`, `<`, `>`, `=` and `!`.
 *
 * When `scheme` is given, every version operand is also checked to be valid under it.
 *
 * @throws InvalidConstraintError naming the bad part.
 */
export function parseConstraint(constraint: string, scheme?: VersionScheme): ParsedConstraint {
  const fail = (reason: string, cause?: unknown): never => {
    throw new InvalidConstraintError(constraint, reason, cause === undefined ? undefined : { cause });
  };
  if (typeof constraint !== 'string') fail('constraint must be a string');
  const n = constraint.length;
  const alternatives: Comparator[][] = [];
  let clauses: Comparator[] = [];
  let i = 0;
  const skipSpace = (): boolean => {
    const from = i;
    while (i < n && isConstraintSpace(constraint.charCodeAt(i))) i++;
    return i > from;
  };

  skipSpace();
  if (i === n) fail('empty constraint');
  for (;;) {
    // One clause: operator, optional whitespace, version.
    const opStart = i;
    while (i < n && isOperatorChar(constraint.charCodeAt(i))) i++;
    const operator = constraint.slice(opStart, i);
    if (operator === '') {
      const c = charAt(constraint, i, n);
      if (c === COMMA) fail(`empty clause before "," at position ${i}`);
      if (c === PIPE) fail(`empty alternative before "|" at position ${i}`);
      let stop = i;
      while (stop < n && !isConstraintSpace(constraint.charCodeAt(stop))) stop++;
      fail(`missing operator before "${constraint.slice(i, stop)}" at position ${i}`);
    }
    if (!OPERATORS.has(operator)) fail(`invalid operator "${operator}" at position ${opStart}`);
    skipSpace();
    const versionStart = i;
    while (i < n) {
      const c = constraint.charCodeAt(i);
      if (isConstraintSpace(c) || c === COMMA || c === PIPE || isOperatorChar(c)) break;
      i++;
    }
    if (i === versionStart) fail(`missing version after "${operator}" at position ${opStart}`);
    const version = constraint.slice(versionStart, i);
    clauses.push({ operator: operator as ConstraintOperator, version });

    // Separator: end, '||', ',' (with optional whitespace) or whitespace.
    const spaced = skipSpace();
    if (i === n) break;
    const c = constraint.charCodeAt(i);
    if (c === PIPE) {
      if (charAt(constraint, i + 1, n) !== PIPE) fail(`unexpected "|" at position ${i} (use "||" for OR)`);
      i += 2;
      alternatives.push(clauses);
      clauses = [];
      skipSpace();
      if (i === n) fail('empty alternative after trailing "||"');
      continue;
    }
    if (c === COMMA) {
      i++;
      skipSpace();
      if (i === n) fail('trailing ","');
      continue;
    }
    if (!spaced) {
      fail(`unexpected "${constraint[i]}" after version "${version}" at position ${i} (missing separator?)`);
    }
  }
  alternatives.push(clauses);

  if (scheme !== undefined) {
    for (const alternative of alternatives) {
      for (const { version } of alternative) {
        try {
          compareVersions(scheme, version, version);
        } catch (error) {
          if (!(error instanceof InvalidVersionError)) throw error;
          fail(`version "${version}" is invalid for scheme ${scheme}: ${error.reason}`, error);
        }
      }
    }
  }
  return { source: constraint, alternatives };
}

const constraintCache = new Map<string, ParsedConstraint>();
const CONSTRAINT_CACHE_LIMIT = 1024;

function cachedConstraint(constraint: string): ParsedConstraint {
  let parsed = constraintCache.get(constraint);
  if (parsed === undefined) {
    parsed = parseConstraint(constraint);
    if (constraintCache.size >= CONSTRAINT_CACHE_LIMIT) constraintCache.clear();
    constraintCache.set(constraint, parsed);
  }
  return parsed;
}

function holds(operator: ConstraintOperator, rc: Comparison): boolean {
  switch (operator) {
    case '>=':
      return rc >= 0;
    case '<=':
      return rc <= 0;
    case '>':
      return rc > 0;
    case '<':
      return rc < 0;
    case '=':
    case '==':
      return rc === 0;
    case '!=':
      return rc !== 0;
  }
}

/**
 * Whether `version` satisfies `constraint` under `scheme` (see `parseConstraint` for the grammar). Each
 * operand is compared with `compareVersions(scheme, version, operand)`.
 *
 * @throws InvalidConstraintError if the constraint is malformed (syntax only; see `parseConstraint`).
 * @throws InvalidVersionError if `version`, or an operand that gets compared, is invalid under `scheme`.
 */
export function satisfies(scheme: VersionScheme, version: string, constraint: string): boolean {
  const parsed = cachedConstraint(constraint);
  return parsed.alternatives.some((alternative) =>
    alternative.every((comparator) =>
      holds(comparator.operator, compareVersions(scheme, version, comparator.version)),
    ),
  );
}
