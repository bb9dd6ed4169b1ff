// The demo page's logic that needs no DOM (so Node tests import it too): which kind of page an artifact gets,
// prompts as token ids, tensors from .npy and .json files, a drawing turned into an image classifier's input, and
// class probabilities. Plain ES module, no dependencies.

const numel = (shape) => shape.reduce((a, d) => a * d, 1);
const isStatic = (shape) => shape.every((d) => Number.isInteger(d) && d >= 0);

/**
 * The page for an artifact's manifest:
 * - { kind: 'decoder', generation, tokenizer } when it has a generation recipe;
 * - { kind: 'classifier', input, output, height, width, layout } for an image classifier: one f32 input of shape
 *   [1,1,H,W] ('nchw') or [1,H,W,1] ('nhwc') and a first output of 2..1000 scores ([C] or [1,C]);
 * - { kind: 'generic', entry, inputs, outputs } otherwise.
 */
export function decideMode(manifest) {
  if (manifest.generation) return { kind: 'decoder', generation: manifest.generation, tokenizer: manifest.tokenizer ?? null };
  const names = Object.keys(manifest.entryPoints ?? {});
  const entry = names.includes('run') ? 'run' : names[0];
  const ep = manifest.entryPoints[entry];
  const generic = { kind: 'generic', entry, inputs: ep.inputs, outputs: ep.outputs };
  if (entry !== 'run' || ep.inputs.length !== 1 || ep.outputs.length < 1) return generic;
  const input = ep.inputs[0];
  const output = ep.outputs[0];
  if (input.dtype !== 'f32' || !isStatic(input.shape) || input.shape.length !== 4 || input.shape[0] !== 1) return generic;
  if (!isStatic(output.shape) || !['f32', 'f16', 'bf16'].includes(output.dtype)) return generic;
  const classes = numel(output.shape);
  const batchless = output.shape.filter((d) => d !== 1).length <= 1;
  if (classes < 2 || classes > 1000 || !batchless) return generic;
  const [, a, b, c] = input.shape;
  let layout;
  let height;
  let width;
  if (a === 1) [layout, height, width] = ['nchw', b, c];
  else if (c === 1) [layout, height, width] = ['nhwc', a, b];
  else return generic;
  if (height < 4 || width < 4) return generic;
  // [1,1,H,W] and [1,H,W,1] hold the pixels in the same order; the layout is only reported.
  return { kind: 'classifier', input, output, height, width, layout, classes };
}

/** Token ids from text like "1, 2 3": non-negative integers separated by commas and/or spaces. */
export function parseIds(text) {
  const parts = text.split(/[\s,]+/).filter((s) => s !== '');
  if (parts.length === 0) throw new Error('the prompt is empty: give at least one token id');
  for (const p of parts) if (!/^\d+$/.test(p)) throw new Error(`'${p}' is not a token id (ids are non-negative integers, e.g. 1, 2, 3)`);
  return parts.map(Number);
}

/** Probabilities from a classifier's outputs: as they are when they already are ones, else their softmax. */
export function probabilities(scores) {
  const values = Array.from(scores, Number);
  const sum = values.reduce((a, v) => a + v, 0);
  if (values.every((v) => v >= 0 && v <= 1) && Math.abs(sum - 1) < 1e-3) return { probs: values, softmax: false };
  const max = Math.max(...values);
  const exps = values.map((v) => Math.exp(v - max));
  const total = exps.reduce((a, v) => a + v, 0);
  return { probs: exps.map((e) => e / total), softmax: true };
}

/** Index of the largest value (the first one on ties). */
export function argmax(values) {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return best;
}

const NPY_TYPES = {
  f4: Float32Array,
  f8: Float64Array,
  i1: Int8Array,
  u1: Uint8Array,
  b1: Uint8Array,
  i2: Int16Array,
  u2: Uint16Array,
  i4: Int32Array,
  u4: Uint32Array,
  i8: BigInt64Array,
  u8: BigUint64Array,
};

/** A NumPy .npy file (format 1.0-3.0, C order, little-endian or single-byte types) as { shape, data: number[] }. */
export function parseNpy(buffer) {
  const bytes = new Uint8Array(buffer);
  const magic = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];
  if (bytes.length < 10 || magic.some((m, i) => bytes[i] !== m)) throw new Error('not a .npy file (no \\x93NUMPY magic)');
  const major = bytes[6];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const start = major === 1 ? 10 : 12;
  const header = new TextDecoder().decode(bytes.subarray(start, start + headerLength));
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) throw new Error(`unreadable .npy header: ${header.trim()}`);
  if (fortran === 'True') throw new Error('Fortran-order .npy arrays are not supported (save with np.ascontiguousarray)');
  const shape = shapeText.split(',').map((s) => s.trim()).filter((s) => s !== '').map(Number);
  const order = descr[0];
  const type = NPY_TYPES[descr.slice(1)];
  if (!type || order === '>' || (order === '|' && type.BYTES_PER_ELEMENT > 1)) throw new Error(`.npy dtype '${descr}' is not supported (little-endian numbers and bools only)`);
  const offset = start + headerLength;
  const count = numel(shape);
  if (bytes.length - offset < count * type.BYTES_PER_ELEMENT) throw new Error(`the .npy file is truncated: ${count} values of '${descr}' need ${count * type.BYTES_PER_ELEMENT} bytes`);
  const copy = bytes.slice(offset, offset + count * type.BYTES_PER_ELEMENT);
  return { shape, data: Array.from(new type(copy.buffer, 0, count), Number) };
}

