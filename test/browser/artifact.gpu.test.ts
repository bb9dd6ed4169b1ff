// Compiled artifacts in a real browser: headless Chromium imports the artifact's model.js over HTTP and runs it
// on navigator.gpu; the outputs must match the same artifact run in Node (and the interpreter, and for mnist-8
// the ORT reference outputs).
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileGraph } from '../../compiler/compile.js';
import { writeArtifact } from '../../compiler/emit/write.js';
import { type Graph, interpret, makeTensor, parseKir } from '../../ir/index.js';
import { haveShared, sharedDir } from '../../scripts/lib/shared.js';
import { type PlainOutputs, checkArtifactInBrowser, compareOutputs } from './browser-harness.js';

const SMALL = `graph @browser_small(%x: f32[2,3], %y: f32[3]) {
  const %c: f32[3] = [1, 2, 3]
  const %s: f32[3,2] = [0.5, -0.25, 2, 1, -1, 0.125]
  %a = Add(%x, %y)
  %b = Mul(%a, %c)
  %r = Reshape(%b) {shape = [3, 2]}
  %e = Sigmoid(%r)
  %t = Tanh(%e)
  %u = Sub(%t, %s)
  %v = Relu(%u)
  return %v, %b
}`;

function compileTo(g: Graph, source: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-browser-'));
  writeArtifact(dir, compileGraph(g, { source }));
  return dir;
}

describe('artifacts in headless Chromium', () => {
  it('give the same outputs as in Node and as the interpreter (small elementwise graph)', async () => {
    const g = parseKir(SMALL, 'browser-small.kir');
    const x = [1, -2, 3, 0.5, 5, -6];
    const y = [0.5, -1, 0.25];
    const { browser, node, maxAbsDiff } = await checkArtifactInBrowser(compileTo(g, 'browser-small.kir'), { x, y });
    console.log(`browser adapter: ${browser.adapter}; node adapter: ${node.adapter}; max |browser - node| = ${maxAbsDiff}`);
    const want = interpret(g, { x: makeTensor('f32', [2, 3], x), y: makeTensor('f32', [3], y) });
    const ref: PlainOutputs = Object.fromEntries(Object.entries(want).map(([k, t]) => [k, { dtype: t.dtype, shape: [...t.shape], data: Array.from(t.data) }]));
    expect(compareOutputs(browser.outputs, ref, { rtol: 1e-5, atol: 1e-6 }).problems).toEqual([]);
  });

  it.skipIf(!haveShared())('give the same outputs for mnist-8 as in Node, and as the ORT reference', async () => {
    const model = join(sharedDir()!, 'models/mnist-8');
    // Looked up at run time so this file compiles while the ONNX importer is still landing.
    const ir = (await import('../../ir/index.js')) as unknown as Record<string, unknown>;
    const importOnnx = ir.importOnnx as undefined | ((path: string) => { graph: Graph });
    const readTensor = ir.readTensorProtoFile as undefined | ((path: string) => { dtype: string; shape: readonly number[]; data: ArrayLike<number> });
    if (typeof importOnnx !== 'function' || typeof readTensor !== 'function')
      throw new Error('ir/index.js does not export importOnnx and readTensorProtoFile: the ONNX importer (ir/import/onnx) is needed for the mnist-8 case');
    const { graph } = importOnnx(join(model, 'model.onnx'));
    let dir: string;
    try {
      dir = compileTo(graph, 'model.onnx');
    } catch (e) {
      throw new Error(`mnist-8 does not compile yet (it needs Conv, MaxPool and MatMul lowerings): ${(e as Error).message}`);
    }
    const data = join(model, 'reference/test_data_set_0');
    expect(existsSync(join(data, 'input_0.pb')), data).toBe(true);
    const input = readTensor(join(data, 'input_0.pb'));
    const { browser, node, maxAbsDiff } = await checkArtifactInBrowser(dir, { [graph.inputs[0]!.name]: input.data }, { rtol: 1e-4, atol: 1e-4 });
    console.log(`mnist-8: browser adapter ${browser.adapter}; node adapter ${node.adapter}; max |browser - node| = ${maxAbsDiff}`);
    const out = readTensor(join(data, 'output_0.pb'));
    const name = graph.outputs[0]!;
    const ref: PlainOutputs = { [name]: { dtype: out.dtype, shape: [...out.shape], data: Array.from(out.data) } };
    expect(compareOutputs({ [name]: browser.outputs[name]! }, ref, { rtol: 1e-3, atol: 1e-3 }).problems).toEqual([]);
  });
});
