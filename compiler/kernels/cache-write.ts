// CacheWrite(cache[S,H,D], new[T,H,D], pos, len), in place: new's rows t < len go to cache row pos + t, and the
// rest of the cache is untouched (the node's output is the cache's own memory; see the 'inplace' lowering).
// Rows that would land at or past row S are skipped, so a bad pos/len never writes out of bounds.
//
// Unpacked dtypes: one invocation per element of `new`. Packed dtypes (f16 without shader-f16, bf16) hold two
// elements per word, and pos * H * D need not be even, so a word can straddle a written row and a kept one:
// there, one invocation per cache word in the written span reassembles the whole word (the new element where
// the row is written, the cache's old one elsewhere), so no two invocations race on a word.
import type { KernelGen, KernelSpecBase } from '../kernel-spec.js';
import type { Expr } from '../wgsl/ast.js';
import { KernelBuilder } from '../wgsl/build.js';
import { add, div, ge, land, lit, lt, mulConst, scalarType, sub } from '../wgsl/dsl.js';
import { type TensorSpec, ceilDiv, stepLen, stepPos } from './lib/index.js';

export interface CacheWriteSpec extends KernelSpecBase {
  readonly kernel: 'cache-write';
  readonly cache: TensorSpec;
  readonly rows: TensorSpec;
}

const u = lit.u32;

export const cacheWrite: KernelGen<CacheWriteSpec> = (spec) => {
  const k = new KernelBuilder({ target: spec.target });
  const capacity = spec.cache.shape[0]!;
  const steps = spec.rows.shape[0]!;
  const width = spec.cache.shape[1]! * spec.cache.shape[2]!;
  // Binding order is the lowering's argument order: cache, new, pos, len.
  const cache = k.output('cache', spec.cache);
  const rows = k.input('rows', spec.rows);
  const pos = stepPos(k);
  const len = stepLen(k, steps);

  if (!cache.packed) {
    const i = k.globalIndex(steps * width);
    const t = k.let('t', div(i, u(width)));
    // t < len also rejects the invocations past the end of `new` (len <= steps).
    k.if(land(lt(t, len), lt(add(pos, t), u(capacity))), () => cache.store(add(mulConst(pos, width), i), rows.load(i)));
    return k.finish();
  }

  const lanes = cache.layout.lanes;
  // The written span starts inside word floor(pos*width / lanes) and covers at most steps*width elements.
  const span = ceilDiv(steps * width, lanes) + 1;
  const i = k.globalIndex(span);
  // pos < S first, so pos * width cannot wrap.
  k.if(land(lt(pos, u(capacity)), lt(i, u(span))), () => {
    const start = k.let('start', mulConst(pos, width));
    const w = k.let('w', add(div(start, u(lanes)), i));
    k.if(lt(w, u(cache.words)), () =>
      cache.storeLanes(w, (flat: Expr) => {
        const v = k.var('v', scalarType(cache.value), cache.load(flat));
        // flat >= start first, so the subtraction cannot wrap.
        k.if(ge(flat, start), () => {
          const e = k.let('e', sub(flat, start));
          k.if(lt(div(e, u(width)), len), () => k.assign(v, rows.load(e)));
        });
        return v;
      }),
    );
  });
  return k.finish();
};
