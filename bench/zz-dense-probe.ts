import { acquireDevice } from '../runtime/device.js';
import { entryName, loadDenseProgram } from './lib/sparse-programs.js';
const device = await acquireDevice({ features: ['shader-f16'] } as never);
const m = 4096, k = 4096;
const w = new Float32Array(m * k).map((_, i) => ((i * 2654435761) % 1000) / 1000 - 0.5);
for (const dtype of ['f16', 'f32'] as const) {
  const s = await loadDenseProgram(w, m, k, [1, 16], dtype, device);
  for (const n of [1, 16]) {
    const x = new Float32Array(n * k).fill(0.01);
    const e = entryName('dense', n, dtype);
    const inputs = { x: dtype === 'f16' ? Array.from(x) : x };
    await s.run(inputs as never, e);
    const t: number[] = [];
    for (let r = 0; r < 5; r++) { const t0 = performance.now(); await s.run(inputs as never, e); t.push(performance.now() - t0); }
    t.sort((a, b) => a - b);
    console.log(dtype, n, t[2]!.toFixed(1), 'ms');
  }
  s.dispose();
}
process.exit(0);
