// materialize-encodings: a constant stored under a layout or an encoding is read in place only where a kernel
// knows its storage (a Tiled-CSL weight whose stored matrix is A, read by a sparse matmul); every other reader
// gets its logical value through one Materialize node per constant, which the compiler lowers to a decode kernel.
// So a hand-written quant, transposed or blocked constant compiles whoever reads it, and the passes that bring
// native readers (bit-level matmul, layout-aware kernels) shrink what this pass has to do.
import { GraphBuilder, type Node, type TensorType, consumers, isPlainStorage, matmulOperands } from '../ir/index.js';
import { quantGatherReadable, quantGemvUse } from './bits/quant-in-place.js';
import { readsArrangedInPlace } from './layout/arrangement.js';
import { sparseReadable } from './matmul-weights.js';
import { EXACT, type Pass, bump } from './pass.js';

/** Whether `node` reads the encoded constant `c` in place. */
export function readsInPlace(typeOf: (v: string) => TensorType | undefined, node: Node, c: string, readers?: ReadonlyMap<string, readonly Node[]>, outputs?: ReadonlySet<string>): boolean {
  const t = typeOf(c);
  // Quant codes (a blocked layout of theirs is the quant GEMV's quad layout, passes/bits/quant-in-place.ts).
  if (t?.encoding.kind === 'quant') return quantGemvUse(node, c, typeOf) !== undefined || quantGatherReadable(node, c, typeOf);
  // A GEMV panel arrangement (arrange-layout) is read in place by the arranged GEMV kernel (passes/layout/arrangement.ts).
  if (t?.layout.kind === 'blocked' && readers && outputs) return readsArrangedInPlace(typeOf, readers, outputs, node, c);
  if (t?.encoding.kind !== 'tiled-csl') return false;
  const use = matmulOperands(node, typeOf);
  // The stored matrix must be A[M, K]: transposed storage of a [K, M] weight, row-major of a [M, K] one.
  return !!use && use.w === c && use.x !== c && use.transposed === (t.layout.kind === 'transposed') && sparseReadable(use, typeOf);
}

export const materializeEncodings: Pass = {
  name: 'materialize-encodings',
  summary: 'Decode layout/encoded constants (Materialize) for every reader that cannot read their storage in place.',
  tolerance: EXACT,
  run(g, cx) {
    const readers = consumers(g);
    const typeOf = (v: string) => g.types.get(v);
    const outputs = new Set(g.outputs);
    const needed = g.constants.filter(
      (c) => !isPlainStorage(c.type) && (outputs.has(c.name) || (readers.get(c.name) ?? []).some((n) => !readsInPlace(typeOf, n, c.name, readers, outputs))),
    );
    if (!needed.length) return g;
    const taken = new Set([...g.types.keys(), ...g.nodes.flatMap((n) => n.outputs)]);
    const fresh = (base: string): string => {
      let name = base;
      for (let k = 1; taken.has(name); k++) name = `${base}_${k}`;
      taken.add(name);
      return name;
    };
    // A constant that is also a graph output keeps the output's name for its decoded value (the model's interface
    // does not change); the stored constant takes a new one. Other decoded values get new names.
    const stored = new Map(needed.filter((c) => outputs.has(c.name)).map((c) => [c.name, fresh(`${c.name}.stored`)]));
    const b = GraphBuilder.fromDeclarations({ ...g, constants: g.constants.map((c) => (stored.has(c.name) ? { ...c, name: stored.get(c.name)! } : c)) });
    const decoded = new Map<string, string>();
    for (const c of needed) {
      const names = [stored.has(c.name) ? c.name : fresh(`${c.name}.decoded`)];
      decoded.set(c.name, b.op('Materialize', [stored.get(c.name) ?? c.name], {}, { names }));
      bump(cx, 'constants-materialized');
    }
    for (const n of g.nodes) {
      const inputs = n.inputs.map((v) => (!decoded.has(v) ? v : readsInPlace(typeOf, n, v, readers, outputs) ? (stored.get(v) ?? v) : decoded.get(v)!));
      b.node(n.op, inputs, n.attrs, { names: n.outputs, ...(n.loc ? { loc: n.loc } : {}), ...(n.regions ? { regions: n.regions } : {}) });
    }
    return b.output(...g.outputs.map((o) => decoded.get(o) ?? o)).build();
  },
};
