// What an artifact needs of a device, read off its plan: every limit kind is attributed to the kernel, dispatch or
// buffer that needs the most, the compiler records the same reading in requires.limits (workgroup memory included),
// and a device short of any of them is refused naming the limit, the place and both values.
import { describe, expect, it } from 'vitest';
import { compileGraph } from '../../compiler/compile.js';
import { workgroupStorageBytes } from '../../compiler/wgsl/storage-size.js';
import { parseKir } from '../../ir/index.js';
import { LimitError, PLAN_LIMITS, checkLimits, limitNeeds } from '../../runtime/limits.js';
import type { Manifest } from '../../runtime/plan.js';

const manifest = {
  model: { name: 'm' },
  requires: { features: [], limits: {} },
  buffers: [
    { id: 0, kind: 'weights', bytes: 5000, source: { file: 'weights-0.bin', offset: 0 } },
    { id: 1, kind: 'arena', bytes: 70_000 },
    { id: 2, kind: 'uniform', bytes: 16 },
  ],
  kernels: [
    { id: 0, file: 'kernels/a.wgsl', entryPoint: 'main', workgroupSize: [64, 4, 1], workgroupStorageBytes: 20_000, bindings: [{ binding: 0, access: 'read' }, { binding: 1, access: 'read_write' }, { binding: 2, access: 'uniform' }] },
    { id: 1, file: 'kernels/b.wgsl', entryPoint: 'main', workgroupSize: [8, 8, 8], bindings: [{ binding: 0, access: 'read_write' }] },
  ],
  entryPoints: {
    run: {
      inputs: [],
      outputs: [],
      dispatches: [
        { kernel: 0, label: 'MatMul %y', workgroups: [70_000, 1, 1], bindings: [{ buffer: 0, offset: 0, bytes: 4999 }, { buffer: 1, offset: 0, bytes: 70_000 }, { buffer: 2, offset: 0, bytes: 16 }] },
        { kernel: 1, label: 'Relu %z', workgroups: [1, 2, 3], bindings: [{ buffer: 1, offset: 256, bytes: 100 }] },
      ],
    },
  },
  files: {},
} as unknown as Manifest;

describe('limitNeeds', () => {
  it('attributes each limit to the place that needs the most', () => {
    const needs = Object.fromEntries(limitNeeds(manifest).map((n) => [n.limit, `${n.value} @ ${n.where}`]));
    expect(needs).toEqual({
      maxStorageBuffersPerShaderStage: '2 @ kernel kernels/a.wgsl',
      maxUniformBuffersPerShaderStage: '1 @ kernel kernels/a.wgsl',
      maxComputeInvocationsPerWorkgroup: '512 @ kernel kernels/b.wgsl',
      maxComputeWorkgroupSizeX: '64 @ kernel kernels/a.wgsl',
      maxComputeWorkgroupSizeY: '8 @ kernel kernels/b.wgsl',
      maxComputeWorkgroupSizeZ: '8 @ kernel kernels/b.wgsl',
      maxComputeWorkgroupStorageSize: '20000 @ kernel kernels/a.wgsl',
      maxComputeWorkgroupsPerDimension: "70000 @ kernel kernels/a.wgsl (dispatch 'MatMul %y' of 'run')",
      maxStorageBufferBindingSize: "70000 @ kernel kernels/a.wgsl (dispatch 'MatMul %y' of 'run')",
      maxUniformBufferBindingSize: "16 @ kernel kernels/a.wgsl (dispatch 'MatMul %y' of 'run')",
      maxBufferSize: '70000 @ buffer 1 (arena)',
    });
    // --limit accepts exactly the names the plan is read for.
    expect(Object.keys(needs).sort()).toEqual([...PLAN_LIMITS].sort());
  });

  it('refuses a device short of any limit, naming the limit, where and both values', () => {
    const defaults: Record<string, number> = {
      maxStorageBuffersPerShaderStage: 8,
      maxUniformBuffersPerShaderStage: 12,
      maxComputeInvocationsPerWorkgroup: 256,
      maxComputeWorkgroupSizeX: 256,
      maxComputeWorkgroupSizeY: 256,
      maxComputeWorkgroupSizeZ: 64,
      maxComputeWorkgroupStorageSize: 16384,
      maxComputeWorkgroupsPerDimension: 65535,
      maxStorageBufferBindingSize: 134217728,
      maxUniformBufferBindingSize: 65536,
      maxBufferSize: 268435456,
    };
    const device = { limits: defaults } as unknown as GPUDevice;
    const roomier = { limits: { ...defaults, maxComputeWorkgroupStorageSize: 32768 } } as unknown as GPUAdapter;
    let message = '';
    try {
      checkLimits(manifest, device, roomier, 'acme gpu');
    } catch (e) {
      expect(e).toBeInstanceOf(LimitError);
      message = (e as Error).message;
    }
    expect(message).toMatch(/^the adapter acme gpu cannot run m: /);
    expect(message).toContain('kernel kernels/b.wgsl needs maxComputeInvocationsPerWorkgroup 512; the adapter offers 256');
    expect(message).toContain("kernel kernels/a.wgsl (dispatch 'MatMul %y' of 'run') needs maxComputeWorkgroupsPerDimension 70000; the adapter offers 65535");
    // The adapter has more than this device was created with: say so.
    expect(message).toContain('kernel kernels/a.wgsl needs maxComputeWorkgroupStorageSize 20000; the device has 16384 (the adapter offers 32768: request it as a requiredLimit)');
    const enough = { limits: { ...defaults, maxComputeInvocationsPerWorkgroup: 1024, maxComputeWorkgroupsPerDimension: 70000, maxComputeWorkgroupStorageSize: 20000 } } as unknown as GPUDevice;
    expect(() => checkLimits(manifest, enough, roomier, 'acme gpu')).not.toThrow();
  });
});

