// `kiln tune` end to end with the built CLI (`npm run build` first), on the adapter: a two-layer perceptron (ONNX,
// two GEMV weights) tuned from the model and from its artifact; the profile written is one that
// `kiln compile --device-profile` loads and follows. And what tune refuses before measuring anything: a file at
// --out that is not a kiln device profile (left as it was), a --out that is not .json, bad --runs.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEVICE_PROFILE_FORMAT, GEMV_PANELS, validateDeviceProfile } from '../../passes/sparse/profile-file.js';
import { kiln } from '../kiln-cli.js';
import { writeMlpOnnx } from './tune-model.js';

let dir: string;
const MLP = () => join(dir, 'mlp.onnx');
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'kiln-tune-'));
  writeMlpOnnx(MLP(), 64, 256, 128);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const CANDIDATE_NAMES = ['row-major', ...[256, 128, 64].flatMap((p) => [`panel ${p}, unroll 4`, `panel ${p}, unroll 8`])];

describe('kiln tune', () => {
  it('tunes a model: a table of every candidate per GEMV shape, and a profile compile --device-profile loads and follows', () => {
    const out = join(dir, 'profile.json');
    const r = kiln(['tune', MLP(), '--out', out, '--runs', '3']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toContain('tune: 2 GEMV weight shape(s) in mlp.onnx');
    // Progress on stderr, the larger weight first.
    expect(r.stderr).toMatch(/tune: \[1\/14\] 128 x 256 f32 Gemm, 1 row\(s\): row-major: \d+\.\d+ ms/);
    expect(r.stderr).toMatch(/tune: \[14\/14\] 256 x 64 f32 Gemm, 1 row\(s\): panel 64, unroll 8: /);
    // One row per candidate and shape, each with a time and GB/s, then the totals and the choice.
    const rows = r.stdout.split('\n').filter((l) => CANDIDATE_NAMES.some((c) => l.includes(c)) && /\d+\.\d+ %$/.test(l));
    expect(rows).toHaveLength(14);
    expect(r.stdout).toMatch(/^w1\s+Gemm 256 x 64 f32\s+1\s+1\s+row-major\s+\d+\.\d+\s/m);
    expect(r.stdout).toMatch(/^w2\s+Gemm 128 x 256 f32\s+1\s+1\s+row-major\s+\d+\.\d+\s/m);
    expect(r.stdout).toMatch(/^read ceiling \d+\.\d+ GB\/s .*; dispatch \d+\.\d+ ms; launch \d+\.\d+ ms; f32 GEMM \d+\.\d+ Gflop\/s/m);
    expect(r.stdout).toMatch(/^choice: /m);
    expect(r.stderr).toContain(`wrote ${out} (profile `);

    const json = JSON.parse(readFileSync(out, 'utf8')) as Record<string, unknown>;
    expect(json.format).toBe(DEVICE_PROFILE_FORMAT);
    const profile = validateDeviceProfile(json, out);
    expect(profile.name).toMatch(/-tuned$/);
    for (const rate of [profile.bytesPerMs, profile.flopsPerMs!, profile.launchMs!, profile.dispatchMs]) expect(rate).toBeGreaterThan(0);
    // The choice printed is the one written (or none, when the traffic model arranged nothing).
    const choice = /^choice: gemvPanel (\d+), gemvUnroll (\d)/m.exec(r.stdout);
    if (choice) expect(profile.tuning).toEqual({ gemvPanel: Number(choice[1]), gemvUnroll: Number(choice[2]) });
    else expect(profile.tuning).toBeUndefined();
    if (profile.tuning) expect(GEMV_PANELS).toContain(profile.tuning.gemvPanel);

    const c = kiln(['compile', MLP(), '--device-profile', out, '-o', join(dir, 'tuned')]);
    expect(c.status, c.stderr).toBe(0);
    expect(c.stderr).toContain(`note: costing kernels with profile ${profile.name} from ${out}`);
    const manifest = JSON.parse(readFileSync(join(dir, 'tuned', 'manifest.json'), 'utf8')) as { kernels: { file: string }[]; costProfile: string };
    expect(manifest.costProfile).toBe(profile.name);
    if (profile.tuning?.gemvPanel === 0) expect(manifest.kernels.some((k) => k.file.includes('gemv-arranged'))).toBe(false);
  }, 180_000);

  it('tunes an artifact from its manifest, the same shapes, overwriting its own earlier profile', () => {
    const artifact = join(dir, 'artifact');
    expect(kiln(['compile', MLP(), '-o', artifact]).status).toBe(0);
    const out = join(dir, 'again.json');
    writeFileSync(out, JSON.stringify({ format: DEVICE_PROFILE_FORMAT, name: 'old', source: 'an earlier tune', bytesPerMs: 1, denseMacsPerMs: 1, directMacsPerMs: 1, scatterMacsPerMs: 1, dispatchMs: 0 }));
    const r = kiln(['tune', artifact, '--out', out, '--runs', '1']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toContain('tune: 2 GEMV weight shape(s) in artifact');
    expect(r.stdout).toMatch(/^w1\s+Gemm 256 x 64 f32/m);
    expect(validateDeviceProfile(JSON.parse(readFileSync(out, 'utf8')), out).name).not.toBe('old');
  }, 180_000);

  it.each([
    ['a JSON file of something else', 'notes.json', '{"todo": ["buy milk"]}', /refusing to overwrite a file that is not a kiln device profile \(unknown field 'todo'/],
    ['a text file', 'data.json', 'not json at all\n', /refusing to overwrite a file that is not a kiln device profile \(not JSON\); choose another --out or remove it$/],
  ])('refuses to overwrite %s, leaving it as it was', (_, name, text, message) => {
    const out = join(dir, name);
    writeFileSync(out, text);
    const r = kiln(['tune', MLP(), '--out', out]);
    expect(r.status).toBe(1);
    expect(r.stderr.trim()).toMatch(new RegExp(`^kiln: --out ${out.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: ${message.source}`));
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(readFileSync(out, 'utf8')).toBe(text);
  }, 30_000);

  it.each([
    [['--out', 'profile.txt'], /^kiln: --out profile\.txt: a device profile is a \.json file/],
    [['--runs', '0'], /^kiln: --runs 0: must be a positive integer$/],
  ])('refuses %j in one line', (args, message) => {
    const r = kiln(['tune', MLP(), ...args]);
    expect(r.status).toBe(1);
    expect(r.stderr.trim()).toMatch(message);
  }, 30_000);
});
