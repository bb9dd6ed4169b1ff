// Spatial-sampling ops. GridSample, RoiAlign, MaxUnpool, Col2Im and DeformConv map onto IR ops of the same name
// (kernels that gather or scatter at computed coordinates), with ONNX's version differences settled here:
// GridSample 16 names its modes bilinear/bicubic and is 2-D only (20 renamed them linear/cubic and went N-D);
// RoiAlign 10 always maps coordinates without the half-pixel shift (16 added coordinate_transformation_mode,
// defaulting to half_pixel); MaxUnpool's output_shape and Col2Im's image_shape/block_shape inputs must be known
// at compile time. AffineGrid is a MatMul of theta with a constant grid of base coordinates.
import { isStaticDim } from '../../../shape.js';
import { makeTensor } from '../../../tensor.js';
import type { NodeContext } from '../context.js';
import { invalid, unsupported } from '../errors.js';
import { type OpRule, passAttrs, rules } from '../rule.js';

/** GridSample 16-19: 4-D only, modes bilinear / nearest / bicubic. */
function gridSample16(cx: NodeContext): void {
  const rank = cx.type(0).shape.length;
  if (rank !== 4) invalid(`GridSample (opset ${cx.opset}) takes a 4-D X, got rank ${rank}; N-D sampling needs opset 20`);
  const names: Record<string, string> = { bilinear: 'linear', nearest: 'nearest', bicubic: 'cubic' };
  const mode = cx.attrs.string('mode', 'bilinear');
  if (!names[mode]) invalid(`GridSample (opset ${cx.opset}) mode must be bilinear, nearest or bicubic, got '${mode}'`);
  cx.emitOutputs('GridSample', [cx.input(0), cx.input(1)], { ...passAttrs(cx, 'GridSample', ['mode']), mode: names[mode]! });
}

function gridSample20(cx: NodeContext): void {
  cx.emitOutputs('GridSample', [cx.input(0), cx.input(1)], passAttrs(cx, 'GridSample'));
}

/** RoiAlign 10-15 has no coordinate_transformation_mode and maps coordinates as output_half_pixel does. */
function roiAlign10(cx: NodeContext): void {
  cx.emitOutputs('RoiAlign', cx.node.input, { ...passAttrs(cx, 'RoiAlign'), coordinate_transformation_mode: 'output_half_pixel' });
}

/** MaxUnpool: output_shape (input 2), when given, must be known; it becomes the attribute of the same name. */
function maxUnpool(cx: NodeContext): void {
  const shape = cx.constInts(2, 'output_shape');
  const attrs = passAttrs(cx, 'MaxUnpool');
  cx.emitOutputs('MaxUnpool', [cx.input(0), cx.input(1)], shape ? { ...attrs, output_shape: shape } : attrs);
}

function col2im(cx: NodeContext): void {
  const image = cx.constInts(1, 'image_shape') ?? invalid('Col2Im needs its image_shape input (input 1)');
  const block = cx.constInts(2, 'block_shape') ?? invalid('Col2Im needs its block_shape input (input 2)');
  cx.emitOutputs('Col2Im', [cx.input(0)], { ...passAttrs(cx, 'Col2Im'), image_shape: image, block_shape: block });
}

/**
 * AffineGrid: grid[n, ...p, :] = theta[n] @ (x, y[, z], 1) at each output position p, where x runs along the
 * innermost spatial dim over [-1, 1] (pixel centres, or corners with align_corners), as onnx/reference's
 * op_affine_grid.py (start + i * step). The base coordinates are a constant [positions, dims + 1], so the grid is
 * MatMul(base, theta transposed) [N, positions, dims], reshaped.
 */
function affineGrid(cx: NodeContext): void {
  const theta = cx.type(0);
  const size = cx.constInts(1, 'size') ?? invalid('AffineGrid needs its size input (input 1)');
  const nd = size.length - 2;
  if (nd !== 2 && nd !== 3) invalid(`AffineGrid size [${size.join(',')}] must be [N, C, H, W] or [N, C, D, H, W]`);
  const [n, rows, cols] = theta.shape;
  if (theta.shape.length !== 3 || rows !== nd || cols !== nd + 1 || (isStaticDim(n!) && n !== size[0]))
    invalid(`AffineGrid theta '${cx.input(0)}' must be [${size[0]}, ${nd}, ${nd + 1}] for size [${size.join(',')}], got [${theta.shape.join(',')}]`);
  const spatial = size.slice(2);
  if (spatial.some((d) => d < 1)) invalid(`AffineGrid size [${size.join(',')}] has an empty spatial dim`);
  const align = cx.attrs.int('align_corners', 0);
  if (align !== 0 && align !== 1) invalid(`AffineGrid align_corners must be 0 or 1, got ${align}`);
  const coord = (i: number, len: number): number => {
    if (align) return len === 1 ? -1 : -1 + i * (2 / (len - 1));
    const step = 2 / len;
    return -1 + step / 2 + i * step;
  };
  const positions = spatial.reduce((a, b) => a * b, 1);
  const base = makeTensor(theta.dtype, [positions, nd + 1], (k) => {
    const [p, c] = [Math.floor(k / (nd + 1)), k % (nd + 1)];
    if (c === nd) return 1;
    // Component c is spatial dim nd - 1 - c (x is the innermost); p's coordinate along it.
    const d = nd - 1 - c;
    const inner = spatial.slice(d + 1).reduce((a, b) => a * b, 1);
    return coord(Math.floor(p / inner) % spatial[d]!, spatial[d]!);
  });
  const thetaT = cx.emit1('Transpose', [cx.input(0)], { perm: [0, 2, 1] });
  const grid = cx.emit1('MatMul', [cx.newConst(base, 'base_grid'), thetaT]);
  cx.emitOutputs('Reshape', [grid], { shape: [0, ...spatial, nd] });
}

export const SAMPLING_RULES: OpRule[] = [
  ...rules('GridSample', [16, 19, gridSample16], [20, undefined, gridSample20]),
  ...rules('RoiAlign', [10, 15, roiAlign10], [16, undefined, (cx) => cx.emitOutputs('RoiAlign', cx.node.input, passAttrs(cx, 'RoiAlign'))]),
  // 11 only widened the types; 22 added bfloat16.
  ...rules('MaxUnpool', [9, 10, maxUnpool], [11, undefined, maxUnpool]),
  ...rules('Col2Im', [18, undefined, col2im]),
  ...rules('DeformConv', [19, undefined, (cx) => cx.emitOutputs('DeformConv', cx.node.input, passAttrs(cx, 'DeformConv'))]),
  ...rules('AffineGrid', [20, undefined, affineGrid]),
];
