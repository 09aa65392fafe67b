/**
 * Runs the CLI's `main()` in-process with captured standard output and error and a fixed clock, and
 * checks the shape of a bad-input error the way a user reads it.
 */
import { expect } from 'vitest';
import { type CliIo, main } from '../../cli/main.ts';

export const FIXED_CLOCK = new Date('2026-11-27T12:00:05Z');

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

interface Sink {
  text: string;
  readonly stream: CliIo['stdout'];
}

function sink(isTTY: boolean): Sink {
  const out: Sink = {
    text: '',
    stream: {
      isTTY,
      write(chunk: string | Uint8Array) {
        out.text += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
        return true;
      },
    } as unknown as CliIo['stdout'],
  };
  return out;
}

export interface RunOptions {
  /** Environment seen by the CLI. @default { NO_COLOR: '1' } */
  readonly env?: NodeJS.ProcessEnv;
  /** The wall clock (startedAt/finishedAt, and `now` when --now is not given). @default FIXED_CLOCK */
  readonly clock?: () => Date;
  /** Pretend standard output and error are terminals. @default false */
  readonly tty?: boolean;
}

/** Runs `driftwatch <argv>` in-process. */
export async function runCli(argv: readonly string[], options: RunOptions = {}): Promise<CliResult> {
  const stdout = sink(options.tty ?? false);
  const stderr = sink(options.tty ?? false);
  const code = await main([...argv], {
    stdout: stdout.stream,
    stderr: stderr.stream,
    env: options.env ?? { NO_COLOR: '1' },
    clock: options.clock ?? (() => FIXED_CLOCK),
  });
  return { code, stdout: stdout.text, stderr: stderr.text };
}

/**
 * A bad input as the contract wants it: exit 2, nothing on standard output, one to four lines on
 * standard error naming the file (and the field, when there is one), no stack trace, no raw zod
 * issue dump.
 */
export function expectBadInput(result: CliResult, mentions: readonly (string | RegExp)[]): void {
  const lines = result.stderr.trimEnd().split('\n');
  expect(result.code, result.stderr).toBe(2);
  expect(result.stdout).toBe('');
  expect(lines.length, result.stderr).toBeGreaterThanOrEqual(1);
  expect(lines.length, result.stderr).toBeLessThanOrEqual(4);
  expect(result.stderr).not.toMatch(/^\s+at /m);
  expect(result.stderr).not.toContain('"code":');
  expect(result.stderr).not.toMatch(/ZodError|SyntaxError|TypeError|unexpected error/);
  for (const m of mentions) {
    if (typeof m === 'string') expect(result.stderr).toContain(m);
    else expect(result.stderr).toMatch(m);
  }
}
