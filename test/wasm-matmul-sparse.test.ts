// Wasm matmul (packed SIMD GEMM) and sparse kernels against a naive f64 reference written here, and against
// the js backend where it is available.
import v8 from 'node:v8';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Backend, CsrStorage, Kernels, Storage } from '../src/backend/kernels.ts';
import { createWasmBackendSync, type WasmBackend } from '../src/backend/wasm/backend.ts';
import { mulberry32 as rng } from './shared/mulberry32.ts';

let wasm: WasmBackend;
let js: Backend | undefined;

beforeAll(async () => {
  wasm = createWasmBackendSync();
  try {
    const mod = await import('../src/backend/js/backend.ts');
    js = mod.createJsBackend();
  } catch {
    js = undefined; // js backend not available yet: the f64 reference alone is used
  }
});

function randn(n: number, r: () => number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = r() * 2 - 1;
  return out;
}

const prod = (xs: number[]) => xs.reduce((a, b) => a * b, 1);

/** Naive f64 batched matmul with broadcasting; also returns Σ|a·b| per element (for the tolerance). */
function refMatmul(
  a: Float32Array, aShape: number[], transA: boolean,
  b: Float32Array, bShape: number[], transB: boolean,
  bias?: Float32Array,
): { out: Float64Array; mag: Float64Array; shape: number[]; k: number } {
  const ra = aShape.length;
  const rb = bShape.length;
  const m = transA ? aShape[ra - 1]! : aShape[ra - 2]!;
  const k = transA ? aShape[ra - 2]! : aShape[ra - 1]!;
  const n = transB ? bShape[rb - 2]! : bShape[rb - 1]!;
  const ab = aShape.slice(0, -2);
  const bb = bShape.slice(0, -2);
  const nb = Math.max(ab.length, bb.length);
  const pa = [...new Array(nb - ab.length).fill(1), ...ab];
  const pb = [...new Array(nb - bb.length).fill(1), ...bb];
  const ob = pa.map((d, i) => (d === 1 ? pb[i]! : d));
  const batch = prod(ob);
  const out = new Float64Array(batch * m * n);
  const mag = new Float64Array(batch * m * n);
  for (let t = 0; t < batch; t++) {
    // Unflatten t over ob, then index a and b with broadcasting.
    let rem = t;
    let ia = 0;
    let ib = 0;
    let sa = 1;
    let sb = 1;
    for (let d = nb - 1; d >= 0; d--) {
      const idx = rem % ob[d]!;
      rem = Math.floor(rem / ob[d]!);
      if (pa[d] !== 1) ia += idx * sa;
      if (pb[d] !== 1) ib += idx * sb;
      sa *= pa[d]!;
      sb *= pb[d]!;
    }
    const ao = ia * m * k;
    const bo = ib * k * n;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        let g = 0;
        for (let p = 0; p < k; p++) {
          const av = a[ao + (transA ? p * m + i : i * k + p)]!;
          const bv = b[bo + (transB ? j * k + p : p * n + j)]!;
          s += av * bv;
          g += Math.abs(av * bv);
        }
        if (bias) {
          s += bias[j]!;
          g += Math.abs(bias[j]!);
        }
        out[(t * m + i) * n + j] = s;
        mag[(t * m + i) * n + j] = g;
      }
    }
  }
  return { out, mag, shape: [...ob, m, n], k };
}

function expectClose(got: ArrayLike<number>, ref: ArrayLike<number>, mag: ArrayLike<number>, k: number, what: string): void {
  expect(got.length, `${what}: length`).toBe(ref.length);
  const tol = 1e-5 * Math.sqrt(Math.max(k, 1));
  let worst = 0;
  let at = -1;
  for (let i = 0; i < ref.length; i++) {
    const err = Math.abs(got[i]! - ref[i]!) / (mag[i]! + 1e-30);
    if (!(err <= tol) && Math.abs(got[i]! - ref[i]!) > 1e-30) {
      if (!(err <= worst)) {
        worst = err;
        at = i;
      }
    }
  }
  expect(at, `${what}: worst relative error ${worst} at ${at} (got ${got[at]}, ref ${ref[at]})`).toBe(-1);
}

