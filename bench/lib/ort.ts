// onnxruntime-node helpers for the benchmarks: sessions on an execution provider, feeds from decoded TensorProtos,
// outputs as plain numbers. The WebGPU EP runs on Dawn's default adapter (lavapipe on a machine without a GPU),
// the same adapter kiln gets through the `webgpu` package. The module comes through scripts/lib/ort.ts, which says
// what is missing when it is absent (bench/models.ts checks that once, before calling these).
import type * as ort from 'onnxruntime-node';
import { requireOrt } from '../../scripts/lib/ort.js';
import type { RawTensor } from './inputs.js';

export type OrtEp = 'webgpu' | 'cpu';

export async function ortSession(model: Uint8Array, ep: OrtEp): Promise<ort.InferenceSession> {
  const { InferenceSession } = requireOrt();
  try {
    return await InferenceSession.create(model, { executionProviders: [ep], graphOptimizationLevel: 'all', logSeverityLevel: 3 });
  } catch (e) {
    throw new Error(`onnxruntime-node could not create a session on the ${ep} EP: ${(e as Error).message}`);
  }
}

/** ONNX TensorProto.DataType -> an ORT tensor built from decoded values. */
export function ortTensor(t: RawTensor): ort.Tensor {
  const { Tensor } = requireOrt();
  const dims = [...t.dims];
  const v = t.values;
  switch (t.onnxType) {
    case 1:
      return new Tensor('float32', Float32Array.from(v), dims);
    case 11:
      return new Tensor('float64', Float64Array.from(v), dims);
    case 6:
      return new Tensor('int32', Int32Array.from(v), dims);
    case 7:
      return new Tensor('int64', BigInt64Array.from(v, (x) => BigInt(x)), dims);
    case 2:
      return new Tensor('uint8', Uint8Array.from(v), dims);
    case 3:
      return new Tensor('int8', Int8Array.from(v), dims);
    case 9:
      return new Tensor('bool', Uint8Array.from(v), dims);
    default:
      throw new Error(`input '${t.name}': ONNX data type ${t.onnxType} is not handled by the benchmark's ORT feeds`);
  }
}

export const ortFeeds = (inputs: readonly RawTensor[]): Record<string, ort.Tensor> => Object.fromEntries(inputs.map((t) => [t.name, ortTensor(t)]));

/** Run once and return every output's values as numbers (int64 converted). */
export async function ortRun(session: ort.InferenceSession, feeds: Record<string, ort.Tensor>): Promise<Record<string, Float64Array>> {
  const out = await session.run(feeds);
  return Object.fromEntries(
    Object.entries(out).map(([k, t]) => [k, Float64Array.from(t.data as ArrayLike<number | bigint>, (x) => Number(x))]),
  );
}
