// TensorAccessor: how a kernel reads and writes one tensor binding (the analogue of ORT-web's IndicesHelper).
// It keeps a dtype's STORAGE type (the WGSL array element: f32, f16, i32 or u32 words holding packed lanes)
// apart from its VALUE type (what the kernel computes with: f32, f16, i32, u32 or bool).
//
// Storage layouts (byte-identical to compiler/pack.ts whatever the target):
//   f32/i32/u32   one element per array element
//   bool          u32 holding 0 or 1
//   f16           array<f16> with shader-f16; otherwise two halves per u32 (element 2k in the low half)
//   bf16          two bf16 bit patterns per u32 (element 2k in the low half); value f32
//   i1..i8/u1..u8 floor(32/bits) lanes per u32 word, lane l at bits [l*bits, (l+1)*bits); value i32/u32
//                 (signed lanes are sign-extended); top 32 % bits bits of a word unused
//
// Packed tensors (more than one element per storage word) are written a whole word at a time: one invocation
// per output word assembles all its lanes (storeLanes), so there are no atomics and no races.
import { type DType, dtypeInfo, isSubByte } from '../../ir/dtype.js';
import { dimProduct } from '../../ir/dim.js';
import { type Dim, numel } from '../../ir/shape.js';
import type { Expr, Scalar, Stmt } from './ast.js';
import { broadcastIndex, broadcastIndexDims } from './broadcast.js';
import type { KernelBuilder, Target } from './build.js';
import { T, add, and, bitcast, builtin, call, div, eq, ident, index, lit, lt, member, mod, mul, ne, or, select, shl, shr } from './dsl.js';

export interface TensorDesc {
  readonly dtype: DType;
  /** The static shape; with `dims`, the shape at the symbols' upper bounds (what the binding is sized for). */
  readonly shape: readonly number[];
  /** The shape with symbolic dims, for kernels that read sizes from the dims uniform (wgsl/dims.ts). */
  readonly dims?: readonly Dim[];
}

export type StorageScalar = 'f32' | 'f16' | 'i32' | 'u32';

export interface StorageLayout {
  readonly storage: StorageScalar;
  readonly value: Scalar;
  /** Elements per storage array element (1 unless packed). */
  readonly lanes: number;
  /** Bits per lane in a packed word. */
  readonly bits: number;
  /** Length of the storage array. */
  readonly elements: number;
  readonly kind: 'direct' | 'bool' | 'f16x2' | 'bf16x2' | 'subbyte';
}

export function storageLayout(dtype: DType, count: number, target: Target): StorageLayout {
  const info = dtypeInfo(dtype);
  const packed = (kind: StorageLayout['kind'], value: Scalar, lanes: number, bits: number): StorageLayout => ({
    storage: 'u32',
    value,
    lanes,
    bits,
    elements: Math.ceil(count / lanes),
    kind,
  });
  switch (dtype) {
    case 'f32':
    case 'i32':
    case 'u32':
      return { storage: dtype, value: dtype, lanes: 1, bits: 32, elements: count, kind: 'direct' };
    case 'bool':
      return { storage: 'u32', value: 'bool', lanes: 1, bits: 32, elements: count, kind: 'bool' };
    case 'f16':
      if (target.shaderF16) return { storage: 'f16', value: 'f16', lanes: 1, bits: 16, elements: count, kind: 'direct' };
      return packed('f16x2', 'f32', 2, 16);
    case 'bf16':
      return packed('bf16x2', 'f32', 2, 16);
    case 'i64':
      throw new Error('i64 tensors have no kernel storage (narrow them to i32 at import)');
    default:
      if (!isSubByte(dtype)) throw new Error(`no storage layout for dtype ${dtype}`);
      return packed('subbyte', info.signed ? 'i32' : 'u32', info.lanesPerWord, info.bits);
  }
}

const u = lit.u32;

export class TensorAccessor {
  readonly numel: number;

  constructor(
    private readonly k: KernelBuilder,
    readonly name: string,
    readonly desc: TensorDesc,
    readonly layout: StorageLayout,
    readonly access: 'read' | 'read_write',
  ) {
    this.numel = numel(desc.shape);
  }

  get dtype(): DType {
    return this.desc.dtype;
  }
  get shape(): readonly number[] {
    return this.desc.shape;
  }
  /** The WGSL type loads return and stores take. */
  get value(): Scalar {
    return this.layout.value;
  }
  get packed(): boolean {
    return this.layout.lanes > 1;
  }
  /** Number of storage words (array elements). */
  get words(): number {
    return this.layout.elements;
  }

  /** The raw storage element at `w`. */
  loadWord(w: Expr): Expr {
    return index(ident(this.name), w);
  }

  /** The element at flat index `flat`, as the value type. */
  load(flat: Expr): Expr {
    const { kind } = this.layout;
    if (kind === 'direct') return this.loadWord(flat);
    if (kind === 'bool') return ne(this.loadWord(flat), u(0));
    return call(this.loadHelper(), flat);
  }

