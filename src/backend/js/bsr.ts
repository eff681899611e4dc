/**
 * Block-sparse (BSR, 4×4 blocks) kernels of the reference backend: denseBsrT, denseToBsr, bsrToDense, and the
 * weight gradient bsrSddmm (Gᵀ·X at the stored blocks, each position summed over i in increasing order in f64,
 * as the reference's sddmm does: the two agree bit for bit on the CSR of the blocks' in-range positions).
 * The format (src/backend/kernels.ts, BsrStorage): blockPtr per block row, blockCol per stored block, and 16
 * values per block stored column-major (values[16b + 4c + r] = W[4bi + r, 4bj + c]).
 *
 * denseBsrT sums each output element in the contract's order (blocks in storage order, c = 0..3 within a
 * block), in f64 like the other reference kernels, and multiplies every stored value, including the padding
 * of edge blocks, by X zero-padded to whole blocks: so the wasm and webgpu kernels, which read padded tiles,
 * compute the same terms whatever the padding holds.
 */
import type { AnyTypedArray, BsrStorage, Kernels, Storage } from '../kernels.ts';
import { input, type JsHeap } from './store.ts';

/** Block rows and block columns of a [rows, cols] BSR matrix. */
export const bsrGrid = (rows: number, cols: number): [number, number] => [Math.ceil(rows / 4), Math.ceil(cols / 4)];

interface BsrArrays {
  blockPtr: AnyTypedArray;
  blockCol: AnyTypedArray;
  values: AnyTypedArray;
}

/** Check the BSR invariants (sizes, dtypes, blockPtr monotone from 0 to nblocks, blockCol in range). */
export function checkBsr(op: string, a: BsrStorage, what = 'BSR matrix'): BsrArrays {
  const { rows, cols, nblocks } = a;
  if (!(Number.isInteger(rows) && rows >= 0 && Number.isInteger(cols) && cols >= 0 && Number.isInteger(nblocks) && nblocks >= 0)) {
    throw new Error(`${op}: ${what} has invalid dimensions rows=${rows} cols=${cols} nblocks=${nblocks}`);
  }
  const [br, bc] = bsrGrid(rows, cols);
  const blockPtr = input(op, a.blockPtr, br + 1, 'i32', `${what} blockPtr`);
  const blockCol = input(op, a.blockCol, nblocks, 'i32', `${what} blockCol`);
  const values = input(op, a.values, nblocks * 16, 'f32', `${what} values`);
  if (blockPtr[0] !== 0) throw new Error(`${op}: ${what} blockPtr[0] = ${blockPtr[0]}; expected 0`);
  for (let i = 1; i <= br; i++) {
    const p = blockPtr[i]!;
    if (p < blockPtr[i - 1]! || p > nblocks) {
      throw new Error(`${op}: ${what} blockPtr[${i}] = ${p} is out of range (blockPtr[${i - 1}] = ${blockPtr[i - 1]}, nblocks = ${nblocks})`);
    }
  }
  if (blockPtr[br] !== nblocks) throw new Error(`${op}: ${what} blockPtr[${br}] = ${blockPtr[br]}; expected nblocks = ${nblocks}`);
  for (let p = 0; p < nblocks; p++) {
    const j = blockCol[p]!;
    if (!(j >= 0 && j < bc)) throw new Error(`${op}: ${what} blockCol[${p}] = ${j} is out of range [0, ${bc}) (cols = ${cols})`);
  }
  return { blockPtr, blockCol, values };
}

