// Hand-written cases for the .kir printer and parser: the documented example, every textual feature, and exact
// diagnostics (message and file:line:col) for syntax and structural errors.
import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../ir/builder.js';
import '../../ir/ops/index.js';
import { KirSyntaxError, parseKir } from '../../ir/parse.js';
import { formatNumber, printGraph } from '../../ir/print.js';
import { makeTensor } from '../../ir/tensor.js';
import { formatType, tensorType } from '../../ir/types.js';

const EXAMPLE = `// line comments anywhere
graph @main(%x: f32[batch,4], %y: f32[4]) {
  symbol batch in 1..64
  const %w: f32[2,2] = [1, 2, 3.5, -inf]
  const %s: i4[] = [-3]
  param %p: f32[4,4] = "layer.0.weight"
  %0 = Add(%x, %y) : f32[batch,4]
  %a, %b = Split(%0) {axis = 1, split = [2, 2]} : f32[batch,2], f32[batch,2]
  %c = Gemm(%a, %w, _) {alpha = 0.5, transB = 1}
  %"weird/name:0" = Relu(%c)
  return %a, %"weird/name:0"
}
`;

/** The first line of the error parseKir throws (the rest is a source excerpt with a caret). */
function errorOf(text: string, file = 'test.kir'): string {
  try {
    parseKir(text, file);
  } catch (e) {
    expect(e).toBeInstanceOf(KirSyntaxError);
    return (e as Error).message.split('\n')[0]!;
  }
  throw new Error('expected a KirSyntaxError');
}

