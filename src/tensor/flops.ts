/**
 * FLOP accounting by observation: ops that multiply (matmul, linear, conv1d, the sparse products) report
 * their multiply-add work while a `measureFlops` scope is open, each record tagged with the weight storage it
 * used (null when both operands are activations, as in attention's Q·Kᵀ and A·V). Sparse accounting then
 * scales each weight's FLOPs by that weight's density, and leaves activation products dense.
 */
import type { Storage } from '../backend/kernels.ts';
import type { Tensor } from './tensor.ts';

export interface FlopRecord {
  op: string;
  /** 2 · multiply-adds. */
  flops: number;
  /** The weight operand's storage (aliases share it), or null for activation × activation products. */
  weight: Storage | null;
}

let active: FlopRecord[] | null = null;

/**
 * Whether `t` is a weight: a trainable leaf, or a reshaped view of one (e.g. a [out, in, 1] conv weight run
 * as a Linear). Measure with autograd on so views carry their tape node.
 */
export function isWeight(t: Tensor): boolean {
  if (t.requiresGrad && t.node === null) return true;
  const n = t.node;
  return n !== null && n.op === 'reshape' && n.inputs.length === 1 && isWeight(n.inputs[0]!);
}

export function countFlops(op: string, flops: number, weight: Tensor | null): void {
  if (active) active.push({ op, flops, weight: weight?.storage ?? null });
}

/** Run `fn` (typically one forward pass) and collect what it multiplied. */
export function measureFlops<T>(fn: () => T): { result: T; records: FlopRecord[] } {
  const outer = active;
  const records: FlopRecord[] = [];
  active = records;
  try {
    return { result: fn(), records };
  } finally {
    active = outer;
  }
}

/** Dense total, and the total with each weight's products scaled by `density(weightStorage)`. */
export function summarizeFlops(records: FlopRecord[], density: (weight: Storage) => number = () => 1): { dense: number; sparse: number } {
  let dense = 0;
  let sparse = 0;
  for (const r of records) {
    dense += r.flops;
    sparse += r.weight ? r.flops * density(r.weight) : r.flops;
  }
  return { dense, sparse };
}
