// Block-sparse (BSR) kernels with dense 4×4 blocks: blockPtr i32[ceil(n/4) + 1], blockCol i32[nblocks],
// values f32[16·nblocks], each block stored column-major (values[16b + 4c + r] = W[4bi + r, 4bj + c]), so the
// four rows' weights for one input column are one f32x4 and each single weight is a 4-byte load32_splat.
//
// All pointers are byte offsets into linear memory; the TypeScript glue (src/backend/wasm/kernels/bsr.ts)
// validates the structure (sizes, blockPtr monotone, blockCol in range) before calling.
//
// Summation order (the contract's, src/backend/kernels.ts): out[i, r] accumulates from 0 over the blocks of
// r's block row in storage order and within a block over c = 0..3, i.e. increasing k, one multiply and one
// add per step in the default build: the same sum denseCsrT forms for the CSR of the same blocks (zeros
// stored), and the same bits on the 8-row panel and the small-m paths below.
import { addRowBias, madd, transpose4Store } from './common.ts';

/** Bytes of workspace denseBsrT needs (m ≥ 8): one packed panel of 8 X rows (k padded to a multiple of 4) and an 8×4 edge tile. */
export function denseBsrTWorkspaceBytes(m: i32, k: i32, n: i32): i32 {
  return m < 8 ? 0 : ((k + 3) & ~3) * 32 + 128;
}

/**
 * Pack X rows i0 .. i0+7 into the panel P[kp][8] (P[t][l] = X[i0 + l, t]; 32 bytes per t), with zeros for
 * t ≥ k (the padding edge blocks multiply) and for rows past m (computed, never stored). Full 8-row groups
 * transpose 4×4 sub-blocks with shuffles.
 */
function packPanel(x: usize, m: i32, k: i32, i0: i32, panel: usize): void {
  const kp = (k + 3) & ~3;
  const kb = <usize>k << 2;
  const xr = x + <usize>i0 * kb;
  let t = 0;
  if (i0 + 8 <= m) {
    for (; t + 4 <= k; t += 4) {
      const tb = <usize>t << 2;
      for (let h = 0; h < 2; h++) {
        const s = xr + <usize>(4 * h) * kb + tb;
        const r0 = v128.load(s), r1 = v128.load(s + kb), r2 = v128.load(s + 2 * kb), r3 = v128.load(s + 3 * kb);
        const t0 = v128.shuffle<f32>(r0, r1, 0, 4, 1, 5);
        const t1 = v128.shuffle<f32>(r0, r1, 2, 6, 3, 7);
        const t2 = v128.shuffle<f32>(r2, r3, 0, 4, 1, 5);
        const t3 = v128.shuffle<f32>(r2, r3, 2, 6, 3, 7);
        const d = panel + (<usize>t << 5) + (<usize>h << 4);
        v128.store(d, v128.shuffle<f32>(t0, t2, 0, 1, 4, 5));
        v128.store(d, v128.shuffle<f32>(t0, t2, 2, 3, 6, 7), 32);
        v128.store(d, v128.shuffle<f32>(t1, t3, 0, 1, 4, 5), 64);
        v128.store(d, v128.shuffle<f32>(t1, t3, 2, 3, 6, 7), 96);
      }
    }
  }
  for (; t < kp; t++) {
    const d = panel + (<usize>t << 5);
    for (let l = 0; l < 8; l++) {
      const v: f32 = t < k && i0 + l < m ? load<f32>(xr + <usize>l * kb + (<usize>t << 2)) : 0;
      store<f32>(d + (<usize>l << 2), v);
    }
  }
}

