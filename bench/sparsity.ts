/**
 * The sparsity study: dense-masked GEMM vs CSR products for a masked Linear of shape m×n×k (X [m, k],
 * W [n, k], y = X·Wᵀ), swept over density, for the layer shapes of the full and small presets.
 *
 *   npm run bench -- sparsity [--json] [--backend wasm|js] [--preset small|full|all] [--runs N] [--svg PATH]
 *                             [--densities 0.5,0.1] [--shapes 3072x512x512,…] [--pass forward|backward]
 *
 * One line per (shape, density, pattern, pass, kernel):
 *   {"bench":"sparsity","backend","m","n","k","density","pattern","pass","kernel","dense_ms","sparse_ms","speedup",
 *    "cpu_speedup","dense_cpu_ms","sparse_cpu_ms","convert_ms"}
 * - kernel "csr": the CSR kernels below (every pattern); kernel "bsr4x4": the block4x4 pattern also through the
 *   BSR (4×4 blocks) kernels at the same weight and mask, timed against the dense GEMMs the same way (its own
 *   alternating runs): forward denseBsrT(X, W); backward denseBsrT(G, Wᵀ) for dX (the BSR of Wᵀ: the transpose
 *   of a block mask is a block mask) plus the CSR sddmm for dW (there is no block SDDMM); convert_ms = building
 *   the BSR (and for backward the CSR of W);
 * - pass "forward":  dense X·Wᵀ (GEMM)            vs denseCsrT(X, W);
 *   pass "backward": dense G·W and Gᵀ·X (2 GEMMs) vs denseCsrT(G, Wᵀ) (dX) and sddmm(Gᵀ, X) at W's pattern (dW
 *   only at active positions);
 * - dense and sparse runs alternate (warm-up, then the medians of ≥ 5 runs each), so load on a shared machine
 *   hits both alike; *_cpu_ms are the medians of process CPU time of the same runs (robust to other processes
 *   taking the core); speedup = dense_ms / sparse_ms, cpu_speedup = dense_cpu_ms / sparse_cpu_ms;
 * - convert_ms: building the CSR of W and of Wᵀ from the weight and its mask (what a mask change costs);
 * - patterns: "unstructured" (random) at every density; at equal density for comparison, "2:4" (N:M, 50%) and
 *   "1:4" (25%) along k, and "block4x4" (random 4×4 blocks) at 50%, 25%, 10% and 5%.
 * Then one {"bench":"sparsity-crossover",...} line per (shape, pass): the density where the unstructured
 * cpu_speedup crosses 1 (wall_crossover_density: the same from wall time) (linear interpolation between the measured densities), and the start-up trial's estimate
 * (src/sparse/crossover.ts) for comparison. Finally an SVG plot of speedup vs sparsity with the crossovers
 * marked (default bench/sparsity.svg).
 */
import fs from 'node:fs';
import type { Backend, BsrStorage, CsrStorage, Storage } from '../src/backend/kernels.ts';
import type { Tensor } from '../src/tensor/tensor.ts';
import { engine } from '../src/tensor/engine.ts';
import { crossoverEntry, randomMask, transposeMask } from '../src/sparse/crossover.ts';
import { emit } from './stats.ts';
import { trialData as rand } from '../src/backend/timing.ts';
import { bsrBlockCount } from '../src/sparse/bsr-pattern.ts';

export const SPARSITY_SHAPES = {
  full: [[3072, 512, 512], [3072, 512, 2048], [3072, 2048, 512]],
  small: [[3072, 64, 64], [3072, 256, 64], [3072, 64, 256]],
} as const;
export const SWEEP_DENSITIES = [1, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.05, 0.02];

type Pattern = 'unstructured' | '2:4' | '1:4' | 'block4x4';
type Pass = 'forward' | 'backward';
type SparseKernel = 'csr' | 'bsr4x4';

