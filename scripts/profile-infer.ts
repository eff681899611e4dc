/**
 * Where an inference forward spends its time: the small Transformer predicting ETTh1 test windows on wasm (one
 * thread), at batch 1 and batch 32, through Trainer.predict (what the CLI's infer_ms / infer_b1_ms figures time).
 *
 * Per batch size: the median wall time of unprofiled forwards; then the same forwards with every kernel wrapped
 * by a timer (src/backend/profiler.ts) plus the backend's upload / free / read, and a count of the tensors the
 * engine makes. Kernel time against wall time splits the forward into arithmetic and per-op overhead (argument
 * checks, tensor and storage bookkeeping, tidy scopes, dispatch, input copies): the part that faster products
 * cannot touch. Prints one markdown table per batch size, ready for bench/RESULTS.md.
 *
 *   node --experimental-wasm-relaxed-simd --import tsx scripts/profile-infer.ts [--batch 1,32] [--runs N]
 *     [--preset small|full] [--model Transformer] [--density D --structure unstructured|fan_in|block
 *     --exec bsr|csr|fan_in|auto]
 *
 * With --density, every weight of rank ≥ 2 is masked at that density (static, profile-setup.ts) and runs
 * through sparse execution in the --exec mode (default: the structure's own format), and the paths the
 * forward took are printed: where the time of a sparse model's forward goes.
 */
import { engine } from '../src/tensor/engine.ts';
import { profiledRun } from './profile-setup.ts';
import type { ExecMode } from '../src/sparse/sparse-exec.ts';
import type { StructureKind } from '../src/sparse/structure.ts';
import { profileBackend, type KernelStat } from '../src/backend/profiler.ts';

const args = process.argv.slice(2);
const flag = (f: string) => (args.includes(f) ? args[args.indexOf(f) + 1] : undefined);
const batches = (flag('--batch') ?? '1,32').split(',').map(Number);
// Forwards per figure: batch 1 takes a few milliseconds, so many more of them for a stable median.
const runsFor = (B: number) => Number(flag('--runs') ?? (B === 1 ? 200 : 30));
const preset = (flag('--preset') ?? 'small') as 'small' | 'full';
const name = flag('--model') ?? 'Transformer';

const density = flag('--density');
const structure = (flag('--structure') ?? 'block') as StructureKind;
const ownFormat = { unstructured: 'csr', fan_in: 'fan_in', block: 'bsr' } as const;
const sparse = density === undefined ? undefined : { density: Number(density), structure, mode: (flag('--exec') ?? ownFormat[structure]) as ExecMode };
const { ds, tr, exec } = await profiledRun(name, preset, sparse);
const backend = engine.backend;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

/** Time a backend method (upload, free, read) like the kernel profiler does, under a parenthesised name: not a kernel. */
function wrapMethod(stats: Map<string, KernelStat>, obj: Record<string, unknown>, method: string): () => void {
  const fn = obj[method] as (...a: unknown[]) => unknown;
  obj[method] = (...a: unknown[]) => {
    const t0 = performance.now();
    const r = fn.apply(obj, a);
    const s = stats.get(`(${method})`) ?? { calls: 0, ms: 0 };
    s.calls++;
    s.ms += performance.now() - t0;
    stats.set(`(${method})`, s);
    return r;
  };
  return () => {
    obj[method] = fn;
  };
}

console.log(`# ${name} ${preset}, wasm, one thread, Trainer.predict on ETTh1 test windows` +
  (sparse ? `; every rank ≥ 2 weight at density ${sparse.density} (${sparse.structure} masks), sparse execution '${sparse.mode}'` : ''));
for (const B of batches) {
  const batch = ds.batch('test', Array.from({ length: B }, (_, i) => i));
  const runs = runsFor(B);
  for (let i = 0; i < 5; i++) await tr.predict(batch); // warm-up: JIT, wasm memory growth

  // Profiled and unprofiled forwards alternate, so a shared machine's load drifts over both alike; each
  // profiled forward records its own wall and kernel time, and the headline figures are medians over forwards.
  const all = new Map<string, KernelStat>();
  const wall: number[] = [];
  const profiledWall: number[] = [];
  const kernel: number[] = [];
  let tensors = 0;
  const makeTensor = engine.makeTensor;
  for (let i = 0; i < 2 * runs; i++) {
    if (i % 2 === 0) {
      const t0 = performance.now();
      await tr.predict(batch);
      wall.push(performance.now() - t0);
      continue;
    }
    const p = profileBackend(backend);
    const restore = ['upload', 'free', 'read'].map((m) => wrapMethod(p.stats, backend as unknown as Record<string, unknown>, m));
    engine.makeTensor = function (...a: Parameters<typeof makeTensor>) {
      tensors++;
      return makeTensor.apply(this, a);
    };
    const t0 = performance.now();
    await tr.predict(batch);
    profiledWall.push(performance.now() - t0);
    engine.makeTensor = makeTensor;
    for (const r of restore) r();
    p.restore();
    let ms = 0;
    for (const [key, st] of p.stats) {
      if (!key.startsWith('(')) ms += st.ms;
      const a = all.get(key) ?? { calls: 0, ms: 0 };
      a.calls += st.calls;
      a.ms += st.ms;
      all.set(key, a);
    }
    kernel.push(ms);
  }

  const rows = [...all].sort((a, b) => b[1].ms - a[1].ms);
  const isKernel = (key: string) => !key.startsWith('(');
  const kernelMean = rows.filter(([key]) => isKernel(key)).reduce((a, [, s]) => a + s.ms, 0) / runs;
  const kernelCalls = rows.filter(([key]) => isKernel(key)).reduce((a, [, s]) => a + s.calls, 0) / runs;
  const pWallMs = median(profiledWall);
  // Time outside kernels, per forward: its wall time less its kernel time, median over the profiled forwards.
  const outside = median(profiledWall.map((w, i) => w - kernel[i]!));
  console.log(`\n## batch ${B} (${runs} profiled forwards, ${runs} unprofiled, alternating)\n`);
  console.log('| kernel | calls / forward | ms / forward (mean) | share of kernel time |');
  console.log('|---|---:|---:|---:|');
  for (const [key, s] of rows) {
    const ms = s.ms / runs;
    console.log(`| ${key} | ${(s.calls / runs).toFixed(0)} | ${ms.toFixed(3)} | ${isKernel(key) ? `${((100 * ms) / kernelMean).toFixed(1)}%` : 'not a kernel'} |`);
  }
  console.log('');
  console.log(`wall ms / forward, median: ${median(wall).toFixed(2)} unprofiled (min ${Math.min(...wall).toFixed(2)}), ${pWallMs.toFixed(2)} profiled (min ${Math.min(...profiledWall).toFixed(2)})`);
  console.log(`kernel ms / forward, median: ${median(kernel).toFixed(2)} (min ${Math.min(...kernel).toFixed(2)}); outside kernels, median: ${outside.toFixed(2)} ms (${((100 * outside) / pWallMs).toFixed(1)}% of the profiled wall)`);
  console.log(`kernel calls / forward: ${kernelCalls.toFixed(0)}; tensors made / forward: ${(tensors / runs).toFixed(0)}; outside-kernel time per kernel call: ${((1000 * outside) / kernelCalls).toFixed(1)} µs`);
  if (exec) console.log(`paths of the masked layers: ${JSON.stringify(exec.sparseLayers())} sparse, ${Object.values(exec.paths()).filter((p) => p === 'dense').length} dense`);
}
