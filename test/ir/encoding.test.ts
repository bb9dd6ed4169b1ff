// Typed layouts and encodings: each kind parses, prints canonically, verifies, and interprets through its decode
// to the same logical tensor a plain constant gives; impossible ones are refused with the place and the reason.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type Graph,
  TRANSPOSED,
  blocked,
  decodeStored,
  encodeStored,
  interpret,
  makeTensor,
  parseKir,
  printGraph,
  tensorType,
  tiledCslEncoding,
  verify,
} from '../../ir/index.js';

const run = (text: string, x: number[]): number[] => [...Object.values(interpret(parseKir(text), { x: makeTensor("f32", [1, x.length], x) }))[0]!.data];
const problems = (text: string): string[] => verify(parseKir(text, 'enc.kir')).map((d) => d.message);
const parseError = (text: string): string => {
  try {
    parseKir(text, 'enc.kir');
  } catch (e) {
    return (e as Error).message.split('\n')[0]!;
  }
  throw new Error('parsed');
};

// W = [[1, 2, 3], [4, 5, 6]] as the weight of x[1,2] . W[2,3]; x = [1, 10] gives [41, 52, 63].
const matmul = (decl: string): string => `graph @g(%x: f32[1,2]) {\n  ${decl}\n  %y = MatMul(%x, %w)\n  return %y\n}\n`;

describe('layouts', () => {
  it('transposed and blocked constants decode to the same logical weight', () => {
    const want = [41, 52, 63];
    expect(run(matmul('const %w: f32[2,3] = [1, 2, 3, 4, 5, 6]'), [1, 10])).toEqual(want);
    expect(run(matmul('const %w: f32[2,3]{layout=transposed} = [1, 4, 2, 5, 3, 6]'), [1, 10])).toEqual(want);
    // 2x2 blocks in row order, ragged: block (0,0) = [1,2,4,5], block (0,1) = [3,0,6,0].
    expect(run(matmul('const %w: f32[2,3]{layout=blocked(tile=[2,2])} = [1, 2, 4, 5, 3, 0, 6, 0]'), [1, 10])).toEqual(want);
    // 1x2 blocks in column order: column block 0 = rows 0, 1 of columns 0..1, then column block 1.
    expect(run(matmul('const %w: f32[2,3]{layout=blocked(order=col,tile=[1,2])} = [1, 2, 4, 5, 3, 0, 6, 0]'), [1, 10])).toEqual(want);
  });

  it('encodeStored and decodeStored are inverse for random shapes, tiles and orders', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 9 }), fc.integer({ min: 1, max: 9 }), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 }), fc.boolean(), (r, c, a, b, col) => {
        const logical = makeTensor('f32', [r, c], (i) => i + 1);
        for (const layout of [TRANSPOSED, blocked([a, b], col ? 'col' : 'row')]) {
          const t = tensorType('f32', [r, c], layout);
          expect([...decodeStored(t, encodeStored(t, logical), () => logical).data]).toEqual([...logical.data]);
        }
      }),
    );
  });

  it('are refused where they cannot apply', () => {
    expect(parseError(matmul('const %w: f32[2,3]{layout=diagonal} = [1, 2, 3, 4, 5, 6]'))).toBe("enc.kir:2:29: unknown layout 'diagonal' (layouts: row-major, transposed, blocked)");
    expect(parseError(matmul('const %w: f32[2,3]{layout=blocked(tile=[2])} = [1, 2, 3, 4, 5, 6]'))).toBe("enc.kir:2:37: blocked parameter 'tile' must be two integers >= 1 like [4,4], got [2]");
    expect(parseError(matmul('const %w: f32[6]{layout=transposed} = [1, 2, 3, 4, 5, 6]'))).toBe('enc.kir:2:13: constant %w: layout transposed needs a 2-D tensor, got rank 1');
    expect(problems('graph @g(%x: f32[2,3]{layout=transposed}) {\n  return %x\n}\n')[0]).toMatch(/input %x: only constants carry a layout or encoding/);
    expect(problems('graph @g(%x: f32[2,3]) {\n  %y = Relu(%x) : f32[2,3]{layout=transposed}\n  return %y\n}\n')[0]).toMatch(/only constants carry a layout or encoding: Relu computes a dense row-major value/);
  });
});