/** A mask [n, k] of the pattern at `density` (seeded). */
export function patternMask(pattern: Pattern, n: number, k: number, density: number, seed = 7): Uint8Array {
  if (pattern === 'unstructured') return randomMask(n * k, density, seed).mask;
  const u = rand(n * k, seed);
  const mask = new Uint8Array(n * k);
  if (pattern === '2:4' || pattern === '1:4') {
    const keep = pattern === '2:4' ? 2 : 1;
    for (let i = 0; i < n; i++) {
      for (let g = 0; g + 4 <= k; g += 4) {
        // keep the `keep` lanes with the largest random scores
        const lanes = [0, 1, 2, 3].sort((a, b) => u[i * k + g + b]! - u[i * k + g + a]!);
        for (let q = 0; q < keep; q++) mask[i * k + g + lanes[q]!] = 1;
      }
    }
    return mask;
  }
  // block4x4: each 4×4 block kept with probability `density`
  const bn = Math.ceil(n / 4);
  const bk = Math.ceil(k / 4);
  const blocks = randomMask(bn * bk, density, seed).mask;
  for (let i = 0; i < n; i++) for (let j = 0; j < k; j++) if (blocks[(i >> 2) * bk + (j >> 2)]) mask[i * k + j] = 1;
  return mask;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

interface Timed {
  ms: number;
  cpuMs: number;
}

/** Alternate dense and sparse runs; medians of each. Each fn returns the storages it made (freed here). */
function timePair(be: Backend, dense: () => Storage[], sparse: () => Storage[], runs: number): [Timed, Timed] {
  const one = (fn: () => Storage[]): [number, number] => {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const outs = fn();
    const ms = performance.now() - t0;
    const c = process.cpuUsage(c0);
    for (const o of outs) be.free(o);
    return [ms, (c.user + c.system) / 1000];
  };
  one(dense);
  one(sparse);
  const d: Array<[number, number]> = [];
  const s: Array<[number, number]> = [];
  for (let i = 0; i < Math.max(5, runs); i++) {
    d.push(one(dense));
    s.push(one(sparse));
  }
  const med = (xs: Array<[number, number]>): Timed => ({ ms: median(xs.map((x) => x[0])), cpuMs: median(xs.map((x) => x[1])) });
  return [med(d), med(s)];
}

function freeCsr(be: Backend, c: CsrStorage): void {
  be.free(c.rowPtr);
  be.free(c.colIdx);
  be.free(c.values);
}

export interface SparsityRecord {
  bench: 'sparsity';
  backend: string;
  m: number;
  n: number;
  k: number;
  density: number;
  pattern: Pattern;
  pass: Pass;
  /** The sparse kernels timed: CSR (denseCsrT / sddmm), or the 4×4-block BSR (denseBsrT; backward: + CSR sddmm for dW). */
  kernel: SparseKernel;
  dense_ms: number;
  sparse_ms: number;
  speedup: number;
  cpu_speedup: number;
  dense_cpu_ms: number;
  sparse_cpu_ms: number;
  convert_ms: number;
}

function measure(be: Backend, m: number, n: number, k: number, pattern: Pattern, density: number, pass: Pass, runs: number, kernel: SparseKernel = 'csr'): SparsityRecord {
  const K = be.kernels;
  const x = be.upload(rand(m * k, 1));
  const w = be.upload(rand(n * k, 2));
  const g = be.upload(rand(m * n, 3));
  const mask = patternMask(pattern, n, k, density);
  let nnz = 0;
  for (let i = 0; i < mask.length; i++) nnz += mask[i]!;
  const mk = be.upload(mask);
  const mt = be.upload(transposeMask(mask, n, k));
  let csr: CsrStorage | null = null;
  let csrT: CsrStorage | null = null;
  let bsr: BsrStorage | null = null;
  const t0 = performance.now();
  if (kernel === 'bsr4x4' && pass === 'forward') {
    bsr = K.denseToBsr(w, n, k, bsrBlockCount(mask, n, k), mk);
  } else if (kernel === 'bsr4x4') {
    csr = K.denseToCsr(w, n, k, nnz, mk);
    const wt = K.permute(w, [n, k], [1, 0]);
    const maskT = transposeMask(mask, n, k);
    bsr = K.denseToBsr(wt, k, n, bsrBlockCount(maskT, k, n), mt);
    be.free(wt);
  } else {
    csr = K.denseToCsr(w, n, k, nnz, mk);
    const wt = K.permute(w, [n, k], [1, 0]);
    csrT = K.denseToCsr(wt, k, n, nnz, mt);
    be.free(wt);
  }
  const convertMs = performance.now() - t0;
  const dense = pass === 'forward'
    ? () => [K.matmul({ a: x, b: w, aShape: [m, k], bShape: [n, k], transA: false, transB: true })]
    : () => [
        K.matmul({ a: g, b: w, aShape: [m, n], bShape: [n, k], transA: false, transB: false }),
        K.matmul({ a: g, b: x, aShape: [m, n], bShape: [m, k], transA: true, transB: false }),
      ];
  const sparse = bsr
    ? pass === 'forward'
      ? () => [K.denseBsrT(x, m, bsr)]
      : () => [K.denseBsrT(g, m, bsr), K.sddmm(g, [m, n], true, x, [m, k], false, csr!)]
    : pass === 'forward'
      ? () => [K.denseCsrT(x, m, csr!)]
      : () => [K.denseCsrT(g, m, csrT!), K.sddmm(g, [m, n], true, x, [m, k], false, csr!)];
  const [d, s] = timePair(be, dense, sparse, runs);
  if (csr) freeCsr(be, csr);
  if (csrT) freeCsr(be, csrT);
  if (bsr) for (const t of [bsr.blockPtr, bsr.blockCol, bsr.values]) be.free(t);
  for (const t of [x, w, g, mk, mt]) be.free(t);
  const r3 = (v: number) => +v.toFixed(3);
  return {
    bench: 'sparsity', backend: be.name, m, n, k, density: +(nnz / (n * k)).toFixed(4), pattern, pass, kernel,
    dense_ms: r3(d.ms), sparse_ms: r3(s.ms), speedup: +(d.ms / s.ms).toFixed(3), cpu_speedup: +(d.cpuMs / s.cpuMs).toFixed(3), dense_cpu_ms: r3(d.cpuMs), sparse_cpu_ms: r3(s.cpuMs),
    convert_ms: r3(convertMs),
  };
}

/** Density where the speedup curve (densities descending) first reaches 1; 0 if never, 1 if already at 100%. */
export function crossoverOf(points: Array<{ density: number; speedup: number }>): number {
  const p = [...points].sort((a, b) => b.density - a.density);
  if (p.length && p[0]!.speedup >= 1) return p[0]!.density;
  for (let i = 1; i < p.length; i++) {
    const a = p[i - 1]!;
    const b = p[i]!;
    if (b.speedup >= 1) {
      const t = (1 - a.speedup) / (b.speedup - a.speedup);
      return +(a.density + t * (b.density - a.density)).toFixed(4);
    }
  }
  return 0;
}

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b'];

/** Speedup vs sparsity (log y), one colour per shape, solid forward / dashed backward, crossovers marked. */
export function sparsitySvg(records: SparsityRecord[], crossovers: Array<{ m: number; n: number; k: number; pass: Pass; density: number }>, title: string): string {
  const W = 760;
  const H = 440;
  const mg = { l: 60, r: 230, t: 40, b: 48 };
  const uns = records.filter((r) => r.pattern === 'unstructured');
  const ys = uns.map((r) => r.cpu_speedup).filter((v) => v > 0);
  const yMin = Math.min(0.1, ...ys);
  const yMax = Math.max(10, ...ys);
  const lx = (s: number) => mg.l + (s / 100) * (W - mg.l - mg.r);
  const ly = (v: number) => H - mg.b - ((Math.log10(v) - Math.log10(yMin)) / (Math.log10(yMax) - Math.log10(yMin))) * (H - mg.t - mg.b);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${(mg.l + W - mg.r) / 2}" y="22" text-anchor="middle" font-size="14">${title.replace(/&/g, '&amp;').replace(/</g, '&lt;')}</text>`,
    `<line x1="${mg.l}" y1="${H - mg.b}" x2="${W - mg.r}" y2="${H - mg.b}" stroke="#333"/>`,
    `<line x1="${mg.l}" y1="${mg.t}" x2="${mg.l}" y2="${H - mg.b}" stroke="#333"/>`,
  ];
  for (let s = 0; s <= 100; s += 10) {
    out.push(`<line x1="${lx(s)}" y1="${mg.t}" x2="${lx(s)}" y2="${H - mg.b}" stroke="#f0f0f0"/>`);
    out.push(`<text x="${lx(s)}" y="${H - mg.b + 16}" text-anchor="middle">${s}</text>`);
  }
  for (let e = Math.floor(Math.log10(yMin)); e <= Math.ceil(Math.log10(yMax)); e++) {
    for (const mlt of [1, 2, 5]) {
      const v = mlt * 10 ** e;
      if (v < yMin || v > yMax) continue;
      out.push(`<line x1="${mg.l}" y1="${ly(v)}" x2="${W - mg.r}" y2="${ly(v)}" stroke="${v === 1 ? '#888' : '#f0f0f0'}"${v === 1 ? ' stroke-dasharray="2 2"' : ''}/>`);
      out.push(`<text x="${mg.l - 6}" y="${ly(v) + 4}" text-anchor="end">${v}×</text>`);
    }
  }
  out.push(`<text x="${(mg.l + W - mg.r) / 2}" y="${H - 10}" text-anchor="middle">sparsity (%)</text>`);
  out.push(`<text x="14" y="${H / 2}" transform="rotate(-90 14 ${H / 2})" text-anchor="middle">speedup of CSR over dense-masked GEMM (CPU time, log)</text>`);
  const shapes = [...new Set(uns.map((r) => `${r.m}x${r.n}x${r.k}`))];
  let row = 0;
  shapes.forEach((shape, si) => {
    const color = COLORS[si % COLORS.length]!;
    for (const pass of ['forward', 'backward'] as const) {
      const pts = uns.filter((r) => `${r.m}x${r.n}x${r.k}` === shape && r.pass === pass).sort((a, b) => b.density - a.density);
      if (!pts.length) continue;
      const dash = pass === 'backward' ? ' stroke-dasharray="5 3"' : '';
      out.push(`<polyline fill="none" stroke="${color}" stroke-width="1.8"${dash} points="${pts.map((r) => `${lx(100 * (1 - r.density)).toFixed(1)},${ly(Math.max(r.cpu_speedup, yMin)).toFixed(1)}`).join(' ')}"/>`);
      const c = crossovers.find((x) => `${x.m}x${x.n}x${x.k}` === shape && x.pass === pass);
      if (c && c.density > 0 && c.density < 1) {
        out.push(`<circle cx="${lx(100 * (1 - c.density)).toFixed(1)}" cy="${ly(1).toFixed(1)}" r="4.5" fill="white" stroke="${color}" stroke-width="2"/>`);
      }
      const y = mg.t + 8 + 16 * row++;
      out.push(`<line x1="${W - mg.r + 10}" y1="${y}" x2="${W - mg.r + 32}" y2="${y}" stroke="${color}" stroke-width="2"${dash}/>`);
      const cs = c ? (c.density > 0 ? ` (×1 at ${(100 * (1 - c.density)).toFixed(0)}%)` : ' (never)') : '';
      out.push(`<text x="${W - mg.r + 38}" y="${y + 4}">${shape} ${pass}${cs}</text>`);
    }
  });
  out.push(`<text x="${W - mg.r + 10}" y="${mg.t + 16 * row + 24}" fill="#555">○ crossover (speedup 1)</text>`);
  out.push('</svg>');
  return out.join('\n');
}

