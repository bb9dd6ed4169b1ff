// Control flow on the adapter. An If whose condition is known only at run time becomes a branch of the plan: the
// runtime reads the condition back and records only the taken side, which these tests see by counting the
// dispatches the session records (through a device that counts them) as well as by the outputs, compared with the
// interpreter. Loops and Scans of known length are unrolled by the passes and run as straight-line kernels.
import { describe, expect, it } from 'vitest';
import { compileGraph } from '../../compiler/compile.js';
import { artifactFiles } from '../../compiler/emit/in-memory.js';
import { type Graph, type Tensor, interpret, makeTensor, parseKir, toleranceExcess } from '../../ir/index.js';
import { Session } from '../../runtime/index.js';
import type { AcquiredDevice } from '../../runtime/device.js';
import { randomTensor } from './data.js';
import { expectGpuMatchesInterpreter } from './graph-harness.js';
import { testGpu } from './harness.js';

/** Method calls on a wrapped GPU object go to the object itself (Dawn checks `this`); `hook` may watch them. */
function wrap<T extends object>(target: T, hook: (name: string, result: unknown) => unknown = (_, r) => r): T {
  return new Proxy(target, {
    get(t, p) {
      const v = Reflect.get(t, p, t) as unknown;
      if (typeof v !== 'function') return v;
      return (...args: unknown[]) => hook(String(p), (v as (...a: unknown[]) => unknown).apply(t, args));
    },
  });
}

/** The test device, wrapped so that every dispatchWorkgroups of every compute pass is counted. */
function counting(acquired: AcquiredDevice): { device: AcquiredDevice; dispatches: () => number; reset: () => void } {
  let n = 0;
  const pass = (p: GPUComputePassEncoder): GPUComputePassEncoder => wrap(p, (name, r) => (name === 'dispatchWorkgroups' && n++, r));
  const encoder = (e: GPUCommandEncoder): GPUCommandEncoder => wrap(e, (name, r) => (name === 'beginComputePass' ? pass(r as GPUComputePassEncoder) : r));
  const device = wrap(acquired.device, (name, r) => (name === 'createCommandEncoder' ? encoder(r as GPUCommandEncoder) : r));
  return { device: { ...acquired, device }, dispatches: () => n, reset: () => (n = 0) };
}

async function load(graph: Graph): Promise<{ session: Session; count: ReturnType<typeof counting>; total: number }> {
  const gpu = await testGpu();
  const count = counting(gpu.acquired);
  const artifact = compileGraph(graph, { source: 'test', target: { shaderF16: false } });
  const session = await Session.load(artifactFiles(artifact, `memory:${graph.name}`), { device: count.device });
  return { session, count, total: artifact.manifest.entryPoints.run!.dispatches.length };
}

async function run(s: Session, inputs: Record<string, Tensor>): Promise<Record<string, Tensor>> {
  const out = await s.run(Object.fromEntries(Object.entries(inputs).map(([k, t]) => [k, t.data])));
  return Object.fromEntries(Object.entries(out).map(([k, o]) => [k, makeTensor(o.dtype as Tensor['dtype'], o.shape, Float64Array.from(o.data))]));
}

function expectClose(got: Record<string, Tensor>, want: Record<string, Tensor>): void {
  for (const [name, w] of Object.entries(want)) expect(toleranceExcess(got[name]!, w, 1e-5, 1e-6), name).toBe(0);
}

const bool = (v: boolean): Tensor => makeTensor('bool', [], [v ? 1 : 0]);

// The then side does several kernels' work (a matmul, transposes, copies into %y and %t); the else side little (a
// slice, Neg fused into its copy). A nested If in the then side branches again, on %d, its then side the longer.
const BRANCHY = parseKir(`graph @branchy(%c: bool[], %d: bool[], %x: f32[5,7], %w: f32[7,3]) {
  %y, %t = If(%c) : f32[5,3], f32[5,3]
    region @then_branch() {
      %m = MatMul(%x, %w)
      %r = Relu(%m)
      %q = Mul(%r, %r)
      %s = Transpose(%q) {perm = [1, 0]}
      %u = Transpose(%s) {perm = [1, 0]}
      %v = If(%d)
        region @then_branch() {
          %e = Exp(%m)
          %f = Transpose(%e) {perm = [1, 0]}
          %g = Transpose(%f) {perm = [1, 0]}
          return %g
        }
        region @else_branch() {
          return %u
        }
      return %q, %v
    }
    region @else_branch() {
      %z = Slice(%x) {starts = [0], ends = [3], axes = [1]}
      %n = Neg(%z)
      return %n, %z
    }
  %o = Add(%y, %t)
  return %o, %y
}`);

