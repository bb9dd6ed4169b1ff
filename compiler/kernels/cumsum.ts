// CumSum and CumProd along one axis (exclusive and/or reverse), as a blocked parallel scan: each workgroup owns
// tx lines (the other axes, merged as in lib/view.ts); its ty lanes walk a line in chunks of ty elements, scan
// each chunk in workgroup memory (Hillis-Steele, barriers between levels) and carry the chunk's total into the
// next one. Floats combine in f32; integers in i32/u32, wrapping as the interpreter's wrap does.
// With symbolic dims (spec.dims) the line count, line length and strides come from the dims uniform: lanes are
// chosen for the upper bounds, and the chunk loop runs to the run-time length (a uniform bound, so the barriers
// inside stay in uniform control flow).
import { dimCeilDiv, dimProduct } from '../../ir/dim.js';
import { type Dim as SizeDim, numel } from '../../ir/shape.js';
import type { KernelGen, KernelSpecBase } from '../kernel-spec.js';
import type { Expr, Scalar } from '../wgsl/ast.js';
import { KernelBuilder, type Target } from '../wgsl/build.js';
import { type DimContext, dimMax } from '../wgsl/dims.js';
import { add, ge, gt, index, land, lit, lt, mul, mulConst, shl, sub, sumU32 } from '../wgsl/dsl.js';
import {
  type Dim,
  type DimGroup,
  type Lanes,
  type TensorSpec,
  accDtype,
  ceilDiv,
  chooseLanes,
  forLoop,
  fromCompute,
  laneCoords,
  dimMinus,
  laneStep,
  mulDim,
  opaque,
  radixOffset,
  radixOffsetDims,
  reduceView,
  reduceViewDims,
  rowSlot,
  toCompute,
  workgroupFlatDim,
} from './lib/index.js';

export interface CumSumSpec extends KernelSpecBase {
  readonly kernel: 'cumsum';
  /** The program's symbols, when a tensor has symbolic dims (tensor specs from symbolicTensor). */
  readonly dims?: DimContext;
  /** Running sums or running products. */
  readonly op: 'sum' | 'prod';
  readonly input: TensorSpec;
  /** The results as written (an unpacked dtype: f32, f16 with shader-f16, i32, u32). */
  readonly output: TensorSpec;
  readonly exclusive: boolean;
  readonly reverse: boolean;
  /** The lines: every axis but the scanned one, merged. */
  readonly kept: readonly (Dim | DimGroup)[];
  readonly len: SizeDim;
  readonly stride: SizeDim;
  readonly lanes: Lanes;
}

export function cumSumSpec(
  target: Target,
  op: 'sum' | 'prod',
  input: TensorSpec,
  axis: number,
  output: TensorSpec,
  exclusive: boolean,
  reverse: boolean,
  dims?: DimContext,
): CumSumSpec {
  if (dims) {
    const shape = input.dims ?? input.shape;
    const sym = reduceViewDims(shape, [axis]);
    const most = (d: SizeDim): number => dimMax(dims, d);
    return {
      kernel: 'cumsum',
      target: { shaderF16: target.shaderF16 },
      dims,
      op,
      input,
      output,
      exclusive,
      reverse,
      kept: sym.kept,
      len: shape[axis]!,
      stride: sym.reduced[0]?.stride ?? 1,
      lanes: chooseLanes(most(dimProduct(sym.kept.map((d) => d.size))), most(shape[axis]!), sym.contiguous, most(sym.run)),
    };
  }
  const view = reduceView(input.shape, [axis]);
  const len = input.shape[axis]!;
  const lines = numel(view.kept.map((d) => d.size));
  return {
    kernel: 'cumsum',
    target: { shaderF16: target.shaderF16 },
    op,
    input,
    output,
    exclusive,
    reverse,
    kept: view.kept,
    len,
    stride: view.reduced[0]?.stride ?? 1,
    lanes: chooseLanes(lines, len, view.contiguous, view.run),
  };
}

