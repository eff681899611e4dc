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
import { MIN_GEMM_FLOPS_PER_THREAD, splitRange, threadsFor } from './parallel.ts';

type Fn = (...args: number[]) => number;

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
interface GemmShape {
  m: number; n: number; k: number;
  aRs: number; aCs: number;
  bRs: number; bCs: number;
  ldc: number; bias: number;
  batch: number; aBs: number; bBs: number; cBs: number;
}

/** Runs a planned GEMM on operands at these byte offsets (on one thread or split over the pool). */
type GemmRunner = (a: number, b: number, c: number) => void;

/**
 * Plan a GEMM of fixed shape (reused for every outer batch index): how many threads, how the work is cut,
 * and one workspace per thread (from `tmp`, freed with it).
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
  const kc = blk?.kc ?? 0;
  const mc = blk?.mc ?? 0;
  const nc = blk?.nc ?? 0;
  const inPlaceA = blk?.inPlaceA ? 1 : 0;
  const wsBytes = (m: number, n: number, k: number) => (ex.gemmBlockedWorkspaceBytes as Fn)(m, n, k, kc, mc, nc);
  const T = threadsFor(rt, 2 * j.m * j.n * j.k * j.batch, MIN_GEMM_FLOPS_PER_THREAD);
  if (T <= 1) {
    if (!blk) {
      const ws = tmp.bytes((ex.gemmWorkspaceBytes as Fn)(j.m, j.n, j.k));
      const gemm = ex.gemm as Fn;
      return (a, b, c) => void gemm(j.m, j.n, j.k, a, j.aRs, j.aCs, b, j.bRs, j.bCs, c, j.ldc, j.bias, j.batch, j.aBs, j.bBs, j.cBs, ws);
    }
    const ws = tmp.bytes(wsBytes(j.m, j.n, j.k));
    const gemm = ex.gemmBlocked as Fn;
    return (a, b, c) => void gemm(j.m, j.n, j.k, a, j.aRs, j.aCs, b, j.bRs, j.bCs, c, j.ldc, j.bias, j.batch, j.aBs, j.bBs, j.cBs, ws, kc, mc, nc, inPlaceA);
  }
  const wholeBatches = j.batch % T === 0 || j.batch >= 8 * T;
  if (!wholeBatches) {
    const NC = nc || (ex.gemmColumnBlock as Fn)();
    const aBytes = (ex.gemmPackedABytes as Fn)();
    const ncAligned = j.n % (T * NC) === 0;
    const cols = splitRange(j.n, T, ncAligned ? NC : 8);
    const blocks = (w: number) => Math.ceil(w / NC);
    const extraA = (cols.reduce((s, [j0, j1]) => s + blocks(j1 - j0), 0) - blocks(j.n)) * j.m * j.k * aBytes;
    const extraB = (T - 1) * j.k * j.n * 4;
    if (extraA > 0 && j.n >= 8 && j.k > 0 && j.k * j.n >= MIN_SHARED_B_ELEMENTS) return sharedBRunner(rt, tmp, j, T, blk);
    if (extraA < extraB) {
      const ws = cols.map(([j0, j1]) => (j1 > j0 ? tmp.bytes(wsBytes(j.m, j1 - j0, j.k)) : 0));
      return (a, b, c) => rt.parallel('gemmBlocked', cols.map(([j0, j1], t) => (j1 > j0
        ? [j.m, j1 - j0, j.k, a, j.aRs, j.aCs, b + 4 * j0 * j.bCs, j.bRs, j.bCs, c + 4 * j0, j.ldc, j.bias && j.bias + 4 * j0,
          j.batch, j.aBs, j.bBs, j.cBs, ws[t]!, kc, mc, nc, inPlaceA]
        : null)));
    }
  }
  const rb = wholeBatches ? j.m : Math.ceil(j.m / T / 4) * 4;
  const items = j.batch * Math.ceil(j.m / rb);
  const ranges = splitRange(items, T);
  const ws = ranges.map(([w0, w1]) => (w1 > w0 ? tmp.bytes(wsBytes(rb, j.n, j.k)) : 0));
  return (a, b, c) => rt.parallel('gemmRows', ranges.map(([w0, w1], t) => (w1 > w0
    ? [j.m, j.n, j.k, a, j.aRs, j.aCs, b, j.bRs, j.bCs, c, j.ldc, j.bias, j.aBs, j.bBs, j.cBs, ws[t]!, rb, w0, w1, kc, mc, nc, inPlaceA]
    : null)));
}

/**
 * Below this many op(B) elements the row split packs op(B) on every thread rather than sharing it. Packing
 * costs ~0.5 ns an element here (1024² in ~0.7 ms on one core), so on 2 threads sharing saves ~0.25 ns an
 * element per block, against one more pool job per block: ~1 µs between running threads, but ~50 µs where a
 * worker has gone to sleep in between (waking a halted vCPU on this VM) or where other processes hold the
 * cores. 2¹⁹ elements (≥ ~130 µs saved) keeps the extra job a small fraction of the saving; at 512³ (2¹⁸) the
 * two splits measured within noise of each other, with the shared one slower in quiet runs (2.98 vs 2.94 ms).
 */
