/**
 * In-place update of a long-lived tensor (parameters, optimizer state, loaded weights): modules hold their
 * tensors by reference, so a new value moves into the existing tensor object. `next`'s storage becomes the
 * target's and the target's old storage leaves with `next` (freed now, or by the last alias still sharing it).
 */
import type { Tensor } from './tensor.ts';
import { sameShape, shapeToString } from './shape.ts';

export function assignInPlace(target: Tensor, next: Tensor): void {
  if (target.tapeRefs > 0) {
    throw new Error(`assign: ${target.name ?? `tensor #${target.id}`} is still referenced by a recorded graph; run backward (or dispose the graph) before updating it`);
  }
  if (!sameShape(target.shape, next.shape) || target.dtype !== next.dtype || target.backend !== next.backend) {
    throw new Error(`assign: cannot move a ${shapeToString(next.shape)} ${next.dtype} tensor on ${next.backend.name} into ${target.name ?? `tensor #${target.id}`} of shape ${shapeToString(target.shape)} ${target.dtype} on ${target.backend.name}`);
  }
  const old = target.use('assign');
  target.storage = next.use('assign');
  next.storage = old;
  next.dispose();
}
