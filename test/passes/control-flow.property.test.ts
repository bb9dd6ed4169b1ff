// The control-flow pass preserves meaning bit for bit: on random Loops (trip counts, conditions that pass through,
// are constant or follow the iteration number), Scans (lengths, axes, directions) and Ifs with constant conditions,
// interp(pass(g)) equals interp(g) on random inputs, and no region op is left. What stays: loops beyond the unroll
// bound, run-time trip counts and run-time conditions, whose regions then hold their own copies of constants.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Graph, type Tensor, hasRegions, interpret, makeTensor, parseKir, printGraph, tensorsIdentical } from '../../ir/index.js';
import { MAX_UNROLL_TRIPS, compilePipeline, controlFlow, eliminateDead, runPipeline } from '../../passes/index.js';
import { randomTensor } from '../gpu/data.js';

const RUNS = 40;

function expectPreserved(g: Graph, inputs: Record<string, Tensor>): Graph {
  const { graph: after } = runPipeline(g, [controlFlow]);
  const before = interpret(g, inputs);
  const got = interpret(after, inputs);
  for (const [name, t] of Object.entries(before))
    if (!tensorsIdentical(t, got[name]!)) throw new Error(`%${name} differs after control-flow\n--- before\n${printGraph(g)}--- after\n${printGraph(after)}`);
  return after;
}

const shapeText = (s: readonly number[]): string => `[${s.join(',')}]`;

describe('control-flow on random loops', () => {
  it('unrolls a Loop with a known trip count into straight-line nodes that compute the same', () => {
    const arb = fc.record({
      m: fc.integer({ min: 0, max: 6 }),
      stop: fc.integer({ min: 0, max: 7 }),
      cond: fc.constantFrom('pass', 'const', 'iter'),
      shape: fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 0, maxLength: 2 }),
      seed: fc.integer({ min: 1, max: 1e6 }),
    });
    fc.assert(
      fc.property(arb, ({ m, stop, cond, shape, seed }) => {
        const ret = cond === 'pass' ? '%ci' : cond === 'const' ? '%yes' : '%lt';
        const g = parseKir(`graph @g(%x: f32${shapeText(shape)}) {
  const %m: i32[] = [${m}]
  const %stop: i32[] = [${stop}]
  const %yes: bool[] = [1]
  %y, %ys, %is = Loop(%m, %yes, %x)
    region @body(%i: i32[], %ci: bool[], %v: f32${shapeText(shape)}) {
      %lt = Less(%i, %stop)
      %w = Mul(%v, %x)
      %u = Sub(%w, %v)
      return ${ret}, %u, %w, %i
    }
  return %y, %ys, %is
}`);
        const after = expectPreserved(g, { x: randomTensor('f32', shape, seed, { range: 2 }) });
        expect(after.nodes.some(hasRegions)).toBe(false);
      }),
      { numRuns: RUNS },
    );
  });

  it('unrolls a Scan over any axis and direction, several states and scan inputs', () => {
    const arb = fc.record({
      len: fc.integer({ min: 1, max: 5 }),
      rest: fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 1, maxLength: 2 }),
      inAxis: fc.nat(),
      inDirs: fc.tuple(fc.constantFrom(0, 1), fc.constantFrom(0, 1)),
      outAxis: fc.nat(),
      outDirs: fc.tuple(fc.constantFrom(0, 1), fc.constantFrom(0, 1)),
      seed: fc.integer({ min: 1, max: 1e6 }),
    });
    fc.assert(
      fc.property(arb, ({ len, rest, inAxis, inDirs, outAxis, outDirs, seed }) => {
        const axis = inAxis % (rest.length + 1);
        const xShape = [...rest.slice(0, axis), len, ...rest.slice(axis)];
        const oAxis = (outAxis % (rest.length + 1)) - rest.length - 1; // negative, as opset 11 allows
        const g = parseKir(`graph @g(%s0: f32${shapeText(rest)}, %a: f32${shapeText(xShape)}, %b: f32${shapeText(xShape)}) {
  const %two: f32[] = [2]
  %s, %p, %ya, %yb = Scan(%s0, %s0, %a, %b) {num_scan_inputs = 2, scan_input_axes = [${axis}, ${axis}], scan_input_directions = [${inDirs.join(', ')}], scan_output_axes = [${oAxis}, 0], scan_output_directions = [${outDirs.join(', ')}]}
    region @body(%acc: f32${shapeText(rest)}, %prod: f32${shapeText(rest)}, %ra: f32${shapeText(rest)}, %rb: f32${shapeText(rest)}) {
      %n = Add(%acc, %ra)
      %q = Mul(%prod, %rb)
      %t = Mul(%n, %two)
      return %n, %q, %t, %q
    }
  return %s, %p, %ya, %yb
}`);
        const inputs = { s0: randomTensor('f32', rest, seed, { range: 2 }), a: randomTensor('f32', xShape, seed + 1, { range: 2 }), b: randomTensor('f32', xShape, seed + 2, { range: 2 }) };
        const after = expectPreserved(g, inputs);
        expect(after.nodes.some(hasRegions)).toBe(false);
      }),
      { numRuns: RUNS },
    );
  });
});

