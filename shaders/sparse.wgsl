// sparse.wgsl: CSR kernels. Row pointers and column indices are i32; one invocation per output element,
// summing a row's stored entries in storage order.

const WG: u32 = 64u;

@group(0) @binding(1) var<storage, read> ROWPTR: array<i32>;
@group(0) @binding(2) var<storage, read> COLIDX: array<i32>;
@group(0) @binding(3) var<storage, read> VALS: array<f32>;
@group(0) @binding(4) var<storage, read> D: array<f32>;
@group(0) @binding(5) var<storage, read_write> OUT: array<f32>;

// spmm: A (CSR [m, k]) x B (D, [k, n]) → [m, n]. Params: [0] m * n, [1] n.
@compute @workgroup_size(WG)
fn spmm(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = flat_id(wid, nwg, lid, WG);
  if (i >= pu(0u)) { return; }
  let n = pu(1u);
  let row = i / n;
  let j = i % n;
  var acc = 0.0;
  for (var p = ROWPTR[row]; p < ROWPTR[row + 1u]; p++) {
    acc = fma(VALS[p], D[u32(COLIDX[p]) * n + j], acc);
  }
  OUT[i] = acc;
}

// denseCsrT: X (D, [m, k]) x W^T (W CSR [n, k]) → [m, n]. Params: [0] m * n, [1] n, [2] k.
@compute @workgroup_size(WG)
fn dense_csrt(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
              @builtin(local_invocation_index) lid: u32) {
  let i = flat_id(wid, nwg, lid, WG);
  if (i >= pu(0u)) { return; }
  let n = pu(1u);
  let k = pu(2u);
  let row = i / n;
  let r = i % n;
  var acc = 0.0;
  for (var p = ROWPTR[r]; p < ROWPTR[r + 1u]; p++) {
    acc = fma(VALS[p], D[row * k + u32(COLIDX[p])], acc);
  }
  OUT[i] = acc;
}

// Row of stored entry p: the last row i with rowPtr[i] <= p (binary search; empty rows skipped).
fn row_of(p: i32, rows: u32) -> u32 {
  var lo = 0u;
  var hi = rows;        // invariant: rowPtr[lo] <= p < rowPtr[hi]
  while (hi - lo > 1u) {
    let mid = (lo + hi) / 2u;
    if (ROWPTR[mid] <= p) { lo = mid; } else { hi = mid; }
  }
  return lo;
}

// csrToDense, scatter part: out (zeroed) [rows, cols][i, colIdx[p]] = values[p]. Params: [0] nnz, [1] rows,
// [2] cols.
@compute @workgroup_size(WG)
fn csr_scatter(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
               @builtin(local_invocation_index) lid: u32) {
  let p = flat_id(wid, nwg, lid, WG);
  if (p >= pu(0u)) { return; }
  let row = row_of(i32(p), pu(1u));
  OUT[row * pu(2u) + u32(COLIDX[p])] = VALS[p];
}

// sddmm: for each stored (i, j) of the pattern, sum_t op(A)[i, t] op(B)[t, j]. A at binding 3 (VALS slot is
// A here), B at 4. Params: [0] nnz, [1] rows, [2] k, [3] a stride i, [4] a stride t, [5] b stride t,
// [6] b stride j.
@compute @workgroup_size(WG)
fn sddmm(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
         @builtin(local_invocation_index) lid: u32) {
  let p = flat_id(wid, nwg, lid, WG);
  if (p >= pu(0u)) { return; }
  let i = row_of(i32(p), pu(1u));
  let j = u32(COLIDX[p]);
  let k = pu(2u);
  var acc = 0.0;
  for (var t = 0u; t < k; t++) {
    acc = fma(VALS[i * pu(3u) + t * pu(4u)], D[t * pu(5u) + j * pu(6u)], acc);
  }
  OUT[p] = acc;
}

// ---- dense → CSR (three passes: count per row, scan, fill; nnz is the caller's, checked by the runtime) --
// Keep rule: mask != 0 when a mask is given (binding 2, HAS_MASK), else x != 0 (NaN kept).
const HAS_MASK: u32 = 0u;
const SWG: u32 = 256u;

@group(0) @binding(1) var<storage, read> DX_: array<f32>;
@group(0) @binding(2) var<storage, read> DMASK: array<u32>;
@group(0) @binding(3) var<storage, read_write> DROWPTR: array<i32>;
@group(0) @binding(4) var<storage, read_write> DCOL: array<i32>;
@group(0) @binding(5) var<storage, read_write> DVAL: array<f32>;

fn keep(i: u32) -> bool {
  if (HAS_MASK == 1u) { return DMASK[i] != 0u; }
  let v = DX_[i];
  return v != 0.0 || is_nan(v);
}

// rowPtr[i + 1] = count of kept entries in row i (rowPtr[0] = 0). Params: [0] rows, [1] cols.
@compute @workgroup_size(WG)
fn csr_count(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
             @builtin(local_invocation_index) lid: u32) {
  let r = flat_id(wid, nwg, lid, WG);
  let rows = pu(0u);
  if (r == 0u) { DROWPTR[0] = 0; }
  if (r >= rows) { return; }
  let cols = pu(1u);
  var c = 0;
  for (var j = 0u; j < cols; j++) { if (keep(r * cols + j)) { c++; } }
  DROWPTR[r + 1u] = c;
}

// In-place inclusive scan of rowPtr[1..rows] by one workgroup: contiguous chunks, chunk totals scanned in
// workgroup memory. Params: [0] rows.
var<workgroup> chunk_sum: array<i32, SWG>;

@compute @workgroup_size(SWG)
fn csr_scan(@builtin(local_invocation_index) lid: u32) {
  let rows = pu(0u);
  let per = (rows + SWG - 1u) / SWG;
  let start = 1u + lid * per;
  let stop = min(start + per, rows + 1u);
  var s = 0;
  for (var i = start; i < stop; i++) { s += DROWPTR[i]; }
  chunk_sum[lid] = s;
  workgroupBarrier();
  var before = 0;
  for (var j = 0u; j < lid; j++) { before += chunk_sum[j]; }
  for (var i = start; i < stop; i++) {
    before += DROWPTR[i];
    DROWPTR[i] = before;
  }
}

// colIdx / values of row r at rowPtr[r] .. in column order. Params: [0] rows, [1] cols, [2] nnz (the
// caller's count: never written past, whatever the real count is; a mismatch is reported by the host).
@compute @workgroup_size(WG)
fn csr_fill(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
            @builtin(local_invocation_index) lid: u32) {
  let r = flat_id(wid, nwg, lid, WG);
  if (r >= pu(0u)) { return; }
  let cols = pu(1u);
  let nnz = i32(pu(2u));
  var p = DROWPTR[r];
  for (var j = 0u; j < cols && p < nnz; j++) {
    if (keep(r * cols + j)) {
      DCOL[p] = i32(j);
      DVAL[p] = DX_[r * cols + j];
      p++;
    }
  }
}
