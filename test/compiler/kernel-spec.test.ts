// structuralHash is the kernel cache key: stable across key order and runs (pinned below), sensitive to every
// field, and refuses anything that is not plain data. KernelCache dedupes kernels with equal specs.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KernelCache, canonicalJson, compileKernel, structuralHash } from '../../compiler/kernel-spec.js';
import { type ElementwiseSpec, elementwise } from '../../compiler/kernels/elementwise.js';
import '../../ir/index.js';

const spec: ElementwiseSpec = {
  kernel: 'elementwise',
  target: { shaderF16: false },
  inputs: [
    { dtype: 'i4', shape: [3, 5] },
    { dtype: 'i4', shape: [5] },
  ],
  ops: [{ op: 'Add', attrs: {}, args: [{ input: 0 }, { input: 1 }], dtype: 'i4', out: 'i4' }],
  output: { dtype: 'i4', shape: [3, 5] },
  workgroupSize: 64,
};

/** The same object with its keys inserted in reverse order, recursively. */
function reversed(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(reversed);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).reverse().map(([k, x]) => [k, reversed(x)]));
  return v;
}

describe('structuralHash', () => {
  it('is pinned for a fixed spec (a change here invalidates every kernel cache)', () => {
    expect(canonicalJson(spec)).toBe(
      '{"inputs":[{"dtype":"i4","shape":[3,5]},{"dtype":"i4","shape":[5]}],"kernel":"elementwise",' +
        '"ops":[{"args":[{"input":0},{"input":1}],"attrs":{},"dtype":"i4","op":"Add","out":"i4"}],' +
        '"output":{"dtype":"i4","shape":[3,5]},"target":{"shaderF16":false},"workgroupSize":64}',
    );
    expect(structuralHash(spec)).toBe(structuralHash(JSON.parse(canonicalJson(spec))));
    expect(structuralHash(spec)).toMatch(/^[0-9a-f]{64}$/);
    expect(structuralHash({ a: 1 })).toBe('015abd7f5cc57a2dd94b7590f04ad8084273905ee33ec5cebeae62276a97f862');
  });

  it('ignores key order', () => {
    fc.assert(fc.property(fc.jsonValue(), (v) => structuralHash(reversed(v)) === structuralHash(v)));
    expect(structuralHash(reversed(spec))).toBe(structuralHash(spec));
  });

  it('changes with every baked field', () => {
    const variants: unknown[] = [
      { ...spec, op: 'Sub' },
      { ...spec, target: { shaderF16: true } },
      { ...spec, workgroupSize: 128 },
      { ...spec, attrs: { alpha: 0.5 } },
      { ...spec, inputs: [spec.inputs[0], { dtype: 'i4', shape: [1, 5] }] },
      { ...spec, output: { dtype: 'u4', shape: [3, 5] } },
    ];
    const hashes = new Set([spec, ...variants].map(structuralHash));
    expect(hashes.size).toBe(variants.length + 1);
    expect(structuralHash({ x: 0 })).not.toBe(structuralHash({ x: -0 }));
    expect(structuralHash({ x: [1, 2] })).not.toBe(structuralHash({ x: [2, 1] }));
  });

  it('rejects values that are not plain data', () => {
    expect(() => structuralHash({ f: () => 1 })).toThrow(/function at \$\.f/);
    expect(() => structuralHash({ m: new Map() })).toThrow(/not plain data at \$\.m/);
    expect(() => structuralHash({ d: new Float32Array(2) })).toThrow(/not plain data/);
  });
});

describe('KernelCache', () => {
  it('builds a kernel once per structurally equal spec', () => {
    const cache = new KernelCache();
    const a = cache.get(elementwise, spec);
    const b = cache.get(elementwise, reversed(spec) as ElementwiseSpec);
    const c = cache.get(elementwise, { ...spec, op: 'Mul' });
    expect(b).toBe(a);
    expect(c).not.toBe(a);
    expect(cache.size).toBe(2);
    expect(a.name).toBe(`elementwise_${a.hash.slice(0, 12)}`);
  });

  it('generates identical WGSL for equal specs', () => {
    expect(compileKernel(elementwise, reversed(spec) as ElementwiseSpec).wgsl).toBe(compileKernel(elementwise, spec).wgsl);
  });
});
