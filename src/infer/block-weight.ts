/**
 * A weight of the inference entry stored as whole 4×4 blocks (the `block` encoding with B a multiple of 4, as
 * `--sparsity_structure block` trains it), run through the denseBsrT kernel as training's BSR execution does
 * (src/sparse/exec-bsr.ts): each input value loaded feeds the four rows of its block from one f32x4, which is
 * why a block-structured model runs ~2× faster through it than through CSR on the same mask (bench/RESULTS.md,
 * "Block 4×4 masks through the BSR kernel"). The blocks come from the decoded weight on the host, with their
 * block columns in increasing order (as training's src/sparse/bsr-pattern.ts lays them out), so every output still sums its
 * inputs in increasing column order with the masked entries exactly 0: the same bits as the dense and CSR paths
 * on wasm.
 */
import type { BsrStorage } from '../backend/kernels.ts';
import type { Tensor } from '../tensor/tensor.ts';
import { tensor } from '../ops/creation.ts';
import { wrap } from '../ops/util.ts';
import type { CsrWeight } from '../io/sparse-encoding.ts';

export class BlockWeight {
  private constructor(
    readonly rows: number,
    readonly cols: number,
    readonly nblocks: number,
    private readonly blockPtr: Tensor,
    private readonly blockCol: Tensor,
    private readonly values: Tensor,
  ) {}

  /**
   * The BSR of a decoded weight [rows, cols] on `backend`: a block is stored when it holds a stored entry, block
   * columns increasing within a block row, values column-major inside a block (BsrStorage's layout), positions
   * the file does not store exactly 0.
   */
  static fromCsr(c: CsrWeight, backend: string): BlockWeight {
    const { rows, cols, rowPtr, colIdx, values } = c;
    const nbc = Math.ceil(cols / 4);
    const nbr = Math.ceil(rows / 4);
    // slot[block row · nbc + block column]: −1 while empty, then 0 when marked, then the block's index.
    const slot = new Int32Array(nbr * nbc).fill(-1);
    for (let r = 0; r < rows; r++) for (let p = rowPtr[r]!; p < rowPtr[r + 1]!; p++) slot[(r >> 2) * nbc + (colIdx[p]! >> 2)] = 0;
    const blockPtr = new Int32Array(nbr + 1);
    const blockCol: number[] = [];
    for (let bi = 0; bi < nbr; bi++) {
      for (let bj = 0; bj < nbc; bj++) {
        if (slot[bi * nbc + bj] === 0) {
          slot[bi * nbc + bj] = blockCol.length;
          blockCol.push(bj);
        }
      }
      blockPtr[bi + 1] = blockCol.length;
    }
    const vals = new Float32Array(16 * blockCol.length);
    for (let r = 0; r < rows; r++) {
      for (let p = rowPtr[r]!; p < rowPtr[r + 1]!; p++) {
        const col = colIdx[p]!;
        vals[16 * slot[(r >> 2) * nbc + (col >> 2)]! + 4 * (col & 3) + (r & 3)] = values[p]!;
      }
    }
    const i32 = { backend, dtype: 'i32' as const };
    return new BlockWeight(rows, cols, blockCol.length, tensor(blockPtr, [nbr + 1], i32),
      tensor(Int32Array.from(blockCol), [blockCol.length], i32), tensor(vals, [vals.length], { backend, dtype: 'f32' }));
  }

  /** X [m, cols] · Wᵀ (+ bias [rows], added in the kernel) → [m, rows]. */
  product(x2: Tensor, bias: Tensor | null): Tensor {
    const op = 'denseBsrT';
    const m = x2.shape[0]!;
    const w: BsrStorage = {
      rows: this.rows, cols: this.cols, nblocks: this.nblocks,
      blockPtr: this.blockPtr.use(op), blockCol: this.blockCol.use(op), values: this.values.use(op),
    };
    return wrap(x2.backend.kernels.denseBsrT(x2.use(op), m, w, bias?.use(op)), [m, this.rows], x2.backend);
  }

  dispose(): void {
    this.blockPtr.dispose();
    this.blockCol.dispose();
    this.values.dispose();
  }
}