/**
 * out[m, n] = X[m, k] · W(bsr)[n, k]ᵀ.
 *
 * m ≥ 8: X goes 8 rows at a time, packed into a panel (packPanel: 8 floats per k, so a block's 4 k rows are
 * 128 contiguous bytes that stay in L1/L2 for every block row), and every block row of W is applied to it with
 * a 4 W-rows × 8 X-rows register tile: 8 f32x4 accumulators; per block column c two panel loads shared by the 4
 * rows and four weight splats (load32_splat of the column-major block) shared by the two vectors — 8 + 2 + 1
 * live vectors, within x64's 16 xmm registers. The tile is transposed in registers (two 4×4 shuffle transposes) into
 * 4-float runs of out's rows, so neither the output nor W needs another pass. W streams once per 8 rows of X,
 * contiguously (blocks are visited in storage order). (A first version transposed a 32..256-row tile of X
 * and accumulated into a transposed output tile, as denseCsrT does: its Xᵀ rows were read from L2 at a
 * 128-byte stride, plus two transposes: 12–15% slower at 5% and 10% density with the same inner loop.)
 *
 * m < 8: each row of X is read directly, one block column (f32x4 of the 4 rows' weights) times a broadcast x
 * at a time. Each output element is the same sum in the same order on both paths. bias (0: none) is added to each
 * finished sum (addRowBias, per 8-row panel).
 */
