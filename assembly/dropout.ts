// Dropout with a drawn keep mask (contract: src/backend/kernels.ts, `dropoutMask`): out = x · (keep ? scale : 0),
// one product per element as when multiplying by a [keep ? scale : 0] f32 tensor — same bits, one pass, and a
// byte per element kept for the backward pass instead of four.

/** out[i] = x[i] · (keep[i] ≠ 0 ? scale : 0) for i < n. */
export function dropoutMask(x: usize, keep: usize, out: usize, n: i32, scale: f32): void {
  const sv = f32x4.splat(scale);
  const zero = i32x4.splat(0);
  const n4 = n & ~3;
  for (let i = 0; i < n4; i += 4) {
    const bits = i32x4.extend_low_i16x8_u(i16x8.extend_low_i8x16_u(v128.load32_zero(keep + <usize>i)));
    const factor = v128.and(i32x4.ne(bits, zero), sv);
    const p = <usize>i << 2;
    v128.store(out + p, f32x4.mul(v128.load(x + p), factor));
  }
  for (let i = n4; i < n; i++) {
    const p = <usize>i << 2;
    store<f32>(out + p, load<f32>(x + p) * (load<u8>(keep + <usize>i) != 0 ? scale : 0));
  }
}
