// BitCast (opset 26): the same bits read as another type of the same width (ONNX requires equal widths, so the
// target's width is the source's too). 32-bit f32/i32/u32 pairs map to the IR op BitCast; integer pairs of at most
// 8 bits (and bool) are a wrapping Cast, which keeps the bits; int16 <-> uint16, which kiln holds widened to
// i32/u32, keep the low 16 bits re-extended. 16-bit floats and 64-bit types have no exact form in kiln.
import { dtypeInfo } from '../../../dtype.js';
import { scalarTensor } from '../../../tensor.js';
import type { NodeContext } from '../context.js';
import { ONNX_DTYPE, onnxBits, onnxDTypeName, runtimeDType } from '../dtypes.js';
import { unsupported } from '../errors.js';
import { type OpRule, rules } from '../rule.js';

const BITS32 = ['f32', 'i32', 'u32'];

function bitCast(cx: NodeContext): void {
  const code = cx.attrs.int('to', 0);
  const bits = onnxBits(code);
  const from = cx.type(0).dtype;
  const refuse = (why: string): never => unsupported('dtype', `BitCast from ${from} to ${onnxDTypeName(code)}: ${why}`);
  if (bits === 64) refuse('kiln narrows 64-bit types to 32 bits, so their bits are not kept');
  const to = runtimeDType(code, `BitCast target ${onnxDTypeName(code)}`);
  if (bits === 32) {
    if (!BITS32.includes(from)) refuse(`the input is not a 32-bit type`);
    if (from === to) cx.alias(0, cx.input(0));
    else cx.emitOutputs('BitCast', [cx.input(0)], { to });
    return;
  }
  if (bits === 16) {
    const int16 = code === ONNX_DTYPE.INT16 || code === ONNX_DTYPE.UINT16;
    if (!int16 || (from !== 'i32' && from !== 'u32'))
      refuse('kiln reinterprets 16-bit values only between int16 and uint16 (float16/bfloat16 bits are not addressable in its kernels)');
    if (from === to) return cx.alias(0, cx.input(0));
    if (to === 'u32') {
      // int16 held as i32: its two's complement low 16 bits, as uint16.
      const wide = cx.emit1('Cast', [cx.input(0)], { to: 'u32' });
      cx.emitOutputs('BitwiseAnd', [wide, cx.newConst(scalarTensor('u32', 0xffff), 'mask')]);
      return;
    }
    // uint16 held as u32: bit 15 becomes the sign, by shifting it to bit 31 and back arithmetically.
    const sixteen = cx.newConst(scalarTensor('i32', 16), 'shift');
    const up = cx.emit1('BitShiftLeft', [cx.emit1('Cast', [cx.input(0)], { to: 'i32' }), sixteen]);
    cx.emitOutputs('BitShiftRight', [up, sixteen]);
    return;
  }
  // ONNX's bool is one byte holding 0 or 1 (kiln stores it in 32 bits, but only the value matters).
  const info = dtypeInfo(from);
  const width = from === 'bool' ? 8 : info.bits;
  if (bits === undefined || bits > 8 || width !== bits || info.kind === 'float' || dtypeInfo(to).kind === 'float')
    refuse(`kiln has no exact bit reinterpretation for this pair`);
  cx.emitOutputs('Cast', [cx.input(0)], { to });
}

export const BITCAST_RULES: OpRule[] = rules('BitCast', [26, undefined, bitCast]);
