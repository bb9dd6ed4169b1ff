// The importer's table of ONNX values. A value is either known at import time (an initializer, a Constant node,
// or anything folded from them) or computed at run time by an IR node. Known values stay out of the graph until
// an emitted node reads them as data ("materialisation", which is also where int64 is narrowed to i32), so a
// shape tensor that only ever feeds a Reshape's target never appears in the graph at all.
import type { GraphBuilder } from '../../builder.js';
import type { Tensor } from '../../tensor.js';
import { makeTensor } from '../../tensor.js';
import { type TensorType, tensorType } from '../../types.js';
import { ONNX_DTYPE } from './dtypes.js';
import { unsupported } from './errors.js';
import { type SymTensor, symOfTensor } from './sym-fold.js';
import { checkFits } from './tensor-proto.js';

export class ValueTable {
  private readonly consts = new Map<string, Tensor>();
  /** Shape arithmetic over symbolic dims (sym-fold.ts): known at import time up to the symbols' values. */
  private readonly syms = new Map<string, SymTensor>();
  /**
   * Symbols the user put where the model had a fixed size (--input-shape), with that size: a constant shape that
   * baked the old size in (Reshape to [1,256]) follows the symbol instead.
   */
  readonly promoted = new Map<string, number>();
  private readonly aliases = new Map<string, string>();
  private readonly materialized = new Set<string>();
  private readonly taken = new Set<string>();
  private readonly nextSuffix = new Map<string, number>();

  constructor(
    readonly builder: GraphBuilder,
    /** Every name the ONNX graph uses; temporaries avoid them. */
    private readonly reserved: ReadonlySet<string>,
  ) {}

  /** The IR name an ONNX name stands for (itself unless it aliases another value). */
  resolve(name: string): string {
    return this.aliases.get(name) ?? name;
  }

  isConst(name: string): boolean {
    return this.consts.has(this.resolve(name));
  }

  constOf(name: string): Tensor | undefined {
    return this.consts.get(this.resolve(name));
  }

  defined(name: string): boolean {
    const r = this.resolve(name);
    return this.consts.has(r) || this.syms.has(r) || this.taken.has(r);
  }

  typeOf(name: string): TensorType {
    const c = this.constOf(name);
    if (c) return tensorType(c.dtype, c.shape);
    const s = this.syms.get(this.resolve(name));
    return s ? tensorType(s.dtype as TensorType['dtype'], s.shape) : this.builder.typeOf(this.resolve(name));
  }

  /** A value known up to symbols: a symbolic shape value, or a small integer constant seen as one. */
  symOf(name: string): SymTensor | undefined {
    const s = this.syms.get(this.resolve(name));
    if (s) return s;
    const c = this.constOf(name);
    return c && c.shape.length <= 1 && /^([iu]\d+|f16|f32|f64)$/.test(c.dtype) && c.data.length <= 64 ? symOfTensor(c) : undefined;
  }

  isSym(name: string): boolean {
    return this.syms.has(this.resolve(name));
  }

  setSym(name: string, s: SymTensor): void {
    this.syms.set(name, s);
  }

  setConst(name: string, t: Tensor): void {
    this.consts.set(name, t);
  }

  /** `name` is the same value as `target` (Identity): constants are copied by reference, others aliased. */
  alias(name: string, target: string): void {
    const c = this.constOf(target);
    const sym = this.syms.get(this.resolve(target));
    if (c) this.consts.set(name, c);
    else if (sym) this.syms.set(name, sym);
    else this.aliases.set(name, this.resolve(target));
  }

  /** Note that an IR value (graph input or node output) now exists under `name`. */
  claim(name: string): void {
    this.taken.add(name);
  }

  /** A fresh name for an intermediate value, derived from `base` and clashing with no ONNX name. */
  tmp(base: string): string {
    // The next free suffix per base, so unrolling thousands of steps stays linear (names are never released).
    let k = this.nextSuffix.get(base) ?? 0;
    let n = k === 0 ? base : `${base}_${k}`;
    while (this.reserved.has(n) || this.taken.has(n) || this.consts.has(n)) n = `${base}_${++k}`;
    this.nextSuffix.set(base, k + 1);
    this.taken.add(n);
    return n;
  }

  /**
   * The IR name to use `name` as a node input: runtime values as they are, constants declared in the graph on
   * first use with int64 narrowed to i32 (every value must fit; the error names the tensor).
   */
  materialize(name: string): string {
    const r = this.resolve(name);
    const sym = this.syms.get(r);
    if (sym) {
      // Shape arithmetic used as data (a comparison feeding If, a size multiplied into values): its run-time value.
      if (!this.materialized.has(r)) {
        const float = /^(f16|f32|f64)$/.test(sym.dtype);
        if ((!/^[iu]\d+$/.test(sym.dtype) && !float) || sym.shape.length > 1) {
          const symbols = [...new Set(sym.dims.filter((d) => typeof d === 'string'))].join(', ');
          return unsupported('dynamic', `'${r}' = [${sym.dims.join(',')}] (${sym.dtype}) is computed from symbolic dims and used as data, which kiln supports for integer scalars and vectors only (bind ${symbols} with --dim)`);
        }
        // A float one (sym-fold's exact float arithmetic) is its integer numerators, cast, over its denominators.
        const ints = float ? this.tmp(`${r}__dims`) : r;
        this.builder.node('DimValues', [], { values: sym.dims, scalar: sym.shape.length === 0 ? 1 : 0 }, { names: [ints] });
        if (float) {
          const cast = sym.den ? this.tmp(`${r}__num`) : r;
          this.builder.node('Cast', [ints], { to: sym.dtype }, { names: [cast] });
          if (sym.den) {
            const den = this.tmp(`${r}__den`);
            this.builder.declareConstant({ name: den, type: tensorType(sym.dtype as TensorType['dtype'], sym.shape), value: makeTensor(sym.dtype as TensorType['dtype'], sym.shape, sym.den) });
            this.builder.node('Div', [cast, den], {}, { names: [r] });
          }
        }
        this.materialized.add(r);
        this.taken.add(r);
      }
      return r;
    }
    const c = this.consts.get(r);
    if (!c || this.materialized.has(r)) return r;
    let t = c;
    if (c.dtype === 'i64') {
      checkFits(c.data, 'i32', ONNX_DTYPE.INT64, `constant '${r}'`);
      t = makeTensor('i32', c.shape, c.data);
    }
    this.builder.declareConstant({ name: r, type: tensorType(t.dtype, t.shape), value: t });
    this.materialized.add(r);
    this.taken.add(r);
    return r;
  }
}
