// ONNX models built with the ONNX model builder (scripts/lib/onnx-build.ts): the corrupt-model test's small conv net,
// and random chains of common ops whose attributes and constant operands fit the running shape (so most import,
// and the mutations that follow start from a model that gets deep into the importer and the compiler).
import { DT, attrFloat, attrInt, attrInts, attrString, encodeModel, f32Tensor, i64Tensor, model, node, valueInfo } from '../lib/onnx-build.js';
import type { Rng } from './rng.js';

type Obj = Record<string, unknown>;

/** A small conv net with every kind of field the importer reads: initializers, attributes, a shape input. */
export function smallModel(): Uint8Array {
  return encodeModel(
    model({
      opset: 13,
      nodes: [
        node('Conv', ['x', 'w', 'b'], ['c'], { kernel_shape: attrInts([3, 3]), pads: attrInts([1, 1, 1, 1]), auto_pad: attrString('NOTSET') }, { name: 'conv' }),
        node('Relu', ['c'], ['r']),
        node('MaxPool', ['r'], ['p'], { kernel_shape: attrInts([2, 2]), strides: attrInts([2, 2]) }),
        node('Shape', ['p'], ['s']),
        node('Reshape', ['p', 'flat'], ['f']),
        node('MatMul', ['f', 'fc'], ['y']),
      ],
      inputs: [valueInfo('x', DT.FLOAT, [1, 1, 4, 4])],
      outputs: [valueInfo('y', DT.FLOAT, [1, 2])],
      initializers: [
        f32Tensor('w', [2, 1, 3, 3], Array.from({ length: 18 }, (_, i) => i / 10)),
        f32Tensor('b', [2], [0.5, -0.5]),
        i64Tensor('flat', [2], [1, -1]),
        f32Tensor('fc', [8, 2], Array.from({ length: 16 }, (_, i) => i)),
      ],
    }),
  );
}

const UNARY = ['Relu', 'Sigmoid', 'Tanh', 'Exp', 'Abs', 'Neg', 'Sqrt', 'Erf', 'Identity', 'Floor', 'Softplus', 'Reciprocal'];
const BINARY = ['Add', 'Mul', 'Sub', 'Div', 'Max', 'Min', 'Pow'];

/** One op applied to value `x` of shape `dims`: the node, its new constants and the output shape. */
type Step = { node: Obj; inits: Obj[]; dims: number[] };

function step(rng: Rng, x: string, dims: number[], k: number): Step {
  const y = `v${k}`;
  const r = dims.length;
  const c = (suffix: string): string => `c${k}_${suffix}`;
  const values = (n: number): number[] => Array.from({ length: n }, () => rng.range(-20, 20) / 10);
  const numel = (d: number[]): number => d.reduce((a, b) => a * b, 1);
  const axis = (): number => rng.int(Math.max(r, 1)) - (rng.chance(0.3) ? r : 0);
  switch (rng.int(13)) {
    case 0:
    case 1: {
      const shape = rng.chance(0.5) ? dims.slice(rng.int(r + 1)) : [1];
      return { node: node(rng.pick(BINARY), [x, c('b')], [y]), inits: [f32Tensor(c('b'), shape, values(numel(shape)))], dims };
    }
    case 2: {
      const n = rng.range(1, 4);
      const last = dims[r - 1] ?? 1;
      return { node: node('MatMul', [x, c('w')], [y]), inits: [f32Tensor(c('w'), [last, n], values(last * n))], dims: [...dims.slice(0, -1), n] };
    }
    case 3: {
      const perm = dims.map((_, i) => i).sort(() => rng.next() - 0.5);
      return { node: node('Transpose', [x], [y], { perm: attrInts(perm) }), inits: [], dims: perm.map((p) => dims[p]!) };
    }
    case 4:
      return { node: node('Reshape', [x, c('s')], [y]), inits: [i64Tensor(c('s'), [2], [1, -1])], dims: [1, numel(dims)] };
    case 5:
      return { node: node('Softmax', [x], [y], { axis: attrInt(r ? axis() : 0) }), inits: [], dims };
    case 6:
      return { node: node('Unsqueeze', [x, c('a')], [y]), inits: [i64Tensor(c('a'), [1], [0])], dims: [1, ...dims] };
    case 7: {
      const a = r ? rng.int(r) : 0;
      return { node: node('Concat', [x, x], [y], { axis: attrInt(a) }), inits: [], dims: dims.map((d, i) => (i === a ? d * 2 : d)) };
    }
    case 8: {
      const a = r ? rng.int(r) : 0;
      return { node: node('ReduceSum', [x, c('a')], [y], { keepdims: attrInt(1) }), inits: [i64Tensor(c('a'), [1], [a])], dims: dims.map((d, i) => (i === a ? 1 : d)) };
    }
    case 9: {
      const a = r ? rng.int(r) : 0;
      const inits = [i64Tensor(c('st'), [1], [0]), i64Tensor(c('en'), [1], [1]), i64Tensor(c('ax'), [1], [a])];
      return { node: node('Slice', [x, c('st'), c('en'), c('ax')], [y]), inits, dims: dims.map((d, i) => (i === a ? 1 : d)) };
    }
    case 10:
      return { node: node('LeakyRelu', [x], [y], { alpha: attrFloat(rng.range(1, 30) / 100) }), inits: [], dims };
    case 11:
      return { node: node('Gather', [x, c('i')], [y], { axis: attrInt(0) }), inits: [i64Tensor(c('i'), [2], [0, 0])], dims: r ? [2, ...dims.slice(1)] : dims };
    default:
      return { node: node(rng.pick(UNARY), [x], [y]), inits: [], dims };
  }
}

/** A chain of 1-6 ops over one float input of rank 1-4 (sometimes a symbolic batch dim), opset 13 mostly. */
export function randomModel(rng: Rng): Uint8Array {
  let dims = Array.from({ length: rng.range(1, 4) }, () => rng.range(1, 4));
  const declared: (number | string)[] = rng.chance(0.2) ? ['batch', ...dims.slice(1)] : dims;
  if (declared[0] === 'batch') dims[0] = 1; // the importer binds batch=1 (target-onnx.ts)
  const nodes: Obj[] = [];
  const initializers: Obj[] = [];
  let x = 'x';
  for (let k = 0, n = rng.range(1, 6); k < n && dims.reduce((a, b) => a * b, 1) <= 4096; k++) {
    const s = step(rng, x, dims, k);
    nodes.push(s.node);
    initializers.push(...s.inits);
    ({ dims } = s);
    x = `v${k}`;
  }
  const opset = rng.pick([13, 13, 13, 11, 17, 18, 21]);
  return encodeModel(model({ opset, nodes, inputs: [valueInfo('x', DT.FLOAT, declared)], outputs: [valueInfo(x, DT.FLOAT)], initializers }));
}
