// Manifest dims as people read them (kiln inspect, kiln run's messages): 7, batch, or 2*sequence+1 for the postfix
// programs the runtime evaluates (runtime/dims.ts). Display only, so it stays out of the runtime bundle.
import type { ManifestDim } from '../../runtime/plan.js';

/** A manifest dim as people read it: 7, batch, or 2*sequence+1 for a postfix program. */
export function formatManifestDim(d: ManifestDim): string {
  if (typeof d !== 'object') return String(d);
  const stack: { text: string; prec: number }[] = [];
  const PREC: Record<string, number> = { '+': 1, '*': 2, '//': 2 };
  for (const t of d) {
    if (typeof t === 'number' || !(t in PREC)) {
      stack.push({ text: String(t), prec: 3 });
      continue;
    }
    const b = stack.pop()!;
    const a = stack.pop()!;
    const p = PREC[t]!;
    const wrap = (x: { text: string; prec: number }, right: boolean): string => (x.prec < p || (right && x.prec === p && t !== '+') ? `(${x.text})` : x.text);
    if (t === '*' && a.text === '1') stack.push(b);
    else stack.push({ text: `${wrap(a, false)}${t}${wrap(b, true)}`.replace('+-', '-'), prec: p });
  }
  return stack[0]?.text ?? '';
}

export const formatManifestShape = (shape: readonly ManifestDim[]): string => `[${shape.map(formatManifestDim).join(',')}]`;
