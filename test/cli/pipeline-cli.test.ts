// The pass pipeline from the command line: `kiln compile --print-pipeline` lists what a compile runs, with the
// options given; `--dump-ir-after all` writes one file per pass (the IR after it, which parses back), in which a
// pruned weight becomes a Tiled-CSL constant read by the same MatMul (no SparseMatMul op anywhere); `kiln ir opt
// --passes sparsify --sparsity 0.8` prunes; bad pass options and foreign files in the dump folder are refused.
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseKir } from '../../ir/index.js';
import { kiln } from '../kiln-cli.js';

/** x[1,96] . W[96,96] + b with W's values 1..9216 scaled (no zeros: pruning makes them). */
function modelFile(dir: string): string {
  const w = Array.from({ length: 96 * 96 }, (_, i) => (((i * 7919) % 9216) - 4608) / 4608);
  const file = join(dir, 'layer.kir');
  writeFileSync(
    file,
    `graph @layer(%x: f32[1,96]) {\n  const %w: f32[96,96] = [${w.join(', ')}]\n  const %b: f32[96] = [${Array(96).fill(0.5).join(', ')}]\n` +
      `  %h = MatMul(%x, %w)\n  %y = Add(%h, %b)\n  return %y\n}\n`,
  );
  return file;
}

// Each test spawns node several times: generous timeouts for a loaded 2-core machine.
describe('the pass pipeline on the command line', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-pipeline-'));
  const model = modelFile(dir);

  it('kiln compile --print-pipeline lists the passes in order, with the options given', () => {
    const plain = kiln(['compile', model, '--print-pipeline']);
    expect(plain.status, plain.stderr).toBe(0);
    const names = [...plain.stdout.matchAll(/^\s+\d+\. ([a-z0-9-]+)/gm)].map((m) => m[1]);
    expect(names).toEqual(['infer-shapes', 'fold-constants', 'control-flow', 'eliminate-dead', 'split-oversized-weights', 'encode-sparse-weights', 'arrange-layout', 'materialize-encodings', 'fit-symbol-bounds']);
    const pruned = kiln(['compile', model, '--print-pipeline', '--sparsity', '0.8', '--weights-dtype', 'f16']);
    expect(pruned.status, pruned.stderr).toBe(0);
    expect(pruned.stdout).toMatch(/ 2\. sparsify \{sparsity=0\.8, scope=layer, floor=0\.02\}/);
    expect(pruned.stdout).toMatch(/store-weights-f16/);
    expect(pruned.stdout).toMatch(/^then: schedule/m);
  }, 120_000);

  it('kiln compile --sparsity 0.8 --dump-ir-after all writes one parseable file per pass; the weight becomes Tiled-CSL', () => {
    const dump = join(dir, 'dump');
    const r = kiln(['compile', model, '--sparsity', '0.8', '--device-profile', 'lavapipe', '--dump-ir-after', 'all', '--dump-dir', dump, '-o', join(dir, 'out')]);
    expect(r.status, r.stderr).toBe(0);
    const files = readdirSync(dump).sort();
    expect(files).toEqual(['01-infer-shapes.kir', '02-sparsify.kir', '03-fold-constants.kir', '04-control-flow.kir', '05-eliminate-dead.kir', '06-split-oversized-weights.kir', '07-encode-sparse-weights.kir', '08-arrange-layout.kir', '09-materialize-encodings.kir', '10-fit-symbol-bounds.kir']);
    for (const f of files) {
      const text = readFileSync(join(dump, f), 'utf8');
      expect(text).not.toMatch(/SparseMatMul/);
      parseKir(text, f); // every dump is valid .kir
    }
    const encoded = parseKir(readFileSync(join(dump, '07-encode-sparse-weights.kir'), 'utf8'));
    const w = encoded.constants.find((c) => c.name === 'w')!;
    expect(w.type.layout.kind).toBe('transposed');
    expect(w.type.encoding.kind).toBe('tiled-csl');
    expect(encoded.nodes.map((n) => n.op)).toEqual(['MatMul', 'Add']);
    const inspect = kiln(['inspect', join(dir, 'out')]);
    expect(inspect.status, inspect.stderr).toBe(0);
    expect(inspect.stdout).toMatch(/tiled-csl (direct|scatter)/);
  }, 120_000);

  it('kiln ir opt --passes sparsify --sparsity 0.8 prunes 80 % of the weight', () => {
    const r = kiln(['ir', 'opt', model, '--passes', 'sparsify', '--sparsity', '0.8']);
    expect(r.status, r.stderr).toBe(0);
    const w = parseKir(r.stdout).constants.find((c) => c.name === 'w')!.value!.data;
    expect(w.filter((v) => v === 0).length).toBe(Math.round(0.8 * 96 * 96));
  }, 120_000);

  it('bad pass options and a foreign file in the dump folder are refused in one line', () => {
    const bad = kiln(['ir', 'opt', model, '--passes', 'sparsify', '--sparsity', '2']);
    expect(bad.status).toBe(1);
    expect(bad.stderr.trim()).toBe('kiln: sparsity must be between 0 and 1, got 2');
    const scope = kiln(['compile', model, '--print-pipeline', '--sparsity', '0.5', '--sparsity-scope', 'rows']);
    expect(scope.status).toBe(1);
    expect(scope.stderr.trim()).toBe("kiln: sparsity scope must be 'layer' or 'global', got 'rows'");
    const missing = kiln(['ir', 'opt', model, '--sparsity', '0.5']);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/--sparsity applies to the sparsify pass, which --passes does not include/);
    const foreign = join(dir, 'foreign');
    kiln(['ir', 'opt', model, '--dump-ir-after', 'infer-shapes', '--dump-dir', foreign]);
    writeFileSync(join(foreign, '01-infer-shapes.kir'), 'my notes\n');
    const refused = kiln(['ir', 'opt', model, '--dump-ir-after', 'infer-shapes', '--dump-dir', foreign]);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(/01-infer-shapes\.kir exists and is not a kiln IR dump; kiln does not overwrite it/);
    expect(readFileSync(join(foreign, '01-infer-shapes.kir'), 'utf8')).toBe('my notes\n');
  }, 120_000);
});
