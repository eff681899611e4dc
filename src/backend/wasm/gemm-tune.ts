/**
 * The dense GEMM's cache blocking (KC, MC, NC of assembly/gemm.ts), picked per CPU by a short timed trial at
 * first use — never assumed from the machine the defaults were tuned on — cached in memory per (build, size
 * class) and optionally saved to / loaded from a JSON table (the same shape of API as the sparse crossover
 * table, src/sparse/crossover.ts).
 *
 * Why: the build's defaults (KC 1024 / MC 24 / NC 1024 for the default build) were measured on one Zen 4 core
 * with a 1 MiB L2, where the 384 KiB pre-broadcast A block and the 32 KiB B micro-panel fit. A Zen 3 core has
 * half that L2, and on such a VM our lead over tfjs-backend-wasm fell from 1.5× to 1.25×; the blocking that
 * suits the caches a user actually has is found by timing a few, not by guessing cache sizes (which neither
 * wasm nor the browser reports).
 *
 * Why it is safe to choose at run time: every blocking gives the same bits. Each output element is summed as
 * ((0 + a0·b0) + a1·b1) + … in increasing k whatever the blocking; KC only cuts that chain into stretches whose
 * f32 partial sums are stored in C and reloaded unchanged, and MC and NC only decide which elements are computed
 * when (test/gemm-tune.test.ts checks exact equality over every candidate). So the choice — and the noise in
 * the trial that makes it — can change a product's time, never its result.
 *
 * The trial, for the first product of a size class (each of m, n, k rounded up to a power of two, m capped at
 * 1024 and n, k at 4096, plus the transposes): seeded data of the product's n and k (capped at 2048, the
 * largest block any candidate packs) and as many rows as make one run ≈ TRIAL_FLOPS (rows cost linearly, and
 * the blocking's effect is per row block), timed for each candidate on the calling thread in process CPU time
 * (wall time where the runtime has no CPU clock), two interleaved rounds, minimum per candidate. Cost: one
 * warm-up run plus two rounds of up to seven candidates (those that differ on the shape: a KC ≥ k is one
 * candidate), ≈ 90 ms at 45 GFLOP/s plus the operands' set-up; a run is
 * not started unless the longest run so far would still end within TRIAL_BUDGET_MS, so a slow or busy CPU
 * times fewer candidates (or the second round of fewer) rather than spending more. A candidate replaces
 * the default only when it is ≥ MIN_GAIN faster: closer than that is within the trial's noise on a shared
 * machine, and the defaults are the measured best where they were tuned. The choice follows the CPU as it is
 * at the trial: on a machine busy with other processes (caches shared with them) smaller blocks can win that
 * lose on the same machine idle — a table saved from a representative run pins it (loadGemmTuneTable).
 *
 * Products below TUNE_MIN_FLOPS are not tuned (they run with the build's blocking): their operands sit in
 * the caches whatever the blocking, and a trial would cost more than it could save. The wasm backend is
 * synchronous, so the trial runs inline in the first qualifying matmul; the thread split then applies the
 * chosen blocking to every thread's share.
 */
import type { WasmRuntime } from './runtime.ts';
import { cpuClock } from '../timing.ts';

/**
 * A blocking of the dense GEMM: depth KC, rows MC (a multiple of 4), columns NC (a multiple of 8), and whether
 * op(A) is read in place (load32_splat from four rows) at every width instead of packed pre-broadcast — the
 * default build reads it in place only for n ≤ 64 (assembly/gemm.ts, directA; the relaxed build never does, and
 * ignores the flag; A transposed or m not a multiple of 4 is packed either way).
 */
export interface GemmBlocking {
  kc: number;
  mc: number;
  nc: number;
  inPlaceA: boolean;
}

export interface GemmTuneEntry {
  /** 'wasm' (default build; the thread pool's build runs the same code) or 'wasm-relaxed'. */
  build: string;
  /** The size class: `MxNxK` (powers of two, see gemmSizeClass) with `:tA` / `:tB` for transposes. */
  cls: string;
  /** The blocking products of this class run with. */
  blocking: GemmBlocking;
  /** The trial's shape (m rows, n columns, depth k); 0s for a table entry made by hand. */
  m: number;
  n: number;
  k: number;
  /** Each candidate tried and its best time (ms of process CPU time); empty for a hand-made entry. */
  candidates: Array<GemmBlocking & { ms: number }>;
  /** What the whole trial cost (ms, the same clock). */
  tune_ms: number;
}

