// Materialize: the logical value of a constant stored under a layout or an encoding, as a dense row-major tensor.
// The materialize-encodings pass puts one in front of the readers that cannot read the storage in place (every
// reader but a sparse matmul reading a Tiled-CSL weight, today); its kernel decodes the storage on the GPU. The
// interpreter has decoded the constant already, so the reference is the identity.
import { registerOp } from '../op.js';
import { tensorType } from '../types.js';
import { checkInputs } from './common.js';

registerOp({
  name: 'Materialize',
  inputs: { min: 1, max: 1 },
  outputs: 1,
  attrs: {},
  infer(inputs) {
    const [x] = checkInputs('Materialize', inputs, 1);
    return [tensorType(x!.dtype, x!.shape)];
  },
  reference(inputs) {
    return [inputs[0]!];
  },
});
