// Symbolic dimension expressions. A dim is a number or a string: a symbol ('batch') or an expression over symbols
// in one canonical printed form ('2*sequence', 'batch*sequence+1', '(width+1)//2'), so that two dims are equal
// exactly when their strings are. Expressions are integer polynomials over atoms; an atom is a symbol or a floor
// division of a polynomial by a constant that does not divide it (what conv/pool output sizes over a symbolic
// spatial dim produce). Shape inference builds them (Reshape's -1, Concat's sum, Shape->Gather->Concat chains);
// the interpreter and the runtime evaluate them once the symbols have values.
import type { Dim } from './shape.js';

/** A polynomial: monomial key (atoms joined by '*', sorted; '' for the constant term) -> integer coefficient. */
type Poly = Map<string, number>;

export class DimError extends Error {
  override name = 'DimError';
}

const ATOM_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;

// ---- parsing ------------------------------------------------------------------------------------------------

/** Parse a dim expression; the grammar is what formatDim prints: + - * // and parentheses over ints and symbols. */
export function parseDimExpr(text: string): Poly {
  let at = 0;
  const peek = (): string => text[at] ?? '';
  const fail = (why: string): never => {
    throw new DimError(`dim '${text}': ${why} at column ${at + 1}`);
  };
  // Unary minus negates a whole product (-(a)//2 is -((a)//2)), so a printed negative term reads back as itself.
  const term = (): Poly => (peek() === '-' ? (at++, scalePoly(product(), -1)) : product());
  const sum = (): Poly => {
    let p = term();
    for (;;) {
      if (peek() === '+') (at++, (p = addPoly(p, product())));
      else if (peek() === '-') (at++, (p = addPoly(p, scalePoly(product(), -1))));
      else return p;
    }
  };
  const product = (): Poly => {
    let p = factor();
    for (;;) {
      if (text.startsWith('//', at)) {
        at += 2;
        const d = factor();
        const c = constantOf(d);
        if (c === undefined || c <= 0) fail('// needs a positive integer divisor');
        p = floorDivPoly(p, c!);
      } else if (peek() === '*') (at++, (p = mulPoly(p, factor())));
      else return p;
    }
  };
  const factor = (): Poly => {
    const c = peek();
    if (c === '(') {
      at++;
      const p = sum();
      if (peek() !== ')') fail("expected ')'");
      at++;
      return p;
    }
    const m = /^[0-9]+|^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(at));
    if (!m) return fail('expected a number or a symbol');
    at += m[0].length;
    return /^[0-9]/.test(m[0]) ? constPoly(Number(m[0])) : atomPoly(m[0]);
  };
  const p = sum();
  if (at !== text.length) fail(`unexpected '${peek()}'`);
  return p;
}

// ---- polynomial arithmetic -----------------------------------------------------------------------------------

const constPoly = (c: number): Poly => (c === 0 ? new Map() : new Map([['', c]]));
const atomPoly = (atom: string): Poly => new Map([[atom, 1]]);

function addPoly(a: Poly, b: Poly): Poly {
  const out = new Map(a);
  for (const [k, c] of b) {
    const s = (out.get(k) ?? 0) + c;
    if (s === 0) out.delete(k);
    else out.set(k, s);
  }
  return out;
}

function scalePoly(a: Poly, f: number): Poly {
  const out: Poly = new Map();
  if (f !== 0) for (const [k, c] of a) out.set(k, c * f);
  return out;
}

const factors = (key: string): string[] => (key === '' ? [] : splitTop(key, '*'));
const keyOf = (atoms: readonly string[]): string => [...atoms].sort().join('*');

function mulPoly(a: Poly, b: Poly): Poly {
  let out: Poly = new Map();
  for (const [ka, ca] of a)
    for (const [kb, cb] of b) out = addPoly(out, new Map([[keyOf([...factors(ka), ...factors(kb)]), ca * cb]]));
  return out;
}

function constantOf(p: Poly): number | undefined {
  if (p.size === 0) return 0;
  return p.size === 1 && p.has('') ? p.get('')! : undefined;
}

/**
 * p // c in one canonical form, so that equal sizes reached by different routes print equal: terms whose
 * coefficients c divides come out of the division (floor((c*A + B)/c) = A + floor(B/c) for integer A), and the
 * constant inside is reduced to 0..c-1 (floor((B + k)/c) = floor((B + k mod c)/c) + floor(k/c)). What is left
 * becomes an atom: ((h-2)//2)+1 and (h//2) are the same atom (h//2).
 */
