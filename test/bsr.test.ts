// Block-sparse (BSR, 4×4 blocks) kernels on js and wasm: denseBsrT against an f64 reference of X·(W ⊙ M)ᵀ,
// the documented summation order (bit-identical to denseCsrT on the CSR of the same blocks with their zeros
// stored, and the small-m path to the 8-row panel path), dense ↔ BSR conversion with whole-block and partial
// masks, and errors that name the kernel. The conformance suite compares the backends (webgpu included).
import v8 from 'node:v8';
import { describe, expect, it } from 'vitest';
import type { Backend, BsrStorage, Storage } from '../src/backend/kernels.ts';
import { createJsBackend } from '../src/backend/js/backend.ts';
import { createWasmBackendSync } from '../src/backend/wasm/backend.ts';
import { mulberry32 as rng } from './shared/mulberry32.ts';

const backends: Array<[string, Backend]> = [['js', createJsBackend()], ['wasm', createWasmBackendSync()]];

function randn(n: number, r: () => number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = r() * 2 - 1;
  return out;
}

/** A [n, k] mask of random whole 4×4 blocks (edge blocks clipped), block rows `emptyRows` left empty. */
function blockMask(n: number, k: number, density: number, r: () => number, emptyRows: number[] = []): Uint8Array {
  const nbc = Math.ceil(k / 4);
  const keep = Array.from({ length: Math.ceil(n / 4) * nbc }, () => r() < density);
  const m = new Uint8Array(n * k);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < k; j++) if (!emptyRows.includes(i >> 2) && keep[(i >> 2) * nbc + (j >> 2)]) m[i * k + j] = 1;
  }
  return m;
}

/** Stored blocks of a keep pattern, and the pattern widened to whole blocks (what the BSR stores). */
function blocksOf(keep: ArrayLike<number>, rows: number, cols: number): { nblocks: number; widened: Uint8Array } {
  const nbc = Math.ceil(cols / 4);
  const on = new Set<number>();
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) if (keep[i * cols + j] !== 0) on.add((i >> 2) * nbc + (j >> 2));
  const widened = new Uint8Array(rows * cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) if (on.has((i >> 2) * nbc + (j >> 2))) widened[i * cols + j] = 1;
  return { nblocks: on.size, widened };
}

const read = (be: Backend, s: Storage) => (be.readSync!(s) as Float32Array).slice();
const freeBsr = (be: Backend, b: BsrStorage) => [b.blockPtr, b.blockCol, b.values].forEach((s) => be.free(s));

