/**
 * Real FFTs along the last axis and complex arithmetic on real pairs.
 *
 * Complex tensors are f32 with a trailing axis of size 2 holding (re, im).
 *
 * rfft:  X_k = Σ_t x_t e^{−2πikt/n}, k = 0 … m−1, m = ⌊n/2⌋+1.       [..., n] → [..., m, 2]
 * irfft: y_t = (1/n) Σ_{k=0}^{n−1} Z_k e^{2πikt/n} with the Hermitian extension Z_{n−k} = conj(Y_k); the
 *        imaginary parts of DC (and of Nyquist for even n) are ignored, as numpy/torch do.
 *
 * Adjoints (derived from the real-linear maps above):
 * - rfft: dx_t = Σ_k Re(G_k e^{2πikt/n}) = n·irfft(H)_t with H_k = G_k for DC/Nyquist and G_k/2 for the
 *   interior bins (irfft doubles those). Imaginary parts of G at DC/Nyquist contribute sin(0)=sin(πt)=0,
 *   which irfft's ignoring them reproduces exactly.
 * - irfft: dY_k = w_k·rfft(g)_k with w = 1/n at DC/Nyquist, 2/n in the interior, and dIm = 0 at
 *   DC/Nyquist (those inputs are ignored by the forward).
 */
import { record } from '../autograd/tape.ts';
import type { Tensor } from '../tensor/tensor.ts';
import { broadcastShapes, shapeToString } from '../tensor/shape.ts';
import { checkDtype, checkInt, storages, wrap } from './util.ts';
import { add, mul, sub } from './binary.ts';
import { tensor } from './creation.ts';
import { reshape } from './reshape.ts';
import { matmul } from './matmul.ts';
import { concat, permute, sliceAxis } from './movement.ts';
import { neg } from './unary.ts';

/** Per-bin weights [m, 2] for the adjoints (see the module comment). */
function binWeights(like: Tensor, n: number, interior: number, edge: number, edgeImag: number): Tensor {
  const m = Math.floor(n / 2) + 1;
  const w = new Float32Array(m * 2);
  for (let k = 0; k < m; k++) {
    const isEdge = k === 0 || (n % 2 === 0 && k === n / 2);
    w[2 * k] = isEdge ? edge : interior;
    w[2 * k + 1] = isEdge ? edgeImag : interior;
  }
  return tensor(w, [m, 2], { backend: like.backend.name });
}

/** Real FFT of the last axis: [..., n] → [..., ⌊n/2⌋+1, 2]. */
export function rfft(x: Tensor): Tensor {
  const op = 'rfft';
  checkDtype(op, x, ['f32']);
  if (x.rank === 0) throw new Error(`${op}: input ${shapeToString(x.shape)} needs at least one axis`);
  const n = x.shape[x.rank - 1]!;
  if (n < 1) throw new Error(`${op}: the last axis of ${shapeToString(x.shape)} is empty`);
  const m = Math.floor(n / 2) + 1;
  const { backend, s } = storages(op, x);
  const out = wrap(backend.kernels.rfft(s[0]!, [...x.shape]), [...x.shape.slice(0, -1), m, 2], backend);
  record(op, [x], [out], ([g]) => {
    const w = binWeights(g!, n, 0.5, 1, 1);
    const h = mul(g!, w);
    w.dispose();
    return [mul(irfft(h, n), n)];
  });
  return out;
}

/** Inverse real FFT to length n: [..., ⌊n/2⌋+1, 2] → [..., n] (normalised by 1/n). */
export function irfft(X: Tensor, n?: number): Tensor {
  const op = 'irfft';
  checkDtype(op, X, ['f32']);
  if (X.rank < 2 || X.shape[X.rank - 1] !== 2) {
    throw new Error(`${op}: input ${shapeToString(X.shape)} must be complex pairs [..., m, 2]`);
  }
  const m = X.shape[X.rank - 2]!;
  const len = n ?? 2 * (m - 1);
  checkInt(op, 'n', len, 1);
  if (Math.floor(len / 2) + 1 !== m) {
    throw new Error(`${op}: input ${shapeToString(X.shape)} has ${m} bins but n = ${len} needs ${Math.floor(len / 2) + 1}`);
  }
  const { backend, s } = storages(op, X);
  const out = wrap(backend.kernels.irfft(s[0]!, [...X.shape], len), [...X.shape.slice(0, -2), len], backend);
  record(op, [X], [out], ([g]) => {
    const w = binWeights(g!, len, 2 / len, 1 / len, 0);
    const r = mul(rfft(g!), w);
    w.dispose();
    return [r];
  });
  return out;
}

function checkComplex(op: string, t: Tensor, what: string): void {
  checkDtype(op, t, ['f32'], what);
  if (t.rank === 0 || t.shape[t.rank - 1] !== 2) {
    throw new Error(`${op}: ${what} ${shapeToString(t.shape)} must have a trailing axis of size 2 (re, im)`);
  }
}

/** Real and imaginary parts ([..., 1] each). */
export function complexParts(a: Tensor): [Tensor, Tensor] {
  checkComplex('complexParts', a, 'input');
  return [sliceAxis(a, -1, 0, 1), sliceAxis(a, -1, 1, 1)];
}

