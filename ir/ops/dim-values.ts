// DimValues{values, scalar}: the run-time values of symbolic dims as an i32 tensor. Exporters compute with shapes
// (`if x.size(1) > 1`, `n = x.shape[0] * 2` fed to arithmetic on data); the importer folds such values while they
// stay shape arithmetic (ir/import/onnx/sym-fold.ts), and where one is used as data it becomes this op, whose
// entries are dims (numbers, symbols or expressions) evaluated under the run's symbol values.
import { OpError, registerOp } from '../op.js';
import { makeTensor } from '../tensor.js';
import { tensorType } from '../types.js';

registerOp({
  name: 'DimValues',
  inputs: { min: 0, max: 0 },
  outputs: 1,
  attrs: { values: { kind: 'dims', required: true }, scalar: { kind: 'int', default: 0 } },
  infer(_inputs, attrs) {
    const values = attrs.dims('values');
    const scalar = attrs.int('scalar') === 1;
    if (scalar && values.length !== 1) throw new OpError(`DimValues: scalar=1 needs exactly one value, got ${values.length}`);
    return [tensorType('i32', scalar ? [] : [values.length])];
  },
  reference(_inputs, attrs, outTypes) {
    return [makeTensor('i32', outTypes[0]!.shape as number[], attrs.ints('values'))];
  },
});

// Arange{start, delta, count}: out[i] = start + i * delta for i < count, the form of ONNX Range whose limit is
// computed from a symbolic dim (PyTorch's `torch.arange(x.size(1))` for position ids). start and delta are known.
registerOp({
  name: 'Arange',
  inputs: { min: 0, max: 0 },
  outputs: 1,
  attrs: {
    count: { kind: 'dims', required: true },
    start: { kind: 'float', default: 0 },
    delta: { kind: 'float', default: 1 },
    dtype: { kind: 'string', default: 'i32' },
  },
  infer(_inputs, attrs) {
    const count = attrs.dims('count');
    const dtype = attrs.string('dtype');
    if (count.length !== 1) throw new OpError(`Arange: count must be one dim, got [${count.join(',')}]`);
    if (dtype !== 'i32' && dtype !== 'f32') throw new OpError(`Arange: dtype must be i32 or f32, got ${dtype}`);
    return [tensorType(dtype, [count[0]!])];
  },
  reference(_inputs, attrs, outTypes) {
    // In the output type, as ONNX's Range computes: one f32 multiply and one f32 add per element.
    const f = outTypes[0]!.dtype === 'f32' ? Math.fround : (v: number) => v;
    const [start, delta] = [f(attrs.float('start')), f(attrs.float('delta'))];
    return [makeTensor(outTypes[0]!.dtype, outTypes[0]!.shape as number[], (i) => f(start + f(i * delta)))];
  },
});