/** Products smaller than this (2·m·n·k) run with the build's blocking, untuned (≈ 1.5 ms at 45 GFLOP/s). */
export const TUNE_MIN_FLOPS = 2 ** 26;
/** One trial run's size (2·m·n·k): ≈ 6 ms at 45 GFLOP/s. */
export const TRIAL_FLOPS = 2 ** 28;
/** No candidate run starts once the trial has taken this long (ms). */
export const TRIAL_BUDGET_MS = 150;
/**
 * A candidate must beat the default by this fraction to be chosen. On the busy 2-core machine the trial's
 * minimum-of-two moved by up to ~4% between blockings that run the very same loops (an NC wider than n), so a
 * smaller margin let noise pick; the gains the tuner is for (1024³ there: 11–22%) clear it.
 */
export const MIN_GAIN = 0.05;
const ROUNDS = 2;

/**
 * Candidates for the default build (A packed pre-broadcast, 16 bytes a value; the A block is MC·KC·16 bytes, the
 * B micro-panel KC·32 bytes, the B block KC·NC·4). The default first; then a B micro-panel half of a 32 KiB L1
 * at the same A block (384 KiB) or a smaller one (192 KiB, for a 512 KiB L2), the pre-tuning KC 256 / MC 96,
 * the same with a B block that fits an L2 beside the A block (512 KiB), the full depth with a 192 KiB A block,
 * and op(A) read in place at three depths (its MC-row block, MC·KC·4 bytes, is reused from L1/L2 as is). On the
 * busy 2-core EPYC (family 26) this was chosen on, every KC ≤ 512 ran 1024³ 1.17–1.22× faster than KC 1024 and
 * A in place 5–10% faster than pre-broadcast (bench/RESULTS.md, "GEMM autotune"), where the Zen 4 the defaults
 * were tuned on had measured both the other way by 2–5%: which one wins depends on the CPU and what else runs.
 */
const SPLAT_CANDIDATES: readonly GemmBlocking[] = [
  { kc: 1024, mc: 24, nc: 1024, inPlaceA: false },
  { kc: 512, mc: 24, nc: 1024, inPlaceA: false },
  { kc: 256, mc: 96, nc: 1024, inPlaceA: false },
  { kc: 256, mc: 96, nc: 512, inPlaceA: false },
  { kc: 1024, mc: 24, nc: 1024, inPlaceA: true },
  { kc: 512, mc: 96, nc: 1024, inPlaceA: true },
  { kc: 256, mc: 96, nc: 1024, inPlaceA: true },
];

/**
 * Candidates for the relaxed build (compact A panel, 4 bytes a value; A block MC·KC·4 bytes): the default
 * (192 KiB A block) first, then smaller and larger A blocks and depths around it.
 */
const COMPACT_CANDIDATES: readonly GemmBlocking[] = [
  { kc: 256, mc: 192, nc: 1024, inPlaceA: false },
  { kc: 256, mc: 96, nc: 1024, inPlaceA: false },
  { kc: 512, mc: 96, nc: 1024, inPlaceA: false },
  { kc: 128, mc: 384, nc: 1024, inPlaceA: false },
  { kc: 512, mc: 192, nc: 1024, inPlaceA: false },
  { kc: 1024, mc: 48, nc: 1024, inPlaceA: false },
  { kc: 256, mc: 192, nc: 2048, inPlaceA: false },
];

type Fn = (...args: number[]) => number;

// Pure annotations: a bundle that never tunes (sparsecast/infer) drops this module's state with its code.
const cache = /* @__PURE__ */ new Map<string, GemmTuneEntry>();

/** The build a runtime runs ('wasm' or 'wasm-relaxed'): the two pack A differently and want different blocks. */
export function gemmBuild(rt: WasmRuntime): string {
  return rt.relaxed ? 'wasm-relaxed' : 'wasm';
}

/** The build's own blocking (what a product runs with untuned). */
export function gemmDefaultBlocking(rt: WasmRuntime): GemmBlocking {
  const ex = rt.exports;
  return { kc: (ex.gemmDepthBlock as Fn)(), mc: (ex.gemmClaimSizes as Fn)(1), nc: (ex.gemmColumnBlock as Fn)(), inPlaceA: false };
}

/** The candidate blockings the trial times on this runtime's build, its default first. */
export function gemmCandidates(rt: WasmRuntime): GemmBlocking[] {
  const def = gemmDefaultBlocking(rt);
  const list = (rt.exports.gemmPackedABytes as Fn)() === 16 ? SPLAT_CANDIDATES : COMPACT_CANDIDATES;
  const same = (a: GemmBlocking, b: GemmBlocking) => a.kc === b.kc && a.mc === b.mc && a.nc === b.nc && a.inPlaceA === b.inPlaceA;
  return [def, ...list.filter((c) => !same(c, def))];
}

const pow2 = (d: number, cap: number) => Math.min(cap, 2 ** Math.ceil(Math.log2(Math.max(1, d))));

/**
 * The size class of an m×n×k product (op(A) transposed: transA, op(B): transB), or null for one too small to
 * tune or too narrow (n < 8 runs transposed, m < 8 has one row panel) for the blocking to matter.
 */
