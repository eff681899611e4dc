/**
 * The host side of 4×4 block-sparse (BSR) storage: which blocks of a masked weight are stored and where each
 * stored value comes from. Used by training's BSR execution (src/sparse/exec-bsr.ts), by the per-layer path
 * trial (how many blocks a mask needs) and by the inference entry, which runs block-encoded weights through
 * the same denseBsrT kernel (src/infer/block-weight.ts). Pure host code: no backend, no kernels.
 */

/** The block size of the BSR kernels (BsrStorage). */
export const BSR_BLOCK = 4;

/**
 * Host block pattern of W [n, k] (or of Wᵀ [k, n]) for 4×4 BSR: block rows, the block columns of each
 * (increasing, as denseToBsr builds them, which is the summation order the kernels' bit-equality rests on),
 * and for every stored value (block by block, column-major inside a block as BsrStorage orders them) its flat
 * position in W and whether the mask keeps it.
 */
export class BsrPattern {
  private constructor(
    readonly rows: number,
    readonly cols: number,
    readonly blockPtr: Int32Array,
    readonly blockCol: Int32Array,
    /** i32[nblocks·16]: flat index into W [n, k] of each stored value (0 where `keep` is 0). */
    readonly positions: Int32Array,
    /** f32[nblocks·16]: 1 where the mask keeps the value, 0 for masked-out or past-the-edge positions. */
    readonly keep: Float32Array,
  ) {}

  get nblocks(): number {
    return this.blockCol.length;
  }

  /** Whether every stored value is kept (the mask is made of whole 4×4 blocks inside the matrix). */
  get whole(): boolean {
    return this.keep.every((v) => v === 1);
  }

  /** The pattern of W [n, k] (transposed = false) or of Wᵀ [k, n], from W's row-major u8 mask. */
  static fromMask(mask: Uint8Array, n: number, k: number, transposed = false): BsrPattern {
    if (mask.length !== n * k) throw new Error(`BsrPattern.fromMask: mask has ${mask.length} entries, the weight [${n}, ${k}] has ${n * k}`);
    const B = BSR_BLOCK;
    const [rows, cols] = transposed ? [k, n] : [n, k];
    // Entry (r, c) of the stored matrix is W[r, c], or W[c, r] for Wᵀ.
    const at = transposed ? (r: number, c: number) => c * k + r : (r: number, c: number) => r * k + c;
    const nbr = Math.ceil(rows / B);
    const nbc = Math.ceil(cols / B);
    const on = new Uint8Array(nbr * nbc);
    for (let r = 0; r < rows; r++) {
      const rb = (r >> 2) * nbc;
      for (let c = 0; c < cols; c++) if (mask[at(r, c)]) on[rb + (c >> 2)] = 1;
    }
    const blockPtr = new Int32Array(nbr + 1);
    for (let bi = 0; bi < nbr; bi++) {
      let c = 0;
      for (let bj = 0; bj < nbc; bj++) c += on[bi * nbc + bj]!;
      blockPtr[bi + 1] = blockPtr[bi]! + c;
    }
    const nblocks = blockPtr[nbr]!;
    const blockCol = new Int32Array(nblocks);
    const positions = new Int32Array(nblocks * 16);
    const keep = new Float32Array(nblocks * 16);
    let b = 0;
    for (let bi = 0; bi < nbr; bi++) {
      for (let bj = 0; bj < nbc; bj++) {
        if (!on[bi * nbc + bj]) continue;
        blockCol[b] = bj;
        for (let c = 0; c < B; c++) {
          for (let r = 0; r < B; r++) {
            const R = bi * B + r;
            const C = bj * B + c;
            if (R >= rows || C >= cols) continue;
            const p = at(R, C);
            if (!mask[p]) continue;
            positions[16 * b + 4 * c + r] = p;
            keep[16 * b + 4 * c + r] = 1;
          }
        }
        b++;
      }
    }
    return new BsrPattern(rows, cols, blockPtr, blockCol, positions, keep);
  }
}

/** Stored 4×4 blocks of a [n, k] mask. */
export function bsrBlockCount(mask: Uint8Array, n: number, k: number): number {
  const nbc = Math.ceil(k / BSR_BLOCK);
  const on = new Uint8Array(Math.ceil(n / BSR_BLOCK) * nbc);
  let c = 0;
  for (let i = 0; i < n; i++) {
    const rb = (i >> 2) * nbc;
    for (let j = 0; j < k; j++) {
      const b = rb + (j >> 2);
      if (mask[i * k + j] && !on[b]) {
        on[b] = 1;
        c++;
      }
    }
  }
  return c;
}