  /** The element broadcast onto output flat index `outFlat` of an output of shape `outShape`. */
  loadBroadcast(outShape: readonly number[], outFlat: Expr): Expr {
    return this.load(broadcastIndex(outShape, this.shape, outFlat));
  }

  /** loadBroadcast for symbolic shapes: `outDims` and this tensor's dims may name symbols. */
  loadBroadcastDims(outDims: readonly Dim[], outFlat: Expr): Expr {
    return this.load(broadcastIndexDims(outDims, this.desc.dims ?? this.shape, outFlat, (d) => this.k.dim(d)));
  }

  /** Number of storage words as a dim (symbolic when the shape is); unpacked tensors only when symbolic. */
  get wordsDim(): Dim {
    if (!this.desc.dims) return this.words;
    if (this.packed) throw new Error(`${this.name} (${this.dtype}) is packed; symbolic shapes need an unpacked dtype`);
    return dimProduct(this.desc.dims);
  }

  /** Write one element (unpacked tensors only; packed ones are written a word at a time with storeLanes). */
  store(flat: Expr, value: Expr): void {
    const { kind } = this.layout;
    if (this.packed) throw new Error(`${this.name} (${this.dtype}) is packed: write it with storeLanes`);
    this.k.assign(this.loadWord(flat), kind === 'bool' ? select(value, u(1), u(0)) : value);
  }

  storeWord(w: Expr, word: Expr): void {
    this.k.assign(this.loadWord(w), word);
  }

  /** A value's bits moved into lane `lane` of a u32 word (other bits zero). Packed tensors only. */
  packLane(value: Expr, lane: Expr): Expr {
    const { kind, bits } = this.layout;
    const shift = mul(lane, u(bits));
    switch (kind) {
      case 'f16x2':
        return shl(call('kiln_f16_bits', value), shift);
      case 'bf16x2':
        return shl(call('kiln_bf16_bits', value), shift);
      case 'subbyte': {
        const raw = this.value === 'i32' ? bitcast('u32', value) : value;
        return shl(and(raw, u(2 ** bits - 1)), shift);
      }
      default:
        throw new Error(`${this.name} (${this.dtype}) is not packed`);
    }
  }

  /**
   * Write storage word `w` of a packed tensor: `valueAt(flat)` is emitted once per lane (inside a loop over the
   * lanes) and must give the element's value type; lanes past the tensor's end stay zero.
   */
  storeLanes(w: Expr, valueAt: (flat: Expr) => Expr): void {
    const { lanes } = this.layout;
    const word = this.k.var('word', T.u32, u(0));
    this.k.for('lane', u(0), u(lanes), (l) => {
      const flat = this.k.let('e', add(mul(w, u(lanes)), l));
      const put = (): void => this.k.assign(word, or(word, this.packLane(valueAt(flat), l)));
      if (this.numel % lanes === 0) put();
      else this.k.if(lt(flat, u(this.numel)), put);
    });
    this.storeWord(w, word);
  }

  /** Lane `lane` of packed sub-byte word `word`, as the value type (sign-extended for signed dtypes). */
  unpackLane(word: Expr, lane: Expr): Expr {
    const { kind, bits } = this.layout;
    if (kind !== 'subbyte') throw new Error(`${this.name} (${this.dtype}) has no integer lanes`);
    const raw = and(shr(word, mul(lane, u(bits))), u(2 ** bits - 1));
    return this.value === 'i32' ? shr(bitcast('i32', shl(raw, u(32 - bits))), u(32 - bits)) : raw;
  }

  /** Declare (once) the helper that unpacks one element: `fn load_<name>(i: u32) -> <value>`. */
  private loadHelper(): string {
    const { kind, lanes, bits } = this.layout;
    const i = ident('i');
    const w = ident('w');
    const odd = eq(and(i, u(1)), u(1));
    const body: Stmt[] = [{ kind: 'let', name: 'w', init: this.loadWord(div(i, u(lanes))) }];
    switch (kind) {
      case 'f16x2': {
        body.push({ kind: 'let', name: 'p', init: builtin('unpack2x16float', w) });
        body.push({ kind: 'return', value: select(odd, member(ident('p'), 'y'), member(ident('p'), 'x')) });
        break;
      }
      case 'bf16x2':
        body.push({ kind: 'return', value: bitcast('f32', select(odd, and(w, u(0xffff0000)), shl(w, u(16)))) });
        break;
      case 'subbyte':
        body.push({ kind: 'return', value: this.unpackLane(w, mod(i, u(lanes))) });
        break;
      default:
        throw new Error(`${this.name} needs no load helper`);
    }
    return this.k.helper({
      kind: 'fn',
      name: `load_${this.name}`,
      params: [{ name: 'i', type: T.u32 }],
      returns: { kind: 'scalar', scalar: this.value },
      body,
    });
  }
}
