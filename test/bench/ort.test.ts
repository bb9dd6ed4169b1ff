// scripts/lib/ort.ts, the one place that decides whether onnxruntime-node (the benchmarks' reference engine) is
// there: absent, it says what is missing and how to get it in one line, and with KILN_REQUIRE_ORT=1 (CI) it fails.
// Then the real module: installed with its download skipped (package.json's allowScripts, ONNXRUNTIME_NODE_INSTALL=
// skip), its bundled CPU provider must still load and run a model. Absent here, that part is skipped with the reason
// printed, unless KILN_REQUIRE_ORT=1, where loading it throws and fails this file.
import { describe, expect, it } from 'vitest';
import { type Ort, checkOrt, loadOrt, ortOrSkip } from '../../scripts/lib/ort.js';
import { DT, encodeModel, model, node, valueInfo } from '../../scripts/lib/onnx-build.js';

const notFound = (): Ort => {
  throw Object.assign(new Error("Cannot find module 'onnxruntime-node'\nRequire stack:\n- /x/scripts/lib/ort.ts"), { code: 'MODULE_NOT_FOUND' });
};
const brokenBinding = (): Ort => {
  throw new Error('libonnxruntime.so.1: cannot open shared object file: No such file or directory');
};

describe('checkOrt', () => {
  it('passes the module through', () => {
    const fake = { fake: true } as unknown as Ort;
    expect(checkOrt(() => fake, true)).toEqual({ ort: fake });
  });

  it('not installed: one line, what is missing and how to get it', () => {
    const { ort, missing } = checkOrt(notFound, false);
    expect(ort).toBeUndefined();
    expect(missing).toMatch(/^onnxruntime-node is not installed: run `bash scripts\/setup.sh` \(or `ONNXRUNTIME_NODE_INSTALL=skip npm install`\)$/);
  });

  it('installed but not loadable: the loader error, on one line', () => {
    const { missing } = checkOrt(brokenBinding, false);
    expect(missing).toContain(`onnxruntime-node does not load on ${process.platform}/${process.arch} (libonnxruntime.so.1: cannot open shared object file`);
    expect(missing).not.toContain('\n');
  });

  it('required (KILN_REQUIRE_ORT=1): absence throws', () => {
    expect(() => checkOrt(notFound, true)).toThrow(/^KILN_REQUIRE_ORT=1, but onnxruntime-node is not installed/);
    expect(() => checkOrt(brokenBinding, true)).toThrow(/^KILN_REQUIRE_ORT=1, but onnxruntime-node does not load/);
  });
});

// Throws here, failing the file, when KILN_REQUIRE_ORT=1 and the module is absent.
const { ort } = loadOrt();
// Absent and not required: the reason goes to the test output, once.
ortOrSkip('test/bench/ort.test.ts', 'skipping the onnxruntime-node checks below');

describe.skipIf(!ort)('onnxruntime-node as installed', () => {
  it('ships its CPU and WebGPU providers in the package (the skipped download is only CUDA/TensorRT)', () => {
    const backends = ort!.listSupportedBackends();
    expect(backends).toContainEqual({ name: 'cpu', bundled: true });
    expect(backends).toContainEqual({ name: 'webgpu', bundled: true });
  });

  it('runs a model on the CPU provider', async () => {
    const bytes = encodeModel(
      model({
        nodes: [node('Add', ['x', 'y'], ['z'])],
        inputs: [valueInfo('x', DT.FLOAT, [2]), valueInfo('y', DT.FLOAT, [2])],
        outputs: [valueInfo('z', DT.FLOAT, [2])],
      }),
    );
    const session = await ort!.InferenceSession.create(bytes, { executionProviders: ['cpu'] });
    try {
      const x = new ort!.Tensor('float32', Float32Array.of(1, 2), [2]);
      const y = new ort!.Tensor('float32', Float32Array.of(10, 20), [2]);
      const { z } = await session.run({ x, y });
      expect(Array.from(z!.data as Float32Array)).toEqual([11, 22]);
    } finally {
      await session.release();
    }
  });
});