export function denseBsrT(
  m: i32, k: i32, x: usize, n: i32, blockPtr: usize, blockCol: usize, values: usize, out: usize, ws: usize, bias: usize,
): void {
  const nbr = (n + 3) >> 2;
  const nb = <usize>n << 2; // bytes per out row
  if (m >= 8) {
    const panel = ws;
    const edge = ws + ((<usize>((k + 3) & ~3)) << 5); // 128 bytes: a partial tile (8 rows × 4), for scalar stores
    for (let i0 = 0; i0 < m; i0 += 8) {
      packPanel(x, m, k, i0, panel);
      const vr = min(8, m - i0); // valid rows of this panel
      const orow = out + <usize>i0 * nb;
      for (let bi = 0; bi < nbr; bi++) {
        const p0 = load<i32>(blockPtr + (<usize>bi << 2));
        const p1 = load<i32>(blockPtr + (<usize>(bi + 1) << 2));
        let a0 = f32x4.splat(0), a1 = f32x4.splat(0), b0 = f32x4.splat(0), b1 = f32x4.splat(0);
        let c0 = f32x4.splat(0), c1 = f32x4.splat(0), d0 = f32x4.splat(0), d1 = f32x4.splat(0);
        let v = values + (<usize>p0 << 6);
        const vEnd = values + (<usize>p1 << 6);
        let bc = blockCol + (<usize>p0 << 2);
        while (v < vEnd) {
          const xb = panel + (<usize>load<i32>(bc) << 7);
          let x0: v128, x1: v128, w: v128;
          // The block's four columns, one k step each. The exit tests are never taken (v + 64 ≤ vEnd); they
          // only cut the steps into separate basic blocks, as gemm.ts's mk4x8 does, so V8 cannot issue all
          // four steps' loads (8 panel vectors, 16 splats) ahead of the arithmetic and spill accumulators:
          // measured at 3072×512×512 (CPU ms, interleaved): straight-line 55.7 (full density) / 6.67 (10%),
          // a 4-iteration inner loop 40.6 / 5.12, this 37.1 / 4.91.
          while (true) {
            x0 = v128.load(xb, 0); x1 = v128.load(xb, 16);
            w = v128.load32_splat(v, 0);
            a0 = madd(a0, w, x0); a1 = madd(a1, w, x1);
            w = v128.load32_splat(v, 4);
            b0 = madd(b0, w, x0); b1 = madd(b1, w, x1);
            w = v128.load32_splat(v, 8);
            c0 = madd(c0, w, x0); c1 = madd(c1, w, x1);
            w = v128.load32_splat(v, 12);
            d0 = madd(d0, w, x0); d1 = madd(d1, w, x1);
            if (v >= vEnd - 16) break;
            x0 = v128.load(xb, 32); x1 = v128.load(xb, 48);
            w = v128.load32_splat(v, 16);
            a0 = madd(a0, w, x0); a1 = madd(a1, w, x1);
            w = v128.load32_splat(v, 20);
            b0 = madd(b0, w, x0); b1 = madd(b1, w, x1);
            w = v128.load32_splat(v, 24);
            c0 = madd(c0, w, x0); c1 = madd(c1, w, x1);
            w = v128.load32_splat(v, 28);
            d0 = madd(d0, w, x0); d1 = madd(d1, w, x1);
            if (v >= vEnd - 32) break;
            x0 = v128.load(xb, 64); x1 = v128.load(xb, 80);
            w = v128.load32_splat(v, 32);
            a0 = madd(a0, w, x0); a1 = madd(a1, w, x1);
            w = v128.load32_splat(v, 36);
            b0 = madd(b0, w, x0); b1 = madd(b1, w, x1);
            w = v128.load32_splat(v, 40);
            c0 = madd(c0, w, x0); c1 = madd(c1, w, x1);
            w = v128.load32_splat(v, 44);
            d0 = madd(d0, w, x0); d1 = madd(d1, w, x1);
            if (v >= vEnd - 48) break;
            x0 = v128.load(xb, 96); x1 = v128.load(xb, 112);
            w = v128.load32_splat(v, 48);
            a0 = madd(a0, w, x0); a1 = madd(a1, w, x1);
            w = v128.load32_splat(v, 52);
            b0 = madd(b0, w, x0); b1 = madd(b1, w, x1);
            w = v128.load32_splat(v, 56);
            c0 = madd(c0, w, x0); c1 = madd(c1, w, x1);
            w = v128.load32_splat(v, 60);
            d0 = madd(d0, w, x0); d1 = madd(d1, w, x1);
            break;
          }
          v += 64;
          bc += 4;
        }
        // Lane l of (a, b, c, d) is out[i0 + l, 4bi .. 4bi+3]: transpose the two 4×4 halves.
        const o = orow + (<usize>bi << 4);
        if (vr == 8 && (bi << 2) + 4 <= n) {
          transpose4Store(a0, b0, c0, d0, o, nb);
          transpose4Store(a1, b1, c1, d1, o + 4 * nb, nb);
        } else {
          transpose4Store(a0, b0, c0, d0, edge, 16);
          transpose4Store(a1, b1, c1, d1, edge + 64, 16);
          const cols = min(4, n - (bi << 2));
          for (let l = 0; l < vr; l++) {
            for (let r = 0; r < cols; r++) store<f32>(o + <usize>l * nb + (<usize>r << 2), load<f32>(edge + (<usize>(l * 4 + r) << 2)));
          }
        }
      }
      // Per panel, while it is in cache (the size-optimised inference build adds it once at the end instead).
      if (ASC_SHRINK_LEVEL == 0) addRowBias(orow, vr, n, bias);
    }
    if (ASC_SHRINK_LEVEL > 0) addRowBias(out, m, n, bias);
    return;
  }
  const kb = <usize>k << 2;
  for (let i = 0; i < m; i++) {
    const xr = x + <usize>i * kb;
    const orow = out + <usize>i * nb;
    for (let bi = 0; bi < nbr; bi++) {
      const p0 = load<i32>(blockPtr + (<usize>bi << 2));
      const p1 = load<i32>(blockPtr + (<usize>(bi + 1) << 2));
      let acc = f32x4.splat(0);
      for (let p = p0; p < p1; p++) {
        const k0 = load<i32>(blockCol + (<usize>p << 2)) << 2;
        const v = values + (<usize>p << 6);
        for (let c = 0; c < 4; c++) {
          const kk = k0 + c;
          const xv: f32 = kk < k ? load<f32>(xr + (<usize>kk << 2)) : 0; // X's zero padding
          acc = madd(acc, v128.load(v + (<usize>c << 4)), f32x4.splat(xv));
        }
      }
      const o = orow + (<usize>bi << 4);
      const r = n - (bi << 2);
      store<f32>(o, f32x4.extract_lane(acc, 0));
      if (r > 1) store<f32>(o, f32x4.extract_lane(acc, 1), 4);
      if (r > 2) store<f32>(o, f32x4.extract_lane(acc, 2), 8);
      if (r > 3) store<f32>(o, f32x4.extract_lane(acc, 3), 12);
    }
  }
  addRowBias(out, m, n, bias);
}

