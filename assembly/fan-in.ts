// Constant fan-in kernels (the `fan_in` mask structure): liveRows i32[live], colIdx u16[live·k] (packed two per
// i32 word by the glue's storage, which in little-endian linear memory is simply a u16 array), values f32[live·k].
//
// All pointers are byte offsets into linear memory; the TypeScript glue (src/backend/wasm/kernels/fan-in.ts)
// validates the structure (sizes, live rows increasing and in range, columns in range) before calling.
//
// Summation order (the contract's, src/backend/kernels.ts): out[i, r] accumulates from 0 over the k entries of
// live row r in storage order, one multiply and one add per step in the default build — the order denseCsrT
// (assembly/sparse.ts) uses for the CSR of the same mask, with the same tiles, lane blocks and scalar tails, so
// the two are bit-identical in both builds (the relaxed build fuses the same f32x4 steps in both).
import { denseCsrTWorkspaceBytes, sparseTranspose } from './sparse';
import { csrTTileRows } from './csr-tiles';
import { gemm } from './gemm';
import { sampledRowDots } from './sampled-dots.ts';
import { sparseRowPanel } from './sparse-row-panel.ts';
import { addRowBias, madd } from './common.ts';

/**
 * Bytes of workspace denseFanInT needs: the Xᵀ tile (nIn × mb) and the transposed output tile (n × mb), tiled by
 * denseCsrT's rule (csrTTileRows) so the lane blocks below match its lanes — the same bytes as denseCsrT's.
 */
export function denseFanInTWorkspaceBytes(m: i32, nIn: i32, n: i32): i32 {
  return denseCsrTWorkspaceBytes(m, nIn, n);
}

/**
 * out[m, n] = X[m, nIn] · W(fan-in)[n, nIn]ᵀ. For m ≥ 8, X is cut into tiles of mb rows, each transposed into
 * the workspace (Xᵀ tile, nIn × mb) so that one input column of the tile's rows is contiguous; every live row
 * then streams its k columns over the tile, 32 rows of X per register block, so each weight and each index is
 * loaded once per 32 rows of X. The fixed k needs no row pointers and the u16 indices halve the index traffic
 * of CSR. Rows that are not live stay 0 in the transposed output tile (zeroed per tile height; tiles only write live
 * rows), which is transposed into out. bias (0: none) is added to each finished sum (addRowBias, per tile); rows
 * that are not live then hold the bias alone, as a dense Linear of the masked weight gives.
 */
export function denseFanInT(
  m: i32, nIn: i32, x: usize, n: i32, k: i32, live: i32, liveRows: usize, colIdx: usize, values: usize,
  out: usize, ws: usize, bias: usize,
): void {
  if (m >= 8) {
    const mb = csrTTileRows(m, n);
    const xT = ws;
    const oT = ws + ((<usize>nIn * <usize>mb) << 2);
    let zeroed = 0;
    for (let i0 = 0; i0 < m; i0 += mb) {
      const rows = min(mb, m - i0);
      // The tile's row stride is `rows`: a shorter last tile lays rows out anew, so zero again.
      if (rows != zeroed) {
        memory.fill(oT, 0, (<usize>n * <usize>rows) << 2);
        zeroed = rows;
      }
      sparseTranspose(x + ((<usize>i0 * <usize>nIn) << 2), rows, nIn, xT);
      fanInTile(rows, k, live, liveRows, colIdx, values, xT, oT);
      const o = out + ((<usize>i0 * <usize>n) << 2);
      sparseTranspose(oT, n, rows, o);
      addRowBias(o, rows, n, bias);
    }
    return;
  }
  // Few rows (online inference): gather X directly; out starts zeroed for the rows that are not live.
  memory.fill(out, 0, (<usize>m * <usize>n) << 2);
  const xb = <usize>nIn << 2;
  for (let i = 0; i < m; i++) {
    const xr = x + <usize>i * xb;
    const orow = out + ((<usize>i * <usize>n) << 2);
    for (let j = 0; j < live; j++) {
      const q0 = j * k;
      let s: f32 = 0;
      for (let q = q0; q < q0 + k; q++) {
        s += load<f32>(values + (<usize>q << 2)) * load<f32>(xr + (<usize>load<u16>(colIdx + (<usize>q << 1)) << 2));
      }
      store<f32>(orow + (<usize>load<i32>(liveRows + (<usize>j << 2)) << 2), s);
    }
  }
  addRowBias(out, m, n, bias);
}

