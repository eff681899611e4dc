// Constant fan-in kernels on js and wasm: denseFanInT bit-identical to denseCsrT on the CSR of the same mask
// (the contract's summation order, on both the tile path and the small-m path, ablated rows included) and close
// to an f64 reference of X·(W ⊙ M)ᵀ; dense ↔ fan-in round trips; the u16 column packing; errors that name the
// kernel. The conformance suite compares the backends (webgpu included).
import v8 from 'node:v8';
import { describe, expect, it } from 'vitest';
import type { Backend, FanInStorage, Storage } from '../src/backend/kernels.ts';
import { createJsBackend } from '../src/backend/js/backend.ts';
import { createWasmBackendSync } from '../src/backend/wasm/backend.ts';
import { mulberry32 as rng } from './shared/mulberry32.ts';

const backends: Array<[string, Backend]> = [['js', createJsBackend()], ['wasm', createWasmBackendSync()]];

function randn(n: number, r: () => number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = r() * 2 - 1;
  return out;
}

/** A [n, cols] mask with exactly k random columns in every row except `dead` (ablated, all 0). */
function fanInMask(n: number, cols: number, k: number, r: () => number, dead: number[] = []): Uint8Array {
  const m = new Uint8Array(n * cols);
  for (let i = 0; i < n; i++) {
    if (dead.includes(i) || k === 0) continue;
    const perm = Array.from({ length: cols }, (_, j) => j);
    for (let t = 0; t < k; t++) {
      const j = t + Math.floor(r() * (cols - t));
      [perm[t], perm[j]] = [perm[j]!, perm[t]!];
      m[i * cols + perm[t]!] = 1;
    }
  }
  return m;
}

const liveCount = (mask: Uint8Array, n: number, cols: number) => {
  let live = 0;
  for (let i = 0; i < n; i++) if (mask.subarray(i * cols, (i + 1) * cols).some((v) => v !== 0)) live++;
  return live;
};
const count = (mask: Uint8Array) => mask.reduce((a, v) => a + (v ? 1 : 0), 0);
const read = (be: Backend, s: Storage) => be.readSync!(s).slice();
const freeFanIn = (be: Backend, f: FanInStorage) => [f.liveRows, f.colIdx, f.values].forEach((s) => be.free(s));

// [m, n_in, n_out, k, ablated rows]: m < 8, m with 32-row, 4-row and scalar tails, k = 1, k = n_in, n_in > 256.
const SHAPES: Array<[number, number, number, number, number[]]> = [
  [1, 9, 5, 3, [1]], [7, 300, 12, 30, []], [8, 16, 16, 16, [0, 15]], [37, 300, 20, 1, [3]],
  [70, 513, 40, 51, [1, 39]], [300, 64, 130, 7, [5, 6, 7]], [33, 20, 8, 0, []],
];

describe('denseFanInT', () => {
  for (const [name, be] of backends) {
    it(`${name}: bit-identical to denseCsrT on the same mask, and X · (W ⊙ M)ᵀ within f32 rounding`, () => {
      const r = rng(14);
      const k = be.kernels;
      for (const [m, nIn, n, fan, dead] of SHAPES) {
        const w = randn(n * nIn, r);
        const x = randn(m * nIn, r);
        const mask = fanInMask(n, nIn, fan, r, dead);
        const [ws, xs, ms] = [be.upload(w), be.upload(x), be.upload(mask)];
        const f = k.denseToFanIn(ws, n, nIn, fan, liveCount(mask, n, nIn), ms);
        const csr = k.denseToCsr(ws, n, nIn, count(mask), ms);
        const yf = read(be, k.denseFanInT(xs, m, f));
        const yc = read(be, k.denseCsrT(xs, m, csr));
        expect(yf, `[${m},${nIn}]×[${n},${nIn}] k ${fan}`).toEqual(yc);
        for (let i = 0; i < m; i++) {
          for (let j = 0; j < n; j++) {
            let ref = 0;
            let mag = 0;
            for (let t = 0; t < nIn; t++) {
              if (!mask[j * nIn + t]) continue;
              ref += w[j * nIn + t]! * x[i * nIn + t]!;
              mag += Math.abs(w[j * nIn + t]! * x[i * nIn + t]!);
            }
            expect(Math.abs(yf[i * n + j]! - ref)).toBeLessThanOrEqual(1e-6 * (mag + 1) * Math.max(1, fan));
            if (dead.includes(j) || fan === 0) expect(Object.is(yf[i * n + j], 0)).toBe(true);
          }
        }
        freeFanIn(be, f);
        [ws, xs, ms].forEach((s) => be.free(s));
      }
    });
  }
});

