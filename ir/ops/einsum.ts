// Einsum, as ONNX defines it (numpy's einsum): an equation of per-operand label terms, `ij,jk->ik`. Labels are
// letters; a label shared between operands is one loop, a label repeated within a term takes the diagonal,
// and every label missing from the output is summed over. `...` stands for leading dims that broadcast across
// operands numpy-style. Without `->` the output is the broadcast `...` dims, then the labels used exactly once,
// in alphabetical (ASCII) order. The reference is the definition itself: one loop over every label.
import { dtypeInfo } from '../dtype.js';
import { OpError, registerOp } from '../op.js';
import { type Dim, type Shape, broadcastShapes, formatShape, numel } from '../shape.js';
import { type Tensor, makeTensor } from '../tensor.js';
import { type TensorType, tensorType } from '../types.js';
import { staticShape } from './common.js';

/** One side of a term: its letters in order and where its ellipsis sits (undefined when it has none). */
export interface EinsumTerm {
  readonly text: string;
  readonly labels: readonly string[];
  /** Number of labels before the `...`. */
  readonly ellipsisAt?: number;
}

export interface EinsumEquation {
  readonly inputs: readonly EinsumTerm[];
  /** Undefined for an implicit output (no `->`). */
  readonly output?: EinsumTerm;
}

function parseTerm(equation: string, text: string): EinsumTerm {
  const labels: string[] = [];
  let ellipsisAt: number | undefined;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (/[A-Za-z]/.test(ch)) labels.push(ch);
    else if (text.startsWith('...', i)) {
      if (ellipsisAt !== undefined) throw new OpError(`Einsum: term '${text}' of '${equation}' has more than one ellipsis`);
      ellipsisAt = labels.length;
      i += 2;
    } else if (ch === '.') throw new OpError(`Einsum: stray '.' in '${equation}' (an ellipsis is exactly '...')`);
    else throw new OpError(`Einsum: unexpected character '${ch}' in '${equation}' (labels are letters A-Z, a-z)`);
  }
  return ellipsisAt === undefined ? { text, labels } : { text, labels, ellipsisAt };
}

/** The syntax of an equation; whitespace is ignored, as numpy and ONNX do. */
export function parseEinsum(equation: string): EinsumEquation {
  const eq = equation.replace(/\s+/g, '');
  const sides = eq.split('->');
  if (sides.length > 2) throw new OpError(`Einsum: '${equation}' has more than one '->'`);
  if (sides[1]?.includes(',')) throw new OpError(`Einsum: the output of '${equation}' is one term, but it has a ','`);
  const inputs = sides[0]!.split(',').map((t) => parseTerm(equation, t));
  if (sides.length === 1) return { inputs };
  const output = parseTerm(equation, sides[1]!);
  const seen = new Set<string>();
  for (const l of output.labels) {
    if (seen.has(l)) throw new OpError(`Einsum: output label '${l}' appears twice in '${equation}'`);
    if (!inputs.some((t) => t.labels.includes(l))) throw new OpError(`Einsum: output label '${l}' of '${equation}' is in no input term`);
    seen.add(l);
  }
  return { inputs, output };
}

/** Labels of the broadcast `...` dims: digits, which can never clash with letter labels. */
const ellipsisLabel = (i: number): string => `${i}`;

/** A term with its ellipsis spelled out as `rank` ellipsis labels, aligned to the right of `total`. */
function expand(term: EinsumTerm, rank: number, total: number): string[] {
  if (term.ellipsisAt === undefined) return [...term.labels];
  const dots = Array.from({ length: rank }, (_, i) => ellipsisLabel(total - rank + i));
  return [...term.labels.slice(0, term.ellipsisAt), ...dots, ...term.labels.slice(term.ellipsisAt)];
}

/** An equation checked against operand shapes: every term expanded to one label per dim, and each label's size. */
interface EinsumPlan {
  readonly operands: readonly (readonly string[])[];
  readonly output: readonly string[];
  readonly sizes: ReadonlyMap<string, Dim>;
}

