/**
 * The host-side CSR pattern of a masked weight W [n, k] (or of its transpose), kept in step with the layer's
 * mask so that sparse execution never rescans the dense weight:
 *
 * - values are refreshed after each optimizer step by one gather of W at `positions` (the flat index into
 *   W of every stored entry) — nnz reads instead of a dense-to-CSR scan (and, for Wᵀ, a permute) of n·k;
 * - when a topology update changes the mask, the two masks are diffed once (`maskChanges`, a word scan) and
 *   each pattern merges its changed rows' old segments with their changes, copying runs of unchanged rows as
 *   blocks. PALS / RigL / SET updates move a small fraction of the weights, so the work is O(changes) plus
 *   O(nnz) copying — no rebuild from the mask, no per-entry pass over n·k.
 *
 * The result is exactly what a full rebuild from the mask gives (test/csr-pattern.test.ts checks that after
 * prune/grow steps), so the choice of path never changes a number.
 */

export class CsrPattern {
  private constructor(
    /** Rows of the stored matrix: n for W, k for Wᵀ. */
    readonly rows: number,
    readonly cols: number,
    /** Whether this is the pattern of Wᵀ (rows index W's columns). */
    readonly transposed: boolean,
    public rowPtr: Int32Array,
    public colIdx: Int32Array,
  ) {}

  /**
   * The pattern of W [n, k] (transposed = false) or of Wᵀ [k, n] from W's row-major u8 mask: two contiguous
   * passes over the mask (count per row, then fill), and for Wᵀ a CSR transpose of W's pattern.
   */
  static fromMask(mask: Uint8Array, n: number, k: number, transposed = false): CsrPattern {
    if (mask.length !== n * k) throw new Error(`CsrPattern.fromMask: mask has ${mask.length} entries, the weight [${n}, ${k}] has ${n * k}`);
    const rowPtr = new Int32Array(n + 1);
    for (let i = 0; i < n; i++) {
      const base = i * k;
      let c = 0;
      for (let j = 0; j < k; j++) c += mask[base + j]!;
      rowPtr[i + 1] = rowPtr[i]! + c;
    }
    // One slot of slack: the fill writes every column and advances only past active ones (no data-dependent
    // branch — at 30% random density a branchy fill costs several times more in mispredictions).
    const nnz = rowPtr[n]!;
    const buf = new Int32Array(nnz + 1);
    for (let i = 0, q = 0; i < n; i++) {
      const base = i * k;
      for (let j = 0; j < k; j++) {
        buf[q] = j;
        q += mask[base + j]!;
      }
    }
    const colIdx = buf.subarray(0, nnz);
    if (!transposed) return new CsrPattern(n, k, false, rowPtr, colIdx);
    // Wᵀ's pattern by transposing W's (O(nnz), no second pass over the mask).
    const rowPtrT = new Int32Array(k + 1);
    for (let q = 0; q < nnz; q++) rowPtrT[colIdx[q]! + 1]!++;
    for (let j = 0; j < k; j++) rowPtrT[j + 1]! += rowPtrT[j]!;
    const colIdxT = new Int32Array(nnz);
    const fill = rowPtrT.slice(0, k);
    for (let i = 0; i < n; i++) {
      for (let q = rowPtr[i]!; q < rowPtr[i + 1]!; q++) colIdxT[fill[colIdx[q]!]!++] = i;
    }
    return new CsrPattern(k, n, true, rowPtrT, colIdxT);
  }

  get nnz(): number {
    return this.rowPtr[this.rows]!;
  }

  /**
   * Follow a mask change from `before` to `after` (both W's row-major masks): `applyChanges` of their diff.
   * Returns the number of changed rows. A caller keeping W's and Wᵀ's patterns diffs once with `maskChanges`
   * and applies the list to both.
   */
  update(before: Uint8Array, after: Uint8Array): number {
    const [n, k] = this.weightShape();
    if (before.length !== n * k || after.length !== n * k) {
      throw new Error(`CsrPattern.update: masks of ${before.length} and ${after.length} entries for a weight [${n}, ${k}]`);
    }
    return this.applyChanges(maskChanges(before, after), after);
  }

