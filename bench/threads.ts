/**
 * The wasm thread pool against one thread: the single-threaded default build (what `threads: 1` runs) and the
 * shared-memory build on N threads, on GEMMs (1024³ and the block step's shapes) and on one Transformer
 * encoder block training step (bench/block.ts). Runs are interleaved (1 thread, N threads, 1 thread, …) so a
 * change in machine load hits both alike; the records give medians and the speedup, and say whether the two
 * outputs are bit-identical.
 *
 *   npm run bench -- threads [--json] [--threads N] [--runs R] [--only matmul|block] [--sweep | --model]
 *
 * One line per case, e.g.
 *   {"bench":"threads","kernel":"matmul","m":1024,"n":1024,"k":1024,"threads":2,"ms":..,"ms1":..,"speedup":..,
 *    "cpuMs":..,"identical":true}
 *   {"bench":"threads","kernel":"block","batch":32,"seq":96,"dModel":512,"heads":8,"dFf":2048,"threads":2,
 *    "ms":..,"ms1":..,"speedup":..,"identical":true}
 * where ms / cpuMs are the N-thread medians and ms1 / cpuMs1 the one-thread ones. cpuMs is process CPU time
 * over all threads: cpuMs / ms ≈ threads kept busy, and cpuMs / cpuMs1 is the work the split adds (duplicate
 * packing, waiting) — a load-independent check on a machine too busy for wall-clock speedups.
 *
 * `--model` is for a machine with no idle core (where a real speedup cannot show): the same cases on one
 * thread, and on one thread with kernels planned for N threads but their parts run one after another, each
 * part timed. A job's parts would overlap on N free cores, so its time would be that of its longest part:
 * `estMs` = that run's time − Σ over jobs of (sum of parts − longest part), with no dispatch cost (`jobs`
 * says how many hand-offs to add at a few µs each), and `estSpeedup` = ms1 / estMs. It accounts for split
 * imbalance, repeated packing and the work left on one thread, not for memory bandwidth shared by the cores.
 *
 * `--sweep` instead times small problems with every kernel split (threadSplitAll) against one thread, to place
 * the size thresholds in src/backend/wasm/kernels/parallel.ts: the smallest size where the split wins.
 */
import { createWasmBackend, type WasmBackend } from '../src/backend/wasm/backend.ts';
import type { Storage, UnaryOp } from '../src/backend/kernels.ts';
import { engine } from '../src/tensor/engine.ts';
import { FULL_BLOCK, sparsecastStep, type BlockShape } from './block.ts';
import { emit, random } from './stats.ts';

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

interface Pair {
  ms1: number;
  ms: number;
  /** Process CPU time (all threads) of the N-thread and the one-thread runs. */
  cpuMs: number;
  cpuMs1: number;
}

/** Warm both, then `runs` interleaved timings of each; medians. */
async function interleaved(one: () => unknown, many: () => unknown, runs: number): Promise<Pair> {
  await one();
  await many();
  const t1: number[] = [];
  const tn: number[] = [];
  const c1: number[] = [];
  const cn: number[] = [];
  const timed = async (fn: () => unknown, wall: number[], cpu: number[]) => {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await fn();
    wall.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000);
  };
  for (let r = 0; r < runs; r++) {
    await timed(one, t1, c1);
    await timed(many, tn, cn);
  }
  return { ms1: median(t1), ms: median(tn), cpuMs: median(cn), cpuMs1: median(c1) };
}

const sameBytes = (x: ArrayLike<number> & { buffer: ArrayBufferLike; byteOffset: number; byteLength: number }, y: typeof x) =>
  x.byteLength === y.byteLength && Buffer.compare(Buffer.from(x.buffer, x.byteOffset, x.byteLength), Buffer.from(y.buffer, y.byteOffset, y.byteLength)) === 0;

/** GEMM shapes: the 1024³ target and the block step's products (batch·seq = 3072 rows, attention heads). */
const SHAPES: ReadonlyArray<{ m: number; n: number; k: number; batch?: number; transB?: boolean }> = [
  { m: 1024, n: 1024, k: 1024 },
  { m: 3072, n: 512, k: 512, transB: true },
  { m: 3072, n: 2048, k: 512, transB: true },
  { m: 512, n: 2048, k: 3072 },
  { m: 96, n: 96, k: 64, batch: 256, transB: true },
];

