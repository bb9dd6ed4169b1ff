// What `kiln compile` compiles, by the model file's kind: an ONNX model; a .kir graph (its `param`s bound to a
// safetensors checkpoint with --weights); or a Hugging Face config.json with --weights (a decoder becomes a
// prefill + decode program with a KV cache, an encoder a single entry). The result is a Program for compileProgram.
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';
import { bindSymbols, bindWeights, importHf, importOnnx, openCheckpoint } from '../../ir/index.js';
import type { SymbolBound } from '../../ir/shape.js';
import type { Program } from '../compile.js';
import { UsageError } from './errors.js';
import { type Output, loadKir } from './ir-commands.js';

export interface LoadOptions {
  /** --dim: a size specialises a symbol, a range narrows its bounds and keeps it symbolic. */
  readonly dims: Record<string, number | SymbolBound>;
  /** --input-shape (ONNX only): an input's dims replaced, a fixed one made symbolic. */
  readonly inputShapes?: Record<string, (number | string)[]>;
  readonly weights?: string;
  readonly maxSeq?: string;
  readonly chunk?: string;
  readonly seq?: string;
}

function positiveInt(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`${flag} ${value}: expected a positive integer`);
  return n;
}

function requireFile(path: string): void {
  if (!existsSync(path)) throw new UsageError(`cannot read ${path}: no such file`);
}

/** tokenizer.json next to the config or in the checkpoint's folder, shipped with the artifact for --prompt. */
function findTokenizer(configPath: string, weights: string): Uint8Array | undefined {
  const folders = [dirname(configPath), existsSync(weights) && !extname(weights) ? weights : dirname(weights)];
  for (const f of folders) if (existsSync(join(f, 'tokenizer.json'))) return new Uint8Array(readFileSync(join(f, 'tokenizer.json')));
  return undefined;
}

export function loadProgram(path: string, opts: LoadOptions, io: Output): { program: Program; declared: ReadonlyMap<string, string> } {
  const ext = extname(path).toLowerCase();
  const declaredNone = new Map<string, string>();
  if (ext !== '.onnx' && Object.keys(opts.inputShapes ?? {}).length) throw new UsageError(`--input-shape applies to ONNX models; ${basename(path)} declares its inputs itself (use --dim for its symbols)`);
  if (ext === '.kir') {
    let graph = bindSymbols(loadKir(path), opts.dims);
    if (opts.weights) {
      requireFile(opts.weights);
      const bound = bindWeights(graph, openCheckpoint(opts.weights));
      graph = bound.graph;
      if (bound.unused.length) io.err(`note: ${bound.unused.length} tensor(s) in ${basename(opts.weights)} are not used by the graph: ${bound.unused.slice(0, 8).join(', ')}${bound.unused.length > 8 ? ', ...' : ''}`);
    }
    return { program: { name: graph.name, entries: { run: { graph } } }, declared: declaredNone };
  }
  if (ext === '.onnx') {
    requireFile(path);
    if (opts.weights) throw new UsageError(`--weights applies to .kir graphs and config.json; ${basename(path)} carries its own weights`);
    const { graph, notes, declaredDtypes } = importOnnx(path, { symbols: opts.dims, ...(opts.inputShapes ? { inputShapes: opts.inputShapes } : {}) });
    for (const n of notes) io.err(`note: ${n}`);
    return { program: { name: graph.name, entries: { run: { graph } } }, declared: declaredDtypes };
  }
  if (ext === '.json') {
    requireFile(path);
    if (!opts.weights) throw new UsageError(`${basename(path)}: a Hugging Face config.json needs --weights <model.safetensors | model.safetensors.index.json | folder>`);
    requireFile(opts.weights);
    const model = importHf(path, {
      weights: opts.weights,
      ...(opts.maxSeq ? { maxSeq: positiveInt('--max-seq', opts.maxSeq)! } : {}),
      ...(opts.chunk ? { chunk: positiveInt('--chunk', opts.chunk)! } : {}),
      ...(opts.seq ? { seq: positiveInt('--seq', opts.seq)! } : {}),
    });
    for (const n of model.notes) io.err(`note: ${n}`);
    const tokenizer = findTokenizer(path, opts.weights);
    return {
      program: {
        name: model.family,
        entries: model.entries,
        ...(model.generation ? { generation: model.generation } : {}),
        ...(tokenizer ? { tokenizer } : {}),
      },
      declared: declaredNone,
    };
  }
  throw new UsageError(`${path}: kiln compiles .onnx models, .kir graphs and Hugging Face config.json files; '${ext || 'no extension'}' is not a model format it knows`);
}