function floorDivPoly(p: Poly, c: number): Poly {
  if (c === 1) return p;
  const k = constantOf(p);
  if (k !== undefined) return constPoly(Math.floor(k / c));
  const outside: Poly = new Map();
  const inside: Poly = new Map();
  for (const [key, v] of p) {
    if (key === '') {
      const q = Math.floor(v / c);
      if (q !== 0) outside.set('', q);
      if (v - q * c !== 0) inside.set('', v - q * c);
    } else if (v % c === 0) outside.set(key, v / c);
    else inside.set(key, v);
  }
  if (constantOf(inside) !== undefined) return addPoly(outside, constPoly(Math.floor(constantOf(inside)! / c)));
  // Self-delimiting, so that 2*(a//2) and -(a//2) read back as printed: (a//2), ((a+1)//2).
  const inner = formatPoly(inside);
  return addPoly(outside, atomPoly(ATOM_RE.test(inner) ? `(${inner}//${c})` : `((${inner})//${c})`));
}

/** a / b when it divides exactly as polynomials (b a constant or a single monomial); undefined otherwise. */
function divPolyExact(a: Poly, b: Poly): Poly | undefined {
  if (b.size !== 1) return undefined;
  const [[kb, cb]] = [...b] as [[string, number]];
  const divisor = factors(kb);
  const out: Poly = new Map();
  for (const [ka, ca] of a) {
    if (ca % cb !== 0) return undefined;
    const rest = factors(ka);
    for (const f of divisor) {
      const i = rest.indexOf(f);
      if (i < 0) return undefined;
      rest.splice(i, 1);
    }
    out.set(keyOf(rest), ca / cb);
  }
  return out;
}

// ---- printing ------------------------------------------------------------------------------------------------

/** Split on `sep` outside parentheses. */
function splitTop(s: string, sep: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '(') depth++;
    else if (s[i] === ')') depth--;
    else if (depth === 0 && s.startsWith(sep, i) && !(sep === '*' && s[i + 1] === '*')) {
      out.push(s.slice(start, i));
      start = i + sep.length;
    }
  }
  out.push(s.slice(start));
  return out;
}

/** Higher degree first, then by name: a stable order so equal polynomials print equal strings. */
function termOrder(a: string, b: string): number {
  const da = factors(a).length;
  const db = factors(b).length;
  return da !== db ? db - da : a < b ? -1 : a > b ? 1 : 0;
}

function formatPoly(p: Poly): string {
  const keys = [...p.keys()].sort(termOrder);
  if (keys.length === 0) return '0';
  return keys
    .map((k, i) => {
      const c = p.get(k)!;
      const mag = Math.abs(c);
      const body = k === '' ? String(mag) : mag === 1 ? k : `${mag}*${k}`;
      return i === 0 ? (c < 0 ? `-${body}` : body) : c < 0 ? `-${body}` : `+${body}`;
    })
    .join('');
}

const toPoly = (d: Dim): Poly => (typeof d === 'number' ? constPoly(d) : ATOM_RE.test(d) ? atomPoly(d) : parseDimExpr(d));

function toDim(p: Poly): Dim {
  const c = constantOf(p);
  return c !== undefined ? c : formatPoly(p);
}

/** The dividend and divisor of a floor-division atom '(x//c)' or '((x)//c)'. */
function floorDivParts(atom: string): [Dim, number] {
  const body = atom.slice(1, -1);
  const at = body.lastIndexOf('//');
  return [canonicalDim(body.slice(0, at)), Number(body.slice(at + 2))];
}

// ---- the Dim API ---------------------------------------------------------------------------------------------

/** The canonical form of a dim (a number when it is constant). */
export const canonicalDim = (d: Dim): Dim => (typeof d === 'number' ? d : toDim(toPoly(d)));

export const dimAdd = (a: Dim, b: Dim): Dim => (typeof a === 'number' && typeof b === 'number' ? a + b : toDim(addPoly(toPoly(a), toPoly(b))));
export const dimSub = (a: Dim, b: Dim): Dim => (typeof a === 'number' && typeof b === 'number' ? a - b : toDim(addPoly(toPoly(a), scalePoly(toPoly(b), -1))));
export const dimMul = (a: Dim, b: Dim): Dim => (typeof a === 'number' && typeof b === 'number' ? a * b : toDim(mulPoly(toPoly(a), toPoly(b))));

/** floor(a / c) for a positive integer c. */
export function dimFloorDiv(a: Dim, c: number): Dim {
  if (!Number.isInteger(c) || c <= 0) throw new DimError(`cannot divide ${a} by ${c}`);
  return typeof a === 'number' ? Math.floor(a / c) : toDim(floorDivPoly(toPoly(a), c));
}

