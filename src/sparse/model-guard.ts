/**
 * The whole-model guard of sparse execution: each layer's path is the fastest of its own trial
 * (src/sparse/path-choice.ts), yet the model as a whole can still lose to all-dense — the trial runs a layer
 * alone on capped rows, while in the model the sparse paths add a bias pass and reshapes, compete for cache
 * with attention and norms, and a dozen small wins can sit under the timer's noise. A full-size PALS model whose
 * 19 layers each chose CSR ran 1 146 ms against 1 009 ms dense. So after the per-layer choice the guard times
 * the whole pass, chosen paths against every layer dense, in the same process: the first run also runs any
 * pending per-layer trials, then GUARD_WARMUPS warm-up pairs, then `rounds` interleaved pairs (the order alternating
 * each round, so drift and other processes hit both alike). When the chosen paths' median is not below dense's by
 * GUARD_MARGIN, 'auto' runs every layer dense for that pass and those row counts from then on
 * (`ExecShared.denseFallback`: a verdict on batch-1 inference does not decide batch 32), and the result says so.
 * A verdict to keep the sparse paths must be confirmed by a second, independent set of `rounds` pairs: one set
 * can be won by a transient. Measured on an ETTm2 PALS model whose 19 CSR layers had just run the test split:
 * all-dense's first runs at batch 32 took 99, 61, 57 and 62 ms against a steady 54, CSR's a steady 60–68 — and
 * in the study (docs/results-structure.md) a one-set guard of that run kept CSR that then timed 16% slower than
 * dense at batch 32 and 27% at batch 1. Keeping a choice that is slower is the one outcome the
 * guard exists to prevent. Falling back needs no confirmation: a tie goes to dense anyway.
 *
 * `run` (awaited: a trainer's predict is async) must do one forward (pass 'forward') or one forward + backward with no optimizer step (pass
 * 'training'), and leave no state behind that changes a later run: gradients it makes are the caller's to free,
 * and with dropout on it draws random numbers (run it in eval mode, or before any draw that matters).
 */
import { cpuClock } from '../backend/timing.ts';
import { yieldToEventLoop } from '../backend/yield.ts';
import type { ExecPath, SparseFormat } from './exec-format.ts';
import type { Pass } from './path-choice.ts';
import type { SparseExecution } from './sparse-exec.ts';

export interface GuardResult {
  pass: Pass;
  /** The layers' row counts (capped as the trials cap them) the verdict applies to. */
  rows: number[];
  /**
   * Median ms (`runCost`) of the pass with the per-layer choice and all-dense in the set that decided (the
   * confirming set when the first kept the choice); null when no layer chose a sparse path.
   */
  chosen_ms: number | null;
  dense_ms: number | null;
  /** Whether the whole model now runs dense for this pass. */
  fell_back: boolean;
  /** Layers per sparse format the per-layer choice took (before any fallback). */
  chosen_layers: Partial<Record<SparseFormat, number>>;
  /** Timed pairs in all (`rounds`, or twice that when a second set was run to confirm keeping the choice). */
  rounds: number;
}

/** The share by which the chosen paths must beat all-dense for 'auto' to keep them. */
export const GUARD_MARGIN = 0.03;

/**
 * Untimed pairs (chosen, dense) after the first run: a path's first runs at a row count are slow (wasm functions
 * not yet tiered up, buffers not yet grown), and the side the caller ran last is warmer than the other.
 */
export const GUARD_WARMUPS = 2;

/**
 * One run's cost: the smaller of its wall time and the process's CPU time over it. Each bounds the run's own
 * main-thread time from above, inflated by different things — wall by other processes taking the core, process
 * CPU by V8's background threads (concurrent GC, wasm tier-up compiles: 2 ms forecasts measured 7 ms of CPU when
 * one landed in them) and by wasm kernel threads, which make CPU exceed wall — so the smaller is the truer.
 */
async function runCost(run: () => unknown): Promise<number> {
  const w0 = performance.now();
  const c0 = cpuClock();
  await run();
  const cpu = cpuClock() - c0;
  return Math.min(performance.now() - w0, cpu);
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

export async function guardModel(ex: SparseExecution, pass: Pass, run: () => unknown, rounds = 5): Promise<GuardResult> {
  if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`sparse execution guard: rounds must be a positive integer, got ${rounds}`);
  const shared = ex.shared;
  // A new verdict for the row counts this run reaches: the pass's verdicts are lifted for the warm-up (which must
  // take the per-layer choice to run its trials), and those of other row counts put back after it — a verdict
  // on batch-1 inference neither decides nor erases batch 32's.
  const stashed = [...shared.denseFallback].filter((k) => k.startsWith(`${pass}:`));
  for (const k of stashed) shared.denseFallback.delete(k);
  shared.forceDense = false;
  for (const e of ex.layers.values()) e.lastKey = null;
  await run(); // warm-up; runs the per-layer trials still pending
  const keys = new Set([...ex.layers.values()].map((e) => e.lastKey).filter((k): k is string => k !== null && k.startsWith(`${pass}:`)));
  for (const k of stashed) if (!keys.has(k)) shared.denseFallback.add(k);
  const rows = [...keys].map((k) => Number(k.slice(pass.length + 1))).sort((a, b) => a - b);
  const paths = Object.values(ex.paths()) as Array<ExecPath | null>;
  const chosen_layers = ex.sparseLayers();
  if (!paths.some((p) => p && p !== 'dense')) return { pass, rows, chosen_ms: null, dense_ms: null, fell_back: false, chosen_layers, rounds: 0 };
  const time = async (dense: boolean) => {
    shared.forceDense = dense;
    try {
      return await runCost(run);
    } finally {
      shared.forceDense = false;
    }
  };
  for (let w = 0; w < GUARD_WARMUPS; w++) {
    await yieldToEventLoop();
    await time(true);
    await time(false);
  }
  /** One set of interleaved pairs: the medians and whether the chosen paths won by the margin. */
  const set = async () => {
    const chosen: number[] = [];
    const dense: number[] = [];
    for (let r = 0; r < rounds; r++) {
      await yieldToEventLoop(); // between timed runs: a full-size model's rounds take seconds (signals, lock renewal)
      if (r % 2 === 0) {
        chosen.push(await time(false));
        dense.push(await time(true));
      } else {
        dense.push(await time(true));
        chosen.push(await time(false));
      }
    }
    const c = median(chosen);
    const d = median(dense);
    // Within GUARD_MARGIN of dense is a tie, and a tie goes to dense: a few rounds' medians on a shared machine
    // scatter by several percent, and a choice that is not clearly faster must never risk being slower (a
    // PALS model whose 23 CSR layers won a 3-round guard by noise then timed 14% slower than dense).
    return { c, d, keep: c < d * (1 - GUARD_MARGIN) };
  };
  let verdict = await set();
  let timed = rounds;
  if (verdict.keep) {
    verdict = await set();
    timed += rounds;
  }
  const { c, d } = verdict;
  const fell_back = !verdict.keep;
  if (fell_back) for (const k of keys) shared.denseFallback.add(k);
  return { pass, rows, chosen_ms: +c.toFixed(2), dense_ms: +d.toFixed(2), fell_back, chosen_layers, rounds: timed };
}
