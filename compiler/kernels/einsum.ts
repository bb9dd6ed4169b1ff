// Einsum lowering. An equation that is a plain two-operand contraction (every label either shared by both
// operands and the output: batch; in one operand and the output: rows or columns; or in both operands only:
// summed) becomes one strided batched matmul (matmul.ts), its permutations absorbed into the operand strides so
// no transpose is materialised: 'bhqd,bhkd->bhqk' is a batched A @ B^T. Anything else (one operand, three or
// more, diagonals 'ii->i', labels summed within one operand) runs on the generic kernel here: one invocation per
// output element, looping over the product of the summed labels.
import { dtypeInfo } from '../../ir/dtype.js';
import { parseEinsum } from '../../ir/ops/einsum.js';
import { numel } from '../../ir/shape.js';
import type { KernelGen, KernelSpecBase } from '../kernel-spec.js';
import type { Expr } from '../wgsl/ast.js';
import { KernelBuilder, type Target } from '../wgsl/build.js';
import { lit, lt, mul, mulConst, sumU32 } from '../wgsl/dsl.js';
import { MAX_STORAGE_BINDINGS, type TensorSpec, computeScalar, fromCompute, toCompute, unflatten, wrapToDType } from './lib/index.js';
import { type MatMulSpec, type OperandSpec, stridedMatMulSpec } from './matmul.js';

export interface EinsumSpec extends KernelSpecBase {
  readonly kernel: 'einsum';
  readonly inputs: readonly TensorSpec[];
  readonly output: TensorSpec;
  /** Per input, its flat-index stride along each output dim (0 where the input lacks the label or broadcasts). */
  readonly outStrides: readonly (readonly number[])[];
  /** Sizes of the summed labels and, per input, the stride along each. */
  readonly reduceSizes: readonly number[];
  readonly reduceStrides: readonly (readonly number[])[];
  readonly workgroupSize: number;
}

export type EinsumLowering =
  | { readonly kind: 'matmul'; readonly spec: MatMulSpec; readonly flops: number }
  | { readonly kind: 'generic'; readonly gen: KernelGen<EinsumSpec>; readonly spec: EinsumSpec; readonly flops: number };

/** Each operand's labels with `...` spelled out (digit labels, right-aligned), the output's, and label sizes. */
interface Labels {
  readonly operands: readonly (readonly string[])[];
  readonly output: readonly string[];
  readonly sizes: ReadonlyMap<string, number>;
}

// The same expansion as ir/ops/einsum.ts (which verified the equation against these shapes already).
function expandLabels(equation: string, shapes: readonly (readonly number[])[]): Labels {
  const eq = parseEinsum(equation);
  const dots = eq.inputs.map((t, k) => (t.ellipsisAt === undefined ? 0 : shapes[k]!.length - t.labels.length));
  const total = Math.max(0, ...dots);
  const expand = (t: { labels: readonly string[]; ellipsisAt?: number }, rank: number): string[] =>
    t.ellipsisAt === undefined
      ? [...t.labels]
      : [...t.labels.slice(0, t.ellipsisAt), ...Array.from({ length: rank }, (_, i) => `${total - rank + i}`), ...t.labels.slice(t.ellipsisAt)];
  const operands = eq.inputs.map((t, k) => expand(t, dots[k]!));
  const sizes = new Map<string, number>();
  operands.forEach((labels, k) => labels.forEach((l, a) => sizes.set(l, Math.max(sizes.get(l) ?? 1, shapes[k]![a]!))));
  let output: string[];
  if (eq.output) output = expand(eq.output, total);
  else {
    const counts = new Map<string, number>();
    for (const t of eq.inputs) for (const l of t.labels) counts.set(l, (counts.get(l) ?? 0) + 1);
    const once = [...counts].filter(([, c]) => c === 1).map(([l]) => l);
    output = [...Array.from({ length: total }, (_, i) => `${i}`), ...once.sort()];
  }
  return { operands, output, sizes };
}