  /**
   * Apply the flipped positions `changes` (flat indices into W, ascending, as `maskChanges` gives them; `after`
   * says whether each is now on). Work is O(changes) to group them by stored row plus one block copy per run
   * of unchanged rows and a merge per changed row — O(nnz) memory traffic, no pass over the n·k mask. Returns
   * the number of changed rows.
   */
  applyChanges(changes: Int32Array, after: Uint8Array): number {
    const [n, k] = this.weightShape();
    if (after.length !== n * k) throw new Error(`CsrPattern.applyChanges: mask of ${after.length} entries for a weight [${n}, ${k}]`);
    const count = changes.length;
    if (count === 0) return 0;
    // Changes grouped by stored row, each group in increasing column order: W's flat order is already
    // (row, col); for Wᵀ (row = W's column) a counting sort by p mod k keeps increasing p, i.e. increasing col.
    const perRow = new Int32Array(this.rows + 1);
    const changeCol = new Int32Array(count);
    for (let q = 0; q < count; q++) {
      const p = changes[q]!;
      if (p < 0 || p >= n * k || (q > 0 && p <= changes[q - 1]!)) {
        throw new Error(`CsrPattern.applyChanges: change ${q} is position ${p}; positions must be ascending inside [0, ${n * k})`);
      }
      perRow[(this.transposed ? p % k : (p / k) | 0) + 1]!++;
    }
    for (let r = 0; r < this.rows; r++) perRow[r + 1]! += perRow[r]!;
    const sorted = this.transposed ? new Int32Array(count) : changes;
    if (this.transposed) {
      const fill = perRow.slice(0, this.rows);
      for (let q = 0; q < count; q++) sorted[fill[changes[q]! % k]!++] = changes[q]!;
    }
    for (let q = 0; q < count; q++) changeCol[q] = this.transposed ? (sorted[q]! / k) | 0 : sorted[q]! % k;
    const oldPtr = this.rowPtr;
    const oldIdx = this.colIdx;
    const rowPtr = new Int32Array(this.rows + 1);
    let changedRows = 0;
    for (let r = 0; r < this.rows; r++) {
      let delta = 0;
      for (let q = perRow[r]!; q < perRow[r + 1]!; q++) delta += after[sorted[q]!] ? 1 : -1;
      if (perRow[r + 1]! > perRow[r]!) changedRows++;
      rowPtr[r + 1] = rowPtr[r]! + oldPtr[r + 1]! - oldPtr[r]! + delta;
    }
    const colIdx = new Int32Array(rowPtr[this.rows]!);
    let r = 0;
    while (r < this.rows) {
      if (perRow[r + 1] === perRow[r]) {
        // A run of unchanged rows moves as one block.
        const r0 = r;
        while (r < this.rows && perRow[r + 1] === perRow[r]) r++;
        colIdx.set(oldIdx.subarray(oldPtr[r0]!, oldPtr[r]!), rowPtr[r0]!);
        continue;
      }
      // Merge: old entries minus the removed ones, plus the added ones, in column order.
      const o1 = oldPtr[r + 1]!;
      let o = oldPtr[r]!;
      let out = rowPtr[r]!;
      for (let q = perRow[r]!; q < perRow[r + 1]!; q++) {
        const c = changeCol[q]!;
        while (o < o1 && oldIdx[o]! < c) colIdx[out++] = oldIdx[o++]!;
        if (after[sorted[q]!]) colIdx[out++] = c;
        else o++; // the removed entry is the old one at column c
      }
      while (o < o1) colIdx[out++] = oldIdx[o++]!;
      r++;
    }
    this.rowPtr = rowPtr;
    this.colIdx = colIdx;
    return changedRows;
  }

  /** W's shape [n, k], whichever way this pattern stores it. */
  private weightShape(): [number, number] {
    return this.transposed ? [this.cols, this.rows] : [this.rows, this.cols];
  }

  /**
   * For each stored entry, its flat index into W [n, k] (row-major): the gather that refreshes the values.
   * For W's pattern that is r·k + c; for Wᵀ's, entry (r, c) is W[c, r], at c·k + r.
   */
  positions(): Int32Array {
    const out = new Int32Array(this.nnz);
    const k = this.transposed ? this.rows : this.cols;
    for (let r = 0; r < this.rows; r++) {
      for (let p = this.rowPtr[r]!; p < this.rowPtr[r + 1]!; p++) {
        out[p] = this.transposed ? this.colIdx[p]! * k + r : r * k + this.colIdx[p]!;
      }
    }
    return out;
  }
}

/**
 * Flat positions where two masks differ, ascending. Compares four bytes at a time (topology updates flip a
 * few percent of the entries, so almost every word is equal) and looks inside the differing words only.
 */
export function maskChanges(before: Uint8Array, after: Uint8Array): Int32Array {
  if (before.length !== after.length) throw new Error(`maskChanges: masks of ${before.length} and ${after.length} entries`);
  const n = before.length;
  const out: number[] = [];
  let start = 0;
  if (before.byteOffset % 4 === 0 && after.byteOffset % 4 === 0) {
    const words = n >> 2;
    const a = new Uint32Array(before.buffer, before.byteOffset, words);
    const b = new Uint32Array(after.buffer, after.byteOffset, words);
    for (let w = 0; w < words; w++) {
      if (a[w] !== b[w]) {
        for (let p = 4 * w; p < 4 * w + 4; p++) if (before[p] !== after[p]) out.push(p);
      }
    }
    start = words << 2;
  }
  for (let p = start; p < n; p++) if (before[p] !== after[p]) out.push(p);
  return Int32Array.from(out);
}
