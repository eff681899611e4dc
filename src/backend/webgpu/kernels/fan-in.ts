/**
 * WebGPU glue for the constant fan-in kernels of shaders/fan-in.wgsl: denseFanInT, denseToFanIn, fanInToDense,
 * and the backward products fanInDense and fanInSddmm. Simple shaders, correctness first: one invocation per
 * (row of X, live row of W) for the product, per row for the conversion, per live row for the scatter, per row
 * of G for fanInDense (which owns that row of dX, so the scatter needs no atomics) and per stored entry for
 * fanInSddmm. Shapes and storage sizes are checked here; the structure
 * (liveRows, column indices) cannot be read without a readback and is trusted, as the CSR and BSR kernels do.
 * `denseToFanIn` takes the caller's k and live count and checks both at the next read, as denseToCsr does nnz.
 */
import type { FanInStorage, Kernels, Storage } from '../../kernels.ts';
import { Params, type WebGpuRuntime, type GpuStorage } from '../runtime.ts';
import { groups } from './util.ts';

const WG = 64;
/** Largest column count a u16 index can address. */
const MAX_COLS = 65536;

function checkInt(op: string, what: string, v: number): void {
  if (!(Number.isInteger(v) && v >= 0)) throw new Error(`${op}: ${what} must be a non-negative integer, got ${v}`);
}

function checkFanInSizes(rt: WebGpuRuntime, op: string, a: FanInStorage): [GpuStorage, GpuStorage, GpuStorage] {
  for (const [what, v] of [['rows', a.rows], ['cols', a.cols], ['k', a.k], ['live', a.live]] as const) checkInt(op, what, v);
  if (a.cols > MAX_COLS) throw new Error(`${op}: cols = ${a.cols} > ${MAX_COLS} (u16 column indices)`);
  if (a.k > a.cols) throw new Error(`${op}: k = ${a.k} > cols = ${a.cols}`);
  if (a.live > a.rows) throw new Error(`${op}: live = ${a.live} > rows = ${a.rows}`);
  const parts: Array<[string, Storage, number, Storage['dtype']]> = [
    ['liveRows', a.liveRows, a.live, 'i32'], ['colIdx', a.colIdx, Math.ceil((a.live * a.k) / 2), 'i32'],
    ['values', a.values, a.live * a.k, 'f32'],
  ];
  return parts.map(([what, s, size, dtype]) => {
    const g = rt.check(s, op);
    if (g.dtype !== dtype || g.size !== size) {
      throw new Error(`${op}: fan-in [${a.rows}, ${a.cols}] ${what} is ${g.dtype}[${g.size}], expected ${dtype}[${size}] (k = ${a.k}, live = ${a.live})`);
    }
    return g;
  }) as [GpuStorage, GpuStorage, GpuStorage];
}

/** G [m, w.rows] (and X [m, w.cols]) sized for m: the backward products' inputs. */
function checkBackwardInputs(rt: WebGpuRuntime, op: string, m: number, w: FanInStorage, g: Storage, x?: Storage): GpuStorage[] {
  const out: GpuStorage[] = [];
  for (const [what, s, cols] of [['G', g, w.rows], ['X', x, w.cols]] as const) {
    if (!s) continue;
    const b = rt.check(s, op);
    if (b.dtype !== 'f32' || b.size !== m * cols) {
      throw new Error(`${op}: ${what} is ${b.dtype}[${b.size}], but [${m}, ${cols}] needs f32[${m * cols}]`);
    }
    out.push(b);
  }
  return out;
}

