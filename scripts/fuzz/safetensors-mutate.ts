// Structure-aware damage to safetensors files and shard indexes: the header JSON parsed and one field changed
// (dtype, a shape dim, data offsets, a name, the metadata), the length prefix rewritten, the data section cut or
// grown, or the header text edited (a key repeated, padding, a BOM). Each returns the damaged file's bytes.
import { EXTERNAL_FORMATS } from '../../ir/external.js';
import { mutateText } from './mutate.js';
import { EDGE_NUMBERS, EDGE_STRINGS, type Rng } from './rng.js';
import { assemble, split } from './safetensors-specs.js';

type Json = any; // damaged headers hold anything

const JUNK: readonly Json[] = [null, true, 'x', '', [], {}, [1], { a: 1 }, -1, 0.5, 1e300, 2 ** 53, '8', ['F32']];
const DTYPES: readonly Json[] = [...EXTERNAL_FORMATS, 'F8_E4M3', 'U16', 'C64', 'f32', 'F32 ', '', 'toString', 7];
const NAMES = ['__proto__', 'constructor', '', '__metadata__', 'a'.repeat(200), 'conv1.weight', 'w\u0000', 'é'];

/** A fresh copy: a shared [] or {} put into one header and edited there would leak into later cases. */
const junk = (rng: Rng): Json => structuredClone(rng.pick(JUNK));
/** An own property even for '__proto__' (plain assignment would set the prototype, which JSON never shows). */
const setOwn = (o: Json, key: string, value: Json): void => void Object.defineProperty(o, key, { value, enumerable: true, writable: true, configurable: true });
const number = (rng: Rng): number => (rng.chance(0.6) ? rng.pick(EDGE_NUMBERS) : rng.range(-3, 2000));

/** One field-level change to a parsed header (or index) object, in place. */
export function mutateHeaderJson(rng: Rng, header: Json): void {
  if (!header || typeof header !== 'object') return; // an earlier change replaced it
  const names = Object.keys(header).filter((k) => k !== '__metadata__');
  const name = names.length ? rng.pick(names) : undefined;
  const entry = name !== undefined && header[name] && typeof header[name] === 'object' ? header[name] : undefined;
  switch (rng.int(9)) {
    case 0:
      if (entry) entry.dtype = rng.pick(DTYPES);
      break;
    case 1:
      if (entry && Array.isArray(entry.shape)) {
        if (entry.shape.length && rng.chance(0.7)) entry.shape[rng.int(entry.shape.length)] = rng.chance(0.8) ? number(rng) : junk(rng);
        else if (rng.chance(0.5)) entry.shape.push(number(rng));
        else entry.shape.pop();
      } else if (entry) entry.shape = junk(rng);
      break;
    case 2:
      if (entry && Array.isArray(entry.data_offsets)) {
        const [b, e] = entry.data_offsets;
        entry.data_offsets = rng.pick([[number(rng), e], [b, number(rng)], [e, b], [b + 1, e + 1], [b], [b, e, e], [String(b), e], [b, e - 1]]);
      } else if (entry) entry.data_offsets = junk(rng);
      break;
    case 3:
      if (entry) delete entry[rng.pick(['dtype', 'shape', 'data_offsets'])];
      else header.x = { dtype: 'F32', shape: [1], data_offsets: [0, 4] };
      break;
    case 4: // another name for the same range (overlap), or an entry under an odd name
      if (entry) setOwn(header, rng.pick(NAMES), structuredClone(entry));
      break;
    case 5:
      header.__metadata__ = rng.chance(0.5) ? junk(rng) : { [rng.pick(EDGE_STRINGS)]: rng.chance(0.5) ? rng.pick(EDGE_STRINGS) : junk(rng) };
      break;
    case 6:
      if (name !== undefined) header[name] = junk(rng);
      break;
    case 7:
      if (entry) setOwn(entry, rng.pick(['extra', 'dtype ', '__proto__']), junk(rng));
      break;
    default:
      if (name !== undefined) delete header[name];
  }
}

/** A valid file damaged in its structure: header fields, header text, length prefix or data section. */
export function mutateSafetensors(rng: Rng, file: Uint8Array): Uint8Array {
  const { header, data } = split(file);
  switch (rng.int(6)) {
    case 0:
    case 1:
      for (let n = rng.range(1, 3); n > 0; n--) mutateHeaderJson(rng, header);
      return assemble(header, data);
    case 2: {
      // Header text: a repeated key (JSON.parse keeps the last), padding (allowed), a BOM, or a hand edit.
      let text = JSON.stringify(header);
      const key = Object.keys(header)[0];
      if (key !== undefined && rng.chance(0.3)) text = `{${JSON.stringify(key)}:${JSON.stringify(header[key])},${text.slice(1)}`;
      else if (rng.chance(0.3)) text = rng.pick(['\ufeff', ' ', '\n']) + text + ' '.repeat(rng.int(16));
      else text = mutateText(rng, text, ['"dtype"', '"shape"', '"data_offsets"', '"F32"', '[', ']', '{', '}', ',']);
      return assemble(text, data);
    }
    case 3: {
      const length = BigInt(file.length - 8 - data.length);
      return assemble(header, data, BigInt.asUintN(64, rng.pick([0n, 1n, length - 1n, length + 1n, length * 2n, 2n ** 63n, -1n, 100_000_001n])));
    }
    case 4:
      return assemble(header, data.subarray(0, rng.int(data.length)));
    default: {
      const grown = new Uint8Array(file.length + rng.range(1, 64)).fill(rng.int(256));
      grown.set(file);
      return grown;
    }
  }
}