async function matmulCases(one: WasmBackend, many: WasmBackend, json: boolean, runs: number): Promise<void> {
  for (const s of SHAPES) {
    const batch = s.batch ?? 1;
    const aShape = batch > 1 ? [batch, s.m, s.k] : [s.m, s.k];
    const bShape = batch > 1 ? (s.transB ? [batch, s.n, s.k] : [batch, s.k, s.n]) : (s.transB ? [s.n, s.k] : [s.k, s.n]);
    const a = random(batch * s.m * s.k, 1);
    const b = random(batch * s.k * s.n, 2);
    const setup = (be: WasmBackend) => {
      const sa = be.upload(a);
      const sb = be.upload(b);
      const run = () => be.kernels.matmul({ a: sa, b: sb, aShape, bShape, transA: false, transB: !!s.transB });
      return { run, free: () => [sa, sb].forEach((x) => be.free(x)) };
    };
    const o = setup(one);
    const p = setup(many);
    const r1 = o.run();
    const rn = p.run();
    const identical = sameBytes(one.readSync(r1) as Float32Array, many.readSync(rn) as Float32Array);
    one.free(r1);
    many.free(rn);
    const t = await interleaved(() => one.free(o.run()), () => many.free(p.run()), runs);
    o.free();
    p.free();
    const flops = 2 * batch * s.m * s.n * s.k;
    emit(json, {
      bench: 'threads', kernel: 'matmul', m: s.m, n: s.n, k: s.k, batch, transB: !!s.transB, threads: many.threads,
      ms: +t.ms.toFixed(2), ms1: +t.ms1.toFixed(2), speedup: +(t.ms1 / t.ms).toFixed(3), cpuMs: +t.cpuMs.toFixed(1), cpuMs1: +t.cpuMs1.toFixed(1),
      gflops: +(flops / t.ms / 1e6).toFixed(1), gflops1: +(flops / t.ms1 / 1e6).toFixed(1), identical,
    });
  }
}

/** Put `be` in the engine's 'wasm' slot: each implementation needs it while it builds and steps its own tensors. */
function use(be: WasmBackend): void {
  engine.registerBackend(be);
  engine.useBackend('wasm');
}

async function blockCase(one: WasmBackend, many: WasmBackend, json: boolean, runs: number, shape: BlockShape): Promise<void> {
  use(one);
  const s1 = sparsecastStep(shape, 'wasm');
  use(many);
  const sn = sparsecastStep(shape, 'wasm');
  const losses1: number[] = [];
  const lossesN: number[] = [];
  const t = await interleaved(
    async () => {
      use(one);
      losses1.push(await s1.step());
    },
    async () => {
      use(many);
      lossesN.push(await sn.step());
    },
    runs,
  );
  use(one);
  s1.dispose();
  use(many);
  sn.dispose();
  // Same start, same arithmetic: the two loss sequences must agree bit for bit, step by step.
  const identical = losses1.length === lossesN.length && losses1.every((v, i) => Object.is(v, lossesN[i]));
  emit(json, {
    bench: 'threads', kernel: 'block', ...shape, threads: many.threads,
    ms: +t.ms.toFixed(1), ms1: +t.ms1.toFixed(1), speedup: +(t.ms1 / t.ms).toFixed(3), cpuMs: +t.cpuMs.toFixed(1), cpuMs1: +t.cpuMs1.toFixed(1), identical,
  });
}

/** Small problems, every kernel split, against one thread: where does splitting start to pay? */
async function sweep(one: WasmBackend, many: WasmBackend, json: boolean, runs: number): Promise<void> {
  const time = async (kernel: string, size: number, make: (be: WasmBackend) => { run: () => Storage; free: () => void }) => {
    const o = make(one);
    const p = make(many);
    // Repeat inside one timing so that microsecond kernels are measurable.
    const reps = Math.max(1, Math.round(2e6 / Math.max(size, 1)));
    const t = await interleaved(
      () => { for (let i = 0; i < reps; i++) one.free(o.run()); },
      () => { for (let i = 0; i < reps; i++) many.free(p.run()); },
      runs,
    );
    o.free();
    p.free();
    emit(json, {
      bench: 'threads-sweep', kernel, size, threads: many.threads,
      us: +((t.ms / reps) * 1000).toFixed(2), us1: +((t.ms1 / reps) * 1000).toFixed(2), speedup: +(t.ms1 / t.ms).toFixed(3),
    });
  };
  for (const d of [16, 24, 32, 48, 64, 96, 128]) {
    const a = random(d * d, 1);
    await time('matmul-flops', 2 * d * d * d, (be) => {
      const sa = be.upload(a);
      return { run: () => be.kernels.matmul({ a: sa, b: sa, aShape: [d, d], bShape: [d, d], transA: false, transB: false }), free: () => be.free(sa) };
    });
  }
  for (const [kernel, op] of [['unary-exp', 'exp'], ['unary-neg', 'neg']] as Array<[string, UnaryOp]>) {
    for (let n = 1 << 10; n <= 1 << 18; n <<= 1) {
      const x = random(n, 3);
      await time(kernel, n, (be) => {
        const sx = be.upload(x);
        return { run: () => be.kernels.unary(op, sx), free: () => be.free(sx) };
      });
    }
  }
  for (let n = 1 << 10; n <= 1 << 18; n <<= 1) {
    const x = random(n, 4);
    await time('binary-add', n, (be) => {
      const sx = be.upload(x);
      return { run: () => be.kernels.binary('add', sx, [n], sx, [n]), free: () => be.free(sx) };
    });
    await time('softmax-rows64', n, (be) => {
      const sx = be.upload(x);
      return { run: () => be.kernels.softmax(sx, [n / 64, 64]), free: () => be.free(sx) };
    });
  }
}