/**
 * oT[r, 0..rows) = Σ_t W[r, c_t] · xT[c_t, 0..rows) for every live row r (xT and oT are mb-wide rows of which the
 * first `rows` are used; their stride is `rows` floats, as sparseTranspose writes them).
 */
function fanInTile(
  rows: i32, k: i32, live: i32, liveRows: usize, colIdx: usize, values: usize, xT: usize, oT: usize,
): void {
  const rb = <usize>rows << 2;
  for (let j = 0; j < live; j++) {
    const orow = oT + <usize>load<i32>(liveRows + (<usize>j << 2)) * rb;
    sparseRowPanel<u16>(j * k, (j + 1) * k, colIdx, values, xT, rb, 0, rows, orow);
  }
}

/**
 * denseToFanIn, pass 1: the number of live rows of the keep pattern (mask[i] != 0 when mask ≠ 0, else x != 0,
 * NaN kept), or −(r + 1) for the first row r whose kept count is neither 0 nor k.
 */
export function denseToFanInCount(x: usize, rows: i32, cols: i32, mask: usize, k: i32): i32 {
  let live = 0;
  for (let r = 0; r < rows; r++) {
    let c = 0;
    const e0 = <usize>r * <usize>cols;
    for (let j = 0; j < cols; j++) {
      const e = e0 + <usize>j;
      if (mask != 0 ? load<u8>(mask + e) != 0 : load<f32>(x + (e << 2)) != 0) c++;
    }
    if (c != 0 && c != k) return -(r + 1);
    if (c != 0) live++;
  }
  return live;
}

/** denseToFanIn, pass 2 (after pass 1 agreed): live rows, packed u16 columns and values in row order. */
export function denseToFanInFill(
  x: usize, rows: i32, cols: i32, mask: usize, liveRows: usize, colIdx: usize, values: usize,
): void {
  let j = 0;
  let q: usize = 0;
  for (let r = 0; r < rows; r++) {
    const q0 = q;
    const e0 = <usize>r * <usize>cols;
    for (let c = 0; c < cols; c++) {
      const e = e0 + <usize>c;
      const v = load<f32>(x + (e << 2));
      if (mask != 0 ? load<u8>(mask + e) == 0 : v == 0) continue;
      store<u16>(colIdx + (q << 1), <u16>c);
      store<f32>(values + (q << 2), v);
      q++;
    }
    if (q > q0) {
      store<i32>(liveRows + (<usize>j << 2), r);
      j++;
    }
  }
  // An odd count leaves the high half of the last word: zero it, so the storage is fully defined.
  if (q & 1) store<u16>(colIdx + (q << 1), 0);
}

/** out[rows, cols] (zeroed by the caller) = the fan-in matrix; duplicate columns add, as csrToDense's do. */
export function fanInToDense(
  rows: i32, cols: i32, k: i32, live: i32, liveRows: usize, colIdx: usize, values: usize, out: usize,
): void {
  for (let j = 0; j < live; j++) {
    const orow = out + ((<usize>load<i32>(liveRows + (<usize>j << 2)) * <usize>cols) << 2);
    for (let q = j * k; q < (j + 1) * k; q++) {
      const o = orow + (<usize>load<u16>(colIdx + (<usize>q << 1)) << 2);
      store<f32>(o, load<f32>(o) + load<f32>(values + (<usize>q << 2)));
    }
  }
}

// ---- backward products: fanInDense (dX = G·W, a scatter-add) and fanInSddmm (dW at the stored positions) ----
//
// Summation orders (the contract's): dX[i, c] accumulates from 0 over the live rows in increasing order, one
// multiply and one add per stored entry — what the dense GEMM G·(W ⊙ M) computes too once its ±0 terms are
// dropped, which leave a sum started at +0 unchanged — and dW[j·k + t] from 0 over increasing i, as sddmm
// (assembly/sparse.ts) does for the CSR of the same mask, so both are bit-identical to those in the default
// build (the relaxed build fuses the f32x4 steps, not the scalar tails).

/**
 * Bytes of workspace fanInDense needs for m ≥ 8: the Gᵀ tile (n × mb) and the dXᵀ tile (nIn × mb), mb by
 * denseCsrT's rule on the dXᵀ tile (csrTTileRows(m, nIn)).
 */
export function fanInDenseWorkspaceBytes(m: i32, n: i32, nIn: i32): i32 {
  if (m < 8) return 0;
  return ((n + nIn) * csrTTileRows(m, nIn)) << 2;
}

