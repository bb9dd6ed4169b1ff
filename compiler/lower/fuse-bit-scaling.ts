// The float scaling bitpack writes after a BitMatMul (passes/bitpack.ts), fused into the integer GEMV that computes
// the sums (kernels/lib/int-gemv.ts), so the i32 per-group sums never make a round trip through memory:
//   c = BitMatMul(xq, Wq)           i32 [..., M, G] (or [..., M])
//   Mul(Cast<f32>(c), Ws)           Ws f32 [M, G] (or [M]), either operand order
//   ReduceSum(axes [-1], keepdims 0)   only with groups
//   Mul(_, xs)                      xs f32 [..., 1]: the activation rows' scales, produced before the BitMatMul
// Each intermediate has that chain's next node as its only reader and is no graph output. Only BitMatMuls that
// lower to an integer GEMV (`fastGemvOf`) take it; the bit-plane path keeps the chain as separate kernels.
import { type Graph, type Node, formatShape } from '../../ir/index.js';
import { fastGemvOf } from './bit-lowerings.js';

export interface BitScaling {
  /** The weight's scales and the activation rows' scales. */
  readonly scales: string;
  readonly rowScales: string;
  /** The chain's nodes (Cast, Mul, ReduceSum?, Mul) and its f32 result [..., M]. */
  readonly nodes: readonly Node[];
  readonly output: string;
}

export interface ChainContext {
  readonly uses: ReadonlyMap<string, readonly Node[]>;
  readonly outputs: ReadonlySet<string>;
  readonly producer: ReadonlyMap<string, Node>;
  readonly order: ReadonlyMap<Node, number>;
}

export function bitScalingOf(g: Graph, anchor: Node, cx: ChainContext): BitScaling | undefined {
  if (anchor.op !== 'BitMatMul' || !fastGemvOf(anchor, (v) => g.types.get(v)!)) return undefined;
  const typeOf = (v: string) => g.types.get(v)!;
  const c = anchor.outputs[0]!;
  const cShape = typeOf(c).shape;
  // Per-group sums carry one more axis than the activation rows [..., K]: [..., M, G].
  const grouped = cShape.length > typeOf(anchor.inputs[0]!).shape.length;
  /** The only reader of `v`, if it is `op` and reads `v` once. */
  const next = (v: string, op: string): Node | undefined => {
    const readers = cx.uses.get(v) ?? [];
    if (cx.outputs.has(v) || readers.length !== 1 || readers[0]!.op !== op) return undefined;
    const n = readers[0]!;
    return n.inputs.filter((x) => x === v).length === 1 ? n : undefined;
  };
  const other = (n: Node, v: string): string => n.inputs.find((x) => x !== v)!;
  const cast = next(c, 'Cast');
  if (!cast || cast.attrs.to !== 'f32') return undefined;
  const scaled = next(cast.outputs[0]!, 'Mul');
  if (!scaled) return undefined;
  const scales = other(scaled, cast.outputs[0]!);
  const st = typeOf(scales);
  // The weight scales broadcast along the rows only: exactly the sums' trailing [M, G] (or [M]).
  if (cx.producer.has(scales) || st.dtype !== 'f32' || formatShape(st.shape) !== formatShape(cShape.slice(cShape.length - (grouped ? 2 : 1)))) return undefined;
  if (formatShape(typeOf(scaled.outputs[0]!).shape) !== formatShape(cShape)) return undefined;
  let running = scaled.outputs[0]!;
  const nodes = [cast, scaled];
  if (grouped) {
    const sum = next(running, 'ReduceSum');
    const axes = sum?.attrs.axes as number[] | undefined;
    if (!sum || sum.inputs.length !== 1 || Number(sum.attrs.keepdims ?? 1) !== 0 || axes?.length !== 1 || (axes[0] !== -1 && axes[0] !== cShape.length - 1)) return undefined;
    nodes.push(sum);
    running = sum.outputs[0]!;
  }
  const rows = next(running, 'Mul');
  if (!rows) return undefined;
  const rowScales = other(rows, running);
  const rt = typeOf(rowScales);
  const outShape = typeOf(running).shape;
  const p = cx.producer.get(rowScales);
  const before = !p || cx.order.get(p)! < cx.order.get(anchor)!;
  if (!before || rt.dtype !== 'f32' || formatShape(rt.shape) !== formatShape([...outShape.slice(0, -1), 1])) return undefined;
  if (formatShape(typeOf(rows.outputs[0]!).shape) !== formatShape(outShape)) return undefined;
  nodes.push(rows);
  return { scales, rowScales, nodes, output: rows.outputs[0]! };
}
