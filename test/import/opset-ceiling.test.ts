// The importer's opset ceiling: MAX_OPSET is the newest default-domain opset in ONNX's node tests, a model past
// it is refused by name, and the ops that opsets 27 and 28 introduced or changed are mapped from the version
// that introduced them (and not before), so no open-ended row silently covers a changed version.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { importOnnx } from '../../ir/import/onnx/index.js';
import { MAX_OPSET } from '../../ir/import/onnx/rule.js';
import { mappedVersions, resolveRule } from '../../ir/import/onnx/table.js';
import { interpret } from '../../ir/interp.js';
import { makeTensor } from '../../ir/tensor.js';
import { DT, attrFloat, singleOp, valueInfo } from '../../scripts/lib/onnx-build.js';
import { haveShared, sharedDir } from '../../scripts/lib/shared.js';

describe('importer opset ceiling', () => {
  it.runIf(haveShared())('is the newest default-domain opset among the ONNX node tests', () => {
    let newest = 0;
    for (const set of ['onnx-node-tests', 'onnx-node-tests-extended']) {
      const manifest = JSON.parse(readFileSync(join(sharedDir()!, set, 'manifest.json'), 'utf8')) as { cases: { opset_import: { domain: string; version: number }[] }[] };
      for (const c of manifest.cases) for (const o of c.opset_import) if (o.domain === '' || o.domain === 'ai.onnx') newest = Math.max(newest, o.version);
    }
    expect(MAX_OPSET).toBe(newest);
  });

  it('maps the ops opsets 27 and 28 added from their first version, and Range through the 27 type widening', () => {
    expect(MAX_OPSET).toBe(28);
    expect(mappedVersions('CausalConvWithState')).toBe('27-28');
    expect(mappedVersions('SwiGLU')).toBe('28-28');
    expect(() => resolveRule('SwiGLU', 27)).toThrow(/SwiGLU in opset 27 is not mapped/);
    expect(resolveRule('Range', 27).since).toBe(11);
    // Attention-28's sliding-window attributes (onnx#8108) are accepted from 28 only.
    expect(mappedVersions('Attention')).toBe('23-23, 24-27, 28-28');
  });

  it('imports a float16 Range at opset 27 and a SwiGLU at opset 28', () => {
    const x = [valueInfo('a', DT.FLOAT, [2, 3]), valueInfo('b', DT.FLOAT, [2, 3])];
    const g = importOnnx(singleOp('SwiGLU', x, [valueInfo('y', DT.FLOAT)], { alpha: attrFloat(0.5) }, { opset: 28 })).graph;
    const a = makeTensor('f32', [2, 3], [-2, -1, 0, 1, 2, 3]);
    const b = makeTensor('f32', [2, 3], [1, 2, 3, 4, 5, 6]);
    const y = interpret(g, { a, b }).y!;
    y.data.forEach((v, i) => expect(v).toBeCloseTo(((a.data[i]! / (1 + Math.exp(-0.5 * a.data[i]!))) * b.data[i]!), 5));
    const range = importOnnx(
      singleOp('Range', [], [valueInfo('r', DT.FLOAT16)], {}, {
        opset: 27,
        initializers: [
          { name: 's', data_type: DT.FLOAT16, dims: [], int32_data: [0x3c00] }, // 1
          { name: 'l', data_type: DT.FLOAT16, dims: [], int32_data: [0x4400] }, // 4
          { name: 'd', data_type: DT.FLOAT16, dims: [], int32_data: [0x3800] }, // 0.5
        ],
      }),
    ).graph;
    expect([...interpret(range, {}).r!.data]).toEqual([1, 1.5, 2, 2.5, 3, 3.5]);
  });

  it('refuses a model past the ceiling, naming the opset and the range kiln imports', () => {
    const bytes = singleOp('Relu', [valueInfo('x', DT.FLOAT, [2])], [valueInfo('y', DT.FLOAT)], {}, { opset: MAX_OPSET + 1 });
    expect(() => importOnnx(bytes)).toThrow(new RegExp(`opset ${MAX_OPSET + 1}; kiln imports opsets 7 to ${MAX_OPSET}`));
  });
});
