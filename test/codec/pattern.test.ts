// OSC address patterns. Three case tables — liblo 0.31's testlo `test_patterns`, Python aiolo's
// `test_compile_osc_address_pattern`, and the OSC 1.0/1.1 spec — with every place where aiolo for
// TypeScript deliberately answers differently from liblo or Python aiolo written down.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
// an internal of the routing, no longer exported from the package
import { pathSegments } from '../../src/codec/pattern.js';
import {
  compilePattern,
  isPattern,
  matchPattern,
  OscPatternError,
  Pattern,
  routePathProblem,
} from '../../src/index.js';

type Case = [path: string, pattern: string, matches: boolean];

function check(cases: readonly Case[]): void {
  for (const [path, pattern, want] of cases) {
    assert.equal(matchPattern(pattern, path), want, `${JSON.stringify(pattern)} vs ${JSON.stringify(path)}`);
  }
}

// src/testlo.c test_patterns(), in order: TEST(lo_pattern_match(path, pattern)) / TEST(!...).
const TESTLO: Case[] = [
  ['/x1y', '/x{1,10,11}y', true],
  ['/x10y', '/x{1,10,11}y', true],
  ['/x11y', '/x{1,10,11}y', true],
  ['/x2y', '/x{1,10,11}y', false],
  ['/x12y', '/x{1,10,11}y', false],
  ['/x12y', '/x{11}y', false],
  ['/x12y', '/x{12}y', true],
  ['/x1y', '/x[321]y', true],
  ['/x4y', '/x[321]y', false],
  ['/x2y', '/x[1-3]y', true],
  ['/x3y', '/x[3-2]y', true],
  ['/xzy', '/x[3-2z]y', true],
  ['/x1y', '/x[!a-z]y', true],
  ['/x1y', '/x[a-z]y', false],
  ['/xby', '/x[a-z]y', true],
  ['/x-y', '/x[23-]y', true],
  ['/x!y', '/x[a-z!]y', true],
  ['/x123y', '/x*y', true],
  ['/x123y', '/x*z', false],
  ['/x1y', '/x?y', true],
  ['/x?y', '/x?y', true],
  ['/xy/z', '/*/?', true],
  ['/xy/z', '/?/*', false],
  ['/w/xy/z', '/[xyzw]/*/?', true],
  ['/z', '//z', true],
  ['/xy/z', '//z', true],
  ['/xy/z/w/u', '///w/u', true],
  ['/xy/z/w/u', '///z/w', false],
];

// Python aiolo 4.1.1 test.py test_compile_osc_address_pattern: its 38 (path, pattern, expect) cases.
const AIOLO: Case[] = [
  ['/x1y', '/x{1,10,11}y', true],
  ['/x10y', '/x{1,10,11}y', true],
  ['/x11y', '/x{1,10,11}y', true],
  ['/x2y', '/x{1,10,11}y', false],
  ['/x12y', '/x{1,10,11}y', false],
  ['/x12y', '/x{11}y', false],
  ['/x12y', '/x{12}y', true],
  ['/x1,2y', '/x{1\\,2}y', true],
  ['/xy', '/x{,}y', true],
  ['/aaa/foo', '/{aaa,bbb}/foo', true],
  ['/x1y', '/x[321]y', true],
  ['/x4y', '/x[321]y', false],
  ['/x2y', '/x[1-3]y', true],
  ['/x3y', '/x[2-3]y', true],
  ['/xzy', '/x[2-3z]y', true],
  ['/x1y', '/x[!a-z]y', true],
  ['/x1y', '/x[a-z]y', false],
  ['/xby', '/x[a-z]y', true],
  ['/x-y', '/x[23-]y', true],
  ['/x!y', '/x[a-z!]y', true],
  ['/x123y', '/x*y', true],
  ['/x123y', '/x*z', false],
  ['/x1y', '/x?y', true],
  ['/x?y', '/x?y', true],
  ['/xy/z', '/*/?', true],
  ['/xy/z', '/?/*', false],
  ['/w/xy/z', '/[xyzw]/*/?', true],
  ['/z', '//z', true],
  ['/xy/z', '//z', true],
  ['/xy/z/w/u', '///w/u', true],
  ['/xy/z/w/u', '///z/w', false],
  ['/xy/z/w/u?', '///w/u[?]', true],
  ['/xy/z/w/u?', '///w/u[!?]', false],
  ['/xy/z/w/u{1,2}', '///w/u\\{1,2\\}', true],
  ['/xy/z/w/u2', '///w/u\\{1,2\\}', false],
  ['/xy/z/w/u-', '///w/u[-]', true],
  ['/xy/z/w/u-', '///w/u[\\\\-]', true],
  ['/xy/z/w/ua-', '///w/u[a-][-]', true],
];

