/**
 * wasm glue: rfft / irfft along the last axis, any length. Per length n the glue keeps a plan: the radix
 * list (4s, then 2, then odd primes ascending) and the table ω_n^j = (cos 2πj/n, −sin 2πj/n) in f64, built
 * once and copied into a workspace for each call.
 */
import type { Storage } from '../../kernels.ts';
import { sizeOf } from '../../../tensor/shape.ts';
import type { KernelFamily } from './index.ts';
import { inPtr, wasmFn, withF32 } from './util.ts';

interface Plan {
  factors: number[];
  table: Float64Array;
}

function factorize(n: number): number[] {
  const f: number[] = [];
  let m = n;
  while (m % 4 === 0) {
    f.push(4);
    m /= 4;
  }
  while (m % 2 === 0) {
    f.push(2);
    m /= 2;
  }
  for (let p = 3; p * p <= m; p += 2) {
    while (m % p === 0) {
      f.push(p);
      m /= p;
    }
  }
  if (m > 1) f.push(m);
  return f;
}

/** cos/sin of 2πj/n with the angle folded into the first octant, so symmetric entries are exact mirrors. */
function twiddles(n: number): Float64Array {
  const t = new Float64Array(2 * n);
  for (let j = 0; j < n; j++) {
    // 8j/n in [0, 8): octant o and the angle's remainder inside it, from integers.
    const o = Math.floor((8 * j) / n);
    const rem = 8 * j - o * n; // angle inside octant = (π/4)·rem/n
    const th = (Math.PI / 4) * (rem / n);
    const a = (Math.PI / 4) * ((n - rem) / n);
    let c: number;
    let s: number;
    switch (o) {
      case 0: c = Math.cos(th); s = Math.sin(th); break;
      case 1: c = Math.sin(a); s = Math.cos(a); break;
      case 2: c = -Math.sin(th); s = Math.cos(th); break;
      case 3: c = -Math.cos(a); s = Math.sin(a); break;
      case 4: c = -Math.cos(th); s = -Math.sin(th); break;
      case 5: c = -Math.sin(a); s = -Math.cos(a); break;
      case 6: c = Math.sin(th); s = -Math.cos(th); break;
      default: c = Math.cos(a); s = -Math.sin(a); break;
    }
    t[2 * j] = c;
    t[2 * j + 1] = -s;
  }
  return t;
}

export const fftFamily: KernelFamily = (rt) => {
  const rfftRows = wasmFn(rt, 'rfftRows');
  const irfftRows = wasmFn(rt, 'irfftRows');
  const plans = new Map<number, Plan>();
  const planFor = (n: number): Plan => {
    let p = plans.get(n);
    if (!p) {
      p = { factors: factorize(n), table: twiddles(n) };
      plans.set(n, p);
    }
    return p;
  };

  /** Copy the plan into temporaries and run `fn(tablePtr, factorsPtr, nf, workspacePtr)`. */
  const withPlan = (n: number, fn: (tw: number, fac: number, nf: number, ws: number) => void): void => {
    const plan = planFor(n);
    rt.withTemp((tmp) => {
      const tw = tmp.bytes(16 * n);
      new Float64Array(rt.memory.buffer, tw, 2 * n).set(plan.table);
      const fac = tmp.ints(plan.factors);
      const ws = tmp.bytes(48 * n);
      fn(tw, fac, plan.factors.length, ws);
    });
  };

  return {
    rfft(x: Storage, shape: number[]): Storage {
      if (shape.length < 1) throw new Error('rfft: input needs rank ≥ 1, got []');
      const n = shape[shape.length - 1]!;
      const rows = sizeOf(shape.slice(0, -1));
      inPtr(rt, 'rfft', x, rows * n);
      const m = Math.floor(n / 2) + 1;
      const out = rt.alloc(rows * m * 2, 'f32', true);
      if (rows === 0 || n === 0) return out;
      withF32(rt, x, (xf) => withPlan(n, (tw, fac, nf, ws) => rfftRows(rt.ptr(xf), out.ptr, rows, n, tw, fac, nf, ws)));
      return out;
    },

    irfft(x: Storage, shape: number[], n: number): Storage {
      if (shape.length < 2 || shape[shape.length - 1] !== 2) {
        throw new Error(`irfft: input shape [${shape.join(', ')}] must end in [m, 2] (re, im)`);
      }
      if (!(Number.isInteger(n) && n >= 0)) throw new Error(`irfft: output length ${n} must be an integer ≥ 0`);
      const mIn = shape[shape.length - 2]!;
      const rows = sizeOf(shape.slice(0, -2));
      inPtr(rt, 'irfft', x, rows * mIn * 2);
      const out = rt.alloc(rows * n, 'f32', true);
      if (rows === 0 || n === 0) return out;
      withF32(rt, x, (xf) => withPlan(n, (tw, fac, nf, ws) => irfftRows(rt.ptr(xf), out.ptr, rows, mIn, n, tw, fac, nf, ws)));
      return out;
    },
  };
};
