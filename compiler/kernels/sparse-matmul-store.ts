// The register accumulators of the sparse kernels and how their sums leave the workgroup. An invocation holds a
// block of rows of A (one for 'direct', tr for 'scatter') x the nb rows of x of its workgroup's N block, as f32s
// (nb < 4) or vec4s of four neighbouring rows of x. Rows past the tile or past M, and rows of x past N, are not
// stored. The destination is y (bias added, rounded to y's dtype) or the f32 partials [splitK, N, M].
import type { TensorAccessor } from '../wgsl/accessor.js';
import type { Expr } from '../wgsl/ast.js';
import type { KernelBuilder } from '../wgsl/build.js';
import { T, add, construct, index, land, lit, lt, mulConst, vecType } from '../wgsl/dsl.js';
import { fromCompute, toCompute } from './lib/index.js';
import { type SparseKernelSpec, gridCounts } from './sparse-matmul.js';
import { xIsVec4 } from './sparse-matmul-stage.js';

const u = lit.u32;

/** `tr` rows x nb accumulators, zero: acc[i][q] covers rows of x 4q..4q+3 (vec4) or q (f32). */
export function accumulators(k: KernelBuilder, tr: number, nb: number): Expr[][] {
  const vec = xIsVec4(nb);
  const type = vec ? vecType(4, 'f32') : T.f32;
  const zero = vec ? construct(type, lit.f32(0)) : lit.f32(0);
  return Array.from({ length: tr }, (_, i) => Array.from({ length: vec ? nb / 4 : nb }, (_, q) => k.var(`acc${i}_${q}`, type, zero)));
}

export interface SumsToStore {
  readonly out: TensorAccessor;
  readonly bias?: TensorAccessor | undefined;
  readonly acc: readonly (readonly Expr[])[];
  /** Row i of the invocation's block, as a row of the tile (u32). */
  rowInTile(i: number): Expr;
  readonly rowBlock: Expr;
  readonly n0: Expr;
  readonly slice: Expr;
}

export function storeSums(k: KernelBuilder, spec: SparseKernelSpec, s: SumsToStore): void {
  const { subsPerBlock } = gridCounts(spec);
  const vec = xIsVec4(spec.nb);
  const raggedTile = subsPerBlock * spec.rows > spec.tileM;
  const raggedM = spec.m % spec.tileM !== 0;
  const raggedN = spec.n % spec.nb !== 0;
  s.acc.forEach((accRow, i) => {
    const rl = k.let('rl', s.rowInTile(i));
    const row = k.let('row', add(mulConst(s.rowBlock, spec.tileM), rl));
    const conds = [...(raggedTile ? [lt(rl, u(spec.tileM))] : []), ...(raggedM ? [lt(row, u(spec.m))] : [])];
    const storeRow = (): void => {
      const b = s.bias && spec.dest.kind === 'result' ? k.let('b', toCompute(s.bias.load(row), s.bias.value)) : undefined;
      accRow.forEach((a, q) => {
        for (let e = 0; e < (vec ? 4 : 1); e++) {
          const n = k.let('n', add(s.n0, u(vec ? 4 * q + e : q)));
          const sum = vec ? index(a, u(e)) : a;
          const put = (): void => {
            if (spec.dest.kind === 'result') {
              s.out.store(add(mulConst(n, spec.m), row), fromCompute(b ? add(sum, b) : sum, s.out.value));
            } else {
              s.out.store(add(mulConst(add(mulConst(s.slice, spec.n), n), spec.m), row), sum);
            }
          };
          if (raggedN) k.if(lt(n, u(spec.n)), put);
          else put();
        }
      });
    };
    if (conds.length) k.if(conds.reduce(land), storeRow);
    else storeRow();
  });
}
