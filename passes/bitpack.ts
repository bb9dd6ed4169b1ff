// bitpack (papers.md §3, `--bits w<n>a<m>`): every matmul weight (passes/matmul-weights.ts) not kept by name is
// quantized at compile time to n-bit codes with f32 scales per output row or per group along K
// (bits/quantize-weight.ts), and its MatMul/Gemm becomes the exact integer product of those codes and the
// activation's m-bit codes, quantized per row at run time with a power-of-two scale:
//   [xq, xs] = QuantizeRows(x) {bits: m}                 codes [..., K], scales [..., 1]
//   c        = BitMatMul(xq, Wq) {group}                 i32 [..., M] (or [..., M, G] per group)
//   y        = Mul(Mul(Cast<f32>(c), Ws), xs)            (per group: ReduceSum over G of Cast(c) * Ws, then xs)
// then Gemm's alpha and beta * C. The integer sums are the specification the bit-plane kernels equal bit for bit;
// the float steps after them are ordinary ops. A group longer than the i32 bound allows is shortened to fit.
import { type Graph, GraphBuilder, type Node, type Tensor, constantValue, makeTensor } from '../ir/index.js';
import { bitMatMulBound } from '../ir/ops/bit-matmul.js';
import { type WeightScheme, declareWeightOnly, quantizeWeight } from './bits/quantize-weight.js';
import { matmulWeights } from './matmul-weights.js';
import { type Pass, PassOptionError, bump, onlyKeys } from './pass.js';

export interface BitpackOptions {
  /** Weight and activation bits; activation bits 0: weights only (w<n>f16, w<n>f32), activations stay float. */
  readonly weightBits: number;
  readonly activationBits: number;
  readonly weights: WeightScheme;
  readonly activations: 'signed' | 'bipolar';
  /** Inputs per scale along K (0: one scale per output row). */
  readonly group: number;
  /** Weights whose names match stay float (e.g. "lm_head"). */
  readonly keep?: RegExp;
}

function readOptions(raw: Readonly<Record<string, unknown>>): BitpackOptions {
  onlyKeys('bitpack', raw, ['bits', 'group', 'weights', 'activations', 'keep']);
  const m = /^w([1-8]|t)(?:a([1-8])|(f16|f32))$/.exec(String(raw.bits ?? ''));
  if (!m)
    throw new PassOptionError(
      `bitpack bits must be w<n>a<m> with n and m in 1..8 (e.g. w4a8), or w<n>f16 / w<n>f32 for weights only, n = t for ternary weights (wta8), got '${String(raw.bits ?? '')}'`,
    );
  // Ternary weights (BitNet b1.58: -1, 0, +1 times a mean-magnitude scale) are 2-bit signed codes.
  const ternary = m[1] === 't';
  const [weightBits, activationBits] = [ternary ? 2 : Number(m[1]), m[3] ? 0 : Number(m[2])];
  const group = raw.group === undefined ? 0 : Number(raw.group);
  if (!Number.isInteger(group) || group < 0) throw new PassOptionError(`bitpack group must be an integer >= 0 (0: one scale per output row), got ${String(raw.group)}`);
  if (ternary && raw.weights !== undefined) throw new PassOptionError(`bitpack: wt means ternary weights; weights=${String(raw.weights)} contradicts it`);
  const weights = (ternary ? 'ternary' : (raw.weights ?? (weightBits === 1 ? 'bipolar' : 'symmetric'))) as WeightScheme;
  if (weights !== 'symmetric' && weights !== 'bipolar' && weights !== 'ternary') throw new PassOptionError(`bitpack weights must be 'symmetric' or 'bipolar', got '${String(raw.weights)}'`);
  if (weights === 'symmetric' && weightBits < 2) throw new PassOptionError('bitpack: symmetric 1-bit weights hold only 0; use weights=bipolar (signs) for w1');
  const activations = (raw.activations ?? (activationBits === 1 ? 'bipolar' : 'signed')) as BitpackOptions['activations'];
  if (activationBits === 0 && raw.activations !== undefined) throw new PassOptionError(`bitpack: w${m[1]}${m[3]} quantizes weights only; activations=${String(raw.activations)} needs w<n>a<m>`);
  if (activations !== 'signed' && activations !== 'bipolar') throw new PassOptionError(`bitpack activations must be 'signed' or 'bipolar', got '${String(raw.activations)}'`);
  if (activations === 'signed' && activationBits === 1) throw new PassOptionError('bitpack: signed 1-bit activations hold only -1 and 0; use activations=bipolar for a1');
  let keep: RegExp | undefined;
  if (raw.keep !== undefined && raw.keep !== '') {
    try {
      keep = new RegExp(String(raw.keep));
    } catch (e) {
      throw new PassOptionError(`bitpack keep is not a regular expression: ${(e as Error).message}`);
    }
  }
  return { weightBits, activationBits, weights, activations, group, ...(keep ? { keep } : {}) };
}

