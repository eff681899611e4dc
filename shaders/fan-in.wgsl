// fan-in.wgsl: constant fan-in kernels. liveRows is i32; colIdx holds u16 column indices packed two per u32
// word (index q in bits 16·(q & 1) .. of word q >> 1, low half first); values are f32, k per live row.

const WG: u32 = 64u;

@group(0) @binding(1) var<storage, read> FROWS: array<i32>;
@group(0) @binding(2) var<storage, read> FCOL: array<u32>;
@group(0) @binding(3) var<storage, read> FVALS: array<f32>;
@group(0) @binding(4) var<storage, read> FX: array<f32>;
@group(0) @binding(5) var<storage, read_write> FOUT: array<f32>;

fn col_at(q: u32) -> u32 {
  return extractBits(FCOL[q >> 1u], (q & 1u) * 16u, 16u);
}

// denseFanInT: X (FX, [m, nIn]) x W^T (W fan-in [n, nIn]) → [m, n], out zeroed by the host (rows that are not
// live stay 0). One invocation per (row i of X, live row j): out[i, liveRows[j]] summed over the k entries in
// storage order. Params: [0] m · live, [1] live, [2] n, [3] nIn, [4] k.
@compute @workgroup_size(WG)
fn dense_fanint(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                @builtin(local_invocation_index) lid: u32) {
  let t = flat_id(wid, nwg, lid, WG);
  if (t >= pu(0u)) { return; }
  let live = pu(1u);
  let n_in = pu(3u);
  let k = pu(4u);
  let i = t / live;
  let j = t % live;
  var acc = 0.0;
  for (var q = j * k; q < (j + 1u) * k; q++) {
    acc = fma(FVALS[q], FX[i * n_in + col_at(q)], acc);
  }
  FOUT[i * pu(2u) + u32(FROWS[j])] = acc;
}

// fanInToDense: one invocation per live row, its k entries added into the zeroed out [rows, cols] (duplicate
// columns add, as csrToDense). Params: [0] live, [1] cols, [2] k.
@compute @workgroup_size(WG)
fn fanin_scatter(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                 @builtin(local_invocation_index) lid: u32) {
  let j = flat_id(wid, nwg, lid, WG);
  if (j >= pu(0u)) { return; }
  let cols = pu(1u);
  let k = pu(2u);
  let row = u32(FROWS[j]) * cols;
  for (var q = j * k; q < (j + 1u) * k; q++) {
    FOUT[row + col_at(q)] += FVALS[q];
  }
}

// ---- backward products (G in FX: [m, n]; X in FX2: [m, nIn]) -------------------------------------------
@group(0) @binding(6) var<storage, read> FX2: array<f32>;

// fanInDense: dX [m, nIn] = G [m, n] · W, out zeroed by the host (columns no live row uses stay 0). One
// invocation per row i of G, which owns dX's row i: a scatter over the live rows in order and their entries in
// storage order (the js / wasm order). Params: [0] m, [1] live, [2] n, [3] nIn, [4] k.
@compute @workgroup_size(WG)
fn fanin_dense(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
               @builtin(local_invocation_index) lid: u32) {
  let i = flat_id(wid, nwg, lid, WG);
  if (i >= pu(0u)) { return; }
  let live = pu(1u);
  let n_in = pu(3u);
  let k = pu(4u);
  let grow = i * pu(2u);
  let orow = i * n_in;
  for (var j = 0u; j < live; j++) {
    let g = FX[grow + u32(FROWS[j])];
    for (var q = j * k; q < (j + 1u) * k; q++) {
      let o = orow + col_at(q);
      FOUT[o] = fma(FVALS[q], g, FOUT[o]);
    }
  }
}

// fanInSddmm: out[q] (laid out like values) = Σ_i G[i, liveRows[q / k]] · X[i, col(q)], increasing i. One
// invocation per stored entry. Params: [0] live · k, [1] k, [2] m, [3] n, [4] nIn.
@compute @workgroup_size(WG)
fn fanin_sddmm(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
               @builtin(local_invocation_index) lid: u32) {
  let q = flat_id(wid, nwg, lid, WG);
  if (q >= pu(0u)) { return; }
  let m = pu(2u);
  let n = pu(3u);
  let n_in = pu(4u);
  let r = u32(FROWS[q / pu(1u)]);
  let c = col_at(q);
  var acc = 0.0;
  for (var i = 0u; i < m; i++) {
    acc = fma(FX[i * n + r], FX2[i * n_in + c], acc);
  }
  FOUT[q] = acc;
}

// ---- dense → fan-in (flag live rows, scan (sparse.wgsl's csr_scan), fill; k and live are the caller's) ------
// Keep rule: mask != 0 when a mask is given (binding 2, HAS_MASK), else x != 0 (NaN kept).
const HAS_MASK: u32 = 0u;

@group(0) @binding(1) var<storage, read> CX: array<f32>;
@group(0) @binding(2) var<storage, read> CMASK: array<u32>;
@group(0) @binding(3) var<storage, read_write> CPTR: array<i32>;
@group(0) @binding(4) var<storage, read_write> CBAD: array<atomic<i32>>;
@group(0) @binding(5) var<storage, read_write> LROWS: array<i32>;
@group(0) @binding(6) var<storage, read_write> LCOL: array<atomic<u32>>;
@group(0) @binding(7) var<storage, read_write> LVAL: array<f32>;

fn kept_at(e: u32) -> bool {
  if (HAS_MASK == 1u) { return CMASK[e] != 0u; }
  let v = CX[e];
  return v != 0.0 || is_nan(v);
}

// ptr[r + 1] = 1 when row r keeps anything (ptr[0] = 0); a row keeping neither 0 nor k entries raises the
// host-checked word bad[0] to r + 1 (the last such row). Params: [0] rows, [1] cols, [2] k.
@compute @workgroup_size(WG)
fn fanin_count(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
               @builtin(local_invocation_index) lid: u32) {
  let r = flat_id(wid, nwg, lid, WG);
  if (r == 0u) { CPTR[0] = 0; }
  if (r >= pu(0u)) { return; }
  let cols = pu(1u);
  var c = 0u;
  for (var j = 0u; j < cols; j++) { if (kept_at(r * cols + j)) { c++; } }
  if (c != 0u && c != pu(2u)) { atomicMax(&CBAD[0], i32(r) + 1); }
  CPTR[r + 1u] = select(0, 1, c != 0u);
}

// Live row r (ptr[r] < ptr[r + 1]) becomes live row j = ptr[r]: liveRows[j] = r and its first k kept entries.
// Never writes past the caller's live · k (a wrong count is reported by the host); neighbouring rows share a
// packed word when k is odd, hence atomicOr into the zeroed colIdx. Params: [0] rows, [1] cols, [2] k, [3] live.
@compute @workgroup_size(WG)
fn fanin_fill(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
              @builtin(local_invocation_index) lid: u32) {
  let r = flat_id(wid, nwg, lid, WG);
  if (r >= pu(0u)) { return; }
  let j = CPTR[r];
  if (CPTR[r + 1u] == j || u32(j) >= pu(3u)) { return; }
  let cols = pu(1u);
  let k = pu(2u);
  LROWS[j] = i32(r);
  var q = u32(j) * k;
  let q1 = q + k;
  for (var c = 0u; c < cols && q < q1; c++) {
    let e = r * cols + c;
    if (!kept_at(e)) { continue; }
    atomicOr(&LCOL[q >> 1u], c << ((q & 1u) * 16u));
    LVAL[q] = CX[e];
    q++;
  }
}