describe('denseFanInT in the relaxed-SIMD build', () => {
  it('is bit-identical to denseCsrT there too (the same fused f32x4 steps in the same lanes)', () => {
    // Node 20 validates relaxed SIMD only behind a V8 flag; it can be set at run time before compiling.
    v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
    let be: Backend;
    try {
      be = createWasmBackendSync({ relaxed: true });
    } catch {
      return; // this runtime has no relaxed SIMD at all
    }
    const r = rng(16);
    const k = be.kernels;
    for (const [m, nIn, n, fan, dead] of SHAPES) {
      const mask = fanInMask(n, nIn, fan, r, dead);
      const [ws, xs, ms] = [be.upload(randn(n * nIn, r)), be.upload(randn(m * nIn, r)), be.upload(mask)];
      const f = k.denseToFanIn(ws, n, nIn, fan, liveCount(mask, n, nIn), ms);
      const csr = k.denseToCsr(ws, n, nIn, count(mask), ms);
      expect(read(be, k.denseFanInT(xs, m, f)), `[${m},${nIn}]×[${n},${nIn}] k ${fan}`).toEqual(read(be, k.denseCsrT(xs, m, csr)));
    }
  });
});

describe('fanInSddmm in the relaxed-SIMD build', () => {
  it('is bit-identical to sddmm (transA) on the CSR of the mask there too (the same entry groups fused in the same lanes)', () => {
    v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
    let be: Backend;
    try {
      be = createWasmBackendSync({ relaxed: true });
    } catch {
      return; // this runtime has no relaxed SIMD at all
    }
    const r = rng(19);
    const k = be.kernels;
    for (const [m, nIn, n, fan, dead] of [...SHAPES, [40, 64, 300, 20, [0, 255, 256]]] as Array<[number, number, number, number, number[]]>) {
      const mask = fanInMask(n, nIn, fan, r, dead);
      const [ws, gs, xs, ms] = [be.upload(randn(n * nIn, r)), be.upload(randn(m * n, r)), be.upload(randn(m * nIn, r)), be.upload(mask)];
      const f = k.denseToFanIn(ws, n, nIn, fan, liveCount(mask, n, nIn), ms);
      const csr = k.denseToCsr(ws, n, nIn, count(mask), ms);
      expect(read(be, k.fanInSddmm(gs, xs, m, f)), `G [${m},${n}], W [${n},${nIn}] k ${fan}`).toEqual(read(be, k.sddmm(gs, [m, n], true, xs, [m, nIn], false, csr)));
    }
  });
});

describe('denseToFanIn / fanInToDense', () => {
  for (const [name, be] of backends) {
    it(`${name}: round trip is W ⊙ M; live rows listed; columns packed as little-endian u16 pairs`, () => {
      const r = rng(15);
      const k = be.kernels;
      for (const [, nIn, n, fan, dead] of SHAPES) {
        const w = randn(n * nIn, r);
        const mask = fanInMask(n, nIn, fan, r, dead);
        const live = liveCount(mask, n, nIn);
        const [ws, ms] = [be.upload(w), be.upload(mask)];
        const f = k.denseToFanIn(ws, n, nIn, fan, live, ms);
        expect(f.live).toBe(live);
        const rows = read(be, f.liveRows);
        expect([...rows]).toEqual([...Array(n).keys()].filter((i) => fan > 0 && !dead.includes(i)));
        const packed = read(be, f.colIdx) as Int32Array;
        const cols = new Uint16Array(packed.buffer, packed.byteOffset, live * fan);
        const vals = read(be, f.values);
        for (let j = 0; j < live; j++) {
          const want = [...Array(nIn).keys()].filter((c) => mask[rows[j]! * nIn + c]);
          expect([...cols.subarray(j * fan, (j + 1) * fan)]).toEqual(want);
          expect([...vals.subarray(j * fan, (j + 1) * fan)]).toEqual(want.map((c) => w[rows[j]! * nIn + c]!));
        }
        if ((live * fan) % 2 === 1) expect(packed[packed.length - 1]! >>> 16).toBe(0);
        const back = read(be, k.fanInToDense(f));
        expect([...back]).toEqual([...w].map((v, e) => (mask[e] ? v : 0)));
        // Without a mask the non-zeros are the pattern.
        const onMask = w.map((v, e) => (mask[e] ? v : 0));
        const os = be.upload(onMask);
        const g = k.denseToFanIn(os, n, nIn, fan, live);
        expect(read(be, g.values)).toEqual(vals);
        freeFanIn(be, f);
        freeFanIn(be, g);
        [ws, ms, os].forEach((s) => be.free(s));
      }
    });

    it(`${name}: a row with another count, a wrong live count, cols > 65536 and a malformed matrix throw by name`, () => {
      const k = be.kernels;
      const x = be.upload(Float32Array.from([1, 2, 0, 0, 3, 0, 0, 0, 0]));
      expect(() => k.denseToFanIn(x, 3, 3, 1, 2)).toThrow(/denseToFanIn.*row 0.*keeps 2 entries.*k = 1/);
      expect(() => k.denseToFanIn(x, 3, 3, 2, 2)).toThrow(/denseToFanIn.*row 1.*keeps 1 entries/);
      const y = be.upload(Float32Array.from([1, 0, 0, 0, 3, 0, 0, 0, 0]));
      expect(() => k.denseToFanIn(y, 3, 3, 1, 3)).toThrow(/denseToFanIn.*2 live rows, but live = 3/);
      const wide = be.upload(new Float32Array(65537));
      expect(() => k.denseToFanIn(wide, 1, 65537, 0, 0)).toThrow(/denseToFanIn.*65537.*u16/);
      expect(() => k.denseToFanIn(y, 3, 3, 4, 0)).toThrow(/denseToFanIn.*k = 4 exceeds cols = 3/);
      const f = k.denseToFanIn(y, 3, 3, 1, 2);
      const badRows = be.upload(Int32Array.from([1, 1]));
      expect(() => k.denseFanInT(y, 3, { ...f, liveRows: badRows })).toThrow(/denseFanInT.*liveRows\[1\] = 1/);
      const badCol = be.upload(Int32Array.from([0 | (3 << 16)]));
      expect(() => k.fanInToDense({ ...f, colIdx: badCol })).toThrow(/fanInToDense.*column index 1 = 3/);
      [x, y, wide, badRows, badCol].forEach((s) => be.free(s));
      freeFanIn(be, f);
    });
  }
});

