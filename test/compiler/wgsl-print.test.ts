// The WGSL printer: a golden module covering every declaration and statement kind, literal spelling (shortest
// round-tripping floats, -0, non-finite values through a prelude, i32 min, hex u32), and preludes pulled in only
// when called. Plus a property: every finite f32 literal parses back to the same f32.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Module } from '../../compiler/wgsl/ast.js';
import { T, add, arrayType, builtin, call, convert, ident, index, lit, lt, mul, select, vecType } from '../../compiler/wgsl/dsl.js';
import { printExpr, printModule } from '../../compiler/wgsl/print.js';

const golden: Module = {
  enables: [],
  decls: [
    { kind: 'binding', group: 0, binding: 0, name: 'x', space: 'storage', access: 'read', type: arrayType(T.f32) },
    { kind: 'binding', group: 0, binding: 1, name: 'y', space: 'storage', access: 'read_write', type: arrayType(T.f16) },
    { kind: 'workgroupVar', name: 'tile', type: arrayType(T.f32, 64) },
    { kind: 'const', name: 'N', type: T.u32, value: lit.u32(100) },
    {
      kind: 'fn',
      name: 'twice',
      params: [{ name: 'v', type: T.f32 }],
      returns: T.f32,
      body: [{ kind: 'return', value: mul(ident('v'), lit.f32(2)) }],
    },
    {
      kind: 'entry',
      name: 'main',
      workgroupSize: [64, 1, 1],
      builtins: [
        { name: 'gid', builtin: 'global_invocation_id' },
        { name: 'li', builtin: 'local_invocation_index' },
      ],
      body: [
        { kind: 'let', name: 'i', init: { kind: 'member', base: ident('gid'), member: 'x' } },
        { kind: 'var', name: 'acc', type: T.f32, init: lit.f32(-0) },
        {
          kind: 'if',
          cond: lt(ident('i'), ident('N')),
          then: [
            { kind: 'assign', target: index(ident('tile'), ident('li')), value: call('twice', index(ident('x'), ident('i'))) },
            { kind: 'barrier', scope: 'workgroup' },
            {
              kind: 'for',
              init: { kind: 'var', name: 'k', type: T.u32, init: lit.u32(0) },
              cond: lt(ident('k'), lit.u32(4)),
              update: { kind: 'compound', op: '+=', target: ident('k'), value: lit.u32(1) },
              body: [{ kind: 'compound', op: '+=', target: ident('acc'), value: add(lit.f32(0.1), lit.f32(-1.5e-7)) }],
            },
          ],
          else: [
            {
              kind: 'if',
              cond: { kind: 'binary', op: '==', lhs: ident('i'), rhs: lit.u32(0xdeadbeef) },
              then: [{ kind: 'assign', target: ident('acc'), value: lit.f32(Infinity) }],
              else: [{ kind: 'loop', body: [{ kind: 'break' }] }],
            },
          ],
        },
        {
          kind: 'assign',
          target: index(ident('y'), ident('i')),
          value: select(lt(ident('acc'), lit.f32(3.4028234663852886e38)), convert('f16', ident('acc')), lit.f16(65504)),
        },
        { kind: 'let', name: 'm', init: { kind: 'bitcast', type: T.u32, arg: lit.i32(-(2 ** 31)) } },
        { kind: 'let', name: 'v', init: { kind: 'construct', type: vecType(2, 'f32'), args: [lit.f32(1), builtin('abs', lit.f32(-3))] } },
      ],
    },
  ],
};

const GOLDEN_WGSL = `enable f16;

fn kiln_f32_from_bits(b: u32) -> f32 {
  return bitcast<f32>(b);
}

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> y: array<f16>;

var<workgroup> tile: array<f32, 64>;

const N: u32 = 100u;

fn twice(v: f32) -> f32 {
  return v * 2.0f;
}

@compute @workgroup_size(64, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let i = gid.x;
  var acc: f32 = kiln_f32_from_bits(0x80000000u);
  if (i < N) {
    tile[li] = twice(x[i]);
    workgroupBarrier();
    for (var k: u32 = 0u; k < 4u; k += 1u) {
      acc += 0.1f + (-1.5e-7f);
    }
  } else if (i == 0xdeadbeefu) {
    acc = kiln_f32_from_bits(0x7f800000u);
  } else {
    loop {
      break;
    }
  }
  y[i] = select(65504.0h, f16(acc), acc < 3.4028234e38f);
  let m = bitcast<u32>((-2147483647i - 1i));
  let v = vec2<f32>(1.0f, abs((-3.0f)));
}
`;

describe('WGSL printer', () => {
  it('prints the golden module', () => {
    expect(printModule(golden)).toBe(GOLDEN_WGSL);
  });

  it('is deterministic', () => {
    expect(printModule(golden)).toBe(printModule(structuredClone(golden)));
  });

  it('includes a prelude and its dependencies only when called', () => {
    const body = (e: ReturnType<typeof call>): Module => ({
      enables: [],
      decls: [{ kind: 'fn', name: 'f', params: [{ name: 'a', type: T.f32 }], returns: T.f32, body: [{ kind: 'return', value: e }] }],
    });
    expect(printModule(body(ident('a')))).not.toContain('kiln_');
    const withErf = printModule(body(call('kiln_erf', ident('a'))));
    expect(withErf).toContain('fn kiln_erf(');
    expect(withErf).toContain('fn kiln_erfc('); // dependency
    expect(withErf).not.toContain('fn kiln_pow(');
  });

  it('spells every finite f32 but -0 as a literal that parses back to it; -0 comes from its bits', () => {
    // lavapipe folds the literal (-0.0f) to +0 (test/gpu/signed-zero-fill.gpu.test.ts).
    expect(printExpr(lit.f32(-0))).toBe('kiln_f32_from_bits(0x80000000u)');
    expect(printExpr(lit.f16(-0))).toBe('kiln_f16_from_bits(0x8000u)');
    fc.assert(
      fc.property(fc.float({ noNaN: true, noDefaultInfinity: true }).filter((v) => !Object.is(v, -0)), (v) => {
        const text = printExpr(lit.f32(v)).replace(/[()]/g, '');
        expect(text.endsWith('f')).toBe(true);
        expect(Object.is(Math.fround(Number(text.slice(0, -1))), v)).toBe(true);
      }),
    );
  });

  it('keeps negative operands apart from binary minus', () => {
    expect(printExpr({ kind: 'binary', op: '-', lhs: ident('a'), rhs: lit.i32(-1) })).toBe('a - (-1i)');
    expect(printExpr({ kind: 'unary', op: '-', arg: { kind: 'unary', op: '-', arg: ident('a') } })).toBe('-(-a)');
  });
});

describe('f32 extremes', () => {
  it('prints the largest f32 as a decimal that rounds to it without exceeding it (WGSL rejects 3.4028235e38)', () => {
    const text = printModule({ enables: [], decls: [{ kind: 'const', name: 'big', type: { kind: 'scalar', scalar: 'f32' }, value: lit.f32(3.4028234663852886e38) }] });
    const literal = /(3\.\d+e38)f/.exec(text)![1]!;
    expect(Math.fround(Number(literal))).toBe(3.4028234663852886e38);
    expect(Number(literal)).toBeLessThanOrEqual(3.4028234663852886e38);
  });
});