describe('control-flow', () => {
  const ifLoop = (m: number, cond: string): Graph =>
    parseKir(`graph @g(%c: bool[], %x: f32[4]) {
  const %m: i32[] = [${m}]
  const %k: bool[] = [${cond === 'true' ? 1 : 0}]
  const %w: f32[4] = [1, -2, 3, -4]
  %y = Loop(%m, _, %x)
    region @body(%i: i32[], %ci: bool[], %v: f32[4]) {
      %z = If(${cond === 'run' ? '%c' : '%k'})
        region @then_branch() {
          %a = Add(%v, %w)
          return %a
        }
        region @else_branch() {
          %n = Neg(%v)
          return %n
        }
      return %ci, %z
    }
  return %y
}`);
  const x = makeTensor('f32', [4], [0.5, 1, 2, 4]);

  it('inlines Ifs with constant conditions, also inside unrolled bodies', () => {
    const after = expectPreserved(ifLoop(3, 'true'), { c: makeTensor('bool', [], [0]), x });
    expect(after.nodes.map((n) => n.op)).toEqual(['Add', 'Add', 'Add']);
  });

  it('keeps run-time Ifs, whose regions get their own copies of the constants they read', () => {
    for (const c of [0, 1]) {
      const after = expectPreserved(ifLoop(2, 'run'), { c: makeTensor('bool', [], [c]), x });
      expect(after.nodes.map((n) => n.op)).toEqual(['If', 'If']);
      const then = after.nodes[0]!.regions![0]!;
      expect(then.constants.map((k) => k.name)).toEqual(['w__then_branch']);
      // The top-level copy is then unread, and goes.
      expect(runPipeline(after, [eliminateDead]).graph.constants.map((k) => k.name)).toEqual([]);
    }
  });

  it(`leaves loops beyond ${MAX_UNROLL_TRIPS} iterations or with a run-time trip count, and the compile pipeline verifies around them`, () => {
    const long = ifLoop(MAX_UNROLL_TRIPS + 1, 'false');
    const { graph } = runPipeline(long, compilePipeline({ weightsDtype: 'f16' }));
    expect(graph.nodes.map((n) => n.op)).toEqual(['Loop']);
    expect(interpret(graph, { c: makeTensor('bool', [], [0]), x }).y!.data).toEqual(interpret(long, { c: makeTensor('bool', [], [0]), x }).y!.data);
    const runtime = parseKir(printGraph(long).replace('Loop(%m, _, %x)', 'Loop(%trips, _, %x)').replace('graph @g(%c: bool[],', 'graph @g(%trips: i32[], %c: bool[],'));
    expect(runPipeline(runtime, [controlFlow]).graph.nodes.map((n) => n.op)).toEqual(['Loop']);
  });
});