function runMatmul(
  be: Backend, a: Float32Array, aShape: number[], transA: boolean,
  b: Float32Array, bShape: number[], transB: boolean, bias?: Float32Array,
): Float32Array {
  const sa = be.upload(a);
  const sb = be.upload(b);
  const sbias = bias ? be.upload(bias) : undefined;
  const out = be.kernels.matmul({ a: sa, b: sb, aShape, bShape, transA, transB, bias: sbias });
  const res = be.readSync!(out) as Float32Array;
  for (const s of [sa, sb, out, ...(sbias ? [sbias] : [])]) be.free(s);
  return res;
}

function checkMatmul(
  aBatch: number[], bBatch: number[], m: number, n: number, k: number,
  transA: boolean, transB: boolean, withBias: boolean, seed: number, be: Backend = wasm,
): void {
  const r = rng(seed);
  const aShape = [...aBatch, ...(transA ? [k, m] : [m, k])];
  const bShape = [...bBatch, ...(transB ? [n, k] : [k, n])];
  const a = randn(prod(aShape), r);
  const b = randn(prod(bShape), r);
  const bias = withBias ? randn(n, r) : undefined;
  const what = `[${aShape}]${transA ? 'ᵀ' : ''}·[${bShape}]${transB ? 'ᵀ' : ''}${withBias ? '+bias' : ''}`;
  const ref = refMatmul(a, aShape, transA, b, bShape, transB, bias);
  const got = runMatmul(be, a, aShape, transA, b, bShape, transB, bias);
  expectClose(got, ref.out, ref.mag, k, `wasm ${what}`);
  // Deterministic: a second run is bit-identical.
  const again = runMatmul(be, a, aShape, transA, b, bShape, transB, bias);
  expect(Buffer.compare(Buffer.from(got.buffer), Buffer.from(again.buffer)), `${what}: rerun differs`).toBe(0);
  if (js) {
    const j = runMatmul(js, a, aShape, transA, b, bShape, transB, bias);
    expectClose(got, j, ref.mag, k, `wasm vs js ${what}`);
  }
}

