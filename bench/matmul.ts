/**
 * GEMM throughput: sparsecast wasm (default deterministic build and relaxed-SIMD build), the single-threaded
 * SIMD build of @tensorflow/tfjs-backend-wasm, and a naive JS triple loop (≤ 512³ only).
 *
 *   npx tsx bench/matmul.ts [--json] [--backend wasm|wasm-relaxed|tfjs|js|IMPL,IMPL,…] [--runs N] [--threads N]
 *     [--shapes 512x512x512,64x64x3072:tA,3072x64x64:tB,step,…] [--tune] [--tune-table FILE]
 *
 * A shape is m×n×k of C = op(A)·op(B), with `:tA` / `:tB` for a transposed operand (A stored [k, m], B stored
 * [n, k]); `step` stands for STEP_SHAPES, the GEMMs of one small-preset Transformer training step.
 *
 * Our GEMM's cache blocking is picked for this CPU by a short trial at the first product of each size class
 * (src/backend/wasm/gemm-tune.ts), as in normal use; each of our lines names the blocking it ran with. With
 * --tune the trial of every shape runs up front and is printed (a "matmul-tune" line: each candidate's time,
 * the choice, the trial's cost), and the default build also runs with its built-in blocking
 * ("sparsecast-wasm-untuned") in the same process, for the tuned/untuned ratio. --tune-table FILE saves the
 * tuned entries as a JSON table (loadGemmTuneTable reads it back). The first line names the CPU.
 *
 * One line per (impl, shape): {"bench":"matmul","impl","m","n","k",("transA","transB",)"ms","gflops","cpuMs",
 * "cpuGflops",("blocking","tuned",)"cpu"} with --json, where ms is the median wall time of ≥ 5 timed runs after
 * warm-up and cpuMs the median process CPU time of the same runs (on a shared machine, other processes inflate
 * wall time but not CPU time); blocking is our {kc, mc, nc, inPlaceA} and tuned whether a trial chose it (false: the
 * shape is too small to tune, or tuning is off). Node 20 validates relaxed-SIMD wasm only with
 * --experimental-wasm-relaxed-simd: run directly, this script re-spawns itself with that flag; called from
 * bench/run.ts (already started with it) it measures in-process.
 *
 * The tfjs peer is checked, not assumed, to run tfjs-backend-wasm-simd.wasm on one thread: the wasm file its
 * Emscripten loader reads is recorded (fs.readFileSync is observed while it initialises), its reported XNNPACK
 * thread count must be 1, and the process CPU time over wall time of its timed runs is printed (≈ 1 for one
 * thread). The check goes to stderr with --json so stdout stays one record per line.
 */
