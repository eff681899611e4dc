// The inner loop nest of the sparse × dense products: one sparse row (stored entries [p0, p1): values and column
// indices) times a dense panel, out[j] = Σ_p value[p] · B[idx[p]][j] in increasing p, for the panel's columns
// j ∈ [jStart, jEnd). CSR's spmm / denseCsrT tiles (assembly/sparse.ts, i32 indices) and the constant fan-in
// tiles (assembly/fan-in.ts, u16 indices) both run it: AssemblyScript compiles the generic once per index type.
import { madd } from './common.ts';

/** The row of B (rows of `rowBytes`) that the index at `cp` names, from the panel's first column `jb` (bytes). */
@inline function panelRow<I>(b: usize, cp: usize, slot: usize, rowBytes: usize, jb: usize): usize {
  return b + <usize>load<I>(cp + slot * sizeof<I>()) * rowBytes + jb;
}

/**
 * orow[j] = Σ_{p ∈ [p0, p1)} values[p] · B[idx[p]][j] for j ∈ [jStart, jEnd), every sum from 0 in increasing p.
 * 32 columns at a time (8 f32x4 accumulators in registers over the row's entries, two entries per iteration:
 * twice the independent loads in flight per loop test, +20% at full density, +8% at 10%), then 4, then 1.
 */
@inline export function sparseRowPanel<I>(
  p0: i32, p1: i32, idx: usize, values: usize, b: usize, rowBytes: usize, jStart: i32, jEnd: i32, orow: usize,
): void {
  let j = jStart;
  for (; j + 32 <= jEnd; j += 32) {
    let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
    let a4 = f32x4.splat(0), a5 = f32x4.splat(0), a6 = f32x4.splat(0), a7 = f32x4.splat(0);
    const jb = <usize>j << 2;
    let p = p0;
    for (; p + 1 < p1; p += 2) {
      const v = v128.load32_splat(values + (<usize>p << 2));
      const w = v128.load32_splat(values + (<usize>p << 2), 4);
      const cp = idx + <usize>p * sizeof<I>();
      const br = panelRow<I>(b, cp, 0, rowBytes, jb);
      const bs = panelRow<I>(b, cp, 1, rowBytes, jb);
      a0 = madd(madd(a0, v, v128.load(br, 0)), w, v128.load(bs, 0));
      a1 = madd(madd(a1, v, v128.load(br, 16)), w, v128.load(bs, 16));
      a2 = madd(madd(a2, v, v128.load(br, 32)), w, v128.load(bs, 32));
      a3 = madd(madd(a3, v, v128.load(br, 48)), w, v128.load(bs, 48));
      a4 = madd(madd(a4, v, v128.load(br, 64)), w, v128.load(bs, 64));
      a5 = madd(madd(a5, v, v128.load(br, 80)), w, v128.load(bs, 80));
      a6 = madd(madd(a6, v, v128.load(br, 96)), w, v128.load(bs, 96));
      a7 = madd(madd(a7, v, v128.load(br, 112)), w, v128.load(bs, 112));
    }
    for (; p < p1; p++) {
      const v = v128.load32_splat(values + (<usize>p << 2));
      const br = panelRow<I>(b, idx + <usize>p * sizeof<I>(), 0, rowBytes, jb);
      a0 = madd(a0, v, v128.load(br, 0));
      a1 = madd(a1, v, v128.load(br, 16));
      a2 = madd(a2, v, v128.load(br, 32));
      a3 = madd(a3, v, v128.load(br, 48));
      a4 = madd(a4, v, v128.load(br, 64));
      a5 = madd(a5, v, v128.load(br, 80));
      a6 = madd(a6, v, v128.load(br, 96));
      a7 = madd(a7, v, v128.load(br, 112));
    }
    const o = orow + jb;
    v128.store(o, a0, 0);
    v128.store(o, a1, 16);
    v128.store(o, a2, 32);
    v128.store(o, a3, 48);
    v128.store(o, a4, 64);
    v128.store(o, a5, 80);
    v128.store(o, a6, 96);
    v128.store(o, a7, 112);
  }
  for (; j + 4 <= jEnd; j += 4) {
    let a0 = f32x4.splat(0);
    const jb = <usize>j << 2;
    for (let p = p0; p < p1; p++) {
      a0 = madd(a0, v128.load32_splat(values + (<usize>p << 2)), v128.load(panelRow<I>(b, idx + <usize>p * sizeof<I>(), 0, rowBytes, jb)));
    }
    v128.store(orow + jb, a0);
  }
  for (; j < jEnd; j++) {
    let s: f32 = 0;
    const jb = <usize>j << 2;
    for (let p = p0; p < p1; p++) s += load<f32>(values + (<usize>p << 2)) * load<f32>(panelRow<I>(b, idx + <usize>p * sizeof<I>(), 0, rowBytes, jb));
    store<f32>(orow + jb, s);
  }
}
