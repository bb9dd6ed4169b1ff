// If, Loop and Scan in the IR: regions printed and parsed (round trip, scoping errors at file:line:col), verified
// (region names and arity, types through the body, outer references), and interpreted with ONNX's semantics.
import { describe, expect, it } from 'vitest';
import {
  type Graph,
  type Tensor,
  InterpError,
  KirSyntaxError,
  formatDiagnostic,
  freeNames,
  interpret,
  makeTensor,
  parseKir,
  printGraph,
  verify,
} from '../../ir/index.js';
import { loopTripCount } from '../../ir/ops/control.js';

const f32 = (shape: number[], values: number[]): Tensor => makeTensor('f32', shape, values);
const bool = (v: boolean): Tensor => makeTensor('bool', [], [v ? 1 : 0]);
const data = (t: Tensor | undefined): number[] => Array.from(t!.data);
const errors = (text: string): string[] => verify(parseKir(text, 'g.kir')).map(formatDiagnostic);

const NESTED = `graph @main(%c: bool[], %x: f32[3]) {
  const %one: f32[3] = [1, 1, 1]
  const %m: i32[] = [3]
  %s, %rows = Loop(%m, _, %x) : f32[3], f32[3,3]
    region @body(%i: i32[], %ci: bool[], %v: f32[3]) {
      %w = If(%c) : f32[3]
        region @then_branch() {
          %a = Add(%v, %one) : f32[3]
          return %a
        }
        region @else_branch() {
          return %v
        }
      %w2 = Mul(%w, %x) : f32[3]
      return %ci, %w2, %w
    }
  %last, %sums = Scan(%x, %rows) {num_scan_inputs = 1, scan_input_directions = [1], scan_output_axes = [1]} : f32[3], f32[3,3]
    region @body(%acc: f32[3], %row: f32[3]) {
      %n = Add(%acc, %row)
      return %n, %n
    }
  return %s, %rows, %last, %sums
}
`;

describe('regions in .kir', () => {
  it('print(parse(print(g))) is print(g), nested regions and untyped region nodes included', () => {
    const g = parseKir(NESTED, 'n.kir');
    const text = printGraph(g);
    expect(printGraph(parseKir(text))).toBe(text);
    expect(text).toContain('    region @body(%i: i32[], %ci: bool[], %v: f32[3]) {\n      %w = If(%c) : f32[3]\n        region @then_branch() {');
    expect(text).toContain('      %n = Add(%acc, %row)\n      return %n, %n');
    expect(verify(g)).toEqual([]);
  });

  it('regions read the enclosing values by name; their own names stay inside', () => {
    const g = parseKir(NESTED);
    const loop = g.nodes[0]!;
    expect([...freeNames(loop.regions![0]!)].sort()).toEqual(['c', 'one', 'x']);
    expect(g.types.has('w')).toBe(false);
  });

  it('a region may not redefine a visible value, declare symbols, or read one defined after its node', () => {
    const shadow = `graph @g(%c: bool[], %x: f32[2]) {
  %y = If(%c)
    region @then_branch() {
      %x = Neg(%c)
      return %x
    }
    region @else_branch() {
      return %x
    }
  return %y
}`;
    expect(() => parseKir(shadow, 's.kir')).toThrow(KirSyntaxError);
    expect(() => parseKir(shadow, 's.kir')).toThrow(/^s\.kir:4:7: value %x is defined twice \(first at 1:22\)/);
    const symbol = shadow.replace('      %x = Neg(%c)\n      return %x', '      symbol n in 1..4\n      return %x');
    expect(() => parseKir(symbol, 's.kir')).toThrow(/^s\.kir:4:7: symbol n: symbols are declared at the top level of a graph, not in a region/);
    const later = shadow.replace('      %x = Neg(%c)\n      return %x', '      return %z').replace('  return %y', '  %z = Neg(%x)\n  return %y');
    expect(() => parseKir(later, 's.kir')).toThrow(/^s\.kir:4:14: return of %z before its definition at 9:3/);
  });
});

