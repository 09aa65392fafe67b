import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  compareDeb,
  compareRpm,
  compareSemver,
  compareVersions,
  InvalidConstraintError,
  InvalidVersionError,
  parseConstraint,
  rpmEvr,
  satisfies,
  type VersionScheme,
} from '../../shared/domain/versions.ts';

type Case = readonly [a: string, b: string, expected: -1 | 0 | 1];

/** Asserts cmp(a, b) and, as a free antisymmetry check, cmp(b, a). */
function expectOrder(cmp: (a: string, b: string) => -1 | 0 | 1, [a, b, expected]: Case): void {
  // Act
  const forward = cmp(a, b);
  const backward = cmp(b, a);
  // Assess
  expect(forward, `cmp(${JSON.stringify(a)}, ${JSON.stringify(b)})`).toBe(expected);
  expect(backward, `cmp(${JSON.stringify(b)}, ${JSON.stringify(a)})`).toBe(-expected || 0);
}

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to throw');
}

/** The three order-relation laws for a comparator over generated values. */
function orderLaws(
  name: string,
  cmp: (a: string, b: string) => -1 | 0 | 1,
  value: fc.Arbitrary<string>,
  numRuns = 3000,
): void {
  it(`${name}: is reflexive`, () => {
    fc.assert(
      fc.property(value, (a) => cmp(a, a) === 0),
      { numRuns },
    );
  });

  it(`${name}: is antisymmetric (cmp(a, b) === -cmp(b, a))`, () => {
    fc.assert(
      fc.property(value, value, (a, b) => cmp(a, b) === (-cmp(b, a) || 0)),
      { numRuns },
    );
  });

  it(`${name}: is transitive over generated triples`, () => {
    fc.assert(
      fc.property(value, value, value, (a, b, c) => {
        const [x, y, z] = [a, b, c].sort(cmp) as [string, string, string];
        const xy = cmp(x, y);
        const yz = cmp(y, z);
        const xz = cmp(x, z);
        // After sorting, x <= y <= z must imply x <= z, strictly if either step is strict.
        return xy <= 0 && yz <= 0 && xz <= 0 && (xy === 0 && yz === 0 ? xz === 0 : xz === -1);
      }),
      { numRuns },
    );
  });
}

// ---------------------------------------------------------------------------------------------------------