/** (re, im) pairs from two equally shaped real tensors: [...] × [...] → [..., 2]. */
export function complex(re: Tensor, im: Tensor): Tensor {
  if (re.shape.length !== im.shape.length || re.shape.some((d, k) => d !== im.shape[k])) {
    throw new Error(`complex: real ${shapeToString(re.shape)} and imaginary ${shapeToString(im.shape)} parts must have the same shape`);
  }
  return concat([reshape(re, [...re.shape, 1]), reshape(im, [...im.shape, 1])], -1);
}

/** Elementwise complex product with broadcasting: (ar·br − ai·bi, ar·bi + ai·br). */
export function complexMul(a: Tensor, b: Tensor): Tensor {
  checkComplex('complexMul', a, 'left operand');
  checkComplex('complexMul', b, 'right operand');
  broadcastShapes('complexMul', a.shape, b.shape);
  const [ar, ai] = complexParts(a);
  const [br, bi] = complexParts(b);
  return concat([sub(mul(ar, br), mul(ai, bi)), add(mul(ar, bi), mul(ai, br))], -1);
}

/** Complex conjugate. */
export function complexConj(a: Tensor): Tensor {
  checkComplex('complexConj', a, 'input');
  const [ar, ai] = complexParts(a);
  return concat([ar, neg(ai)], -1);
}

/** a · conj(b), elementwise with broadcasting (AutoCorrelation's q_fft * conj(k_fft)). */
export function complexMulConj(a: Tensor, b: Tensor): Tensor {
  checkComplex('complexMulConj', a, 'left operand');
  checkComplex('complexMulConj', b, 'right operand');
  broadcastShapes('complexMulConj', a.shape, b.shape);
  const [ar, ai] = complexParts(a);
  const [br, bi] = complexParts(b);
  return concat([add(mul(ar, br), mul(ai, bi)), sub(mul(ai, br), mul(ar, bi))], -1);
}

/** Drop the trailing size-1 axis of a complex part. */
function squeezeLast(t: Tensor): Tensor {
  return reshape(t, t.shape.slice(0, -1));
}

/**
 * Batched complex matrix product: a [..., m, k, 2] · b [..., k, n, 2] → [..., m, n, 2], batch dims broadcast;
 * transA/transB transpose (not conjugate) the matrix dims. Four real matmuls on the parts:
 * re = ar·br − ai·bi, im = ar·bi + ai·br.
 */
export function complexMatmul(a: Tensor, b: Tensor, opts: { transA?: boolean; transB?: boolean } = {}): Tensor {
  const op = 'complexMatmul';
  checkComplex(op, a, 'left operand');
  checkComplex(op, b, 'right operand');
  if (a.rank < 3 || b.rank < 3) {
    throw new Error(`${op}: operands ${shapeToString(a.shape)} and ${shapeToString(b.shape)} must be complex matrices [..., rows, cols, 2]`);
  }
  const [ar, ai] = complexParts(a).map(squeezeLast) as [Tensor, Tensor];
  const [br, bi] = complexParts(b).map(squeezeLast) as [Tensor, Tensor];
  const o = { transA: opts.transA ?? false, transB: opts.transB ?? false };
  const re = sub(matmul(ar, br, o), matmul(ai, bi, o));
  const im = add(matmul(ar, bi, o), matmul(ai, br, o));
  return concat([reshape(re, [...re.shape, 1]), reshape(im, [...im.shape, 1])], -1);
}

/**
 * FEDformer's complex einsum "bhi,hio->bho" on real pairs: x [B, H, I, 2], w [H, I, O, 2] → [B, H, O, 2].
 * With a trailing modes axis it runs every mode at once: x [B, H, I, M, 2], w [H, I, O, M, 2] →
 * [B, H, O, M, 2] (each mode m uses w[..., m, :] on x[..., m, :]).
 */
export function complexEinsumBHI_HIO(x: Tensor, w: Tensor): Tensor {
  const op = 'complexEinsumBHI_HIO';
  checkComplex(op, x, 'input');
  checkComplex(op, w, 'weights');
  if (x.rank === 4 && w.rank === 4) {
    const [, H, I] = x.shape as [number, number, number, number];
    if (w.shape[0] !== H || w.shape[1] !== I) {
      throw new Error(`${op}: input ${shapeToString(x.shape)} and weights ${shapeToString(w.shape)} disagree on H or I`);
    }
    // [B,H,I,2] → [H,B,I,2]; [H,B,I]·[H,I,O] → [H,B,O]; back to [B,H,O,2].
    const y = complexMatmul(permute(x, [1, 0, 2, 3]), w);
    return permute(y, [1, 0, 2, 3]);
  }
  if (x.rank === 5 && w.rank === 5) {
    const [, H, I, M] = x.shape as [number, number, number, number, number];
    if (w.shape[0] !== H || w.shape[1] !== I || w.shape[3] !== M) {
      throw new Error(`${op}: input ${shapeToString(x.shape)} and weights ${shapeToString(w.shape)} disagree on H, I or modes`);
    }
    // x → [M,H,B,I,2], w → [M,H,I,O,2]; product [M,H,B,O,2] → [B,H,O,M,2].
    const y = complexMatmul(permute(x, [3, 1, 0, 2, 4]), permute(w, [3, 0, 1, 2, 4]));
    return permute(y, [2, 1, 3, 0, 4]);
  }
  throw new Error(`${op}: expected x [B,H,I,2] with w [H,I,O,2], or x [B,H,I,M,2] with w [H,I,O,M,2]; got ${shapeToString(x.shape)} and ${shapeToString(w.shape)}`);
}
