/**
 * Finite-difference gradient check. The function's output is reduced to a scalar by a seeded random
 * projection, L(x) = Σ fn(x) · r, so one backward pass gives the full vector-Jacobian product with r.
 * Each element of each input is then perturbed by ±h (h = eps · max(1, |x|)) and the central difference
 * (L(x + h) − L(x − h)) / 2h compared with the analytic gradient. Forward passes run in f32 on the inputs'
 * backend; the projection is summed on the host in f64, so the only f32 error is the forward's own.
 *
 * Test inputs should avoid non-smooth points (relu at 0, ties of max/min, |x| at 0): there the one-sided
 * derivatives differ and no check can pass.
 */
import type { AnyTypedArray } from '../backend/kernels.ts';
import type { Tensor } from '../tensor/tensor.ts';
import { engine } from '../tensor/engine.ts';
import { Rng } from '../tensor/random.ts';
import { shapeToString } from '../tensor/shape.ts';
import { backward } from './backward.ts';

export interface GradcheckOptions {
  /** Relative step: h = eps · max(1, |x|). Default 1e-2 (large steps beat f32 rounding). */
  eps?: number;
  /** Absolute tolerance per element. Default 1e-3. */
  atol?: number;
  /** Relative tolerance per element (to max(|analytic|, |numeric|)). Default 1e-2. */
  rtol?: number;
  /** Seed of the projection r. Default 1. */
  seed?: number;
  /** Indices of the inputs to check (default: every f32 input). */
  wrt?: number[];
}

export interface GradcheckInputResult {
  index: number;
  shape: readonly number[];
  /** Largest |analytic − numeric| over the input's elements. */
  maxAbs: number;
  /** Largest |analytic − numeric| / max(|analytic|, |numeric|, atol). */
  maxRel: number;
  /** Flat index of the worst element (by tolerance ratio), −1 for an empty input. */
  worst: number;
  analytic: Float64Array;
  numeric: Float64Array;
  ok: boolean;
}

export interface GradcheckResult {
  ok: boolean;
  maxAbs: number;
  maxRel: number;
  inputs: GradcheckInputResult[];
  /** One line per input, for failure messages. */
  summary: string;
}

async function values(t: Tensor): Promise<Float64Array> {
  return Float64Array.from(await t.data());
}

/**
 * Check `fn`'s gradients at `inputs`. The inputs are not modified: the check runs on copies that require a
 * gradient. Every tensor it makes is freed before it returns.
 */
export async function gradcheck(
  fn: (...inputs: Tensor[]) => Tensor,
  inputs: Tensor[],
  opts: GradcheckOptions = {},
): Promise<GradcheckResult> {
  const eps = opts.eps ?? 1e-2;
  const atol = opts.atol ?? 1e-3;
  const rtol = opts.rtol ?? 1e-2;
  const wrt = opts.wrt ?? inputs.flatMap((t, i) => (t.dtype === 'f32' ? [i] : []));
  for (const i of wrt) {
    const t = inputs[i];
    if (!t) throw new Error(`gradcheck: wrt index ${i} is out of range for ${inputs.length} inputs`);
    if (t.dtype !== 'f32') throw new Error(`gradcheck: input ${i} ${shapeToString(t.shape)} has dtype ${t.dtype}; only f32 inputs have gradients`);
  }
  const hosts = await Promise.all(inputs.map((t) => t.data()));
  const make = (i: number, data: AnyTypedArray = hosts[i]!): Tensor => {
    const t = inputs[i]!;
    return engine.makeTensor(t.backend.upload(data.slice()), t.shape, t.dtype, t.backend);
  };

  // Analytic: L = Σ fn(x)·r through the tape.
  const leaves = inputs.map((_, i) => make(i));
  for (const i of wrt) leaves[i]!.requiresGrad = true;
  let r: Float64Array;
  const analytic: Float64Array[] = [];
  try {
    const out = engine.tidy(() => fn(...leaves));
    const outShape = [...out.shape];
    r = Float64Array.from(new Rng(opts.seed ?? 1).normal(out.size));
    const rT = engine.makeTensor(out.backend.upload(Float32Array.from(r)), outShape, 'f32', out.backend);
    if (!out.requiresGrad) {
      out.dispose();
      rT.dispose();
      throw new Error('gradcheck: the output does not depend on any checked input (it does not require a gradient)');
    }
    backward(out, { grad: rT });
    out.dispose();
    rT.dispose();
    for (const i of wrt) {
      const g = leaves[i]!.grad;
      analytic[i] = g ? await values(g) : new Float64Array(leaves[i]!.size);
    }
  } finally {
    for (const t of leaves) {
      t.grad?.dispose();
      t.dispose();
    }
  }

  // Numeric: central differences, one element at a time, without the tape.
  const project = async (i: number, data: Float32Array): Promise<number> => {
    const xs = inputs.map((_, j) => (j === i ? make(j, data) : make(j)));
    try {
      const out = engine.noGrad(() => engine.tidy(() => fn(...xs)));
      const v = await values(out);
      out.dispose();
      let acc = 0;
      for (let k = 0; k < v.length; k++) acc += v[k]! * r[k]!;
      return acc;
    } finally {
      for (const t of xs) t.dispose();
    }
  };

  const results: GradcheckInputResult[] = [];
  for (const i of wrt) {
    const base = hosts[i]! as Float32Array;
    const n = base.length;
    const numeric = new Float64Array(n);
    for (let e = 0; e < n; e++) {
      const x0 = base[e]!;
      const h = eps * Math.max(1, Math.abs(x0));
      const plus = base.slice();
      const minus = base.slice();
      plus[e] = x0 + h;
      minus[e] = x0 - h;
      // The step actually taken after rounding to f32.
      const step = plus[e]! - minus[e]!;
      numeric[e] = ((await project(i, plus)) - (await project(i, minus))) / step;
    }
    const a = analytic[i]!;
    let maxAbs = 0;
    let maxRel = 0;
    let worst = -1;
    let worstRatio = -1;
    let ok = true;
    for (let e = 0; e < n; e++) {
      const diff = Math.abs(a[e]! - numeric[e]!);
      const scale = Math.max(Math.abs(a[e]!), Math.abs(numeric[e]!));
      const tol = atol + rtol * scale;
      if (!(diff <= tol)) ok = false;
      maxAbs = Math.max(maxAbs, diff);
      maxRel = Math.max(maxRel, diff / Math.max(scale, atol));
      const ratio = Number.isNaN(diff) ? Infinity : diff / tol;
      if (ratio > worstRatio) {
        worstRatio = ratio;
        worst = e;
      }
    }
    results.push({ index: i, shape: inputs[i]!.shape, maxAbs, maxRel, worst, analytic: a, numeric, ok });
  }
  const summary = results
    .map((res) =>
      `input ${res.index} ${shapeToString(res.shape)}: ${res.ok ? 'ok' : 'MISMATCH'} maxAbs=${res.maxAbs.toExponential(2)} ` +
        `maxRel=${res.maxRel.toExponential(2)}` +
        (res.worst >= 0 ? ` worst[${res.worst}] analytic=${res.analytic[res.worst]!.toPrecision(6)} numeric=${res.numeric[res.worst]!.toPrecision(6)}` : ''),
    )
    .join('\n');
  return {
    ok: results.every((res) => res.ok),
    maxAbs: Math.max(0, ...results.map((res) => res.maxAbs)),
    maxRel: Math.max(0, ...results.map((res) => res.maxRel)),
    inputs: results,
    summary,
  };
}