describe('compareRpm', () => {
  it('returns 0 for identical strings', () => {
    expect(compareRpm('1:3.0.8-1.amzn2023.0.14', '1:3.0.8-1.amzn2023.0.14')).toBe(0);
  });

  it.each<Case>([
    ['1.0~rc1', '1.0', -1],
    ['1.0~rc1', '1.0~rc2', -1],
    ['1.0~~', '1.0~', -1],
    ['1.0~', '1.0', -1],
  ])('sorts ~ before everything, even the end of the string: %j vs %j', (a, b, expected) => {
    expectOrder(compareRpm, [a, b, expected]);
  });

  it.each<Case>([
    ['1.0^', '1.0', 1],
    ['1.0^git1', '1.0', 1],
    ['1.0^git1', '1.0.1', -1],
    ['1.0^1', '1.0^2', -1],
    ['1.0~rc1^git1', '1.0~rc1', 1],
    ['1.0^', '1.0~', 1],
  ])('sorts ^ after the end of the string but before any other segment: %j vs %j', (a, b, expected) => {
    expectOrder(compareRpm, [a, b, expected]);
  });

  it.each<Case>([
    ['1:1.0', '2.0', 1],
    ['0:1.0', '1.0', 0],
    [':1.0', '0:1.0', 0],
    ['00:1', '0:1', 0],
    ['2:1', '10:1', -1],
    ['3.0.8-1.amzn2023.0.14', '1:3.0.8-1.amzn2023.0.1', -1],
  ])('compares epochs first, a missing or empty epoch being 0: %j vs %j', (a, b, expected) => {
    expectOrder(compareRpm, [a, b, expected]);
  });

  it.each<Case>([
    ['1.01', '1.1', 0],
    ['1.001', '1.1', 0],
    ['1.010', '1.1', 1],
    ['1.10', '1.9', 1],
  ])(
    'compares digit runs as numbers (leading zeros ignored, longer run wins): %j vs %j',
    (a, b, expected) => {
      expectOrder(compareRpm, [a, b, expected]);
    },
  );

  it.each<Case>([
    ['1.1', '1.a', 1],
    ['1a', '1.1', -1],
    ['1.a', '1.b', -1],
    ['1.B', '1.a', -1],
    ['1.0a', '1.0', 1],
  ])(
    'ranks numeric segments above alpha ones and compares alpha segments bytewise: %j vs %j',
    (a, b, expected) => {
      expectOrder(compareRpm, [a, b, expected]);
    },
  );

  it.each<Case>([
    ['1.0', '1_0', 0],
    ['1..0', '1.0', 0],
    ['1.0.', '1.0', 0],
    ['1é0', '1.0', 0],
    ['1.0é', '1.0', 0],
  ])('treats any other character, including non-ASCII, as a mere separator: %j vs %j', (a, b, expected) => {
    expectOrder(compareRpm, [a, b, expected]);
  });

  it.each<Case>([
    ['1.0', '1.0-1', -1],
    ['1.0', '1.0-', -1],
    ['1.0-', '1.0-1', -1],
    ['1.0-1', '1.0-2', -1],
    ['1-2-3', '1-2', 1],
    ['1-2-3', '1-2-4', -1],
    ['1:3.0.8-1.amzn2023.0.14', '1:3.0.8-1.amzn2023.0.12', 1],
    ['1.2.3-1.amzn2023', '1.2.3-1.amzn2023.0.1', -1],
  ])(
    'splits the release at the last "-" and sorts a missing release before any release: %j vs %j',
    (a, b, expected) => {
      expectOrder(compareRpm, [a, b, expected]);
    },
  );

  it('treats an embedded NUL as the end of the string, like C', () => {
    expectOrder(compareRpm, ['a\0b', 'a', 0]);
    expectOrder(compareRpm, ['1\0:2', '1', 0]);
  });

  it.each([
    ['', '1', ''],
    ['1', '', ''],
    ['', '', ''],
    ['\0x', '1', '\0x'],
  ])('throws InvalidVersionError for an empty version (%j vs %j), which rpm rejects', (a, b, offending) => {
    // Act
    const error = thrown(() => compareRpm(a, b));
    // Assess
    expect(error).toBeInstanceOf(InvalidVersionError);
    expect(error).toMatchObject({ name: 'InvalidVersionError', version: offending });
  });

  orderLaws(
    'compareRpm',
    compareRpm,
    fc
      .array(
        fc.constantFrom('0', '1', '2', '9', '00', '10', 'a', 'b', 'Z', '.', '-', ':', '~', '^', '_', 'é'),
        {
          minLength: 1,
          maxLength: 10,
        },
      )
      .map((tokens) => tokens.join('')),
  );
});

describe('rpmEvr', () => {
  it('builds epoch:version-release, defaulting a missing or empty epoch to 0', () => {
    expect(rpmEvr('1', '3.0.8', '1.amzn2023.0.14')).toBe('1:3.0.8-1.amzn2023.0.14');
    expect(rpmEvr(undefined, '3.0.8', '1.amzn2023')).toBe('0:3.0.8-1.amzn2023');
    expect(rpmEvr('', '1.0', undefined)).toBe('0:1.0');
  });

  it('keeps an empty release as a present release', () => {
    // Act
    const evr = rpmEvr('0', '1.0', '');
    // Assess
    expect(evr).toBe('0:1.0-');
    expect(compareRpm(evr, rpmEvr('0', '1.0', undefined))).toBe(1);
  });
});

// ---------------------------------------------------------------------------------------------------------

