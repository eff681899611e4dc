// The dense GEMM's blocking, picked per CPU (src/backend/wasm/gemm-tune.ts): every candidate blocking — and
// odd ones that put block edges everywhere — gives exactly the bytes of the build's own blocking (edges,
// transposes, bias, batches, the narrow and in-place-A paths, k over several depth blocks); a loaded or
// measured table entry is what the kernel receives, on one thread and on every thread of the pool, with the
// results unchanged; the trial times each candidate once per size class and caches it; bad tables and
// arguments fail with a clear Error.
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { FAMILIES } from '../src/backend/wasm/kernels/index.ts';
import { WasmRuntime } from '../src/backend/wasm/runtime.ts';
import { WasmBackend, createWasmBackend, createWasmBackendSync, wasmBytes } from '../src/backend/wasm/backend.ts';
import {
  MIN_GAIN, TUNE_MIN_FLOPS, checkBlocking, clearGemmTuneCache, distinctCandidates, gemmBlockingFor, gemmCandidates, gemmDefaultBlocking, gemmSizeClass,
  gemmTuneEntry, gemmTuneTable, installGemmTuner, loadGemmTuneTable, measureGemmBlocking, trialShape, type GemmBlocking,
} from '../src/backend/wasm/gemm-tune.ts';
import { mulberry32 as rng } from './shared/mulberry32.ts';

type Fn = (...args: number[]) => number;

