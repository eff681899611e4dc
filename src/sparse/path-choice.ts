/**
 * Which path a masked Linear runs — dense-masked GEMM, CSR, BSR 4×4, constant fan-in or compact dense — chosen
 * by timing the candidates on the layer's real shape and real mask, for the pass in use ('forward' for
 * inference, 'training' for forward + backward).
 *
 * Why not by density: the crossover density measured on a random mask (src/sparse/crossover.ts) chose CSR for
 * layers where it lost — a full-size PALS model with 19 CSR layers ran 1 146 ms against 1 009 ms dense at
 * inference — because what a sparse kernel costs depends on the pattern's shape (rows of equal length, whole
 * blocks, dead rows), not on its density alone. So the trial runs each candidate's own products on the layer's
 * own mask and weight values, with random activations (their values do not change the time).
 *
 * What is timed, per candidate: 'forward' — y = X·Wᵀ; 'training' — y, dX = G·W and, when the weight gradient is
 * 'sparse-between-updates', the gradient at W's positions (the dense path: the GEMM and the mask multiply). The
 * dense weight gradient Gᵀ·X is the same GEMM on every path, so it is left out of the trial.
 *
 * Bounded cost: rows are capped at `CHOICE_ROWS` (every path is linear in m, so the ranking holds; the cache key
 * holds the capped count); a candidate is timed only where it can pay at all (`candidates`: CSR and fan-in at
 * density ≤ 1/2, BSR when at most half the blocks are stored, compact when ≥ 1/8 of the rows are dead); each
 * candidate runs once to warm up, then `ROUNDS` interleaved rounds (every candidate once per round, so load on a
 * shared machine hits all alike; one over twice the leader after a round is dropped), keeping the minimum
 * process CPU time. The caller caches the choice per
 * (backend, layer, mask version, pass, rows) and measures again only when the mask changes materially
 * (`MaskSignature.material`), so PALS' small topology updates every ΔT steps cost nothing here.
 */
import type { Backend, Storage } from '../backend/kernels.ts';
import { bsrBlockCount } from './bsr-pattern.ts';
import type { ExecPath, FormatExec, SparseFormat } from './exec-format.ts';
import { cpuClock, trialData as rand } from '../backend/timing.ts';

export type Pass = 'forward' | 'training';

/** Rows of the trial (a layer's m is capped to this). */
export const CHOICE_ROWS = 512;
const ROUNDS = 3;

/** The structure of a mask that decides which formats can run it and which can pay. */
export interface MaskSignature {
  density: number;
  /** Fraction of rows with at least one kept weight. */
  liveFraction: number;
  /** Fraction of 4×4 blocks (of the block grid) holding a kept weight. */
  blockFraction: number;
  /** Whether every live row keeps the same number of weights (fan-in condensed storage applies). */
  constantFanIn: boolean;
}

/** One pass over the rows for density, live rows and fan-in constancy, one over the blocks (O(n·k), no allocation of n·k). */
export function maskSignature(mask: Uint8Array, n: number, k: number): MaskSignature {
  if (mask.length !== n * k) throw new Error(`maskSignature: mask has ${mask.length} entries, the weight [${n}, ${k}] has ${n * k}`);
  let nnz = 0;
  let live = 0;
  let fan = -1;
  let constant = k <= 65536; // the condensed storage's u16 column index
  for (let r = 0; r < n; r++) {
    let c = 0;
    for (let j = r * k, end = j + k; j < end; j++) c += mask[j]!;
    nnz += c;
    if (c === 0) continue;
    live++;
    if (fan < 0) fan = c;
    else if (c !== fan) constant = false;
  }
  const blocks = Math.ceil(n / 4) * Math.ceil(k / 4);
  return {
    density: n * k ? nnz / (n * k) : 1,
    liveFraction: n ? live / n : 1,
    blockFraction: blocks ? bsrBlockCount(mask, n, k) / blocks : 1,
    constantFanIn: constant,
  };
}

/**
 * Whether a mask change from `a` to `b` can change the choice: a format became possible or impossible, or the
 * density, live rows or stored blocks moved by more than a tenth (relative; live rows: 1/16 of the rows).
 */