describe('compareDeb', () => {
  it('returns 0 for identical strings', () => {
    expect(compareDeb('1:2.3.4-1ubuntu1', '1:2.3.4-1ubuntu1')).toBe(0);
  });

  it.each<Case>([
    ['1.0~rc1', '1.0', -1],
    ['1.0~~', '1.0~', -1],
    ['1.0~', '1.0', -1],
    ['1.0-1~bpo1', '1.0-1', -1],
  ])('sorts ~ before everything, even the end: %j vs %j', (a, b, expected) => {
    expectOrder(compareDeb, [a, b, expected]);
  });

  it.each<Case>([
    ['1.0', '1.0a', -1],
    ['1.0a', '1.0+', -1],
    ['1.0+', '1.0.', -1],
    ['1.0A', '1.0a', -1],
    ['1.0+dfsg-1', '1.0-1', 1],
  ])('sorts letters before other characters, by ASCII code: %j vs %j', (a, b, expected) => {
    expectOrder(compareDeb, [a, b, expected]);
  });

  it.each<Case>([
    ['1:1.0', '2.0', 1],
    ['0:1.0', '1.0', 0],
    ['01:1', '1:1', 0],
    ['+1:1', '1:1', 0],
    ['-0:1', '0:1', 0],
    ['2147483647:1', '2147483646:9', 1],
    ['1:2.3.4-1ubuntu1', '2.3.5-1', 1],
  ])('compares numeric epochs first (strtol semantics): %j vs %j', (a, b, expected) => {
    expectOrder(compareDeb, [a, b, expected]);
  });

  it.each<Case>([
    ['1.01', '1.1', 0],
    ['1.001', '1.1', 0],
    ['1.10', '1.9', 1],
  ])('compares digit runs numerically: %j vs %j', (a, b, expected) => {
    expectOrder(compareDeb, [a, b, expected]);
  });

  it.each<Case>([
    ['1.0-1', '1.0', 1],
    ['1.0', '1.0-0', 0],
    ['1-2-3', '1-2-4', -1],
    ['1:2:3', '1:2', 1],
    ['2.36-9+deb12u4', '2.36-9+deb12u3', 1],
  ])('splits the revision at the last "-" (a missing revision equals "0"): %j vs %j', (a, b, expected) => {
    expectOrder(compareDeb, [a, b, expected]);
  });

  it.each<Case>([
    ['', '0', -1],
    ['', '', 0],
    ['<unknown>', '', 0],
    ['<unknown>', '0:0', -1],
    [' 1.0\t', '1.0', 0],
  ])('handles dpkg blank versions and surrounding blanks: %j vs %j', (a, b, expected) => {
    expectOrder(compareDeb, [a, b, expected]);
  });

  it.each<Case>([
    ['a1', '1', 1],
    ['1_0', '1.0', 1],
    ['1é', '1z', 1],
    ['1é', '1.', -1],
    ['1é', '1ü', -1],
  ])(
    'still compares versions dpkg only warns about (UTF-8 bytes order as signed chars): %j vs %j',
    (a, b, expected) => {
      expectOrder(compareDeb, [a, b, expected]);
    },
  );

  it.each([
    ['1:', 'nothing after colon in version number'],
    ['a:1', 'epoch in version is empty'],
    [':1', 'epoch in version is empty'],
    ['1a:1', 'epoch in version is not number'],
    ['0x1:2', 'epoch in version is not number'],
    ['-1:1', 'epoch in version is negative'],
    ['2147483648:1', 'epoch in version is too big'],
    ['99999999999999999999:1', 'epoch in version is too big'],
    ['1.0-', 'revision number is empty'],
    ['-1', 'version number is empty'],
    ['1:-1', 'version number is empty'],
    ['1: ', 'version number is empty'],
    ['1 0', 'version string has embedded spaces'],
    [' ', 'version string is empty'],
  ])('throws InvalidVersionError for %j, which dpkg rejects: %s', (bad, reason) => {
    for (const [a, b] of [
      [bad, '1.0'],
      ['1.0', bad],
      [bad, bad],
    ] as const) {
      // Act
      const error = thrown(() => compareDeb(a, b));
      // Assess
      expect(error).toBeInstanceOf(InvalidVersionError);
      expect(error).toMatchObject({ name: 'InvalidVersionError', version: bad, reason });
      expect((error as Error).message).toContain(reason);
    }
  });

  orderLaws(
    'compareDeb',
    compareDeb,
    fc
      .tuple(
        fc.constantFrom('', '0:', '1:', '2:', '01:'),
        fc.constantFrom(...'0123456789'),
        fc.array(fc.constantFrom('0', '1', '9', '00', 'a', 'z', 'A', '.', '+', '~', '~~', ':', 'é'), {
          maxLength: 6,
        }),
        fc.option(
          fc.array(fc.constantFrom('0', '1', '9', 'a', 'Z', '.', '+', '~'), { minLength: 1, maxLength: 4 }),
        ),
      )
      .map(([epoch, first, rest, revision]) => {
        const upstream = `${first}${rest.join('')}`;
        // A ':' in the upstream version needs an explicit epoch to stay valid.
        const prefix = epoch === '' && upstream.includes(':') ? '0:' : epoch;
        return `${prefix}${upstream}${revision ? `-${revision.join('')}` : ''}`;
      }),
  );
});