export async function benchSparsity(opts: { json: boolean; backend?: string; preset?: string; runs?: number; svg?: string; densities?: number[]; shapes?: string; pass?: string }): Promise<SparsityRecord[]> {
  const be = engine.getBackend(opts.backend ?? 'wasm');
  const preset = opts.preset ?? 'all';
  const presetShapes = preset === 'all' ? [...SPARSITY_SHAPES.full, ...SPARSITY_SHAPES.small] : SPARSITY_SHAPES[preset as 'full' | 'small'];
  // `--shapes 3072x512x2048,…` (m×n×k) replaces the preset's list.
  const shapes = opts.shapes ? opts.shapes.split(',').map((t) => t.split('x').map(Number) as unknown as readonly [number, number, number]) : presetShapes;
  if (!shapes || shapes.some((s) => s.length !== 3 || !s.every((v) => Number.isInteger(v) && v > 0))) throw new Error(`bench sparsity: unknown preset '${preset}' (small, full, all)`);
  const runs = opts.runs ?? 5;
  const densities = opts.densities ?? SWEEP_DENSITIES;
  const all: SparsityRecord[] = [];
  const crossovers: Array<{ m: number; n: number; k: number; pass: Pass; density: number }> = [];
  const passes = (['forward', 'backward'] as const).filter((p) => !opts.pass || p === opts.pass);
  if (!passes.length) throw new Error(`bench sparsity: unknown pass '${opts.pass}' (forward, backward)`);
  for (const [m, n, k] of shapes) {
    for (const pass of passes) {
      const sweep: SparsityRecord[] = [];
      for (const d of densities) {
        const r = measure(be, m, n, k, 'unstructured', d, pass, runs);
        emit(opts.json, r as unknown as Record<string, unknown>);
        sweep.push(r);
      }
      for (const [pattern, d] of [['2:4', 0.5], ['block4x4', 0.5], ['1:4', 0.25], ['block4x4', 0.25], ['block4x4', 0.1], ['block4x4', 0.05]] as const) {
        if (!densities.includes(d) && opts.densities) continue;
        // The block pattern also through the BSR kernels, right after CSR at the same mask.
        for (const kernel of pattern === 'block4x4' ? ['csr', 'bsr4x4'] as const : ['csr'] as const) {
          const r = measure(be, m, n, k, pattern, d, pass, runs, kernel);
          emit(opts.json, r as unknown as Record<string, unknown>);
          sweep.push(r);
        }
      }
      all.push(...sweep);
      const uns = sweep.filter((r) => r.pattern === 'unstructured');
      const density = crossoverOf(uns.map((r) => ({ density: r.density, speedup: r.cpu_speedup })));
      const wallDensity = crossoverOf(uns);
      const trial = crossoverEntry(be, m, n, k, pass === 'forward' ? 'forward' : 'training');
      crossovers.push({ m, n, k, pass, density });
      emit(opts.json, {
        bench: 'sparsity-crossover', backend: be.name, m, n, k, pass, pattern: 'unstructured',
        crossover_density: density, crossover_sparsity: +(1 - density).toFixed(4), wall_crossover_density: wallDensity,
        trial_density: trial ? +trial.density.toFixed(4) : null, trial_pass: trial?.pass ?? null,
      });
    }
  }
  const svg = opts.svg ?? 'bench/sparsity.svg';
  if (svg !== 'none') {
    fs.writeFileSync(svg, sparsitySvg(all, crossovers, `CSR vs dense-masked GEMM, ${be.name}, one thread (m = ${shapes[0]![0]})`));
    if (!opts.json) console.log(`wrote ${svg}`);
  }
  return all;
}