describe('denseBsrT', () => {
  it('X · (W ⊙ M)ᵀ for block masks: edges, empty block rows, m < 8, m not a multiple of 8, all-zero and all-one', () => {
    const r = rng(31);
    const shapes: Array<[number, number, number, number, number[]]> = [
      [1, 5, 3, 0.5, []], [3, 16, 8, 1, []], [7, 13, 10, 0.5, [1]], [8, 16, 16, 0.3, [0]], [9, 33, 17, 0.4, []],
      [37, 64, 20, 0.25, [2, 3]], [130, 21, 41, 0.5, []], [24, 12, 12, 0, []], [16, 12, 12, 1, []], [0, 4, 4, 1, []],
      [5, 0, 4, 1, []], [12, 8, 0, 1, []],
    ];
    for (const [m, k, n, density, empty] of shapes) {
      const w = randn(n * k, r);
      const x = randn(m * k, r);
      const mask = blockMask(n, k, density, r, empty);
      const { nblocks } = blocksOf(mask, n, k);
      const ref = new Float64Array(m * n);
      const mag = new Float64Array(m * n);
      for (let i = 0; i < m; i++) {
        for (let j = 0; j < n; j++) {
          for (let t = 0; t < k; t++) {
            const v = mask[j * k + t] ? x[i * k + t]! * w[j * k + t]! : 0;
            ref[i * n + j]! += v;
            mag[i * n + j]! += Math.abs(v);
          }
        }
      }
      for (const [name, be] of backends) {
        const before = be.bytesInUse();
        const sw = be.upload(w);
        const sm = be.upload(mask);
        const sx = be.upload(x);
        const b = be.kernels.denseToBsr(sw, n, k, nblocks, sm);
        expect(b.nblocks).toBe(nblocks);
        const out = be.kernels.denseBsrT(sx, m, b);
        const got = read(be, out);
        expect(got.length).toBe(m * n);
        for (let i = 0; i < m * n; i++) {
          expect(Math.abs(got[i]! - ref[i]!), `${name} ${m}x${k}·${n}x${k}ᵀ element ${i}`).toBeLessThanOrEqual(1e-6 * (mag[i]! + 1e-30) * Math.sqrt(k + 1));
        }
        for (const s of [sw, sm, sx, out]) be.free(s);
        freeBsr(be, b);
        expect(be.bytesInUse(), `${name} leaks`).toBe(before);
      }
    }
  });

  it('sums in the contract order: the same bits as denseCsrT on the CSR of the same blocks (zeros stored), and row by row', () => {
    const r = rng(32);
    for (const [m, k, n] of [[1, 7, 5], [8, 20, 12], [21, 64, 33], [64, 130, 16]] as const) {
      const w = randn(n * k, r);
      const x = randn(m * k, r);
      // A partial mask: the stored blocks carry explicit zeros, which the CSR of the widened pattern stores too.
      const mask = Uint8Array.from({ length: n * k }, () => (r() < 0.2 ? 1 : 0));
      const { nblocks, widened } = blocksOf(mask, n, k);
      const wm = w.map((v, i) => (mask[i] ? v : 0));
      let nnz = 0;
      for (const v of widened) nnz += v;
      for (const [name, be] of backends) {
        const sw = be.upload(w);
        const sm = be.upload(mask);
        const swm = be.upload(wm);
        const swide = be.upload(widened);
        const sx = be.upload(x);
        const b = be.kernels.denseToBsr(sw, n, k, nblocks, sm);
        const c = be.kernels.denseToCsr(swm, n, k, nnz, swide);
        const ob = be.kernels.denseBsrT(sx, m, b);
        const oc = be.kernels.denseCsrT(sx, m, c);
        const gb = read(be, ob);
        expect(Array.from(gb), `${name} ${m}x${k}x${n}`).toEqual(Array.from(read(be, oc)));
        // One row at a time (wasm: the direct small-m path) gives the batched rows' bits.
        for (let i = 0; i < Math.min(m, 3); i++) {
          const xi = be.upload(x.slice(i * k, (i + 1) * k));
          const oi = be.kernels.denseBsrT(xi, 1, b);
          expect(Array.from(read(be, oi)), `${name} row ${i}`).toEqual(Array.from(gb.slice(i * n, (i + 1) * n)));
          be.free(xi);
          be.free(oi);
        }
        for (const s of [sw, sm, swm, swide, sx, ob, oc, c.rowPtr, c.colIdx, c.values]) be.free(s);
        freeBsr(be, b);
      }
    }
  });

  it('multiplies every stored value, edge padding included, by X zero-padded to whole blocks', () => {
    // A hand-made [3, 3] BSR with one block whose padding (row 3, column 3) holds non-zero values.
    const values = Float32Array.from({ length: 16 }, (_, i) => i + 1);
    const x = Float32Array.from([1, 2, 3, 4, 5, 6]);
    for (const [name, be] of backends) {
      const w: BsrStorage = {
        rows: 3, cols: 3, nblocks: 1,
        blockPtr: be.upload(Int32Array.from([0, 1])), blockCol: be.upload(Int32Array.from([0])), values: be.upload(values),
      };
      const sx = be.upload(x);
      const so = be.kernels.denseBsrT(sx, 2, w);
      const out = read(be, so);
      be.free(so);
      // W[r, c] = values[4c + r] + …: row r of the output is Σ_c values[4c + r]·x[c] over c < 3.
      const expected = [0, 1].flatMap((i) => [0, 1, 2].map((rr) => [0, 1, 2].reduce((s, c) => s + values[4 * c + rr]! * x[3 * i + c]!, 0)));
      expect(Array.from(out), name).toEqual(expected);
      const dense = be.kernels.bsrToDense(w);
      expect(Array.from(read(be, dense)), name).toEqual([1, 5, 9, 2, 6, 10, 3, 7, 11]);
      for (const s of [sx, dense]) be.free(s);
      freeBsr(be, w);
    }
  });
});