// ---------------------------------------------------------------------------------------------------------

describe('compareSemver', () => {
  it('orders prereleases as in the SemVer 2.0 specification', () => {
    // Prepare
    const ordered = [
      '1.0.0-alpha',
      '1.0.0-alpha.1',
      '1.0.0-alpha.beta',
      '1.0.0-beta',
      '1.0.0-beta.2',
      '1.0.0-beta.11',
      '1.0.0-rc.1',
      '1.0.0',
      '1.0.1',
      '1.1.0',
      '2.0.0',
      '10.0.0',
    ];
    // Act
    const sorted = [...ordered].reverse().sort(compareSemver);
    // Assess
    expect(sorted).toEqual(ordered);
    for (let i = 1; i < ordered.length; i++)
      expectOrder(compareSemver, [ordered[i - 1], ordered[i], -1] as Case);
  });

  it('ignores build metadata and accepts a leading v', () => {
    expectOrder(compareSemver, ['1.0.0+build.1', '1.0.0+build.2', 0]);
    expectOrder(compareSemver, ['v1.2.3', '1.2.3', 0]);
    expectOrder(compareSemver, ['v1.2.3-rc.1', '1.2.3', -1]);
  });

  it('compares numeric prerelease identifiers exactly, beyond double precision', () => {
    expectOrder(compareSemver, ['1.0.0-9007199254740993', '1.0.0-9007199254740992', 1]);
    expectOrder(compareSemver, ['1.0.0-99999999999999999999.a', '1.0.0-99999999999999999999.b', -1]);
  });

  it.each([
    '',
    '1.2',
    '1',
    '1.2.3.4',
    '01.2.3',
    '1.2.3-01',
    ' 1.2.3',
    '1.2.3 ',
    '=1.2.3',
    'V1.2.3',
    'latest',
  ])('throws InvalidVersionError for the non-SemVer %j', (bad) => {
    // Act
    const error = thrown(() => compareSemver(bad, '1.0.0'));
    // Assess
    expect(error).toBeInstanceOf(InvalidVersionError);
    expect(error).toMatchObject({ name: 'InvalidVersionError', version: bad });
    expect(() => compareSemver(bad, bad)).toThrow(InvalidVersionError);
  });

  const identifier = fc.oneof(
    fc.constantFrom('0', '1', '2', '10', 'alpha', 'beta', 'rc', 'a-b', 'A'),
    fc.nat().map(String),
  );
  orderLaws(
    'compareSemver',
    compareSemver,
    fc
      .tuple(
        fc.constantFrom('', 'v'),
        fc.tuple(fc.nat(3), fc.nat(3), fc.nat(3)),
        fc.array(identifier, { maxLength: 3 }),
        fc.array(identifier, { maxLength: 2 }),
      )
      .map(
        ([v, core, pre, build]) =>
          `${v}${core.join('.')}${pre.length ? `-${pre.join('.')}` : ''}${build.length ? `+${build.join('.')}` : ''}`,
      ),
  );
});

// ---------------------------------------------------------------------------------------------------------

describe('compareVersions', () => {
  it.each<[VersionScheme, string, string, -1 | 0 | 1]>([
    ['rpm', '1.0~rc1', '1.0', -1],
    ['rpm', '1.0^git1', '1.0', 1],
    ['deb', '1:1.0', '2.0', 1],
    ['deb', '1.0', '1.0-0', 0],
    ['semver', '1.0.0-rc.1', '1.0.0', -1],
    ['semver', 'v2.0.0', '2.0.0+meta', 0],
  ])('dispatches the %s scheme to its comparator (%j vs %j)', (scheme, a, b, expected) => {
    expect(compareVersions(scheme, a, b)).toBe(expected);
  });

  it('compares "other" versions by exact equality, ordering only by code units', () => {
    expect(compareVersions('other', '1.0', '1.0')).toBe(0);
    expect(compareVersions('other', '1.0', '1.00')).toBe(-1);
    expect(compareVersions('other', 'b', 'a')).toBe(1);
    // No real version ordering: "10" sorts before "9".
    expect(compareVersions('other', '10', '9')).toBe(-1);
  });

  it('propagates InvalidVersionError from the scheme comparator', () => {
    expect(() => compareVersions('deb', '1:', '1')).toThrow(InvalidVersionError);
    expect(() => compareVersions('rpm', '', '1')).toThrow(InvalidVersionError);
    expect(() => compareVersions('semver', '1.2', '1.2.0')).toThrow(InvalidVersionError);
  });
});

