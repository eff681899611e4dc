// rfft / irfft along the last axis for any length n: a mixed-radix Stockham autosort FFT in f64 (one
// complex number per v128: re in lane 0, im in lane 1). Radix 2 and 4 have dedicated butterflies; any
// other factor (3, 5, 7, large primes) uses a generic O(p²) DFT butterfly with table twiddles.
//
// Stage with radix p on sequences of current length N = p·m, s interleaved sequences:
//   y[s_ + s·(p·q + u)] = ω_N^{q·u} · Σ_r x[s_ + s·(q + m·r)] · ω_p^{r·u}
// which after all stages leaves X in natural order. The table (from the glue, computed in f64) holds
// ω_n^j = (cos 2πj/n, −sin 2πj/n); the inverse transform conjugates it.

@inline function cmul(a: v128, w: v128): v128 {
  // (ar·wr − ai·wi, ai·wr + ar·wi)
  const wr = f64x2.splat(f64x2.extract_lane(w, 0));
  const wi = f64x2.splat(f64x2.extract_lane(w, 1));
  const sw = i64x2.shuffle(a, a, 1, 0);
  return f64x2.add(f64x2.mul(a, wr), f64x2.mul(f64x2.mul(sw, wi), f64x2(-1.0, 1.0)));
}

/** Multiply by −i (forward) or +i (inverse): (re, im)·(−i) = (im, −re). */
@inline function mulNegI(a: v128, inverse: bool): v128 {
  const sw = i64x2.shuffle(a, a, 1, 0);
  return inverse ? f64x2.mul(sw, f64x2(-1.0, 1.0)) : f64x2.mul(sw, f64x2(1.0, -1.0));
}

@inline function twiddle(tw: usize, j: i32, conj: v128): v128 {
  return v128.xor(v128.load(tw + (<usize>j << 4)), conj);
}

function fftCore(src0: usize, dst0: usize, tmp: usize, n: i32, tw: usize, fac: usize, nf: i32, inverse: bool): usize {
  const conj = inverse ? i64x2(0, 0x8000000000000000) : i64x2(0, 0);
  let src = src0;
  let dst = dst0;
  let ncur = n;
  let s = 1;
  for (let f = 0; f < nf; f++) {
    const p = load<i32>(fac + (<usize>f << 2));
    const m = ncur / p;
    const tstep = n / ncur;
    const pstep = n / p;
    const ss = <usize>s << 4;
    for (let q = 0; q < m; q++) {
      if (p == 2) {
        const w1 = twiddle(tw, q * tstep, conj);
        for (let t = 0; t < s; t++) {
          const i0 = src + (<usize>t << 4) + <usize>q * ss;
          const a0 = v128.load(i0);
          const a1 = v128.load(i0 + <usize>m * ss);
          const o = dst + (<usize>t << 4) + <usize>(2 * q) * ss;
          v128.store(o, f64x2.add(a0, a1));
          v128.store(o + ss, cmul(f64x2.sub(a0, a1), w1));
        }
      } else if (p == 4) {
        const w1 = twiddle(tw, q * tstep, conj);
        const w2 = twiddle(tw, 2 * q * tstep, conj);
        const w3 = twiddle(tw, 3 * q * tstep, conj);
        const ms = <usize>m * ss;
        for (let t = 0; t < s; t++) {
          const i0 = src + (<usize>t << 4) + <usize>q * ss;
          const a0 = v128.load(i0);
          const a1 = v128.load(i0 + ms);
          const a2 = v128.load(i0 + 2 * ms);
          const a3 = v128.load(i0 + 3 * ms);
          const b0 = f64x2.add(a0, a2);
          const b1 = f64x2.sub(a0, a2);
          const b2 = f64x2.add(a1, a3);
          const b3 = mulNegI(f64x2.sub(a1, a3), inverse);
          const o = dst + (<usize>t << 4) + <usize>(4 * q) * ss;
          v128.store(o, f64x2.add(b0, b2));
          v128.store(o + ss, cmul(f64x2.add(b1, b3), w1));
          v128.store(o + 2 * ss, cmul(f64x2.sub(b0, b2), w2));
          v128.store(o + 3 * ss, cmul(f64x2.sub(b1, b3), w3));
        }
      } else {
        for (let t = 0; t < s; t++) {
          const i0 = src + (<usize>t << 4) + <usize>q * ss;
          for (let r = 0; r < p; r++) v128.store(tmp + (<usize>r << 4), v128.load(i0 + <usize>(m * r) * ss));
          const o = dst + (<usize>t << 4) + <usize>(p * q) * ss;
          for (let u = 0; u < p; u++) {
            let acc = v128.load(tmp);
            let e = 0; // (r·u) mod p
            for (let r = 1; r < p; r++) {
              e += u;
              if (e >= p) e -= p;
              acc = f64x2.add(acc, cmul(v128.load(tmp + (<usize>r << 4)), twiddle(tw, e * pstep, conj)));
            }
            v128.store(o + <usize>u * ss, u == 0 ? acc : cmul(acc, twiddle(tw, q * u * tstep, conj)));
          }
        }
      }
    }
    const sw = src;
    src = dst;
    dst = sw;
    ncur = m;
    s *= p;
  }
  return src;
}

