/**
 * Constant fan-in kernels of the reference backend: denseFanInT, denseToFanIn, fanInToDense, and the two
 * backward products fanInDense (dX = G·W) and fanInSddmm (dW at the stored positions). The format
 * (src/backend/kernels.ts, FanInStorage): the live rows listed, k values and k packed u16 column indices per
 * live row.
 *
 * Every product sums each output element in the contract's order in f64, as the reference's denseCsrT, sddmm
 * and matmul do: denseFanInT is bit-identical to denseCsrT on the same mask, fanInSddmm to sddmm (transA) on
 * the CSR of the mask, and fanInDense to matmul(G, W ⊙ M) (the unstored terms are ±0, which change no f64 sum
 * started at +0) here too.
 */
import type { AnyTypedArray, FanInStorage, Kernels, Storage } from '../kernels.ts';
import { input, type JsHeap } from './store.ts';

/** Largest column count a u16 index can address. */
export const FAN_IN_MAX_COLS = 65536;

/** Column index q of a packed u16 array (two per i32 word, low half first). */
export const fanInCol = (packed: AnyTypedArray, q: number): number => (packed[q >> 1]! >>> ((q & 1) << 4)) & 0xffff;

interface FanInArrays {
  liveRows: AnyTypedArray;
  colIdx: AnyTypedArray;
  values: AnyTypedArray;
}

/** Check the fan-in invariants (sizes, dtypes, live rows increasing and in range, columns in range). */
export function checkFanIn(op: string, a: FanInStorage, what = 'fan-in matrix'): FanInArrays {
  const { rows, cols, k, live } = a;
  for (const [name, v] of [['rows', rows], ['cols', cols], ['k', k], ['live', live]] as const) {
    if (!(Number.isInteger(v) && v >= 0)) throw new Error(`${op}: ${what} has invalid ${name} = ${v}`);
  }
  if (cols > FAN_IN_MAX_COLS) throw new Error(`${op}: ${what} has cols = ${cols} > ${FAN_IN_MAX_COLS} (u16 column indices)`);
  if (k > cols) throw new Error(`${op}: ${what} has k = ${k} > cols = ${cols}`);
  if (live > rows) throw new Error(`${op}: ${what} has live = ${live} > rows = ${rows}`);
  const liveRows = input(op, a.liveRows, live, 'i32', `${what} liveRows`);
  const colIdx = input(op, a.colIdx, Math.ceil((live * k) / 2), 'i32', `${what} colIdx`);
  const values = input(op, a.values, live * k, 'f32', `${what} values`);
  for (let j = 0; j < live; j++) {
    const r = liveRows[j]!;
    if (!(r >= 0 && r < rows) || (j > 0 && r <= liveRows[j - 1]!)) {
      throw new Error(`${op}: ${what} liveRows[${j}] = ${r} is out of range or not increasing (rows = ${rows})`);
    }
  }
  for (let q = 0; q < live * k; q++) {
    const c = fanInCol(colIdx, q);
    if (c >= cols) throw new Error(`${op}: ${what} column index ${q} = ${c} is out of range [0, ${cols})`);
  }
  return { liveRows, colIdx, values };
}

/** m must be a non-negative integer; G [m, rows] and X [m, cols] (when given) must hold exactly that many f32. */
function backwardInputs(
  op: string, m: number, w: FanInStorage, g: Storage, x?: Storage,
): { dg: AnyTypedArray; dx?: AnyTypedArray } {
  if (!(Number.isInteger(m) && m >= 0)) throw new Error(`${op}: m must be a non-negative integer, got ${m}`);
  const dg = input(op, g, m * w.rows, 'f32', `G [${m}, ${w.rows}]`);
  const dx = x ? input(op, x, m * w.cols, 'f32', `X [${m}, ${w.cols}]`) : undefined;
  return { dg, dx };
}

