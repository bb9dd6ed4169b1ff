// Field-level damage to an ONNX model: decoded with the importer's own schema (decodeModel), one field changed,
// encoded again (the test builder's encodeModel). Each change is valid protobuf, so it reaches the importer's
// checks instead of the decoder's: dims (huge, negative, zero), dtypes, tensor storage, external data, attribute
// values and kinds, op types and domains, opset versions, node removal, duplication and reordering, dangling or
// aliased value names, graph inputs and outputs.
import { decodeModel, mappedOnnxOps } from '../../ir/index.js';
import { encodeModel } from '../lib/onnx-build.js';
import { EDGE_NUMBERS, EDGE_STRINGS, type Rng } from './rng.js';

type Json = any; // a decoded ModelProto, edited freely

const ATTR_NAMES = ['axis', 'axes', 'perm', 'kernel_shape', 'pads', 'strides', 'dilations', 'group', 'to', 'keepdims', 'transA', 'transB', 'alpha', 'beta', 'epsilon', 'mode', 'auto_pad', 'split', 'value', 'ceil_mode', 'direction'];
const DIMS = [0, -1, 1, 2, 3, 2 ** 31, 2 ** 40, 1e9, 65537];
const INTS = [...EDGE_NUMBERS.filter(Number.isInteger), -2, -3, 4, 5];
const FLOATS = [NaN, Infinity, -Infinity, 0, -0, 1e-45, 3.4e38, 1e39, -1, 0.5];

const pickOf = (rng: Rng, items: readonly Json[] | undefined): Json => (items?.length ? rng.pick(items) : undefined);

function mutateAttribute(rng: Rng, a: Json): void {
  switch (rng.int(7)) {
    case 0:
      a.i = rng.pick(INTS);
      break;
    case 1:
      a.f = rng.pick(FLOATS);
      break;
    case 2:
      a.ints = Array.from({ length: rng.int(7) }, () => (rng.chance(0.5) ? rng.pick(INTS) : rng.range(-4, 4)));
      break;
    case 3:
      a.s = new TextEncoder().encode(rng.pick([...EDGE_STRINGS, 'NOTSET', 'SAME_UPPER', 'VALID', 'constant', 'reflect', 'linear', 'nearest']));
      break;
    case 4:
      a.type = rng.int(15); // the kind no longer matches the field set
      break;
    case 5:
      a.floats = Array.from({ length: rng.int(5) }, () => rng.pick(FLOATS));
      break;
    default:
      a.name = rng.pick(ATTR_NAMES);
  }
}

function mutateTensor(rng: Rng, t: Json): void {
  switch (rng.int(6)) {
    case 0:
      if (t.dims.length && rng.chance(0.7)) t.dims[rng.int(t.dims.length)] = rng.pick(DIMS);
      else if (rng.chance(0.5)) t.dims.push(rng.pick(DIMS));
      else t.dims.pop();
      break;
    case 1:
      t.data_type = rng.int(26);
      break;
    case 2:
      if (t.raw_data) t.raw_data = t.raw_data.subarray(0, rng.int(t.raw_data.length));
      else t.float_data = t.float_data.slice(0, rng.int(t.float_data.length + 2));
      break;
    case 3: // external data, inside the work folder or trying to leave it
      t.data_location = 1;
      t.external_data = [
        { key: 'location', value: rng.pick(['weights.bin', 'missing.bin', '../weights.bin', '/etc/hostname', '', '.', 'weights.bin/x']) },
        ...(rng.chance(0.5) ? [{ key: 'offset', value: String(rng.pick([0, 4, 4095, 4096, 2 ** 53, -1])) }] : []),
        ...(rng.chance(0.5) ? [{ key: 'length', value: rng.pick(['0', '4', '16', '4097', 'x', '1e3']) }] : []),
      ];
      break;
    case 4:
      t.int64_data = Array.from({ length: rng.int(5) }, () => rng.pick(INTS));
      t.int32_data = [rng.pick(INTS) | 0];
      break;
    default:
      t.name = rng.pick(['x', '', 'v0', t.name + '_']);
  }
}

/** Every value name the graph mentions (for aliasing and dangling references). */
const valueNames = (g: Json): string[] => [...g.input.map((v: Json) => v.name), ...g.initializer.map((t: Json) => t.name), ...g.node.flatMap((n: Json) => n.output)];

function mutateGraph(rng: Rng, m: Json): void {
  const g = m.graph;
  const n = pickOf(rng, g.node);
  const names = valueNames(g);
  switch (rng.int(11)) {
    case 0:
      if (n?.attribute.length) mutateAttribute(rng, rng.pick(n.attribute));
      else if (n) n.attribute.push({ name: rng.pick(ATTR_NAMES), type: 7, ints: [rng.pick(INTS)] });
      break;
    case 1:
      if (n) n.op_type = rng.chance(0.8) ? rng.pick(mappedOnnxOps()) : rng.pick(['', 'Foo', 'Loop', 'If', 'Scan', 'relu']);
      if (n && rng.chance(0.2)) n.domain = rng.pick(['com.microsoft', 'ai.onnx.ml', 'ai.onnx', '']);
      break;
    case 2:
      m.opset_import = rng.chance(0.8) ? [{ domain: '', version: rng.pick([0, 1, 6, 7, 11, 13, 17, 21, 26, 27, 1e9]) }] : [];
      break;
    case 3: {
      const i = rng.int(g.node.length);
      if (rng.chance(0.5)) g.node.splice(i, 1);
      else if (n) g.node.splice(i, 0, structuredClone(n)); // a value defined twice
      break;
    }
    case 4:
      g.node.reverse(); // uses before definitions
      break;
    case 5:
      if (n?.input.length) n.input[rng.int(n.input.length)] = rng.chance(0.6) ? pickOf(rng, names) : rng.pick(['', 'nope', ...n.output]);
      else if (n) n.input.push(pickOf(rng, names) ?? 'x');
      break;
    case 6:
      if (n) n.output[rng.int(n.output.length)] = rng.chance(0.5) ? pickOf(rng, names) : rng.pick(['', 'nope']);
      break;
    case 7:
      if (g.initializer.length) mutateTensor(rng, rng.pick(g.initializer));
      break;
    case 8: {
      const vi = pickOf(rng, [...g.input, ...g.output]);
      const tt = vi?.type?.tensor_type;
      if (tt && rng.chance(0.5)) tt.elem_type = rng.int(26);
      else if (tt?.shape?.dim.length) tt.shape.dim[rng.int(tt.shape.dim.length)] = rng.chance(0.6) ? { dim_value: rng.pick(DIMS) } : { dim_param: rng.pick(['batch', 'N', '', 'sequence']) };
      break;
    }
    case 9:
      if (rng.chance(0.5)) g.output = rng.chance(0.5) ? [...g.output, ...g.input] : [{ ...g.output[0], name: pickOf(rng, names) ?? 'nope' }];
      else g.input = g.input.length > 1 || rng.chance(0.5) ? g.input.slice(1) : [...g.input, ...g.input];
      break;
    default:
      m.ir_version = rng.pick([0, 1, 3, 4, 7, 10, 11, 100]);
  }
}

/** A model with one to three field-level changes (or the input as it was, if it does not decode). */
export function mutateOnnx(rng: Rng, bytes: Uint8Array): Uint8Array {
  let m: Json;
  try {
    m = structuredClone(decodeModel(bytes, 'model.onnx'));
  } catch {
    return bytes;
  }
  for (let k = rng.range(1, 3); k > 0; k--) mutateGraph(rng, m);
  return encodeModel(m);
}