import fs from 'node:fs';
import { spawnSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import os from 'node:os';
import { createWasmBackend, relaxedSimdSupported, type WasmBackend } from '../src/backend/wasm/backend.ts';
import { gemmDefaultBlocking, gemmTuneEntry, gemmTuneTable, type GemmBlocking } from '../src/backend/wasm/gemm-tune.ts';
import type { Backend } from '../src/backend/kernels.ts';
import { emit, random } from './stats.ts';
import { loadTfjsWasm } from './tfjs-peer.ts';

export const MATMUL_SHAPES: ReadonlyArray<readonly [number, number, number]> = [
  [256, 256, 256],
  [512, 512, 512],
  [1024, 1024, 1024],
  [3072, 512, 512],
  [3072, 512, 2048],
  [3072, 2048, 512],
];

/** C = op(A)·op(B): m×n×k and the operands' transposes. */
export interface MatmulShape {
  m: number;
  n: number;
  k: number;
  transA: boolean;
  transB: boolean;
}

/**
 * The GEMMs of one training step of the small-preset Transformer (batch 32 × 96 or 144 positions = 3072 or 4608
 * rows, d_model 64, d_ff 256), as its forward (X·Wᵀ), input gradients (G·W) and weight gradients (Gᵀ·X) call
 * them; the largest share of a step's matmul time is in these.
 */
export const STEP_SHAPES = '64x64x3072:tA,64x64x4608:tA,3072x64x64:tB,3072x64x64,4608x64x64:tB,4608x64x64,'
  + '256x64x3072:tA,64x256x3072:tA,3072x64x256,3072x64x256:tB,3072x256x64,3072x256x64:tB';

const IMPLS = ['sparsecast-wasm', 'sparsecast-wasm-untuned', 'sparsecast-wasm-relaxed', 'tfjs-backend-wasm', 'plain-js'] as const;
type Impl = (typeof IMPLS)[number];

/** The impls a --backend value names: a group name, an impl name, or a comma-separated list of those. */
function selectImpls(backend?: string): Impl[] {
  if (backend?.includes(',')) return [...new Set(backend.split(',').flatMap((b) => selectImpls(b)))];
  switch (backend) {
    case undefined:
    case '':
      return IMPLS.filter((i) => i !== 'sparsecast-wasm-untuned');
    case 'wasm':
      return ['sparsecast-wasm', 'sparsecast-wasm-relaxed'];
    case 'wasm-relaxed':
      return ['sparsecast-wasm-relaxed'];
    case 'tfjs':
      return ['tfjs-backend-wasm'];
    case 'js':
      return ['plain-js'];
    default:
      if ((IMPLS as readonly string[]).includes(backend)) return [backend as Impl];
      throw new Error(`bench matmul: unknown backend '${backend}' (wasm, wasm-relaxed, tfjs, js or an impl name)`);
  }
}

interface Timing {
  /** Median wall time of one run. */
  ms: number;
  /** Median process CPU time of one run: robust to other processes taking the core on a shared machine. */
  cpuMs: number;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

/**
 * Warm-up, then the medians of ≥ 5 timed samples (wall and CPU time), each of `reps` back-to-back calls (so
 * that a sample of a sub-millisecond GEMM is long against the timer and CPU-time resolution), per call.
 */
function timeRuns(fn: () => void, warmup: number, plan: { runs: number; reps: number }): Timing {
  for (let i = 0; i < warmup * plan.reps; i++) fn();
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < Math.max(5, plan.runs); i++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    for (let r = 0; r < plan.reps; r++) fn();
    wall.push((performance.now() - t0) / plan.reps);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000 / plan.reps);
  }
  return { ms: median(wall), cpuMs: median(cpu) };
}

/** Samples so that timing takes about a second (at least 5), and calls per sample so that one takes ≥ ~10 ms. */
function runsFor(flops: number, gflopsGuess: number, requested?: number): { runs: number; reps: number } {
  const ms = flops / (gflopsGuess * 1e6);
  const reps = Math.max(1, Math.ceil(10 / ms));
  return { runs: Math.max(5, requested ?? 0, Math.min(25, Math.ceil(1000 / (ms * reps)))), reps };
}

async function benchSparsecast(be: Backend, impl: Impl, shape: MatmulShape, runs?: number): Promise<Timing> {
  const { m, n, k, transA, transB } = shape;
  const a = be.upload(random(m * k, 1));
  const b = be.upload(random(k * n, 2));
  const aShape = transA ? [k, m] : [m, k];
  const bShape = transB ? [n, k] : [k, n];
  const run = () => be.free(be.kernels.matmul({ a, b, aShape, bShape, transA, transB }));
  const t = timeRuns(run, 2, runsFor(2 * m * n * k, impl.endsWith('relaxed') ? 50 : 44, runs));
  be.free(a);
  be.free(b);
  return t;
}

function plainJsMatmul(a: Float32Array, b: Float32Array, c: Float32Array, m: number, n: number, k: number): void {
  // Naive triple loop (i, j, p), f64 accumulator.
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += a[i * k + p]! * b[p * n + j]!;
      c[i * n + j] = s;
    }
  }
}

interface PeerCheck {
  binary: string | null;
  threads: number;
  cpuOverWall: number[];
}