/** Whether position (i, j) is kept: mask[i, j] != 0 when `mask` is non-zero, else x[i, j] != 0 (NaN kept). */
@inline function kept(x: usize, mask: usize, rows: i32, cols: i32, i: i32, j: i32): bool {
  if (i >= rows || j >= cols) return false;
  const at = <usize>i * <usize>cols + <usize>j;
  return mask ? load<u8>(mask + at) != 0 : load<f32>(x + (at << 2)) != 0;
}

/** Whether block (bi, bj) holds a kept position: whole blocks inside the matrix test 4 rows with SIMD. */
function blockStored(x: usize, mask: usize, rows: i32, cols: i32, bi: i32, bj: i32): bool {
  const i0 = bi << 2;
  const j0 = bj << 2;
  if (i0 + 4 <= rows && j0 + 4 <= cols) {
    const at = <usize>i0 * <usize>cols + <usize>j0;
    const rs = <usize>cols;
    if (mask) {
      const m = mask + at;
      return (load<u32>(m) | load<u32>(m + rs) | load<u32>(m + 2 * rs) | load<u32>(m + 3 * rs)) != 0;
    }
    const p = x + (at << 2);
    const z = f32x4.splat(0);
    const rb = rs << 2;
    return v128.any_true(v128.or(
      v128.or(f32x4.ne(v128.load(p), z), f32x4.ne(v128.load(p + rb), z)),
      v128.or(f32x4.ne(v128.load(p + 2 * rb), z), f32x4.ne(v128.load(p + 3 * rb), z)),
    ));
  }
  for (let r = 0; r < 4; r++) for (let c = 0; c < 4; c++) if (kept(x, mask, rows, cols, i0 + r, j0 + c)) return true;
  return false;
}

/** First pass of dense → BSR: blockPtr[ceil(rows/4) + 1] of the stored blocks (see blockStored). Returns nblocks. */
export function denseToBsrCount(x: usize, rows: i32, cols: i32, mask: usize, blockPtr: usize): i32 {
  const nbr = (rows + 3) >> 2;
  const nbc = (cols + 3) >> 2;
  let nb = 0;
  store<i32>(blockPtr, 0);
  for (let bi = 0; bi < nbr; bi++) {
    for (let bj = 0; bj < nbc; bj++) if (blockStored(x, mask, rows, cols, bi, bj)) nb++;
    store<i32>(blockPtr + (<usize>(bi + 1) << 2), nb);
  }
  return nb;
}

/**
 * Second pass: blockCol and the 16 values of each stored block, column-major, kept positions from x and the
 * rest (masked out, past the edge) 0.
 */
export function denseToBsrFill(x: usize, rows: i32, cols: i32, mask: usize, blockCol: usize, values: usize): void {
  const nbr = (rows + 3) >> 2;
  const nbc = (cols + 3) >> 2;
  let p: usize = 0;
  for (let bi = 0; bi < nbr; bi++) {
    for (let bj = 0; bj < nbc; bj++) {
      if (!blockStored(x, mask, rows, cols, bi, bj)) continue;
      store<i32>(blockCol + (p << 2), bj);
      const v = values + (p << 6);
      for (let c = 0; c < 4; c++) {
        for (let r = 0; r < 4; r++) {
          const i = (bi << 2) + r;
          const j = (bj << 2) + c;
          const val: f32 = kept(x, mask, rows, cols, i, j) ? load<f32>(x + ((<usize>i * <usize>cols + <usize>j) << 2)) : 0;
          store<f32>(v + (<usize>(c * 4 + r) << 2), val);
        }
      }
      p++;
    }
  }
}

