/**
 * FEDformer's frequency-enhanced blocks as Time-Series-Library defines them (layers/FourierCorrelation.py),
 * the inner correlations of the AutoCorrelationLayer that projects queries/keys/values around them
 * (src/nn/autocorrelation.ts, TSLib's layers/AutoCorrelation.py).
 *
 * Complex weights. TSLib (current) keeps the real and imaginary parts of the complex weight as two real
 * parameters, `weights1` (real) and `weights2` (imaginary), each [H, d_model/H, d_model/H, modes], initialised
 * to scale·U[0, 1) with scale = 1/(in_channels·out_channels), and multiplies with
 * W = complex(weights1, weights2). sparsecast stores exactly these two tensors under the same names and
 * shapes, so a TSLib state dict loads key for key. Older TSLib/FEDformer checkpoints hold one complex tensor
 * `weights1` (cfloat, same shape): its `.real` is our `weights1` and its `.imag` our `weights2`
 * (`torch.view_as_real(w)[..., 0]` / `[..., 1]`); going back, `torch.complex(weights1, weights2)`.
 *
 * Mode indices are not part of a TSLib state dict (a Python list chosen with numpy's global RNG at
 * construction). 'random' draws them here from the seeded Rng (a uniformly random subset of
 * 0 … seq_len/2 − 1, sorted, as TSLib's shuffle-and-take); to reproduce a PyTorch model number for number
 * pass its `index` lists through `FourierOptions.index` (or use mode_select 'low').
 *
 * Forward semantics reproduced exactly (including TSLib's quirks):
 * - inputs arrive as [B, L, H, E] (AutoCorrelationLayer views the projections without permuting);
 * - FourierBlock writes the product for the wi-th selected frequency into output bin wi (not into bin
 *   index[wi]); FourierCrossAttention writes it back into bin index_q[i];
 * - both return [B, H, E, L], which AutoCorrelationLayer reinterprets as [B, L, H·E] (`view`, no permute);
 * - FourierCrossAttention ignores the values, scales by 1/(in·out) before the inverse FFT.
 */
import { Module } from './module.ts';
import type { Tensor } from '../tensor/tensor.ts';
import type { Rng } from '../tensor/random.ts';
import type { InnerCorrelation } from './autocorrelation.ts';
import { full, tensor } from '../ops/creation.ts';
import { add, div, mul } from '../ops/binary.ts';
import { sqrt, square, tanh } from '../ops/unary.ts';
import { softmax } from '../ops/nn.ts';
import { reshape } from '../ops/reshape.ts';
import { pad, permute, sliceAxis } from '../ops/movement.ts';
import { indexSelect } from '../ops/indexing.ts';
import { complex, complexEinsumBHI_HIO, complexMatmul, irfft, rfft } from '../ops/spectral.ts';

export type ModeSelect = 'random' | 'low';

/**
 * TSLib's get_frequency_modes: min(modes, seq_len/2) frequencies out of 0 … seq_len/2 − 1, either a random
 * subset (seeded) or the lowest ones; sorted ascending.
 */
export function frequencyModes(seqLen: number, modes: number, method: ModeSelect, rng: Rng): number[] {
  const half = Math.floor(seqLen / 2);
  const m = Math.min(modes, half);
  if (method === 'random') {
    const perm = rng.permutation(half);
    return Array.from(perm.subarray(0, m)).sort((a, b) => a - b);
  }
  return Array.from({ length: m }, (_, i) => i);
}

/** scale · U[0, 1) of the given shape (torch.rand). */
function scaledRand(rng: Rng, shape: number[], scale: number): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return tensor(rng.uniform(n).map((u) => u * scale), shape);
}

/**
 * Pick frequency bins along the mode axis (rank − 2) of a complex tensor [..., F, 2]: out[..., i, :] =
 * x[..., idx[i], :], or zeros where idx[i] ≥ F (TSLib leaves those slots zero).
 */
function selectBins(x: Tensor, idx: readonly number[]): Tensor {
  const axis = x.rank - 2;
  const F = x.shape[axis]!;
  if (idx.every((j) => j < F)) return indexSelect(x, axis, idx);
  const padded = pad(x, [[0, 1], [0, 0]], 'zero');
  return indexSelect(padded, axis, idx.map((j) => (j < F ? j : F)));
}

/**
 * Scatter M complex values [..., M, 2] into F bins: bin positions[i] gets value i (later i win, as
 * TSLib's loop assignment), every other bin is zero. Positions ≥ F are dropped.
 */
function placeBins(y: Tensor, positions: readonly number[], F: number): Tensor {
  const axis = y.rank - 2;
  const M = y.shape[axis]!;
  const src = new Array<number>(F).fill(M);
  positions.forEach((p, i) => {
    if (p < F) src[p] = i;
  });
  if (src.every((s, f) => (f < M ? s === f : s === M))) {
    // Bins 0 … M−1 in order, zeros after: a plain zero pad (or a slice when M > F).
    return M >= F ? sliceAxis(y, axis, 0, F) : pad(y, [[0, F - M], [0, 0]], 'zero');
  }
  const padded = pad(y, [[0, 1], [0, 0]], 'zero');
  return indexSelect(padded, axis, src);
}

export interface FourierOptions {
  modes?: number;
  modeSelect?: ModeSelect;
  /** Explicit frequency indices (overrides modes/modeSelect; e.g. a PyTorch model's `index`). */
  index?: readonly number[];
}


