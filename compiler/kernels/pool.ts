// MaxPool, AveragePool and LpPool over the spatial dims of X [N, C, ...spatial]: one invocation per output element (per
// storage word for packed f16/bf16), looping over the window's taps with the geometry baked in. The geometry is
// ir/ops/shape-util.ts's resolveWindow, so auto_pad, pads, strides, dilations and ceil_mode agree with the
// reference by construction. As in the reference: padding never wins a max and a NaN in the window does (the max
// is the prelude's kiln_max, the reference's Math.max, so -0 < +0 whatever the order of the taps);
// count_include_pad counts pad cells but not the cells past the end padding a ceil_mode window can reach; LpPool
// sums |x|^p over the taps inside the input and takes the p-th root (p = 1 and 2 without pow).
// Batch, channels and spatial dims may be symbolic: sizes, plane strides and auto_pad SAME's pads are then read
// from the dims uniform, the dispatch covers the run-time output, and each tap's bounds are checked wherever some
// size in range may cross them.
import { dimAdd, dimMul, dimProduct, dimRange, dimSub } from '../../ir/dim.js';
import { AttrReader, type Dim, type Node, type TensorType, isStaticShape, lookupOp } from '../../ir/index.js';
import { checkWindowFits, resolveWindow } from '../../ir/ops/shape-util.js';
import type { KernelGen, KernelSpecBase } from '../kernel-spec.js';
import type { Expr } from '../wgsl/ast.js';
import { KernelBuilder, type Target } from '../wgsl/build.js';
import { T, add, builtin, call, convert, div, eq, ge, land, lit, lt, mod, mul, mulConst, select, sub, sumU32 } from '../wgsl/dsl.js';
import type { DimContext } from '../wgsl/dims.js';
import { type TensorSpec, fromCompute, mulDim, staticTensor, storeEachElement, symbolicTensor, toCompute } from './lib/index.js';

export interface PoolSpec extends KernelSpecBase {
  readonly kernel: 'pool';
  /** Present when X or Y has symbolic dims (they carry `dims`): the kernel binds the dims uniform first. */
  readonly dims?: DimContext;
  readonly op: 'max' | 'average' | 'lp';
  /** LpPool's exponent (1 otherwise). */
  readonly p: number;
  readonly input: TensorSpec;
  readonly output: TensorSpec;
  readonly kernelShape: readonly number[];
  readonly strides: readonly number[];
  readonly dilations: readonly number[];
  /** All begin pads, then all end pads; symbolic only for auto_pad SAME over a symbolic spatial dim. */
  readonly pads: readonly Dim[];
  readonly countIncludePad: boolean;
  readonly workgroupSize: number;
}

/** The spec of a MaxPool, AveragePool or LpPool node; `dims`: the program's symbols, when it has any. */
export function poolSpec(node: Node, typeOf: (value: string) => TensorType, target: Target, workgroupSize = 64, dims?: DimContext): PoolSpec {
  const attrs = new AttrReader(node.op, lookupOp(node.op)!.attrs, node.attrs);
  const [x, y] = [typeOf(node.inputs[0]!), typeOf(node.outputs[0]!)];
  const symbolic = dims && !(isStaticShape(x.shape) && isStaticShape(y.shape)) ? dims : undefined;
  const input = symbolic ? symbolicTensor(x, symbolic) : staticTensor(x, `%${node.inputs[0]}`, 'pool kernels');
  const output = symbolic ? symbolicTensor(y, symbolic) : staticTensor(y, `%${node.outputs[0]}`, 'pool kernels');
  const kernelShape = attrs.ints('kernel_shape');
  const inSize = (input.dims ?? input.shape).slice(2);
  const w = resolveWindow(node.op, attrs, inSize, kernelShape, attrs.int('ceil_mode') === 1);
  if (symbolic) checkWindowFits(node.op, attrs, w, inSize, (d) => dimRange(d, (s) => symbolic.bounds[s]!)[0]);
  return {
    kernel: 'pool',
    target: { shaderF16: target.shaderF16 },
    ...(symbolic ? { dims: symbolic } : {}),
    op: node.op === 'MaxPool' ? 'max' : node.op === 'LpPool' ? 'lp' : 'average',
    p: node.op === 'LpPool' ? attrs.float('p') : 1,
    input,
    output,
    kernelShape: [...kernelShape],
    strides: [...w.strides],
    dilations: [...w.dilations],
    pads: [...w.pads],
    countIncludePad: node.op === 'AveragePool' && attrs.int('count_include_pad') === 1,
    workgroupSize,
  };
}

const u = lit.u32;

/** |v|^p, one term of an Lp sum. */
function lpTerm(p: number, v: Expr): Expr {
  if (p === 1) return builtin('abs', v);
  if (p === 2) return mul(v, v);
  return call('kiln_pow', builtin('abs', v), lit.f32(p));
}

