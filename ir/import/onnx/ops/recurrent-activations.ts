// The activations of LSTM, GRU and RNN nodes: the `activations` attribute (or the cell's default) per direction,
// each with the alpha/beta it takes. activation_alpha/beta are consumed in order by the activations that take them
// (the spec's wording, and onnxruntime's LSTM/GRU; its RNN indexes them by direction), and a missing value is the
// default of the ONNX op of that name where runtimes disagree (onnxruntime uses 0 for Affine, ThresholdedRelu and
// ScaledTanh; the spec gives ScaledTanh none, so kiln asks for it).
import type { NodeContext } from '../context.js';
import { invalid } from '../errors.js';
import type { Cell } from './recurrent.js';

/** The activations each direction of a cell lists by default. */
const DEFAULT_ACTIVATIONS: Record<Cell, readonly string[]> = { LSTM: ['Sigmoid', 'Tanh', 'Tanh'], GRU: ['Sigmoid', 'Tanh'], RNN: ['Tanh'] };

/** alpha/beta an activation takes, each with its ONNX op's default (null: the spec gives none). */
const ACTIVATION_PARAMS: Record<string, { alpha?: number | null; beta?: number | null }> = {
  relu: {}, tanh: {}, sigmoid: {}, softsign: {}, softplus: {},
  affine: { alpha: 1, beta: 0 }, leakyrelu: { alpha: 0.01 }, thresholdedrelu: { alpha: 1 },
  scaledtanh: { alpha: null, beta: null }, hardsigmoid: { alpha: 0.2, beta: 0.5 }, elu: { alpha: 1 },
};

export interface Activation {
  readonly name: string;
  readonly alpha: number;
  readonly beta: number;
}

/** The node's activations, per direction, with alpha/beta resolved. */
export function activations(cx: NodeContext, cell: Cell, dirs: number): Activation[][] {
  const per = DEFAULT_ACTIVATIONS[cell].length;
  let names = cx.attrs.strings('activations') ?? Array.from({ length: dirs }, () => DEFAULT_ACTIVATIONS[cell]).flat();
  // RNN's schema default lists Tanh twice, which a one-direction node inherits.
  if (cell === 'RNN' && dirs === 1 && names.length === 2) names = names.slice(0, 1);
  if (names.length !== per * dirs)
    invalid(`${cx.op} with ${dirs} direction(s) needs ${per * dirs} activations, got ${names.length} [${names.join(', ')}]`);
  const alphas = cx.attrs.floats('activation_alpha') ?? [];
  const betas = cx.attrs.floats('activation_beta') ?? [];
  let a = 0;
  let b = 0;
  const resolved = names.map((given): Activation => {
    const name = given.toLowerCase();
    const params = ACTIVATION_PARAMS[name];
    if (!params) return invalid(`${cx.op} activation '${given}' is not one the spec allows (${Object.keys(ACTIVATION_PARAMS).join(', ')}, in any case)`);
    const take = (list: number[], at: number, dflt: number | null | undefined, what: string): number => {
      if (at < list.length) return list[at]!;
      if (dflt === null) return invalid(`${cx.op} activation ${given} needs ${what} (it has no default); add it to activation_${what}`);
      return dflt ?? 0;
    };
    const alpha = params.alpha === undefined ? 0 : take(alphas, a++, params.alpha, 'alpha');
    const beta = params.beta === undefined ? 0 : take(betas, b++, params.beta, 'beta');
    return { name, alpha, beta };
  });
  return Array.from({ length: dirs }, (_, d) => resolved.slice(d * per, (d + 1) * per));
}
