// Real models end to end through import and the reference interpreter: mnist-8 (a CNTK CNN, IR 3, opset 8) and
// tiny-distilbert-sst2 (a PyTorch transformer export, opset 11, dynamic batch and sequence bound at import).
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { evaluateAll, interpret } from '../../ir/interp.js';
import { importOnnx, readRawTensorProto, readTensorProtoFile } from '../../ir/import/onnx/index.js';
import { haveShared, sharedDir } from '../../scripts/lib/shared.js';
import { compareValues } from '../../scripts/lib/onnx-conformance.js';

const models = haveShared() ? join(sharedDir()!, 'models') : '';

describe.runIf(haveShared())('mnist-8', () => {
  const dir = join(models, 'mnist-8');
  const { graph } = importOnnx(join(dir, 'model.onnx'));

  it.each([
    [0, 0],
    [1, 3],
    [2, 5],
    [3, 7],
  ])('test set %i reads digit %i, logits within 1e-4 of onnxruntime', (set, digit) => {
    const data = join(dir, 'reference', `test_data_set_${set}`);
    const out = interpret(graph, { Input3: readTensorProtoFile(join(data, 'input_0.pb')) });
    const logits = out.Plus214_Output_0!;
    const best = logits.data.indexOf(Math.max(...logits.data));
    expect(best).toBe(digit);
    expect(compareValues(logits, readRawTensorProto(join(data, 'output_0.pb')), 0, 1e-4)).toBeUndefined();
  });

  it('has the CNN structure, with the initializer inputs as constants', () => {
    expect(graph.inputs.map((i) => i.name)).toEqual(['Input3']);
    expect(graph.nodes.map((n) => n.op)).toEqual(['Conv', 'Add', 'Relu', 'MaxPool', 'Conv', 'Add', 'Relu', 'MaxPool', 'Reshape', 'MatMul', 'Add']);
  });
});

describe.runIf(haveShared())('tiny-distilbert-sst2', () => {
  const dir = join(models, 'tiny-distilbert-sst2');
  // Intermediate tensors stored by their ONNX value names (see the model's SOURCE.md).
  const intermediates = ['130', '244', '282', '294', '297'];

  // One symbolic import serves every size: the Shape -> Gather -> Concat -> Reshape chains fold to symbolic shapes.
  const symbolic = haveShared() ? importOnnx(join(dir, 'model.onnx')) : undefined;

  it('imports with symbolic batch and sequence: shape chains fold to symbolic attributes', () => {
    const { graph } = symbolic!;
    expect(graph.inputs.map((i) => i.type.shape)).toEqual([['batch', 'sequence'], ['batch', 'sequence']]);
    expect(graph.nodes.some((n) => n.op === 'Shape')).toBe(false);
    const reshapes = graph.nodes.filter((n) => n.op === 'Reshape').map((n) => n.attrs.shape);
    expect(reshapes).toContainEqual(['batch', -1, 2, 1]);
    expect(reshapes).toContainEqual(['batch', 1, 1, 'sequence']);
    expect(graph.nodes.find((n) => n.op === 'Slice')!.attrs.ends).toEqual(['sequence']);
    expect(graph.types.get('logits')!.shape).toEqual(['batch', 2]);
  });

  it.each([
    [0, 'symbolic'],
    [1, 'symbolic'],
    [0, 'bound'],
    [1, 'bound'],
  ])('test set %i (%s dims): logits and every reference intermediate within 1e-4', (set, how) => {
    const data = join(dir, 'reference', `test_data_set_${set}`);
    const ids = readTensorProtoFile(join(data, 'input_0.pb'));
    const mask = readTensorProtoFile(join(data, 'input_1.pb'));
    const [batch, sequence] = ids.shape as [number, number];
    const { graph, notes } = how === 'symbolic' ? symbolic! : importOnnx(join(dir, 'model.onnx'), { symbols: { batch, sequence } });
    expect(notes).toContain("input 'input_ids': int64 narrowed to i32 (the runtime range-checks values)");
    const env = evaluateAll(graph, { input_ids: ids, attention_mask: mask });
    expect(compareValues(env.get('logits')!, readRawTensorProto(join(data, 'output_0.pb')), 0, 1e-4)).toBeUndefined();
    for (const name of intermediates) {
      const expected = readRawTensorProto(join(dir, 'reference_intermediate', `test_data_set_${set}`, `${name}.pb`));
      expect(compareValues(env.get(name)!, expected, 0, 1e-4), `tensor ${name}`).toBeUndefined();
    }
  });
});
