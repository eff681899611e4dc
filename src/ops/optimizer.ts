/**
 * Optimizer updates as single kernels (not differentiable: they run under noGrad on parameters and their
 * optimizer state). Shapes and dtypes are checked here so every backend's kernel sees matching f32 storages.
 */
import type { AdamHyper } from '../backend/kernels.ts';
import { sameShape, shapeToString } from '../tensor/shape.ts';
import type { Tensor } from '../tensor/tensor.ts';
import { checkDtype, storages, wrap } from './util.ts';

/** One Adam step of parameter p from its gradient and moments: the new p, m and v (see AdamHyper). */
export function adamUpdate(p: Tensor, grad: Tensor, m: Tensor, v: Tensor, h: AdamHyper): { p: Tensor; m: Tensor; v: Tensor } {
  const op = 'adam';
  const named = [[p, 'parameter'], [grad, 'gradient'], [m, 'first moment'], [v, 'second moment']] as const;
  for (const [t, what] of named) {
    checkDtype(op, t, ['f32'], what);
    if (!sameShape(t.shape, p.shape)) {
      throw new Error(`${op}: ${what} has shape ${shapeToString(t.shape)}; expected the parameter's ${shapeToString(p.shape)}${p.name ? ` (${p.name})` : ''}`);
    }
  }
  const { backend, s } = storages(op, p, grad, m, v);
  const r = backend.kernels.adam(s[0]!, s[1]!, s[2]!, s[3]!, p.size, h);
  return { p: wrap(r.p, p.shape, backend), m: wrap(r.m, p.shape, backend), v: wrap(r.v, p.shape, backend) };
}
