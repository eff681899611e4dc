/**
 * The multi-threaded GEMM plans (gemmPlan in matmul.ts decides the thread count; the cuts are described
 * there): batches, columns, rows with a shared op(B), rows. A file of its own so that the inference bundle,
 * which never has a thread pool, ships none of it (scripts/build-infer.mjs routes it to
 * src/infer/no-gemm-threads.ts).
 */
import type { TempArena, WasmRuntime } from '../runtime.ts';
import type { GemmBlocking } from '../gemm-tune.ts';
import type { Fn, GemmRunner, GemmShape } from './matmul.ts';
import { splitRange } from './parallel.ts';

/** The cut of a GEMM over T > 1 threads, each part with the blocking `blk` (none: the build's). */
export function parallelGemmPlan(rt: WasmRuntime, tmp: TempArena, j: GemmShape, T: number, blk: GemmBlocking | null | undefined): GemmRunner {
  const ex = rt.exports;
  const kc = blk?.kc ?? 0;
  const mc = blk?.mc ?? 0;
  const nc = blk?.nc ?? 0;
  const inPlaceA = blk?.inPlaceA ? 1 : 0;
  const wsBytes = (m: number, n: number, k: number) => (ex.gemmBlockedWorkspaceBytes as Fn)(m, n, k, kc, mc, nc);
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

