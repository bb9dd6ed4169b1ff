// The import driver: inputs, initializers, symbols, names, notes, and the errors for what kiln does not compile.
import { describe, expect, it } from 'vitest';
import { printGraph } from '../../ir/print.js';
import { interpret } from '../../ir/interp.js';
import { OnnxImportError, OnnxUnsupportedError, importOnnx } from '../../ir/import/onnx/index.js';
import { makeTensor } from '../../ir/tensor.js';
import {
  DT,
  attrFloat,
  attrInt,
  attrInts,
  attrString,
  encodeModel,
  f32Tensor,
  i64Tensor,
  model,
  node,
  singleOp,
  valueInfo,
} from '../../scripts/lib/onnx-build.js';

function unsupportedError(bytes: Uint8Array, options = {}): OnnxUnsupportedError {
  try {
    importOnnx(bytes, { file: 'm.onnx', ...options });
  } catch (e) {
    expect(e).toBeInstanceOf(OnnxUnsupportedError);
    return e as OnnxUnsupportedError;
  }
  throw new Error('expected an unsupported error');
}

const x4 = valueInfo('x', DT.FLOAT, [2, 2]);
const y4 = valueInfo('y', DT.FLOAT, [2, 2]);

describe('graph interface', () => {
  it('keeps ONNX value names, including ones the printer must quote', () => {
    const bytes = encodeModel(
      model({
        nodes: [node('Relu', ['in put'], ['mid/0']), node('Neg', ['mid/0'], ['out:0'])],
        inputs: [valueInfo('in put', DT.FLOAT, [2])],
        outputs: [valueInfo('out:0', DT.FLOAT, [2])],
      }),
    );
    const { graph } = importOnnx(bytes);
    expect(graph.nodes.map((n) => n.outputs[0])).toEqual(['mid/0', 'out:0']);
    expect(printGraph(graph)).toContain('%"mid/0" = Relu(%"in put")');
  });

  it('turns dim_params into symbols bounded 1..65536, or as the symbols option says', () => {
    const bytes = singleOp('Relu', [valueInfo('x', DT.FLOAT, ['batch', 'seq len', 4])], [valueInfo('y', DT.FLOAT, ['batch', 'seq len', 4])]);
    const plain = importOnnx(bytes).graph;
    expect(plain.inputs[0]!.type.shape).toEqual(['batch', 'seq_len', 4]);
    expect(plain.symbols).toEqual({ batch: { min: 1, max: 65536 }, seq_len: { min: 1, max: 65536 } });
    const bound = importOnnx(bytes, { symbols: { batch: 2, 'seq len': { min: 1, max: 128 } } });
    expect(bound.graph.inputs[0]!.type.shape).toEqual([2, 'seq_len', 4]);
    expect(bound.graph.symbols).toEqual({ seq_len: { min: 1, max: 128 } });
    expect(bound.notes).toContain("symbol 'batch' bound to 2");
  });

  it('narrows int64 and double graph inputs and outputs, with notes', () => {
    const bytes = singleOp('Identity', [valueInfo('ids', DT.INT64, [3])], [valueInfo('out', DT.INT64, [3])]);
    const { graph, notes } = importOnnx(bytes);
    expect(graph.inputs[0]!.type.dtype).toBe('i32');
    expect(notes).toContain("input 'ids': int64 narrowed to i32 (the runtime range-checks values)");
    expect(notes).toContain("output 'out': int64 narrowed to i32 (the runtime range-checks values)");
    // The output keeps its own name through an identity Cast.
    expect(graph.outputs).toEqual(['out']);
    expect([...interpret(graph, { ids: makeTensor('i32', [3], [1, 2, 3]) }).out!.data]).toEqual([1, 2, 3]);
    const d = importOnnx(singleOp('Neg', [valueInfo('x', DT.DOUBLE, [1])], [valueInfo('y', DT.DOUBLE, [1])]));
    expect(d.graph.inputs[0]!.type.dtype).toBe('f32');
    expect(d.notes).toContain("input 'x': double narrowed to f32");
  });

  it('treats graph inputs that have initializers as constants (IR 3 models)', () => {
    const bytes = encodeModel(
      model({
        irVersion: 3,
        opset: 8,
        nodes: [node('Add', ['x', 'b'], ['y'])],
        inputs: [valueInfo('x', DT.FLOAT, [2]), valueInfo('b', DT.FLOAT, [2])],
        outputs: [valueInfo('y', DT.FLOAT, [2])],
        initializers: [f32Tensor('b', [2], [1, 2])],
      }),
    );
    const { graph, notes } = importOnnx(bytes);
    expect(graph.inputs.map((i) => i.name)).toEqual(['x']);
    expect(graph.constants.map((c) => c.name)).toEqual(['b']);
    expect(notes).toContain("input 'b' has an initializer; kiln treats it as a constant");
  });

  it('fixes graph inputs to given values with inputValues', () => {
    const bytes = singleOp('Reshape', [valueInfo('x', DT.FLOAT, [2, 3]), valueInfo('shape', DT.INT64, [1])], [valueInfo('y', DT.FLOAT, [6])], {}, { opset: 14 });
    const err = unsupportedError(bytes);
    expect(err.category).toBe('dynamic');
    expect(err.value).toBe('shape');
    expect(err.message).toBe(
      "m.onnx: node 'reshape_node' (Reshape, opset 14, outputs 'y'): unsupported: Reshape shape must be a constant (kiln compiles static shapes); input 'shape' is computed at run time",
    );
    const { graph } = importOnnx(bytes, { inputValues: { shape: makeTensor('i64', [1], [6]) } });
    expect(graph.inputs.map((i) => i.name)).toEqual(['x']);
    expect(graph.nodes[0]!.attrs).toEqual({ shape: [6] });
    expect(() => importOnnx(bytes, { inputValues: { shap: makeTensor('i64', [1], [6]) } })).toThrow(/inputValues names 'shap', which is not a graph input/);
    expect(() => importOnnx(bytes, { inputValues: { shape: makeTensor('i64', [2], [6, 1]) } })).toThrow(/gives input 'shape' shape \[2\], but the model declares \[1\]/);
  });

  it('folds Shape -> Gather -> Unsqueeze -> Concat chains of static shapes into attributes', () => {
    const bytes = encodeModel(
      model({
        opset: 13,
        nodes: [
          node('Shape', ['x'], ['s']),
          node('Gather', ['s', 'zero'], ['n'], { axis: attrInt(0) }),
          node('Unsqueeze', ['n', 'axes0'], ['n1']),
          node('Concat', ['n1', 'minus1'], ['target'], { axis: attrInt(0) }),
          node('Reshape', ['x', 'target'], ['y']),
        ],
        inputs: [valueInfo('x', DT.FLOAT, [2, 3, 4])],
        outputs: [valueInfo('y', DT.FLOAT, [2, 12])],
        initializers: [i64Tensor('zero', [], [0]), i64Tensor('axes0', [1], [0]), i64Tensor('minus1', [1], [-1])],
      }),
    );
    const { graph } = importOnnx(bytes);
    expect(graph.nodes.map((n) => n.op)).toEqual(['Reshape']);
    expect(graph.nodes[0]!.attrs).toEqual({ shape: [2, -1] });
    expect(graph.constants).toEqual([]);
  });

  it('folds a Shape of symbolic dims into a symbolic Reshape, or binds the symbols when asked', () => {
    const bytes = encodeModel(
      model({
        nodes: [node('Shape', ['x'], ['s']), node('Reshape', ['x', 's'], ['y'])],
        inputs: [valueInfo('x', DT.FLOAT, ['n', 3])],
        outputs: [valueInfo('y', DT.FLOAT, ['n', 3])],
      }),
    );
    expect(importOnnx(bytes).graph.nodes[0]!.attrs).toEqual({ shape: ['n', 3] });
    expect(importOnnx(bytes, { symbols: { n: 5 } }).graph.nodes[0]!.attrs).toEqual({ shape: [5, 3] });
  });

  it('shape arithmetic used as data becomes its run-time value (DimValues), evaluated per size', () => {
    const bytes = encodeModel(
      model({
        nodes: [node('Shape', ['x'], ['s']), node('Cast', ['s'], ['f'], { to: attrInt(DT.FLOAT) }), node('Mul', ['x', 'f'], ['y'])],
        inputs: [valueInfo('x', DT.FLOAT, ['n', 2])],
        outputs: [valueInfo('y', DT.FLOAT, ['n', 2])],
      }),
    );
    const { graph } = importOnnx(bytes);
    expect(graph.nodes.map((n) => n.op)).toEqual(['DimValues', 'Cast', 'Mul']);
    for (const n of [1, 3]) {
      const x = makeTensor('f32', [n, 2], (i) => i + 1);
      expect(Array.from(interpret(graph, { x }).y!.data)).toEqual(Array.from(x.data, (v, i) => v * (i % 2 === 0 ? n : 2)));
    }
  });
});