// The backward products of y = X·Wᵀ: dX = G·W (fanInDense) and dW at the stored positions (fanInSddmm), on the
// same shapes plus m = 0, a matrix with no live row, and both of wasm's fanInSddmm paths (gather-dot below 20%
// of W stored, GEMM and gather from there).
const BACKWARD_SHAPES: Array<[number, number, number, number, number[]]> = [
  ...SHAPES, [0, 9, 5, 3, []], [12, 10, 6, 3, [0, 1, 2, 3, 4, 5]], [1, 7, 9, 7, [8]],
  // Dense enough for wasm's GEMM path of fanInSddmm (≥ 20% of W stored), W's rows past one 256-row GEMM block,
  // ablated rows at the block boundary.
  [40, 64, 300, 20, [0, 255, 256]],
];

/** Dense G·(W ⊙ M) and Gᵀ·X at the stored positions in f64, with Σ|terms| for the error bound. */
function backwardReference(
  g: Float32Array, x: Float32Array, w: Float32Array, mask: Uint8Array, m: number, n: number, nIn: number,
): { dx: Float64Array; dxMag: Float64Array; dw: Float64Array; dwMag: Float64Array } {
  const dx = new Float64Array(m * nIn);
  const dxMag = new Float64Array(m * nIn);
  const dw = new Float64Array(n * nIn);
  const dwMag = new Float64Array(n * nIn);
  for (let i = 0; i < m; i++) {
    for (let r = 0; r < n; r++) {
      for (let c = 0; c < nIn; c++) {
        if (!mask[r * nIn + c]) continue;
        const a = g[i * n + r]! * w[r * nIn + c]!;
        dx[i * nIn + c]! += a;
        dxMag[i * nIn + c]! += Math.abs(a);
        const b = g[i * n + r]! * x[i * nIn + c]!;
        dw[r * nIn + c]! += b;
        dwMag[r * nIn + c]! += Math.abs(b);
      }
    }
  }
  return { dx, dxMag, dw, dwMag };
}

