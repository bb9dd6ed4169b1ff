// `--weights-dtype f16`: matmul and embedding weights stored as f16, half the bytes of f32 to hold and to read per
// decoded token (the bound on decode speed). The graph stays exact about it: the weight becomes an f16 constant
// and its readers get the f32 they expect through Casts:
//   MatMul/Gemm(x, W)    ->  MatMul/Gemm(x, Cast<f32>(W16))     the Cast is fused into the matmul's operand
//                                                               load (lower/fuse-operand-casts.ts): no f32 copy
//   Gather(W, ids)       ->  Cast<f32>(Gather(W16, ids))        only the gathered rows are widened
// so the reference interpreter runs the rewritten graph with the same numbers the kernels see. Only 2-D f32
// constants read solely in those positions qualify (biases, norms and anything read elsewhere stay f32). An
// inline weight with a value f16 cannot hold (|v| > 65504) stays f32; a checkpoint weight is checked as its
// bytes are converted (ir/external.ts narrowExternal), and one such value fails the compile naming it.
import { type ConstantDecl, type Graph, GraphBuilder, type Node, consumers, isPlainStorage, makeTensor, roundToDType, tensorType } from '../ir/index.js';
import { type Pass, bump } from './pass.js';

/** Whether `n` reads `c` only where a narrower weight can stand in (matmul operand, gather table). */
function readsAsWeight(n: Node, c: string): boolean {
  if (n.op === 'MatMul' || n.op === 'Gemm') return n.inputs.every((v, i) => v !== c || i < 2);
  if (n.op === 'Gather') return n.inputs[0] === c && n.inputs[1] !== c;
  return false;
}

function fitsF16(c: ConstantDecl): boolean {
  if (!c.value) return true; // checked as the checkpoint's bytes are converted
  for (const v of c.value.data) if (Number.isFinite(v) && !Number.isFinite(roundToDType(v, 'f16'))) return false;
  return true;
}

export function storeWeightsAsF16(g: Graph): Graph {
  const readers = consumers(g);
  const outputs = new Set(g.outputs);
  const chosen = new Set(
    g.constants
      .filter((c) => c.type.dtype === 'f32' && c.type.shape.length === 2 && (c.value || c.external) && isPlainStorage(c.type) && !outputs.has(c.name) && fitsF16(c))
      .filter((c) => {
        const rs = readers.get(c.name) ?? [];
        return rs.length > 0 && rs.every((n) => readsAsWeight(n, c.name));
      })
      .map((c) => c.name),
  );
  if (!chosen.size) return g;

  const narrowed = g.constants.map((c): ConstantDecl => {
    if (!chosen.has(c.name)) return c;
    const type = tensorType('f16', c.type.shape);
    return c.value ? { ...c, type, value: makeTensor('f16', c.type.shape as number[], c.value.data) } : { ...c, type };
  });
  const b = GraphBuilder.fromDeclarations({ ...g, constants: narrowed });
  const taken = new Set([...g.types.keys(), ...g.nodes.flatMap((n) => n.outputs), ...g.constants.map((c) => c.name)]);
  const fresh = (base: string): string => {
    let name = base;
    for (let k = 1; taken.has(name); k++) name = `${base}_${k}`;
    taken.add(name);
    return name;
  };
  // One f32 view per weight, made right before its first matmul reader.
  const wide = new Map<string, string>();
  const widened = (c: string): string => {
    let v = wide.get(c);
    if (!v) {
      v = b.op('Cast', [c], { to: 'f32' }, { names: [fresh(`${c}.f32`)] });
      wide.set(c, v);
    }
    return v;
  };
  for (const node of g.nodes) {
    const loc = node.loc ? { loc: node.loc } : {};
    if (node.op === 'Gather' && chosen.has(node.inputs[0]!)) {
      const rows = b.op('Gather', node.inputs, node.attrs, { names: [fresh(`${node.outputs[0]}.f16`)], ...loc });
      b.op('Cast', [rows], { to: 'f32' }, { names: node.outputs, ...loc });
      continue;
    }
    const inputs = node.inputs.map((v, i) => ((node.op === 'MatMul' || node.op === 'Gemm') && i < 2 && chosen.has(v) ? widened(v) : v));
    b.node(node.op, inputs, node.attrs, { names: node.outputs, ...loc, ...(node.regions ? { regions: node.regions } : {}) });
  }
  return b.output(...g.outputs).build();
}

export const storeWeightsF16: Pass = {
  name: 'store-weights-f16',
  summary: 'Store 2-D f32 matmul and embedding weights as f16 (half the bytes), widened by Casts the kernels fuse into their loads (--weights-dtype f16).',
  tolerance: { kind: 'lossy', note: 'weights round to f16 once; the rewritten graph computes exactly what the kernels do' },
  run(g, cx) {
    const out = storeWeightsAsF16(g);
    bump(cx, 'weights-narrowed', out.constants.filter((c) => c.type.dtype === 'f16' && g.constants.find((o) => o.name === c.name)?.type.dtype === 'f32').length);
    return out;
  },
};
