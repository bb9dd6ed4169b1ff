// Lowering of Materialize (passes/materialize-encodings.ts): a layout or quant-encoded constant decoded to its
// dense row-major value by the materialize kernel, which binds the stored tensor and a quant encoding's scales and
// zero points. A Tiled-CSL constant has no decode kernel: only the sparse matmuls read it (in place).
import { isStaticShape, storageTypeOf } from '../../ir/index.js';
import { type MaterializeSpec, materialize } from '../kernels/materialize.js';
import { LoweringError, type NodeLowering } from './lowering.js';

const lowerMaterialize: NodeLowering = (node, cx) => {
  const c = node.inputs[0]!;
  const y = node.outputs[0]!;
  const t = cx.typeOf(c);
  if (!isStaticShape(t.shape)) throw new LoweringError(`%${c} has symbolic shape`);
  if (t.encoding.kind === 'tiled-csl')
    throw new LoweringError(`%${c} is Tiled-CSL, which only a MatMul/Gemm sparse kernel reads (as its weight, stored as A[M,K]); kiln has no kernel that decodes it for ${node.op}`);
  const stored = storageTypeOf(t);
  const shape = [...t.shape];
  const layout: MaterializeSpec['layout'] =
    t.layout.kind === 'blocked' ? { kind: 'blocked', tile: t.layout.params.tile, order: t.layout.params.order } : { kind: t.layout.kind };
  const q = t.encoding.kind === 'quant' ? t.encoding.params : undefined;
  const companion = (name: string) => ({ dtype: cx.typeOf(name).dtype, shape: [...(cx.typeOf(name).shape as number[])] });
  const spec: MaterializeSpec = {
    kernel: 'materialize',
    target: cx.target,
    dtype: t.dtype,
    shape,
    layout,
    stored: { dtype: stored.dtype, shape: stored.shape! },
    ...(q
      ? {
          quant: {
            bits: q.bits,
            scheme: q.scheme,
            group: q.group,
            axis: q.axis,
            packing: q.packing,
            scales: companion(q.scales),
            ...(q.zeros !== undefined ? { zeros: companion(q.zeros) } : {}),
          },
        }
      : {}),
    workgroupSize: 64,
  };
  const args = [{ value: c }, ...(q ? [{ value: q.scales }, ...(q.zeros !== undefined ? [{ value: q.zeros }] : [])] : []), { value: y }];
  return { kind: 'steps', steps: [{ kernel: cx.kernel(materialize, spec), args, flops: shape.reduce((p, d) => p * d, 1) }] };
};

export const STORAGE_LOWERINGS: Record<string, NodeLowering> = { Materialize: lowerMaterialize };
