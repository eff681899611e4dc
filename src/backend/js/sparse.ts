/**
 * Sparse kernels on CSR matrices: spmm, denseCsrT, sddmm, dense ↔ CSR.
 * Every CSR argument is validated before use (a bad rowPtr or colIdx would otherwise read out of range);
 * the error names the kernel and the offending position. Column order inside a row is not required for
 * correctness here: entries are visited in storage order, and duplicates add.
 */
import type { AnyTypedArray, CsrStorage, Kernels, Storage } from '../kernels.ts';
import { input, type JsHeap } from './store.ts';

interface CsrArrays {
  rowPtr: AnyTypedArray;
  colIdx: AnyTypedArray;
  values: AnyTypedArray;
}

/** Check the CSR invariants and return its arrays. */
export function checkCsr(op: string, a: CsrStorage, what = 'CSR matrix'): CsrArrays {
  const { rows, cols, nnz } = a;
  if (!(Number.isInteger(rows) && rows >= 0 && Number.isInteger(cols) && cols >= 0 && Number.isInteger(nnz) && nnz >= 0)) {
    throw new Error(`${op}: ${what} has invalid dimensions rows=${rows} cols=${cols} nnz=${nnz}`);
  }
  const rowPtr = input(op, a.rowPtr, rows + 1, 'i32', `${what} rowPtr`);
  const colIdx = input(op, a.colIdx, nnz, 'i32', `${what} colIdx`);
  const values = input(op, a.values, nnz, 'f32', `${what} values`);
  if (rowPtr[0] !== 0) throw new Error(`${op}: ${what} rowPtr[0] = ${rowPtr[0]}; expected 0`);
  for (let i = 1; i <= rows; i++) {
    const p = rowPtr[i]!;
    if (p < rowPtr[i - 1]! || p > nnz) {
      throw new Error(
        `${op}: ${what} rowPtr[${i}] = ${p} is out of range (rowPtr[${i - 1}] = ${rowPtr[i - 1]}, nnz = ${nnz})`,
      );
    }
  }
  if (rowPtr[rows] !== nnz) throw new Error(`${op}: ${what} rowPtr[${rows}] = ${rowPtr[rows]}; expected nnz = ${nnz}`);
  for (let p = 0; p < nnz; p++) {
    const j = colIdx[p]!;
    if (!(j >= 0 && j < cols)) throw new Error(`${op}: ${what} colIdx[${p}] = ${j} is out of range [0, ${cols})`);
  }
  return { rowPtr, colIdx, values };
}