describe('unsupported models', () => {
  it('names node, op and opset for an op without a mapping', () => {
    const err = unsupportedError(singleOp('NonMaxSuppression', [x4], [y4], {}, { opset: 13 }));
    expect(err.category).toBe('op');
    expect(err.message).toMatch(/^m\.onnx: node 'nonmaxsuppression_node' \(NonMaxSuppression, opset 13, outputs 'y'\): unsupported: op NonMaxSuppression \(opset 13\) has no mapping/);
  });

  it('rejects opsets outside 7..28 and other domains, naming node, op, domain and opset', () => {
    expect(unsupportedError(singleOp('Relu', [x4], [y4], {}, { opset: 29 })).message).toMatch(
      /node 'relu_node' \(Relu, opset 29, outputs 'y'\): unsupported: op Relu in domain ai\.onnx opset 29; kiln imports opsets 7 to 28/,
    );
    expect(unsupportedError(singleOp('Relu', [x4], [y4], {}, { opset: 6 })).category).toBe('opset');
    const ms = encodeModel(
      model({
        nodes: [node('FusedGemm', ['x'], ['y'], {}, { domain: 'com.microsoft', name: 'fg' })],
        inputs: [x4],
        outputs: [y4],
        extraImports: [{ domain: 'com.microsoft', version: 1 }],
      }),
    );
    const err = unsupportedError(ms);
    expect(err.category).toBe('domain');
    expect(err.message).toMatch(/node 'fg' \(FusedGemm.*op FusedGemm from domain 'com\.microsoft'/);
  });

  it('rejects an op version outside the rows mapped for it', () => {
    const err = unsupportedError(singleOp('Gelu', [x4], [y4], {}, { opset: 19 }));
    expect(err.message).toMatch(/Gelu in opset 19 is not mapped \(kiln maps Gelu for opsets 20-28\)/);
  });

  it('names the dtype for unsupported element types and op/dtype combinations', () => {
    const f8 = unsupportedError(singleOp('Relu', [valueInfo('x', DT.FLOAT8E5M2, [2])], [valueInfo('y', DT.FLOAT8E5M2, [2])]));
    // Refused at the node that reads the input, so the message names node and op.
    expect(f8.message).toMatch(/m\.onnx: node 'relu_node' \(Relu, opset 17, outputs 'y'\): unsupported: input 'x' has dtype float8e5m2; kiln has no 8-bit or 4-bit float dtypes/);
    const unread = unsupportedError(singleOp('Relu', [x4, valueInfo('spare', DT.FLOAT8E5M2, [2])], [y4], {}, { nodeInputs: ['x'] }));
    expect(unread.message).toMatch(/unsupported: input 'spare' has dtype float8e5m2; .*; no node reads it \(drop it from the graph's inputs\)$/);
    const sqrt = unsupportedError(singleOp('Sqrt', [valueInfo('x', DT.INT32, [2])], [valueInfo('y', DT.INT32, [2])]));
    expect(sqrt.category).toBe('dtype');
    expect(sqrt.message).toMatch(/node 'sqrt_node' \(Sqrt, opset 17, outputs 'y'\): unsupported: Sqrt on i32: kiln's Sqrt takes float dtypes only/);
    const cast = unsupportedError(singleOp('Cast', [x4], [valueInfo('y', DT.STRING, [2, 2])], { to: attrInt(DT.STRING) }));
    expect(cast.message).toMatch(/Cast to string \(output 'y'\) has dtype string/);
  });

  it('rejects used optional outputs kiln does not compute, and training mode', () => {
    const mask = singleOp('Dropout', [x4], [y4, valueInfo('mask', DT.BOOL, [2, 2])]);
    expect(unsupportedError(mask).message).toMatch(/Dropout output 1 \(mask\) is used/);
    const unusedMask = encodeModel(model({ nodes: [node('Dropout', ['x'], ['y', 'mask'])], inputs: [x4], outputs: [y4] }));
    expect(importOnnx(unusedMask).graph.outputs).toEqual(['y']);
    const bn = singleOp('BatchNormalization', [x4], [y4], { training_mode: attrInt(1) }, { opset: 15 });
    expect(unsupportedError(bn).message).toMatch(/training_mode=1 \(kiln compiles inference/);
  });

  it('rejects attribute values kiln does not implement, naming them', () => {
    const up = singleOp('Upsample', [x4], [valueInfo('y', DT.FLOAT, [4, 4])], { mode: attrString('cubic'), scales: { type: 6, floats: [2, 2] } }, { opset: 8 });
    expect(unsupportedError(up).message).toMatch(/Upsample mode 'cubic'/);
    const conv = singleOp('LeakyRelu', [x4], [y4], { alpha: attrFloat(0.1), beta: attrInts([1]) });
    expect(unsupportedError(conv).message).toMatch(/LeakyRelu attribute 'beta' \(kiln's LeakyRelu has no such attribute\)/);
  });

  it('reports invalid models as OnnxImportError with the node', () => {
    const bytes = encodeModel(model({ nodes: [node('Relu', ['nowhere'], ['y'])], inputs: [], outputs: [y4] }));
    expect(() => importOnnx(bytes, { file: 'bad.onnx' })).toThrow(OnnxImportError);
    expect(() => importOnnx(bytes, { file: 'bad.onnx' })).toThrow(/bad\.onnx: node \(Relu.*input 'nowhere' is not defined/);
    expect(() => importOnnx('/nonexistent/model.onnx')).toThrow(/\/nonexistent\/model\.onnx: cannot read the model: ENOENT/);
    expect(() => importOnnx(new Uint8Array(0), { file: 'e.onnx' })).toThrow('e.onnx: not a valid ONNX model: the file is empty');
  });
});
