// The ways exporters compute Resize's output size from a symbolic input shape, imported with symbolic H and W:
// PyTorch's sizes (Shape -> Slice -> Cast(float) -> Mul(scale) [-> Floor] -> Cast(int64) -> Concat) and its
// constant scales, and tf2onnx's scales = Cast(sizes) / Cast(Shape(x)). Each must fold at import into a Resize
// whose sizes are dims, and interpret exactly as the same model imported with the dims fixed, at two sizes.
import { describe, expect, it } from 'vitest';
import { importOnnx } from '../../ir/import/onnx/index.js';
import { type Graph, type Tensor, interpret, makeTensor } from '../../ir/index.js';
import { DT, attrFloat, attrInt, attrString, encodeModel, f32Tensor, i64Tensor, model, node, valueInfo } from '../../scripts/lib/onnx-build.js';

type Obj = Record<string, unknown>;

/** A model of x [N,3,H,W] whose nodes end in a Resize writing y; `extra` initializers beside the common ones. */
function resizeModel(nodes: Obj[], extra: Obj[], opset: number): Uint8Array {
  return encodeModel(
    model({
      opset,
      nodes: [node('Shape', ['x'], ['shape']), node('Slice', ['shape', 'at2', 'at4', 'at0'], ['hw']), node('Slice', ['shape', 'at0', 'at2', 'at0'], ['nc']), ...nodes],
      inputs: [valueInfo('x', DT.FLOAT, ['N', 3, 'H', 'W'])],
      outputs: [valueInfo('y', DT.FLOAT)],
      initializers: [i64Tensor('at0', [1], [0]), i64Tensor('at2', [1], [2]), i64Tensor('at4', [1], [4]), f32Tensor('roi', [0], []), ...extra],
    }),
  );
}

/** PyTorch's sizes: Cast(float) -> Mul(scale) [-> Floor] -> Cast(int64), concatenated after N and C. */
const pytorchSizes = (scale: number, floor: boolean, attrs: Record<string, Obj>, opset: number): Uint8Array =>
  resizeModel(
    [
      node('Cast', ['hw'], ['hwf'], { to: attrInt(DT.FLOAT) }),
      node('Mul', ['hwf', 'scale'], ['scaled']),
      ...(floor ? [node('Floor', ['scaled'], ['floored'])] : []),
      node('Cast', [floor ? 'floored' : 'scaled'], ['hwi'], { to: attrInt(DT.INT64) }),
      node('Concat', ['nc', 'hwi'], ['sizes'], { axis: attrInt(0) }),
      node('Resize', ['x', opset < 13 ? 'roi' : '', opset < 13 ? 'roi' : '', 'sizes'], ['y'], attrs),
    ],
    [f32Tensor('scale', [], [scale])],
    opset,
  );

/** tf2onnx's scales: the target sizes (Shape * 2 in int64) divided by the input shape, both cast to float. */
const tf2onnxScales = (attrs: Record<string, Obj>): Uint8Array =>
  resizeModel(
    [
      node('Mul', ['hw', 'two'], ['hw2']),
      node('Concat', ['nc', 'hw2'], ['sizes'], { axis: attrInt(0) }),
      node('Cast', ['sizes'], ['sizesf'], { to: attrInt(DT.FLOAT) }),
      node('Cast', ['shape'], ['shapef'], { to: attrInt(DT.FLOAT) }),
      node('Div', ['sizesf', 'shapef'], ['scales']),
      node('Resize', ['x', 'roi', 'scales'], ['y'], attrs),
    ],
    [i64Tensor('two', [], [2])],
    11,
  );

/** PyTorch's constant scales on symbolic H and W. */
const constantScales = (scales: number[], attrs: Record<string, Obj>): Uint8Array =>
  resizeModel([node('Resize', ['x', 'roi', 'scales'], ['y'], attrs)], [f32Tensor('scales', [4], scales)], 11);

function resizeSizes(g: Graph): unknown {
  const n = g.nodes.find((x) => x.op === 'Resize');
  expect(n, 'the model imports to a Resize node').toBeDefined();
  expect(g.nodes.map((x) => x.op)).toEqual(['Resize']);
  return n!.attrs.sizes;
}

