/**
 * Errors that reach a user. An InputError names the file, the field and what is wrong, in one
 * line, so the CLI can print it as is (exit code 2) and a Lambda can log it as an operational error.
 */
import type { z } from 'zod';

export class InputError extends Error {
  override readonly name = 'InputError';
  constructor(
    readonly file: string,
    readonly field: string | undefined,
    readonly problem: string,
    options?: { cause?: unknown },
  ) {
    super(field ? `${file}: ${field}: ${problem}` : `${file}: ${problem}`, options);
  }
}

/** Thrown for a bad command line: unknown flag, bad value, missing argument. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function keySegment(key: string, first: boolean): string {
  if (/^[A-Za-z_$][\w$-]*$/.test(key)) return first ? key : `.${key}`;
  return `[${JSON.stringify(key)}]`;
}

/**
 * `packages[3].version`, `severity.rules[0].kind`, or `(top level)`. Given the input that was
 * validated, a map that the schema checks as `[key, value]` entries (a policy's `allow`, a manifest's
 * `files`) is named by its key, as the user wrote it: `allow.openssl-libs`, not `allow[0][1]`.
 */
export function formatPath(path: readonly PropertyKey[], input?: unknown): string {
  let out = '';
  let value: unknown = input;
  for (let i = 0; i < path.length; i++) {
    const part = path[i] as PropertyKey;
    if (typeof part === 'number' && isPlainObject(value)) {
      const key = Object.keys(value)[part];
      if (key !== undefined) {
        out += keySegment(key, out === '');
        const slot = path[i + 1];
        if (slot === 0 || slot === 1) i++;
        value = slot === 1 ? value[key] : undefined;
        continue;
      }
    }
    out += typeof part === 'number' ? `[${part}]` : keySegment(String(part), out === '');
    value =
      typeof value === 'object' && value !== null && Object.hasOwn(value, part)
        ? (value as Record<PropertyKey, unknown>)[part]
        : undefined;
  }
  return out || '(top level)';
}

/** One line per problem: unknown keys are reported at the key itself, missing ones as missing. */
function describeIssues(issues: readonly z.core.$ZodIssue[], input: unknown): [string, string][] {
  const out: [string, string][] = [];
  for (const issue of issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        out.push([formatPath([...issue.path, key], input), 'unknown key (misspelt, or not supported here)']);
      }
    } else if (issue.code === 'invalid_type' && / received undefined$/.test(issue.message)) {
      out.push([formatPath(issue.path, input), `is missing (expected ${issue.expected})`]);
    } else {
      out.push([formatPath(issue.path, input), issue.message]);
    }
  }
  return out;
}

/**
 * An InputError from a zod error: the first problem in the message, up to `max - 1` more below it.
 * Pass the validated `input` so that paths into maps name their keys.
 */
export function inputErrorFromZod(file: string, error: z.ZodError, max = 3, input?: unknown): InputError {
  const [first, ...rest] = describeIssues(error.issues, input);
  if (!first) return new InputError(file, undefined, 'is not valid');
  const more = rest.slice(0, max - 1).map(([path, message]) => `\n  ${path}: ${message}`);
  const left = rest.length - (max - 1);
  if (left > 0) more.push(`\n  ... and ${left} more problem${left === 1 ? '' : 's'}`);
  return new InputError(file, first[0], first[1] + more.join(''), { cause: error });
}

// ---------------------------------------------------------------------------------------------
// JSON syntax errors

const SPACE = new Set([0x20, 0x09, 0x0a, 0x0d]);
const ESCAPES = new Set(['"', '\\', '/', 'b', 'f', 'n', 'r', 't']);

/** A scan result: the end offset of a token, or `-1 - offset` of the first bad character. */
type Scan = number;
const fail = (offset: number): Scan => -1 - offset;

function scanString(text: string, start: number): Scan {
  const n = text.length;
  let j = start + 1;
  for (;;) {
    if (j >= n) return fail(n);
    const c = text.charCodeAt(j);
    if (c === 0x22) return j + 1;
    if (c < 0x20) return fail(j);
    if (c !== 0x5c) {
      j++;
      continue;
    }
    if (j + 1 >= n) return fail(n);
    const next = text[j + 1] as string;
    if (ESCAPES.has(next)) {
      j += 2;
    } else if (next === 'u') {
      for (let k = j + 2; k < j + 6; k++) {
        if (k >= n) return fail(n);
        if (!/[0-9a-fA-F]/.test(text[k] as string)) return fail(k);
      }
      j += 6;
    } else {
      return fail(j + 1);
    }
  }
}

function scanDigits(text: string, j: number, atLeastOne: boolean): Scan {
  const start = j;
  while (j < text.length && text.charCodeAt(j) >= 0x30 && text.charCodeAt(j) <= 0x39) j++;
  if (atLeastOne && j === start) return fail(j);
  return j;
}

