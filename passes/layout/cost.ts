// The traffic arrange-layout weighs for a GEMV weight: bytes each candidate kernel moves, at transaction
// granularity, and the time the device profile (passes/sparse/profiles.ts: bytesPerMs, dispatchMs) gives them.
// Candidates: the row-major skinny kernel (compiler/kernels/matmul-skinny.ts, configured as chooseMatMulPath
// does; mirrored here because passes/ may not import compiler/) and the arranged GEMV over panels of P outputs.
//   row-major   the weight's lines (a line per segment where a workgroup's share of a row is shorter than a
//               line), the activation once per workgroup, and the slice reduction through workgroup memory
//               (written and read once per round, 1 + log2(ks) rounds)
//   panels      ceil(M/P) contiguous panels of P*K weights (zero padding included), the activation once per panel,
//               no reduction
// The model is deliberately small: it decides row-major vs panels and P, and the profiler (kiln profile) is where
// its predictions are checked against measurements.
import type { DeviceProfile } from '../sparse/cost-model.js';
import { MAX_GEMV_ROWS } from './arrangement.js';

/** Bytes per memory transaction (a cache line on CPUs; a 64 B sector pair on GPUs). */
export const LINE_BYTES = 64;

/**
 * Panel widths the pass considers: multiples of 8, so a panel row is whole 16-byte words in f32 and f16; the
 * narrow ones for weights of few outputs (a conv's 16 filters), whose padding a wide panel would compute.
 */
export const PANEL_CANDIDATES = [256, 128, 64, 32, 16, 8] as const;

export interface GemvShape {
  /** Outputs (A's rows), inputs (K), activation rows, stored bytes per weight element. */
  readonly m: number;
  readonly k: number;
  readonly rows: number;
  readonly elemBytes: number;
  /** The tensor is [K, M] (contiguous along outputs: MatMul), else [M, K] (Gemm transB). */
  readonly transposed: boolean;
}

export interface LayoutCost {
  /** 0 for row-major, else the panel width. */
  readonly panel: number;
  readonly bytes: number;
  readonly ms: number;
}

const pow2ceil = (n: number): number => 2 ** Math.ceil(Math.log2(Math.max(1, n)));
const lines = (bytes: number): number => Math.ceil(bytes / LINE_BYTES);
const time = (p: DeviceProfile, bytes: number): number => bytes / p.bytesPerMs + p.dispatchMs;

/**
 * A use's time: a GEMV is bound by its bytes; a GEMM (more than MAX_GEMV_ROWS rows) by the slower of its bytes and
 * its flops at the kernel's rate: the tiled kernel's (flopsPerMs) row-major, the arranged kernel's
 * (panelFlopsPerMs) over panels, which a profile without that rate never chooses for a GEMM.
 */
function useTime(p: DeviceProfile, s: GemvShape, bytes: number, panel: number): number {
  if (s.rows <= MAX_GEMV_ROWS) return time(p, bytes);
  const rate = panel ? p.panelFlopsPerMs : p.flopsPerMs;
  if (!rate) return panel ? Infinity : time(p, bytes);
  if (!panel) return Math.max(bytes / p.bytesPerMs, (2 * s.rows * s.m * s.k) / rate) + p.dispatchMs;
  // Panels compute their zero padding too (M rounded up to whole panels), and every panel streams the whole
  // activation again through the same lanes that multiply (loads do not overlap the arithmetic there): narrow
  // panels pay that once per panel.
  const panels = Math.ceil(s.m / panel);
  const act = panels * s.rows * s.k * 4;
  return Math.max((bytes - act) / p.bytesPerMs, (2 * s.rows * panels * panel * s.k) / rate) + act / p.bytesPerMs + p.dispatchMs;
}

/**
 * The row-major skinny kernel's bytes: lanes along outputs (MatMul [K,M]) or along K (Gemm transB [M,K]). The
 * weight costs its own lines when every workgroup's segment of a row fills whole lines (or is the whole row:
 * rows lie back to back); a segment shorter than a line costs a line per segment (papers.md §4.3).
 */
export function rowMajorBytes(s: GemvShape): number {
  const vec = s.transposed ? s.m % 4 === 0 : s.k % 4 === 0;
  const xBytes = s.rows * s.k * 4;
  const dense = lines(s.m * s.k * s.elemBytes) * LINE_BYTES;
  if (s.transposed) {
    const units = vec ? s.m / 4 : s.m;
    const lb = Math.min(64, pow2ceil(units));
    const ks = Math.min(256 / lb, pow2ceil(Math.ceil(s.k / 8)));
    const groups = Math.ceil(units / lb);
    const segment = lb * (vec ? 4 : 1) * s.elemBytes;
    const weight = groups > 1 && segment < LINE_BYTES ? groups * s.k * LINE_BYTES : dense;
    const reduce = groups * ks * lb * s.rows * (vec ? 16 : 4) * 2 * (1 + Math.log2(ks));
    return weight + groups * xBytes + reduce;
  }
  const units = vec ? s.k / 4 : s.k;
  const ks = Math.min(64, pow2ceil(Math.ceil(units / 8)));
  const lb = Math.min(256 / ks, pow2ceil(s.m));
  const groups = Math.ceil(s.m / lb);
  const reduce = groups * ks * lb * s.rows * 4 * 2 * (1 + Math.log2(ks));
  return dense + groups * xBytes + reduce;
}

/** The arranged kernel's bytes over panels of `panel` outputs. */
export function panelBytes(s: GemvShape, panel: number): number {
  const panels = Math.ceil(s.m / panel);
  return lines(panels * panel * s.k * s.elemBytes) * LINE_BYTES + panels * s.rows * s.k * 4;
}

/**
 * Row-major and every panel width, costed over all of a weight's uses (same weight, so same m, k, orientation),
 * cheapest first; ties keep row-major (no rewrite) and then the wider panel (fewer activation reads).
 */
export function rankLayouts(profile: DeviceProfile, uses: readonly GemvShape[]): LayoutCost[] {
  const total = (bytes: (s: GemvShape) => number, panel: number): LayoutCost => {
    const b = uses.reduce((sum, s) => sum + bytes(s), 0);
    return { panel, bytes: b, ms: uses.reduce((sum, s) => sum + useTime(profile, s, bytes(s), panel), 0) };
  };
  // A measured panel width (the profile's tuning.gemvPanel, from kiln tune) is the only panel candidate; 0: none.
  const panels = profile.tuning?.gemvPanel === undefined ? PANEL_CANDIDATES : profile.tuning.gemvPanel ? [profile.tuning.gemvPanel] : [];
  const all = [total(rowMajorBytes, 0), ...panels.map((p) => total((s) => panelBytes(s, p), p))];
  return all.map((c, i) => ({ c, i })).sort((a, b) => a.c.ms - b.c.ms || a.i - b.i).map((e) => e.c);
}
