/**
 * Wasm glue for `matmul`: shapes, transposes and batch broadcasting are turned into element strides for the
 * AssemblyScript GEMM (assembly/gemm.ts), which packs, blocks and runs the f32x4 micro-kernel.
 *
 * Batch handling: the output batch shape is the broadcast of both operands' batch shapes. Each batch dim
 * gets an element stride per operand (0 where that operand broadcasts); adjacent dims that are contiguous
 * for all three operands are merged, the innermost merged dim becomes the kernel's own batch loop and any
 * outer dims are looped here. When B is shared by every batch and op(A) is row-major, the batch is folded
 * into m (one large GEMM: B is packed once), which does not change any element's summation order.
 *
 * Threads: a large product is cut by batch entries, column blocks or row blocks of C, each thread with its own
 * workspace; see gemmPlan.
 */
import type { MatmulArgs, Storage } from '../../kernels.ts';
import type { TempArena, WasmRuntime } from '../runtime.ts';
import type { GemmBlocking } from '../gemm-tune.ts';
import type { KernelFamily } from './index.ts';
import { MIN_GEMM_FLOPS_PER_THREAD, threadsFor } from './parallel.ts';
// The thread splits live in their own file: the single-threaded inference bundle replaces it by a stub.
import { parallelGemmPlan } from './gemm-parallel.ts';

export type Fn = (...args: number[]) => number;

function fail(msg: string): never {
  throw new Error(`matmul: ${msg}`);
}

function prod(xs: readonly number[]): number {
  let p = 1;
  for (const x of xs) p *= x;
  return p;
}

function checkDims(shape: readonly number[], what: string): void {
  if (!Array.isArray(shape) || shape.length < 2) fail(`${what} must have rank >= 2, got [${shape}]`);
  for (const d of shape) if (!Number.isInteger(d) || d < 0) fail(`${what} has an invalid dimension in [${shape}]`);
}

interface BatchDim {
  size: number;
  a: number;
  b: number;
  c: number;
}

/** A batched GEMM's shapes and element strides (and bias offset), as the `gemm` export takes them. */
export interface GemmShape {
  m: number; n: number; k: number;
  aRs: number; aCs: number;
  bRs: number; bCs: number;
  ldc: number; bias: number;
  batch: number; aBs: number; bBs: number; cBs: number;
}

/** Runs a planned GEMM on operands at these byte offsets (on one thread or split over the pool). */
export type GemmRunner = (a: number, b: number, c: number) => void;

/**
 * Plan a GEMM of fixed shape (reused for every outer batch index): how many threads, how the work is cut
 * (gemm-parallel.ts, for more than one), and one workspace per thread (from `tmp`, freed with it).
 *
 * The kernel packs, per NC-column block of C, the whole op(B) block once and every MC-row block of op(A) once
 * (gemm1 in assembly/gemm.ts). A split must not change what each element sums, only who sums it; what it
 * changes is how much packing is repeated, so the plan picks the cut that repeats the least:
 *  - batches: with enough batch entries to share evenly (a multiple of the thread count, or ≥ 8 per
 *    thread), each thread takes whole entries: nothing is repeated;
 *  - columns: thread t takes columns [j0, j1) of C (a multiple of NR wide; of NC when that balances): it packs
 *    only its part of op(B), but op(A) once per NC block it touches — free when every thread's share is a
 *    whole number of NC blocks (n ≥ T·NC), as for the block step's d_ff products;
 *  - rows with a shared op(B) (sharedBRunner): per packed block of op(B) the threads first pack it together
 *    into one buffer, then share the rows of C_t, each packing only the op(A) rows it computes: nothing is
 *    repeated, at the price of two pool jobs per op(B) block instead of one job in all;
 *  - rows (gemmRows): thread t takes a block of rows (multiple of the 4-row micro-tile) of each C_t: it packs
 *    its rows of op(A) and all of op(B), so B's packing (4·k·n bytes) is repeated once per extra thread. Kept
 *    where op(B) is small (its packing costs less than the extra hand-offs) or C is narrow (n < 8: gemm1's
 *    transposed path, which the block kernels do not have).
 * Columns when they repeat nothing, else rows with a shared op(B) where it applies, else whichever of columns
 * and rows repeats fewer packed bytes.
 *
 * `blk`: the blocking (KC, MC, NC, A in place) every part runs with — the tuner's choice for this CPU (gemm-tune.ts), or
 * none for the build's own (passed to the kernel as 0s; the untuned single-thread call stays on `gemm`, which
 * the inference module exports). Any blocking gives the same bits, so it changes only the time.
 */
