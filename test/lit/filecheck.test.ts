// The lit runner's own tests (test/lit/filecheck.ts): each directive passes on output that has what it asks and
// fails, with a message naming the directive, its pattern, where the search started and the output, on output
// that has not; RUN lines parse and run as documented.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type KilnResult, LitError, checkOutput, compilePattern, describesItself, parseChecks, parseRunLines, runLitFile, splitWords } from './filecheck.js';

const OUT = ['graph @g(%x: f32[2,3]) {', '  const %w: f32[3,2] = [1, 2, 3, 4, 5, 6]', '  %y = MatMul(%x, %w) : f32[2,2]', '', '  return %y', '}', ''].join('\n');

/** Checks written as a lit file's comment lines (prefix CHECK). */
const checks = (...lines: string[]) => parseChecks(lines.map((l) => `// ${l}`).join('\n'), ['CHECK'], 't.kir');

/** The LitError message checking OUT (or `output`) against these lines gives, or undefined when it passes. */
function failure(lines: string[], output = OUT): string | undefined {
  try {
    checkOutput(output, checks(...lines), 't.kir');
    return undefined;
  } catch (e) {
    expect(e).toBeInstanceOf(LitError);
    return (e as Error).message;
  }
}

describe('patterns', () => {
  it('are literal text, with {{regex}} parts and blanks matching any run of blanks', () => {
    expect(compilePattern('a.b [1]').test('a.b [1]')).toBe(true);
    expect(compilePattern('a.b').test('axb')).toBe(false);
    expect(compilePattern('x = {{[0-9]+}} ok').test('x = 42 ok')).toBe(true);
    expect(compilePattern('x = {{[0-9]+}} ok').test('x = 4a ok')).toBe(false);
    expect(compilePattern('a b').test('a \t  b')).toBe(true);
    expect(compilePattern('a b').test('ab')).toBe(false);
    expect(compilePattern('  a  ').source).toBe('a');
    expect(() => compilePattern('x {{[0-9]+')).toThrow(/'\{\{' without a closing '\}\}'/);
    expect(() => compilePattern('x {{(}}')).toThrow(/bad regular expression \{\{\(\}\}/);
  });
});

describe('directives', () => {
  it('CHECK matches in order, later on the same line included', () => {
    expect(failure(['CHECK: graph @g', 'CHECK: %x', 'CHECK: MatMul', 'CHECK: return %y'])).toBeUndefined();
    expect(failure(['CHECK: f32[2,3]', 'CHECK: {', 'CHECK: const'])).toBeUndefined(); // `{` later on line 1
    const m = failure(['CHECK: MatMul', 'CHECK: const %w']);
    expect(m).toContain('t.kir:2: CHECK: expected pattern not found');
    expect(m).toContain('pattern: const %w');
    expect(m).toContain('searched from output line 3, column 14:   %y = MatMul(%x, %w) : f32[2,2]');
    expect(m).toContain('output:\n  1 | graph @g(%x: f32[2,3]) {\n');
    expect(m).toContain('  6 | }');
  });

  it('CHECK-NEXT must match on the line after the previous match', () => {
    expect(failure(['CHECK: const %w', 'CHECK-NEXT: %y = MatMul({{.*}}) : f32[2,2]', 'CHECK-EMPTY:', 'CHECK-NEXT: return %y'])).toBeUndefined();
    const m = failure(['CHECK: graph', 'CHECK-NEXT: MatMul']);
    expect(m).toContain('t.kir:2: CHECK-NEXT: expected on output line 2 (the line after the previous match), found only on line 3');
    expect(m).toContain('searched from output line 2:   const %w');
    expect(failure(['CHECK: return', 'CHECK-NEXT: }', 'CHECK-NEXT: graph'])).toContain('CHECK-NEXT: expected pattern not found on the line after the previous match');
    expect(failure(['CHECK: return', 'CHECK-NEXT: }', 'CHECK-NEXT: graph'])).toContain('searched from the end of the output');
  });

  it('CHECK-SAME must match on the previous match line, after the match', () => {
    expect(failure(['CHECK: %y = MatMul(', 'CHECK-SAME: %x, %w', 'CHECK-SAME: : f32[2,2]'])).toBeUndefined();
    const m = failure(['CHECK: MatMul', 'CHECK-SAME: %y']);
    expect(m).toContain('t.kir:2: CHECK-SAME: expected pattern not found on the line of the previous match');
    expect(m).toContain('pattern: %y');
    expect(failure(['CHECK: const', 'CHECK-SAME: MatMul'])).toContain('CHECK-SAME: expected pattern not found');
  });

  it('CHECK-EMPTY wants an empty line next', () => {
    expect(failure(['CHECK: MatMul', 'CHECK-EMPTY:'])).toBeUndefined();
    expect(failure(['CHECK: const', 'CHECK-EMPTY:'])).toContain('t.kir:2: CHECK-EMPTY: expected an empty line after the previous match\n  pattern: \n  searched from output line 3:   %y = MatMul');
  });

  it('CHECK-NOT excludes a pattern between the matches around it, or after the last', () => {
    expect(failure(['CHECK: graph', 'CHECK-NOT: Relu', 'CHECK: return'])).toBeUndefined();
    expect(failure(['CHECK: MatMul', 'CHECK-NOT: const'])).toBeUndefined(); // const comes before
    expect(failure(['CHECK-NOT: Relu'])).toBeUndefined();
    const m = failure(['CHECK: graph', 'CHECK-NOT: MatMul', 'CHECK: return']);
    expect(m).toContain('t.kir:2: CHECK-NOT: excluded pattern found on output line 3:   %y = MatMul(%x, %w) : f32[2,2]');
    expect(m).toContain('searched from output line 1, column 6: graph @g');
    expect(failure(['CHECK: const', 'CHECK-NOT: return'])).toContain('CHECK-NOT: excluded pattern found on output line 5');
  });

  it('CHECK-LABEL cuts the output into blocks that other directives cannot match across', () => {
    const two = `${OUT}${OUT.replace('@g', '@h').replace('MatMul', 'Add')}`;
    expect(failure(['CHECK-LABEL: graph @g', 'CHECK: MatMul', 'CHECK-LABEL: graph @h', 'CHECK: Add', 'CHECK-NOT: MatMul'], two)).toBeUndefined();
    // Unbounded, `CHECK: Add` would find @h's Add; within @g's block there is none.
    const m = failure(['CHECK-LABEL: graph @g', 'CHECK: Add', 'CHECK-LABEL: graph @h'], two);
    expect(m).toContain('t.kir:2: CHECK: expected pattern not found\n  pattern: Add\n  searched from output line 1, column 9');
    expect(failure(['CHECK-LABEL: graph @h', 'CHECK-LABEL: graph @g'], two)).toContain('t.kir:2: CHECK-LABEL: label not found');
    expect(failure(['CHECK-LABEL: graph @g', 'CHECK-NOT: Add', 'CHECK-LABEL: graph @h'], two)).toBeUndefined();
  });

  it('{{regex}} parts match inside a line', () => {
    expect(failure(['CHECK: const %w: f32[{{[0-9]+}},2] = [{{([0-9], )*}}6]'])).toBeUndefined();
    expect(failure(['CHECK: const %w: f32[{{[0-9]+}},2] = [{{([0-9], )*}}7]'])).toContain('pattern: const %w: f32[{{[0-9]+}},2] = [{{([0-9], )*}}7]');
  });

  it('rejects directives that would check nothing, or need a match before them', () => {
    expect(() => checks('CHECK-NXT: x')).toThrow("t.kir:1: unknown directive CHECK-NXT (known: CHECK, CHECK-NEXT, CHECK-SAME, CHECK-NOT, CHECK-LABEL, CHECK-EMPTY)");
    expect(() => checks('CHECK:')).toThrow('t.kir:1: CHECK needs a pattern');
    expect(() => checks('CHECK: a', 'CHECK-EMPTY: b')).toThrow('t.kir:2: CHECK-EMPTY takes no pattern');
    expect(() => checks('CHECK-NOT: a', 'CHECK-NEXT: b')).toThrow('t.kir:2: CHECK-NEXT needs a previous CHECK: or CHECK-LABEL: to follow');
    expect(checks('CHECKS: not a directive', 'Checks that: nothing', 'CHECK : spaced').map((c) => c.pattern)).toEqual(['spaced']);
  });

  it('shows long output lines cut short', () => {
    const m = failure(['CHECK: nothing'], `const %w = [${'1, '.repeat(400)}1]\n`);
    expect(m).toMatch(/ 1 \| const %w = \[1, 1, .*\.\.\. \(1214 characters\)$/m);
  });
});

describe('RUN lines', () => {
  it('split into words with quotes, and substitute %s, %S and %t in unquoted ones', () => {
    expect(splitWords(`kiln  a'b c'd "%s" 2>&1`).map((w) => [w.text, w.quoted])).toEqual([['kiln', false], ['ab cd', true], ['%s', true], ['2>&1', false]]);
    expect(() => splitWords(`kiln "x`)).toThrow(/unterminated "/);
    const text = ['// what', '// RUN: kiln ir opt %s --passes a,b \\', '// RUN:   --dump-dir %t "%t" && cat %t/x.kir', '// RUN: not kiln ir verify %S/y.kir 2>&1 | FileCheck %s --check-prefix=ERR', '// RUN: not --crash kiln x'].join('\n');
    const runs = parseRunLines(text, 'd/f.kir', '/tmp/T');
    expect(runs.map((r) => [r.line, r.prefixes])).toEqual([[2, ['CHECK']], [4, ['ERR']], [5, ['CHECK']]]);
    expect(runs[0]!.steps).toEqual([
      { kind: 'kiln', argv: ['ir', 'opt', 'd/f.kir', '--passes', 'a,b', '--dump-dir', '/tmp/T', '%t'], expect: 'success', merge: false },
      { kind: 'cat', file: '/tmp/T/x.kir' },
    ]);
    expect(runs[1]!.steps).toEqual([{ kind: 'kiln', argv: ['ir', 'verify', 'd/y.kir'], expect: 'failure', merge: true }]);
    expect(runs[2]!.steps).toEqual([{ kind: 'kiln', argv: ['x'], expect: 'crash', merge: false }]);
  });

  it('refuse what they cannot run', () => {
    expect(() => parseRunLines('// RUN: kiln x | grep y', 'f.kir', '/t')).toThrow("f.kir:1: only '| FileCheck %s [--check-prefix=P]' may follow '|'");
    expect(() => parseRunLines('// RUN: kiln x | FileCheck %s --strict', 'f.kir', '/t')).toThrow("unknown FileCheck option '--strict'");
    expect(() => parseRunLines('// RUN: node x', 'f.kir', '/t')).toThrow("f.kir:1: a command is 'kiln ...', 'not kiln ...' or 'cat <file>', got: node x");
    expect(() => parseRunLines('// RUN: kiln x &&', 'f.kir', '/t')).toThrow('f.kir:1: empty command');
    expect(() => parseRunLines('// RUN: kiln x \\\ngraph', 'f.kir', '/t')).toThrow("f.kir:1: the RUN line ends in '\\' but line 2 does not continue it");
    expect(() => parseRunLines('// RUN: kiln x | FileCheck %s --check-prefix=RUN', 'f.kir', '/t')).toThrow('f.kir:1: RUN is not a check prefix');
  });

  it('a lit file starts with a comment saying what it checks', () => {
    expect(describesItself('// MatMul weights get f16 storage\n// RUN: kiln x\n')).toBe(true);
    expect(describesItself('// RUN: kiln x\n')).toBe(false);
    expect(describesItself('// CHECK: x\n')).toBe(false);
    expect(describesItself('graph @g() {\n')).toBe(false);
  });
});

describe('runLitFile', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-filecheck-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const calls: (readonly string[])[] = [];
  /** A fake kiln: `ok` prints, `fail` and `crash` exit 1 and 2, each writing to both streams. */
  const kiln = async (argv: readonly string[]): Promise<KilnResult> => {
    calls.push(argv);
    const code = argv[0] === 'fail' ? 1 : argv[0] === 'crash' ? 2 : 0;
    return { code, stdout: `out ${argv.join(' ')}\n`, stderr: `err ${argv[0]}\n`, merged: `out ${argv.join(' ')}\nerr ${argv[0]}\n` };
  };
  async function run(text: string): Promise<string | number> {
    const file = join(dir, 'case.kir');
    writeFileSync(file, text);
    try {
      return await runLitFile(file, kiln, dir);
    } catch (e) {
      expect(e).toBeInstanceOf(LitError);
      return (e as Error).message.replaceAll(dir, '<dir>');
    }
  }

  it('checks stdout of kiln, stderr of not kiln, both with 2>&1, and a file with cat', async () => {
    writeFileSync(join(dir, 'dump.kir'), 'dumped\n');
    expect(await run('// ok\n// RUN: kiln ok %s\n// CHECK: out ok {{.*}}case.kir\n// CHECK-NOT: err\n')).toBe(1);
    expect(await run('// fails\n// RUN: not kiln fail\n// CHECK: err fail\n// CHECK-NOT: out\n')).toBe(1);
    expect(await run('// both\n// RUN: kiln ok 2>&1\n// CHECK: out ok\n// CHECK-NEXT: err ok\n')).toBe(1);
    expect(await run('// chain\n// RUN: kiln ok a && cat %t/dump.kir && not --crash kiln crash\n// CHECK: out ok a\n// CHECK-NEXT: dumped\n// CHECK-NEXT: err crash\n')).toBe(1);
    expect(calls.at(-1)).toEqual(['crash']);
  });

  it('checks each RUN line against its own prefixes', async () => {
    const text = '// two runs\n// RUN: kiln ok one | FileCheck %s --check-prefix=ONE\n// RUN: kiln ok two | FileCheck %s --check-prefixes=TWO,ANY\n// ONE: out ok one\n// ANY: out\n// TWO: ok two\n';
    expect(await run(text)).toBe(2);
    expect(await run(text.replace('// TWO: ok two', '// TWO: ok one'))).toMatch(/case\.kir:6: TWO: expected pattern not found\n {2}pattern: ok one[^]*\(RUN line 3: kiln ok two \| FileCheck %s --check-prefixes=TWO,ANY\)$/);
  });

  it('fails on an unexpected exit status, showing both streams', async () => {
    expect(await run('// x\n// RUN: kiln ok\n// CHECK: out\n// CHECK-NEXT: more\n')).toContain('output:\n  1 | out ok\n(RUN line 2: kiln ok)');
    expect(await run('// x\n// RUN: not kiln fail 2>&1 && kiln ok && kiln ok\n// CHECK: err fail\n')).toBe(1);
    expect(await run('// x\n// RUN: kiln ok && not kiln ok && kiln never\n// CHECK: x\n')).toContain('kiln ok\n  exited 0, expected a non-zero');
    expect(calls.at(-1)).toEqual(['ok']); // a failing command ends the line
    expect(await run('// x\n// RUN: kiln fail\n// CHECK: out\n')).toBe(
      '<dir>/case.kir:2: kiln fail\n  exited 1, expected exit status 0\nstdout:\n  1 | out fail\nstderr:\n  1 | err fail',
    );
    expect(await run('// x\n// RUN: not kiln ok\n// CHECK: err\n')).toContain('exited 0, expected a non-zero exit status other than 2 (2 is an internal error)');
    expect(await run('// x\n// RUN: not kiln crash\n// CHECK: err\n')).toContain('exited 2, expected a non-zero exit status other than 2');
    expect(await run('// x\n// RUN: not --crash kiln fail\n// CHECK: err\n')).toContain('exited 1, expected exit status 2 (an internal error)');
    expect(await run('// x\n// RUN: cat %t/none.kir\n// CHECK: x\n')).toMatch(/^<dir>\/case\.kir:2: cat <dir>\/none\.kir: ENOENT/);
  });

  it('refuses files that would check nothing', async () => {
    expect(await run('// RUN: kiln ok\n// CHECK: out\n')).toBe('<dir>/case.kir:1: a lit file starts with a comment saying what it checks');
    expect(await run('// no runs\n// CHECK: out\n')).toBe('<dir>/case.kir: no RUN lines');
    expect(await run('// no checks\n// RUN: kiln ok\n// CHECK-NOT: x\n')).toBe('<dir>/case.kir:2: no CHECK: directives to check this RUN line\'s output with');
    expect(await run('// stray\n// RUN: kiln ok | FileCheck %s --check-prefix=A\n// A: out\n// CHECK: out\n')).toBe(
      '<dir>/case.kir:4: a CHECK: directive, but no RUN line checks with prefix CHECK',
    );
  });
});
