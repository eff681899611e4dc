// bsr.wgsl: block-sparse (BSR, 4×4 blocks) kernels. blockPtr / blockCol are i32; a block's 16 values are
// column-major (values[16b + 4c + r] = W[4bi + r, 4bj + c]), so one block column is one vec4 over the 4 rows.

const WG: u32 = 64u;

@group(0) @binding(1) var<storage, read> BPTR: array<i32>;
@group(0) @binding(2) var<storage, read> BCOL: array<i32>;
@group(0) @binding(3) var<storage, read> BVALS: array<f32>;
@group(0) @binding(4) var<storage, read> BX: array<f32>;
@group(0) @binding(5) var<storage, read_write> BOUT: array<f32>;

// denseBsrT: X (BX, [m, k]) x W^T (W BSR [n, k]) → [m, n]. One invocation per row i of X and block row bi of
// W: the 4 outputs out[i, 4bi .. 4bi+3] as one vec4, summed over the block row's blocks in storage order and
// c = 0..3 inside a block (increasing k); X reads past k are the zero padding. Params: [0] m · nbr,
// [1] nbr = ceil(n/4), [2] n, [3] k.
@compute @workgroup_size(WG)
fn dense_bsrt(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
              @builtin(local_invocation_index) lid: u32) {
  let t = flat_id(wid, nwg, lid, WG);
  if (t >= pu(0u)) { return; }
  let nbr = pu(1u);
  let n = pu(2u);
  let k = pu(3u);
  let i = t / nbr;
  let bi = t % nbr;
  var acc = vec4<f32>(0.0);
  for (var p = BPTR[bi]; p < BPTR[bi + 1u]; p++) {
    let k0 = u32(BCOL[p]) * 4u;
    let v = u32(p) * 16u;
    for (var c = 0u; c < 4u; c++) {
      var xv = 0.0;
      if (k0 + c < k) { xv = BX[i * k + k0 + c]; }
      let col = vec4<f32>(BVALS[v + 4u * c], BVALS[v + 4u * c + 1u], BVALS[v + 4u * c + 2u], BVALS[v + 4u * c + 3u]);
      acc = fma(col, vec4<f32>(xv), acc);
    }
  }
  let o = i * n + bi * 4u;
  let rows = min(4u, n - bi * 4u);
  for (var r = 0u; r < rows; r++) { BOUT[o + r] = acc[r]; }
}

// Block row of stored block p: the last block row bi with blockPtr[bi] <= p (binary search; empty rows skipped).
fn block_row_of(p: i32, nbr: u32) -> u32 {
  var lo = 0u;
  var hi = nbr;        // invariant: blockPtr[lo] <= p < blockPtr[hi]
  while (hi - lo > 1u) {
    let mid = (lo + hi) / 2u;
    if (BPTR[mid] <= p) { lo = mid; } else { hi = mid; }
  }
  return lo;
}

// bsrToDense, scatter part: one invocation per stored block, its in-range positions written into the zeroed
// out [rows, cols]. Params: [0] nblocks, [1] nbr, [2] rows, [3] cols.
@compute @workgroup_size(WG)
fn bsr_scatter(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
               @builtin(local_invocation_index) lid: u32) {
  let p = flat_id(wid, nwg, lid, WG);
  if (p >= pu(0u)) { return; }
  let rows = pu(2u);
  let cols = pu(3u);
  let i0 = block_row_of(i32(p), pu(1u)) * 4u;
  let j0 = u32(BCOL[p]) * 4u;
  for (var c = 0u; c < 4u; c++) {
    for (var r = 0u; r < 4u; r++) {
      if (i0 + r < rows && j0 + c < cols) { BOUT[(i0 + r) * cols + j0 + c] = BVALS[p * 16u + 4u * c + r]; }
    }
  }
}

// ---- bsrSddmm: the weight gradient at the stored blocks (G in BX: [m, rows]; X in BX2: [m, cols]) --------
@group(0) @binding(6) var<storage, read> BX2: array<f32>;