export function materialChange(a: MaskSignature, b: MaskSignature): boolean {
  const rel = (x: number, y: number) => Math.abs(x - y) > 0.1 * Math.max(x, y, 1e-9);
  return a.constantFanIn !== b.constantFanIn || rel(a.density, b.density) || rel(a.blockFraction, b.blockFraction)
    || Math.abs(a.liveFraction - b.liveFraction) > 1 / 16;
}

/** The formats worth timing for a mask of this signature (dense is always timed beside them). */
export function candidates(s: MaskSignature): SparseFormat[] {
  if (s.density >= 1) return [];
  const out: SparseFormat[] = [];
  if (s.density <= 0.5) out.push('csr');
  if (s.blockFraction <= 0.5) out.push('bsr');
  if (s.constantFanIn && s.density <= 0.5) out.push('fan_in');
  if (s.liveFraction <= 7 / 8) out.push('compact');
  return out;
}

export interface PathTrial {
  pass: Pass;
  /** Rows timed (the layer's m capped at CHOICE_ROWS). */
  m: number;
  /** Minimum CPU ms of each timed path. */
  times: Partial<Record<ExecPath, number>>;
  chosen: ExecPath;
  /** Wall ms the whole trial took (building the candidates' storage is the caller's and counted there). */
  trialMs: number;
  /** The same in process CPU ms (wall time on a shared machine counts other processes too). */
  trialCpuMs: number;
}

/**
 * Time dense against each candidate executor (built and filled by the caller on the layer's mask and W) on
 * `m` rows for `pass`; the fastest wins, dense on ties. `weight` is W [n, k] and `mask` its f32 mask on the
 * backend (the dense path's masked weight gradient). Synchronous backends only (js, wasm).
 */
export function timePaths(
  be: Backend, n: number, k: number, m: number, pass: Pass, sparseDw: boolean,
  weight: Storage, mask: Storage, execs: FormatExec[],
): PathTrial {
  const t0 = performance.now();
  const c0 = cpuClock();
  const K = be.kernels;
  const x = be.upload(rand(m * k, 1));
  const g = be.upload(rand(m * n, 3));
  const runs: Array<[ExecPath, () => Storage[]]> = [[
    'dense',
    () => {
      const y = K.matmul({ a: x, b: weight, aShape: [m, k], bShape: [n, k], transA: false, transB: true });
      if (pass === 'forward') return [y];
      const dx = K.matmul({ a: g, b: weight, aShape: [m, n], bShape: [n, k], transA: false, transB: false });
      if (!sparseDw) return [y, dx];
      const dw = K.matmul({ a: g, b: x, aShape: [m, n], bShape: [m, k], transA: true, transB: false });
      return [y, dx, dw, K.binary('mul', dw, [n, k], mask, [n, k])];
    },
  ]];
  for (const e of execs) {
    runs.push([e.format, () => {
      const y = e.forward(x, m);
      if (pass === 'forward') return [y];
      const dx = e.inputGrad(g, m);
      return sparseDw ? [y, dx, e.weightGradAtPattern(g, x, m)] : [y, dx];
    }]);
  }
  const once = (fn: () => Storage[]) => {
    const c0 = cpuClock();
    const outs = fn();
    const ms = cpuClock() - c0;
    for (const o of outs) be.free(o);
    return ms;
  };
  const best = new Map<ExecPath, number>();
  try {
    for (const [, fn] of runs) once(fn); // warm-up
    let live = runs;
    for (let r = 0; r < ROUNDS; r++) {
      for (const [p, fn] of live) best.set(p, Math.min(best.get(p) ?? Infinity, once(fn)));
      // A path over twice the best after a round cannot win on noise: it is not timed again (at 90% sparsity
      // that is usually the dense GEMM, the trial's most expensive run).
      const lead = Math.min(...live.map(([p]) => best.get(p)!));
      live = live.filter(([p]) => best.get(p)! <= 2 * lead);
    }
  } finally {
    be.free(x);
    be.free(g);
  }
  let chosen: ExecPath = 'dense';
  for (const [p, t] of best) if (t < best.get(chosen)!) chosen = p;
  const times = Object.fromEntries([...best].map(([p, t]) => [p, +t.toFixed(3)]));
  return { pass, m, times, chosen, trialMs: performance.now() - t0, trialCpuMs: cpuClock() - c0 };
}