function randn(n: number, seed: number): Float32Array {
  const r = rng(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = r() * 2 - 1;
  return out;
}

/** A runtime over the default build whose exports record every gemm / gemmBlocked call's arguments. */
function recordingRuntime(): { rt: WasmRuntime; calls: Array<{ name: string; args: number[] }> } {
  const instance = new WebAssembly.Instance(new WebAssembly.Module(wasmBytes()), {});
  const calls: Array<{ name: string; args: number[] }> = [];
  // The instance's exports object is frozen: record through a copy.
  const exports: Record<string, unknown> = { ...instance.exports };
  for (const name of ['gemm', 'gemmBlocked']) {
    const fn = exports[name] as Fn;
    exports[name] = (...args: number[]) => {
      calls.push({ name, args });
      return fn(...args);
    };
  }
  return { rt: new WasmRuntime({ exports } as unknown as WebAssembly.Instance), calls };
}

/** Every blocking the tests run: both builds' candidate lists and small ones with block edges everywhere. */
const ODD_BLOCKINGS: GemmBlocking[] = [
  { kc: 1, mc: 4, nc: 8, inPlaceA: false },
  { kc: 5, mc: 8, nc: 16, inPlaceA: true },
  { kc: 37, mc: 12, nc: 24, inPlaceA: false },
  { kc: 37, mc: 12, nc: 24, inPlaceA: true },
  { kc: 300, mc: 100, nc: 40, inPlaceA: true },
];

afterEach(() => clearGemmTuneCache());

describe('gemm blocking: bit-identical results', () => {
  const rt = new WasmRuntime(new WebAssembly.Instance(new WebAssembly.Module(wasmBytes()), {}));
  // The relaxed build's candidates, run here on the default build (and each with A in place): more blockings.
  const relaxedList: GemmBlocking[] = [[256, 192, 1024], [256, 96, 1024], [512, 96, 1024], [128, 384, 1024], [512, 192, 1024], [1024, 48, 1024], [256, 192, 2048]]
    .flatMap(([kc, mc, nc]) => [false, true].map((inPlaceA) => ({ kc: kc!, mc: mc!, nc: nc!, inPlaceA })));
  const blockings = [...gemmCandidates(rt), ...relaxedList, ...ODD_BLOCKINGS];

  // m×n×k, transposes, bias, batch: edges in every dimension, the narrow path (n < 8), op(A) read in place
  // (m % 4 = 0, A not transposed: at n ≤ 64 always, wider with inPlaceA), k over several depth blocks of every
  // candidate (2100 > 2048).
  const cases = [
    { m: 37, n: 29, k: 70, tA: false, tB: false, bias: false, batch: 1 },
    { m: 53, n: 131, k: 2100, tA: true, tB: false, bias: true, batch: 1 },
    { m: 96, n: 48, k: 300, tA: false, tB: true, bias: true, batch: 2 },
    { m: 40, n: 5, k: 260, tA: false, tB: false, bias: true, batch: 1 },
    { m: 130, n: 1100, k: 90, tA: true, tB: true, bias: false, batch: 1 },
    { m: 132, n: 203, k: 2100, tA: false, tB: false, bias: true, batch: 1 },
    { m: 64, n: 300, k: 517, tA: false, tB: true, bias: false, batch: 2 },
  ];

  for (const c of cases) {
    it(`${c.m}×${c.n}×${c.k}${c.tA ? ' Aᵀ' : ''}${c.tB ? ' Bᵀ' : ''}${c.bias ? ' +bias' : ''} ×${c.batch}: ${blockings.length} blockings, one result`, () => {
      const ex = rt.exports;
      const { m, n, k, batch } = c;
      const aBs = m * k;
      const bBs = k * n;
      const cBs = m * n;
      rt.withTemp((tmp) => {
        const a = tmp.floats(randn(batch * aBs, 1));
        const b = tmp.floats(randn(batch * bBs, 2));
        const bias = c.bias ? tmp.floats(randn(n, 3)) : 0;
        const aRs = c.tA ? 1 : k;
        const aCs = c.tA ? m : 1;
        const bRs = c.tB ? 1 : n;
        const bCs = c.tB ? k : 1;
        const ref = tmp.bytes(4 * batch * cBs);
        const wsRef = tmp.bytes((ex.gemmWorkspaceBytes as Fn)(m, n, k));
        (ex.gemm as Fn)(m, n, k, a, aRs, aCs, b, bRs, bCs, ref, n, bias, batch, aBs, bBs, cBs, wsRef);
        const want = rt.u8().slice(ref, ref + 4 * batch * cBs);
        for (const bl of blockings) {
          rt.withTemp((t2) => {
            const out = t2.bytes(4 * batch * cBs);
            const ws = t2.bytes((ex.gemmBlockedWorkspaceBytes as Fn)(m, n, k, bl.kc, bl.mc, bl.nc));
            rt.f32().fill(Number.NaN, out >> 2, (out >> 2) + batch * cBs); // nothing left from an earlier run
            (ex.gemmBlocked as Fn)(m, n, k, a, aRs, aCs, b, bRs, bCs, out, n, bias, batch, aBs, bBs, cBs, ws, bl.kc, bl.mc, bl.nc, bl.inPlaceA ? 1 : 0);
            const got = rt.u8().slice(out, out + 4 * batch * cBs);
            expect(Buffer.compare(got, want), `blocking ${JSON.stringify(bl)}`).toBe(0);
          });
        }
      });
    });
  }
});

describe('gemm blocking: the tuner’s choice is what the kernel receives', () => {
  const forced: GemmBlocking = { kc: 256, mc: 96, nc: 1024, inPlaceA: false };
  // 300×260×520 with A transposed and a bias: 81 MFLOP (≥ TUNE_MIN_FLOPS), class 512x512x1024:tA.
  const m = 300;
  const n = 260;
  const k = 520;
  const a = randn(k * m, 11);
  const w = randn(k * n, 12);
  const bias = randn(n, 13);

  function product(be: WasmBackend): Float32Array {
    const sa = be.upload(a);
    const sw = be.upload(w);
    const sb = be.upload(bias);
    const out = be.kernels.matmul({ a: sa, aShape: [k, m], b: sw, bShape: [k, n], transA: true, transB: false, bias: sb });
    const v = be.readSync(out) as Float32Array;
    [sa, sw, sb, out].forEach((s) => be.free(s));
    return v;
  }

  it('a loaded table entry reaches gemmBlocked; untuned runs call gemm; the bytes are equal', () => {
    expect(gemmSizeClass(m, n, k, true, false)).toBe('512x512x1024:tA');
    const untuned = recordingRuntime();
    const ref = product(new WasmBackend(untuned.rt, FAMILIES));
    expect(untuned.calls.map((c) => c.name)).toEqual(['gemm']);

    loadGemmTuneTable([{ build: 'wasm', cls: '512x512x1024:tA', blocking: forced, m: 0, n: 0, k: 0, candidates: [], tune_ms: 0 }]);
    const tuned = recordingRuntime();
    installGemmTuner(tuned.rt);
    const got = product(new WasmBackend(tuned.rt, FAMILIES));
    expect(tuned.calls.map((c) => c.name)).toEqual(['gemmBlocked']); // no trial: the loaded entry is used
    expect(tuned.calls[0]!.args.slice(-4)).toEqual([forced.kc, forced.mc, forced.nc, 0]);
    expect(Buffer.from(got.buffer).equals(Buffer.from(ref.buffer))).toBe(true);

    // Another forced blocking: another set of parameters, the same bytes.
    const other: GemmBlocking = { kc: 64, mc: 8, nc: 64, inPlaceA: true };
    loadGemmTuneTable([{ build: 'wasm', cls: '512x512x1024:tA', blocking: other, m: 0, n: 0, k: 0, candidates: [], tune_ms: 0 }]);
    tuned.calls.length = 0;
    const got2 = product(new WasmBackend(tuned.rt, FAMILIES));
    expect(tuned.calls[0]!.args.slice(-4)).toEqual([other.kc, other.mc, other.nc, 1]);
    expect(Buffer.from(got2.buffer).equals(Buffer.from(ref.buffer))).toBe(true);
  });

  it('createWasmBackend tunes by default and not with gemmTune: false', () => {
    loadGemmTuneTable([{ build: 'wasm', cls: '512x512x1024:tA', blocking: forced, m: 0, n: 0, k: 0, candidates: [], tune_ms: 0 }]);
    const on = createWasmBackendSync();
    const off = createWasmBackendSync({ gemmTune: false });
    expect(on.rt.gemmBlocking?.(m, n, k, true, false)).toEqual(forced);
    expect(off.rt.gemmBlocking).toBeUndefined();
    expect(Buffer.from(product(on).buffer).equals(Buffer.from(product(off).buffer))).toBe(true);
  });

  describe('on the thread pool', () => {
    let pool: WasmBackend;
    beforeAll(async () => {
      pool = await createWasmBackend({ threads: 2, threadSplitAll: true });
    }, 120_000);
    afterAll(() => pool.dispose());

    it('every split passes the blocking to every thread, and the bytes equal one untuned thread', () => {
      const one = createWasmBackendSync({ gemmTune: false });
      // Products that take each split, at sizes that qualify for tuning: rows with op(B) packed once in shared
      // memory (a large op(B) whose columns do not split into whole NC blocks), whole batch entries per thread
      // (gemmRows), and columns (n a multiple of 2·NC: gemmBlocked on each thread's columns).
      const shapes: Array<{ a: number[]; b: number[]; cls: string; split: string }> = [
        { a: [300, 600], b: [600, 900], cls: '512x1024x1024', split: 'gemmBlockRowsClaim' },
        { a: [2, 260, 512], b: [2, 512, 300], cls: '512x512x512', split: 'gemmRows' },
        { a: [1030, 64], b: [64, 4096], cls: '1024x4096x64', split: 'gemmBlocked' },
      ];
      for (const s of shapes) {
        const m = s.a[s.a.length - 2]!;
        const kk = s.a[s.a.length - 1]!;
        const nn = s.b[s.b.length - 1]!;
        const batch = s.a.length > 2 ? s.a[0]! : 1;
        expect(gemmSizeClass(m, nn, kk, false, false), `${s.split} class`).toBe(s.cls);
        const bl: GemmBlocking = { kc: 200, mc: 44, nc: 1024, inPlaceA: true };
        loadGemmTuneTable([{ build: 'wasm', cls: s.cls, blocking: bl, m: 0, n: 0, k: 0, candidates: [], tune_ms: 0 }]);
        const av = randn(batch * m * kk, 21);
        const bv = randn(batch * kk * nn, 22);
        const run = (be: WasmBackend) => {
          const sa = be.upload(av);
          const sb = be.upload(bv);
          const out = be.kernels.matmul({ a: sa, aShape: s.a, b: sb, bShape: s.b, transA: false, transB: false });
          const v = be.readSync(out) as Float32Array;
          [sa, sb, out].forEach((x) => be.free(x));
          return v;
        };
        const seen: Array<{ name: string; parts: ReadonlyArray<ReadonlyArray<number> | null> }> = [];
        const parallel = pool.rt.parallel.bind(pool.rt);
        const spy = vi.spyOn(pool.rt, 'parallel').mockImplementation((name, parts) => {
          seen.push({ name, parts });
          parallel(name, parts);
        });
        let got: Float32Array;
        try {
          got = run(pool);
        } finally {
          spy.mockRestore();
        }
        const want = run(one);
        expect(Buffer.from(got.buffer).equals(Buffer.from(want.buffer)), `${s.split} bytes`).toBe(true);
        const jobs = seen.filter((j) => j.name === s.split);
        expect(jobs.length, `${s.split} ran`).toBeGreaterThan(0);
        for (const j of jobs) {
          for (const p of j.parts) {
            if (!p) continue;
            if (s.split === 'gemmBlockRowsClaim') expect(p[p.length - 1]).toBe(bl.mc);
            else expect(p.slice(-4)).toEqual([bl.kc, bl.mc, bl.nc, 1]);
          }
        }
        if (s.split === 'gemmBlockRowsClaim') {
          // The shared-B split walks op(B) in depth blocks of the chosen kc: 600 = 3 × 200 (one column block).
          const packs = seen.filter((j) => j.name === 'gemmPackBClaim').map((j) => j.parts[0]!.slice(0, 2));
          expect(packs).toEqual([[200, 900], [200, 900], [200, 900]]);
        }
      }
    });
  });
});

describe('gemm blocking: the trial and its table', () => {
  it('size classes: small and narrow products are not tuned; others by powers of two with the transposes', () => {
    expect(gemmSizeClass(64, 64, 64, false, false)).toBeNull();
    expect(gemmSizeClass(4096, 4, 4096, false, false)).toBeNull();
    expect(gemmSizeClass(1000, 1000, 1000, false, false)).toBe('1024x1024x1024');
    expect(gemmSizeClass(3072, 512, 2048, true, true)).toBe('1024x512x2048:tA:tB');
    expect(gemmSizeClass(100000, 8192, 8192, false, false)).toBe('1024x4096x4096');
    const n = 256;
    expect(2 * 256 * n * 512).toBe(TUNE_MIN_FLOPS);
    expect(gemmSizeClass(256, n, 512, false, false)).toBe('256x256x512');
    expect(trialShape(1024, 1024, 1024)).toEqual({ m: 128, n: 1024, k: 1024 });
    expect(trialShape(100, 4096, 4096)).toEqual({ m: 48, n: 2048, k: 2048 });
  });

  it('a miss runs one trial over every candidate (default first), caches it, and the table round-trips', () => {
    const { rt, calls } = recordingRuntime();
    const cands = gemmCandidates(rt);
    expect(cands[0]).toEqual(gemmDefaultBlocking(rt));
    expect(gemmDefaultBlocking(rt)).toEqual({ kc: 1024, mc: 24, nc: 1024, inPlaceA: false });
    const e = gemmTuneEntry(rt, 300, 300, 400, false, false)!;
    expect(e.cls).toBe('512x512x512');
    expect([e.m, e.n, e.k]).toEqual([300, 300, 400]); // the trial ran the product's own shape (72 MFLOP ≤ TRIAL_FLOPS)
    expect(e.build).toBe('wasm');
    expect(cands).toContainEqual(e.blocking);
    // 300×300×400: KC ≥ 400 and NC ≥ 304 run the same loops, so only the candidates that differ are timed.
    const distinct = distinctCandidates(cands, 300, 300, 400, false);
    expect(distinct.length).toBeLessThan(cands.length);
    expect(distinct[0]).toEqual(cands[0]);
    // A warm-up run and up to two interleaved rounds (the time budget may cut them short on a slow machine,
    // never before the default is timed); every candidate timed is reported, in order, the default first.
    expect(calls.length).toBeGreaterThanOrEqual(2);
    expect(calls.length).toBeLessThanOrEqual(1 + 2 * distinct.length);
    expect(calls.every((c) => c.name === 'gemmBlocked')).toBe(true);
    expect(e.candidates.map(({ kc, mc, nc, inPlaceA }) => ({ kc, mc, nc, inPlaceA }))).toEqual(distinct.slice(0, e.candidates.length));
    for (const c of e.candidates) expect(c.ms).toBeGreaterThanOrEqual(0);
    expect(e.tune_ms).toBeGreaterThan(0);
    // The default is kept unless a candidate beats it by MIN_GAIN.
    const isDefault = (b: GemmBlocking) => b.kc === cands[0]!.kc && b.mc === cands[0]!.mc && b.nc === cands[0]!.nc && b.inPlaceA === cands[0]!.inPlaceA;
    if (!isDefault(e.blocking)) {
      const ms = (b: GemmBlocking) => e.candidates.find((c) => c.kc === b.kc && c.mc === b.mc && c.nc === b.nc && c.inPlaceA === b.inPlaceA)!.ms;
      expect(ms(e.blocking)).toBeLessThanOrEqual(ms(cands[0]!) * (1 - MIN_GAIN) + 1e-9);
    }
    // Cached: same class, no second trial.
    calls.length = 0;
    expect(gemmBlockingFor(rt, 400, 350, 300, false, false)).toEqual(e.blocking);
    expect(calls.length).toBe(0);
    // Saved and loaded: the same choice, no trial.
    const saved = JSON.parse(JSON.stringify(gemmTuneTable()));
    clearGemmTuneCache();
    loadGemmTuneTable(saved);
    expect(gemmBlockingFor(rt, 300, 300, 400, false, false)).toEqual(e.blocking);
    expect(calls.length).toBe(0);
    // Too small to tune: the build's blocking, no trial.
    expect(gemmBlockingFor(rt, 64, 64, 64, false, false)).toBeNull();
    expect(calls.length).toBe(0);
  });

  it('candidates that run the same loops on a shape are timed once, the first kept', () => {
    const list: GemmBlocking[] = [[1024, 24, 1024], [512, 24, 1024], [512, 24, 2048], [256, 24, 512], [512, 48, 512]]
      .map(([kc, mc, nc]) => ({ kc: kc!, mc: mc!, nc: nc!, inPlaceA: false }));
    expect(distinctCandidates(list, 64, 512, 512, false)).toEqual([list[0], list[3], list[4]]);
    expect(distinctCandidates(list, 64, 1024, 1024, false)).toEqual([list[0], list[1], list[3], list[4]]); // NC 2048 ≥ n
    expect(distinctCandidates(list, 64, 2048, 1024, false)).toEqual(list);
    expect(distinctCandidates(list, 64, 500, 2000, false)).toEqual([list[0], list[1], list[3], list[4]]); // NC ≥ 504 alike
    // A in place differs only where it can apply and is not the rule anyway: m % 4 = 0, A not transposed, n > 64.
    const both = [list[0]!, { ...list[0]!, inPlaceA: true }];
    expect(distinctCandidates(both, 64, 512, 512, false)).toEqual(both);
    expect(distinctCandidates(both, 64, 512, 512, true)).toEqual([both[0]]);
    expect(distinctCandidates(both, 66, 512, 512, false)).toEqual([both[0]]);
    expect(distinctCandidates(both, 64, 64, 512, false)).toEqual([both[0]]);
  });

  it('measureGemmBlocking times the candidates it is given', () => {
    const { rt, calls } = recordingRuntime();
    const list = [{ kc: 64, mc: 8, nc: 64, inPlaceA: false }, { kc: 32, mc: 16, nc: 32, inPlaceA: true }];
    const e = measureGemmBlocking(rt, 64, 96, 80, false, true, list);
    expect(e.candidates.map(({ kc, mc, nc, inPlaceA }) => ({ kc, mc, nc, inPlaceA }))).toEqual(list);
    expect(list).toContainEqual(e.blocking);
    expect(calls.every((c) => c.name === 'gemmBlocked')).toBe(true);
    expect(new Set(calls.map((c) => c.args.slice(-4).join(',')))).toEqual(new Set(['64,8,64,0', '32,16,32,1']));
  });

  it('bad tables and arguments fail with a clear Error', () => {
    const rt = new WasmRuntime(new WebAssembly.Instance(new WebAssembly.Module(wasmBytes()), {}));
    const entry = (over: object) => ({ build: 'wasm', cls: '1024x1024x1024', blocking: { kc: 256, mc: 96, nc: 1024, inPlaceA: false }, m: 0, n: 0, k: 0, candidates: [], tune_ms: 0, ...over });
    expect(() => loadGemmTuneTable([entry({ blocking: { kc: 256, mc: 6, nc: 1024, inPlaceA: false } })] as never)).toThrow(/mc a multiple of 4/);
    expect(() => loadGemmTuneTable([entry({ blocking: { kc: 0, mc: 8, nc: 1024, inPlaceA: false } })] as never)).toThrow(/kc ≥ 1/);
    expect(() => loadGemmTuneTable([entry({ blocking: { kc: 256, mc: 8, nc: 100, inPlaceA: false } })] as never)).toThrow(/nc a multiple of 8/);
    expect(() => loadGemmTuneTable([entry({ blocking: { kc: 256, mc: 8, nc: 1024 } })] as never)).toThrow(/a boolean inPlaceA/);
    expect(() => loadGemmTuneTable([entry({ build: 'webgpu' })] as never)).toThrow(/build must be 'wasm' or 'wasm-relaxed'/);
    expect(() => loadGemmTuneTable([entry({ cls: 'big' })] as never)).toThrow(/cls must look like/);
    expect(() => loadGemmTuneTable({} as never)).toThrow(/expected an array/);
    expect(gemmTuneTable()).toEqual([]); // nothing half-loaded
    expect(() => measureGemmBlocking(rt, 0, 8, 8, false, false)).toThrow(/positive integers/);
    expect(() => measureGemmBlocking(rt, 8, 8, 8, false, false, [])).toThrow(/no candidate/);
    expect(() => checkBlocking({ kc: 1.5, mc: 8, nc: 8, inPlaceA: false }, 'here')).toThrow(/^here: a GEMM blocking/);
  });
});
