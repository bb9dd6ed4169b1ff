// A real exported transformer with dynamic axes, compiled once: tiny-distilbert-sst2 (PyTorch export, opset 11,
// input_ids/attention_mask [batch, sequence], Shape -> Gather -> Concat -> Reshape chains) imported with symbolic
// dims, compiled with batch 1..4 and sequence 1..128, then run at batch 1 with sequence lengths 1, 6, 64 and 128
// and at the reference batch 2 x 8 (with padding): logits within 1e-4 of the interpreter, the ORT references
// matched where they exist, and no pipeline, shader module, bind group or buffer created by any run().
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileGraph } from '../../compiler/compile.js';
import { artifactFiles } from '../../compiler/emit/in-memory.js';
import { bindSymbols, interpret, makeTensor, toleranceExcess } from '../../ir/index.js';
import { importOnnx, readRawTensorProto, readTensorProtoFile } from '../../ir/import/onnx/index.js';
import { Session } from '../../runtime/index.js';
import { compareValues } from '../../scripts/lib/onnx-conformance.js';
import { haveShared, sharedDir } from '../../scripts/lib/shared.js';
import { creations } from './creations.js';
import { testGpu } from './harness.js';



describe.runIf(haveShared())('tiny-distilbert with symbolic batch and sequence on the adapter', () => {
  const dir = haveShared() ? join(sharedDir()!, 'models', 'tiny-distilbert-sst2') : '';

  it('one artifact runs batch 1 at sequence 1, 6, 64 and 128 and the padded 2 x 8 reference, creating nothing per run', async () => {
    const gpu = await testGpu();
    const { graph } = importOnnx(join(dir, 'model.onnx'));
    const ranged = bindSymbols(graph, { batch: { min: 1, max: 4 }, sequence: { min: 1, max: 128 } });
    const artifact = compileGraph(ranged, { source: 'tiny-distilbert', target: { shaderF16: false } });
    expect(artifact.manifest.symbols).toEqual([
      { name: 'batch', min: 1, max: 4 },
      { name: 'sequence', min: 1, max: 128 },
    ]);
    const session = await Session.load(artifactFiles(artifact, 'memory:distilbert'), { device: gpu.acquired });
    try {
      const cases: { ids: ReturnType<typeof makeTensor>; mask: ReturnType<typeof makeTensor>; ref?: string }[] = [];
      for (const seq of [1, 6, 64, 128]) {
        const ids = makeTensor('i32', [1, seq], (i) => (i * 7919 + 101) % 30522);
        // Mask the last quarter of longer inputs, as a padded batch has it.
        const mask = makeTensor('i32', [1, seq], (i) => (seq > 4 && i >= seq - Math.floor(seq / 4) ? 0 : 1));
        cases.push({ ids, mask });
      }
      const ref = join(dir, 'reference', 'test_data_set_1');
      cases.push({ ids: readTensorProtoFile(join(ref, 'input_0.pb')), mask: readTensorProtoFile(join(ref, 'input_1.pb')), ref: join(ref, 'output_0.pb') });
      for (const c of cases) {
        const want = interpret(graph, { input_ids: c.ids, attention_mask: c.mask }).logits!;
        let got: Awaited<ReturnType<Session['run']>> = {};
        const made = await creations(session.device, async () => {
          got = await session.run({ input_ids: { data: c.ids.data, shape: c.ids.shape }, attention_mask: { data: c.mask.data, shape: c.mask.shape } });
        });
        const where = `batch ${c.ids.shape[0]}, sequence ${c.ids.shape[1]}`;
        expect(made, `objects created by run() at ${where}`).toBe(0);
        const logits = makeTensor('f32', got.logits!.shape, Float64Array.from(got.logits!.data));
        expect(logits.shape).toEqual(want.shape);
        expect(toleranceExcess(logits, want, 0, 1e-4), where).toBe(0);
        if (c.ref) expect(compareValues(logits, readRawTensorProto(c.ref), 0, 1e-4)).toBeUndefined();
      }
    } finally {
      session.dispose();
    }
  }, 600_000);
});

// mnist-8 was exported with a fixed batch ([1,1,28,28], and a Reshape to the constant [1,256]). --input-shape
// makes the batch symbolic; the constant Reshape follows the symbol. One artifact then runs any batch in 1..16.
describe.runIf(haveShared())('mnist-8 with its batch made symbolic on the adapter', () => {
  const dir = haveShared() ? join(sharedDir()!, 'models', 'mnist-8') : '';

  it('one artifact runs batch 1, 4 (the four reference digits) and 16, each row as the reference says, creating nothing per run', async () => {
    const gpu = await testGpu();
    const { graph, notes } = importOnnx(join(dir, 'model.onnx'), { inputShapes: { Input3: ['batch', 1, 28, 28] }, symbols: { batch: { min: 1, max: 16 } } });
    expect(notes.some((n) => n.includes('takes the symbol batch'))).toBe(true);
    const artifact = compileGraph(graph, { source: 'mnist-8', target: { shaderF16: false } });
    expect(artifact.manifest.symbols).toEqual([{ name: 'batch', min: 1, max: 16 }]);
    const refs = [0, 1, 2, 3].map((k) => join(dir, 'reference', `test_data_set_${k}`));
    const digits = refs.map((r) => readTensorProtoFile(join(r, 'input_0.pb')));
    const want = refs.map((r) => readRawTensorProto(join(r, 'output_0.pb')));
    const session = await Session.load(artifactFiles(artifact, 'memory:mnist-batch'), { device: gpu.acquired });
    try {
      for (const batch of [1, 4, 16]) {
        // Row r is reference digit r % 4, so every row has an ORT output to match.
        const x = makeTensor('f32', [batch, 1, 28, 28], (i) => digits[Math.floor(i / 784) % 4]!.data[i % 784]!);
        let got: Awaited<ReturnType<Session['run']>> = {};
        const made = await creations(session.device, async () => {
          got = await session.run({ Input3: { data: Float32Array.from(x.data), shape: x.shape } });
        });
        expect(made, `objects created by run() at batch ${batch}`).toBe(0);
        const out = got.Plus214_Output_0!;
        expect(out.shape).toEqual([batch, 10]);
        const logits = makeTensor('f32', [batch, 10], Float64Array.from(out.data));
        expect(toleranceExcess(logits, interpret(graph, { Input3: x }).Plus214_Output_0!, 1e-4, 1e-4), `batch ${batch} vs interpreter`).toBe(0);
        for (let r = 0; r < batch; r++) {
          const row = makeTensor('f32', [1, 10], Float64Array.from(out.data.slice(r * 10, r * 10 + 10)));
          expect(compareValues(row, want[r % 4]!, 1e-3, 1e-4), `batch ${batch} row ${r}`).toBeUndefined();
        }
      }
    } finally {
      session.dispose();
    }
  }, 600_000);
});
