/** wasm glue: conv1d, conv1dBackwardInput, conv1dBackwardWeight (x [N, Cin, L], w [Cout, Cin, K]). */
import type { Conv1dArgs, Storage } from '../../kernels.ts';
import type { KernelFamily } from './index.ts';
import { inPtr, wasmFn, withF32 } from './util.ts';

function outLength(l: number, k: number, stride: number, dilation: number, padL: number, padR: number): number {
  const span = l + padL + padR - dilation * (k - 1) - 1;
  return span < 0 ? 0 : Math.floor(span / stride) + 1;
}

function dims3(op: string, what: string, s: readonly number[]): [number, number, number] {
  if (s.length !== 3) throw new Error(`${op}: ${what} must have rank 3, got [${s.join(', ')}]`);
  return [s[0]!, s[1]!, s[2]!];
}

function checkGeometry(op: string, a: { stride: number; dilation: number; padLeft: number; padRight: number }): void {
  if (!(Number.isInteger(a.stride) && a.stride >= 1 && Number.isInteger(a.dilation) && a.dilation >= 1)) {
    throw new Error(`${op}: stride ${a.stride} and dilation ${a.dilation} must be integers ≥ 1`);
  }
  if (!(Number.isInteger(a.padLeft) && a.padLeft >= 0 && Number.isInteger(a.padRight) && a.padRight >= 0)) {
    throw new Error(`${op}: padding ${a.padLeft}/${a.padRight} must be integers ≥ 0`);
  }
}

interface ConvGeometry {
  nb: number;
  cin: number;
  l: number;
  cout: number;
  k: number;
  lout: number;
}

/**
 * The checked shapes of a conv1d call: x [N, Cin, L] and w [Cout, Cin, K] (named as the call names them), the
 * output length, and — for the backward kernels — dy, which must be the forward output's [N, Cout, Lout].
 */
function geometry(op: string, args: Omit<Conv1dArgs, 'x' | 'w'>, names: [string, string], dyShape?: readonly number[]): ConvGeometry {
  checkGeometry(op, args);
  const [nb, cin, l] = dims3(op, names[0], args.xShape);
  const [cout, wcin, k] = dims3(op, names[1], args.wShape);
  if (wcin !== cin) throw new Error(`${op}: x has ${cin} channels but w expects ${wcin}`);
  const lout = outLength(l, k, args.stride, args.dilation, args.padLeft, args.padRight);
  if (dyShape) {
    const [dn, dc, dl] = dims3(op, 'dy', dyShape);
    if (dn !== nb || dc !== cout || dl !== lout) {
      throw new Error(`${op}: dy shape [${dyShape.join(', ')}] does not match the forward output [${nb}, ${cout}, ${lout}]`);
    }
  }
  return { nb, cin, l, cout, k, lout };
}

export const convFamily: KernelFamily = (rt) => {
  const fwd = wasmFn(rt, 'conv1dFwd');
  const bwdIn = wasmFn(rt, 'conv1dBwdInput');
  const bwdW = wasmFn(rt, 'conv1dBwdWeight');
  return {
    conv1d(args: Conv1dArgs): Storage {
      const op = 'conv1d';
      const { nb, cin, l, cout, k, lout } = geometry(op, args, ['x', 'w']);
      inPtr(rt, op, args.x, nb * cin * l, 'x');
      inPtr(rt, op, args.w, cout * cin * k, 'w');
      const out = rt.alloc(nb * cout * lout, 'f32', true);
      if (out.size === 0) return out;
      withF32(rt, args.x, (x) => withF32(rt, args.w, (w) => {
        fwd(rt.ptr(x), rt.ptr(w), out.ptr, nb, cin, l, cout, k, lout, args.stride, args.dilation, args.padLeft);
      }));
      return out;
    },

    conv1dBackwardInput(dy: Storage, dyShape: number[], args: Omit<Conv1dArgs, 'x'>): Storage {
      const op = 'conv1dBackwardInput';
      const { nb, cin, l, cout, k, lout } = geometry(op, args, ['xShape', 'w'], dyShape);
      inPtr(rt, op, dy, nb * cout * lout, 'dy');
      inPtr(rt, op, args.w, cout * cin * k, 'w');
      const dx = rt.alloc(nb * cin * l, 'f32', true);
      if (dx.size === 0) return dx;
      withF32(rt, dy, (g) => withF32(rt, args.w, (w) => {
        bwdIn(rt.ptr(g), rt.ptr(w), dx.ptr, nb, cin, l, cout, k, lout, args.stride, args.dilation, args.padLeft);
      }));
      return dx;
    },

    conv1dBackwardWeight(dy: Storage, dyShape: number[], args: Omit<Conv1dArgs, 'w'>): Storage {
      const op = 'conv1dBackwardWeight';
      const { nb, cin, l, cout, k, lout } = geometry(op, args, ['x', 'wShape'], dyShape);
      inPtr(rt, op, dy, nb * cout * lout, 'dy');
      inPtr(rt, op, args.x, nb * cin * l, 'x');
      const dw = rt.alloc(cout * cin * k, 'f32', true);
      if (dw.size === 0) return dw;
      withF32(rt, dy, (g) => withF32(rt, args.x, (x) => {
        bwdW(rt.ptr(g), rt.ptr(x), dw.ptr, nb, cin, l, cout, k, lout, args.stride, args.dilation, args.padLeft);
      }));
      return dw;
    },
  };
};
