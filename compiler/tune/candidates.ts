// The configurations `kiln tune` times, and the one-matmul programs it times them on. A candidate is compiled
// exactly as `kiln compile --device-profile` would compile the model with that tuning in the profile (same passes,
// same lowering), so what is measured is what a tuned compile produces: for a panel candidate the traffic model
// may still keep a weight row-major, and the table says so.
import { GraphBuilder, makeTensor, tensorType } from '../../ir/index.js';
import type { DeviceProfile, KernelTuning } from '../../passes/index.js';
import { type Artifact, type Program, compileProgram } from '../compile.js';
import type { GemvCase } from './gemv-shapes.js';

export interface Candidate {
  /** 0: row-major (the skinny kernel over the weight as stored), else the panel width. */
  readonly panel: number;
  /** K rows per step of the arranged kernel (ignored by row-major). */
  readonly unroll: 4 | 8;
}

/** Row-major, then panels of 256, 128 and 64 outputs with 4 or 8 K rows per step. */
export const CANDIDATES: readonly Candidate[] = [{ panel: 0, unroll: 4 }, ...[256, 128, 64].flatMap((panel) => ([4, 8] as const).map((unroll) => ({ panel, unroll })))];

export const describeCandidate = (c: Candidate): string => (c.panel ? `panel ${c.panel}, unroll ${c.unroll}` : 'row-major');

export const tuningOf = (c: Candidate): KernelTuning => ({ gemvPanel: c.panel, gemvUnroll: c.unroll });

/** Deterministic values in +-[0.01, 0.06): none zero, so no weight is taken for a sparse one. */
export function seededValues(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const u = s / 2 ** 32 - 0.5;
    out[i] = u < 0 ? u * 0.1 - 0.01 : u * 0.1 + 0.01;
  }
  return out;
}

/** y = x . W for x [rows, K]: MatMul over W [K, M], or Gemm (transB) over W [M, K]. */
export function gemvProgram(c: GemvCase): Program {
  const b = new GraphBuilder(`tune_${c.op.toLowerCase()}_${c.m}x${c.k}`);
  const x = b.input('x', tensorType('f32', [c.rows, c.k]));
  const w = b.constant(makeTensor('f32', c.op === 'MatMul' ? [c.k, c.m] : [c.m, c.k], seededValues(c.m * c.k, 7)), 'w');
  b.output(b.op(c.op, [x, w], c.op === 'Gemm' ? { transB: 1 } : {}, { names: ['y'] }));
  const graph = b.build();
  return { name: graph.name, entries: { run: { graph } } };
}

/** The GEMV compiled under `profile` with candidate `c` as its tuning; `arranged`: whether panels were used. */
export function compileCandidate(c: GemvCase, cand: Candidate, profile: DeviceProfile, program = gemvProgram(c)): { artifact: Artifact; arranged: boolean } {
  const artifact = compileProgram(program, {
    target: { shaderF16: false },
    profile: { ...profile, tuning: tuningOf(cand) },
    weightsDtype: c.elemBytes === 2 ? 'f16' : 'f32',
    layout: 'auto',
  });
  return { artifact, arranged: artifact.manifest.kernels.some((k) => /(^|\/)gemv-arranged[_.]/.test(k.file)) };
}

/** An f32 MatMul of n x n by an n x n weight (the tiled kernel): the flop-rate probe. */
export function gemmArtifact(n: number, profile: DeviceProfile): Artifact {
  const b = new GraphBuilder(`tune_gemm_${n}`);
  const x = b.input('x', tensorType('f32', [n, n]));
  b.output(b.op('MatMul', [x, b.constant(makeTensor('f32', [n, n], seededValues(n * n, 3)), 'w')], {}, { names: ['y'] }));
  const graph = b.build();
  return compileProgram({ name: graph.name, entries: { run: { graph } } }, { target: { shaderF16: false }, profile, layout: 'row-major' });
}
