// conv1d and its two backward kernels, x [N, Cin, L], w [Cout, Cin, K], out/dy [N, Cout, Lout].
// Input position of output lo and tap k: lo·stride + k·dil − padL.
// stride 1 (the common case) runs GEMM-like register tiles vectorised along L: forward and backward-input
// keep 4 channels × 8 positions in 8 f32x4 accumulators over the interior where every tap is in range
// (borders take a bounds-checked scalar path with the same summation order, increasing (ci, k) resp.
// (co, k)); backward-weight keeps 4 × 2 weights as f32x4 partial sums over (n, lo). Other strides and the
// leftover channels use row axpy / dot loops.
import { hsum } from './common.ts';

/** First lo with lo·stride + off ≥ 0, and one past the last lo with lo·stride + off < l, clamped to [0, lout]. */
@inline function loLo(off: i32, stride: i32): i32 {
  if (off >= 0) return 0;
  return (-off + stride - 1) / stride;
}
@inline function loHi(off: i32, stride: i32, l: i32, lout: i32): i32 {
  const top = l - 1 - off; // lo·stride ≤ top
  if (top < 0) return 0;
  return min(lout, top / stride + 1);
}

/** dst[i] += a · src[i] for i < n (f32x4). */
@inline function axpy(dst: usize, src: usize, a: f32, n: i32): void {
  const va = f32x4.splat(a);
  const n4 = n & ~3;
  for (let i = 0; i < n4; i += 4) {
    const p = <usize>i << 2;
    v128.store(dst + p, f32x4.add(v128.load(dst + p), f32x4.mul(va, v128.load(src + p))));
  }
  for (let i = n4; i < n; i++) {
    const p = <usize>i << 2;
    store<f32>(dst + p, load<f32>(dst + p) + a * load<f32>(src + p));
  }
}

@inline function dot(a: usize, b: usize, n: i32): f32 {
  const n8 = n & ~7;
  let s0 = f32x4.splat(0);
  let s1 = f32x4.splat(0);
  for (let i = 0; i < n8; i += 8) {
    const p = <usize>i << 2;
    s0 = f32x4.add(s0, f32x4.mul(v128.load(a + p), v128.load(b + p)));
    s1 = f32x4.add(s1, f32x4.mul(v128.load(a + p, 16), v128.load(b + p, 16)));
  }
  const s = f32x4.add(s0, s1);
  let acc = (f32x4.extract_lane(s, 0) + f32x4.extract_lane(s, 1)) + (f32x4.extract_lane(s, 2) + f32x4.extract_lane(s, 3));
  for (let i = n8; i < n; i++) acc += load<f32>(a + (<usize>i << 2)) * load<f32>(b + (<usize>i << 2));
  return acc;
}

/** One output element by the generic path: Σ over (ci, k) in increasing order, bounds-checked. */
@inline function convOne(x: usize, w: usize, cin: i32, l: i32, k: i32, stride: i32, dil: i32, padL: i32, lo: i32): f32 {
  let acc: f32 = 0;
  for (let ci = 0; ci < cin; ci++) {
    const xr = x + (<usize>ci * <usize>l << 2);
    const wr = w + (<usize>ci * <usize>k << 2);
    for (let kk = 0; kk < k; kk++) {
      const pos = lo * stride + kk * dil - padL;
      if (pos >= 0 && pos < l) acc += load<f32>(xr + (<usize>pos << 2)) * load<f32>(wr + (<usize>kk << 2));
    }
  }
  return acc;
}

