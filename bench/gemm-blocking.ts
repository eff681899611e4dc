/**
 * Our dense GEMM at every candidate blocking of the tuner (src/backend/wasm/gemm-tune.ts), at full size, and
 * the blocking the tuner's short trial picks for the same shape in the same process: does the trial (fewer
 * rows, two runs per candidate) pick what the full product runs fastest with on this CPU?
 *
 *   npm run bench -- gemm-blocking [--json] [--shapes 512x512x512,1024x1024x1024] [--runs N] [--relaxed]
 *
 * Per shape: first the trial (as at first use), then `runs` interleaved rounds (default 7) in which every
 * candidate runs the full product once (several calls for products under ~10 ms), timed in process CPU time.
 * One line per (shape, candidate): {"bench":"gemm-blocking","build","m","n","k","kc","mc","nc","inPlaceA","cpuMs" (median),
 * "cpuMsMin","vsDefault" (the default's median / this one's: > 1 is faster),"picked" (the trial's choice),"cpu"}.
 */
import { createWasmBackend } from '../src/backend/wasm/backend.ts';
import { gemmCandidates, gemmTuneEntry } from '../src/backend/wasm/gemm-tune.ts';
import { cpuModel, parseShapes } from './matmul.ts';
import { emit, random } from './stats.ts';

type Fn = (...args: number[]) => number;

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

export async function benchGemmBlocking(opts: { json: boolean; shapes?: string; runs?: number; relaxed?: boolean }): Promise<void> {
  const be = await createWasmBackend({ relaxed: opts.relaxed ?? false });
  const rt = be.rt;
  const ex = rt.exports;
  const cpu = cpuModel();
  const build = rt.relaxed ? 'wasm-relaxed' : 'wasm';
  const runs = Math.max(5, opts.runs ?? 7);
  const candidates = gemmCandidates(rt);
  // Warm the kernel's code (V8 tiers wasm up in the background) before the first trial.
  const t0 = performance.now();
  while (performance.now() - t0 < 500) be.free(be.kernels.matmul({ a: be.upload(random(256 * 256, 1)), b: be.upload(random(256 * 256, 2)), aShape: [256, 256], bShape: [256, 256], transA: false, transB: false }));
  for (const s of parseShapes(opts.shapes ?? '512x512x512,1024x1024x1024')) {
    const { m, n, k, transA, transB } = s;
    const entry = gemmTuneEntry(rt, m, n, k, transA, transB);
    rt.withTemp((tmp) => {
      const a = tmp.floats(random(m * k, 1));
      const b = tmp.floats(random(k * n, 2));
      const c = tmp.bytes(4 * m * n);
      const ws = tmp.bytes(Math.max(...candidates.map((bl) => (ex.gemmBlockedWorkspaceBytes as Fn)(m, n, k, bl.kc, bl.mc, bl.nc))));
      const aRs = transA ? 1 : k;
      const aCs = transA ? m : 1;
      const bRs = transB ? 1 : n;
      const bCs = transB ? k : 1;
      const reps = Math.max(1, Math.ceil(10 / ((2 * m * n * k) / 40e6)));
      const times = candidates.map(() => [] as number[]);
      const run = (i: number) => {
        const bl = candidates[i]!;
        for (let r = 0; r < reps; r++) (ex.gemmBlocked as Fn)(m, n, k, a, aRs, aCs, b, bRs, bCs, c, n, 0, 1, 0, 0, 0, ws, bl.kc, bl.mc, bl.nc, bl.inPlaceA ? 1 : 0);
      };
      for (let i = 0; i < candidates.length; i++) run(i); // warm-up
      for (let r = 0; r < runs; r++) {
        // Rotate the order each round so no candidate always follows the same one.
        for (let j = 0; j < candidates.length; j++) {
          const i = (j + r) % candidates.length;
          const t = cpuMs();
          run(i);
          times[i]!.push((cpuMs() - t) / reps);
        }
      }
      const def = median(times[0]!);
      candidates.forEach((bl, i) => {
        const med = median(times[i]!);
        const picked = entry !== null && entry.blocking.kc === bl.kc && entry.blocking.mc === bl.mc && entry.blocking.nc === bl.nc && entry.blocking.inPlaceA === bl.inPlaceA;
        emit(opts.json, {
          bench: 'gemm-blocking', build, m, n, k, ...(transA ? { transA } : {}), ...(transB ? { transB } : {}), kc: bl.kc, mc: bl.mc, nc: bl.nc, inPlaceA: bl.inPlaceA,
          runs, cpuMs: +med.toFixed(3), cpuMsMin: +Math.min(...times[i]!).toFixed(3), vsDefault: +(def / med).toFixed(3), picked, cpu,
        });
      });
    });
  }
  be.dispose();
}