describe('wasm matmul', () => {
  const sizes = [1, 3, 4, 7, 8, 17, 33];
  it('all transpose combos over small odd shapes', () => {
    let seed = 1;
    for (const m of sizes) {
      for (const n of sizes) {
        for (const k of [1, 5, 17, 33]) {
          for (const tA of [false, true]) {
            for (const tB of [false, true]) checkMatmul([], [], m, n, k, tA, tB, (m + n + k) % 2 === 0, seed++);
          }
        }
      }
    }
  });

  it('sizes around the register tile and cache blocks (127, 260 > KC, 200 > MC, 1030 > NC)', () => {
    let seed = 100;
    for (const [m, n, k] of [[127, 127, 127], [200, 33, 260], [9, 1030, 20], [64, 64, 512], [130, 72, 300]] as const) {
      for (const tA of [false, true]) {
        for (const tB of [false, true]) checkMatmul([], [], m, n, k, tA, tB, true, seed++);
      }
    }
  });

  it('empty dimensions', () => {
    let seed = 200;
    for (const [m, n, k] of [[0, 3, 4], [3, 0, 4], [3, 4, 0], [0, 0, 0], [1, 1, 0]] as const) {
      for (const bias of [false, true]) checkMatmul([], [], m, n, k, false, false, bias, seed++);
      checkMatmul([2], [2], m, n, k, true, true, true, seed++);
    }
    checkMatmul([0], [1], 2, 2, 2, false, false, false, seed++);
    checkMatmul([2, 0], [0], 3, 5, 2, true, false, true, seed++);
  });

  it('batched and broadcast batch dims', () => {
    let seed = 300;
    const cases: Array<[number[], number[]]> = [
      [[2, 1], [3]], [[3], []], [[], [4]], [[2, 3], [2, 3]], [[2, 1, 3], [1, 4, 1]], [[1], [5]], [[5], [1]],
      [[4], [4]], [[2, 2], [1]],
    ];
    for (const [ab, bb] of cases) {
      for (const tA of [false, true]) {
        for (const tB of [false, true]) checkMatmul(ab, bb, 7, 9, 13, tA, tB, seed % 3 === 0, seed++);
      }
    }
    // Batch folded into m (B shared), with edge tiles.
    checkMatmul([3, 5], [], 17, 33, 70, false, false, true, seed++);
    checkMatmul([3, 5], [1, 1], 17, 33, 70, false, true, false, seed++);
  });

  it('sums in increasing k: bit-identical to a sequential f32 loop (default build)', () => {
    const r = rng(7);
    // Two KC blocks; a narrow C (n < 8, computed transposed); op(A) transposed (the weight-gradient packing);
    // op(A) read in place (m a multiple of 4, n ≤ 64: gemm.ts directA) with several row blocks, an edge column
    // tile, two KC blocks, B transposed (a Linear layer's X·Wᵀ).
    const cases: Array<[number, number, number, boolean, boolean?]> = [
      [13, 21, 300, false], [37, 5, 300, false], [12, 7, 1030, true], [20, 16, 70, true],
      [100, 64, 64, false, true], [24, 21, 1030, false], [52, 13, 40, false, true],
    ];
    for (const [m, n, k, transA, transB = false] of cases) {
      const a = randn(m * k, r);
      const b = randn(k * n, r);
      const bias = randn(n, r);
      const got = runMatmul(wasm, a, transA ? [k, m] : [m, k], transA, b, transB ? [n, k] : [k, n], transB, bias);
      const want = new Float32Array(m * n);
      for (let i = 0; i < m; i++) {
        for (let j = 0; j < n; j++) {
          let s = 0;
          for (let p = 0; p < k; p++) s = Math.fround(s + Math.fround(a[transA ? p * m + i : i * k + p]! * b[transB ? j * k + p : p * n + j]!));
          want[i * n + j] = Math.fround(s + bias[j]!);
        }
      }
      expect(Array.from(got), `${m}×${n}×${k}${transA ? ' Aᵀ' : ''}${transB ? ' Bᵀ' : ''}`).toEqual(Array.from(want));
    }
  });

  it('rejects mismatched shapes', () => {
    const a = wasm.upload(new Float32Array(6));
    const b = wasm.upload(new Float32Array(6));
    expect(() => wasm.kernels.matmul({ a, b, aShape: [2, 3], bShape: [2, 3], transA: false, transB: false })).toThrow(/matmul/);
    expect(() => wasm.kernels.matmul({ a, b, aShape: [2, 3], bShape: [6, 1], transA: false, transB: false })).toThrow(/matmul/);
    wasm.free(a);
    wasm.free(b);
  });
});

// ---- sparse ------------------------------------------------------------------------------------

interface HostCsr {
  rows: number;
  cols: number;
  rowPtr: Int32Array;
  colIdx: Int32Array;
  values: Float32Array;
}

function randomCsr(rows: number, cols: number, density: number, r: () => number, emptyRows = true): HostCsr {
  const rp = [0];
  const ci: number[] = [];
  const vs: number[] = [];
  for (let i = 0; i < rows; i++) {
    const skip = emptyRows && i % 5 === 2; // some empty rows
    for (let j = 0; j < cols; j++) {
      if (!skip && j % 7 !== 3 && r() < density) { // column 3 (mod 7) always empty
        ci.push(j);
        vs.push(r() * 2 - 1);
      }
    }
    rp.push(ci.length);
  }
  return { rows, cols, rowPtr: Int32Array.from(rp), colIdx: Int32Array.from(ci), values: Float32Array.from(vs) };
}

function toDense(a: HostCsr): Float32Array {
  const d = new Float32Array(a.rows * a.cols);
  for (let i = 0; i < a.rows; i++) {
    for (let p = a.rowPtr[i]!; p < a.rowPtr[i + 1]!; p++) d[i * a.cols + a.colIdx[p]!] = a.values[p]!;
  }
  return d;
}

