// Sparse kernels on CSR matrices (rowPtr i32[rows + 1], colIdx i32[nnz], values f32[nnz]).
//
// All pointers are byte offsets into linear memory. The TypeScript glue validates CSR structure (rowPtr
// monotone, colIdx in range) before calling, so these loops index without checks.
//
// Summation order: every output element is accumulated from 0 in increasing index of the reduced dimension
// (increasing stored position p within a CSR row, which is increasing column index; increasing t for sddmm),
// one multiply and one add per step in the default build, so results are bit-identical across engines and
// across the SIMD and scalar paths below.

import { gemm } from './gemm';
import { csrTTileRows } from './csr-tiles';
import { sampledRowDots } from './sampled-dots.ts';
import { sparseRowPanel } from './sparse-row-panel.ts';
import { addRowBias, madd } from './common.ts';

@inline function maddf(acc: f32, a: f32, b: f32): f32 {
  return acc + a * b;
}

/**
 * out[rows, n] = A(csr)[rows, k] · B[k, n]. Broadcasts each stored value and streams B rows with f32x4.
 * Columns are processed in blocks of `jb` so the k×jb panel of B that a block touches stays in L2 while every
 * row of A visits it; each output element is still one sum over the row's entries in increasing order.
 */
export function spmm(rows: i32, n: i32, rowPtr: usize, colIdx: usize, values: usize, b: usize, out: usize, k: i32): void {
  // ~256 KiB of B per column block, at least 32 columns, a multiple of 32.
  let jb = k > 0 ? (65536 / k) & ~31 : n;
  if (jb < 32) jb = 32;
  for (let j0 = 0; j0 < n; j0 += jb) {
    spmmCols(rows, n, j0, min(n, j0 + jb), rowPtr, colIdx, values, b, out);
  }
}

function spmmCols(
  rows: i32, n: i32, jStart: i32, jEnd: i32, rowPtr: usize, colIdx: usize, values: usize, b: usize, out: usize,
): void {
  const nb = <usize>n << 2;
  for (let i = 0; i < rows; i++) {
    const p0 = load<i32>(rowPtr + (<usize>i << 2));
    const p1 = load<i32>(rowPtr + (<usize>(i + 1) << 2));
    sparseRowPanel<i32>(p0, p1, colIdx, values, b, nb, jStart, jEnd, out + <usize>i * nb);
  }
}

/** dst[cols, rows] = src[rows, cols]ᵀ: 32×32 tiles (cache friendly for large strides), 4×4 f32x4 shuffles inside. */
export function sparseTranspose(src: usize, rows: i32, cols: i32, dst: usize): void {
  for (let i0 = 0; i0 < rows; i0 += 32) {
    const i1 = min(rows, i0 + 32);
    for (let j0 = 0; j0 < cols; j0 += 32) transposeTile(src, rows, cols, dst, i0, i1, j0, min(cols, j0 + 32));
  }
}