const JSON_SPECIALS = { NaN: NaN, Infinity: Infinity, '-Infinity': -Infinity };

function flatten(value, out, depth = 0) {
  if (depth > 32) throw new Error('lists nested deeper than 32 levels');
  if (Array.isArray(value)) {
    for (const v of value) flatten(v, out, depth + 1);
    return;
  }
  if (typeof value === 'number') out.push(value);
  else if (typeof value === 'boolean') out.push(value ? 1 : 0);
  else if (typeof value === 'string' && value in JSON_SPECIALS) out.push(JSON_SPECIALS[value]);
  else throw new Error(`${JSON.stringify(value)} is not a number`);
}

/**
 * A tensor's values from JSON, in the forms `kiln run --input` reads: a (nested) list of numbers, or
 * {"dtype", "shape", "data"}. Returns the flat values (the model's shape decides how they are read).
 */
export function valuesFromJson(text) {
  let value;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new Error(`not valid JSON (${e.message})`);
  }
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    if (!Array.isArray(value.data)) throw new Error('expected a list of numbers, or an object with a "data" list');
    value = value.data;
  }
  const out = [];
  flatten(value, out);
  return out;
}

/** Values from a .npy or .json file's bytes, checked against the count the model's input holds. */
export function valuesFromFile(name, buffer, expected) {
  const values = /\.npy$/i.test(name) ? parseNpy(buffer).data : valuesFromJson(new TextDecoder().decode(buffer));
  if (expected !== undefined && values.length !== expected) throw new Error(`${name} holds ${values.length} values; the input needs ${expected}`);
  return values;
}

/**
 * An image classifier's input from a drawing: `ink` holds srcWidth*srcHeight intensities in 0..1 (row-major). As
 * MNIST was prepared, the drawing's bounding box is scaled to fill `fill` of the target (keeping its aspect) and
 * centred; every target pixel is the mean of the source pixels it covers, times `scale` (the model's white).
 * Returns height*width values, row-major (all zero for an empty drawing).
 */
export function drawingToInput(ink, srcWidth, srcHeight, height, width, { fill = 20 / 28, scale = 1, threshold = 0.05 } = {}) {
  let x0 = srcWidth;
  let y0 = srcHeight;
  let x1 = -1;
  let y1 = -1;
  for (let y = 0; y < srcHeight; y++)
    for (let x = 0; x < srcWidth; x++)
      if (ink[y * srcWidth + x] > threshold) {
        x0 = Math.min(x0, x);
        x1 = Math.max(x1, x);
        y0 = Math.min(y0, y);
        y1 = Math.max(y1, y);
      }
  const out = new Array(height * width).fill(0);
  if (x1 < 0) return out;
  // Source pixels per target pixel, the same along both axes so the digit keeps its shape.
  const step = Math.max((x1 - x0 + 1) / (fill * width), (y1 - y0 + 1) / (fill * height));
  const cx = (x0 + x1 + 1) / 2;
  const cy = (y0 + y1 + 1) / 2;
  for (let ty = 0; ty < height; ty++)
    for (let tx = 0; tx < width; tx++) {
      const sx0 = cx + (tx - width / 2) * step;
      const sy0 = cy + (ty - height / 2) * step;
      let sum = 0;
      let n = 0;
      for (let sy = Math.floor(sy0); sy < Math.ceil(sy0 + step); sy++)
        for (let sx = Math.floor(sx0); sx < Math.ceil(sx0 + step); sx++) {
          n++;
          if (sx >= 0 && sy >= 0 && sx < srcWidth && sy < srcHeight) sum += ink[sy * srcWidth + sx];
        }
      out[ty * width + tx] = n ? (sum / n) * scale : 0;
    }
  return out;
}

/**
 * The fields Tokenizers.js insists on that a tokenizer.json may leave out (as kiln's Node loader fills them in):
 * the Rust library reads a missing normalizer, pre-tokenizer, post-processor or decoder as none.
 */
export function tokenizerJsonFilledIn(json) {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) throw new Error('tokenizer.json: its top level is not a JSON object');
  if (json.model === null || typeof json.model !== 'object') throw new Error('tokenizer.json: it has no "model" object');
  return {
    ...json,
    normalizer: json.normalizer ?? null,
    pre_tokenizer: json.pre_tokenizer ?? null,
    post_processor: json.post_processor ?? null,
    decoder: json.decoder ?? null,
    added_tokens: json.added_tokens ?? [],
  };
}

/** "12.3 tokens/s"-style rate of `count` events over `ms` milliseconds (no rate without time or events). */
export function rate(count, ms) {
  if (!(ms > 0) || count <= 0) return '–';
  const r = (count * 1000) / ms;
  return r >= 100 ? r.toFixed(0) : r >= 10 ? r.toFixed(1) : r.toFixed(2);
}

/** Values shown for an output: the first `limit`, at 6 significant digits, and how many there are in all. */
export function preview(values, limit = 64) {
  const shown = Array.from(values).slice(0, limit).map((v) => (typeof v === 'bigint' ? String(v) : String(Number(Number(v).toPrecision(6)))));
  return `[${shown.join(', ')}${values.length > limit ? `, … (${values.length} values)` : ''}]`;
}
