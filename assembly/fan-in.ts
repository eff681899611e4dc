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

@inline function madd(acc: v128, a: v128, b: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, acc);
  return f32x4.add(acc, f32x4.mul(a, b));
}

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
 * rows), which is transposed into out.
 */
export function denseFanInT(
  m: i32, nIn: i32, x: usize, n: i32, k: i32, live: i32, liveRows: usize, colIdx: usize, values: usize,
  out: usize, ws: usize,
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
      sparseTranspose(oT, n, rows, out + ((<usize>i0 * <usize>n) << 2));
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
    const q0 = j * k;
    const q1 = q0 + k;
    const vp = values + (<usize>q0 << 2);
    const cp = colIdx + (<usize>q0 << 1);
    let i = 0;
    // 32 rows of X at a time: 8 accumulators stay in registers over the row's k entries.
    for (; i + 32 <= rows; i += 32) {
      let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
      let a4 = f32x4.splat(0), a5 = f32x4.splat(0), a6 = f32x4.splat(0), a7 = f32x4.splat(0);
      const base = xT + (<usize>i << 2);
      let t: usize = 0;
      const kk = <usize>k;
      // Two entries per iteration (each accumulator still adds them in order): twice the independent loads in
      // flight per loop test, as spmm does.
      for (; t + 1 < kk; t += 2) {
        const v = v128.load32_splat(vp + (t << 2));
        const w = v128.load32_splat(vp + (t << 2), 4);
        const br = base + <usize>load<u16>(cp + (t << 1)) * rb;
        const bs = base + <usize>load<u16>(cp + (t << 1), 2) * rb;
        a0 = madd(madd(a0, v, v128.load(br, 0)), w, v128.load(bs, 0));
        a1 = madd(madd(a1, v, v128.load(br, 16)), w, v128.load(bs, 16));
        a2 = madd(madd(a2, v, v128.load(br, 32)), w, v128.load(bs, 32));
        a3 = madd(madd(a3, v, v128.load(br, 48)), w, v128.load(bs, 48));
        a4 = madd(madd(a4, v, v128.load(br, 64)), w, v128.load(bs, 64));
        a5 = madd(madd(a5, v, v128.load(br, 80)), w, v128.load(bs, 80));
        a6 = madd(madd(a6, v, v128.load(br, 96)), w, v128.load(bs, 96));
        a7 = madd(madd(a7, v, v128.load(br, 112)), w, v128.load(bs, 112));
      }
      if (t < kk) {
        const v = v128.load32_splat(vp + (t << 2));
        const br = base + <usize>load<u16>(cp + (t << 1)) * rb;
        a0 = madd(a0, v, v128.load(br, 0));
        a1 = madd(a1, v, v128.load(br, 16));
        a2 = madd(a2, v, v128.load(br, 32));
        a3 = madd(a3, v, v128.load(br, 48));
        a4 = madd(a4, v, v128.load(br, 64));
        a5 = madd(a5, v, v128.load(br, 80));
        a6 = madd(a6, v, v128.load(br, 96));
        a7 = madd(a7, v, v128.load(br, 112));
      }
      const o = orow + (<usize>i << 2);
      v128.store(o, a0, 0);
      v128.store(o, a1, 16);
      v128.store(o, a2, 32);
      v128.store(o, a3, 48);
      v128.store(o, a4, 64);
      v128.store(o, a5, 80);
      v128.store(o, a6, 96);
      v128.store(o, a7, 112);
    }
    for (; i + 4 <= rows; i += 4) {
      let a0 = f32x4.splat(0);
      const base = xT + (<usize>i << 2);
      for (let q = q0; q < q1; q++) {
        a0 = madd(a0, v128.load32_splat(values + (<usize>q << 2)), v128.load(base + <usize>load<u16>(colIdx + (<usize>q << 1)) * rb));
      }
      v128.store(orow + (<usize>i << 2), a0);
    }
    for (; i < rows; i++) {
      let s: f32 = 0;
      const base = xT + (<usize>i << 2);
      for (let q = q0; q < q1; q++) {
        s += load<f32>(values + (<usize>q << 2)) * load<f32>(base + <usize>load<u16>(colIdx + (<usize>q << 1)) * rb);
      }
      store<f32>(orow + (<usize>i << 2), s);
    }
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
