// 1-d pooling over the last axis of [rows, L]: window k, stride, symmetric padding `pad`.
// avg counts padded zeros (divides by k); max ignores padding, records the first maximum's position
// (NaN wins, first NaN), and a window wholly in padding gives -inf and index -1.
// SIMD: avg (forward and backward) adds shifted rows with f32x4 when stride = 1; max runs 4 windows per
// f32x4 over the interior for stride 1 and 2 (stride 2 de-interleaves two loads); borders and other strides
// are scalar. Max backward accumulates in f64 in increasing output position.

@inline function winLo(off: i32, stride: i32): i32 {
  if (off >= 0) return 0;
  return (-off + stride - 1) / stride;
}
@inline function winHi(off: i32, stride: i32, l: i32, lout: i32): i32 {
  const top = l - 1 - off;
  if (top < 0) return 0;
  return min(lout, top / stride + 1);
}

export function avgPool1dRows(x: usize, out: usize, rows: i32, l: i32, lout: i32, k: i32, stride: i32, pad: i32): void {
  memory.fill(out, 0, <usize>rows * <usize>lout << 2);
  const vk = f32x4.splat(<f32>k);
  const fk = <f32>k;
  for (let r = 0; r < rows; r++) {
    const xr = x + (<usize>r * <usize>l << 2);
    const dst = out + (<usize>r * <usize>lout << 2);
    for (let t = 0; t < k; t++) {
      const off = t - pad;
      const a = winLo(off, stride);
      const b = winHi(off, stride, l, lout);
      if (stride == 1) {
        let i = a;
        for (; i + 4 <= b; i += 4) {
          const p = dst + (<usize>i << 2);
          v128.store(p, f32x4.add(v128.load(p), v128.load(xr + (<usize>(i + off) << 2))));
        }
        for (; i < b; i++) {
          const p = dst + (<usize>i << 2);
          store<f32>(p, load<f32>(p) + load<f32>(xr + (<usize>(i + off) << 2)));
        }
      } else {
        for (let i = a; i < b; i++) {
          const p = dst + (<usize>i << 2);
          store<f32>(p, load<f32>(p) + load<f32>(xr + (<usize>(i * stride + off) << 2)));
        }
      }
    }
    let i = 0;
    for (; i + 4 <= lout; i += 4) {
      const p = dst + (<usize>i << 2);
      v128.store(p, f32x4.div(v128.load(p), vk));
    }
    for (; i < lout; i++) {
      const p = dst + (<usize>i << 2);
      store<f32>(p, load<f32>(p) / fk);
    }
  }
}

export function avgPool1dBackwardRows(dy: usize, dx: usize, rows: i32, l: i32, lout: i32, k: i32, stride: i32, pad: i32): void {
  memory.fill(dx, 0, <usize>rows * <usize>l << 2);
  const vk = f32x4.splat(<f32>k);
  const fk = <f32>k;
  for (let r = 0; r < rows; r++) {
    const gr = dy + (<usize>r * <usize>lout << 2);
    const dst = dx + (<usize>r * <usize>l << 2);
    for (let t = 0; t < k; t++) {
      const off = t - pad;
      const a = winLo(off, stride);
      const b = winHi(off, stride, l, lout);
      if (stride == 1) {
        let i = a;
        for (; i + 4 <= b; i += 4) {
          const p = dst + (<usize>(i + off) << 2);
          v128.store(p, f32x4.add(v128.load(p), v128.load(gr + (<usize>i << 2))));
        }
        for (; i < b; i++) {
          const p = dst + (<usize>(i + off) << 2);
          store<f32>(p, load<f32>(p) + load<f32>(gr + (<usize>i << 2)));
        }
      } else {
        for (let i = a; i < b; i++) {
          const p = dst + (<usize>(i * stride + off) << 2);
          store<f32>(p, load<f32>(p) + load<f32>(gr + (<usize>i << 2)));
        }
      }
    }
    let i = 0;
    for (; i + 4 <= l; i += 4) {
      const p = dst + (<usize>i << 2);
      v128.store(p, f32x4.div(v128.load(p), vk));
    }
    for (; i < l; i++) {
      const p = dst + (<usize>i << 2);
      store<f32>(p, load<f32>(p) / fk);
    }
  }
}

@inline function maxOne(xr: usize, l: i32, start: i32, k: i32, vals: usize, idxs: usize): void {
  let best = -1;
  let bv: f32 = -Infinity;
  for (let t = 0; t < k; t++) {
    const pos = start + t;
    if (pos < 0 || pos >= l) continue;
    const v = load<f32>(xr + (<usize>pos << 2));
    if (best < 0 || v > bv || (v != v && bv == bv)) {
      best = pos;
      bv = v;
    }
  }
  store<f32>(vals, bv);
  store<i32>(idxs, best);
}

