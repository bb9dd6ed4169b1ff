// Device-profile files (`kiln compile --device-profile file.json`, written by `kiln tune`): every field checked on
// load with one line naming the file and the field, and a profile's tuning reaching the compile (the panel width
// arrange-layout may use, the arranged GEMV kernel's K rows per step). The built CLI: `npm run build` first.
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROFILES } from '../../passes/sparse/profiles.js';
import { DEVICE_PROFILE_FORMAT, validateDeviceProfile } from '../../passes/sparse/profile-file.js';
import { kiln } from '../kiln-cli.js';
import { writeMlpOnnx } from './tune-model.js';

let dir: string;
const MLP = () => join(dir, 'mlp.onnx');
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'kiln-profile-file-'));
  writeMlpOnnx(MLP());
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const base = { format: DEVICE_PROFILE_FORMAT, ...PROFILES.lavapipe! };
const errorOf = (value: unknown): string => {
  try {
    validateDeviceProfile(value, 'p.json');
  } catch (e) {
    return (e as Error).message;
  }
  return 'accepted';
};

describe('validateDeviceProfile', () => {
  it('accepts the shipped profiles as JSON, with or without the format tag, and a tuning', () => {
    for (const p of Object.values(PROFILES)) expect(validateDeviceProfile(JSON.parse(JSON.stringify(p)), 'p.json')).toEqual(p);
    const tuned = { ...base, tuning: { gemvPanel: 0, gemvUnroll: 8 } };
    const { format: _, ...expected } = tuned;
    expect(validateDeviceProfile(tuned, 'p.json')).toEqual(expected);
  });

  it.each([
    ['not an object', [1, 2], /^p\.json: a device profile is a JSON object \(got an array\)$/],
    ['a missing field', { ...base, bytesPerMs: undefined }, /^p\.json: missing field 'bytesPerMs'$/],
    ['a wrong type', { ...base, dispatchMs: '0.5' }, /^p\.json: field 'dispatchMs' must be a non-negative number \(got "0\.5"\)$/],
    ['a rate out of range', { ...base, bytesPerMs: -1 }, /^p\.json: field 'bytesPerMs' must be a positive number \(got -1\)$/],
    ['a fractional transaction', { ...base, transactionBytes: 6.5 }, /^p\.json: field 'transactionBytes' must be a positive integer/],
    ['an empty name', { ...base, name: ' ' }, /^p\.json: field 'name' must be a non-empty string/],
    ['an unknown field', { ...base, bytesPerMS: 1 }, /^p\.json: unknown field 'bytesPerMS' \(known: format, name, /],
    ['another format', { ...base, format: 'onnx' }, /^p\.json: field 'format' must be one of "kiln-device-profile" \(got "onnx"\)$/],
    ['a tuning that is not an object', { ...base, tuning: 128 }, /^p\.json: field 'tuning' must be an object \(got 128\)$/],
    ['a panel not among the candidates', { ...base, tuning: { gemvPanel: 100 } }, /^p\.json: field 'tuning\.gemvPanel' must be one of 0, 256, 128, 64, 32, 16, 8 \(got 100\)$/],
    ['an unroll other than 4 or 8', { ...base, tuning: { gemvUnroll: 6 } }, /^p\.json: field 'tuning\.gemvUnroll' must be one of 4, 8 \(got 6\)$/],
    ['an unknown tuning field', { ...base, tuning: { gemvTile: 4 } }, /^p\.json: unknown field 'tuning\.gemvTile' \(known: gemvPanel, gemvUnroll\)$/],
  ])('refuses %s, naming the file and the field on one line', (_, value, message) => {
    const got = errorOf(JSON.parse(JSON.stringify(value)));
    expect(got).toMatch(message);
    expect(got).not.toContain('\n');
  });
});

/** Compile the perceptron with a profile file holding `tuning`; the manifest and each kernel's WGSL. */
function compileWith(name: string, tuning?: object): { kernels: string[]; wgsl: string[]; weightsBytes: number; stderr: string } {
  const file = join(dir, `${name}.json`);
  writeFileSync(file, JSON.stringify({ ...base, name, ...(tuning ? { tuning } : {}) }));
  const out = join(dir, name);
  const r = kiln(['compile', MLP(), '--device-profile', file, '-o', out]);
  expect(r.status, r.stderr).toBe(0);
  const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as { kernels: { file: string }[]; memory: { weightsBytes: number } };
  const kernels = manifest.kernels.map((k) => k.file);
  return { kernels, wgsl: kernels.map((f) => readFileSync(join(out, f), 'utf8')), weightsBytes: manifest.memory.weightsBytes, stderr: r.stderr };
}

describe('kiln compile --device-profile <file.json>', () => {
  it('a tuning decides the layout and the unroll: gemvPanel 0 keeps both GEMV weights row-major, 128 arranges them', () => {
    const rowMajor = compileWith('panel0', { gemvPanel: 0 });
    expect(rowMajor.stderr).toContain(`note: costing kernels with profile panel0 from ${join(dir, 'panel0.json')} (tuned: gemvPanel 0)`);
    expect(rowMajor.kernels.filter((k) => k.includes('gemv-arranged'))).toEqual([]);
    expect(rowMajor.weightsBytes).toBe(4 * (512 * 128 + 256 * 512));
    const by8 = compileWith('panel128x8', { gemvPanel: 128, gemvUnroll: 8 });
    expect(by8.kernels.filter((k) => k.includes('gemv-arranged'))).toHaveLength(2);
    const by4 = compileWith('panel128x4', { gemvPanel: 128, gemvUnroll: 4 });
    const steps = (wgsl: string[]): string[] => wgsl.filter((w) => /var p: u32/.test(w)).map((w) => /p \+= (\d+)u/.exec(w)![1]!);
    expect(steps(by8.wgsl)).toEqual(['8', '8']);
    expect(steps(by4.wgsl)).toEqual(['4', '4']);
  }, 120_000);

  it('without a tuning the traffic model chooses, as with the shipped profile of that name', () => {
    const untuned = compileWith('untuned');
    const shipped = kiln(['compile', MLP(), '--device-profile', 'lavapipe', '-o', join(dir, 'shipped')]);
    expect(shipped.status, shipped.stderr).toBe(0);
    expect([...untuned.kernels].sort()).toEqual(readdirSync(join(dir, 'shipped', 'kernels')).map((f) => `kernels/${f}`).sort());
  }, 60_000);

  it.each([
    ['bad field', '{"name": "x"}', /^kiln: .*bad-field\.json: missing field 'source'$/],
    ['bad json', '{"name": ', /^kiln: .*bad-json\.json: not a JSON device profile \(/],
    ['bad panel', JSON.stringify({ ...base, tuning: { gemvPanel: 96 } }), /^kiln: .*bad-panel\.json: field 'tuning\.gemvPanel' must be one of 0, 256, 128, 64, 32, 16, 8 \(got 96\)$/],
  ])('a %s: exit 1, one line naming the file and what is wrong', (name, text, message) => {
    const file = join(dir, `${name.replace(' ', '-')}.json`);
    writeFileSync(file, text);
    const r = kiln(['compile', MLP(), '--device-profile', file, '-o', join(dir, 'never')]);
    expect(r.status).toBe(1);
    expect(r.stderr.trim()).toMatch(message);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  }, 30_000);

  it('a missing file: exit 1, naming it', () => {
    const r = kiln(['compile', MLP(), '--device-profile', join(dir, 'absent.json'), '-o', join(dir, 'never')]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^kiln: .*absent\.json/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  }, 30_000);
});