/**
 * out[m, nIn] = G[m, n] · W(fan-in)[n, nIn]. For m ≥ 8, G is cut into tiles of mb rows, each transposed into
 * the workspace (Gᵀ tile, n × mb) so that one live row's gradients over the tile's rows are contiguous; every
 * live row then adds v · Gᵀ[r, ·] into the zeroed dXᵀ tile row of each of its k columns (32 rows of G per
 * register block, the gradients held in 8 registers over the row's k entries), and the dXᵀ tile is transposed
 * into out. Each dXᵀ element is read, added to and written back once per stored entry of its column: the
 * scatter the transposed layout turns into f32x4 lanes.
 */
export function fanInDense(
  m: i32, n: i32, g: usize, nIn: i32, k: i32, live: i32, liveRows: usize, colIdx: usize, values: usize,
  out: usize, ws: usize,
): void {
  if (m >= 8) {
    const mb = csrTTileRows(m, nIn);
    const gT = ws;
    const oT = ws + ((<usize>n * <usize>mb) << 2);
    for (let i0 = 0; i0 < m; i0 += mb) {
      const rows = min(mb, m - i0);
      memory.fill(oT, 0, (<usize>nIn * <usize>rows) << 2);
      sparseTranspose(g + ((<usize>i0 * <usize>n) << 2), rows, n, gT);
      fanInScatterTile(rows, k, live, liveRows, colIdx, values, gT, oT);
      sparseTranspose(oT, nIn, rows, out + ((<usize>i0 * <usize>nIn) << 2));
    }
    return;
  }
  // Few rows: scatter into out's rows directly.
  memory.fill(out, 0, (<usize>m * <usize>nIn) << 2);
  for (let i = 0; i < m; i++) {
    const grow = g + ((<usize>i * <usize>n) << 2);
    const orow = out + ((<usize>i * <usize>nIn) << 2);
    for (let j = 0; j < live; j++) {
      const gv = load<f32>(grow + (<usize>load<i32>(liveRows + (<usize>j << 2)) << 2));
      for (let q = j * k; q < (j + 1) * k; q++) {
        const o = orow + (<usize>load<u16>(colIdx + (<usize>q << 1)) << 2);
        store<f32>(o, load<f32>(o) + load<f32>(values + (<usize>q << 2)) * gv);
      }
    }
  }
}

/**
 * oT[c_t, 0..rows) += W[r, c_t] · gT[r, 0..rows) for every live row r in order and its entries t in storage
 * order (gT and oT rows are `rows` floats apart, as sparseTranspose writes them).
 */
function fanInScatterTile(
  rows: i32, k: i32, live: i32, liveRows: usize, colIdx: usize, values: usize, gT: usize, oT: usize,
): void {
  const rb = <usize>rows << 2;
  for (let j = 0; j < live; j++) {
    const grow = gT + <usize>load<i32>(liveRows + (<usize>j << 2)) * rb;
    const q0 = j * k;
    const q1 = q0 + k;
    let i = 0;
    for (; i + 32 <= rows; i += 32) {
      const gb = grow + (<usize>i << 2);
      const g0 = v128.load(gb, 0), g1 = v128.load(gb, 16), g2 = v128.load(gb, 32), g3 = v128.load(gb, 48);
      const g4 = v128.load(gb, 64), g5 = v128.load(gb, 80), g6 = v128.load(gb, 96), g7 = v128.load(gb, 112);
      const ob = oT + (<usize>i << 2);
      for (let q = q0; q < q1; q++) {
        const v = v128.load32_splat(values + (<usize>q << 2));
        const o = ob + <usize>load<u16>(colIdx + (<usize>q << 1)) * rb;
        v128.store(o, madd(v128.load(o, 0), v, g0), 0);
        v128.store(o, madd(v128.load(o, 16), v, g1), 16);
        v128.store(o, madd(v128.load(o, 32), v, g2), 32);
        v128.store(o, madd(v128.load(o, 48), v, g3), 48);
        v128.store(o, madd(v128.load(o, 64), v, g4), 64);
        v128.store(o, madd(v128.load(o, 80), v, g5), 80);
        v128.store(o, madd(v128.load(o, 96), v, g6), 96);
        v128.store(o, madd(v128.load(o, 112), v, g7), 112);
      }
    }
    for (; i + 4 <= rows; i += 4) {
      const g0 = v128.load(grow + (<usize>i << 2));
      const ob = oT + (<usize>i << 2);
      for (let q = q0; q < q1; q++) {
        const o = ob + <usize>load<u16>(colIdx + (<usize>q << 1)) * rb;
        v128.store(o, madd(v128.load(o), v128.load32_splat(values + (<usize>q << 2)), g0));
      }
    }
    for (; i < rows; i++) {
      const gv = load<f32>(grow + (<usize>i << 2));
      const ob = oT + (<usize>i << 2);
      for (let q = q0; q < q1; q++) {
        const o = ob + <usize>load<u16>(colIdx + (<usize>q << 1)) * rb;
        store<f32>(o, load<f32>(o) + load<f32>(values + (<usize>q << 2)) * gv);
      }
    }
  }
}