describe('fanInDense / fanInSddmm (the backward products)', () => {
  for (const [name, be] of backends) {
    it(`${name}: dX bit-identical to the dense GEMM G·(W ⊙ M), dW to sddmm on the CSR of the mask; both within f32 rounding of f64`, () => {
      const r = rng(17);
      const k = be.kernels;
      const before = be.bytesInUse();
      for (const [m, nIn, n, fan, dead] of BACKWARD_SHAPES) {
        const label = `G [${m},${n}], W [${n},${nIn}] k ${fan}, ablated ${dead.length}`;
        const w = randn(n * nIn, r);
        const g = randn(m * n, r);
        const x = randn(m * nIn, r);
        const mask = fanInMask(n, nIn, fan, r, dead);
        const live = liveCount(mask, n, nIn);
        const [ws, gs, xs, ms] = [be.upload(w), be.upload(g), be.upload(x), be.upload(mask)];
        const f = k.denseToFanIn(ws, n, nIn, fan, live, ms);
        const csr = k.denseToCsr(ws, n, nIn, count(mask), ms);
        const wm = k.fanInToDense(f);
        const dxS = k.fanInDense(gs, m, f);
        const dwS = k.fanInSddmm(gs, xs, m, f);
        const gemmS = k.matmul({ a: gs, b: wm, aShape: [m, n], bShape: [n, nIn], transA: false, transB: false });
        const sddS = k.sddmm(gs, [m, n], true, xs, [m, nIn], false, csr);
        const [dX, dW] = [read(be, dxS), read(be, dwS)];
        expect(dX, `${label}: dX vs G·(W ⊙ M)`).toEqual(read(be, gemmS));
        expect(dW, `${label}: dW vs sddmm`).toEqual(read(be, sddS));
        expect(dW.length).toBe(live * fan);
        const ref = backwardReference(g, x, w, mask, m, n, nIn);
        for (let e = 0; e < m * nIn; e++) {
          expect(Math.abs(dX[e]! - ref.dx[e]!), `${label}: dX[${e}]`).toBeLessThanOrEqual(1e-6 * (ref.dxMag[e]! + 1) * Math.max(1, n));
        }
        // dW is laid out like the storage's values: live row by live row, its columns in storage order.
        const rows = read(be, f.liveRows);
        const packed = read(be, f.colIdx) as Int32Array;
        const cols = new Uint16Array(packed.buffer, packed.byteOffset, live * fan);
        for (let q = 0; q < live * fan; q++) {
          const e = rows[Math.floor(q / fan)]! * nIn + cols[q]!;
          expect(Math.abs(dW[q]! - ref.dw[e]!), `${label}: dW[${q}]`).toBeLessThanOrEqual(1e-6 * (ref.dwMag[e]! + 1) * Math.max(1, m));
        }
        freeFanIn(be, f);
        [csr.rowPtr, csr.colIdx, csr.values, wm, dxS, dwS, gemmS, sddS, ws, gs, xs, ms].forEach((s) => be.free(s));
      }
      expect(be.bytesInUse()).toBe(before);
    });

    it(`${name}: dW equals the dense Gᵀ·X sampled at the stored positions, bit for bit`, () => {
      const r = rng(18);
      const k = be.kernels;
      for (const [m, nIn, n, fan, dead] of BACKWARD_SHAPES) {
        const mask = fanInMask(n, nIn, fan, r, dead);
        const live = liveCount(mask, n, nIn);
        const [ws, gs, xs, ms] = [be.upload(randn(n * nIn, r)), be.upload(randn(m * n, r)), be.upload(randn(m * nIn, r)), be.upload(mask)];
        const f = k.denseToFanIn(ws, n, nIn, fan, live, ms);
        const full = k.matmul({ a: gs, b: xs, aShape: [m, n], bShape: [m, nIn], transA: true, transB: false });
        const dense = read(be, full);
        const dW = read(be, k.fanInSddmm(gs, xs, m, f));
        const rows = read(be, f.liveRows);
        const packed = read(be, f.colIdx) as Int32Array;
        const cols = new Uint16Array(packed.buffer, packed.byteOffset, live * fan);
        const sampled = Float32Array.from({ length: live * fan }, (_, q) => dense[rows[Math.floor(q / fan)]! * nIn + cols[q]!]!);
        expect(dW, `G [${m},${n}], W [${n},${nIn}] k ${fan}`).toEqual(sampled);
        freeFanIn(be, f);
        [full, ws, gs, xs, ms].forEach((s) => be.free(s));
      }
    });

    it(`${name}: bad m, wrong G / X sizes and a malformed matrix throw naming the kernel and the shapes`, () => {
      const k = be.kernels;
      const wm = be.upload(Float32Array.from([1, 0, 0, 0, 2, 0])); // [2, 3], k = 1
      const f = k.denseToFanIn(wm, 2, 3, 1, 2);
      const g = be.upload(new Float32Array(4)); // [2, 2]
      const x = be.upload(new Float32Array(6)); // [2, 3]
      expect(() => k.fanInDense(g, -1, f)).toThrow(/fanInDense.*m/);
      expect(() => k.fanInDense(g, 1.5, f)).toThrow(/fanInDense.*m/);
      expect(() => k.fanInDense(g, 3, f)).toThrow(/fanInDense.*G \[3, 2\]/);
      expect(() => k.fanInSddmm(g, x, 3, f)).toThrow(/fanInSddmm.*G \[3, 2\]/);
      expect(() => k.fanInSddmm(g, g, 2, f)).toThrow(/fanInSddmm.*X \[2, 3\]/);
      const badRows = be.upload(Int32Array.from([1, 0]));
      expect(() => k.fanInDense(g, 2, { ...f, liveRows: badRows })).toThrow(/fanInDense.*liveRows\[1\] = 0/);
      const badCol = be.upload(Int32Array.from([0 | (3 << 16)]));
      expect(() => k.fanInSddmm(g, x, 2, { ...f, colIdx: badCol })).toThrow(/fanInSddmm.*column index 1 = 3/);
      [wm, g, x, badRows, badCol].forEach((s) => be.free(s));
      freeFanIn(be, f);
    });
  }
});