describe('parseKir and printGraph', () => {
  it('round-trips the documented example (minus its comment)', () => {
    const g = parseKir(EXAMPLE, 'example.kir');
    expect(printGraph(g)).toBe(EXAMPLE.replace('// line comments anywhere\n', ''));
    expect(printGraph(parseKir(printGraph(g)))).toBe(printGraph(g));
  });

  it('builds the graph the example describes', () => {
    const g = parseKir(EXAMPLE, 'example.kir');
    expect(g.name).toBe('main');
    expect(g.symbols).toEqual({ batch: { min: 1, max: 64 } });
    expect(g.inputs.map((i) => [i.name, formatType(i.type)])).toEqual([
      ['x', 'f32[batch,4]'],
      ['y', 'f32[4]'],
    ]);
    expect(g.constants.map((c) => [c.name, c.source, c.value && Array.from(c.value.data)])).toEqual([
      ['w', undefined, [1, 2, 3.5, -Infinity]],
      ['s', undefined, [-3]],
      ['p', 'layer.0.weight', undefined],
    ]);
    expect(g.nodes.map((n) => [n.op, n.inputs, n.outputs, n.attrs])).toEqual([
      ['Add', ['x', 'y'], ['0'], {}],
      ['Split', ['0'], ['a', 'b'], { axis: 1, split: [2, 2] }],
      ['Gemm', ['a', 'w', ''], ['c'], { alpha: 0.5, transB: 1 }],
      ['Relu', ['c'], ['weird/name:0'], {}],
    ]);
    expect(g.outputs).toEqual(['a', 'weird/name:0']);
    expect(g.types.has('c')).toBe(false); // untyped outputs have no entry
    expect(formatType(g.types.get('b')!)).toBe('f32[batch,2]');
  });

  it('records file:line:col of inputs, constants and nodes', () => {
    const g = parseKir(EXAMPLE, 'example.kir');
    expect(g.inputs[1]!.loc).toEqual({ file: 'example.kir', line: 2, col: 31 });
    expect(g.constants[2]!.loc).toEqual({ file: 'example.kir', line: 6, col: 3 });
    expect(g.nodes[1]!.loc).toEqual({ file: 'example.kir', line: 8, col: 3 });
  });

  it('prints a graph made by GraphBuilder with inferred types', () => {
    const b = new GraphBuilder('mlp');
    const x = b.input('x', tensorType('f32', [2, 3]));
    const w = b.constant(makeTensor('f32', [3, 2], [1, -0, 0.5, NaN, Infinity, 1e-7]), 'w');
    const y = b.op('MatMul', [x, w], {}, { names: ['y'] });
    b.op('Relu', [y], {}, { names: ['out'] });
    b.output('out');
    expect(printGraph(b.build())).toBe(
      [
        'graph @mlp(%x: f32[2,3]) {',
        '  const %w: f32[3,2] = [1, -0, 0.5, nan, inf, 1e-7]',
        '  %y = MatMul(%x, %w) : f32[2,2]',
        '  %out = Relu(%y) : f32[2,2]',
        '  return %out',
        '}',
        '',
      ].join('\n'),
    );
  });

  it('prints numbers in their shortest round-tripping form, keeping -0, nan and inf', () => {
    expect([0, -0, NaN, Infinity, -Infinity, 0.1, 1e21, 5e-324, -1.5].map(formatNumber)).toEqual([
      '0', '-0', 'nan', 'inf', '-inf', '0.1', '1e+21', '5e-324', '-1.5',
    ]);
    const g = parseKir('graph @g() {\n  const %c: f64x[] = [0]\n  return\n}\n'.replace('f64x[] = [0]', 'f32[5] = [-0, nan, -inf, 1.5e-7, 2E3]'));
    const data = Array.from(g.constants[0]!.value!.data);
    expect(Object.is(data[0], -0)).toBe(true);
    expect(data.slice(1)).toEqual([NaN, -Infinity, Math.fround(1.5e-7), 2000]);
  });

  it('quotes names only when needed, with JSON escapes', () => {
    const text = [
      'graph @"my graph"(%"a b": f32[], %0: f32[], %x.y$-1_: f32[]) {',
      '  %"q\\"uote\\n\\u0001é" = Add(%"a b", %0)',
      '  return %"q\\"uote\\n\\u0001é", %x.y$-1_',
      '}',
      '',
    ].join('\n');
    const g = parseKir(text);
    expect(g.name).toBe('my graph');
    expect(g.nodes[0]!.outputs).toEqual(['q"uote\n\u0001é']);
    expect(printGraph(g)).toBe(text);
    // A quoted name that did not need quotes is printed bare.
    expect(printGraph(parseKir('graph @"g"(%"x": f32[]) {\n  return %"x"\n}\n'))).toBe('graph @g(%x: f32[]) {\n  return %x\n}\n');
  });

  it('round-trips layouts, encodings, symbolic dims, every dtype and attribute kinds', () => {
    const text = [
      'graph @g(%x: i4[n,8], %m: u1[n]) {',
      '  symbol k in 0..0',
      '  symbol n in 1..128',
      '  const %b: bool[2] = [1, 0]',
      '  const %h: f16[2,2]{layout=transposed} = [65500, -0.1, 1, 2]',
      '  const %s: f32[2,1] = [0.5, 0.25]',
      '  const %w: f32[2,8]{layout=blocked(order=col,tile=[2,4]), encoding=quant(axis=1,bits=4,group=8,packing=packed,scale=f32,scales=%s,scheme=signed,zero=none)} = [-8, 7, 0, 1, 2, 3, 4, 5, -1, -2, -3, -4, -5, -6, -7, 6]',
      '  param %p: f32[16,8]{layout=transposed, encoding=tiled-csl(tile=[16,8],values=f16)}',
      '  param %q: bf16[n,k]',
      '  %o1, %o2 = Custom.Op(_, %x, _, %m) {empty = [], f = [0.5, -inf], flag = false, name = "s", names = ["a", "b"], "odd key" = 1}',
      '  return %o2',
      '}',
      '',
    ].join('\n');
    const g = parseKir(text);
    expect(printGraph(g)).toBe(text);
    expect(g.constants[5]).toMatchObject({ name: 'q', type: { dtype: 'bf16', shape: ['n', 'k'] } });
    expect(g.constants[5]!.source).toBeUndefined();
    expect(g.constants[3]!.value).toMatchObject({ dtype: 'i4', shape: [16] });
    expect(g.constants[4]!.type.encoding).toEqual({ kind: 'tiled-csl', params: { tile: [16, 8], values: 'f16' } });
    expect(g.nodes[0]!.attrs).toEqual({ empty: [], f: [0.5, -Infinity], flag: false, name: 's', names: ['a', 'b'], 'odd key': 1 });
    for (const dt of ['f32', 'f16', 'bf16', 'i32', 'u32', 'i64', 'bool', 'i1', 'i3', 'i8', 'u2', 'u7'])
      expect(parseKir(`graph @g(%x: ${dt}[1]) {\n  return %x\n}\n`).inputs[0]!.type.dtype).toBe(dt);
  });

  it('keeps bare names ASCII, and stores keys like __proto__ as plain data', () => {
    expect(printGraph(parseKir('graph @g(%"é": f32[]) {\n  return %"é"\n}\n'))).toBe('graph @g(%"é": f32[]) {\n  return %"é"\n}\n');
    expect(errorOf('graph @g(%é: f32[]) {\n  return %é\n}\n')).toBe('test.kir:1:10: expected ")" or a value like %x');
    const g = parseKir('graph @g(%x: f32[]) {\n  symbol __proto__ in 1..2\n  %y = Relu(%x) {__proto__ = 1}\n  return %y\n}\n');
    expect(Object.keys(g.nodes[0]!.attrs)).toEqual(['__proto__']);
    expect(Object.keys(g.symbols)).toEqual(['__proto__']);
    expect(printGraph(g)).toContain('{__proto__ = 1}');
  });

  it('accepts comments and free whitespace, and prints the canonical form', () => {
    const g = parseKir('graph @g ( %x : f32 [ 2 ] ) { // header\n %y = Neg ( %x ) { } : f32[2] // node\n return %y }');
    expect(printGraph(g)).toBe('graph @g(%x: f32[2]) {\n  %y = Neg(%x) : f32[2]\n  return %y\n}\n');
  });
});

