// Specialise a graph's symbolic dims to static sizes (`kiln compile --dim batch=2`): every declared input with a
// bound symbol gets the static size, the symbol leaves the graph, and node result types are dropped so that shape
// inference derives them again from the now-static inputs. A range (`--dim batch=1..4`) keeps the symbol and
// narrows its bounds, which must lie within the declared ones.
import type { Graph } from './graph.js';
import type { SymbolBound } from './shape.js';
import type { TensorType } from './types.js';

export class SymbolBindingError extends Error {
  override name = 'SymbolBindingError';
}

export function bindSymbols(g: Graph, given: Readonly<Record<string, number | SymbolBound>>): Graph {
  const sizes: Record<string, number> = {};
  const ranges: Record<string, SymbolBound> = {};
  for (const [name, v] of Object.entries(given)) {
    const bound = g.symbols[name];
    if (!bound) throw new SymbolBindingError(`--dim ${name}: graph @${g.name} has no symbol '${name}' (symbols: ${Object.keys(g.symbols).join(', ') || 'none'})`);
    const [lo, hi] = typeof v === 'number' ? [v, v] : [v.min, v.max];
    if (lo < bound.min || hi > bound.max)
      throw new SymbolBindingError(`--dim ${name}=${typeof v === 'number' ? v : `${lo}..${hi}`} is outside the symbol's bounds ${bound.min}..${bound.max}`);
    if (typeof v === 'number') sizes[name] = v;
    else ranges[name] = v;
  }
  const bind = (t: TensorType): TensorType => ({ ...t, shape: t.shape.map((d) => (typeof d === 'string' && d in sizes ? sizes[d]! : d)) });
  const symbols = Object.fromEntries(Object.entries(g.symbols).filter(([k]) => !(k in sizes)).map(([k, b]) => [k, ranges[k] ?? b]));
  const inputs = g.inputs.map((i) => ({ ...i, type: bind(i.type) }));
  const types = new Map<string, TensorType>();
  for (const i of inputs) types.set(i.name, i.type);
  for (const c of g.constants) types.set(c.name, c.type);
  return { ...g, symbols, inputs, types };
}
