// The whole path for graphs: compile -> artifact directory -> runtime Session on the adapter, compared with the
// reference interpreter; determinism of the artifact; integrity checks at load.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileGraph } from '../../compiler/compile.js';
import { writeArtifact } from '../../compiler/emit/write.js';
import { materialize } from '../../compiler/memory/lazy-file.js';
import { type Graph, type Tensor, interpret, makeTensor, parseKir, printGraph, toleranceExcess } from '../../ir/index.js';
import { Session } from '../../runtime/index.js';
import { arbGraphCase } from '../../scripts/lib/arbitraries.js';
import { testGpu } from './harness.js';

const EXAMPLE = `graph @ew(%x: f32[2,3], %y: f32[3]) {
  const %c: f32[3] = [1, 2, 3]
  %a = Add(%x, %y)
  %b = Mul(%a, %c)
  %r = Reshape(%b) {shape = [3, 2]}
  %e = Exp(%r)
  %t = Tanh(%e)
  return %t, %b
}`;

function compileTo(g: Graph): string {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-art-'));
  writeArtifact(dir, compileGraph(g, { source: 'test.kir' }));
  return dir;
}

/**
 * Sessions here share the file's device: a device (and a Dawn instance) per session, 25 of them in the property
 * below, made the process crash or hang now and then under a loaded CI run (native, past vitest's timeouts).
 */
const load = async (dir: string): Promise<Session> => Session.load(dir, { device: (await testGpu()).acquired });

async function runOnGpu(dir: string, inputs: Record<string, Tensor>): Promise<Record<string, Tensor>> {
  const session = await load(dir);
  try {
    const out = await session.run(Object.fromEntries(Object.entries(inputs).map(([k, t]) => [k, t.data])));
    return Object.fromEntries(Object.entries(out).map(([k, o]) => [k, makeTensor(o.dtype as never, o.shape, Float64Array.from(o.data))]));
  } finally {
    session.dispose();
  }
}

describe('compiled artifacts on the adapter', () => {
  it('match the interpreter on the example', async () => {
    const g = parseKir(EXAMPLE, 'ew.kir');
    const x = makeTensor('f32', [2, 3], [1, -2, 3, 0.5, 5, -6]);
    const y = makeTensor('f32', [3], [0.5, -1, 0.25]);
    const want = interpret(g, { x, y });
    const got = await runOnGpu(compileTo(g), { x, y });
    for (const k of ['t', 'b']) expect(toleranceExcess(got[k]!, want[k]!, 1e-5, 1e-6), k).toBeLessThanOrEqual(0);
  });

  it('are byte-identical across two compiles', () => {
    const a = compileGraph(parseKir(EXAMPLE, 'ew.kir'), { source: 'ew.kir' });
    const b = compileGraph(parseKir(EXAMPLE, 'ew.kir'), { source: 'ew.kir' });
    expect(JSON.stringify(a.manifest)).toBe(JSON.stringify(b.manifest));
    expect([...a.files.keys()]).toEqual([...b.files.keys()]);
    for (const [path, bytes] of a.files) expect(Buffer.compare(materialize(bytes), materialize(b.files.get(path)!)), path).toBe(0);
  });

  it('refuse a tampered weights-0.bin at load, before running anything', async () => {
    const dir = compileTo(parseKir(EXAMPLE, 'ew.kir'));
    const w = readFileSync(join(dir, 'weights-0.bin'));
    w[0] = w[0]! ^ 0xff;
    writeFileSync(join(dir, 'weights-0.bin'), w);
    await expect(load(dir)).rejects.toThrow(/weights-0\.bin does not match the manifest .*modified or damaged/);
  });

  it('check inputs against the manifest', async () => {
    const session = await load(compileTo(parseKir(EXAMPLE, 'ew.kir')));
    try {
      await expect(session.run({ x: [1, 2, 3] })).rejects.toThrow(/input 'x' has 3 values; its shape \[2,3\] needs 6/);
      await expect(session.run({ x: new Float32Array(6) })).rejects.toThrow(/missing input 'y'/);
      await expect(session.run({ x: new Float32Array(6), y: new Float32Array(3), z: [1] })).rejects.toThrow(/unknown input 'z'/);
    } finally {
      session.dispose();
    }
  });

  it('let a Node process exit on its own after dispose()', () => {
    const dir = compileTo(parseKir(EXAMPLE, 'ew.kir'));
    const script = `import { Session } from ${JSON.stringify(join(process.cwd(), 'dist/runtime/index.js'))};
const s = await Session.load(${JSON.stringify(dir)});
const out = await s.run({ x: new Float32Array(6), y: new Float32Array(3) });
s.dispose();
console.log(out.b.data.length);`;
    const r = spawnSync('node', ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000 });
    expect(r.error).toBeUndefined();
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toBe('6');
  });

  it('match the interpreter on random elementwise graphs', async () => {
    const ops = ['Relu', 'Neg', 'Abs', 'Exp', 'Tanh', 'Sigmoid', 'Erf', 'Gelu', 'LeakyRelu', 'Clip', 'Add', 'Sub', 'Mul', 'Div', 'Min', 'Max', 'Where', 'Cast', 'Reshape', 'Unsqueeze'];
    await fc.assert(
      fc.asyncProperty(arbGraphCase({ ops, maxSteps: 8 }), async ({ graph, inputs }) => {
        const want = interpret(graph, inputs);
        const got = await runOnGpu(compileTo(graph), inputs);
        for (const [name, w] of Object.entries(want)) {
          const excess = toleranceExcess(got[name]!, w, 1e-4, 1e-5);
          if (excess > 0) throw new Error(`%${name}: off by ${excess}\n${printGraph(graph)}`);
        }
      }),
      { numRuns: 25 },
    );
  });
});