/** ceil(a / c) for a positive integer c, as floor((a + c - 1) / c). */
export const dimCeilDiv = (a: Dim, c: number): Dim => dimFloorDiv(dimAdd(a, c - 1), c);

/** a / b when it is exact for every value of the symbols (b a number or a monomial); undefined otherwise. */
export function dimDivExact(a: Dim, b: Dim): Dim | undefined {
  if (typeof a === 'number' && typeof b === 'number') return b !== 0 && a % b === 0 ? a / b : undefined;
  const q = divPolyExact(toPoly(a), toPoly(b));
  return q && toDim(q);
}

export const dimProduct = (dims: readonly Dim[]): Dim => dims.reduce<Dim>((acc, d) => dimMul(acc, d), 1);

/** The symbols a dim mentions (inside floor divisions too). */
export function dimSymbols(d: Dim): string[] {
  if (typeof d === 'number') return [];
  return [...new Set(d.match(/[A-Za-z_][A-Za-z0-9_]*/g) ?? [])].sort();
}

/** The dim's value once every symbol has one; throws naming the first unbound symbol. */
export function evalDim(d: Dim, env: ReadonlyMap<string, number> | Readonly<Record<string, number>>): number {
  if (typeof d === 'number') return d;
  const get = (s: string): number | undefined => (env instanceof Map ? env.get(s) : (env as Record<string, number>)[s]);
  if (ATOM_RE.test(d)) {
    const v = get(d);
    if (v === undefined) throw new DimError(`symbol ${d} has no value`);
    return v;
  }
  let total = 0;
  for (const [k, c] of parseDimExpr(d)) {
    let term = c;
    for (const atom of factors(k)) {
      if (ATOM_RE.test(atom)) term *= evalDim(atom, env);
      else {
        const [x, c] = floorDivParts(atom);
        term *= Math.floor(evalDim(x, env) / c);
      }
    }
    total += term;
  }
  return total;
}

/**
 * The least and greatest value of a dim over its symbols' bounds, by interval arithmetic (exact for the
 * polynomials with non-negative coefficients shapes produce; a safe enclosure otherwise).
 */
export function dimRange(d: Dim, bounds: (symbol: string) => { readonly min: number; readonly max: number }): [number, number] {
  if (typeof d === 'number') return [d, d];
  let lo = 0;
  let hi = 0;
  for (const [k, c] of toPoly(d)) {
    let tlo = c;
    let thi = c;
    for (const atom of factors(k)) {
      let alo: number;
      let ahi: number;
      if (ATOM_RE.test(atom)) ({ min: alo, max: ahi } = bounds(atom));
      else {
        const [x, c] = floorDivParts(atom);
        const [ilo, ihi] = dimRange(x, bounds);
        [alo, ahi] = [Math.floor(ilo / c), Math.floor(ihi / c)];
      }
      const cands = [tlo * alo, tlo * ahi, thi * alo, thi * ahi];
      [tlo, thi] = [Math.min(...cands), Math.max(...cands)];
    }
    lo += tlo;
    hi += thi;
  }
  return [lo, hi];
}

/** One term of a dim's polynomial: coefficient times atoms (symbols, or floor divisions of a dim by a constant). */
export interface DimTerm {
  readonly coef: number;
  readonly atoms: readonly (string | { readonly of: Dim; readonly by: number })[];
}

/** A dim as its terms, for code that evaluates dims elsewhere (WGSL index math, the runtime's dispatch sizes). */
export function dimTerms(d: Dim): DimTerm[] {
  if (typeof d === 'number') return d === 0 ? [] : [{ coef: d, atoms: [] }];
  return [...toPoly(d)]
    .sort(([a], [b]) => termOrder(a, b))
    .map(([k, coef]) => ({
      coef,
      atoms: factors(k).map((atom) => {
        if (ATOM_RE.test(atom)) return atom;
        const [of, by] = floorDivParts(atom);
        return { of, by };
      }),
    }));
}

/**
 * A dim as a postfix program over integers and symbol names with the operators '+', '*' and '//' (floor
 * division): what the artifact's manifest carries, so the runtime evaluates dispatch sizes with a small stack
 * machine and never parses expressions.
 */
export function dimPostfix(d: Dim): (number | string)[] {
  const terms = dimTerms(d);
  if (terms.length === 0) return [0];
  const out: (number | string)[] = [];
  terms.forEach((t, i) => {
    out.push(t.coef);
    for (const a of t.atoms) {
      if (typeof a === 'string') out.push(a);
      else out.push(...dimPostfix(a.of), a.by, '//');
      out.push('*');
    }
    if (i > 0) out.push('+');
  });
  return out;
}