function transposeTile(src: usize, rows: i32, cols: i32, dst: usize, i0: i32, i1: i32, j0: i32, j1: i32): void {
  const sr = <usize>cols << 2; // src row stride (bytes)
  const dr = <usize>rows << 2; // dst row stride
  let i = i0;
  for (; i + 4 <= i1; i += 4) {
    const s = src + <usize>i * sr;
    const d = dst + (<usize>i << 2);
    let j = j0;
    for (; j + 4 <= j1; j += 4) {
      const sj = s + (<usize>j << 2);
      const r0 = v128.load(sj), r1 = v128.load(sj + sr), r2 = v128.load(sj + 2 * sr), r3 = v128.load(sj + 3 * sr);
      const t0 = v128.shuffle<f32>(r0, r1, 0, 4, 1, 5);
      const t1 = v128.shuffle<f32>(r0, r1, 2, 6, 3, 7);
      const t2 = v128.shuffle<f32>(r2, r3, 0, 4, 1, 5);
      const t3 = v128.shuffle<f32>(r2, r3, 2, 6, 3, 7);
      const dj = d + <usize>j * dr;
      v128.store(dj, v128.shuffle<f32>(t0, t2, 0, 1, 4, 5));
      v128.store(dj + dr, v128.shuffle<f32>(t0, t2, 2, 3, 6, 7));
      v128.store(dj + 2 * dr, v128.shuffle<f32>(t1, t3, 0, 1, 4, 5));
      v128.store(dj + 3 * dr, v128.shuffle<f32>(t1, t3, 2, 3, 6, 7));
    }
    for (; j < j1; j++) {
      for (let q = 0; q < 4; q++) {
        store<f32>(d + <usize>j * dr + (<usize>q << 2), load<f32>(s + <usize>q * sr + (<usize>j << 2)));
      }
    }
  }
  for (; i < i1; i++) {
    const s = src + <usize>i * sr;
    for (let j = j0; j < j1; j++) store<f32>(dst + <usize>j * dr + (<usize>i << 2), load<f32>(s + (<usize>j << 2)));
  }
}

/** Bytes of workspace denseCsrT needs. */
export function denseCsrTWorkspaceBytes(m: i32, k: i32, n: i32): i32 {
  if (m < 8) return 0;
  const mb = csrTTileRows(m, n);
  return (k * mb + n * mb) * 4;
}

/**
 * out[m, n] = X[m, k] · W(csr)[n, k]ᵀ (a Linear layer with a sparse weight). For m ≥ 8, X is processed in
 * tiles of mb rows: the tile is transposed into the workspace (Xᵀ tile, k × mb, contiguous), spmm streams its
 * mb-wide rows with f32x4 into a transposed output tile (n × mb), which is transposed into the tile's rows of
 * out (a contiguous block, since tiles are whole rows). Both transposes stay in cache, and the Xᵀ tile's rows
 * are mb·4 bytes apart instead of m·4: with m a multiple of 1024 (3072 = 32·96 batch rows) a whole-matrix Xᵀ
 * put every row of a column panel in the same few cache sets, and the panel thrashed L1 and L2 (the tiles
 * made the 10%-density forward 1.7× faster). For small m it gathers X directly. Each output element is the
 * same sum in the same order either way; bias (0: none) is added to each finished sum (addRowBias, per tile).
 * (Sweeping the reduced dimension in L1-sized chunks, with partial
 * sums kept in the output tile, measured 1.5× slower: the per-chunk scans and reloads cost more than the
 * L2 hits they save.)
 */
export function denseCsrT(
  m: i32, k: i32, x: usize, n: i32, rowPtr: usize, colIdx: usize, values: usize, out: usize, ws: usize, bias: usize,
): void {
  if (m >= 8) {
    const mb = csrTTileRows(m, n);
    const xT = ws;
    const oT = ws + ((<usize>k * <usize>mb) << 2);
    for (let i0 = 0; i0 < m; i0 += mb) {
      const rows = min(mb, m - i0);
      sparseTranspose(x + ((<usize>i0 * <usize>k) << 2), rows, k, xT);
      spmmCols(n, rows, 0, rows, rowPtr, colIdx, values, xT, oT);
      const o = out + ((<usize>i0 * <usize>n) << 2);
      sparseTranspose(oT, n, rows, o);
      // Per tile, while it is in cache (the size-optimised inference build adds it once at the end instead).
      if (ASC_SHRINK_LEVEL == 0) addRowBias(o, rows, n, bias);
    }
    if (ASC_SHRINK_LEVEL > 0) addRowBias(out, m, n, bias);
    return;
  }
  const kb = <usize>k << 2;
  for (let i = 0; i < m; i++) {
    const xr = x + <usize>i * kb;
    const orow = out + ((<usize>i * <usize>n) << 2);
    for (let j = 0; j < n; j++) {
      const p0 = load<i32>(rowPtr + (<usize>j << 2));
      const p1 = load<i32>(rowPtr + (<usize>(j + 1) << 2));
      let s: f32 = 0;
      for (let p = p0; p < p1; p++) {
        s = maddf(s, load<f32>(values + (<usize>p << 2)), load<f32>(xr + (<usize>load<i32>(colIdx + (<usize>p << 2)) << 2)));
      }
      store<f32>(orow + (<usize>j << 2), s);
    }
  }
  addRowBias(out, m, n, bias);
}