/** Flat-index stride of each label in a tensor (repeated labels add up: the diagonal; broadcast dims are 0). */
function labelStrides(dims: readonly string[], shape: readonly number[], sizes: ReadonlyMap<string, number>): Map<string, number> {
  const s = new Map<string, number>();
  let stride = 1;
  for (let a = dims.length - 1; a >= 0; a--) {
    const l = dims[a]!;
    if (shape[a] !== 1 || sizes.get(l) === 1) s.set(l, (s.get(l) ?? 0) + stride);
    else s.set(l, s.get(l) ?? 0);
    stride *= shape[a]!;
  }
  return s;
}

/** Whether labels (outer first) act as one index in every tensor: each stride is the next one's times its size. */
function mergeable(labels: readonly string[], strides: readonly Map<string, number>[], sizes: ReadonlyMap<string, number>): boolean {
  for (let i = 0; i + 1 < labels.length; i++)
    for (const s of strides) if ((s.get(labels[i]!) ?? 0) !== (s.get(labels[i + 1]!) ?? 0) * sizes.get(labels[i + 1]!)!) return false;
  return true;
}

function asMatMul(target: Target, L: Labels, inputs: readonly TensorSpec[], output: TensorSpec): MatMulSpec | undefined {
  if (inputs.length !== 2) return undefined;
  const dtype = output.dtype;
  const ok = dtype === 'f32' || dtype === 'i32' || dtype === 'u32' || (dtype === 'f16' && target.shaderF16);
  if (!ok || inputs.some((t) => t.dtype !== dtype)) return undefined;
  const [la, lb] = L.operands as [readonly string[], readonly string[]];
  if (new Set(la).size !== la.length || new Set(lb).size !== lb.length) return undefined; // diagonals
  const size = (l: string): number => L.sizes.get(l)!;
  const sa = labelStrides(la, inputs[0]!.shape, L.sizes);
  const sb = labelStrides(lb, inputs[1]!.shape, L.sizes);
  const so = labelStrides(L.output, output.shape, L.sizes);
  const live = (ls: readonly string[]): string[] => ls.filter((l) => size(l) > 1);
  const inOut = new Set(L.output);
  if (live([...la, ...lb]).some((l) => !inOut.has(l) && !(la.includes(l) && lb.includes(l)))) return undefined; // summed in one operand only
  const ks = live(la).filter((l) => lb.includes(l) && !inOut.has(l));
  if (!mergeable(ks, [sa, sb], L.sizes)) return undefined;
  const ms = live(L.output).filter((l) => la.includes(l) && !lb.includes(l));
  const ns = live(L.output).filter((l) => lb.includes(l) && !la.includes(l));
  // Rows and columns: the whole group when it merges, else its innermost label (the rest become batch dims).
  const pick = (group: string[], s: Map<string, number>): string[] => (mergeable(group, [s, so], L.sizes) ? group : group.slice(-1));
  const mLabels = pick(ms, sa);
  const nLabels = pick(ns, sb);
  const batch = live(L.output).filter((l) => !mLabels.includes(l) && !nLabels.includes(l));
  const inner = (group: string[], s: Map<string, number>): number => (group.length ? (s.get(group[group.length - 1]!) ?? 0) : 0);
  const prod = (group: string[]): number => group.reduce((p, l) => p * size(l), 1);
  const operand = (t: TensorSpec, s: Map<string, number>, row: string[], col: string[]): OperandSpec => ({
    ...t,
    strides: { batch: batch.map((l) => s.get(l) ?? 0), row: inner(row, s), col: inner(col, s) },
  });
  return stridedMatMulSpec(target, {
    m: prod(mLabels),
    n: prod(nLabels),
    k: prod(ks),
    batch: batch.map(size),
    a: operand(inputs[0]!, sa, mLabels, ks),
    b: operand(inputs[1]!, sb, ks, nLabels),
    out: operand(output, so, mLabels, nLabels),
  });
}

