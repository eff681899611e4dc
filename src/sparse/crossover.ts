/**
 * The density below which a masked Linear runs faster as CSR than as a dense-masked GEMM, measured — never
 * guessed — per backend and layer shape by a short timed trial, cached in memory per (backend, m, n, k, pass)
 * and optionally saved to / loaded from a JSON table.
 *
 * Sparse execution no longer chooses by this density where it can time a layer synchronously (wasm): a random
 * mask's crossover says nothing of a structured mask (whole blocks, equal rows, dead rows), and choosing by it
 * made a full-size PALS model slower than dense — src/sparse/path-choice.ts times the layer's own mask among
 * every format instead. It remains the choice between dense and CSR on backends that cannot be timed inside a
 * forward (WebGPU: a loaded table or `measureCrossoverAsync`), and the bench's crossover estimate.
 *
 * The trial, on random data of the layer's shape (rows capped at `TRIAL_ROWS`: both paths cost linearly in m,
 * so the ratio barely moves; the cache key uses the capped row count too):
 * - forward:  dense `X·Wᵀ` (GEMM) vs `denseCsrT(X, W)`;
 * - training: forward + dX + dW — dense: three GEMMs; sparse: `denseCsrT(X, W)`, `denseCsrT(G, Wᵀ)` and
 *   `sddmm(Gᵀ, X)` at W's pattern (the weight gradient only at active positions);
 * dense time once, sparse time at two densities; sparse cost is close to affine in density (a fixed part for
 * transposes and setup, a part proportional to nnz), so the crossover is where that line meets the dense time,
 * clamped to [0, 1]. Each time is the minimum of a few runs of process CPU time where the runtime reports it
 * (js and wasm kernels run on the calling thread), else wall time — robust on a shared machine.
 *
 * Only backends that read synchronously (js, wasm) can be timed inside a forward pass; for the others
 * `crossoverDensity` returns a table entry if one was loaded, else 0 (dense) — `measureCrossoverAsync` times
 * them (each run waits for its result) and fills the cache.
 */
import type { Backend, CsrStorage, Storage } from '../backend/kernels.ts';
import { cpuClock, trialData as rand } from '../backend/timing.ts';

export type Pass = 'forward' | 'training';

export interface CrossoverEntry {
  backend: string;
  m: number;
  n: number;
  k: number;
  pass: Pass;
  /** Sparse is faster below this density (0: never, 1: always). */
  density: number;
  dense_ms: number;
  /** [density, sparse_ms] of the trial points. */
  points: Array<[number, number]>;
}

/** Rows used by the trial (the cache key's m is min(m, TRIAL_ROWS)). */
export const TRIAL_ROWS = 1024;
const TRIAL_DENSITIES: readonly [number, number] = [0.4, 0.1];

const cache = new Map<string, CrossoverEntry>();

function key(backend: string, m: number, n: number, k: number, pass: Pass): string {
  return `${backend}:${Math.min(m, TRIAL_ROWS)}x${n}x${k}:${pass}`;
}

/** A random u8 mask of `size` entries with about `density`·size ones (seeded) and its count. */
export function randomMask(size: number, density: number, seed: number): { mask: Uint8Array; nnz: number } {
  const mask = new Uint8Array(size);
  let s = seed >>> 0;
  let nnz = 0;
  for (let i = 0; i < size; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    if (s / 4294967296 < density) {
      mask[i] = 1;
      nnz++;
    }
  }
  return { mask, nnz };
}

/** Transposed host mask [rows, cols] → [cols, rows]. */
export function transposeMask(mask: Uint8Array, rows: number, cols: number): Uint8Array {
  const t = new Uint8Array(mask.length);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) t[j * rows + i] = mask[i * cols + j]!;
  return t;
}

function freeCsr(be: Backend, c: CsrStorage): void {
  be.free(c.rowPtr);
  be.free(c.colIdx);
  be.free(c.values);
}

/** One timed run: `fn` returns the storages it made; they are read (waited for) when the backend is async, then freed. */
async function timeOnce(be: Backend, fn: () => Storage[]): Promise<number> {
  const t0 = performance.now();
  const outs = fn();
  if (!be.readSync) await be.read(outs[outs.length - 1]!);
  const ms = performance.now() - t0;
  for (const o of outs) be.free(o);
  return ms;
}


function timeOnceSync(be: Backend, fn: () => Storage[]): number {
  const t0 = cpuClock();
  const outs = fn();
  const ms = cpuClock() - t0;
  for (const o of outs) be.free(o);
  return ms;
}

/** The products of one pass, dense and sparse, on operands of shape m×n×k. */
export interface TrialOperands {
  dense: () => Storage[];
  sparse: (density: number) => { run: () => Storage[]; dispose: () => void };
  dispose: () => void;
}

