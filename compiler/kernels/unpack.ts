// Unpack packed sub-byte integers (i1..i8, u1..u8; int4 and int2 being the main use) to f32, optionally
// dequantizing with a per-tensor scale and zero point: y = (q - zeroPoint) * scale, computed in f32 (q - zeroPoint
// is exact). Without scale and zero point it is exactly ONNX Cast(q -> f32). One invocation per packed input word
// reads the word once and writes all of its lanes.
import { type SubByteInt, isSubByte } from '../../ir/dtype.js';
import type { KernelGen, KernelSpecBase } from '../kernel-spec.js';
import { KernelBuilder } from '../wgsl/build.js';
import { add, convert, lit, lt, mul, sub } from '../wgsl/dsl.js';

export interface UnpackSpec extends KernelSpecBase {
  readonly kernel: 'unpack';
  readonly dtype: SubByteInt;
  readonly shape: readonly number[];
  /** Dequantization parameters (per tensor); both absent for a plain cast. */
  readonly scale?: number;
  readonly zeroPoint?: number;
  readonly workgroupSize: number;
}

export const unpack: KernelGen<UnpackSpec> = (spec) => {
  if (!isSubByte(spec.dtype)) throw new Error(`unpack needs a sub-byte integer dtype, got ${spec.dtype}`);
  const k = new KernelBuilder({ target: spec.target, workgroupSize: spec.workgroupSize });
  const q = k.input('q', { dtype: spec.dtype, shape: spec.shape });
  const out = k.output('out', { dtype: 'f32', shape: spec.shape });
  const lanes = q.layout.lanes;
  const w = k.globalIndex(q.words);
  k.if(lt(w, lit.u32(q.words)), () => {
    const word = k.let('word', q.loadWord(w));
    k.for('lane', lit.u32(0), lit.u32(lanes), (l) => {
      const flat = k.let('e', add(mul(w, lit.u32(lanes)), l));
      const put = (): void => {
        let y = convert('f32', q.unpackLane(word, l));
        if (spec.zeroPoint !== undefined && spec.zeroPoint !== 0) y = sub(y, lit.f32(spec.zeroPoint));
        if (spec.scale !== undefined) y = mul(y, lit.f32(spec.scale));
        out.store(flat, y);
      };
      if (q.numel % lanes === 0) put();
      else k.if(lt(flat, lit.u32(q.numel)), put);
    });
  });
  return k.finish();
};