/**
 * rfft of rows of x [rows, n] → out [rows, n/2+1, 2]. ws: 3·n·16 bytes; tw: n complex f64 twiddles;
 * fac: nf radices whose product is n.
 */
export function rfftRows(x: usize, out: usize, rows: i32, n: i32, tw: usize, fac: usize, nf: i32, ws: usize): void {
  const half = n / 2 + 1;
  const b0 = ws;
  const b1 = ws + (<usize>n << 4);
  const tmp = ws + (<usize>n << 5);
  for (let r = 0; r < rows; r++) {
    const xr = x + (<usize>r * <usize>n << 2);
    for (let j = 0; j < n; j++) v128.store(b0 + (<usize>j << 4), f64x2(<f64>load<f32>(xr + (<usize>j << 2)), 0.0));
    const res = fftCore(b0, b1, tmp, n, tw, fac, nf, false);
    const orow = out + (<usize>r * <usize>half << 3);
    for (let k = 0; k < half; k++) {
      v128.store64_lane(orow + (<usize>k << 3), f32x4.demote_f64x2_zero(v128.load(res + (<usize>k << 4))), 0);
    }
  }
}

/**
 * irfft of rows of x [rows, mIn, 2] → out [rows, n]: Hermitian extension of bins 0..kMax (imaginary parts
 * of DC and of the Nyquist bin ignored, missing bins zero), inverse FFT, scaled by 1/n.
 */
export function irfftRows(x: usize, out: usize, rows: i32, mIn: i32, n: i32, tw: usize, fac: usize, nf: i32, ws: usize): void {
  const b0 = ws;
  const b1 = ws + (<usize>n << 4);
  const tmp = ws + (<usize>n << 5);
  const kMax = min(mIn - 1, n / 2);
  const scale = 1.0 / <f64>n;
  for (let r = 0; r < rows; r++) {
    const xr = x + (<usize>r * <usize>mIn << 3);
    memory.fill(b0, 0, <usize>n << 4);
    for (let k = 0; k <= kMax; k++) {
      let re = <f64>load<f32>(xr + (<usize>k << 3));
      let im = <f64>load<f32>(xr + (<usize>k << 3) + 4);
      if (k == 0 || 2 * k == n) im = 0;
      v128.store(b0 + (<usize>k << 4), f64x2(re, im));
      if (k > 0 && 2 * k != n) v128.store(b0 + (<usize>(n - k) << 4), f64x2(re, -im));
    }
    const res = fftCore(b0, b1, tmp, n, tw, fac, nf, true);
    const orow = out + (<usize>r * <usize>n << 2);
    for (let j = 0; j < n; j++) store<f32>(orow + (<usize>j << 2), <f32>(f64x2.extract_lane(v128.load(res + (<usize>j << 4)), 0) * scale));
  }
}