function gemmPlan(rt: WasmRuntime, tmp: TempArena, j: GemmShape, blk: GemmBlocking | null | undefined): GemmRunner {
  const ex = rt.exports;
  const T = threadsFor(rt, 2 * j.m * j.n * j.k * j.batch, MIN_GEMM_FLOPS_PER_THREAD);
  if (T > 1) return parallelGemmPlan(rt, tmp, j, T, blk);
  if (!blk) {
    const ws = tmp.bytes((ex.gemmWorkspaceBytes as Fn)(j.m, j.n, j.k));
    const gemm = ex.gemm as Fn;
    return (a, b, c) => void gemm(j.m, j.n, j.k, a, j.aRs, j.aCs, b, j.bRs, j.bCs, c, j.ldc, j.bias, j.batch, j.aBs, j.bBs, j.cBs, ws);
  }
  const { kc, mc, nc } = blk;
  const ws = tmp.bytes((ex.gemmBlockedWorkspaceBytes as Fn)(j.m, j.n, j.k, kc, mc, nc));
  const gemm = ex.gemmBlocked as Fn;
  return (a, b, c) => void gemm(j.m, j.n, j.k, a, j.aRs, j.aCs, b, j.bRs, j.bCs, c, j.ldc, j.bias, j.batch, j.aBs, j.bBs, j.cBs, ws, kc, mc, nc, blk.inPlaceA ? 1 : 0);
}