export function conv1dFwd(
  x: usize, w: usize, out: usize, nb: i32, cin: i32, l: i32, cout: i32, k: i32, lout: i32,
  stride: i32, dil: i32, padL: i32,
): void {
  memory.fill(out, 0, <usize>nb * <usize>cout * <usize>lout << 2);
  // stride 1: register tiles of 4 output channels × 8 positions over the interior range [loA, loB) where
  // every tap is inside x; the border positions use the generic path. Same summation order either way.
  const loA = stride == 1 ? min(lout, padL) : lout;
  const loB = stride == 1 ? max(loA, min(lout, l - (k - 1) * dil + padL)) : lout;
  const co4 = stride == 1 ? cout & ~3 : 0;
  const wco = <usize>cin * <usize>k << 2; // bytes per output channel of w
  for (let n = 0; n < nb; n++) {
    const xn = x + (<usize>n * <usize>cin * <usize>l << 2);
    for (let co = 0; co < co4; co += 4) {
      const w0 = w + <usize>co * wco;
      const o0 = out + ((<usize>n * <usize>cout + <usize>co) * <usize>lout << 2);
      const ls = <usize>lout << 2;
      let lo = loA;
      for (; lo + 8 <= loB; lo += 8) {
        let a00 = f32x4.splat(0), a01 = f32x4.splat(0), a10 = f32x4.splat(0), a11 = f32x4.splat(0);
        let a20 = f32x4.splat(0), a21 = f32x4.splat(0), a30 = f32x4.splat(0), a31 = f32x4.splat(0);
        for (let ci = 0; ci < cin; ci++) {
          const xr = xn + (<usize>ci * <usize>l << 2) + (<usize>(lo - padL) << 2);
          const wr = w0 + (<usize>ci * <usize>k << 2);
          for (let kk = 0; kk < k; kk++) {
            const xp = xr + (<usize>(kk * dil) << 2);
            const x0 = v128.load(xp);
            const x1 = v128.load(xp, 16);
            const wp = wr + (<usize>kk << 2);
            const w0v = v128.load32_splat(wp);
            const w1v = v128.load32_splat(wp + wco);
            const w2v = v128.load32_splat(wp + 2 * wco);
            const w3v = v128.load32_splat(wp + 3 * wco);
            a00 = f32x4.add(a00, f32x4.mul(x0, w0v));
            a01 = f32x4.add(a01, f32x4.mul(x1, w0v));
            a10 = f32x4.add(a10, f32x4.mul(x0, w1v));
            a11 = f32x4.add(a11, f32x4.mul(x1, w1v));
            a20 = f32x4.add(a20, f32x4.mul(x0, w2v));
            a21 = f32x4.add(a21, f32x4.mul(x1, w2v));
            a30 = f32x4.add(a30, f32x4.mul(x0, w3v));
            a31 = f32x4.add(a31, f32x4.mul(x1, w3v));
          }
        }
        const op = o0 + (<usize>lo << 2);
        v128.store(op, a00);
        v128.store(op, a01, 16);
        v128.store(op + ls, a10);
        v128.store(op + ls, a11, 16);
        v128.store(op + 2 * ls, a20);
        v128.store(op + 2 * ls, a21, 16);
        v128.store(op + 3 * ls, a30);
        v128.store(op + 3 * ls, a31, 16);
      }
      for (let j = 0; j < 4; j++) {
        const wj = w0 + <usize>j * wco;
        const oj = o0 + <usize>j * ls;
        for (let p = 0; p < loA; p++) store<f32>(oj + (<usize>p << 2), convOne(xn, wj, cin, l, k, 1, dil, padL, p));
        for (let p = lo; p < lout; p++) store<f32>(oj + (<usize>p << 2), convOne(xn, wj, cin, l, k, 1, dil, padL, p));
      }
    }
    for (let co = co4; co < cout; co++) {
      const dst = out + ((<usize>n * <usize>cout + <usize>co) * <usize>lout << 2);
      for (let ci = 0; ci < cin; ci++) {
        const xr = xn + (<usize>ci * <usize>l << 2);
        const wr = w + ((<usize>co * <usize>cin + <usize>ci) * <usize>k << 2);
        for (let kk = 0; kk < k; kk++) {
          const wv = load<f32>(wr + (<usize>kk << 2));
          const off = kk * dil - padL;
          const a = loLo(off, stride);
          const b = loHi(off, stride, l, lout);
          if (b <= a) continue;
          if (stride == 1) {
            axpy(dst + (<usize>a << 2), xr + (<usize>(a + off) << 2), wv, b - a);
          } else {
            for (let lo = a; lo < b; lo++) {
              const p = dst + (<usize>lo << 2);
              store<f32>(p, load<f32>(p) + wv * load<f32>(xr + (<usize>(lo * stride + off) << 2)));
            }
          }
        }
      }
    }
  }
}