export function sparseKernels(heap: JsHeap): Pick<Kernels, 'spmm' | 'denseCsrT' | 'sddmm' | 'denseToCsr' | 'csrToDense'> {
  return {
    spmm(a: CsrStorage, b: Storage, n: number): Storage {
      const { rowPtr, colIdx, values } = checkCsr('spmm', a, 'A');
      const dense = input('spmm', b, a.cols * n, undefined, 'B');
      const out = new Float32Array(a.rows * n);
      const acc = new Float64Array(n);
      for (let i = 0; i < a.rows; i++) {
        acc.fill(0);
        // out[i, :] = Σ_p values[p] · B[colIdx[p], :], p in storage order.
        for (let p = rowPtr[i]!; p < rowPtr[i + 1]!; p++) {
          const v = values[p]!;
          const brow = colIdx[p]! * n;
          for (let j = 0; j < n; j++) acc[j]! += v * dense[brow + j]!;
        }
        for (let j = 0; j < n; j++) out[i * n + j] = acc[j]!;
      }
      return heap.adopt(out);
    },

    denseCsrT(x: Storage, m: number, w: CsrStorage, bias?: Storage): Storage {
      const { rowPtr, colIdx, values } = checkCsr('denseCsrT', w, 'W');
      const k = w.cols;
      const n = w.rows;
      const dense = input('denseCsrT', x, m * k, undefined, 'X');
      const b = bias ? input('denseCsrT', bias, n, 'f32', `bias [${n}]`) : undefined;
      const out = new Float32Array(m * n);
      for (let i = 0; i < m; i++) {
        for (let r = 0; r < n; r++) {
          // out[i, r] = Σ_p W[r, colIdx[p]] · X[i, colIdx[p]], p in storage order (+ bias[r], as matmul adds it).
          let acc = 0;
          for (let p = rowPtr[r]!; p < rowPtr[r + 1]!; p++) acc += values[p]! * dense[i * k + colIdx[p]!]!;
          if (b) acc += b[r]!;
          out[i * n + r] = acc;
        }
      }
      return heap.adopt(out);
    },

    sddmm(
      a: Storage, aShape: [number, number], transA: boolean,
      b: Storage, bShape: [number, number], transB: boolean,
      pattern: CsrStorage,
    ): Storage {
      // aShape/bShape are the stored shapes (as in matmul); the flags transpose them: op(A) [m, k],
      // op(B) [k, n], and the pattern is [m, n].
      const [ar, ac] = aShape;
      const [br, bc] = bShape;
      const m = transA ? ac : ar;
      const k = transA ? ar : ac;
      const kb = transB ? bc : br;
      const n = transB ? br : bc;
      if (k !== kb || pattern.rows !== m || pattern.cols !== n) {
        throw new Error(
          `sddmm: op(A) [${m}, ${k}] · op(B) [${kb}, ${n}] does not fit the pattern [${pattern.rows}, ${pattern.cols}] ` +
            `(A stored [${ar}, ${ac}]${transA ? ' transposed' : ''}, B stored [${br}, ${bc}]${transB ? ' transposed' : ''})`,
        );
      }
      const { rowPtr, colIdx } = checkCsr('sddmm', pattern, 'pattern');
      const da = input('sddmm', a, ar * ac, undefined, 'A');
      const db = input('sddmm', b, br * bc, undefined, 'B');
      const out = new Float32Array(pattern.nnz);
      for (let i = 0; i < m; i++) {
        for (let p = rowPtr[i]!; p < rowPtr[i + 1]!; p++) {
          const j = colIdx[p]!;
          let acc = 0;
          for (let t = 0; t < k; t++) {
            const av = transA ? da[t * ac + i]! : da[i * ac + t]!;
            const bv = transB ? db[j * bc + t]! : db[t * bc + j]!;
            acc += av * bv;
          }
          out[p] = acc;
        }
      }
      return heap.adopt(out);
    },

    denseToCsr(x: Storage, rows: number, cols: number, nnz: number, mask?: Storage): CsrStorage {
      const src = input('denseToCsr', x, rows * cols);
      const keep = mask ? input('denseToCsr', mask, rows * cols, undefined, 'mask') : src;
      if (!(Number.isInteger(nnz) && nnz >= 0)) throw new Error(`denseToCsr: nnz must be a non-negative integer, got ${nnz}`);
      // With a mask, stored positions are the mask's (explicit zeros included); without, x != 0 (NaN kept).
      let count = 0;
      for (let i = 0; i < keep.length; i++) if (keep[i] !== 0) count++;
      if (count !== nnz) {
        throw new Error(`denseToCsr: ${mask ? 'the mask' : 'x'} [${rows}, ${cols}] has ${count} stored entries, but nnz = ${nnz} was passed`);
      }
      const rowPtr = new Int32Array(rows + 1);
      const colIdx = new Int32Array(nnz);
      const values = new Float32Array(nnz);
      let p = 0;
      for (let i = 0; i < rows; i++) {
        for (let j = 0; j < cols; j++) {
          if (keep[i * cols + j] !== 0) {
            colIdx[p] = j;
            values[p] = src[i * cols + j]!;
            p++;
          }
        }
        rowPtr[i + 1] = p;
      }
      return {
        rows,
        cols,
        nnz,
        rowPtr: heap.adopt(rowPtr),
        colIdx: heap.adopt(colIdx),
        values: heap.adopt(values),
      };
    },

    csrToDense(a: CsrStorage): Storage {
      const { rowPtr, colIdx, values } = checkCsr('csrToDense', a);
      const out = new Float32Array(a.rows * a.cols);
      for (let i = 0; i < a.rows; i++) {
        for (let p = rowPtr[i]!; p < rowPtr[i + 1]!; p++) out[i * a.cols + colIdx[p]!]! += values[p]!;
      }
      return heap.adopt(out);
    },
  };
}