describe('denseBsrT in the relaxed-SIMD build', () => {
  it('agrees with the default build within the reduction tolerance', () => {
    // Node 20 validates relaxed SIMD only behind a V8 flag; it can be set at run time before compiling.
    v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
    let relaxed: Backend;
    try {
      relaxed = createWasmBackendSync({ relaxed: true });
    } catch {
      return; // this runtime has no relaxed SIMD at all
    }
    const r = rng(34);
    for (const [m, k, n] of [[3, 20, 9], [37, 64, 30]] as const) {
      const w = randn(n * k, r);
      const x = randn(m * k, r);
      const mask = blockMask(n, k, 0.5, r);
      const { nblocks } = blocksOf(mask, n, k);
      const outs = [backends[1]![1], relaxed].map((be) => {
        const b = be.kernels.denseToBsr(be.upload(w), n, k, nblocks, be.upload(mask));
        return read(be, be.kernels.denseBsrT(be.upload(x), m, b));
      });
      for (let i = 0; i < m * n; i++) expect(Math.abs(outs[1]![i]! - outs[0]![i]!)).toBeLessThanOrEqual(1e-5 * Math.sqrt(k) * Math.max(1, Math.abs(outs[0]![i]!)));
    }
  });
});

describe('dense ↔ BSR', () => {
  it('whole-block masks store no zeros; partial masks store the dropped positions of a stored block as 0', () => {
    const r = rng(33);
    const [n, k] = [10, 14];
    const w = randn(n * k, r);
    const whole = blockMask(n, k, 0.5, r);
    const partial = Uint8Array.from({ length: n * k }, () => (r() < 0.1 ? 1 : 0));
    for (const [name, be] of backends) {
      for (const [what, mask] of [['whole', whole], ['partial', partial]] as const) {
        const { nblocks } = blocksOf(mask, n, k);
        const sw = be.upload(w);
        const sm = be.upload(mask);
        const b = be.kernels.denseToBsr(sw, n, k, nblocks, sm);
        const dense = read(be, be.kernels.bsrToDense(b));
        expect(Array.from(dense), `${name} ${what}`).toEqual(Array.from(w, (v, i) => (mask[i] ? v : 0)));
        const ptr = Array.from(be.readSync!(b.blockPtr));
        expect(ptr.length).toBe(Math.ceil(n / 4) + 1);
        expect(ptr[ptr.length - 1]).toBe(nblocks);
        const cols = Array.from(be.readSync!(b.blockCol));
        for (let bi = 0; bi + 1 < ptr.length; bi++) {
          const row = cols.slice(ptr[bi], ptr[bi + 1]);
          expect(row, 'block columns increase within a block row').toEqual([...row].sort((a, c) => a - c));
        }
        // Column-major blocks: values[16p + 4c + rr] = W[4bi + rr, 4bj + c] where kept.
        const vals = read(be, b.values);
        const bi0 = ptr.findIndex((p, i) => i + 1 < ptr.length && ptr[i + 1]! > p);
        const p = ptr[bi0]!;
        for (let c = 0; c < 4; c++) {
          for (let rr = 0; rr < 4; rr++) {
            const i = 4 * bi0 + rr;
            const j = 4 * cols[p]! + c;
            const expected = i < n && j < k && mask[i * k + j] ? w[i * k + j]! : 0;
            expect(vals[16 * p + 4 * c + rr]).toBe(expected);
          }
        }
        if (what === 'whole') {
          let kept = 0;
          for (const v of mask) kept += v;
          // Edge blocks of [10, 14] are clipped: only in-matrix positions count, the rest is padding.
          expect(nblocks * 16).toBeGreaterThanOrEqual(kept);
        }
        for (const s of [sw, sm]) be.free(s);
        freeBsr(be, b);
      }
    }
  });

  it('without a mask keeps x != 0 (NaN kept, -0 dropped), and round-trips', () => {
    const x = new Float32Array(6 * 9);
    x[0] = -0;
    x[5] = NaN;
    x[6 * 9 - 1] = 2.5;
    x[4 * 9 + 1] = -1;
    for (const [name, be] of backends) {
      const sx = be.upload(x);
      const b = be.kernels.denseToBsr(sx, 6, 9, 3);
      expect(Array.from(be.readSync!(b.blockPtr)), name).toEqual([0, 1, 3]);
      expect(Array.from(be.readSync!(b.blockCol)), name).toEqual([1, 0, 2]);
      const back = read(be, be.kernels.bsrToDense(b));
      expect(Array.from(back).map((v) => (Number.isNaN(v) ? 'NaN' : v)), name).toEqual(Array.from(x).map((v) => (Number.isNaN(v) ? 'NaN' : v === 0 ? 0 : v)));
      be.free(sx);
      freeBsr(be, b);
    }
  });
});