export function matmulWasm(rt: WasmRuntime, args: MatmulArgs): Storage {
  const { a, b, aShape, bShape, transA, transB, bias } = args;
  checkDims(aShape, 'aShape');
  checkDims(bShape, 'bShape');
  const ra = aShape.length;
  const rb = bShape.length;
  const m = transA ? aShape[ra - 1]! : aShape[ra - 2]!;
  const k = transA ? aShape[ra - 2]! : aShape[ra - 1]!;
  const kb = transB ? bShape[rb - 1]! : bShape[rb - 2]!;
  const n = transB ? bShape[rb - 2]! : bShape[rb - 1]!;
  if (k !== kb) fail(`inner dimensions differ: op(a) is [${m}, ${k}], op(b) is [${kb}, ${n}]`);
  if (a.size !== prod(aShape)) fail(`a has ${a.size} elements, shape [${aShape}] needs ${prod(aShape)}`);
  if (b.size !== prod(bShape)) fail(`b has ${b.size} elements, shape [${bShape}] needs ${prod(bShape)}`);
  if (a.dtype !== 'f32' || b.dtype !== 'f32') fail('operands must be f32');
  if (bias && (bias.size !== n || bias.dtype !== 'f32')) fail(`bias must be f32[${n}], got ${bias.dtype}[${bias.size}]`);

  // Broadcast batch dims (right-aligned).
  const aBatch = aShape.slice(0, -2);
  const bBatch = bShape.slice(0, -2);
  const nb = Math.max(aBatch.length, bBatch.length);
  const outBatch: number[] = [];
  const dims: BatchDim[] = [];
  for (let d = 0; d < nb; d++) {
    const da = aBatch[d - (nb - aBatch.length)] ?? 1;
    const db = bBatch[d - (nb - bBatch.length)] ?? 1;
    if (da !== db && da !== 1 && db !== 1) fail(`batch dims [${aBatch}] and [${bBatch}] do not broadcast`);
    outBatch.push(da === 1 ? db : da);
    dims.push({ size: da === 1 ? db : da, a: da === 1 ? 0 : 1, b: db === 1 ? 0 : 1, c: 1 });
  }
  // Element strides, innermost first.
  let sa = m * k;
  let sb = k * n;
  let sc = m * n;
  for (let d = nb - 1; d >= 0; d--) {
    const dim = dims[d]!;
    dim.a = dim.a ? sa : 0;
    dim.b = dim.b ? sb : 0;
    dim.c = sc;
    if (dim.a) sa *= dim.size;
    if (dim.b) sb *= dim.size;
    sc *= dim.size;
  }
  const batch = prod(outBatch);
  const out = rt.alloc(batch * m * n, 'f32', false);
  if (batch === 0 || m === 0 || n === 0) return out;

  // Merge adjacent contiguous dims; drop size-1 dims.
  const merged: BatchDim[] = [];
  for (const dim of dims) {
    if (dim.size === 1) continue;
    const last = merged[merged.length - 1];
    if (last && last.a === dim.a * dim.size && last.b === dim.b * dim.size && last.c === dim.c * dim.size) {
      last.size *= dim.size;
      last.a = dim.a;
      last.b = dim.b;
      last.c = dim.c;
    } else {
      merged.push({ ...dim });
    }
  }
  if (merged.length === 0) merged.push({ size: 1, a: 0, b: 0, c: 0 });

  const aRs = transA ? 1 : k;
  const aCs = transA ? m : 1;
  const bRs = transB ? 1 : n;
  const bCs = transB ? k : 1;
  const pa = rt.ptr(a, 'matmul');
  const pb = rt.ptr(b, 'matmul');
  const pc = rt.ptr(out, 'matmul');
  const pbias = bias ? rt.ptr(bias, 'matmul') : 0;

  const inner = merged[merged.length - 1]!;
  // Fold the batch into m: B shared by all batches, op(A) row-major and batches stacked contiguously.
  if (merged.length === 1 && inner.size > 1 && inner.b === 0 && !transA && inner.a === m * k && inner.c === m * n) {
    const mm = m * inner.size;
    const blk = rt.gemmBlocking?.(mm, n, k, transA, transB);
    rt.withTemp((tmp) => {
      const run = gemmPlan(rt, tmp, { m: mm, n, k, aRs, aCs, bRs, bCs, ldc: n, bias: pbias, batch: 1, aBs: 0, bBs: 0, cBs: 0 }, blk);
      run(pa, pb, pc);
    });
    return out;
  }
  const outer = merged.slice(0, -1);
  const outerCount = prod(outer.map((d) => d.size));
  // The blocking (measured per CPU at first use where a tuner is installed: gemm-tune.ts); a trial runs before
  // the temporaries are taken, on its own.
  const blk = rt.gemmBlocking?.(m, n, k, transA, transB);
  rt.withTemp((tmp) => {
    const run = gemmPlan(rt, tmp, { m, n, k, aRs, aCs, bRs, bCs, ldc: n, bias: pbias, batch: inner.size, aBs: inner.a, bBs: inner.b, cBs: inner.c }, blk);
    const idx = new Array<number>(outer.length).fill(0);
    for (let t = 0; t < outerCount; t++) {
      let oa = 0;
      let ob = 0;
      let oc = 0;
      for (let d = 0; d < outer.length; d++) {
        oa += idx[d]! * outer[d]!.a;
        ob += idx[d]! * outer[d]!.b;
        oc += idx[d]! * outer[d]!.c;
      }
      run(pa + 4 * oa, pb + 4 * ob, pc + 4 * oc);
      for (let d = outer.length - 1; d >= 0; d--) {
        if (++idx[d]! < outer[d]!.size) break;
        idx[d] = 0;
      }
    }
  });
  return out;
}

export const matmulFamily: KernelFamily = (rt) => ({
  matmul: (args: MatmulArgs) => matmulWasm(rt, args),
});