/** One dx element by the generic path (stride 1): Σ over (co, k) in increasing order, bounds-checked. */
@inline function convBwdOne(dy: usize, w: usize, cin: i32, cout: i32, k: i32, lout: i32, dil: i32, padL: i32, pos: i32): f32 {
  let acc: f32 = 0;
  for (let co = 0; co < cout; co++) {
    const gr = dy + (<usize>co * <usize>lout << 2);
    const wr = w + (<usize>co * <usize>cin * <usize>k << 2);
    for (let kk = 0; kk < k; kk++) {
      const lo = pos + padL - kk * dil;
      if (lo >= 0 && lo < lout) acc += load<f32>(gr + (<usize>lo << 2)) * load<f32>(wr + (<usize>kk << 2));
    }
  }
  return acc;
}

export function conv1dBwdInput(
  dy: usize, w: usize, dx: usize, nb: i32, cin: i32, l: i32, cout: i32, k: i32, lout: i32,
  stride: i32, dil: i32, padL: i32,
): void {
  memory.fill(dx, 0, <usize>nb * <usize>cin * <usize>l << 2);
  // stride 1: dx[ci, pos] = Σ_{co,k} dy[co, pos + padL − k·dil] · w[co, ci, k], a convolution of dy; tiles of
  // 4 input channels × 8 positions where every tap is inside dy, the generic path elsewhere.
  const pA = stride == 1 ? min(l, max(0, (k - 1) * dil - padL)) : l;
  const pB = stride == 1 ? max(pA, min(l, lout - padL)) : l;
  const ci4 = stride == 1 ? cin & ~3 : 0;
  const wk = <usize>k << 2; // bytes between input channels of w
  const wco = <usize>cin * wk; // bytes between output channels of w
  for (let n = 0; n < nb; n++) {
    const gn = dy + (<usize>n * <usize>cout * <usize>lout << 2);
    for (let ci = 0; ci < ci4; ci += 4) {
      const d0 = dx + ((<usize>n * <usize>cin + <usize>ci) * <usize>l << 2);
      const ls = <usize>l << 2;
      const wc = w + <usize>ci * wk;
      let p = pA;
      for (; p + 8 <= pB; p += 8) {
        let a00 = f32x4.splat(0), a01 = f32x4.splat(0), a10 = f32x4.splat(0), a11 = f32x4.splat(0);
        let a20 = f32x4.splat(0), a21 = f32x4.splat(0), a30 = f32x4.splat(0), a31 = f32x4.splat(0);
        for (let co = 0; co < cout; co++) {
          const gr = gn + (<usize>co * <usize>lout << 2) + (<usize>(p + padL) << 2);
          const wr = wc + <usize>co * wco;
          for (let kk = 0; kk < k; kk++) {
            const gp = gr - (<usize>(kk * dil) << 2);
            const g0 = v128.load(gp);
            const g1 = v128.load(gp, 16);
            const wp = wr + (<usize>kk << 2);
            const w0v = v128.load32_splat(wp);
            const w1v = v128.load32_splat(wp + wk);
            const w2v = v128.load32_splat(wp + 2 * wk);
            const w3v = v128.load32_splat(wp + 3 * wk);
            a00 = f32x4.add(a00, f32x4.mul(g0, w0v));
            a01 = f32x4.add(a01, f32x4.mul(g1, w0v));
            a10 = f32x4.add(a10, f32x4.mul(g0, w1v));
            a11 = f32x4.add(a11, f32x4.mul(g1, w1v));
            a20 = f32x4.add(a20, f32x4.mul(g0, w2v));
            a21 = f32x4.add(a21, f32x4.mul(g1, w2v));
            a30 = f32x4.add(a30, f32x4.mul(g0, w3v));
            a31 = f32x4.add(a31, f32x4.mul(g1, w3v));
          }
        }
        const op = d0 + (<usize>p << 2);
        v128.store(op, a00);
        v128.store(op, a01, 16);
        v128.store(op + ls, a10);
        v128.store(op + ls, a11, 16);
        v128.store(op + 2 * ls, a20);
        v128.store(op + 2 * ls, a21, 16);
        v128.store(op + 3 * ls, a30);
        v128.store(op + 3 * ls, a31, 16);
      }
      for (let j = 0; j < 4; j++) {
        const wj = wc + <usize>j * wk;
        const dj = d0 + <usize>j * ls;
        for (let q = 0; q < pA; q++) store<f32>(dj + (<usize>q << 2), convBwdOne(gn, wj, cin, cout, k, lout, dil, padL, q));
        for (let q = p; q < l; q++) store<f32>(dj + (<usize>q << 2), convBwdOne(gn, wj, cin, cout, k, lout, dil, padL, q));
      }
    }
    for (let ci = ci4; ci < cin; ci++) {
      const dst = dx + ((<usize>n * <usize>cin + <usize>ci) * <usize>l << 2);
      for (let co = 0; co < cout; co++) {
        const gr = gn + (<usize>co * <usize>lout << 2);
        const wr = w + ((<usize>co * <usize>cin + <usize>ci) * <usize>k << 2);
        for (let kk = 0; kk < k; kk++) {
          const wv = load<f32>(wr + (<usize>kk << 2));
          const off = kk * dil - padL;
          const a = loLo(off, stride);
          const b = loHi(off, stride, l, lout);
          if (b <= a) continue;
          if (stride == 1) {
            axpy(dst + (<usize>(a + off) << 2), gr + (<usize>a << 2), wv, b - a);
          } else {
            for (let lo = a; lo < b; lo++) {
              const q = dst + (<usize>(lo * stride + off) << 2);
              store<f32>(q, load<f32>(q) + wv * load<f32>(gr + (<usize>lo << 2)));
            }
          }
        }
      }
    }
  }
}

