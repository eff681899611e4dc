/**
 * WebGPU glue for the block-sparse (BSR, 4×4 blocks) kernels of shaders/bsr.wgsl: denseBsrT, denseToBsr,
 * bsrToDense and the weight gradient bsrSddmm. Simple shaders, correctness first: one invocation per (row of X,
 * block row of W) for the product, per block row for the conversion, per stored block for the scatter, per
 * (stored block, block column) for bsrSddmm. Shapes and storage sizes are
 * checked here; the structure (blockPtr, blockCol) cannot be read without a readback and is trusted, as the
 * CSR kernels do. `denseToBsr` takes the caller's block count and checks it at the next read, as denseToCsr.
 */
import type { BsrStorage, Kernels, Storage } from '../../kernels.ts';
import { Params, type WebGpuRuntime, type GpuStorage } from '../runtime.ts';
import { groups } from './util.ts';

const WG = 64;

function checkInt(op: string, what: string, v: number): void {
  if (!(Number.isInteger(v) && v >= 0)) throw new Error(`${op}: ${what} must be a non-negative integer, got ${v}`);
}

function checkBsrSizes(rt: WebGpuRuntime, op: string, a: BsrStorage): [GpuStorage, GpuStorage, GpuStorage] {
  checkInt(op, 'rows', a.rows);
  checkInt(op, 'cols', a.cols);
  checkInt(op, 'nblocks', a.nblocks);
  const parts: Array<[string, Storage, number, Storage['dtype']]> = [
    ['blockPtr', a.blockPtr, Math.ceil(a.rows / 4) + 1, 'i32'], ['blockCol', a.blockCol, a.nblocks, 'i32'],
    ['values', a.values, 16 * a.nblocks, 'f32'],
  ];
  return parts.map(([what, s, size, dtype]) => {
    const g = rt.check(s, op);
    if (g.dtype !== dtype || g.size !== size) {
      throw new Error(`${op}: BSR [${a.rows}, ${a.cols}] ${what} is ${g.dtype}[${g.size}], expected ${dtype}[${size}] (nblocks = ${a.nblocks})`);
    }
    return g;
  }) as [GpuStorage, GpuStorage, GpuStorage];
}

export function bsrKernels(rt: WebGpuRuntime): Pick<Kernels, 'denseBsrT' | 'denseToBsr' | 'bsrToDense' | 'bsrSddmm'> {
  return {
    denseBsrT(x: Storage, m: number, w: BsrStorage): Storage {
      const op = 'denseBsrT';
      checkInt(op, 'm', m);
      const bufs = checkBsrSizes(rt, op, w);
      const xs = rt.check(x, op);
      const n = w.rows;
      const k = w.cols;
      if (xs.size !== m * k) throw new Error(`${op}: X holds ${xs.size} elements, but [${m}, ${k}] needs ${m * k}`);
      const nbr = Math.ceil(n / 4);
      const out = rt.alloc(m * n, 'f32', false, op);
      if (m * nbr > 0) {
        rt.dispatch({
          family: 'bsr', entry: 'dense_bsrt', params: new Params().setAll(0, [m * nbr, nbr, n, k]),
          buffers: [...bufs, xs, out], groups: groups(m * nbr, WG),
        });
      }
      return out;
    },

    bsrSddmm(g: Storage, x: Storage, m: number, w: BsrStorage): Storage {
      const op = 'bsrSddmm';
      checkInt(op, 'm', m);
      const [ptr, col] = checkBsrSizes(rt, op, w);
      const inputs = ([['G', g, w.rows], ['X', x, w.cols]] as const).map(([what, s, width]) => {
        const b = rt.check(s, op);
        if (b.dtype !== 'f32' || b.size !== m * width) {
          throw new Error(`${op}: ${what} is ${b.dtype}[${b.size}], but [${m}, ${width}] needs f32[${m * width}]`);
        }
        return b;
      });
      // Zeroed: m = 0 sums nothing.
      const out = rt.alloc(16 * w.nblocks, 'f32', m === 0, op);
      if (w.nblocks > 0 && m > 0) {
        rt.dispatch({
          family: 'bsr', entry: 'bsr_sddmm', params: new Params().setAll(0, [4 * w.nblocks, Math.ceil(w.rows / 4), w.rows, w.cols, m]),
          buffers: [ptr, col, null, inputs[0]!, out, inputs[1]!], groups: groups(4 * w.nblocks, WG),
        });
      }
      return out;
    },

    bsrToDense(a: BsrStorage): Storage {
      const op = 'bsrToDense';
      const bufs = checkBsrSizes(rt, op, a);
      const out = rt.alloc(a.rows * a.cols, 'f32', true, op);
      if (a.nblocks > 0) {
        rt.dispatch({
          family: 'bsr', entry: 'bsr_scatter', params: new Params().setAll(0, [a.nblocks, Math.ceil(a.rows / 4), a.rows, a.cols]),
          buffers: [...bufs, null, out], groups: groups(a.nblocks, WG),
        });
      }
      return out;
    },

    denseToBsr(x: Storage, rows: number, cols: number, nblocks: number, mask?: Storage): BsrStorage {
      const op = 'denseToBsr';
      checkInt(op, 'rows', rows);
      checkInt(op, 'cols', cols);
      checkInt(op, 'nblocks', nblocks);
      const xs = rt.check(x, op);
      if (xs.size !== rows * cols) throw new Error(`${op}: x holds ${xs.size} elements, but [${rows}, ${cols}] needs ${rows * cols}`);
      const ms = mask ? rt.check(mask, op) : null;
      if (ms && ms.size !== rows * cols) throw new Error(`${op}: mask holds ${ms.size} elements, but [${rows}, ${cols}] needs ${rows * cols}`);
      const nbr = Math.ceil(rows / 4);
      const nbc = Math.ceil(cols / 4);
      if (nblocks > nbr * nbc) throw new Error(`${op}: nblocks = ${nblocks} exceeds the ${nbr * nbc} 4×4 blocks of [${rows}, ${cols}]`);
      const spec = { HAS_MASK: ms ? 1 : 0 };
      const blockPtr = rt.alloc(nbr + 1, 'i32', true, op);
      const blockCol = rt.alloc(nblocks, 'i32', false, op);
      const values = rt.alloc(16 * nblocks, 'f32', false, op);
      const p = new Params().setAll(0, [rows, cols, nbr, nbc, nblocks]);
      rt.dispatch({ family: 'bsr', entry: 'bsr_count', spec, params: p, buffers: [xs, ms ?? rt.dummy(), blockPtr], groups: groups(Math.max(nbr, 1), WG) });
      // The in-place prefix sum is the CSR one (sparse.wgsl's csr_scan over [0] = the number of rows).
      if (nbr > 0) rt.dispatch({ family: 'sparse', entry: 'csr_scan', spec: { HAS_MASK: 0 }, params: new Params().setAll(0, [nbr]), buffers: [null, null, blockPtr], groups: 1 });
      if (nblocks > 0) {
        rt.dispatch({
          family: 'bsr', entry: 'bsr_fill', spec, params: p, buffers: [xs, ms ?? rt.dummy(), blockPtr, blockCol, values],
          groups: groups(nbr, WG),
        });
      }
      const what = ms ? 'the mask' : 'x';
      rt.expectWord(blockPtr, nbr, nblocks, (count) =>
        `${op}: ${what} [${rows}, ${cols}] has ${count} non-empty 4×4 blocks, but nblocks = ${nblocks} was passed (webgpu: detected at the next read)`);
      return { rows, cols, nblocks, blockPtr, blockCol, values };
    },
  };
}
