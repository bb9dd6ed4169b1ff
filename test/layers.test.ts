// The one home of kiln's layer rules (../shared/docs/DESIGN.md, "Layers"): dependency-cruiser checks every
// import of ir, passes, compiler, runtime, scripts, bench and examples against .dependency-cruiser.cjs, and the
// IR core entry (ir/core.ts), bundled for the browser, must reach neither Node built-ins nor protobufjs.
import { builtinModules } from 'node:module';
import { resolve } from 'node:path';
import { type ICruiseResult, cruise } from 'dependency-cruiser';
import extractDepcruiseOptions from 'dependency-cruiser/config-utl/extract-depcruise-options';
import extractTSConfig from 'dependency-cruiser/config-utl/extract-ts-config';
import { build } from 'esbuild';
import { beforeAll, describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '..');
const CRUISED = ['ir', 'passes', 'compiler', 'runtime', 'scripts', 'bench', 'examples'];
/** The f16/bf16 encoder, the one module of the runtime's that ir/ may import; it must stay a leaf. */
const F16_LEAF = 'runtime/f16.ts';

/** Each violation as "from -> to (rule)", sorted. */
function violations(result: ICruiseResult): string[] {
  return result.summary.violations.map((v) => `${v.from} -> ${v.to} (${v.rule.name})`).sort();
}

describe('layers', () => {
  let result: ICruiseResult;
  beforeAll(async () => {
    // Absolute paths throughout, so the check does not depend on the working directory.
    const options = await extractDepcruiseOptions(resolve(ROOT, '.dependency-cruiser.cjs'));
    const tsConfigFile = resolve(ROOT, options.tsConfig?.fileName ?? 'tsconfig.json');
    const reported = await cruise(CRUISED, { ...options, baseDir: ROOT, tsConfig: { fileName: tsConfigFile } }, {}, { tsConfig: extractTSConfig(tsConfigFile) });
    result = reported.output as ICruiseResult;
  }, 120_000);

  it('every import follows the layer table', () => {
    expect(result.summary.totalCruised, 'dependency-cruiser found nothing to check').toBeGreaterThan(100);
    const found = violations(result);
    expect(found, `layer violations (see .dependency-cruiser.cjs for each rule's reason):\n${found.join('\n')}`).toEqual([]);
  });

  it('resolves every relative import (an unresolved one would escape the rules)', () => {
    const unresolved = result.modules.flatMap((m) =>
      m.dependencies.filter((d) => d.couldNotResolve && d.module.startsWith('.')).map((d) => `${m.source} -> ${d.module}`),
    );
    expect(unresolved).toEqual([]);
  });

  it(`ir's one exception, ${F16_LEAF}, imports nothing`, () => {
    const leaf = result.modules.find((m) => m.source === F16_LEAF);
    expect(leaf, `${F16_LEAF} is gone: drop its exception from .dependency-cruiser.cjs`).toBeDefined();
    expect(leaf!.dependencies.map((d) => d.module)).toEqual([]);
  });
});

describe('the IR core', () => {
  it('bundles for the browser without Node built-ins or protobufjs', async () => {
    const nodeBuiltins = new Set(builtinModules);
    const bundled = await build({
      absWorkingDir: ROOT,
      entryPoints: ['ir/core.ts'],
      bundle: true,
      write: false,
      platform: 'browser',
      format: 'esm',
      outfile: 'core.js',
      metafile: true,
      logLevel: 'silent',
      // Left external rather than failing the build, so the metafile shows who imports them.
      external: ['node:*', ...builtinModules],
    });
    const offending: string[] = [];
    for (const [file, input] of Object.entries(bundled.metafile.inputs)) {
      if (/(^|\/)node_modules\/(@protobufjs|protobufjs)\//.test(file)) continue; // reported at the importing edge
      for (const imp of input.imports) {
        const bare = imp.path.replace(/^node:/, '');
        if (imp.path.startsWith('node:') || nodeBuiltins.has(bare)) offending.push(`${file} -> ${imp.path}`);
        else if (/(^|\/)node_modules\/(@protobufjs|protobufjs)\/|^protobufjs(\/|$)/.test(imp.path)) offending.push(`${file} -> ${imp.path}`);
      }
    }
    const protobufInputs = Object.keys(bundled.metafile.inputs).filter((f) => /node_modules\/(@protobufjs|protobufjs)\//.test(f));
    expect(offending, `the IR core reaches Node built-ins or protobufjs:\n${offending.join('\n')}`).toEqual([]);
    expect(protobufInputs).toEqual([]);
  }, 60_000);
});
