// bitpack (papers.md §3, `--bits w<n>a<m>`): every matmul weight (passes/matmul-weights.ts) not kept by name is
// quantized at compile time to n-bit codes with f32 scales per output row or per group along K
// (bits/quantize-weight.ts), and its MatMul/Gemm becomes the exact integer product of those codes and the
// activation's m-bit codes, quantized per row at run time with a power-of-two scale:
//   [xq, xs] = QuantizeRows(x) {bits: m}                 codes [..., K], scales [..., 1]
//   c        = BitMatMul(xq, Wq) {group}                 i32 [..., M] (or [..., M, G] per group)
//   y        = Mul(Mul(Cast<f32>(c), Ws), xs)            (per group: ReduceSum over G of Cast(c) * Ws, then xs)
// then Gemm's alpha and beta * C. The integer sums are the specification the bit-plane kernels equal bit for bit;
// the float steps after them are ordinary ops. A group longer than the i32 bound allows is shortened to fit.
// Widths may differ per weight (options `layers`, bits/bitpack-options.ts): w<n>f16 ones become quant-encoded
// constants read in place (weights only), w<n>a<m> ones BitMatMuls, side by side in one graph. Convolution
// weights take weights-only widths as [M, K] codes (bits/conv-weights.ts).
import { type Graph, GraphBuilder, type Node, type Tensor, constantValue, makeTensor } from '../ir/index.js';
import { bitMatMulBound } from '../ir/ops/bit-matmul.js';
import { type BitWidth, type BitpackOptions, readBitpackOptions, widthFor } from './bits/bitpack-options.js';
import { convWeights, declareConvWeightOnly } from './bits/conv-weights.js';
import { declareWeightOnly, quantizeWeight } from './bits/quantize-weight.js';
import { matmulWeights } from './matmul-weights.js';
import { type Pass, PassOptionError, bump } from './pass.js';

export type { BitpackOptions } from './bits/bitpack-options.js';

export const bitpack: Pass<BitpackOptions> = {
  name: 'bitpack',
  summary: 'Quantize matmul weights to n-bit codes and activations per row to m bits: an exact integer BitMatMul (options: bits=w<n>a<m>, group, weights, activations, keep, layers).',
  tolerance: { kind: 'lossy', note: 'weights and activations round to codes; the rewritten graph computes exactly what the kernels do' },
  options: readBitpackOptions,
  run(g, cx) {
    const o = cx.options;
    // Weights only: the constant keeps its meaning, so a tied embedding's Gather reads the codes too (quant gather).
    // Integer products rewrite the matmuls only: a weight a Gather also reads stays float for them.
    const matmulOnly = new Set(matmulWeights(g).map((w) => w.constant.name));
    const all = matmulWeights(g, { gathers: true });
    // Convolution weights take the weights-only widths (bits/conv-weights.ts); integer products are matmuls only.
    const convs = convWeights(g).filter((c) => !o.keep?.test(c.name) && widthFor(o, c.name).activationBits === 0);
    for (const l of o.layers ?? [])
      if (![...all.map((w) => w.constant), ...convWeights(g)].some((c) => l.pattern.test(c.name))) throw new PassOptionError(`bitpack layers pattern '${l.pattern.source}' matches no matmul or convolution weight of ${g.name}`);
    const chosen = all
      .filter(({ constant: c }) => !o.keep?.test(c.name))
      .map((w) => ({ ...w, width: widthFor(o, w.constant.name) }))
      .filter(({ constant: c, width }) => width.activationBits === 0 || matmulOnly.has(c.name));
    if (!chosen.length && !convs.length) return g;
    const quantized = new Map<string, { codes: string; scales: string; groups: number; group: number; k: number; width: BitWidth }>();
    const names = new Set([...chosen.map(({ constant: c }) => c.name), ...convs.map((c) => c.name)]);
    const b = GraphBuilder.fromDeclarations({ ...g, constants: g.constants.filter((c) => !names.has(c.name)) });
    const taken = new Set([...g.types.keys(), ...g.nodes.flatMap((n) => n.outputs), ...g.constants.map((c) => c.name)]);
    const fresh = (base: string): string => {
      let name = base;
      for (let i = 1; taken.has(name); i++) name = `${base}_${i}`;
      taken.add(name);
      return name;
    };
    for (const { constant: c, uses, width: o } of chosen) {
      const { m, k, transposed } = uses[0]!;
      const aDtype = `${o.activations === 'bipolar' ? 'u' : 'i'}${o.activationBits}` as Tensor['dtype'];
      const wDtype = `${o.weights === 'bipolar' ? 'u' : 'i'}${o.weightBits}` as Tensor['dtype'];
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
      quantized.set(c.name, { codes: b.constant(q.codes, fresh(`${c.name}.codes`)), scales: b.constant(q.scales, fresh(`${c.name}.scales`)), groups: q.groups, group, k, width: o });
      bump(cx, 'weights-quantized');
    }
    const reshaped = new Map(convs.map((c) => [c.name, declareConvWeightOnly(b, c, widthFor(o, c.name), fresh)]));
    if (convs.length) bump(cx, 'conv-weights-quantized', convs.length);
    for (const node of g.nodes) {
      const loc = node.loc ? { loc: node.loc } : {};
      const w = node.op === 'MatMul' || node.op === 'Gemm' ? quantized.get(node.inputs[1]!) : undefined;
      if (!w) {
        const inputs = node.op === 'Conv' && reshaped.has(node.inputs[1]!) ? node.inputs.map((v, i) => (i === 1 ? reshaped.get(v)! : v)) : node.inputs;
        b.node(node.op, inputs, node.attrs, { names: node.outputs, ...loc, ...(node.regions ? { regions: node.regions } : {}) });
        continue;
      }
      rewrite(b, node, w, w.width, fresh, loc);
      bump(cx, 'matmuls-rewritten');
    }
    return b.output(...g.outputs).build();
  },
};

function rewrite(
  b: GraphBuilder,
  node: Node,
  w: { codes: string; scales: string; groups: number; group: number; k: number },
  o: BitWidth,
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