export const cumSum: KernelGen<CumSumSpec> = (spec) => {
  const { lanes, len } = spec;
  const k = new KernelBuilder({ target: spec.target, workgroupSize: lanes.tx * lanes.ty, ...(spec.dims ? { dims: spec.dims } : {}) });
  if (spec.dims) k.bindDims();
  const x = k.input('x', spec.input);
  const y = k.output('y', spec.output);
  const acc: Scalar = accDtype(spec.input.dtype);
  const type = { kind: 'scalar', scalar: acc } as const;
  // The neutral element and the combining step.
  const zero = lit.of(acc, spec.op === 'prod' ? 1 : 0);
  const combine = spec.op === 'prod' ? mul : add;
  // Static specs print exactly as before symbolic dims existed; symbolic ones read sizes from the dims uniform.
  const sym = spec.dims !== undefined;
  const lines = len === 0 ? 0 : sym ? dimProduct(spec.kept.map((d) => d.size)) : numel(spec.kept.map((d) => d.size as number));
  // A symbolic count's padding workgroups (2-D dispatch) leave at once: a uniform exit, before any barrier.
  const wg = sym ? workgroupFlatDim(k, dimCeilDiv(lines, lanes.tx)) : k.workgroupIndex(ceilDiv(lines as number, lanes.tx));
  const c = laneCoords(k, lanes);
  const line = k.let('line', sumU32([mulConst(wg, lanes.tx), c.x]));
  const valid = lt(line, k.dim(lines));
  const base = k.let('base', sym ? radixOffsetDims(k, line, spec.kept) : radixOffset(line, spec.kept as Dim[]));
  // Two halves, ping-ponged: each scan level reads one and writes the other, so one barrier per level.
  const size = lanes.tx * lanes.ty;
  const sh = k.workgroupArray('sh', type, 2 * size);
  const step = laneStep(lanes);
  const last = k.let('last', add(rowSlot(lanes, c.x), lit.u32((lanes.ty - 1) * step)));
  const carry = k.var('carry', type, zero);
  const at2 = (half: Expr, slot: Expr): Expr => index(sh, add(half, slot));

  // Chunk loop: the same trip count for every invocation, so the barriers inside are in uniform control flow.
  k.for(
    'chunk',
    lit.u32(0),
    typeof len === 'number' ? opaque(c, len) : k.dim(len),
    (chunk) => {
      const p = k.let('p', add(chunk, c.y));
      const inRange = land(valid, lt(p, k.dim(len)));
      // Past the line's end (masked by inRange) a reversed position wraps; it is never loaded or stored.
      const pos = spec.reverse ? sub(dimMinus(k, len, 1), p) : p;
      const at = k.let('at', add(base, sym ? mulDim(k, pos, spec.stride) : mulConst(pos, spec.stride as number)));
      const v = k.var('v', type, zero);
      k.if(inRange, () => k.assign(v, toCompute(x.load(at), x.value)));
      const half = k.var('half', { kind: 'scalar', scalar: 'u32' }, lit.u32(0));
      k.assign(index(sh, c.lid), v);
      k.workgroupBarrier();
      // Hillis-Steele: after the level with distance d, each slot holds the sum of the 2d slots ending at it.
      forLoop(k, 'd', lit.u32(1), (d) => lt(d, opaque(c, lanes.ty)), (d) => shl(d, lit.u32(1)), (d) => {
        const s = k.var('s', type, at2(half, c.lid));
        k.if(ge(c.y, d), () => k.assign(s, combine(s, at2(half, sub(c.lid, mulConst(d, step))))));
        k.assign(half, sub(lit.u32(size), half));
        k.assign(at2(half, c.lid), s);
        k.workgroupBarrier();
      });
      // Exclusive results: the previous lane's inclusive one (not inclusive minus own value, which would round).
      let within: Expr = at2(half, c.lid);
      if (spec.exclusive) {
        const prev = k.var('prev', type, zero);
        k.if(gt(c.y, lit.u32(0)), () => k.assign(prev, at2(half, sub(c.lid, lit.u32(step)))));
        within = prev;
      }
      k.if(inRange, () => y.store(at, fromCompute(combine(carry, within), y.value)));
      const total = k.let('total', at2(half, last));
      k.workgroupBarrier(); // every lane has read the chunk before the next one overwrites it
      k.assign(carry, combine(carry, total));
    },
    lanes.ty,
  );
  return k.finish();
};
