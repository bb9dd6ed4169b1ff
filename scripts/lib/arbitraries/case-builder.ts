// The state arbGraphCase's op menu works on: a GraphBuilder, the pool of values built so far (each with a bound
// on its magnitude), and helpers that pick operands or make constants from the current recipe step (a Choice).
import '../../../ir/ops/index.js'; // registers the ops the menu builds
import { GraphBuilder } from '../../../ir/builder.js';
import type { DType } from '../../../ir/dtype.js';
import type { Attrs } from '../../../ir/graph.js';
import { AttrReader, OpError, lookupOp } from '../../../ir/op.js';
import { numel } from '../../../ir/shape.js';
import { makeTensor } from '../../../ir/tensor.js';
import { type TensorType, tensorType } from '../../../ir/types.js';

/** One recipe step: which menu entry, and small numbers it reads as operand picks, axes, sizes and constants. */
export interface Choice {
  readonly op: number;
  /** 0: any operand; 1: prefer values computed from constants only; 2: a fresh constant operand. */
  readonly src: number;
  readonly a: number;
  readonly b: number;
  readonly c: number;
  readonly k: number;
  /** Constant data, as integers in [-8, 8] that become quarters for floats. */
  readonly vals: readonly number[];
}

/** Values may not exceed this magnitude (tracked as a bound), so nothing overflows and f32 stays meaningful. */
const LIMIT = 1e4;

/** A choice that cannot be realised here (no fitting operand, or a result too large): skipped like an OpError. */
export class Skip extends Error {}

export interface Val {
  readonly name: string;
  readonly type: TensorType;
  /** Upper bound of |element| over every possible input in [-3, 3]. */
  readonly bound: number;
  /** Computed from constants only (so constant folding can evaluate it). */
  readonly constant: boolean;
}

/** The state a menu entry works on: the builder, the pool of values so far, and helpers to pick or make operands. */
export class CaseBuilder {
  readonly b = new GraphBuilder('main');
  readonly pool: Val[] = [];
  readonly produced: Val[] = [];

  constructor(private ch: Choice) {}

  /** Continue with the next choice (the pool and graph carry over). */
  with(ch: Choice): CaseBuilder {
    this.ch = ch;
    return this;
  }

  get choice(): Choice {
    return this.ch;
  }

  input(name: string, type: TensorType): Val {
    this.b.input(name, type);
    return this.add({ name, type, bound: 3, constant: false });
  }

  /** A constant of the given shape filled from the choice's vals (cyclically); `map` turns each integer into a value. */
  constant(dtype: DType, shape: readonly number[], map: (v: number, i: number) => number = defaultValue(dtype)): Val {
    const vals = this.ch.vals.length ? this.ch.vals : [1];
    const t = makeTensor(dtype, shape, (i) => map(vals[i % vals.length]!, i));
    const name = this.b.constant(t);
    const bound = t.data.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
    return this.add({ name, type: tensorType(dtype, shape), bound, constant: true });
  }

  /** Operand `index` among values satisfying `ok`, honouring the choice's src preference; throws Skip if none. */
  pick(index: number, ok: (v: Val) => boolean = () => true): Val {
    const all = this.pool.filter(ok);
    const consts = all.filter((v) => v.constant);
    const from = this.ch.src === 1 && consts.length ? consts : all;
    if (from.length === 0) throw new Skip('no operand fits');
    return from[index % from.length]!;
  }

  /** The first operand: from the pool, or (src 2) a fresh f32 constant of a small shape. */
  first(ok: (v: Val) => boolean = () => true): Val {
    if (this.ch.src === 2) {
      const rank = this.ch.k % 3;
      const shape = Array.from({ length: rank }, (_, i) => 1 + ((this.ch.c >> (2 * i)) % 4));
      const v = this.constant('f32', shape);
      if (ok(v)) return v;
    }
    return this.pick(this.ch.a, ok);
  }

  /** Add a node; `bound` maps the operands' bounds to the result's. Throws OpError or Skip without adding anything. */
  node(op: string, inputs: readonly (Val | null)[], attrs: Attrs, bound: (bs: number[]) => number): Val[] {
    const bs = inputs.map((v) => v?.bound ?? 0);
    const out = bound(bs);
    if (!(out <= LIMIT)) throw new Skip(`${op} result could reach ${out}`);
    // Infer first (throws OpError): empty results are skipped, as every case keeps all dims >= 1.
    const def = lookupOp(op);
    if (!def) throw new OpError(`unknown op '${op}'`);
    const types = def.infer(inputs.map((v) => v?.type), new AttrReader(op, def.attrs, attrs));
    if (types.some((t) => t.shape.includes(0))) throw new Skip(`${op} result is empty`);
    const names = this.b.node(op, inputs.map((v) => v?.name ?? ''), attrs);
    const constant = inputs.every((v) => v === null || v.constant);
    return names.map((name) => {
      const v = this.add({ name, type: this.b.typeOf(name), bound: out, constant });
      this.produced.push(v);
      return v;
    });
  }

  /** Would `op` accept these operands and attributes? (Used to choose compatible second operands.) */
  fits(op: string, inputs: readonly (Val | null)[], attrs: Attrs = {}): boolean {
    const def = lookupOp(op);
    if (!def) return false;
    try {
      def.infer(inputs.map((v) => v?.type), new AttrReader(op, def.attrs, attrs));
      return true;
    } catch (e) {
      if (e instanceof OpError) return false;
      throw e;
    }
  }

  private add(v: Val): Val {
    this.pool.push(v);
    return v;
  }
}

export const staticDims = (v: Val): number[] => v.type.shape as number[];
export const rank = (v: Val): number => v.type.shape.length;

function defaultValue(dtype: DType): (v: number) => number {
  if (dtype === 'bool') return (v) => (v > 0 ? 1 : 0);
  if (dtype === 'f32' || dtype === 'f16' || dtype === 'bf16') return (v) => v / 4;
  return (v) => v;
}

/** Element count of a static value (all arbGraphCase shapes are static). */
export const size = (v: Val): number => numel(staticDims(v));