describe('the compiler records the plan\'s needs', () => {
  it('requires.limits holds every limit limitNeeds reads, with workgroup memory from the kernels\' declarations', () => {
    const g = parseKir(`graph @g(%x: f32[64,300]) {
  %y = Softmax(%x) {axis = -1} : f32[64,300]
  %s = ReduceSum(%y) {axes = [1], keepdims = 0} : f32[64]
  return %s
}`);
    const a = compileGraph(g, { source: 'g.kir' });
    expect(a.manifest.requires.limits).toEqual(Object.fromEntries(limitNeeds({ ...a.manifest, requires: { features: [], limits: {} } }).map((n) => [n.limit, n.value])));
    const shared = a.manifest.kernels.map((k) => k.workgroupStorageBytes ?? 0);
    expect(Math.max(...shared)).toBeGreaterThan(0);
    expect(a.manifest.requires.limits.maxComputeWorkgroupStorageSize).toBe(Math.max(...shared));
  });

  it('sizes workgroup arrays as WGSL lays them out, each variable rounded up to 16 bytes', () => {
    const f32 = { kind: 'scalar', scalar: 'f32' } as const;
    const vec3 = { kind: 'vec', width: 3, elem: 'f32' } as const;
    const arr = (elem: object, length: number) => ({ kind: 'workgroupVar', name: 'v', type: { kind: 'array', elem, length } });
    const m = (...decls: object[]) => ({ enables: [], decls }) as never;
    expect(workgroupStorageBytes(m(arr(f32, 5)))).toBe(32); // 20 -> 32
    expect(workgroupStorageBytes(m(arr(vec3, 3)))).toBe(48); // stride 16
    expect(workgroupStorageBytes(m(arr(f32, 4), arr({ kind: 'scalar', scalar: 'f16' }, 3)))).toBe(32); // 16 + (6 -> 16)
  });

  it('a plan needing more than a declared --limit is refused at compile time', () => {
    const g = parseKir(`graph @g(%x: f32[64,300]) {
  %y = Softmax(%x) {axis = -1} : f32[64,300]
  return %y
}`);
    expect(() => compileGraph(g, { limits: { maxStorageBufferBindingSize: 1024 } })).toThrow(
      /exceeds the target's declared limits: kernel kernels\/[\w-]+\.wgsl \(dispatch '[^']+' of 'run'\) needs maxStorageBufferBindingSize 76800 > 1024/,
    );
  });
});