/**
 * Sampled dense-dense product. `a` is op(A) as rows: A'[m, k] row-major; `bt` is op(B)ᵀ row-major [n, k]
 * (the glue transposes when needed, so both are contiguous in t). For each stored (i, j) of the pattern,
 * out[p] = Σ_t A'[i, t] · Bt[j, t] in increasing t. The t range is cut into blocks whose slice of Bt fits in
 * L2; each block resumes from the partial sums in `out`, so the order is unchanged. Within a block, eight
 * (then four) entries of a row are computed together: their Bt rows are interleaved into f32x4 columns, so
 * each lane accumulates in the same order as the scalar path, with two independent chains.
 */
export function sddmm(
  m: i32, k: i32, n: i32, a: usize, bt: usize, rowPtr: usize, colIdx: usize, out: usize,
): void {
  const nnz = load<i32>(rowPtr + (<usize>m << 2));
  if (k == 0) {
    memory.fill(out, 0, <usize>nnz << 2);
    return;
  }
  let tb = n > 0 ? (65536 / n) & ~7 : k; // ~256 KiB of Bt per block
  if (tb < 16) tb = 16;
  for (let t0 = 0; t0 < k; t0 += tb) sddmmBlock(m, k, t0, min(k, t0 + tb), a, bt, rowPtr, colIdx, out);
}

function sddmmBlock(
  m: i32, k: i32, t0: i32, t1: i32, a: usize, bt: usize, rowPtr: usize, colIdx: usize, out: usize,
): void {
  const kb = <usize>k << 2;
  const first = t0 == 0;
  for (let i = 0; i < m; i++) {
    const p0 = load<i32>(rowPtr + (<usize>i << 2));
    const p1 = load<i32>(rowPtr + (<usize>(i + 1) << 2));
    sampledRowDots<i32>(p0, p1, colIdx, a + <usize>i * kb, bt, kb, t0, t1, first, out);
  }
}

/**
 * First pass of dense → CSR: rowPtr[rows + 1] (prefix sums of per-row counts) of the positions kept:
 * mask[i] != 0 when `mask` is non-zero, else x[i] != 0 (NaN counts as non-zero, -0 as zero). Returns nnz.
 */
export function denseToCsrCount(x: usize, rows: i32, cols: i32, mask: usize, rowPtr: usize): i32 {
  let nnz = 0;
  store<i32>(rowPtr, 0);
  for (let i = 0; i < rows; i++) {
    const base = <usize>i * <usize>cols;
    let j = 0;
    let c = 0;
    if (mask) {
      const mr = mask + base;
      for (; j + 16 <= cols; j += 16) {
        c += <i32>popcnt<u32>(i8x16.bitmask(i8x16.ne(v128.load(mr + <usize>j), i8x16.splat(0))));
      }
      for (; j < cols; j++) c += load<u8>(mr + <usize>j) != 0 ? 1 : 0;
    } else {
      const xr = x + (base << 2);
      for (; j + 4 <= cols; j += 4) {
        c += <i32>popcnt<u32>(i32x4.bitmask(f32x4.ne(v128.load(xr + (<usize>j << 2)), f32x4.splat(0))));
      }
      for (; j < cols; j++) c += load<f32>(xr + (<usize>j << 2)) != 0 ? 1 : 0;
    }
    nnz += c;
    store<i32>(rowPtr + (<usize>(i + 1) << 2), nnz);
  }
  return nnz;
}

