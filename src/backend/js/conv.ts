/**
 * conv1d and its two backward kernels. x [N, Cin, L], w [Cout, Cin, K], zero padding padLeft/padRight,
 * stride and dilation; input position of output lo and tap kk is lo·stride + kk·dilation − padLeft.
 * All three are written as gathers (each output element sums its own terms in a fixed order), never as
 * scattered accumulation, so the summation order is explicit.
 */
import type { Conv1dArgs, Kernels, Storage } from '../kernels.ts';
import { input, type JsHeap } from './store.ts';

export function convOutLength(l: number, k: number, stride: number, dilation: number, padL: number, padR: number): number {
  const span = l + padL + padR - dilation * (k - 1) - 1;
  return span < 0 ? 0 : Math.floor(span / stride) + 1;
}

function dims3(op: string, what: string, s: readonly number[]): [number, number, number] {
  if (s.length !== 3) throw new Error(`${op}: ${what} must have rank 3, got [${s.join(', ')}]`);
  return [s[0]!, s[1]!, s[2]!];
}

function checkGeometry(op: string, stride: number, dilation: number, padL: number, padR: number): void {
  if (!(Number.isInteger(stride) && stride >= 1 && Number.isInteger(dilation) && dilation >= 1)) {
    throw new Error(`${op}: stride ${stride} and dilation ${dilation} must be integers ≥ 1`);
  }
  if (!(Number.isInteger(padL) && padL >= 0 && Number.isInteger(padR) && padR >= 0)) {
    throw new Error(`${op}: padding ${padL}/${padR} must be integers ≥ 0`);
  }
}

export function convKernels(heap: JsHeap): Pick<Kernels, 'conv1d' | 'conv1dBackwardInput' | 'conv1dBackwardWeight'> {
  return {
    conv1d(args: Conv1dArgs): Storage {
      const op = 'conv1d';
      const { stride, dilation, padLeft, padRight } = args;
      checkGeometry(op, stride, dilation, padLeft, padRight);
      const [nb, cin, l] = dims3(op, 'x', args.xShape);
      const [cout, wcin, k] = dims3(op, 'w', args.wShape);
      if (wcin !== cin) throw new Error(`${op}: x has ${cin} channels but w expects ${wcin}`);
      const x = input(op, args.x, nb * cin * l, undefined, 'x');
      const w = input(op, args.w, cout * cin * k, undefined, 'w');
      const lout = convOutLength(l, k, stride, dilation, padLeft, padRight);
      const out = new Float32Array(nb * cout * lout);
      for (let n = 0; n < nb; n++) {
        for (let co = 0; co < cout; co++) {
          for (let lo = 0; lo < lout; lo++) {
            // Sum over (ci, kk) in increasing flat index of w's [Cin, K] block.
            let acc = 0;
            for (let ci = 0; ci < cin; ci++) {
              const xRow = (n * cin + ci) * l;
              const wRow = (co * cin + ci) * k;
              for (let kk = 0; kk < k; kk++) {
                const pos = lo * stride + kk * dilation - padLeft;
                if (pos >= 0 && pos < l) acc += x[xRow + pos]! * w[wRow + kk]!;
              }
            }
            out[(n * cout + co) * lout + lo] = acc;
          }
        }
      }
      return heap.adopt(out);
    },

    conv1dBackwardInput(dy: Storage, dyShape: number[], args: Omit<Conv1dArgs, 'x'>): Storage {
      const op = 'conv1dBackwardInput';
      const { stride, dilation, padLeft, padRight } = args;
      checkGeometry(op, stride, dilation, padLeft, padRight);
      const [nb, cin, l] = dims3(op, 'xShape', args.xShape);
      const [cout, , k] = dims3(op, 'w', args.wShape);
      const lout = convOutLength(l, k, stride, dilation, padLeft, padRight);
      const [dn, dc, dl] = dims3(op, 'dy', dyShape);
      if (dn !== nb || dc !== cout || dl !== lout) {
        throw new Error(`${op}: dy shape [${dyShape.join(', ')}] does not match the forward output [${nb}, ${cout}, ${lout}]`);
      }
      const g = input(op, dy, nb * cout * lout, undefined, 'dy');
      const w = input(op, args.w, cout * cin * k, undefined, 'w');
      const dx = new Float32Array(nb * cin * l);
      for (let n = 0; n < nb; n++) {
        for (let ci = 0; ci < cin; ci++) {
          for (let pos = 0; pos < l; pos++) {
            // dx[pos] = Σ over (co, kk) with lo·stride + kk·dilation − padLeft = pos, co then kk increasing.
            let acc = 0;
            for (let co = 0; co < cout; co++) {
              const gRow = (n * cout + co) * lout;
              const wRow = (co * cin + ci) * k;
              for (let kk = 0; kk < k; kk++) {
                const t = pos + padLeft - kk * dilation;
                if (t < 0 || t % stride !== 0) continue;
                const lo = t / stride;
                if (lo < lout) acc += g[gRow + lo]! * w[wRow + kk]!;
              }
            }
            dx[(n * cin + ci) * l + pos] = acc;
          }
        }
      }
      return heap.adopt(dx);
    },

    conv1dBackwardWeight(dy: Storage, dyShape: number[], args: Omit<Conv1dArgs, 'w'>): Storage {
      const op = 'conv1dBackwardWeight';
      const { stride, dilation, padLeft, padRight } = args;
      checkGeometry(op, stride, dilation, padLeft, padRight);
      const [nb, cin, l] = dims3(op, 'x', args.xShape);
      const [cout, wcin, k] = dims3(op, 'wShape', args.wShape);
      if (wcin !== cin) throw new Error(`${op}: x has ${cin} channels but w expects ${wcin}`);
      const lout = convOutLength(l, k, stride, dilation, padLeft, padRight);
      const [dn, dc, dl] = dims3(op, 'dy', dyShape);
      if (dn !== nb || dc !== cout || dl !== lout) {
        throw new Error(`${op}: dy shape [${dyShape.join(', ')}] does not match the forward output [${nb}, ${cout}, ${lout}]`);
      }
      const g = input(op, dy, nb * cout * lout, undefined, 'dy');
      const x = input(op, args.x, nb * cin * l, undefined, 'x');
      const dw = new Float32Array(cout * cin * k);
      for (let co = 0; co < cout; co++) {
        for (let ci = 0; ci < cin; ci++) {
          for (let kk = 0; kk < k; kk++) {
            // dw = Σ over (n, lo), n then lo increasing.
            let acc = 0;
            for (let n = 0; n < nb; n++) {
              const gRow = (n * cout + co) * lout;
              const xRow = (n * cin + ci) * l;
              for (let lo = 0; lo < lout; lo++) {
                const pos = lo * stride + kk * dilation - padLeft;
                if (pos >= 0 && pos < l) acc += g[gRow + lo]! * x[xRow + pos]!;
              }
            }
            dw[(co * cin + ci) * k + kk] = acc;
          }
        }
      }
      return heap.adopt(dw);
    },
  };
}