export const bitpack: Pass<BitpackOptions> = {
  name: 'bitpack',
  summary: 'Quantize matmul weights to n-bit codes and activations per row to m bits: an exact integer BitMatMul (options: bits=w<n>a<m>, group, weights, activations, keep).',
  tolerance: { kind: 'lossy', note: 'weights and activations round to codes; the rewritten graph computes exactly what the kernels do' },
  options: readOptions,
  run(g, cx) {
    const o = cx.options;
    // Weights only: the constant keeps its meaning, so a tied embedding's Gather reads the codes too (quant gather).
    const chosen = matmulWeights(g, { gathers: o.activationBits === 0 }).filter(({ constant: c }) => !o.keep?.test(c.name));
    if (!chosen.length) return g;
    const aDtype = `${o.activations === 'bipolar' ? 'u' : 'i'}${o.activationBits}` as Tensor['dtype'];
    const wDtype = `${o.weights === 'bipolar' ? 'u' : 'i'}${o.weightBits}` as Tensor['dtype'];
    const quantized = new Map<string, { codes: string; scales: string; groups: number; group: number; k: number }>();
    const names = new Set(chosen.map(({ constant: c }) => c.name));
    const b = GraphBuilder.fromDeclarations({ ...g, constants: g.constants.filter((c) => !names.has(c.name)) });
    const taken = new Set([...g.types.keys(), ...g.nodes.flatMap((n) => n.outputs), ...g.constants.map((c) => c.name)]);
    const fresh = (base: string): string => {
      let name = base;
      for (let i = 1; taken.has(name); i++) name = `${base}_${i}`;
      taken.add(name);
      return name;
    };
    for (const { constant: c, uses } of chosen) {
      const { m, k, transposed } = uses[0]!;
      const value = constantValue(c).data;
      if (o.activationBits === 0) {
        // Weights only: the constant itself becomes quant-encoded; every reader is unchanged.
        const group = o.group > 0 && o.group < k ? o.group : 0;
        const q = quantizeWeight(m, k, (j, i) => value[transposed ? i * m + j : j * k + i]!, o.weightBits, o.weights, group);
        declareWeightOnly(b, c, q, { m, k, transposed, group: group || k, bipolar: o.weights === 'bipolar', bits: o.weightBits, fresh });
        bump(cx, 'weights-quantized');
        continue;
      }
      // Shorten the group until every group's integer sum fits an i32 (whole words of 32 where it must shrink).
      let group = o.group > 0 && o.group < k ? o.group : k;
      const fits = (len: number): boolean => bitMatMulBound(len, aDtype, o.activations === 'bipolar', wDtype, o.weights === 'bipolar') < 2 ** 31;
      if (!fits(group)) {
        group = 32;
        while (fits(group * 2) && group * 2 < k) group *= 2;
        bump(cx, 'groups-shortened');
      }
      const q = quantizeWeight(m, k, (j, i) => value[transposed ? i * m + j : j * k + i]!, o.weightBits, o.weights, group < k ? group : 0);
      quantized.set(c.name, { codes: b.constant(q.codes, fresh(`${c.name}.codes`)), scales: b.constant(q.scales, fresh(`${c.name}.scales`)), groups: q.groups, group, k });
      bump(cx, 'weights-quantized');
    }
    for (const node of g.nodes) {
      const loc = node.loc ? { loc: node.loc } : {};
      const w = node.op === 'MatMul' || node.op === 'Gemm' ? quantized.get(node.inputs[1]!) : undefined;
      if (!w) {
        b.node(node.op, node.inputs, node.attrs, { names: node.outputs, ...loc, ...(node.regions ? { regions: node.regions } : {}) });
        continue;
      }
      rewrite(b, node, w, o, fresh, loc);
      bump(cx, 'matmuls-rewritten');
    }
    return b.output(...g.outputs).build();
  },
};

function rewrite(
  b: GraphBuilder,
  node: Node,
  w: { codes: string; scales: string; groups: number; group: number; k: number },
  o: BitpackOptions,
  fresh: (base: string) => string,
  loc: { loc?: Node['loc'] },
): void {
  const y = node.outputs[0]!;
  const at = (suffix: string): { names: string[] } & typeof loc => ({ names: [fresh(`${y}.${suffix}`)], ...loc });
  const [xq, xs] = b.node('QuantizeRows', [node.inputs[0]!], { bits: o.activationBits, bipolar: o.activations === 'bipolar' ? 1 : 0 }, { names: [fresh(`${y}.xq`), fresh(`${y}.xs`)], ...loc }) as [string, string];
  const attrs = { a_bipolar: o.activations === 'bipolar' ? 1 : 0, w_bipolar: o.weights === 'bipolar' ? 1 : 0, ...(w.groups > 1 ? { group: w.group } : {}) };
  const c = b.op('Cast', [b.op('BitMatMul', [xq, w.codes], attrs, at('int'))], { to: 'f32' }, at('sums'));
  let v = b.op('Mul', [c, w.scales], {}, at('scaled'));
  if (w.groups > 1) v = b.op('ReduceSum', [v], { axes: [-1], keepdims: 0 }, at('groups'));
  const alpha = node.op === 'Gemm' ? Number(node.attrs.alpha ?? 1) : 1;
  const cIn = node.op === 'Gemm' ? node.inputs[2] : undefined;
  const beta = Number(node.attrs.beta ?? 1);
  const last = !cIn && alpha === 1;
  v = b.op('Mul', [v, xs], {}, last ? { names: [y], ...loc } : at('rows'));
  if (alpha !== 1) v = b.op('Mul', [v, b.constant(makeTensor('f32', [], [alpha]), fresh(`${y}.alpha`))], {}, cIn ? at('alpha') : { names: [y], ...loc });
  if (cIn) {
    const cb = beta === 1 ? cIn : b.op('Mul', [cIn, b.constant(makeTensor('f32', [], [beta]), fresh(`${y}.beta`))], {}, at('beta'));
    b.op('Add', [v, cb], {}, { names: [y], ...loc });
  }
}