async function loadPeer(): Promise<{ tf: Awaited<ReturnType<typeof loadTfjsWasm>>['tf']; check: PeerCheck }> {
  // Observe which wasm binary Emscripten reads while tfjs initialises.
  const seen: string[] = [];
  const original = fs.readFileSync;
  (fs as { readFileSync: typeof fs.readFileSync }).readFileSync = ((path: unknown, ...rest: unknown[]) => {
    if (typeof path === 'string' || path instanceof URL) seen.push(String(path));
    return (original as (...args: unknown[]) => unknown)(path, ...rest);
  }) as typeof fs.readFileSync;
  let peer: Awaited<ReturnType<typeof loadTfjsWasm>>;
  try {
    peer = await loadTfjsWasm();
  } finally {
    (fs as { readFileSync: typeof fs.readFileSync }).readFileSync = original;
  }
  const binary = seen.find((p) => p.endsWith('.wasm')) ?? null;
  if (binary !== null && !binary.endsWith('tfjs-backend-wasm-simd.wasm')) {
    throw new Error(`bench matmul: tfjs loaded ${binary}, not the single-threaded SIMD build`);
  }
  if (peer.threads !== 1) throw new Error(`bench matmul: tfjs reports ${peer.threads} threads, expected 1`);
  return { tf: peer.tf, check: { binary, threads: peer.threads, cpuOverWall: [] } };
}

async function benchTfjs(
  tf: Awaited<ReturnType<typeof loadTfjsWasm>>['tf'], check: PeerCheck, shape: MatmulShape, runs?: number,
): Promise<Timing> {
  const { m, n, k, transA, transB } = shape;
  const a = tf.tensor2d(random(m * k, 1), transA ? [k, m] : [m, k]);
  const b = tf.tensor2d(random(k * n, 2), transB ? [n, k] : [k, n]);
  const run = () => tf.matMul(a, b, transA, transB).dispose(); // the wasm backend runs kernels synchronously
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const t = timeRuns(run, 2, runsFor(2 * m * n * k, 30, runs));
  const wall = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  check.cpuOverWall.push((cpu.user + cpu.system) / 1000 / wall);
  a.dispose();
  b.dispose();
  return t;
}

/**
 * The CPU, for the record of every measurement: its model name (/proc/cpuinfo, else os.cpus()) and, on Linux,
 * the family / model numbers and the cache size the kernel reports — a VM often names only "AMD EPYC", and the
 * family (25: Zen 3 / Zen 4, 26: Zen 5) and the per-core L2 are what the blocking depends on.
 */
export function cpuModel(): string {
  try {
    const first = fs.readFileSync('/proc/cpuinfo', 'utf8').split('\n\n')[0]!;
    const field = (name: string) => first.split('\n').find((l) => l.startsWith(name) && /^[^:]*:/.test(l))?.replace(/^[^:]*:\s*/, '').trim();
    const name = field('model name');
    if (name) {
      const family = field('cpu family');
      const model = field('model\t');
      const cache = field('cache size');
      const extra = [family && `family ${family}`, model && `model ${model}`, cache && `cache ${cache}`].filter(Boolean).join(', ');
      return extra ? `${name} (${extra})` : name;
    }
  } catch {
    // not Linux: os.cpus() below
  }
  return os.cpus()[0]?.model.trim() || 'unknown';
}

/** The blocking our GEMM runs this shape with on this backend, and whether a trial chose it. */
function blockingOf(be: WasmBackend, s: MatmulShape): { blocking: GemmBlocking; tuned: boolean } {
  const b = be.rt.gemmBlocking?.(s.m, s.n, s.k, s.transA, s.transB);
  return b ? { blocking: b, tuned: true } : { blocking: gemmDefaultBlocking(be.rt), tuned: false };
}

/** `--shapes 512x512x512,64x64x3072:tA,…` (`step` in the list: STEP_SHAPES) → shapes; none → MATMUL_SHAPES (no transposes). */
export function parseShapes(spec: string | undefined): MatmulShape[] {
  if (!spec) return MATMUL_SHAPES.map(([m, n, k]) => ({ m, n, k, transA: false, transB: false }));
  return spec.split(',').flatMap((t) => (t === 'step' ? STEP_SHAPES.split(',') : [t])).map((t) => {
    const [dims, ...flags] = t.split(':');
    const d = dims!.split('x').map(Number);
    if (d.length !== 3 || !d.every((v) => Number.isInteger(v) && v > 0) || flags.some((f) => f !== 'tA' && f !== 'tB')) {
      throw new Error(`bench matmul: --shapes expects m×n×k with optional :tA / :tB like 512x512x512 or 64x64x3072:tA, got '${t}'`);
    }
    return { m: d[0]!, n: d[1]!, k: d[2]!, transA: flags.includes('tA'), transB: flags.includes('tB') };
  });
}

