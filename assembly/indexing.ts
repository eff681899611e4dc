// Indexing kernels: indexSelect, gather, scatterAdd, topk, oneHot. The glue validates every index before
// calling these (an out-of-range index is an Error there, never a trap or a stray write here).
import { cnt } from './common.ts';

/** out[o, j, :] = x[o, idx[j], :] for x [outer, len, inner]; es: element size in bytes. */
export function indexSelect3(x: usize, idx: usize, out: usize, outer: i32, len: i32, inner: i32, n: i32, es: i32): void {
  const row = <usize>inner * <usize>es;
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < n; j++) {
      const k = load<i32>(idx + (<usize>j << 2));
      memory.copy(out + (<usize>o * <usize>n + <usize>j) * row, x + (<usize>o * <usize>len + <usize>k) * row, row);
    }
  }
}

/**
 * Walk the index tensor (shape shp[rank], rows along the last dim); x offset = Σ walk[d]·i_d + idx·axisStride.
 * mode 0: gather (out[i] = x[...]), es = element size. mode 1: scatter-add of f32 src into the f64
 * accumulator `x` (x offset → acc offset).
 */
@inline function walkIndex(mode: i32, x: usize, idx: usize, out: usize, es: i32, rank: i32, shp: usize, walk: usize, axisStride: i32): void {
  const last = <usize>(rank - 1) << 2;
  const n = load<i32>(shp + last);
  const ls = load<i32>(walk + last);
  let rows = 1;
  for (let d = 0; d < rank - 1; d++) {
    rows *= load<i32>(shp + (<usize>d << 2));
    store<i32>(cnt() + (<usize>d << 2), 0);
  }
  let off = 0;
  for (let r = 0; r < rows; r++) {
    const o = r * n;
    for (let j = 0; j < n; j++) {
      const e = o + j;
      const src = off + j * ls + load<i32>(idx + (<usize>e << 2)) * axisStride;
      if (mode == 1) {
        const q = x + (<usize>src << 3);
        store<f64>(q, load<f64>(q) + <f64>load<f32>(out + (<usize>e << 2)));
      } else if (es == 4) {
        store<u32>(out + (<usize>e << 2), load<u32>(x + (<usize>src << 2)));
      } else {
        store<u8>(out + <usize>e, load<u8>(x + <usize>src));
      }
    }
    for (let d = rank - 2; d >= 0; d--) {
      const dp = <usize>d << 2;
      const c = load<i32>(cnt() + dp) + 1;
      off += load<i32>(walk + dp);
      if (c < load<i32>(shp + dp)) {
        store<i32>(cnt() + dp, c);
        break;
      }
      off -= load<i32>(walk + dp) * c;
      store<i32>(cnt() + dp, 0);
    }
  }
}

export function gatherND(x: usize, idx: usize, out: usize, es: i32, rank: i32, shp: usize, walk: usize, axisStride: i32): void {
  walkIndex(0, x, idx, out, es, rank, shp, walk, axisStride);
}

/** acc: f64 workspace of the output size (zeroed here); out: f32 result of outSize elements. */
export function scatterAddND(
  src: usize, idx: usize, acc: usize, out: usize, outSize: i32, rank: i32, shp: usize, walk: usize, axisStride: i32,
): void {
  memory.fill(acc, 0, <usize>outSize << 3);
  walkIndex(1, acc, idx, src, 4, rank, shp, walk, axisStride);
  for (let i = 0; i < outSize; i++) store<f32>(out + (<usize>i << 2), <f32>load<f64>(acc + (<usize>i << 3)));
}

export function oneHotRows(idx: usize, out: usize, n: i32, depth: i32): void {
  memory.fill(out, 0, <usize>n * <usize>depth << 2);
  for (let i = 0; i < n; i++) {
    const v = load<i32>(idx + (<usize>i << 2));
    if (v >= 0 && v < depth) store<f32>(out + ((<usize>i * <usize>depth + <usize>v) << 2), 1.0);
  }
}

// ---- top-k ---------------------------------------------------------------------------------------

let ROW: usize = 0;
let LARGEST: bool = true;

/** Numeric order with NaN above everything (NaN == NaN). */
@inline function rankCmp(a: f32, b: f32): i32 {
  const an = a != a;
  const bn = b != b;
  if (an || bn) return <i32>an - <i32>bn;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Whether element i ranks before element j in the output order (ties: lower index first). */
@inline function before(i: i32, j: i32): bool {
  let c = rankCmp(load<f32>(ROW + (<usize>i << 2)), load<f32>(ROW + (<usize>j << 2)));
  if (!LARGEST) c = -c;
  return c > 0 || (c == 0 && i < j);
}

/** Sift down in a heap whose root is the element that ranks last. */
function siftDown(h: usize, size: i32, start: i32): void {
  let p = start;
  while (true) {
    const l = 2 * p + 1;
    if (l >= size) break;
    let w = l;
    const r = l + 1;
    if (r < size && before(load<i32>(h + (<usize>l << 2)), load<i32>(h + (<usize>r << 2)))) w = r;
    const pv = load<i32>(h + (<usize>p << 2));
    const wv = load<i32>(h + (<usize>w << 2));
    if (before(wv, pv)) break;
    store<i32>(h + (<usize>p << 2), wv);
    store<i32>(h + (<usize>w << 2), pv);
    p = w;
  }
}

/** k first elements of each row of x [rows, d] in output order; heap: workspace of k i32. */
export function topkRows(x: usize, vals: usize, idxs: usize, rows: i32, d: i32, k: i32, largest: i32, heap: usize): void {
  LARGEST = largest != 0;
  if (k == 0) return;
  for (let r = 0; r < rows; r++) {
    ROW = x + (<usize>r * <usize>d << 2);
    let size = 0;
    for (let j = 0; j < d; j++) {
      if (size < k) {
        // Sift up: parents rank after children.
        let c = size++;
        store<i32>(heap + (<usize>c << 2), j);
        while (c > 0) {
          const p = (c - 1) >> 1;
          const pv = load<i32>(heap + (<usize>p << 2));
          if (!before(pv, j)) break;
          store<i32>(heap + (<usize>c << 2), pv);
          c = p;
        }
        store<i32>(heap + (<usize>c << 2), j);
      } else if (before(j, load<i32>(heap))) {
        store<i32>(heap, j);
        siftDown(heap, k, 0);
      }
    }
    // Pop the last-ranked element to the back, k times: the heap array ends in output order.
    for (let s = k - 1; s > 0; s--) {
      const top = load<i32>(heap);
      store<i32>(heap, load<i32>(heap + (<usize>s << 2)));
      store<i32>(heap + (<usize>s << 2), top);
      siftDown(heap, s, 0);
    }
    const ob = <usize>r * <usize>k << 2;
    for (let j = 0; j < k; j++) {
      const i = load<i32>(heap + (<usize>j << 2));
      store<i32>(idxs + ob + (<usize>j << 2), i);
      store<f32>(vals + ob + (<usize>j << 2), load<f32>(ROW + (<usize>i << 2)));
    }
  }
}