describe('errors name the kernel', () => {
  it('a wrong block count, a malformed BSR, and mismatched shapes', () => {
    for (const [name, be] of backends) {
      const x = be.upload(new Float32Array(8 * 8).fill(1));
      expect(() => be.kernels.denseToBsr(x, 8, 8, 3), name).toThrow(/^denseToBsr: x \[8, 8\] has 4 non-empty 4×4 blocks, but nblocks = 3 was passed$/);
      const mask = be.upload(new Uint8Array(64));
      expect(() => be.kernels.denseToBsr(x, 8, 8, 1, mask), name).toThrow(/^denseToBsr: the mask \[8, 8\] has 0 non-empty 4×4 blocks, but nblocks = 1/);
      const mk = (ptr: number[], col: number[]): BsrStorage => ({
        rows: 8, cols: 8, nblocks: col.length,
        blockPtr: be.upload(Int32Array.from(ptr)), blockCol: be.upload(Int32Array.from(col)), values: be.upload(new Float32Array(16 * col.length)),
      });
      expect(() => be.kernels.denseBsrT(x, 8, mk([0, 1, 2], [0, 2])), name).toThrow(/^denseBsrT: .*blockCol\[1\] = 2 is out of range \[0, 2\)/);
      expect(() => be.kernels.bsrToDense(mk([0, 2, 1], [0])), name).toThrow(/^bsrToDense: .*blockPtr\[1\] = 2/);
      expect(() => be.kernels.denseBsrT(x, 8, mk([0, 1], [0])), name).toThrow(/^denseBsrT: .*blockPtr.*(holds 2 elements|has 2 elements)/);
      expect(() => be.kernels.denseBsrT(x, 7, mk([0, 1, 2], [0, 1])), name).toThrow(/^denseBsrT: .*X.*\[7, 8\]/i);
    }
  });
});