function upCsr(be: Backend, a: HostCsr): CsrStorage {
  return {
    rows: a.rows, cols: a.cols, nnz: a.colIdx.length,
    rowPtr: be.upload(a.rowPtr), colIdx: be.upload(a.colIdx), values: be.upload(a.values),
  };
}

function freeCsr(be: Backend, a: CsrStorage): void {
  be.free(a.rowPtr);
  be.free(a.colIdx);
  be.free(a.values);
}

function readF(be: Backend, s: Storage): Float32Array {
  return be.readSync!(s) as Float32Array;
}

/** f64 dense product with magnitudes: op(A)[m,k] given by accessor. */
function refDense(m: number, n: number, k: number, A: (i: number, t: number) => number, B: (t: number, j: number) => number) {
  const out = new Float64Array(m * n);
  const mag = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      let g = 0;
      for (let t = 0; t < k; t++) {
        const v = A(i, t) * B(t, j);
        s += v;
        g += Math.abs(v);
      }
      out[i * n + j] = s;
      mag[i * n + j] = g;
    }
  }
  return { out, mag };
}

function both(fn: (be: Backend, name: string) => void): void {
  fn(wasm, 'wasm');
  if (js) fn(js, 'js');
}

describe('wasm sparse kernels', () => {
  it('spmm: CSR × dense, odd widths, empty rows/cols', () => {
    const r = rng(11);
    for (const [m, k, n, dens] of [[1, 1, 1, 1], [9, 13, 1, 0.5], [17, 33, 37, 0.3], [40, 20, 70, 0.2], [5, 8, 3, 0], [0, 4, 5, 0.5], [6, 0, 5, 0.5], [6, 5, 0, 0.5], [4, 3000, 70, 0.02]] as const) {
      const a = randomCsr(m, k, dens, r);
      const b = randn(k * n, r);
      const dense = toDense(a);
      const ref = refDense(m, n, k, (i, t) => dense[i * k + t]!, (t, j) => b[t * n + j]!);
      const sa = upCsr(wasm, a);
      const sb = wasm.upload(b);
      const out = wasm.kernels.spmm(sa, sb, n);
      const got = readF(wasm, out);
      expectClose(got, ref.out, ref.mag, k, `spmm ${m}x${k}x${n}`);
      if (js) {
        const ja = upCsr(js, a);
        const jb = js.upload(b);
        expectClose(got, readF(js, js.kernels.spmm(ja, jb, n)), ref.mag, k, `spmm vs js ${m}x${k}x${n}`);
      }
      freeCsr(wasm, sa);
      wasm.free(sb);
      wasm.free(out);
    }
  });

  it('denseCsrT: X · Wᵀ with sparse W (small m gather path and m ≥ 8 transpose path agree bitwise)', () => {
    const r = rng(12);
    for (const [m, k, n] of [[1, 5, 3], [3, 17, 9], [8, 33, 17], [37, 20, 41], [130, 64, 7], [0, 3, 4], [4, 3, 0]] as const) {
      const w = randomCsr(n, k, 0.35, r);
      const x = randn(m * k, r);
      const wd = toDense(w);
      const ref = refDense(m, n, k, (i, t) => x[i * k + t]!, (t, j) => wd[j * k + t]!);
      const sw = upCsr(wasm, w);
      const sx = wasm.upload(x);
      const out = wasm.kernels.denseCsrT(sx, m, sw);
      const got = readF(wasm, out);
      expectClose(got, ref.out, ref.mag, k, `denseCsrT ${m}x${k}·${n}x${k}ᵀ`);
      // Row by row (m = 1, gather path) gives the same bits as the batched transpose path.
      for (let i = 0; i < Math.min(m, 3); i++) {
        const xi = wasm.upload(x.slice(i * k, (i + 1) * k));
        const oi = wasm.kernels.denseCsrT(xi, 1, sw);
        expect(Array.from(readF(wasm, oi))).toEqual(Array.from(got.slice(i * n, (i + 1) * n)));
        wasm.free(xi);
        wasm.free(oi);
      }
      if (js) {
        const jw = upCsr(js, w);
        expectClose(got, readF(js, js.kernels.denseCsrT(js.upload(x), m, jw)), ref.mag, k, `denseCsrT vs js`);
      }
      freeCsr(wasm, sw);
      wasm.free(sx);
      wasm.free(out);
    }
  });

  it('sddmm: all transpose combos, values at the pattern', () => {
    const r = rng(13);
    // Dense patterns take the GEMM + gather path, sparse ones (< 20% filled) the gather kernel with its
    // 8-, 4- and 1-entry groups and t blocks (n = 2000 gives 32-wide t blocks); both sum in the same order.
    const cases = [
      [1, 1, 1, 0.6], [5, 7, 3, 0.6], [17, 9, 33, 0.6], [12, 30, 8, 0.6], [6, 6, 0, 0.6], [4, 4, 13, 0.6],
      [12, 300, 37, 0.1], [5, 2000, 70, 0.05], [9, 64, 5, 0.15], [3, 40, 0, 0.1],
    ] as const;
    for (const [m, n, k, density] of cases) {
      for (const tA of [false, true]) {
        for (const tB of [false, true]) {
          const pat = randomCsr(m, n, density, r);
          const a = randn(m * k, r);
          const b = randn(k * n, r);
          const aShape: [number, number] = tA ? [k, m] : [m, k];
          const bShape: [number, number] = tB ? [n, k] : [k, n];
          const A = (i: number, t: number) => a[tA ? t * m + i : i * k + t]!;
          const B = (t: number, j: number) => b[tB ? j * k + t : t * n + j]!;
          const ref = refDense(m, n, k, A, B);
          const want = new Float64Array(pat.colIdx.length);
          const mag = new Float64Array(pat.colIdx.length);
          for (let i = 0; i < m; i++) {
            for (let p = pat.rowPtr[i]!; p < pat.rowPtr[i + 1]!; p++) {
              want[p] = ref.out[i * n + pat.colIdx[p]!]!;
              mag[p] = ref.mag[i * n + pat.colIdx[p]!]!;
            }
          }
          const sp = upCsr(wasm, pat);
          const sa = wasm.upload(a);
          const sb = wasm.upload(b);
          const out = wasm.kernels.sddmm(sa, aShape, tA, sb, bShape, tB, sp);
          const got = readF(wasm, out);
          expectClose(got, want, mag, k, `sddmm ${m}x${n}x${k} density ${density} tA=${tA} tB=${tB}`);
          // Fixed order: identical to a sequential f32 sum.
          for (let i = 0; i < m; i++) {
            for (let p = pat.rowPtr[i]!; p < pat.rowPtr[i + 1]!; p++) {
              let s = 0;
              for (let t = 0; t < k; t++) s = Math.fround(s + Math.fround(A(i, t) * B(t, pat.colIdx[p]!)));
              expect(got[p]).toBe(s);
            }
          }
          if (js) {
            const jo = js.kernels.sddmm(js.upload(a), aShape, tA, js.upload(b), bShape, tB, upCsr(js, pat));
            expectClose(got, readF(js, jo), mag, k, 'sddmm vs js');
          }
          freeCsr(wasm, sp);
          wasm.free(sa);
          wasm.free(sb);
          wasm.free(out);
        }
      }
    }
  });

  it('denseToCsr / csrToDense round trip, with and without masks', () => {
    const r = rng(14);
    for (const [rows, cols] of [[1, 1], [3, 17], [9, 40], [0, 5], [5, 0], [16, 33]] as const) {
      const x = new Float32Array(rows * cols);
      for (let i = 0; i < x.length; i++) x[i] = r() < 0.4 ? r() * 2 - 1 : 0;
      const masks: Array<[string, Uint8Array | undefined]> = [
        ['none', undefined],
        ['zeros', new Uint8Array(rows * cols)],
        ['ones', new Uint8Array(rows * cols).fill(1)],
        ['random', Uint8Array.from({ length: rows * cols }, () => (r() < 0.5 ? 1 : 0))],
      ];
      for (const [name, mask] of masks) {
        both((be, bname) => {
          const sx = be.upload(x);
          const sm = mask ? be.upload(mask) : undefined;
          let nnz = 0;
          for (let i = 0; i < rows * cols; i++) if (mask ? mask[i] !== 0 : x[i] !== 0) nnz++;
          // A wrong nnz is rejected, naming the kernel and both counts, and leaves nothing allocated.
          const before = be.bytesInUse();
          expect(() => be.kernels.denseToCsr(sx, rows, cols, nnz + 1, sm), bname).toThrow(
            new RegExp(`^denseToCsr: ${mask ? 'the mask' : 'x'} \\[${rows}, ${cols}\\] has ${nnz} stored entries, but nnz = ${nnz + 1}`),
          );
          expect(be.bytesInUse(), `${bname}: a rejected nnz frees what the kernel allocated`).toBe(before);
          const csr = be.kernels.denseToCsr(sx, rows, cols, nnz, sm);
          const rp = be.readSync!(csr.rowPtr) as Int32Array;
          const ci = be.readSync!(csr.colIdx) as Int32Array;
          const vs = readF(be, csr.values);
          const wantCi: number[] = [];
          const wantRp = [0];
          for (let i = 0; i < rows; i++) {
            for (let j = 0; j < cols; j++) {
              const keep = mask ? mask[i * cols + j] !== 0 : x[i * cols + j] !== 0;
              if (keep) wantCi.push(j);
            }
            wantRp.push(wantCi.length);
          }
          const what = `${bname} denseToCsr ${rows}x${cols} mask=${name}`;
          expect(csr.nnz, what).toBe(wantCi.length);
          expect(Array.from(rp), what).toEqual(wantRp);
          expect(Array.from(ci), what).toEqual(wantCi);
          for (let p = 0; p < ci.length; p++) {
            const i = wantRp.findIndex((v) => v > p) - 1;
            expect(vs[p]).toBe(x[i * cols + ci[p]!]);
          }
          const back = readF(be, be.kernels.csrToDense(csr));
          const want = mask ? x.map((v, i) => (mask[i] ? v : 0)) : x;
          expect(Array.from(back), what).toEqual(Array.from(want));
        });
      }
    }
  });

  function refTopK(x: Float32Array, cand: Uint8Array, k: number): Uint8Array {
    const idx: number[] = [];
    for (let i = 0; i < x.length; i++) if (cand[i]) idx.push(i);
    idx.sort((p, q) => Math.abs(x[q]!) - Math.abs(x[p]!) || p - q);
    const out = new Uint8Array(x.length);
    for (const i of idx.slice(0, k)) out[i] = 1;
    return out;
  }

  it('maskedTopK: exact, ties to the lower index, candidates only', () => {
    const r = rng(15);
    const cases: Array<[string, Float32Array, Uint8Array]> = [];
    for (const n of [1, 7, 100, 1000, 5000]) {
      const x = randn(n, r);
      cases.push([`random ${n}`, x, Uint8Array.from({ length: n }, () => (r() < 0.7 ? 1 : 0))]);
      cases.push([`all candidates ${n}`, x, new Uint8Array(n).fill(1)]);
      // Heavy ties: few distinct magnitudes, both signs, zeros.
      const t = Float32Array.from({ length: n }, () => [0, 0.5, -0.5, 1, -1, 0.25][Math.floor(r() * 6)]!);
      cases.push([`ties ${n}`, t, Uint8Array.from({ length: n }, () => (r() < 0.8 ? 1 : 0))]);
    }
    // Values close together in the low mantissa bits (exercise the second radix pass).
    const close = Float32Array.from({ length: 300 }, (_, i) => 1 + ((i * 37) % 97) * 2 ** -23);
    cases.push(['close', close, new Uint8Array(300).fill(1)]);
    cases.push(['no candidates', randn(10, r), new Uint8Array(10)]);
    for (const [name, x, cand] of cases) {
      const total = cand.reduce((s, v) => s + v, 0);
      for (const k of new Set([0, 1, Math.floor(total / 3), Math.floor(total / 2), total - 1, total].filter((v) => v >= 0 && v <= total))) {
        both((be, bname) => {
          if (bname === 'js' && typeof be.kernels.maskedTopK !== 'function') return;
          const sx = be.upload(x);
          const sc = be.upload(cand);
          const out = be.kernels.maskedTopK(sx, sc, k);
          const got = be.readSync!(out) as Uint8Array;
          expect(Array.from(got), `${bname} maskedTopK ${name} k=${k}`).toEqual(Array.from(refTopK(x, cand, k)));
        });
      }
    }
  });

  it('rejects malformed CSR with the kernel name and the bad index (no wasm trap)', () => {
    const good: HostCsr = {
      rows: 3, cols: 4,
      rowPtr: Int32Array.from([0, 2, 2, 3]), colIdx: Int32Array.from([0, 3, 1]), values: Float32Array.from([1, 2, 3]),
    };
    const b = wasm.upload(new Float32Array(4 * 2));
    const x = wasm.upload(new Float32Array(2 * 4));
    const ok = upCsr(wasm, good);
    expect(readF(wasm, wasm.kernels.spmm(ok, b, 2)).length).toBe(6);
    const badCol = upCsr(wasm, { ...good, colIdx: Int32Array.from([0, 4, 1]) });
    expect(() => wasm.kernels.spmm(badCol, b, 2)).toThrow(/spmm: colIdx\[1\] = 4/);
    const negCol = upCsr(wasm, { ...good, colIdx: Int32Array.from([0, 1, -7]) });
    expect(() => wasm.kernels.csrToDense(negCol)).toThrow(/csrToDense: colIdx\[2\] = -7/);
    const badRow = upCsr(wasm, { ...good, rowPtr: Int32Array.from([0, 2, 1, 3]) });
    expect(() => wasm.kernels.denseCsrT(x, 2, { ...badRow, rows: 3 })).toThrow(/denseCsrT: rowPtr\[2\]/);
    const badEnd = upCsr(wasm, { ...good, rowPtr: Int32Array.from([0, 2, 2, 2]) });
    expect(() => wasm.kernels.spmm(badEnd, b, 2)).toThrow(/spmm: rowPtr\[3\]/);
    const a = wasm.upload(new Float32Array(3 * 5));
    const bb = wasm.upload(new Float32Array(5 * 4));
    expect(() => wasm.kernels.sddmm(a, [3, 5], false, bb, [5, 4], false, badCol)).toThrow(/sddmm: colIdx\[1\]/);
    expect(() => wasm.kernels.spmm(ok, b, 3)).toThrow(/spmm: b has/);
  });
});