// The OSC 1.0 spec ("OSC Message Dispatching and Pattern Matching") and the OSC 1.1 paper's "//".
const SPEC: Case[] = [
  ['/foo', '/foo', true],
  ['/foo', '/Foo', false], // case-sensitive
  ['/xy', '/x?y', false], // '?' matches exactly one character
  ['/xaby', '/x?y', false],
  ['/foo', '/foo*', true], // '*' matches zero or more
  ['/foobar', '/foo*', true],
  ['/foo/bar', '/*', false], // '*' never crosses '/'
  ['/foo/bar', '/*/*', true],
  ['/x/y/z', '/x/*', false],
  ['/x/y', '/x?y', false], // '?' never matches '/'
  ['/a/c', '/a//c', true], // '//': zero or more segments
  ['/a/b/c', '/a//c', true],
  ['/a/b/d/c', '/a//c', true],
  ['/a/b', '/a//c', false],
  ['/x/yc', '//c', false],
  ['/xb', '/x{a,b,c}', true],
  ['/xd', '/x{a,b,c}', false],
  ['/xy', '/x{}y', true], // liblo: {} matches the empty string
  ['/synth/3/freq', '/synth/[1-4]/freq', true],
  ['/synth/5/freq', '/synth/[1-4]/freq', false],
  ['/synth/5/freq', '/synth/[!1-4]/freq', true],
  ['/x]y', '/x[]]y', true], // ']' first in a set is literal (as liblo)
  ['/x^y', '/x[^a]y', true], // '^' is not negation in OSC (as liblo)
  ['/', '/', true],
  ['/a', '/*', true],
  ['/', '/*', true], // '*' matches the empty root segment
  ['/foo/bar', '/{foo,baz}/b?r', true],
  ['/a.b/c', '/a.b/*', true], // '.' is literal, not a regex dot
  ['/axb/c', '/a.b/*', false],
  ['/a+b', '/a+b', true], // '+' is literal (osc-js gets this wrong)
];

