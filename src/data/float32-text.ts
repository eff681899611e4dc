/**
 * The shortest decimal that reads back as the same float32. Forecasts are float32; a fixed 7 significant digits
 * (what `predict` wrote) is not enough for every float32 (9 are), so a file read back differed from the library's
 * forecast in the last bits, and 9 digits everywhere print 0.1f as 0.100000001. The shortest round-tripping digits
 * are numpy's float32 repr too, so a file compares equal to what PyTorch prints for the same tensor.
 */
export function float32Text(v: number): string {
  const f = Math.fround(v);
  if (!Number.isFinite(f)) return String(f);
  for (let digits = 1; digits < 9; digits++) {
    const s = String(+f.toPrecision(digits));
    if (Math.fround(Number(s)) === f) return s;
  }
  return String(+f.toPrecision(9));
}
