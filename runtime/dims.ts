// Symbolic dims at run time. An artifact compiled with symbols (batch 1..4, sequence 1..128) serves every size in
// range with the pipelines made at load: per run the runtime reads the symbols' values off the input shapes,
// checks them against the compiled bounds, writes them to the dims uniform the kernels read, and sizes each
// dispatch and output from the compiler's postfix programs (ir/dim.ts dimPostfix). The runtime knows no
// expression syntax: a dim in the manifest is a number, a symbol name, or a postfix program.
import { InputValidationError } from './errors.js';
import type { IOTensor, ManifestDim, SymbolDecl } from './plan.js';

export type SymbolValues = ReadonlyMap<string, number>;

/** A manifest dim's value under the symbols' values. */
export function evalManifestDim(d: ManifestDim, values: SymbolValues): number {
  if (typeof d === 'number') return d;
  if (typeof d === 'string') return valueOf(d, values);
  const stack: number[] = [];
  for (const t of d) {
    if (typeof t === 'number') stack.push(t);
    else if (t === '+' || t === '*' || t === '//') {
      const b = stack.pop()!;
      const a = stack.pop()!;
      stack.push(t === '+' ? a + b : t === '*' ? a * b : Math.floor(a / b));
    } else stack.push(valueOf(t, values));
  }
  const v = stack[0]!;
  if (!Number.isSafeInteger(v) || v < 0) throw new Error(`dim program [${d.join(' ')}] gives ${v}, not a size: the manifest is damaged`);
  return v;
}

function valueOf(symbol: string, values: SymbolValues): number {
  const v = values.get(symbol);
  if (v === undefined) throw new InputValidationError(`symbol ${symbol} has no value: no input shape names it`);
  return v;
}

/**
 * The symbols' values for one run, read off the input shapes (each symbol appears as a whole dim of some input),
 * checked for agreement between inputs and against the compiled bounds.
 */
export function bindSymbols(symbols: readonly SymbolDecl[], inputs: readonly IOTensor[], shapeOf: (input: IOTensor) => readonly number[]): Map<string, number> {
  const values = new Map<string, number>();
  for (const io of inputs) {
    const actual = shapeOf(io);
    io.shape.forEach((d, i) => {
      if (typeof d !== 'string') return;
      const v = actual[i]!;
      const seen = values.get(d);
      if (seen !== undefined && seen !== v)
        throw new InputValidationError(`input '${io.name}': dim ${i} is ${d} = ${v}, but another input has ${d} = ${seen}`);
      values.set(d, v);
    });
  }
  for (const s of symbols) {
    const v = values.get(s.name);
    if (v === undefined) throw new InputValidationError(`symbol ${s.name} is not the size of any input dim`);
    if (v < s.min || v > s.max)
      throw new InputValidationError(`${s.name} = ${v} is outside the range this artifact was compiled for (${s.min}..${s.max}); recompile with --dim ${s.name}=<lo>..<hi>`);
  }
  return values;
}

/** The dims uniform's contents: the symbols' values in manifest order, four u32 to a vec4. */
export function dimsUniform(symbols: readonly SymbolDecl[], values: SymbolValues): Uint32Array {
  const out = new Uint32Array(4 * Math.max(1, Math.ceil(symbols.length / 4)));
  symbols.forEach((s, i) => (out[i] = values.get(s.name)!));
  return out;
}

/** A manifest dim at the symbols' upper bounds (what limits checks and buffer sizes assume). */
export function manifestDimAtMax(d: ManifestDim, symbols: readonly SymbolDecl[] = []): number {
  return evalManifestDim(d, new Map(symbols.map((s) => [s.name, s.max])));
}


/** What is wrong with a manifest dim (names an undeclared symbol, a malformed program), or undefined. */
export function manifestDimProblem(d: ManifestDim, symbols: ReadonlySet<string>): string | undefined {
  if (typeof d === 'number') return undefined;
  if (typeof d === 'string') return symbols.has(d) ? undefined : `names symbol ${d}, which the manifest does not declare`;
  let depth = 0;
  for (const t of d) {
    if (t === '+' || t === '*' || t === '//') {
      if (depth < 2) return `program [${d.join(' ')}] applies ${t} to too few operands`;
      depth--;
    } else if (typeof t === 'string' && !symbols.has(t)) return `program [${d.join(' ')}] names symbol ${t}, which the manifest does not declare`;
    else depth++;
  }
  return depth === 1 ? undefined : `program [${d.join(' ')}] does not leave exactly one value`;
}
