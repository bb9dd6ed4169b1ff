// bitpack's options: one width for every matmul weight (bits=w<n>a<m>, group, weights, activations), weights kept
// float by name (keep), and per-layer overrides (layers: {"<regex>": "w8a8" | {"bits": "w8a8", "group": 32}}):
// a weight takes the first override whose pattern matches its name, else the default.
import { PassOptionError, onlyKeys } from '../pass.js';
import type { WeightScheme } from './quantize-weight.js';

/** How one weight is quantized. */
export interface BitWidth {
  /** Weight and activation bits; activation bits 0: weights only (w<n>f16, w<n>f32), activations stay float. */
  readonly weightBits: number;
  readonly activationBits: number;
  readonly weights: WeightScheme;
  readonly activations: 'signed' | 'bipolar';
  /** Inputs per scale along K (0: one scale per output row). */
  readonly group: number;
}

export interface BitLayerOverride extends BitWidth {
  readonly pattern: RegExp;
}

export interface BitpackOptions extends BitWidth {
  /** Weights whose names match stay float (e.g. "lm_head"). */
  readonly keep?: RegExp;
  /** Per-layer widths, first match wins. */
  readonly layers?: readonly BitLayerOverride[];
}

const regex = (what: string, source: string): RegExp => {
  try {
    return new RegExp(source);
  } catch (e) {
    throw new PassOptionError(`bitpack ${what} is not a regular expression: ${(e as Error).message}`);
  }
};

function readWidth(raw: Readonly<Record<string, unknown>>, where: string): BitWidth {
  // "bitpack group must be ..." / "bitpack: wt means ..."; for an override "bitpack layers 'mlp': ..." both.
  const said = where ? `bitpack ${where}` : 'bitpack: ';
  const m = /^w([1-8]|t)(?:a([1-8])|(f16|f32))$/.exec(String(raw.bits ?? ''));
  if (!m)
    throw new PassOptionError(
      `bitpack ${where}bits must be w<n>a<m> with n and m in 1..8 (e.g. w4a8), or w<n>f16 / w<n>f32 for weights only, n = t for ternary weights (wta8), got '${String(raw.bits ?? '')}'`,
    );
  // Ternary weights (BitNet b1.58: -1, 0, +1 times a mean-magnitude scale) are 2-bit signed codes.
  const ternary = m[1] === 't';
  const [weightBits, activationBits] = [ternary ? 2 : Number(m[1]), m[3] ? 0 : Number(m[2])];
  const group = raw.group === undefined ? 0 : Number(raw.group);
  if (!Number.isInteger(group) || group < 0) throw new PassOptionError(`bitpack ${where}group must be an integer >= 0 (0: one scale per output row), got ${String(raw.group)}`);
  if (ternary && raw.weights !== undefined) throw new PassOptionError(`${said}wt means ternary weights; weights=${String(raw.weights)} contradicts it`);
  const weights = (ternary ? 'ternary' : (raw.weights ?? (weightBits === 1 ? 'bipolar' : 'symmetric'))) as WeightScheme;
  if (weights !== 'symmetric' && weights !== 'bipolar' && weights !== 'ternary') throw new PassOptionError(`bitpack ${where}weights must be 'symmetric' or 'bipolar', got '${String(raw.weights)}'`);
  if (weights === 'symmetric' && weightBits < 2) throw new PassOptionError(`${said}symmetric 1-bit weights hold only 0; use weights=bipolar (signs) for w1`);
  const activations = (raw.activations ?? (activationBits === 1 ? 'bipolar' : 'signed')) as BitWidth['activations'];
  if (activationBits === 0 && raw.activations !== undefined) throw new PassOptionError(`${said}w${m[1]}${m[3]} quantizes weights only; activations=${String(raw.activations)} needs w<n>a<m>`);
  if (activations !== 'signed' && activations !== 'bipolar') throw new PassOptionError(`bitpack ${where}activations must be 'signed' or 'bipolar', got '${String(raw.activations)}'`);
  if (activations === 'signed' && activationBits === 1) throw new PassOptionError(`${said}signed 1-bit activations hold only -1 and 0; use activations=bipolar for a1`);
  return { weightBits, activationBits, weights, activations, group };
}

export function readBitpackOptions(raw: Readonly<Record<string, unknown>>): BitpackOptions {
  onlyKeys('bitpack', raw, ['bits', 'group', 'weights', 'activations', 'keep', 'layers']);
  const width = readWidth(raw, '');
  const keep = raw.keep !== undefined && raw.keep !== '' ? regex('keep', String(raw.keep)) : undefined;
  let layers: BitLayerOverride[] | undefined;
  if (raw.layers !== undefined) {
    if (typeof raw.layers !== 'object' || raw.layers === null || Array.isArray(raw.layers)) throw new PassOptionError('bitpack layers must map weight-name patterns to widths, e.g. {"lm_head": "w8a8", "mlp": {"bits": "w4a8", "group": 32}}');
    layers = Object.entries(raw.layers as Record<string, unknown>).map(([pattern, v]) => {
      const where = `layers '${pattern}': `;
      const entry = typeof v === 'string' ? { bits: v } : v;
      if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) throw new PassOptionError(`bitpack ${where}a width is "w<n>a<m>" or {"bits": ..., "group": ..., "weights": ..., "activations": ...}`);
      const unknown = Object.keys(entry).filter((k) => !['bits', 'group', 'weights', 'activations'].includes(k));
      if (unknown.length) throw new PassOptionError(`bitpack ${where}unknown key '${unknown[0]}' (known: bits, group, weights, activations)`);
      return { pattern: regex(`layers pattern '${pattern}'`, pattern), ...readWidth({ group: width.group, ...(entry as Record<string, unknown>) }, where) };
    });
  }
  return { ...width, ...(keep ? { keep } : {}), ...(layers ? { layers } : {}) };
}

/** The width a weight takes: the first override matching its name, else the default. */
export function widthFor(o: BitpackOptions, name: string): BitWidth {
  return o.layers?.find((l) => l.pattern.test(name)) ?? o;
}