/** sum^(1/p). */
function lpRoot(p: number, sum: Expr): Expr {
  if (p === 1) return sum;
  if (p === 2) return builtin('sqrt', sum);
  return call('kiln_pow', sum, lit.f32(1 / p));
}

/** Row-major strides of dims that may be symbolic (numbers when every dim after is). */
function dimStrides(shape: readonly Dim[]): Dim[] {
  const out: Dim[] = [];
  let acc: Dim = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    out[d] = acc;
    acc = dimMul(acc, shape[d]!);
  }
  return out;
}

export const pool: KernelGen<PoolSpec> = (spec) => {
  const k = new KernelBuilder({ target: spec.target, workgroupSize: spec.workgroupSize, ...(spec.dims ? { dims: spec.dims } : {}) });
  if (spec.dims) k.bindDims();
  const x = k.input('x', spec.input);
  const out = k.output('y', spec.output);
  const inSize = (spec.input.dims ?? spec.input.shape).slice(2);
  const outSize = (spec.output.dims ?? spec.output.shape).slice(2);
  const n = inSize.length;
  const inStrides = dimStrides(inSize);
  const outStrides = dimStrides(outSize);
  const plane = dimProduct(inSize);
  const outPlane = dimProduct(outSize);
  /** A dim as an i32 expression. */
  const i32Dim = (d: Dim): Expr => (typeof d === 'number' ? lit.i32(d) : convert('i32', k.dim(d)));

  const valueAt = (flat: Expr): Expr => {
    const base = k.let('base', mulDim(k, div(flat, k.dim(outPlane)), plane));
    const p = outPlane === 1 ? u(0) : k.let('p', mod(flat, k.dim(outPlane)));
    const acc = k.var('acc', T.f32, lit.f32(spec.op === 'max' ? -Infinity : 0));
    const count = spec.op === 'average' ? k.var('count', T.u32, u(0)) : undefined;
    // One loop per spatial dim; each level knows its coordinate x_d and whether it is inside the input, inside
    // the padding, or past it.
    const level = (d: number, valid: Expr[], counted: Expr[], offsets: Expr[]): void => {
      if (d === n) {
        const inside = valid.length ? valid.reduce(land) : lit.bool(true);
        const read = (): void => {
          const v = k.let('v', toCompute(x.load(sumU32([base, ...offsets])), x.value));
          if (spec.op === 'max') k.assign(acc, call('kiln_max', acc, v));
          else if (spec.op === 'lp') k.assign(acc, add(acc, lpTerm(spec.p, v)));
          else {
            k.assign(acc, add(acc, v));
            k.assign(count!, add(count!, u(1)));
          }
        };
        const countPad = (): void => {
          if (!spec.countIncludePad) return;
          const put = (): void => k.assign(count!, add(count!, u(1)));
          if (counted.length) k.if(counted.reduce(land), put);
          else put();
        };
        if (valid.length === 0) read();
        else if (spec.countIncludePad) k.if(inside, read, countPad);
        else k.if(inside, read);
        return;
      }
      const o = outPlane === 1 ? u(0) : mod(div(p, k.dim(outStrides[d]!)), k.dim(outSize[d]!));
      const start = k.let(`o${d}`, sub(convert('i32', mulConst(o, spec.strides[d]!)), i32Dim(spec.pads[d]!)));
      k.for(`t${d}`, u(0), u(spec.kernelShape[d]!), (t) => {
        const xd = k.let(`x${d}`, add(start, convert('i32', mulConst(t, spec.dilations[d]!))));
        // Whether the tap may leave the input (known at compile time when the window never does; over symbolic
        // sizes, whether it may for some size in range).
        const [padBegin, padEnd] = [spec.pads[d]!, spec.pads[d + n]!];
        const lastTap = (spec.kernelShape[d]! - 1) * spec.dilations[d]!;
        const mayLeave =
          typeof padBegin !== 'number' || typeof padEnd !== 'number' || padBegin > 0 || padEnd > 0 || k.dimMax(dimSub(dimMul(dimSub(outSize[d]!, 1), spec.strides[d]!), inSize[d]!)) + lastTap >= 0;
        const inside = land(ge(xd, lit.i32(0)), lt(xd, i32Dim(inSize[d]!)));
        const notPast = lt(xd, i32Dim(dimAdd(inSize[d]!, padEnd)));
        level(d + 1, mayLeave ? [...valid, inside] : valid, mayLeave ? [...counted, notPast] : counted, [...offsets, mulDim(k, convert('u32', xd), inStrides[d]!)]);
      });
    };
    level(0, [], [], []);
    let result: Expr = spec.op === 'lp' ? lpRoot(spec.p, acc) : acc;
    if (count) result = select(eq(count, u(0)), lit.f32(NaN), div(acc, convert('f32', count)));
    return fromCompute(result, out.value);
  };

  storeEachElement(k, out, valueAt);
  return k.finish();
};
