// conv1d and its two backward kernels, x [N, Cin, L], w [Cout, Cin, K], out/dy [N, Cout, Lout].
// Input position of output lo and tap k: lo·stride + k·dil − padL. Each (n, co) output row is built as a
// sum of shifted, scaled input rows (a GEMM-like rank-1 update per (ci, k)), vectorised along L with
// f32x4 when stride = 1; per output element the terms are added in increasing (ci, k).

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

export function conv1dFwd(
  x: usize, w: usize, out: usize, nb: i32, cin: i32, l: i32, cout: i32, k: i32, lout: i32,
  stride: i32, dil: i32, padL: i32,
): void {
  memory.fill(out, 0, <usize>nb * <usize>cout * <usize>lout << 2);
  for (let n = 0; n < nb; n++) {
    for (let co = 0; co < cout; co++) {
      const dst = out + ((<usize>n * <usize>cout + <usize>co) * <usize>lout << 2);
      for (let ci = 0; ci < cin; ci++) {
        const xr = x + ((<usize>n * <usize>cin + <usize>ci) * <usize>l << 2);
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

export function conv1dBwdInput(
  dy: usize, w: usize, dx: usize, nb: i32, cin: i32, l: i32, cout: i32, k: i32, lout: i32,
  stride: i32, dil: i32, padL: i32,
): void {
  memory.fill(dx, 0, <usize>nb * <usize>cin * <usize>l << 2);
  for (let n = 0; n < nb; n++) {
    for (let ci = 0; ci < cin; ci++) {
      const dst = dx + ((<usize>n * <usize>cin + <usize>ci) * <usize>l << 2);
      for (let co = 0; co < cout; co++) {
        const gr = dy + ((<usize>n * <usize>cout + <usize>co) * <usize>lout << 2);
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
              const p = dst + (<usize>(lo * stride + off) << 2);
              store<f32>(p, load<f32>(p) + wv * load<f32>(gr + (<usize>lo << 2)));
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
  for (let co = 0; co < cout; co++) {
    for (let ci = 0; ci < cin; ci++) {
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