/**
 * A full training step (forward, backward, Adam, re-mask) and an inference forward of a Transformer of the
 * preset (batch 32, seq 96 / label 48 / pred 96, 7 channels as ETTh1) with every masked weight at `density` in a
 * static mask of `structure` ('unstructured': random; 'fan_in': the same k inputs per row; 'block': whole 4×4
 * blocks — src/sparse/structure.ts), plus the same inference on one window (batch 1, online forecasting: median
 * of at least 15 runs, since a forward of a few milliseconds is swung by any scheduler hiccup), for each
 * execution mode: 'dense' (dense-masked), 'sparse' (every masked Linear / Conv1d(k=1) in the structure's own
 * format — CSR, fan_in or BSR — dW dense, as the reference), 'sparse-dw' (the same with dW at the stored
 * positions, a non-update step), and 'auto' (each layer by its timed trial among dense / CSR / BSR / fan_in /
 * compact, then the whole-model guard — src/sparse/model-guard.ts — for the training pass, batch-32 and batch-1
 * inference, each before it is timed). Lines: {"bench":"sparsity-train","backend","preset","batch","structure",
 * "density","sparsity","mode","format","step_ms","step_cpu_ms","infer_ms","infer_cpu_ms","infer_b1_ms",
 * "infer_b1_cpu_ms","csr_layers_train","csr_layers_infer","sparse_layers_train","sparse_layers_infer",
 * "sparse_layers_infer_b1","layers"}; the 'auto' line adds "guard" (one entry per guarded run: pass, rows, the
 * chosen and dense medians, whether it fell back to dense) and "trials" / "trial_ms" / "trial_cpu_ms"
 * (what the per-layer measurement cost, wall and CPU). `infer_b1_ms` on the 'dense' line and on the 'auto' line are the CLI's `infer_b1_ms_dense`
 * and `infer_b1_ms_sparse`. `inferOnly` skips the training step (step fields null) for the full preset, whose step
 * takes seconds per mode.
 */