describe('wasm relaxed-SIMD build', () => {
  it('matmul and sparse products agree with the reference', () => {
    // Node 20 validates relaxed SIMD only behind a V8 flag; it can be set at run time before compiling.
    v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
    let relaxed: WasmBackend;
    try {
      relaxed = createWasmBackendSync({ relaxed: true });
    } catch {
      return; // this runtime has no relaxed SIMD at all
    }
    expect(relaxed.rt.relaxed).toBe(true);
    let seed = 900;
    for (const [m, n, k] of [[1, 1, 1], [7, 9, 13], [33, 17, 300], [130, 72, 64]] as const) {
      for (const tA of [false, true]) {
        for (const tB of [false, true]) checkMatmul([2], [], m, n, k, tA, tB, true, seed++, relaxed);
      }
    }
    const r = rng(901);
    const a = randomCsr(20, 40, 0.3, r);
    const b = randn(40 * 37, r);
    const dense = toDense(a);
    const ref = refDense(20, 37, 40, (i, t) => dense[i * 40 + t]!, (t, j) => b[t * 37 + j]!);
    const out = relaxed.kernels.spmm(upCsr(relaxed, a), relaxed.upload(b), 37);
    expectClose(readF(relaxed, out), ref.out, ref.mag, 40, 'relaxed spmm');
  });
});

describe('wasm kernels registered', () => {
  it('provides matmul and the six sparse kernels', () => {
    const names: Array<keyof Kernels> = ['matmul', 'spmm', 'denseCsrT', 'sddmm', 'denseToCsr', 'csrToDense', 'maskedTopK'];
    for (const n of names) expect(typeof wasm.kernels[n], n).toBe('function');
  });
});
