// onnxruntime's side of the sparse benchmark: the dense product as one ONNX MatMul, y[n, M] = x[n, K] . W[K, M]
// with W = A^T an f16 initializer, built in memory with protobufjs from the ONNX schema (as synthetic.ts does). N is
// a symbolic dim, so one session per weight serves every N. The session is created with CPU fallback disabled:
// the WebGPU EP silently hands ops it lacks to the CPU EP, and a number measured that way would not be a WebGPU
// timing, so a model that needs the fallback fails to load and its timings are reported as null. The module comes
// through scripts/lib/ort.ts, which says what is missing when it is absent (bench/sparse.ts checks that once).
import protobuf from 'protobufjs/light.js';
import type * as ort from 'onnxruntime-node';
import { requireOrt } from '../../scripts/lib/ort.js';
import { f16BitsOf } from '../../ir/index.js';
import { ONNX_SCHEMA } from '../../ir/import/onnx/onnx-schema.js';
import { f16FromBits } from '../../runtime/codec.js';

const FLOAT16 = 10;

/** The model's bytes; `wT` is W = A^T as [K, M] row-major, already f16-rounded. */
export function matMulModel(wT: Float32Array, k: number, m: number): Uint8Array {
  const raw = f16Words(wT);
  const tensor = (name: string, dims: object[]): object => ({ name, type: { tensor_type: { elem_type: FLOAT16, shape: { dim: dims } } } });
  const model = {
    ir_version: 8,
    opset_import: [{ domain: '', version: 17 }],
    producer_name: 'kiln-bench-sparse',
    graph: {
      name: `matmul_${k}x${m}`,
      node: [{ op_type: 'MatMul', input: ['x', 'w'], output: ['y'] }],
      initializer: [{ name: 'w', data_type: FLOAT16, dims: [k, m], raw_data: new Uint8Array(raw.buffer) }],
      input: [tensor('x', [{ dim_param: 'n' }, { dim_value: k }])],
      output: [tensor('y', [{ dim_param: 'n' }, { dim_value: m }])],
    },
  };
  const type = protobuf.Root.fromJSON(ONNX_SCHEMA).lookupType('onnx.ModelProto');
  return type.encode(type.fromObject(model)).finish();
}

/** f16 bit patterns (ORT's float16 tensors and raw_data hold these, little-endian). */
export function f16Words(values: ArrayLike<number>): Uint16Array {
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = f16BitsOf(values[i]!);
  return out;
}

/** A WebGPU-EP session that refuses CPU fallback (see the header). */
export function strictWebGpuSession(model: Uint8Array): Promise<ort.InferenceSession> {
  return requireOrt().InferenceSession.create(model, {
    executionProviders: ['webgpu'],
    graphOptimizationLevel: 'all',
    logSeverityLevel: 3,
    extra: { session: { disable_cpu_ep_fallback: '1' } },
  });
}

/** x[n, K] as an ORT float16 tensor (bits made once, outside the timed runs, as kiln's input is a ready array). */
export const f16Tensor = (bits: Uint16Array, dims: readonly number[]): ort.Tensor => new (requireOrt().Tensor)('float16', bits, [...dims]);

/** One run; y decoded from f16 bits to numbers. */
export async function runMatMul(session: ort.InferenceSession, x: ort.Tensor): Promise<Float32Array> {
  const out = await session.run({ x });
  const y = out.y!.data as Uint16Array;
  return Float32Array.from(y, f16FromBits);
}
