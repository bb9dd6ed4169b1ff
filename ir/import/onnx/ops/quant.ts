// Quantization ops, plus Trilu and Einsum. QuantizeLinear's output dtype comes from the zero point when given,
// else from `output_dtype` (21+), else uint8; kiln quantizes to at most 8 bits, so int16/uint16 targets are
// unsupported. Scalar operands that ONNX passes as inputs (Trilu's k) become attributes.
import { type DType, dtypeInfo, isSubByte } from '../../../dtype.js';
import { quantEncoding } from '../../../encoding.js';
import { ROW_MAJOR } from '../../../layout.js';
import { type Tensor, makeTensor } from '../../../tensor.js';
import { tensorType } from '../../../types.js';
import type { NodeContext } from '../context.js';
import { ONNX_DTYPE, onnxDTypeName, runtimeDType } from '../dtypes.js';
import { unsupported } from '../errors.js';
import { type OpRule, direct, rules } from '../rule.js';
import { QLINEAR_RULES } from './qlinear.js';

function quantizeLinear(cx: NodeContext, attrsSince: number): void {
  const code = cx.attrs.int('output_dtype', 0) || ONNX_DTYPE.UINT8;
  const out: DType = cx.has(2) ? cx.type(2).dtype : runtimeDType(code, `QuantizeLinear output_dtype ${onnxDTypeName(code)}`);
  // kiln widens int16/uint16 to 32 bits, and quantizes to at most 8 bits.
  if (dtypeInfo(out).bits > 8) {
    const target = cx.has(2) ? `the zero point's dtype (${out} in kiln)` : onnxDTypeName(code);
    unsupported('dtype', `QuantizeLinear to ${target}: kiln quantizes to integer types of at most 8 bits`);
  }
  const attrs = {
    ...(attrsSince >= 13 ? { axis: cx.attrs.int('axis', 1) } : {}),
    ...(attrsSince >= 19 ? { saturate: cx.attrs.int('saturate', 1) } : {}),
    ...(attrsSince >= 21 ? { block_size: cx.attrs.int('block_size', 0) } : {}),
    output_dtype: out,
  };
  cx.emitOutputs('QuantizeLinear', cx.node.input, attrs);
}

/**
 * A constant matrix of 2..8-bit codes dequantized by constant scales (the weight of a quantized ONNX model's
 * DequantizeLinear -> MatMul) stays codes: one quant-encoded constant (ir/encoding.ts) instead of a folded float
 * copy. ONNX's per-tensor, per-axis and blocked scales are kiln's groups along one axis. False when it does not apply.
 */
function keepCodes(cx: NodeContext, axisAttr: number, block: number): boolean {
  const [x, scale, zp] = [cx.constant(0), cx.constant(1), cx.has(2) ? cx.constant(2) : undefined];
  if (!x || !scale || (cx.has(2) && !zp) || x.shape.length !== 2 || x.data.length < 256) return false;
  if (!isSubByte(x.dtype) || (scale.dtype !== 'f32' && scale.dtype !== 'f16')) return false;
  const { bits, signed } = dtypeInfo(x.dtype);
  const [rows, cols] = x.shape as [number, number];
  const a = axisAttr < 0 ? axisAttr + 2 : axisAttr;
  // kiln's quant encoding: one scale per `group` consecutive elements along `axis`; scales shaped [rows, cols]
  // with that axis cut into groups.
  let axis: number;
  let group: number;
  if (block > 0) [axis, group] = [a, block];
  else if (scale.data.length === 1) [axis, group] = [0, rows];
  else [axis, group] = [1 - a, a === 1 ? rows : cols];
  const shape = axis === 0 ? [Math.ceil(rows / group), cols] : [rows, Math.ceil(cols / group)];
  const n = shape[0]! * shape[1]!;
  if (scale.data.length !== 1 && scale.data.length !== n) return false;
  const at = (t: Tensor) => (i: number) => t.data[t.data.length === 1 ? 0 : i]!;
  const b = cx.values.builder;
  const name = cx.tmp('codes');
  const scales = b.declareConstant({ name: `${name}.scales`, type: tensorType(scale.dtype, shape), value: makeTensor(scale.dtype, shape, at(scale)) });
  const zeros = zp && b.declareConstant({ name: `${name}.zeros`, type: tensorType(x.dtype, shape), value: makeTensor(x.dtype, shape, at(zp)) });
  const encoding = quantEncoding({ bits, scheme: signed ? 'signed' : 'unsigned', group, axis, scale: scale.dtype, zero: zeros ? 'per-group' : 'none', packing: 'packed', scales, ...(zeros ? { zeros } : {}) });
  b.declareConstant({ name, type: tensorType(scale.dtype, x.shape, ROW_MAJOR, encoding), value: x });
  cx.alias(0, name);
  return true;
}

function dequantizeLinear(cx: NodeContext, attrsSince: number): void {
  const attrs = {
    ...(attrsSince >= 13 ? { axis: cx.attrs.int('axis', 1) } : {}),
    ...(attrsSince >= 21 ? { block_size: cx.attrs.int('block_size', 0) } : {}),
  };
  const code = cx.attrs.int('output_dtype', 0);
  const want = code ? runtimeDType(code, `DequantizeLinear output_dtype ${onnxDTypeName(code)}`) : undefined;
  if ((!want || want === cx.type(1).dtype) && keepCodes(cx, attrs.axis ?? 1, attrs.block_size ?? 0)) return;
  if (!want || want === cx.type(1).dtype) {
    cx.emitOutputs('DequantizeLinear', cx.node.input, attrs);
    return;
  }
  cx.emitOutputs('Cast', [cx.emit1('DequantizeLinear', cx.node.input, attrs)], { to: want });
}

function trilu(cx: NodeContext): void {
  const k = cx.constIntScalar(1, 'k') ?? 0;
  cx.emitOutputs('Trilu', [cx.input(0)], { upper: cx.attrs.int('upper', 1), k });
}

export const QUANT_RULES: OpRule[] = [
  ...rules(
    'QuantizeLinear',
    [10, 12, (cx) => quantizeLinear(cx, 10)],
    [13, 18, (cx) => quantizeLinear(cx, 13)],
    [19, 20, (cx) => quantizeLinear(cx, 19)],
    [21, 22, (cx) => quantizeLinear(cx, 21)],
    // 23 lets y_scale have its own type and divides in it, or in the type `precision` names: kiln divides in x's
    // type, so it takes the cases where those agree and refuses the others by name.
    [23, undefined, (cx) => {
      const x = cx.type(0).dtype;
      const code = cx.attrs.int('precision', 0);
      const precision = code ? runtimeDType(code, `QuantizeLinear precision ${onnxDTypeName(code)}`) : cx.type(1).dtype;
      if (precision !== x)
        unsupported('dtype', `QuantizeLinear divides in ${precision} (${code ? 'precision' : "y_scale's dtype"}) but x is ${x}; kiln divides in x's dtype: give y_scale x's dtype`);
      quantizeLinear(cx, 21);
    }],
  ),
  ...rules(
    'DequantizeLinear',
    [10, 12, (cx) => dequantizeLinear(cx, 10)],
    [13, 20, (cx) => dequantizeLinear(cx, 13)],
    [21, undefined, (cx) => dequantizeLinear(cx, 21)],
  ),
  ...rules('DynamicQuantizeLinear', [11, undefined, direct()]),
  ...rules('MatMulInteger', [10, undefined, direct()]),
  ...rules('Trilu', [14, undefined, trilu]),
  ...rules('Einsum', [12, undefined, direct()]),
  ...QLINEAR_RULES,
];
