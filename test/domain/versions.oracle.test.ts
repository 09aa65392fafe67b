/**
 * Differential tests: compareRpm / compareDeb against the real `rpm` (rpm.vercmp in rpm's Lua) and
 * `dpkg --compare-versions` on thousands of seeded, generated pairs.
 *
 * Reproduce a failure with the printed seed: `VERSIONS_ORACLE_SEED=<seed> npx vitest run <this file>`.
 * Missing oracles skip their suite locally, but fail the run when CI=true.
 */
import { type SpawnSyncReturns, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { compareDeb, compareRpm, InvalidVersionError } from '../../shared/domain/versions.ts';

const SEED = Number(process.env.VERSIONS_ORACLE_SEED ?? 20261127);
const RPM_PAIRS = 10_000;
const DEB_PAIRS = 2000;
const IS_CI = process.env.CI === 'true';

function runs(command: string, args: readonly string[]): boolean {
  const probe: SpawnSyncReturns<Buffer> = spawnSync(command, args, { stdio: 'ignore' });
  return probe.error === undefined && probe.status === 0;
}

const hasRpm = runs('rpm', ['--version']);
const hasDpkg = runs('dpkg', ['--version']) && runs('bash', ['-c', 'true']);
if (!hasRpm) console.warn('versions.oracle: `rpm` is not installed; skipping the rpm differential suite');
if (!hasDpkg)
  console.warn('versions.oracle: `dpkg` (or bash) is not installed; skipping the dpkg differential suite');

const workDir = mkdtempSync(join(tmpdir(), 'driftwatch-versions-oracle-'));
afterAll(() => rmSync(workDir, { recursive: true, force: true }));

type Pair = readonly [string, string];
type Outcome = -1 | 0 | 1 | 'error';

function ours(compare: (a: string, b: string) => -1 | 0 | 1, a: string, b: string): Outcome | string {
  try {
    return compare(a, b);
  } catch (error) {
    if (error instanceof InvalidVersionError) return 'error';
    return `unexpected ${String(error)}`;
  }
}

function describePair(index: number, [a, b]: Pair): string {
  return `seed=${SEED} pair#${index} a=${JSON.stringify(a)} b=${JSON.stringify(b)}`;
}

/** Applies up to a few random insert/delete/substitute edits, keeping realistic inputs "near" each other. */
function mutated(base: fc.Arbitrary<string>, token: fc.Arbitrary<string>): fc.Arbitrary<string> {
  const edit = fc.record({ op: fc.constantFrom('insert', 'delete', 'replace'), at: fc.nat(), token });
  return fc.tuple(base, fc.array(edit, { minLength: 1, maxLength: 3 })).map(([start, edits]) => {
    let text = start;
    for (const { op, at, token: t } of edits) {
      const i = at % (text.length + 1);
      if (op === 'insert') text = text.slice(0, i) + t + text.slice(i);
      else if (op === 'delete') text = text.slice(0, i) + text.slice(i + 1);
      else text = text.slice(0, i) + t + text.slice(i + 1);
    }
    return text;
  });
}

/** Pairs of unrelated versions, of a version and a near mutation of it, and identical pairs. */
function pairsOf(version: fc.Arbitrary<string>, token: fc.Arbitrary<string>): fc.Arbitrary<Pair> {
  return fc.oneof(
    { weight: 4, arbitrary: fc.tuple(version, version) },
    {
      weight: 5,
      arbitrary: version.chain((v) => fc.tuple(fc.constant(v), mutated(fc.constant(v), token))),
    },
    { weight: 1, arbitrary: version.map((v): Pair => [v, v]) },
  );
}

// ---------------------------------------------------------------------------------------------------------
// rpm
// ---------------------------------------------------------------------------------------------------------

const RPM_REALISTIC = [
  '1:3.0.8-1.amzn2023.0.14',
  '3.0.8-1.amzn2023.0.12',
  '0:2.37.4-1.amzn2023.0.3',
  '1:1.1.1k-12.amzn2.0.1',
  '6.1.102-111.182.amzn2023',
  '2.0.1~rc3-1.el9',
  '1.2.3^20240101git1a2b3c-1.fc40',
  '252.16-1.amzn2023.0.2',
  '1:9.0.2081-1.amzn2023',
  '7.76.1-26.el9_3.2',
  '0.9.28-0.1.beta',
  '2:4.9-8',
  '5.4.17-2136.330.7.1.el8uek',
  '1.0-',
];

const rpmToken = fc.oneof(
  { weight: 10, arbitrary: fc.constantFrom(...'0123456789') },
  { weight: 2, arbitrary: fc.constantFrom('0', '00', '007') },
  { weight: 5, arbitrary: fc.constantFrom('a', 'b', 'z', 'A', 'Z', 'rc', 'el', 'amzn') },
  { weight: 7, arbitrary: fc.constantFrom('.', '-', ':', '~', '^', '_', '+') },
  { weight: 1, arbitrary: fc.constantFrom('é', '\u00a0', '€', '😀', '\t') },
);

const rpmNoise = fc.array(rpmToken, { minLength: 1, maxLength: 10 }).map((tokens) => tokens.join(''));
const rpmRealistic = fc.constantFrom(...RPM_REALISTIC);
const rpmVersion = fc
  .oneof(
    { weight: 5, arbitrary: rpmNoise },
    { weight: 1, arbitrary: rpmRealistic },
    { weight: 4, arbitrary: mutated(rpmRealistic, rpmToken) },
  )
  .map((v) => (v === '' ? '0' : v));

/** Hand-picked edge cases, including ones rpm rejects (empty, leading NUL). */
const RPM_EDGE_PAIRS: Pair[] = [
  ['1.0', '1.0-1'],
  ['1.0-', '1.0-1'],
  ['1.0', '1.0-'],
  ['1.0-', '1.0-~'],
  ['1.0~rc1', '1.0'],
  ['1.0^', '1.0'],
  ['1.0^git1', '1.0.1'],
  [':1', '0:1'],
  ['00:1', '0:1'],
  ['1:1', '2'],
  ['a\0b', 'a'],
  ['1\0:2', '1'],
  ['', '1'],
  ['1', ''],
  ['\0', '\0'],
  ['1é2', '1.2'],
  ['1-2-3', '1-2'],
  ['1-2:3', '1'],
];

function luaString(s: string): string {
  let out = '"';
  for (const byte of Buffer.from(s, 'utf8')) out += `\\${byte.toString().padStart(3, '0')}`;
  return `${out}"`;
}

function rpmOracle(pairs: readonly Pair[]): string[] {
  const file = join(workDir, 'pairs.lua');
  const lines = ['local P = {'];
  for (const [a, b] of pairs) lines.push(`{${luaString(a)},${luaString(b)}},`);
  lines.push('}');
  lines.push('local out = {}');
  lines.push('for i, p in ipairs(P) do');
  lines.push('  local ok, r = pcall(rpm.vercmp, p[1], p[2])');
  lines.push("  out[i] = ok and tostring(r) or 'E'");
  lines.push('end');
  lines.push("io.write(table.concat(out, '\\n'), '\\n')");
  lines.push('io.flush()');
  writeFileSync(file, `${lines.join('\n')}\n`);
  const result = spawnSync('rpm', ['--eval', `%{lua: dofile('${file}')}`], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (result.error || result.status !== 0) {
    throw new Error(`rpm --eval failed (status ${result.status}): ${result.error ?? result.stderr}`);
  }
  return result.stdout.split('\n').slice(0, pairs.length);
}

function rpmOutcome(line: string | undefined): Outcome | string {
  if (line === '-1') return -1;
  if (line === '0') return 0;
  if (line === '1') return 1;
  if (line === 'E') return 'error';
  return `unparsable rpm output ${JSON.stringify(line)}`;
}

describe.skipIf(!hasRpm)('compareRpm agrees with rpm.vercmp (rpm --eval Lua)', () => {
  it(`gives rpm's answer for ${RPM_PAIRS} generated pairs plus edge cases`, () => {
    // Prepare
    const generated = fc.sample(pairsOf(rpmVersion, rpmToken), { seed: SEED, numRuns: RPM_PAIRS });
    const pairs = [...RPM_EDGE_PAIRS, ...generated];
    const started = performance.now();

    // Act
    const expected = rpmOracle(pairs);
    const mismatches: string[] = [];
    pairs.forEach((pair, i) => {
      const want = rpmOutcome(expected[i]);
      const got = ours(compareRpm, pair[0], pair[1]);
      if (got !== want) mismatches.push(`${describePair(i, pair)}: compareRpm=${got} rpm=${want}`);
    });
    console.info(
      `versions.oracle rpm: ${pairs.length} pairs checked in ${Math.round(performance.now() - started)} ms (seed ${SEED})`,
    );

    // Assess
    expect(expected).toHaveLength(pairs.length);
    expect(mismatches.slice(0, 25), `${mismatches.length} mismatches`).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------------------
// dpkg
// ---------------------------------------------------------------------------------------------------------

const DEB_REALISTIC = [
  '1:2.3.4-1ubuntu1',
  '2.36-9+deb12u4',
  '1.2.3~rc1-0ubuntu2',
  '7.88.1-10+deb12u5',
  '3.0.11-1~deb12u2',
  '1:9.18.24-1',
  '252.22-1~deb12u1',
  '2:8.2.3995-1ubuntu2.15',
  '1.0+dfsg-2',
  '0.9.8~git20230101.abc123-1',
  '1:1.2.13.dfsg-1',
  '4.19.0-26-amd64',
];

const debEpoch = fc.oneof(
  { weight: 10, arbitrary: fc.constant('') },
  { weight: 6, arbitrary: fc.constantFrom('0:', '1:', '2:', '10:', '01:', '00:') },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      ':',
      'a:',
      '1a:',
      '-1:',
      '+1:',
      '-0:',
      ' 1:',
      '\n1:',
      '0x1:',
      '2147483647:',
      '2147483648:',
      '002147483647:',
      '99999999999999999999:',
      '-99999999999999999999:',
    ),
  },
);

const debToken = fc.oneof(
  { weight: 10, arbitrary: fc.constantFrom(...'0123456789') },
  { weight: 2, arbitrary: fc.constantFrom('0', '00', '007') },
  { weight: 5, arbitrary: fc.constantFrom('a', 'b', 'z', 'A', 'Z', 'dfsg', 'ubuntu', 'deb') },
  { weight: 6, arbitrary: fc.constantFrom('.', '+', '~') },
  { weight: 1, arbitrary: fc.constantFrom('-', ':') },
  { weight: 1, arbitrary: fc.constantFrom('_', 'é', 'ü', '!', '#', ' ', '\t', '\n', '\u00a0', '<unknown>') },
);

const debPart = (minLength: number) =>
  fc.array(debToken, { minLength, maxLength: 7 }).map((tokens) => tokens.join(''));

const debStructured = fc
  .tuple(
    debEpoch,
    fc.oneof({ weight: 9, arbitrary: debPart(1) }, { weight: 1, arbitrary: debPart(0) }),
    fc.option(
      fc
        .oneof({ weight: 9, arbitrary: debPart(1) }, { weight: 1, arbitrary: debPart(0) })
        .map((r) => `-${r}`),
      { nil: '' },
    ),
    fc.constantFrom('', '', '', '', '', ' ', '\t', '  '),
    fc.constantFrom('', '', '', '', '', ' ', '\t '),
  )
  .map(([epoch, upstream, revision, lead, trail]) => `${lead}${epoch}${upstream}${revision}${trail}`);

const debRealistic = fc.constantFrom(...DEB_REALISTIC);
const debVersion = fc.oneof(
  { weight: 6, arbitrary: debStructured },
  { weight: 1, arbitrary: debRealistic },
  { weight: 3, arbitrary: mutated(debRealistic, debToken) },
  { weight: 1, arbitrary: fc.constantFrom('', '<unknown>', ' ', '0', '~', '0:0', '0:0-0') },
);

const DEB_EDGE_PAIRS: Pair[] = [
  ['', '0'],
  ['', ''],
  ['<unknown>', ''],
  ['', '1:'],
  ['1.0~rc1', '1.0'],
  ['1.0', '1.0-0'],
  ['1:1.0', '2.0'],
  ['a1', '1'],
  ['1é', '1z'],
  ['1é', '1.'],
  ['1é', '1ü'],
  [' 1.0 ', '1.0'],
  ['1. 0', '1.0'],
  ['1: ', '1'],
  ['1:-1', '1'],
  ['1.0-', '1.0'],
  ['-1', '1'],
  ['1:2:3', '1:2'],
  ['1-2-3', '1-2'],
];

type DpkgOperator = 'lt' | 'eq' | 'gt';

interface DpkgQuery {
  readonly op: DpkgOperator;
  readonly a: string;
  readonly b: string;
}

/**
 * Runs `dpkg --compare-versions -- a op b` for every query, returning exit statuses (0 true, 1 false,
 * 2 error). Queries go NUL-delimited through one bash loop per worker (so any byte but NUL is safe);
 * `--` keeps versions starting with '-' from being parsed as options.
 */
async function dpkgStatuses(queries: readonly DpkgQuery[]): Promise<number[]> {
  const workers = Math.max(1, Math.min(4, availableParallelism()));
  const chunkSize = Math.ceil(queries.length / workers);
  const script = [
    'while IFS= read -r -d "" op && IFS= read -r -d "" a && IFS= read -r -d "" b; do',
    '  dpkg --compare-versions -- "$a" "$op" "$b" 2>/dev/null',
    '  echo "$?"',
    'done < "$1"',
  ].join('\n');
  const chunks: Promise<number[]>[] = [];
  for (let w = 0; w * chunkSize < queries.length; w++) {
    const chunk = queries.slice(w * chunkSize, (w + 1) * chunkSize);
    const file = join(workDir, `deb-queries-${w}.bin`);
    writeFileSync(file, Buffer.from(chunk.map(({ op, a, b }) => `${op}\0${a}\0${b}\0`).join(''), 'utf8'));
    chunks.push(
      new Promise((resolve, reject) => {
        const child = spawn('bash', ['-c', script, 'dpkg-oracle', file], {
          env: { ...process.env, LC_ALL: 'C' },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let stdout = '';
        let stderr = '';
        child.stdout.setEncoding('utf8').on('data', (d: string) => {
          stdout += d;
        });
        child.stderr.setEncoding('utf8').on('data', (d: string) => {
          stderr += d;
        });
        child.on('error', reject);
        child.on('close', (code) => {
          if (code !== 0) reject(new Error(`dpkg oracle worker exited ${code}: ${stderr}`));
          else resolve(stdout.split('\n').slice(0, chunk.length).map(Number));
        });
      }),
    );
  }
  return (await Promise.all(chunks)).flat();
}

/** dpkg's full answer for a pair, from its lt/eq/gt exit statuses. */
function dpkgOutcome(
  lt: number | undefined,
  eq: number | undefined,
  gt: number | undefined,
): Outcome | string {
  if (lt === 2 && eq === 2 && gt === 2) return 'error';
  if (lt === 0 && eq === 1 && gt === 1) return -1;
  if (lt === 1 && eq === 0 && gt === 1) return 0;
  if (lt === 1 && eq === 1 && gt === 0) return 1;
  return `inconsistent dpkg statuses lt=${lt} eq=${eq} gt=${gt}`;
}

/** The one question whose "yes" (exit 0), or error (exit 2) for 'error', confirms our answer. */
function confirmingOperator(outcome: Outcome): DpkgOperator {
  return outcome === 0 ? 'eq' : outcome === 1 ? 'gt' : 'lt';
}

describe.skipIf(!hasDpkg)('compareDeb agrees with dpkg --compare-versions', () => {
  it(`gives dpkg's answer (or throws exactly when dpkg errors) for ${DEB_PAIRS} generated pairs plus edge cases`, async () => {
    // Prepare
    const generated = fc.sample(pairsOf(debVersion, debToken), { seed: SEED, numRuns: DEB_PAIRS });
    const pairs = [...DEB_EDGE_PAIRS, ...generated];
    const started = performance.now();
    const answers = pairs.map(([a, b]) => ours(compareDeb, a, b));
    const mismatches: string[] = [];
    const suspects: number[] = [];
    const queries: DpkgQuery[] = [];
    const queried: number[] = [];
    answers.forEach((answer, i) => {
      if (typeof answer === 'string' && answer !== 'error') suspects.push(i);
      else {
        const [a, b] = pairs[i] as Pair;
        queries.push({ op: confirmingOperator(answer), a, b });
        queried.push(i);
      }
    });

    // Act
    // One dpkg run per pair: "lt" when we say -1 (or that the pair is invalid: any operator errors then),
    // "eq" when we say 0, "gt" when we say 1. Exit 0 (or 2 for invalid) confirms exactly our answer;
    // anything else is a disagreement, re-asked with all three operators to report dpkg's own answer.
    const statuses = await dpkgStatuses(queries);
    queried.forEach((i, q) => {
      const confirmed = answers[i] === 'error' ? statuses[q] === 2 : statuses[q] === 0;
      if (!confirmed) suspects.push(i);
    });
    const followUp = await dpkgStatuses(
      suspects.flatMap((i) => {
        const [a, b] = pairs[i] as Pair;
        return (['lt', 'eq', 'gt'] as const).map((op) => ({ op, a, b }));
      }),
    );
    suspects.forEach((i, k) => {
      const want = dpkgOutcome(followUp[3 * k], followUp[3 * k + 1], followUp[3 * k + 2]);
      mismatches.push(`${describePair(i, pairs[i] as Pair)}: compareDeb=${answers[i]} dpkg=${want}`);
    });
    const rejected = answers.filter((answer) => answer === 'error').length;
    console.info(
      `versions.oracle dpkg: ${pairs.length} pairs (${rejected} rejected as invalid) checked with ` +
        `${queries.length + followUp.length} dpkg runs in ${Math.round(performance.now() - started)} ms (seed ${SEED})`,
    );

    // Assess
    expect(statuses).toHaveLength(queries.length);
    expect(mismatches.slice(0, 25), `${mismatches.length} mismatches`).toEqual([]);
  }, 120_000);

  it.each(['1:', 'a:1', '1a:1', '-1:1', '2147483648:1', '1.0-', '-1', '1:-1', '1: ', '1 0', ' '])(
    'reports the same reason as dpkg for the invalid version %j',
    (bad) => {
      // Prepare
      const error = (() => {
        try {
          compareDeb(bad, '1');
        } catch (e) {
          return e;
        }
        return undefined;
      })();

      // Act
      const run = spawnSync('dpkg', ['--compare-versions', '--', bad, 'lt', '1'], {
        encoding: 'utf8',
        env: { ...process.env, LC_ALL: 'C' },
      });

      // Assess
      expect(run.status).toBe(2);
      expect(error).toBeInstanceOf(InvalidVersionError);
      expect(run.stderr).toContain(`has bad syntax: ${(error as InvalidVersionError).reason}`);
    },
  );
});

describe('oracle availability', () => {
  it.runIf(IS_CI)('has rpm and dpkg installed when running on CI', () => {
    // Prepare / Act: probed at module load.
    // Assess
    expect(hasRpm, '`rpm` must be installed on CI for the rpm differential suite').toBe(true);
    expect(hasDpkg, '`dpkg` and bash must be installed on CI for the dpkg differential suite').toBe(true);
  });
});
