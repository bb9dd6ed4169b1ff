// The quant gather: out[i, d] = scale[j, d / group] * (code[j][d] - zero[j, d / group]) for j = ids[i] (negative
// ids count from the end, as ONNX Gather's; out-of-range ids are clamped), reading a quant-encoded table [V, D]
// in place: codes of any width from 1 to 8 bits, floor(32 / bits) to a u32 word in element order (wgsl/accessor.ts;
// a row may start inside a word), scales and zeros [V, G]. The embedding of a quantized model reads only the rows
// it needs, never a decoded copy of the table. One invocation per output element.
import type { KernelGen, KernelSpecBase } from '../kernel-spec.js';
import { codesPerWord } from '../../ir/dtype.js';
import type { Expr } from '../wgsl/ast.js';
import { KernelBuilder } from '../wgsl/build.js';
import { add, and, binary, bitcast, builtin, convert, div, ge, lit, lt, mod, mul, mulConst, select, shl, shr, sub } from '../wgsl/dsl.js';
import { type TensorSpec, fromCompute, toCompute } from './lib/index.js';

export interface QuantGatherSpec extends KernelSpecBase {
  readonly kernel: 'quant-gather';
  readonly rows: number;
  readonly cols: number;
  readonly bits: number;
  readonly signed: boolean;
  readonly group: number;
  /** u32 words [ceil(V * D / L)], L = floor(32 / bits); quad: [ceil(V / 4) * 4 * D / L]. */
  readonly w: TensorSpec;
  /**
   * The table in the quant GEMV's quad layout (passes/bits/quant-in-place.ts quadLayout, by-row: a tied table
   * the LM head reads too): row j's word s at (s * ceil(V / 4) + j / 4) * 4 + j % 4. D is whole words.
   */
  readonly quad?: boolean;
  readonly scales: TensorSpec;
  readonly zeros?: TensorSpec;
  readonly ids: TensorSpec;
  readonly out: TensorSpec;
}

const u = lit.u32;

export const quantGather: KernelGen<QuantGatherSpec> = (spec) => {
  const { rows: V, cols: D, bits } = spec;
  if (!Number.isInteger(bits) || bits < 1 || bits > 8) throw new Error(`quant gather: ${bits}-bit codes (1 to 8)`);
  const L = codesPerWord(bits);
  if (spec.quad && D % L !== 0) throw new Error(`quant gather: a quad-layout table needs rows of whole words (D = ${D}, ${L} codes to a word)`);
  const groups = Math.ceil(D / spec.group);
  const count = spec.out.shape.reduce((a, b) => a * b, 1);
  const k = new KernelBuilder({ target: spec.target, workgroupSize: 64 });
  const W = k.input('w', spec.w);
  const S = k.input('scales', spec.scales);
  const Z = spec.zeros && k.input('zeros', spec.zeros);
  const ids = k.input('ids', spec.ids);
  const out = k.output('out', spec.out);
  const i = k.globalIndex(count);
  k.if(lt(i, u(count)), () => {
    const id = k.let('id', toCompute(ids.load(div(i, u(D))), ids.value));
    const wrapped = select(ge(id, lit.i32(0)), id, add(id, lit.i32(V)));
    const j = k.let('j', builtin('min', bitcast('u32', builtin('max', wrapped, lit.i32(0))), u(V - 1)));
    const d = k.let('d', mod(i, u(D)));
    const at = k.let('at', add(mulConst(j, D), d));
    const quadWord = (): Expr => add(mulConst(add(mulConst(div(d, u(L)), Math.ceil(V / 4)), div(j, u(4))), 4), mod(j, u(4)));
    const word = W.loadWord(spec.quad ? quadWord() : div(at, u(L)));
    const shift = mulConst(mod(spec.quad ? d : at, u(L)), bits);
    const code = spec.signed
      ? convert('f32', binary('>>', bitcast('i32', shl(word, sub(u(32 - bits), shift))), u(32 - bits)))
      : convert('f32', bitcast('i32', and(shr(word, shift), u(2 ** bits - 1))));
    const g = k.let('g', add(mulConst(j, groups), div(d, u(spec.group))));
    const scale = toCompute(S.load(g), S.value);
    const value = Z ? mul(scale, sub(code, convert('f32', toCompute(Z.load(g), Z.value)))) : mul(scale, code);
    out.store(i, fromCompute(value, out.value));
  });
  return k.finish();
};