function scanNumber(text: string, start: number): Scan {
  let j = start;
  if (text[j] === '-') j++;
  if (text[j] === '0') j++;
  else {
    j = scanDigits(text, j, true);
    if (j < 0) return j;
  }
  if (text[j] === '.') {
    j = scanDigits(text, j + 1, true);
    if (j < 0) return j;
  }
  if (text[j] === 'e' || text[j] === 'E') {
    j++;
    if (text[j] === '+' || text[j] === '-') j++;
    j = scanDigits(text, j, true);
  }
  return j;
}

function scanScalar(text: string, start: number): Scan {
  const c = text[start] as string;
  if (c === '"') return scanString(text, start);
  if (c === '-' || (c >= '0' && c <= '9')) return scanNumber(text, start);
  const word = c === 't' ? 'true' : c === 'f' ? 'false' : c === 'n' ? 'null' : undefined;
  if (!word) return fail(start);
  for (let k = 0; k < word.length; k++) {
    if (start + k >= text.length) return fail(text.length);
    if (text[start + k] !== word[k]) return fail(start + k);
  }
  return start + word.length;
}

/**
 * The offset at which `text` stops being JSON (the text's length when it ends too early), or
 * undefined when it is valid. Iterative, so deeply nested input cannot overflow the stack.
 */
export function jsonErrorOffset(text: string): number | undefined {
  const n = text.length;
  const stack: ('{' | '[')[] = [];
  let want: 'value' | 'value-or-close' | 'key' | 'key-or-close' | 'colon' | 'after' = 'value';
  let i = 0;
  for (;;) {
    while (i < n && SPACE.has(text.charCodeAt(i))) i++;
    if (i >= n) return stack.length === 0 && want === 'after' ? undefined : n;
    const c = text[i];
    const top = stack.at(-1);
    if ((want === 'value-or-close' && c === ']') || (want === 'key-or-close' && c === '}')) {
      stack.pop();
      i++;
      want = 'after';
    } else if (want === 'value' || want === 'value-or-close') {
      if (c === '{' || c === '[') {
        stack.push(c);
        i++;
        want = c === '{' ? 'key-or-close' : 'value-or-close';
      } else {
        const end = scanScalar(text, i);
        if (end < 0) return -1 - end;
        i = end;
        want = 'after';
      }
    } else if (want === 'key' || want === 'key-or-close') {
      if (c !== '"') return i;
      const end = scanString(text, i);
      if (end < 0) return -1 - end;
      i = end;
      want = 'colon';
    } else if (want === 'colon') {
      if (c !== ':') return i;
      i++;
      want = 'value';
    } else {
      if (top === undefined) return i;
      if (c === ',') want = top === '{' ? 'key' : 'value';
      else if (c === (top === '{' ? '}' : ']')) stack.pop();
      else return i;
      i++;
    }
  }
}

/** Control and invisible reordering characters (bidi controls, BOM) from an untrusted input. */
function isHidden(code: number): boolean {
  return (
    code <= 0x1f ||
    (code >= 0x7f && code <= 0x9f) ||
    code === 0x061c ||
    code === 0x200e ||
    code === 0x200f ||
    code === 0x2028 ||
    code === 0x2029 ||
    (code >= 0x202a && code <= 0x202e) ||
    (code >= 0x2066 && code <= 0x2069) ||
    code === 0xfeff
  );
}

/** Hidden characters shown as `\uXXXX`, so a message stays one visible line. */
function visible(text: string): string {
  let out = '';
  for (const ch of text) {
    const code = ch.codePointAt(0) ?? 0;
    out += isHidden(code) ? `\\u${code.toString(16).padStart(4, '0')}` : ch;
  }
  return out;
}

/**
 * The parser's reason without what V8 appends: a quote of the input (which can span lines and carry
 * control characters) and a character position.
 */
function parserReason(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const reason = message
    .replace(/, (?:\.\.\.)?"[\s\S]*"(?:\.\.\.)? is not valid JSON$/, '')
    .replace(/ (?:in JSON )?at position \d+(?: \(line \d+ column \d+\))?$/, '')
    .trim();
  return visible(reason.charAt(0).toLowerCase() + reason.slice(1));
}

function location(text: string, offset: number, line: number | undefined): string {
  let lineNo = 1;
  let lineStart = 0;
  for (let k = text.indexOf('\n'); k !== -1 && k < offset; k = text.indexOf('\n', k + 1)) {
    lineNo++;
    lineStart = k + 1;
  }
  return `line ${line ?? lineNo}, column ${offset - lineStart + 1}`;
}

/**
 * Says in words why JSON.parse failed: empty, truncated, or malformed, and where (line and column).
 * One line, whatever the input holds. `line`: the text is that one line of a bigger file
 * (newline-delimited JSON).
 */
export function describeJsonError(text: string, error: unknown, options: { line?: number } = {}): string {
  if (text.trim() === '') return 'is empty (expected JSON)';
  const reason = parserReason(error);
  const offset = jsonErrorOffset(text);
  const where = offset === undefined ? '' : ` at ${location(text, offset, options.line)}`;
  if (offset !== undefined && offset >= text.trimEnd().length) {
    return `is not complete JSON (truncated?): ${reason}${where}`;
  }
  return `is not valid JSON: ${reason}${where}`;
}
