/** Helpers shared by the WebGPU kernel glue: dtype → WGSL type, broadcasting params, workgroup counts. */
import type { DType } from '../../kernels.ts';
import { broadcastStrides, stridesOf } from '../../../tensor/shape.ts';
import type { Params } from '../runtime.ts';

/** Maximum rank of a shape in params after merging dimensions. */
export const MAX_RANK = 8;

/** WGSL element type of a storage: u8 lives in u32 words. */
export function wgslType(d: DType): string {
  return d === 'u8' ? 'u32' : d;
}

export function groups(n: number, wg: number): number {
  return Math.ceil(n / wg);
}

/**
 * Merge adjacent output dimensions that every operand walks contiguously (or broadcasts over together),
 * and drop size-1 dimensions, so shapes of any rank that can be flattened fit in MAX_RANK.
 */
export function coalesce(outShape: readonly number[], strides: number[][]): { shape: number[]; strides: number[][] } {
  const shape: number[] = [];
  const st: number[][] = strides.map(() => []);
  for (let d = 0; d < outShape.length; d++) {
    const dim = outShape[d]!;
    if (dim === 1) continue;
    const last = shape.length - 1;
    if (last >= 0 && strides.every((s, k) => st[k]![last] === s[d]! * dim)) {
      shape[last] = shape[last]! * dim;
      strides.forEach((s, k) => (st[k]![last] = s[d]!));
    } else {
      shape.push(dim);
      strides.forEach((s, k) => st[k]!.push(s[d]!));
    }
  }
  return { shape, strides: st };
}

/**
 * Write the broadcasting block of params: [1] rank, [8..16) shape, [16 + 8k ..) strides of operand k.
 */
export function setBroadcast(p: Params, op: string, outShape: readonly number[], shapes: readonly (readonly number[])[]): void {
  const c = coalesce(outShape, shapes.map((s) => broadcastStrides(s, outShape)));
  if (c.shape.length > MAX_RANK) {
    throw new Error(`${op}: webgpu supports broadcasting over at most ${MAX_RANK} non-mergeable dimensions, got ${c.shape.length}`);
  }
  p.set(1, c.shape.length);
  p.setAll(8, c.shape);
  c.strides.forEach((s, k) => p.setAll(16 + 8 * k, s));
}

export { stridesOf };
