/**
 * What a user reads when a local JSON file is broken: one line, the line and column, never the
 * parser's quote of the file (which can span lines and carry control characters).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { describeJsonError, jsonErrorOffset } from '../../shared/errors.ts';

function parseError(text: string): unknown {
  try {
    JSON.parse(text);
  } catch (error) {
    return error;
  }
  throw new Error(`expected ${JSON.stringify(text)} to be invalid JSON`);
}

const describe_ = (text: string, line?: number) =>
  describeJsonError(text, parseError(text), line === undefined ? {} : { line });

describe('describeJsonError', () => {
  it('says a file is empty', () => {
    expect(describe_('  \n')).toBe('is empty (expected JSON)');
  });

  it('says a file that stops early is truncated, and where it stops', () => {
    const text = '{\n  "Entities": [\n    { "Id": "i-0a1b2c3d4e5f60718", "Data": {';

    expect(describe_(text)).toBe(
      "is not complete JSON (truncated?): expected property name or '}' at line 3, column 45",
    );
    expect(describe_('{"Name": "bash", "Version": "5.2')).toMatch(
      /^is not complete JSON \(truncated\?\): .*line 1/,
    );
  });

  it('names the line and column of a trailing comma, without quoting the file', () => {
    const text = '{\n  "Entities": [\n    1,\n    2,\n  ]\n}\n';

    const message = describe_(text);

    expect(message).toBe("is not valid JSON: unexpected token ']' at line 5, column 3");
    expect(message).not.toContain('\n');
  });

  it('shows control characters from the file as escapes', () => {
    const message = describe_('{"a":\n\u0001\u001b[31m}');

    expect(message).toContain('\\u0001');
    expect([...message].some((ch) => (ch.codePointAt(0) ?? 0) < 0x20)).toBe(false);
    expect(message).toMatch(/line 2, column 1$/);
  });

  it('says where a second document starts', () => {
    expect(describe_('{"a":1}\n{"b":2}\n')).toBe(
      'is not valid JSON: unexpected non-whitespace character after JSON at line 2, column 1',
    );
  });

  it('uses the given line number for one line of a newline-delimited file', () => {
    expect(describe_('{"name":"glibc","version":', 7)).toMatch(/at line 7, column 27$/);
  });
});

describe('jsonErrorOffset', () => {
  it('agrees with JSON.parse on what is valid', () => {
    const jsonText = fc.json({ maxDepth: 4 });
    const mutated = fc
      .tuple(
        jsonText,
        fc.nat(),
        fc.nat(),
        fc.constantFrom('', ',', ']', '}', '"', ':', '\\', 'x', '\u0001', ' '),
      )
      .map(([text, at, len, insert]) => {
        const i = at % (text.length + 1);
        return text.slice(0, i) + insert + text.slice(i + (len % 3));
      });

    fc.assert(
      fc.property(fc.oneof(jsonText, mutated), (text) => {
        let valid = true;
        try {
          JSON.parse(text);
        } catch {
          valid = false;
        }
        expect(jsonErrorOffset(text) === undefined).toBe(valid);
      }),
      { numRuns: 3000 },
    );
  });

  it('handles very deep nesting without overflowing the stack', () => {
    const deep = '['.repeat(200_000);

    expect(jsonErrorOffset(deep)).toBe(deep.length);
    expect(jsonErrorOffset(`${deep}${']'.repeat(200_000)}`)).toBeUndefined();
  });
});
