// A symbolic sequence length in LSTM, GRU and RNN: the expansion unrolls to the symbol's upper bound, so one
// compiled graph serves every length in range. X is first gathered to that many steps (row index min(t, seq - 1),
// so every read lies inside X), each step past the run-time length is masked as sequence_lens masks a row (the
// state passes through, so Y_h/Y_c are the state at step seq - 1 and a reverse pass starts at seq - 1), and Y is
// sliced back to [0, seq). The run-time length reaches the data through DimValues (the dim read from the run's
// dims uniform).
import { dimRange } from '../../../dim.js';
import type { Attrs } from '../../../graph.js';
import { makeTensor, scalarTensor } from '../../../tensor.js';
import type { NodeContext } from '../context.js';
import { unsupported } from '../errors.js';
import type { Config } from './recurrent.js';

type Emit = (op: string, inputs: string[], attrs?: Attrs) => string;

/** Most steps a symbolic sequence length is unrolled to (its upper bound), as many as a Loop unrolled at import. */
export const MAX_SYMBOLIC_STEPS = 1024;

/**
 * The bounds of a symbolic sequence length, which the expansion unrolls to its upper bound; refused when that
 * bound is too large to unroll or the length may be 0.
 */
export function symbolicSteps(cx: NodeContext, dim: string): [number, number] {
  const symbols = cx.values.builder.build().symbols;
  const unknown: string[] = [];
  const [lo, hi] = dimRange(dim, (s) => symbols[s] ?? (unknown.push(s), { min: 0, max: Infinity }));
  const x = cx.type(0).shape;
  const what = `${cx.op} is unrolled at compile time, but the sequence length of '${cx.input(0)}' [${x.join(',')}] is symbolic ('${dim}')`;
  if (unknown.length || hi > MAX_SYMBOLIC_STEPS)
    unsupported(
      'dynamic',
      `${what}; set --dim ${dim}=<size>, or bound it with --dim ${dim}=1..<max> for a max up to ${MAX_SYMBOLIC_STEPS} (the importer's symbols option; it unrolls to the bound${unknown.length ? '' : `, now ${hi}`})`,
    );
  if (lo < 1) unsupported('dynamic', `${what} and may be ${lo}; bound it from 1 with --dim ${dim}=1..${hi} (the importer's symbols option)`);
  return [lo, hi];
}

/**
 * For a symbolic sequence length: its run-time value (an i32 scalar) and X gathered to the unrolled steps, step t
 * reading row min(t, seq - 1): rows past the end repeat the last one, which the masks then ignore.
 */
export function runTimeLength(cx: NodeContext, emit: Emit, cfg: Config): { value: string; x: string } {
  const one = cx.newConst(scalarTensor('i32', 1), 'one');
  const value = emit('DimValues', [], { values: [cfg.seqDim], scalar: 1 });
  const steps = cx.newConst(makeTensor('i32', [cfg.seq], (t) => t), 'steps');
  const rows = emit('Min', [steps, emit('Sub', [value, one])]);
  return { value, x: emit('Gather', [cx.input(0), rows], { axis: cfg.seqAxis }) };
}