/** FEDformer's Fourier enhanced block (self-attention replacement). */
export class FourierBlock extends Module implements InnerCorrelation {
  readonly usesKeys = false;
  readonly usesValues = false;
  readonly index: number[];
  readonly weights1: Tensor;
  readonly weights2: Tensor;
  readonly scale: number;

  constructor(rng: Rng, readonly inChannels: number, readonly outChannels: number, readonly nHeads: number, readonly seqLen: number, opts: FourierOptions = {}) {
    super();
    this.index = opts.index ? [...opts.index] : frequencyModes(seqLen, opts.modes ?? 0, opts.modeSelect ?? 'random', rng);
    this.scale = 1 / (inChannels * outChannels);
    const shape = [nHeads, Math.floor(inChannels / nHeads), Math.floor(outChannels / nHeads), this.index.length];
    this.weights1 = this.param('weights1', scaledRand(rng, shape, this.scale));
    this.weights2 = this.param('weights2', scaledRand(rng, shape, this.scale));
  }

  forward(q: Tensor): Tensor {
    const [, L] = q.shape as [number, number, number, number];
    const x = permute(q, [0, 2, 3, 1]); // [B, H, E, L]
    const xft = rfft(x); // [B, H, E, F, 2]
    const F = xft.shape[3]!;
    // Mode wi is valid when its frequency exists in this input and its output slot wi fits.
    const valid = this.index.map((i, wi) => i < F && wi < F);
    const wis = valid.flatMap((ok, wi) => (ok ? [wi] : []));
    const O = this.weights1.shape[2]!;
    if (wis.length === 0) {
      // No selected frequency exists at this length: TSLib's output spectrum stays all zero.
      const [B, H] = x.shape as [number, number];
      return full([B, H, O, L], 0, { backend: q.backend.name });
    }
    const xs = selectBins(xft, wis.map((wi) => this.index[wi]!)); // [B, H, I, M, 2]
    let w = complex(this.weights1, this.weights2); // [H, I, O, modes, 2]
    if (wis.length !== this.index.length) w = indexSelect(w, 3, wis);
    const y = complexEinsumBHI_HIO(xs, w); // [B, H, O, M, 2]
    return irfft(placeBins(y, wis, F), L); // [B, H, O, L]
  }
}

/** FEDformer's Fourier enhanced cross attention (decoder cross-attention replacement). */
export class FourierCrossAttention extends Module implements InnerCorrelation {
  readonly usesKeys = true;
  readonly usesValues = false;
  readonly indexQ: number[];
  readonly indexKv: number[];
  readonly weights1: Tensor;
  readonly weights2: Tensor;
  readonly scale: number;

  constructor(
    rng: Rng, readonly inChannels: number, readonly outChannels: number, seqLenQ: number, seqLenKv: number,
    opts: FourierOptions & { indexKv?: readonly number[]; activation?: 'tanh' | 'softmax'; numHeads?: number } = {},
  ) {
    super();
    const modes = opts.modes ?? 64;
    const method = opts.modeSelect ?? 'random';
    this.indexQ = opts.index ? [...opts.index] : frequencyModes(seqLenQ, modes, method, rng);
    this.indexKv = opts.indexKv ? [...opts.indexKv] : frequencyModes(seqLenKv, modes, method, rng);
    this.activation = opts.activation ?? 'tanh';
    const h = opts.numHeads ?? 8;
    this.scale = 1 / (inChannels * outChannels);
    const shape = [h, Math.floor(inChannels / h), Math.floor(outChannels / h), this.indexQ.length];
    this.weights1 = this.param('weights1', scaledRand(rng, shape, this.scale));
    this.weights2 = this.param('weights2', scaledRand(rng, shape, this.scale));
  }

  readonly activation: 'tanh' | 'softmax';

  forward(q: Tensor, k: Tensor | null): Tensor {
    if (!k) throw new Error('FourierCrossAttention: needs keys');
    const L = q.shape[1]!;
    const xq = permute(q, [0, 2, 3, 1]); // [B, H, E, Lq]
    const xk = permute(k, [0, 2, 3, 1]); // [B, H, E, Lkv]
    const xqFt = selectBins(rfft(xq), this.indexQ); // [B, H, E, Mq, 2]
    const xkFt = selectBins(rfft(xk), this.indexKv); // [B, H, E, Mkv, 2]
    // "bhex,bhey->bhxy": xqᵀ·xk per (b, h).
    let qk = complexMatmul(xqFt, xkFt, { transA: true }); // [B, H, Mq, Mkv, 2]
    if (this.activation === 'tanh') {
      qk = tanh(qk); // tanh of the real and of the imaginary part
    } else {
      const re = sliceAxis(qk, -1, 0, 1);
      const im = sliceAxis(qk, -1, 1, 1);
      const mag = sqrt(add(square(re), square(im)));
      const p = softmax(reshape(mag, mag.shape.slice(0, -1)), -1);
      qk = complex(p, mul(p, 0));
    }
    // "bhxy,bhey->bhex": xk·qkᵀ.
    const qkv = complexMatmul(xkFt, qk, { transB: true }); // [B, H, E, Mq, 2]
    const w = complex(this.weights1, this.weights2); // [H, E, O, Mq, 2]
    const qkvw = complexEinsumBHI_HIO(qkv, w); // [B, H, O, Mq, 2]
    const F = Math.floor(L / 2) + 1;
    const outFt = placeBins(qkvw, this.indexQ, F); // [B, H, O, F, 2]
    return irfft(div(div(outFt, this.inChannels), this.outChannels), L);
  }
}