const MIN_SHARED_B_ELEMENTS = 1 << 19;

/**
 * The row split with op(B) packed once (assembly/gemm.ts, gemmPackBClaim / gemmBlockRowsClaim): per batch
 * entry and per (jc, pc) block in the order `tiles` visits them, one pool job packs the block into the shared
 * buffer, then one computes the rows of C from it; the threads of each job claim work items from a counter
 * that this thread zeroes before the job (the pool's job hand-off orders that write before the workers run).
 * `blk`: the blocking, as gemmPlan has it (none: the build's); its inPlaceA does not apply here (every thread
 * packs its op(A) rows).
 */
function sharedBRunner(rt: WasmRuntime, tmp: TempArena, j: GemmShape, T: number, blk: GemmBlocking | null | undefined): GemmRunner {
  const ex = rt.exports;
  const NC = blk?.nc ?? (ex.gemmColumnBlock as Fn)();
  const KC = blk?.kc ?? (ex.gemmDepthBlock as Fn)();
  const sizes = ex.gemmClaimSizes as Fn;
  const packCols = sizes(0);
  const MC = blk?.mc ?? sizes(1);
  const tailRows = sizes(2);
  const buf = tmp.bytes((ex.gemmSharedBBytes as Fn)(j.n, j.k, KC, NC));
  const ws = Array.from({ length: T }, () => tmp.bytes((ex.gemmBlockRowsBytes as Fn)(j.m, j.k, MC, KC)));
  const ctr = tmp.bytes(64);
  // Row items: MC rows each, except the last ~T·MC rows in small items so that the threads finish together.
  const big = Math.max(0, Math.floor(j.m / MC) - T);
  const rowItems = big + Math.ceil((j.m - big * MC) / tailRows);
  // The --model bench instrument runs the parts one after another on this thread: there the first part would
  // claim every item, so each part is held to an equal, contiguous quota instead (no effect on the result).
  const modelled = !rt.pool && rt.model !== null;
  const quota = (items: number) => (modelled ? Math.ceil(items / T) : 0x7fffffff);
  const rowQuota = quota(rowItems);
  const blocks: Array<{ jc: number; nc: number; pc: number; kc: number; packQuota: number }> = [];
  for (let jc = 0; jc < j.n; jc += NC) {
    const nc = Math.min(NC, j.n - jc);
    for (let pc = 0; pc < j.k; pc += KC) blocks.push({ jc, nc, pc, kc: Math.min(KC, j.k - pc), packQuota: quota(Math.ceil(nc / packCols)) });
  }
  const threads = Array.from({ length: T }, (_, t) => t);
  return (a, b, c) => {
    for (let t = 0; t < j.batch; t++) {
      const at = a + 4 * t * j.aBs;
      const bt = b + 4 * t * j.bBs;
      const ct = c + 4 * t * j.cBs;
      for (const { jc, nc, pc, kc, packQuota } of blocks) {
        const bBlock = bt + 4 * (pc * j.bRs + jc * j.bCs);
        rt.i32()[ctr >> 2] = 0;
        rt.parallel('gemmPackBClaim', threads.map(() => [kc, nc, bBlock, j.bRs, j.bCs, buf, ctr, packQuota]));
        const aBlock = at + 4 * pc * j.aCs;
        const cBlock = ct + 4 * jc;
        const bias = j.bias && pc + kc >= j.k ? j.bias + 4 * jc : 0;
        rt.i32()[ctr >> 2] = 0;
        rt.parallel('gemmBlockRowsClaim', threads.map((th) =>
          [j.m, nc, kc, aBlock, j.aRs, j.aCs, buf, cBlock, j.ldc, bias, pc > 0 ? 1 : 0, ws[th]!, ctr, big, rowQuota, MC]));
      }
    }
  };
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