function planEinsum(equation: string, shapes: readonly Shape[]): EinsumPlan {
  const eq = parseEinsum(equation);
  if (eq.inputs.length !== shapes.length)
    throw new OpError(`Einsum: '${equation}' has ${eq.inputs.length} input term(s) but ${shapes.length} input(s) were given`);
  // How many dims each operand's `...` covers, then numpy broadcasting among those dims.
  const ellipsisShapes = eq.inputs.map((term, k) => {
    const rank = shapes[k]!.length;
    const named = term.labels.length;
    if (term.ellipsisAt === undefined ? rank !== named : rank < named)
      throw new OpError(
        `Einsum: input ${k} ${formatShape(shapes[k]!)} has rank ${rank}, but term '${term.text}' names ` +
          `${term.ellipsisAt === undefined ? '' : 'at least '}${named} dim(s)`,
      );
    return term.ellipsisAt === undefined ? [] : shapes[k]!.slice(term.ellipsisAt, term.ellipsisAt + rank - named);
  });
  const broadcast = broadcastShapes(ellipsisShapes);
  if (typeof broadcast === 'string') throw new OpError(`Einsum: the dims under '...' do not broadcast: ${broadcast}`);
  const total = broadcast.length;
  const sizes = new Map<string, Dim>(broadcast.map((d, i) => [ellipsisLabel(i), d]));
  const where = new Map<string, number>(); // the input a letter's size was first taken from
  const operands = eq.inputs.map((term, k) => {
    const labels = expand(term, ellipsisShapes[k]!.length, total);
    labels.forEach((l, axis) => {
      const d = shapes[k]![axis]!;
      if (/\d/.test(l)) return; // ellipsis dims were checked by broadcasting
      const known = sizes.get(l);
      if (known === undefined) {
        sizes.set(l, d);
        where.set(l, k);
      } else if (known !== d) {
        const first = where.get(l)!;
        throw new OpError(
          first === k
            ? `Einsum: label '${l}' is repeated in term '${term.text}' (a diagonal) over dims of different sizes ${known} and ${d}`
            : `Einsum: label '${l}' is ${known} in input ${first} but ${d} in input ${k}`,
        );
      }
    });
    return labels;
  });
  let output: string[];
  if (eq.output) output = expand(eq.output, total, total);
  else {
    const counts = new Map<string, number>();
    for (const t of eq.inputs) for (const l of t.labels) counts.set(l, (counts.get(l) ?? 0) + 1);
    const once = [...counts].filter(([, n]) => n === 1).map(([l]) => l);
    output = [...broadcast.map((_, i) => ellipsisLabel(i)), ...once.sort()];
  }
  return { operands, output, sizes };
}

registerOp({
  name: 'Einsum',
  inputs: { min: 1, max: Infinity },
  outputs: 1,
  attrs: { equation: { kind: 'string', required: true } },
  infer(inputs, attrs) {
    if (inputs.length === 0) throw new OpError('Einsum takes at least 1 input, got 0');
    const missing = inputs.findIndex((t) => t === undefined);
    if (missing >= 0) throw new OpError(`Einsum: input ${missing} was omitted; every input is required`);
    const types = inputs as TensorType[];
    const dtype = types[0]!.dtype;
    const kind = dtypeInfo(dtype).kind;
    if (kind !== 'float' && kind !== 'int') throw new OpError(`Einsum needs float or int inputs, got ${dtype}`);
    const other = types.find((t) => t.dtype !== dtype);
    if (other) throw new OpError(`Einsum needs inputs of one dtype, got ${types.map((t) => t.dtype).join(' and ')}`);
    const plan = planEinsum(attrs.string('equation'), types.map((t) => t.shape));
    return [tensorType(dtype, plan.output.map((l) => plan.sizes.get(l)!))];
  },
  reference(inputs, attrs, outTypes) {
    const xs = inputs as Tensor[];
    const plan = planEinsum(attrs.string('equation'), xs.map((x) => x.shape));
    const labels = [...plan.sizes.keys()];
    const sizes = labels.map((l) => plan.sizes.get(l) as number);
    // Per tensor, the step its flat offset takes when each label advances: repeated labels add up (the
    // diagonal), a size-1 dim broadcast under '...' steps 0, and a label the tensor lacks steps 0.
    const steps = (dims: readonly string[], shape: readonly number[]): number[] => {
      const s = labels.map(() => 0);
      let stride = 1;
      for (let a = dims.length - 1; a >= 0; a--) {
        const i = labels.indexOf(dims[a]!);
        if (shape[a] !== 1 || sizes[i] === 1) s[i]! += stride;
        stride *= shape[a]!;
      }
      return s;
    };
    const outShape = staticShape(outTypes[0]!);
    const inSteps = xs.map((x, k) => steps(plan.operands[k]!, x.shape));
    const outSteps = steps(plan.output, outShape);
    const out = new Float64Array(numel(outShape));
    // Odometer over every label; integer products accumulate exactly while they stay below 2^53.
    const count = numel(sizes);
    const idx = labels.map(() => 0);
    const offs = xs.map(() => 0);
    let o = 0;
    for (let n = 0; n < count; n++) {
      let prod = 1;
      for (let k = 0; k < xs.length; k++) prod *= xs[k]!.data[offs[k]!]!;
      out[o] += prod;
      for (let a = labels.length - 1; a >= 0; a--) {
        idx[a]!++;
        o += outSteps[a]!;
        for (let k = 0; k < xs.length; k++) offs[k]! += inSteps[k]![a]!;
        if (idx[a]! < sizes[a]!) break;
        o -= outSteps[a]! * sizes[a]!;
        for (let k = 0; k < xs.length; k++) offs[k]! -= inSteps[k]![a]! * sizes[a]!;
        idx[a] = 0;
      }
    }
    return [makeTensor(xs[0]!.dtype, outShape, out)];
  },
});
