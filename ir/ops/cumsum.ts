// CumSum and CumProd: running sums (products) along one axis, as ONNX defines them, with the axis an attribute
// (ONNX takes it as a constant input; the importer folds it). `exclusive` leaves each element out of its own
// sum (shifting the sums by one, starting from 0, or the products from 1) and `reverse` runs from the end of the
// axis towards its start. Sums accumulate in float64 and are rounded once per element, so integer results wrap
// as a GPU's running sum would; integer products multiply modulo 2^32 at each step (float64 would drop low bits),
// which is what a 32-bit GPU accumulator does.
import { dtypeInfo } from '../dtype.js';
import { OpError, registerOp } from '../op.js';
import { makeTensor } from '../tensor.js';
import { type TensorType, tensorType } from '../types.js';
import { checkInputs, flagAttr, resolveAxis, splitAtAxis } from './common.js';

interface Scan {
  readonly name: string;
  readonly init: number;
  readonly step: (acc: number, x: number) => number;
  /** The step for integer dtypes up to 32 bits, when it differs. */
  readonly intStep?: (acc: number, x: number) => number;
}

const SCANS: readonly Scan[] = [
  { name: 'CumSum', init: 0, step: (a, x) => a + x },
  { name: 'CumProd', init: 1, step: (a, x) => a * x, intStep: Math.imul },
];

for (const scan of SCANS) {
  const name = scan.name;
  registerOp({
    name,
    inputs: { min: 1, max: 1 },
    outputs: 1,
    attrs: {
      axis: { kind: 'int', required: true },
      exclusive: { kind: 'int', default: 0 },
      reverse: { kind: 'int', default: 0 },
    },
    infer(inputs, attrs) {
      const [x] = checkInputs(name, inputs, 1) as [TensorType];
      const kind = dtypeInfo(x.dtype).kind;
      if (kind !== 'float' && kind !== 'int') throw new OpError(`${name} needs a float or int input, got ${x.dtype}`);
      resolveAxis(name, attrs.int('axis'), x.shape.length);
      flagAttr(name, attrs, 'exclusive');
      flagAttr(name, attrs, 'reverse');
      return [tensorType(x.dtype, x.shape)];
    },
    reference(inputs, attrs) {
      const x = inputs[0]!;
      const axis = resolveAxis(name, attrs.int('axis'), x.shape.length);
      const exclusive = flagAttr(name, attrs, 'exclusive');
      const reverse = flagAttr(name, attrs, 'reverse');
      const info = dtypeInfo(x.dtype);
      const step = scan.intStep && info.kind === 'int' && info.bits <= 32 ? scan.intStep : scan.step;
      const { outer, len, inner } = splitAtAxis(x.shape, axis);
      const out = new Float64Array(x.data.length);
      for (let o = 0; o < outer; o++)
        for (let j = 0; j < inner; j++) {
          let acc = scan.init;
          for (let k = 0; k < len; k++) {
            const at = o * len * inner + (reverse ? len - 1 - k : k) * inner + j;
            // Inclusive steps before writing, exclusive after: the same loop either way.
            if (!exclusive) acc = step(acc, x.data[at]!);
            out[at] = acc;
            if (exclusive) acc = step(acc, x.data[at]!);
          }
        }
      return [makeTensor(x.dtype, x.shape, out)];
    },
  });
}