export function bsrKernels(heap: JsHeap): Pick<Kernels, 'denseBsrT' | 'denseToBsr' | 'bsrToDense' | 'bsrSddmm'> {
  return {
    denseBsrT(x: Storage, m: number, w: BsrStorage, bias?: Storage): Storage {
      const op = 'denseBsrT';
      if (!(Number.isInteger(m) && m >= 0)) throw new Error(`${op}: m must be a non-negative integer, got ${m}`);
      const { blockPtr, blockCol, values } = checkBsr(op, w, 'W');
      const k = w.cols;
      const n = w.rows;
      const dense = input(op, x, m * k, undefined, `X [${m}, ${k}]`);
      const b = bias ? input(op, bias, n, 'f32', `bias [${n}]`) : undefined;
      const out = new Float32Array(m * n);
      const [nbr] = bsrGrid(n, k);
      const acc = new Float64Array(4);
      for (let i = 0; i < m; i++) {
        const xi = i * k;
        for (let bi = 0; bi < nbr; bi++) {
          acc.fill(0);
          for (let p = blockPtr[bi]!; p < blockPtr[bi + 1]!; p++) {
            const k0 = blockCol[p]! * 4;
            for (let c = 0; c < 4; c++) {
              const xv = k0 + c < k ? dense[xi + k0 + c]! : 0; // X's zero padding
              const v = 16 * p + 4 * c;
              for (let r = 0; r < 4; r++) acc[r]! += values[v + r]! * xv;
            }
          }
          for (let r = 0; r < 4 && 4 * bi + r < n; r++) out[i * n + 4 * bi + r] = b ? acc[r]! + b[4 * bi + r]! : acc[r]!;
        }
      }
      return heap.adopt(out);
    },

    denseToBsr(x: Storage, rows: number, cols: number, nblocks: number, mask?: Storage): BsrStorage {
      const op = 'denseToBsr';
      for (const [what, v] of [['rows', rows], ['cols', cols], ['nblocks', nblocks]] as const) {
        if (!(Number.isInteger(v) && v >= 0)) throw new Error(`${op}: ${what} must be a non-negative integer, got ${v}`);
      }
      const src = input(op, x, rows * cols, 'f32', `x [${rows}, ${cols}]`);
      const keep = mask ? input(op, mask, rows * cols, 'u8', 'mask') : src;
      const [nbr, nbc] = bsrGrid(rows, cols);
      const kept = (i: number, j: number) => i < rows && j < cols && keep[i * cols + j] !== 0;
      const stored = (bi: number, bj: number) => {
        for (let r = 0; r < 4; r++) for (let c = 0; c < 4; c++) if (kept(4 * bi + r, 4 * bj + c)) return true;
        return false;
      };
      let count = 0;
      for (let bi = 0; bi < nbr; bi++) for (let bj = 0; bj < nbc; bj++) if (stored(bi, bj)) count++;
      if (count !== nblocks) {
        throw new Error(`${op}: ${mask ? 'the mask' : 'x'} [${rows}, ${cols}] has ${count} non-empty 4×4 blocks, but nblocks = ${nblocks} was passed`);
      }
      const blockPtr = new Int32Array(nbr + 1);
      const blockCol = new Int32Array(nblocks);
      const values = new Float32Array(nblocks * 16);
      let p = 0;
      for (let bi = 0; bi < nbr; bi++) {
        for (let bj = 0; bj < nbc; bj++) {
          if (!stored(bi, bj)) continue;
          blockCol[p] = bj;
          for (let c = 0; c < 4; c++) {
            for (let r = 0; r < 4; r++) {
              // Not kept (masked out, or past the edge): an explicit 0.
              if (kept(4 * bi + r, 4 * bj + c)) values[16 * p + 4 * c + r] = src[(4 * bi + r) * cols + 4 * bj + c]!;
            }
          }
          p++;
        }
        blockPtr[bi + 1] = p;
      }
      return { rows, cols, nblocks, blockPtr: heap.adopt(blockPtr), blockCol: heap.adopt(blockCol), values: heap.adopt(values) };
    },

    bsrSddmm(g: Storage, x: Storage, m: number, w: BsrStorage): Storage {
      const op = 'bsrSddmm';
      if (!(Number.isInteger(m) && m >= 0)) throw new Error(`${op}: m must be a non-negative integer, got ${m}`);
      const { blockPtr, blockCol } = checkBsr(op, w, 'W');
      const { rows: n, cols: k } = w;
      const dg = input(op, g, m * n, 'f32', `G [${m}, ${n}]`);
      const dx = input(op, x, m * k, 'f32', `X [${m}, ${k}]`);
      const out = new Float32Array(16 * w.nblocks); // positions past the edge stay 0
      const [nbr] = bsrGrid(n, k);
      for (let bi = 0; bi < nbr; bi++) {
        for (let p = blockPtr[bi]!; p < blockPtr[bi + 1]!; p++) {
          const bj = blockCol[p]!;
          for (let c = 0; c < 4 && 4 * bj + c < k; c++) {
            for (let r = 0; r < 4 && 4 * bi + r < n; r++) {
              const row = 4 * bi + r;
              const col = 4 * bj + c;
              let acc = 0;
              for (let i = 0; i < m; i++) acc += dg[i * n + row]! * dx[i * k + col]!;
              out[16 * p + 4 * c + r] = acc;
            }
          }
        }
      }
      return heap.adopt(out);
    },

    bsrToDense(a: BsrStorage): Storage {
      const { blockPtr, blockCol, values } = checkBsr('bsrToDense', a);
      const { rows, cols } = a;
      const out = new Float32Array(rows * cols);
      const [nbr] = bsrGrid(rows, cols);
      for (let bi = 0; bi < nbr; bi++) {
        for (let p = blockPtr[bi]!; p < blockPtr[bi + 1]!; p++) {
          const bj = blockCol[p]!;
          for (let c = 0; c < 4; c++) {
            for (let r = 0; r < 4; r++) {
              const i = 4 * bi + r;
              const j = 4 * bj + c;
              // Duplicate blocks (a hand-made BSR) add, as csrToDense does with duplicate entries.
              if (i < rows && j < cols) out[i * cols + j]! += values[16 * p + 4 * c + r]!;
            }
          }
        }
      }
      return heap.adopt(out);
    },
  };
}