/** BSR → dense into a zero-filled out[rows, cols] (positions past the edge dropped; duplicates add). */
export function bsrToDense(rows: i32, cols: i32, blockPtr: usize, blockCol: usize, values: usize, out: usize): void {
  const nbr = (rows + 3) >> 2;
  for (let bi = 0; bi < nbr; bi++) {
    const p0 = load<i32>(blockPtr + (<usize>bi << 2));
    const p1 = load<i32>(blockPtr + (<usize>(bi + 1) << 2));
    for (let p = p0; p < p1; p++) {
      const j0 = load<i32>(blockCol + (<usize>p << 2)) << 2;
      const v = values + (<usize>p << 6);
      for (let c = 0; c < 4; c++) {
        const j = j0 + c;
        if (j >= cols) break;
        for (let r = 0; r < 4; r++) {
          const i = (bi << 2) + r;
          if (i >= rows) break;
          const o = out + ((<usize>i * <usize>cols + <usize>j) << 2);
          store<f32>(o, load<f32>(o) + load<f32>(v + (<usize>(c * 4 + r) << 2)));
        }
      }
    }
  }
}

// ---- bsrSddmm: the weight gradient at the stored blocks ------------------------------------------------
//
// out[16p + 4c + r] = Σ_i G[i, 4bi + r] · X[i, 4bj + c] in increasing i from 0, one multiply and one add per
// step in the default build (sddmm's order for the CSR of the blocks' positions, so the two agree bit for bit).
// Per i a block is the outer product of 4 gradients and 4 inputs: four f32x4 accumulators (one per block
// column c, lanes r) take G's 4-vector times each broadcast X value. Rows of G and X are cut into tiles of mb
// rows packed per block column (Gp[bi][l][4], Xp[bj][l][4], zero past the matrix edge), so each block streams
// two contiguous 16-byte-per-row runs from L2 instead of 16 bytes from every 64-byte line of G and X; each tile
// resumes from the partial sums in out, which keeps the order.

/** Rows per bsrSddmm tile: the packed tile (4·(nbr + nbc) floats per row) within ~256 KiB, a multiple of 8. */
function bsrSddmmTileRows(m: i32, rows: i32, cols: i32): i32 {
  const width = 4 * (((rows + 3) >> 2) + ((cols + 3) >> 2));
  let mb = (65536 / max(width, 1)) & ~7;
  if (mb < 8) mb = 8;
  return min(mb, max(m, 1));
}

/** Bytes of workspace bsrSddmm needs (one packed tile of G's and X's rows). */
export function bsrSddmmWorkspaceBytes(m: i32, rows: i32, cols: i32): i32 {
  return (4 * (((rows + 3) >> 2) + ((cols + 3) >> 2)) * bsrSddmmTileRows(m, rows, cols)) << 2;
}

/**
 * dst[b][l][0..4) = src[i0 + l, 4(b0 + b) + e] for b in [0, nb), l in [0, count), zero where 4(b0 + b) + e ≥
 * width (src rows are `width` floats long).
 */
function packBlockColumns(src: usize, width: i32, i0: i32, count: i32, b0: i32, nb: i32, dst: usize): void {
  const rowBytes = <usize>width << 2;
  for (let b = 0; b < nb; b++) {
    const c0 = (b0 + b) << 2;
    const d = dst + ((<usize>b * <usize>count) << 4);
    const s = src + <usize>i0 * rowBytes + (<usize>c0 << 2);
    if (c0 + 4 <= width) {
      for (let l = 0; l < count; l++) v128.store(d + (<usize>l << 4), v128.load(s + <usize>l * rowBytes));
    } else {
      for (let l = 0; l < count; l++) {
        for (let e = 0; e < 4; e++) {
          const v: f32 = c0 + e < width ? load<f32>(s + <usize>l * rowBytes + (<usize>e << 2)) : 0;
          store<f32>(d + (<usize>l << 4) + (<usize>e << 2), v);
        }
      }
    }
  }
}