/** Interpret the symbolic import and a static import of `bytes` at each shape: identical outputs. */
function expectLikeStatic(bytes: Uint8Array, shapes: readonly number[][]): void {
  const symbolic = importOnnx(bytes).graph;
  shapes.forEach((shape, k) => {
    const count = shape.reduce((a, b) => a * b, 1);
    const x: Tensor = makeTensor('f32', shape, Array.from({ length: count }, (_, i) => Math.sin(i * 1.7 + k) * 10));
    const fixed = importOnnx(bytes, { inputShapes: { x: shape } }).graph;
    const want = interpret(fixed, { x }).y!;
    const got = interpret(symbolic, { x }).y!;
    expect(got.shape, `shape at ${shape}`).toEqual(want.shape);
    expect(Array.from(got.data), `values at ${shape}`).toEqual(Array.from(want.data));
  });
}

const SHAPES = [
  [1, 3, 5, 7],
  [2, 3, 4, 3],
];

describe('Resize sizes and scales computed by exporters over symbolic dims', () => {
  it('PyTorch sizes: Mul(2.0) -> Cast(int64), opset 13 and 11, nearest', () => {
    for (const opset of [13, 11]) {
      const bytes = pytorchSizes(2, false, { mode: attrString('nearest'), nearest_mode: attrString('floor'), coordinate_transformation_mode: attrString('asymmetric') }, opset);
      expect(resizeSizes(importOnnx(bytes).graph)).toEqual(['N', 3, '2*H', '2*W']);
      expectLikeStatic(bytes, SHAPES);
    }
  });

  it('PyTorch sizes: Mul(1.5) -> Floor -> Cast(int64) floors a rational scale, linear', () => {
    const bytes = pytorchSizes(1.5, true, { mode: attrString('linear'), coordinate_transformation_mode: attrString('pytorch_half_pixel') }, 13);
    expect(resizeSizes(importOnnx(bytes).graph)).toEqual(['N', 3, '((3*H)//2)', '((3*W)//2)']);
    expectLikeStatic(bytes, SHAPES);
  });

  it('PyTorch constant scales [1,1,2,2] and [1,1,0.5,1.5] on symbolic H and W', () => {
    const up = constantScales([1, 1, 2, 2], { mode: attrString('linear'), coordinate_transformation_mode: attrString('half_pixel') });
    expect(resizeSizes(importOnnx(up).graph)).toEqual(['N', 3, '2*H', '2*W']);
    expectLikeStatic(up, SHAPES);
    const mixed = constantScales([1, 1, 0.5, 1.5], { mode: attrString('cubic'), cubic_coeff_a: attrFloat(-0.5) });
    expect(resizeSizes(importOnnx(mixed).graph)).toEqual(['N', 3, '(H//2)', '((3*W)//2)']);
    expectLikeStatic(mixed, SHAPES);
  });

  it("tf2onnx scales = Cast(sizes) / Cast(Shape(x)) fold to [1,1,2,2]", () => {
    const bytes = tf2onnxScales({ mode: attrString('linear'), coordinate_transformation_mode: attrString('asymmetric') });
    const g = importOnnx(bytes).graph;
    expect(resizeSizes(g)).toEqual(['N', 3, '2*H', '2*W']);
    expect(g.nodes[0]!.attrs.scales).toEqual([1, 1, 2, 2]);
    expectLikeStatic(bytes, SHAPES);
  });

  it('refuses, naming the value, a scale the float arithmetic would not give exactly', () => {
    // 0.3 is no multiple of 1/256: the size is left to run time, which Resize cannot take.
    const bytes = pytorchSizes(0.3, true, { mode: attrString('nearest') }, 13);
    expect(() => importOnnx(bytes)).toThrow(/Resize sizes must be a constant.*'sizes' is computed at run time/);
    // A constant scale that is no multiple of 1/1024 on a symbolic axis.
    expect(() => importOnnx(constantScales([1, 1, 0.3, 2], { mode: attrString('nearest') }))).toThrow(/Resize scale 0\.3.* axis 2 of 'x', which is symbolic \(H\)/);
  });
});