describe('encodings', () => {
  it('tiled-csl: a transposed sparse weight decodes exactly (f32 values) and to f16 (f16 values)', () => {
    const t = tensorType('f32', [16, 8], TRANSPOSED, tiledCslEncoding([8, 8], 'f16'));
    const logical = makeTensor('f32', [16, 8], (i) => (i % 3 === 0 ? i / 3 + 0.1 : 0));
    const stored = encodeStored(t, logical);
    const text = `graph @g(%x: f32[1,16]) {\n  const %w: ${printGraph({ name: 'g', symbols: {}, inputs: [], constants: [{ name: 'w', type: t, value: stored }], nodes: [], outputs: ['w'], types: new Map([['w', t]]) }).split('const %w: ')[1]!.split('\n')[0]}\n  %y = MatMul(%x, %w)\n  return %y\n}\n`;
    const g = parseKir(text);
    expect(verify(g)).toEqual([]);
    expect(printGraph(g)).toBe(text);
    const decoded = decodeStored(t, stored, () => logical);
    expect([...decoded.data]).toEqual([...makeTensor('f16', [16, 8], logical.data).data]);
    const x = makeTensor('f32', [1, 16], (i) => i - 3);
    const plain = parseKir(text.replace(/const %w: .*\n/, `const %w: f32[16,8] = [${[...decoded.data].join(', ')}]\n`));
    expect([...interpret(g, { x }).y!.data]).toEqual([...interpret(plain, { x }).y!.data]);
  });

  it('tiled-csl data that is not a sound encoding, or tiles it cannot have, are refused', () => {
    expect(problems(matmul('const %w: f32[2,3]{encoding=tiled-csl(tile=[8,8],values=f32)} = [0, 1, 1]'))[0]).toMatch(/constant %w: tiled-csl data/);
    expect(problems(matmul('const %w: f32[2,3]{encoding=tiled-csl(tile=[8,12],values=f32)} = [0, 0, 0]'))[0]).toMatch(/tile\[1\] must be a power of two in 8..256, got 12/);
    expect(parseError(matmul('const %w: f32[2,3]{encoding=tiled-csl(tile=[8,8],values=f8)} = [0]'))).toMatch(/values' must be one of f16, f32, got f8/);
  });

  // W[2,3] with one scale per row (group 3 along axis 1): W = scale * code.
  const quant = (enc: string, codes: string, extra = ''): string =>
    matmul(`const %s: f32[2,1] = [0.5, 2]\n  ${extra}const %w: f32[2,3]{encoding=quant(${enc},scales=%s)} = [${codes}]`);

  it('quant: signed, unsigned with zero points, bipolar, packed and bit planes decode as scale * code', () => {
    // Row 0 = 0.5 * [2, 4, 6] = [1, 2, 3]; row 1 = 2 * [2, 2.5, 3] is not integral, so use [2, 2, 3] -> [4, 4, 6].
    const want = run(matmul('const %w: f32[2,3] = [1, 2, 3, 4, 4, 6]'), [1, 10]);
    expect(run(quant('bits=4,scheme=signed,group=3,axis=1', '2, 4, 6, 2, 2, 3'), [1, 10])).toEqual(want);
    expect(run(quant('bits=4,scheme=unsigned,group=3,axis=1,zero=per-group,zeros=%z', '3, 5, 7, 3, 3, 4', 'const %z: u4[2,1] = [1, 1]\n  '), [1, 10])).toEqual(want);
    // Bipolar 3-bit codes q stand for 2q - 7: 2 -> -3 ... ; row 0 = 0.5 * [-3, -1, 1] etc.
    const bip = run(quant('bits=3,scheme=bipolar,group=3,axis=1', '2, 3, 4, 5, 6, 7'), [1, 10]);
    expect(bip).toEqual(run(matmul('const %w: f32[2,3] = [-1.5, -0.5, 0.5, 6, 10, 14]'), [1, 10]));
    // Planes: bit b of code e at word b * 1 + 0, bit e. Codes [2,4,6,2,2,3]: bit0 = 0b100000 (code 5 = 3), ...
    const codes = [2, 4, 6, 2, 2, 3];
    const planes = [0, 1, 2, 3].map((b) => codes.reduce((w, q, e) => w | (((q >> b) & 1) << e), 0));
    expect(run(quant('bits=4,scheme=unsigned,group=3,axis=1,packing=planes', planes.join(', ')), [1, 10])).toEqual(want);
  });

  it('quant parameters and companions are checked', () => {
    expect(parseError(quant('bits=9,scheme=signed,group=3,axis=1', '0'))).toMatch(/^enc\.kir:3:\d+: quant parameter 'bits' must be an integer in 1\.\.8, got 9$/);
    expect(parseError(quant('bits=4,scheme=signed,group=3,axis=1,zeros=%s', '0'))).toMatch(/quant with zero=none takes no zeros/);
    expect(parseError(quant('bits=4,scheme=signed,group=3,axis=1,signed=true', '0'))).toMatch(/quant has no parameter 'signed'/);
    expect(problems(quant('bits=4,scheme=signed,group=2,axis=1', '2, 4, 6, 2, 2, 3'))[0]).toMatch(/scales %s must be f32\[2,2\] \(one per group of 2 along axis 1\), got f32\[2,1\]/);
    expect(problems(matmul('const %w: f32[2,3]{encoding=quant(bits=4,scheme=signed,group=3,axis=1,scales=%nope)} = [0, 0, 0, 0, 0, 0]'))[0]).toMatch(/scales %nope is not a constant/);
    expect(problems(quant('bits=4,scheme=signed,group=3,axis=1', '2, 4, 6, 2, 2, 99'))).toEqual([]); // codes round to i4 on parse
    // A block of 4-bit codes must be whole 32-bit words: tile [1,4] is 16 bits.
    expect(problems(matmul('const %s: f32[2,1] = [1, 1]\n  const %w: f32[2,3]{layout=blocked(tile=[1,4]), encoding=quant(bits=4,scheme=signed,group=3,axis=1,scales=%s)} = [0, 0, 0, 0, 0, 0, 0, 0]'))[0]).toMatch(
      /blocked tile \[1,4\] is not a whole number of 32-bit words of 4-bit codes/,
    );
  });

  it('every printed encoding parses back to the same graph', () => {
    const g: Graph = parseKir(quant('bits=4,scheme=unsigned,group=3,axis=1,zero=per-group,zeros=%z,packing=packed,scale=f32', '3, 5, 7, 3, 3, 4', 'const %z: u4[2,1] = [1, 1]\n  '));
    expect(printGraph(parseKir(printGraph(g)))).toBe(printGraph(g));
    expect(printGraph(g)).toContain('encoding=quant(axis=1,bits=4,group=3,packing=packed,scale=f32,scales=%s,scheme=unsigned,zero=per-group,zeros=%z)');
  });
});