/**
 * bsrSddmm for block rows [bi0, bi1) of W [rows, cols]: the stored blocks' gradients from G [m, rows] and
 * X [m, cols] into out (indexed by the absolute block position, 16 floats per block). `ws`:
 * bsrSddmmWorkspaceBytes(m, rows, cols) bytes.
 */
export function bsrSddmm(
  bi0: i32, bi1: i32, m: i32, rows: i32, cols: i32, g: usize, x: usize, blockPtr: usize, blockCol: usize,
  out: usize, ws: usize,
): void {
  const p0 = load<i32>(blockPtr + (<usize>bi0 << 2));
  const p1 = load<i32>(blockPtr + (<usize>bi1 << 2));
  const nbc = (cols + 3) >> 2;
  const nb = bi1 - bi0;
  if (m == 0 || p1 == p0) {
    memory.fill(out + (<usize>p0 << 6), 0, <usize>(p1 - p0) << 6);
    return;
  }
  const mb = bsrSddmmTileRows(m, rows, cols);
  for (let i0 = 0; i0 < m; i0 += mb) {
    const count = min(mb, m - i0);
    const gp = ws;
    const xp = ws + ((<usize>nb * <usize>count) << 4);
    packBlockColumns(g, rows, i0, count, bi0, nb, gp);
    packBlockColumns(x, cols, i0, count, 0, nbc, xp);
    const first = i0 == 0;
    for (let bi = bi0; bi < bi1; bi++) {
      const ga = gp + ((<usize>(bi - bi0) * <usize>count) << 4);
      const q1 = load<i32>(blockPtr + (<usize>(bi + 1) << 2));
      for (let p = load<i32>(blockPtr + (<usize>bi << 2)); p < q1; p++) {
        const xa = xp + ((<usize>load<i32>(blockCol + (<usize>p << 2)) * <usize>count) << 4);
        const op = out + (<usize>p << 6);
        let a0 = first ? f32x4.splat(0) : v128.load(op, 0);
        let a1 = first ? f32x4.splat(0) : v128.load(op, 16);
        let a2 = first ? f32x4.splat(0) : v128.load(op, 32);
        let a3 = first ? f32x4.splat(0) : v128.load(op, 48);
        for (let l = 0; l < count; l++) {
          const lb = <usize>l << 4;
          const gv = v128.load(ga + lb);
          const xv = v128.load(xa + lb);
          a0 = madd(a0, gv, v128.shuffle<f32>(xv, xv, 0, 0, 0, 0));
          a1 = madd(a1, gv, v128.shuffle<f32>(xv, xv, 1, 1, 1, 1));
          a2 = madd(a2, gv, v128.shuffle<f32>(xv, xv, 2, 2, 2, 2));
          a3 = madd(a3, gv, v128.shuffle<f32>(xv, xv, 3, 3, 3, 3));
        }
        v128.store(op, a0, 0);
        v128.store(op, a1, 16);
        v128.store(op, a2, 32);
        v128.store(op, a3, 48);
      }
    }
  }
  // Positions past the matrix edge are 0 whatever G and X hold (the padding gave 0 · x, NaN for x = ±∞, NaN).
  const lastRows = rows - ((bi1 - 1) << 2); // rows of the range's last block row inside the matrix
  const lastCols = cols - ((nbc - 1) << 2);
  for (let bi = bi0; bi < bi1; bi++) {
    const rIn = bi == bi1 - 1 ? min(lastRows, 4) : 4;
    const q1 = load<i32>(blockPtr + (<usize>(bi + 1) << 2));
    for (let p = load<i32>(blockPtr + (<usize>bi << 2)); p < q1; p++) {
      const cIn = load<i32>(blockCol + (<usize>p << 2)) == nbc - 1 ? lastCols : 4;
      if (rIn == 4 && cIn == 4) continue;
      for (let c = 0; c < 4; c++) {
        for (let r = 0; r < 4; r++) {
          if (r >= rIn || c >= cIn) store<f32>(out + (<usize>p << 6) + (<usize>(4 * c + r) << 2), 0);
        }
      }
    }
  }
}