// ---------------------------------------------------------------------------------------------------------

describe('parseConstraint', () => {
  it('parses AND clauses (comma or whitespace) and || alternatives, with optional operator spacing', () => {
    // Act
    const parsed = parseConstraint('>=1.2, <2  != 1.5 || == 3.0 ||= 4');
    // Assess
    expect(parsed).toEqual({
      source: '>=1.2, <2  != 1.5 || == 3.0 ||= 4',
      alternatives: [
        [
          { operator: '>=', version: '1.2' },
          { operator: '<', version: '2' },
          { operator: '!=', version: '1.5' },
        ],
        [{ operator: '==', version: '3.0' }],
        [{ operator: '=', version: '4' }],
      ],
    });
  });

  it('keeps rpm EVR operands whole', () => {
    expect(parseConstraint('>= 1:3.0.8-1.amzn2023.0.14').alternatives).toEqual([
      [{ operator: '>=', version: '1:3.0.8-1.amzn2023.0.14' }],
    ]);
  });

  it.each([
    ['', 'empty constraint'],
    ['   ', 'empty constraint'],
    ['1.0', 'missing operator before "1.0"'],
    ['>=', 'missing version after ">="'],
    ['>= ,<2', 'missing version after ">="'],
    ['>=1,,<2', 'empty clause'],
    ['>=1,', 'trailing ","'],
    [', >=1', 'empty clause'],
    ['>=1 ||', 'empty alternative'],
    ['|| >=1', 'empty alternative'],
    ['>=1 || || <2', 'empty alternative'],
    ['>=1 | <2', 'unexpected "|"'],
    ['=>1', 'invalid operator "=>"'],
    ['===1', 'invalid operator "==="'],
    ['!1', 'invalid operator "!"'],
    ['>=1<2', 'missing separator'],
  ])('rejects %j with InvalidConstraintError naming the problem (%s)', (constraint, reason) => {
    // Act
    const error = thrown(() => parseConstraint(constraint));
    // Assess
    expect(error).toBeInstanceOf(InvalidConstraintError);
    expect(error).toMatchObject({ name: 'InvalidConstraintError', constraint });
    expect((error as Error).message).toContain(reason);
  });

  it('validates operands against a scheme when one is given', () => {
    // Act
    const error = thrown(() => parseConstraint('>= 1.0, < 1:', 'deb'));
    // Assess
    expect(error).toBeInstanceOf(InvalidConstraintError);
    expect((error as Error).message).toContain('"1:"');
    expect((error as Error).cause).toBeInstanceOf(InvalidVersionError);
    expect(() => parseConstraint('>= 1.2', 'semver')).toThrow(InvalidConstraintError);
    expect(parseConstraint('>= 1.2.0', 'semver').alternatives).toHaveLength(1);
  });

  it('round-trips generated constraints', () => {
    const operator = fc.constantFrom('>=', '<=', '>', '<', '=', '==', '!=');
    const version = fc
      .array(fc.constantFrom('0', '1', '9', 'a', '.', '-', ':', '~', '^', '+'), {
        minLength: 1,
        maxLength: 8,
      })
      .map((t) => t.join(''));
    const clause = fc.tuple(operator, fc.constantFrom('', ' '), version);
    const alternative = fc.array(clause, { minLength: 1, maxLength: 3 });
    fc.assert(
      fc.property(
        fc.array(alternative, { minLength: 1, maxLength: 3 }),
        fc.constantFrom(', ', ',', ' ', '\t'),
        (alternatives, separator) => {
          // Prepare
          const text = alternatives
            .map((clauses) => clauses.map(([op, space, v]) => `${op}${space}${v}`).join(separator))
            .join(' || ');
          // Act
          const parsed = parseConstraint(text);
          // Assess
          expect(parsed.alternatives).toEqual(
            alternatives.map((clauses) => clauses.map(([op, , v]) => ({ operator: op, version: v }))),
          );
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('satisfies', () => {
  it('checks an rpm EVR floor', () => {
    expect(satisfies('rpm', '1:3.0.8-1.amzn2023.0.15', '>= 1:3.0.8-1.amzn2023.0.14')).toBe(true);
    expect(satisfies('rpm', '1:3.0.8-1.amzn2023.0.14', '>= 1:3.0.8-1.amzn2023.0.14')).toBe(true);
    expect(satisfies('rpm', '1:3.0.8-1.amzn2023.0.13', '>= 1:3.0.8-1.amzn2023.0.14')).toBe(false);
    expect(satisfies('rpm', '3.0.9-1.amzn2023', '>= 1:3.0.8-1.amzn2023.0.14')).toBe(false);
  });

  it('requires every clause of an alternative (AND by comma or whitespace)', () => {
    expect(satisfies('deb', '1.5', '>=1.2, <2')).toBe(true);
    expect(satisfies('deb', '1.5', '>=1.2 <2')).toBe(true);
    expect(satisfies('deb', '2.0', '>=1.2, <2')).toBe(false);
    expect(satisfies('deb', '2.0~rc1', '>=1.2, <2.0')).toBe(true);
    expect(satisfies('deb', '2.0~rc1', '>=1.2, <2')).toBe(false);
  });

  it('accepts any alternative (OR by ||)', () => {
    expect(satisfies('rpm', '1.5', '< 1.0 || >= 2.0')).toBe(false);
    expect(satisfies('rpm', '2.1', '< 1.0 || >= 2.0')).toBe(true);
    expect(satisfies('rpm', '0.9', '< 1.0 || >= 2.0')).toBe(true);
  });

  it.each<[string, boolean, boolean, boolean]>([
    // operator, holds for 1.0 vs 2.0, for 2.0 vs 2.0, for 3.0 vs 2.0
    ['>=', false, true, true],
    ['<=', true, true, false],
    ['>', false, false, true],
    ['<', true, false, false],
    ['=', false, true, false],
    ['==', false, true, false],
    ['!=', true, false, true],
  ])('implements the %s operator', (operator, below, equal, above) => {
    expect(satisfies('semver', '1.0.0', `${operator} 2.0.0`)).toBe(below);
    expect(satisfies('semver', '2.0.0', `${operator}2.0.0`)).toBe(equal);
    expect(satisfies('semver', '3.0.0', `${operator} 2.0.0`)).toBe(above);
  });

  it('uses scheme equality, not string equality', () => {
    expect(satisfies('rpm', '0:1.01', '= 1.1')).toBe(true);
    expect(satisfies('deb', '1.0', '== 1.0-0')).toBe(true);
    expect(satisfies('other', '1.0', '= 1.00')).toBe(false);
  });

  it('throws InvalidConstraintError for a malformed constraint', () => {
    expect(() => satisfies('rpm', '1.0', '>= 1.0,')).toThrow(InvalidConstraintError);
  });

  it('throws InvalidVersionError for a version or operand invalid under the scheme', () => {
    expect(() => satisfies('deb', '1:', '>= 1.0')).toThrow(InvalidVersionError);
    expect(() => satisfies('deb', '1.0', '>= 1:')).toThrow(InvalidVersionError);
    expect(() => satisfies('semver', '1.2.3', '>= 1.2')).toThrow(InvalidVersionError);
  });

  it('agrees with compareVersions for generated single-clause constraints', () => {
    const version = fc
      .array(fc.constantFrom('0', '1', '2', '00', 'a', 'z', '.', '~', '^', '-', ':', '+'), {
        minLength: 1,
        maxLength: 8,
      })
      .map((t) => t.join(''));
    fc.assert(
      fc.property(version, version, (v, w) => {
        // Act / Assess
        const rc = compareRpm(v, w);
        expect(satisfies('rpm', v, `>= ${w}`)).toBe(rc >= 0);
        expect(satisfies('rpm', v, `<${w}`)).toBe(rc < 0);
        expect(satisfies('rpm', v, `= ${w}`)).toBe(rc === 0);
      }),
      { numRuns: 1000 },
    );
  });
});

describe('error classes', () => {
  it('are named Error subclasses that keep the offending input', () => {
    // Act
    const versionError = new InvalidVersionError('1:', 'nothing after colon in version number');
    const constraintError = new InvalidConstraintError('>=', 'missing version');
    // Assess
    expect(versionError).toBeInstanceOf(Error);
    expect(versionError.name).toBe('InvalidVersionError');
    expect(versionError.version).toBe('1:');
    expect(constraintError).toBeInstanceOf(Error);
    expect(constraintError.name).toBe('InvalidConstraintError');
    expect(constraintError.constraint).toBe('>=');
  });
});