export async function benchMatmul(opts: {
  json: boolean; backend?: string; runs?: number; shapes?: string; threads?: number; tune?: boolean; tuneTable?: string;
}): Promise<void> {
  const impls = selectImpls(opts.backend);
  if (opts.tune && impls.includes('sparsecast-wasm') && !impls.includes('sparsecast-wasm-untuned')) {
    impls.splice(impls.indexOf('sparsecast-wasm') + 1, 0, 'sparsecast-wasm-untuned');
  }
  const backends = new Map<Impl, WasmBackend>();
  const cpu = cpuModel();
  if (!process.env.SPARSECAST_BENCH_CHILD || impls.length > 1) {
    emit(opts.json, { bench: 'matmul-cpu', cpu, cores: os.cpus().length, node: process.version });
  }
  // --threads N: the default build's line is the wasm thread pool on N threads (the relaxed build has none).
  const threads = opts.threads ?? 1;
  if (impls.includes('sparsecast-wasm')) backends.set('sparsecast-wasm', await createWasmBackend({ threads }));
  if (impls.includes('sparsecast-wasm-untuned')) backends.set('sparsecast-wasm-untuned', await createWasmBackend({ threads, gemmTune: false }));
  let relaxedInChild = false;
  if (impls.includes('sparsecast-wasm-relaxed')) {
    if (relaxedSimdSupported()) {
      backends.set('sparsecast-wasm-relaxed', await createWasmBackend({ relaxed: true }));
    } else if (!process.env.SPARSECAST_BENCH_CHILD) {
      relaxedInChild = true;
    } else {
      console.error('bench matmul: relaxed SIMD not supported by this runtime; skipping sparsecast-wasm-relaxed');
    }
  }
  let peer: Awaited<ReturnType<typeof loadPeer>> | undefined;
  if (impls.includes('tfjs-backend-wasm')) peer = await loadPeer();
  // Start-up warm-up: V8 first runs wasm on its baseline compiler and tiers hot functions up in the background,
  // so the first shape measured in a fresh process could see baseline code (512³ measured 40 instead of 47
  // GFLOP/s as the first shape). Half a second of GEMMs on each of our backends first; tfjs warms per shape.
  for (const be of backends.values()) {
    const t0 = performance.now();
    while (performance.now() - t0 < 500) await benchSparsecast(be, 'sparsecast-wasm', { m: 256, n: 256, k: 256, transA: false, transB: false }, 5);
  }

  const shapes = parseShapes(opts.shapes);
  if (opts.tune) {
    // The trials up front (warm code, before any timed run), one line each.
    for (const [impl, be] of backends) {
      if (!be.rt.gemmBlocking) continue;
      for (const s of shapes) {
        const e = gemmTuneEntry(be.rt, s.m, s.n, s.k, s.transA, s.transB);
        if (!e) continue;
        emit(opts.json, {
          bench: 'matmul-tune', impl, m: s.m, n: s.n, k: s.k, ...(s.transA ? { transA: true } : {}), ...(s.transB ? { transB: true } : {}),
          cls: e.cls, trial: `${e.m}x${e.n}x${e.k}`, blocking: e.blocking, default: gemmDefaultBlocking(be.rt),
          candidates: e.candidates.map((c) => `${c.kc}/${c.mc}/${c.nc}${c.inPlaceA ? '/inPlaceA' : ''}:${c.ms}`).join(' '), tuneMs: e.tune_ms, cpu,
        });
      }
    }
  }

  for (const shape of shapes) {
    const { m, n, k, transA, transB } = shape;
    const flops = 2 * m * n * k;
    for (const impl of impls) {
      let t: Timing | undefined;
      if (impl === 'tfjs-backend-wasm' && peer) {
        t = await benchTfjs(peer.tf, peer.check, shape, opts.runs);
      } else if (impl === 'plain-js') {
        if (m * n * k > 512 ** 3 || transA || transB) continue;
        const a = random(m * k, 1);
        const b = random(k * n, 2);
        const c = new Float32Array(m * n);
        t = timeRuns(() => plainJsMatmul(a, b, c, m, n, k), 1, { runs: opts.runs ?? 5, reps: 1 });
      } else {
        const be = backends.get(impl);
        if (!be) continue;
        t = await benchSparsecast(be, impl, shape, opts.runs);
      }
      const be = backends.get(impl);
      emit(opts.json, {
        bench: 'matmul', impl, m, n, k, ...(transA ? { transA } : {}), ...(transB ? { transB } : {}), ms: +t.ms.toFixed(3), gflops: +(flops / t.ms / 1e6).toFixed(2),
        cpuMs: +t.cpuMs.toFixed(3), cpuGflops: +(flops / t.cpuMs / 1e6).toFixed(2),
        ...(impl.startsWith('sparsecast-wasm') && impl !== 'sparsecast-wasm-relaxed' && threads > 1 ? { threads } : {}),
        ...(be ? blockingOf(be, shape) : {}), cpu,
      });
    }
  }

  if (peer) {
    const c = peer.check;
    const line = {
      bench: 'matmul-peer-check', impl: 'tfjs-backend-wasm', binary: c.binary, threads: c.threads,
      cpuOverWall: c.cpuOverWall.map((x) => +x.toFixed(2)),
    };
    if (opts.json) console.error(JSON.stringify(line));
    else emit(false, line);
  }

  if (opts.tuneTable) {
    fs.writeFileSync(opts.tuneTable, JSON.stringify(gemmTuneTable(), null, 1) + '\n');
    console.error(`bench matmul: GEMM blocking table (${gemmTuneTable().length} entries) written to ${opts.tuneTable}`);
  }

  for (const be of backends.values()) be.dispose();

  if (relaxedInChild) {
    // This runtime lacks relaxed SIMD without a flag: measure the relaxed build in a child that has it.
    const self = new URL(import.meta.url).pathname;
    const args = ['--experimental-wasm-relaxed-simd', ...process.execArgv, self, '--backend', 'wasm-relaxed'];
    if (opts.json) args.push('--json');
    if (opts.runs) args.push('--runs', String(opts.runs));
    if (opts.shapes) args.push('--shapes', opts.shapes);
    if (opts.tune) args.push('--tune');
    const r = spawnSync(process.execPath, args, { stdio: 'inherit', env: { ...process.env, SPARSECAST_BENCH_CHILD: '1' } });
    if (r.status !== 0) console.error('bench matmul: the relaxed-SIMD child run failed');
  }
}

