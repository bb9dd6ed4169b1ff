// Two projects: fast CPU tests (parallel files) and GPU tests (*.gpu.test.ts), which run one file at a time —
// each file holds a device, and on a software adapter (lavapipe) several at once only fight over the same cores.
// The GPU project's global setup finds the adapter once, prints it, and fails the run when there is none: GPU
// tests are never skipped. test/fast-check-seed.ts fixes fast-check's seed when KILN_FC_SEED is set (CI sets it).
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/**/*.test.ts'],
          exclude: ['test/**/*.gpu.test.ts', '**/node_modules/**'],
          setupFiles: ['test/fast-check-seed.ts'],
        },
      },
      {
        test: {
          name: 'gpu',
          include: ['test/**/*.gpu.test.ts'],
          globalSetup: ['test/gpu/setup.ts'],
          setupFiles: ['test/fast-check-seed.ts'],
          fileParallelism: false,
          testTimeout: 120_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
});
