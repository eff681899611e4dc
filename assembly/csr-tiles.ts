// The row tiling of the sparse forward products (denseCsrT, denseFanInT), in its own file so that it is shared
// without becoming a module export (index.ts re-exports sparse.ts and fan-in.ts whole).

/**
 * Rows of X per denseCsrT tile: the transposed output tile (n × mb floats) stays within ~64 KiB beside the
 * transposed X tile (k × mb) and the CSR weight; a multiple of 32 (the spmm register block) in [32, 256], or all
 * of m when smaller. (Measured at 3072×512×2048 and 3072×2048×512, 10% density: 32 rows beat 64 and 128.)
 */
export function csrTTileRows(m: i32, n: i32): i32 {
  let mb = (16384 / max(n, 1)) & ~31;
  if (mb < 32) mb = 32;
  if (mb > 256) mb = 256;
  return min(mb, m);
}