export function conv1dBwdWeight(
  dy: usize, x: usize, dw: usize, nb: i32, cin: i32, l: i32, cout: i32, k: i32, lout: i32,
  stride: i32, dil: i32, padL: i32,
): void {
  // stride 1: tiles of 4 output × 2 input channels share their dy / x loads (8 f32x4 accumulators, one per
  // weight); each weight is Σ over n, then lo in lanes of 4, horizontal sum, then the lo tail.
  const co4 = stride == 1 ? cout & ~3 : 0;
  const ci2 = stride == 1 ? cin & ~1 : 0;
  const ls = <usize>lout << 2;
  const xs = <usize>l << 2;
  for (let co = 0; co < co4; co += 4) {
    for (let ci = 0; ci < ci2; ci += 2) {
      for (let kk = 0; kk < k; kk++) {
        const off = kk * dil - padL;
        const a = loLo(off, 1);
        const b = max(a, loHi(off, 1, l, lout));
        const b4 = a + ((b - a) & ~3);
        let a00 = f32x4.splat(0), a01 = f32x4.splat(0), a10 = f32x4.splat(0), a11 = f32x4.splat(0);
        let a20 = f32x4.splat(0), a21 = f32x4.splat(0), a30 = f32x4.splat(0), a31 = f32x4.splat(0);
        let t00: f32 = 0, t01: f32 = 0, t10: f32 = 0, t11: f32 = 0, t20: f32 = 0, t21: f32 = 0, t30: f32 = 0, t31: f32 = 0;
        for (let n = 0; n < nb; n++) {
          const g = dy + ((<usize>n * <usize>cout + <usize>co) * <usize>lout << 2);
          const xr = x + ((<usize>n * <usize>cin + <usize>ci) * <usize>l << 2) + (<usize>off << 2);
          for (let lo = a; lo < b4; lo += 4) {
            const p = <usize>lo << 2;
            const g0 = v128.load(g + p);
            const g1 = v128.load(g + ls + p);
            const g2 = v128.load(g + 2 * ls + p);
            const g3 = v128.load(g + 3 * ls + p);
            const x0 = v128.load(xr + p);
            const x1 = v128.load(xr + xs + p);
            a00 = f32x4.add(a00, f32x4.mul(g0, x0));
            a01 = f32x4.add(a01, f32x4.mul(g0, x1));
            a10 = f32x4.add(a10, f32x4.mul(g1, x0));
            a11 = f32x4.add(a11, f32x4.mul(g1, x1));
            a20 = f32x4.add(a20, f32x4.mul(g2, x0));
            a21 = f32x4.add(a21, f32x4.mul(g2, x1));
            a30 = f32x4.add(a30, f32x4.mul(g3, x0));
            a31 = f32x4.add(a31, f32x4.mul(g3, x1));
          }
          for (let lo = b4; lo < b; lo++) {
            const p = <usize>lo << 2;
            const x0 = load<f32>(xr + p);
            const x1 = load<f32>(xr + xs + p);
            const g0 = load<f32>(g + p);
            const g1 = load<f32>(g + ls + p);
            const g2 = load<f32>(g + 2 * ls + p);
            const g3 = load<f32>(g + 3 * ls + p);
            t00 += g0 * x0; t01 += g0 * x1; t10 += g1 * x0; t11 += g1 * x1;
            t20 += g2 * x0; t21 += g2 * x1; t30 += g3 * x0; t31 += g3 * x1;
          }
        }
        const wk = <usize>k << 2;
        const wco = <usize>cin * wk;
        const o = dw + ((<usize>co * <usize>cin + <usize>ci) * <usize>k + <usize>kk << 2);
        store<f32>(o, hsum(a00) + t00);
        store<f32>(o + wk, hsum(a01) + t01);
        store<f32>(o + wco, hsum(a10) + t10);
        store<f32>(o + wco + wk, hsum(a11) + t11);
        store<f32>(o + 2 * wco, hsum(a20) + t20);
        store<f32>(o + 2 * wco + wk, hsum(a21) + t21);
        store<f32>(o + 3 * wco, hsum(a30) + t30);
        store<f32>(o + 3 * wco + wk, hsum(a31) + t31);
      }
    }
  }
  for (let co = 0; co < cout; co++) {
    for (let ci = 0; ci < cin; ci++) {
      if (co < co4 && ci < ci2) continue;
      for (let kk = 0; kk < k; kk++) {
        const off = kk * dil - padL;
        const a = loLo(off, stride);
        const b = loHi(off, stride, l, lout);
        let acc: f32 = 0;
        if (b > a) {
          for (let n = 0; n < nb; n++) {
            const gr = dy + ((<usize>n * <usize>cout + <usize>co) * <usize>lout << 2);
            const xr = x + ((<usize>n * <usize>cin + <usize>ci) * <usize>l << 2);
            if (stride == 1) {
              acc += dot(gr + (<usize>a << 2), xr + (<usize>(a + off) << 2), b - a);
            } else {
              for (let lo = a; lo < b; lo++) {
                acc += load<f32>(gr + (<usize>lo << 2)) * load<f32>(xr + (<usize>(lo * stride + off) << 2));
              }
            }
          }
        }
        store<f32>(dw + ((<usize>co * <usize>cin + <usize>ci) * <usize>k + <usize>kk << 2), acc);
      }
    }
  }
}
