// runtime/device.ts and runtime/errors.ts without a GPU: a fake GPU with no adapter gives the actionable error,
// missing required features are named, and error scopes turn a popped error into an exception.
import { describe, expect, it } from 'vitest';
import { DeviceError, NO_ADAPTER_MESSAGE, acquireDevice } from '../../runtime/device.js';
import { GpuError, withErrorScopes } from '../../runtime/errors.js';

const fakeAdapter = (features: string[]): GPUAdapter =>
  ({
    features: new Set(features),
    info: { vendor: 'acme', architecture: 'sim', device: '', description: 'fake' },
    requestDevice: async () => ({ features: new Set(features), destroy: () => {} }),
  }) as unknown as GPUAdapter;

describe('acquireDevice', () => {
  it('explains how to get an adapter when there is none', async () => {
    const gpu = { requestAdapter: async () => null } as unknown as GPU;
    await expect(acquireDevice({ gpu })).rejects.toThrow(NO_ADAPTER_MESSAGE);
    await expect(acquireDevice({ gpu })).rejects.toBeInstanceOf(DeviceError);
  });

  it('names missing required features and describes the adapter', async () => {
    const gpu = { requestAdapter: async () => fakeAdapter(['shader-f16']) } as unknown as GPU;
    await expect(acquireDevice({ gpu, features: ['subgroups'] })).rejects.toThrow(/acme \/ sim \/ \? \/ fake lacks required feature\(s\): subgroups/);
    const d = await acquireDevice({ gpu, optionalFeatures: ['shader-f16', 'subgroups'] });
    expect(d.adapterInfo).toBe('acme / sim / ? / fake');
    expect(d.features.has('shader-f16')).toBe(true);
    d.release();
    d.release(); // idempotent
  });
});

describe('withErrorScopes', () => {
  function fakeDevice(errorFor: string | undefined): GPUDevice {
    const stack: string[] = [];
    return {
      pushErrorScope: (f: string) => stack.push(f),
      popErrorScope: async () => {
        const f = stack.pop();
        return f === errorFor ? { message: `bad ${f}` } : null;
      },
    } as unknown as GPUDevice;
  }

  it('returns the result when no scope caught anything', async () => {
    await expect(withErrorScopes(fakeDevice(undefined), () => 42)).resolves.toBe(42);
  });

  it('throws a GPUValidationError with the message', async () => {
    const p = withErrorScopes(fakeDevice('validation'), () => 1, 'my_kernel');
    await expect(p).rejects.toBeInstanceOf(GpuError);
    await expect(withErrorScopes(fakeDevice('validation'), () => 1, 'my_kernel')).rejects.toThrow(
      'my_kernel: WebGPU validation error: bad validation',
    );
    await expect(withErrorScopes(fakeDevice('out-of-memory'), () => 1)).rejects.toMatchObject({ name: 'GPUOutOfMemoryError' });
  });

  it('pops every scope and rethrows when the work throws', async () => {
    const device = fakeDevice(undefined);
    await expect(withErrorScopes(device, () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await expect(withErrorScopes(device, () => 'ok')).resolves.toBe('ok');
  });
});
