// The signal ops' importer rules, run through the reference interpreter: window functions and MelWeightMatrix
// fold to the documented values (a size known only at run time is a 'dynamic' refusal naming it), and DFT (17
// and 20: axis attribute vs input, dft_length, real/complex, inverse, onesided, irfft) and STFT (window given,
// computed at run time or absent) agree with a plain float64 DFT written out here.
import { describe, expect, it } from 'vitest';
import { OnnxUnsupportedError, importOnnx } from '../../ir/import/onnx/index.js';
import { interpret } from '../../ir/interp.js';
import { type Tensor, makeTensor } from '../../ir/tensor.js';
import { DT, attrInt, encodeModel, i64Tensor, model, node, tensor, valueInfo } from '../../scripts/lib/onnx-build.js';

type Obj = Record<string, unknown>;

const f32 = (shape: number[], v: (i: number) => number): Tensor => makeTensor('f32', shape, v);
const i32Scalar = (name: string, v: number): Obj => tensor(name, DT.INT32, [], { int32_data: [v] });
const f32Scalar = (name: string, v: number): Obj => tensor(name, DT.FLOAT, [], { float_data: [v] });

/** Import one node (opset `opset`) with graph inputs `inputs` and constant initializers; run it; output 'y'. */
function run(opset: number, op: string, inputNames: string[], attrs: Record<string, Obj>, inputs: Record<string, Tensor>, initializers: Obj[] = []): Tensor {
  const graph = importGraph(opset, op, inputNames, attrs, inputs, initializers);
  return interpret(graph, inputs)['y']!;
}

function importGraph(opset: number, op: string, inputNames: string[], attrs: Record<string, Obj>, inputs: Record<string, Tensor>, initializers: Obj[] = []) {
  const type = (t: Tensor): number => (t.dtype === 'i32' ? DT.INT32 : DT.FLOAT);
  const bytes = encodeModel(
    model({
      opset,
      nodes: [node(op, inputNames, ['y'], attrs)],
      inputs: Object.entries(inputs).map(([n, t]) => valueInfo(n, type(t), t.shape)),
      outputs: [valueInfo('y', DT.FLOAT)],
      initializers,
    }),
  );
  return importOnnx(bytes).graph;
}

/** The 'dynamic' refusal's value when importing throws one. */
function dynamicValue(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    if (e instanceof OnnxUnsupportedError && e.category === 'dynamic') return e.value;
    throw e;
  }
  return undefined;
}

describe('window functions fold to constants', () => {
  const window = (op: string, size: number, periodic?: number): number[] => {
    const attrs: Record<string, Obj> = periodic === undefined ? {} : { periodic: attrInt(periodic) };
    return [...run(17, op, ['n'], attrs, {}, [i32Scalar('n', size)]).data];
  };
  const cosine = (size: number, denom: number, a: number[]): number[] =>
    Array.from({ length: size }, (_, i) => Math.fround(a.reduce((s, c, m) => s + (m % 2 ? -c : c) * Math.cos((2 * Math.PI * m * i) / denom), 0)));

  it('Hann, Hamming and Blackman, periodic (default) and symmetric', () => {
    expect(window('HannWindow', 8)).toEqual(cosine(8, 8, [0.5, 0.5]));
    expect(window('HannWindow', 8, 0)).toEqual(cosine(8, 7, [0.5, 0.5]));
    expect(window('HammingWindow', 5)).toEqual(cosine(5, 5, [25 / 46, 21 / 46]));
    expect(window('BlackmanWindow', 6, 0)).toEqual(cosine(6, 5, [0.42, 0.5, 0.08]));
    // Known points: a symmetric Hann window is 0 at both ends and 1 in the middle.
    const hann = window('HannWindow', 5, 0);
    expect([hann[0], hann[2], hann[4]]).toEqual([0, 1, 0]);
    expect(window('HammingWindow', 1, 0)).toEqual([1]);
    expect(window('HannWindow', 0)).toEqual([]);
  });

  it('output_datatype picks the dtype; a size computed at run time is refused, naming it', () => {
    const graph = importGraph(17, 'HannWindow', ['n'], { output_datatype: attrInt(DT.FLOAT16) }, {}, [i32Scalar('n', 4)]);
    expect(interpret(graph, {})[graph.outputs[0]!]!.dtype).toBe('f16');
    const size = makeTensor('i32', [], [4]);
    expect(dynamicValue(() => importGraph(17, 'BlackmanWindow', ['size'], {}, { size }))).toBe('size');
  });
});