export function maxPool1dRows(x: usize, vals: usize, idxs: usize, rows: i32, l: i32, lout: i32, k: i32, stride: i32, pad: i32): void {
  // Windows lying wholly inside [0, l): lo·stride − pad ≥ 0 and lo·stride − pad + k − 1 ≤ l − 1.
  const inLo = winLo(-pad, stride);
  const inHi = max(inLo, winHi(k - 1 - pad, stride, l, lout));
  for (let r = 0; r < rows; r++) {
    const xr = x + (<usize>r * <usize>l << 2);
    const vr = vals + (<usize>r * <usize>lout << 2);
    const ir = idxs + (<usize>r * <usize>lout << 2);
    let lo = 0;
    for (; lo < min(inLo, lout); lo++) maxOne(xr, l, lo * stride - pad, k, vr + (<usize>lo << 2), ir + (<usize>lo << 2));
    if (stride == 1) {
      for (; lo + 4 <= inHi; lo += 4) {
        const s = lo - pad;
        let bv = v128.load(xr + (<usize>s << 2));
        let bi = i32x4.add(i32x4.splat(s), v128(0, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0));
        let found = f32x4.ne(bv, bv);
        for (let t = 1; t < k; t++) {
          const v = v128.load(xr + (<usize>(s + t) << 2));
          const nan = f32x4.ne(v, v);
          const upd = v128.andnot(v128.or(f32x4.gt(v, bv), nan), found);
          bi = v128.bitselect(i32x4.add(i32x4.splat(s + t), v128(0, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0)), bi, upd);
          bv = v128.bitselect(v, bv, upd);
          found = v128.or(found, v128.and(upd, nan));
        }
        v128.store(vr + (<usize>lo << 2), bv);
        v128.store(ir + (<usize>lo << 2), bi);
      }
    } else if (stride == 2) {
      // Lanes lo..lo+3 read x[s + t + 2j]: the even lanes of two consecutive loads (one element of
      // over-read past lane 3's window, kept inside x by the loop bound).
      for (; lo + 4 <= lout && lo * 2 - pad + k + 6 < l; lo += 4) {
        const s = lo * 2 - pad;
        const p0 = xr + (<usize>s << 2);
        let bv = i32x4.shuffle(v128.load(p0), v128.load(p0, 16), 0, 2, 4, 6);
        let bi = i32x4.add(i32x4.splat(s), i32x4(0, 2, 4, 6));
        let found = f32x4.ne(bv, bv);
        for (let t = 1; t < k; t++) {
          const pt = p0 + (<usize>t << 2);
          const v = i32x4.shuffle(v128.load(pt), v128.load(pt, 16), 0, 2, 4, 6);
          const nan = f32x4.ne(v, v);
          const upd = v128.andnot(v128.or(f32x4.gt(v, bv), nan), found);
          bi = v128.bitselect(i32x4.add(i32x4.splat(s + t), i32x4(0, 2, 4, 6)), bi, upd);
          bv = v128.bitselect(v, bv, upd);
          found = v128.or(found, v128.and(upd, nan));
        }
        v128.store(vr + (<usize>lo << 2), bv);
        v128.store(ir + (<usize>lo << 2), bi);
      }
    }
    for (; lo < lout; lo++) maxOne(xr, l, lo * stride - pad, k, vr + (<usize>lo << 2), ir + (<usize>lo << 2));
  }
}

/** dx[r, idx] += dy in increasing output position, accumulated in f64 (acc: rows·l f64). idx -1 skipped. */
export function maxPool1dBackwardRows(dy: usize, idxs: usize, dx: usize, rows: i32, l: i32, lout: i32, acc: usize): void {
  const total = <usize>rows * <usize>l;
  memory.fill(acc, 0, total << 3);
  for (let r = 0; r < rows; r++) {
    for (let o = 0; o < lout; o++) {
      const e = <usize>r * <usize>lout + <usize>o;
      const pos = load<i32>(idxs + (e << 2));
      if (pos < 0 || pos >= l) continue;
      const q = acc + ((<usize>r * <usize>l + <usize>pos) << 3);
      store<f64>(q, load<f64>(q) + <f64>load<f32>(dy + (e << 2)));
    }
  }
  for (let i: usize = 0; i < total; i++) store<f32>(dx + (i << 2), <f32>load<f64>(acc + (i << 3)));
}