describe('verify', () => {
  it('names branches that disagree on a type, and region lists that do not fit the op', () => {
    const disagree = `graph @g(%c: bool[], %x: f32[2]) {
  %y = If(%c)
    region @then_branch() {
      return %x
    }
    region @else_branch() {
      %b = Greater(%x, %x)
      return %b
    }
  return %y
}`;
    expect(errors(disagree)).toEqual([
      "g.kir:2:3: error: %y = If(%c): If's branches disagree on result 0: then gives f32[2], else bool[2]; kiln needs one type (fold the condition at compile time, or make both branches agree)",
    ]);
    const misnamed = disagree.replace('@else_branch', '@body');
    expect(errors(misnamed)).toEqual(['g.kir:2:3: error: %y = If(%c): If holds regions @then_branch, @else_branch in that order, got @then_branch, @body']);
    const relu = `graph @g(%x: f32[2]) {
  %y = Relu(%x)
    region @body() {
      return %x
    }
  return %y
}`;
    expect(errors(relu)).toEqual(['g.kir:2:3: error: %y = Relu(%x): Relu takes no regions']);
  });

  it("checks a Loop's carried types through the body and needs a known trip count for scan outputs", () => {
    const loop = (ret: string, m = '%m'): string => `graph @g(%x: f32[2], %n: i32[]) {
  const %m: i32[] = [4]
  %y, %ys = Loop(${m}, _, %x)
    region @body(%i: i32[], %ci: bool[], %v: f32[2]) {
      %b = Greater(%v, %v)
      return ${ret}
    }
  return %y
}`;
    expect(errors(loop('%ci, %v, %v'))).toEqual([]);
    expect(verify(parseKir(loop('%ci, %v, %v'))).length).toBe(0);
    expect(errors(loop('%ci, %b, %v'))[0]).toMatch(/Loop: body result 1 is bool\[2\], but must be f32\[2\]/);
    expect(errors(loop('%ci, %v, %v', '%n'))[0]).toMatch(/Loop's 1 scan output\(s\) are stacked over its iterations, whose number kiln must know at compile time/);
    expect(errors(loop('%ci, %v', '%n').replace('%y, %ys = Loop', '%y = Loop'))).toEqual([]); // no scan output: M may be a run-time value
  });

  it('reports a region reading a name that is nowhere visible', () => {
    const g: Graph = parseKir(`graph @g(%c: bool[], %x: f32[2]) {
  %y = If(%c)
    region @then_branch() {
      return %x
    }
    region @else_branch() {
      return %x
    }
  return %y
}`);
    const broken: Graph = { ...g, nodes: [{ ...g.nodes[0]!, regions: [{ ...g.nodes[0]!.regions![0]!, outputs: ['nope'] }, g.nodes[0]!.regions![1]!] }] };
    expect(verify(broken).map((d) => d.message)).toContain('region @then_branch: graph @then_branch returns %nope, which is not defined');
  });
});

describe('interpreter', () => {
  it('runs only the taken branch of an If', () => {
    // The else branch indexes out of range: evaluating it would throw, so taking then proves it is never run.
    const g = parseKir(`graph @g(%c: bool[], %x: f32[3]) {
  const %bad: i32[] = [7]
  %y = If(%c)
    region @then_branch() {
      %a = Neg(%x)
      %s = Slice(%a) {starts = [0], ends = [1]}
      return %s
    }
    region @else_branch() {
      %g = Gather(%x, %bad) {axis = 0}
      %u = Unsqueeze(%g) {axes = [0]}
      return %u
    }
  return %y
}`);
    expect(data(interpret(g, { c: bool(true), x: f32([3], [1, 2, 3]) }).y)).toEqual([-1]);
    expect(() => interpret(g, { c: bool(false), x: f32([3], [1, 2, 3]) })).toThrow(InterpError);
  });

  it('runs a Loop as ONNX does: M, a condition from the body, carried values and stacked scan outputs', () => {
    // while (i < M && cond): v = v * 2; cond = v < 20 — stops after the iteration that makes v >= 20.
    const g = parseKir(`graph @g(%m: i32[], %c: bool[], %x: f32[]) {
  const %two: f32[] = [2]
  const %limit: f32[] = [20]
  %v, %trace, %iters = Loop(%m, %c, %x)
    region @body(%i: i32[], %ci: bool[], %v0: f32[]) {
      %v1 = Mul(%v0, %two)
      %go = Less(%v1, %limit)
      return %go, %v1, %v1, %i
    }
  return %v, %iters
}`);
    const run = (m: number, c: boolean, x: number): Record<string, Tensor> => interpret(g, { m: makeTensor('i32', [], [m]), c: bool(c), x: f32([], [x]) });
    const r = run(10, true, 3);
    expect(data(r.v)).toEqual([24]);
    expect(data(r.iters)).toEqual([0, 1, 2]);
    expect(r.iters!.shape).toEqual([3]);
    expect(data(run(2, true, 3).v)).toEqual([12]); // M ends it first
    const none = run(10, false, 3); // the condition is false before the first iteration
    expect(data(none.v)).toEqual([3]);
    expect(none.iters!.shape).toEqual([0]);
  });

  it('runs a Loop with nested If and outer references, and a Scan in both directions along any axis', () => {
    const g = parseKir(NESTED);
    const x = f32([3], [1, 2, 3]);
    const on = interpret(g, { c: bool(true), x });
    // v: [1,2,3] -> ((v+1)*x): [2,6,12] -> [3,14,39] -> [4,30,120]; rows are the If results (v+1) per iteration.
    expect(data(on.s)).toEqual([4, 30, 120]);
    expect(data(on.rows)).toEqual([2, 3, 4, 3, 7, 13, 4, 15, 40]);
    // Scan reads the rows last to first, and stacks the running sums along axis 1 (columns).
    const sums = [
      [1 + 4, 2 + 15, 3 + 40],
      [1 + 4 + 3, 2 + 15 + 7, 3 + 40 + 13],
      [1 + 4 + 3 + 2, 2 + 15 + 7 + 3, 3 + 40 + 13 + 4],
    ];
    expect(data(on.last)).toEqual(sums[2]);
    expect(data(on.sums)).toEqual([0, 1, 2].flatMap((col) => sums.map((s) => s[col]!)));
    const off = interpret(g, { c: bool(false), x });
    expect(data(off.s)).toEqual([1, 16, 81]); // v * x three times
  });

  it('knows a trip count at compile time when the condition passes through, is constant, or follows the iteration', () => {
    const body = (ret: string): Graph =>
      parseKir(`graph @g(%x: f32[]) {
  const %k: i32[] = [2]
  const %yes: bool[] = [1]
  %y = Loop(_, _, %x)
    region @body(%i: i32[], %ci: bool[], %v: f32[]) {
      %lt = Less(%i, %k)
      %pos = Greater(%v, %v)
      return ${ret}, %v
    }
  return %y
}`).nodes[0]!.regions![0]!;
    const known = (): undefined => undefined;
    const k = parseKir('graph @k() {\n  const %k: i32[] = [2]\n  return %k\n}').constants;
    const consts = (v: string): Tensor | undefined => k.find((c) => c.name === v)?.value;
    expect(loopTripCount(body('%ci'), 5, null, known)).toBe(5);
    expect(loopTripCount(body('%ci'), 5, false, known)).toBe(0);
    expect(loopTripCount(body('%ci'), undefined, true, known)).toBeUndefined();
    expect(loopTripCount(body('%lt'), 10, true, consts)).toBe(3); // i = 0, 1, 2: the third sets it false
    expect(loopTripCount(body('%lt'), null, true, consts)).toBe(3); // unbounded M, the condition ends it
    expect(loopTripCount(body('%lt'), 2, true, consts)).toBe(2);
    expect(loopTripCount(body('%pos'), 10, true, consts)).toBeUndefined(); // reads a carried value
  });
});
