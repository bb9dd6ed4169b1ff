// The traffic model's rates from a device profile (passes/sparse/profiles.ts, the one profile type). A profile
// fitted by bench:sparse measures read bandwidth, dense matmul throughput and the cost of a whole run; what it
// lacks stands in from those: writes at the read bandwidth, the dense matmul rate (two flops per multiply-add)
// for other arithmetic (or the arranged kernels' rate, panelFlopsPerMs, where faster: a roofline is a ceiling), a 64-byte transaction (a cache line), and a tenth of a run's fixed cost per dispatch.
import type { DeviceProfile } from '../../passes/index.js';
import type { Rates } from './model.js';

export function trafficRates(p: DeviceProfile): Rates {
  return {
    readBytesPerMs: p.bytesPerMs,
    writeBytesPerMs: p.writeBytesPerMs ?? p.bytesPerMs,
    transactionBytes: p.transactionBytes ?? 64,
    // The compute ceiling is the fastest kernel rate the profile knows: the arranged kernels' where measured.
    flopsPerMs: Math.max(p.flopsPerMs ?? 2 * p.denseMacsPerMs, p.panelFlopsPerMs ?? 0),
    launchMs: p.launchMs ?? p.dispatchMs / 10,
    barrierMs: p.barrierMs ?? 0,
  };
}