/** Second pass of dense → CSR: fill colIdx and values (rowPtr from denseToCsrCount). */
export function denseToCsrFill(x: usize, rows: i32, cols: i32, mask: usize, colIdx: usize, values: usize): void {
  let p: usize = 0;
  for (let i = 0; i < rows; i++) {
    const base = <usize>i * <usize>cols;
    const xr = x + (base << 2);
    let j = 0;
    if (mask) {
      const mr = mask + base;
      for (; j + 16 <= cols; j += 16) {
        let bits = i8x16.bitmask(i8x16.ne(v128.load(mr + <usize>j), i8x16.splat(0)));
        while (bits) {
          const jj = j + <i32>ctz<u32>(bits);
          bits &= bits - 1;
          store<i32>(colIdx + (p << 2), jj);
          store<f32>(values + (p << 2), load<f32>(xr + (<usize>jj << 2)));
          p++;
        }
      }
      for (; j < cols; j++) {
        if (load<u8>(mr + <usize>j) != 0) {
          store<i32>(colIdx + (p << 2), j);
          store<f32>(values + (p << 2), load<f32>(xr + (<usize>j << 2)));
          p++;
        }
      }
    } else {
      for (; j + 4 <= cols; j += 4) {
        let bits = i32x4.bitmask(f32x4.ne(v128.load(xr + (<usize>j << 2)), f32x4.splat(0)));
        while (bits) {
          const jj = j + <i32>ctz<u32>(bits);
          bits &= bits - 1;
          store<i32>(colIdx + (p << 2), jj);
          store<f32>(values + (p << 2), load<f32>(xr + (<usize>jj << 2)));
          p++;
        }
      }
      for (; j < cols; j++) {
        const v = load<f32>(xr + (<usize>j << 2));
        if (v != 0) {
          store<i32>(colIdx + (p << 2), j);
          store<f32>(values + (p << 2), v);
          p++;
        }
      }
    }
  }
}

/** CSR → dense into a zero-filled out[rows, cols]. */
export function csrToDense(rows: i32, cols: i32, rowPtr: usize, colIdx: usize, values: usize, out: usize): void {
  for (let i = 0; i < rows; i++) {
    const p0 = load<i32>(rowPtr + (<usize>i << 2));
    const p1 = load<i32>(rowPtr + (<usize>(i + 1) << 2));
    const orow = out + ((<usize>i * <usize>cols) << 2);
    for (let p = p0; p < p1; p++) {
      store<f32>(orow + (<usize>load<i32>(colIdx + (<usize>p << 2)) << 2), load<f32>(values + (<usize>p << 2)));
    }
  }
}

/** Bytes of workspace maskedTopK needs (one 65536-bin u32 histogram). */
export function maskedTopKWorkspaceBytes(): i32 {
  return 65536 * 4;
}

/**
 * out[i] = 1 at the k candidates (cand[i] != 0) of largest |x[i]|, ties broken by lower index; else 0.
 * Exact radix select on the 31-bit key bits(|x|) (monotone in |x|; NaN keys sort above +inf): a histogram
 * of the high 16 bits finds the bucket holding the k-th largest key, a histogram of the low 16 bits within
 * that bucket finds the key T itself and how many elements equal to T to take; a final index-ordered scan
 * keeps every key > T and the first `need` keys == T. Returns the number of candidates.
 */