/**
 * fanInSddmm for live rows [j0, j1): out[j·k + t] = Σ_i Gᵀ[r_j, i] · Xᵀ[c_t, i] in increasing i, with gT = Gᵀ
 * [n, m] and xT = Xᵀ [nIn, m] row-major (the glue transposes G and X once, so both operands of every dot are
 * contiguous in i). As sddmm does: the i range is cut into blocks whose slice of Xᵀ stays in L2, each block
 * resuming from the partial sums in `out` (the order is unchanged), and eight (then four) entries of a live
 * row are computed together — their Xᵀ rows interleaved into f32x4 columns, one lane per entry, each lane
 * summing in the scalar path's order — with the row's gradient broadcast from Gᵀ.
 */
export function fanInSddmm(
  j0: i32, j1: i32, m: i32, nIn: i32, k: i32, liveRows: usize, colIdx: usize, gT: usize, xT: usize, out: usize,
): void {
  if (m == 0) {
    memory.fill(out + ((<usize>j0 * <usize>k) << 2), 0, (<usize>(j1 - j0) * <usize>k) << 2);
    return;
  }
  let tb = nIn > 0 ? (65536 / nIn) & ~7 : m; // ~256 KiB of Xᵀ per block
  if (tb < 16) tb = 16;
  for (let t0 = 0; t0 < m; t0 += tb) fanInSddmmBlock(j0, j1, m, k, t0, min(m, t0 + tb), liveRows, colIdx, gT, xT, out);
}

function fanInSddmmBlock(
  j0: i32, j1: i32, m: i32, k: i32, t0: i32, t1: i32, liveRows: usize, colIdx: usize, gT: usize, xT: usize,
  out: usize,
): void {
  const mbytes = <usize>m << 2;
  const first = t0 == 0;
  for (let j = j0; j < j1; j++) {
    const ar = gT + <usize>load<i32>(liveRows + (<usize>j << 2)) * mbytes;
    sampledRowDots<u16>(j * k, (j + 1) * k, colIdx, ar, xT, mbytes, t0, t1, first, out);
  }
}

/**
 * fanInSddmm's dense path for rows [r0, r1) of W (used when the stored entries are a large enough share of
 * W that a GEMM is cheaper, as sddmm's sddmmDenseRows): blocks of rb rows of Gᵀ·X by the GEMM into `c`
 * (rb·nIn floats), then the live rows' entries picked into `out`. The GEMM sums every element in increasing i
 * from 0 (assembly/gemm.ts), so the values are the sparse path's. `ws`: gemmWorkspaceBytes(rb, nIn, m) bytes.
 */
export function fanInSddmmDenseRows(
  r0: i32, r1: i32, rb: i32, m: i32, n: i32, nIn: i32, g: usize, x: usize, k: i32, live: i32, liveRows: usize,
  colIdx: usize, out: usize, c: usize, ws: usize,
): void {
  let j = 0;
  while (j < live && load<i32>(liveRows + (<usize>j << 2)) < r0) j++;
  const nb = <usize>nIn << 2;
  for (let b0 = r0; b0 < r1; b0 += rb) {
    const rows = min(rb, r1 - b0);
    // op(A) = Gᵀ: element (r, i) at g[i·n + r]; op(B) = X [m, nIn].
    gemm(rows, nIn, m, g + (<usize>b0 << 2), 1, n, x, nIn, 1, c, nIn, 0, 1, 0, 0, 0, ws);
    for (; j < live; j++) {
      const r = load<i32>(liveRows + (<usize>j << 2));
      if (r >= b0 + rows) break;
      const cr = c + <usize>(r - b0) * nb;
      for (let q = j * k; q < (j + 1) * k; q++) {
        store<f32>(out + (<usize>q << 2), load<f32>(cr + (<usize>load<u16>(colIdx + (<usize>q << 1)) << 2)));
      }
    }
  }
}