export function trialOperands(be: Backend, m: number, n: number, k: number, pass: Pass, pattern: 'unstructured' | Uint8Array = 'unstructured'): TrialOperands {
  const K = be.kernels;
  const x = be.upload(rand(m * k, 1));
  const w = be.upload(rand(n * k, 2));
  const g = be.upload(rand(m * n, 3));
  const dense = (): Storage[] => {
    const y = K.matmul({ a: x, b: w, aShape: [m, k], bShape: [n, k], transA: false, transB: true });
    if (pass === 'forward') return [y];
    const dx = K.matmul({ a: g, b: w, aShape: [m, n], bShape: [n, k], transA: false, transB: false });
    const dw = K.matmul({ a: g, b: x, aShape: [m, n], bShape: [m, k], transA: true, transB: false });
    return [y, dx, dw];
  };
  const sparse = (density: number) => {
    const { mask, nnz } = pattern === 'unstructured' ? randomMask(n * k, density, 7) : { mask: pattern, nnz: pattern.reduce((a, b) => a + b, 0) };
    const mk = be.upload(mask);
    const csr = K.denseToCsr(w, n, k, nnz, mk);
    let csrT: CsrStorage | null = null;
    let mt: Storage | null = null;
    let wt: Storage | null = null;
    if (pass === 'training') {
      mt = be.upload(transposeMask(mask, n, k));
      wt = K.permute(w, [n, k], [1, 0]);
      csrT = K.denseToCsr(wt, k, n, nnz, mt);
    }
    return {
      run: (): Storage[] => {
        const y = K.denseCsrT(x, m, csr);
        if (pass === 'forward') return [y];
        const dx = K.denseCsrT(g, m, csrT!);
        const dw = K.sddmm(g, [m, n], true, x, [m, k], false, csr);
        return [y, dx, dw];
      },
      dispose: () => {
        freeCsr(be, csr);
        be.free(mk);
        if (csrT) freeCsr(be, csrT);
        if (mt) be.free(mt);
        if (wt) be.free(wt);
      },
    };
  };
  return { dense, sparse, dispose: () => [x, w, g].forEach((s) => be.free(s)) };
}

function solve(denseMs: number, points: Array<[number, number]>): number {
  const [[d0, t0], [d1, t1]] = points as [[number, number], [number, number]];
  const slope = (t0 - t1) / (d0 - d1);
  const fixed = t1 - slope * d1;
  if (fixed >= denseMs) return 0; // even an empty matrix is slower
  if (slope <= 0) return 1;
  return Math.max(0, Math.min(1, (denseMs - fixed) / slope));
}

const RUNS = 3;

function measureSync(be: Backend, m: number, n: number, k: number, pass: Pass): CrossoverEntry {
  const mt = Math.min(m, TRIAL_ROWS);
  const ops = trialOperands(be, mt, n, k, pass);
  try {
    const best = (fn: () => Storage[]) => {
      timeOnceSync(be, fn); // warm-up
      let t = Infinity;
      for (let i = 0; i < RUNS; i++) t = Math.min(t, timeOnceSync(be, fn));
      return t;
    };
    const denseMs = best(ops.dense);
    const points = TRIAL_DENSITIES.map((d): [number, number] => {
      const s = ops.sparse(d);
      try {
        return [d, best(s.run)];
      } finally {
        s.dispose();
      }
    });
    return { backend: be.name, m: mt, n, k, pass, density: solve(denseMs, points), dense_ms: denseMs, points };
  } finally {
    ops.dispose();
  }
}

/** Time the trial on any backend (awaiting each result) and cache it. */
export async function measureCrossoverAsync(be: Backend, m: number, n: number, k: number, pass: Pass): Promise<CrossoverEntry> {
  const id = key(be.name, m, n, k, pass);
  const hit = cache.get(id);
  if (hit) return hit;
  if (be.readSync) return crossoverEntry(be, m, n, k, pass)!;
  const mt = Math.min(m, TRIAL_ROWS);
  const ops = trialOperands(be, mt, n, k, pass);
  try {
    const best = async (fn: () => Storage[]) => {
      await timeOnce(be, fn);
      let t = Infinity;
      for (let i = 0; i < RUNS; i++) t = Math.min(t, await timeOnce(be, fn));
      return t;
    };
    const denseMs = await best(ops.dense);
    const points: Array<[number, number]> = [];
    for (const d of TRIAL_DENSITIES) {
      const s = ops.sparse(d);
      try {
        points.push([d, await best(s.run)]);
      } finally {
        s.dispose();
      }
    }
    const e: CrossoverEntry = { backend: be.name, m: mt, n, k, pass, density: solve(denseMs, points), dense_ms: denseMs, points };
    cache.set(id, e);
    return e;
  } finally {
    ops.dispose();
  }
}

/**
 * The cached entry for (backend, m, n, k, pass); on a synchronous backend a miss runs the trial now (a few
 * GEMMs of the layer's shape), on others a miss returns null.
 */
export function crossoverEntry(be: Backend, m: number, n: number, k: number, pass: Pass): CrossoverEntry | null {
  const id = key(be.name, m, n, k, pass);
  let e = cache.get(id);
  if (!e) {
    if (!be.readSync) return null;
    e = measureSync(be, m, n, k, pass);
    cache.set(id, e);
  }
  return e;
}

/** Sparse (CSR) is faster below this density for this backend and shape; 0 when unknown on an async backend. */
export function crossoverDensity(be: Backend, m: number, n: number, k: number, pass: Pass): number {
  return crossoverEntry(be, m, n, k, pass)?.density ?? 0;
}

/** Every cached entry (to save as a JSON table). */
export function crossoverTable(): CrossoverEntry[] {
  return [...cache.values()];
}

/**
 * Load entries (e.g. a JSON table saved by an earlier run on the same machine); they take precedence over new
 * trials. Entries are not checked against this machine: load only tables measured on it.
 */
export function loadCrossoverTable(entries: CrossoverEntry[]): void {
  for (const e of entries) cache.set(key(e.backend, e.m, e.n, e.k, e.pass), e);
}

/** Forget every cached measurement (tests). */
export function clearCrossoverCache(): void {
  cache.clear();
}
