// topk.wgsl: top-k along the last axis, and masked top-k by magnitude.
//
// Order: NaN above +inf (as the js reference), ties by lower index.
// topk: one invocation per (row, element) computes the element's rank in the row (how many elements come
// before it); elements with rank < k write themselves at that position. Exact and deterministic, O(d) per
// element. Params: [0] rows * d, [1] d, [2] k, [3] largest.

const WG: u32 = 64u;

@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read_write> VALS: array<f32>;
@group(0) @binding(3) var<storage, read_write> IDXS: array<i32>;

// -1, 0, 1 as a ranks below, equal to, above b (NaN highest).
fn rank_cmp(a: f32, b: f32) -> i32 {
  let an = is_nan(a);
  let bn = is_nan(b);
  if (an || bn) { return select(0, 1, an) - select(0, 1, bn); }
  if (a < b) { return -1; }
  if (a > b) { return 1; }
  return 0;
}

@compute @workgroup_size(WG)
fn topk(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = flat_id(wid, nwg, lid, WG);
  if (i >= pu(0u)) { return; }
  let d = pu(1u);
  let k = pu(2u);
  let largest = pu(3u) != 0u;
  let row = i / d;
  let e = i % d;
  let base = row * d;
  let v = X[i];
  var rank = 0u;
  for (var j = 0u; j < d; j++) {
    var c = rank_cmp(X[base + j], v);
    if (!largest) { c = -c; }
    if (c > 0 || (c == 0 && j < e)) { rank++; }
  }
  if (rank < k) {
    VALS[row * k + rank] = v;
    IDXS[row * k + rank] = i32(e);
  }
}

// masked_topk: one workgroup. Magnitudes compare as the u32 bits of |x| (monotonic for non-negative floats,
// NaN above inf). Phase 1 finds the bits T of the k-th largest candidate by a 32-step binary search with
// workgroup counts; phase 2 marks candidates above T, and the first (k - count above) candidates equal to T
// in index order (chunked prefix counts). Params: [0] n, [1] k.
@group(0) @binding(1) var<storage, read> MX: array<f32>;
@group(0) @binding(2) var<storage, read> MC: array<u32>;
@group(0) @binding(3) var<storage, read_write> MOUT: array<u32>;

const MWG: u32 = 256u;
var<workgroup> cnt: atomic<u32>;
var<workgroup> chunk_ties: array<u32, MWG>;

fn mag(i: u32) -> u32 { return bitcast<u32>(MX[i]) & 0x7fffffffu; }

@compute @workgroup_size(MWG)
fn masked_topk(@builtin(local_invocation_index) lid: u32) {
  let n = pu(0u);
  let k = pu(1u);
  var prefix = 0u;
  // Largest T with count(candidates with mag >= T) >= k, built bit by bit from the top.
  for (var bit = 32u; bit > 0u; bit--) {
    let trial = prefix | (1u << (bit - 1u));
    if (lid == 0u) { atomicStore(&cnt, 0u); }
    workgroupBarrier();
    var c = 0u;
    for (var i = lid; i < n; i += MWG) {
      if (MC[i] != 0u && mag(i) >= trial) { c++; }
    }
    atomicAdd(&cnt, c);
    workgroupBarrier();
    let total = atomicLoad(&cnt);
    workgroupBarrier();
    if (total >= k) { prefix = trial; }
  }
  let T = prefix;
  // Candidates strictly above T (all selected), and ties per contiguous chunk.
  if (lid == 0u) { atomicStore(&cnt, 0u); }
  workgroupBarrier();
  let per = (n + MWG - 1u) / MWG;
  let start = lid * per;
  let stop = min(start + per, n);
  var above = 0u;
  var ties = 0u;
  for (var i = start; i < stop; i++) {
    if (MC[i] != 0u) {
      let m = mag(i);
      if (m > T) { above++; } else if (m == T) { ties++; }
    }
  }
  atomicAdd(&cnt, above);
  chunk_ties[lid] = ties;
  workgroupBarrier();
  let total_above = atomicLoad(&cnt);
  var need = 0u;
  if (k > total_above) { need = k - total_above; }
  if (k == 0u) { need = 0u; }
  var before = 0u;
  for (var j = 0u; j < lid; j++) { before += chunk_ties[j]; }
  for (var i = start; i < stop; i++) {
    var sel = 0u;
    if (MC[i] != 0u && k > 0u) {
      let m = mag(i);
      if (m > T) { sel = 1u; }
      else if (m == T) {
        if (before < need) { sel = 1u; }
        before++;
      }
    }
    MOUT[i] = sel;
  }
}