describe('MelWeightMatrix folds to triangular filters', () => {
  const mel = (v: [number, number, number, number, number]): Tensor =>
    run(17, 'MelWeightMatrix', ['m', 'n', 'r', 'lo', 'hi'], {}, {}, [
      i32Scalar('m', v[0]),
      i32Scalar('n', v[1]),
      i32Scalar('r', v[2]),
      f32Scalar('lo', v[3]),
      f32Scalar('hi', v[4]),
    ]);

  it('matches the reference formula ([dft_length/2 + 1, mels])', () => {
    const y = mel([3, 16, 1000, 0, 500]);
    expect(y.shape).toEqual([9, 3]);
    expect([...y.data]).toEqual([0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0.5, 0.5, 0, 0, 1, 0, 0, 0.5, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    expect([...mel([2, 10, 1000, 100, 500]).data]).toEqual([0, 0, 0, 0, 1, 0, 0, 1, 0, 0, 0, 0]);
  });

  it('names a run-time operand', () => {
    const inputs = { r: makeTensor('i32', [], [1000]) };
    const f = () => importGraph(17, 'MelWeightMatrix', ['m', 'n', 'r', 'lo', 'hi'], {}, inputs, [i32Scalar('m', 2), i32Scalar('n', 8), f32Scalar('lo', 0), f32Scalar('hi', 400)]);
    expect(dynamicValue(f)).toBe('r');
  });
});

// ---------------------------------------------------------------------------------------------------------
// float64 oracles

/** n-point DFT (or inverse, scaled by 1/n) of the complex samples (truncated or zero-padded to n). */
function dft64(re: number[], im: number[], n: number, inverse: boolean): { re: number[]; im: number[] } {
  const out = { re: new Array<number>(n).fill(0), im: new Array<number>(n).fill(0) };
  const sign = inverse ? 1 : -1;
  for (let k = 0; k < n; k++)
    for (let j = 0; j < Math.min(n, re.length); j++) {
      const t = (sign * 2 * Math.PI * j * k) / n;
      out.re[k]! += re[j]! * Math.cos(t) - im[j]! * Math.sin(t);
      out.im[k]! += re[j]! * Math.sin(t) + im[j]! * Math.cos(t);
    }
  if (inverse) for (let k = 0; k < n; k++) [out.re[k], out.im[k]] = [out.re[k]! / n, out.im[k]! / n];
  return out;
}

/** The real signal of length n whose onesided spectrum is given (numpy's irfft). */
function irfft64(re: number[], im: number[], n: number): number[] {
  const half = Math.floor(n / 2);
  const fullRe: number[] = [];
  const fullIm: number[] = [];
  for (let k = 0; k < n; k++) {
    const kk = k <= half ? k : n - k;
    const real = kk < re.length ? re[kk]! : 0;
    // DC and (even n) Nyquist are real; the upper half mirrors the lower as complex conjugates.
    const imag = kk < re.length && kk !== 0 && 2 * kk !== n ? im[kk]! : 0;
    fullRe.push(real);
    fullIm.push(k <= half ? imag : -imag);
  }
  return dft64(fullRe, fullIm, n, true).re;
}

/** Every signal of x along `axis` (x's last dim holds 1 or 2 parts) as [re, im] arrays, with its position. */
function signals(x: Tensor, axis: number): { at: number[]; re: number[]; im: number[] }[] {
  const shape = x.shape.slice(0, -1);
  const parts = x.shape[x.shape.length - 1]!;
  const out: { at: number[]; re: number[]; im: number[] }[] = [];
  const others = shape.map((d, i) => (i === axis ? 1 : d));
  const count = others.reduce((a, b) => a * b, 1);
  for (let o = 0; o < count; o++) {
    const at: number[] = [];
    let r = o;
    for (let d = others.length - 1; d >= 0; d--) {
      at.unshift(r % others[d]!);
      r = Math.floor(r / others[d]!);
    }
    const flat = (j: number, p: number): number => {
      const c = at.map((v, d) => (d === axis ? j : v));
      return c.reduce((acc, v, d) => acc * shape[d]! + v, 0) * parts + p;
    };
    const len = shape[axis]!;
    out.push({
      at,
      re: Array.from({ length: len }, (_, j) => x.data[flat(j, 0)]!),
      im: Array.from({ length: len }, (_, j) => (parts === 2 ? x.data[flat(j, 1)]! : 0)),
    });
  }
  return out;
}

/** y's element at `at` (with the axis coordinate replaced by k) and part p. */
function element(y: Tensor, at: number[], axis: number, k: number, p: number): number {
  const c = at.map((v, d) => (d === axis ? k : v));
  const parts = y.shape[y.shape.length - 1]!;
  return y.data[c.reduce((acc, v, d) => acc * y.shape[d]! + v, 0) * parts + p]!;
}

const close = (got: number, want: number, scale: number): void => expect(Math.abs(got - want)).toBeLessThanOrEqual(1e-5 * scale + 1e-6);

describe('DFT against a float64 DFT', () => {
  const x = (shape: number[]): Tensor => f32(shape, (i) => Math.sin(i * 1.7) * 3 + (i % 5));

  type Opts = { axis: number; n?: number; inverse?: boolean; onesided?: boolean };
  function dft(opset: number, input: Tensor, o: Opts): Tensor {
    const attrs: Record<string, Obj> = {};
    if (o.inverse) attrs.inverse = attrInt(1);
    if (o.onesided) attrs.onesided = attrInt(1);
    const inits: Obj[] = [];
    const names = ['x', o.n === undefined ? '' : 'len'];
    if (o.n !== undefined) inits.push(i64Tensor('len', [], [o.n]));
    if (opset < 20) attrs.axis = attrInt(o.axis);
    else {
      names.push('axis');
      inits.push(i64Tensor('axis', [], [o.axis]));
    }
    return run(opset, 'DFT', names, attrs, { x: input }, inits);
  }

  function expectMatches(input: Tensor, y: Tensor, o: Opts): void {
    const axis = o.axis < 0 ? o.axis + input.shape.length : o.axis;
    const len = input.shape[axis]!;
    for (const s of signals(input, axis)) {
      const scale = s.re.reduce((a, v, j) => a + Math.abs(v) + Math.abs(s.im[j]!), 0);
      if (o.inverse && o.onesided) {
        const n = o.n ?? 2 * (len - 1);
        irfft64(s.re, s.im, n).forEach((v, k) => close(element(y, s.at, axis, k, 0), v, scale));
        continue;
      }
      const n = o.n ?? len;
      const want = dft64(s.re, s.im, n, !!o.inverse);
      const bins = o.onesided ? Math.floor(n / 2) + 1 : n;
      expect(y.shape[axis]).toBe(bins);
      for (let k = 0; k < bins; k++) {
        close(element(y, s.at, axis, k, 0), want.re[k]!, scale);
        close(element(y, s.at, axis, k, 1), want.im[k]!, scale);
      }
    }
  }

  it.each([17, 20])('opset %i: real and complex, every axis, forward and inverse', (opset) => {
    for (const shape of [[2, 7, 3, 1], [3, 5, 2], [4, 6, 2]])
      for (let axis = 0; axis < shape.length - 1; axis++)
        for (const inverse of [false, true]) {
          const input = x(shape);
          const o = { axis: axis - (axis % 2) * (shape.length), inverse };
          expectMatches(input, dft(opset, input, o), o);
        }
  });

  it('dft_length pads and truncates; onesided keeps n/2 + 1 bins', () => {
    const input = x([2, 6, 1]);
    for (const n of [4, 6, 9]) for (const onesided of [false, true]) expectMatches(input, dft(20, input, { axis: 1, n, onesided }), { axis: 1, n, onesided });
  });

  it('inverse + onesided is irfft: a onesided spectrum back to a real signal', () => {
    for (const [shape, n] of [[[1, 6, 3, 2], undefined], [[2, 4, 2], 7], [[2, 5, 2], 6]] as const) {
      const input = x([...shape]);
      const o = { axis: 1, inverse: true, onesided: true, ...(n === undefined ? {} : { n }) };
      const y = dft(20, input, o);
      expect(y.shape[y.shape.length - 1]).toBe(1);
      expectMatches(input, y, o);
    }
    // A rfft followed by irfft returns the signal.
    const signal = x([1, 8, 1]);
    const spectrum = dft(20, signal, { axis: 1, onesided: true });
    const back = dft(20, spectrum, { axis: 1, inverse: true, onesided: true, n: 8 });
    back.data.forEach((v, i) => close(v, signal.data[i]!, 10));
  });

  it('rejects the complex dim as axis and names a run-time axis', () => {
    expect(() => dft(20, x([2, 4, 1]), { axis: -1 })).toThrow('DFT axis -1 is out of range for rank 3');
    expect(() => dft(17, x([2, 4, 3]), { axis: 1 })).toThrow('must end in a dim of 1 (real) or 2 (complex)');
    const f = () => importGraph(20, 'DFT', ['x', '', 'axis'], {}, { x: x([2, 4, 1]), axis: makeTensor('i32', [], [1]) });
    expect(dynamicValue(f)).toBe('axis');
  });
});

describe('STFT against framed float64 DFTs', () => {
  const signal = f32([2, 40, 1], (i) => Math.cos(i * 0.37) + (i % 3));

  function expectStft(y: Tensor, step: number, len: number, window: number[] | undefined, onesided: boolean): void {
    const frames = 1 + Math.floor((40 - len) / step);
    const bins = onesided ? Math.floor(len / 2) + 1 : len;
    expect(y.shape).toEqual([2, frames, bins, 2]);
    for (let b = 0; b < 2; b++)
      for (let f = 0; f < frames; f++) {
        const re = Array.from({ length: len }, (_, j) => signal.data[b * 40 + f * step + j]! * (window ? window[j]! : 1));
        const want = dft64(re, new Array<number>(len).fill(0), len, false);
        for (let k = 0; k < bins; k++) {
          const at = ((b * frames + f) * bins + k) * 2;
          close(y.data[at]!, want.re[k]!, 40);
          close(y.data[at + 1]!, want.im[k]!, 40);
        }
      }
  }

  it('frame_length without a window, onesided by default and twosided', () => {
    expectStft(run(17, 'STFT', ['x', 'step', '', 'len'], {}, { x: signal }, [i64Tensor('step', [], [5]), i64Tensor('len', [], [12])]), 5, 12, undefined, true);
    expectStft(run(17, 'STFT', ['x', 'step', '', 'len'], { onesided: attrInt(0) }, { x: signal }, [i64Tensor('step', [], [7]), i64Tensor('len', [], [9])]), 7, 9, undefined, false);
  });

  it('a constant window (folded into the basis) and one computed at run time (multiplied in)', () => {
    const w = Array.from({ length: 10 }, (_, j) => 0.5 - 0.5 * Math.cos((2 * Math.PI * j) / 10));
    const win = f32([10], (j) => w[j]!);
    const known = run(17, 'STFT', ['x', 'step', 'w'], {}, { x: signal }, [i64Tensor('step', [], [4]), tensor('w', DT.FLOAT, [10], { float_data: [...win.data] })]);
    expectStft(known, 4, 10, [...win.data], true);
    const fed = run(17, 'STFT', ['x', 'step', 'w'], {}, { x: signal, w: win }, [i64Tensor('step', [], [4])]);
    expectStft(fed, 4, 10, [...win.data], true);
  });

  it('checks window against frame_length', () => {
    const inits = [i64Tensor('step', [], [4]), i64Tensor('len', [], [8]), tensor('w', DT.FLOAT, [10], { float_data: new Array(10).fill(1) })];
    expect(() => run(17, 'STFT', ['x', 'step', 'w', 'len'], {}, { x: signal }, inits)).toThrow('window has 10 samples but frame_length is 8');
  });
});