describe('address patterns', () => {
  test('liblo 0.31 testlo test_patterns (28 cases), with [3-2] read as the range 2-3', () => check(TESTLO));
  test('Python aiolo’s 38 cases', () => check(AIOLO));
  test('the OSC 1.0 spec and the OSC 1.1 "//" wildcard', () => check(SPEC));

  test('deliberate differences from liblo 0.31, which lets * and ? cross "/"', () => {
    // liblo: lo_pattern_match('/foo/bar', '/*') is true and ('/x/y', '/x?y') is true.
    check([
      ['/foo/bar', '/*', false],
      ['/x/y/z', '/x/*', false],
      ['/x/y', '/x?y', false],
    ]);
    // liblo reads a reversed range [z-a] as the two characters {z, a}; aiolo as the range a-z.
    check([['/xmy', '/x[z-a]y', true]]);
  });

  test('deliberate differences from Python aiolo, whose ? matches zero or one character', () => {
    check([['/xy', '/x?y', false]]);
  });

  test('trailing "/" in a pattern is an empty segment, so a "//" wildcard (as Python aiolo)', () => {
    check([
      ['/foo', '/fo?/', true],
      ['/foo/bar', '/fo?/', true],
    ]);
  });

  test('invalid patterns throw OscPatternError with a position', () => {
    for (const [pattern, position] of [
      ['/x[ab', 2],
      ['/x{a,b', 2],
      ['/x{a{b}}', 4],
      ['/x[a/b]', 4],
      ['/x{a/b}', 4],
      ['x/*', 0],
      ['/x\\', 2],
    ] as const) {
      assert.throws(
        () => new Pattern(pattern),
        (err: unknown) =>
          err instanceof OscPatternError &&
          err.code === 'ERR_OSC_INVALID_PATTERN' &&
          err.position === position &&
          err.pattern === pattern,
        pattern,
      );
    }
  });

  test('hostile patterns match in polynomial time (no backtracking blow-up)', { timeout: 10_000 }, () => {
    const path = `/${'a'.repeat(3000)}`;
    assert.equal(matchPattern(`/${'*a'.repeat(40)}b`, path), false);
    assert.equal(matchPattern(`/${'{a,aa,aaa}'.repeat(40)}b`, path), false);
    const deep = `/${Array.from({ length: 200 }, () => 'x').join('/')}`;
    assert.equal(matchPattern(`${'//x'.repeat(100)}/y`, deep), false);
    assert.equal(matchPattern(`${'//x'.repeat(100)}`, deep), true);
  });

  test('compiled patterns are cached and reused', () => {
    assert.equal(compilePattern('/cache/*'), compilePattern('/cache/*'));
    for (let i = 0; i < 1000; i++) compilePattern(`/evict/${i}/*`);
    assert.ok(compilePattern('/cache/*').matches('/cache/x'));
  });

  test('matchesSegments takes a pre-split path', () => {
    const p = compilePattern('/a/*/c');
    assert.deepEqual(pathSegments('/a/b/c'), ['a', 'b', 'c']);
    assert.equal(p.matchesSegments(pathSegments('/a/b/c')), true);
    assert.equal(p.matchesSegments(['a', 'b']), false);
    assert.equal(p.matches('a/b/c'), false); // a path without "/" matches no pattern
  });

  test('isPattern: only ? * [ ] { } and "//" make a path a pattern', () => {
    for (const p of ['/a?', '/*', '/[a]', '/{a}', '//a', '/a//b', '/a]']) assert.equal(isPattern(p), true, p);
    for (const p of ['/a', '/a/b', '/', '/a,b', '/a#b', '/a b', '/a!', '/a-b', '/a/'])
      assert.equal(isPattern(p), false, p);
  });

  test('route paths: literal, "/"-rooted, none of liblo’s " #*,?[]{}", no "//"', () => {
    for (const p of ['/foo', '/foo/bar', '/', '/t/ünï', '/a!b', '/a-b^c\\d'])
      assert.equal(routePathProblem(p), undefined, p);
    for (const p of ['foo', '', '/a b', '/a#', '/a*', '/a,b', '/a?', '/a[b]', '/a{b}', '/a//b', '/a\0', 5]) {
      assert.ok(routePathProblem(p), String(p));
    }
    // Python aiolo's test_cannot_serve_pattern, which ran only its first parameter: all of them here
    for (const c of '#{}[]!?*,-^\\') assert.ok(routePathProblem(c), c);
  });

  test('runs of "//" are one "any number of segments"; the answer is the same', () => {
    for (const path of ['/a/b', '/a/x/y/b', '/a/b/b', '/b', '/a']) {
      assert.equal(compilePattern('/a////b').matches(path), compilePattern('/a//b').matches(path), path);
    }
    assert.equal(compilePattern(`/${'/'.repeat(5000)}x`).matches('/p/q/x'), true);
  });

  test('with a budget, matching stops when it is spent: false, and the budget below zero', () => {
    const costly = compilePattern(`/r/${'{,1}'.repeat(2000)}`);
    const budget = { left: 10_000 };
    assert.equal(costly.matchesSegments(['r', '11'], budget), false);
    assert.ok(budget.left < 0);
    // the same pattern with room to work matches
    assert.equal(costly.matchesSegments(['r', '11'], { left: 1e9 }), true);
    // length bounds rule a path out before any matching, at the cost of one step
    const cheap = { left: 10 };
    assert.equal(compilePattern(`/${'?'.repeat(100)}`).matchesSegments(['abc'], cheap), false);
    assert.equal(cheap.left, 9);
  });
});