export function einsumLowering(target: Target, equation: string, inputs: readonly TensorSpec[], output: TensorSpec): EinsumLowering {
  const L = expandLabels(equation, inputs.map((t) => t.shape));
  const mm = asMatMul(target, L, inputs, output);
  if (mm) return { kind: 'matmul', spec: mm, flops: 2 * mm.m * mm.n * mm.k * numel(mm.batch) };
  if (inputs.length + 1 > MAX_STORAGE_BINDINGS) throw new Error(`Einsum with ${inputs.length} operands exceeds the ${MAX_STORAGE_BINDINGS} storage bindings of a kernel`);
  const strides = L.operands.map((dims, k) => labelStrides(dims, inputs[k]!.shape, L.sizes));
  const summed = [...L.sizes.keys()].filter((l) => !L.output.includes(l) && L.sizes.get(l)! > 1);
  const spec: EinsumSpec = {
    kernel: 'einsum',
    target: { shaderF16: target.shaderF16 },
    inputs: inputs.map((t) => ({ dtype: t.dtype, shape: [...t.shape] })),
    output: { dtype: output.dtype, shape: [...output.shape] },
    outStrides: strides.map((s) => L.output.map((l) => s.get(l) ?? 0)),
    reduceSizes: summed.map((l) => L.sizes.get(l)!),
    reduceStrides: strides.map((s) => summed.map((l) => s.get(l) ?? 0)),
    workgroupSize: 64,
  };
  const terms = numel(output.shape) * numel(spec.reduceSizes);
  return { kind: 'generic', gen: einsum, spec, flops: terms * inputs.length };
}

/** The generic kernel: out[o] = sum over the summed labels r of prod_k input_k[o . outStrides_k + r . reduceStrides_k]. */
export const einsum: KernelGen<EinsumSpec> = (spec) => {
  const k = new KernelBuilder({ target: spec.target, workgroupSize: spec.workgroupSize });
  const ins = spec.inputs.map((t, i) => k.input(`in${i}`, t));
  const out = k.output('out', spec.output);
  const compute = computeScalar(spec.output.dtype);
  if (dtypeInfo(spec.output.dtype).kind === 'bool') throw new Error('Einsum has no bool kernel');
  const reduceCount = numel(spec.reduceSizes);
  const valueAt = (flat: Expr): Expr => {
    const coords = unflatten(flat, spec.output.shape).map((c, d) => k.let(`c${d}`, c));
    const bases = ins.map((_, i) => k.let(`base${i}`, sumU32(coords.map((c, d) => mulConst(c, spec.outStrides[i]![d]!)))));
    const product = (offsets: readonly Expr[]): Expr =>
      ins.map((a, i) => toCompute(a.load(offsets[i]!), a.value)).reduce((x, y) => mul(x, y));
    if (reduceCount === 1) return wrapToDType(product(bases), spec.output.dtype);
    const acc = k.var('acc', { kind: 'scalar', scalar: compute }, lit.of(compute, 0));
    k.for('r', lit.u32(0), lit.u32(reduceCount), (r) => {
      const rc = unflatten(r, spec.reduceSizes).map((c, d) => k.let(`r${d}`, c));
      const offsets = bases.map((b, i) => sumU32([b, ...rc.map((c, d) => mulConst(c, spec.reduceStrides[i]![d]!))]));
      k.compound('+=', acc, product(offsets));
    });
    return wrapToDType(acc, spec.output.dtype);
  };
  const count = out.packed ? out.words : out.numel;
  const i = k.globalIndex(count);
  k.if(lt(i, lit.u32(count)), () => {
    if (out.packed) out.storeLanes(i, valueAt);
    else out.store(i, fromCompute(valueAt(i), out.value));
  });
  return k.finish();
};