describe('a run-time If', () => {
  it('runs only the taken side: fewer dispatches, the outputs of that side, nested branches included', async () => {
    const { session, count, total } = await load(BRANCHY);
    try {
      const x = randomTensor('f32', [5, 7], 11, { range: 2 });
      const w = randomTensor('f32', [7, 3], 12, { range: 2 });
      const seen = new Map<string, number>();
      for (const [c, d] of [[true, true], [true, false], [false, true], [false, false], [true, true]] as const) {
        const inputs = { c: bool(c), d: bool(d), x, w };
        count.reset();
        expectClose(await run(session, inputs), interpret(BRANCHY, inputs));
        seen.set(`${c},${d}`, count.dispatches());
        expect(count.dispatches()).toBeLessThan(total);
      }
      // The else side is the same whatever %d says (it never reaches the nested branch), and costs least.
      expect(seen.get('false,true')).toBe(seen.get('false,false'));
      expect(seen.get('true,true')).toBeGreaterThan(seen.get('false,true')!);
      expect(seen.get('true,false')).toBeGreaterThan(seen.get('false,true')!);
      expect(seen.get('true,true')).toBeGreaterThan(seen.get('true,false')!); // the nested then side is longer
    } finally {
      session.dispose();
    }
  });

  it('branches once per unrolled iteration when a Loop body holds it, matching the interpreter', async () => {
    const g = parseKir(`graph @loopif(%c: bool[], %x: f32[33]) {
  const %m: i32[] = [4]
  const %half: f32[] = [0.5]
  %y, %ys = Loop(%m, _, %x)
    region @body(%i: i32[], %ci: bool[], %v: f32[33]) {
      %z = If(%c)
        region @then_branch() {
          %a = Mul(%v, %half)
          return %a
        }
        region @else_branch() {
          %b = Sub(%v, %x)
          return %b
        }
      %f = Cast(%i) {to = "f32"}
      %w = Add(%z, %f)
      return %ci, %w, %z
    }
  return %y, %ys
}`);
    for (const c of [true, false]) await expectGpuMatchesInterpreter(g, { c: bool(c), x: randomTensor('f32', [33], 5, { range: 4 }) });
  });
});

describe('unrolled loops on the adapter', () => {
  it('a Loop with carried values and stacked scan outputs matches the interpreter on ragged shapes', async () => {
    for (const [rows, cols, m] of [[5, 7, 3], [1, 13, 5], [3, 1, 1]] as const) {
      const g = parseKir(`graph @loop(%x: f32[${rows},${cols}], %b: f32[${cols}]) {
  const %m: i32[] = [${m}]
  const %yes: bool[] = [1]
  %y, %ys = Loop(%m, %yes, %x)
    region @body(%i: i32[], %ci: bool[], %v: f32[${rows},${cols}]) {
      %t = Tanh(%v)
      %w = Add(%t, %b)
      %s = ReduceSum(%w) {axes = [1], keepdims = 0}
      return %ci, %w, %s
    }
  return %y, %ys
}`);
      await expectGpuMatchesInterpreter(g, { x: randomTensor('f32', [rows, cols], rows * 31 + cols, { range: 3 }), b: randomTensor('f32', [cols], m, { range: 3 }) });
    }
  });

  it('a Scan in both directions along a middle axis matches the interpreter', async () => {
    const g = parseKir(`graph @scan(%s0: f32[3,5], %x: f32[3,9,5]) {
  %s, %ys = Scan(%s0, %x) {num_scan_inputs = 1, scan_input_axes = [1], scan_input_directions = [1], scan_output_axes = [2], scan_output_directions = [1]}
    region @body(%acc: f32[3,5], %row: f32[3,5]) {
      %n = Add(%acc, %row)
      %h = Sigmoid(%n)
      return %h, %n
    }
  return %s, %ys
}`);
    await expectGpuMatchesInterpreter(g, { s0: randomTensor('f32', [3, 5], 1, { range: 2 }), x: randomTensor('f32', [3, 9, 5], 2, { range: 2 }) });
  });

  it('a Loop whose trip count is known only at run time is refused at compile time in one line', () => {
    const g = parseKir(`graph @dyn(%m: i32[], %x: f32[4]) {
  %y = Loop(%m, _, %x)
    region @body(%i: i32[], %ci: bool[], %v: f32[4]) {
      %w = Neg(%v)
      return %ci, %w
    }
  return %y
}`);
    expect(() => compileGraph(g, { source: 'test' })).toThrow(/^<input>:2:3: %y = Loop\(%m, _, %x\): a Loop whose trip count is known only at run time \(or that exceeds the unroll bound of the control-flow pass\) cannot be compiled yet; make its trip count a compile-time constant$/);
  });
});
