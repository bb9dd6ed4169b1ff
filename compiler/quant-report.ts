// The manifest's quantization report (`kiln inspect`): per quantized matmul weight, its width, scheme and group,
// the kernel that reads it, its stored bytes against a float copy's, and, where the program's source held the
// float weight (bitpack quantized it at compile time), the quantization error: the relative Frobenius error
// ||W - dequant(W)|| / ||W|| and the largest |W - dequant(W)|. Imported GPTQ/AWQ/MatMulNBits weights arrive as
// codes: their error is not known here (null). Weights-only layers are quant-encoded constants (decoded by
// storage.ts, as the interpreter does); w<n>a<m> layers are BitMatMul code constants `<w>.codes` with per-row or
// per-group scales `<w>.scales` (passes/bitpack.ts).
import { type ConstantDecl, type Graph, type Tensor, decodeStored, dtypeInfo, interpret, loadExternal, storageBytes, storageTypeOf } from '../ir/index.js';
import type { Manifest } from '../runtime/plan.js';
import type { Schedule } from './lower/schedule.js';

/** One row of the manifest's report (runtime/plan.ts). */
export type QuantLayer = NonNullable<Manifest['quantization']>['layers'][number];

const valueOf = (c: ConstantDecl | undefined): Tensor | undefined => c && (c.value ?? (c.external ? loadExternal(c.external, c.type.dtype, c.type.shape as number[]) : undefined));

function errors(float: Tensor | undefined, q: ArrayLike<number>): { relError: number | null; maxError: number | null } {
  if (!float || float.data.length !== q.length) return { relError: null, maxError: null };
  let [num, den, max] = [0, 0, 0];
  for (let i = 0; i < q.length; i++) {
    const d = float.data[i]! - q[i]!;
    [num, den, max] = [num + d * d, den + float.data[i]! ** 2, Math.max(max, Math.abs(d))];
  }
  return { relError: den > 0 ? Math.sqrt(num / den) : 0, maxError: max };
}

export function quantLayers(sources: readonly Graph[], entries: readonly { graph: Graph; schedule: Schedule }[]): QuantLayer[] {
  const source = new Map(sources.flatMap((g) => g.constants.filter((c) => c.type.encoding.kind === 'dense').map((c) => [c.name, c] as const)));
  const layers = new Map<string, QuantLayer>();
  for (const { graph, schedule } of entries) {
    const decls = new Map(graph.constants.map((c) => [c.name, c]));
    const kernelOf = (name: string): string => {
      const step = schedule.steps.find((s) => s.node.inputs.includes(name));
      return step ? step.kernel.name.replace(/_[0-9a-f]{12}$/, '') : 'none';
    };
    for (const c of graph.constants) {
      if (layers.has(c.name) || !c.value) continue;
      const t = c.type;
      const floatBytes = (t.shape as number[]).reduce((a, b) => a * b, 1) * 4;
      if (t.encoding.kind === 'quant') {
        const p = t.encoding.params;
        // Decoded only where there is a float weight to compare with (not for imported codes).
        const float = valueOf(source.get(c.name));
        const decoded = float && decodeStored(t, c.value, (n) => decls.get(n)!.value!);
        const companions = [p.scales, ...(p.zeros !== undefined ? [p.zeros] : [])].reduce((s, n) => s + storageBytes(decls.get(n)!.type.dtype, decls.get(n)!.value!.data.length), 0);
        const stored = storageTypeOf(t);
        const bytes = storageBytes(stored.dtype, c.value.data.length) + companions;
        layers.set(c.name, { weight: c.name, shape: t.shape as number[], bits: p.bits, scheme: p.scheme, group: p.group, kernel: kernelOf(c.name), bytes, floatBytes, ...(decoded ? errors(float, decoded.data) : { relError: null, maxError: null }) });
        continue;
      }
      // A BitMatMul weight: integer codes `<w>.codes` and f32 scales `<w>.scales` ([M] or [M, G]).
      const m = /^(.*)\.codes$/.exec(c.name);
      const reader = graph.nodes.find((n) => n.op === 'BitMatMul' && n.inputs[1] === c.name);
      if (!m || !reader || t.shape.length !== 2) continue;
      const scales = decls.get(`${m[1]}.scales`)?.value;
      const [rows, k] = t.shape as [number, number];
      const groups = scales ? scales.data.length / rows : 1;
      const group = Math.ceil(k / groups);
      const bipolar = Number(reader.attrs.w_bipolar ?? 0) !== 0;
      const bits = dtypeInfo(t.dtype).bits;
      const q = scales && Float64Array.from(c.value.data, (code, i) => (bipolar ? 2 * code - (2 ** bits - 1) : code) * scales.data[Math.floor(i / k) * groups + Math.floor((i % k) / group)]!);
      // bitpack reads the float weight [K, M] of a MatMul transposed: compare in the codes' [M, K] order.
      const float = valueOf(source.get(m[1]!));
      const aligned = float && float.shape.length === 2 && float.shape[0] === k && float.shape[1] === rows ? { ...float, data: Float64Array.from({ length: rows * k }, (_, i) => float.data[(i % k) * rows + Math.floor(i / k)]!) } : float;
      layers.set(c.name, {
        weight: m[1]!,
        shape: [rows, k],
        bits,
        scheme: bipolar ? 'bipolar' : dtypeInfo(t.dtype).signed ? 'signed' : 'unsigned',
        group,
        kernel: kernelOf(c.name),
        bytes: storageBytes(t.dtype, c.value.data.length) + (scales ? scales.data.length * 4 : 0),
        floatBytes,
        ...(q ? errors(aligned, q) : { relError: null, maxError: null }),
      });
    }
  }
  return [...layers.values()];
}

/** The manifest's calibration figures: the quantized graph's outputs against the float source's, by the interpreter. */
export function calibratedOutputErrors(source: Graph, quantized: Graph, samples: readonly Readonly<Record<string, Tensor>>[]): NonNullable<NonNullable<Manifest['quantization']>['calibration']> {
  const acc = new Map(source.outputs.map((o) => [o, { max: 0, num: 0, den: 0 }]));
  for (const sample of samples) {
    const [want, got] = [interpret(source, sample), interpret(quantized, sample)];
    for (const [o, a] of acc) {
      const [w, g] = [want[o]!.data, got[o]!.data];
      for (let i = 0; i < w.length; i++) {
        const d = Number(g[i]) - Number(w[i]);
        [a.max, a.num, a.den] = [Math.max(a.max, Math.abs(d)), a.num + d * d, a.den + Number(w[i]) ** 2];
      }
    }
  }
  return { samples: samples.length, outputs: [...acc].map(([output, a]) => ({ output, maxError: a.max, relError: a.den > 0 ? Math.sqrt(a.num / a.den) : Math.sqrt(a.num) })) };
}