export function maskedTopK(x: usize, cand: usize, size: i32, k: i32, out: usize, ws: usize): i32 {
  const hist = ws;
  memory.fill(hist, 0, 65536 * 4);
  let total = 0;
  for (let i = 0; i < size; i++) {
    if (load<u8>(cand + <usize>i) != 0) {
      const key = load<u32>(x + (<usize>i << 2)) & 0x7fffffff;
      const h = hist + (<usize>(key >>> 16) << 2);
      store<u32>(h, load<u32>(h) + 1);
      total++;
    }
  }
  memory.fill(out, 0, <usize>size);
  if (k <= 0) return total;
  if (k >= total) {
    for (let i = 0; i < size; i++) store<u8>(out + <usize>i, load<u8>(cand + <usize>i) != 0 ? 1 : 0);
    return total;
  }
  // High 16 bits: the bucket hb with (count above hb) < k <= (count above hb) + count(hb).
  let above = 0;
  let hb = 0x7fff;
  for (; hb >= 0; hb--) {
    const c = <i32>load<u32>(hist + (<usize>hb << 2));
    if (above + c >= k) break;
    above += c;
  }
  // Low 16 bits inside bucket hb.
  memory.fill(hist, 0, 65536 * 4);
  for (let i = 0; i < size; i++) {
    if (load<u8>(cand + <usize>i) != 0) {
      const key = load<u32>(x + (<usize>i << 2)) & 0x7fffffff;
      if (<i32>(key >>> 16) == hb) {
        const h = hist + (<usize>(key & 0xffff) << 2);
        store<u32>(h, load<u32>(h) + 1);
      }
    }
  }
  let lb = 0xffff;
  for (; lb >= 0; lb--) {
    const c = <i32>load<u32>(hist + (<usize>lb << 2));
    if (above + c >= k) break;
    above += c;
  }
  const thr: u32 = (<u32>hb << 16) | <u32>lb;
  let need = k - above; // how many keys == thr to take, lowest indices first
  for (let i = 0; i < size; i++) {
    if (load<u8>(cand + <usize>i) != 0) {
      const key = load<u32>(x + (<usize>i << 2)) & 0x7fffffff;
      if (key > thr) {
        store<u8>(out + <usize>i, 1);
      } else if (key == thr && need > 0) {
        store<u8>(out + <usize>i, 1);
        need--;
      }
    }
  }
  return total;
}

/**
 * out[p] = c[(i - i0)·n + colIdx[p]] for the stored entries of rows i0 ≤ i < i1: picks a row block of a
 * dense product at the pattern (sddmm's dense path, used when the pattern is dense enough that a GEMM is
 * cheaper; the GEMM sums in the same order, so the values are the same as the sparse path's).
 */
export function csrGatherRows(i0: i32, i1: i32, n: i32, c: usize, rowPtr: usize, colIdx: usize, out: usize): void {
  const nb = <usize>n << 2;
  for (let i = i0; i < i1; i++) {
    const p0 = load<i32>(rowPtr + (<usize>i << 2));
    const p1 = load<i32>(rowPtr + (<usize>(i + 1) << 2));
    const cr = c + <usize>(i - i0) * nb;
    for (let p = p0; p < p1; p++) {
      store<f32>(out + (<usize>p << 2), load<f32>(cr + (<usize>load<i32>(colIdx + (<usize>p << 2)) << 2)));
    }
  }
}

/**
 * sddmm's dense path for pattern rows [i0, i1): blocks of rb rows of op(A)·op(B) by the GEMM into `c`
 * (rb·n floats), then the pattern's entries gathered into `out` (csrGatherRows). The same per-element order
 * as the sparse path; a thread pool hands each thread its own row range, `c` and `ws`
 * (gemmWorkspaceBytes(rb, n, k) bytes).
 */
export function sddmmDenseRows(
  i0: i32, i1: i32, rb: i32, n: i32, k: i32,
  a: usize, aRs: i32, aCs: i32, b: usize, bRs: i32, bCs: i32,
  rowPtr: usize, colIdx: usize, out: usize, c: usize, ws: usize,
): void {
  for (let r0 = i0; r0 < i1; r0 += rb) {
    const r = min(rb, i1 - r0);
    gemm(r, n, k, a + ((<usize>r0 * <usize>aRs) << 2), aRs, aCs, b, bRs, bCs, c, n, 0, 1, 0, 0, 0, ws);
    csrGatherRows(r0, r0 + r, n, c, rowPtr, colIdx, out);
  }
}