describe('bsrSddmm (the weight gradient at the stored blocks)', () => {
  // [m, rows, cols, block density, empty block rows]: edges on both sides, m = 1, m = 0, no stored block,
  // m past the packed tile's rows (several tiles resume from the partial sums).
  const SHAPES: Array<[number, number, number, number, number[]]> = [
    [1, 5, 3, 0.6, []], [7, 13, 10, 0.5, [1]], [8, 16, 16, 0.3, [0]], [37, 17, 33, 0.4, []], [300, 20, 9, 0.5, [2]],
    [0, 9, 6, 1, []], [12, 8, 8, 0, []], [5, 4, 4, 1, []], [100, 601, 298, 0.05, [3]],
  ];
  for (const [name, be] of backends) {
    it(`${name}: bit-identical to sddmm (transA) on the CSR of the blocks' in-range positions, within f32 rounding of f64, 0 past the edge`, () => {
      const r = rng(33);
      const k = be.kernels;
      const before = be.bytesInUse();
      for (const [m, rows, cols, density, empty] of SHAPES) {
        const label = `G [${m},${rows}], X [${m},${cols}], density ${density}`;
        const mask = blockMask(rows, cols, density, r, empty);
        const { nblocks, widened } = blocksOf(mask, rows, cols);
        let nnz = 0;
        for (const v of widened) nnz += v;
        const g = randn(m * rows, r);
        const x = randn(m * cols, r);
        const [sw, sm, sg, sx, swide] = [be.upload(randn(rows * cols, r)), be.upload(mask), be.upload(g), be.upload(x), be.upload(widened)];
        const b = k.denseToBsr(sw, rows, cols, nblocks, sm);
        const csr = k.denseToCsr(sw, rows, cols, nnz, swide);
        const ob = k.bsrSddmm(sg, sx, m, b);
        const oc = k.sddmm(sg, [m, rows], true, sx, [m, cols], false, csr);
        const out = read(be, ob);
        expect(out.length).toBe(16 * nblocks);
        // Both as dense [rows, cols] gradients (the BSR's in-range positions), NaN for positions neither stores.
        const fromBsr = new Float32Array(rows * cols).fill(NaN);
        const ptr = be.readSync!(b.blockPtr) as Int32Array;
        const bcol = be.readSync!(b.blockCol) as Int32Array;
        for (let bi = 0; bi < Math.ceil(rows / 4); bi++) {
          for (let p = ptr[bi]!; p < ptr[bi + 1]!; p++) {
            for (let c = 0; c < 4; c++) {
              for (let rr = 0; rr < 4; rr++) {
                const [i, j] = [4 * bi + rr, 4 * bcol[p]! + c];
                const v = out[16 * p + 4 * c + rr]!;
                if (i < rows && j < cols) fromBsr[i * cols + j] = v;
                else expect(Object.is(v, 0), `${label}: block ${p} (${rr}, ${c}) past the edge`).toBe(true);
              }
            }
          }
        }
        const fromCsr = new Float32Array(rows * cols).fill(NaN);
        const rp = be.readSync!(csr.rowPtr) as Int32Array;
        const ci = be.readSync!(csr.colIdx) as Int32Array;
        const vc = read(be, oc);
        for (let i = 0; i < rows; i++) for (let p = rp[i]!; p < rp[i + 1]!; p++) fromCsr[i * cols + ci[p]!] = vc[p]!;
        expect(fromBsr, label).toEqual(fromCsr);
        for (let i = 0; i < rows; i++) {
          for (let j = 0; j < cols; j++) {
            if (!widened[i * cols + j]) continue;
            let ref = 0;
            let mag = 0;
            for (let t = 0; t < m; t++) {
              ref += g[t * rows + i]! * x[t * cols + j]!;
              mag += Math.abs(g[t * rows + i]! * x[t * cols + j]!);
            }
            expect(Math.abs(fromBsr[i * cols + j]! - ref), `${label}: (${i}, ${j})`).toBeLessThanOrEqual(1e-6 * (mag + 1) * Math.max(1, m));
          }
        }
        for (const s of [sw, sm, sg, sx, swide, ob, oc, csr.rowPtr, csr.colIdx, csr.values]) be.free(s);
        freeBsr(be, b);
      }
      expect(be.bytesInUse()).toBe(before);
    });

    it(`${name}: positions past the edge are 0 even where G · X there would be NaN (X = ±∞)`, () => {
      const k = be.kernels;
      const [m, rows, cols] = [3, 5, 6];
      const x = new Float32Array(m * cols).fill(Infinity);
      const g = new Float32Array(m * rows).fill(1);
      const [sw, sg, sx] = [be.upload(new Float32Array(rows * cols).fill(1)), be.upload(g), be.upload(x)];
      const b = k.denseToBsr(sw, rows, cols, 4);
      const ob = k.bsrSddmm(sg, sx, m, b);
      const out = read(be, ob);
      const bcol = be.readSync!(b.blockCol) as Int32Array;
      for (let p = 0; p < 4; p++) {
        const bi = p >> 1;
        for (let c = 0; c < 4; c++) {
          for (let rr = 0; rr < 4; rr++) {
            const inside = 4 * bi + rr < rows && 4 * bcol[p]! + c < cols;
            expect(out[16 * p + 4 * c + rr], `block ${p} (${rr}, ${c})`).toBe(inside ? Infinity : 0);
          }
        }
      }
      for (const s of [sw, sg, sx, ob]) be.free(s);
      freeBsr(be, b);
    });

    it(`${name}: bad m, wrong G / X sizes and a malformed BSR throw naming the kernel and the shapes`, () => {
      const k = be.kernels;
      const ones = be.upload(new Float32Array(8 * 8).fill(1));
      const b = k.denseToBsr(ones, 8, 8, 4);
      const g = be.upload(new Float32Array(16)); // [2, 8]
      expect(() => k.bsrSddmm(g, g, -1, b)).toThrow(/bsrSddmm.*m/);
      expect(() => k.bsrSddmm(g, g, 3, b)).toThrow(/bsrSddmm.*G \[3, 8\]/);
      const x = be.upload(new Float32Array(10));
      expect(() => k.bsrSddmm(g, x, 2, b)).toThrow(/bsrSddmm.*X \[2, 8\]/);
      const badCol = be.upload(Int32Array.from([0, 1, 0, 2]));
      expect(() => k.bsrSddmm(g, g, 2, { ...b, blockCol: badCol })).toThrow(/bsrSddmm.*blockCol\[3\] = 2/);
      [ones, g, x, badCol].forEach((s) => be.free(s));
      freeBsr(be, b);
    });
  }
});
