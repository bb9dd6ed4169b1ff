// .npy files as numpy.save writes them, for the npy tests and the npy fuzz target (one writer for both).
/** Magic, version, the header dict padded to 64 bytes with a newline, then the data; `header` replaces the dict. */
export function npyFile(descr: string, shape: readonly number[], data: Uint8Array, major = 1, header?: string): Uint8Array {
  const dict = header ?? `{'descr': '${descr}', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  const start = major === 1 ? 10 : 12;
  const encoded = new TextEncoder().encode(dict);
  const padded = new Uint8Array(encoded.length + ((64 - ((start + encoded.length + 1) % 64)) % 64) + 1).fill(0x20);
  padded.set(encoded);
  padded[padded.length - 1] = 0x0a;
  const out = new Uint8Array(start + padded.length + data.byteLength);
  out.set([0x93, ...new TextEncoder().encode('NUMPY'), major, 0]);
  const view = new DataView(out.buffer);
  if (major === 1) view.setUint16(8, padded.length, true);
  else view.setUint32(8, padded.length, true);
  out.set(padded, start);
  out.set(data, start + padded.length);
  return out;
}