/** The `--model` estimate for one case: `run` on `one` and on `modelled` (parts timed one by one). */
async function modelCase(
  one: WasmBackend, modelled: WasmBackend, threads: number, runs: number,
  run: (be: WasmBackend) => Promise<void>,
): Promise<{ ms1: number; msSerial: number; estMs: number; jobs: number }> {
  let saved = 0;
  let jobs = 0;
  modelled.rt.model = {
    threads,
    onJob: (_name, ms) => {
      jobs++;
      saved += ms.reduce((a, b) => a + b, 0) - Math.max(...ms);
    },
  };
  await run(one);
  await run(modelled);
  const t1: number[] = [];
  const tm: number[] = [];
  const est: number[] = [];
  const jobCounts: number[] = [];
  for (let r = 0; r < runs; r++) {
    let t0 = performance.now();
    await run(one);
    t1.push(performance.now() - t0);
    saved = 0;
    jobs = 0;
    t0 = performance.now();
    await run(modelled);
    const wall = performance.now() - t0;
    tm.push(wall);
    est.push(wall - saved);
    jobCounts.push(jobs);
  }
  modelled.rt.model = null;
  return { ms1: median(t1), msSerial: median(tm), estMs: median(est), jobs: median(jobCounts) };
}

async function model(one: WasmBackend, json: boolean, runs: number, threads: number, only?: string): Promise<void> {
  const modelled = await createWasmBackend();
  if (!only || only === 'matmul') {
    for (const s of SHAPES) {
      const batch = s.batch ?? 1;
      const aShape = batch > 1 ? [batch, s.m, s.k] : [s.m, s.k];
      const bShape = batch > 1 ? (s.transB ? [batch, s.n, s.k] : [batch, s.k, s.n]) : (s.transB ? [s.n, s.k] : [s.k, s.n]);
      const a = random(batch * s.m * s.k, 1);
      const b = random(batch * s.k * s.n, 2);
      const ops = new Map<WasmBackend, [Storage, Storage]>();
      for (const be of [one, modelled]) ops.set(be, [be.upload(a), be.upload(b)]);
      const t = await modelCase(one, modelled, threads, runs, async (be) => {
        const [sa, sb] = ops.get(be)!;
        be.free(be.kernels.matmul({ a: sa, b: sb, aShape, bShape, transA: false, transB: !!s.transB }));
      });
      for (const [be, xs] of ops) xs.forEach((x) => be.free(x));
      emit(json, {
        bench: 'threads-model', kernel: 'matmul', m: s.m, n: s.n, k: s.k, batch, transB: !!s.transB, threads,
        ms1: +t.ms1.toFixed(2), msSerial: +t.msSerial.toFixed(2), estMs: +t.estMs.toFixed(2), estSpeedup: +(t.ms1 / t.estMs).toFixed(3), jobs: t.jobs,
      });
    }
  }
  if (!only || only === 'block') {
    use(one);
    const s1 = sparsecastStep(FULL_BLOCK, 'wasm');
    use(modelled);
    const sm = sparsecastStep(FULL_BLOCK, 'wasm');
    const t = await modelCase(one, modelled, threads, runs, async (be) => {
      use(be);
      await (be === one ? s1 : sm).step();
    });
    use(one);
    s1.dispose();
    use(modelled);
    sm.dispose();
    emit(json, {
      bench: 'threads-model', kernel: 'block', ...FULL_BLOCK, threads,
      ms1: +t.ms1.toFixed(1), msSerial: +t.msSerial.toFixed(1), estMs: +t.estMs.toFixed(1), estSpeedup: +(t.ms1 / t.estMs).toFixed(3), jobs: t.jobs,
    });
  }
}

export async function benchThreads(opts: { json: boolean; threads?: number; runs?: number; only?: string; sweep?: boolean; model?: boolean }): Promise<void> {
  const threads = opts.threads ?? 2;
  const runs = Math.max(3, opts.runs ?? 5);
  const one = await createWasmBackend();
  if (opts.model) {
    const previous = engine.hasBackend('wasm') ? engine.getBackend('wasm') : null;
    await model(one, opts.json, runs, threads, opts.only);
    if (previous) {
      engine.registerBackend(previous);
      engine.useBackend('wasm');
    }
    return;
  }
  const many = await createWasmBackend({ threads, threadSplitAll: !!opts.sweep });
  const previous = engine.hasBackend('wasm') ? engine.getBackend('wasm') : null;
  try {
    if (many.threads !== threads) throw new Error(`bench threads: asked for ${threads} threads, got ${many.threads}`);
    if (opts.sweep) {
      await sweep(one, many, opts.json, runs);
      return;
    }
    if (!opts.only || opts.only === 'matmul') await matmulCases(one, many, opts.json, runs);
    if (!opts.only || opts.only === 'block') await blockCase(one, many, opts.json, runs, FULL_BLOCK);
  } finally {
    many.dispose();
    if (previous) {
      engine.registerBackend(previous);
      engine.useBackend('wasm');
    }
  }
}