describe('parseKir diagnostics', () => {
  const ok = 'graph @g(%x: f32[2], %y: f32[2]) {\n  const %w: f32[2] = [1, 2]\n  %z = Add(%x, %w)\n  return %z\n}\n';

  it('accepts the base case', () => {
    expect(printGraph(parseKir(ok))).toBe(ok);
  });

  it('reports a missing ")" where it was expected', () => {
    expect(errorOf(ok.replace('f32[2]) {', 'f32[2] {'))).toBe('test.kir:1:33: expected ")" or ","');
    // At the end of a line, the error is reported there, not at the next statement (comments are skipped).
    expect(errorOf(ok.replace('Add(%x, %w)', 'Add(%x, %w'))).toBe('test.kir:3:18: expected ")" or ","');
    expect(errorOf(ok.replace('Add(%x, %w)', 'Add(%x, %w  // "no )" here\n  // more\n'))).toBe('test.kir:3:18: expected ")" or ","');
  });

  it('reports an unknown dtype at the type', () => {
    expect(errorOf(ok.replace('const %w: f32', 'const %w: f33'))).toBe("test.kir:2:13: unknown dtype 'f33'");
    expect(errorOf(ok.replace('%y: f32[2]', '%y: 32[2]'))).toBe('test.kir:1:26: expected a dtype');
  });

  it('reports a missing "="', () => {
    expect(errorOf(ok.replace('%z = Add', '%z Add'))).toBe('test.kir:3:6: expected "=" or ","');
    expect(errorOf(ok.replace('[2] = [1, 2]', '[2] [1, 2]'))).toBe('test.kir:2:20: expected "="');
  });

  it('reports other syntax errors with the expected tokens', () => {
    expect(errorOf(ok.replace('graph', 'grph'))).toBe('test.kir:1:1: expected "graph"');
    expect(errorOf(ok.replace('[1, 2]', '[1, , 2]'))).toBe('test.kir:2:26: expected a number');
    expect(errorOf(ok.replace('  return %z\n}\n', '  return %z\n'))).toBe('test.kir:4:12: expected "}" or ","');
    expect(errorOf(ok.replace('%x: f32[2]', '%x: f32[2]{layout=}'))).toBe('test.kir:1:28: expected a layout or encoding kind');
  });

  it('rejects raw control characters in strings (JSON requires escapes) as a syntax error', () => {
    expect(errorOf('graph @g(%"a\tb": f32[]) {\n  return\n}\n')).toBe('test.kir:1:10: expected ")" or a value like %x');
  });

  it('shows the source line with a caret under the position', () => {
    let message = '';
    try {
      parseKir(ok.replace('%z = Add', '%z Add'), 'test.kir');
    } catch (e) {
      message = (e as Error).message;
      expect(e).toMatchObject({ file: 'test.kir', line: 3, col: 6, reason: 'expected "=" or ","' });
    }
    expect(message.split('\n').slice(1)).toEqual(['    %z Add(%x, %w)', '       ^']);
  });

  it('reports uses of undefined values, and uses before definition', () => {
    expect(errorOf(ok.replace('Add(%x, %w)', 'Add(%x, %v)'))).toBe('test.kir:3:16: use of undefined value %v');
    expect(errorOf(ok.replace('Add(%x, %w)', 'Add(%x, %z)'))).toBe('test.kir:3:16: use of %z before its definition at 3:3');
    expect(errorOf(ok.replace('return %z', 'return %z, %nope'))).toBe('test.kir:4:14: return of undefined value %nope');
  });

  it('reports a value defined twice', () => {
    expect(errorOf(ok.replace('%z = Add', '%x = Add').replace('return %z', 'return %x'))).toBe(
      'test.kir:3:3: value %x is defined twice (first at 1:10)',
    );
    expect(errorOf(ok.replace('%y: f32[2]', '%x: f32[2]'))).toBe('test.kir:1:22: value %x is defined twice (first at 1:10)');
  });

  it('reports a constant with the wrong number of elements at its data', () => {
    expect(errorOf(ok.replace('[1, 2]', '[1, 2, 3]'))).toBe('test.kir:2:22: constant %w stores f32[2]: it needs 2 values, got 3');
    expect(errorOf(ok.replace('f32[2] = [1, 2]', 'f32[n] = [1, 2]'))).toBe('test.kir:2:13: constant %w must have a static shape');
  });

  it('reports symbols declared twice or with min > max', () => {
    const sym = (decls: string) => ok.replace('{\n', `{\n${decls}`);
    expect(errorOf(sym('  symbol n in 1..4\n  symbol n in 1..8\n'))).toBe('test.kir:3:3: symbol n is declared twice');
    expect(errorOf(sym('  symbol n in 9..4\n'))).toBe('test.kir:2:3: symbol n: min 9 is greater than max 4');
  });

  it('reports a type count that does not match the outputs, and duplicate attributes', () => {
    expect(errorOf(ok.replace('Add(%x, %w)', 'Add(%x, %w) : f32[2], f32[2]'))).toBe('test.kir:3:20: Add has 1 outputs but 2 types');
    expect(errorOf(ok.replace('Add(%x, %w)', 'Add(%x, %w) {a = 1, a = 2}'))).toBe("test.kir:3:28: attribute 'a' is given twice");
    expect(errorOf(ok.replace('%x: f32[2]', '%x: f32[2]{layout=b(t=1,t=2)}'))).toBe("test.kir:1:34: layout parameter 't' is given twice");
    expect(errorOf(ok.replace('%x: f32[2]', '%x: f32[2]{layout=row-major, layout=transposed}'))).toBe('test.kir:1:39: layout is given twice');
  });
});