export function fanInKernels(
  rt: WebGpuRuntime,
): Pick<Kernels, 'denseFanInT' | 'denseToFanIn' | 'fanInToDense' | 'fanInDense' | 'fanInSddmm'> {
  return {
    denseFanInT(x: Storage, m: number, w: FanInStorage): Storage {
      const op = 'denseFanInT';
      checkInt(op, 'm', m);
      const bufs = checkFanInSizes(rt, op, w);
      const xs = rt.check(x, op);
      const nIn = w.cols;
      if (xs.size !== m * nIn) throw new Error(`${op}: X holds ${xs.size} elements, but [${m}, ${nIn}] needs ${m * nIn}`);
      // Zeroed: rows of W that are not live give 0.
      const out = rt.alloc(m * w.rows, 'f32', true, op);
      if (m * w.live > 0) {
        rt.dispatch({
          family: 'fan-in', entry: 'dense_fanint', params: new Params().setAll(0, [m * w.live, w.live, w.rows, nIn, w.k]),
          buffers: [...bufs, xs, out], groups: groups(m * w.live, WG),
        });
      }
      return out;
    },

    fanInDense(g: Storage, m: number, w: FanInStorage): Storage {
      const op = 'fanInDense';
      checkInt(op, 'm', m);
      const bufs = checkFanInSizes(rt, op, w);
      const [gs] = checkBackwardInputs(rt, op, m, w, g);
      // Zeroed: columns no live row uses stay 0.
      const out = rt.alloc(m * w.cols, 'f32', true, op);
      if (m * w.live * w.k > 0) {
        rt.dispatch({
          family: 'fan-in', entry: 'fanin_dense', params: new Params().setAll(0, [m, w.live, w.rows, w.cols, w.k]),
          buffers: [...bufs, gs!, out], groups: groups(m, WG),
        });
      }
      return out;
    },

    fanInSddmm(g: Storage, x: Storage, m: number, w: FanInStorage): Storage {
      const op = 'fanInSddmm';
      checkInt(op, 'm', m);
      const [rows, cols] = checkFanInSizes(rt, op, w);
      const [gs, xs] = checkBackwardInputs(rt, op, m, w, g, x);
      const count = w.live * w.k;
      // Zeroed: m = 0 sums nothing.
      const out = rt.alloc(count, 'f32', m === 0, op);
      if (count > 0 && m > 0) {
        rt.dispatch({
          family: 'fan-in', entry: 'fanin_sddmm', params: new Params().setAll(0, [count, w.k, m, w.rows, w.cols]),
          buffers: [rows, cols, null, gs!, out, xs!], groups: groups(count, WG),
        });
      }
      return out;
    },

    fanInToDense(a: FanInStorage): Storage {
      const op = 'fanInToDense';
      const bufs = checkFanInSizes(rt, op, a);
      const out = rt.alloc(a.rows * a.cols, 'f32', true, op);
      if (a.live * a.k > 0) {
        rt.dispatch({
          family: 'fan-in', entry: 'fanin_scatter', params: new Params().setAll(0, [a.live, a.cols, a.k]),
          buffers: [...bufs, null, out], groups: groups(a.live, WG),
        });
      }
      return out;
    },

    denseToFanIn(x: Storage, rows: number, cols: number, k: number, live: number, mask?: Storage): FanInStorage {
      const op = 'denseToFanIn';
      for (const [what, v] of [['rows', rows], ['cols', cols], ['k', k], ['live', live]] as const) checkInt(op, what, v);
      if (cols > MAX_COLS) throw new Error(`${op}: cols = ${cols} > ${MAX_COLS} cannot be indexed by u16; use CSR`);
      if (live > rows) throw new Error(`${op}: live = ${live} exceeds rows = ${rows}`);
      if (k > cols) throw new Error(`${op}: k = ${k} exceeds cols = ${cols}`);
      const xs = rt.check(x, op);
      if (xs.size !== rows * cols) throw new Error(`${op}: x holds ${xs.size} elements, but [${rows}, ${cols}] needs ${rows * cols}`);
      const ms = mask ? rt.check(mask, op) : null;
      if (ms && ms.size !== rows * cols) throw new Error(`${op}: mask holds ${ms.size} elements, but [${rows}, ${cols}] needs ${rows * cols}`);
      const spec = { HAS_MASK: ms ? 1 : 0 };
      const livePtr = rt.alloc(rows + 1, 'i32', true, op);
      const bad = rt.alloc(1, 'i32', true, op);
      const liveRows = rt.alloc(live, 'i32', false, op);
      const colIdx = rt.alloc(Math.ceil((live * k) / 2), 'i32', true, op); // atomicOr fills it
      const values = rt.alloc(live * k, 'f32', false, op);
      const xm = ms ?? rt.dummy();
      rt.dispatch({
        family: 'fan-in', entry: 'fanin_count', spec, params: new Params().setAll(0, [rows, cols, k]),
        buffers: [xs, xm, livePtr, bad], groups: groups(Math.max(rows, 1), WG),
      });
      if (rows > 0) rt.dispatch({ family: 'sparse', entry: 'csr_scan', spec: { HAS_MASK: 0 }, params: new Params().setAll(0, [rows]), buffers: [null, null, livePtr], groups: 1 });
      if (live * k > 0) {
        rt.dispatch({
          family: 'fan-in', entry: 'fanin_fill', spec, params: new Params().setAll(0, [rows, cols, k, live]),
          buffers: [xs, xm, livePtr, null, liveRows, colIdx, values], groups: groups(rows, WG),
        });
      }
      const what = ms ? 'the mask' : 'x';
      rt.expectWord(bad, 0, 0, (r) =>
        `${op}: row ${r - 1} of ${what} [${rows}, ${cols}] keeps neither 0 nor k = ${k} entries (webgpu: detected at the next read)`);
      rt.expectWord(livePtr, rows, live, (count) =>
        `${op}: ${what} [${rows}, ${cols}] has ${count} live rows, but live = ${live} was passed (webgpu: detected at the next read)`);
      rt.free(bad);
      rt.free(livePtr);
      return { rows, cols, k, live, liveRows, colIdx, values };
    },
  };
}