export async function benchSparseTraining(opts: {
  json: boolean; backend?: string; preset?: 'small' | 'full'; density?: number; runs?: number; batch?: number;
  structure?: 'unstructured' | 'fan_in' | 'block'; modes?: string[]; inferOnly?: boolean;
}): Promise<void> {
  const { Rng } = await import('../src/tensor/random.ts');
  const { tidy, noGrad } = await import('../src/tensor/engine.ts');
  const { createModel } = await import('../src/models/index.ts');
  const { defaultConfig, PRESETS } = await import('../src/models/config.ts');
  const { Masking } = await import('../src/sparse/masking.ts');
  const { enableSparseExecution } = await import('../src/sparse/sparse-exec.ts');
  const { structuredInitMask, UNSTRUCTURED } = await import('../src/sparse/structure.ts');
  const { Adam } = await import('../src/train/adam.ts');
  const { backward } = await import('../src/autograd/backward.ts');
  const op = await import('../src/ops/index.ts');
  const backend = opts.backend ?? 'wasm';
  engine.useBackend(backend);
  const preset = opts.preset ?? 'small';
  const density = opts.density ?? 0.1;
  const structure = opts.structure ?? 'unstructured';
  if (!['unstructured', 'fan_in', 'block'].includes(structure)) throw new Error(`bench sparsity --train: unknown --structure '${structure}' (unstructured, fan_in, block)`);
  const format = structure === 'fan_in' ? 'fan_in' : structure === 'block' ? 'bsr' : 'csr';
  const B = opts.batch ?? 32;
  const C = 7;
  const cfg = defaultConfig(C, { ...PRESETS[preset] });
  const rng = new Rng(1);
  const model = createModel('Transformer', rng, cfg);
  const shapes = new Map(model.namedParameters().map(([n, p]) => [n, p.shape]));
  const names = [...shapes].filter(([, sh]) => sh.length >= 2).map(([n]) => n);
  const masking = new Masking(model, new Map(names.map((n) => [n, density])), (name, size, d) => structure === 'unstructured'
    ? randomMask(size, d, rng.int(2 ** 31)).mask
    : structuredInitMask({ ...UNSTRUCTURED, kind: structure, blockSize: 4 }, rng, shapes.get(name)!, d));
  masking.apply();
  const adam = new Adam(model.parameters(), { lr: 1e-4 });
  const ex = enableSparseExecution(model, masking, { mode: 'dense' });
  const r = new Rng(2);
  const yLen = cfg.labelLen + cfg.predLen;
  const data = {
    xEnc: r.normal(B * cfg.seqLen * C), xMark: r.uniform(B * cfg.seqLen * 4),
    xDec: r.normal(B * yLen * C), yMark: r.uniform(B * yLen * 4), y: r.normal(B * cfg.predLen * C),
  };
  // The first `b` windows of the batch: b = 1 is the online-inference case.
  const fwd = (b = B) => (model as unknown as { forward: (...a: Tensor[]) => Tensor }).forward(
    op.tensor(data.xEnc.subarray(0, b * cfg.seqLen * C), [b, cfg.seqLen, C]), op.tensor(data.xMark.subarray(0, b * cfg.seqLen * 4), [b, cfg.seqLen, 4]),
    op.tensor(data.xDec.subarray(0, b * yLen * C), [b, yLen, C]), op.tensor(data.yMark.subarray(0, b * yLen * 4), [b, yLen, 4]),
  );
  const lossAndGrads = () => {
    model.train();
    tidy(() => {
      const out = fwd();
      backward(op.mseLoss(out, op.tensor(data.y, [B, cfg.predLen, C])));
    });
  };
  const step = () => {
    lossAndGrads();
    adam.step();
    adam.zeroGrad();
    masking.apply();
  };
  const infer = (b = B) => {
    model.eval();
    noGrad(() => tidy(() => fwd(b).dataSync()));
  };
  const time = (fn: () => void, runs: number) => {
    fn();
    const w: number[] = [];
    const c: number[] = [];
    for (let i = 0; i < runs; i++) {
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      fn();
      w.push(performance.now() - t0);
      const u = process.cpuUsage(c0);
      c.push((u.user + u.system) / 1000);
    }
    return { ms: +median(w).toFixed(2), cpuMs: +median(c).toFixed(2) };
  };
  const runs = Math.max(3, opts.runs ?? 5);
  const counts = () => ex.sparseLayers();
  for (const mode of (opts.modes ?? ['dense', 'sparse', 'sparse-dw', 'auto'])) {
    const execMode = mode === 'dense' || mode === 'auto' ? mode : format;
    ex.setOptions({ mode: execMode as 'dense' | 'auto' | typeof format, weightGrad: mode === 'sparse-dw' ? 'sparse-between-updates' : 'dense' });
    masking.denseGradients = mode !== 'sparse-dw';
    // 'auto': the whole-model guard of each workload right before it is timed (its warm-up runs the trials).
    if (mode === 'auto' && !opts.inferOnly) {
      await ex.guard('training', () => {
        lossAndGrads();
        adam.zeroGrad();
      });
    }
    // --infer-only (a full-preset forward in a few minutes): no training step is timed (step fields null).
    const s = opts.inferOnly ? { ms: null, cpuMs: null } : time(step, runs);
    const trainPaths = Object.values(ex.paths());
    const trainCounts = opts.inferOnly ? null : counts();
    if (mode === 'auto') await ex.guard('forward', () => infer());
    const inf = time(() => infer(), runs);
    const csrInfer = Object.values(ex.paths()).filter((p) => p === 'csr').length; // the paths the batch took
    const inferCounts = counts();
    if (mode === 'auto') await ex.guard('forward', () => infer(1), 9);
    const inf1 = time(() => infer(1), Math.max(15, runs));
    const b1Counts = counts();
    emit(opts.json, {
      bench: 'sparsity-train', backend, preset, batch: B, structure, density, sparsity: +masking.maskedSparsity().toFixed(4), mode,
      format: mode === 'dense' ? 'dense' : mode === 'auto' ? 'auto' : format,
      step_ms: s.ms, step_cpu_ms: s.cpuMs, infer_ms: inf.ms, infer_cpu_ms: inf.cpuMs, infer_b1_ms: inf1.ms, infer_b1_cpu_ms: inf1.cpuMs,
      csr_layers_train: opts.inferOnly ? null : trainPaths.filter((p) => p === 'csr').length, csr_layers_infer: csrInfer,
      sparse_layers_train: trainCounts, sparse_layers_infer: inferCounts, sparse_layers_infer_b1: b1Counts,
      layers: trainPaths.length,
      ...(mode === 'auto' ? { guard: ex.guardResults(), trials: ex.shared.trials, trial_ms: +ex.shared.trialMs.toFixed(1), trial_cpu_ms: +ex.shared.trialCpuMs.toFixed(1) } : {}),
    });
  }
  ex.dispose();
  adam.dispose();
  masking.dispose();
  model.dispose();
}