export function gemmSizeClass(m: number, n: number, k: number, transA: boolean, transB: boolean): string | null {
  if (2 * m * n * k < TUNE_MIN_FLOPS || m < 8 || n < 8) return null;
  return `${pow2(m, 1024)}x${pow2(n, 4096)}x${pow2(k, 4096)}${transA ? ':tA' : ''}${transB ? ':tB' : ''}`;
}

/** Blocking values the kernel accepts (checked for loaded tables and forced entries). */
export function checkBlocking(b: GemmBlocking, where: string): void {
  const ok = (v: unknown, step: number) => Number.isInteger(v) && (v as number) >= step && (v as number) <= 65536 && (v as number) % step === 0;
  if (!b || typeof b !== 'object' || !ok(b.kc, 1) || !ok(b.mc, 4) || !ok(b.nc, 8) || typeof b.inPlaceA !== 'boolean') {
    throw new Error(`${where}: a GEMM blocking needs integers kc ≥ 1, mc a multiple of 4, nc a multiple of 8 (each ≤ 65536) and a boolean inPlaceA, got ${JSON.stringify(b)}`);
  }
}

/** Seeded uniform values in [−0.5, 0.5) (an LCG: the trial data are the same on every run). */
function fillSeeded(view: Float32Array, at: number, size: number, seed: number): void {
  let s = seed >>> 0;
  for (let i = 0; i < size; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    view[at + i] = s / 4294967296 - 0.5;
  }
}


/**
 * The candidates that differ on an m×n×k product (op(A) transposed: transA), first of each kind kept: a KC ≥ k
 * or an NC ≥ n (rounded up to the 8-column panel) runs the same loops as any other such value, and so does
 * inPlaceA where op(A) cannot be read in place (transposed, or m not a multiple of 4) or is anyway (n ≤ 64);
 * timing both would only let noise choose between identical work. (MC is kept apart: the trial may run fewer
 * rows than the product.)
 */
export function distinctCandidates(candidates: readonly GemmBlocking[], m: number, n: number, k: number, transA: boolean): GemmBlocking[] {
  const seen = new Set<string>();
  const inPlaceMatters = !transA && m % 4 === 0 && n > 64;
  return candidates.filter((c) => {
    const id = `${Math.min(c.kc, k)}/${c.mc}/${Math.min(c.nc, Math.ceil(n / 8) * 8)}/${inPlaceMatters && c.inPlaceA}`;
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  });
}

/** The trial's shape for a product: its n and k (capped at 2048), rows for ≈ TRIAL_FLOPS (at least 48). */
export function trialShape(m: number, n: number, k: number): { m: number; n: number; k: number } {
  const nt = Math.min(n, 2048);
  const kt = Math.min(k, 2048);
  const rows = Math.max(48, Math.floor(TRIAL_FLOPS / (2 * nt * kt) / 4) * 4);
  return { m: Math.min(m, rows), n: nt, k: kt };
}

/**
 * Time the candidate blockings that differ on an m×n×k product (distinctCandidates; transposes as given) on
 * the calling thread and return the entry (not cached: gemmBlockingFor caches). `candidates` defaults to
 * gemmCandidates(rt); the first is the reference a choice must beat by MIN_GAIN.
 */