export function fanInKernels(
  heap: JsHeap,
): Pick<Kernels, 'denseFanInT' | 'denseToFanIn' | 'fanInToDense' | 'fanInDense' | 'fanInSddmm'> {
  return {
    denseFanInT(x: Storage, m: number, w: FanInStorage, bias?: Storage): Storage {
      const op = 'denseFanInT';
      if (!(Number.isInteger(m) && m >= 0)) throw new Error(`${op}: m must be a non-negative integer, got ${m}`);
      const { liveRows, colIdx, values } = checkFanIn(op, w, 'W');
      const { k, live } = w;
      const nIn = w.cols;
      const n = w.rows;
      const dense = input(op, x, m * nIn, undefined, `X [${m}, ${nIn}]`);
      const b = bias ? input(op, bias, n, 'f32', `bias [${n}]`) : undefined;
      const out = new Float32Array(m * n); // rows that are not live stay 0 (plus the bias)
      if (b) for (let i = 0; i < m; i++) out.set(b, i * n);
      const cols = new Int32Array(live * k);
      for (let q = 0; q < live * k; q++) cols[q] = fanInCol(colIdx, q);
      for (let i = 0; i < m; i++) {
        const xi = i * nIn;
        for (let j = 0; j < live; j++) {
          let acc = 0;
          for (let q = j * k; q < (j + 1) * k; q++) acc += values[q]! * dense[xi + cols[q]!]!;
          if (b) acc += b[liveRows[j]!]!;
          out[i * n + liveRows[j]!] = acc;
        }
      }
      return heap.adopt(out);
    },

    denseToFanIn(x: Storage, rows: number, cols: number, k: number, live: number, mask?: Storage): FanInStorage {
      const op = 'denseToFanIn';
      for (const [what, v] of [['rows', rows], ['cols', cols], ['k', k], ['live', live]] as const) {
        if (!(Number.isInteger(v) && v >= 0)) throw new Error(`${op}: ${what} must be a non-negative integer, got ${v}`);
      }
      if (cols > FAN_IN_MAX_COLS) throw new Error(`${op}: cols = ${cols} > ${FAN_IN_MAX_COLS} cannot be indexed by u16; use CSR`);
      if (k > cols) throw new Error(`${op}: k = ${k} exceeds cols = ${cols}`);
      const src = input(op, x, rows * cols, 'f32', `x [${rows}, ${cols}]`);
      const keep = mask ? input(op, mask, rows * cols, 'u8', 'mask') : src;
      let found = 0;
      for (let r = 0; r < rows; r++) {
        let c = 0;
        for (let j = 0; j < cols; j++) if (keep[r * cols + j] !== 0) c++;
        if (c !== 0 && c !== k) {
          throw new Error(`${op}: row ${r} of ${mask ? 'the mask' : 'x'} [${rows}, ${cols}] keeps ${c} entries; a fan-in row keeps 0 or k = ${k}`);
        }
        if (c !== 0) found++;
      }
      if (found !== live) {
        throw new Error(`${op}: ${mask ? 'the mask' : 'x'} [${rows}, ${cols}] has ${found} live rows, but live = ${live} was passed`);
      }
      const liveRows = new Int32Array(live);
      const colIdx = new Int32Array(Math.ceil((live * k) / 2));
      const values = new Float32Array(live * k);
      let j = 0;
      let q = 0;
      for (let r = 0; r < rows && k > 0; r++) {
        const q0 = q;
        for (let c = 0; c < cols; c++) {
          if (keep[r * cols + c] === 0) continue;
          colIdx[q >> 1]! |= c << ((q & 1) << 4);
          values[q++] = src[r * cols + c]!;
        }
        if (q > q0) liveRows[j++] = r;
      }
      return { rows, cols, k, live, liveRows: heap.adopt(liveRows), colIdx: heap.adopt(colIdx), values: heap.adopt(values) };
    },

    fanInDense(g: Storage, m: number, w: FanInStorage): Storage {
      const op = 'fanInDense';
      const { liveRows, colIdx, values } = checkFanIn(op, w, 'W');
      const { dg } = backwardInputs(op, m, w, g);
      const { rows: n, cols: nIn, k, live } = w;
      const out = new Float32Array(m * nIn);
      const acc = new Float64Array(nIn);
      for (let i = 0; i < m; i++) {
        acc.fill(0);
        // dX[i, :] += G[i, r] · W[r, :] over the live rows r in increasing order (a scatter of r's k entries).
        for (let j = 0; j < live; j++) {
          const gv = dg[i * n + liveRows[j]!]!;
          for (let q = j * k; q < (j + 1) * k; q++) acc[fanInCol(colIdx, q)]! += gv * values[q]!;
        }
        out.set(acc, i * nIn);
      }
      return heap.adopt(out);
    },

    fanInSddmm(g: Storage, x: Storage, m: number, w: FanInStorage): Storage {
      const op = 'fanInSddmm';
      const { liveRows, colIdx } = checkFanIn(op, w, 'W');
      const { dg, dx } = backwardInputs(op, m, w, g, x);
      const { rows: n, cols: nIn, k, live } = w;
      const out = new Float32Array(live * k);
      for (let j = 0; j < live; j++) {
        const r = liveRows[j]!;
        for (let q = j * k; q < (j + 1) * k; q++) {
          const c = fanInCol(colIdx, q);
          let acc = 0;
          for (let i = 0; i < m; i++) acc += dg[i * n + r]! * dx![i * nIn + c]!;
          out[q] = acc;
        }
      }
      return heap.adopt(out);
    },

    fanInToDense(a: FanInStorage): Storage {
      const { liveRows, colIdx, values } = checkFanIn('fanInToDense', a);
      const { cols, k, live } = a;
      const out = new Float32Array(a.rows * cols);
      for (let j = 0; j < live; j++) {
        const row = liveRows[j]! * cols;
        // Duplicate columns (a hand-made matrix) add, as csrToDense does with duplicate entries.
        for (let q = j * k; q < (j + 1) * k; q++) out[row + fanInCol(colIdx, q)]! += values[q]!;
      }
      return heap.adopt(out);
    },
  };
}
