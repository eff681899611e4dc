/**
 * The whole-model guard of sparse execution: each layer's path is the fastest of its own trial
 * (src/sparse/path-choice.ts), yet the model as a whole can still lose to all-dense — the trial runs a layer
 * alone on capped rows, while in the model the sparse paths add a bias pass and reshapes, compete for cache
 * with attention and norms, and a dozen small wins can sit under the timer's noise. A full-size PALS model whose
 * 19 layers each chose CSR ran 1 146 ms against 1 009 ms dense. So after the per-layer choice the guard times
 * the whole pass, chosen paths against every layer dense, in the same process: one warm-up of each (the first
 * also runs any pending per-layer trials), then `rounds` interleaved repetitions (the order alternating each
 * round, so drift and other processes hit both alike), in process CPU time where the runtime reports it. When
 * the chosen paths' median is not below dense's, 'auto' runs every layer dense for that pass from then on
 * (`ExecShared.denseFallback`), and the result says so.
 *
 * `run` must do one forward (pass 'forward') or one forward + backward with no optimizer step (pass
 * 'training'), and leave no state behind that changes a later run: gradients it makes are the caller's to free,
 * and with dropout on it draws random numbers (run it in eval mode, or before any draw that matters).
 */
import { cpuClock } from './crossover.ts';
import type { ExecPath, SparseFormat } from './exec-format.ts';
import type { Pass } from './path-choice.ts';
import type { SparseExecution } from './sparse-exec.ts';

export interface GuardResult {
  pass: Pass;
  /** Median CPU ms of the pass with the per-layer choice and all-dense (null when no layer chose a sparse path). */
  chosen_ms: number | null;
  dense_ms: number | null;
  /** Whether the whole model now runs dense for this pass. */
  fell_back: boolean;
  /** Layers per sparse format the per-layer choice took (before any fallback). */
  chosen_layers: Partial<Record<SparseFormat, number>>;
  rounds: number;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

export function guardModel(ex: SparseExecution, pass: Pass, run: () => void, rounds = 5): GuardResult {
  if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`sparse execution guard: rounds must be a positive integer, got ${rounds}`);
  const shared = ex.shared;
  shared.denseFallback[pass] = false;
  shared.forceDense = false;
  run(); // warm-up; runs the per-layer trials still pending
  const paths = Object.values(ex.paths()) as Array<ExecPath | null>;
  const chosen_layers = ex.sparseLayers();
  if (!paths.some((p) => p && p !== 'dense')) return { pass, chosen_ms: null, dense_ms: null, fell_back: false, chosen_layers, rounds: 0 };
  const time = (dense: boolean) => {
    shared.forceDense = dense;
    try {
      const t0 = cpuClock();
      run();
      return cpuClock() - t0;
    } finally {
      shared.forceDense = false;
    }
  };
  time(true); // warm-up of the dense paths
  const chosen: number[] = [];
  const dense: number[] = [];
  for (let r = 0; r < rounds; r++) {
    if (r % 2 === 0) {
      chosen.push(time(false));
      dense.push(time(true));
    } else {
      dense.push(time(true));
      chosen.push(time(false));
    }
  }
  const c = median(chosen);
  const d = median(dense);
  const fell_back = !(c < d);
  shared.denseFallback[pass] = fell_back;
  return { pass, chosen_ms: +c.toFixed(2), dense_ms: +d.toFixed(2), fell_back, chosen_layers, rounds };
}