export function measureGemmBlocking(
  rt: WasmRuntime, m: number, n: number, k: number, transA: boolean, transB: boolean,
  all: readonly GemmBlocking[] = gemmCandidates(rt),
): GemmTuneEntry {
  for (const d of [m, n, k]) if (!Number.isInteger(d) || d < 1) throw new Error(`gemm tune: dimensions must be positive integers, got ${m}×${n}×${k}`);
  if (all.length === 0) throw new Error('gemm tune: no candidate blockings');
  all.forEach((c) => checkBlocking(c, 'gemm tune'));
  const candidates = distinctCandidates(all, m, n, k, transA);
  const ex = rt.exports;
  const gemm = ex.gemmBlocked as Fn;
  const wsBytes = ex.gemmBlockedWorkspaceBytes as Fn;
  const t0 = cpuClock();
  const best = candidates.map(() => Infinity);
  rt.withTemp((tmp) => {
    const ws = tmp.bytes(Math.max(...candidates.map((c) => wsBytes(m, n, k, c.kc, c.mc, c.nc))));
    const a = tmp.bytes(4 * m * k);
    const b = tmp.bytes(4 * k * n);
    const c = tmp.bytes(4 * m * n);
    const f32 = rt.f32();
    fillSeeded(f32, a >> 2, m * k, 1);
    fillSeeded(f32, b >> 2, k * n, 2);
    const aRs = transA ? 1 : k;
    const aCs = transA ? m : 1;
    const bRs = transB ? 1 : n;
    const bCs = transB ? k : 1;
    const run = (bl: GemmBlocking) => gemm(m, n, k, a, aRs, aCs, b, bRs, bCs, c, n, 0, 1, 0, 0, 0, ws, bl.kc, bl.mc, bl.nc, bl.inPlaceA ? 1 : 0);
    let longest = 0;
    const timed = (bl: GemmBlocking) => {
      const s = cpuClock();
      run(bl);
      const ms = cpuClock() - s;
      longest = Math.max(longest, ms);
      return ms;
    };
    timed(candidates[0]!); // warm-up (first touch of the buffers; tier-up of the kernel's code)
    // Interleaved rounds: a slow spell (another process, a tier-up) hits every candidate alike. A run starts
    // only if the longest so far would still end within the budget (the default's first run always).
    for (let r = 0; r < ROUNDS; r++) {
      for (let i = 0; i < candidates.length; i++) {
        if (cpuClock() - t0 + longest > TRIAL_BUDGET_MS && Number.isFinite(best[0]!)) return;
        best[i] = Math.min(best[i]!, timed(candidates[i]!));
      }
    }
  });
  const tuneMs = cpuClock() - t0;
  let pick = 0;
  for (let i = 1; i < candidates.length; i++) {
    if (best[i]! < best[pick]! && best[i]! <= best[0]! * (1 - MIN_GAIN)) pick = i;
  }
  const tried = candidates.map((c, i) => ({ ...c, ms: +best[i]!.toFixed(3) })).filter((c) => Number.isFinite(c.ms));
  return {
    build: gemmBuild(rt), cls: gemmSizeClass(m, n, k, transA, transB) ?? `${m}x${n}x${k}`, blocking: { ...candidates[pick]! },
    m, n, k, candidates: tried, tune_ms: +tuneMs.toFixed(1),
  };
}

function key(build: string, cls: string): string {
  return `${build}:${cls}`;
}

/**
 * The blocking an m×n×k product runs with on this runtime: null (the build's own) for a product too small to
 * tune; else its size class's cached entry, measured now (a trial of ≤ ~TRIAL_BUDGET_MS) on a miss.
 */
export function gemmBlockingFor(rt: WasmRuntime, m: number, n: number, k: number, transA: boolean, transB: boolean): GemmBlocking | null {
  const cls = gemmSizeClass(m, n, k, transA, transB);
  if (cls === null) return null;
  return gemmTuneEntry(rt, m, n, k, transA, transB)!.blocking;
}

/** The cached entry for this product's size class, measured now on a miss; null for a product too small to tune. */
export function gemmTuneEntry(rt: WasmRuntime, m: number, n: number, k: number, transA: boolean, transB: boolean): GemmTuneEntry | null {
  const cls = gemmSizeClass(m, n, k, transA, transB);
  if (cls === null) return null;
  const id = key(gemmBuild(rt), cls);
  let e = cache.get(id);
  if (!e) {
    const t = trialShape(m, n, k);
    e = { ...measureGemmBlocking(rt, t.m, t.n, t.k, transA, transB), cls };
    cache.set(id, e);
  }
  return e;
}

/** Make a runtime's matmuls pick their blocking through this cache (createWasmBackend does, unless told not to). */
export function installGemmTuner(rt: WasmRuntime): void {
  rt.gemmBlocking = (m, n, k, transA, transB) => gemmBlockingFor(rt, m, n, k, transA, transB);
}

/** Every cached entry (to save as a JSON table). */
export function gemmTuneTable(): GemmTuneEntry[] {
  return [...cache.values()];
}

/**
 * Load entries (e.g. a JSON table saved by an earlier run on the same machine, or a blocking forced by hand);
 * they take precedence over new trials. Each entry's build, class and blocking are checked; its timings are
 * not checked against this machine: load only tables measured on it.
 */
export function loadGemmTuneTable(entries: readonly GemmTuneEntry[]): void {
  if (!Array.isArray(entries)) throw new Error('gemm tune table: expected an array of entries');
  for (const e of entries) {
    if (!e || (e.build !== 'wasm' && e.build !== 'wasm-relaxed')) throw new Error(`gemm tune table: build must be 'wasm' or 'wasm-relaxed', got ${JSON.stringify(e?.build)}`);
    if (typeof e.cls !== 'string' || !/^\d+x\d+x\d+(:tA)?(:tB)?$/.test(e.cls)) throw new Error(`gemm tune table: cls must look like 1024x1024x1024(:tA)(:tB), got ${JSON.stringify(e.cls)}`);
    checkBlocking(e.blocking, `gemm tune table (${e.build} ${e.cls})`);
  }
  for (const e of entries) cache.set(key(e.build, e.cls), { m: 0, n: 0, k: 0, candidates: [], tune_ms: 0, ...e, blocking: { ...e.blocking } });
}

/** Forget every cached entry (tests). */
export function clearGemmTuneCache(): void {
  cache.clear();
}