// In a bundle (scripts/gpu/bundle.mjs) every module's import.meta.url is the bundle's own, which is argv[1]:
// only the unbundled file can be the program started.
const isMain = process.env.SPARSECAST_BUNDLED !== '1' && process.argv[1] !== undefined
  && import.meta.url === pathToFileURL(process.argv[1]).href;
if (isMain) {
  const args = process.argv.slice(2);
  const flag = (f: string) => {
    const i = args.indexOf(f);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const json = args.includes('--json');
  const backend = flag('--backend');
  const runs = flag('--runs') ? Number(flag('--runs')) : undefined;
  const threads = flag('--threads') ? Number(flag('--threads')) : undefined;
  if (!relaxedSimdSupported() && !process.env.SPARSECAST_BENCH_CHILD && selectImpls(backend).includes('sparsecast-wasm-relaxed')) {
    // Re-run everything in one process that has relaxed SIMD, so all impls share a process and its timing.
    const r = spawnSync(
      process.execPath,
      ['--experimental-wasm-relaxed-simd', ...process.execArgv, process.argv[1]!, ...args],
      { stdio: 'inherit', env: { ...process.env, SPARSECAST_BENCH_CHILD: '1' } },
    );
    process.exit(r.status ?? 1);
  }
  await benchMatmul({ json, backend, runs, threads, shapes: flag('--shapes'), tune: args.includes('--tune'), tuneTable: flag('--tune-table') });
}