// out[16p + 4c + r] = Σ_i G[i, 4bi + r] · X[i, 4bj + c] in increasing i; positions past the matrix edge are 0.
// One invocation per (stored block p, block column c): the 4 rows as one vec4 (the block is column-major).
// Params: [0] nblocks · 4, [1] nbr, [2] rows, [3] cols, [4] m.
@compute @workgroup_size(WG)
fn bsr_sddmm(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
             @builtin(local_invocation_index) lid: u32) {
  let t = flat_id(wid, nwg, lid, WG);
  if (t >= pu(0u)) { return; }
  let p = t / 4u;
  let c = t % 4u;
  let rows = pu(2u);
  let cols = pu(3u);
  let m = pu(4u);
  let i0 = block_row_of(i32(p), pu(1u)) * 4u;
  let j = u32(BCOL[p]) * 4u + c;
  var acc = vec4<f32>(0.0);
  if (j < cols) {
    // Rows past the edge read row rows - 1 (in range) and are zeroed below.
    let r1 = min(i0 + 1u, rows - 1u);
    let r2 = min(i0 + 2u, rows - 1u);
    let r3 = min(i0 + 3u, rows - 1u);
    for (var i = 0u; i < m; i++) {
      let gi = i * rows;
      let g = vec4<f32>(BX[gi + i0], BX[gi + r1], BX[gi + r2], BX[gi + r3]);
      acc = fma(g, vec4<f32>(BX2[i * cols + j]), acc);
    }
    for (var r = 0u; r < 4u; r++) { if (i0 + r >= rows) { acc[r] = 0.0; } }
  }
  let o = p * 16u + 4u * c;
  for (var r = 0u; r < 4u; r++) { BOUT[o + r] = acc[r]; }
}

// ---- dense → BSR (count per block row, scan (sparse.wgsl's csr_scan), fill; nblocks is the caller's) -----
// Keep rule: mask != 0 when a mask is given (binding 2, HAS_MASK), else x != 0 (NaN kept). A block is stored
// when any of its positions is kept; its other positions (not kept, or past the edge) are stored as 0.
const HAS_MASK: u32 = 0u;

@group(0) @binding(1) var<storage, read> DX_: array<f32>;
@group(0) @binding(2) var<storage, read> DMASK: array<u32>;
@group(0) @binding(3) var<storage, read_write> DPTR: array<i32>;
@group(0) @binding(4) var<storage, read_write> DCOL: array<i32>;
@group(0) @binding(5) var<storage, read_write> DVAL: array<f32>;

fn kept(i: u32, j: u32) -> bool {
  let rows = pu(0u);
  let cols = pu(1u);
  if (i >= rows || j >= cols) { return false; }
  if (HAS_MASK == 1u) { return DMASK[i * cols + j] != 0u; }
  let v = DX_[i * cols + j];
  return v != 0.0 || is_nan(v);
}

fn block_stored(bi: u32, bj: u32) -> bool {
  for (var r = 0u; r < 4u; r++) {
    for (var c = 0u; c < 4u; c++) { if (kept(bi * 4u + r, bj * 4u + c)) { return true; } }
  }
  return false;
}

// blockPtr[bi + 1] = stored blocks of block row bi (blockPtr[0] = 0). Params: [0] rows, [1] cols, [2] nbr,
// [3] nbc.
@compute @workgroup_size(WG)
fn bsr_count(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
             @builtin(local_invocation_index) lid: u32) {
  let bi = flat_id(wid, nwg, lid, WG);
  if (bi == 0u) { DPTR[0] = 0; }
  if (bi >= pu(2u)) { return; }
  var c = 0;
  for (var bj = 0u; bj < pu(3u); bj++) { if (block_stored(bi, bj)) { c++; } }
  DPTR[bi + 1u] = c;
}

// blockCol / values of block row bi from blockPtr[bi], in block-column order. Params: [0] rows, [1] cols,
// [2] nbr, [3] nbc, [4] nblocks (the caller's count: never written past; a mismatch is reported by the host).
@compute @workgroup_size(WG)
fn bsr_fill(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
            @builtin(local_invocation_index) lid: u32) {
  let bi = flat_id(wid, nwg, lid, WG);
  if (bi >= pu(2u)) { return; }
  let cols = pu(1u);
  let nblocks = i32(pu(4u));
  var p = DPTR[bi];
  for (var bj = 0u; bj < pu(3u) && p < nblocks; bj++) {
    if (!block_stored(bi, bj)) { continue; }
    DCOL[p] = i32(bj);
    for (var c = 0u; c < 4u; c++) {
      for (var r = 0u; r < 4u; r++) {
        let i = bi * 4u + r;
        let j = bj * 4u + c;
        var v = 0.0;
        if (kept(i, j)) { v = DX_[i * cols + j]; }
        DVAL[u32(p) * 16u + 4u * c + r] = v;
      }
    }
    p++;
  }
}
