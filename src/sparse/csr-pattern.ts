/**
 * The host-side CSR pattern of a masked weight W [n, k] (or of its transpose), kept in step with the layer's
 * mask so that sparse execution never rescans the dense weight:
 *
 * - values are refreshed after each optimizer step by one gather of W at `positions` (the flat index into
 *   W of every stored entry) — nnz reads instead of a dense-to-CSR scan (and, for Wᵀ, a permute) of n·k;
 * - when a topology update changes the mask, `update` diffs the two masks once and merges each changed row's
 *   old segment with its changes; unchanged rows are copied as blocks. PALS / RigL / SET updates move a small
 *   fraction of the weights, so the work is a byte scan plus O(nnz) copying, never a rebuild from scratch.
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
   * Follow a mask change from `before` to `after` (both W's row-major masks). The masks are diffed once (a
   * contiguous byte scan); rows without changes keep their column segments (block copies) and each changed row
   * is merged from its old segment and its sorted changes — no strided rescan of the mask, so Wᵀ's pattern
   * costs the same as W's. Returns the number of changed rows.
   */
  update(before: Uint8Array, after: Uint8Array): number {
    const n = this.transposed ? this.cols : this.rows;
    const k = this.transposed ? this.rows : this.cols;
    if (before.length !== n * k || after.length !== n * k) {
      throw new Error(`CsrPattern.update: masks of ${before.length} and ${after.length} entries for a weight [${n}, ${k}]`);
    }
    // Changes grouped by stored row (counting sort), each group in increasing column order.
    const perRow = new Int32Array(this.rows + 1);
    let changes = 0;
    for (let p = 0; p < after.length; p++) {
      if (before[p] !== after[p]) {
        perRow[(this.transposed ? p % k : (p / k) | 0) + 1]!++;
        changes++;
      }
    }
    if (changes === 0) return 0;
    for (let r = 0; r < this.rows; r++) perRow[r + 1]! += perRow[r]!;
    const changeCol = new Int32Array(changes);
    const changeOn = new Uint8Array(changes);
    const fill = perRow.slice(0, this.rows);
    // W's flat order is (row, col) for W's pattern and (col, row) for Wᵀ's: either way each group fills in
    // increasing column order.
    for (let p = 0; p < after.length; p++) {
      if (before[p] !== after[p]) {
        const i = (p / k) | 0;
        const j = p - i * k;
        const [r, c] = this.transposed ? [j, i] : [i, j];
        const q = fill[r]!++;
        changeCol[q] = c;
        changeOn[q] = after[p] ? 1 : 0;
      }
    }
    const rowPtr = new Int32Array(this.rows + 1);
    let changedRows = 0;
    for (let r = 0; r < this.rows; r++) {
      let delta = 0;
      for (let q = perRow[r]!; q < perRow[r + 1]!; q++) delta += changeOn[q] ? 1 : -1;
      if (perRow[r + 1]! > perRow[r]!) changedRows++;
      rowPtr[r + 1] = rowPtr[r]! + this.rowPtr[r + 1]! - this.rowPtr[r]! + delta;
    }
    const colIdx = new Int32Array(rowPtr[this.rows]!);
    for (let r = 0; r < this.rows; r++) {
      const o0 = this.rowPtr[r]!;
      const o1 = this.rowPtr[r + 1]!;
      let out = rowPtr[r]!;
      const c0 = perRow[r]!;
      const c1 = perRow[r + 1]!;
      if (c0 === c1) {
        colIdx.set(this.colIdx.subarray(o0, o1), out);
        continue;
      }
      // Merge: old entries minus the removed ones, plus the added ones, in column order.
      let o = o0;
      for (let q = c0; q < c1; q++) {
        const c = changeCol[q]!;
        while (o < o1 && this.colIdx[o]! < c) colIdx[out++] = this.colIdx[o++]!;
        if (changeOn[q]) colIdx[out++] = c;
        else o++; // the removed entry is the old one at column c
      }
      while (o < o1) colIdx[out++] = this.colIdx[o++]!;
    }
    this.rowPtr = rowPtr;
    this.colIdx = colIdx;
    return changedRows;
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
