// kiln's layers (../shared/docs/DESIGN.md, "Layers"), as dependency-cruiser rules. test/layers.test.ts cruises
// ir, passes, compiler, runtime, scripts, bench and examples with this file and fails on any violation; the CLI
// reads it too: `npx depcruise ir passes compiler runtime scripts bench examples --config .dependency-cruiser.cjs`.
//
// | folder                     | may import                                                                    |
// | ir/                        | nothing of ours but the f16/bf16 leaf runtime/f16.ts (the IR core loads in a browser) |
// | passes/                    | ir/                                                                           |
// | compiler/                  | ir/, passes/, the artifact contract (below); compiler/cli/ also runtime/index |
// | runtime/                   | nothing of ours                                                               |
// | scripts/, bench/, examples/| anything except test/                                                         |
// | test/                      | anything                                                                      |

/**
 * The artifact contract: what the compiler writes and the runtime reads, shared by both sides (dims.ts evaluates the
 * manifest's dim programs).
 */
const CONTRACT = '^runtime/(plan|codec|f16|limits|dims)\\.ts$';
/**
 * The runtime's public API, for the CLI's run/generate/profile; probe.ts is the profiler's per-dispatch timers, run
 * through the session's probe hook but kept out of the shipped bundle (kiln profile is their only user).
 */
const RUNTIME_API = '^runtime/(index|probe)\\.ts$';
/**
 * The single f16/bf16 encoder: part of the artifact contract (how f16/bf16 bytes read), so it lives in the runtime,
 * and a leaf with no imports, so ir/ (whose core loads in a browser) may import it too.
 */
const F16_LEAF = '^runtime/f16\\.ts$';
const OURS = '^(ir|passes|compiler|runtime|scripts|bench|examples|test|bin)/';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'ir-imports-nothing-of-ours',
      comment:
        'ir/ is the bottom layer: graph, ops, interpreter, textual IR and importers. Everything else builds on it, ' +
        'so an import from ir/ into passes, compiler, runtime or the tooling would make a cycle between layers. ' +
        'The one exception is the f16/bf16 leaf runtime/f16.ts, which imports nothing (no cycle), so there is one encoder.',
      severity: 'error',
      from: { path: '^ir/' },
      to: { path: OURS, pathNot: `^ir/|${F16_LEAF}` },
    },
    {
      name: 'ir-core-not-importers',
      comment:
        'The IR core (ir/core.ts and what it reaches) loads in a browser; the importers (ir/import/**) read files ' +
        'and use protobufjs, so only the Node-side entry ir/index.ts (and the importers themselves) may import them.',
      severity: 'error',
      from: { path: '^ir/', pathNot: '^ir/(import/|index\\.ts$)' },
      to: { path: '^ir/import/' },
    },
    {
      name: 'passes-import-only-ir',
      comment: 'passes/ are pure Graph -> Graph transformations over the IR: they know nothing of kernels, artifacts or tooling.',
      severity: 'error',
      from: { path: '^passes/' },
      to: { path: OURS, pathNot: '^(ir|passes)/' },
    },
    {
      name: 'compiler-no-tooling',
      comment: 'compiler/ ships in the package (dist/compiler); scripts, benchmarks, examples and tests do not.',
      severity: 'error',
      from: { path: '^compiler/' },
      to: { path: '^(scripts|bench|examples|test|bin)/' },
    },
    {
      name: 'compiler-runtime-contract-only',
      comment:
        'Outside the CLI the compiler shares only the artifact contract with the runtime (runtime/plan.ts, ' +
        'runtime/codec.ts, runtime/limits.ts): it writes artifacts, it does not load or run them.',
      severity: 'error',
      from: { path: '^compiler/', pathNot: '^compiler/cli/' },
      to: { path: '^runtime/', pathNot: CONTRACT },
    },
    {
      name: 'cli-runtime-public-api-only',
      comment:
        "The CLI's run/generate/profile use the runtime as any user does, through its public API (runtime/index.ts), " +
        'besides the artifact contract; its internals stay free to change.',
      severity: 'error',
      from: { path: '^compiler/cli/' },
      to: { path: '^runtime/', pathNot: `${CONTRACT}|${RUNTIME_API}` },
    },
    {
      name: 'runtime-imports-nothing-of-ours',
      comment:
        'runtime/ is bundled into the dependency-free runtime.js every artifact ships; it knows no ops and no IR. ' +
        'The single f16/bf16 encoder lives here (runtime/f16.ts) and the compiler side imports it.',
      severity: 'error',
      from: { path: '^runtime/' },
      to: { path: OURS, pathNot: '^runtime/' },
    },
    {
      name: 'f16-leaf-imports-nothing',
      comment:
        'runtime/f16.ts is open to ir/ only because it is a leaf: anything it imported would be pulled into the ' +
        'IR core behind the rules back.',
      severity: 'error',
      from: { path: F16_LEAF },
      to: {},
    },
    {
      name: 'tooling-not-test',
      comment:
        'scripts/, bench/ and examples/ may use anything but test/: test code is free to change with the tests, so ' +
        'shared helpers (fixtures, builders, arbitraries) live in scripts/lib/ and the tests import them from there.',
      severity: 'error',
      from: { path: '^(scripts|bench|examples)/' },
      to: { path: '^test/' },
    },
  ],
  options: {
    // Type-only imports count: a layer that needs another layer's types depends on it all the same.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(dist|node_modules)/' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'node', 'default'],
      extensions: ['.ts', '.mts', '.js', '.mjs', '.cjs', '.json'],
    },
  },
};
