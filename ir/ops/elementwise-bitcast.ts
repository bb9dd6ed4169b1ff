// BitCast (ONNX 26): the same bits read as another dtype of the same width, shape unchanged. kiln's IR op covers
// the 32-bit dtypes f32, i32 and u32 (WGSL's bitcast); the importer maps the narrower integer pairs to exact
// integer ops, since kiln holds int16/uint16 widened to 32 bits. The dtype rows cannot check the source dtype
// at inference (only attributes), so the scalar binder and the WGSL row refuse any other source.
import { type DType, isDType } from '../dtype.js';
import { type AttrReader, OpError } from '../op.js';
import type { ElementwiseRow } from './elementwise.js';
import { NUMERIC, rowWith } from './elementwise-rows.js';

export const BITCAST_DTYPES: readonly DType[] = ['f32', 'i32', 'u32'];

function checked(op: string, dtype: string, what: string): DType {
  if (!isDType(dtype) || !BITCAST_DTYPES.includes(dtype))
    throw new OpError(`${op}: ${what} must be one of ${BITCAST_DTYPES.join(', ')} (32-bit), got '${dtype}'`);
  return dtype;
}

const bitcastTarget = (attrs: AttrReader): DType => checked('BitCast', attrs.string('to'), "'to'");

const write: Record<string, (v: DataView, x: number) => void> = {
  f32: (v, x) => v.setFloat32(0, x, true),
  i32: (v, x) => v.setInt32(0, x, true),
  u32: (v, x) => v.setUint32(0, x, true),
};
const read: Record<string, (v: DataView) => number> = {
  f32: (v) => v.getFloat32(0, true),
  i32: (v) => v.getInt32(0, true),
  u32: (v) => v.getUint32(0, true),
};

export const BITCAST_ROWS: readonly ElementwiseRow[] = [
  rowWith(
    'BitCast',
    1,
    NUMERIC,
    bitcastTarget,
    ({ attrs, dtype }) => {
      const [put, get] = [write[checked('BitCast', dtype, 'the input dtype')]!, read[bitcastTarget(attrs)]!];
      const view = new DataView(new ArrayBuffer(4));
      return (x) => {
        put(view, x);
        return get(view);
      };
    },
    { attrs: { to: { kind: 'string', required: true } } },
  ),
];
