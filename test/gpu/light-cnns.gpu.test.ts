// The nine classic CNNs of ONNX's "light" model tests (AlexNet, DenseNet-121, Inception v1/v2, ResNet-50,
// ShuffleNet, SqueezeNet, VGG-19, ZFNet-512; opset 9, every weight a ConstantOfShape) imported, compiled and run
// on the adapter, compared with ONNX's expected outputs at the tolerances of real-data-json (rtol 1e-3 or 2e-3,
// atol 1e-7). The input is the ONNX runner's: arange(n).reshape(shape) / n in f32, dynamic dims set to 1. With
// constant weights the outputs are nearly uniform, so this checks that whole graphs (LRN, grouped Conv, Concat
// chains, 1746 nodes) import, plan and execute, more than their numerics. Needs ../shared (CI requires it).
//
// Time, measured on lavapipe with 2 shared CPU cores: 2-3 minutes with Mesa's shader cache warm (VGG-19, the
// heaviest, about a minute); about 20 minutes cold, as on a fresh CI machine, where most of the time goes to
// llvmpipe compiling each distinct kernel at its first dispatch (3-15 s per conv kernel; DenseNet and the
// Inceptions take 4-5 minutes each). Hence the per-net timeout.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeModel, importOnnx, makeTensor, readRawTensorProto } from '../../ir/index.js';
import { isStaticShape, numel } from '../../ir/shape.js';
import { compareValues } from '../../scripts/lib/onnx-conformance.js';
import { haveShared, sharedDir } from '../../scripts/lib/shared.js';
import { runGraphOnGpu } from './graph-harness.js';

const COLD_JIT_TIMEOUT_MS = 900_000;
const NETS = ['bvlc_alexnet', 'densenet121', 'inception_v1', 'inception_v2', 'resnet50', 'shufflenet', 'squeezenet', 'vgg19', 'zfnet512'];
const light = haveShared() ? join(sharedDir()!, 'onnx-node-tests', 'light') : '';

describe.runIf(haveShared())('ONNX light CNNs on the adapter', () => {
  it.each(NETS)('%s matches its expected output', async (net) => {
    const { rtol, atol } = JSON.parse(readFileSync(join(light, 'real-data-json', `test_${net}.json`), 'utf8')) as { rtol: number; atol: number };
    const file = join(light, `light_${net}.onnx`);
    // Dynamic dims are set to 1, as the ONNX runner does.
    const bytes = readFileSync(file);
    const params = decodeModel(bytes, file).graph!.input.flatMap((i) => i.type?.tensor_type?.shape?.dim.map((d) => d.dim_param ?? '') ?? []);
    const { graph } = importOnnx(file, { symbols: Object.fromEntries(params.filter((p) => p !== '').map((p) => [p, 1])) });
    expect(graph.inputs).toHaveLength(1);
    expect(graph.outputs).toHaveLength(1);
    const decl = graph.inputs[0]!;
    const shape = decl.type.shape;
    if (!isStaticShape(shape)) throw new Error(`${net}: input '${decl.name}' has symbolic shape [${shape.join(',')}]`);
    const n = numel(shape);
    const input = makeTensor('f32', shape, (i) => i / n);
    const out = await runGraphOnGpu(graph, { [decl.name]: input });
    const expected = readRawTensorProto(join(light, `light_${net}_output_0.pb`));
    expect(compareValues(out[graph.outputs[0]!]!, expected, rtol, atol)).toBeUndefined();
  }, COLD_JIT_TIMEOUT_MS);
});
