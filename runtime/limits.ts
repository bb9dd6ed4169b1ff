// What an artifact needs of a device, read off its manifest per kernel, dispatch and buffer, and checked against the
// device's limits before any buffer is created or byte uploaded. A shortfall names the limit, the kernel (or buffer)
// that needs it, the value needed and the adapter's, so the user knows what to recompile for; the alternative is a
// validation error from deep inside pipeline or bind-group creation, naming neither.
import { manifestDimAtMax } from './dims.js';
import { pad4 } from './codec.js';
import { DEFAULT_LIMITS } from './device.js';
import type { Manifest } from './plan.js';

export class LimitError extends Error {
  override name = 'LimitError';
}

export interface LimitNeed {
  readonly limit: string;
  readonly value: number;
  /** The kernel, dispatch or buffer that needs `value`. */
  readonly where: string;
}

/** The limits a manifest's plan can need (the names limitNeeds reports): those WebGPU gives defaults for here. */
export const PLAN_LIMITS: readonly string[] = Object.keys(DEFAULT_LIMITS);

/** The largest need of each limit the manifest implies (the first place attaining it), plus requires.limits. */
export function limitNeeds(m: Manifest): LimitNeed[] {
  const needs = new Map<string, LimitNeed>();
  const need = (limit: string, value: number, where: string): void => {
    const prev = needs.get(limit);
    if (!prev || value > prev.value) needs.set(limit, { limit, value, where });
  };
  const kernels = new Map(m.kernels.map((k) => [k.id, k]));
  for (const k of m.kernels) {
    const where = `kernel ${k.file}`;
    need('maxStorageBuffersPerShaderStage', k.bindings.filter((b) => b.access !== 'uniform').length, where);
    need('maxUniformBuffersPerShaderStage', k.bindings.filter((b) => b.access === 'uniform').length, where);
    need('maxComputeInvocationsPerWorkgroup', k.workgroupSize[0] * k.workgroupSize[1] * k.workgroupSize[2], where);
    (['X', 'Y', 'Z'] as const).forEach((axis, i) => need(`maxComputeWorkgroupSize${axis}`, k.workgroupSize[i]!, where));
    need('maxComputeWorkgroupStorageSize', k.workgroupStorageBytes ?? 0, where);
  }
  for (const [entry, e] of Object.entries(m.entryPoints))
    for (const d of e.dispatches) {
      const k = kernels.get(d.kernel);
      const where = `kernel ${k?.file ?? d.kernel} (dispatch '${d.label}' of '${entry}')`;
      need('maxComputeWorkgroupsPerDimension', Math.max(...d.workgroups.map((w) => manifestDimAtMax(w, m.symbols))), where);
      d.bindings.forEach((r, j) => {
        const uniform = k?.bindings[j]?.access === 'uniform';
        need(uniform ? 'maxUniformBufferBindingSize' : 'maxStorageBufferBindingSize', pad4(r.bytes), where);
      });
    }
  for (const b of m.buffers) need('maxBufferSize', pad4(b.bytes), `buffer ${b.id} (${b.kind}${b.source ? `, ${b.source.file}` : ''})`);
  for (const [limit, value] of Object.entries(m.requires.limits)) need(limit, value, "the manifest's requires.limits");
  return [...needs.values()];
}

/**
 * Throw a LimitError naming every shortfall of the device (before anything is uploaded). A device acquired by kiln
 * asked for everything the adapter offers up to the need, so its shortfalls are the adapter's; a caller's device
 * may have been created with less than its adapter offers, which the message then says.
 */
export function checkLimits(m: Manifest, device: GPUDevice, adapter: GPUAdapter, adapterInfo: string): void {
  const have = device.limits as unknown as Record<string, number>;
  const offered = adapter.limits as unknown as Record<string, number>;
  const short = limitNeeds(m)
    .filter((n) => (have[n.limit] ?? 0) < n.value)
    .map((n) => {
      const more = (offered[n.limit] ?? 0) > (have[n.limit] ?? 0) ? ` (the adapter offers ${offered[n.limit]}: request it as a requiredLimit)` : '';
      return `${n.where} needs ${n.limit} ${n.value}; the ${more ? 'device has' : 'adapter offers'} ${have[n.limit] ?? 'none'}${more}`;
    });
  if (short.length)
    throw new LimitError(
      `the adapter ${adapterInfo} cannot run ${m.model.name}: ${short.join('; ')}; compile for this adapter's limits (kiln compile --limit) or use an adapter that offers more`,
    );
}
