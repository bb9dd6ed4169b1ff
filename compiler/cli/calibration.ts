// `--calibrate <dir>`: sample inputs for structured pruning's calibration (passes/prune/calibrate.ts). The folder
// holds one subfolder per sample (or the files of a single sample), each with one file per graph input named after
// the input (<name>.json, .npy or .pb) or, as ONNX test data is laid out, input_<k>.pb for the k-th input.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { type Tensor, type ValueDecl, makeTensor, readTensorProtoFile, tensorType } from '../../ir/index.js';
import { onPath } from '../io/fs-errors.js';
import { tensorFromJson } from '../io/json-tensor.js';
import { readNpy } from '../io/npy.js';
import { UsageError } from './errors.js';
import { readText } from './files.js';

function readSample(dir: string, inputs: readonly ValueDecl[]): Record<string, Tensor> {
  const sample: Record<string, Tensor> = {};
  inputs.forEach((decl, k) => {
    const names = [`${decl.name}.json`, `${decl.name}.npy`, `${decl.name}.pb`, `input_${k}.pb`];
    const file = names.map((n) => join(dir, n)).find((f) => existsSync(f));
    if (!file) throw new UsageError(`--calibrate: ${dir} has no file for input ${decl.name} (expected one of ${names.join(', ')})`);
    let t: { data: ArrayLike<number>; shape: readonly number[] };
    if (file.endsWith('.json')) t = tensorFromJson(readText(file), file, tensorType(decl.type.dtype, decl.type.shape.map((d) => (typeof d === 'number' ? d : '?'))));
    else if (file.endsWith('.npy')) t = onPath(file, 'read', () => readNpy(new Uint8Array(readFileSync(file)), file));
    else t = readTensorProtoFile(file);
    const shape = t.shape;
    if (shape.length !== decl.type.shape.length || shape.some((d, i) => typeof decl.type.shape[i] === 'number' && d !== decl.type.shape[i]))
      throw new UsageError(`--calibrate: ${file} has shape [${shape.join(',')}], input ${decl.name} is [${decl.type.shape.join(',')}] (bind its symbolic dims with --dim)`);
    sample[decl.name] = makeTensor(decl.type.dtype, shape, t.data);
  });
  return sample;
}

/** Every sample of the folder, in name order. */
export function readCalibration(dir: string, inputs: readonly ValueDecl[]): Record<string, Tensor>[] {
  const entries = onPath(dir, 'read', () => readdirSync(dir).sort((a, b) => a.localeCompare(b, 'en', { numeric: true })));
  const folders = entries.map((e) => join(dir, e)).filter((p) => statSync(p).isDirectory());
  const samples = (folders.length ? folders : [dir]).map((f) => readSample(f, inputs));
  if (!samples.length) throw new UsageError(`--calibrate: ${dir} holds no samples`);
  return samples;
}
