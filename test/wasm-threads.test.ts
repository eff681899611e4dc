// The wasm thread pool: every kernel that splits its work across threads gives the same bytes as the
// single-threaded build (2 and 3 threads, every kernel split however small: threadSplitAll), a tiny training
// step is equal bit for bit, a kernel failure in a worker surfaces as an Error naming the kernel, a dead
// worker makes the caller time out instead of hang, workers never keep a process alive, the fallback to one
// thread warns once, and the shared-memory build runs threaded in Deno too.
import { spawnSync, execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { CsrStorage, Storage, UnaryOp } from '../src/backend/kernels.ts';
import { createWasmBackend, type WasmBackend } from '../src/backend/wasm/backend.ts';
import { engine } from '../src/tensor/engine.ts';
import '../src/tensor/tensor.ts';
import { sparsecastStep } from '../bench/block.ts';
import { tinyRun } from './shared/tiny-run.ts';
import { runConformance } from './conformance/run.ts';
import { mulberry32 as rng } from './shared/mulberry32.ts';

const root = fileURLToPath(new URL('..', import.meta.url));

let one: WasmBackend;
const pools: Array<[string, WasmBackend]> = [];

beforeAll(async () => {
  one = await createWasmBackend();
  pools.push(['2 threads', await createWasmBackend({ threads: 2, threadSplitAll: true })]);
  pools.push(['3 threads', await createWasmBackend({ threads: 3, threadSplitAll: true })]);
}, 120_000);

afterAll(() => {
  for (const [, b] of pools) b.dispose();
});

function randn(n: number, seed: number): Float32Array {
  const r = rng(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = r() * 2 - 1;
  return out;
}

const prod = (xs: number[]) => xs.reduce((a, b) => a * b, 1);

/** Run `fn` on the one-thread backend and on each pool; the outputs' bytes must be equal. */
function sameBytes(what: string, fn: (b: WasmBackend) => Storage[]): void {
  const ref = fn(one).map((s) => {
    const v = one.readSync(s);
    one.free(s);
    return v;
  });
  for (const [name, b] of pools) {
    const got = fn(b).map((s) => {
      const v = b.readSync(s);
      b.free(s);
      return v;
    });
    expect(got.length).toBe(ref.length);
    got.forEach((g, i) => {
      const r = ref[i]!;
      expect(g.length, `${what} (${name}) output ${i} length`).toBe(r.length);
      const same = Buffer.compare(Buffer.from(g.buffer, g.byteOffset, g.byteLength), Buffer.from(r.buffer, r.byteOffset, r.byteLength)) === 0;
      expect(same, `${what} (${name}) output ${i} differs from one thread`).toBe(true);
    });
  }
}

function upload(b: WasmBackend, data: Float32Array | Int32Array | Uint8Array): Storage {
  return b.upload(data);
}

/** A random CSR matrix of the given density (some rows empty). */
function csr(b: WasmBackend, rows: number, cols: number, density: number, seed: number): { m: CsrStorage; free: () => void } {
  const r = rng(seed);
  const rowPtr = [0];
  const colIdx: number[] = [];
  const values: number[] = [];
  for (let i = 0; i < rows; i++) {
    const empty = i % 7 === 3;
    for (let j = 0; j < cols; j++) {
      if (!empty && r() < density) {
        colIdx.push(j);
        values.push(r() * 2 - 1);
      }
    }
    rowPtr.push(colIdx.length);
  }
  const m: CsrStorage = {
    rows, cols, nnz: colIdx.length,
    rowPtr: upload(b, Int32Array.from(rowPtr)),
    colIdx: upload(b, Int32Array.from(colIdx)),
    values: upload(b, Float32Array.from(values)),
  };
  return { m, free: () => [m.rowPtr, m.colIdx, m.values].forEach((s) => b.free(s)) };
}

describe('wasm threads: bit-identical to one thread', () => {
  it('starts the requested threads', () => {
    expect(one.threads).toBe(1);
    expect(pools.map(([, b]) => b.threads)).toEqual([2, 3]);
  });

  const gemmCases: Array<{ a: number[]; b: number[]; transA?: boolean; transB?: boolean; bias?: boolean }> = [
    { a: [1, 1], b: [1, 1] },
    { a: [5, 3], b: [3, 7] },
    { a: [33, 65], b: [65, 17], bias: true },
    { a: [65, 33], b: [17, 65], transA: true, transB: true },
    { a: [130, 1030], b: [1030, 67] }, // k > KC: partial sums resumed from C
    { a: [64, 40], b: [1030, 40], transB: true, bias: true }, // n > NC
    { a: [96, 96], b: [96, 96], transA: true },
    { a: [40, 33], b: [33, 2100], bias: true }, // column split (op(B) packed per thread, op(A) per NC block)
    { a: [16, 24], b: [2048, 24], transB: true }, // column split at NC boundaries
    { a: [3, 20, 16], b: [3, 16, 2060] }, // batched column split
    { a: [5, 37, 29], b: [5, 29, 41] }, // batch 5: rows split within each entry
    { a: [17, 9, 12], b: [17, 12, 10], transB: false }, // batch ≥ 8 per thread: whole entries
    { a: [4, 10, 8], b: [8, 6], bias: true }, // shared B: folded into m
    { a: [2, 1, 5, 7], b: [3, 7, 4] }, // broadcast batch dims
    { a: [2, 3, 7, 5], b: [2, 3, 4, 7], transA: true, transB: true }, // outer batch loop
    // Row split with op(B) packed once into shared memory (k·n ≥ 2¹⁹ and a column split would repeat op(A)):
    { a: [37, 1100], b: [1100, 483], bias: true }, // ragged m and n, two k blocks (partial sums resumed from C)
    { a: [1030, 45], b: [520, 1030], transA: true, transB: true, bias: true }, // both transposed, k > KC
    { a: [13, 1030], b: [1030, 2500], bias: true }, // n spans three NC blocks, the last ragged; k > KC
    { a: [3, 29, 520], b: [3, 520, 1010] }, // batch 3 on 2 threads: each entry split by rows
    { a: [3, 1030, 22], b: [1030, 520], transA: true, bias: true }, // op(B) broadcast over a batch not folded into m
  ];
  for (const c of gemmCases) {
    it(`matmul ${JSON.stringify(c)}`, () => {
      const a = randn(prod(c.a), 1);
      const bv = randn(prod(c.b), 2);
      const n = c.transB ? c.b[c.b.length - 2]! : c.b[c.b.length - 1]!;
      const bias = randn(n, 3);
      sameBytes(`matmul ${JSON.stringify(c)}`, (be) => {
        const sa = upload(be, a);
        const sb = upload(be, bv);
        const sbias = c.bias ? upload(be, bias) : undefined;
        const out = be.kernels.matmul({ a: sa, aShape: c.a, b: sb, bShape: c.b, transA: !!c.transA, transB: !!c.transB, bias: sbias });
        [sa, sb, ...(sbias ? [sbias] : [])].forEach((s) => be.free(s));
        return [out];
      });
    });
  }

  it('the row split packs a large op(B) once, in shared memory (two jobs per block), and a small one per thread', () => {
    const [, b] = pools[0]!;
    const seen: string[] = [];
    const parallel = b.rt.parallel.bind(b.rt);
    const spy = vi.spyOn(b.rt, 'parallel').mockImplementation((name, parts) => {
      seen.push(name);
      parallel(name, parts);
    });
    try {
      for (const [m, k, n] of [[37, 1100, 483], [40, 30, 20]] as const) {
        const sa = b.upload(randn(m * k, 1));
        const sb = b.upload(randn(k * n, 2));
        b.free(b.kernels.matmul({ a: sa, aShape: [m, k], b: sb, bShape: [k, n], transA: false, transB: false }));
        [sa, sb].forEach((s) => b.free(s));
      }
    } finally {
      spy.mockRestore();
    }
    // 1100 = one full and one partial k block: pack, compute, pack, compute; then the small product in one job.
    expect(seen).toEqual(['gemmPackBClaim', 'gemmBlockRowsClaim', 'gemmPackBClaim', 'gemmBlockRowsClaim', 'gemmRows']);
  });

  it('spmm, denseCsrT, sddmm (sparse and dense paths, transposes)', () => {
    for (const [rows, cols, n, density] of [[37, 29, 13, 0.15], [64, 96, 40, 0.05], [50, 30, 9, 0.5]] as const) {
      const bDense = randn(cols * n, 4);
      const x = randn(n * cols, 5);
      sameBytes(`spmm/denseCsrT ${rows}x${cols} n=${n} d=${density}`, (be) => {
        const w = csr(be, rows, cols, density, 6);
        const sb = upload(be, bDense);
        const sx = upload(be, x);
        const outs = [be.kernels.spmm(w.m, sb, n), be.kernels.denseCsrT(sx, n, w.m)];
        w.free();
        be.free(sb);
        be.free(sx);
        return outs;
      });
      for (const [transA, transB] of [[false, false], [true, false], [false, true], [true, true]] as const) {
        const k = 23;
        const av = randn(rows * k, 7);
        const bv = randn(k * cols, 8);
        sameBytes(`sddmm ${rows}x${cols} k=${k} d=${density} tA=${transA} tB=${transB}`, (be) => {
          const p = csr(be, rows, cols, density, 9);
          const sa = upload(be, av);
          const sb = upload(be, bv);
          const out = be.kernels.sddmm(
            sa, transA ? [k, rows] : [rows, k], transA,
            sb, transB ? [cols, k] : [k, cols], transB, p.m,
          );
          p.free();
          be.free(sa);
          be.free(sb);
          return [out];
        });
      }
    }
  });

  it('denseBsrT (8-row panels split across threads, m not a multiple of 8, edge blocks)', () => {
    for (const [m, n, k, density] of [[37, 29, 13, 0.5], [64, 96, 40, 0.2], [203, 30, 9, 1]] as const) {
      const w = randn(n * k, 12);
      const x = randn(m * k, 13);
      const mask = Uint8Array.from(randn(n * k, 14), (u) => (u < 2 * density - 1 ? 1 : 0));
      const nbc = Math.ceil(k / 4);
      const blocks = new Set<number>();
      for (let i = 0; i < n * k; i++) if (mask[i]) blocks.add((Math.floor(i / k) >> 2) * nbc + ((i % k) >> 2));
      sameBytes(`denseBsrT ${m}x${n}x${k} d=${density}`, (be) => {
        const sw = upload(be, w);
        const sm = be.upload(mask);
        const b = be.kernels.denseToBsr(sw, n, k, blocks.size, sm);
        const sx = upload(be, x);
        const out = be.kernels.denseBsrT(sx, m, b);
        for (const s of [sw, sm, sx, b.blockPtr, b.blockCol, b.values]) be.free(s);
        return [out];
      });
    }
  });

  it('denseFanInT (rows of X split across threads, 32-row blocks and tails, an ablated row)', () => {
    for (const [m, n, k, fan] of [[37, 29, 13, 4], [70, 96, 40, 9], [203, 30, 300, 31]] as const) {
      const w = randn(n * k, 15);
      const x = randn(m * k, 16);
      // Row i keeps columns (i + 7t) mod k, t < fan (distinct: 7 is prime to these k); row 1 is ablated.
      const mask = new Uint8Array(n * k);
      for (let i = 0; i < n; i++) for (let t = 0; t < fan && i !== 1; t++) mask[i * k + ((i + 7 * t) % k)] = 1;
      sameBytes(`denseFanInT ${m}x${n}x${k} k=${fan}`, (be) => {
        const sw = upload(be, w);
        const sm = be.upload(mask);
        const f = be.kernels.denseToFanIn(sw, n, k, fan, n - 1, sm);
        const sx = upload(be, x);
        const out = be.kernels.denseFanInT(sx, m, f);
        for (const s of [sw, sm, sx, f.liveRows, f.colIdx, f.values]) be.free(s);
        return [out];
      });
    }
  });

  it('fanInDense, fanInSddmm (both paths) and bsrSddmm: rows of G, live rows, W row blocks, block rows split across threads', () => {
    // [m, n, k, fan]: fanInSddmm's gather path (below 20% of W stored) and its GEMM path, n past one 256-row block.
    for (const [m, n, k, fan] of [[37, 29, 13, 2], [70, 96, 40, 3], [203, 30, 300, 31], [45, 300, 20, 9]] as const) {
      const w = randn(n * k, 17);
      const g = randn(m * n, 18);
      const x = randn(m * k, 19);
      const mask = new Uint8Array(n * k);
      for (let i = 0; i < n; i++) for (let t = 0; t < fan && i !== 1; t++) mask[i * k + ((i + 7 * t) % k)] = 1;
      sameBytes(`fanInDense / fanInSddmm ${m}x${n}x${k} k=${fan}`, (be) => {
        const [sw, sm, sg, sx] = [upload(be, w), be.upload(mask), upload(be, g), upload(be, x)];
        const f = be.kernels.denseToFanIn(sw, n, k, fan, n - 1, sm);
        const outs = [be.kernels.fanInDense(sg, m, f), be.kernels.fanInSddmm(sg, sx, m, f)];
        for (const s of [sw, sm, sg, sx, f.liveRows, f.colIdx, f.values]) be.free(s);
        return outs;
      });
      // Every third 4×4 block of W kept (k, n not multiples of 4 in some shapes: edge blocks).
      const blocks = new Uint8Array(n * k);
      for (let i = 0; i < n; i++) for (let j = 0; j < k; j++) blocks[i * k + j] = ((i >> 2) + (j >> 2)) % 3 === 0 ? 1 : 0;
      const nbc = Math.ceil(k / 4);
      let nblocks = 0;
      for (let bi = 0; bi < Math.ceil(n / 4); bi++) for (let bj = 0; bj < nbc; bj++) if ((bi + bj) % 3 === 0) nblocks++;
      sameBytes(`bsrSddmm ${m}x${n}x${k}`, (be) => {
        const [sw, sm, sg, sx] = [upload(be, w), be.upload(blocks), upload(be, g), upload(be, x)];
        const b = be.kernels.denseToBsr(sw, n, k, nblocks, sm);
        const out = be.kernels.bsrSddmm(sg, sx, m, b);
        for (const s of [sw, sm, sg, sx, b.blockPtr, b.blockCol, b.values]) be.free(s);
        return [out];
      });
    }
  });

  it('unary, binary (same shape, broadcast, i32), softmax, logSoftmax, layerNorm', () => {
    const x = randn(1003, 10);
    const y = randn(1003, 11);
    const ops: UnaryOp[] = ['neg', 'exp', 'gelu', 'erf', 'tanh', 'sqrt', 'square'];
    sameBytes('unary', (be) => {
      const sx = upload(be, x);
      const outs = ops.map((op) => be.kernels.unary(op, sx));
      be.free(sx);
      return outs;
    });
    sameBytes('binary', (be) => {
      const sx = upload(be, x);
      const sy = upload(be, y);
      const row = upload(be, randn(17, 12));
      const col = upload(be, randn(59, 13));
      const big = upload(be, randn(59 * 17, 14));
      const ia = upload(be, Int32Array.from({ length: 1003 }, (_, i) => i * 7 - 500));
      const ib = upload(be, Int32Array.from({ length: 17 }, (_, i) => 3 - i));
      const outs = [
        be.kernels.binary('add', sx, [1003], sy, [1003]),
        be.kernels.binary('div', sx, [1003], sy, [1003]),
        be.kernels.binary('pow', sx, [1003], sy, [1003]),
        be.kernels.binary('mul', big, [59, 17], row, [17]),
        be.kernels.binary('sub', col, [59, 1], big, [59, 17]),
        be.kernels.binary('max', col, [59, 1], row, [1, 17]),
        be.kernels.binary('mul', ia, [59, 17], ib, [17]),
      ];
      [sx, sy, row, col, big, ia, ib].forEach((s) => be.free(s));
      return outs;
    });
    sameBytes('softmax / layerNorm', (be) => {
      const s = upload(be, randn(37 * 27, 15));
      const g = upload(be, randn(27, 16));
      const bb = upload(be, randn(27, 17));
      const ln = be.kernels.layerNorm(s, [37, 27], g, bb, 1e-5);
      const outs = [be.kernels.softmax(s, [37, 27]), be.kernels.logSoftmax(s, [37, 27]), ln.y, ln.mean, ln.rstd];
      [s, g, bb].forEach((t) => be.free(t));
      return outs;
    });
  });

  it('a tiny Transformer block training step is equal bit for bit (3 steps: forward, backward, Adam)', async () => {
    const shape = { batch: 2, seq: 12, dModel: 16, heads: 2, dFf: 24 };
    const losses = async (b: WasmBackend): Promise<number[]> => {
      engine.registerBackend(b);
      engine.useBackend('wasm');
      const before = engine.memory().tensors;
      const r = sparsecastStep(shape, 'wasm');
      const out: number[] = [];
      for (let i = 0; i < 3; i++) out.push(await r.step());
      r.dispose();
      expect(engine.memory().tensors, 'the steps leave no tensors behind').toBe(before);
      return out;
    };
    const ref = await losses(one);
    for (const [name, b] of pools) expect(await losses(b), name).toEqual(ref);
    expect(ref.every(Number.isFinite)).toBe(true);
  });

  it('every conformance case (all kernels, split or not, on the shared-memory build) equals one thread exactly', () => {
    for (const [name, b] of pools) {
      const rows = runConformance(b, one, `node ${process.version} ${name}`);
      const off = rows.filter((r) => !r.ok || r.maxRelErr !== 0).map((r) => `${r.kernel}: ${r.error ?? r.maxRelErr}`);
      expect(off, name).toEqual([]);
      expect(rows.length).toBeGreaterThan(50);
    }
  });

  it('permute (strided walk and batched transpose)', () => {
    const x = randn(6 * 5 * 7 * 9, 30);
    sameBytes('permute', (be) => {
      const sx = upload(be, x);
      const outs = [
        be.kernels.permute(sx, [6, 5, 7, 9], [0, 2, 1, 3]),
        be.kernels.permute(sx, [6, 5, 7, 9], [3, 1, 0, 2]),
        be.kernels.permute(sx, [6, 35, 9], [0, 2, 1]),
        be.kernels.permute(sx, [30, 63], [1, 0]),
      ];
      be.free(sx);
      return outs;
    });
  });

  it('the tiny training run (20 Adam steps of an MLP) ends with the same parameter bytes', async () => {
    const ref = await tinyRun(one);
    for (const [name, b] of pools) {
      const got = await tinyRun(b);
      expect(got.lossBits, name).toEqual(ref.lossBits);
      expect(got.paramHash, name).toBe(ref.paramHash);
    }
  });
});

describe('wasm threads: failures, shutdown, fallback', () => {
  it('a kernel that fails in a worker throws an Error naming the kernel on the calling thread', () => {
    const [, b] = pools[0]!;
    const x = b.upload(new Float32Array(64));
    const y = b.rt.alloc(64, 'f32');
    const px = b.rt.ptr(x);
    expect(() => b.rt.parallel('unaryF32', [[0, px, y.ptr, 32], [0, 0xfffffff0, y.ptr + 128, 32]])).toThrow(
      /^unaryF32: failed in wasm worker thread 1: .*(out of bounds|memory access)/,
    );
    expect(() => b.rt.parallel('unaryF32', [[0, 0xfffffff0, y.ptr, 32], [0, px + 128, y.ptr + 128, 32]])).toThrow(
      /^unaryF32: failed on the calling thread: .*(out of bounds|memory access)/,
    );
    // The pool still works after a failed job.
    b.rt.parallel('unaryF32', [[0, px, y.ptr, 32], [0, px + 128, y.ptr + 128, 32]]);
    b.free(x);
    b.free(y);
  });

  it('a dead worker makes the kernel time out with its name, then the backend runs on one thread', async () => {
    const b = await createWasmBackend({ threads: 2, threadSplitAll: true, threadTimeoutMs: 300 });
    try {
      b.rt.pool!.killWorkerForTest(1);
      const a = b.upload(randn(40 * 30, 20));
      const w = b.upload(randn(30 * 20, 21));
      expect(() => b.kernels.matmul({ a, aShape: [40, 30], b: w, bShape: [30, 20], transA: false, transB: false })).toThrow(
        /^gemmRows: timed out after 300 ms waiting for 1 wasm worker thread/,
      );
      expect(b.threads).toBe(1);
      const out = b.kernels.matmul({ a, aShape: [40, 30], b: w, bShape: [30, 20], transA: false, transB: false });
      const sa = one.upload(randn(40 * 30, 20));
      const sw = one.upload(randn(30 * 20, 21));
      const ref = one.kernels.matmul({ a: sa, aShape: [40, 30], b: sw, bShape: [30, 20], transA: false, transB: false });
      expect(b.readSync(out)).toEqual(one.readSync(ref));
      [sa, sw, ref].forEach((s) => one.free(s));
    } finally {
      b.dispose();
    }
  });

  it('a dead worker during the shared-op(B) row split times out too, then the backend runs on one thread', async () => {
    const b = await createWasmBackend({ threads: 2, threadTimeoutMs: 300 });
    try {
      b.rt.pool!.killWorkerForTest(1);
      const av = randn(40 * 1100, 22);
      const wv = randn(1100 * 483, 23);
      const a = b.upload(av);
      const w = b.upload(wv);
      const args = { aShape: [40, 1100], bShape: [1100, 483], transA: false, transB: false };
      expect(() => b.kernels.matmul({ a, b: w, ...args })).toThrow(/^gemmPackBClaim: timed out after 300 ms waiting for 1 wasm worker thread/);
      expect(b.threads).toBe(1);
      const out = b.kernels.matmul({ a, b: w, ...args });
      const sa = one.upload(av);
      const sw = one.upload(wv);
      const ref = one.kernels.matmul({ a: sa, b: sw, ...args });
      expect(b.readSync(out)).toEqual(one.readSync(ref));
      [sa, sw, ref].forEach((s) => one.free(s));
    } finally {
      b.dispose();
    }
  });

  it('options are checked', async () => {
    await expect(createWasmBackend({ threads: 0 })).rejects.toThrow(/threads must be an integer ≥ 1/);
    await expect(createWasmBackend({ threads: 2, relaxed: true })).rejects.toThrow(/cannot be combined with relaxed/);
  });

  it('falls back to one thread where threads cannot run, and says so once', async () => {
    const g = globalThis as { crossOriginIsolated?: boolean };
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    g.crossOriginIsolated = false;
    try {
      const a = await createWasmBackend({ threads: 2 });
      const b = await createWasmBackend({ threads: 4 });
      expect([a.threads, b.threads]).toEqual([1, 1]);
      expect(warn).toHaveBeenCalledTimes(1);
      expect(String(warn.mock.calls[0]![0])).toMatch(/wasm threads unavailable \(.*cross-origin isolated.*\); running on one thread/);
    } finally {
      delete g.crossOriginIsolated;
      warn.mockRestore();
    }
  });

  it('a process that never disposes its threaded backend still exits', () => {
    const code = `
      const { createWasmBackend } = await import(${JSON.stringify(join(root, 'src/backend/wasm/backend.ts'))});
      const b = await createWasmBackend({ threads: 2, threadSplitAll: true });
      const a = b.upload(new Float32Array(64 * 64).fill(1));
      const out = b.kernels.matmul({ a, aShape: [64, 64], b: a, bShape: [64, 64], transA: false, transB: false });
      console.log('threads', b.threads, 'sum', b.readSync(out).reduce((s, v) => s + v, 0));
    `;
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { cwd: root, timeout: 60_000, encoding: 'utf8' });
    expect(r.error, 'the child process did not exit by itself within 60 s').toBeUndefined();
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe(`threads 2 sum ${64 * 64 * 64}`);
  }, 90_000);
});

const deno = join(root, 'node_modules', '.bin', 'deno');
describe.skipIf(!existsSync(deno))('wasm threads in Deno', () => {
  it('runs the shared-memory build on 2 threads with the same bytes as one thread, and exits with a pool open', () => {
    const out = execFileSync(deno, ['run', '--no-prompt', '--no-config', join('test', 'deno', 'threads.ts')], {
      cwd: root,
      timeout: 120_000, // a worker keeping Deno alive ends here as ETIMEDOUT
      encoding: 'utf8',
      env: { ...process.env, DENO_NO_UPDATE_CHECK: '1', NO_COLOR: '1' },
    });
    const res = JSON.parse(out.trim().split('\n').pop()!) as { threads: number; checks: number; mismatches: string[] };
    expect(res.threads).toBe(2);
    expect(res.mismatches).toEqual([]);
    expect(res.checks).toBeGreaterThan(3);
  }, 200_000);
});
